//! Per-chain rules.

use types::profile::{Network, Profile};

/// Per-chain rules: profile, network, gas (free credit, fee per gas unit, caps), coinbase maturity,
/// maximum block gas and bytes, maximum transaction bytes, decoding limits and the block subsidy.
///
/// # Consensus
/// The values are those of the references' `consensus/general.go`: Bytom v1.1.0 (constants) and
/// Vapor (`MainNetParams`, `SoloNetParams`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainParams {
    /// Which chain's formats and rules apply.
    pub profile: Profile,
    /// Which network of the profile.
    pub network: Network,
    /// Free gas every transaction gets (`DefaultGasCredit`): Vapor 160 000, Bytom 30 000. Also the
    /// limit a cross-chain input's program runs under.
    pub default_gas_credit: i64,
    /// Neu of fee per unit of gas (`VMGasRate`, 200).
    pub vm_gas_rate: i64,
    /// Gas per serialized byte (`StorageGasRate`, 1).
    pub storage_gas_rate: i64,
    /// Cap on a transaction's gas (`MaxGasAmount`): Vapor mainnet 640 000, Vapor solonet and Bytom 200 000.
    pub max_gas_amount: i64,
    /// Cap on the gas of all transactions of a block (`MaxBlockGas`, 10 000 000).
    pub max_block_gas: u64,
    /// Blocks before a coinbase output may be spent (`CoinbasePendingBlockNumber`).
    pub coinbase_maturity: u64,
    /// Blocks before a vote output may be vetoed (`VotePendingBlockNumber`); sidechain only.
    pub vote_maturity: u64,
    /// Smallest vote output in neu (`MinVoteOutputAmount`); sidechain only.
    pub min_vote_output_amount: u64,
    /// Largest coinbase `arbitrary` field (`CoinbaseArbitrarySizeLimit`, 128).
    pub coinbase_arbitrary_limit: usize,
    /// Sidechain: smallest gap between a block's timestamp and its parent's, in milliseconds
    /// (`BlockTimeInterval`, 500). Zero on the main chain, whose median-time rule needs eleven
    /// ancestors and is checked by the consensus layer.
    pub block_time_interval: u64,
    /// Largest serialized transaction accepted, in bytes.
    pub max_tx_bytes: u64,
    /// Largest block accepted, counted as the sum of its transactions' serialized sizes.
    pub max_block_bytes: u64,
    /// Main chain: height from which an input of unknown asset version (zero input ID) makes a
    /// transaction invalid (`ruleAA`, 142 500 on Bytom). Zero on the sidechain (always).
    pub empty_input_id_height: u64,
    /// Sidechain: the program every cross-chain input must satisfy (the reference's
    /// `FederationWScript`: the P2WSH program of the federation's M-of-N script). When `None`,
    /// cross-chain inputs are refused ([`crate::TxRejection::NoFederation`]).
    pub federation_program: Option<Vec<u8>>,
    /// Sidechain: the most a block's coinbase may pay out in total. `Some(0)` on a chain without
    /// block rewards (the solo devnet), so no block can mint; `None` leaves the amount to the
    /// consensus layer, whose round rewards (DPoS) are not yet passed to the ledger.
    pub max_side_coinbase_total: Option<u64>,
    /// Limits for decoding transactions and blocks.
    pub limits: types::Limits,
}

impl ChainParams {
    fn side_base(network: Network) -> Self {
        ChainParams {
            profile: Profile::Side,
            network,
            default_gas_credit: 160_000,
            vm_gas_rate: 200,
            storage_gas_rate: 1,
            max_gas_amount: 640_000,
            max_block_gas: 10_000_000,
            coinbase_maturity: 7_200,
            vote_maturity: 3_456_000,
            min_vote_output_amount: 100_000_000,
            coinbase_arbitrary_limit: 128,
            block_time_interval: 500,
            max_tx_bytes: 1 << 20,
            max_block_bytes: 22_020_096,
            empty_input_id_height: 0,
            federation_program: None,
            max_side_coinbase_total: None,
            limits: types::Limits::default(),
        }
    }

    fn main_base(network: Network) -> Self {
        ChainParams {
            profile: Profile::Main,
            network,
            default_gas_credit: 30_000,
            vm_gas_rate: 200,
            storage_gas_rate: 1,
            max_gas_amount: 200_000,
            max_block_gas: 10_000_000,
            coinbase_maturity: 100,
            vote_maturity: 0,
            min_vote_output_amount: 0,
            coinbase_arbitrary_limit: 128,
            block_time_interval: 0,
            max_tx_bytes: 1 << 20,
            max_block_bytes: 22_020_096,
            empty_input_id_height: 142_500,
            federation_program: None,
            max_side_coinbase_total: None,
            limits: types::Limits::default(),
        }
    }

    /// Vapor mainnet (`MainNetParams`).
    pub fn side_mainnet() -> Self {
        Self::side_base(Network::Mainnet)
    }

    /// A sidechain devnet with Vapor solonet's rules (`SoloNetParams`: gas cap 200 000, coinbase
    /// maturity 1 200, vote maturity 10 000).
    pub fn side_devnet() -> Self {
        ChainParams {
            // The solo devnet pays no block rewards: a coinbase that pays anything would mint.
            max_side_coinbase_total: Some(0),
            max_gas_amount: 200_000,
            coinbase_maturity: 1_200,
            vote_maturity: 10_000,
            ..Self::side_base(Network::Devnet)
        }
    }

    /// Bytom v1.1.0 mainnet.
    pub fn main_mainnet() -> Self {
        Self::main_base(Network::Mainnet)
    }

    /// A main-chain devnet with Bytom v1.1.0's rules (solonet shares the mainnet constants).
    pub fn main_devnet() -> Self {
        Self::main_base(Network::Devnet)
    }

    /// The main chain's block subsidy at `height` (`BlockSubsidy`): the initial allocation at height
    /// 0, then 41 250 000 000 neu halved every 840 000 blocks. The sidechain's coinbase carries the
    /// consensus layer's round rewards instead, so this is `None` there.
    pub fn block_subsidy(&self, height: u64) -> Option<u64> {
        match self.profile {
            Profile::Side => None,
            Profile::Main => {
                if height == 0 {
                    return Some(140_700_041_250_000_000);
                }
                let halvings = height / 840_000;
                Some(if halvings >= 64 {
                    0
                } else {
                    41_250_000_000u64 >> halvings
                })
            }
        }
    }
}

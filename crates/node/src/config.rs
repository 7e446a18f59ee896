//! Node configuration: plain `serde` structs, every field defaulted, unknown fields refused.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Which chain the node runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChainConfig {
    /// Network: `"devnet"`, `"testnet"` or `"mainnet"` (address prefixes and parameters). Only the
    /// sidechain devnet (solo consensus) is supported by this node today.
    pub network: String,
    /// The genesis block as hex, relative to the data directory unless absolute.
    pub genesis_file: PathBuf,
    /// `"side"` (default): the sidechain under solo consensus. `"main"`: the proof-of-work main chain
    /// (Bytom v1.1.0 rules; `network` `"devnet"` or `"mainnet"`).
    pub profile: String,
}

impl Default for ChainConfig {
    fn default() -> Self {
        ChainConfig {
            network: "devnet".to_string(),
            genesis_file: PathBuf::from("genesis.hex"),
            profile: "side".to_string(),
        }
    }
}

/// The solo block producer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProducerConfig {
    /// Whether this node produces blocks.
    pub enabled: bool,
    /// File holding the producer's 32-byte ed25519 seed as hex, relative to the data directory unless
    /// absolute. Never logged.
    pub key_file: PathBuf,
    /// The producer's ed25519 public key (hex): every block's witness must carry its signature over the
    /// block hash. Empty: the public key of `key_file`.
    pub public_key: String,
    /// Milliseconds between blocks while transactions wait. The sidechain's rules want timestamps
    /// at least 500 ms apart; below that, block timestamps run ahead of the clock.
    pub block_interval_ms: u64,
    /// Longest gap, in milliseconds, before an empty block is produced.
    pub empty_block_interval_ms: u64,
    /// Most transaction bytes in one block (also capped by the chain's rule).
    pub max_block_bytes: u64,
    /// Most gas in one block (also capped by the chain's rule).
    pub max_block_gas: u64,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            enabled: true,
            key_file: PathBuf::from("producer.key"),
            public_key: String::new(),
            block_interval_ms: 500,
            empty_block_interval_ms: 3_000,
            max_block_bytes: 8 << 20,
            max_block_gas: 10_000_000,
        }
    }
}

/// The main chain's miner (`profile = "main"` only).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MiningConfig {
    /// Whether this node mines (also `tributary node --mine`).
    pub enabled: bool,
    /// Where block rewards go: an address of the chain's network...
    pub address: String,
    /// ...or a control program as hex. With neither, the reference's default coinbase program
    /// (anyone can spend it).
    pub control_program: String,
    /// Miner threads; 0 means one per core.
    pub threads: usize,
}

/// The transaction pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MempoolConfig {
    /// Most transactions held.
    pub max_txs: usize,
    /// Most transaction bytes held.
    pub max_bytes: u64,
    /// Most orphans (transactions spending outputs not known yet) held, in at most 1/16 of
    /// `max_bytes`; 0 rejects them. Capped at [`crate::mempool::MAX_ORPHANS`].
    pub max_orphans: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        MempoolConfig {
            max_txs: 65_536,
            max_bytes: 64 << 20,
            max_orphans: 256,
        }
    }
}

/// The node's configuration. The binary composes it with the API's configuration in one TOML file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    /// Directory of the store, genesis and keys.
    pub data_dir: PathBuf,
    /// Which chain.
    pub chain: ChainConfig,
    /// Block production.
    pub producer: ProducerConfig,
    /// The transaction pool.
    pub mempool: MempoolConfig,
    /// The main chain's miner.
    pub mining: MiningConfig,
    /// BBFT validator (multi-validator sidechain); when enabled, `producer` is not used.
    pub bbft: BbftConfig,
}

/// Another validator's listening address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// Its node id (index in `validators`).
    pub node_id: u32,
    /// Where it listens, `host:port`.
    pub addr: String,
}

/// A BBFT validator: its keys, the genesis validator set and where the others listen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BbftConfig {
    /// Whether this node runs a BBFT chain (else: solo consensus with `producer`).
    pub enabled: bool,
    /// `true` (default): a validator, with `node_id`, `bls_key_file` and `listen`. `false`: a
    /// follower, which holds no BLS key, takes no part in consensus, and polls the validators at
    /// `peers` for committed blocks, checking every certificate against `validators` (see
    /// `bbft_host/follower.rs`). A follower ignores `node_id`, `bls_key_file`, `state_file` and
    /// `listen`; it uses `node_key_file` if that file exists, else a fresh key each start.
    pub validator: bool,
    /// A follower's time between two block requests to one validator while at the tip.
    pub poll_interval_ms: u64,
    /// This validator's node id: its index in `validators`.
    pub node_id: u32,
    /// File holding its 32-byte BLS secret key as hex (relative to the data directory). Never logged.
    pub bls_key_file: PathBuf,
    /// File holding its 32-byte ed25519 node-key seed as hex (relative to the data directory); its
    /// public key must be `validators[node_id].node_key`. Never logged.
    pub node_key_file: PathBuf,
    /// The consensus state file (relative to the data directory).
    pub state_file: PathBuf,
    /// Address to listen on for the other validators, `host:port`.
    pub listen: String,
    /// Least milliseconds between a block and its parent (the chain's rules want 500 or more).
    pub block_interval_ms: u64,
    /// Milliseconds before a round times out (view change).
    pub round_timeout_ms: u64,
    /// The genesis validator set, in order (every validator's file must list the same).
    pub validators: Vec<crate::bbft_host::validators::GenesisValidator>,
    /// Other nodes that may be elected later (same fields), after the genesis validators in the
    /// node directory: candidate `k` has node id `validators.len() + k`. A candidate elected
    /// without an entry here still counts for the quorum but is not reached by this node.
    pub candidates: Vec<crate::bbft_host::validators::GenesisValidator>,
    /// Where the other validators (and candidates) listen.
    pub peers: Vec<PeerConfig>,
    /// The DPoS election parameters (every node of the chain must use the same): each round is
    /// a BBFT epoch, whose validator set the previous round elects.
    pub dpos: DposSettings,
}

/// DPoS election parameters as configured ([`consensus::dpos::DposConfig`]; the defaults are the
/// Vapor main network's). The smallest vote and the vote lock are the chain's rules
/// (`ledger::ChainParams`), which the ledger enforces on every vote and veto: the elections take
/// the same values, so they never count a vote the ledger refused or keep one it let go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DposSettings {
    /// Blocks per round (one BBFT epoch).
    pub round_length: u64,
    /// Validators elected per round.
    pub num_validators: usize,
    /// Consecutive blocks each validator is credited with in the reward schedule.
    pub blocks_per_producer: u64,
    /// Smallest vote total (neu) that makes a candidate electable.
    pub min_validator_stake: u64,
    /// Subsidy (neu) per block credited to its validator.
    pub block_subsidy: u64,
    /// Last height that earns the subsidy.
    pub subsidy_last_height: u64,
    /// Percent of a validator's reward shared with its voters.
    pub voter_share_percent: u8,
}

impl Default for DposSettings {
    fn default() -> Self {
        let d = consensus::dpos::DposConfig::default();
        DposSettings {
            round_length: d.round_length,
            num_validators: d.num_validators,
            blocks_per_producer: d.blocks_per_producer,
            min_validator_stake: d.min_validator_stake,
            block_subsidy: d.block_subsidy,
            subsidy_last_height: d.subsidy_last_height,
            voter_share_percent: d.voter_share_percent,
        }
    }
}

impl DposSettings {
    /// The checked election parameters of a chain with `params`.
    ///
    /// # Errors
    /// [`NodeError::Config`] for values the elections or BBFT refuse (zero lengths or counts,
    /// amounts the ledger cannot carry, more validators than BBFT runs, a share above 100 %).
    pub fn to_config(
        &self,
        params: &ledger::ChainParams,
    ) -> Result<consensus::dpos::DposConfig, crate::NodeError> {
        let bad = |e: consensus::dpos::ConfigError| crate::NodeError::Config(format!("bbft.dpos: {e}"));
        if self.num_validators > consensus::bbft::MAX_VALIDATORS {
            return Err(crate::NodeError::Config(format!(
                "bbft.dpos.num_validators {} is above BBFT's {}",
                self.num_validators,
                consensus::bbft::MAX_VALIDATORS
            )));
        }
        consensus::dpos::DposConfig::new(
            self.round_length,
            self.num_validators,
            self.blocks_per_producer,
            self.min_validator_stake,
            params.min_vote_output_amount,
            params.vote_maturity,
            self.block_subsidy,
        )
        .map_err(bad)?
        .with_subsidy_until(self.subsidy_last_height)
        .with_voter_share(self.voter_share_percent)
        .map_err(bad)
    }
}

impl Default for BbftConfig {
    fn default() -> Self {
        BbftConfig {
            enabled: false,
            validator: true,
            poll_interval_ms: 250,
            node_id: 0,
            bls_key_file: PathBuf::from("bls.key"),
            node_key_file: PathBuf::from("node.key"),
            state_file: PathBuf::from("consensus.state"),
            listen: "127.0.0.1:0".to_string(),
            block_interval_ms: 500,
            round_timeout_ms: 2_000,
            validators: Vec::new(),
            candidates: Vec::new(),
            peers: Vec::new(),
            dpos: DposSettings::default(),
        }
    }
}

impl NodeConfig {
    /// `path` resolved against the data directory.
    pub fn in_data_dir(&self, path: &std::path::Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.data_dir.join(path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults_and_unknown_fields_are_refused() {
        let c: NodeConfig = toml::from_str("").unwrap();
        assert_eq!(c, NodeConfig::default());
        assert_eq!(c.producer.block_interval_ms, 500);
        let c: NodeConfig = toml::from_str("[producer]\nblock_interval_ms = 250\n").unwrap();
        assert_eq!(c.producer.block_interval_ms, 250);
        assert_eq!(c.producer.empty_block_interval_ms, 3_000);
        let err = toml::from_str::<NodeConfig>("[producer]\nblock_intervl_ms = 250\n").unwrap_err();
        assert!(err.to_string().contains("block_intervl_ms"), "{err}");
        assert!(toml::from_str::<NodeConfig>("colour = 1\n").is_err());
        assert!(toml::from_str::<NodeConfig>("[mempool]\nmax_txs = \"many\"\n").is_err());
        let c: NodeConfig =
            toml::from_str("[chain]\nprofile = \"main\"\n[mining]\nenabled = true\nthreads = 2\n").unwrap();
        assert_eq!(c.chain.profile, "main");
        assert!(c.mining.enabled);
        assert_eq!(c.mining.threads, 2);
        assert!(toml::from_str::<NodeConfig>("[mining]\nenable = true\n").is_err());
        let c: NodeConfig = toml::from_str("[bbft]\nenabled = true\nvalidator = false\n").unwrap();
        assert!(c.bbft.enabled && !c.bbft.validator);
        assert_eq!(c.bbft.poll_interval_ms, 250);
        assert!(NodeConfig::default().bbft.validator);
        assert!(toml::from_str::<NodeConfig>("[bbft]\nvalidator = \"no\"\n").is_err());
        // Election parameters: Vapor's by default, the vote rules the chain's; checked when used.
        let params = ledger::ChainParams::side_devnet();
        let d = c.bbft.dpos.to_config(&params).unwrap();
        let vapor = consensus::dpos::DposConfig::default();
        assert_eq!(
            (d.round_length, d.num_validators),
            (vapor.round_length, vapor.num_validators)
        );
        assert_eq!(d.min_validator_stake, vapor.min_validator_stake);
        assert_eq!(
            (d.min_vote_amount, d.vote_lock_blocks),
            (params.min_vote_output_amount, params.vote_maturity)
        );
        let c: NodeConfig = toml::from_str("[bbft.dpos]\nround_length = 40\nnum_validators = 4\n").unwrap();
        let d = c.bbft.dpos.to_config(&params).unwrap();
        assert_eq!(
            (d.round_length, d.num_validators, d.blocks_per_producer),
            (40, 4, 12)
        );
        let c: NodeConfig = toml::from_str("[bbft.dpos]\nround_length = 0\n").unwrap();
        assert!(matches!(
            c.bbft.dpos.to_config(&params),
            Err(crate::NodeError::Config(_))
        ));
        let c: NodeConfig = toml::from_str("[bbft.dpos]\nnum_validators = 5000\n").unwrap();
        assert!(c.bbft.dpos.to_config(&params).is_err());
        let c: NodeConfig = toml::from_str("[bbft.dpos]\nvoter_share_percent = 101\n").unwrap();
        assert!(c.bbft.dpos.to_config(&params).is_err());
        // The vote rules are not configurable apart from the chain's.
        assert!(toml::from_str::<NodeConfig>("[bbft.dpos]\nvote_lock_blocks = 4\n").is_err());
        assert!(toml::from_str::<NodeConfig>("[bbft.dpos]\nround_lenght = 4\n").is_err());
    }
}

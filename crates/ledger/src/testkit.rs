//! Building signed transactions and blocks with real chainkd keys, for tests and benchmarks.
//!
//! Nothing here is used by validation; it is the counterpart a wallet would provide, kept small.

use crypto::chainkd::XPrv;
use ripemd::{Digest, Ripemd160};
use types::block::{Block, BlockHeader};
use types::tx::{
    CoinbaseInput, IssuanceInput, SpendCommitment, SpendInput, Transaction, TxData, TxInput, TxOutput,
};
use types::{Amount, AssetId, Hash, InputKind, OutputKind, Profile, ResultKind};

/// Why a transaction or block could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The transaction contents are invalid.
    #[error(transparent)]
    Tx(#[from] types::TxError),
    /// An amount is out of range.
    #[error(transparent)]
    Amount(#[from] types::AmountError),
    /// The block is invalid.
    #[error(transparent)]
    Block(#[from] types::BlockError),
}

/// A key that controls a pay-to-witness-pubkey-hash program.
#[derive(Clone)]
pub struct Key {
    xprv: XPrv,
    pubkey: [u8; 32],
    program: Vec<u8>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("program", &hex::encode(&self.program))
            .finish()
    }
}

impl Key {
    /// The root key of `seed`.
    pub fn from_seed(seed: &[u8]) -> Key {
        let xprv = XPrv::root(seed);
        let pubkey = xprv.xpub().public_key();
        let hash = Ripemd160::digest(pubkey);
        let program = vm::standard::p2wpkh_program(hash.as_slice());
        Key {
            xprv,
            pubkey,
            program,
        }
    }

    /// The ed25519 public key.
    pub fn pubkey(&self) -> &[u8; 32] {
        &self.pubkey
    }

    /// The P2WPKH control program paying this key.
    pub fn program(&self) -> &[u8] {
        &self.program
    }

    /// Signs a message (a `TXSIGHASH`).
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.xprv.sign(msg)
    }
}

/// An unspent output with what a spend of it must commit to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coin {
    /// The output ID (the UTXO key).
    pub output_id: Hash,
    /// The commitment a spend input carries.
    pub commitment: SpendCommitment,
}

/// The spendable outputs of a transaction (ordinary outputs, not retirements, cross-chain or vote
/// outputs), in output order.
pub fn coins_of(tx: &Transaction) -> Vec<Coin> {
    let ids = tx.ids();
    let mut coins = Vec::new();
    for (i, (out, oid)) in tx.outputs().iter().zip(&ids.outputs).enumerate() {
        if oid.kind != ResultKind::Output {
            continue;
        }
        let commitment = SpendCommitment {
            source_id: ids.mux_id,
            asset_id: out.asset_id(),
            amount: out.amount(),
            source_position: i as u64,
            vm_version: out.commitment.vm_version,
            control_program: out.control_program().to_vec(),
            suffix: Vec::new(),
        };
        let id =
            types::graph::spent_output_id(tx.profile(), types::graph::SpentKind::Output, &commitment, &[]);
        if id == oid.id {
            coins.push(Coin {
                output_id: id,
                commitment,
            });
        }
    }
    coins
}

/// A version-1 output.
pub fn output(program: &[u8], asset: AssetId, amount: u64) -> Result<TxOutput, BuildError> {
    Ok(TxOutput::new(
        OutputKind::Control,
        asset,
        Amount::new(amount)?,
        program.to_vec(),
    ))
}

/// A coinbase transaction (`arbitrary` = the height's bytes) paying `outputs`. Also usable as a
/// funding transaction whose outputs are put straight into a UTXO set.
pub fn coinbase(profile: Profile, height: u64, outputs: Vec<TxOutput>) -> Result<Transaction, BuildError> {
    let data = TxData {
        version: 1,
        time_range: 0,
        inputs: vec![TxInput::new(InputKind::Coinbase(CoinbaseInput {
            arbitrary: height.to_le_bytes().to_vec(),
        }))],
        outputs,
    };
    Ok(Transaction::new(profile, data)?)
}

/// A transaction spending `inputs` (each signed by its key) to `outputs`.
pub fn transfer(
    profile: Profile,
    inputs: &[(&Coin, &Key)],
    outputs: Vec<TxOutput>,
) -> Result<Transaction, BuildError> {
    let mut data = TxData {
        version: 1,
        time_range: 0,
        inputs: inputs
            .iter()
            .map(|(coin, _)| {
                TxInput::new(InputKind::Spend(SpendInput {
                    commitment: coin.commitment.clone(),
                    arguments: Vec::new(),
                }))
            })
            .collect(),
        outputs,
    };
    let unsigned = Transaction::new(profile, data.clone())?;
    for (i, (_, key)) in inputs.iter().enumerate() {
        let msg = unsigned.sighash(i).unwrap_or_default();
        let sig = key.sign(&msg.0);
        if let Some(input) = data.inputs.get_mut(i) {
            input.set_arguments(vec![sig.to_vec(), key.pubkey().to_vec()]);
        }
    }
    Ok(Transaction::new(profile, data)?)
}

/// An unsigned issuance input of `amount` of the asset defined by `issuer`'s P2WPKH program (VM
/// version 1) and `definition`; `nonce` makes it unique. Sign it with [`signed`].
pub fn issuance(issuer: &Key, definition: &[u8], nonce: &[u8], amount: u64) -> Result<TxInput, BuildError> {
    Ok(TxInput::new(InputKind::Issuance(IssuanceInput {
        nonce: nonce.to_vec(),
        amount: Amount::new(amount)?,
        asset_definition: definition.to_vec(),
        vm_version: 1,
        issuance_program: issuer.program().to_vec(),
        arguments: Vec::new(),
    })))
}

/// The asset [`issuance`] by `issuer` with `definition` issues.
pub fn issued_asset(issuer: &Key, definition: &[u8]) -> AssetId {
    AssetId::from_definition(issuer.program(), 1, definition)
}

/// An unsigned spend input of `coin`.
pub fn spend(coin: &Coin) -> TxInput {
    TxInput::new(InputKind::Spend(SpendInput {
        commitment: coin.commitment.clone(),
        arguments: Vec::new(),
    }))
}

/// A transaction of any inputs, each signed by its key with a P2WPKH witness (signature, public key).
pub fn signed(
    profile: Profile,
    inputs: Vec<(TxInput, &Key)>,
    outputs: Vec<TxOutput>,
) -> Result<Transaction, BuildError> {
    let keys: Vec<&Key> = inputs.iter().map(|(_, k)| *k).collect();
    let mut data = TxData {
        version: 1,
        time_range: 0,
        inputs: inputs.into_iter().map(|(i, _)| i).collect(),
        outputs,
    };
    let unsigned = Transaction::new(profile, data.clone())?;
    for (i, key) in keys.iter().enumerate() {
        let msg = unsigned.sighash(i).unwrap_or_default();
        let sig = key.sign(&msg.0);
        if let Some(input) = data.inputs.get_mut(i) {
            input.set_arguments(vec![sig.to_vec(), key.pubkey().to_vec()]);
        }
    }
    Ok(Transaction::new(profile, data)?)
}

/// A retirement output (program `OP_FAIL`: the asset leaves circulation).
pub fn retirement(asset: AssetId, amount: u64) -> Result<TxOutput, BuildError> {
    Ok(TxOutput::new(
        OutputKind::Control,
        asset,
        Amount::new(amount)?,
        vec![types::tx::OP_FAIL],
    ))
}

/// A block on top of `parent` holding `txs`, with its Merkle roots (every status "succeeded"),
/// version 1, and on the main chain the parent's bits.
pub fn block(parent: &BlockHeader, txs: Vec<Transaction>, timestamp: u64) -> Result<Block, BuildError> {
    let ids: Vec<Hash> = txs.iter().map(Transaction::id).collect();
    let header = BlockHeader {
        version: 1,
        height: parent.height.saturating_add(1),
        previous_block_hash: parent.hash(),
        timestamp,
        transactions_merkle_root: types::merkle::tx_merkle_root(&ids),
        transaction_status_hash: types::merkle::status_merkle_root(&vec![false; txs.len()]),
        commitment_suffix: Vec::new(),
        consensus: match &parent.consensus {
            types::HeaderConsensus::Pow { bits, .. } => types::HeaderConsensus::Pow {
                nonce: 0,
                bits: *bits,
            },
            types::HeaderConsensus::Witness { .. } => types::HeaderConsensus::Witness {
                witness: Vec::new(),
                suffix: Vec::new(),
            },
        },
    };
    Ok(Block::new(header, txs)?)
}

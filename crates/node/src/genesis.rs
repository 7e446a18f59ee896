//! Devnet genesis: a block that funds a development account.
//!
//! The genesis block holds the usual coinbase and one funding transaction whose cross-chain input
//! (the sidechain's way for value to enter) pays `outputs` equal outputs to the dev account's
//! pay-to-witness-pubkey-hash program. Genesis is applied, not validated, so the claim needs no
//! federation signature; its outputs are ordinary outputs, spendable at once.

use crypto::chainkd::XPub;
use ledger::ChainParams;
use ripemd::{Digest, Ripemd160};
use types::amount::Amount;
use types::asset::AssetId;
use types::block::HeaderConsensus;
use types::tx::{CrossChainInput, InputKind, OutputKind, SpendCommitment, TxData, TxInput, TxOutput};
use types::{Block, BlockHeader, Hash, Transaction};

use crate::NodeError;
use crate::chain::coinbase_tx;

/// The pay-to-witness-pubkey-hash program of an extended public key's ed25519 key:
/// `00 14 RIPEMD160(pubkey)`. Spend it with witness arguments `[signature, pubkey]`.
pub fn p2wpkh_program_of(xpub: &XPub) -> Vec<u8> {
    let hash = Ripemd160::digest(xpub.public_key());
    vm::standard::p2wpkh_program(hash.as_slice())
}

/// A devnet genesis block paying `outputs` outputs of `amount_each` neu to `program`, stamped
/// `timestamp_ms`.
pub fn devnet_genesis(
    params: &ChainParams,
    program: &[u8],
    outputs: usize,
    amount_each: u64,
    timestamp_ms: u64,
) -> Result<Block, NodeError> {
    let each = Amount::new(amount_each).map_err(|e| NodeError::Config(format!("genesis amount: {e}")))?;
    let total = u64::try_from(outputs)
        .ok()
        .and_then(|n| n.checked_mul(amount_each))
        .and_then(|t| Amount::new(t).ok())
        .ok_or_else(|| NodeError::Config("genesis funding total exceeds 2^63-1 neu".into()))?;
    let claim = CrossChainInput {
        commitment: SpendCommitment {
            source_id: Hash(crypto::hash::sha3_256(b"tributary devnet genesis funding")),
            asset_id: AssetId::BTM,
            amount: total,
            source_position: 0,
            vm_version: 1,
            control_program: program.to_vec(),
            suffix: Vec::new(),
        },
        issuance_vm_version: 1,
        asset_definition: Vec::new(),
        issuance_program: Vec::new(),
        arguments: Vec::new(),
    };
    let funding = Transaction::new(
        params.profile,
        TxData {
            version: 1,
            time_range: 0,
            inputs: vec![TxInput::new(InputKind::CrossChain(claim))],
            outputs: (0..outputs)
                .map(|_| TxOutput::new(OutputKind::Control, AssetId::BTM, each, program.to_vec()))
                .collect(),
        },
    )
    .map_err(|e| NodeError::Internal(format!("genesis funding transaction: {e}")))?;
    let txs = vec![coinbase_tx(params, 0)?, funding];
    let ids: Vec<Hash> = txs.iter().map(Transaction::id).collect();
    let header = BlockHeader {
        version: 1,
        height: 0,
        previous_block_hash: Hash::ZERO,
        timestamp: timestamp_ms,
        transactions_merkle_root: types::merkle::tx_merkle_root(&ids),
        transaction_status_hash: types::merkle::status_merkle_root(&vec![false; txs.len()]),
        commitment_suffix: Vec::new(),
        consensus: HeaderConsensus::Witness {
            witness: Vec::new(),
            suffix: Vec::new(),
        },
    };
    Block::new(header, txs).map_err(|e| NodeError::Internal(format!("genesis block: {e}")))
}

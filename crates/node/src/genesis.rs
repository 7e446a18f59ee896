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

/// Most outputs in one genesis funding transaction (well under the decoder's 10 000 and the 1 MiB
/// transaction limit).
pub const FUNDING_CHUNK: usize = 5_000;

/// A devnet genesis block paying `outputs` outputs of `amount_each` neu to `program`, stamped
/// `timestamp_ms`. Up to [`FUNDING_CHUNK`] outputs go in one funding transaction (the block's second);
/// more are split over as many funding transactions as needed, each with its own claim.
pub fn devnet_genesis(
    params: &ChainParams,
    program: &[u8],
    outputs: usize,
    amount_each: u64,
    timestamp_ms: u64,
) -> Result<Block, NodeError> {
    let each = Amount::new(amount_each).map_err(|e| NodeError::Config(format!("genesis amount: {e}")))?;
    let mut txs = vec![coinbase_tx(params, 0)?];
    let mut left = outputs;
    let mut chunk_index = 0u64;
    while left > 0 || chunk_index == 0 {
        let n = left.min(FUNDING_CHUNK);
        left -= n;
        txs.push(funding_tx(params, program, n, each, chunk_index)?);
        chunk_index += 1;
    }
    block_of(txs, timestamp_ms)
}

/// One funding transaction: a claim of `outputs * each` split into `outputs` outputs to `program`.
/// `chunk` tells the claims apart (the first one's claim is the original single-transaction genesis').
fn funding_tx(
    params: &ChainParams,
    program: &[u8],
    outputs: usize,
    each: Amount,
    chunk: u64,
) -> Result<Transaction, NodeError> {
    let total = u64::try_from(outputs)
        .ok()
        .and_then(|n| n.checked_mul(each.get()))
        .and_then(|t| Amount::new(t).ok())
        .ok_or_else(|| NodeError::Config("genesis funding total exceeds 2^63-1 neu".into()))?;
    let claim = CrossChainInput {
        commitment: SpendCommitment {
            source_id: Hash(crypto::hash::sha3_256(b"tributary devnet genesis funding")),
            asset_id: AssetId::BTM,
            amount: total,
            source_position: chunk,
            vm_version: 1,
            control_program: program.to_vec(),
            suffix: Vec::new(),
        },
        issuance_vm_version: 1,
        asset_definition: Vec::new(),
        issuance_program: Vec::new(),
        arguments: Vec::new(),
    };
    Transaction::new(
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
    .map_err(|e| NodeError::Internal(format!("genesis funding transaction: {e}")))
}

fn block_of(txs: Vec<Transaction>, timestamp_ms: u64) -> Result<Block, NodeError> {
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

/// Arbitrary data of the main devnet genesis coinbase.
pub const MAIN_GENESIS_ARBITRARY: &[u8] = b"tributary main devnet genesis";

/// A main-chain devnet genesis block: one coinbase paying each `(program, amount)` of `funding` as its
/// own BTM output (at least one), stamped `timestamp_secs` (seconds), with `pow.genesis_bits`. Genesis
/// is applied, not validated: its outputs are ordinary outputs, spendable at once.
pub fn main_devnet_genesis(
    pow: &pow::PowParams,
    funding: &[(Vec<u8>, u64)],
    timestamp_secs: u64,
) -> Result<Block, NodeError> {
    if funding.is_empty() {
        return Err(NodeError::Config(
            "a main devnet genesis needs at least one funding output".into(),
        ));
    }
    if funding.len() > FUNDING_CHUNK {
        return Err(NodeError::Config(format!(
            "a main devnet genesis pays at most {FUNDING_CHUNK} outputs"
        )));
    }
    let mut outputs = Vec::with_capacity(funding.len());
    for (program, amount) in funding {
        let each = Amount::new(*amount).map_err(|e| NodeError::Config(format!("genesis amount: {e}")))?;
        outputs.push(TxOutput::new(
            OutputKind::Control,
            AssetId::BTM,
            each,
            program.clone(),
        ));
    }
    let coinbase = Transaction::new(
        types::profile::Profile::Main,
        TxData {
            version: 1,
            time_range: 0,
            inputs: vec![TxInput::new(InputKind::Coinbase(types::tx::CoinbaseInput {
                arbitrary: MAIN_GENESIS_ARBITRARY.to_vec(),
            }))],
            outputs,
        },
    )
    .map_err(|e| NodeError::Config(format!("genesis coinbase: {e}")))?;
    let ids = [coinbase.id()];
    let header = BlockHeader {
        version: pow.block_version,
        height: 0,
        previous_block_hash: Hash::ZERO,
        timestamp: timestamp_secs,
        transactions_merkle_root: types::merkle::tx_merkle_root(&ids),
        transaction_status_hash: types::merkle::status_merkle_root(&[false]),
        commitment_suffix: Vec::new(),
        consensus: HeaderConsensus::Pow {
            nonce: 0,
            bits: pow.genesis_bits,
        },
    };
    Block::new(header, vec![coinbase]).map_err(|e| NodeError::Internal(format!("genesis block: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devnet::coins_of;

    #[test]
    fn large_fundings_are_split_into_distinct_transactions() {
        let params = ChainParams::side_devnet();
        let program = [0x00, 0x14].iter().copied().chain([7u8; 20]).collect::<Vec<u8>>();
        let small = devnet_genesis(&params, &program, 3, 10, 1).unwrap();
        assert_eq!(small.transactions().len(), 2);
        let big = devnet_genesis(&params, &program, 2 * FUNDING_CHUNK + 1, 10, 1).unwrap();
        let txs = big.transactions();
        assert_eq!(txs.len(), 4);
        let counts: Vec<usize> = txs[1..].iter().map(|t| coins_of(t, &program).len()).collect();
        assert_eq!(counts, [FUNDING_CHUNK, FUNDING_CHUNK, 1]);
        let mut ids: Vec<String> = txs.iter().map(|t| t.id().to_hex()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 4);
        // The first funding transaction is what a small genesis holds: existing devnets keep their hash.
        let first = devnet_genesis(&params, &program, FUNDING_CHUNK, 10, 1).unwrap();
        assert_eq!(first.transactions()[1].id(), txs[1].id());
        let round = Block::decode(&big.encode(), params.profile, &params.limits).unwrap();
        assert_eq!(round.hash(), big.hash());
    }

    #[test]
    fn the_main_devnet_genesis_funds_its_outputs_and_decodes_as_a_main_block() {
        let pow = pow::PowParams::devnet();
        let params = ChainParams::main_devnet();
        let funding = vec![(vec![0x00, 0x14, 1, 2], 5), (vec![0x51], 7)];
        let g = main_devnet_genesis(&pow, &funding, 1_700_000_000).unwrap();
        assert_eq!(g.header().bits(), Some(pow.genesis_bits));
        assert_eq!(g.transactions().len(), 1);
        let amounts: Vec<(Vec<u8>, u64)> = g.transactions()[0]
            .outputs()
            .iter()
            .map(|o| (o.control_program().to_vec(), o.amount().get()))
            .collect();
        assert_eq!(amounts, funding);
        let round = Block::decode(&g.encode(), params.profile, &params.limits).unwrap();
        assert_eq!(round.hash(), g.hash());
        assert_eq!(ledger::genesis_change_set(&g).created.len(), 2);
        assert!(main_devnet_genesis(&pow, &[], 1).is_err());
    }
}

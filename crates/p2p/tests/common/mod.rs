#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Shared fixtures: distinct main-chain transactions and blocks whose Merkle root is right.

use types::tx::{CoinbaseInput, InputKind, OutputKind, TxData, TxInput, TxOutput};
use types::{Amount, AssetId, Block, BlockHeader, Hash, HeaderConsensus, Profile, Transaction, merkle};

/// A valid main-chain transaction, distinct for each `seed`.
pub(crate) fn tx(seed: u64) -> Transaction {
    let data = TxData {
        version: 1,
        time_range: 0,
        inputs: vec![TxInput::new(InputKind::Coinbase(CoinbaseInput {
            arbitrary: seed.to_be_bytes().to_vec(),
        }))],
        outputs: vec![TxOutput::new(
            OutputKind::Control,
            AssetId::BTM,
            Amount::new(1000 + seed).unwrap(),
            vec![0x51],
        )],
    };
    Transaction::new(Profile::Main, data).unwrap()
}

/// A block of `n` transactions (seeds `base..base+n`) with a correct Merkle root.
pub(crate) fn block(height: u64, base: u64, n: u64) -> Block {
    let txs: Vec<Transaction> = (base..base + n).map(tx).collect();
    let ids: Vec<Hash> = txs.iter().map(Transaction::id).collect();
    let header = BlockHeader {
        version: 1,
        height,
        previous_block_hash: Hash([height.to_le_bytes()[0]; 32]),
        timestamp: 1_700_000_000 + height,
        transactions_merkle_root: merkle::tx_merkle_root(&ids),
        transaction_status_hash: Hash([0; 32]),
        commitment_suffix: vec![],
        consensus: HeaderConsensus::Pow {
            nonce: height,
            bits: 2305843009222082559,
        },
    };
    Block::new(header, txs).unwrap()
}

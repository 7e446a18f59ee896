#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Shared helpers of the integration tests.

use std::sync::Arc;

use ledger::testkit::{self, Coin, Key};
use ledger::{ChainParams, MemoryUtxoSet, UtxoEntry, UtxoKind};
use types::{AssetId, Profile, Transaction};

/// Funding: a coinbase-shaped transaction whose outputs are put straight into the set at height 0.
pub(crate) fn fund(
    profile: Profile,
    keys: &[Key],
    amount: u64,
    per_key: usize,
) -> (MemoryUtxoSet, Vec<(Coin, Key)>) {
    let mut outputs = Vec::new();
    for k in keys {
        for _ in 0..per_key {
            outputs.push(testkit::output(k.program(), AssetId::BTM, amount).unwrap());
        }
    }
    // Distinct funding transactions per call are not needed: every output has its own position.
    let tx = testkit::coinbase(profile, 0, outputs).unwrap();
    let coins = testkit::coins_of(&tx);
    assert_eq!(coins.len(), keys.len() * per_key);
    let mut set = MemoryUtxoSet::new();
    let mut owned = Vec::new();
    for (n, coin) in coins.into_iter().enumerate() {
        set.insert(
            coin.output_id,
            UtxoEntry {
                kind: UtxoKind::Normal,
                height: 0,
            },
        );
        owned.push((coin, keys[n / per_key].clone()));
    }
    (set, owned)
}

pub(crate) fn keys(n: usize) -> Vec<Key> {
    (0..n)
        .map(|i| Key::from_seed(format!("key {i}").as_bytes()))
        .collect()
}

/// A 1-input, 2-output transfer paying `pay` to `to` with `fee`, change back to the owner.
pub(crate) fn pay(profile: Profile, coin: &Coin, owner: &Key, to: &Key, pay: u64, fee: u64) -> Transaction {
    let change = coin.commitment.amount.get() - pay - fee;
    testkit::transfer(
        profile,
        &[(coin, owner)],
        vec![
            testkit::output(to.program(), AssetId::BTM, pay).unwrap(),
            testkit::output(owner.program(), AssetId::BTM, change).unwrap(),
        ],
    )
    .unwrap()
}

pub(crate) fn params(profile: Profile) -> ChainParams {
    match profile {
        Profile::Side => ChainParams::side_devnet(),
        Profile::Main => ChainParams::main_devnet(),
    }
}

pub(crate) fn arc(tx: Transaction) -> Arc<Transaction> {
    Arc::new(tx)
}

/// Flips one bit of input `i`'s first witness argument (the signature).
pub(crate) fn tamper_sig(tx: &Transaction, i: usize) -> Transaction {
    let mut data = tx.data().clone();
    let mut args = data.inputs[i].arguments().to_vec();
    args[0][5] ^= 0x01;
    data.inputs[i].set_arguments(args);
    Transaction::new(tx.profile(), data).unwrap()
}

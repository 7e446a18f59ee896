#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests: applying then unwinding change sets leaves the UTXO state byte-identical, a
//! window validates to the same change sets as its blocks one by one, and failed applies change
//! nothing.

mod common;

use common::*;
use ledger::testkit::{self, Coin, Key};
use ledger::{ChangeSet, MemoryUtxoSet, UtxoEntry, UtxoKind, validate_block, validate_window};
use proptest::prelude::*;
use types::{AssetId, BlockHeader, Hash, Profile};

fn entry(kind: u8, height: u64) -> UtxoEntry {
    UtxoEntry {
        kind: match kind % 3 {
            0 => UtxoKind::Normal,
            1 => UtxoKind::Coinbase,
            _ => UtxoKind::Vote,
        },
        height,
    }
}

fn h(n: u16) -> Hash {
    let mut b = [0u8; 32];
    b[..2].copy_from_slice(&n.to_be_bytes());
    Hash(b)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Arbitrary change sets over an arbitrary set: apply+unwind is the identity when apply
    /// succeeds, and a failed apply or unwind leaves the set as it was.
    #[test]
    fn memory_set_apply_unwind(
        initial in proptest::collection::btree_map(0u16..64, (0u8..3, 0u64..100), 0..40),
        spend in proptest::collection::vec(0u16..80, 0..10),
        create in proptest::collection::vec((64u16..128, 0u8..3), 0..10),
        claims in proptest::collection::vec(0u16..20, 0..4),
    ) {
        let mut set = MemoryUtxoSet::new();
        for (id, (k, height)) in &initial {
            set.insert(h(*id), entry(*k, *height));
        }
        let c = ChangeSet {
            height: 100,
            block_hash: Hash::default(),
            spent: spend.iter().map(|id| (h(*id), initial.get(id).map_or(entry(0, 0), |(k, hh)| entry(*k, *hh)))).collect(),
            created: create.iter().map(|(id, k)| (h(*id), entry(*k, 100))).collect(),
            claimed: claims.iter().map(|id| h(1000 + id)).collect(),
        };
        let before = set.encode();
        match set.apply(&c) {
            Ok(()) => {
                prop_assert!(spend.iter().all(|id| initial.contains_key(id)));
                let applied = set.encode();
                let empty = c.spent.is_empty() && c.created.is_empty() && c.claimed.is_empty();
                // Applying twice fails (unless there is nothing to do) and changes nothing.
                if !empty {
                    prop_assert!(set.apply(&c).is_err());
                    prop_assert_eq!(set.encode(), applied);
                }
                set.unwind(&c).unwrap();
                prop_assert_eq!(set.encode(), before.clone());
                // Unwinding twice fails and changes nothing.
                if !c.created.is_empty() || !c.claimed.is_empty() {
                    prop_assert!(set.unwind(&c).is_err());
                    prop_assert_eq!(set.encode(), before.clone());
                }
            }
            Err(_) => prop_assert_eq!(set.encode(), before),
        }
    }
}

/// A random little chain: each block spends some coins (some created earlier in the same block).
fn build_chain(
    seed: &[u8],
    blocks: usize,
    per_block: usize,
    chain_in_block: bool,
) -> (MemoryUtxoSet, BlockHeader, Vec<types::Block>) {
    let profile = Profile::Side;
    let ks: Vec<Key> = (0..3).map(|i| Key::from_seed(&[seed, &[i]].concat())).collect();
    let (set, coins) = fund(profile, &ks, 1_000_000_000, blocks * per_block);
    let mut pool: Vec<(Coin, Key)> = coins;
    let mut parent = BlockHeader::empty(Profile::Side);
    parent.version = 1;
    parent.height = 100;
    parent.timestamp = 1_000;
    let genesis = parent.clone();
    let mut out = Vec::new();
    for b in 0..blocks {
        let height = parent.height + 1;
        let cb = testkit::coinbase(
            profile,
            height,
            vec![testkit::output(ks[0].program(), AssetId::BTM, 5).unwrap()],
        )
        .unwrap();
        let mut txs = vec![cb];
        for n in 0..per_block {
            let (coin, owner) = pool.remove(0);
            let to = &ks[(n + b) % 3];
            let t = pay(profile, &coin, &owner, to, 1_000 + n as u64, 10_000_000);
            let mut new = testkit::coins_of(&t);
            if chain_in_block && n % 2 == 0 {
                // Spend the payment right away in the same block.
                let c = new.remove(0);
                let t2 = pay(profile, &c, to, &ks[0], 10, 0);
                pool.extend(testkit::coins_of(&t2).into_iter().map(|c| (c, ks[0].clone())));
                txs.push(t);
                txs.push(t2);
            } else {
                pool.push((new.remove(0), to.clone()));
                txs.push(t);
            }
            pool.push((new.remove(0), owner.clone()));
        }
        let block = testkit::block(&parent, txs, parent.timestamp + 500).unwrap();
        parent = block.header().clone();
        out.push(block);
    }
    (set, genesis, out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    /// Blocks applied one by one then unwound in reverse restore every intermediate state byte for
    /// byte, and the window gives the same change sets.
    #[test]
    fn blocks_apply_then_unwind(seed in proptest::collection::vec(any::<u8>(), 1..8), blocks in 1usize..4, per_block in 1usize..5, chain in any::<bool>()) {
        // The generated coinbases pay a reward (to exercise coinbase UTXOs), as a chain with DPoS round
        // rewards does; the devnet's no-mint limit is tested in rules.rs.
        let p = ledger::ChainParams {
            max_side_coinbase_total: None,
            ..params(Profile::Side)
        };
        let (mut set, genesis, chain_blocks) = build_chain(&seed, blocks, per_block, chain);
        let window = validate_window(&chain_blocks, &genesis, &set, &p).unwrap();
        let mut states = vec![set.encode()];
        let mut parent = genesis;
        let mut sets = Vec::new();
        for b in &chain_blocks {
            let cs = validate_block(b, &parent, &set, &p, &[]).unwrap();
            set.apply(&cs).unwrap();
            states.push(set.encode());
            sets.push(cs);
            parent = b.header().clone();
        }
        prop_assert_eq!(&window, &sets);
        for cs in sets.iter().rev() {
            states.pop();
            set.unwind(cs).unwrap();
            prop_assert_eq!(&set.encode(), states.last().unwrap());
        }
        // Replaying a block on the state after it fails (its spends are gone).
        let mut replay = set.clone();
        replay.apply(&sets[0]).unwrap();
        prop_assert!(validate_block(&chain_blocks[0], &chain_blocks[0].header().clone(), &replay, &p, &[]).is_err());
    }
}

const VAPOR_TXS: &str = include_str!("../../tributary/tests/fixtures/reference/vapor_transactions.json");

fn vapor_raw() -> Vec<Vec<u8>> {
    let v: serde_json::Value = serde_json::from_str(VAPOR_TXS).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| hex::decode(t["raw_transaction"].as_str().unwrap()).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Corrupted real transactions that still decode never panic the checks, and the batched path
    /// agrees with the plain one on them.
    #[test]
    fn corrupted_transactions_never_panic(which in 0usize..17, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4), height in 0u64..20_000) {
        let raws = vapor_raw();
        let mut raw = raws[which % raws.len()].clone();
        for (at, x) in flips {
            let i = at % raw.len();
            raw[i] ^= x | 1;
        }
        let mut p = params(Profile::Side);
        p.federation_program = Some(vec![0x51]);
        if let Ok(t) = types::Transaction::decode(&raw, Profile::Side, &types::Limits::default()) {
            let t = std::sync::Arc::new(t);
            let plain = ledger::check_tx(std::sync::Arc::clone(&t), &p, height);
            let batched = ledger::check_txs(&[t], &p, height);
            prop_assert_eq!(&batched[0], &plain);
        }
    }
}

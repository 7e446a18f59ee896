//! The main chain (proof of work) through the chain service, on real stores: mining, importing into a
//! second node, reorgs to a heavier branch (UTXO set equal to a fresh replay, pool refilled), refusal
//! of a branch holding an invalid block, orphans, templates. A cheap hash stands in for Tensority
//! (the devnet's bits, about 20 hashes a block).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use ledger::ChainParams;
use node::chain::pow::{ImportStatus, MAX_ORPHAN_BLOCKS, main_coinbase_tx};
use node::chain::{ChainEvent, ChainService, ChainSetup};
use node::{Authority, ImportError, MempoolConfig};
use pow::PowParams;
use storage::{ChainIdentity, RedbStore, StoreRead};
use types::{Block, BlockHeader, Hash, Transaction};

use common::TempDir;
use common::pow::{CheapPow, FEE, blocks_of, genesis, mine, open, pay, pow_now, prog, solve};

#[test]
fn mined_blocks_are_valid_and_a_second_node_imports_them() {
    let dir = TempDir::new("mine");
    let g = genesis();
    let a = open(&dir.0.join("a.redb"), &g, &prog(1));
    let tx = pay(0, &prog(9), &g);
    a.submit(tx.clone()).unwrap();
    for _ in 0..3 {
        mine(&a, &prog(1));
    }
    assert_eq!(a.tip().height, 3);
    let blocks = blocks_of(&a);
    // The pool transaction went into the first block, whose coinbase pays subsidy plus its fee.
    assert_eq!(blocks[0].transactions()[1].id(), tx.id());
    let cb = &blocks[0].transactions()[0];
    assert_eq!(cb.outputs()[0].amount().get(), 41_250_000_000 + FEE);
    assert!(!a.in_pool(&tx.id()));
    // Every header meets its bits under the seed of its height (the initial seed: first epoch).
    for b in &blocks {
        assert!(pow::validate::check_header_pow(
            &CheapPow,
            b.header(),
            &pow::INITIAL_SEED
        ));
        assert_eq!(b.header().bits(), Some(PowParams::devnet().genesis_bits));
    }
    // Another node with its own store imports them and reaches the same state.
    let b = open(&dir.0.join("b.redb"), &g, &prog(2));
    for blk in &blocks {
        let out = b.import_block(blk.clone()).unwrap();
        assert_eq!(out.status, ImportStatus::BestChain);
    }
    assert_eq!(b.tip(), a.tip());
    assert_eq!(b.store().utxos().unwrap(), a.store().utxos().unwrap());
    // Importing again is a no-op.
    assert_eq!(
        b.import_block(blocks[2].clone()).unwrap().status,
        ImportStatus::Duplicate
    );
    // A block with a nonce that misses the target is refused.
    let (mut h, txs) = blocks[2].clone().into_parts();
    let mut refused = false;
    for nonce in 0..64u64 {
        h.consensus = types::HeaderConsensus::Pow {
            nonce,
            bits: h.bits().unwrap(),
        };
        if !pow::validate::check_header_pow(&CheapPow, &h, &pow::INITIAL_SEED) {
            let bad = Block::new(h.clone(), txs.clone()).unwrap();
            let c = open(&dir.0.join("c.redb"), &g, &prog(3));
            c.import_block(blocks[0].clone()).unwrap();
            c.import_block(blocks[1].clone()).unwrap();
            let err = c.import_block(bad).unwrap_err();
            assert!(matches!(err, ImportError::Header(_)), "{err}");
            assert_eq!(c.tip().height, 2);
            refused = true;
            break;
        }
    }
    assert!(refused);
}

#[test]
fn a_heavier_branch_replaces_the_tip_matches_a_replay_and_returns_lighter_txs_to_the_pool() {
    let dir = TempDir::new("reorg");
    let g = genesis();
    let a = open(&dir.0.join("a.redb"), &g, &prog(1));
    let b = open(&dir.0.join("b.redb"), &g, &prog(2));
    // Branch A: two blocks, the first holding a payment that branch B does not have.
    let only_a = pay(0, &prog(11), &g);
    a.submit(only_a.clone()).unwrap();
    mine(&a, &prog(1));
    mine(&a, &prog(1));
    let old_tip = a.tip();
    // Branch B: three blocks with another payment.
    let only_b = pay(1, &prog(12), &g);
    b.submit(only_b.clone()).unwrap();
    for _ in 0..3 {
        mine(&b, &prog(2));
    }
    let mut events = a.subscribe_chain();
    let a_blocks = blocks_of(&a);
    for blk in blocks_of(&b) {
        a.import_block(blk).unwrap();
    }
    assert_eq!(a.tip(), b.tip());
    assert_ne!(a.tip(), old_tip);
    // The UTXO set equals a fresh replay of the winning branch on a third store.
    let c = open(&dir.0.join("c.redb"), &g, &prog(3));
    for blk in blocks_of(&b) {
        c.import_block(blk).unwrap();
    }
    assert_eq!(a.store().utxos().unwrap(), c.store().utxos().unwrap());
    assert_eq!(a.store().utxos().unwrap(), b.store().utxos().unwrap());
    // The lighter branch's payment is back in the pool; B's is on chain, not in the pool.
    assert!(a.in_pool(&only_a.id()));
    assert!(!a.in_pool(&only_b.id()));
    assert!(a.store().tx_location(&only_a.id()).unwrap().is_none());
    assert!(a.store().tx_location(&only_b.id()).unwrap().is_some());
    // Subscribers saw A's blocks disconnected (tip first) before B's were connected.
    let mut seen = Vec::new();
    while let Ok(e) = events.try_recv() {
        seen.push(match e {
            ChainEvent::Connected(b) => (true, b.hash()),
            ChainEvent::Disconnected(b) => (false, b.hash()),
        });
    }
    let disconnected: Vec<Hash> = seen.iter().filter(|(c, _)| !c).map(|(_, h)| *h).collect();
    assert_eq!(disconnected, vec![a_blocks[1].hash(), a_blocks[0].hash()]);
    let last_connected: Vec<Hash> = seen.iter().rev().take(3).map(|(_, h)| *h).collect();
    let b_hashes: Vec<Hash> = blocks_of(&b).iter().rev().map(Block::hash).collect();
    assert_eq!(last_connected, b_hashes);
    // The disconnected blocks stay known (a wallet unwinding them needs them).
    assert!(a.known_block(&a_blocks[1].hash()).unwrap().is_some());
    // Mining on goes on from the new tip and includes the returned payment.
    mine(&a, &prog(1));
    let top = a.store().block_at(a.tip().height).unwrap().unwrap();
    assert!(top.transactions().iter().any(|t| t.id() == only_a.id()));
}

#[test]
fn a_branch_with_an_invalid_block_is_refused_and_the_old_tip_kept() {
    let dir = TempDir::new("invalid");
    let g = genesis();
    let a = open(&dir.0.join("a.redb"), &g, &prog(1));
    let b = open(&dir.0.join("b.redb"), &g, &prog(2));
    mine(&a, &prog(1));
    let old_tip = a.tip();
    let old_utxos = a.store().utxos().unwrap();
    let b1 = mine(&b, &prog(2));
    // B2: a valid header and proof of work over a coinbase minting one neu too many.
    let template = b.block_template(&prog(2), pow_now()).unwrap();
    let (header, mut txs) = template.block.clone().into_parts();
    txs[0] = main_coinbase_tx(b.params(), 2, 1, &prog(2)).unwrap();
    let ids: Vec<Hash> = txs.iter().map(Transaction::id).collect();
    let header = BlockHeader {
        transactions_merkle_root: types::merkle::tx_merkle_root(&ids),
        ..header
    };
    let bad = Block::new(solve(&header, &template.seed), txs).unwrap();
    // B1 ties with A's tip: the first seen stays.
    let out = a.import_block(b.store().block(&b1).unwrap().unwrap()).unwrap();
    assert_eq!(out.status, ImportStatus::SideBranch);
    assert_eq!(a.tip(), old_tip);
    // B2 makes branch B heavier, but it is invalid: refused, the old tip and state kept.
    let err = a.import_block(bad.clone()).unwrap_err();
    assert!(matches!(err, ImportError::Invalid(_)), "{err}");
    assert_eq!(a.tip(), old_tip);
    assert_eq!(a.store().utxos().unwrap(), old_utxos);
    // It is remembered, and so is anything building on it.
    assert!(matches!(
        a.import_block(bad.clone()),
        Err(ImportError::KnownInvalid(_))
    ));
    let child_template = BlockHeader {
        height: 3,
        previous_block_hash: bad.hash(),
        ..bad.header().clone()
    };
    let child = Block::new(child_template, bad.transactions().to_vec()).unwrap();
    assert!(matches!(
        a.import_block(child),
        Err(ImportError::InvalidParent { .. })
    ));
    // The node keeps mining on its own branch.
    mine(&a, &prog(1));
    assert_eq!(a.tip().height, 2);
}

#[test]
fn orphans_arriving_before_their_parent_connect_later() {
    let dir = TempDir::new("orphans");
    let g = genesis();
    let a = open(&dir.0.join("a.redb"), &g, &prog(1));
    let b = open(&dir.0.join("b.redb"), &g, &prog(2));
    for _ in 0..3 {
        mine(&b, &prog(2));
    }
    let blocks = blocks_of(&b);
    assert_eq!(
        a.import_block(blocks[2].clone()).unwrap().status,
        ImportStatus::Orphan
    );
    assert_eq!(
        a.import_block(blocks[1].clone()).unwrap().status,
        ImportStatus::Orphan
    );
    assert_eq!(a.tip().height, 0);
    assert_eq!(a.block_cache_stats().0, 2);
    let out = a.import_block(blocks[0].clone()).unwrap();
    assert_eq!(out.status, ImportStatus::BestChain);
    assert_eq!(out.connected, 3);
    assert_eq!(a.tip(), b.tip());
    assert_eq!(a.block_cache_stats().0, 0);
    const { assert!(MAX_ORPHAN_BLOCKS > 2) };
}

#[test]
fn the_coinbase_is_built_as_the_reference_builds_it() {
    // bytom_transactions.json, coinbase_height_1 and coinbase_height_106 (fee 1 000 000 neu).
    let program = hex::decode("0014d98d29052be5688732a8304c17a97907a3ab4974").unwrap();
    let params = ChainParams::main_mainnet();
    let one = main_coinbase_tx(&params, 1, 0, &program).unwrap();
    assert_eq!(
        hex::encode(one.encode()),
        "070100010104020200310001013effffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff8099c4d5990101160014d98d29052be5688732a8304c17a97907a3ab497400"
    );
    assert_eq!(
        one.id().to_hex(),
        "1ff98cdeeba99af29d751bb65169420b98403e496da449c6b1d36d496b1515ef"
    );
    let h106 = main_coinbase_tx(&params, 106, 1_000_000, &program).unwrap();
    assert_eq!(
        h106.id().to_hex(),
        "12e0ffe8b6d2d8ec906c6d8b88ecb9727f677ec7e67f8a076c0eec5ca0a40cf5"
    );
}

#[test]
fn templates_follow_the_retarget_and_the_median_time() {
    let dir = TempDir::new("template");
    let g = genesis();
    let a = open(&dir.0.join("a.redb"), &g, &prog(1));
    // A clock behind the genesis: the timestamp is just above the median time past.
    let t = a.block_template(&prog(1), 5).unwrap();
    assert_eq!(t.block.header().timestamp, g.header().timestamp + 1);
    assert_eq!(t.block.header().bits(), Some(PowParams::devnet().genesis_bits));
    assert_eq!(t.seed, pow::INITIAL_SEED);
    // A sidechain chain has no templates.
    assert!(matches!(open_side_and_template(&dir.0), Err(ImportError::NotPow)));
}

fn open_side_and_template(dir: &Path) -> Result<node::Template, ImportError> {
    let params = ChainParams::side_devnet();
    let genesis = node::genesis::devnet_genesis(&params, &prog(1), 1, 10, 1_700_000_000_000).unwrap();
    let producer = node::ProducerKey::from_seed(&[1; 32]);
    let store = RedbStore::open(
        dir.join("side.redb"),
        ChainIdentity {
            profile: params.profile,
            network: params.network,
            genesis_hash: genesis.hash(),
        },
    )
    .unwrap();
    let chain = ChainService::open(
        store,
        ChainSetup {
            params,
            genesis,
            authority: Authority::Solo {
                producer_public: producer.public_key(),
                producer_key: Some(producer),
            },
            mempool: MempoolConfig::default(),
            max_block_bytes: 8 << 20,
            max_block_gas: 10_000_000,
        },
    )
    .unwrap();
    chain.block_template(&prog(1), 0)
}

#[test]
fn a_lighter_branch_transaction_the_new_branch_conflicts_with_is_reported_evicted() {
    let dir = TempDir::new("conflict");
    let g = genesis();
    let a = open(&dir.0.join("a.redb"), &g, &prog(1));
    let b = open(&dir.0.join("b.redb"), &g, &prog(2));
    // Both branches spend genesis coin 0, to different payees.
    let on_a = pay(0, &prog(21), &g);
    let on_b = pay(0, &prog(22), &g);
    a.submit(on_a.clone()).unwrap();
    mine(&a, &prog(1));
    b.submit(on_b.clone()).unwrap();
    mine(&b, &prog(2));
    mine(&b, &prog(2));
    let mut evictions = a.subscribe_evictions();
    for blk in blocks_of(&b) {
        a.import_block(blk).unwrap();
    }
    assert_eq!(a.tip(), b.tip());
    assert!(!a.in_pool(&on_a.id()));
    let ev = evictions.try_recv().expect("the double spend is reported");
    assert_eq!(ev.tx_id, on_a.id());
    assert!(
        ev.reason.contains("reorg") || ev.reason.contains("new branch"),
        "{}",
        ev.reason
    );
}

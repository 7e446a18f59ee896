//! Main-chain reorgs that go wrong half-way: a kill during a reorg (reopened on the same store), a
//! block body that does not match its header arriving before the honest one, and a reorg longer than
//! the side-branch body cache. A cheap hash stands in for Tensority.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::sync::Arc;

use ledger::ChainParams;
use node::ImportError;
use node::chain::ChainService;
use node::chain::pow::{ImportStatus, main_coinbase_tx};
use storage::{ChainIdentity, RedbStore, StoreRead, StoreWrite};
use types::{Block, Transaction};

use common::TempDir;
use common::pow::{blocks_of, genesis, mine, open, pay, prog};

fn identity_of(genesis: &Block) -> ChainIdentity {
    let params = ChainParams::main_devnet();
    ChainIdentity {
        profile: params.profile,
        network: params.network,
        genesis_hash: genesis.hash(),
    }
}

/// Two branches from genesis: `a` holds A1, A2 (A1 with a payment), `b` holds B1..=B`n` (B1 with
/// another payment).
fn two_branches(
    dir: &Path,
    g: &Block,
    a_len: usize,
    b_len: usize,
) -> (Arc<ChainService>, Arc<ChainService>, Transaction) {
    let a = open(&dir.join("a.redb"), g, &prog(1));
    let b = open(&dir.join("b.redb"), g, &prog(2));
    let only_a = pay(0, &prog(11), g);
    a.submit(only_a.clone()).unwrap();
    for _ in 0..a_len {
        mine(&a, &prog(1));
    }
    b.submit(pay(1, &prog(12), g)).unwrap();
    for _ in 0..b_len {
        mine(&b, &prog(2));
    }
    (a, b, only_a)
}

#[test]
fn a_reorg_killed_half_way_is_finished_on_reopen_with_every_block() {
    let dir = TempDir::new("killed");
    let g = genesis();
    let (a, b, only_a) = two_branches(&dir.0, &g, 2, 3);
    let a_blocks = blocks_of(&a);
    let b_blocks = blocks_of(&b);
    for blk in &b_blocks {
        a.import_block(blk.clone()).unwrap();
    }
    assert_eq!(a.tip(), b.tip());
    drop(a);
    let path = dir.0.join("a.redb");
    // Killed after unwinding A2 and A1 and committing B1 only (the store left at B1: B3 and B2 taken
    // back out by hand), then killed before anything of B was committed (the store at genesis).
    for expect_height in [1u64, 0] {
        {
            let store = RedbStore::open(&path, identity_of(&g)).unwrap();
            while store.tip().unwrap().unwrap().height > expect_height {
                store.unwind_tip().unwrap().unwrap();
            }
        }
        // On reopen the node moves to the heaviest branch it holds: B, with every block.
        let a = open(&path, &g, &prog(1));
        assert_eq!(
            a.tip(),
            b.tip(),
            "after a kill leaving the store at height {expect_height}"
        );
        assert_eq!(blocks_of(&a), b_blocks);
        assert_eq!(a.store().utxos().unwrap(), b.store().utxos().unwrap());
        // The old branch's blocks are still held (its payment is not lost).
        for blk in &a_blocks {
            assert_eq!(a.known_block(&blk.hash()).unwrap().as_deref(), Some(blk));
        }
        assert!(a_blocks[0].transactions().iter().any(|t| t.id() == only_a.id()));
    }
    // The old branch can still win if it becomes heavier (its bodies are all there).
    let a = open(&path, &g, &prog(1));
    assert_eq!(a.tip(), b.tip());
    let c = open(&dir.0.join("c.redb"), &g, &prog(3));
    for blk in &a_blocks {
        c.import_block(blk.clone()).unwrap();
    }
    for _ in 0..2 {
        mine(&c, &prog(3));
    }
    for blk in blocks_of(&c).into_iter().skip(2) {
        a.import_block(blk).unwrap();
    }
    assert_eq!(a.tip(), c.tip());
    assert_eq!(a.store().utxos().unwrap(), c.store().utxos().unwrap());
}

#[test]
fn a_body_that_does_not_match_its_header_does_not_ban_the_honest_block() {
    let dir = TempDir::new("mutated");
    let g = genesis();
    let (a, b, _) = two_branches(&dir.0, &g, 2, 3);
    let b_blocks = blocks_of(&b);
    let old_tip = a.tip();
    for blk in &b_blocks[..2] {
        assert_eq!(
            a.import_block(blk.clone()).unwrap().status,
            ImportStatus::SideBranch
        );
    }
    // B3 makes branch B heavier. Its header (valid proof of work) arrives first with another body:
    // a coinbase paying someone else, then no transactions at all, then B1's transactions.
    let honest = b_blocks[2].clone();
    let header = honest.header().clone();
    let other_coinbase = vec![main_coinbase_tx(a.params(), 3, 0, &prog(7)).unwrap()];
    let bodies = [other_coinbase, Vec::new(), b_blocks[0].transactions().to_vec()];
    for txs in bodies {
        let tampered = Block::new(header.clone(), txs).unwrap();
        assert_eq!(tampered.hash(), honest.hash());
        let err = a.import_block(tampered).unwrap_err();
        assert!(matches!(err, ImportError::Malformed(_)), "{err}");
        assert_eq!(a.tip(), old_tip);
    }
    // The honest block is accepted and wins.
    let out = a.import_block(honest.clone()).unwrap();
    assert_eq!(out.status, ImportStatus::BestChain);
    assert_eq!(a.tip(), b.tip());
    assert_eq!(blocks_of(&a), b_blocks);
}

#[test]
fn a_reorg_longer_than_the_side_cache_keeps_every_block() {
    let dir = TempDir::new("deep");
    let g = genesis();
    let (a, b, only_a) = two_branches(&dir.0, &g, 3, 5);
    a.set_side_cache_limit(2);
    let a_blocks = blocks_of(&a);
    for blk in blocks_of(&b) {
        a.import_block(blk).unwrap();
    }
    assert_eq!(a.tip(), b.tip());
    assert_eq!(blocks_of(&a), blocks_of(&b));
    assert_eq!(a.store().utxos().unwrap(), b.store().utxos().unwrap());
    assert!(a.in_pool(&only_a.id()));
    // The old branch is not marked invalid: its blocks are still known, and the branch can win back.
    for blk in &a_blocks {
        assert!(a.known_block(&blk.hash()).unwrap().is_some());
    }
    let c = open(&dir.0.join("c.redb"), &g, &prog(3));
    for blk in &a_blocks {
        c.import_block(blk.clone()).unwrap();
    }
    for _ in 0..3 {
        mine(&c, &prog(3));
    }
    for blk in blocks_of(&c).into_iter().skip(3) {
        a.import_block(blk).unwrap();
    }
    assert_eq!(a.tip(), c.tip());
    assert_eq!(a.store().utxos().unwrap(), c.store().utxos().unwrap());
}

#[test]
fn a_branch_whose_body_is_missing_is_set_aside_not_banned_and_taken_back_when_resent() {
    let dir = TempDir::new("missing");
    let g = genesis();
    let (a, b, _) = two_branches(&dir.0, &g, 2, 3);
    a.set_side_cache_limit(1);
    let old_tip = a.tip();
    let old_utxos = a.store().utxos().unwrap();
    let bb = blocks_of(&b);
    for blk in &bb[..2] {
        assert_eq!(
            a.import_block(blk.clone()).unwrap().status,
            ImportStatus::SideBranch
        );
    }
    // B1's body is lost (out of the memory cache, and out of the store by hand): a copy of it re-sent
    // for the known header is taken, not ignored as a duplicate.
    let b1 = bb[0].hash();
    assert_eq!(a.store().remove_side_blocks(&[b1], None).unwrap(), 1);
    assert!(a.known_block(&b1).unwrap().is_none());
    assert_eq!(
        a.import_block(bb[0].clone()).unwrap().status,
        ImportStatus::SideBranch
    );
    assert!(a.store().side_block(&b1).unwrap().is_some());
    // Lost again when B3 makes the branch heavier: the branch is set aside, the store is not touched,
    // and nothing is marked invalid.
    assert_eq!(a.store().remove_side_blocks(&[b1], None).unwrap(), 1);
    a.import_block(bb[2].clone()).unwrap();
    assert_eq!(a.tip(), old_tip);
    assert_eq!(a.store().utxos().unwrap(), old_utxos);
    // Delivered again, the branch wins.
    for blk in &bb {
        a.import_block(blk.clone()).unwrap();
    }
    assert_eq!(a.tip(), b.tip());
    assert_eq!(blocks_of(&a), bb);
}

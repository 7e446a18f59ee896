#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Compact block reconstruction: everything in the mempool, some missing then fetched, and collisions.

mod common;

use common::{block, tx};
use p2p::compact::{self, CompactBlock, CompactError, PartialBlock, reconstruct, salt, short_id};
use types::Transaction;

#[test]
fn all_transactions_in_mempool() {
    let b = block(5, 0, 8);
    let cb = CompactBlock::from_block(&b, &[]);
    assert_eq!(cb.prefilled.len(), 1, "coinbase position is always prefilled");
    assert_eq!(cb.short_ids.len(), 7);
    // The mempool holds the block's transactions (not the coinbase) among others, in any order.
    let mut mempool: Vec<Transaction> = (100..120).map(tx).collect();
    mempool.extend(b.transactions().iter().skip(1).rev().cloned());
    assert_eq!(reconstruct(&cb, &mempool).unwrap(), b);
}

#[test]
fn missing_then_fetched() {
    let b = block(6, 10, 10);
    let cb = CompactBlock::from_block(&b, &[4]);
    // Mempool lacks positions 2, 7 and 9.
    let mempool: Vec<Transaction> = b
        .transactions()
        .iter()
        .enumerate()
        .filter(|(i, _)| ![2, 7, 9].contains(i))
        .map(|(_, t)| t.clone())
        .collect();
    match reconstruct(&cb, &mempool) {
        Err(CompactError::Missing { indexes }) => assert_eq!(indexes, vec![2, 7, 9]),
        other => panic!("expected Missing, got {other:?}"),
    }
    let mut partial = PartialBlock::new(&cb, &mempool).unwrap();
    assert_eq!(partial.missing(), vec![2, 7, 9]);
    let fetched: Vec<Transaction> = [2, 7, 9].iter().map(|&i| b.transactions()[i].clone()).collect();
    // Wrong answers are refused without changing the partial block.
    assert!(matches!(
        partial.fill(&types::Hash([0; 32]), fetched.clone()),
        Err(CompactError::BadResponse(_))
    ));
    assert!(matches!(
        partial.fill(&b.hash(), fetched[..2].to_vec()),
        Err(CompactError::BadResponse(_))
    ));
    partial.fill(&b.hash(), fetched).unwrap();
    assert_eq!(partial.finish().unwrap(), b);
}

#[test]
fn lying_fill_fails_the_merkle_root() {
    let b = block(7, 20, 4);
    let cb = CompactBlock::from_block(&b, &[]);
    let mut partial = PartialBlock::new(&cb, std::iter::empty()).unwrap();
    assert_eq!(partial.missing(), vec![1, 2, 3]);
    partial.fill(&b.hash(), vec![tx(999), tx(21), tx(22)]).unwrap();
    assert!(matches!(
        partial.finish(),
        Err(CompactError::MerkleMismatch { .. })
    ));
}

#[test]
fn colliding_slots_are_fetched() {
    // Two slots of the block share a short ID: neither may be filled from the mempool.
    let b = block(8, 30, 5);
    let mut cb = CompactBlock::from_block(&b, &[]);
    let s = salt(&b.hash());
    assert_eq!(cb.short_ids[0], short_id(&s, &b.transactions()[1].id()));
    cb.short_ids[2] = cb.short_ids[0];
    let mempool: Vec<Transaction> = b.transactions().to_vec();
    let partial = PartialBlock::new(&cb, &mempool).unwrap();
    assert_eq!(partial.missing(), vec![1, 3]);
    let mut partial = partial;
    partial
        .fill(
            &b.hash(),
            vec![b.transactions()[1].clone(), b.transactions()[3].clone()],
        )
        .unwrap();
    assert_eq!(partial.finish().unwrap(), b);
}

#[test]
fn mempool_collision_is_caught_by_the_merkle_root() {
    // A mempool transaction that is not the block's has the short ID of slot 2 (simulated by writing
    // its short ID into the compact block): reconstruction picks it, the root check refuses the result,
    // and the receiver must fetch the full block.
    let b = block(9, 40, 4);
    let mut cb = CompactBlock::from_block(&b, &[]);
    let impostor = tx(777);
    cb.short_ids[1] = short_id(&salt(&b.hash()), &impostor.id());
    let mut mempool: Vec<Transaction> = b.transactions().to_vec();
    mempool.push(impostor);
    match reconstruct(&cb, &mempool) {
        Err(CompactError::MerkleMismatch { expected, .. }) => {
            assert_eq!(expected, b.header().transactions_merkle_root)
        }
        other => panic!("expected MerkleMismatch, got {other:?}"),
    }
}

#[test]
fn inconsistent_prefill_is_an_error() {
    let b = block(10, 50, 3);
    let mut cb = CompactBlock::from_block(&b, &[1]);
    cb.prefilled[1].index = 9;
    assert!(matches!(
        PartialBlock::new(&cb, std::iter::empty()),
        Err(CompactError::Inconsistent(_))
    ));
    let mut cb = CompactBlock::from_block(&b, &[1]);
    cb.prefilled.swap(0, 1);
    assert!(matches!(
        PartialBlock::new(&cb, std::iter::empty()),
        Err(CompactError::Inconsistent(_))
    ));
}

#[test]
fn salt_depends_on_the_block() {
    let id = tx(1).id();
    let a = short_id(&salt(&block(1, 0, 1).hash()), &id);
    let b = short_id(&salt(&block(2, 0, 1).hash()), &id);
    assert_ne!(a, b);
    assert_eq!(compact::SHORT_ID_LEN, a.0.len());
}

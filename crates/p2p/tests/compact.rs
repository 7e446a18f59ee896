#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Compact block reconstruction: everything in the mempool, some missing then fetched, and collisions.

mod common;

use common::{block, tx};
use p2p::compact::{self, CompactBlock, CompactError, PartialBlock, reconstruct, salt, short_id};
use types::{Profile, Transaction};

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
fn a_keyed_pool_is_read_only_where_a_slot_names_the_id() {
    // A pool that knows its IDs: transactions are taken out only for the slots, so a large pool
    // is scanned by its keys alone.
    let b = block(13, 80, 6);
    let cb = CompactBlock::from_block(&b, &[]);
    let mut pool: Vec<Transaction> = (200..260).map(tx).collect();
    pool.extend(b.transactions().iter().skip(1).cloned());
    let reads = std::cell::Cell::new(0usize);
    let keyed = pool.iter().enumerate().map(|(i, t)| (t.id(), i));
    let partial = PartialBlock::from_keyed(&cb, keyed, |i| {
        reads.set(reads.get() + 1);
        &pool[i]
    })
    .unwrap();
    assert_eq!(reads.get(), 5, "one read per filled slot, none for the other 60");
    assert_eq!(partial.into_block().unwrap(), b);

    // A pool whose key does not belong to its transaction is caught by the Merkle root.
    let liar = tx(999);
    let keyed = [(b.transactions()[2].id(), &liar)].into_iter().chain(
        b.transactions()
            .iter()
            .skip(1)
            .filter(|t| t.id() != b.transactions()[2].id())
            .map(|t| (t.id(), t)),
    );
    assert!(matches!(
        PartialBlock::from_keyed(&cb, keyed, |t| t).unwrap().into_block(),
        Err(CompactError::MerkleMismatch { .. })
    ));
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

fn limits() -> types::Limits {
    types::Limits::default()
}

#[test]
fn compact_block_bytes_are_the_compact_block_message_body() {
    let b = block(11, 60, 6);
    let cb = CompactBlock::from_block(&b, &[3]);
    let bytes = cb.encode();
    assert_eq!(
        CompactBlock::decode(&bytes, Profile::Main, &limits()).unwrap(),
        cb
    );
    // One format: the p2p message is version ‖ kind ‖ these bytes.
    let msg = p2p::Message::CompactBlock(cb.clone()).encode();
    assert_eq!(&msg[2..], &bytes[..]);
    // Trailing bytes, a cut and a count over the limit are typed errors.
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        CompactBlock::decode(&long, Profile::Main, &limits()),
        Err(types::DecodeError::TrailingBytes { .. })
    ));
    assert!(CompactBlock::decode(&bytes[..bytes.len() - 1], Profile::Main, &limits()).is_err());
    let tight = types::Limits {
        max_block_txs: 3,
        ..limits()
    };
    assert!(matches!(
        CompactBlock::decode(&bytes, Profile::Main, &tight),
        Err(types::DecodeError::LimitExceeded { .. })
    ));
    // The wrong profile's header does not decode.
    assert!(CompactBlock::decode(&bytes, Profile::Side, &limits()).is_err());
}

#[test]
fn into_block_is_finish_without_copies() {
    let b = block(12, 70, 5);
    let cb = CompactBlock::from_block(&b, &[]);
    let partial = PartialBlock::new(&cb, b.transactions()).unwrap();
    assert_eq!(partial.clone().into_block().unwrap(), b);
    let partial = PartialBlock::new(&cb, std::iter::empty()).unwrap();
    assert!(matches!(
        partial.into_block(),
        Err(CompactError::Missing { indexes }) if indexes == vec![1, 2, 3, 4]
    ));
}

proptest::proptest! {
    /// Compact blocks round-trip; arbitrary and mutated bytes decode or fail with a typed error and
    /// never panic (the chain's header codec accepts non-minimal varints, as the reference does, so
    /// a mutation may decode to the same compact block).
    #[test]
    fn compact_block_codec_never_panics(
        h in 1u64..1000,
        base in 0u64..1000,
        n in 1u64..8,
        pre in proptest::collection::vec(0usize..8, 0..4),
        junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
        pos in proptest::prelude::any::<usize>(),
        byte in proptest::prelude::any::<u8>(),
    ) {
        let cb = CompactBlock::from_block(&block(h, base, n), &pre);
        let bytes = cb.encode();
        proptest::prop_assert_eq!(CompactBlock::decode(&bytes, Profile::Main, &limits()).unwrap(), cb);
        let _ = CompactBlock::decode(&junk, Profile::Main, &limits());
        let mut mutated = bytes.clone();
        let i = pos % mutated.len();
        mutated[i] = byte;
        let _ = CompactBlock::decode(&mutated, Profile::Main, &limits());
        // Self-delimiting: no strict prefix decodes.
        proptest::prop_assert!(CompactBlock::decode(&bytes[..i], Profile::Main, &limits()).is_err());
    }
}

//! The per-seed cache: layout as the reference builds it, determinism, and the epoch store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use pow::matrix::{CELLS, DIM};
use pow::tensority::{Cache, MATRICES, reference_matrices};
use pow::{CacheStore, INITIAL_SEED};
use sha3::{Digest, Sha3_256};
use types::Hash;

#[test]
fn cache_holds_the_reference_int8_matrices_and_is_deterministic() {
    let seed = Hash([0x5a; 32]);
    let reference = reference_matrices(&seed);
    assert_eq!(reference.len(), MATRICES * CELLS, "16 MiB of int8");
    let a = Cache::new(&seed);
    let b = Cache::new(&seed);
    for m in 0..=255u8 {
        for r in 0..DIM {
            for c in 0..DIM {
                let want = reference[usize::from(m) * CELLS + r * DIM + c];
                assert_eq!(a.entry(m, r, c), Some(want), "matrix {m} ({r}, {c})");
                assert_eq!(b.entry(m, r, c), Some(want));
            }
        }
    }
    assert_eq!(a.entry(0, DIM, 0), None);
    assert_eq!(a.entry(0, 0, DIM), None);
    assert_eq!(reference_matrices(&seed), reference, "same seed, same matrices");
    assert_ne!(
        reference_matrices(&Hash([0x5b; 32])),
        reference,
        "another seed, other matrices"
    );
}

#[test]
fn first_scrypt_block_is_the_extended_seed() {
    // scrypt stores its input state as V[0] and the even blocks of pass 0 make matrix 0, so matrix
    // 0 row 0 starts with the 128-byte extended seed: seed, H(seed), H(H(seed)), H(H(H(seed))).
    let seed = INITIAL_SEED;
    let cache = Cache::new(&seed);
    let mut ext = seed.0.to_vec();
    for i in 0..3 {
        let next: [u8; 32] = Sha3_256::digest(&ext[i * 32..(i + 1) * 32]).into();
        ext.extend_from_slice(&next);
    }
    for (c, &byte) in ext.iter().enumerate() {
        assert_eq!(cache.entry(0, 0, c), Some(byte.cast_signed()), "column {c}");
    }
    // Matrix 1 starts with V[1] = BlockMix(V[0]) instead: not the extended seed.
    let row1: Vec<i8> = (0..128).map(|c| cache.entry(1, 0, c).unwrap()).collect();
    let ext_i8: Vec<i8> = ext.iter().map(|b| b.cast_signed()).collect();
    assert_ne!(row1, ext_i8);
}

#[test]
fn store_builds_once_per_seed_and_keeps_the_most_recent() {
    let store = CacheStore::new(2);
    let s1 = Hash([1; 32]);
    let s2 = Hash([2; 32]);
    let s3 = Hash([3; 32]);
    let c1 = store.get(&s1);
    assert!(
        Arc::ptr_eq(&c1, &store.get(&s1)),
        "second get shares the first build"
    );
    let c2 = store.get(&s2);
    assert_eq!(store.seeds(), vec![s2, s1]);
    store.get(&s1); // touch s1: s2 becomes the least recently used
    assert_eq!(store.seeds(), vec![s1, s2]);
    store.get(&s3);
    assert_eq!(store.seeds(), vec![s3, s1], "s2 evicted");
    // An evicted cache stays valid for whoever still holds it.
    assert_eq!(c2.seed(), &s2);
    assert!(!Arc::ptr_eq(&c2, &store.get(&s2)), "rebuilt after eviction");
}

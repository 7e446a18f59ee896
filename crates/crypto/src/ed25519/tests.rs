//! Single and batch verification agree on edge cases; the differences from the reference's
//! cofactorless rule are pinned down explicitly (see the crate README).

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use rand_core::OsRng;
use sha2::{Digest, Sha512};

use super::*;
use crate::chainkd::XPrv;

/// ℓ, the order of the prime subgroup, little-endian.
const ELL: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// Canonical encoding of the identity point (y = 1).
const IDENTITY: [u8; 32] = {
    let mut b = [0u8; 32];
    b[0] = 1;
    b
};

/// A non-canonical encoding of the identity: y = p + 1 = 2^255 − 18.
const IDENTITY_NON_CANONICAL: [u8; 32] = {
    let mut b = [0xffu8; 32];
    b[0] = 0xee;
    b[31] = 0x7f;
    b
};

/// A point of order 8 (from the ZIP-215 / "Taming the many EdDSAs" small-order list).
const ORDER_8: &str = "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a";

/// The reference's rule (Bytom `crypto/ed25519/ed25519.go` `Verify`), modelled here only to pin
/// down where it differs from ours: only the top 3 bits of `s` are checked, `A` must decode, and
/// the canonical encoding of `[s]B − [k]A` must equal the `R` bytes (cofactorless).
fn reference_rule(pk: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    if sig[63] & 224 != 0 {
        return false;
    }
    let Some(a) = CompressedEdwardsY(*pk).decompress() else {
        return false;
    };
    let k = Scalar::from_hash(
        Sha512::new()
            .chain_update(&sig[..32])
            .chain_update(pk)
            .chain_update(msg),
    );
    let mut s = [0u8; 32];
    s.copy_from_slice(&sig[32..]);
    // The reference multiplies by the unreduced s; B has order ℓ, so reducing is equivalent.
    let r = EdwardsPoint::vartime_double_scalar_mul_basepoint(&k, &-a, &Scalar::from_bytes_mod_order(s));
    r.compress().as_bytes()[..] == sig[..32]
}

fn batch_of(entries: &[([u8; 32], Vec<u8>, [u8; 64])]) -> Result<(), BatchError> {
    let mut b = BatchVerifier::new();
    for (pk, msg, sig) in entries {
        b.queue(pk, msg, sig);
    }
    b.verify(OsRng)
}

fn add_ell(s: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut carry = 0u16;
    for i in 0..32 {
        let sum = u16::from(s[i]) + u16::from(ELL[i]) + carry;
        out[i] = sum.to_le_bytes()[0];
        carry = sum >> 8;
    }
    assert_eq!(carry, 0);
    out
}

fn honest(seed: &[u8], msg: &[u8]) -> ([u8; 32], Vec<u8>, [u8; 64]) {
    let x = XPrv::root(seed);
    (x.xpub().public_key(), msg.to_vec(), x.sign(msg))
}

#[test]
fn wrong_lengths_are_false_not_panics() {
    let (pk, msg, sig) = honest(b"len", b"m");
    assert!(verify(&pk, &msg, &sig));
    assert!(!verify(&pk[..31], &msg, &sig));
    assert!(!verify(&[pk.as_slice(), &[0]].concat(), &msg, &sig));
    assert!(!verify(&pk, &msg, &sig[..63]));
    assert!(!verify(&pk, &msg, &[sig.as_slice(), &[0]].concat()));
    assert!(!verify(&[], &msg, &[]));
}

/// Honest signatures: accepted by our rule, the batch, and the reference's rule alike.
#[test]
fn honest_signatures_agree_everywhere() {
    let entries: Vec<_> = (0..20u8).map(|i| honest(&[i], &[i; 40])).collect();
    for (pk, msg, sig) in &entries {
        assert!(verify(pk, msg, sig));
        assert!(reference_rule(pk, msg, sig));
    }
    assert_eq!(batch_of(&entries), Ok(()));
    assert_eq!(batch_of(&[]), Ok(()));
}

/// `s ≥ ℓ` is rejected singly and in a batch. The reference only rejects `s ≥ 2^253`, so it
/// would accept `s + ℓ` (a malleated copy of a valid signature): a documented difference.
#[test]
fn non_canonical_s_rejected() {
    // Find (deterministically) a signature whose s + ℓ stays below 2^253 (about half do).
    let (pk, msg, mut sig) = (0u8..)
        .map(|i| honest(b"s", &[i]))
        .find(|(_, _, sig)| add_ell(&sig[32..])[31] & 224 == 0)
        .unwrap();
    let bumped = add_ell(&sig[32..]);
    sig[32..].copy_from_slice(&bumped);
    assert!(!verify(&pk, &msg, &sig));
    assert_eq!(
        batch_of(&[(pk, msg.clone(), sig)]),
        Err(BatchError { invalid: vec![0] })
    );
    assert!(
        reference_rule(&pk, &msg, &sig),
        "the reference accepts s + ℓ below 2^253"
    );
    // s with the top bits set is rejected by both.
    sig[63] |= 0xe0;
    assert!(!verify(&pk, &msg, &sig));
    assert!(!reference_rule(&pk, &msg, &sig));
}

/// Small-order public key and R: the cofactored equation holds trivially, so ZIP-215 accepts,
/// singly and in a batch, for every message. The reference's cofactorless check rejects
/// whenever `[k]A` is not the identity.
#[test]
fn small_order_key_accepted_consistently() {
    let a_bytes: [u8; 32] = hex::decode(ORDER_8).unwrap().try_into().unwrap();
    let a = CompressedEdwardsY(a_bytes).decompress().unwrap();
    let id = EdwardsPoint::default();
    assert!(a.is_small_order() && a != id);
    assert!(a + a + a + a != id, "order 8, not 4");
    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&IDENTITY);
    let mut reference_rejected = 0;
    let mut entries = Vec::new();
    for i in 0..16u8 {
        let msg = vec![i];
        assert!(verify(&a_bytes, &msg, &sig));
        if !reference_rule(&a_bytes, &msg, &sig) {
            reference_rejected += 1;
        }
        entries.push((a_bytes, msg, sig));
    }
    assert_eq!(batch_of(&entries), Ok(()));
    assert!(reference_rejected > 0, "cofactorless must reject some of these");

    // The identity as key: both rules accept (k·O = O).
    assert!(verify(&IDENTITY, b"x", &sig));
    assert!(reference_rule(&IDENTITY, b"x", &sig));
    assert_eq!(batch_of(&[(IDENTITY, b"x".to_vec(), sig)]), Ok(()));
}

/// Non-canonical encodings of R and A decode (ZIP-215) and are accepted singly and batched;
/// the reference rejects the non-canonical R because it compares canonical bytes.
#[test]
fn non_canonical_encodings_accepted_consistently() {
    assert_eq!(
        CompressedEdwardsY(IDENTITY_NON_CANONICAL).decompress(),
        Some(EdwardsPoint::default())
    );

    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&IDENTITY_NON_CANONICAL);
    assert!(verify(&IDENTITY, b"r", &sig));
    assert!(!reference_rule(&IDENTITY, b"r", &sig));
    assert_eq!(batch_of(&[(IDENTITY, b"r".to_vec(), sig)]), Ok(()));

    let mut sig = [0u8; 64];
    sig[..32].copy_from_slice(&IDENTITY);
    assert!(verify(&IDENTITY_NON_CANONICAL, b"a", &sig));
    assert!(reference_rule(&IDENTITY_NON_CANONICAL, b"a", &sig));
    assert_eq!(batch_of(&[(IDENTITY_NON_CANONICAL, b"a".to_vec(), sig)]), Ok(()));
}

/// Bytes that are not a point (for A or R) fail singly and in a batch.
#[test]
fn undecodable_points_rejected() {
    let mut not_a_point = [0u8; 32];
    not_a_point[0] = 2; // y = 2 has no x on the curve
    assert!(CompressedEdwardsY(not_a_point).decompress().is_none());
    let (pk, msg, sig) = honest(b"p", b"m");

    let mut bad_r = sig;
    bad_r[..32].copy_from_slice(&not_a_point);
    assert!(!verify(&pk, &msg, &bad_r));
    assert!(!verify(&not_a_point, &msg, &sig));
    let r = batch_of(&[
        (pk, msg.clone(), sig),
        (pk, msg.clone(), bad_r),
        (not_a_point, msg.clone(), sig),
    ]);
    assert_eq!(r, Err(BatchError { invalid: vec![1, 2] }));
}

/// A mixed batch fails and names exactly the bad entries; one bad entry anywhere is found.
#[test]
fn mixed_batch_names_bad_entries() {
    let good: Vec<_> = (0..32u8).map(|i| honest(&[i, 1], &[i; 10])).collect();
    for bad in [0usize, 13, 31] {
        let mut entries = good.clone();
        entries[bad].1.push(0); // message changed after signing
        assert_eq!(batch_of(&entries), Err(BatchError { invalid: vec![bad] }));
    }
    let mut entries = good.clone();
    entries[3].2[0] ^= 1;
    entries[20].2[40] ^= 1;
    assert_eq!(batch_of(&entries), Err(BatchError { invalid: vec![3, 20] }));

    // Malformed lengths are reported by position too.
    let mut b = BatchVerifier::new();
    for (pk, msg, sig) in &good[..3] {
        b.queue(pk, msg, sig);
    }
    assert_eq!(b.queue(&good[3].0[..31], &good[3].1, &good[3].2), 3);
    assert_eq!(b.len(), 4);
    assert_eq!(b.verify(OsRng), Err(BatchError { invalid: vec![3] }));
}

/// The same key signing many messages (the coalesced-key path of the batch) still agrees.
#[test]
fn many_signatures_one_key() {
    let x = XPrv::root(b"one key");
    let pk = x.xpub().public_key();
    let mut entries: Vec<_> = (0..50u32)
        .map(|i| (pk, i.to_le_bytes().to_vec(), x.sign(&i.to_le_bytes())))
        .collect();
    assert_eq!(batch_of(&entries), Ok(()));
    entries[25].2 = entries[24].2;
    assert_eq!(batch_of(&entries), Err(BatchError { invalid: vec![25] }));
}

/// Basepoint sanity for the reference model above: it accepts what it should.
#[test]
fn reference_model_rejects_forgery() {
    let (pk, msg, sig) = honest(b"model", b"m");
    let mut forged = sig;
    forged[..32].copy_from_slice(ED25519_BASEPOINT_POINT.compress().as_bytes());
    assert!(!reference_rule(&pk, &msg, &forged));
    assert!(!verify(&pk, &msg, &forged));
}

/// A large batch with bad entries spread, clustered, at the edges of the halves, or everywhere:
/// halving names exactly the entries that fail alone.
#[test]
fn halving_names_exactly_the_entries_that_fail_alone() {
    let x = XPrv::root(b"halving");
    let pk = x.xpub().public_key();
    let good: Vec<_> = (0..300u32)
        .map(|i| (pk, i.to_le_bytes().to_vec(), x.sign(&i.to_le_bytes())))
        .collect();
    let cases: Vec<Vec<usize>> = vec![
        vec![0],
        vec![299],
        vec![149, 150],
        vec![7, 8, 9, 10, 11, 12, 13],
        vec![1, 77, 150, 151, 152, 298],
        (0..300).step_by(3).collect(),
        (0..300).collect(),
    ];
    for bad in cases {
        let mut entries = good.clone();
        for &i in &bad {
            entries[i].1.push(1); // message changed after signing
        }
        let singly: Vec<usize> = (0..entries.len())
            .filter(|&i| !verify(&entries[i].0, &entries[i].1, &entries[i].2))
            .collect();
        assert_eq!(singly, bad);
        assert_eq!(batch_of(&entries), Err(BatchError { invalid: bad }));
    }
    assert_eq!(batch_of(&good), Ok(()));
    // Fewer entries than the one-by-one threshold, one bad.
    let mut few = good[..SINGLE_BELOW - 1].to_vec();
    few[2].1.push(1);
    assert_eq!(batch_of(&few), Err(BatchError { invalid: vec![2] }));
}

//! The signing and verification the core needs, behind a trait so that a host can cache or
//! batch them (the simulator memoises results across runs; a node may verify in parallel).

use std::fmt;

use crypto::bls::{ProofOfPossession, PublicKey, SecretKey, Signature};

/// Signature operations used by the core. Implementations must be pure functions of their
/// arguments (caching is allowed, changing answers is not).
pub trait Crypto: Send + Sync + fmt::Debug {
    /// Signs `msg` with `key` (the vote domain).
    fn sign(&self, key: &SecretKey, msg: &[u8]) -> Signature;
    /// Checks `sig` is an aggregate by all of `pks` over `msg`; false for an empty key list.
    fn verify(&self, sig: &Signature, pks: &[PublicKey], msg: &[u8]) -> bool;
    /// Checks a proof of possession.
    fn verify_possession(&self, pk: &PublicKey, pop: &ProofOfPossession) -> bool {
        pk.verify_possession(pop)
    }
}

/// Plain BLS with no caching.
#[derive(Debug, Default, Clone, Copy)]
pub struct Bls;

impl Crypto for Bls {
    fn sign(&self, key: &SecretKey, msg: &[u8]) -> Signature {
        key.sign(msg)
    }

    fn verify(&self, sig: &Signature, pks: &[PublicKey], msg: &[u8]) -> bool {
        match pks {
            [] => false,
            [pk] => sig.verify(pk, msg),
            _ => sig.verify_aggregate(pks, msg),
        }
    }
}

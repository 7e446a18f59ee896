//! The signing and verification the core needs, behind a trait so that a host can cache or
//! batch them (the simulator memoises results across runs; a node may verify in parallel).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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

/// Signature work a core performed since the last [`crate::bbft::Bbft::take_verify_work`], for a
/// host or simulator to charge CPU time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyWork {
    /// BLS signature or same-message aggregate verifications (one per [`Crypto::verify`] call,
    /// i.e. one pairing check each).
    pub pairing_checks: u64,
    /// Signatures added into aggregates (group aggregates, certificates, timeout
    /// certificates, batched vote checks).
    pub signatures_aggregated: u64,
}

/// The core's view of a [`Crypto`]: forwards every call and counts the work.
#[derive(Debug)]
pub(crate) struct Counted {
    inner: Arc<dyn Crypto>,
    pairings: AtomicU64,
    aggregated: AtomicU64,
}

impl Counted {
    pub(crate) fn new(inner: Arc<dyn Crypto>) -> Counted {
        Counted {
            inner,
            pairings: AtomicU64::new(0),
            aggregated: AtomicU64::new(0),
        }
    }

    /// Adds signatures into one (counted); `None` for an empty list or an identity sum.
    pub(crate) fn aggregate(&self, sigs: &[Signature]) -> Option<Signature> {
        let n = u64::try_from(sigs.len()).unwrap_or(u64::MAX);
        self.aggregated.fetch_add(n, Ordering::Relaxed);
        Signature::aggregate(sigs).ok()
    }

    /// The work counted so far, and resets it.
    pub(crate) fn take(&self) -> VerifyWork {
        VerifyWork {
            pairing_checks: self.pairings.swap(0, Ordering::Relaxed),
            signatures_aggregated: self.aggregated.swap(0, Ordering::Relaxed),
        }
    }
}

impl Crypto for Counted {
    fn sign(&self, key: &SecretKey, msg: &[u8]) -> Signature {
        self.inner.sign(key, msg)
    }

    fn verify(&self, sig: &Signature, pks: &[PublicKey], msg: &[u8]) -> bool {
        self.pairings.fetch_add(1, Ordering::Relaxed);
        self.inner.verify(sig, pks, msg)
    }

    fn verify_possession(&self, pk: &PublicKey, pop: &ProofOfPossession) -> bool {
        self.inner.verify_possession(pk, pop)
    }
}

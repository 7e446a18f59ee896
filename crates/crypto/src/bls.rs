//! BLS12-381 signatures for consensus votes, in the "minimal public key" form: public keys are
//! 48-byte compressed G1 points, signatures 96-byte compressed G2 points.
//!
//! # Consensus
//! The scheme is the proof-of-possession ciphersuite of the IETF BLS draft
//! (`draft-irtf-cfrg-bls-signature-05`, §4.2.3), as used by Ethereum's consensus layer:
//! votes are signed under [`VOTE_DST`], proofs of possession under [`POP_DST`]. Aggregates of
//! signatures over one message are checked with `FastAggregateVerify`, which is only sound when
//! every public key in the set has had its proof of possession checked
//! ([`PublicKey::verify_possession`]); otherwise a rogue key `pk' = g·x − pk` lets one signer
//! forge an aggregate "signed" by `pk` (the tests demonstrate this).
//!
//! Every decoded key and signature is subgroup-checked and the point at infinity is rejected,
//! so values of these types are always valid group elements.

use std::fmt;
use std::hash::{Hash, Hasher};

use blst::BLST_ERROR;
use blst::min_pk as imp;
use rand_core::{CryptoRng, RngCore};
use zeroize::Zeroize;

#[cfg(test)]
mod tests;

/// Domain separation tag for consensus signatures (votes, proposals): the IETF POP ciphersuite
/// signature tag.
pub const VOTE_DST: &[u8] = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
/// Domain separation tag for proofs of possession: the IETF POP ciphersuite proof tag, distinct
/// from [`VOTE_DST`] so that a proof can never be replayed as a vote and vice versa.
pub const POP_DST: &[u8] = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";

/// Errors from decoding or combining BLS values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlsError {
    /// The byte string has the wrong length for the value.
    #[error("wrong length: expected {expected} bytes, got {got}")]
    InvalidLength {
        /// The required length.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// The bytes are not a valid compressed point or scalar encoding.
    #[error("invalid encoding")]
    InvalidEncoding,
    /// The point is the identity, which is never a valid key or signature.
    #[error("point at infinity")]
    Infinity,
    /// The point is on the curve but outside the prime-order subgroup.
    #[error("point not in the prime-order subgroup")]
    NotInGroup,
    /// An aggregate of nothing was requested.
    #[error("cannot aggregate an empty set")]
    EmptyAggregate,
}

impl From<BLST_ERROR> for BlsError {
    fn from(e: BLST_ERROR) -> Self {
        match e {
            BLST_ERROR::BLST_PK_IS_INFINITY => BlsError::Infinity,
            BLST_ERROR::BLST_POINT_NOT_IN_GROUP => BlsError::NotInGroup,
            BLST_ERROR::BLST_AGGR_TYPE_MISMATCH => BlsError::EmptyAggregate,
            _ => BlsError::InvalidEncoding,
        }
    }
}

/// Compressed encodings of the identity: the compression and infinity flags, then zeros.
const G1_INFINITY: [u8; 48] = {
    let mut b = [0u8; 48];
    b[0] = 0xc0;
    b
};
const G2_INFINITY: [u8; 96] = {
    let mut b = [0u8; 96];
    b[0] = 0xc0;
    b
};

fn check_len(bytes: &[u8], expected: usize) -> Result<(), BlsError> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(BlsError::InvalidLength {
            expected,
            got: bytes.len(),
        })
    }
}

/// A BLS secret key (a scalar). Zeroized on drop; `Debug` never shows it.
#[derive(Clone)]
pub struct SecretKey(imp::SecretKey);

impl SecretKey {
    /// Length of the big-endian scalar encoding.
    pub const LEN: usize = 32;

    /// Derives a key deterministically from 32 bytes of input key material (IETF `KeyGen`).
    pub fn from_seed(seed: &[u8; 32]) -> SecretKey {
        match imp::SecretKey::key_gen(seed, &[]) {
            Ok(sk) => SecretKey(sk),
            // key_gen fails only for input key material shorter than 32 bytes, which the
            // array type rules out.
            Err(_) => unreachable!("KeyGen accepts 32 bytes of key material"),
        }
    }

    /// Draws a fresh key from `rng`.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> SecretKey {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let sk = SecretKey::from_seed(&seed);
        seed.zeroize();
        sk
    }

    /// Decodes a big-endian scalar; rejects zero and values not below the group order.
    pub fn from_bytes(bytes: &[u8]) -> Result<SecretKey, BlsError> {
        check_len(bytes, Self::LEN)?;
        imp::SecretKey::from_bytes(bytes)
            .map(SecretKey)
            .map_err(|_| BlsError::InvalidEncoding)
    }

    /// The big-endian scalar encoding. Handle with care: this is the secret.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_point(self.0.sk_to_pk())
    }

    /// Signs `msg` under [`VOTE_DST`].
    pub fn sign(&self, msg: &[u8]) -> Signature {
        Signature::from_point(self.0.sign(msg, VOTE_DST, &[]))
    }

    /// Proves knowledge of this key: a signature over the compressed public key under
    /// [`POP_DST`]. Registering a consensus key requires one.
    pub fn prove_possession(&self) -> ProofOfPossession {
        let pk = self.public_key().to_bytes();
        ProofOfPossession(Signature::from_point(self.0.sign(&pk, POP_DST, &[])))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// A BLS public key: a compressed G1 point, always a valid non-identity subgroup element.
#[derive(Clone, Copy)]
pub struct PublicKey {
    point: imp::PublicKey,
    bytes: [u8; 48],
}

impl PublicKey {
    /// Length of the compressed encoding.
    pub const LEN: usize = 48;

    fn from_point(point: imp::PublicKey) -> PublicKey {
        PublicKey {
            bytes: point.compress(),
            point,
        }
    }

    /// Decodes a compressed G1 point; rejects the identity and points outside the subgroup.
    pub fn from_bytes(bytes: &[u8]) -> Result<PublicKey, BlsError> {
        check_len(bytes, Self::LEN)?;
        let point = imp::PublicKey::uncompress(bytes)?;
        point.validate()?;
        Ok(PublicKey::from_point(point))
    }

    /// The compressed encoding.
    pub fn to_bytes(&self) -> [u8; 48] {
        self.bytes
    }

    /// Checks `pop` proves possession of this key's secret.
    pub fn verify_possession(&self, pop: &ProofOfPossession) -> bool {
        pop.0
            .point
            .verify(false, &self.bytes, POP_DST, &[], &self.point, false)
            == BLST_ERROR::BLST_SUCCESS
    }

    /// The sum of `pks`: verifying against it is verifying an aggregate signature by all of them
    /// (sound only for keys with checked proofs of possession). Lets a verifier cache the sum
    /// for a signer set. Fails on an empty set or when the sum is the identity.
    pub fn aggregate(pks: &[PublicKey]) -> Result<PublicKey, BlsError> {
        let refs: Vec<&imp::PublicKey> = pks.iter().map(|p| &p.point).collect();
        if refs.is_empty() {
            return Err(BlsError::EmptyAggregate);
        }
        let agg = imp::AggregatePublicKey::aggregate(&refs, false)?;
        // A sum of subgroup points stays in the subgroup; only the identity must be refused.
        let pk = PublicKey::from_point(agg.to_public_key());
        if pk.bytes == G1_INFINITY {
            Err(BlsError::Infinity)
        } else {
            Ok(pk)
        }
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for PublicKey {}
impl Hash for PublicKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}
impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.bytes.cmp(&other.bytes)
    }
}
impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.bytes))
    }
}

/// A BLS signature (single or aggregate): a compressed G2 point, always a valid non-identity
/// subgroup element.
#[derive(Clone, Copy)]
pub struct Signature {
    point: imp::Signature,
    bytes: [u8; 96],
}

impl Signature {
    /// Length of the compressed encoding.
    pub const LEN: usize = 96;

    fn from_point(point: imp::Signature) -> Signature {
        Signature {
            bytes: point.compress(),
            point,
        }
    }

    /// Decodes a compressed G2 point; rejects the identity and points outside the subgroup.
    pub fn from_bytes(bytes: &[u8]) -> Result<Signature, BlsError> {
        check_len(bytes, Self::LEN)?;
        let point = imp::Signature::uncompress(bytes)?;
        point.validate(true)?;
        Ok(Signature::from_point(point))
    }

    /// The compressed encoding.
    pub fn to_bytes(&self) -> [u8; 96] {
        self.bytes
    }

    /// Checks this is `pk`'s signature over `msg` under [`VOTE_DST`].
    pub fn verify(&self, pk: &PublicKey, msg: &[u8]) -> bool {
        // Both points were subgroup-checked on construction.
        self.point.verify(false, msg, VOTE_DST, &[], &pk.point, false) == BLST_ERROR::BLST_SUCCESS
    }

    /// Adds signatures into one. Fails on an empty slice or if the sum is the identity.
    pub fn aggregate(sigs: &[Signature]) -> Result<Signature, BlsError> {
        let refs: Vec<&imp::Signature> = sigs.iter().map(|s| &s.point).collect();
        if refs.is_empty() {
            return Err(BlsError::EmptyAggregate);
        }
        let agg = imp::AggregateSignature::aggregate(&refs, false)?;
        // A sum of subgroup points stays in the subgroup; only the identity must be refused.
        let sig = Signature::from_point(agg.to_signature());
        if sig.bytes == G2_INFINITY {
            Err(BlsError::Infinity)
        } else {
            Ok(sig)
        }
    }

    /// Checks this is an aggregate of signatures by every key in `pks` over the same `msg`
    /// (`FastAggregateVerify`). Every key must have a verified proof of possession. False for
    /// an empty key set.
    pub fn verify_aggregate(&self, pks: &[PublicKey], msg: &[u8]) -> bool {
        match PublicKey::aggregate(pks) {
            Ok(agg) => self.verify(&agg, msg),
            Err(_) => false,
        }
    }
}

impl PartialEq for Signature {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}
impl Eq for Signature {}
impl Hash for Signature {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}
impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({})", hex::encode(self.bytes))
    }
}

/// A proof of possession of a secret key: a signature over the compressed public key under
/// [`POP_DST`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProofOfPossession(Signature);

impl ProofOfPossession {
    /// Length of the compressed encoding.
    pub const LEN: usize = 96;

    /// Decodes a compressed G2 point (same checks as [`Signature::from_bytes`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<ProofOfPossession, BlsError> {
        Signature::from_bytes(bytes).map(ProofOfPossession)
    }

    /// The compressed encoding.
    pub fn to_bytes(&self) -> [u8; 96] {
        self.0.to_bytes()
    }
}

impl fmt::Debug for ProofOfPossession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProofOfPossession({})", hex::encode(self.0.bytes))
    }
}

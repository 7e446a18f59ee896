//! Signature and hash suites behind traits, so that code above this crate can be written once
//! for any suite: [`Standard`] (chainkd ed25519 + SHA3-256, byte-compatible with Bytom/Vapor) and
//! [`NationalStandard`] (SM2 with SM3 + SM3, per GB/T 32918.2 and GB/T 32905).

use std::fmt;

use rand_core::{CryptoRng, RngCore};

use crate::chainkd::XPrv;
use crate::hash::{self, Hasher256, Sha3Hasher, Sm3Hasher};
use crate::{ed25519, sm2};

/// A public key given to [`SignatureScheme::public_key_from_bytes`] was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {scheme} public key: {len} bytes")]
#[non_exhaustive]
pub struct PublicKeyError {
    /// The scheme's [`SignatureScheme::NAME`].
    pub scheme: &'static str,
    /// Length of the rejected encoding.
    pub len: usize,
}

/// A 256-bit hash function.
pub trait HashFunction {
    /// Short name, e.g. `"sha3-256"`.
    const NAME: &'static str;
    /// Its incremental form.
    type Hasher: Hasher256;

    /// The digest of `data`.
    fn digest(data: &[u8]) -> [u8; hash::DIGEST_LEN];

    /// A fresh incremental hasher.
    fn hasher() -> Self::Hasher {
        Self::Hasher::default()
    }
}

/// A signature scheme: key generation, signing, verification and fixed encodings.
pub trait SignatureScheme {
    /// Short name, e.g. `"ed25519"`.
    const NAME: &'static str;
    /// Length of an encoded public key.
    const PUBLIC_KEY_LEN: usize;
    /// Length of an encoded signature.
    const SIGNATURE_LEN: usize;
    /// The secret key: wiped on drop, redacted in `Debug`.
    type SigningKey: Clone + fmt::Debug;
    /// The public key.
    type PublicKey: Clone + Eq + fmt::Debug;
    /// An encoded signature, [`Self::SIGNATURE_LEN`] bytes.
    type Signature: AsRef<[u8]> + Clone + Eq + fmt::Debug;

    /// A fresh random signing key.
    fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self::SigningKey;
    /// The public key of `key`.
    fn public_key(key: &Self::SigningKey) -> Self::PublicKey;
    /// Signs `msg` (deterministic: the same key and message give the same signature).
    fn sign(key: &Self::SigningKey, msg: &[u8]) -> Self::Signature;
    /// Checks `sig` over `msg`; false for any malformed input, never a panic.
    fn verify(public: &Self::PublicKey, msg: &[u8], sig: &[u8]) -> bool;
    /// The fixed-length encoding of `public`.
    fn public_key_to_bytes(public: &Self::PublicKey) -> Vec<u8>;
    /// Parses an encoding made by [`SignatureScheme::public_key_to_bytes`].
    fn public_key_from_bytes(bytes: &[u8]) -> Result<Self::PublicKey, PublicKeyError>;
}

/// A complete suite: one signature scheme and one hash function.
pub trait Suite {
    /// Short name, e.g. `"standard"`.
    const NAME: &'static str;
    /// The suite's signature scheme.
    type Signer: SignatureScheme;
    /// The suite's hash function.
    type Hash: HashFunction;
}

/// SHA3-256.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sha3_256;

impl HashFunction for Sha3_256 {
    const NAME: &'static str = "sha3-256";
    type Hasher = Sha3Hasher;

    fn digest(data: &[u8]) -> [u8; hash::DIGEST_LEN] {
        hash::sha3_256(data)
    }
}

/// SM3.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sm3;

impl HashFunction for Sm3 {
    const NAME: &'static str = "sm3";
    type Hasher = Sm3Hasher;

    fn digest(data: &[u8]) -> [u8; hash::DIGEST_LEN] {
        hash::sm3(data)
    }
}

/// ed25519 with chainkd keys: the signing key is an [`XPrv`], the public key the 32-byte
/// ed25519 key of its xpub, signatures are RFC 8032 and verified under the crate's ZIP-215 rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ed25519;

impl SignatureScheme for Ed25519 {
    const NAME: &'static str = "ed25519";
    const PUBLIC_KEY_LEN: usize = ed25519::PUBLIC_KEY_LEN;
    const SIGNATURE_LEN: usize = ed25519::SIGNATURE_LEN;
    type SigningKey = XPrv;
    type PublicKey = [u8; ed25519::PUBLIC_KEY_LEN];
    type Signature = [u8; ed25519::SIGNATURE_LEN];

    fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> XPrv {
        XPrv::generate(rng)
    }

    fn public_key(key: &XPrv) -> Self::PublicKey {
        key.xpub().public_key()
    }

    fn sign(key: &XPrv, msg: &[u8]) -> Self::Signature {
        key.sign(msg)
    }

    fn verify(public: &Self::PublicKey, msg: &[u8], sig: &[u8]) -> bool {
        ed25519::verify(public, msg, sig)
    }

    fn public_key_to_bytes(public: &Self::PublicKey) -> Vec<u8> {
        public.to_vec()
    }

    fn public_key_from_bytes(bytes: &[u8]) -> Result<Self::PublicKey, PublicKeyError> {
        let err = PublicKeyError {
            scheme: Self::NAME,
            len: bytes.len(),
        };
        let pk = <[u8; ed25519::PUBLIC_KEY_LEN]>::try_from(bytes).map_err(|_| err.clone())?;
        // Same acceptance as verification: any encoding of a curve point.
        ed25519_zebra::VerificationKey::try_from(pk).map_err(|_| err)?;
        Ok(pk)
    }
}

/// SM2 with SM3 and the default distinguishing identifier `1234567812345678`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sm2;

impl SignatureScheme for Sm2 {
    const NAME: &'static str = "sm2";
    const PUBLIC_KEY_LEN: usize = sm2::PUBLIC_KEY_LEN;
    const SIGNATURE_LEN: usize = sm2::SIGNATURE_LEN;
    type SigningKey = sm2::Sm2SigningKey;
    type PublicKey = sm2::Sm2PublicKey;
    type Signature = [u8; sm2::SIGNATURE_LEN];

    fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self::SigningKey {
        sm2::Sm2SigningKey::generate(rng)
    }

    fn public_key(key: &Self::SigningKey) -> Self::PublicKey {
        key.public_key()
    }

    fn sign(key: &Self::SigningKey, msg: &[u8]) -> Self::Signature {
        key.sign(msg)
    }

    fn verify(public: &Self::PublicKey, msg: &[u8], sig: &[u8]) -> bool {
        public.verify(msg, sig)
    }

    fn public_key_to_bytes(public: &Self::PublicKey) -> Vec<u8> {
        public.to_bytes().to_vec()
    }

    fn public_key_from_bytes(bytes: &[u8]) -> Result<Self::PublicKey, PublicKeyError> {
        // Only the fixed uncompressed form, so that one key has one encoding on chain.
        if bytes.len() != sm2::PUBLIC_KEY_LEN {
            return Err(PublicKeyError {
                scheme: Self::NAME,
                len: bytes.len(),
            });
        }
        sm2::Sm2PublicKey::from_sec1_bytes(bytes).map_err(|_| PublicKeyError {
            scheme: Self::NAME,
            len: bytes.len(),
        })
    }
}

/// The default suite, byte-compatible with Bytom/Vapor: chainkd ed25519 and SHA3-256.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standard;

impl Suite for Standard {
    const NAME: &'static str = "standard";
    type Signer = Ed25519;
    type Hash = Sha3_256;
}

/// The Chinese national-standard suite: SM2 signatures (GB/T 32918.2) and SM3 (GB/T 32905);
/// SM4 (GB/T 32907) for encryption at rest lives in [`crate::sm4`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NationalStandard;

impl Suite for NationalStandard {
    const NAME: &'static str = "national-standard";
    type Signer = Sm2;
    type Hash = Sm3;
}

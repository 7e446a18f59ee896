//! chainkd: ed25519 keys extended with a 32-byte chain code, byte-compatible with the key
//! derivation of Bytom v1.1.0 and Vapor (`crypto/ed25519/chainkd` in both).
//!
//! An [`XPrv`] is a 32-byte scalar (little-endian, *not* reduced mod ℓ) followed by a 32-byte chain
//! code; an [`XPub`] is the 32-byte ed25519 point `scalar·B` followed by the same chain code.
//! Children are derived with HMAC-SHA512 keyed by the chain code: hardened children from the
//! secret scalar, non-hardened children from the public point, so that a non-hardened child
//! [`XPub`] can be computed without the secret ([`XPub::child`] equals the public half of
//! [`XPrv::child`] with `hardened = false`).

pub mod path;

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use hmac::{Hmac, Mac};
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha512};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::ed25519;

/// Length of an [`XPrv`] and of an [`XPub`] in bytes.
pub const EXTENDED_KEY_LEN: usize = 64;
/// Length of an [`ExpandedPrivateKey`] in bytes.
pub const EXPANDED_KEY_LEN: usize = 64;

type HmacSha512 = Hmac<Sha512>;

/// What went wrong with a chainkd key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainKdError {
    /// A hex key string was not exactly `expected` characters long.
    #[error("bad key string: {got} hex characters, expected {expected}")]
    BadKeyStringLength {
        /// Characters received.
        got: usize,
        /// Characters required (twice the key length).
        expected: usize,
    },
    /// A hex key string contained a character that is not a hex digit.
    #[error("bad key string: not hex ({0})")]
    BadHex(String),
    /// A byte key was not exactly `expected` bytes long.
    #[error("bad key length: {got} bytes, expected {expected}")]
    BadKeyLength {
        /// Bytes received.
        got: usize,
        /// Bytes required.
        expected: usize,
    },
    /// The first 32 bytes of an xpub do not encode a curve point, so no child can be derived.
    #[error("xpub's public key is not a valid ed25519 point")]
    InvalidPublicKey,
    /// Adding the derived offset to the parent scalar carried past 256 bits. Keys made by
    /// [`XPrv::root`] and its descendants never reach this; only a crafted xprv can.
    #[error("non-hardened derivation overflowed the 256-bit scalar")]
    ScalarOverflow,
}

/// Clears the low 3 bits (cofactor) and the top 3 bits, then sets bit 254. One bit tighter than
/// ed25519's own clamping, so that non-hardened children keep bit 254 set without overflowing.
fn prune_root_scalar(s: &mut [u8; 64]) {
    s[0] &= 248;
    s[31] &= 31;
    s[31] |= 64;
}

/// Clears the low 3 bits and the top 23 bits of a non-hardened offset, bounding how far repeated
/// derivation can move the scalar.
fn prune_intermediate_scalar(f: &mut [u8; 64]) {
    f[0] &= 248;
    f[29] &= 1;
    f[30] = 0;
    f[31] = 0;
}

fn hmac_sha512(key: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; 64]> {
    #[allow(clippy::expect_used)] // HMAC takes keys of any length (RFC 2104); hmac never errs here.
    let mut mac = <HmacSha512 as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    for part in parts {
        mac.update(part);
    }
    let mut out = Zeroizing::new([0u8; 64]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

/// `scalar·B` encoded, for a 32-byte little-endian scalar that need not be reduced.
fn public_point(scalar: &[u8; 32]) -> [u8; 32] {
    // B has order ℓ, so reducing the scalar first gives the same point.
    let s = Zeroizing::new(Scalar::from_bytes_mod_order(*scalar));
    EdwardsPoint::mul_base(&s).compress().to_bytes()
}

fn split_scalar(key: &[u8; 64]) -> Zeroizing<[u8; 32]> {
    let mut s = Zeroizing::new([0u8; 32]);
    s.copy_from_slice(&key[..32]);
    s
}

fn decode_hex_64(s: &str) -> Result<Zeroizing<[u8; 64]>, ChainKdError> {
    if s.len() != 2 * EXTENDED_KEY_LEN {
        return Err(ChainKdError::BadKeyStringLength {
            got: s.len(),
            expected: 2 * EXTENDED_KEY_LEN,
        });
    }
    let mut out = Zeroizing::new([0u8; 64]);
    hex::decode_to_slice(s, &mut out[..]).map_err(|e| ChainKdError::BadHex(e.to_string()))?;
    Ok(out)
}

/// An extended private key: secret scalar (32 bytes) and chain code (32 bytes).
///
/// The bytes are wiped on drop. `Debug` prints `XPrv(<redacted>)`; there is no `Display` and no
/// serde: the only ways out are [`XPrv::expose_secret_bytes`] and [`XPrv::expose_hex`].
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct XPrv([u8; EXTENDED_KEY_LEN]);

impl XPrv {
    /// A new random root key: 64 bytes from `rng` fed through [`XPrv::root`] (reference `NewXPrv`).
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut entropy = Zeroizing::new([0u8; 64]);
        rng.fill_bytes(&mut entropy[..]);
        Self::root(&entropy[..])
    }

    /// The root key for `seed`: HMAC-SHA512 keyed by `"Root"`, scalar pruned (reference `RootXPrv`).
    pub fn root(seed: &[u8]) -> Self {
        let mut out = hmac_sha512(b"Root", &[seed]);
        prune_root_scalar(&mut out);
        Self(*out)
    }

    /// Wraps 64 raw bytes (scalar then chain code) without any check, as the reference does.
    pub fn from_bytes(bytes: [u8; EXTENDED_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Parses 64 bytes from a slice of exactly that length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, ChainKdError> {
        let arr = <[u8; EXTENDED_KEY_LEN]>::try_from(bytes).map_err(|_| ChainKdError::BadKeyLength {
            got: bytes.len(),
            expected: EXTENDED_KEY_LEN,
        })?;
        Ok(Self(arr))
    }

    /// Parses the 128-character hex form (reference `XPrv.UnmarshalText`; either letter case).
    pub fn from_hex(s: &str) -> Result<Self, ChainKdError> {
        Ok(Self(*decode_hex_64(s)?))
    }

    /// The raw secret bytes. Named so that every use is visible in review.
    pub fn expose_secret_bytes(&self) -> &[u8; EXTENDED_KEY_LEN] {
        &self.0
    }

    /// The lower-case hex form (reference `XPrv.MarshalText`), wiped when dropped.
    pub fn expose_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0))
    }

    fn chain_code(&self) -> &[u8] {
        &self.0[32..]
    }

    /// The extended public key: `scalar·B` and the same chain code (reference `XPrv.XPub`).
    pub fn xpub(&self) -> XPub {
        let mut out = [0u8; EXTENDED_KEY_LEN];
        out[..32].copy_from_slice(&public_point(&split_scalar(&self.0)));
        out[32..].copy_from_slice(self.chain_code());
        XPub(out)
    }

    /// The child selected by `sel` (reference `XPrv.Child`). A hardened child depends on the
    /// secret scalar and has no public counterpart; a non-hardened child's xpub equals
    /// `self.xpub().child(sel)`.
    ///
    /// # Errors
    /// [`ChainKdError::ScalarOverflow`] for a non-hardened child of a crafted xprv whose scalar is
    /// so close to 2^256 that the addition carries out (the reference panics there).
    pub fn child(&self, sel: &[u8], hardened: bool) -> Result<Self, ChainKdError> {
        if hardened {
            Ok(self.hardened_child(sel))
        } else {
            self.non_hardened_child(sel)
        }
    }

    fn hardened_child(&self, sel: &[u8]) -> Self {
        let mut out = hmac_sha512(self.chain_code(), &[b"H", &self.0[..32], sel]);
        prune_root_scalar(&mut out);
        Self(*out)
    }

    fn non_hardened_child(&self, sel: &[u8]) -> Result<Self, ChainKdError> {
        let xpub = self.xpub();
        let mut out = hmac_sha512(self.chain_code(), &[b"N", &xpub.0[..32], sel]);
        prune_intermediate_scalar(&mut out);
        // 256-bit little-endian addition of the parent scalar and the pruned offset.
        let mut carry = 0u16;
        for (o, p) in out[..32].iter_mut().zip(&self.0[..32]) {
            let sum = u16::from(*o) + u16::from(*p) + carry;
            *o = sum.to_le_bytes()[0];
            carry = sum >> 8;
        }
        if carry != 0 {
            return Err(ChainKdError::ScalarOverflow);
        }
        Ok(Self(*out))
    }

    /// Non-hardened derivation along `path`: `derive([a, b]) == child(a, false)?.child(b, false)?`
    /// (reference `XPrv.Derive`).
    pub fn derive<P: AsRef<[u8]>>(&self, path: &[P]) -> Result<Self, ChainKdError> {
        let mut key = self.clone();
        for sel in path {
            key = key.non_hardened_child(sel.as_ref())?;
        }
        Ok(key)
    }

    /// The 64-byte expanded key used for signing: this key's scalar followed by a 32-byte nonce
    /// prefix taken from HMAC-SHA512 keyed by `"Expand"` over the whole xprv.
    pub fn expanded_private_key(&self) -> ExpandedPrivateKey {
        let mut out = hmac_sha512(b"Expand", &[&self.0[..]]);
        out[..32].copy_from_slice(&self.0[..32]);
        ExpandedPrivateKey(*out)
    }

    /// An ed25519 signature over `msg`, verifiable with `self.xpub().public_key()` by any
    /// RFC 8032 verifier (reference `XPrv.Sign`).
    pub fn sign(&self, msg: &[u8]) -> [u8; ed25519::SIGNATURE_LEN] {
        self.expanded_private_key().sign(msg)
    }
}

/// Compares without an early exit, so timing does not reveal where two secrets differ.
fn secret_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl PartialEq for XPrv {
    fn eq(&self, other: &Self) -> bool {
        secret_eq(&self.0, &other.0)
    }
}

impl Eq for XPrv {}

impl fmt::Debug for XPrv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("XPrv(<redacted>)")
    }
}

/// An expanded private key: the 32-byte secret scalar and a 32-byte nonce prefix, the form
/// NaCl's `crypto_sign` uses. Wiped on drop; `Debug` is redacted.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct ExpandedPrivateKey([u8; EXPANDED_KEY_LEN]);

impl ExpandedPrivateKey {
    /// Wraps 64 raw bytes (scalar then prefix).
    pub fn from_bytes(bytes: [u8; EXPANDED_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// The expanded key of a standard RFC 8032 ed25519 seed: SHA-512 of the seed, clamped.
    /// Signing with it gives exactly the RFC 8032 signature of that seed.
    pub fn from_ed25519_seed(seed: &[u8; 32]) -> Self {
        let mut digest = Zeroizing::new([0u8; 64]);
        digest.copy_from_slice(&Sha512::digest(seed));
        digest[0] &= 248;
        digest[31] &= 127;
        digest[31] |= 64;
        Self(*digest)
    }

    /// The raw secret bytes. Named so that every use is visible in review.
    pub fn expose_secret_bytes(&self) -> &[u8; EXPANDED_KEY_LEN] {
        &self.0
    }

    /// The ed25519 public key `scalar·B`.
    pub fn public_key(&self) -> [u8; ed25519::PUBLIC_KEY_LEN] {
        public_point(&split_scalar(&self.0))
    }

    /// RFC 8032 signing from the expanded form: `r = H(prefix ‖ msg)`, `R = r·B`,
    /// `s = r + H(R ‖ A ‖ msg)·a mod ℓ`.
    pub fn sign(&self, msg: &[u8]) -> [u8; ed25519::SIGNATURE_LEN] {
        let a = Zeroizing::new(Scalar::from_bytes_mod_order(*split_scalar(&self.0)));
        let r = Zeroizing::new(Scalar::from_hash(
            Sha512::new().chain_update(&self.0[32..]).chain_update(msg),
        ));
        let big_r = EdwardsPoint::mul_base(&r).compress();
        let big_a = EdwardsPoint::mul_base(&a).compress();
        let k = Scalar::from_hash(
            Sha512::new()
                .chain_update(big_r.as_bytes())
                .chain_update(big_a.as_bytes())
                .chain_update(msg),
        );
        let s = k * *a + *r;
        let mut sig = [0u8; ed25519::SIGNATURE_LEN];
        sig[..32].copy_from_slice(big_r.as_bytes());
        sig[32..].copy_from_slice(s.as_bytes());
        sig
    }
}

impl PartialEq for ExpandedPrivateKey {
    fn eq(&self, other: &Self) -> bool {
        secret_eq(&self.0, &other.0)
    }
}

impl Eq for ExpandedPrivateKey {}

impl fmt::Debug for ExpandedPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ExpandedPrivateKey(<redacted>)")
    }
}

/// An extended public key: ed25519 point (32 bytes) and chain code (32 bytes).
///
/// Ordered by bytes, as the reference sorts xpubs (`signers.SortKeys`). Displayed and parsed as
/// 128 hex characters; serde uses the same string.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct XPub([u8; EXTENDED_KEY_LEN]);

impl XPub {
    /// Wraps 64 raw bytes (point then chain code) without checking the point, as the reference
    /// does; an invalid point only surfaces when deriving ([`ChainKdError::InvalidPublicKey`]) or
    /// verifying (always false).
    pub fn from_bytes(bytes: [u8; EXTENDED_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Parses 64 bytes from a slice of exactly that length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, ChainKdError> {
        let arr = <[u8; EXTENDED_KEY_LEN]>::try_from(bytes).map_err(|_| ChainKdError::BadKeyLength {
            got: bytes.len(),
            expected: EXTENDED_KEY_LEN,
        })?;
        Ok(Self(arr))
    }

    /// Parses the 128-character hex form (reference `XPub.UnmarshalText`; either letter case).
    pub fn from_hex(s: &str) -> Result<Self, ChainKdError> {
        Ok(Self(*decode_hex_64(s)?))
    }

    /// The lower-case hex form (reference `XPub.MarshalText`).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The 64 bytes.
    pub fn as_bytes(&self) -> &[u8; EXTENDED_KEY_LEN] {
        &self.0
    }

    /// The ed25519 public key: the first 32 bytes (reference `XPub.PublicKey`).
    pub fn public_key(&self) -> [u8; ed25519::PUBLIC_KEY_LEN] {
        let mut pk = [0u8; ed25519::PUBLIC_KEY_LEN];
        pk.copy_from_slice(&self.0[..32]);
        pk
    }

    /// The non-hardened child selected by `sel`: `P + f·B` where `f` is the pruned HMAC offset
    /// (reference `XPub.Child`).
    ///
    /// # Errors
    /// [`ChainKdError::InvalidPublicKey`] if the first 32 bytes are not a curve point.
    pub fn child(&self, sel: &[u8]) -> Result<Self, ChainKdError> {
        let mut out = hmac_sha512(&self.0[32..], &[b"N", &self.0[..32], sel]);
        prune_intermediate_scalar(&mut out);
        let parent = CompressedEdwardsY(self.public_key())
            .decompress()
            .ok_or(ChainKdError::InvalidPublicKey)?;
        let mut f = [0u8; 32];
        f.copy_from_slice(&out[..32]);
        // The pruned offset is < 2^233 < ℓ, so the reduction never changes it.
        let offset = EdwardsPoint::mul_base(&Scalar::from_bytes_mod_order(f));
        let mut res = [0u8; EXTENDED_KEY_LEN];
        res[..32].copy_from_slice((parent + offset).compress().as_bytes());
        res[32..].copy_from_slice(&out[32..]);
        Ok(Self(res))
    }

    /// Non-hardened derivation along `path` (reference `XPub.Derive`); equals the xpub of
    /// `xprv.derive(path)`.
    pub fn derive<P: AsRef<[u8]>>(&self, path: &[P]) -> Result<Self, ChainKdError> {
        let mut key = *self;
        for sel in path {
            key = key.child(sel.as_ref())?;
        }
        Ok(key)
    }

    /// Checks an ed25519 signature by [`XPub::public_key`] under the crate's single verification
    /// rule ([`ed25519::verify`]).
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        ed25519::verify(&self.0[..32], msg, sig)
    }
}

impl fmt::Debug for XPub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "XPub({})", self.to_hex())
    }
}

impl fmt::Display for XPub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl FromStr for XPub {
    type Err = ChainKdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_hex(s)
    }
}

impl serde::Serialize for XPub {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for XPub {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::from_hex(&s).map_err(serde::de::Error::custom)
    }
}

/// Derives every xpub along the same non-hardened `path` (reference `DeriveXPubs`): the keys of
/// one multi-signature account at one address.
pub fn derive_xpubs<P: AsRef<[u8]>>(xpubs: &[XPub], path: &[P]) -> Result<Vec<XPub>, ChainKdError> {
    xpubs.iter().map(|x| x.derive(path)).collect()
}

/// The ed25519 public keys of `xpubs`, in order (reference `XPubKeys`).
pub fn xpub_keys(xpubs: &[XPub]) -> Vec<[u8; ed25519::PUBLIC_KEY_LEN]> {
    xpubs.iter().map(XPub::public_key).collect()
}

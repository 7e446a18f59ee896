//! SM2 digital signatures (GB/T 32918.2-2016) on the recommended curve `sm2p256v1`
//! (GB/T 32918.5-2017), with SM3 as the message digest.
//!
//! Signing is ours so that the secret scalar lives only in types that wipe themselves; the
//! curve arithmetic and the verification come from the RustCrypto `sm2` crate, which also
//! cross-checks our signer in the tests. The per-signature random `k` of the standard is drawn
//! deterministically from the key and the message digest (HMAC-SM3, with rejection sampling), in
//! the spirit of RFC 6979: no RNG is needed at signing time and a repeated `k` is impossible.

use std::fmt;

use hmac::{Hmac, Mac};
use rand_core::{CryptoRng, RngCore};
use sm2::elliptic_curve::ff::PrimeField;
use sm2::elliptic_curve::ops::Reduce;
use sm2::elliptic_curve::point::AffineCoordinates;
use sm2::elliptic_curve::sec1::ToEncodedPoint;
use sm2::{NonZeroScalar, ProjectivePoint, Scalar, U256};
use sm3::{Digest, Sm3};
use zeroize::Zeroizing;

/// The default distinguishing identifier of GB/T 32918.2 / GM/T 0009 (`1234567812345678`).
pub const DEFAULT_DIST_ID: &str = "1234567812345678";
/// Length of an encoded public key: SEC1 uncompressed, `04 ‖ x ‖ y`.
pub const PUBLIC_KEY_LEN: usize = 65;
/// Length of a signature: `r ‖ s`, 32 bytes each, big-endian.
pub const SIGNATURE_LEN: usize = 64;
/// Length of a secret key: the scalar `d`, 32 bytes big-endian.
pub const SECRET_KEY_LEN: usize = 32;

/// Curve coefficient `a` of sm2p256v1 (GB/T 32918.5-2017), big-endian.
const CURVE_A: [u8; 32] = [
    0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfc,
];
/// Curve coefficient `b` of sm2p256v1.
const CURVE_B: [u8; 32] = [
    0x28, 0xe9, 0xfa, 0x9e, 0x9d, 0x9f, 0x5e, 0x34, 0x4d, 0x5a, 0x9e, 0x4b, 0xcf, 0x65, 0x09, 0xa7, 0xf3,
    0x97, 0x89, 0xf5, 0x15, 0xab, 0x8f, 0x92, 0xdd, 0xbc, 0xbd, 0x41, 0x4d, 0x94, 0x0e, 0x93,
];
/// Base point `G` x coordinate.
const GENERATOR_X: [u8; 32] = [
    0x32, 0xc4, 0xae, 0x2c, 0x1f, 0x19, 0x81, 0x19, 0x5f, 0x99, 0x04, 0x46, 0x6a, 0x39, 0xc9, 0x94, 0x8f,
    0xe3, 0x0b, 0xbf, 0xf2, 0x66, 0x0b, 0xe1, 0x71, 0x5a, 0x45, 0x89, 0x33, 0x4c, 0x74, 0xc7,
];
/// Base point `G` y coordinate.
const GENERATOR_Y: [u8; 32] = [
    0xbc, 0x37, 0x36, 0xa2, 0xf4, 0xf6, 0x77, 0x9c, 0x59, 0xbd, 0xce, 0xe3, 0x6b, 0x69, 0x21, 0x53, 0xd0,
    0xa9, 0x87, 0x7c, 0xc6, 0x2a, 0x47, 0x40, 0x02, 0xdf, 0x32, 0xe5, 0x21, 0x39, 0xf0, 0xa0,
];

/// What went wrong with an SM2 key, identifier or signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Sm2Error {
    /// The secret scalar is 0 or ≥ n−1 (the standard requires `d ∈ [1, n−2]`), or not 32 bytes.
    #[error("invalid SM2 secret key")]
    InvalidSecretKey,
    /// The public key bytes are not a SEC1 encoding of a point on sm2p256v1.
    #[error("invalid SM2 public key ({len} bytes)")]
    InvalidPublicKey {
        /// Length of the rejected encoding.
        len: usize,
    },
    /// The distinguishing identifier is longer than the 16-bit bit-length field allows.
    #[error("SM2 distinguishing identifier too long: {len} bytes (max 8191)")]
    IdTooLong {
        /// Length of the rejected identifier.
        len: usize,
    },
}

/// An SM2 public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sm2PublicKey(sm2::PublicKey);

impl Sm2PublicKey {
    /// Parses a SEC1 encoding (uncompressed `04‖x‖y` or compressed `02/03‖x`).
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, Sm2Error> {
        sm2::PublicKey::from_sec1_bytes(bytes)
            .map(Self)
            .map_err(|_| Sm2Error::InvalidPublicKey { len: bytes.len() })
    }

    /// The uncompressed SEC1 encoding, `04 ‖ x ‖ y`.
    pub fn to_bytes(&self) -> [u8; PUBLIC_KEY_LEN] {
        let point = self.0.to_encoded_point(false);
        let mut out = [0u8; PUBLIC_KEY_LEN];
        // An uncompressed encoding of a valid (non-identity) point is always 65 bytes.
        if point.as_bytes().len() == PUBLIC_KEY_LEN {
            out.copy_from_slice(point.as_bytes());
        }
        out
    }

    /// `Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A)` (GB/T 32918.2 §5.5).
    pub fn z_a(&self, id: &str) -> Result<[u8; 32], Sm2Error> {
        let entl = id.len().checked_mul(8).and_then(|bits| u16::try_from(bits).ok());
        let entl = entl.ok_or(Sm2Error::IdTooLong { len: id.len() })?;
        let point = self.to_bytes();
        Ok(Sm3::new()
            .chain_update(entl.to_be_bytes())
            .chain_update(id.as_bytes())
            .chain_update(CURVE_A)
            .chain_update(CURVE_B)
            .chain_update(GENERATOR_X)
            .chain_update(GENERATOR_Y)
            .chain_update(&point[1..])
            .finalize()
            .into())
    }

    /// Verifies `sig` (`r‖s`) over `msg` with the default identifier; false on any malformed input.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.verify_with_id(DEFAULT_DIST_ID, msg, sig)
    }

    /// Verifies `sig` over `msg` for the signer identified by `id`.
    pub fn verify_with_id(&self, id: &str, msg: &[u8], sig: &[u8]) -> bool {
        use sm2::dsa::signature::Verifier;
        let Ok(sig) = <[u8; SIGNATURE_LEN]>::try_from(sig) else {
            return false;
        };
        let Ok(sig) = sm2::dsa::Signature::from_bytes(&sig) else {
            return false;
        };
        let Ok(vk) = sm2::dsa::VerifyingKey::new(id, self.0) else {
            return false;
        };
        vk.verify(msg, &sig).is_ok()
    }
}

impl fmt::Debug for Sm2PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sm2PublicKey({})", hex::encode(self.to_bytes()))
    }
}

/// An SM2 signing key. The scalar is held in `sm2::SecretKey`, which wipes it on drop; `Debug`
/// prints `Sm2SigningKey(<redacted>)`.
#[derive(Clone)]
pub struct Sm2SigningKey {
    secret: sm2::SecretKey,
    public: Sm2PublicKey,
}

impl Sm2SigningKey {
    /// A fresh random key: 32 bytes of entropy from `rng`, stretched with HMAC-SM3 and a counter
    /// until the candidate lies in `[1, n−2]` (about one candidate in 2^32 does not). Even a
    /// degenerate RNG (all zeros) yields a valid key rather than looping forever.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut entropy = Zeroizing::new([0u8; SECRET_KEY_LEN]);
        rng.fill_bytes(&mut entropy[..]);
        let mut counter = 0u32;
        loop {
            let candidate = hmac_sm3(&entropy[..], &[b"tributary sm2 keygen", &counter.to_be_bytes()]);
            if let Ok(key) = Self::from_bytes(&candidate) {
                return key;
            }
            counter = counter.wrapping_add(1);
        }
    }

    /// The key with secret scalar `d` (32 bytes big-endian), which must lie in `[1, n−2]`.
    pub fn from_bytes(bytes: &[u8; SECRET_KEY_LEN]) -> Result<Self, Sm2Error> {
        let secret = sm2::SecretKey::from_slice(bytes).map_err(|_| Sm2Error::InvalidSecretKey)?;
        let d = Zeroizing::new(*secret.to_nonzero_scalar());
        // d = n−1 would make 1+d zero and the signing equation undefined.
        if bool::from((Scalar::ONE + *d).is_zero()) {
            return Err(Sm2Error::InvalidSecretKey);
        }
        let public = Sm2PublicKey(secret.public_key());
        Ok(Self { secret, public })
    }

    /// The secret scalar, big-endian, wiped when dropped. Named so that every use is visible.
    pub fn expose_secret_bytes(&self) -> Zeroizing<[u8; SECRET_KEY_LEN]> {
        let mut out = Zeroizing::new([0u8; SECRET_KEY_LEN]);
        out.copy_from_slice(&self.secret.to_bytes());
        out
    }

    /// The matching public key.
    pub fn public_key(&self) -> Sm2PublicKey {
        self.public
    }

    /// Signs `msg` with the default identifier.
    pub fn sign(&self, msg: &[u8]) -> [u8; SIGNATURE_LEN] {
        // The default identifier is 16 bytes, far below the limit, so `z_a` cannot fail.
        let z = self.public.z_a(DEFAULT_DIST_ID).unwrap_or_default();
        self.sign_with_z(&z, msg)
    }

    /// Signs `msg` for the signer identity `id`.
    pub fn sign_with_id(&self, id: &str, msg: &[u8]) -> Result<[u8; SIGNATURE_LEN], Sm2Error> {
        let z = self.public.z_a(id)?;
        Ok(self.sign_with_z(&z, msg))
    }

    /// GB/T 32918.2 §6.1 steps A1–A7 given `Z_A`.
    fn sign_with_z(&self, z: &[u8; 32], msg: &[u8]) -> [u8; SIGNATURE_LEN] {
        let digest: [u8; 32] = Sm3::new().chain_update(z).chain_update(msg).finalize().into();
        let e = <Scalar as Reduce<U256>>::reduce_bytes(&digest.into());
        let d = Zeroizing::new(*self.secret.to_nonzero_scalar());
        let d_bytes = self.expose_secret_bytes();
        // (1+d) is invertible: `from_bytes` rejected d = n−1.
        let inv = Zeroizing::new(Option::<Scalar>::from((Scalar::ONE + *d).invert()).unwrap_or(Scalar::ZERO));
        let mut counter = 0u32;
        loop {
            counter = counter.wrapping_add(1);
            let Some(k) = nonce(&d_bytes[..], &digest, counter) else {
                continue;
            };
            let x1 = (ProjectivePoint::GENERATOR * *k).to_affine().x();
            let r = e + <Scalar as Reduce<U256>>::reduce_bytes(&x1);
            if bool::from(r.is_zero()) || bool::from((r + *k).is_zero()) {
                continue;
            }
            let s = *inv * (*k - r * *d);
            if bool::from(s.is_zero()) {
                continue;
            }
            let mut sig = [0u8; SIGNATURE_LEN];
            sig[..32].copy_from_slice(&r.to_repr());
            sig[32..].copy_from_slice(&s.to_repr());
            return sig;
        }
    }
}

/// The `counter`-th candidate nonce: HMAC-SM3 keyed by the secret over the message digest,
/// accepted only if it is a canonical non-zero scalar (so `k` is uniform in `[1, n−1]`).
fn nonce(secret: &[u8], digest: &[u8; 32], counter: u32) -> Option<Zeroizing<Scalar>> {
    let bytes = hmac_sm3(secret, &[b"tributary sm2 nonce", digest, &counter.to_be_bytes()]);
    let k = Option::<NonZeroScalar>::from(NonZeroScalar::from_repr((*bytes).into()))?;
    Some(Zeroizing::new(*k))
}

fn hmac_sm3(key: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    #[allow(clippy::expect_used)] // HMAC takes keys of any length (RFC 2104); hmac never errs here.
    let mut mac = <Hmac<Sm3> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    for part in parts {
        mac.update(part);
    }
    Zeroizing::new(mac.finalize().into_bytes().into())
}

impl PartialEq for Sm2SigningKey {
    fn eq(&self, other: &Self) -> bool {
        // SecretKey compares in constant time.
        self.secret == other.secret
    }
}

impl Eq for Sm2SigningKey {}

impl fmt::Debug for Sm2SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sm2SigningKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests;

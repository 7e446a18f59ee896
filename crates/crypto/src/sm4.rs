//! SM4 block encryption (GB/T 32907-2016) and an authenticated "sealed box" for data at rest.
//!
//! The sealed box is encrypt-then-MAC: SM4 in counter mode, then HMAC-SM3 over the associated
//! data, the nonce and the ciphertext. Both subkeys are derived from one 32-byte master key with
//! HMAC-SM3 under distinct labels. Layout: `nonce (16) ‖ ciphertext ‖ tag (32)`. This is our own
//! composition of standard parts (no GB/T vector exists for it); it is tested for round trips and
//! tamper detection. It is not SM4-GCM/CCM and does not interoperate with them.

use std::fmt;

use hmac::{Hmac, Mac};
use rand_core::{CryptoRng, RngCore};
use sm3::Sm3;
use sm4::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// SM4 block and key length in bytes.
pub const BLOCK_LEN: usize = 16;
/// SM4 key length in bytes.
pub const KEY_LEN: usize = 16;
/// Sealed-box master key length.
pub const SEAL_KEY_LEN: usize = 32;
/// Sealed-box nonce length (one SM4 block, the initial counter).
pub const NONCE_LEN: usize = 16;
/// Sealed-box tag length (HMAC-SM3).
pub const TAG_LEN: usize = 32;

type HmacSm3 = Hmac<Sm3>;

/// Why a sealed box could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Sm4Error {
    /// Shorter than a nonce plus a tag, so it cannot be a sealed box.
    #[error("sealed box too short: {len} bytes, need at least {min}")]
    TooShort {
        /// Bytes received.
        len: usize,
        /// Minimum length of a sealed box (empty plaintext).
        min: usize,
    },
    /// The tag does not match: wrong key, wrong associated data, or the bytes were altered.
    #[error("sealed box authentication failed")]
    AuthenticationFailed,
}

/// The SM4 block cipher under one key. Round keys are wiped on drop.
#[derive(Clone)]
pub struct Sm4Cipher(sm4::Sm4);

impl Sm4Cipher {
    /// Expands `key`.
    pub fn new(key: &[u8; KEY_LEN]) -> Self {
        Self(sm4::Sm4::new(key.into()))
    }

    /// Encrypts one block in place.
    pub fn encrypt_block(&self, block: &mut [u8; BLOCK_LEN]) {
        self.0.encrypt_block(block.into());
    }

    /// Decrypts one block in place.
    pub fn decrypt_block(&self, block: &mut [u8; BLOCK_LEN]) {
        self.0.decrypt_block(block.into());
    }
}

impl fmt::Debug for Sm4Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sm4Cipher(<redacted>)")
    }
}

fn hmac_sm3(key: &[u8], parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    #[allow(clippy::expect_used)] // HMAC takes keys of any length (RFC 2104); hmac never errs here.
    let mut mac = <HmacSm3 as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    for part in parts {
        mac.update(part);
    }
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// The master key of the sealed box. Wiped on drop; `Debug` is redacted.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SealKey([u8; SEAL_KEY_LEN]);

impl SealKey {
    /// Wraps 32 key bytes (e.g. from a KDF over a passphrase).
    pub fn from_bytes(bytes: [u8; SEAL_KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// A fresh random key.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut k = [0u8; SEAL_KEY_LEN];
        rng.fill_bytes(&mut k);
        Self(k)
    }

    /// The raw key bytes. Named so that every use is visible in review.
    pub fn expose_secret_bytes(&self) -> &[u8; SEAL_KEY_LEN] {
        &self.0
    }

    fn subkeys(&self) -> (Sm4Cipher, Zeroizing<[u8; 32]>) {
        let enc = hmac_sm3(&self.0, &[b"tributary sealed-box sm4-ctr key"]);
        let mac = hmac_sm3(&self.0, &[b"tributary sealed-box hmac-sm3 key"]);
        let mut enc_key = Zeroizing::new([0u8; KEY_LEN]);
        enc_key.copy_from_slice(&enc[..KEY_LEN]);
        (Sm4Cipher::new(&enc_key), mac)
    }

    /// Encrypts and authenticates `plaintext`, binding `aad` (authenticated, not encrypted).
    /// The nonce is drawn from `rng`; 128 random bits make a repeat negligible.
    pub fn seal<R: RngCore + CryptoRng>(&self, rng: &mut R, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let (cipher, mac_key) = self.subkeys();
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        ctr_apply(&cipher, &nonce, &mut out[NONCE_LEN..]);
        let tag = tag(&mac_key, aad, &out);
        out.extend_from_slice(&tag[..]);
        out
    }

    /// Checks and decrypts a box made by [`SealKey::seal`] with the same key and `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, Sm4Error> {
        let min = NONCE_LEN + TAG_LEN;
        if sealed.len() < min {
            return Err(Sm4Error::TooShort {
                len: sealed.len(),
                min,
            });
        }
        let (body, received) = sealed.split_at(sealed.len() - TAG_LEN);
        let (cipher, mac_key) = self.subkeys();
        let expected = tag(&mac_key, aad, body);
        // Constant-time comparison: no early exit on the first differing byte.
        if expected
            .iter()
            .zip(received)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            != 0
        {
            return Err(Sm4Error::AuthenticationFailed);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&body[..NONCE_LEN]);
        let mut plain = Zeroizing::new(body[NONCE_LEN..].to_vec());
        ctr_apply(&cipher, &nonce, &mut plain);
        Ok(plain)
    }
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealKey(<redacted>)")
    }
}

/// HMAC-SM3 over `len(aad) (8 bytes BE) ‖ aad ‖ nonce ‖ ciphertext`; the length prefix keeps the
/// split between associated data and ciphertext unambiguous.
fn tag(mac_key: &[u8; 32], aad: &[u8], body: &[u8]) -> Zeroizing<[u8; 32]> {
    let aad_len = u64::try_from(aad.len()).unwrap_or(u64::MAX).to_be_bytes();
    hmac_sm3(mac_key, &[&aad_len, aad, body])
}

/// XORs `data` with the SM4 keystream of counter blocks `nonce, nonce+1, …` (128-bit big-endian,
/// wrapping). Encryption and decryption are the same operation.
fn ctr_apply(cipher: &Sm4Cipher, nonce: &[u8; NONCE_LEN], data: &mut [u8]) {
    let mut counter = u128::from_be_bytes(*nonce);
    for chunk in data.chunks_mut(BLOCK_LEN) {
        let mut block = Zeroizing::new(counter.to_be_bytes());
        cipher.encrypt_block(&mut block);
        for (d, k) in chunk.iter_mut().zip(block.iter()) {
            *d ^= k;
        }
        counter = counter.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests;

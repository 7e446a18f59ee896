#![doc = include_str!("../README.md")]

pub mod matrix;
pub mod miner;
pub mod params;
pub mod retarget;
mod scrypt;
pub mod seed;
pub mod spv;
mod store;
pub mod tensority;
pub mod validate;

use num_bigint::{BigInt, Sign};
use types::Hash;
use types::difficulty::compact_to_target;

pub use params::{DEVNET_POW_LIMIT_BITS, PowParams, TRIVIAL_BITS};
pub use seed::{INITIAL_SEED, SEED_EPOCH, seed_for_height, seed_source_height};
pub use store::{CacheStore, DEFAULT_EPOCHS_KEPT};
pub use tensority::Cache;
pub use validate::{PowFunction, Tensority};

/// Bad input to the proof-of-work helpers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PowError {
    /// The hex text is not 64 characters (32 bytes).
    #[error("{what}: expected 64 hex characters (32 bytes), got {got}")]
    WrongLength {
        /// Which argument.
        what: &'static str,
        /// Characters given.
        got: usize,
    },
    /// The hex text has a character outside `0-9a-fA-F`.
    #[error("{what}: not hex: {source}")]
    NotHex {
        /// Which argument.
        what: &'static str,
        /// The decoder's complaint.
        source: hex::FromHexError,
    },
}

/// Parses a 32-byte hash given as 64 hex characters; `what` names the argument in the error.
pub fn parse_hash(what: &'static str, text: &str) -> Result<Hash, PowError> {
    let text = text.trim();
    if text.len() != 64 {
        return Err(PowError::WrongLength {
            what,
            got: text.chars().count(),
        });
    }
    Hash::from_hex(text).map_err(|source| PowError::NotHex { what, source })
}

/// A Tensority result read as the number the target is compared with: its bytes reversed, i.e.
/// little-endian (Bytom v1.1.0 `difficulty.HashToBig`).
pub fn hash_to_big(hash: &Hash) -> BigInt {
    BigInt::from_bytes_le(Sign::Plus, &hash.0)
}

/// Whether a Tensority result meets the compact target `bits`: `hash_to_big(result) ≤ target`.
///
/// # Consensus
/// Bytom v1.1.0 `consensus/difficulty.CheckProofOfWork`, which takes the block hash and seed and
/// computes the Tensority result itself; here the caller passes the result (see [`verify`]). A
/// zero or negative target (malformed bits) is met only by nothing: no hash is negative, and only
/// the all-zero hash meets a zero target, exactly as the reference's comparison does.
pub fn check_proof_of_work(tensority_result: &Hash, bits: u64) -> bool {
    hash_to_big(tensority_result) <= compact_to_target(bits)
}

/// The full check for a block: the Tensority hash of `block_hash` under `cache` (built from the
/// block's seed, see [`seed_for_height`]) meets `bits`.
pub fn verify(block_hash: &Hash, cache: &Cache, bits: u64) -> bool {
    check_proof_of_work(&tensority::hash(block_hash, cache), bits)
}

//! Helpers shared by the vector tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use types::{AssetId, Hash};

/// Bytes from hex.
pub(crate) fn hx(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// A hash from 64 hex characters.
pub(crate) fn h(s: &str) -> Hash {
    Hash::from_hex(s).unwrap()
}

/// An asset ID from 64 hex characters.
pub(crate) fn a(s: &str) -> AssetId {
    AssetId::from_hex(s).unwrap()
}

/// The reference's `Hash{V0, V1, V2, V3}`: four big-endian u64s.
pub(crate) fn h4(v0: u64, v1: u64, v2: u64, v3: u64) -> Hash {
    let mut b = [0u8; 32];
    for (i, v) in [v0, v1, v2, v3].iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&v.to_be_bytes());
    }
    Hash(b)
}

/// The reference's `AssetID{V0, V1, V2, V3}`.
pub(crate) fn a4(v0: u64, v1: u64, v2: u64, v3: u64) -> AssetId {
    AssetId(h4(v0, v1, v2, v3).0)
}

/// Joins hex pieces (the reference tests list a hex string field by field).
pub(crate) fn join(parts: &[&str]) -> Vec<u8> {
    hx(&parts.concat())
}

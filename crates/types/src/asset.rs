//! Asset IDs.

use std::fmt;

use sha3::{Digest, Sha3_256};

use crate::entry::{Body, Program};
use crate::hash::Hash;

/// A 32-byte asset ID.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct AssetId(pub [u8; 32]);

impl AssetId {
    /// The native asset (BTM) of both profiles: 32 bytes of `0xff`.
    pub const BTM: AssetId = AssetId([0xff; 32]);

    /// The asset an issuance program and definition define, as the reference's `ComputeAssetID`:
    /// SHA3-256 of the asset-definition body (VM version as 8 bytes little-endian, program as a varstr,
    /// then the 32-byte definition hash).
    pub fn compute(issuance_program: &[u8], vm_version: u64, definition_hash: &Hash) -> AssetId {
        let mut b = Body::new();
        b.program(&Program {
            vm_version,
            code: issuance_program,
        })
        .hash(definition_hash);
        AssetId(b.finish().0)
    }

    /// Like [`AssetId::compute`], hashing the raw definition bytes (usually JSON) first.
    pub fn from_definition(issuance_program: &[u8], vm_version: u64, raw_definition: &[u8]) -> AssetId {
        AssetId::compute(issuance_program, vm_version, &definition_hash(raw_definition))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex characters.
    pub fn from_hex(s: &str) -> Result<Self, hex::FromHexError> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out)?;
        Ok(AssetId(out))
    }
}

/// SHA3-256 of a raw asset definition.
pub fn definition_hash(raw_definition: &[u8]) -> Hash {
    Hash(Sha3_256::digest(raw_definition).into())
}

impl fmt::Debug for AssetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AssetId({})", self.to_hex())
    }
}

impl fmt::Display for AssetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl From<[u8; 32]> for AssetId {
    fn from(b: [u8; 32]) -> Self {
        AssetId(b)
    }
}

impl From<AssetId> for Hash {
    fn from(a: AssetId) -> Hash {
        Hash(a.0)
    }
}

impl From<Hash> for AssetId {
    fn from(h: Hash) -> AssetId {
        AssetId(h.0)
    }
}

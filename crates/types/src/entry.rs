//! Entry bodies and entry IDs exactly as the reference hashes them.
//!
//! `EntryID = SHA3-256("entryid:" || type || ":" || SHA3-256(body))`. Inside a body a `u64` is 8 bytes
//! little-endian, a hash or asset ID its 32 raw bytes, a byte string a varstr, and a list a varint count
//! followed by its elements. Witness fields (destinations, arguments, ordinals) are never hashed.
//!
//! The functions here take the hashed fields only; [`crate::graph`] wires them together per transaction.

use sha3::{Digest, Sha3_256};

use crate::asset::AssetId;
use crate::hash::Hash;
use crate::profile::Profile;

/// The value an entry draws from another: the source entry, the asset and amount, and the position in
/// the source's destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueSource {
    /// ID of the source entry.
    pub source_id: Hash,
    /// Asset moved.
    pub asset_id: AssetId,
    /// Amount moved. A raw `u64`: the reference's coinbase sums outputs without a range check.
    pub amount: u64,
    /// Position in the source.
    pub position: u64,
}

/// A program with its VM version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Program<'a> {
    /// VM version.
    pub vm_version: u64,
    /// Program bytes.
    pub code: &'a [u8],
}

/// Incremental writer of an entry body in the reference's hashing encoding.
#[derive(Clone, Default)]
pub(crate) struct Body {
    h: Sha3_256,
}

impl Body {
    pub(crate) fn new() -> Self {
        Body { h: Sha3_256::new() }
    }

    pub(crate) fn u64(&mut self, v: u64) -> &mut Self {
        self.h.update(v.to_le_bytes());
        self
    }

    pub(crate) fn hash(&mut self, v: &Hash) -> &mut Self {
        self.h.update(v.0);
        self
    }

    pub(crate) fn asset(&mut self, v: &AssetId) -> &mut Self {
        self.h.update(v.0);
        self
    }

    pub(crate) fn varint(&mut self, mut v: u64) -> &mut Self {
        // At most ten LEB128 bytes; kept on the stack since this runs for every hashed length.
        let mut buf = [0u8; 10];
        let mut n = 0;
        while v >= 0x80 && n < 9 {
            buf[n] = ((v & 0x7f) as u8) | 0x80;
            v >>= 7;
            n += 1;
        }
        buf[n] = (v & 0x7f) as u8;
        self.h.update(&buf[..=n]);
        self
    }

    pub(crate) fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.varint(v.len() as u64);
        self.h.update(v);
        self
    }

    pub(crate) fn value_source(&mut self, v: &ValueSource) -> &mut Self {
        self.hash(&v.source_id)
            .asset(&v.asset_id)
            .u64(v.amount)
            .u64(v.position)
    }

    pub(crate) fn program(&mut self, p: &Program<'_>) -> &mut Self {
        self.u64(p.vm_version).bytes(p.code)
    }

    pub(crate) fn finish(self) -> Hash {
        Hash(self.h.finalize().into())
    }
}

/// Wraps a finished body hash into an entry ID of type `typ`.
pub(crate) fn entry_id(typ: &str, body: Body) -> Hash {
    let inner = body.finish();
    let mut h = Sha3_256::new();
    h.update(b"entryid:");
    h.update(typ.as_bytes());
    h.update(b":");
    h.update(inner.0);
    Hash(h.finalize().into())
}

/// The type name of a spendable output entry: `output1` on the main chain, `intrachainoutput1` on a
/// sidechain.
pub fn output_type_name(profile: Profile) -> &'static str {
    match profile {
        Profile::Main => "output1",
        Profile::Side => "intrachainoutput1",
    }
}

/// ID of a spendable output (`output1` / `intrachainoutput1`).
pub fn output_id(profile: Profile, source: &ValueSource, program: &Program<'_>) -> Hash {
    let mut b = Body::new();
    b.value_source(source).program(program);
    entry_id(output_type_name(profile), b)
}

/// ID of a sidechain cross-chain output (`crosschainoutput1`).
pub fn cross_chain_output_id(source: &ValueSource, program: &Program<'_>) -> Hash {
    let mut b = Body::new();
    b.value_source(source).program(program);
    entry_id("crosschainoutput1", b)
}

/// ID of a sidechain vote output (`voteoutput1`); `vote` is the voted node's public key.
pub fn vote_output_id(source: &ValueSource, program: &Program<'_>, vote: &[u8]) -> Hash {
    let mut b = Body::new();
    b.value_source(source).program(program).bytes(vote);
    entry_id("voteoutput1", b)
}

/// ID of a retirement (`retirement1`).
pub fn retirement_id(source: &ValueSource) -> Hash {
    let mut b = Body::new();
    b.value_source(source);
    entry_id("retirement1", b)
}

/// ID of a spend (`spend1`).
pub fn spend_id(spent_output_id: &Hash) -> Hash {
    let mut b = Body::new();
    b.hash(spent_output_id);
    entry_id("spend1", b)
}

/// ID of a sidechain veto input (`vetoInput1`).
pub fn veto_input_id(spent_output_id: &Hash) -> Hash {
    let mut b = Body::new();
    b.hash(spent_output_id);
    entry_id("vetoInput1", b)
}

/// ID of a main-chain issuance (`issuance1`).
pub fn issuance_id(nonce_hash: &Hash, asset_id: &AssetId, amount: u64) -> Hash {
    let mut b = Body::new();
    b.hash(nonce_hash).asset(asset_id).u64(amount);
    entry_id("issuance1", b)
}

/// ID of a coinbase (`coinbase1`).
pub fn coinbase_id(arbitrary: &[u8]) -> Hash {
    let mut b = Body::new();
    b.bytes(arbitrary);
    entry_id("coinbase1", b)
}

/// ID of a sidechain cross-chain input (`crosschaininput1`): the main-chain output it claims and the
/// asset definition (issuance program and the SHA3-256 of the raw definition).
pub fn cross_chain_input_id(
    mainchain_output_id: &Hash,
    issuance_program: &Program<'_>,
    definition_hash: &Hash,
) -> Hash {
    let mut b = Body::new();
    b.hash(mainchain_output_id)
        .program(issuance_program)
        .hash(definition_hash);
    entry_id("crosschaininput1", b)
}

/// ID of the mux (`mux1`). A `None` source (an input of an unknown asset version) contributes nothing but
/// is counted, exactly as the reference hashes its nil pointer.
pub fn mux_id(sources: &[Option<ValueSource>], program: &Program<'_>) -> Hash {
    let mut b = Body::new();
    b.varint(sources.len() as u64);
    for s in sources.iter().flatten() {
        b.value_source(s);
    }
    b.program(program);
    entry_id("mux1", b)
}

/// ID of the transaction header (`txheader`), which is the transaction ID. The serialized size is part
/// of the reference's header entry but not of its hash.
pub fn tx_header_id(version: u64, time_range: u64, result_ids: &[Hash]) -> Hash {
    let mut b = Body::new();
    b.u64(version).u64(time_range).varint(result_ids.len() as u64);
    for id in result_ids {
        b.hash(id);
    }
    entry_id("txheader", b)
}

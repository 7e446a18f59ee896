//! The reference's wire primitives: LEB128 varints with 31- and 63-bit range checks, length-prefixed
//! byte strings ("varstr"), lists of them, and "extensible strings" whose unread tail (the suffix) is kept
//! so that a newer format round-trips through an older reader.
//!
//! Every read is bounded twice: by the bytes actually present and by an explicit [`Limits`]. Nothing is
//! preallocated from a length read off the wire; collections grow one decoded element at a time, and every
//! element consumes at least one input byte, so memory stays proportional to the input.

use crate::asset::AssetId;
use crate::hash::Hash;
use crate::profile::Profile;
use crate::tx::TxError;

/// Bounds applied while decoding untrusted bytes.
///
/// The defaults are generous (well above anything the reference node would relay or accept under its gas
/// rules) but finite:
///
/// | field | default | why |
/// |---|---|---|
/// | `max_tx_bytes` | 1 MiB | storage gas is one unit per byte and a tx may burn at most a few 100k gas |
/// | `max_inputs`, `max_outputs` | 10 000 | far above the ~21 inputs the gas cap allows in practice |
/// | `max_program_bytes` | 100 000 | control and issuance programs |
/// | `max_witness_args` | 1 000 | witness arguments per input (and signature slots in a block witness) |
/// | `max_witness_arg_bytes` | 100 000 | bytes per witness argument (and per block-witness slot) |
/// | `max_block_bytes` | 22 020 096 | the reference's largest p2p response (21 MiB) |
/// | `max_block_txs` | 100 000 | transactions per block |
/// | `max_extensible_bytes` | 1 MiB | any extensible string (commitments, witnesses) |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest serialized transaction.
    pub max_tx_bytes: usize,
    /// Most inputs in one transaction.
    pub max_inputs: usize,
    /// Most outputs in one transaction.
    pub max_outputs: usize,
    /// Largest control or issuance program.
    pub max_program_bytes: usize,
    /// Most witness arguments per input; also the most slots in a block witness.
    pub max_witness_args: usize,
    /// Largest single witness argument; also the largest block-witness slot.
    pub max_witness_arg_bytes: usize,
    /// Largest serialized block.
    pub max_block_bytes: usize,
    /// Most transactions in one block.
    pub max_block_txs: usize,
    /// Longest extensible string (and any other length-prefixed string without a tighter limit).
    pub max_extensible_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_tx_bytes: 1 << 20,
            max_inputs: 10_000,
            max_outputs: 10_000,
            max_program_bytes: 100_000,
            max_witness_args: 1_000,
            max_witness_arg_bytes: 100_000,
            max_block_bytes: 22_020_096,
            max_block_txs: 100_000,
            max_extensible_bytes: 1 << 20,
        }
    }
}

/// Why bytes could not be decoded. Offsets are from the start of the buffer handed to the decoder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended inside a field.
    #[error("unexpected end of input reading {what} at byte {offset}: need {needed} bytes, {remaining} left")]
    UnexpectedEnd {
        /// The field being read.
        what: &'static str,
        /// Where the field starts.
        offset: usize,
        /// Bytes the field needs.
        needed: u64,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A varint longer than ten bytes or above 2^64-1.
    #[error("varint for {what} at byte {offset} overflows 64 bits")]
    VarintOverflow {
        /// The field being read.
        what: &'static str,
        /// Where the varint starts.
        offset: usize,
    },
    /// A varint above the reference's 31- or 63-bit range.
    #[error("{what} at byte {offset} is {value}, above the {bits}-bit range")]
    OutOfRange {
        /// The field being read.
        what: &'static str,
        /// Where the varint starts.
        offset: usize,
        /// The value read.
        value: u64,
        /// 31 or 63.
        bits: u8,
    },
    /// A length or count above the configured [`Limits`].
    #[error("{what} at byte {offset} is {value}, above the limit of {limit}")]
    LimitExceeded {
        /// The length or count.
        what: &'static str,
        /// Where it was read (or where the object starts).
        offset: usize,
        /// The value found.
        value: u64,
        /// The configured limit.
        limit: u64,
    },
    /// A serialization-flags byte the reference does not accept here.
    #[error("unsupported serialization flags {flags:#04x} for {what} at byte {offset}")]
    BadSerializationFlags {
        /// Transaction or block.
        what: &'static str,
        /// Where the byte is.
        offset: usize,
        /// The byte found.
        flags: u8,
    },
    /// An input or output type byte that the profile does not define.
    #[error("unknown {what} type {type_byte} for the {profile} profile at byte {offset}")]
    UnknownType {
        /// "input" or "output".
        what: &'static str,
        /// Where the byte is.
        offset: usize,
        /// The byte found.
        type_byte: u8,
        /// The profile decoded under.
        profile: Profile,
    },
    /// Asset version 1 commitments require VM version 1.
    #[error("unsupported VM version {version} in {what} at byte {offset}")]
    UnsupportedVmVersion {
        /// The commitment being read.
        what: &'static str,
        /// Where the version is.
        offset: usize,
        /// The version found.
        version: u64,
    },
    /// An issuance input whose declared asset ID is not the one its definition yields.
    #[error("issuance at byte {offset} declares asset {declared} but its definition gives {computed}")]
    IssuanceAssetMismatch {
        /// Where the issuance witness starts.
        offset: usize,
        /// The asset ID in the commitment.
        declared: AssetId,
        /// The asset ID computed from the witness.
        computed: AssetId,
    },
    /// Bytes left over after a complete object.
    #[error("{count} trailing bytes after {what}")]
    TrailingBytes {
        /// The object decoded.
        what: &'static str,
        /// How many bytes were left.
        count: usize,
    },
    /// An error inside input `index`.
    #[error("input {index}: {source}")]
    Input {
        /// Input position.
        index: usize,
        /// The underlying error.
        source: Box<DecodeError>,
    },
    /// An error inside output `index`.
    #[error("output {index}: {source}")]
    Output {
        /// Output position.
        index: usize,
        /// The underlying error.
        source: Box<DecodeError>,
    },
    /// An error inside transaction `index` of a block.
    #[error("transaction {index}: {source}")]
    Transaction {
        /// Position in the block.
        index: usize,
        /// The underlying error.
        source: Box<DecodeError>,
    },
    /// The transaction decoded but cannot be mapped to its entry graph (the reference would crash or
    /// reject it there).
    #[error("transaction structure: {0}")]
    Structure(#[from] TxError),
}

/// A cursor over a byte slice. Reads never panic; each returns a [`DecodeError`] naming the field.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Offset of `buf[0]` in the outermost buffer, so errors in nested strings point at real positions.
    base: usize,
    /// Whether a varint read so far was not in its shortest form: only then can the bytes read
    /// differ from what encoding the decoded value writes.
    non_minimal: bool,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, offsets counted from its start.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            base: 0,
            non_minimal: false,
        }
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Absolute offset of the next byte.
    pub fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    /// Bytes consumed so far from this reader's own slice.
    pub fn consumed(&self) -> usize {
        self.pos
    }

    /// The bytes of this reader's own slice from position `from` (a [`Reader::consumed`] value) up
    /// to what is read now.
    pub fn read_since(&self, from: usize) -> &'a [u8] {
        self.buf.get(from..self.pos).unwrap_or(&[])
    }

    /// Records that a non-minimal varint was read (putting back what
    /// [`Reader::take_non_minimal`] took).
    pub fn note_non_minimal(&mut self) {
        self.non_minimal = true;
    }

    /// Forgets that a non-minimal varint was read (to ask about one item of several); returns
    /// whether one was.
    pub fn take_non_minimal(&mut self) -> bool {
        std::mem::take(&mut self.non_minimal)
    }

    /// The unread bytes, without consuming them.
    pub fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    /// Fails with [`DecodeError::TrailingBytes`] unless every byte was read.
    pub fn expect_end(&self, what: &'static str) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { what, count }),
        }
    }

    /// Reads one byte.
    pub fn read_u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        let b = self.read_bytes(1, what)?;
        b.first().copied().ok_or(DecodeError::UnexpectedEnd {
            what,
            offset: self.offset(),
            needed: 1,
            remaining: 0,
        })
    }

    /// Reads exactly `n` bytes.
    pub fn read_bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let offset = self.offset();
        let remaining = self.remaining();
        let end = self.pos.checked_add(n).filter(|_| n <= remaining);
        match end.and_then(|end| self.buf.get(self.pos..end).map(|s| (s, end))) {
            Some((s, end)) => {
                self.pos = end;
                Ok(s)
            }
            None => Err(DecodeError::UnexpectedEnd {
                what,
                offset,
                needed: n as u64,
                remaining,
            }),
        }
    }

    /// Reads a 32-byte hash (raw bytes, no prefix).
    pub fn read_hash(&mut self, what: &'static str) -> Result<Hash, DecodeError> {
        let b = self.read_bytes(32, what)?;
        let mut out = [0u8; 32];
        out.copy_from_slice(b);
        Ok(Hash(out))
    }

    /// Reads an unsigned LEB128 varint as Go's `binary.ReadUvarint` does: at most ten bytes, the tenth
    /// at most 1. Like the reference, a non-minimal encoding (e.g. `80 00` for zero) is accepted.
    pub fn read_uvarint(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let offset = self.offset();
        let mut value: u64 = 0;
        let mut shift: u32 = 0;
        for i in 0..10u32 {
            let b = match self.read_u8(what) {
                Ok(b) => b,
                Err(_) => {
                    return Err(DecodeError::UnexpectedEnd {
                        what,
                        offset,
                        needed: u64::from(i) + 1,
                        remaining: usize::try_from(i).unwrap_or(usize::MAX),
                    });
                }
            };
            if b < 0x80 {
                if i == 9 && b > 1 {
                    return Err(DecodeError::VarintOverflow { what, offset });
                }
                // A zero last byte after a continuation adds nothing: a longer form.
                if i > 0 && b == 0 {
                    self.non_minimal = true;
                }
                return Ok(value | (u64::from(b) << shift));
            }
            value |= u64::from(b & 0x7f) << shift;
            shift += 7;
        }
        Err(DecodeError::VarintOverflow { what, offset })
    }

    /// Reads a varint that must fit in 31 bits (lengths and counts).
    pub fn read_varint31(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        let offset = self.offset();
        let v = self.read_uvarint(what)?;
        u32::try_from(v)
            .ok()
            .filter(|v| *v <= i32::MAX as u32)
            .ok_or(DecodeError::OutOfRange {
                what,
                offset,
                value: v,
                bits: 31,
            })
    }

    /// Reads a varint that must fit in 63 bits (amounts, versions, heights, timestamps).
    pub fn read_varint63(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        let offset = self.offset();
        let v = self.read_uvarint(what)?;
        if v > i64::MAX as u64 {
            return Err(DecodeError::OutOfRange {
                what,
                offset,
                value: v,
                bits: 63,
            });
        }
        Ok(v)
    }

    /// Reads a count (31-bit varint) and checks it against `limit`.
    pub fn read_count(&mut self, limit: usize, what: &'static str) -> Result<usize, DecodeError> {
        let offset = self.offset();
        let n = self.read_varint31(what)?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n > limit {
            return Err(DecodeError::LimitExceeded {
                what,
                offset,
                value: n as u64,
                limit: limit as u64,
            });
        }
        Ok(n)
    }

    /// Reads a varstr: a 31-bit length then that many bytes, the length at most `limit`.
    pub fn read_varstr(&mut self, limit: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let n = self.read_count(limit, what)?;
        self.read_bytes(n, what)
    }

    /// Reads a varstr into an owned vector (its size is bounded by the input actually present).
    pub fn read_varstr_vec(&mut self, limit: usize, what: &'static str) -> Result<Vec<u8>, DecodeError> {
        self.read_varstr(limit, what).map(<[u8]>::to_vec)
    }

    /// Reads a list of varstrs: a 31-bit count (at most `max_items`) then each item (at most
    /// `max_item_bytes`).
    pub fn read_varstr_list(
        &mut self,
        max_items: usize,
        max_item_bytes: usize,
        what: &'static str,
    ) -> Result<Vec<Vec<u8>>, DecodeError> {
        let n = self.read_count(max_items, what)?;
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(self.read_varstr_vec(max_item_bytes, what)?);
        }
        Ok(out)
    }

    /// Reads an extensible string: a varstr (at most `limit` bytes) whose contents `f` parses; whatever
    /// `f` leaves unread is returned as the suffix, to be written back unchanged.
    pub fn read_extensible<T>(
        &mut self,
        limit: usize,
        what: &'static str,
        f: impl FnOnce(&mut Reader<'a>) -> Result<T, DecodeError>,
    ) -> Result<(T, Vec<u8>), DecodeError> {
        let body = self.read_varstr(limit, what)?;
        let body_base = self.offset().saturating_sub(body.len());
        let mut inner = Reader {
            buf: body,
            pos: 0,
            base: body_base,
            non_minimal: false,
        };
        let value = f(&mut inner);
        self.non_minimal |= inner.non_minimal;
        let value = value?;
        Ok((value, inner.rest().to_vec()))
    }
}

/// The writing side of the codec: appends to a byte vector.
///
/// Writing is infallible. The typed models check the reference's ranges (31-bit lengths, 63-bit values)
/// when they are built, so whatever they hand to the writer is representable.
#[derive(Debug, Clone, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Writer::default()
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Appends one byte.
    pub fn put_u8(&mut self, b: u8) {
        self.buf.push(b);
    }

    /// Appends raw bytes.
    pub fn put_bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    /// Appends a hash's 32 bytes.
    pub fn put_hash(&mut self, h: &Hash) {
        self.buf.extend_from_slice(&h.0);
    }

    /// Appends the minimal LEB128 encoding of `v`.
    pub fn put_uvarint(&mut self, v: u64) {
        put_uvarint(&mut self.buf, v);
    }

    /// Appends a varstr (length then bytes).
    pub fn put_varstr(&mut self, b: &[u8]) {
        self.put_uvarint(b.len() as u64);
        self.put_bytes(b);
    }

    /// Appends a list of varstrs (count then each).
    pub fn put_varstr_list(&mut self, items: &[Vec<u8>]) {
        self.put_uvarint(items.len() as u64);
        for item in items {
            self.put_varstr(item);
        }
    }

    /// Appends an extensible string: `f`'s output followed by `suffix`, length-prefixed as one varstr.
    pub fn put_extensible(&mut self, suffix: &[u8], f: impl FnOnce(&mut Writer)) {
        let mut inner = Writer::new();
        f(&mut inner);
        inner.put_bytes(suffix);
        self.put_varstr(&inner.buf);
    }
}

/// Appends the minimal LEB128 encoding of `v` to `out`.
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        // Low seven bits with the continuation flag; the mask makes the narrowing exact.
        out.push(((v & 0x7f) as u8) | 0x80);
        v >>= 7;
    }
    out.push((v & 0x7f) as u8);
}

/// Length of the minimal LEB128 encoding of `v`.
pub fn uvarint_len(v: u64) -> usize {
    let bits = 64 - v.leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

//! The canonical wire encoding of [`Message`]: a tag byte, then fixed-width big-endian integers,
//! raw 32-byte ids, 96-byte compressed signatures, bitmaps as a `u16` bit length and the bytes,
//! and a `u32` length before the payload. Decoding checks every length against [`Limits`],
//! rejects trailing bytes and non-canonical bitmaps, and never panics.

use crypto::bls::Signature;

use super::types::{
    Bitmap, BlockId, Certificate, Justify, MAX_VALIDATORS, Message, Payload, Phase, Proposal, TcPart,
    Timeout, TimeoutCert, Vote, VoteData,
};

/// Bounds applied when decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest block payload accepted.
    pub max_payload: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_payload: 1 << 20 }
    }
}

/// Why bytes did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended early.
    #[error("unexpected end of input")]
    Truncated,
    /// Bytes were left after the message.
    #[error("{0} trailing bytes")]
    Trailing(usize),
    /// An unknown message, option or justify tag.
    #[error("unknown tag {0}")]
    Tag(u8),
    /// A count or length over its limit.
    #[error("length {got} over the limit {limit}")]
    TooLong {
        /// Declared length.
        got: usize,
        /// The limit.
        limit: usize,
    },
    /// A bitmap with bits set past its length.
    #[error("non-canonical bitmap")]
    Bitmap,
    /// A signature that is not a valid compressed G2 subgroup point.
    #[error("invalid signature encoding")]
    Signature,
}

const TAG_PROPOSAL: u8 = 1;
const TAG_VOTE: u8 = 2;
const TAG_AGGREGATE: u8 = 3;
const TAG_CERTIFICATE: u8 = 4;
const TAG_TIMEOUT: u8 = 5;
const TAG_TC: u8 = 6;
const TAG_SUBSCRIBE: u8 = 7;

/// Encodes a message.
pub fn encode(msg: &Message) -> Vec<u8> {
    let mut w = Vec::with_capacity(256);
    match msg {
        Message::Proposal(p) => {
            w.push(TAG_PROPOSAL);
            put_proposal(&mut w, p);
        }
        Message::Vote(v) => {
            w.push(TAG_VOTE);
            put_vote_data(&mut w, &v.data);
            w.extend_from_slice(&v.signer.to_be_bytes());
            w.extend_from_slice(&v.signature.to_bytes());
        }
        Message::Aggregate(c) => {
            w.push(TAG_AGGREGATE);
            put_cert(&mut w, c);
        }
        Message::Certificate(c) => {
            w.push(TAG_CERTIFICATE);
            put_cert(&mut w, c);
        }
        Message::Timeout(t) => {
            w.push(TAG_TIMEOUT);
            put_u64(&mut w, t.epoch);
            put_u64(&mut w, t.round);
            put_opt(&mut w, t.high_qc.as_ref(), put_cert);
            put_opt(&mut w, t.last_tc.as_ref(), put_tc);
            w.extend_from_slice(&t.signer.to_be_bytes());
            w.extend_from_slice(&t.signature.to_bytes());
        }
        Message::TimeoutCert(tc) => {
            w.push(TAG_TC);
            put_tc(&mut w, tc);
        }
        Message::Subscribe { epoch, until_round } => {
            w.push(TAG_SUBSCRIBE);
            put_u64(&mut w, *epoch);
            put_u64(&mut w, *until_round);
        }
    }
    w
}

/// Decodes one message occupying all of `bytes`.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Message, DecodeError> {
    let mut r = Reader {
        b: bytes,
        limits: *limits,
    };
    let msg = match r.u8()? {
        TAG_PROPOSAL => Message::Proposal(Box::new(r.proposal()?)),
        TAG_VOTE => {
            let data = r.vote_data()?;
            let signer = r.u16()?;
            let signature = r.sig()?;
            Message::Vote(Vote {
                data,
                signer,
                signature,
            })
        }
        TAG_AGGREGATE => Message::Aggregate(r.cert()?),
        TAG_CERTIFICATE => Message::Certificate(r.cert()?),
        TAG_TIMEOUT => {
            let epoch = r.u64()?;
            let round = r.u64()?;
            let high_qc = if r.flag()? { Some(r.cert()?) } else { None };
            let last_tc = if r.flag()? { Some(r.tc()?) } else { None };
            let signer = r.u16()?;
            let signature = r.sig()?;
            Message::Timeout(Box::new(Timeout {
                epoch,
                round,
                high_qc,
                last_tc,
                signer,
                signature,
            }))
        }
        TAG_TC => Message::TimeoutCert(Box::new(r.tc()?)),
        TAG_SUBSCRIBE => Message::Subscribe {
            epoch: r.u64()?,
            until_round: r.u64()?,
        },
        t => return Err(DecodeError::Tag(t)),
    };
    if r.b.is_empty() {
        Ok(msg)
    } else {
        Err(DecodeError::Trailing(r.b.len()))
    }
}

fn put_u64(w: &mut Vec<u8>, x: u64) {
    w.extend_from_slice(&x.to_be_bytes());
}

fn put_opt<T>(w: &mut Vec<u8>, x: Option<&T>, f: fn(&mut Vec<u8>, &T)) {
    match x {
        Some(v) => {
            w.push(1);
            f(w, v);
        }
        None => w.push(0),
    }
}

fn put_vote_data(w: &mut Vec<u8>, d: &VoteData) {
    put_u64(w, d.epoch);
    put_u64(w, d.round);
    put_u64(w, d.height);
    w.extend_from_slice(&d.block.0);
    w.extend_from_slice(&d.parent.0);
    put_u64(w, d.parent_round);
    w.push(match d.phase {
        Phase::Prepare => 0,
        Phase::Commit => 1,
    });
}

fn put_bitmap(w: &mut Vec<u8>, b: &Bitmap) {
    // Bitmaps never exceed MAX_VALIDATORS (1024) bits, so the length fits a u16.
    w.extend_from_slice(&u16::try_from(b.len()).unwrap_or(u16::MAX).to_be_bytes());
    w.extend_from_slice(b.as_bytes());
}

fn put_cert(w: &mut Vec<u8>, c: &Certificate) {
    put_vote_data(w, &c.data);
    put_bitmap(w, &c.signers);
    w.extend_from_slice(&c.signature.to_bytes());
}

fn put_tc(w: &mut Vec<u8>, tc: &TimeoutCert) {
    put_u64(w, tc.epoch);
    put_u64(w, tc.round);
    w.extend_from_slice(&u16::try_from(tc.parts.len()).unwrap_or(u16::MAX).to_be_bytes());
    for p in &tc.parts {
        put_u64(w, p.high_qc_round);
        put_bitmap(w, &p.signers);
        w.extend_from_slice(&p.signature.to_bytes());
    }
}

fn put_proposal(w: &mut Vec<u8>, p: &Proposal) {
    put_u64(w, p.epoch);
    put_u64(w, p.round);
    put_u64(w, p.height);
    w.extend_from_slice(&p.parent.0);
    match &p.justify {
        Justify::Genesis => w.push(0),
        Justify::Qc(c) => {
            w.push(1);
            put_cert(w, c);
        }
        Justify::Anchor(c) => {
            w.push(2);
            put_cert(w, c);
        }
    }
    put_opt(w, p.tc.as_ref(), put_tc);
    // Payloads are bounded by Limits::max_payload (far below 4 GiB) before they are proposed.
    w.extend_from_slice(&u32::try_from(p.payload.len()).unwrap_or(u32::MAX).to_be_bytes());
    w.extend_from_slice(&p.payload);
    w.extend_from_slice(&p.proposer.to_be_bytes());
    w.extend_from_slice(&p.signature.to_bytes());
}

struct Reader<'a> {
    b: &'a [u8],
    limits: Limits,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if self.b.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.b.split_at(n);
        self.b = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    fn flag(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            t => Err(DecodeError::Tag(t)),
        }
    }

    fn id(&mut self) -> Result<BlockId, DecodeError> {
        Ok(BlockId(self.array()?))
    }

    fn sig(&mut self) -> Result<Signature, DecodeError> {
        let b = self.take(Signature::LEN)?;
        Signature::from_bytes(b).map_err(|_| DecodeError::Signature)
    }

    fn bitmap(&mut self) -> Result<Bitmap, DecodeError> {
        let len = usize::from(self.u16()?);
        if len > MAX_VALIDATORS {
            return Err(DecodeError::TooLong {
                got: len,
                limit: MAX_VALIDATORS,
            });
        }
        let bytes = self.take(len.div_ceil(8))?.to_vec();
        Bitmap::from_bytes(len, bytes).ok_or(DecodeError::Bitmap)
    }

    fn vote_data(&mut self) -> Result<VoteData, DecodeError> {
        Ok(VoteData {
            epoch: self.u64()?,
            round: self.u64()?,
            height: self.u64()?,
            block: self.id()?,
            parent: self.id()?,
            parent_round: self.u64()?,
            phase: match self.u8()? {
                0 => Phase::Prepare,
                1 => Phase::Commit,
                t => return Err(DecodeError::Tag(t)),
            },
        })
    }

    fn cert(&mut self) -> Result<Certificate, DecodeError> {
        Ok(Certificate {
            data: self.vote_data()?,
            signers: self.bitmap()?,
            signature: self.sig()?,
        })
    }

    fn tc(&mut self) -> Result<TimeoutCert, DecodeError> {
        let epoch = self.u64()?;
        let round = self.u64()?;
        let n = usize::from(self.u16()?);
        if n > MAX_VALIDATORS {
            return Err(DecodeError::TooLong {
                got: n,
                limit: MAX_VALIDATORS,
            });
        }
        let mut parts = Vec::with_capacity(n.min(16));
        for _ in 0..n {
            parts.push(TcPart {
                high_qc_round: self.u64()?,
                signers: self.bitmap()?,
                signature: self.sig()?,
            });
        }
        Ok(TimeoutCert { epoch, round, parts })
    }

    fn proposal(&mut self) -> Result<Proposal, DecodeError> {
        let epoch = self.u64()?;
        let round = self.u64()?;
        let height = self.u64()?;
        let parent = self.id()?;
        let justify = match self.u8()? {
            0 => Justify::Genesis,
            1 => Justify::Qc(self.cert()?),
            2 => Justify::Anchor(self.cert()?),
            t => return Err(DecodeError::Tag(t)),
        };
        let tc = if self.flag()? { Some(self.tc()?) } else { None };
        let len = usize::try_from(u32::from_be_bytes(self.array()?)).unwrap_or(usize::MAX);
        if len > self.limits.max_payload {
            return Err(DecodeError::TooLong {
                got: len,
                limit: self.limits.max_payload,
            });
        }
        let payload = Payload::from(self.take(len)?);
        let proposer = self.u16()?;
        let signature = self.sig()?;
        Ok(Proposal {
            epoch,
            round,
            height,
            parent,
            justify,
            tc,
            payload,
            proposer,
            signature,
        })
    }
}

//! What validators send each other, and how: the [`Wire`] envelope (consensus messages, forwarded
//! transactions, catch-up requests and replies) and the [`ConsensusNetwork`] a host sends through,
//! with an in-memory implementation ([`MemoryNetwork`]) for tests.
//!
//! Envelope encoding: one tag byte, then
//! - `1` consensus: the `consensus::bbft::codec` bytes of the message;
//! - `2` transaction: its canonical bytes;
//! - `3` get blocks: `from` height (`u64`) and `count` (`u32`, at most [`MAX_BLOCKS_PER_REPLY`]);
//! - `4` blocks: a `u32` count (at most [`MAX_BLOCKS_PER_REPLY`]) and each block as a `u32` length
//!   and its stored bytes (finality certificate in the witness);
//! - `5` transactions: a `u32` count (at most [`MAX_TXS_PER_ENVELOPE`]) and each transaction as a
//!   `u32` length and its canonical bytes (a forwarded batch).
//!
//! Integers are big-endian. Decoding checks every length and count, rejects trailing bytes and
//! never panics; a bad envelope is the sender's fault ([`WireError`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use consensus::bbft::NodeId;
use tokio::sync::mpsc;

/// Most blocks asked for or sent in one catch-up exchange.
pub const MAX_BLOCKS_PER_REPLY: u32 = 64;

/// Most transactions forwarded in one envelope.
pub const MAX_TXS_PER_ENVELOPE: u32 = 4096;

/// Most block bytes a catch-up reply carries: blocks are added while the total stays under it,
/// and a reply always holds at least one block (a block alone is bounded by the chain's limits).
pub const MAX_REPLY_BYTES: usize = 8 << 20;

/// Largest envelope accepted (a reply of [`MAX_REPLY_BYTES`] plus one largest block fits).
pub const MAX_ENVELOPE_BYTES: usize = 256 << 20;

/// One message between validator hosts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wire {
    /// A consensus message (encoded).
    Consensus(Vec<u8>),
    /// A transaction forwarded to the other validators (encoded).
    Tx(Vec<u8>),
    /// Transactions forwarded to the other validators in one batch (each encoded).
    Txs(Vec<Vec<u8>>),
    /// Asks for committed blocks from a height on.
    GetBlocks {
        /// First height wanted.
        from: u64,
        /// How many at most.
        count: u32,
    },
    /// Committed blocks in height order (stored bytes, with their certificates).
    Blocks(Vec<Vec<u8>>),
}

/// Why an envelope did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// Empty input or input that ends early.
    #[error("truncated envelope")]
    Truncated,
    /// An unknown tag.
    #[error("unknown envelope tag {0}")]
    Tag(u8),
    /// A count or size over its limit.
    #[error("{what} {got} over the limit {limit}")]
    TooLarge {
        /// What.
        what: &'static str,
        /// Declared.
        got: u64,
        /// Limit.
        limit: u64,
    },
    /// Bytes after the message.
    #[error("trailing bytes")]
    Trailing,
}

const TAG_CONSENSUS: u8 = 1;
const TAG_TX: u8 = 2;
const TAG_GET_BLOCKS: u8 = 3;
const TAG_BLOCKS: u8 = 4;
const TAG_TXS: u8 = 5;

impl Wire {
    /// Encodes the envelope.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Wire::Consensus(b) => [&[TAG_CONSENSUS][..], b].concat(),
            Wire::Tx(b) => [&[TAG_TX][..], b].concat(),
            Wire::GetBlocks { from, count } => {
                let mut w = vec![TAG_GET_BLOCKS];
                w.extend_from_slice(&from.to_be_bytes());
                w.extend_from_slice(&count.to_be_bytes());
                w
            }
            Wire::Blocks(items) => put_list(TAG_BLOCKS, items),
            Wire::Txs(items) => put_list(TAG_TXS, items),
        }
    }

    /// Whether encoded envelope `bytes` is forwarded transactions (bulk traffic a transport may
    /// send after consensus messages).
    pub fn is_bulk(bytes: &[u8]) -> bool {
        matches!(bytes.first(), Some(&TAG_TX | &TAG_TXS))
    }

    /// Decodes an envelope.
    pub fn decode(bytes: &[u8]) -> Result<Wire, WireError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(WireError::TooLarge {
                what: "envelope",
                got: bytes.len() as u64,
                limit: MAX_ENVELOPE_BYTES as u64,
            });
        }
        let (&tag, rest) = bytes.split_first().ok_or(WireError::Truncated)?;
        match tag {
            TAG_CONSENSUS => Ok(Wire::Consensus(rest.to_vec())),
            TAG_TX => Ok(Wire::Tx(rest.to_vec())),
            TAG_GET_BLOCKS => {
                let mut r = rest;
                let from = take_u64(&mut r)?;
                let count = take_u32(&mut r)?;
                if count > MAX_BLOCKS_PER_REPLY {
                    return Err(WireError::TooLarge {
                        what: "block count",
                        got: u64::from(count),
                        limit: u64::from(MAX_BLOCKS_PER_REPLY),
                    });
                }
                if !r.is_empty() {
                    return Err(WireError::Trailing);
                }
                Ok(Wire::GetBlocks { from, count })
            }
            TAG_BLOCKS => Ok(Wire::Blocks(take_list(
                rest,
                MAX_BLOCKS_PER_REPLY,
                "block count",
            )?)),
            TAG_TXS => Ok(Wire::Txs(take_list(
                rest,
                MAX_TXS_PER_ENVELOPE,
                "transaction count",
            )?)),
            t => Err(WireError::Tag(t)),
        }
    }
}

fn put_list(tag: u8, items: &[Vec<u8>]) -> Vec<u8> {
    let mut w = Vec::with_capacity(5 + items.iter().map(|b| b.len() + 4).sum::<usize>());
    w.push(tag);
    w.extend_from_slice(&u32::try_from(items.len()).unwrap_or(u32::MAX).to_be_bytes());
    for b in items {
        w.extend_from_slice(&u32::try_from(b.len()).unwrap_or(u32::MAX).to_be_bytes());
        w.extend_from_slice(b);
    }
    w
}

/// A `u32` count (at most `max`) of `u32`-length-prefixed byte strings filling `r` exactly.
fn take_list(mut r: &[u8], max: u32, what: &'static str) -> Result<Vec<Vec<u8>>, WireError> {
    let n = take_u32(&mut r)?;
    if n > max {
        return Err(WireError::TooLarge {
            what,
            got: u64::from(n),
            limit: u64::from(max),
        });
    }
    let mut items = Vec::new();
    for _ in 0..n {
        let len = usize::try_from(take_u32(&mut r)?).map_err(|_| WireError::Truncated)?;
        if r.len() < len {
            return Err(WireError::Truncated);
        }
        let (b, tail) = r.split_at(len);
        items.push(b.to_vec());
        r = tail;
    }
    if !r.is_empty() {
        return Err(WireError::Trailing);
    }
    Ok(items)
}

fn take_u64(r: &mut &[u8]) -> Result<u64, WireError> {
    if r.len() < 8 {
        return Err(WireError::Truncated);
    }
    let (a, rest) = r.split_at(8);
    *r = rest;
    let mut b = [0u8; 8];
    b.copy_from_slice(a);
    Ok(u64::from_be_bytes(b))
}

fn take_u32(r: &mut &[u8]) -> Result<u32, WireError> {
    if r.len() < 4 {
        return Err(WireError::Truncated);
    }
    let (a, rest) = r.split_at(4);
    *r = rest;
    let mut b = [0u8; 4];
    b.copy_from_slice(a);
    Ok(u32::from_be_bytes(b))
}

/// An envelope as received: the authenticated sender and the bytes.
pub type Incoming = (NodeId, Vec<u8>);

/// How a host reaches the other validators. The transport authenticates senders: what arrives on a
/// host's inbox (an `mpsc` receiver of [`Incoming`]) names its real sender. Sending never blocks
/// and may drop (the core re-sends what matters: timeouts, and catch-up is retried).
pub trait ConsensusNetwork: Send + Sync + std::fmt::Debug {
    /// Sends `bytes` (an encoded [`Wire`]) to `to`.
    fn send(&self, to: NodeId, bytes: Vec<u8>);
}

/// An in-process network: every joined node has an inbox; a node that left (or was never there)
/// silently loses what is sent to it, like a crashed peer.
#[derive(Debug, Clone, Default)]
pub struct MemoryNetwork {
    inboxes: Arc<Mutex<HashMap<NodeId, mpsc::UnboundedSender<Incoming>>>>,
}

impl MemoryNetwork {
    /// An empty network.
    pub fn new() -> MemoryNetwork {
        MemoryNetwork::default()
    }

    /// Joins as `me` (replacing an earlier inbox of `me`): the endpoint to send through and the
    /// inbox to receive on.
    pub fn join(&self, me: NodeId) -> (Arc<MemoryEndpoint>, mpsc::UnboundedReceiver<Incoming>) {
        let (tx, rx) = mpsc::unbounded_channel();
        self.lock().insert(me, tx);
        (
            Arc::new(MemoryEndpoint {
                me,
                net: self.clone(),
            }),
            rx,
        )
    }

    /// Removes `me`: messages to it are dropped until it joins again.
    pub fn leave(&self, me: NodeId) {
        self.lock().remove(&me);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<NodeId, mpsc::UnboundedSender<Incoming>>> {
        self.inboxes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// One node's side of a [`MemoryNetwork`].
#[derive(Debug)]
pub struct MemoryEndpoint {
    me: NodeId,
    net: MemoryNetwork,
}

impl ConsensusNetwork for MemoryEndpoint {
    fn send(&self, to: NodeId, bytes: Vec<u8>) {
        let inbox = self.net.lock().get(&to).cloned();
        if let Some(inbox) = inbox {
            // A closed inbox is a stopped node: the message is lost, as on a real network.
            let _ = inbox.send((self.me, bytes));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn envelopes_round_trip_and_bad_ones_are_refused() {
        let all = [
            Wire::Consensus(vec![1, 2, 3]),
            Wire::Tx(vec![9; 10]),
            Wire::GetBlocks { from: 7, count: 3 },
            Wire::Blocks(vec![vec![1], vec![], vec![2, 3]]),
            Wire::Txs(vec![vec![4; 7], vec![5]]),
            Wire::Txs(Vec::new()),
        ];
        for w in &all {
            assert_eq!(&Wire::decode(&w.encode()).unwrap(), w);
        }
        assert_eq!(Wire::decode(&[]), Err(WireError::Truncated));
        assert_eq!(Wire::decode(&[9]), Err(WireError::Tag(9)));
        let mut long = Wire::GetBlocks { from: 1, count: 1 }.encode();
        long.push(0);
        assert_eq!(Wire::decode(&long), Err(WireError::Trailing));
        let too_many = Wire::GetBlocks {
            from: 1,
            count: MAX_BLOCKS_PER_REPLY + 1,
        }
        .encode();
        assert!(matches!(Wire::decode(&too_many), Err(WireError::TooLarge { .. })));
        // A block length past the end.
        let mut cut = Wire::Blocks(vec![vec![1, 2, 3]]).encode();
        cut.truncate(cut.len() - 1);
        assert_eq!(Wire::decode(&cut), Err(WireError::Truncated));
        let mut too_many_txs = vec![TAG_TXS];
        too_many_txs.extend_from_slice(&(MAX_TXS_PER_ENVELOPE + 1).to_be_bytes());
        assert!(matches!(
            Wire::decode(&too_many_txs),
            Err(WireError::TooLarge { .. })
        ));
        let mut cut = Wire::Txs(vec![vec![1, 2]]).encode();
        cut.truncate(cut.len() - 1);
        assert_eq!(Wire::decode(&cut), Err(WireError::Truncated));
    }

    fn wire() -> impl proptest::strategy::Strategy<Value = Wire> {
        use proptest::prelude::*;
        let bytes = || proptest::collection::vec(any::<u8>(), 0..64);
        prop_oneof![
            bytes().prop_map(Wire::Consensus),
            bytes().prop_map(Wire::Tx),
            (any::<u64>(), 0..=MAX_BLOCKS_PER_REPLY)
                .prop_map(|(from, count)| Wire::GetBlocks { from, count }),
            proptest::collection::vec(bytes(), 0..8).prop_map(Wire::Blocks),
            proptest::collection::vec(bytes(), 0..8).prop_map(Wire::Txs),
        ]
    }

    proptest::proptest! {
        /// Every envelope round-trips; any bytes decode or fail with a typed error, never panic, and
        /// what decodes encodes back to the same bytes (one encoding per envelope).
        #[test]
        fn envelopes_round_trip_and_arbitrary_bytes_never_panic(
            w in wire(),
            junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
        ) {
            proptest::prop_assert_eq!(Wire::decode(&w.encode()).unwrap(), w);
            if let Ok(d) = Wire::decode(&junk) {
                proptest::prop_assert_eq!(d.encode(), junk);
            }
        }
    }
}

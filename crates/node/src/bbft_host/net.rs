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
//!   `u32` length and its canonical bytes (a forwarded batch);
//! - `6` compact proposal: the block id (32 bytes), then the `consensus::bbft::codec` bytes of the
//!   proposal with its payload replaced by the compact block's bytes
//!   (`p2p::compact::CompactBlock::encode`: header, 6-byte short IDs, prefilled coinbase);
//!   [`CompactProposal`] builds and opens it;
//! - `7` get proposal transactions: the block id and a `u32` count (at most
//!   [`MAX_TXS_PER_ENVELOPE`]) of `u32` positions in the block;
//! - `8` proposal transactions: the block id and the transactions asked for, in the order asked,
//!   as in `5`;
//! - `9` get proposal: the block id (answered with the full proposal as a `1`).
//!
//! Integers are big-endian. Decoding checks every length and count, rejects trailing bytes and
//! never panics; a bad envelope is the sender's fault ([`WireError`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use consensus::bbft::{self, BlockId, Message, NodeId, Payload, Proposal};
use p2p::compact::CompactBlock;
use tokio::sync::mpsc;
use types::profile::Profile;
use types::{Block, Transaction};

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
    /// A proposal whose payload is a compact block ([`CompactProposal`]).
    CompactProposal {
        /// The proposed block's id (what the rebuilt payload must hash to).
        block: BlockId,
        /// The consensus codec bytes of the proposal, the compact block as its payload.
        proposal: Vec<u8>,
    },
    /// Asks a compact proposal's sender for the transactions at these positions of its block.
    GetProposalTxs {
        /// The block.
        block: BlockId,
        /// Positions in the block.
        indexes: Vec<u32>,
    },
    /// The transactions a [`Wire::GetProposalTxs`] asked for, in its order (each encoded).
    ProposalTxs {
        /// The block.
        block: BlockId,
        /// The transactions.
        txs: Vec<Vec<u8>>,
    },
    /// Asks a compact proposal's sender for the full proposal (answered with a
    /// [`Wire::Consensus`]): the rebuilt block was not the proposed one.
    GetProposal {
        /// The block.
        block: BlockId,
    },
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

/// Why a compact proposal's content did not open (the envelope itself decoded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompactProposalError {
    /// The proposal bytes are not a consensus message.
    #[error("consensus message: {0}")]
    Consensus(#[from] bbft::DecodeError),
    /// A consensus message other than a proposal.
    #[error("not a proposal")]
    NotAProposal,
    /// The payload is not a compact block.
    #[error("compact block: {0}")]
    Compact(#[from] types::DecodeError),
    /// The compact block's header is at another height than the proposal.
    #[error("compact block at height {header}, proposal at {proposal}")]
    Height {
        /// In the header.
        header: u64,
        /// In the proposal.
        proposal: u64,
    },
}

const TAG_CONSENSUS: u8 = 1;
const TAG_TX: u8 = 2;
const TAG_GET_BLOCKS: u8 = 3;
const TAG_BLOCKS: u8 = 4;
const TAG_TXS: u8 = 5;
const TAG_COMPACT_PROPOSAL: u8 = 6;
const TAG_GET_PROPOSAL_TXS: u8 = 7;
const TAG_PROPOSAL_TXS: u8 = 8;
const TAG_GET_PROPOSAL: u8 = 9;

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
            Wire::CompactProposal { block, proposal } => {
                [&[TAG_COMPACT_PROPOSAL][..], &block.0, proposal].concat()
            }
            Wire::GetProposalTxs { block, indexes } => {
                let mut w = Vec::with_capacity(37 + 4 * indexes.len());
                w.push(TAG_GET_PROPOSAL_TXS);
                w.extend_from_slice(&block.0);
                w.extend_from_slice(&u32::try_from(indexes.len()).unwrap_or(u32::MAX).to_be_bytes());
                for i in indexes {
                    w.extend_from_slice(&i.to_be_bytes());
                }
                w
            }
            Wire::ProposalTxs { block, txs } => {
                let mut w = Vec::with_capacity(37 + txs.iter().map(|b| b.len() + 4).sum::<usize>());
                w.push(TAG_PROPOSAL_TXS);
                w.extend_from_slice(&block.0);
                put_items(&mut w, txs);
                w
            }
            Wire::GetProposal { block } => [&[TAG_GET_PROPOSAL][..], &block.0].concat(),
        }
    }

    /// Whether encoded envelope `bytes` belongs to the consensus plane: a consensus message or
    /// part of a compact proposal's exchange (the p2p network carries these in its `Consensus`
    /// message, as they are).
    pub fn is_consensus(bytes: &[u8]) -> bool {
        matches!(
            bytes.first(),
            Some(
                &TAG_CONSENSUS
                    | &TAG_COMPACT_PROPOSAL
                    | &TAG_GET_PROPOSAL_TXS
                    | &TAG_PROPOSAL_TXS
                    | &TAG_GET_PROPOSAL
            )
        )
    }

    /// Whether encoded envelope `bytes` is forwarded transactions (bulk traffic a transport may
    /// send after consensus messages).
    pub fn is_bulk(bytes: &[u8]) -> bool {
        matches!(bytes.first(), Some(&TAG_TX | &TAG_TXS))
    }

    /// Whether an envelope carries transactions or blocks as encoded bytes (`Txs`, `Blocks`),
    /// which a transport can frame as they are, without decoding them.
    pub fn carries_raw_items(bytes: &[u8]) -> bool {
        matches!(bytes.first(), Some(&TAG_TXS | &TAG_BLOCKS))
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
                let count = take_count(&mut r, MAX_BLOCKS_PER_REPLY, "block count")?;
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
            TAG_COMPACT_PROPOSAL => {
                let mut r = rest;
                let block = take_id(&mut r)?;
                Ok(Wire::CompactProposal {
                    block,
                    proposal: r.to_vec(),
                })
            }
            TAG_GET_PROPOSAL_TXS => {
                let mut r = rest;
                let block = take_id(&mut r)?;
                let n = take_count(&mut r, MAX_TXS_PER_ENVELOPE, "index count")?;
                let mut indexes = Vec::new();
                for _ in 0..n {
                    indexes.push(take_u32(&mut r)?);
                }
                if !r.is_empty() {
                    return Err(WireError::Trailing);
                }
                Ok(Wire::GetProposalTxs { block, indexes })
            }
            TAG_PROPOSAL_TXS => {
                let mut r = rest;
                let block = take_id(&mut r)?;
                let txs = take_list(r, MAX_TXS_PER_ENVELOPE, "transaction count")?;
                Ok(Wire::ProposalTxs { block, txs })
            }
            TAG_GET_PROPOSAL => {
                let mut r = rest;
                let block = take_id(&mut r)?;
                if !r.is_empty() {
                    return Err(WireError::Trailing);
                }
                Ok(Wire::GetProposal { block })
            }
            t => Err(WireError::Tag(t)),
        }
    }
}

fn put_list(tag: u8, items: &[Vec<u8>]) -> Vec<u8> {
    let mut w = Vec::with_capacity(5 + items.iter().map(|b| b.len() + 4).sum::<usize>());
    w.push(tag);
    put_items(&mut w, items);
    w
}

/// A `u32` count and each item as a `u32` length and its bytes.
fn put_items(w: &mut Vec<u8>, items: &[Vec<u8>]) {
    w.extend_from_slice(&u32::try_from(items.len()).unwrap_or(u32::MAX).to_be_bytes());
    for b in items {
        w.extend_from_slice(&u32::try_from(b.len()).unwrap_or(u32::MAX).to_be_bytes());
        w.extend_from_slice(b);
    }
}

/// A `u32` count (at most `max`) of `u32`-length-prefixed byte strings filling `r` exactly.
/// A `u32` count, refused above `max` before anything is read for it.
fn take_count(r: &mut &[u8], max: u32, what: &'static str) -> Result<u32, WireError> {
    let n = take_u32(r)?;
    if n > max {
        return Err(WireError::TooLarge {
            what,
            got: u64::from(n),
            limit: u64::from(max),
        });
    }
    Ok(n)
}

fn take_list(mut r: &[u8], max: u32, what: &'static str) -> Result<Vec<Vec<u8>>, WireError> {
    let n = take_count(&mut r, max, what)?;
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

fn take_id(r: &mut &[u8]) -> Result<BlockId, WireError> {
    if r.len() < 32 {
        return Err(WireError::Truncated);
    }
    let (a, rest) = r.split_at(32);
    *r = rest;
    let mut b = [0u8; 32];
    b.copy_from_slice(a);
    Ok(BlockId(b))
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

/// A proposal in transit in compact form: the signed proposal with its payload (the block) replaced
/// by a compact block. The proposer's signature covers (epoch, round, block id) only, so the receiver
/// checks its rebuilt payload against `block` and then has the exact proposal back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactProposal {
    /// The proposed block's id.
    pub block: BlockId,
    /// The proposal, its payload empty.
    pub proposal: Proposal,
    /// The block in compact form.
    pub compact: CompactBlock,
}

impl CompactProposal {
    /// The compact form of `proposal` (whose payload is `block`'s canonical bytes and whose id is
    /// `id`): every transaction as a short ID but the coinbase, sent in full.
    pub fn new(id: BlockId, proposal: &Proposal, block: &Block) -> CompactProposal {
        let mut proposal = proposal.clone();
        proposal.payload = Payload::default();
        CompactProposal {
            block: id,
            proposal,
            compact: CompactBlock::from_block(block, &[]),
        }
    }

    /// The envelope.
    pub fn to_wire(&self) -> Wire {
        let mut p = self.proposal.clone();
        p.payload = self.compact.encode().into();
        Wire::CompactProposal {
            block: self.block,
            proposal: bbft::encode(&Message::Proposal(Box::new(p))),
        }
    }

    /// Opens the content of a [`Wire::CompactProposal`]: the proposal bytes decode under `limits`
    /// (the compact block is never larger than the block), the payload as a sidechain compact block
    /// under `block_limits`, at the proposal's height.
    pub fn open(
        block: BlockId,
        proposal: &[u8],
        limits: &bbft::Limits,
        block_limits: &types::Limits,
    ) -> Result<CompactProposal, CompactProposalError> {
        let Message::Proposal(mut p) = bbft::decode(proposal, limits)? else {
            return Err(CompactProposalError::NotAProposal);
        };
        let compact = CompactBlock::decode(&p.payload, Profile::Side, block_limits)?;
        if compact.header.height != p.height {
            return Err(CompactProposalError::Height {
                header: compact.header.height,
                proposal: p.height,
            });
        }
        p.payload = Payload::default();
        Ok(CompactProposal {
            block,
            proposal: *p,
            compact,
        })
    }
}

/// What a peer sent, as the host receives it.
#[derive(Debug, Clone)]
pub enum Inbound {
    /// An encoded [`Wire`] envelope.
    Envelope(Vec<u8>),
    /// Forwarded transactions the transport already decoded (and hashed) to check the frame:
    /// handed to admission as they are rather than encoded and decoded once more.
    Transactions(Vec<Transaction>),
    /// A catch-up reply the transport already decoded to check the frame: handed to import as it
    /// is (encoding it into a [`Wire::Blocks`] envelope only for the host to decode it again cost
    /// a validator a twentieth of its time under load).
    Blocks(Vec<Block>),
}

/// A message as received: the authenticated sender and what it sent.
pub type Incoming = (NodeId, Inbound);

/// How a host reaches the other validators. The transport authenticates senders: what arrives on a
/// host's inbox (an `mpsc` receiver of [`Incoming`]) names its real sender. Sending never blocks
/// and may drop (the core re-sends what matters: timeouts, and catch-up is retried).
pub trait ConsensusNetwork: Send + Sync + std::fmt::Debug {
    /// Sends `bytes` (an encoded [`Wire`]) to `to`.
    fn send(&self, to: NodeId, bytes: Vec<u8>);
}

/// What a test does to an envelope in flight on a [`MemoryNetwork`]: given `(from, to, bytes)`, the
/// bytes to deliver, or `None` to drop them.
pub type Filter = dyn Fn(NodeId, NodeId, Vec<u8>) -> Option<Vec<u8>> + Send + Sync;

/// An in-process network: every joined node has an inbox; a node that left (or was never there)
/// silently loses what is sent to it, like a crashed peer. Tests may put a [`Filter`] on it to
/// drop or alter envelopes.
#[derive(Clone, Default)]
pub struct MemoryNetwork {
    inboxes: Arc<Mutex<HashMap<NodeId, mpsc::UnboundedSender<Incoming>>>>,
    filter: Arc<Mutex<Option<Arc<Filter>>>>,
}

impl std::fmt::Debug for MemoryNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryNetwork")
            .field("nodes", &self.lock().len())
            .finish_non_exhaustive()
    }
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

    /// Passes every envelope sent from now on through `filter` (replacing an earlier one).
    pub fn set_filter(
        &self,
        filter: impl Fn(NodeId, NodeId, Vec<u8>) -> Option<Vec<u8>> + Send + Sync + 'static,
    ) {
        *self
            .filter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(filter));
    }

    /// Delivers every envelope as sent again.
    pub fn clear_filter(&self) {
        *self
            .filter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
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
        let filter = self
            .net
            .filter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let bytes = match filter {
            Some(f) => match f(self.me, to, bytes) {
                Some(b) => b,
                None => return,
            },
            None => bytes,
        };
        let inbox = self.net.lock().get(&to).cloned();
        if let Some(inbox) = inbox {
            // A closed inbox is a stopped node: the message is lost, as on a real network.
            let _ = inbox.send((self.me, Inbound::Envelope(bytes)));
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
            Wire::CompactProposal {
                block: BlockId([3; 32]),
                proposal: vec![1, 2],
            },
            Wire::GetProposalTxs {
                block: BlockId([4; 32]),
                indexes: vec![1, 7, u32::MAX],
            },
            Wire::ProposalTxs {
                block: BlockId([5; 32]),
                txs: vec![vec![6; 3], vec![]],
            },
            Wire::GetProposal {
                block: BlockId([6; 32]),
            },
        ];
        for w in &all {
            assert_eq!(&Wire::decode(&w.encode()).unwrap(), w);
        }
        assert_eq!(Wire::decode(&[]), Err(WireError::Truncated));
        assert_eq!(Wire::decode(&[10]), Err(WireError::Tag(10)));
        assert_eq!(Wire::decode(&[0]), Err(WireError::Tag(0)));
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
        // The compact exchange: a block id cut short, too many indexes, trailing bytes.
        let get = Wire::GetProposal {
            block: BlockId([1; 32]),
        }
        .encode();
        assert_eq!(Wire::decode(&get[..32]), Err(WireError::Truncated));
        let mut long = get.clone();
        long.push(0);
        assert_eq!(Wire::decode(&long), Err(WireError::Trailing));
        assert_eq!(
            Wire::decode(&[TAG_COMPACT_PROPOSAL, 1, 2]),
            Err(WireError::Truncated)
        );
        let mut too_many = vec![TAG_GET_PROPOSAL_TXS];
        too_many.extend_from_slice(&[0; 32]);
        too_many.extend_from_slice(&(MAX_TXS_PER_ENVELOPE + 1).to_be_bytes());
        assert!(matches!(Wire::decode(&too_many), Err(WireError::TooLarge { .. })));
        let mut too_many = vec![TAG_PROPOSAL_TXS];
        too_many.extend_from_slice(&[0; 32]);
        too_many.extend_from_slice(&(MAX_TXS_PER_ENVELOPE + 1).to_be_bytes());
        assert!(matches!(Wire::decode(&too_many), Err(WireError::TooLarge { .. })));
        let mut cut = Wire::GetProposalTxs {
            block: BlockId([1; 32]),
            indexes: vec![1, 2],
        }
        .encode();
        cut.truncate(cut.len() - 1);
        assert_eq!(Wire::decode(&cut), Err(WireError::Truncated));
        let mut cut = Wire::ProposalTxs {
            block: BlockId([1; 32]),
            txs: vec![vec![1, 2]],
        }
        .encode();
        cut.truncate(cut.len() - 1);
        assert_eq!(Wire::decode(&cut), Err(WireError::Truncated));
        // Which envelopes ride the consensus plane, and which are bulk.
        for w in &all {
            let b = w.encode();
            let consensus = matches!(
                w,
                Wire::Consensus(_)
                    | Wire::CompactProposal { .. }
                    | Wire::GetProposalTxs { .. }
                    | Wire::ProposalTxs { .. }
                    | Wire::GetProposal { .. }
            );
            assert_eq!(Wire::is_consensus(&b), consensus, "{w:?}");
            assert_eq!(
                Wire::is_bulk(&b),
                matches!(w, Wire::Tx(_) | Wire::Txs(_)),
                "{w:?}"
            );
        }
    }

    /// A sidechain block of `n` transfers on a devnet genesis, and a proposal of it signed by a key.
    fn proposal_of(n: usize) -> (Block, BlockId, Proposal) {
        let params = ledger::ChainParams::side_devnet();
        let xprv = crypto::chainkd::XPrv::root(b"net test account");
        let program = crate::genesis::p2wpkh_program_of(&xprv.xpub());
        let genesis = crate::genesis::devnet_genesis(&params, &program, n, 1_000_000_000, 1_000).unwrap();
        let coins = crate::devnet::coins_of(&genesis.transactions()[1], &program);
        let mut txs = vec![genesis.transactions()[0].clone()];
        for c in &coins {
            txs.push(
                crate::devnet::sign_transfer(
                    &xprv,
                    std::slice::from_ref(c),
                    &[(program.clone(), c.amount - 1_000)],
                )
                .unwrap(),
            );
        }
        let ids: Vec<types::Hash> = txs.iter().map(types::Transaction::id).collect();
        let mut header = genesis.header().clone();
        header.height = 7;
        header.transactions_merkle_root = types::merkle::tx_merkle_root(&ids);
        let block = Block::new(header, txs).unwrap();
        let payload = block.encode();
        let parent = BlockId([9; 32]);
        let id = BlockId::compute(7, &parent, &payload);
        let key = crypto::bls::SecretKey::from_seed(&[1; 32]);
        let p = Proposal {
            epoch: 0,
            round: 3,
            height: 7,
            parent,
            justify: bbft::Justify::Genesis,
            tc: None,
            payload: payload.into(),
            proposer: 0,
            signature: key.sign(&bbft::ProposalHeader::signing_bytes(0, 3, &id)),
        };
        (block, id, p)
    }

    #[test]
    fn compact_proposals_open_to_the_same_proposal_and_bad_content_is_typed() {
        let (block, id, full) = proposal_of(5);
        let limits = bbft::Limits { max_payload: 1 << 20 };
        let block_limits = types::Limits::default();
        let cp = CompactProposal::new(id, &full, &block);
        assert_eq!(cp.compact.short_ids.len(), 5);
        assert_eq!(cp.compact.prefilled.len(), 1, "the coinbase, in full");
        let wire = cp.to_wire();
        let encoded = wire.encode();
        assert!(encoded.len() < bbft::encode(&Message::Proposal(Box::new(full.clone()))).len());
        let Wire::CompactProposal { block: got, proposal } = Wire::decode(&encoded).unwrap() else {
            panic!("not a compact proposal");
        };
        assert_eq!(got, id);
        let opened = CompactProposal::open(got, &proposal, &limits, &block_limits).unwrap();
        assert_eq!(opened, cp);
        // Rebuilt from the block's transactions, the proposal is the signed one, byte for byte.
        let rebuilt = p2p::compact::reconstruct(&opened.compact, block.transactions()).unwrap();
        let mut p = opened.proposal.clone();
        p.payload = rebuilt.encode().into();
        assert_eq!(p, full);
        assert_eq!(p.block_id(), id);

        // Not a consensus message, not a proposal, not a compact block, another height.
        assert!(matches!(
            CompactProposal::open(id, &[0xff], &limits, &block_limits),
            Err(CompactProposalError::Consensus(_))
        ));
        let sub = bbft::encode(&Message::Subscribe {
            epoch: 0,
            until_round: 1,
        });
        assert_eq!(
            CompactProposal::open(id, &sub, &limits, &block_limits),
            Err(CompactProposalError::NotAProposal)
        );
        let mut junk = full.clone();
        junk.payload = vec![1, 2, 3].into();
        let junk = bbft::encode(&Message::Proposal(Box::new(junk)));
        assert!(matches!(
            CompactProposal::open(id, &junk, &limits, &block_limits),
            Err(CompactProposalError::Compact(_))
        ));
        let mut high = cp.clone();
        high.proposal.height = 8;
        let Wire::CompactProposal { proposal, .. } = high.to_wire() else {
            unreachable!()
        };
        assert_eq!(
            CompactProposal::open(id, &proposal, &limits, &block_limits),
            Err(CompactProposalError::Height {
                header: 7,
                proposal: 8
            })
        );
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
            (any::<[u8; 32]>(), bytes()).prop_map(|(b, proposal)| Wire::CompactProposal {
                block: BlockId(b),
                proposal
            }),
            (any::<[u8; 32]>(), proptest::collection::vec(any::<u32>(), 0..16)).prop_map(|(b, indexes)| {
                Wire::GetProposalTxs {
                    block: BlockId(b),
                    indexes,
                }
            }),
            (any::<[u8; 32]>(), proptest::collection::vec(bytes(), 0..8)).prop_map(|(b, txs)| {
                Wire::ProposalTxs {
                    block: BlockId(b),
                    txs,
                }
            }),
            any::<[u8; 32]>().prop_map(|b| Wire::GetProposal { block: BlockId(b) }),
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
                proptest::prop_assert_eq!(d.encode(), junk.clone());
            }
            // With each tag in front, so every body parser sees the arbitrary bytes.
            for tag in 0..=10u8 {
                let b = [&[tag][..], &junk].concat();
                if let Ok(d) = Wire::decode(&b) {
                    proptest::prop_assert_eq!(d.encode(), b);
                }
            }
        }

        /// Arbitrary compact-proposal content never panics: it opens or fails with a typed error.
        #[test]
        fn compact_proposal_content_never_panics(
            junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512),
            pos in proptest::prelude::any::<usize>(),
            byte in proptest::prelude::any::<u8>(),
        ) {
            let limits = bbft::Limits { max_payload: 1 << 20 };
            let _ = CompactProposal::open(BlockId([0; 32]), &junk, &limits, &types::Limits::default());
            // A real compact proposal with one byte changed.
            let (block, id, full) = proposal_of(2);
            let Wire::CompactProposal { proposal, .. } = CompactProposal::new(id, &full, &block).to_wire() else {
                unreachable!()
            };
            let mut mutated = proposal;
            let i = pos % mutated.len();
            mutated[i] = byte;
            let _ = CompactProposal::open(id, &mutated, &limits, &types::Limits::default());
        }
    }
}

//! The application message codec: our own versioned wire format (specified in `docs/p2p.md`).
//!
//! A message is `version (1 byte) ‖ kind (1 byte) ‖ body`. Bodies use the chain's primitives (LEB128
//! varints, length-prefixed byte strings) through [`types::codec`]; transactions and blocks travel as
//! length-prefixed canonical encodings decoded under [`types::Limits`]. Every count and length is checked
//! against [`CodecConfig`] before anything is read, nothing is preallocated from a wire value, and
//! trailing bytes are an error, so each message has exactly one encoding.

use types::codec::{Reader, Writer};
use types::{Block, BlockSerialization, DecodeError, Hash, Limits, Profile, Transaction};

use crate::compact::CompactBlock;

/// The message format version this crate writes and reads.
pub const WIRE_VERSION: u8 = 1;

/// Bounds and context for decoding messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecConfig {
    /// Profile of the chain's transactions and blocks.
    pub profile: Profile,
    /// Limits for transactions and blocks.
    pub limits: Limits,
    /// Most transactions in a `Transactions` or `BlockTransactions` message.
    pub max_txs_per_message: usize,
    /// Most IDs in a `TxInventory` or `GetTransactions` message.
    pub max_inventory: usize,
    /// Most blocks a `GetBlocks` may ask for, and a `Blocks` may carry.
    pub max_blocks_per_message: usize,
    /// Largest opaque consensus payload.
    pub max_consensus_bytes: usize,
}

impl CodecConfig {
    /// Defaults for `profile`.
    pub fn new(profile: Profile) -> CodecConfig {
        CodecConfig {
            profile,
            limits: Limits::default(),
            max_txs_per_message: 10_000,
            max_inventory: 50_000,
            max_blocks_per_message: 128,
            max_consensus_bytes: 1 << 20,
        }
    }
}

/// Why message bytes did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// The message was empty or shorter than its two header bytes.
    #[error("message too short")]
    Truncated,
    /// A format version we do not read.
    #[error("unsupported message version {0}")]
    UnsupportedVersion(u8),
    /// An unknown message kind.
    #[error("unknown message kind {0}")]
    UnknownKind(u8),
    /// A `GetBlocks` asking for zero blocks or more than the limit.
    #[error("GetBlocks count {count} outside 1..={max}")]
    BadBlockCount {
        /// Requested.
        count: u64,
        /// Limit.
        max: usize,
    },
    /// A block in a `Blocks` message that is not a full block (header and transactions).
    #[error("block {index} is not a full block (serialization flags {flags:#04x})")]
    NotFullBlock {
        /// Position in the message.
        index: usize,
        /// The flags byte found.
        flags: u8,
    },
    /// A field failed to decode.
    #[error("{0}")]
    Decode(#[from] DecodeError),
}

/// A status announcement: where the sender's chain is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Chain ID (must match the handshake's).
    pub chain_id: Hash,
    /// Height of the best block.
    pub best_height: u64,
    /// Hash of the best block.
    pub best_hash: Hash,
    /// Highest final (irreversible) height.
    pub final_height: u64,
}

/// Every message of protocol version 1.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// Chain status (kind 0).
    Status(Status),
    /// A batch of transactions (kind 1).
    Transactions(Vec<Transaction>),
    /// Announcement of transaction IDs (kind 2).
    TxInventory(Vec<Hash>),
    /// Request for transactions by ID (kind 3).
    GetTransactions(Vec<Hash>),
    /// A compact block (kind 4).
    CompactBlock(CompactBlock),
    /// Request for a compact block's missing transactions by index (kind 5).
    GetBlockTransactions {
        /// The block.
        block_hash: Hash,
        /// Positions in the block (the answering side checks them against the block).
        indexes: Vec<u32>,
    },
    /// The transactions asked for by `GetBlockTransactions`, in the same order (kind 6).
    BlockTransactions {
        /// The block.
        block_hash: Hash,
        /// The transactions.
        transactions: Vec<Transaction>,
    },
    /// Request for `count` consecutive blocks starting at `from_height` (kind 7).
    GetBlocks {
        /// First height.
        from_height: u64,
        /// How many (1 ..= the configured limit).
        count: u32,
    },
    /// Full blocks, ascending (kind 8).
    Blocks(Vec<Block>),
    /// Opaque consensus (BBFT) bytes (kind 9).
    Consensus(Vec<u8>),
    /// Liveness / RTT probe (kind 10).
    Ping(u64),
    /// Answer to a `Ping` with its nonce (kind 11).
    Pong(u64),
}

mod kind {
    pub(super) const STATUS: u8 = 0;
    pub(super) const TRANSACTIONS: u8 = 1;
    pub(super) const TX_INVENTORY: u8 = 2;
    pub(super) const GET_TRANSACTIONS: u8 = 3;
    pub(super) const COMPACT_BLOCK: u8 = 4;
    pub(super) const GET_BLOCK_TRANSACTIONS: u8 = 5;
    pub(super) const BLOCK_TRANSACTIONS: u8 = 6;
    pub(super) const GET_BLOCKS: u8 = 7;
    pub(super) const BLOCKS: u8 = 8;
    pub(super) const CONSENSUS: u8 = 9;
    pub(super) const PING: u8 = 10;
    pub(super) const PONG: u8 = 11;
}

// Counts and lengths on the wire are 31-bit varints (the chain codec's rule); a length above that cannot
// be produced by an honest encoder because every collection is bounded far below it.
fn put_len(w: &mut Writer, n: usize) {
    w.put_uvarint(n as u64);
}

fn put_hashes(w: &mut Writer, hs: &[Hash]) {
    put_len(w, hs.len());
    for h in hs {
        w.put_hash(h);
    }
}

/// The bytes of `Message::Transactions` for transactions given in their canonical encoding: what
/// `Message::Transactions(txs).encode()` gives, without decoding (hashing) them first. For relays
/// that hold transactions as bytes.
pub fn encode_raw_transactions(raw: &[Vec<u8>]) -> Vec<u8> {
    encode_raw_list(kind::TRANSACTIONS, raw)
}

/// The bytes of `Message::Blocks` for blocks given in their canonical encoding: what
/// `Message::Blocks(blocks).encode()` gives, without decoding them first (a catch-up reply is read
/// from the store as bytes).
pub fn encode_raw_blocks(raw: &[Vec<u8>]) -> Vec<u8> {
    encode_raw_list(kind::BLOCKS, raw)
}

/// A message of kind `k` whose body is a count and length-prefixed items, from the items' bytes.
fn encode_raw_list(k: u8, raw: &[Vec<u8>]) -> Vec<u8> {
    let mut w = Writer::new();
    w.put_u8(WIRE_VERSION);
    w.put_u8(k);
    put_len(&mut w, raw.len());
    for item in raw {
        w.put_varstr(item);
    }
    w.into_bytes()
}

fn put_txs(w: &mut Writer, txs: &[Transaction]) {
    put_len(w, txs.len());
    for tx in txs {
        w.put_varstr(&tx.encode());
    }
}

fn read_hashes(r: &mut Reader<'_>, max: usize, what: &'static str) -> Result<Vec<Hash>, DecodeError> {
    let n = r.read_count(max, what)?;
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(r.read_hash(what)?);
    }
    Ok(out)
}

fn read_u32(r: &mut Reader<'_>, what: &'static str) -> Result<u32, DecodeError> {
    let offset = r.offset();
    let v = r.read_uvarint(what)?;
    u32::try_from(v).map_err(|_| DecodeError::OutOfRange {
        what,
        offset,
        value: v,
        bits: 32,
    })
}

fn read_tx(r: &mut Reader<'_>, cfg: &CodecConfig) -> Result<Transaction, DecodeError> {
    let bytes = r.read_varstr(cfg.limits.max_tx_bytes, "transaction")?;
    Transaction::decode(bytes, cfg.profile, &cfg.limits)
}

fn read_txs(r: &mut Reader<'_>, cfg: &CodecConfig) -> Result<Vec<Transaction>, DecodeError> {
    let n = r.read_count(cfg.max_txs_per_message, "transaction count")?;
    let mut out = Vec::new();
    for index in 0..n {
        out.push(read_tx(r, cfg).map_err(|e| DecodeError::Transaction {
            index,
            source: Box::new(e),
        })?);
    }
    Ok(out)
}

impl Message {
    /// The kind byte.
    pub fn kind(&self) -> u8 {
        match self {
            Message::Status(_) => kind::STATUS,
            Message::Transactions(_) => kind::TRANSACTIONS,
            Message::TxInventory(_) => kind::TX_INVENTORY,
            Message::GetTransactions(_) => kind::GET_TRANSACTIONS,
            Message::CompactBlock(_) => kind::COMPACT_BLOCK,
            Message::GetBlockTransactions { .. } => kind::GET_BLOCK_TRANSACTIONS,
            Message::BlockTransactions { .. } => kind::BLOCK_TRANSACTIONS,
            Message::GetBlocks { .. } => kind::GET_BLOCKS,
            Message::Blocks(_) => kind::BLOCKS,
            Message::Consensus(_) => kind::CONSENSUS,
            Message::Ping(_) => kind::PING,
            Message::Pong(_) => kind::PONG,
        }
    }

    /// The wire bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.put_u8(WIRE_VERSION);
        w.put_u8(self.kind());
        match self {
            Message::Status(s) => {
                w.put_hash(&s.chain_id);
                w.put_uvarint(s.best_height);
                w.put_hash(&s.best_hash);
                w.put_uvarint(s.final_height);
            }
            Message::Transactions(txs) => put_txs(&mut w, txs),
            Message::TxInventory(ids) | Message::GetTransactions(ids) => put_hashes(&mut w, ids),
            Message::CompactBlock(cb) => cb.write_to(&mut w),
            Message::GetBlockTransactions { block_hash, indexes } => {
                w.put_hash(block_hash);
                put_len(&mut w, indexes.len());
                for i in indexes {
                    w.put_uvarint(u64::from(*i));
                }
            }
            Message::BlockTransactions {
                block_hash,
                transactions,
            } => {
                w.put_hash(block_hash);
                put_txs(&mut w, transactions);
            }
            Message::GetBlocks { from_height, count } => {
                w.put_uvarint(*from_height);
                w.put_uvarint(u64::from(*count));
            }
            Message::Blocks(blocks) => {
                put_len(&mut w, blocks.len());
                for b in blocks {
                    w.put_varstr(&b.encode());
                }
            }
            Message::Consensus(bytes) => w.put_varstr(bytes),
            Message::Ping(n) | Message::Pong(n) => w.put_bytes(&n.to_be_bytes()),
        }
        w.into_bytes()
    }

    /// Decodes one message that must fill `bytes` exactly.
    pub fn decode(bytes: &[u8], cfg: &CodecConfig) -> Result<Message, MessageError> {
        let mut r = Reader::new(bytes);
        let version = r.read_u8("version").map_err(|_| MessageError::Truncated)?;
        if version != WIRE_VERSION {
            return Err(MessageError::UnsupportedVersion(version));
        }
        let k = r.read_u8("kind").map_err(|_| MessageError::Truncated)?;
        let msg = match k {
            kind::STATUS => Message::Status(Status {
                chain_id: r.read_hash("chain id")?,
                best_height: r.read_uvarint("best height")?,
                best_hash: r.read_hash("best hash")?,
                final_height: r.read_uvarint("final height")?,
            }),
            kind::TRANSACTIONS => Message::Transactions(read_txs(&mut r, cfg)?),
            kind::TX_INVENTORY => Message::TxInventory(read_hashes(&mut r, cfg.max_inventory, "inventory")?),
            kind::GET_TRANSACTIONS => {
                Message::GetTransactions(read_hashes(&mut r, cfg.max_inventory, "tx request")?)
            }
            kind::COMPACT_BLOCK => {
                Message::CompactBlock(CompactBlock::read_from(&mut r, cfg.profile, &cfg.limits)?)
            }
            kind::GET_BLOCK_TRANSACTIONS => {
                let block_hash = r.read_hash("block hash")?;
                let n = r.read_count(cfg.limits.max_block_txs, "index count")?;
                let mut indexes = Vec::new();
                for _ in 0..n {
                    indexes.push(read_u32(&mut r, "index")?);
                }
                Message::GetBlockTransactions { block_hash, indexes }
            }
            kind::BLOCK_TRANSACTIONS => Message::BlockTransactions {
                block_hash: r.read_hash("block hash")?,
                transactions: read_txs(&mut r, cfg)?,
            },
            kind::GET_BLOCKS => {
                let from_height = r.read_uvarint("from height")?;
                let count = r.read_uvarint("block count")?;
                let max = cfg.max_blocks_per_message;
                let ok = count >= 1 && usize::try_from(count).is_ok_and(|c| c <= max);
                match (ok, u32::try_from(count)) {
                    (true, Ok(count)) => Message::GetBlocks { from_height, count },
                    _ => return Err(MessageError::BadBlockCount { count, max }),
                }
            }
            kind::BLOCKS => {
                let n = r.read_count(cfg.max_blocks_per_message, "block count")?;
                let mut blocks = Vec::new();
                for index in 0..n {
                    let bytes = r.read_varstr(cfg.limits.max_block_bytes, "block")?;
                    // Header-only or transactions-only encodings are valid elsewhere, not as a block.
                    match bytes.first() {
                        Some(&f) if f == BlockSerialization::Full as u8 => {}
                        other => {
                            return Err(MessageError::NotFullBlock {
                                index,
                                flags: other.copied().unwrap_or(0),
                            });
                        }
                    }
                    blocks.push(Block::decode(bytes, cfg.profile, &cfg.limits)?);
                }
                Message::Blocks(blocks)
            }
            kind::CONSENSUS => Message::Consensus(r.read_varstr_vec(cfg.max_consensus_bytes, "consensus")?),
            kind::PING | kind::PONG => {
                let b = r.read_bytes(8, "nonce")?;
                let mut n = [0u8; 8];
                n.copy_from_slice(b);
                let n = u64::from_be_bytes(n);
                if k == kind::PING {
                    Message::Ping(n)
                } else {
                    Message::Pong(n)
                }
            }
            other => return Err(MessageError::UnknownKind(other)),
        };
        r.expect_end("message")?;
        Ok(msg)
    }
}

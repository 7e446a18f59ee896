//! Block headers and blocks of both profiles, their wire format and the block hash.
//!
//! Wire format: one serialization-flags byte (1 = header only, 2 = transactions only (sidechain),
//! 3 = full), version, height, previous block hash, timestamp, the block commitment as an extensible
//! string (transaction Merkle root, status Merkle root), then on the main chain nonce and bits, on a
//! sidechain the block witness as an extensible string (a list of byte strings), then for a full block
//! the transaction count and the transactions.
//!
//! The block hash is the `blockheader` entry ID: version, height, previous hash, timestamp, both roots,
//! and on the main chain bits then nonce (in that order). The sidechain's witness is not hashed.

use std::sync::OnceLock;

use crate::codec::{DecodeError, Limits, Reader, Writer};
use crate::entry::{Body, entry_id};
use crate::hash::Hash;
use crate::merkle;
use crate::profile::Profile;
use crate::tx::Transaction;

/// Serialization flags of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockSerialization {
    /// Header only (flag 1).
    Header = 1,
    /// Transactions only, no header fields (flag 2; sidechain only).
    Transactions = 2,
    /// Header and transactions (flag 3).
    Full = 3,
}

/// The profile-specific tail of a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderConsensus {
    /// Main chain proof of work.
    Pow {
        /// Nonce found by the miner.
        nonce: u64,
        /// Compact difficulty target.
        bits: u64,
    },
    /// Sidechain block witness: one slot per consensus node (a signature over the block hash, or empty).
    Witness {
        /// The slots.
        witness: Vec<Vec<u8>>,
        /// Unread tail of the witness string, written back unchanged.
        suffix: Vec<u8>,
    },
}

/// A block header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockHeader {
    /// Block version.
    pub version: u64,
    /// Height (genesis is 0).
    pub height: u64,
    /// Hash of the previous block (zero for genesis).
    pub previous_block_hash: Hash,
    /// Timestamp: seconds on the main chain, milliseconds on a sidechain.
    pub timestamp: u64,
    /// Merkle root over the transaction IDs.
    pub transactions_merkle_root: Hash,
    /// Merkle root over the transaction statuses.
    pub transaction_status_hash: Hash,
    /// Unread tail of the commitment string. The reference drops it; it is kept for an exact round trip
    /// and is not part of the hash.
    pub commitment_suffix: Vec<u8>,
    /// Proof of work or block witness; this decides the header's profile.
    pub consensus: HeaderConsensus,
}

/// Why a header or block is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// A header value above 2^63-1, which the wire format cannot carry.
    #[error("block header {what} is {value}, above 2^63-1")]
    ValueOutOfRange {
        /// The field.
        what: &'static str,
        /// The value.
        value: u64,
    },
    /// A transaction of another profile than the header's.
    #[error("transaction {index} is of the {tx} profile but the header is of the {header} profile")]
    ProfileMismatch {
        /// Transaction position.
        index: usize,
        /// The transaction's profile.
        tx: Profile,
        /// The header's profile.
        header: Profile,
    },
}

impl BlockHeader {
    /// An all-zero header of `profile` (what the sidechain reference leaves when it reads a
    /// transactions-only block).
    pub fn empty(profile: Profile) -> BlockHeader {
        BlockHeader {
            version: 0,
            height: 0,
            previous_block_hash: Hash::ZERO,
            timestamp: 0,
            transactions_merkle_root: Hash::ZERO,
            transaction_status_hash: Hash::ZERO,
            commitment_suffix: Vec::new(),
            consensus: match profile {
                Profile::Main => HeaderConsensus::Pow { nonce: 0, bits: 0 },
                Profile::Side => HeaderConsensus::Witness {
                    witness: Vec::new(),
                    suffix: Vec::new(),
                },
            },
        }
    }

    /// The profile, from the consensus tail.
    pub fn profile(&self) -> Profile {
        match self.consensus {
            HeaderConsensus::Pow { .. } => Profile::Main,
            HeaderConsensus::Witness { .. } => Profile::Side,
        }
    }

    /// Checks that every value fits the wire format (decoded headers always do).
    pub fn validate(&self) -> Result<(), BlockError> {
        let mut fields = vec![
            ("version", self.version),
            ("height", self.height),
            ("timestamp", self.timestamp),
        ];
        if let HeaderConsensus::Pow { nonce, bits } = self.consensus {
            fields.push(("nonce", nonce));
            fields.push(("bits", bits));
        }
        for (what, value) in fields {
            if value > i64::MAX as u64 {
                return Err(BlockError::ValueOutOfRange { what, value });
            }
        }
        Ok(())
    }

    /// The block hash: the `blockheader` entry ID.
    pub fn hash(&self) -> Hash {
        let mut b = Body::new();
        b.u64(self.version)
            .u64(self.height)
            .hash(&self.previous_block_hash)
            .u64(self.timestamp)
            .hash(&self.transactions_merkle_root)
            .hash(&self.transaction_status_hash);
        if let HeaderConsensus::Pow { nonce, bits } = self.consensus {
            b.u64(bits).u64(nonce);
        }
        entry_id("blockheader", b)
    }

    /// The nonce (main chain).
    pub fn nonce(&self) -> Option<u64> {
        match self.consensus {
            HeaderConsensus::Pow { nonce, .. } => Some(nonce),
            HeaderConsensus::Witness { .. } => None,
        }
    }

    /// The difficulty bits (main chain).
    pub fn bits(&self) -> Option<u64> {
        match self.consensus {
            HeaderConsensus::Pow { bits, .. } => Some(bits),
            HeaderConsensus::Witness { .. } => None,
        }
    }

    /// The block witness slots (sidechain).
    pub fn witness(&self) -> Option<&[Vec<u8>]> {
        match &self.consensus {
            HeaderConsensus::Pow { .. } => None,
            HeaderConsensus::Witness { witness, .. } => Some(witness),
        }
    }

    /// Decodes a header from the front of `bytes` (flag 1 or 3). Like the reference, whatever follows the
    /// header (e.g. a full block's transactions) is left unread rather than rejected.
    pub fn decode(bytes: &[u8], profile: Profile, limits: &Limits) -> Result<BlockHeader, DecodeError> {
        let mut r = Reader::new(bytes);
        let offset = r.offset();
        match Self::read_from(&mut r, profile, limits)? {
            (BlockSerialization::Transactions, _) => Err(DecodeError::BadSerializationFlags {
                what: "block header",
                offset,
                flags: BlockSerialization::Transactions as u8,
            }),
            (_, header) => Ok(header),
        }
    }

    /// Reads the flags byte and, unless it says "transactions only", the header.
    pub fn read_from(
        r: &mut Reader<'_>,
        profile: Profile,
        limits: &Limits,
    ) -> Result<(BlockSerialization, BlockHeader), DecodeError> {
        let offset = r.offset();
        let flags = r.read_u8("block serialization flags")?;
        let ser = match (flags, profile) {
            (1, _) => BlockSerialization::Header,
            (3, _) => BlockSerialization::Full,
            (2, Profile::Side) => return Ok((BlockSerialization::Transactions, BlockHeader::empty(profile))),
            _ => {
                return Err(DecodeError::BadSerializationFlags {
                    what: "block",
                    offset,
                    flags,
                });
            }
        };
        let version = r.read_varint63("block version")?;
        let height = r.read_varint63("block height")?;
        let previous_block_hash = r.read_hash("previous block hash")?;
        let timestamp = r.read_varint63("block timestamp")?;
        let ((transactions_merkle_root, transaction_status_hash), commitment_suffix) =
            r.read_extensible(limits.max_extensible_bytes, "block commitment", |r| {
                Ok((
                    r.read_hash("transactions merkle root")?,
                    r.read_hash("transaction status hash")?,
                ))
            })?;
        let consensus = match profile {
            Profile::Main => HeaderConsensus::Pow {
                nonce: r.read_varint63("block nonce")?,
                bits: r.read_varint63("block bits")?,
            },
            Profile::Side => {
                let (witness, suffix) =
                    r.read_extensible(limits.max_extensible_bytes, "block witness", |r| {
                        r.read_varstr_list(
                            limits.max_witness_args,
                            limits.max_witness_arg_bytes,
                            "block witness",
                        )
                    })?;
                HeaderConsensus::Witness { witness, suffix }
            }
        };
        let header = BlockHeader {
            version,
            height,
            previous_block_hash,
            timestamp,
            transactions_merkle_root,
            transaction_status_hash,
            commitment_suffix,
            consensus,
        };
        Ok((ser, header))
    }

    fn write_fields(&self, w: &mut Writer) {
        w.put_uvarint(self.version);
        w.put_uvarint(self.height);
        w.put_hash(&self.previous_block_hash);
        w.put_uvarint(self.timestamp);
        w.put_extensible(&self.commitment_suffix, |w| {
            w.put_hash(&self.transactions_merkle_root);
            w.put_hash(&self.transaction_status_hash);
        });
        match &self.consensus {
            HeaderConsensus::Pow { nonce, bits } => {
                w.put_uvarint(*nonce);
                w.put_uvarint(*bits);
            }
            HeaderConsensus::Witness { witness, suffix } => {
                w.put_extensible(suffix, |w| w.put_varstr_list(witness));
            }
        }
    }

    /// Header-only bytes (flag 1). Values above 2^63-1 (see [`BlockHeader::validate`]) are written as
    /// given and will not decode.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.put_u8(BlockSerialization::Header as u8);
        self.write_fields(&mut w);
        w.into_bytes()
    }
}

/// A block: a header and its transactions, all of one profile.
#[derive(Clone)]
pub struct Block {
    header: BlockHeader,
    transactions: Vec<Transaction>,
    /// The Merkle root of the transaction IDs, made on first use: a received block's root is
    /// checked when it is rebuilt from a compact proposal and again when it is validated, two
    /// SHA3 hashes per transaction each time.
    tx_root: OnceLock<Hash>,
}

// Equality is of the contents; whether the root was computed yet does not matter.
impl PartialEq for Block {
    fn eq(&self, other: &Self) -> bool {
        self.header == other.header && self.transactions == other.transactions
    }
}

impl Eq for Block {}

impl std::fmt::Debug for Block {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Block")
            .field("header", &self.header)
            .field("transactions", &self.transactions)
            .finish()
    }
}

impl Block {
    /// Checks the header's values and that every transaction has the header's profile.
    pub fn new(header: BlockHeader, transactions: Vec<Transaction>) -> Result<Block, BlockError> {
        header.validate()?;
        let profile = header.profile();
        if let Some((index, tx)) = transactions
            .iter()
            .enumerate()
            .find(|(_, t)| t.profile() != profile)
        {
            return Err(BlockError::ProfileMismatch {
                index,
                tx: tx.profile(),
                header: profile,
            });
        }
        Ok(Block {
            header,
            transactions,
            tx_root: OnceLock::new(),
        })
    }

    /// Decodes a block that must fill `bytes` exactly. Accepts the flags the reference's block reader
    /// accepts: 1 (header only: no transactions), 3 (full) and, on a sidechain, 2 (transactions only:
    /// the header is [`BlockHeader::empty`]).
    pub fn decode(bytes: &[u8], profile: Profile, limits: &Limits) -> Result<Block, DecodeError> {
        if bytes.len() > limits.max_block_bytes {
            return Err(DecodeError::LimitExceeded {
                what: "block size",
                offset: 0,
                value: bytes.len() as u64,
                limit: limits.max_block_bytes as u64,
            });
        }
        let mut r = Reader::new(bytes);
        let (ser, header) = BlockHeader::read_from(&mut r, profile, limits)?;
        let mut transactions = Vec::new();
        if ser != BlockSerialization::Header {
            let n = r.read_count(limits.max_block_txs, "transaction count")?;
            for index in 0..n {
                let tx = Transaction::read_from(&mut r, profile, limits).map_err(|e| {
                    DecodeError::Transaction {
                        index,
                        source: Box::new(e),
                    }
                })?;
                transactions.push(tx);
            }
        }
        r.expect_end("block")?;
        Ok(Block {
            header,
            transactions,
            tx_root: OnceLock::new(),
        })
    }

    /// How many transactions a block's bytes declare, reading only the header and the count (the
    /// transactions themselves are neither read nor checked).
    pub fn transaction_count_of(
        bytes: &[u8],
        profile: Profile,
        limits: &Limits,
    ) -> Result<usize, DecodeError> {
        let mut r = Reader::new(bytes);
        let (ser, _) = BlockHeader::read_from(&mut r, profile, limits)?;
        if ser == BlockSerialization::Header {
            return Ok(0);
        }
        r.read_count(limits.max_block_txs, "transaction count")
    }

    /// Full block bytes (flag 3).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.put_u8(BlockSerialization::Full as u8);
        self.header.write_fields(&mut w);
        self.write_transactions(&mut w);
        w.into_bytes()
    }

    /// Transactions-only bytes (flag 2), which only a sidechain defines; `None` on the main chain.
    pub fn encode_transactions_only(&self) -> Option<Vec<u8>> {
        if self.header.profile() != Profile::Side {
            return None;
        }
        let mut w = Writer::new();
        w.put_u8(BlockSerialization::Transactions as u8);
        self.write_transactions(&mut w);
        Some(w.into_bytes())
    }

    fn write_transactions(&self, w: &mut Writer) {
        w.put_uvarint(self.transactions.len() as u64);
        for tx in &self.transactions {
            tx.write_to(w);
        }
    }

    /// The header.
    pub fn header(&self) -> &BlockHeader {
        &self.header
    }

    /// The transactions.
    pub fn transactions(&self) -> &[Transaction] {
        &self.transactions
    }

    /// Header and transactions, by value.
    pub fn into_parts(self) -> (BlockHeader, Vec<Transaction>) {
        (self.header, self.transactions)
    }

    /// The block hash.
    pub fn hash(&self) -> Hash {
        self.header.hash()
    }

    /// The profile.
    pub fn profile(&self) -> Profile {
        self.header.profile()
    }

    /// Merkle root over this block's transaction IDs (compare with the header's). Computed once
    /// per block value and kept (a clone keeps a root already computed).
    pub fn compute_transactions_merkle_root(&self) -> Hash {
        *self.tx_root.get_or_init(|| {
            let ids: Vec<Hash> = self.transactions.iter().map(Transaction::id).collect();
            merkle::tx_merkle_root(&ids)
        })
    }
}

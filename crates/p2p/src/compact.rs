//! Compact block relay (pure): a block is announced as its header, a 6-byte short ID per transaction and
//! a few prefilled transactions (the coinbase, which no mempool has). The receiver rebuilds it from its
//! mempool, asks for what it lacks by index, and checks the transaction Merkle root before accepting.
//!
//! Short ID = first 6 bytes (little-endian) of SipHash-2-4 of the tx ID keyed by the first 16 bytes
//! of salt = SHA3-256(domain ‖ block hash), as BIP 152 does. The salt changes per block, so an
//! attacker cannot grind one collision that hits every block; SipHash (not SHA3) because a receiver
//! computes the short ID of every pool transaction for every block, tens of thousands at a time. Collisions are
//! still possible (48 bits); they are handled, never trusted:
//! - two mempool transactions with the short ID of a slot: the slot is treated as missing and fetched;
//! - two slots of the block with the same short ID: both are fetched;
//! - a mempool transaction that matches a short ID but is not the block's: the Merkle root fails, and the
//!   receiver must fetch the full block (`GetBlocks`) instead ([`CompactError::MerkleMismatch`]).
//!
//! [`CompactBlock::encode`] / [`CompactBlock::decode`] are the body of the p2p `CompactBlock` message
//! (kind 4, `docs/p2p.md`), for hosts that carry a compact block inside another envelope (the BBFT
//! validators' compact proposals).

use foldhash::{HashMap, HashMapExt as _};
use sha3::{Digest, Sha3_256};
use types::codec::{Reader, Writer};
use types::{Block, BlockHeader, DecodeError, Hash, Limits, Profile, Transaction};

/// Length of a short transaction ID.
pub const SHORT_ID_LEN: usize = 6;
/// Domain tag of the per-block salt.
pub const SALT_DOMAIN: &[u8] = b"tributary/p2p/compact/v1";

/// A short transaction ID, salted per block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShortId(pub [u8; SHORT_ID_LEN]);

/// The salt of a block's short IDs.
pub fn salt(block_hash: &Hash) -> [u8; 32] {
    let mut h = Sha3_256::new();
    h.update(SALT_DOMAIN);
    h.update(block_hash.as_bytes());
    h.finalize().into()
}

/// The short ID of `tx_id` under `salt`.
pub fn short_id(salt: &[u8; 32], tx_id: &Hash) -> ShortId {
    let d = siphash24(salt, tx_id.as_bytes()).to_le_bytes();
    let mut out = [0u8; SHORT_ID_LEN];
    out.copy_from_slice(&d[..SHORT_ID_LEN]);
    ShortId(out)
}

/// SipHash-2-4 of a 32-byte message keyed by the first 16 bytes of `key` (two little-endian
/// words), per Aumasson and Bernstein's specification.
fn siphash24(key: &[u8; 32], msg: &[u8; 32]) -> u64 {
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[..8]);
        u64::from_le_bytes(w)
    };
    let (k0, k1) = (word(&key[..8]), word(&key[8..16]));
    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let round = |v: &mut [u64; 4]| {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    };
    // Four full words, then the final block: no remaining bytes, the length (32) in the top byte.
    let last = 32u64 << 56;
    for m in msg.chunks_exact(8).map(word).chain(std::iter::once(last)) {
        v[3] ^= m;
        round(&mut v);
        round(&mut v);
        v[0] ^= m;
    }
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// A transaction sent in full inside a compact block, at its absolute position in the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefilledTx {
    /// Position in the block.
    pub index: u32,
    /// The transaction.
    pub tx: Transaction,
}

/// A compact block: header, short IDs of the transactions not prefilled (in block order), and the
/// prefilled ones (strictly increasing positions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompactBlock {
    /// The block header.
    pub header: BlockHeader,
    /// Short IDs of the other transactions, in block order.
    pub short_ids: Vec<ShortId>,
    /// Transactions sent in full.
    pub prefilled: Vec<PrefilledTx>,
}

/// Why a compact block could not be (or not yet be) turned into a block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompactError {
    /// Transactions at these positions are not known; request them with `GetBlockTransactions`.
    #[error("{} transactions missing", indexes.len())]
    Missing {
        /// Positions in the block, ascending.
        indexes: Vec<u32>,
    },
    /// Prefilled positions out of order, out of range, or a block too large to index.
    #[error("inconsistent compact block: {0}")]
    Inconsistent(&'static str),
    /// A `BlockTransactions` answer for another block or with the wrong number of transactions.
    #[error("block transactions do not answer the request: {0}")]
    BadResponse(&'static str),
    /// The rebuilt transactions do not hash to the header's Merkle root (a short-ID collision, or a lying
    /// peer): fetch the full block.
    #[error("transaction merkle root mismatch: header {expected}, rebuilt {got}")]
    MerkleMismatch {
        /// Root in the header.
        expected: Hash,
        /// Root of the rebuilt transactions.
        got: Hash,
    },
    /// The rebuilt block is not a valid block (e.g. a transaction of another profile).
    #[error("rebuilt block invalid: {0}")]
    Block(#[from] types::BlockError),
}

impl CompactBlock {
    /// Compacts `block`, sending the transactions at `prefill` positions in full (out-of-range positions
    /// are ignored). The coinbase (position 0) is always prefilled: no mempool holds it.
    pub fn from_block(block: &Block, prefill: &[usize]) -> CompactBlock {
        let s = salt(&block.hash());
        let mut short_ids = Vec::new();
        let mut prefilled = Vec::new();
        for (i, tx) in block.transactions().iter().enumerate() {
            let index = u32::try_from(i).ok();
            match index {
                Some(index) if i == 0 || prefill.contains(&i) => prefilled.push(PrefilledTx {
                    index,
                    tx: tx.clone(),
                }),
                _ => short_ids.push(short_id(&s, &tx.id())),
            }
        }
        CompactBlock {
            header: block.header().clone(),
            short_ids,
            prefilled,
        }
    }

    /// Number of transactions in the block.
    pub fn tx_count(&self) -> usize {
        self.short_ids.len().saturating_add(self.prefilled.len())
    }

    /// The canonical bytes: `header (uvarint length ‖ header bytes) ‖ list<short id (6 bytes)> ‖
    /// list<index uvarint ‖ uvarint length ‖ transaction bytes>`, the body of the p2p `CompactBlock`
    /// message.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.write_to(&mut w);
        w.into_bytes()
    }

    /// Writes [`CompactBlock::encode`]'s bytes to `w`.
    pub fn write_to(&self, w: &mut Writer) {
        w.put_varstr(&self.header.encode());
        w.put_uvarint(self.short_ids.len() as u64);
        for id in &self.short_ids {
            w.put_bytes(&id.0);
        }
        w.put_uvarint(self.prefilled.len() as u64);
        for p in &self.prefilled {
            w.put_uvarint(u64::from(p.index));
            w.put_varstr(&p.tx.encode());
        }
    }

    /// Decodes a compact block that must fill `bytes` exactly. Counts are bounded by
    /// `limits.max_block_txs`, the header by `limits.max_block_bytes` and each prefilled transaction
    /// by `limits.max_tx_bytes`, all checked before anything is read; nothing is preallocated from a
    /// wire value. Positions are not checked against each other here ([`PartialBlock::new`] does).
    pub fn decode(bytes: &[u8], profile: Profile, limits: &Limits) -> Result<CompactBlock, DecodeError> {
        let mut r = Reader::new(bytes);
        let cb = CompactBlock::read_from(&mut r, profile, limits)?;
        r.expect_end("compact block")?;
        Ok(cb)
    }

    /// Reads one compact block from `r` (see [`CompactBlock::decode`]).
    pub fn read_from(
        r: &mut Reader<'_>,
        profile: Profile,
        limits: &Limits,
    ) -> Result<CompactBlock, DecodeError> {
        let header_bytes = r.read_varstr(limits.max_block_bytes, "compact header")?;
        let header = BlockHeader::decode(header_bytes, profile, limits)?;
        let n = r.read_count(limits.max_block_txs, "short id count")?;
        let mut short_ids = Vec::new();
        for _ in 0..n {
            let b = r.read_bytes(SHORT_ID_LEN, "short id")?;
            let mut id = [0u8; SHORT_ID_LEN];
            id.copy_from_slice(b);
            short_ids.push(ShortId(id));
        }
        let n = r.read_count(limits.max_block_txs, "prefilled count")?;
        let mut prefilled = Vec::new();
        for _ in 0..n {
            let offset = r.offset();
            let v = r.read_uvarint("prefilled index")?;
            let index = u32::try_from(v).map_err(|_| DecodeError::OutOfRange {
                what: "prefilled index",
                offset,
                value: v,
                bits: 32,
            })?;
            let tx_bytes = r.read_varstr(limits.max_tx_bytes, "transaction")?;
            let tx = Transaction::decode(tx_bytes, profile, limits)?;
            prefilled.push(PrefilledTx { index, tx });
        }
        Ok(CompactBlock {
            header,
            short_ids,
            prefilled,
        })
    }
}

/// A block being rebuilt from a compact block.
#[derive(Debug, Clone)]
pub struct PartialBlock {
    header: BlockHeader,
    slots: Vec<Option<Transaction>>,
}

impl PartialBlock {
    /// Places the prefilled transactions and fills every other slot whose short ID matches exactly one
    /// transaction of `mempool` and no other slot.
    pub fn new<'a, I>(compact: &CompactBlock, mempool: I) -> Result<PartialBlock, CompactError>
    where
        I: IntoIterator<Item = &'a Transaction>,
    {
        PartialBlock::from_keyed(compact, mempool.into_iter().map(|tx| (tx.id(), tx)), |tx| tx)
    }

    /// [`PartialBlock::new`] over a pool that already knows each transaction's ID: `pool` yields
    /// `(ID, handle)` pairs and `tx_of` turns a handle into its transaction, which is done only for
    /// the handles whose short ID a slot names.
    ///
    /// Why: a receiver scans its whole pool for every proposal, and a loaded pool holds tens of
    /// thousands of transactions. Reading each ID from the pool's own index (its map keys, laid out
    /// together) instead of from each transaction (a pointer or two away, a cache miss each) made
    /// the scan several times cheaper.
    pub fn from_keyed<'a, H, I, F>(
        compact: &CompactBlock,
        pool: I,
        tx_of: F,
    ) -> Result<PartialBlock, CompactError>
    where
        H: Copy,
        I: IntoIterator<Item = (Hash, H)>,
        F: Fn(H) -> &'a Transaction,
    {
        let total = compact.tx_count();
        if u32::try_from(total).is_err() {
            return Err(CompactError::Inconsistent("too many transactions"));
        }
        let mut slots: Vec<Option<Transaction>> = vec![None; total];
        let mut is_prefilled = vec![false; total];
        let mut last: Option<u32> = None;
        for p in &compact.prefilled {
            if last.is_some_and(|l| p.index <= l) {
                return Err(CompactError::Inconsistent("prefilled positions not increasing"));
            }
            last = Some(p.index);
            let i = usize::try_from(p.index).map_err(|_| CompactError::Inconsistent("position"))?;
            match (slots.get_mut(i), is_prefilled.get_mut(i)) {
                (Some(slot), Some(flag)) => {
                    *slot = Some(p.tx.clone());
                    *flag = true;
                }
                _ => return Err(CompactError::Inconsistent("prefilled position out of range")),
            }
        }
        // Slot of each short ID; a short ID shared by two slots maps to None (ambiguous: fetch both).
        let mut by_short: HashMap<ShortId, Option<usize>> = HashMap::with_capacity(compact.short_ids.len());
        let free = is_prefilled
            .iter()
            .enumerate()
            .filter(|(_, p)| !**p)
            .map(|(i, _)| i);
        for (slot, sid) in free.zip(&compact.short_ids) {
            by_short
                .entry(*sid)
                .and_modify(|e| *e = None)
                .or_insert(Some(slot));
        }
        let s = salt(&compact.header.hash());
        // Mempool candidates per slot; a second distinct candidate makes the slot ambiguous.
        let mut candidates: HashMap<usize, Option<(Hash, H)>> = HashMap::with_capacity(by_short.len());
        for (id, handle) in pool {
            if let Some(Some(slot)) = by_short.get(&short_id(&s, &id)) {
                candidates
                    .entry(*slot)
                    .and_modify(|c| {
                        if c.is_some_and(|(prev, _)| prev != id) {
                            *c = None;
                        }
                    })
                    .or_insert(Some((id, handle)));
            }
        }
        for (slot, found) in candidates {
            if let (Some((_, handle)), Some(dst)) = (found, slots.get_mut(slot)) {
                *dst = Some(tx_of(handle).clone());
            }
        }
        Ok(PartialBlock {
            header: compact.header.clone(),
            slots,
        })
    }

    /// The block hash.
    pub fn block_hash(&self) -> Hash {
        self.header.hash()
    }

    /// Positions still empty, ascending.
    pub fn missing(&self) -> Vec<u32> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_none())
            .filter_map(|(i, _)| u32::try_from(i).ok())
            .collect()
    }

    /// Fills the missing positions with `transactions` (the answer to `GetBlockTransactions` for
    /// [`PartialBlock::missing`], in that order).
    pub fn fill(&mut self, block_hash: &Hash, transactions: Vec<Transaction>) -> Result<(), CompactError> {
        if *block_hash != self.block_hash() {
            return Err(CompactError::BadResponse("another block"));
        }
        let missing = self.missing();
        if missing.len() != transactions.len() {
            return Err(CompactError::BadResponse("wrong transaction count"));
        }
        for (i, tx) in missing.into_iter().zip(transactions) {
            if let Some(slot) = usize::try_from(i).ok().and_then(|i| self.slots.get_mut(i)) {
                *slot = Some(tx);
            }
        }
        Ok(())
    }

    /// The block, once every slot is filled and the Merkle root matches the header.
    pub fn finish(&self) -> Result<Block, CompactError> {
        self.clone().into_block()
    }

    /// [`PartialBlock::finish`] without copying the transactions: the block, or why not (the partial
    /// block is consumed either way; check [`PartialBlock::missing`] first to keep it for a fetch).
    /// The block keeps the root it was checked with, so validating it does not hash its
    /// transactions again.
    pub fn into_block(self) -> Result<Block, CompactError> {
        let missing = self.missing();
        if !missing.is_empty() {
            return Err(CompactError::Missing { indexes: missing });
        }
        let expected = self.header.transactions_merkle_root;
        let block = Block::new(self.header, self.slots.into_iter().flatten().collect())?;
        let got = block.compute_transactions_merkle_root();
        if got != expected {
            return Err(CompactError::MerkleMismatch { expected, got });
        }
        Ok(block)
    }
}

/// Rebuilds `compact` from `mempool`: the block, or [`CompactError::Missing`] with the positions to
/// request (continue with [`PartialBlock`]).
pub fn reconstruct<'a, I>(compact: &CompactBlock, mempool: I) -> Result<Block, CompactError>
where
    I: IntoIterator<Item = &'a Transaction>,
{
    PartialBlock::new(compact, mempool)?.finish()
}

#![doc = include_str!("../README.md")]

mod codec;
mod pending;
mod recent;
mod redb_store;
pub mod snapshot;

pub use redb_store::{RedbStore, Snapshot};
pub use snapshot::{MAX_CONSENSUS_STATE_BYTES, SnapshotError, SnapshotInfo};

use ledger::{ChangeSet, UtxoEntry};
use types::profile::{Network, Profile};
use types::{Block, BlockHeader, Hash};

/// The on-disk format this build writes and reads. A store of another version is refused on open.
///
/// Version 2 added the asset registry (`assets` table), the lots of BAP-02 outputs (`lots` table)
/// and the asset changes after each block's change set (`changes` table); a version-1 store is
/// refused with [`StoreError::WrongFormat`] and must be rebuilt by syncing again.
pub const FORMAT_VERSION: u32 = 2;

/// Which chain a store holds: a store opened for another chain is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainIdentity {
    /// Main chain or sidechain formats.
    pub profile: Profile,
    /// Network (address prefixes, parameters).
    pub network: Network,
    /// Hash of the genesis block.
    pub genesis_hash: Hash,
}

impl std::fmt::Display for ChainIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} chain, {}, genesis {}",
            self.profile, self.network, self.genesis_hash
        )
    }
}

/// The last committed block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tip {
    /// Its height.
    pub height: u64,
    /// Its hash.
    pub hash: Hash,
}

/// Where a committed transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLocation {
    /// Height of the block holding it.
    pub block_height: u64,
    /// Its position in that block.
    pub position: u32,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database engine failed (I/O, corruption detected by its checksums, lock held by another
    /// process).
    #[error("database error: {0}")]
    Db(#[from] redb::Error),
    /// The store was written by a build with another on-disk format.
    #[error("the store at {path} has format version {found}; this build reads version {expected} only")]
    WrongFormat {
        /// The database file.
        path: String,
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        expected: u32,
    },
    /// The store holds another chain than the one asked for.
    #[error("the store at {path} holds another chain ({found}); expected {expected}")]
    WrongChain {
        /// The database file.
        path: String,
        /// The chain in the file.
        found: ChainIdentity,
        /// The chain asked for.
        expected: ChainIdentity,
    },
    /// The file exists but holds no Tributary store metadata.
    #[error("the store at {path} has no chain identity: {what}")]
    NotAStore {
        /// The database file.
        path: String,
        /// What is missing.
        what: String,
    },
    /// A block that does not extend the tip.
    #[error("block {hash} at height {height} does not extend the tip ({tip})")]
    NotExtendingTip {
        /// The block's hash.
        hash: Hash,
        /// The block's height.
        height: u64,
        /// The current tip, described.
        tip: String,
    },
    /// A genesis block other than the one the store was created for.
    #[error("genesis block {found} is not this store's genesis {expected}")]
    WrongGenesis {
        /// The block given.
        found: Hash,
        /// The store's genesis hash.
        expected: Hash,
    },
    /// A change set that does not match the stored state (spends a missing output, creates an existing
    /// one, is for another block). Nothing was written.
    #[error("change set does not apply: {0}")]
    Inconsistent(String),
    /// Unwinding the base block of a store imported from a snapshot: the state below it is not here.
    #[error("cannot unwind below the store's base height {base} (it was imported from a snapshot)")]
    BelowBase {
        /// The snapshot height the store starts at.
        base: u64,
    },
    /// Stored bytes that do not decode: the file is damaged or was written by a buggy build.
    #[error("corrupt store: {0}")]
    Corrupt(String),
}

/// The read side of a chain store. Every method sees committed state only.
pub trait StoreRead {
    /// The chain this store holds.
    fn identity(&self) -> ChainIdentity;
    /// The last committed block, or `None` before genesis is committed.
    fn tip(&self) -> Result<Option<Tip>, StoreError>;
    /// The lowest height holding a block: 0 for a store synced from genesis, the snapshot height for
    /// one imported from a snapshot (no block, change set or transaction index below it).
    fn base(&self) -> Result<u64, StoreError>;
    /// The consensus state that came with the snapshot this store was imported from: the node's
    /// consensus state at [`StoreRead::base`] (for a BBFT sidechain, the DPoS election state), as
    /// the opaque bytes the exporting node supplied. `None` for a store synced from genesis and for
    /// one imported from a snapshot without that section (empty, or format version 1). It stays the
    /// state at the base as the chain moves on: only the import writes it.
    fn consensus_state(&self) -> Result<Option<Vec<u8>>, StoreError>;
    /// The hash of the block at `height` on the stored chain (`None` below [`StoreRead::base`]).
    fn block_hash(&self, height: u64) -> Result<Option<Hash>, StoreError>;
    /// A block's canonical bytes.
    fn raw_block(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError>;
    /// A block.
    fn block(&self, hash: &Hash) -> Result<Option<Block>, StoreError>;
    /// A block header.
    fn header(&self, hash: &Hash) -> Result<Option<BlockHeader>, StoreError>;
    /// Where a committed transaction is.
    fn tx_location(&self, tx_id: &Hash) -> Result<Option<TxLocation>, StoreError>;
    /// An unspent output.
    fn utxo_entry(&self, output_id: &Hash) -> Result<Option<UtxoEntry>, StoreError>;
    /// Whether a main-chain output has been claimed (pegged in) on this chain.
    fn claimed(&self, mainchain_output_id: &Hash) -> Result<bool, StoreError>;
    /// The change set the block at `height` applied.
    fn change_set(&self, height: u64) -> Result<Option<ChangeSet>, StoreError>;
    /// The whole UTXO set, ordered by output ID (for audits and tests: it reads everything).
    fn utxos(&self) -> Result<Vec<(Hash, UtxoEntry)>, StoreError>;
    /// Every claimed main-chain output, ordered (for audits and tests).
    fn claimed_outputs(&self) -> Result<Vec<Hash>, StoreError>;

    /// The block at `height` on the stored chain.
    fn block_at(&self, height: u64) -> Result<Option<Block>, StoreError> {
        match self.block_hash(height)? {
            Some(hash) => self.block(&hash),
            None => Ok(None),
        }
    }
}

/// The write side: each method is one atomic, durable commit.
pub trait StoreWrite: StoreRead {
    /// Commits `block` on top of the tip with the change set validation produced for it: the UTXO
    /// changes, the block, its header, height and transaction indexes, the change set (for unwinding)
    /// and the new tip, all in one write transaction. Genesis (height 0) is committed the same way into
    /// an empty store and must be the store's genesis.
    fn commit_block(&self, block: &Block, changes: &ChangeSet) -> Result<Tip, StoreError>;
    /// Removes the tip block from the chain and reverts its change set in one write transaction;
    /// returns the block, or `None` if the store is empty. A backend that keeps off-chain blocks
    /// (the redb store's side-block table) keeps the unwound body there, in the same transaction. The base block of a store imported from a snapshot cannot be
    /// unwound ([`StoreError::BelowBase`]).
    fn unwind_tip(&self) -> Result<Option<Block>, StoreError>;
}

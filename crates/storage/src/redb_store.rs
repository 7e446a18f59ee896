//! The embedded backend: one redb file, one write transaction per block.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use ledger::{AssetChanges, AssetRecord, ChangeSet, LotId, UtxoEntry, UtxoView, ViewError};
use redb::{
    Database, Durability, ReadOnlyTable, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition,
    WriteTransaction,
};
use types::codec::Limits;
use types::profile::Profile;
use types::{AssetId, Block, BlockHeader, Hash};

use crate::codec::{self, ASSET_LEN, UTXO_LEN};
use crate::pending::{self, Deferred, Layer, Merged, OutputChange, TableWrite};
use crate::recent::RecentReads;
use crate::{ChainIdentity, FORMAT_VERSION, StoreError, StoreRead, StoreWrite, Tip, TxLocation};

/// The key type of tables keyed by a 32-byte ID. redb compares `[u8; 32]` keys byte by byte
/// through its generic array code (~3 % of a loaded validator's CPU); `&[u8; 32]` has the same
/// encoding and type name, so stores are unchanged, and compares with one `memcmp`.
pub(crate) type Id32 = &'static [u8; 32];

/// Format version, chain identity and tip.
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Block hash → full block bytes.
pub(crate) const BLOCKS: TableDefinition<Id32, &[u8]> = TableDefinition::new("blocks");
/// Block hash → header bytes.
pub(crate) const HEADERS: TableDefinition<Id32, &[u8]> = TableDefinition::new("headers");
/// Height → block hash, for the stored chain.
pub(crate) const HEIGHTS: TableDefinition<u64, [u8; 32]> = TableDefinition::new("heights");
/// Output ID → UTXO entry.
pub(crate) const UTXOS: TableDefinition<Id32, [u8; UTXO_LEN]> = TableDefinition::new("utxos");
/// Claimed main-chain output ID → height of the claiming block.
pub(crate) const CLAIMED: TableDefinition<Id32, u64> = TableDefinition::new("claimed");
/// Transaction ID → (height, position).
pub(crate) const TX_INDEX: TableDefinition<Id32, [u8; 12]> = TableDefinition::new("tx_index");
/// Height → the change set and asset changes its block applied.
pub(crate) const CHANGES: TableDefinition<u64, &[u8]> = TableDefinition::new("changes");
/// Asset ID → registry record (class, height of registration).
pub(crate) const ASSETS: TableDefinition<Id32, [u8; ASSET_LEN]> = TableDefinition::new("assets");
/// Output ID of an unspent BAP-02 output → its lot.
pub(crate) const LOTS: TableDefinition<Id32, [u8; 32]> = TableDefinition::new("lots");
/// Block hash → height (8 bytes, big-endian) then the block's bytes, for main-chain blocks that are not
/// on the stored chain: side branches and blocks unwound by a reorg (see [`RedbStore::put_side_blocks`]).
pub(crate) const SIDE_BLOCKS: TableDefinition<Id32, &[u8]> = TableDefinition::new("side_blocks");

const KEY_FORMAT: &str = "format_version";
const KEY_PROFILE: &str = "profile";
const KEY_NETWORK: &str = "network";
const KEY_GENESIS: &str = "genesis_hash";
pub(crate) const KEY_TIP: &str = "tip";
/// The lowest height with a block: absent (0) in a store synced from genesis, the snapshot height in a
/// store imported from a snapshot (see `crate::snapshot`).
pub(crate) const KEY_BASE: &str = "base";
/// The consensus state a store imported from a snapshot received with it (the node's, at the base
/// height; opaque here): absent in a store synced from genesis or imported without one. Written only
/// by the import, in its write transaction (see `crate::snapshot`).
pub(crate) const KEY_CONSENSUS_STATE: &str = "consensus_state";
/// Per part of the key space, the height through which the `utxos` and `tx_index` tables hold it
/// (8 bytes each, big-endian), when some part lags the tip (deferred state, `crate::pending`);
/// absent when the tables hold everything through the tip.
pub(crate) const KEY_STATE: &str = "state";

pub(crate) fn dberr<E: Into<redb::Error>>(e: E) -> StoreError {
    StoreError::Db(e.into())
}

/// A chain store in one redb file. Cheap to clone (the database is shared); readers never block the
/// writer and see whole commits only.
#[derive(Clone)]
pub struct RedbStore {
    pub(crate) db: Arc<Database>,
    identity: ChainIdentity,
    path: PathBuf,
    /// Blocks whose output and index writes are held in memory before they are written (0:
    /// every block writes its own). See [`RedbStore::with_deferred_state`].
    defer: usize,
    /// The held blocks' writes, shared by clones; locked across a commit so that a new view
    /// sees the held blocks and the tables of the same commit.
    layers: Arc<Mutex<Deferred>>,
    /// Outputs views read recently (`crate::recent`), kept only while writes are held.
    recent: Arc<Mutex<RecentReads>>,
}

impl std::fmt::Debug for RedbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedbStore")
            .field("path", &self.path)
            .field("identity", &self.identity)
            .finish()
    }
}

impl RedbStore {
    /// Opens the store at `path` for `expected`, creating it (empty, no genesis yet) if the file does
    /// not exist. A store of another format version or another chain is refused.
    pub fn open(path: impl AsRef<Path>, expected: ChainIdentity) -> Result<RedbStore, StoreError> {
        let path = path.as_ref();
        let database = Database::create(path).map_err(dberr)?;
        let shown = path.display().to_string();
        let txn = database.begin_write().map_err(dberr)?;
        let found = {
            let mut meta = txn.open_table(META).map_err(dberr)?;
            let has_format = meta.get(KEY_FORMAT).map_err(dberr)?.is_some();
            if !has_format {
                meta.insert(KEY_FORMAT, FORMAT_VERSION.to_be_bytes().as_slice())
                    .map_err(dberr)?;
                meta.insert(KEY_PROFILE, [codec::profile_byte(expected.profile)].as_slice())
                    .map_err(dberr)?;
                meta.insert(KEY_NETWORK, [codec::network_byte(expected.network)].as_slice())
                    .map_err(dberr)?;
                meta.insert(KEY_GENESIS, expected.genesis_hash.as_bytes().as_slice())
                    .map_err(dberr)?;
            }
            drop(meta);
            read_identity(&txn, &shown)?
        };
        if found != expected {
            return Err(StoreError::WrongChain {
                path: shown,
                found,
                expected,
            });
        }
        create_tables(&txn)?;
        txn.commit().map_err(dberr)?;
        catch_up_state(&database, expected.profile)?;
        Ok(RedbStore {
            db: Arc::new(database),
            identity: expected,
            path: path.to_path_buf(),
            defer: 0,
            layers: Arc::default(),
            recent: Arc::default(),
        })
    }

    /// Opens an existing store for whatever chain it holds (tools and audits). Fails if the file does
    /// not exist, is not a Tributary store, or has another format version.
    pub fn open_existing(path: impl AsRef<Path>) -> Result<RedbStore, StoreError> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let database = Database::open(path).map_err(dberr)?;
        let identity = {
            let txn = database.begin_write().map_err(dberr)?;
            let id = read_identity(&txn, &shown)?;
            create_tables(&txn)?;
            txn.commit().map_err(dberr)?;
            id
        };
        catch_up_state(&database, identity.profile)?;
        Ok(RedbStore {
            db: Arc::new(database),
            identity,
            path: path.to_path_buf(),
            defer: 0,
            layers: Arc::default(),
            recent: Arc::default(),
        })
    }

    /// Holds the output and transaction-index writes of committed blocks in memory, the key space
    /// split into `parts` slices, and has the commit of block `h` write slice `h mod parts` of
    /// every held block (`crate::pending`): each slice of the tables is rewritten once per `parts`
    /// blocks, for all of them, and a block is held for at most `parts − 1` later commits. Every
    /// block is still committed durably with its change set, and reads see every committed block; a
    /// store reopened after a crash writes the lagging parts on open. For chains whose committed
    /// blocks are final: [`StoreWrite::unwind_tip`] first writes what is held. 0 or 1: every block
    /// writes its own (the default). Set before cloning.
    pub fn with_deferred_state(mut self, parts: usize) -> RedbStore {
        self.defer = parts;
        self
    }

    /// Writes everything held to the tables now, in one durable commit, and drops the `state`
    /// entry: what a clean shutdown does, so that the store on disk is complete without a replay
    /// (and readable by a build that does not know deferred state). Later commits hold again.
    pub fn write_held(&self) -> Result<(), StoreError> {
        if self.defer <= 1 {
            return Ok(());
        }
        let mut guard = self.layers();
        let mut txn = self.db.begin_write().map_err(dberr)?;
        txn.set_durability(Durability::Immediate).map_err(dberr)?;
        write_all_held(&txn, &guard)?;
        txn.commit().map_err(dberr)?;
        *guard = Deferred {
            version: guard.version.wrapping_add(1),
            ..Deferred::default()
        };
        self.recent().reset(guard.version);
        Ok(())
    }

    /// Committed blocks whose output and index writes are held in memory now.
    pub fn deferred_blocks(&self) -> usize {
        self.layers().blocks()
    }

    fn layers(&self) -> MutexGuard<'_, Deferred> {
        self.layers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn recent(&self) -> MutexGuard<'_, RecentReads> {
        lock_recent(&self.recent)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A consistent read view of the last commit; later commits do not show through it.
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        // The held blocks and the read transaction of the same commit: commits hold the lock.
        let deferred = self.layers();
        Ok(Snapshot {
            txn: self.db.begin_read().map_err(dberr)?,
            identity: self.identity,
            utxos: OnceLock::new(),
            tx_index: OnceLock::new(),
            deferred: deferred.clone(),
            recent: (self.defer > 1).then(|| Arc::clone(&self.recent)),
        })
    }
}

/// `written` as the `KEY_STATE` value.
fn encode_state(written: &[u64]) -> Vec<u8> {
    written.iter().flat_map(|h| h.to_be_bytes()).collect()
}

fn decode_state(b: &[u8]) -> Result<Vec<u64>, StoreError> {
    if b.is_empty() || !b.len().is_multiple_of(8) {
        return Err(StoreError::Corrupt(format!(
            "deferred state of {} bytes",
            b.len()
        )));
    }
    Ok(b.chunks_exact(8)
        .map(|c| {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            u64::from_be_bytes(a)
        })
        .collect())
}

/// Writes the parts of the blocks above each part's `KEY_STATE` height (held when the process
/// stopped: a kill, or a shutdown) to their tables, from their stored change sets and blocks.
fn catch_up_state(db: &Database, profile: Profile) -> Result<(), StoreError> {
    let mut txn = db.begin_write().map_err(dberr)?;
    txn.set_durability(Durability::Immediate).map_err(dberr)?;
    let (written, tip) = {
        let meta = txn.open_table(META).map_err(dberr)?;
        let written = match meta.get(KEY_STATE).map_err(dberr)? {
            Some(v) => decode_state(v.value())?,
            None => return Ok(()),
        };
        let tip = match meta.get(KEY_TIP).map_err(dberr)? {
            Some(v) => codec::decode_tip(v.value())?,
            None => {
                return Err(StoreError::Corrupt(
                    "deferred state in a store without a tip".into(),
                ));
            }
        };
        (written, tip)
    };
    let lowest = written.iter().copied().min().unwrap_or(tip.height);
    let mut held = Deferred {
        layers: Vec::new(),
        written,
        version: 0,
    };
    {
        let changes = txn.open_table(CHANGES).map_err(dberr)?;
        let heights = txn.open_table(HEIGHTS).map_err(dberr)?;
        let blocks = txn.open_table(BLOCKS).map_err(dberr)?;
        for height in lowest.saturating_add(1)..=tip.height {
            let (set, _) = match changes.get(height).map_err(dberr)? {
                Some(v) => codec::decode_block_changes(v.value())?,
                None => {
                    return Err(StoreError::Corrupt(format!(
                        "change set of height {height} is missing"
                    )));
                }
            };
            let hash = heights
                .get(height)
                .map_err(dberr)?
                .map(|v| v.value())
                .ok_or_else(|| StoreError::Corrupt(format!("no block at height {height}")))?;
            let block = match blocks.get(&hash).map_err(dberr)? {
                Some(v) => decode_block(v.value(), profile)?,
                None => {
                    return Err(StoreError::Corrupt(format!(
                        "block at height {height} is missing"
                    )));
                }
            };
            held.layers
                .push(Arc::new(layer_of(&block, &set, held.written.len())?));
        }
    }
    write_all_held(&txn, &held)?;
    txn.commit().map_err(dberr)?;
    Ok(())
}

/// Writes everything `held` holds to the tables in `txn`, which then hold everything through
/// the tip: the `state` entry goes.
fn write_all_held(txn: &WriteTransaction, held: &Deferred) -> Result<(), StoreError> {
    write_merged(txn, &held.merged())?;
    txn.open_table(META)
        .map_err(dberr)?
        .remove(KEY_STATE)
        .map_err(dberr)?;
    Ok(())
}

/// The table writes of `block` with change set `changes`, in `parts` parts.
fn layer_of(block: &Block, changes: &ChangeSet, parts: usize) -> Result<Layer, StoreError> {
    let mut layer = Layer::new(block.header().height, parts);
    for (id, entry) in &changes.spent {
        layer
            .part_mut(&id.0)
            .outputs
            .insert(id.0, OutputChange::Spent(codec::encode_utxo(entry)));
    }
    for (id, entry) in &changes.created {
        if layer
            .part_mut(&id.0)
            .outputs
            .insert(id.0, OutputChange::Created(codec::encode_utxo(entry)))
            .is_some()
        {
            return Err(StoreError::Inconsistent(format!(
                "output {id} is both spent and created by one block"
            )));
        }
    }
    for (position, tx) in block.transactions().iter().enumerate() {
        let position = u32::try_from(position)
            .map_err(|_| StoreError::Inconsistent("more than 2^32 transactions".into()))?;
        let loc = TxLocation {
            block_height: block.header().height,
            position,
        };
        let id = tx.id().0;
        layer
            .part_mut(&id)
            .locations
            .insert(id, codec::encode_location(&loc));
    }
    Ok(layer)
}

/// Writes merged layers to the `utxos` and `tx_index` tables in key order, checking that each
/// removed output is stored with the entry it was spent with and each created one is new.
fn write_merged(txn: &WriteTransaction, merged: &Merged) -> Result<(), StoreError> {
    let mut utxos = txn.open_table(UTXOS).map_err(dberr)?;
    for (id, write) in &merged.outputs {
        let (expected, value) = match write {
            TableWrite::Insert(v) => (None, Some(v)),
            TableWrite::Remove(old) => (Some(old), None),
            TableWrite::Replace(old, v) => (Some(old), Some(v)),
        };
        let found = match value {
            Some(v) => utxos.insert(id, *v).map_err(dberr)?,
            None => utxos.remove(id).map_err(dberr)?,
        }
        .map(|v| v.value());
        match (expected, found) {
            (None, None) => {}
            (Some(e), Some(f)) if *e == f => {}
            (None, Some(_)) => {
                return Err(StoreError::Inconsistent(format!(
                    "created output {} already exists",
                    Hash(*id)
                )));
            }
            (Some(_), Some(_)) => {
                return Err(StoreError::Inconsistent(format!(
                    "spent output {} is stored with another entry",
                    Hash(*id)
                )));
            }
            (Some(_), None) => {
                return Err(StoreError::Inconsistent(format!(
                    "spent output {} is not unspent",
                    Hash(*id)
                )));
            }
        }
    }
    let mut index = txn.open_table(TX_INDEX).map_err(dberr)?;
    for (id, loc) in &merged.locations {
        index.insert(id, *loc).map_err(dberr)?;
    }
    Ok(())
}

pub(crate) fn create_tables(txn: &WriteTransaction) -> Result<(), StoreError> {
    txn.open_table(BLOCKS).map_err(dberr)?;
    txn.open_table(HEADERS).map_err(dberr)?;
    txn.open_table(HEIGHTS).map_err(dberr)?;
    txn.open_table(UTXOS).map_err(dberr)?;
    txn.open_table(CLAIMED).map_err(dberr)?;
    txn.open_table(TX_INDEX).map_err(dberr)?;
    txn.open_table(CHANGES).map_err(dberr)?;
    txn.open_table(ASSETS).map_err(dberr)?;
    txn.open_table(LOTS).map_err(dberr)?;
    txn.open_table(SIDE_BLOCKS).map_err(dberr)?;
    Ok(())
}

fn encode_side_block(block: &Block) -> Vec<u8> {
    let mut v = block.header().height.to_be_bytes().to_vec();
    v.extend_from_slice(&block.encode());
    v
}

fn side_height(value: &[u8]) -> Result<u64, StoreError> {
    value
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| StoreError::Corrupt("side block entry shorter than its height".into()))
}

fn decode_side_block(value: &[u8], profile: Profile) -> Result<Block, StoreError> {
    side_height(value)?;
    decode_block(value.get(8..).unwrap_or_default(), profile)
}

fn read_identity(txn: &WriteTransaction, shown: &str) -> Result<ChainIdentity, StoreError> {
    let meta = txn.open_table(META).map_err(dberr)?;
    let get = |key: &str| -> Result<Vec<u8>, StoreError> {
        meta.get(key)
            .map_err(dberr)?
            .map(|v| v.value().to_vec())
            .ok_or_else(|| StoreError::NotAStore {
                path: shown.to_string(),
                what: format!("no {key} entry"),
            })
    };
    let format = get(KEY_FORMAT)?;
    let found = <[u8; 4]>::try_from(format.as_slice())
        .map(u32::from_be_bytes)
        .map_err(|_| StoreError::Corrupt("format version entry is not 4 bytes".into()))?;
    if found != FORMAT_VERSION {
        return Err(StoreError::WrongFormat {
            path: shown.to_string(),
            found,
            expected: FORMAT_VERSION,
        });
    }
    let one = |v: Vec<u8>, what: &str| -> Result<u8, StoreError> {
        match v.as_slice() {
            [b] => Ok(*b),
            _ => Err(StoreError::Corrupt(format!("{what} entry is not one byte"))),
        }
    };
    let profile = codec::profile_from(one(get(KEY_PROFILE)?, "profile")?)?;
    let network = codec::network_from(one(get(KEY_NETWORK)?, "network")?)?;
    let genesis = <[u8; 32]>::try_from(get(KEY_GENESIS)?.as_slice())
        .map_err(|_| StoreError::Corrupt("genesis hash entry is not 32 bytes".into()))?;
    Ok(ChainIdentity {
        profile,
        network,
        genesis_hash: Hash(genesis),
    })
}

/// A consistent read view of a [`RedbStore`] (a redb read transaction).
pub struct Snapshot {
    pub(crate) txn: ReadTransaction,
    identity: ChainIdentity,
    /// The tables read once per transaction or input, opened on first use: opening a table
    /// looks it up in the table tree, which cost a loaded validator as much as a third of its
    /// UTXO reads.
    utxos: OnceLock<ReadOnlyTable<Id32, [u8; UTXO_LEN]>>,
    tx_index: OnceLock<ReadOnlyTable<Id32, [u8; 12]>>,
    /// The held blocks' writes at this commit, over the tables.
    pub(crate) deferred: Deferred,
    /// The store's remembered reads, when it holds writes.
    recent: Option<Arc<Mutex<RecentReads>>>,
}

fn lock_recent(recent: &Mutex<RecentReads>) -> MutexGuard<'_, RecentReads> {
    recent.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// `cell`'s table, opened from `txn` on first use.
fn opened<'a, K: redb::Key + 'static, V: redb::Value + 'static>(
    cell: &'a OnceLock<ReadOnlyTable<K, V>>,
    txn: &ReadTransaction,
    def: TableDefinition<K, V>,
) -> Result<&'a ReadOnlyTable<K, V>, StoreError> {
    if let Some(t) = cell.get() {
        return Ok(t);
    }
    let t = txn.open_table(def).map_err(dberr)?;
    // Another thread may have opened it meanwhile: either copy reads the same snapshot.
    Ok(cell.get_or_init(|| t))
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("identity", &self.identity)
            .finish()
    }
}

pub(crate) fn profile_limits() -> Limits {
    Limits::default()
}

pub(crate) fn decode_block(bytes: &[u8], profile: Profile) -> Result<Block, StoreError> {
    Block::decode(bytes, profile, &profile_limits())
        .map_err(|e| StoreError::Corrupt(format!("stored block does not decode: {e}")))
}

impl StoreRead for Snapshot {
    fn identity(&self) -> ChainIdentity {
        self.identity
    }

    fn tip(&self) -> Result<Option<Tip>, StoreError> {
        let meta = self.txn.open_table(META).map_err(dberr)?;
        match meta.get(KEY_TIP).map_err(dberr)? {
            Some(v) => Ok(Some(codec::decode_tip(v.value())?)),
            None => Ok(None),
        }
    }

    fn base(&self) -> Result<u64, StoreError> {
        let meta = self.txn.open_table(META).map_err(dberr)?;
        match meta.get(KEY_BASE).map_err(dberr)? {
            Some(v) => codec::decode_base(v.value()),
            None => Ok(0),
        }
    }

    fn consensus_state(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let meta = self.txn.open_table(META).map_err(dberr)?;
        Ok(meta
            .get(KEY_CONSENSUS_STATE)
            .map_err(dberr)?
            .map(|v| v.value().to_vec()))
    }

    fn block_hash(&self, height: u64) -> Result<Option<Hash>, StoreError> {
        let t = self.txn.open_table(HEIGHTS).map_err(dberr)?;
        Ok(t.get(height).map_err(dberr)?.map(|v| Hash(v.value())))
    }

    fn raw_block(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError> {
        let t = self.txn.open_table(BLOCKS).map_err(dberr)?;
        Ok(t.get(&hash.0).map_err(dberr)?.map(|v| v.value().to_vec()))
    }

    fn block(&self, hash: &Hash) -> Result<Option<Block>, StoreError> {
        match self.raw_block(hash)? {
            Some(bytes) => Ok(Some(decode_block(&bytes, self.identity.profile)?)),
            None => Ok(None),
        }
    }

    fn header(&self, hash: &Hash) -> Result<Option<BlockHeader>, StoreError> {
        let t = self.txn.open_table(HEADERS).map_err(dberr)?;
        match t.get(&hash.0).map_err(dberr)? {
            Some(v) => BlockHeader::decode(v.value(), self.identity.profile, &profile_limits())
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("stored header does not decode: {e}"))),
            None => Ok(None),
        }
    }

    fn tx_location(&self, tx_id: &Hash) -> Result<Option<TxLocation>, StoreError> {
        if let Some(loc) = self.deferred.location(&tx_id.0) {
            return Ok(Some(codec::decode_location(&loc)?));
        }
        let t = opened(&self.tx_index, &self.txn, TX_INDEX)?;
        match t.get(&tx_id.0).map_err(dberr)? {
            Some(v) => Ok(Some(codec::decode_location(&v.value())?)),
            None => Ok(None),
        }
    }

    fn utxo_entry(&self, output_id: &Hash) -> Result<Option<UtxoEntry>, StoreError> {
        if let Some(found) = self.deferred.utxo(&output_id.0) {
            return found.map(|v| codec::decode_utxo(&v)).transpose();
        }
        let version = self.deferred.version;
        if let Some(recent) = &self.recent
            && let Some(found) = lock_recent(recent).get(version, &output_id.0)
        {
            return found.map(|v| codec::decode_utxo(&v)).transpose();
        }
        let t = opened(&self.utxos, &self.txn, UTXOS)?;
        let found = t.get(&output_id.0).map_err(dberr)?.map(|v| v.value());
        if let Some(recent) = &self.recent {
            lock_recent(recent).put(version, output_id.0, found);
        }
        found.map(|v| codec::decode_utxo(&v)).transpose()
    }

    fn claimed(&self, mainchain_output_id: &Hash) -> Result<bool, StoreError> {
        let t = self.txn.open_table(CLAIMED).map_err(dberr)?;
        Ok(t.get(&mainchain_output_id.0).map_err(dberr)?.is_some())
    }

    fn change_set(&self, height: u64) -> Result<Option<ChangeSet>, StoreError> {
        let t = self.txn.open_table(CHANGES).map_err(dberr)?;
        match t.get(height).map_err(dberr)? {
            Some(v) => Ok(Some(codec::decode_block_changes(v.value())?.0)),
            None => Ok(None),
        }
    }

    fn utxos(&self) -> Result<Vec<(Hash, UtxoEntry)>, StoreError> {
        let t = self.txn.open_table(UTXOS).map_err(dberr)?;
        let merged = self.merged_layers();
        let rows = t
            .iter()
            .map_err(dberr)?
            .map(|item| item.map(|(k, v)| (*k.value(), v.value())).map_err(dberr));
        let mut out = Vec::new();
        for item in pending::overlay(rows, &merged) {
            let (k, v) = item?;
            out.push((Hash(k), codec::decode_utxo(&v)?));
        }
        Ok(out)
    }

    fn claimed_outputs(&self) -> Result<Vec<Hash>, StoreError> {
        let t = self.txn.open_table(CLAIMED).map_err(dberr)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(dberr)? {
            let (k, _) = item.map_err(dberr)?;
            out.push(Hash(*k.value()));
        }
        Ok(out)
    }
}

impl Snapshot {
    /// The deferred layers merged, in key order (empty when nothing is deferred).
    pub(crate) fn merged_layers(&self) -> Merged {
        self.deferred.merged()
    }

    /// The asset registry's record of `asset` (none: never issued here, so BAP-01 if it moves).
    pub fn asset_record(&self, asset: &AssetId) -> Result<Option<AssetRecord>, StoreError> {
        let t = self.txn.open_table(ASSETS).map_err(dberr)?;
        match t.get(&asset.0).map_err(dberr)? {
            Some(v) => Ok(Some(codec::decode_asset(&v.value())?)),
            None => Ok(None),
        }
    }

    /// The lot of an unspent BAP-02 output.
    pub fn lot(&self, output_id: &Hash) -> Result<Option<LotId>, StoreError> {
        let t = self.txn.open_table(LOTS).map_err(dberr)?;
        Ok(t.get(&output_id.0)
            .map_err(dberr)?
            .map(|v| LotId(Hash(v.value()))))
    }

    /// The whole asset registry, ordered by asset ID (audits and tests).
    pub fn assets(&self) -> Result<Vec<(AssetId, AssetRecord)>, StoreError> {
        let t = self.txn.open_table(ASSETS).map_err(dberr)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            out.push((AssetId(*k.value()), codec::decode_asset(&v.value())?));
        }
        Ok(out)
    }

    /// Every lot of an unspent BAP-02 output, ordered by output ID (audits and tests).
    pub fn lots(&self) -> Result<Vec<(Hash, LotId)>, StoreError> {
        let t = self.txn.open_table(LOTS).map_err(dberr)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            out.push((Hash(*k.value()), LotId(Hash(v.value()))));
        }
        Ok(out)
    }

    /// The asset changes the block at `height` applied.
    pub fn asset_changes(&self, height: u64) -> Result<Option<AssetChanges>, StoreError> {
        let t = self.txn.open_table(CHANGES).map_err(dberr)?;
        match t.get(height).map_err(dberr)? {
            Some(v) => Ok(Some(codec::decode_block_changes(v.value())?.1)),
            None => Ok(None),
        }
    }
}

impl Snapshot {
    /// A block held in the side-block table (not on the stored chain): see
    /// [`RedbStore::put_side_blocks`].
    pub fn side_block(&self, hash: &Hash) -> Result<Option<Block>, StoreError> {
        let t = self.txn.open_table(SIDE_BLOCKS).map_err(dberr)?;
        match t.get(&hash.0).map_err(dberr)? {
            Some(v) => Ok(Some(decode_side_block(v.value(), self.identity.profile)?)),
            None => Ok(None),
        }
    }

    /// The height and hash of every block of the side-block table, lowest height first (without
    /// decoding the blocks).
    pub fn side_block_ids(&self) -> Result<Vec<(u64, Hash)>, StoreError> {
        let t = self.txn.open_table(SIDE_BLOCKS).map_err(dberr)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(dberr)? {
            let (k, v) = item.map_err(dberr)?;
            out.push((side_height(v.value())?, Hash(*k.value())));
        }
        out.sort_unstable();
        Ok(out)
    }

    /// Every block of the side-block table, lowest height first.
    pub fn side_blocks(&self) -> Result<Vec<Block>, StoreError> {
        let t = self.txn.open_table(SIDE_BLOCKS).map_err(dberr)?;
        let mut out = Vec::new();
        for item in t.iter().map_err(dberr)? {
            let (_, v) = item.map_err(dberr)?;
            out.push(decode_side_block(v.value(), self.identity.profile)?);
        }
        out.sort_by_key(|b| b.header().height);
        Ok(out)
    }
}

impl UtxoView for Snapshot {
    fn utxo(&self, output_id: &Hash) -> Result<Option<UtxoEntry>, ViewError> {
        self.utxo_entry(output_id).map_err(view_error)
    }

    fn is_claimed(&self, mainchain_output_id: &Hash) -> Result<bool, ViewError> {
        self.claimed(mainchain_output_id).map_err(view_error)
    }

    fn asset(&self, asset: &AssetId) -> Result<Option<AssetRecord>, ViewError> {
        self.asset_record(asset).map_err(view_error)
    }

    fn lot(&self, output_id: &Hash) -> Result<Option<LotId>, ViewError> {
        Snapshot::lot(self, output_id).map_err(view_error)
    }
}

fn view_error(e: StoreError) -> ViewError {
    ViewError::new(e.to_string())
}

impl StoreRead for RedbStore {
    fn identity(&self) -> ChainIdentity {
        self.identity
    }
    fn tip(&self) -> Result<Option<Tip>, StoreError> {
        self.snapshot()?.tip()
    }
    fn block_hash(&self, height: u64) -> Result<Option<Hash>, StoreError> {
        self.snapshot()?.block_hash(height)
    }
    fn base(&self) -> Result<u64, StoreError> {
        self.snapshot()?.base()
    }
    fn consensus_state(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.snapshot()?.consensus_state()
    }
    fn raw_block(&self, hash: &Hash) -> Result<Option<Vec<u8>>, StoreError> {
        self.snapshot()?.raw_block(hash)
    }
    fn block(&self, hash: &Hash) -> Result<Option<Block>, StoreError> {
        self.snapshot()?.block(hash)
    }
    fn header(&self, hash: &Hash) -> Result<Option<BlockHeader>, StoreError> {
        self.snapshot()?.header(hash)
    }
    fn tx_location(&self, tx_id: &Hash) -> Result<Option<TxLocation>, StoreError> {
        self.snapshot()?.tx_location(tx_id)
    }
    fn utxo_entry(&self, output_id: &Hash) -> Result<Option<UtxoEntry>, StoreError> {
        self.snapshot()?.utxo_entry(output_id)
    }
    fn claimed(&self, mainchain_output_id: &Hash) -> Result<bool, StoreError> {
        self.snapshot()?.claimed(mainchain_output_id)
    }
    fn change_set(&self, height: u64) -> Result<Option<ChangeSet>, StoreError> {
        self.snapshot()?.change_set(height)
    }
    fn utxos(&self) -> Result<Vec<(Hash, UtxoEntry)>, StoreError> {
        self.snapshot()?.utxos()
    }
    fn claimed_outputs(&self) -> Result<Vec<Hash>, StoreError> {
        self.snapshot()?.claimed_outputs()
    }
}

impl RedbStore {
    /// [`Snapshot::asset_record`] of the last commit.
    pub fn asset_record(&self, asset: &AssetId) -> Result<Option<AssetRecord>, StoreError> {
        self.snapshot()?.asset_record(asset)
    }
    /// [`Snapshot::lot`] of the last commit.
    pub fn lot(&self, output_id: &Hash) -> Result<Option<LotId>, StoreError> {
        self.snapshot()?.lot(output_id)
    }
    /// [`Snapshot::assets`] of the last commit.
    pub fn assets(&self) -> Result<Vec<(AssetId, AssetRecord)>, StoreError> {
        self.snapshot()?.assets()
    }
    /// [`Snapshot::lots`] of the last commit.
    pub fn lots(&self) -> Result<Vec<(Hash, LotId)>, StoreError> {
        self.snapshot()?.lots()
    }
    /// [`Snapshot::side_block`] of the last commit.
    pub fn side_block(&self, hash: &Hash) -> Result<Option<Block>, StoreError> {
        self.snapshot()?.side_block(hash)
    }
    /// [`Snapshot::side_block_ids`] of the last commit.
    pub fn side_block_ids(&self) -> Result<Vec<(u64, Hash)>, StoreError> {
        self.snapshot()?.side_block_ids()
    }
    /// [`Snapshot::side_blocks`] of the last commit.
    pub fn side_blocks(&self) -> Result<Vec<Block>, StoreError> {
        self.snapshot()?.side_blocks()
    }

    /// Keeps `blocks` durably in the side-block table (one durable write transaction): main-chain
    /// blocks that are not on the stored chain, so that a restart (even after a kill during a reorg)
    /// still knows every branch. A block already there is left as it is. [`StoreWrite::commit_block`]
    /// takes a block out of the table in its own transaction, and [`StoreWrite::unwind_tip`] puts the
    /// unwound block in, so a block is always either on the stored chain or here.
    pub fn put_side_blocks(&self, blocks: &[&Block]) -> Result<(), StoreError> {
        if blocks.is_empty() {
            return Ok(());
        }
        let mut txn = self.db.begin_write().map_err(dberr)?;
        txn.set_durability(Durability::Immediate).map_err(dberr)?;
        {
            let mut t = txn.open_table(SIDE_BLOCKS).map_err(dberr)?;
            for b in blocks {
                let key = b.hash().0;
                if t.get(&key).map_err(dberr)?.is_none() {
                    t.insert(&key, encode_side_block(b).as_slice()).map_err(dberr)?;
                }
            }
        }
        txn.commit().map_err(dberr)?;
        Ok(())
    }

    /// Removes the given blocks and every block at or below `max_height` from the side-block table
    /// (blocks found invalid, branches too deep to be switched to). Returns how many were removed.
    pub fn remove_side_blocks(&self, hashes: &[Hash], max_height: Option<u64>) -> Result<usize, StoreError> {
        let mut txn = self.db.begin_write().map_err(dberr)?;
        txn.set_durability(Durability::Immediate).map_err(dberr)?;
        let mut removed = 0usize;
        {
            let mut t = txn.open_table(SIDE_BLOCKS).map_err(dberr)?;
            let mut doomed: Vec<[u8; 32]> = hashes.iter().map(|h| h.0).collect();
            if let Some(max) = max_height {
                for item in t.iter().map_err(dberr)? {
                    let (k, v) = item.map_err(dberr)?;
                    if side_height(v.value())? <= max {
                        doomed.push(*k.value());
                    }
                }
            }
            for k in doomed {
                if t.remove(&k).map_err(dberr)?.is_some() {
                    removed += 1;
                }
            }
        }
        txn.commit().map_err(dberr)?;
        Ok(removed)
    }

    /// [`Snapshot::asset_changes`] of the last commit.
    pub fn asset_changes(&self, height: u64) -> Result<Option<AssetChanges>, StoreError> {
        self.snapshot()?.asset_changes(height)
    }
}

impl UtxoView for RedbStore {
    fn utxo(&self, output_id: &Hash) -> Result<Option<UtxoEntry>, ViewError> {
        self.utxo_entry(output_id).map_err(view_error)
    }

    fn is_claimed(&self, mainchain_output_id: &Hash) -> Result<bool, ViewError> {
        self.claimed(mainchain_output_id).map_err(view_error)
    }

    fn asset(&self, asset: &AssetId) -> Result<Option<AssetRecord>, ViewError> {
        self.asset_record(asset).map_err(view_error)
    }

    fn lot(&self, output_id: &Hash) -> Result<Option<LotId>, ViewError> {
        RedbStore::lot(self, output_id).map_err(view_error)
    }
}

/// The asset state inside a write transaction, before the block's writes: what the block's asset
/// changes are derived from.
struct PendingView<'t> {
    /// The held blocks' writes, over `utxos`.
    held: &'t Deferred,
    utxos: redb::Table<'t, Id32, [u8; UTXO_LEN]>,
    claimed: redb::Table<'t, Id32, u64>,
    assets: redb::Table<'t, Id32, [u8; ASSET_LEN]>,
    lots: redb::Table<'t, Id32, [u8; 32]>,
}

impl UtxoView for PendingView<'_> {
    fn utxo(&self, output_id: &Hash) -> Result<Option<UtxoEntry>, ViewError> {
        if let Some(found) = self.held.utxo(&output_id.0) {
            return found
                .map(|v| codec::decode_utxo(&v))
                .transpose()
                .map_err(view_error);
        }
        match self.utxos.get(&output_id.0).map_err(|e| view_error(dberr(e)))? {
            Some(v) => codec::decode_utxo(&v.value()).map(Some).map_err(view_error),
            None => Ok(None),
        }
    }
    fn is_claimed(&self, mainchain_output_id: &Hash) -> Result<bool, ViewError> {
        Ok(self
            .claimed
            .get(&mainchain_output_id.0)
            .map_err(|e| view_error(dberr(e)))?
            .is_some())
    }
    fn asset(&self, asset: &AssetId) -> Result<Option<AssetRecord>, ViewError> {
        match self.assets.get(&asset.0).map_err(|e| view_error(dberr(e)))? {
            Some(v) => codec::decode_asset(&v.value()).map(Some).map_err(view_error),
            None => Ok(None),
        }
    }
    fn lot(&self, output_id: &Hash) -> Result<Option<LotId>, ViewError> {
        Ok(self
            .lots
            .get(&output_id.0)
            .map_err(|e| view_error(dberr(e)))?
            .map(|v| LotId(Hash(v.value()))))
    }
}

/// Writes a block's asset changes into the registry and lot tables, checking them against what is
/// stored.
fn apply_assets(txn: &WriteTransaction, a: &AssetChanges) -> Result<(), StoreError> {
    let mut assets = txn.open_table(ASSETS).map_err(dberr)?;
    for (asset, r) in &a.registered {
        if assets
            .insert(&asset.0, codec::encode_asset(r))
            .map_err(dberr)?
            .is_some()
        {
            return Err(StoreError::Inconsistent(format!(
                "asset {asset} is already registered"
            )));
        }
    }
    let mut lots = txn.open_table(LOTS).map_err(dberr)?;
    for (id, lot) in &a.lots_spent {
        match lots.remove(&id.0).map_err(dberr)? {
            Some(v) if v.value() == lot.0.0 => {}
            _ => {
                return Err(StoreError::Inconsistent(format!(
                    "the lot of spent output {id} is not as recorded"
                )));
            }
        }
    }
    for (id, lot) in &a.lots_created {
        if lots.insert(&id.0, lot.0.0).map_err(dberr)?.is_some() {
            return Err(StoreError::Inconsistent(format!("output {id} already has a lot")));
        }
    }
    Ok(())
}

/// Reverts [`apply_assets`].
fn unwind_assets(txn: &WriteTransaction, a: &AssetChanges) -> Result<(), StoreError> {
    let mut lots = txn.open_table(LOTS).map_err(dberr)?;
    for (id, lot) in &a.lots_created {
        match lots.remove(&id.0).map_err(dberr)? {
            Some(v) if v.value() == lot.0.0 => {}
            _ => {
                return Err(StoreError::Inconsistent(format!(
                    "the lot of output {id} created at the tip is not as recorded"
                )));
            }
        }
    }
    for (id, lot) in &a.lots_spent {
        lots.insert(&id.0, lot.0.0).map_err(dberr)?;
    }
    let mut assets = txn.open_table(ASSETS).map_err(dberr)?;
    for (asset, _) in &a.registered {
        if assets.remove(&asset.0).map_err(dberr)?.is_none() {
            return Err(StoreError::Inconsistent(format!(
                "asset {asset} registered at the tip is not registered"
            )));
        }
    }
    Ok(())
}

fn describe_tip(tip: Option<Tip>) -> String {
    match tip {
        Some(t) => format!("height {}, {}", t.height, t.hash),
        None => "empty store".to_string(),
    }
}

impl StoreWrite for RedbStore {
    fn commit_block(&self, block: &Block, changes: &ChangeSet) -> Result<Tip, StoreError> {
        let hash = block.hash();
        let header = block.header();
        let height = header.height;
        if changes.height != height || changes.block_hash != hash {
            return Err(StoreError::Inconsistent(format!(
                "change set is for block {} at height {}, not {hash} at height {height}",
                changes.block_hash, changes.height
            )));
        }
        if block.profile() != self.identity.profile {
            return Err(StoreError::Inconsistent(format!(
                "a {} block cannot go into a {} chain store",
                block.profile(),
                self.identity.profile
            )));
        }
        // Deferring: locked through the commit, so that a new view sees the held blocks and the
        // tables of one commit.
        let mut guard = (self.defer > 1).then(|| self.layers());
        let mut held: Deferred = guard.as_deref().cloned().unwrap_or_default();
        let parts = if guard.is_some() && height > 0 {
            self.defer
        } else {
            1
        };
        if parts > 1 && held.written.len() != parts {
            // The tables hold everything through the parent (a fresh store, or after an unwind).
            held = Deferred {
                layers: Vec::new(),
                written: vec![height - 1; parts],
                version: held.version,
            };
        }
        // This commit writes part `height mod parts` of every held block and of this one.
        let part = usize::try_from(height % parts as u64).unwrap_or(0);
        let mut txn = self.db.begin_write().map_err(dberr)?;
        // Durable when commit returns (redb's default, stated): a committed block survives a crash.
        txn.set_durability(Durability::Immediate).map_err(dberr)?;
        {
            let mut meta = txn.open_table(META).map_err(dberr)?;
            let tip = match meta.get(KEY_TIP).map_err(dberr)? {
                Some(v) => Some(codec::decode_tip(v.value())?),
                None => None,
            };
            let extends = match tip {
                Some(t) => t.height.checked_add(1) == Some(height) && t.hash == header.previous_block_hash,
                None => height == 0,
            };
            if !extends {
                return Err(StoreError::NotExtendingTip {
                    hash,
                    height,
                    tip: describe_tip(tip),
                });
            }
            if height == 0 && hash != self.identity.genesis_hash {
                return Err(StoreError::WrongGenesis {
                    found: hash,
                    expected: self.identity.genesis_hash,
                });
            }
            let new_tip = Tip { height, hash };
            meta.insert(KEY_TIP, codec::encode_tip(&new_tip).as_slice())
                .map_err(dberr)?;
            if parts > 1 {
                let mut written = held.written.clone();
                written[part] = height;
                meta.insert(KEY_STATE, encode_state(&written).as_slice())
                    .map_err(dberr)?;
            }
        }
        // The block's asset changes, derived from the block and the state it extends.
        let assets = {
            let view = PendingView {
                held: &held,
                utxos: txn.open_table(UTXOS).map_err(dberr)?,
                claimed: txn.open_table(CLAIMED).map_err(dberr)?,
                assets: txn.open_table(ASSETS).map_err(dberr)?,
                lots: txn.open_table(LOTS).map_err(dberr)?,
            };
            ledger::asset_changes(block, &view).map_err(|e| {
                StoreError::Inconsistent(format!("block breaks the asset rules of the stored state: {e}"))
            })?
        };
        apply_assets(&txn, &assets)?;
        let this = layer_of(block, changes, parts)?;
        {
            if parts > 1 {
                // Checked against the held blocks over the table; written part by part.
                let utxos = txn.open_table(UTXOS).map_err(dberr)?;
                // The tables are as of `held.version` until this transaction writes them.
                let stored = |id: &Hash| -> Result<Option<[u8; UTXO_LEN]>, StoreError> {
                    match held.utxo(&id.0) {
                        Some(found) => Ok(found),
                        None => match self.recent().get(held.version, &id.0) {
                            Some(found) => Ok(found),
                            None => Ok(utxos.get(&id.0).map_err(dberr)?.map(|v| v.value())),
                        },
                    }
                };
                for (id, entry) in &changes.spent {
                    match stored(id)? {
                        Some(v) if v == codec::encode_utxo(entry) => {}
                        Some(_) => {
                            return Err(StoreError::Inconsistent(format!(
                                "spent output {id} is stored with another entry"
                            )));
                        }
                        None => {
                            return Err(StoreError::Inconsistent(format!(
                                "spent output {id} is not unspent"
                            )));
                        }
                    }
                }
                for (id, _) in &changes.created {
                    if stored(id)?.is_some() {
                        return Err(StoreError::Inconsistent(format!(
                            "created output {id} already exists"
                        )));
                    }
                }
                drop(utxos);
                write_merged(&txn, &held.merged_part(part, &this))?;
            } else {
                // Every block writes its own, or genesis (nothing is held below it), in key order.
                write_merged(&txn, &pending::merge(this.parts.iter()))?;
            }
            let mut claimed = txn.open_table(CLAIMED).map_err(dberr)?;
            for id in &changes.claimed {
                if claimed.insert(&id.0, height).map_err(dberr)?.is_some() {
                    return Err(StoreError::Inconsistent(format!(
                        "main-chain output {id} is already claimed"
                    )));
                }
            }
        }
        {
            txn.open_table(BLOCKS)
                .map_err(dberr)?
                .insert(&hash.0, block.encode().as_slice())
                .map_err(dberr)?;
            txn.open_table(HEADERS)
                .map_err(dberr)?
                .insert(&hash.0, header.encode().as_slice())
                .map_err(dberr)?;
            txn.open_table(HEIGHTS)
                .map_err(dberr)?
                .insert(height, hash.0)
                .map_err(dberr)?;
            txn.open_table(SIDE_BLOCKS)
                .map_err(dberr)?
                .remove(&hash.0)
                .map_err(dberr)?;
            txn.open_table(CHANGES)
                .map_err(dberr)?
                .insert(height, codec::encode_block_changes(changes, &assets).as_slice())
                .map_err(dberr)?;
        }
        txn.commit().map_err(dberr)?;
        if let Some(guard) = guard.as_mut() {
            let from = guard.version;
            let to = from.wrapping_add(1);
            // What this block changed is forgotten; every other remembered read stays true.
            let changed = changes.spent.iter().chain(&changes.created).map(|(id, _)| &id.0);
            self.recent().committed(from, to, changed);
            if parts > 1 {
                held.written[part] = height;
                held.layers.push(Arc::new(this));
                let oldest = held.written.iter().copied().min().unwrap_or(height);
                held.layers.retain(|l| l.height > oldest);
                held.version = to;
                **guard = held;
            } else {
                **guard = Deferred {
                    version: to,
                    ..Deferred::default()
                };
            }
        }
        Ok(Tip { height, hash })
    }

    fn unwind_tip(&self) -> Result<Option<Block>, StoreError> {
        let mut guard = (self.defer > 1).then(|| self.layers());
        let mut txn = self.db.begin_write().map_err(dberr)?;
        txn.set_durability(Durability::Immediate).map_err(dberr)?;
        // What is held is written first, in this transaction: the unwind then reads whole tables.
        if let Some(held) = guard.as_deref().filter(|d| d.blocks() > 0) {
            write_all_held(&txn, held)?;
        }
        let tip = {
            let meta = txn.open_table(META).map_err(dberr)?;
            let base = match meta.get(KEY_BASE).map_err(dberr)? {
                Some(v) => Some(codec::decode_base(v.value())?),
                None => None,
            };
            let v = meta.get(KEY_TIP).map_err(dberr)?;
            let tip = match v {
                Some(v) => codec::decode_tip(v.value())?,
                None => return Ok(None),
            };
            // A store imported from a snapshot has no change set for its base block: the state
            // before it was never here.
            if let Some(base) = base
                && tip.height <= base
            {
                return Err(StoreError::BelowBase { base });
            }
            tip
        };
        let bytes = txn
            .open_table(BLOCKS)
            .map_err(dberr)?
            .remove(&tip.hash.0)
            .map_err(dberr)?
            .map(|v| v.value().to_vec())
            .ok_or_else(|| StoreError::Corrupt(format!("tip block {} is missing", tip.hash)))?;
        let block = decode_block(&bytes, self.identity.profile)?;
        let changes = txn
            .open_table(CHANGES)
            .map_err(dberr)?
            .remove(tip.height)
            .map_err(dberr)?
            .map(|v| codec::decode_block_changes(v.value()))
            .transpose()?
            .ok_or_else(|| StoreError::Corrupt(format!("change set of height {} is missing", tip.height)))?;
        let (changes, assets) = changes;
        unwind_assets(&txn, &assets)?;
        {
            let mut utxos = txn.open_table(UTXOS).map_err(dberr)?;
            for (id, _) in &changes.created {
                if utxos.remove(&id.0).map_err(dberr)?.is_none() {
                    return Err(StoreError::Inconsistent(format!(
                        "output {id} created at the tip is no longer unspent"
                    )));
                }
            }
            for (id, entry) in &changes.spent {
                utxos.insert(&id.0, codec::encode_utxo(entry)).map_err(dberr)?;
            }
            let mut claimed = txn.open_table(CLAIMED).map_err(dberr)?;
            for id in &changes.claimed {
                claimed.remove(&id.0).map_err(dberr)?;
            }
        }
        txn.open_table(HEADERS)
            .map_err(dberr)?
            .remove(&tip.hash.0)
            .map_err(dberr)?;
        txn.open_table(HEIGHTS)
            .map_err(dberr)?
            .remove(tip.height)
            .map_err(dberr)?;
        // The body stays, off the chain: a reorg killed half-way can still reach either branch.
        txn.open_table(SIDE_BLOCKS)
            .map_err(dberr)?
            .insert(&tip.hash.0, encode_side_block(&block).as_slice())
            .map_err(dberr)?;
        {
            let mut index = txn.open_table(TX_INDEX).map_err(dberr)?;
            for tx in block.transactions() {
                index.remove(&tx.id().0).map_err(dberr)?;
            }
        }
        {
            let mut meta = txn.open_table(META).map_err(dberr)?;
            match tip.height.checked_sub(1) {
                Some(parent_height) => {
                    let parent = Tip {
                        height: parent_height,
                        hash: block.header().previous_block_hash,
                    };
                    meta.insert(KEY_TIP, codec::encode_tip(&parent).as_slice())
                        .map_err(dberr)?;
                }
                None => {
                    meta.remove(KEY_TIP).map_err(dberr)?;
                }
            }
        }
        txn.commit().map_err(dberr)?;
        if let Some(guard) = guard.as_mut() {
            **guard = Deferred {
                version: guard.version.wrapping_add(1),
                ..Deferred::default()
            };
            self.recent().reset(guard.version);
        }
        Ok(Some(block))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_another_format_version() {
        let dir = std::env::temp_dir().join(format!("tributary-storage-format-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("chain.redb");
        let id = ChainIdentity {
            profile: Profile::Side,
            network: types::profile::Network::Devnet,
            genesis_hash: Hash([1; 32]),
        };
        drop(RedbStore::open(&path, id).unwrap());
        {
            let database = Database::open(&path).unwrap();
            let txn = database.begin_write().unwrap();
            txn.open_table(META)
                .unwrap()
                .insert(KEY_FORMAT, 99u32.to_be_bytes().as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        let err = RedbStore::open(&path, id).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::WrongFormat {
                    found: 99,
                    expected: FORMAT_VERSION,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("format version 99"), "{err}");
        assert!(matches!(
            RedbStore::open_existing(&path),
            Err(StoreError::WrongFormat { .. })
        ));
        // A redb file without our metadata.
        let bare = dir.join("bare.redb");
        drop(Database::create(&bare).unwrap());
        assert!(matches!(
            RedbStore::open_existing(&bare),
            Err(StoreError::NotAStore { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Stores written before the 32-byte ID tables were keyed by `&[u8; 32]` used `[u8; 32]`: the
    /// same tables must open, find every key, and list them in the same order.
    #[test]
    fn tables_written_with_array_keys_open_and_read_alike() {
        let dir = std::env::temp_dir().join(format!("tributary-storage-id32-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("old.redb");
        let as_written: TableDefinition<[u8; 32], [u8; UTXO_LEN]> = TableDefinition::new("utxos");
        // Keys that differ early, late, and in high bits, so that the order is a real check.
        let mut keys: Vec<[u8; 32]> = (0u32..600)
            .map(|i| {
                let h = i.wrapping_mul(2_654_435_761).to_be_bytes();
                let mut k = [0u8; 32];
                k[0] = h[0];
                k[17] = h[2];
                k[31] = h[3] ^ 0x80;
                k
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        {
            let database = Database::create(&path).unwrap();
            let txn = database.begin_write().unwrap();
            {
                let mut t = txn.open_table(as_written).unwrap();
                for (i, k) in keys.iter().rev().enumerate() {
                    t.insert(*k, [i.to_le_bytes()[0]; UTXO_LEN]).unwrap();
                }
            }
            txn.commit().unwrap();
        }
        let database = Database::open(&path).unwrap();
        let txn = database.begin_read().unwrap();
        let t = txn.open_table(UTXOS).unwrap();
        let listed: Vec<[u8; 32]> = t.iter().unwrap().map(|e| *e.unwrap().0.value()).collect();
        assert_eq!(listed, keys);
        let n = keys.len();
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(
                t.get(k).unwrap().map(|v| v.value()),
                Some([(n - 1 - i).to_le_bytes()[0]; UTXO_LEN])
            );
        }
        let mut absent = keys[3];
        absent[31] ^= 1;
        assert!(keys.binary_search(&absent).is_err());
        assert!(t.get(&absent).unwrap().is_none());
        let above: Vec<[u8; 32]> = t
            .range::<&[u8; 32]>(&keys[n / 2]..)
            .unwrap()
            .map(|e| *e.unwrap().0.value())
            .collect();
        assert_eq!(above, keys[n / 2..]);
        drop(t);
        drop(txn);
        drop(database);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

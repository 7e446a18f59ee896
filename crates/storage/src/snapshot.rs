//! State snapshots: the state at a store's tip in one streamed file with a commitment, and a store
//! created from such a file without replaying history.
//!
//! # File format, version 2
//!
//! All integers big-endian. Sections in this order, each list in ascending key order (bytewise), no
//! key twice:
//!
//! | field | bytes |
//! |---|---|
//! | magic `TRIBSNAP` | 8 |
//! | format version (2) | 4 |
//! | profile (0 main, 1 side), network (0 mainnet, 1 testnet, 2 devnet), genesis hash | 1 + 1 + 32 |
//! | snapshot height | 8 |
//! | length of the block at that height, then its canonical bytes | 4 + n |
//! | UTXO count, then each: output ID, kind (0 normal, 1 coinbase, 2 vote), height | 8 + 41·n |
//! | claimed main-chain output count, then each: output ID, height of the claiming block | 8 + 40·n |
//! | asset registry count, then each: asset ID, class (1 … 4), decimals, registration height | 8 + 42·n |
//! | BAP-02 lot count, then each: output ID, lot ID | 8 + 64·n |
//! | consensus state length (at most [`MAX_CONSENSUS_STATE_BYTES`], 0 = none), then its bytes | 4 + n |
//! | commitment: SHA3-256 of every byte above | 32 |
//!
//! The consensus state is the node's consensus state at the snapshot height (for a BBFT sidechain,
//! the DPoS election state), supplied by the node on export and kept by the imported store
//! ([`StoreRead::consensus_state`]); the store treats it as opaque bytes. Version 1 is version 2
//! without that section (and with version 1): it is still read, verified and imported, as a snapshot
//! without consensus state. Writing always writes version 2.
//!
//! The encoding is canonical: one state has exactly one encoding, so two nodes with the same state at
//! the same block compute the same commitment. The commitment covers the chain identity and the block
//! too, so it names one state of one chain. Decoding is bounded (the block by the codec's block limit,
//! the consensus state by [`MAX_CONSENSUS_STATE_BYTES`], every list by the bytes actually present:
//! nothing is allocated from a count or a length) and every failure is a typed [`SnapshotError`],
//! never a panic.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use ledger::{AssetRecord, LotId, UtxoEntry};
use redb::{Durability, ReadableTable, ReadableTableMetadata};
use sha3::{Digest, Sha3_256};
use types::{AssetId, Block, Hash};

use crate::codec::{self, ASSET_LEN, UTXO_LEN};
use crate::redb_store::{
    ASSETS, BLOCKS, CLAIMED, HEADERS, HEIGHTS, KEY_BASE, KEY_CONSENSUS_STATE, KEY_TIP, LOTS, META, TX_INDEX,
    UTXOS, dberr, decode_block, profile_limits,
};
use crate::{ChainIdentity, RedbStore, Snapshot, StoreError, StoreRead, Tip, TxLocation};

/// The first bytes of every snapshot file.
pub const MAGIC: [u8; 8] = *b"TRIBSNAP";

/// The snapshot format this build writes; it reads this one and every earlier one (from
/// [`MIN_SNAPSHOT_VERSION`]).
pub const SNAPSHOT_VERSION: u32 = 2;

/// The oldest snapshot format this build reads (version 1: no consensus state section).
pub const MIN_SNAPSHOT_VERSION: u32 = 1;

/// The largest consensus state section a snapshot may carry (16 MiB), on export and on reading.
pub const MAX_CONSENSUS_STATE_BYTES: usize = 16 * 1024 * 1024;

/// What a snapshot holds, and its commitment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotInfo {
    /// The chain.
    pub identity: ChainIdentity,
    /// The height of the state (the block at it is in the file).
    pub height: u64,
    /// The hash of the block at that height.
    pub block_hash: Hash,
    /// SHA3-256 of the canonical encoding (see the module documentation).
    pub commitment: Hash,
    /// Unspent outputs.
    pub utxos: u64,
    /// Claimed main-chain outputs.
    pub claimed: u64,
    /// Registered assets.
    pub assets: u64,
    /// Lots of unspent BAP-02 outputs.
    pub lots: u64,
    /// Length of the consensus state section (0: none, and always 0 in a version-1 file).
    pub consensus_state_bytes: u64,
}

/// Why a snapshot could not be written, read or imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// Reading or writing the file failed.
    #[error("snapshot I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The store has no block yet.
    #[error("the store is empty: there is no state to snapshot")]
    EmptyStore,
    /// The file does not start with [`MAGIC`].
    #[error("not a Tributary snapshot (bad magic bytes)")]
    BadMagic,
    /// The file has another format version.
    #[error(
        "snapshot format version {found}; this build reads versions {MIN_SNAPSHOT_VERSION} to {expected}"
    )]
    UnsupportedVersion {
        /// Version in the file.
        found: u32,
        /// The newest version this build reads ([`SNAPSHOT_VERSION`]).
        expected: u32,
    },
    /// A consensus state section larger than [`MAX_CONSENSUS_STATE_BYTES`]: given to export, or
    /// announced by a file (refused before anything of it is read or allocated).
    #[error("a consensus state of {len} bytes exceeds the limit of {max} bytes")]
    ConsensusStateTooLarge {
        /// The length given or announced.
        len: u64,
        /// [`MAX_CONSENSUS_STATE_BYTES`].
        max: u64,
    },
    /// The file ends early.
    #[error("the snapshot is truncated (in {0})")]
    Truncated(&'static str),
    /// A field is out of range, a list is out of order, or bytes follow the commitment.
    #[error("malformed snapshot: {0}")]
    Malformed(String),
    /// The commitment recorded in the file is not the hash of its contents: damaged or tampered with.
    #[error(
        "the snapshot's contents hash to {computed}, not to its recorded commitment {recorded}: the file is damaged or was altered"
    )]
    Damaged {
        /// The commitment at the end of the file.
        recorded: Hash,
        /// The hash of the contents.
        computed: Hash,
    },
    /// The file is whole but is not the snapshot the operator expected.
    #[error("the snapshot's commitment is {found}, not the expected {expected}")]
    CommitmentMismatch {
        /// The commitment the operator supplied.
        expected: Hash,
        /// The file's commitment.
        found: Hash,
    },
    /// The target store file exists already.
    #[error("{0} exists: a snapshot is imported into an empty data directory only")]
    NotEmpty(String),
}

/// A writer that hashes everything written through it.
struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha3_256,
}

impl<W: Write> HashingWriter<W> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), SnapshotError> {
        self.hasher.update(bytes);
        self.inner.write_all(bytes)?;
        Ok(())
    }
}

/// A reader that hashes everything read through [`HashingReader::array`] and [`HashingReader::vec`].
struct HashingReader<R: Read> {
    inner: R,
    hasher: Sha3_256,
}

fn read_err(e: std::io::Error, what: &'static str) -> SnapshotError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        SnapshotError::Truncated(what)
    } else {
        SnapshotError::Io(e)
    }
}

impl<R: Read> HashingReader<R> {
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], SnapshotError> {
        let mut out = [0u8; N];
        self.inner.read_exact(&mut out).map_err(|e| read_err(e, what))?;
        self.hasher.update(out);
        Ok(out)
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, SnapshotError> {
        Ok(u64::from_be_bytes(self.array::<8>(what)?))
    }

    fn hash(&mut self, what: &'static str) -> Result<Hash, SnapshotError> {
        Ok(Hash(self.array::<32>(what)?))
    }

    /// `n` bytes, `n` already checked against a limit.
    fn vec(&mut self, n: usize, what: &'static str) -> Result<Vec<u8>, SnapshotError> {
        let mut out = Vec::new();
        let got = (&mut self.inner)
            .take(u64::try_from(n).unwrap_or(u64::MAX))
            .read_to_end(&mut out)
            .map_err(|e| read_err(e, what))?;
        if got != n {
            return Err(SnapshotError::Truncated(what));
        }
        self.hasher.update(&out);
        Ok(out)
    }

    /// The commitment (not hashed), then the end of the file.
    fn finish(mut self) -> Result<(Hash, Hash), SnapshotError> {
        let computed = Hash(self.hasher.finalize().into());
        let mut recorded = [0u8; 32];
        self.inner
            .read_exact(&mut recorded)
            .map_err(|e| read_err(e, "commitment"))?;
        let mut extra = [0u8; 1];
        loop {
            match self.inner.read(&mut extra) {
                Ok(0) => break,
                Ok(_) => return Err(SnapshotError::Malformed("bytes follow the commitment".into())),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(SnapshotError::Io(e)),
            }
        }
        Ok((Hash(recorded), computed))
    }
}

fn corrupt_entry(e: StoreError) -> SnapshotError {
    match e {
        StoreError::Corrupt(m) => SnapshotError::Malformed(m),
        other => SnapshotError::Store(other),
    }
}

/// The fixed part before the lists.
struct Head {
    version: u32,
    identity: ChainIdentity,
    height: u64,
    raw_block: Vec<u8>,
    block: Block,
}

fn read_head<R: Read>(r: &mut HashingReader<R>) -> Result<Head, SnapshotError> {
    if r.array::<8>("magic")? != MAGIC {
        return Err(SnapshotError::BadMagic);
    }
    let version = u32::from_be_bytes(r.array::<4>("version")?);
    if !(MIN_SNAPSHOT_VERSION..=SNAPSHOT_VERSION).contains(&version) {
        return Err(SnapshotError::UnsupportedVersion {
            found: version,
            expected: SNAPSHOT_VERSION,
        });
    }
    let [profile, network] = r.array::<2>("chain identity")?;
    let identity = ChainIdentity {
        profile: codec::profile_from(profile).map_err(corrupt_entry)?,
        network: codec::network_from(network).map_err(corrupt_entry)?,
        genesis_hash: r.hash("chain identity")?,
    };
    let height = r.u64("height")?;
    let len = u32::from_be_bytes(r.array::<4>("block length")?);
    let limits = profile_limits();
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len > limits.max_block_bytes {
        return Err(SnapshotError::Malformed(format!(
            "block of {len} bytes exceeds the limit of {}",
            limits.max_block_bytes
        )));
    }
    let raw_block = r.vec(len, "block")?;
    let block = decode_block(&raw_block, identity.profile).map_err(corrupt_entry)?;
    if block.encode() != raw_block {
        return Err(SnapshotError::Malformed(
            "the block is not canonically encoded".into(),
        ));
    }
    if block.header().height != height {
        return Err(SnapshotError::Malformed(format!(
            "the block is at height {}, not the snapshot height {height}",
            block.header().height
        )));
    }
    if height == 0 && block.hash() != identity.genesis_hash {
        return Err(SnapshotError::Malformed(
            "the block at height 0 is not the chain's genesis".into(),
        ));
    }
    Ok(Head {
        version,
        identity,
        height,
        raw_block,
        block,
    })
}

/// One list entry.
enum Item {
    Utxo(Hash, UtxoEntry),
    Claimed(Hash, u64),
    Asset(AssetId, AssetRecord),
    Lot(Hash, LotId),
}

/// Reads the four lists, checking order and heights, handing each entry to `sink`; returns the counts.
fn read_lists<R: Read>(
    r: &mut HashingReader<R>,
    height: u64,
    mut sink: impl FnMut(Item) -> Result<(), SnapshotError>,
) -> Result<[u64; 4], SnapshotError> {
    const NAMES: [&str; 4] = ["UTXO set", "claimed outputs", "asset registry", "lots"];
    let mut counts = [0u64; 4];
    for (section, name) in NAMES.iter().enumerate() {
        let n = r.u64(name)?;
        let mut prev: Option<[u8; 32]> = None;
        for _ in 0..n {
            let key = r.array::<32>(name)?;
            if prev.is_some_and(|p| p >= key) {
                return Err(SnapshotError::Malformed(format!(
                    "the {name} is not in ascending key order"
                )));
            }
            prev = Some(key);
            let (item, at) = match section {
                0 => {
                    let e = codec::decode_utxo(&r.array::<UTXO_LEN>(name)?).map_err(corrupt_entry)?;
                    (Item::Utxo(Hash(key), e), e.height)
                }
                1 => {
                    let h = r.u64(name)?;
                    (Item::Claimed(Hash(key), h), h)
                }
                2 => {
                    let a = codec::decode_asset(&r.array::<ASSET_LEN>(name)?).map_err(corrupt_entry)?;
                    (Item::Asset(AssetId(key), a), a.height)
                }
                _ => (Item::Lot(Hash(key), LotId(r.hash(name)?)), 0),
            };
            if at > height {
                return Err(SnapshotError::Malformed(format!(
                    "an entry of the {name} is at height {at}, above the snapshot height {height}"
                )));
            }
            sink(item)?;
        }
        if let Some(c) = counts.get_mut(section) {
            *c = n;
        }
    }
    Ok(counts)
}

/// [`MAX_CONSENSUS_STATE_BYTES`] as the type of [`SnapshotError::ConsensusStateTooLarge`].
fn max_consensus_state() -> u64 {
    u64::try_from(MAX_CONSENSUS_STATE_BYTES).unwrap_or(u64::MAX)
}

/// The consensus state section after the lists (version 2 on; empty in version 1). The length is
/// checked against [`MAX_CONSENSUS_STATE_BYTES`] before anything is read, and the buffer grows with
/// the bytes actually read, never allocated from the length.
fn read_consensus_state<R: Read>(r: &mut HashingReader<R>, version: u32) -> Result<Vec<u8>, SnapshotError> {
    if version < 2 {
        return Ok(Vec::new());
    }
    let len = u32::from_be_bytes(r.array::<4>("consensus state length")?);
    if u64::from(len) > max_consensus_state() {
        return Err(SnapshotError::ConsensusStateTooLarge {
            len: u64::from(len),
            max: max_consensus_state(),
        });
    }
    r.vec(usize::try_from(len).unwrap_or(usize::MAX), "consensus state")
}

fn info(head: &Head, counts: [u64; 4], consensus_state: &[u8], commitment: Hash) -> SnapshotInfo {
    let [utxos, claimed, assets, lots] = counts;
    SnapshotInfo {
        identity: head.identity,
        height: head.height,
        block_hash: head.block.hash(),
        commitment,
        utxos,
        claimed,
        assets,
        lots,
        consensus_state_bytes: u64::try_from(consensus_state.len()).unwrap_or(u64::MAX),
    }
}

impl Snapshot {
    /// Writes the state at this view's tip as a snapshot file to `out` (buffered here) and returns
    /// what it holds with its commitment. Reads the whole state once, in key order.
    ///
    /// `consensus_state` is the node's consensus state at this view's tip (for a BBFT sidechain, the
    /// DPoS election state), written as the file's consensus state section; empty for none. The store
    /// does not interpret it; it must be at the same height as the view, which only the caller knows.
    /// More than [`MAX_CONSENSUS_STATE_BYTES`] is refused
    /// ([`SnapshotError::ConsensusStateTooLarge`]) before anything is written.
    pub fn export_snapshot(
        &self,
        out: impl Write,
        consensus_state: &[u8],
    ) -> Result<SnapshotInfo, SnapshotError> {
        let too_large = || SnapshotError::ConsensusStateTooLarge {
            len: u64::try_from(consensus_state.len()).unwrap_or(u64::MAX),
            max: max_consensus_state(),
        };
        if consensus_state.len() > MAX_CONSENSUS_STATE_BYTES {
            return Err(too_large());
        }
        let consensus_len = u32::try_from(consensus_state.len()).map_err(|_| too_large())?;
        let tip = self.tip()?.ok_or(SnapshotError::EmptyStore)?;
        let raw_block = self
            .raw_block(&tip.hash)?
            .ok_or_else(|| StoreError::Corrupt(format!("the tip block {} is missing", tip.hash)))?;
        let len = u32::try_from(raw_block.len())
            .map_err(|_| StoreError::Corrupt("the tip block is larger than 4 GiB".into()))?;
        let id = self.identity();
        let mut w = HashingWriter {
            inner: BufWriter::new(out),
            hasher: Sha3_256::new(),
        };
        w.put(&MAGIC)?;
        w.put(&SNAPSHOT_VERSION.to_be_bytes())?;
        w.put(&[codec::profile_byte(id.profile), codec::network_byte(id.network)])?;
        w.put(id.genesis_hash.as_bytes())?;
        w.put(&tip.height.to_be_bytes())?;
        w.put(&len.to_be_bytes())?;
        w.put(&raw_block)?;
        let mut counts = [0u64; 4];
        {
            // The table with the deferred blocks' writes over it (`crate::pending`).
            let t = self.txn.open_table(UTXOS).map_err(dberr)?;
            let merged = self.merged_layers();
            let count = i128::from(t.len().map_err(dberr)?) + merged.net_outputs();
            counts[0] = u64::try_from(count)
                .map_err(|_| StoreError::Corrupt("deferred writes remove more outputs than stored".into()))?;
            w.put(&counts[0].to_be_bytes())?;
            let rows = t
                .iter()
                .map_err(dberr)?
                .map(|item| item.map(|(k, v)| (*k.value(), v.value())).map_err(dberr));
            let mut written = 0u64;
            for item in crate::pending::overlay(rows, &merged) {
                let (k, v) = item?;
                w.put(&k)?;
                w.put(&v)?;
                written += 1;
            }
            if written != counts[0] {
                return Err(StoreError::Corrupt(format!(
                    "{written} unspent outputs read, {} counted",
                    counts[0]
                ))
                .into());
            }
        }
        {
            let t = self.txn.open_table(CLAIMED).map_err(dberr)?;
            counts[1] = t.len().map_err(dberr)?;
            w.put(&counts[1].to_be_bytes())?;
            for item in t.iter().map_err(dberr)? {
                let (k, v) = item.map_err(dberr)?;
                w.put(k.value())?;
                w.put(&v.value().to_be_bytes())?;
            }
        }
        {
            let t = self.txn.open_table(ASSETS).map_err(dberr)?;
            counts[2] = t.len().map_err(dberr)?;
            w.put(&counts[2].to_be_bytes())?;
            for item in t.iter().map_err(dberr)? {
                let (k, v) = item.map_err(dberr)?;
                w.put(k.value())?;
                w.put(&v.value())?;
            }
        }
        {
            let t = self.txn.open_table(LOTS).map_err(dberr)?;
            counts[3] = t.len().map_err(dberr)?;
            w.put(&counts[3].to_be_bytes())?;
            for item in t.iter().map_err(dberr)? {
                let (k, v) = item.map_err(dberr)?;
                w.put(k.value())?;
                w.put(&v.value())?;
            }
        }
        w.put(&consensus_len.to_be_bytes())?;
        w.put(consensus_state)?;
        let HashingWriter { mut inner, hasher } = w;
        let commitment = Hash(hasher.finalize().into());
        inner.write_all(commitment.as_bytes())?;
        inner.flush()?;
        let [utxos, claimed, assets, lots] = counts;
        Ok(SnapshotInfo {
            identity: id,
            height: tip.height,
            block_hash: tip.hash,
            commitment,
            utxos,
            claimed,
            assets,
            lots,
            consensus_state_bytes: u64::from(consensus_len),
        })
    }
}

impl RedbStore {
    /// [`Snapshot::export_snapshot`] of the last commit.
    pub fn export_snapshot(
        &self,
        out: impl Write,
        consensus_state: &[u8],
    ) -> Result<SnapshotInfo, SnapshotError> {
        self.snapshot()?.export_snapshot(out, consensus_state)
    }
}

/// Reads a whole snapshot file and checks it: format, order, bounds, and that its recorded commitment
/// is the hash of its contents. Returns what it holds; compare [`SnapshotInfo::commitment`] with a
/// trusted node's before relying on it.
pub fn verify(input: impl Read) -> Result<SnapshotInfo, SnapshotError> {
    let mut r = HashingReader {
        inner: BufReader::new(input),
        hasher: Sha3_256::new(),
    };
    let head = read_head(&mut r)?;
    let counts = read_lists(&mut r, head.height, |_| Ok(()))?;
    let consensus_state = read_consensus_state(&mut r, head.version)?;
    let (recorded, computed) = r.finish()?;
    if recorded != computed {
        return Err(SnapshotError::Damaged { recorded, computed });
    }
    Ok(info(&head, counts, &consensus_state, computed))
}

/// Creates the store `path` (which must not exist) from a snapshot file, if the file is whole and its
/// commitment is `expected`. The new store's base is the snapshot height: it holds the block at that
/// height (so the next block validates and commits on top of it) and the state after it, and no
/// earlier block. On any error nothing is left behind: the file is streamed into one write
/// transaction that is committed only after the commitment checks out. The store is built as
/// `<path>.partial` and renamed to `path` only once committed (the directory synced), so an import
/// killed half-way leaves no store at `path` that a node would open as an empty chain; a later import
/// replaces a leftover `.partial` file. The file's consensus state section, if not empty, is kept in
/// the same transaction ([`StoreRead::consensus_state`]).
pub fn import(
    input: impl Read,
    expected: &Hash,
    path: &Path,
) -> Result<(RedbStore, SnapshotInfo), SnapshotError> {
    if path.exists() {
        return Err(SnapshotError::NotEmpty(path.display().to_string()));
    }
    let partial = partial_path(path);
    let mut r = HashingReader {
        inner: BufReader::new(input),
        hasher: Sha3_256::new(),
    };
    let head = read_head(&mut r)?;
    if partial.exists() {
        // What an interrupted import left: never a store anyone opens.
        std::fs::remove_file(&partial)?;
    }
    let store = RedbStore::open(&partial, head.identity)?;
    let filled = fill(&store, r, &head, expected);
    drop(store);
    let info = match filled {
        Ok(info) => info,
        Err(e) => {
            if let Err(rm) = std::fs::remove_file(&partial) {
                return Err(SnapshotError::Io(std::io::Error::new(
                    rm.kind(),
                    format!(
                        "{e}; and removing the partial store {} failed: {rm}",
                        partial.display()
                    ),
                )));
            }
            return Err(e);
        }
    };
    std::fs::rename(&partial, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    let store = RedbStore::open(path, head.identity)?;
    Ok((store, info))
}

/// Where [`import`] builds the store before renaming it to `path`.
pub fn partial_path(path: &Path) -> std::path::PathBuf {
    let mut name = path
        .file_name()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_default();
    name.push(".partial");
    path.with_file_name(name)
}

fn fill<R: Read>(
    store: &RedbStore,
    mut r: HashingReader<R>,
    head: &Head,
    expected: &Hash,
) -> Result<SnapshotInfo, SnapshotError> {
    let mut txn = store.db.begin_write().map_err(dberr)?;
    txn.set_durability(Durability::Immediate).map_err(dberr)?;
    let hash = head.block.hash();
    let (counts, consensus_state) = {
        let mut meta = txn.open_table(META).map_err(dberr)?;
        let tip = Tip {
            height: head.height,
            hash,
        };
        meta.insert(KEY_TIP, codec::encode_tip(&tip).as_slice())
            .map_err(dberr)?;
        meta.insert(KEY_BASE, head.height.to_be_bytes().as_slice())
            .map_err(dberr)?;
        txn.open_table(BLOCKS)
            .map_err(dberr)?
            .insert(&hash.0, head.raw_block.as_slice())
            .map_err(dberr)?;
        txn.open_table(HEADERS)
            .map_err(dberr)?
            .insert(&hash.0, head.block.header().encode().as_slice())
            .map_err(dberr)?;
        txn.open_table(HEIGHTS)
            .map_err(dberr)?
            .insert(head.height, hash.0)
            .map_err(dberr)?;
        let mut index = txn.open_table(TX_INDEX).map_err(dberr)?;
        for (position, tx) in head.block.transactions().iter().enumerate() {
            let position = u32::try_from(position)
                .map_err(|_| SnapshotError::Malformed("more than 2^32 transactions".into()))?;
            let loc = TxLocation {
                block_height: head.height,
                position,
            };
            index
                .insert(&tx.id().0, codec::encode_location(&loc))
                .map_err(dberr)?;
        }
        let mut utxos = txn.open_table(UTXOS).map_err(dberr)?;
        let mut claimed = txn.open_table(CLAIMED).map_err(dberr)?;
        let mut assets = txn.open_table(ASSETS).map_err(dberr)?;
        let mut lots = txn.open_table(LOTS).map_err(dberr)?;
        let counts = read_lists(&mut r, head.height, |item| {
            match item {
                Item::Utxo(id, e) => {
                    utxos.insert(&id.0, codec::encode_utxo(&e)).map_err(dberr)?;
                }
                Item::Claimed(id, h) => {
                    claimed.insert(&id.0, h).map_err(dberr)?;
                }
                Item::Asset(id, a) => {
                    assets.insert(&id.0, codec::encode_asset(&a)).map_err(dberr)?;
                }
                Item::Lot(id, lot) => {
                    // A lot belongs to an unspent output (the UTXO list came first).
                    if utxos.get(&id.0).map_err(dberr)?.is_none() {
                        return Err(SnapshotError::Malformed(format!(
                            "the lot of output {id} names no unspent output"
                        )));
                    }
                    lots.insert(&id.0, lot.0.0).map_err(dberr)?;
                }
            }
            Ok(())
        })?;
        let consensus_state = read_consensus_state(&mut r, head.version)?;
        if !consensus_state.is_empty() {
            meta.insert(KEY_CONSENSUS_STATE, consensus_state.as_slice())
                .map_err(dberr)?;
        }
        (counts, consensus_state)
    };
    let (recorded, computed) = r.finish()?;
    if recorded != computed {
        txn.abort().map_err(dberr)?;
        return Err(SnapshotError::Damaged { recorded, computed });
    }
    if computed != *expected {
        txn.abort().map_err(dberr)?;
        return Err(SnapshotError::CommitmentMismatch {
            expected: *expected,
            found: computed,
        });
    }
    txn.commit().map_err(dberr)?;
    Ok(info(head, counts, &consensus_state, computed))
}

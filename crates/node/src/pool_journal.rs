//! The pool journal: an append-only file of the raw transactions the pool accepted, so that a node
//! killed at any moment (SIGKILL included) restarts with every transaction it reported as accepted.
//!
//! # Format (frozen)
//!
//! The file is a sequence of records, nothing else (no header):
//!
//! ```text
//! [len: u32 little-endian][check: 4 bytes][len bytes: the raw transaction]
//! ```
//!
//! `check` is the first 4 bytes of SHA-256(`len` as 4 LE bytes || the transaction). Records
//! written by earlier versions carry the first 4 bytes of SHA3-256 of the same bytes instead, and
//! are read as well: a record's check may be either. (SHA-256 runs on the processor's SHA
//! instructions; SHA3 over every accepted transaction was a fiftieth of a loaded validator's CPU.)
//! A record is good when `0 < len <= max_record` (the chain's largest transaction), the whole
//! record is present and the check matches. Reading stops at the first record that is not good: a torn tail (a
//! process killed in the middle of a write) or a damaged record ends the replay cleanly, and
//! [`PoolJournal::open`] truncates the file there. Nothing in the file can make the reader allocate
//! more than `max_record` bytes or panic.
//!
//! # Durability and group commit
//!
//! [`PoolJournal::append`] returns once the records are written (and, when asked, `fsync`ed with
//! `sync_data`). Concurrent appenders share the write and the `fsync`: one of them writes everything
//! queued so far while the others wait for it, so N concurrent submissions cost about one `fsync`,
//! not N. A failed write or sync fails every append of that batch, and the next batch first
//! truncates the file back to the last good length, so a damaged record never hides the records
//! after it.
//!
//! # Compaction
//!
//! [`PoolJournal::rewrite`] replaces the file with the given content atomically (temporary file,
//! `fsync`, rename, `fsync` of the directory). Records queued when the rewrite starts are taken as
//! covered by the new content: the caller's content must include every transaction journaled so far
//! that is still wanted (the chain service gives the pool's content, taken after the rewrite starts;
//! a transaction enters the pool before it is journaled).

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

use sha3::{Digest, Sha3_256};

/// Bytes before each transaction: length and check.
pub const RECORD_HEADER_BYTES: usize = 8;

/// Slack before a running compaction: the journal is rewritten once it is larger than four times
/// the pool's bytes plus this.
pub const COMPACTION_SLACK_BYTES: u64 = 64 << 20;

/// The journal of the store at `store_path`: next to it, named after it (`chain.redb` →
/// `chain.mempool.journal`), so that several stores in one directory keep separate journals.
pub fn journal_path(store_path: &Path) -> PathBuf {
    store_path.with_extension("mempool.journal")
}

/// Why the journal could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// A file operation failed.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// The operation.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The batch this append belonged to was not written (another appender wrote it and failed).
    #[error("writing the pool journal failed: {0}")]
    Batch(String),
    /// A transaction longer than a record may be (the chain's largest transaction).
    #[error("a transaction of {len} bytes does not fit a journal record (at most {max})")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The largest record.
        max: usize,
    },
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> JournalError {
    let path = path.to_path_buf();
    move |source| JournalError::Io { what, path, source }
}

/// The check of a record: the first 4 bytes of SHA-256(len LE || tx).
pub fn record_check(len: u32, tx: &[u8]) -> [u8; 4] {
    let mut h = sha2::Sha256::new();
    h.update(len.to_le_bytes());
    h.update(tx);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The check earlier versions wrote: the first 4 bytes of SHA3-256(len LE || tx). Still read.
pub fn legacy_record_check(len: u32, tx: &[u8]) -> [u8; 4] {
    let mut h = Sha3_256::new();
    h.update(len.to_le_bytes());
    h.update(tx);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// Appends the record of `tx` to `out`. Refuses an empty transaction or one over `max_record`.
pub fn encode_record(tx: &[u8], max_record: usize, out: &mut Vec<u8>) -> Result<(), JournalError> {
    let too_large = || JournalError::TooLarge {
        len: tx.len(),
        max: max_record,
    };
    if tx.is_empty() || tx.len() > max_record {
        return Err(too_large());
    }
    let len = u32::try_from(tx.len()).map_err(|_| too_large())?;
    out.reserve(RECORD_HEADER_BYTES.saturating_add(tx.len()));
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&record_check(len, tx));
    out.extend_from_slice(tx);
    Ok(())
}

/// Why reading stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// At the end, after a whole record (or in an empty file).
    End,
    /// In the middle of a record's header (a torn write).
    TornHeader,
    /// In the middle of a record's transaction (a torn write).
    TornBody,
    /// A length of 0 or over the largest record.
    BadLength(u32),
    /// A check that does not match.
    BadCheck,
}

/// What a read found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadReport {
    /// Good records read.
    pub records: usize,
    /// Bytes up to the end of the last good record.
    pub good_len: u64,
    /// Why reading stopped.
    pub stop: Stop,
}

/// Reads as much of `buf` as `r` holds; fewer bytes only at the end.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let Some(rest) = buf.get_mut(n..) else { break };
        match r.read(rest) {
            Ok(0) => break,
            Ok(k) => n = n.saturating_add(k),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads records from `r`, handing each good one's transaction bytes to `each`, until the end or the
/// first record that is not good. Never allocates more than `max_record` bytes for a record; an
/// I/O error (not the end) is returned as such.
pub fn read_records(
    mut r: impl Read,
    max_record: usize,
    mut each: impl FnMut(&[u8]),
) -> io::Result<ReadReport> {
    let mut report = ReadReport {
        records: 0,
        good_len: 0,
        stop: Stop::End,
    };
    let mut body = Vec::new();
    loop {
        let mut header = [0u8; RECORD_HEADER_BYTES];
        let n = read_full(&mut r, &mut header)?;
        if n == 0 {
            return Ok(report);
        }
        if n < RECORD_HEADER_BYTES {
            report.stop = Stop::TornHeader;
            return Ok(report);
        }
        let [l0, l1, l2, l3, c0, c1, c2, c3] = header;
        let len = u32::from_le_bytes([l0, l1, l2, l3]);
        let size = usize::try_from(len).unwrap_or(usize::MAX);
        if size == 0 || size > max_record {
            report.stop = Stop::BadLength(len);
            return Ok(report);
        }
        body.resize(size, 0);
        if read_full(&mut r, &mut body)? < size {
            report.stop = Stop::TornBody;
            return Ok(report);
        }
        let check = [c0, c1, c2, c3];
        if record_check(len, &body) != check && legacy_record_check(len, &body) != check {
            report.stop = Stop::BadCheck;
            return Ok(report);
        }
        each(&body);
        report.records = report.records.saturating_add(1);
        report.good_len = report
            .good_len
            .saturating_add(u64::from(len))
            .saturating_add(RECORD_HEADER_BYTES as u64);
    }
}

/// Writes `bytes` to `path` durably and atomically: a temporary file next to it, `fsync`, rename,
/// `fsync` of the directory.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), JournalError> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    {
        let mut f = File::create(&tmp).map_err(io_err("creating", &tmp))?;
        f.write_all(bytes).map_err(io_err("writing", &tmp))?;
        f.sync_all().map_err(io_err("syncing", &tmp))?;
    }
    std::fs::rename(&tmp, path).map_err(io_err("renaming to", path))?;
    sync_dir(path)
}

fn sync_dir(path: &Path) -> Result<(), JournalError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("syncing the directory", dir))
}

/// The outcome of one queued append, set by whoever writes its batch.
type Slot = Arc<OnceLock<Result<(), String>>>;

/// Appends waiting to be written.
#[derive(Default)]
struct Queue {
    bytes: Vec<u8>,
    slots: Vec<Slot>,
    /// Some queued append asked for `fsync`.
    sync: bool,
    /// A writer (an appender or a rewrite) owns the file.
    busy: bool,
}

struct Writer {
    file: File,
    /// The file's length after the last successful write.
    good_len: u64,
    /// A write or sync failed after `good_len`: truncate before writing again.
    damaged: bool,
}

/// An open pool journal (see the module documentation).
pub struct PoolJournal {
    path: PathBuf,
    max_record: usize,
    queue: Mutex<Queue>,
    turn: Condvar,
    writer: Mutex<Writer>,
    /// The file's length, for the compaction check.
    len: AtomicU64,
    compacting: AtomicBool,
}

impl std::fmt::Debug for PoolJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolJournal")
            .field("path", &self.path)
            .field("len", &self.len())
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic in another holder cannot leave these in a state worse than a failed write.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl PoolJournal {
    /// Opens (or creates) the journal at `path`, hands every good record's transaction bytes to
    /// `each` in file order, and truncates the file after the last good record (a torn or damaged
    /// tail is logged and dropped). `max_record` is the largest transaction the chain allows.
    pub fn open(
        path: &Path,
        max_record: usize,
        each: impl FnMut(&[u8]),
    ) -> Result<(PoolJournal, ReadReport), JournalError> {
        let report = match File::open(path) {
            Ok(f) => read_records(BufReader::with_capacity(1 << 20, f), max_record, each)
                .map_err(io_err("reading", path))?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => ReadReport {
                records: 0,
                good_len: 0,
                stop: Stop::End,
            },
            Err(e) => return Err(io_err("opening", path)(e)),
        };
        let existed = path.exists();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io_err("opening", path))?;
        let on_disk = file
            .metadata()
            .map_err(io_err("reading the length of", path))?
            .len();
        if on_disk != report.good_len {
            tracing::warn!(
                path = %path.display(),
                kept = report.records,
                good_bytes = report.good_len,
                dropped_bytes = on_disk.saturating_sub(report.good_len),
                stop = ?report.stop,
                "the pool journal ends in a torn or damaged record; truncated after the last good one"
            );
            file.set_len(report.good_len)
                .map_err(io_err("truncating", path))?;
            file.sync_all().map_err(io_err("syncing", path))?;
        }
        if !existed {
            sync_dir(path)?;
        }
        Ok((
            PoolJournal {
                path: path.to_path_buf(),
                max_record,
                queue: Mutex::new(Queue::default()),
                turn: Condvar::new(),
                writer: Mutex::new(Writer {
                    file,
                    good_len: report.good_len,
                    damaged: false,
                }),
                len: AtomicU64::new(report.good_len),
                compacting: AtomicBool::new(false),
            },
            report,
        ))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's length in bytes (records written).
    pub fn len(&self) -> u64 {
        self.len.load(Ordering::Relaxed)
    }

    /// Whether the file holds no record.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the journal has outgrown a pool of `pool_bytes` enough to be rewritten: more than
    /// four times the pool's bytes plus [`COMPACTION_SLACK_BYTES`].
    pub fn needs_compaction(&self, pool_bytes: u64) -> bool {
        self.len()
            > pool_bytes
                .saturating_mul(4)
                .saturating_add(COMPACTION_SLACK_BYTES)
    }

    /// Appends one record per transaction and returns once they are written, and with `sync` also
    /// on disk (`sync_data`). Concurrent appends share one write and one sync (group commit).
    pub fn append(&self, txs: &[&[u8]], sync: bool) -> Result<(), JournalError> {
        let mut bytes = Vec::new();
        for tx in txs {
            encode_record(tx, self.max_record, &mut bytes)?;
        }
        if bytes.is_empty() {
            return Ok(());
        }
        let slot: Slot = Arc::new(OnceLock::new());
        let mut q = lock(&self.queue);
        q.bytes.extend_from_slice(&bytes);
        q.slots.push(Arc::clone(&slot));
        q.sync |= sync;
        loop {
            if let Some(r) = slot.get() {
                return r.clone().map_err(JournalError::Batch);
            }
            if q.busy {
                q = self
                    .turn
                    .wait(q)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                continue;
            }
            // This appender writes everything queued so far, its own records included.
            q.busy = true;
            let batch = std::mem::take(&mut q.bytes);
            let slots = std::mem::take(&mut q.slots);
            let batch_sync = std::mem::take(&mut q.sync);
            drop(q);
            let result = self.write_batch(&batch, batch_sync);
            let shared = result.as_ref().map(|_| ()).map_err(ToString::to_string);
            for s in &slots {
                let _ = s.set(shared.clone());
            }
            q = lock(&self.queue);
            q.busy = false;
            self.turn.notify_all();
            // The writer's own error, in full; on success its slot is set and the loop returns.
            result?;
        }
    }

    fn write_batch(&self, bytes: &[u8], sync: bool) -> Result<(), JournalError> {
        let mut w = lock(&self.writer);
        if w.damaged {
            let good = w.good_len;
            w.file.set_len(good).map_err(io_err("truncating", &self.path))?;
            w.damaged = false;
        }
        // The file is in append mode: every write goes to its end.
        if let Err(e) = w.file.write_all(bytes) {
            w.damaged = true;
            return Err(io_err("writing", &self.path)(e));
        }
        if sync && let Err(e) = w.file.sync_data() {
            w.damaged = true;
            return Err(io_err("syncing", &self.path)(e));
        }
        w.good_len = w.good_len.saturating_add(bytes.len() as u64);
        self.len.store(w.good_len, Ordering::Relaxed);
        Ok(())
    }

    /// Replaces the file, atomically, with one record per transaction `content` returns (called
    /// after the rewrite has taken the file, see the module documentation). Appends queued before
    /// the rewrite took the file are reported written. On failure the old file stays and the queued
    /// appends are written to it as usual. A rewrite already under way makes this one return at
    /// once (`Ok(false)`); `Ok(true)` when this call rewrote the file.
    pub fn rewrite(&self, content: impl FnOnce() -> Vec<Vec<u8>>) -> Result<bool, JournalError> {
        if self.compacting.swap(true, Ordering::AcqRel) {
            return Ok(false);
        }
        let result = self.rewrite_now(content);
        self.compacting.store(false, Ordering::Release);
        result.map(|()| true)
    }

    fn rewrite_now(&self, content: impl FnOnce() -> Vec<Vec<u8>>) -> Result<(), JournalError> {
        let mut q = lock(&self.queue);
        while q.busy {
            q = self
                .turn
                .wait(q)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        q.busy = true;
        let taken_bytes = std::mem::take(&mut q.bytes);
        let taken_slots = std::mem::take(&mut q.slots);
        let taken_sync = std::mem::take(&mut q.sync);
        drop(q);
        let result = self.replace_file(content);
        let mut q = lock(&self.queue);
        match &result {
            Ok(()) => {
                for s in &taken_slots {
                    let _ = s.set(Ok(()));
                }
            }
            Err(_) => {
                // Back to the front of the queue, to be written to the old file.
                let mut bytes = taken_bytes;
                bytes.extend_from_slice(&q.bytes);
                q.bytes = bytes;
                let mut slots = taken_slots;
                slots.append(&mut q.slots);
                q.slots = slots;
                q.sync |= taken_sync;
            }
        }
        q.busy = false;
        self.turn.notify_all();
        result
    }

    fn replace_file(&self, content: impl FnOnce() -> Vec<Vec<u8>>) -> Result<(), JournalError> {
        let mut bytes = Vec::new();
        for tx in content() {
            match encode_record(&tx, self.max_record, &mut bytes) {
                Ok(()) => {}
                // Not a transaction the journal can hold (the pool never holds one): left out.
                Err(e) => tracing::warn!(error = %e, "left out of the rewritten pool journal"),
            }
        }
        write_atomically(&self.path, &bytes)?;
        let file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(io_err("opening", &self.path))?;
        let mut w = lock(&self.writer);
        w.file = file;
        w.good_len = bytes.len() as u64;
        w.damaged = false;
        self.len.store(w.good_len, Ordering::Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MAX: usize = 1 << 16;

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let mut seed = [0u8; 8];
            rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed);
            let p = std::env::temp_dir().join(format!("pool-journal-{tag}-{}", hex::encode(seed)));
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn encode_all(txs: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for t in txs {
            encode_record(t, MAX, &mut out).unwrap();
        }
        out
    }

    fn read_all(bytes: &[u8]) -> (Vec<Vec<u8>>, ReadReport) {
        let mut got = Vec::new();
        let report = read_records(bytes, MAX, |t| got.push(t.to_vec())).unwrap();
        (got, report)
    }

    fn sample() -> Vec<Vec<u8>> {
        vec![vec![1], vec![2; 300], (0..=255).collect(), vec![7; MAX]]
    }

    #[test]
    fn records_round_trip() {
        let txs = sample();
        let bytes = encode_all(&txs);
        let (got, report) = read_all(&bytes);
        assert_eq!(got, txs);
        assert_eq!(report.stop, Stop::End);
        assert_eq!(report.records, 4);
        assert_eq!(report.good_len, bytes.len() as u64);
        assert_eq!(read_all(&[]).1.stop, Stop::End);
    }

    #[test]
    fn records_of_earlier_versions_are_read_and_new_ones_use_sha256() {
        use sha2::Digest as _;
        // A journal an earlier version wrote: SHA3 checks. Read in full, also mixed with new
        // records after it.
        let txs = sample();
        let mut legacy = Vec::new();
        for t in &txs {
            let len = u32::try_from(t.len()).unwrap();
            legacy.extend_from_slice(&len.to_le_bytes());
            legacy.extend_from_slice(&legacy_record_check(len, t));
            legacy.extend_from_slice(t);
        }
        let (got, report) = read_all(&legacy);
        assert_eq!((got, report.stop), (txs.clone(), Stop::End));
        let mut mixed = legacy.clone();
        mixed.extend_from_slice(&encode_all(&txs));
        let (got, report) = read_all(&mixed);
        assert_eq!(got.len(), 2 * txs.len());
        assert_eq!(report.good_len, mixed.len() as u64);
        // New records carry SHA-256 of (len LE ‖ tx), not the old check.
        let one = encode_all(&[vec![5; 40]]);
        let mut h = sha2::Sha256::new();
        h.update(40u32.to_le_bytes());
        h.update([5u8; 40]);
        assert_eq!(one[4..8], h.finalize()[..4]);
        assert_ne!(one[4..8], legacy_record_check(40, &[5; 40]));
    }

    #[test]
    fn a_torn_tail_ends_the_replay_after_the_last_whole_record() {
        let txs = sample();
        let bytes = encode_all(&txs);
        let whole_three = encode_all(&txs[..3]).len();
        // Cut anywhere inside the last record: header or body.
        for cut in [whole_three + 1, whole_three + 7, whole_three + 8, bytes.len() - 1] {
            let (got, report) = read_all(&bytes[..cut]);
            assert_eq!(got, txs[..3].to_vec(), "cut at {cut}");
            assert_eq!(report.good_len, whole_three as u64);
            let expected = if cut < whole_three + RECORD_HEADER_BYTES {
                Stop::TornHeader
            } else {
                Stop::TornBody
            };
            assert_eq!(report.stop, expected, "cut at {cut}");
        }
    }

    #[test]
    fn a_damaged_record_stops_the_replay_there() {
        let txs = sample();
        let mut bytes = encode_all(&txs);
        let first = encode_all(&txs[..1]).len();
        // A flipped bit in the second record's body, then in its check.
        bytes[first + RECORD_HEADER_BYTES + 10] ^= 0x10;
        let (got, report) = read_all(&bytes);
        assert_eq!(got, txs[..1].to_vec());
        assert_eq!(report.stop, Stop::BadCheck);
        assert_eq!(report.good_len, first as u64);
        let mut bytes = encode_all(&txs);
        bytes[first + 5] ^= 1;
        assert_eq!(read_all(&bytes).1.stop, Stop::BadCheck);
    }

    #[test]
    fn lengths_of_zero_or_over_the_limit_are_refused_without_allocating() {
        let mut bytes = encode_all(&[vec![9; 10]]);
        let good = bytes.len() as u64;
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&[0; 4]);
        let (got, report) = read_all(&bytes);
        assert_eq!(got.len(), 1);
        assert_eq!(report.stop, Stop::BadLength(u32::MAX));
        assert_eq!(report.good_len, good);
        let over = u32::try_from(MAX + 1).unwrap();
        let mut bytes = over.to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0; 4]);
        bytes.extend(vec![0; MAX + 1]);
        assert_eq!(read_all(&bytes).1.stop, Stop::BadLength(over));
        assert_eq!(read_all(&[0; 8]).1.stop, Stop::BadLength(0));
        // Nor are such transactions written.
        assert!(matches!(
            encode_record(&vec![0; MAX + 1], MAX, &mut Vec::new()),
            Err(JournalError::TooLarge { .. })
        ));
        assert!(encode_record(&[], MAX, &mut Vec::new()).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Arbitrary bytes never panic the reader; what it accepts is a prefix, and reading that
        /// prefix again gives the same records and ends cleanly.
        #[test]
        fn arbitrary_bytes_never_panic_the_reader(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let (got, report) = read_all(&bytes);
            prop_assert!(report.good_len <= bytes.len() as u64);
            let prefix = &bytes[..usize::try_from(report.good_len).unwrap()];
            let (again, report2) = read_all(prefix);
            prop_assert_eq!(again, got);
            prop_assert_eq!(report2.stop, Stop::End);
        }

        /// Good records followed by damage: the good ones are all read, whatever the damage.
        #[test]
        fn damage_after_good_records_keeps_them(
            txs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..200), 0..8),
            tail in proptest::collection::vec(any::<u8>(), 0..300),
            flip in any::<prop::sample::Index>(),
        ) {
            let mut bytes = encode_all(&txs);
            let good = bytes.len();
            bytes.extend_from_slice(&tail);
            let (got, report) = read_all(&bytes);
            prop_assert!(got.len() >= txs.len());
            prop_assert_eq!(&got[..txs.len()], &txs[..]);
            prop_assert!(report.good_len >= good as u64);
            // A flipped byte inside the good part loses at most the records from there on.
            if good > 0 {
                let mut damaged = encode_all(&txs);
                let at = flip.index(good);
                damaged[at] ^= 0xff;
                let (got, report) = read_all(&damaged);
                prop_assert!(report.good_len <= at as u64);
                prop_assert_eq!(&got[..], &txs[..got.len()]);
            }
        }
    }

    #[test]
    fn open_truncates_a_torn_tail_and_appends_after_it() {
        let dir = TempDir::new("torn");
        let path = dir.0.join("chain.mempool.journal");
        let txs = sample();
        let mut bytes = encode_all(&txs[..2]);
        let good = bytes.len() as u64;
        bytes.extend_from_slice(&encode_all(&txs[2..3])[..20]);
        std::fs::write(&path, &bytes).unwrap();
        let mut got = Vec::new();
        let (journal, report) = PoolJournal::open(&path, MAX, |t| got.push(t.to_vec())).unwrap();
        assert_eq!(got, txs[..2].to_vec());
        assert_eq!(report.stop, Stop::TornBody);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
        journal.append(&[&txs[2], &txs[3]], true).unwrap();
        drop(journal);
        let mut got = Vec::new();
        let (_, report) = PoolJournal::open(&path, MAX, |t| got.push(t.to_vec())).unwrap();
        assert_eq!(got, txs);
        assert_eq!(report.stop, Stop::End);
    }

    #[test]
    fn concurrent_appends_all_land() {
        let dir = TempDir::new("group");
        let path = dir.0.join("j");
        let (journal, _) = PoolJournal::open(&path, MAX, |_| {}).unwrap();
        let journal = Arc::new(journal);
        let threads: Vec<_> = (0..8u8)
            .map(|t| {
                let j = Arc::clone(&journal);
                std::thread::spawn(move || {
                    for i in 0..50u8 {
                        j.append(&[&[t, i, 1, 2, 3]], i % 2 == 0).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(journal.len(), 400 * (RECORD_HEADER_BYTES as u64 + 5));
        drop(journal);
        let mut got = Vec::new();
        PoolJournal::open(&path, MAX, |t| got.push(t.to_vec())).unwrap();
        got.sort();
        let mut want: Vec<Vec<u8>> = (0..8u8)
            .flat_map(|t| (0..50u8).map(move |i| vec![t, i, 1, 2, 3]))
            .collect();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn a_rewrite_replaces_the_content_atomically_and_appends_continue() {
        let dir = TempDir::new("rewrite");
        let path = dir.0.join("chain.mempool.journal");
        let (journal, _) = PoolJournal::open(&path, MAX, |_| {}).unwrap();
        for i in 0..20u8 {
            journal.append(&[&[i; 100]], true).unwrap();
        }
        assert!(!journal.needs_compaction(0));
        assert!(journal.rewrite(|| vec![vec![3; 100], vec![4; 100]]).unwrap());
        assert_eq!(journal.len(), 2 * 108);
        journal.append(&[&[50; 10]], true).unwrap();
        let names: Vec<_> = std::fs::read_dir(&dir.0)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
        drop(journal);
        let mut got = Vec::new();
        PoolJournal::open(&path, MAX, |t| got.push(t.to_vec())).unwrap();
        assert_eq!(got, vec![vec![3; 100], vec![4; 100], vec![50; 10]]);
    }

    #[test]
    fn the_journal_is_named_after_its_store() {
        assert_eq!(
            journal_path(Path::new("/d/chain.redb")),
            PathBuf::from("/d/chain.mempool.journal")
        );
        assert_eq!(
            journal_path(Path::new("/d/a.redb")),
            PathBuf::from("/d/a.mempool.journal")
        );
    }
}

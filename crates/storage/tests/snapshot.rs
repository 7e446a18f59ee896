//! Snapshots: a store with assets, lots and claims exported and imported gives the same state and
//! the same consensus state section; a wrong commitment, a flipped byte or any other damage
//! (consensus state section included) is refused with a typed error and leaves no store behind; the
//! imported store accepts the original chain's next blocks and refuses to unwind below its base; a
//! version-1 file (a fixture written by the version-1 build) still verifies and imports.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use ledger::testkit::{self, Key};
use ledger::{ChainParams, validate_block};
use proptest::prelude::*;
use storage::snapshot::{self, SnapshotError};
use storage::{ChainIdentity, RedbStore, StoreError, StoreRead, StoreWrite};
use types::block::HeaderConsensus;
use types::profile::{Network, Profile};
use types::{AssetId, Block, BlockHeader, Hash, Transaction, TxOutput};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!(
            "tributary-storage-snapshot-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const ATOMIC: &[u8] = br#"{"bap":"BAP-02","name":"lot"}"#;
const QUARK: &[u8] = br#"{"bap":"BAP-03","name":"item"}"#;

fn genesis(miner: &Key) -> Block {
    let cb = testkit::coinbase(
        Profile::Main,
        0,
        vec![testkit::output(miner.program(), AssetId::BTM, 1_000).unwrap()],
    )
    .unwrap();
    let header = BlockHeader {
        version: 1,
        height: 0,
        previous_block_hash: Hash::ZERO,
        timestamp: 1,
        transactions_merkle_root: types::merkle::tx_merkle_root(&[cb.id()]),
        transaction_status_hash: types::merkle::status_merkle_root(&[false]),
        commitment_suffix: Vec::new(),
        consensus: HeaderConsensus::Pow { nonce: 0, bits: 0 },
    };
    Block::new(header, vec![cb]).unwrap()
}

fn out(k: &Key, asset: AssetId, amount: u64) -> TxOutput {
    testkit::output(k.program(), asset, amount).unwrap()
}

fn issue(issuer: &Key, def: &[u8], nonce: &[u8], amount: u64, outputs: Vec<TxOutput>) -> Transaction {
    testkit::signed(
        Profile::Main,
        vec![(testkit::issuance(issuer, def, nonce, amount).unwrap(), issuer)],
        outputs,
    )
    .unwrap()
}

fn next_block(params: &ChainParams, parent: &BlockHeader, miner: &Key, txs: Vec<Transaction>) -> Block {
    let height = parent.height + 1;
    let cb = testkit::coinbase(
        Profile::Main,
        height,
        vec![
            testkit::output(
                miner.program(),
                AssetId::BTM,
                params.block_subsidy(height).unwrap(),
            )
            .unwrap(),
        ],
    )
    .unwrap();
    let mut all = vec![cb];
    all.extend(txs);
    testkit::block(parent, all, height + 1).unwrap()
}

/// A chain of genesis and three blocks with lots, a quark and transfers, and the two blocks that
/// follow it (not committed).
struct Chain {
    params: ChainParams,
    store: RedbStore,
    blocks: Vec<Block>,
    next: Vec<Block>,
}

fn build_chain(dir: &TempDir) -> Chain {
    let params = ChainParams::main_mainnet();
    let miner = Key::from_seed(b"miner");
    let ks: Vec<Key> = (0..3).map(|i| Key::from_seed(&[i])).collect();
    let g = genesis(&miner);
    let id = ChainIdentity {
        profile: Profile::Main,
        network: Network::Devnet,
        genesis_hash: g.hash(),
    };
    let atomic = testkit::issued_asset(&ks[0], ATOMIC);
    let quark = testkit::issued_asset(&ks[0], QUARK);
    let store = RedbStore::open(dir.file("source.redb"), id).unwrap();
    store.commit_block(&g, &ledger::genesis_change_set(&g)).unwrap();
    let t_lot = issue(&ks[0], ATOMIC, b"1", 90, vec![out(&ks[1], atomic, 90)]);
    let t_quark = issue(&ks[0], QUARK, b"1", 1, vec![out(&ks[1], quark, 1)]);
    let lot_coin = testkit::coins_of(&t_lot).remove(0);
    let split = testkit::transfer(
        Profile::Main,
        &[(&lot_coin, &ks[1])],
        vec![out(&ks[1], atomic, 30), out(&ks[2], atomic, 60)],
    )
    .unwrap();
    let parts = testkit::coins_of(&split);
    // After the snapshot: spend a lot part (its lot must be known to the imported store) and the
    // quark (its class too), and issue a new lot.
    let merge = testkit::transfer(
        Profile::Main,
        &[(&parts[0], &ks[1])],
        vec![out(&ks[0], atomic, 30)],
    )
    .unwrap();
    let quark_coin = testkit::coins_of(&t_quark).remove(0);
    let give = testkit::transfer(
        Profile::Main,
        &[(&quark_coin, &ks[1])],
        vec![out(&ks[2], quark, 1)],
    )
    .unwrap();
    let t_lot2 = issue(&ks[0], ATOMIC, b"2", 5, vec![out(&ks[0], atomic, 5)]);
    let mut blocks = vec![g];
    for txs in [vec![t_lot, t_quark], vec![split], vec![]] {
        let parent = blocks.last().unwrap().header().clone();
        let b = next_block(&params, &parent, &miner, txs);
        let cs = validate_block(&b, &parent, &store, &params, &[]).unwrap();
        store.commit_block(&b, &cs).unwrap();
        blocks.push(b);
    }
    let b4 = next_block(
        &params,
        blocks.last().unwrap().header(),
        &miner,
        vec![merge, give],
    );
    let b5 = next_block(&params, b4.header(), &miner, vec![t_lot2]);
    Chain {
        params,
        store,
        blocks,
        next: vec![b4, b5],
    }
}

fn same_state(a: &RedbStore, b: &RedbStore) {
    assert_eq!(a.utxos().unwrap(), b.utxos().unwrap());
    assert_eq!(a.claimed_outputs().unwrap(), b.claimed_outputs().unwrap());
    assert_eq!(a.assets().unwrap(), b.assets().unwrap());
    assert_eq!(a.lots().unwrap(), b.lots().unwrap());
    assert_eq!(a.tip().unwrap(), b.tip().unwrap());
}

/// The opaque consensus state the tests' snapshots carry (the node would supply its DPoS election
/// state): not empty, so that every damage test covers the section too.
fn consensus_state() -> Vec<u8> {
    (0u32..300)
        .map(|i| u8::try_from(i.wrapping_mul(7).wrapping_add(3) % 256).unwrap())
        .collect()
}

fn export(store: &RedbStore) -> (Vec<u8>, snapshot::SnapshotInfo) {
    let mut bytes = Vec::new();
    let info = store.export_snapshot(&mut bytes, &consensus_state()).unwrap();
    (bytes, info)
}

/// A snapshot without consensus state (an empty section).
fn export_without_consensus_state(store: &RedbStore) -> (Vec<u8>, snapshot::SnapshotInfo) {
    let mut bytes = Vec::new();
    let info = store.export_snapshot(&mut bytes, &[]).unwrap();
    (bytes, info)
}

fn sha3(bytes: &[u8]) -> [u8; 32] {
    <sha3::Sha3_256 as sha3::Digest>::digest(bytes).into()
}

/// `body` followed by its commitment.
fn committed(mut body: Vec<u8>) -> Vec<u8> {
    let digest = sha3(&body);
    body.extend_from_slice(&digest);
    body
}

#[test]
fn export_import_round_trip_then_follow_the_chain() {
    let dir = TempDir::new("round-trip");
    let chain = build_chain(&dir);
    let (bytes, info) = export(&chain.store);
    let tip = chain.blocks.last().unwrap();
    assert_eq!(info.height, 3);
    assert_eq!(info.block_hash, tip.hash());
    assert!(info.utxos > 0 && info.assets == 2 && info.lots == 2, "{info:?}");
    assert_eq!(info.consensus_state_bytes, 300);
    assert_eq!(&bytes[8..12], &snapshot::SNAPSHOT_VERSION.to_be_bytes());
    assert_eq!(snapshot::SNAPSHOT_VERSION, 2);
    // The same state gives the same bytes and commitment; verify agrees.
    assert_eq!(export(&chain.store).0, bytes);
    assert_eq!(snapshot::verify(bytes.as_slice()).unwrap(), info);
    // The commitment covers the consensus state: the same chain state without it is another
    // snapshot.
    let (bare, bare_info) = export_without_consensus_state(&chain.store);
    assert_eq!(bare_info.consensus_state_bytes, 0);
    assert_eq!(bare.len() + 300, bytes.len());
    assert_ne!(bare_info.commitment, info.commitment);

    let path = dir.file("imported.redb");
    let (imported, got) = snapshot::import(bytes.as_slice(), &info.commitment, &path).unwrap();
    assert_eq!(got, info);
    same_state(&chain.store, &imported);
    // The section is kept, readable through the store and through a read view.
    assert_eq!(imported.consensus_state().unwrap(), Some(consensus_state()));
    assert_eq!(
        imported.snapshot().unwrap().consensus_state().unwrap(),
        Some(consensus_state())
    );
    assert_eq!(chain.store.consensus_state().unwrap(), None);
    assert_eq!(imported.base().unwrap(), 3);
    assert_eq!(chain.store.base().unwrap(), 0);
    assert_eq!(imported.identity(), chain.store.identity());
    for h in 0..3 {
        assert_eq!(imported.block_hash(h).unwrap(), None, "height {h}");
        assert!(chain.store.block_hash(h).unwrap().is_some());
    }
    assert_eq!(imported.block_at(3).unwrap().unwrap().hash(), tip.hash());
    // The imported store's commitment is the source's.
    assert_eq!(export(&imported).1.commitment, info.commitment);
    assert!(matches!(
        imported.unwind_tip(),
        Err(StoreError::BelowBase { base: 3 })
    ));

    // Both follow the original chain's next blocks, validated against their own state.
    for b in &chain.next {
        let parent_s = chain.store.block_at(b.header().height - 1).unwrap().unwrap();
        let parent_i = imported.block_at(b.header().height - 1).unwrap().unwrap();
        let cs = validate_block(b, parent_s.header(), &chain.store, &chain.params, &[]).unwrap();
        let ci = validate_block(b, parent_i.header(), &imported, &chain.params, &[]).unwrap();
        assert_eq!(cs, ci);
        chain.store.commit_block(b, &cs).unwrap();
        imported.commit_block(b, &ci).unwrap();
        same_state(&chain.store, &imported);
    }
    assert_eq!(export(&imported).1.commitment, export(&chain.store).1.commitment);
    // The consensus state stays the one at the base as the chain moves on.
    assert_eq!(imported.consensus_state().unwrap(), Some(consensus_state()));
    // Blocks after the base unwind; the base does not.
    drop(imported);
    let reopened = RedbStore::open_existing(&path).unwrap();
    assert_eq!(reopened.base().unwrap(), 3);
    assert_eq!(reopened.consensus_state().unwrap(), Some(consensus_state()));
    assert_eq!(
        reopened.unwind_tip().unwrap().unwrap().hash(),
        chain.next[1].hash()
    );
    assert_eq!(
        reopened.unwind_tip().unwrap().unwrap().hash(),
        chain.next[0].hash()
    );
    assert!(matches!(
        reopened.unwind_tip(),
        Err(StoreError::BelowBase { base: 3 })
    ));
    assert_eq!(reopened.tip().unwrap().unwrap().hash, tip.hash());
    chain.store.unwind_tip().unwrap();
    chain.store.unwind_tip().unwrap();
    same_state(&chain.store, &reopened);
}

#[test]
fn wrong_commitment_and_damaged_files_are_refused_and_leave_nothing() {
    let dir = TempDir::new("refuse");
    let chain = build_chain(&dir);
    let (bytes, info) = export(&chain.store);
    let path = dir.file("imported.redb");

    let mut wrong = info.commitment;
    wrong.0[0] ^= 1;
    let err = snapshot::import(bytes.as_slice(), &wrong, &path).unwrap_err();
    assert!(
        matches!(err, SnapshotError::CommitmentMismatch { expected, found } if expected == wrong && found == info.commitment),
        "{err}"
    );
    assert!(!path.exists());

    // A flipped byte anywhere: refused by verify, and by import.
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x40;
        assert!(snapshot::verify(bad.as_slice()).is_err(), "byte {i} flipped");
    }
    for i in [0, 20, 60, bytes.len() / 2, bytes.len() - 40, bytes.len() - 1] {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01;
        let err = snapshot::import(bad.as_slice(), &info.commitment, &path).unwrap_err();
        assert!(!path.exists(), "byte {i}: {err}");
    }
    // A body byte flipped with the commitment recomputed: whole, but not the snapshot expected.
    // The last byte of the consensus state, and the last byte of the last lot ID before it.
    let body = bytes.len() - 32;
    for i in [body - 1, body - 300 - 4 - 1] {
        let mut forged = bytes[..body].to_vec();
        forged[i] ^= 1;
        let forged = committed(forged);
        assert!(snapshot::verify(forged.as_slice()).is_ok(), "byte {i}");
        assert!(matches!(
            snapshot::import(forged.as_slice(), &info.commitment, &path),
            Err(SnapshotError::CommitmentMismatch { .. })
        ));
        assert!(!path.exists());
    }
    // Truncated (in the lots, in the consensus state length, in its bytes, in the commitment),
    // extended, not a snapshot.
    for cut in [
        0,
        7,
        12,
        60,
        body - 300 - 5,
        body - 300 - 2,
        body - 150,
        body - 1,
        body,
        bytes.len() - 1,
    ] {
        assert!(snapshot::verify(&bytes[..cut]).is_err(), "cut at {cut}");
        assert!(
            snapshot::import(&bytes[..cut], &info.commitment, &path).is_err(),
            "cut at {cut}"
        );
        assert!(!path.exists(), "cut at {cut}");
    }
    for cut in [body - 300 - 2, body - 150] {
        assert!(
            matches!(
                snapshot::verify(&bytes[..cut]),
                Err(SnapshotError::Truncated(what)) if what.starts_with("consensus state")
            ),
            "cut at {cut}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        snapshot::verify(longer.as_slice()),
        Err(SnapshotError::Malformed(_))
    ));
    assert!(matches!(
        snapshot::verify(&b"not a snapshot at all"[..]),
        Err(SnapshotError::BadMagic)
    ));
    // An existing store is never overwritten.
    std::fs::write(&path, b"x").unwrap();
    assert!(matches!(
        snapshot::import(bytes.as_slice(), &info.commitment, &path),
        Err(SnapshotError::NotEmpty(_))
    ));
    assert_eq!(std::fs::read(&path).unwrap(), b"x");
}

fn snapshot_bytes() -> &'static (Vec<u8>, Hash) {
    static CELL: std::sync::OnceLock<(Vec<u8>, Hash)> = std::sync::OnceLock::new();
    CELL.get_or_init(|| {
        let dir = TempDir::new("fuzz-source");
        let chain = build_chain(&dir);
        let (bytes, info) = export(&chain.store);
        (bytes, info.commitment)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random damage (byte overwrites, cuts, insertions) never panics: verify gives a typed error,
    /// unless the damage changed nothing.
    #[test]
    fn corrupted_files_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..6)
    ) {
        let (bytes, commitment) = snapshot_bytes();
        let mut bad = bytes.clone();
        for (at, value, kind) in edits {
            if bad.is_empty() {
                break;
            }
            let i = at.index(bad.len());
            match kind {
                0 => bad[i] = value,
                1 => bad.truncate(i),
                _ => bad.insert(i, value),
            }
        }
        match snapshot::verify(bad.as_slice()) {
            Ok(info) => {
                prop_assert_eq!(&bad, bytes);
                prop_assert_eq!(info.commitment, *commitment);
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}

#[test]
fn corrupted_imports_never_panic_nor_leave_a_store() {
    let dir = TempDir::new("fuzz-import");
    let (bytes, commitment) = snapshot_bytes();
    let path = dir.file("imported.redb");
    // A deterministic spread of damage: every 97th byte overwritten with its complement.
    for i in (0..bytes.len()).step_by(97) {
        let mut bad = bytes.clone();
        bad[i] = !bad[i];
        assert!(
            snapshot::import(bad.as_slice(), commitment, &path).is_err(),
            "byte {i}"
        );
        assert!(!path.exists(), "byte {i}");
    }
}

/// Export, verify and import speed on a state of `TRIBUTARY_SNAPSHOT_UTXOS` (default 1 000 000)
/// synthetic unspent outputs. Run in release:
/// `cargo test --release -p tributary-storage --test snapshot -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check; run by hand"]
fn measure_snapshot_throughput() {
    let n: u64 = std::env::var("TRIBUTARY_SNAPSHOT_UTXOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = TempDir::new("measure");
    let g = genesis(&Key::from_seed(b"miner"));
    let id = ChainIdentity {
        profile: Profile::Main,
        network: Network::Devnet,
        genesis_hash: g.hash(),
    };
    let store = RedbStore::open(dir.file("source.redb"), id).unwrap();
    let mut cs = ledger::genesis_change_set(&g);
    for i in 0..n {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&i.wrapping_mul(0x9E37_79B9_7F4A_7C15).to_be_bytes());
        key[8..16].copy_from_slice(&i.to_be_bytes());
        cs.created.push((
            Hash(key),
            ledger::UtxoEntry {
                kind: ledger::UtxoKind::Normal,
                height: 0,
            },
        ));
    }
    store.commit_block(&g, &cs).unwrap();
    let file = dir.file("state.snap");
    let t = std::time::Instant::now();
    let info = store
        .export_snapshot(std::fs::File::create(&file).unwrap(), &[])
        .unwrap();
    let export = t.elapsed();
    let bytes = std::fs::metadata(&file).unwrap().len();
    let t = std::time::Instant::now();
    snapshot::verify(std::fs::File::open(&file).unwrap()).unwrap();
    let verify = t.elapsed();
    let t = std::time::Instant::now();
    let (imported, _) = snapshot::import(
        std::fs::File::open(&file).unwrap(),
        &info.commitment,
        &dir.file("imported.redb"),
    )
    .unwrap();
    let import = t.elapsed();
    assert_eq!(imported.utxos().unwrap().len() as u64, info.utxos);
    println!(
        "{} UTXOs, {} bytes: export {:.2} s, verify {:.2} s, import {:.2} s ({:.0} UTXOs/s)",
        info.utxos,
        bytes,
        export.as_secs_f64(),
        verify.as_secs_f64(),
        import.as_secs_f64(),
        info.utxos as f64 / import.as_secs_f64()
    );
}

/// A reader that fails hard (a panic: no clean-up code runs, as with a kill) after `left` bytes.
struct Killed<'a> {
    bytes: &'a [u8],
    left: usize,
}

impl std::io::Read for Killed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            panic!("killed during the import");
        }
        let n = buf.len().min(self.left).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        self.left -= n;
        Ok(n)
    }
}

#[test]
fn an_import_killed_half_way_leaves_no_store_and_a_retry_succeeds() {
    let dir = TempDir::new("killed");
    let chain = build_chain(&dir);
    let (bytes, info) = export(&chain.store);
    let path = dir.file("imported.redb");
    let killed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        snapshot::import(
            Killed {
                bytes: &bytes,
                left: bytes.len() / 2,
            },
            &info.commitment,
            &path,
        )
    }));
    assert!(killed.is_err());
    // Nothing at the store's name for a node to open as an empty chain; the partial file is apart.
    assert!(!path.exists());
    assert!(snapshot::partial_path(&path).exists());
    // Importing again replaces the leftover and gives the whole store.
    let (imported, got) = snapshot::import(bytes.as_slice(), &info.commitment, &path).unwrap();
    assert_eq!(got, info);
    same_state(&chain.store, &imported);
    assert!(!snapshot::partial_path(&path).exists());
}

/// The snapshot of `build_chain`'s state as the version-1 build wrote it (format version 1: no
/// consensus state section), kept so that every later build is checked to still read it.
const V1_FIXTURE: &str = include_str!("fixtures/snapshot-v1.hex");
/// Its commitment, as the version-1 build printed it.
const V1_COMMITMENT: &str = "ebc952973de60fcb349dad12704124069db5675293af3feb9f91f2be1a1733f1";

fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

/// A version-2 file with an empty consensus state section rewritten in the version-1 layout: the
/// version field set to 1, the section's length (the 4 bytes before the commitment) dropped and the
/// commitment recomputed.
fn as_version_1(v2: &[u8]) -> Vec<u8> {
    let body = v2.len() - 32;
    assert_eq!(&v2[body - 4..body], &[0; 4], "the section is not empty");
    let mut v1 = v2[..body - 4].to_vec();
    v1[8..12].copy_from_slice(&1u32.to_be_bytes());
    committed(v1)
}

#[test]
fn version_1_files_still_verify_and_import_without_consensus_state() {
    let v1 = unhex(V1_FIXTURE);
    assert_eq!(&v1[..8], b"TRIBSNAP");
    assert_eq!(&v1[8..12], &1u32.to_be_bytes());
    let info = snapshot::verify(v1.as_slice()).unwrap();
    assert_eq!(info.commitment, Hash::from_hex(V1_COMMITMENT).unwrap());
    assert_eq!(info.consensus_state_bytes, 0);
    assert_eq!(info.height, 3);

    // The fixture is this chain's state: the version-2 file of it without consensus state is the
    // version-1 file with the version changed and an empty section added (another commitment).
    let dir = TempDir::new("v1");
    let chain = build_chain(&dir);
    let (v2, v2_info) = export_without_consensus_state(&chain.store);
    assert_eq!(as_version_1(&v2), v1);
    assert_ne!(v2_info.commitment, info.commitment);
    assert_eq!(
        snapshot::SnapshotInfo {
            commitment: info.commitment,
            ..v2_info
        },
        info
    );

    let path = dir.file("imported.redb");
    let (imported, got) = snapshot::import(v1.as_slice(), &info.commitment, &path).unwrap();
    assert_eq!(got, info);
    same_state(&chain.store, &imported);
    assert_eq!(imported.base().unwrap(), 3);
    assert_eq!(imported.consensus_state().unwrap(), None);
    // Exported again, it is written as version 2 (of the same state).
    assert_eq!(export_without_consensus_state(&imported).0, v2);

    // A version-2 file with an empty section imports with no consensus state either.
    let path2 = dir.file("imported-v2.redb");
    let (imported2, got2) = snapshot::import(v2.as_slice(), &v2_info.commitment, &path2).unwrap();
    assert_eq!(got2, v2_info);
    assert_eq!(imported2.consensus_state().unwrap(), None);

    // Damage to a version-1 file is refused as well.
    for i in 0..v1.len() {
        let mut bad = v1.clone();
        bad[i] ^= 0x40;
        assert!(snapshot::verify(bad.as_slice()).is_err(), "byte {i} flipped");
    }
    // Versions outside 1..=2 are refused with a typed error.
    for version in [0u32, 3, u32::MAX] {
        let mut other = v1[..v1.len() - 32].to_vec();
        other[8..12].copy_from_slice(&version.to_be_bytes());
        let other = committed(other);
        assert!(
            matches!(
                snapshot::verify(other.as_slice()),
                Err(SnapshotError::UnsupportedVersion { found, expected: 2 }) if found == version
            ),
            "version {version}"
        );
    }
}

#[test]
fn an_oversized_consensus_state_is_a_typed_error() {
    let dir = TempDir::new("oversized");
    let chain = build_chain(&dir);
    let max = storage::MAX_CONSENSUS_STATE_BYTES;
    assert_eq!(max, 16 * 1024 * 1024);
    let max32 = u32::try_from(max).unwrap();
    let max64 = u64::from(max32);

    // Export refuses it before writing anything.
    let mut out = Vec::new();
    let err = chain
        .store
        .export_snapshot(&mut out, &vec![0u8; max + 1])
        .unwrap_err();
    assert!(
        matches!(err, SnapshotError::ConsensusStateTooLarge { len, max: m } if len == max64 + 1 && m == max64),
        "{err}"
    );
    assert!(out.is_empty());

    // A file announcing more than the limit is refused at the length, before anything of it is
    // read or allocated (the file holds no such bytes), by verify and by import.
    let (v2, _) = export_without_consensus_state(&chain.store);
    let body = v2.len() - 32;
    let path = dir.file("imported.redb");
    for len in [max32 + 1, 0x8000_0000, u32::MAX] {
        let mut bad = v2[..body - 4].to_vec();
        bad.extend_from_slice(&len.to_be_bytes());
        let bad = committed(bad);
        for err in [
            snapshot::verify(bad.as_slice()).unwrap_err(),
            snapshot::import(bad.as_slice(), &Hash(sha3(&bad[..bad.len() - 32])), &path).unwrap_err(),
        ] {
            assert!(
                matches!(err, SnapshotError::ConsensusStateTooLarge { len: l, .. } if l == u64::from(len)),
                "length {len}: {err}"
            );
        }
        assert!(!path.exists());
    }
    // At the limit the length is accepted, and a file that does not hold the bytes is truncated.
    let mut short = v2[..body - 4].to_vec();
    short.extend_from_slice(&max32.to_be_bytes());
    let short = committed(short);
    assert!(matches!(
        snapshot::verify(short.as_slice()),
        Err(SnapshotError::Truncated("consensus state"))
    ));

    // Exactly the limit is written, verified and imported.
    let big: Vec<u8> = (0..max).map(|i| u8::try_from(i % 251).unwrap()).collect();
    let mut file = Vec::new();
    let info = chain.store.export_snapshot(&mut file, &big).unwrap();
    assert_eq!(info.consensus_state_bytes, max64);
    assert_eq!(snapshot::verify(file.as_slice()).unwrap(), info);
    let (imported, _) = snapshot::import(file.as_slice(), &info.commitment, &path).unwrap();
    assert_eq!(imported.consensus_state().unwrap(), Some(big));
}

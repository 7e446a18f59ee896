//! `tributary snapshot export | verify | import` end to end on a store a solo chain service wrote:
//! the printed commitment is the file's, the import recreates the state with the snapshot height as
//! base, and a wrong commitment, a damaged file or a non-empty data directory is refused with a
//! one-line error and leaves no store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crypto::chainkd::XPrv;
use ledger::ChainParams;
use node::chain::{ChainService, ChainSetup, ProducerKey};
use node::devnet::{coins_of, sign_transfer};
use node::genesis::{devnet_genesis, p2wpkh_program_of};
use serde_json::Value;
use storage::{ChainIdentity, RedbStore, StoreRead};

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tributary(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(args)
        .output()
        .expect("run tributary");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn ok(args: &[&str]) -> Value {
    let (code, stdout, stderr) = tributary(args);
    assert_eq!(code, 0, "{args:?} failed: {stderr}");
    serde_json::from_str(&stdout).unwrap()
}

fn fails(args: &[&str], needle: &str) {
    let (code, stdout, stderr) = tributary(args);
    assert_eq!(code, 1, "{args:?} should fail but printed {stdout}");
    assert!(stdout.is_empty(), "{stdout}");
    let line = stderr.trim_end();
    assert!(line.starts_with("error: ") && !line.contains('\n'), "{line}");
    assert!(line.contains(needle), "{line:?} does not mention {needle:?}");
}

/// A data directory whose store holds genesis and three blocks of transfers.
fn source_store(dir: &Path) {
    let params = ChainParams::side_devnet();
    let xprv = XPrv::root(b"cli snapshot");
    let program = p2wpkh_program_of(&xprv.xpub());
    let genesis = devnet_genesis(&params, &program, 4, 1_000_000_000_000, 1_700_000_000_000).unwrap();
    let producer = ProducerKey::from_seed(&[5; 32]);
    let store = RedbStore::open(
        dir.join("chain.redb"),
        ChainIdentity {
            profile: params.profile,
            network: params.network,
            genesis_hash: genesis.hash(),
        },
    )
    .unwrap();
    let chain = ChainService::open(
        store,
        ChainSetup {
            params,
            genesis: genesis.clone(),
            authority: node::Authority::Solo {
                producer_public: producer.public_key(),
                producer_key: Some(producer),
            },
            mempool: node::MempoolConfig::default(),
            max_block_bytes: 8 << 20,
            max_block_gas: 10_000_000,
        },
    )
    .unwrap();
    for (i, c) in coins_of(&genesis.transactions()[1], &program)[..3]
        .iter()
        .enumerate()
    {
        let tx = sign_transfer(
            &xprv,
            std::slice::from_ref(c),
            &[(program.clone(), c.amount - 1_000_000)],
        )
        .unwrap();
        chain.submit(tx).unwrap();
        chain.produce_block(1_800_000_000_000 + i as u64 * 500).unwrap();
    }
}

#[test]
fn export_verify_import_and_refusals() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let root =
        TempDir(std::env::temp_dir().join(format!("tributary-cli-snapshot-{}-{nanos}", std::process::id())));
    let src = root.0.join("src");
    std::fs::create_dir_all(&src).unwrap();
    source_store(&src);
    let file = root.0.join("state.snap");
    let (srcs, files) = (src.to_str().unwrap(), file.to_str().unwrap());

    let exported = ok(&["snapshot", "export", "--data-dir", srcs, "--out", files]);
    assert_eq!(exported["height"], 3);
    let commitment = exported["commitment"].as_str().unwrap().to_string();
    assert_eq!(commitment.len(), 64);
    assert_eq!(
        exported["bytes"].as_u64().unwrap(),
        std::fs::metadata(&file).unwrap().len()
    );
    let verified = ok(&["snapshot", "verify", "--file", files]);
    assert_eq!(verified["commitment"], commitment);
    assert_eq!(verified["block_hash"], exported["block_hash"]);

    let dst = root.0.join("dst");
    let dsts = dst.to_str().unwrap();
    let imported = ok(&[
        "snapshot",
        "import",
        "--file",
        files,
        "--commitment",
        &commitment,
        "--data-dir",
        dsts,
    ]);
    assert_eq!(imported["base"], 3);
    assert_eq!(imported["commitment"], commitment);
    let a = RedbStore::open_existing(src.join("chain.redb")).unwrap();
    let b = RedbStore::open_existing(dst.join("chain.redb")).unwrap();
    assert_eq!(a.utxos().unwrap(), b.utxos().unwrap());
    assert_eq!(a.tip().unwrap(), b.tip().unwrap());
    drop((a, b));
    // Exporting the imported store gives the same commitment.
    let again = root.0.join("again.snap");
    let re = ok(&[
        "snapshot",
        "export",
        "--data-dir",
        dsts,
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(re["commitment"], commitment);

    // Refusals: an existing store, a wrong commitment, a damaged file, bad hex, no store.
    fails(
        &[
            "snapshot",
            "import",
            "--file",
            files,
            "--commitment",
            &commitment,
            "--data-dir",
            dsts,
        ],
        "empty data directory",
    );
    let other = root.0.join("other");
    let others = other.to_str().unwrap();
    let mut wrong = commitment.clone().into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).unwrap();
    fails(
        &[
            "snapshot",
            "import",
            "--file",
            files,
            "--commitment",
            &wrong,
            "--data-dir",
            others,
        ],
        "not the expected",
    );
    assert!(!other.join("chain.redb").exists());
    let mut bytes = std::fs::read(&file).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x10;
    let damaged = root.0.join("damaged.snap");
    std::fs::write(&damaged, &bytes).unwrap();
    let damageds = damaged.to_str().unwrap();
    let (code, _, stderr) = tributary(&["snapshot", "verify", "--file", damageds]);
    assert_eq!(code, 1, "{stderr}");
    let (code, _, stderr) = tributary(&[
        "snapshot",
        "import",
        "--file",
        damageds,
        "--commitment",
        &commitment,
        "--data-dir",
        others,
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(!other.join("chain.redb").exists());
    fails(
        &[
            "snapshot",
            "import",
            "--file",
            files,
            "--commitment",
            "xyz",
            "--data-dir",
            others,
        ],
        "64 hex characters",
    );
    fails(
        &["snapshot", "export", "--data-dir", others, "--out", files],
        "no store",
    );
    fails(&["snapshot", "verify", "--file", srcs], "checking");
}

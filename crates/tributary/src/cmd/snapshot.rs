//! `tributary snapshot export | import | verify`: the state at a store's tip as a file with its
//! commitment, and a new store started from such a file (docs/snapshots.md).

use std::fs::File;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};
use storage::snapshot::{self, SnapshotInfo};
use storage::{RedbStore, StoreRead};
use types::Hash;

use crate::cli::SnapshotCommand;

/// Runs one snapshot subcommand.
pub(crate) fn run(cmd: SnapshotCommand) -> Result<Value> {
    match cmd {
        SnapshotCommand::Export { data_dir, out } => export(&data_dir, &out),
        SnapshotCommand::Import {
            file,
            commitment,
            data_dir,
        } => import(&file, &commitment, &data_dir),
        SnapshotCommand::Verify { file } => verify(&file),
    }
}

fn describe(info: &SnapshotInfo) -> Value {
    json!({
        "height": info.height,
        "block_hash": info.block_hash.to_hex(),
        "commitment": info.commitment.to_hex(),
        "chain": {
            "profile": info.identity.profile.to_string(),
            "network": info.identity.network.to_string(),
            "genesis_hash": info.identity.genesis_hash.to_hex(),
        },
        "utxos": info.utxos,
        "claimed_outputs": info.claimed,
        "assets": info.assets,
        "lots": info.lots,
    })
}

fn export(data_dir: &Path, out: &Path) -> Result<Value> {
    let path = data_dir.join(node::STORE_FILE);
    if !path.is_file() {
        bail!(
            "no store at {} (is --data-dir the node's data directory?)",
            path.display()
        );
    }
    let store = RedbStore::open_existing(&path).with_context(|| {
        format!(
            "cannot open the store {} (a running node holds it: stop the node first)",
            path.display()
        )
    })?;
    // Written beside the target and renamed, so that a partial file never has the final name.
    let mut tmp = out.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = std::path::PathBuf::from(tmp);
    let file = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let info = match store.export_snapshot(file) {
        Ok(info) => info,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e).context("exporting the snapshot");
        }
    };
    std::fs::rename(&tmp, out)
        .with_context(|| format!("cannot rename {} to {}", tmp.display(), out.display()))?;
    let mut v = describe(&info);
    v["file"] = json!(out.display().to_string());
    v["bytes"] = json!(std::fs::metadata(out).map(|m| m.len()).unwrap_or(0));
    Ok(v)
}

fn import(file: &Path, commitment: &str, data_dir: &Path) -> Result<Value> {
    let text = commitment.trim();
    let expected = Hash::from_hex(text.strip_prefix("0x").unwrap_or(text))
        .context("--commitment must be 64 hex characters")?;
    let input = File::open(file).with_context(|| format!("cannot open the snapshot {}", file.display()))?;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let path = data_dir.join(node::STORE_FILE);
    let (store, info) =
        snapshot::import(input, &expected, &path).with_context(|| format!("importing {}", file.display()))?;
    let mut v = describe(&info);
    v["store"] = json!(path.display().to_string());
    v["base"] = json!(store.base().context("reading the new store")?);
    Ok(v)
}

fn verify(file: &Path) -> Result<Value> {
    let input = File::open(file).with_context(|| format!("cannot open the snapshot {}", file.display()))?;
    let info = snapshot::verify(input).with_context(|| format!("checking {}", file.display()))?;
    Ok(describe(&info))
}

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
        SnapshotCommand::Export {
            data_dir,
            config,
            out,
        } => match (config, data_dir) {
            (Some(config), _) => export_configured(&config, &out),
            (None, Some(data_dir)) => export(&data_dir, &out),
            (None, None) => bail!("give --data-dir or --config"),
        },
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
        "consensus_state_bytes": info.consensus_state_bytes,
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
    // A BBFT store's tip carries a finality certificate: its snapshot needs the election state.
    let tip = store.tip()?.map_or(0, |t| t.height);
    if tip > 0
        && let Some(block) = store.block_at(tip)?
        && node::chain::bbft::proof_of(&block).is_some()
    {
        bail!(
            "{} holds a BBFT chain, whose snapshot must carry its election state: run \
             `tributary snapshot export --config <the node's configuration file> --out …`, \
             or fetch GET /v1/snapshot/file from the running node",
            path.display()
        );
    }
    write_snapshot(&store.snapshot()?, &[], out)
}

/// `export --config`: a BBFT node's store opened as the node opens it (every certificate checked,
/// the elections replayed), exported with the election state at its tip. Other chains need
/// nothing but the store.
fn export_configured(config_path: &Path, out: &Path) -> Result<Value> {
    let file = crate::cmd::node::FileConfig::load(config_path)?;
    let base = config_path.parent().unwrap_or_else(|| Path::new("."));
    let config = file.node_config(base);
    if !config.bbft.enabled {
        return export(&config.data_dir, out);
    }
    let chain = node::bbft_host::node::open_chain_offline(&config).with_context(|| {
        format!(
            "cannot open the chain in {} (a running node holds it: stop the node first)",
            config.data_dir.display()
        )
    })?;
    let (view, elections) = chain.snapshot_view()?;
    write_snapshot(&view, &elections, out)
}

fn write_snapshot(view: &storage::Snapshot, consensus_state: &[u8], out: &Path) -> Result<Value> {
    // Written beside the target and renamed, so that a partial file never has the final name.
    let mut tmp = out.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = std::path::PathBuf::from(tmp);
    let file = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let info = match view.export_snapshot(file, consensus_state) {
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

//! `tributary devnet`: a single-node sidechain for development.
//!
//! A new data directory gets a fresh dev account (a chainkd key: it is a development key, so its
//! private half is printed), a genesis block funding it, a producer key, an access token and a
//! `node.toml`; an existing one is reused as it is. Then it runs like `tributary node`.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use crypto::chainkd::XPrv;
use rand_core::{OsRng, RngCore as _};
use serde_json::{Value, json};
use types::profile::{Network, Profile};

use super::node::{FileConfig, init_logs, serve};
use crate::cli::DevnetOpts;

/// Outputs the genesis pays to the dev account (independent coins for parallel transfers).
const DEV_OUTPUTS: usize = 16;
/// Neu per output: 10 000 BTM.
const DEV_AMOUNT_EACH: u64 = 1_000_000_000_000;
/// The configuration file inside the data directory.
const CONFIG_FILE: &str = "node.toml";
/// What `devnet` prints about the dev account, kept for restarts.
const INFO_FILE: &str = "devnet.json";

fn write_file(path: &Path, contents: &[u8], private: bool) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(if private { 0o600 } else { 0o644 })
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Initialises a new devnet in `dir`.
fn create(dir: &Path, opts: &DevnetOpts) -> Result<()> {
    let params = ledger::ChainParams::side_devnet();
    let xprv = XPrv::generate(&mut OsRng);
    let xpub = xprv.xpub();
    let program = node::genesis::p2wpkh_program_of(&xpub);
    let address = types::address::program_to_address(&program, Profile::Side, Network::Devnet)
        .context("no address for the dev account's program")?;
    let genesis = node::genesis::devnet_genesis(
        &params,
        &program,
        DEV_OUTPUTS,
        DEV_AMOUNT_EACH,
        node::producer::now_ms(),
    )?;
    let token = format!("devnet:{}", random_hex(32));
    write_file(
        &dir.join("genesis.hex"),
        hex::encode(genesis.encode()).as_bytes(),
        false,
    )?;
    write_file(&dir.join("producer.key"), random_hex(32).as_bytes(), true)?;
    let info = json!({
        "access_token": token,
        "dev_account": {
            "xprv": xprv.expose_hex().as_str(),
            "xpub": xpub.to_hex(),
            "public_key": hex::encode(xpub.public_key()),
            "control_program": hex::encode(&program),
            "address": address,
            "funded_outputs": DEV_OUTPUTS,
            "amount_each": DEV_AMOUNT_EACH,
        },
    });
    write_file(
        &dir.join(INFO_FILE),
        serde_json::to_string_pretty(&info)?.as_bytes(),
        true,
    )?;
    let config = FileConfig {
        data_dir: PathBuf::from("."),
        producer: node::ProducerConfig {
            block_interval_ms: opts.block_interval_ms,
            ..node::ProducerConfig::default()
        },
        api: api::ApiConfig {
            listen: opts.listen.clone(),
            access_tokens: vec![token],
            ..api::ApiConfig::default()
        },
        ..FileConfig::default()
    };
    let text = format!(
        "# Written by `tributary devnet`; see docs/node.md for every field.\n{}",
        toml::to_string(&config).context("cannot write the configuration")?
    );
    // Written last: a directory with a config file is a complete devnet.
    write_file(&dir.join(CONFIG_FILE), text.as_bytes(), true)?;
    Ok(())
}

/// `devnet`.
pub(crate) fn run(opts: &DevnetOpts) -> Result<Value> {
    init_logs();
    let dir = match &opts.data_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir().join(format!(
            "tributary-devnet-{}-{}",
            std::process::id(),
            node::producer::now_ms()
        )),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let config_path = dir.join(CONFIG_FILE);
    let created = !config_path.exists();
    if created {
        create(&dir, opts)?;
    }
    let info: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(INFO_FILE))
            .with_context(|| format!("cannot read {}", dir.join(INFO_FILE).display()))?,
    )
    .context("bad devnet.json")?;
    let file = FileConfig::load(&config_path)?;
    let mut api_config = file.api.clone();
    api_config.listen.clone_from(&opts.listen);
    let startup = json!({
        "network": "devnet",
        "created": created,
        "config": config_path.display().to_string(),
        "access_token": info["access_token"],
        "dev_account": info["dev_account"],
    });
    serve(file.node_config(&dir), api_config, startup)
}

//! `tributary devnet`: a development network in one process: a single-node sidechain and, next to
//! it, a proof-of-work main chain that mines a block every few seconds.
//!
//! A new data directory gets a wallet holding the dev key (alias `dev`, encrypted under a random
//! password kept in `dev.password` and `devnet.json`, both 0600) and a single-key account `dev`; a
//! genesis block paying the dev funds to that account's first address; a producer key; an access
//! token and a `node.toml`. Its `main/` directory holds the main chain: a wallet with the same dev key
//! (imported from the same mnemonic, which is not kept) and account, a main-chain genesis paying the
//! dev funds, and a `node.toml` that mines to the dev account with one thread. An existing directory
//! is reused as it is. Then both run like `tributary node`, each with its wallet served through its
//! API, with the same access token.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use rand_core::{OsRng, RngCore as _};
use serde_json::{Value, json};

use super::node::{FileConfig, Served, WalletConfig, init_logs, serve_chains};
use crate::cli::DevnetOpts;

/// Outputs the genesis pays to the dev account (independent coins for parallel transfers).
const DEV_OUTPUTS: usize = 16;
/// Neu per output: 10 000 BTM.
const DEV_AMOUNT_EACH: u64 = 1_000_000_000_000;
/// The configuration file inside the data directory.
const CONFIG_FILE: &str = "node.toml";
/// What `devnet` knows about the dev account, kept for restarts (holds the password: 0600).
const INFO_FILE: &str = "devnet.json";
/// The dev key's password, alone, for `--password-file`.
const PASSWORD_FILE: &str = "dev.password";
/// The dev key's and account's alias.
const DEV_ALIAS: &str = "dev";
/// The main chain's directory inside the devnet's.
const MAIN_DIR: &str = "main";
/// Miner threads of the devnet main chain: one, so that the devnet leaves a core for the rest.
const MAIN_MINER_THREADS: usize = 1;

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
    let wallet_config = WalletConfig::default();
    let node_config = FileConfig::default().node_config(dir);
    let wallet = wallet_config
        .open(&node_config)?
        .context("the devnet needs its wallet")?;
    let password = random_hex(24);
    let (key, mnemonic) = wallet
        .create_key(DEV_ALIAS, &password)
        .context("cannot create the dev key")?;
    let account = wallet
        .create_account(std::slice::from_ref(&key.xpub), 1, DEV_ALIAS)
        .context("cannot create the dev account")?;
    let receiver = wallet
        .create_receiver(DEV_ALIAS)
        .context("cannot derive the dev account's address")?;
    drop(wallet);
    let program = receiver.control_program;
    let genesis = node::genesis::devnet_genesis(
        &params,
        &program,
        DEV_OUTPUTS,
        DEV_AMOUNT_EACH,
        node::producer::now_ms(),
    )?;
    let token = format!("devnet:{}", random_hex(32));
    let main_info = create_main_chain(&dir.join(MAIN_DIR), opts, &password, &mnemonic, &token)?;
    drop(mnemonic);
    write_file(
        &dir.join("genesis.hex"),
        hex::encode(genesis.encode()).as_bytes(),
        false,
    )?;
    write_file(&dir.join("producer.key"), random_hex(32).as_bytes(), true)?;
    write_file(&dir.join(PASSWORD_FILE), format!("{password}\n").as_bytes(), true)?;
    let info = json!({
        "access_token": token,
        "dev_account": {
            "alias": DEV_ALIAS,
            "id": account.id,
            "key_alias": key.alias,
            "xpub": key.xpub.to_hex(),
            "control_program": hex::encode(&program),
            "address": receiver.address,
            "funded_outputs": DEV_OUTPUTS,
            "amount_each": DEV_AMOUNT_EACH,
            "password": password,
        },
        "main_chain": main_info,
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

/// Initialises the devnet's main chain in `dir`: the dev key imported from `mnemonic` under
/// `password`, the dev account, a genesis paying it, and a mining configuration paying it too.
fn create_main_chain(
    dir: &Path,
    opts: &DevnetOpts,
    password: &str,
    mnemonic: &str,
    token: &str,
) -> Result<Value> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut file = FileConfig {
        data_dir: PathBuf::from("."),
        chain: node::ChainConfig {
            profile: "main".into(),
            ..node::ChainConfig::default()
        },
        api: api::ApiConfig {
            listen: opts.main_listen.clone(),
            access_tokens: vec![token.to_string()],
            ..api::ApiConfig::default()
        },
        ..FileConfig::default()
    };
    let node_config = file.node_config(dir);
    let wallet = WalletConfig::default()
        .open(&node_config)?
        .context("the devnet's main chain needs its wallet")?;
    let key = wallet
        .import_key(DEV_ALIAS, password, mnemonic)
        .context("cannot import the dev key into the main chain's wallet")?;
    let account = wallet
        .create_account(std::slice::from_ref(&key.xpub), 1, DEV_ALIAS)
        .context("cannot create the main chain's dev account")?;
    let receiver = wallet
        .create_receiver(DEV_ALIAS)
        .context("cannot derive the main chain's dev address")?;
    // Block rewards go to a second address of the same account.
    let miner = wallet
        .create_receiver(DEV_ALIAS)
        .context("cannot derive the main chain's miner address")?;
    drop(wallet);
    let (_, pow_params) = node::main_params_for(&node_config.chain.network)?;
    let funding: Vec<(Vec<u8>, u64)> = (0..DEV_OUTPUTS)
        .map(|_| (receiver.control_program.clone(), DEV_AMOUNT_EACH))
        .collect();
    let genesis = node::genesis::main_devnet_genesis(&pow_params, &funding, node::producer::now_ms() / 1000)?;
    write_file(
        &dir.join("genesis.hex"),
        hex::encode(genesis.encode()).as_bytes(),
        false,
    )?;
    file.mining = node::MiningConfig {
        enabled: true,
        address: miner.address.clone(),
        threads: MAIN_MINER_THREADS,
        ..node::MiningConfig::default()
    };
    let text = format!(
        "# Written by `tributary devnet`: the devnet's main chain; see docs/node.md for every field.\n{}",
        toml::to_string(&file).context("cannot write the main chain's configuration")?
    );
    write_file(&dir.join(CONFIG_FILE), text.as_bytes(), true)?;
    Ok(json!({
        "dev_account": {
            "alias": DEV_ALIAS,
            "id": account.id,
            "address": receiver.address,
            "control_program": hex::encode(&receiver.control_program),
            "funded_outputs": DEV_OUTPUTS,
            "amount_each": DEV_AMOUNT_EACH,
            "miner_address": miner.address,
        },
    }))
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
    // Absolute, so that the paths printed (the password file's) work from any directory.
    let dir = dir
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))?;
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
    // Everything about the dev account but its secrets: where the password is instead. (Devnets made
    // before the wallet kept a raw dev key in devnet.json; it stays there, unprinted.)
    let mut dev = info["dev_account"].clone();
    if let Some(d) = dev.as_object_mut() {
        d.remove("password");
        d.remove("xprv");
        let password_file = dir.join(PASSWORD_FILE);
        if password_file.exists() {
            d.insert("password_file".into(), json!(password_file.display().to_string()));
        }
    }
    let mut startup = json!({
        "network": "devnet",
        "created": created,
        "config": config_path.display().to_string(),
        "access_token": info["access_token"],
        "dev_account": dev,
    });
    let config = file.node_config(&dir);
    let wallet: Option<Arc<wallet::Wallet>> = file.wallet.open(&config)?;
    let primary = Served {
        config,
        api: api_config,
        wallet,
    };
    let main_dir = dir.join(MAIN_DIR);
    let main_config_path = main_dir.join(CONFIG_FILE);
    let main_chain = if opts.no_main_chain {
        None
    } else if main_config_path.exists() {
        let main_file = FileConfig::load(&main_config_path)?;
        let mut main_api = main_file.api.clone();
        main_api.listen.clone_from(&opts.main_listen);
        let main_config = main_file.node_config(&main_dir);
        let main_wallet = main_file.wallet.open(&main_config)?;
        Some(Served {
            config: main_config,
            api: main_api,
            wallet: main_wallet,
        })
    } else {
        // Devnets made before the main chain existed: its dev key would need the mnemonic, which is
        // not kept.
        tracing::warn!(dir = %dir.display(), "this devnet has no main chain (made by an older version)");
        None
    };
    if let (Some(out), Some(main)) = (startup.as_object_mut(), info.get("main_chain")) {
        out.insert("main_chain_dev_account".into(), main["dev_account"].clone());
    }
    serve_chains(primary, main_chain, startup)
}

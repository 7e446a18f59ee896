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
/// A validator's DPoS identity (chainkd xprv, hex) inside its directory.
const DPOS_KEY_FILE: &str = "dpos.key";
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

/// How the sidechain of a new devnet runs.
enum Sidechain {
    /// One producer; the devnet's directory is the node's.
    Solo,
    /// BBFT validators, one directory `nodeK/` each, with these API and p2p addresses.
    Validators {
        /// Validator K's API address.
        api: Vec<String>,
        /// Validator K's p2p address (where the others reach it).
        p2p: Vec<String>,
    },
}

/// Validator `k`'s directory inside a devnet's.
fn validator_dir(dir: &Path, k: usize) -> PathBuf {
    dir.join(format!("node{k}"))
}

/// Initialises a new devnet in `dir`: the dev key and account (in the wallet of the solo node or of
/// validator 0), the genesis paying it, the sidechain's node configuration(s), the main chain.
fn create(
    dir: &Path,
    side: &Sidechain,
    block_interval_ms: u64,
    side_listen: &str,
    main_listen: &str,
) -> Result<()> {
    let params = ledger::ChainParams::side_devnet();
    // The node holding the dev wallet: the solo node, or validator 0.
    let wallet_home = match side {
        Sidechain::Solo => dir.to_path_buf(),
        Sidechain::Validators { .. } => validator_dir(dir, 0),
    };
    std::fs::create_dir_all(&wallet_home)
        .with_context(|| format!("cannot create {}", wallet_home.display()))?;
    let wallet = WalletConfig::default()
        .open(&FileConfig::default().node_config(&wallet_home))?
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
    let genesis_hex = hex::encode(genesis.encode());
    let token = format!("devnet:{}", random_hex(32));
    let main_info = create_main_chain(&dir.join(MAIN_DIR), main_listen, &password, &mnemonic, &token)?;
    drop(mnemonic);
    write_file(&dir.join(PASSWORD_FILE), format!("{password}\n").as_bytes(), true)?;
    let validators = match side {
        Sidechain::Solo => 1,
        Sidechain::Validators { api, .. } => api.len(),
    };
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
        "validators": validators,
        "main_chain": main_info,
    });
    write_file(
        &dir.join(INFO_FILE),
        serde_json::to_string_pretty(&info)?.as_bytes(),
        true,
    )?;
    let api_config = |listen: &str| api::ApiConfig {
        listen: listen.to_string(),
        access_tokens: vec![token.clone()],
        ..api::ApiConfig::default()
    };
    match side {
        Sidechain::Solo => {
            write_file(&dir.join("genesis.hex"), genesis_hex.as_bytes(), false)?;
            write_file(&dir.join("producer.key"), random_hex(32).as_bytes(), true)?;
            let config = FileConfig {
                data_dir: PathBuf::from("."),
                producer: node::ProducerConfig {
                    block_interval_ms,
                    ..node::ProducerConfig::default()
                },
                api: api_config(side_listen),
                ..FileConfig::default()
            };
            // Written last: a directory with a config file is a complete devnet.
            write_config(&dir.join(CONFIG_FILE), &config)?;
        }
        Sidechain::Validators { api, p2p } => {
            // Every validator's keys: its p2p identity, its BLS consensus key, its DPoS identity.
            let keys: Vec<([u8; 32], crypto::bls::SecretKey, crypto::chainkd::XPrv)> = (0..api.len())
                .map(|_| {
                    let mut node_seed = [0u8; 32];
                    OsRng.fill_bytes(&mut node_seed);
                    let bls = crypto::bls::SecretKey::generate(&mut OsRng);
                    let dpos = crypto::chainkd::XPrv::generate(&mut OsRng);
                    (node_seed, bls, dpos)
                })
                .collect();
            let set: Vec<node::bbft_host::validators::GenesisValidator> = keys
                .iter()
                .map(|(seed, bls, dpos)| {
                    let node_public =
                        crypto::chainkd::ExpandedPrivateKey::from_ed25519_seed(seed).public_key();
                    node::bbft_host::validators::GenesisValidator::of(&dpos.xpub(), &node_public, bls)
                })
                .collect();
            for (k, (seed, bls, dpos)) in keys.iter().enumerate() {
                let home = validator_dir(dir, k);
                std::fs::create_dir_all(&home)
                    .with_context(|| format!("cannot create {}", home.display()))?;
                write_file(&home.join("genesis.hex"), genesis_hex.as_bytes(), false)?;
                write_file(&home.join("node.key"), hex::encode(seed).as_bytes(), true)?;
                write_file(
                    &home.join("bls.key"),
                    hex::encode(bls.to_bytes()).as_bytes(),
                    true,
                )?;
                // The DPoS identity, for `tributary dpos registration` (re-registering this
                // validator as a candidate, e.g. with a new BLS key).
                write_file(&home.join(DPOS_KEY_FILE), dpos.expose_hex().as_bytes(), true)?;
                let peers = p2p
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != k)
                    .map(|(j, addr)| node::PeerConfig {
                        node_id: u32::try_from(j).unwrap_or(u32::MAX),
                        addr: addr.clone(),
                    })
                    .collect();
                let config = FileConfig {
                    data_dir: PathBuf::from("."),
                    api: api_config(&api[k]),
                    wallet: WalletConfig {
                        // The dev wallet lives with validator 0; the others only relay.
                        enabled: k == 0,
                        ..WalletConfig::default()
                    },
                    bbft: node::BbftConfig {
                        enabled: true,
                        node_id: u32::try_from(k).unwrap_or(u32::MAX),
                        listen: p2p[k].clone(),
                        block_interval_ms,
                        validators: set.clone(),
                        peers,
                        // Votes can replace any of the devnet's validators (by default ten are
                        // elected, so the genesis set would serve until ten candidates qualify).
                        dpos: node::DposSettings {
                            num_validators: keys.len(),
                            ..node::DposSettings::default()
                        },
                        ..node::BbftConfig::default()
                    },
                    ..FileConfig::default()
                };
                write_config(&home.join(CONFIG_FILE), &config)?;
            }
        }
    }
    Ok(())
}

fn write_config(path: &Path, config: &FileConfig) -> Result<()> {
    let text = format!(
        "# Written by `tributary devnet`; see docs/node.md for every field.\n{}",
        toml::to_string(config).context("cannot write the configuration")?
    );
    write_file(path, text.as_bytes(), true)
}

/// `devnet init`: a multi-validator devnet written to `out`, not run.
pub(crate) fn init(
    validators: usize,
    out: &Path,
    api_base_port: u16,
    p2p_base_port: u16,
    block_interval_ms: u64,
) -> Result<Value> {
    if !(2..=64).contains(&validators) {
        anyhow::bail!("--validators must be 2 to 64 (1 is the solo devnet: `tributary devnet`)");
    }
    if out.join(INFO_FILE).exists() {
        anyhow::bail!("{} holds a devnet already", out.display());
    }
    let port = |base: u16, k: usize| -> Result<u16> {
        u16::try_from(k)
            .ok()
            .and_then(|k| base.checked_add(k))
            .context("the ports run past 65535")
    };
    let api = (0..validators)
        .map(|k| Ok(format!("127.0.0.1:{}", port(api_base_port, k)?)))
        .collect::<Result<Vec<_>>>()?;
    let p2p = (0..validators)
        .map(|k| Ok(format!("127.0.0.1:{}", port(p2p_base_port, k)?)))
        .collect::<Result<Vec<_>>>()?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let dir = out
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", out.display()))?;
    let main_listen = format!("127.0.0.1:{}", port(api_base_port, validators)?);
    create(
        &dir,
        &Sidechain::Validators {
            api: api.clone(),
            p2p,
        },
        block_interval_ms,
        "",
        &main_listen,
    )?;
    let nodes: Vec<Value> = (0..validators)
        .map(|k| {
            json!({
                "node_id": k,
                "config": validator_dir(&dir, k).join(CONFIG_FILE).display().to_string(),
                "api_url": format!("http://{}", api[k]),
                "dpos_key_file": validator_dir(&dir, k).join(DPOS_KEY_FILE).display().to_string(),
            })
        })
        .collect();
    Ok(json!({
        "dir": dir.display().to_string(),
        "validators": nodes,
        "main_chain": {
            "config": dir.join(MAIN_DIR).join(CONFIG_FILE).display().to_string(),
            "api_url": format!("http://{main_listen}"),
        },
        "password_file": dir.join(PASSWORD_FILE).display().to_string(),
        "run": format!("tributary devnet --data-dir {}", dir.display()),
    }))
}

/// Initialises the devnet's main chain in `dir`: the dev key imported from `mnemonic` under
/// `password`, the dev account, a genesis paying it, and a mining configuration paying it too.
fn create_main_chain(
    dir: &Path,
    main_listen: &str,
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
            listen: main_listen.to_string(),
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
    write_config(&dir.join(CONFIG_FILE), &file)?;
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
    let solo_config = dir.join(CONFIG_FILE);
    let node0_config = validator_dir(&dir, 0).join(CONFIG_FILE);
    let created = !solo_config.exists() && !node0_config.exists();
    if created {
        if opts.validators == 0 || opts.validators > 64 {
            anyhow::bail!("--validators must be 1 to 64");
        }
        let side = if opts.validators == 1 {
            Sidechain::Solo
        } else {
            // Validator 0's API is the devnet's; the others' and the p2p ports are picked free now
            // (one run: p2p ports first, then the other APIs) and kept in their configuration files.
            let n = u16::try_from(opts.validators).context("too many validators")?;
            let base = super::ports::free_run(super::ports::AUTO_PORTS, 2 * n - 1)?;
            let at = |k: u16| format!("127.0.0.1:{}", base + k);
            let p2p = (0..n).map(at).collect();
            let api = std::iter::once(opts.listen.clone())
                .chain((1..n).map(|k| at(n + k - 1)))
                .collect();
            Sidechain::Validators { api, p2p }
        };
        create(
            &dir,
            &side,
            opts.block_interval_ms,
            &opts.listen,
            &opts.main_listen,
        )?;
    }
    let validators = if solo_config.exists() {
        0
    } else {
        (0..)
            .take_while(|k| validator_dir(&dir, *k).join(CONFIG_FILE).exists())
            .count()
    };
    let config_path = if validators == 0 {
        solo_config
    } else {
        node0_config
    };
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
    let home = if validators == 0 {
        dir.clone()
    } else {
        validator_dir(&dir, 0)
    };
    let config = file.node_config(&home);
    let wallet: Option<Arc<wallet::Wallet>> = file.wallet.open(&config)?;
    let primary = Served {
        config,
        api: api_config,
        wallet,
    };
    let mut others = Vec::new();
    for k in 1..validators {
        let home = validator_dir(&dir, k);
        let f = FileConfig::load(&home.join(CONFIG_FILE))?;
        let config = f.node_config(&home);
        let wallet = f.wallet.open(&config)?;
        others.push(Served {
            config,
            api: f.api.clone(),
            wallet,
        });
    }
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
    serve_chains(primary, others, main_chain, startup)
}

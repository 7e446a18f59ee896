//! `tributary node --config FILE`: a node (chain service, solo producer or BBFT validator, API)
//! from a TOML file, until SIGINT or SIGTERM.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::cli::NodeOpts;

/// The node's configuration file: the node's sections plus the API's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FileConfig {
    /// Data directory, relative to the configuration file's directory (default: that directory).
    pub(crate) data_dir: PathBuf,
    /// Which chain.
    pub(crate) chain: node::ChainConfig,
    /// Block production.
    pub(crate) producer: node::ProducerConfig,
    /// The transaction pool.
    pub(crate) mempool: node::MempoolConfig,
    /// The main chain's miner (`chain.profile = "main"`).
    pub(crate) mining: node::MiningConfig,
    /// BBFT validator (multi-validator sidechain); `producer` is unused when enabled.
    pub(crate) bbft: node::BbftConfig,
    /// The HTTP API.
    pub(crate) api: api::ApiConfig,
    /// The node's wallet.
    pub(crate) wallet: WalletConfig,
}

/// The node's wallet: keys, accounts and the outputs it follows on chain, served through the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct WalletConfig {
    /// Whether the node runs a wallet and serves its endpoints.
    pub(crate) enabled: bool,
    /// The wallet's directory (keystore and index), relative to the data directory unless absolute.
    pub(crate) dir: PathBuf,
}

impl Default for WalletConfig {
    fn default() -> Self {
        WalletConfig {
            enabled: true,
            dir: PathBuf::from("wallet"),
        }
    }
}

impl WalletConfig {
    /// Opens the wallet of the node `config` describes, if enabled.
    pub(crate) fn open(&self, config: &node::NodeConfig) -> Result<Option<Arc<wallet::Wallet>>> {
        if !self.enabled {
            return Ok(None);
        }
        let params = node::chain_params(&config.chain)?;
        let dir = config.in_data_dir(&self.dir);
        let w = wallet::Wallet::open_with_params(&dir, params, wallet::KdfParams::default())
            .with_context(|| format!("cannot open the wallet in {}", dir.display()))?;
        Ok(Some(Arc::new(w)))
    }
}

impl FileConfig {
    /// Reads and parses a configuration file.
    pub(crate) fn load(path: &Path) -> Result<FileConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the configuration file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("bad configuration file {}", path.display()))
    }

    /// The node's part, with the data directory resolved against `base` (the file's directory).
    pub(crate) fn node_config(&self, base: &Path) -> node::NodeConfig {
        node::NodeConfig {
            data_dir: if self.data_dir.is_absolute() {
                self.data_dir.clone()
            } else if self.data_dir.as_os_str().is_empty() || self.data_dir == Path::new(".") {
                base.to_path_buf()
            } else {
                base.join(&self.data_dir)
            },
            chain: self.chain.clone(),
            producer: self.producer.clone(),
            mempool: self.mempool.clone(),
            mining: self.mining.clone(),
            bbft: self.bbft.clone(),
        }
    }
}

/// Logs to stderr; `RUST_LOG` filters (default `info`). Keys are never logged.
pub(crate) fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

async fn wait_for_signal() -> Result<&'static str> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => { r.context("cannot listen for SIGINT")?; Ok("SIGINT") }
        _ = term.recv() => Ok("SIGTERM"),
    }
}

/// One chain to serve: its node, its API and its wallet.
pub(crate) struct Served {
    /// The node.
    pub(crate) config: node::NodeConfig,
    /// Its API.
    pub(crate) api: api::ApiConfig,
    /// Its wallet.
    pub(crate) wallet: Option<Arc<wallet::Wallet>>,
}

/// A started chain: its node and API server.
struct Running {
    node: node::Node,
    server: api::Server,
    chain: Arc<node::ChainService>,
}

async fn start(served: Served) -> Result<(Running, Value)> {
    let Served { config, api, wallet } = served;
    let node = node::Node::start(&config).context("cannot start the node")?;
    let chain = node.chain();
    let has_wallet = wallet.is_some();
    // Runtime access tokens are kept in the data directory.
    let api_config = api::ApiConfig {
        data_dir: Some(config.data_dir.clone()),
        ..api
    };
    let server = match api::Server::start(chain.clone(), wallet, &api_config).await {
        Ok(s) => s,
        Err(e) => {
            node.shutdown().await;
            return Err(e).context("cannot start the API");
        }
    };
    let tip = chain.tip();
    let line = json!({
        "api_url": format!("http://{}", server.local_addr()),
        "data_dir": config.data_dir.display().to_string(),
        "genesis_hash": storage::StoreRead::identity(chain.store()).genesis_hash.to_hex(),
        "height": tip.height,
        "tip": tip.hash.to_hex(),
        "producing": chain.is_producing(),
        "profile": config.chain.profile,
        "mining": chain.is_pow() && config.mining.enabled,
        "block_interval_ms": config.producer.block_interval_ms,
        "wallet": has_wallet,
    });
    Ok((Running { node, server, chain }, line))
}

/// Starts the node and its API, prints one line of JSON (`startup` plus the API URL, data directory
/// and chain tip), runs until SIGINT/SIGTERM, shuts down cleanly and returns a summary.
pub(crate) fn serve(
    config: node::NodeConfig,
    api_config: api::ApiConfig,
    wallet: Option<Arc<wallet::Wallet>>,
    startup: Value,
) -> Result<Value> {
    serve_chains(
        Served {
            config,
            api: api_config,
            wallet,
        },
        Vec::new(),
        None,
        startup,
    )
}

/// As [`serve`], with more chains in the same process: the other validators of a multi-validator
/// sidechain (all of them listed under `"validators"` in the startup line, `primary` first) and the
/// devnet's main chain (under `"main_chain"`).
pub(crate) fn serve_chains(
    primary: Served,
    other_validators: Vec<Served>,
    main_chain: Option<Served>,
    startup: Value,
) -> Result<Value> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let has_validators = !other_validators.is_empty();
        let mut started: Vec<(&'static str, Running)> = Vec::new();
        let mut lines: Vec<Value> = Vec::new();
        let mut main_line = None;
        let all = std::iter::once(("", primary))
            .chain(other_validators.into_iter().map(|s| ("validator", s)))
            .chain(main_chain.map(|s| ("main_chain", s)));
        for (role, served) in all {
            match start(served).await {
                Ok((running, line)) => {
                    if role == "main_chain" {
                        main_line = Some(line);
                    } else {
                        lines.push(line);
                    }
                    started.push((role, running));
                }
                Err(e) => {
                    for (_, r) in started.into_iter().rev() {
                        r.server.shutdown().await;
                        r.node.shutdown().await;
                    }
                    return Err(e.context(format!(
                        "cannot start the {}",
                        if role.is_empty() { "node" } else { role }
                    )));
                }
            }
        }
        let mut line = lines.first().cloned().unwrap_or_else(|| json!({}));
        if let Some(out) = line.as_object_mut() {
            if has_validators {
                out.insert("validators".into(), Value::Array(lines));
            }
            if let Some(m) = main_line {
                out.insert("main_chain".into(), m);
            }
        }
        if let (Some(out), Value::Object(extra)) = (line.as_object_mut(), startup) {
            out.extend(extra);
        }
        {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{line}").context("cannot print the startup line")?;
            stdout.flush().context("cannot print the startup line")?;
        }
        let signal = wait_for_signal().await;
        tracing::info!(signal = signal.as_ref().map_or("error", |s| s), "shutting down");
        let mut summary = json!({ "stopped": true });
        for (role, Running { node, server, chain }) in started {
            server.shutdown().await;
            node.shutdown().await;
            let tip = chain.tip();
            let part = json!({ "height": tip.height, "tip": tip.hash.to_hex() });
            if let (Some(out), Value::Object(part)) = (summary.as_object_mut(), part) {
                match role {
                    "" => out.extend(part),
                    "main_chain" => {
                        out.insert(role.into(), Value::Object(part));
                    }
                    _ => {}
                }
            }
        }
        signal?;
        Ok(summary)
    })
}

/// `node --config FILE`.
pub(crate) fn run(opts: &NodeOpts) -> Result<Value> {
    init_logs();
    let file = FileConfig::load(&opts.config)?;
    let base = opts
        .config
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut api_config = file.api.clone();
    if let Some(listen) = &opts.listen {
        api_config.listen.clone_from(listen);
    }
    let mut config = file.node_config(&base);
    if opts.mine {
        config.mining.enabled = true;
    }
    let wallet = file.wallet.open(&config)?;
    serve(config, api_config, wallet, json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documented example in docs/node.md parses and states the defaults.
    #[test]
    fn documented_example_is_the_defaults() {
        let doc = include_str!("../../../../docs/node.md");
        let start = doc.find("```toml\n").unwrap() + "```toml\n".len();
        let end = start + doc[start..].find("```").unwrap();
        let parsed: FileConfig = toml::from_str(&doc[start..end]).unwrap();
        let expected = FileConfig {
            data_dir: PathBuf::from("."),
            ..FileConfig::default()
        };
        assert_eq!(parsed, expected);
        let empty: FileConfig = toml::from_str("").unwrap();
        assert_eq!(empty, FileConfig::default());
        assert!(toml::from_str::<FileConfig>("[api]\nlisten_on = \"x\"\n").is_err());
    }

    #[test]
    fn data_dir_resolves_against_the_file() {
        let base = Path::new("/etc/tributary");
        let mut c = FileConfig::default();
        assert_eq!(c.node_config(base).data_dir, base);
        c.data_dir = PathBuf::from(".");
        assert_eq!(c.node_config(base).data_dir, base);
        c.data_dir = PathBuf::from("chain");
        assert_eq!(c.node_config(base).data_dir, base.join("chain"));
        c.data_dir = PathBuf::from("/var/lib/t");
        assert_eq!(c.node_config(base).data_dir, Path::new("/var/lib/t"));
    }
}

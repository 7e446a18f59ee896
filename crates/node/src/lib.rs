#![doc = include_str!("../README.md")]

pub mod bbft_host;
pub mod chain;
pub mod config;
pub mod devnet;
pub mod elections;
pub mod genesis;
pub mod mempool;
pub mod metrics;
pub mod miner;
pub mod pool_journal;
pub mod producer;

use std::path::Path;
use std::sync::Arc;

pub use chain::pow::{
    ImportError, ImportOutcome, ImportStatus, PowAuthority, PowEngine, Template, WorkError,
};
pub use chain::{
    Admitted, Authority, ChainEvent, ChainService, ChainSetup, Origin, ProducerKey, SubmitError, Submitted,
};
pub use config::{
    BbftConfig, ChainConfig, DposSettings, MempoolConfig, MiningConfig, NodeConfig, PeerConfig,
    ProducerConfig,
};
use ledger::ChainParams;
use storage::{ChainIdentity, RedbStore};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use types::profile::{Network, Profile};

/// Name of the store file inside the data directory.
pub const STORE_FILE: &str = "chain.redb";

/// Why the node could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The configuration or a file it names is wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// Reading or writing a file failed.
    #[error("{what}: {source}")]
    Io {
        /// Which file and operation.
        what: String,
        /// The error.
        source: std::io::Error,
    },
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] storage::StoreError),
    /// Stored data contradicts itself.
    #[error("corrupt chain data: {0}")]
    Corrupt(String),
    /// A block this node built failed validation (a bug).
    #[error("own block invalid: {0}")]
    OwnBlockInvalid(ledger::BlockRejection),
    /// An internal error that is a bug.
    #[error("internal: {0}")]
    Internal(String),
}

/// The chain rules of a configured network (solo consensus runs the sidechain profile).
pub fn params_for(network: &str) -> Result<ChainParams, NodeError> {
    match network {
        "devnet" => Ok(ChainParams::side_devnet()),
        other => Err(NodeError::Config(format!(
            "network {other:?} is not supported by this node yet; use \"devnet\""
        ))),
    }
}

/// The main chain's rules of a configured network: the ledger's and proof of work's.
pub fn main_params_for(network: &str) -> Result<(ChainParams, pow::PowParams), NodeError> {
    match network {
        "devnet" => Ok((ChainParams::main_devnet(), pow::PowParams::devnet())),
        "mainnet" => Ok((ChainParams::main_mainnet(), pow::PowParams::mainnet())),
        other => Err(NodeError::Config(format!(
            "main-chain network {other:?} is not supported; use \"devnet\" or \"mainnet\""
        ))),
    }
}

/// The chain rules of a configured chain (profile and network).
pub fn chain_params(chain: &ChainConfig) -> Result<ChainParams, NodeError> {
    match chain.profile.as_str() {
        "side" | "" => params_for(&chain.network),
        "main" => main_params_for(&chain.network).map(|(p, _)| p),
        other => Err(NodeError::Config(format!(
            "chain.profile {other:?} is not known; use \"side\" or \"main\""
        ))),
    }
}

/// The control program a mining configuration pays rewards to. With neither `mining.address` nor
/// `mining.control_program`, a devnet or testnet uses the reference's default coinbase program
/// (anyone can spend it, and a warning says so) and mainnet is refused.
pub fn mining_program(mining: &MiningConfig, params: &ChainParams) -> Result<Vec<u8>, NodeError> {
    match (mining.address.trim(), mining.control_program.trim()) {
        ("", "") if params.network == Network::Mainnet => Err(NodeError::Config(
            "mining on mainnet needs mining.address (or mining.control_program): without one the block \
             rewards would go to a program anyone can spend"
                .into(),
        )),
        ("", "") => {
            tracing::warn!(
                "mining.address is not set: block rewards go to the default coinbase program, which anyone can spend"
            );
            Ok(vm::standard::default_coinbase_program())
        }
        (address, "") => types::address::address_to_program(address, params.profile, params.network)
            .map_err(|e| NodeError::Config(format!("mining.address: {e}"))),
        ("", program) => match hex::decode(program) {
            Ok(p) if p.is_empty() => Err(NodeError::Config("mining.control_program is empty".into())),
            Ok(p) => Ok(p),
            Err(e) => Err(NodeError::Config(format!(
                "mining.control_program is not hex: {e}"
            ))),
        },
        _ => Err(NodeError::Config(
            "set mining.address or mining.control_program, not both".into(),
        )),
    }
}

fn network_name(n: Network) -> &'static str {
    match n {
        Network::Mainnet => "mainnet",
        Network::Testnet => "testnet",
        Network::Devnet => "devnet",
    }
}

/// Reads a hex file (trimmed), naming it in errors.
pub fn read_hex_file(path: &Path, what: &str) -> Result<Vec<u8>, NodeError> {
    let text = std::fs::read_to_string(path).map_err(|source| NodeError::Io {
        what: format!("reading the {what} file {}", path.display()),
        source,
    })?;
    hex::decode(text.trim())
        .map_err(|e| NodeError::Config(format!("the {what} file {} is not hex: {e}", path.display())))
}

/// A running node: the chain service and its block producer.
#[derive(Debug)]
pub struct Node {
    chain: Arc<ChainService>,
    shutdown: watch::Sender<bool>,
    producer: Option<JoinHandle<()>>,
    miner: Option<JoinHandle<()>>,
    /// The BBFT validator host and its network, when `bbft.enabled`.
    bbft: Option<bbft_host::node::Running>,
}

impl Node {
    /// Opens the store, loads genesis and keys from `config` and starts the producer. Must be called
    /// inside a tokio runtime.
    pub fn start(config: &NodeConfig) -> Result<Node, NodeError> {
        match config.chain.profile.as_str() {
            "side" | "" => {
                if config.bbft.enabled {
                    return bbft_host::node::start(config);
                }
            }
            "main" => {
                if config.bbft.enabled {
                    return Err(NodeError::Config(
                        "bbft.enabled is for sidechains; the main chain runs proof of work".into(),
                    ));
                }
                return Node::start_main(config);
            }
            other => {
                return Err(NodeError::Config(format!(
                    "chain.profile {other:?} is not known; use \"side\" or \"main\""
                )));
            }
        }
        let params = params_for(&config.chain.network)?;
        if !config.data_dir.is_dir() {
            return Err(NodeError::Config(format!(
                "the data directory {} does not exist",
                config.data_dir.display()
            )));
        }
        let genesis_bytes = read_hex_file(&config.in_data_dir(&config.chain.genesis_file), "genesis")?;
        let genesis = types::Block::decode(&genesis_bytes, Profile::Side, &params.limits).map_err(|e| {
            NodeError::Config(format!("the genesis file does not hold a sidechain block: {e}"))
        })?;
        let producer_key = if config.producer.enabled || config.producer.public_key.is_empty() {
            let seed = read_hex_file(&config.in_data_dir(&config.producer.key_file), "producer key")?;
            let seed = <[u8; 32]>::try_from(seed.as_slice())
                .map_err(|_| NodeError::Config("the producer key file must hold 32 bytes of hex".into()))?;
            Some(ProducerKey::from_seed(&seed))
        } else {
            None
        };
        let producer_public = if config.producer.public_key.is_empty() {
            producer_key
                .as_ref()
                .map(ProducerKey::public_key)
                .ok_or_else(|| NodeError::Config("no producer public key".into()))?
        } else {
            let bytes = hex::decode(config.producer.public_key.trim())
                .map_err(|e| NodeError::Config(format!("producer.public_key is not hex: {e}")))?;
            <[u8; 32]>::try_from(bytes.as_slice())
                .map_err(|_| NodeError::Config("producer.public_key must be 32 bytes".into()))?
        };
        let identity = ChainIdentity {
            profile: params.profile,
            network: params.network,
            genesis_hash: genesis.hash(),
        };
        let store = RedbStore::open(config.data_dir.join(STORE_FILE), identity)?;
        tracing::info!(
            network = network_name(params.network),
            genesis = %identity.genesis_hash,
            data_dir = %config.data_dir.display(),
            "opening the chain"
        );
        let chain = Arc::new(ChainService::open(
            store,
            ChainSetup {
                params,
                genesis,
                authority: Authority::Solo {
                    producer_public,
                    producer_key: if config.producer.enabled {
                        producer_key
                    } else {
                        None
                    },
                },
                mempool: config.mempool.clone(),
                max_block_bytes: config.producer.max_block_bytes,
                max_block_gas: config.producer.max_block_gas,
            },
        )?);
        let (shutdown, rx) = watch::channel(false);
        let producer = config
            .producer
            .enabled
            .then(|| tokio::spawn(producer::run(chain.clone(), config.producer.clone(), rx)));
        Ok(Node {
            chain,
            shutdown,
            producer,
            miner: None,
            bbft: None,
        })
    }

    /// The main chain: genesis decoded as a main-chain block, proof-of-work consensus, and the miner
    /// when `mining.enabled`.
    fn start_main(config: &NodeConfig) -> Result<Node, NodeError> {
        let (params, pow_params) = main_params_for(&config.chain.network)?;
        if !config.data_dir.is_dir() {
            return Err(NodeError::Config(format!(
                "the data directory {} does not exist",
                config.data_dir.display()
            )));
        }
        let genesis_bytes = read_hex_file(&config.in_data_dir(&config.chain.genesis_file), "genesis")?;
        let genesis = types::Block::decode(&genesis_bytes, Profile::Main, &params.limits).map_err(|e| {
            NodeError::Config(format!("the genesis file does not hold a main-chain block: {e}"))
        })?;
        let no_payout =
            config.mining.address.trim().is_empty() && config.mining.control_program.trim().is_empty();
        let coinbase_program = if !config.mining.enabled && no_payout && params.network == Network::Mainnet {
            // Not mining and nowhere to pay: `get-work` is refused (`ImportError::NoPayout`).
            Vec::new()
        } else {
            mining_program(&config.mining, &params)?
        };
        let identity = ChainIdentity {
            profile: params.profile,
            network: params.network,
            genesis_hash: genesis.hash(),
        };
        let store = RedbStore::open(config.data_dir.join(STORE_FILE), identity)?;
        tracing::info!(
            network = network_name(params.network),
            genesis = %identity.genesis_hash,
            data_dir = %config.data_dir.display(),
            "opening the main chain"
        );
        let chain = Arc::new(ChainService::open(
            store,
            ChainSetup {
                params,
                genesis,
                authority: Authority::ProofOfWork(PowAuthority {
                    params: pow_params,
                    pow: PowEngine::tensority(),
                    coinbase_program: coinbase_program.clone(),
                }),
                mempool: config.mempool.clone(),
                max_block_bytes: config.producer.max_block_bytes,
                max_block_gas: config.producer.max_block_gas,
            },
        )?);
        let (shutdown, rx) = watch::channel(false);
        let miner = config.mining.enabled.then(|| {
            let miner_config = pow::miner::MinerConfig {
                threads: config.mining.threads,
            };
            tokio::spawn(miner::run(chain.clone(), coinbase_program, miner_config, rx))
        });
        Ok(Node {
            chain,
            shutdown,
            producer: None,
            miner,
            bbft: None,
        })
    }

    /// The chain service.
    pub fn chain(&self) -> Arc<ChainService> {
        self.chain.clone()
    }

    /// Stops the producer (after the block it may be committing) and returns.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(b) = self.bbft.take() {
            b.stop().await;
        }
        if let Some(p) = self.producer.take()
            && let Err(e) = p.await
        {
            tracing::error!(error = %e, "the block producer task failed");
        }
        if let Some(m) = self.miner.take()
            && let Err(e) = m.await
        {
            tracing::error!(error = %e, "the miner task failed");
        }
        // Nothing commits any more: what the store holds in memory goes to its tables now, so
        // that the file is complete without a replay on the next open.
        if let Err(e) = self.chain.store().write_held() {
            tracing::error!(error = %e, "writing the store's held changes at shutdown failed; they are written on the next open");
        }
        tracing::info!("node stopped");
    }
}

//! `Node::start` for a BBFT chain (`[bbft] enabled = true`). A validator: the genesis set from the
//! configuration, the chain service under `Authority::Bbft`, the p2p network on `bbft.listen`
//! with the other validators at `bbft.peers` (serving followers' block requests too), and the
//! host. A follower (`validator = false`): the same chain service and the follower's polling of
//! the validators at `bbft.peers` (`follower.rs`); no BLS key, no listener.

use std::net::SocketAddr;
use std::sync::Arc;

use p2p::{NodeKey, PeerId};
use storage::{ChainIdentity, RedbStore};
use tokio::sync::watch;
use types::profile::Profile;

use super::follower::{FollowConfig, FollowerHandle};
use super::p2p_net::{P2pNetwork, PeerAddr, transport_config};
use super::validators::network_set;
use super::{BbftHandle, HostConfig};
use crate::chain::{Authority, ChainService, ChainSetup};
use crate::{Node, NodeConfig, NodeError, STORE_FILE, params_for, read_hex_file};

/// A running BBFT node: a validator's host and network, or a follower.
#[derive(Debug)]
pub enum Running {
    /// A validator.
    Validator {
        /// Its consensus host.
        host: BbftHandle,
        /// Its network.
        net: Arc<P2pNetwork>,
    },
    /// A follower.
    Follower(FollowerHandle),
}

impl Running {
    /// Stops the host, then closes the network (a follower: stops polling).
    pub async fn stop(self) {
        match self {
            Running::Validator { host, net } => {
                if let Err(e) = host.stop().await {
                    tracing::error!(error = %e, "the BBFT host ended with an error");
                }
                net.stop();
            }
            Running::Follower(f) => f.stop().await,
        }
    }
}

fn seed(path: &std::path::Path, what: &str) -> Result<[u8; 32], NodeError> {
    let bytes = read_hex_file(path, what)?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| NodeError::Config(format!("the {what} file must hold 32 bytes of hex")))
}

fn addr(s: &str, what: &str) -> Result<SocketAddr, NodeError> {
    s.parse()
        .map_err(|e| NodeError::Config(format!("{what} {s:?} is not host:port: {e}")))
}

/// The parts a BBFT node's store splits its held output and transaction-index writes into (each
/// commit writes one part of every held block; `TRIBUTARY_STORE_PARTS` overrides it).
pub const STORE_PARTS: usize = 8;

/// The chain service of a BBFT node (validator or follower) from the configuration.
fn open_chain(
    config: &NodeConfig,
    params: ledger::ChainParams,
    genesis: types::Block,
    setup: crate::elections::BbftSetup,
) -> Result<Arc<ChainService>, NodeError> {
    let identity = ChainIdentity {
        profile: params.profile,
        network: params.network,
        genesis_hash: genesis.hash(),
    };
    // Final blocks are never unwound: their output and index writes can be held and written a
    // slice at a time (`storage::RedbStore::with_deferred_state`).
    let deferred =
        match std::env::var("TRIBUTARY_STORE_PARTS") {
            Ok(v) => v.parse::<usize>().ok().filter(|n| *n <= 256).ok_or_else(|| {
                NodeError::Config(format!("TRIBUTARY_STORE_PARTS={v:?}: expected 0 to 256"))
            })?,
            Err(_) => STORE_PARTS,
        };
    let store = RedbStore::open(config.data_dir.join(STORE_FILE), identity)?.with_deferred_state(deferred);
    Ok(Arc::new(ChainService::open(
        store,
        ChainSetup {
            params,
            genesis,
            authority: Authority::Bbft {
                setup: Arc::new(setup),
            },
            mempool: config.mempool.clone(),
            max_block_bytes: config.producer.max_block_bytes,
            max_block_gas: config.producer.max_block_gas,
        },
    )?))
}

/// Starts a BBFT follower. Must be called inside a tokio runtime.
fn start_follower(
    config: &NodeConfig,
    params: ledger::ChainParams,
    genesis: types::Block,
) -> Result<Node, NodeError> {
    let b = &config.bbft;
    let set = network_set(&b.validators, &b.candidates)?;
    let setup = set.setup(b.dpos.to_config(&params)?);
    let mut peers = Vec::with_capacity(b.peers.len());
    for p in &b.peers {
        let i = usize::try_from(p.node_id).unwrap_or(usize::MAX);
        let key = set.node_keys.get(i).ok_or_else(|| {
            NodeError::Config(format!(
                "bbft.peers: node_id {} is neither a validator nor a candidate",
                p.node_id
            ))
        })?;
        peers.push(PeerAddr {
            node: p.node_id,
            addr: addr(&p.addr, "bbft.peers addr")?,
            peer_id: PeerId(*key),
        });
    }
    let key_path = config.in_data_dir(&b.node_key_file);
    let node_key = if key_path.exists() {
        NodeKey::from_seed(&seed(&key_path, "node key")?)
    } else {
        NodeKey::generate(&mut rand_core::OsRng)
    };
    if set.node_keys.contains(&node_key.peer_id().0) {
        return Err(NodeError::Config(
            "a follower's node key must not be a validator's or a candidate's (validators would take it for one)"
                .into(),
        ));
    }
    let genesis_hash = genesis.hash();
    let max_block = params.limits.max_block_bytes;
    let chain = open_chain(config, params, genesis, setup)?;
    let follower = super::follower::start(
        Arc::clone(&chain),
        node_key,
        peers,
        transport_config(genesis_hash, max_block),
        FollowConfig {
            poll_interval: std::time::Duration::from_millis(b.poll_interval_ms.max(10)),
            ..FollowConfig::default()
        },
    )?;
    tracing::info!(
        validators = b.peers.len(),
        tip = chain.tip().height,
        "BBFT follower started"
    );
    let (shutdown, _) = watch::channel(false);
    Ok(Node {
        chain,
        shutdown,
        producer: None,
        miner: None,
        bbft: Some(Running::Follower(follower)),
    })
}

/// The chain rules and genesis block of a BBFT node's configuration.
fn chain_of(config: &NodeConfig) -> Result<(ledger::ChainParams, types::Block), NodeError> {
    let params = params_for(&config.chain.network)?;
    if !config.data_dir.is_dir() {
        return Err(NodeError::Config(format!(
            "the data directory {} does not exist",
            config.data_dir.display()
        )));
    }
    let genesis_bytes = read_hex_file(&config.in_data_dir(&config.chain.genesis_file), "genesis")?;
    let genesis = types::Block::decode(&genesis_bytes, Profile::Side, &params.limits)
        .map_err(|e| NodeError::Config(format!("the genesis file does not hold a sidechain block: {e}")))?;
    Ok((params, genesis))
}

/// The chain service of a stopped BBFT node's store, with its elections replayed and every
/// certificate checked, and no network or host: what an offline tool needs, e.g.
/// `tributary snapshot export`, whose snapshot must carry the election state
/// ([`ChainService::snapshot_view`]).
pub fn open_chain_offline(config: &NodeConfig) -> Result<Arc<ChainService>, NodeError> {
    let b = &config.bbft;
    let (params, genesis) = chain_of(config)?;
    let set = network_set(&b.validators, &b.candidates)?;
    let dpos = b.dpos.to_config(&params)?;
    open_chain(config, params, genesis, set.setup(dpos))
}

/// Starts a BBFT validator or follower node. Must be called inside a tokio runtime.
pub(crate) fn start(config: &NodeConfig) -> Result<Node, NodeError> {
    let b = &config.bbft;
    let (params, genesis) = chain_of(config)?;
    if !b.validator {
        return start_follower(config, params, genesis);
    }
    let set = network_set(&b.validators, &b.candidates)?;
    let setup = set.setup(b.dpos.to_config(&params)?);
    let me = usize::try_from(b.node_id).map_err(|_| NodeError::Config("bbft.node_id".into()))?;
    let my_node_key = *set.node_keys.get(me).ok_or_else(|| {
        NodeError::Config(format!(
            "bbft.node_id {} is not an index of bbft.validators and bbft.candidates ({} listed)",
            b.node_id,
            set.node_keys.len()
        ))
    })?;
    let bls = crypto::bls::SecretKey::from_bytes(&seed(&config.in_data_dir(&b.bls_key_file), "BLS key")?)
        .map_err(|_| NodeError::Config("the BLS key file does not hold a valid BLS secret key".into()))?;
    let node_key = NodeKey::from_seed(&seed(&config.in_data_dir(&b.node_key_file), "node key")?);
    if node_key.peer_id().0 != my_node_key {
        return Err(NodeError::Config(format!(
            "the node key file does not match node {me}'s node_key (bbft.validators, then bbft.candidates)"
        )));
    }
    let mut peers = Vec::with_capacity(b.peers.len());
    for p in &b.peers {
        let i = usize::try_from(p.node_id).unwrap_or(usize::MAX);
        let key = set.node_keys.get(i).filter(|_| i != me).ok_or_else(|| {
            NodeError::Config(format!(
                "bbft.peers: node_id {} is not another validator or candidate",
                p.node_id
            ))
        })?;
        peers.push(PeerAddr {
            node: p.node_id,
            addr: addr(&p.addr, "bbft.peers addr")?,
            peer_id: PeerId(*key),
        });
    }
    let listen = addr(&b.listen, "bbft.listen")?;
    let genesis_hash = genesis.hash();
    let max_block = params.limits.max_block_bytes;
    let chain = open_chain(config, params, genesis, setup)?;
    let std_listener = std::net::TcpListener::bind(listen).map_err(|source| NodeError::Io {
        what: format!("listening on {listen}"),
        source,
    })?;
    std_listener
        .set_nonblocking(true)
        .map_err(|source| NodeError::Io {
            what: "configuring the listener".into(),
            source,
        })?;
    let listener = tokio::net::TcpListener::from_std(std_listener).map_err(|source| NodeError::Io {
        what: "registering the listener".into(),
        source,
    })?;
    let (net, inbox) = P2pNetwork::start(
        b.node_id,
        node_key,
        listener,
        peers,
        transport_config(genesis_hash, max_block),
        Some(Arc::clone(&chain)),
    )
    .map_err(|source| NodeError::Io {
        what: "starting the validator network".into(),
        source,
    })?;
    tracing::info!(node_id = b.node_id, listen = %net.local_addr(), "BBFT validator network up");
    // The peers gauge follows the network until it is dropped.
    {
        let weak = Arc::downgrade(&net);
        let metrics = Arc::clone(chain.metrics());
        tokio::spawn(async move {
            while let Some(net) = weak.upgrade() {
                metrics.set_peers(u64::try_from(net.connected_peers()).unwrap_or(u64::MAX));
                drop(net);
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
    }
    let host = super::start(
        Arc::clone(&chain),
        HostConfig {
            block_interval_ms: b.block_interval_ms,
            round_timeout_ms: b.round_timeout_ms,
            ..HostConfig::new(b.node_id, bls, config.in_data_dir(&b.state_file))
        },
        Arc::clone(&net) as Arc<dyn super::ConsensusNetwork>,
        inbox,
    )?;
    let (shutdown, _) = watch::channel(false);
    Ok(Node {
        chain,
        shutdown,
        producer: None,
        miner: None,
        bbft: Some(Running::Validator { host, net }),
    })
}

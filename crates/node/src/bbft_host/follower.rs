//! A follower: a node of a BBFT chain that is not a validator. It holds no BLS key and takes no
//! part in consensus; it dials the validators (p2p transport, Noise, each validator's node key
//! checked against the configured set), **polls** each of them for committed blocks above its tip
//! (`GetBlocks`, answered on the same connection, see `p2p_net.rs`), and commits what they send
//! through [`ChainService::import_certified`], which checks every block's finality certificate
//! against the genesis validator set (quorum of BLS signatures, two-chain onto the blocks at hand)
//! and validates it with the ledger before committing. A validator that sends a block whose
//! certificate does not check is dropped (connection closed, redialled after a back-off); the
//! others keep the follower going, so one faulty or withholding validator cannot stall or fool it.
//!
//! Every validator is asked every `poll_interval`; a full reply
//! ([`MAX_BLOCKS_PER_REPLY`](super::net::MAX_BLOCKS_PER_REPLY) blocks) is followed at once by the
//! next request, so a follower far behind catches up at the speed of the link. Imports are
//! serialized (one at a time across peers); blocks already committed are skipped after a hash check.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use p2p::transport::{self, TransportConfig};
use p2p::{Message, NodeKey};
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::net::MAX_BLOCKS_PER_REPLY;
use super::p2p_net::PeerAddr;
use crate::chain::ChainService;

/// How a follower polls.
#[derive(Debug, Clone, Copy)]
pub struct FollowConfig {
    /// Time between two requests to one validator while at the tip.
    pub poll_interval: Duration,
    /// Longest wait for a reply before the connection is dropped and redialled.
    pub reply_timeout: Duration,
}

impl Default for FollowConfig {
    fn default() -> Self {
        FollowConfig {
            poll_interval: Duration::from_millis(250),
            reply_timeout: Duration::from_secs(10),
        }
    }
}

/// A running follower.
#[derive(Debug)]
pub struct FollowerHandle {
    shutdown: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl FollowerHandle {
    /// Stops polling and closes the connections.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Starts following `chain` (which must run under `Authority::Bbft`) from the validators `peers`,
/// connecting with `key`. Must be called inside a tokio runtime.
pub fn start(
    chain: Arc<ChainService>,
    key: NodeKey,
    peers: Vec<PeerAddr>,
    transport: TransportConfig,
    cfg: FollowConfig,
) -> Result<FollowerHandle, crate::NodeError> {
    if chain.bbft().is_none() {
        return Err(crate::NodeError::Config("the chain is not run by BBFT".into()));
    }
    if peers.is_empty() {
        return Err(crate::NodeError::Config(
            "a follower needs at least one validator address (bbft.peers)".into(),
        ));
    }
    let (shutdown, shutdown_rx) = watch::channel(false);
    let key = Arc::new(key);
    let shared = Arc::new(Shared {
        importing: Mutex::new(()),
        connected: AtomicU64::new(0),
    });
    let mut tasks = JoinSet::new();
    for p in peers {
        tasks.spawn(poll_peer(
            Arc::clone(&chain),
            Arc::clone(&key),
            p,
            transport,
            cfg,
            Arc::clone(&shared),
            shutdown_rx.clone(),
        ));
    }
    Ok(FollowerHandle { shutdown, tasks })
}

/// What the polling tasks share.
struct Shared {
    /// Held while importing (one import at a time).
    importing: Mutex<()>,
    /// Validators connected now (the `peers` metric).
    connected: AtomicU64,
}

/// Counts one connected validator while alive.
struct Connected<'a>(&'a Shared, &'a ChainService);

impl<'a> Connected<'a> {
    fn new(shared: &'a Shared, chain: &'a ChainService) -> Connected<'a> {
        let n = shared.connected.fetch_add(1, Ordering::Relaxed).saturating_add(1);
        chain.metrics().set_peers(n);
        Connected(shared, chain)
    }
}

impl Drop for Connected<'_> {
    fn drop(&mut self) {
        let n = self.0.connected.fetch_sub(1, Ordering::Relaxed).saturating_sub(1);
        self.1.metrics().set_peers(n);
    }
}

/// Why a connection to a validator was given up.
enum Dropped {
    /// The link failed or timed out.
    Link(String),
    /// The validator sent something a follower does not accept.
    Refused(String),
}

async fn poll_peer(
    chain: Arc<ChainService>,
    key: Arc<NodeKey>,
    peer: PeerAddr,
    transport: TransportConfig,
    cfg: FollowConfig,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        if *shutdown.borrow() {
            return;
        }
        let dialled = tokio::select! {
            _ = shutdown.changed() => return,
            c = transport::dial(peer.addr, &key, &transport, Some(peer.peer_id)) => c,
        };
        let mut conn = match dialled {
            Ok(c) => {
                tracing::info!(validator = peer.node, addr = %peer.addr, "follower connected");
                backoff = Duration::from_millis(100);
                c
            }
            Err(e) => {
                tracing::debug!(validator = peer.node, error = %e, "follower dial failed");
                tokio::select! {
                    _ = shutdown.changed() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        let counted = Connected::new(&shared, &chain);
        let why = loop {
            let from = chain.tip().height.saturating_add(1);
            let ask = Message::GetBlocks {
                from_height: from,
                count: MAX_BLOCKS_PER_REPLY,
            };
            if let Err(e) = conn.send(&ask).await {
                break Dropped::Link(e.to_string());
            }
            let reply = tokio::select! {
                _ = shutdown.changed() => return,
                r = tokio::time::timeout(cfg.reply_timeout, conn.recv()) => r,
            };
            let blocks = match reply {
                Err(_) => break Dropped::Link("no reply in time".into()),
                Ok(Err(e)) => break Dropped::Link(e.to_string()),
                Ok(Ok(Message::Blocks(b))) => b,
                Ok(Ok(_)) => break Dropped::Refused("a reply other than blocks".into()),
            };
            let full = blocks.len() >= usize::try_from(MAX_BLOCKS_PER_REPLY).unwrap_or(usize::MAX);
            if !blocks.is_empty() {
                let result = {
                    let _one = shared
                        .importing
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    chain.import_certified(&blocks)
                };
                match result {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(
                        validator = peer.node,
                        blocks = n,
                        tip = chain.tip().height,
                        "followed"
                    ),
                    // Fetched while another validator's reply was being imported: the blocks no
                    // longer extend the tip. Ask again.
                    Err(crate::chain::ImportError::NotOnTip { .. }) if chain.tip().height >= from => continue,
                    Err(e) => break Dropped::Refused(e.to_string()),
                }
            }
            if !full {
                tokio::select! {
                    _ = shutdown.changed() => return,
                    _ = tokio::time::sleep(cfg.poll_interval) => {}
                }
            }
        };
        drop(counted);
        match why {
            Dropped::Link(e) => {
                tracing::debug!(validator = peer.node, error = %e, "follower connection lost")
            }
            Dropped::Refused(e) => {
                tracing::warn!(validator = peer.node, error = %e, "blocks from a validator refused; reconnecting later");
                backoff = Duration::from_secs(2);
            }
        }
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(backoff) => {}
        }
    }
}

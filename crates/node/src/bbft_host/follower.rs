//! A follower: a node of a BBFT chain that is not a validator. It holds no BLS key and takes no
//! part in consensus; it dials the validators (p2p transport, Noise, each validator's node key
//! checked against the configured set), **polls** each of them for committed blocks above its tip
//! (`GetBlocks`, answered on the same connection, see `p2p_net.rs`), and commits what they send
//! through [`ChainService::import_certified`], which checks every block's finality certificate
//! against the genesis validator set (quorum of BLS signatures, two-chain onto the blocks at hand)
//! and validates the blocks with the ledger as windows before committing them. A validator that
//! sends a block whose certificate does not check is dropped (connection closed, redialled after
//! a back-off); the others keep the follower going, so one faulty or withholding validator cannot
//! stall or fool it.
//!
//! **Catch-up is pipelined.** When a reply brings blocks the follower needs, the request for the
//! range after it goes out *before* the reply is imported (on a blocking thread), so the next
//! reply travels while this one is validated. Blocks whose proof lies beyond the reply (the
//! two-chain of a batch ends in the next range) are kept and imported with the next reply rather
//! than fetched again. At the tip (a reply with nothing new) the validator is asked again after
//! `poll_interval`. Imports are serialized (one at a time across validators); blocks another
//! validator's reply already committed are skipped, so replies overlap little.
//!
//! **How far behind.** Replies carry no tip, so a follower that gets a full reply
//! ([`MAX_BLOCKS_PER_REPLY`] blocks) finds the validator's tip by probing: one-block requests at
//! growing distances, then bisection to within a reply (a few round trips, each answered with at
//! most one block). The result is the sync target (`tributary_sync_target_height`, the
//! `syncing … eta_s` log line); it is probed again when the tip passes it while replies are
//! still full.
//!
//! **Transactions submitted here are relayed.** A follower admits its own clients' transactions
//! into its pool (and journal) like any node, then relays them to every validator it is
//! connected to, as `Transactions` messages on the same connection ([`relay`]): first everything
//! its pool holds when a connection opens (what was submitted while no validator was reachable,
//! or before a restart), then each newly admitted one, in batches of at most
//! [`FORWARD_BATCH_BYTES`]. Validators admit them without forwarding them again (the follower
//! reached each of them itself), so one unreachable validator costs nothing but that validator's
//! copy; whichever reachable validator leads includes them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use p2p::transport::{self, RecvHalf, SendHalf, TransportConfig};
use p2p::{Message, NodeKey};
use tokio::sync::{Mutex as AsyncMutex, broadcast, watch};
use tokio::task::JoinSet;

use super::FORWARD_BATCH_BYTES;
use super::net::{MAX_BLOCKS_PER_REPLY, MAX_TXS_PER_ENVELOPE};
use super::p2p_net::PeerAddr;
use crate::chain::{ChainService, ImportError, Origin};
use types::{Block, Transaction};

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

/// Most fetched blocks held while their proofs wait for a later reply.
const MAX_CARRY: usize = 4 * MAX_BLOCKS_PER_REPLY as usize;

/// Most requests a probe for a validator's tip makes.
const MAX_PROBES: usize = 64;

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
        let conn = match dialled {
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
        let (send, recv) = conn.split();
        let mut link = Link {
            send: Arc::new(AsyncMutex::new(send)),
            recv,
        };
        let relaying = Relaying(tokio::spawn(relay(
            Arc::clone(&chain),
            Arc::clone(&link.send),
            peer.node,
        )));
        let why = match follow(&chain, &mut link, &shared, cfg, peer.node, &mut shutdown).await {
            Ok(()) => return,
            Err(why) => why,
        };
        drop(relaying);
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

fn height(b: &Block) -> u64 {
    b.header().height
}

/// A connection to one validator: block requests and relayed transactions share the sending half;
/// only replies come back.
struct Link {
    send: Arc<AsyncMutex<SendHalf>>,
    recv: RecvHalf,
}

/// The relay task of one connection, stopped when the connection is given up.
struct Relaying(tokio::task::JoinHandle<()>);

impl Drop for Relaying {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Relays this node's pool to one validator until the connection fails: what the pool holds now,
/// then what local callers submit (and all of the pool again if this task fell behind the
/// admissions and missed some).
async fn relay(chain: Arc<ChainService>, send: Arc<AsyncMutex<SendHalf>>, node: u32) {
    let mut admitted = chain.subscribe_admitted();
    let mut pending: Vec<Arc<Transaction>> = chain.with_pool(|p| p.contents());
    loop {
        for batch in relay_batches(&pending, FORWARD_BATCH_BYTES, MAX_TXS_PER_ENVELOPE as usize) {
            if let Err(e) = send.lock().await.send_bytes(&batch).await {
                tracing::debug!(validator = node, error = %e, "relaying transactions failed");
                return;
            }
        }
        pending.clear();
        let mut next = admitted.recv().await;
        loop {
            match next {
                Ok(a) => {
                    if a.origin == Origin::Local {
                        pending.push(a.tx);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    pending = chain.with_pool(|p| p.contents());
                }
                Err(broadcast::error::RecvError::Closed) => return,
            }
            next = match admitted.try_recv() {
                Ok(a) => Ok(a),
                Err(broadcast::error::TryRecvError::Lagged(n)) => Err(broadcast::error::RecvError::Lagged(n)),
                Err(_) => break,
            };
        }
    }
}

/// `txs`, in order, as encoded `Transactions` messages of at most `max_bytes` of transactions (or
/// one transaction) and `max_txs` transactions each.
fn relay_batches(txs: &[Arc<Transaction>], max_bytes: usize, max_txs: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut batch: Vec<Vec<u8>> = Vec::new();
    let mut bytes = 0usize;
    for tx in txs {
        let raw = tx.encode();
        if !batch.is_empty() && (bytes.saturating_add(raw.len()) > max_bytes || batch.len() >= max_txs) {
            out.push(p2p::message::encode_raw_transactions(&batch));
            batch.clear();
            bytes = 0;
        }
        bytes = bytes.saturating_add(raw.len());
        batch.push(raw);
    }
    if !batch.is_empty() {
        out.push(p2p::message::encode_raw_transactions(&batch));
    }
    out
}

/// Asks for `count` blocks from `from` on.
async fn ask(link: &mut Link, from: u64, count: u32) -> Result<(), Dropped> {
    link.send
        .lock()
        .await
        .send(&Message::GetBlocks {
            from_height: from,
            count,
        })
        .await
        .map_err(|e| Dropped::Link(e.to_string()))
}

/// The reply to the request in flight.
async fn reply(link: &mut Link, timeout: Duration) -> Result<Vec<Block>, Dropped> {
    match tokio::time::timeout(timeout, link.recv.recv()).await {
        Err(_) => Err(Dropped::Link("no reply in time".into())),
        Ok(Err(e)) => Err(Dropped::Link(e.to_string())),
        Ok(Ok(Message::Blocks(b))) => Ok(b),
        Ok(Ok(_)) => Err(Dropped::Refused("a reply other than blocks".into())),
    }
}

/// The validator's tip, to within one reply, knowing it holds `known`: one-block requests at
/// doubling distances until one is past its tip, then bisection. No request may be in flight.
async fn probe_tip(conn: &mut Link, known: u64, timeout: Duration) -> Result<u64, Dropped> {
    let span = u64::from(MAX_BLOCKS_PER_REPLY);
    let (mut lo, mut hi) = (known, None);
    let mut step = span.saturating_mul(4);
    let mut probes = 0;
    while probes < MAX_PROBES {
        let h = match hi {
            None => lo.saturating_add(step),
            Some(hi) if hi - lo > span => lo + (hi - lo) / 2,
            Some(_) => break,
        };
        probes += 1;
        ask(conn, h, 1).await?;
        if reply(conn, timeout).await?.is_empty() {
            hi = Some(h);
        } else {
            lo = h;
            step = step.saturating_mul(2);
        }
    }
    Ok(lo)
}

/// Follows one connected validator until the connection is given up (`Ok`: shutdown).
async fn follow(
    chain: &Arc<ChainService>,
    conn: &mut Link,
    shared: &Arc<Shared>,
    cfg: FollowConfig,
    node: u32,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), Dropped> {
    let metrics = chain.metrics();
    // Fetched blocks above the tip, consecutive from `tip + 1`, whose proof was not at hand yet.
    let mut carry: Vec<Block> = Vec::new();
    // The validator's tip as far as known (0: not probed yet).
    let mut target = 0u64;
    ask(conn, chain.tip().height.saturating_add(1), MAX_BLOCKS_PER_REPLY).await?;
    loop {
        let blocks = tokio::select! {
            _ = shutdown.changed() => return Ok(()),
            r = reply(conn, cfg.reply_timeout) => r?,
        };
        let tip = chain.tip().height;
        carry.retain(|b| height(b) > tip);
        if carry.first().is_some_and(|b| height(b) != tip.saturating_add(1)) {
            carry.clear();
        }
        let expected = tip
            .saturating_add(1)
            .saturating_add(u64::try_from(carry.len()).unwrap_or(u64::MAX));
        let full = blocks.len() >= usize::try_from(MAX_BLOCKS_PER_REPLY).unwrap_or(usize::MAX);
        let top = blocks.last().map(height);
        if let Some(top) = top {
            metrics.note_sync_target(top);
        }
        // Blocks at or below the tip are checked against the stored ones on import; those held
        // already are dropped; the rest must follow on.
        let (mut batch, rest): (Vec<Block>, Vec<Block>) = blocks.into_iter().partition(|b| height(b) <= tip);
        let new: Vec<Block> = rest.into_iter().filter(|b| height(b) >= expected).collect();
        if new.first().is_some_and(|b| height(b) != expected) {
            // A reply to a request made before the held blocks were dropped: ask from where we are.
            ask(conn, expected, MAX_BLOCKS_PER_REPLY).await?;
            continue;
        }
        if new.is_empty() {
            // Nothing new: this validator is at (or behind) our tip.
            tokio::select! {
                _ = shutdown.changed() => return Ok(()),
                _ = tokio::time::sleep(cfg.poll_interval) => {}
            }
            ask(
                conn,
                chain.tip().height.saturating_add(1).max(expected),
                MAX_BLOCKS_PER_REPLY,
            )
            .await?;
            continue;
        }
        carry.extend(new);
        let last = carry.last().map_or(tip, height);
        if full && last >= target {
            target = probe_tip(conn, last, cfg.reply_timeout).await?;
            metrics.note_sync_target(target);
        }
        // Pipelining: the next range is on its way while this one is imported.
        ask(conn, last.saturating_add(1), MAX_BLOCKS_PER_REPLY).await?;
        batch.append(&mut carry);
        let (chain2, shared2) = (Arc::clone(chain), Arc::clone(shared));
        let imported = tokio::task::spawn_blocking(move || {
            let _one = shared2
                .importing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let before = chain2.tip().height;
            let r = chain2.import_certified(&batch);
            (batch, before, r)
        })
        .await;
        let (batch, before, result) = imported.map_err(|e| Dropped::Link(format!("import task: {e}")))?;
        let now = chain.tip().height;
        match result {
            Ok(n) => {
                if n > 0 {
                    tracing::debug!(validator = node, blocks = n, tip = now, "followed");
                }
                carry = batch.into_iter().filter(|b| height(b) > now).collect();
                if carry.len() > MAX_CARRY {
                    carry.clear();
                }
            }
            // Another validator's reply was imported first and the tip moved: go on from it.
            Err(ImportError::NotOnTip { .. }) if before > tip || now > tip => carry.clear(),
            Err(e) => return Err(Dropped::Refused(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::devnet::{coins_of, sign_transfer};
    use crate::genesis::{devnet_genesis, p2wpkh_program_of};
    use crypto::chainkd::XPrv;
    use ledger::ChainParams;
    use p2p::CodecConfig;

    /// Relayed batches keep the order, hold every transaction once and respect both bounds.
    #[test]
    fn relay_batches_keep_order_and_bounds() {
        let params = ChainParams::side_devnet();
        let xprv = XPrv::root(b"relay batches");
        let program = p2wpkh_program_of(&xprv.xpub());
        let genesis = devnet_genesis(&params, &program, 7, 1_000_000_000, 0).unwrap();
        let txs: Vec<Arc<Transaction>> = coins_of(&genesis.transactions()[1], &program)
            .into_iter()
            .map(|c| {
                Arc::new(
                    sign_transfer(
                        &xprv,
                        std::slice::from_ref(&c),
                        &[(program.clone(), c.amount - 1)],
                    )
                    .unwrap(),
                )
            })
            .collect();
        assert_eq!(txs.len(), 7);
        let one = txs[0].encode().len();
        let codec = CodecConfig::new(params.profile);
        for (max_bytes, max_txs, messages) in [
            (usize::MAX, 3, 3),
            (2 * one, 100, 4),
            (1, 100, 7),
            (usize::MAX, 100, 1),
        ] {
            let batches = relay_batches(&txs, max_bytes, max_txs);
            assert_eq!(batches.len(), messages, "bytes {max_bytes}, txs {max_txs}");
            let mut seen = Vec::new();
            for b in &batches {
                let Message::Transactions(got) = Message::decode(b, &codec).unwrap() else {
                    panic!("not a transactions message")
                };
                assert!(got.len() <= max_txs);
                assert!(got.len() == 1 || got.iter().map(|t| t.encode().len()).sum::<usize>() <= max_bytes);
                seen.extend(got.iter().map(Transaction::id));
            }
            assert_eq!(seen, txs.iter().map(|t| t.id()).collect::<Vec<_>>());
        }
        assert!(relay_batches(&[], 10, 10).is_empty());
    }
}

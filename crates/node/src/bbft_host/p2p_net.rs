//! The validators' network over `crates/p2p`: TCP with the Noise XX handshake bound to each node's
//! ed25519 key (`docs/p2p.md`), only the configured validators admitted.
//!
//! Each node dials every peer and keeps that outbound connection for **sending** (redialled with
//! a back-off when it drops; what is queued meanwhile is sent on reconnection, up to a bounded
//! queue, beyond which messages are dropped like on any lossy link); connections peers dial in are
//! for **receiving**. A peer is known by the node key the handshake authenticated: a dialled peer
//! must present the configured key (else the handshake fails), and an inbound connection from a
//! key not in the validator set is closed, or served as a follower's (below). Envelopes map onto p2p messages: the
//! consensus plane — a consensus message, a compact proposal and its requests and answers
//! ([`Wire::is_consensus`]) — travels as the envelope's own bytes (tag first) in `Consensus`; a
//! forwarded transaction or batch → `Transactions`, `GetBlocks` → `GetBlocks`, `Blocks` → `Blocks`.
//! A message that fails to decode, a `Consensus` message that is not a consensus-plane envelope,
//! or a kind validators do not exchange, closes the connection (the transport's stream is out of
//! step after a receive error).
//!
//! **Followers.** When the network is given the chain to serve from, an inbound connection from a
//! key outside the validator set is a follower (a non-validator node, `bbft/follower.rs`): it may
//! ask for committed blocks (`GetBlocks`), answered on the same connection with `Blocks` (at
//! most [`MAX_BLOCKS_PER_REPLY`](super::net::MAX_BLOCKS_PER_REPLY) stored blocks with their
//! certificates; an empty reply at the tip), and relay its clients' transactions
//! (`Transactions`, admitted to the pool without a reply and not forwarded again). Any other
//! message (consensus) is a protocol violation: the follower is reported in the same
//! [`PeerBook`] (and banned), and the connection closed; so is a transaction invalid on its own,
//! more mildly. Followers are rate-limited by the same book as validators, and at most
//! [`MAX_FOLLOWERS`] are connected at once. Nothing a follower sends reaches the consensus host.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use consensus::bbft::NodeId;
use p2p::peer::{PeerBook, PeerBookConfig, Verdict};
use p2p::transport::{self, Connection, TransportConfig};
use p2p::{Message, Misbehaviour, NodeKey, PeerId};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use types::profile::Profile;
use types::{Block, Hash, Transaction};

use super::net::{ConsensusNetwork, Inbound, Incoming, Wire};
use crate::chain::ChainService;

/// Messages queued per peer while its connection is down or slow.
const QUEUE: usize = 4096;

/// Forwarded transaction batches queued per peer (up to a MiB each); beyond, they are dropped (the
/// sender's pool keeps them and includes them when it leads).
const BULK_QUEUE: usize = 64;

/// A peer's two send queues: consensus and catch-up traffic goes out before any queued
/// transaction batch, so a flood of transactions never delays a round.
#[derive(Debug, Clone)]
struct Outbox {
    urgent: mpsc::Sender<Vec<u8>>,
    bulk: mpsc::Sender<Vec<u8>>,
}

/// Most follower (non-validator) connections served at once.
pub const MAX_FOLLOWERS: usize = 64;

/// One other validator: its node id, where it listens and its node key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr {
    /// Node id (validator index).
    pub node: NodeId,
    /// Its listening address.
    pub addr: SocketAddr,
    /// Its node key (peer id).
    pub peer_id: PeerId,
}

/// The p2p network of one validator.
pub struct P2pNetwork {
    me: NodeId,
    /// Validators this node's outbound connections currently reach.
    connected: Arc<std::sync::atomic::AtomicUsize>,
    outboxes: HashMap<NodeId, Outbox>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    local_addr: SocketAddr,
}

impl std::fmt::Debug for P2pNetwork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("P2pNetwork")
            .field("me", &self.me)
            .field("local_addr", &self.local_addr)
            .field("peers", &self.outboxes.len())
            .finish()
    }
}

/// The transport settings validators use: the chain is named by its genesis hash, and consensus
/// messages may carry a whole block (a proposal).
pub fn transport_config(genesis_hash: Hash, max_block_bytes: usize) -> TransportConfig {
    let mut cfg = TransportConfig::new(genesis_hash, Profile::Side);
    cfg.codec.max_consensus_bytes = max_block_bytes.saturating_add(1 << 16);
    cfg
}

impl P2pNetwork {
    /// Starts listening on `listener` and dialling `peers`. Returns the network to send through and
    /// the inbox of what peers send. With `serve`, followers (keys outside the validator set) are
    /// answered block requests from that chain; without, they are refused. Must be called inside a
    /// tokio runtime.
    pub fn start(
        me: NodeId,
        key: NodeKey,
        listener: TcpListener,
        peers: Vec<PeerAddr>,
        cfg: TransportConfig,
        serve: Option<Arc<ChainService>>,
    ) -> std::io::Result<(Arc<P2pNetwork>, mpsc::UnboundedReceiver<Incoming>)> {
        let local_addr = listener.local_addr()?;
        let (inbox_tx, inbox) = mpsc::unbounded_channel();
        let mut tasks = Vec::new();
        let mut outboxes = HashMap::new();
        let known: Arc<HashMap<PeerId, NodeId>> =
            Arc::new(peers.iter().map(|p| (p.peer_id, p.node)).collect());
        let key = Arc::new(key);
        let connected = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for p in &peers {
            let (urgent, urgent_rx) = mpsc::channel(QUEUE);
            let (bulk, bulk_rx) = mpsc::channel(BULK_QUEUE);
            outboxes.insert(p.node, Outbox { urgent, bulk });
            tasks.push(tokio::spawn(sender(
                me,
                *p,
                Arc::clone(&key),
                cfg,
                (urgent_rx, bulk_rx),
                Arc::clone(&connected),
            )));
        }
        let book = Arc::new(Mutex::new(PeerBook::new(PeerBookConfig::default())));
        tasks.push(tokio::spawn(acceptor(
            me,
            listener,
            key,
            cfg,
            known,
            inbox_tx,
            book,
            serve.map(|chain| Followers {
                chain,
                connected: Arc::new(std::sync::atomic::AtomicUsize::new(0)),
            }),
        )));
        Ok((
            Arc::new(P2pNetwork {
                me,
                connected,
                outboxes,
                tasks: Mutex::new(tasks),
                local_addr,
            }),
            inbox,
        ))
    }

    /// How many validators this node's outbound connections reach now.
    pub fn connected_peers(&self) -> usize {
        self.connected.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Closes every connection and stops listening.
    pub fn stop(&self) {
        let tasks = std::mem::take(
            &mut *self
                .tasks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        for t in tasks {
            t.abort();
        }
    }
}

impl Drop for P2pNetwork {
    fn drop(&mut self) {
        self.stop();
    }
}

impl ConsensusNetwork for P2pNetwork {
    fn send(&self, to: NodeId, bytes: Vec<u8>) {
        if let Some(q) = self.outboxes.get(&to) {
            let queue = if Wire::is_bulk(&bytes) { &q.bulk } else { &q.urgent };
            // A full queue is a peer that is down or far behind: drop, as a lossy link would.
            let _ = queue.try_send(bytes);
        }
    }
}

/// The p2p message of an envelope (`None`: an envelope that does not decode — our own bug).
fn to_message(bytes: Vec<u8>, cfg: &TransportConfig) -> Option<Message> {
    if Wire::is_consensus(&bytes) {
        // The envelope as it is: the receiving host decodes it.
        return Some(Message::Consensus(bytes));
    }
    let limits = &cfg.codec.limits;
    Some(match Wire::decode(&bytes).ok()? {
        // Sent above.
        Wire::Consensus(_)
        | Wire::CompactProposal { .. }
        | Wire::GetProposalTxs { .. }
        | Wire::ProposalTxs { .. }
        | Wire::GetProposal { .. } => return None,
        Wire::Tx(b) => Message::Transactions(vec![Transaction::decode(&b, Profile::Side, limits).ok()?]),
        Wire::Txs(raw) => Message::Transactions(
            raw.iter()
                .map(|b| Transaction::decode(b, Profile::Side, limits).ok())
                .collect::<Option<Vec<_>>>()?,
        ),
        Wire::GetBlocks { from, count } => Message::GetBlocks {
            from_height: from,
            count: count.max(1),
        },
        Wire::Blocks(raw) => Message::Blocks(
            raw.iter()
                .map(|b| Block::decode(b, Profile::Side, limits).ok())
                .collect::<Option<Vec<_>>>()?,
        ),
    })
}

/// The envelopes of a received p2p message other than `Transactions` and `Blocks` (`None`: a kind
/// validators do not exchange as an envelope).
fn to_envelopes(m: Message) -> Option<Vec<Vec<u8>>> {
    Some(match m {
        Message::Consensus(b) if Wire::is_consensus(&b) => vec![b],
        // `Transactions` and `Blocks` never become envelopes: the acceptor hands them on decoded.
        Message::GetBlocks { from_height, count } => vec![
            Wire::GetBlocks {
                from: from_height,
                count: count.min(super::net::MAX_BLOCKS_PER_REPLY),
            }
            .encode(),
        ],
        _ => return None,
    })
}

async fn sender(
    me: NodeId,
    peer: PeerAddr,
    key: Arc<NodeKey>,
    cfg: TransportConfig,
    (mut urgent, mut bulk): (mpsc::Receiver<Vec<u8>>, mpsc::Receiver<Vec<u8>>),
    connected: Arc<std::sync::atomic::AtomicUsize>,
) {
    use std::sync::atomic::Ordering;
    let mut backoff = Duration::from_millis(100);
    loop {
        let mut conn = match transport::dial(peer.addr, &key, &cfg, Some(peer.peer_id)).await {
            Ok(c) => {
                tracing::info!(me, peer = peer.node, addr = %peer.addr, "connected");
                backoff = Duration::from_millis(100);
                connected.fetch_add(1, Ordering::Relaxed);
                c
            }
            Err(e) => {
                tracing::debug!(me, peer = peer.node, error = %e, "dial failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(2));
                continue;
            }
        };
        loop {
            // Consensus first: a transaction batch goes out only when nothing urgent waits.
            let next = tokio::select! {
                biased;
                b = urgent.recv() => b,
                b = bulk.recv() => b,
            };
            let Some(bytes) = next else {
                connected.fetch_sub(1, Ordering::Relaxed);
                return;
            };
            // Transaction batches and catch-up replies are relayed as bytes: decoding (hashing)
            // every transaction once per peer only to encode it again cost more than the rest of
            // the send. Other envelopes are not decoded twice.
            let raw = match Wire::carries_raw_items(&bytes).then(|| Wire::decode(&bytes)) {
                Some(Ok(Wire::Txs(raw))) => Some(p2p::message::encode_raw_transactions(&raw)),
                Some(Ok(Wire::Blocks(raw))) => Some(p2p::message::encode_raw_blocks(&raw)),
                _ => None,
            };
            let sent = match raw {
                Some(message) => conn.send_bytes(&message).await,
                None => {
                    let Some(msg) = to_message(bytes, &cfg) else {
                        tracing::error!(me, "an envelope that does not map to a p2p message");
                        continue;
                    };
                    conn.send(&msg).await
                }
            };
            if let Err(e) = sent {
                tracing::debug!(me, peer = peer.node, error = %e, "connection lost");
                connected.fetch_sub(1, Ordering::Relaxed);
                break;
            }
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// What serving followers needs: the chain to read blocks from and how many are connected.
#[derive(Clone)]
struct Followers {
    chain: Arc<ChainService>,
    connected: Arc<std::sync::atomic::AtomicUsize>,
}

/// Decrements the follower count when a follower's connection ends.
struct FollowerSlot(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for FollowerSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

fn lock(book: &Mutex<PeerBook>) -> std::sync::MutexGuard<'_, PeerBook> {
    book.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Serves one follower's connection: block requests only, answered in order on the connection.
async fn serve_follower(me: NodeId, mut conn: Connection, book: Arc<Mutex<PeerBook>>, followers: Followers) {
    use std::sync::atomic::Ordering;
    let peer = conn.peer_id();
    if lock(&book).is_banned(&peer, now_ms()) {
        tracing::warn!(me, %peer, "connection from a banned follower refused");
        return;
    }
    if followers.connected.fetch_add(1, Ordering::Relaxed) >= MAX_FOLLOWERS {
        followers.connected.fetch_sub(1, Ordering::Relaxed);
        tracing::warn!(me, %peer, "too many followers connected; connection refused");
        return;
    }
    let _slot = FollowerSlot(Arc::clone(&followers.connected));
    tracing::info!(me, %peer, "follower connected");
    loop {
        let m = match conn.recv().await {
            Ok(m) => m,
            Err(e) => {
                if lock(&book).report_error(peer, &e, now_ms()) == Verdict::Banned {
                    tracing::warn!(me, %peer, error = %e, "follower banned");
                } else {
                    tracing::debug!(me, %peer, error = %e, "follower connection ended");
                }
                return;
            }
        };
        if lock(&book).on_message(peer, 0, now_ms()).is_err() {
            tracing::warn!(me, %peer, "follower exceeded the message rate; banned");
            return;
        }
        let (from_height, count) = match m {
            Message::GetBlocks { from_height, count } => (from_height, count),
            Message::Transactions(txs) => {
                if !admit_relayed(me, peer, txs, &book, &followers.chain).await {
                    return;
                }
                continue;
            }
            _ => {
                let _ = lock(&book).report(peer, Misbehaviour::ProtocolViolation, now_ms());
                tracing::warn!(me, %peer, "a follower sent something other than a block request or transactions; connection closed");
                return;
            }
        };
        let count = count.min(super::net::MAX_BLOCKS_PER_REPLY);
        let blocks = match followers.chain.committed_blocks(from_height, count) {
            Ok(b) => b,
            Err(e) => {
                tracing::error!(me, error = %e, "reading blocks for a follower");
                return;
            }
        };
        if let Err(e) = conn.send(&Message::Blocks(blocks)).await {
            tracing::debug!(me, %peer, error = %e, "follower connection lost");
            return;
        }
    }
}

/// Admits transactions a follower relayed from its clients, as a peer's (not forwarded again: the
/// follower relays to every validator it reaches). The next message is read only once they are
/// admitted, so a follower cannot queue more admission work than it waits for. A transaction that
/// is invalid on its own (format, signatures, balance) cannot have passed the follower's own
/// admission, so it counts against the follower; state-dependent refusals (spent inputs, a full
/// pool) do not. Returns whether to keep serving it.
async fn admit_relayed(
    me: NodeId,
    peer: PeerId,
    txs: Vec<Transaction>,
    book: &Mutex<PeerBook>,
    chain: &Arc<ChainService>,
) -> bool {
    let chain = Arc::clone(chain);
    let results =
        match tokio::task::spawn_blocking(move || chain.submit_many(txs, crate::chain::Origin::Peer, false))
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(me, error = %e, "admitting a follower's transactions failed");
                return false;
            }
        };
    let invalid = results
        .iter()
        .filter(|r| matches!(r, Err(crate::chain::SubmitError::Invalid(_))))
        .count();
    if invalid == 0 {
        return true;
    }
    let verdict = lock(book).report(peer, Misbehaviour::InvalidTransaction, now_ms());
    tracing::warn!(me, %peer, invalid, "a follower relayed invalid transactions");
    verdict != Verdict::Banned
}

#[allow(clippy::too_many_arguments)]
async fn acceptor(
    me: NodeId,
    listener: TcpListener,
    key: Arc<NodeKey>,
    cfg: TransportConfig,
    known: Arc<HashMap<PeerId, NodeId>>,
    inbox: mpsc::UnboundedSender<Incoming>,
    book: Arc<Mutex<PeerBook>>,
    followers: Option<Followers>,
) {
    // Dropped (with the acceptor, when the network stops) it aborts every reader.
    let mut readers = tokio::task::JoinSet::new();
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(me, error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        while readers.try_join_next().is_some() {}
        let key = Arc::clone(&key);
        let known = Arc::clone(&known);
        let inbox = inbox.clone();
        let book = Arc::clone(&book);
        let followers = followers.clone();
        readers.spawn(async move {
            let mut conn = match transport::accept(stream, &key, &cfg).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::debug!(me, %addr, error = %e, "inbound handshake failed");
                    return;
                }
            };
            let peer = conn.peer_id();
            let Some(&from) = known.get(&peer) else {
                match followers {
                    Some(f) => serve_follower(me, conn, book, f).await,
                    None => tracing::warn!(me, %addr, "inbound connection from a node that is not a validator; closed"),
                }
                return;
            };
            if book
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .is_banned(&peer, now_ms())
            {
                tracing::warn!(me, from, "connection from a banned validator refused");
                return;
            }
            loop {
                match conn.recv().await {
                    Ok(m) => {
                        // No message-rate limit between validators: every admitted transaction is
                        // forwarded to them one message each, so an honest validator under load
                        // sends thousands a second (a rate ban stalled a loaded cluster: every
                        // validator banned the others). Malformed and oversized frames still ban.
                        // Forwarded transactions go to admission decoded: the frame check just
                        // decoded (and hashed) each one.
                        // So do catch-up replies, to import.
                        let decoded = match m {
                            Message::Transactions(txs) => Ok(Inbound::Transactions(txs)),
                            Message::Blocks(blocks) => Ok(Inbound::Blocks(blocks)),
                            other => Err(other),
                        };
                        let m = match decoded {
                            Ok(inbound) => {
                                if inbox.send((from, inbound)).is_err() {
                                    return;
                                }
                                continue;
                            }
                            Err(m) => m,
                        };
                        let Some(envs) = to_envelopes(m) else {
                            let _ = book
                                .lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .report(peer, Misbehaviour::ProtocolViolation, now_ms());
                            tracing::warn!(
                                me,
                                from,
                                "a message kind validators do not exchange; connection closed"
                            );
                            return;
                        };
                        for e in envs {
                            if inbox.send((from, Inbound::Envelope(e))).is_err() {
                                return;
                            }
                        }
                    }
                    Err(e) => {
                        // Malformed or oversized frames prove misbehaviour: the peer is banned
                        // (its connections are refused for the ban's duration).
                        let verdict = book
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .report_error(peer, &e, now_ms());
                        if verdict == Verdict::Banned {
                            tracing::warn!(me, from, error = %e, "validator banned");
                        } else {
                            tracing::debug!(me, from, error = %e, "inbound connection ended");
                        }
                        return;
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use consensus::bbft::BlockId;

    use super::*;

    #[test]
    fn consensus_plane_envelopes_ride_the_consensus_message_as_they_are() {
        let cfg = transport_config(Hash([0; 32]), 1 << 20);
        let block = BlockId([1; 32]);
        for w in [
            Wire::Consensus(vec![1, 2, 3]),
            Wire::CompactProposal {
                block,
                proposal: vec![4; 10],
            },
            Wire::GetProposalTxs {
                block,
                indexes: vec![1, 2],
            },
            Wire::ProposalTxs {
                block,
                txs: vec![vec![5; 3]],
            },
            Wire::GetProposal { block },
        ] {
            let bytes = w.encode();
            let m = to_message(bytes.clone(), &cfg).unwrap();
            assert_eq!(m, Message::Consensus(bytes.clone()));
            let back = Message::decode(&m.encode(), &cfg.codec).unwrap();
            assert_eq!(to_envelopes(back), Some(vec![bytes]), "{w:?}");
        }
        // A `Consensus` message holding anything else is not something validators exchange.
        for b in [
            Vec::new(),
            vec![0xff],
            Wire::GetBlocks { from: 1, count: 1 }.encode(),
            Wire::Txs(Vec::new()).encode(),
        ] {
            assert_eq!(to_envelopes(Message::Consensus(b)), None);
        }
        // Other envelopes keep their own p2p messages.
        assert_eq!(
            to_message(Wire::GetBlocks { from: 3, count: 2 }.encode(), &cfg),
            Some(Message::GetBlocks {
                from_height: 3,
                count: 2
            })
        );
    }
}

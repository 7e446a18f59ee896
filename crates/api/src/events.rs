//! The live feed (`GET /v1/events`, Server-Sent Events) and the background tasks that follow the
//! chain: block events, status events of transactions submitted through this API, the index of
//! assets seen on chain, and the wallet follower.
//!
//! Memory is bounded: events go through one broadcast buffer of [`EVENT_BUFFER`] events; a client
//! that falls further behind is disconnected (it reconnects and reads the chain through the API),
//! never buffered for. At most [`MAX_TRACKED`] submitted transactions are followed at a time and at
//! most [`MAX_SUBSCRIBERS`] feed clients are connected.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use node::ChainService;
use serde::Serialize;
use serde_json::Value;
use storage::StoreRead;
use tokio::sync::{broadcast, watch};
use types::asset::AssetId;
use types::tx::InputKind;
use types::{Block, Hash};

/// Events buffered for feed clients; a client further behind is dropped.
pub(crate) const EVENT_BUFFER: usize = 1024;
/// Submitted transactions followed at once; the oldest is forgotten beyond this.
pub(crate) const MAX_TRACKED: usize = 10_000;
/// Feed clients connected at once.
pub(crate) const MAX_SUBSCRIBERS: usize = 256;

/// A block committed to the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BlockEvent {
    /// Height.
    pub height: u64,
    /// Hash (hex).
    pub hash: String,
    /// Transactions in the block, coinbase included.
    pub tx_count: usize,
    /// Whether the block can no longer be reverted. Always true on a single-producer chain (one
    /// producer signs every block, so there are no competing branches) and on a BBFT chain (a node
    /// commits a block only once the validators' certificates finalized it).
    #[serde(rename = "final")]
    pub is_final: bool,
}

/// A status change of a transaction submitted through this API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TxEvent {
    /// Transaction ID (hex).
    pub tx_id: String,
    /// `pending` (accepted into the pool), `included` (in a block), `final` (cannot be reverted), or
    /// `rejected` (refused on submission or dropped from the pool).
    pub status: String,
    /// The including block's height (`included`, `final`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_height: Option<u64>,
    /// The including block's hash (`included`, `final`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_hash: Option<String>,
    /// Why it was rejected (`rejected`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One feed event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    Block(BlockEvent),
    Tx(TxEvent),
}

impl Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Block(_) => "block",
            Event::Tx(_) => "tx",
        }
    }

    fn data(&self) -> String {
        match self {
            Event::Block(b) => serde_json::to_string(b),
            Event::Tx(t) => serde_json::to_string(t),
        }
        .unwrap_or_default()
    }
}

/// Where a submitted transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tracked {
    /// Handed to the pool; its answer is not back yet. A block may include it meanwhile (kept here
    /// so that `included` is not lost and still follows `pending`).
    Submitting(Option<(u64, Hash)>),
    /// In the pool.
    Pending,
}

#[derive(Default)]
struct TrackedSet {
    state: HashMap<Hash, Tracked>,
    order: VecDeque<Hash>,
}

impl TrackedSet {
    fn insert(&mut self, id: Hash, t: Tracked) {
        if self.state.insert(id, t).is_none() {
            self.order.push_back(id);
        }
        while self.state.len() > MAX_TRACKED {
            match self.order.pop_front() {
                Some(old) => {
                    self.state.remove(&old);
                }
                None => break,
            }
        }
    }

    fn remove(&mut self, id: &Hash) -> Option<Tracked> {
        let t = self.state.remove(id);
        if t.is_some() {
            self.order.retain(|x| x != id);
        }
        t
    }
}

/// The event hub: what the API's handlers and the chain follower publish, what feed clients read.
pub(crate) struct Feed {
    events: broadcast::Sender<Event>,
    tracked: Mutex<TrackedSet>,
    subscribers: Arc<AtomicUsize>,
    /// Set when the server shuts down: open streams end (else a graceful shutdown would wait on them
    /// forever).
    closing: watch::Sender<bool>,
}

impl Feed {
    pub(crate) fn new() -> Feed {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Feed {
            events,
            tracked: Mutex::new(TrackedSet::default()),
            subscribers: Arc::new(AtomicUsize::new(0)),
            closing: watch::channel(false).0,
        }
    }

    /// Ends every open stream.
    pub(crate) fn close(&self) {
        self.closing.send_replace(true);
    }

    fn tracked(&self) -> MutexGuard<'_, TrackedSet> {
        // Every update leaves the set consistent, so a poisoned lock is used as is.
        self.tracked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn publish(&self, e: Event) {
        // No client connected is not an error.
        let _ = self.events.send(e);
    }

    fn tx_event(tx_id: &Hash, status: &str, block: Option<(u64, Hash)>, reason: Option<String>) -> Event {
        Event::Tx(TxEvent {
            tx_id: tx_id.to_hex(),
            status: status.to_string(),
            block_height: block.map(|b| b.0),
            block_hash: block.map(|b| b.1.to_hex()),
            reason,
        })
    }

    /// Before handing a transaction to the pool.
    pub(crate) fn submitting(&self, tx_id: Hash) {
        let mut t = self.tracked();
        if !t.state.contains_key(&tx_id) {
            t.insert(tx_id, Tracked::Submitting(None));
        }
    }

    /// The pool took it (or already had it): `pending`, then `included`/`final` if a block already
    /// holds it.
    pub(crate) fn accepted(&self, tx_id: Hash) {
        let mut t = self.tracked();
        match t.state.get(&tx_id).copied() {
            Some(Tracked::Submitting(included)) => {
                self.publish(Feed::tx_event(&tx_id, "pending", None, None));
                match included {
                    Some(b) => {
                        t.remove(&tx_id);
                        self.publish(Feed::tx_event(&tx_id, "included", Some(b), None));
                        self.publish(Feed::tx_event(&tx_id, "final", Some(b), None));
                    }
                    None => {
                        t.insert(tx_id, Tracked::Pending);
                    }
                }
            }
            Some(Tracked::Pending) => {}
            None => {
                // Forgotten while submitting (the tracked set was full): follow it again.
                self.publish(Feed::tx_event(&tx_id, "pending", None, None));
                t.insert(tx_id, Tracked::Pending);
            }
        }
    }

    /// The transaction is on chain already (submitted again after its block): nothing to follow.
    pub(crate) fn forget(&self, tx_id: &Hash) {
        self.tracked().remove(tx_id);
    }

    /// The pool refused it.
    pub(crate) fn refused(&self, tx_id: Hash, reason: String) {
        self.tracked().remove(&tx_id);
        self.publish(Feed::tx_event(&tx_id, "rejected", None, Some(reason)));
    }

    /// A block was committed: its event, and `included` then `final` for each followed transaction
    /// in it (final at once: a single producer, no forks).
    fn block(&self, block: &Block) {
        let height = block.header().height;
        let hash = block.hash();
        self.publish(Event::Block(BlockEvent {
            height,
            hash: hash.to_hex(),
            tx_count: block.transactions().len(),
            is_final: true,
        }));
        let mut t = self.tracked();
        for tx in block.transactions() {
            let id = tx.id();
            match t.state.get(&id).copied() {
                Some(Tracked::Pending) => {
                    t.remove(&id);
                    self.publish(Feed::tx_event(&id, "included", Some((height, hash)), None));
                    self.publish(Feed::tx_event(&id, "final", Some((height, hash)), None));
                }
                Some(Tracked::Submitting(_)) => {
                    t.insert(id, Tracked::Submitting(Some((height, hash))));
                }
                None => {}
            }
        }
    }

    /// The pool dropped a transaction.
    fn evicted(&self, tx_id: Hash, reason: String) {
        let mut t = self.tracked();
        if t.remove(&tx_id).is_some() {
            self.publish(Feed::tx_event(&tx_id, "rejected", None, Some(reason)));
        }
    }

    /// The events one client sees, `None` when too many clients are connected (or the server is
    /// closing). With `only_tx`, only that transaction's status events. The stream ends when the
    /// client falls more than [`EVENT_BUFFER`] events behind.
    pub(crate) fn events(&self, only_tx: Option<Hash>) -> Option<impl Stream<Item = Event> + use<>> {
        let guard = SubscriberGuard::new(self.subscribers.clone())?;
        let rx = self.events.subscribe();
        let closing = self.closing.subscribe();
        if *closing.borrow() {
            return None;
        }
        let filter = only_tx.map(|h| h.to_hex());
        let state = (rx, closing, guard, filter);
        Some(futures_util::stream::unfold(
            state,
            |(mut rx, mut closing, guard, filter)| async move {
                loop {
                    let received = tokio::select! {
                        r = rx.recv() => r,
                        _ = closing.changed() => return None,
                    };
                    match received {
                        Ok(e) => {
                            if let Some(f) = &filter {
                                match &e {
                                    Event::Tx(t) if &t.tx_id == f => {}
                                    _ => continue,
                                }
                            }
                            return Some((e, (rx, closing, guard, filter)));
                        }
                        // Too slow: drop this client rather than buffer for it.
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            tracing::debug!(missed = n, "dropping a slow event feed client");
                            return None;
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            },
        ))
    }

    /// [`Feed::events`] as Server-Sent Events (`event: block|tx`, `data: JSON`).
    pub(crate) fn stream(
        &self,
        only_tx: Option<Hash>,
    ) -> Option<Sse<impl Stream<Item = Result<SseEvent, Infallible>> + use<>>> {
        let events = self.events(only_tx)?;
        let sse = futures_util::StreamExt::map(events, |e| {
            Ok::<_, Infallible>(SseEvent::default().event(e.name()).data(e.data()))
        });
        Some(Sse::new(sse).keep_alive(KeepAlive::default()))
    }
}

/// Counts a connected feed client for as long as it lives.
struct SubscriberGuard(Arc<AtomicUsize>);

impl SubscriberGuard {
    fn new(count: Arc<AtomicUsize>) -> Option<SubscriberGuard> {
        let mut n = count.load(Ordering::Relaxed);
        loop {
            if n >= MAX_SUBSCRIBERS {
                return None;
            }
            match count.compare_exchange(n, n + 1, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Some(SubscriberGuard(count)),
                Err(now) => n = now,
            }
        }
    }
}

impl Drop for SubscriberGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// What the node knows of an asset seen on chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssetInfo {
    /// The definition carried by the first issuance or claim that named one (JSON if it parses).
    pub(crate) definition: Option<Value>,
    /// Height of the first block with an output of the asset.
    pub(crate) first_height: u64,
}

/// Every asset in any output of any committed block, built by scanning the chain once on start and
/// then block by block.
#[derive(Default)]
pub(crate) struct AssetIndex {
    assets: RwLock<BTreeMap<AssetId, AssetInfo>>,
    /// The next height to index.
    next: Mutex<u64>,
}

impl AssetIndex {
    pub(crate) fn get(&self, id: &AssetId) -> Option<AssetInfo> {
        self.assets
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    fn index_block(&self, block: &Block) {
        let height = block.header().height;
        let mut assets = self
            .assets
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for tx in block.transactions() {
            for input in tx.inputs() {
                if let (InputKind::Issuance(_) | InputKind::CrossChain(_), Some((asset, _))) =
                    (&input.kind, input.asset_amount())
                {
                    let def = input
                        .asset_definition()
                        .filter(|d| !d.is_empty())
                        .map(|d| serde_json::from_slice(d).unwrap_or_else(|_| Value::String(hex::encode(d))));
                    let e = assets.entry(asset).or_insert(AssetInfo {
                        definition: None,
                        first_height: height,
                    });
                    if e.definition.is_none() {
                        e.definition = def;
                    }
                }
            }
            for output in tx.outputs() {
                assets.entry(output.asset_id()).or_insert(AssetInfo {
                    definition: None,
                    first_height: height,
                });
            }
        }
    }

    /// Indexes every stored block not indexed yet (blocking: call from a blocking thread).
    pub(crate) fn catch_up(&self, chain: &ChainService) -> Result<(), String> {
        let mut next = self
            .next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tip = chain.tip().height;
        while *next <= tip {
            let block = chain
                .store()
                .block_at(*next)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no stored block at height {}", *next))?;
            self.index_block(&block);
            *next += 1;
        }
        Ok(())
    }
}

/// Something kept in step with the chain by reading the store (blocking).
pub(crate) trait Follower: Send + Sync {
    /// What it is, for logs.
    fn name(&self) -> &'static str;
    /// Reads every committed block it has not seen yet.
    fn catch_up(&self, chain: &ChainService) -> Result<(), String>;
}

impl Follower for AssetIndex {
    fn name(&self) -> &'static str {
        "asset index"
    }
    fn catch_up(&self, chain: &ChainService) -> Result<(), String> {
        AssetIndex::catch_up(self, chain)
    }
}

/// Runs until `stop` changes or its sender is dropped: follows new blocks and pool evictions,
/// publishing feed events and keeping the asset index and the wallet at the tip. A missed broadcast
/// (lag) is recovered by reading the store from the last block seen.
pub(crate) async fn follow(
    chain: Arc<ChainService>,
    feed: Arc<Feed>,
    followers: Vec<Arc<dyn Follower>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut blocks = chain.subscribe();
    let mut evictions = chain.subscribe_evictions();
    // Catch up first: the asset index from genesis, the wallet from its own tip.
    catch_up_all(&chain, &followers).await;
    let mut last_height = chain.tip().height;
    loop {
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
            b = blocks.recv() => {
                let missed = match b {
                    Ok(block) if block.header().height == last_height.saturating_add(1) => {
                        last_height = block.header().height;
                        feed.block(&block);
                        false
                    }
                    Ok(block) if block.header().height <= last_height => false,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => true,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if missed {
                    last_height = replay_from_store(&chain, &feed, last_height).await;
                }
                catch_up_all(&chain, &followers).await;
            }
            e = evictions.recv() => {
                match e {
                    Ok(ev) => feed.evicted(ev.tx_id, ev.reason),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "missed pool eviction notices; their transactions stay pending in the feed");
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        }
    }
}

/// Publishes the blocks after `last_height` up to the tip from the store; returns the last height read.
async fn replay_from_store(chain: &Arc<ChainService>, feed: &Arc<Feed>, mut last_height: u64) -> u64 {
    let tip = chain.tip().height;
    while last_height < tip {
        let h = last_height.saturating_add(1);
        let c = chain.clone();
        let block = tokio::task::spawn_blocking(move || c.store().block_at(h)).await;
        match block {
            Ok(Ok(Some(b))) => {
                feed.block(&b);
                last_height = h;
            }
            other => {
                tracing::error!(height = h, result = ?other.map(|r| r.map(|b| b.is_some())), "cannot read a block for the event feed");
                break;
            }
        }
    }
    last_height
}

async fn catch_up_all(chain: &Arc<ChainService>, followers: &[Arc<dyn Follower>]) {
    let (c, all) = (chain.clone(), followers.to_vec());
    let r = tokio::task::spawn_blocking(move || {
        for f in &all {
            if let Err(e) = f.catch_up(&c) {
                tracing::error!(follower = f.name(), error = %e, "cannot follow the chain");
            }
        }
    })
    .await;
    if let Err(e) = r {
        tracing::error!(error = %e, "follower task failed");
    }
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    fn tx_event(n: u8) -> Event {
        Feed::tx_event(&Hash([n; 32]), "pending", None, None)
    }

    #[tokio::test]
    async fn a_client_that_falls_behind_is_dropped() {
        let feed = Feed::new();
        let mut slow = Box::pin(feed.events(None).unwrap());
        let mut fast = Box::pin(feed.events(None).unwrap());
        for i in 0..EVENT_BUFFER + 10 {
            feed.publish(tx_event(u8::try_from(i % 200).unwrap()));
            // The fast client keeps up.
            assert!(fast.next().await.is_some());
        }
        // The slow one missed events: its stream ends instead of buffering more.
        assert!(slow.next().await.is_none());
        feed.publish(tx_event(1));
        assert_eq!(fast.next().await, Some(tx_event(1)));
    }

    #[tokio::test]
    async fn clients_are_capped_and_closing_ends_streams() {
        let feed = Feed::new();
        let mut held: Vec<_> = (0..MAX_SUBSCRIBERS)
            .map(|_| Box::pin(feed.events(None).unwrap()))
            .collect();
        assert!(feed.events(None).is_none(), "one too many");
        held.pop();
        assert!(feed.events(None).is_some(), "a slot freed");
        feed.close();
        assert!(held[0].next().await.is_none());
        assert!(feed.events(None).is_none());
    }

    #[tokio::test]
    async fn the_filter_keeps_one_transaction() {
        let feed = Feed::new();
        let mut only = Box::pin(feed.events(Some(Hash([2; 32]))).unwrap());
        feed.publish(tx_event(1));
        feed.publish(Event::Block(BlockEvent {
            height: 1,
            hash: String::new(),
            tx_count: 1,
            is_final: true,
        }));
        feed.publish(tx_event(2));
        assert_eq!(only.next().await, Some(tx_event(2)));
    }

    #[test]
    fn the_tracked_set_is_bounded() {
        let mut t = TrackedSet::default();
        for i in 0..MAX_TRACKED + 5 {
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&u64::try_from(i).unwrap().to_le_bytes());
            t.insert(Hash(h), Tracked::Pending);
        }
        assert_eq!(t.state.len(), MAX_TRACKED);
        assert_eq!(t.order.len(), MAX_TRACKED);
    }
}

//! The live feed (`GET /v1/events`, Server-Sent Events) and the background tasks that follow the
//! chain: block events, status events of transactions submitted through this API, the index of
//! assets seen on chain, and the wallet follower.
//!
//! Memory is bounded: events go through one broadcast buffer of [`EVENT_BUFFER`] events; a client
//! that falls further behind is disconnected (it reconnects and reads the chain through the API),
//! never buffered for. At most [`MAX_TRACKED`] submitted transactions are followed at a time and at
//! most [`MAX_SUBSCRIBERS`] feed clients are connected.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use foldhash::HashMap;

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use node::{ChainEvent, ChainService};
use serde::Serialize;
use serde_json::Value;
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
    /// commits a block only once the validators' certificates finalized it). False on the
    /// proof-of-work main chain, where a heavier branch may replace it (its transactions are reported
    /// `final` once the block is six blocks deep).
    #[serde(rename = "final")]
    pub is_final: bool,
}

/// A status change of a transaction submitted through this API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TxEvent {
    /// Transaction ID (hex).
    pub tx_id: String,
    /// `pending` (accepted into the pool, or back in it after its block was disconnected by a reorg),
    /// `included` (in a block), `final` (cannot be reverted: at once under solo consensus, six blocks
    /// deep on the main chain), or `rejected` (refused on submission or dropped from the pool).
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
    /// A block taken back out of the chain by a reorg (main chain only).
    Disconnected(BlockEvent),
    Tx(TxEvent),
}

impl Event {
    fn name(&self) -> &'static str {
        match self {
            Event::Block(_) => "block",
            Event::Disconnected(_) => "block_disconnected",
            Event::Tx(_) => "tx",
        }
    }

    fn data(&self) -> String {
        match self {
            Event::Block(b) | Event::Disconnected(b) => serde_json::to_string(b),
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

/// The followed transactions, oldest first for eviction. Removal is O(1): it leaves the id's
/// entry in `order` behind, and an entry counts only while its sequence number is the one in
/// `state` (an id removed and followed again gets a new one). Stale entries are dropped when
/// eviction reaches them, or all at once when they outnumber the live ones.
#[derive(Default)]
struct TrackedSet {
    state: HashMap<Hash, (Tracked, u64)>,
    order: VecDeque<(Hash, u64)>,
    next_seq: u64,
    /// Included in a block that is not final yet: the block (height, hash).
    included: HashMap<Hash, (u64, Hash)>,
}

impl TrackedSet {
    fn get(&self, id: &Hash) -> Option<Tracked> {
        self.state.get(id).map(|(t, _)| *t)
    }

    fn contains(&self, id: &Hash) -> bool {
        self.state.contains_key(id)
    }

    fn insert(&mut self, id: Hash, t: Tracked) {
        match self.state.get_mut(&id) {
            Some(slot) => slot.0 = t,
            None => {
                let seq = self.next_seq;
                self.next_seq = self.next_seq.wrapping_add(1);
                self.state.insert(id, (t, seq));
                self.order.push_back((id, seq));
            }
        }
        while self.state.len() > MAX_TRACKED {
            match self.order.pop_front() {
                Some((old, seq)) => {
                    if self.state.get(&old).is_some_and(|(_, s)| *s == seq) {
                        self.state.remove(&old);
                    }
                }
                None => break,
            }
        }
        self.compact();
    }

    fn remove(&mut self, id: &Hash) -> Option<Tracked> {
        let t = self.state.remove(id).map(|(t, _)| t);
        self.compact();
        t
    }

    /// Drops stale order entries once they outnumber the live ones (amortized O(1) per change).
    fn compact(&mut self) {
        if self.order.len() > 2 * self.state.len() + 64 {
            let state = &self.state;
            self.order
                .retain(|(id, seq)| state.get(id).is_some_and(|(_, s)| s == seq));
        }
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
    /// Blocks that must follow a block before its transactions are final (0: final at once).
    final_depth: u64,
}

impl Feed {
    /// A feed for a chain whose committed blocks are final at once.
    #[cfg(test)]
    pub(crate) fn new() -> Feed {
        Feed::with_final_depth(0)
    }

    /// A feed for a chain whose blocks are final `final_depth` blocks deep.
    pub(crate) fn with_final_depth(final_depth: u64) -> Feed {
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        Feed {
            events,
            tracked: Mutex::new(TrackedSet::default()),
            subscribers: Arc::new(AtomicUsize::new(0)),
            closing: watch::channel(false).0,
            final_depth,
        }
    }

    /// `included`, then `final` at once or once deep enough.
    fn include(&self, t: &mut TrackedSet, tx_id: Hash, block: (u64, Hash)) {
        self.publish(Feed::tx_event(&tx_id, "included", Some(block), None));
        if self.final_depth == 0 {
            self.publish(Feed::tx_event(&tx_id, "final", Some(block), None));
        } else {
            t.included.insert(tx_id, block);
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
        if !t.contains(&tx_id) {
            t.insert(tx_id, Tracked::Submitting(None));
        }
    }

    /// The pool took it (or already had it): `pending`, then `included`/`final` if a block already
    /// holds it.
    pub(crate) fn accepted(&self, tx_id: Hash) {
        let mut t = self.tracked();
        match t.get(&tx_id) {
            Some(Tracked::Submitting(included)) => {
                self.publish(Feed::tx_event(&tx_id, "pending", None, None));
                match included {
                    Some(b) => {
                        t.remove(&tx_id);
                        self.include(&mut t, tx_id, b);
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
    /// in it (final at once under solo consensus; on the main chain once the block is
    /// `final_depth` deep, reported when the block making it so arrives).
    fn block(&self, block: &Block) {
        let height = block.header().height;
        let hash = block.hash();
        self.publish(Event::Block(BlockEvent {
            height,
            hash: hash.to_hex(),
            tx_count: block.transactions().len(),
            is_final: self.final_depth == 0,
        }));
        let mut t = self.tracked();
        if self.final_depth > 0 {
            let depth = self.final_depth;
            let deep: Vec<(Hash, (u64, Hash))> = t
                .included
                .iter()
                .filter(|(_, (h, _))| h.saturating_add(depth) <= height)
                .map(|(id, b)| (*id, *b))
                .collect();
            for (id, b) in deep {
                t.included.remove(&id);
                self.publish(Feed::tx_event(&id, "final", Some(b), None));
            }
        }
        for tx in block.transactions() {
            let id = tx.id();
            match t.get(&id) {
                Some(Tracked::Pending) => {
                    t.remove(&id);
                    self.include(&mut t, id, (height, hash));
                }
                Some(Tracked::Submitting(_)) => {
                    t.insert(id, Tracked::Submitting(Some((height, hash))));
                }
                None => {}
            }
        }
    }

    /// A block was disconnected by a reorg: its event, and each followed transaction in it not yet
    /// final is `pending` again (back in the pool; `rejected` follows if the pool drops it).
    fn disconnected(&self, block: &Block) {
        let height = block.header().height;
        let hash = block.hash();
        self.publish(Event::Disconnected(BlockEvent {
            height,
            hash: hash.to_hex(),
            tx_count: block.transactions().len(),
            is_final: false,
        }));
        let mut t = self.tracked();
        for tx in block.transactions() {
            let id = tx.id();
            if t.included.get(&id).is_some_and(|b| b.1 == hash) {
                t.included.remove(&id);
                t.insert(id, Tracked::Pending);
                self.publish(Feed::tx_event(&id, "pending", None, None));
            } else if let Some(Tracked::Submitting(Some(b))) = t.get(&id)
                && b.1 == hash
            {
                t.insert(id, Tracked::Submitting(None));
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
    /// A block at `height` was disconnected: the heights from there are indexed again from the new
    /// branch (assets seen only on the old branch stay listed).
    fn rewind_to(&self, height: u64) {
        let mut next = self
            .next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *next = (*next).min(height);
    }

    pub(crate) fn catch_up(&self, chain: &ChainService) -> Result<(), String> {
        let mut next = self
            .next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tip = chain.tip().height;
        while *next <= tip {
            let block = chain
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
    /// A block was disconnected by a reorg (before the next [`Follower::catch_up`]).
    fn disconnected(&self, _block: &Block) {}
}

impl Follower for AssetIndex {
    fn name(&self) -> &'static str {
        "asset index"
    }
    fn disconnected(&self, block: &Block) {
        self.rewind_to(block.header().height);
    }
    fn catch_up(&self, chain: &ChainService) -> Result<(), String> {
        AssetIndex::catch_up(self, chain)
    }
}

/// Where [`follow`] starts: the chain's subscriptions and the tip, taken together when the server
/// starts, so that the feed shows every block committed after that (taken inside the task instead,
/// blocks committed before it first ran, or while the followers caught up, were never shown).
pub(crate) struct FollowStart {
    blocks: broadcast::Receiver<ChainEvent>,
    evictions: broadcast::Receiver<node::chain::Eviction>,
    last_height: u64,
}

impl FollowStart {
    /// Subscribes, then reads the tip: a block above that tip is broadcast after the subscription.
    pub(crate) fn now(chain: &ChainService) -> FollowStart {
        let blocks = chain.subscribe_chain();
        let evictions = chain.subscribe_evictions();
        FollowStart {
            blocks,
            evictions,
            last_height: chain.tip().height,
        }
    }
}

/// Runs until `stop` changes or its sender is dropped: follows connected and disconnected blocks and
/// pool evictions, publishing feed events and keeping the asset index and the wallet at the tip (the
/// wallet unwinds disconnected blocks). A missed broadcast (lag) is recovered by reading the store
/// from the last block seen (a disconnection missed that way is not reported on the feed; the wallet
/// still unwinds, as it checks its tip against the chain).
pub(crate) async fn follow(
    chain: Arc<ChainService>,
    feed: Arc<Feed>,
    followers: Vec<Arc<dyn Follower>>,
    start: FollowStart,
    mut stop: watch::Receiver<bool>,
) {
    let FollowStart {
        mut blocks,
        mut evictions,
        mut last_height,
    } = start;
    // Catch up first: the asset index from genesis, the wallet from its own tip. Blocks committed
    // meanwhile wait in the subscription (or are read from the store if it overflows).
    catch_up_all(&chain, &followers).await;
    loop {
        tokio::select! {
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
            b = blocks.recv() => {
                let missed = match b {
                    Ok(ChainEvent::Connected(block)) if block.header().height == last_height.saturating_add(1) => {
                        last_height = block.header().height;
                        feed.block(&block);
                        false
                    }
                    Ok(ChainEvent::Connected(block)) if block.header().height <= last_height => false,
                    Ok(ChainEvent::Disconnected(block)) => {
                        let h = block.header().height;
                        if h <= last_height {
                            feed.disconnected(&block);
                            last_height = h.saturating_sub(1);
                        }
                        for f in &followers {
                            f.disconnected(&block);
                        }
                        false
                    }
                    Ok(ChainEvent::Connected(_)) | Err(broadcast::error::RecvError::Lagged(_)) => true,
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
        let block = tokio::task::spawn_blocking(move || c.block_at(h)).await;
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

    fn block_with(height: u64, parent: &types::BlockHeader, txs: Vec<types::Transaction>) -> Block {
        let mut txs = txs;
        txs.insert(
            0,
            ledger::testkit::coinbase(
                types::Profile::Main,
                height,
                vec![ledger::testkit::output(&[0x51], AssetId::BTM, height).unwrap()],
            )
            .unwrap(),
        );
        ledger::testkit::block(parent, txs, 1_000 + height).unwrap()
    }

    fn statuses(rx: &mut broadcast::Receiver<Event>) -> Vec<String> {
        let mut out = Vec::new();
        while let Ok(e) = rx.try_recv() {
            match e {
                Event::Tx(t) => out.push(t.status),
                Event::Block(b) => out.push(format!("block {} final={}", b.height, b.is_final)),
                Event::Disconnected(b) => out.push(format!("disconnected {}", b.height)),
            }
        }
        out
    }

    #[test]
    fn on_the_main_chain_a_disconnected_blocks_transactions_are_never_final() {
        let feed = Feed::with_final_depth(2);
        let mut rx = feed.events.subscribe();
        let key = ledger::testkit::Key::from_seed(b"feed");
        let funding = ledger::testkit::coinbase(
            types::Profile::Main,
            0,
            vec![ledger::testkit::output(key.program(), AssetId::BTM, 10).unwrap()],
        )
        .unwrap();
        let coin = ledger::testkit::coins_of(&funding).remove(0);
        let tx = ledger::testkit::transfer(
            types::Profile::Main,
            &[(&coin, &key)],
            vec![ledger::testkit::output(key.program(), AssetId::BTM, 9).unwrap()],
        )
        .unwrap();
        let genesis = types::BlockHeader::empty(types::Profile::Main);
        feed.submitting(tx.id());
        feed.accepted(tx.id());
        let b1 = block_with(1, &genesis, vec![tx.clone()]);
        feed.block(&b1);
        assert_eq!(statuses(&mut rx), ["pending", "block 1 final=false", "included"]);
        // A reorg takes the block out: the transaction is pending again, never final.
        feed.disconnected(&b1);
        assert_eq!(statuses(&mut rx), ["disconnected 1", "pending"]);
        let other = block_with(1, &genesis, vec![]);
        let b2 = block_with(2, other.header(), vec![tx.clone()]);
        feed.block(&other);
        feed.block(&b2);
        let b3 = block_with(3, b2.header(), vec![]);
        feed.block(&b3);
        assert_eq!(
            statuses(&mut rx),
            [
                "block 1 final=false",
                "block 2 final=false",
                "included",
                "block 3 final=false"
            ]
        );
        // Two blocks on top of b2: final.
        feed.block(&block_with(4, b3.header(), vec![]));
        assert_eq!(statuses(&mut rx), ["block 4 final=false", "final"]);
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

    #[test]
    fn removal_leaves_no_unbounded_order_and_a_followed_again_id_keeps_its_new_place() {
        let id = |i: usize| {
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&u64::try_from(i).unwrap().to_le_bytes());
            Hash(h)
        };
        let mut t = TrackedSet::default();
        // Many followed and dropped again: the order does not grow with them.
        for i in 0..100_000 {
            t.insert(id(i), Tracked::Pending);
            assert_eq!(t.remove(&id(i)), Some(Tracked::Pending));
        }
        assert!(t.state.is_empty());
        assert!(t.order.len() <= 64, "{}", t.order.len());
        // Id 0 followed, dropped, followed again after others: its stale first entry must not
        // evict it when eviction reaches that entry.
        t.insert(id(0), Tracked::Pending);
        t.remove(&id(0));
        for i in 1..MAX_TRACKED {
            t.insert(id(i), Tracked::Pending);
        }
        t.insert(id(0), Tracked::Pending);
        assert_eq!(t.state.len(), MAX_TRACKED);
        t.insert(id(MAX_TRACKED), Tracked::Pending);
        // The oldest live one (id 1) went, not id 0.
        assert!(t.contains(&id(0)));
        assert!(!t.contains(&id(1)));
        assert_eq!(t.state.len(), MAX_TRACKED);
    }
}

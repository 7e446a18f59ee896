//! The chain service: validates blocks with the ledger, commits them to the store (one atomic write
//! per block), keeps the mempool in step, produces blocks under solo consensus and broadcasts every
//! new block to subscribers.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use crypto::chainkd::ExpandedPrivateKey;
use ledger::{BlockRejection, ChainParams, CheckedTx, TxRejection};
use storage::{RedbStore, StoreError, StoreRead, StoreWrite, Tip};
use tokio::sync::broadcast;
use types::amount::Amount;
use types::asset::AssetId;
use types::block::HeaderConsensus;
use types::tx::{CoinbaseInput, InputKind, OutputKind, TxData, TxInput, TxOutput};
use types::{Block, BlockHeader, Hash, Transaction};

use crate::mempool::{Admission, Mempool, MempoolError};
use crate::metrics::Metrics;
use crate::pool_journal::{self, JournalError, PoolJournal};
use crate::{MempoolConfig, NodeError};

pub mod pow;

pub use pow::ChainEvent;
// BBFT's side of the service (certified commits, overlays of certified blocks, catch-up) lives in
// its own file; a child module so it shares the service's private state.
#[path = "chain_bbft.rs"]
pub mod bbft;
pub use bbft::{BbftChain, ImportError, Overlay};

/// Why a submitted transaction was not accepted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmitError {
    /// The transaction breaks a rule on its own (format, balance, gas, signatures).
    #[error("invalid transaction: {0}")]
    Invalid(TxRejection),
    /// The transaction is in a committed block already.
    #[error("transaction {0} is already on chain")]
    AlreadyOnChain(Hash),
    /// The pool refused it.
    #[error("{0}")]
    Mempool(#[from] MempoolError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The transaction passed every check but could not be made durable in the pool journal, so it
    /// was not accepted (and was taken out of the pool again).
    #[error("pool journal: {0}")]
    Journal(#[from] JournalError),
}

impl SubmitError {
    /// Whether the transaction was turned away: not a duplicate of one in the pool, nor one
    /// already on chain (callers count those as submitted).
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self,
            SubmitError::AlreadyOnChain(_)
                | SubmitError::Mempool(MempoolError::Duplicate(_) | MempoolError::DuplicateOrphan(_))
        )
    }
}

/// What happened to a submitted transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// Its ID.
    pub tx_id: Hash,
    /// Whether it is ready for a block or waits for inputs.
    pub admission: Admission,
}

/// Whether `tx` spends (or vetoes) a stored output: such a transaction cannot be on chain while
/// the output is unspent, so admission itself finds a replay (the output is gone).
fn spends_an_output(tx: &Transaction) -> bool {
    tx.inputs()
        .iter()
        .any(|i| matches!(i.kind, InputKind::Spend(_) | InputKind::Veto(_)))
}

fn store_failed() -> SubmitError {
    SubmitError::Store(StoreError::Inconsistent(
        "the store could not be read for this batch".into(),
    ))
}

/// Where a submitted transaction came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// This node's API or a caller in this process.
    Local,
    /// Another node: a validator forwarding its clients' transactions, or a follower relaying its own
    /// (it reached every validator itself). Not forwarded again.
    Peer,
}

/// A transaction the pool admitted, and where it came from.
#[derive(Debug, Clone)]
pub struct Admitted {
    /// The transaction.
    pub tx: Arc<Transaction>,
    /// Who submitted it.
    pub origin: Origin,
}

/// Committed blocks kept decoded for readers ([`ChainService::block_by_hash`]): at most this many,
/// and older ones are let go once the kept blocks hold more than [`RECENT_TXS`] transactions.
const RECENT_BLOCKS: usize = 32;

/// Transactions the kept blocks may hold beyond the newest block. Why: at full load a block holds
/// ~5,000 transactions, and 32 of them kept ~200 MB decoded per node, grown anew by every node
/// that starts (and fresh memory is costly on this kind of VM); the readers (the API's feed, wallet
/// and asset followers) read a block within a block or two of its commit.
const RECENT_TXS: usize = 24_576;

/// Lets the oldest of `recent` (oldest first) go until at most `max_blocks` are kept and the kept
/// ones other than the newest hold at most `max_txs` transactions (`txs` counts a block's). The
/// newest is always kept.
fn trim_recent<T>(recent: &mut VecDeque<T>, txs: impl Fn(&T) -> usize, max_blocks: usize, max_txs: usize) {
    let newest = recent.back().map_or(0, &txs);
    let mut older = recent.iter().map(&txs).sum::<usize>() - newest;
    while recent.len() > 1 && (recent.len() > max_blocks || older > max_txs) {
        if let Some(oldest) = recent.pop_front() {
            older -= txs(&oldest);
        }
    }
}

/// Transactions checked at a time by a batch that stops at its first refusal (`submit-transactions`):
/// a batch refused early wastes the signature checks of at most one such chunk.
const REFUSAL_CHUNK: usize = 128;

/// Journaled transactions admitted again per batch on open.
const REPLAY_BATCH: usize = 4096;

/// Most admitted transactions a slow subscriber may fall behind by before it misses some.
const ADMITTED_BACKLOG: usize = 1 << 16;

/// The block producer's signing key (an ed25519 seed). `Debug` is redacted.
#[derive(Clone)]
pub struct ProducerKey {
    key: ExpandedPrivateKey,
    public: [u8; 32],
}

impl std::fmt::Debug for ProducerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProducerKey(public {})", hex::encode(self.public))
    }
}

impl ProducerKey {
    /// The key of a 32-byte ed25519 seed.
    pub fn from_seed(seed: &[u8; 32]) -> ProducerKey {
        let key = ExpandedPrivateKey::from_ed25519_seed(seed);
        let public = key.public_key();
        ProducerKey { key, public }
    }

    /// The public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// Signs a block hash.
    pub fn sign_block(&self, hash: &Hash) -> [u8; 64] {
        self.key.sign(hash.as_bytes())
    }
}

/// Signatures verified together when the stored chain is checked on start.
const SIGNATURE_BATCH: usize = 1024;

fn unsigned(height: u64, hash: &Hash) -> NodeError {
    NodeError::Corrupt(format!(
        "block {hash} at height {height} does not carry the producer's signature"
    ))
}

/// Whether `header`'s witness holds `producer`'s signature over its hash (solo consensus).
pub fn witness_is_valid(header: &BlockHeader, producer: &[u8; 32]) -> bool {
    match header.witness() {
        Some([sig]) => crypto::ed25519::verify(producer, header.hash().as_bytes(), sig),
        _ => false,
    }
}

/// The sidechain coinbase of a block at `height`, as the reference's producer builds it: arbitrary
/// data `0x00 || decimal height`, one zero-value BTM output to the default coinbase program.
pub fn coinbase_tx(params: &ChainParams, height: u64) -> Result<Transaction, NodeError> {
    let mut arbitrary = vec![0u8];
    arbitrary.extend_from_slice(height.to_string().as_bytes());
    let data = TxData {
        version: 1,
        time_range: 0,
        inputs: vec![TxInput::new(InputKind::Coinbase(CoinbaseInput { arbitrary }))],
        outputs: vec![TxOutput::new(
            OutputKind::Control,
            AssetId::BTM,
            Amount::ZERO,
            vm::standard::default_coinbase_program(),
        )],
    };
    Transaction::new(params.profile, data).map_err(|e| NodeError::Internal(format!("coinbase: {e}")))
}

/// Solo consensus: every stored block after genesis carries the producer's signature over its hash.
/// Checked on start, in batches. A store imported from a snapshot starts after its base block (the
/// snapshot's commitment vouches for it; earlier blocks are not stored).
fn check_solo_signatures(
    snap: &storage::Snapshot,
    tip: Tip,
    producer_public: &[u8; 32],
) -> Result<(), NodeError> {
    let mut batch = crypto::ed25519::BatchVerifier::new();
    let mut batch_heights: Vec<u64> = Vec::new();
    for height in snap.base()?.saturating_add(1)..=tip.height {
        let hash = snap
            .block_hash(height)?
            .ok_or_else(|| NodeError::Corrupt(format!("no block at height {height}")))?;
        let header = snap
            .header(&hash)?
            .ok_or_else(|| NodeError::Corrupt(format!("no header for block {hash}")))?;
        if header.hash() != hash || header.height != height {
            return Err(NodeError::Corrupt(format!(
                "header of block {hash} does not match its index"
            )));
        }
        let Some([sig]) = header.witness() else {
            return Err(unsigned(height, &hash));
        };
        batch.queue(producer_public, hash.as_bytes(), sig);
        batch_heights.push(height);
        if batch.len() >= SIGNATURE_BATCH || height == tip.height {
            let full = std::mem::take(&mut batch);
            if let Err(e) = full.verify(rand_core::OsRng) {
                let h = e
                    .invalid
                    .first()
                    .and_then(|i| batch_heights.get(*i))
                    .copied()
                    .unwrap_or(height);
                let hash = snap.block_hash(h)?.unwrap_or_default();
                return Err(unsigned(h, &hash));
            }
            batch_heights.clear();
        }
    }
    Ok(())
}

/// A pool transaction dropped without being committed, and why (for status feeds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eviction {
    /// The dropped transaction.
    pub tx_id: Hash,
    /// Why, for humans.
    pub reason: String,
}

/// Mempool statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Ready transactions.
    pub txs: usize,
    /// Their bytes.
    pub bytes: u64,
    /// Orphans waiting for inputs.
    pub orphans: usize,
}

struct State {
    mempool: Mempool,
    tip: Tip,
    tip_header: BlockHeader,
}

/// The chain service. Share it behind an `Arc`; every method is synchronous (call the slow ones —
/// [`ChainService::submit`], [`ChainService::produce_block`] — from a blocking thread).
pub struct ChainService {
    store: RedbStore,
    params: ChainParams,
    authority: Authority,
    state: Mutex<State>,
    blocks: broadcast::Sender<Arc<Block>>,
    /// Connected and disconnected blocks, in order (reorgs included).
    chain_events: broadcast::Sender<ChainEvent>,
    evictions: broadcast::Sender<Eviction>,
    max_block_bytes: u64,
    max_block_gas: u64,
    metrics: Arc<Metrics>,
    /// The main chain's block tree, side branches and orphans (proof of work only).
    pow: Option<pow::PowState>,
    /// BBFT chains: the consensus ids of the stored blocks (`None` under other authorities).
    bbft: Option<BbftChain>,
    /// Transactions as the pool admits them (a BBFT host forwards them to the other validators).
    admitted: broadcast::Sender<Admitted>,
    /// Batch admission's own thread, one batch at a time: with the checks on every core, a flood of
    /// submissions starved block production and consensus (rounds stalled for seconds); callers
    /// wait instead, and the other core stays for blocks.
    admission: Mutex<rayon::ThreadPool>,
    /// The blocks committed last, with their hashes: the API, the wallet and the live feed read
    /// each new block right after its commit, and decoding it again from the store (every
    /// transaction's IDs hashed) cost more than the commit.
    recent: Mutex<VecDeque<(Hash, Arc<Block>)>>,
    /// The pool journal next to the store (`pool_journal`): every accepted transaction is in it
    /// before `submit` returns. `None` only while the journal is replayed on open.
    journal: Option<PoolJournal>,
}

impl std::fmt::Debug for ChainService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainService")
            .field("store", &self.store)
            .field("authority", &self.authority)
            .finish()
    }
}

/// Who may extend the chain, and what in a block proves it. Each kind of consensus is one variant;
/// the rest of the service (ledger validation, the pool, the store, the feeds) is shared.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Authority {
    /// One producer signs every block hash into the witness (the solo devnet).
    Solo {
        /// The producer's public key: every block after genesis carries its signature.
        producer_public: [u8; 32],
        /// The producer's key, if this node produces blocks.
        producer_key: Option<ProducerKey>,
    },
    /// Proof of work (the main chain): the heaviest valid branch wins (see [`pow`]).
    ProofOfWork(pow::PowAuthority),
    /// BBFT validators certify every block; a block is committed only once the consensus core
    /// finalizes it, and its finality certificate is stored in the witness (see `chain_bbft.rs`).
    Bbft {
        /// How the validator set of each epoch comes about: the genesis set, the DPoS elections
        /// (whose rounds are the epochs) and the node directory (`crate::elections`).
        setup: Arc<crate::elections::BbftSetup>,
    },
}

impl Authority {
    /// The solo producer's public key, if this chain has one.
    pub fn producer_public_key(&self) -> Option<[u8; 32]> {
        match self {
            Authority::Solo { producer_public, .. } => Some(*producer_public),
            Authority::ProofOfWork(_) => None,
            Authority::Bbft { .. } => None,
        }
    }
}

/// How a [`ChainService`] is set up.
#[derive(Debug, Clone)]
pub struct ChainSetup {
    /// Chain rules.
    pub params: ChainParams,
    /// The genesis block (committed if the store is empty, else checked against it).
    pub genesis: Block,
    /// Who extends the chain.
    pub authority: Authority,
    /// Pool limits.
    pub mempool: MempoolConfig,
    /// Block byte budget (capped by the chain's rule).
    pub max_block_bytes: u64,
    /// Block gas budget (capped by the chain's rule).
    pub max_block_gas: u64,
}

impl ChainService {
    /// Starts the service on `store`: commits genesis into an empty store, else checks that every
    /// stored block after genesis carries the producer's signature.
    pub fn open(store: RedbStore, setup: ChainSetup) -> Result<ChainService, NodeError> {
        let genesis_hash = setup.genesis.hash();
        if store.identity().genesis_hash != genesis_hash {
            return Err(NodeError::Config(format!(
                "the genesis block {genesis_hash} is not the store's genesis {}",
                store.identity().genesis_hash
            )));
        }
        if let Authority::Solo {
            producer_public,
            producer_key: Some(key),
        } = &setup.authority
            && key.public_key() != *producer_public
        {
            return Err(NodeError::Config(
                "the producer key file does not match the configured producer public key".into(),
            ));
        }
        let tip = match store.tip()? {
            Some(tip) => tip,
            None => {
                let changes = ledger::genesis_change_set(&setup.genesis);
                let tip = store.commit_block(&setup.genesis, &changes)?;
                tracing::info!(hash = %tip.hash, "committed the genesis block");
                tip
            }
        };
        let snap = store.snapshot()?;
        let mut bbft = None;
        match &setup.authority {
            Authority::Solo { producer_public, .. } => check_solo_signatures(&snap, tip, producer_public)?,
            Authority::ProofOfWork(_) => {}
            Authority::Bbft { setup: bbft_setup } => {
                bbft = Some(BbftChain::load(&snap, tip, &setup.genesis, bbft_setup)?);
            }
        }
        let pow_state = match &setup.authority {
            Authority::ProofOfWork(a) => Some(pow::PowState::open(&snap, tip, a, setup.mempool.clone())?),
            _ => None,
        };
        let tip_header = snap
            .header(&tip.hash)?
            .ok_or_else(|| NodeError::Corrupt(format!("no header for the tip {}", tip.hash)))?;
        drop(snap);
        tracing::info!(height = tip.height, hash = %tip.hash, "chain loaded");
        let (blocks, _) = broadcast::channel(256);
        let (evictions, _) = broadcast::channel(1024);
        let metrics = Arc::new(Metrics::new());
        metrics.set_height(tip.height);
        if let Some(b) = &bbft {
            let (epoch, size) = b.next_block_epoch();
            metrics.set_bbft_epoch(epoch, size);
        }
        match &setup.authority {
            Authority::Solo { .. } | Authority::Bbft { .. } => metrics.set_final_height(tip.height),
            Authority::ProofOfWork(_) => {
                metrics.set_final_height(tip.height.saturating_sub(pow::FINAL_DEPTH))
            }
        }
        let (chain_events, _) = broadcast::channel(256);
        let mut service = ChainService {
            metrics,
            chain_events,
            pow: pow_state,
            max_block_bytes: setup.max_block_bytes.min(setup.params.max_block_bytes),
            max_block_gas: setup.max_block_gas.min(setup.params.max_block_gas),
            store,
            params: setup.params,
            authority: setup.authority,
            state: Mutex::new(State {
                mempool: Mempool::new(setup.mempool),
                tip,
                tip_header,
            }),
            blocks,
            evictions,
            bbft,
            admitted: broadcast::channel(ADMITTED_BACKLOG).0,
            admission: Mutex::new(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .thread_name(|_| "admission".into())
                    .build()
                    .map_err(|e| NodeError::Internal(format!("cannot start the admission thread: {e}")))?,
            ),
            journal: None,
            recent: Mutex::new(VecDeque::new()),
        };
        // Proof of work: finish a reorg a kill interrupted (the store keeps both branches).
        service.resume_pow()?;
        service.open_journal()?;
        Ok(service)
    }

    /// Opens the pool journal next to the store, admits its transactions again through the normal
    /// path (those now on chain or no longer valid are dropped), then rewrites it to exactly the
    /// pool's content.
    fn open_journal(&mut self) -> Result<(), NodeError> {
        let path = pool_journal::journal_path(self.store.path());
        let started = std::time::Instant::now();
        let (mut kept, mut dropped) = (0usize, 0usize);
        // Replayed in batches (signatures checked in parallel batches), in journal order (parents
        // before children). `self.journal` is still `None`: nothing is journaled again meanwhile,
        // and as `Origin::Peer` nothing is forwarded again.
        let mut batch: Vec<Transaction> = Vec::new();
        let flush = |batch: &mut Vec<Transaction>, kept: &mut usize, dropped: &mut usize| {
            for r in self.submit_many(std::mem::take(batch), Origin::Peer, false) {
                match r {
                    Ok(_) => *kept += 1,
                    Err(e) => {
                        *dropped += 1;
                        tracing::debug!(error = %e, "a journaled transaction was not admitted again");
                    }
                }
            }
        };
        let journal = PoolJournal::open(&path, self.params.limits.max_tx_bytes, |raw| {
            match Transaction::decode(raw, self.params.profile, &self.params.limits) {
                Ok(tx) => batch.push(tx),
                Err(e) => {
                    dropped += 1;
                    tracing::debug!(error = %e, "an undecodable pool journal record was dropped");
                }
            }
            if batch.len() >= REPLAY_BATCH {
                flush(&mut batch, &mut kept, &mut dropped);
            }
        });
        flush(&mut batch, &mut kept, &mut dropped);
        let (journal, report) = journal.map_err(journal_error)?;
        self.journal = Some(journal);
        self.compact_journal().map_err(journal_error)?;
        if report.records > 0 {
            tracing::info!(
                records = report.records,
                kept,
                dropped,
                pool = self.pool_stats().txs,
                ms = started.elapsed().as_millis(),
                "pool journal replayed"
            );
        }
        Ok(())
    }

    /// Rewrites the pool journal to the pool's content (ready transactions parents first, then
    /// orphans), atomically. Runs on open and whenever the journal outgrows the pool
    /// ([`PoolJournal::needs_compaction`]); callable at any time.
    pub fn compact_journal(&self) -> Result<(), JournalError> {
        let Some(journal) = &self.journal else {
            return Ok(());
        };
        let before = journal.len();
        let rewrote = journal.rewrite(|| {
            // The pool's content is taken after the rewrite owns the file (see `pool_journal`);
            // encoded outside the chain lock.
            let txs = self.state().mempool.contents();
            txs.iter().map(|tx| tx.encode()).collect()
        })?;
        if rewrote {
            tracing::debug!(before, after = journal.len(), "pool journal compacted");
        }
        Ok(())
    }

    /// Makes accepted transactions durable: appends them to the pool journal and, with `sync`,
    /// `fsync`s it (shared with concurrent callers) before returning. A batch path calls it once per
    /// batch. Compacts the journal when it has outgrown the pool.
    fn journal_accepted(&self, txs: &[Arc<Transaction>], sync: bool) -> Result<(), SubmitError> {
        let Some(journal) = &self.journal else {
            return Ok(());
        };
        // The transactions keep their bytes (made here at the latest); no copy is needed.
        let refs: Vec<&[u8]> = txs.iter().map(|tx| tx.canonical_bytes()).collect();
        journal.append(&refs, sync)?;
        if journal.needs_compaction(self.pool_stats().bytes)
            && let Err(e) = self.compact_journal()
        {
            // The journal still holds everything; it is only larger than it needs to be.
            tracing::warn!(error = %e, "compacting the pool journal failed");
        }
        Ok(())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the pool half-updated in a way that matters
        // for safety (the store is the source of truth), so a poisoned lock is used as is.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps a just-committed block decoded for readers (called where a block is broadcast).
    pub(crate) fn remember_block(&self, block: &Arc<Block>) {
        let mut recent = self
            .recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        recent.push_back((block.hash(), Arc::clone(block)));
        trim_recent(
            &mut recent,
            |(_, b)| b.transactions().len(),
            RECENT_BLOCKS,
            RECENT_TXS,
        );
    }

    /// A stored block by hash: from the blocks committed last if it is one of them, else decoded
    /// from the store.
    pub fn block_by_hash(&self, hash: &Hash) -> Result<Option<Arc<Block>>, StoreError> {
        let cached = self
            .recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .rev()
            .find(|(h, _)| h == hash)
            .map(|(_, b)| Arc::clone(b));
        match cached {
            Some(b) => Ok(Some(b)),
            None => Ok(self.store.block(hash)?.map(Arc::new)),
        }
    }

    /// The stored block at `height` on the current chain ([`ChainService::block_by_hash`]).
    pub fn block_at(&self, height: u64) -> Result<Option<Arc<Block>>, StoreError> {
        match self.store.block_hash(height)? {
            Some(hash) => self.block_by_hash(&hash),
            None => Ok(None),
        }
    }

    /// The metrics registry (the network and consensus hosts add theirs to it).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The store (read side for APIs).
    pub fn store(&self) -> &RedbStore {
        &self.store
    }

    /// A read view of the store for a state snapshot, with the consensus state a snapshot of it
    /// must carry: a BBFT chain's election state after the view's tip (encoded,
    /// `consensus::dpos::ElectionState::encode`), nothing for other chains. Both are taken while
    /// commits wait, so they are of the same height. Export with
    /// `view.export_snapshot(out, &consensus_state)`.
    pub fn snapshot_view(&self) -> Result<(storage::Snapshot, Vec<u8>), StoreError> {
        let state = self.state();
        let view = self.store.snapshot()?;
        let consensus_state = self
            .bbft
            .as_ref()
            .map(|b| b.election_state().encode())
            .unwrap_or_default();
        drop(state);
        Ok((view, consensus_state))
    }

    /// Chain rules.
    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    /// Who extends the chain.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The solo producer's public key, if this chain has one.
    pub fn producer_public_key(&self) -> Option<[u8; 32]> {
        self.authority.producer_public_key()
    }

    /// Whether this node produces blocks under solo consensus.
    pub fn is_producing(&self) -> bool {
        matches!(
            self.authority,
            Authority::Solo {
                producer_key: Some(_),
                ..
            }
        )
    }

    /// The last committed block.
    pub fn tip(&self) -> Tip {
        self.state().tip
    }

    /// Pool statistics.
    pub fn pool_stats(&self) -> PoolStats {
        let s = self.state();
        PoolStats {
            txs: s.mempool.len(),
            bytes: s.mempool.bytes(),
            orphans: s.mempool.orphan_count(),
        }
    }

    /// Whether a transaction waits in the pool.
    pub fn in_pool(&self, tx_id: &Hash) -> bool {
        self.state().mempool.contains(tx_id)
    }

    /// Runs `f` on the pool, under the chain's lock (keep it short: submissions and commits wait):
    /// the BBFT host rebuilds a compact proposal from [`Mempool::transactions`] this way, without
    /// copying the pool.
    pub fn with_pool<R>(&self, f: impl FnOnce(&Mempool) -> R) -> R {
        f(&self.state().mempool)
    }

    /// New blocks, as they are committed.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Block>> {
        self.blocks.subscribe()
    }

    /// Connected and disconnected blocks, in chain order: a reorg sends the old branch's blocks as
    /// [`ChainEvent::Disconnected`] (tip first), then the new branch's as [`ChainEvent::Connected`].
    pub fn subscribe_chain(&self) -> broadcast::Receiver<ChainEvent> {
        self.chain_events.subscribe()
    }

    /// Pool transactions dropped without being committed (displaced by better-paying ones, refused
    /// by block validation, or beaten by a conflicting committed transaction), as they happen.
    pub fn subscribe_evictions(&self) -> broadcast::Receiver<Eviction> {
        self.evictions.subscribe()
    }

    /// Transactions as the pool admits them (ready or orphan), from any caller.
    pub fn subscribe_admitted(&self) -> broadcast::Receiver<Admitted> {
        self.admitted.subscribe()
    }

    fn report_evictions(&self, ids: &[Hash], reason: &str) {
        for id in ids {
            // No subscriber is not an error.
            let _ = self.evictions.send(Eviction {
                tx_id: *id,
                reason: reason.to_string(),
            });
        }
    }

    /// Checks a transaction (statelessly once, then against the chain plus the pool) and admits it.
    /// `Ok` (and a duplicate of a pool transaction) means accepted: the transaction is in the pool
    /// journal, on disk, and a restart after any crash puts it back in the pool (unless a block
    /// included it meanwhile).
    pub fn submit(&self, tx: Transaction) -> Result<Submitted, SubmitError> {
        let result = self.submit_counted(tx, true);
        self.metrics.submission(&result);
        result
    }

    fn submit_counted(&self, tx: Transaction, sync: bool) -> Result<Submitted, SubmitError> {
        let tx_id = tx.id();
        if self.store.tx_location(&tx_id)?.is_some() {
            return Err(SubmitError::AlreadyOnChain(tx_id));
        }
        // A full pool refuses what it could not take before the expensive checks.
        if let Some(e) = self
            .state()
            .mempool
            .full_for(tx.fee(), tx.serialized_size(), true)
        {
            return Err(e.into());
        }
        let next_height = self.tip().height.saturating_add(1);
        // The expensive part (signatures, programs) runs outside the lock.
        let tx = Arc::new(tx);
        let started = std::time::Instant::now();
        let checked = ledger::check_tx(Arc::clone(&tx), &self.params, next_height);
        self.metrics.tx_validated(started.elapsed());
        let checked = checked.map_err(SubmitError::Invalid)?;
        let mut state = self.state();
        let height = state.tip.height.saturating_add(1);
        let snap = self.store.snapshot()?;
        let admission = match state
            .mempool
            .insert(Arc::new(checked), &snap, height, &self.params)
        {
            Ok(admission) => admission,
            Err(e @ (MempoolError::Duplicate(_) | MempoolError::DuplicateOrphan(_))) => {
                drop(state);
                // Callers take a duplicate as accepted, but its first submitter may not have
                // journaled it yet: journal it here too (replay drops the second copy).
                self.journal_accepted(std::slice::from_ref(&tx), sync)?;
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        drop(state);
        tracing::debug!(%tx_id, ?admission, "transaction admitted");
        // Accepted means durable: journaled (and synced) before anyone hears of it.
        if let Err(e) = self.journal_accepted(std::slice::from_ref(&tx), sync) {
            let removed = self.state().mempool.remove_with_descendants(&tx_id);
            self.report_evictions(&removed, "dropped: the pool journal could not be written");
            return Err(e);
        }
        // No subscriber is not an error.
        let _ = self.admitted.send(Admitted {
            tx,
            origin: Origin::Local,
        });
        if let Admission::Accepted { evicted, .. } = &admission {
            self.report_evictions(
                evicted,
                "evicted from the full pool by a transaction paying a higher fee rate",
            );
        }
        Ok(Submitted { tx_id, admission })
    }

    /// Submits many transactions at once: the stateless checks (signatures, programs) of the
    /// whole batch run in parallel with the signatures verified in batches (the same answer per
    /// transaction as [`ChainService::submit`]; a failing batch is re-checked one by one), then the
    /// pool admits them in the order given under one lock. One result per transaction, in order;
    /// with `until_refused`, the pool admits none after the first refused one (a duplicate or a
    /// transaction already on chain is not a refusal) and the results stop at it.
    pub fn submit_many(
        &self,
        txs: Vec<Transaction>,
        origin: Origin,
        until_refused: bool,
    ) -> Vec<Result<Submitted, SubmitError>> {
        let results = self.submit_many_counted(txs, origin, until_refused);
        for r in &results {
            self.metrics.submission(r);
        }
        results
    }

    fn submit_many_counted(
        &self,
        txs: Vec<Transaction>,
        origin: Origin,
        until_refused: bool,
    ) -> Vec<Result<Submitted, SubmitError>> {
        let mut results: Vec<Option<Result<Submitted, SubmitError>>> = Vec::with_capacity(txs.len());
        let mut fresh: Vec<Arc<Transaction>> = Vec::with_capacity(txs.len());
        let mut fresh_at: Vec<usize> = Vec::with_capacity(txs.len());
        let mut duplicates = Vec::new();
        // Those the pool holds already are answered before any signature is checked: a client
        // resending a batch after a refusal resends what was admitted too.
        let held: Vec<Option<MempoolError>> = {
            let state = self.state();
            txs.iter().map(|tx| state.mempool.duplicate(&tx.id())).collect()
        };
        // One read transaction for the batch, not one per transaction.
        let on_chain = self.store.snapshot();
        for ((i, tx), held) in txs.into_iter().enumerate().zip(held) {
            let tx_id = tx.id();
            if let Some(e) = held {
                results.push(Some(Err(e.into())));
                duplicates.push(Arc::new(tx));
                continue;
            }
            // A transaction that spends an output cannot be on chain while that output is unspent:
            // if it is there, admission finds the output gone and the check after it (below) says so.
            // Skipping the index here saved a lookup per transaction that almost always misses.
            let location = if spends_an_output(&tx) {
                Ok(None)
            } else {
                match &on_chain {
                    Ok(snap) => snap.tx_location(&tx_id),
                    Err(_) => self.store.tx_location(&tx_id),
                }
            };
            match location {
                Ok(Some(_)) => results.push(Some(Err(SubmitError::AlreadyOnChain(tx_id)))),
                Err(e) => results.push(Some(Err(e.into()))),
                Ok(None) => {
                    results.push(None);
                    fresh.push(Arc::new(tx));
                    fresh_at.push(i);
                }
            }
        }
        // Checked and admitted chunk by chunk when the batch stops at a refusal, so that a refused
        // batch (a full pool, say) costs the signatures of one chunk past the refusal, not all.
        let chunk_len = if until_refused {
            REFUSAL_CHUNK
        } else {
            fresh.len().max(1)
        };
        let pending: Vec<(Arc<Transaction>, usize)> = fresh.into_iter().zip(fresh_at).collect();
        let mut admitted = Vec::with_capacity(pending.len());
        let mut evicted_all = Vec::new();
        // With `until_refused`, nothing after a refusal found before the checks is admitted.
        let mut stop = until_refused
            .then(|| {
                results
                    .iter()
                    .position(|r| matches!(r, Some(Err(e)) if e.is_refusal()))
            })
            .flatten();
        for chunk in pending.chunks(chunk_len) {
            if chunk.first().is_some_and(|(_, at)| stop.is_some_and(|s| *at > s)) {
                break;
            }
            // A full pool refuses what it could not take before any signature is checked: clients
            // of a saturated node resend refused batches, and checking them was wasted work.
            let chunk: Vec<(Arc<Transaction>, usize)> = {
                let state = self.state();
                let mut open = Vec::with_capacity(chunk.len());
                for (tx, at) in chunk {
                    match state
                        .mempool
                        .full_for(tx.fee(), tx.serialized_size(), origin == Origin::Local)
                    {
                        // One not looked up in the index above may be on chain already: say
                        // so rather than that the pool is full (not a refusal).
                        Some(_)
                            if spends_an_output(tx)
                                && matches!(
                                    on_chain.as_ref().map(|snap| snap.tx_location(&tx.id())),
                                    Ok(Ok(Some(_)))
                                ) =>
                        {
                            if let Some(slot) = results.get_mut(*at) {
                                *slot = Some(Err(SubmitError::AlreadyOnChain(tx.id())));
                            }
                        }
                        Some(e) => {
                            if until_refused && stop.is_none_or(|s| *at < s) {
                                stop = Some(*at);
                            }
                            if let Some(slot) = results.get_mut(*at) {
                                *slot = Some(Err(e.into()));
                            }
                        }
                        None => open.push((Arc::clone(tx), *at)),
                    }
                }
                open
            };
            let chunk = &chunk[..];
            if chunk.is_empty() {
                continue;
            }
            let txs: Vec<Arc<Transaction>> = chunk.iter().map(|(tx, _)| Arc::clone(tx)).collect();
            let admission = self
                .admission
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let next_height = self.tip().height.saturating_add(1);
            let started = std::time::Instant::now();
            let checked = admission.install(|| ledger::check_txs(&txs, &self.params, next_height));
            drop(admission);
            self.metrics
                .txs_validated(u64::try_from(txs.len()).unwrap_or(u64::MAX), started.elapsed());
            let mut state = self.state();
            let height = state.tip.height.saturating_add(1);
            let mut snap = Some(self.store.snapshot());
            for (checked, (tx, at)) in checked.into_iter().zip(chunk) {
                if stop.is_some_and(|s| *at > s) {
                    break;
                }
                let tx_id = tx.id();
                let r = match (snap.as_ref(), checked) {
                    (_, Err(e)) => Err(SubmitError::Invalid(e)),
                    (Some(Ok(snap)), Ok(c)) => {
                        match state.mempool.insert(Arc::new(c), snap, height, &self.params) {
                            // On chain already (a block holding it committed after the check
                            // above, or it spends an output and was not looked up): its inputs are
                            // gone because it spent them. Left as an orphan it would never be
                            // promoted, and would take a place in the orphan area until evicted.
                            Ok(Admission::Orphaned { .. }) | Err(MempoolError::UnknownInput { .. })
                                if matches!(snap.tx_location(&tx_id), Ok(Some(_))) =>
                            {
                                state.mempool.drop_orphan(&tx_id);
                                Err(SubmitError::AlreadyOnChain(tx_id))
                            }
                            Ok(admission) => {
                                if let Admission::Accepted { evicted, .. } = &admission {
                                    evicted_all.extend_from_slice(evicted);
                                }
                                admitted.push(Arc::clone(tx));
                                Ok(Submitted { tx_id, admission })
                            }
                            Err(e) => {
                                if matches!(e, MempoolError::Duplicate(_) | MempoolError::DuplicateOrphan(_))
                                {
                                    duplicates.push(Arc::clone(tx));
                                }
                                Err(SubmitError::from(e))
                            }
                        }
                    }
                    // The first transaction reports the store's error; the rest say it failed.
                    (Some(Err(_)), Ok(_)) => match snap.take() {
                        Some(Err(e)) => Err(SubmitError::Store(e)),
                        _ => Err(store_failed()),
                    },
                    (None, Ok(_)) => Err(store_failed()),
                };
                if until_refused && stop.is_none_or(|s| *at < s) && matches!(&r, Err(e) if e.is_refusal()) {
                    stop = Some(*at);
                }
                if let Some(slot) = results.get_mut(*at) {
                    *slot = Some(r);
                }
            }
        }
        if let Some(s) = stop {
            results.truncate(s.saturating_add(1));
        }
        // Accepted means durable: journaled before anyone hears of it, synced for local callers (a
        // peer holds its own copy). Duplicates too: their first submitter may not have journaled
        // them yet.
        let mut durable: Vec<Arc<Transaction>> = admitted.clone();
        durable.extend(duplicates);
        if let Err(e) = self.journal_accepted(&durable, origin == Origin::Local) {
            let reason = e.to_string();
            let mut first = Some(e);
            let mut removed = Vec::new();
            {
                let mut state = self.state();
                for tx in &admitted {
                    removed.extend(state.mempool.remove_with_descendants(&tx.id()));
                }
            }
            self.report_evictions(&removed, "dropped: the pool journal could not be written");
            let lost: HashSet<Hash> = durable.iter().map(|tx| tx.id()).collect();
            for r in &mut results {
                let id = match r {
                    Some(Ok(s)) => s.tx_id,
                    Some(Err(SubmitError::Mempool(
                        MempoolError::Duplicate(id) | MempoolError::DuplicateOrphan(id),
                    ))) => *id,
                    _ => continue,
                };
                if lost.contains(&id) {
                    *r = Some(Err(first.take().unwrap_or_else(|| {
                        SubmitError::Journal(JournalError::Batch(reason.clone()))
                    })));
                }
            }
            admitted.clear();
        }
        for tx in admitted {
            // No subscriber is not an error.
            let _ = self.admitted.send(Admitted { tx, origin });
        }
        self.report_evictions(
            &evicted_all,
            "evicted from the full pool by a transaction paying a higher fee rate",
        );
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(store_failed())))
            .collect()
    }

    /// Whether transactions wait for a block.
    pub fn has_pending(&self) -> bool {
        !self.state().mempool.is_empty()
    }

    /// Produces, validates, commits and broadcasts one block holding the best pool transactions.
    /// `now_ms` is the wall clock in milliseconds; the timestamp is at least one block interval after
    /// the parent's. Fails if this node has no producer key.
    pub fn produce_block(&self, now_ms: u64) -> Result<Arc<Block>, NodeError> {
        let Authority::Solo {
            producer_key: Some(key),
            ..
        } = &self.authority
        else {
            return Err(NodeError::Config("this node has no producer key".into()));
        };
        let mut state = self.state();
        let height = state.tip.height.saturating_add(1);
        let coinbase = coinbase_tx(&self.params, height)?;
        let budget_bytes = self.max_block_bytes.saturating_sub(coinbase.serialized_size());
        // A bad transaction found by block validation is dropped and the block rebuilt; after a
        // handful of attempts, or a refusal not tied to one transaction, an empty block, so that
        // production never stalls.
        let mut attempts = 0;
        let mut empty = false;
        loop {
            attempts += 1;
            let selected: Vec<Arc<CheckedTx>> = if empty || attempts > 8 {
                Vec::new()
            } else {
                state.mempool.select(budget_bytes, self.max_block_gas)
            };
            let block = self.build_block(&state, &coinbase, &selected, now_ms, key)?;
            let mut prechecked: Vec<Option<CheckedTx>> = Vec::with_capacity(selected.len() + 1);
            prechecked.push(None);
            prechecked.extend(selected.iter().map(|c| Some(CheckedTx::clone(c))));
            let snap = self.store.snapshot()?;
            let started = std::time::Instant::now();
            let validated =
                ledger::validate_block(&block, &state.tip_header, &snap, &self.params, &prechecked);
            self.metrics.block_validated(started.elapsed());
            match validated {
                Ok(changes) => {
                    drop(snap);
                    let tip = match self.store.commit_block(&block, &changes) {
                        Ok(tip) => tip,
                        // The store re-checks every spend and claim; if it refuses what the ledger
                        // accepted, the selection is at fault, not the disk. Rebuilding the same block
                        // would fail forever, so drop the selection and fall back to an empty block.
                        Err(StoreError::Inconsistent(reason)) if !selected.is_empty() => {
                            for c in &selected {
                                let removed = state.mempool.remove_with_descendants(&c.tx().id());
                                self.report_evictions(
                                    &removed,
                                    "dropped: the store refused the block holding it",
                                );
                            }
                            tracing::error!(%reason, dropped = selected.len(), "the store refused the block; dropped its transactions");
                            empty = true;
                            continue;
                        }
                        Err(e) => return Err(e.into()),
                    };
                    self.metrics.block_committed(&block, state.tip_header.timestamp);
                    if matches!(self.authority, Authority::Solo { .. }) {
                        self.metrics.set_final_height(tip.height);
                    }
                    let conflicts = state.mempool.remove_committed(block.transactions());
                    self.report_evictions(&conflicts, "conflicts with a transaction committed in a block");
                    state.tip = tip;
                    state.tip_header = block.header().clone();
                    drop(state);
                    tracing::info!(
                        height = tip.height,
                        hash = %tip.hash,
                        txs = block.transactions().len(),
                        dropped = conflicts.len(),
                        "block committed"
                    );
                    let block = Arc::new(block);
                    // No subscriber is not an error.
                    self.remember_block(&block);
                    let _ = self.blocks.send(block.clone());
                    let _ = self.chain_events.send(ChainEvent::Connected(block.clone()));
                    return Ok(block);
                }
                Err(BlockRejection::Tx { index, tx_id, reason }) if index > 0 && attempts <= 8 => {
                    let removed = state.mempool.remove_with_descendants(&tx_id);
                    self.report_evictions(&removed, &format!("refused by block validation: {reason}"));
                    tracing::warn!(%tx_id, %reason, removed = removed.len(), "dropped a pool transaction block validation refused");
                }
                Err(BlockRejection::View(e)) => {
                    return Err(NodeError::Store(StoreError::Inconsistent(e.to_string())));
                }
                Err(e) if !selected.is_empty() => {
                    tracing::error!(error = %e, "block validation refused the selection; producing an empty block");
                    empty = true;
                }
                Err(e) => return Err(NodeError::OwnBlockInvalid(e)),
            }
        }
    }

    fn build_block(
        &self,
        state: &State,
        coinbase: &Transaction,
        selected: &[Arc<CheckedTx>],
        now_ms: u64,
        key: &ProducerKey,
    ) -> Result<Block, NodeError> {
        let parent = &state.tip_header;
        let mut txs = Vec::with_capacity(selected.len() + 1);
        txs.push(coinbase.clone());
        txs.extend(selected.iter().map(|c| Transaction::clone(c.tx())));
        let ids: Vec<Hash> = txs.iter().map(Transaction::id).collect();
        let statuses = vec![false; txs.len()];
        let timestamp = now_ms.max(parent.timestamp.saturating_add(self.params.block_time_interval));
        let mut header = BlockHeader {
            version: 1,
            height: state.tip.height.saturating_add(1),
            previous_block_hash: state.tip.hash,
            timestamp,
            transactions_merkle_root: types::merkle::tx_merkle_root(&ids),
            transaction_status_hash: types::merkle::status_merkle_root(&statuses),
            commitment_suffix: Vec::new(),
            consensus: HeaderConsensus::Witness {
                witness: Vec::new(),
                suffix: Vec::new(),
            },
        };
        let sig = key.sign_block(&header.hash());
        header.consensus = HeaderConsensus::Witness {
            witness: vec![sig.to_vec()],
            suffix: Vec::new(),
        };
        Block::new(header, txs).map_err(|e| NodeError::Internal(format!("building a block: {e}")))
    }
}

fn journal_error(e: JournalError) -> NodeError {
    match e {
        JournalError::Io { what, path, source } => NodeError::Io {
            what: format!("pool journal: {what} {}", path.display()),
            source,
        },
        other => NodeError::Internal(format!("pool journal: {other}")),
    }
}

#[cfg(test)]
mod recent_tests {
    use std::collections::VecDeque;

    use super::trim_recent;

    /// Blocks given by their transaction counts, oldest first.
    fn trimmed(counts: &[usize], max_blocks: usize, max_txs: usize) -> Vec<usize> {
        let mut recent: VecDeque<usize> = counts.iter().copied().collect();
        trim_recent(&mut recent, |n| *n, max_blocks, max_txs);
        recent.into_iter().collect()
    }

    #[test]
    fn the_kept_blocks_are_bounded_by_count_and_by_older_transactions() {
        // Small blocks: only the count bounds them.
        assert_eq!(trimmed(&[1, 2, 3, 4, 5], 3, 100), vec![3, 4, 5]);
        assert_eq!(trimmed(&[1, 2, 3], 3, 100), vec![1, 2, 3]);
        // Large blocks: the blocks before the newest hold at most `max_txs`.
        assert_eq!(trimmed(&[50, 50, 50, 50, 50], 32, 100), vec![50, 50, 50]);
        assert_eq!(trimmed(&[60, 50, 50, 10], 32, 100), vec![50, 50, 10]);
        assert_eq!(trimmed(&[40, 30, 30, 10], 32, 100), vec![40, 30, 30, 10]);
        // The newest stays however large it is, and so does one older block that fits.
        assert_eq!(trimmed(&[10, 500], 32, 100), vec![10, 500]);
        assert_eq!(trimmed(&[101, 500], 32, 100), vec![500]);
        assert_eq!(trimmed(&[500], 1, 0), vec![500]);
        assert_eq!(trimmed(&[], 32, 100), Vec::<usize>::new());
    }
}

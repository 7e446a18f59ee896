//! The main chain (proof of work) path of the chain service: importing blocks from anywhere (this
//! node's miner, `submit-work`, later peers), the block tree with side branches and orphans,
//! reorganisations of the store, block templates and mining.
//!
//! # How a block is imported
//! 1. The body is checked against the header (transaction and status Merkle roots, a coinbase first
//!    and only there, size): a mismatch is [`ImportError::Malformed`] and nothing is remembered, so
//!    the honest block with the same header can still come.
//! 2. A block whose parent is unknown waits in a bounded orphan area ([`MAX_ORPHAN_BLOCKS`], oldest
//!    dropped first) and is imported when the parent arrives.
//! 3. Its header is validated against the parent's context ([`pow::validate::validate_header`]:
//!    version, height, bits from the retarget, parent hash, timestamp against the clock and the
//!    median time past, proof of work under the parent's seed), then it joins the fork choice
//!    ([`consensus::forkchoice::ForkChoice`], heaviest cumulative work, first seen on ties). A block
//!    not extending the stored tip is written to the store's side-block table first; bodies are also
//!    cached in memory ([`MAX_SIDE_BLOCKS`]).
//! 4. When the heaviest tip is not the store's tip, the store is moved there: every body of the new
//!    branch is gathered first (a missing one sets the branch aside, never marks it invalid) and the
//!    branch is made durable, then blocks are unwound down to the fork point
//!    ([`storage::StoreWrite::unwind_tip`], which keeps each body in the side-block table), then the
//!    new branch's blocks are validated by [`ledger::validate_block`] and committed one by one. A
//!    block that fails is marked invalid with its descendants, the fork choice is rebuilt without
//!    them, and the store moves to the heaviest remaining tip (the old branch, unless another is
//!    heavier). A block that fails validation is never committed. A kill anywhere in a reorg leaves
//!    both branches in the store, and [`ChainService::open`] finishes the move on start.
//! 5. The pool follows: committed transactions leave it (conflicting ones are reported on the
//!    eviction feed); after a reorg the disconnected blocks' transactions are checked again and put
//!    back (even when the reorg failed half-way), followed by the transactions the pool held, and
//!    whatever no longer fits is reported on the eviction feed.
//!
//! Subscribers of [`ChainService::subscribe_chain`] see every disconnected block (tip first) then
//! every connected block, in order; [`ChainService::subscribe`] still sees connected blocks only.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use consensus::forkchoice::{BlockMeta, ForkChoice, ForkChoiceConfig};
use ledger::{BlockRejection, ChainParams, CheckedTx};
use pow::PowParams;
use pow::miner::{MAX_NONCE, MineOutcome, MinerConfig};
use pow::validate::{HeaderContext, HeaderError, PowFunction, Tensority};
use storage::{Snapshot, StoreError, StoreRead, StoreWrite, Tip};
use types::amount::Amount;
use types::asset::AssetId;
use types::block::HeaderConsensus;
use types::difficulty::BigUint;
use types::profile::Profile;
use types::tx::{CoinbaseInput, InputKind, OutputKind, TxData, TxInput, TxOutput};
use types::{Block, BlockHeader, Hash, Transaction};

use super::{Authority, ChainService, State};
use crate::mempool::{Admission, Mempool};
use crate::{MempoolConfig, NodeError};

/// Blocks deeper than this below the tip are forgotten by the fork choice (a reorg cannot reach
/// below them; a block building on one waits as an orphan until dropped).
pub const KEEP_DEPTH: u64 = 2_048;
/// Bodies of blocks not on the best chain (side branches, blocks just disconnected) cached in memory;
/// past it the oldest is dropped from memory (the store's side-block table still holds it).
pub const MAX_SIDE_BLOCKS: usize = 512;
/// Blocks waiting for their parent; past it the oldest is dropped.
pub const MAX_ORPHAN_BLOCKS: usize = 64;
/// Block templates remembered for `submit-work` on the current tip (all are dropped when the tip
/// moves). A `get-work` whose transactions are those of a remembered template replaces it (only the
/// timestamp is fresher) instead of taking a new slot, so polling alone never evicts work; past the
/// bound (the pool changed this many times on one tip) the oldest is dropped.
pub const MAX_TEMPLATES: usize = 64;
/// Confirmations after which a main-chain block is reported final by the feeds (a reorg deeper than
/// this is possible but not expected).
pub const FINAL_DEPTH: u64 = 6;

/// The proof-of-work function a node uses, shareable between threads: Tensority in production,
/// something cheap in tests.
#[derive(Clone)]
pub struct PowEngine(Arc<dyn PowFunction + Send + Sync>);

impl PowEngine {
    /// Tensority, keeping the caches of the last two seeds.
    pub fn tensority() -> PowEngine {
        PowEngine(Arc::new(Tensority::default()))
    }

    /// Any proof-of-work function (tests use a cheap one).
    pub fn new(f: impl PowFunction + Send + 'static) -> PowEngine {
        PowEngine(Arc::new(f))
    }
}

impl std::fmt::Debug for PowEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PowEngine")
    }
}

impl PowFunction for PowEngine {
    fn result(&self, block_hash: &Hash, seed: &Hash) -> Hash {
        self.0.result(block_hash, seed)
    }

    fn result_single_threaded(&self, block_hash: &Hash, seed: &Hash) -> Hash {
        self.0.result_single_threaded(block_hash, seed)
    }
}

/// Proof-of-work consensus: the network's rules, the hash function and where this node's block
/// rewards go.
#[derive(Debug, Clone)]
pub struct PowAuthority {
    /// Retarget, timestamp and version rules.
    pub params: PowParams,
    /// The proof-of-work function.
    pub pow: PowEngine,
    /// The control program this node's block templates pay the subsidy and fees to (mining and
    /// `get-work`).
    pub coinbase_program: Vec<u8>,
}

/// A block connected to or disconnected from the committed chain.
#[derive(Debug, Clone)]
pub enum ChainEvent {
    /// The block was committed on top of the tip.
    Connected(Arc<Block>),
    /// The block was the tip and was taken back out (a reorg): its transactions are no longer on chain.
    Disconnected(Arc<Block>),
}

/// Where an imported block went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    /// It is on the best chain now (the tip or below it, after a reorg perhaps).
    BestChain,
    /// It is valid so far but its branch is lighter: kept as a side branch.
    SideBranch,
    /// Its parent is unknown: it waits for it.
    Orphan,
    /// It was imported before.
    Duplicate,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    /// The block's hash.
    pub hash: Hash,
    /// Where it went.
    pub status: ImportStatus,
    /// The committed tip afterwards.
    pub tip: Tip,
    /// Blocks disconnected from the committed chain by this import (a reorg).
    pub disconnected: usize,
    /// Blocks committed by this import (this block, orphans it connected, a new branch).
    pub connected: usize,
}

/// Why a block was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// This chain is not a proof-of-work chain.
    #[error("this chain does not run proof of work")]
    NotPow,
    /// A sidechain block, or a block the chain's rules cannot hold.
    #[error("malformed block: {0}")]
    Malformed(String),
    /// The header breaks a rule.
    #[error("invalid block header: {0}")]
    Header(#[from] HeaderError),
    /// The block was found invalid before.
    #[error("block {0} is known to be invalid")]
    KnownInvalid(Hash),
    /// The block builds on an invalid block.
    #[error("block {hash} builds on the invalid block {parent}")]
    InvalidParent {
        /// The block.
        hash: Hash,
        /// Its invalid parent.
        parent: Hash,
    },
    /// The block is at or below the oldest block the fork choice still knows.
    #[error("block at height {height} is too deep below the tip (oldest known height {root_height})")]
    TooOld {
        /// Its height.
        height: u64,
        /// The fork choice's root height.
        root_height: u64,
    },
    /// `get-work` on a node with no payout configured (mainnet without `mining.address`): a template
    /// would pay the rewards to a program anyone can spend.
    #[error(
        "this node has no payout configured (set mining.address or mining.control_program): no work is given"
    )]
    NoPayout,
    /// The block became the heaviest tip but its transactions are invalid: refused, old tip kept.
    #[error("invalid block: {0}")]
    Invalid(Box<BlockRejection>),
    /// The node failed (store, corrupt data).
    #[error("{0}")]
    Node(#[from] NodeError),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> ImportError {
        ImportError::Node(NodeError::Store(e))
    }
}

impl ImportError {
    /// Whether the block is at fault (not the node).
    pub fn is_block_fault(&self) -> bool {
        !matches!(
            self,
            ImportError::Node(_) | ImportError::NotPow | ImportError::NoPayout
        )
    }
}

/// Why submitted work was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkError {
    /// No template with the submitted parent (the tip moved on, or no `get-work` was asked).
    #[error("pending mining block has been changed")]
    Stale,
    /// The block is an orphan (cannot happen for a fresh template; kept for the reference's shape).
    #[error("submit result is orphan")]
    Orphan,
    /// The submitted header does not match the template's commitments.
    #[error("the submitted header does not match the template: {0}")]
    Mismatch(&'static str),
    /// The block was refused.
    #[error("{0}")]
    Import(Box<ImportError>),
}

impl From<ImportError> for WorkError {
    fn from(e: ImportError) -> WorkError {
        WorkError::Import(Box::new(e))
    }
}

/// A block template: a block with every field set but the nonce, and the seed its proof of work uses.
#[derive(Debug, Clone)]
pub struct Template {
    /// The block (nonce 0).
    pub block: Block,
    /// The seed of its height.
    pub seed: Hash,
}

/// What moving the store to the heaviest tip did.
struct Synced {
    /// Blocks no longer on chain.
    disconnected: usize,
    /// Blocks committed.
    connected: usize,
    /// The first block validation refused, if any.
    rejected: Option<BlockRejection>,
}

/// What a move of the store has done so far.
#[derive(Default)]
struct SyncRun {
    /// Blocks unwound, in order (tip first).
    disconnected: Vec<Arc<Block>>,
    /// Blocks committed.
    connected: usize,
    /// The first block validation refused, if any.
    rejected: Option<BlockRejection>,
}

/// What the service knows of a block in the tree.
#[derive(Debug, Clone)]
struct Known {
    ctx: HeaderContext,
    parent: Hash,
    seq: u64,
}

struct PowInner {
    fork: ForkChoice,
    known: HashMap<Hash, Known>,
    root: Hash,
    root_height: u64,
    root_work: BigUint,
    seq: u64,
    side: HashMap<Hash, Arc<Block>>,
    side_order: VecDeque<Hash>,
    /// How many bodies `side` holds (default [`MAX_SIDE_BLOCKS`]).
    side_limit: usize,
    orphans: HashMap<Hash, Arc<Block>>,
    orphan_order: VecDeque<Hash>,
    invalid: HashSet<Hash>,
    templates: VecDeque<Template>,
}

/// The proof-of-work part of the chain service's state (under its own lock, taken before the
/// service's state lock).
pub(crate) struct PowState {
    inner: Mutex<PowInner>,
    mempool_config: MempoolConfig,
}

fn fc_config() -> ForkChoiceConfig {
    // Orphans are held here (bodies, validated when their parent arrives), not in the fork choice.
    ForkChoiceConfig { max_orphans: 0 }
}

fn corrupt(what: String) -> NodeError {
    NodeError::Corrupt(what)
}

fn meta(hash: Hash, parent: Hash, ctx: &HeaderContext) -> BlockMeta {
    BlockMeta {
        hash,
        parent,
        height: ctx.info.height,
        bits: ctx.info.bits,
    }
}

impl PowState {
    /// Loads the committed chain into a fresh block tree.
    pub(crate) fn open(
        snap: &Snapshot,
        tip: Tip,
        authority: &PowAuthority,
        mempool_config: MempoolConfig,
    ) -> Result<PowState, NodeError> {
        let params = &authority.params;
        let base = snap.base()?;
        if base > 0 {
            // The snapshot format carries the state, not what the block tree needs at its base (the
            // last timestamps, the retarget period's start, the seed, the cumulative work).
            return Err(NodeError::Config(format!(
                "this main-chain store was imported from a snapshot (base height {base}): a proof-of-work \
                 node cannot start from a snapshot yet; sync the main chain from genesis instead"
            )));
        }
        let genesis_hash = snap
            .block_hash(0)?
            .ok_or_else(|| corrupt("no genesis block".into()))?;
        let genesis = snap
            .header(&genesis_hash)?
            .ok_or_else(|| corrupt(format!("no header for genesis {genesis_hash}")))?;
        let ctx = HeaderContext::genesis(params, &genesis)
            .map_err(|e| NodeError::Config(format!("the genesis block is not a main-chain block: {e}")))?;
        let mut fork = ForkChoice::from_genesis(genesis_hash, ctx.info.bits, fc_config());
        let root_work = fork.total_work(&genesis_hash).cloned().unwrap_or_default();
        let mut known = HashMap::new();
        known.insert(
            genesis_hash,
            Known {
                ctx: ctx.clone(),
                parent: Hash::ZERO,
                seq: 0,
            },
        );
        let mut parent_ctx = ctx;
        let mut parent_hash = genesis_hash;
        for height in 1..=tip.height {
            let hash = snap
                .block_hash(height)?
                .ok_or_else(|| corrupt(format!("no block at height {height}")))?;
            let header = snap
                .header(&hash)?
                .ok_or_else(|| corrupt(format!("no header for block {hash}")))?;
            if header.previous_block_hash != parent_hash {
                return Err(corrupt(format!(
                    "block {hash} does not follow the block below it"
                )));
            }
            let ctx = parent_ctx
                .child(params, &header)
                .map_err(|e| corrupt(format!("block {hash} is not a main-chain block: {e}")))?;
            let _ = fork
                .insert(meta(hash, parent_hash, &ctx))
                .map_err(|e| corrupt(format!("stored block {hash}: {e}")))?;
            known.insert(
                hash,
                Known {
                    ctx: ctx.clone(),
                    parent: parent_hash,
                    seq: height,
                },
            );
            parent_ctx = ctx;
            parent_hash = hash;
        }
        if fork.tip() != tip.hash {
            return Err(corrupt("the stored chain does not end at the stored tip".into()));
        }
        // Blocks off the stored chain (side branches, blocks a reorg unwound, perhaps one a kill
        // interrupted): back into the tree, parents first; their bodies stay in the store.
        let mut seq = tip.height.saturating_add(1);
        // One body at a time: only the header is kept.
        for (_, hash) in snap.side_block_ids()? {
            if known.contains_key(&hash) {
                continue;
            }
            let Some(block) = snap.side_block(&hash)? else {
                continue;
            };
            let parent = block.header().previous_block_hash;
            let Some(parent_ctx) = known.get(&parent).map(|k| k.ctx.clone()) else {
                tracing::debug!(%hash, "a stored side block whose parent is not known; left out");
                continue;
            };
            let Ok(ctx) = parent_ctx.child(params, block.header()) else {
                tracing::warn!(%hash, "a stored side block is not a main-chain block; left out");
                continue;
            };
            if fork.insert(meta(hash, parent, &ctx)).is_err() {
                continue;
            }
            known.insert(hash, Known { ctx, parent, seq });
            seq = seq.saturating_add(1);
        }
        let mut inner = PowInner {
            fork,
            known,
            root: genesis_hash,
            root_height: 0,
            root_work,
            seq,
            side: HashMap::new(),
            side_order: VecDeque::new(),
            side_limit: MAX_SIDE_BLOCKS,
            orphans: HashMap::new(),
            orphan_order: VecDeque::new(),
            invalid: HashSet::new(),
            templates: VecDeque::new(),
        };
        let _ = inner.prune();
        Ok(PowState {
            inner: Mutex::new(inner),
            mempool_config,
        })
    }

    fn lock(&self) -> MutexGuard<'_, PowInner> {
        // Every update keeps the tree consistent with itself; the store is the source of truth.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl PowInner {
    fn side_insert(&mut self, block: Arc<Block>) {
        let hash = block.hash();
        if self.side.insert(hash, block).is_none() {
            self.side_order.push_back(hash);
        }
        while self.side.len() > self.side_limit {
            let Some(old) = self.side_order.pop_front() else {
                break;
            };
            if self.side.remove(&old).is_some() {
                tracing::debug!(hash = %old, "dropped a side-branch block body (cache full)");
            }
        }
    }

    fn side_remove(&mut self, hash: &Hash) {
        if self.side.remove(hash).is_some() {
            self.side_order.retain(|h| h != hash);
        }
    }

    fn add_orphan(&mut self, block: Arc<Block>) {
        let hash = block.hash();
        if self.orphans.insert(hash, block).is_none() {
            self.orphan_order.push_back(hash);
        }
        while self.orphans.len() > MAX_ORPHAN_BLOCKS {
            let Some(old) = self.orphan_order.pop_front() else {
                break;
            };
            self.orphans.remove(&old);
            tracing::debug!(hash = %old, "dropped an orphan block (orphan area full)");
        }
    }

    fn take_orphans_of(&mut self, parent: &Hash) -> Vec<Arc<Block>> {
        let ids: Vec<Hash> = self
            .orphans
            .iter()
            .filter(|(_, b)| b.header().previous_block_hash == *parent)
            .map(|(h, _)| *h)
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(b) = self.orphans.remove(&id) {
                out.push(b);
            }
        }
        if !out.is_empty() {
            self.orphan_order.retain(|h| self.orphans.contains_key(h));
        }
        out
    }

    /// The blocks to unwind (newest first) and apply (oldest first) to go from `from` to `to`.
    fn path(&self, from: Hash, to: Hash) -> Result<(Vec<Hash>, Vec<Hash>), NodeError> {
        let node = |h: &Hash| {
            self.known
                .get(h)
                .ok_or_else(|| corrupt(format!("block {h} is not in the block tree")))
        };
        let (mut a, mut b) = (from, to);
        let (mut unwind, mut apply) = (Vec::new(), Vec::new());
        while a != b {
            let (na, nb) = (node(&a)?, node(&b)?);
            if na.ctx.info.height >= nb.ctx.info.height {
                if a == self.root {
                    return Err(corrupt("a reorg path reaches below the tree's root".into()));
                }
                unwind.push(a);
                a = na.parent;
            } else {
                apply.push(b);
                b = nb.parent;
            }
        }
        apply.reverse();
        Ok((unwind, apply))
    }

    /// Marks `hash` and every known descendant invalid and forgets them; returns them.
    fn mark_invalid(&mut self, hash: Hash) -> Vec<Hash> {
        let bad = self.forget_branch(hash);
        self.invalid.extend(bad.iter().copied());
        bad
    }

    /// Forgets `hash` and every known descendant (not marking them invalid: they can be imported
    /// again); returns them.
    fn forget_branch(&mut self, hash: Hash) -> Vec<Hash> {
        let mut bad: HashSet<Hash> = HashSet::from([hash]);
        let mut by_height: Vec<(u64, Hash, Hash)> = self
            .known
            .iter()
            .map(|(h, k)| (k.ctx.info.height, *h, k.parent))
            .collect();
        by_height.sort_unstable();
        for (_, h, parent) in by_height {
            if bad.contains(&parent) {
                bad.insert(h);
            }
        }
        for h in &bad {
            self.known.remove(h);
            self.side_remove(h);
        }
        self.rebuild_fork_choice();
        bad.into_iter().collect()
    }

    /// A fresh fork choice over the known blocks, inserted in arrival order (so ties resolve as before).
    fn rebuild_fork_choice(&mut self) {
        let mut fork = ForkChoice::new(self.root, self.root_height, self.root_work.clone(), fc_config());
        let mut order: Vec<(u64, Hash)> = self
            .known
            .iter()
            .filter(|(h, _)| **h != self.root)
            .map(|(h, k)| (k.seq, *h))
            .collect();
        order.sort_unstable();
        for (_, h) in order {
            if let Some(k) = self.known.get(&h) {
                // Parents arrive before children, so every block connects; an error is impossible.
                if let Err(e) = fork.insert(meta(h, k.parent, &k.ctx)) {
                    tracing::error!(error = %e, "rebuilding the fork choice");
                }
            }
        }
        self.fork = fork;
    }

    /// Forgets blocks more than [`KEEP_DEPTH`] below the tip (done in steps of 64 blocks); returns
    /// whether the root moved.
    fn prune(&mut self) -> bool {
        if self.fork.tip_height() < self.root_height.saturating_add(KEEP_DEPTH + 64) {
            return false;
        }
        let root_height = self.fork.tip_height().saturating_sub(KEEP_DEPTH);
        let Some(root) = self.fork.ancestor_at(self.fork.tip(), root_height) else {
            return false;
        };
        self.fork.prune(KEEP_DEPTH);
        self.root = root;
        self.root_height = root_height;
        self.root_work = self.fork.total_work(&root).cloned().unwrap_or_default();
        let fork = &self.fork;
        self.known.retain(|h, _| fork.contains(h));
        let known = &self.known;
        self.side.retain(|h, _| known.contains_key(h));
        self.side_order.retain(|h| known.contains_key(h));
        let min = root_height;
        self.orphans.retain(|_, b| b.header().height > min);
        let orphans = &self.orphans;
        self.orphan_order.retain(|h| orphans.contains_key(h));
        true
    }
}

/// The main chain's coinbase at `height` as Bytom v1.1.0's miner builds it: one coinbase input with
/// arbitrary data `0x00 || decimal height`, one BTM output of the block subsidy plus `fees` to
/// `program`.
pub fn main_coinbase_tx(
    params: &ChainParams,
    height: u64,
    fees: u64,
    program: &[u8],
) -> Result<Transaction, NodeError> {
    let subsidy = params
        .block_subsidy(height)
        .ok_or_else(|| NodeError::Config("the chain has no block subsidy (not a main chain)".into()))?;
    let total = subsidy
        .checked_add(fees)
        .and_then(|t| Amount::new(t).ok())
        .ok_or_else(|| NodeError::Internal("coinbase amount overflows".into()))?;
    let mut arbitrary = vec![0u8];
    arbitrary.extend_from_slice(height.to_string().as_bytes());
    let data = TxData {
        version: 1,
        time_range: 0,
        inputs: vec![TxInput::new(InputKind::Coinbase(CoinbaseInput { arbitrary }))],
        outputs: vec![TxOutput::new(
            OutputKind::Control,
            AssetId::BTM,
            total,
            program.to_vec(),
        )],
    };
    Transaction::new(Profile::Main, data).map_err(|e| NodeError::Internal(format!("coinbase: {e}")))
}

/// The checks that tie a body to its header and need nothing else (the transaction and status
/// Merkle roots, a coinbase first, the size): a block failing them is malformed as received, and
/// says nothing about its header, which may well be an honest block's.
fn check_body(block: &Block, params: &ChainParams) -> Result<(), ImportError> {
    let h = block.header();
    let txs = block.transactions();
    if !txs.first().is_some_and(Transaction::is_coinbase) {
        return Err(ImportError::Malformed(
            "the block's first transaction is not a coinbase (or it has none)".into(),
        ));
    }
    if txs.iter().skip(1).any(Transaction::is_coinbase) {
        return Err(ImportError::Malformed(
            "a coinbase after the first transaction".into(),
        ));
    }
    let size = txs
        .iter()
        .fold(0u64, |a, t| a.saturating_add(t.serialized_size()));
    if size > params.max_block_bytes {
        return Err(ImportError::Malformed(format!(
            "the block's transactions take {size} bytes, more than {}",
            params.max_block_bytes
        )));
    }
    if block.compute_transactions_merkle_root() != h.transactions_merkle_root {
        return Err(ImportError::Malformed(
            "the transactions do not match the header's Merkle root".into(),
        ));
    }
    if types::merkle::status_merkle_root(&vec![false; txs.len()]) != h.transaction_status_hash {
        return Err(ImportError::Malformed(
            "the transaction statuses do not match the header's status root".into(),
        ));
    }
    Ok(())
}

fn never_valid(missing: &Hash) -> String {
    format!("after a reorg it spends {missing}, which the new branch spent or never created")
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl ChainService {
    fn pow_parts(&self) -> Result<(&PowAuthority, &PowState), ImportError> {
        match (&self.authority, &self.pow) {
            (Authority::ProofOfWork(a), Some(s)) => Ok((a, s)),
            _ => Err(ImportError::NotPow),
        }
    }

    /// Whether this is a proof-of-work chain.
    pub fn is_pow(&self) -> bool {
        self.pow.is_some()
    }

    /// How many blocks must follow a block before the feeds call it final: 0 when a committed block
    /// cannot be reverted (solo consensus), [`FINAL_DEPTH`] on a proof-of-work chain.
    pub fn final_depth(&self) -> u64 {
        if self.pow.is_some() { FINAL_DEPTH } else { 0 }
    }

    /// A block the node knows: committed, kept off the chain in the store (a side branch, a block
    /// disconnected by a reorg; these survive a restart) or held in memory (an orphan).
    pub fn known_block(&self, hash: &Hash) -> Result<Option<Arc<Block>>, StoreError> {
        if let Some(b) = self.store.block(hash)? {
            return Ok(Some(Arc::new(b)));
        }
        let Some(state) = &self.pow else {
            return Ok(None);
        };
        {
            let inner = state.lock();
            if let Some(b) = inner.side.get(hash).or_else(|| inner.orphans.get(hash)) {
                return Ok(Some(b.clone()));
            }
        }
        Ok(self.store.side_block(hash)?.map(Arc::new))
    }

    /// Sets how many side-branch block bodies are held in memory (default [`MAX_SIDE_BLOCKS`], at least
    /// 1): a memory bound only, since every body off the chain is also in the store (tests use a
    /// small one). No-op on other chains.
    pub fn set_side_cache_limit(&self, limit: usize) {
        if let Some(s) = &self.pow {
            let mut inner = s.lock();
            inner.side_limit = limit.max(1);
            let keep = inner.side_limit;
            while inner.side.len() > keep {
                let Some(old) = inner.side_order.pop_front() else {
                    break;
                };
                inner.side.remove(&old);
            }
        }
    }

    /// Orphan blocks held and side-branch block bodies held in memory (proof of work; zeros
    /// otherwise).
    pub fn block_cache_stats(&self) -> (usize, usize) {
        self.pow.as_ref().map_or((0, 0), |s| {
            let inner = s.lock();
            (inner.orphans.len(), inner.side.len())
        })
    }

    /// At start (proof of work): moves the store to the heaviest valid branch the block tree holds,
    /// which differs from the stored tip only when a reorg was interrupted (a kill, a store error)
    /// or a stored side branch is heavier; then drops stored side blocks too deep to matter.
    pub(crate) fn resume_pow(&self) -> Result<(), NodeError> {
        let Some(ps) = &self.pow else {
            return Ok(());
        };
        let mut inner = ps.lock();
        if inner.fork.tip() != self.tip().hash {
            tracing::info!(
                stored = %self.tip().hash,
                best = %inner.fork.tip(),
                "the stored chain is not the heaviest branch held (a reorg was interrupted); moving to it"
            );
            let synced = self.sync_to_best(&mut inner, ps).map_err(|e| match e {
                ImportError::Node(n) => n,
                other => NodeError::Internal(format!("resuming a reorg: {other}")),
            })?;
            if let Some(r) = synced.rejected {
                tracing::warn!(error = %r, "a stored side block is invalid; left out");
            }
        }
        let _ = inner.prune();
        self.prune_side_store(&inner);
        Ok(())
    }

    /// Drops stored side blocks at or below the tree's root (no reorg can reach them).
    fn prune_side_store(&self, inner: &PowInner) {
        if inner.root_height == 0 {
            return;
        }
        match self.store.remove_side_blocks(&[], Some(inner.root_height)) {
            Ok(0) => {}
            Ok(n) => tracing::debug!(
                removed = n,
                "dropped stored side blocks below the block tree's root"
            ),
            Err(e) => tracing::warn!(error = %e, "could not drop old side blocks from the store"),
        }
    }

    /// Drops the bodies of blocks found invalid from the store.
    fn forget_stored(&self, hashes: &[Hash]) {
        if let Err(e) = self.store.remove_side_blocks(hashes, None) {
            tracing::warn!(error = %e, "could not drop invalid blocks from the store");
        }
    }

    /// Imports a main-chain block at the wall clock's time (see [`ChainService::import_block_at`]).
    pub fn import_block(&self, block: Block) -> Result<ImportOutcome, ImportError> {
        self.import_block_at(block, now_secs())
    }

    /// Imports a main-chain block with `now` (seconds) as the time the timestamp rule reads: see the
    /// module documentation. Slow (proof of work, then perhaps a reorg): call from a blocking thread.
    pub fn import_block_at(&self, block: Block, now: u64) -> Result<ImportOutcome, ImportError> {
        let (auth, ps) = self.pow_parts()?;
        if block.profile() != Profile::Main {
            return Err(ImportError::Malformed(
                "a sidechain block on the main chain".into(),
            ));
        }
        let hash = block.hash();
        let mut inner = ps.lock();
        if inner.invalid.contains(&hash) {
            return Err(ImportError::KnownInvalid(hash));
        }
        if inner.orphans.contains_key(&hash) {
            return Ok(self.duplicate(hash));
        }
        if inner.known.contains_key(&hash) {
            if self.body_of(&inner, &[], &hash)?.is_some() {
                return Ok(self.duplicate(hash));
            }
            // A known header whose body was lost (a store error): this body, if it matches, is it.
            check_body(&block, &self.params)?;
            let block = Arc::new(block);
            if self.tip().hash != block.header().previous_block_hash {
                self.store.put_side_blocks(&[block.as_ref()])?;
            }
            inner.side_insert(block);
            return self.finish_import(&mut inner, ps, hash);
        }
        // Whether the body is the header's (Merkle roots, coinbase, size) is checked before anything
        // is held: a body that does not match says nothing of the header, so nothing is remembered.
        check_body(&block, &self.params)?;
        let parent = block.header().previous_block_hash;
        if inner.invalid.contains(&parent) {
            return Err(ImportError::InvalidParent { hash, parent });
        }
        let height = block.header().height;
        if height <= inner.root_height {
            return Err(ImportError::TooOld {
                height,
                root_height: inner.root_height,
            });
        }
        if !inner.known.contains_key(&parent) {
            inner.add_orphan(Arc::new(block));
            tracing::debug!(%hash, height, %parent, "orphan block held until its parent arrives");
            return Ok(ImportOutcome {
                hash,
                status: ImportStatus::Orphan,
                tip: self.tip(),
                disconnected: 0,
                connected: 0,
            });
        }
        // The block, then every orphan it connects, parents first.
        let mut queue = VecDeque::from([Arc::new(block)]);
        let mut first = true;
        while let Some(b) = queue.pop_front() {
            let bh = b.hash();
            match self.insert_header(&mut inner, auth, b, now) {
                Ok(()) => queue.extend(inner.take_orphans_of(&bh)),
                Err(e) if first => return Err(e),
                Err(e) => {
                    tracing::warn!(hash = %bh, error = %e, "refused an orphan block when its parent arrived");
                }
            }
            first = false;
        }
        self.finish_import(&mut inner, ps, hash)
    }

    fn duplicate(&self, hash: Hash) -> ImportOutcome {
        ImportOutcome {
            hash,
            status: ImportStatus::Duplicate,
            tip: self.tip(),
            disconnected: 0,
            connected: 0,
        }
    }

    /// Moves the store to the heaviest tip and says where `hash` went.
    fn finish_import(
        &self,
        inner: &mut PowInner,
        ps: &PowState,
        hash: Hash,
    ) -> Result<ImportOutcome, ImportError> {
        let synced = self.sync_to_best(inner, ps)?;
        let (disconnected, connected) = (synced.disconnected, synced.connected);
        if inner.prune() {
            self.prune_side_store(inner);
        }
        let tip = self.tip();
        if inner.invalid.contains(&hash) {
            return Err(match synced.rejected {
                Some(r) => ImportError::Invalid(Box::new(r)),
                None => ImportError::KnownInvalid(hash),
            });
        }
        let status = if inner.fork.is_on_best_chain(&hash) {
            ImportStatus::BestChain
        } else {
            ImportStatus::SideBranch
        };
        Ok(ImportOutcome {
            hash,
            status,
            tip,
            disconnected,
            connected,
        })
    }

    fn insert_header(
        &self,
        inner: &mut PowInner,
        auth: &PowAuthority,
        block: Arc<Block>,
        now: u64,
    ) -> Result<(), ImportError> {
        let hash = block.hash();
        let parent = block.header().previous_block_hash;
        let parent_ctx = inner
            .known
            .get(&parent)
            .map(|k| k.ctx.clone())
            .ok_or_else(|| ImportError::Malformed(format!("parent {parent} unknown")))?;
        let ctx = pow::validate::validate_header(&auth.params, &parent_ctx, block.header(), now, &auth.pow)?;
        // A block that does not extend the stored tip is kept durably before it joins the tree: a
        // side branch, or a branch a reorg will move to, survives a restart (a block on the tip is
        // committed at once instead).
        if parent != self.tip().hash {
            self.store.put_side_blocks(&[block.as_ref()])?;
        }
        inner
            .fork
            .insert(meta(hash, parent, &ctx))
            .map_err(|e| ImportError::Malformed(e.to_string()))
            .map(|_| ())?;
        let seq = inner.seq;
        inner.seq = inner.seq.saturating_add(1);
        inner.known.insert(hash, Known { ctx, parent, seq });
        inner.side_insert(block);
        Ok(())
    }

    /// The body of a block in the tree: in memory, among `pinned` (a reorg's unwound blocks), in the
    /// store's side blocks or on the stored chain.
    fn body_of(
        &self,
        inner: &PowInner,
        pinned: &[Arc<Block>],
        hash: &Hash,
    ) -> Result<Option<Arc<Block>>, StoreError> {
        if let Some(b) = inner.side.get(hash) {
            return Ok(Some(b.clone()));
        }
        if let Some(b) = pinned.iter().find(|b| b.hash() == *hash) {
            return Ok(Some(b.clone()));
        }
        if let Some(b) = self.store.side_block(hash)? {
            return Ok(Some(Arc::new(b)));
        }
        Ok(self.store.block(hash)?.map(Arc::new))
    }

    /// Moves the store to the fork choice's tip. The pool is refilled with the transactions of every
    /// block taken off the chain even when the move fails half-way (a store error).
    fn sync_to_best(&self, inner: &mut PowInner, ps: &PowState) -> Result<Synced, ImportError> {
        let mut state = self.state();
        let mut run = SyncRun::default();
        let result = self.sync_steps(inner, &mut state, &mut run);
        let refilled = self.refill_after(&mut state, &run.disconnected, ps);
        if let Err(e) = &refilled
            && result.is_err()
        {
            tracing::error!(error = %e, "could not return the disconnected blocks' transactions to the pool");
        }
        result?;
        Ok(Synced {
            disconnected: refilled?,
            connected: run.connected,
            rejected: run.rejected,
        })
    }

    fn sync_steps(
        &self,
        inner: &mut PowInner,
        state: &mut State,
        run: &mut SyncRun,
    ) -> Result<(), ImportError> {
        // Each failed block shrinks the tree, so this ends.
        loop {
            let best = inner.fork.tip();
            if best == state.tip.hash {
                return Ok(());
            }
            let (unwind, apply) = inner.path(state.tip.hash, best)?;
            // Every body of the new branch must be at hand before anything is unwound; they are held
            // here for the whole move (no cache eviction can take them).
            let mut bodies: HashMap<Hash, Arc<Block>> = HashMap::with_capacity(apply.len());
            let mut missing = None;
            for h in &apply {
                match self.body_of(inner, &run.disconnected, h)? {
                    Some(b) => {
                        bodies.insert(*h, b);
                    }
                    None => {
                        missing = Some(*h);
                        break;
                    }
                }
            }
            if let Some(h) = missing {
                // Not invalid: unavailable. The branch leaves the tree and can be imported again.
                tracing::warn!(%h, "the body of a block on the heavier branch is not held; the branch is set aside");
                let _ = inner.forget_branch(h);
                continue;
            }
            if !unwind.is_empty() {
                // The new branch durably off the chain before the old one is unwound (the unwound
                // blocks go to the same table as they leave the chain): a kill anywhere in between
                // leaves both branches in the store, and the next start finishes the move.
                let refs: Vec<&Block> = apply
                    .iter()
                    .filter_map(|h| bodies.get(h))
                    .map(AsRef::as_ref)
                    .collect();
                self.store.put_side_blocks(&refs)?;
            }
            for h in unwind {
                let block = self
                    .store
                    .unwind_tip()?
                    .ok_or_else(|| corrupt("unwinding an empty store".into()))?;
                if block.hash() != h {
                    return Err(corrupt(format!("the store's tip is {}, expected {h}", block.hash())).into());
                }
                let parent = block.header().previous_block_hash;
                let block = Arc::new(block);
                // Taken off the chain durably: it goes back to the pool whatever happens next.
                run.disconnected.push(block.clone());
                state.tip_header = self
                    .store
                    .header(&parent)?
                    .ok_or_else(|| corrupt(format!("no header for {parent}")))?;
                state.tip = Tip {
                    height: block.header().height.saturating_sub(1),
                    hash: parent,
                };
                self.metrics.set_height(state.tip.height);
                self.metrics
                    .set_final_height(state.tip.height.saturating_sub(FINAL_DEPTH));
                inner.side_insert(block.clone());
                tracing::info!(height = block.header().height, %h, "block disconnected (reorg)");
                let _ = self.chain_events.send(super::ChainEvent::Disconnected(block));
            }
            let mut failed = false;
            for h in apply {
                let Some(block) = bodies.remove(&h) else {
                    // Gathered above for every block of `apply`.
                    let _ = inner.forget_branch(h);
                    failed = true;
                    break;
                };
                let snap = self.store.snapshot()?;
                let started = std::time::Instant::now();
                let validated = ledger::validate_block(&block, &state.tip_header, &snap, &self.params, &[]);
                self.metrics.block_validated(started.elapsed());
                drop(snap);
                let changes = match validated {
                    Ok(c) => c,
                    Err(BlockRejection::View(e)) => {
                        return Err(NodeError::Store(StoreError::Inconsistent(e.to_string())).into());
                    }
                    Err(e) => {
                        // The body was checked against its header on import, so the header is at fault.
                        tracing::warn!(%h, error = %e, "block of the heaviest branch is invalid; refused with its descendants");
                        run.rejected.get_or_insert(e);
                        let bad = inner.mark_invalid(h);
                        self.forget_stored(&bad);
                        failed = true;
                        break;
                    }
                };
                let tip = match self.store.commit_block(&block, &changes) {
                    Ok(t) => t,
                    Err(StoreError::Inconsistent(reason)) => {
                        tracing::warn!(%h, %reason, "the store refused a block; refused with its descendants");
                        let bad = inner.mark_invalid(h);
                        self.forget_stored(&bad);
                        failed = true;
                        break;
                    }
                    Err(e) => return Err(e.into()),
                };
                inner.side_remove(&h);
                self.metrics.block_committed(&block, state.tip_header.timestamp);
                // Proof of work has no certificate: a block counts as final this deep.
                self.metrics
                    .set_final_height(tip.height.saturating_sub(FINAL_DEPTH));
                let conflicts = state.mempool.remove_committed(block.transactions());
                self.report_evictions(&conflicts, "conflicts with a transaction committed in a block");
                state.tip = tip;
                state.tip_header = block.header().clone();
                run.connected += 1;
                tracing::info!(height = tip.height, hash = %tip.hash, txs = block.transactions().len(), "block committed");
                self.remember_block(&block);
                let _ = self.blocks.send(block.clone());
                let _ = self.chain_events.send(super::ChainEvent::Connected(block));
            }
            if failed {
                tracing::info!(tip = %inner.fork.tip(), "moving to the heaviest valid branch");
            }
        }
    }

    /// Transactions of blocks no longer on chain go back to the pool, before what it held; returns
    /// how many blocks are off the chain.
    fn refill_after(
        &self,
        state: &mut State,
        disconnected: &[Arc<Block>],
        ps: &PowState,
    ) -> Result<usize, StoreError> {
        if disconnected.is_empty() {
            return Ok(0);
        }
        let snap = self.store.snapshot()?;
        let mut seen = HashSet::new();
        let mut gone = Vec::new();
        for b in disconnected.iter().rev() {
            let h = b.hash();
            if seen.insert(h) && snap.block_hash(b.header().height)? != Some(h) {
                gone.push(b.clone());
            }
        }
        gone.sort_by_key(|b| b.header().height);
        if !gone.is_empty() {
            self.refill_pool(state, &snap, &gone, ps);
        }
        Ok(gone.len())
    }

    /// After a reorg: a fresh pool holding the disconnected blocks' transactions (checked again), then
    /// the old pool's; what no longer fits is reported on the eviction feed.
    fn refill_pool(&self, state: &mut State, snap: &Snapshot, gone: &[Arc<Block>], ps: &PowState) {
        let height = state.tip.height.saturating_add(1);
        let held = state.mempool.select(u64::MAX, u64::MAX);
        state.mempool = Mempool::new(ps.mempool_config.clone());
        let mut dropped: Vec<(Hash, String)> = Vec::new();
        for block in gone {
            for tx in block.transactions().iter().skip(1) {
                let id = tx.id();
                match snap.tx_location(&id) {
                    Ok(Some(_)) => continue,
                    Ok(None) => {}
                    Err(e) => {
                        dropped.push((id, format!("cannot read the store: {e}")));
                        continue;
                    }
                }
                let checked = match ledger::check_tx(Arc::new(tx.clone()), &self.params, height) {
                    Ok(c) => c,
                    Err(e) => {
                        dropped.push((id, format!("invalid after a reorg: {e}")));
                        continue;
                    }
                };
                match state
                    .mempool
                    .insert(Arc::new(checked), snap, height, &self.params)
                {
                    Ok(Admission::Accepted { .. }) => {}
                    // Its input was spent by the new branch (or created only by the old one): it will
                    // never become valid, so it does not wait in the orphan area.
                    Ok(Admission::Orphaned { missing }) => {
                        state.mempool.remove_committed(std::slice::from_ref(tx));
                        dropped.push((id, never_valid(&missing)));
                    }
                    Err(e) => dropped.push((id, format!("does not fit the new branch after a reorg: {e}"))),
                }
            }
        }
        for c in held {
            let tx = Arc::clone(c.tx());
            let id = tx.id();
            match state.mempool.insert(c, snap, height, &self.params) {
                Ok(Admission::Accepted { .. }) | Err(crate::mempool::MempoolError::Duplicate(_)) => {}
                Ok(Admission::Orphaned { missing }) => {
                    state.mempool.remove_committed(std::slice::from_ref(tx.as_ref()));
                    dropped.push((id, never_valid(&missing)));
                }
                Err(e) => dropped.push((id, format!("does not fit the new branch after a reorg: {e}"))),
            }
        }
        for (id, reason) in dropped {
            tracing::debug!(tx_id = %id, %reason, "pool transaction dropped after a reorg");
            let _ = self.evictions.send(super::Eviction { tx_id: id, reason });
        }
    }

    /// A block template on the current tip paying `program` (see the module documentation): bits
    /// from the retarget, the seed of the height, a timestamp of `now` (seconds) or just above the
    /// median time past, and the pool's best transactions within the gas and byte budgets. The
    /// template passes block validation (a pool transaction it refuses is dropped from the pool).
    pub fn block_template(&self, program: &[u8], now: u64) -> Result<Template, ImportError> {
        let (auth, ps) = self.pow_parts()?;
        let inner = ps.lock();
        let mut state = self.state();
        let parent = inner
            .known
            .get(&state.tip.hash)
            .ok_or_else(|| corrupt(format!("the tip {} is not in the block tree", state.tip.hash)))?;
        let bits = parent.ctx.next_bits(&auth.params);
        let seed = parent.ctx.next_seed();
        let timestamp = now.max(parent.ctx.median_time_past().saturating_add(1));
        let height = state.tip.height.saturating_add(1);
        drop(inner);
        let empty_coinbase = main_coinbase_tx(&self.params, height, 0, program)?;
        // Room for the fees' varint growing.
        let budget_bytes = self
            .max_block_bytes
            .saturating_sub(empty_coinbase.serialized_size().saturating_add(16));
        let mut attempts = 0;
        loop {
            attempts += 1;
            let selected: Vec<Arc<CheckedTx>> = if attempts > 8 {
                Vec::new()
            } else {
                state.mempool.select(budget_bytes, self.max_block_gas)
            };
            let fees = selected.iter().fold(0u64, |a, c| a.saturating_add(c.fee()));
            let coinbase = main_coinbase_tx(&self.params, height, fees, program)?;
            let mut txs = Vec::with_capacity(selected.len() + 1);
            txs.push(coinbase);
            txs.extend(selected.iter().map(|c| Transaction::clone(c.tx())));
            let ids: Vec<Hash> = txs.iter().map(Transaction::id).collect();
            let header = BlockHeader {
                version: auth.params.block_version,
                height,
                previous_block_hash: state.tip.hash,
                timestamp,
                transactions_merkle_root: types::merkle::tx_merkle_root(&ids),
                transaction_status_hash: types::merkle::status_merkle_root(&vec![false; txs.len()]),
                commitment_suffix: Vec::new(),
                consensus: HeaderConsensus::Pow { nonce: 0, bits },
            };
            let block = Block::new(header, txs)
                .map_err(|e| NodeError::Internal(format!("building a template: {e}")))?;
            let mut prechecked: Vec<Option<CheckedTx>> = Vec::with_capacity(selected.len() + 1);
            prechecked.push(None);
            prechecked.extend(selected.iter().map(|c| Some(CheckedTx::clone(c))));
            let snap = self.store.snapshot()?;
            match ledger::validate_block(&block, &state.tip_header, &snap, &self.params, &prechecked) {
                Ok(_) => return Ok(Template { block, seed }),
                Err(BlockRejection::Tx { index, tx_id, reason }) if index > 0 && attempts <= 8 => {
                    let removed = state.mempool.remove_with_descendants(&tx_id);
                    self.report_evictions(&removed, &format!("refused by block validation: {reason}"));
                }
                Err(BlockRejection::View(e)) => {
                    return Err(NodeError::Store(StoreError::Inconsistent(e.to_string())).into());
                }
                Err(e) if !selected.is_empty() => {
                    tracing::error!(error = %e, "block validation refused the selection; trying an empty template");
                    attempts = 9;
                }
                Err(e) => return Err(NodeError::OwnBlockInvalid(e).into()),
            }
        }
    }

    /// `get-work`: a fresh template paying this node's coinbase program, remembered for
    /// [`ChainService::submit_work`] while the tip stays (see [`MAX_TEMPLATES`]). Refused with
    /// [`ImportError::NoPayout`] when the node has no payout program.
    pub fn get_work(&self, now: u64) -> Result<Template, ImportError> {
        let (auth, ps) = self.pow_parts()?;
        if auth.coinbase_program.is_empty() {
            return Err(ImportError::NoPayout);
        }
        let template = self.block_template(&auth.coinbase_program, now)?;
        let mut inner = ps.lock();
        let th = template.block.header();
        let (parent, root) = (th.previous_block_hash, th.transactions_merkle_root);
        // Templates of another tip can never be submitted again.
        inner
            .templates
            .retain(|t| t.block.header().previous_block_hash == parent);
        // The same work with a fresher timestamp takes the old one's slot.
        inner
            .templates
            .retain(|t| t.block.header().transactions_merkle_root != root);
        inner.templates.push_back(template.clone());
        while inner.templates.len() > MAX_TEMPLATES {
            inner.templates.pop_front();
        }
        Ok(template)
    }

    /// `submit-work`: the remembered template with `header`'s parent and commitments, given the
    /// header's nonce and timestamp, imported. Refused when no such template is held (the tip moved).
    pub fn submit_work(&self, header: &BlockHeader) -> Result<ImportOutcome, WorkError> {
        let (_, ps) = self.pow_parts()?;
        let (nonce, _) = match header.consensus {
            HeaderConsensus::Pow { nonce, bits } => (nonce, bits),
            HeaderConsensus::Witness { .. } => return Err(WorkError::Mismatch("not a main-chain header")),
        };
        let template = {
            let inner = ps.lock();
            inner
                .templates
                .iter()
                .rev()
                .find(|t| {
                    let th = t.block.header();
                    th.previous_block_hash == header.previous_block_hash
                        && th.transactions_merkle_root == header.transactions_merkle_root
                })
                .cloned()
        };
        let Some(template) = template else {
            return Err(WorkError::Stale);
        };
        if template.block.header().previous_block_hash != self.tip().hash {
            return Err(WorkError::Stale);
        }
        let (mut h, txs) = template.block.into_parts();
        if h.height != header.height || h.version != header.version || h.bits() != header.bits() {
            return Err(WorkError::Mismatch("height, version or bits differ"));
        }
        h.timestamp = header.timestamp;
        h.consensus = HeaderConsensus::Pow {
            nonce,
            bits: h.bits().unwrap_or_default(),
        };
        let block = Block::new(h, txs).map_err(|_| WorkError::Mismatch("a header value is out of range"))?;
        let outcome = self.import_block(block)?;
        match outcome.status {
            ImportStatus::Orphan => Err(WorkError::Orphan),
            _ => Ok(outcome),
        }
    }

    /// Mines one block on the current tip paying `program` with `config`'s threads (blocking): builds a
    /// template, searches nonces until one meets the target or `stop` is raised, then imports the
    /// block. `Ok(None)` when stopped or the nonce space ran out.
    pub fn mine_block(
        &self,
        program: &[u8],
        config: &MinerConfig,
        stop: &AtomicBool,
    ) -> Result<Option<ImportOutcome>, ImportError> {
        let (auth, _) = self.pow_parts()?;
        let template = self.block_template(program, now_secs())?;
        let outcome = pow::miner::mine(
            &auth.pow,
            template.block.header(),
            &template.seed,
            0..MAX_NONCE,
            config,
            stop,
        )
        .map_err(|e| NodeError::Internal(format!("mining: {e}")))?;
        let MineOutcome::Found(header) = outcome else {
            return Ok(None);
        };
        let (_, txs) = template.block.into_parts();
        let block = Block::new(header, txs).map_err(|e| NodeError::Internal(format!("mined block: {e}")))?;
        self.import_block(block).map(Some)
    }
}

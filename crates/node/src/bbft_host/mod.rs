//! The BBFT host: a tokio task that owns one validator's consensus core (`consensus::bbft::Bbft`)
//! and performs its effects with real timers, a network, durable state and the chain service.
//!
//! | core effect | what the host does |
//! |---|---|
//! | `Send` / `SendToGroup` | encodes the message once, sends a [`net::Wire::Consensus`] envelope to each recipient through the [`ConsensusNetwork`]; a proposal whose block is at hand goes as a [`net::Wire::CompactProposal`] instead (below) |
//! | `SetTimer` | a tokio sleep, then `Input::TimerFired` (stale timers are the core's to ignore) |
//! | `Persist` | writes the state file atomically and `fsync`s it ([`persist::StateFile::save`]; the proposal in a file of its own, rewritten only when it changes) **before** any later effect of the step; a failure stops the host |
//! | `RequestProposal` | waits until the parent's timestamp plus the block interval, builds a block from the pool on top of the parent — committed tip plus the certified-but-uncommitted ancestors kept in memory ([`Overlay`]) — and answers `Input::Propose` |
//! | `Validate` | answers at once for a block built or validated here already (the id binds height, parent and payload); otherwise takes the block rebuilt from a compact proposal, or decodes the payload as a sidechain block (it must be canonical and carry an empty witness), validates it with the ledger against the same overlay and answers `Input::Validated`; a block whose parent is unknown is kept, catch-up is asked for (unless the parent is being rebuilt), and it is validated (and answered) when the parent arrives |
//! | `Commit` | commits the block to the store in height order with the certificate in its witness (`ChainService::commit_certified`), which drops its transactions from the pool and broadcasts it; a block this node never saw is fetched from peers |
//! | `Evidence`, `Rejected` | logged |
//!
//! Every block proposed or voted for is written durably first ([`persist::BlockDir`]) and
//! restored as pending on restart: the block a persisted lock certifies then exists on a quorum's
//! disks even if every validator stopped at once.
//!
//! Catch-up: a [`net::Wire::GetBlocks`] to every peer (at start, every second without a commit,
//! and at once when a final block or a proposal's parent is missing); peers answer with stored
//! blocks and their certificates, and `ChainService::import_certified` verifies each certificate
//! before committing. Every transaction this node's pool admits from a local caller (the API or
//! [`BbftHandle::submit`]) is forwarded to every other validator in batches ([`net::Wire::Txs`]:
//! whatever was admitted since the last send, up to [`FORWARD_BATCH_BYTES`]), so whoever leads next
//! can include it. Forwarded transactions are admitted off the host task, in batches, by an
//! admission task ([`admit_forwarded`]: `ChainService::submit_many`, signatures verified in
//! parallel batches) and never forwarded again: consensus messages do not queue behind them.
//!
//! **Compact proposals.** A proposal leaves as its signed fields with the block replaced by a
//! compact block (header, 6-byte salted short IDs, the coinbase in full: [`net::CompactProposal`])
//! whenever the block is at hand here: the leader built it, or this super node rebuilt (or, after
//! a fallback, decoded) it and forwards it to its members (T1). The proposer's signature covers
//! (epoch, round, block id) only, so the receiver may rebuild the payload: it matches the short IDs
//! against its pool ([`ChainService::with_pool`], under the chain's lock, no copy of the pool),
//! asks the sender for the transactions it lacks by position ([`net::Wire::GetProposalTxs`],
//! answered with [`net::Wire::ProposalTxs`]), checks the Merkle root and that the rebuilt block's
//! canonical bytes hash to the proposal's id, and hands the core the exact proposal. The block is
//! kept by id (bounded, dropped when used or committed past), so `Validate` does not decode the
//! payload again. A Merkle or id mismatch (a short-ID collision, another witness), more missing
//! transactions than one request holds, or an unusable answer ends in a request for the full
//! proposal ([`net::Wire::GetProposal`], answered with the plain consensus message). Metrics:
//! `tributary_compact_proposals_total`, `_missing_txs_total`, `_fallbacks_total`.
//!
//! Ledger validation, block building, store commits and state writes run inline on the host task.

pub mod follower;
pub mod net;
pub mod node;
pub mod p2p_net;
pub mod persist;
pub mod validators;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use consensus::bbft::{
    self, Bbft, BlockId, Certificate, Config, Effect, Input, Message, NodeId, Payload, Proposal, Timer,
};
use ledger::ChangeSet;
use p2p::compact::PartialBlock;
use storage::StoreRead;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
use types::profile::Profile;
use types::{Block, Transaction};

use crate::NodeError;
use crate::chain::bbft::BbftChain;
use crate::chain::{Admitted, ChainService, Origin, Overlay, SubmitError, Submitted};
pub use net::{ConsensusNetwork, Inbound, Incoming, MemoryNetwork, Wire};

/// How one validator's host runs.
#[derive(Clone)]
pub struct HostConfig {
    /// This validator's node id (its index in the validator set).
    pub me: NodeId,
    /// Its BLS consensus key. Never logged.
    pub bls_key: crypto::bls::SecretKey,
    /// Where the consensus state is persisted.
    pub state_file: PathBuf,
    /// Least time between a block and its parent (the chain also wants timestamps this far apart).
    pub block_interval_ms: u64,
    /// How long a round may take before the view change.
    pub round_timeout_ms: u64,
    /// How long a super node waits for its whole group.
    pub aggregate_wait_ms: u64,
    /// How often catch-up is asked for when nothing seems missing but nothing was committed.
    pub catch_up_interval_ms: u64,
    /// Whether blocks are finalized in one round by commit certificates (`docs/bbft.md` §3a);
    /// without, only by the two-chain rule.
    pub commit_phase: bool,
    /// The most bytes of blocks in one catch-up reply (at least one block is sent).
    pub max_reply_bytes: usize,
}

impl std::fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostConfig")
            .field("me", &self.me)
            .field("state_file", &self.state_file)
            .field("block_interval_ms", &self.block_interval_ms)
            .field("round_timeout_ms", &self.round_timeout_ms)
            .finish_non_exhaustive()
    }
}

impl HostConfig {
    /// Defaults: 500 ms blocks, 2 s round timeout, 100 ms aggregate wait, catch-up every second.
    pub fn new(me: NodeId, bls_key: crypto::bls::SecretKey, state_file: PathBuf) -> HostConfig {
        HostConfig {
            me,
            bls_key,
            state_file,
            block_interval_ms: 500,
            round_timeout_ms: 2_000,
            aggregate_wait_ms: 100,
            catch_up_interval_ms: 1_000,
            commit_phase: true,
            max_reply_bytes: net::MAX_REPLY_BYTES,
        }
    }
}

/// A running validator host.
#[derive(Debug)]
pub struct BbftHandle {
    chain: Arc<ChainService>,
    me: NodeId,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<Result<(), NodeError>>,
}

impl BbftHandle {
    /// The chain service.
    pub fn chain(&self) -> &Arc<ChainService> {
        &self.chain
    }

    /// This validator's node id.
    pub fn me(&self) -> NodeId {
        self.me
    }

    /// Admits a transaction locally; the host forwards it to every other validator in its next
    /// batch (as it does every transaction a local caller submits, the API's too; a transaction
    /// forwarded by a peer is never forwarded again).
    pub fn submit(&self, tx: Transaction) -> Result<Submitted, SubmitError> {
        self.chain.submit(tx)
    }

    /// Whether the host task has ended (stopped or failed).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops the host after the step it is performing and returns how it ended.
    pub async fn stop(self) -> Result<(), NodeError> {
        let _ = self.shutdown.send(true);
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(NodeError::Internal(format!("the BBFT host task failed: {e}"))),
        }
    }
}

/// Starts the host of validator `cfg.me` on `chain` (which must run under `Authority::Bbft`),
/// sending through `net` and receiving on `inbox`. Restores the consensus state from
/// `cfg.state_file` if it exists. Must be called inside a tokio runtime.
pub fn start(
    chain: Arc<ChainService>,
    cfg: HostConfig,
    net: Arc<dyn ConsensusNetwork>,
    inbox: mpsc::UnboundedReceiver<Incoming>,
) -> Result<BbftHandle, NodeError> {
    let bbft_chain = chain
        .bbft()
        .ok_or_else(|| NodeError::Config("the chain is not run by BBFT".into()))?;
    let setup = Arc::clone(bbft_chain.setup());
    let me = usize::try_from(cfg.me).unwrap_or(usize::MAX);
    if me >= setup.directory.len() {
        return Err(NodeError::Config(format!(
            "node {} is neither a genesis validator nor a configured candidate",
            cfg.me
        )));
    }
    // A genesis validator's key is fixed by the configuration; a candidate's by its registration
    // on chain (a node whose key is not the registered one is simply never a member).
    if let Some(v) = setup.genesis.validators().get(me)
        && *v.consensus_key.public_key() != cfg.bls_key.public_key()
    {
        return Err(NodeError::Config(
            "the BLS key does not match this validator's key in the genesis set".into(),
        ));
    }
    // Every known node: members of a later epoch need the transactions too.
    let peers: Vec<NodeId> = (0..setup.directory.len())
        .filter(|&i| i != me)
        .filter_map(|i| NodeId::try_from(i).ok())
        .collect();
    let max_payload = chain.params().limits.max_block_bytes;
    let core_cfg = Config {
        me: cfg.me,
        round_timeout_ms: cfg.round_timeout_ms,
        aggregate_wait_ms: cfg.aggregate_wait_ms,
        max_payload,
        commit_phase: cfg.commit_phase,
        ..Config::default()
    };
    // The epochs whose sets the committed chain fixes; later ones are added as it grows. The core
    // never enters an epoch it was not given, and it is given one only after the block that fixes
    // it is committed, so a restarted node always finds its saved epoch here.
    let epochs = bbft_chain.epochs();
    let fed_epoch = bbft_chain.highest_epoch();
    let crypto: Arc<dyn bbft::Crypto> = Arc::new(bbft::Bls);
    let genesis = bbft_chain.id_at(0).unwrap_or_default();
    let mut state_file = persist::StateFile::new(cfg.state_file.clone());
    let saved = match state_file.load(max_payload)? {
        // The store went past the end of the saved epoch without the core (a non-member, or
        // catch-up): start in the epoch of the next block instead.
        Some(state) if state.epoch < next_epoch(&chain) => Some(epoch_start_state(&chain)?),
        other => other,
    };
    let core = match saved {
        Some(state) => {
            tracing::info!(
                me = cfg.me,
                epoch = state.epoch,
                committed = state.committed.0,
                last_voted_round = state.last_voted_round,
                "restoring the consensus state"
            );
            Bbft::restore(
                core_cfg.clone(),
                cfg.bls_key.clone(),
                Arc::clone(&crypto),
                epochs,
                state,
            )
        }
        // Starting from scratch with blocks on disk means the state that records this validator's
        // votes is gone: voting again from round 1 could sign two blocks in one round.
        None if chain.tip().height > 0 => {
            return Err(NodeError::Config(format!(
                "the consensus state file {} is missing but the store holds {} blocks; \
                 refusing to vote without the record of earlier votes",
                cfg.state_file.display(),
                chain.tip().height
            )));
        }
        None => Bbft::new(
            core_cfg.clone(),
            cfg.bls_key.clone(),
            Arc::clone(&crypto),
            epochs,
            genesis,
        ),
    }
    .map_err(|e| NodeError::Config(format!("consensus core: {e}")))?;
    let blocks = persist::BlockDir::open(cfg.state_file.with_extension("blocks"))?;
    let kept = blocks.load()?;
    let (events, events_rx) = mpsc::unbounded_channel();
    let (shutdown, shutdown_rx) = watch::channel(false);
    let (admission_tx, admission_rx) = mpsc::channel(ADMISSION_QUEUE);
    let me_thread = cfg.me;
    let host = Host {
        chain: Arc::clone(&chain),
        core,
        net,
        peers,
        fed_epoch,
        core_cfg,
        crypto,
        admission: admission_tx,
        events,
        pending: HashMap::new(),
        deferred: HashMap::new(),
        rebuilding: HashMap::new(),
        rebuilt: HashMap::new(),
        served: VecDeque::new(),
        to_commit: BTreeMap::new(),
        last_request: None,
        unproven: (Vec::new(), 0),
        tip_at_tick: 0,
        round_started: BTreeMap::new(),
        blocks,
        state_file,
        limits: bbft::Limits { max_payload },
        validation: rayon::ThreadPoolBuilder::new()
            .thread_name(move |i| format!("bbft-validate-{me_thread}-{i}"))
            .build()
            .map_err(|e| NodeError::Internal(format!("cannot start the validation threads: {e}")))?,
        cfg: cfg.clone(),
    };
    let admitted = chain.subscribe_admitted();
    let me = cfg.me;
    tokio::spawn(admit_forwarded(Arc::clone(&chain), admission_rx, me));
    let task = tokio::spawn(async move {
        let r = host.run(kept, inbox, events_rx, admitted, shutdown_rx).await;
        if let Err(e) = &r {
            tracing::error!(me, error = %e, "the BBFT host stopped on an error");
        }
        r
    });
    Ok(BbftHandle {
        chain,
        me: cfg.me,
        shutdown,
        task,
    })
}

enum Event {
    Timer(Timer),
    Propose {
        epoch: u64,
        round: u64,
        height: u64,
        parent: BlockId,
    },
}

/// A block proposed or validated here and not yet committed.
struct Pending {
    height: u64,
    parent: BlockId,
    block: Arc<Block>,
    changes: Arc<ChangeSet>,
}

/// A proposed block whose parent is not known yet, and the vote request it came with.
struct Deferred {
    height: u64,
    parent: BlockId,
    block: Arc<Block>,
    ask: Option<(u64, u64)>,
}

/// A compact proposal waiting for the transactions its sender was asked for.
struct Rebuild {
    from: NodeId,
    /// The proposal, its payload empty.
    proposal: Proposal,
    partial: PartialBlock,
    since: Instant,
}

/// A proposal this node sent in compact form, kept to answer its receivers' requests.
struct Served {
    id: BlockId,
    block: Arc<Block>,
    /// The proposal, its payload empty (the payload is `block`'s canonical encoding).
    proposal: Proposal,
}

/// Most compact proposals waiting for transactions at once (the oldest is dropped).
const MAX_REBUILDING: usize = 16;

/// Most rebuilt blocks waiting for the core's `Validate` (the lowest is dropped).
const MAX_REBUILT: usize = 16;

/// Most proposals kept to answer requests for their transactions (the oldest is dropped).
const MAX_SERVED: usize = 16;

/// Most bytes of transactions forwarded in one envelope (a batch is sent when it reaches this, or
/// when nothing more is waiting).
pub const FORWARD_BATCH_BYTES: usize = 1 << 20;

/// Forwarded batches waiting for the admission task; beyond this they are dropped (the sender's
/// pool still holds them, and it includes them when it leads).
const ADMISSION_QUEUE: usize = 256;

/// Most forwarded transactions admitted in one batch.
const ADMISSION_BATCH: usize = 4096;

/// A batch of transactions another validator forwarded.
#[derive(Debug)]
enum Forwarded {
    /// Encoded (from an in-process network's envelope).
    Raw(Vec<Vec<u8>>),
    /// Decoded by the transport already.
    Decoded(Vec<Transaction>),
}

impl Forwarded {
    fn len(&self) -> usize {
        match self {
            Forwarded::Raw(r) => r.len(),
            Forwarded::Decoded(t) => t.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Most proposals kept while their parent is missing.
const MAX_DEFERRED: usize = 64;

/// Least time between two catch-up requests.
const REQUEST_GAP: Duration = Duration::from_millis(150);

/// The most fetched blocks kept while their finality proof lies in blocks not fetched yet, and
/// their most bytes.
const MAX_UNPROVEN_BLOCKS: usize = 64;
const MAX_UNPROVEN_BYTES: usize = 64 << 20;

struct Host {
    chain: Arc<ChainService>,
    core: Bbft,
    /// Where `Effect::Persist` writes.
    state_file: persist::StateFile,
    net: Arc<dyn ConsensusNetwork>,
    peers: Vec<NodeId>,
    /// The highest epoch given to the core (`Input::AddEpoch`).
    fed_epoch: u64,
    /// What the core was made with, to make it again at a later epoch ([`Host::catch_up_core`]).
    core_cfg: Config,
    crypto: Arc<dyn bbft::Crypto>,
    /// Forwarded transactions on their way to the admission task.
    admission: mpsc::Sender<Forwarded>,
    events: mpsc::UnboundedSender<Event>,
    pending: HashMap<BlockId, Pending>,
    deferred: HashMap<BlockId, Deferred>,
    /// Compact proposals waiting for transactions from their sender.
    rebuilding: HashMap<BlockId, Rebuild>,
    /// Blocks rebuilt from compact proposals (or decoded to be forwarded compact), by id, until
    /// the core asks to validate them: each was checked to encode to the payload its id names, so
    /// `Validate` does not decode that payload again.
    rebuilt: HashMap<BlockId, Arc<Block>>,
    /// Proposals sent in compact form, oldest first.
    served: VecDeque<Served>,
    to_commit: BTreeMap<u64, (BlockId, Certificate)>,
    last_request: Option<Instant>,
    /// The committed height at the last catch-up tick.
    tip_at_tick: u64,
    /// Fetched blocks right above the tip whose proof names a block above them not fetched yet
    /// (blocks finalized together by a two-chain, and a reply cut by its byte limit between
    /// them), with their bytes. The next request asks for what follows them, and they are
    /// imported with it.
    unproven: (Vec<Block>, usize),
    /// When this node first saw a proposal at each height not yet committed (for the consensus
    /// round metric: proposal to commit).
    round_started: BTreeMap<u64, Instant>,
    /// Durable copies of the pending blocks.
    blocks: persist::BlockDir,
    limits: bbft::Limits,
    /// Threads of their own for building and validating blocks: the global rayon pool also
    /// checks submitted transactions, and consensus must not queue behind a flood of them.
    validation: rayon::ThreadPool,
    cfg: HostConfig,
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Host {
    async fn run(
        mut self,
        kept: Vec<persist::KeptBlock>,
        mut inbox: mpsc::UnboundedReceiver<Incoming>,
        mut events: mpsc::UnboundedReceiver<Event>,
        mut admitted: broadcast::Receiver<Admitted>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), NodeError> {
        let mut tick = tokio::time::interval(Duration::from_millis(self.cfg.catch_up_interval_ms.max(50)));
        self.request_blocks(true);
        self.tip_at_tick = self.chain.tip().height;
        self.restore_kept(kept)?;
        self.feed(Input::Start)?;
        self.catch_up_core()?;
        loop {
            tokio::select! {
                _ = shutdown.changed() => break,
                Some((from, inbound)) = inbox.recv() => match inbound {
                    Inbound::Envelope(bytes) => self.on_wire(from, &bytes)?,
                    Inbound::Transactions(txs) => self.to_admission(from, Forwarded::Decoded(txs)),
                    Inbound::Blocks(blocks) => self.on_fetched(from, blocks)?,
                },
                Some(ev) = events.recv() => self.on_event(ev)?,
                _ = tick.tick() => {
                    self.expire_rebuilds();
                    // Asked only when nothing was committed since the last tick: a validator
                    // that commits is following consensus (and asks at once when a final block
                    // or a parent is missing). Asking every second regardless made each peer
                    // read and send its newest block, which this node then committed itself.
                    let tip = self.chain.tip().height;
                    if tip == self.tip_at_tick {
                        self.request_blocks(true);
                    }
                    self.tip_at_tick = tip;
                }
                tx = admitted.recv() => match tx {
                    Ok(first) => self.forward(first, &mut admitted),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(me = self.cfg.me, missed = n, "too many admitted transactions to forward; some were not");
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
            if *shutdown.borrow() {
                break;
            }
        }
        tracing::info!(me = self.cfg.me, "BBFT host stopped");
        Ok(())
    }

    /// Steps the core with `input` and performs the effects, and those of the inputs they lead to.
    fn feed(&mut self, input: Input) -> Result<(), NodeError> {
        let mut queue = VecDeque::from([input]);
        while let Some(input) = queue.pop_front() {
            let effects = self.core.step(input);
            for effect in effects {
                self.perform(effect, &mut queue)?;
            }
        }
        Ok(())
    }

    fn perform(&mut self, effect: Effect, queue: &mut VecDeque<Input>) -> Result<(), NodeError> {
        match effect {
            Effect::Send { to, message } => self.send(&[to], message, queue),
            Effect::SendToGroup { to, message } => self.send(&to, message, queue),
            Effect::SetTimer { timer, after_ms } => {
                let events = self.events.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(after_ms)).await;
                    // The host has stopped if this fails.
                    let _ = events.send(Event::Timer(timer));
                });
            }
            Effect::Persist(state) => self.state_file.save(&state)?,
            Effect::RequestProposal {
                epoch,
                round,
                height,
                parent,
            } => {
                let parent_ts = self.header_of(&parent).map_or(0, |h| h.timestamp);
                let due = parent_ts.saturating_add(self.cfg.block_interval_ms);
                let delay = due.saturating_sub(now_ms());
                let events = self.events.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(delay)).await;
                    let _ = events.send(Event::Propose {
                        epoch,
                        round,
                        height,
                        parent,
                    });
                });
            }
            Effect::Validate {
                epoch,
                round,
                height,
                block,
                parent,
                payload,
            } => {
                self.round_started.entry(height).or_insert_with(Instant::now);
                if let Some(valid) = self.on_validate(epoch, round, height, block, parent, &payload) {
                    queue.push_back(Input::Validated {
                        epoch,
                        round,
                        block,
                        valid,
                    });
                }
            }
            Effect::Commit {
                height, block, proof, ..
            } => {
                self.to_commit.insert(height, (block, proof));
                self.drain_commits(queue);
            }
            Effect::Evidence(ev) => {
                tracing::warn!(
                    me = self.cfg.me,
                    offender = ev.offender(),
                    "equivocation evidence"
                );
            }
            Effect::Rejected { from, reason } => {
                tracing::debug!(me = self.cfg.me, from, %reason, "consensus message rejected");
            }
        }
        Ok(())
    }

    fn send(&mut self, to: &[NodeId], message: Message, queue: &mut VecDeque<Input>) {
        let remote = to.iter().any(|&t| t != self.cfg.me);
        let compact = match &message {
            Message::Proposal(p) if remote && !p.payload.is_empty() => self.compact_envelope(p),
            _ => None,
        };
        let env = compact.unwrap_or_else(|| Wire::Consensus(bbft::encode(&message)).encode());
        for &t in to {
            if t == self.cfg.me {
                queue.push_back(Input::Message {
                    from: t,
                    message: message.clone(),
                });
            } else {
                self.net.send(t, env.clone());
            }
        }
    }

    /// The compact envelope of proposal `p` if its block is at hand here (proposed here, rebuilt or
    /// validated), remembering it to answer requests for its transactions; `None`: send it in full.
    fn compact_envelope(&mut self, p: &Proposal) -> Option<Vec<u8>> {
        let id = p.block_id();
        let block = match self.block_at_hand(&id) {
            Some(b) => b,
            None => {
                // Received in full (a fallback) and forwarded (T1): decoded once here, for the
                // members' compact form and for `Validate` after.
                let b = Block::decode(&p.payload, Profile::Side, &self.chain.params().limits)
                    .ok()
                    .filter(|b| p.payload == b.encode())?;
                let b = Arc::new(b);
                self.keep_rebuilt(id, Arc::clone(&b));
                b
            }
        };
        if block.header().height != p.height {
            return None;
        }
        let cp = net::CompactProposal::new(id, p, &block);
        self.served.retain(|s| s.id != id);
        if self.served.len() >= MAX_SERVED {
            self.served.pop_front();
        }
        self.served.push_back(Served {
            id,
            block,
            proposal: cp.proposal.clone(),
        });
        Some(cp.to_wire().encode())
    }

    /// The block with consensus id `id`, if this node holds it decoded: rebuilt, validated or
    /// proposed here, or sent. Each was checked to encode to the payload `id` names.
    fn block_at_hand(&self, id: &BlockId) -> Option<Arc<Block>> {
        self.rebuilt
            .get(id)
            .or_else(|| self.pending.get(id).map(|p| &p.block))
            .or_else(|| self.deferred.get(id).map(|d| &d.block))
            .or_else(|| self.served.iter().find(|s| s.id == *id).map(|s| &s.block))
            .cloned()
    }

    /// A compact proposal from `from`: rebuilt from the pool and handed to the core, or its
    /// missing transactions asked of `from`, or (too many missing) the full proposal asked for.
    fn on_compact_proposal(&mut self, from: NodeId, id: BlockId, bytes: &[u8]) -> Result<(), NodeError> {
        let cp = match net::CompactProposal::open(id, bytes, &self.limits, &self.chain.params().limits) {
            Ok(cp) => cp,
            Err(e) => {
                tracing::warn!(me = self.cfg.me, from, error = %e, "undecodable compact proposal");
                return Ok(());
            }
        };
        if self.rebuilding.contains_key(&id) {
            return Ok(());
        }
        if let Some(block) = self.block_at_hand(&id) {
            // Seen already (another sender, or sent again): no pool scan.
            let payload = Payload::from(block.encode());
            return self.deliver(from, id, cp.proposal, block, payload);
        }
        let partial = self
            .chain
            .with_pool(|pool| PartialBlock::from_keyed(&cp.compact, pool.keyed(), |c| &**c.tx()));
        let partial = match partial {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(me = self.cfg.me, from, error = %e, "inconsistent compact proposal");
                return Ok(());
            }
        };
        let missing = partial.missing();
        if missing.is_empty() {
            return self.finish_rebuild(from, id, cp.proposal, partial);
        }
        if missing.len() > net::MAX_TXS_PER_ENVELOPE as usize {
            self.ask_full(from, id, "too many transactions missing");
            return Ok(());
        }
        self.chain
            .metrics()
            .compact_missing_txs(u64::try_from(missing.len()).unwrap_or(u64::MAX));
        tracing::debug!(
            me = self.cfg.me,
            from,
            height = cp.proposal.height,
            missing = missing.len(),
            "asking for a compact proposal's missing transactions"
        );
        self.net.send(
            from,
            Wire::GetProposalTxs {
                block: id,
                indexes: missing,
            }
            .encode(),
        );
        if self.rebuilding.len() >= MAX_REBUILDING
            && let Some(oldest) = self.rebuilding.iter().min_by_key(|r| r.1.since).map(|r| *r.0)
        {
            self.rebuilding.remove(&oldest);
        }
        self.rebuilding.insert(
            id,
            Rebuild {
                from,
                proposal: cp.proposal,
                partial,
                since: Instant::now(),
            },
        );
        Ok(())
    }

    /// The transactions a compact proposal's sender answered with: the rebuild finishes, or (an
    /// unusable answer) the full proposal is asked for. Unsolicited answers are ignored.
    fn on_proposal_txs(&mut self, from: NodeId, id: BlockId, raw: &[Vec<u8>]) -> Result<(), NodeError> {
        if self.rebuilding.get(&id).is_none_or(|r| r.from != from) {
            tracing::debug!(
                me = self.cfg.me,
                from,
                "unsolicited proposal transactions ignored"
            );
            return Ok(());
        }
        let Some(mut r) = self.rebuilding.remove(&id) else {
            return Ok(());
        };
        let limits = &self.chain.params().limits;
        let mut txs = Vec::with_capacity(raw.len());
        for b in raw {
            match Transaction::decode(b, Profile::Side, limits) {
                Ok(tx) => txs.push(tx),
                Err(e) => {
                    tracing::warn!(me = self.cfg.me, from, error = %e, "undecodable proposal transaction");
                    self.ask_full(from, id, "undecodable transactions");
                    return Ok(());
                }
            }
        }
        let hash = r.partial.block_hash();
        if let Err(e) = r.partial.fill(&hash, txs) {
            tracing::warn!(me = self.cfg.me, from, error = %e, "proposal transactions do not answer the request");
            self.ask_full(from, id, "a wrong answer");
            return Ok(());
        }
        self.finish_rebuild(from, id, r.proposal, r.partial)
    }

    /// A complete partial block: if it is the proposed block (Merkle root, then the id of its
    /// canonical bytes), it goes to the core; otherwise the full proposal is asked for.
    fn finish_rebuild(
        &mut self,
        from: NodeId,
        id: BlockId,
        proposal: Proposal,
        partial: PartialBlock,
    ) -> Result<(), NodeError> {
        let block = match partial.into_block() {
            Ok(b) => b,
            Err(e) => {
                // A short-ID collision with another pool transaction, or a lying sender.
                tracing::debug!(me = self.cfg.me, from, error = %e, "compact proposal not rebuilt");
                self.ask_full(from, id, "the rebuilt block is not the proposed one");
                return Ok(());
            }
        };
        // The digest computed here is the one the core uses for the id.
        let payload = Payload::from(block.encode());
        if BlockId::of(proposal.height, &proposal.parent, &payload) != id {
            // The same transaction ids with other bytes (a witness): not the signed payload.
            self.ask_full(from, id, "the rebuilt payload is not the proposed one");
            return Ok(());
        }
        self.deliver(from, id, proposal, Arc::new(block), payload)
    }

    /// Hands the core a proposal rebuilt from its compact form, keeping the block for `Validate`.
    fn deliver(
        &mut self,
        from: NodeId,
        id: BlockId,
        mut proposal: Proposal,
        block: Arc<Block>,
        payload: Payload,
    ) -> Result<(), NodeError> {
        self.keep_rebuilt(id, block);
        self.chain.metrics().compact_proposal();
        proposal.payload = payload;
        self.feed(Input::Message {
            from,
            message: Message::Proposal(Box::new(proposal)),
        })
    }

    /// Keeps `block` (whose canonical encoding has consensus id `id`) for the core's `Validate`;
    /// the lowest is dropped past [`MAX_REBUILT`].
    fn keep_rebuilt(&mut self, id: BlockId, block: Arc<Block>) {
        if !self.rebuilt.contains_key(&id)
            && self.rebuilt.len() >= MAX_REBUILT
            && let Some(lowest) = self
                .rebuilt
                .iter()
                .min_by_key(|(_, b)| b.header().height)
                .map(|(id, _)| *id)
        {
            self.rebuilt.remove(&lowest);
        }
        self.rebuilt.insert(id, block);
    }

    /// Asks `from` for the full proposal of `id` (answered as a consensus message).
    fn ask_full(&mut self, from: NodeId, id: BlockId, why: &'static str) {
        self.rebuilding.remove(&id);
        self.chain.metrics().compact_fallback();
        tracing::info!(me = self.cfg.me, from, why, "asking for a full proposal");
        self.net.send(from, Wire::GetProposal { block: id }.encode());
    }

    /// Answers a request for transactions of a proposal this node sent (positions past the end:
    /// a bad request, not answered).
    fn serve_proposal_txs(&self, to: NodeId, id: BlockId, indexes: &[u32]) {
        let Some(block) = self.block_at_hand(&id) else {
            tracing::debug!(
                me = self.cfg.me,
                to,
                "asked for transactions of a proposal not at hand"
            );
            return;
        };
        let all = block.transactions();
        let mut txs = Vec::with_capacity(indexes.len());
        for &i in indexes {
            match usize::try_from(i).ok().and_then(|i| all.get(i)) {
                Some(tx) => txs.push(tx.encode()),
                None => {
                    tracing::warn!(
                        me = self.cfg.me,
                        from = to,
                        index = i,
                        "a request for a transaction past a proposal's end"
                    );
                    return;
                }
            }
        }
        self.net.send(to, Wire::ProposalTxs { block: id, txs }.encode());
    }

    /// Answers a request for the full proposal of a block this node sent in compact form.
    fn serve_proposal(&self, to: NodeId, id: BlockId) {
        let Some(s) = self.served.iter().find(|s| s.id == id) else {
            tracing::debug!(me = self.cfg.me, to, "asked for a proposal not sent here");
            return;
        };
        let mut p = s.proposal.clone();
        p.payload = s.block.encode().into();
        self.net.send(
            to,
            Wire::Consensus(bbft::encode(&Message::Proposal(Box::new(p)))).encode(),
        );
    }

    /// Drops rebuilds whose sender has not answered within a round timeout (the round has moved
    /// on; a later proposal, or catch-up, brings what is needed).
    fn expire_rebuilds(&mut self) {
        let limit = Duration::from_millis(self.cfg.round_timeout_ms);
        self.rebuilding.retain(|_, r| r.since.elapsed() < limit);
    }

    fn on_event(&mut self, ev: Event) -> Result<(), NodeError> {
        match ev {
            Event::Timer(t) => self.feed(Input::TimerFired(t)),
            Event::Propose {
                epoch,
                round,
                height,
                parent,
            } => {
                let Some(overlay) = self.overlay_for(&parent) else {
                    tracing::warn!(
                        me = self.cfg.me,
                        height,
                        "cannot propose: the parent block is unknown here"
                    );
                    self.request_blocks(false);
                    return Ok(());
                };
                let chain = &self.chain;
                let built = self
                    .validation
                    .install(|| chain.build_bbft_block(&overlay, now_ms()));
                let (block, changes) = match built {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::error!(me = self.cfg.me, error = %e, "building a proposal failed");
                        return Ok(());
                    }
                };
                if block.header().height != height {
                    tracing::error!(
                        me = self.cfg.me,
                        height,
                        "the proposal's height does not follow its parent"
                    );
                    return Ok(());
                }
                // The digest computed here is the one the core signs the id of.
                let payload = Payload::from(block.encode());
                let id = BlockId::of(height, &parent, &payload);
                self.blocks.keep(&id, height, &parent, &payload)?;
                self.pending.insert(
                    id,
                    Pending {
                        height,
                        parent,
                        block: Arc::new(block),
                        changes: Arc::new(changes),
                    },
                );
                self.feed(Input::Propose {
                    epoch,
                    round,
                    payload,
                })
            }
        }
    }

    fn on_wire(&mut self, from: NodeId, bytes: &[u8]) -> Result<(), NodeError> {
        let wire = match Wire::decode(bytes) {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(me = self.cfg.me, from, error = %e, "undecodable envelope");
                return Ok(());
            }
        };
        match wire {
            Wire::Consensus(b) => match bbft::decode(&b, &self.limits) {
                Ok(message) => self.feed(Input::Message { from, message })?,
                Err(e) => tracing::warn!(me = self.cfg.me, from, error = %e, "undecodable consensus message"),
            },
            Wire::Tx(b) => self.to_admission(from, Forwarded::Raw(vec![b])),
            Wire::Txs(b) => self.to_admission(from, Forwarded::Raw(b)),
            Wire::GetBlocks { from: first, count } => self.serve_blocks(from, first, count),
            Wire::Blocks(raw) => self.on_blocks(from, &raw)?,
            Wire::CompactProposal { block, proposal } => self.on_compact_proposal(from, block, &proposal)?,
            Wire::GetProposalTxs { block, indexes } => self.serve_proposal_txs(from, block, &indexes),
            Wire::ProposalTxs { block, txs } => self.on_proposal_txs(from, block, &txs)?,
            Wire::GetProposal { block } => self.serve_proposal(from, block),
        }
        Ok(())
    }

    /// Drops pending blocks at or below the committed tip (committed, or off the chain).
    fn prune(&mut self, tip: u64) {
        let blocks = &self.blocks;
        self.pending.retain(|id, p| {
            let keep = p.height > tip;
            if !keep {
                blocks.forget(id);
            }
            keep
        });
        self.rebuilt.retain(|_, b| b.header().height > tip);
        self.rebuilding.retain(|_, r| r.proposal.height > tip);
        self.served.retain(|s| s.proposal.height > tip);
    }

    /// At start: the blocks kept on disk become pending again (validated on the committed chain
    /// as their parents are known); those at or below the tip are forgotten.
    fn restore_kept(&mut self, kept: Vec<persist::KeptBlock>) -> Result<(), NodeError> {
        let tip = self.chain.tip().height;
        for k in kept {
            if k.height <= tip {
                self.blocks.forget(&k.id);
                continue;
            }
            match Block::decode(&k.payload, Profile::Side, &self.chain.params().limits) {
                Ok(block) => {
                    self.deferred.insert(
                        k.id,
                        Deferred {
                            height: k.height,
                            parent: k.parent,
                            block: Arc::new(block),
                            ask: None,
                        },
                    );
                }
                Err(e) => {
                    tracing::warn!(me = self.cfg.me, error = %e, "a kept block does not decode; forgotten");
                    self.blocks.forget(&k.id);
                }
            }
        }
        let mut queue = VecDeque::new();
        self.retry_deferred(&mut queue);
        tracing::info!(
            me = self.cfg.me,
            pending = self.pending.len(),
            "kept blocks restored"
        );
        for input in queue {
            self.feed(input)?;
        }
        Ok(())
    }

    /// Hands forwarded transactions to the admission task (dropped if it is far behind).
    fn to_admission(&self, from: NodeId, batch: Forwarded) {
        if batch.is_empty() {
            return;
        }
        if let Err(e) = self.admission.try_send(batch) {
            let dropped = match &e {
                mpsc::error::TrySendError::Full(r) | mpsc::error::TrySendError::Closed(r) => r.len(),
            };
            tracing::debug!(
                me = self.cfg.me,
                from,
                dropped,
                "admission queue full; forwarded transactions dropped"
            );
        }
    }

    /// Forwards `first` and every transaction admitted after it that is already waiting, from local
    /// callers only (a peer's transactions went to every validator already), in envelopes of at
    /// most [`FORWARD_BATCH_BYTES`].
    fn forward(&mut self, first: Admitted, admitted: &mut broadcast::Receiver<Admitted>) {
        let mut batch: Vec<Vec<u8>> = Vec::new();
        let mut bytes = 0usize;
        let mut next = Some(first);
        while let Some(a) = next.take() {
            if a.origin == Origin::Local {
                let raw = a.tx.encode();
                bytes = bytes.saturating_add(raw.len());
                batch.push(raw);
            }
            if bytes >= FORWARD_BATCH_BYTES || batch.len() >= net::MAX_TXS_PER_ENVELOPE as usize {
                self.send_txs(std::mem::take(&mut batch));
                bytes = 0;
            }
            next = admitted.try_recv().ok();
        }
        self.send_txs(batch);
    }

    fn send_txs(&self, batch: Vec<Vec<u8>>) {
        if batch.is_empty() {
            return;
        }
        let env = Wire::Txs(batch).encode();
        for &p in &self.peers {
            self.net.send(p, env.clone());
        }
    }

    /// Answers a catch-up request with up to `count` ([`net::MAX_BLOCKS_PER_REPLY`] at most)
    /// stored blocks from `first` on, and at most `cfg.max_reply_bytes` of them (at least one);
    /// nothing past the tip.
    fn serve_blocks(&self, to: NodeId, first: u64, count: u32) {
        let tip = self.chain.tip().height;
        let last = first
            .saturating_add(u64::from(count.min(net::MAX_BLOCKS_PER_REPLY)))
            .min(tip.saturating_add(1));
        let mut blocks = Vec::new();
        let mut bytes = 0usize;
        for h in first.max(1)..last {
            let raw = self
                .chain
                .store()
                .block_hash(h)
                .and_then(|hash| hash.map_or(Ok(None), |hash| self.chain.store().raw_block(&hash)));
            match raw {
                Ok(Some(b)) => {
                    bytes = bytes.saturating_add(b.len());
                    if !blocks.is_empty() && bytes > self.cfg.max_reply_bytes {
                        break;
                    }
                    blocks.push(b);
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(me = self.cfg.me, error = %e, "reading blocks for a peer");
                    break;
                }
            }
        }
        tracing::debug!(
            me = self.cfg.me,
            to,
            first,
            blocks = blocks.len(),
            "serving a catch-up request"
        );
        if !blocks.is_empty() {
            self.net.send(to, Wire::Blocks(blocks).encode());
        }
    }

    /// A catch-up reply: imports it (certificates checked, validated as windows) and, when it
    /// brought blocks, asks the same peer for the next range at once rather than at the next tick
    /// (pipelined catch-up: a node far behind fetches reply after reply at the speed of import).
    fn on_blocks(&mut self, from: NodeId, raw: &[Vec<u8>]) -> Result<(), NodeError> {
        let mut blocks = Vec::with_capacity(raw.len());
        for b in raw {
            match Block::decode(b, Profile::Side, &self.chain.params().limits) {
                Ok(b) => blocks.push(b),
                Err(e) => {
                    tracing::warn!(me = self.cfg.me, from, error = %e, "undecodable block from a peer");
                    return Ok(());
                }
            }
        }
        self.on_fetched(from, blocks)
    }

    /// [`Host::on_blocks`] for blocks decoded already (by the transport).
    fn on_fetched(&mut self, from: NodeId, mut blocks: Vec<Block>) -> Result<(), NodeError> {
        let tip = self.chain.tip().height;
        // A reply racing consensus: everything in it was committed meanwhile. Counted (the
        // request was wasted work on both sides) and dropped without import.
        let stale = blocks.iter().filter(|b| b.header().height <= tip).count();
        self.chain
            .metrics()
            .sync_stale(u64::try_from(stale).unwrap_or(u64::MAX));
        if stale == blocks.len() {
            return Ok(());
        }
        let mut bytes = blocks
            .iter()
            .map(|b| usize::try_from(crate::chain::bbft::tx_bytes(b)).unwrap_or(usize::MAX))
            .fold(0usize, usize::saturating_add);
        // A reply continuing the blocks kept unproven is imported with them.
        let (mut kept, kept_bytes) = std::mem::take(&mut self.unproven);
        let continues = kept
            .first()
            .is_some_and(|k| k.header().height == tip.saturating_add(1))
            && kept.last().map(|k| k.header().height.saturating_add(1))
                == blocks.first().map(|b| b.header().height);
        if continues {
            kept.append(&mut blocks);
            blocks = kept;
            bytes = bytes.saturating_add(kept_bytes);
        } else if kept.len() > blocks.len()
            && kept.first().map(|k| k.header().height) == blocks.first().map(|b| b.header().height)
        {
            // A late answer to an earlier request, covering less than what is kept.
            self.unproven = (kept, kept_bytes);
            return Ok(());
        }
        match self.chain.import_certified(&blocks) {
            Ok(n) => {
                let tip = self.chain.tip().height;
                // What stays above the new tip: proven by blocks not fetched yet.
                blocks.retain(|b| b.header().height > tip);
                let unproven = blocks
                    .first()
                    .is_some_and(|b| b.header().height == tip.saturating_add(1));
                if unproven && blocks.len() <= MAX_UNPROVEN_BLOCKS && bytes <= MAX_UNPROVEN_BYTES {
                    self.unproven = (blocks, bytes);
                }
                if n == 0 && self.unproven.0.is_empty() {
                    tracing::debug!(me = self.cfg.me, from, tip, "a catch-up reply committed nothing");
                    return Ok(());
                }
                if n > 0 {
                    tracing::info!(me = self.cfg.me, from, blocks = n, tip, "caught up");
                }
                // The next range from the peer that has these, before anything else runs.
                self.last_request = Some(Instant::now());
                self.net.send(
                    from,
                    Wire::GetBlocks {
                        from: self.next_wanted(),
                        count: net::MAX_BLOCKS_PER_REPLY,
                    }
                    .encode(),
                );
                if n > 0 {
                    let mut queue = VecDeque::new();
                    self.drain_commits(&mut queue);
                    self.retry_deferred(&mut queue);
                    for input in queue {
                        self.feed(input)?;
                    }
                    self.catch_up_core()?;
                }
            }
            Err(e) => tracing::warn!(me = self.cfg.me, from, error = %e, "blocks from a peer refused"),
        }
        Ok(())
    }

    /// The first height a catch-up request asks for: above the tip, and above the fetched blocks
    /// kept unproven.
    fn next_wanted(&self) -> u64 {
        let tip = self.chain.tip().height;
        match self.unproven.0.last() {
            Some(b)
                if self
                    .unproven
                    .0
                    .first()
                    .is_some_and(|f| f.header().height == tip.saturating_add(1)) =>
            {
                b.header().height.saturating_add(1)
            }
            _ => tip.saturating_add(1),
        }
    }

    /// Asks every peer for committed blocks above the tip (`periodic`: only if the last request is
    /// older than the catch-up interval; else at most every [`REQUEST_GAP`]). The heights the
    /// consensus core reports final, or sees proposed, raise the sync target (how far behind
    /// this validator is).
    fn request_blocks(&mut self, periodic: bool) {
        let seen = self
            .to_commit
            .last_key_value()
            .map(|(h, _)| *h)
            .into_iter()
            .chain(self.deferred.values().map(|d| d.height.saturating_sub(2)))
            .max();
        if let Some(h) = seen {
            self.chain.metrics().note_sync_target(h);
        }
        let gap = if periodic {
            Duration::from_millis(self.cfg.catch_up_interval_ms)
        } else {
            REQUEST_GAP
        };
        if self.last_request.is_some_and(|t| t.elapsed() < gap) {
            return;
        }
        self.last_request = Some(Instant::now());
        let env = Wire::GetBlocks {
            from: self.next_wanted(),
            count: net::MAX_BLOCKS_PER_REPLY,
        }
        .encode();
        for &p in &self.peers {
            self.net.send(p, env.clone());
        }
    }

    fn header_of(&self, id: &BlockId) -> Option<types::BlockHeader> {
        if let Some(p) = self.pending.get(id) {
            return Some(p.block.header().clone());
        }
        let bbft = self.chain.bbft()?;
        (bbft.tip_id() == *id).then(|| self.chain.tip_header())
    }

    /// The uncommitted ancestors from the committed tip up to `parent`, if `parent` is the tip or
    /// a pending block that leads to it.
    fn overlay_for(&self, parent: &BlockId) -> Option<Overlay> {
        let tip_id = self.chain.bbft()?.tip_id();
        let tip_height = self.chain.tip().height;
        let mut chain = Vec::new();
        let mut cur = *parent;
        while cur != tip_id {
            let p = self.pending.get(&cur)?;
            if p.height <= tip_height {
                return None;
            }
            chain.push((Arc::clone(&p.block), Arc::clone(&p.changes)));
            cur = p.parent;
        }
        chain.reverse();
        Some(Overlay::new(chain))
    }

    /// Answers a `Validate` (`None`: the parent is unknown, answered later).
    fn on_validate(
        &mut self,
        epoch: u64,
        round: u64,
        height: u64,
        id: BlockId,
        parent: BlockId,
        payload: &[u8],
    ) -> Option<bool> {
        // Built here (this node leads) or validated already (the same proposal again, or one
        // re-proposed in a later round): the id binds height, parent and payload, and a pending
        // block was validated on exactly those. The leader used to decode its own 1.5 MB
        // proposal here only for `try_validate` to find it pending.
        if let Some(p) = self.pending.get(&id) {
            return Some(p.height == height && p.parent == parent);
        }
        let (block, canonical) = match self.rebuilt.remove(&id) {
            // Rebuilt here from a compact proposal: the payload the core got was made by encoding
            // it and checked to hash to `id` (the core's id of this payload), so it is that block's
            // canonical encoding and is not decoded again.
            Some(b) => (b, true),
            None => match Block::decode(payload, Profile::Side, &self.chain.params().limits) {
                Ok(b) => (Arc::new(b), false),
                Err(e) => {
                    tracing::warn!(me = self.cfg.me, height, error = %e, "a proposal that is not a sidechain block");
                    return Some(false);
                }
            },
        };
        // The id binds the payload bytes; a non-canonical encoding would give the stored block
        // another id, and its certificate would not check after a restart.
        if block.header().height != height || (!canonical && block.encode() != payload) {
            return Some(false);
        }
        match self.try_validate(id, height, parent, (Arc::clone(&block), Some(payload)), 0) {
            Some(valid) => Some(valid),
            None => {
                if self.deferred.len() >= MAX_DEFERRED
                    && let Some(oldest) = self.deferred.iter().min_by_key(|d| d.1.height).map(|d| *d.0)
                {
                    self.deferred.remove(&oldest);
                }
                self.deferred.insert(
                    id,
                    Deferred {
                        height,
                        parent,
                        block,
                        ask: Some((epoch, round)),
                    },
                );
                // Unless the parent is on its way (being rebuilt from its compact proposal).
                if !self.rebuilding.contains_key(&parent) {
                    self.request_blocks(false);
                }
                None
            }
        }
    }

    /// Validates `block` if its parent is known (possibly after validating a deferred parent);
    /// `None` if not. `payload`: the block's canonical bytes when at hand (kept on disk as they
    /// are rather than encoded again).
    fn try_validate(
        &mut self,
        id: BlockId,
        height: u64,
        parent: BlockId,
        (block, payload): (Arc<Block>, Option<&[u8]>),
        depth: usize,
    ) -> Option<bool> {
        if self.pending.contains_key(&id) {
            return Some(true);
        }
        if height <= self.chain.tip().height {
            return Some(self.chain.bbft().and_then(|b| b.id_at(height)) == Some(id));
        }
        let overlay = match self.overlay_for(&parent) {
            Some(o) => o,
            None => {
                let d = self.deferred.remove(&parent)?;
                if depth > MAX_DEFERRED {
                    return None;
                }
                let ok = self.try_validate(parent, d.height, d.parent, (d.block, None), depth + 1);
                if ok != Some(true) {
                    return ok.map(|_| false);
                }
                self.overlay_for(&parent)?
            }
        };
        let chain = &self.chain;
        let validated = self
            .validation
            .install(|| chain.validate_bbft_block(&block, &overlay));
        match validated {
            Ok(changes) => {
                // Durable before the vote: a certified block must survive a restart of everyone.
                let encoded;
                let bytes = match payload {
                    Some(p) => p,
                    None => {
                        encoded = block.encode();
                        &encoded
                    }
                };
                if let Err(e) = self.blocks.keep(&id, height, &parent, bytes) {
                    tracing::error!(me = self.cfg.me, height, error = %e, "cannot keep a block; not voting for it");
                    return Some(false);
                }
                self.pending.insert(
                    id,
                    Pending {
                        height,
                        parent,
                        block,
                        changes: Arc::new(changes),
                    },
                );
                Some(true)
            }
            Err(e) => {
                tracing::warn!(me = self.cfg.me, height, error = %e, "proposed block refused");
                Some(false)
            }
        }
    }

    fn retry_deferred(&mut self, queue: &mut VecDeque<Input>) {
        let tip = self.chain.tip().height;
        self.deferred.retain(|_, d| d.height > tip);
        let mut ids: Vec<(u64, BlockId)> = self.deferred.iter().map(|(id, d)| (d.height, *id)).collect();
        ids.sort();
        for (_, id) in ids {
            let Some(d) = self.deferred.remove(&id) else {
                continue;
            };
            let ask = d.ask;
            match self.try_validate(id, d.height, d.parent, (Arc::clone(&d.block), None), 0) {
                Some(valid) => {
                    if let Some((epoch, round)) = ask {
                        queue.push_back(Input::Validated {
                            epoch,
                            round,
                            block: id,
                            valid,
                        });
                    }
                }
                None => {
                    self.deferred.insert(id, d);
                }
            }
        }
    }

    /// Commits the finalized blocks that follow the tip and are at hand; asks peers for a missing one.
    fn drain_commits(&mut self, queue: &mut VecDeque<Input>) {
        let chain = Arc::clone(&self.chain);
        let Some(bbft) = chain.bbft() else {
            return;
        };
        loop {
            let tip = self.chain.tip().height;
            while let Some((&h, (id, _))) = self.to_commit.first_key_value() {
                if h > tip {
                    break;
                }
                if bbft.id_at(h) != Some(*id) {
                    tracing::error!(
                        me = self.cfg.me,
                        height = h,
                        "SAFETY: the core finalized a block other than the stored one"
                    );
                }
                self.to_commit.remove(&h);
            }
            let Some((&h, (id, proof))) = self.to_commit.first_key_value() else {
                break;
            };
            let Some(p) = self.pending.get(id).filter(|_| h == tip.saturating_add(1)) else {
                // A block still being rebuilt from its compact proposal (its missing
                // transactions asked of the sender) arrives without help; asking every peer
                // would only race it, and their replies came after the commit, to be thrown away.
                // Should the rebuild fail, the catch-up tick asks.
                if !(h == tip.saturating_add(1) && self.rebuilding.contains_key(id)) {
                    self.request_blocks(false);
                }
                break;
            };
            let (block, changes, id, proof) =
                (Arc::clone(&p.block), Arc::clone(&p.changes), *id, proof.clone());
            if let Err(e) = self.chain.commit_certified(&block, &changes, id, &proof) {
                tracing::error!(me = self.cfg.me, height = h, error = %e, "committing a final block failed");
                self.request_blocks(false);
                break;
            }
            self.to_commit.remove(&h);
            if let Some(started) = self.round_started.remove(&h) {
                self.chain.metrics().observe_consensus_round(started.elapsed());
            }
            let tip = self.chain.tip().height;
            // Heights committed through catch-up never get an observation; forget them.
            self.round_started = self.round_started.split_off(&tip.saturating_add(1));
            self.prune(tip);
        }
        self.retry_deferred(queue);
        queue.extend(self.new_epochs());
    }

    /// When blocks committed through catch-up took the store past the end of the core's epoch
    /// (a node that was no member of it, or fell behind), the core starts again in the epoch of
    /// the next block, anchored on the previous epoch's last block and its stored proof. A core
    /// votes only in its own epoch, so this node never voted in the new one and the fresh vote
    /// record is exact; the ended epochs are final and need no more votes.
    fn catch_up_core(&mut self) -> Result<(), NodeError> {
        if self.core.epoch() >= next_epoch(&self.chain) {
            return Ok(());
        }
        let state = epoch_start_state(&self.chain)?;
        let epochs = self.chain.bbft().map(BbftChain::epochs).unwrap_or_default();
        tracing::info!(
            me = self.cfg.me,
            from = self.core.epoch(),
            to = state.epoch,
            anchor = state.anchor.height,
            "the chain left the core's epoch behind; the core joins the current one"
        );
        self.core = Bbft::restore(
            self.core_cfg.clone(),
            self.cfg.bls_key.clone(),
            Arc::clone(&self.crypto),
            epochs,
            state,
        )
        .map_err(|e| NodeError::Internal(format!("consensus core at a later epoch: {e}")))?;
        self.fed_epoch = self.chain.bbft().map_or(0, BbftChain::highest_epoch);
        self.state_file.save(&self.core.persisted())?;
        self.feed(Input::Start)
    }

    /// The epochs the committed chain fixed since the last call, for the core.
    fn new_epochs(&mut self) -> Vec<Input> {
        let Some(bbft) = self.chain.bbft() else {
            return Vec::new();
        };
        let mut inputs = Vec::new();
        while self.fed_epoch < bbft.highest_epoch() {
            self.fed_epoch += 1;
            if let Some(epoch) = bbft.epoch(self.fed_epoch) {
                tracing::info!(
                    me = self.cfg.me,
                    epoch = epoch.index,
                    first_height = epoch.first_height,
                    validators = epoch.set.len(),
                    member = epoch.set.validators().iter().any(|v| v.node == self.cfg.me),
                    "next epoch's validator set"
                );
                inputs.push(Input::AddEpoch(epoch));
            }
        }
        inputs
    }
}

/// The epoch of the block after the committed tip.
fn next_epoch(chain: &ChainService) -> u64 {
    chain
        .bbft()
        .map_or(0, |b| b.setup().epoch_of(chain.tip().height.saturating_add(1)))
}

/// A core state at the start of the epoch of the block after the committed tip: anchored on the
/// previous epoch's last block (committed) with the certificate stored with it, nothing voted.
fn epoch_start_state(chain: &ChainService) -> Result<bbft::PersistedState, NodeError> {
    let bbft = chain
        .bbft()
        .ok_or_else(|| NodeError::Config("the chain is not run by BBFT".into()))?;
    let epoch = next_epoch(chain);
    let height = bbft.setup().bounds(epoch).0.saturating_sub(1);
    let missing = || NodeError::Corrupt(format!("no stored block ends epoch {}", epoch.saturating_sub(1)));
    let block = chain.block_at(height)?.ok_or_else(missing)?;
    let id = bbft.id_at(height).ok_or_else(missing)?;
    let proof = crate::chain::bbft::proof_of(&block).ok_or_else(missing)?;
    Ok(bbft::PersistedState {
        epoch,
        anchor: bbft::Anchor {
            height,
            block: id,
            proof: Some(proof),
        },
        last_voted_round: 0,
        high_qc: None,
        committed: (height, id),
        proposal: None,
        end_proof: None,
    })
}

/// Admits transactions forwarded by other validators, off the host task: takes every batch waiting
/// (up to [`ADMISSION_BATCH`] transactions), decodes those that came encoded and submits them as
/// one batch (`ChainService::submit_many`). Ends when the host drops its sender.
async fn admit_forwarded(chain: Arc<ChainService>, mut rx: mpsc::Receiver<Forwarded>, me: NodeId) {
    while let Some(first) = rx.recv().await {
        let mut batches = vec![first];
        let mut count = batches[0].len();
        while count < ADMISSION_BATCH {
            match rx.try_recv() {
                Ok(more) => {
                    count = count.saturating_add(more.len());
                    batches.push(more);
                }
                Err(_) => break,
            }
        }
        let chain = Arc::clone(&chain);
        let done = tokio::task::spawn_blocking(move || {
            let limits = &chain.params().limits;
            let mut txs: Vec<Transaction> = Vec::with_capacity(count);
            for batch in batches {
                match batch {
                    Forwarded::Decoded(decoded) => txs.extend(decoded),
                    Forwarded::Raw(raw) => txs.extend(raw.iter().filter_map(|b| {
                        Transaction::decode(b, Profile::Side, limits)
                            .inspect_err(
                                |e| tracing::warn!(me, error = %e, "undecodable forwarded transaction"),
                            )
                            .ok()
                    })),
                }
            }
            let refused = chain
                .submit_many(txs, Origin::Peer, false)
                .iter()
                .filter(|r| matches!(r, Err(e) if e.is_refusal()))
                .count();
            if refused > 0 {
                tracing::debug!(me, refused, "forwarded transactions not admitted");
            }
        })
        .await;
        if let Err(e) = done {
            tracing::error!(me, error = %e, "the admission task failed");
        }
    }
}

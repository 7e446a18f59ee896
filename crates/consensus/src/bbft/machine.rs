//! The BBFT state machine: [`Input`] in, `Vec<`[`Effect`]`>` out. See `docs/bbft.md` for the
//! protocol; each arm of [`Bbft::step`] names the step it implements.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crypto::bls::{PublicKey, SecretKey, Signature};

use super::crypto::{Counted, Crypto, VerifyWork};
use super::types::{
    Bitmap, BlockId, Certificate, Epoch, Evidence, Justify, Message, NodeId, Payload, Phase, Proposal,
    ProposalHeader, TcPart, Timeout, TimeoutCert, ValidatorSet, Vote, VoteData,
};

/// Tuning of one node. Timing is in host milliseconds; the core never reads a clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// This node's network identity.
    pub me: NodeId,
    /// How long a round may take before this node times out (and re-sends its timeout).
    pub round_timeout_ms: u64,
    /// How long a super node waits for its whole group before sending a partial aggregate (T3).
    pub aggregate_wait_ms: u64,
    /// Consecutive rounds each leader keeps before rotation (≥ 2 so an honest leader always
    /// gets the two consecutive rounds that finalize a block).
    pub leader_term: u64,
    /// Largest payload accepted in a proposal.
    pub max_payload: usize,
    /// Rounds a fallen-back member must see its own super node deliver before stepping back.
    pub fallback_decay_rounds: u32,
    /// One-round finality (`docs/bbft.md` §3a): after a block is certified, validators vote
    /// again to commit it, and a certificate of those votes makes it final at once instead of
    /// when its child is certified. Costs T2–T4 again per height; without it, finality
    /// takes the next round (the two-chain rule, which always applies as well).
    pub commit_phase: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            me: 0,
            round_timeout_ms: 2_000,
            aggregate_wait_ms: 100,
            leader_term: 2,
            max_payload: 1 << 20,
            fallback_decay_rounds: 8,
            commit_phase: true,
        }
    }
}

/// The block an epoch starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    /// Its height (the epoch's first height minus one).
    pub height: u64,
    /// Its id (zero when a node joined the epoch without learning it).
    pub block: BlockId,
    /// The previous epoch's certificate that finalized it (`None` for genesis).
    pub proof: Option<Certificate>,
}

/// A timer the core asks the host to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Timer {
    /// The round has run too long: time out (view change).
    Round {
        /// Epoch index.
        epoch: u64,
        /// Round.
        round: u64,
    },
    /// A super node stops waiting for its whole group (T3).
    Aggregate {
        /// Epoch index.
        epoch: u64,
        /// Round.
        round: u64,
    },
}

/// What the host feeds the core.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // moved once per step, never stored in bulk
pub enum Input {
    /// Begin (after `new` or `restore`): enter the current round.
    Start,
    /// A message from `from` (authenticated by the transport).
    Message {
        /// Sender.
        from: NodeId,
        /// The decoded message.
        message: Message,
    },
    /// A timer set by [`Effect::SetTimer`] fired.
    TimerFired(Timer),
    /// The block content for [`Effect::RequestProposal`].
    Propose {
        /// Epoch index.
        epoch: u64,
        /// Round asked for.
        round: u64,
        /// The block's content.
        payload: Payload,
    },
    /// The answer to [`Effect::Validate`].
    Validated {
        /// Epoch index.
        epoch: u64,
        /// Round.
        round: u64,
        /// The block checked.
        block: BlockId,
        /// Whether it is a valid block.
        valid: bool,
    },
    /// The validator set for a later epoch (from DPoS).
    AddEpoch(Epoch),
}

/// What the host must do. Effects are ordered: persist before sending what follows.
#[derive(Debug, Clone)]
#[must_use]
#[allow(clippy::large_enum_variant)] // consumed right after the step, never stored in bulk
pub enum Effect {
    /// Send to one node.
    Send {
        /// Recipient.
        to: NodeId,
        /// Message.
        message: Message,
    },
    /// Send the same message to several nodes.
    SendToGroup {
        /// Recipients.
        to: Vec<NodeId>,
        /// Message.
        message: Message,
    },
    /// Fire `timer` after `after_ms` (replacing nothing: stale timers are ignored).
    SetTimer {
        /// Which.
        timer: Timer,
        /// Delay.
        after_ms: u64,
    },
    /// Durably store this state before performing later effects; restart from the latest.
    Persist(PersistedState),
    /// This node leads `round`: supply a payload with [`Input::Propose`].
    RequestProposal {
        /// Epoch index.
        epoch: u64,
        /// Round.
        round: u64,
        /// Height to propose.
        height: u64,
        /// Parent block.
        parent: BlockId,
    },
    /// Check the block's content; answer with [`Input::Validated`].
    Validate {
        /// Epoch index.
        epoch: u64,
        /// Round.
        round: u64,
        /// Height.
        height: u64,
        /// Block id.
        block: BlockId,
        /// Parent.
        parent: BlockId,
        /// Content.
        payload: Payload,
    },
    /// The block is final. `proof` is a commit certificate for this block or a descendant, or a
    /// prepare certificate whose direct two-chain finalizes this block or a descendant
    /// (ancestors are committed first, in height order).
    Commit {
        /// Epoch whose set certified it.
        epoch: u64,
        /// Height.
        height: u64,
        /// Block id.
        block: BlockId,
        /// The finalizing certificate.
        proof: Certificate,
    },
    /// Equivocation detected.
    Evidence(Evidence),
    /// A message was rejected (peer scoring; not attributable like [`Effect::Evidence`]).
    Rejected {
        /// Sender.
        from: NodeId,
        /// Why.
        reason: Reject,
    },
}

/// Why a message was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Reject {
    /// Signer not in the set, or bitmap of the wrong size.
    #[error("unknown signer or malformed bitmap")]
    UnknownSigner,
    /// A signature or aggregate that does not verify against the claimed signers.
    #[error("signature or aggregate does not verify")]
    BadSignature,
    /// A certificate without a quorum.
    #[error("certificate without a quorum")]
    NoQuorum,
    /// A proposal from someone other than the round's leader.
    #[error("proposer is not the round leader")]
    NotLeader,
    /// A proposal whose parent, height, justification or timeout certificate is inconsistent.
    #[error("malformed proposal")]
    BadProposal,
    /// More distinct aggregates from one sender, or for one round, than an honest super node
    /// sends (a Byzantine sender must not make others store unbounded aggregates).
    #[error("too many distinct aggregates")]
    Flood,
    /// A timeout (or timeout-certificate part) reporting a certificate round not below its own
    /// round: a timeout for round r can only carry a certificate from a round before r.
    #[error("timeout reports a certificate from its own round or later")]
    BadTimeout,
}

/// What survives a crash. Restoring from it never lets a node vote twice in a round or forget
/// its lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersistedState {
    /// Current epoch index.
    pub epoch: u64,
    /// The epoch's anchor.
    pub anchor: Anchor,
    /// Highest round voted or timed out in (no vote at or below it).
    pub last_voted_round: u64,
    /// Highest certificate known (the lock).
    pub high_qc: Option<Certificate>,
    /// Last committed height and block.
    pub committed: (u64, BlockId),
    /// The last proposal this node signed (leader). Persisted before it is sent, so a leader
    /// restarted in the same round re-sends it instead of signing a different block.
    pub proposal: Option<Proposal>,
    /// The certificate that finalized the epoch's last block, once committed and while the next
    /// epoch's set is not yet known (it becomes the next epoch's anchor proof).
    pub end_proof: Option<Certificate>,
}

/// Verified votes for one [`VoteData`]: disjoint "atoms", each a signer set with one aggregate
/// signature that verified as a whole (a single vote, or a batch checked at once). Only whole
/// atoms are combined: a batch check proves the sum, not each member, so splitting one could
/// produce an invalid aggregate.
#[derive(Debug)]
struct Pool {
    atoms: Vec<(Bitmap, Signature)>,
    signers: Bitmap,
    sent_count: usize,
}

impl Pool {
    fn new(n: usize) -> Pool {
        Pool {
            atoms: Vec::new(),
            signers: Bitmap::new(n),
            sent_count: 0,
        }
    }

    /// Adds a verified atom (its signers are new to the pool: one vote per signer per round).
    fn add(&mut self, signers: Bitmap, sig: Signature) {
        self.signers.union_with(&signers);
        self.atoms.push((signers, sig));
    }

    fn sigs(&self) -> Vec<Signature> {
        self.atoms.iter().map(|a| a.1).collect()
    }
}

/// How a received vote has been checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Not yet (optimistic verification buffers it).
    Buffered,
    /// As part of a batch that verified as a whole.
    Batch,
    /// On its own (or it is this node's own vote).
    Solo,
}

/// Another node's aggregate (T3) for one [`VoteData`]: the most powerful one its sender sent,
/// and the verified atom it belongs to (`None`: buffered, not yet verified).
#[derive(Debug)]
struct Part {
    cert: Certificate,
    atom: Option<u64>,
}

/// What a same-message batch check found.
#[allow(clippy::large_enum_variant)] // matched right away, never stored
enum BatchCheck {
    /// The whole batch verified as one aggregate: its sum.
    Whole(Signature),
    /// The batch failed (or was empty); each item checked alone.
    Each(Vec<bool>),
}

/// Optimistic verification: checks `items` (each a signature and the keys it claims, all over
/// `msg`) as one same-message aggregate — the sum of the signatures against every key, one
/// pairing — and, if that fails, each item alone. Sound because every key's proof of possession
/// was checked when the set was built; a success proves the sum only, so the caller keeps a
/// whole batch as one atom.
fn check_batch(crypto: &Counted, msg: &[u8], items: &[(Signature, Vec<PublicKey>)]) -> BatchCheck {
    match items {
        [] => return BatchCheck::Each(Vec::new()),
        [(sig, keys)] => {
            return if crypto.verify(sig, keys, msg) {
                BatchCheck::Whole(*sig)
            } else {
                BatchCheck::Each(vec![false])
            };
        }
        _ => {}
    }
    let sigs: Vec<Signature> = items.iter().map(|i| i.0).collect();
    let keys: Vec<PublicKey> = items.iter().flat_map(|i| i.1.iter().copied()).collect();
    if let Some(agg) = crypto.aggregate(&sigs)
        && crypto.verify(&agg, &keys, msg)
    {
        return BatchCheck::Whole(agg);
    }
    BatchCheck::Each(items.iter().map(|(s, k)| crypto.verify(s, k, msg)).collect())
}

#[derive(Debug, Default)]
struct RoundState {
    proposal: Option<ProposalHeader>,
    pending: Option<VoteData>,
    /// Each signer's first vote of each phase this round and how far it is checked.
    votes: HashMap<(u16, Phase), (Vote, Check)>,
    /// Unverified votes by data and signer, with their sender.
    buffered: HashMap<VoteData, BTreeMap<u16, (NodeId, Signature)>>,
    pools: HashMap<VoteData, Pool>,
    /// Other nodes' aggregates by data and sender, verified or buffered.
    parts: HashMap<VoteData, HashMap<NodeId, Part>>,
    /// Verified aggregates of other nodes as atoms by data and id: one aggregate checked alone,
    /// or a batch of disjoint ones checked at once (combined only whole, like [`Pool`] atoms).
    part_atoms: HashMap<VoteData, BTreeMap<u64, (Bitmap, Signature)>>,
    next_atom: u64,
    /// Senders that sent an invalid aggregate this round (an honest node never does): their
    /// further aggregates are ignored, so they cannot make this node re-check batches at will.
    bad_senders: HashSet<NodeId>,
    aggregate_timer_fired: bool,
    /// The phases whose certificate this node has formed this round.
    formed: HashSet<Phase>,
    own_delivered: bool,
    timeouts: HashMap<u16, Timeout>,
}

/// One validator's BBFT state machine.
#[derive(Debug)]
pub struct Bbft {
    cfg: Config,
    key: SecretKey,
    crypto: Counted,
    epochs: BTreeMap<u64, Epoch>,
    epoch: Epoch,
    anchor: Anchor,
    me: Option<usize>,
    round: u64,
    last_voted_round: u64,
    high_qc: Option<Certificate>,
    last_tc: Option<TimeoutCert>,
    timed_out_round: u64,
    /// Highest round whose certified block this node sent a commit vote for.
    commit_voted_round: u64,
    proposed_round: u64,
    my_proposal: Option<Proposal>,
    end_proof: Option<Certificate>,
    committed: (u64, BlockId),
    blocks: HashMap<BlockId, (u64, BlockId)>,
    rounds: BTreeMap<u64, RoundState>,
    level: u8,
    good_rounds: u32,
    subscribers: HashMap<NodeId, u64>,
}

/// Errors constructing a state machine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// The epoch to start in was not supplied.
    #[error("epoch {0} not supplied")]
    MissingEpoch(u64),
    /// Invalid configuration.
    #[error("invalid config: {0}")]
    Config(&'static str),
}

/// How many rounds ahead of the current one messages are kept.
const ROUND_WINDOW: u64 = 8;

/// Longest chain of empty suffix blocks an epoch-end proof may span (a hash per block to check).
/// The suffix only grows by certified rounds that fail to form a two-chain, so it stays short;
/// the bound keeps a hostile proof from costing unbounded hashing.
const MAX_SUFFIX: u64 = 1024;

/// Distinct [`VoteData`] one sender's aggregates may cover in one round (an honest super node
/// sends one per block its group voted for: one, or a few under an equivocating leader).
const MAX_AGGREGATE_DATA_PER_SENDER: usize = 2;

/// Distinct [`VoteData`] kept in other nodes' aggregates per round, not counting the block this
/// node saw proposed (always accepted, so the bound costs no liveness).
const MAX_AGGREGATE_DATA_PER_ROUND: usize = 4;

/// Reconfiguration: whether `c` proves the block `block` at height `last` (an epoch's last
/// height) final. `c` is a commit certificate for `block`, or it finalizes its parent by the
/// two-chain rule and that parent must
/// descend from `block` through empty suffix blocks, whose ids follow from `block` alone
/// (`BlockId::compute(h, parent, [])`). A finalized block's ancestors are final, so `c` proves
/// `block` final however far past `last` the two-chain formed. The quorum is checked apart.
/// Hosts use it to check a stored epoch-end proof the same way.
pub fn proves_epoch_end(c: &Certificate, last: u64, block: &BlockId) -> bool {
    if c.is_commit() {
        // One-round finality: a commit certificate for the last block itself.
        return c.proves_final(last, block);
    }
    let d = &c.data;
    if !c.finalizes_parent() || d.height <= last || d.height - last > MAX_SUFFIX + 1 {
        return false;
    }
    let mut b = *block;
    for h in last + 1..d.height {
        b = BlockId::compute(h, &b, &[]);
    }
    b == d.parent
}

impl Bbft {
    /// A fresh node at genesis: epoch `epochs[0]` starts after the block `genesis` at
    /// `genesis_height` (which must be the epoch's first height minus one).
    pub fn new(
        cfg: Config,
        key: SecretKey,
        crypto: Arc<dyn Crypto>,
        epochs: Vec<Epoch>,
        genesis: BlockId,
    ) -> Result<Bbft, InitError> {
        let first = epochs
            .iter()
            .find(|e| e.index == 0)
            .ok_or(InitError::MissingEpoch(0))?;
        let anchor = Anchor {
            height: first.first_height.saturating_sub(1),
            block: genesis,
            proof: None,
        };
        let state = PersistedState {
            epoch: 0,
            anchor: anchor.clone(),
            last_voted_round: 0,
            high_qc: None,
            committed: (anchor.height, genesis),
            proposal: None,
            end_proof: None,
        };
        Bbft::restore(cfg, key, crypto, epochs, state)
    }

    /// A node restarting from its last [`Effect::Persist`].
    pub fn restore(
        cfg: Config,
        key: SecretKey,
        crypto: Arc<dyn Crypto>,
        epochs: Vec<Epoch>,
        state: PersistedState,
    ) -> Result<Bbft, InitError> {
        if cfg.leader_term < 2 {
            return Err(InitError::Config("leader_term must be at least 2"));
        }
        if cfg.round_timeout_ms == 0 {
            return Err(InitError::Config("round_timeout_ms must be positive"));
        }
        let epochs: BTreeMap<u64, Epoch> = epochs.into_iter().map(|e| (e.index, e)).collect();
        let epoch = epochs
            .get(&state.epoch)
            .cloned()
            .ok_or(InitError::MissingEpoch(state.epoch))?;
        let pk = key.public_key();
        let me = epoch
            .set
            .validators()
            .iter()
            .position(|v| v.key == pk && v.node == cfg.me);
        // A leader that signed a proposal resumes in (at least) that round to re-send it.
        let proposal = state.proposal.filter(|p| p.epoch == state.epoch);
        let proposed_round = proposal.as_ref().map_or(0, |p| p.round);
        let round = state
            .high_qc
            .as_ref()
            .map_or(1, |q| q.data.round + 1)
            .max(state.last_voted_round)
            .max(proposed_round)
            .max(1);
        let mut blocks = HashMap::new();
        if let Some(q) = &state.high_qc {
            blocks.insert(q.data.block, (q.data.height, q.data.parent));
        }
        Ok(Bbft {
            cfg,
            key,
            crypto: Counted::new(crypto),
            anchor: state.anchor,
            me,
            round,
            last_voted_round: state.last_voted_round,
            // Conservative after a restart: a timeout is not persisted apart from the round, so
            // any round up to the last voted one may have timed out (no commit vote there).
            timed_out_round: state.last_voted_round,
            commit_voted_round: 0,
            high_qc: state.high_qc,
            last_tc: None,
            proposed_round,
            my_proposal: proposal,
            end_proof: state.end_proof,
            committed: state.committed,
            blocks,
            rounds: BTreeMap::new(),
            level: 0,
            good_rounds: 0,
            subscribers: HashMap::new(),
            epoch,
            epochs,
        })
    }

    /// The signature work performed since the last call (pairing checks, signatures
    /// aggregated), and resets the count: lets a simulator charge what the core really did.
    pub fn take_verify_work(&mut self) -> VerifyWork {
        self.crypto.take()
    }

    /// Current epoch index.
    pub fn epoch(&self) -> u64 {
        self.epoch.index
    }

    /// Current round.
    pub fn round(&self) -> u64 {
        self.round
    }

    /// Last committed height and block.
    pub fn committed(&self) -> (u64, BlockId) {
        self.committed
    }

    /// Highest certificate known.
    pub fn high_qc(&self) -> Option<&Certificate> {
        self.high_qc.as_ref()
    }

    /// The current epoch's validator set.
    pub fn epoch_set(&self) -> Arc<ValidatorSet> {
        Arc::clone(&self.epoch.set)
    }

    /// Fallback level: 0 normal, 1 also the next super node, 2 all-to-all.
    pub fn fallback_level(&self) -> u8 {
        self.level
    }

    /// The validator index leading `round` of `set` with leader term `term`: each validator
    /// leads `term` consecutive rounds, the super nodes first (in order), then the others by
    /// index. Rotating through every validator, not only the super nodes, keeps the chain live
    /// when all super nodes are faulty (M ≤ √N can be below f).
    pub fn leader_index(set: &ValidatorSet, term: u64, round: u64) -> usize {
        let n = u64::try_from(set.len().max(1)).unwrap_or(1);
        let pos = usize::try_from((round.saturating_sub(1) / term.max(1)) % n).unwrap_or(0);
        let m = set.num_supers();
        if pos < m {
            return set.super_at(pos).unwrap_or(0);
        }
        (0..set.len())
            .filter(|&i| set.super_position(i).is_none())
            .nth(pos - m)
            .unwrap_or(0)
    }

    /// The state that [`Effect::Persist`] would carry now.
    pub fn persisted(&self) -> PersistedState {
        PersistedState {
            epoch: self.epoch.index,
            anchor: self.anchor.clone(),
            last_voted_round: self.last_voted_round,
            high_qc: self.high_qc.clone(),
            committed: self.committed,
            proposal: self.my_proposal.clone(),
            end_proof: self.end_proof.clone(),
        }
    }

    /// Feeds one input; returns the effects to perform, in order.
    pub fn step(&mut self, input: Input) -> Vec<Effect> {
        let mut out = Vec::new();
        match input {
            // Start / restart: enter the current round (timer; propose if leader).
            Input::Start => self.enter_round(self.round, &mut out),
            // T0 (as super node receiving from the leader) and T1 (as member receiving from its
            // super node): check, forward, validate, vote.
            Input::Message {
                from,
                message: Message::Proposal(p),
            } => self.on_proposal(from, *p, &mut out),
            // T2 received: a member's vote reaches its super node (or any node in all-to-all).
            Input::Message {
                from,
                message: Message::Vote(v),
            } => self.on_vote(from, v, &mut out),
            // T3 received: another super node's group aggregate.
            Input::Message {
                from,
                message: Message::Aggregate(c),
            } => self.on_aggregate(from, c, &mut out),
            // T4 received: a quorum certificate from a super node (or a catch-up reply).
            Input::Message {
                from,
                message: Message::Certificate(c),
            } => self.on_certificate(from, c, &mut out),
            // View change: another validator's timeout.
            Input::Message {
                from,
                message: Message::Timeout(t),
            } => self.on_timeout(from, *t, &mut out),
            // View change catch-up: a timeout certificate.
            Input::Message {
                from,
                message: Message::TimeoutCert(tc),
            } => {
                if tc.epoch == self.epoch.index && tc.round >= self.round {
                    if tc.verify(&self.epoch.set, &self.crypto) {
                        self.on_tc(*tc, &mut out);
                    } else {
                        out.push(Effect::Rejected {
                            from,
                            reason: Reject::BadSignature,
                        });
                    }
                }
            }
            // Fallback: a validator that fell back asks this node to forward it proposals (if
            // leader or super node) and the certificates it forms.
            Input::Message {
                from,
                message: Message::Subscribe { epoch, until_round },
            } => {
                if epoch == self.epoch.index && self.epoch.set.index_of(from).is_some() {
                    let until = until_round.min(self.round.saturating_add(8 * ROUND_WINDOW));
                    self.subscribers.insert(from, until);
                }
            }
            // View change: this node's round timer.
            Input::TimerFired(Timer::Round { epoch, round }) => {
                if epoch == self.epoch.index && round == self.round {
                    self.local_timeout(&mut out);
                }
            }
            // T3: the aggregation wait is over; send what the group has so far.
            Input::TimerFired(Timer::Aggregate { epoch, round }) => {
                if epoch == self.epoch.index {
                    let mut datas: Vec<VoteData> = Vec::new();
                    if let Some(rs) = self.rounds.get_mut(&round) {
                        rs.aggregate_timer_fired = true;
                        datas = rs.buffered.keys().copied().collect();
                        for (d, parts) in &rs.parts {
                            if parts.values().any(|p| p.atom.is_none()) && !datas.contains(d) {
                                datas.push(*d);
                            }
                        }
                    }
                    // Deterministic effect order (the simulator replays runs by seed).
                    datas.sort_by_key(|d| (d.block, d.parent, d.height, d.parent_round, d.phase));
                    // Optimistic verification: the buffered votes and aggregates are due now.
                    for d in &datas {
                        self.verify_buffered(*d, &mut out);
                        self.verify_parts(*d, &mut out);
                    }
                    self.flush_aggregates(round, &mut out);
                    for d in datas {
                        self.try_form_qc(d, &mut out);
                    }
                }
            }
            // T0 (leader): the host supplied the block; sign and send it to the super nodes.
            Input::Propose {
                epoch,
                round,
                payload,
            } => {
                if epoch == self.epoch.index && round == self.round && self.proposed_round < round {
                    self.propose(payload, &mut out);
                }
            }
            // T2 (member): the host validated the block; vote if still allowed.
            Input::Validated {
                epoch,
                round,
                block,
                valid,
            } => {
                if epoch == self.epoch.index && round == self.round && valid {
                    let pending = self.rounds.get(&round).and_then(|r| r.pending);
                    if let Some(data) = pending.filter(|d| d.block == block) {
                        self.cast_vote(data, &mut out);
                    }
                }
            }
            // Reconfiguration: a later epoch's set; switch now if waiting for it.
            Input::AddEpoch(e) => {
                let idx = e.index;
                self.epochs.insert(idx, e);
                if idx == self.epoch.index + 1
                    && self.committed.0 >= self.epoch.last_height
                    && let Some(proof) = self.end_proof.clone()
                {
                    self.switch_epoch(proof, &mut out);
                }
            }
        }
        out
    }

    // ---- roles ----

    fn my_super_pos(&self) -> Option<usize> {
        self.me.and_then(|i| self.epoch.set.super_position(i))
    }

    fn node_of(&self, i: usize) -> Option<NodeId> {
        self.epoch.set.get(i).map(|v| v.node)
    }

    fn leader(&self, round: u64) -> usize {
        Bbft::leader_index(&self.epoch.set, self.cfg.leader_term, round)
    }

    fn super_nodes(&self) -> Vec<NodeId> {
        (0..self.epoch.set.num_supers())
            .filter_map(|p| self.epoch.set.super_at(p))
            .filter_map(|i| self.node_of(i))
            .filter(|&n| n != self.cfg.me)
            .collect()
    }

    fn all_others(&self) -> Vec<NodeId> {
        self.epoch
            .set
            .validators()
            .iter()
            .map(|v| v.node)
            .filter(|&n| n != self.cfg.me)
            .collect()
    }

    /// Members of my group (if I am a super node) and current subscribers: T1 and T4 recipients.
    fn my_audience(&self) -> Vec<NodeId> {
        let mut to: Vec<NodeId> = match self.my_super_pos() {
            Some(pos) => self
                .epoch
                .set
                .group(pos)
                .iter()
                .filter_map(|&i| self.node_of(i))
                .collect(),
            None => Vec::new(),
        };
        for (&n, &until) in &self.subscribers {
            if until >= self.round && !to.contains(&n) {
                to.push(n);
            }
        }
        to.sort_unstable();
        to.retain(|&n| n != self.cfg.me);
        to
    }

    fn own_super_node(&self) -> Option<NodeId> {
        let g = self.me.and_then(|i| self.epoch.set.group_of(i))?;
        self.epoch.set.super_at(g).and_then(|i| self.node_of(i))
    }

    fn alternate_super_node(&self) -> Option<NodeId> {
        let m = self.epoch.set.num_supers();
        let g = self.me.and_then(|i| self.epoch.set.group_of(i))?;
        if m < 2 {
            return None;
        }
        self.epoch.set.super_at((g + 1) % m).and_then(|i| self.node_of(i))
    }

    /// Where my votes go at my fallback level.
    fn vote_targets(&self) -> Vec<NodeId> {
        let mut to = Vec::new();
        match self.level {
            0 => to.extend(self.own_super_node()),
            1 => {
                to.extend(self.own_super_node());
                to.extend(self.alternate_super_node());
            }
            _ => to = self.all_others(),
        }
        to.retain(|&n| n != self.cfg.me);
        to.dedup();
        to
    }

    fn send(out: &mut Vec<Effect>, to: Vec<NodeId>, message: Message) {
        match to.len() {
            0 => {}
            1 => out.push(Effect::Send { to: to[0], message }),
            _ => out.push(Effect::SendToGroup { to, message }),
        }
    }

    fn persist(&self, out: &mut Vec<Effect>) {
        out.push(Effect::Persist(self.persisted()));
    }

    /// Whether `c` is byte for byte the highest certificate this node holds (formed or verified
    /// already): checking it again would repeat a pairing for nothing.
    fn is_known_qc(&self, c: &Certificate) -> bool {
        self.high_qc.as_ref() == Some(c)
    }

    fn justify_height_block(&self) -> (u64, BlockId, u64) {
        match &self.high_qc {
            Some(q) => (q.data.height, q.data.block, q.data.round),
            None => (self.anchor.height, self.anchor.block, 0),
        }
    }

    // ---- rounds ----

    fn enter_round(&mut self, round: u64, out: &mut Vec<Effect>) {
        self.round = round;
        let keep_from = round.saturating_sub(1);
        self.rounds = self.rounds.split_off(&keep_from);
        self.subscribers.retain(|_, until| *until >= round);
        out.push(Effect::SetTimer {
            timer: Timer::Round {
                epoch: self.epoch.index,
                round,
            },
            after_ms: self.cfg.round_timeout_ms,
        });
        // Fallback: a member that has fallen back renews its subscriptions periodically.
        if self.level > 0 && self.my_super_pos().is_none() && round.is_multiple_of(16) {
            self.subscribe(out);
        }
        self.maybe_request_proposal(out);
    }

    fn maybe_request_proposal(&mut self, out: &mut Vec<Effect>) {
        let Some(me) = self.me else { return };
        if self.leader(self.round) != me {
            return;
        }
        if let Some(p) = self
            .my_proposal
            .clone()
            .filter(|p| p.epoch == self.epoch.index && p.round == self.round)
        {
            // T0 after a restart: re-send the proposal already signed (and persisted) for this
            // round; signing another block would be equivocation.
            self.send_proposal(p, out);
            return;
        }
        if self.proposed_round >= self.round {
            return;
        }
        let (height, parent, _) = self.justify_height_block();
        let next = height.saturating_add(1);
        if next > self.epoch.last_height {
            // Reconfiguration suffix: blocks past the epoch's end are empty and never committed;
            // they only carry the certificates that finalize the epoch's last block.
            self.propose(Payload::default(), out);
        } else {
            out.push(Effect::RequestProposal {
                epoch: self.epoch.index,
                round: self.round,
                height: next,
                parent,
            });
        }
    }

    fn propose(&mut self, payload: Payload, out: &mut Vec<Effect>) {
        let Some(me) = self.me else { return };
        let Ok(proposer) = u16::try_from(me) else { return };
        if payload.len() > self.cfg.max_payload {
            return;
        }
        let (height, parent, _) = self.justify_height_block();
        let justify = match (&self.high_qc, &self.anchor.proof) {
            (Some(q), _) => Justify::Qc(q.clone()),
            (None, Some(p)) => Justify::Anchor(p.clone()),
            (None, None) => Justify::Genesis,
        };
        let tc = self
            .last_tc
            .clone()
            .filter(|t| t.round.checked_add(1) == Some(self.round));
        let height = height.saturating_add(1);
        let block = BlockId::of(height, &parent, &payload);
        let signature = self.crypto.sign(
            &self.key,
            &ProposalHeader::signing_bytes(self.epoch.index, self.round, &block),
        );
        let p = Proposal {
            epoch: self.epoch.index,
            round: self.round,
            height,
            parent,
            justify,
            tc,
            payload,
            proposer,
            signature,
        };
        self.proposed_round = self.round;
        self.my_proposal = Some(p.clone());
        // Durable before it leaves: the host performs effects in order and a Persist is durable
        // before any later effect, so a restarted leader finds this proposal and re-sends it.
        self.persist(out);
        self.send_proposal(p, out);
    }

    /// T0: sends a signed proposal and processes it locally (as every super node does).
    fn send_proposal(&mut self, p: Proposal, out: &mut Vec<Effect>) {
        // T0: leader → every super node (and, for a leader that is not a super node, the nodes
        // that fell back to all-to-all; a super node serves those in T1).
        let mut to = self.super_nodes();
        if self.my_super_pos().is_none() {
            for n in self.my_audience() {
                if !to.contains(&n) {
                    to.push(n);
                }
            }
        }
        Bbft::send(out, to, Message::Proposal(Box::new(p.clone())));
        let me_node = self.cfg.me;
        self.on_proposal(me_node, p, out);
    }

    /// Checks a proposal's leader, signature, justification and TC; returns its vote data.
    /// `own`: this node signed it (its signature, justification and TC need no check).
    fn check_proposal(&self, p: &Proposal, own: bool) -> Result<VoteData, Reject> {
        let set = &self.epoch.set;
        if usize::from(p.proposer) != self.leader(p.round) {
            return Err(Reject::NotLeader);
        }
        if p.payload.len() > self.cfg.max_payload
            || (p.height > self.epoch.last_height && !p.payload.is_empty())
        {
            return Err(Reject::BadProposal);
        }
        let block = p.block_id();
        let Some(v) = set.get(usize::from(p.proposer)) else {
            return Err(Reject::UnknownSigner);
        };
        if !own
            && !self.crypto.verify(
                &p.signature,
                &[v.key],
                &ProposalHeader::signing_bytes(p.epoch, p.round, &block),
            )
        {
            return Err(Reject::BadSignature);
        }
        let parent_round = match &p.justify {
            Justify::Genesis => {
                if self.epoch.index != 0
                    || p.parent != self.anchor.block
                    || p.height != self.anchor.height.saturating_add(1)
                {
                    return Err(Reject::BadProposal);
                }
                0
            }
            Justify::Anchor(c) => {
                // Reconfiguration: the parent is our anchor and `c` proves it final. Compared
                // semantically: any valid proof of the same block will do (two different
                // quorums, or a different descendant two-chain, are equally legitimate).
                if p.parent != self.anchor.block || p.height != self.anchor.height.saturating_add(1) {
                    return Err(Reject::BadProposal);
                }
                if self.anchor.proof.as_ref() != Some(c) && !self.is_anchor_proof(c) {
                    return Err(Reject::BadProposal);
                }
                0
            }
            Justify::Qc(c) => {
                if c.is_commit()
                    || c.data.epoch != p.epoch
                    || c.data.block != p.parent
                    || c.data.height.checked_add(1) != Some(p.height)
                    || c.data.round >= p.round
                {
                    return Err(Reject::BadProposal);
                }
                // The parent is certified if this node already holds a verified certificate for
                // the same vote data: only the data matter to the voting rule, so a different
                // aggregate of it need not be checked again.
                let certified = self.high_qc.as_ref().is_some_and(|h| h.data == c.data);
                if !own && !certified && !c.verify_quorum(set, &self.crypto) {
                    return Err(Reject::BadSignature);
                }
                c.data.round
            }
        };
        if let Some(tc) = &p.tc {
            if tc.epoch != p.epoch || tc.round.checked_add(1) != Some(p.round) {
                return Err(Reject::BadProposal);
            }
            if !own && !tc.verify(set, &self.crypto) {
                return Err(Reject::BadSignature);
            }
        }
        Ok(VoteData {
            epoch: p.epoch,
            round: p.round,
            height: p.height,
            block,
            parent: p.parent,
            parent_round,
            phase: Phase::Prepare,
        })
    }

    fn on_proposal(&mut self, from: NodeId, p: Proposal, out: &mut Vec<Effect>) {
        // Reconfiguration: the first proposal of the next epoch carries the proof that
        // finalized this epoch's last block; adopt it and switch.
        if p.epoch == self.epoch.index + 1 {
            match &p.justify {
                Justify::Anchor(c) => self.on_anchor_proof(from, c.clone(), p.parent, p.height, out),
                Justify::Qc(c) => self.join_next_epoch_by_cert(from, c.clone(), out),
                Justify::Genesis => {}
            }
        }
        if p.epoch != self.epoch.index
            || p.round.saturating_add(1) < self.round
            || p.round > self.round + ROUND_WINDOW
        {
            return;
        }
        let data = match self.check_proposal(&p, from == self.cfg.me) {
            Ok(d) => d,
            Err(reason) => {
                out.push(Effect::Rejected { from, reason });
                return;
            }
        };
        // Equivocation: a second, different signed proposal for the round.
        let header = p.header();
        let rs = self.rounds.entry(p.round).or_default();
        match &rs.proposal {
            Some(first) if first.block != header.block => {
                out.push(Effect::Evidence(Evidence::ConflictingProposals(
                    Box::new(first.clone()),
                    Box::new(header),
                )));
                return;
            }
            Some(_) => return,
            None => rs.proposal = Some(header),
        }
        self.blocks.insert(data.block, (data.height, data.parent));
        // Absorb the justification and TC (may advance the round to p.round).
        if let Justify::Qc(c) = &p.justify {
            self.on_qc(c.clone(), out);
        }
        if p.epoch != self.epoch.index {
            // Absorbing it committed the epoch's last block and the next epoch began: this
            // proposal's round is not the new epoch's.
            return;
        }
        if let Some(tc) = &p.tc {
            self.on_tc(tc.clone(), out);
        }
        // T1: a super node forwards the proposal to its members and subscribers.
        if self.my_super_pos().is_some() {
            let mut to = self.my_audience();
            to.retain(|&n| n != from && Some(n) != self.node_of(usize::from(p.proposer)));
            let round = p.round;
            // The proposer's signature covers (epoch, round, block) only, so the justification
            // may be swapped for this node's own certificate of the same data: the one its
            // members received from it in T4, which they then need not verify again.
            let mut fwd = p.clone();
            if let Justify::Qc(c) = &p.justify
                && let Some(h) = self.high_qc.as_ref().filter(|h| h.data == c.data && *h != c)
            {
                fwd.justify = Justify::Qc(h.clone());
            }
            Bbft::send(out, to, Message::Proposal(Box::new(fwd)));
            out.push(Effect::SetTimer {
                timer: Timer::Aggregate {
                    epoch: self.epoch.index,
                    round,
                },
                after_ms: self.cfg.aggregate_wait_ms,
            });
        }
        // Voting rule (the lock): one vote per round, and the parent is either certified in the
        // previous round or at least as high as every certificate reported in the TC.
        if p.round != self.round || p.round <= self.last_voted_round || self.me.is_none() {
            return;
        }
        let direct = data.parent_round.checked_add(1) == Some(p.round);
        let via_tc =
            p.tc.as_ref()
                .is_some_and(|tc| data.parent_round >= tc.max_high_qc_round());
        if !(direct || via_tc) {
            return;
        }
        if p.height > self.epoch.last_height {
            self.cast_vote(data, out);
        } else {
            if let Some(rs) = self.rounds.get_mut(&p.round) {
                rs.pending = Some(data);
            }
            out.push(Effect::Validate {
                epoch: p.epoch,
                round: p.round,
                height: p.height,
                block: data.block,
                parent: p.parent,
                payload: p.payload,
            });
        }
    }

    fn cast_vote(&mut self, data: VoteData, out: &mut Vec<Effect>) {
        let Some(me) = self.me else { return };
        let Ok(signer) = u16::try_from(me) else { return };
        if data.round <= self.last_voted_round {
            return;
        }
        self.last_voted_round = data.round;
        self.persist(out);
        self.send_vote(signer, data, out);
    }

    /// T2: signs `data` and sends the vote to my super node (fallback: also the next one; then
    /// everyone); a super node at level 0 only pools its own vote. Both phases travel this way.
    fn send_vote(&mut self, signer: u16, data: VoteData, out: &mut Vec<Effect>) {
        let signature = self.crypto.sign(&self.key, &data.signing_bytes());
        let vote = Vote {
            data,
            signer,
            signature,
        };
        let to = if self.my_super_pos().is_some() && self.level == 0 {
            Vec::new()
        } else {
            self.vote_targets()
        };
        Bbft::send(out, to, Message::Vote(vote.clone()));
        let me_node = self.cfg.me;
        self.on_vote(me_node, vote, out);
    }

    fn on_vote(&mut self, from: NodeId, v: Vote, out: &mut Vec<Effect>) {
        let d = v.data;
        if !self.in_window(&d) {
            return;
        }
        // Votes are never relayed (T2 goes from the voter to its super nodes), so the
        // transport-authenticated sender must be the signer: a buffered vote is then always
        // attributable to whoever sent it.
        if self.node_of(usize::from(v.signer)) != Some(from) {
            out.push(Effect::Rejected {
                from,
                reason: Reject::UnknownSigner,
            });
            return;
        }
        let own = from == self.cfg.me;
        let n = self.epoch.set.len();
        let rs = self.rounds.entry(d.round).or_default();
        if let Some((first, check)) = rs.votes.get(&(v.signer, d.phase)).cloned() {
            if first != v {
                self.on_second_vote(from, first, check, v, out);
            }
            return;
        }
        if own {
            // This node's own vote: signed here, nothing to verify.
            rs.votes.insert((v.signer, d.phase), (v.clone(), Check::Solo));
            rs.pools
                .entry(d)
                .or_insert_with(|| Pool::new(n))
                .add(Bitmap::one(n, usize::from(v.signer)), v.signature);
        } else {
            // Optimistic verification: buffer until the votes could make a difference.
            rs.votes.insert((v.signer, d.phase), (v.clone(), Check::Buffered));
            rs.buffered
                .entry(d)
                .or_default()
                .insert(v.signer, (from, v.signature));
        }
        self.maybe_verify(d, out);
        self.flush_aggregates(d.round, out);
        self.try_form_qc(d, out);
    }

    /// A second, different vote by the same signer in a round: resolve the first if it is still
    /// unverified, then report equivocation if both are validly signed.
    fn on_second_vote(&mut self, from: NodeId, first: Vote, check: Check, v: Vote, out: &mut Vec<Effect>) {
        let Some(key) = self.epoch.set.get(usize::from(v.signer)).map(|val| val.key) else {
            return;
        };
        if check == Check::Buffered {
            self.verify_one_buffered(first.data, first.signer, out);
            if !self
                .rounds
                .get(&v.data.round)
                .is_some_and(|r| r.votes.contains_key(&(v.signer, v.data.phase)))
            {
                // The first was forged and dropped: this one is the signer's first vote.
                self.on_vote(from, v, out);
                return;
            }
        }
        if first.data == v.data {
            // BLS signatures are unique: a different signature on the same data is invalid.
            out.push(Effect::Rejected {
                from,
                reason: Reject::BadSignature,
            });
            return;
        }
        let first_ok = check != Check::Batch
            || self
                .crypto
                .verify(&first.signature, &[key], &first.data.signing_bytes());
        if !self.crypto.verify(&v.signature, &[key], &v.data.signing_bytes()) {
            out.push(Effect::Rejected {
                from,
                reason: Reject::BadSignature,
            });
        } else if first_ok {
            // Equivocation: two different signed votes for one round.
            out.push(Effect::Evidence(Evidence::ConflictingVotes(
                Box::new(first),
                Box::new(v),
            )));
        }
    }

    /// Optimistic verification: check the buffered votes for `d` (as one aggregate) once they
    /// could make a difference: my group is complete (T3 is due), the aggregation wait is
    /// over, or together with what is already verified they could complete a quorum. Other
    /// nodes' buffered aggregates (T3) are checked likewise, as one batch, when the wait is over
    /// or they could complete a quorum.
    fn maybe_verify(&mut self, d: VoteData, out: &mut Vec<Effect>) {
        let set = Arc::clone(&self.epoch.set);
        let pos = self.my_super_pos();
        let Some(rs) = self.rounds.get(&d.round) else {
            return;
        };
        let buf = rs.buffered.get(&d).filter(|b| !b.is_empty());
        let parts = rs.parts.get(&d);
        let unchecked_parts = parts.is_some_and(|m| m.values().any(|p| p.atom.is_none()));
        if buf.is_none() && !unchecked_parts {
            return;
        }
        let mut have = rs
            .pools
            .get(&d)
            .map_or_else(|| Bitmap::new(set.len()), |p| p.signers.clone());
        for &s in buf.into_iter().flat_map(|b| b.keys()) {
            have.set(usize::from(s));
        }
        let group_complete = pos.is_some_and(|p| set.group(p).iter().all(|&i| have.get(i)));
        let fired = pos.is_some() && rs.aggregate_timer_fired;
        for p in parts.into_iter().flat_map(|m| m.values()) {
            have.union_with(&p.cert.signers);
        }
        let quorum = set.is_quorum(set.power_of(&have));
        if buf.is_some() && (group_complete || fired || quorum) {
            self.verify_buffered(d, out);
        }
        if unchecked_parts && (fired || quorum) {
            self.verify_parts(d, out);
        }
    }

    /// Verifies every buffered vote for `d` with one same-message aggregate check (sound: every
    /// key's proof of possession was checked when the set was built). If it fails, falls back
    /// to one check per vote: bad votes are rejected, good ones kept. Verified votes enter the
    /// pool as one unit ("atom"): only whole verified aggregates are ever combined, so a vote
    /// never reaches a certificate unverified.
    fn verify_buffered(&mut self, d: VoteData, out: &mut Vec<Effect>) {
        let set = Arc::clone(&self.epoch.set);
        let n = set.len();
        let Some(rs) = self.rounds.get_mut(&d.round) else {
            return;
        };
        let Some(buf) = rs.buffered.remove(&d) else {
            return;
        };
        let entries: Vec<(u16, NodeId, Signature, PublicKey)> = buf
            .into_iter()
            .filter_map(|(s, (from, sig))| set.get(usize::from(s)).map(|v| (s, from, sig, v.key)))
            .collect();
        if entries.is_empty() {
            return;
        }
        let items: Vec<(Signature, Vec<PublicKey>)> = entries.iter().map(|e| (e.2, vec![e.3])).collect();
        let pool = rs.pools.entry(d).or_insert_with(|| Pool::new(n));
        match check_batch(&self.crypto, &d.signing_bytes(), &items) {
            BatchCheck::Whole(agg) => {
                let mut signers = Bitmap::new(n);
                let check = if entries.len() > 1 {
                    Check::Batch
                } else {
                    Check::Solo
                };
                for e in &entries {
                    signers.set(usize::from(e.0));
                    if let Some(slot) = rs.votes.get_mut(&(e.0, d.phase)) {
                        slot.1 = check;
                    }
                }
                pool.add(signers, agg);
            }
            BatchCheck::Each(ok) => {
                for ((s, from, sig, _), good) in entries.into_iter().zip(ok) {
                    if good {
                        pool.add(Bitmap::one(n, usize::from(s)), sig);
                        if let Some(slot) = rs.votes.get_mut(&(s, d.phase)) {
                            slot.1 = Check::Solo;
                        }
                    } else {
                        rs.votes.remove(&(s, d.phase));
                        out.push(Effect::Rejected {
                            from,
                            reason: Reject::BadSignature,
                        });
                    }
                }
            }
        }
    }

    /// T3 received, optimistic verification: checks the buffered aggregates of other nodes for
    /// `d` like buffered votes — a batch of pairwise disjoint ones (largest first) as one
    /// same-message aggregate, one pairing; overlapping ones (fallback voters) in a further
    /// batch. A verified batch becomes one atom, combined only whole; if a batch fails, each
    /// aggregate is checked alone and the bad ones are rejected (their sender is ignored for the
    /// rest of the round). An aggregate never reaches a certificate unverified.
    fn verify_parts(&mut self, d: VoteData, out: &mut Vec<Effect>) {
        let set = Arc::clone(&self.epoch.set);
        let msg = d.signing_bytes();
        let Some(rs) = self
            .rounds
            .get_mut(&d.round)
            .filter(|r| !r.formed.contains(&d.phase))
        else {
            return;
        };
        let Some(parts) = rs.parts.get_mut(&d) else {
            return;
        };
        let mut todo: Vec<(u64, NodeId)> = parts
            .iter()
            .filter(|(_, p)| p.atom.is_none())
            .map(|(&from, p)| (set.power_of(&p.cert.signers), from))
            .collect();
        todo.sort_by_key(|&(power, from)| (std::cmp::Reverse(power), from));
        while !todo.is_empty() {
            let mut union = Bitmap::new(set.len());
            let mut batch = Vec::new();
            let mut rest = Vec::new();
            for (power, from) in todo {
                match parts.get(&from) {
                    Some(p) if union.is_disjoint(&p.cert.signers) => {
                        union.union_with(&p.cert.signers);
                        batch.push(from);
                    }
                    Some(_) => rest.push((power, from)),
                    None => {}
                }
            }
            todo = rest;
            let items: Vec<(Signature, Vec<PublicKey>)> = batch
                .iter()
                .filter_map(|f| parts.get(f))
                .map(|p| (p.cert.signature, set.keys_of(&p.cert.signers).unwrap_or_default()))
                .collect();
            match check_batch(&self.crypto, &msg, &items) {
                BatchCheck::Whole(agg) => {
                    let id = rs.next_atom;
                    rs.next_atom += 1;
                    for f in &batch {
                        if let Some(p) = parts.get_mut(f) {
                            p.atom = Some(id);
                        }
                    }
                    rs.part_atoms.entry(d).or_default().insert(id, (union, agg));
                }
                BatchCheck::Each(ok) => {
                    for (from, good) in batch.into_iter().zip(ok) {
                        if good {
                            let id = rs.next_atom;
                            rs.next_atom += 1;
                            if let Some(p) = parts.get_mut(&from) {
                                p.atom = Some(id);
                                let atom = (p.cert.signers.clone(), p.cert.signature);
                                rs.part_atoms.entry(d).or_default().insert(id, atom);
                            }
                        } else {
                            // Every aggregate is checked against the keys its bitmap names: a
                            // forged bitmap or an invalid aggregate is rejected here.
                            parts.remove(&from);
                            rs.bad_senders.insert(from);
                            out.push(Effect::Rejected {
                                from,
                                reason: Reject::BadSignature,
                            });
                        }
                    }
                }
            }
        }
    }

    /// Verifies one buffered vote on its own (needed when its signer sends a second vote).
    fn verify_one_buffered(&mut self, d: VoteData, signer: u16, out: &mut Vec<Effect>) {
        let n = self.epoch.set.len();
        let Some(key) = self.epoch.set.get(usize::from(signer)).map(|v| v.key) else {
            return;
        };
        let Some(rs) = self.rounds.get_mut(&d.round) else {
            return;
        };
        let Some((from, sig)) = rs.buffered.get_mut(&d).and_then(|b| b.remove(&signer)) else {
            return;
        };
        if self.crypto.verify(&sig, &[key], &d.signing_bytes()) {
            rs.pools
                .entry(d)
                .or_insert_with(|| Pool::new(n))
                .add(Bitmap::one(n, usize::from(signer)), sig);
            if let Some(slot) = rs.votes.get_mut(&(signer, d.phase)) {
                slot.1 = Check::Solo;
            }
        } else {
            rs.votes.remove(&(signer, d.phase));
            out.push(Effect::Rejected {
                from,
                reason: Reject::BadSignature,
            });
        }
    }

    /// T3: a super node sends its group aggregate to the other super nodes once the whole
    /// group has voted, or when the wait is over (then on every new vote).
    fn flush_aggregates(&mut self, round: u64, out: &mut Vec<Effect>) {
        let Some(pos) = self.my_super_pos() else { return };
        if self.epoch.set.num_supers() < 2 {
            return;
        }
        let group: Vec<usize> = self.epoch.set.group(pos).to_vec();
        let others = self.super_nodes();
        let Some(rs) = self.rounds.get_mut(&round) else {
            return;
        };
        let fired = rs.aggregate_timer_fired;
        let mut sends = Vec::new();
        for (data, pool) in rs.pools.iter_mut() {
            let complete = group.iter().all(|&i| pool.signers.get(i));
            let count = pool.signers.count();
            if count > pool.sent_count
                && (complete || fired)
                && let Some(sig) = self.crypto.aggregate(&pool.sigs())
            {
                pool.sent_count = count;
                sends.push(Certificate {
                    data: *data,
                    signers: pool.signers.clone(),
                    signature: sig,
                });
            }
        }
        for c in sends {
            Bbft::send(out, others.clone(), Message::Aggregate(c));
        }
    }

    fn on_aggregate(&mut self, from: NodeId, c: Certificate, out: &mut Vec<Effect>) {
        let d = c.data;
        if !self.in_window(&d) {
            return;
        }
        if self.epoch.set.index_of(from).is_none() || c.signers.len() != self.epoch.set.len() {
            out.push(Effect::Rejected {
                from,
                reason: Reject::UnknownSigner,
            });
            return;
        }
        // Bounded memory: a Byzantine node can sign aggregates for any number of blocks; keep at
        // most a few distinct ones per sender and per round, except the block this node saw
        // proposed. Checked before the (costly) signature check.
        if let Some(rs) = self.rounds.get(&d.round)
            && rs.proposal.as_ref().is_none_or(|h| h.block != d.block)
            && rs.parts.get(&d).is_none_or(|m| !m.contains_key(&from))
        {
            let by_sender = rs.parts.values().filter(|m| m.contains_key(&from)).count();
            let new_data = !rs.parts.contains_key(&d);
            if by_sender >= MAX_AGGREGATE_DATA_PER_SENDER
                || (new_data && rs.parts.len() >= MAX_AGGREGATE_DATA_PER_ROUND)
            {
                out.push(Effect::Rejected {
                    from,
                    reason: Reject::Flood,
                });
                return;
            }
        }
        let set = Arc::clone(&self.epoch.set);
        let power = set.power_of(&c.signers);
        if power == 0 {
            out.push(Effect::Rejected {
                from,
                reason: Reject::BadSignature,
            });
            return;
        }
        let rs = self.rounds.entry(d.round).or_default();
        if rs.bad_senders.contains(&from) {
            return;
        }
        // Optimistic verification: buffer it (the most powerful one per sender); it is checked
        // with the others in one batch when they could complete a quorum or the wait is over.
        let parts = rs.parts.entry(d).or_default();
        if let Some(old) = parts.get(&from) {
            if set.power_of(&old.cert.signers) >= power {
                return;
            }
            // Superseded: its atom cannot be split, so the rest of that batch is checked again.
            if let Some(id) = old.atom {
                if let Some(atoms) = rs.part_atoms.get_mut(&d) {
                    atoms.remove(&id);
                }
                for p in parts.values_mut() {
                    if p.atom == Some(id) {
                        p.atom = None;
                    }
                }
            }
        }
        parts.insert(from, Part { cert: c, atom: None });
        self.maybe_verify(d, out);
        self.try_form_qc(d, out);
    }

    /// T4: combine my pool and other super nodes' aggregates (disjoint signer sets) into a
    /// certificate once they hold a quorum; send it to my members and subscribers.
    fn try_form_qc(&mut self, d: VoteData, out: &mut Vec<Effect>) {
        let set = Arc::clone(&self.epoch.set);
        let Some(rs) = self.rounds.get_mut(&d.round) else {
            return;
        };
        if rs.formed.contains(&d.phase) {
            return;
        }
        // Aggregates only add up when their signer sets are disjoint. Fallback voters can appear
        // in several aggregates, so take the verified atoms of other nodes' aggregates and of my
        // pool greedily (largest first, disjoint); unverified ones are never candidates.
        let mut cands: Vec<(&Bitmap, Signature)> = rs
            .part_atoms
            .get(&d)
            .map(|a| a.values().map(|(b, s)| (b, *s)).collect())
            .unwrap_or_default();
        if let Some(pool) = rs.pools.get(&d) {
            cands.extend(pool.atoms.iter().map(|(b, s)| (b, *s)));
        }
        cands.sort_by_key(|(b, _)| (std::cmp::Reverse(set.power_of(b)), b.as_bytes().to_vec()));
        let mut union = Bitmap::new(set.len());
        let mut sigs = Vec::new();
        for (b, sig) in cands {
            if union.is_disjoint(b) {
                union.union_with(b);
                sigs.push(sig);
            }
        }
        if !set.is_quorum(set.power_of(&union)) {
            return;
        }
        let Some(signature) = self.crypto.aggregate(&sigs) else {
            return;
        };
        rs.formed.insert(d.phase);
        let qc = Certificate {
            data: d,
            signers: union,
            signature,
        };
        // T3 still owed: a super node that completes the certificate before its own group has
        // been sent shares the certificate itself with the other super nodes, so they need not
        // wait for its group (it has moved on and drops the group's late votes).
        let mut owed = false;
        if let Some(pool) = rs.pools.get_mut(&d)
            && pool.sent_count < pool.signers.count()
        {
            pool.sent_count = pool.signers.count();
            owed = true;
        }
        if owed && self.my_super_pos().is_some() && set.num_supers() > 1 {
            Bbft::send(out, self.super_nodes(), Message::Aggregate(qc.clone()));
        }
        Bbft::send(out, self.my_audience(), Message::Certificate(qc.clone()));
        match d.phase {
            Phase::Prepare => self.on_qc(qc, out),
            Phase::Commit => self.on_commit_cert(qc, out),
        }
    }

    fn on_certificate(&mut self, from: NodeId, c: Certificate, out: &mut Vec<Effect>) {
        if c.data.epoch == self.epoch.index + 1 {
            // A straggler learns the next epoch began; join it (anchor unknown).
            self.join_next_epoch_by_cert(from, c, out);
            return;
        }
        if c.data.epoch != self.epoch.index {
            return;
        }
        let from_own = Some(from) == self.own_super_node() && self.my_super_pos().is_none();
        if !self.is_known_qc(&c) && !c.verify_quorum(&self.epoch.set, &self.crypto) {
            // Fallback: my super node lies; also use the next one from now on.
            if from_own && self.level == 0 {
                self.escalate(out);
            }
            out.push(Effect::Rejected {
                from,
                reason: Reject::BadSignature,
            });
            return;
        }
        if c.is_commit() {
            self.on_commit_cert(c, out);
            return;
        }
        if from_own
            && c.data.round == self.round
            && let Some(rs) = self.rounds.get_mut(&c.data.round)
            && !rs.own_delivered
        {
            rs.own_delivered = true;
            self.good_rounds += 1;
            if self.level > 0 && self.good_rounds >= self.cfg.fallback_decay_rounds {
                self.level -= 1;
                self.good_rounds = 0;
            }
        }
        self.on_qc(c, out);
    }

    /// A verified prepare certificate: update the lock, vote to commit its block, commit by the
    /// two-chain rule, advance.
    fn on_qc(&mut self, qc: Certificate, out: &mut Vec<Effect>) {
        let d = qc.data;
        if d.epoch != self.epoch.index || qc.is_commit() {
            return;
        }
        self.blocks.insert(d.block, (d.height, d.parent));
        if self.high_qc.as_ref().is_none_or(|h| h.data.round < d.round) {
            self.high_qc = Some(qc.clone());
            self.persist(out);
        }
        self.cast_commit_vote(d, out);
        if self.epoch.index != d.epoch {
            // The commit vote completed a commit certificate for the epoch's last block and the
            // next epoch began (in its own round 1): nothing of this certificate applies there.
            return;
        }
        // Commit rule: a certificate whose parent was certified in the round just before
        // finalizes the parent (and its uncommitted ancestors).
        if qc.finalizes_parent() && d.height > 0 {
            let target = d.height - 1;
            let last = self.epoch.last_height;
            if target > self.committed.0 && target > self.anchor.height {
                if target <= last {
                    self.commit_chain(target, d.parent, &qc, out);
                } else if self.committed.0 < last
                    && let Some(end) = self.epoch_end_block(&qc)
                {
                    // Reconfiguration: a two-chain past the epoch's end finalizes the epoch's
                    // last block too (it is an ancestor), however many suffix blocks lie between.
                    self.commit_chain(last, end, &qc, out);
                }
                if self.epoch.index != d.epoch {
                    // The commit ended the epoch; the new one has entered its first round.
                    return;
                }
            }
        }
        if d.round >= self.round {
            self.enter_round(d.round.saturating_add(1), out);
        }
    }

    /// One-round finality (§3a): a block's QC is held (and persisted as the lock, before this
    /// vote leaves); vote to commit it. Never for a round at or before one this node timed out
    /// in: every timeout it sends after this vote then reports a certificate at least this
    /// high, which is what keeps a later view change from certifying a conflicting block.
    fn cast_commit_vote(&mut self, d: VoteData, out: &mut Vec<Effect>) {
        let Some(me) = self.me else { return };
        let Ok(signer) = u16::try_from(me) else { return };
        if !self.cfg.commit_phase || d.round <= self.timed_out_round || d.round <= self.commit_voted_round {
            return;
        }
        // Suffix blocks are never committed, committed blocks need no vote, and a round left
        // behind has the next certificate's two-chain to commit it.
        if d.height > self.epoch.last_height
            || d.height <= self.committed.0
            || d.height <= self.anchor.height
            || d.round.saturating_add(1) < self.round
        {
            return;
        }
        self.commit_voted_round = d.round;
        let data = VoteData {
            phase: Phase::Commit,
            ..d
        };
        self.send_vote(signer, data, out);
    }

    /// One-round finality (§3a): a verified commit certificate makes its block (and its
    /// uncommitted ancestors) final at once, without waiting for the next round.
    fn on_commit_cert(&mut self, cc: Certificate, out: &mut Vec<Effect>) {
        let d = cc.data;
        if d.epoch != self.epoch.index
            || !cc.is_commit()
            || d.height <= self.committed.0
            || d.height <= self.anchor.height
            || d.height > self.epoch.last_height
        {
            return;
        }
        self.blocks.insert(d.block, (d.height, d.parent));
        self.commit_chain(d.height, d.block, &cc, out);
    }

    /// Whether a vote or aggregate for `d` belongs to a round still collected: this epoch, the
    /// current round or a few ahead, and for commit votes also the round just before (a node
    /// enters the next round as soon as a block is certified, while its commit votes arrive).
    fn in_window(&self, d: &VoteData) -> bool {
        let low = match d.phase {
            Phase::Prepare => self.round,
            Phase::Commit => self.round.saturating_sub(1),
        };
        d.epoch == self.epoch.index && d.round >= low && d.round <= self.round + ROUND_WINDOW
    }

    fn commit_chain(&mut self, height: u64, block: BlockId, proof: &Certificate, out: &mut Vec<Effect>) {
        let mut chain = vec![(height, block)];
        let (mut h, mut b) = (height, block);
        while h > self.committed.0 + 1 {
            let Some(&(bh, parent)) = self.blocks.get(&b) else {
                break;
            };
            if bh != h {
                break;
            }
            h -= 1;
            b = parent;
            chain.push((h, b));
        }
        for &(h, b) in chain.iter().rev() {
            out.push(Effect::Commit {
                epoch: self.epoch.index,
                height: h,
                block: b,
                proof: proof.clone(),
            });
        }
        self.committed = (height, block);
        // Keep the suffix (past the epoch's end) for the epoch-end proof search.
        let last = self.epoch.last_height;
        self.blocks.retain(|_, (bh, _)| *bh + 2 >= height || *bh >= last);
        if height == last {
            self.end_proof = Some(proof.clone());
        }
        self.persist(out);
        if height == last && self.epochs.contains_key(&(self.epoch.index + 1)) {
            self.switch_epoch(proof.clone(), out);
        }
    }

    /// Reconfiguration: the block at the epoch's last height that `qc` (past the end) proves
    /// final, among the blocks at that height this node knows.
    fn epoch_end_block(&self, qc: &Certificate) -> Option<BlockId> {
        let last = self.epoch.last_height;
        self.blocks
            .iter()
            .filter(|(_, (h, _))| *h == last)
            .map(|(b, _)| *b)
            .find(|b| proves_epoch_end(qc, last, b))
    }

    /// Reconfiguration: whether `c` is a valid proof (under the previous epoch's set) that our
    /// anchor block is final.
    fn is_anchor_proof(&self, c: &Certificate) -> bool {
        let Some(prev) = self.epoch.index.checked_sub(1).and_then(|i| self.epochs.get(&i)) else {
            return false;
        };
        c.data.epoch == prev.index
            && prev.last_height == self.anchor.height
            && proves_epoch_end(c, prev.last_height, &self.anchor.block)
            && c.verify_quorum(&prev.set, &self.crypto)
    }

    /// Reconfiguration: start the next epoch from this epoch's committed last block, finalized
    /// by `proof`.
    fn switch_epoch(&mut self, proof: Certificate, out: &mut Vec<Effect>) {
        if self.committed.0 != self.epoch.last_height {
            return;
        }
        let Some(next) = self.epochs.get(&(self.epoch.index + 1)).cloned() else {
            return;
        };
        self.anchor = Anchor {
            height: self.committed.0,
            block: self.committed.1,
            proof: Some(proof),
        };
        self.reset_for(next);
        self.persist(out);
        self.enter_round(1, out);
    }

    fn reset_for(&mut self, next: Epoch) {
        let pk = self.key.public_key();
        self.me = next
            .set
            .validators()
            .iter()
            .position(|v| v.key == pk && v.node == self.cfg.me);
        self.epoch = next;
        self.round = 1;
        self.last_voted_round = 0;
        self.timed_out_round = 0;
        self.commit_voted_round = 0;
        self.proposed_round = 0;
        self.my_proposal = None;
        self.end_proof = None;
        self.high_qc = None;
        self.last_tc = None;
        self.rounds.clear();
        self.level = 0;
        self.good_rounds = 0;
        self.subscribers.clear();
    }

    /// Reconfiguration (straggler): the next epoch's first proposal (height `height`, extending
    /// `parent`) carries `c`; check that `c` proves `parent` final as this epoch's last block,
    /// commit it, and switch.
    fn on_anchor_proof(
        &mut self,
        from: NodeId,
        c: Certificate,
        parent: BlockId,
        height: u64,
        out: &mut Vec<Effect>,
    ) {
        let last = self.epoch.last_height;
        let consistent = self.committed.0 < last || self.committed == (last, parent);
        let ok = consistent
            && c.data.epoch == self.epoch.index
            && height.checked_sub(1) == Some(last)
            && proves_epoch_end(&c, last, &parent)
            && c.verify_quorum(&self.epoch.set, &self.crypto);
        if !ok {
            out.push(Effect::Rejected {
                from,
                reason: Reject::BadProposal,
            });
            return;
        }
        if !self.epochs.contains_key(&(self.epoch.index + 1)) {
            return;
        }
        if self.committed.0 < last {
            // Commits `parent` (and known ancestors) and switches.
            self.commit_chain(last, parent, &c, out);
        }
        if c.data.epoch == self.epoch.index {
            self.switch_epoch(c, out);
        }
    }

    fn join_next_epoch_by_cert(&mut self, from: NodeId, c: Certificate, out: &mut Vec<Effect>) {
        let Some(next) = self.epochs.get(&(self.epoch.index + 1)).cloned() else {
            return;
        };
        if !c.verify_quorum(&next.set, &self.crypto) {
            out.push(Effect::Rejected {
                from,
                reason: Reject::BadSignature,
            });
            return;
        }
        self.anchor = Anchor {
            height: next.first_height.saturating_sub(1),
            block: BlockId::default(),
            proof: None,
        };
        self.reset_for(next);
        self.persist(out);
        if c.is_commit() {
            self.on_commit_cert(c, out);
        } else {
            self.on_qc(c, out);
        }
    }

    // ---- view change ----

    fn escalate(&mut self, out: &mut Vec<Effect>) {
        if self.my_super_pos().is_some() || self.level >= 2 {
            return;
        }
        self.level += 1;
        self.good_rounds = 0;
        self.subscribe(out);
    }

    fn subscribe(&self, out: &mut Vec<Effect>) {
        let msg = Message::Subscribe {
            epoch: self.epoch.index,
            until_round: self.round + 4 * ROUND_WINDOW,
        };
        let to = match self.level {
            0 => Vec::new(),
            1 => self.alternate_super_node().into_iter().collect(),
            _ => self.all_others(),
        };
        Bbft::send(out, to, msg);
    }

    /// View change: stop voting in this round, tell everyone with my highest certificate,
    /// re-arm the timer (re-sending covers lost messages), and fall back one level.
    fn local_timeout(&mut self, out: &mut Vec<Effect>) {
        out.push(Effect::SetTimer {
            timer: Timer::Round {
                epoch: self.epoch.index,
                round: self.round,
            },
            after_ms: self.cfg.round_timeout_ms,
        });
        let Some(me) = self.me else { return };
        let Ok(signer) = u16::try_from(me) else { return };
        let round = self.round;
        if self.timed_out_round < round {
            self.timed_out_round = round;
            // Fallback: a member whose round failed widens where it sends and listens.
            let delivered = self.rounds.get(&round).is_some_and(|r| r.own_delivered);
            if !delivered {
                self.escalate(out);
            }
        }
        if self.last_voted_round < round {
            self.last_voted_round = round;
            self.persist(out);
        }
        let hqr = self.high_qc.as_ref().map_or(0, |q| q.data.round);
        let signature = self
            .crypto
            .sign(&self.key, &Timeout::signing_bytes(self.epoch.index, round, hqr));
        let t = Timeout {
            epoch: self.epoch.index,
            round,
            high_qc: self.high_qc.clone(),
            last_tc: self
                .last_tc
                .clone()
                .filter(|tc| tc.round.checked_add(1) == Some(round)),
            signer,
            signature,
        };
        Bbft::send(out, self.all_others(), Message::Timeout(Box::new(t.clone())));
        let me_node = self.cfg.me;
        self.on_timeout(me_node, t, out);
    }

    /// Whether `t` is validly signed by its claimed signer in `set` (one pairing check; this
    /// node's own timeouts are trusted).
    fn timeout_signed(&self, from: NodeId, t: &Timeout, set: &ValidatorSet) -> Result<(), Reject> {
        let Some(val) = set.get(usize::from(t.signer)) else {
            return Err(Reject::UnknownSigner);
        };
        if t.high_qc_round() >= t.round {
            return Err(Reject::BadTimeout);
        }
        let own = from == self.cfg.me && self.me == Some(usize::from(t.signer));
        let msg = Timeout::signing_bytes(t.epoch, t.round, t.high_qc_round());
        if own || self.crypto.verify(&t.signature, &[val.key], &msg) {
            Ok(())
        } else {
            Err(Reject::BadSignature)
        }
    }

    fn on_timeout(&mut self, from: NodeId, t: Timeout, out: &mut Vec<Effect>) {
        if t.epoch.checked_add(1) == Some(self.epoch.index)
            && let Some(proof) = self.anchor.proof.clone()
        {
            // Reconfiguration catch-up: a straggler still in the previous epoch gets the
            // certificate that finalized that epoch's last block, and switches. Only a timeout
            // signed under that epoch's set is answered (no reflection of forged traffic).
            let Some(prev) = self.epochs.get(&t.epoch).map(|e| Arc::clone(&e.set)) else {
                return;
            };
            match self.timeout_signed(from, &t, &prev) {
                Ok(()) => out.push(Effect::Send {
                    to: from,
                    message: Message::Certificate(proof),
                }),
                Err(reason) => out.push(Effect::Rejected { from, reason }),
            }
            return;
        }
        if t.epoch != self.epoch.index || t.round > self.round + ROUND_WINDOW {
            return;
        }
        if t.round >= self.round
            && self
                .rounds
                .get(&t.round)
                .is_some_and(|r| r.timeouts.contains_key(&t.signer))
        {
            return;
        }
        let set = Arc::clone(&self.epoch.set);
        // Only verified timeouts count or get answered.
        if let Err(reason) = self.timeout_signed(from, &t, &set) {
            out.push(Effect::Rejected { from, reason });
            return;
        }
        if t.round < self.round {
            // Catch-up: a straggler; send it what moved us past its round.
            if from != self.cfg.me {
                if let Some(q) = self.high_qc.as_ref().filter(|q| q.data.round >= t.round) {
                    out.push(Effect::Send {
                        to: from,
                        message: Message::Certificate(q.clone()),
                    });
                }
                if let Some(tc) = self.last_tc.as_ref().filter(|tc| tc.round >= t.round) {
                    out.push(Effect::Send {
                        to: from,
                        message: Message::TimeoutCert(Box::new(tc.clone())),
                    });
                }
            }
            return;
        }
        let own = from == self.cfg.me;
        // A lock is a prepare certificate; a commit certificate reported as one is refused.
        let hq_ok = t.high_qc.as_ref().is_none_or(|q| {
            q.data.epoch == t.epoch
                && !q.is_commit()
                && (own || self.is_known_qc(q) || q.verify_quorum(&set, &self.crypto))
        });
        if !hq_ok {
            out.push(Effect::Rejected {
                from,
                reason: Reject::BadSignature,
            });
            return;
        }
        if let Some(tc) = t.last_tc.clone()
            && tc.epoch == self.epoch.index
            && tc.round >= self.round
            && tc.verify(&set, &self.crypto)
        {
            self.on_tc(tc, out);
        }
        if let Some(q) = t.high_qc.clone() {
            self.on_qc(q, out);
        }
        if t.round < self.round {
            return;
        }
        let round = t.round;
        let rs = self.rounds.entry(round).or_default();
        rs.timeouts.insert(t.signer, t);
        let mut who = Bitmap::new(set.len());
        for &s in rs.timeouts.keys() {
            who.set(usize::from(s));
        }
        let power = set.power_of(&who);
        // Join: more than a third timed out in my round, so at least one honest node did.
        if round == self.round
            && set.exceeds_third(power)
            && self.timed_out_round < round
            && self.me.is_some()
        {
            self.local_timeout(out);
            return;
        }
        if set.is_quorum(power) {
            let Some(rs) = self.rounds.get(&round) else { return };
            let mut groups: BTreeMap<u64, (Bitmap, Vec<Signature>)> = BTreeMap::new();
            for (s, to) in &rs.timeouts {
                let g = groups
                    .entry(to.high_qc_round())
                    .or_insert_with(|| (Bitmap::new(set.len()), Vec::new()));
                g.0.set(usize::from(*s));
                g.1.push(to.signature);
            }
            let mut parts = Vec::new();
            for (hqr, (signers, sigs)) in groups {
                let Some(signature) = self.crypto.aggregate(&sigs) else {
                    return;
                };
                parts.push(TcPart {
                    high_qc_round: hqr,
                    signers,
                    signature,
                });
            }
            let tc = TimeoutCert {
                epoch: self.epoch.index,
                round,
                parts,
            };
            self.on_tc(tc, out);
        }
    }

    /// View change: a timeout certificate ends its round; enter the next.
    fn on_tc(&mut self, tc: TimeoutCert, out: &mut Vec<Effect>) {
        if tc.epoch != self.epoch.index || tc.round < self.round {
            return;
        }
        let next = tc.round.saturating_add(1);
        self.last_tc = Some(tc);
        self.enter_round(next, out);
    }
}

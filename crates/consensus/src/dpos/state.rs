//! Election state as values: [`apply_block`] computes an [`ElectionChange`] from a block without
//! touching the state; [`ElectionState::apply`] and [`ElectionState::unwind`] move the state forward
//! and back along it, so a reorg unwinds exactly what a block did.

use std::collections::{BTreeMap, BTreeSet};

use crypto::chainkd::{EXTENDED_KEY_LEN, XPub};
use types::asset::AssetId;
use types::block::Block;
use types::tx::{InputKind, OutputKind, Transaction, TxOutput};
use types::{Amount, Hash};

use super::config::DposConfig;
use super::registration::{ChainId, ConsensusKey, ProvenKey, Registration, RegistrationError};
use super::schedule::producer_at;

pub mod codec;

/// Why a block or change could not be applied or unwound. Ignored transaction contents are not errors;
/// they are reported in [`ElectionChange::ignored`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DposError {
    /// The block or change is not for the next height (apply) or the last applied height (unwind).
    #[error("expected height {expected}, got {got}")]
    HeightMismatch {
        /// The height the state expects.
        expected: u64,
        /// The height given.
        got: u64,
    },
    /// The height argument differs from the block header's.
    #[error("block header says height {header}, caller says {given}")]
    HeaderHeight {
        /// The header's height.
        header: u64,
        /// The height passed in.
        given: u64,
    },
    /// The change was computed from another state than the one it is applied to or unwound from.
    #[error("change for height {height} does not match the state ({what})")]
    StaleChange {
        /// The change's height.
        height: u64,
        /// Which part disagreed.
        what: &'static str,
    },
    /// A transaction's fee could not be computed (sums overflow, or more BTM out than in).
    #[error("transaction {tx}: fee cannot be computed")]
    Fee {
        /// Transaction position in the block.
        tx: usize,
    },
    /// A round's reward total overflowed.
    #[error("round reward overflow")]
    RewardOverflow,
    /// Heights ran out of range.
    #[error("height overflow")]
    HeightOverflow,
    /// The block does not extend the state's tip (apply), or the change is not the tip's (unwind).
    #[error("block {block} with parent {parent} does not fit tip {tip}")]
    NotTip {
        /// The block's hash.
        block: Hash,
        /// The block's parent.
        parent: Hash,
        /// The state's tip.
        tip: Hash,
    },
    /// A validator set given by the caller is unusable.
    #[error("invalid validator set: {0}")]
    InvalidSet(&'static str),
    /// The producer named for a block is not in the set in force at its height.
    #[error("producer {producer:?} is not in the validator set for height {height}")]
    NotInSet {
        /// The producer named.
        producer: XPub,
        /// The block's height.
        height: u64,
    },
}

/// A registered candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The BLS key its BBFT votes are checked with, its proof of possession checked.
    pub consensus_key: ProvenKey,
    /// Sequence of the accepted registration.
    pub sequence: u64,
    /// Height of the block that carried it.
    pub registered_at: u64,
}

/// One vote output that still counts: the ledger's vote UTXO, keyed by its output ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteRecord {
    /// The xpub voted for.
    pub candidate: XPub,
    /// Neu of BTM locked.
    pub amount: u64,
    /// Height of the block that created it (the lock runs from here).
    pub height: u64,
    /// The vote output's control program: the voter, paid its share of rewards there.
    pub program: Vec<u8>,
}

/// A member of a validator set, with the key and votes it had when the set was fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validator {
    /// Its identity, as vote outputs name it.
    pub candidate: XPub,
    /// Its BLS key, its proof of possession checked (the type cannot hold an unchecked key).
    pub consensus_key: ProvenKey,
    /// Its vote total when elected (0 for configured sets).
    pub votes: u64,
}

/// Validators in election order; the order is the production order of [`super::schedule`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorSet(Vec<Validator>);

impl ValidatorSet {
    /// A configured set (genesis or fallback).
    ///
    /// # Errors
    /// [`DposError::InvalidSet`] if empty or if a candidate or key appears twice.
    pub fn new(validators: Vec<Validator>) -> Result<Self, DposError> {
        if validators.is_empty() {
            return Err(DposError::InvalidSet("empty"));
        }
        let candidates: BTreeSet<_> = validators.iter().map(|v| v.candidate).collect();
        let keys: BTreeSet<_> = validators.iter().map(|v| v.consensus_key.key()).collect();
        if candidates.len() != validators.len() {
            return Err(DposError::InvalidSet("duplicate candidate"));
        }
        if keys.len() != validators.len() {
            return Err(DposError::InvalidSet("duplicate consensus key"));
        }
        Ok(ValidatorSet(validators))
    }

    /// The validators in order.
    pub fn validators(&self) -> &[Validator] {
        &self.0
    }

    /// Number of validators.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none (never true for a set built by this module).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Position of `candidate` in the set.
    pub fn position(&self, candidate: &XPub) -> Option<usize> {
        self.0.iter().position(|v| &v.candidate == candidate)
    }
}

/// What a validator earned in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reward {
    /// The validator.
    pub validator: XPub,
    /// Blocks it produced in the round.
    pub blocks: u64,
    /// Neu earned: the subsidy of each of its blocks plus their transactions' fees.
    pub earned: u64,
    /// Neu paid to it: `earned` less what went to its voters.
    pub amount: u64,
}

/// A voter's share of the rewards of the validators it voted for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoterReward {
    /// The program of the voter's vote outputs.
    pub program: Vec<u8>,
    /// Neu paid there.
    pub amount: u64,
}

/// The rewards of a finished round.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoundRewards {
    /// Per validator, largest amount first (ties: larger xpub first).
    pub validators: Vec<Reward>,
    /// Per voter program, largest amount first (ties: larger program first); empty unless
    /// [`DposConfig::voter_share_percent`] is set.
    pub voters: Vec<VoterReward>,
}

impl RoundRewards {
    /// Whether there is nothing to pay.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty() && self.voters.is_empty()
    }

    /// Neu to pay in all (validators and voters), `None` on overflow. It equals the sum of the round's
    /// block rewards exactly: shares are rounded down and the validator keeps the remainder.
    pub fn total(&self) -> Option<u64> {
        let validators = self.validators.iter().map(|r| r.amount);
        let voters = self.voters.iter().map(|v| v.amount);
        validators.chain(voters).try_fold(0u64, u64::checked_add)
    }
}

/// Running reward total of one validator in the current round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RewardTally {
    /// Blocks produced so far.
    pub blocks: u64,
    /// Neu earned so far.
    pub amount: u64,
}

/// Where a set fixed at a round boundary came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetSource {
    /// The top `num_validators` registered candidates at or above the minimum stake.
    Elected,
    /// Fewer than `num_validators` qualified; the configured genesis set serves instead.
    Fallback {
        /// How many qualified.
        qualified: usize,
    },
}

/// What happened at the end of a round (in the change of the round's last block).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundEnd {
    /// The round that ended.
    pub round: u64,
    /// The set fixed for the next round.
    pub next_set: ValidatorSet,
    /// How it was chosen.
    pub source: SetSource,
    /// The round's rewards, to be paid by the next block's coinbase.
    pub rewards: RoundRewards,
}

/// Where in a transaction an item sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Input index.
    Input(usize),
    /// Output index.
    Output(usize),
}

/// Why a vote, veto or registration in a block was ignored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IgnoredReason {
    /// A registration that failed its checks.
    #[error(transparent)]
    Registration(#[from] RegistrationError),
    /// The vote names a key that is not 64 bytes (the reference rejects the transaction).
    #[error("vote key is {len} bytes, not 64")]
    VoteKeyLength {
        /// Its length.
        len: usize,
    },
    /// The vote locks an asset other than BTM.
    #[error("vote locks an asset other than BTM")]
    VoteNotBtm,
    /// The vote is under the minimum vote amount.
    #[error("vote of {amount} neu is under the minimum {minimum}")]
    VoteBelowMinimum {
        /// The amount.
        amount: u64,
        /// The minimum.
        minimum: u64,
    },
    /// The candidate's total would overflow.
    #[error("vote total overflow")]
    VoteOverflow,
    /// The output ID is already recorded as a vote.
    #[error("vote output already recorded")]
    DuplicateVote,
    /// The veto spends no recorded vote.
    #[error("veto spends no recorded vote")]
    VetoUnknownVote,
    /// The veto's key or amount differs from the vote it spends.
    #[error("veto does not match the vote it spends")]
    VetoMismatch,
    /// The veto would withdraw more than the candidate's total.
    #[error("veto of {amount} neu exceeds the {votes} neu voted")]
    VetoExceedsVotes {
        /// The candidate's total.
        votes: u64,
        /// The amount the veto withdraws.
        amount: u64,
    },
    /// The vote is still locked.
    #[error("vote made at height {voted_at} is locked until height {unlock_at}")]
    VetoLocked {
        /// Height of the vote.
        voted_at: u64,
        /// First height a veto may spend it.
        unlock_at: u64,
    },
}

/// An ignored item, for logging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    /// Transaction position in the block.
    pub tx: usize,
    /// Input or output.
    pub position: Position,
    /// Why.
    pub reason: IgnoredReason,
}

/// An accepted election event, in block order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElectionEvent {
    /// A registration was accepted.
    Registered {
        /// Transaction position.
        tx: usize,
        /// Output index.
        output: usize,
        /// The candidate.
        candidate: XPub,
        /// The key bound.
        consensus_key: ConsensusKey,
        /// The registration's sequence.
        sequence: u64,
    },
    /// A vote output added stake.
    Voted {
        /// Transaction position.
        tx: usize,
        /// Output index.
        output: usize,
        /// The vote output's ID.
        output_id: Hash,
        /// The candidate.
        candidate: XPub,
        /// Neu added.
        amount: u64,
    },
    /// A veto input withdrew a vote.
    Vetoed {
        /// Transaction position.
        tx: usize,
        /// Input index.
        input: usize,
        /// The spent vote output's ID.
        output_id: Hash,
        /// The candidate.
        candidate: XPub,
        /// Neu withdrawn.
        amount: u64,
    },
}

/// One key's value before and after a block (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta<K, V> {
    /// The key.
    pub key: K,
    /// Value before.
    pub before: Option<V>,
    /// Value after.
    pub after: Option<V>,
}

/// A whole value before and after a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swap<V> {
    /// Value before.
    pub before: V,
    /// Value after.
    pub after: V,
}

/// Everything one block did to the election state, as a value. Applying it and then unwinding it
/// leaves the state exactly as it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionChange {
    /// The block's height.
    pub height: u64,
    /// The block's hash (the state's tip after applying).
    pub block_hash: Hash,
    /// Its parent's hash (the state's tip before).
    pub parent_hash: Hash,
    /// Registered candidates that changed.
    pub candidates: Vec<Delta<XPub, Candidate>>,
    /// Consensus key owners that changed.
    pub key_owners: Vec<Delta<ConsensusKey, XPub>>,
    /// Vote totals that changed.
    pub tallies: Vec<Delta<XPub, u64>>,
    /// Vote records created or spent.
    pub votes: Vec<Delta<Hash, VoteRecord>>,
    /// Running reward tallies of the round that changed.
    pub round_rewards: Vec<Delta<XPub, RewardTally>>,
    /// The current set, when the block opened a round.
    pub current: Option<Swap<ValidatorSet>>,
    /// The set fixed for the next round, when it was fixed (round end) or promoted (round start).
    pub next: Option<Swap<Option<ValidatorSet>>>,
    /// The rewards awaiting payment, when they changed.
    pub payable: Option<Swap<RoundRewards>>,
    /// Accepted events, in block order.
    pub events: Vec<ElectionEvent>,
    /// Ignored items with their reasons.
    pub ignored: Vec<Ignored>,
    /// Set when the block ended a round.
    pub round_end: Option<RoundEnd>,
}

/// The election state derived from the ledger up to some height.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElectionState {
    config: DposConfig,
    chain_id: ChainId,
    genesis: ValidatorSet,
    next_height: u64,
    tip_hash: Hash,
    candidates: BTreeMap<XPub, Candidate>,
    key_owners: BTreeMap<ConsensusKey, XPub>,
    tallies: BTreeMap<XPub, u64>,
    votes: BTreeMap<Hash, VoteRecord>,
    current: ValidatorSet,
    next: Option<ValidatorSet>,
    round_rewards: BTreeMap<XPub, RewardTally>,
    payable: RoundRewards,
}

impl ElectionState {
    /// The state after the genesis block (hash `genesis_hash`, also the chain id registrations must
    /// name): `genesis` produces round 1 and is the fallback set whenever too few candidates qualify.
    /// Its keys are [`ProvenKey`]s, so each genesis validator's proof of possession has been checked.
    /// Election transactions in the genesis block itself are not read.
    ///
    /// # Errors
    /// [`DposError::InvalidSet`] for an empty or duplicated set (see [`ValidatorSet::new`]).
    pub fn new(config: DposConfig, genesis_hash: Hash, genesis: Vec<Validator>) -> Result<Self, DposError> {
        Self::with_chain_id(config, ChainId::from(genesis_hash), genesis_hash, genesis)
    }

    /// As [`ElectionState::new`], for a chain whose registrations name `chain_id` (e.g.
    /// [`ChainId::from_name`] of a configured chain name) rather than the genesis hash.
    ///
    /// # Errors
    /// As [`ElectionState::new`].
    pub fn with_chain_id(
        config: DposConfig,
        chain_id: ChainId,
        genesis_hash: Hash,
        genesis: Vec<Validator>,
    ) -> Result<Self, DposError> {
        let genesis = ValidatorSet::new(genesis)?;
        Ok(ElectionState {
            config,
            chain_id,
            current: genesis.clone(),
            next: Some(genesis.clone()),
            genesis,
            next_height: 1,
            tip_hash: genesis_hash,
            candidates: BTreeMap::new(),
            key_owners: BTreeMap::new(),
            tallies: BTreeMap::new(),
            votes: BTreeMap::new(),
            round_rewards: BTreeMap::new(),
            payable: RoundRewards::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &DposConfig {
        &self.config
    }

    /// The chain id registrations are checked against.
    pub fn chain_id(&self) -> &ChainId {
        &self.chain_id
    }

    /// The configured genesis and fallback set.
    pub fn genesis_set(&self) -> &ValidatorSet {
        &self.genesis
    }

    /// Height of the next block to apply.
    pub fn next_height(&self) -> u64 {
        self.next_height
    }

    /// Height of the last applied block (0: genesis).
    pub fn tip_height(&self) -> u64 {
        self.next_height.saturating_sub(1)
    }

    /// Hash of the last applied block.
    pub fn tip_hash(&self) -> Hash {
        self.tip_hash
    }

    /// The round of the last applied block.
    pub fn round(&self) -> u64 {
        self.config.round_of(self.tip_height())
    }

    /// Registered candidates.
    pub fn candidates(&self) -> &BTreeMap<XPub, Candidate> {
        &self.candidates
    }

    /// Vote totals per xpub (registered or not, as the reference counts them).
    pub fn tallies(&self) -> &BTreeMap<XPub, u64> {
        &self.tallies
    }

    /// Vote total of `candidate`.
    pub fn votes_for(&self, candidate: &XPub) -> u64 {
        self.tallies.get(candidate).copied().unwrap_or(0)
    }

    /// Live vote records by output ID.
    pub fn vote_records(&self) -> &BTreeMap<Hash, VoteRecord> {
        &self.votes
    }

    /// The set producing the round of the last applied block.
    pub fn current_set(&self) -> &ValidatorSet {
        &self.current
    }

    /// The set fixed for the next round, once the current round's last block is applied.
    pub fn next_set(&self) -> Option<&ValidatorSet> {
        self.next.as_ref()
    }

    /// The set that produces `height`, if already fixed: the current round's set, or the next round's
    /// once fixed.
    pub fn set_for(&self, height: u64) -> Option<&ValidatorSet> {
        let r = self.config.round_of(height);
        let now = self.round();
        if r == now && height != 0 {
            Some(&self.current)
        } else if Some(r) == now.checked_add(1) {
            self.next.as_ref()
        } else {
            None
        }
    }

    /// The validator scheduled to produce `height`, if its set is fixed.
    pub fn producer(&self, height: u64) -> Option<&Validator> {
        producer_at(&self.config, self.set_for(height)?, height)
    }

    /// Reward tallies of the round in progress.
    pub fn round_rewards(&self) -> &BTreeMap<XPub, RewardTally> {
        &self.round_rewards
    }

    /// Rewards of the round that just ended, for the coinbase of the next block (empty otherwise).
    pub fn payable_rewards(&self) -> &RoundRewards {
        &self.payable
    }

    /// The set an election would fix if the round ended now.
    pub fn projected_set(&self) -> (ValidatorSet, SetSource) {
        elect(&self.config, &self.genesis, &self.candidates, &self.tallies)
    }

    /// Moves the state forward along `change` (from [`apply_block`] on this state).
    ///
    /// # Errors
    /// [`DposError::HeightMismatch`] or [`DposError::StaleChange`]; the state is then unchanged.
    pub fn apply(&mut self, change: &ElectionChange) -> Result<(), DposError> {
        if change.height != self.next_height {
            return Err(DposError::HeightMismatch {
                expected: self.next_height,
                got: change.height,
            });
        }
        let next_height = change.height.checked_add(1).ok_or(DposError::HeightOverflow)?;
        if change.parent_hash != self.tip_hash {
            return Err(self.not_tip(change));
        }
        self.check(change, true)?;
        self.write(change, true);
        self.next_height = next_height;
        self.tip_hash = change.block_hash;
        Ok(())
    }

    /// Moves the state back along `change`, which must be the last applied.
    ///
    /// # Errors
    /// [`DposError::HeightMismatch`] or [`DposError::StaleChange`]; the state is then unchanged.
    pub fn unwind(&mut self, change: &ElectionChange) -> Result<(), DposError> {
        if change.height != self.tip_height() || self.next_height == 1 {
            return Err(DposError::HeightMismatch {
                expected: self.tip_height(),
                got: change.height,
            });
        }
        if change.block_hash != self.tip_hash {
            return Err(self.not_tip(change));
        }
        self.check(change, false)?;
        self.write(change, false);
        self.next_height = change.height;
        self.tip_hash = change.parent_hash;
        Ok(())
    }

    fn not_tip(&self, change: &ElectionChange) -> DposError {
        DposError::NotTip {
            block: change.block_hash,
            parent: change.parent_hash,
            tip: self.tip_hash,
        }
    }

    /// Checks that every value the change moves from is the state's (before for apply, after for
    /// unwind), so a change can only be replayed on the state it was computed from.
    fn check(&self, c: &ElectionChange, forward: bool) -> Result<(), DposError> {
        let stale = |what| DposError::StaleChange {
            height: c.height,
            what,
        };
        let ok = check_deltas(&self.candidates, &c.candidates, forward)
            .then_some(())
            .ok_or_else(|| stale("candidates"))
            .and_then(|()| {
                check_deltas(&self.key_owners, &c.key_owners, forward)
                    .then_some(())
                    .ok_or_else(|| stale("key owners"))
            })
            .and_then(|()| {
                check_deltas(&self.tallies, &c.tallies, forward)
                    .then_some(())
                    .ok_or_else(|| stale("tallies"))
            })
            .and_then(|()| {
                check_deltas(&self.votes, &c.votes, forward)
                    .then_some(())
                    .ok_or_else(|| stale("vote records"))
            })
            .and_then(|()| {
                check_deltas(&self.round_rewards, &c.round_rewards, forward)
                    .then_some(())
                    .ok_or_else(|| stale("round rewards"))
            });
        ok?;
        if !check_swap(&self.current, c.current.as_ref(), forward) {
            return Err(stale("current set"));
        }
        if !check_swap(&self.next, c.next.as_ref(), forward) {
            return Err(stale("next set"));
        }
        if !check_swap(&self.payable, c.payable.as_ref(), forward) {
            return Err(stale("payable rewards"));
        }
        Ok(())
    }

    fn write(&mut self, c: &ElectionChange, forward: bool) {
        write_deltas(&mut self.candidates, &c.candidates, forward);
        write_deltas(&mut self.key_owners, &c.key_owners, forward);
        write_deltas(&mut self.tallies, &c.tallies, forward);
        write_deltas(&mut self.votes, &c.votes, forward);
        write_deltas(&mut self.round_rewards, &c.round_rewards, forward);
        write_swap(&mut self.current, c.current.as_ref(), forward);
        write_swap(&mut self.next, c.next.as_ref(), forward);
        write_swap(&mut self.payable, c.payable.as_ref(), forward);
    }
}

fn check_deltas<K: Ord, V: PartialEq>(map: &BTreeMap<K, V>, deltas: &[Delta<K, V>], forward: bool) -> bool {
    deltas.iter().all(|d| {
        let from = if forward { &d.before } else { &d.after };
        map.get(&d.key) == from.as_ref()
    })
}

fn write_deltas<K: Ord + Clone, V: Clone>(map: &mut BTreeMap<K, V>, deltas: &[Delta<K, V>], forward: bool) {
    for d in deltas {
        let to = if forward { &d.after } else { &d.before };
        match to {
            Some(v) => {
                map.insert(d.key.clone(), v.clone());
            }
            None => {
                map.remove(&d.key);
            }
        }
    }
}

fn check_swap<V: PartialEq>(value: &V, swap: Option<&Swap<V>>, forward: bool) -> bool {
    swap.is_none_or(|s| value == if forward { &s.before } else { &s.after })
}

fn write_swap<V: Clone>(value: &mut V, swap: Option<&Swap<V>>, forward: bool) {
    if let Some(s) = swap {
        *value = if forward {
            s.after.clone()
        } else {
            s.before.clone()
        };
    }
}

/// Pending writes over a map, read through to the base.
struct Overlay<'a, K, V> {
    base: &'a BTreeMap<K, V>,
    changed: BTreeMap<K, Option<V>>,
}

impl<'a, K: Ord + Clone, V: Clone + PartialEq> Overlay<'a, K, V> {
    fn new(base: &'a BTreeMap<K, V>) -> Self {
        Overlay {
            base,
            changed: BTreeMap::new(),
        }
    }

    fn get(&self, key: &K) -> Option<&V> {
        match self.changed.get(key) {
            Some(v) => v.as_ref(),
            None => self.base.get(key),
        }
    }

    fn set(&mut self, key: K, value: Option<V>) {
        self.changed.insert(key, value);
    }

    /// The base with the writes applied.
    fn merged(&self) -> BTreeMap<K, V> {
        let mut m = self.base.clone();
        for (k, v) in &self.changed {
            match v {
                Some(v) => {
                    m.insert(k.clone(), v.clone());
                }
                None => {
                    m.remove(k);
                }
            }
        }
        m
    }

    fn into_deltas(self) -> Vec<Delta<K, V>> {
        let base = self.base;
        self.changed
            .into_iter()
            .filter_map(|(key, after)| {
                let before = base.get(&key).cloned();
                (before != after).then_some(Delta { key, before, after })
            })
            .collect()
    }
}

/// The next set from tallies: registered candidates at or above the minimum stake, by votes
/// descending, equal votes by xpub descending (the reference compares hex strings, which order as the
/// bytes do), the first `num_validators`. Fewer qualified: the genesis set.
fn elect(
    config: &DposConfig,
    genesis: &ValidatorSet,
    candidates: &BTreeMap<XPub, Candidate>,
    tallies: &BTreeMap<XPub, u64>,
) -> (ValidatorSet, SetSource) {
    let mut qualified: Vec<Validator> = candidates
        .iter()
        .filter_map(|(xpub, c)| {
            let votes = tallies.get(xpub).copied().unwrap_or(0);
            (votes >= config.min_validator_stake && votes > 0).then_some(Validator {
                candidate: *xpub,
                consensus_key: c.consensus_key,
                votes,
            })
        })
        .collect();
    if qualified.len() < config.num_validators {
        return (
            genesis.clone(),
            SetSource::Fallback {
                qualified: qualified.len(),
            },
        );
    }
    qualified.sort_by(|a, b| b.votes.cmp(&a.votes).then_with(|| b.candidate.cmp(&a.candidate)));
    qualified.truncate(config.num_validators);
    (ValidatorSet(qualified), SetSource::Elected)
}

/// Computes what `block` at `height` does to `state`, without changing it, crediting the block to
/// the validator the schedule names for its height ([`ElectionState::producer`]). Use
/// [`apply_block_produced_by`] when the host knows who actually produced the block.
///
/// Per transaction, in block order, veto inputs are read before outputs (as the reference does), so
/// a vote made earlier in the same block can be vetoed later in it once the lock allows. The block's
/// producer is credited the block's reward: the subsidy at its height ([`DposConfig::subsidy_at`])
/// plus all its transactions' fees. At a round's last height the next set is fixed and the round's
/// rewards become payable.
///
/// # Errors
/// [`DposError::HeightMismatch`] unless `height` is the state's next height,
/// [`DposError::HeaderHeight`] if the header disagrees, [`DposError::NotTip`] unless the block's
/// parent is the state's tip, [`DposError::Fee`] or
/// [`DposError::RewardOverflow`] for a block no valid ledger accepts.
pub fn apply_block(state: &ElectionState, block: &Block, height: u64) -> Result<ElectionChange, DposError> {
    compute(state, block, height, None)
}

/// As [`apply_block`], crediting the block's reward to `producer`, the validator that actually
/// produced it (the host knows it from the block's signature or BBFT proposal). The reference pays
/// each block's reward to whoever produced it, so a validator that misses its turn earns nothing for
/// it and the one that covers earns it.
///
/// # Errors
/// As [`apply_block`], and [`DposError::NotInSet`] if `producer` is not in the set in force at
/// `height`.
pub fn apply_block_produced_by(
    state: &ElectionState,
    block: &Block,
    height: u64,
    producer: &XPub,
) -> Result<ElectionChange, DposError> {
    compute(state, block, height, Some(producer))
}

fn compute(
    state: &ElectionState,
    block: &Block,
    height: u64,
    producer: Option<&XPub>,
) -> Result<ElectionChange, DposError> {
    if height != state.next_height {
        return Err(DposError::HeightMismatch {
            expected: state.next_height,
            got: height,
        });
    }
    if block.header().height != height {
        return Err(DposError::HeaderHeight {
            header: block.header().height,
            given: height,
        });
    }
    let parent_hash = block.header().previous_block_hash;
    if parent_hash != state.tip_hash {
        return Err(DposError::NotTip {
            block: block.hash(),
            parent: parent_hash,
            tip: state.tip_hash,
        });
    }
    let config = &state.config;
    let mut b = Builder {
        config,
        chain_id: &state.chain_id,
        height,
        candidates: Overlay::new(&state.candidates),
        key_owners: Overlay::new(&state.key_owners),
        tallies: Overlay::new(&state.tallies),
        votes: Overlay::new(&state.votes),
        events: Vec::new(),
        ignored: Vec::new(),
    };

    // A new round: the set fixed at the previous boundary takes over, and the rewards paid by this
    // block's coinbase are no longer pending.
    let mut current_swap = None;
    let mut next_swap = None;
    let mut current = &state.current;
    let prev = height.checked_sub(1).ok_or(DposError::HeightOverflow)?;
    if config.is_round_end(prev)
        && let Some(next) = &state.next
    {
        current_swap = Some(Swap {
            before: state.current.clone(),
            after: next.clone(),
        });
        next_swap = Some(Swap {
            before: state.next.clone(),
            after: None,
        });
        current = next;
    }

    // Rewards for this block.
    let mut fees: u64 = 0;
    for (i, tx) in block.transactions().iter().enumerate() {
        let fee = tx.checked_fee().map_err(|_| DposError::Fee { tx: i })?;
        fees = fees.checked_add(fee.get()).ok_or(DposError::Fee { tx: i })?;
    }
    let earned = fees
        .checked_add(config.subsidy_at(height))
        .ok_or(DposError::RewardOverflow)?;
    let producer = match producer {
        Some(p) if current.position(p).is_some() => Some(*p),
        Some(p) => {
            return Err(DposError::NotInSet { producer: *p, height });
        }
        None => producer_at(config, current, height).map(|v| v.candidate),
    };
    let mut rewards = Overlay::new(&state.round_rewards);
    if let Some(producer) = producer {
        let mut t = rewards.get(&producer).copied().unwrap_or_default();
        t.blocks = t.blocks.checked_add(1).ok_or(DposError::RewardOverflow)?;
        t.amount = t.amount.checked_add(earned).ok_or(DposError::RewardOverflow)?;
        rewards.set(producer, Some(t));
    }

    for (i, tx) in block.transactions().iter().enumerate() {
        b.transaction(i, tx);
    }

    let mut payable_swap = (!state.payable.is_empty()).then(|| Swap {
        before: state.payable.clone(),
        after: RoundRewards::default(),
    });
    let mut round_end = None;
    if config.is_round_end(height) {
        let (next_set, source) = elect(
            config,
            &state.genesis,
            &b.candidates.merged(),
            &b.tallies.merged(),
        );
        let round_start = config
            .round_start(config.round_of(height))
            .ok_or(DposError::HeightOverflow)?;
        let list = settle(config, round_start, &rewards.merged(), &b.votes.merged())?;
        for key in state
            .round_rewards
            .keys()
            .chain(rewards.changed.keys())
            .copied()
            .collect::<Vec<_>>()
        {
            rewards.set(key, None);
        }
        next_swap = Some(Swap {
            before: next_swap.map_or_else(|| state.next.clone(), |s| s.before),
            after: Some(next_set.clone()),
        });
        payable_swap = Some(Swap {
            before: state.payable.clone(),
            after: list.clone(),
        });
        round_end = Some(RoundEnd {
            round: config.round_of(height),
            next_set,
            source,
            rewards: list,
        });
    }

    Ok(ElectionChange {
        height,
        block_hash: block.hash(),
        parent_hash,
        candidates: b.candidates.into_deltas(),
        key_owners: b.key_owners.into_deltas(),
        tallies: b.tallies.into_deltas(),
        votes: b.votes.into_deltas(),
        round_rewards: rewards.into_deltas(),
        current: current_swap,
        next: next_swap,
        payable: payable_swap.filter(|s| s.before != s.after),
        events: b.events,
        ignored: b.ignored,
        round_end,
    })
}

/// The rewards of a round that started at `round_start`. A validator's voters share
/// `voter_share_percent` of what it earned, pro rata to the votes they had recorded before the round
/// began and still have at its end (the stake that elected it and stayed); rounding leftovers stay with
/// the validator.
fn settle(
    config: &DposConfig,
    round_start: u64,
    tallies: &BTreeMap<XPub, RewardTally>,
    votes: &BTreeMap<Hash, VoteRecord>,
) -> Result<RoundRewards, DposError> {
    let share = u128::from(config.voter_share_percent);
    let mut voters: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    let mut validators = Vec::with_capacity(tallies.len());
    for (validator, t) in tallies {
        let mut paid_out: u64 = 0;
        if share > 0 {
            let eligible: Vec<&VoteRecord> = votes
                .values()
                .filter(|r| r.candidate == *validator && r.height < round_start)
                .collect();
            let total: u128 = eligible.iter().map(|r| u128::from(r.amount)).sum();
            let pool = u128::from(t.amount) * share / 100;
            for r in eligible {
                // pool < 2^64 and amount < 2^63, so the product fits in u128; the quotient is at
                // most pool <= earned, so it fits in u64. `total` is positive when there is a voter.
                let Some(part) = (pool * u128::from(r.amount)).checked_div(total) else {
                    continue;
                };
                let part = u64::try_from(part).map_err(|_| DposError::RewardOverflow)?;
                if part == 0 {
                    continue;
                }
                let entry = voters.entry(r.program.clone()).or_insert(0);
                *entry = entry.checked_add(part).ok_or(DposError::RewardOverflow)?;
                paid_out = paid_out.checked_add(part).ok_or(DposError::RewardOverflow)?;
            }
        }
        validators.push(Reward {
            validator: *validator,
            blocks: t.blocks,
            earned: t.amount,
            amount: t.amount.checked_sub(paid_out).ok_or(DposError::RewardOverflow)?,
        });
    }
    validators.sort_by(|a, b| {
        b.amount
            .cmp(&a.amount)
            .then_with(|| b.validator.cmp(&a.validator))
    });
    let mut voters: Vec<VoterReward> = voters
        .into_iter()
        .map(|(program, amount)| VoterReward { program, amount })
        .collect();
    voters.sort_by(|a, b| b.amount.cmp(&a.amount).then_with(|| b.program.cmp(&a.program)));
    Ok(RoundRewards { validators, voters })
}

/// Accumulates one block's effects over the state.
struct Builder<'a> {
    config: &'a DposConfig,
    chain_id: &'a ChainId,
    height: u64,
    candidates: Overlay<'a, XPub, Candidate>,
    key_owners: Overlay<'a, ConsensusKey, XPub>,
    tallies: Overlay<'a, XPub, u64>,
    votes: Overlay<'a, Hash, VoteRecord>,
    events: Vec<ElectionEvent>,
    ignored: Vec<Ignored>,
}

impl Builder<'_> {
    fn ignore(&mut self, tx: usize, position: Position, reason: IgnoredReason) {
        self.ignored.push(Ignored { tx, position, reason });
    }

    fn transaction(&mut self, tx_index: usize, tx: &Transaction) {
        let ids = tx.ids();
        for (i, input) in tx.inputs().iter().enumerate() {
            let InputKind::Veto(veto) = &input.kind else {
                continue;
            };
            let Some(output_id) = ids.inputs.get(i).and_then(|x| x.spent_output_id) else {
                self.ignore(tx_index, Position::Input(i), IgnoredReason::VetoUnknownVote);
                continue;
            };
            match self.veto(
                output_id,
                &veto.vote,
                veto.commitment.asset_id,
                veto.commitment.amount,
            ) {
                Ok(record) => self.events.push(ElectionEvent::Vetoed {
                    tx: tx_index,
                    input: i,
                    output_id,
                    candidate: record.candidate,
                    amount: record.amount,
                }),
                Err(reason) => self.ignore(tx_index, Position::Input(i), reason),
            }
        }
        for (i, output) in tx.outputs().iter().enumerate() {
            match &output.kind {
                OutputKind::Vote { vote } => {
                    let Some(output_id) = ids.output_id(i) else {
                        continue;
                    };
                    match self.vote(output_id, vote, output) {
                        Ok((candidate, amount)) => self.events.push(ElectionEvent::Voted {
                            tx: tx_index,
                            output: i,
                            output_id,
                            candidate,
                            amount,
                        }),
                        Err(reason) => self.ignore(tx_index, Position::Output(i), reason),
                    }
                    // A registration program on a vote output is not a registration.
                    self.misplaced_registration(tx_index, i, output.control_program(), "vote");
                }
                OutputKind::CrossChain => {
                    self.misplaced_registration(tx_index, i, output.control_program(), "cross-chain");
                }
                OutputKind::Control => match self.register(output.control_program()) {
                    Ok(None) => {}
                    Ok(Some(reg)) => self.events.push(ElectionEvent::Registered {
                        tx: tx_index,
                        output: i,
                        candidate: reg.candidate,
                        consensus_key: reg.consensus_key,
                        sequence: reg.sequence,
                    }),
                    Err(e) => self.ignore(tx_index, Position::Output(i), e.into()),
                },
            }
        }
    }

    fn misplaced_registration(&mut self, tx: usize, output: usize, program: &[u8], kind: &'static str) {
        if !matches!(Registration::decode(program), Ok(None)) {
            self.ignore(
                tx,
                Position::Output(output),
                RegistrationError::WrongOutputKind { kind }.into(),
            );
        }
    }

    fn vote(
        &mut self,
        output_id: Hash,
        vote: &[u8],
        output: &TxOutput,
    ) -> Result<(XPub, u64), IgnoredReason> {
        let key = <[u8; EXTENDED_KEY_LEN]>::try_from(vote)
            .map_err(|_| IgnoredReason::VoteKeyLength { len: vote.len() })?;
        if output.asset_id() != AssetId::BTM {
            return Err(IgnoredReason::VoteNotBtm);
        }
        let amount = output.amount().get();
        if amount < self.config.min_vote_amount {
            return Err(IgnoredReason::VoteBelowMinimum {
                amount,
                minimum: self.config.min_vote_amount,
            });
        }
        if self.votes.get(&output_id).is_some() {
            return Err(IgnoredReason::DuplicateVote);
        }
        let candidate = XPub::from_bytes(key);
        let total = self
            .tallies
            .get(&candidate)
            .copied()
            .unwrap_or(0)
            .checked_add(amount)
            .ok_or(IgnoredReason::VoteOverflow)?;
        self.tallies.set(candidate, Some(total));
        self.votes.set(
            output_id,
            Some(VoteRecord {
                candidate,
                amount,
                height: self.height,
                program: output.control_program().to_vec(),
            }),
        );
        Ok((candidate, amount))
    }

    fn veto(
        &mut self,
        output_id: Hash,
        vote: &[u8],
        asset: AssetId,
        amount: Amount,
    ) -> Result<VoteRecord, IgnoredReason> {
        let record = self
            .votes
            .get(&output_id)
            .cloned()
            .ok_or(IgnoredReason::VetoUnknownVote)?;
        // The output ID already hashes key, asset and amount; compare anyway rather than trust it.
        if record.candidate.as_bytes()[..] != *vote || asset != AssetId::BTM || record.amount != amount.get()
        {
            return Err(IgnoredReason::VetoMismatch);
        }
        let unlock_at = record.height.saturating_add(self.config.vote_lock_blocks);
        if self.height < unlock_at {
            return Err(IgnoredReason::VetoLocked {
                voted_at: record.height,
                unlock_at,
            });
        }
        // Every record was added to its candidate's total, so the total covers it; a veto that would
        // withdraw more than the candidate holds is refused rather than clamped.
        let total = self.tallies.get(&record.candidate).copied().unwrap_or(0);
        let left = total
            .checked_sub(record.amount)
            .ok_or(IgnoredReason::VetoExceedsVotes {
                votes: total,
                amount: record.amount,
            })?;
        self.tallies.set(record.candidate, (left > 0).then_some(left));
        self.votes.set(output_id, None);
        Ok(record)
    }

    fn register(&mut self, program: &[u8]) -> Result<Option<Registration>, RegistrationError> {
        // Cheap structural check first: most outputs are not registrations.
        let Some(reg) = Registration::decode(program)? else {
            return Ok(None);
        };
        let existing = self.candidates.get(&reg.candidate).cloned();
        if let Some(c) = &existing
            && reg.sequence <= c.sequence
        {
            return Err(RegistrationError::StaleSequence {
                sequence: reg.sequence,
                current: c.sequence,
            });
        }
        if let Some(owner) = self.key_owners.get(&reg.consensus_key)
            && *owner != reg.candidate
        {
            return Err(RegistrationError::KeyInUse { owner: *owner });
        }
        let key = reg.verify(self.chain_id)?;
        if let Some(c) = existing
            && c.consensus_key.key() != reg.consensus_key
        {
            self.key_owners.set(c.consensus_key.key(), None);
        }
        self.key_owners.set(reg.consensus_key, Some(reg.candidate));
        self.candidates.set(
            reg.candidate,
            Some(Candidate {
                consensus_key: key,
                sequence: reg.sequence,
                registered_at: self.height,
            }),
        );
        Ok(Some(reg))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn xpub(n: u8) -> XPub {
        XPub::from_bytes([n; EXTENDED_KEY_LEN])
    }

    proptest! {
        /// Whatever the earnings, votes and share, settling pays out exactly what was earned, each
        /// validator keeping at least its unshared part.
        #[test]
        fn settling_creates_and_loses_nothing(
            earned in prop::collection::vec((1u8..6, 0u64..1_000_000_000_000, 1u64..50), 1..5),
            votes in prop::collection::vec((1u8..6, 1u64..(1 << 62), 0u64..4, 0u8..4), 0..12),
            percent in 0u8..=100,
        ) {
            let config = DposConfig::new(3, 1, 1, 1, 1, 0, 0).unwrap().with_voter_share(percent).unwrap();
            let tallies: BTreeMap<XPub, RewardTally> = earned
                .iter()
                .map(|&(v, amount, blocks)| (xpub(v), RewardTally { blocks, amount }))
                .collect();
            let records: BTreeMap<Hash, VoteRecord> = votes
                .iter()
                .enumerate()
                .map(|(i, &(v, amount, height, voter))| {
                    let mut id = [0u8; 32];
                    id[0] = u8::try_from(i).unwrap();
                    let record = VoteRecord { candidate: xpub(v), amount, height, program: vec![voter] };
                    (Hash(id), record)
                })
                .collect();
            let rewards = settle(&config, 2, &tallies, &records).unwrap();
            let earned_total: u64 = tallies.values().map(|t| t.amount).sum();
            prop_assert_eq!(rewards.total(), Some(earned_total));
            for r in &rewards.validators {
                let pool = u128::from(r.earned) * u128::from(percent) / 100;
                prop_assert!(u128::from(r.amount) >= u128::from(r.earned) - pool);
                prop_assert_eq!(r.earned, tallies[&r.validator].amount);
            }
            // Sorted as the reference sorts coinbase rewards.
            for w in rewards.validators.windows(2) {
                prop_assert!((w[0].amount, w[0].validator) > (w[1].amount, w[1].validator));
            }
            for w in rewards.voters.windows(2) {
                prop_assert!((w[0].amount, &w[0].program) > (w[1].amount, &w[1].program));
            }
            if percent == 0 {
                prop_assert!(rewards.voters.is_empty());
            }
        }
    }
}

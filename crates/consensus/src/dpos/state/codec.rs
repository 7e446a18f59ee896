//! A canonical, bounded binary encoding of [`ElectionState`], so a node can put the election state in a
//! state snapshot and restore it: [`ElectionState::encode`] and [`ElectionState::decode`].
//!
//! # Format (version 1)
//!
//! Integers are big-endian; `count` is a `u32`; a key is `BLS key (48) ‖ proof of possession (96)`;
//! a program is `u32 length ‖ bytes`; a set is `count ‖ (xpub (64) ‖ key ‖ votes u64)*` in election
//! order.
//!
//! ```text
//! "TDPS" ‖ version u8 = 1
//! config         round_length u64 ‖ num_validators u64 ‖ blocks_per_producer u64
//!                ‖ min_validator_stake u64 ‖ min_vote_amount u64 ‖ vote_lock_blocks u64
//!                ‖ block_subsidy u64 ‖ subsidy_last_height u64 ‖ voter_share_percent u8
//! chain id (32) ‖ genesis set ‖ next_height u64 ‖ tip hash (32)
//! candidates     count ‖ (xpub ‖ key ‖ sequence u64 ‖ registered_at u64)*
//! tallies        count ‖ (xpub ‖ votes u64)*
//! votes          count ‖ (output id (32) ‖ xpub ‖ amount u64 ‖ height u64 ‖ program)*
//! current set ‖ next set: 0x00 | 0x01 ‖ set
//! round rewards  count ‖ (xpub ‖ blocks u64 ‖ amount u64)*
//! payable        count ‖ (xpub ‖ blocks u64 ‖ earned u64 ‖ amount u64)*
//!                ‖ count ‖ (program ‖ amount u64)*
//! ```
//!
//! Maps (candidates, tallies, votes, round rewards) are in strictly ascending key order; payable
//! validators in strictly descending `(amount, xpub)` order and payable voters in strictly descending
//! `(amount, program)` order, as settlement produces them.
//!
//! The key→candidate index (`key_owners`) is not encoded: registration keeps it exactly the inverse of
//! the candidates' consensus keys (a key is refused while another candidate holds it, and a candidate's
//! old key is released when it registers a new one), so decoding rebuilds it and refuses candidates that
//! share a key. Nothing else is derived, but the vote totals must equal the sums of the vote records.
//!
//! Decoding accepts exactly the bytes [`ElectionState::encode`] produces for some state: fixed-width
//! integers, one order per map or list, and no trailing bytes, so a state has one encoding and a decoded
//! state re-encodes to its input. It re-checks the configuration ([`DposConfig::validate`]), every set
//! ([`ValidatorSet::new`]) and every proof of possession ([`ProvenKey::new`], once per distinct key, after
//! every cheaper check, so malformed input costs no pairing); counts are bounded by
//! [`ElectionCodecLimits`] and by the bytes left, so memory stays proportional to the input. It never
//! panics. The cost of a well-formed input is dominated by one pairing check per distinct key.

use std::collections::BTreeMap;

use crypto::chainkd::{EXTENDED_KEY_LEN, XPub};
use types::Hash;

use super::{
    Candidate, DposError, ElectionState, Reward, RewardTally, RoundRewards, Validator, ValidatorSet,
    VoteRecord, VoterReward,
};
use crate::dpos::config::{ConfigError, DposConfig};
use crate::dpos::registration::{
    CHAIN_ID_LEN, CONSENSUS_KEY_LEN, ChainId, ConsensusKey, PROOF_LEN, ProvenKey, RegistrationError,
};

/// The first bytes of an encoded election state.
pub const MAGIC: &[u8; 4] = b"TDPS";
/// The format version [`ElectionState::encode`] writes and [`ElectionState::decode`] reads.
pub const VERSION: u8 = 1;

const HASH_LEN: usize = 32;
const U64: usize = 8;
const COUNT: usize = 4;
const KEY: usize = CONSENSUS_KEY_LEN + PROOF_LEN;
/// Smallest encoded size of one entry of each collection, to refuse counts the input cannot hold.
const SET_ENTRY: usize = EXTENDED_KEY_LEN + KEY + U64;
const CANDIDATE_ENTRY: usize = EXTENDED_KEY_LEN + KEY + 2 * U64;
const TALLY_ENTRY: usize = EXTENDED_KEY_LEN + U64;
const VOTE_ENTRY: usize = HASH_LEN + EXTENDED_KEY_LEN + 2 * U64 + COUNT;
const ROUND_REWARD_ENTRY: usize = EXTENDED_KEY_LEN + 2 * U64;
const REWARD_ENTRY: usize = EXTENDED_KEY_LEN + 3 * U64;
const VOTER_REWARD_ENTRY: usize = COUNT + U64;

/// Bounds applied while decoding an election state.
///
/// | field | default | bounds |
/// |---|---|---|
/// | `max_candidates` | 100 000 | registered candidates |
/// | `max_votes` | 10 000 000 | vote records, vote totals and voter rewards |
/// | `max_set_size` | 10 000 | validators per set, round reward tallies and validator rewards |
/// | `max_program_bytes` | 100 000 | a voter's program (as `types::codec::Limits`) |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElectionCodecLimits {
    /// Most registered candidates.
    pub max_candidates: usize,
    /// Most vote records; also the most vote totals and the most voter rewards.
    pub max_votes: usize,
    /// Most validators in one set; also the most round reward tallies and validator rewards.
    pub max_set_size: usize,
    /// Longest voter program.
    pub max_program_bytes: usize,
}

impl Default for ElectionCodecLimits {
    fn default() -> Self {
        ElectionCodecLimits {
            max_candidates: 100_000,
            max_votes: 10_000_000,
            max_set_size: 10_000,
            max_program_bytes: 100_000,
        }
    }
}

/// Why bytes did not decode to an election state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ElectionCodecError {
    /// The input does not start with [`MAGIC`].
    #[error("not an election state (bad magic)")]
    BadMagic,
    /// A format version this code does not read.
    #[error("unsupported election state version {version}")]
    UnsupportedVersion {
        /// The version found.
        version: u8,
    },
    /// The input ends inside a field, or a count needs more bytes than are left.
    #[error("election state truncated in {field}")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// Bytes follow the encoded state.
    #[error("{count} bytes after the election state")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// A count over its limit.
    #[error("{field}: {count} entries, over the limit {limit}")]
    TooMany {
        /// The collection.
        field: &'static str,
        /// The count read (saturated at `usize::MAX`).
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A program over its limit.
    #[error("{field}: {len} bytes, over the limit {limit}")]
    TooLong {
        /// The field.
        field: &'static str,
        /// The length read (saturated at `usize::MAX`).
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// Map keys not strictly ascending (out of order or repeated).
    #[error("{field}: keys not strictly ascending")]
    NotAscending {
        /// The map.
        field: &'static str,
    },
    /// A reward list not in its canonical order (strictly descending by amount, then by key).
    #[error("{field}: not in canonical order")]
    NotCanonicalOrder {
        /// The list.
        field: &'static str,
    },
    /// An option tag other than 0 or 1.
    #[error("{field}: invalid tag {tag}")]
    BadTag {
        /// The field.
        field: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// A value that does not fit its type on this platform.
    #[error("{field}: {value} out of range")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value read.
        value: u64,
    },
    /// The configuration fails [`DposConfig::validate`].
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// A consensus key that is not a valid BLS key, or whose proof of possession does not verify.
    #[error("{field}: {source}")]
    Key {
        /// Where the key is.
        field: &'static str,
        /// What [`ProvenKey::new`] said.
        source: RegistrationError,
    },
    /// A key or proof that decodes but is not in its canonical compressed form.
    #[error("{field}: key or proof not canonically encoded")]
    NonCanonicalKey {
        /// Where the key is.
        field: &'static str,
    },
    /// A set refused by [`ValidatorSet::new`] (empty, or a candidate or key twice).
    #[error("{field}: {source}")]
    InvalidSet {
        /// Which set.
        field: &'static str,
        /// What [`ValidatorSet::new`] said.
        source: DposError,
    },
    /// The next height is 0 (the state after genesis expects height 1).
    #[error("next height is 0")]
    ZeroNextHeight,
    /// Two candidates hold the same consensus key, which registration never allows.
    #[error("consensus key {key:?} held by two candidates")]
    SharedConsensusKey {
        /// The key.
        key: ConsensusKey,
    },
    /// The vote totals are not the sums of the vote records per candidate.
    #[error("vote totals do not match the vote records")]
    TallyMismatch,
}

impl ElectionState {
    /// The canonical encoding of the state (format in [the module docs](self)). Two equal states have
    /// the same encoding, and [`ElectionState::decode`] returns an equal state.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Vec::new();
        w.extend_from_slice(MAGIC);
        w.push(VERSION);
        put_config(&mut w, &self.config);
        w.extend_from_slice(self.chain_id.as_bytes());
        put_set(&mut w, &self.genesis);
        put_u64(&mut w, self.next_height);
        w.extend_from_slice(&self.tip_hash.0);
        // key_owners is rebuilt from the candidates on decode (module docs).
        put_count(&mut w, self.candidates.len());
        for (xpub, c) in &self.candidates {
            w.extend_from_slice(xpub.as_bytes());
            put_key(&mut w, &c.consensus_key);
            put_u64(&mut w, c.sequence);
            put_u64(&mut w, c.registered_at);
        }
        put_count(&mut w, self.tallies.len());
        for (xpub, votes) in &self.tallies {
            w.extend_from_slice(xpub.as_bytes());
            put_u64(&mut w, *votes);
        }
        put_count(&mut w, self.votes.len());
        for (id, r) in &self.votes {
            w.extend_from_slice(&id.0);
            w.extend_from_slice(r.candidate.as_bytes());
            put_u64(&mut w, r.amount);
            put_u64(&mut w, r.height);
            put_bytes(&mut w, &r.program);
        }
        put_set(&mut w, &self.current);
        match &self.next {
            None => w.push(0),
            Some(set) => {
                w.push(1);
                put_set(&mut w, set);
            }
        }
        put_count(&mut w, self.round_rewards.len());
        for (xpub, t) in &self.round_rewards {
            w.extend_from_slice(xpub.as_bytes());
            put_u64(&mut w, t.blocks);
            put_u64(&mut w, t.amount);
        }
        put_count(&mut w, self.payable.validators.len());
        for r in &self.payable.validators {
            w.extend_from_slice(r.validator.as_bytes());
            put_u64(&mut w, r.blocks);
            put_u64(&mut w, r.earned);
            put_u64(&mut w, r.amount);
        }
        put_count(&mut w, self.payable.voters.len());
        for v in &self.payable.voters {
            put_bytes(&mut w, &v.program);
            put_u64(&mut w, v.amount);
        }
        w
    }

    /// Decodes bytes from [`ElectionState::encode`], checking everything a state built by applying
    /// blocks satisfies (module docs). Never panics; allocates in proportion to the input.
    ///
    /// # Errors
    /// An [`ElectionCodecError`] for anything but the canonical encoding of a valid state.
    pub fn decode(bytes: &[u8], limits: &ElectionCodecLimits) -> Result<ElectionState, ElectionCodecError> {
        let mut r = Reader {
            rest: bytes,
            limits: *limits,
        };
        if r.array::<4>("magic")? != *MAGIC {
            return Err(ElectionCodecError::BadMagic);
        }
        let version = r.u8("version")?;
        if version != VERSION {
            return Err(ElectionCodecError::UnsupportedVersion { version });
        }
        // Structure first: everything but the keys' pairing checks, so that malformed input costs
        // no pairing.
        let config = r.config()?;
        let chain_id = ChainId(r.array::<CHAIN_ID_LEN>("chain id")?);
        let genesis = r.set("genesis set")?;
        let next_height = r.u64("next height")?;
        if next_height == 0 {
            return Err(ElectionCodecError::ZeroNextHeight);
        }
        let tip_hash = Hash(r.array::<HASH_LEN>("tip hash")?);
        let candidates = r.map("candidates", limits.max_candidates, CANDIDATE_ENTRY, |r| {
            let xpub = r.xpub("candidates")?;
            let key = r.raw_key("candidates")?;
            let sequence = r.u64("candidates")?;
            let registered_at = r.u64("candidates")?;
            Ok((xpub, (key, sequence, registered_at)))
        })?;
        let tallies = r.map("tallies", limits.max_votes, TALLY_ENTRY, |r| {
            Ok((r.xpub("tallies")?, r.u64("tallies")?))
        })?;
        let votes = r.map("votes", limits.max_votes, VOTE_ENTRY, |r| {
            let id = Hash(r.array::<HASH_LEN>("votes")?);
            let candidate = r.xpub("votes")?;
            let amount = r.u64("votes")?;
            let height = r.u64("votes")?;
            let program = r.bytes("votes")?;
            Ok((
                id,
                VoteRecord {
                    candidate,
                    amount,
                    height,
                    program,
                },
            ))
        })?;
        let current = r.set("current set")?;
        let next = match r.u8("next set")? {
            0 => None,
            1 => Some(r.set("next set")?),
            tag => {
                return Err(ElectionCodecError::BadTag {
                    field: "next set",
                    tag,
                });
            }
        };
        let round_rewards = r.map("round rewards", limits.max_set_size, ROUND_REWARD_ENTRY, |r| {
            let xpub = r.xpub("round rewards")?;
            let blocks = r.u64("round rewards")?;
            let amount = r.u64("round rewards")?;
            Ok((xpub, RewardTally { blocks, amount }))
        })?;
        let payable = r.payable()?;
        if !r.rest.is_empty() {
            return Err(ElectionCodecError::TrailingBytes { count: r.rest.len() });
        }

        // Consistency across fields.
        let mut sums: BTreeMap<XPub, u64> = BTreeMap::new();
        for record in votes.values() {
            let sum = sums.entry(record.candidate).or_insert(0);
            *sum = sum
                .checked_add(record.amount)
                .ok_or(ElectionCodecError::TallyMismatch)?;
        }
        if sums != tallies {
            return Err(ElectionCodecError::TallyMismatch);
        }
        // key_owners is the inverse of the candidates' keys (module docs); canonical key bytes are
        // checked below, so equal bytes are equal keys.
        let mut key_owners = BTreeMap::new();
        for (xpub, (key, _, _)) in &candidates {
            let key = ConsensusKey(key.0);
            if key_owners.insert(key, *xpub).is_some() {
                return Err(ElectionCodecError::SharedConsensusKey { key });
            }
        }

        // Keys last: each distinct key's proof of possession is checked once.
        let mut keys = Keys::default();
        let candidates = candidates
            .into_iter()
            .map(|(xpub, (key, sequence, registered_at))| {
                let candidate = Candidate {
                    consensus_key: keys.prove(key, "candidates")?,
                    sequence,
                    registered_at,
                };
                Ok((xpub, candidate))
            })
            .collect::<Result<BTreeMap<_, _>, ElectionCodecError>>()?;
        let genesis = keys.set(genesis, "genesis set")?;
        let current = keys.set(current, "current set")?;
        let next = next.map(|set| keys.set(set, "next set")).transpose()?;

        Ok(ElectionState {
            config,
            chain_id,
            genesis,
            next_height,
            tip_hash,
            candidates,
            key_owners,
            tallies,
            votes,
            current,
            next,
            round_rewards,
            payable,
        })
    }
}

fn put_u64(w: &mut Vec<u8>, v: u64) {
    w.extend_from_slice(&v.to_be_bytes());
}

/// Counts are `u32`. No collection of a state in memory reaches 2^32 entries; if one did, the
/// saturated count would make decoding fail (over every limit), never decode to another state.
fn put_count(w: &mut Vec<u8>, n: usize) {
    w.extend_from_slice(&u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes());
}

fn put_bytes(w: &mut Vec<u8>, b: &[u8]) {
    put_count(w, b.len());
    w.extend_from_slice(b);
}

fn put_key(w: &mut Vec<u8>, k: &ProvenKey) {
    w.extend_from_slice(k.key().as_bytes());
    w.extend_from_slice(&k.proof().to_bytes());
}

fn put_set(w: &mut Vec<u8>, set: &ValidatorSet) {
    put_count(w, set.len());
    for v in set.validators() {
        w.extend_from_slice(v.candidate.as_bytes());
        put_key(w, &v.consensus_key);
        put_u64(w, v.votes);
    }
}

fn put_config(w: &mut Vec<u8>, c: &DposConfig) {
    put_u64(w, c.round_length);
    // usize is at most 64 bits on every supported platform.
    put_u64(w, u64::try_from(c.num_validators).unwrap_or(u64::MAX));
    put_u64(w, c.blocks_per_producer);
    put_u64(w, c.min_validator_stake);
    put_u64(w, c.min_vote_amount);
    put_u64(w, c.vote_lock_blocks);
    put_u64(w, c.block_subsidy);
    put_u64(w, c.subsidy_last_height);
    w.push(c.voter_share_percent);
}

/// A consensus key and its proof of possession as read, not yet checked.
type RawKey = ([u8; CONSENSUS_KEY_LEN], [u8; PROOF_LEN]);

/// A set member as read, its key not yet checked.
struct RawValidator {
    candidate: XPub,
    key: RawKey,
    votes: u64,
}

/// Checks keys through [`ProvenKey::new`], each distinct key once: the genesis, current and next sets
/// usually repeat the same keys, and registered validators repeat their candidates' keys.
#[derive(Default)]
struct Keys(BTreeMap<RawKey, ProvenKey>);

impl Keys {
    fn prove(&mut self, raw: RawKey, field: &'static str) -> Result<ProvenKey, ElectionCodecError> {
        if let Some(k) = self.0.get(&raw) {
            return Ok(*k);
        }
        let (key, proof) = &raw;
        let k = ProvenKey::new(key, proof).map_err(|source| ElectionCodecError::Key { field, source })?;
        // The decoded point re-compresses to other bytes if the input was not canonical.
        if k.key().0 != *key || k.proof().to_bytes() != *proof {
            return Err(ElectionCodecError::NonCanonicalKey { field });
        }
        self.0.insert(raw, k);
        Ok(k)
    }

    fn set(
        &mut self,
        raw: Vec<RawValidator>,
        field: &'static str,
    ) -> Result<ValidatorSet, ElectionCodecError> {
        let validators = raw
            .into_iter()
            .map(|v| {
                Ok(Validator {
                    candidate: v.candidate,
                    consensus_key: self.prove(v.key, field)?,
                    votes: v.votes,
                })
            })
            .collect::<Result<Vec<_>, ElectionCodecError>>()?;
        ValidatorSet::new(validators).map_err(|source| ElectionCodecError::InvalidSet { field, source })
    }
}

/// Reads fields off the input, bounded by its length and the limits.
struct Reader<'a> {
    rest: &'a [u8],
    limits: ElectionCodecLimits,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], ElectionCodecError> {
        let (head, tail) = self
            .rest
            .split_at_checked(n)
            .ok_or(ElectionCodecError::Truncated { field })?;
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], ElectionCodecError> {
        <[u8; N]>::try_from(self.take(N, field)?).map_err(|_| ElectionCodecError::Truncated { field })
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, ElectionCodecError> {
        let [b] = self.array::<1>(field)?;
        Ok(b)
    }

    fn u64(&mut self, field: &'static str) -> Result<u64, ElectionCodecError> {
        Ok(u64::from_be_bytes(self.array(field)?))
    }

    fn xpub(&mut self, field: &'static str) -> Result<XPub, ElectionCodecError> {
        // Any 64 bytes are an xpub (the reference does not check the point either).
        Ok(XPub::from_bytes(self.array::<EXTENDED_KEY_LEN>(field)?))
    }

    /// A count within `limit` whose entries, each at least `entry` bytes, fit in the input left.
    fn count(
        &mut self,
        field: &'static str,
        limit: usize,
        entry: usize,
    ) -> Result<usize, ElectionCodecError> {
        let raw = u32::from_be_bytes(self.array(field)?);
        let n = usize::try_from(raw).unwrap_or(usize::MAX);
        if n > limit {
            return Err(ElectionCodecError::TooMany {
                field,
                count: n,
                limit,
            });
        }
        if n.saturating_mul(entry) > self.rest.len() {
            return Err(ElectionCodecError::Truncated { field });
        }
        Ok(n)
    }

    fn bytes(&mut self, field: &'static str) -> Result<Vec<u8>, ElectionCodecError> {
        let raw = u32::from_be_bytes(self.array(field)?);
        let len = usize::try_from(raw).unwrap_or(usize::MAX);
        let limit = self.limits.max_program_bytes;
        if len > limit {
            return Err(ElectionCodecError::TooLong { field, len, limit });
        }
        Ok(self.take(len, field)?.to_vec())
    }

    fn raw_key(&mut self, field: &'static str) -> Result<RawKey, ElectionCodecError> {
        Ok((self.array(field)?, self.array(field)?))
    }

    fn config(&mut self) -> Result<DposConfig, ElectionCodecError> {
        let field = "config";
        let round_length = self.u64(field)?;
        let num_validators = self.u64(field)?;
        let num_validators = usize::try_from(num_validators).map_err(|_| ElectionCodecError::OutOfRange {
            field: "num_validators",
            value: num_validators,
        })?;
        let config = DposConfig {
            round_length,
            num_validators,
            blocks_per_producer: self.u64(field)?,
            min_validator_stake: self.u64(field)?,
            min_vote_amount: self.u64(field)?,
            vote_lock_blocks: self.u64(field)?,
            block_subsidy: self.u64(field)?,
            subsidy_last_height: self.u64(field)?,
            voter_share_percent: self.u8(field)?,
        };
        config.validate()?;
        Ok(config)
    }

    /// A set's members as read; [`Keys::set`] checks them.
    fn set(&mut self, field: &'static str) -> Result<Vec<RawValidator>, ElectionCodecError> {
        let n = self.count(field, self.limits.max_set_size, SET_ENTRY)?;
        let mut validators = Vec::with_capacity(n);
        for _ in 0..n {
            validators.push(RawValidator {
                candidate: self.xpub(field)?,
                key: self.raw_key(field)?,
                votes: self.u64(field)?,
            });
        }
        Ok(validators)
    }

    /// A map whose keys must be strictly ascending, so that a map has one encoding.
    fn map<K: Ord, V>(
        &mut self,
        field: &'static str,
        limit: usize,
        entry: usize,
        mut read: impl FnMut(&mut Self) -> Result<(K, V), ElectionCodecError>,
    ) -> Result<BTreeMap<K, V>, ElectionCodecError> {
        let n = self.count(field, limit, entry)?;
        let mut map = BTreeMap::new();
        for _ in 0..n {
            let (k, v) = read(self)?;
            if map.last_key_value().is_some_and(|(last, _)| *last >= k) {
                return Err(ElectionCodecError::NotAscending { field });
            }
            map.insert(k, v);
        }
        Ok(map)
    }

    /// The payable rewards, each list in the order the round's settlement produces.
    fn payable(&mut self) -> Result<RoundRewards, ElectionCodecError> {
        let field = "payable validators";
        let n = self.count(field, self.limits.max_set_size, REWARD_ENTRY)?;
        let mut validators: Vec<Reward> = Vec::with_capacity(n);
        for _ in 0..n {
            let r = Reward {
                validator: self.xpub(field)?,
                blocks: self.u64(field)?,
                earned: self.u64(field)?,
                amount: self.u64(field)?,
            };
            if validators
                .last()
                .is_some_and(|p| (p.amount, p.validator) <= (r.amount, r.validator))
            {
                return Err(ElectionCodecError::NotCanonicalOrder { field });
            }
            validators.push(r);
        }
        let field = "payable voters";
        let n = self.count(field, self.limits.max_votes, VOTER_REWARD_ENTRY)?;
        let mut voters: Vec<VoterReward> = Vec::with_capacity(n);
        for _ in 0..n {
            let v = VoterReward {
                program: self.bytes(field)?,
                amount: self.u64(field)?,
            };
            if voters
                .last()
                .is_some_and(|p| (p.amount, &p.program) <= (v.amount, &v.program))
            {
                return Err(ElectionCodecError::NotCanonicalOrder { field });
            }
            voters.push(v);
        }
        Ok(RoundRewards { validators, voters })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crypto::bls::SecretKey;

    fn xpub(n: u8) -> XPub {
        XPub::from_bytes([n; EXTENDED_KEY_LEN])
    }

    fn key(n: u8) -> ProvenKey {
        ProvenKey::from_secret(&SecretKey::from_seed(&[n; 32]))
    }

    fn validator(n: u8, votes: u64) -> Validator {
        Validator {
            candidate: xpub(n),
            consensus_key: key(n),
            votes,
        }
    }

    /// A state no block sequence reaches (payable rewards while no next set is fixed, vote records of
    /// an unregistered candidate, a genesis set apart from the current one), built field by field: the
    /// codec carries every field whatever the state's history.
    fn hand_built() -> ElectionState {
        let config = DposConfig::new(7, 2, 3, 11, 2, 5, 13)
            .unwrap()
            .with_voter_share(40)
            .unwrap()
            .with_subsidy_until(99);
        let mut state = ElectionState::with_chain_id(
            config,
            ChainId::from_name("codec"),
            Hash([9; 32]),
            vec![validator(1, 0), validator(2, 0)],
        )
        .unwrap();
        state.next_height = 44;
        state.candidates.insert(
            xpub(3),
            Candidate {
                consensus_key: key(3),
                sequence: 4,
                registered_at: 17,
            },
        );
        state.key_owners.insert(key(3).key(), xpub(3));
        state.votes.insert(
            Hash([1; 32]),
            VoteRecord {
                candidate: xpub(3),
                amount: 30,
                height: 20,
                program: vec![0x51],
            },
        );
        state.votes.insert(
            Hash([2; 32]),
            VoteRecord {
                candidate: xpub(8),
                amount: 5,
                height: 21,
                program: Vec::new(),
            },
        );
        state.tallies.insert(xpub(3), 30);
        state.tallies.insert(xpub(8), 5);
        state.current = ValidatorSet::new(vec![validator(3, 30), validator(1, 0)]).unwrap();
        state.next = None;
        state.round_rewards.insert(
            xpub(3),
            RewardTally {
                blocks: 2,
                amount: 26,
            },
        );
        state.payable = RoundRewards {
            validators: vec![
                Reward {
                    validator: xpub(1),
                    blocks: 4,
                    earned: 52,
                    amount: 40,
                },
                Reward {
                    validator: xpub(2),
                    blocks: 3,
                    earned: 39,
                    amount: 31,
                },
            ],
            voters: vec![
                VoterReward {
                    program: vec![7, 7],
                    amount: 12,
                },
                VoterReward {
                    program: vec![6],
                    amount: 8,
                },
            ],
        };
        state
    }

    #[test]
    fn every_field_round_trips_in_a_hand_built_state() {
        let state = hand_built();
        let bytes = state.encode();
        let back = ElectionState::decode(&bytes, &ElectionCodecLimits::default()).unwrap();
        assert_eq!(back, state);
        assert_eq!(back.encode(), bytes);
    }

    /// Freezes the format: changing any byte of the encoding is a reviewed, deliberate act (and a new
    /// [`VERSION`]).
    #[test]
    fn frozen_vector() {
        let bytes = hand_built().encode();
        let mut head = b"TDPS\x01".to_vec();
        for v in [7u64, 2, 3, 11, 2, 5, 13, 99] {
            head.extend_from_slice(&v.to_be_bytes());
        }
        head.push(40);
        head.extend_from_slice(ChainId::from_name("codec").as_bytes());
        head.extend_from_slice(&[0, 0, 0, 2]);
        head.extend_from_slice(xpub(1).as_bytes());
        head.extend_from_slice(key(1).key().as_bytes());
        assert!(bytes.starts_with(&head));
        assert_eq!(bytes.len(), 1923);
        assert_eq!(
            hex::encode(crypto::sha3_256(&bytes)),
            "d38d73b204b67dd349d83de7c29f91b1ceaf092b3d13c80c6a84997321660cd9"
        );
    }
}

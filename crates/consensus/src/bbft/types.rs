//! Protocol values: validator sets and topology, votes, certificates, proposals, timeouts,
//! evidence, and the exact bytes each signature covers.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use crypto::bls::{ProofOfPossession, PublicKey, Signature};

use super::crypto::Crypto;

/// Most validators in one set; bounds bitmaps and every count on the wire.
pub const MAX_VALIDATORS: usize = 1024;

/// A host-level network identity (the transport authenticates it).
pub type NodeId = u32;

/// A block's identity: SHA3-256 over its height, parent and payload hash.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct BlockId(pub [u8; 32]);

impl BlockId {
    /// The identity of the block at `height` with `parent` and `payload`.
    pub fn compute(height: u64, parent: &BlockId, payload: &[u8]) -> BlockId {
        Self::from_digest(height, parent, &crypto::sha3_256(payload))
    }

    /// [`BlockId::compute`] from the payload's SHA3-256 digest.
    fn from_digest(height: u64, parent: &BlockId, digest: &[u8; 32]) -> BlockId {
        let mut buf = Vec::with_capacity(64 + 40);
        buf.extend_from_slice(b"tributary/bbft/block/v1");
        buf.extend_from_slice(&height.to_be_bytes());
        buf.extend_from_slice(&parent.0);
        buf.extend_from_slice(digest);
        BlockId(crypto::sha3_256(&buf))
    }

    /// [`BlockId::compute`] with the payload's digest computed at most once per payload (clones
    /// share it).
    pub fn of(height: u64, parent: &BlockId, payload: &Payload) -> BlockId {
        Self::from_digest(height, parent, payload.digest())
    }
}

/// A proposal's block: opaque bytes, shared rather than copied when a proposal is cloned or
/// kept, with their SHA3-256 digest computed at most once. A full sidechain block is 1.5 MB, and
/// its id (which hashes the digest) is asked for by the core, the host and the relay: hashing it
/// each time cost a loaded validator about 4% of its time.
#[derive(Clone, Default)]
pub struct Payload {
    bytes: Arc<[u8]>,
    digest: Arc<std::sync::OnceLock<[u8; 32]>>,
}

impl Payload {
    /// The bytes' SHA3-256 digest, computed on first use.
    pub fn digest(&self) -> &[u8; 32] {
        self.digest.get_or_init(|| crypto::sha3_256(&self.bytes))
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Payload {
        Payload {
            bytes: bytes.into(),
            digest: Arc::default(),
        }
    }
}

impl From<&[u8]> for Payload {
    fn from(bytes: &[u8]) -> Payload {
        Payload {
            bytes: bytes.into(),
            digest: Arc::default(),
        }
    }
}

impl std::ops::Deref for Payload {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.bytes
    }
}

impl PartialEq for Payload {
    fn eq(&self, other: &Payload) -> bool {
        self.bytes == other.bytes
    }
}

impl Eq for Payload {}

impl PartialEq<Vec<u8>> for Payload {
    fn eq(&self, other: &Vec<u8>) -> bool {
        *self.bytes == **other
    }
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Payload({} bytes)", self.bytes.len())
    }
}

impl fmt::Debug for BlockId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlockId({})", hex::encode(&self.0[..6]))
    }
}

/// Errors building a validator set or topology.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetError {
    /// No validators, or more than [`MAX_VALIDATORS`].
    #[error("validator count {0} outside 1..={MAX_VALIDATORS}")]
    Size(usize),
    /// A validator with zero voting power.
    #[error("validator {0} has zero power")]
    ZeroPower(usize),
    /// Total power does not fit in a u64.
    #[error("total power overflows")]
    PowerOverflow,
    /// Two validators share a key or node id.
    #[error("duplicate key or node id at validator {0}")]
    Duplicate(usize),
    /// A proof of possession failed or is missing.
    #[error("proof of possession of validator {0} does not verify")]
    BadPossession(usize),
    /// The topology does not fit the set.
    #[error("invalid topology: {0}")]
    Topology(&'static str),
}

/// One validator: network identity, consensus key and voting power.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validator {
    /// Where to send it messages.
    pub node: NodeId,
    /// Its BLS consensus key (possession proven when the set is built).
    pub key: PublicKey,
    /// Its voting power (stake).
    pub power: u64,
}

/// Which validators are super nodes and whom each validator reports to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topology {
    /// Validator indices of the super nodes, in leader-rotation order.
    pub supers: Vec<u16>,
    /// For each validator, the position in `supers` of its super node. A super node is
    /// assigned to itself.
    pub assignment: Vec<u16>,
}

impl Topology {
    /// The default number of super nodes for `n` validators: ⌊√n⌋, at least 1.
    pub fn default_m(n: usize) -> usize {
        let mut m = 1usize;
        while (m + 1) * (m + 1) <= n {
            m += 1;
        }
        m
    }

    /// Every validator its own super node: all-to-all exchange (PBFT).
    pub fn pbft(n: usize) -> Topology {
        Topology::round_robin(n, n)
    }

    /// Super nodes `0..m`, validator `i` assigned to `i mod m` (M = 1 is FBFT's one aggregator).
    pub fn round_robin(n: usize, m: usize) -> Topology {
        let m = m.clamp(1, n.max(1));
        let supers = (0..m).filter_map(|i| u16::try_from(i).ok()).collect();
        let assignment = (0..n).filter_map(|i| u16::try_from(i % m).ok()).collect();
        Topology { supers, assignment }
    }

    /// Chooses `m` super nodes from measured one-way latencies (`latency_ms[i][j]`) and stake,
    /// deterministically: the first is the validator with the least total latency to all others
    /// (ties: more power, lower index); each next one is the validator farthest from the chosen
    /// ones (ties: more power, lower index), so every region gets an aggregator. Each validator is
    /// then assigned to its nearest super node. Rows shorter than `n` count as unreachable.
    pub fn from_latency(powers: &[u64], latency_ms: &[Vec<u32>], m: usize) -> Topology {
        let n = powers.len();
        let m = m.clamp(1, n.max(1));
        let lat = |i: usize, j: usize| -> u64 {
            if i == j {
                0
            } else {
                latency_ms
                    .get(i)
                    .and_then(|r| r.get(j))
                    .map_or(u64::from(u32::MAX), |&v| u64::from(v))
            }
        };
        let mut chosen: Vec<usize> = Vec::with_capacity(m);
        let first = (0..n).min_by_key(|&i| ((0..n).map(|j| lat(i, j)).sum::<u64>(), u64::MAX - powers[i], i));
        if let Some(f) = first {
            chosen.push(f);
        }
        while chosen.len() < m {
            let next = (0..n).filter(|i| !chosen.contains(i)).max_by_key(|&i| {
                let d = chosen.iter().map(|&c| lat(c, i)).min().unwrap_or(0);
                (d, powers[i], usize::MAX - i)
            });
            match next {
                Some(x) => chosen.push(x),
                None => break,
            }
        }
        let assignment = (0..n)
            .map(|i| {
                let pos = (0..chosen.len())
                    .min_by_key(|&p| (lat(i, chosen[p]), p))
                    .unwrap_or(0);
                u16::try_from(pos).unwrap_or(0)
            })
            .collect();
        let supers = chosen.iter().filter_map(|&c| u16::try_from(c).ok()).collect();
        Topology { supers, assignment }
    }
}

/// A validator set with its topology. Every key's proof of possession was checked when it was
/// built, which is what makes same-message aggregate verification sound.
#[derive(Debug, Clone)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    total: u64,
    topology: Topology,
    /// Per super position: the validator indices of its group.
    groups: Vec<Vec<usize>>,
}

impl ValidatorSet {
    /// Builds a set, checking each proof of possession (`pops[i]` for `validators[i]`).
    pub fn new(
        validators: Vec<Validator>,
        pops: &[ProofOfPossession],
        topology: Topology,
        crypto: &dyn Crypto,
    ) -> Result<ValidatorSet, SetError> {
        let n = validators.len();
        if n == 0 || n > MAX_VALIDATORS {
            return Err(SetError::Size(n));
        }
        let mut total: u64 = 0;
        let mut keys = HashSet::new();
        let mut nodes = HashSet::new();
        for (i, v) in validators.iter().enumerate() {
            if v.power == 0 {
                return Err(SetError::ZeroPower(i));
            }
            total = total.checked_add(v.power).ok_or(SetError::PowerOverflow)?;
            if !keys.insert(v.key) || !nodes.insert(v.node) {
                return Err(SetError::Duplicate(i));
            }
            match pops.get(i) {
                Some(pop) if crypto.verify_possession(&v.key, pop) => {}
                _ => return Err(SetError::BadPossession(i)),
            }
        }
        let m = topology.supers.len();
        if m == 0 || m > n {
            return Err(SetError::Topology("super node count outside 1..=n"));
        }
        if topology.assignment.len() != n {
            return Err(SetError::Topology("assignment length differs from the set"));
        }
        let mut seen = HashSet::new();
        for (pos, &s) in topology.supers.iter().enumerate() {
            let s = usize::from(s);
            if s >= n || !seen.insert(s) {
                return Err(SetError::Topology("super node index out of range or repeated"));
            }
            if usize::from(topology.assignment[s]) != pos {
                return Err(SetError::Topology("a super node is not assigned to itself"));
            }
        }
        let mut groups = vec![Vec::new(); m];
        for (i, &a) in topology.assignment.iter().enumerate() {
            let g = groups
                .get_mut(usize::from(a))
                .ok_or(SetError::Topology("assignment out of range"))?;
            g.push(i);
        }
        Ok(ValidatorSet {
            validators,
            total,
            topology,
            groups,
        })
    }

    /// Number of validators.
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Always false: a set has at least one validator.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// The validators, by index.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// The validator at `i`.
    pub fn get(&self, i: usize) -> Option<&Validator> {
        self.validators.get(i)
    }

    /// Total voting power.
    pub fn total_power(&self) -> u64 {
        self.total
    }

    /// The topology.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Number of super nodes, M.
    pub fn num_supers(&self) -> usize {
        self.topology.supers.len()
    }

    /// The validator index of the super node at position `pos`.
    pub fn super_at(&self, pos: usize) -> Option<usize> {
        self.topology.supers.get(pos).map(|&s| usize::from(s))
    }

    /// The super position validator `i` reports to.
    pub fn group_of(&self, i: usize) -> Option<usize> {
        self.topology.assignment.get(i).map(|&a| usize::from(a))
    }

    /// The super position of validator `i` if it is a super node.
    pub fn super_position(&self, i: usize) -> Option<usize> {
        self.topology.supers.iter().position(|&s| usize::from(s) == i)
    }

    /// The validator indices in the group of super position `pos`.
    pub fn group(&self, pos: usize) -> &[usize] {
        self.groups.get(pos).map_or(&[], Vec::as_slice)
    }

    /// The index of the validator at network identity `node`.
    pub fn index_of(&self, node: NodeId) -> Option<usize> {
        self.validators.iter().position(|v| v.node == node)
    }

    /// True when `power` is more than two thirds of the total (a quorum).
    pub fn is_quorum(&self, power: u64) -> bool {
        u128::from(power) * 3 > u128::from(self.total) * 2
    }

    /// True when `power` is more than a third of the total (at least one honest validator).
    pub fn exceeds_third(&self, power: u64) -> bool {
        u128::from(power) * 3 > u128::from(self.total)
    }

    /// Power of the validators in `signers`.
    pub fn power_of(&self, signers: &Bitmap) -> u64 {
        signers
            .ones()
            .filter_map(|i| self.validators.get(i))
            .map(|v| v.power)
            .sum()
    }

    /// Keys of the validators in `signers`, or `None` if the bitmap does not fit this set.
    pub fn keys_of(&self, signers: &Bitmap) -> Option<Vec<PublicKey>> {
        if signers.len() != self.len() {
            return None;
        }
        Some(
            signers
                .ones()
                .filter_map(|i| self.validators.get(i))
                .map(|v| v.key)
                .collect(),
        )
    }
}

/// A set of validator indices: one bit per validator, little-endian within bytes.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Bitmap {
    len: usize,
    bits: Vec<u8>,
}

impl Bitmap {
    /// The empty set over `len` validators.
    pub fn new(len: usize) -> Bitmap {
        Bitmap {
            len,
            bits: vec![0; len.div_ceil(8)],
        }
    }

    /// The set holding only `i` (empty when out of range).
    pub fn one(len: usize, i: usize) -> Bitmap {
        let mut b = Bitmap::new(len);
        b.set(i);
        b
    }

    /// Rebuilds from the wire form; bits past `len` must be zero (canonical).
    pub fn from_bytes(len: usize, bits: Vec<u8>) -> Option<Bitmap> {
        if len > MAX_VALIDATORS || bits.len() != len.div_ceil(8) {
            return None;
        }
        let b = Bitmap { len, bits };
        let stray = (b.len..b.bits.len() * 8).any(|i| b.bits[i / 8] & (1 << (i % 8)) != 0);
        (!stray).then_some(b)
    }

    /// How many validators the bitmap ranges over.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no bit is set.
    pub fn is_empty(&self) -> bool {
        self.bits.iter().all(|&b| b == 0)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bits
    }

    /// Adds `i` (ignored when out of range).
    pub fn set(&mut self, i: usize) {
        if i < self.len {
            self.bits[i / 8] |= 1 << (i % 8);
        }
    }

    /// Whether `i` is in the set.
    pub fn get(&self, i: usize) -> bool {
        i < self.len && self.bits[i / 8] & (1 << (i % 8)) != 0
    }

    /// Number of members.
    pub fn count(&self) -> usize {
        self.bits.iter().map(|b| b.count_ones() as usize).sum()
    }

    /// Members in ascending order.
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len).filter(|&i| self.get(i))
    }

    /// True when no index is in both.
    pub fn is_disjoint(&self, other: &Bitmap) -> bool {
        self.len == other.len && self.bits.iter().zip(&other.bits).all(|(a, b)| a & b == 0)
    }

    /// Adds every member of `other`.
    pub fn union_with(&mut self, other: &Bitmap) {
        for (a, b) in self.bits.iter_mut().zip(&other.bits) {
            *a |= b;
        }
    }
}

impl fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bitmap{:?}", self.ones().collect::<Vec<_>>())
    }
}

/// Which of a round's two votes: the vote for a proposal, or the vote that commits a block
/// whose certificate the voter holds (one-round finality, `docs/bbft.md` §3a).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// For the round's proposal; its certificate (a QC) certifies the block and is the lock.
    Prepare,
    /// For a certified block, sent once its QC is held; a certificate of these makes the
    /// block final at once.
    Commit,
}

/// What a vote is for. The signed bytes include the parent and its round so that one
/// certificate proves the two-chain that finalizes the parent, and the phase, so that a
/// prepare vote can never count as a commit vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VoteData {
    /// Epoch (validator set) index.
    pub epoch: u64,
    /// Round within the epoch.
    pub round: u64,
    /// Height of the block.
    pub height: u64,
    /// The block.
    pub block: BlockId,
    /// Its parent.
    pub parent: BlockId,
    /// Round of the parent's certificate (0 for an epoch's anchor).
    pub parent_round: u64,
    /// Prepare (the proposal) or commit (the certified block).
    pub phase: Phase,
}

impl VoteData {
    /// The bytes a vote signs. The phases sign under different domains.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(120);
        b.extend_from_slice(match self.phase {
            Phase::Prepare => b"tributary/bbft/vote/v1",
            Phase::Commit => b"tributary/bbft/commit/v1",
        });
        for x in [self.epoch, self.round, self.height] {
            b.extend_from_slice(&x.to_be_bytes());
        }
        b.extend_from_slice(&self.block.0);
        b.extend_from_slice(&self.parent.0);
        b.extend_from_slice(&self.parent_round.to_be_bytes());
        b
    }
}

/// One validator's signed vote (T2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vote {
    /// What is voted for.
    pub data: VoteData,
    /// The voter's index in the epoch's set.
    pub signer: u16,
    /// BLS signature over [`VoteData::signing_bytes`].
    pub signature: Signature,
}

/// An aggregate of votes for one [`VoteData`]: a group aggregate (T3) or, once it holds more
/// than two thirds of the power, a quorum certificate (T4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// What the signers voted for.
    pub data: VoteData,
    /// Who signed.
    pub signers: Bitmap,
    /// The aggregate signature.
    pub signature: Signature,
}

impl Certificate {
    /// Checks the aggregate signature against the bitmap's keys in `set` (not the quorum).
    pub fn verify_signature(&self, set: &ValidatorSet, crypto: &dyn Crypto) -> bool {
        match set.keys_of(&self.signers) {
            Some(keys) if !keys.is_empty() => {
                crypto.verify(&self.signature, &keys, &self.data.signing_bytes())
            }
            _ => false,
        }
    }

    /// Checks the signature and that the signers hold a quorum of `set`.
    pub fn verify_quorum(&self, set: &ValidatorSet, crypto: &dyn Crypto) -> bool {
        set.is_quorum(set.power_of(&self.signers)) && self.verify_signature(set, crypto)
    }

    /// Whether this certificate finalizes its parent: a prepare certificate (QC) whose parent
    /// was certified in the round just before (a direct two-chain).
    pub fn finalizes_parent(&self) -> bool {
        self.data.phase == Phase::Prepare && self.data.parent_round.checked_add(1) == Some(self.data.round)
    }

    /// Whether this is a commit certificate: it makes its own block final.
    pub fn is_commit(&self) -> bool {
        self.data.phase == Phase::Commit
    }

    /// Whether this certificate (its quorum checked apart) proves the block `block` at
    /// `height` final by itself: a commit certificate for that very block, or a prepare
    /// certificate whose direct two-chain finalizes it as the parent.
    pub fn proves_final(&self, height: u64, block: &BlockId) -> bool {
        let d = &self.data;
        if self.is_commit() {
            d.height == height && d.block == *block
        } else {
            self.finalizes_parent() && d.height.checked_sub(1) == Some(height) && d.parent == *block
        }
    }
}

/// What the first block of an epoch extends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Justify {
    /// The chain's genesis anchor (epoch 0 only), fixed by the host.
    Genesis,
    /// A certificate of this epoch for the parent.
    Qc(Certificate),
    /// The previous epoch's finality certificate for its last block (which is the parent).
    Anchor(Certificate),
}

/// A leader's proposal (T0, forwarded unchanged by super nodes in T1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    /// Epoch index.
    pub epoch: u64,
    /// Round.
    pub round: u64,
    /// Height of the proposed block.
    pub height: u64,
    /// Parent block.
    pub parent: BlockId,
    /// Why the parent may be extended.
    pub justify: Justify,
    /// The previous round's timeout certificate when the round began by view change.
    pub tc: Option<TimeoutCert>,
    /// The block's opaque content.
    pub payload: Payload,
    /// The leader's index in the set.
    pub proposer: u16,
    /// BLS signature over [`ProposalHeader::signing_bytes`].
    pub signature: Signature,
}

impl Proposal {
    /// The proposed block's id.
    pub fn block_id(&self) -> BlockId {
        BlockId::of(self.height, &self.parent, &self.payload)
    }

    /// The signed part, kept as equivocation evidence.
    pub fn header(&self) -> ProposalHeader {
        ProposalHeader {
            epoch: self.epoch,
            round: self.round,
            block: self.block_id(),
            proposer: self.proposer,
            signature: self.signature,
        }
    }
}

/// The signed core of a proposal: who proposed which block in which round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalHeader {
    /// Epoch index.
    pub epoch: u64,
    /// Round.
    pub round: u64,
    /// The block id (commits to height, parent and payload).
    pub block: BlockId,
    /// Proposer index.
    pub proposer: u16,
    /// Proposer's signature.
    pub signature: Signature,
}

impl ProposalHeader {
    /// Bytes signed by the proposer.
    pub fn signing_bytes(epoch: u64, round: u64, block: &BlockId) -> Vec<u8> {
        let mut b = Vec::with_capacity(80);
        b.extend_from_slice(b"tributary/bbft/proposal/v1");
        b.extend_from_slice(&epoch.to_be_bytes());
        b.extend_from_slice(&round.to_be_bytes());
        b.extend_from_slice(&block.0);
        b
    }
}

/// A validator giving up on a round (view change), with its highest certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeout {
    /// Epoch index.
    pub epoch: u64,
    /// The round given up.
    pub round: u64,
    /// The sender's highest certificate (`None`: only the epoch's anchor).
    pub high_qc: Option<Certificate>,
    /// The timeout certificate that began `round`, helping stragglers catch up.
    pub last_tc: Option<TimeoutCert>,
    /// Sender index.
    pub signer: u16,
    /// BLS signature over [`Timeout::signing_bytes`].
    pub signature: Signature,
}

impl Timeout {
    /// The round of the carried high certificate (0 for none).
    pub fn high_qc_round(&self) -> u64 {
        self.high_qc.as_ref().map_or(0, |q| q.data.round)
    }

    /// Bytes a timeout signs.
    pub fn signing_bytes(epoch: u64, round: u64, high_qc_round: u64) -> Vec<u8> {
        let mut b = Vec::with_capacity(48);
        b.extend_from_slice(b"tributary/bbft/timeout/v1");
        for x in [epoch, round, high_qc_round] {
            b.extend_from_slice(&x.to_be_bytes());
        }
        b
    }
}

/// Timeouts of more than two thirds of the power for one round, aggregated per reported
/// high-certificate round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeoutCert {
    /// Epoch index.
    pub epoch: u64,
    /// The round that timed out.
    pub round: u64,
    /// Disjoint groups of signers that reported the same high-certificate round.
    pub parts: Vec<TcPart>,
}

/// Signers of a [`TimeoutCert`] that reported one high-certificate round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcPart {
    /// The reported round.
    pub high_qc_round: u64,
    /// Who.
    pub signers: Bitmap,
    /// Aggregate of their timeout signatures.
    pub signature: Signature,
}

impl TimeoutCert {
    /// The highest reported certificate round: a proposal after this TC must extend one at
    /// least as high.
    pub fn max_high_qc_round(&self) -> u64 {
        self.parts.iter().map(|p| p.high_qc_round).max().unwrap_or(0)
    }

    /// Checks every part's signature, that parts are disjoint, that they hold a quorum, and that
    /// every reported certificate round is below the TC's round (a timeout for round r carries
    /// a certificate from before r; a higher claim would bar every honest proposal).
    pub fn verify(&self, set: &ValidatorSet, crypto: &dyn Crypto) -> bool {
        let mut all = Bitmap::new(set.len());
        for p in &self.parts {
            if p.high_qc_round >= self.round
                || p.signers.len() != set.len()
                || p.signers.is_empty()
                || !all.is_disjoint(&p.signers)
            {
                return false;
            }
            all.union_with(&p.signers);
        }
        if !set.is_quorum(set.power_of(&all)) {
            return false;
        }
        self.parts.iter().all(|p| match set.keys_of(&p.signers) {
            Some(keys) => crypto.verify(
                &p.signature,
                &keys,
                &Timeout::signing_bytes(self.epoch, self.round, p.high_qc_round),
            ),
            None => false,
        })
    }
}

/// Verifiable proof that a validator signed two conflicting messages for one round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Evidence {
    /// A leader signed two different blocks for one round.
    ConflictingProposals(Box<ProposalHeader>, Box<ProposalHeader>),
    /// A validator voted for two different blocks in one round.
    ConflictingVotes(Box<Vote>, Box<Vote>),
}

impl Evidence {
    /// The offender's index in the epoch's set.
    pub fn offender(&self) -> u16 {
        match self {
            Evidence::ConflictingProposals(a, _) => a.proposer,
            Evidence::ConflictingVotes(a, _) => a.signer,
        }
    }

    /// Checks both messages are validly signed by the same validator of `set`, for the same
    /// epoch and round, and differ.
    pub fn verify(&self, set: &ValidatorSet, crypto: &dyn Crypto) -> bool {
        match self {
            Evidence::ConflictingProposals(a, b) => {
                let Some(v) = set.get(usize::from(a.proposer)) else {
                    return false;
                };
                a.proposer == b.proposer
                    && a.epoch == b.epoch
                    && a.round == b.round
                    && a.block != b.block
                    && crypto.verify(
                        &a.signature,
                        &[v.key],
                        &ProposalHeader::signing_bytes(a.epoch, a.round, &a.block),
                    )
                    && crypto.verify(
                        &b.signature,
                        &[v.key],
                        &ProposalHeader::signing_bytes(b.epoch, b.round, &b.block),
                    )
            }
            Evidence::ConflictingVotes(a, b) => {
                let Some(v) = set.get(usize::from(a.signer)) else {
                    return false;
                };
                a.signer == b.signer
                    && a.data.epoch == b.data.epoch
                    && a.data.round == b.data.round
                    && a.data.phase == b.data.phase
                    && a.data != b.data
                    && crypto.verify(&a.signature, &[v.key], &a.data.signing_bytes())
                    && crypto.verify(&b.signature, &[v.key], &b.data.signing_bytes())
            }
        }
    }
}

/// Everything validators send each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// T0 (leader → super nodes) and T1 (super node → members).
    Proposal(Box<Proposal>),
    /// T2: member → its super node (or, in fallback, more super nodes or everyone).
    Vote(Vote),
    /// T3: a super node's group aggregate, to the other super nodes.
    Aggregate(Certificate),
    /// T4: a quorum certificate, super node → members; also a catch-up reply.
    Certificate(Certificate),
    /// View change: a validator gives up on a round (to everyone).
    Timeout(Box<Timeout>),
    /// Catch-up reply to a straggler's timeout.
    TimeoutCert(Box<TimeoutCert>),
    /// Fallback: asks a super node to forward proposals and certificates up to a round.
    Subscribe {
        /// Epoch index.
        epoch: u64,
        /// Last round to forward.
        until_round: u64,
    },
}

/// A validator set for a range of heights.
#[derive(Debug, Clone)]
pub struct Epoch {
    /// Index, counting from 0.
    pub index: u64,
    /// First height voted by this set.
    pub first_height: u64,
    /// Last height committed under this set (`u64::MAX`: open-ended).
    pub last_height: u64,
    /// The set.
    pub set: Arc<ValidatorSet>,
}

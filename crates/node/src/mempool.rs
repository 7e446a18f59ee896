//! The transaction pool: admission against the chain's UTXO view plus the pool's own outputs, conflict
//! detection, a small bounded orphan pool, fee-rate priority, and count and byte limits with eviction
//! of the lowest fee rate.
//!
//! Every transaction is checked statelessly once ([`ledger::check_tx`], by the caller) and the result,
//! a [`CheckedTx`], is kept: block building and block validation reuse it instead of checking again.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::sync::Arc;

use foldhash::{HashMap, HashMapExt as _, HashSet, HashSetExt as _};

use ledger::{
    AssetRecord, ChainParams, CheckedTx, LotId, TxRejection, UtxoEntry, UtxoKind, UtxoView, ViewError,
};
use types::Hash;
use types::asset::AssetId;
use types::graph::ResultKind;
use types::tx::InputKind;

use crate::config::MempoolConfig;

/// Why the pool refused a transaction.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MempoolError {
    /// The transaction is in the pool already.
    #[error("transaction {0} is already in the pool")]
    Duplicate(Hash),
    /// The transaction is in the pool's orphan area already, waiting for its inputs.
    #[error("transaction {0} is already waiting for its inputs")]
    DuplicateOrphan(Hash),
    /// An input spends an output a pool transaction already spends.
    #[error("input spends {output_id}, already spent by pool transaction {by}")]
    Conflict {
        /// The output.
        output_id: Hash,
        /// The pool transaction spending it.
        by: Hash,
    },
    /// A cross-chain input claims a main-chain output a pool transaction already claims.
    #[error("cross-chain input claims {output_id}, already claimed by pool transaction {by}")]
    ClaimConflict {
        /// The main-chain output.
        output_id: Hash,
        /// The pool transaction claiming it.
        by: Hash,
    },
    /// An input spends an output neither the chain nor the pool knows, and the orphan area is off.
    #[error("input spends {output_id}, which is neither on chain nor created by a pool transaction")]
    UnknownInput {
        /// The output.
        output_id: Hash,
    },
    /// The transaction fails the ledger's rules against the chain state plus the pool.
    #[error("invalid against the current state: {0}")]
    Invalid(TxRejection),
    /// The pool is full and the transaction's fee rate does not beat the lowest one held.
    #[error("pool full: fee rate {fee_rate} neu/kB does not beat the lowest held, {lowest} neu/kB")]
    PoolFull {
        /// The transaction's fee rate.
        fee_rate: u64,
        /// The lowest fee rate in the pool.
        lowest: u64,
    },
    /// The transaction alone is larger than the whole pool.
    #[error("transaction of {size} bytes exceeds the pool's {max} bytes")]
    TooLarge {
        /// Its size.
        size: u64,
        /// The pool's byte limit.
        max: u64,
    },
    /// Reading the chain state failed.
    #[error("reading the chain state failed: {0}")]
    View(ViewError),
}

/// What happened to a transaction the pool accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// It is in the pool, ready for a block; `evicted` lists lower-priority transactions it displaced
    /// and `promoted` orphans that became valid with it.
    Accepted {
        /// Transactions evicted to make room.
        evicted: Vec<Hash>,
        /// Orphans admitted because this transaction created their inputs.
        promoted: Vec<Hash>,
    },
    /// It waits in the orphan area for outputs not known yet.
    Orphaned {
        /// The first unknown output it spends.
        missing: Hash,
    },
}

/// Orphans may hold at most this fraction (1/n) of the pool's byte limit.
const ORPHAN_BYTES_SHARE: u64 = 16;

/// Fee per 1000 bytes, saturating.
pub fn fee_rate(fee: u64, size: u64) -> u64 {
    let rate = u128::from(fee).saturating_mul(1000) / u128::from(size.max(1));
    u64::try_from(rate).unwrap_or(u64::MAX)
}

/// Priority key: higher fee rate first, then earlier arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Priority {
    fee_rate: u64,
    seq: u64,
}

impl Ord for Priority {
    fn cmp(&self, other: &Self) -> Ordering {
        self.fee_rate
            .cmp(&other.fee_rate)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl PartialOrd for Priority {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// What one input of a transaction touches.
struct Touches {
    spends: Vec<Hash>,
    claims: Vec<Hash>,
    creates: Vec<(Hash, UtxoEntry)>,
}

fn touches(tx: &CheckedTx, height: u64) -> Touches {
    let t = tx.tx();
    let ids = t.ids();
    let mut spends = Vec::new();
    let mut claims = Vec::new();
    for (input, input_ids) in t.inputs().iter().zip(ids.inputs.iter()) {
        match (&input.kind, input_ids.spent_output_id) {
            (InputKind::Spend(_) | InputKind::Veto(_), Some(id)) => spends.push(id),
            (InputKind::CrossChain(_), Some(id)) => claims.push(id),
            _ => {}
        }
    }
    let creates = ids
        .outputs
        .iter()
        .filter_map(|o| {
            let kind = match o.kind {
                ResultKind::Output => UtxoKind::Normal,
                ResultKind::VoteOutput => UtxoKind::Vote,
                ResultKind::Retirement | ResultKind::CrossChainOutput => return None,
            };
            Some((o.id, UtxoEntry { kind, height }))
        })
        .collect();
    Touches {
        spends,
        claims,
        creates,
    }
}

/// One pool transaction.
#[derive(Debug, Clone)]
pub struct PoolTx {
    /// The stateless check's result, reused by block building.
    pub checked: Arc<CheckedTx>,
    /// Serialized size.
    pub size: u64,
    /// Fee in neu.
    pub fee: u64,
    /// Gas used.
    pub gas: u64,
    priority: Priority,
    spends: Vec<Hash>,
    claims: Vec<Hash>,
    creates: Vec<Hash>,
}

struct Orphan {
    checked: Arc<CheckedTx>,
    missing: Hash,
    arrival: u64,
}

/// The orphan area, indexed so that admitting a transaction costs a lookup per output it creates
/// rather than a scan of every orphan: a saturated pool holds up to [`MAX_ORPHANS`] of them, and
/// the scan (a hash lookup per orphan, per admitted transaction) was a tenth of a loaded
/// validator's CPU.
#[derive(Default)]
struct OrphanArea {
    by_id: HashMap<Hash, Orphan>,
    by_arrival: BTreeMap<u64, Hash>,
    /// Output awaited → orphans awaiting it.
    by_missing: HashMap<Hash, Vec<Hash>>,
    bytes: u64,
    next_arrival: u64,
}

impl OrphanArea {
    fn len(&self) -> usize {
        self.by_id.len()
    }

    fn contains(&self, tx_id: &Hash) -> bool {
        self.by_id.contains_key(tx_id)
    }

    fn insert(&mut self, tx_id: Hash, checked: Arc<CheckedTx>, missing: Hash) {
        self.remove(&tx_id);
        let arrival = self.next_arrival;
        self.next_arrival += 1;
        self.bytes = self.bytes.saturating_add(checked.serialized_size());
        self.by_arrival.insert(arrival, tx_id);
        self.by_missing.entry(missing).or_default().push(tx_id);
        self.by_id.insert(
            tx_id,
            Orphan {
                checked,
                missing,
                arrival,
            },
        );
    }

    fn remove(&mut self, tx_id: &Hash) -> Option<Orphan> {
        let orphan = self.by_id.remove(tx_id)?;
        self.by_arrival.remove(&orphan.arrival);
        if let Some(waiting) = self.by_missing.get_mut(&orphan.missing) {
            waiting.retain(|id| id != tx_id);
            if waiting.is_empty() {
                self.by_missing.remove(&orphan.missing);
            }
        }
        self.bytes = self.bytes.saturating_sub(orphan.checked.serialized_size());
        Some(orphan)
    }

    fn oldest(&self) -> Option<Hash> {
        self.by_arrival.values().next().copied()
    }

    /// The orphans awaiting any of `outputs`, in arrival order.
    fn awaiting(&self, outputs: &[Hash]) -> Vec<Hash> {
        let mut ready: Vec<(u64, Hash)> = outputs
            .iter()
            .filter_map(|o| self.by_missing.get(o))
            .flatten()
            .filter_map(|id| self.by_id.get(id).map(|o| (o.arrival, *id)))
            .collect();
        ready.sort_unstable();
        ready.into_iter().map(|(_, id)| id).collect()
    }

    fn in_arrival_order(&self) -> impl Iterator<Item = &Orphan> {
        self.by_arrival.values().filter_map(|id| self.by_id.get(id))
    }
}

/// The most orphans a pool holds, whatever its configuration (see [`Mempool::new`]).
pub const MAX_ORPHANS: usize = 1_024;

/// The pool. Not thread-safe by itself: the chain service holds it under its lock.
pub struct Mempool {
    config: MempoolConfig,
    txs: HashMap<Hash, PoolTx>,
    by_priority: BTreeSet<(Priority, Hash)>,
    /// Output ID → pool transaction spending it.
    spent_by: HashMap<Hash, Hash>,
    /// Main-chain output ID → pool transaction claiming it.
    claimed_by: HashMap<Hash, Hash>,
    /// Output ID → (pool transaction creating it, entry).
    created: HashMap<Hash, (Hash, UtxoEntry)>,
    total_bytes: u64,
    /// How many pool transactions have each size, and each gas: the smallest bounds what could
    /// still fit a block being filled, so that selection stops once nothing can.
    sizes: BTreeMap<u64, usize>,
    gases: BTreeMap<u64, usize>,
    seq: u64,
    orphans: OrphanArea,
}

/// One more of `value` in a count multiset.
fn count_in(counts: &mut BTreeMap<u64, usize>, value: u64) {
    *counts.entry(value).or_insert(0) += 1;
}

/// One fewer of `value` in a count multiset.
fn count_out(counts: &mut BTreeMap<u64, usize>, value: u64) {
    if let std::collections::btree_map::Entry::Occupied(mut e) = counts.entry(value) {
        *e.get_mut() -= 1;
        if *e.get() == 0 {
            e.remove();
        }
    }
}

impl std::fmt::Debug for Mempool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mempool")
            .field("txs", &self.txs.len())
            .field("bytes", &self.total_bytes)
            .field("orphans", &self.orphans.len())
            .finish()
    }
}

/// The chain's view with the pool's own outputs on top (and the pool's spends removed).
struct PoolView<'a> {
    chain: &'a dyn UtxoView,
    pool: &'a Mempool,
}

impl UtxoView for PoolView<'_> {
    fn utxo(&self, output_id: &Hash) -> Result<Option<UtxoEntry>, ViewError> {
        if self.pool.spent_by.contains_key(output_id) {
            return Ok(None);
        }
        if let Some((_, entry)) = self.pool.created.get(output_id) {
            return Ok(Some(*entry));
        }
        self.chain.utxo(output_id)
    }

    fn is_claimed(&self, mainchain_output_id: &Hash) -> Result<bool, ViewError> {
        Ok(self.pool.claimed_by.contains_key(mainchain_output_id)
            || self.chain.is_claimed(mainchain_output_id)?)
    }

    // Asset classes come from the chain: without these the trait's defaults would treat every asset as
    // BAP-01 and admit class violations that only the block producer would catch. Issuances and lots
    // created by other pool transactions are not seen here; block validation still refuses them.
    fn asset(&self, asset: &AssetId) -> Result<Option<AssetRecord>, ViewError> {
        self.chain.asset(asset)
    }

    fn lot(&self, output_id: &Hash) -> Result<Option<LotId>, ViewError> {
        self.chain.lot(output_id)
    }
}

impl Mempool {
    /// An empty pool.
    pub fn new(mut config: MempoolConfig) -> Mempool {
        // Promoting a chain of orphans recurses once per link; capping the orphan count caps the depth
        // well inside a thread's stack, whatever the configuration says.
        config.max_orphans = config.max_orphans.min(MAX_ORPHANS);
        Mempool {
            config,
            txs: HashMap::new(),
            by_priority: BTreeSet::new(),
            spent_by: HashMap::new(),
            claimed_by: HashMap::new(),
            created: HashMap::new(),
            total_bytes: 0,
            sizes: BTreeMap::new(),
            gases: BTreeMap::new(),
            seq: 0,
            orphans: OrphanArea::default(),
        }
    }

    /// Number of ready transactions.
    pub fn len(&self) -> usize {
        self.txs.len()
    }

    /// Whether no transaction is ready.
    pub fn is_empty(&self) -> bool {
        self.txs.is_empty()
    }

    /// Total bytes of the ready transactions.
    pub fn bytes(&self) -> u64 {
        self.total_bytes
    }

    /// Number of orphans waiting.
    pub fn orphan_count(&self) -> usize {
        self.orphans.len()
    }

    /// Bytes of the orphans waiting.
    pub fn orphan_bytes(&self) -> u64 {
        self.orphans.bytes
    }

    /// Drops `tx_id` from the orphan area; whether it was there.
    pub fn drop_orphan(&mut self, tx_id: &Hash) -> bool {
        self.orphans.remove(tx_id).is_some()
    }

    /// Whether `tx_id` is in the pool (ready).
    pub fn contains(&self, tx_id: &Hash) -> bool {
        self.txs.contains_key(tx_id)
    }

    /// Why `tx_id` would be refused as a duplicate (ready or orphan), if it would.
    pub fn duplicate(&self, tx_id: &Hash) -> Option<MempoolError> {
        if self.txs.contains_key(tx_id) {
            Some(MempoolError::Duplicate(*tx_id))
        } else if self.orphans.contains(tx_id) {
            Some(MempoolError::DuplicateOrphan(*tx_id))
        } else {
            None
        }
    }

    /// Why a transaction with `fee` and `size` would be refused as the pool is full, whatever its
    /// checks find: the pool is at its limit and the fee rate does not beat the lowest held
    /// (an equal rate loses: earlier arrivals keep their place), which is exactly when
    /// [`Mempool::insert`] refuses with [`MempoolError::PoolFull`] after the checks. Admission
    /// asks first, so a saturated pool spends no signature checks on what it cannot take.
    ///
    /// With `keep_headroom` (a local client's transaction) the limit is lower by an eighth: the
    /// last eighth is kept for transactions other validators forward. Each validator's pool must
    /// hold what any leader may propose; a pool filled to the brim by its own clients refused its
    /// peers' transactions, which then had to be fetched while a proposal waited.
    pub fn full_for(&self, fee: u64, size: u64, keep_headroom: bool) -> Option<MempoolError> {
        let (max_txs, max_bytes) = if keep_headroom {
            (
                self.config.max_txs - self.config.max_txs / 8,
                self.config.max_bytes - self.config.max_bytes / 8,
            )
        } else {
            (self.config.max_txs, self.config.max_bytes)
        };
        let at_limit = self.txs.len() >= max_txs || self.total_bytes.saturating_add(size) > max_bytes;
        if !at_limit {
            return None;
        }
        let lowest = self.by_priority.first()?.0.fee_rate;
        let rate = fee_rate(fee, size);
        (rate <= lowest).then_some(MempoolError::PoolFull {
            fee_rate: rate,
            lowest,
        })
    }

    /// A pool transaction.
    pub fn get(&self, tx_id: &Hash) -> Option<&PoolTx> {
        self.txs.get(tx_id)
    }

    /// Admits a transaction checked statelessly by [`ledger::check_tx`] into the pool, against `chain`
    /// (the committed state) plus the pool, for a block at `height`.
    pub fn insert(
        &mut self,
        checked: Arc<CheckedTx>,
        chain: &dyn UtxoView,
        height: u64,
        params: &ChainParams,
    ) -> Result<Admission, MempoolError> {
        let tx_id = checked.tx().id();
        if let Some(e) = self.duplicate(&tx_id) {
            return Err(e);
        }
        let t = touches(&checked, height);
        // A missing input: hold as an orphan (bounded) or refuse.
        for id in &t.spends {
            if let Some(by) = self.spent_by.get(id) {
                return Err(MempoolError::Conflict {
                    output_id: *id,
                    by: *by,
                });
            }
            let known =
                self.created.contains_key(id) || chain.utxo(id).map_err(MempoolError::View)?.is_some();
            if !known {
                return self.add_orphan(tx_id, checked, *id);
            }
        }
        let evicted = self.admit(tx_id, checked, t, chain, height, params)?;
        let promoted = self.promote_orphans(tx_id, chain, height, params);
        Ok(Admission::Accepted { evicted, promoted })
    }

    fn add_orphan(
        &mut self,
        tx_id: Hash,
        checked: Arc<CheckedTx>,
        missing: Hash,
    ) -> Result<Admission, MempoolError> {
        let size = checked.serialized_size();
        let byte_limit = self.config.max_bytes / ORPHAN_BYTES_SHARE;
        if self.config.max_orphans == 0 || size > byte_limit {
            return Err(MempoolError::UnknownInput { output_id: missing });
        }
        // Oldest out first, until both the count and the byte bound hold.
        while self.orphans.len() >= self.config.max_orphans
            || self.orphan_bytes().saturating_add(size) > byte_limit
        {
            match self.orphans.oldest() {
                Some(old) => {
                    self.orphans.remove(&old);
                }
                None => break,
            }
        }
        self.orphans.insert(tx_id, checked, missing);
        Ok(Admission::Orphaned { missing })
    }

    /// Retries orphans whose missing output `parent` created (transitively). Failures drop the orphan.
    fn promote_orphans(
        &mut self,
        parent: Hash,
        chain: &dyn UtxoView,
        height: u64,
        params: &ChainParams,
    ) -> Vec<Hash> {
        let mut promoted = Vec::new();
        if self.orphans.len() == 0 {
            return promoted;
        }
        // In arrival order, so that the outcome does not depend on hash-map order.
        let ready = match self.txs.get(&parent) {
            Some(tx) => self.orphans.awaiting(&tx.creates),
            None => return promoted,
        };
        for id in ready {
            let Some(orphan) = self.orphans.remove(&id) else {
                continue;
            };
            // The nested insert promotes this orphan's own orphans in turn.
            if let Ok(Admission::Accepted { promoted: more, .. }) =
                self.insert(orphan.checked, chain, height, params)
            {
                promoted.push(id);
                promoted.extend(more);
            }
        }
        promoted
    }

    fn admit(
        &mut self,
        tx_id: Hash,
        checked: Arc<CheckedTx>,
        t: Touches,
        chain: &dyn UtxoView,
        height: u64,
        params: &ChainParams,
    ) -> Result<Vec<Hash>, MempoolError> {
        for id in &t.claims {
            if let Some(by) = self.claimed_by.get(id) {
                return Err(MempoolError::ClaimConflict {
                    output_id: *id,
                    by: *by,
                });
            }
        }
        ledger::check_tx_against(&checked, &PoolView { chain, pool: self }, height, params).map_err(|e| {
            match e {
                TxRejection::View(v) => MempoolError::View(v),
                other => MempoolError::Invalid(other),
            }
        })?;
        let size = checked.serialized_size();
        let fee = checked.fee();
        if size > self.config.max_bytes {
            return Err(MempoolError::TooLarge {
                size,
                max: self.config.max_bytes,
            });
        }
        let rate = fee_rate(fee, size);
        self.seq = self.seq.wrapping_add(1);
        let priority = Priority {
            fee_rate: rate,
            seq: self.seq,
        };
        // Make room: evict the lowest fee rates (with their descendants), never a parent of this one.
        let parents: HashSet<Hash> = t
            .spends
            .iter()
            .filter_map(|id| self.created.get(id).map(|(p, _)| *p))
            .collect();
        let mut to_evict: Vec<Hash> = Vec::new();
        let mut evict_set: HashSet<Hash> = HashSet::new();
        let mut count = self.txs.len().saturating_add(1);
        let mut bytes = self.total_bytes.saturating_add(size);
        let mut lowest = self.by_priority.iter();
        while count > self.config.max_txs || bytes > self.config.max_bytes {
            let Some((p, victim)) = lowest.next() else {
                break;
            };
            if evict_set.contains(victim) {
                continue;
            }
            if *p >= priority || parents.contains(victim) {
                return Err(MempoolError::PoolFull {
                    fee_rate: rate,
                    lowest: self.by_priority.first().map(|(p, _)| p.fee_rate).unwrap_or(0),
                });
            }
            for d in self.with_descendants(*victim) {
                if parents.contains(&d) {
                    return Err(MempoolError::PoolFull {
                        fee_rate: rate,
                        lowest: self.by_priority.first().map(|(p, _)| p.fee_rate).unwrap_or(0),
                    });
                }
                if evict_set.insert(d) {
                    to_evict.push(d);
                    count = count.saturating_sub(1);
                    bytes = bytes.saturating_sub(self.txs.get(&d).map(|x| x.size).unwrap_or(0));
                }
            }
        }
        if count > self.config.max_txs || bytes > self.config.max_bytes {
            return Err(MempoolError::PoolFull {
                fee_rate: rate,
                lowest: self.by_priority.first().map(|(p, _)| p.fee_rate).unwrap_or(0),
            });
        }
        for id in &to_evict {
            self.remove_one(id);
        }
        for id in &t.spends {
            self.spent_by.insert(*id, tx_id);
        }
        for id in &t.claims {
            self.claimed_by.insert(*id, tx_id);
        }
        for (id, entry) in &t.creates {
            self.created.insert(*id, (tx_id, *entry));
        }
        self.total_bytes = self.total_bytes.saturating_add(size);
        self.by_priority.insert((priority, tx_id));
        count_in(&mut self.sizes, size);
        count_in(&mut self.gases, checked.gas_used());
        self.txs.insert(
            tx_id,
            PoolTx {
                gas: checked.gas_used(),
                checked,
                size,
                fee,
                priority,
                spends: t.spends,
                claims: t.claims,
                creates: t.creates.into_iter().map(|(id, _)| id).collect(),
            },
        );
        Ok(to_evict)
    }

    /// `root` and every pool transaction spending its outputs, transitively.
    fn with_descendants(&self, root: Hash) -> Vec<Hash> {
        let mut out = vec![root];
        let mut seen: HashSet<Hash> = [root].into_iter().collect();
        let mut i = 0;
        while let Some(id) = out.get(i).copied() {
            i += 1;
            if let Some(tx) = self.txs.get(&id) {
                for o in &tx.creates {
                    if let Some(child) = self.spent_by.get(o)
                        && seen.insert(*child)
                    {
                        out.push(*child);
                    }
                }
            }
        }
        out
    }

    /// Removes one transaction from every index (not its descendants).
    fn remove_one(&mut self, tx_id: &Hash) -> Option<PoolTx> {
        let tx = self.txs.remove(tx_id)?;
        self.by_priority.remove(&(tx.priority, *tx_id));
        for id in &tx.spends {
            if self.spent_by.get(id) == Some(tx_id) {
                self.spent_by.remove(id);
            }
        }
        for id in &tx.claims {
            if self.claimed_by.get(id) == Some(tx_id) {
                self.claimed_by.remove(id);
            }
        }
        for id in &tx.creates {
            self.created.remove(id);
        }
        self.total_bytes = self.total_bytes.saturating_sub(tx.size);
        count_out(&mut self.sizes, tx.size);
        count_out(&mut self.gases, tx.gas);
        Some(tx)
    }

    /// Removes a transaction and everything depending on it; returns what was removed.
    pub fn remove_with_descendants(&mut self, tx_id: &Hash) -> Vec<Hash> {
        let all = self.with_descendants(*tx_id);
        all.into_iter()
            .filter(|id| self.remove_one(id).is_some())
            .collect()
    }

    /// After a block commit: drops the block's transactions and every pool transaction that
    /// conflicts with them (spends or claims what the block spent or claimed), with descendants.
    /// Returns the IDs dropped as conflicts.
    pub fn remove_committed(&mut self, block_txs: &[types::Transaction]) -> Vec<Hash> {
        let mut conflicts = Vec::new();
        for tx in block_txs {
            let id = tx.id();
            self.orphans.remove(&id);
            if self.remove_one(&id).is_some() {
                continue;
            }
            // Not ours: anything in the pool spending the same outputs lost the race.
            for (input, ids) in tx.inputs().iter().zip(tx.ids().inputs.iter()) {
                let Some(spent) = ids.spent_output_id else {
                    continue;
                };
                let holder = match input.kind {
                    InputKind::CrossChain(_) => self.claimed_by.get(&spent).copied(),
                    _ => self.spent_by.get(&spent).copied(),
                };
                if let Some(h) = holder {
                    conflicts.extend(self.remove_with_descendants(&h));
                }
            }
        }
        conflicts
    }

    /// Every transaction the pool holds with its ID, ready ones then orphans, in no particular order,
    /// without copying: what a compact block is rebuilt from
    /// (`p2p::compact::PartialBlock::from_keyed`). The IDs come from the pool's indexes, so a scan
    /// reads a transaction only when its ID is wanted.
    pub fn keyed(&self) -> impl Iterator<Item = (Hash, &Arc<CheckedTx>)> {
        self.txs
            .iter()
            .map(|(id, p)| (*id, &p.checked))
            .chain(self.orphans.by_id.iter().map(|(id, o)| (*id, &o.checked)))
    }

    /// Everything the pool holds: the ready transactions in an order that admits them again (parents
    /// first, by fee rate), then the orphans in arrival order. What the pool journal is rewritten to.
    pub fn contents(&self) -> Vec<Arc<types::Transaction>> {
        let mut out: Vec<Arc<types::Transaction>> = self
            .select(u64::MAX, u64::MAX)
            .iter()
            .map(|c| Arc::clone(c.tx()))
            .collect();
        out.extend(
            self.orphans
                .in_arrival_order()
                .map(|o| Arc::clone(o.checked.tx())),
        );
        out
    }

    /// Picks transactions for a block: highest fee rate first, a transaction only after its pool
    /// parents, until the byte or gas budget is spent (a transaction that does not fit is skipped and
    /// smaller ones may still fill the block). The result is in a valid order.
    pub fn select(&self, max_bytes: u64, max_gas: u64) -> Vec<Arc<CheckedTx>> {
        self.select_excluding(max_bytes, max_gas, &HashSet::new())
    }

    /// [`Mempool::select`] on top of blocks not yet committed: the transactions in `exclude` (those
    /// blocks' own) are neither picked nor counted against the budget, and their pool children are
    /// eligible as if they were committed.
    pub fn select_excluding(
        &self,
        max_bytes: u64,
        max_gas: u64,
        exclude: &HashSet<Hash>,
    ) -> Vec<Arc<CheckedTx>> {
        // Walks the pool from the highest priority down, without a pass over all of it first: a
        // transaction whose pool parents are not all taken yet waits, and joins `released` (by
        // priority) when its last parent is taken. The next transaction is always the best of the
        // walk's next ready one and the best released one, so the order is that of a heap over
        // every ready transaction. The walk stops once the smallest transaction in the pool no
        // longer fits: a loaded pool holds many blocks' worth, and scanning all of it for every
        // block was a large share of a proposer's work.
        let min_size = self.sizes.keys().next().copied().unwrap_or(0);
        let min_gas = self.gases.keys().next().copied().unwrap_or(0);
        // Transactions taken (picked or excluded) so far.
        let mut taken: HashSet<Hash> = HashSet::new();
        // Pool parents not yet taken, per waiting transaction.
        let mut waiting: HashMap<Hash, usize> = HashMap::new();
        let mut released: BinaryHeap<(Priority, Hash)> = BinaryHeap::new();
        let mut walk = self.by_priority.iter().rev().peekable();
        let mut out = Vec::new();
        let mut bytes = 0u64;
        let mut gas = 0u64;
        loop {
            if max_bytes.saturating_sub(bytes) < min_size || max_gas.saturating_sub(gas) < min_gas {
                break;
            }
            // The walk's next transaction whose pool parents are all taken; the others wait.
            let next_walked = loop {
                let Some(&&(priority, id)) = walk.peek() else {
                    break None;
                };
                let Some(tx) = self.txs.get(&id) else {
                    walk.next();
                    continue;
                };
                let mut parents: Vec<Hash> = tx
                    .spends
                    .iter()
                    .filter_map(|o| self.created.get(o).map(|(p, _)| *p))
                    .filter(|p| !taken.contains(p))
                    .collect();
                if parents.is_empty() {
                    break Some((priority, id));
                }
                parents.sort_unstable();
                parents.dedup();
                waiting.insert(id, parents.len());
                walk.next();
            };
            let best_released = released.peek().copied();
            let (_, id) = match (next_walked, best_released) {
                (Some(w), Some(r)) if r > w => {
                    released.pop();
                    r
                }
                (Some(w), _) => {
                    walk.next();
                    w
                }
                (None, Some(r)) => {
                    released.pop();
                    r
                }
                (None, None) => break,
            };
            let Some(tx) = self.txs.get(&id) else { continue };
            if !exclude.contains(&id) {
                // One that does not fit is skipped, and its children with it (they never become
                // ready); smaller ones may still fit.
                let (Some(nb), Some(ng)) = (bytes.checked_add(tx.size), gas.checked_add(tx.gas)) else {
                    continue;
                };
                if nb > max_bytes || ng > max_gas {
                    continue;
                }
                bytes = nb;
                gas = ng;
                out.push(tx.checked.clone());
            }
            taken.insert(id);
            let mut children: Vec<Hash> = tx
                .creates
                .iter()
                .filter_map(|o| self.spent_by.get(o).copied())
                .collect();
            children.sort_unstable();
            children.dedup();
            for child in children {
                if let Some(n) = waiting.get_mut(&child) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        waiting.remove(&child);
                        if let Some(c) = self.txs.get(&child) {
                            released.push((c.priority, child));
                        }
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ledger::MemoryUtxoSet;
    use types::asset_class::AssetClass;
    use types::{Profile, Transaction};

    /// Coins of `amounts` for `key`, from a coinbase at height 0, and a chain holding them.
    fn funded(key: &ledger::testkit::Key, amounts: &[u64]) -> (MemoryUtxoSet, Vec<ledger::testkit::Coin>) {
        use ledger::testkit;
        let outputs = amounts
            .iter()
            .map(|&a| testkit::output(key.program(), AssetId::BTM, a).unwrap())
            .collect();
        let funding = testkit::coinbase(Profile::Side, 0, outputs).unwrap();
        let mut chain = MemoryUtxoSet::new();
        let coins = testkit::coins_of(&funding);
        for c in &coins {
            chain.insert(
                c.output_id,
                UtxoEntry {
                    kind: ledger::UtxoKind::Normal,
                    height: 0,
                },
            );
        }
        (chain, coins)
    }

    /// A chain view that knows one asset and one lot, over an empty UTXO set.
    struct ClassedChain {
        asset: AssetId,
        lot_of: Hash,
    }

    impl UtxoView for ClassedChain {
        fn utxo(&self, output_id: &Hash) -> Result<Option<UtxoEntry>, ViewError> {
            MemoryUtxoSet::new().utxo(output_id)
        }
        fn is_claimed(&self, _: &Hash) -> Result<bool, ViewError> {
            Ok(false)
        }
        fn asset(&self, asset: &AssetId) -> Result<Option<AssetRecord>, ViewError> {
            Ok((*asset == self.asset).then_some(AssetRecord {
                class: AssetClass::Quark,
                height: 3,
            }))
        }
        fn lot(&self, output_id: &Hash) -> Result<Option<LotId>, ViewError> {
            Ok((*output_id == self.lot_of).then_some(LotId(Hash([9; 32]))))
        }
    }

    #[test]
    fn the_pool_view_sees_the_chains_asset_classes_and_lots() {
        let chain = ClassedChain {
            asset: AssetId([5; 32]),
            lot_of: Hash([6; 32]),
        };
        let pool = Mempool::new(MempoolConfig::default());
        let view = PoolView {
            chain: &chain,
            pool: &pool,
        };
        let record = view.asset(&AssetId([5; 32])).unwrap().unwrap();
        assert_eq!(record.class, AssetClass::Quark);
        assert_eq!(record.height, 3);
        assert!(view.asset(&AssetId([4; 32])).unwrap().is_none());
        assert_eq!(view.lot(&Hash([6; 32])).unwrap(), Some(LotId(Hash([9; 32]))));
        assert!(view.lot(&Hash([7; 32])).unwrap().is_none());
    }

    /// Orphans waiting on different outputs of one parent are promoted together, in arrival
    /// order; one waiting on another output stays; the area's byte count follows every removal.
    #[test]
    fn a_parent_promotes_exactly_the_orphans_awaiting_its_outputs_in_arrival_order() {
        use ledger::check_tx;
        use ledger::testkit::{self, Key};
        let params = ChainParams::side_devnet();
        let key = Key::from_seed(b"orphan index");
        let out = |amount: u64| testkit::output(key.program(), AssetId::BTM, amount).unwrap();
        let (chain, coins) = funded(&key, &[1_000_000_000; 2]);
        let pay = |coin: &testkit::Coin, outputs: usize| {
            let each = (coin.commitment.amount.get() - 10_000_000) / outputs as u64;
            testkit::transfer(
                Profile::Side,
                &[(coin, &key)],
                (0..outputs).map(|_| out(each)).collect(),
            )
            .unwrap()
        };
        // `parent` makes three outputs; `other` one, spent by an orphan that must stay.
        let parent = pay(&coins[0], 3);
        let other = pay(&coins[1], 1);
        let parent_coins = testkit::coins_of(&parent);
        let late = pay(&parent_coins[2], 1);
        let stays = pay(&testkit::coins_of(&other)[0], 1);
        let early = pay(&parent_coins[0], 1);
        let grandchild = pay(&testkit::coins_of(&early)[0], 1);
        let checked = |tx: &Transaction| Arc::new(check_tx(Arc::new(tx.clone()), &params, 5).unwrap());
        let mut pool = Mempool::new(MempoolConfig::default());
        let mut bytes = 0;
        for tx in [&late, &stays, &early, &grandchild] {
            let admission = pool.insert(checked(tx), &chain, 5, &params).unwrap();
            assert!(matches!(admission, Admission::Orphaned { .. }), "{admission:?}");
            bytes += tx.serialized_size();
            assert_eq!(pool.orphan_bytes(), bytes);
        }
        match pool.insert(checked(&parent), &chain, 5, &params).unwrap() {
            // `late` arrived first; `early` promotes its own child in turn.
            Admission::Accepted { promoted, .. } => {
                assert_eq!(promoted, vec![late.id(), early.id(), grandchild.id()]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(pool.orphan_count(), 1);
        assert_eq!(pool.orphan_bytes(), stays.serialized_size());
        assert_eq!(
            pool.duplicate(&stays.id()),
            Some(MempoolError::DuplicateOrphan(stays.id()))
        );
        // Committing the orphan itself empties the area.
        pool.remove_committed(std::slice::from_ref(&stays));
        assert_eq!((pool.orphan_count(), pool.orphan_bytes()), (0, 0));
        assert_eq!(pool.contents().len(), 4);
    }

    /// Excluded transactions (those of uncommitted blocks below the one being built) take no
    /// budget, and their children become eligible.
    #[test]
    fn selection_skips_excluded_transactions_without_spending_the_budget() {
        use ledger::check_tx;
        use ledger::testkit::{self, Key};
        let params = ChainParams::side_devnet();
        let key = Key::from_seed(b"select excluding");
        let (chain, coins) = funded(&key, &[1_000_000_000; 3]);
        let pay = |coin: &testkit::Coin| {
            let out = testkit::output(
                key.program(),
                AssetId::BTM,
                coin.commitment.amount.get() - 10_000_000,
            );
            testkit::transfer(Profile::Side, &[(coin, &key)], vec![out.unwrap()]).unwrap()
        };
        let parents: Vec<_> = coins.iter().map(pay).collect();
        let child = pay(&testkit::coins_of(&parents[0])[0]);
        let mut pool = Mempool::new(MempoolConfig::default());
        for tx in parents.iter().chain([&child]) {
            let checked = check_tx(Arc::new(tx.clone()), &params, 5).unwrap();
            pool.insert(Arc::new(checked), &chain, 5, &params).unwrap();
        }
        let size = parents[1].serialized_size();
        let ids = |v: Vec<Arc<CheckedTx>>| v.iter().map(|c| c.tx().id()).collect::<HashSet<Hash>>();
        // Room for two transactions: without exclusion the budget goes to the first two picked.
        let all = ids(pool.select(2 * size + 1, u64::MAX));
        assert_eq!(all.len(), 2);
        // With the first parent excluded (in an uncommitted block), the other two parents fill
        // the budget and the excluded one is never picked.
        let exclude: HashSet<Hash> = [parents[0].id()].into_iter().collect();
        let picked = ids(pool.select_excluding(2 * size + 1, u64::MAX, &exclude));
        assert_eq!(picked.len(), 2);
        assert!(!picked.contains(&parents[0].id()));
        // With the other two excluded as well, the child of the excluded parent is eligible.
        let exclude: HashSet<Hash> = parents.iter().map(Transaction::id).collect();
        let picked = ids(pool.select_excluding(2 * size + 1, u64::MAX, &exclude));
        assert_eq!(picked, [child.id()].into_iter().collect::<HashSet<Hash>>());
    }

    /// The selection as it was first written: a heap over every ready transaction of the pool,
    /// popped until empty. The walk must pick exactly what this picks, in the same order.
    fn select_by_full_heap(
        pool: &Mempool,
        max_bytes: u64,
        max_gas: u64,
        exclude: &HashSet<Hash>,
    ) -> Vec<Hash> {
        let mut waiting: HashMap<Hash, usize> = HashMap::new();
        let mut ready: BinaryHeap<(Priority, Hash)> = BinaryHeap::new();
        for (id, tx) in &pool.txs {
            let parents: HashSet<Hash> = tx
                .spends
                .iter()
                .filter_map(|o| pool.created.get(o).map(|(p, _)| *p))
                .collect();
            if parents.is_empty() {
                ready.push((tx.priority, *id));
            } else {
                waiting.insert(*id, parents.len());
            }
        }
        let (mut out, mut bytes, mut gas) = (Vec::new(), 0u64, 0u64);
        while let Some((_, id)) = ready.pop() {
            let tx = &pool.txs[&id];
            if !exclude.contains(&id) {
                if bytes + tx.size > max_bytes || gas + tx.gas > max_gas {
                    continue;
                }
                bytes += tx.size;
                gas += tx.gas;
                out.push(id);
            }
            let children: HashSet<Hash> = tx
                .creates
                .iter()
                .filter_map(|o| pool.spent_by.get(o).copied())
                .collect();
            for child in children {
                if let Some(n) = waiting.get_mut(&child) {
                    *n -= 1;
                    if *n == 0 {
                        waiting.remove(&child);
                        ready.push((pool.txs[&child].priority, child));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn the_walk_picks_what_a_heap_over_the_whole_pool_picks() {
        use ledger::check_tx;
        use ledger::testkit::{self, Key};
        let params = ChainParams::side_devnet();
        let key = Key::from_seed(b"select walk");
        for seed in 1u64..=6 {
            let mut rng = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let mut next = |n: u64| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng % n
            };
            let (chain, coins) = funded(&key, &[4_000_000_000; 10]);
            let mut pool = Mempool::new(MempoolConfig::default());
            // Unspent coins, chain or pool; each transaction spends one or two (so a child may
            // have two pool parents, or spend two outputs of one), pays a random fee, and makes
            // two outputs, some of a different size (a longer program), so that some do not fit.
            let mut unspent: Vec<testkit::Coin> = coins;
            let mut txs = Vec::new();
            for _ in 0..40 {
                if unspent.is_empty() {
                    break;
                }
                let take = if unspent.len() > 1 && next(3) == 0 { 2 } else { 1 };
                let spent: Vec<testkit::Coin> = (0..take)
                    .map(|_| unspent.swap_remove(usize::try_from(next(unspent.len() as u64)).unwrap()))
                    .collect();
                let total: u64 = spent.iter().map(|c| c.commitment.amount.get()).sum();
                let fee = 10_000_000 + next(5) * 3_000_000;
                let half = (total - fee) / 2;
                let mut program = key.program().to_vec();
                let outputs = vec![testkit::output(&program, AssetId::BTM, half).unwrap(), {
                    if next(4) == 0 {
                        program = vec![0x51; 200];
                    }
                    testkit::output(&program, AssetId::BTM, total - fee - half).unwrap()
                }];
                let inputs: Vec<(&testkit::Coin, &Key)> = spent.iter().map(|c| (c, &key)).collect();
                let tx = testkit::transfer(Profile::Side, &inputs, outputs).unwrap();
                let checked = check_tx(Arc::new(tx.clone()), &params, 5).unwrap();
                pool.insert(Arc::new(checked), &chain, 5, &params).unwrap();
                // Only outputs the key can spend are spent again.
                unspent.extend(
                    testkit::coins_of(&tx)
                        .into_iter()
                        .filter(|c| c.commitment.control_program == key.program()),
                );
                txs.push(tx);
            }
            assert_eq!(pool.len(), txs.len());
            let size = txs[0].serialized_size();
            let gas = pool.txs.values().map(|t| t.gas).max().unwrap();
            for round in 0..8 {
                let exclude: HashSet<Hash> = txs
                    .iter()
                    .filter(|_| round % 2 == 1 && next(4) == 0)
                    .map(Transaction::id)
                    .collect();
                let (max_bytes, max_gas) = match round {
                    0 | 1 => (u64::MAX, u64::MAX),
                    2 | 3 => (size * (1 + next(20)) + next(size), u64::MAX),
                    4 | 5 => (u64::MAX, gas * (1 + next(20))),
                    _ => (size * (1 + next(30)), gas * (1 + next(30))),
                };
                let walked: Vec<Hash> = pool
                    .select_excluding(max_bytes, max_gas, &exclude)
                    .iter()
                    .map(|c| c.tx().id())
                    .collect();
                let heaped = select_by_full_heap(&pool, max_bytes, max_gas, &exclude);
                assert_eq!(walked, heaped, "seed {seed}, round {round}");
                if round < 2 {
                    assert_eq!(walked.len() + exclude.len(), txs.len());
                }
            }
            // Taking transactions out keeps the size and gas counts exact.
            for tx in &txs {
                pool.remove_one(&tx.id());
            }
            assert!(pool.sizes.is_empty() && pool.gases.is_empty());
        }
    }
}

//! Block and window validation, producing change sets.

use foldhash::{HashMap, HashMapExt as _, HashSet, HashSetExt as _};
use rayon::prelude::*;
use types::block::{Block, BlockHeader};
use types::{Hash, Profile, ResultKind};

use crate::assets::AssetPass;
use crate::error::{BlockRejection, TxRejection, ViewError};
use crate::params::ChainParams;
use crate::sig;
use crate::tx::{CheckedTx, Job, TxEffects, utxo_effects};
use crate::utxo::{ChangeSet, UtxoEntry, UtxoKind, UtxoView};

/// Validates a whole block against its parent and a UTXO view and returns its change set.
///
/// Checks the header's linkage to `parent` (height, previous hash, version, and on the sidechain
/// the block interval), the transaction and status Merkle roots, block size and gas, the coinbase
/// (first and only there; on the main chain one output paying subsidy plus fees), every transaction
/// (reusing `prechecked[i]` when it holds the same transaction checked for this height), and then,
/// in order, every spend and claim against the view and the block's earlier transactions.
///
/// Proof of work and block-witness signatures are the consensus layer's.
///
/// # Consensus
/// `ValidateBlockHeader` / `ValidateBlock` of `protocol/validation/block.go` and `ApplyBlock` of
/// `protocol/state/utxo_view.go`. Transactions whose programs fail are rejected rather than
/// included with a failed status, so the status root must say every transaction succeeded.
pub fn validate_block(
    block: &Block,
    parent: &BlockHeader,
    view: &dyn UtxoView,
    params: &ChainParams,
    prechecked: &[Option<CheckedTx>],
) -> Result<ChangeSet, BlockRejection> {
    let mut sets = validate_blocks(std::slice::from_ref(block), parent, view, params, &[prechecked])
        .map_err(|e| match e {
            BlockRejection::Window { reason, .. } => *reason,
            other => other,
        })?;
    sets.pop().ok_or(BlockRejection::MissingCoinbase)
}

/// Validates many consecutive blocks at once (syncing): all headers against their parents, every
/// transaction of the window checked in parallel with the window's signatures verified in batches,
/// while the calling thread gathers the window's spent outputs from the view (each once) and applies
/// every block in order on top of the previous ones. Returns one change set per block; the first
/// failing block is reported as [`BlockRejection::Window`] with its position and height.
pub fn validate_window(
    blocks: &[Block],
    parent: &BlockHeader,
    view: &dyn UtxoView,
    params: &ChainParams,
) -> Result<Vec<ChangeSet>, BlockRejection> {
    validate_blocks(blocks, parent, view, params, &[])
}

/// The genesis block's change set: its outputs are spendable at once (kind `Normal`, or `Vote`).
pub fn genesis_change_set(block: &Block) -> ChangeSet {
    let height = block.header().height;
    let mut created = Vec::new();
    for tx in block.transactions() {
        for (out, oid) in tx.outputs().iter().zip(&tx.ids().outputs) {
            let kind = match oid.kind {
                ResultKind::Output => {
                    if tx.profile() == Profile::Side && out.amount().get() == 0 {
                        continue;
                    }
                    UtxoKind::Normal
                }
                ResultKind::VoteOutput => UtxoKind::Vote,
                ResultKind::Retirement | ResultKind::CrossChainOutput => continue,
            };
            created.push((oid.id, UtxoEntry { kind, height }));
        }
    }
    ChangeSet {
        height,
        block_hash: block.hash(),
        spent: Vec::new(),
        created,
        claimed: Vec::new(),
    }
}

/// Profile, version, height, previous hash, timestamp, coinbase first, size: cheap, in order.
fn check_linkage(block: &Block, parent: &BlockHeader, params: &ChainParams) -> Result<(), BlockRejection> {
    let h = block.header();
    if h.profile() != params.profile {
        return Err(BlockRejection::Profile {
            expected: params.profile,
            found: h.profile(),
        });
    }
    match params.profile {
        Profile::Side if h.version != 1 => {
            return Err(BlockRejection::Version {
                found: h.version,
                parent: parent.version,
            });
        }
        Profile::Main if h.version < parent.version => {
            return Err(BlockRejection::Version {
                found: h.version,
                parent: parent.version,
            });
        }
        _ => {}
    }
    let expected = parent.height.checked_add(1).ok_or(BlockRejection::Height {
        expected: u64::MAX,
        found: h.height,
    })?;
    if h.height != expected {
        return Err(BlockRejection::Height {
            expected,
            found: h.height,
        });
    }
    let parent_hash = parent.hash();
    if h.previous_block_hash != parent_hash {
        return Err(BlockRejection::PreviousHash {
            expected: parent_hash,
            found: h.previous_block_hash,
        });
    }
    if params.profile == Profile::Side {
        let earliest = parent.timestamp.saturating_add(params.block_time_interval);
        if h.timestamp < earliest {
            return Err(BlockRejection::Timestamp {
                found: h.timestamp,
                earliest,
            });
        }
    }
    let txs = block.transactions();
    if !txs.first().is_some_and(|t| t.is_coinbase()) {
        return Err(BlockRejection::MissingCoinbase);
    }
    let mut size: u64 = 0;
    for tx in txs {
        size = size.saturating_add(tx.serialized_size());
    }
    if size > params.max_block_bytes {
        return Err(BlockRejection::Size {
            size,
            max: params.max_block_bytes,
        });
    }
    Ok(())
}

/// The transaction and status Merkle roots.
fn check_roots(block: &Block) -> Result<(), BlockRejection> {
    let h = block.header();
    let txs = block.transactions();
    let computed = block.compute_transactions_merkle_root();
    if computed != h.transactions_merkle_root {
        return Err(BlockRejection::MerkleRoot {
            found: h.transactions_merkle_root,
            computed,
        });
    }
    let statuses = vec![false; txs.len()];
    let computed = types::merkle::status_merkle_root(&statuses);
    if computed != h.transaction_status_hash {
        return Err(BlockRejection::StatusRoot {
            found: h.transaction_status_hash,
            computed,
        });
    }
    Ok(())
}

/// The UTXO state of a block or window being applied on top of a view.
struct Overlay<'a> {
    base: &'a dyn UtxoView,
    /// Entries gathered from the base view.
    fetched: HashMap<Hash, Option<UtxoEntry>>,
    /// Outputs created in the window and still unspent.
    added: HashMap<Hash, UtxoEntry>,
    /// Outputs of the base view spent in the window.
    removed: HashSet<Hash>,
    /// Claims made in the window.
    claimed: HashSet<Hash>,
}

enum Lookup {
    Unspent(UtxoEntry),
    SpentInWindow,
    Missing,
}

impl Overlay<'_> {
    fn lookup(&mut self, id: &Hash, window_spent: &HashSet<Hash>) -> Result<Lookup, ViewError> {
        if let Some(e) = self.added.get(id) {
            return Ok(Lookup::Unspent(*e));
        }
        if self.removed.contains(id) || window_spent.contains(id) {
            return Ok(Lookup::SpentInWindow);
        }
        let e = match self.fetched.get(id) {
            Some(e) => *e,
            None => {
                let e = self.base.utxo(id)?;
                self.fetched.insert(*id, e);
                e
            }
        };
        Ok(e.map_or(Lookup::Missing, Lookup::Unspent))
    }
}

/// What the ordered pass over the UTXO set produced: one change set per block it finished, and the
/// first failure (block position and reason) if it stopped.
struct Ordered {
    sets: Vec<ChangeSet>,
    failure: Option<(usize, BlockRejection)>,
}

fn validate_blocks(
    blocks: &[Block],
    parent: &BlockHeader,
    view: &dyn UtxoView,
    params: &ChainParams,
    prechecked: &[&[Option<CheckedTx>]],
) -> Result<Vec<ChangeSet>, BlockRejection> {
    let wrap = |position: usize, reason: BlockRejection| BlockRejection::Window {
        position,
        height: blocks.get(position).map_or(0, |b| b.header().height),
        reason: Box::new(reason),
    };
    // Header linkage, in order (each against the previous block of the window).
    let mut link_errors: Vec<Option<BlockRejection>> = Vec::with_capacity(blocks.len());
    let mut prev = parent;
    for block in blocks {
        link_errors.push(check_linkage(block, prev, params).err());
        prev = block.header();
    }
    let linked = link_errors.iter().take_while(|e| e.is_none()).count();
    let blocks_ok = blocks.get(..linked).unwrap_or(&[]);

    // Stateless checks of every transaction, reusing prechecked ones.
    let mut jobs = Vec::new();
    let mut slots: Vec<Vec<Option<Result<TxEffects, TxRejection>>>> = Vec::with_capacity(blocks_ok.len());
    let mut job_slots = Vec::new();
    for (b, block) in blocks_ok.iter().enumerate() {
        let txs = block.transactions();
        let height = block.header().height;
        let pre = prechecked.get(b).copied().unwrap_or(&[]);
        let mut row = Vec::with_capacity(txs.len());
        for (i, tx) in txs.iter().enumerate() {
            let reuse = pre.get(i).and_then(Option::as_ref).filter(|c| {
                i != 0 && !c.is_coinbase() && c.reusable_at(height, params) && c.tx().as_ref() == tx
            });
            if let Some(c) = reuse {
                row.push(Some(Ok(c.effects().clone())));
            } else {
                row.push(None);
                jobs.push(Job {
                    tx,
                    height,
                    block_version: block.header().version,
                    coinbase_allowed: i == 0,
                });
                job_slots.push((b, i));
            }
        }
        slots.push(row);
    }

    // The parallel work (signatures and programs, Merkle roots) runs on the pool while this thread
    // walks the blocks in order against the view (which need not be shareable between threads).
    let mut results = Vec::new();
    let mut roots: Vec<Option<BlockRejection>> = Vec::new();
    let ordered = rayon::in_place_scope(|scope| {
        scope.spawn(|_| results = sig::check_parallel(&jobs, params));
        scope.spawn(|_| roots = blocks_ok.par_iter().map(|b| check_roots(b).err()).collect());
        ordered_pass(blocks_ok, view, params)
    });
    for ((b, i), r) in job_slots.into_iter().zip(results) {
        if let Some(slot) = slots.get_mut(b).and_then(|row| row.get_mut(i)) {
            *slot = Some(r);
        }
    }

    // Report the first failure in block order: linkage, roots, a transaction's stateless checks, gas,
    // coinbase, then the ordered UTXO checks.
    let mut ordered_sets = ordered.sets.into_iter();
    let mut sets = Vec::with_capacity(blocks.len());
    for (b, block) in blocks.iter().enumerate() {
        if let Some(Some(e)) = link_errors.get_mut(b).map(Option::take) {
            return Err(wrap(b, e));
        }
        if let Some(Some(e)) = roots.get_mut(b).map(Option::take) {
            return Err(wrap(b, e));
        }
        let row = slots.get_mut(b).map(std::mem::take).unwrap_or_default();
        check_block_totals(block, row, params).map_err(|e| wrap(b, e))?;
        if let Some((fb, _)) = &ordered.failure
            && *fb == b
        {
            let reason = ordered
                .failure
                .map_or(BlockRejection::MissingCoinbase, |(_, r)| r);
            return Err(wrap(b, reason));
        }
        sets.push(ordered_sets.next().ok_or(BlockRejection::MissingCoinbase)?);
    }
    Ok(sets)
}

/// A block's transactions passed their stateless checks; its gas fits; its coinbase is right.
fn check_block_totals(
    block: &Block,
    row: Vec<Option<Result<TxEffects, TxRejection>>>,
    params: &ChainParams,
) -> Result<(), BlockRejection> {
    let height = block.header().height;
    let mut checked = Vec::with_capacity(row.len());
    for (i, (r, tx)) in row.into_iter().zip(block.transactions()).enumerate() {
        match r {
            Some(Ok(c)) => checked.push(c),
            Some(Err(reason)) => {
                return Err(BlockRejection::Tx {
                    index: i,
                    tx_id: tx.id(),
                    reason,
                });
            }
            None => return Err(BlockRejection::MissingCoinbase),
        }
    }
    // Block gas, in transaction order.
    let mut gas: u64 = 0;
    for c in &checked {
        gas = gas.checked_add(c.gas_used).ok_or(BlockRejection::Gas {
            max: params.max_block_gas,
        })?;
        if gas > params.max_block_gas {
            return Err(BlockRejection::Gas {
                max: params.max_block_gas,
            });
        }
    }
    // Coinbase.
    let cb_tx = block
        .transactions()
        .first()
        .ok_or(BlockRejection::MissingCoinbase)?;
    match params.profile {
        Profile::Main => {
            if cb_tx.outputs().len() != 1 {
                return Err(BlockRejection::CoinbaseOutputs(
                    "the main chain's coinbase has exactly one output",
                ));
            }
            let mut expected = params.block_subsidy(height).unwrap_or(0);
            for c in &checked {
                expected = expected
                    .checked_add(c.fee)
                    .ok_or(BlockRejection::CoinbaseAmount {
                        found: 0,
                        expected: u64::MAX,
                    })?;
            }
            let found = cb_tx.outputs().first().map_or(0, |o| o.amount().get());
            if found != expected {
                return Err(BlockRejection::CoinbaseAmount { found, expected });
            }
        }
        Profile::Side => {
            if cb_tx.ids().outputs.iter().any(|o| o.kind != ResultKind::Output) {
                return Err(BlockRejection::CoinbaseOutputs(
                    "a sidechain coinbase pays ordinary outputs only",
                ));
            }
            if let Some(limit) = params.max_side_coinbase_total {
                let found = cb_tx
                    .outputs()
                    .iter()
                    .try_fold(0u64, |sum, o| sum.checked_add(o.amount().get()))
                    .unwrap_or(u64::MAX);
                if found > limit {
                    return Err(BlockRejection::CoinbaseAmount {
                        found,
                        expected: limit,
                    });
                }
            }
        }
    }
    Ok(())
}

/// Applies the blocks in order on an overlay of the view: claims, spends (existence, kind,
/// maturity, no second spend), the asset-class rules, then the created outputs; stops at the first
/// failure.
fn ordered_pass(blocks: &[Block], view: &dyn UtxoView, params: &ChainParams) -> Ordered {
    let mut overlay = Overlay {
        base: view,
        fetched: HashMap::new(),
        added: HashMap::new(),
        removed: HashSet::new(),
        claimed: HashSet::new(),
    };
    let mut assets = AssetPass::new(view);
    let mut sets = Vec::with_capacity(blocks.len());
    for (b, block) in blocks.iter().enumerate() {
        match apply_block(block, &mut overlay, &mut assets, params) {
            Ok(set) => sets.push(set),
            Err(e) => {
                return Ordered {
                    sets,
                    failure: Some((b, e)),
                };
            }
        }
    }
    Ordered { sets, failure: None }
}

fn apply_block(
    block: &Block,
    overlay: &mut Overlay<'_>,
    assets: &mut AssetPass<'_>,
    params: &ChainParams,
) -> Result<ChangeSet, BlockRejection> {
    let height = block.header().height;
    let mut spent = Vec::new();
    let mut created: Vec<Option<(Hash, UtxoEntry)>> = Vec::new();
    let mut created_pos: HashMap<Hash, usize> = HashMap::new();
    let mut claimed = Vec::new();
    let empty = HashSet::new();
    for (t, tx) in block.transactions().iter().enumerate() {
        let c = utxo_effects(tx, t == 0 && tx.is_coinbase());
        let fail = |reason: TxRejection| BlockRejection::Tx {
            index: t,
            tx_id: tx.id(),
            reason,
        };
        // Spends (the reference applies claims, then spends, then outputs).
        for (input, id) in &c.claims {
            // Record the claim as it is checked, so a second claim in the same transaction fails too.
            if !overlay.claimed.insert(*id) {
                return Err(fail(TxRejection::AlreadyClaimed {
                    input: *input,
                    output_id: *id,
                }));
            }
            if overlay.base.is_claimed(id)? {
                return Err(fail(TxRejection::AlreadyClaimed {
                    input: *input,
                    output_id: *id,
                }));
            }
        }
        let mut tx_spent = Vec::with_capacity(c.spends.len());
        for ((input, kind), id) in c.spend_inputs.iter().zip(&c.spends) {
            let entry = match overlay.lookup(id, &empty)? {
                Lookup::Unspent(e) => e,
                Lookup::SpentInWindow => {
                    return Err(fail(TxRejection::DoubleSpend {
                        input: *input,
                        output_id: *id,
                    }));
                }
                Lookup::Missing => {
                    return Err(fail(TxRejection::MissingUtxo {
                        input: *input,
                        output_id: *id,
                    }));
                }
            };
            crate::tx::check_spendable(*input, *kind, entry, height, params).map_err(fail)?;
            tx_spent.push((*id, entry));
            // Mark spent now so that a later input of the same transaction cannot spend it again.
            if overlay.added.remove(id).is_none() {
                overlay.removed.insert(*id);
            }
        }
        for (id, entry) in tx_spent {
            match created_pos.remove(&id) {
                Some(p) => {
                    if let Some(slot) = created.get_mut(p) {
                        *slot = None;
                    }
                }
                None => spent.push((id, entry)),
            }
        }
        for (_, id) in &c.claims {
            claimed.push(*id);
        }
        assets.tx(tx, height).map_err(fail)?;
        for (id, kind) in &c.created {
            let entry = UtxoEntry { kind: *kind, height };
            if overlay.added.contains_key(id) {
                // The same output ID twice: only possible for an identical transaction repeated.
                return Err(fail(TxRejection::DoubleSpend {
                    input: 0,
                    output_id: *id,
                }));
            }
            overlay.added.insert(*id, entry);
            created_pos.insert(*id, created.len());
            created.push(Some((*id, entry)));
        }
    }
    Ok(ChangeSet {
        height,
        block_hash: block.hash(),
        spent,
        created: created.into_iter().flatten().collect(),
        claimed,
    })
}

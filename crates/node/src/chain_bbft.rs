//! BBFT's side of the chain service: blocks are committed only when the consensus core finalizes
//! them, each with its finality certificate in the block witness.
//!
//! **Ids.** The core names a block by [`BlockId::compute`]`(height, parent id, payload)`, where the
//! payload is the block's canonical bytes with an **empty witness**; genesis is named by its hash.
//! The block hash excludes the witness (as in Vapor), so storing the certificate in the witness
//! changes neither the block hash nor the id recomputed from the stored block.
//!
//! **Proofs.** The stored witness holds one slot, the finalizing certificate (the core's
//! `Effect::Commit` proof, canonical `consensus::bbft::codec` bytes of a `Message::Certificate`).
//! It proves block `B` at height `h` final when it verifies with a quorum of the validator set and
//! names `B` or a descendant of `B` along the stored chain of ids as final: a commit certificate
//! (one-round finality) names its own block (at `cert.height ≥ h`); a prepare certificate with a
//! direct two-chain (`finalizes_parent`) names its parent (at `cert.height − 1 ≥ h`). A restarted
//! node checks every stored block this way on open, and a syncing node checks blocks fetched from
//! peers the same way before committing.
//!
//! **Overlay.** A leader builds on a certified but not yet committed parent, and a validator checks
//! a proposal against one: [`Overlay`] holds those ancestors with their change sets, and blocks are
//! built and validated against the store with the overlay's changes on top.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use foldhash::{HashMap, HashMapExt as _, HashSet, HashSetExt as _};
use rayon::prelude::*;

use consensus::bbft::{self, BlockId, Certificate, Message, ValidatorSet};
use ledger::{AssetRecord, BlockRejection, ChangeSet, CheckedTx, LotId, UtxoEntry, UtxoView, ViewError};
use storage::{StoreError, StoreRead, StoreWrite, Tip};
use types::block::HeaderConsensus;
use types::profile::Profile;
use types::{AssetId, Block, BlockHeader, Hash, Transaction};

use super::{Authority, ChainService, State, coinbase_tx};
use crate::NodeError;
use crate::elections::{BbftSetup, Elections};

/// The consensus id of the genesis block (the epoch's anchor): its hash.
pub fn genesis_id(genesis: &Block) -> BlockId {
    BlockId(genesis.hash().0)
}

/// `block` with an empty witness: the form a proposal carries.
pub fn unwitnessed(block: &Block) -> Result<Block, NodeError> {
    let mut header = block.header().clone();
    header.consensus = HeaderConsensus::Witness {
        witness: Vec::new(),
        suffix: Vec::new(),
    };
    Block::new(header, block.transactions().to_vec())
        .map_err(|e| NodeError::Internal(format!("clearing a block witness: {e}")))
}

/// The consensus payload of `block`: its canonical bytes with an empty witness.
pub fn consensus_payload(block: &Block) -> Result<Vec<u8>, NodeError> {
    match block.header().witness() {
        Some([]) => Ok(block.encode()),
        _ => Ok(unwitnessed(block)?.encode()),
    }
}

/// `block` (unwitnessed) with `proof` stored in its witness.
fn with_proof(block: &Block, proof: &Certificate) -> Result<Block, NodeError> {
    let mut header = block.header().clone();
    header.consensus = HeaderConsensus::Witness {
        witness: vec![bbft::encode(&Message::Certificate(proof.clone()))],
        suffix: Vec::new(),
    };
    Block::new(header, block.transactions().to_vec())
        .map_err(|e| NodeError::Internal(format!("storing a block proof: {e}")))
}

/// The finality certificate stored in a block's witness, if it holds exactly one that decodes.
pub fn proof_of(block: &Block) -> Option<Certificate> {
    match block.header().witness() {
        Some([bytes]) => match bbft::decode(bytes, &bbft::Limits::default()) {
            Ok(Message::Certificate(c)) => Some(c),
            _ => None,
        },
        _ => None,
    }
}

/// What a finality certificate says about the block at one height.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProofCheck {
    /// It proves the block final.
    Proven,
    /// It is well formed, but the block it names lies above the blocks at hand (a crash between
    /// the commits of one batch, or a fetched range that ends inside a batch): not yet checkable.
    Beyond,
    /// It does not prove the block.
    Invalid(&'static str),
}

/// The block `cert` proves final by itself (height and id): a commit certificate's own block, or
/// the parent of a prepare certificate with a direct two-chain. `None` for any other.
fn final_named(cert: &Certificate) -> Option<(u64, BlockId)> {
    let d = &cert.data;
    if cert.is_commit() {
        Some((d.height, d.block))
    } else if cert.finalizes_parent() {
        d.height.checked_sub(1).map(|h| (h, d.parent))
    } else {
        None
    }
}

/// Checks `cert` as the proof of the block at `height` whose id is `ids(height)`: a certificate of
/// the block's own epoch naming it or a descendant final. Past the epoch's last height it can only
/// name a block through empty suffix blocks (an epoch-end proof, [`bbft::proves_epoch_end`]).
/// `ids` answers for the heights at hand; the quorum is checked separately (the expensive part).
fn check_path(
    cert: &Certificate,
    height: u64,
    setup: &BbftSetup,
    ids: &dyn Fn(u64) -> Option<BlockId>,
) -> ProofCheck {
    let d = &cert.data;
    let epoch = setup.epoch_of(height);
    if d.epoch != epoch {
        return ProofCheck::Invalid("certificate of another epoch than the block's");
    }
    let Some((named_height, named)) = final_named(cert) else {
        return ProofCheck::Invalid("certificate neither of the commit phase nor with a direct two-chain");
    };
    if named_height < height {
        return ProofCheck::Invalid("certificate below the block");
    }
    let (_, last) = setup.bounds(epoch);
    if named_height > last {
        return match ids(last) {
            Some(end) if bbft::proves_epoch_end(cert, last, &end) => ProofCheck::Proven,
            Some(_) => {
                ProofCheck::Invalid("certificate past the epoch's end that does not prove its last block")
            }
            None => ProofCheck::Beyond,
        };
    }
    match ids(named_height) {
        Some(id) if id == named => ProofCheck::Proven,
        Some(_) => ProofCheck::Invalid("certificate finalizes another chain"),
        None => ProofCheck::Beyond,
    }
}

/// The BBFT state of a chain service: the elections that fix each epoch's validator set, and the
/// consensus ids of the stored chain.
#[derive(Debug)]
pub struct BbftChain {
    setup: Arc<BbftSetup>,
    /// The election state at the committed tip (`crate::elections`).
    elections: Mutex<Elections>,
    /// The lowest stored height (0, or a snapshot's base).
    base: u64,
    /// `ids[h − base]`: the consensus id of the stored block at height `h`.
    ids: Mutex<Vec<BlockId>>,
}

/// The election state a store imported from a snapshot starts from: the snapshot's consensus
/// state, which must be the state after the base block.
fn elections_at_base(
    snap: &storage::Snapshot,
    setup: &Arc<BbftSetup>,
    base: u64,
) -> Result<Elections, NodeError> {
    let bytes = snap.consensus_state()?.ok_or_else(|| {
        NodeError::Corrupt(format!(
            "the store was imported from a snapshot at height {base} without the election state a \
             BBFT chain needs; import a snapshot taken by this version"
        ))
    })?;
    let state = consensus::dpos::ElectionState::decode(&bytes, &Default::default())
        .map_err(|e| NodeError::Corrupt(format!("the snapshot's election state: {e}")))?;
    let hash = snap
        .block_hash(base)?
        .ok_or_else(|| NodeError::Corrupt(format!("no base block at height {base}")))?;
    if state.tip_height() != base || state.tip_hash() != hash {
        return Err(NodeError::Corrupt(format!(
            "the snapshot's election state is at height {}, not at its block {base}",
            state.tip_height()
        )));
    }
    Elections::from_state(Arc::clone(setup), state)
}

impl BbftChain {
    /// Loads the ids of the stored chain, replays the elections over it, and checks every stored
    /// block's finality certificate against the set of its epoch.
    /// Blocks whose certificate's two-chain lies above the stored tip (a crash inside a batch of
    /// commits) are accepted only if the certificate verifies with a quorum; the rest of the path
    /// is checked when the blocks above arrive.
    ///
    /// A store imported from a snapshot (base height `b > 0`) holds no block below `b`. The base
    /// block and the election state after it are trusted through the snapshot commitment the
    /// operator supplied; the block's id, which chains from ids not at hand, is taken from its own
    /// finality certificate, which must name it as final (a commit certificate for height `b`, or
    /// a two-chain whose parent is at `b`) and verify with a quorum. Every block above the base is
    /// then checked as on any store. A base block finalized inside a batch (its certificate names a
    /// block above it) does not name its own id: such a store is refused
    /// ([`NodeError::Corrupt`]) and a snapshot must be taken at another height. With the commit
    /// phase, nearly every block carries its own commit certificate, which names it.
    pub(super) fn load(
        snap: &storage::Snapshot,
        tip: Tip,
        genesis: &Block,
        setup: &Arc<BbftSetup>,
    ) -> Result<BbftChain, NodeError> {
        let base = snap.base()?;
        let crypto = bbft::Bls;
        let mut elections = if base == 0 {
            Elections::at_genesis(Arc::clone(setup), genesis.hash())?
        } else {
            elections_at_base(snap, setup, base)?
        };
        // Every epoch's set met on the way, to check the stored certificates with.
        let mut sets: BTreeMap<u64, Arc<ValidatorSet>> =
            elections.epochs().into_iter().map(|e| (e.index, e.set)).collect();
        let set_of = |sets: &BTreeMap<u64, Arc<ValidatorSet>>, epoch: u64, height: u64| {
            sets.get(&epoch).cloned().ok_or_else(|| {
                NodeError::Corrupt(format!(
                    "the block at height {height} is certified in epoch {epoch}, whose set is unknown"
                ))
            })
        };
        let mut verified: HashSet<Vec<u8>> = HashSet::new();
        let base_id = if base == 0 {
            genesis_id(genesis)
        } else {
            let block = snap
                .block_at(base)?
                .ok_or_else(|| NodeError::Corrupt(format!("no base block at height {base}")))?;
            let proof = proof_of(&block).ok_or_else(|| {
                NodeError::Corrupt(format!(
                    "the base block at height {base} carries no finality certificate"
                ))
            })?;
            let epoch = setup.epoch_of(base);
            let named = final_named(&proof).filter(|(h, _)| *h == base);
            let Some((_, named_id)) = named.filter(|_| proof.data.epoch == epoch) else {
                return Err(NodeError::Corrupt(format!(
                    "the certificate of the base block at height {base} does not name it as final \
                     (it was finalized inside a batch); take the snapshot at another height"
                )));
            };
            if !proof.verify_quorum(set_of(&sets, epoch, base)?.as_ref(), &crypto) {
                return Err(NodeError::Corrupt(format!(
                    "the finality certificate of the base block at height {base} does not verify with a quorum"
                )));
            }
            verified.insert(bbft::encode(&Message::Certificate(proof.clone())));
            named_id
        };
        let mut ids = Vec::with_capacity(
            usize::try_from(tip.height.saturating_sub(base))
                .unwrap_or(0)
                .saturating_add(1),
        );
        ids.push(base_id);
        let mut proofs: Vec<(u64, Certificate)> = Vec::new();
        for height in base.saturating_add(1)..=tip.height {
            let block = snap
                .block_at(height)?
                .ok_or_else(|| NodeError::Corrupt(format!("no block at height {height}")))?;
            let parent = ids
                .last()
                .copied()
                .ok_or_else(|| NodeError::Internal("empty id chain".into()))?;
            ids.push(BlockId::compute(height, &parent, &consensus_payload(&block)?));
            let proof = proof_of(&block).ok_or_else(|| {
                NodeError::Corrupt(format!(
                    "block at height {height} carries no finality certificate"
                ))
            })?;
            proofs.push((height, proof));
            let change = elections.change_for(&block, height)?;
            if let Some((epoch, set)) = &change.next {
                sets.insert(*epoch, Arc::clone(set));
            }
            elections.apply(change)?;
        }
        let lookup = |h: u64| {
            h.checked_sub(base)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| ids.get(i).copied())
        };
        for (height, proof) in &proofs {
            match check_path(proof, *height, setup, &lookup) {
                ProofCheck::Proven | ProofCheck::Beyond => {}
                ProofCheck::Invalid(why) => {
                    return Err(NodeError::Corrupt(format!("block at height {height}: {why}")));
                }
            }
            let key = bbft::encode(&Message::Certificate(proof.clone()));
            if !verified.contains(&key) {
                if !proof.verify_quorum(set_of(&sets, proof.data.epoch, *height)?.as_ref(), &crypto) {
                    return Err(NodeError::Corrupt(format!(
                        "the finality certificate of the block at height {height} does not verify with a quorum"
                    )));
                }
                verified.insert(key);
            }
        }
        Ok(BbftChain {
            setup: Arc::clone(setup),
            elections: Mutex::new(elections),
            base,
            ids: Mutex::new(ids),
        })
    }

    /// The lowest height whose id is known: 0, or the base of a store imported from a snapshot.
    pub fn base(&self) -> u64 {
        self.base
    }

    fn ids(&self) -> MutexGuard<'_, Vec<BlockId>> {
        self.ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn elections(&self) -> MutexGuard<'_, Elections> {
        self.elections
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How the chain's validator sets come about.
    pub fn setup(&self) -> &Arc<BbftSetup> {
        &self.setup
    }

    /// `epoch` with its bounds and validator set, once fixed (recent epochs only).
    pub fn epoch(&self, epoch: u64) -> Option<bbft::Epoch> {
        self.elections().epoch(epoch)
    }

    /// The recent epochs whose sets are known, in order: the committed tip's, the one before, and
    /// the next once the tip ends a round.
    pub fn epochs(&self) -> Vec<bbft::Epoch> {
        self.elections().epochs()
    }

    /// The epoch of the block after the committed tip and the size of its validator set.
    pub fn next_block_epoch(&self) -> (u64, u64) {
        self.elections().next_block_epoch()
    }

    /// The highest epoch whose validator set is fixed.
    pub fn highest_epoch(&self) -> u64 {
        self.elections().highest_epoch()
    }

    /// The election state at the committed tip.
    pub fn election_state(&self) -> consensus::dpos::ElectionState {
        self.elections().state().clone()
    }

    /// The consensus id of the stored block at `height`.
    pub fn id_at(&self, height: u64) -> Option<BlockId> {
        height
            .checked_sub(self.base)
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| self.ids().get(i).copied())
    }

    /// The consensus id of the stored tip.
    pub fn tip_id(&self) -> BlockId {
        self.ids().last().copied().unwrap_or_default()
    }
}

/// Certified (or validated) blocks above the committed tip, in height order, with the change sets
/// validation produced: what a block being built or checked extends.
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    blocks: Vec<(Arc<Block>, Arc<ChangeSet>)>,
}

impl Overlay {
    /// An overlay of `blocks` (height order, the first on the committed tip).
    pub fn new(blocks: Vec<(Arc<Block>, Arc<ChangeSet>)>) -> Overlay {
        Overlay { blocks }
    }

    /// The uppermost block, if any.
    pub fn last(&self) -> Option<&Arc<Block>> {
        self.blocks.last().map(|b| &b.0)
    }

    fn view<'a>(&self, base: &'a dyn UtxoView) -> OverlayView<'a> {
        let mut v = OverlayView {
            base,
            spent: HashSet::new(),
            created: HashMap::new(),
            claimed: HashSet::new(),
        };
        for (_, cs) in &self.blocks {
            for (id, _) in &cs.spent {
                if v.created.remove(id).is_none() {
                    v.spent.insert(*id);
                }
            }
            for (id, entry) in &cs.created {
                v.created.insert(*id, *entry);
            }
            v.claimed.extend(cs.claimed.iter().copied());
        }
        v
    }

    fn tx_ids(&self) -> HashSet<Hash> {
        self.blocks
            .iter()
            .flat_map(|(b, _)| b.transactions().iter().map(Transaction::id))
            .collect()
    }
}

/// The store's UTXO view with an overlay's change sets applied on top. Asset classes come from the
/// store: an asset first issued in an uncommitted ancestor is not seen as registered here (block
/// validation on commit still applies the store's rules).
struct OverlayView<'a> {
    base: &'a dyn UtxoView,
    spent: HashSet<Hash>,
    created: HashMap<Hash, UtxoEntry>,
    claimed: HashSet<Hash>,
}

impl UtxoView for OverlayView<'_> {
    fn utxo(&self, output_id: &Hash) -> Result<Option<UtxoEntry>, ViewError> {
        if let Some(e) = self.created.get(output_id) {
            return Ok(Some(*e));
        }
        if self.spent.contains(output_id) {
            return Ok(None);
        }
        self.base.utxo(output_id)
    }

    fn is_claimed(&self, mainchain_output_id: &Hash) -> Result<bool, ViewError> {
        Ok(self.claimed.contains(mainchain_output_id) || self.base.is_claimed(mainchain_output_id)?)
    }

    fn asset(&self, asset: &AssetId) -> Result<Option<AssetRecord>, ViewError> {
        self.base.asset(asset)
    }

    fn lot(&self, output_id: &Hash) -> Result<Option<LotId>, ViewError> {
        self.base.lot(output_id)
    }
}

/// Why blocks fetched from a peer were not committed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// This chain is not run by BBFT.
    #[error("this chain is not run by BBFT")]
    NotBbft,
    /// A block does not extend the committed tip.
    #[error("block at height {height} does not extend the committed chain")]
    NotOnTip {
        /// Its height.
        height: u64,
    },
    /// A block's finality certificate is missing or does not prove it.
    #[error("block at height {height}: {reason}")]
    Proof {
        /// Its height.
        height: u64,
        /// Why.
        reason: &'static str,
    },
    /// A block the ledger refuses.
    #[error("block at height {height} is invalid: {reason}")]
    Invalid {
        /// Its height.
        height: u64,
        /// The ledger's reason.
        reason: BlockRejection,
    },
    /// A stored block at that height differs (two final blocks at one height: a safety failure).
    #[error("a different block is final at height {height}")]
    Conflict {
        /// The height.
        height: u64,
    },
    /// The node failed.
    #[error(transparent)]
    Node(#[from] NodeError),
}

impl From<StoreError> for ImportError {
    fn from(e: StoreError) -> Self {
        ImportError::Node(NodeError::Store(e))
    }
}

impl ChainService {
    /// The BBFT state, if this chain is run by BBFT.
    pub fn bbft(&self) -> Option<&BbftChain> {
        self.bbft.as_ref()
    }

    /// Up to `count` committed blocks from height `first` on (stored form: the finality certificate
    /// in the witness), in height order: what a catch-up request is answered with. Stops below the
    /// store's base, at the tip, and before the transactions would pass
    /// [`MAX_REPLY_BYTES`](crate::bbft_host::net::MAX_REPLY_BYTES) (at least one block), so a
    /// reply stays within one p2p message.
    pub fn committed_blocks(&self, first: u64, count: u32) -> Result<Vec<Block>, StoreError> {
        let tip = self.tip().height;
        let last = first.saturating_add(u64::from(count)).min(tip.saturating_add(1));
        let max = u64::try_from(crate::bbft_host::net::MAX_REPLY_BYTES).unwrap_or(u64::MAX);
        let mut blocks = Vec::new();
        let mut bytes: u64 = 0;
        for h in first.max(1)..last {
            match self.store.block_at(h)? {
                Some(b) => {
                    bytes = b
                        .transactions()
                        .iter()
                        .fold(bytes, |acc, tx| acc.saturating_add(tx.serialized_size()));
                    if !blocks.is_empty() && bytes > max {
                        break;
                    }
                    blocks.push(b);
                }
                None => break,
            }
        }
        Ok(blocks)
    }

    /// The highest final block. Under BBFT only final blocks are committed, and under solo
    /// consensus the one producer never forks, so both are the committed tip. Proof of work has no
    /// certificate: a block counts as final [`pow::FINAL_DEPTH`] blocks deep.
    pub fn final_height(&self) -> u64 {
        match &self.authority {
            Authority::Solo { .. } | Authority::Bbft { .. } => self.tip().height,
            Authority::ProofOfWork(_) => self.tip().height.saturating_sub(super::pow::FINAL_DEPTH),
        }
    }

    /// Whether the block `hash` is on the committed chain at or below [`ChainService::final_height`].
    pub fn is_final(&self, hash: &Hash) -> Result<bool, StoreError> {
        let Some(header) = self.store.header(hash)? else {
            return Ok(false);
        };
        Ok(header.height <= self.final_height() && self.store.block_hash(header.height)? == Some(*hash))
    }

    /// The committed tip's header.
    pub fn tip_header(&self) -> BlockHeader {
        self.state().tip_header.clone()
    }

    fn check_overlay(state: &State, overlay: &Overlay) -> Result<(), NodeError> {
        let mut prev = (state.tip.height, state.tip.hash);
        for (b, _) in &overlay.blocks {
            let h = b.header();
            if h.height != prev.0.saturating_add(1) || h.previous_block_hash != prev.1 {
                return Err(NodeError::Internal(format!(
                    "the overlay does not extend the committed tip at height {}",
                    prev.0
                )));
            }
            prev = (h.height, b.hash());
        }
        Ok(())
    }

    /// Builds and validates a block on top of the committed chain plus `overlay` (a BBFT leader's
    /// proposal), with the best pool transactions not already in the overlay. Returns it with an
    /// empty witness, and its change set. Pool transactions block validation refuses are dropped
    /// and the block rebuilt; after a few attempts the block is empty, so a proposal is never
    /// missed.
    pub fn build_bbft_block(&self, overlay: &Overlay, now_ms: u64) -> Result<(Block, ChangeSet), NodeError> {
        let mut state = self.state();
        Self::check_overlay(&state, overlay)?;
        let parent = overlay
            .last()
            .map_or_else(|| state.tip_header.clone(), |b| b.header().clone());
        let parent_hash = parent.hash();
        let height = parent.height.saturating_add(1);
        let coinbase = coinbase_tx(&self.params, height)?;
        let budget_bytes = self.max_block_bytes.saturating_sub(coinbase.serialized_size());
        let in_overlay = overlay.tx_ids();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let selected: Vec<Arc<CheckedTx>> = if attempts > 8 {
                Vec::new()
            } else {
                // The overlay's transactions are still in the pool (until committed): skip them
                // without letting them take the budget, or a block after a full one comes out empty.
                state
                    .mempool
                    .select_excluding(budget_bytes, self.max_block_gas, &in_overlay)
            };
            let mut txs = Vec::with_capacity(selected.len() + 1);
            txs.push(coinbase.clone());
            txs.extend(selected.iter().map(|c| Transaction::clone(c.tx())));
            let ids: Vec<Hash> = txs.iter().map(Transaction::id).collect();
            let statuses = vec![false; txs.len()];
            let header = BlockHeader {
                version: 1,
                height,
                previous_block_hash: parent_hash,
                timestamp: slot_timestamp(parent.timestamp, self.params.block_time_interval, now_ms),
                transactions_merkle_root: types::merkle::tx_merkle_root(&ids),
                transaction_status_hash: types::merkle::status_merkle_root(&statuses),
                commitment_suffix: Vec::new(),
                consensus: HeaderConsensus::Witness {
                    witness: Vec::new(),
                    suffix: Vec::new(),
                },
            };
            let block =
                Block::new(header, txs).map_err(|e| NodeError::Internal(format!("building a block: {e}")))?;
            let mut prechecked: Vec<Option<CheckedTx>> = Vec::with_capacity(selected.len() + 1);
            prechecked.push(None);
            prechecked.extend(selected.iter().map(|c| Some(CheckedTx::clone(c))));
            let snap = self.store.snapshot()?;
            let view = overlay.view(&snap);
            match ledger::validate_block(&block, &parent, &view, &self.params, &prechecked) {
                Ok(changes) => return Ok((block, changes)),
                Err(BlockRejection::Tx { index, tx_id, reason }) if index > 0 => {
                    let removed = state.mempool.remove_with_descendants(&tx_id);
                    self.report_evictions(&removed, &format!("refused by block validation: {reason}"));
                    tracing::warn!(%tx_id, %reason, "dropped a pool transaction block validation refused");
                }
                Err(BlockRejection::View(e)) => {
                    return Err(NodeError::Store(StoreError::Inconsistent(e.to_string())));
                }
                Err(e) if !selected.is_empty() => {
                    tracing::error!(error = %e, "block validation refused the selection; proposing an empty block");
                    attempts = 8;
                }
                Err(e) => return Err(NodeError::OwnBlockInvalid(e)),
            }
        }
    }

    /// Validates a proposed block (unwitnessed) on top of the committed chain plus `overlay`,
    /// reusing the admission checks of the transactions this node's pool holds.
    pub fn validate_bbft_block(&self, block: &Block, overlay: &Overlay) -> Result<ChangeSet, ImportError> {
        let state = self.state();
        Self::check_overlay(&state, overlay)?;
        let parent = overlay
            .last()
            .map_or_else(|| state.tip_header.clone(), |b| b.header().clone());
        // Transactions this node already checked on admission are not checked again (the ledger
        // reuses a check only when it is of the same transaction for the same height).
        let prechecked: Vec<Option<CheckedTx>> = block
            .transactions()
            .iter()
            .enumerate()
            .map(|(i, tx)| {
                (i > 0)
                    .then(|| state.mempool.get(&tx.id()).map(|p| CheckedTx::clone(&p.checked)))
                    .flatten()
            })
            .collect();
        drop(state);
        if !matches!(block.header().witness(), Some([])) {
            return Err(ImportError::Proof {
                height: block.header().height,
                reason: "a proposed block must carry an empty witness",
            });
        }
        let snap = self.store.snapshot()?;
        let view = overlay.view(&snap);
        ledger::validate_block(block, &parent, &view, &self.params, &prechecked).map_err(|reason| {
            ImportError::Invalid {
                height: block.header().height,
                reason,
            }
        })
    }

    /// Commits a block the consensus core finalized: `block` (unwitnessed) with its change set
    /// from validation against the committed tip, its consensus `id` and the finalizing `proof`,
    /// which is stored in the witness. Drops its transactions (and conflicts) from the pool and
    /// broadcasts it.
    pub fn commit_certified(
        &self,
        block: &Block,
        changes: &ChangeSet,
        id: BlockId,
        proof: &Certificate,
    ) -> Result<Tip, NodeError> {
        let bbft = self
            .bbft
            .as_ref()
            .ok_or_else(|| NodeError::Config("this chain is not run by BBFT".into()))?;
        let stored = with_proof(block, proof)?;
        let mut state = self.state();
        let height = block.header().height;
        if height != state.tip.height.saturating_add(1)
            || block.header().previous_block_hash != state.tip.hash
        {
            return Err(NodeError::Internal(format!(
                "a certified block at height {height} does not extend the tip at {}",
                state.tip.height
            )));
        }
        // Computed before the store commits, so a block the elections refuse is not committed.
        let election = bbft.elections().change_for(block, height)?;
        let tip = self.store.commit_block(&stored, changes)?;
        self.metrics.block_committed(&stored, state.tip_header.timestamp);
        self.metrics.set_final_height(tip.height);
        bbft.ids().push(id);
        // Applied while the chain state is locked: whoever holds that lock sees the store's tip
        // and the elections at one height.
        {
            let mut elections = bbft.elections();
            elections.apply(election)?;
            let (epoch, size) = elections.next_block_epoch();
            self.metrics.set_bbft_epoch(epoch, size);
        }
        let conflicts = state.mempool.remove_committed(block.transactions());
        self.report_evictions(&conflicts, "conflicts with a transaction committed in a block");
        state.tip = tip;
        state.tip_header = stored.header().clone();
        drop(state);
        tracing::info!(
            height = tip.height,
            hash = %tip.hash,
            txs = block.transactions().len(),
            "final block committed"
        );
        // No subscriber is not an error.
        let stored = Arc::new(stored);
        self.remember_block(&stored);
        let _ = self.blocks.send(Arc::clone(&stored));
        let _ = self.chain_events.send(super::ChainEvent::Connected(stored));
        Ok(tip)
    }

    /// Catch-up: commits blocks fetched from a peer (stored form, certificate in the witness) in
    /// height order. Blocks at or below the tip must be the stored ones; each new block must
    /// extend the tip, carry a certificate that proves it (checked against the blocks at hand:
    /// stored and fetched) and pass ledger validation. Stops at the first block whose proof's
    /// two-chain lies beyond the fetched range; returns how many blocks were committed.
    ///
    /// The proven blocks are checked as windows of at most [`MAX_IMPORT_WINDOW`] blocks and
    /// [`MAX_IMPORT_WINDOW_BYTES`]: their distinct certificates verified in parallel (a batch
    /// finalized by one certificate checks it once), then the window validated at once with
    /// [`ledger::validate_window`] (signatures and Merkle roots in parallel, one ordered UTXO
    /// pass) against the store, then each block committed in order as the consensus host commits
    /// it ([`ChainService::commit_certified`]). A certificate that does not prove its block
    /// refuses the whole reply (nothing committed); a block the ledger refuses is reported as
    /// [`ImportError::Invalid`] after the blocks before it are committed.
    ///
    /// A block of an epoch whose set is not fixed yet (the tip has not reached the previous
    /// epoch's last block) ends the proven blocks; once the blocks before it are committed, their
    /// elections fix the set and the rest of `blocks` is imported in the same call.
    pub fn import_certified(&self, blocks: &[Block]) -> Result<usize, ImportError> {
        let bbft = self.bbft.as_ref().ok_or(ImportError::NotBbft)?;
        let mut committed = 0;
        loop {
            let known = bbft.highest_epoch();
            let n = self.import_in_known_epochs(bbft, blocks)?;
            committed += n;
            if n == 0 || bbft.highest_epoch() == known {
                return Ok(committed);
            }
        }
    }

    /// [`ChainService::import_certified`] up to the first block of an epoch whose set is unknown.
    fn import_in_known_epochs(&self, bbft: &BbftChain, blocks: &[Block]) -> Result<usize, ImportError> {
        let tip = self.tip();
        // Ids of the fetched blocks above the tip, chained from the tip's id.
        let mut fetched: Vec<(&Block, BlockId)> = Vec::new();
        let mut prev = (tip.height, tip.hash, bbft.tip_id());
        for b in blocks {
            let h = b.header().height;
            if h <= tip.height {
                if self.store.block_hash(h)? != Some(b.hash()) {
                    return Err(ImportError::Conflict { height: h });
                }
                continue;
            }
            if b.profile() != Profile::Side
                || h != prev.0.saturating_add(1)
                || b.header().previous_block_hash != prev.1
            {
                return Err(ImportError::NotOnTip { height: h });
            }
            let id = BlockId::compute(h, &prev.2, &consensus_payload(b)?);
            prev = (h, b.hash(), id);
            fetched.push((b, id));
        }
        let fetched_top = fetched.last().map_or(tip.height, |f| f.0.header().height);
        let sets: BTreeMap<u64, Arc<ValidatorSet>> =
            bbft.epochs().into_iter().map(|e| (e.index, e.set)).collect();
        let (proven, refused) = Self::proven_prefix(bbft, &sets, tip.height, &fetched);
        // The certificates' pairings and the first window's ledger validation are independent:
        // both run at once on rayon's pool. Nothing is committed before every certificate checked.
        let first_len = window_len(proven.iter().map(|p| p.0));
        let (quorums, first) = rayon::join(
            || Self::check_quorums(&sets, &proven),
            || self.validate_proven(proven.get(..first_len).unwrap_or(&[])),
        );
        quorums?;
        if let Some(e) = refused {
            return Err(e);
        }
        let mut first = Some(first);
        let mut committed = 0;
        let mut rest = proven.as_slice();
        while !rest.is_empty() {
            let take = window_len(rest.iter().map(|p| p.0));
            let (window, tail) = rest.split_at(take);
            rest = tail;
            let validated = first.take().unwrap_or_else(|| self.validate_proven(window));
            let (n, failure) = self.commit_window(window, validated);
            committed += n;
            self.metrics.sync_imported(
                u64::try_from(n).unwrap_or(u64::MAX),
                self.tip().height,
                fetched_top,
            );
            if let Some(e) = failure {
                return Err(e);
            }
        }
        Ok(committed)
    }

    /// The fetched blocks whose certificate paths prove them (checked in order, cheap; quorums
    /// apart: [`Self::check_quorums`]), up to the first whose proof lies beyond the blocks at hand,
    /// and the refusal of the first block whose proof is invalid, if any (which refuses the reply).
    fn proven_prefix<'a>(
        bbft: &BbftChain,
        sets: &BTreeMap<u64, Arc<ValidatorSet>>,
        tip_height: u64,
        fetched: &[(&'a Block, BlockId)],
    ) -> (Vec<(&'a Block, BlockId, Certificate)>, Option<ImportError>) {
        let first = tip_height.saturating_add(1);
        let lookup = |h: u64| {
            if h < first {
                bbft.id_at(h)
            } else {
                usize::try_from(h - first)
                    .ok()
                    .and_then(|i| fetched.get(i))
                    .map(|f| f.1)
            }
        };
        let mut proven: Vec<(&Block, BlockId, Certificate)> = Vec::with_capacity(fetched.len());
        let mut refused = None;
        for (b, id) in fetched {
            let h = b.header().height;
            if !sets.contains_key(&bbft.setup.epoch_of(h)) {
                // Its epoch's set follows from the blocks before it, once committed.
                break;
            }
            let Some(proof) = proof_of(b) else {
                refused = Some(ImportError::Proof {
                    height: h,
                    reason: "no finality certificate in the witness",
                });
                break;
            };
            match check_path(&proof, h, &bbft.setup, &lookup) {
                ProofCheck::Proven => {}
                ProofCheck::Beyond => break,
                ProofCheck::Invalid(reason) => {
                    refused = Some(ImportError::Proof { height: h, reason });
                    break;
                }
            }
            proven.push((b, *id, proof));
        }
        (proven, refused)
    }

    /// Checks that the certificates of `proven` verify with a quorum: each distinct certificate
    /// once (the blocks of a batch share their finalizing certificate), each a pairing, in
    /// parallel on rayon's pool. The lowest failing block is reported.
    fn check_quorums(
        sets: &BTreeMap<u64, Arc<ValidatorSet>>,
        proven: &[(&Block, BlockId, Certificate)],
    ) -> Result<(), ImportError> {
        let mut distinct: Vec<(u64, &Certificate)> = Vec::new();
        for (b, _, proof) in proven {
            if distinct.last().is_none_or(|(_, c)| *c != proof) {
                distinct.push((b.header().height, proof));
            }
        }
        // Every certificate is of its block's epoch (`check_path`), whose set is known.
        let failed = distinct
            .par_iter()
            .filter(|(_, c)| {
                sets.get(&c.data.epoch)
                    .is_none_or(|set| !c.verify_quorum(set, &bbft::Bls))
            })
            .map(|(h, _)| *h)
            .min();
        match failed {
            Some(height) => Err(ImportError::Proof {
                height,
                reason: "the certificate does not verify with a quorum",
            }),
            None => Ok(()),
        }
    }

    /// Validates `window` (consecutive proven blocks on the tip) as one ledger window.
    fn validate_proven(&self, window: &[(&Block, BlockId, Certificate)]) -> Result<Validated, ImportError> {
        let started = std::time::Instant::now();
        let plain: Vec<Block> = window
            .iter()
            .map(|(b, _, _)| unwitnessed(b))
            .collect::<Result<_, _>>()?;
        let (sets, failure) = self.validate_window_prefix(&plain)?;
        Ok(Validated {
            plain,
            sets,
            failure,
            took: started.elapsed(),
        })
    }

    /// Commits a validated window block by block, as the consensus host commits: how many blocks
    /// were committed, and the error that stopped it, if any (the ledger's refusal of the block
    /// after the valid prefix, or a store failure).
    fn commit_window(
        &self,
        window: &[(&Block, BlockId, Certificate)],
        validated: Result<Validated, ImportError>,
    ) -> (usize, Option<ImportError>) {
        let v = match validated {
            Ok(v) => v,
            Err(e) => return (0, Some(e)),
        };
        let per_block = v.took / u32::try_from(v.plain.len().max(1)).unwrap_or(u32::MAX);
        let mut committed = 0;
        for ((block, (_, id, proof)), changes) in v.plain.iter().zip(window).zip(&v.sets) {
            self.metrics.block_validated(per_block);
            if let Err(e) = self.commit_certified(block, changes, *id, proof) {
                return (committed, Some(e.into()));
            }
            committed += 1;
        }
        (committed, v.failure)
    }

    /// The change sets of the longest valid prefix of `plain` (consecutive blocks on the tip,
    /// validated as one window against the store), and why the block after it was refused.
    fn validate_window_prefix(
        &self,
        plain: &[Block],
    ) -> Result<(Vec<ChangeSet>, Option<ImportError>), ImportError> {
        let parent = self.tip_header();
        let snap = self.store.snapshot()?;
        let refused = |reason: BlockRejection| match reason {
            BlockRejection::Window { height, reason, .. } => ImportError::Invalid {
                height,
                reason: *reason,
            },
            reason => ImportError::Invalid {
                height: parent.height.saturating_add(1),
                reason,
            },
        };
        match ledger::validate_window(plain, &parent, &snap, &self.params) {
            Ok(sets) => Ok((sets, None)),
            Err(BlockRejection::Window {
                position,
                height,
                reason,
            }) => {
                // The blocks before the refused one are valid: validate them again on their own
                // (a failure is rare; the window's work is not kept) so that they are committed.
                let before = plain.get(..position).unwrap_or(&[]);
                let sets = ledger::validate_window(before, &parent, &snap, &self.params).map_err(refused)?;
                Ok((
                    sets,
                    Some(ImportError::Invalid {
                        height,
                        reason: *reason,
                    }),
                ))
            }
            Err(reason) => Err(refused(reason)),
        }
    }
}

/// A window of proven blocks validated by the ledger: the blocks (unwitnessed), the change sets of
/// its valid prefix, why the block after that prefix was refused, and how long it took.
struct Validated {
    plain: Vec<Block>,
    sets: Vec<ChangeSet>,
    failure: Option<ImportError>,
    took: std::time::Duration,
}

/// Most blocks validated as one window by [`ChainService::import_certified`] (a reply holds at most
/// [`MAX_BLOCKS_PER_REPLY`](crate::bbft_host::net::MAX_BLOCKS_PER_REPLY); a caller may pass more).
pub const MAX_IMPORT_WINDOW: usize = 256;

/// Most transaction bytes in one import window (at least one block is always taken).
pub const MAX_IMPORT_WINDOW_BYTES: u64 = 64 << 20;

/// The timestamp of a block built at `now_ms` on a parent stamped `parent_ms`: the earliest the
/// chain allows (`parent_ms + interval_ms`, the time the block was due) unless that is more than
/// half an interval behind `now_ms`, then `now_ms` less half an interval.
///
/// Why: a leader builds its due proposal a little late (its host finishing a commit or a
/// validation first, or the parent's certificate coming after the due time), and stamping the
/// block with the time it was built pushed every later block back by that delay: at full load
/// blocks came every ~0.56 s instead of 0.5 s. Stamped with their due time, a delay is not
/// carried forward; the bound keeps a stamp within half an interval of the clock when a leader is
/// later than that.
pub(crate) fn slot_timestamp(parent_ms: u64, interval_ms: u64, now_ms: u64) -> u64 {
    parent_ms
        .saturating_add(interval_ms)
        .max(now_ms.saturating_sub(interval_ms / 2))
}

/// A block's transaction bytes (as decoded): what bounds import windows and the fetched blocks a
/// host keeps.
pub(crate) fn tx_bytes(block: &Block) -> u64 {
    block
        .transactions()
        .iter()
        .fold(0, |acc, tx| acc.saturating_add(tx.serialized_size()))
}

/// How many of `blocks` make the next window: at most [`MAX_IMPORT_WINDOW`] blocks and
/// [`MAX_IMPORT_WINDOW_BYTES`], at least one.
fn window_len<'a>(blocks: impl Iterator<Item = &'a Block>) -> usize {
    let mut bytes: u64 = 0;
    let mut n = 0;
    for b in blocks.take(MAX_IMPORT_WINDOW) {
        bytes = bytes.saturating_add(tx_bytes(b));
        if n > 0 && bytes > MAX_IMPORT_WINDOW_BYTES {
            break;
        }
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use consensus::bbft::{Bitmap, Phase, VoteData};
    use crypto::bls::SecretKey;

    use super::*;

    #[test]
    fn a_block_built_late_keeps_its_due_time_within_half_an_interval() {
        // Built early (the host never does) or on time: the due time.
        assert_eq!(slot_timestamp(10_000, 500, 10_200), 10_500);
        assert_eq!(slot_timestamp(10_000, 500, 10_500), 10_500);
        // Late by up to half an interval: still the due time, so the schedule does not drift.
        assert_eq!(slot_timestamp(10_000, 500, 10_560), 10_500);
        assert_eq!(slot_timestamp(10_000, 500, 10_750), 10_500);
        // Later: half an interval behind the clock, never earlier than the chain allows.
        assert_eq!(slot_timestamp(10_000, 500, 10_751), 10_501);
        assert_eq!(slot_timestamp(10_000, 500, 14_000), 13_750);
        assert_eq!(slot_timestamp(u64::MAX - 10, 500, 0), u64::MAX);
    }

    /// Four validators, epochs of `round` heights.
    fn setup(round: u64) -> BbftSetup {
        let validators = (0..4u8)
            .map(|i| consensus::dpos::Validator {
                candidate: crypto::chainkd::XPrv::root(&[i; 4]).xpub(),
                consensus_key: consensus::dpos::ProvenKey::from_secret(&SecretKey::from_seed(&[i; 32])),
                votes: 0,
            })
            .collect();
        let mut s = BbftSetup::fixed(consensus::dpos::ValidatorSet::new(validators).unwrap());
        s.dpos = consensus::dpos::DposConfig::new(round, 4, 1, 1, 1, 0, 0).unwrap();
        s
    }

    fn cert(phase: Phase, height: u64, block: u8, parent: u8, round: u64, parent_round: u64) -> Certificate {
        cert_in(
            0,
            phase,
            height,
            BlockId([block; 32]),
            BlockId([parent; 32]),
            round,
            parent_round,
        )
    }

    fn cert_in(
        epoch: u64,
        phase: Phase,
        height: u64,
        block: BlockId,
        parent: BlockId,
        round: u64,
        parent_round: u64,
    ) -> Certificate {
        let data = VoteData {
            epoch,
            round,
            height,
            block,
            parent,
            parent_round,
            phase,
        };
        Certificate {
            signature: SecretKey::from_seed(&[1; 32]).sign(&data.signing_bytes()),
            data,
            signers: Bitmap::new(4),
        }
    }

    #[test]
    fn a_certificate_proves_the_block_it_names_final_and_its_ancestors() {
        // Stored ids: height h has id [h; 32], heights 0..=5.
        let ids = |h: u64| (h <= 5).then(|| BlockId([u8::try_from(h).unwrap(); 32]));
        let setup = setup(1200);
        let check_path =
            |c: &Certificate, h: u64, ids: &dyn Fn(u64) -> Option<BlockId>| check_path(c, h, &setup, ids);
        // A commit certificate names its own block: that block and every one below it.
        let cc = cert(Phase::Commit, 4, 4, 3, 9, 8);
        assert_eq!(check_path(&cc, 4, &ids), ProofCheck::Proven);
        assert_eq!(check_path(&cc, 2, &ids), ProofCheck::Proven);
        assert!(matches!(check_path(&cc, 5, &ids), ProofCheck::Invalid(_)));
        // Another block at that height, or one not at hand yet.
        assert!(matches!(
            check_path(&cert(Phase::Commit, 4, 7, 3, 9, 8), 4, &ids),
            ProofCheck::Invalid(_)
        ));
        assert_eq!(
            check_path(&cert(Phase::Commit, 6, 6, 5, 9, 8), 4, &ids),
            ProofCheck::Beyond
        );
        // A prepare certificate names its parent, and only with a direct two-chain.
        let two_chain = cert(Phase::Prepare, 5, 5, 4, 9, 8);
        assert_eq!(check_path(&two_chain, 4, &ids), ProofCheck::Proven);
        assert!(matches!(check_path(&two_chain, 5, &ids), ProofCheck::Invalid(_)));
        let gap = cert(Phase::Prepare, 5, 5, 4, 9, 7);
        assert!(matches!(check_path(&gap, 4, &ids), ProofCheck::Invalid(_)));
    }

    #[test]
    fn a_block_is_proven_only_by_its_own_epoch_and_past_the_end_only_through_empty_suffix_blocks() {
        // Epochs of 4 heights: heights 1..=4 are epoch 0, 5..=8 epoch 1. Stored ids [h; 32].
        let setup = setup(4);
        let ids = |h: u64| (h <= 6).then(|| BlockId([u8::try_from(h).unwrap(); 32]));
        let id = |h: u8| BlockId([h; 32]);
        // Epoch 1's commit certificate for its block at 6 proves 5 and 6, not epoch 0's blocks.
        let cc = cert_in(1, Phase::Commit, 6, id(6), id(5), 3, 2);
        assert_eq!(check_path(&cc, 5, &setup, &ids), ProofCheck::Proven);
        assert!(matches!(check_path(&cc, 4, &setup, &ids), ProofCheck::Invalid(_)));
        // Epoch 0's certificate naming a block past its end (height 5 of epoch 0 is no stored
        // block): a suffix of empty blocks after the last block 4 is the only way.
        let s5 = BlockId::compute(5, &id(4), &[]);
        let s6 = BlockId::compute(6, &s5, &[]);
        let through_suffix = cert_in(0, Phase::Prepare, 7, BlockId::compute(7, &s6, &[]), s6, 9, 8);
        assert_eq!(check_path(&through_suffix, 4, &setup, &ids), ProofCheck::Proven);
        assert_eq!(check_path(&through_suffix, 3, &setup, &ids), ProofCheck::Proven);
        // The same shape off another block at 4 is refused, and so is a suffix of non-empty blocks.
        let elsewhere = BlockId::compute(6, &BlockId::compute(5, &id(9), &[]), &[]);
        let other = cert_in(0, Phase::Prepare, 7, id(7), elsewhere, 9, 8);
        assert!(matches!(
            check_path(&other, 4, &setup, &ids),
            ProofCheck::Invalid(_)
        ));
        let full = cert_in(0, Phase::Prepare, 7, id(7), id(6), 9, 8);
        assert!(matches!(
            check_path(&full, 4, &setup, &ids),
            ProofCheck::Invalid(_)
        ));
        // Epoch 0's certificate cannot prove epoch 1's block.
        assert!(matches!(
            check_path(&through_suffix, 5, &setup, &ids),
            ProofCheck::Invalid(_)
        ));
        // The last block not at hand yet: not checkable yet.
        let short = |h: u64| (h <= 3).then(|| BlockId([u8::try_from(h).unwrap(); 32]));
        assert_eq!(check_path(&through_suffix, 3, &setup, &short), ProofCheck::Beyond);
    }
}

//! The UTXO view, change sets and the in-memory UTXO set.

use std::collections::{BTreeMap, BTreeSet};

use types::block::Block;
use types::{AssetId, Hash};

use crate::assets::{AssetChanges, AssetRecord, LotId, asset_changes};
use crate::error::{LedgerError, ViewError};

/// What kind of output a UTXO is; it decides which maturity rule applies when it is spent.
///
/// # Consensus
/// The reference's `storage.UtxoEntry` types (`NormalUTXOType`, `CoinbaseUTXOType`, `VoteUTXOType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UtxoKind {
    /// An ordinary output.
    Normal,
    /// An output of a block's coinbase transaction: spendable after the coinbase maturity.
    Coinbase,
    /// A sidechain vote output: spendable (by a veto input) after the vote maturity.
    Vote,
}

/// What the UTXO set stores per output. The contents live in the spending input (its commitment
/// hashes to the output ID), so the set only needs the kind and the height of the block that created it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UtxoEntry {
    /// Kind of output.
    pub kind: UtxoKind,
    /// Height of the block that created it.
    pub height: u64,
}

/// Read access to the UTXO set.
pub trait UtxoView {
    /// The unspent output with this ID, if any.
    fn utxo(&self, output_id: &Hash) -> Result<Option<UtxoEntry>, ViewError>;
    /// Main-chain outputs already claimed by cross-chain inputs (a claim can be made only once).
    fn is_claimed(&self, mainchain_output_id: &Hash) -> Result<bool, ViewError>;
    /// The asset registry's record of `asset` (its class), if it was registered by an issuance or
    /// claim. An asset without a record is BAP-01.
    ///
    /// The default knows no asset: a view over a state that holds asset classes (the ledger's
    /// [`MemoryUtxoSet`], the store) must override it, and a view layered on another must forward
    /// it, or the class rules of the assets it moves are not enforced.
    fn asset(&self, asset: &AssetId) -> Result<Option<AssetRecord>, ViewError> {
        let _ = asset;
        Ok(None)
    }
    /// The lot of an unspent BAP-02 output, if one is recorded (an output without one is a lot of
    /// its own). The default knows none; see [`UtxoView::asset`].
    fn lot(&self, output_id: &Hash) -> Result<Option<LotId>, ViewError> {
        let _ = output_id;
        Ok(None)
    }
}

impl<T: UtxoView + ?Sized> UtxoView for &T {
    fn utxo(&self, output_id: &Hash) -> Result<Option<UtxoEntry>, ViewError> {
        (**self).utxo(output_id)
    }
    fn is_claimed(&self, mainchain_output_id: &Hash) -> Result<bool, ViewError> {
        (**self).is_claimed(mainchain_output_id)
    }
    fn asset(&self, asset: &AssetId) -> Result<Option<AssetRecord>, ViewError> {
        (**self).asset(asset)
    }
    fn lot(&self, output_id: &Hash) -> Result<Option<LotId>, ViewError> {
        (**self).lot(output_id)
    }
}

/// A block's state change as a value. Applying removes `spent`, inserts `created` and records
/// `claimed`; unwinding does the exact inverse. An output created and spent inside the same block
/// appears in neither list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeSet {
    /// Height of the block.
    pub height: u64,
    /// Hash of the block.
    pub block_hash: Hash,
    /// Outputs spent, with the entries they had (restored on unwind), in spending order.
    pub spent: Vec<(Hash, UtxoEntry)>,
    /// Outputs created, in creation order.
    pub created: Vec<(Hash, UtxoEntry)>,
    /// Main-chain output IDs claimed by cross-chain inputs, in claim order.
    pub claimed: Vec<Hash>,
}

/// An in-memory UTXO set (tests, mempool overlays) with apply and unwind of change sets, and the
/// asset state (registry and BAP-02 lots) with apply and unwind of [`AssetChanges`]. Every apply and
/// unwind is atomic: on error nothing changes.
///
/// [`MemoryUtxoSet::apply_block`] / [`MemoryUtxoSet::unwind_block`] change both together;
/// [`MemoryUtxoSet::apply`] / [`MemoryUtxoSet::unwind`] change the UTXOs and claims only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryUtxoSet {
    utxos: BTreeMap<Hash, UtxoEntry>,
    claimed: BTreeSet<Hash>,
    assets: BTreeMap<AssetId, AssetRecord>,
    lots: BTreeMap<Hash, LotId>,
}

impl MemoryUtxoSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of unspent outputs.
    pub fn len(&self) -> usize {
        self.utxos.len()
    }

    /// Whether there is no unspent output, no claim, no registered asset and no lot.
    pub fn is_empty(&self) -> bool {
        self.utxos.is_empty() && self.claimed.is_empty() && self.assets.is_empty() && self.lots.is_empty()
    }

    /// The registered assets in ID order.
    pub fn assets(&self) -> impl Iterator<Item = (&AssetId, &AssetRecord)> {
        self.assets.iter()
    }

    /// The lots of unspent BAP-02 outputs in output-ID order.
    pub fn lots(&self) -> impl Iterator<Item = (&Hash, &LotId)> {
        self.lots.iter()
    }

    /// Applies a block's asset changes: every spent lot must be present as recorded, no created lot
    /// and no registration may exist yet.
    pub fn apply_assets(&mut self, c: &AssetChanges) -> Result<(), LedgerError> {
        let mut regs = BTreeSet::new();
        for (asset, _) in &c.registered {
            if self.assets.contains_key(asset) || !regs.insert(*asset) {
                return Err(LedgerError::AssetRegistered { asset: *asset });
            }
        }
        let mut removed = BTreeSet::new();
        for (id, lot) in &c.lots_spent {
            if self.lots.get(id) != Some(lot) || !removed.insert(*id) {
                return Err(LedgerError::LotMismatch { output_id: *id });
            }
        }
        let mut added = BTreeSet::new();
        for (id, _) in &c.lots_created {
            if (self.lots.contains_key(id) && !removed.contains(id)) || !added.insert(*id) {
                return Err(LedgerError::LotMismatch { output_id: *id });
            }
        }
        for (id, _) in &c.lots_spent {
            self.lots.remove(id);
        }
        for (id, lot) in &c.lots_created {
            self.lots.insert(*id, *lot);
        }
        for (asset, r) in &c.registered {
            self.assets.insert(*asset, *r);
        }
        Ok(())
    }

    /// Unwinds asset changes applied last: forgets the registrations and created lots (which must be
    /// present as recorded) and restores the spent lots.
    pub fn unwind_assets(&mut self, c: &AssetChanges) -> Result<(), LedgerError> {
        let mut regs = BTreeSet::new();
        for (asset, r) in &c.registered {
            if self.assets.get(asset) != Some(r) || !regs.insert(*asset) {
                return Err(LedgerError::AssetNotRegistered { asset: *asset });
            }
        }
        let mut removed = BTreeSet::new();
        for (id, lot) in &c.lots_created {
            if self.lots.get(id) != Some(lot) || !removed.insert(*id) {
                return Err(LedgerError::LotMismatch { output_id: *id });
            }
        }
        let mut restored = BTreeSet::new();
        for (id, _) in &c.lots_spent {
            if (self.lots.contains_key(id) && !removed.contains(id)) || !restored.insert(*id) {
                return Err(LedgerError::LotMismatch { output_id: *id });
            }
        }
        for (id, _) in &c.lots_created {
            self.lots.remove(id);
        }
        for (id, lot) in &c.lots_spent {
            self.lots.insert(*id, *lot);
        }
        for asset in &regs {
            self.assets.remove(asset);
        }
        Ok(())
    }

    /// Applies a validated block: its change set and the asset changes derived from it (returned,
    /// to unwind with). Atomic.
    pub fn apply_block(&mut self, block: &Block, changes: &ChangeSet) -> Result<AssetChanges, LedgerError> {
        let assets = asset_changes(block, &*self).map_err(|e| LedgerError::Assets(Box::new(e)))?;
        self.apply(changes)?;
        if let Err(e) = self.apply_assets(&assets) {
            self.unwind(changes)?;
            return Err(e);
        }
        Ok(assets)
    }

    /// Unwinds a block applied last with [`MemoryUtxoSet::apply_block`]. Atomic.
    pub fn unwind_block(&mut self, changes: &ChangeSet, assets: &AssetChanges) -> Result<(), LedgerError> {
        self.unwind_assets(assets)?;
        if let Err(e) = self.unwind(changes) {
            self.apply_assets(assets)?;
            return Err(e);
        }
        Ok(())
    }

    /// Inserts one output directly (funding a test or a devnet account); returns the entry it replaced.
    pub fn insert(&mut self, output_id: Hash, entry: UtxoEntry) -> Option<UtxoEntry> {
        self.utxos.insert(output_id, entry)
    }

    /// The unspent outputs in ID order.
    pub fn iter(&self) -> impl Iterator<Item = (&Hash, &UtxoEntry)> {
        self.utxos.iter()
    }

    /// The claimed main-chain output IDs in order.
    pub fn claims(&self) -> impl Iterator<Item = &Hash> {
        self.claimed.iter()
    }

    /// A canonical byte encoding of the whole state (sorted outputs with kind and height, the sorted
    /// claims, the sorted registry with class and height, then the sorted lots), to compare states
    /// byte for byte.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.utxos.len() * 41 + self.claimed.len() * 32 + 16);
        out.extend_from_slice(&(self.utxos.len() as u64).to_le_bytes());
        for (id, e) in &self.utxos {
            out.extend_from_slice(&id.0);
            out.push(match e.kind {
                UtxoKind::Normal => 0,
                UtxoKind::Coinbase => 1,
                UtxoKind::Vote => 2,
            });
            out.extend_from_slice(&e.height.to_le_bytes());
        }
        out.extend_from_slice(&(self.claimed.len() as u64).to_le_bytes());
        for id in &self.claimed {
            out.extend_from_slice(&id.0);
        }
        out.extend_from_slice(&(self.assets.len() as u64).to_le_bytes());
        for (asset, r) in &self.assets {
            out.extend_from_slice(&asset.0);
            out.extend_from_slice(&encode_class(r.class));
            out.extend_from_slice(&r.height.to_le_bytes());
        }
        out.extend_from_slice(&(self.lots.len() as u64).to_le_bytes());
        for (id, lot) in &self.lots {
            out.extend_from_slice(&id.0);
            out.extend_from_slice(&lot.0.0);
        }
        out
    }

    /// Applies a change set: every spent output must be present with the recorded entry, no created
    /// output may exist yet, no claim may exist yet.
    pub fn apply(&mut self, c: &ChangeSet) -> Result<(), LedgerError> {
        let mut removed = BTreeSet::new();
        for (id, entry) in &c.spent {
            match self.utxos.get(id) {
                Some(have) if have == entry && removed.insert(*id) => {}
                Some(have) if have != entry => {
                    return Err(LedgerError::SpentEntryMismatch {
                        output_id: *id,
                        expected: *entry,
                        found: *have,
                    });
                }
                _ => return Err(LedgerError::MissingSpent { output_id: *id }),
            }
        }
        let mut added = BTreeSet::new();
        for (id, _) in &c.created {
            if (self.utxos.contains_key(id) && !removed.contains(id)) || !added.insert(*id) {
                return Err(LedgerError::AlreadyExists { output_id: *id });
            }
        }
        let mut claims = BTreeSet::new();
        for id in &c.claimed {
            if self.claimed.contains(id) || !claims.insert(*id) {
                return Err(LedgerError::AlreadyClaimed { output_id: *id });
            }
        }
        for (id, _) in &c.spent {
            self.utxos.remove(id);
        }
        for (id, entry) in &c.created {
            self.utxos.insert(*id, *entry);
        }
        self.claimed.extend(claims);
        Ok(())
    }

    /// Unwinds a change set applied last: removes the created outputs (which must be present with
    /// their entries), restores the spent ones and forgets the claims.
    pub fn unwind(&mut self, c: &ChangeSet) -> Result<(), LedgerError> {
        let mut removed = BTreeSet::new();
        for (id, entry) in &c.created {
            match self.utxos.get(id) {
                Some(have) if have == entry && removed.insert(*id) => {}
                _ => return Err(LedgerError::MissingCreated { output_id: *id }),
            }
        }
        let mut restored = BTreeSet::new();
        for (id, _) in &c.spent {
            if (self.utxos.contains_key(id) && !removed.contains(id)) || !restored.insert(*id) {
                return Err(LedgerError::AlreadyExists { output_id: *id });
            }
        }
        let mut claims = BTreeSet::new();
        for id in &c.claimed {
            if !self.claimed.contains(id) || !claims.insert(*id) {
                return Err(LedgerError::NotClaimed { output_id: *id });
            }
        }
        for (id, _) in &c.created {
            self.utxos.remove(id);
        }
        for (id, entry) in &c.spent {
            self.utxos.insert(*id, *entry);
        }
        for id in &claims {
            self.claimed.remove(id);
        }
        Ok(())
    }
}

impl UtxoView for MemoryUtxoSet {
    fn utxo(&self, output_id: &Hash) -> Result<Option<UtxoEntry>, ViewError> {
        Ok(self.utxos.get(output_id).copied())
    }
    fn is_claimed(&self, mainchain_output_id: &Hash) -> Result<bool, ViewError> {
        Ok(self.claimed.contains(mainchain_output_id))
    }
    fn asset(&self, asset: &AssetId) -> Result<Option<AssetRecord>, ViewError> {
        Ok(self.assets.get(asset).copied())
    }
    fn lot(&self, output_id: &Hash) -> Result<Option<LotId>, ViewError> {
        Ok(self.lots.get(output_id).copied())
    }
}

/// Two bytes for a class: its number (1 … 4) and, for BAP-04, its decimals.
pub(crate) fn encode_class(c: types::asset_class::AssetClass) -> [u8; 2] {
    use types::asset_class::AssetClass;
    match c {
        AssetClass::Bit => [1, 0],
        AssetClass::Atomic => [2, 0],
        AssetClass::Quark => [3, 0],
        AssetClass::Quantum { decimals } => [4, decimals],
    }
}

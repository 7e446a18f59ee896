//! The asset classes (BAP-01 … BAP-04) as ledger state and consensus rules: the asset registry
//! (asset ID → class, filled by the first issuance or claim), the lots of BAP-02 outputs, and the
//! checks every transaction passes wherever an asset moves. See `docs/assets.md`.

use foldhash::{HashMap, HashMapExt as _, HashSet, HashSetExt as _};
use types::asset_class::AssetClass;
use types::block::Block;
use types::tx::Transaction;
use types::{AssetId, Hash, InputKind};

use crate::error::{BlockRejection, TxRejection, ViewError};
use crate::tx::utxo_effects;
use crate::utxo::UtxoView;

/// The identity of a BAP-02 lot: the entry ID of the issuance (or cross-chain) input that created it.
/// Kept per UTXO in the ledger state, never on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LotId(pub Hash);

/// What the registry knows of an asset. A record exists once the asset was first issued (or, on a
/// sidechain, first claimed): for a BAP-03 quark its presence means its one unit was issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AssetRecord {
    /// The class its definition declares.
    pub class: AssetClass,
    /// Height of the block that registered it.
    pub height: u64,
}

/// A block's changes to the asset state, as a value: the assets it registered, the lots of the
/// outputs it spent (restored on unwind) and the lots of the outputs it created. Like
/// [`crate::ChangeSet`], an output created and spent inside the same block appears in neither list.
/// Only outputs of BAP-02 assets have lots.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssetChanges {
    /// Assets registered, in registration order.
    pub registered: Vec<(AssetId, AssetRecord)>,
    /// Lots of the outputs spent, in spending order.
    pub lots_spent: Vec<(Hash, LotId)>,
    /// Lots of the outputs created, in creation order.
    pub lots_created: Vec<(Hash, LotId)>,
}

impl AssetChanges {
    /// Whether the block changed no asset state.
    pub fn is_empty(&self) -> bool {
        self.registered.is_empty() && self.lots_spent.is_empty() && self.lots_created.is_empty()
    }
}

/// Accumulates per-transaction changes into a block's, cancelling lots created and spent inside it.
#[derive(Default)]
pub(crate) struct BlockAssets {
    registered: Vec<(AssetId, AssetRecord)>,
    spent: Vec<(Hash, LotId)>,
    created: Vec<Option<(Hash, LotId)>>,
    created_pos: HashMap<Hash, usize>,
}

impl BlockAssets {
    pub(crate) fn push(&mut self, tx: AssetChanges) {
        self.registered.extend(tx.registered);
        for (id, lot) in tx.lots_spent {
            match self.created_pos.remove(&id) {
                Some(p) => {
                    if let Some(slot) = self.created.get_mut(p) {
                        *slot = None;
                    }
                }
                None => self.spent.push((id, lot)),
            }
        }
        for (id, lot) in tx.lots_created {
            self.created_pos.insert(id, self.created.len());
            self.created.push(Some((id, lot)));
        }
    }

    pub(crate) fn finish(self) -> AssetChanges {
        AssetChanges {
            registered: self.registered,
            lots_spent: self.spent,
            lots_created: self.created.into_iter().flatten().collect(),
        }
    }
}

/// The asset state of a block or window being checked on top of a view.
pub(crate) struct AssetPass<'a> {
    base: &'a dyn UtxoView,
    registered: HashMap<AssetId, AssetRecord>,
    lots_added: HashMap<Hash, LotId>,
    lots_removed: HashSet<Hash>,
}

impl<'a> AssetPass<'a> {
    pub(crate) fn new(base: &'a dyn UtxoView) -> Self {
        AssetPass {
            base,
            registered: HashMap::new(),
            lots_added: HashMap::new(),
            lots_removed: HashSet::new(),
        }
    }

    fn record(&self, asset: &AssetId) -> Result<Option<AssetRecord>, ViewError> {
        if let Some(r) = self.registered.get(asset) {
            return Ok(Some(*r));
        }
        self.base.asset(asset)
    }

    fn lot(&self, output_id: &Hash) -> Result<Option<LotId>, ViewError> {
        if let Some(l) = self.lots_added.get(output_id) {
            return Ok(Some(*l));
        }
        if self.lots_removed.contains(output_id) {
            return Ok(None);
        }
        self.base.lot(output_id)
    }

    /// Checks one transaction's asset rules against the state so far, then records its effects in
    /// the pass and returns them.
    ///
    /// # Consensus
    /// Tributary's BAP rules (`docs/assets.md`): a definition claiming a class must be valid; a
    /// quark is issued once; every issuance, claim, output and retirement of a quark carries 1 and
    /// of a quantum asset a multiple of its unit; the inputs of one BAP-02 asset carry a single lot,
    /// which its outputs inherit (an issuance or claim starts a new lot).
    pub(crate) fn tx(&mut self, tx: &Transaction, height: u64) -> Result<AssetChanges, TxRejection> {
        let ids = tx.ids();
        let mut classes: HashMap<AssetId, AssetClass> = HashMap::new();
        let mut registered: Vec<(AssetId, AssetRecord)> = Vec::new();
        let mut lots: HashMap<AssetId, (LotId, usize)> = HashMap::new();
        let mut lots_spent: Vec<(Hash, LotId)> = Vec::new();

        for (i, (input, iid)) in tx.inputs().iter().zip(&ids.inputs).enumerate() {
            let (asset, class, lot) = match &input.kind {
                InputKind::Issuance(is) => {
                    let asset = is.asset_id();
                    let declared = AssetClass::from_definition(&is.asset_definition)
                        .map_err(|error| TxRejection::AssetDefinition { input: i, error })?;
                    let known = match registered.iter().find(|(a, _)| *a == asset) {
                        Some((_, r)) => Some(*r),
                        None => self.record(&asset)?,
                    };
                    let class = match known {
                        Some(r) if r.class == AssetClass::Quark => {
                            return Err(TxRejection::QuarkReissued { input: i, asset });
                        }
                        Some(r) => r.class,
                        None => {
                            registered.push((
                                asset,
                                AssetRecord {
                                    class: declared,
                                    height,
                                },
                            ));
                            declared
                        }
                    };
                    check_amount(class, is.amount.get(), "input", i)?;
                    (asset, class, LotId(iid.input_id))
                }
                InputKind::CrossChain(x) => {
                    let asset = x.commitment.asset_id;
                    if asset == AssetId::BTM {
                        (asset, AssetClass::Bit, LotId(iid.input_id))
                    } else {
                        let declared = AssetClass::from_definition(&x.asset_definition)
                            .map_err(|error| TxRejection::AssetDefinition { input: i, error })?;
                        let known = match registered.iter().find(|(a, _)| *a == asset) {
                            Some((_, r)) => Some(*r),
                            None => self.record(&asset)?,
                        };
                        let class = match known {
                            Some(r) => r.class,
                            None => {
                                registered.push((
                                    asset,
                                    AssetRecord {
                                        class: declared,
                                        height,
                                    },
                                ));
                                declared
                            }
                        };
                        check_amount(class, x.commitment.amount.get(), "input", i)?;
                        (asset, class, LotId(iid.input_id))
                    }
                }
                InputKind::Spend(_) | InputKind::Veto(_) => {
                    let (Some((asset, _)), Some(out)) = (input.asset_amount(), iid.spent_output_id) else {
                        continue;
                    };
                    let class = match classes.get(&asset) {
                        Some(c) => *c,
                        // BTM is never registered: no lookup for the commonest input.
                        None if asset == AssetId::BTM => AssetClass::Bit,
                        None => self.record(&asset)?.map_or(AssetClass::Bit, |r| r.class),
                    };
                    let lot = if class == AssetClass::Atomic {
                        match self.lot(&out)? {
                            Some(l) => {
                                lots_spent.push((out, l));
                                l
                            }
                            // An output without a recorded lot is a lot of its own.
                            None => LotId(out),
                        }
                    } else {
                        LotId(out)
                    };
                    (asset, class, lot)
                }
                InputKind::Coinbase(_) | InputKind::Opaque => continue,
            };
            classes.insert(asset, class);
            if class == AssetClass::Atomic {
                match lots.get(&asset) {
                    Some((first_lot, first)) if *first_lot != lot => {
                        return Err(TxRejection::LotMerge {
                            asset,
                            input: i,
                            first: *first,
                        });
                    }
                    Some(_) => {}
                    None => {
                        lots.insert(asset, (lot, i));
                    }
                }
            }
        }

        // Which outputs become UTXOs matters only for lots, so it is worked out only when a BAP-02
        // asset moves (every output's asset has a source input, so its class is in `classes`).
        let created: HashSet<Hash> = if lots.is_empty() {
            HashSet::new()
        } else {
            utxo_effects(tx, false)
                .created
                .into_iter()
                .map(|(id, _)| id)
                .collect()
        };
        let mut lots_created = Vec::new();
        for (o, (out, oid)) in tx.outputs().iter().zip(&ids.outputs).enumerate() {
            let asset = out.asset_id();
            let class = match classes.get(&asset) {
                Some(c) => *c,
                None if asset == AssetId::BTM => AssetClass::Bit,
                None => self.record(&asset)?.map_or(AssetClass::Bit, |r| r.class),
            };
            check_amount(class, out.amount().get(), "output", o)?;
            if class == AssetClass::Atomic && created.contains(&oid.id) {
                let lot = lots.get(&asset).map_or(LotId(oid.id), |(l, _)| *l);
                lots_created.push((oid.id, lot));
            }
        }

        for (id, _) in &lots_spent {
            if self.lots_added.remove(id).is_none() {
                self.lots_removed.insert(*id);
            }
        }
        for (asset, r) in &registered {
            self.registered.insert(*asset, *r);
        }
        for (id, lot) in &lots_created {
            self.lots_removed.remove(id);
            self.lots_added.insert(*id, *lot);
        }
        Ok(AssetChanges {
            registered,
            lots_spent,
            lots_created,
        })
    }
}

fn check_amount(class: AssetClass, amount: u64, what: &'static str, index: usize) -> Result<(), TxRejection> {
    if class.allows_amount(amount) {
        Ok(())
    } else {
        Err(TxRejection::AssetAmount {
            what,
            index,
            class,
            amount,
        })
    }
}

/// The asset changes `block` makes on top of `view`, checking every transaction's asset rules (the
/// same checks [`crate::validate_block`] makes). A block that breaks one is refused with the
/// transaction's position.
pub fn asset_changes(block: &Block, view: &dyn UtxoView) -> Result<AssetChanges, BlockRejection> {
    let height = block.header().height;
    let mut pass = AssetPass::new(view);
    let mut acc = BlockAssets::default();
    for (t, tx) in block.transactions().iter().enumerate() {
        let c = pass.tx(tx, height).map_err(|reason| BlockRejection::Tx {
            index: t,
            tx_id: tx.id(),
            reason,
        })?;
        acc.push(c);
    }
    Ok(acc.finish())
}

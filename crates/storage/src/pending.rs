//! Deferred state: the output and transaction-index writes of recently committed blocks, held in
//! memory as one [`Layer`] per block and written to their tables a slice of the key space at a
//! time ([`RedbStore::with_deferred_state`](crate::RedbStore::with_deferred_state)).
//!
//! Why: a full block spends and creates thousands of outputs under random keys (hashes), and each
//! commit rewrote and wrote out nearly every leaf page of the two tables it touched. With `n`
//! parts, the commit of block `h` writes part `h mod n` of every held block: each slice of the
//! tables collects `n` blocks' writes per rewrite of its pages, every commit writes about one
//! block's worth of keys (no commit stalls on a large flush), and an output created and spent
//! while held never reaches the table at all.
//!
//! Nothing is lost on a crash: every block's change set is committed durably with the block (the
//! `changes` table), and a store whose parts lag its tip (`state` in `meta`: per part, the height
//! the tables hold it through) writes them from the stored change sets on open. Readers see the
//! held blocks over the tables ([`Deferred::utxo`], [`Deferred::location`]), taken together with
//! the read transaction so that a view is always exactly one commit.

use std::collections::BTreeMap;
use std::sync::Arc;

use foldhash::HashMap;

use crate::codec::UTXO_LEN;

/// An encoded UTXO entry.
pub(crate) type UtxoValue = [u8; UTXO_LEN];
/// An encoded transaction location.
pub(crate) type LocationValue = [u8; 12];

/// What one block did to an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputChange {
    /// Created with this entry.
    Created(UtxoValue),
    /// Spent; it had this entry.
    Spent(UtxoValue),
}

/// One part of a block's table writes: those whose key falls in one slice of the key space. A
/// block's change set never both creates and spends one output (an output spent in its own block
/// is in neither list), so one change per key.
#[derive(Debug, Default)]
pub(crate) struct Part {
    /// Output ID → what the block did to it.
    pub(crate) outputs: HashMap<[u8; 32], OutputChange>,
    /// Transaction ID → its location.
    pub(crate) locations: HashMap<[u8; 32], LocationValue>,
}

/// The table writes of one held block, split into the parts of the key space.
#[derive(Debug)]
pub(crate) struct Layer {
    /// The block's height.
    pub(crate) height: u64,
    /// By [`part_of`] the key.
    pub(crate) parts: Vec<Part>,
}

impl Layer {
    /// An empty layer for the block at `height`, in `parts` parts (at least one).
    pub(crate) fn new(height: u64, parts: usize) -> Layer {
        Layer {
            height,
            parts: (0..parts.max(1)).map(|_| Part::default()).collect(),
        }
    }

    /// The part `key` belongs to.
    pub(crate) fn part_mut(&mut self, key: &[u8; 32]) -> &mut Part {
        let i = part_of(key, self.parts.len());
        &mut self.parts[i]
    }
}

/// Which of `parts` slices of the key space `key` falls in (by its first byte: the keys are
/// hashes, so the slices are even, and a slice is a run of adjacent leaf pages).
pub(crate) fn part_of(key: &[u8; 32], parts: usize) -> usize {
    (usize::from(key[0]) * parts.max(1)) / 256
}

/// The held blocks' writes as of one commit: what views read through and commits extend.
///
/// Each commit writes one part (`height mod parts`) of every held block to the tables, so every
/// commit writes about one block's worth of keys (no commit stalls on a large flush) while each
/// slice of the tables collects `parts` blocks' writes per rewrite of its pages.
#[derive(Debug, Clone, Default)]
pub(crate) struct Deferred {
    /// Held blocks, oldest first.
    pub(crate) layers: Vec<Arc<Layer>>,
    /// Per part: the height through which the tables hold that part (a layer above it is pending
    /// for that part). Empty when nothing is held (the tables hold everything through the tip).
    pub(crate) written: Vec<u64>,
    /// Moves on with every change of the tables or of the held blocks (`crate::recent`: what a
    /// view remembers of its reads is good for this version only).
    pub(crate) version: u64,
}

impl Deferred {
    /// The pending parts `p` of the held blocks, oldest first.
    fn pending(&self, p: usize) -> impl DoubleEndedIterator<Item = &Part> {
        let through = self.written.get(p).copied().unwrap_or(u64::MAX);
        self.layers
            .iter()
            .filter(move |l| l.height > through)
            .filter_map(move |l| l.parts.get(p))
    }

    /// The output `id` as the held blocks leave it: `Some(Some(entry))` unspent, `Some(None)`
    /// spent, `None` when none touched it (the table decides).
    pub(crate) fn utxo(&self, id: &[u8; 32]) -> Option<Option<UtxoValue>> {
        if self.layers.is_empty() {
            return None;
        }
        self.pending(part_of(id, self.written.len()))
            .rev()
            .find_map(|part| {
                part.outputs.get(id).map(|c| match c {
                    OutputChange::Created(v) => Some(*v),
                    OutputChange::Spent(_) => None,
                })
            })
    }

    /// The location of transaction `id` if a held block has it and the table does not yet.
    pub(crate) fn location(&self, id: &[u8; 32]) -> Option<LocationValue> {
        if self.layers.is_empty() {
            return None;
        }
        self.pending(part_of(id, self.written.len()))
            .rev()
            .find_map(|part| part.locations.get(id).copied())
    }

    /// Everything pending, merged (what the tables lack).
    pub(crate) fn merged(&self) -> Merged {
        let mut all = Merged::default();
        for p in 0..self.written.len() {
            let m = merge(self.pending(p));
            all.outputs.extend(m.outputs);
            all.locations.extend(m.locations);
        }
        all
    }

    /// Part `p` pending, then `next`'s part `p`, merged.
    pub(crate) fn merged_part(&self, p: usize, next: &Layer) -> Merged {
        merge(self.pending(p).chain(next.parts.get(p)))
    }

    /// Held blocks.
    pub(crate) fn blocks(&self) -> usize {
        self.layers.len()
    }
}

/// One write to the `utxos` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TableWrite {
    /// A new output (absent from the table).
    Insert(UtxoValue),
    /// An output the table holds with this entry, spent.
    Remove(UtxoValue),
    /// An output the table holds with the first entry, spent, then created again with the second
    /// (output IDs commit to their transaction, so a valid chain never does this; the store still
    /// writes what applying the blocks one by one would).
    Replace(UtxoValue, UtxoValue),
}

/// What a run of layers amounts to against the tables, in key order: one write per output the
/// run leaves changed (an output created and spent within the run is not there), and every
/// location.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Merged {
    pub(crate) outputs: BTreeMap<[u8; 32], TableWrite>,
    pub(crate) locations: BTreeMap<[u8; 32], LocationValue>,
}

impl Merged {
    /// Outputs the merged run adds to the table, less those it removes.
    pub(crate) fn net_outputs(&self) -> i128 {
        self.outputs
            .values()
            .map(|w| match w {
                TableWrite::Insert(_) => 1i128,
                TableWrite::Remove(_) => -1,
                TableWrite::Replace(..) => 0,
            })
            .sum()
    }
}

/// Merges the parts of held blocks, oldest first.
pub(crate) fn merge<'a>(parts: impl IntoIterator<Item = &'a Part>) -> Merged {
    let mut m = Merged::default();
    for layer in parts {
        for (id, change) in &layer.outputs {
            let before = m.outputs.get(id).copied();
            let after = match (*change, before) {
                (OutputChange::Created(v), Some(TableWrite::Remove(old))) => {
                    Some(TableWrite::Replace(old, v))
                }
                (OutputChange::Created(v), _) => Some(TableWrite::Insert(v)),
                // Created within the run: it never reaches the table.
                (OutputChange::Spent(_), Some(TableWrite::Insert(_))) => None,
                (OutputChange::Spent(_), Some(TableWrite::Replace(old, _))) => Some(TableWrite::Remove(old)),
                (OutputChange::Spent(old), _) => Some(TableWrite::Remove(old)),
            };
            match after {
                Some(w) => m.outputs.insert(*id, w),
                None => m.outputs.remove(id),
            };
        }
        m.locations.extend(layer.locations.iter().map(|(k, v)| (*k, *v)));
    }
    m
}

/// The table's entries (in key order) with the merged changes over them, in key order.
pub(crate) fn overlay<E>(
    table: impl Iterator<Item = Result<([u8; 32], UtxoValue), E>>,
    merged: &Merged,
) -> impl Iterator<Item = Result<([u8; 32], UtxoValue), E>> {
    let mut table = table.peekable();
    let mut changes = merged.outputs.iter().peekable();
    std::iter::from_fn(move || {
        loop {
            let next_change = changes.peek().map(|(k, _)| **k);
            let next_row = match table.peek() {
                Some(Ok((k, _))) => Some(*k),
                Some(Err(_)) => return table.next(),
                None => None,
            };
            match (next_row, next_change) {
                (None, None) => return None,
                (Some(_), None) => return table.next(),
                (Some(r), Some(c)) if r < c => return table.next(),
                (Some(r), Some(c)) if r == c => {
                    let (_, write) = changes.next()?;
                    let row = table.next()?;
                    match write {
                        TableWrite::Insert(v) | TableWrite::Replace(_, v) => {
                            return Some(row.map(|(k, _)| (k, *v)));
                        }
                        TableWrite::Remove(_) => {}
                    }
                }
                // A write below the next row (or past the last): an output the table lacks.
                (_, Some(_)) => {
                    let (k, write) = changes.next()?;
                    match write {
                        TableWrite::Insert(v) | TableWrite::Replace(_, v) => return Some(Ok((*k, *v))),
                        TableWrite::Remove(_) => {}
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use proptest::prelude::*;

    fn key(i: u8) -> [u8; 32] {
        [i; 32]
    }

    fn val(i: u8) -> UtxoValue {
        [i; UTXO_LEN]
    }

    fn layer(height: u64, outputs: &[(u8, OutputChange)], txs: &[u8]) -> Arc<Layer> {
        let mut l = Layer::new(height, 1);
        l.parts[0].outputs = outputs.iter().map(|(k, c)| (key(*k), *c)).collect();
        l.parts[0].locations = txs.iter().map(|t| (key(*t), [*t; 12])).collect();
        Arc::new(l)
    }

    #[test]
    fn newer_layers_win_and_created_then_spent_never_reaches_the_table() {
        use OutputChange::{Created, Spent};
        let d = Deferred {
            layers: vec![
                layer(1, &[(1, Created(val(1))), (2, Spent(val(2)))], &[7]),
                layer(2, &[(1, Spent(val(1))), (3, Created(val(3)))], &[8]),
            ],
            written: vec![0],
            version: 0,
        };
        assert_eq!(d.utxo(&key(1)), Some(None));
        assert_eq!(d.utxo(&key(2)), Some(None));
        assert_eq!(d.utxo(&key(3)), Some(Some(val(3))));
        assert_eq!(d.utxo(&key(4)), None);
        assert_eq!(d.location(&key(8)), Some([8; 12]));
        assert_eq!(d.location(&key(9)), None);
        assert_eq!(
            d.merged().outputs.into_iter().collect::<Vec<_>>(),
            vec![
                (key(2), TableWrite::Remove(val(2))),
                (key(3), TableWrite::Insert(val(3)))
            ]
        );
        // Once the part is written through height 1, only block 2 is pending for it.
        let d = Deferred {
            written: vec![1],
            ..d
        };
        assert_eq!(d.utxo(&key(2)), None);
        assert_eq!(d.location(&key(7)), None);
        assert_eq!(d.merged().outputs.len(), 2);
    }

    #[test]
    fn parts_split_the_key_space_evenly_in_order() {
        assert_eq!(part_of(&[0; 32], 8), 0);
        assert_eq!(part_of(&[255; 32], 8), 7);
        assert_eq!(part_of(&[31; 32], 8), 0);
        assert_eq!(part_of(&[32; 32], 8), 1);
        assert_eq!(part_of(&[200; 32], 1), 0);
        assert_eq!(part_of(&[200; 32], 0), 0);
    }

    proptest! {
        /// Committing blocks the way the store does (each commit writes one part of every held
        /// block), the tables read through the held blocks, the overlay iteration, and writing
        /// everything held at the end all give what applying the blocks one by one gives.
        #[test]
        fn held_parts_match_applying_blocks_in_turn(
            initial in prop::collection::btree_set(any::<u8>(), 0..40),
            blocks in prop::collection::vec(prop::collection::vec((any::<u8>(), any::<bool>()), 0..16), 0..10),
            parts in prop_oneof![Just(1usize), Just(3), Just(8)],
        ) {
            let mut truth: BTreeMap<[u8; 32], UtxoValue> =
                initial.iter().map(|i| (key(*i), val(*i))).collect();
            let mut table = truth.clone();
            let mut d = Deferred { layers: Vec::new(), written: vec![0; parts], version: 0 };
            let mut next_value = 0u8;
            for (h, block) in (1u64..).zip(blocks) {
                let mut l = Layer::new(h, parts);
                for (k, spend) in block {
                    let id = key(k);
                    if l.part_mut(&id).outputs.contains_key(&id) {
                        continue;
                    }
                    match (spend, truth.get(&id)) {
                        (true, Some(v)) => {
                            l.part_mut(&id).outputs.insert(id, OutputChange::Spent(*v));
                        }
                        (false, None) => {
                            next_value = next_value.wrapping_add(1);
                            l.part_mut(&id).outputs.insert(id, OutputChange::Created(val(next_value)));
                        }
                        _ => {}
                    }
                }
                for part in &l.parts {
                    for (id, c) in &part.outputs {
                        match c {
                            OutputChange::Created(v) => { truth.insert(*id, *v); }
                            OutputChange::Spent(_) => { truth.remove(id); }
                        }
                    }
                }
                // The commit of block h writes part h mod parts.
                let r = usize::try_from(h).unwrap() % parts;
                for (id, w) in &d.merged_part(r, &l).outputs {
                    prop_assert_eq!(part_of(id, parts), r);
                    match w {
                        TableWrite::Insert(v) => prop_assert!(table.insert(*id, *v).is_none()),
                        TableWrite::Remove(v) => prop_assert_eq!(table.remove(id), Some(*v)),
                        TableWrite::Replace(old, v) => prop_assert_eq!(table.insert(*id, *v), Some(*old)),
                    }
                }
                d.layers.push(Arc::new(l));
                d.written[r] = h;
                let oldest = d.written.iter().copied().min().unwrap();
                d.layers.retain(|l| l.height > oldest);
                prop_assert!(d.blocks() < parts.max(2));
                // Reads through the held blocks.
                for i in 0..=255u8 {
                    let through = match d.utxo(&key(i)) {
                        Some(v) => v,
                        None => table.get(&key(i)).copied(),
                    };
                    prop_assert_eq!(through, truth.get(&key(i)).copied());
                }
                // The overlay iteration.
                let m = d.merged();
                let rows = table.iter().map(|(k, v)| Ok::<_, ()>((*k, *v)));
                let seen: Vec<([u8; 32], UtxoValue)> = overlay(rows, &m).map(Result::unwrap).collect();
                prop_assert_eq!(&seen, &truth.iter().map(|(k, v)| (*k, *v)).collect::<Vec<_>>());
                let net = i128::try_from(table.len()).unwrap() + m.net_outputs();
                prop_assert_eq!(net, i128::try_from(truth.len()).unwrap());
            }
            // Everything held, written at once (an unwind, or a reopen).
            for (id, w) in &d.merged().outputs {
                match w {
                    TableWrite::Insert(v) => prop_assert!(table.insert(*id, *v).is_none()),
                    TableWrite::Remove(v) => prop_assert_eq!(table.remove(id), Some(*v)),
                    TableWrite::Replace(old, v) => prop_assert_eq!(table.insert(*id, *v), Some(*old)),
                }
            }
            prop_assert_eq!(table, truth);
        }
    }
}

//! Outputs read recently, remembered as of one commit of a store that holds its writes
//! ([`RedbStore::with_deferred_state`](crate::RedbStore::with_deferred_state)).
//!
//! Why: a validator reads each spent output three times, all from the UTXO table's B-tree: when
//! the transaction is admitted, when the block holding it is validated, and when that block is
//! committed (the store checks every spent output against what it holds). A B-tree read walks
//! several pages, each a lookup in redb's page cache; a hash lookup here is a fraction of that.
//!
//! Correctness rests on the version: every change of the tables or the held blocks moves
//! [`Deferred::version`](crate::pending::Deferred) on, under the lock that commits hold, and a
//! view reads (and fills) these entries only while they are of its own version. A commit carries
//! them to its new version by forgetting every output its block changed; anything else (an
//! unwind, writing out what is held) forgets them all.

use foldhash::{HashMap, HashMapExt as _};

use crate::pending::UtxoValue;

/// Most outputs remembered; reaching it forgets them all (about 24 MiB of map at this size). A
/// loaded validator admits a few thousand transactions per block, and a transaction waits in
/// its pool for a few dozen blocks at most before it is committed.
pub(crate) const MAX_REMEMBERED: usize = 1 << 19;

/// What the held blocks over the tables said of each output, as of [`RecentReads::version`].
#[derive(Debug, Default)]
pub(crate) struct RecentReads {
    /// The commit (`Deferred::version`) the entries are true at.
    version: u64,
    /// Output ID → its entry, or `None` when it was not unspent.
    outputs: HashMap<[u8; 32], Option<UtxoValue>>,
}

impl RecentReads {
    /// What a view of `version` read of output `id` before, if it is remembered.
    pub(crate) fn get(&self, version: u64, id: &[u8; 32]) -> Option<Option<UtxoValue>> {
        if self.version != version {
            return None;
        }
        self.outputs.get(id).copied()
    }

    /// Remembers what a view of `version` read of output `id` (ignored when the store has moved
    /// on since the view was taken).
    pub(crate) fn put(&mut self, version: u64, id: [u8; 32], value: Option<UtxoValue>) {
        if self.version != version {
            return;
        }
        if self.outputs.len() >= MAX_REMEMBERED {
            self.outputs.clear();
        }
        self.outputs.insert(id, value);
    }

    /// A commit took the store from version `from` to `to`, changing the outputs `changed`:
    /// everything else stays true. If the entries were not of `from`, they are all forgotten.
    pub(crate) fn committed<'a>(
        &mut self,
        from: u64,
        to: u64,
        changed: impl IntoIterator<Item = &'a [u8; 32]>,
    ) {
        if self.version == from {
            for id in changed {
                self.outputs.remove(id);
            }
        } else {
            self.outputs = HashMap::new();
        }
        self.version = to;
    }

    /// The store changed in another way (now at `to`): forget everything.
    pub(crate) fn reset(&mut self, to: u64) {
        self.outputs = HashMap::new();
        self.version = to;
    }

    /// Number of outputs remembered.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.outputs.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_serve_only_their_own_version_and_a_commit_forgets_what_it_changed() {
        let mut r = RecentReads::default();
        r.put(0, [1; 32], Some([7; 9]));
        r.put(0, [2; 32], None);
        // A view of another version neither reads nor fills.
        r.put(5, [3; 32], Some([9; 9]));
        assert_eq!(r.len(), 2);
        assert_eq!(r.get(0, &[1; 32]), Some(Some([7; 9])));
        assert_eq!(r.get(0, &[2; 32]), Some(None));
        assert_eq!(r.get(1, &[1; 32]), None);
        // Commit 0 → 1 spent output 1: forgotten; output 2 is still absent at version 1.
        r.committed(0, 1, [&[1; 32]]);
        assert_eq!(r.get(1, &[1; 32]), None);
        assert_eq!(r.get(1, &[2; 32]), Some(None));
        assert_eq!(r.get(0, &[2; 32]), None, "an older view no longer reads them");
        // A commit from a version the entries are not of forgets everything.
        r.committed(7, 8, std::iter::empty());
        assert_eq!(r.len(), 0);
        r.put(8, [4; 32], None);
        r.reset(9);
        assert_eq!(r.get(9, &[4; 32]), None);
    }

    #[test]
    fn the_map_is_bounded() {
        let mut r = RecentReads::default();
        for i in 0..=MAX_REMEMBERED {
            let mut id = [0u8; 32];
            id[..8].copy_from_slice(&(i as u64).to_le_bytes());
            r.put(0, id, None);
        }
        assert!(r.len() <= MAX_REMEMBERED);
        assert_eq!(r.len(), 1, "reaching the bound starts again");
    }
}

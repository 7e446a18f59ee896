//! A small most-recently-used store of Tensority caches, one per seed, shared by `Arc`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use types::Hash;

use crate::tensority::Cache;

/// Caches kept by [`CacheStore::default`]: the current epoch's and the previous one's (a reorg
/// across an epoch boundary, or a block of the next epoch arriving early).
pub const DEFAULT_EPOCHS_KEPT: usize = 2;

/// Keeps the caches of the last few seeds used (32 MiB each), building a missing one on demand.
#[derive(Debug)]
pub struct CacheStore {
    capacity: usize,
    entries: Mutex<VecDeque<Arc<Cache>>>,
}

impl Default for CacheStore {
    fn default() -> Self {
        CacheStore::new(DEFAULT_EPOCHS_KEPT)
    }
}

impl CacheStore {
    /// A store keeping at most `capacity` caches (at least one).
    pub fn new(capacity: usize) -> CacheStore {
        CacheStore {
            capacity: capacity.max(1),
            entries: Mutex::new(VecDeque::new()),
        }
    }

    /// The cache for `seed`, built (under the store's lock, so at most once) if not held. The least
    /// recently used cache is dropped from the store when it is full; callers still holding its
    /// `Arc` keep it alive.
    pub fn get(&self, seed: &Hash) -> Arc<Cache> {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(pos) = entries.iter().position(|c| c.seed() == seed)
            && let Some(found) = entries.remove(pos)
        {
            entries.push_front(Arc::clone(&found));
            return found;
        }
        let built = Arc::new(Cache::new(seed));
        entries.push_front(Arc::clone(&built));
        entries.truncate(self.capacity);
        built
    }

    /// Seeds currently held, most recently used first.
    pub fn seeds(&self) -> Vec<Hash> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.iter().map(|c| *c.seed()).collect()
    }
}

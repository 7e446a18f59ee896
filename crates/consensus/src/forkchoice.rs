//! Proof-of-work fork choice as a pure state machine: a block tree with cumulative work, the heaviest
//! tip, the reorganisation path when a heavier branch arrives, and a bounded pool of orphans.
//!
//! # Consensus
//! Bytom v1.1.0 keeps the branch with the most cumulative work (`protocol/state/blockindex.go`:
//! `WorkSum = parent.WorkSum + CalcWork(bits)`; `protocol/block.go` switches only when a new block's
//! `WorkSum` is strictly greater than the best node's), so a tie keeps the tip seen first.
//!
//! The caller validates blocks (header rules, proof of work, transactions) before inserting them here;
//! this machine only orders them. Inputs are [`BlockMeta`]s; each [`ForkChoice::insert`] returns an
//! [`Inserted`] value saying which blocks joined the tree and, when the best tip moved, which blocks to
//! unwind and which to apply, in order.

use std::collections::{HashMap, HashSet, VecDeque};

use types::Hash;
use types::difficulty::{BigUint, work_from_bits};

/// What fork choice needs of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockMeta {
    /// The block hash.
    pub hash: Hash,
    /// The previous block's hash.
    pub parent: Hash,
    /// Height.
    pub height: u64,
    /// Compact difficulty; the block's work is [`work_from_bits`] of it.
    pub bits: u64,
}

/// How to build a [`ForkChoice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForkChoiceConfig {
    /// The most orphans (blocks whose parent is unknown) held; past it the oldest is dropped.
    pub max_orphans: usize,
}

impl Default for ForkChoiceConfig {
    fn default() -> Self {
        ForkChoiceConfig { max_orphans: 1024 }
    }
}

/// Why a block is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ForkChoiceError {
    /// The block is already in the tree or the orphan pool.
    #[error("block {0} is already known")]
    Duplicate(Hash),
    /// The block's height is not its parent's plus one.
    #[error("block {hash} at height {height} does not follow its parent at height {parent_height}")]
    BadHeight {
        /// The block.
        hash: Hash,
        /// Its height.
        height: u64,
        /// Its parent's height.
        parent_height: u64,
    },
}

/// A move of the best tip: unwind `unwind` (old tip first, down to but excluding the fork point),
/// then apply `apply` (the fork point's child first, up to the new tip).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TipChange {
    /// Blocks to unwind, newest first; empty when the new tip extends the old one.
    pub unwind: Vec<Hash>,
    /// Blocks to apply, oldest first.
    pub apply: Vec<Hash>,
}

impl TipChange {
    /// Whether blocks of the old best chain are unwound.
    pub fn is_reorg(&self) -> bool {
        !self.unwind.is_empty()
    }
}

/// What an insertion did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[must_use]
pub struct Inserted {
    /// Blocks that joined the tree: the block, then orphans it connected, parents before children.
    pub connected: Vec<Hash>,
    /// The block waits in the orphan pool for its parent.
    pub orphaned: bool,
    /// Orphans dropped: evicted to respect the bound, or found not to follow their parent's height.
    pub dropped: Vec<Hash>,
    /// The move of the best tip, if any.
    pub tip_change: Option<TipChange>,
}

#[derive(Debug, Clone)]
struct Node {
    parent: Hash,
    height: u64,
    total_work: BigUint,
}

/// The block tree, its heaviest tip and the orphan pool.
#[derive(Debug, Clone)]
pub struct ForkChoice {
    nodes: HashMap<Hash, Node>,
    root: Hash,
    tip: Hash,
    orphans: HashMap<Hash, BlockMeta>,
    orphans_by_parent: HashMap<Hash, Vec<Hash>>,
    orphan_order: VecDeque<Hash>,
    max_orphans: usize,
}

fn work(bits: u64) -> BigUint {
    work_from_bits(bits).to_biguint().unwrap_or_default()
}

impl ForkChoice {
    /// A tree rooted at a trusted block (genesis or a checkpoint) of cumulative work `total_work`.
    pub fn new(root: Hash, root_height: u64, total_work: BigUint, config: ForkChoiceConfig) -> ForkChoice {
        ForkChoice {
            nodes: HashMap::from([(
                root,
                Node {
                    parent: Hash::ZERO,
                    height: root_height,
                    total_work,
                },
            )]),
            root,
            tip: root,
            orphans: HashMap::new(),
            orphans_by_parent: HashMap::new(),
            orphan_order: VecDeque::new(),
            max_orphans: config.max_orphans,
        }
    }

    /// A tree rooted at a genesis block: its own work only.
    pub fn from_genesis(genesis: Hash, bits: u64, config: ForkChoiceConfig) -> ForkChoice {
        ForkChoice::new(genesis, 0, work(bits), config)
    }

    /// The heaviest tip.
    pub fn tip(&self) -> Hash {
        self.tip
    }

    /// The heaviest tip's height.
    pub fn tip_height(&self) -> u64 {
        self.nodes.get(&self.tip).map_or(0, |n| n.height)
    }

    /// Cumulative work of a block in the tree.
    pub fn total_work(&self, hash: &Hash) -> Option<&BigUint> {
        self.nodes.get(hash).map(|n| &n.total_work)
    }

    /// Whether the block is in the tree (not counting orphans).
    pub fn contains(&self, hash: &Hash) -> bool {
        self.nodes.contains_key(hash)
    }

    /// Whether the block waits in the orphan pool.
    pub fn is_orphan(&self, hash: &Hash) -> bool {
        self.orphans.contains_key(hash)
    }

    /// Orphans held.
    pub fn orphan_count(&self) -> usize {
        self.orphans.len()
    }

    /// Blocks in the tree.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Never true: the root is always held.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Whether `hash` is on the best chain (the tip and its ancestors).
    pub fn is_on_best_chain(&self, hash: &Hash) -> bool {
        let Some(node) = self.nodes.get(hash) else {
            return false;
        };
        self.ancestor_at(self.tip, node.height) == Some(*hash)
    }

    /// The ancestor of `from` (or `from` itself) at `height`.
    pub fn ancestor_at(&self, from: Hash, height: u64) -> Option<Hash> {
        let mut cursor = from;
        loop {
            let node = self.nodes.get(&cursor)?;
            if node.height == height {
                return Some(cursor);
            }
            if node.height < height || cursor == self.root {
                return None;
            }
            cursor = node.parent;
        }
    }

    /// Adds a validated block. A block whose parent is unknown waits in the orphan pool and joins the
    /// tree, with any orphans descending from it, when the parent arrives.
    pub fn insert(&mut self, block: BlockMeta) -> Result<Inserted, ForkChoiceError> {
        if self.nodes.contains_key(&block.hash) || self.orphans.contains_key(&block.hash) {
            return Err(ForkChoiceError::Duplicate(block.hash));
        }
        let mut out = Inserted::default();
        let Some(parent) = self.nodes.get(&block.parent) else {
            self.add_orphan(block, &mut out);
            return Ok(out);
        };
        if block.height != parent.height.saturating_add(1) {
            return Err(ForkChoiceError::BadHeight {
                hash: block.hash,
                height: block.height,
                parent_height: parent.height,
            });
        }
        let old_tip = self.tip;
        let mut queue = VecDeque::from([block]);
        while let Some(b) = queue.pop_front() {
            let Some(parent) = self.nodes.get(&b.parent) else {
                continue;
            };
            if b.height != parent.height.saturating_add(1) {
                out.dropped.push(b.hash);
                self.drop_descendant_orphans(b.hash, &mut out);
                continue;
            }
            let total_work = &parent.total_work + work(b.bits);
            let best = self.nodes.get(&self.tip).map(|n| &n.total_work);
            let heavier = best.is_none_or(|w| total_work > *w);
            self.nodes.insert(
                b.hash,
                Node {
                    parent: b.parent,
                    height: b.height,
                    total_work,
                },
            );
            if heavier {
                self.tip = b.hash;
            }
            out.connected.push(b.hash);
            for child in self.take_orphans_of(&b.hash) {
                queue.push_back(child);
            }
        }
        if self.tip != old_tip {
            out.tip_change = Some(self.path(old_tip, self.tip));
        }
        Ok(out)
    }

    /// Forgets blocks more than `keep_depth` below the tip: the best-chain block at
    /// `tip height − keep_depth` becomes the root, and every block not descending from it (older
    /// blocks and branches forking below it) is dropped. Returns how many blocks were forgotten.
    /// Blocks building on forgotten ones will wait as orphans.
    pub fn prune(&mut self, keep_depth: u64) -> usize {
        let Some(root_height) = self.tip_height().checked_sub(keep_depth) else {
            return 0;
        };
        let Some(new_root) = self.ancestor_at(self.tip, root_height) else {
            return 0;
        };
        if new_root == self.root {
            return 0;
        }
        let mut by_height: Vec<(u64, Hash)> = self.nodes.iter().map(|(h, n)| (n.height, *h)).collect();
        by_height.sort_unstable();
        let mut keep: HashSet<Hash> = HashSet::from([new_root]);
        for (height, hash) in by_height {
            if height > root_height && self.nodes.get(&hash).is_some_and(|n| keep.contains(&n.parent)) {
                keep.insert(hash);
            }
        }
        let before = self.nodes.len();
        self.nodes.retain(|h, _| keep.contains(h));
        self.root = new_root;
        before - self.nodes.len()
    }

    fn add_orphan(&mut self, block: BlockMeta, out: &mut Inserted) {
        out.orphaned = true;
        self.orphans.insert(block.hash, block);
        self.orphans_by_parent
            .entry(block.parent)
            .or_default()
            .push(block.hash);
        self.orphan_order.push_back(block.hash);
        while self.orphans.len() > self.max_orphans {
            let Some(oldest) = self.orphan_order.pop_front() else {
                break;
            };
            if self.remove_orphan(&oldest).is_some() {
                out.dropped.push(oldest);
                if oldest == block.hash {
                    out.orphaned = false;
                }
            }
        }
    }

    fn remove_orphan(&mut self, hash: &Hash) -> Option<BlockMeta> {
        let meta = self.orphans.remove(hash)?;
        if let Some(siblings) = self.orphans_by_parent.get_mut(&meta.parent) {
            siblings.retain(|h| h != hash);
            if siblings.is_empty() {
                self.orphans_by_parent.remove(&meta.parent);
            }
        }
        self.orphan_order.retain(|h| h != hash);
        Some(meta)
    }

    fn take_orphans_of(&mut self, parent: &Hash) -> Vec<BlockMeta> {
        let children = self.orphans_by_parent.remove(parent).unwrap_or_default();
        children.iter().filter_map(|h| self.remove_orphan(h)).collect()
    }

    fn drop_descendant_orphans(&mut self, hash: Hash, out: &mut Inserted) {
        let mut stack = vec![hash];
        while let Some(h) = stack.pop() {
            for child in self.take_orphans_of(&h) {
                out.dropped.push(child.hash);
                stack.push(child.hash);
            }
        }
    }

    /// The blocks to unwind from `from` and apply to reach `to`.
    fn path(&self, from: Hash, to: Hash) -> TipChange {
        let height = |h: &Hash| self.nodes.get(h).map_or(0, |n| n.height);
        let parent = |h: &Hash| self.nodes.get(h).map(|n| n.parent);
        let (mut a, mut b) = (from, to);
        let (mut unwind, mut apply) = (Vec::new(), Vec::new());
        let mut guard = HashSet::new();
        while a != b {
            if !guard.insert((a, b)) {
                break;
            }
            if height(&a) >= height(&b) && a != self.root {
                unwind.push(a);
                match parent(&a) {
                    Some(p) => a = p,
                    None => break,
                }
            } else {
                apply.push(b);
                match parent(&b) {
                    Some(p) => b = p,
                    None => break,
                }
            }
        }
        apply.reverse();
        TipChange { unwind, apply }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bits of target 2^255 (work 1) and 2^254 (work 3): the 2^256 / (target + 1) figures.
    const EASY: u64 = 0x2000_0000_0080_0000;
    const HARD: u64 = 0x2000_0000_0040_0000;

    fn h(n: u32) -> Hash {
        let mut b = [0u8; 32];
        b[..4].copy_from_slice(&n.to_be_bytes());
        b[31] = 1;
        Hash(b)
    }

    fn meta(hash: u32, parent: u32, height: u64, bits: u64) -> BlockMeta {
        BlockMeta {
            hash: h(hash),
            parent: h(parent),
            height,
            bits,
        }
    }

    fn fc() -> ForkChoice {
        ForkChoice::from_genesis(h(0), EASY, ForkChoiceConfig { max_orphans: 3 })
    }

    #[test]
    fn work_values_used_here() {
        assert_eq!(work(EASY), BigUint::from(1u8));
        assert_eq!(work(HARD), BigUint::from(3u8));
    }

    #[test]
    fn extending_the_tip_applies_without_unwinding() {
        let mut f = fc();
        let out = f.insert(meta(1, 0, 1, EASY)).unwrap();
        assert_eq!(out.connected, vec![h(1)]);
        assert_eq!(
            out.tip_change,
            Some(TipChange {
                unwind: vec![],
                apply: vec![h(1)]
            })
        );
        assert_eq!(f.tip(), h(1));
        assert_eq!(f.total_work(&h(1)), Some(&BigUint::from(2u8)));
        assert_eq!(
            f.insert(meta(1, 0, 1, EASY)),
            Err(ForkChoiceError::Duplicate(h(1)))
        );
        assert_eq!(
            f.insert(meta(9, 1, 5, EASY)),
            Err(ForkChoiceError::BadHeight {
                hash: h(9),
                height: 5,
                parent_height: 1
            })
        );
    }

    #[test]
    fn ties_keep_the_first_tip_and_more_work_reorgs() {
        let mut f = fc();
        // Main: 0 - 1 - 2 - 3 (easy). Side from 1: 12 - 13 (easy): a tie at height 3.
        for (hash, parent, height) in [(1, 0, 1), (2, 1, 2), (3, 2, 3)] {
            let _ = f.insert(meta(hash, parent, height, EASY)).unwrap();
        }
        let out = f.insert(meta(12, 1, 2, EASY)).unwrap();
        assert_eq!(out.tip_change, None);
        let out = f.insert(meta(13, 12, 3, EASY)).unwrap();
        assert_eq!(out.tip_change, None, "a tie keeps the first seen");
        assert_eq!(f.tip(), h(3));
        // A harder block on the side branch: more work though not longer than needed.
        let out = f.insert(meta(14, 12, 3, HARD)).unwrap();
        let change = out.tip_change.unwrap();
        assert!(change.is_reorg());
        assert_eq!(change.unwind, vec![h(3), h(2)]);
        assert_eq!(change.apply, vec![h(12), h(14)]);
        assert_eq!(f.tip(), h(14));
        assert!(f.is_on_best_chain(&h(1)));
        assert!(!f.is_on_best_chain(&h(2)));
        // Fewer blocks but more work wins: a single hard block from genesis ties nothing here (work 4
        // vs 1 + 1 + 1 + 3 = 6), so nothing moves.
        let out = f.insert(meta(20, 0, 1, HARD)).unwrap();
        assert_eq!(out.tip_change, None);
    }

    #[test]
    fn orphans_connect_when_their_parent_arrives() {
        let mut f = fc();
        // 3 and 2 arrive before 1.
        let out = f.insert(meta(3, 2, 3, EASY)).unwrap();
        assert!(out.orphaned && out.connected.is_empty());
        let _ = f.insert(meta(2, 1, 2, EASY)).unwrap();
        assert_eq!(f.orphan_count(), 2);
        let out = f.insert(meta(1, 0, 1, EASY)).unwrap();
        assert_eq!(out.connected, vec![h(1), h(2), h(3)]);
        assert_eq!(
            out.tip_change,
            Some(TipChange {
                unwind: vec![],
                apply: vec![h(1), h(2), h(3)]
            })
        );
        assert_eq!(f.orphan_count(), 0);
        assert_eq!(f.tip_height(), 3);
    }

    #[test]
    fn the_orphan_pool_is_bounded_oldest_first() {
        let mut f = fc();
        for i in 0..3u32 {
            let _ = f.insert(meta(100 + i, 50 + i, 7, EASY)).unwrap();
        }
        assert_eq!(f.orphan_count(), 3);
        let out = f.insert(meta(200, 60, 7, EASY)).unwrap();
        assert!(out.orphaned);
        assert_eq!(out.dropped, vec![h(100)]);
        assert_eq!(f.orphan_count(), 3);
        assert!(!f.is_orphan(&h(100)));
        assert!(f.is_orphan(&h(200)));
        // With no room at all, a new orphan is dropped at once.
        let mut none = ForkChoice::from_genesis(h(0), EASY, ForkChoiceConfig { max_orphans: 0 });
        let out = none.insert(meta(5, 4, 2, EASY)).unwrap();
        assert!(!out.orphaned);
        assert_eq!(out.dropped, vec![h(5)]);
    }

    #[test]
    fn an_orphan_at_the_wrong_height_is_dropped_with_its_descendants() {
        let mut f = fc();
        let _ = f.insert(meta(2, 1, 5, EASY)).unwrap();
        let _ = f.insert(meta(3, 2, 6, EASY)).unwrap();
        let out = f.insert(meta(1, 0, 1, EASY)).unwrap();
        assert_eq!(out.connected, vec![h(1)]);
        assert_eq!(out.dropped, vec![h(2), h(3)]);
        assert_eq!(f.orphan_count(), 0);
    }

    #[test]
    fn pruning_keeps_the_recent_best_chain_and_its_branches() {
        let mut f = fc();
        // Main 0..=6; a branch from 1 (dies with pruning) and one from 5 (kept).
        for i in 1..=6u32 {
            let _ = f.insert(meta(i, i - 1, u64::from(i), EASY)).unwrap();
        }
        let _ = f.insert(meta(31, 1, 2, EASY)).unwrap();
        let _ = f.insert(meta(55, 5, 6, EASY)).unwrap();
        assert_eq!(f.len(), 9);
        assert_eq!(f.prune(3), 4, "0, 1, 2 and 31 are below or beside the new root 3");
        assert_eq!(f.len(), 5);
        assert!(f.contains(&h(3)) && f.contains(&h(55)) && !f.contains(&h(31)) && !f.contains(&h(2)));
        assert!(f.is_on_best_chain(&h(3)));
        assert_eq!(f.total_work(&h(6)), Some(&BigUint::from(7u8)), "work is kept");
        // A child of a forgotten block waits as an orphan; the tree still grows and reorgs above.
        let out = f.insert(meta(32, 31, 3, EASY)).unwrap();
        assert!(out.orphaned);
        let out = f.insert(meta(56, 55, 7, HARD)).unwrap();
        assert_eq!(out.tip_change.unwrap().unwind, vec![h(6)]);
        assert_eq!(f.prune(100), 0, "nothing that deep");
    }

    proptest! {
        /// Whatever the arrival order of a random tree, the tip is a heaviest block, the first such
        /// one connected, and replaying every tip change from genesis lands on the tip.
        #[test]
        fn any_arrival_order_gives_the_heaviest_tip(
            shape in proptest::collection::vec((0usize..64, any::<bool>()), 1..24),
            order in any::<u64>(),
        ) {
            // Block i + 1's parent is one of the blocks before it (index 0 = genesis).
            let mut metas: Vec<BlockMeta> = Vec::new();
            let mut heights = vec![0u64];
            for (i, (p, hard)) in shape.iter().enumerate() {
                let parent = p % (i + 1);
                let height = heights[parent] + 1;
                heights.push(height);
                let id = u32::try_from(i + 1).unwrap();
                let parent_id = u32::try_from(parent).unwrap();
                metas.push(meta(id, parent_id, height, if *hard { HARD } else { EASY }));
            }
            // A deterministic shuffle.
            let mut shuffled = metas.clone();
            let mut x = order | 1;
            for i in (1..shuffled.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                let j = usize::try_from(x % (i as u64 + 1)).unwrap();
                shuffled.swap(i, j);
            }
            let mut f = ForkChoice::from_genesis(h(0), EASY, ForkChoiceConfig { max_orphans: 64 });
            let mut best_chain: Vec<Hash> = vec![];
            for m in &shuffled {
                let out = f.insert(*m).unwrap();
                if let Some(change) = out.tip_change {
                    for u in &change.unwind {
                        prop_assert_eq!(best_chain.pop(), Some(*u));
                    }
                    best_chain.extend(change.apply);
                }
            }
            prop_assert_eq!(f.orphan_count(), 0);
            prop_assert_eq!(f.len(), metas.len() + 1);
            prop_assert_eq!(best_chain.last().copied().unwrap_or(h(0)), f.tip());
            let max = metas
                .iter()
                .map(|m| f.total_work(&m.hash).unwrap().clone())
                .chain([BigUint::from(1u8)])
                .max()
                .unwrap();
            prop_assert_eq!(f.total_work(&f.tip()).unwrap(), &max);
        }
    }
}

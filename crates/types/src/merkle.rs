//! The reference's Merkle trees: leaves hashed with prefix `0x00`, interior nodes with `0x01`, and a
//! list of `n > 1` leaves split at the largest power of two below `n`. An empty tree's root is
//! SHA3-256 of the empty string.
//!
//! Two trees commit a block: over transaction IDs, and over the per-transaction status entries. A status
//! leaf is the JSON the reference writes for its status record: `{}` for success and
//! `{"status_fail":true}` for a transaction that only paid gas.
//!
//! Inclusion proofs follow the reference's `GetTxMerkleTreeProof` / `ValidateTxMerkleTreeProof`: a
//! depth-first list of hashes with one flag per visited node ([`FLAG_ASSIST`], [`FLAG_TX_PARENT`],
//! [`FLAG_TX_LEAF`]).

use std::collections::{BTreeSet, VecDeque};

use sha3::{Digest, Sha3_256};

use crate::hash::Hash;

/// Proof flag: the hash is a sibling subtree's root, used as given.
pub const FLAG_ASSIST: u8 = 0;
/// Proof flag: an interior node on the path; its two children follow.
pub const FLAG_TX_PARENT: u8 = 1;
/// Proof flag: the hash is the leaf hash of a proven item.
pub const FLAG_TX_LEAF: u8 = 2;

/// How deep a proof may recurse when validated. A real tree of `n` leaves is at most `ceil(log2 n)`
/// deep, so this only stops hostile proofs from exhausting the stack.
const MAX_PROOF_DEPTH: usize = 128;

/// SHA3-256 of the empty string: the root of an empty tree.
pub fn empty_root() -> Hash {
    Hash(Sha3_256::digest([]).into())
}

/// Leaf hash of raw leaf bytes: SHA3-256(0x00 || bytes).
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    let mut h = Sha3_256::new();
    h.update([0x00]);
    h.update(bytes);
    Hash(h.finalize().into())
}

/// Interior hash: SHA3-256(0x01 || left || right).
pub fn interior_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha3_256::new();
    h.update([0x01]);
    h.update(left.0);
    h.update(right.0);
    Hash(h.finalize().into())
}

/// The JSON bytes the reference hashes as a transaction-status leaf.
pub fn status_leaf_bytes(status_fail: bool) -> &'static [u8] {
    if status_fail {
        br#"{"status_fail":true}"#
    } else {
        b"{}"
    }
}

/// Largest power of two strictly below `n` (for `n >= 2`).
fn split_point(n: usize) -> usize {
    if n.is_power_of_two() {
        n / 2
    } else {
        1usize << (usize::BITS - 1 - n.leading_zeros())
    }
}

fn root_of_leaves(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [one] => *one,
        _ => {
            let k = split_point(leaves.len());
            let (l, r) = leaves.split_at(k);
            interior_hash(&root_of_leaves(l), &root_of_leaves(r))
        }
    }
}

/// Root over transaction IDs (each leaf is the ID's 32 bytes).
pub fn tx_merkle_root(tx_ids: &[Hash]) -> Hash {
    let leaves: Vec<Hash> = tx_ids.iter().map(|id| leaf_hash(&id.0)).collect();
    root_of_leaves(&leaves)
}

/// Root over transaction statuses (`true` = the transaction failed and only paid gas).
pub fn status_merkle_root(statuses: &[bool]) -> Hash {
    if let Some(first) = statuses.first()
        && statuses.iter().all(|s| s == first)
    {
        // Every block whose transactions all succeeded: a logarithmic number of hashes, not 2n.
        return root_of_copies(leaf_hash(status_leaf_bytes(*first)), statuses.len());
    }
    let leaves: Vec<Hash> = statuses
        .iter()
        .map(|s| leaf_hash(status_leaf_bytes(*s)))
        .collect();
    root_of_leaves(&leaves)
}

/// [`root_of_leaves`] of `n >= 1` copies of `leaf`. The tree splits `n` at a power of two `k`,
/// and the root of `k` copies is `leaf` hashed with itself `log2 k` times, so only the right
/// side recurses.
fn root_of_copies(leaf: Hash, n: usize) -> Hash {
    // The root of 2^level copies, hashing up from `leaf` as far as needed.
    fn perfect(roots: &mut Vec<Hash>, level: u32) -> Hash {
        let mut top = roots.last().copied().unwrap_or_default();
        while roots.len() <= level as usize {
            top = interior_hash(&top, &top);
            roots.push(top);
        }
        roots.get(level as usize).copied().unwrap_or(top)
    }
    let mut roots = vec![leaf];
    // Down the right edge: every left subtree met on the way is perfect.
    let mut lefts = Vec::new();
    let mut rest = n.max(1);
    while !rest.is_power_of_two() {
        let k = split_point(rest);
        lefts.push(perfect(&mut roots, k.trailing_zeros()));
        rest -= k;
    }
    let mut acc = perfect(&mut roots, rest.trailing_zeros());
    for left in lefts.into_iter().rev() {
        acc = interior_hash(&left, &acc);
    }
    acc
}

/// A built tree, for proofs.
enum Node {
    Leaf(Hash),
    Interior {
        hash: Hash,
        left: Box<Node>,
        right: Box<Node>,
    },
}

impl Node {
    fn hash(&self) -> Hash {
        match self {
            Node::Leaf(h) | Node::Interior { hash: h, .. } => *h,
        }
    }

    fn build(leaves: &[Hash]) -> Option<Node> {
        match leaves {
            [] => None,
            [one] => Some(Node::Leaf(*one)),
            _ => {
                let (l, r) = leaves.split_at(split_point(leaves.len()));
                let left = Node::build(l)?;
                let right = Node::build(r)?;
                let hash = interior_hash(&left.hash(), &right.hash());
                Some(Node::Interior {
                    hash,
                    left: Box::new(left),
                    right: Box::new(right),
                })
            }
        }
    }

    /// Depth-first proof of the leaves in `wanted`; empty when this subtree holds none of them.
    fn proof(&self, wanted: &BTreeSet<Hash>, hashes: &mut Vec<Hash>, flags: &mut Vec<u8>) -> bool {
        match self {
            Node::Leaf(h) => {
                if wanted.contains(h) {
                    hashes.push(*h);
                    flags.push(FLAG_TX_LEAF);
                    true
                } else {
                    false
                }
            }
            Node::Interior { left, right, .. } => {
                let (mut lh, mut lf, mut rh, mut rf) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                let left_found = left.proof(wanted, &mut lh, &mut lf);
                let right_found = right.proof(wanted, &mut rh, &mut rf);
                if !left_found && !right_found {
                    return false;
                }
                flags.push(FLAG_TX_PARENT);
                for (found, node, h, f) in [(left_found, left, lh, lf), (right_found, right, rh, rf)] {
                    if found {
                        hashes.extend(h);
                        flags.extend(f);
                    } else {
                        hashes.push(node.hash());
                        flags.push(FLAG_ASSIST);
                    }
                }
                true
            }
        }
    }

    /// The reference's proof-by-flags walk (used for status proofs): follows flags depth-first and emits
    /// the hash of each node flagged leaf or assist.
    fn proof_by_flags(&self, flags: &mut VecDeque<u8>, out: &mut Vec<Hash>) {
        let Some(flag) = flags.pop_front() else { return };
        if flag == FLAG_TX_LEAF || flag == FLAG_ASSIST {
            out.push(self.hash());
            return;
        }
        if let Node::Interior { left, right, .. } = self {
            left.proof_by_flags(flags, out);
            right.proof_by_flags(flags, out);
        }
    }
}

/// An inclusion proof: hashes and flags, depth first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MerkleProof {
    /// Hashes in proof order.
    pub hashes: Vec<Hash>,
    /// One flag per visited node.
    pub flags: Vec<u8>,
}

fn proof_for_leaves(leaves: &[Hash], related: &[Hash]) -> MerkleProof {
    let Some(tree) = Node::build(leaves) else {
        return MerkleProof::default();
    };
    let wanted: BTreeSet<Hash> = related.iter().copied().collect();
    if wanted.is_empty() {
        return MerkleProof {
            hashes: vec![tree.hash()],
            flags: vec![FLAG_ASSIST],
        };
    }
    let mut proof = MerkleProof::default();
    tree.proof(&wanted, &mut proof.hashes, &mut proof.flags);
    proof
}

/// Proof that the `related` transaction IDs are in the tree over `tx_ids` (the reference's
/// `GetTxMerkleTreeProof`). IDs not in the tree are ignored, as there.
pub fn tx_merkle_proof(tx_ids: &[Hash], related: &[Hash]) -> MerkleProof {
    let leaves: Vec<Hash> = tx_ids.iter().map(|id| leaf_hash(&id.0)).collect();
    let related: Vec<Hash> = related.iter().map(|id| leaf_hash(&id.0)).collect();
    proof_for_leaves(&leaves, &related)
}

/// The status-tree hashes selected by the flags of a transaction proof (the reference's
/// `GetStatusMerkleTreeProof`).
pub fn status_merkle_proof(statuses: &[bool], flags: &[u8]) -> Vec<Hash> {
    let leaves: Vec<Hash> = statuses
        .iter()
        .map(|s| leaf_hash(status_leaf_bytes(*s)))
        .collect();
    let mut out = Vec::new();
    if let Some(tree) = Node::build(&leaves) {
        let mut flags: VecDeque<u8> = flags.iter().copied().collect();
        tree.proof_by_flags(&mut flags, &mut out);
    }
    out
}

fn root_by_proof(
    hashes: &mut VecDeque<Hash>,
    flags: &mut VecDeque<u8>,
    related: &mut VecDeque<Hash>,
    depth: usize,
) -> Hash {
    if depth > MAX_PROOF_DEPTH || flags.is_empty() || hashes.is_empty() {
        return empty_root();
    }
    match flags.pop_front() {
        Some(FLAG_ASSIST) => hashes.pop_front().unwrap_or_else(empty_root),
        Some(FLAG_TX_LEAF) => match (hashes.front(), related.front()) {
            (Some(h), Some(r)) if h == r => {
                let h = *h;
                hashes.pop_front();
                related.pop_front();
                h
            }
            _ => empty_root(),
        },
        Some(FLAG_TX_PARENT) => {
            let left = root_by_proof(hashes, flags, related, depth + 1);
            let right = root_by_proof(hashes, flags, related, depth + 1);
            interior_hash(&left, &right)
        }
        _ => empty_root(),
    }
}

fn validate_leaves(proof: &MerkleProof, related_leaves: Vec<Hash>, root: &Hash) -> bool {
    let mut hashes: VecDeque<Hash> = proof.hashes.iter().copied().collect();
    let mut flags: VecDeque<u8> = proof.flags.iter().copied().collect();
    let mut related: VecDeque<Hash> = related_leaves.into();
    let computed = root_by_proof(&mut hashes, &mut flags, &mut related, 0);
    computed == *root && related.is_empty()
}

/// Checks a transaction inclusion proof against a root (the reference's `ValidateTxMerkleTreeProof`):
/// the proof must rebuild `root` and consume every related ID, in tree order.
pub fn validate_tx_merkle_proof(proof: &MerkleProof, related: &[Hash], root: &Hash) -> bool {
    validate_leaves(proof, related.iter().map(|id| leaf_hash(&id.0)).collect(), root)
}

/// Checks a status proof (the reference's `ValidateStatusMerkleTreeProof`).
pub fn validate_status_merkle_proof(proof: &MerkleProof, related: &[bool], root: &Hash) -> bool {
    validate_leaves(
        proof,
        related.iter().map(|s| leaf_hash(status_leaf_bytes(*s))).collect(),
        root,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tree built leaf by leaf, as every non-uniform status list is.
    fn by_leaves(statuses: &[bool]) -> Hash {
        let leaves: Vec<Hash> = statuses
            .iter()
            .map(|s| leaf_hash(status_leaf_bytes(*s)))
            .collect();
        root_of_leaves(&leaves)
    }

    #[test]
    fn a_uniform_status_list_has_the_root_built_leaf_by_leaf() {
        let sizes = (1..=300).chain([511, 512, 513, 1000, 4095, 4096, 6001, 10_000]);
        for n in sizes {
            for status in [false, true] {
                let statuses = vec![status; n];
                assert_eq!(
                    status_merkle_root(&statuses),
                    by_leaves(&statuses),
                    "{n} × {status}"
                );
            }
        }
        // Mixed lists take the general path, and differ from the uniform ones.
        let mut mixed = vec![false; 7];
        mixed[3] = true;
        assert_eq!(status_merkle_root(&mixed), by_leaves(&mixed));
        assert_ne!(status_merkle_root(&mixed), status_merkle_root(&[false; 7]));
        assert_eq!(status_merkle_root(&[]), empty_root());
    }
}

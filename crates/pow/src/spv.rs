//! Simplified payment verification on the main chain, for light clients and other chains.
//!
//! - [`MerkleBlockProof`]: what the reference's `get-merkle-proof` returns (`api/block_retrieve.go`
//!   `GetMerkleBlockResp`: `block_header`, `tx_hashes`, `status_hashes`, `flags`, `matched_tx_ids`),
//!   built from a block and checked against its header's two Merkle roots.
//! - [`HeaderChain`]: a header-only chain from a trusted [`Checkpoint`], accepting headers that pass
//!   [`validate_header`], tracking the heaviest tip and confirmations, in bounded memory.

use std::collections::{BTreeSet, HashMap, HashSet};

use num_bigint::BigUint;
use types::merkle::{self, FLAG_ASSIST, FLAG_TX_LEAF, FLAG_TX_PARENT, MerkleProof};
use types::{Block, BlockHeader, Hash, Limits, Profile};

use crate::params::PowParams;
use crate::validate::{ContextError, HeaderContext, HeaderError, PowFunction, validate_header};

/// The most hashes, flags or matched IDs a proof may carry (a tree of 2^16 leaves needs far fewer).
pub const MAX_PROOF_ITEMS: usize = 1 << 17;

/// Why a Merkle block proof cannot be built or does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The block is a sidechain block.
    #[error("not a main-chain block")]
    NotPow,
    /// The statuses given do not cover the block's transactions one to one.
    #[error("{statuses} statuses for {transactions} transactions")]
    StatusCount {
        /// Statuses given.
        statuses: usize,
        /// Transactions in the block.
        transactions: usize,
    },
    /// None of the requested transactions is in the block (or the proof proves none).
    #[error("no matched transaction")]
    NothingMatched,
    /// A list is longer than [`MAX_PROOF_ITEMS`].
    #[error("{what}: {len} items, at most {max}")]
    TooLong {
        /// Which list.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// The flags are not one complete depth-first walk of a tree, or the hashes are more or fewer than
    /// the flags select (the reference ignores leftovers; a proof built by either side has none).
    #[error("malformed proof: {0}")]
    Malformed(&'static str),
    /// The transaction hashes and flags do not rebuild the header's transaction root over the matched
    /// IDs.
    #[error("transaction proof does not match the header's transactions merkle root")]
    BadTxProof,
    /// The status hashes do not line up with the flags.
    #[error("status proof has {got} hashes where the flags select {expected}")]
    StatusShape {
        /// Hashes the flags select.
        expected: usize,
        /// Hashes given.
        got: usize,
    },
    /// A proven status leaf is neither "success" nor "failed".
    #[error("status leaf {leaf} is not a transaction status")]
    BadStatusLeaf {
        /// The leaf hash.
        leaf: Hash,
    },
    /// The status hashes and flags do not rebuild the header's status root.
    #[error("status proof does not match the header's transaction status hash")]
    BadStatusProof,
    /// A JSON field is missing or malformed.
    #[error("json: {0}")]
    Json(String),
}

/// One transaction a proof shows to be in a block, with its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvenTx {
    /// The transaction ID.
    pub tx_id: Hash,
    /// `true` when the transaction failed and only paid gas.
    pub status_fail: bool,
}

/// A `get-merkle-proof` response: a header and partial Merkle trees proving some of its transactions
/// and their statuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleBlockProof {
    /// The block's header.
    pub block_header: BlockHeader,
    /// Transaction-tree hashes, depth first.
    pub tx_hashes: Vec<Hash>,
    /// Status-tree hashes selected by the same flags.
    pub status_hashes: Vec<Hash>,
    /// One flag per visited node ([`merkle::FLAG_ASSIST`], [`merkle::FLAG_TX_PARENT`],
    /// [`merkle::FLAG_TX_LEAF`]); the reference's JSON writes them as numbers.
    pub flags: Vec<u8>,
    /// The IDs of the requested transactions found in the block, in block order.
    pub matched_tx_ids: Vec<Hash>,
}

impl MerkleBlockProof {
    /// Builds the proof for the transactions of `block` whose IDs are in `tx_ids`, given the block's
    /// statuses (`true` = failed), as the reference's `getMerkleProof` does.
    pub fn build(block: &Block, statuses: &[bool], tx_ids: &[Hash]) -> Result<MerkleBlockProof, ProofError> {
        if block.profile() != Profile::Main {
            return Err(ProofError::NotPow);
        }
        let ids: Vec<Hash> = block.transactions().iter().map(|t| t.id()).collect();
        if statuses.len() != ids.len() {
            return Err(ProofError::StatusCount {
                statuses: statuses.len(),
                transactions: ids.len(),
            });
        }
        let wanted: HashSet<Hash> = tx_ids.iter().copied().collect();
        let matched_tx_ids: Vec<Hash> = ids.iter().copied().filter(|id| wanted.contains(id)).collect();
        let proof = merkle::tx_merkle_proof(&ids, &matched_tx_ids);
        let status_hashes = merkle::status_merkle_proof(statuses, &proof.flags);
        Ok(MerkleBlockProof {
            block_header: block.header().clone(),
            tx_hashes: proof.hashes,
            status_hashes,
            flags: proof.flags,
            matched_tx_ids,
        })
    }

    /// Checks both partial trees against the header's roots and returns the proven transactions with
    /// their statuses. Says nothing about the header itself: check it with a [`HeaderChain`].
    pub fn verify(&self) -> Result<Vec<ProvenTx>, ProofError> {
        if self.block_header.profile() != Profile::Main {
            return Err(ProofError::NotPow);
        }
        for (what, len) in [
            ("tx_hashes", self.tx_hashes.len()),
            ("status_hashes", self.status_hashes.len()),
            ("flags", self.flags.len()),
            ("matched_tx_ids", self.matched_tx_ids.len()),
        ] {
            if len > MAX_PROOF_ITEMS {
                return Err(ProofError::TooLong {
                    what,
                    len,
                    max: MAX_PROOF_ITEMS,
                });
            }
        }
        if self.matched_tx_ids.is_empty() {
            return Err(ProofError::NothingMatched);
        }
        // One complete pre-order walk: each parent opens two slots, each leaf or assist fills one.
        let mut open: usize = 1;
        for flag in &self.flags {
            open = open
                .checked_sub(1)
                .ok_or(ProofError::Malformed("flags continue past the end of the tree"))?;
            if *flag == FLAG_TX_PARENT {
                open += 2;
            }
        }
        if open != 0 {
            return Err(ProofError::Malformed("flags end before the tree does"));
        }
        let selected = self
            .flags
            .iter()
            .filter(|f| **f == FLAG_TX_LEAF || **f == FLAG_ASSIST)
            .count();
        if selected != self.tx_hashes.len() {
            return Err(ProofError::Malformed("transaction hashes do not match the flags"));
        }
        let tx_proof = MerkleProof {
            hashes: self.tx_hashes.clone(),
            flags: self.flags.clone(),
        };
        if !merkle::validate_tx_merkle_proof(
            &tx_proof,
            &self.matched_tx_ids,
            &self.block_header.transactions_merkle_root,
        ) {
            return Err(ProofError::BadTxProof);
        }
        // The status hashes follow the flags that select a hash (leaf or assist), one each.
        if selected != self.status_hashes.len() {
            return Err(ProofError::StatusShape {
                expected: selected,
                got: self.status_hashes.len(),
            });
        }
        let ok = merkle::leaf_hash(merkle::status_leaf_bytes(false));
        let failed = merkle::leaf_hash(merkle::status_leaf_bytes(true));
        let mut statuses = Vec::with_capacity(self.matched_tx_ids.len());
        let mut hashes = self.status_hashes.iter();
        for flag in &self.flags {
            if *flag != FLAG_TX_LEAF && *flag != FLAG_ASSIST {
                continue;
            }
            let Some(h) = hashes.next() else { break };
            if *flag == FLAG_TX_LEAF {
                statuses.push(match *h {
                    h if h == ok => false,
                    h if h == failed => true,
                    leaf => return Err(ProofError::BadStatusLeaf { leaf }),
                });
            }
        }
        let status_proof = MerkleProof {
            hashes: self.status_hashes.clone(),
            flags: self.flags.clone(),
        };
        if statuses.len() != self.matched_tx_ids.len()
            || !merkle::validate_status_merkle_proof(
                &status_proof,
                &statuses,
                &self.block_header.transaction_status_hash,
            )
        {
            return Err(ProofError::BadStatusProof);
        }
        Ok(self
            .matched_tx_ids
            .iter()
            .zip(statuses)
            .map(|(tx_id, status_fail)| ProvenTx {
                tx_id: *tx_id,
                status_fail,
            })
            .collect())
    }

    /// The reference's JSON: the header as hex of its header-only bytes, hashes as hex, flags as numbers.
    pub fn to_json(&self) -> serde_json::Value {
        let hexes = |v: &[Hash]| v.iter().map(Hash::to_hex).collect::<Vec<_>>();
        serde_json::json!({
            "block_header": hex::encode(self.block_header.encode()),
            "tx_hashes": hexes(&self.tx_hashes),
            "status_hashes": hexes(&self.status_hashes),
            "flags": self.flags.iter().map(|f| u32::from(*f)).collect::<Vec<_>>(),
            "matched_tx_ids": hexes(&self.matched_tx_ids),
        })
    }

    /// Reads the reference's JSON (bounded: lists longer than [`MAX_PROOF_ITEMS`] and flags above 255
    /// are refused; the header is decoded under `limits`).
    pub fn from_json(value: &serde_json::Value, limits: &Limits) -> Result<MerkleBlockProof, ProofError> {
        let field = |name: &'static str| {
            value
                .get(name)
                .ok_or_else(|| ProofError::Json(format!("missing field {name}")))
        };
        let list = |name: &'static str| -> Result<&Vec<serde_json::Value>, ProofError> {
            let v = field(name)?
                .as_array()
                .ok_or_else(|| ProofError::Json(format!("{name} is not a list")))?;
            if v.len() > MAX_PROOF_ITEMS {
                return Err(ProofError::TooLong {
                    what: name,
                    len: v.len(),
                    max: MAX_PROOF_ITEMS,
                });
            }
            Ok(v)
        };
        let hashes = |name: &'static str| -> Result<Vec<Hash>, ProofError> {
            list(name)?
                .iter()
                .map(|h| {
                    h.as_str()
                        .and_then(|s| Hash::from_hex(s).ok())
                        .ok_or_else(|| ProofError::Json(format!("{name}: not a 32-byte hex hash")))
                })
                .collect()
        };
        let header_hex = field("block_header")?
            .as_str()
            .ok_or_else(|| ProofError::Json("block_header is not a string".into()))?;
        if header_hex.len() > 2 * limits.max_block_bytes {
            return Err(ProofError::Json("block_header too long".into()));
        }
        let header_bytes =
            hex::decode(header_hex).map_err(|e| ProofError::Json(format!("block_header: {e}")))?;
        let block_header = BlockHeader::decode(&header_bytes, Profile::Main, limits)
            .map_err(|e| ProofError::Json(format!("block_header: {e}")))?;
        let flags = list("flags")?
            .iter()
            .map(|f| {
                f.as_u64()
                    .and_then(|n| u8::try_from(n).ok())
                    .ok_or_else(|| ProofError::Json("flags: not a number 0..=255".into()))
            })
            .collect::<Result<Vec<u8>, _>>()?;
        Ok(MerkleBlockProof {
            block_header,
            tx_hashes: hashes("tx_hashes")?,
            status_hashes: hashes("status_hashes")?,
            flags,
            matched_tx_ids: hashes("matched_tx_ids")?,
        })
    }
}

/// A trusted starting point for a [`HeaderChain`]: a block's validation context and the total work of
/// the chain up to and including it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The block and the little of its ancestry validation reads (see [`HeaderContext::trusted`]).
    pub context: HeaderContext,
    /// Cumulative work through the block.
    pub total_work: BigUint,
}

/// Why a header chain refuses a header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpvError {
    /// The parent is not known (never seen, or pruned).
    #[error("unknown parent {parent}")]
    UnknownParent {
        /// The header's previous-block hash.
        parent: Hash,
    },
    /// The header breaks a consensus rule.
    #[error(transparent)]
    Header(#[from] HeaderError),
    /// The block is not on the best chain, or too shallow.
    #[error("block {hash} has {confirmations} confirmations on the best chain, {required} required")]
    NotConfirmed {
        /// The block.
        hash: Hash,
        /// Its confirmations (0: unknown or on a side branch).
        confirmations: u64,
        /// What the caller required.
        required: u64,
    },
    /// The Merkle proof is bad.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// The checkpoint cannot be used.
    #[error(transparent)]
    Context(#[from] ContextError),
}

/// What [`HeaderChain::accept`] did with a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// It became the heaviest tip.
    NewTip,
    /// It is valid, on a branch no heavier than the tip (ties keep the first tip seen).
    SideBranch,
    /// It was already held.
    AlreadyKnown,
}

#[derive(Debug, Clone)]
struct Node {
    context: HeaderContext,
    parent: Hash,
    total_work: BigUint,
}

/// A light client's view of the main chain: headers from a checkpoint, validated, heaviest tip.
///
/// Memory is bounded by `max_headers`: past it, the lowest blocks are forgotten (the tip never is).
/// A forgotten block reports no confirmations, and headers building on it are refused as
/// [`SpvError::UnknownParent`].
#[derive(Debug)]
pub struct HeaderChain<P> {
    params: PowParams,
    pow: P,
    nodes: HashMap<Hash, Node>,
    by_height: BTreeSet<(u64, Hash)>,
    tip: Hash,
    max_headers: usize,
}

impl<P: PowFunction> HeaderChain<P> {
    /// Starts from a trusted checkpoint, keeping at most `max_headers` headers (at least 2).
    pub fn new(params: PowParams, pow: P, checkpoint: Checkpoint, max_headers: usize) -> HeaderChain<P> {
        let hash = checkpoint.context.hash;
        let height = checkpoint.context.info.height;
        let node = Node {
            parent: Hash::ZERO,
            context: checkpoint.context,
            total_work: checkpoint.total_work,
        };
        HeaderChain {
            params,
            pow,
            nodes: HashMap::from([(hash, node)]),
            by_height: BTreeSet::from([(height, hash)]),
            tip: hash,
            max_headers: max_headers.max(2),
        }
    }

    /// Validates `header` at time `now` (seconds) and adds it.
    pub fn accept(&mut self, header: &BlockHeader, now: u64) -> Result<Accepted, SpvError> {
        let hash = header.hash();
        if self.nodes.contains_key(&hash) {
            return Ok(Accepted::AlreadyKnown);
        }
        let parent = self
            .nodes
            .get(&header.previous_block_hash)
            .ok_or(SpvError::UnknownParent {
                parent: header.previous_block_hash,
            })?;
        let context = validate_header(&self.params, &parent.context, header, now, &self.pow)?;
        let total_work = &parent.total_work + work_of(context.info.bits);
        let heavier = total_work
            > self
                .nodes
                .get(&self.tip)
                .map(|n| n.total_work.clone())
                .unwrap_or_default();
        self.by_height.insert((context.info.height, hash));
        self.nodes.insert(
            hash,
            Node {
                context,
                parent: header.previous_block_hash,
                total_work,
            },
        );
        if heavier {
            self.tip = hash;
        }
        self.prune();
        Ok(if heavier {
            Accepted::NewTip
        } else {
            Accepted::SideBranch
        })
    }

    fn prune(&mut self) {
        while self.nodes.len() > self.max_headers {
            let Some(&(height, hash)) = self.by_height.iter().find(|(_, h)| *h != self.tip) else {
                return;
            };
            self.by_height.remove(&(height, hash));
            self.nodes.remove(&hash);
        }
    }

    /// The heaviest tip's context.
    pub fn tip(&self) -> Option<&HeaderContext> {
        self.nodes.get(&self.tip).map(|n| &n.context)
    }

    /// The heaviest tip's hash.
    pub fn tip_hash(&self) -> Hash {
        self.tip
    }

    /// Cumulative work of the heaviest tip.
    pub fn tip_work(&self) -> BigUint {
        self.nodes
            .get(&self.tip)
            .map(|n| n.total_work.clone())
            .unwrap_or_default()
    }

    /// Headers held.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether no header is held (never: the checkpoint or the tip is always kept).
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Whether `hash` is held.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.nodes.contains_key(hash)
    }

    /// Confirmations of `hash` on the best chain: 1 for the tip, 2 for its parent, …; 0 when the block
    /// is unknown, forgotten or on a side branch.
    pub fn confirmations(&self, hash: &Hash) -> u64 {
        let Some(target) = self.nodes.get(hash) else {
            return 0;
        };
        let tip_height = self.tip().map_or(0, |t| t.info.height);
        let Some(depth) = tip_height.checked_sub(target.context.info.height) else {
            return 0;
        };
        // Walk down from the tip to the block's height; it is on the best chain iff we land on it.
        let mut cursor = self.tip;
        for _ in 0..depth {
            match self.nodes.get(&cursor) {
                Some(n) => cursor = n.parent,
                None => return 0,
            }
        }
        if cursor == *hash { depth + 1 } else { 0 }
    }

    /// Checks a Merkle block proof against this chain: its header is on the best chain with at least
    /// `min_confirmations`, and the proof verifies. Returns the proven transactions.
    pub fn verify_proof(
        &self,
        proof: &MerkleBlockProof,
        min_confirmations: u64,
    ) -> Result<Vec<ProvenTx>, SpvError> {
        let hash = proof.block_header.hash();
        let confirmations = self.confirmations(&hash);
        if confirmations == 0 || confirmations < min_confirmations {
            return Err(SpvError::NotConfirmed {
                hash,
                confirmations,
                required: min_confirmations,
            });
        }
        Ok(proof.verify()?)
    }
}

/// A block's work as an unsigned number (zero for malformed bits).
pub fn work_of(bits: u64) -> BigUint {
    types::difficulty::work_from_bits(bits)
        .to_biguint()
        .unwrap_or_default()
}

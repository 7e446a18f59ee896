//! The UTXO view, change sets and the in-memory UTXO set.

use std::collections::{BTreeMap, BTreeSet};

use types::Hash;

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
}

impl<T: UtxoView + ?Sized> UtxoView for &T {
    fn utxo(&self, output_id: &Hash) -> Result<Option<UtxoEntry>, ViewError> {
        (**self).utxo(output_id)
    }
    fn is_claimed(&self, mainchain_output_id: &Hash) -> Result<bool, ViewError> {
        (**self).is_claimed(mainchain_output_id)
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

/// An in-memory UTXO set (tests, mempool overlays) with apply and unwind of change sets. Both are
/// atomic: on error nothing changes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryUtxoSet {
    utxos: BTreeMap<Hash, UtxoEntry>,
    claimed: BTreeSet<Hash>,
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

    /// Whether there is no unspent output and no claim.
    pub fn is_empty(&self) -> bool {
        self.utxos.is_empty() && self.claimed.is_empty()
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

    /// A canonical byte encoding of the whole state (sorted outputs with kind and height, then the
    /// sorted claims), to compare states byte for byte.
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
}

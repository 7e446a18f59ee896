//! DPoS elections as they drive a BBFT chain: which validator set certifies which heights.
//!
//! **Epochs are DPoS rounds.** BBFT epoch `e` is DPoS round `e + 1`: heights `e·L + 1 ..= (e+1)·L`
//! for a round length `L`. Epoch 0 is the genesis set; the set of epoch `e + 1` is the one
//! [`consensus::dpos`] elects at the last block of epoch `e` (the top `num_validators`
//! registered candidates at or above the minimum stake, or the genesis set when too few qualify).
//! Every node derives it from the final blocks alone, so all agree on it without any message.
//!
//! **Network identities.** BBFT routes by [`NodeId`]; an elected candidate is known by its DPoS
//! identity (xpub). The node's directory lists the nodes it knows: the genesis validators, then the
//! configured candidates, and node `i` of the directory is `NodeId` `i`. An elected candidate
//! missing from the directory still counts for the quorum (its votes verify by its BLS key) but
//! gets a local id past the directory that no connection carries; the other validators then run
//! without it, which BBFT tolerates for fewer than a third of the set. Ids are a node's local
//! routing labels: certificates name signers by their index in the set, never by node id.

use std::collections::BTreeMap;
use std::sync::Arc;

use consensus::bbft::{self, NodeId, Topology};
use consensus::dpos::{self, DposConfig, ElectionChange, ElectionState};
use crypto::chainkd::XPub;
use types::{Block, Hash};

use crate::NodeError;

/// How a BBFT chain's validator sets come about (the same on every node of the chain).
#[derive(Debug, Clone)]
pub struct BbftSetup {
    /// Election parameters: the round length sets the epochs.
    pub dpos: DposConfig,
    /// The genesis set (epoch 0, and the fallback whenever too few candidates qualify).
    pub genesis: dpos::ValidatorSet,
    /// The nodes this node knows, by DPoS identity: node `i` has node id `i`. Starts with the
    /// genesis set in order.
    pub directory: Vec<XPub>,
}

impl BbftSetup {
    /// A chain run by `genesis` for good: one validator set, epochs as long as the default rounds.
    /// Their node ids are their positions.
    pub fn fixed(genesis: dpos::ValidatorSet) -> BbftSetup {
        let directory = genesis.validators().iter().map(|v| v.candidate).collect();
        BbftSetup {
            dpos: DposConfig::default(),
            genesis,
            directory,
        }
    }

    /// The BBFT epoch of `height` (genesis counts to epoch 0).
    pub fn epoch_of(&self, height: u64) -> u64 {
        self.dpos.round_of(height).saturating_sub(1)
    }

    /// First and last height of `epoch`.
    pub fn bounds(&self, epoch: u64) -> (u64, u64) {
        let len = self.dpos.round_length.max(1);
        let first = epoch.saturating_mul(len).saturating_add(1);
        let last = epoch.saturating_add(1).saturating_mul(len);
        (first, last)
    }

    /// The node id of the candidate `xpub` in the directory, if listed.
    pub fn node_id(&self, xpub: &XPub) -> Option<NodeId> {
        self.directory
            .iter()
            .position(|x| x == xpub)
            .and_then(|i| NodeId::try_from(i).ok())
    }

    /// The BBFT form of a DPoS set: election order, power 1, node ids from the directory (an
    /// unknown candidate gets `directory.len() + position`, unique and unroutable), round-robin
    /// topology with the default number of super nodes.
    pub fn to_bbft(&self, set: &dpos::ValidatorSet) -> Result<Arc<bbft::ValidatorSet>, NodeError> {
        let unknown = |i: usize| u32::try_from(self.directory.len().saturating_add(i)).unwrap_or(u32::MAX);
        let nodes: Vec<NodeId> = set
            .validators()
            .iter()
            .enumerate()
            .map(|(i, v)| self.node_id(&v.candidate).unwrap_or_else(|| unknown(i)))
            .collect();
        let n = set.len();
        set.to_bbft(
            &nodes,
            Topology::round_robin(n, Topology::default_m(n)),
            &bbft::Bls,
        )
        .map(Arc::new)
        .map_err(|e| NodeError::Corrupt(format!("an elected set cannot run BBFT: {e}")))
    }
}

/// Epochs whose sets are kept below the tip's: enough for a proof of the previous epoch's end.
const EPOCHS_KEPT_BELOW: u64 = 2;

/// The election state at the committed tip and the BBFT sets it fixes.
#[derive(Debug, Clone)]
pub struct Elections {
    setup: Arc<BbftSetup>,
    state: ElectionState,
    sets: BTreeMap<u64, Arc<bbft::ValidatorSet>>,
}

impl Elections {
    /// The state after the genesis block `genesis_hash`.
    pub fn at_genesis(setup: Arc<BbftSetup>, genesis_hash: Hash) -> Result<Elections, NodeError> {
        let state = ElectionState::new(setup.dpos, genesis_hash, setup.genesis.validators().to_vec())
            .map_err(|e| NodeError::Config(format!("genesis validators: {e}")))?;
        Elections::from_state(setup, state)
    }

    /// Resumes from `state` (a snapshot's), which must follow this setup's parameters and
    /// genesis set.
    pub fn from_state(setup: Arc<BbftSetup>, state: ElectionState) -> Result<Elections, NodeError> {
        if *state.config() != setup.dpos {
            return Err(NodeError::Config(
                "the election state was computed with other DPoS parameters than configured".into(),
            ));
        }
        if *state.genesis_set() != setup.genesis {
            return Err(NodeError::Config(
                "the election state has another genesis validator set than configured".into(),
            ));
        }
        let mut e = Elections {
            setup,
            state,
            sets: BTreeMap::new(),
        };
        let tip = e.state.tip_height();
        for h in [tip, tip.saturating_add(1)] {
            if h == 0 {
                continue;
            }
            if let Some(set) = e.state.set_for(h) {
                let bbft = e.setup.to_bbft(set)?;
                e.sets.insert(e.setup.epoch_of(h), bbft);
            }
        }
        if tip == 0 && e.sets.is_empty() {
            return Err(NodeError::Internal("no validator set for the first epoch".into()));
        }
        Ok(e)
    }

    /// The setup.
    pub fn setup(&self) -> &Arc<BbftSetup> {
        &self.setup
    }

    /// The election state at the committed tip.
    pub fn state(&self) -> &ElectionState {
        &self.state
    }

    /// `epoch` with its bounds and set, if fixed and still kept.
    pub fn epoch(&self, epoch: u64) -> Option<bbft::Epoch> {
        let set = self.sets.get(&epoch)?;
        let (first_height, last_height) = self.setup.bounds(epoch);
        Some(bbft::Epoch {
            index: epoch,
            first_height,
            last_height,
            set: Arc::clone(set),
        })
    }

    /// Every kept epoch, in order.
    pub fn epochs(&self) -> Vec<bbft::Epoch> {
        self.sets.keys().filter_map(|&e| self.epoch(e)).collect()
    }

    /// The epoch of the block after the tip and the size of its set (always fixed: the current
    /// round's, or the one the tip's round end elected).
    pub fn next_block_epoch(&self) -> (u64, u64) {
        let next = self.state.tip_height().saturating_add(1);
        let size = self.state.set_for(next).map_or(0, dpos::ValidatorSet::len);
        (self.setup.epoch_of(next), u64::try_from(size).unwrap_or(u64::MAX))
    }

    /// The highest epoch whose set is fixed.
    pub fn highest_epoch(&self) -> u64 {
        self.sets.keys().next_back().copied().unwrap_or(0)
    }

    /// What committing `block` at `height` (on the tip) does to the elections, with the next
    /// epoch's BBFT set when the block ends a round. Pure: nothing changes until
    /// [`Elections::apply`].
    pub fn change_for(&self, block: &Block, height: u64) -> Result<Prepared, NodeError> {
        let change = dpos::apply_block(&self.state, block, height).map_err(|e| {
            NodeError::Internal(format!("elections refuse the block at height {height}: {e}"))
        })?;
        let next = match &change.round_end {
            Some(end) => Some((
                self.setup.epoch_of(height.saturating_add(1)),
                self.setup.to_bbft(&end.next_set)?,
            )),
            None => None,
        };
        Ok(Prepared { change, next })
    }

    /// Moves to the block of `prepared` (from [`Elections::change_for`] on this state); at a
    /// round's end, the next epoch's set becomes known.
    pub fn apply(&mut self, prepared: Prepared) -> Result<(), NodeError> {
        let Prepared { change, next } = prepared;
        self.state
            .apply(&change)
            .map_err(|e| NodeError::Internal(format!("applying an election change: {e}")))?;
        if let (Some((epoch, set)), Some(end)) = (next, &change.round_end) {
            tracing::info!(
                epoch,
                from_height = self.setup.bounds(epoch).0,
                validators = end.next_set.len(),
                source = ?end.source,
                "validator set fixed for the next epoch"
            );
            self.sets.insert(epoch, set);
        }
        let lowest = self
            .setup
            .epoch_of(change.height)
            .saturating_sub(EPOCHS_KEPT_BELOW);
        self.sets = self.sets.split_off(&lowest);
        Ok(())
    }
}

/// One block's election change, ready to apply.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The change.
    pub change: ElectionChange,
    /// The next epoch and its BBFT set, when the block ends a round.
    pub next: Option<(u64, Arc<bbft::ValidatorSet>)>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crypto::chainkd::XPrv;

    fn setup(n: u8, round: u64) -> BbftSetup {
        let validators = (0..n)
            .map(|i| dpos::Validator {
                candidate: XPrv::root(&[i; 4]).xpub(),
                consensus_key: dpos::ProvenKey::from_secret(&crypto::bls::SecretKey::from_seed(&[i; 32])),
                votes: 0,
            })
            .collect();
        let genesis = dpos::ValidatorSet::new(validators).unwrap();
        let mut s = BbftSetup::fixed(genesis);
        s.dpos = DposConfig::new(round, 4, 2, 1, 1, 0, 0).unwrap();
        s
    }

    #[test]
    fn epochs_are_rounds() {
        let s = setup(4, 10);
        assert_eq!(s.epoch_of(0), 0);
        assert_eq!(s.epoch_of(1), 0);
        assert_eq!(s.epoch_of(10), 0);
        assert_eq!(s.epoch_of(11), 1);
        assert_eq!(s.bounds(0), (1, 10));
        assert_eq!(s.bounds(1), (11, 20));
        assert_eq!(s.bounds(u64::MAX).1, u64::MAX);
    }

    #[test]
    fn known_candidates_keep_their_ids_and_unknown_ones_get_unroutable_ids() {
        let s = setup(4, 10);
        let genesis = s.to_bbft(&s.genesis).unwrap();
        let ids: Vec<NodeId> = genesis.validators().iter().map(|v| v.node).collect();
        assert_eq!(ids, vec![0, 1, 2, 3]);
        // Validator 2 replaced by an outsider, and the order changed.
        let mut vs = s.genesis.validators().to_vec();
        vs.swap(0, 3);
        vs[1] = dpos::Validator {
            candidate: XPrv::root(b"outsider").xpub(),
            consensus_key: dpos::ProvenKey::from_secret(&crypto::bls::SecretKey::from_seed(&[9; 32])),
            votes: 5,
        };
        let set = s.to_bbft(&dpos::ValidatorSet::new(vs).unwrap()).unwrap();
        let ids: Vec<NodeId> = set.validators().iter().map(|v| v.node).collect();
        assert_eq!(ids, vec![3, 5, 2, 0]);
    }

    #[test]
    fn the_genesis_epoch_is_known_at_genesis_and_kept_as_the_chain_moves_on() {
        let s = Arc::new(setup(4, 10));
        let e = Elections::at_genesis(Arc::clone(&s), Hash::default()).unwrap();
        assert_eq!(e.highest_epoch(), 0);
        let epoch = e.epoch(0).unwrap();
        assert_eq!((epoch.first_height, epoch.last_height), (1, 10));
        assert_eq!(epoch.set.len(), 4);
        assert!(e.epoch(1).is_none());
    }
}

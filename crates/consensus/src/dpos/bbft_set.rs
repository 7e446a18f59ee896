//! Hands an elected DPoS set to BBFT.
//!
//! Every key in a DPoS [`ValidatorSet`] is a [`ProvenKey`](super::ProvenKey), so each validator's
//! proof of possession is at hand; BBFT's [`bbft::ValidatorSet::new`] checks it again, so a set that
//! reaches BBFT has had every key's possession proven twice.

use crate::bbft::{self, Crypto, NodeId, SetError, Topology};

use super::state::ValidatorSet;

/// Why a DPoS set could not be turned into a BBFT set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BbftSetError {
    /// The host gave a different number of network identities than there are validators.
    #[error("{got} node ids for {expected} validators")]
    NodeCount {
        /// Validators in the set.
        expected: usize,
        /// Node ids given.
        got: usize,
    },
    /// BBFT refused the set (size, duplicate node id, possession, topology).
    #[error(transparent)]
    Set(#[from] SetError),
}

impl ValidatorSet {
    /// The BBFT validator set of these validators, in election order: validator `i` is reached at
    /// `nodes[i]` and has voting power 1. Equal power follows the reference, where a block is final
    /// once more than two thirds of the consensus nodes have signed it, whatever their votes; stake
    /// decides who is elected, not how much a signature weighs.
    ///
    /// # Errors
    /// [`BbftSetError::NodeCount`] unless there is one node id per validator;
    /// [`BbftSetError::Set`] if BBFT refuses the set (a repeated node id, a topology that does not fit,
    /// more than [`bbft::MAX_VALIDATORS`]).
    pub fn to_bbft(
        &self,
        nodes: &[NodeId],
        topology: Topology,
        crypto: &dyn Crypto,
    ) -> Result<bbft::ValidatorSet, BbftSetError> {
        if nodes.len() != self.len() {
            return Err(BbftSetError::NodeCount {
                expected: self.len(),
                got: nodes.len(),
            });
        }
        let (validators, pops): (Vec<_>, Vec<_>) = self
            .validators()
            .iter()
            .zip(nodes)
            .map(|(v, &node)| {
                (
                    bbft::Validator {
                        node,
                        key: *v.consensus_key.public_key(),
                        power: 1,
                    },
                    *v.consensus_key.proof(),
                )
            })
            .unzip();
        Ok(bbft::ValidatorSet::new(validators, &pops, topology, crypto)?)
    }
}

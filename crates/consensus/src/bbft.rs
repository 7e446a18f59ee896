//! BBFT: topology-aware aggregated BFT consensus as a pure state machine.
//!
//! N validators with voting power; M super nodes (chosen per epoch by the host from measured
//! latency and stake, see [`Topology::from_latency`]); every validator reports to one super node.
//! Per round: the leader (a super node, rotating) sends its proposal to the super nodes (T0),
//! they forward it to their members (T1), members validate and send BLS votes to their super
//! node (T2), super nodes aggregate their group's votes into one signature plus a signer bitmap
//! and exchange the aggregates (T3), then combine them into a quorum certificate for their
//! members (T4). Once a block is certified, validators vote again to commit it along the same
//! topology, and a certificate of those commit votes makes it final at once (one-round finality,
//! [`Phase::Commit`]). Rounds are also chained (two-chain HotStuff, as in Jolteon): a certificate
//! for a block whose parent was certified in the round just before finalizes the parent, which
//! commits what the commit phase missed. The protocol, the locking rule and the safety and
//! liveness arguments are in `docs/bbft.md`.
//!
//! The core does no I/O and reads no clock: [`Bbft::step`] takes an [`Input`] and returns the
//! [`Effect`]s for the host to perform.

pub mod codec;
pub mod crypto;
mod machine;
pub mod types;

#[cfg(test)]
mod tests;

pub use codec::{DecodeError, Limits, decode, encode};
pub use crypto::{Bls, Crypto, VerifyWork};
pub use machine::{
    Anchor, Bbft, Config, Effect, InitError, Input, PersistedState, Reject, Timer, proves_epoch_end,
};
pub use types::{
    Bitmap, BlockId, Certificate, Epoch, Evidence, Justify, MAX_VALIDATORS, Message, NodeId, Payload, Phase,
    Proposal, ProposalHeader, SetError, TcPart, Timeout, TimeoutCert, Topology, Validator, ValidatorSet,
    Vote, VoteData,
};

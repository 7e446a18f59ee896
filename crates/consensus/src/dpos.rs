//! DPoS elections derived from the sidechain ledger.
//!
//! Candidates register their BLS consensus key with a proof of possession, bound to their xpub and the
//! chain ([`registration`]); vote outputs lock BTM for a
//! candidate's xpub and veto inputs withdraw it ([`state`]); at each round's last block the top
//! `num_validators` registered candidates at or above the minimum stake are fixed as the next round's
//! set, which produces blocks in runs ([`schedule`]); each validator earns the subsidy and fees of the
//! blocks it produced, payable after the round; a set becomes a BBFT set with
//! [`ValidatorSet::to_bbft`] ([`bbft_set`]). Everything is a pure function of blocks; a block's
//! effect is an [`ElectionChange`] that can be applied and unwound. See `docs/dpos.md`.

pub mod bbft_set;
pub mod config;
pub mod registration;
pub mod schedule;
pub mod state;

pub use bbft_set::BbftSetError;
pub use config::{ConfigError, DposConfig};
pub use registration::{
    ChainId, ConsensusKey, ProvenKey, Registration, RegistrationError, parse_registration,
    registration_program,
};
pub use schedule::{producer_at, producer_index};
pub use state::codec::{ElectionCodecError, ElectionCodecLimits};
pub use state::{
    Candidate, Delta, DposError, ElectionChange, ElectionEvent, ElectionState, Ignored, IgnoredReason,
    Position, Reward, RewardTally, RoundEnd, RoundRewards, SetSource, Swap, Validator, ValidatorSet,
    VoteRecord, VoterReward, apply_block, apply_block_produced_by,
};

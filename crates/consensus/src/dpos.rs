//! DPoS elections derived from the sidechain ledger.
//!
//! Candidates register their BLS consensus key ([`registration`]); vote outputs lock BTM for a
//! candidate's xpub and veto inputs withdraw it ([`state`]); at each round's last block the top
//! `num_validators` registered candidates at or above the minimum stake are fixed as the next round's
//! set, which produces blocks in runs ([`schedule`]); each validator earns the subsidy and fees of the
//! blocks it produced, payable after the round. Everything is a pure function of blocks; a block's
//! effect is an [`ElectionChange`] that can be applied and unwound. See `docs/dpos.md`.

pub mod config;
pub mod registration;
pub mod schedule;
pub mod state;

pub use config::{ConfigError, DposConfig};
pub use registration::{
    ConsensusKey, Registration, RegistrationError, parse_registration, registration_program,
};
pub use schedule::{producer_at, producer_index};
pub use state::{
    Candidate, Delta, DposError, ElectionChange, ElectionEvent, ElectionState, Ignored, IgnoredReason,
    Position, Reward, RewardTally, RoundEnd, RoundRewards, SetSource, Swap, Validator, ValidatorSet,
    VoteRecord, VoterReward, apply_block,
};

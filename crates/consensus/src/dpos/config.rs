//! Election parameters.

use types::Amount;

/// Why a [`DposConfig`] was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A count or length that must be positive is zero.
    #[error("{field} must be positive")]
    Zero {
        /// The offending field.
        field: &'static str,
    },
    /// A percentage above 100.
    #[error("{field} is {value}%, above 100%")]
    PercentAbove100 {
        /// The offending field.
        field: &'static str,
        /// Its value.
        value: u8,
    },
    /// An amount above the ledger's maximum (2^63 - 1).
    #[error("{field} is {value}, above the largest amount the ledger carries")]
    AmountTooLarge {
        /// The offending field.
        field: &'static str,
        /// Its value.
        value: u64,
    },
}

/// Parameters of a sidechain's DPoS election. [`DposConfig::default`] equals the Vapor main network's
/// `DPOSConfig` (`consensus/general.go`); build other values with [`DposConfig::new`], which checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DposConfig {
    /// Blocks per voting round (Vapor `RoundVoteBlockNums` = 1200). Round `k >= 1` is heights
    /// `(k-1)*L + 1 ..= k*L`; the set elected at height `k*L` produces round `k+1`.
    pub round_length: u64,
    /// Validators elected per round (Vapor `NumOfConsensusNode` = 10).
    pub num_validators: usize,
    /// Consecutive blocks each validator produces in turn (Vapor `BlockNumEachNode` = 12).
    pub blocks_per_producer: u64,
    /// Smallest vote total, in neu, that makes a candidate electable (Vapor `MinConsensusNodeVoteNum` =
    /// 10^14 neu = 1,000,000 BTM).
    pub min_validator_stake: u64,
    /// Smallest vote output, in neu (Vapor `MinVoteOutputAmount` = 10^8 neu = 1 BTM).
    pub min_vote_amount: u64,
    /// Blocks a vote stays locked before a veto may spend it (Vapor `VotePendingBlockNumber` =
    /// 3,456,000 on main and test networks).
    pub vote_lock_blocks: u64,
    /// Newly minted neu per block credited to its producer, from height 1 to
    /// [`DposConfig::subsidy_last_height`] (Vapor main network `ProducerSubsidys`: 9,512,938).
    pub block_subsidy: u64,
    /// Last height that earns [`DposConfig::block_subsidy`]; later blocks earn their fees only (Vapor
    /// main network: 126,144,000, the end of its `ProducerSubsidys` table, after which `BlockSubsidy`
    /// is 0). [`DposConfig::new`] sets `u64::MAX` (no end); change it with
    /// [`DposConfig::with_subsidy_until`].
    pub subsidy_last_height: u64,
    /// Percent of each validator's round reward shared among its voters, pro rata to their votes
    /// (default 0: the reference protocol pays voters nothing; its optional off-chain payout tool,
    /// `toolbar/vote_reward`, shares an operator-chosen ratio the same way). Set with
    /// [`DposConfig::with_voter_share`].
    pub voter_share_percent: u8,
}

impl Default for DposConfig {
    fn default() -> Self {
        DposConfig {
            round_length: 1200,
            num_validators: 10,
            blocks_per_producer: 12,
            min_validator_stake: 100_000_000_000_000,
            min_vote_amount: 100_000_000,
            vote_lock_blocks: 3_456_000,
            block_subsidy: 9_512_938,
            subsidy_last_height: 126_144_000,
            voter_share_percent: 0,
        }
    }
}

impl DposConfig {
    /// Checks and builds a configuration.
    ///
    /// # Errors
    /// [`ConfigError::Zero`] for a zero round length, validator count, run length or minimum vote;
    /// [`ConfigError::AmountTooLarge`] for an amount the ledger could not carry.
    pub fn new(
        round_length: u64,
        num_validators: usize,
        blocks_per_producer: u64,
        min_validator_stake: u64,
        min_vote_amount: u64,
        vote_lock_blocks: u64,
        block_subsidy: u64,
    ) -> Result<Self, ConfigError> {
        let config = DposConfig {
            round_length,
            num_validators,
            blocks_per_producer,
            min_validator_stake,
            min_vote_amount,
            vote_lock_blocks,
            block_subsidy,
            subsidy_last_height: u64::MAX,
            voter_share_percent: 0,
        };
        config.validate()?;
        Ok(config)
    }

    /// The same configuration with `percent` of each validator's reward shared with its voters.
    ///
    /// # Errors
    /// [`ConfigError::PercentAbove100`].
    pub fn with_voter_share(self, percent: u8) -> Result<Self, ConfigError> {
        let config = DposConfig {
            voter_share_percent: percent,
            ..self
        };
        config.validate()?;
        Ok(config)
    }

    /// The same configuration with the subsidy paid up to and including `last_height` only.
    pub fn with_subsidy_until(self, last_height: u64) -> Self {
        DposConfig {
            subsidy_last_height: last_height,
            ..self
        }
    }

    /// The subsidy a block at `height` earns (the reference's `BlockSubsidy`): `block_subsidy` for
    /// heights 1 to `subsidy_last_height`, otherwise 0 (genesis mints through its own coinbase).
    pub fn subsidy_at(&self, height: u64) -> u64 {
        if height >= 1 && height <= self.subsidy_last_height {
            self.block_subsidy
        } else {
            0
        }
    }

    /// Checks a configuration built field by field.
    ///
    /// # Errors
    /// As [`DposConfig::new`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.round_length == 0 {
            return Err(ConfigError::Zero {
                field: "round_length",
            });
        }
        if self.num_validators == 0 {
            return Err(ConfigError::Zero {
                field: "num_validators",
            });
        }
        if self.blocks_per_producer == 0 {
            return Err(ConfigError::Zero {
                field: "blocks_per_producer",
            });
        }
        // A zero minimum would let dust outputs bloat the vote records.
        if self.min_vote_amount == 0 {
            return Err(ConfigError::Zero {
                field: "min_vote_amount",
            });
        }
        if self.voter_share_percent > 100 {
            return Err(ConfigError::PercentAbove100 {
                field: "voter_share_percent",
                value: self.voter_share_percent,
            });
        }
        for (field, value) in [
            ("min_validator_stake", self.min_validator_stake),
            ("min_vote_amount", self.min_vote_amount),
            ("block_subsidy", self.block_subsidy),
        ] {
            if value > Amount::MAX.get() {
                return Err(ConfigError::AmountTooLarge { field, value });
            }
        }
        Ok(())
    }

    /// The round a height belongs to (the reference's `CalcVoteSeq`): 0 for genesis, then
    /// `(height - 1) / round_length + 1`.
    pub fn round_of(&self, height: u64) -> u64 {
        match height.checked_sub(1) {
            None => 0,
            Some(h) => h / self.round_length.max(1) + 1,
        }
    }

    /// Whether `height` is the last block of its round, where the next set is fixed.
    pub fn is_round_end(&self, height: u64) -> bool {
        height.is_multiple_of(self.round_length.max(1))
    }

    /// First height of round `round` (1 for rounds 0 and 1), or `None` on overflow.
    pub fn round_start(&self, round: u64) -> Option<u64> {
        round
            .saturating_sub(1)
            .checked_mul(self.round_length)?
            .checked_add(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_vapor_mainnet() {
        let c = DposConfig::default();
        assert_eq!(c.round_length, 1200);
        assert_eq!(c.num_validators, 10);
        assert_eq!(c.blocks_per_producer, 12);
        assert_eq!(c.min_validator_stake, 1_000_000 * 100_000_000);
        assert_eq!(c.min_vote_amount, 100_000_000);
        assert_eq!(c.vote_lock_blocks, 3_456_000);
        assert_eq!(c.validate(), Ok(()));
    }

    #[test]
    fn subsidy_follows_the_reference_table() {
        let c = DposConfig::default();
        assert_eq!(c.subsidy_at(0), 0);
        assert_eq!(c.subsidy_at(1), 9_512_938);
        assert_eq!(c.subsidy_at(63_072_001), 9_512_938);
        assert_eq!(c.subsidy_at(126_144_000), 9_512_938);
        assert_eq!(c.subsidy_at(126_144_001), 0);
        let c = DposConfig::new(10, 1, 1, 1, 1, 0, 7).unwrap();
        assert_eq!(c.subsidy_at(u64::MAX), 7);
        let c = c.with_subsidy_until(20);
        assert_eq!((c.subsidy_at(20), c.subsidy_at(21)), (7, 0));
    }

    #[test]
    fn constructor_rejects_bad_values() {
        assert_eq!(
            DposConfig::new(0, 10, 12, 1, 1, 0, 0),
            Err(ConfigError::Zero {
                field: "round_length"
            })
        );
        assert_eq!(
            DposConfig::new(10, 0, 12, 1, 1, 0, 0),
            Err(ConfigError::Zero {
                field: "num_validators"
            })
        );
        assert_eq!(
            DposConfig::new(10, 1, 0, 1, 1, 0, 0),
            Err(ConfigError::Zero {
                field: "blocks_per_producer"
            })
        );
        assert_eq!(
            DposConfig::new(10, 1, 1, 1, 0, 0, 0),
            Err(ConfigError::Zero {
                field: "min_vote_amount"
            })
        );
        assert!(matches!(
            DposConfig::new(10, 1, 1, u64::MAX, 1, 0, 0),
            Err(ConfigError::AmountTooLarge { .. })
        ));
        assert!(DposConfig::new(10, 3, 2, 5, 1, 0, 7).is_ok());
        let c = DposConfig::default();
        assert_eq!(c.voter_share_percent, 0);
        assert_eq!(c.with_voter_share(100).unwrap().voter_share_percent, 100);
        assert_eq!(
            c.with_voter_share(101),
            Err(ConfigError::PercentAbove100 {
                field: "voter_share_percent",
                value: 101
            })
        );
    }

    #[test]
    fn rounds_follow_the_reference_sequence() {
        let c = DposConfig::default();
        assert_eq!(c.round_of(0), 0);
        assert_eq!(c.round_of(1), 1);
        assert_eq!(c.round_of(1200), 1);
        assert_eq!(c.round_of(1201), 2);
        assert!(c.is_round_end(0));
        assert!(c.is_round_end(2400));
        assert!(!c.is_round_end(2401));
        assert_eq!(c.round_start(0), Some(1));
        assert_eq!(c.round_start(1), Some(1));
        assert_eq!(c.round_start(3), Some(2401));
        assert_eq!(c.round_start(u64::MAX), None);
    }
}

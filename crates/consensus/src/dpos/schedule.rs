//! Block-producer schedule: within a round, validators take turns in election order, each producing a
//! run of `blocks_per_producer` consecutive heights; the cycle repeats until the round ends.
//!
//! The reference derives the turn from the block timestamp (`getBlockerOrder`: slot =
//! `((t - round_start) mod (run * N * interval)) / (run * interval)`). With one block per interval the
//! same turn follows from the height's offset in the round, which keeps this function pure and
//! independent of clocks.

use super::config::DposConfig;
use super::state::{Validator, ValidatorSet};

/// The election-order index of the validator that produces `height`, for a set of `set_len`
/// validators; `None` for genesis (height 0, produced by no one) or an empty set.
pub fn producer_index(config: &DposConfig, set_len: usize, height: u64) -> Option<usize> {
    if height == 0 || set_len == 0 {
        return None;
    }
    let start = config.round_start(config.round_of(height))?;
    let offset = height.checked_sub(start)?;
    let slot = offset / config.blocks_per_producer.max(1);
    let len = u64::try_from(set_len).ok()?;
    usize::try_from(slot % len).ok()
}

/// The validator of `set` that produces `height` (see [`producer_index`]).
pub fn producer_at<'a>(config: &DposConfig, set: &'a ValidatorSet, height: u64) -> Option<&'a Validator> {
    producer_index(config, set.len(), height).and_then(|i| set.validators().get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vapor_schedule_runs_of_twelve() {
        let c = DposConfig::default();
        assert_eq!(producer_index(&c, 10, 0), None);
        assert_eq!(producer_index(&c, 0, 5), None);
        for h in 1..=12 {
            assert_eq!(producer_index(&c, 10, h), Some(0), "height {h}");
        }
        assert_eq!(producer_index(&c, 10, 13), Some(1));
        assert_eq!(producer_index(&c, 10, 120), Some(9));
        assert_eq!(producer_index(&c, 10, 121), Some(0));
        // The last block of round 1 and the first of round 2.
        assert_eq!(producer_index(&c, 10, 1200), Some(9));
        assert_eq!(producer_index(&c, 10, 1201), Some(0));
        // A smaller set cycles faster.
        assert_eq!(producer_index(&c, 3, 37), Some(0));
        assert_eq!(producer_index(&c, 3, 36), Some(2));
    }

    #[test]
    fn schedule_restarts_each_round_even_when_runs_do_not_divide_it() {
        let c = DposConfig::new(10, 3, 4, 1, 1, 0, 0).unwrap();
        let round1: Vec<_> = (1..=10).map(|h| producer_index(&c, 3, h).unwrap()).collect();
        assert_eq!(round1, vec![0, 0, 0, 0, 1, 1, 1, 1, 2, 2]);
        let round2: Vec<_> = (11..=20).map(|h| producer_index(&c, 3, h).unwrap()).collect();
        assert_eq!(round2, round1);
    }
}

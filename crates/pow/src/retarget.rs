//! Difficulty retargeting.
//!
//! # Consensus
//! Bytom v1.1.0 `consensus/difficulty.CalcNextRequiredDifficulty` and `protocol/state/blockindex.go`
//! `CalcNextBits`. The bits of block `h + 1` are block `h`'s bits unless `h` is a nonzero multiple of the
//! retarget interval `N`. Then, with `first` the block at `h − N`:
//!
//! `target' = ⌊target(bits_h) · (t_h − t_first) / (N · T)⌋`, `bits' = compact(target')`
//!
//! where the timespan is the 64-bit wrapping difference of the timestamps read as signed (a negative
//! timespan gives a negative target), the division rounds toward −∞ (Go's Euclidean `big.Int.Div` with
//! a positive divisor), and `compact` is [`types::difficulty::target_to_compact`]. The reference
//! applies no clamp of the timespan and no limit on the target; [`PowParams`] may add both for our
//! own networks.

use num_bigint::{BigInt, Sign};
use types::difficulty::{compact_to_target, target_to_compact};

use crate::params::PowParams;

/// What retargeting reads of a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HeaderInfo {
    /// Height.
    pub height: u64,
    /// Timestamp, seconds.
    pub timestamp: u64,
    /// Compact difficulty.
    pub bits: u64,
}

impl HeaderInfo {
    /// The retarget view of a main-chain header (`None` for a sidechain header).
    pub fn of(header: &types::BlockHeader) -> Option<HeaderInfo> {
        Some(HeaderInfo {
            height: header.height,
            timestamp: header.timestamp,
            bits: header.bits()?,
        })
    }
}

/// Whether the block after one at `last_height` gets retargeted bits.
pub fn is_retarget_height(params: &PowParams, last_height: u64) -> bool {
    params.blocks_per_retarget != 0
        && last_height != 0
        && last_height.is_multiple_of(params.blocks_per_retarget)
}

/// The height of the block whose timestamp opens the period that ends at `last_height`, when the
/// block after `last_height` is retargeted: `last_height − N`.
pub fn period_start_height(params: &PowParams, last_height: u64) -> Option<u64> {
    is_retarget_height(params, last_height).then(|| last_height - params.blocks_per_retarget)
}

/// The bits the block after `last` must carry. `first_of_period` is the block at
/// [`period_start_height`] on the same chain; it is read only when `last` ends a period.
pub fn next_bits(params: &PowParams, last: &HeaderInfo, first_of_period: &HeaderInfo) -> u64 {
    if !is_retarget_height(params, last.height) {
        return last.bits;
    }
    // The reference subtracts unsigned timestamps and reads the result as signed.
    let mut actual = last
        .timestamp
        .wrapping_sub(first_of_period.timestamp)
        .cast_signed();
    // At least one second: a zero block interval in a hand-made `PowParams` must not divide by zero.
    let target_span = i64::try_from(params.target_timespan().max(1)).unwrap_or(i64::MAX);
    if let Some(factor) = params.max_adjustment_factor.filter(|f| *f > 0) {
        let factor = i64::try_from(factor).unwrap_or(i64::MAX);
        actual = actual.clamp(target_span / factor, target_span.saturating_mul(factor));
    }
    let product = compact_to_target(last.bits) * BigInt::from(actual);
    let mut target = floor_div(&product, &BigInt::from(target_span));
    if let Some(limit_bits) = params.pow_limit_bits {
        let limit = compact_to_target(limit_bits);
        if target > limit {
            target = limit;
        }
    }
    target_to_compact(&target)
}

/// `⌊a / b⌋` for `b > 0` (num-bigint's `/` truncates toward zero).
fn floor_div(a: &BigInt, b: &BigInt) -> BigInt {
    let q = a / b;
    if a.sign() == Sign::Minus && (&q * b) != *a {
        q - 1u8
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits_of(n: i64) -> u64 {
        target_to_compact(&BigInt::from(n))
    }

    fn info(height: u64, timestamp: u64, bits: u64) -> HeaderInfo {
        HeaderInfo {
            height,
            timestamp,
            bits,
        }
    }

    #[test]
    fn reference_difficulty_vectors() {
        // Bytom v1.1.0 consensus/difficulty/difficulty_test.go, TestCalcNextRequiredDifficulty: every
        // case, in order, as (last header, compare header, want).
        let p = PowParams::mainnet();
        let n = p.blocks_per_retarget;
        let span = p.target_timespan();
        let tpb = p.target_seconds_per_block;
        let k = bits_of(1000);
        let cases: Vec<(HeaderInfo, HeaderInfo, u64)> = vec![
            (info(n, span, k), info(0, 0, 0), bits_of(1000)),
            (info(n, span * 2, k), info(0, 0, 0), bits_of(2000)),
            (info(n - 1, span * 2 - tpb, k), info(0, 0, 0), bits_of(1000)),
            (info(n, span / 2, k), info(0, 0, 0), bits_of(500)),
            (info(n * 2, span + span * 2, k), info(n, span, 0), bits_of(2000)),
            (info(n * 2, span + span / 2, k), info(n, span, 0), bits_of(500)),
            (
                info(n * 2 - 1, span + span * 2 - tpb, k),
                info(n, span, 0),
                bits_of(1000),
            ),
            (
                info(n * 2 - 1, span + span / 2 - tpb, k),
                info(n, span, 0),
                bits_of(1000),
            ),
            (info(0, 0, 0), info(0, 0, 0), 0),
            (info(0, 0, u64::MAX), info(0, 0, 0), u64::MAX),
            (info(0, 0, k), info(0, 0, 0), bits_of(1000)),
            (info(n, span, k), info(n - 1, span, 0), 0),
            (
                info(n, span, k),
                info(n - 1, span + 9_223_372_036_854_775_808, 0),
                540_431_955_291_560_988,
            ),
            (
                info(n, span + 9_223_372_036_854_775_807, k),
                info(n - 1, span, 0),
                504_403_158_272_597_019,
            ),
            (info(n, u64::MAX, k), info(n - 1, 0, 0), 108_086_391_056_957_440),
            (info(n, span * 2, k), info(n - 1, span, 0), bits_of(1000)),
            (
                info(n, span * 3, k),
                info(n - 1, span, 0),
                144_115_188_076_367_872,
            ),
            (
                info(n, span + 9_223_372_036_854_775_807, k),
                info(n - 1, span, 0),
                504_403_158_272_597_019,
            ),
            (info(n, span * 2, 0), info(n - 1, span, 0), 0),
            (
                info(n, span * 2, u64::MAX),
                info(n - 1, span, 0),
                252_201_579_141_136_384,
            ),
            (info(n + 1, span * 2, k), info(n, span, 0), bits_of(1000)),
            (info(n - 1, span * 2, k), info(n - 2, span, 0), bits_of(1000)),
            (info(n * 2, span * 2, k), info(n * 2 - 1, span, 0), bits_of(1000)),
            (info(n / 2, span * 2, k), info(n / 2 - 1, span, 0), bits_of(1000)),
        ];
        for (i, (last, first, want)) in cases.iter().enumerate() {
            assert_eq!(next_bits(&p, last, first), *want, "case {i}");
        }
    }

    #[test]
    fn degenerate_parameters_do_not_panic() {
        let mut p = PowParams::mainnet();
        p.target_seconds_per_block = 0;
        let _ = next_bits(&p, &info(2016, u64::MAX, u64::MAX), &info(0, 0, 0));
        p.blocks_per_retarget = 0;
        assert_eq!(
            next_bits(&p, &info(2016, 5, 77), &info(0, 0, 0)),
            77,
            "never retargets"
        );
    }

    #[test]
    fn period_start_is_one_interval_back() {
        let p = PowParams::mainnet();
        assert_eq!(period_start_height(&p, 0), None);
        assert_eq!(period_start_height(&p, 2015), None);
        assert_eq!(period_start_height(&p, 2016), Some(0));
        assert_eq!(period_start_height(&p, 4032), Some(2016));
        assert_eq!(period_start_height(&p, 4033), None);
    }

    #[test]
    fn devnet_clamps_the_timespan_and_the_target() {
        let p = PowParams::devnet();
        let n = p.blocks_per_retarget;
        let span = p.target_timespan();
        let start = info(0, 1_000, 0);
        // Ten times slower than aimed: only four times easier.
        let slow = next_bits(&p, &info(n, 1_000 + span * 10, bits_of(1_000_000)), &start);
        assert_eq!(slow, bits_of(4_000_000));
        // Instant or backwards: four times harder, never a negative target.
        let back = next_bits(&p, &info(n, 10, bits_of(1_000_000)), &start);
        assert_eq!(back, bits_of(250_000));
        // Already at the limit and slow: stays at the limit.
        let limit = crate::params::DEVNET_POW_LIMIT_BITS;
        assert_eq!(compact_to_target(limit), BigInt::from(1u8) << 255u32);
        assert_eq!(next_bits(&p, &info(n, 1_000 + span * 2, limit), &start), limit);
        assert_eq!(types::difficulty::work_from_bits(limit), BigInt::from(1u8));
        // Mainnet has neither clamp: ten times slower is ten times easier.
        let m = PowParams::mainnet();
        let main_slow = next_bits(
            &m,
            &info(2016, 1_000 + m.target_timespan() * 10, bits_of(1_000_000)),
            &start,
        );
        assert_eq!(main_slow, bits_of(10_000_000));
    }
}

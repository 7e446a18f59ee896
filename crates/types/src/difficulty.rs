//! The main chain's compact difficulty encoding (Bytom v1.1.0 `consensus/difficulty`).
//!
//! `bits` packs a target `N = (-1)^sign · mantissa · 256^(exponent − 3)`: exponent in bits 63..56, sign in
//! bit 55, mantissa in bits 54..0. A block's work is `2^256 / (N + 1)`, the figure the reference's
//! `get-block` prints as `difficulty`.

use num_bigint::Sign;

/// The big integers targets and work are expressed in, re-exported so that users of this module need
/// no direct dependency on `num-bigint`.
pub use num_bigint::{BigInt, BigUint};

const MANTISSA_MASK: u64 = 0x007f_ffff_ffff_ffff;
const SIGN_BIT: u64 = 0x0080_0000_0000_0000;

/// The target a compact `bits` value encodes (may be negative or zero for malformed bits).
pub fn compact_to_target(bits: u64) -> BigInt {
    let mut mantissa = bits & MANTISSA_MASK;
    let negative = bits & SIGN_BIT != 0;
    let exponent = u32::try_from(bits >> 56).unwrap_or(u32::MAX);
    let target = if exponent <= 3 {
        // At most 3 · 8 = 24 bits are shifted out, which `checked_shr` cannot fail on.
        mantissa = mantissa.checked_shr(8 * (3 - exponent)).unwrap_or(0);
        BigInt::from(mantissa)
    } else {
        // exponent ≤ 255, so the shift is at most 2,016 bits: bounded, whatever the input.
        BigInt::from(mantissa) << (8 * (exponent - 3))
    };
    if negative { -target } else { target }
}

/// The compact `bits` of a target (Bytom v1.1.0 `BigToCompact`), the inverse of [`compact_to_target`] up to
/// the encoding's precision: three significant bytes are kept.
///
/// # Consensus
/// Matches the reference bit for bit, quirks included, because retargeted bits are compared for equality:
/// - the mantissa of a negative target is its magnitude shifted right with rounding toward −∞ on the
///   signed value (Go's `big.Int.Rsh`), i.e. the magnitude rounded *up* when bits are dropped;
/// - the exponent is the magnitude's byte length written into bits 63..56 with the upper bits lost, as
///   the reference's `uint64(exponent) << 56` loses them, so targets of 256 bytes or more wrap.
pub fn target_to_compact(target: &BigInt) -> u64 {
    let (sign, magnitude) = (target.sign(), target.magnitude());
    if sign == Sign::NoSign {
        return 0;
    }
    let bytes = magnitude.to_bytes_be();
    let mut exponent = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    let low_word = |n: &num_bigint::BigUint| n.iter_u64_digits().next().unwrap_or(0);
    let mut mantissa = if exponent <= 3 {
        // Fewer than four bytes: the magnitude fits in 24 bits, moved up to the mantissa's top byte.
        low_word(magnitude) << (8 * (3 - exponent))
    } else {
        let shift = 8 * (exponent - 3);
        let shifted = magnitude >> shift;
        let mut m = low_word(&shifted);
        if sign == Sign::Minus && magnitude.trailing_zeros().is_some_and(|tz| tz < shift) {
            // An arithmetic shift of a negative number rounds toward −∞: one more in magnitude.
            m += 1;
        }
        m
    };
    if mantissa & SIGN_BIT != 0 {
        mantissa >>= 8;
        exponent += 1;
    }
    let mut compact = exponent.wrapping_shl(56) | mantissa;
    if sign == Sign::Minus {
        compact |= SIGN_BIT;
    }
    compact
}

/// The work a block of this difficulty represents, `2^256 / (target + 1)`, or zero when the target is
/// not positive (as the reference does).
pub fn work_from_bits(bits: u64) -> BigInt {
    let target = compact_to_target(bits);
    if target.sign() != Sign::Plus {
        return BigInt::from(0u8);
    }
    (BigInt::from(1u8) << 256u32) / (target + 1u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devnet_bits_give_the_reference_difficulty() {
        // A Bytom v1.1.0 solonet block's `bits` and the `difficulty` its get-block printed
        // (tests/fixtures/reference/bytom_blocks.json in the tributary crate).
        assert_eq!(work_from_bits(2_305_843_009_214_532_812).to_string(), "20");
    }

    fn two_pow_256_over(d: BigInt) -> BigInt {
        (BigInt::from(1u8) << 256u32) / d
    }

    #[test]
    fn compact_to_target_reference_vectors() {
        // Bytom v1.1.0 consensus/difficulty/difficulty_test.go, TestCompactToBig.
        let cases: [(&str, BigInt); 9] = [
            (
                "0000000000000000000000000000000000000000000000000000000000000000",
                0.into(),
            ),
            (
                "0000000010000000000000000000000000000000000000000000000000000000",
                0.into(),
            ),
            (
                "0000000100000000000000000000000000000000000000010000000000000000",
                1.into(),
            ),
            (
                "0000000110000000000000000000000000000000000000010000000000000000",
                (-1).into(),
            ),
            (
                "0000001100000000000000000000000000000000000000010000000000000000",
                65_536.into(),
            ),
            (
                "0000001110000000000000000000000000000000000000010000000000000000",
                (-65_536).into(),
            ),
            (
                "0000010000000000000000000000000000000000000000010000000000000000",
                16_777_216.into(),
            ),
            (
                "0000010010000000000000000000000000000000000000010000000000000000",
                (-16_777_216).into(),
            ),
            // PowMinBits 0x1e000000000dbe13.
            (
                "0001111000000000000000000000000000000000000011011011111000010011",
                BigInt::from(0x0d_be13) << (27 * 8),
            ),
        ];
        for (bits, want) in cases {
            let bits = u64::from_str_radix(bits, 2).unwrap();
            assert_eq!(compact_to_target(bits), want, "bits {bits:#x}");
        }
    }

    #[test]
    fn target_to_compact_reference_vectors() {
        // Bytom v1.1.0 consensus/difficulty/difficulty_test.go, TestBigToCompact.
        let cases: [(i64, u64); 8] = [
            (0, 0),
            (-0, 0),
            (1, 0x0100_0000_0001_0000),
            (-1, 0x0180_0000_0001_0000),
            (65_536, 0x0300_0000_0001_0000),
            (-65_536, 0x0380_0000_0001_0000),
            (16_777_216, 0x0400_0000_0001_0000),
            (-16_777_216, 0x0480_0000_0001_0000),
        ];
        for (n, want) in cases {
            assert_eq!(target_to_compact(&BigInt::from(n)), want, "n {n}");
        }
        // The same file: PowMinBits 0x1e000000000dbe13 round trips.
        let n = BigInt::from(0x0d_be13) << (27 * 8);
        assert_eq!(target_to_compact(&n), 0x1e00_0000_000d_be13);
        assert_eq!(compact_to_target(0x1e00_0000_000d_be13), n);
    }

    #[test]
    fn target_to_compact_keeps_three_bytes_and_rounds_negatives_away_from_zero() {
        // 0x12345678 keeps its top three bytes.
        assert_eq!(
            target_to_compact(&BigInt::from(0x1234_5678)),
            0x0400_0000_0012_3456
        );
        // Its negative rounds the dropped 0x78 up (Go's arithmetic shift).
        assert_eq!(
            target_to_compact(&BigInt::from(-0x1234_5678)),
            0x0480_0000_0012_3457
        );
        // Nothing dropped, nothing added.
        assert_eq!(
            target_to_compact(&BigInt::from(-0x1234_5600)),
            0x0480_0000_0012_3456
        );
        // A 259-byte magnitude wraps its exponent to 3 (259 mod 256), as the reference's shift does.
        let huge = BigInt::from(0x7f_ffff_ffff_ffffu64) << 2016u32;
        assert_eq!(target_to_compact(&huge), 0x0300_0000_007f_ffff);
    }

    #[test]
    fn work_reference_vectors() {
        // Bytom v1.1.0 consensus/difficulty/difficulty_test.go, TestCalcWork (uint64 cases).
        let zero = BigInt::from(0u8);
        let cases: Vec<(u64, BigInt)> = vec![
            (0, zero.clone()),
            (1, zero.clone()),
            (65_535, zero.clone()),
            (16_777_215, zero.clone()),
            (16_777_216, two_pow_256_over(2.into())),
            (4_294_967_295, two_pow_256_over(256.into())),
            (36_028_797_018_963_967, two_pow_256_over(2_147_483_648u64.into())),
            (36_028_797_018_963_968, zero.clone()),
            (216_172_782_113_783_808, zero.clone()),
            (216_172_782_113_783_809, two_pow_256_over(2.into())),
            (216_172_782_130_561_024, two_pow_256_over(16_777_217.into())),
            (
                252_201_579_132_747_775,
                two_pow_256_over(36_028_797_018_963_968u64.into()),
            ),
            (252_201_579_132_747_776, zero.clone()),
            (288_230_376_151_711_744, zero.clone()),
            (288_230_376_151_711_745, two_pow_256_over(257.into())),
            (
                540_431_955_284_459_519,
                two_pow_256_over((BigInt::from(36_028_797_018_963_967u64) << 32u32) + 1u8),
            ),
            (540_431_955_284_459_520, zero.clone()),
            (9_223_372_036_854_775_807, zero.clone()),
            (18_446_744_073_709_551_615, zero),
        ];
        for (bits, want) in cases {
            assert_eq!(work_from_bits(bits), want, "bits {bits}");
        }
    }
}

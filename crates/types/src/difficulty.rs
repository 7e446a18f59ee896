//! The main chain's compact difficulty encoding (Bytom v1.1.0 `consensus/difficulty`).
//!
//! `bits` packs a target `N = (-1)^sign · mantissa · 256^(exponent − 3)`: exponent in bits 63..56, sign in
//! bit 55, mantissa in bits 54..0. A block's work is `2^256 / (N + 1)`, the figure the reference's
//! `get-block` prints as `difficulty`.

use num_bigint::{BigInt, Sign};

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

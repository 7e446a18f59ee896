//! The 256×256 int8 matrix product at the heart of Tensority, and its reduction back to int8.
//!
//! The reference multiplies in float64 (exact here) and reduces each int32 entry `v` to
//! `int8((v & 0xff) + ((v >> 8) & 0xff))`. That reduction reads only the low 16 bits of `v`, so the
//! whole dot product can be computed in wrapping 16-bit arithmetic: every partial sum is exact
//! modulo 2^16, which is all the reduction looks at. 16-bit lanes are twice as many per vector
//! register as 32-bit ones, and the compiler vectorises the loops below into packed 16-bit
//! multiply/add instructions.

/// Rows and columns of every Tensority matrix.
pub const DIM: usize = 256;
/// Entries of one matrix.
pub const CELLS: usize = DIM * DIM;

/// A 256×256 matrix of int8 values held in `i16`, row-major.
pub type Matrix = [[i16; DIM]; DIM];

/// A zeroed [`Matrix`] on the heap.
pub fn zero_matrix() -> Box<Matrix> {
    Box::new([[0i16; DIM]; DIM])
}

/// Tensority's reduction of one wrapped 16-bit dot product to an int8 (kept in an `i16`):
/// the low byte plus the next byte, modulo 256, read as signed.
#[inline]
pub fn reduce(v: i16) -> i16 {
    let u = v.cast_unsigned();
    let sum = (u & 0xff) + (u >> 8);
    i16::from(sum.to_le_bytes()[0].cast_signed())
}

/// `out = reduce(a × mᵀ)`.
///
/// The reference multiplies by the *transpose* of the cache matrix, so entry `(r, c)` is the dot
/// product of row `r` of `a` with row `c` of `m`: both contiguous, no transposition needed. Four
/// rows of `a` are taken against one row of `m` at a time (five row loads feed four dot products),
/// and each `k` loop is a plain wrapping 16-bit reduction, which the loop vectoriser turns into
/// packed 16-bit multiplies and adds over several partial sums, folded once per entry.
/// (Register-blocked outer-product kernels were tried too: on the baseline x86-64 target they were
/// no faster and the optimiser sometimes spilled their accumulators, ten times slower; this shape
/// is vectorised reliably.)
pub fn mul_reduce(a: &Matrix, m: &Matrix, out: &mut Matrix) {
    for (a4, out4) in a.chunks_exact(4).zip(out.chunks_exact_mut(4)) {
        let ([a0, a1, a2, a3], [o0, o1, o2, o3]) = (a4, out4) else {
            continue;
        };
        for (c, m_row) in m.iter().enumerate() {
            let (mut s0, mut s1, mut s2, mut s3) = (0i16, 0i16, 0i16, 0i16);
            for k in 0..DIM {
                let b = m_row[k];
                s0 = s0.wrapping_add(a0[k].wrapping_mul(b));
                s1 = s1.wrapping_add(a1[k].wrapping_mul(b));
                s2 = s2.wrapping_add(a2[k].wrapping_mul(b));
                s3 = s3.wrapping_add(a3[k].wrapping_mul(b));
            }
            o0[c] = reduce(s0);
            o1[c] = reduce(s1);
            o2[c] = reduce(s2);
            o3[c] = reduce(s3);
        }
    }
}

/// The reference computation written plainly: `reduce(a × mᵀ)` in `i32` with the reference's
/// int32-to-int8 rule, for `a` and `m` given row-major as int8. Slow; for tests.
pub fn naive_mul_transposed_reduce(a: &[i8], m: &[i8]) -> Vec<i8> {
    let mut out = vec![0i8; CELLS];
    for r in 0..DIM {
        for c in 0..DIM {
            let v: i32 = (0..DIM)
                .map(|k| i32::from(a[r * DIM + k]) * i32::from(m[c * DIM + k]))
                .sum();
            let sum = (v & 0xff) + ((v >> 8) & 0xff);
            out[r * DIM + c] = sum.to_le_bytes()[0].cast_signed();
        }
    }
    out
}

/// A row-major int8 matrix (`CELLS` entries) widened to `i16`; missing entries read as 0.
pub fn widen(m: &[i8], out: &mut Matrix) {
    for (r, out_row) in out.iter_mut().enumerate() {
        for (c, o) in out_row.iter_mut().enumerate() {
            *o = m.get(r * DIM + c).map_or(0, |&x| i16::from(x));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fast(a: &[i8], m: &[i8]) -> Vec<i8> {
        let mut a16 = zero_matrix();
        widen(a, &mut a16);
        let mut m16 = zero_matrix();
        widen(m, &mut m16);
        let mut out = zero_matrix();
        mul_reduce(&a16, &m16, &mut out);
        out.iter()
            .flatten()
            .map(|&v| i8::try_from(v).expect("reduced values fit int8"))
            .collect()
    }

    fn random_matrix(seed: u64) -> Vec<i8> {
        // xorshift64*: deterministic, covers the whole int8 range including -128.
        let mut s = seed | 1;
        (0..CELLS)
            .map(|_| {
                s ^= s >> 12;
                s ^= s << 25;
                s ^= s >> 27;
                s.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes()[7].cast_signed()
            })
            .collect()
    }

    #[test]
    fn reduce_matches_the_reference_rule_on_every_i32_residue() {
        // The reference reduces the full int32; we reduce it modulo 2^16. Compare over values
        // that differ only above bit 15, and negative ones.
        for v in [
            -300_000i32,
            -65_536,
            -1,
            0,
            1,
            255,
            256,
            511,
            65_535,
            4_194_304,
            8_323_072,
        ] {
            let want = ((v & 0xff) + ((v >> 8) & 0xff)).to_le_bytes()[0].cast_signed();
            let low16 = i16::from_le_bytes([v.to_le_bytes()[0], v.to_le_bytes()[1]]);
            assert_eq!(reduce(low16), i16::from(want), "v = {v}");
        }
        assert_eq!(reduce(-1), -2, "0xffff: 0xff + 0xff = 510, int8(510) = -2");
        assert_eq!(reduce(0x0101), 2);
    }

    #[test]
    fn extreme_matrices_match_the_naive_product() {
        // All -128 maximises |sums|: 256 · 128 · 128 = 2^22, far outside 16 bits.
        let a = vec![-128i8; CELLS];
        let m = vec![-128i8; CELLS];
        assert_eq!(fast(&a, &m), naive_mul_transposed_reduce(&a, &m));
        let m = vec![127i8; CELLS];
        assert_eq!(fast(&a, &m), naive_mul_transposed_reduce(&a, &m));
    }

    #[test]
    fn identity_times_transpose() {
        let mut id = vec![0i8; CELLS];
        for i in 0..DIM {
            id[i * DIM + i] = 1;
        }
        let m = random_matrix(99);
        let got = fast(&id, &m);
        for r in 0..DIM {
            for c in 0..DIM {
                let v = i32::from(m[c * DIM + r]);
                let want = ((v & 0xff) + ((v >> 8) & 0xff)).to_le_bytes()[0].cast_signed();
                assert_eq!(got[r * DIM + c], want);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(8))]
        #[test]
        fn fast_product_equals_naive_product(sa in any::<u64>(), sm in any::<u64>()) {
            let a = random_matrix(sa);
            let m = random_matrix(sm);
            prop_assert_eq!(fast(&a, &m), naive_mul_transposed_reduce(&a, &m));
        }
    }
}

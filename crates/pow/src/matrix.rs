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

/// `out = reduce(a × mᵀ)`, with the fastest build of the kernel this CPU runs
/// ([`Kernel::detected`], chosen once per process).
///
/// The reference multiplies by the *transpose* of the cache matrix, so entry `(r, c)` is the dot
/// product of row `r` of `a` with row `c` of `m`: both contiguous, no transposition needed. Four
/// rows of `a` are taken against one row of `m` at a time (five row loads feed four dot products),
/// and each `k` loop is a plain wrapping 16-bit reduction, which the loop vectoriser turns into
/// packed 16-bit multiplies and adds over several partial sums, folded once per entry.
/// (Register-blocked outer-product kernels were tried too: on the baseline x86-64 target they were
/// no faster and the optimiser sometimes spilled their accumulators, ten times slower; this shape
/// is vectorised reliably.)
///
/// The same safe Rust body is compiled twice on x86-64: for the baseline target (SSE2, 8 lanes of
/// 16 bits per register) and with AVX2 enabled (16 lanes), and the AVX2 build runs when the CPU has
/// it. Both give identical results (integer arithmetic, same operations in the same order per
/// entry); the tests check it on the reference vectors and on random matrices.
pub fn mul_reduce(a: &Matrix, m: &Matrix, out: &mut Matrix) {
    if Kernel::detected() == Kernel::Avx2 && x86::try_avx2(a, m, out) {
        return;
    }
    mul_reduce_body(a, m, out);
}

/// One build of the matrix kernel. [`mul_reduce`] picks [`Kernel::detected`]; tests and benchmarks
/// run each one explicitly with [`Kernel::mul_reduce`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Compiled for the build's target only (on x86-64 without `target-cpu` flags: SSE2). Runs
    /// everywhere.
    Portable,
    /// The same code compiled with AVX2 enabled. x86-64 only, and only on CPUs that have AVX2.
    Avx2,
}

/// The CPU cannot run the requested [`Kernel`] (nothing was computed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this CPU cannot run the {0:?} Tensority kernel")]
pub struct KernelUnavailable(pub Kernel);

impl Kernel {
    /// Every build, portable first.
    pub const ALL: [Kernel; 2] = [Kernel::Portable, Kernel::Avx2];

    /// The fastest kernel this CPU runs. Detected on the first call and cached for the process.
    pub fn detected() -> Kernel {
        static DETECTED: std::sync::OnceLock<Kernel> = std::sync::OnceLock::new();
        *DETECTED.get_or_init(|| {
            if Kernel::Avx2.is_available() {
                Kernel::Avx2
            } else {
                Kernel::Portable
            }
        })
    }

    /// Whether this CPU can run this kernel.
    pub fn is_available(self) -> bool {
        match self {
            Kernel::Portable => true,
            Kernel::Avx2 => x86::has_avx2(),
        }
    }

    /// `out = reduce(a × mᵀ)` with this build of the kernel (see [`mul_reduce`]), or
    /// [`KernelUnavailable`] with `out` untouched if the CPU cannot run it.
    pub fn mul_reduce(self, a: &Matrix, m: &Matrix, out: &mut Matrix) -> Result<(), KernelUnavailable> {
        match self {
            Kernel::Portable => {
                mul_reduce_body(a, m, out);
                Ok(())
            }
            Kernel::Avx2 if x86::try_avx2(a, m, out) => Ok(()),
            Kernel::Avx2 => Err(KernelUnavailable(self)),
        }
    }
}

/// The kernel body, in safe Rust; inlined into each build (the portable one here, the AVX2 one in
/// [`x86`]) so that each is vectorised for its own instruction set.
#[inline(always)]
fn mul_reduce_body(a: &Matrix, m: &Matrix, out: &mut Matrix) {
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

/// The AVX2 build of the kernel and its run-time check (x86-64).
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Matrix, mul_reduce_body};

    /// Whether the CPU has every feature [`mul_reduce_avx2`] is compiled with (std caches the
    /// CPUID answer, so this is one atomic load after the first call).
    pub(super) fn has_avx2() -> bool {
        std::is_x86_feature_detected!("avx2")
    }

    /// [`mul_reduce_body`] compiled with AVX2 enabled: the vectoriser uses 256-bit registers.
    #[target_feature(enable = "avx2")]
    fn mul_reduce_avx2(a: &Matrix, m: &Matrix, out: &mut Matrix) {
        mul_reduce_body(a, m, out);
    }

    /// Runs [`mul_reduce_avx2`] if the CPU has AVX2 and returns `true`; returns `false` (nothing
    /// computed) otherwise. The crate's only `unsafe`: see the reason in crates/pow/Cargo.toml.
    #[allow(unsafe_code)]
    pub(super) fn try_avx2(a: &Matrix, m: &Matrix, out: &mut Matrix) -> bool {
        if !has_avx2() {
            return false;
        }
        // SAFETY: calling a `#[target_feature]` function is unsafe only because running it on a CPU
        // without those features is undefined behaviour. `mul_reduce_avx2` enables exactly "avx2",
        // and `has_avx2()` just confirmed at run time that this CPU supports AVX2. The function
        // itself is safe Rust (slices and bounds checks), so no other obligation exists.
        unsafe { mul_reduce_avx2(a, m, out) };
        true
    }
}

/// Not x86-64: only the portable kernel exists.
#[cfg(not(target_arch = "x86_64"))]
mod x86 {
    use super::Matrix;

    /// No AVX2 off x86-64.
    pub(super) fn has_avx2() -> bool {
        false
    }

    /// Never runs anything off x86-64.
    pub(super) fn try_avx2(_a: &Matrix, _m: &Matrix, _out: &mut Matrix) -> bool {
        false
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

    fn narrow(out: &Matrix) -> Vec<i8> {
        out.iter()
            .flatten()
            .map(|&v| i8::try_from(v).expect("reduced values fit int8"))
            .collect()
    }

    fn widened(a: &[i8], m: &[i8]) -> (Box<Matrix>, Box<Matrix>) {
        let mut a16 = zero_matrix();
        widen(a, &mut a16);
        let mut m16 = zero_matrix();
        widen(m, &mut m16);
        (a16, m16)
    }

    /// The dispatched kernel ([`mul_reduce`]).
    fn fast(a: &[i8], m: &[i8]) -> Vec<i8> {
        let (a16, m16) = widened(a, m);
        let mut out = zero_matrix();
        mul_reduce(&a16, &m16, &mut out);
        narrow(&out)
    }

    /// One kernel explicitly; `None` if this CPU cannot run it. The output starts as a pattern no
    /// product gives everywhere, so a kernel that wrote nothing would be caught.
    fn with_kernel(kernel: Kernel, a: &[i8], m: &[i8]) -> Option<Vec<i8>> {
        let (a16, m16) = widened(a, m);
        let mut out = zero_matrix();
        for (i, v) in out.iter_mut().flatten().enumerate() {
            *v = i16::try_from(i % 256).expect("fits") - 128;
        }
        kernel.mul_reduce(&a16, &m16, &mut out).ok()?;
        Some(narrow(&out))
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

    #[test]
    fn detection_matches_the_cpu_and_unavailable_kernels_touch_nothing() {
        #[cfg(target_arch = "x86_64")]
        let has_avx2 = std::is_x86_feature_detected!("avx2");
        #[cfg(not(target_arch = "x86_64"))]
        let has_avx2 = false;
        let want = if has_avx2 { Kernel::Avx2 } else { Kernel::Portable };
        assert_eq!(Kernel::detected(), want);
        assert!(Kernel::Portable.is_available());
        assert_eq!(Kernel::Avx2.is_available(), has_avx2);
        eprintln!("kernel in use on this CPU: {:?}", Kernel::detected());
        if !has_avx2 {
            let (a, m) = widened(&random_matrix(1), &random_matrix(2));
            let mut out = zero_matrix();
            out[3][4] = 77;
            let before = out.clone();
            assert_eq!(
                Kernel::Avx2.mul_reduce(&a, &m, &mut out),
                Err(KernelUnavailable(Kernel::Avx2))
            );
            assert_eq!(out, before, "an unavailable kernel writes nothing");
        }
    }

    /// Values drawn either from the whole int8 range or from its extremes only (the largest
    /// partial sums, where a kernel that saturated or widened differently would show).
    fn matrix_strategy() -> impl Strategy<Value = Vec<i8>> {
        prop_oneof![
            any::<u64>().prop_map(random_matrix),
            (any::<u64>(), prop::sample::select(vec![-128i8, 127, -1, 1])).prop_map(|(seed, pick)| {
                random_matrix(seed)
                    .into_iter()
                    .map(|v| if v < 0 { -128 } else { pick })
                    .collect()
            }),
        ]
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

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn portable_and_avx2_kernels_agree_bit_for_bit(a in matrix_strategy(), m in matrix_strategy()) {
            let portable = with_kernel(Kernel::Portable, &a, &m).expect("portable runs everywhere");
            prop_assert_eq!(&portable, &naive_mul_transposed_reduce(&a, &m));
            prop_assert_eq!(&fast(&a, &m), &portable, "dispatched kernel");
            match with_kernel(Kernel::Avx2, &a, &m) {
                Some(avx2) => prop_assert_eq!(avx2, portable, "AVX2 kernel"),
                None => {
                    static SAID: std::sync::Once = std::sync::Once::new();
                    SAID.call_once(|| eprintln!("AVX2 half SKIPPED: this CPU has no AVX2"));
                }
            }
        }
    }
}

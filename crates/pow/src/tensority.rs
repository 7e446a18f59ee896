//! Tensority: the cache of 256 matrices derived from a seed, the four-lane matrix walk, the FNV
//! fold and the final SHA3-256.
//!
//! # Consensus
//! Bit-exact with Bytom v1.1.0 `mining/tensority/go_algorithm` (`LegacyAlgorithm`):
//! - extended seed: `seed || H(seed) || H(H(seed)) || H(H(H(seed)))` (H = SHA3-256), 128 bytes;
//! - 128 scrypt `SMix` passes (r = 1, N = 1024) chained through that 128-byte state; each pass's
//!   scratch array (1024 blocks of 128 bytes) gives two matrices: the even blocks in order form the
//!   first, the odd blocks the second; bytes are the little-endian words read as int8, row-major;
//! - lane `i` (0..4) walks the sequence `H(header_hash[8i..8i+8])` twice: starting from the identity,
//!   `A = reduce(A × M[s]ᵀ)` for each byte `s`, with `reduce(v) = int8((v & 0xff) + ((v >> 8) & 0xff))`;
//! - the four lane results are added entry-wise modulo 256;
//! - row `i` becomes 64 words `w[j] = r[i][j] | r[i][j+64] << 8 | r[i][j+128] << 16 | r[i][j+192] << 24`,
//!   the rows are folded pairwise (`row[j] = fnv(row[j], row[j + k/2])` for k = 256, 128, …, 2) and the
//!   result is SHA3-256 of row 0's 64 words as little-endian bytes.

use rayon::prelude::*;
use sha3::{Digest, Sha3_256};
use types::Hash;

use crate::matrix::{CELLS, DIM, Kernel, KernelUnavailable, Matrix, mul_reduce, widen, zero_matrix};
use crate::scrypt::{BLOCK_WORDS, V_WORDS, smix};

/// Matrices in a cache.
pub const MATRICES: usize = 256;
/// Lanes of the walk (one per 8-byte quarter of the header hash).
pub const LANES: usize = 4;
/// Times each lane walks its 32-byte sequence.
const ROUNDS: usize = 2;

fn sha3(data: &[u8]) -> [u8; 32] {
    Sha3_256::digest(data).into()
}

/// The 128-byte state the scrypt passes start from.
fn extended_seed(seed: &Hash) -> [u8; 128] {
    let mut ext = [0u8; 128];
    ext[..32].copy_from_slice(&seed.0);
    for i in 0..3 {
        let next = sha3(&ext[i * 32..(i + 1) * 32]);
        ext[(i + 1) * 32..(i + 2) * 32].copy_from_slice(&next);
    }
    ext
}

/// The reference's int8 matrices for one seed, row-major, 256 × 65,536 bytes (16 MiB): what the
/// reference builds. [`Cache`] keeps them widened to `i16` instead.
pub fn reference_matrices(seed: &Hash) -> Vec<i8> {
    let mut out = vec![0i8; MATRICES * CELLS];
    let mut v = vec![0u32; V_WORDS];
    let mut state = extended_seed(seed);
    for pair in out.chunks_exact_mut(2 * CELLS) {
        smix(&mut state, &mut v);
        fill_matrix_pair(&v, pair);
    }
    out
}

/// Even scrypt blocks of one pass → first matrix, odd blocks → second.
fn fill_matrix_pair(v: &[u32], pair: &mut [i8]) {
    let (first, second) = pair.split_at_mut(CELLS);
    let block_bytes = BLOCK_WORDS * 4;
    for (j, block) in v.chunks_exact(BLOCK_WORDS).enumerate() {
        let dest = if j % 2 == 0 { &mut *first } else { &mut *second };
        let at = (j / 2) * block_bytes;
        for (bytes, w) in dest[at..at + block_bytes].chunks_exact_mut(4).zip(block) {
            for (b, x) in bytes.iter_mut().zip(w.to_le_bytes()) {
                *b = x.cast_signed();
            }
        }
    }
}

/// The per-seed Tensority cache: 256 matrices, held widened to `i16` (32 MiB) so the walk's
/// inner loop needs no conversion. Build once per seed epoch and share (see [`crate::CacheStore`]).
pub struct Cache {
    seed: Hash,
    /// `matrices[m][r][c]` is the reference's `M[m][r][c]`.
    matrices: Box<[Matrix]>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

impl Cache {
    /// Builds the cache for `seed` (≈ 0.1 s: 128 sequential scrypt passes, then widening).
    pub fn new(seed: &Hash) -> Cache {
        let mut matrices = vec![[[0i16; DIM]; DIM]; MATRICES].into_boxed_slice();
        let mut v = vec![0u32; V_WORDS];
        let mut pair = vec![0i8; 2 * CELLS];
        let mut state = extended_seed(seed);
        for out in matrices.chunks_exact_mut(2) {
            smix(&mut state, &mut v);
            fill_matrix_pair(&v, &mut pair);
            for (o, m) in out.iter_mut().zip(pair.chunks_exact(CELLS)) {
                widen(m, o);
            }
        }
        Cache {
            seed: *seed,
            matrices,
        }
    }

    /// The seed this cache was built from.
    pub fn seed(&self) -> &Hash {
        &self.seed
    }

    /// Entry `(row, col)` of matrix `index` as the reference holds it (int8), or `None` out of range.
    pub fn entry(&self, index: u8, row: usize, col: usize) -> Option<i8> {
        if row >= DIM || col >= DIM {
            return None;
        }
        let v = self.matrices.get(usize::from(index))?[row][col];
        i8::try_from(v).ok()
    }

    fn matrix(&self, index: u8) -> &Matrix {
        // The cache always holds MATRICES = 256 matrices, so any u8 index is present.
        &self.matrices[usize::from(index)]
    }
}

/// One lane's walk: its final 256×256 matrix (int8 values in `i16`). `lane` is taken modulo 4.
/// Uses the kernel [`Kernel::detected`] picks.
pub fn lane(header_hash: &Hash, lane: usize, cache: &Cache) -> Box<Matrix> {
    let Ok(a) = walk(header_hash, lane, cache, |a, m, out| {
        mul_reduce(a, m, out);
        Ok::<(), std::convert::Infallible>(())
    });
    a
}

/// The walk, each product computed by `product`; stops at its first error.
fn walk<E>(
    header_hash: &Hash,
    lane: usize,
    cache: &Cache,
    mut product: impl FnMut(&Matrix, &Matrix, &mut Matrix) -> Result<(), E>,
) -> Result<Box<Matrix>, E> {
    let lane = lane % LANES;
    let sequence = sha3(&header_hash.0[lane * 8..lane * 8 + 8]);
    let mut a = zero_matrix();
    for (i, row) in a.iter_mut().enumerate() {
        row[i] = 1;
    }
    let mut next = zero_matrix();
    for _ in 0..ROUNDS {
        for &index in &sequence {
            product(&a, cache.matrix(index), &mut next)?;
            std::mem::swap(&mut a, &mut next);
        }
    }
    Ok(a)
}

/// FNV-1 step as the reference's fold uses it: `a · 0x01000193 ^ b` (32-bit, wrapping).
#[inline]
pub fn fnv(a: u32, b: u32) -> u32 {
    a.wrapping_mul(0x0100_0193) ^ b
}

/// The final step: packs the summed 256×256 byte matrix into 256 rows of 64 words, folds the rows
/// with [`fnv`] and hashes row 0.
pub fn fold_and_hash(sum: &[u8]) -> Hash {
    let mut rows = vec![[0u32; DIM / 4]; DIM];
    for (row, bytes) in rows.iter_mut().zip(sum.chunks_exact(DIM)) {
        for (j, w) in row.iter_mut().enumerate() {
            *w = u32::from_le_bytes([bytes[j], bytes[j + 64], bytes[j + 128], bytes[j + 192]]);
        }
    }
    let mut k = DIM;
    while k > 1 {
        let half = k / 2;
        let (low, high) = rows.split_at_mut(half);
        for (dst, src) in low.iter_mut().zip(high.iter()) {
            for (d, &s) in dst.iter_mut().zip(src) {
                *d = fnv(*d, s);
            }
        }
        k = half;
    }
    let bytes: Vec<u8> = rows[0].iter().flat_map(|w| w.to_le_bytes()).collect();
    Hash(sha3(&bytes))
}

fn combine(lanes: &[Box<Matrix>]) -> Hash {
    let mut sum = vec![0u8; CELLS];
    for lane in lanes {
        for (s, &v) in sum.iter_mut().zip(lane.iter().flatten()) {
            *s = s.wrapping_add(v.to_le_bytes()[0]);
        }
    }
    fold_and_hash(&sum)
}

/// The Tensority hash of a block header hash under `cache`'s seed, lanes computed in parallel on
/// the rayon pool.
pub fn hash(header_hash: &Hash, cache: &Cache) -> Hash {
    let lanes: Vec<Box<Matrix>> = (0..LANES)
        .into_par_iter()
        .map(|i| lane(header_hash, i, cache))
        .collect();
    combine(&lanes)
}

/// [`hash`] on the calling thread only (for callers that parallelise across headers instead).
pub fn hash_single_threaded(header_hash: &Hash, cache: &Cache) -> Hash {
    let lanes: Vec<Box<Matrix>> = (0..LANES).map(|i| lane(header_hash, i, cache)).collect();
    combine(&lanes)
}

/// [`hash`] with one build of the matrix kernel chosen explicitly instead of the detected one (for
/// tests and benchmarks that compare them), lanes in parallel. [`KernelUnavailable`] if this CPU
/// cannot run `kernel`.
pub fn hash_with_kernel(
    header_hash: &Hash,
    cache: &Cache,
    kernel: Kernel,
) -> Result<Hash, KernelUnavailable> {
    if !kernel.is_available() {
        return Err(KernelUnavailable(kernel));
    }
    let lanes = (0..LANES)
        .into_par_iter()
        .map(|i| walk(header_hash, i, cache, |a, m, out| kernel.mul_reduce(a, m, out)))
        .collect::<Result<Vec<Box<Matrix>>, KernelUnavailable>>()?;
    Ok(combine(&lanes))
}

/// [`hash_with_kernel`] on the calling thread only.
pub fn hash_single_threaded_with_kernel(
    header_hash: &Hash,
    cache: &Cache,
    kernel: Kernel,
) -> Result<Hash, KernelUnavailable> {
    let lanes = (0..LANES)
        .map(|i| walk(header_hash, i, cache, |a, m, out| kernel.mul_reduce(a, m, out)))
        .collect::<Result<Vec<Box<Matrix>>, KernelUnavailable>>()?;
    Ok(combine(&lanes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_is_fnv1_step() {
        assert_eq!(fnv(0, 0), 0);
        assert_eq!(fnv(1, 0), 0x0100_0193);
        assert_eq!(fnv(2, 3), 0x0200_0325);
        assert_eq!(fnv(u32::MAX, 1), 0x0100_0193u32.wrapping_neg() ^ 1);
    }

    #[test]
    fn fold_of_a_single_nonzero_row_zero() {
        // Only row 0 nonzero: every fold step multiplies it by the prime (8 steps) and xors 0.
        let mut sum = vec![0u8; CELLS];
        sum[0] = 1;
        let mut words = [0u32; 64];
        words[0] = 0x0100_0193u32.wrapping_pow(8);
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(fold_and_hash(&sum), Hash(sha3(&bytes)));
    }

    #[test]
    fn fold_packs_columns_j_j64_j128_j192_into_one_word() {
        // Bytes in row 0 at columns 0, 64, 128, 192 form word 0 little-endian; row 0 is then
        // multiplied by the prime at each of the 8 fold steps.
        let mut sum = vec![0u8; CELLS];
        sum[0] = 0x11;
        sum[64] = 0x22;
        sum[128] = 0x33;
        sum[192] = 0x44;
        let mut words = [0u32; 64];
        words[0] = 0x4433_2211u32.wrapping_mul(0x0100_0193u32.wrapping_pow(8));
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(fold_and_hash(&sum), Hash(sha3(&bytes)));
    }

    #[test]
    fn fold_xors_the_partner_row() {
        // Row 128 alone: at k = 256 it is xor-ed into row 0, then row 0 is multiplied 7 more times.
        let mut sum = vec![0u8; CELLS];
        sum[128 * DIM + 5] = 9;
        let mut words = [0u32; 64];
        words[5] = 9u32.wrapping_mul(0x0100_0193u32.wrapping_pow(7));
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(fold_and_hash(&sum), Hash(sha3(&bytes)));
    }

    #[test]
    fn extended_seed_chains_sha3() {
        let seed = Hash([3u8; 32]);
        let ext = extended_seed(&seed);
        assert_eq!(&ext[..32], &seed.0);
        assert_eq!(ext[32..64], sha3(&seed.0));
        assert_eq!(ext[96..], sha3(&ext[64..96]));
    }
}

//! The scrypt `SMix` step (r = 1, N = 1024) that expands a Tensority seed into its cache.
//!
//! Only the mixing step is needed: the reference feeds a 128-byte extended seed straight into
//! `SMix`, keeps the whole scratch array `V` of every pass, and chains the passes through the
//! 128-byte state. There is no PBKDF2 around it.

/// Words in one scrypt block for r = 1 (two 64-byte Salsa20 blocks).
pub(crate) const BLOCK_WORDS: usize = 32;
/// The scrypt cost parameter N the reference fixes for Tensority.
pub(crate) const N: usize = 1024;
/// Words in one pass's scratch array `V`: N blocks of 32 words (128 KiB).
pub(crate) const V_WORDS: usize = N * BLOCK_WORDS;

type Block = [u32; BLOCK_WORDS];

/// Salsa20/8 core applied in place: eight rounds (four double rounds) and the feed-forward.
fn salsa20_8(b: &mut [u32; 16]) {
    fn quarter(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
        x[b] ^= x[a].wrapping_add(x[d]).rotate_left(7);
        x[c] ^= x[b].wrapping_add(x[a]).rotate_left(9);
        x[d] ^= x[c].wrapping_add(x[b]).rotate_left(13);
        x[a] ^= x[d].wrapping_add(x[c]).rotate_left(18);
    }
    let mut x = *b;
    for _ in 0..4 {
        // columns
        quarter(&mut x, 0, 4, 8, 12);
        quarter(&mut x, 5, 9, 13, 1);
        quarter(&mut x, 10, 14, 2, 6);
        quarter(&mut x, 15, 3, 7, 11);
        // rows
        quarter(&mut x, 0, 1, 2, 3);
        quarter(&mut x, 5, 6, 7, 4);
        quarter(&mut x, 10, 11, 8, 9);
        quarter(&mut x, 15, 12, 13, 14);
    }
    for (out, add) in b.iter_mut().zip(x) {
        *out = out.wrapping_add(add);
    }
}

/// scrypt `BlockMix` for r = 1: `Y0 = H(B1 ^ B0)`, `Y1 = H(Y0 ^ B1)`, output `Y0 || Y1`.
fn block_mix(input: &Block) -> Block {
    let mut t = [0u32; 16];
    t.copy_from_slice(&input[16..]);
    let mut out = [0u32; BLOCK_WORDS];
    for half in 0..2 {
        for (w, i) in t.iter_mut().zip(&input[half * 16..half * 16 + 16]) {
            *w ^= i;
        }
        salsa20_8(&mut t);
        out[half * 16..half * 16 + 16].copy_from_slice(&t);
    }
    out
}

/// One `SMix` pass: reads the 128-byte state, writes the scratch array into `v`
/// (`V_WORDS` words) and the new state back into `state`.
pub(crate) fn smix(state: &mut [u8; 128], v: &mut [u32]) {
    let mut x: Block = [0; BLOCK_WORDS];
    for (w, bytes) in x.iter_mut().zip(state.chunks_exact(4)) {
        *w = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    for slot in v.chunks_exact_mut(BLOCK_WORDS).take(N) {
        slot.copy_from_slice(&x);
        x = block_mix(&x);
    }
    for _ in 0..N {
        // Integerify: the first word of the last 64-byte sub-block, modulo N.
        let j = usize::try_from(x[16]).unwrap_or(0) & (N - 1);
        for (w, vj) in x.iter_mut().zip(&v[j * BLOCK_WORDS..(j + 1) * BLOCK_WORDS]) {
            *w ^= vj;
        }
        x = block_mix(&x);
    }
    for (bytes, w) in state.chunks_exact_mut(4).zip(x) {
        bytes.copy_from_slice(&w.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salsa20_8_rfc7914_vector() {
        // RFC 7914 section 8 (Salsa20/8 core), input and output as little-endian words.
        let input = hex::decode(
            "7e879a214f3ec9867ca940e641718f26baee555b8c61c1b50df846116dcd3b1d\
             ee24f319df9b3d8514121e4b5ac5aa3276021d2909c74829edebc68db8b8c25e",
        )
        .unwrap();
        let output = hex::decode(
            "a41f859c6608cc993b81cacb020cef05044b2181a2fd337dfd7b1c6396682f29\
             b4393168e3c9e6bcfe6bc5b7a06d96bae424cc102c91745c24ad673dc7618f81",
        )
        .unwrap();
        let words = |b: &[u8]| {
            let mut w = [0u32; 16];
            for (o, c) in w.iter_mut().zip(b.chunks_exact(4)) {
                *o = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            }
            w
        };
        let mut b = words(&input);
        salsa20_8(&mut b);
        assert_eq!(b, words(&output));
    }

    #[test]
    fn block_mix_rfc7914_vector() {
        // RFC 7914 section 9 (scrypt BlockMix, r = 1).
        let input = hex::decode(
            "f7ce0b653d2d72a4108cf5abe912ffdd777616dbbb27a70e8204f3ae2d0f6fad\
             89f68f4811d1e87bcc3bd7400a9ffd29094f0184639574f39ae5a1315217bcd7\
             894991447213bb226c25b54da86370fbcd984380374666bb8ffcb5bf40c254b0\
             67d27c51ce4ad5fed829c90b505a571b7f4d1cad6a523cda770e67bceaaf7e89",
        )
        .unwrap();
        let output = hex::decode(
            "a41f859c6608cc993b81cacb020cef05044b2181a2fd337dfd7b1c6396682f29\
             b4393168e3c9e6bcfe6bc5b7a06d96bae424cc102c91745c24ad673dc7618f81\
             20edc975323881a80540f64c162dcd3c21077cfe5f8d5fe2b1a4168f953678b7\
             7d3b3d803b60e4ab920996e59b4d53b65d2a225877d5edf5842cb9f14eefe425",
        )
        .unwrap();
        let mut x = [0u32; BLOCK_WORDS];
        for (o, c) in x.iter_mut().zip(input.chunks_exact(4)) {
            *o = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        let y = block_mix(&x);
        let got: Vec<u8> = y.iter().flat_map(|w| w.to_le_bytes()).collect();
        assert_eq!(got, output);
    }

    #[test]
    fn smix_stores_the_input_state_first_and_moves_the_state() {
        // RFC 7914's ROMix vector uses N = 16 and our N is fixed at 1024; the end-to-end Tensority
        // vectors pin the pass down. Here: V[0] is the input state and the state changes.
        let mut state = [7u8; 128];
        let before = state;
        let mut v = vec![0u32; V_WORDS];
        smix(&mut state, &mut v);
        assert_ne!(state, before);
        assert!(v[..BLOCK_WORDS].iter().all(|&w| w == 0x0707_0707));
    }
}

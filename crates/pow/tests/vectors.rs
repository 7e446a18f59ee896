//! Reference vectors: Tensority results from Bytom v1.1.0
//! `mining/tensority/go_algorithm/algorithm_test.go` (`TestLegacyAlgorithm`, the `tests` table, cases
//! numbered from 1 as that test prints them), and the target comparison from
//! `consensus/difficulty/difficulty_test.go`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Instant;

use pow::matrix::{Kernel, KernelUnavailable};
use pow::tensority::{Cache, hash, hash_single_threaded_with_kernel, hash_with_kernel};
use pow::{CacheStore, check_proof_of_work, hash_to_big, parse_hash};
use types::Hash;

/// (case, block header hash, seed, expected result) from `algorithm_test.go` `tests`.
const TENSORITY_CASES: [(usize, &str, &str, &str); 11] = [
    (
        1,
        "d0dad73fb2dabf3353fda15571b4e5f6ac62ff187b354fadd4840d9ff2f1afdf",
        "0737520781345b11b7bd0f843c1bdd9aea81b6da94fd141cc9f2df53ac6744d2",
        "e35da54795d82f8549c0e580cbf2e3757ab5ef8fed1bdbe439416c7e6f8df227",
    ),
    (
        2,
        "d0dad73fb2dabf3353fda15571b4e5f6ac62ff187b354fadd4840d9ff2f1afdf",
        "0737520781345b11b7bd0f843c1bdd9aea81b6da94fd141cc9f2df53ac6744d2",
        "e35da54795d82f8549c0e580cbf2e3757ab5ef8fed1bdbe439416c7e6f8df227",
    ),
    (
        3,
        "0000000000000000000000000000000000000000000000000000000000000000",
        "48dda5bbe9171a6656206ec56c595c5834b6cf38c5fe71bcb44fe43833aee9df",
        "26db94efa422d76c402a54eeb61dd5f53282cd3ce1a0ac677e177051edaa98c1",
    ),
    (
        4,
        "8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92",
        "0e3b78d8380844b0f697bb912da7f4d210382c6714194fd16039ef2acd924dcf",
        "fecec33669737592f7754b215b20bacefba64d2e4ca1656f85ea1d3dbe162839",
    ),
    (
        5,
        "2f014311e0926fa8b3d6e6de2051bf69332123baadfe522b62f4645655859e7a",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "c1c3cf4c76968e2967f0053c76f2084cc01ed0fe9766428db99c45bedf0cdbe2",
    ),
    (
        6,
        "e0e3c43178a126d04871b9c5d0c642e5e08b9679a5f66b821bd9a030eff02ce7",
        "6ab21e1301f5752c2fca1b5598f49d3769482e073c1f26e3b8365f405553ea31",
        "abbc2cb39638f684235fbc1b3ff107945948c581b6929bae2cd681889ff2d824",
    ),
    (
        7,
        "886a8e85b275e7d65b569ba510875c0e63dece1a94569914d7624c0dac8002f9",
        "9e6291970cb44dd94008c79bcaf9d86f18b4b49ba5b2a04781db7199ed3b9e4e",
        "6a1f276cac6f9e8b426eab46b533f82e82a148c03fb0a86934a8e5483b39da5e",
    ),
    (
        8,
        "2f86fe508faa7d68692a2089271b6901385d9058cd47e84fb402b5085f9a8360",
        "9e6291970cb44dd94008c79bcaf9d86f18b4b49ba5b2a04781db7199ed3b9e4e",
        "81756fdab39a17163b0ce582ee4ee256fb4d1e156c692b997d608a42ecb38d47",
    ),
    (
        9,
        "fe9791d71b67ee62515e08723c061b5ccb952a80d804417c8aeedf7f633c524a",
        "9e6291970cb44dd94008c79bcaf9d86f18b4b49ba5b2a04781db7199ed3b9e4e",
        "fad5195a0c8e3b590b86a3c0a95e7529565888508aecca96e9aeda633002f409",
    ),
    (
        10,
        "ef306787a087c118fcb6d351f0199dca98055898e208fbf1a934c9d70b58ee4b",
        "9e6291970cb44dd94008c79bcaf9d86f18b4b49ba5b2a04781db7199ed3b9e4e",
        "ffb0cadab314673d228f8fe74d84a4652e01c82c2641d3e2fa9148afeab0d606",
    ),
    (
        11,
        "10d2f1b2f48e389c97dde1b1a63bcd743c2340935d71e2c358ba10e584696143",
        "9e6291970cb44dd94008c79bcaf9d86f18b4b49ba5b2a04781db7199ed3b9e4e",
        "6add5af18253d0722c542f7e71f47d9cb1a4d7fb7c7d26aefe3c831cb854f17e",
    ),
];

fn h(s: &str) -> Hash {
    Hash::from_hex(s).unwrap()
}

#[test]
fn tensority_reference_vectors_all_eleven() {
    // All 11 cases (6 distinct seeds, the first epoch's seed among them) through one store, so a seed
    // shared by consecutive cases builds its cache once.
    let store = CacheStore::new(1);
    let start = Instant::now();
    for (case, header, seed, want) in TENSORITY_CASES {
        let cache = store.get(&h(seed));
        assert_eq!(hash(&h(header), &cache), h(want), "algorithm_test.go case {case}");
    }
    eprintln!("11 Tensority vectors in {:?}", start.elapsed());
}

#[test]
fn reference_vectors_on_the_portable_and_avx2_kernels_agree_bit_for_bit() {
    // Each case through the portable kernel, the AVX2 kernel (when the CPU has AVX2) and the
    // dispatched one: each must give the reference result, hence all agree bit for bit.
    let store = CacheStore::new(1);
    let avx2 = Kernel::Avx2.is_available();
    if !avx2 {
        eprintln!("AVX2 half SKIPPED: this CPU has no AVX2; only the portable kernel is checked");
    }
    for (case, header, seed, want) in TENSORITY_CASES {
        let cache = store.get(&h(seed));
        let header = h(header);
        let portable = hash_single_threaded_with_kernel(&header, &cache, Kernel::Portable).unwrap();
        assert_eq!(portable, h(want), "portable kernel, case {case}");
        if case == 1 {
            // The other entry point per kernel, once: lanes in parallel for the portable kernel.
            assert_eq!(
                hash_with_kernel(&header, &cache, Kernel::Portable).unwrap(),
                portable
            );
        }
        if avx2 {
            let simd = hash_with_kernel(&header, &cache, Kernel::Avx2).unwrap();
            assert_eq!(simd, portable, "AVX2 kernel, case {case}");
            if case == 1 {
                let single = hash_single_threaded_with_kernel(&header, &cache, Kernel::Avx2);
                assert_eq!(single.unwrap(), simd);
            }
        } else {
            assert_eq!(
                hash_with_kernel(&header, &cache, Kernel::Avx2),
                Err(KernelUnavailable(Kernel::Avx2))
            );
        }
        assert_eq!(hash(&header, &cache), portable, "dispatched kernel, case {case}");
    }
    eprintln!(
        "11 vectors checked on the portable kernel{}; dispatch uses {:?}",
        if avx2 { " and the AVX2 kernel" } else { "" },
        Kernel::detected()
    );
}

#[test]
fn single_threaded_hash_agrees() {
    let (_, header, seed, want) = TENSORITY_CASES[2];
    let cache = Cache::new(&h(seed));
    assert_eq!(pow::tensority::hash_single_threaded(&h(header), &cache), h(want));
}

#[test]
fn a_wrong_seed_or_header_changes_the_result() {
    let (_, header, seed, want) = TENSORITY_CASES[0];
    let mut other_seed = h(seed);
    other_seed.0[31] ^= 1;
    let cache = Cache::new(&other_seed);
    assert_ne!(hash(&h(header), &cache), h(want));
    let cache = Cache::new(&h(seed));
    let mut other_header = h(header);
    other_header.0[0] ^= 0x80;
    assert_ne!(hash(&other_header, &cache), h(want));
}

#[test]
fn hash_to_big_reference_vectors() {
    // difficulty_test.go TestHashToBig: `out` is the big-endian byte form of the number.
    let cases = [
        ([0x66u8; 32], [0x66u8; 32]),
        (
            {
                let mut a = [0u8; 32];
                for (i, b) in a[16..].iter_mut().enumerate() {
                    *b = u8::try_from(i).unwrap();
                }
                a
            },
            {
                let mut a = [0u8; 32];
                for (i, b) in a[..16].iter_mut().enumerate() {
                    *b = 0x0f - u8::try_from(i).unwrap();
                }
                a
            },
        ),
        (
            core::array::from_fn(|i| 0xe0 + u8::try_from(i).unwrap()),
            core::array::from_fn(|i| 0xff - u8::try_from(i).unwrap()),
        ),
    ];
    for (i, (input, out)) in cases.into_iter().enumerate() {
        let (_, mut be) = hash_to_big(&Hash(input)).to_bytes_be();
        // big.Int.Bytes() drops leading zeros and the Go test copies it into the front of a
        // [32]byte: compare the same way.
        be.resize(32, 0);
        assert_eq!(be, out, "TestHashToBig case {i}");
    }
}

#[test]
fn check_proof_of_work_boundaries() {
    // The comparison is `HashToBig(result) <= CompactToBig(bits)` (CheckProofOfWork).
    // bits 0x1e000000000dbe13 (PowMinBits): target 0x0dbe13 · 256^27.
    let bits = 0x1e00_0000_000d_be13u64;
    let mut at_target = [0u8; 32];
    // little-endian: byte 27 = 0x13, 28 = 0xbe, 29 = 0x0d
    at_target[27] = 0x13;
    at_target[28] = 0xbe;
    at_target[29] = 0x0d;
    assert!(check_proof_of_work(&Hash(at_target), bits), "equal passes");
    let mut above = at_target;
    above[0] = 1;
    assert!(!check_proof_of_work(&Hash(above), bits), "one above fails");
    let mut below = at_target;
    below[27] = 0x12;
    below[0] = 0xff;
    assert!(check_proof_of_work(&Hash(below), bits), "below passes");
    // The byte order matters: read big-endian this hash would be 1, but it is 2^248.
    let mut last_byte = [0u8; 32];
    last_byte[31] = 1;
    assert!(!check_proof_of_work(&Hash(last_byte), bits));
    let mut first_byte = [0u8; 32];
    first_byte[0] = 0xff;
    assert!(check_proof_of_work(&Hash(first_byte), bits));
    // Zero target (bits 0) is met only by the zero hash; a negative target by nothing.
    assert!(check_proof_of_work(&Hash::ZERO, 0));
    let mut one = [0u8; 32];
    one[0] = 1;
    assert!(!check_proof_of_work(&Hash(one), 0));
    // bits with the sign bit set: target -1 (TestCompactToBig's negative case).
    assert!(!check_proof_of_work(&Hash::ZERO, 0x0180_0000_0001_0000));
}

#[test]
fn the_first_vector_meets_a_loose_target_and_not_a_tight_one() {
    let (_, header, seed, _) = TENSORITY_CASES[0];
    let cache = Cache::new(&h(seed));
    // Result e35d…f227 read little-endian is 0x27f2…5de3 ≈ 2^253.3.
    assert!(pow::verify(&h(header), &cache, 0x2100_0000_0000_ffff));
    assert!(!pow::verify(&h(header), &cache, 0x1e00_0000_000d_be13));
}

#[test]
fn parse_hash_errors_are_typed() {
    assert!(matches!(
        parse_hash("seed", "abcd"),
        Err(pow::PowError::WrongLength { what: "seed", got: 4 })
    ));
    assert!(matches!(
        parse_hash("hash", &"zz".repeat(32)),
        Err(pow::PowError::NotHex { what: "hash", .. })
    ));
    assert_eq!(parse_hash("hash", &"00".repeat(32)).unwrap(), Hash::ZERO);
}

//! SM4 vectors from GB/T 32907-2016 Appendix A, and sealed-box behaviour.

use rand_core::OsRng;

use super::*;

fn block(s: &str) -> [u8; 16] {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// GB/T 32907-2016 Appendix A, example 1: one encryption with key = plaintext.
#[test]
fn gbt32907_example_1_single_block() {
    let key = block("0123456789abcdeffedcba9876543210");
    let cipher = Sm4Cipher::new(&key);
    let mut b = key;
    cipher.encrypt_block(&mut b);
    assert_eq!(b, block("681edf34d206965e86b3e94f536e4246"));
    cipher.decrypt_block(&mut b);
    assert_eq!(b, key);
}

/// GB/T 32907-2016 Appendix A, example 2: the same block encrypted 1,000,000 times.
#[test]
fn gbt32907_example_2_million_iterations() {
    let key = block("0123456789abcdeffedcba9876543210");
    let cipher = Sm4Cipher::new(&key);
    let mut b = key;
    for _ in 0..1_000_000 {
        cipher.encrypt_block(&mut b);
    }
    assert_eq!(b, block("595298c7c6fd271f0402f804c33d3f66"));
}

#[test]
fn sealed_box_round_trip() {
    let key = SealKey::generate(&mut OsRng);
    for len in [0usize, 1, 15, 16, 17, 100, 1000] {
        let plain: Vec<u8> = (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect();
        let sealed = key.seal(&mut OsRng, b"aad", &plain);
        assert_eq!(sealed.len(), NONCE_LEN + len + TAG_LEN);
        if len >= 16 {
            assert_ne!(&sealed[NONCE_LEN..NONCE_LEN + 16], &plain[..16], "encrypted");
        }
        assert_eq!(key.open(b"aad", &sealed).unwrap().as_slice(), plain.as_slice());
    }
    // Fresh nonce each time: same input, different boxes.
    assert_ne!(
        key.seal(&mut OsRng, b"", b"same"),
        key.seal(&mut OsRng, b"", b"same")
    );
}

/// The ciphertext is SM4-CTR: the first block is the plaintext XOR SM4(enc_key, nonce).
#[test]
fn sealed_box_is_ctr_under_derived_key() {
    let key = SealKey::from_bytes([7u8; 32]);
    let sealed = key.seal(&mut OsRng, b"", &[0u8; 32]);
    let (cipher, _) = key.subkeys();
    let mut nonce: [u8; 16] = sealed[..16].try_into().unwrap();
    let mut counter1 = (u128::from_be_bytes(nonce).wrapping_add(1)).to_be_bytes();
    cipher.encrypt_block(&mut nonce);
    cipher.encrypt_block(&mut counter1);
    assert_eq!(&sealed[16..32], &nonce);
    assert_eq!(&sealed[32..48], &counter1);
}

#[test]
fn sealed_box_detects_tampering() {
    let key = SealKey::from_bytes([1u8; 32]);
    let sealed = key.seal(&mut OsRng, b"record 7", b"secret payload of some length");
    for i in 0..sealed.len() {
        let mut bad = sealed.clone();
        bad[i] ^= 0x80;
        assert_eq!(
            key.open(b"record 7", &bad),
            Err(Sm4Error::AuthenticationFailed),
            "byte {i}"
        );
    }
    assert_eq!(
        key.open(b"record 8", &sealed),
        Err(Sm4Error::AuthenticationFailed)
    );
    assert_eq!(
        SealKey::from_bytes([2u8; 32]).open(b"record 7", &sealed),
        Err(Sm4Error::AuthenticationFailed)
    );
    assert_eq!(
        key.open(b"record 7", &sealed[..sealed.len() - 1]),
        Err(Sm4Error::AuthenticationFailed)
    );
    assert_eq!(
        key.open(b"", &[0u8; 47]),
        Err(Sm4Error::TooShort { len: 47, min: 48 })
    );
    assert_eq!(format!("{key:?}"), "SealKey(<redacted>)");
}

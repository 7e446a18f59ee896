//! SM2 vectors and behaviour.
//!
//! GB/T 32918.2-2016 Appendix A signs on the 256-bit *example* curve of that appendix, not on the
//! recommended curve sm2p256v1 (GB/T 32918.5) that the `sm2` crate fixes, so the standard's own
//! example cannot be replayed here. Instead: a known-good signature made by OpenSSL 3.0 with the
//! default identifier, the RustCrypto `sm2` crate's OpenSSL vector (its `tests/sm2dsa.rs`), the
//! curve constants of GB/T 32918.5 checked against the crate's generator, and sign → verify →
//! tamper checks of our signer against the crate's verifier.

use rand_core::OsRng;
use sm2::elliptic_curve::sec1::ToEncodedPoint;

use super::*;

/// Generated on this machine: `openssl genpkey -algorithm SM2`, then
/// `openssl pkeyutl -sign -rawin -digest sm3 -pkeyopt distid:1234567812345678` over the message
/// "message digest" (OpenSSL 3.0.19); the DER signature's r and s are below. OpenSSL's own
/// verification passes with that identifier and fails with any other.
const OPENSSL_SECRET: &str = "9443b8eb01a8c0afea2b46a8948d8dffe0256c70edacbd5c1cc31d176b79f22d";
const OPENSSL_PUBLIC: &str = "043bd94fa5cc83c378668380bd11f23a748a52dc31567e14648d55c10d93e0f563c500d606e5aa008fcabeaa1e2912b74e802f6cc60e3fcbf126e80c92e2752f4d";
const OPENSSL_SIG: &str = "374c30371ed2edc7c4f71aab39e93c7fd8adea3624826be9a2194732ad000eaf77d181f3dd9eb417e0c3aa353c87f6f9a9f7ceb3672e8d4ffe6b91bc6d671ebb";

fn bytes(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

#[test]
fn openssl_vector_default_id_verifies() {
    let pk = Sm2PublicKey::from_sec1_bytes(&bytes(OPENSSL_PUBLIC)).unwrap();
    let sig = bytes(OPENSSL_SIG);
    assert!(pk.verify(b"message digest", &sig));
    assert!(pk.verify_with_id(DEFAULT_DIST_ID, b"message digest", &sig));
    assert!(!pk.verify_with_id("other", b"message digest", &sig));
    assert!(!pk.verify(b"message digesT", &sig));

    // The secret key of the vector derives the same public key.
    let sk = Sm2SigningKey::from_bytes(&bytes(OPENSSL_SECRET).try_into().unwrap()).unwrap();
    assert_eq!(sk.public_key(), pk);
    assert_eq!(hex::encode(sk.public_key().to_bytes()), OPENSSL_PUBLIC);
    // Our signature with the same key verifies too (OpenSSL uses a random k, so bytes differ).
    assert!(pk.verify(b"message digest", &sk.sign(b"message digest")));
}

/// RustCrypto `sm2` 0.13.3 `tests/sm2dsa.rs` `verify_test_vector` (made with OpenSSL, identifier
/// `example@rustcrypto.org`).
#[test]
fn rustcrypto_vector_custom_id_verifies() {
    let pk = Sm2PublicKey::from_sec1_bytes(&bytes(
        "0408D77AE04C01CC4C1104360DD8AF6B6F7DF334283D7C1A6AFD5652407B87BEE5014E2A57C36C150D16324DC664E31E6432359609C4E79847A5B161C8C7364C8A",
    ))
    .unwrap();
    let sig = bytes(
        "d1dcccedd9fb785e0f67c16b7c52901625c0b69de9bca2144acc7be713cad2fcf7d1eae6e3a157b36c65f672f738ca8b46298bf149a6510072c431b49cd88b1c",
    );
    assert!(pk.verify_with_id("example@rustcrypto.org", b"testing", &sig));
    assert!(!pk.verify(b"testing", &sig), "default identifier must not match");
}

/// Our hard-coded G (for Z_A) equals the crate's generator; a and b are GB/T 32918.5 values and
/// are exercised by every sign (ours) → verify (crate, own Z_A) round trip below.
#[test]
fn curve_constants_match_generator() {
    let g = ProjectivePoint::GENERATOR.to_affine().to_encoded_point(false);
    assert_eq!(&g.as_bytes()[1..33], &GENERATOR_X);
    assert_eq!(&g.as_bytes()[33..], &GENERATOR_Y);
}

#[test]
fn sign_verify_and_tamper() {
    let sk = Sm2SigningKey::from_bytes(&bytes(OPENSSL_SECRET).try_into().unwrap()).unwrap();
    let pk = sk.public_key();
    let msg = b"tributary national-standard suite";
    let sig = sk.sign(msg);
    assert_eq!(sig, sk.sign(msg), "deterministic nonce");
    assert!(pk.verify(msg, &sig));
    for i in 0..SIGNATURE_LEN {
        let mut bad = sig;
        bad[i] ^= 0x01;
        assert!(!pk.verify(msg, &bad), "flipped sig byte {i}");
    }
    let mut m = msg.to_vec();
    m[0] ^= 1;
    assert!(!pk.verify(&m, &sig));
    let other = Sm2SigningKey::generate(&mut OsRng).public_key();
    assert!(!other.verify(msg, &sig));
    assert!(!pk.verify(msg, &sig[..63]));
    assert!(!pk.verify(msg, &[0u8; 64]), "r = s = 0");

    let custom = sk.sign_with_id("alice@example.com", msg).unwrap();
    assert!(pk.verify_with_id("alice@example.com", msg, &custom));
    assert!(!pk.verify(msg, &custom));
}

#[test]
fn invalid_keys_rejected() {
    assert_eq!(
        Sm2SigningKey::from_bytes(&[0u8; 32]),
        Err(Sm2Error::InvalidSecretKey)
    );
    // n − 1 is outside [1, n − 2].
    let n_minus_1: [u8; 32] = bytes("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54122")
        .try_into()
        .unwrap();
    assert_eq!(
        Sm2SigningKey::from_bytes(&n_minus_1),
        Err(Sm2Error::InvalidSecretKey)
    );
    let n_minus_2: [u8; 32] = bytes("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54121")
        .try_into()
        .unwrap();
    let sk = Sm2SigningKey::from_bytes(&n_minus_2).unwrap();
    assert!(sk.public_key().verify(b"m", &sk.sign(b"m")));
    assert_eq!(
        Sm2SigningKey::from_bytes(&[0xff; 32]),
        Err(Sm2Error::InvalidSecretKey)
    );

    let mut pk = bytes(OPENSSL_PUBLIC);
    pk[64] ^= 1; // off the curve
    assert_eq!(
        Sm2PublicKey::from_sec1_bytes(&pk),
        Err(Sm2Error::InvalidPublicKey { len: 65 })
    );
    assert!(Sm2PublicKey::from_sec1_bytes(&[]).is_err());
    assert_eq!(
        sk.sign_with_id(&"x".repeat(8192), b"m"),
        Err(Sm2Error::IdTooLong { len: 8192 })
    );
}

#[test]
fn secrets_redacted_and_exposed_only_explicitly() {
    let sk = Sm2SigningKey::from_bytes(&bytes(OPENSSL_SECRET).try_into().unwrap()).unwrap();
    let text = format!("{sk:?}");
    assert_eq!(text, "Sm2SigningKey(<redacted>)");
    assert_eq!(hex::encode(*sk.expose_secret_bytes()), OPENSSL_SECRET);
}

/// A degenerate RNG still yields a valid key (no endless rejection loop), and distinct entropy
/// yields distinct keys.
#[test]
fn generate_terminates_and_differs() {
    struct Constant(u8);
    impl rand_core::RngCore for Constant {
        fn next_u32(&mut self) -> u32 {
            u32::from(self.0)
        }
        fn next_u64(&mut self) -> u64 {
            u64::from(self.0)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            dest.fill(self.0);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            dest.fill(self.0);
            Ok(())
        }
    }
    impl rand_core::CryptoRng for Constant {}
    let zero = Sm2SigningKey::generate(&mut Constant(0));
    let ones = Sm2SigningKey::generate(&mut Constant(0xff));
    assert_ne!(zero, ones);
    assert_eq!(zero, Sm2SigningKey::generate(&mut Constant(0)));
    assert!(zero.public_key().verify(b"m", &zero.sign(b"m")));
}

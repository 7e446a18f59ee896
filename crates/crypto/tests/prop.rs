//! Property tests: batch and single verification agree, derivation is consistent, signatures
//! round-trip and break under tampering, for both suites through the generic traits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crypto::chainkd::{XPrv, XPub};
use crypto::ed25519::{self, BatchError, BatchVerifier};
use crypto::suite::{Ed25519, Sm2};
use crypto::{HashFunction, NationalStandard, SignatureScheme, Standard, Suite};
use proptest::prelude::*;
use rand_core::{OsRng, RngCore};

/// How an entry of a random batch is spoiled, if at all.
#[derive(Debug, Clone, Copy)]
enum Spoil {
    None,
    Message,
    SigBit(usize),
    OtherKey,
}

fn spoil() -> impl Strategy<Value = Spoil> {
    prop_oneof![
        6 => Just(Spoil::None),
        1 => Just(Spoil::Message),
        1 => (0usize..512).prop_map(Spoil::SigBit),
        1 => Just(Spoil::OtherKey),
    ]
}

/// A deterministic RNG for generic key generation inside proptest cases.
struct SeedRng(u64);

impl RngCore for SeedRng {
    fn next_u32(&mut self) -> u32 {
        u32::try_from(self.next_u64() >> 32).unwrap()
    }
    fn next_u64(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

// Test-only: the generator above is not cryptographic; it makes key generation reproducible.
impl rand_core::CryptoRng for SeedRng {}

/// Generic round trip and tamper check through the suite traits only.
fn round_trip<S: Suite>(seed: u64, msg: &[u8], flip: usize) {
    let key = <S::Signer as SignatureScheme>::generate(&mut SeedRng(seed));
    let public = <S::Signer as SignatureScheme>::public_key(&key);
    let encoded = <S::Signer as SignatureScheme>::public_key_to_bytes(&public);
    assert_eq!(encoded.len(), <S::Signer as SignatureScheme>::PUBLIC_KEY_LEN);
    let public = <S::Signer as SignatureScheme>::public_key_from_bytes(&encoded).unwrap();
    let digest = <S::Hash as HashFunction>::digest(msg);
    let sig = <S::Signer as SignatureScheme>::sign(&key, &digest);
    assert_eq!(sig.as_ref().len(), <S::Signer as SignatureScheme>::SIGNATURE_LEN);
    assert!(<S::Signer as SignatureScheme>::verify(
        &public,
        &digest,
        sig.as_ref()
    ));

    let mut bad = sig.as_ref().to_vec();
    let bit = flip % (bad.len() * 8);
    bad[bit / 8] ^= 1 << (bit % 8);
    assert!(!<S::Signer as SignatureScheme>::verify(&public, &digest, &bad));
    let mut other = digest;
    other[flip % 32] ^= 1;
    assert!(!<S::Signer as SignatureScheme>::verify(
        &public,
        &other,
        sig.as_ref()
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn batch_equals_single(spoils in prop::collection::vec(spoil(), 0..24), seed in any::<u64>()) {
        let mut batch = BatchVerifier::new();
        let mut expected = Vec::new();
        for (i, s) in spoils.iter().enumerate() {
            let xprv = XPrv::root(&[seed.to_le_bytes().as_slice(), &i.to_le_bytes()].concat());
            let mut pk = xprv.xpub().public_key();
            let msg = format!("entry {i}").into_bytes();
            let mut sig = xprv.sign(&msg);
            let mut msg_checked = msg.clone();
            match s {
                Spoil::None => {}
                Spoil::Message => msg_checked.push(b'!'),
                Spoil::SigBit(bit) => sig[bit / 8] ^= 1 << (bit % 8),
                Spoil::OtherKey => pk = XPrv::root(b"someone else").xpub().public_key(),
            }
            let single = ed25519::verify(&pk, &msg_checked, &sig);
            if !single {
                expected.push(i);
            }
            batch.queue(&pk, &msg_checked, &sig);
        }
        let got = batch.verify(OsRng);
        if expected.is_empty() {
            prop_assert_eq!(got, Ok(()));
        } else {
            prop_assert_eq!(got.map_err(|e: BatchError| e.invalid), Err(expected));
        }
    }

    #[test]
    fn xpub_child_equals_xpub_of_xprv_child(seed in prop::collection::vec(any::<u8>(), 0..64),
                                            path in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..12), 0..6)) {
        let xprv = XPrv::root(&seed);
        let via_prv = xprv.derive(&path).unwrap().xpub();
        let via_pub = xprv.xpub().derive(&path).unwrap();
        prop_assert_eq!(via_prv, via_pub);
        // And one step at a time.
        let mut step: XPub = xprv.xpub();
        for sel in &path {
            step = step.child(sel).unwrap();
        }
        prop_assert_eq!(step, via_pub);
    }

    #[test]
    fn chainkd_sign_verify_and_tamper(seed in any::<[u8; 16]>(), msg in prop::collection::vec(any::<u8>(), 0..200),
                                      hardened in any::<bool>(), flip in 0usize..512) {
        let xprv = XPrv::root(&seed).child(b"k", hardened).unwrap();
        let xpub = xprv.xpub();
        let sig = xprv.sign(&msg);
        prop_assert!(xpub.verify(&msg, &sig));
        prop_assert!(ed25519::verify(&xpub.public_key(), &msg, &sig));
        let mut bad = sig;
        bad[flip / 8] ^= 1 << (flip % 8);
        prop_assert!(!xpub.verify(&msg, &bad));
        let mut m = msg.clone();
        m.push(0);
        prop_assert!(!xpub.verify(&m, &sig));
    }

    #[test]
    fn standard_suite_round_trip(seed in any::<u64>(), msg in prop::collection::vec(any::<u8>(), 0..100), flip in any::<usize>()) {
        round_trip::<Standard>(seed, &msg, flip);
    }

    #[test]
    fn national_suite_round_trip(seed in any::<u64>(), msg in prop::collection::vec(any::<u8>(), 0..100), flip in any::<usize>()) {
        round_trip::<NationalStandard>(seed, &msg, flip);
    }

    #[test]
    fn verify_never_panics_on_garbage(pk in prop::collection::vec(any::<u8>(), 0..70),
                                      sig in prop::collection::vec(any::<u8>(), 0..70),
                                      msg in prop::collection::vec(any::<u8>(), 0..10)) {
        let _ = ed25519::verify(&pk, &msg, &sig);
        if let Ok(public) = <Sm2 as SignatureScheme>::public_key_from_bytes(&pk) {
            let _ = <Sm2 as SignatureScheme>::verify(&public, &msg, &sig);
        }
        if let Ok(public) = <Ed25519 as SignatureScheme>::public_key_from_bytes(&pk) {
            prop_assert_eq!(<Ed25519 as SignatureScheme>::verify(&public, &msg, &sig), ed25519::verify(&pk, &msg, &sig));
        }
        let mut batch = BatchVerifier::new();
        batch.queue(&pk, &msg, &sig);
        prop_assert_eq!(batch.verify(OsRng).is_ok(), ed25519::verify(&pk, &msg, &sig));
    }
}

#[test]
fn suite_names_and_sizes() {
    assert_eq!(Standard::NAME, "standard");
    assert_eq!(NationalStandard::NAME, "national-standard");
    assert_eq!(<Ed25519 as SignatureScheme>::PUBLIC_KEY_LEN, 32);
    assert_eq!(<Sm2 as SignatureScheme>::PUBLIC_KEY_LEN, 65);
    assert_eq!(
        <<Standard as Suite>::Hash as HashFunction>::digest(b"abc"),
        crypto::sha3_256(b"abc")
    );
    assert_eq!(
        <<NationalStandard as Suite>::Hash as HashFunction>::digest(b"abc"),
        crypto::sm3(b"abc")
    );
    assert!(<Ed25519 as SignatureScheme>::public_key_from_bytes(&[0u8; 31]).is_err());
    assert!(<Sm2 as SignatureScheme>::public_key_from_bytes(&[4u8; 65]).is_err());
}

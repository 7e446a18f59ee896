use super::*;

fn key(i: u8) -> SecretKey {
    SecretKey::from_seed(&[i; 32])
}

/// Computed once with this code and checked by `known_answer_key_signs_and_verifies`; the
/// signing path itself is pinned by the independent Ethereum vector below.
const PK_SEED_01: &str =
    "95a254501b7733239ed3cec4d56737977bd09ede881d8a234560e83e5525017add3b1dcc3eabfb85e12a4131b19c253b";

#[test]
fn known_answer_public_key_from_seed() {
    assert_eq!(hex::encode(key(1).public_key().to_bytes()), PK_SEED_01);
    // Deterministic: the same seed gives the same key; another seed another key.
    assert_eq!(key(1).to_bytes(), key(1).to_bytes());
    assert_ne!(key(1).public_key(), key(2).public_key());
}

#[test]
fn known_answer_key_signs_and_verifies() {
    let pk = PublicKey::from_bytes(&hex::decode(PK_SEED_01).unwrap()).unwrap();
    let sig = key(1).sign(b"tributary");
    assert!(sig.verify(&pk, b"tributary"));
    assert!(!sig.verify(&key(2).public_key(), b"tributary"));
}

#[test]
fn ethereum_consensus_spec_sign_vector() {
    // consensus-spec-tests bls/sign: privkey 0x263d…40e3 over 32 zero bytes, same ciphersuite.
    let sk = SecretKey::from_bytes(
        &hex::decode("263dbd792f5b1be47ed85f8938c0f29586af0d3ac7b977f21c278fe1462040e3").unwrap(),
    )
    .unwrap();
    let sig = sk.sign(&[0u8; 32]);
    assert_eq!(
        hex::encode(sig.to_bytes()),
        "b6ed936746e01f8ecf281f020953fbf1f01debd5657c4a383940b020b26507f6076334f91e2366c96e9ab279fb5158090352ea1c5b0c9274504f4f0e7053af24802e51e4568d164fe986834f41e55c8e850ce1f98458c0cfc9ab380b55285a55"
    );
}

#[test]
fn round_trips() {
    let sk = key(3);
    let pk = sk.public_key();
    assert_eq!(PublicKey::from_bytes(&pk.to_bytes()).unwrap(), pk);
    let sig = sk.sign(b"m");
    assert_eq!(Signature::from_bytes(&sig.to_bytes()).unwrap(), sig);
    let pop = sk.prove_possession();
    assert_eq!(ProofOfPossession::from_bytes(&pop.to_bytes()).unwrap(), pop);
    assert_eq!(SecretKey::from_bytes(&sk.to_bytes()).unwrap().public_key(), pk);
}

#[test]
fn secret_key_debug_is_redacted() {
    let s = format!("{:?}", key(1));
    assert_eq!(s, "SecretKey(<redacted>)");
}

#[test]
fn generate_uses_the_rng() {
    struct Fixed(u8);
    impl RngCore for Fixed {
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
    impl CryptoRng for Fixed {}
    assert_eq!(
        SecretKey::generate(&mut Fixed(1)).public_key(),
        key(1).public_key()
    );
}

#[test]
fn rejects_bad_encodings() {
    assert_eq!(
        PublicKey::from_bytes(&[0u8; 47]),
        Err(BlsError::InvalidLength {
            expected: 48,
            got: 47
        })
    );
    // Compressed identity: 0xc0 followed by zeros.
    let mut inf = [0u8; 48];
    inf[0] = 0xc0;
    assert!(PublicKey::from_bytes(&inf).is_err());
    let mut inf_sig = [0u8; 96];
    inf_sig[0] = 0xc0;
    assert!(Signature::from_bytes(&inf_sig).is_err());
    // Uncompressed-form flag on a 48-byte string.
    let mut raw = key(1).public_key().to_bytes();
    raw[0] &= 0x7f;
    assert!(PublicKey::from_bytes(&raw).is_err());
    // x not on the curve (all ones in the coordinate is above the field modulus).
    let mut junk = [0xffu8; 48];
    junk[0] = 0x9f;
    assert!(PublicKey::from_bytes(&junk).is_err());
    assert!(Signature::from_bytes(&[0u8; 95]).is_err());
    assert!(SecretKey::from_bytes(&[0u8; 32]).is_err());
    assert!(SecretKey::from_bytes(&[0xffu8; 32]).is_err());
}

#[test]
fn tampered_signature_or_message_fails() {
    let sk = key(4);
    let pk = sk.public_key();
    let sig = sk.sign(b"vote");
    assert!(sig.verify(&pk, b"vote"));
    assert!(!sig.verify(&pk, b"vots"));
    let mut bytes = sig.to_bytes();
    bytes[50] ^= 1;
    // Either it no longer decodes or it no longer verifies.
    if let Ok(bad) = Signature::from_bytes(&bytes) {
        assert!(!bad.verify(&pk, b"vote"));
    }
}

#[test]
fn vote_and_possession_domains_are_separate() {
    let sk = key(5);
    let pk = sk.public_key();
    let pop = sk.prove_possession();
    assert!(pk.verify_possession(&pop));
    // The proof is not a vote over the key bytes, and a vote over the key bytes is not a proof.
    let as_sig = Signature::from_bytes(&pop.to_bytes()).unwrap();
    assert!(!as_sig.verify(&pk, &pk.to_bytes()));
    let vote = sk.sign(&pk.to_bytes());
    assert!(!pk.verify_possession(&ProofOfPossession::from_bytes(&vote.to_bytes()).unwrap()));
    // Another key's proof does not verify for this key.
    assert!(!key(6).public_key().verify_possession(&pop));
}

#[test]
fn aggregate_verifies_only_for_the_exact_signer_set() {
    let sks: Vec<SecretKey> = (10..14).map(key).collect();
    let pks: Vec<PublicKey> = sks.iter().map(SecretKey::public_key).collect();
    let msg = b"block";
    let sigs: Vec<Signature> = sks.iter().map(|s| s.sign(msg)).collect();
    let agg = Signature::aggregate(&sigs).unwrap();
    assert!(agg.verify_aggregate(&pks, msg));
    assert!(!agg.verify_aggregate(&pks[..3], msg));
    assert!(!agg.verify_aggregate(&pks, b"other"));
    let mut wrong = pks.clone();
    wrong[0] = key(99).public_key();
    assert!(!agg.verify_aggregate(&wrong, msg));
    assert!(!agg.verify_aggregate(&[], msg));
    assert_eq!(Signature::aggregate(&[]), Err(BlsError::EmptyAggregate));
    // Aggregation order does not matter, and the key sum verifies like the set.
    let mut rev = sigs.clone();
    rev.reverse();
    assert_eq!(Signature::aggregate(&rev).unwrap(), agg);
    assert!(agg.verify(&PublicKey::aggregate(&pks).unwrap(), msg));
}

#[test]
fn rogue_key_attack_is_stopped_by_proof_of_possession() {
    let victim = key(20).public_key();
    let attacker = key(21);
    // Negating a compressed G1 point flips its y-sign bit (0x20 of the first byte).
    let mut neg = victim.to_bytes();
    neg[0] ^= 0x20;
    let neg_victim = PublicKey::from_bytes(&neg).unwrap();
    // rogue = attacker·G − victim: the attacker does not know its secret.
    let rogue = PublicKey::aggregate(&[attacker.public_key(), neg_victim]).unwrap();
    let msg = b"transfer everything";
    // The attacker alone produces an "aggregate" of victim and rogue over msg.
    let forged = attacker.sign(msg);
    assert!(
        forged.verify_aggregate(&[victim, rogue], msg),
        "without PoP the forgery verifies"
    );
    // But the rogue key cannot be registered: any proof the attacker can make fails.
    assert!(!rogue.verify_possession(&attacker.prove_possession()));
    let fake_pop = ProofOfPossession::from_bytes(&attacker.sign(&rogue.to_bytes()).to_bytes()).unwrap();
    assert!(!rogue.verify_possession(&fake_pop));
}

#[test]
fn aggregate_to_identity_is_refused() {
    let sig = key(7).sign(b"m");
    let mut neg = sig.to_bytes();
    neg[0] ^= 0x20;
    let neg = Signature::from_bytes(&neg).unwrap();
    assert_eq!(Signature::aggregate(&[sig, neg]), Err(BlsError::Infinity));
    let pk = key(7).public_key();
    let mut negpk = pk.to_bytes();
    negpk[0] ^= 0x20;
    let negpk = PublicKey::from_bytes(&negpk).unwrap();
    assert_eq!(PublicKey::aggregate(&[pk, negpk]), Err(BlsError::Infinity));
    assert!(!sig.verify_aggregate(&[pk, negpk], b"m"));
}

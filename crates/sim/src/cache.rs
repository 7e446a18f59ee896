//! A memoising [`Crypto`]: signing and verification are pure, so a sweep of many seeds over the
//! same keys pays for each distinct signature once. Results are identical to plain BLS.

use std::collections::HashMap;
use std::sync::Mutex;

use consensus::bbft::Crypto;
use crypto::bls::{ProofOfPossession, PublicKey, SecretKey, Signature};

/// Memoises [`consensus::bbft::Bls`] by a SHA3 digest of the inputs.
#[derive(Debug, Default)]
pub struct CachedCrypto {
    signs: Mutex<HashMap<[u8; 32], Signature>>,
    verifies: Mutex<HashMap<[u8; 32], bool>>,
}

impl CachedCrypto {
    /// An empty cache.
    pub fn new() -> CachedCrypto {
        CachedCrypto::default()
    }

    fn digest(parts: &[&[u8]]) -> [u8; 32] {
        let mut buf = Vec::new();
        for p in parts {
            buf.extend_from_slice(&u64::try_from(p.len()).unwrap_or(u64::MAX).to_be_bytes());
            buf.extend_from_slice(p);
        }
        crypto::sha3_256(&buf)
    }
}

impl Crypto for CachedCrypto {
    fn sign(&self, key: &SecretKey, msg: &[u8]) -> Signature {
        // The secret's own bytes: deriving the public key would cost a scalar multiplication.
        let k = CachedCrypto::digest(&[b"sign", &key.to_bytes(), msg]);
        if let Ok(map) = self.signs.lock()
            && let Some(s) = map.get(&k)
        {
            return *s;
        }
        let s = key.sign(msg);
        if let Ok(mut map) = self.signs.lock() {
            map.insert(k, s);
        }
        s
    }

    fn verify(&self, sig: &Signature, pks: &[PublicKey], msg: &[u8]) -> bool {
        let keys: Vec<u8> = pks.iter().flat_map(|p| p.to_bytes()).collect();
        let k = CachedCrypto::digest(&[b"verify", &sig.to_bytes(), &keys, msg]);
        if let Ok(map) = self.verifies.lock()
            && let Some(&r) = map.get(&k)
        {
            return r;
        }
        let r = consensus::bbft::Bls.verify(sig, pks, msg);
        if let Ok(mut map) = self.verifies.lock() {
            map.insert(k, r);
        }
        r
    }

    fn verify_possession(&self, pk: &PublicKey, pop: &ProofOfPossession) -> bool {
        let k = CachedCrypto::digest(&[b"pop", &pk.to_bytes(), &pop.to_bytes()]);
        if let Ok(map) = self.verifies.lock()
            && let Some(&r) = map.get(&k)
        {
            return r;
        }
        let r = pk.verify_possession(pop);
        if let Ok(mut map) = self.verifies.lock() {
            map.insert(k, r);
        }
        r
    }
}

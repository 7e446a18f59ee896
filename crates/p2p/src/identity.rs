//! Node identity: the ed25519 node key, the peer ID (its public key) and the signed handshake payload
//! that binds a Noise session to the node key. Pure: no I/O.

use std::fmt;

use crypto::chainkd::ExpandedPrivateKey;
use rand_core::{CryptoRng, RngCore};
use types::Hash;
use zeroize::Zeroizing;

use crate::error::P2pError;

/// Domain tag of the identity signature, so it can never be replayed as any other ed25519 signature.
pub const HANDSHAKE_DOMAIN: &[u8] = b"tributary/p2p/handshake/v1";
/// Length of an X25519 Noise static public key.
pub const NOISE_KEY_LEN: usize = 32;
/// Length of the handshake payload: version (4) ‖ chain ID (32) ‖ peer ID (32) ‖ signature (64).
pub const PAYLOAD_LEN: usize = 4 + 32 + 32 + 64;

/// A peer's identity: its ed25519 node public key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub [u8; 32]);

impl PeerId {
    /// The raw public key.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerId({})", hex::encode(self.0))
    }
}

/// The node's long-term ed25519 key. The secret is wiped on drop and `Debug` is redacted.
#[derive(Clone)]
pub struct NodeKey {
    secret: ExpandedPrivateKey,
    public: PeerId,
}

impl NodeKey {
    /// The key of an RFC 8032 ed25519 seed.
    pub fn from_seed(seed: &[u8; 32]) -> NodeKey {
        let secret = ExpandedPrivateKey::from_ed25519_seed(seed);
        let public = PeerId(secret.public_key());
        NodeKey { secret, public }
    }

    /// A fresh random key.
    pub fn generate<R: RngCore + CryptoRng>(rng: &mut R) -> NodeKey {
        let mut seed = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(seed.as_mut());
        NodeKey::from_seed(&seed)
    }

    /// This node's peer ID.
    pub fn peer_id(&self) -> PeerId {
        self.public
    }

    /// Signs `msg` with the node key.
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.secret.sign(msg)
    }
}

impl fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeKey({})", self.public)
    }
}

/// The bytes the identity signature covers: domain tag ‖ chain ID ‖ Noise static public key.
pub fn signed_bytes(chain_id: &Hash, noise_static: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(HANDSHAKE_DOMAIN.len() + 32 + noise_static.len());
    m.extend_from_slice(HANDSHAKE_DOMAIN);
    m.extend_from_slice(chain_id.as_bytes());
    m.extend_from_slice(noise_static);
    m
}

/// The identity payload carried (encrypted) in the second and third Noise XX messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakePayload {
    /// Protocol version of the sender.
    pub version: u32,
    /// Chain the sender is on.
    pub chain_id: Hash,
    /// The sender's node key.
    pub peer_id: PeerId,
    /// ed25519 signature over [`signed_bytes`] with the sender's own Noise static key.
    pub signature: [u8; 64],
}

impl HandshakePayload {
    /// Builds and signs the payload for our Noise static key.
    pub fn sign(key: &NodeKey, version: u32, chain_id: Hash, noise_static: &[u8]) -> HandshakePayload {
        HandshakePayload {
            version,
            chain_id,
            peer_id: key.peer_id(),
            signature: key.sign(&signed_bytes(&chain_id, noise_static)),
        }
    }

    /// Fixed-size encoding (see `docs/p2p.md`).
    pub fn encode(&self) -> [u8; PAYLOAD_LEN] {
        let mut out = [0u8; PAYLOAD_LEN];
        let parts: [&[u8]; 4] = [
            &self.version.to_be_bytes(),
            self.chain_id.as_bytes(),
            self.peer_id.as_bytes(),
            &self.signature,
        ];
        let mut pos = 0;
        for p in parts {
            if let Some(dst) = out.get_mut(pos..pos + p.len()) {
                dst.copy_from_slice(p);
            }
            pos += p.len();
        }
        out
    }

    /// Decodes a payload; anything but exactly [`PAYLOAD_LEN`] bytes is malformed.
    pub fn decode(bytes: &[u8]) -> Result<HandshakePayload, P2pError> {
        let bad = || P2pError::MalformedHandshake { len: bytes.len() };
        let arr: &[u8; PAYLOAD_LEN] = bytes.try_into().map_err(|_| bad())?;
        let (version, rest) = arr.split_first_chunk::<4>().ok_or_else(bad)?;
        let (chain, rest) = rest.split_first_chunk::<32>().ok_or_else(bad)?;
        let (peer, rest) = rest.split_first_chunk::<32>().ok_or_else(bad)?;
        let signature: [u8; 64] = rest.try_into().map_err(|_| bad())?;
        Ok(HandshakePayload {
            version: u32::from_be_bytes(*version),
            chain_id: Hash(*chain),
            peer_id: PeerId(*peer),
            signature,
        })
    }

    /// Checks the payload against our expectations, in a fixed order: version, chain, signature over the
    /// peer's Noise static key `remote_static`, then the expected peer ID when dialling a known peer.
    pub fn verify(
        &self,
        our_version: u32,
        our_chain: &Hash,
        remote_static: &[u8],
        expected: Option<PeerId>,
    ) -> Result<PeerId, P2pError> {
        if self.version != our_version {
            return Err(P2pError::VersionMismatch {
                ours: our_version,
                theirs: self.version,
            });
        }
        if self.chain_id != *our_chain {
            return Err(P2pError::WrongChain {
                expected: *our_chain,
                got: self.chain_id,
            });
        }
        let msg = signed_bytes(&self.chain_id, remote_static);
        if !crypto::ed25519::verify(self.peer_id.as_bytes(), &msg, &self.signature) {
            return Err(P2pError::BadSignature { peer: self.peer_id });
        }
        if let Some(expected) = expected
            && expected != self.peer_id
        {
            return Err(P2pError::UnexpectedPeer {
                expected,
                got: self.peer_id,
            });
        }
        Ok(self.peer_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> NodeKey {
        NodeKey::from_seed(&[b; 32])
    }

    #[test]
    fn payload_round_trip_and_verify() {
        let k = key(1);
        let chain = Hash([7; 32]);
        let noise = [9u8; 32];
        let p = HandshakePayload::sign(&k, 1, chain, &noise);
        let d = HandshakePayload::decode(&p.encode()).unwrap();
        assert_eq!(d, p);
        assert_eq!(
            d.verify(1, &chain, &noise, Some(k.peer_id())).unwrap(),
            k.peer_id()
        );
    }

    #[test]
    fn each_check_has_its_error() {
        let k = key(1);
        let chain = Hash([7; 32]);
        let noise = [9u8; 32];
        let p = HandshakePayload::sign(&k, 1, chain, &noise);
        assert!(matches!(
            p.verify(2, &chain, &noise, None),
            Err(P2pError::VersionMismatch { .. })
        ));
        assert!(matches!(
            p.verify(1, &Hash([8; 32]), &noise, None),
            Err(P2pError::WrongChain { .. })
        ));
        // Signed for another Noise key: the session is not bound to this node key.
        assert!(matches!(
            p.verify(1, &chain, &[10u8; 32], None),
            Err(P2pError::BadSignature { .. })
        ));
        assert!(matches!(
            p.verify(1, &chain, &noise, Some(key(2).peer_id())),
            Err(P2pError::UnexpectedPeer { .. })
        ));
        let mut forged = p.clone();
        forged.peer_id = key(2).peer_id();
        assert!(matches!(
            forged.verify(1, &chain, &noise, None),
            Err(P2pError::BadSignature { .. })
        ));
    }

    #[test]
    fn wrong_length_is_malformed() {
        for len in [0, 1, PAYLOAD_LEN - 1, PAYLOAD_LEN + 1] {
            assert!(matches!(
                HandshakePayload::decode(&vec![0; len]),
                Err(P2pError::MalformedHandshake { .. })
            ));
        }
    }

    #[test]
    fn debug_is_redacted() {
        let k = key(3);
        assert!(!format!("{k:?}").contains(&hex::encode([3u8; 32])));
    }
}

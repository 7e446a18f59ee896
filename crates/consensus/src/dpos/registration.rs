//! Candidate registration: binds a candidate (the 64-byte chainkd xpub that vote outputs name) to the
//! BLS key it signs BBFT votes with, on one chain.
//!
//! The reference has no such record, so it travels inside the reference transaction format as the
//! control program of an ordinary (intra-chain) output that starts with `OP_FAIL`, i.e. a retirement,
//! which every reference node accepts and never lets anyone spend:
//!
//! ```text
//! 0x6a                         OP_FAIL
//! 0x15 "TRIBUTARY-DPOS-REG-V2" tag (21 bytes)
//! 0x40 <xpub: 64 bytes>        candidate
//! 0x08 <sequence: 8 bytes BE>  registration counter of this candidate
//! 0x30 <BLS public key: 48>    compressed G1 point
//! 0x4c 0x60 <proof: 96 bytes>  BLS proof of possession of that key (over the key itself)
//! 0x4c 0x60 <binding: 96>      BLS signature by that key over the registration message
//! 0x40 <signature: 64 bytes>   ed25519 by the xpub's key over message ‖ proof ‖ binding
//! ```
//!
//! Registration message: `tag ‖ chain id (32) ‖ xpub (64) ‖ sequence (8, BE) ‖ BLS key (48)`. The chain
//! id is not carried: the verifier supplies its own, so a registration replayed on another chain fails.
//! Both keys sign the message, so neither can be registered with the other without its owner: a copied
//! BLS key and proof under another xpub fail the binding signature. Every push must use the minimal push
//! opcode and nothing may follow the signature, so each registration has one encoding (407 bytes). See
//! `docs/dpos.md`.

use std::fmt;

use crypto::bls::{ProofOfPossession, PublicKey, SecretKey, Signature};
use crypto::chainkd::{EXTENDED_KEY_LEN, XPrv, XPub};
use crypto::ed25519::SIGNATURE_LEN;
use types::Hash;
use types::tx::OP_FAIL;

/// The tag that marks a retirement program as a registration and domain-separates both signatures
/// (BBFT signs messages with other prefixes under the same BLS key).
pub const REGISTRATION_TAG: &[u8; 21] = b"TRIBUTARY-DPOS-REG-V2";
/// Prefix hashed with a chain name by [`ChainId::from_name`].
pub const CHAIN_ID_TAG: &[u8] = b"TRIBUTARY-CHAIN-ID-V1";
/// Length of a chain id.
pub const CHAIN_ID_LEN: usize = 32;
/// Length of a BLS public key (compressed G1).
pub const CONSENSUS_KEY_LEN: usize = 48;
/// Length of a BLS proof of possession (compressed G2).
pub const PROOF_LEN: usize = 96;
/// Length of the BLS binding signature (compressed G2).
pub const BINDING_LEN: usize = 96;
/// Length of the sequence number field.
pub const SEQUENCE_LEN: usize = 8;
/// Length of the registration message both keys sign.
pub const MESSAGE_LEN: usize =
    REGISTRATION_TAG.len() + CHAIN_ID_LEN + EXTENDED_KEY_LEN + SEQUENCE_LEN + CONSENSUS_KEY_LEN;
/// Exact length of a registration program.
pub const REGISTRATION_PROGRAM_LEN: usize = 1
    + (1 + REGISTRATION_TAG.len())
    + (1 + EXTENDED_KEY_LEN)
    + (1 + SEQUENCE_LEN)
    + (1 + CONSENSUS_KEY_LEN)
    + (2 + PROOF_LEN)
    + (2 + BINDING_LEN)
    + (1 + SIGNATURE_LEN);

/// The opcode pushing the tag (`OP_DATA_21`).
const TAG_PUSH: u8 = 0x15;
const OP_PUSHDATA1: u8 = 0x4c;
const OP_PUSHDATA2: u8 = 0x4d;
const OP_PUSHDATA4: u8 = 0x4e;
/// Largest length an `OP_DATA_n` opcode pushes directly.
const MAX_DIRECT_PUSH: usize = 0x4b;

/// The chain a registration is valid on: by default the genesis block hash (`From<Hash>`), or the
/// hash of a configured chain name ([`ChainId::from_name`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChainId(pub [u8; CHAIN_ID_LEN]);

impl ChainId {
    /// `SHA3-256(CHAIN_ID_TAG ‖ name)`, for chains identified by a configured string.
    pub fn from_name(name: &str) -> ChainId {
        let mut buf = Vec::with_capacity(CHAIN_ID_TAG.len() + name.len());
        buf.extend_from_slice(CHAIN_ID_TAG);
        buf.extend_from_slice(name.as_bytes());
        ChainId(crypto::sha3_256(&buf))
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8; CHAIN_ID_LEN] {
        &self.0
    }
}

impl From<Hash> for ChainId {
    fn from(genesis_hash: Hash) -> Self {
        ChainId(genesis_hash.0)
    }
}

impl fmt::Debug for ChainId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainId({})", hex::encode(self.0))
    }
}

/// A candidate's consensus (BLS) public key as bytes: 48 bytes of a compressed G1 point. Only a
/// [`ProvenKey`] says the key is valid and its possession proven.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConsensusKey(pub [u8; CONSENSUS_KEY_LEN]);

impl ConsensusKey {
    /// The 48 bytes.
    pub fn as_bytes(&self) -> &[u8; CONSENSUS_KEY_LEN] {
        &self.0
    }
}

impl From<&PublicKey> for ConsensusKey {
    fn from(pk: &PublicKey) -> Self {
        ConsensusKey(pk.to_bytes())
    }
}

impl fmt::Debug for ConsensusKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConsensusKey({})", hex::encode(self.0))
    }
}

/// A BLS consensus key whose proof of possession has been checked. It can only be built by checking
/// the proof ([`ProvenKey::new`]) or from the secret ([`ProvenKey::from_secret`]), so every key in a
/// DPoS [`ValidatorSet`](super::ValidatorSet) — registered or genesis — is safe for BBFT's
/// same-message aggregate verification (no rogue keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvenKey {
    public: PublicKey,
    proof: ProofOfPossession,
}

impl ProvenKey {
    /// Decodes a compressed key and its proof of possession and checks the proof.
    ///
    /// # Errors
    /// [`RegistrationError::BadConsensusKey`] if the key is not a valid subgroup point,
    /// [`RegistrationError::BadProofOfPossession`] if the proof does not decode or verify.
    pub fn new(key: &[u8], proof: &[u8]) -> Result<ProvenKey, RegistrationError> {
        let public = PublicKey::from_bytes(key).map_err(|_| RegistrationError::BadConsensusKey)?;
        let proof =
            ProofOfPossession::from_bytes(proof).map_err(|_| RegistrationError::BadProofOfPossession)?;
        if !public.verify_possession(&proof) {
            return Err(RegistrationError::BadProofOfPossession);
        }
        Ok(ProvenKey { public, proof })
    }

    /// The key of `secret` with a fresh proof (the holder of the secret needs no check).
    pub fn from_secret(secret: &SecretKey) -> ProvenKey {
        ProvenKey {
            public: secret.public_key(),
            proof: secret.prove_possession(),
        }
    }

    /// The key's bytes.
    pub fn key(&self) -> ConsensusKey {
        ConsensusKey::from(&self.public)
    }

    /// The decoded public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The checked proof of possession.
    pub fn proof(&self) -> &ProofOfPossession {
        &self.proof
    }
}

/// Why a registration output was not accepted. It is then ignored: it never changes election state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The program ends inside a field.
    #[error("registration truncated in {field}")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// A field does not start with a push opcode.
    #[error("registration {field}: opcode {opcode:#04x} is not a push")]
    NotAPush {
        /// The field.
        field: &'static str,
        /// The opcode found.
        opcode: u8,
    },
    /// A field is pushed with a longer opcode than needed.
    #[error("registration {field}: push is not minimal")]
    NonMinimalPush {
        /// The field.
        field: &'static str,
    },
    /// A field has the wrong length.
    #[error("registration {field}: {got} bytes, expected {expected}")]
    WrongLength {
        /// The field.
        field: &'static str,
        /// Its length.
        got: usize,
        /// The required length.
        expected: usize,
    },
    /// Bytes follow the signature.
    #[error("{count} bytes after the registration signature")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// The registration sits in a vote or cross-chain output instead of an ordinary retirement.
    #[error("registration in a {kind} output")]
    WrongOutputKind {
        /// The output kind.
        kind: &'static str,
    },
    /// The ed25519 signature does not verify under the candidate xpub's key for this chain (forged,
    /// altered, or made for another chain).
    #[error("registration signature does not verify under the candidate's key on this chain")]
    BadSignature,
    /// The BLS key is not a valid compressed G1 subgroup point.
    #[error("registration consensus key is not a valid BLS public key")]
    BadConsensusKey,
    /// The proof of possession does not decode or does not verify for the key.
    #[error("registration proof of possession does not verify")]
    BadProofOfPossession,
    /// The consensus key did not sign this registration message: the key is bound to another xpub
    /// or chain (a copied key and proof), or the signature is malformed.
    #[error("consensus key did not sign this registration")]
    BadBinding,
    /// The sequence is not above the candidate's accepted one (a replay of an older registration).
    #[error("registration sequence {sequence} is not above the current {current}")]
    StaleSequence {
        /// The registration's sequence.
        sequence: u64,
        /// The candidate's current sequence.
        current: u64,
    },
    /// Another candidate already holds this BLS key (its owner may not double its voting power by
    /// registering it twice).
    #[error("consensus key already registered by candidate {owner:?}")]
    KeyInUse {
        /// The candidate holding the key.
        owner: XPub,
    },
}

/// A decoded registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The candidate, as vote outputs name it.
    pub candidate: XPub,
    /// Counter chosen by the candidate; a registration is accepted only above the current one, so an
    /// old registration cannot be replayed to roll a key back.
    pub sequence: u64,
    /// The BLS key.
    pub consensus_key: ConsensusKey,
    /// Proof of possession of the BLS key (standard: a signature over the key's own bytes).
    pub proof: [u8; PROOF_LEN],
    /// BLS signature by the consensus key over [`Registration::message`].
    pub binding: [u8; BINDING_LEN],
    /// ed25519 signature by the xpub's key over [`Registration::signed_bytes`].
    pub signature: [u8; SIGNATURE_LEN],
}

impl Registration {
    /// Builds and signs a registration of `xprv`'s xpub for the BLS key of `bls` on `chain`.
    pub fn sign(chain: &ChainId, xprv: &XPrv, sequence: u64, bls: &SecretKey) -> Registration {
        let candidate = xprv.xpub();
        let consensus_key = ConsensusKey::from(&bls.public_key());
        let proof = bls.prove_possession().to_bytes();
        let message = Self::message(chain, &candidate, sequence, &consensus_key);
        let binding = bls.sign(&message).to_bytes();
        let signature = xprv.sign(&Self::signed_bytes(&message, &proof, &binding));
        Registration {
            candidate,
            sequence,
            consensus_key,
            proof,
            binding,
            signature,
        }
    }

    /// The registration message both keys sign:
    /// `tag ‖ chain id ‖ xpub ‖ sequence (BE) ‖ BLS key` ([`MESSAGE_LEN`] bytes).
    pub fn message(
        chain: &ChainId,
        candidate: &XPub,
        sequence: u64,
        consensus_key: &ConsensusKey,
    ) -> [u8; MESSAGE_LEN] {
        let mut msg = [0u8; MESSAGE_LEN];
        let parts: [&[u8]; 5] = [
            REGISTRATION_TAG,
            chain.as_bytes(),
            candidate.as_bytes(),
            &sequence.to_be_bytes(),
            consensus_key.as_bytes(),
        ];
        let mut at = 0;
        for part in parts {
            if let Some(dst) = msg.get_mut(at..at + part.len()) {
                dst.copy_from_slice(part);
            }
            at += part.len();
        }
        msg
    }

    /// What the xpub's key signs: the message, then the proof and the binding signature, so that no
    /// byte of the program can be changed without the candidate.
    pub fn signed_bytes(
        message: &[u8; MESSAGE_LEN],
        proof: &[u8; PROOF_LEN],
        binding: &[u8; BINDING_LEN],
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(MESSAGE_LEN + PROOF_LEN + BINDING_LEN);
        out.extend_from_slice(message);
        out.extend_from_slice(proof);
        out.extend_from_slice(binding);
        out
    }

    /// The output control program carrying this registration (the format in the module docs).
    pub fn to_program(&self) -> Vec<u8> {
        let mut p = Vec::with_capacity(REGISTRATION_PROGRAM_LEN);
        p.push(OP_FAIL);
        push(&mut p, REGISTRATION_TAG);
        push(&mut p, self.candidate.as_bytes());
        push(&mut p, &self.sequence.to_be_bytes());
        push(&mut p, self.consensus_key.as_bytes());
        push(&mut p, &self.proof);
        push(&mut p, &self.binding);
        push(&mut p, &self.signature);
        p
    }

    /// Decodes a control program. `Ok(None)`: not a registration (no `OP_FAIL` then tag push), e.g. an
    /// ordinary retirement. `Err`: tagged but malformed. Checks structure only; see
    /// [`Registration::verify`]. Reads at most the program's bytes and never panics.
    ///
    /// # Errors
    /// A structural [`RegistrationError`].
    pub fn decode(program: &[u8]) -> Result<Option<Registration>, RegistrationError> {
        // Exactly `OP_FAIL`, the minimal push of the tag, then the tag: anything else is some other
        // retirement and none of our business.
        let Some(rest) = program
            .strip_prefix(&[OP_FAIL, TAG_PUSH][..])
            .and_then(|p| p.strip_prefix(&REGISTRATION_TAG[..]))
        else {
            return Ok(None);
        };
        let mut r = PushReader { rest };
        let candidate = XPub::from_bytes(r.fixed::<EXTENDED_KEY_LEN>("xpub")?);
        let sequence = u64::from_be_bytes(r.fixed::<SEQUENCE_LEN>("sequence")?);
        let consensus_key = ConsensusKey(r.fixed::<CONSENSUS_KEY_LEN>("consensus key")?);
        let proof = r.fixed::<PROOF_LEN>("proof of possession")?;
        let binding = r.fixed::<BINDING_LEN>("binding signature")?;
        let signature = r.fixed::<SIGNATURE_LEN>("signature")?;
        if !r.rest.is_empty() {
            return Err(RegistrationError::TrailingBytes { count: r.rest.len() });
        }
        Ok(Some(Registration {
            candidate,
            sequence,
            consensus_key,
            proof,
            binding,
            signature,
        }))
    }

    /// Checks, for `chain`, the xpub's signature, the BLS key, its proof of possession and its binding
    /// signature (stateless checks), and returns the proven key.
    ///
    /// # Errors
    /// [`RegistrationError::BadSignature`], [`RegistrationError::BadConsensusKey`],
    /// [`RegistrationError::BadProofOfPossession`] or [`RegistrationError::BadBinding`].
    pub fn verify(&self, chain: &ChainId) -> Result<ProvenKey, RegistrationError> {
        let message = Self::message(chain, &self.candidate, self.sequence, &self.consensus_key);
        // The cheap ed25519 check first: it rejects forgeries and other chains' registrations before
        // any pairing is computed.
        if !self.candidate.verify(
            &Self::signed_bytes(&message, &self.proof, &self.binding),
            &self.signature,
        ) {
            return Err(RegistrationError::BadSignature);
        }
        let key = ProvenKey::new(self.consensus_key.as_bytes(), &self.proof)?;
        let binding = Signature::from_bytes(&self.binding).map_err(|_| RegistrationError::BadBinding)?;
        if !binding.verify(key.public_key(), &message) {
            return Err(RegistrationError::BadBinding);
        }
        Ok(key)
    }
}

/// Decodes and verifies a registration program for `chain` (see [`Registration::decode`] and
/// [`Registration::verify`]).
///
/// # Errors
/// Any stateless [`RegistrationError`].
pub fn parse_registration(
    chain: &ChainId,
    program: &[u8],
) -> Result<Option<Registration>, RegistrationError> {
    match Registration::decode(program)? {
        None => Ok(None),
        Some(reg) => {
            reg.verify(chain)?;
            Ok(Some(reg))
        }
    }
}

/// The control program registering `xprv`'s xpub with the BLS key of `bls` at `sequence` on `chain`;
/// put it in a zero-amount BTM output of kind `Control`.
pub fn registration_program(chain: &ChainId, xprv: &XPrv, sequence: u64, bls: &SecretKey) -> Vec<u8> {
    Registration::sign(chain, xprv, sequence, bls).to_program()
}

/// Appends a minimal push of `data` (all our fields are under 256 bytes).
fn push(out: &mut Vec<u8>, data: &[u8]) {
    match u8::try_from(data.len()) {
        Ok(n) if usize::from(n) <= MAX_DIRECT_PUSH => out.push(n),
        Ok(n) => {
            out.push(OP_PUSHDATA1);
            out.push(n);
        }
        // Unreachable for our fixed fields; fall back to PUSHDATA2 so the function stays total.
        Err(_) => {
            out.push(OP_PUSHDATA2);
            let n = u16::try_from(data.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
    out.extend_from_slice(data);
}

/// Reads push operations off a program, bounded by its length.
struct PushReader<'a> {
    rest: &'a [u8],
}

impl<'a> PushReader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], RegistrationError> {
        if self.rest.len() < n {
            return Err(RegistrationError::Truncated { field });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn push(&mut self, field: &'static str) -> Result<&'a [u8], RegistrationError> {
        let op = *self
            .take(1, field)?
            .first()
            .ok_or(RegistrationError::Truncated { field })?;
        let (len, minimal) = match op {
            0x01..=0x4b => (usize::from(op), true),
            OP_PUSHDATA1 => {
                let n = self.le_len::<1>(field)?;
                (n, n > MAX_DIRECT_PUSH)
            }
            OP_PUSHDATA2 => {
                let n = self.le_len::<2>(field)?;
                (n, n > 0xff)
            }
            OP_PUSHDATA4 => {
                let n = self.le_len::<4>(field)?;
                (n, n > 0xffff)
            }
            opcode => return Err(RegistrationError::NotAPush { field, opcode }),
        };
        let data = self.take(len, field)?;
        if !minimal {
            return Err(RegistrationError::NonMinimalPush { field });
        }
        Ok(data)
    }

    fn le_len<const N: usize>(&mut self, field: &'static str) -> Result<usize, RegistrationError> {
        let bytes = self.take(N, field)?;
        let mut buf = [0u8; 8];
        buf.get_mut(..N)
            .ok_or(RegistrationError::Truncated { field })?
            .copy_from_slice(bytes);
        // A length that does not fit in memory cannot be satisfied by the program anyway.
        usize::try_from(u64::from_le_bytes(buf)).map_err(|_| RegistrationError::Truncated { field })
    }

    fn fixed<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], RegistrationError> {
        let data = self.push(field)?;
        <[u8; N]>::try_from(data).map_err(|_| RegistrationError::WrongLength {
            field,
            got: data.len(),
            expected: N,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAIN: ChainId = ChainId([0x47; 32]);

    fn keys(n: u8) -> (XPrv, SecretKey) {
        (
            XPrv::root(&[n; 32]),
            SecretKey::from_seed(&[n.wrapping_add(100); 32]),
        )
    }

    /// A registration signed by `xprv` for any key, proof and binding (to build invalid ones).
    fn forge(
        xprv: &XPrv,
        sequence: u64,
        key: ConsensusKey,
        proof: [u8; PROOF_LEN],
        binding: [u8; BINDING_LEN],
    ) -> Registration {
        let msg = Registration::message(&CHAIN, &xprv.xpub(), sequence, &key);
        Registration {
            candidate: xprv.xpub(),
            sequence,
            consensus_key: key,
            proof,
            binding,
            signature: xprv.sign(&Registration::signed_bytes(&msg, &proof, &binding)),
        }
    }

    /// Freezes the format: changing any byte of a registration is a reviewed, deliberate act.
    #[test]
    fn frozen_vector() {
        let (xprv, bls) = keys(1);
        let program = registration_program(&CHAIN, &xprv, 7, &bls);
        assert_eq!(
            hex::encode(crypto::sha3_256(&program)),
            "b94c817b947e2fc05d4190c46144cd959a5a695b9fdef519d745f8d08e003127"
        );
    }

    #[test]
    fn chain_ids() {
        assert_eq!(ChainId::from(Hash([3; 32])), ChainId([3; 32]));
        assert_ne!(ChainId::from_name("vapor"), ChainId::from_name("vapor-test"));
        let mut buf = CHAIN_ID_TAG.to_vec();
        buf.extend_from_slice(b"vapor");
        assert_eq!(ChainId::from_name("vapor").0, crypto::sha3_256(&buf));
    }

    #[test]
    fn tag_push_matches_tag_length() {
        assert_eq!(usize::from(TAG_PUSH), REGISTRATION_TAG.len());
    }

    #[test]
    fn valid_registration_round_trips() {
        let (xprv, bls) = keys(1);
        let program = registration_program(&CHAIN, &xprv, 7, &bls);
        assert_eq!(program.len(), REGISTRATION_PROGRAM_LEN);
        assert_eq!(REGISTRATION_PROGRAM_LEN, 407);
        assert_eq!(MESSAGE_LEN, 173);
        let reg = parse_registration(&CHAIN, &program).unwrap().unwrap();
        assert_eq!(reg.candidate, xprv.xpub());
        assert_eq!(reg.sequence, 7);
        assert_eq!(reg.consensus_key, ConsensusKey(bls.public_key().to_bytes()));
        assert_eq!(reg.verify(&CHAIN).unwrap(), ProvenKey::from_secret(&bls));
        assert_eq!(reg.to_program(), program);
    }

    #[test]
    fn exact_layout() {
        let (xprv, bls) = keys(2);
        let p = registration_program(&CHAIN, &xprv, 0x0102, &bls);
        assert_eq!(p[0], 0x6a);
        assert_eq!(p[1], 21);
        assert_eq!(&p[2..23], REGISTRATION_TAG);
        assert_eq!(p[23], 0x40);
        assert_eq!(&p[24..88], xprv.xpub().as_bytes());
        assert_eq!(p[88], 0x08);
        assert_eq!(&p[89..97], &[0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(p[97], 0x30);
        assert_eq!(&p[98..146], &bls.public_key().to_bytes());
        assert_eq!((p[146], p[147]), (0x4c, 0x60));
        assert_eq!(&p[148..244], &bls.prove_possession().to_bytes());
        assert_eq!((p[244], p[245]), (0x4c, 0x60));
        let msg = Registration::message(
            &CHAIN,
            &xprv.xpub(),
            0x0102,
            &ConsensusKey::from(&bls.public_key()),
        );
        assert_eq!(&p[246..342], &bls.sign(&msg).to_bytes());
        assert_eq!(p[342], 0x40);
        assert_eq!(p.len(), 343 + 64);
        // The message is tag ‖ chain ‖ xpub ‖ sequence ‖ key.
        assert_eq!(&msg[..21], REGISTRATION_TAG);
        assert_eq!(&msg[21..53], CHAIN.as_bytes());
        assert_eq!(&msg[53..117], xprv.xpub().as_bytes());
        assert_eq!(&msg[117..125], &0x0102u64.to_be_bytes());
        assert_eq!(&msg[125..], &bls.public_key().to_bytes());
    }

    #[test]
    fn other_programs_are_not_registrations() {
        assert_eq!(Registration::decode(&[]), Ok(None));
        assert_eq!(Registration::decode(&[0x6a]), Ok(None));
        assert_eq!(Registration::decode(&[0x6a, 0x03, 1, 2, 3]), Ok(None));
        assert_eq!(Registration::decode(&[0x00, 0x14, 1, 2]), Ok(None));
        let (xprv, bls) = keys(3);
        let mut p = registration_program(&CHAIN, &xprv, 1, &bls);
        p[0] = 0x51;
        assert_eq!(Registration::decode(&p), Ok(None));
        // The previous format's tag is someone else's retirement now.
        let mut v1 = registration_program(&CHAIN, &xprv, 1, &bls);
        v1[22] = b'1';
        assert_eq!(Registration::decode(&v1), Ok(None));
    }

    #[test]
    fn replay_on_another_chain_fails() {
        let (xprv, bls) = keys(4);
        let program = registration_program(&CHAIN, &xprv, 1, &bls);
        assert!(parse_registration(&CHAIN, &program).is_ok());
        for other in [ChainId([0x48; 32]), ChainId::from_name("other")] {
            assert_eq!(
                parse_registration(&other, &program),
                Err(RegistrationError::BadSignature)
            );
        }
        // Even with a fresh ed25519 signature for the other chain, the BLS binding names this one.
        let reg = Registration::decode(&program).unwrap().unwrap();
        let other = ChainId([0x48; 32]);
        let msg = Registration::message(&other, &reg.candidate, 1, &reg.consensus_key);
        let resigned = Registration {
            signature: xprv.sign(&Registration::signed_bytes(&msg, &reg.proof, &reg.binding)),
            ..reg
        };
        assert_eq!(resigned.verify(&other), Err(RegistrationError::BadBinding));
    }

    #[test]
    fn front_running_with_another_xpub_fails() {
        let (victim, bls) = keys(5);
        let (attacker, _) = keys(6);
        let seen = Registration::sign(&CHAIN, &victim, 1, &bls);
        // Swapping in the attacker's xpub breaks the victim's signature.
        let swapped = Registration {
            candidate: attacker.xpub(),
            ..seen.clone()
        };
        assert_eq!(swapped.verify(&CHAIN), Err(RegistrationError::BadSignature));
        // Re-signing with the attacker's key: the public proof verifies, but the BLS binding names the
        // victim's xpub.
        let stolen = forge(&attacker, 1, seen.consensus_key, seen.proof, seen.binding);
        assert_eq!(stolen.verify(&CHAIN), Err(RegistrationError::BadBinding));
        // The attacker's own BLS key cannot stand in for the binding either.
        let (_, attacker_bls) = keys(7);
        let msg = Registration::message(&CHAIN, &attacker.xpub(), 1, &seen.consensus_key);
        let stolen = forge(
            &attacker,
            1,
            seen.consensus_key,
            seen.proof,
            attacker_bls.sign(&msg).to_bytes(),
        );
        assert_eq!(stolen.verify(&CHAIN), Err(RegistrationError::BadBinding));
    }

    #[test]
    fn wrong_signature_is_rejected() {
        let (xprv, bls) = keys(4);
        let mut reg = Registration::sign(&CHAIN, &xprv, 1, &bls);
        reg.signature[0] ^= 1;
        assert_eq!(
            parse_registration(&CHAIN, &reg.to_program()),
            Err(RegistrationError::BadSignature)
        );
        // A changed sequence is not signed.
        let mut reg = Registration::sign(&CHAIN, &xprv, 1, &bls);
        reg.sequence = 2;
        assert_eq!(reg.verify(&CHAIN), Err(RegistrationError::BadSignature));
    }

    #[test]
    fn wrong_proof_of_possession_is_rejected() {
        let (xprv, bls) = keys(6);
        let (_, other_bls) = keys(7);
        let key = ConsensusKey::from(&bls.public_key());
        let binding = bls
            .sign(&Registration::message(&CHAIN, &xprv.xpub(), 1, &key))
            .to_bytes();
        // A well-signed registration carrying the proof for another key.
        let reg = forge(&xprv, 1, key, other_bls.prove_possession().to_bytes(), binding);
        assert_eq!(
            parse_registration(&CHAIN, &reg.to_program()),
            Err(RegistrationError::BadProofOfPossession)
        );
        // A garbage proof.
        let reg = forge(&xprv, 1, key, [0x11; PROOF_LEN], binding);
        assert_eq!(
            parse_registration(&CHAIN, &reg.to_program()),
            Err(RegistrationError::BadProofOfPossession)
        );
        // A vote-style signature over the key is not a proof (different domain tag).
        let vote_sig = bls.sign(&bls.public_key().to_bytes()).to_bytes();
        let reg = forge(&xprv, 1, key, vote_sig, binding);
        assert_eq!(reg.verify(&CHAIN), Err(RegistrationError::BadProofOfPossession));
        // A garbage binding.
        let reg = forge(
            &xprv,
            1,
            key,
            bls.prove_possession().to_bytes(),
            [0x11; BINDING_LEN],
        );
        assert_eq!(reg.verify(&CHAIN), Err(RegistrationError::BadBinding));
    }

    #[test]
    fn bad_consensus_key_is_rejected() {
        let (xprv, bls) = keys(8);
        let reg = forge(
            &xprv,
            1,
            ConsensusKey([0x22; CONSENSUS_KEY_LEN]),
            bls.prove_possession().to_bytes(),
            [0; BINDING_LEN],
        );
        assert_eq!(
            parse_registration(&CHAIN, &reg.to_program()),
            Err(RegistrationError::BadConsensusKey)
        );
    }

    #[test]
    fn proven_keys_check_the_proof() {
        let (_, bls) = keys(9);
        let (_, other) = keys(10);
        let pk = bls.public_key().to_bytes();
        let good = ProvenKey::new(&pk, &bls.prove_possession().to_bytes()).unwrap();
        assert_eq!(good, ProvenKey::from_secret(&bls));
        assert_eq!(good.key(), ConsensusKey(pk));
        assert_eq!(
            ProvenKey::new(&pk, &other.prove_possession().to_bytes()),
            Err(RegistrationError::BadProofOfPossession)
        );
        assert_eq!(
            ProvenKey::new(&pk[..47], &bls.prove_possession().to_bytes()),
            Err(RegistrationError::BadConsensusKey)
        );
        assert_eq!(
            ProvenKey::new(&pk, &[0u8; 10]),
            Err(RegistrationError::BadProofOfPossession)
        );
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let (xprv, bls) = keys(9);
        let p = registration_program(&CHAIN, &xprv, 1, &bls);
        for cut in 23..p.len() {
            assert!(
                matches!(
                    Registration::decode(&p[..cut]),
                    Err(RegistrationError::Truncated { .. })
                ),
                "cut at {cut}"
            );
        }
        // Cuts inside the tag make it an ordinary retirement.
        for cut in 0..23 {
            assert_eq!(Registration::decode(&p[..cut]), Ok(None));
        }
    }

    #[test]
    fn malformed_fields() {
        let (xprv, bls) = keys(10);
        let p = registration_program(&CHAIN, &xprv, 1, &bls);
        let mut trailing = p.clone();
        trailing.push(0);
        assert_eq!(
            Registration::decode(&trailing),
            Err(RegistrationError::TrailingBytes { count: 1 })
        );
        let mut short_xpub = p[..23].to_vec();
        short_xpub.push(0x3f);
        short_xpub.extend_from_slice(&p[24..87]);
        short_xpub.extend_from_slice(&p[88..]);
        assert_eq!(
            Registration::decode(&short_xpub),
            Err(RegistrationError::WrongLength {
                field: "xpub",
                got: 63,
                expected: 64
            })
        );
        let mut not_push = p[..23].to_vec();
        not_push.push(0xac);
        assert_eq!(
            Registration::decode(&not_push),
            Err(RegistrationError::NotAPush {
                field: "xpub",
                opcode: 0xac
            })
        );
        let mut long_push = p[..23].to_vec();
        long_push.extend_from_slice(&[0x4c, 0x40]);
        long_push.extend_from_slice(&p[24..]);
        assert_eq!(
            Registration::decode(&long_push),
            Err(RegistrationError::NonMinimalPush { field: "xpub" })
        );
        let mut long_tag = vec![0x6a, 0x4c, 21];
        long_tag.extend_from_slice(&p[2..]);
        assert_eq!(Registration::decode(&long_tag), Ok(None));
        // A huge PUSHDATA4 length reads nothing past the end.
        let mut huge = p[..23].to_vec();
        huge.extend_from_slice(&[0x4e, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(
            Registration::decode(&huge),
            Err(RegistrationError::Truncated { field: "xpub" })
        );
    }
}

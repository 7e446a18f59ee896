//! Candidate registration: binds a candidate (the 64-byte chainkd xpub that vote outputs name) to the
//! BLS key it signs BBFT votes with.
//!
//! The reference has no such record, so it travels inside the reference transaction format as the
//! control program of an ordinary (intra-chain) output that starts with `OP_FAIL`, i.e. a retirement,
//! which every reference node accepts and never lets anyone spend:
//!
//! ```text
//! 0x6a                         OP_FAIL
//! 0x15 "TRIBUTARY-DPOS-REG-V1" tag (21 bytes)
//! 0x40 <xpub: 64 bytes>        candidate
//! 0x08 <sequence: 8 bytes BE>  registration counter of this candidate
//! 0x30 <BLS public key: 48>    compressed G1 point
//! 0x4c 0x60 <proof: 96 bytes>  BLS proof of possession of that key
//! 0x40 <signature: 64 bytes>   ed25519 by the xpub's key over the signing message
//! ```
//!
//! Signing message: `tag ‖ xpub ‖ sequence (8 bytes BE) ‖ BLS key ‖ proof`. Every push must use the
//! minimal push opcode and nothing may follow the signature, so each registration has one encoding
//! (309 bytes). See `docs/dpos.md`.

use std::fmt;

use crypto::bls::{ProofOfPossession, PublicKey, SecretKey};
use crypto::chainkd::{EXTENDED_KEY_LEN, XPrv, XPub};
use crypto::ed25519::SIGNATURE_LEN;
use types::tx::OP_FAIL;

/// The tag that marks a retirement program as a registration and domain-separates its signature.
pub const REGISTRATION_TAG: &[u8; 21] = b"TRIBUTARY-DPOS-REG-V1";
/// Length of a BLS public key (compressed G1).
pub const CONSENSUS_KEY_LEN: usize = 48;
/// Length of a BLS proof of possession (compressed G2).
pub const PROOF_LEN: usize = 96;
/// Length of the sequence number field.
pub const SEQUENCE_LEN: usize = 8;
/// Exact length of a registration program.
pub const REGISTRATION_PROGRAM_LEN: usize = 1
    + (1 + REGISTRATION_TAG.len())
    + (1 + EXTENDED_KEY_LEN)
    + (1 + SEQUENCE_LEN)
    + (1 + CONSENSUS_KEY_LEN)
    + (2 + PROOF_LEN)
    + (1 + SIGNATURE_LEN);

/// The opcode pushing the tag (`OP_DATA_21`).
const TAG_PUSH: u8 = 0x15;
const OP_PUSHDATA1: u8 = 0x4c;
const OP_PUSHDATA2: u8 = 0x4d;
const OP_PUSHDATA4: u8 = 0x4e;
/// Largest length an `OP_DATA_n` opcode pushes directly.
const MAX_DIRECT_PUSH: usize = 0x4b;

/// A candidate's consensus (BLS) public key as registered: 48 bytes of a compressed G1 point that
/// passed [`PublicKey::from_bytes`] when the registration was accepted.
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
    /// The ed25519 signature does not verify under the candidate xpub's key.
    #[error("registration signature does not verify under the candidate's key")]
    BadSignature,
    /// The BLS key is not a valid compressed G1 subgroup point.
    #[error("registration consensus key is not a valid BLS public key")]
    BadConsensusKey,
    /// The proof of possession does not decode or does not verify for the key.
    #[error("registration proof of possession does not verify")]
    BadProofOfPossession,
    /// The sequence is not above the candidate's accepted one (a replay of an older registration).
    #[error("registration sequence {sequence} is not above the current {current}")]
    StaleSequence {
        /// The registration's sequence.
        sequence: u64,
        /// The candidate's current sequence.
        current: u64,
    },
    /// Another candidate already holds this BLS key (a copied key and proof would double that
    /// candidate's voting power).
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
    /// Proof of possession of the BLS key.
    pub proof: [u8; PROOF_LEN],
    /// ed25519 signature by the xpub's key over [`Registration::signing_message`].
    pub signature: [u8; SIGNATURE_LEN],
}

impl Registration {
    /// Builds and signs a registration of `xprv`'s xpub for the BLS key of `bls`.
    pub fn sign(xprv: &XPrv, sequence: u64, bls: &SecretKey) -> Registration {
        let candidate = xprv.xpub();
        let consensus_key = ConsensusKey::from(&bls.public_key());
        let proof = bls.prove_possession().to_bytes();
        let msg = Self::signing_message(&candidate, sequence, &consensus_key, &proof);
        Registration {
            candidate,
            sequence,
            consensus_key,
            proof,
            signature: xprv.sign(&msg),
        }
    }

    /// The bytes the candidate signs: `tag ‖ xpub ‖ sequence (BE) ‖ BLS key ‖ proof`.
    pub fn signing_message(
        candidate: &XPub,
        sequence: u64,
        consensus_key: &ConsensusKey,
        proof: &[u8; PROOF_LEN],
    ) -> Vec<u8> {
        let mut msg = Vec::with_capacity(
            REGISTRATION_TAG.len() + EXTENDED_KEY_LEN + SEQUENCE_LEN + CONSENSUS_KEY_LEN + PROOF_LEN,
        );
        msg.extend_from_slice(REGISTRATION_TAG);
        msg.extend_from_slice(candidate.as_bytes());
        msg.extend_from_slice(&sequence.to_be_bytes());
        msg.extend_from_slice(consensus_key.as_bytes());
        msg.extend_from_slice(proof);
        msg
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
        let signature = r.fixed::<SIGNATURE_LEN>("signature")?;
        if !r.rest.is_empty() {
            return Err(RegistrationError::TrailingBytes { count: r.rest.len() });
        }
        Ok(Some(Registration {
            candidate,
            sequence,
            consensus_key,
            proof,
            signature,
        }))
    }

    /// Checks the signature, the BLS key and its proof of possession (stateless checks).
    ///
    /// # Errors
    /// [`RegistrationError::BadSignature`], [`RegistrationError::BadConsensusKey`] or
    /// [`RegistrationError::BadProofOfPossession`].
    pub fn verify(&self) -> Result<(), RegistrationError> {
        let msg = Self::signing_message(&self.candidate, self.sequence, &self.consensus_key, &self.proof);
        if !self.candidate.verify(&msg, &self.signature) {
            return Err(RegistrationError::BadSignature);
        }
        let pk = PublicKey::from_bytes(self.consensus_key.as_bytes())
            .map_err(|_| RegistrationError::BadConsensusKey)?;
        let pop = ProofOfPossession::from_bytes(&self.proof)
            .map_err(|_| RegistrationError::BadProofOfPossession)?;
        if !pk.verify_possession(&pop) {
            return Err(RegistrationError::BadProofOfPossession);
        }
        Ok(())
    }
}

/// Decodes and verifies a registration program (see [`Registration::decode`] and
/// [`Registration::verify`]).
///
/// # Errors
/// Any stateless [`RegistrationError`].
pub fn parse_registration(program: &[u8]) -> Result<Option<Registration>, RegistrationError> {
    match Registration::decode(program)? {
        None => Ok(None),
        Some(reg) => {
            reg.verify()?;
            Ok(Some(reg))
        }
    }
}

/// The control program registering `xprv`'s xpub with the BLS key of `bls` at `sequence`; put it in a
/// zero-amount BTM output of kind `Control`.
pub fn registration_program(xprv: &XPrv, sequence: u64, bls: &SecretKey) -> Vec<u8> {
    Registration::sign(xprv, sequence, bls).to_program()
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

    fn keys(n: u8) -> (XPrv, SecretKey) {
        (
            XPrv::root(&[n; 32]),
            SecretKey::from_seed(&[n.wrapping_add(100); 32]),
        )
    }

    /// Freezes the format: changing any byte of a registration is a reviewed, deliberate act.
    #[test]
    fn frozen_vector() {
        let (xprv, bls) = keys(1);
        let program = registration_program(&xprv, 7, &bls);
        assert_eq!(
            hex::encode(crypto::sha3_256(&program)),
            "0f624b2fcdda934314d55c344a80e4f1cb97a475b5ba9836b677028aacc896c5"
        );
    }

    #[test]
    fn tag_push_matches_tag_length() {
        assert_eq!(usize::from(TAG_PUSH), REGISTRATION_TAG.len());
    }

    #[test]
    fn valid_registration_round_trips() {
        let (xprv, bls) = keys(1);
        let program = registration_program(&xprv, 7, &bls);
        assert_eq!(program.len(), REGISTRATION_PROGRAM_LEN);
        assert_eq!(REGISTRATION_PROGRAM_LEN, 309);
        let reg = parse_registration(&program).unwrap().unwrap();
        assert_eq!(reg.candidate, xprv.xpub());
        assert_eq!(reg.sequence, 7);
        assert_eq!(reg.consensus_key, ConsensusKey(bls.public_key().to_bytes()));
        assert_eq!(reg.to_program(), program);
    }

    #[test]
    fn exact_layout() {
        let (xprv, bls) = keys(2);
        let p = registration_program(&xprv, 0x0102, &bls);
        assert_eq!(p[0], 0x6a);
        assert_eq!(p[1], 21);
        assert_eq!(&p[2..23], REGISTRATION_TAG);
        assert_eq!(p[23], 0x40);
        assert_eq!(&p[24..88], xprv.xpub().as_bytes());
        assert_eq!(p[88], 0x08);
        assert_eq!(&p[89..97], &[0, 0, 0, 0, 0, 0, 1, 2]);
        assert_eq!(p[97], 0x30);
        assert_eq!(p[146], 0x4c);
        assert_eq!(p[147], 0x60);
        assert_eq!(p[244], 0x40);
    }

    #[test]
    fn other_programs_are_not_registrations() {
        assert_eq!(Registration::decode(&[]), Ok(None));
        assert_eq!(Registration::decode(&[0x6a]), Ok(None));
        assert_eq!(Registration::decode(&[0x6a, 0x03, 1, 2, 3]), Ok(None));
        assert_eq!(Registration::decode(&[0x00, 0x14, 1, 2]), Ok(None));
        let (xprv, bls) = keys(3);
        let mut p = registration_program(&xprv, 1, &bls);
        p[0] = 0x51;
        assert_eq!(Registration::decode(&p), Ok(None));
    }

    #[test]
    fn wrong_signature_is_rejected() {
        let (xprv, bls) = keys(4);
        let mut reg = Registration::sign(&xprv, 1, &bls);
        reg.signature[0] ^= 1;
        assert_eq!(
            parse_registration(&reg.to_program()),
            Err(RegistrationError::BadSignature)
        );
        // Someone else's signature over the same fields does not bind this xpub.
        let (other, _) = keys(5);
        let mut stolen = Registration::sign(&xprv, 1, &bls);
        stolen.candidate = other.xpub();
        assert_eq!(
            parse_registration(&stolen.to_program()),
            Err(RegistrationError::BadSignature)
        );
    }

    #[test]
    fn wrong_proof_of_possession_is_rejected() {
        let (xprv, bls) = keys(6);
        let (_, other_bls) = keys(7);
        // A well-signed registration carrying the proof for another key.
        let key = ConsensusKey::from(&bls.public_key());
        let proof = other_bls.prove_possession().to_bytes();
        let msg = Registration::signing_message(&xprv.xpub(), 1, &key, &proof);
        let reg = Registration {
            candidate: xprv.xpub(),
            sequence: 1,
            consensus_key: key,
            proof,
            signature: xprv.sign(&msg),
        };
        assert_eq!(
            parse_registration(&reg.to_program()),
            Err(RegistrationError::BadProofOfPossession)
        );
        // A garbage proof.
        let proof = [0x11; PROOF_LEN];
        let msg = Registration::signing_message(&xprv.xpub(), 1, &key, &proof);
        let reg = Registration {
            proof,
            signature: xprv.sign(&msg),
            ..reg
        };
        assert_eq!(
            parse_registration(&reg.to_program()),
            Err(RegistrationError::BadProofOfPossession)
        );
    }

    #[test]
    fn bad_consensus_key_is_rejected() {
        let (xprv, bls) = keys(8);
        let key = ConsensusKey([0x22; CONSENSUS_KEY_LEN]);
        let proof = bls.prove_possession().to_bytes();
        let msg = Registration::signing_message(&xprv.xpub(), 1, &key, &proof);
        let reg = Registration {
            candidate: xprv.xpub(),
            sequence: 1,
            consensus_key: key,
            proof,
            signature: xprv.sign(&msg),
        };
        assert_eq!(
            parse_registration(&reg.to_program()),
            Err(RegistrationError::BadConsensusKey)
        );
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let (xprv, bls) = keys(9);
        let p = registration_program(&xprv, 1, &bls);
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
        let p = registration_program(&xprv, 1, &bls);
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

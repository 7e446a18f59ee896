//! Transaction templates in the reference's JSON shape (vapor `blockchain/txbuilder`): the raw
//! transaction, one signing instruction per input, the fee. Signing fills `raw_tx_signature`
//! components; finalizing writes each input's witness as the reference's `materialize` does: the first
//! `quorum` signatures in key order, then the data components.

use crypto::chainkd::XPub;
use serde::{Deserialize, Serialize};
use types::{Limits, Profile, Transaction};

use crate::error::WalletError;
use crate::serde_util::{hex_bytes, hex_list};

/// One key of a signature component: a root xpub and the path to the signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyId {
    /// Root xpub.
    pub xpub: XPub,
    /// Derivation path elements (hex).
    #[serde(with = "hex_list")]
    pub derivation_path: Vec<Vec<u8>>,
}

/// A witness component (the reference's `raw_tx_signature` and `data` types).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum WitnessComponent {
    /// Signatures over the input's TXSIGHASH by `quorum` of `keys`.
    #[serde(rename = "raw_tx_signature")]
    RawTxSignature {
        /// Signatures required.
        quorum: u64,
        /// The keys, in program order.
        keys: Vec<KeyId>,
        /// One slot per key (empty when not signed); `null` before any signature.
        #[serde(with = "sig_slots", default)]
        signatures: Vec<Vec<u8>>,
    },
    /// A fixed witness argument (a public key or a script).
    #[serde(rename = "data")]
    Data {
        /// The bytes (hex).
        #[serde(with = "hex_bytes")]
        value: Vec<u8>,
    },
}

/// Signature slots: `null` while none is filled (as the reference prints a fresh template).
mod sig_slots {
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(sigs: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
        if sigs.is_empty() {
            s.serialize_none()
        } else {
            crate::serde_util::hex_list::serialize(sigs, s)
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
        crate::serde_util::hex_list::deserialize(d)
    }
}

/// What to sign for one input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningInstruction {
    /// The input's position.
    pub position: u32,
    /// Its witness, in order.
    #[serde(default)]
    pub witness_components: Vec<WitnessComponent>,
}

/// A transaction template (`build-transaction`'s answer, `sign-transaction`'s input and output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    /// The transaction (hex), witnesses as signed so far.
    #[serde(with = "hex_bytes")]
    pub raw_transaction: Vec<u8>,
    /// One per input the wallet built.
    #[serde(default)]
    pub signing_instructions: Vec<SigningInstruction>,
    /// BTM in minus BTM out, in neu.
    #[serde(default)]
    pub fee: u64,
    /// Whether more actions may be added (always false here, as in the reference's builds).
    #[serde(default)]
    pub allow_additional_actions: bool,
}

/// Most witness components of one instruction, keys of one component and bytes of one data item
/// accepted from a template (they come from clients).
const MAX_COMPONENTS: usize = 64;
const MAX_KEYS: usize = 64;
const MAX_PATH: usize = 16;

impl Template {
    /// Decodes the raw transaction under `profile` and checks the instructions against it.
    pub fn transaction(&self, profile: Profile) -> Result<Transaction, WalletError> {
        let tx = Transaction::decode(&self.raw_transaction, profile, &Limits::default())
            .map_err(|e| WalletError::BadTemplate(format!("raw_transaction: {e}")))?;
        for (i, si) in self.signing_instructions.iter().enumerate() {
            let pos = usize::try_from(si.position).unwrap_or(usize::MAX);
            if pos >= tx.inputs().len() {
                return Err(WalletError::BadTemplate(format!(
                    "signing instruction {i}: position {} but {} inputs",
                    si.position,
                    tx.inputs().len()
                )));
            }
            if si.witness_components.len() > MAX_COMPONENTS {
                return Err(WalletError::BadTemplate(format!(
                    "signing instruction {i}: too many components"
                )));
            }
            for c in &si.witness_components {
                if let WitnessComponent::RawTxSignature {
                    quorum,
                    keys,
                    signatures,
                } = c
                {
                    let n = u64::try_from(keys.len()).unwrap_or(u64::MAX);
                    if keys.len() > MAX_KEYS
                        || *quorum == 0
                        || *quorum > n
                        || signatures.len() > keys.len()
                        || keys.iter().any(|k| k.derivation_path.len() > MAX_PATH)
                    {
                        return Err(WalletError::BadTemplate(format!(
                            "signing instruction {i}: quorum {quorum} of {} keys, {} signatures",
                            keys.len(),
                            signatures.len()
                        )));
                    }
                }
            }
        }
        Ok(tx)
    }

    /// Whether every signature component holds its quorum.
    pub fn is_complete(&self) -> bool {
        self.signing_instructions.iter().all(|si| {
            si.witness_components.iter().all(|c| match c {
                WitnessComponent::RawTxSignature {
                    quorum, signatures, ..
                } => {
                    u64::try_from(signatures.iter().filter(|s| !s.is_empty()).count()).unwrap_or(0) >= *quorum
                }
                WitnessComponent::Data { .. } => true,
            })
        })
    }
}

/// The witness of one instruction (reference `materialize`): for a signature component the first
/// `quorum` present signatures in key order, for a data component its bytes.
pub fn witness_of(si: &SigningInstruction) -> Vec<Vec<u8>> {
    let mut args = Vec::new();
    for c in &si.witness_components {
        match c {
            WitnessComponent::RawTxSignature {
                quorum, signatures, ..
            } => {
                let q = usize::try_from(*quorum).unwrap_or(usize::MAX);
                args.extend(signatures.iter().filter(|s| !s.is_empty()).take(q).cloned());
            }
            WitnessComponent::Data { value } => args.push(value.clone()),
        }
    }
    args
}

/// Writes every instruction's witness into `tx` and returns the re-encoded transaction.
pub fn materialize(tx: Transaction, instructions: &[SigningInstruction]) -> Result<Transaction, WalletError> {
    let profile = tx.profile();
    let mut data = tx.into_data();
    for si in instructions {
        let pos = usize::try_from(si.position).unwrap_or(usize::MAX);
        let input = data
            .inputs
            .get_mut(pos)
            .ok_or_else(|| WalletError::BadTemplate(format!("no input at position {}", si.position)))?;
        input.set_arguments(witness_of(si));
    }
    Transaction::new(profile, data).map_err(|e| WalletError::BadTemplate(format!("transaction: {e}")))
}

/// The side profile's `estimate-transaction-gas` answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GasEstimate {
    /// Fee to attach beyond the free credit, in neu.
    pub total_neu: i64,
    /// Allowance for one more input, in neu.
    pub flexible_neu: i64,
    /// Storage gas in neu.
    pub storage_neu: i64,
    /// VM gas in neu.
    pub vm_neu: i64,
}

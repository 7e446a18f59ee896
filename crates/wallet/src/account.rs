//! Accounts and their control programs, derived exactly as the reference derives them (vapor
//! `account/accounts.go`, `blockchain/signers`): BIP44 paths `[44, 153, key_index, change, index]`,
//! a single key pays to P2WPKH of the derived key, several keys to P2WSH of the M-of-N multisig program
//! of the derived keys in account order.

use crypto::chainkd::path::{DeriveRule, account_path};
use crypto::chainkd::{XPub, derive_xpubs, xpub_keys};
use crypto::hash::sha3_256;
use serde::{Deserialize, Serialize};
use types::address::program_to_address;
use types::{Network, Profile};
use vm::standard;

use crate::error::WalletError;
use crate::serde_util::hex_bytes;

/// Keys with index ≥ 2^31 are hardened in BIP32; the reference refuses account indexes there.
pub const HARDENED_KEY_START: u64 = 0x8000_0000;
/// Most keys in one account (the VM's multisig limit is far above any real use; this bounds requests).
pub const MAX_ACCOUNT_KEYS: usize = 32;

/// An account: the reference's `AnnotatedAccount` JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// A random UUID.
    pub id: String,
    /// The normalized alias.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub alias: String,
    /// The root xpubs, in the order given at creation.
    pub xpubs: Vec<XPub>,
    /// Signatures required.
    pub quorum: u64,
    /// The account's index among accounts of the same key set (starts at 1).
    pub key_index: u64,
    /// 1 = BIP44 (every account made here), 0 = BIP32 (older reference accounts).
    pub derive_rule: u8,
}

impl Account {
    /// The derivation path of the address `index` on the receive or change branch.
    pub fn path(&self, change: bool, index: u64) -> Result<Vec<Vec<u8>>, WalletError> {
        let rule = DeriveRule::try_from(self.derive_rule)
            .map_err(|e| WalletError::Internal(format!("account {}: {e}", self.id)))?;
        account_path(rule, self.key_index, change, index).map_err(|_| WalletError::IndexExhausted {
            what: "address",
            index,
        })
    }

    /// The derived keys at a path, in account order.
    pub fn derived_xpubs(&self, path: &[Vec<u8>]) -> Result<Vec<XPub>, WalletError> {
        derive_xpubs(&self.xpubs, path).map_err(|e| WalletError::Internal(format!("derive: {e}")))
    }

    /// The control program at (change, index) and, for a multisig account, its witness script.
    pub fn program_at(&self, change: bool, index: u64) -> Result<(Vec<u8>, Option<Vec<u8>>), WalletError> {
        let path = self.path(change, index)?;
        let derived = self.derived_xpubs(&path)?;
        if let [single] = derived.as_slice() {
            let pubkey = single.public_key();
            Ok((standard::p2wpkh_program(&crate::pubkey_hash(&pubkey)), None))
        } else {
            let script = multisig_script(&derived, self.quorum)?;
            Ok((standard::p2wsh_program(&sha3_256(&script)), Some(script)))
        }
    }
}

/// The M-of-N program of derived keys (`P2SPMultiSigProgram`).
pub fn multisig_script(derived: &[XPub], quorum: u64) -> Result<Vec<u8>, WalletError> {
    let keys = xpub_keys(derived);
    let quorum = i64::try_from(quorum).map_err(|_| WalletError::BadQuorum {
        quorum,
        keys: keys.len(),
    })?;
    standard::p2sp_multisig_program(&keys, quorum)
        .map_err(|e| WalletError::Internal(format!("multisig program: {e}")))
}

/// Checks a create-account request as the reference's `signers.Create` does.
pub fn check_signers(xpubs: &[XPub], quorum: u64) -> Result<(), WalletError> {
    if xpubs.is_empty() {
        return Err(WalletError::NoXPubs);
    }
    if xpubs.len() > MAX_ACCOUNT_KEYS {
        return Err(WalletError::InvalidArgument {
            what: "root_xpubs",
            reason: format!("{} keys, at most {MAX_ACCOUNT_KEYS}", xpubs.len()),
        });
    }
    for (i, x) in xpubs.iter().enumerate() {
        if xpubs.iter().skip(i + 1).any(|y| y == x) {
            return Err(WalletError::DuplicateXPub { xpub: x.to_hex() });
        }
    }
    let n = u64::try_from(xpubs.len()).unwrap_or(u64::MAX);
    if quorum == 0 || quorum > n {
        return Err(WalletError::BadQuorum {
            quorum,
            keys: xpubs.len(),
        });
    }
    Ok(())
}

/// The key of the per-key-set account counter: SHA3 of the xpubs sorted, as the reference's
/// `accountIndexKey`, so the same keys in any order share one counter.
pub fn key_set_id(xpubs: &[XPub]) -> String {
    let mut sorted = xpubs.to_vec();
    sorted.sort();
    let mut bytes = Vec::with_capacity(64 * sorted.len());
    for x in &sorted {
        bytes.extend_from_slice(x.as_bytes());
    }
    hex::encode(sha3_256(&bytes))
}

/// One control program of an account (the reference's `CtrlProgram`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CtrlProgram {
    /// Owning account.
    pub account_id: String,
    /// Its address on this chain.
    pub address: String,
    /// Address index.
    pub key_index: u64,
    /// The program (hex in JSON).
    #[serde(with = "hex_bytes")]
    pub control_program: Vec<u8>,
    /// Change branch or receive branch.
    pub change: bool,
}

/// Derives the control program of `account` at (change, index), with its address.
pub fn derive_program(
    account: &Account,
    change: bool,
    index: u64,
    profile: Profile,
    network: Network,
) -> Result<CtrlProgram, WalletError> {
    let (program, _) = account.program_at(change, index)?;
    let address = program_to_address(&program, profile, network)
        .ok_or_else(|| WalletError::Internal("a standard program has no address".into()))?;
    Ok(CtrlProgram {
        account_id: account.id.clone(),
        address,
        key_index: index,
        control_program: program,
        change,
    })
}

/// A receiver: what `create-account-receiver` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receiver {
    /// The program (hex).
    #[serde(with = "hex_bytes")]
    pub control_program: Vec<u8>,
    /// Its address.
    pub address: String,
}

/// One entry of `list-addresses`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressInfo {
    /// The account's alias.
    pub account_alias: String,
    /// The account's ID.
    pub account_id: String,
    /// The address.
    pub address: String,
    /// The program (hex).
    #[serde(with = "hex_bytes")]
    pub control_program: Vec<u8>,
    /// Change branch.
    pub change: bool,
    /// Address index.
    pub key_index: u64,
}

/// What `validate-address` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressValidity {
    /// The address decodes for this chain to a standard program.
    pub valid: bool,
    /// The program belongs to one of the wallet's accounts.
    pub is_local: bool,
}

/// One derived public key of an account (`list-pubkeys`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PubKeyInfo {
    /// The ed25519 public key (hex).
    pub pubkey: String,
    /// Its path from the root xpub (hex elements).
    #[serde(with = "crate::serde_util::hex_list")]
    pub derivation_path: Vec<Vec<u8>>,
}

/// The `list-pubkeys` answer: keys derived from the account's first root xpub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPubkeys {
    /// The account's first root xpub.
    pub root_xpub: XPub,
    /// Change branch first, then receive branch, each by index.
    pub pubkey_infos: Vec<PubKeyInfo>,
}

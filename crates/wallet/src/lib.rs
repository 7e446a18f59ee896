#![doc = include_str!("../README.md")]

pub mod account;
pub mod asset;
mod builder;
pub mod error;
pub mod index;
pub mod keystore;
pub mod select;
pub mod serde_util;
mod store;
pub mod template;
mod wallet;

pub use account::{Account, AccountPubkeys, AddressInfo, AddressValidity, CtrlProgram, PubKeyInfo, Receiver};
pub use asset::{Asset, CreateAssetRequest, native_asset, serialize_definition};
pub use builder::{BuildRequest, DEFAULT_TTL_MS, MAX_ACTIONS, parse_duration_ms};
pub use error::WalletError;
pub use index::{AnnotatedInput, AnnotatedOutput, AnnotatedTx, Balance, TxQuery, WalletUtxo};
pub use keystore::{KdfParams, KeyInfo};
pub use select::{Candidate, SelectError, Selection, select_coins};
pub use template::{GasEstimate, KeyId, SigningInstruction, Template, WitnessComponent};
pub use wallet::{DB_FILE, KEYS_DIR, MAX_BATCH_ADDRESSES, Wallet, chain_params};

/// The P2WPKH hash of an ed25519 public key (RIPEMD-160, as the reference's `crypto.Ripemd160`).
pub fn pubkey_hash(pubkey: &[u8]) -> [u8; 20] {
    use ripemd::Digest;
    ripemd::Ripemd160::digest(pubkey).into()
}

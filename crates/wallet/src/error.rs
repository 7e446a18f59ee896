//! The wallet's one error type and its mapping to the reference API's error codes.

use types::Hash;

/// Everything a wallet call can fail with. Messages say what failed and where; none carries a
/// password, a mnemonic or a private key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalletError {
    /// A key with this (normalized) alias exists already.
    #[error("duplicate key alias {alias:?}")]
    DuplicateKeyAlias {
        /// The normalized alias.
        alias: String,
    },
    /// No key with this xpub in the keystore.
    #[error("key {xpub} not found in the keystore")]
    KeyNotFound {
        /// The xpub asked for (hex).
        xpub: String,
    },
    /// The password does not decrypt the key (or the key file was altered).
    #[error("could not decrypt key {xpub} with the given password")]
    WrongPassword {
        /// The key's xpub (hex).
        xpub: String,
    },
    /// A key file could not be read as a key file of ours.
    #[error("key file {file}: {reason}")]
    BadKeyFile {
        /// The file.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The mnemonic is not a valid 12-word BIP39 English mnemonic.
    #[error("invalid mnemonic: {reason}")]
    InvalidMnemonic {
        /// Why (never the words themselves).
        reason: String,
    },
    /// An argument is out of its allowed range (alias, password, KDF parameters, page sizes...).
    #[error("invalid {what}: {reason}")]
    InvalidArgument {
        /// Which argument.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// No root xpubs given to create an account.
    #[error("at least one xpub is required")]
    NoXPubs,
    /// The same xpub given twice.
    #[error("root xpubs cannot contain the same key more than once: {xpub}")]
    DuplicateXPub {
        /// The repeated xpub (hex).
        xpub: String,
    },
    /// Quorum 0 or above the number of keys.
    #[error("quorum {quorum} must be between 1 and the number of xpubs ({keys})")]
    BadQuorum {
        /// The requested quorum.
        quorum: u64,
        /// The number of keys.
        keys: usize,
    },
    /// An account with this alias exists already.
    #[error("duplicate account alias {alias:?}")]
    DuplicateAccountAlias {
        /// The normalized alias.
        alias: String,
    },
    /// No account with this ID or alias.
    #[error("account {0:?} not found")]
    AccountNotFound(String),
    /// Too many accounts for one set of xpubs, or too many addresses for one account.
    #[error("{what} index {index} exceeds the BIP44 limit")]
    IndexExhausted {
        /// "account" or "address".
        what: &'static str,
        /// The index that would have been used.
        index: u64,
    },
    /// `list-pubkeys` found no derived key (none derived yet, or none equal to the one asked for).
    #[error("no public key found for account {0:?}")]
    PublicKeyNotFound(String),
    /// An address that does not decode for this chain.
    #[error("invalid address {address:?}: {reason}")]
    InvalidAddress {
        /// The address.
        address: String,
        /// Why.
        reason: String,
    },
    /// Not enough unreserved, mature funds.
    #[error("insufficient funds of asset {asset}: needed {needed}, available {available}")]
    InsufficientFunds {
        /// The asset (hex).
        asset: String,
        /// The amount needed.
        needed: u64,
        /// What the account holds of it, spendable or not.
        available: u64,
    },
    /// Enough funds exist but some are immature (coinbase) and the rest do not cover the amount.
    #[error("funds of asset {asset} are immature: needed {needed}, mature {mature}")]
    ImmatureFunds {
        /// The asset (hex).
        asset: String,
        /// The amount needed.
        needed: u64,
        /// What is mature and unreserved.
        mature: u64,
    },
    /// Enough funds exist but some are reserved by templates not yet submitted.
    #[error("funds of asset {asset} are reserved: needed {needed}, unreserved {unreserved}")]
    ReservedFunds {
        /// The asset (hex).
        asset: String,
        /// The amount needed.
        needed: u64,
        /// What is mature and unreserved.
        unreserved: u64,
    },
    /// Vote outputs are still locked (veto too early).
    #[error("vote outputs for this key are still locked: needed {needed}, unlocked {unlocked}")]
    VoteLocked {
        /// The amount needed.
        needed: u64,
        /// What is unlocked and unreserved.
        unlocked: u64,
    },
    /// The output is already reserved by another template.
    #[error("output {0} is reserved")]
    OutputReserved(Hash),
    /// No unspent output of the wallet with this ID.
    #[error("unspent output {0} not found")]
    UtxoNotFound(Hash),
    /// An action of a build request is not understood.
    #[error("action {index}: unknown action type {action_type:?}")]
    BadActionType {
        /// The action's position in the request.
        index: usize,
        /// Its type.
        action_type: String,
    },
    /// An action is malformed.
    #[error("action {index}: {reason}")]
    BadAction {
        /// The action's position in the request.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// Required fields are missing from an action.
    #[error("action {index}: missing fields {fields:?}")]
    MissingFields {
        /// The action's position in the request.
        index: usize,
        /// The missing fields.
        fields: Vec<&'static str>,
    },
    /// The request cannot make a transaction (no outputs, unbalanced, too large...).
    #[error("bad transaction construction: {0}")]
    BadConstruction(String),
    /// An amount sum overflowed or went below zero.
    #[error("amount arithmetic out of range in {0}")]
    AmountRange(&'static str),
    /// A template is not well formed (raw transaction does not decode, instructions do not match).
    #[error("bad template: {0}")]
    BadTemplate(String),
    /// A block does not continue the indexed chain.
    #[error("block {height} ({hash}) does not extend the wallet tip {tip:?}")]
    NotNextBlock {
        /// The block's height.
        height: u64,
        /// The block's hash.
        hash: Hash,
        /// The indexed tip.
        tip: Option<(u64, Hash)>,
    },
    /// Unwinding a block that is not the indexed tip.
    #[error("block {height} ({hash}) is not the wallet tip {tip:?}")]
    NotTip {
        /// The block's height.
        height: u64,
        /// The block's hash.
        hash: Hash,
        /// The indexed tip.
        tip: Option<(u64, Hash)>,
    },
    /// The block is the tip but older than the undo history kept ([`crate::index::UNDO_DEPTH`]).
    #[error("cannot unwind block {height}: only the last {depth} blocks can be unwound")]
    UnwindTooDeep {
        /// The block's height.
        height: u64,
        /// Blocks of undo history kept.
        depth: u64,
    },
    /// No asset with this ID or alias.
    #[error("asset {0:?} not found")]
    AssetNotFound(String),
    /// An asset with this alias is defined already.
    #[error("duplicate asset alias {alias:?}")]
    DuplicateAssetAlias {
        /// The upper-cased alias.
        alias: String,
    },
    /// An asset with this ID is defined already (same program and definition).
    #[error("asset {id} is defined already")]
    DuplicateAsset {
        /// The asset ID (hex).
        id: String,
    },
    /// The asset definition is not acceptable (a malformed or unknown `"bap"` class claim, too large).
    #[error("bad asset definition: {reason}")]
    BadAssetDefinition {
        /// Why (see `docs/assets.md`).
        reason: String,
    },
    /// The transaction would break the rule of an asset's class (BAP-02 lots merged, a BAP-03 item
    /// split or issued twice, a BAP-04 amount not a whole unit); refused before anything is reserved.
    #[error("asset {asset} ({class}): {reason}")]
    AssetClassRule {
        /// The asset (hex).
        asset: String,
        /// Its class code (`BAP-02`...).
        class: &'static str,
        /// The rule and what broke it.
        reason: String,
    },
    /// The wallet database failed.
    #[error("wallet database: {0}")]
    Db(String),
    /// A file operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was done.
        op: &'static str,
        /// On which path.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// An internal invariant broke (a bug, not bad input).
    #[error("internal wallet error: {0}")]
    Internal(String),
}

impl WalletError {
    /// The reference API's error code for this error (vapor `api/errors.go`); errors the reference
    /// has no code for map to its default, `BTM000`.
    pub fn reference_code(&self) -> &'static str {
        match self {
            WalletError::DuplicateKeyAlias { .. } => "BTM800",
            WalletError::KeyNotFound { .. } => "BTM801",
            WalletError::WrongPassword { .. } => "BTM802",
            WalletError::BadQuorum { .. } => "BTM200",
            WalletError::NoXPubs => "BTM202",
            WalletError::DuplicateXPub { .. } => "BTM203",
            WalletError::InsufficientFunds { .. } => "BTM700",
            WalletError::ImmatureFunds { .. } => "BTM701",
            WalletError::ReservedFunds { .. } | WalletError::OutputReserved(_) => "BTM702",
            WalletError::UtxoNotFound(_) => "BTM703",
            WalletError::VoteLocked { .. } => "BTM704",
            WalletError::AccountNotFound(_) => "BTM705",
            WalletError::BadActionType { .. } => "BTM710",
            WalletError::BadAction { .. } | WalletError::InvalidAddress { .. } => "BTM711",
            WalletError::BadConstruction(_) => "BTM712",
            WalletError::MissingFields { .. } => "BTM713",
            WalletError::AmountRange(_) => "BTM714",
            WalletError::AssetNotFound(_) => "BTM710",
            WalletError::AssetClassRule { .. } => "BTM712",
            WalletError::BadAssetDefinition { .. } => "BTM002",
            WalletError::InvalidArgument { .. } | WalletError::InvalidMnemonic { .. } => "BTM002",
            WalletError::BadTemplate(_) => "BTM002",
            WalletError::BadKeyFile { .. }
            | WalletError::DuplicateAccountAlias { .. }
            | WalletError::DuplicateAssetAlias { .. }
            | WalletError::DuplicateAsset { .. }
            | WalletError::PublicKeyNotFound(_)
            | WalletError::IndexExhausted { .. }
            | WalletError::NotNextBlock { .. }
            | WalletError::NotTip { .. }
            | WalletError::UnwindTooDeep { .. }
            | WalletError::Db(_)
            | WalletError::Io { .. }
            | WalletError::Internal(_) => "BTM000",
        }
    }

    /// Whether the caller's request was at fault (a 4xx), as opposed to the node (a 5xx).
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            WalletError::BadKeyFile { .. }
                | WalletError::Db(_)
                | WalletError::Io { .. }
                | WalletError::Internal(_)
                | WalletError::NotNextBlock { .. }
                | WalletError::NotTip { .. }
                | WalletError::UnwindTooDeep { .. }
        )
    }
}

pub(crate) fn db<E: Into<redb::Error>>(e: E) -> WalletError {
    WalletError::Db(e.into().to_string())
}

pub(crate) fn json(e: serde_json::Error) -> WalletError {
    WalletError::Db(format!("stored record does not decode: {e}"))
}

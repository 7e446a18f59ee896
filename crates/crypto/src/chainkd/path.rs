//! The derivation paths the reference wallets use (`blockchain/signers` in Bytom v1.1.0 and
//! Vapor), as lists of selectors for [`XPrv::derive`](super::XPrv::derive) and
//! [`XPub::derive`](super::XPub::derive). All path elements are non-hardened.

/// Which kind of signer a BIP-0032-rule path belongs to: the first byte of its first selector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeySpace {
    /// Asset issuance keys (reference `AssetKeySpace = 0`).
    Asset,
    /// Account (spending) keys (reference `AccountKeySpace = 1`).
    Account,
}

impl KeySpace {
    /// The byte the reference writes for this key space.
    pub fn to_byte(self) -> u8 {
        match self {
            Self::Asset => 0,
            Self::Account => 1,
        }
    }
}

/// How an account turns (account index, change, address index) into a path; stored per account
/// as `derive_rule` in the reference's signer JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeriveRule {
    /// The older rule, `m/<keyspace‖account index>/<address index>` (reference `BIP0032 = 0`).
    Bip0032,
    /// `m/44/153/account/change/address` (reference `BIP0044 = 1`), used by new accounts.
    Bip0044,
}

impl DeriveRule {
    /// The number the reference stores.
    pub fn to_u8(self) -> u8 {
        match self {
            Self::Bip0032 => 0,
            Self::Bip0044 => 1,
        }
    }
}

impl TryFrom<u8> for DeriveRule {
    type Error = PathError;

    fn try_from(v: u8) -> Result<Self, Self::Error> {
        match v {
            0 => Ok(Self::Bip0032),
            1 => Ok(Self::Bip0044),
            other => Err(PathError::UnknownDeriveRule(other)),
        }
    }
}

/// Why a path could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// A stored derive rule is neither 0 (BIP0032) nor 1 (BIP0044).
    #[error("invalid key derive rule {0}")]
    UnknownDeriveRule(u8),
    /// A BIP0044 path element holds only 32 bits. The reference silently truncates larger
    /// indexes, which would reuse keys; we refuse instead.
    #[error("{what} {value} does not fit the 32-bit BIP0044 path element")]
    IndexTooLarge {
        /// Which index overflowed ("account index" or "address index").
        what: &'static str,
        /// The offending value.
        value: u64,
    },
}

/// BIP44 purpose 44 as a 4-byte little-endian selector.
pub const BIP44_PURPOSE: [u8; 4] = 44u32.to_le_bytes();
/// Coin type 153 (BTM) as a 4-byte little-endian selector.
pub const BTM_COIN_TYPE: [u8; 4] = 153u32.to_le_bytes();

/// The path under which Vapor's federation xpubs are derived for the federation's multisig
/// program (Vapor `config/genesis.go`, `FedAddressPath`): `bip44_path(1, false, 1)`.
pub const FEDERATION_PATH: [[u8; 4]; 5] = [
    BIP44_PURPOSE,
    BTM_COIN_TYPE,
    1u32.to_le_bytes(),
    0u32.to_le_bytes(),
    1u32.to_le_bytes(),
];

/// `[44, 153, account, change, address]`, each a 4-byte little-endian selector (reference
/// `getBip0044Path`).
pub fn bip44_path(account_index: u32, change: bool, address_index: u32) -> [[u8; 4]; 5] {
    [
        BIP44_PURPOSE,
        BTM_COIN_TYPE,
        account_index.to_le_bytes(),
        u32::from(change).to_le_bytes(),
        address_index.to_le_bytes(),
    ]
}

/// The older path: first selector is the key-space byte followed by the 8-byte little-endian
/// signer key index (9 bytes), then one 8-byte little-endian selector per item index (reference
/// `GetBip0032Path`). Assets use it with no item index; accounts with the address index.
pub fn bip32_path(key_space: KeySpace, key_index: u64, item_indexes: &[u64]) -> Vec<Vec<u8>> {
    let mut first = Vec::with_capacity(9);
    first.push(key_space.to_byte());
    first.extend_from_slice(&key_index.to_le_bytes());
    let mut path = Vec::with_capacity(1 + item_indexes.len());
    path.push(first);
    path.extend(item_indexes.iter().map(|i| i.to_le_bytes().to_vec()));
    path
}

/// The path of one account address under the account's derive rule (reference `signers.Path`
/// with `AccountKeySpace`). `change` only matters for BIP0044.
///
/// # Errors
/// [`PathError::IndexTooLarge`] if a BIP0044 index exceeds 32 bits.
pub fn account_path(
    rule: DeriveRule,
    account_index: u64,
    change: bool,
    address_index: u64,
) -> Result<Vec<Vec<u8>>, PathError> {
    match rule {
        DeriveRule::Bip0032 => Ok(bip32_path(KeySpace::Account, account_index, &[address_index])),
        DeriveRule::Bip0044 => {
            let account = u32::try_from(account_index).map_err(|_| PathError::IndexTooLarge {
                what: "account index",
                value: account_index,
            })?;
            let address = u32::try_from(address_index).map_err(|_| PathError::IndexTooLarge {
                what: "address index",
                value: address_index,
            })?;
            Ok(bip44_path(account, change, address)
                .iter()
                .map(|e| e.to_vec())
                .collect())
        }
    }
}

/// The path of an asset issuance key (reference `GetBip0032Path(signer, AssetKeySpace)`).
pub fn asset_path(key_index: u64) -> Vec<Vec<u8>> {
    bip32_path(KeySpace::Asset, key_index, &[])
}

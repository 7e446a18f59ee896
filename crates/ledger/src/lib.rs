#![doc = include_str!("../README.md")]

mod assets;
mod block;
mod error;
mod params;
mod sig;
pub mod testkit;
mod tx;
mod utxo;

pub use assets::{AssetChanges, AssetRecord, LotId, asset_changes};
pub use block::{genesis_change_set, validate_block, validate_window};
pub use error::{BlockRejection, GasError, LedgerError, TxRejection, ViewError};
pub use params::ChainParams;
pub use sig::P2WPKH_GAS;
pub use tx::{CheckedTx, SpendKind, check_tx, check_tx_against, check_txs};
pub use utxo::{ChangeSet, MemoryUtxoSet, UtxoEntry, UtxoKind, UtxoView};

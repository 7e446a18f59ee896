#![doc = include_str!("../README.md")]

pub mod address;
pub mod amount;
pub mod asset;
pub mod asset_class;
pub mod block;
pub mod codec;
pub mod difficulty;
pub mod entry;
pub mod graph;
pub mod hash;
pub mod merkle;
pub mod profile;
pub mod tx;

pub use amount::{Amount, AmountError};
pub use asset::AssetId;
pub use block::{Block, BlockError, BlockHeader, BlockSerialization, HeaderConsensus};
pub use codec::{DecodeError, Limits};
pub use graph::{InputIds, OutputIds, ResultKind, TxIds};
pub use hash::Hash;
pub use profile::{Network, Profile};
pub use tx::{
    CoinbaseInput, CrossChainInput, InputKind, IssuanceInput, OutputCommitment, OutputKind, SpendCommitment,
    SpendInput, Transaction, TxData, TxError, TxInput, TxOutput, VetoInput,
};

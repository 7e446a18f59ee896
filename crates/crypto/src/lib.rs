#![doc = include_str!("../README.md")]

pub mod bls;
pub mod chainkd;
pub mod ed25519;
pub mod hash;
pub mod sm2;
pub mod sm4;
pub mod suite;

pub use hash::{Hasher256, Sha3Hasher, Sm3Hasher, sha3_256, sm3};
pub use suite::{HashFunction, NationalStandard, SignatureScheme, Standard, Suite};

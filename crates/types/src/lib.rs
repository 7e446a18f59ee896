#![doc = include_str!("../README.md")]

pub mod hash;

pub use hash::Hash;

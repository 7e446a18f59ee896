#![doc = include_str!("../README.md")]

pub mod ed25519;

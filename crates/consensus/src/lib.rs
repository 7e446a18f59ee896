#![doc = include_str!("../README.md")]

pub mod bbft;
pub mod dpos;
pub mod forkchoice;

//! Helpers shared by the node's integration tests.
#![allow(dead_code)]

pub(crate) mod bbft;
pub(crate) mod pow;

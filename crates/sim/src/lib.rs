#![doc = include_str!("../README.md")]

pub mod bench;
pub mod cache;
pub mod runner;
pub mod scenario;

pub use cache::CachedCrypto;
pub use runner::{
    Behaviour, CommitRecord, CpuCost, CrashPoint, DropRule, Fault, Latency, Micros, Network, Reconfig, Sim,
    SimConfig, SimError, SimReport, TopologyChoice, Trigger, Triggered, Violation,
};

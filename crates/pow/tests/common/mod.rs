//! Helpers for the chain tests: a cheap test-only proof of work and a chain builder.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::AtomicBool;

use num_bigint::BigInt;
use pow::miner::{MineOutcome, MinerConfig, mine};
use pow::validate::HeaderContext;
use pow::{PowFunction, PowParams};
use sha3::{Digest, Sha3_256};
use types::difficulty::target_to_compact;
use types::{BlockHeader, Hash, HeaderConsensus};

/// SHA3-256(block hash ‖ seed): cheap, and still depends on both, so a wrong seed or a changed header
/// changes the result.
pub(crate) struct CheapPow;

impl PowFunction for CheapPow {
    fn result(&self, block_hash: &Hash, seed: &Hash) -> Hash {
        let mut h = Sha3_256::new();
        h.update(block_hash.0);
        h.update(seed.0);
        Hash(h.finalize().into())
    }
}

/// Bits whose target is 2^254: a quarter of the results meet it.
pub(crate) fn quarter_bits() -> u64 {
    target_to_compact(&(BigInt::from(1u8) << 254u32))
}

/// Devnet rules with a 4-block retarget aiming at 10 s, starting at [`quarter_bits`].
pub(crate) fn test_params() -> PowParams {
    let mut p = PowParams::devnet();
    p.blocks_per_retarget = 4;
    p.target_seconds_per_block = 10;
    p.genesis_bits = quarter_bits();
    p
}

/// A genesis header.
pub(crate) fn genesis(params: &PowParams, timestamp: u64) -> BlockHeader {
    BlockHeader {
        version: 1,
        height: 0,
        previous_block_hash: Hash::ZERO,
        timestamp,
        transactions_merkle_root: Hash([7; 32]),
        transaction_status_hash: Hash([8; 32]),
        commitment_suffix: Vec::new(),
        consensus: HeaderConsensus::Pow {
            nonce: 0,
            bits: params.genesis_bits,
        },
    }
}

/// The unmined child template of `parent` at `timestamp`, carrying the right bits; `tag` varies the
/// transaction root so that siblings differ.
pub(crate) fn template(params: &PowParams, parent: &HeaderContext, timestamp: u64, tag: u8) -> BlockHeader {
    BlockHeader {
        version: 1,
        height: parent.info.height + 1,
        previous_block_hash: parent.hash,
        timestamp,
        transactions_merkle_root: Hash([tag; 32]),
        transaction_status_hash: Hash([8; 32]),
        commitment_suffix: Vec::new(),
        consensus: HeaderConsensus::Pow {
            nonce: 0,
            bits: parent.next_bits(params),
        },
    }
}

/// Mines `template` on top of `parent` with `pow`.
pub(crate) fn mine_on(pow: &impl PowFunction, parent: &HeaderContext, template: &BlockHeader) -> BlockHeader {
    let stop = AtomicBool::new(false);
    match mine(
        pow,
        template,
        &parent.next_seed(),
        0..1_000_000,
        &MinerConfig { threads: 2 },
        &stop,
    )
    .unwrap()
    {
        MineOutcome::Found(h) => h,
        other => panic!("no nonce found: {other:?}"),
    }
}

/// A mined child of `parent`, `spacing` seconds later.
pub(crate) fn mined_child(params: &PowParams, parent: &HeaderContext, spacing: u64, tag: u8) -> BlockHeader {
    let t = template(params, parent, parent.info.timestamp + spacing, tag);
    mine_on(&CheapPow, parent, &t)
}

/// `n` mined headers on top of `parent` (spacing seconds apart), with their contexts.
pub(crate) fn mined_chain(
    params: &PowParams,
    parent: &HeaderContext,
    n: usize,
    spacing: u64,
    tag: u8,
) -> Vec<(BlockHeader, HeaderContext)> {
    let mut out = Vec::with_capacity(n);
    let mut ctx = parent.clone();
    for _ in 0..n {
        let h = mined_child(params, &ctx, spacing, tag);
        let next = ctx.child(params, &h).unwrap();
        out.push((h, next.clone()));
        ctx = next;
    }
    out
}

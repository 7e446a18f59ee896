//! Parallel stateless checks with batched signature verification.
//!
//! A standard pay-to-witness-pubkey-hash spend (program `00 14 <hash160>`, witness `[sig, pubkey]`)
//! runs in the VM as `DUP HASH160 <hash> EQUALVERIFY TXSIGHASH SWAP CHECKSIG`. With a 64-byte
//! signature and a 32-byte key whose HASH160 matches, that run's outcome depends on the signature
//! alone and its gas is the constant [`P2WPKH_GAS`]. Such spends are therefore not run: their
//! signatures are queued and verified in one batch per chunk of transactions; a transaction whose
//! signature fails the batch, or that fails any other way, is checked again with every program run
//! in the VM, so its verdict (and the input it names) is exactly that of a plain run. Every other
//! program runs in the VM as usual.

use std::collections::HashSet;

use rand_core::{CryptoRng, RngCore};
use rayon::prelude::*;
use ripemd::{Digest, Ripemd160};

use crate::error::TxRejection;
use crate::params::ChainParams;
use crate::tx::{Job, TxEffects, check_tx_with};

/// Gas a successful run of a version-0 P2WPKH program with a 64-byte signature and a 32-byte key
/// uses (argument pushes, the expanded program, `CHECKSIG`). A test checks it against the VM.
pub const P2WPKH_GAS: i64 = 1_409;

/// The fast path is taken only with this much gas beyond [`P2WPKH_GAS`], so that the run could not
/// have run out of gas part-way (its peak memory charge is far below this).
const P2WPKH_MARGIN: i64 = 4_096;

/// Transactions per batch. A batch combines its signatures in one multiscalar multiplication,
/// cheaper per point the larger it is (256 one-key signatures: 7.3 µs each against 8.5 µs at
/// 64, `cargo bench -p tributary-crypto -- ed25519-one-key`); a failing batch is halved rather
/// than checked entry by entry, so a bad signature costs a few batches.
const CHUNK: usize = 256;

/// One signature check taken out of a VM run.
#[derive(Clone, Debug)]
pub(crate) struct DeferredSig {
    pub(crate) pubkey: Vec<u8>,
    pub(crate) msg: [u8; 32],
    pub(crate) sig: Vec<u8>,
}

/// Whether standard signature checks run in the VM or are queued for a batch.
pub(crate) enum SigMode<'a> {
    /// Every program runs in the VM.
    Immediate,
    /// Standard P2WPKH signature checks are queued here.
    Deferred(&'a mut Vec<DeferredSig>),
}

/// If `program` with `args` is a standard P2WPKH spend whose key matches, the gas left after a
/// successful run under `limit`; `None` when the VM must run it.
pub(crate) fn fast_p2wpkh(program: &[u8], args: &[Vec<u8>], limit: i64) -> Option<i64> {
    let [0x00, 0x14, hash @ ..] = program else {
        return None;
    };
    if hash.len() != 20 || limit < P2WPKH_GAS + P2WPKH_MARGIN {
        return None;
    }
    let [sig, pubkey] = args else {
        return None;
    };
    if sig.len() != 64 || pubkey.len() != 32 {
        return None;
    }
    if Ripemd160::digest(pubkey).as_slice() != hash {
        return None;
    }
    Some(limit - P2WPKH_GAS)
}

/// Coefficients for a batch, drawn from SHA3-256 of everything in the batch (so no ambient
/// randomness is needed and nobody can choose signatures knowing the coefficients).
struct TranscriptRng {
    seed: [u8; 32],
    counter: u64,
    buf: [u8; 32],
    pos: usize,
}

impl TranscriptRng {
    fn new(items: &[DeferredSig]) -> Self {
        let mut h = sha3::Sha3_256::new();
        sha3::Digest::update(&mut h, b"tributary-ledger batch");
        for s in items {
            sha3::Digest::update(&mut h, &s.pubkey);
            sha3::Digest::update(&mut h, s.msg);
            sha3::Digest::update(&mut h, &s.sig);
        }
        TranscriptRng {
            seed: sha3::Digest::finalize(h).into(),
            counter: 0,
            buf: [0; 32],
            pos: 32,
        }
    }

    fn refill(&mut self) {
        let mut h = sha3::Sha3_256::new();
        sha3::Digest::update(&mut h, self.seed);
        sha3::Digest::update(&mut h, self.counter.to_le_bytes());
        self.buf = sha3::Digest::finalize(h).into();
        self.counter = self.counter.wrapping_add(1);
        self.pos = 0;
    }
}

impl RngCore for TranscriptRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for d in dest {
            if self.pos >= self.buf.len() {
                self.refill();
            }
            *d = self.buf.get(self.pos).copied().unwrap_or(0);
            self.pos += 1;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for TranscriptRng {}

/// Verifies queued signatures in one batch; returns the positions that fail.
pub(crate) fn verify_batch(items: &[DeferredSig]) -> HashSet<usize> {
    if items.is_empty() {
        return HashSet::new();
    }
    let mut batch = crypto::ed25519::BatchVerifier::new();
    for s in items {
        batch.queue(&s.pubkey, &s.msg, &s.sig);
    }
    match batch.verify(TranscriptRng::new(items)) {
        Ok(()) => HashSet::new(),
        Err(e) => e.invalid.into_iter().collect(),
    }
}

fn check_chunk(chunk: &[Job<'_>], params: &ChainParams) -> Vec<Result<TxEffects, TxRejection>> {
    let mut queue = Vec::new();
    let mut first: Vec<Option<TxEffects>> = Vec::with_capacity(chunk.len());
    let mut ranges = Vec::with_capacity(chunk.len());
    for job in chunk {
        let start = queue.len();
        let r = check_tx_with(
            job.tx,
            params,
            job.height,
            job.block_version,
            job.coinbase_allowed,
            &mut SigMode::Deferred(&mut queue),
        );
        if r.is_err() {
            queue.truncate(start);
        }
        first.push(r.ok());
        ranges.push(start..queue.len());
    }
    let bad = verify_batch(&queue);
    first
        .into_iter()
        .zip(ranges)
        .zip(chunk)
        .map(|((r, range), job)| match r {
            Some(c) if !range.clone().any(|p| bad.contains(&p)) => Ok(c),
            _ => check_tx_with(
                job.tx,
                params,
                job.height,
                job.block_version,
                job.coinbase_allowed,
                &mut SigMode::Immediate,
            ),
        })
        .collect()
}

/// Checks every job on rayon's pool, in chunks that each verify their signatures in one batch.
pub(crate) fn check_parallel(jobs: &[Job<'_>], params: &ChainParams) -> Vec<Result<TxEffects, TxRejection>> {
    jobs.par_chunks(CHUNK)
        .flat_map_iter(|chunk| check_chunk(chunk, params))
        .collect()
}

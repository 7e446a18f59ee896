//! A CPU miner: searches a nonce range for a header template on several threads, stoppable and
//! resumable.
//!
//! Worker `i` of `T` tries nonces `start + i`, `start + i + T`, … and checks the stop flag before each
//! one. When the search stops, every nonce below [`MineOutcome::Stopped::next_nonce`] has been tried, so
//! a later call can resume from there (a few nonces above it may be tried twice).

use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};

use types::{BlockHeader, Hash, HeaderConsensus};

use crate::validate::PowFunction;

/// The largest nonce a header can carry (the wire format's varints stop at 2^63 − 1).
pub const MAX_NONCE: u64 = i64::MAX as u64;

/// How to search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MinerConfig {
    /// Worker threads; 0 means one per available core.
    pub threads: usize,
}

impl MinerConfig {
    fn worker_count(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, usize::from)
        }
    }
}

/// How a search ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum MineOutcome {
    /// A nonce meets the target: the template with that nonce.
    Found(BlockHeader),
    /// The stop flag was raised; every nonce in `[start, next_nonce)` was tried without success.
    Stopped {
        /// Where to resume.
        next_nonce: u64,
    },
    /// Every nonce of the range was tried without success.
    Exhausted,
}

/// Why a search cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MinerError {
    /// The template is a sidechain header.
    #[error("the template is not a main-chain (proof-of-work) header")]
    NotPow,
    /// The range reaches above [`MAX_NONCE`].
    #[error("nonce range {start}..{end} goes above the largest encodable nonce 2^63 - 1")]
    NonceOutOfRange {
        /// Range start.
        start: u64,
        /// Range end (exclusive).
        end: u64,
    },
}

/// Searches `nonces` for a nonce that makes `template` meet its own bits under `seed` (the seed of
/// the template's height). Returns early with [`MineOutcome::Stopped`] when `stop` is raised (the
/// search only reads the flag). Which valid nonce is returned, when several are, depends on timing.
pub fn mine(
    pow: &impl PowFunction,
    template: &BlockHeader,
    seed: &Hash,
    nonces: Range<u64>,
    config: &MinerConfig,
    stop: &AtomicBool,
) -> Result<MineOutcome, MinerError> {
    let bits = template.bits().ok_or(MinerError::NotPow)?;
    if nonces.end > MAX_NONCE.saturating_add(1) {
        return Err(MinerError::NonceOutOfRange {
            start: nonces.start,
            end: nonces.end,
        });
    }
    if nonces.is_empty() {
        return Ok(MineOutcome::Exhausted);
    }
    let workers = u64::try_from(config.worker_count()).unwrap_or(1).max(1);
    let found = AtomicBool::new(false);
    let results: Vec<WorkerEnd> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|i| {
                let found = &found;
                let nonces = nonces.clone();
                scope.spawn(move || {
                    let mut header = template.clone();
                    let mut nonce = nonces.start.saturating_add(i);
                    while nonce < nonces.end {
                        if stop.load(Ordering::Relaxed) || found.load(Ordering::Relaxed) {
                            return WorkerEnd::Stopped(nonce);
                        }
                        header.consensus = HeaderConsensus::Pow { nonce, bits };
                        let result = pow.result_single_threaded(&header.hash(), seed);
                        if crate::check_proof_of_work(&result, bits) {
                            found.store(true, Ordering::Relaxed);
                            return WorkerEnd::Found(header);
                        }
                        let Some(next) = nonce.checked_add(workers) else {
                            break;
                        };
                        nonce = next;
                    }
                    WorkerEnd::Exhausted
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(WorkerEnd::Stopped(nonces.start)))
            .collect()
    });
    let mut next_nonce: Option<u64> = None;
    for end in results {
        match end {
            WorkerEnd::Found(header) => return Ok(MineOutcome::Found(header)),
            WorkerEnd::Stopped(n) => next_nonce = Some(next_nonce.map_or(n, |m| m.min(n))),
            WorkerEnd::Exhausted => {}
        }
    }
    Ok(match next_nonce {
        Some(next_nonce) => MineOutcome::Stopped { next_nonce },
        None => MineOutcome::Exhausted,
    })
}

enum WorkerEnd {
    Found(BlockHeader),
    Stopped(u64),
    Exhausted,
}

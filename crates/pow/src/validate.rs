//! Main-chain header validation as a pure function: the caller passes the parent's context and the time.
//!
//! # Consensus
//! Bytom v1.1.0 `protocol/validation/block.go` `ValidateBlockHeader` and `checkBlockTime`, with the
//! parent-side rules of `protocol/state/blockindex.go` (`CalcPastMedianTime`, `CalcNextBits`,
//! `CalcNextSeed`). In the reference's order: version, height, bits, parent hash, timestamp (not more
//! than `max_time_offset_seconds` ahead of `now`, strictly above the median of the parent and its
//! ancestors), then proof of work (Tensority of the block hash under the block's seed ≤ target).

use std::sync::Arc;

use types::{BlockHeader, Hash};

use crate::params::PowParams;
use crate::retarget::{self, HeaderInfo};
use crate::seed::{INITIAL_SEED, SEED_EPOCH};
use crate::store::CacheStore;
use crate::tensority::{self, Cache};

/// The proof-of-work function: Tensority in production, something cheap in tests.
pub trait PowFunction: Sync {
    /// The result compared with the target for `block_hash` under `seed`.
    fn result(&self, block_hash: &Hash, seed: &Hash) -> Hash;

    /// The same, for a caller that already runs one of these per core (the miner). Defaults to
    /// [`PowFunction::result`].
    fn result_single_threaded(&self, block_hash: &Hash, seed: &Hash) -> Hash {
        self.result(block_hash, seed)
    }
}

/// Tensority with a [`CacheStore`] of per-seed caches.
#[derive(Debug, Default)]
pub struct Tensority {
    store: CacheStore,
}

impl Tensority {
    /// Tensority keeping the caches of the last `epochs_kept` seeds.
    pub fn new(epochs_kept: usize) -> Tensority {
        Tensority {
            store: CacheStore::new(epochs_kept),
        }
    }

    /// The cache for `seed` (built if not held).
    pub fn cache(&self, seed: &Hash) -> Arc<Cache> {
        self.store.get(seed)
    }
}

impl PowFunction for Tensority {
    fn result(&self, block_hash: &Hash, seed: &Hash) -> Hash {
        tensority::hash(block_hash, &self.store.get(seed))
    }

    fn result_single_threaded(&self, block_hash: &Hash, seed: &Hash) -> Hash {
        tensority::hash_single_threaded(block_hash, &self.store.get(seed))
    }
}

/// Whether `header` (main profile) carries valid proof of work under `seed`.
pub fn check_header_pow(pow: &impl PowFunction, header: &BlockHeader, seed: &Hash) -> bool {
    header
        .bits()
        .is_some_and(|bits| crate::check_proof_of_work(&pow.result(&header.hash(), seed), bits))
}

/// What a block hands down to validate its children: its own fields plus the little of its ancestry
/// the rules read (recent timestamps, the timestamp opening the retarget period, the seed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderContext {
    /// The block hash.
    pub hash: Hash,
    /// The block's height, timestamp and bits.
    pub info: HeaderInfo,
    /// Timestamps of this block and its ancestors, newest first, at most `median_time_blocks`.
    recent_timestamps: Vec<u64>,
    /// Timestamp of the block at `N · ⌊(h − 1) / N⌋` (the last retarget boundary strictly below this
    /// block); unused for genesis.
    period_start_timestamp: u64,
    /// The seed of this block's children.
    next_seed: Hash,
}

/// Why a trusted context cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// The header is a sidechain header.
    #[error("not a main-chain (proof-of-work) header")]
    NotPow,
    /// Too few ancestor timestamps for the median rule.
    #[error("{needed} ancestor timestamps needed, {given} given")]
    TooFewTimestamps {
        /// How many the height requires.
        needed: usize,
        /// How many were given.
        given: usize,
    },
}

impl HeaderContext {
    /// The context of a genesis block (or any block taken as the first one known).
    pub fn genesis(params: &PowParams, header: &BlockHeader) -> Result<HeaderContext, ContextError> {
        HeaderContext::trusted(params, header, &[], header.timestamp, INITIAL_SEED)
    }

    /// The context of a trusted block (a checkpoint): `ancestor_timestamps` are its ancestors',
    /// parent first (`min(median_time_blocks − 1, height)` at least, extra ones ignored);
    /// `period_start_timestamp` is the timestamp of the block at `N · ⌊(height − 1) / N⌋`;
    /// `seed` is the checkpoint's own seed ([`crate::seed_for_height`] of its height).
    pub fn trusted(
        params: &PowParams,
        header: &BlockHeader,
        ancestor_timestamps: &[u64],
        period_start_timestamp: u64,
        seed: Hash,
    ) -> Result<HeaderContext, ContextError> {
        let info = HeaderInfo::of(header).ok_or(ContextError::NotPow)?;
        let keep = params.median_time_blocks.max(1);
        let needed = usize::try_from(info.height).unwrap_or(usize::MAX).min(keep - 1);
        if ancestor_timestamps.len() < needed {
            return Err(ContextError::TooFewTimestamps {
                needed,
                given: ancestor_timestamps.len(),
            });
        }
        let mut recent_timestamps = Vec::with_capacity(keep);
        recent_timestamps.push(info.timestamp);
        recent_timestamps.extend(ancestor_timestamps.iter().take(needed));
        let hash = header.hash();
        Ok(HeaderContext {
            hash,
            info,
            recent_timestamps,
            period_start_timestamp,
            next_seed: seed_after(info.height, &hash, seed),
        })
    }

    /// The context of `child`, a block on top of this one (not validated here: see [`validate_header`]).
    pub fn child(&self, params: &PowParams, child: &BlockHeader) -> Result<HeaderContext, ContextError> {
        let info = HeaderInfo::of(child).ok_or(ContextError::NotPow)?;
        let keep = params.median_time_blocks.max(1);
        let mut recent_timestamps = Vec::with_capacity(keep);
        recent_timestamps.push(info.timestamp);
        recent_timestamps.extend(self.recent_timestamps.iter().take(keep - 1));
        let n = params.blocks_per_retarget;
        let period_start_timestamp = if n != 0 && self.info.height.is_multiple_of(n) {
            self.info.timestamp
        } else {
            self.period_start_timestamp
        };
        let hash = child.hash();
        Ok(HeaderContext {
            hash,
            info,
            recent_timestamps,
            period_start_timestamp,
            next_seed: seed_after(info.height, &hash, self.next_seed),
        })
    }

    /// The median of this block's and its ancestors' timestamps (the upper middle one for an even
    /// count, as the reference sorts and takes index `len / 2`).
    pub fn median_time_past(&self) -> u64 {
        let mut ts = self.recent_timestamps.clone();
        ts.sort_unstable();
        ts.get(ts.len() / 2).copied().unwrap_or(self.info.timestamp)
    }

    /// The bits a child must carry.
    pub fn next_bits(&self, params: &PowParams) -> u64 {
        let first = HeaderInfo {
            height: self.info.height.saturating_sub(params.blocks_per_retarget),
            timestamp: self.period_start_timestamp,
            bits: 0,
        };
        retarget::next_bits(params, &self.info, &first)
    }

    /// The seed a child's proof of work is computed with.
    pub fn next_seed(&self) -> Hash {
        self.next_seed
    }

    /// The timestamps the median rule reads, newest first.
    pub fn recent_timestamps(&self) -> &[u64] {
        &self.recent_timestamps
    }
}

/// The reference's `CalcNextSeed`: genesis hands down the initial seed, an epoch boundary its own hash,
/// any other block its own seed.
fn seed_after(height: u64, hash: &Hash, own_seed: Hash) -> Hash {
    if height == 0 {
        INITIAL_SEED
    } else if height.is_multiple_of(SEED_EPOCH) {
        *hash
    } else {
        own_seed
    }
}

/// Why a header is rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// A sidechain header where a main-chain one was expected.
    #[error("not a main-chain (proof-of-work) header")]
    NotPow,
    /// The version is not the network's.
    #[error("block version {got}, expected {expected}")]
    BadVersion {
        /// Expected.
        expected: u64,
        /// Found.
        got: u64,
    },
    /// The height is not the parent's plus one.
    #[error("block height {got}, expected {expected}")]
    BadHeight {
        /// Expected.
        expected: u64,
        /// Found.
        got: u64,
    },
    /// The bits are not the retarget result.
    #[error("block bits {got:#018x}, expected {expected:#018x}")]
    BadBits {
        /// Expected.
        expected: u64,
        /// Found.
        got: u64,
    },
    /// The previous-block hash is not the parent's.
    #[error("previous block hash {got}, the parent is {expected}")]
    BadParent {
        /// The parent's hash.
        expected: Hash,
        /// What the header names.
        got: Hash,
    },
    /// The timestamp is too far ahead of the caller's clock.
    #[error("timestamp {timestamp} is more than {max_offset} s ahead of now ({now})")]
    TimestampInFuture {
        /// The header's timestamp.
        timestamp: u64,
        /// The caller's time.
        now: u64,
        /// Allowed offset.
        max_offset: u64,
    },
    /// The timestamp is not above the median time past.
    #[error("timestamp {timestamp} is not above the median time past {median}")]
    TimestampTooOld {
        /// The header's timestamp.
        timestamp: u64,
        /// The median of the parent and its ancestors.
        median: u64,
    },
    /// The proof of work does not meet the target.
    #[error("proof of work does not meet bits {bits:#018x}")]
    BadProofOfWork {
        /// The header's bits.
        bits: u64,
    },
}

impl HeaderError {
    /// Whether the header may become valid later (only a timestamp ahead of the clock).
    pub fn is_transient(&self) -> bool {
        matches!(self, HeaderError::TimestampInFuture { .. })
    }
}

/// The checks of [`validate_header`] except proof of work (cheap; run them first).
pub fn validate_header_fields(
    params: &PowParams,
    parent: &HeaderContext,
    header: &BlockHeader,
    now: u64,
) -> Result<(), HeaderError> {
    let bits = header.bits().ok_or(HeaderError::NotPow)?;
    if header.version != params.block_version {
        return Err(HeaderError::BadVersion {
            expected: params.block_version,
            got: header.version,
        });
    }
    let expected_height = parent.info.height.saturating_add(1);
    if header.height != expected_height {
        return Err(HeaderError::BadHeight {
            expected: expected_height,
            got: header.height,
        });
    }
    let expected_bits = parent.next_bits(params);
    if bits != expected_bits {
        return Err(HeaderError::BadBits {
            expected: expected_bits,
            got: bits,
        });
    }
    if header.previous_block_hash != parent.hash {
        return Err(HeaderError::BadParent {
            expected: parent.hash,
            got: header.previous_block_hash,
        });
    }
    if header.timestamp > now.saturating_add(params.max_time_offset_seconds) {
        return Err(HeaderError::TimestampInFuture {
            timestamp: header.timestamp,
            now,
            max_offset: params.max_time_offset_seconds,
        });
    }
    let median = parent.median_time_past();
    if header.timestamp <= median {
        return Err(HeaderError::TimestampTooOld {
            timestamp: header.timestamp,
            median,
        });
    }
    Ok(())
}

/// Validates a main-chain header on top of `parent` at time `now` (seconds), and returns its context.
pub fn validate_header(
    params: &PowParams,
    parent: &HeaderContext,
    header: &BlockHeader,
    now: u64,
    pow: &impl PowFunction,
) -> Result<HeaderContext, HeaderError> {
    validate_header_fields(params, parent, header, now)?;
    if !check_header_pow(pow, header, &parent.next_seed) {
        return Err(HeaderError::BadProofOfWork {
            bits: header.bits().unwrap_or_default(),
        });
    }
    parent.child(params, header).map_err(|_| HeaderError::NotPow)
}

//! Which seed a block's proof of work uses.
//!
//! # Consensus
//! Bytom v1.1.0 `protocol/state/blockindex.go` `CalcNextSeed` and `consensus/general.go`: the
//! seed checked for block `h` is its parent's "next seed". For a parent at height 0 it is
//! [`INITIAL_SEED`]; for a parent at a height divisible by 256 it is that parent's block hash;
//! otherwise it is the parent's own seed. Unrolled: block `h ≥ 1` uses the hash of block
//! `256 · ⌊(h − 1) / 256⌋`, or [`INITIAL_SEED`] when that is the genesis block.

use types::Hash;

/// Blocks per seed epoch (`consensus.SeedPerRetarget`).
pub const SEED_EPOCH: u64 = 256;

/// The seed of the first epoch: SHA3-256 of 32 zero bytes (`consensus.InitialSeed`).
pub const INITIAL_SEED: Hash = Hash([
    0x9e, 0x62, 0x91, 0x97, 0x0c, 0xb4, 0x4d, 0xd9, 0x40, 0x08, 0xc7, 0x9b, 0xca, 0xf9, 0xd8, 0x6f, 0x18,
    0xb4, 0xb4, 0x9b, 0xa5, 0xb2, 0xa0, 0x47, 0x81, 0xdb, 0x71, 0x99, 0xed, 0x3b, 0x9e, 0x4e,
]);

/// Where the seed of the block at `height` comes from: `Some(e)` means "the hash of the block at
/// height `e` on the same chain" (a multiple of 256), `None` means [`INITIAL_SEED`] (the first
/// epoch, and genesis, which carries no proof of work).
pub fn seed_source_height(height: u64) -> Option<u64> {
    let parent = height.checked_sub(1)?;
    let epoch_start = parent - parent % SEED_EPOCH;
    (epoch_start != 0).then_some(epoch_start)
}

/// The seed of the block at `height`, given a way to read ancestor hashes by height on its chain
/// (`None` from the lookup means the ancestor is unknown, and so is the seed).
pub fn seed_for_height(height: u64, ancestor_hash: impl FnOnce(u64) -> Option<Hash>) -> Option<Hash> {
    match seed_source_height(height) {
        None => Some(INITIAL_SEED),
        Some(h) => ancestor_hash(h),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha3::{Digest, Sha3_256};

    #[test]
    fn initial_seed_is_sha3_of_zeros_and_matches_the_reference_words() {
        let h: [u8; 32] = Sha3_256::digest([0u8; 32]).into();
        assert_eq!(INITIAL_SEED.0, h);
        // consensus.InitialSeed as four big-endian u64 words.
        let words: [u64; 4] = [
            11_412_844_483_649_490_393,
            4_614_157_290_180_302_959,
            1_780_246_333_311_066_183,
            9_357_197_556_716_379_726,
        ];
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
        assert_eq!(INITIAL_SEED.0.to_vec(), bytes);
    }

    #[test]
    fn epochs_follow_calc_next_seed() {
        assert_eq!(seed_source_height(0), None);
        assert_eq!(seed_source_height(1), None);
        assert_eq!(
            seed_source_height(256),
            None,
            "parent 255 inherits the initial seed"
        );
        assert_eq!(
            seed_source_height(257),
            Some(256),
            "parent 256 hands over its own hash"
        );
        assert_eq!(seed_source_height(512), Some(256));
        assert_eq!(seed_source_height(513), Some(512));
        assert_eq!(
            seed_source_height(u64::MAX),
            Some(u64::MAX - 1 - (u64::MAX - 1) % 256)
        );
    }

    #[test]
    fn seed_for_height_reads_the_epoch_block() {
        let h = |n: u64| Some(Hash([u8::try_from(n % 251).unwrap_or(0); 32]));
        assert_eq!(seed_for_height(100, h), Some(INITIAL_SEED));
        assert_eq!(seed_for_height(300, h), Some(Hash([5; 32])));
        assert_eq!(seed_for_height(300, |_| None), None);
    }
}

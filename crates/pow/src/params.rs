//! Per-network proof-of-work parameters.

/// Proof-of-work rules of one network.
///
/// [`PowParams::mainnet`] and [`PowParams::testnet`] are Bytom v1.1.0 exactly (`consensus/general.go`,
/// `config/genesis.go`); [`PowParams::devnet`] is ours, for a CPU and a developer's patience.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PowParams {
    /// A short name for logs.
    pub name: &'static str,
    /// The only accepted block version.
    pub block_version: u64,
    /// Difficulty is retargeted after every block whose height is a nonzero multiple of this.
    pub blocks_per_retarget: u64,
    /// The block interval the retarget aims for, in seconds.
    pub target_seconds_per_block: u64,
    /// How far ahead of the caller's clock a block's timestamp may be, in seconds.
    pub max_time_offset_seconds: u64,
    /// How many blocks (the parent and its ancestors) the median-time-past rule looks at.
    pub median_time_blocks: usize,
    /// The genesis block's bits.
    pub genesis_bits: u64,
    /// Our networks only: the measured timespan is clamped to `[target / f, target · f]` before
    /// retargeting. `None` (the reference) applies no clamp.
    pub max_adjustment_factor: Option<u64>,
    /// Our networks only: the easiest target allowed, as compact bits; a retarget above it yields it.
    /// `None` (the reference) has no limit.
    pub pow_limit_bits: Option<u64>,
}

/// Bits whose target is 2^256: every Tensority result meets it (for tests). Its work is zero
/// (`2^256 / (2^256 + 1)`), so a chain of such blocks never gets heavier: no network uses it.
pub const TRIVIAL_BITS: u64 = 0x2100_0000_0001_0000;

/// The devnet's easiest target, 2^255 (half the results meet it; work 1 per block).
pub const DEVNET_POW_LIMIT_BITS: u64 = 0x2000_0000_0080_0000;

impl PowParams {
    /// Bytom v1.1.0 mainnet: retarget every 2,016 blocks aiming at 150 s, timestamps at most one hour
    /// ahead and above the median of the last 11 blocks, no clamps.
    pub fn mainnet() -> PowParams {
        PowParams {
            name: "mainnet",
            block_version: 1,
            blocks_per_retarget: 2016,
            target_seconds_per_block: 150,
            max_time_offset_seconds: 60 * 60,
            median_time_blocks: 11,
            genesis_bits: 2_161_727_821_137_910_632,
            max_adjustment_factor: None,
            pow_limit_bits: None,
        }
    }

    /// Bytom v1.1.0 testnet ("wisdom"): mainnet's rules from an easier genesis.
    pub fn testnet() -> PowParams {
        PowParams {
            name: "testnet",
            genesis_bits: 0x2000_0000_000c_cccc,
            ..PowParams::mainnet()
        }
    }

    /// Our development network: the reference solonet's genesis bits (about 20 hashes a block, a few
    /// seconds on a CPU), a retarget every 32 blocks aiming at 10 s, with the measured timespan
    /// clamped to a factor of 4 and the target never easier than [`DEVNET_POW_LIMIT_BITS`].
    pub fn devnet() -> PowParams {
        PowParams {
            name: "devnet",
            block_version: 1,
            blocks_per_retarget: 32,
            target_seconds_per_block: 10,
            max_time_offset_seconds: 60 * 60,
            median_time_blocks: 11,
            genesis_bits: 0x2000_0000_000c_cccc,
            max_adjustment_factor: Some(4),
            pow_limit_bits: Some(DEVNET_POW_LIMIT_BITS),
        }
    }

    /// The timespan a retarget period should take, in seconds (saturating).
    pub fn target_timespan(&self) -> u64 {
        self.blocks_per_retarget
            .saturating_mul(self.target_seconds_per_block)
    }
}

impl Default for PowParams {
    fn default() -> Self {
        PowParams::mainnet()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use types::difficulty::work_from_bits;

    #[test]
    fn presets_match_the_reference_and_the_devnet_is_easy() {
        let m = PowParams::mainnet();
        // consensus/general.go: 2016 blocks of 150 s.
        assert_eq!(m.target_timespan(), 302_400);
        // config/genesis.go: the mainnet genesis bits.
        assert_eq!(m.genesis_bits, 2_161_727_821_137_910_632);
        assert_eq!(PowParams::testnet().genesis_bits, 2_305_843_009_214_532_812);
        // The devnet starts at the solonet difficulty, 20 expected hashes a block.
        assert_eq!(work_from_bits(PowParams::devnet().genesis_bits), 20.into());
        assert_eq!(work_from_bits(TRIVIAL_BITS), 0.into());
        assert_eq!(work_from_bits(DEVNET_POW_LIMIT_BITS), 1.into());
    }
}

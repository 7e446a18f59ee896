//! 256-bit digests: SHA3-256 (the standard suite and every Bytom/Vapor consensus hash) and SM3
//! (GB/T 32905-2016, the national-standard suite).

use sha3::Digest;

/// Length in bytes of every digest this module produces.
pub const DIGEST_LEN: usize = 32;

/// SHA3-256 of `data` (FIPS 202), as the reference's `sha3pool.Sum256`.
pub fn sha3_256(data: &[u8]) -> [u8; DIGEST_LEN] {
    sha3::Sha3_256::digest(data).into()
}

/// SM3 of `data` (GB/T 32905-2016).
pub fn sm3(data: &[u8]) -> [u8; DIGEST_LEN] {
    sm3::Sm3::digest(data).into()
}

/// An incremental 256-bit hasher: feed data in pieces, then take the digest once.
pub trait Hasher256: Default + Clone {
    /// Absorbs `data`.
    fn update(&mut self, data: &[u8]);
    /// Consumes the hasher and returns the digest of everything absorbed.
    fn finalize(self) -> [u8; DIGEST_LEN];

    /// Absorbs `data` and returns the hasher, for chaining.
    #[must_use]
    fn chain(mut self, data: &[u8]) -> Self {
        self.update(data);
        self
    }
}

/// Incremental SHA3-256.
#[derive(Default, Clone)]
pub struct Sha3Hasher(sha3::Sha3_256);

impl Sha3Hasher {
    /// A hasher with nothing absorbed yet.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Hasher256 for Sha3Hasher {
    fn update(&mut self, data: &[u8]) {
        Digest::update(&mut self.0, data);
    }

    fn finalize(self) -> [u8; DIGEST_LEN] {
        self.0.finalize().into()
    }
}

impl std::fmt::Debug for Sha3Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sha3Hasher")
    }
}

/// Incremental SM3.
#[derive(Default, Clone)]
pub struct Sm3Hasher(sm3::Sm3);

impl Sm3Hasher {
    /// A hasher with nothing absorbed yet.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Hasher256 for Sm3Hasher {
    fn update(&mut self, data: &[u8]) {
        Digest::update(&mut self.0, data);
    }

    fn finalize(self) -> [u8; DIGEST_LEN] {
        self.0.finalize().into()
    }
}

impl std::fmt::Debug for Sm3Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sm3Hasher")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(s: &str) -> [u8; 32] {
        let v = hex::decode(s).unwrap();
        v.try_into().unwrap()
    }

    /// GB/T 32905-2016 Appendix A, example 1: the 24-bit message "abc".
    #[test]
    fn sm3_gbt32905_example_1_abc() {
        assert_eq!(
            sm3(b"abc"),
            hex32("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
        );
    }

    /// GB/T 32905-2016 Appendix A, example 2: the 512-bit message "abcd" repeated 16 times.
    #[test]
    fn sm3_gbt32905_example_2_512_bits() {
        let msg = b"abcd".repeat(16);
        assert_eq!(msg.len() * 8, 512);
        assert_eq!(
            sm3(&msg),
            hex32("debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732")
        );
    }

    /// FIPS 202 / NIST CAVP SHA3-256 short-message vectors (empty input and "abc").
    #[test]
    fn sha3_256_nist_vectors() {
        assert_eq!(
            sha3_256(b""),
            hex32("a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a")
        );
        assert_eq!(
            sha3_256(b"abc"),
            hex32("3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532")
        );
    }

    #[test]
    fn incremental_equals_one_shot() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for split in [0, 1, 135, 136, 137, 500, 1000] {
            let (a, b) = data.split_at(split);
            assert_eq!(
                Sha3Hasher::new().chain(a).chain(b).finalize(),
                sha3_256(&data),
                "split {split}"
            );
            assert_eq!(
                Sm3Hasher::new().chain(a).chain(b).finalize(),
                sm3(&data),
                "split {split}"
            );
        }
    }
}

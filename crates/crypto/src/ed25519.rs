//! ed25519 verification under one rule for single and batched checks.
//!
//! # Consensus
//! The rule is ZIP-215 (<https://zips.z.cash/zip-0215>), as implemented by `ed25519-zebra`:
//! `A` and `R` must decode to curve points (non-canonical encodings accepted), `s` must be
//! canonical (`s < ℓ`), and the cofactored equation `[8][s]B = [8]R + [8][k]A` must hold.
//! Batch verification checks a random linear combination of the same cofactored equations, so
//! a batch passes exactly when every member passes alone. How this relates to the reference's
//! cofactorless check is set out in the crate README.

use rand_core::{CryptoRng, RngCore};

/// Length of an ed25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of an ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// Verifies `sig` over `msg` by the public key `pubkey` (ZIP-215 rules, see the crate README).
///
/// Returns `false` for keys or signatures of the wrong length instead of an error: the VM treats
/// those as a failed check, as the reference does.
pub fn verify(pubkey: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (
        <[u8; PUBLIC_KEY_LEN]>::try_from(pubkey),
        <[u8; SIGNATURE_LEN]>::try_from(sig),
    ) else {
        return false;
    };
    let Ok(vk) = ed25519_zebra::VerificationKey::try_from(pk) else {
        return false;
    };
    vk.verify(&ed25519_zebra::Signature::from(sig), msg).is_ok()
}

/// A batch that failed: the positions (in queue order) of every entry that fails on its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("ed25519 batch verification failed; invalid entries at positions {invalid:?}")]
#[non_exhaustive]
pub struct BatchError {
    /// Queue positions of the failing entries, ascending; never empty.
    pub invalid: Vec<usize>,
}

/// Collects (public key, message, signature) triples and checks them together, several times
/// faster per signature than one by one. Messages are hashed on [`BatchVerifier::queue`], so
/// they need not outlive the call.
#[derive(Default)]
pub struct BatchVerifier {
    /// Well-formed entries with their queue position, kept for the one-by-one fallback.
    items: Vec<(usize, ed25519_zebra::batch::Item)>,
    /// Positions of entries rejected on arrival (wrong key or signature length).
    malformed: Vec<usize>,
    len: usize,
}

impl BatchVerifier {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one triple and returns its position in the batch. Wrong-length keys or signatures
    /// are accepted here and reported as invalid by [`BatchVerifier::verify`].
    pub fn queue(&mut self, pubkey: &[u8], msg: &[u8], sig: &[u8]) -> usize {
        let pos = self.len;
        self.len += 1;
        match (
            <[u8; PUBLIC_KEY_LEN]>::try_from(pubkey),
            <[u8; SIGNATURE_LEN]>::try_from(sig),
        ) {
            (Ok(pk), Ok(sig)) => {
                let item = ed25519_zebra::batch::Item::from((
                    ed25519_zebra::VerificationKeyBytes::from(pk),
                    ed25519_zebra::Signature::from(sig),
                    msg,
                ));
                self.items.push((pos, item));
            }
            _ => self.malformed.push(pos),
        }
        pos
    }

    /// Number of queued triples.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Checks the whole batch; `rng` draws the random coefficients of the combined equation (the
    /// caller supplies it so that the core stays free of ambient randomness).
    ///
    /// An empty batch is valid. A batch that fails is split in halves, each checked as a batch
    /// again; a failing part under [`SINGLE_BELOW`] entries is checked one by one: the error names
    /// each entry that fails alone, so the result is always the same as calling [`verify`] per
    /// entry, and one bad signature in a large batch costs a few batches, not a single check of
    /// every entry.
    pub fn verify<R: RngCore + CryptoRng>(self, mut rng: R) -> Result<(), BatchError> {
        let mut invalid = self.malformed;
        check_halving(&self.items, &mut rng, &mut invalid);
        invalid.sort_unstable();
        // Under ZIP-215 a batch fails only if a member fails alone. The single check is the rule,
        // so if (against all odds, ~2^-128) no member fails alone, the batch is valid.
        if invalid.is_empty() {
            Ok(())
        } else {
            Err(BatchError { invalid })
        }
    }
}

/// A failing part of a batch this small is checked entry by entry rather than halved again.
pub const SINGLE_BELOW: usize = 8;

/// Adds to `invalid` the position of every entry of `items` that fails alone: `items` as one
/// batch, and if that fails, each half the same way, parts under [`SINGLE_BELOW`] entry by entry.
fn check_halving<R: RngCore + CryptoRng>(
    items: &[(usize, ed25519_zebra::batch::Item)],
    rng: &mut R,
    invalid: &mut Vec<usize>,
) {
    let one_by_one = |items: &[(usize, ed25519_zebra::batch::Item)], invalid: &mut Vec<usize>| {
        invalid.extend(
            items
                .iter()
                .filter(|(_, item)| item.clone().verify_single().is_err())
                .map(|(p, _)| *p),
        );
    };
    if items.len() < 2 {
        return one_by_one(items, invalid);
    }
    let mut batch = ed25519_zebra::batch::Verifier::new();
    for (_, item) in items {
        batch.queue(item.clone());
    }
    if batch.verify(&mut *rng).is_ok() {
        return;
    }
    if items.len() < SINGLE_BELOW {
        return one_by_one(items, invalid);
    }
    let (left, right) = items.split_at(items.len() / 2);
    check_halving(left, rng, invalid);
    check_halving(right, rng, invalid);
}

impl std::fmt::Debug for BatchVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchVerifier").field("len", &self.len).finish()
    }
}

#[cfg(test)]
mod tests;

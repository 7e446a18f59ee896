//! ed25519 verification under one rule for single and batched checks.

/// Length of an ed25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of an ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// Verifies `sig` over `msg` by the public key `pubkey` (ZIP-215 rules, see the crate README).
///
/// Returns `false` for keys or signatures of the wrong length instead of an error: the VM treats
/// those as a failed check, as the reference does.
pub fn verify(pubkey: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let (Ok(pk), Ok(sig)) = (<[u8; PUBLIC_KEY_LEN]>::try_from(pubkey), <[u8; SIGNATURE_LEN]>::try_from(sig))
    else {
        return false;
    };
    let Ok(vk) = ed25519_zebra::VerificationKey::try_from(pk) else {
        return false;
    };
    vk.verify(&ed25519_zebra::Signature::from(sig), msg).is_ok()
}

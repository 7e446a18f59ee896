//! Transaction decoding, both profiles: never panics; whatever decodes re-encodes to a canonical form
//! that decodes to the same transaction with the same ID. (Like the reference, the decoder accepts
//! non-minimal varints, so the canonical bytes may be shorter than the input.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use types::codec::Limits;
use types::profile::Profile;
use types::tx::Transaction;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    for profile in [Profile::Main, Profile::Side] {
        if let Ok(tx) = Transaction::decode(data, profile, &limits) {
            let canonical = tx.encode();
            let again = Transaction::decode(&canonical, profile, &limits).expect("canonical bytes decode");
            // Compare contents and IDs: the serialized size records the input's length, which a
            // non-minimal varint makes longer than the canonical form.
            assert_eq!(again.data(), tx.data(), "canonical round trip");
            assert_eq!(again.ids(), tx.ids());
            assert_eq!(again.encode(), canonical, "canonical form is a fixed point");
            for i in 0..tx.inputs().len() {
                let _ = tx.sighash(i);
            }
            let _ = tx.checked_fee();
        }
    }
});

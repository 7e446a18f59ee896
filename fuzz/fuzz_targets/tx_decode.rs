//! Transaction decoding, both profiles: never panics, and whatever decodes re-encodes to the same bytes
//! with IDs computable.
#![no_main]

use libfuzzer_sys::fuzz_target;
use types::codec::Limits;
use types::profile::Profile;
use types::tx::Transaction;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    for profile in [Profile::Main, Profile::Side] {
        if let Ok(tx) = Transaction::decode(data, profile, &limits) {
            assert_eq!(tx.encode(), data, "canonical round trip");
            let _ = tx.id();
            for i in 0..tx.inputs().len() {
                let _ = tx.sighash(i);
            }
            let _ = tx.checked_fee();
        }
    }
});

//! Election state decoding (DPoS snapshots): never panics; whatever decodes is the canonical encoding
//! of its state (re-encodes to the input byte for byte) and decodes again to an equal state. Small
//! limits keep each run quick; the keys' pairing checks dominate the cost of inputs that decode.
#![no_main]

use consensus::dpos::ElectionState;
use consensus::dpos::state::codec::ElectionCodecLimits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = ElectionCodecLimits {
        max_candidates: 64,
        max_votes: 1_000,
        max_set_size: 32,
        max_program_bytes: 1_000,
    };
    if let Ok(state) = ElectionState::decode(data, &limits) {
        let bytes = state.encode();
        assert_eq!(bytes, data, "decoded bytes are canonical");
        let again = ElectionState::decode(&bytes, &limits).expect("canonical bytes decode");
        assert_eq!(again, state, "round trip");
    }
});

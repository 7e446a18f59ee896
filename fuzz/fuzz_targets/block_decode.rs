//! Block and header decoding, both profiles: never panics; decoded blocks re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use types::block::{Block, BlockHeader};
use types::codec::Limits;
use types::profile::Profile;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    for profile in [Profile::Main, Profile::Side] {
        if let Ok(block) = Block::decode(data, profile, &limits) {
            assert_eq!(block.encode(), data, "canonical round trip");
            let _ = block.hash();
            let _ = block.compute_transactions_merkle_root();
        }
        if let Ok(header) = BlockHeader::decode(data, profile, &limits) {
            let _ = header.hash();
        }
    }
});

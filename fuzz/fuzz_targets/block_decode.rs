//! Block and header decoding, both profiles: never panics; a decoded block re-encodes to a canonical form
//! (full serialization, minimal varints) that decodes to the same block with the same hash.
#![no_main]

use libfuzzer_sys::fuzz_target;
use types::block::{Block, BlockHeader};
use types::codec::Limits;
use types::profile::Profile;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    for profile in [Profile::Main, Profile::Side] {
        if let Ok(block) = Block::decode(data, profile, &limits) {
            let canonical = block.encode();
            let again = Block::decode(&canonical, profile, &limits).expect("canonical bytes decode");
            assert_eq!(again.header(), block.header(), "canonical round trip");
            assert_eq!(again.hash(), block.hash());
            assert_eq!(again.transactions().len(), block.transactions().len());
            for (a, b) in again.transactions().iter().zip(block.transactions()) {
                assert_eq!(a.data(), b.data());
                assert_eq!(a.ids(), b.ids());
            }
            assert_eq!(again.encode(), canonical, "canonical form is a fixed point");
            let _ = block.compute_transactions_merkle_root();
        }
        if let Ok(header) = BlockHeader::decode(data, profile, &limits) {
            let _ = header.hash();
        }
    }
});

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Property tests: decoding untrusted bytes never panics, and every decoded message re-encodes
//! to the same bytes (the encoding is canonical).

use consensus::bbft::{BlockId, Limits, Message, Phase, Vote, VoteData, decode, encode};
use crypto::bls::SecretKey;
use proptest::prelude::*;

fn sample_vote() -> Vec<u8> {
    let k = SecretKey::from_seed(&[3; 32]);
    let data = VoteData {
        epoch: 1,
        round: 7,
        height: 5,
        block: BlockId([9; 32]),
        parent: BlockId([8; 32]),
        parent_round: 6,
        phase: Phase::Commit,
    };
    encode(&Message::Vote(Vote {
        data,
        signer: 2,
        signature: k.sign(&data.signing_bytes()),
    }))
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(m) = decode(&bytes, &Limits::default()) {
            prop_assert_eq!(encode(&m), bytes);
        }
    }

    #[test]
    fn mutated_vote_never_panics(pos in 0usize..300, val in any::<u8>(), tag in 1u8..8) {
        let mut b = sample_vote();
        let p = pos % b.len();
        b[p] = val;
        if pos % 3 == 0 {
            b[0] = tag;
        }
        if let Ok(m) = decode(&b, &Limits::default()) {
            prop_assert_eq!(encode(&m), b);
        }
    }
}

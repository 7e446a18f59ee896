#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The public verification-work counter a simulator charges CPU time from: a group's votes
//! checked as one batch cost one pairing, and the counter resets on read.

use std::sync::Arc;

use consensus::bbft::{
    Bbft, BlockId, Bls, Config, Effect, Epoch, Input, Message, Topology, Validator, ValidatorSet, VerifyWork,
    Vote, VoteData,
};
use crypto::bls::SecretKey;

#[test]
fn a_batch_of_votes_costs_one_pairing_and_the_count_resets() {
    let keys: Vec<SecretKey> = (0..4u8).map(|i| SecretKey::from_seed(&[i + 60; 32])).collect();
    let validators = keys
        .iter()
        .zip(0u32..)
        .map(|(k, node)| Validator {
            node,
            key: k.public_key(),
            power: 1,
        })
        .collect();
    let pops: Vec<_> = keys.iter().map(SecretKey::prove_possession).collect();
    // One aggregator (FBFT): node 0 collects every vote.
    let set = Arc::new(ValidatorSet::new(validators, &pops, Topology::round_robin(4, 1), &Bls).unwrap());
    let epoch = Epoch {
        index: 0,
        first_height: 1,
        last_height: u64::MAX,
        set,
    };
    let mut node = Bbft::new(
        Config::default(),
        keys[0].clone(),
        Arc::new(Bls),
        vec![epoch],
        BlockId::default(),
    )
    .unwrap();
    let _ = node.step(Input::Start);
    let eff = node.step(Input::Propose {
        epoch: 0,
        round: 1,
        payload: vec![1].into(),
    });
    let block = eff
        .iter()
        .find_map(|e| match e {
            Effect::Validate { block, .. } => Some(*block),
            _ => None,
        })
        .expect("own block to validate");
    let _ = node.step(Input::Validated {
        epoch: 0,
        round: 1,
        block,
        valid: true,
    });
    // The leader's own proposal and vote need no verification.
    assert_eq!(node.take_verify_work().pairing_checks, 0);
    let data = VoteData {
        epoch: 0,
        round: 1,
        height: 1,
        block,
        parent: BlockId::default(),
        parent_round: 0,
        phase: consensus::bbft::Phase::Prepare,
    };
    let mut certified = false;
    for i in 1..3u16 {
        let eff = node.step(Input::Message {
            from: u32::from(i),
            message: Message::Vote(Vote {
                data,
                signer: i,
                signature: keys[usize::from(i)].sign(&data.signing_bytes()),
            }),
        });
        certified |= eff.iter().any(|e| {
            matches!(
                e,
                Effect::SendToGroup {
                    message: Message::Certificate(_),
                    ..
                }
            )
        });
    }
    assert!(certified);
    assert_eq!(
        node.take_verify_work(),
        VerifyWork {
            pairing_checks: 1,
            signatures_aggregated: 2 + 2,
        }
    );
    assert_eq!(node.take_verify_work(), VerifyWork::default());
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Hostile peers: arbitrary (well-formed) messages with arbitrary rounds, epochs, heights,
//! bitmaps and signatures, fed to a running validator, never panic it and never make it
//! commit.

use std::sync::Arc;

use consensus::bbft::{
    Bbft, Bitmap, BlockId, Bls, Certificate, Config, Effect, Epoch, Input, Justify, Message, Proposal,
    TcPart, Timeout, TimeoutCert, Topology, Validator, ValidatorSet, Vote, VoteData,
};
use crypto::bls::{SecretKey, Signature};
use proptest::prelude::*;

fn node() -> Bbft {
    let keys: Vec<SecretKey> = (0..4u8).map(|i| SecretKey::from_seed(&[i + 40; 32])).collect();
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
    let set = Arc::new(ValidatorSet::new(validators, &pops, Topology::round_robin(4, 2), &Bls).unwrap());
    let epochs = vec![
        Epoch {
            index: 0,
            first_height: 1,
            last_height: 3,
            set: Arc::clone(&set),
        },
        Epoch {
            index: 1,
            first_height: 4,
            last_height: u64::MAX,
            set,
        },
    ];
    let mut n = Bbft::new(
        Config {
            me: 1,
            ..Config::default()
        },
        keys[1].clone(),
        Arc::new(Bls),
        epochs,
        BlockId::default(),
    )
    .unwrap();
    let _ = n.step(Input::Start);
    n
}

fn small() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..6, Just(u64::MAX), Just(u64::MAX - 1), any::<u64>()]
}

fn data() -> BoxedStrategy<VoteData> {
    (
        small(),
        small(),
        small(),
        any::<[u8; 32]>(),
        small(),
        any::<bool>(),
    )
        .prop_map(|(epoch, round, height, b, parent_round, commit)| VoteData {
            epoch,
            round,
            height,
            block: BlockId(b),
            parent: BlockId([b[0]; 32]),
            parent_round,
            phase: if commit {
                consensus::bbft::Phase::Commit
            } else {
                consensus::bbft::Phase::Prepare
            },
        })
        .boxed()
}

fn bitmap() -> impl Strategy<Value = Bitmap> {
    (0usize..6, any::<u8>()).prop_map(|(len, bits)| {
        let mut b = Bitmap::new(len);
        for i in 0..len {
            if bits & (1 << i) != 0 {
                b.set(i);
            }
        }
        b
    })
}

fn cert_s(sig: Signature) -> BoxedStrategy<Certificate> {
    (data(), bitmap())
        .prop_map(move |(data, signers)| Certificate {
            data,
            signers,
            signature: sig,
        })
        .boxed()
}

fn tc_s(sig: Signature) -> BoxedStrategy<TimeoutCert> {
    (
        small(),
        small(),
        proptest::collection::vec((small(), bitmap()), 0..3),
    )
        .prop_map(move |(e, r, parts)| TimeoutCert {
            epoch: e,
            round: r,
            parts: parts
                .into_iter()
                .map(|(h, s)| TcPart {
                    high_qc_round: h,
                    signers: s,
                    signature: sig,
                })
                .collect(),
        })
        .boxed()
}

fn message(sig: Signature) -> BoxedStrategy<Message> {
    prop_oneof![
        (data(), 0u16..6).prop_map(move |(data, signer)| Message::Vote(Vote {
            data,
            signer,
            signature: sig
        })),
        cert_s(sig).prop_map(Message::Aggregate),
        cert_s(sig).prop_map(Message::Certificate),
        (
            small(),
            small(),
            proptest::option::of(cert_s(sig)),
            proptest::option::of(tc_s(sig)),
            0u16..6
        )
            .prop_map(
                move |(epoch, round, high_qc, last_tc, signer)| Message::Timeout(Box::new(Timeout {
                    epoch,
                    round,
                    high_qc,
                    last_tc,
                    signer,
                    signature: sig
                }))
            )
            .boxed(),
        tc_s(sig).prop_map(|t| Message::TimeoutCert(Box::new(t))),
        (small(), small()).prop_map(|(epoch, until_round)| Message::Subscribe { epoch, until_round }),
        (
            small(),
            small(),
            small(),
            0u8..3,
            proptest::option::of(cert_s(sig)),
            proptest::option::of(tc_s(sig)),
            0u16..6
        )
            .prop_map(move |(epoch, round, height, j, c, tc, proposer)| {
                let justify = match (j, c) {
                    (1, Some(c)) => Justify::Qc(c),
                    (2, Some(c)) => Justify::Anchor(c),
                    _ => Justify::Genesis,
                };
                Message::Proposal(Box::new(Proposal {
                    epoch,
                    round,
                    height,
                    parent: BlockId::default(),
                    justify,
                    tc,
                    payload: vec![1, 2, 3].into(),
                    proposer,
                    signature: sig,
                }))
            })
            .boxed(),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]
    #[test]
    fn hostile_messages_never_panic_or_commit(msgs in proptest::collection::vec((0u32..6, message(SecretKey::from_seed(&[43; 32]).sign(b"junk"))), 1..12)) {
        // Stepping runs on a thread with the default 2 MiB stack, as a node's would.
        let committed = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let mut n = node();
                msgs.into_iter().any(|(from, m)| {
                    n.step(Input::Message { from, message: m }).iter().any(|e| matches!(e, Effect::Commit { .. }))
                })
            })
            .unwrap()
            .join()
            .unwrap();
        prop_assert!(!committed);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    /// The same with the node's timers firing in between (buffered votes are verified when the
    /// aggregation wait ends; timeouts are sent), and votes sent from their signer's own node so
    /// they reach the optimistic-verification buffer.
    #[test]
    fn hostile_messages_with_timers_never_panic_or_commit(msgs in proptest::collection::vec((0u32..4, message(SecretKey::from_seed(&[43; 32]).sign(b"junk")), any::<bool>()), 1..12)) {
        let committed = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let mut n = node();
                msgs.into_iter().any(|(from, m, fire)| {
                    let from = match &m {
                        Message::Vote(v) => u32::from(v.signer),
                        _ => from,
                    };
                    let mut eff = n.step(Input::Message { from, message: m });
                    if fire {
                        let (epoch, round) = (n.epoch(), n.round());
                        eff.extend(n.step(Input::TimerFired(consensus::bbft::Timer::Aggregate { epoch, round })));
                        eff.extend(n.step(Input::TimerFired(consensus::bbft::Timer::Round { epoch, round })));
                    }
                    eff.iter().any(|e| matches!(e, Effect::Commit { .. }))
                })
            })
            .unwrap()
            .join()
            .unwrap();
        prop_assert!(!committed);
    }
}

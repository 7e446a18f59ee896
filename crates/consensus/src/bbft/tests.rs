//! Unit tests of the core's arms, driven by a tiny synchronous router.

use std::collections::VecDeque;
use std::sync::Arc;

use ::crypto::bls::{SecretKey, Signature};

use super::*;

fn keys(n: usize) -> Vec<SecretKey> {
    (0..n)
        .map(|i| {
            let mut s = [7u8; 32];
            s[0] = u8::try_from(i).unwrap();
            SecretKey::from_seed(&s)
        })
        .collect()
}

fn set_with(keys: &[SecretKey], powers: &[u64], topo: Topology) -> Arc<ValidatorSet> {
    let validators = keys
        .iter()
        .enumerate()
        .map(|(i, k)| Validator {
            node: u32::try_from(i).unwrap(),
            key: k.public_key(),
            power: powers[i],
        })
        .collect();
    let pops: Vec<_> = keys.iter().map(SecretKey::prove_possession).collect();
    Arc::new(ValidatorSet::new(validators, &pops, topo, &Bls).unwrap())
}

fn epoch0(set: Arc<ValidatorSet>) -> Epoch {
    Epoch {
        index: 0,
        first_height: 1,
        last_height: u64::MAX,
        set,
    }
}

fn cfg(me: u32) -> Config {
    Config {
        me,
        round_timeout_ms: 1000,
        aggregate_wait_ms: 50,
        ..Config::default()
    }
}

/// Which messages (from, to, message) a [`Net`] loses.
type DropRule = Box<dyn Fn(u32, u32, &Message) -> bool>;

/// Nodes plus a FIFO network; `Propose`/`Validate` are answered at once.
struct Net {
    nodes: Vec<Bbft>,
    queue: VecDeque<(u32, u32, Message)>,
    sent: Vec<(u32, u32, Message)>,
    effects: Vec<(u32, Effect)>,
    down: Vec<bool>,
    /// Messages for which this is true are lost.
    drop: DropRule,
}

impl Net {
    fn new(n: usize, topo: Topology) -> (Net, Arc<ValidatorSet>, Vec<SecretKey>) {
        let ks = keys(n);
        let set = set_with(&ks, &vec![1; n], topo);
        let net = Net::with_epochs(&ks, &[epoch0(Arc::clone(&set))]);
        (net, set, ks)
    }

    fn with_epochs(ks: &[SecretKey], epochs: &[Epoch]) -> Net {
        Net::with_epochs_cfg(ks, epochs, true)
    }

    /// `commit_phase: false` runs the two-chain rule alone (§3 without §3a).
    fn with_epochs_cfg(ks: &[SecretKey], epochs: &[Epoch], commit_phase: bool) -> Net {
        let n = ks.len();
        let nodes = (0..n)
            .map(|i| {
                Bbft::new(
                    Config {
                        commit_phase,
                        ..cfg(u32::try_from(i).unwrap())
                    },
                    ks[i].clone(),
                    Arc::new(Bls),
                    epochs.to_vec(),
                    BlockId::default(),
                )
                .unwrap()
            })
            .collect();
        Net {
            nodes,
            queue: VecDeque::new(),
            sent: Vec::new(),
            effects: Vec::new(),
            down: vec![false; n],
            drop: Box::new(|_, _, _| false),
        }
    }

    fn input(&mut self, i: u32, input: Input) {
        let mut inputs = vec![input];
        while let Some(inp) = inputs.pop() {
            if self.down[i as usize] {
                return;
            }
            for e in self.nodes[i as usize].step(inp) {
                match &e {
                    Effect::Send { to, message } => self.queue.push_back((i, *to, message.clone())),
                    Effect::SendToGroup { to, message } => {
                        for t in to {
                            self.queue.push_back((i, *t, message.clone()));
                        }
                    }
                    Effect::RequestProposal {
                        epoch, round, height, ..
                    } => inputs.push(Input::Propose {
                        epoch: *epoch,
                        round: *round,
                        payload: height.to_be_bytes().to_vec().into(),
                    }),
                    Effect::Validate {
                        epoch, round, block, ..
                    } => inputs.push(Input::Validated {
                        epoch: *epoch,
                        round: *round,
                        block: *block,
                        valid: true,
                    }),
                    _ => {}
                }
                self.effects.push((i, e));
            }
        }
    }

    fn start(&mut self) {
        for i in 0..self.nodes.len() {
            self.input(u32::try_from(i).unwrap(), Input::Start);
        }
    }

    fn run(&mut self, max: usize) {
        for _ in 0..max {
            let Some((from, to, m)) = self.queue.pop_front() else {
                return;
            };
            if (self.drop)(from, to, &m) {
                continue;
            }
            self.sent.push((from, to, m.clone()));
            self.input(to, Input::Message { from, message: m });
        }
    }

    /// Delivers until every live node has committed `k` heights (or `max` messages).
    fn run_until(&mut self, k: usize, max: usize) {
        for _ in 0..max {
            let live: Vec<u32> = (0..self.nodes.len())
                .filter(|&i| !self.down[i])
                .map(|i| u32::try_from(i).unwrap())
                .collect();
            if live.iter().all(|&i| self.commits(i).len() >= k) {
                return;
            }
            self.run(1);
        }
    }

    /// Node `i`'s commits as (epoch, height, block, proof).
    fn commits_full(&self, i: u32) -> Vec<(u64, u64, BlockId, Certificate)> {
        self.effects
            .iter()
            .filter_map(|(n, e)| match e {
                Effect::Commit {
                    epoch,
                    height,
                    block,
                    proof,
                } if *n == i => Some((*epoch, *height, *block, proof.clone())),
                _ => None,
            })
            .collect()
    }

    fn commits(&self, i: u32) -> Vec<u64> {
        self.effects
            .iter()
            .filter_map(|(n, e)| match e {
                Effect::Commit { height, .. } if *n == i => Some(*height),
                _ => None,
            })
            .collect()
    }

    fn count(&self, f: impl Fn(&Message) -> bool) -> usize {
        self.sent.iter().filter(|(_, _, m)| f(m)).count()
    }
}

fn vote(k: &SecretKey, signer: u16, data: VoteData) -> Vote {
    Vote {
        data,
        signer,
        signature: k.sign(&data.signing_bytes()),
    }
}

fn data(round: u64, block: u8) -> VoteData {
    VoteData {
        epoch: 0,
        round,
        height: 1,
        block: BlockId([block; 32]),
        parent: BlockId::default(),
        parent_round: 0,
        phase: Phase::Prepare,
    }
}

fn cert(ks: &[SecretKey], who: &[usize], d: VoteData, n: usize) -> Certificate {
    let mut signers = Bitmap::new(n);
    let sigs: Vec<_> = who
        .iter()
        .map(|&i| {
            signers.set(i);
            ks[i].sign(&d.signing_bytes())
        })
        .collect();
    Certificate {
        data: d,
        signers,
        signature: Signature::aggregate(&sigs).unwrap(),
    }
}

#[test]
fn quorum_thresholds_are_strictly_above_two_thirds() {
    let ks = keys(4);
    let set = set_with(&ks, &[1, 1, 1, 1], Topology::round_robin(4, 2));
    assert!(!set.is_quorum(2));
    assert!(set.is_quorum(3));
    assert!(!set.exceeds_third(1));
    assert!(set.exceeds_third(2));
    // Weighted: total 10; 7 > 6.67 is a quorum, 6 is not; exactly a third is not "more".
    let set = set_with(&ks, &[4, 3, 2, 1], Topology::round_robin(4, 2));
    assert!(set.is_quorum(7));
    assert!(!set.is_quorum(6));
    let set3 = set_with(&keys(3), &[1, 1, 1], Topology::round_robin(3, 1));
    assert!(!set3.exceeds_third(1));
    assert!(!set3.is_quorum(2));
}

#[test]
fn validator_set_rejects_bad_input() {
    let ks = keys(3);
    let vals: Vec<Validator> = ks
        .iter()
        .enumerate()
        .map(|(i, k)| Validator {
            node: u32::try_from(i).unwrap(),
            key: k.public_key(),
            power: 1,
        })
        .collect();
    let pops: Vec<_> = ks.iter().map(SecretKey::prove_possession).collect();
    let topo = Topology::round_robin(3, 1);
    // Someone else's proof of possession.
    let mut bad = pops.clone();
    bad.swap(0, 1);
    assert_eq!(
        ValidatorSet::new(vals.clone(), &bad, topo.clone(), &Bls).unwrap_err(),
        SetError::BadPossession(0)
    );
    let mut zero = vals.clone();
    zero[2].power = 0;
    assert_eq!(
        ValidatorSet::new(zero, &pops, topo.clone(), &Bls).unwrap_err(),
        SetError::ZeroPower(2)
    );
    let mut dup = vals.clone();
    dup[1].node = 0;
    assert_eq!(
        ValidatorSet::new(dup, &pops, topo.clone(), &Bls).unwrap_err(),
        SetError::Duplicate(1)
    );
    let wrong = Topology {
        supers: vec![0],
        assignment: vec![0, 1, 0],
    };
    assert!(matches!(
        ValidatorSet::new(vals.clone(), &pops, wrong, &Bls),
        Err(SetError::Topology(_))
    ));
    let not_self = Topology {
        supers: vec![0, 1],
        assignment: vec![1, 1, 0],
    };
    assert!(matches!(
        ValidatorSet::new(vals, &pops, not_self, &Bls),
        Err(SetError::Topology(_))
    ));
}

#[test]
fn bitmap_is_canonical_and_set_operations_work() {
    assert!(Bitmap::from_bytes(3, vec![0b0000_0111]).is_some());
    assert!(
        Bitmap::from_bytes(3, vec![0b0000_1000]).is_none(),
        "bit past the length"
    );
    assert!(Bitmap::from_bytes(9, vec![0]).is_none(), "wrong byte count");
    let mut a = Bitmap::new(10);
    a.set(1);
    a.set(9);
    a.set(10); // out of range: ignored
    assert_eq!(a.ones().collect::<Vec<_>>(), vec![1, 9]);
    let mut b = Bitmap::new(10);
    b.set(2);
    assert!(a.is_disjoint(&b));
    b.set(9);
    assert!(!a.is_disjoint(&b));
    a.union_with(&b);
    assert_eq!(a.count(), 3);
}

#[test]
fn certificate_checks_bitmap_against_signature() {
    let ks = keys(4);
    let set = set_with(&ks, &[1; 4], Topology::round_robin(4, 2));
    let d = data(1, 9);
    let qc = cert(&ks, &[0, 1, 2], d, 4);
    assert!(qc.verify_quorum(&set, &Bls));
    // Forged bitmap: claims a fourth signer that did not sign.
    let mut forged = qc.clone();
    forged.signers.set(3);
    assert!(!forged.verify_signature(&set, &Bls));
    // Bitmap drops a signer: the aggregate no longer matches.
    let mut short = qc.clone();
    short.signers = Bitmap::new(4);
    short.signers.set(0);
    short.signers.set(1);
    assert!(!short.verify_signature(&set, &Bls));
    // Valid but too small.
    let two = cert(&ks, &[0, 1], d, 4);
    assert!(two.verify_signature(&set, &Bls));
    assert!(!two.verify_quorum(&set, &Bls));
    // Bitmap of the wrong size.
    let mut wrong = qc;
    wrong.signers = Bitmap::new(5);
    assert!(!wrong.verify_signature(&set, &Bls));
}

#[test]
fn all_honest_pbft_fbft_and_bbft_commit() {
    for (n, topo) in [
        (4, Topology::pbft(4)),
        (4, Topology::round_robin(4, 1)),
        (9, Topology::round_robin(9, 3)),
        (7, Topology::round_robin(7, 2)),
    ] {
        let (mut net, _, _) = Net::new(n, topo);
        net.start();
        net.run_until(5, 20_000);
        for i in 0..n {
            let c = net.commits(u32::try_from(i).unwrap());
            assert!(c.len() >= 5, "node {i} of {n} committed {c:?}");
            assert_eq!(c, (1..=u64::try_from(c.len()).unwrap()).collect::<Vec<_>>());
        }
    }
}

#[test]
fn m_equals_n_is_all_to_all_and_m_one_has_one_aggregator() {
    // PBFT: every node its own super node: aggregates all-to-all, no votes or certificates sent.
    let (mut net, _, _) = Net::new(4, Topology::pbft(4));
    net.start();
    net.run(200);
    assert_eq!(net.count(|m| matches!(m, Message::Vote(_))), 0);
    assert_eq!(net.count(|m| matches!(m, Message::Certificate(_))), 0);
    assert!(net.count(|m| matches!(m, Message::Aggregate(_))) >= 12);
    // FBFT: one aggregator: votes go to it, certificates come from it, no aggregates.
    let (mut net, _, _) = Net::new(4, Topology::round_robin(4, 1));
    net.start();
    net.run(200);
    assert_eq!(net.count(|m| matches!(m, Message::Aggregate(_))), 0);
    assert!(net.sent.iter().all(|(f, t, m)| match m {
        Message::Vote(_) => *t == 0,
        Message::Certificate(_) => *f == 0,
        _ => true,
    }));
}

#[test]
fn seed_message_count_per_round() {
    // N = 9, M = 3: T0 M−1, T1 N−M, T2 N−M, T3 M(M−1), T4 N−M messages about round 1; the
    // commit phase sends T2–T4 once more (N−M, M(M−1), N−M).
    for (commit_phase, expected) in [(false, 2 + 6 + 6 + 6 + 6), (true, 2 + 6 + 6 + 6 + 6 + 6 + 6 + 6)] {
        let ks = keys(9);
        let set = set_with(&ks, &[1; 9], Topology::round_robin(9, 3));
        let mut net = Net::with_epochs_cfg(&ks, &[epoch0(set)], commit_phase);
        net.start();
        net.run_until(1, 5_000);
        let round1 = net.count(|m| match m {
            Message::Proposal(p) => p.round == 1,
            Message::Vote(v) => v.data.round == 1,
            Message::Aggregate(c) | Message::Certificate(c) => c.data.round == 1,
            _ => false,
        });
        assert_eq!(round1, expected, "commit phase {commit_phase}");
    }
}

#[test]
fn vote_equivocation_yields_verifiable_evidence() {
    let ks = keys(4);
    let set = set_with(&ks, &[1; 4], Topology::round_robin(4, 2));
    let mut node = Bbft::new(
        cfg(0),
        ks[0].clone(),
        Arc::new(Bls),
        vec![epoch0(Arc::clone(&set))],
        BlockId::default(),
    )
    .unwrap();
    let _ = node.step(Input::Start);
    let a = vote(&ks[2], 2, data(1, 1));
    let b = vote(&ks[2], 2, data(1, 2));
    let _ = node.step(Input::Message {
        from: 2,
        message: Message::Vote(a),
    });
    let eff = node.step(Input::Message {
        from: 2,
        message: Message::Vote(b),
    });
    let ev = eff
        .iter()
        .find_map(|e| match e {
            Effect::Evidence(ev) => Some(ev.clone()),
            _ => None,
        })
        .expect("evidence");
    assert_eq!(ev.offender(), 2);
    assert!(ev.verify(&set, &Bls));
    // The same vote twice is not evidence; a vote attributed to someone else fails.
    let same = Evidence::ConflictingVotes(
        Box::new(vote(&ks[2], 2, data(1, 1))),
        Box::new(vote(&ks[2], 2, data(1, 1))),
    );
    assert!(!same.verify(&set, &Bls));
    let framed = Evidence::ConflictingVotes(
        Box::new(vote(&ks[1], 2, data(1, 1))),
        Box::new(vote(&ks[1], 2, data(1, 2))),
    );
    assert!(!framed.verify(&set, &Bls));
}

#[test]
fn invalid_vote_signature_is_rejected() {
    let ks = keys(4);
    let set = set_with(&ks, &[1; 4], Topology::round_robin(4, 2));
    let mut node = Bbft::new(
        cfg(0),
        ks[0].clone(),
        Arc::new(Bls),
        vec![epoch0(set)],
        BlockId::default(),
    )
    .unwrap();
    let _ = node.step(Input::Start);
    // Sent by node 1 but claims signer 2: votes are never relayed, so refused at once.
    let v = vote(&ks[1], 2, data(1, 1));
    let eff = node.step(Input::Message {
        from: 1,
        message: Message::Vote(v),
    });
    assert_eq!(rejected(&eff), vec![Reject::UnknownSigner]);
    // From node 2 with a signature that is not its own: buffered (optimistic verification),
    // then refused when checked, here when the aggregation wait is over.
    let v = vote(&ks[1], 2, data(1, 1));
    let eff = node.step(Input::Message {
        from: 2,
        message: Message::Vote(v),
    });
    assert_eq!(rejected(&eff), vec![]);
    let eff = node.step(Input::TimerFired(Timer::Aggregate { epoch: 0, round: 1 }));
    assert_eq!(rejected(&eff), vec![Reject::BadSignature]);
    assert!(
        !sent_messages(&eff)
            .iter()
            .any(|m| matches!(m, Message::Aggregate(_)))
    );
    let v = vote(&ks[1], 9, data(1, 1));
    let eff = node.step(Input::Message {
        from: 1,
        message: Message::Vote(v),
    });
    assert_eq!(rejected(&eff), vec![Reject::UnknownSigner]);
}

#[test]
fn forged_aggregate_never_reaches_a_certificate() {
    let ks = keys(4);
    let set = set_with(&ks, &[1; 4], Topology::round_robin(4, 2));
    let mut node = Bbft::new(
        cfg(0),
        ks[0].clone(),
        Arc::new(Bls),
        vec![epoch0(set)],
        BlockId::default(),
    )
    .unwrap();
    let _ = node.step(Input::Start);
    let d = data(1, 1);
    // Super node 1 claims {1,2,3} but only 1 signed.
    let mut forged = cert(&ks, &[1], d, 4);
    forged.signers.set(2);
    forged.signers.set(3);
    let eff = node.step(Input::Message {
        from: 1,
        message: Message::Aggregate(forged),
    });
    assert!(eff.iter().any(|e| matches!(
        e,
        Effect::Rejected {
            reason: Reject::BadSignature,
            ..
        }
    )));
    assert!(node.high_qc().is_none());
    // An honest node never sends an invalid aggregate: the sender is ignored for the round.
    let eff = node.step(Input::Message {
        from: 1,
        message: Message::Aggregate(cert(&ks, &[1, 2, 3], d, 4)),
    });
    assert!(eff.is_empty());
    assert!(node.high_qc().is_none());
    // The real votes (sent directly, as fallen-back members do) form the certificate.
    let mut eff = Vec::new();
    for (i, k) in ks.iter().enumerate().skip(1) {
        eff = node.step(Input::Message {
            from: u32::try_from(i).unwrap(),
            message: Message::Vote(vote(k, u16::try_from(i).unwrap(), d)),
        });
    }
    assert!(!eff.iter().any(|e| matches!(e, Effect::Rejected { .. })));
    assert_eq!(node.high_qc().map(|q| q.data), Some(d));
    assert_eq!(node.round(), 2);
}

#[test]
fn proposal_equivocation_yields_evidence() {
    let (mut net, set, ks) = Net::new(4, Topology::round_robin(4, 2));
    // Node 0 leads round 1. Build two signed proposals and deliver both to node 1.
    let mk = |payload: Vec<u8>| {
        let block = BlockId::compute(1, &BlockId::default(), &payload);
        Proposal {
            epoch: 0,
            round: 1,
            height: 1,
            parent: BlockId::default(),
            justify: Justify::Genesis,
            tc: None,
            payload: payload.into(),
            proposer: 0,
            signature: ks[0].sign(&ProposalHeader::signing_bytes(0, 1, &block)),
        }
    };
    net.input(1, Input::Start);
    net.input(
        1,
        Input::Message {
            from: 0,
            message: Message::Proposal(Box::new(mk(vec![1]))),
        },
    );
    net.input(
        1,
        Input::Message {
            from: 0,
            message: Message::Proposal(Box::new(mk(vec![2]))),
        },
    );
    let ev = net
        .effects
        .iter()
        .find_map(|(_, e)| match e {
            Effect::Evidence(ev) => Some(ev.clone()),
            _ => None,
        })
        .expect("evidence");
    assert!(ev.verify(&set, &Bls));
    assert_eq!(ev.offender(), 0);
    // Node 1 voted exactly once in round 1.
    let votes = net
        .queue
        .iter()
        .filter(|(f, _, m)| *f == 1 && matches!(m, Message::Vote(_)))
        .count();
    assert!(votes <= 1);
}

#[test]
fn proposal_from_non_leader_or_bad_signature_is_rejected() {
    let (mut net, _, ks) = Net::new(4, Topology::round_robin(4, 2));
    net.input(1, Input::Start);
    let payload = vec![1];
    let block = BlockId::compute(1, &BlockId::default(), &payload);
    let mut p = Proposal {
        epoch: 0,
        round: 1,
        height: 1,
        parent: BlockId::default(),
        justify: Justify::Genesis,
        tc: None,
        payload: payload.into(),
        proposer: 2,
        signature: ks[2].sign(&ProposalHeader::signing_bytes(0, 1, &block)),
    };
    net.input(
        1,
        Input::Message {
            from: 2,
            message: Message::Proposal(Box::new(p.clone())),
        },
    );
    p.proposer = 0; // leader index, but signed by 2
    net.input(
        1,
        Input::Message {
            from: 2,
            message: Message::Proposal(Box::new(p.clone())),
        },
    );
    p.signature = ks[0].sign(&ProposalHeader::signing_bytes(0, 1, &block));
    p.height = 2; // does not extend genesis
    net.input(
        1,
        Input::Message {
            from: 0,
            message: Message::Proposal(Box::new(p)),
        },
    );
    let reasons: Vec<Reject> = net
        .effects
        .iter()
        .filter_map(|(_, e)| match e {
            Effect::Rejected { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        vec![Reject::NotLeader, Reject::BadSignature, Reject::BadSignature]
    );
}

#[test]
fn view_change_after_silent_leader() {
    // Node 0 (leader of rounds 1-2) is down; everyone times out, forms a TC, and the next
    // leader proposes with it; the chain then finalizes blocks.
    let (mut net, _, _) = Net::new(4, Topology::round_robin(4, 2));
    net.down[0] = true;
    net.start();
    for round in 1..=2 {
        for i in 1..4u32 {
            net.input(i, Input::TimerFired(Timer::Round { epoch: 0, round }));
        }
        net.run_until(1, 2_000);
    }
    let tc_proposal = net.sent.iter().find_map(|(_, _, m)| match m {
        Message::Proposal(p) if p.tc.is_some() => Some(p.clone()),
        _ => None,
    });
    let p = tc_proposal.expect("a proposal justified by a TC");
    assert_eq!(p.round, 3);
    assert_eq!(p.tc.as_ref().map(|t| t.round), Some(2));
    // Rounds 3-4 led by node 1: a two-chain with consecutive rounds commits height 1, and
    // later leaders keep going (node 0's next term times out again, handled the same way).
    for i in 1..4u32 {
        assert!(!net.commits(i).is_empty(), "node {i} committed nothing");
    }
}

#[test]
fn locking_rule_refuses_a_stale_justification_without_tc() {
    let (mut net, _, ks) = Net::new(4, Topology::round_robin(4, 2));
    net.start();
    net.run_until(3, 10_000);
    let r = net.nodes[3].round();
    assert!(r > 3);
    // A proposal for the current round that extends genesis again (round-0 justification),
    // with no TC: node 3 must not vote (no Validate).
    let leader = u16::try_from(Bbft::leader_index(&net.nodes[3].epoch_set(), 2, r)).unwrap();
    let payload = vec![42];
    let block = BlockId::compute(1, &BlockId::default(), &payload);
    let p = Proposal {
        epoch: 0,
        round: r,
        height: 1,
        parent: BlockId::default(),
        justify: Justify::Genesis,
        tc: None,
        payload: payload.into(),
        proposer: leader,
        signature: ks[usize::from(leader)].sign(&ProposalHeader::signing_bytes(0, r, &block)),
    };
    let before = net.effects.len();
    net.input(
        3,
        Input::Message {
            from: u32::from(leader),
            message: Message::Proposal(Box::new(p)),
        },
    );
    assert!(
        !net.effects[before..]
            .iter()
            .any(|(_, e)| matches!(e, Effect::Validate { .. }))
    );
}

#[test]
fn persist_precedes_vote_and_restore_never_votes_twice() {
    let (mut net, set, ks) = Net::new(4, Topology::round_robin(4, 2));
    net.start();
    // Node 0's own effects on start: it leads round 1 and votes; Persist comes before the vote.
    let effs: Vec<&Effect> = net
        .effects
        .iter()
        .filter(|(n, _)| *n == 0)
        .map(|(_, e)| e)
        .collect();
    let persist = effs
        .iter()
        .position(|e| matches!(e, Effect::Persist(p) if p.last_voted_round == 1));
    assert!(persist.is_some());
    let state = net.nodes[0].persisted();
    assert_eq!(state.last_voted_round, 1);
    let mut again = Bbft::restore(cfg(0), ks[0].clone(), Arc::new(Bls), vec![epoch0(set)], state).unwrap();
    let eff = again.step(Input::Start);
    // Restarted in round 1 it would lead again, but it must not vote a second time in round 1.
    let eff2: Vec<Effect> = eff
        .into_iter()
        .filter_map(|e| match e {
            Effect::RequestProposal { epoch, round, .. } => Some(again.step(Input::Propose {
                epoch,
                round,
                payload: vec![9].into(),
            })),
            _ => None,
        })
        .flatten()
        .collect();
    assert!(!eff2.iter().any(|e| matches!(e, Effect::Validate { .. })));
    assert!(!eff2.iter().any(|e| matches!(
        e,
        Effect::Send {
            message: Message::Vote(_),
            ..
        }
    )));
}

/// A payload's id is the same computed from bytes or from the shared digest, clones share the
/// digest (computed once), and equality is of bytes, never of the cache.
#[test]
fn payload_ids_match_and_clones_share_the_digest() {
    let parent = BlockId([7; 32]);
    let bytes: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
    let p = Payload::from(bytes.clone());
    let copy = p.clone();
    assert_eq!(BlockId::of(3, &parent, &p), BlockId::compute(3, &parent, &bytes));
    // Computed through `p`; `copy` holds it without hashing.
    assert!(std::ptr::eq(p.digest(), copy.digest()));
    assert_eq!(
        BlockId::of(4, &parent, &copy),
        BlockId::compute(4, &parent, &bytes)
    );
    assert_ne!(BlockId::of(3, &parent, &p), BlockId::of(4, &parent, &p));
    // Another payload with the same bytes is equal without a digest; different bytes are not.
    assert_eq!(Payload::from(&bytes[..]), p);
    let mut other = bytes.clone();
    other[0] ^= 1;
    let other = Payload::from(other);
    assert_ne!(other, p);
    assert_ne!(BlockId::of(3, &parent, &other), BlockId::of(3, &parent, &p));
}

#[test]
fn codec_round_trips_every_message() {
    let ks = keys(4);
    let d = data(3, 5);
    let qc = cert(&ks, &[0, 1, 2], d, 4);
    let tc = TimeoutCert {
        epoch: 0,
        round: 2,
        parts: vec![TcPart {
            high_qc_round: 1,
            signers: qc.signers.clone(),
            signature: qc.signature,
        }],
    };
    let msgs = vec![
        Message::Proposal(Box::new(Proposal {
            epoch: 0,
            round: 3,
            height: 2,
            parent: BlockId([1; 32]),
            justify: Justify::Qc(qc.clone()),
            tc: Some(tc.clone()),
            payload: vec![1, 2, 3].into(),
            proposer: 1,
            signature: qc.signature,
        })),
        Message::Vote(vote(&ks[1], 1, d)),
        Message::Aggregate(qc.clone()),
        Message::Certificate(qc.clone()),
        Message::Timeout(Box::new(Timeout {
            epoch: 0,
            round: 3,
            high_qc: Some(qc.clone()),
            last_tc: Some(tc.clone()),
            signer: 2,
            signature: qc.signature,
        })),
        Message::TimeoutCert(Box::new(tc)),
        Message::Subscribe {
            epoch: 1,
            until_round: 9,
        },
    ];
    for m in msgs {
        let b = encode(&m);
        assert_eq!(decode(&b, &Limits::default()).unwrap(), m);
        // Every strict prefix fails cleanly; trailing bytes are refused.
        for cut in 0..b.len() {
            assert!(decode(&b[..cut], &Limits::default()).is_err());
        }
        let mut long = b.clone();
        long.push(0);
        assert_eq!(decode(&long, &Limits::default()), Err(DecodeError::Trailing(1)));
    }
}

#[test]
fn codec_enforces_limits() {
    let ks = keys(1);
    let p = Message::Proposal(Box::new(Proposal {
        epoch: 0,
        round: 1,
        height: 1,
        parent: BlockId::default(),
        justify: Justify::Genesis,
        tc: None,
        payload: vec![0; 100].into(),
        proposer: 0,
        signature: ks[0].sign(b"x"),
    }));
    let b = encode(&p);
    assert!(matches!(
        decode(&b, &Limits { max_payload: 99 }),
        Err(DecodeError::TooLong { .. })
    ));
    assert!(decode(&b, &Limits { max_payload: 100 }).is_ok());
    assert_eq!(decode(&[99], &Limits::default()), Err(DecodeError::Tag(99)));
    assert_eq!(decode(&[], &Limits::default()), Err(DecodeError::Truncated));
}

#[test]
fn topology_from_latency_picks_one_super_per_region() {
    // Six validators in two regions (0-2 and 3-5), 1 ms inside, 80 ms across.
    let lat: Vec<Vec<u32>> = (0..6)
        .map(|i| (0..6).map(|j| if (i < 3) == (j < 3) { 1 } else { 80 }).collect())
        .collect();
    let t = Topology::from_latency(&[1, 5, 1, 1, 1, 2], &lat, 2);
    // Ties on latency are broken by stake: 1 in region A, 5 in region B.
    assert_eq!(t.supers, vec![1, 5]);
    assert_eq!(t.assignment, vec![0, 0, 0, 1, 1, 1]);
    assert_eq!(Topology::default_m(100), 10);
    assert_eq!(Topology::default_m(10), 3);
    assert_eq!(Topology::default_m(1), 1);
}

#[test]
fn leaders_rotate_super_nodes_first_then_everyone() {
    let ks = keys(5);
    let set = set_with(
        &ks,
        &[1; 5],
        Topology {
            supers: vec![3, 1],
            assignment: vec![1, 1, 0, 0, 1],
        },
    );
    let order: Vec<usize> = (1..=10).map(|r| Bbft::leader_index(&set, 2, r)).collect();
    assert_eq!(order, vec![3, 3, 1, 1, 0, 0, 2, 2, 4, 4]);
}

#[test]
fn member_falls_back_when_its_super_node_lies_or_is_silent() {
    let ks = keys(4);
    let set = set_with(&ks, &[1; 4], Topology::round_robin(4, 2));
    // Validator 2 reports to super node 0; the next super node is 1.
    let mut node = Bbft::new(
        cfg(2),
        ks[2].clone(),
        Arc::new(Bls),
        vec![epoch0(Arc::clone(&set))],
        BlockId::default(),
    )
    .unwrap();
    let _ = node.step(Input::Start);
    assert_eq!(node.fallback_level(), 0);
    // Its super node sends a certificate whose bitmap claims a signer that did not sign.
    let mut bad = cert(&ks, &[0, 1], data(1, 3), 4);
    bad.signers.set(3);
    let eff = node.step(Input::Message {
        from: 0,
        message: Message::Certificate(bad),
    });
    assert_eq!(node.fallback_level(), 1);
    assert!(eff.iter().any(|e| matches!(
        e,
        Effect::Send {
            to: 1,
            message: Message::Subscribe { .. }
        }
    )));
    // A round that fails without its super node's certificate: all-to-all.
    let eff = node.step(Input::TimerFired(Timer::Round { epoch: 0, round: 1 }));
    assert_eq!(node.fallback_level(), 2);
    assert!(eff.iter().any(|e| matches!(
        e,
        Effect::SendToGroup {
            message: Message::Subscribe { .. },
            ..
        }
    )));
    assert!(eff.iter().any(|e| matches!(
        e,
        Effect::SendToGroup {
            message: Message::Timeout(_),
            ..
        }
    )));
    // The timeout was persisted as "voted" in round 1: no vote in round 1 after a restart.
    assert_eq!(node.persisted().last_voted_round, 1);
}

fn two_epochs(set: &Arc<ValidatorSet>, last: u64) -> Vec<Epoch> {
    vec![
        Epoch {
            index: 0,
            first_height: 1,
            last_height: last,
            set: Arc::clone(set),
        },
        Epoch {
            index: 1,
            first_height: last + 1,
            last_height: u64::MAX,
            set: Arc::clone(set),
        },
    ]
}

fn rejected(eff: &[Effect]) -> Vec<Reject> {
    eff.iter()
        .filter_map(|e| match e {
            Effect::Rejected { reason, .. } => Some(*reason),
            _ => None,
        })
        .collect()
}

fn sent_messages(eff: &[Effect]) -> Vec<&Message> {
    eff.iter()
        .filter_map(|e| match e {
            Effect::Send { message, .. } | Effect::SendToGroup { message, .. } => Some(message),
            _ => None,
        })
        .collect()
}

/// Runs four validators across an epoch boundary at height 2 with the proposal of round 3
/// (height 3, the first block past the end) lost; returns the network after everyone reached
/// height 4 (epoch 1). Two-chain rule alone: with the commit phase, height 2 is final by its
/// own commit certificate in round 2 and no suffix block is ever needed.
fn boundary_with_lost_proposal() -> (Net, Arc<ValidatorSet>, Vec<SecretKey>) {
    let ks = keys(4);
    let set = set_with(&ks, &[1; 4], Topology::round_robin(4, 2));
    let mut net = Net::with_epochs_cfg(&ks, &two_epochs(&set, 2), false);
    net.drop = Box::new(|_, _, m| matches!(m, Message::Proposal(p) if p.epoch == 0 && p.round == 3));
    net.start();
    net.run(20_000);
    assert!(net.nodes.iter().all(|n| n.epoch() == 0 && n.round() == 3));
    // The round-3 proposal never arrived: everyone times out; the view change goes on.
    for i in 0..4u32 {
        net.input(i, Input::TimerFired(Timer::Round { epoch: 0, round: 3 }));
    }
    net.run_until(4, 5_000);
    (net, set, ks)
}

#[test]
fn epoch_boundary_commits_the_last_block_from_a_descendant_certificate() {
    let (net, set, _) = boundary_with_lost_proposal();
    let reference = net.commits_full(0);
    for i in 0..4u32 {
        let c = net.commits_full(i);
        let eh: Vec<(u64, u64)> = c.iter().map(|(e, h, _, _)| (*e, *h)).collect();
        assert!(c.len() >= 4, "node {i} committed {eh:?}");
        assert_eq!(eh[..4], [(0, 1), (0, 2), (1, 3), (1, 4)], "node {i}");
        // Same blocks everywhere, every proof verifies.
        for (a, b) in c.iter().zip(&reference) {
            assert_eq!(a.2, b.2);
        }
        for (_, _, _, proof) in &c {
            assert!(proof.verify_quorum(&set, &Bls));
        }
        // Height 2 (the epoch's last) was finalized by a certificate above height 3: the
        // two-chain at heights 3-4 (the height-3 certificate alone has a round gap).
        let (_, _, _, proof) = &c[1];
        assert_eq!(proof.data.epoch, 0);
        assert!(proof.data.height >= 4, "{:?}", proof.data);
    }
}

#[test]
fn straggler_accepts_a_descendant_anchor_proof_and_switches() {
    let (net, set, ks) = boundary_with_lost_proposal();
    // The first proposal of epoch 1 carries the anchor proof.
    let first = net
        .sent
        .iter()
        .find_map(|(_, _, m)| match m {
            Message::Proposal(p) if p.epoch == 1 => Some(p.clone()),
            _ => None,
        })
        .expect("an epoch-1 proposal");
    let Justify::Anchor(proof) = &first.justify else {
        panic!("first proposal of an epoch must carry Justify::Anchor");
    };
    assert!(proof.data.height > 3);
    // A node that saw nothing of epoch 0 joins from it.
    let mut fresh = Bbft::new(
        cfg(3),
        ks[3].clone(),
        Arc::new(Bls),
        two_epochs(&set, 2),
        BlockId::default(),
    )
    .unwrap();
    let _ = fresh.step(Input::Start);
    let eff = fresh.step(Input::Message {
        from: 0,
        message: Message::Proposal(first.clone()),
    });
    assert_eq!(rejected(&eff), vec![]);
    assert_eq!(fresh.epoch(), 1);
    assert_eq!(fresh.committed(), (2, first.parent));
    assert!(
        eff.iter()
            .any(|e| matches!(e, Effect::Validate { height: 3, .. }))
    );
    // A proof whose suffix chain does not lead to the claimed parent is refused.
    let mut fresh = Bbft::new(
        cfg(3),
        ks[3].clone(),
        Arc::new(Bls),
        two_epochs(&set, 2),
        BlockId::default(),
    )
    .unwrap();
    let _ = fresh.step(Input::Start);
    let mut wrong = first.clone();
    wrong.parent = BlockId([7; 32]);
    wrong.signature = ks[0].sign(&ProposalHeader::signing_bytes(1, wrong.round, &wrong.block_id()));
    let eff = fresh.step(Input::Message {
        from: 0,
        message: Message::Proposal(wrong),
    });
    assert_eq!(rejected(&eff), vec![Reject::BadProposal]);
    assert_eq!(fresh.epoch(), 0);
    assert_eq!(fresh.committed().0, 0);
}

#[test]
fn anchor_proof_is_compared_semantically() {
    let (net, set, ks) = boundary_with_lost_proposal();
    let first = net
        .sent
        .iter()
        .find_map(|(_, _, m)| match m {
            Message::Proposal(p) if p.epoch == 1 && p.round == 1 => Some(p.clone()),
            _ => None,
        })
        .expect("an epoch-1 proposal");
    let Justify::Anchor(proof) = first.justify.clone() else {
        panic!("no anchor proof");
    };
    // Another valid aggregate for the same vote data, by a different quorum.
    let others: Vec<usize> = (0..4)
        .filter(|&i| i != proof.signers.ones().next().unwrap())
        .collect();
    let other = cert(&ks, &others[..3], proof.data, 4);
    assert_ne!(other, proof);
    assert!(other.verify_quorum(&set, &Bls));
    // A node already in epoch 1 with `proof` as its anchor, restarted before round 1.
    let state = PersistedState {
        epoch: 1,
        anchor: Anchor {
            height: 2,
            block: first.parent,
            proof: Some(proof.clone()),
        },
        last_voted_round: 0,
        high_qc: None,
        committed: (2, first.parent),
        ..net.nodes[2].persisted()
    };
    let mk = || {
        Bbft::restore(
            cfg(2),
            ks[2].clone(),
            Arc::new(Bls),
            two_epochs(&set, 2),
            state.clone(),
        )
        .unwrap()
    };
    let mut node = mk();
    let _ = node.step(Input::Start);
    let mut p = first.clone();
    p.justify = Justify::Anchor(other);
    let eff = node.step(Input::Message {
        from: 0,
        message: Message::Proposal(p),
    });
    assert_eq!(rejected(&eff), vec![]);
    assert!(
        eff.iter()
            .any(|e| matches!(e, Effect::Validate { height: 3, .. }))
    );
    // Without a quorum, or with a bitmap that does not match the aggregate, it is refused.
    for bad in [cert(&ks, &others[..2], proof.data, 4), {
        let mut f = cert(&ks, &others[..2], proof.data, 4);
        f.signers.set(others[2]);
        f
    }] {
        let mut node = mk();
        let _ = node.step(Input::Start);
        let mut p = first.clone();
        p.justify = Justify::Anchor(bad);
        let eff = node.step(Input::Message {
            from: 0,
            message: Message::Proposal(p),
        });
        assert_eq!(rejected(&eff), vec![Reject::BadProposal]);
        assert!(!eff.iter().any(|e| matches!(e, Effect::Validate { .. })));
    }
}

#[test]
fn restarted_leader_resends_its_proposal_and_never_signs_another() {
    let ks = keys(4);
    let set = set_with(&ks, &[1; 4], Topology::round_robin(4, 2));
    let mut node = Bbft::new(
        cfg(0),
        ks[0].clone(),
        Arc::new(Bls),
        vec![epoch0(Arc::clone(&set))],
        BlockId::default(),
    )
    .unwrap();
    let eff = node.step(Input::Start);
    assert!(
        eff.iter()
            .any(|e| matches!(e, Effect::RequestProposal { round: 1, .. }))
    );
    let eff = node.step(Input::Propose {
        epoch: 0,
        round: 1,
        payload: vec![1].into(),
    });
    let send_at = eff
        .iter()
        .position(|e| {
            sent_messages(std::slice::from_ref(e))
                .iter()
                .any(|m| matches!(m, Message::Proposal(_)))
        })
        .expect("the proposal is sent");
    let Some(Message::Proposal(sent)) = sent_messages(&eff[send_at..]).first().copied().cloned() else {
        panic!("no proposal");
    };
    // The host persists in order: the state durable when the proposal left is the last
    // Persist before the Send. The node crashes right after sending.
    let state = eff[..send_at]
        .iter()
        .rev()
        .find_map(|e| match e {
            Effect::Persist(s) => Some(s.clone()),
            _ => None,
        })
        .expect("a Persist before the proposal's Send");
    let mut again = Bbft::restore(cfg(0), ks[0].clone(), Arc::new(Bls), vec![epoch0(set)], state).unwrap();
    let eff = again.step(Input::Start);
    assert!(!eff.iter().any(|e| matches!(e, Effect::RequestProposal { .. })));
    let resent: Vec<&Message> = sent_messages(&eff)
        .into_iter()
        .filter(|m| matches!(m, Message::Proposal(_)))
        .collect();
    // T0 to the other super node and T1 to its members: the very proposal signed before.
    assert!(!resent.is_empty());
    assert!(resent.iter().all(|m| **m == Message::Proposal(sent.clone())));
    // A late payload from the host does not produce a second, different proposal.
    let eff = again.step(Input::Propose {
        epoch: 0,
        round: 1,
        payload: vec![2].into(),
    });
    assert!(
        !sent_messages(&eff)
            .iter()
            .any(|m| matches!(m, Message::Proposal(p) if p.block_id() != sent.block_id()))
    );
}

fn tc_part(ks: &[SecretKey], who: &[usize], round: u64, hqr: u64) -> TcPart {
    let mut signers = Bitmap::new(ks.len());
    let sigs: Vec<Signature> = who
        .iter()
        .map(|&i| {
            signers.set(i);
            ks[i].sign(&Timeout::signing_bytes(0, round, hqr))
        })
        .collect();
    TcPart {
        high_qc_round: hqr,
        signers,
        signature: Signature::aggregate(&sigs).unwrap(),
    }
}

#[test]
fn timeout_certificate_parts_must_report_an_earlier_round() {
    let ks = keys(4);
    let set = set_with(&ks, &[1; 4], Topology::round_robin(4, 2));
    let tc = |hqr| TimeoutCert {
        epoch: 0,
        round: 2,
        parts: vec![tc_part(&ks, &[0, 1, 2], 2, hqr)],
    };
    assert!(tc(1).verify(&set, &Bls));
    // A timeout for round 2 can only carry a certificate from round 0 or 1.
    assert!(!tc(2).verify(&set, &Bls));
    assert!(!tc(9).verify(&set, &Bls));
    let mut node = Bbft::new(
        cfg(3),
        ks[3].clone(),
        Arc::new(Bls),
        vec![epoch0(Arc::clone(&set))],
        BlockId::default(),
    )
    .unwrap();
    let _ = node.step(Input::Start);
    let eff = node.step(Input::Message {
        from: 0,
        message: Message::TimeoutCert(Box::new(tc(2))),
    });
    assert_eq!(rejected(&eff), vec![Reject::BadSignature]);
    assert_eq!(node.round(), 1);
    let _ = node.step(Input::Message {
        from: 0,
        message: Message::TimeoutCert(Box::new(tc(1))),
    });
    assert_eq!(node.round(), 3);
}

#[test]
fn only_verified_timeouts_are_answered() {
    let (mut net, _, ks) = Net::new(4, Topology::round_robin(4, 2));
    net.start();
    net.run_until(3, 10_000);
    assert!(net.nodes[0].round() > 2);
    let timeout = |signature| Timeout {
        epoch: 0,
        round: 1,
        high_qc: None,
        last_tc: None,
        signer: 2,
        signature,
    };
    let junk = timeout(ks[0].sign(b"junk"));
    let eff = net.nodes[0].step(Input::Message {
        from: 2,
        message: Message::Timeout(Box::new(junk)),
    });
    assert!(sent_messages(&eff).is_empty(), "{eff:?}");
    assert_eq!(rejected(&eff), vec![Reject::BadSignature]);
    let signed = timeout(ks[2].sign(&Timeout::signing_bytes(0, 1, 0)));
    let eff = net.nodes[0].step(Input::Message {
        from: 2,
        message: Message::Timeout(Box::new(signed)),
    });
    assert!(
        sent_messages(&eff)
            .iter()
            .any(|m| matches!(m, Message::Certificate(_)))
    );
}

#[test]
fn previous_epoch_timeouts_are_answered_only_when_signed() {
    let (mut net, _, ks) = boundary_with_lost_proposal();
    assert_eq!(net.nodes[0].epoch(), 1);
    let timeout = |signature| Timeout {
        epoch: 0,
        round: 5,
        high_qc: None,
        last_tc: None,
        signer: 2,
        signature,
    };
    let eff = net.nodes[0].step(Input::Message {
        from: 2,
        message: Message::Timeout(Box::new(timeout(ks[0].sign(b"junk")))),
    });
    assert!(sent_messages(&eff).is_empty(), "{eff:?}");
    let eff = net.nodes[0].step(Input::Message {
        from: 2,
        message: Message::Timeout(Box::new(timeout(ks[2].sign(&Timeout::signing_bytes(0, 5, 0))))),
    });
    assert!(
        sent_messages(&eff)
            .iter()
            .any(|m| matches!(m, Message::Certificate(c) if c.data.epoch == 0))
    );
}

#[test]
fn aggregates_per_sender_and_per_round_are_bounded() {
    let ks = keys(4);
    let set = set_with(&ks, &[1; 4], Topology::round_robin(4, 2));
    let mut node = Bbft::new(
        cfg(2),
        ks[2].clone(),
        Arc::new(Bls),
        vec![epoch0(Arc::clone(&set))],
        BlockId::default(),
    )
    .unwrap();
    let _ = node.step(Input::Start);
    let agg = |node: &mut Bbft, from: u32, d: VoteData| {
        let eff = node.step(Input::Message {
            from,
            message: Message::Aggregate(cert(&ks, &[from as usize], d, 4)),
        });
        rejected(&eff)
    };
    // A Byzantine sender may not make this node keep aggregates for arbitrarily many blocks.
    assert_eq!(agg(&mut node, 1, data(1, 10)), vec![]);
    assert_eq!(agg(&mut node, 1, data(1, 11)), vec![]);
    assert_eq!(agg(&mut node, 1, data(1, 12)), vec![Reject::Flood]);
    assert_eq!(agg(&mut node, 3, data(1, 13)), vec![]);
    assert_eq!(agg(&mut node, 3, data(1, 14)), vec![]);
    assert_eq!(agg(&mut node, 3, data(1, 15)), vec![Reject::Flood]);
    // Nor several senders together beyond the per-round bound.
    assert_eq!(agg(&mut node, 0, data(1, 16)), vec![Reject::Flood]);
    // The block this node saw proposed is always accepted, so the bound costs no liveness.
    let payload = vec![5];
    let block = BlockId::compute(1, &BlockId::default(), &payload);
    let p = Proposal {
        epoch: 0,
        round: 1,
        height: 1,
        parent: BlockId::default(),
        justify: Justify::Genesis,
        tc: None,
        payload: payload.into(),
        proposer: 0,
        signature: ks[0].sign(&ProposalHeader::signing_bytes(0, 1, &block)),
    };
    let _ = node.step(Input::Message {
        from: 0,
        message: Message::Proposal(Box::new(p)),
    });
    let d = VoteData { block, ..data(1, 0) };
    for from in [0, 1, 3] {
        assert_eq!(agg(&mut node, from, d), vec![]);
    }
    assert_eq!(node.high_qc().map(|q| q.data), Some(d));
    assert_eq!(node.round(), 2);
}

/// FBFT (one aggregator) with seven validators: node 0 leads round 1 and collects every vote.
/// Returns the aggregator after its own proposal and vote, with the work counter reset.
fn aggregator_of_seven() -> (Bbft, Arc<ValidatorSet>, Vec<SecretKey>, VoteData) {
    let ks = keys(7);
    let set = set_with(&ks, &[1; 7], Topology::round_robin(7, 1));
    let mut node = Bbft::new(
        cfg(0),
        ks[0].clone(),
        Arc::new(Bls),
        vec![epoch0(Arc::clone(&set))],
        BlockId::default(),
    )
    .unwrap();
    let _ = node.step(Input::Start);
    let eff = node.step(Input::Propose {
        epoch: 0,
        round: 1,
        payload: vec![3].into(),
    });
    let Some(Effect::Validate { block, .. }) = eff.iter().find(|e| matches!(e, Effect::Validate { .. }))
    else {
        panic!("own proposal not validated");
    };
    let block = *block;
    let _ = node.step(Input::Validated {
        epoch: 0,
        round: 1,
        block,
        valid: true,
    });
    let d = VoteData { block, ..data(1, 0) };
    let _ = node.take_verify_work();
    (node, set, ks, d)
}

fn formed_qc(eff: &[Effect]) -> Option<Certificate> {
    sent_messages(eff).into_iter().find_map(|m| match m {
        Message::Certificate(c) => Some(c.clone()),
        _ => None,
    })
}

#[test]
fn optimistic_verification_checks_a_quorum_of_votes_with_one_pairing() {
    let (mut node, set, ks, d) = aggregator_of_seven();
    // Quorum is 5 of 7: the aggregator's own vote plus four more. Until the buffered votes
    // could complete it, nothing is verified.
    for (i, k) in ks.iter().enumerate().take(4).skip(1) {
        let eff = node.step(Input::Message {
            from: u32::try_from(i).unwrap(),
            message: Message::Vote(vote(k, u16::try_from(i).unwrap(), d)),
        });
        assert!(formed_qc(&eff).is_none());
    }
    assert_eq!(node.take_verify_work().pairing_checks, 0);
    let eff = node.step(Input::Message {
        from: 4,
        message: Message::Vote(vote(&ks[4], 4, d)),
    });
    let qc = formed_qc(&eff).expect("certificate");
    assert!(qc.verify_quorum(&set, &Bls));
    assert_eq!(qc.signers.ones().collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    // One pairing for four votes (one by one it was four); four signatures into the batch,
    // then the own vote and the batch into the certificate.
    let work = node.take_verify_work();
    assert_eq!(
        work,
        VerifyWork {
            pairing_checks: 1,
            signatures_aggregated: 4 + 2
        }
    );
    // Reset on read.
    assert_eq!(node.take_verify_work(), VerifyWork::default());
}

#[test]
fn optimistic_verification_rejects_a_bad_vote_and_keeps_the_good_ones() {
    let (mut node, set, ks, d) = aggregator_of_seven();
    let mut all = Vec::new();
    for i in 1..5usize {
        // Validator 3 sends a signature over other data under its own name.
        let v = if i == 3 {
            Vote {
                signature: ks[3].sign(&data(1, 77).signing_bytes()),
                ..vote(&ks[3], 3, d)
            }
        } else {
            vote(&ks[i], u16::try_from(i).unwrap(), d)
        };
        all.extend(node.step(Input::Message {
            from: u32::try_from(i).unwrap(),
            message: Message::Vote(v),
        }));
    }
    // The batch of four failed, each was then checked alone: 3 is rejected, no certificate yet
    // (four good votes of seven).
    assert_eq!(
        all.iter()
            .filter_map(|e| match e {
                Effect::Rejected { from, reason } => Some((*from, *reason)),
                _ => None,
            })
            .collect::<Vec<_>>(),
        vec![(3, Reject::BadSignature)]
    );
    assert!(formed_qc(&all).is_none());
    assert_eq!(node.take_verify_work().pairing_checks, 1 + 4);
    // One more good vote completes the quorum from the kept votes.
    let eff = node.step(Input::Message {
        from: 5,
        message: Message::Vote(vote(&ks[5], 5, d)),
    });
    let qc = formed_qc(&eff).expect("certificate");
    assert!(qc.verify_quorum(&set, &Bls));
    assert_eq!(qc.signers.ones().collect::<Vec<_>>(), vec![0, 1, 2, 4, 5]);
    assert_eq!(node.take_verify_work().pairing_checks, 1);
    // Validator 3 may still vote correctly this round (its forged vote was dropped), and an
    // honest second vote for other data is then evidence.
    let eff = node.step(Input::Message {
        from: 3,
        message: Message::Vote(vote(&ks[3], 3, d)),
    });
    assert_eq!(rejected(&eff), vec![]);
}

#[test]
fn buffered_vote_equivocation_still_yields_evidence() {
    let (mut node, set, ks, d) = aggregator_of_seven();
    let _ = node.step(Input::Message {
        from: 2,
        message: Message::Vote(vote(&ks[2], 2, d)),
    });
    let eff = node.step(Input::Message {
        from: 2,
        message: Message::Vote(vote(&ks[2], 2, data(1, 9))),
    });
    let ev = eff
        .iter()
        .find_map(|e| match e {
            Effect::Evidence(ev) => Some(ev.clone()),
            _ => None,
        })
        .expect("evidence");
    assert!(ev.verify(&set, &Bls));
    assert_eq!(ev.offender(), 2);
}

#[test]
fn a_justification_already_certified_is_not_verified_again_and_is_forwarded_as_held() {
    let ks = keys(4);
    let set = set_with(&ks, &[1; 4], Topology::round_robin(4, 2));
    let mk = |me: u32| {
        Bbft::new(
            cfg(me),
            ks[me as usize].clone(),
            Arc::new(Bls),
            vec![epoch0(Arc::clone(&set))],
            BlockId::default(),
        )
        .unwrap()
    };
    // Round 1's block and two different quorum aggregates of its vote data.
    let d = VoteData {
        block: BlockId::compute(1, &BlockId::default(), &[1]),
        ..data(1, 0)
    };
    let held = cert(&ks, &[0, 2, 3], d, 4);
    let other = cert(&ks, &[0, 1, 2], d, 4);
    // Round 2 (leader: node 0) proposes height 2 justified by `other`.
    let payload = vec![2];
    let block = BlockId::compute(2, &d.block, &payload);
    let p = Proposal {
        epoch: 0,
        round: 2,
        height: 2,
        parent: d.block,
        justify: Justify::Qc(other.clone()),
        tc: None,
        payload: payload.into(),
        proposer: 0,
        signature: ks[0].sign(&ProposalHeader::signing_bytes(0, 2, &block)),
    };
    // Member 3 got `held` from its super node (node 1) in T4: one pairing.
    let mut member = mk(3);
    let _ = member.step(Input::Start);
    let _ = member.step(Input::Message {
        from: 1,
        message: Message::Certificate(held.clone()),
    });
    assert_eq!(member.round(), 2);
    assert_eq!(member.take_verify_work().pairing_checks, 1);
    // The proposal: only its signature is checked, and the member votes.
    let eff = member.step(Input::Message {
        from: 1,
        message: Message::Proposal(Box::new(p.clone())),
    });
    assert!(eff.iter().any(|e| matches!(e, Effect::Validate { round: 2, .. })));
    assert_eq!(member.take_verify_work().pairing_checks, 1);
    // Super node 1 holding `held` forwards the proposal (T1) with `held` as its justification,
    // the proposer's signature still valid.
    let mut sup = mk(1);
    let _ = sup.step(Input::Start);
    let _ = sup.step(Input::Message {
        from: 0,
        message: Message::Certificate(held.clone()),
    });
    let eff = sup.step(Input::Message {
        from: 0,
        message: Message::Proposal(Box::new(p)),
    });
    let fwd = sent_messages(&eff)
        .into_iter()
        .find_map(|m| match m {
            Message::Proposal(f) => Some(f.clone()),
            _ => None,
        })
        .expect("T1 forward");
    assert_eq!(fwd.justify, Justify::Qc(held));
    assert!(Bls.verify(
        &fwd.signature,
        &[set.get(0).unwrap().key],
        &ProposalHeader::signing_bytes(0, 2, &fwd.block_id())
    ));
}

/// A node of seven with topology `topo`, started (round 1), its work counter reset.
fn node_of_seven(topo: Topology) -> (Bbft, Arc<ValidatorSet>, Vec<SecretKey>) {
    let ks = keys(7);
    let set = set_with(&ks, &[1; 7], topo);
    let mut node = Bbft::new(
        cfg(0),
        ks[0].clone(),
        Arc::new(Bls),
        vec![epoch0(Arc::clone(&set))],
        BlockId::default(),
    )
    .unwrap();
    let _ = node.step(Input::Start);
    let _ = node.take_verify_work();
    (node, set, ks)
}

fn aggregate_from(node: &mut Bbft, from: u32, c: Certificate) -> Vec<Effect> {
    node.step(Input::Message {
        from,
        message: Message::Aggregate(c),
    })
}

#[test]
fn a_batch_of_aggregates_costs_one_pairing() {
    // PBFT (M = N): votes travel as single-signer T3 aggregates. Quorum is 5 of 7.
    let (mut node, set, ks) = node_of_seven(Topology::pbft(7));
    let d = data(1, 1);
    for i in 1..5usize {
        let eff = aggregate_from(&mut node, u32::try_from(i).unwrap(), cert(&ks, &[i], d, 7));
        assert_eq!(rejected(&eff), vec![]);
        assert!(node.high_qc().is_none());
    }
    // Four buffered aggregates cannot complete a quorum: nothing verified yet.
    assert_eq!(node.take_verify_work().pairing_checks, 0);
    let eff = aggregate_from(&mut node, 5, cert(&ks, &[5], d, 7));
    assert_eq!(rejected(&eff), vec![]);
    let qc = node.high_qc().cloned().expect("certificate");
    assert_eq!(qc.data, d);
    assert!(qc.verify_quorum(&set, &Bls));
    assert_eq!(qc.signers.ones().collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
    assert_eq!(node.round(), 2);
    // Five aggregates, one pairing (one each before): five signatures into the batch, then
    // the batch alone into the certificate, then its own commit vote into its T3 aggregate.
    assert_eq!(
        node.take_verify_work(),
        VerifyWork {
            pairing_checks: 1,
            signatures_aggregated: 5 + 1 + 1
        }
    );
}

#[test]
fn a_bad_aggregate_among_good_ones_is_rejected_and_the_rest_certify() {
    let (mut node, set, ks) = node_of_seven(Topology::pbft(7));
    let d = data(1, 1);
    let mut all = Vec::new();
    for i in 1..6usize {
        let mut c = cert(&ks, &[i], d, 7);
        if i == 3 {
            // Validator 3 signs other data under this data's name.
            c.signature = ks[3].sign(&data(1, 77).signing_bytes());
        }
        all.extend(aggregate_from(&mut node, u32::try_from(i).unwrap(), c));
    }
    // The batch of five failed; each was then checked alone: 3 rejected, four good ones kept,
    // no certificate (four of seven).
    assert_eq!(
        all.iter()
            .filter_map(|e| match e {
                Effect::Rejected { from, reason } => Some((*from, *reason)),
                _ => None,
            })
            .collect::<Vec<_>>(),
        vec![(3, Reject::BadSignature)]
    );
    assert!(node.high_qc().is_none());
    assert_eq!(node.take_verify_work().pairing_checks, 1 + 5);
    // A sender that sent an invalid aggregate is ignored for the rest of the round.
    let eff = aggregate_from(&mut node, 3, cert(&ks, &[3], d, 7));
    assert!(eff.is_empty());
    assert!(node.high_qc().is_none());
    assert_eq!(node.take_verify_work().pairing_checks, 0);
    // One more good aggregate completes the quorum with the kept ones (checked alone: one
    // pairing), which were never checked again.
    let eff = aggregate_from(&mut node, 6, cert(&ks, &[6], d, 7));
    assert_eq!(rejected(&eff), vec![]);
    let qc = node.high_qc().cloned().expect("certificate");
    assert!(qc.verify_quorum(&set, &Bls));
    assert_eq!(qc.signers.ones().collect::<Vec<_>>(), vec![1, 2, 4, 5, 6]);
    assert_eq!(node.take_verify_work().pairing_checks, 1);
}

#[test]
fn a_forged_bitmap_in_a_batch_of_aggregates_is_rejected() {
    // M = 3: groups {0, 3, 6}, {1, 4}, {2, 5}; node 0 is a super node.
    let (mut node, set, ks) = node_of_seven(Topology::round_robin(7, 3));
    let d = data(1, 1);
    let eff = aggregate_from(&mut node, 1, cert(&ks, &[1, 4], d, 7));
    assert_eq!(rejected(&eff), vec![]);
    // Super node 2 claims {2, 5, 6}, but only 2 signed: with {1, 4} the claimed signers could
    // complete a quorum, so the batch is checked, fails, and each is checked alone.
    let mut forged = cert(&ks, &[2], d, 7);
    forged.signers.set(5);
    forged.signers.set(6);
    let eff = aggregate_from(&mut node, 2, forged);
    assert_eq!(rejected(&eff), vec![Reject::BadSignature]);
    assert!(node.high_qc().is_none());
    assert_eq!(node.take_verify_work().pairing_checks, 1 + 2);
    // The forged signers never count: votes from 3, 5 and 6 with the verified {1, 4} make the
    // certificate, which holds only real signatures.
    let mut last = Vec::new();
    for i in [3usize, 5, 6] {
        last = node.step(Input::Message {
            from: u32::try_from(i).unwrap(),
            message: Message::Vote(vote(&ks[i], u16::try_from(i).unwrap(), d)),
        });
        assert_eq!(rejected(&last), vec![]);
    }
    let qc = node.high_qc().cloned().expect("certificate");
    assert!(qc.verify_quorum(&set, &Bls));
    assert_eq!(qc.signers.ones().collect::<Vec<_>>(), vec![1, 3, 4, 5, 6]);
    assert!(formed_qc(&last).is_some());
}

// ---- one-round finality (§3a) ----

#[test]
fn a_commit_certificate_finalizes_a_block_without_the_next_round() {
    // Every proposal after round 1 is lost, so no child of block 1 is ever certified and the
    // two-chain rule cannot commit it: only the commit phase can.
    let (mut net, set, _) = Net::new(4, Topology::round_robin(4, 2));
    net.drop = Box::new(|_, _, m| matches!(m, Message::Proposal(p) if p.round > 1));
    net.start();
    net.run(20_000);
    for i in 0..4u32 {
        let commits = net.commits_full(i);
        assert_eq!(commits.len(), 1, "node {i}: {commits:?}");
        let (_, height, block, proof) = &commits[0];
        assert_eq!(*height, 1);
        assert!(proof.is_commit() && proof.proves_final(1, block), "{proof:?}");
        assert!(proof.verify_quorum(&set, &Bls));
    }
    // Without the commit phase the same run commits nothing.
    let ks = keys(4);
    let set = set_with(&ks, &[1; 4], Topology::round_robin(4, 2));
    let mut net = Net::with_epochs_cfg(&ks, &[epoch0(set)], false);
    net.drop = Box::new(|_, _, m| matches!(m, Message::Proposal(p) if p.round > 1));
    net.start();
    net.run(20_000);
    assert!((0..4).all(|i| net.commits(i).is_empty()));
}

#[test]
fn an_honest_run_commits_every_block_by_its_own_commit_certificate() {
    let (mut net, _, _) = Net::new(4, Topology::round_robin(4, 2));
    net.start();
    net.run_until(5, 20_000);
    for i in 0..4u32 {
        let commits = net.commits_full(i);
        assert!(commits.len() >= 5);
        for (_, height, block, proof) in &commits {
            assert!(
                proof.is_commit() && proof.proves_final(*height, block),
                "node {i} height {height}"
            );
        }
    }
}

#[test]
fn no_commit_vote_for_a_round_this_node_timed_out_in() {
    // Safety of §3a: a timeout sent before the certificate may report a lower lock, so a node
    // that timed out in round 1 must not vote to commit round 1's block. Node 6 is a member
    // (super nodes 0 and 1), so its votes leave as messages to its super node.
    let ks = keys(7);
    let set = set_with(&ks, &[1; 7], Topology::round_robin(7, 2));
    let member = || {
        let mut node = Bbft::new(
            cfg(6),
            ks[6].clone(),
            Arc::new(Bls),
            vec![epoch0(Arc::clone(&set))],
            BlockId::default(),
        )
        .unwrap();
        let _ = node.step(Input::Start);
        node
    };
    let is_commit_vote = |e: &Effect| {
        matches!(e, Effect::Send { message: Message::Vote(v), .. }
            | Effect::SendToGroup { message: Message::Vote(v), .. } if v.data.phase == Phase::Commit)
    };
    let qc = cert(&ks, &[1, 2, 3, 4, 5], data(1, 1), 7);
    let mut node = member();
    let _ = node.step(Input::TimerFired(Timer::Round { epoch: 0, round: 1 }));
    let eff = node.step(Input::Message {
        from: 1,
        message: Message::Certificate(qc.clone()),
    });
    assert_eq!(node.high_qc(), Some(&qc));
    assert!(!eff.iter().any(is_commit_vote), "{eff:?}");
    // A node that did not time out votes to commit the same certificate, after persisting it.
    let mut node = member();
    let eff = node.step(Input::Message {
        from: 1,
        message: Message::Certificate(qc),
    });
    let persist = eff
        .iter()
        .position(|e| matches!(e, Effect::Persist(s) if s.high_qc.is_some()));
    let vote = eff.iter().position(is_commit_vote);
    assert!(persist.is_some() && vote.is_some() && persist < vote, "{eff:?}");
}

#[test]
fn a_commit_certificate_is_neither_a_justification_nor_a_lock() {
    let ks = keys(4);
    let set = set_with(&ks, &[1; 4], Topology::round_robin(4, 2));
    let mut node = Bbft::new(
        cfg(1),
        ks[1].clone(),
        Arc::new(Bls),
        vec![epoch0(Arc::clone(&set))],
        BlockId::default(),
    )
    .unwrap();
    let _ = node.step(Input::Start);
    let cc = cert(
        &ks,
        &[0, 1, 2],
        VoteData {
            phase: Phase::Commit,
            ..data(1, 1)
        },
        4,
    );
    // A proposal for round 2 justified by a commit certificate: refused.
    let leader = Bbft::leader_index(&set, 2, 2);
    let parent = cc.data.block;
    let block = BlockId::compute(2, &parent, b"x");
    let p = Proposal {
        epoch: 0,
        round: 2,
        height: 2,
        parent,
        justify: Justify::Qc(cc.clone()),
        tc: None,
        payload: b"x".to_vec().into(),
        proposer: u16::try_from(leader).unwrap(),
        signature: ks[leader].sign(&ProposalHeader::signing_bytes(0, 2, &block)),
    };
    let eff = node.step(Input::Message {
        from: u32::try_from(leader).unwrap(),
        message: Message::Proposal(Box::new(p)),
    });
    assert_eq!(rejected(&eff), vec![Reject::BadProposal]);
    // Received as a certificate it commits its block but is not the lock.
    let eff = node.step(Input::Message {
        from: 0,
        message: Message::Certificate(cc),
    });
    assert!(eff.iter().any(|e| matches!(e, Effect::Commit { height: 1, .. })));
    assert!(node.high_qc().is_none());
    assert_eq!(node.committed(), (1, parent));
}

#[test]
fn a_prepare_and_a_commit_vote_of_one_round_are_not_equivocation() {
    let ks = keys(4);
    let set = set_with(&ks, &[1; 4], Topology::round_robin(4, 2));
    let prepare = vote(&ks[2], 2, data(1, 1));
    let commit = vote(
        &ks[2],
        2,
        VoteData {
            phase: Phase::Commit,
            ..data(1, 1)
        },
    );
    assert!(!Evidence::ConflictingVotes(Box::new(prepare), Box::new(commit.clone())).verify(&set, &Bls));
    let other = vote(
        &ks[2],
        2,
        VoteData {
            phase: Phase::Commit,
            ..data(1, 2)
        },
    );
    assert!(Evidence::ConflictingVotes(Box::new(commit), Box::new(other)).verify(&set, &Bls));
}

#[test]
fn a_commit_certificate_ending_the_epoch_starts_the_next_in_its_first_round() {
    // Node 0 (a super node) holds two members' commit votes for height 1, the epoch's last block,
    // before the block's QC reaches it; its own commit vote then completes the commit
    // certificate, which ends the epoch. The QC being absorbed must not move the new epoch on.
    let ks = keys(4);
    let set = set_with(&ks, &[1; 4], Topology::round_robin(4, 2));
    let mut node = Bbft::new(
        cfg(0),
        ks[0].clone(),
        Arc::new(Bls),
        two_epochs(&set, 1),
        BlockId::default(),
    )
    .unwrap();
    let _ = node.step(Input::Start);
    let commit = VoteData {
        phase: Phase::Commit,
        ..data(1, 1)
    };
    for i in [2u16, 3] {
        let eff = node.step(Input::Message {
            from: u32::from(i),
            message: Message::Vote(vote(&ks[usize::from(i)], i, commit)),
        });
        assert_eq!(rejected(&eff), vec![]);
    }
    assert_eq!(node.epoch(), 0);
    let eff = node.step(Input::Message {
        from: 1,
        message: Message::Certificate(cert(&ks, &[1, 2, 3], data(1, 1), 4)),
    });
    let proof = eff.iter().find_map(|e| match e {
        Effect::Commit { height: 1, proof, .. } => Some(proof.clone()),
        _ => None,
    });
    assert!(proof.is_some_and(|p| p.is_commit()), "{eff:?}");
    assert_eq!((node.epoch(), node.round()), (1, 1));
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! DPoS elections over real ledger structures: blocks of vote, veto and registration transactions.

use consensus::dpos::{
    ChainId, DposConfig, DposError, ElectionEvent, ElectionState, IgnoredReason, Position, ProvenKey,
    Registration, RegistrationError, SetSource, Validator, apply_block, registration_program,
};
use crypto::bls::SecretKey;
use crypto::chainkd::{XPrv, XPub};
use proptest::prelude::*;
use types::asset::AssetId;
use types::block::{Block, BlockHeader};
use types::profile::Profile;
use types::tx::{
    InputKind, OutputKind, SpendCommitment, SpendInput, Transaction, TxData, TxInput, TxOutput, VetoInput,
};
use types::{Amount, Hash};

const P2WPKH: [u8; 22] = [
    0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
];

/// Round of 6 blocks, 2 validators, runs of 2, stake 10, minimum vote 2, lock 3, subsidy 100.
fn config() -> DposConfig {
    DposConfig::new(6, 2, 2, 10, 2, 3, 100).unwrap()
}

fn xprv(n: u8) -> XPrv {
    XPrv::root(&[n; 32])
}

fn xpub(n: u8) -> XPub {
    xprv(n).xpub()
}

fn bls(n: u8) -> SecretKey {
    SecretKey::from_seed(&[n; 32])
}

fn key(n: u8) -> ProvenKey {
    ProvenKey::from_secret(&bls(n))
}

fn genesis() -> Vec<Validator> {
    [200u8, 201]
        .iter()
        .map(|&n| Validator {
            candidate: xpub(n),
            consensus_key: key(n),
            votes: 0,
        })
        .collect()
}

const GENESIS: Hash = Hash([0x47; 32]);
/// Registrations on the test chain name its genesis hash.
const CHAIN: ChainId = ChainId([0x47; 32]);

fn state() -> ElectionState {
    ElectionState::new(config(), GENESIS, genesis()).unwrap()
}

fn spend(nonce: u64, amount: u64) -> TxInput {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&nonce.to_be_bytes());
    TxInput::new(InputKind::Spend(SpendInput {
        commitment: SpendCommitment {
            source_id: Hash(id),
            asset_id: AssetId::BTM,
            amount: Amount::new(amount).unwrap(),
            source_position: 0,
            vm_version: 1,
            control_program: P2WPKH.to_vec(),
            suffix: Vec::new(),
        },
        arguments: Vec::new(),
    }))
}

fn tx(inputs: Vec<TxInput>, outputs: Vec<TxOutput>) -> Transaction {
    Transaction::new(
        Profile::Side,
        TxData {
            version: 1,
            time_range: 0,
            inputs,
            outputs,
        },
    )
    .unwrap()
}

fn vote_output(candidate: &XPub, amount: u64) -> TxOutput {
    TxOutput::new(
        OutputKind::Vote {
            vote: candidate.as_bytes().to_vec(),
        },
        AssetId::BTM,
        Amount::new(amount).unwrap(),
        P2WPKH.to_vec(),
    )
}

/// One transaction voting `amount` for each candidate, paying `fee`.
fn vote_tx(nonce: u64, votes: &[(XPub, u64)], fee: u64) -> Transaction {
    let total: u64 = votes.iter().map(|(_, a)| a).sum();
    tx(
        vec![spend(nonce, total + fee)],
        votes.iter().map(|(c, a)| vote_output(c, *a)).collect(),
    )
}

/// A veto input spending output `index` of `vote`.
fn veto_input(vote: &Transaction, index: usize) -> TxInput {
    let out = &vote.outputs()[index];
    TxInput::new(InputKind::Veto(VetoInput {
        commitment: SpendCommitment {
            source_id: vote.ids().mux_id,
            asset_id: out.asset_id(),
            amount: out.amount(),
            source_position: index as u64,
            vm_version: 1,
            control_program: out.control_program().to_vec(),
            suffix: Vec::new(),
        },
        vote: out.vote().unwrap().to_vec(),
        arguments: Vec::new(),
    }))
}

/// Vetoes output `index` of `vote` and pays the BTM back to an ordinary output.
fn veto_tx(vote: &Transaction, index: usize) -> Transaction {
    let amount = vote.outputs()[index].amount();
    tx(
        vec![veto_input(vote, index)],
        vec![TxOutput::new(
            OutputKind::Control,
            AssetId::BTM,
            amount,
            P2WPKH.to_vec(),
        )],
    )
}

fn registration_output(program: Vec<u8>) -> TxOutput {
    TxOutput::new(OutputKind::Control, AssetId::BTM, Amount::ZERO, program)
}

fn reg_tx(nonce: u64, candidate: u8, sequence: u64, bls_seed: u8) -> Transaction {
    tx(
        vec![spend(nonce, 1)],
        vec![
            registration_output(registration_program(
                &CHAIN,
                &xprv(candidate),
                sequence,
                &bls(bls_seed),
            )),
            TxOutput::new(
                OutputKind::Control,
                AssetId::BTM,
                Amount::new(1).unwrap(),
                P2WPKH.to_vec(),
            ),
        ],
    )
}

/// A block at `height` whose parent is `parent`.
fn block_on(parent: Hash, height: u64, txs: Vec<Transaction>) -> Block {
    let mut header = BlockHeader::empty(Profile::Side);
    header.height = height;
    header.previous_block_hash = parent;
    header.timestamp = height * 500;
    // Commit to the transactions so that different blocks hash differently.
    let root = Block::new(header.clone(), txs.clone())
        .unwrap()
        .compute_transactions_merkle_root();
    header.transactions_merkle_root = root;
    Block::new(header, txs).unwrap()
}

/// Applies blocks, keeping each change and each state before it.
struct Chain {
    state: ElectionState,
    changes: Vec<consensus::dpos::ElectionChange>,
    before: Vec<ElectionState>,
}

impl Chain {
    fn new() -> Self {
        Chain {
            state: state(),
            changes: Vec::new(),
            before: Vec::new(),
        }
    }

    fn push(&mut self, txs: Vec<Transaction>) -> &consensus::dpos::ElectionChange {
        let h = self.state.next_height();
        let change = apply_block(&self.state, &block_on(self.state.tip_hash(), h, txs), h).unwrap();
        self.before.push(self.state.clone());
        self.state.apply(&change).unwrap();
        self.changes.push(change);
        self.changes.last().unwrap()
    }

    fn empty_until(&mut self, height: u64) {
        while self.state.next_height() <= height {
            self.push(Vec::new());
        }
    }

    fn unwind_all(&mut self) {
        while let Some(change) = self.changes.pop() {
            self.state.unwind(&change).unwrap();
            assert_eq!(self.state, self.before.pop().unwrap());
        }
    }
}

fn registered_chain(candidates: &[u8]) -> Chain {
    let mut chain = Chain::new();
    let txs = candidates
        .iter()
        .enumerate()
        .map(|(i, &c)| reg_tx(1000 + i as u64, c, 1, c))
        .collect();
    chain.push(txs);
    chain
}

#[test]
fn tallies_several_voters_several_candidates() {
    let mut chain = registered_chain(&[1, 2, 3]);
    assert_eq!(chain.state.candidates().len(), 3);
    chain.push(vec![
        vote_tx(1, &[(xpub(1), 5), (xpub(2), 7)], 0),
        vote_tx(2, &[(xpub(1), 6)], 0),
    ]);
    chain.push(vec![vote_tx(3, &[(xpub(3), 4), (xpub(2), 2)], 0)]);
    assert_eq!(chain.state.votes_for(&xpub(1)), 11);
    assert_eq!(chain.state.votes_for(&xpub(2)), 9);
    assert_eq!(chain.state.votes_for(&xpub(3)), 4);
    assert_eq!(chain.state.vote_records().len(), 5);
    // Votes for an unregistered xpub are tallied (as the reference does) but never elected.
    chain.push(vec![vote_tx(4, &[(xpub(9), 50)], 0)]);
    assert_eq!(chain.state.votes_for(&xpub(9)), 50);
    let (set, source) = chain.state.projected_set();
    assert_eq!(source, SetSource::Fallback { qualified: 1 });
    assert_eq!(set.validators(), chain.state.genesis_set().validators());
    chain.push(vec![vote_tx(5, &[(xpub(2), 1), (xpub(2), 3)], 0)]);
    assert_eq!(chain.state.votes_for(&xpub(2)), 12);
    let (set, source) = chain.state.projected_set();
    assert_eq!(source, SetSource::Elected);
    let order: Vec<_> = set.validators().iter().map(|v| (v.candidate, v.votes)).collect();
    assert_eq!(order, vec![(xpub(2), 12), (xpub(1), 11)]);
    assert_eq!(set.validators()[0].consensus_key, key(2));
    chain.unwind_all();
}

#[test]
fn ties_are_broken_by_the_larger_xpub() {
    let mut chain = registered_chain(&[1, 2, 3]);
    chain.push(vec![vote_tx(
        1,
        &[(xpub(1), 20), (xpub(2), 20), (xpub(3), 20)],
        0,
    )]);
    let (set, _) = chain.state.projected_set();
    let mut expected = vec![xpub(1), xpub(2), xpub(3)];
    expected.sort();
    expected.reverse();
    expected.truncate(2);
    let got: Vec<_> = set.validators().iter().map(|v| v.candidate).collect();
    assert_eq!(got, expected);
    // More votes beat the tie-break.
    let smallest = *[xpub(1), xpub(2), xpub(3)].iter().min().unwrap();
    chain.push(vec![vote_tx(2, &[(smallest, 2)], 0)]);
    let (set, _) = chain.state.projected_set();
    assert_eq!(set.validators()[0].candidate, smallest);
}

#[test]
fn minimum_stake_decides_eligibility() {
    let mut chain = registered_chain(&[1, 2, 3]);
    chain.push(vec![vote_tx(1, &[(xpub(1), 10), (xpub(2), 9), (xpub(3), 30)], 0)]);
    let (set, source) = chain.state.projected_set();
    assert_eq!(source, SetSource::Elected);
    let got: Vec<_> = set.validators().iter().map(|v| v.candidate).collect();
    assert_eq!(got, vec![xpub(3), xpub(1)]);
    // Only one at or above the minimum: the genesis set serves.
    chain.push(vec![veto_tx(
        &vote_tx(1, &[(xpub(1), 10), (xpub(2), 9), (xpub(3), 30)], 0),
        0,
    )]);
    // Still locked (voted at height 2, lock 3): ignored.
    assert_eq!(chain.state.votes_for(&xpub(1)), 10);
    chain.empty_until(4);
    chain.push(vec![veto_tx(
        &vote_tx(1, &[(xpub(1), 10), (xpub(2), 9), (xpub(3), 30)], 0),
        0,
    )]);
    assert_eq!(chain.state.votes_for(&xpub(1)), 0);
    assert_eq!(
        chain.state.projected_set().1,
        SetSource::Fallback { qualified: 1 }
    );
    chain.unwind_all();
}

#[test]
fn invalid_votes_are_ignored() {
    let mut chain = registered_chain(&[1]);
    let short_key = TxOutput::new(
        OutputKind::Vote { vote: vec![7; 32] },
        AssetId::BTM,
        Amount::new(5).unwrap(),
        P2WPKH.to_vec(),
    );
    let other_asset = TxOutput::new(
        OutputKind::Vote {
            vote: xpub(1).as_bytes().to_vec(),
        },
        AssetId([1; 32]),
        Amount::new(5).unwrap(),
        P2WPKH.to_vec(),
    );
    let mut other_in = spend(9, 5);
    if let InputKind::Spend(s) = &mut other_in.kind {
        s.commitment.asset_id = AssetId([1; 32]);
    }
    let change = chain.push(vec![
        tx(vec![spend(8, 6)], vec![short_key, vote_output(&xpub(1), 1)]),
        tx(vec![other_in], vec![other_asset]),
    ]);
    let reasons: Vec<_> = change
        .ignored
        .iter()
        .map(|i| (i.tx, i.position, i.reason.clone()))
        .collect();
    assert_eq!(
        reasons,
        vec![
            (0, Position::Output(0), IgnoredReason::VoteKeyLength { len: 32 }),
            (
                0,
                Position::Output(1),
                IgnoredReason::VoteBelowMinimum {
                    amount: 1,
                    minimum: 2
                }
            ),
            (1, Position::Output(0), IgnoredReason::VoteNotBtm),
        ]
    );
    assert!(change.tallies.is_empty() && change.votes.is_empty());
    assert_eq!(chain.state.votes_for(&xpub(1)), 0);
}

#[test]
fn vetoes_full_partial_and_invalid() {
    let mut chain = registered_chain(&[1, 2]);
    let v = vote_tx(1, &[(xpub(1), 30), (xpub(2), 8)], 0);
    chain.push(vec![v.clone()]); // height 2
    chain.empty_until(4);
    // Locked until height 5.
    let change = chain.push(vec![veto_tx(&v, 0)]).clone(); // height 5? no: height 5 is next
    assert_eq!(change.height, 5);
    assert!(change.ignored.is_empty(), "{:?}", change.ignored);
    assert_eq!(chain.state.votes_for(&xpub(1)), 0);
    assert!(!chain.state.tallies().contains_key(&xpub(1)));
    // Partial: spend the 8-BTM vote and vote 5 again in the same transaction.
    let partial = tx(
        vec![veto_input(&v, 1)],
        vec![
            vote_output(&xpub(2), 5),
            TxOutput::new(
                OutputKind::Control,
                AssetId::BTM,
                Amount::new(3).unwrap(),
                P2WPKH.to_vec(),
            ),
        ],
    );
    let change = chain.push(vec![partial.clone()]).clone();
    assert!(matches!(
        change.events[0],
        ElectionEvent::Vetoed { amount: 8, .. }
    ));
    assert!(matches!(change.events[1], ElectionEvent::Voted { amount: 5, .. }));
    assert_eq!(chain.state.votes_for(&xpub(2)), 5);
    // The same vote twice, an unknown vote, and a vote still locked.
    let change = chain.push(vec![
        veto_tx(&v, 0),
        veto_tx(&vote_tx(77, &[(xpub(2), 5)], 0), 0),
        veto_tx(&partial, 0),
    ]);
    let reasons: Vec<_> = change.ignored.iter().map(|i| i.reason.clone()).collect();
    assert_eq!(
        reasons,
        vec![
            IgnoredReason::VetoUnknownVote,
            IgnoredReason::VetoUnknownVote,
            IgnoredReason::VetoLocked {
                voted_at: 6,
                unlock_at: 9
            },
        ]
    );
    assert_eq!(chain.state.votes_for(&xpub(2)), 5);
    chain.unwind_all();
}

#[test]
fn vote_and_veto_in_one_block_when_the_lock_allows() {
    let config = DposConfig::new(6, 2, 2, 10, 2, 0, 100).unwrap();
    let mut state = ElectionState::new(config, GENESIS, genesis()).unwrap();
    let v = vote_tx(1, &[(xpub(1), 30)], 0);
    let b = block_on(GENESIS, 1, vec![v.clone(), veto_tx(&v, 0)]);
    let change = apply_block(&state, &b, 1).unwrap();
    assert_eq!(change.events.len(), 2);
    assert!(change.tallies.is_empty());
    assert!(change.votes.is_empty());
    state.apply(&change).unwrap();
    assert_eq!(state.votes_for(&xpub(1)), 0);
}

#[test]
fn the_set_is_fixed_at_the_round_boundary() {
    let mut chain = registered_chain(&[1, 2, 3]); // height 1
    chain.push(vec![vote_tx(1, &[(xpub(1), 20), (xpub(2), 30)], 0)]); // 2
    let genesis_set = chain.state.genesis_set().clone();
    assert_eq!(chain.state.current_set(), &genesis_set);
    assert_eq!(chain.state.next_set(), None);
    chain.empty_until(5);
    let change = chain.push(Vec::new()).clone(); // 6: round 1 ends
    let end = change.round_end.as_ref().unwrap();
    assert_eq!(end.round, 1);
    assert_eq!(end.source, SetSource::Elected);
    let elected: Vec<_> = end.next_set.validators().iter().map(|v| v.candidate).collect();
    assert_eq!(elected, vec![xpub(2), xpub(1)]);
    assert_eq!(chain.state.current_set(), &genesis_set);
    assert_eq!(chain.state.next_set(), Some(&end.next_set));
    assert_eq!(chain.state.set_for(7), Some(&end.next_set));
    assert_eq!(chain.state.set_for(13), None);
    // Round 2: votes change mid-round but the set does not.
    chain.push(vec![vote_tx(2, &[(xpub(3), 100)], 0)]); // 7
    assert_eq!(chain.state.current_set(), &end.next_set);
    assert_eq!(chain.state.next_set(), None);
    chain.empty_until(11);
    assert_eq!(chain.state.current_set(), &end.next_set);
    assert_eq!(chain.state.producer(11).unwrap().candidate, xpub(2));
    // At its end, the new tallies decide.
    let change = chain.push(Vec::new()).clone(); // 12
    let elected: Vec<_> = change
        .round_end
        .unwrap()
        .next_set
        .validators()
        .iter()
        .map(|v| v.candidate)
        .collect();
    assert_eq!(elected, vec![xpub(3), xpub(2)]);
    chain.push(Vec::new());
    assert_eq!(chain.state.current_set().validators()[0].candidate, xpub(3));
    chain.unwind_all();
}

#[test]
fn key_rotation_mid_round_does_not_touch_the_sitting_set() {
    let mut chain = registered_chain(&[1, 2]);
    chain.push(vec![vote_tx(1, &[(xpub(1), 20), (xpub(2), 30)], 0)]);
    chain.empty_until(7);
    assert_eq!(chain.state.current_set().validators()[1].consensus_key, key(1));
    chain.push(vec![reg_tx(50, 1, 2, 61)]); // 8
    assert_eq!(chain.state.candidates()[&xpub(1)].consensus_key, key(61));
    assert_eq!(chain.state.current_set().validators()[1].consensus_key, key(1));
    chain.empty_until(12);
    assert_eq!(
        chain.state.next_set().unwrap().validators()[1].consensus_key,
        key(61)
    );
    chain.unwind_all();
}

#[test]
fn schedule_follows_the_set_in_force() {
    let chain = Chain::new();
    let g = chain.state.genesis_set();
    let producers: Vec<_> = (1..=6)
        .map(|h| chain.state.producer(h).unwrap().candidate)
        .collect();
    let (a, b) = (g.validators()[0].candidate, g.validators()[1].candidate);
    assert_eq!(producers, vec![a, a, b, b, a, a]);
    assert_eq!(chain.state.producer(0), None);
    assert_eq!(chain.state.producer(7), None);
}

#[test]
fn rewards_per_round() {
    let mut chain = Chain::new();
    let g = chain.state.genesis_set().clone();
    let (a, b) = (g.validators()[0].candidate, g.validators()[1].candidate);
    chain.push(vec![vote_tx(1, &[(xpub(1), 5)], 7)]); // 1: a, fee 7
    chain.push(Vec::new()); // 2: a
    chain.push(vec![
        vote_tx(2, &[(xpub(1), 5)], 3),
        vote_tx(3, &[(xpub(1), 5)], 4),
    ]); // 3: b
    assert_eq!(chain.state.round_rewards()[&a].amount, 207);
    assert_eq!(chain.state.round_rewards()[&b].amount, 107);
    chain.empty_until(5);
    let change = chain.push(Vec::new()).clone(); // 6: a, round end
    let all = change.round_end.unwrap().rewards;
    assert!(all.voters.is_empty());
    let rewards = &all.validators;
    assert_eq!(rewards.len(), 2);
    assert!(rewards.iter().all(|r| r.earned == r.amount));
    assert_eq!(
        (rewards[0].validator, rewards[0].blocks, rewards[0].amount),
        (a, 4, 407)
    );
    assert_eq!(
        (rewards[1].validator, rewards[1].blocks, rewards[1].amount),
        (b, 2, 207)
    );
    assert_eq!(chain.state.payable_rewards(), &all);
    assert!(chain.state.round_rewards().is_empty());
    chain.push(Vec::new()); // 7: paid by this block's coinbase
    assert!(chain.state.payable_rewards().is_empty());
    assert_eq!(chain.state.round_rewards()[&a].amount, 100);
    chain.unwind_all();
}

#[test]
fn equal_rewards_order_by_xpub() {
    let config = DposConfig::new(4, 2, 2, 10, 2, 3, 100).unwrap();
    let mut state = ElectionState::new(config, GENESIS, genesis()).unwrap();
    let mut last = None;
    for h in 1..=4 {
        let change = apply_block(&state, &block_on(state.tip_hash(), h, Vec::new()), h).unwrap();
        state.apply(&change).unwrap();
        last = Some(change);
    }
    let rewards = last.unwrap().round_end.unwrap().rewards.validators;
    assert_eq!(rewards[0].amount, rewards[1].amount);
    assert!(rewards[0].validator > rewards[1].validator);
}

#[test]
fn voters_share_rewards_pro_rata_to_votes_held_through_the_round() {
    let config = config().with_voter_share(50).unwrap();
    let mut chain = Chain {
        state: ElectionState::new(config, GENESIS, genesis()).unwrap(),
        changes: Vec::new(),
        before: Vec::new(),
    };
    let g = chain.state.genesis_set().clone();
    let a = g.validators()[0].candidate;
    let program = |n: u8| {
        vec![
            0x00, 0x14, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n, n,
        ]
    };
    let vote_from = |nonce: u64, voter: u8, candidate: XPub, amount: u64| {
        let mut out = vote_output(&candidate, amount);
        out.commitment.control_program = program(voter);
        tx(vec![spend(nonce, amount)], vec![out])
    };
    // Round 1: votes of 30 (voter 1) and 10 (voter 2) for the genesis validator `a`.
    chain.push(vec![vote_from(1, 1, a, 30), vote_from(2, 2, a, 10)]);
    chain.empty_until(6);
    // Round 2 (heights 7..12): `a` produces 7, 8, 11, 12 and earns 4 * 100 = 400, half to voters.
    // A vote made during the round earns nothing this round.
    chain.push(vec![vote_from(3, 3, a, 50)]);
    chain.empty_until(11);
    let change = chain.push(Vec::new()).clone();
    let rewards = change.round_end.unwrap().rewards;
    let ra = rewards.validators.iter().find(|r| r.validator == a).unwrap();
    assert_eq!((ra.earned, ra.amount), (400, 200));
    assert_eq!(rewards.voters.len(), 2);
    assert_eq!(
        (rewards.voters[0].program.clone(), rewards.voters[0].amount),
        (program(1), 150)
    );
    assert_eq!(
        (rewards.voters[1].program.clone(), rewards.voters[1].amount),
        (program(2), 50)
    );
    chain.unwind_all();
}

#[test]
fn registrations_in_blocks() {
    let mut chain = Chain::new();
    // Valid, then a replay of the same registration (stale), then another candidate copying the key.
    let first = reg_tx(1, 1, 5, 11);
    let change = chain.push(vec![first.clone()]).clone();
    assert!(matches!(
        change.events[0],
        ElectionEvent::Registered { sequence: 5, .. }
    ));
    assert_eq!(chain.state.candidates()[&xpub(1)].consensus_key, key(11));
    // The key's owner registering it for a second xpub (a correct binding) is refused too.
    let copied = Registration::sign(&CHAIN, &xprv(2), 1, &bls(11));
    let change = chain
        .push(vec![
            first,
            tx(vec![spend(3, 0)], vec![registration_output(copied.to_program())]),
        ])
        .clone();
    let reasons: Vec<_> = change.ignored.iter().map(|i| i.reason.clone()).collect();
    assert_eq!(
        reasons,
        vec![
            IgnoredReason::Registration(RegistrationError::StaleSequence {
                sequence: 5,
                current: 5
            }),
            IgnoredReason::Registration(RegistrationError::KeyInUse { owner: xpub(1) }),
        ]
    );
    assert!(change.candidates.is_empty() && change.key_owners.is_empty());
    // A bad signature, a truncated program and a registration in a vote output.
    let mut bad = Registration::sign(&CHAIN, &xprv(3), 1, &bls(13));
    bad.signature[5] ^= 0x40;
    let mut truncated = registration_program(&CHAIN, &xprv(3), 1, &bls(13));
    truncated.truncate(200);
    let mut in_vote = vote_output(&xpub(3), 5);
    in_vote.commitment.control_program = registration_program(&CHAIN, &xprv(3), 1, &bls(13));
    let change = chain
        .push(vec![
            tx(vec![spend(4, 0)], vec![registration_output(bad.to_program())]),
            tx(vec![spend(5, 0)], vec![registration_output(truncated)]),
            tx(vec![spend(6, 5)], vec![in_vote]),
        ])
        .clone();
    let reasons: Vec<_> = change.ignored.iter().map(|i| i.reason.clone()).collect();
    assert_eq!(
        reasons,
        vec![
            IgnoredReason::Registration(RegistrationError::BadSignature),
            IgnoredReason::Registration(RegistrationError::Truncated {
                field: "proof of possession"
            }),
            IgnoredReason::Registration(RegistrationError::WrongOutputKind { kind: "vote" }),
        ]
    );
    assert!(!chain.state.candidates().contains_key(&xpub(3)));
    // Rotation frees the old key for someone else.
    chain.push(vec![reg_tx(7, 1, 6, 12)]);
    assert_eq!(chain.state.candidates()[&xpub(1)].consensus_key, key(12));
    chain.push(vec![reg_tx(8, 2, 1, 11)]);
    assert_eq!(chain.state.candidates()[&xpub(2)].consensus_key, key(11));
    chain.unwind_all();
}

#[test]
fn apply_and_unwind_check_heights_and_state() {
    let mut s = state();
    assert_eq!(
        apply_block(&s, &block_on(GENESIS, 2, Vec::new()), 2),
        Err(DposError::HeightMismatch { expected: 1, got: 2 })
    );
    assert_eq!(
        apply_block(&s, &block_on(GENESIS, 2, Vec::new()), 1),
        Err(DposError::HeaderHeight { header: 2, given: 1 })
    );
    let c1 = apply_block(&s, &block_on(GENESIS, 1, vec![vote_tx(1, &[(xpub(1), 5)], 0)]), 1).unwrap();
    // Unwinding what was never applied.
    assert!(matches!(s.unwind(&c1), Err(DposError::HeightMismatch { .. })));
    s.apply(&c1).unwrap();
    assert!(matches!(s.apply(&c1), Err(DposError::HeightMismatch { .. })));
    // A change computed from another state is refused and leaves the state as it was.
    let other = apply_block(
        &state(),
        &block_on(GENESIS, 1, vec![vote_tx(2, &[(xpub(1), 7)], 0)]),
        1,
    )
    .unwrap();
    let snapshot = s.clone();
    assert!(matches!(s.unwind(&other), Err(DposError::NotTip { .. })));
    let mut tampered = c1.clone();
    tampered.tallies[0].after = Some(999);
    assert!(matches!(s.unwind(&tampered), Err(DposError::StaleChange { .. })));
    assert_eq!(s, snapshot);
    // A block that does not extend the tip.
    assert!(matches!(
        apply_block(&s, &block_on(Hash([9; 32]), 2, Vec::new()), 2),
        Err(DposError::NotTip { .. })
    ));
    s.unwind(&c1).unwrap();
    assert_eq!(s, state());
    assert!(ElectionState::new(config(), GENESIS, Vec::new()).is_err());
    let mut dup = genesis();
    dup.push(dup[0].clone());
    assert!(ElectionState::new(config(), GENESIS, dup).is_err());
}

#[test]
fn many_blocks_then_unwind_in_reverse() {
    let mut chain = registered_chain(&[1, 2, 3]);
    let mut votes = Vec::new();
    for h in 0..20u64 {
        let n = (h % 3) as u8 + 1;
        let v = vote_tx(100 + h, &[(xpub(n), 10 + h), (xpub(9), 3)], h % 4);
        let mut txs = vec![v.clone()];
        if h >= 5 {
            txs.push(veto_tx(&votes[usize::try_from(h - 5).unwrap()], 0));
        }
        if h == 9 {
            txs.push(reg_tx(500, 2, 9, 22));
        }
        votes.push(v);
        chain.push(txs);
    }
    assert!(chain.changes.iter().any(|c| c.round_end.is_some()));
    assert!(
        chain
            .changes
            .iter()
            .any(|c| c.events.iter().any(|e| matches!(e, ElectionEvent::Vetoed { .. })))
    );
    chain.unwind_all();
    assert_eq!(chain.state, state());
}

/// One random block: registrations, votes, vetoes of earlier votes.
#[derive(Debug, Clone)]
enum Op {
    Register { candidate: u8, sequence: u64, key: u8 },
    Vote { candidate: u8, amount: u64, fee: u64 },
    Veto { pick: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..4, 0u64..4, 0u8..5).prop_map(|(candidate, sequence, key)| Op::Register {
            candidate,
            sequence,
            key
        }),
        (0u8..5, 0u64..40, 0u64..3).prop_map(|(candidate, amount, fee)| Op::Vote {
            candidate,
            amount,
            fee
        }),
        (0usize..64).prop_map(|pick| Op::Veto { pick }),
    ]
}

/// Turns random ops into blocks of transactions; vetoes pick among all votes made so far.
fn build_blocks(blocks: Vec<Vec<Op>>, made: &mut Vec<Transaction>, nonce: &mut u64) -> Vec<Vec<Transaction>> {
    blocks
        .into_iter()
        .map(|ops| {
            let mut txs = Vec::new();
            for op in ops {
                *nonce += 1;
                match op {
                    Op::Register {
                        candidate,
                        sequence,
                        key,
                    } => {
                        txs.push(reg_tx(*nonce, candidate + 1, sequence, key + 10));
                    }
                    Op::Vote {
                        candidate,
                        amount,
                        fee,
                    } => {
                        let v = vote_tx(*nonce, &[(xpub(candidate + 1), amount)], fee);
                        made.push(v.clone());
                        txs.push(v);
                    }
                    Op::Veto { pick } => {
                        if !made.is_empty() {
                            txs.push(veto_tx(&made[pick % made.len()], 0));
                        }
                    }
                }
            }
            txs
        })
        .collect()
}

fn blocks_strategy(max: usize) -> impl Strategy<Value = Vec<Vec<Op>>> {
    prop::collection::vec(prop::collection::vec(op(), 0..4), 1..max)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn apply_all_then_unwind_all_returns_the_start(blocks in blocks_strategy(16)) {
        let mut chain = Chain::new();
        let (mut made, mut nonce) = (Vec::new(), 0);
        for txs in build_blocks(blocks, &mut made, &mut nonce) {
            chain.push(txs);
        }
        let start = state();
        chain.unwind_all();
        prop_assert_eq!(chain.state, start);
    }

    #[test]
    fn a_reorg_equals_applying_the_winning_branch_directly(
        prefix in blocks_strategy(10),
        losing in blocks_strategy(10),
        winning in blocks_strategy(10),
    ) {
        let (mut made, mut nonce) = (Vec::new(), 0);
        let prefix = build_blocks(prefix, &mut made, &mut nonce);
        let losing = build_blocks(losing, &mut made, &mut nonce);
        let winning = build_blocks(winning, &mut made, &mut nonce);
        let mut reorged = Chain::new();
        let mut direct = Chain::new();
        for txs in &prefix {
            reorged.push(txs.clone());
            direct.push(txs.clone());
        }
        for txs in losing {
            reorged.push(txs);
        }
        while reorged.changes.len() > prefix.len() {
            let change = reorged.changes.pop().unwrap();
            reorged.state.unwind(&change).unwrap();
            reorged.before.pop();
        }
        for txs in winning {
            reorged.push(txs.clone());
            direct.push(txs);
        }
        prop_assert_eq!(reorged.state, direct.state);
    }

    #[test]
    fn decoding_arbitrary_programs_never_panics(
        mut bytes in prop::collection::vec(any::<u8>(), 0..400),
        tagged in any::<bool>(),
    ) {
        if tagged {
            let mut p = vec![0x6a, 0x15];
            p.extend_from_slice(consensus::dpos::registration::REGISTRATION_TAG);
            p.append(&mut bytes);
            bytes = p;
        }
        let _ = consensus::dpos::parse_registration(&CHAIN, &bytes);
    }

    #[test]
    fn mutated_registrations_never_panic_and_never_verify_with_a_changed_field(
        pos in 23usize..407, flip in 1u8..=255,
    ) {
        let mut p = registration_program(&CHAIN, &xprv(1), 1, &bls(1));
        p[pos] ^= flip;
        prop_assert!(consensus::dpos::parse_registration(&CHAIN, &p).is_err());
    }
}

// ---- Registration binding: chain id and xpub ----

#[test]
fn a_registration_from_another_chain_is_ignored() {
    let mut chain = Chain::new();
    let elsewhere = tx(
        vec![spend(1, 0)],
        vec![registration_output(registration_program(
            &ChainId([0x99; 32]),
            &xprv(1),
            1,
            &bls(1),
        ))],
    );
    let change = chain.push(vec![elsewhere]).clone();
    assert_eq!(
        change
            .ignored
            .iter()
            .map(|i| i.reason.clone())
            .collect::<Vec<_>>(),
        vec![IgnoredReason::Registration(RegistrationError::BadSignature)]
    );
    assert!(chain.state.candidates().is_empty());
    // A chain identified by a configured name accepts registrations for that name only.
    let named = ChainId::from_name("tributary-side-test");
    let mut state = ElectionState::with_chain_id(config(), named, GENESIS, genesis()).unwrap();
    assert_eq!(state.chain_id(), &named);
    let txs = vec![
        tx(
            vec![spend(2, 0)],
            vec![registration_output(registration_program(
                &named,
                &xprv(1),
                1,
                &bls(1),
            ))],
        ),
        reg_tx(3, 2, 1, 2), // signed for the genesis hash
    ];
    let change = apply_block(&state, &block_on(GENESIS, 1, txs), 1).unwrap();
    state.apply(&change).unwrap();
    assert_eq!(
        state.candidates().keys().copied().collect::<Vec<_>>(),
        vec![xpub(1)]
    );
    assert_eq!(change.ignored.len(), 1);
}

#[test]
fn a_front_run_under_another_xpub_fails_and_the_owner_still_registers() {
    let mut chain = Chain::new();
    let victim = Registration::sign(&CHAIN, &xprv(1), 1, &bls(1));
    // The attacker copies the victim's key, proof and binding, and signs with its own xpub.
    let msg = Registration::message(&CHAIN, &xpub(2), 1, &victim.consensus_key);
    let stolen = Registration {
        candidate: xpub(2),
        signature: xprv(2).sign(&Registration::signed_bytes(&msg, &victim.proof, &victim.binding)),
        ..victim.clone()
    };
    let change = chain
        .push(vec![tx(
            vec![spend(1, 0)],
            vec![registration_output(stolen.to_program())],
        )])
        .clone();
    assert_eq!(
        change.ignored[0].reason,
        IgnoredReason::Registration(RegistrationError::BadBinding)
    );
    assert!(change.key_owners.is_empty());
    let change = chain
        .push(vec![tx(
            vec![spend(2, 0)],
            vec![registration_output(victim.to_program())],
        )])
        .clone();
    assert!(change.ignored.is_empty());
    assert_eq!(chain.state.candidates()[&xpub(1)].consensus_key, key(1));
    assert!(!chain.state.candidates().contains_key(&xpub(2)));
    chain.unwind_all();
}

// ---- Proofs of possession and the BBFT set ----

#[test]
fn genesis_keys_carry_checked_proofs() {
    let pk = bls(200).public_key().to_bytes();
    let good = ProvenKey::new(&pk, &bls(200).prove_possession().to_bytes()).unwrap();
    // A rogue key: another key's proof does not prove possession of this one.
    assert_eq!(
        ProvenKey::new(&pk, &bls(201).prove_possession().to_bytes()),
        Err(RegistrationError::BadProofOfPossession)
    );
    let state = ElectionState::new(
        config(),
        GENESIS,
        vec![Validator {
            candidate: xpub(200),
            consensus_key: good,
            votes: 0,
        }],
    )
    .unwrap();
    assert_eq!(state.genesis_set().validators()[0].consensus_key.key().0, pk);
}

#[test]
fn sets_become_bbft_sets_with_checked_keys() {
    use consensus::bbft::{Bls, SetError, Topology};
    use consensus::dpos::BbftSetError;
    use crypto::bls::Signature;

    let mut chain = registered_chain(&[1, 2, 3]);
    chain.push(vec![vote_tx(1, &[(xpub(1), 20), (xpub(3), 30)], 0)]);
    let genesis_bbft = chain
        .state
        .current_set()
        .to_bbft(&[7, 8], Topology::pbft(2), &Bls)
        .unwrap();
    chain.empty_until(6);
    let elected = chain.state.next_set().unwrap().clone();
    let set = elected
        .to_bbft(&[10, 11], Topology::round_robin(2, 1), &Bls)
        .unwrap();
    let keys: Vec<_> = set
        .validators()
        .iter()
        .map(|v| (v.node, v.key, v.power))
        .collect();
    assert_eq!(
        keys,
        vec![(10, bls(3).public_key(), 1), (11, bls(1).public_key(), 1)]
    );
    assert_ne!(
        genesis_bbft.validators()[0].key,
        set.validators()[0].key,
        "the set changed at the boundary"
    );
    assert!(set.is_quorum(2) && !set.is_quorum(1));
    // The checked keys make same-message aggregates sound: both signatures verify as one.
    let msg = b"block";
    let agg = Signature::aggregate(&[bls(3).sign(msg), bls(1).sign(msg)]).unwrap();
    let pks: Vec<_> = set.validators().iter().map(|v| v.key).collect();
    assert!(agg.verify_aggregate(&pks, msg));
    assert_eq!(
        elected.to_bbft(&[10], Topology::pbft(2), &Bls).unwrap_err(),
        BbftSetError::NodeCount { expected: 2, got: 1 }
    );
    assert_eq!(
        elected.to_bbft(&[10, 10], Topology::pbft(2), &Bls).unwrap_err(),
        BbftSetError::Set(SetError::Duplicate(1))
    );
}

// ---- Rewards ----

/// Σ (subsidy + fees) of the blocks of heights `from..=to` that `chain` applied.
fn minted(chain: &Chain, blocks: &[Vec<Transaction>], from: u64, to: u64) -> u64 {
    (from..=to)
        .map(|h| {
            let fees: u64 = blocks[usize::try_from(h - 1).unwrap()]
                .iter()
                .map(|t| t.checked_fee().unwrap().get())
                .sum();
            chain.state.config().subsidy_at(h) + fees
        })
        .sum()
}

#[test]
fn rewards_go_to_the_validator_that_actually_produced() {
    use consensus::dpos::apply_block_produced_by;

    let mut state = state();
    let g = state.genesis_set().clone();
    let (a, b) = (g.validators()[0].candidate, g.validators()[1].candidate);
    // Height 1 is `a`'s turn, but `b` produced it (a missed its slot): `b` earns it, fee included.
    let block = block_on(GENESIS, 1, vec![vote_tx(1, &[(xpub(1), 5)], 9)]);
    assert_eq!(
        apply_block_produced_by(&state, &block, 1, &xpub(1)),
        Err(DposError::NotInSet {
            producer: xpub(1),
            height: 1
        })
    );
    let change = apply_block_produced_by(&state, &block, 1, &b).unwrap();
    state.apply(&change).unwrap();
    assert_eq!(state.round_rewards()[&b].amount, 109);
    assert!(!state.round_rewards().contains_key(&a));
    // Without a named producer the schedule decides (height 2 is `a`'s).
    let change = apply_block(&state, &block_on(state.tip_hash(), 2, Vec::new()), 2).unwrap();
    state.apply(&change).unwrap();
    assert_eq!(state.round_rewards()[&a].blocks, 1);
    for h in 3..=6 {
        let block = block_on(state.tip_hash(), h, Vec::new());
        let change = apply_block_produced_by(&state, &block, h, &a).unwrap();
        state.apply(&change).unwrap();
        if h == 6 {
            let rewards = change.round_end.unwrap().rewards.validators;
            let got: Vec<_> = rewards
                .iter()
                .map(|r| (r.validator, r.blocks, r.amount))
                .collect();
            assert_eq!(got, vec![(a, 5, 500), (b, 1, 109)]);
        }
    }
}

#[test]
fn the_subsidy_ends_where_configured_and_fees_still_pay() {
    let config = config().with_subsidy_until(2);
    let mut chain = Chain {
        state: ElectionState::new(config, GENESIS, genesis()).unwrap(),
        changes: Vec::new(),
        before: Vec::new(),
    };
    let blocks: Vec<Vec<Transaction>> = (0..6u64)
        .map(|h| vec![vote_tx(h, &[(xpub(1), 5)], h * 3)])
        .collect();
    for txs in &blocks {
        chain.push(txs.clone());
    }
    let rewards = chain.changes[5].round_end.clone().unwrap().rewards;
    // a: heights 1, 2 (subsidy + fees 0, 3), 5, 6 (fees 12, 15); b: heights 3, 4 (fees 6, 9).
    let got: Vec<_> = rewards.validators.iter().map(|r| (r.blocks, r.amount)).collect();
    assert_eq!(got, vec![(4, 230), (2, 15)]);
    assert_eq!(rewards.total(), Some(minted(&chain, &blocks, 1, 6)));
    chain.unwind_all();
}

#[test]
fn voter_shares_round_down_and_the_validator_keeps_the_remainder() {
    let config = config().with_voter_share(50).unwrap();
    let mut chain = Chain {
        state: ElectionState::new(config, GENESIS, genesis()).unwrap(),
        changes: Vec::new(),
        before: Vec::new(),
    };
    let g = chain.state.genesis_set().clone();
    let (a, b) = (g.validators()[0].candidate, g.validators()[1].candidate);
    let program = |n: u8| {
        let mut p = P2WPKH.to_vec();
        p[2] = n;
        p
    };
    let vote_from = |nonce: u64, voter: u8, candidate: XPub, amount: u64, fee: u64| {
        let mut out = vote_output(&candidate, amount);
        out.commitment.control_program = program(voter);
        tx(vec![spend(nonce, amount + fee)], vec![out])
    };
    // Round 1: three equal voters for `a` (a tie), one for `b` with two votes.
    let mut blocks = vec![vec![
        vote_from(1, 1, a, 10, 0),
        vote_from(2, 2, a, 10, 0),
        vote_from(3, 3, a, 10, 0),
        vote_from(4, 4, b, 7, 0),
        vote_from(5, 4, b, 7, 0),
    ]];
    blocks.extend((2..=6).map(|_| Vec::new()));
    // Round 2: `a` produces 7, 8, 11, 12; a fee of 1 at height 7 makes its earnings odd (401).
    blocks.push(vec![vote_tx(6, &[(xpub(9), 2)], 1)]);
    blocks.extend((8..=12).map(|_| Vec::new()));
    for txs in &blocks {
        chain.push(txs.clone());
    }
    let rewards = chain.changes[11].round_end.clone().unwrap().rewards;
    // a: pool ⌊401·50/100⌋ = 200, each voter ⌊200·10/30⌋ = 66, a keeps 401 − 198 = 203.
    // b: pool ⌊200·50/100⌋ = 100, its one voter program gets 50 + 50, b keeps 100.
    let validators: Vec<_> = rewards
        .validators
        .iter()
        .map(|r| (r.validator, r.earned, r.amount))
        .collect();
    assert_eq!(validators, vec![(a, 401, 203), (b, 200, 100)]);
    let voters: Vec<_> = rewards
        .voters
        .iter()
        .map(|v| (v.program.clone(), v.amount))
        .collect();
    // Equal shares are ordered by program, larger first (the reference's coinbase order).
    assert_eq!(
        voters,
        vec![
            (program(4), 100),
            (program(3), 66),
            (program(2), 66),
            (program(1), 66)
        ]
    );
    // Nothing created or lost: what is paid is exactly what the round's blocks earned.
    let paid: u64 = rewards.validators.iter().map(|r| r.amount).sum::<u64>()
        + rewards.voters.iter().map(|v| v.amount).sum::<u64>();
    assert_eq!(paid, 601);
    assert_eq!(rewards.total(), Some(paid));
    assert_eq!(minted(&chain, &blocks, 7, 12), paid);
    chain.unwind_all();
}

// ---- Vetoes and the round boundary ----

#[test]
fn a_veto_of_more_than_was_voted_is_rejected() {
    let mut chain = registered_chain(&[1]);
    let v = vote_tx(1, &[(xpub(1), 30)], 0);
    chain.push(vec![v.clone()]);
    chain.empty_until(5);
    // Claim 31 from a 30 vote: the claimed output does not exist, so nothing is withdrawn.
    let mut greedy = veto_input(&v, 0);
    if let InputKind::Veto(veto) = &mut greedy.kind {
        veto.commitment.amount = Amount::new(31).unwrap();
    }
    let over = tx(
        vec![greedy],
        vec![TxOutput::new(
            OutputKind::Control,
            AssetId::BTM,
            Amount::new(31).unwrap(),
            P2WPKH.to_vec(),
        )],
    );
    let change = chain.push(vec![over]).clone();
    assert_eq!(change.ignored[0].reason, IgnoredReason::VetoUnknownVote);
    assert!(change.tallies.is_empty());
    assert_eq!(chain.state.votes_for(&xpub(1)), 30);
    // The honest veto of exactly 30 still works, once.
    chain.push(vec![veto_tx(&v, 0)]);
    assert_eq!(chain.state.votes_for(&xpub(1)), 0);
    let change = chain.push(vec![veto_tx(&v, 0)]).clone();
    assert_eq!(change.ignored[0].reason, IgnoredReason::VetoUnknownVote);
    chain.unwind_all();
}

#[test]
fn unwinding_across_the_round_boundary_restores_the_exact_state() {
    let mut chain = registered_chain(&[1, 2, 3]); // 1
    chain.push(vec![vote_tx(1, &[(xpub(1), 20), (xpub(2), 30)], 4)]); // 2
    chain.empty_until(5);
    let before_end = chain.state.clone();
    let end = chain.push(Vec::new()).clone(); // 6: set fixed, rewards payable
    let after_end = chain.state.clone();
    let start = chain.push(vec![vote_tx(2, &[(xpub(3), 100)], 0)]).clone(); // 7: new set in force
    assert_ne!(chain.state.current_set(), before_end.current_set());
    assert_eq!(
        chain
            .state
            .current_set()
            .validators()
            .iter()
            .map(|v| v.candidate)
            .collect::<Vec<_>>(),
        vec![xpub(2), xpub(1)]
    );
    assert!(start.current.is_some() && start.payable.is_some());
    chain.state.unwind(&start).unwrap();
    assert_eq!(chain.state, after_end);
    assert!(!chain.state.payable_rewards().is_empty());
    chain.state.unwind(&end).unwrap();
    assert_eq!(chain.state, before_end);
    assert_eq!(chain.state.next_set(), None);
    // Unwinding out of order is refused and changes nothing.
    assert!(chain.state.unwind(&start).is_err());
    assert_eq!(chain.state, before_end);
    // Re-applying gives the same changes.
    let again = apply_block(&chain.state, &block_on(chain.state.tip_hash(), 6, Vec::new()), 6).unwrap();
    assert_eq!(again, end);
}

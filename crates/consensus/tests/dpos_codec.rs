#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The election state codec over states built by applying real blocks: every state round-trips, the
//! encoding is canonical, and every malformed input is refused without a panic. The frozen vector is a
//! unit test of `dpos::state::codec`, over a state built field by field.

use consensus::dpos::state::codec::{ElectionCodecError, ElectionCodecLimits, MAGIC, VERSION};
use consensus::dpos::{
    ChainId, ConfigError, DposConfig, DposError, ElectionState, ProvenKey, RegistrationError, Validator,
    apply_block, registration_program,
};
use crypto::bls::SecretKey;
use crypto::chainkd::{XPrv, XPub};
use types::asset::AssetId;
use types::block::{Block, BlockHeader};
use types::profile::Profile;
use types::tx::{
    InputKind, OutputKind, SpendCommitment, SpendInput, Transaction, TxData, TxInput, TxOutput, VetoInput,
};
use types::{Amount, Hash};

// ---- Building blocks (as in tests/dpos.rs) ----

const GENESIS: Hash = Hash([0x47; 32]);

/// Round of 6 blocks, 2 validators, runs of 2, stake 10, minimum vote 2, lock 3, subsidy 100 until
/// height 1000, half of each validator's reward to its voters.
fn config() -> DposConfig {
    DposConfig::new(6, 2, 2, 10, 2, 3, 100)
        .unwrap()
        .with_voter_share(50)
        .unwrap()
        .with_subsidy_until(1000)
}

/// Registrations name a chain id other than the genesis hash, so the two cannot be mixed up.
fn chain_id() -> ChainId {
    ChainId::from_name("codec-test")
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

fn genesis() -> Vec<Validator> {
    [200u8, 201]
        .iter()
        .map(|&n| Validator {
            candidate: xpub(n),
            consensus_key: ProvenKey::from_secret(&bls(n)),
            votes: 0,
        })
        .collect()
}

fn program(voter: u8) -> Vec<u8> {
    let mut p = vec![0x00, 0x14];
    p.extend_from_slice(&[voter; 20]);
    p
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
            control_program: program(0),
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

/// A vote of `amount` for `candidate` from `voter`'s program, paying `fee`.
fn vote(nonce: u64, voter: u8, candidate: XPub, amount: u64, fee: u64) -> Transaction {
    let out = TxOutput::new(
        OutputKind::Vote {
            vote: candidate.as_bytes().to_vec(),
        },
        AssetId::BTM,
        Amount::new(amount).unwrap(),
        program(voter),
    );
    tx(vec![spend(nonce, amount + fee)], vec![out])
}

/// Vetoes the only output of `vote_tx`.
fn veto(vote_tx: &Transaction) -> Transaction {
    let out = &vote_tx.outputs()[0];
    let input = TxInput::new(InputKind::Veto(VetoInput {
        commitment: SpendCommitment {
            source_id: vote_tx.ids().mux_id,
            asset_id: out.asset_id(),
            amount: out.amount(),
            source_position: 0,
            vm_version: 1,
            control_program: out.control_program().to_vec(),
            suffix: Vec::new(),
        },
        vote: out.vote().unwrap().to_vec(),
        arguments: Vec::new(),
    }));
    let back = TxOutput::new(OutputKind::Control, AssetId::BTM, out.amount(), program(0));
    tx(vec![input], vec![back])
}

fn register(nonce: u64, candidate: u8, sequence: u64, bls_seed: u8) -> Transaction {
    let reg = registration_program(&chain_id(), &xprv(candidate), sequence, &bls(bls_seed));
    tx(
        vec![spend(nonce, 1)],
        vec![
            TxOutput::new(OutputKind::Control, AssetId::BTM, Amount::ZERO, reg),
            TxOutput::new(
                OutputKind::Control,
                AssetId::BTM,
                Amount::new(1).unwrap(),
                program(0),
            ),
        ],
    )
}

fn block_on(parent: Hash, height: u64, txs: Vec<Transaction>) -> Block {
    let mut header = BlockHeader::empty(Profile::Side);
    header.height = height;
    header.previous_block_hash = parent;
    header.timestamp = height * 500;
    let root = Block::new(header.clone(), txs.clone())
        .unwrap()
        .compute_transactions_merkle_root();
    header.transactions_merkle_root = root;
    Block::new(header, txs).unwrap()
}

/// The states after genesis and after each of 13 blocks: registrations, a key rotation, votes from
/// several voters (one for an unregistered xpub), a veto, two round ends (an elected set, then rewards
/// shared with voters) and the first block of round 3 (no next set, round tallies running).
fn states() -> Vec<ElectionState> {
    let mut state = ElectionState::with_chain_id(config(), chain_id(), GENESIS, genesis()).unwrap();
    let to_veto = vote(4, 2, xpub(1), 8, 0);
    let mut blocks: Vec<Vec<Transaction>> = vec![
        // 1
        vec![
            register(1, 1, 1, 1),
            register(2, 2, 1, 2),
            register(3, 3, 1, 3),
            vote(5, 1, xpub(1), 12, 0),
            to_veto.clone(),
        ],
        // 2
        vec![
            vote(6, 3, xpub(2), 15, 5),
            vote(7, 4, xpub(3), 4, 0),
            vote(8, 5, xpub(9), 6, 1),
        ],
        // 3: candidate 1 rotates its key.
        vec![register(9, 1, 2, 11)],
        // 4: the lock (3 blocks) allows the veto.
        vec![veto(&to_veto)],
    ];
    blocks.extend((5..=7).map(|_| Vec::new()));
    blocks.push(vec![vote(10, 6, xpub(3), 9, 3)]); // 8
    blocks.extend((9..=13).map(|_| Vec::new()));
    let mut out = vec![state.clone()];
    for (i, txs) in blocks.into_iter().enumerate() {
        let h = u64::try_from(i).unwrap() + 1;
        let change = apply_block(&state, &block_on(state.tip_hash(), h, txs), h).unwrap();
        assert!(change.ignored.is_empty(), "height {h}: {:?}", change.ignored);
        state.apply(&change).unwrap();
        out.push(state.clone());
    }
    out
}

fn limits() -> ElectionCodecLimits {
    ElectionCodecLimits::default()
}

fn decode(bytes: &[u8]) -> Result<ElectionState, ElectionCodecError> {
    ElectionState::decode(bytes, &limits())
}

// ---- Layout (module docs of `consensus::dpos::state::codec`) ----

const SET_ENTRY: usize = 64 + 48 + 96 + 8;
const CANDIDATE_ENTRY: usize = 64 + 48 + 96 + 8 + 8;
/// Magic, version, then the configuration's eight u64 and one u8.
const CONFIG_AT: usize = 5;
const CHAIN_ID_AT: usize = CONFIG_AT + 8 * 8 + 1;
const GENESIS_AT: usize = CHAIN_ID_AT + 32;
/// The test genesis set has two validators.
const NEXT_HEIGHT_AT: usize = GENESIS_AT + 4 + 2 * SET_ENTRY;
const CANDIDATES_AT: usize = NEXT_HEIGHT_AT + 8 + 32;

fn candidate_at(i: usize) -> usize {
    CANDIDATES_AT + 4 + i * CANDIDATE_ENTRY
}

/// The richest state: three candidates, one rotated key, an elected next set, payable rewards with
/// voter shares.
fn rich() -> ElectionState {
    states().swap_remove(12)
}

// ---- Round trips ----

#[test]
fn every_state_along_a_chain_round_trips_and_re_encodes_identically() {
    let states = states();
    for (h, state) in states.iter().enumerate() {
        let bytes = state.encode();
        assert!(bytes.starts_with(MAGIC) && bytes[4] == VERSION);
        let back = decode(&bytes).unwrap_or_else(|e| panic!("height {h}: {e}"));
        assert_eq!(&back, state, "height {h}");
        assert_eq!(back.encode(), bytes, "height {h}: canonical");
        if let Some(next) = states.get(h + 1) {
            assert_ne!(
                next.encode(),
                bytes,
                "height {h}: every block changes the encoding"
            );
        }
    }
    // The chain covers every part of the state.
    let s = &states[12];
    assert_eq!(s.config(), &config());
    assert_eq!(s.chain_id(), &chain_id());
    assert_eq!(s.candidates().len(), 3);
    assert_eq!(
        s.candidates()[&xpub(1)].consensus_key,
        ProvenKey::from_secret(&bls(11))
    );
    assert_eq!(s.vote_records().len(), 5);
    assert_eq!(s.votes_for(&xpub(9)), 6);
    let next = s.next_set().unwrap();
    // Elected at height 12 by the totals then: 2 (15), 3 (4 + 9), not 1 (20 less a veto of 8).
    assert_eq!(next.validators()[0].candidate, xpub(2));
    assert_eq!(next.validators()[1].candidate, xpub(3));
    assert!(next.validators().iter().all(|v| v.votes > 0));
    assert_ne!(s.current_set(), s.genesis_set());
    assert!(!s.payable_rewards().validators.is_empty());
    assert!(!s.payable_rewards().voters.is_empty());
    assert!(s.round_rewards().is_empty());
    let s = &states[13];
    assert!(s.next_set().is_none());
    assert!(s.payable_rewards().is_empty());
    assert!(!s.round_rewards().is_empty());
    assert!(!states[6].payable_rewards().is_empty() && states[6].payable_rewards().voters.is_empty());
}

#[test]
fn decoded_state_applies_the_next_block_like_the_original() {
    let states = states();
    let s = &states[12];
    let back = decode(&s.encode()).unwrap();
    let block = block_on(s.tip_hash(), 13, vec![vote(99, 7, xpub(2), 3, 1)]);
    let (a, b) = (
        apply_block(s, &block, 13).unwrap(),
        apply_block(&back, &block, 13).unwrap(),
    );
    assert_eq!(a, b);
    let mut back = back;
    back.apply(&b).unwrap();
    back.unwind(&b).unwrap();
    assert_eq!(&back, s);
}

// ---- Malformed input ----

#[test]
fn every_truncation_is_an_error() {
    for state in [&states()[0], &rich()] {
        let bytes = state.encode();
        for cut in 0..bytes.len() {
            assert!(
                matches!(decode(&bytes[..cut]), Err(ElectionCodecError::Truncated { .. })),
                "cut at {cut}: {:?}",
                decode(&bytes[..cut]).err()
            );
        }
    }
}

#[test]
fn trailing_bytes_are_rejected() {
    let mut bytes = rich().encode();
    bytes.push(0);
    assert_eq!(
        decode(&bytes),
        Err(ElectionCodecError::TrailingBytes { count: 1 })
    );
    bytes.extend_from_slice(&[1, 2, 3]);
    assert_eq!(
        decode(&bytes),
        Err(ElectionCodecError::TrailingBytes { count: 4 })
    );
}

/// Every byte position changed, the kind of change cycling through flipping the low bit, flipping the
/// high bit, zero and 0xff: never a panic, and whatever decodes re-encodes to the very bytes it came
/// from (no state has two encodings). One change per position keeps the test to seconds: about 40% of
/// the changes (heights, amounts, hashes, config values) are valid states, and each valid state costs
/// the pairing checks of its keys.
#[test]
fn changed_bytes_never_panic_and_what_decodes_is_canonical() {
    let bytes = rich().encode();
    let (mut decoded, mut refused) = (0, 0);
    for pos in 0..bytes.len() {
        let old = bytes[pos];
        let mut value = [old ^ 0x01, old ^ 0x80, 0x00, 0xff][pos % 4];
        if value == old {
            value = old ^ 0x01;
        }
        let mut b = bytes.clone();
        b[pos] = value;
        match decode(&b) {
            Ok(state) => {
                assert_eq!(state.encode(), b, "byte {pos} = {value:#04x}");
                decoded += 1;
            }
            Err(_) => refused += 1,
        }
    }
    assert!(decoded > 0 && refused > 0);
}

#[test]
fn unsorted_or_repeated_keys_are_rejected() {
    let bytes = rich().encode();
    let (a, b, end) = (candidate_at(0), candidate_at(1), candidate_at(2));
    let mut swapped = bytes.clone();
    swapped[a..end].copy_from_slice(&[&bytes[b..end], &bytes[a..b]].concat());
    assert_eq!(
        decode(&swapped),
        Err(ElectionCodecError::NotAscending { field: "candidates" })
    );
    let mut repeated = bytes.clone();
    repeated[b..end].copy_from_slice(&bytes[a..b]);
    assert_eq!(
        decode(&repeated),
        Err(ElectionCodecError::NotAscending { field: "candidates" })
    );
}

#[test]
fn a_proof_of_possession_that_does_not_verify_is_rejected() {
    let bytes = rich().encode();
    let key_at = |i: usize| candidate_at(i) + 64;
    let proof_at = |i: usize| key_at(i) + 48;
    // Candidate 0 carrying candidate 1's (valid, but not its) proof.
    let mut b = bytes.clone();
    b[proof_at(0)..proof_at(0) + 96].copy_from_slice(&bytes[proof_at(1)..proof_at(1) + 96]);
    assert_eq!(
        decode(&b),
        Err(ElectionCodecError::Key {
            field: "candidates",
            source: RegistrationError::BadProofOfPossession
        })
    );
    // A vote signature over the key is not a proof (another domain).
    let sk = bls(20);
    let mut b = bytes.clone();
    b[key_at(0)..key_at(0) + 48].copy_from_slice(&sk.public_key().to_bytes());
    b[proof_at(0)..proof_at(0) + 96].copy_from_slice(&sk.sign(&sk.public_key().to_bytes()).to_bytes());
    assert!(matches!(
        decode(&b),
        Err(ElectionCodecError::Key {
            source: RegistrationError::BadProofOfPossession,
            ..
        })
    ));
    // A key that is not a point.
    let mut b = bytes.clone();
    b[key_at(0)..key_at(0) + 48].copy_from_slice(&[0x11; 48]);
    assert!(matches!(
        decode(&b),
        Err(ElectionCodecError::Key {
            source: RegistrationError::BadConsensusKey,
            ..
        })
    ));
    // A genesis validator with another's proof.
    let g = |i: usize| GENESIS_AT + 4 + i * SET_ENTRY + 64 + 48;
    let mut b = bytes.clone();
    b[g(0)..g(0) + 96].copy_from_slice(&bytes[g(1)..g(1) + 96]);
    assert_eq!(
        decode(&b),
        Err(ElectionCodecError::Key {
            field: "genesis set",
            source: RegistrationError::BadProofOfPossession
        })
    );
    // The same key and proof under another candidate verify, but two candidates cannot share a key.
    let mut b = bytes.clone();
    b[key_at(1)..key_at(1) + 144].copy_from_slice(&bytes[key_at(0)..key_at(0) + 144]);
    assert!(matches!(
        decode(&b),
        Err(ElectionCodecError::SharedConsensusKey { .. })
    ));
}

#[test]
fn invalid_sets_are_rejected() {
    let bytes = rich().encode();
    let v = |i: usize| GENESIS_AT + 4 + i * SET_ENTRY;
    let mut b = bytes.clone();
    b[v(1)..v(2)].copy_from_slice(&bytes[v(0)..v(1)]);
    assert_eq!(
        decode(&b),
        Err(ElectionCodecError::InvalidSet {
            field: "genesis set",
            source: DposError::InvalidSet("duplicate candidate")
        })
    );
    // The same key under two xpubs.
    let mut b = bytes.clone();
    b[v(1) + 64..v(1) + 208].copy_from_slice(&bytes[v(0) + 64..v(0) + 208]);
    assert_eq!(
        decode(&b),
        Err(ElectionCodecError::InvalidSet {
            field: "genesis set",
            source: DposError::InvalidSet("duplicate consensus key")
        })
    );
    let empty = [&bytes[..GENESIS_AT], &[0, 0, 0, 0], &bytes[NEXT_HEIGHT_AT..]].concat();
    assert_eq!(
        decode(&empty),
        Err(ElectionCodecError::InvalidSet {
            field: "genesis set",
            source: DposError::InvalidSet("empty")
        })
    );
}

#[test]
fn header_config_and_tags_are_checked() {
    let state = &states()[0];
    let bytes = state.encode();
    let with = |at: usize, new: &[u8]| {
        let mut b = bytes.clone();
        b[at..at + new.len()].copy_from_slice(new);
        decode(&b)
    };
    assert_eq!(with(0, b"TDPT"), Err(ElectionCodecError::BadMagic));
    assert_eq!(
        with(4, &[2]),
        Err(ElectionCodecError::UnsupportedVersion { version: 2 })
    );
    assert_eq!(
        with(CONFIG_AT, &0u64.to_be_bytes()),
        Err(ElectionCodecError::Config(ConfigError::Zero {
            field: "round_length"
        }))
    );
    assert_eq!(
        with(CHAIN_ID_AT - 1, &[101]),
        Err(ElectionCodecError::Config(ConfigError::PercentAbove100 {
            field: "voter_share_percent",
            value: 101
        }))
    );
    assert_eq!(
        with(NEXT_HEIGHT_AT, &0u64.to_be_bytes()),
        Err(ElectionCodecError::ZeroNextHeight)
    );
    // After genesis: no candidates, tallies or votes, the current set, then the next set's tag.
    let next_tag = CANDIDATES_AT + 3 * 4 + 4 + 2 * SET_ENTRY;
    assert_eq!(bytes[next_tag], 1);
    assert_eq!(
        with(next_tag, &[2]),
        Err(ElectionCodecError::BadTag {
            field: "next set",
            tag: 2
        })
    );
    // Every config field is read: the subsidy's last height round-trips.
    let back = with(CONFIG_AT + 7 * 8, &77u64.to_be_bytes()).unwrap();
    assert_eq!(back.config().subsidy_last_height, 77);
    assert_eq!(back.config().voter_share_percent, 50);
}

#[test]
fn tallies_must_match_the_vote_records() {
    let state = rich();
    let bytes = state.encode();
    let tallies_at = candidate_at(state.candidates().len());
    let first = tallies_at + 4 + 64;
    let tally = u64::from_be_bytes(bytes[first..first + 8].try_into().unwrap());
    let mut b = bytes.clone();
    b[first..first + 8].copy_from_slice(&(tally + 1).to_be_bytes());
    assert_eq!(decode(&b), Err(ElectionCodecError::TallyMismatch));
}

#[test]
fn payable_rewards_must_be_in_settlement_order() {
    let state = rich();
    let bytes = state.encode();
    let p = state.payable_rewards();
    assert_eq!(p.validators.len(), 2);
    let voters: usize = p.voters.iter().map(|v| 4 + v.program.len() + 8).sum();
    let start = bytes.len() - (4 + 2 * 88 + 4 + voters);
    let (a, b) = (start + 4, start + 4 + 88);
    let mut swapped = bytes.clone();
    swapped[a..b + 88].copy_from_slice(&[&bytes[b..b + 88], &bytes[a..b]].concat());
    assert_eq!(
        decode(&swapped),
        Err(ElectionCodecError::NotCanonicalOrder {
            field: "payable validators"
        })
    );
    assert!(p.voters.len() >= 2);
    let (a, n) = (start + 4 + 2 * 88 + 4, 4 + p.voters[0].program.len() + 8);
    let m = 4 + p.voters[1].program.len() + 8;
    let mut swapped = bytes.clone();
    swapped[a..a + n + m].copy_from_slice(&[&bytes[a + n..a + n + m], &bytes[a..a + n]].concat());
    assert_eq!(
        decode(&swapped),
        Err(ElectionCodecError::NotCanonicalOrder {
            field: "payable voters"
        })
    );
}

#[test]
fn counts_are_bounded_by_the_limits_and_the_input() {
    let state = rich();
    let bytes = state.encode();
    let tight = ElectionCodecLimits {
        max_candidates: 2,
        ..limits()
    };
    assert_eq!(
        ElectionState::decode(&bytes, &tight),
        Err(ElectionCodecError::TooMany {
            field: "candidates",
            count: 3,
            limit: 2
        })
    );
    let tight = ElectionCodecLimits {
        max_set_size: 1,
        ..limits()
    };
    assert!(matches!(
        ElectionState::decode(&bytes, &tight),
        Err(ElectionCodecError::TooMany {
            field: "genesis set",
            ..
        })
    ));
    let tight = ElectionCodecLimits {
        max_program_bytes: 21,
        ..limits()
    };
    assert!(matches!(
        ElectionState::decode(&bytes, &tight),
        Err(ElectionCodecError::TooLong {
            field: "votes",
            len: 22,
            limit: 21
        })
    ));
    // A huge count is refused before anything is allocated for it.
    let mut b = bytes.clone();
    b[CANDIDATES_AT..CANDIDATES_AT + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(decode(&b), Err(ElectionCodecError::TooMany { .. })));
    b[CANDIDATES_AT..CANDIDATES_AT + 4].copy_from_slice(&99_999u32.to_be_bytes());
    assert_eq!(
        decode(&b),
        Err(ElectionCodecError::Truncated { field: "candidates" })
    );
    let mut b = bytes.clone();
    b[GENESIS_AT..GENESIS_AT + 4].copy_from_slice(&10_000u32.to_be_bytes());
    assert_eq!(
        decode(&b),
        Err(ElectionCodecError::Truncated { field: "genesis set" })
    );
}

//! SPV: `get-merkle-proof` pieces built from a block and verified, tampering refused; the header chain
//! light client (linkage, bits, PoW, timestamps, heaviest tip, confirmations, bounded memory).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{CheapPow, genesis, mined_chain, mined_child, template, test_params};
use num_bigint::BigUint;
use pow::spv::{Accepted, Checkpoint, HeaderChain, MerkleBlockProof, ProofError, SpvError, work_of};
use pow::validate::{HeaderContext, HeaderError};
use proptest::prelude::*;
use types::merkle::{status_merkle_root, tx_merkle_root};
use types::tx::{CoinbaseInput, InputKind, OutputKind, TxData, TxInput, TxOutput};
use types::{Amount, AssetId, Block, BlockHeader, Hash, HeaderConsensus, Limits, Profile, Transaction};

const T0: u64 = 1_600_000_000;
const NOW: u64 = T0 + 1_000_000;

fn tx(i: u32) -> Transaction {
    Transaction::new(
        Profile::Main,
        TxData {
            version: 1,
            time_range: 0,
            inputs: vec![TxInput::new(InputKind::Coinbase(CoinbaseInput {
                arbitrary: i.to_le_bytes().to_vec(),
            }))],
            outputs: vec![TxOutput::new(
                OutputKind::Control,
                AssetId([0xff; 32]),
                Amount::new(u64::from(i) + 1).unwrap(),
                vec![0x51],
            )],
        },
    )
    .unwrap()
}

/// A block of `n` transactions whose header commits to them and to `statuses`.
fn block(n: u32, statuses: &[bool]) -> Block {
    let txs: Vec<Transaction> = (0..n).map(tx).collect();
    let ids: Vec<Hash> = txs.iter().map(Transaction::id).collect();
    let p = test_params();
    let mut header = genesis(&p, T0);
    header.height = 7;
    header.transactions_merkle_root = tx_merkle_root(&ids);
    header.transaction_status_hash = status_merkle_root(statuses);
    Block::new(header, txs).unwrap()
}

fn statuses(n: u32) -> Vec<bool> {
    (0..n).map(|i| i % 3 == 1).collect()
}

#[test]
fn proofs_of_every_subset_shape_verify_with_statuses() {
    for n in [1u32, 2, 3, 5, 8, 13] {
        let st = statuses(n);
        let b = block(n, &st);
        let ids: Vec<Hash> = b.transactions().iter().map(Transaction::id).collect();
        for picks in [
            vec![0usize],
            vec![n as usize - 1],
            (0..n as usize).step_by(2).collect(),
            (0..n as usize).collect(),
        ] {
            let wanted: Vec<Hash> = picks.iter().rev().map(|i| ids[*i]).collect();
            let proof = MerkleBlockProof::build(&b, &st, &wanted).unwrap();
            // Matched in block order, whatever the request order.
            let want: Vec<Hash> = picks.iter().map(|i| ids[*i]).collect();
            assert_eq!(proof.matched_tx_ids, want);
            let proven = proof.verify().unwrap();
            for (p, i) in proven.iter().zip(&picks) {
                assert_eq!(p.tx_id, ids[*i]);
                assert_eq!(p.status_fail, st[*i], "n {n} tx {i}");
            }
        }
    }
}

#[test]
fn build_refuses_mismatched_statuses_and_verify_refuses_empty_matches() {
    let b = block(4, &statuses(4));
    assert_eq!(
        MerkleBlockProof::build(&b, &statuses(3), &[]),
        Err(ProofError::StatusCount {
            statuses: 3,
            transactions: 4
        })
    );
    let unrelated = MerkleBlockProof::build(&b, &statuses(4), &[Hash([1; 32])]).unwrap();
    assert!(unrelated.matched_tx_ids.is_empty());
    assert_eq!(unrelated.verify(), Err(ProofError::NothingMatched));
}

#[test]
fn leftover_hashes_or_flags_are_malformed() {
    let st = statuses(5);
    let b = block(5, &st);
    let id = b.transactions()[2].id();
    let proof = MerkleBlockProof::build(&b, &st, &[id]).unwrap();
    let mut extra = proof.clone();
    extra.tx_hashes.push(Hash([1; 32]));
    assert!(matches!(extra.verify(), Err(ProofError::Malformed(_))));
    let mut extra = proof.clone();
    extra.flags.push(0);
    assert!(matches!(extra.verify(), Err(ProofError::Malformed(_))));
    let mut short = proof;
    short.flags.pop();
    assert!(matches!(short.verify(), Err(ProofError::Malformed(_))));
}

#[test]
fn json_has_the_reference_fields_and_round_trips() {
    let st = statuses(5);
    let b = block(5, &st);
    let id = b.transactions()[3].id();
    let proof = MerkleBlockProof::build(&b, &st, &[id]).unwrap();
    let json = proof.to_json();
    let obj = json.as_object().unwrap();
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "block_header",
            "tx_hashes",
            "status_hashes",
            "flags",
            "matched_tx_ids"
        ]
    );
    assert_eq!(json["matched_tx_ids"][0], id.to_hex());
    assert_eq!(json["block_header"], hex::encode(b.header().encode()));
    let back = MerkleBlockProof::from_json(&json, &Limits::default()).unwrap();
    assert_eq!(back, proof);
    let mut bad = json.clone();
    bad["flags"][0] = 300.into();
    assert!(matches!(
        MerkleBlockProof::from_json(&bad, &Limits::default()),
        Err(ProofError::Json(_))
    ));
    let mut bad = json;
    bad["tx_hashes"][0] = "zz".into();
    assert!(matches!(
        MerkleBlockProof::from_json(&bad, &Limits::default()),
        Err(ProofError::Json(_))
    ));
}

#[derive(Debug, Clone)]
enum Tamper {
    TxHash(usize, usize, u8),
    StatusHash(usize, usize, u8),
    Flag(usize, u8),
    Matched(usize, usize, u8),
    DropTxHash(usize),
    DropFlag(usize),
    DropMatched(usize),
    ExtraMatched,
    ExtraTxHash,
    ExtraFlag(u8),
    SwapMatched,
    TxRoot(usize, u8),
    StatusRoot(usize, u8),
    FlipStatus(usize),
}

fn tamper() -> impl Strategy<Value = Tamper> {
    let i = 0usize..64;
    let b = 0usize..32;
    let x = 1u8..=255;
    prop_oneof![
        (i.clone(), b.clone(), x.clone()).prop_map(|(i, b, x)| Tamper::TxHash(i, b, x)),
        (i.clone(), b.clone(), x.clone()).prop_map(|(i, b, x)| Tamper::StatusHash(i, b, x)),
        (i.clone(), x.clone()).prop_map(|(i, x)| Tamper::Flag(i, x)),
        (i.clone(), b.clone(), x.clone()).prop_map(|(i, b, x)| Tamper::Matched(i, b, x)),
        i.clone().prop_map(Tamper::DropTxHash),
        i.clone().prop_map(Tamper::DropFlag),
        i.clone().prop_map(Tamper::DropMatched),
        Just(Tamper::ExtraMatched),
        Just(Tamper::ExtraTxHash),
        (0u8..4).prop_map(Tamper::ExtraFlag),
        Just(Tamper::SwapMatched),
        (b.clone(), x.clone()).prop_map(|(b, x)| Tamper::TxRoot(b, x)),
        (b, x).prop_map(|(b, x)| Tamper::StatusRoot(b, x)),
        i.prop_map(Tamper::FlipStatus),
    ]
}

fn apply(p: &mut MerkleBlockProof, t: &Tamper) -> bool {
    let pick = |len: usize, i: usize| (len > 0).then(|| i % len);
    match *t {
        Tamper::TxHash(i, b, x) => pick(p.tx_hashes.len(), i)
            .map(|i| p.tx_hashes[i].0[b] ^= x)
            .is_some(),
        Tamper::StatusHash(i, b, x) => pick(p.status_hashes.len(), i)
            .map(|i| p.status_hashes[i].0[b] ^= x)
            .is_some(),
        Tamper::Flag(i, x) => pick(p.flags.len(), i)
            .map(|i| p.flags[i] = p.flags[i].wrapping_add(x))
            .is_some(),
        Tamper::Matched(i, b, x) => pick(p.matched_tx_ids.len(), i)
            .map(|i| p.matched_tx_ids[i].0[b] ^= x)
            .is_some(),
        Tamper::DropTxHash(i) => pick(p.tx_hashes.len(), i)
            .map(|i| p.tx_hashes.remove(i))
            .is_some(),
        Tamper::DropFlag(i) => pick(p.flags.len(), i).map(|i| p.flags.remove(i)).is_some(),
        Tamper::DropMatched(i) => pick(p.matched_tx_ids.len(), i)
            .map(|i| p.matched_tx_ids.remove(i))
            .is_some(),
        Tamper::ExtraMatched => {
            p.matched_tx_ids.push(Hash([0xab; 32]));
            true
        }
        Tamper::ExtraTxHash => {
            p.tx_hashes.push(Hash([0xcd; 32]));
            true
        }
        Tamper::ExtraFlag(f) => {
            p.flags.push(f);
            true
        }
        Tamper::SwapMatched => {
            if p.matched_tx_ids.len() < 2 {
                return false;
            }
            p.matched_tx_ids.swap(0, 1);
            true
        }
        Tamper::TxRoot(b, x) => {
            p.block_header.transactions_merkle_root.0[b] ^= x;
            true
        }
        Tamper::StatusRoot(b, x) => {
            p.block_header.transaction_status_hash.0[b] ^= x;
            true
        }
        Tamper::FlipStatus(i) => {
            // Replace a proven status leaf with the other status's leaf.
            let ok = types::merkle::leaf_hash(types::merkle::status_leaf_bytes(false));
            let failed = types::merkle::leaf_hash(types::merkle::status_leaf_bytes(true));
            let leaves: Vec<usize> = (0..p.status_hashes.len())
                .filter(|k| p.status_hashes[*k] == ok || p.status_hashes[*k] == failed)
                .collect();
            let Some(k) = pick(leaves.len(), i).map(|j| leaves[j]) else {
                return false;
            };
            p.status_hashes[k] = if p.status_hashes[k] == ok { failed } else { ok };
            true
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_tampering_is_refused(
        n in 1u32..12,
        picks in proptest::collection::vec(any::<bool>(), 12),
        t in tamper(),
    ) {
        let st = statuses(n);
        let b = block(n, &st);
        let ids: Vec<Hash> = b.transactions().iter().map(Transaction::id).collect();
        let mut wanted: Vec<Hash> = ids.iter().zip(&picks).filter(|(_, p)| **p).map(|(id, _)| *id).collect();
        if wanted.is_empty() {
            wanted.push(ids[0]);
        }
        let mut proof = MerkleBlockProof::build(&b, &st, &wanted).unwrap();
        prop_assert!(proof.verify().is_ok());
        let before = proof.clone();
        if apply(&mut proof, &t) && proof != before {
            prop_assert!(proof.verify().is_err(), "{t:?} accepted");
        }
    }
}

// ---- header chain ----

fn checkpoint_at_genesis() -> (HeaderContext, Checkpoint) {
    let p = test_params();
    let g = HeaderContext::genesis(&p, &genesis(&p, T0)).unwrap();
    let cp = Checkpoint {
        context: g.clone(),
        total_work: work_of(p.genesis_bits),
    };
    (g, cp)
}

#[test]
fn follows_the_heaviest_branch_and_counts_confirmations() {
    let p = test_params();
    let (g, cp) = checkpoint_at_genesis();
    let mut chain = HeaderChain::new(p.clone(), CheapPow, cp, 1_000);
    let a = mined_chain(&p, &g, 5, 10, 1);
    for (h, _) in &a {
        assert_eq!(chain.accept(h, NOW).unwrap(), Accepted::NewTip);
    }
    assert_eq!(chain.accept(&a[2].0, NOW).unwrap(), Accepted::AlreadyKnown);
    assert_eq!(chain.tip_hash(), a[4].1.hash);
    assert_eq!(chain.confirmations(&a[4].1.hash), 1);
    assert_eq!(chain.confirmations(&a[0].1.hash), 5);
    assert_eq!(chain.confirmations(&g.hash), 6);
    assert_eq!(chain.tip_work(), work_of(p.genesis_bits) * 6u8);

    // A branch from block 2 of the same length is a tie: the first tip stays.
    let b = mined_chain(&p, &a[1].1, 3, 11, 2);
    for (h, _) in &b {
        assert_eq!(chain.accept(h, NOW).unwrap(), Accepted::SideBranch);
    }
    assert_eq!(chain.tip_hash(), a[4].1.hash);
    assert_eq!(chain.confirmations(&b[2].1.hash), 0, "side branch");
    // One more block makes it heavier: the tip moves, and the old branch loses its confirmations.
    let b4 = mined_child(&p, &b[2].1, 11, 2);
    assert_eq!(chain.accept(&b4, NOW).unwrap(), Accepted::NewTip);
    assert_eq!(chain.tip_hash(), b4.hash());
    assert_eq!(chain.confirmations(&a[4].1.hash), 0);
    assert_eq!(chain.confirmations(&a[1].1.hash), 5, "the common ancestor");
}

#[test]
fn refuses_bad_headers_with_typed_errors() {
    let p = test_params();
    let (g, cp) = checkpoint_at_genesis();
    let mut chain = HeaderChain::new(p.clone(), CheapPow, cp, 1_000);
    let good = mined_child(&p, &g, 10, 1);
    let mut orphan = good.clone();
    orphan.previous_block_hash = Hash([3; 32]);
    assert_eq!(
        chain.accept(&orphan, NOW),
        Err(SpvError::UnknownParent {
            parent: Hash([3; 32])
        })
    );
    let mut bits = good.clone();
    bits.consensus = HeaderConsensus::Pow {
        nonce: good.nonce().unwrap(),
        bits: good.bits().unwrap() - 1,
    };
    assert!(matches!(
        chain.accept(&bits, NOW),
        Err(SpvError::Header(HeaderError::BadBits { .. }))
    ));
    let mut future = template(&p, &g, NOW + 4_000, 1);
    future = common::mine_on(&CheapPow, &g, &future);
    assert!(matches!(
        chain.accept(&future, NOW),
        Err(SpvError::Header(HeaderError::TimestampInFuture { .. }))
    ));
    let mut nonce = good.clone();
    for n in 0.. {
        nonce.consensus = HeaderConsensus::Pow {
            nonce: n,
            bits: good.bits().unwrap(),
        };
        if !pow::validate::check_header_pow(&CheapPow, &nonce, &g.next_seed()) {
            break;
        }
    }
    assert!(matches!(
        chain.accept(&nonce, NOW),
        Err(SpvError::Header(HeaderError::BadProofOfWork { .. }))
    ));
    assert_eq!(chain.len(), 1, "nothing refused was kept");
    assert_eq!(chain.accept(&good, NOW).unwrap(), Accepted::NewTip);
}

#[test]
fn memory_is_bounded_and_forgotten_blocks_are_unknown() {
    let p = test_params();
    let (g, cp) = checkpoint_at_genesis();
    let mut chain = HeaderChain::new(p.clone(), CheapPow, cp, 8);
    let a = mined_chain(&p, &g, 20, 10, 1);
    for (h, _) in &a {
        chain.accept(h, NOW).unwrap();
        assert!(chain.len() <= 8);
    }
    assert_eq!(chain.len(), 8);
    assert_eq!(chain.tip_hash(), a[19].1.hash);
    assert_eq!(chain.confirmations(&a[12].1.hash), 8);
    assert_eq!(chain.confirmations(&a[11].1.hash), 0, "forgotten");
    // A branch off a forgotten block cannot attach.
    let side = mined_child(&p, &a[5].1, 11, 2);
    assert!(matches!(
        chain.accept(&side, NOW),
        Err(SpvError::UnknownParent { .. })
    ));
    // Work still accumulates from the checkpoint.
    assert_eq!(chain.tip_work(), work_of(p.genesis_bits) * 21u8);
}

#[test]
fn verifies_a_merkle_proof_against_confirmed_headers() {
    let p = test_params();
    let (g, cp) = checkpoint_at_genesis();
    let mut chain = HeaderChain::new(p.clone(), CheapPow, cp, 100);
    // Block 1 carries real transactions.
    let st = statuses(6);
    let txs: Vec<Transaction> = (0..6).map(tx).collect();
    let ids: Vec<Hash> = txs.iter().map(Transaction::id).collect();
    let mut t = template(&p, &g, T0 + 10, 1);
    t.transactions_merkle_root = tx_merkle_root(&ids);
    t.transaction_status_hash = status_merkle_root(&st);
    let h1 = common::mine_on(&CheapPow, &g, &t);
    let c1 = g.child(&p, &h1).unwrap();
    chain.accept(&h1, NOW).unwrap();
    let b1 = Block::new(h1.clone(), txs).unwrap();
    let proof = MerkleBlockProof::build(&b1, &st, &[ids[1], ids[4]]).unwrap();
    assert!(matches!(
        chain.verify_proof(&proof, 3),
        Err(SpvError::NotConfirmed {
            confirmations: 1,
            required: 3,
            ..
        })
    ));
    for (h, _) in mined_chain(&p, &c1, 2, 10, 1) {
        chain.accept(&h, NOW).unwrap();
    }
    let proven = chain.verify_proof(&proof, 3).unwrap();
    assert_eq!(proven.len(), 2);
    assert_eq!((proven[0].tx_id, proven[0].status_fail), (ids[1], true));
    assert_eq!((proven[1].tx_id, proven[1].status_fail), (ids[4], true));
    // A proof for a header the chain does not hold.
    let mut other = proof.clone();
    other.block_header = BlockHeader {
        timestamp: T0 + 11,
        ..other.block_header
    };
    assert!(matches!(
        chain.verify_proof(&other, 1),
        Err(SpvError::NotConfirmed { confirmations: 0, .. })
    ));
    let _ = BigUint::from(0u8);
}

#[test]
fn a_mid_chain_checkpoint_accepts_the_same_continuation() {
    let p = test_params();
    let (g, _) = checkpoint_at_genesis();
    let a = mined_chain(&p, &g, 14, 17, 1);
    let (cp_header, _) = &a[9];
    let ancestors: Vec<u64> = a[..9]
        .iter()
        .rev()
        .map(|(h, _)| h.timestamp)
        .chain([T0])
        .collect();
    let ctx = HeaderContext::trusted(&p, cp_header, &ancestors, a[7].0.timestamp, pow::INITIAL_SEED).unwrap();
    let cp = Checkpoint {
        context: ctx,
        total_work: BigUint::from(12_345u32),
    };
    let mut chain = HeaderChain::new(p.clone(), CheapPow, cp, 100);
    for (h, _) in &a[10..] {
        assert_eq!(chain.accept(h, NOW).unwrap(), Accepted::NewTip);
    }
    assert_eq!(
        chain.tip_work(),
        BigUint::from(12_345u32)
            + a[10..]
                .iter()
                .map(|(h, _)| work_of(h.bits().unwrap()))
                .sum::<BigUint>()
    );
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Rule vectors. Where a case comes from the references' `protocol/validation/tx_test.go` or
//! `block_test.go` it cites the test; values that our types cannot even hold (amounts above
//! 2^63-1, versions above 2^63-1) are left out because decoding already refuses them.

mod common;

use std::sync::Arc;

use common::*;
use ledger::testkit::{self, Coin};
use ledger::{
    BlockRejection, ChainParams, GasError, MemoryUtxoSet, TxRejection, UtxoEntry, UtxoKind, check_tx,
    check_tx_against, validate_block,
};
use types::tx::{CoinbaseInput, SpendCommitment, SpendInput, TxData, TxInput, TxOutput};
use types::{Amount, AssetId, BlockHeader, Hash, InputKind, OutputKind, Profile, Transaction};

const OP_TRUE: &[u8] = &[0x51];

fn spend(source: u64, asset: AssetId, amount: u64, program: &[u8], args: Vec<Vec<u8>>) -> TxInput {
    let mut s = [0u8; 32];
    s[..8].copy_from_slice(&source.to_be_bytes());
    TxInput::new(InputKind::Spend(SpendInput {
        commitment: SpendCommitment {
            source_id: Hash(s),
            asset_id: asset,
            amount: Amount::new(amount).unwrap(),
            source_position: 0,
            vm_version: 1,
            control_program: program.to_vec(),
            suffix: Vec::new(),
        },
        arguments: args,
    }))
}

fn out(asset: AssetId, amount: u64, program: &[u8]) -> TxOutput {
    TxOutput::new(
        OutputKind::Control,
        asset,
        Amount::new(amount).unwrap(),
        program.to_vec(),
    )
}

fn tx(profile: Profile, inputs: Vec<TxInput>, outputs: Vec<TxOutput>) -> Arc<Transaction> {
    Arc::new(
        Transaction::new(
            profile,
            TxData {
                version: 1,
                time_range: 0,
                inputs,
                outputs,
            },
        )
        .unwrap(),
    )
}

/// Bytom `tx_test.go` `TestOverflow` (the cases within 2^63-1): OP_TRUE spends of BTM.
#[test]
fn overflow_vectors() {
    let params = ChainParams::main_mainnet();
    let max = i64::MAX as u64;
    let cases: [(&[u64], &[u64], &str); 5] = [
        (&[max, 1], &[0], "overflow"),
        (&[max, max], &[0], "overflow"),
        (&[max, max - 1], &[0], "overflow"),
        (&[0], &[max], "gas"),
        (&[max - 1], &[max], "gas"),
    ];
    for (n, (ins, outs, want)) in cases.iter().enumerate() {
        let inputs = ins
            .iter()
            .enumerate()
            .map(|(i, a)| spend(9999 + i as u64, AssetId::BTM, *a, OP_TRUE, vec![]))
            .collect();
        let outputs = outs.iter().map(|a| out(AssetId::BTM, *a, OP_TRUE)).collect();
        let r = check_tx(tx(Profile::Main, inputs, outputs), &params, 1);
        match (*want, &r) {
            ("overflow", Err(TxRejection::Overflow { asset })) => assert_eq!(*asset, AssetId::BTM),
            ("gas", Err(TxRejection::Gas(GasError::NegativeFee { .. }))) => {}
            _ => panic!("case {n}: {r:?}"),
        }
    }
}

/// Bytom `tx_test.go` `TestTimeRange`: block height 333.
#[test]
fn time_range_vectors() {
    let params = ChainParams::main_mainnet();
    for (range, ok) in [(0u64, true), (334, true), (332, false), (1_521_625_824, true)] {
        let mut data = tx(
            Profile::Main,
            vec![spend(1, AssetId::BTM, 10_000_000, OP_TRUE, vec![])],
            vec![out(AssetId::BTM, 1, &[0x6a])],
        )
        .data()
        .clone();
        data.time_range = range;
        let t = Arc::new(Transaction::new(Profile::Main, data).unwrap());
        let r = check_tx(t, &params, 333);
        assert_eq!(r.is_ok(), ok, "{range}: {r:?}");
        if !ok {
            assert_eq!(
                r.unwrap_err(),
                TxRejection::TimeRange {
                    time_range: range,
                    height: 333
                }
            );
        }
    }
}

/// Bytom `tx_test.go` `TestValidateTxVersion` (txtest#1001, #1002; #1003 uses 2^64-1, replaced by 2^63-1).
#[test]
fn version_vectors() {
    for version in [2u64, 0, i64::MAX as u64] {
        for profile in [Profile::Main, Profile::Side] {
            let mut data = tx(
                profile,
                vec![spend(1, AssetId::BTM, 10_000_000, OP_TRUE, vec![])],
                vec![out(AssetId::BTM, 1, OP_TRUE)],
            )
            .data()
            .clone();
            data.version = version;
            let t = Arc::new(Transaction::new(profile, data).unwrap());
            assert_eq!(
                check_tx(t, &params(profile), 1),
                Err(TxRejection::Version { version })
            );
        }
    }
}

/// Bytom `tx_test.go` `TestStandardTx`: on the main chain a BTM spend and a BTM output must use
/// standard (P2WPKH, P2WSH, TRUE/FAIL) programs. The sidechain has no such rule.
#[test]
fn standard_program_vectors() {
    let bad = [0u8];
    let r = check_tx(
        tx(
            Profile::Main,
            vec![spend(1, AssetId::BTM, 10_000_000, &bad, vec![])],
            vec![out(AssetId::BTM, 1, OP_TRUE)],
        ),
        &ChainParams::main_mainnet(),
        1,
    );
    assert_eq!(r, Err(TxRejection::NonStandardInput { input: 0 }));
    let r = check_tx(
        tx(
            Profile::Main,
            vec![spend(1, AssetId::BTM, 10_000_000, OP_TRUE, vec![])],
            vec![out(AssetId::BTM, 1, OP_TRUE), out(AssetId::BTM, 1, &bad)],
        ),
        &ChainParams::main_mainnet(),
        1,
    );
    assert_eq!(r, Err(TxRejection::NonStandardOutput { output: 1 }));
    // A non-BTM output to a non-standard program is fine.
    let asset = AssetId([7; 32]);
    let r = check_tx(
        tx(
            Profile::Main,
            vec![
                spend(1, AssetId::BTM, 10_000_000, OP_TRUE, vec![]),
                spend(2, asset, 5, &[0x51, 0x51, 0x69], vec![]),
            ],
            vec![out(asset, 5, &bad)],
        ),
        &ChainParams::main_mainnet(),
        1,
    );
    assert!(r.is_ok(), "{r:?}");
}

/// Bytom `tx_test.go` `TestRuleAA`: a real transaction whose inputs 0 and 2 are the same spend. The
/// reference rejects it (mismatched position below height 142 500, empty input ID from it); here
/// every input has its own ID, so it is refused as a duplicate input at any height.
#[test]
fn rule_aa_duplicate_inputs() {
    let raw = "070100040161015f9bc47dda88eee18c7433340c16e054cabee4318a8d638e873be19e979df81dc7ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe0e3f9f5c80e01011600147c7662d92bd5e77454736f94731c60a6e9cbc69f6302404a17a5995b8163ee448719b462a5694b22a35522dd9883333fd462cc3d0aabf049445c5cbb911a40e1906a5bea99b23b1a79e215eeb1a818d8b1dd27e06f3004200530c4bc9dd3cbf679fec6d824ce5c37b0c8dab88b67bcae3b000924b7dce9940160015ee334d4fe18398f0232d2aca7050388ce4ee5ae82c8148d7f0cea748438b65135ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80ace6842001011600147c7662d92bd5e77454736f94731c60a6e9cbc69f6302404a17a5995b8163ee448719b462a5694b22a35522dd9883333fd462cc3d0aabf049445c5cbb911a40e1906a5bea99b23b1a79e215eeb1a818d8b1dd27e06f3004200530c4bc9dd3cbf679fec6d824ce5c37b0c8dab88b67bcae3b000924b7dce9940161015f9bc47dda88eee18c7433340c16e054cabee4318a8d638e873be19e979df81dc7ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe0e3f9f5c80e01011600147c7662d92bd5e77454736f94731c60a6e9cbc69f63024062c29b20941e7f762c3afae232f61d8dac1c544825931e391408c6715c408ef69f494a1b3b61ce380ddee0c8b18ecac2b46ef96a62eebb6ec40f9f545410870a200530c4bc9dd3cbf679fec6d824ce5c37b0c8dab88b67bcae3b000924b7dce9940160015ee334d4fe18398f0232d2aca7050388ce4ee5ae82c8148d7f0cea748438b65135ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80ace6842001011600147c7662d92bd5e77454736f94731c60a6e9cbc69f630240e443d66c75b4d5fa71676d60b0b067e6941f06349f31e5f73a7d51a73f5797632b2e01e8584cd1c8730dc16df075866b0c796bd7870182e2da4b37188208fe02200530c4bc9dd3cbf679fec6d824ce5c37b0c8dab88b67bcae3b000924b7dce99402013effffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa08ba3fae80e01160014aac0345165045e612b3d7363f39a372bead80ce700013effffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe08fe0fae80e01160014aac0345165045e612b3d7363f39a372bead80ce700";
    let t = Transaction::decode(
        &hex::decode(raw).unwrap(),
        Profile::Main,
        &types::Limits::default(),
    )
    .unwrap();
    for height in [142_499u64, 142_500] {
        let r = check_tx(Arc::new(t.clone()), &ChainParams::main_mainnet(), height);
        assert_eq!(r, Err(TxRejection::DuplicateInput { input: 2, first: 0 }));
    }
}

/// Bytom `tx_test.go` `TestGasStatus` through whole transactions: the fee buys gas at 200 neu per
/// unit on top of the free credit, capped (Bytom 200 000); storage gas is the size.
#[test]
fn gas_accounting() {
    // An OP_TRUE spend costs the same in the VM on both chains; measure it directly.
    let code = OP_TRUE.to_vec();
    let ctx = vm::Context::new(vm::VmProfile::Main, &code, &[]);
    let vm_gas = 1_000_000 - vm::verify(&ctx, 1_000_000).unwrap();
    for (profile, credit, cap) in [
        (Profile::Main, 30_000u64, 200_000u64),
        (Profile::Side, 160_000, 640_000),
    ] {
        let p = match profile {
            Profile::Main => ChainParams::main_mainnet(),
            Profile::Side => ChainParams::side_mainnet(),
        };
        assert_eq!(
            (
                u64::try_from(p.default_gas_credit).unwrap(),
                u64::try_from(p.max_gas_amount).unwrap()
            ),
            (credit, cap)
        );
        // 80 000 000 000 neu of fee: far above the cap (setGas case 3).
        let t = tx(
            profile,
            vec![spend(1, AssetId::BTM, 80_000_000_100, OP_TRUE, vec![])],
            vec![out(AssetId::BTM, 100, OP_TRUE)],
        );
        let c = check_tx(Arc::clone(&t), &p, 1).unwrap();
        assert_eq!(c.fee(), 80_000_000_000);
        assert_eq!(
            c.gas_used(),
            u64::try_from(vm_gas).unwrap() + t.serialized_size(),
            "{profile}"
        );
        // No fee: the credit still pays a small transaction.
        let t = tx(
            profile,
            vec![spend(1, AssetId::BTM, 100, OP_TRUE, vec![])],
            vec![out(AssetId::BTM, 100, OP_TRUE)],
        );
        assert_eq!(check_tx(t, &p, 1).unwrap().fee(), 0);
    }
}

/// Storage gas beyond what is left after the programs (`updateUsage` / `setGasValid`).
#[test]
fn storage_gas_must_be_paid() {
    let p = ChainParams::main_mainnet();
    let mut big = vec![0x6a];
    big.extend(std::iter::repeat_n(0u8, 40_000));
    // No fee: 30 000 credit < 40 000+ bytes of storage.
    let t = tx(
        Profile::Main,
        vec![spend(1, AssetId::BTM, 100, OP_TRUE, vec![])],
        vec![out(AssetId::BTM, 100, &big)],
    );
    let r = check_tx(t, &p, 1);
    assert!(
        matches!(r, Err(TxRejection::Gas(GasError::OverCredit { .. }))),
        "{r:?}"
    );
    // With a fee buying 50 000 gas it passes and pays the size.
    let t = tx(
        Profile::Main,
        vec![spend(1, AssetId::BTM, 10_000_100, OP_TRUE, vec![])],
        vec![out(AssetId::BTM, 100, &big)],
    );
    let c = check_tx(Arc::clone(&t), &p, 1).unwrap();
    assert!(c.gas_used() > t.serialized_size());
}

/// The programs of BTM inputs may use at most the free credit before the fee is secured
/// (`ErrOverGasCredit`); with too little gas in total the VM runs out and names the input.
#[test]
fn gas_credit_and_run_limit() {
    let p = ChainParams::main_mainnet();
    // A P2WSH whose script burns about 33 000 gas (130 × TXSIGHASH DROP).
    let mut script = Vec::new();
    for _ in 0..130 {
        script.extend_from_slice(&[0xae, 0x75]);
    }
    script.push(0x51);
    let hash: [u8; 32] = sha3_256(&script);
    let program = vm::standard::p2wsh_program(&hash);
    let mk = |fee: u64| {
        tx(
            Profile::Main,
            vec![spend(
                1,
                AssetId::BTM,
                1_000 + fee,
                &program,
                vec![script.clone()],
            )],
            vec![out(AssetId::BTM, 1_000, OP_TRUE)],
        )
    };
    // Fee 0: 30 000 gas; the script runs out inside CHECKPREDICATE, which leaves false.
    match check_tx(mk(0), &p, 1) {
        Err(TxRejection::Vm { input: 0, failure }) => assert_eq!(failure.reason, vm::VmError::FalseResult),
        other => panic!("{other:?}"),
    }
    // Fee for 100 000 gas: enough gas, but more than the credit used before the fee is secured.
    let r = check_tx(mk(20_000_000), &p, 1);
    assert!(
        matches!(r, Err(TxRejection::Gas(GasError::OverCredit { .. }))),
        "{r:?}"
    );
}

fn sha3_256(data: &[u8]) -> [u8; 32] {
    crypto::hash::sha3_256(data)
}

/// Per-asset balance: a non-BTM asset must balance exactly, and an output needs a source.
#[test]
fn balance_per_asset() {
    let p = ChainParams::side_mainnet();
    let a = AssetId([1; 32]);
    let r = check_tx(
        tx(
            Profile::Side,
            vec![
                spend(1, AssetId::BTM, 10_000_000, OP_TRUE, vec![]),
                spend(2, a, 10, OP_TRUE, vec![]),
            ],
            vec![out(a, 9, OP_TRUE)],
        ),
        &p,
        1,
    );
    assert_eq!(
        r,
        Err(TxRejection::Unbalanced {
            asset: a,
            difference: 1
        })
    );
    let b = AssetId([2; 32]);
    let r = check_tx(
        tx(
            Profile::Side,
            vec![spend(1, AssetId::BTM, 10_000_000, OP_TRUE, vec![])],
            vec![out(b, 1, OP_TRUE)],
        ),
        &p,
        1,
    );
    assert_eq!(r, Err(TxRejection::NoSource { output: 0, asset: b }));
    // Version-1 transactions need an output (`ErrEmptyResults`).
    let r = check_tx(
        tx(
            Profile::Side,
            vec![spend(1, AssetId::BTM, 10_000_000, OP_TRUE, vec![])],
            vec![],
        ),
        &p,
        1,
    );
    assert_eq!(r, Err(TxRejection::EmptyResults));
}

/// Vapor `tx.go` vote rules: 64-byte key, at least `MinVoteOutputAmount`, BTM only.
#[test]
fn vote_output_rules() {
    let p = ChainParams::side_mainnet();
    let vote_out = |key_len: usize, asset: AssetId, amount: u64| {
        TxOutput::new(
            OutputKind::Vote {
                vote: vec![9; key_len],
            },
            asset,
            Amount::new(amount).unwrap(),
            OP_TRUE.to_vec(),
        )
    };
    let a = AssetId([1; 32]);
    let cases = [
        (vote_out(64, AssetId::BTM, 100_000_000), None),
        (
            vote_out(63, AssetId::BTM, 100_000_000),
            Some(TxRejection::VotePubKey {
                what: "output",
                index: 0,
                len: 63,
            }),
        ),
        (
            vote_out(64, AssetId::BTM, 99_999_999),
            Some(TxRejection::VoteAmount {
                output: 0,
                amount: 99_999_999,
                min: 100_000_000,
            }),
        ),
        (
            vote_out(64, a, 100_000_000),
            Some(TxRejection::VoteAsset { output: 0 }),
        ),
    ];
    for (o, want) in cases {
        let asset = o.asset_id();
        let amount = o.amount().get();
        let mut inputs = vec![spend(
            1,
            AssetId::BTM,
            10_000_000 + if asset == AssetId::BTM { amount } else { 0 },
            OP_TRUE,
            vec![],
        )];
        if asset != AssetId::BTM {
            inputs.push(spend(2, asset, amount, OP_TRUE, vec![]));
        }
        let r = check_tx(tx(Profile::Side, inputs, vec![o]), &p, 1);
        match want {
            None => assert_eq!(r.unwrap().created()[0].1, UtxoKind::Vote),
            Some(w) => assert_eq!(r, Err(w)),
        }
    }
}

/// Coinbase placement (Bytom `tx_test.go` `TestCoinbase`): only as the single input of the first
/// transaction of a block; arbitrary data at most 128 bytes.
#[test]
fn coinbase_rules() {
    let p = ChainParams::main_mainnet();
    let cb = testkit::coinbase(Profile::Main, 666, vec![out(AssetId::BTM, 888, OP_TRUE)]).unwrap();
    assert_eq!(
        check_tx(Arc::new(cb.clone()), &p, 666),
        Err(TxRejection::MisplacedCoinbase { input: 0 })
    );
    let mixed = tx(
        Profile::Main,
        vec![
            spend(8, AssetId::BTM, 100_000_000, OP_TRUE, vec![]),
            TxInput::new(InputKind::Coinbase(CoinbaseInput { arbitrary: vec![] })),
        ],
        vec![
            out(AssetId::BTM, 888, OP_TRUE),
            out(AssetId::BTM, 90_000_000, OP_TRUE),
        ],
    );
    assert_eq!(
        check_tx(mixed, &p, 666),
        Err(TxRejection::MisplacedCoinbase { input: 1 })
    );
}

fn main_genesis_like() -> BlockHeader {
    let mut h = BlockHeader::empty(Profile::Main);
    h.version = 1;
    h.height = 10_000;
    h
}

/// Blocks: the main chain's coinbase pays subsidy plus fees in one output; transactions may spend
/// outputs created earlier in the block; a double spend and an immature coinbase are refused; the
/// change set nets out what is created and spent inside the block.
#[test]
fn main_chain_blocks() {
    let profile = Profile::Main;
    let p = ChainParams::main_mainnet();
    let ks = keys(3);
    let (mut set, coins) = fund(profile, &ks, 1_000_000_000, 4);
    let parent = main_genesis_like();
    let height = parent.height + 1;
    let subsidy = p.block_subsidy(height).unwrap();
    let (c0, k0) = &coins[0];
    let t1 = pay(profile, c0, k0, &ks[1], 500_000_000, 10_000_000);
    // t2 spends t1's first output, in the same block.
    let c1 = testkit::coins_of(&t1).remove(0);
    let t2 = pay(profile, &c1, &ks[1], &ks[2], 100_000_000, 5_000_000);
    let fees = 15_000_000;
    let cb = |amount: u64| {
        testkit::coinbase(
            profile,
            height,
            vec![testkit::output(ks[0].program(), AssetId::BTM, amount).unwrap()],
        )
        .unwrap()
    };
    let block = testkit::block(&parent, vec![cb(subsidy + fees), t1.clone(), t2.clone()], 1).unwrap();
    let before = set.encode();
    let cs = validate_block(&block, &parent, &set, &p, &[]).unwrap();
    assert_eq!(
        cs.spent,
        vec![(
            c0.output_id,
            UtxoEntry {
                kind: UtxoKind::Normal,
                height: 0
            }
        )]
    );
    // Coinbase output, t1's change, t2's two outputs; t1's first output was spent inside the block.
    assert_eq!(cs.created.len(), 4);
    assert_eq!(
        cs.created[0].1,
        UtxoEntry {
            kind: UtxoKind::Coinbase,
            height
        }
    );
    assert!(!cs.created.iter().any(|(id, _)| *id == c1.output_id));
    set.apply(&cs).unwrap();
    set.unwind(&cs).unwrap();
    assert_eq!(set.encode(), before);

    // Wrong coinbase amount.
    let bad = testkit::block(&parent, vec![cb(subsidy + fees - 1), t1.clone(), t2.clone()], 1).unwrap();
    assert_eq!(
        validate_block(&bad, &parent, &set, &p, &[]),
        Err(BlockRejection::CoinbaseAmount {
            found: subsidy + fees - 1,
            expected: subsidy + fees
        })
    );
    // Double spend inside the block.
    let t1b = pay(profile, c0, k0, &ks[2], 400_000_000, 10_000_000);
    let bad = testkit::block(
        &parent,
        vec![cb(subsidy + 20_000_000), t1.clone(), t1b.clone()],
        1,
    )
    .unwrap();
    match validate_block(&bad, &parent, &set, &p, &[]) {
        Err(BlockRejection::Tx {
            index: 2,
            reason: TxRejection::DoubleSpend { input: 0, output_id },
            ..
        }) => assert_eq!(output_id, c0.output_id),
        other => panic!("{other:?}"),
    }
    // Missing UTXO.
    let (c3, k3) = &coins[3];
    let mut empty = MemoryUtxoSet::new();
    let t3 = pay(profile, c3, k3, &ks[0], 1, 10_000_000);
    let b = testkit::block(&parent, vec![cb(subsidy + 10_000_000), t3.clone()], 1).unwrap();
    assert!(matches!(
        validate_block(&b, &parent, &empty, &p, &[]),
        Err(BlockRejection::Tx {
            index: 1,
            reason: TxRejection::MissingUtxo { input: 0, .. },
            ..
        })
    ));
    // Immature coinbase: created at height - 50, maturity 100.
    empty.insert(
        c3.output_id,
        UtxoEntry {
            kind: UtxoKind::Coinbase,
            height: height - 50,
        },
    );
    assert!(matches!(
        validate_block(&b, &parent, &empty, &p, &[]),
        Err(BlockRejection::Tx {
            index: 1,
            reason: TxRejection::ImmatureCoinbase { mature, .. },
            ..
        }) if mature == height + 50
    ));
    let c = check_tx(Arc::new(t3.clone()), &p, height).unwrap();
    assert!(check_tx_against(&c, &empty, height, &p).is_err());
    assert_eq!(check_tx_against(&c, &empty, height + 50, &p), Ok(()));
    // Two coinbase outputs.
    let two = testkit::coinbase(
        profile,
        height,
        vec![
            testkit::output(ks[0].program(), AssetId::BTM, subsidy).unwrap(),
            testkit::output(ks[0].program(), AssetId::BTM, 0).unwrap(),
        ],
    )
    .unwrap();
    let b = testkit::block(&parent, vec![two], 1).unwrap();
    assert!(matches!(
        validate_block(&b, &parent, &set, &p, &[]),
        Err(BlockRejection::CoinbaseOutputs(_))
    ));
    // Block gas limit.
    let tight = ChainParams {
        max_block_gas: 1_000,
        ..p.clone()
    };
    let b = testkit::block(&parent, vec![cb(subsidy + fees), t1, t2], 1).unwrap();
    assert_eq!(
        validate_block(&b, &parent, &set, &tight, &[]),
        Err(BlockRejection::Gas { max: 1_000 })
    );
    // No coinbase.
    let b = testkit::block(&parent, vec![t3], 1).unwrap();
    assert_eq!(
        validate_block(&b, &parent, &set, &p, &[]),
        Err(BlockRejection::MissingCoinbase)
    );
    let _: Option<Coin> = None;
}

/// Prechecked transactions are reused only when they were checked for this height.
#[test]
fn prechecked_reuse() {
    let profile = Profile::Side;
    let p = params(profile);
    let ks = keys(2);
    let (set, coins) = fund(profile, &ks, 1_000_000_000, 2);
    let mut parent = BlockHeader::empty(Profile::Side);
    parent.version = 1;
    parent.height = 5;
    let t = pay(profile, &coins[0].0, &coins[0].1, &ks[1], 10, 10_000_000);
    let cb = testkit::coinbase(
        profile,
        6,
        vec![testkit::output(ks[0].program(), AssetId::BTM, 0).unwrap()],
    )
    .unwrap();
    let block = testkit::block(&parent, vec![cb, t.clone()], 500).unwrap();
    let pre = check_tx(Arc::new(t.clone()), &p, 6).unwrap();
    let a = validate_block(&block, &parent, &set, &p, &[None, Some(pre.clone())]).unwrap();
    let b = validate_block(&block, &parent, &set, &p, &[]).unwrap();
    assert_eq!(a, b);
    // A "prechecked" result for a tampered copy is not trusted: the block's own transaction is checked.
    let other = check_tx(Arc::new(t.clone()), &p, 7).unwrap();
    assert_eq!(
        validate_block(&block, &parent, &set, &p, &[None, Some(other)]).unwrap(),
        b
    );
    // Sidechain timestamps: at least 500 ms after the parent.
    let early = testkit::block(&parent, vec![block.transactions()[0].clone(), t], 499).unwrap();
    assert_eq!(
        validate_block(&early, &parent, &set, &p, &[]),
        Err(BlockRejection::Timestamp {
            found: 499,
            earliest: 500
        })
    );
}

/// A window reports its first bad block with its position and height; an empty window is fine.
#[test]
fn window_names_the_bad_block() {
    let profile = Profile::Side;
    // Coinbases that pay a reward, as on a chain with DPoS round rewards.
    let p = ChainParams {
        max_side_coinbase_total: None,
        ..params(profile)
    };
    let ks = keys(1);
    let mut genesis = BlockHeader::empty(Profile::Side);
    genesis.version = 1;
    genesis.height = 7;
    let cb = |h: u64| {
        testkit::coinbase(
            profile,
            h,
            vec![testkit::output(ks[0].program(), AssetId::BTM, 1).unwrap()],
        )
        .unwrap()
    };
    let b1 = testkit::block(&genesis, vec![cb(8)], 500).unwrap();
    let b2 = testkit::block(b1.header(), vec![cb(9)], 1_000).unwrap();
    let set = MemoryUtxoSet::new();
    let sets = ledger::validate_window(&[b1.clone(), b2.clone()], &genesis, &set, &p).unwrap();
    assert_eq!(sets.len(), 2);
    assert_eq!(
        sets[1].created[0].1,
        UtxoEntry {
            kind: UtxoKind::Coinbase,
            height: 9
        }
    );
    assert_eq!(ledger::validate_window(&[], &genesis, &set, &p), Ok(vec![]));
    match ledger::validate_window(&[b1.clone(), b1], &genesis, &set, &p) {
        Err(BlockRejection::Window {
            position: 1,
            height: 8,
            reason,
        }) => {
            assert_eq!(
                *reason,
                BlockRejection::Height {
                    expected: 9,
                    found: 8
                }
            );
        }
        other => panic!("{other:?}"),
    }
}

/// The solo devnet has no block rewards: a sidechain coinbase that pays anything mints money and is
/// refused; a zero-amount coinbase is fine; a chain whose rewards come from the consensus layer
/// (`max_side_coinbase_total: None`) leaves the amount alone.
#[test]
fn sidechain_coinbase_cannot_mint_on_a_chain_without_rewards() {
    let p = ChainParams::side_devnet();
    let mut parent = BlockHeader::empty(Profile::Side);
    parent.version = 1;
    let set = ledger::MemoryUtxoSet::new();
    let cb = |amount| {
        testkit::coinbase(
            Profile::Side,
            1,
            vec![testkit::output(&[0x51], AssetId::BTM, amount).unwrap()],
        )
        .unwrap()
    };
    let minting = testkit::block(&parent, vec![cb(1)], 500).unwrap();
    assert_eq!(
        validate_block(&minting, &parent, &set, &p, &[]),
        Err(BlockRejection::CoinbaseAmount {
            found: 1,
            expected: 0
        })
    );
    let honest = testkit::block(&parent, vec![cb(0)], 500).unwrap();
    assert!(validate_block(&honest, &parent, &set, &p, &[]).is_ok());
    let rewarded = ChainParams {
        max_side_coinbase_total: None,
        ..ChainParams::side_devnet()
    };
    assert!(validate_block(&minting, &parent, &set, &rewarded, &[]).is_ok());
}

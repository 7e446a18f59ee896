#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Batched signature checks agree with plain VM runs.

mod common;

use std::sync::Arc;

use common::*;
use ledger::testkit;
use ledger::{TxRejection, check_tx, check_txs};
use types::{AssetId, Profile};
use vm::{Context, VmError, VmProfile};

/// The constant the fast path charges equals what the VM charges for a valid P2WPKH spend.
#[test]
fn p2wpkh_gas_matches_the_vm() {
    for profile in [Profile::Side, Profile::Main] {
        let ks = keys(2);
        let (_, coins) = fund(profile, &ks, 1_000_000_000, 1);
        let (coin, owner) = &coins[0];
        let tx = pay(profile, coin, owner, &ks[1], 1000, 10_000_000);
        let args = tx.inputs()[0].arguments().to_vec();
        let vm_profile = match profile {
            Profile::Side => VmProfile::Side,
            Profile::Main => VmProfile::Main,
        };
        let code = vm::standard::witness_program(vm_profile, owner.program()).into_owned();
        struct Intro(types::Hash);
        impl vm::TxIntrospection for Intro {
            fn tx_sig_hash(&self) -> types::Hash {
                self.0
            }
            fn check_output(&self, _: &vm::OutputCheck<'_>) -> Result<bool, VmError> {
                Err(VmError::Context)
            }
        }
        let intro = Intro(tx.sighash(0).unwrap());
        let mut ctx = Context::new(vm_profile, &code, &args);
        ctx.tx = Some(&intro);
        for limit in [10_000i64, 200_000, 1_000_000] {
            assert_eq!(vm::verify(&ctx, limit).unwrap(), limit - ledger::P2WPKH_GAS);
        }
    }
}

/// Parallel batched checks give exactly the plain results, for valid, tampered and odd witnesses.
#[test]
fn batched_results_equal_plain_results() {
    for profile in [Profile::Side, Profile::Main] {
        let params = params(profile);
        let ks = keys(4);
        let (_, coins) = fund(profile, &ks, 1_000_000_000, 50);
        let mut txs = Vec::new();
        for (n, (coin, owner)) in coins.iter().enumerate() {
            let tx = pay(
                profile,
                coin,
                owner,
                &ks[(n + 1) % 4],
                1000 + n as u64,
                10_000_000,
            );
            let tx = match n % 10 {
                3 => tamper_sig(&tx, 0),
                5 => {
                    // An extra argument below the signature: the VM still runs it (and succeeds).
                    let mut data = tx.data().clone();
                    let mut args = data.inputs[0].arguments().to_vec();
                    args.insert(0, vec![7]);
                    data.inputs[0].set_arguments(args);
                    types::Transaction::new(profile, data).unwrap()
                }
                7 => {
                    // The wrong key: the hash check fails before CHECKSIG.
                    let mut data = tx.data().clone();
                    let mut args = data.inputs[0].arguments().to_vec();
                    args[1] = ledger::testkit::Key::from_seed(b"stranger").pubkey().to_vec();
                    data.inputs[0].set_arguments(args);
                    types::Transaction::new(profile, data).unwrap()
                }
                _ => tx,
            };
            txs.push(arc(tx));
        }
        let batched = check_txs(&txs, &params, 10);
        let mut ok = 0;
        for (tx, b) in txs.iter().zip(&batched) {
            let plain = check_tx(Arc::clone(tx), &params, 10);
            assert_eq!(&plain, b);
            if plain.is_ok() {
                ok += 1;
            }
        }
        assert_eq!(ok, 200 - 40, "{profile}");
        for (n, b) in batched.iter().enumerate() {
            match n % 10 {
                3 => match b {
                    Err(TxRejection::Vm { input: 0, failure }) => {
                        assert_eq!(failure.reason, VmError::FalseResult);
                    }
                    other => panic!("{other:?}"),
                },
                7 => match b {
                    Err(TxRejection::Vm { input: 0, failure }) => {
                        assert_eq!(failure.op, Some("EQUALVERIFY"));
                        assert_eq!(failure.reason, VmError::VerifyFailed);
                    }
                    other => panic!("{other:?}"),
                },
                _ => assert!(b.is_ok(), "{n}: {b:?}"),
            }
        }
    }
}

/// A multi-input transaction whose second signature is bad is named by its input index.
#[test]
fn bad_second_signature_names_input_one() {
    let profile = Profile::Side;
    let params = params(profile);
    let ks = keys(2);
    let (_, coins) = fund(profile, &ks, 1_000_000_000, 3);
    let inputs: Vec<_> = coins.iter().take(3).map(|(c, k)| (c, k)).collect();
    let tx = testkit::transfer(
        profile,
        &inputs,
        vec![testkit::output(ks[1].program(), AssetId::BTM, 2_900_000_000).unwrap()],
    )
    .unwrap();
    assert!(check_tx(arc(tx.clone()), &params, 5).is_ok());
    let bad = arc(tamper_sig(&tx, 1));
    let plain = check_tx(Arc::clone(&bad), &params, 5);
    assert!(
        matches!(plain, Err(TxRejection::Vm { input: 1, .. })),
        "{plain:?}"
    );
    assert_eq!(check_txs(&[bad], &params, 5)[0], plain);
}

/// A P2WPKH transfer checked for one height is reused at another (same side of the empty-input-ID
/// fork); an issuance (its program may read the height) only at the height it was checked for.
#[test]
fn height_free_checks_are_reusable_at_other_heights() {
    for profile in [Profile::Side, Profile::Main] {
        let params = params(profile);
        let fork = params.empty_input_id_height;
        let ks = keys(2);
        let (_, coins) = fund(profile, &ks, 1_000_000_000, 1);
        let (coin, owner) = &coins[0];
        let at = fork.saturating_add(5);
        let transfer = check_tx(
            arc(pay(profile, coin, owner, &ks[1], 1000, 10_000_000)),
            &params,
            at,
        )
        .unwrap();
        assert!(transfer.reusable_at(at, &params));
        assert!(transfer.reusable_at(at + 40, &params));
        assert!(transfer.reusable_at(at - 1, &params));
        if fork > 0 {
            assert!(
                !transfer.reusable_at(fork - 1, &params),
                "across the fork the checks differ"
            );
        }

        if profile == Profile::Side {
            continue; // issuance is a main-chain input
        }
        let input = testkit::issuance(owner, b"{}", b"nonce", 7).unwrap();
        let out = testkit::output(ks[1].program(), testkit::issued_asset(owner, b"{}"), 7).unwrap();
        let fee_in = testkit::spend(coin);
        let change = testkit::output(
            owner.program(),
            AssetId::BTM,
            coin.commitment.amount.get() - 10_000_000,
        )
        .unwrap();
        let tx = testkit::signed(profile, vec![(input, owner), (fee_in, owner)], vec![out, change]).unwrap();
        let issued = check_tx(arc(tx), &params, at).unwrap();
        assert!(issued.reusable_at(at, &params));
        assert!(!issued.reusable_at(at + 1, &params));
    }
}

//! The index, the builder and the signer against real Vapor v1.1.9 blocks and transactions
//! (`crates/tributary/tests/fixtures/reference/vapor_{blocks,transactions}.json`, recorded from a
//! running solonet; the keys' mnemonics are in `addresses.json`). Signing is deterministic ed25519,
//! so a template built and signed here from the same wallet state must give the node's exact bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TempDir;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crypto::chainkd::XPub;
use serde_json::Value;
use types::{AssetId, Block, Hash, Limits, Network, OutputKind, Profile, Transaction};
use wallet::{BuildRequest, KdfParams, Template, TxQuery, Wallet, WalletError, WitnessComponent};

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tributary/tests/fixtures/reference")
        .join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn tmp(name: &str) -> TempDir {
    TempDir::new(name)
}

fn block(height: u64) -> Block {
    block_of("vapor", Profile::Side, height)
}

fn block_of(chain: &str, profile: Profile, height: u64) -> Block {
    let blocks = load(&format!("{chain}_blocks.json"));
    let b = blocks
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["block"]["height"].as_u64() == Some(height))
        .unwrap();
    Block::decode(
        &hex::decode(b["raw_block"].as_str().unwrap()).unwrap(),
        profile,
        &Limits::default(),
    )
    .unwrap()
}

fn fixture_tx(name: &str) -> Value {
    fixture_tx_of("vapor", name)
}

fn fixture_tx_of(chain: &str, name: &str) -> Value {
    let all = load(&format!("{chain}_transactions.json"));
    all.as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap()
        .clone()
}

const PW: &str = "123456";

/// A wallet with the reference's three accounts (alice, bob, multi = 2-of-3 bob/carol/dave) holding
/// the private keys named in `keys`; every receive address the node derived is derived here too, and
/// `change_up_to` change addresses per account are marked used. Returns the wallet, the map from
/// the node's account IDs to ours, and the wallet's directory (removed when dropped).
fn wallet_with(
    name: &str,
    keys: &[&str],
    change_up_to: &[(&str, u64)],
) -> (Wallet, BTreeMap<String, String>, TempDir) {
    wallet_of("vapor", Profile::Side, name, keys, change_up_to)
}

fn wallet_of(
    chain: &str,
    profile: Profile,
    name: &str,
    keys: &[&str],
    change_up_to: &[(&str, u64)],
) -> (Wallet, BTreeMap<String, String>, TempDir) {
    let addresses = load("addresses.json");
    let v = &addresses[chain];
    let dir = tmp(name);
    let w = Wallet::open(&dir, profile, Network::Devnet, KdfParams::FAST_INSECURE).unwrap();
    for k in v["create_key"].as_array().unwrap() {
        if keys.contains(&k["alias"].as_str().unwrap()) {
            w.import_key(k["alias"].as_str().unwrap(), PW, k["mnemonic"].as_str().unwrap())
                .unwrap();
        }
    }
    let mut ids = BTreeMap::new();
    for a in v["accounts"].as_array().unwrap() {
        let xpubs: Vec<XPub> = a["xpubs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| XPub::from_hex(x.as_str().unwrap()).unwrap())
            .collect();
        let ours = w
            .create_account(
                &xpubs,
                a["quorum"].as_u64().unwrap(),
                a["alias"].as_str().unwrap(),
            )
            .unwrap();
        ids.insert(a["id"].as_str().unwrap().to_string(), ours.id);
    }
    for (alias, list) in v["list_addresses"].as_object().unwrap() {
        let max = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["change"] == false)
            .map(|e| e["key_index"].as_u64().unwrap())
            .max()
            .unwrap_or(0);
        w.derive_addresses(alias, false, max).unwrap();
    }
    for (alias, n) in change_up_to {
        w.derive_addresses(alias, true, *n).unwrap();
    }
    (w, ids, dir)
}

fn build_request(name: &str) -> BuildRequest {
    serde_json::from_value(fixture_tx(name)["build_request"].clone()).unwrap()
}

#[test]
fn p2wpkh_spend_is_byte_identical_to_the_reference() {
    let fx = fixture_tx("spend_alice_to_bob_with_change");
    // Alice's only coin is the mint of block 110; her change address 1 is still unused then.
    let (w, _, _dir) = wallet_with("p2wpkh", &["alice"], &[]);
    w.apply_block(&block(110)).unwrap();
    let mut tpl = w
        .build(&build_request("spend_alice_to_bob_with_change"), 0)
        .unwrap();
    let tx = Transaction::decode(&tpl.raw_transaction, Profile::Side, &Limits::default()).unwrap();
    assert_eq!(tx.id().to_hex(), fx["tx_id"].as_str().unwrap());
    assert_eq!(tpl.fee, fx["decoded"]["fee"].as_u64().unwrap());
    // The template's JSON shape: one instruction, a 1-of-1 signature component then the public key.
    let json = serde_json::to_value(&tpl).unwrap();
    let si = &json["signing_instructions"][0];
    assert_eq!(si["position"], 0);
    assert_eq!(si["witness_components"][0]["type"], "raw_tx_signature");
    assert_eq!(si["witness_components"][0]["quorum"], 1);
    assert_eq!(si["witness_components"][0]["signatures"], Value::Null);
    assert_eq!(
        si["witness_components"][0]["keys"][0]["derivation_path"],
        serde_json::json!(["2c000000", "99000000", "01000000", "00000000", "01000000"])
    );
    assert_eq!(si["witness_components"][1]["type"], "data");
    assert_eq!(json["allow_additional_actions"], false);
    // Round trip through JSON, as a client would send it back.
    let back: Template = serde_json::from_value(json).unwrap();
    assert_eq!(back, tpl);
    assert!(!tpl.is_complete());
    assert!(w.sign(&mut tpl, PW).unwrap());
    assert_eq!(
        hex::encode(&tpl.raw_transaction),
        fx["raw_transaction"].as_str().unwrap()
    );
    // And it passes our ledger's stateless checks at its height.
    let tx = Transaction::decode(&tpl.raw_transaction, Profile::Side, &Limits::default()).unwrap();
    ledger::check_tx(Arc::new(tx), &ledger::ChainParams::side_devnet(), 149).unwrap();
}

#[test]
fn multisig_signed_by_two_parties_is_byte_identical_to_the_reference() {
    let fx = fixture_tx("multisig_2of3_spend_to_bob");
    // Party one: the node holding the accounts and bob's key. The node had already used multi's change
    // address 1, so this spend's change goes to change address 2, as it did there.
    let (w, _, _dir) = wallet_with("multisig", &["bob"], &[("multi", 1)]);
    w.apply_block(&block(150)).unwrap();
    let multi = w.unspent_outputs(Some("multi"), None).unwrap();
    assert_eq!(multi.len(), 1);
    assert_eq!(
        multi[0].id.to_hex(),
        fx["decoded"]["inputs"][0]["spent_output_id"].as_str().unwrap()
    );
    let mut tpl = w.build(&build_request("multisig_2of3_spend_to_bob"), 0).unwrap();
    let tx = Transaction::decode(&tpl.raw_transaction, Profile::Side, &Limits::default()).unwrap();
    assert_eq!(tx.id().to_hex(), fx["tx_id"].as_str().unwrap());
    let WitnessComponent::RawTxSignature { quorum, keys, .. } =
        &tpl.signing_instructions[0].witness_components[0]
    else {
        panic!("first component is not a signature component")
    };
    assert_eq!((*quorum, keys.len()), (2, 3));
    let witness = fx["decoded"]["inputs"][0]["witness_arguments"]
        .as_array()
        .unwrap();
    assert_eq!(
        tpl.signing_instructions[0].witness_components[1],
        WitnessComponent::Data {
            value: hex::decode(witness[2].as_str().unwrap()).unwrap()
        }
    );
    // Gas: one 2-of-3 input costs the reference's M-of-N formula in VM gas.
    let est = w.estimate_gas(&tpl).unwrap();
    assert_eq!(est.vm_neu, (1131 * 3 + 72 * 2 + 659) * 200);
    assert_eq!(
        est.storage_neu,
        i64::try_from(fx["raw_transaction"].as_str().unwrap().len() / 2).unwrap() * 200
    );
    // Bob signs: one of two.
    assert!(!w.sign(&mut tpl, PW).unwrap());
    // Party two: carol's own wallet, nothing but her key, signs the template it was handed as JSON.
    let carol_dir = tmp("carol");
    let carol = Wallet::open(
        &carol_dir,
        Profile::Side,
        Network::Devnet,
        KdfParams::FAST_INSECURE,
    )
    .unwrap();
    let addresses = load("addresses.json");
    let c = &addresses["vapor"]["create_key"][2];
    assert_eq!(c["alias"], "carol");
    carol
        .import_key("carol", "carol-pw", c["mnemonic"].as_str().unwrap())
        .unwrap();
    let mut handed: Template = serde_json::from_str(&serde_json::to_string(&tpl).unwrap()).unwrap();
    assert!(carol.sign(&mut handed, "carol-pw").unwrap());
    assert_eq!(
        hex::encode(&handed.raw_transaction),
        fx["raw_transaction"].as_str().unwrap()
    );
    // Signing again adds nothing and changes nothing.
    let again = handed.clone();
    assert!(carol.sign(&mut handed, "carol-pw").unwrap());
    assert_eq!(handed, again);
    let tx = Transaction::decode(&handed.raw_transaction, Profile::Side, &Limits::default()).unwrap();
    ledger::check_tx(Arc::new(tx), &ledger::ChainParams::side_devnet(), 172).unwrap();
}

#[test]
fn wrong_password_leaves_the_template_unchanged() {
    let (w, _, _dir) = wallet_with("signpw", &["alice"], &[]);
    w.apply_block(&block(110)).unwrap();
    let mut tpl = w
        .build(&build_request("spend_alice_to_bob_with_change"), 0)
        .unwrap();
    let before = tpl.clone();
    assert!(matches!(
        w.sign(&mut tpl, "wrong"),
        Err(WalletError::WrongPassword { .. })
    ));
    assert_eq!(tpl, before);
}

#[test]
fn index_annotates_as_the_reference_wallet_and_unwinds_exactly() {
    let (w, ids, _dir) = wallet_with("index", &[], &[("alice", 8), ("bob", 3), ("multi", 2)]);
    let snapshot = |w: &Wallet| {
        (
            w.indexed_tip().unwrap(),
            w.unspent_outputs(None, None).unwrap(),
            w.balances(None).unwrap(),
            w.transactions(&TxQuery::default()).unwrap(),
        )
    };
    w.apply_block(&block(174)).unwrap();
    let after_174 = snapshot(&w);
    for h in [175, 176] {
        w.apply_block(&block(h)).unwrap();
    }
    // Applying a block already indexed is a no-op; a block that does not extend the tip is refused.
    let after_176 = snapshot(&w);
    w.apply_block(&block(175)).unwrap();
    w.apply_block(&block(176)).unwrap();
    assert_eq!(snapshot(&w), after_176);
    assert!(matches!(
        w.apply_block(&block(199)),
        Err(WalletError::NotNextBlock { .. })
    ));
    assert!(matches!(
        w.unwind_block(&block(175)),
        Err(WalletError::NotTip { .. })
    ));
    // Each indexed transaction equals the node's get-transaction, with our account IDs.
    for name in ["retire_btm", "cross_chain_out", "vote_output"] {
        let fx = fixture_tx(name);
        let id = Hash::from_hex(fx["tx_id"].as_str().unwrap()).unwrap();
        let got = w
            .transactions(&TxQuery {
                tx_id: Some(id),
                ..TxQuery::default()
            })
            .unwrap();
        assert_eq!(got.len(), 1, "{name}");
        let mut want = fx["wallet_get_transaction"].clone();
        for side in ["inputs", "outputs"] {
            for item in want[side].as_array_mut().unwrap() {
                if let Some(Value::String(a)) = item.get_mut("account_id") {
                    *a = ids[a.as_str()].clone();
                }
            }
        }
        assert_eq!(serde_json::to_value(&got[0]).unwrap(), want, "{name}");
    }
    // The vote output is indexed with its key and its lock.
    let vote = w
        .unspent_outputs(Some("alice"), None)
        .unwrap()
        .into_iter()
        .find(|u| !u.vote.is_empty())
        .unwrap();
    assert_eq!(vote.valid_height, 176 + 10_000);
    // Balances sum the unspent outputs.
    let total: u64 = w
        .unspent_outputs(Some("alice"), None)
        .unwrap()
        .iter()
        .map(|u| u.amount)
        .sum();
    let bal = w.balances(Some("alice")).unwrap();
    assert_eq!(bal.iter().map(|b| b.amount).sum::<u64>(), total);
    // Unwind back to 174: exactly the state after 174; reopening keeps it.
    w.unwind_block(&block(176)).unwrap();
    w.unwind_block(&block(175)).unwrap();
    assert_eq!(snapshot(&w), after_174);
    // Apply again: the same state as the first time.
    w.apply_block(&block(175)).unwrap();
    w.apply_block(&block(176)).unwrap();
    assert_eq!(snapshot(&w), after_176);
}

#[test]
fn veto_of_a_locked_vote_is_refused_with_the_reference_code() {
    let fx = fixture_tx("veto_input");
    let (w, ids, _dir) = wallet_with("veto", &["alice"], &[("alice", 8)]);
    w.apply_block(&block(176)).unwrap();
    let mut req = fx["build_request"].clone();
    for a in req["actions"].as_array_mut().unwrap() {
        if let Some(Value::String(id)) = a.get_mut("account_id") {
            *id = ids[id.as_str()].clone();
        }
    }
    let err = w.build(&serde_json::from_value(req).unwrap(), 0).unwrap_err();
    assert!(matches!(err, WalletError::VoteLocked { .. }), "{err}");
    assert_eq!(err.reference_code(), "BTM704");
}

/// With the vote lock lifted (chain parameters with a vote maturity of 0), the same veto builds and
/// signs to the node's exact bytes (the node mined it at height 10229, after the 10 000-block lock).
#[test]
fn veto_is_byte_identical_to_the_reference_once_unlocked() {
    let fx = fixture_tx("veto_input");
    let addresses = load("addresses.json");
    let v = &addresses["vapor"];
    let mut params = ledger::ChainParams::side_devnet();
    params.vote_maturity = 0;
    let dir = tmp("veto-ok");
    let w = Wallet::open_with_params(&dir, params, KdfParams::FAST_INSECURE).unwrap();
    let alice = &v["create_key"][0];
    w.import_key("alice", PW, alice["mnemonic"].as_str().unwrap())
        .unwrap();
    let a = v["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["alias"] == "alice")
        .unwrap();
    let ours = w
        .create_account(
            &[XPub::from_hex(a["xpubs"][0].as_str().unwrap()).unwrap()],
            1,
            "alice",
        )
        .unwrap();
    w.derive_addresses("alice", false, 2).unwrap();
    w.derive_addresses("alice", true, 8).unwrap();
    w.apply_block(&block(176)).unwrap();
    let mut req = fx["build_request"].clone();
    req["actions"][0]["account_id"] = Value::String(ours.id.clone());
    let mut tpl = w.build(&serde_json::from_value(req).unwrap(), 0).unwrap();
    let tx = Transaction::decode(&tpl.raw_transaction, Profile::Side, &Limits::default()).unwrap();
    assert_eq!(tx.id().to_hex(), fx["tx_id"].as_str().unwrap());
    assert!(w.sign(&mut tpl, PW).unwrap());
    assert_eq!(
        hex::encode(&tpl.raw_transaction),
        fx["raw_transaction"].as_str().unwrap()
    );
}

#[test]
fn reservations_hold_until_expiry_or_a_block_spends_them() {
    let (w, _, _dir) = wallet_with("reserve", &["alice"], &[]);
    w.apply_block(&block(110)).unwrap();
    let mut req = build_request("spend_alice_to_bob_with_change");
    req.ttl = 1_000;
    w.build(&req, 10_000).unwrap();
    // The only coin is held: a second build fails with the reference's "reserved" code.
    let err = w.build(&req, 10_500).unwrap_err();
    assert!(matches!(err, WalletError::ReservedFunds { .. }), "{err}");
    assert_eq!(err.reference_code(), "BTM702");
    // After the TTL it is free again.
    w.build(&req, 11_001).unwrap();
    // More than the wallet holds: insufficient, with the amounts.
    let mut big = req.clone();
    big.actions[0]["amount"] = serde_json::json!(200_000_000_000u64);
    match w.build(&big, 50_000).unwrap_err() {
        WalletError::InsufficientFunds {
            needed, available, ..
        } => {
            assert_eq!((needed, available), (200_000_000_000, 99_980_000_000));
        }
        e => panic!("{e}"),
    }
}

#[test]
fn a_block_spending_a_reserved_output_releases_it() {
    let (w, _, _dir) = wallet_with("release", &["alice"], &[]);
    let b110 = block(110);
    w.apply_block(&b110).unwrap();
    let mut tpl = w
        .build(&build_request("spend_alice_to_bob_with_change"), 0)
        .unwrap();
    assert_eq!(w.reserved_outputs().unwrap(), 1);
    w.sign(&mut tpl, PW).unwrap();
    // The signed transaction mined in the next block (built here on top of 110; the wallet follows
    // linkage, not proof of work).
    let tx = Transaction::decode(&tpl.raw_transaction, Profile::Side, &Limits::default()).unwrap();
    let spend_id = tx.id();
    let mut header = b110.header().clone();
    header.height = 111;
    header.previous_block_hash = b110.hash();
    let next = Block::new(header, vec![tx]).unwrap();
    w.apply_block(&next).unwrap();
    assert_eq!(w.reserved_outputs().unwrap(), 0);
    let left = w.unspent_outputs(Some("alice"), None).unwrap();
    assert_eq!(left.len(), 1, "{left:#?}");
    assert_eq!(left[0].amount, 98_979_000_000);
    assert!(left[0].change);
    // The history shows it with alice's and bob's annotations, newest first (bob's other entry is
    // block 110's coinbase, which pays his mining address nothing).
    let txs = w
        .transactions(&TxQuery {
            account_alias: Some("bob".into()),
            ..TxQuery::default()
        })
        .unwrap();
    assert_eq!(txs.len(), 2);
    assert_eq!(txs[0].tx_id, spend_id);
    assert_eq!(txs[0].outputs[1].account_alias, "bob");
    assert_eq!(txs[0].inputs[0].account_alias, "alice");
}

#[test]
fn gas_estimate_has_the_reference_shape() {
    let (w, _, _dir) = wallet_with("gas", &["alice"], &[]);
    w.apply_block(&block(110)).unwrap();
    let tpl = w
        .build(&build_request("spend_alice_to_bob_with_change"), 0)
        .unwrap();
    let est = w.estimate_gas(&tpl).unwrap();
    let json = serde_json::to_value(est).unwrap();
    for k in ["total_neu", "flexible_neu", "storage_neu", "vm_neu"] {
        assert!(json.get(k).is_some(), "{k}");
    }
    // One P2WPKH input: VM gas is the constant of a P2WPKH spend; storage is the signed size.
    assert_eq!(est.vm_neu, ledger::P2WPKH_GAS * 200);
    let signed_size = hex::decode(
        fixture_tx("spend_alice_to_bob_with_change")["raw_transaction"]
            .as_str()
            .unwrap(),
    )
    .unwrap()
    .len();
    assert_eq!(est.storage_neu, i64::try_from(signed_size).unwrap() * 200);
    // Under the free credit of 160 000 gas nothing is owed.
    assert_eq!(est.total_neu, 0);
}

/// `control_program` pays exactly the program given: a DPoS registration (a retirement, as it
/// starts with `OP_FAIL`) of the smallest positive amount becomes one ordinary output, byte for
/// byte; the signed transaction passes the ledger's checks and the registration read back out of
/// it still verifies for its chain.
#[test]
fn control_program_pays_a_registration_program_as_given() {
    let (w, _, _dir) = wallet_with("control-program", &["alice"], &[]);
    w.apply_block(&block(110)).unwrap();
    let chain = consensus::dpos::ChainId::from_name("control-program-test");
    let candidate = crypto::chainkd::XPrv::generate(&mut rand_core::OsRng);
    let bls = crypto::bls::SecretKey::generate(&mut rand_core::OsRng);
    let program = consensus::dpos::registration_program(&chain, &candidate, 1, &bls);
    assert_eq!(program[0], 0x6a, "a registration starts with OP_FAIL");
    let btm = "ff".repeat(32);
    let req: BuildRequest = serde_json::from_value(serde_json::json!({"actions": [
        {"type": "spend_account", "account_alias": "alice", "asset_id": btm, "amount": 1_000_001},
        {"type": "control_program", "control_program": hex::encode(&program), "asset_id": btm, "amount": 1},
    ]}))
    .unwrap();
    let mut tpl = w.build(&req, 0).unwrap();
    assert!(w.sign(&mut tpl, PW).unwrap());
    let tx = Transaction::decode(&tpl.raw_transaction, Profile::Side, &Limits::default()).unwrap();
    let paid: Vec<_> = tx
        .outputs()
        .iter()
        .filter(|o| o.control_program() == program.as_slice())
        .collect();
    assert_eq!(paid.len(), 1);
    assert_eq!(paid[0].kind, OutputKind::Control);
    assert_eq!(paid[0].asset_id(), AssetId::BTM);
    assert_eq!(paid[0].amount().get(), 1);
    assert!(paid[0].is_retirement());
    let reg = consensus::dpos::parse_registration(&chain, paid[0].control_program())
        .unwrap()
        .unwrap();
    assert_eq!(reg.candidate, candidate.xpub());
    ledger::check_tx(Arc::new(tx), &ledger::ChainParams::side_devnet(), 149).unwrap();
}

/// `control_program` without its program, asset or a positive amount is refused with the missing
/// fields named (as the reference does: an amount of 0 counts as missing); a program that is not
/// hex is a bad action.
#[test]
fn control_program_refuses_missing_fields() {
    let (w, _, _dir) = wallet_with("control-program-missing", &["alice"], &[]);
    let btm = "ff".repeat(32);
    let build = |action: Value| {
        let req: BuildRequest = serde_json::from_value(serde_json::json!({ "actions": [action] })).unwrap();
        w.build(&req, 0).unwrap_err()
    };
    for (action, missing) in [
        (
            serde_json::json!({"type": "control_program", "asset_id": btm, "amount": 1}),
            vec!["control_program"],
        ),
        (
            serde_json::json!({"type": "control_program", "control_program": "", "asset_id": btm, "amount": 1}),
            vec!["control_program"],
        ),
        (
            serde_json::json!({"type": "control_program", "control_program": "51", "amount": 1}),
            vec!["asset_id"],
        ),
        (
            serde_json::json!({"type": "control_program", "control_program": "51", "asset_id": btm}),
            vec!["amount"],
        ),
        (
            serde_json::json!({"type": "control_program", "control_program": "51", "asset_id": btm, "amount": 0}),
            vec!["amount"],
        ),
        (
            serde_json::json!({"type": "control_program"}),
            vec!["control_program", "asset_id", "amount"],
        ),
    ] {
        match build(action.clone()) {
            WalletError::MissingFields { index: 0, fields } => assert_eq!(fields, missing, "{action}"),
            other => panic!("{action}: {other:?}"),
        }
    }
    let e = build(
        serde_json::json!({"type": "control_program", "control_program": "zz", "asset_id": btm, "amount": 1}),
    );
    assert!(matches!(e, WalletError::BadAction { index: 0, .. }), "{e:?}");
}

#[test]
fn malformed_requests_are_typed_errors() {
    let (w, _, _dir) = wallet_with("bad", &["alice"], &[]);
    let parse = |v: Value| -> BuildRequest { serde_json::from_value(v).unwrap() };
    let cases = [
        (serde_json::json!({"actions":[{"type":"nope"}]}), "BTM710"),
        (
            serde_json::json!({"actions":[{"type":"control_address","asset_id":"ff","amount":1}]}),
            "BTM711",
        ),
        (
            serde_json::json!({"actions":[{"type":"control_address","amount":1}]}),
            "BTM713",
        ),
        (
            serde_json::json!({"actions":[{"type":"spend_account","account_alias":"alice","asset_id":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff","amount":1}]}),
            "BTM712",
        ),
        (
            serde_json::json!({"actions":[{"type":"control_address","address":"sp1qbad","asset_id":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff","amount":1}]}),
            "BTM711",
        ),
        (
            serde_json::json!({"actions":[
            {"type":"spend_account","account_alias":"nobody","asset_id":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff","amount":1},
            {"type":"control_program","control_program":"51","asset_id":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff","amount":1}]}),
            "BTM705",
        ),
        (
            serde_json::json!({"actions":[
            {"type":"spend_account","account_alias":"alice","asset_id":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff","amount":1},
            {"type":"control_program","control_program":"51","asset_id":"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff","amount":1}]}),
            "BTM700",
        ),
    ];
    for (req, code) in cases {
        let err = w.build(&parse(req.clone()), 0).unwrap_err();
        assert_eq!(err.reference_code(), code, "{req}: {err}");
    }
    // A template whose raw transaction does not decode.
    let mut tpl = Template {
        raw_transaction: vec![7, 1, 0],
        signing_instructions: vec![],
        fee: 0,
        allow_additional_actions: false,
    };
    assert!(matches!(w.sign(&mut tpl, PW), Err(WalletError::BadTemplate(_))));
    // Duration strings for ttl.
    let r: BuildRequest = serde_json::from_value(serde_json::json!({"actions":[],"ttl":"5m"})).unwrap();
    assert_eq!(r.ttl, 300_000);
}

/// Every wallet-built transaction of the fixtures whose inputs all come from one earlier fixture block:
/// a wallet holding all four keys indexes that block alone, builds the node's request and signs it; the
/// transaction ID and the signed bytes must be the node's. The change addresses the node had used before
/// are marked used here first (found by the change output's program among the node's `list-addresses`).
/// Every wallet-built transaction of the fixtures whose inputs all come from one earlier fixture block:
/// a wallet holding all the keys indexes that block alone, builds the node's request and signs it; the
/// transaction ID and the signed bytes must be the node's. The change addresses the node had used before
/// are marked used here first (found by the change output's program among the node's `list-addresses`).
fn reproduce(chain: &str, profile: Profile, cases: &[(&str, u64)], extra_change: &[(&str, &str, u64)]) {
    let addresses = load("addresses.json");
    let listed = &addresses[chain]["list_addresses"];
    let keys: Vec<String> = addresses[chain]["create_key"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alias"].as_str().unwrap().to_string())
        .collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    for &(name, funding) in cases {
        let fx = fixture_tx_of(chain, name);
        let mut change_up_to: Vec<(String, u64)> = Vec::new();
        for out in fx["decoded"]["outputs"].as_array().unwrap() {
            for (alias, list) in listed.as_object().unwrap() {
                for e in list.as_array().unwrap() {
                    if e["change"] == true && e["control_program"] == out["control_program"] {
                        let before = e["key_index"].as_u64().unwrap() - 1;
                        match change_up_to.iter_mut().find(|(a, _)| a == alias) {
                            Some((_, n)) => *n = (*n).min(before),
                            None => change_up_to.push((alias.clone(), before)),
                        }
                    }
                }
            }
        }
        for (case, alias, n) in extra_change {
            if *case == name {
                change_up_to.push((alias.to_string(), *n));
            }
        }
        let change: Vec<(&str, u64)> = change_up_to.iter().map(|(a, n)| (a.as_str(), *n)).collect();
        let (w, ids, _dir) = wallet_of(chain, profile, name, &keys, &change);
        if chain == "bytom" {
            // The asset alice defined with `create-asset` on the node (`bytom_assets.json`).
            let req = load("bytom_assets.json")["create_asset_request"].clone();
            w.create_asset(&serde_json::from_value(req).unwrap()).unwrap();
        }
        w.apply_block(&block_of(chain, profile, funding)).unwrap();
        let mut req = fx["build_request"].clone();
        for a in req["actions"].as_array_mut().unwrap() {
            if let Some(Value::String(id)) = a.get_mut("account_id") {
                *id = ids[id.as_str()].clone();
            }
        }
        // Issuance nonces are random; replay the node's.
        let want = Transaction::decode(
            &hex::decode(fx["raw_transaction"].as_str().unwrap()).unwrap(),
            profile,
            &Limits::default(),
        )
        .unwrap();
        let mut nonces: Vec<[u8; 8]> = want
            .inputs()
            .iter()
            .filter_map(|i| match &i.kind {
                types::InputKind::Issuance(x) => Some(x.nonce.clone().try_into().unwrap()),
                _ => None,
            })
            .rev()
            .collect();
        let mut next = || nonces.pop().unwrap();
        let mut tpl = w
            .build_with(&serde_json::from_value(req).unwrap(), 0, None, &mut next)
            .unwrap_or_else(|e| panic!("{chain} {name}: {e}"));
        let tx = Transaction::decode(&tpl.raw_transaction, profile, &Limits::default()).unwrap();
        assert_eq!(tx.id().to_hex(), fx["tx_id"].as_str().unwrap(), "{chain} {name}");
        assert_eq!(tpl.fee, fx["decoded"]["fee"].as_u64().unwrap(), "{chain} {name}");
        assert!(w.sign(&mut tpl, PW).unwrap(), "{chain} {name}");
        assert_eq!(
            hex::encode(&tpl.raw_transaction),
            fx["raw_transaction"].as_str().unwrap(),
            "{chain} {name}"
        );
        // And consensus accepts it (signatures, issuance program, gas, balance).
        let signed = Transaction::decode(&tpl.raw_transaction, profile, &Limits::default()).unwrap();
        ledger::check_tx(
            Arc::new(signed),
            &wallet::chain_params(profile, Network::Devnet),
            fx["block_height"].as_u64().unwrap(),
        )
        .unwrap_or_else(|e| panic!("{chain} {name}: {e}"));
    }
}

#[test]
fn every_single_block_funded_vapor_transaction_is_byte_identical() {
    reproduce(
        "vapor",
        Profile::Side,
        &[
            ("retire_btm", 150),
            ("cross_chain_out", 174),
            ("vote_output", 175),
            ("spend_custom_asset_alice_to_bob", 197),
            ("multi_output_with_time_range", 149),
            ("control_program_output", 1275),
        ],
        // `list-addresses` was recorded before `control_program_output`, so its change address is not
        // listed. Alice had used change addresses 1 to 8 by then, so its change is address 9 (the
        // matching transaction ID confirms it).
        &[("control_program_output", "alice", 8)],
    );
}

#[test]
fn every_single_block_funded_bytom_transaction_is_byte_identical() {
    reproduce(
        "bytom",
        Profile::Main,
        &[
            ("issue_asset_to_alice", 106),
            ("spend_asset_alice_to_bob", 108),
            ("retire_asset", 111),
            ("retire_btm", 113),
            ("spend_miner_to_multisig", 117),
            ("multisig_2of3_spend_to_alice", 119),
        ],
        &[],
    );
}

#[test]
fn concurrent_builds_never_spend_the_same_output_twice() {
    let (w, _, _dir) = wallet_with("concurrent-build", &["alice"], &[]);
    w.apply_block(&block(110)).unwrap();
    let w = Arc::new(w);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let w = Arc::clone(&w);
            std::thread::spawn(move || w.build(&build_request("spend_alice_to_bob_with_change"), 0))
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| e.reference_code() == "BTM702")
    );
}

/// Every submitted fixture transaction, indexed from its own block by a wallet with the node's accounts
/// and addresses, is annotated exactly as the node's `get-transaction` answered (our account IDs in
/// place of the node's).
#[test]
fn every_indexed_transaction_matches_get_transaction() {
    let all = load("vapor_transactions.json");
    let mut checked = 0;
    for fx in all
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t.get("wallet_get_transaction").is_some())
    {
        let name = fx["name"].as_str().unwrap();
        // Change addresses up to 9 (alice's ninth is used by `control_program_output`, recorded after
        // the address listing).
        let (w, ids, _dir) = wallet_with(name, &[], &[("alice", 9), ("bob", 3), ("multi", 2)]);
        let height = fx["block_height"].as_u64().unwrap();
        // The custom asset's definition arrived with its cross-chain input in block 197: index 197,
        // then block 199's transactions as the next block (only inputs and outputs are compared).
        let linked = name == "spend_custom_asset_alice_to_bob";
        if linked {
            let b197 = block(197);
            w.apply_block(&b197).unwrap();
            let mut header = b197.header().clone();
            header.height = 198;
            header.previous_block_hash = b197.hash();
            w.apply_block(&Block::new(header, block(199).transactions().to_vec()).unwrap())
                .unwrap();
        } else {
            w.apply_block(&block(height)).unwrap();
        }
        let id = Hash::from_hex(fx["tx_id"].as_str().unwrap()).unwrap();
        let got = w
            .transactions(&TxQuery {
                tx_id: Some(id),
                ..TxQuery::default()
            })
            .unwrap();
        assert_eq!(got.len(), 1, "{name}");
        let mut want = fx["wallet_get_transaction"].clone();
        for side in ["inputs", "outputs"] {
            for item in want[side].as_array_mut().unwrap() {
                if let Some(Value::String(a)) = item.get_mut("account_id") {
                    *a = ids[a.as_str()].clone();
                }
            }
        }
        let got = serde_json::to_value(&got[0]).unwrap();
        if linked {
            assert_eq!(
                (&got["inputs"], &got["outputs"]),
                (&want["inputs"], &want["outputs"]),
                "{name}"
            );
        } else {
            assert_eq!(got, want, "{name}");
        }
        checked += 1;
    }
    assert!(checked >= 12, "{checked}");
}

/// The same on the main profile, against Bytom v1.1.0's `get-transaction` answers (with `sign_data`).
/// Bytom's wallet names assets made with `create-asset` from its own registry: with the same asset
/// defined here (`bytom_assets.json`), the alias and definition match too.
#[test]
fn every_indexed_bytom_transaction_matches_get_transaction() {
    let all = load("bytom_transactions.json");
    let mut checked = 0;
    for fx in all
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t.get("wallet_get_transaction").is_some())
    {
        let name = fx["name"].as_str().unwrap();
        let (w, ids, _dir) = wallet_of(
            "bytom",
            Profile::Main,
            name,
            &[],
            &[("miner", 8), ("alice", 8), ("bob", 8), ("multi", 8)],
        );
        let req = load("bytom_assets.json")["create_asset_request"].clone();
        w.create_asset(&serde_json::from_value(req).unwrap()).unwrap();
        w.apply_block(&block_of(
            "bytom",
            Profile::Main,
            fx["block_height"].as_u64().unwrap(),
        ))
        .unwrap();
        let id = Hash::from_hex(fx["tx_id"].as_str().unwrap()).unwrap();
        let got = w
            .transactions(&TxQuery {
                tx_id: Some(id),
                ..TxQuery::default()
            })
            .unwrap();
        assert_eq!(got.len(), 1, "{name}");
        let got = serde_json::to_value(&got[0]).unwrap();
        let mut want = fx["wallet_get_transaction"].clone();
        for side in ["inputs", "outputs"] {
            for item in want[side].as_array_mut().unwrap() {
                if let Some(Value::String(a)) = item.get_mut("account_id") {
                    *a = ids[a.as_str()].clone();
                }
            }
        }
        assert_eq!(got, want, "{name}");
        checked += 1;
    }
    assert!(checked >= 8, "{checked}");
}

#[test]
fn hostile_templates_are_typed_errors() {
    let (w, _, _dir) = wallet_with("hostile-tpl", &["alice"], &[]);
    w.apply_block(&block(110)).unwrap();
    let tpl = w
        .build(&build_request("spend_alice_to_bob_with_change"), 0)
        .unwrap();
    let json = serde_json::to_value(&tpl).unwrap();
    let mutate = |f: &dyn Fn(&mut Value)| {
        let mut j = json.clone();
        f(&mut j);
        j
    };
    let cases = [
        mutate(&|j| j["signing_instructions"][0]["position"] = serde_json::json!(7)),
        mutate(&|j| j["signing_instructions"][0]["witness_components"][0]["quorum"] = serde_json::json!(5)),
        mutate(&|j| j["signing_instructions"][0]["witness_components"][0]["quorum"] = serde_json::json!(0)),
        mutate(&|j| {
            j["signing_instructions"][0]["witness_components"][0]["signatures"] =
                serde_json::json!(["00", "11"])
        }),
        mutate(&|j| {
            j["signing_instructions"][0]["witness_components"][0]["keys"][0]["derivation_path"] =
                serde_json::json!(vec!["00"; 40])
        }),
        mutate(&|j| j["raw_transaction"] = serde_json::json!("07")),
    ];
    for (i, c) in cases.into_iter().enumerate() {
        let mut t: Template = serde_json::from_value(c).unwrap();
        let before = t.clone();
        let err = w.sign(&mut t, PW).unwrap_err();
        assert!(matches!(err, WalletError::BadTemplate(_)), "case {i}: {err}");
        assert_eq!(t, before, "case {i}");
        assert!(w.estimate_gas(&t).is_err(), "case {i}");
    }
    // Unknown component types and bad hex do not even parse.
    let bad = mutate(&|j| {
        j["signing_instructions"][0]["witness_components"][1]["type"] = serde_json::json!("signature")
    });
    assert!(serde_json::from_value::<Template>(bad).is_err());
    let bad = mutate(&|j| j["raw_transaction"] = serde_json::json!("zz"));
    assert!(serde_json::from_value::<Template>(bad).is_err());
}

#[test]
fn one_wallet_holding_two_cosigners_keys_signs_with_each_password_in_turn() {
    let fx = fixture_tx("multisig_2of3_spend_to_bob");
    let (w, _, _dir) = wallet_with("multisig-one-wallet", &["bob"], &[("multi", 1)]);
    let addresses = load("addresses.json");
    let c = &addresses["vapor"]["create_key"][2];
    assert_eq!(c["alias"], "carol");
    w.import_key("carol", "carol-pw", c["mnemonic"].as_str().unwrap())
        .unwrap();
    w.apply_block(&block(150)).unwrap();
    let mut tpl = w.build(&build_request("multisig_2of3_spend_to_bob"), 0).unwrap();
    // A password that opens neither key is an error and changes nothing.
    let before = tpl.clone();
    assert!(matches!(
        w.sign(&mut tpl, "nobody's"),
        Err(WalletError::WrongPassword { .. })
    ));
    assert_eq!(tpl, before);
    // Bob's password opens bob's key only: carol's is skipped, not an error.
    assert!(!w.sign(&mut tpl, PW).unwrap());
    // Carol's password completes it, byte for byte as the reference node signed it.
    assert!(w.sign(&mut tpl, "carol-pw").unwrap());
    assert_eq!(
        hex::encode(&tpl.raw_transaction),
        fx["raw_transaction"].as_str().unwrap()
    );
}

//! The README's wallet walkthrough, command for command: a real `tributary devnet` process and the
//! `tributary wallet` CLI against it. A new user makes a key and an account, is paid from the dev
//! account, pays a second user; balances and fees are exact on both sides. Then a 2-of-3 account
//! pays out with a transaction built once and signed by two parties separately. Keep this file and
//! the README's "Wallet walkthrough" in step. Also: transactions our wallet built decode in the
//! reference node with our IDs (a saved answer of vapord).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};

use common::{Devnet, TempDir, User};
use serde_json::Value;
use std::process::Command;
/// What the dev account holds at genesis: 16 outputs of 10 000 BTM.
const DEV_FUNDS: u64 = 16 * 1_000_000_000_000;
/// The CLI's default fee.
const DEFAULT_FEE: u64 = 1_000_000;

fn mode_of(path: &Path) -> u32 {
    std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(path).unwrap().permissions()) & 0o777
}

fn tx_ids(history: &Value) -> Vec<String> {
    history
        .as_array()
        .unwrap_or_else(|| panic!("history is not a list: {history}"))
        .iter()
        .map(|t| t["tx_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn wallet_walkthrough() {
    let tmp = TempDir::new("wallet-walkthrough");
    let data = tmp.0.join("devnet");
    let log = tmp.0.join("node.log");
    // This walkthrough is the sidechain's; the main chain's is asset_walkthrough.rs.
    let node = Devnet::start(&data, &log, &["--no-main-chain"]);
    let s = &node.startup;

    // The startup line: the dev account by alias and address, where its password is, no secrets.
    let dev = &s["dev_account"];
    assert_eq!(dev["alias"], "dev");
    assert!(dev["address"].as_str().unwrap().starts_with("sp1"), "{s}");
    let dev_pw = PathBuf::from(dev["password_file"].as_str().unwrap());
    assert_eq!(dev_pw, data.canonicalize().unwrap().join("dev.password"));
    let text = s.to_string();
    for secret in ["xprv", "\"password\"", "mnemonic"] {
        assert!(!text.contains(secret), "{secret} in the startup line: {text}");
    }
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("devnet.json")).unwrap()).unwrap();
    let dev_password = info["dev_account"]["password"].as_str().unwrap();
    assert!(dev_password.len() >= 32);
    assert!(!text.contains(dev_password));
    assert_eq!(std::fs::read_to_string(&dev_pw).unwrap().trim_end(), dev_password);
    assert_eq!(mode_of(&dev_pw), 0o600);
    assert_eq!(mode_of(&data.join("devnet.json")), 0o600);

    let user = User {
        cwd: tmp.0.clone(),
        api: s["api_url"].as_str().unwrap().to_string(),
        token: Some(s["access_token"].as_str().unwrap().to_string()),
    };
    let dev_pw = dev_pw.to_str().unwrap();
    assert_eq!(user.btm_balance("dev"), DEV_FUNDS);

    // 1. A key and an account for alice; an address to be paid at.
    user.password_file("alice", "alice's long passphrase");
    let key = user.ok(&[
        "create-key",
        "--alias",
        "alice",
        "--password-file",
        "alice.pw",
        "--mnemonic-file",
        "alice.mnemonic",
    ]);
    assert_eq!(key["alias"], "alice");
    assert_eq!(key["xpub"].as_str().unwrap().len(), 128);
    assert!(key.get("mnemonic").is_none(), "{key}");
    let mnemonic = std::fs::read_to_string(tmp.0.join("alice.mnemonic")).unwrap();
    assert_eq!(mnemonic.split_whitespace().count(), 12, "{mnemonic}");
    assert_eq!(mode_of(&tmp.0.join("alice.mnemonic")), 0o600);
    let account = user.ok(&["create-account", "--alias", "alice", "--key", "alice"]);
    assert_eq!(account["alias"], "alice");
    assert_eq!(account["quorum"], 1);
    assert_eq!(account["xpubs"][0], key["xpub"]);
    let alice = user.ok(&["receive", "--account", "alice"])["address"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(alice.starts_with("sp1"));
    assert_eq!(user.btm_balance("alice"), 0);

    // 2. The dev account pays alice 5 BTM.
    let funded = user.ok(&[
        "send",
        "--from",
        "dev",
        "--to",
        &alice,
        "--amount",
        "500000000",
        "--password-file",
        dev_pw,
        "--wait",
    ]);
    assert_eq!(funded["fee"], DEFAULT_FEE, "{funded}");
    assert!(funded["block_height"].as_u64().unwrap() >= 1);
    assert_eq!(user.btm_balance("alice"), 500_000_000);
    assert_eq!(user.btm_balance("dev"), DEV_FUNDS - 500_000_000 - DEFAULT_FEE);

    // 3. Bob; alice pays him 2 BTM with a 0.02 BTM fee.
    user.password_file("bob", "bob's other passphrase");
    user.ok(&["create-key", "--alias", "bob", "--password-file", "bob.pw"]);
    user.ok(&["create-account", "--alias", "bob", "--key", "bob"]);
    let bob = user.ok(&["receive", "--account", "bob"])["address"]
        .as_str()
        .unwrap()
        .to_string();
    let paid = user.ok(&[
        "send",
        "--from",
        "alice",
        "--to",
        &bob,
        "--amount",
        "200000000",
        "--fee",
        "2000000",
        "--password-file",
        "alice.pw",
        "--wait",
    ]);
    let paid_id = paid["tx_id"].as_str().unwrap().to_string();
    assert_eq!(paid["fee"], 2_000_000);
    assert_eq!(user.btm_balance("alice"), 500_000_000 - 200_000_000 - 2_000_000);
    assert_eq!(user.btm_balance("bob"), 200_000_000);
    let tx = user.ok(&["tx", "--id", &paid_id]);
    assert_eq!(tx["tx_id"], paid_id.as_str());
    // The fee is what the inputs bring and the outputs do not take (the reference's view has no
    // fee field); the payee and the change are exact.
    let sum = |side: &str| -> u64 {
        tx[side]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["amount"].as_u64().unwrap())
            .sum()
    };
    assert_eq!(sum("inputs") - sum("outputs"), 2_000_000, "{tx}");
    let to_bob: Vec<u64> = tx["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["address"] == bob.as_str())
        .map(|o| o["amount"].as_u64().unwrap())
        .collect();
    assert_eq!(to_bob, [200_000_000], "{tx}");
    assert!(tx_ids(&user.ok(&["history", "--account", "bob"])).contains(&paid_id));
    let alice_history = tx_ids(&user.ok(&["history", "--account", "alice"]));
    assert!(
        alice_history.contains(&paid_id)
            && alice_history.contains(&funded["tx_id"].as_str().unwrap().to_string())
    );

    // 4. A 2-of-3 account of carol, dave and erin, who keep their keys in their own wallets (each
    //    with its own password); the node's wallet knows only the public keys.
    let mut xpubs = Vec::new();
    for (who, pw) in [("carol", "carol pw"), ("dave", "dave pw"), ("erin", "erin pw")] {
        user.password_file(who, pw);
        let k = user.ok(&[
            "create-key",
            "--alias",
            who,
            "--password-file",
            &format!("{who}.pw"),
            "--wallet-dir",
            &format!("{who}-wallet"),
        ]);
        assert!(tmp.0.join(format!("{who}-wallet")).is_dir());
        xpubs.push(k["xpub"].as_str().unwrap().to_string());
    }
    let node_keys = user.ok(&["keys"]);
    assert!(
        node_keys
            .as_array()
            .unwrap()
            .iter()
            .all(|k| !xpubs.iter().any(|x| k["xpub"] == x.as_str())),
        "{node_keys}"
    );
    let shared = user.ok(&[
        "create-account",
        "--alias",
        "shared",
        "--key",
        &xpubs[0],
        "--key",
        &xpubs[1],
        "--key",
        &xpubs[2],
        "--quorum",
        "2",
    ]);
    assert_eq!(shared["quorum"], 2);
    assert_eq!(shared["xpubs"].as_array().unwrap().len(), 3);
    let shared_addr = user.ok(&["receive", "--account", "shared"])["address"]
        .as_str()
        .unwrap()
        .to_string();
    user.ok(&[
        "send",
        "--from",
        "dev",
        "--to",
        &shared_addr,
        "--amount",
        "300000000",
        "--password-file",
        dev_pw,
        "--wait",
    ]);
    assert_eq!(user.btm_balance("shared"), 300_000_000);

    // Built once, signed by carol, then by dave, then submitted.
    let built = user.save(
        &["build", "--from", "shared", "--to", &bob, "--amount", "100000000"],
        "tx.json",
    );
    assert_eq!(built["fee"], DEFAULT_FEE, "{built}");
    let by_carol = user.save(
        &[
            "sign",
            "--template",
            "tx.json",
            "--password-file",
            "carol.pw",
            "--wallet-dir",
            "carol-wallet",
        ],
        "tx-carol.json",
    );
    assert_eq!(by_carol["sign_complete"], false, "{by_carol}");
    // Not enough signatures yet: refused before it reaches the node.
    let err = user.fails(&["submit", "--template", "tx-carol.json"]);
    assert!(err.contains("not fully signed"), "{err}");
    let by_dave = user.save(
        &[
            "sign",
            "--template",
            "tx-carol.json",
            "--password-file",
            "dave.pw",
            "--wallet-dir",
            "dave-wallet",
        ],
        "tx-signed.json",
    );
    assert_eq!(by_dave["sign_complete"], true, "{by_dave}");
    let submitted = user.ok(&["submit", "--template", "tx-signed.json", "--wait"]);
    let multi_id = submitted["tx_id"].as_str().unwrap().to_string();
    assert_eq!(
        user.btm_balance("shared"),
        300_000_000 - 100_000_000 - DEFAULT_FEE
    );
    assert_eq!(user.btm_balance("bob"), 300_000_000);
    assert!(tx_ids(&user.ok(&["history", "--account", "bob"])).contains(&multi_id));
    assert_eq!(
        user.btm_balance("dev"),
        DEV_FUNDS - 500_000_000 - DEFAULT_FEE - 300_000_000 - DEFAULT_FEE
    );

    // The other way to co-sign: the keys in the node's keystore, each under its own password; each
    // `sign` adds the signatures its password opens.
    for who in ["frank", "grace", "heidi"] {
        user.password_file(who, &format!("{who} pw"));
        user.ok(&[
            "create-key",
            "--alias",
            who,
            "--password-file",
            &format!("{who}.pw"),
        ]);
    }
    user.ok(&[
        "create-account",
        "--alias",
        "board",
        "--key",
        "frank",
        "--key",
        "grace",
        "--key",
        "heidi",
        "--quorum",
        "2",
    ]);
    let board = user.ok(&["receive", "--account", "board"])["address"]
        .as_str()
        .unwrap()
        .to_string();
    user.ok(&[
        "send",
        "--from",
        "dev",
        "--to",
        &board,
        "--amount",
        "50000000",
        "--password-file",
        dev_pw,
        "--wait",
    ]);
    user.save(
        &["build", "--from", "board", "--to", &alice, "--amount", "10000000"],
        "board.json",
    );
    let one = user.save(
        &["sign", "--template", "board.json", "--password-file", "heidi.pw"],
        "board-1.json",
    );
    assert_eq!(one["sign_complete"], false, "{one}");
    let two = user.save(
        &[
            "sign",
            "--template",
            "board-1.json",
            "--password-file",
            "frank.pw",
        ],
        "board-2.json",
    );
    assert_eq!(two["sign_complete"], true, "{two}");
    user.ok(&["submit", "--template", "board-2.json", "--wait"]);
    assert_eq!(user.btm_balance("board"), 50_000_000 - 10_000_000 - DEFAULT_FEE);
    assert_eq!(user.btm_balance("alice"), 298_000_000 + 10_000_000);

    // Mistakes: one error line, exit status 1, nothing spent.
    let err = user.fails(&["send", "--from", "bob", "--to", &alice, "--amount", "1"]);
    assert!(err.contains("TRIBUTARY_PASSWORD"), "{err}");
    user.fails(&[
        "send",
        "--from",
        "bob",
        "--to",
        &alice,
        "--amount",
        "900000000",
        "--password-file",
        "bob.pw",
    ]);
    user.fails(&[
        "send",
        "--from",
        "bob",
        "--to",
        &alice,
        "--amount",
        "1",
        "--password-file",
        "alice.pw",
    ]);
    user.fails(&[
        "send",
        "--from",
        "bob",
        "--to",
        "sp1qnotanaddress",
        "--amount",
        "1",
        "--password-file",
        "bob.pw",
    ]);
    user.fails(&[
        "send",
        "--from",
        "shared",
        "--to",
        &alice,
        "--amount",
        "1",
        "--password-file",
        "carol.pw",
    ]);
    user.fails(&["create-account", "--alias", "x", "--key", "nobody"]);
    user.fails(&["create-account", "--alias", "x", "--key", "bob", "--quorum", "2"]);
    user.fails(&["balance", "--account", "nobody"]);
    user.fails(&[
        "sign",
        "--template",
        "no-such-file.json",
        "--password-file",
        "bob.pw",
    ]);
    let err = user.fails(&[
        "sign",
        "--template",
        "tx.json",
        "--password-file",
        "erin.pw",
        "--wallet-dir",
        "erin-walet",
    ]);
    assert!(err.contains("no such directory"), "{err}");
    let err = user.fails(&[
        "sign",
        "--template",
        "tx.json",
        "--password-file",
        "bob.pw",
        "--wallet-dir",
        "carol-wallet",
    ]);
    assert!(err.contains("BTM802") || err.contains("password"), "{err}");
    std::fs::create_dir(tmp.0.join("empty-wallet")).unwrap();
    let err = user.fails(&[
        "sign",
        "--template",
        "tx.json",
        "--password-file",
        "bob.pw",
        "--wallet-dir",
        "empty-wallet",
    ]);
    assert!(err.contains("no key in"), "{err}");
    user.fails(&["tx", "--id", "zz"]);
    assert_eq!(user.btm_balance("bob"), 300_000_000);
    let anonymous = User {
        cwd: user.cwd.clone(),
        api: user.api.clone(),
        token: None,
    };
    let err = anonymous.fails(&["balance"]);
    assert!(err.contains("BTM860"), "{err}");
    let nowhere = User {
        cwd: user.cwd.clone(),
        api: "http://127.0.0.1:1".into(),
        token: user.token.clone(),
    };
    let err = nowhere.fails(&["balance"]);
    assert!(err.contains("cannot reach"), "{err}");
}

/// Drops what only a node's wallet knows (aliases, accounts), which raw bytes cannot tell.
fn strip_wallet_only(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for key in ["asset_alias", "account_id", "account_alias"] {
                map.remove(key);
            }
            map.values_mut().for_each(strip_wallet_only);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_wallet_only),
        _ => {}
    }
}

/// Transactions built and signed by our wallet (the CLI against our devnet) were decoded by the
/// reference node (vapord 1.1.9, `decode-raw-transaction`): the IDs it computed are ours, and our
/// decoder prints what it printed. How the fixture was made: tests/fixtures/reference/README.md.
#[test]
fn wallet_transactions_decode_as_in_the_reference() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference/vapor_wallet_decode.json");
    let entries: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    for e in entries {
        let name = e["name"].as_str().unwrap();
        let raw = e["raw_transaction"].as_str().unwrap();
        let reference = &e["decoded"];
        let tx = types::Transaction::decode(
            &hex::decode(raw).unwrap(),
            types::profile::Profile::Side,
            &types::codec::Limits::default(),
        )
        .unwrap();
        assert_eq!(tx.id().to_hex(), reference["tx_id"].as_str().unwrap(), "{name}");
        // The ID our node returned on submission, recorded with the fixture.
        assert_eq!(e["tx_id"], reference["tx_id"], "{name}");
        let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(["tx", "decode", raw, "--chain", "side", "--network", "devnet"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let mut ours: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut theirs = reference.clone();
        strip_wallet_only(&mut ours);
        strip_wallet_only(&mut theirs);
        assert_eq!(ours, theirs, "{name}");
    }
}

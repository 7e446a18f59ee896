//! The README's asset walkthrough, command for command: a real `tributary devnet` (sidechain plus the
//! mining main chain) and the `tributary wallet` CLI against the main chain's API. One asset of each
//! class (BAP-01..04, docs/assets.md) is defined, issued and moved the way its class allows, and each
//! move its class forbids is refused with one `error:` line. Keep this file and the README's "Asset
//! walkthrough" in step.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Devnet, TempDir, User};
use serde_json::Value;

/// The fee every issuance and transfer here pays, in neu.
const FEE: &str = "1000000";

/// An account's balance of one asset (by alias), 0 if it holds none.
fn balance(user: &User, account: &str, asset_alias: &str) -> u64 {
    let v = user.ok(&["balance", "--account", account]);
    v.as_array()
        .unwrap_or_else(|| panic!("balance is not a list: {v}"))
        .iter()
        .filter(|r| r["asset_alias"] == asset_alias)
        .map(|r| r["amount"].as_u64().unwrap())
        .sum()
}

fn address(user: &User, account: &str) -> String {
    user.ok(&["receive", "--account", account])["address"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn asset_walkthrough() {
    let tmp = TempDir::new("asset-walkthrough");
    let data = tmp.0.join("devnet");
    let log = tmp.0.join("node.log");
    let node = Devnet::start(&data, &log, &["--main-listen", "127.0.0.1:0"]);
    let s = &node.startup;
    let main_api = s["main_chain"]["api_url"].as_str().unwrap().to_string();
    assert_eq!(s["main_chain"]["mining"], true, "{s}");
    let dev_pw = s["dev_account"]["password_file"].as_str().unwrap().to_string();
    let user = User {
        cwd: tmp.0.clone(),
        api: main_api,
        token: Some(s["access_token"].as_str().unwrap().to_string()),
    };

    // The dev account is funded on the main chain too (16 outputs of 10 000 BTM at genesis, plus
    // what the devnet miner has earned it since).
    let dev_btm = user.btm_balance("dev");
    assert!(
        dev_btm >= 16 * 1_000_000_000_000,
        "dev holds {dev_btm} neu on the main chain"
    );

    // A shop with its own key, to be paid in each asset.
    user.password_file("shop", "the shop's passphrase");
    user.ok(&["create-key", "--alias", "shop", "--password-file", "shop.pw"]);
    user.ok(&["create-account", "--alias", "shop", "--key", "shop"]);
    let shop = address(&user, "shop");
    let dev = address(&user, "dev");
    assert!(shop.starts_with("sm1") && dev.starts_with("sm1"), "{shop} {dev}");

    // One asset of each class, defined by the dev key.
    let define = |alias: &str, class: &str, definition: &str| -> Value {
        user.ok(&[
            "create-asset",
            "--alias",
            alias,
            "--class",
            class,
            "--definition",
            definition,
            "--key",
            "dev",
        ])
    };
    let points = define("points", "bap-01", r#"{"name":"loyalty points"}"#);
    let batch = define("batch", "bap-02", r#"{"name":"coffee beans, lot-tracked"}"#);
    let sword = define("sword", "bap-03", r#"{"name":"sword #1"}"#);
    let ticket = define("ticket", "bap-04", r#"{"name":"ticket","decimals":2}"#);
    assert_eq!(points["alias"], "POINTS");
    // The class is part of the definition, so of the asset ID.
    assert!(points["definition"].get("bap").is_none(), "{points}");
    assert_eq!(batch["definition"]["bap"], "BAP-02");
    assert_eq!(sword["definition"]["bap"], "BAP-03");
    assert_eq!(ticket["definition"]["bap"], "BAP-04");
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    let (batch_id, sword_id, ticket_id, points_id) = (id(&batch), id(&sword), id(&ticket), id(&points));

    // Issue each to the dev account; the fee comes from dev's BTM. Two issuances of BATCH are two
    // lots.
    let issue = |asset: &str, amount: &str, wait: bool| -> Value {
        let mut args = vec![
            "issue",
            "--asset",
            asset,
            "--amount",
            amount,
            "--to",
            &dev,
            "--fee-from",
            "dev",
            "--fee",
            FEE,
            "--password-file",
            &dev_pw,
        ];
        if wait {
            args.push("--wait");
        }
        user.ok(&args)
    };
    issue("points", "1000000", false);
    issue("batch", "100", false);
    issue("batch", "100", false);
    issue("sword", "1", false);
    // Refused before anything is signed: a unique item is issued as exactly 1; a quantum asset with
    // decimals 2 moves in multiples of 100.
    let err = user.fails(&[
        "issue",
        "--asset",
        "sword",
        "--amount",
        "2",
        "--to",
        &dev,
        "--fee-from",
        "dev",
        "--fee",
        FEE,
        "--password-file",
        &dev_pw,
    ]);
    assert!(err.contains("BAP-03") && err.contains("BTM712"), "{err}");
    let err = user.fails(&[
        "issue",
        "--asset",
        "ticket",
        "--amount",
        "150",
        "--to",
        &dev,
        "--fee-from",
        "dev",
        "--fee",
        FEE,
        "--password-file",
        &dev_pw,
    ]);
    assert!(err.contains("BAP-04") && err.contains("BTM712"), "{err}");
    let issued = issue("ticket", "500", true);
    assert!(issued["block_height"].as_u64().unwrap() >= 1, "{issued}");
    // Every issuance before the waited one was submitted first; wait until the wallet has them all.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while balance(&user, "dev", "BATCH") < 200 || balance(&user, "dev", "SWORD") < 1 {
        assert!(std::time::Instant::now() < deadline, "issuances never confirmed");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert_eq!(balance(&user, "dev", "POINTS"), 1_000_000);
    assert_eq!(balance(&user, "dev", "BATCH"), 200);
    assert_eq!(balance(&user, "dev", "SWORD"), 1);
    assert_eq!(balance(&user, "dev", "TICKET"), 500);

    // Moves. `send` takes the asset ID.
    let send = |asset: &str, amount: &str, wait: bool| -> Output {
        let mut args = vec![
            "send",
            "--from",
            "dev",
            "--to",
            &shop,
            "--asset",
            asset,
            "--amount",
            amount,
            "--fee",
            FEE,
            "--password-file",
            &dev_pw,
        ];
        if wait {
            args.push("--wait");
        }
        let out = user.run(&args);
        Output {
            ok: out.status.success(),
            stderr: String::from_utf8_lossy(&out.stderr).trim_end().to_string(),
        }
    };
    // BAP-01: any amount.
    assert!(send(&points_id, "250", false).ok);
    // BAP-02: 150 would merge the two lots of 100: refused. 30 splits one lot: fine.
    let merged = send(&batch_id, "150", false);
    assert!(
        !merged.ok && merged.stderr.contains("BAP-02") && merged.stderr.contains("lot"),
        "{}",
        merged.stderr
    );
    assert!(send(&batch_id, "30", false).ok);
    // BAP-03: issued once ever; it moves whole.
    let again = user.fails(&[
        "issue",
        "--asset",
        "sword",
        "--amount",
        "1",
        "--to",
        &dev,
        "--fee-from",
        "dev",
        "--fee",
        FEE,
        "--password-file",
        &dev_pw,
    ]);
    assert!(again.contains("issued once"), "{again}");
    assert!(send(&sword_id, "1", false).ok);
    // BAP-04: whole units of 100 only.
    let fraction = send(&ticket_id, "150", false);
    assert!(
        !fraction.ok && fraction.stderr.contains("BAP-04"),
        "{}",
        fraction.stderr
    );
    let last = send(&ticket_id, "200", true);
    assert!(last.ok, "{}", last.stderr);

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while balance(&user, "shop", "POINTS") < 250
        || balance(&user, "shop", "BATCH") < 30
        || balance(&user, "shop", "SWORD") < 1
    {
        assert!(std::time::Instant::now() < deadline, "transfers never confirmed");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert_eq!(balance(&user, "shop", "POINTS"), 250);
    assert_eq!(balance(&user, "shop", "BATCH"), 30);
    assert_eq!(balance(&user, "shop", "SWORD"), 1);
    assert_eq!(balance(&user, "shop", "TICKET"), 200);
    assert_eq!(balance(&user, "dev", "POINTS"), 1_000_000 - 250);
    assert_eq!(balance(&user, "dev", "BATCH"), 170);
    assert_eq!(balance(&user, "dev", "SWORD"), 0);
    assert_eq!(balance(&user, "dev", "TICKET"), 300);
    // Nothing about the assets leaked into BTM: the shop received no BTM.
    assert_eq!(balance(&user, "shop", "BTM"), 0);
    assert!(user.btm_balance("dev") > 0);
}

/// What a `send` left: whether it succeeded and its error line.
struct Output {
    ok: bool,
    stderr: String,
}

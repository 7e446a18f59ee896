//! Bad input over every endpoint: bad JSON, wrong types, huge bodies, bad hex, unknown IDs, negative
//! or overflowing amounts, missing or wrong tokens. Every answer is a 4xx in the right failure shape
//! with a message, never a 5xx, and the node's state (keys, accounts, balances, outputs, tokens,
//! tip, pool) is the same afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::SocketAddr;

use common::*;
use serde_json::{Value, json};
use types::asset::AssetId;

const LIMIT: usize = 64 * 1024;

const COMPATIBLE: &[&str] = &[
    "/submit-transaction",
    "/submit-transactions",
    "/get-block-count",
    "/get-block-hash",
    "/get-block",
    "/get-block-header",
    "/get-raw-block",
    "/get-block-tx-ids",
    "/get-transaction",
    "/decode-raw-transaction",
    "/net-info",
    "/get-vote-result",
    "/create-access-token",
    "/list-access-tokens",
    "/delete-access-token",
    "/check-access-token",
    "/create-key",
    "/list-keys",
    "/delete-key",
    "/reset-key-password",
    "/create-account",
    "/list-accounts",
    "/delete-account",
    "/create-account-receiver",
    "/list-addresses",
    "/validate-address",
    "/build-transaction",
    "/sign-transaction",
    "/estimate-transaction-gas",
    "/list-transactions",
    "/list-balances",
    "/list-unspent-outputs",
    "/list-account-votes",
    "/get-merkle-proof",
    "/create-asset",
    "/get-asset",
    "/list-assets",
];

async fn snapshot(addr: SocketAddr, chain: &node::chain::ChainService) -> Value {
    json!({
        "keys": ok(addr, "/list-keys", json!({})).await,
        "accounts": ok(addr, "/list-accounts", json!({})).await,
        "balances": ok(addr, "/list-balances", json!({})).await,
        "utxos": ok(addr, "/list-unspent-outputs", json!({})).await,
        "addresses": ok(addr, "/list-addresses", json!({})).await,
        "tokens": ok(addr, "/list-access-tokens", json!({})).await,
        "assets": ok(addr, "/list-assets", json!({})).await,
        "tip": chain.tip().hash.to_hex(),
        "pool": chain.pool_stats().txs,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_bad_input_with_a_4xx_and_changes_nothing() {
    let dir = TempDir::new("malformed");
    let n = wallet_node(dir.path());
    let srv = start(n.chain.clone(), Some(n.wallet.clone()), Some(dir.path()), LIMIT).await;
    let addr = srv.local_addr();
    // Something in every list: a block, a second key and account, an address.
    produce(&n.chain).await;
    let extra = ok(
        addr,
        "/create-key",
        json!({"alias": "extra", "password": "extra pw"}),
    )
    .await;
    let xpub = extra["xpub"].as_str().unwrap().to_string();
    ok(
        addr,
        "/create-account",
        json!({"root_xpubs": [xpub], "quorum": 1, "alias": "extra"}),
    )
    .await;
    ok(
        addr,
        "/create-account-receiver",
        json!({"account_alias": "extra"}),
    )
    .await;
    let before = snapshot(addr, &n.chain).await;

    let mut checked = 0usize;
    // Bodies that are wrong for every endpoint.
    let generic: Vec<Vec<u8>> = vec![
        b"{not json".to_vec(),
        b"[1,2]".to_vec(),
        b"\"text\"".to_vec(),
        b"123".to_vec(),
        b"{\"a\":".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x7b],
    ];
    for path in COMPATIBLE {
        for body in &generic {
            let (s, v, _) = http(addr, "POST", path, Some(BEARER), body.clone()).await;
            assert_fail(&(s, v), 400, "BTM002");
            checked += 1;
        }
        // Missing and wrong tokens.
        for auth in [
            None,
            Some("Bearer test:wrong"),
            Some("Bearer nobody:0123456789abcdef"),
            Some("Basic !!"),
        ] {
            let (s, v, _) = http(addr, "POST", path, auth, b"{}".to_vec()).await;
            assert_fail(&(s, v), 401, "BTM860");
            checked += 1;
        }
        // Too large.
        let (s, v, _) = http(addr, "POST", path, Some(BEARER), vec![b' '; LIMIT + 1]).await;
        assert_fail(&(s, v), 413, "BTM002");
        checked += 1;
        // Wrong method.
        let (s, v, _) = http(addr, "GET", path, Some(BEARER), Vec::new()).await;
        assert_eq!(s, 405, "{path}: {v}");
        checked += 1;
    }

    // Bodies wrong for one endpoint.
    let unknown_hash = "cd".repeat(32);
    let unknown_xpub = format!("{}{}", "11".repeat(32), "22".repeat(32));
    let funder_xpub = n.wallet.list_keys()[0].xpub.to_hex();
    let btm = AssetId::BTM.to_hex();
    let spend = |amount: Value| {
        json!({"actions": [
            {"type": "spend_account", "account_alias": "funder", "asset_id": btm, "amount": amount},
            {"type": "control_address", "address": n.funder_address, "asset_id": btm, "amount": 1_000_000},
        ]})
    };
    // Bodies serde_json cannot build as values (integers past 64 bits) are kept as text.
    let raw = |text: &str| Value::String(format!("RAW:{text}"));
    let cases: Vec<(&str, Value)> = vec![
        ("/submit-transaction", json!({})),
        ("/submit-transaction", json!({"raw_transaction": 5})),
        ("/submit-transaction", json!({"raw_transaction": "zz"})),
        ("/submit-transaction", json!({"raw_transaction": "00"})),
        (
            "/submit-transaction",
            json!({"raw_transaction": "07".repeat(20_000)}),
        ),
        ("/submit-transactions", json!({})),
        ("/submit-transactions", json!({"raw_transactions": null})),
        ("/submit-transactions", json!({"raw_transactions": "zz"})),
        ("/submit-transactions", json!({"raw_transactions": [5]})),
        ("/submit-transactions", json!({"raw_transactions": ["zz"]})),
        ("/submit-transactions", json!({"raw_transactions": ["00"]})),
        ("/submit-transactions", json!({"raw_transactions": ["", "00"]})),
        ("/submit-transactions", json!({"raw_transactions": [["00"]]})),
        (
            "/submit-transactions",
            json!({"raw_transactions": vec!["00"; 10_001]}),
        ),
        ("/get-block", json!({"block_height": -1})),
        ("/get-block", json!({"block_height": 1e30})),
        ("/get-block", raw(r#"{"block_height": 18446744073709551616}"#)),
        ("/get-block", json!({"block_height": 999})),
        ("/get-block", json!({"block_hash": "zz"})),
        ("/get-block", json!({"block_hash": unknown_hash})),
        ("/get-block-hash", json!({"block_height": "one"})),
        ("/get-block-hash", json!({"block_height": 999})),
        ("/get-block-header", json!({"block_height": 999})),
        ("/get-block-header", json!({"block_hash": 7})),
        ("/get-raw-block", json!({"block_height": 999})),
        ("/get-raw-block", json!({"block_height": -1})),
        ("/get-raw-block", json!({"block_hash": "zz"})),
        ("/get-raw-block", json!({"block_hash": unknown_hash})),
        ("/get-block-tx-ids", json!({"block_height": 999})),
        ("/get-block-tx-ids", json!({"block_height": -1})),
        ("/get-block-tx-ids", json!({"block_hash": "zz"})),
        ("/get-block-tx-ids", json!({"block_hash": unknown_hash})),
        ("/get-transaction", json!({})),
        ("/get-transaction", json!({"tx_id": "zz"})),
        ("/get-transaction", json!({"tx_id": unknown_hash})),
        ("/decode-raw-transaction", json!({"raw_transaction": "0g"})),
        ("/decode-raw-transaction", json!({"raw_transaction": "ffff"})),
        ("/get-vote-result", json!({"block_height": 999})),
        ("/get-vote-result", json!({"block_height": -5})),
        ("/get-vote-result", json!({"block_hash": "zz"})),
        ("/get-vote-result", json!({"block_hash": unknown_hash})),
        ("/create-access-token", json!({"id": ""})),
        ("/create-access-token", json!({"id": "a b"})),
        ("/create-access-token", json!({"id": 5})),
        ("/create-access-token", json!({"id": "x", "type": "root"})),
        ("/create-access-token", json!({"id": "x".repeat(100)})),
        ("/create-access-token", json!({"id": "test"})),
        ("/delete-access-token", json!({})),
        ("/delete-access-token", json!({"id": "nobody"})),
        ("/delete-access-token", json!({"id": "test"})),
        ("/check-access-token", json!({"id": "test", "secret": "bad"})),
        ("/check-access-token", json!({"id": "nobody", "secret": "x"})),
        ("/check-access-token", json!({"id": 1, "secret": "x"})),
        ("/create-key", json!({"alias": "", "password": "x"})),
        ("/create-key", json!({"alias": "funder", "password": "x"})),
        ("/create-key", json!({"alias": "new", "password": ""})),
        (
            "/create-key",
            json!({"alias": "new", "password": "p".repeat(2000)}),
        ),
        (
            "/create-key",
            json!({"alias": "new", "password": "p", "mnemonic": "not a mnemonic at all"}),
        ),
        (
            "/create-key",
            json!({"alias": "new", "password": "p", "language": "zh_CN"}),
        ),
        ("/create-key", json!({"alias": ["new"], "password": "p"})),
        ("/delete-key", json!({"xpub": "zz", "password": "x"})),
        ("/delete-key", json!({"xpub": unknown_xpub, "password": "x"})),
        ("/delete-key", json!({"xpub": funder_xpub, "password": "wrong"})),
        ("/delete-key", json!({"xpub": funder_xpub})),
        (
            "/reset-key-password",
            json!({"xpub": "zz", "old_password": "a", "new_password": "b"}),
        ),
        (
            "/reset-key-password",
            json!({"xpub": funder_xpub, "old_password": FUNDER_PASSWORD, "new_password": ""}),
        ),
        ("/create-account", json!({"root_xpubs": [], "quorum": 1})),
        (
            "/create-account",
            json!({"root_xpubs": [funder_xpub], "quorum": 2}),
        ),
        (
            "/create-account",
            json!({"root_xpubs": [funder_xpub], "quorum": 0}),
        ),
        (
            "/create-account",
            json!({"root_xpubs": [funder_xpub, funder_xpub], "quorum": 1}),
        ),
        (
            "/create-account",
            json!({"root_xpubs": [funder_xpub], "quorum": -1}),
        ),
        (
            "/create-account",
            raw(&format!(
                r#"{{"root_xpubs": ["{funder_xpub}"], "quorum": 18446744073709551616}}"#
            )),
        ),
        ("/create-account", json!({"root_xpubs": ["zz"], "quorum": 1})),
        (
            "/create-account",
            json!({"root_xpubs": [funder_xpub], "quorum": 1, "alias": "funder"}),
        ),
        ("/list-accounts", json!({"id": "nobody"})),
        ("/list-accounts", json!({"alias": 5})),
        ("/delete-account", json!({})),
        ("/delete-account", json!({"account_id": "nobody"})),
        ("/create-account-receiver", json!({})),
        ("/create-account-receiver", json!({"account_alias": "nobody"})),
        ("/list-addresses", json!({"account_alias": "nobody"})),
        ("/list-addresses", json!({"from": -1})),
        ("/list-addresses", json!({"count": "ten"})),
        ("/validate-address", json!({})),
        ("/validate-address", json!({"address": 5})),
        ("/build-transaction", json!({"actions": "x"})),
        ("/build-transaction", json!({"actions": [{"type": "nope"}]})),
        ("/build-transaction", json!({"actions": [{"amount": 5}]})),
        ("/build-transaction", spend(json!(-1))),
        (
            "/build-transaction",
            raw(&spend(json!(0))
                .to_string()
                .replace(r#""amount":0"#, r#""amount":18446744073709551616"#)),
        ),
        ("/build-transaction", spend(json!(9223372036854775808u64))),
        ("/build-transaction", spend(json!(1e30))),
        ("/build-transaction", spend(json!("lots"))),
        ("/build-transaction", spend(json!(u64::MAX))),
        ("/build-transaction", spend(json!(4 * GENESIS_EACH + 1))),
        (
            "/build-transaction",
            json!({"actions": [
            {"type": "spend_account", "account_alias": "nobody", "asset_id": btm, "amount": 5},
            {"type": "control_address", "address": n.funder_address, "asset_id": btm, "amount": 1}]}),
        ),
        (
            "/build-transaction",
            json!({"actions": [
            {"type": "spend_account", "account_alias": "funder", "asset_id": btm, "amount": 5}]}),
        ),
        (
            "/build-transaction",
            json!({"actions": [
            {"type": "spend_account", "account_alias": "funder", "asset_id": btm, "amount": 2_000_000},
            {"type": "control_address", "address": "bogus", "asset_id": btm, "amount": 1_000_000}]}),
        ),
        (
            "/build-transaction",
            json!({"actions": [
            {"type": "spend_account", "account_alias": "funder", "asset_id": "zz", "amount": 2_000_000},
            {"type": "control_address", "address": n.funder_address, "asset_id": btm, "amount": 1_000_000}]}),
        ),
        (
            "/build-transaction",
            json!({"base_transaction": "zz", "actions": []}),
        ),
        ("/build-transaction", json!({"ttl": "forever", "actions": []})),
        (
            "/sign-transaction",
            json!({"password": "x", "transaction": {"raw_transaction": "zz"}}),
        ),
        (
            "/sign-transaction",
            json!({"password": 5, "transaction": {"raw_transaction": "00"}}),
        ),
        (
            "/sign-transaction",
            json!({"password": "x", "transaction": {"raw_transaction": "0701", "signing_instructions": []}}),
        ),
        ("/sign-transaction", json!({"password": "x"})),
        (
            "/estimate-transaction-gas",
            json!({"transaction_template": {"raw_transaction": "zz"}}),
        ),
        (
            "/estimate-transaction-gas",
            json!({"transaction_template": {"raw_transaction": "0701", "signing_instructions": []}}),
        ),
        ("/estimate-transaction-gas", json!({})),
        ("/list-transactions", json!({})),
        ("/list-transactions", json!({"account_alias": "nobody"})),
        (
            "/list-transactions",
            json!({"account_alias": "funder", "start_tx_id": "zz"}),
        ),
        (
            "/list-transactions",
            json!({"account_alias": "funder", "count": -1}),
        ),
        ("/list-balances", json!({"account_alias": "nobody"})),
        ("/list-balances", json!({"account_id": 1})),
        ("/list-unspent-outputs", json!({"id": "zz"})),
        ("/list-unspent-outputs", json!({"account_id": "nobody"})),
        ("/list-unspent-outputs", json!({"from": "x"})),
        ("/list-account-votes", json!({"account_id": "nobody"})),
        ("/get-merkle-proof", json!({})),
        ("/get-merkle-proof", json!({"tx_ids": [], "block_hash": "zz"})),
        (
            "/get-merkle-proof",
            json!({"tx_ids": ["zz"], "block_hash": unknown_hash}),
        ),
        (
            "/get-merkle-proof",
            json!({"tx_ids": [unknown_hash], "block_hash": unknown_hash}),
        ),
        (
            "/get-merkle-proof",
            json!({"tx_ids": 5, "block_hash": unknown_hash}),
        ),
        (
            "/get-merkle-proof",
            json!({"tx_ids": [unknown_hash], "block_hash": 7}),
        ),
        ("/create-asset", json!({})),
        (
            "/create-asset",
            json!({"alias": "x", "root_xpubs": [], "quorum": 1}),
        ),
        (
            "/create-asset",
            json!({"alias": "x", "root_xpubs": [funder_xpub], "quorum": 2}),
        ),
        (
            "/create-asset",
            json!({"alias": "x", "root_xpubs": [funder_xpub], "quorum": -1}),
        ),
        (
            "/create-asset",
            json!({"alias": "x", "root_xpubs": ["zz"], "quorum": 1}),
        ),
        (
            "/create-asset",
            json!({"alias": "btm", "root_xpubs": [funder_xpub], "quorum": 1}),
        ),
        (
            "/create-asset",
            json!({"alias": "", "root_xpubs": [funder_xpub], "quorum": 1}),
        ),
        (
            "/create-asset",
            json!({"alias": "x", "root_xpubs": [funder_xpub], "quorum": 1, "definition": "text"}),
        ),
        (
            "/create-asset",
            json!({"alias": "x", "root_xpubs": [funder_xpub], "quorum": 1, "definition": {"bap": "BAP-05"}}),
        ),
        (
            "/create-asset",
            json!({"alias": "x", "root_xpubs": [funder_xpub], "quorum": 1, "definition": {"bap": "BAP-04", "decimals": 99}}),
        ),
        (
            "/create-asset",
            json!({"alias": "x", "root_xpubs": [funder_xpub], "quorum": 1, "limit_height": -5}),
        ),
        ("/create-asset", json!({"alias": "x", "issuance_program": "zz"})),
        ("/get-asset", json!({})),
        ("/get-asset", json!({"id": "zz"})),
        ("/get-asset", json!({"id": unknown_hash})),
        ("/get-asset", json!({"id": 5})),
        ("/list-assets", json!({"id": "zz"})),
        ("/list-assets", json!({"id": 5})),
        (
            "/build-transaction",
            json!({"actions": [
            {"type": "issue", "asset_id": unknown_hash, "amount": 5},
            {"type": "control_address", "address": n.funder_address, "asset_id": btm, "amount": 1}]}),
        ),
        (
            "/build-transaction",
            json!({"actions": [
            {"type": "issue", "amount": 5},
            {"type": "control_address", "address": n.funder_address, "asset_id": btm, "amount": 1}]}),
        ),
    ];
    for (path, body) in &cases {
        let text = match body.as_str().and_then(|t| t.strip_prefix("RAW:")) {
            Some(t) => t.to_string(),
            None => body.to_string(),
        };
        let (s, v, _) = http(addr, "POST", path, Some(BEARER), text.into_bytes()).await;
        let r = (s, v);
        assert_4xx(&format!("{path} {body}"), &r);
        assert!(
            r.1["error_detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{path} {body}: {r:?}"
        );
        checked += 1;
    }

    // REST.
    let rest_cases = [
        ("/v1/blocks/-1", None),
        ("/v1/blocks/18446744073709551616", None),
        ("/v1/blocks/zz", None),
        ("/v1/transactions/zz", None),
        ("/v1/assets/zz", None),
        ("/v1/addresses/zz/utxos", None),
        ("/v1/accounts", None),
        ("/v1/accounts", Some("Bearer test:wrong")),
        ("/v1/accounts/nobody", Some(BEARER)),
        ("/v1/accounts/nobody/balances", Some(BEARER)),
        ("/v1/accounts/nobody/utxos", Some(BEARER)),
        ("/v1/accounts/funder/utxos", None),
        ("/v1/events?tx=zz", None),
        ("/v1/nothing/here", None),
        ("/v1/blocks/%FF%FE", None),
        ("/v1/accounts/%C3%28/utxos", Some(BEARER)),
    ];
    for (path, auth) in rest_cases {
        let r = get(addr, path, auth).await;
        assert_rest_4xx(path, &r);
        checked += 1;
    }
    for body in [
        b"{".to_vec(),
        b"{}".to_vec(),
        b"{\"raw_transaction\": \"zz\"}".to_vec(),
        vec![b'x'; LIMIT + 1],
    ] {
        let (s, v, _) = http(addr, "POST", "/v1/transactions", Some(BEARER), body).await;
        assert_rest_4xx("POST /v1/transactions", &(s, v));
        checked += 1;
    }

    let after = snapshot(addr, &n.chain).await;
    assert_eq!(before, after, "bad input changed the node's state");
    assert!(checked > 400, "{checked} cases");
    // Still answering.
    assert_eq!(ok(addr, "/get-block-count", json!({})).await["block_count"], 1);
    srv.shutdown().await;
}

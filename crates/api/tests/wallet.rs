//! Walkthroughs at the HTTP level over a real chain service and wallet: keys, accounts, receivers,
//! payments (single-key and 2-of-3 multisig with separate signers), balances on both sides, the
//! wallet's history and outputs, and the REST account resources.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::json;
use types::asset::AssetId;

const FEE: u64 = 20_000_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_account_receiver_payment_and_balances() {
    let dir = TempDir::new("walkthrough");
    let n = wallet_node(dir.path());
    let srv = start(n.chain.clone(), Some(n.wallet.clone()), None, 1 << 20).await;
    let addr = srv.local_addr();
    let funded = (GENESIS_OUTPUTS as u64) * GENESIS_EACH;
    assert_eq!(btm_balance(addr, "funder").await, funded);

    // create-key shows the mnemonic once; list-keys never.
    let key = ok(
        addr,
        "/create-key",
        json!({"alias": "Alice", "password": "alice pw"}),
    )
    .await;
    assert_eq!(key["alias"], "alice");
    let mnemonic = key["mnemonic"].as_str().unwrap().to_string();
    assert_eq!(mnemonic.split_whitespace().count(), 12);
    let keys = ok(addr, "/list-keys", json!({})).await;
    assert_eq!(keys.as_array().unwrap().len(), 2);
    assert!(!keys.to_string().contains(&mnemonic));
    let xpub = key["xpub"].as_str().unwrap().to_string();

    let account = ok(
        addr,
        "/create-account",
        json!({"root_xpubs": [xpub], "quorum": 1, "alias": "alice"}),
    )
    .await;
    let alice_id = account["id"].as_str().unwrap().to_string();
    assert_eq!(account["quorum"], 1);
    let receiver = ok(
        addr,
        "/create-account-receiver",
        json!({"account_alias": "alice"}),
    )
    .await;
    let alice_address = receiver["address"].as_str().unwrap().to_string();
    let v = ok(addr, "/validate-address", json!({"address": alice_address})).await;
    assert_eq!(v, json!({"valid": true, "is_local": true}));
    let listed = ok(addr, "/list-addresses", json!({"account_id": alice_id})).await;
    assert_eq!(listed[0]["address"], alice_address);
    assert_eq!(btm_balance(addr, "alice").await, 0);

    // Pay Alice 100 BTM from the genesis-funded account; one block later both balances moved.
    let amount = 10_000_000_000;
    let (tx_id, steps) = pay(addr, "funder", &alice_address, amount, FEE, &[FUNDER_PASSWORD]).await;
    assert_eq!(steps, vec![true]);
    assert!(
        n.wallet.reserved_outputs().unwrap() > 0,
        "building reserves the spent outputs"
    );
    produce(&n.chain).await;
    assert_eq!(btm_balance(addr, "alice").await, amount);
    assert_eq!(n.wallet.reserved_outputs().unwrap(), 0, "inclusion releases them");
    assert_eq!(btm_balance(addr, "funder").await, funded - amount - FEE);

    // The wallet's annotated view of its own transaction.
    let t = ok(addr, "/get-transaction", json!({"tx_id": tx_id})).await;
    assert_eq!(t["tx_id"], tx_id);
    assert_eq!(t["block_height"], 1);
    assert!(
        t["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["account_alias"] == "alice" && o["amount"] == amount),
        "{t}"
    );
    // History, detailed and summarized.
    let h = ok(
        addr,
        "/list-transactions",
        json!({"account_alias": "alice", "detail": true}),
    )
    .await;
    assert_eq!(h.as_array().unwrap().len(), 1);
    assert_eq!(h[0]["tx_id"], tx_id);
    let s = ok(addr, "/list-transactions", json!({"account_id": alice_id})).await;
    assert_eq!(s[0]["tx_id"], tx_id);
    assert!(s[0].get("block_hash").is_none(), "summary only: {s}");
    let after = ok(
        addr,
        "/list-transactions",
        json!({"account_id": alice_id, "start_tx_id": tx_id}),
    )
    .await;
    assert_eq!(after, json!([]));
    // Outputs.
    let u = ok(addr, "/list-unspent-outputs", json!({"account_alias": "alice"})).await;
    assert_eq!(u.as_array().unwrap().len(), 1);
    assert_eq!(u[0]["amount"], amount);
    let all = ok(addr, "/list-unspent-outputs", json!({})).await;
    let one = ok(addr, "/list-unspent-outputs", json!({"from": 1, "count": 1})).await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert_eq!(one[0], all[1]);
    // A chain transaction the wallet does not own: the chain's view (the coinbase of block 1).
    let coinbase = n.chain.tip();
    let block = storage::StoreRead::block_at(n.chain.store(), coinbase.height)
        .unwrap()
        .unwrap();
    let cb = ok(
        addr,
        "/get-transaction",
        json!({"tx_id": block.transactions()[0].id().to_hex()}),
    )
    .await;
    assert_eq!(cb["block_index"], 0);

    // REST views of the same.
    let (s, accts) = get(addr, "/v1/accounts", Some(BEARER)).await;
    assert_eq!(s, 200, "{accts}");
    assert_eq!(accts.as_array().unwrap().len(), 2);
    let (s, a) = get(addr, "/v1/accounts/alice", Some(BEARER)).await;
    assert_eq!((s, &a["id"]), (200, &json!(alice_id)));
    let (_, a2) = get(addr, &format!("/v1/accounts/{alice_id}"), Some(BEARER)).await;
    assert_eq!(a2, a);
    let (s, b) = get(addr, "/v1/accounts/alice/balances", Some(BEARER)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b[0]["amount"], amount);
    assert_eq!(b[0]["asset_id"], AssetId::BTM.to_hex());
    let (s, ru) = get(addr, "/v1/accounts/alice/utxos", Some(BEARER)).await;
    assert_eq!(s, 200);
    assert_eq!(ru[0]["amount"], amount);
    assert_eq!(ru[0]["output_id"], u[0]["id"]);
    assert_eq!(ru[0]["height"], 1, "created in block 1");
    let (s, au) = get(addr, &format!("/v1/addresses/{alice_address}/utxos"), None).await;
    assert_eq!(s, 200, "{au}");
    assert_eq!(au["source"], "wallet");
    assert_eq!(au["complete"], true);
    assert_eq!(au["utxos"][0]["amount"], amount);
    let r = get(addr, "/v1/accounts/nobody", Some(BEARER)).await;
    assert_eq!(r.0, 404, "{r:?}");
    assert_eq!(r.1["code"], "BTM705");

    // Keys and accounts can be removed (with the right password only).
    assert_fail(
        &call(addr, "/delete-key", json!({"xpub": xpub, "password": "wrong"})).await,
        400,
        "BTM802",
    );
    let changed = ok(
        addr,
        "/reset-key-password",
        json!({"xpub": xpub, "old_password": "wrong", "new_password": "x"}),
    )
    .await;
    assert_eq!(changed, json!({"changed": false}));
    let changed = ok(
        addr,
        "/reset-key-password",
        json!({"xpub": xpub, "old_password": "alice pw", "new_password": "alice pw 2"}),
    )
    .await;
    assert_eq!(changed, json!({"changed": true}));
    ok(
        addr,
        "/delete-key",
        json!({"xpub": xpub, "password": "alice pw 2"}),
    )
    .await;
    assert_eq!(
        ok(addr, "/list-keys", json!({})).await.as_array().unwrap().len(),
        1
    );
    srv.shutdown().await;
}

/// Three parties, three wallets: the node's (funder and key 1, which builds), a second node's on the
/// same chain (key 2), and a third party's (key 3, never used). Each signs with its own wallet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_three_multisig_is_funded_and_spent_with_two_signers() {
    let dir = TempDir::new("multisig");
    let n = wallet_node(dir.path());
    let srv = start(n.chain.clone(), Some(n.wallet.clone()), None, 1 << 20).await;
    let addr = srv.local_addr();
    let other = |name: &str| {
        std::sync::Arc::new(
            wallet::Wallet::open(
                &dir.path().join(name),
                types::profile::Profile::Side,
                types::profile::Network::Devnet,
                wallet::KdfParams::FAST_INSECURE,
            )
            .unwrap(),
        )
    };
    let (w2, w3) = (other("party2"), other("party3"));
    let srv2 = start(n.chain.clone(), Some(w2), None, 1 << 20).await;
    let srv3 = start(n.chain.clone(), Some(w3), None, 1 << 20).await;
    let (addr2, addr3) = (srv2.local_addr(), srv3.local_addr());
    let k1 = ok(addr, "/create-key", json!({"alias": "k1", "password": "pw one"})).await;
    let k2 = ok(addr2, "/create-key", json!({"alias": "k2", "password": "pw two"})).await;
    let k3 = ok(
        addr3,
        "/create-key",
        json!({"alias": "k3", "password": "pw three"}),
    )
    .await;
    let xpubs = json!([k1["xpub"], k2["xpub"], k3["xpub"]]);
    let ms = ok(
        addr,
        "/create-account",
        json!({"root_xpubs": xpubs, "quorum": 2, "alias": "vault"}),
    )
    .await;
    assert_eq!(ms["quorum"], 2);
    assert_eq!(ms["xpubs"].as_array().unwrap().len(), 3);
    let vault = ok(
        addr,
        "/create-account-receiver",
        json!({"account_alias": "vault"}),
    )
    .await;
    let vault_address = vault["address"].as_str().unwrap().to_string();

    let amount = 50_000_000_000;
    let (_, steps) = pay(addr, "funder", &vault_address, amount, FEE, &[FUNDER_PASSWORD]).await;
    assert_eq!(steps, vec![true]);
    produce(&n.chain).await;
    assert_eq!(btm_balance(addr, "vault").await, amount);

    // Spend from the vault: built on the first node, signed there by party 1 (not enough), then
    // by party 2 on the second node (complete).
    let back = 20_000_000_000;
    let btm = AssetId::BTM.to_hex();
    let template = ok(
        addr,
        "/build-transaction",
        json!({"actions": [
            {"type": "spend_account", "account_alias": "vault", "asset_id": btm, "amount": back + FEE},
            {"type": "control_address", "address": n.funder_address, "asset_id": btm, "amount": back},
        ]}),
    )
    .await;
    let gas = ok(
        addr,
        "/estimate-transaction-gas",
        json!({"transaction_template": template}),
    )
    .await;
    assert!(gas["vm_neu"].as_i64().unwrap() > 0, "{gas}");
    let one = ok(
        addr,
        "/sign-transaction",
        json!({"password": "pw one", "transaction": template}),
    )
    .await;
    assert_eq!(one["sign_complete"], false);
    // Half signed: the pool refuses it.
    let r = call(
        addr,
        "/submit-transaction",
        json!({"raw_transaction": one["transaction"]["raw_transaction"]}),
    )
    .await;
    assert_4xx("half-signed multisig", &r);
    // Party 2's wrong password: refused, nothing signed.
    let r = call(
        addr2,
        "/sign-transaction",
        json!({"password": "pw one", "transaction": one["transaction"]}),
    )
    .await;
    assert_fail(&r, 400, "BTM802");
    let two = ok(
        addr2,
        "/sign-transaction",
        json!({"password": "pw two", "transaction": one["transaction"]}),
    )
    .await;
    assert_eq!(two["sign_complete"], true);
    let sub = ok(
        addr2,
        "/submit-transaction",
        json!({"raw_transaction": two["transaction"]["raw_transaction"]}),
    )
    .await;
    produce(&n.chain).await;
    let t = ok(addr, "/get-transaction", json!({"tx_id": sub["tx_id"]})).await;
    assert_eq!(t["block_height"], 2);
    assert_eq!(btm_balance(addr, "vault").await, amount - back - FEE);
    let funded = (GENESIS_OUTPUTS as u64) * GENESIS_EACH;
    assert_eq!(btm_balance(addr, "funder").await, funded - amount - FEE + back);
    srv3.shutdown().await;
    srv2.shutdown().await;
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallet_endpoints_without_a_wallet_say_so() {
    let dir = TempDir::new("nowallet");
    let n = wallet_node(dir.path());
    let srv = start(n.chain.clone(), None, None, 1 << 20).await;
    let addr = srv.local_addr();
    for path in [
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
    ] {
        let body = match path {
            "/delete-key" => json!({"xpub": "00".repeat(64), "password": "x"}),
            "/reset-key-password" => {
                json!({"xpub": "00".repeat(64), "old_password": "x", "new_password": "y"})
            }
            "/create-key" => json!({"alias": "a", "password": "x"}),
            "/create-account" => json!({"root_xpubs": [], "quorum": 1}),
            "/validate-address" => json!({"address": n.funder_address}),
            "/sign-transaction" => json!({"password": "x", "transaction": {"raw_transaction": "00"}}),
            "/estimate-transaction-gas" => json!({"transaction_template": {"raw_transaction": "00"}}),
            "/delete-account" | "/create-account-receiver" | "/list-transactions" => {
                json!({"account_id": "a"})
            }
            _ => json!({}),
        };
        let r = call(addr, path, body).await;
        assert_fail(&r, 400, "BTM005");
    }
    srv.shutdown().await;
}

/// The follower task catches the wallet up from its indexed tip on start and then follows new
/// blocks by itself (no request needed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallet_follows_the_chain_on_its_own() {
    let dir = TempDir::new("follow");
    let n = wallet_node(dir.path());
    produce(&n.chain).await;
    produce(&n.chain).await;
    assert_eq!(
        n.wallet.indexed_tip().unwrap(),
        None,
        "nothing indexed before the server starts"
    );
    let srv = start(n.chain.clone(), Some(n.wallet.clone()), None, 1 << 20).await;
    let wait_for = |height: u64| {
        let (w, c) = (n.wallet.clone(), n.chain.clone());
        async move {
            for _ in 0..200 {
                if w.indexed_tip().unwrap() == Some((height, c.tip().hash)) {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            panic!("the wallet did not reach height {height}: {:?}", w.indexed_tip());
        }
    };
    wait_for(2).await;
    produce(&n.chain).await;
    wait_for(3).await;
    srv.shutdown().await;
}

/// A vote output built by the wallet shows in the account's votes and in the chain's vote tally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn votes_show_per_account_and_in_the_chain_tally() {
    let dir = TempDir::new("votes-wallet");
    let n = wallet_node(dir.path());
    let srv = start(n.chain.clone(), Some(n.wallet.clone()), None, 1 << 20).await;
    let addr = srv.local_addr();
    let btm = AssetId::BTM.to_hex();
    let candidate = "ab".repeat(64);
    let vote = 300_000_000u64;
    let template = ok(
        addr,
        "/build-transaction",
        json!({"actions": [
            {"type": "spend_account", "account_alias": "funder", "asset_id": btm, "amount": vote + FEE},
            {"type": "vote_output", "address": n.funder_address, "vote": candidate, "asset_id": btm, "amount": vote},
        ]}),
    )
    .await;
    let signed = ok(
        addr,
        "/sign-transaction",
        json!({"password": FUNDER_PASSWORD, "transaction": template}),
    )
    .await;
    assert_eq!(signed["sign_complete"], true);
    ok(
        addr,
        "/submit-transaction",
        json!({"raw_transaction": signed["transaction"]["raw_transaction"]}),
    )
    .await;
    produce(&n.chain).await;
    let votes = ok(addr, "/list-account-votes", json!({"account_alias": "funder"})).await;
    assert_eq!(
        votes,
        json!([{
            "account_id": n.funder_id,
            "account_alias": "funder",
            "total_vote_number": vote,
            "vote_details": [{"vote": candidate, "vote_number": vote}],
        }])
    );
    let tally = ok(addr, "/get-vote-result", json!({"block_height": 1})).await;
    assert_eq!(tally, json!([{"vote": candidate, "vote_number": vote}]));
    assert_eq!(ok(addr, "/list-account-votes", json!({})).await, votes);
    srv.shutdown().await;
}

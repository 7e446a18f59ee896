//! The live feed, REST v1 and the OpenAPI document, runtime access tokens and the vote tally, over
//! real HTTP on loopback (no wallet).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use crypto::chainkd::XPrv;
use node::MempoolConfig;
use node::devnet::{Coin, coins_of, sign_transfer};
use node::genesis::p2wpkh_program_of;
use serde_json::json;
use types::Transaction;
use types::amount::Amount;
use types::asset::AssetId;
use types::profile::Profile;
use types::tx::{InputKind, OutputKind, SpendCommitment, SpendInput, TxData, TxInput, TxOutput};

fn key() -> (XPrv, Vec<u8>) {
    let xprv = XPrv::root(b"api feed test");
    let program = p2wpkh_program_of(&xprv.xpub());
    (xprv, program)
}

/// Spends `coin` to `outputs` (kind, amount), signed by `xprv`.
fn spend(xprv: &XPrv, coin: &Coin, outputs: Vec<(OutputKind, u64, Vec<u8>)>) -> Transaction {
    let data = TxData {
        version: 1,
        time_range: 0,
        inputs: vec![TxInput::new(InputKind::Spend(SpendInput {
            commitment: SpendCommitment {
                source_id: coin.source_id,
                asset_id: AssetId::BTM,
                amount: Amount::new(coin.amount).unwrap(),
                source_position: coin.source_position,
                vm_version: 1,
                control_program: coin.control_program.clone(),
                suffix: Vec::new(),
            },
            arguments: Vec::new(),
        }))],
        outputs: outputs
            .into_iter()
            .map(|(kind, n, p)| TxOutput::new(kind, AssetId::BTM, Amount::new(n).unwrap(), p))
            .collect(),
    };
    let unsigned = Transaction::new(Profile::Side, data).unwrap();
    let sig = xprv.sign(unsigned.sighash(0).unwrap().as_bytes()).to_vec();
    let mut data = unsigned.into_data();
    data.inputs[0].set_arguments(vec![sig, xprv.xpub().public_key().to_vec()]);
    Transaction::new(Profile::Side, data).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_shows_pending_included_final_and_rejected() {
    let dir = TempDir::new("feed");
    let (xprv, program) = key();
    let (chain, genesis) = open_chain(dir.path(), &program);
    let srv = start(chain.clone(), None, None, 1 << 20).await;
    let addr = srv.local_addr();
    let coins = coins_of(&genesis.transactions()[1], &program);
    let good = sign_transfer(
        &xprv,
        &coins[..1],
        &[(program.clone(), coins[0].amount - 1_000_000)],
    )
    .unwrap();
    let id = good.id().to_hex();

    let all = tokio::task::spawn_blocking(move || open_feed(addr, "/v1/events"))
        .await
        .unwrap();
    assert_eq!(all.status, 200);
    let path = format!("/v1/events?tx={id}");
    let only = tokio::task::spawn_blocking(move || open_feed(addr, &path))
        .await
        .unwrap();
    assert_eq!(only.status, 200);

    let (s, v) = call(
        addr,
        "/submit-transaction",
        json!({"raw_transaction": hex::encode(good.encode())}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let block = produce(&chain).await;
    assert_eq!(block.transactions().len(), 2);

    let (all, only, id2) = tokio::task::spawn_blocking(move || {
        let p = all.next_tx(&id);
        assert_eq!(p["status"], "pending", "{p}");
        // The block event, then the transaction's inclusion and finality.
        let (name, b) = all.next();
        assert_eq!(name, "block", "{b}");
        assert_eq!(b["height"], 1);
        assert_eq!(b["tx_count"], 2);
        assert_eq!(b["final"], true);
        let i = all.next_tx(&id);
        assert_eq!(i["status"], "included", "{i}");
        assert_eq!(i["block_height"], 1);
        assert_eq!(i["block_hash"], b["hash"]);
        let f = all.next_tx(&id);
        assert_eq!(f["status"], "final", "{f}");
        assert_eq!(f["block_hash"], b["hash"]);
        // The filtered feed sees exactly this transaction's three events, and no block event.
        for want in ["pending", "included", "final"] {
            let (name, e) = only.next();
            assert_eq!(name, "tx", "{e}");
            assert_eq!(e["tx_id"], id);
            assert_eq!(e["status"], want);
        }
        (all, only, id)
    })
    .await
    .unwrap();

    // A forged signature: refused on submission, and the feed says why.
    let forged = sign_transfer(
        &XPrv::root(b"mallory"),
        &coins[1..2],
        &[(program.clone(), coins[1].amount - 1_000_000)],
    )
    .unwrap();
    let bad_id = forged.id().to_hex();
    let (s, v, _) = http(
        addr,
        "POST",
        "/v1/transactions",
        Some(BEARER),
        json!({"raw_transaction": hex::encode(forged.encode())})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    assert!(v["code"].as_str().unwrap().starts_with("BTM7"), "{v}");
    assert!(v["message"].as_str().unwrap().len() > 5, "{v}");
    tokio::task::spawn_blocking(move || {
        let e = all.next_tx(&bad_id);
        assert_eq!(e["status"], "rejected", "{e}");
        assert!(e["reason"].as_str().unwrap().len() > 5, "{e}");
        // Nothing more about the first transaction on its filtered feed.
        assert!(
            only.events
                .recv_timeout(std::time::Duration::from_millis(300))
                .is_err()
        );
        let _ = id2;
    })
    .await
    .unwrap();
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_reports_a_pool_eviction_as_rejected() {
    let dir = TempDir::new("evict");
    let (xprv, program) = key();
    let pool = MempoolConfig {
        max_txs: 1,
        ..MempoolConfig::default()
    };
    let (chain, genesis) = open_chain_with(dir.path(), &program, pool);
    let srv = start(chain.clone(), None, None, 1 << 20).await;
    let addr = srv.local_addr();
    let coins = coins_of(&genesis.transactions()[1], &program);
    let cheap = sign_transfer(
        &xprv,
        &coins[..1],
        &[(program.clone(), coins[0].amount - 1_000_000)],
    )
    .unwrap();
    let rich = sign_transfer(
        &xprv,
        &coins[1..2],
        &[(program.clone(), coins[1].amount - 90_000_000)],
    )
    .unwrap();
    let path = format!("/v1/events?tx={}", cheap.id().to_hex());
    let feed = tokio::task::spawn_blocking(move || open_feed(addr, &path))
        .await
        .unwrap();
    ok(
        addr,
        "/submit-transaction",
        json!({"raw_transaction": hex::encode(cheap.encode())}),
    )
    .await;
    ok(
        addr,
        "/submit-transaction",
        json!({"raw_transaction": hex::encode(rich.encode())}),
    )
    .await;
    let id = cheap.id().to_hex();
    tokio::task::spawn_blocking(move || {
        assert_eq!(feed.next_tx(&id)["status"], "pending");
        let e = feed.next_tx(&id);
        assert_eq!(e["status"], "rejected", "{e}");
        assert!(e["reason"].as_str().unwrap().contains("evicted"), "{e}");
    })
    .await
    .unwrap();
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_reads_and_the_openapi_document() {
    let dir = TempDir::new("rest");
    let (xprv, program) = key();
    let (chain, genesis) = open_chain(dir.path(), &program);
    let srv = start(chain.clone(), None, None, 1 << 20).await;
    let addr = srv.local_addr();
    let coins = coins_of(&genesis.transactions()[1], &program);
    let tx = sign_transfer(
        &xprv,
        &coins[..1],
        &[(program.clone(), coins[0].amount - 1_000_000)],
    )
    .unwrap();
    let (s, v, _) = http(
        addr,
        "POST",
        "/v1/transactions",
        Some(BEARER),
        json!({"raw_transaction": hex::encode(tx.encode())})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!((s, &v["status"]), (202, &json!("pending")), "{v}");
    assert_eq!(v["tx_id"], tx.id().to_hex());
    let (s, v) = get(addr, &format!("/v1/transactions/{}", tx.id().to_hex()), None).await;
    assert_eq!((s, &v["status"]), (200, &json!("pending")), "{v}");
    let block = produce(&chain).await;

    let (s, tip) = get(addr, "/v1/blocks/tip", None).await;
    assert_eq!(s, 200, "{tip}");
    assert_eq!(tip["height"], 1);
    assert_eq!(tip["hash"], block.hash().to_hex());
    assert_eq!(tip["transactions"][1], tx.id().to_hex());
    assert_eq!(tip["final"], true);
    let (_, by_height) = get(addr, "/v1/blocks/1", None).await;
    assert_eq!(by_height, tip);
    let (_, by_hash) = get(addr, &format!("/v1/blocks/{}", block.hash().to_hex()), None).await;
    assert_eq!(by_hash, tip);
    let (_, g) = get(addr, "/v1/blocks/0", None).await;
    assert_eq!(g["hash"], genesis.hash().to_hex());
    assert_eq!(tip["previous_block_hash"], g["hash"]);

    let (s, t) = get(addr, &format!("/v1/transactions/{}", tx.id().to_hex()), None).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["status"], "confirmed");
    assert_eq!(t["block_height"], 1);
    assert_eq!(t["block_index"], 1);
    assert_eq!(
        t["detail"]["inputs"][0]["spent_output_id"],
        coins[0].output_id.to_hex()
    );

    let (s, btm) = get(addr, &format!("/v1/assets/{}", AssetId::BTM.to_hex()), None).await;
    assert_eq!(s, 200, "{btm}");
    assert_eq!(btm["native"], true);
    assert_eq!(btm["definition"]["symbol"], "BTM");
    assert_eq!(btm["first_seen_height"], 0);

    // The address's unspent outputs, by a scan of the store (no wallet): genesis coins 1..3 and the
    // new output; the spent coin is gone.
    let address =
        types::address::program_to_address(&program, Profile::Side, types::profile::Network::Devnet).unwrap();
    let (s, u) = get(addr, &format!("/v1/addresses/{address}/utxos"), None).await;
    assert_eq!(s, 200, "{u}");
    assert_eq!(u["source"], "chain_scan");
    assert_eq!(u["complete"], true);
    let utxos = u["utxos"].as_array().unwrap();
    assert_eq!(utxos.len(), 4, "{u}");
    assert!(
        utxos
            .iter()
            .all(|x| x["output_id"] != coins[0].output_id.to_hex())
    );
    let total: u64 = utxos.iter().map(|x| x["amount"].as_u64().unwrap()).sum();
    assert_eq!(total, 4 * GENESIS_EACH - 1_000_000);

    // Errors: {code, message}, 4xx.
    for (path, status) in [
        ("/v1/blocks/99", 404),
        ("/v1/blocks/abc", 400),
        ("/v1/blocks/99999999999999999999999", 400),
        (
            "/v1/blocks/0000000000000000000000000000000000000000000000000000000000000000",
            404,
        ),
        ("/v1/transactions/zz", 400),
        (
            "/v1/transactions/0000000000000000000000000000000000000000000000000000000000000001",
            404,
        ),
        ("/v1/assets/00", 400),
        (
            "/v1/assets/0000000000000000000000000000000000000000000000000000000000000002",
            404,
        ),
        ("/v1/addresses/notanaddress/utxos", 400),
        ("/v1/nothing", 404),
        ("/v1/events?tx=xyz", 400),
        ("/v1/events?foo=1", 400),
        ("/v1/accounts", 401),
    ] {
        let r = get(addr, path, None).await;
        assert_eq!(r.0, status, "{path}: {r:?}");
        assert_rest_4xx(path, &r);
    }
    // Without a wallet, wallet resources say so (authenticated).
    let r = get(addr, "/v1/accounts", Some(BEARER)).await;
    assert_rest_4xx("accounts without a wallet", &r);
    assert_eq!(r.1["code"], "BTM005");
    let (s, v, _) = http(addr, "POST", "/v1/transactions", None, b"{}".to_vec()).await;
    assert_eq!(s, 401, "{v}");
    let (s, v, _) = http(
        addr,
        "POST",
        "/v1/transactions",
        Some(BEARER),
        b"{\"raw_transaction\": 5}".to_vec(),
    )
    .await;
    assert_eq!(s, 400, "{v}");
    let (s, _, _) = http(addr, "DELETE", "/v1/blocks/1", None, Vec::new()).await;
    assert_eq!(s, 405);
    // A chain without BBFT has no elections to show.
    let (s, v) = get(addr, "/v1/validators", None).await;
    assert_eq!(s, 404, "{v}");

    // The OpenAPI document lists every REST path, generated from the handlers.
    let (s, doc) = get(addr, "/v1/openapi.json", None).await;
    assert_eq!(s, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
    for p in [
        "/v1/blocks/tip",
        "/v1/blocks/{id}",
        "/v1/transactions",
        "/v1/transactions/{id}",
        "/v1/assets/{id}",
        "/v1/addresses/{address}/utxos",
        "/v1/accounts",
        "/v1/accounts/{id}",
        "/v1/accounts/{id}/balances",
        "/v1/accounts/{id}/utxos",
        "/v1/events",
        "/v1/openapi.json",
        "/v1/validators",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} missing from the document");
    }
    assert!(doc["components"]["schemas"].get("RestBlock").is_some());
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_access_tokens_are_persisted_and_work() {
    let dir = TempDir::new("tokens");
    let (_, program) = key();
    let (chain, _) = open_chain(dir.path(), &program);
    let srv = start(chain.clone(), None, Some(dir.path()), 1 << 20).await;
    let addr = srv.local_addr();
    let t = ok(
        addr,
        "/create-access-token",
        json!({"id": "ops", "type": "client"}),
    )
    .await;
    let token = t["token"].as_str().unwrap().to_string();
    let secret = token.split_once(':').unwrap().1.to_string();
    assert_eq!(t["id"], "ops");
    assert!(t["created_at"].as_str().unwrap().ends_with('Z'));
    // The new token authenticates.
    let (s, _, _) = http(
        addr,
        "POST",
        "/get-block-count",
        Some(&format!("Bearer {token}")),
        Vec::new(),
    )
    .await;
    assert_eq!(s, 200);
    let list = ok(addr, "/list-access-tokens", json!({})).await;
    let text = list.to_string();
    assert!(text.contains("\"ops\"") && !text.contains(&secret), "{list}");
    ok(
        addr,
        "/check-access-token",
        json!({"id": "ops", "secret": secret}),
    )
    .await;
    assert_4xx(
        "wrong secret",
        &call(addr, "/check-access-token", json!({"id": "ops", "secret": "x"})).await,
    );
    assert_fail(
        &call(addr, "/create-access-token", json!({"id": "ops"})).await,
        409,
        "BTM004",
    );
    assert_fail(
        &call(addr, "/create-access-token", json!({"id": "a b"})).await,
        400,
        "BTM002",
    );
    assert_fail(
        &call(addr, "/delete-access-token", json!({"id": "nobody"})).await,
        404,
        "BTM003",
    );
    assert_4xx(
        "configured token",
        &call(addr, "/delete-access-token", json!({"id": "test"})).await,
    );
    srv.shutdown().await;

    // A restarted server still accepts it; the file holds only its hash.
    let file = std::fs::read_to_string(dir.path().join("access_tokens.json")).unwrap();
    assert!(!file.contains(&secret));
    let srv = start(chain.clone(), None, Some(dir.path()), 1 << 20).await;
    let addr = srv.local_addr();
    let (s, _, _) = http(
        addr,
        "POST",
        "/get-block-count",
        Some(&format!("Bearer {token}")),
        Vec::new(),
    )
    .await;
    assert_eq!(s, 200);
    ok(addr, "/delete-access-token", json!({"id": "ops"})).await;
    let (s, _, _) = http(
        addr,
        "POST",
        "/get-block-count",
        Some(&format!("Bearer {token}")),
        Vec::new(),
    )
    .await;
    assert_eq!(s, 401);
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vote_result_tallies_vote_outputs() {
    let dir = TempDir::new("votes");
    let (xprv, program) = key();
    let (chain, genesis) = open_chain(dir.path(), &program);
    let srv = start(chain.clone(), None, None, 1 << 20).await;
    let addr = srv.local_addr();
    let coins = coins_of(&genesis.transactions()[1], &program);
    let (a, b) = (vec![0xaa; 64], vec![0xbb; 64]);
    let tx = spend(
        &xprv,
        &coins[0],
        vec![
            (OutputKind::Vote { vote: a.clone() }, 300_000_000, program.clone()),
            (OutputKind::Vote { vote: b.clone() }, 500_000_000, program.clone()),
            (OutputKind::Vote { vote: a.clone() }, 400_000_000, program.clone()),
            (
                OutputKind::Control,
                coins[0].amount - 1_200_000_000 - 10_000_000,
                program.clone(),
            ),
        ],
    );
    ok(
        addr,
        "/submit-transaction",
        json!({"raw_transaction": hex::encode(tx.encode())}),
    )
    .await;
    produce(&chain).await;
    let v = ok(addr, "/get-vote-result", json!({"block_height": 1})).await;
    assert_eq!(
        v,
        json!([
            {"vote": hex::encode(&a), "vote_number": 700_000_000u64},
            {"vote": hex::encode(&b), "vote_number": 500_000_000u64},
        ])
    );
    assert_eq!(
        ok(addr, "/get-vote-result", json!({"block_height": 0})).await,
        json!([])
    );
    let by_hash = ok(
        addr,
        "/get-vote-result",
        json!({"block_hash": chain.tip().hash.to_hex()}),
    )
    .await;
    assert_eq!(by_hash, v);
    assert_fail(
        &call(addr, "/get-vote-result", json!({"block_height": 9})).await,
        404,
        "BTM003",
    );
    assert_fail(
        &call(addr, "/get-vote-result", json!({"block_hash": "xx"})).await,
        400,
        "BTM002",
    );
    srv.shutdown().await;
}

/// More blocks than the chain's broadcast holds (256), produced back to back: the feed still shows
/// every block once, in order (what the broadcast missed is read from the store).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_shows_every_block_in_order_even_past_the_broadcast_buffer() {
    let dir = TempDir::new("burst");
    let (_, program) = key();
    let (chain, _) = open_chain(dir.path(), &program);
    let srv = start(chain.clone(), None, None, 1 << 20).await;
    let addr = srv.local_addr();
    let feed = tokio::task::spawn_blocking(move || open_feed(addr, "/v1/events"))
        .await
        .unwrap();
    let blocks = 300u64;
    let c = chain.clone();
    tokio::task::spawn_blocking(move || {
        for i in 0..blocks {
            c.produce_block(1_800_000_000_000 + i).unwrap();
        }
    })
    .await
    .unwrap();
    let tip = chain.tip();
    tokio::task::spawn_blocking(move || {
        for h in 1..=blocks {
            let (name, b) = feed.next();
            assert_eq!(name, "block");
            assert_eq!(b["height"], h, "{b}");
            if h == blocks {
                assert_eq!(b["hash"], tip.hash.to_hex());
            }
        }
    })
    .await
    .unwrap();
    srv.shutdown().await;
}

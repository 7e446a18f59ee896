//! Assets over HTTP (`create-asset`, `get-asset`, `list-assets`, with the shapes of a real Bytom
//! v1.1.0 node's answers in `bytom_assets.json`), the issue action refused on a sidechain, and
//! `get-merkle-proof` over stored blocks, checked against the header's Merkle roots.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use common::*;
use serde_json::{Value, json};
use types::Hash;
use types::asset::AssetId;

fn fixture() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tributary/tests/fixtures/reference/bytom_assets.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_get_and_list_assets_answer_in_the_reference_shapes() {
    let dir = TempDir::new("assets-api");
    let n = wallet_node(dir.path());
    let srv = start(n.chain.clone(), Some(n.wallet.clone()), None, 1 << 20).await;
    let addr = srv.local_addr();
    let fx = fixture();

    // The node's own request: the same ID, program and raw definition as the Bytom node's answer.
    let created = ok(addr, "/create-asset", fx["create_asset_request"].clone()).await;
    assert_eq!(created, fx["create_asset"]);
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(ok(addr, "/get-asset", json!({"id": id})).await, fx["get_asset"]);
    assert_eq!(ok(addr, "/list-assets", json!({})).await, fx["list_assets"]);
    assert_eq!(
        ok(addr, "/list-assets", json!({"id": id})).await,
        json!([fx["get_asset"]])
    );
    let btm = ok(addr, "/get-asset", json!({"id": AssetId::BTM.to_hex()})).await;
    assert_eq!(btm, fx["list_assets"][0]);

    // A class is declared in the definition; an invalid claim is a 400 and defines nothing.
    let funder_xpub = n.wallet.list_keys()[0].xpub.to_hex();
    let quark = ok(
        addr,
        "/create-asset",
        json!({"alias": "sword", "root_xpubs": [funder_xpub], "quorum": 1,
               "definition": {"name": "sword #1", "bap": "BAP-03"}}),
    )
    .await;
    assert_eq!(quark["alias"], "SWORD");
    assert_eq!(quark["definition"]["bap"], "BAP-03");
    let r = call(
        addr,
        "/create-asset",
        json!({"alias": "bad", "root_xpubs": [funder_xpub], "quorum": 1, "definition": {"bap": "BAP-9"}}),
    )
    .await;
    assert_fail(&r, 400, "BTM002");
    assert_eq!(
        ok(addr, "/list-assets", json!({}))
            .await
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // An unknown asset is BTM710, as the reference's "Asset not found".
    let r = call(addr, "/get-asset", json!({"id": "cd".repeat(32)})).await;
    assert_fail(&r, 400, "BTM710");

    // The API's chain is a sidechain: issuing there is refused with a clear message.
    let r = call(
        addr,
        "/build-transaction",
        json!({"actions": [
            {"type": "issue", "asset_alias": "sword", "amount": 1},
            {"type": "control_address", "address": n.funder_address, "asset_id": quark["id"], "amount": 1},
        ]}),
    )
    .await;
    assert_fail(&r, 400, "BTM711");
    assert!(
        r.1["error_detail"].as_str().unwrap().contains("main chain"),
        "{r:?}"
    );
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merkle_proofs_match_the_stored_headers() {
    let dir = TempDir::new("merkle-api");
    let n = wallet_node(dir.path());
    let srv = start(n.chain.clone(), Some(n.wallet.clone()), None, 1 << 20).await;
    let addr = srv.local_addr();
    // A block holding a coinbase and two payments.
    let (tx1, _) = pay(
        addr,
        "funder",
        &n.funder_address,
        1_000_000,
        20_000_000,
        &[FUNDER_PASSWORD],
    )
    .await;
    let (tx2, _) = pay(
        addr,
        "funder",
        &n.funder_address,
        2_000_000,
        20_000_000,
        &[FUNDER_PASSWORD],
    )
    .await;
    let block = produce(&n.chain).await;
    let ids: Vec<Hash> = block.transactions().iter().map(|t| t.id()).collect();
    assert!(ids.len() >= 3, "{ids:?}");
    let header = block.header();

    for wanted in [
        vec![tx1.clone()],
        vec![tx2.clone()],
        vec![tx1.clone(), tx2.clone()],
        vec![ids[0].to_hex()],
    ] {
        let p = ok(
            addr,
            "/get-merkle-proof",
            json!({"tx_ids": wanted, "block_hash": block.hash().to_hex()}),
        )
        .await;
        assert_eq!(p["block_header"], hex::encode(header.encode()));
        let matched: Vec<Hash> = p["matched_tx_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
            .collect();
        let mut want: Vec<Hash> = wanted.iter().map(|h| Hash::from_hex(h).unwrap()).collect();
        want.sort_by_key(|h| ids.iter().position(|x| x == h));
        assert_eq!(matched, want);
        let proof = types::merkle::MerkleProof {
            hashes: p["tx_hashes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
                .collect(),
            flags: p["flags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| u8::try_from(f.as_u64().unwrap()).unwrap())
                .collect(),
        };
        assert!(types::merkle::validate_tx_merkle_proof(
            &proof,
            &matched,
            &header.transactions_merkle_root
        ));
        // A proof does not prove a transaction it was not built for.
        let other: Vec<Hash> = ids
            .iter()
            .copied()
            .filter(|i| !matched.contains(i))
            .take(1)
            .collect();
        assert!(!types::merkle::validate_tx_merkle_proof(
            &proof,
            &other,
            &header.transactions_merkle_root
        ));
        // Every stored transaction succeeded: the status tree proves "success" for each matched one.
        let status = types::merkle::MerkleProof {
            hashes: p["status_hashes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| Hash::from_hex(h.as_str().unwrap()).unwrap())
                .collect(),
            flags: proof.flags.clone(),
        };
        assert!(types::merkle::validate_status_merkle_proof(
            &status,
            &vec![false; matched.len()],
            &header.transaction_status_hash
        ));
    }
    // Bad requests.
    for body in [
        json!({"tx_ids": [tx1]}),
        json!({"tx_ids": ["zz"], "block_hash": block.hash().to_hex()}),
        json!({"tx_ids": [tx1], "block_hash": "cd".repeat(32)}),
        json!({"tx_ids": "x", "block_hash": block.hash().to_hex()}),
    ] {
        let r = call(addr, "/get-merkle-proof", body.clone()).await;
        assert_4xx(&body.to_string(), &r);
    }
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asset_endpoints_without_a_wallet_say_so() {
    let dir = TempDir::new("assets-nowallet");
    let n = wallet_node(dir.path());
    let srv = start(n.chain.clone(), None, None, 1 << 20).await;
    let addr = srv.local_addr();
    for path in ["/create-asset", "/get-asset", "/list-assets"] {
        let r = call(addr, path, json!({})).await;
        assert_fail(&r, 400, "BTM005");
    }
    // get-merkle-proof is a chain endpoint: it answers without a wallet.
    let genesis = n.genesis.hash().to_hex();
    let p = ok(
        addr,
        "/get-merkle-proof",
        json!({"tx_ids": [], "block_hash": genesis}),
    )
    .await;
    assert_eq!(p["matched_tx_ids"], json!([]));
    srv.shutdown().await;
}

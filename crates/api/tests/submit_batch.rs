//! `submit-transactions`: many raw transactions in one request, admitted in order, refused the way
//! the reference refuses them (the first refusal ends the request; a request that does not decode
//! admits nothing), bounded in count.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use crypto::chainkd::XPrv;
use node::devnet::{Coin, coins_of, sign_transfer};
use serde_json::{Value, json};

const FEE: u64 = 1_000_000;

/// A chain whose genesis pays [`GENESIS_OUTPUTS`] coins to a known key, the key and the coins.
fn funded(dir: &std::path::Path) -> (std::sync::Arc<node::chain::ChainService>, XPrv, Vec<Coin>) {
    let xprv = XPrv::root(b"submit-transactions test key");
    let program = node::genesis::p2wpkh_program_of(&xprv.xpub());
    let (chain, genesis) = open_chain(dir, &program);
    let coins: Vec<Coin> = genesis.transactions()[1..]
        .iter()
        .flat_map(|t| coins_of(t, &program))
        .collect();
    assert_eq!(coins.len(), GENESIS_OUTPUTS);
    (chain, xprv, coins)
}

/// A 1-in/1-out transfer of `coin` back to the same key, paying `fee`; its ID and raw hex.
fn transfer(xprv: &XPrv, coin: &Coin, fee: u64) -> (String, String) {
    let tx = sign_transfer(
        xprv,
        std::slice::from_ref(coin),
        &[(coin.control_program.clone(), coin.amount - fee)],
    )
    .unwrap();
    (tx.id().to_hex(), hex::encode(tx.encode()))
}

fn raws(txs: &[(String, String)]) -> Value {
    json!({ "raw_transactions": txs.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_admitted_in_order_and_resubmitting_it_is_a_success() {
    let dir = TempDir::new("submit-batch-ok");
    let (chain, xprv, coins) = funded(dir.path());
    let srv = start(chain.clone(), None, None, 2 << 20).await;
    let addr = srv.local_addr();
    let txs: Vec<_> = coins.iter().map(|c| transfer(&xprv, c, FEE)).collect();
    let ids: Vec<Value> = txs.iter().map(|(id, _)| json!(id)).collect();

    let data = ok(addr, "/submit-transactions", raws(&txs)).await;
    assert_eq!(data["tx_id"], Value::Array(ids.clone()), "{data}");
    assert_eq!(chain.pool_stats().txs, txs.len());
    // Already pooled: a success with the same IDs, nothing added.
    let again = ok(addr, "/submit-transactions", raws(&txs)).await;
    assert_eq!(again["tx_id"], Value::Array(ids.clone()));
    assert_eq!(chain.pool_stats().txs, txs.len());
    // On chain: still a success (as `submit-transaction`), and the block holds each exactly once.
    let block = produce(&chain).await;
    let in_block: Vec<String> = block.transactions()[1..]
        .iter()
        .map(|t| t.id().to_hex())
        .collect();
    let mut want: Vec<String> = txs.iter().map(|(id, _)| id.clone()).collect();
    let mut got = in_block.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    let after = ok(addr, "/submit-transactions", raws(&txs)).await;
    assert_eq!(after["tx_id"], Value::Array(ids));
    assert_eq!(chain.pool_stats().txs, 0);
    // An empty batch is an empty success, as in the reference.
    let empty = ok(addr, "/submit-transactions", json!({"raw_transactions": []})).await;
    assert_eq!(empty["tx_id"], json!([]));
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_refusal_ends_the_batch_and_keeps_the_ones_before_it() {
    let dir = TempDir::new("submit-batch-refused");
    let (chain, xprv, coins) = funded(dir.path());
    let srv = start(chain.clone(), None, None, 2 << 20).await;
    let addr = srv.local_addr();
    let first = transfer(&xprv, &coins[0], FEE);
    // Spends the same coin as `first` with another fee: a conflict the pool refuses.
    let conflict = transfer(&xprv, &coins[0], 2 * FEE);
    let third = transfer(&xprv, &coins[1], FEE);
    let batch = [first.clone(), conflict.clone(), third.clone()];
    let (status, v) = call(addr, "/submit-transactions", raws(&batch)).await;
    assert!((400..500).contains(&status), "{status} {v}");
    assert_eq!(v["status"], "fail", "{v}");
    assert!(v["code"].as_str().unwrap().starts_with("BTM7"), "{v}");
    let detail = v["error_detail"].as_str().unwrap();
    // Starts with the refused one's place: `bench load` resends from there.
    assert!(detail.starts_with("raw_transactions[1]"), "{detail}");
    assert!(detail.contains(&conflict.0), "{detail}");
    // The one before the refusal is in the pool, the one after it was never tried.
    assert_eq!(chain.pool_stats().txs, 1);
    let data = ok(
        addr,
        "/submit-transactions",
        raws(&[first.clone(), third.clone()]),
    )
    .await;
    assert_eq!(data["tx_id"], json!([first.0, third.0]));
    assert_eq!(chain.pool_stats().txs, 2);
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_does_not_decode_or_is_too_long_admits_nothing() {
    let dir = TempDir::new("submit-batch-bad");
    let (chain, xprv, coins) = funded(dir.path());
    let limit = 256 << 10;
    let srv = start(chain.clone(), None, None, limit).await;
    let addr = srv.local_addr();
    let good = transfer(&xprv, &coins[0], FEE);
    for (bad, index) in [
        (json!({"raw_transactions": [good.1, "zz"]}), "raw_transactions[1]"),
        (
            json!({"raw_transactions": [good.1, good.1, "00"]}),
            "raw_transactions[2]",
        ),
        (json!({"raw_transactions": ["0x", good.1]}), "raw_transactions[0]"),
    ] {
        let (status, v) = call(addr, "/submit-transactions", bad.clone()).await;
        assert_fail(&(status, v.clone()), 400, "BTM002");
        assert!(v["error_detail"].as_str().unwrap().contains(index), "{bad}: {v}");
        assert_eq!(chain.pool_stats().txs, 0, "{bad}");
    }
    // One more than the most a request may carry: refused before anything is decoded.
    let too_many: Vec<&str> = vec![good.1.as_str(); 10_001];
    let (status, v) = call(
        addr,
        "/submit-transactions",
        json!({ "raw_transactions": too_many }),
    )
    .await;
    // The body is over the limit too: either bound refuses it with a 4xx and the reference's code.
    assert!(status == 400 || status == 413, "{status} {v}");
    assert_eq!(v["code"], "BTM002");
    let too_many_small: Vec<&str> = vec!["00"; 10_001];
    let (status, v) = call(
        addr,
        "/submit-transactions",
        json!({ "raw_transactions": too_many_small }),
    )
    .await;
    assert_fail(&(status, v.clone()), 400, "BTM002");
    assert!(
        v["error_detail"].as_str().unwrap().contains("at most 10000"),
        "{v}"
    );
    let big = vec![b'x'; limit + 1];
    let (s, v, _) = http(addr, "POST", "/submit-transactions", Some(BEARER), big).await;
    assert_fail(&(s, v), 413, "BTM002");
    assert_eq!(chain.pool_stats().txs, 0);
    // Still admits a good batch afterwards.
    let data = ok(
        addr,
        "/submit-transactions",
        json!({"raw_transactions": [good.1]}),
    )
    .await;
    assert_eq!(data["tx_id"], json!([good.0]));
    srv.shutdown().await;
}

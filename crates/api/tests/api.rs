//! The node API over real HTTP on loopback: the reference's shapes, access tokens, and bad input
//! (bad JSON, wrong types, bad hex, unknown IDs, huge bodies) answered with 4xx in the failure shape.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;

use api::{ApiConfig, Server};
use crypto::chainkd::XPrv;
use ledger::ChainParams;
use node::MempoolConfig;
use node::chain::{ChainService, ChainSetup, ProducerKey};
use node::devnet::{coins_of, sign_transfer};
use node::genesis::{devnet_genesis, p2wpkh_program_of};
use serde_json::{Value, json};
use storage::{ChainIdentity, RedbStore};

const TOKEN: &str = "test:0123456789abcdef";

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Fixture {
    _dir: TempDir,
    chain: Arc<ChainService>,
    xprv: XPrv,
    program: Vec<u8>,
    genesis: types::Block,
}

fn fixture(name: &str) -> Fixture {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("tributary-api-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let params = ChainParams::side_devnet();
    let xprv = XPrv::root(b"api test");
    let program = p2wpkh_program_of(&xprv.xpub());
    let genesis = devnet_genesis(&params, &program, 4, 1_000_000_000_000, 1_700_000_000_000).unwrap();
    let producer = ProducerKey::from_seed(&[3; 32]);
    let store = RedbStore::open(
        dir.join("chain.redb"),
        ChainIdentity {
            profile: params.profile,
            network: params.network,
            genesis_hash: genesis.hash(),
        },
    )
    .unwrap();
    let chain = ChainService::open(
        store,
        ChainSetup {
            params,
            genesis: genesis.clone(),
            authority: node::Authority::Solo {
                producer_public: producer.public_key(),
                producer_key: Some(producer),
            },
            mempool: MempoolConfig::default(),
            max_block_bytes: 8 << 20,
            max_block_gas: 10_000_000,
        },
    )
    .unwrap();
    Fixture {
        _dir: TempDir(dir),
        chain: Arc::new(chain),
        xprv,
        program,
        genesis,
    }
}

async fn server(chain: Arc<ChainService>, max_body_bytes: usize) -> Server {
    let config = ApiConfig {
        listen: "127.0.0.1:0".into(),
        access_tokens: vec![TOKEN.into()],
        require_auth: true,
        max_body_bytes,
        data_dir: None,
    };
    Server::start(chain, None, &config).await.unwrap()
}

/// One HTTP/1.1 request on a fresh connection; returns the status and the body parsed as JSON
/// (`Value::Null` if it is not JSON).
fn request(addr: SocketAddr, method: &str, path: &str, auth: Option<&str>, body: &[u8]) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(a) = auth {
        head.push_str(&format!("Authorization: {a}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    // A server may answer (and close) before reading a huge body: ignore write errors then.
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let status: u16 = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn bearer() -> Option<&'static str> {
    Some("Bearer test:0123456789abcdef")
}

async fn call(addr: SocketAddr, path: &str, body: Value) -> (u16, Value) {
    let path = path.to_string();
    tokio::task::spawn_blocking(move || request(addr, "POST", &path, bearer(), body.to_string().as_bytes()))
        .await
        .unwrap()
}

async fn raw(
    addr: SocketAddr,
    method: &'static str,
    path: &'static str,
    auth: Option<&'static str>,
    body: Vec<u8>,
) -> (u16, Value) {
    tokio::task::spawn_blocking(move || request(addr, method, path, auth, &body))
        .await
        .unwrap()
}

fn assert_fail(resp: &(u16, Value), status: u16, code: &str) {
    assert_eq!(resp.0, status, "{resp:?}");
    assert_eq!(resp.1["status"], "fail", "{resp:?}");
    assert_eq!(resp.1["code"], code, "{resp:?}");
    assert!(resp.1["msg"].as_str().is_some_and(|m| !m.is_empty()), "{resp:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_tokens_are_required() {
    let f = fixture("auth");
    let srv = server(f.chain.clone(), 1 << 20).await;
    let addr = srv.local_addr();
    assert_fail(
        &raw(addr, "POST", "/get-block-count", None, b"{}".to_vec()).await,
        401,
        "BTM860",
    );
    assert_fail(
        &raw(
            addr,
            "POST",
            "/get-block-count",
            Some("Bearer test:wrong"),
            b"{}".to_vec(),
        )
        .await,
        401,
        "BTM860",
    );
    assert_fail(
        &raw(
            addr,
            "POST",
            "/get-block-count",
            Some("Bearer nocolon"),
            b"{}".to_vec(),
        )
        .await,
        401,
        "BTM860",
    );
    let ok = raw(addr, "POST", "/get-block-count", bearer(), b"{}".to_vec()).await;
    assert_eq!(ok.0, 200);
    assert_eq!(ok.1, json!({"status": "success", "data": {"block_count": 0}}));
    // Basic auth, as the reference's clients send it: base64("test:0123456789abcdef").
    let basic = raw(
        addr,
        "POST",
        "/get-block-count",
        Some("Basic dGVzdDowMTIzNDU2Nzg5YWJjZGVm"),
        Vec::new(),
    )
    .await;
    assert_eq!(basic.0, 200, "{basic:?}");
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocks_and_transactions_round_trip() {
    let f = fixture("flow");
    let srv = server(f.chain.clone(), 1 << 20).await;
    let addr = srv.local_addr();

    let (s, v) = call(addr, "/get-block", json!({"block_height": 0})).await;
    assert_eq!(s, 200, "{v}");
    let g = &v["data"];
    assert_eq!(g["hash"], f.genesis.hash().to_hex());
    assert_eq!(g["height"], 0);
    assert_eq!(g["transactions"].as_array().unwrap().len(), 2);
    assert_eq!(g["transactions"][1]["status_fail"], false);
    assert_eq!(g["size"], f.genesis.encode().len() * 2);
    let (_, by_hash) = call(
        addr,
        "/get-block",
        json!({"block_hash": f.genesis.hash().to_hex()}),
    )
    .await;
    assert_eq!(by_hash["data"], v["data"]);

    let coin = coins_of(&f.genesis.transactions()[1], &f.program)[0].clone();
    let tx = sign_transfer(
        &f.xprv,
        std::slice::from_ref(&coin),
        &[(f.program.clone(), coin.amount - 1_000_000)],
    )
    .unwrap();
    let raw_tx = hex::encode(tx.encode());
    let (s, v) = call(
        addr,
        "/decode-raw-transaction",
        json!({"raw_transaction": raw_tx}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["tx_id"], tx.id().to_hex());
    assert_eq!(v["data"]["fee"], 1_000_000);

    let (s, v) = call(addr, "/submit-transaction", json!({"raw_transaction": raw_tx})).await;
    assert_eq!(
        (s, &v),
        (
            200,
            &json!({"status": "success", "data": {"tx_id": tx.id().to_hex()}})
        )
    );
    // Pending: not found yet, and it says so.
    let pending = call(addr, "/get-transaction", json!({"tx_id": tx.id().to_hex()})).await;
    assert_fail(&pending, 404, "BTM003");
    assert!(pending.1["error_detail"].as_str().unwrap().contains("pool"));
    // Submitting again is fine (idempotent).
    assert_eq!(
        call(addr, "/submit-transaction", json!({"raw_transaction": raw_tx}))
            .await
            .0,
        200
    );

    let chain = f.chain.clone();
    let block = tokio::task::spawn_blocking(move || chain.produce_block(1_800_000_000_000))
        .await
        .unwrap()
        .unwrap();
    let (_, v) = call(addr, "/get-block-count", json!({})).await;
    assert_eq!(v["data"]["block_count"], 1);
    let (_, v) = call(addr, "/get-block-hash", json!({})).await;
    assert_eq!(v["data"]["block_hash"], block.hash().to_hex());
    let (_, v) = call(addr, "/get-block-hash", json!({"block_height": 0})).await;
    assert_eq!(v["data"]["block_hash"], f.genesis.hash().to_hex());
    let (s, v) = call(addr, "/get-block-header", json!({"block_height": 1})).await;
    assert_eq!(s, 200);
    assert_eq!(v["data"]["block_header"], hex::encode(block.header().encode()));
    assert_eq!(v["data"]["reward"], 0);
    // The stored bytes as they are, by height or by hash, with a status per transaction.
    for req in [
        json!({"block_height": 1}),
        json!({"block_hash": block.hash().to_hex()}),
    ] {
        let (s, v) = call(addr, "/get-raw-block", req).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["data"]["raw_block"], hex::encode(block.encode()));
        assert_eq!(v["data"]["transaction_status"]["version"], 1);
        let statuses = v["data"]["transaction_status"]["verify_status"]
            .as_array()
            .unwrap();
        assert_eq!(statuses.len(), block.transactions().len());
        assert!(statuses.len() >= 2, "the coinbase and the transfer");
    }
    // The transaction IDs alone, in block order, by height or by hash.
    let ids: Vec<String> = block.transactions().iter().map(|t| t.id().to_hex()).collect();
    for req in [
        json!({"block_height": 1}),
        json!({"block_hash": block.hash().to_hex()}),
    ] {
        let (s, v) = call(addr, "/get-block-tx-ids", req).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["data"]["tx_ids"], json!(ids));
        assert_eq!(v["data"]["hash"], block.hash().to_hex());
        assert_eq!(v["data"]["height"], 1);
        assert_eq!(v["data"]["final"], true);
    }
    assert!(ids.contains(&tx.id().to_hex()));
    let (s, _) = call(addr, "/get-block-tx-ids", json!({"block_height": 2})).await;
    assert_eq!(s, 404);
    let (_, v) = call(addr, "/get-block", json!({"block_height": 1})).await;
    assert_eq!(
        v["data"]["blocker"],
        hex::encode(f.chain.producer_public_key().expect("solo"))
    );
    assert_eq!(v["data"]["witness"].as_array().unwrap().len(), 1);
    assert_eq!(v["data"]["final"], true);

    let (s, v) = call(addr, "/get-transaction", json!({"tx_id": tx.id().to_hex()})).await;
    assert_eq!(s, 200, "{v}");
    let d = &v["data"];
    assert_eq!(d["tx_id"], tx.id().to_hex());
    assert_eq!(d["block_height"], 1);
    assert_eq!(d["block_index"], 1);
    assert_eq!(d["block_hash"], block.hash().to_hex());
    assert_eq!(d["status_fail"], false);
    assert_eq!(d["inputs"][0]["spent_output_id"], coin.output_id.to_hex());

    let (s, v) = call(addr, "/net-info", json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(v["data"]["current_block"], 1);
    assert_eq!(v["data"]["network_id"], "devnet");
    assert_eq!(v["data"]["mining"], true);

    // Spending the same coin again: its input is gone.
    let again = sign_transfer(
        &f.xprv,
        std::slice::from_ref(&coin),
        &[(f.program.clone(), coin.amount - 2_000_000)],
    )
    .unwrap();
    let r = call(
        addr,
        "/submit-transaction",
        json!({"raw_transaction": hex::encode(again.encode())}),
    )
    .await;
    assert_eq!(r.0, 200, "an unknown input waits as an orphan: {r:?}");
    srv.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_4xx_in_the_failure_shape() {
    let f = fixture("bad");
    let srv = server(f.chain.clone(), 4096).await;
    let addr = srv.local_addr();
    let post = |path: &'static str, body: &'static [u8]| raw(addr, "POST", path, bearer(), body.to_vec());

    assert_fail(&post("/get-block", b"{not json").await, 400, "BTM002");
    assert_fail(&post("/get-block", b"[1,2]").await, 400, "BTM002");
    assert_fail(
        &post("/get-block", br#"{"block_height": "ten"}"#).await,
        400,
        "BTM002",
    );
    assert_fail(
        &post("/get-block", br#"{"block_height": -1}"#).await,
        400,
        "BTM002",
    );
    assert_fail(
        &post("/get-block", br#"{"block_height": 99999999999999999999999}"#).await,
        400,
        "BTM002",
    );
    assert_fail(
        &post("/get-block", br#"{"block_height": 5}"#).await,
        404,
        "BTM003",
    );
    assert_fail(
        &post("/get-block", br#"{"block_hash": "zz"}"#).await,
        400,
        "BTM002",
    );
    assert_fail(
        &post("/get-block", br#"{"block_hash": "00"}"#).await,
        400,
        "BTM002",
    );
    let unknown_hash = format!(r#"{{"block_hash": "{}"}}"#, "ab".repeat(32));
    assert_fail(
        &raw(
            addr,
            "POST",
            "/get-block-header",
            bearer(),
            unknown_hash.into_bytes(),
        )
        .await,
        404,
        "BTM003",
    );
    assert_fail(
        &post("/get-block-hash", br#"{"block_height": 7}"#).await,
        404,
        "BTM003",
    );
    assert_fail(&post("/get-transaction", br#"{}"#).await, 400, "BTM002");
    assert_fail(
        &post("/get-transaction", br#"{"tx_id": 12}"#).await,
        400,
        "BTM002",
    );
    assert_fail(
        &post("/get-transaction", br#"{"tx_id": "xyz"}"#).await,
        400,
        "BTM002",
    );
    let unknown_tx = format!(r#"{{"tx_id": "{}"}}"#, "cd".repeat(32));
    assert_fail(
        &raw(
            addr,
            "POST",
            "/get-transaction",
            bearer(),
            unknown_tx.into_bytes(),
        )
        .await,
        404,
        "BTM003",
    );
    assert_fail(&post("/submit-transaction", br#"{}"#).await, 400, "BTM002");
    assert_fail(
        &post("/submit-transaction", br#"{"raw_transaction": "nothex"}"#).await,
        400,
        "BTM002",
    );
    assert_fail(
        &post("/submit-transaction", br#"{"raw_transaction": "0701"}"#).await,
        400,
        "BTM002",
    );
    assert_fail(
        &post("/decode-raw-transaction", br#"{"raw_transaction": "ff"}"#).await,
        400,
        "BTM002",
    );
    assert_fail(
        &post("/decode-raw-transaction", br#"{"raw_transaction": null}"#).await,
        400,
        "BTM002",
    );

    // A forged signature: a rule violation with the reference's VM code.
    let coin = coins_of(&f.genesis.transactions()[1], &f.program)[0].clone();
    let forged = sign_transfer(
        &XPrv::root(b"mallory"),
        std::slice::from_ref(&coin),
        &[(f.program.clone(), coin.amount)],
    )
    .unwrap();
    let r = call(
        addr,
        "/submit-transaction",
        json!({"raw_transaction": hex::encode(forged.encode())}),
    )
    .await;
    assert_eq!(r.0, 400, "{r:?}");
    assert!(r.1["code"].as_str().unwrap().starts_with("BTM7"), "{r:?}");
    // Spending more than the input holds.
    let greedy = sign_transfer(
        &f.xprv,
        std::slice::from_ref(&coin),
        &[(f.program.clone(), coin.amount + 1)],
    )
    .unwrap();
    let r = call(
        addr,
        "/submit-transaction",
        json!({"raw_transaction": hex::encode(greedy.encode())}),
    )
    .await;
    assert_eq!(r.0, 400, "{r:?}");

    // Bodies over the limit.
    let huge = vec![b' '; 64 * 1024];
    let r = raw(addr, "POST", "/get-block", bearer(), huge).await;
    assert_fail(&r, 413, "BTM002");
    // Unknown endpoint and wrong method.
    assert_fail(&post("/no-such-thing", b"{}").await, 404, "BTM003");
    let r = raw(addr, "GET", "/get-block-count", bearer(), Vec::new()).await;
    assert_eq!(r.0, 405, "{r:?}");
    // Still alive and answering.
    assert_eq!(post("/get-block-count", b"").await.0, 200);
    srv.shutdown().await;
}

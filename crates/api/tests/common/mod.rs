//! Helpers shared by the API's integration tests: a chain in a temporary directory, a server on
//! loopback, one-shot HTTP requests and an event feed reader.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use api::{ApiConfig, Server};
use ledger::ChainParams;
use node::MempoolConfig;
use node::chain::{ChainService, ChainSetup, ProducerKey};
use node::genesis::devnet_genesis;
use serde_json::Value;
use storage::{ChainIdentity, RedbStore};

pub const TOKEN: &str = "test:0123456789abcdef";
pub const BEARER: &str = "Bearer test:0123456789abcdef";
/// Genesis pays this many outputs of [`GENESIS_EACH`] neu.
pub const GENESIS_OUTPUTS: usize = 4;
pub const GENESIS_EACH: u64 = 1_000_000_000_000;

pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("tributary-api-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A sidechain devnet whose genesis pays [`GENESIS_OUTPUTS`] outputs to `program`.
pub fn open_chain(dir: &Path, program: &[u8]) -> (Arc<ChainService>, types::Block) {
    open_chain_with(dir, program, MempoolConfig::default())
}

/// As [`open_chain`] with these pool limits.
pub fn open_chain_with(
    dir: &Path,
    program: &[u8],
    mempool: MempoolConfig,
) -> (Arc<ChainService>, types::Block) {
    let params = ChainParams::side_devnet();
    let genesis = devnet_genesis(&params, program, GENESIS_OUTPUTS, GENESIS_EACH, 1_700_000_000_000).unwrap();
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
            mempool,
            max_block_bytes: 8 << 20,
            max_block_gas: 10_000_000,
        },
    )
    .unwrap();
    (Arc::new(chain), genesis)
}

pub async fn start(
    chain: Arc<ChainService>,
    wallet: Option<Arc<wallet::Wallet>>,
    data_dir: Option<&Path>,
    max_body_bytes: usize,
) -> Server {
    let config = ApiConfig {
        listen: "127.0.0.1:0".into(),
        access_tokens: vec![TOKEN.into()],
        require_auth: true,
        max_body_bytes,
        data_dir: data_dir.map(Path::to_path_buf),
    };
    Server::start(chain, wallet, &config).await.unwrap()
}

/// One HTTP/1.1 request on a fresh connection: the status and the body (JSON, or `Value::Null`),
/// plus the raw body text.
pub fn request_text(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &[u8],
) -> (u16, Value, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
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
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("").to_string();
    (status, serde_json::from_str(&body).unwrap_or(Value::Null), body)
}

pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value, String) {
    let (method, path, auth) = (method.to_string(), path.to_string(), auth.map(str::to_string));
    tokio::task::spawn_blocking(move || request_text(addr, &method, &path, auth.as_deref(), &body))
        .await
        .unwrap()
}

/// A compatible-API call with the test token.
pub async fn call(addr: SocketAddr, path: &str, body: Value) -> (u16, Value) {
    let (s, v, _) = http(addr, "POST", path, Some(BEARER), body.to_string().into_bytes()).await;
    (s, v)
}

/// A call that must succeed: its `data`.
pub async fn ok(addr: SocketAddr, path: &str, body: Value) -> Value {
    let (s, v) = call(addr, path, body.clone()).await;
    assert_eq!(s, 200, "{path} {body}: {v}");
    assert_eq!(v["status"], "success", "{path}: {v}");
    v["data"].clone()
}

pub async fn get(addr: SocketAddr, path: &str, auth: Option<&str>) -> (u16, Value) {
    let (s, v, _) = http(addr, "GET", path, auth, Vec::new()).await;
    (s, v)
}

pub fn assert_fail(resp: &(u16, Value), status: u16, code: &str) {
    assert_eq!(resp.0, status, "{resp:?}");
    assert_eq!(resp.1["status"], "fail", "{resp:?}");
    assert_eq!(resp.1["code"], code, "{resp:?}");
    assert!(resp.1["msg"].as_str().is_some_and(|m| !m.is_empty()), "{resp:?}");
}

/// Any 4xx in the compatible failure shape, with a message.
pub fn assert_4xx(what: &str, resp: &(u16, Value)) {
    assert!((400..500).contains(&resp.0), "{what}: {resp:?}");
    assert_eq!(resp.1["status"], "fail", "{what}: {resp:?}");
    assert!(
        resp.1["code"].as_str().is_some_and(|c| c.starts_with("BTM")),
        "{what}: {resp:?}"
    );
    assert!(
        resp.1["msg"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {resp:?}"
    );
}

/// Any 4xx in the REST failure shape.
pub fn assert_rest_4xx(what: &str, resp: &(u16, Value)) {
    assert!((400..500).contains(&resp.0), "{what}: {resp:?}");
    assert!(
        resp.1["code"].as_str().is_some_and(|c| c.starts_with("BTM")),
        "{what}: {resp:?}"
    );
    assert!(
        resp.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{what}: {resp:?}"
    );
}

/// Reads an event feed on a thread; events arrive as (name, data) on the channel.
pub struct Feed {
    pub events: std::sync::mpsc::Receiver<(String, Value)>,
    pub status: u16,
}

pub fn open_feed(addr: SocketAddr, path: &str) -> Feed {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n").as_bytes(),
    )
    .unwrap();
    let mut reader = BufReader::new(s);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Chunk-size lines and headers are skipped: only `event:` and `data:` lines matter.
        let mut name = String::new();
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let l = line.trim_end();
            if let Some(n) = l.strip_prefix("event:") {
                name = n.trim().to_string();
            } else if let Some(d) = l.strip_prefix("data:")
                && let Ok(v) = serde_json::from_str::<Value>(d.trim())
                && tx.send((name.clone(), v)).is_err()
            {
                return;
            }
        }
    });
    Feed { events: rx, status }
}

impl Feed {
    /// The next event, waiting at most 20 s.
    pub fn next(&self) -> (String, Value) {
        self.events
            .recv_timeout(Duration::from_secs(20))
            .expect("an event within 20 s")
    }

    /// The next `tx` event about `tx_id`, skipping others.
    pub fn next_tx(&self, tx_id: &str) -> Value {
        loop {
            let (name, v) = self.next();
            if name == "tx" && v["tx_id"] == tx_id {
                return v;
            }
        }
    }
}

/// Produces a block on a blocking thread.
pub async fn produce(chain: &Arc<ChainService>) -> Arc<types::Block> {
    let c = chain.clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    tokio::task::spawn_blocking(move || c.produce_block(u64::try_from(now).unwrap()))
        .await
        .unwrap()
        .unwrap()
}

pub const FUNDER_PASSWORD: &str = "funder password";

/// A node with a wallet whose account `funder` is paid by genesis: the wallet (in `dir/wallet`),
/// the chain, the funder's account ID and receiving address.
pub struct WalletNode {
    pub wallet: Arc<wallet::Wallet>,
    pub chain: Arc<ChainService>,
    pub genesis: types::Block,
    pub funder_id: String,
    pub funder_address: String,
}

pub fn wallet_node(dir: &Path) -> WalletNode {
    let wallet = wallet::Wallet::open(
        &dir.join("wallet"),
        types::profile::Profile::Side,
        types::profile::Network::Devnet,
        wallet::KdfParams::FAST_INSECURE,
    )
    .unwrap();
    let (key, _mnemonic) = wallet.create_key("funder", FUNDER_PASSWORD).unwrap();
    let account = wallet.create_account(&[key.xpub], 1, "funder").unwrap();
    let receiver = wallet.create_receiver(&account.id).unwrap();
    let (chain, genesis) = open_chain(dir, &receiver.control_program);
    WalletNode {
        wallet: Arc::new(wallet),
        chain,
        genesis,
        funder_id: account.id,
        funder_address: receiver.address,
    }
}

/// The BTM balance of an account as `list-balances` reports it (0 when absent).
pub async fn btm_balance(addr: SocketAddr, account: &str) -> u64 {
    let b = ok(
        addr,
        "/list-balances",
        serde_json::json!({"account_alias": account}),
    )
    .await;
    b.as_array()
        .unwrap()
        .iter()
        .filter(|x| x["asset_id"] == types::asset::AssetId::BTM.to_hex())
        .map(|x| x["amount"].as_u64().unwrap())
        .sum()
}

/// Builds, signs (with each password in turn) and submits a payment of `amount` BTM plus `fee` from
/// `from` to `address`; returns the transaction ID and each signing step's `sign_complete`.
pub async fn pay(
    addr: SocketAddr,
    from: &str,
    address: &str,
    amount: u64,
    fee: u64,
    passwords: &[&str],
) -> (String, Vec<bool>) {
    let btm = types::asset::AssetId::BTM.to_hex();
    let mut template = ok(
        addr,
        "/build-transaction",
        serde_json::json!({
            "base_transaction": null,
            "ttl": 0,
            "time_range": 0,
            "actions": [
                {"type": "spend_account", "account_alias": from, "asset_id": btm, "amount": amount + fee},
                {"type": "control_address", "address": address, "asset_id": btm, "amount": amount},
            ],
        }),
    )
    .await;
    let mut steps = Vec::new();
    for p in passwords {
        let signed = ok(
            addr,
            "/sign-transaction",
            serde_json::json!({"password": p, "transaction": template}),
        )
        .await;
        steps.push(signed["sign_complete"].as_bool().unwrap());
        template = signed["transaction"].clone();
    }
    let raw = template["raw_transaction"].as_str().unwrap().to_string();
    let sub = ok(
        addr,
        "/submit-transaction",
        serde_json::json!({"raw_transaction": raw}),
    )
    .await;
    (sub["tx_id"].as_str().unwrap().to_string(), steps)
}

//! End to end: `tributary devnet` starts, its wallet pays a key of the test's through the wallet API
//! (build, sign with the dev password, submit), a transfer signed outside the wallet and submitted
//! through the API is included within a couple of seconds and retrievable with get-transaction; bad
//! input is refused with 4xx; SIGTERM stops the node cleanly; `tributary node --config` restarts it on
//! the same data, wallet included, and without the wallet when the file switches it off.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crypto::chainkd::XPrv;
use node::devnet::{Coin, coins_of, sign_transfer};
use serde_json::{Value, json};
use types::codec::Limits;
use types::profile::Profile;
use types::{Block, Transaction};

mod common;

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!("tributary-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A node process; killed on drop so that no test leaves one behind.
struct NodeProc {
    child: Option<Child>,
    stdout: std::sync::mpsc::Receiver<String>,
    startup: Value,
    addr: String,
    auth: String,
}

impl NodeProc {
    fn start(args: &[&str], log: &Path) -> NodeProc {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut proc = NodeProc {
            child: Some(child),
            stdout: rx,
            startup: Value::Null,
            addr: String::new(),
            auth: String::new(),
        };
        let line = proc
            .stdout
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|e| {
                panic!(
                    "no startup line ({e}); log: {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                )
            });
        let startup: Value = serde_json::from_str(&line).unwrap();
        proc.addr = startup["api_url"]
            .as_str()
            .unwrap()
            .trim_start_matches("http://")
            .to_string();
        proc.startup = startup;
        proc
    }

    fn set_token(&mut self, token: &str) {
        self.auth = format!("Bearer {token}");
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        http(&self.addr, path, Some(&self.auth), body.to_string().as_bytes())
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// SIGTERM, then the exit status and the rest of stdout.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let rest: Vec<String> = self.stdout.try_iter().collect();
                return (status, rest.join("\n"));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("the node did not stop within 20 s of SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for NodeProc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// One HTTP/1.1 POST on a fresh connection.
fn http(addr: &str, path: &str, auth: Option<&str>, body: &[u8]) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(a) = auth {
        head.push_str(&format!("Authorization: {a}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let status: u16 = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn genesis_coins(data_dir: &Path, program: &[u8]) -> Vec<Coin> {
    let hex_text = std::fs::read_to_string(data_dir.join("genesis.hex")).unwrap();
    let block = Block::decode(
        &hex::decode(hex_text.trim()).unwrap(),
        Profile::Side,
        &Limits::default(),
    )
    .unwrap();
    coins_of(&block.transactions()[1], program)
}

fn wait_included(node: &NodeProc, tx_id: &str, within: Duration) -> Value {
    let start = Instant::now();
    loop {
        let (status, v) = node.post("/get-transaction", &json!({ "tx_id": tx_id }));
        if status == 200 {
            return v["data"].clone();
        }
        assert_eq!(status, 404, "{v}");
        assert!(
            start.elapsed() < within,
            "{tx_id} not included within {within:?}: {v}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn devnet_includes_a_submitted_transfer_and_restarts() {
    let tmp = TempDir::new("devnet-e2e");
    let data = tmp.0.join("data");
    let log = tmp.0.join("node.log");
    // The solo devnet: one node, restarted below from its own `node.toml` (a devnet of validators
    // is restarted as a whole: `devnet_runs_four_validators_in_one_process`).
    let mut node = NodeProc::start(
        &[
            "devnet",
            "--validators",
            "1",
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--main-listen",
            "127.0.0.1:0",
        ],
        &log,
    );
    let s = node.startup.clone();
    assert_eq!(s["network"], "devnet");
    assert_eq!(s["created"], true);
    assert!(s["api_url"].as_str().unwrap().starts_with("http://127.0.0.1:"));
    let token = s["access_token"].as_str().unwrap().to_string();
    assert!(token.starts_with("devnet:"));
    let account = &s["dev_account"];
    for field in ["alias", "xpub", "control_program", "address", "password_file"] {
        assert!(account[field].as_str().is_some_and(|v| !v.is_empty()), "{field}");
    }
    assert!(account["address"].as_str().unwrap().starts_with("sp1"));
    assert!(
        account.get("xprv").is_none() && account.get("password").is_none(),
        "{account}"
    );
    assert_eq!(s["wallet"], true);
    node.set_token(&token);

    // Without the token: refused.
    let (status, v) = http(&node.addr, "/get-block-count", None, b"{}");
    assert_eq!(status, 401, "{v}");
    assert_eq!(v["code"], "BTM860");

    let dev_program = hex::decode(account["control_program"].as_str().unwrap()).unwrap();
    assert_eq!(genesis_coins(&data, &dev_program).len(), 16);

    // The dev account (a wallet account) pays 100 BTM to a key of the test's own.
    let xprv = XPrv::generate(&mut rand_core::OsRng);
    let program = node::genesis::p2wpkh_program_of(&xprv.xpub());
    let password = std::fs::read_to_string(account["password_file"].as_str().unwrap()).unwrap();
    let (status, built) = node.post(
        "/build-transaction",
        &json!({"actions": [
            {"type": "spend_account", "account_alias": "dev", "asset_id": "ff".repeat(32), "amount": 10_001_000_000u64},
            {"type": "control_program", "control_program": hex::encode(&program), "asset_id": "ff".repeat(32), "amount": 10_000_000_000u64},
        ], "ttl": 0, "time_range": 0}),
    );
    assert_eq!(status, 200, "{built}");
    let (status, signed) = node.post(
        "/sign-transaction",
        &json!({"password": password.trim_end(), "transaction": built["data"]}),
    );
    assert_eq!(status, 200, "{signed}");
    assert_eq!(signed["data"]["sign_complete"], true, "{signed}");
    let raw = signed["data"]["transaction"]["raw_transaction"].as_str().unwrap();
    let funding = Transaction::decode(&hex::decode(raw).unwrap(), Profile::Side, &Limits::default()).unwrap();
    let (status, v) = node.post("/submit-transaction", &json!({ "raw_transaction": raw }));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["tx_id"], funding.id().to_hex());
    let coins = coins_of(&funding, &program);
    assert_eq!(coins.len(), 1);
    assert_eq!(coins[0].amount, 10_000_000_000);

    // One transfer: included within a couple of seconds, retrievable.
    let tx = sign_transfer(
        &xprv,
        &coins[..1],
        &[(program.clone(), coins[0].amount - 1_000_000)],
    )
    .unwrap();
    let started = Instant::now();
    let (status, v) = node.post(
        "/submit-transaction",
        &json!({ "raw_transaction": hex::encode(tx.encode()) }),
    );
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["data"]["tx_id"], tx.id().to_hex());
    let got = wait_included(&node, &tx.id().to_hex(), Duration::from_secs(3));
    let latency = started.elapsed();
    assert!(latency < Duration::from_secs(3), "included after {latency:?}");
    assert!(got["block_height"].as_u64().unwrap() >= 1);
    assert_eq!(got["inputs"][0]["spent_output_id"], coins[0].output_id.to_hex());

    // A chain of transfers, each spending the previous one's change: all included.
    let mut coin = coins_of(&tx, &program)[0].clone();
    let mut last = String::new();
    for _ in 0..10 {
        let t = sign_transfer(
            &xprv,
            std::slice::from_ref(&coin),
            &[(program.clone(), coin.amount - 1_000_000)],
        )
        .unwrap();
        let (status, v) = node.post(
            "/submit-transaction",
            &json!({ "raw_transaction": hex::encode(t.encode()) }),
        );
        assert_eq!(status, 200, "{v}");
        coin = coins_of(&t, &program)[0].clone();
        last = t.id().to_hex();
    }
    let got = wait_included(&node, &last, Duration::from_secs(3));
    let height = got["block_height"].as_u64().unwrap();
    let (_, block) = node.post("/get-block", &json!({ "block_height": height }));
    assert_eq!(block["data"]["height"], height);

    // Bad input through the binary's API: 4xx in the failure shape, and the node keeps running.
    for (path, body) in [
        ("/submit-transaction", json!({ "raw_transaction": "zz" })),
        ("/submit-transaction", json!({ "raw_transaction": 5 })),
        ("/get-transaction", json!({ "tx_id": "00" })),
        ("/get-block", json!({ "block_height": "x" })),
    ] {
        let (status, v) = node.post(path, &body);
        assert_eq!(status, 400, "{path} {v}");
        assert_eq!(v["status"], "fail");
    }
    let (status, _) = http(&node.addr, "/get-block", Some(&node.auth), b"{\"block_height\":");
    assert_eq!(status, 400);
    let (status, v) = node.post("/get-block-count", &json!({}));
    assert_eq!(status, 200);
    let count = v["data"]["block_count"].as_u64().unwrap();
    assert!(count >= height);

    // The main chain beside it: the same dev key, funded at genesis, and mining.
    let main = &s["main_chain"];
    assert_eq!(main["profile"], "main", "{s}");
    assert_eq!(main["mining"], true);
    let main_addr = main["api_url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .to_string();
    let main_dev = &s["main_chain_dev_account"];
    assert!(
        main_dev["address"].as_str().unwrap().starts_with("sm1"),
        "{main_dev}"
    );
    // One key, two chains: the same control program.
    assert_eq!(main_dev["control_program"], account["control_program"]);
    let (status, genesis) = http(
        &main_addr,
        "/get-block",
        Some(&node.auth),
        br#"{"block_height":0}"#,
    );
    assert_eq!(status, 200, "{genesis}");
    let paid = genesis["data"]["transactions"][0]["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["control_program"] == account["control_program"] && o["amount"] == 1_000_000_000_000u64)
        .count();
    assert_eq!(paid, 16, "{genesis}");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mined = loop {
        let (status, v) = http(
            &main_addr,
            "/get-block",
            Some(&node.auth),
            br#"{"block_height":1}"#,
        );
        if status == 200 {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "the devnet main chain mined no block: {v}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    // A Bytom v1.1.0 header: nonce and bits, a coinbase paying the dev account's miner address.
    assert!(mined["data"]["bits"].as_u64().is_some(), "{mined}");
    assert!(mined["data"]["nonce"].as_u64().is_some(), "{mined}");
    let (status, v) = http(
        &main_addr,
        "/list-balances",
        Some(&node.auth),
        br#"{"account_alias":"dev"}"#,
    );
    assert_eq!(status, 200, "{v}");
    let btm = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset_id"] == "ff".repeat(32))
        .unwrap_or_else(|| panic!("no BTM balance on the main chain: {v}"));
    assert!(btm["amount"].as_u64().unwrap() >= 16 * 1_000_000_000_000, "{v}");

    // SIGTERM: a clean stop.
    let (exit, rest) = node.terminate();
    assert!(
        exit.success(),
        "exit status {exit:?}; log: {}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    assert!(rest.contains("\"stopped\": true"), "{rest}");

    // Restart from the config file: same chain, the transactions are still there.
    let mut again = NodeProc::start(
        &[
            "node",
            "--config",
            data.join("node.toml").to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        &log,
    );
    again.set_token(&token);
    assert_eq!(again.startup["genesis_hash"], s["genesis_hash"]);
    assert!(again.startup["height"].as_u64().unwrap() >= count);
    let (status, v) = again.post("/get-transaction", &json!({ "tx_id": tx.id().to_hex() }));
    assert_eq!(status, 200, "{v}");
    // The wallet came back with the node: the dev account's balance reflects the payment.
    let (status, v) = again.post("/list-balances", &json!({ "account_alias": "dev" }));
    assert_eq!(status, 200, "{v}");
    let btm: u64 = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["asset_id"] == "ff".repeat(32))
        .map(|b| b["amount"].as_u64().unwrap())
        .sum();
    assert_eq!(btm, 16 * 1_000_000_000_000 - 10_001_000_000, "{v}");
    let (exit, _) = again.terminate();
    assert!(exit.success());

    // With the wallet switched off in the file, the node runs and says so; wallet endpoints refuse.
    let cfg = data.join("node.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains("[wallet]\nenabled = true\n"), "{text}");
    std::fs::write(
        &cfg,
        text.replace("[wallet]\nenabled = true\n", "[wallet]\nenabled = false\n"),
    )
    .unwrap();
    let mut plain = NodeProc::start(
        &[
            "node",
            "--config",
            cfg.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        &log,
    );
    plain.set_token(&token);
    assert_eq!(plain.startup["wallet"], false);
    let (status, v) = plain.post("/list-balances", &json!({}));
    assert_eq!((status, &v["code"]), (400, &json!("BTM005")), "{v}");
    let (status, _) = plain.post("/get-transaction", &json!({ "tx_id": tx.id().to_hex() }));
    assert_eq!(status, 200);
    let (exit, _) = plain.terminate();
    assert!(exit.success());
}

#[test]
fn node_refuses_a_bad_config_file() {
    let tmp = TempDir::new("devnet-badconfig");
    let cfg = tmp.0.join("node.toml");
    std::fs::write(&cfg, "[producer]\nblock_intervl_ms = 5\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["node", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("block_intervl_ms"), "{err}");
    // A valid file pointing at a directory with no genesis: a clear error, no crash.
    std::fs::write(&cfg, "[api]\nlisten = \"127.0.0.1:0\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["node", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("genesis"), "{err}");
}

/// `devnet init --validators 4` writes four validators' configurations and keys; each runs as its
/// own `tributary node --config` process; blocks become final on all four; the dev account (in
/// validator 0's wallet) pays a transfer through validator 0 that becomes final on validator 3.
#[test]
fn devnet_init_writes_validators_that_run_as_processes() {
    let tmp = TempDir::new("devnet-init");
    let out = tmp.0.join("net");
    // Four API ports, the main chain's, then four p2p ports.
    let base = common::free_port_run(10_000..17_000, 10);
    let init = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args([
            "devnet",
            "init",
            "--validators",
            "4",
            "--out",
            out.to_str().unwrap(),
            "--api-base-port",
            &base.to_string(),
            "--p2p-base-port",
            &(base + 5).to_string(),
        ])
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let written: Value = serde_json::from_slice(&init.stdout).unwrap();
    let nodes = written["validators"].as_array().unwrap();
    assert_eq!(nodes.len(), 4);
    // Keys are private files; a second init into the same directory is refused.
    for k in 0..4 {
        for key in ["node.key", "bls.key", "dpos.key"] {
            let mode = std::os::unix::fs::PermissionsExt::mode(
                &std::fs::metadata(out.join(format!("node{k}")).join(key))
                    .unwrap()
                    .permissions(),
            );
            assert_eq!(mode & 0o777, 0o600, "node{k}/{key}");
        }
    }
    // Each validator's `dpos.key` is the DPoS identity its configuration names, and registers it
    // with its BLS key for this chain through `dpos registration`.
    for (k, n) in nodes.iter().enumerate() {
        let home = out.join(format!("node{k}"));
        let xprv = XPrv::from_hex(std::fs::read_to_string(home.join("dpos.key")).unwrap().trim()).unwrap();
        let config: toml::Value =
            toml::from_str(&std::fs::read_to_string(home.join("node.toml")).unwrap()).unwrap();
        assert_eq!(
            config["bbft"]["validators"][k]["xpub"].as_str(),
            Some(xprv.xpub().to_hex().as_str())
        );
        assert_eq!(n["dpos_key_file"].as_str(), home.join("dpos.key").to_str());
        let path = |f: &str| home.join(f).to_str().unwrap().to_string();
        let reg = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args([
                "dpos",
                "registration",
                "--dpos-key-file",
                &path("dpos.key"),
                "--bls-key-file",
                &path("bls.key"),
                "--genesis-file",
                &path("genesis.hex"),
            ])
            .output()
            .unwrap();
        assert!(reg.status.success(), "{}", String::from_utf8_lossy(&reg.stderr));
        let reg: Value = serde_json::from_slice(&reg.stdout).unwrap();
        let genesis = Block::decode(
            &hex::decode(std::fs::read_to_string(home.join("genesis.hex")).unwrap().trim()).unwrap(),
            Profile::Side,
            &Limits::default(),
        )
        .unwrap();
        let parsed = consensus::dpos::parse_registration(
            &consensus::dpos::ChainId::from(genesis.hash()),
            &hex::decode(reg["program"].as_str().unwrap()).unwrap(),
        )
        .unwrap()
        .unwrap();
        assert_eq!(parsed.candidate, xprv.xpub());
        assert_eq!(
            config["bbft"]["validators"][k]["bls_key"].as_str(),
            reg["consensus_key"].as_str()
        );
    }
    let again = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args([
            "devnet",
            "init",
            "--validators",
            "4",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("devnet.json")).unwrap()).unwrap();
    let token = info["access_token"].as_str().unwrap().to_string();

    let log = tmp.0.join("nodes.log");
    let mut procs: Vec<NodeProc> = nodes
        .iter()
        .map(|n| {
            let mut p = NodeProc::start(&["node", "--config", n["config"].as_str().unwrap()], &log);
            p.set_token(&token);
            p
        })
        .collect();
    let final_height = |p: &NodeProc| -> u64 {
        let (status, v) = p.post("/get-block-count", &json!({}));
        assert_eq!(status, 200, "{v}");
        v["data"]["block_count"].as_u64().unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(90);
    while procs.iter().any(|p| final_height(p) < 3) {
        assert!(
            Instant::now() < deadline,
            "validators did not finalize 3 blocks: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    for h in 1..=3u64 {
        let hashes: Vec<Value> = procs
            .iter()
            .map(|p| {
                let (_, b) = p.post("/get-block", &json!({ "block_height": h }));
                assert_eq!(b["data"]["final"], true, "{b}");
                b["data"]["hash"].clone()
            })
            .collect();
        assert!(hashes.iter().all(|x| *x == hashes[0]), "height {h}: {hashes:?}");
    }

    // The dev account pays 1 BTM to a key of the test's own, through validator 0.
    let password = std::fs::read_to_string(out.join("dev.password")).unwrap();
    let xprv = XPrv::generate(&mut rand_core::OsRng);
    let program = node::genesis::p2wpkh_program_of(&xprv.xpub());
    let (status, built) = procs[0].post(
        "/build-transaction",
        &json!({"actions": [
            {"type": "spend_account", "account_alias": "dev", "asset_id": "ff".repeat(32), "amount": 101_000_000u64},
            {"type": "control_program", "control_program": hex::encode(&program), "asset_id": "ff".repeat(32), "amount": 100_000_000u64},
        ], "ttl": 0, "time_range": 0}),
    );
    assert_eq!(status, 200, "{built}");
    let (status, signed) = procs[0].post(
        "/sign-transaction",
        &json!({"password": password.trim_end(), "transaction": built["data"]}),
    );
    assert_eq!(status, 200, "{signed}");
    let raw = signed["data"]["transaction"]["raw_transaction"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, v) = procs[0].post("/submit-transaction", &json!({ "raw_transaction": raw }));
    assert_eq!(status, 200, "{v}");
    let tx_id = v["data"]["tx_id"].as_str().unwrap().to_string();
    let got = wait_included(&procs[3], &tx_id, Duration::from_secs(30));
    let height = got["block_height"].as_u64().unwrap();
    let (_, b) = procs[3].post("/get-block", &json!({ "block_height": height }));
    assert_eq!(b["data"]["final"], true, "{b}");
    // Every validator's /metrics: the other three as peers, consensus rounds measured, the final
    // height at the chain height.
    for p in &procs {
        let text = get_text(&p.addr, "/metrics");
        let sample = |name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
                .unwrap_or_else(|| panic!("no {name} in {text}"))
                .trim()
                .parse()
                .unwrap()
        };
        assert_eq!(sample("tributary_peers"), 3.0, "{text}");
        assert!(sample("tributary_consensus_round_seconds_count") >= 1.0, "{text}");
        assert!(sample("tributary_chain_final_height") >= 3.0, "{text}");
    }
    for p in procs.drain(..) {
        let (exit, _) = p.terminate();
        assert!(exit.success(), "{exit:?}");
    }
}

/// One HTTP/1.1 GET on a fresh connection; the body as text.
fn get_text(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    text.split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default()
}

/// `devnet --validators 4`: four BBFT validators in one process, each with its own store and API;
/// they agree on final blocks; a restart reuses the same validators.
#[test]
fn devnet_runs_four_validators_in_one_process() {
    let tmp = TempDir::new("devnet-validators");
    let data = tmp.0.join("devnet");
    let log = tmp.0.join("node.log");
    let args = [
        "devnet",
        "--data-dir",
        data.to_str().unwrap(),
        "--validators",
        "4",
        "--listen",
        "127.0.0.1:0",
        "--no-main-chain",
    ];
    for round in 0..2 {
        let node = NodeProc::start(&args, &log);
        let s = node.startup.clone();
        assert_eq!(s["created"], round == 0, "{s}");
        let token = s["access_token"].as_str().unwrap().to_string();
        let addrs: Vec<String> = s["validators"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                v["api_url"]
                    .as_str()
                    .unwrap()
                    .trim_start_matches("http://")
                    .to_string()
            })
            .collect();
        assert_eq!(addrs.len(), 4, "{s}");
        let auth = format!("Bearer {token}");
        let count = |a: &str| -> u64 {
            let (status, v) = http(a, "/get-block-count", Some(&auth), b"{}");
            assert_eq!(status, 200, "{v}");
            v["data"]["block_count"].as_u64().unwrap()
        };
        let target = count(&addrs[0]) + 3;
        let deadline = Instant::now() + Duration::from_secs(60);
        while addrs.iter().any(|a| count(a) < target) {
            assert!(
                Instant::now() < deadline,
                "no progress to {target}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let body = format!("{{\"block_height\":{target}}}");
        let blocks: Vec<Value> = addrs
            .iter()
            .map(|a| http(a, "/get-block", Some(&auth), body.as_bytes()).1["data"].clone())
            .collect();
        for b in &blocks {
            assert_eq!(b["final"], true, "{b}");
            assert_eq!(b["hash"], blocks[0]["hash"]);
        }
        let (exit, _) = node.terminate();
        assert!(exit.success(), "{exit:?}");
    }
}

/// `bench cluster` end to end, small: four validator processes, the load through all their APIs;
/// every transfer final exactly once, in both runs.
#[test]
fn bench_cluster_runs_a_small_load_through_four_validator_processes() {
    let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args([
            "bench",
            "cluster",
            "--txs",
            "400",
            "--batch",
            "50",
            "--clients",
            "4",
            "--warmup-secs",
            "0.5",
            "--window-secs",
            "1",
            "--half-load-secs",
            "3",
        ])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let full = &v["full_speed"];
    assert_eq!(full["final"], 400, "{v}");
    assert_eq!(full["included_twice"], 0, "{v}");
    assert_eq!(full["urls"].as_array().unwrap().len(), 4, "{v}");
    assert!(full["overall_final_tx_per_s"].as_f64().unwrap() > 0.0, "{v}");
    let half = &v["half_load"];
    assert_eq!(half["final"], half["txs"], "{v}");
    assert_eq!(half["included_twice"], 0, "{v}");
}

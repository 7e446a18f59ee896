//! Followers as processes: `devnet init --validators 4` configurations run as four
//! `tributary node --config` processes; a follower process (`[bbft] validator = false`, written from
//! validator 0's configuration) catches up from genesis and follows with the validators' blocks; a
//! fifth node whose store is imported (`tributary snapshot import`) from validator 0's
//! `GET /v1/snapshot/file`, taken while the chain runs, follows the tip without the blocks below its
//! base. A transfer submitted to a follower's API becomes final everywhere.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod common;

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A node process; killed on drop.
struct Proc {
    child: Option<Child>,
    addr: String,
    auth: String,
}

impl Proc {
    fn start(config: &Path, log: &Path, token: &str) -> Proc {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(["node", "--config", config.to_str().unwrap()])
            .env("RUST_LOG", "warn")
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
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|e| {
            panic!(
                "no startup line ({e}); log: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        });
        let startup: Value = serde_json::from_str(&line).unwrap();
        let addr = startup["api_url"]
            .as_str()
            .unwrap()
            .trim_start_matches("http://")
            .to_string();
        Proc {
            child: Some(child),
            addr,
            auth: format!("Bearer {token}"),
        }
    }

    /// An HTTP/1.0 request (so the reply body is not chunked): status and body bytes.
    fn request(&self, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let head = format!(
            "{method} {path} HTTP/1.0\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nAuthorization: {}\r\n\r\n",
            self.addr,
            body.len(),
            self.auth
        );
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8_lossy(&out[..split]).to_string();
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, out[split + 4..].to_vec())
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, bytes) = self.request("POST", path, body.to_string().as_bytes());
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    fn height(&self) -> u64 {
        let (status, v) = self.post("/get-block-count", &json!({}));
        assert_eq!(status, 200, "{v}");
        v["data"]["block_count"].as_u64().unwrap()
    }

    /// The block at `h`: `None` if the node does not have it.
    fn block(&self, h: u64) -> Option<Value> {
        let (status, v) = self.post("/get-block", &json!({ "block_height": h }));
        (status == 200 && v["data"].is_object()).then(|| v["data"].clone())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn wait(procs: &[&Proc], what: &str, secs: u64, log: &Path, pred: impl Fn(u64) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if procs.iter().all(|p| pred(p.height())) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; heights {:?}; log: {}",
            procs.iter().map(|p| p.height()).collect::<Vec<_>>(),
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn tributary(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tributary {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A follower's configuration in `dir`, from validator 0's: no keys, the API on a free port, no
/// wallet, `validator = false`, and all four validators as peers.
fn write_follower_config(validator0: &Path, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let v0_dir = validator0.parent().unwrap();
    std::fs::copy(v0_dir.join("genesis.hex"), dir.join("genesis.hex")).unwrap();
    let mut cfg: toml::Table = toml::from_str(&std::fs::read_to_string(validator0).unwrap()).unwrap();
    cfg.insert("data_dir".into(), toml::Value::String(".".into()));
    let api = cfg.get_mut("api").unwrap().as_table_mut().unwrap();
    api.insert("listen".into(), toml::Value::String("127.0.0.1:0".into()));
    cfg.insert(
        "wallet".into(),
        toml::Value::Table(toml::Table::from_iter([(
            "enabled".to_string(),
            toml::Value::Boolean(false),
        )])),
    );
    let bbft = cfg.get_mut("bbft").unwrap().as_table_mut().unwrap();
    bbft.insert("validator".into(), toml::Value::Boolean(false));
    bbft.insert("poll_interval_ms".into(), toml::Value::Integer(100));
    let listen = bbft["listen"].clone();
    let peers = bbft.get_mut("peers").unwrap().as_array_mut().unwrap();
    peers.push(toml::Value::Table(toml::Table::from_iter([
        ("node_id".to_string(), toml::Value::Integer(0)),
        ("addr".to_string(), listen),
    ])));
    for k in ["node_id", "listen", "bls_key_file", "node_key_file", "state_file"] {
        bbft.remove(k);
    }
    let path = dir.join("follower.toml");
    std::fs::write(&path, toml::to_string(&cfg).unwrap()).unwrap();
    path
}

/// Every block of `follower` from `from` to `to` is final and is validator 0's.
fn assert_same_blocks(v0: &Proc, follower: &Proc, from: u64, to: u64) {
    for h in from..=to {
        let mine = follower
            .block(h)
            .unwrap_or_else(|| panic!("the follower has no block at {h}"));
        let theirs = v0.block(h).unwrap();
        assert_eq!(mine["hash"], theirs["hash"], "height {h}");
        assert_eq!(mine["final"], true, "height {h}: {mine}");
    }
}

#[test]
fn follower_processes_from_genesis_and_from_a_snapshot_follow_devnet_validators() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let tmp =
        TempDir(std::env::temp_dir().join(format!("tributary-follow-proc-{}-{nanos}", std::process::id())));
    std::fs::create_dir_all(&tmp.0).unwrap();
    let net = tmp.0.join("net");
    let base_port = common::free_port_run(17_000..24_000, 10);
    let written = tributary(&[
        "devnet",
        "init",
        "--validators",
        "4",
        "--out",
        net.to_str().unwrap(),
        "--api-base-port",
        &base_port.to_string(),
        "--p2p-base-port",
        &(base_port + 5).to_string(),
    ]);
    let configs: Vec<PathBuf> = written["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| PathBuf::from(n["config"].as_str().unwrap()))
        .collect();
    let info: Value =
        serde_json::from_str(&std::fs::read_to_string(net.join("devnet.json")).unwrap()).unwrap();
    let token = info["access_token"].as_str().unwrap().to_string();
    let log = tmp.0.join("nodes.log");
    let validators: Vec<Proc> = configs.iter().map(|c| Proc::start(c, &log, &token)).collect();
    let vrefs: Vec<&Proc> = validators.iter().collect();
    wait(&vrefs, "five final blocks", 90, &log, |h| h >= 5);

    // A follower process from genesis.
    let fcfg = write_follower_config(&configs[0], &tmp.0.join("follower"));
    let follower = Proc::start(&fcfg, &log, &token);
    let target = validators[0].height();
    wait(&[&follower], "the follower to catch up", 60, &log, |h| {
        h >= target
    });
    assert_same_blocks(&validators[0], &follower, 0, target);

    // A snapshot of validator 0, through its API while the chain runs, imported against the
    // commitment (here computed by `snapshot verify`; an operator takes it from a node it trusts).
    let (status, file) = validators[0].request("GET", "/v1/snapshot/file", b"");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&file));
    let snap = tmp.0.join("state.snap");
    std::fs::write(&snap, &file).unwrap();
    let verified = tributary(&["snapshot", "verify", "--file", snap.to_str().unwrap()]);
    let commitment = verified["commitment"].as_str().unwrap().to_string();
    let base = verified["height"].as_u64().unwrap();
    assert!(base >= target);
    let snap_dir = tmp.0.join("from-snapshot");
    let imported = tributary(&[
        "snapshot",
        "import",
        "--file",
        snap.to_str().unwrap(),
        "--commitment",
        &commitment,
        "--data-dir",
        snap_dir.to_str().unwrap(),
    ]);
    assert_eq!(imported["base"].as_u64(), Some(base));
    let scfg = write_follower_config(&configs[0], &snap_dir);
    let from_snapshot = Proc::start(&scfg, &log, &token);

    // Both follow the tip.
    let goal = validators[0].height() + 4;
    wait(&vrefs, "four more final blocks", 60, &log, |h| h >= goal);
    wait(
        &[&follower, &from_snapshot],
        "the followers to follow",
        60,
        &log,
        |h| h >= goal,
    );
    assert_same_blocks(&validators[0], &follower, target, goal);
    assert_same_blocks(&validators[0], &from_snapshot, base, goal);
    for h in [0, 1, base - 1] {
        assert!(
            from_snapshot.block(h).is_none(),
            "the snapshot follower has a block at {h}, below its base"
        );
    }

    // A user's node takes transactions too: a transfer signed by validator 0's dev wallet and
    // submitted to the snapshot follower's API is relayed to the validators and becomes final on a
    // validator it was not submitted to, and on both followers.
    let program = info["dev_account"]["control_program"].as_str().unwrap();
    let (status, built) = validators[0].post(
        "/build-transaction",
        &json!({"actions": [
            {"type": "spend_account", "account_alias": "dev", "asset_id": "ff".repeat(32), "amount": 1_001_000_000u64},
            {"type": "control_program", "control_program": program, "asset_id": "ff".repeat(32), "amount": 1_000_000_000u64},
        ], "ttl": 0, "time_range": 0}),
    );
    assert_eq!(status, 200, "{built}");
    let password = info["dev_account"]["password"].as_str().unwrap();
    let (status, signed) = validators[0].post(
        "/sign-transaction",
        &json!({"password": password, "transaction": built["data"]}),
    );
    assert_eq!(status, 200, "{signed}");
    let raw = signed["data"]["transaction"]["raw_transaction"].as_str().unwrap();
    let (status, v) = from_snapshot.post("/submit-transaction", &json!({ "raw_transaction": raw }));
    assert_eq!(status, 200, "{v}");
    let tx_id = v["data"]["tx_id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    for node in [&validators[2], &from_snapshot, &follower] {
        loop {
            let (status, v) = node.post("/get-transaction", &json!({ "tx_id": tx_id }));
            if status == 200 {
                assert!(v["data"]["block_height"].as_u64().unwrap() > base, "{v}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the relayed transfer is not final everywhere: {v}; log: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    // Offline, a BBFT store's snapshot needs the node's configuration (for the election state):
    // the store alone is refused, the configuration gives a file with the state in it.
    drop(follower);
    let follower_dir = fcfg.parent().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["snapshot", "export", "--data-dir", follower_dir.to_str().unwrap()])
        .args(["--out", tmp.0.join("bare.snap").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--config"),
        "{out:?}"
    );
    let offline = tmp.0.join("offline.snap");
    let exported = tributary(&[
        "snapshot",
        "export",
        "--config",
        fcfg.to_str().unwrap(),
        "--out",
        offline.to_str().unwrap(),
    ]);
    assert!(
        exported["consensus_state_bytes"].as_u64().unwrap() > 0,
        "{exported}"
    );
    let verified = tributary(&["snapshot", "verify", "--file", offline.to_str().unwrap()]);
    assert_eq!(verified["commitment"], exported["commitment"]);
}

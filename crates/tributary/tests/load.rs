//! `tributary bench load` against a real `tributary devnet` process: a short load (2,000 transfers)
//! funded from the dev account, fanned out and submitted in batches through `submit-transactions`
//! by several clients. Every transfer must be included exactly once: the load's own report says so,
//! and the chain, read back block by block, holds exactly the funding, fan-out and load transactions
//! (no more, no fewer). No timing is asserted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The devnet process, killed on drop.
struct Devnet(Child);

impl Drop for Devnet {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn post(addr: &str, token: &str, path: &str, body: &Value) -> Value {
    let body = body.to_string();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
    let v: Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["status"], "success", "{path}: {v}");
    v["data"].clone()
}

const TXS: usize = 2_000;
const FANOUT: usize = 100;

#[test]
fn a_short_load_is_included_exactly_once() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let tmp = TempDir(std::env::temp_dir().join(format!("tributary-load-{}-{nanos}", std::process::id())));
    std::fs::create_dir_all(&tmp.0).unwrap();
    let data = tmp.0.join("devnet");
    let log = std::fs::File::create(tmp.0.join("devnet.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(["devnet", "--data-dir", data.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--no-main-chain"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _devnet = Devnet(child);
    let startup: Value = serde_json::from_str(&line).unwrap();
    let url = startup["api_url"].as_str().unwrap().to_string();
    let addr = url.trim_start_matches("http://").to_string();
    let token = startup["access_token"].as_str().unwrap().to_string();
    let password_file = startup["dev_account"]["password_file"]
        .as_str()
        .unwrap()
        .to_string();
    let start_height = post(&addr, &token, "/get-block-count", &json!({}))["block_count"]
        .as_u64()
        .unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args([
            "bench",
            "load",
            "--api",
            &url,
            "--token",
            &token,
            "--password-file",
            &password_file,
        ])
        .args(["--txs", &TXS.to_string(), "--batch", "50", "--clients", "3"])
        .args([
            "--fanout",
            &FANOUT.to_string(),
            "--warmup-secs",
            "0",
            "--window-secs",
            "0.5",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bench load failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["txs"], TXS, "{report}");
    assert_eq!(report["included"], TXS, "{report}");
    assert_eq!(report["final"], TXS, "{report}");
    assert_eq!(report["included_twice"], 0, "{report}");
    assert_eq!(report["refused_batches"], 0, "{report}");
    assert_eq!(report["fanout_depths"], 2, "{report}");
    let l = &report["latency_final_ms"];
    let (p50, p99) = (l["p50"].as_f64().unwrap(), l["p99"].as_f64().unwrap());
    assert!(0.0 < p50 && p50 <= p99, "{report}");
    let blocks_with_load = report["blocks_with_load"].as_u64().unwrap();
    assert!(blocks_with_load >= 1, "{report}");
    assert!(report["max_load_txs_per_block"].as_u64().unwrap() * blocks_with_load >= TXS as u64);

    // The chain itself: every transaction since the start is the funding one, a fan-out (20 that
    // split into 100 coins each, 1 that splits into those 20) or a load transfer, each exactly once.
    let tip = post(&addr, &token, "/get-block-count", &json!({}))["block_count"]
        .as_u64()
        .unwrap();
    let mut ids = std::collections::HashSet::new();
    let mut count = 0usize;
    for h in start_height + 1..=tip {
        let block = post(&addr, &token, "/get-block", &json!({ "block_height": h }));
        for tx in block["transactions"].as_array().unwrap().iter().skip(1) {
            assert!(ids.insert(tx["id"].as_str().unwrap().to_string()), "{tx} twice");
            count += 1;
        }
    }
    assert_eq!(count, 1 + 1 + TXS.div_ceil(FANOUT) + TXS);
}

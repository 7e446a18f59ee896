//! Four BBFT validators as four `tributary node --config nodeK.toml` processes on loopback: blocks
//! become final (`get-block` says `"final": true`); one SIGKILLed, the other three keep finalizing;
//! restarted, it catches up; all four SIGKILLed right after transfers were accepted (HTTP 200) and
//! restarted, no final block and no accepted transfer is lost (the pool journal): every transfer ends
//! up in a final block on every node, and the chain goes on. Every node holds the same block at
//! every height. Epochs are 10 blocks, so the chain switches validator sets (the same set, as
//! nobody else is elected) between the kill and the restart, and again after the restart of all.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crypto::bls::SecretKey;
use crypto::chainkd::XPrv;
use ledger::ChainParams;
use node::bbft_host::validators::GenesisValidator;
use node::devnet::{coins_of, sign_transfer};
use node::genesis::{devnet_genesis, p2wpkh_program_of};
use serde_json::{Value, json};
use types::Transaction;

mod common;

const N: usize = 4;

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("TRIBUTARY_KEEP_BBFT_DIR").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

struct Proc {
    child: Option<Child>,
    addr: String,
}

impl Proc {
    fn start(config: &Path, log: &Path) -> Proc {
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
        }
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        self.post_status(path, body).1
    }

    fn post_status(&self, path: &str, body: &Value) -> (u16, Value) {
        self.request("POST", path, &body.to_string())
    }

    fn get(&self, path: &str) -> (u16, Value) {
        self.request("GET", path, "")
    }

    fn request(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len(),
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let text = String::from_utf8_lossy(&out).to_string();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    /// The hash of the block holding `tx` (every committed block is final under BBFT), if any.
    fn block_of(&self, tx: &Transaction) -> Option<String> {
        let (status, v) = self.post_status("/get-transaction", &json!({ "tx_id": tx.id().to_hex() }));
        match status {
            404 => None,
            200 => Some(v["data"]["block_hash"].as_str().unwrap().to_string()),
            _ => panic!("get-transaction answered {status}: {v}"),
        }
    }

    fn height(&self) -> u64 {
        self.post("/get-block-count", &json!({}))["data"]["block_count"]
            .as_u64()
            .unwrap()
    }

    fn block(&self, h: u64) -> Value {
        self.post("/get-block", &json!({ "block_height": h }))["data"].clone()
    }

    fn sigkill(&mut self) {
        let mut c = self.child.take().unwrap();
        c.kill().unwrap();
        c.wait().unwrap();
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

/// The dev account the genesis funds.
fn dev_account() -> (XPrv, Vec<u8>) {
    let xprv = XPrv::root(b"bbft processes dev account");
    let program = p2wpkh_program_of(&xprv.xpub());
    (xprv, program)
}

/// Genesis outputs paid to the dev account.
const FUNDED: usize = 4;

/// Blocks per DPoS round, i.e. per BBFT epoch: short, so that the kills and restarts below fall
/// on both sides of several epoch switches (the elections fall back to the genesis set, as no
/// candidate registers).
const ROUND: u64 = 10;

fn write_configs(root: &Path) -> (Vec<PathBuf>, types::Block) {
    write_configs_with(root, 0, "")
}

fn node_seed(i: usize) -> [u8; 32] {
    [u8::try_from(i).unwrap() + 10; 32]
}

fn bls_secret(i: usize) -> SecretKey {
    SecretKey::from_seed(&[u8::try_from(i).unwrap() + 20; 32])
}

fn dpos_identity(i: usize) -> XPrv {
    XPrv::root(&[3, u8::try_from(i).unwrap()])
}

/// The configurations of `N` genesis validators and `candidates` more nodes (`[[bbft.candidates]]`,
/// node ids `N..`), every node a peer of every other, with `dpos` added to `[bbft.dpos]`.
fn write_configs_with(root: &Path, candidates: usize, dpos: &str) -> (Vec<PathBuf>, types::Block) {
    let params = ChainParams::side_devnet();
    let (_, program) = dev_account();
    let now = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let genesis = devnet_genesis(&params, &program, FUNDED, 1_000_000_000_000, now - 1_000).unwrap();
    let nodes = N + candidates;
    let entries: Vec<GenesisValidator> = (0..nodes)
        .map(|i| {
            GenesisValidator::of(
                &dpos_identity(i).xpub(),
                &p2p_public(&node_seed(i)),
                &bls_secret(i),
            )
        })
        .collect();
    // Fixed ports: a node killed and restarted must get its port back (see `free_port_run`).
    let base = common::free_port_run(24_000..31_000, u16::try_from(nodes).unwrap());
    let addrs: Vec<String> = (0..nodes)
        .map(|i| format!("127.0.0.1:{}", base + u16::try_from(i).unwrap()))
        .collect();
    let mut directory = String::new();
    for (i, v) in entries.iter().enumerate() {
        let table = if i < N { "validators" } else { "candidates" };
        directory.push_str(&format!(
            "[[bbft.{table}]]\nxpub = \"{}\"\nnode_key = \"{}\"\nbls_key = \"{}\"\nbls_pop = \"{}\"\n\n",
            v.xpub, v.node_key, v.bls_key, v.bls_pop
        ));
    }
    let configs = (0..nodes)
        .map(|i| {
            let dir = root.join(format!("node{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("genesis.hex"), hex::encode(genesis.encode())).unwrap();
            std::fs::write(dir.join("node.key"), hex::encode(node_seed(i))).unwrap();
            std::fs::write(dir.join("bls.key"), hex::encode(bls_secret(i).to_bytes())).unwrap();
            let mut peers = String::new();
            for (j, a) in addrs.iter().enumerate().filter(|(j, _)| *j != i) {
                peers.push_str(&format!("[[bbft.peers]]\nnode_id = {j}\naddr = \"{a}\"\n\n"));
            }
            let text = format!(
                "data_dir = \".\"\n\n[api]\nlisten = \"127.0.0.1:0\"\nrequire_auth = false\n\n[wallet]\nenabled = false\n\n\
                 [bbft]\nenabled = true\nnode_id = {i}\nlisten = \"{}\"\n\n\
                 [bbft.dpos]\nround_length = {ROUND}\n{dpos}\n{directory}{peers}",
                addrs[i]
            );
            let path = dir.join("node.toml");
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect();
    (configs, genesis)
}

/// Transfers from the genesis outputs: one per output, and a child of the first (spending its
/// output while it is still in the pool).
fn transfers(genesis: &types::Block) -> Vec<Transaction> {
    const FEE: u64 = 1_000_000;
    let (xprv, program) = dev_account();
    let pay = |coin: &node::devnet::Coin| {
        sign_transfer(
            &xprv,
            std::slice::from_ref(coin),
            &[(program.clone(), coin.amount - FEE)],
        )
        .unwrap()
    };
    let coins = coins_of(&genesis.transactions()[1], &program);
    assert_eq!(coins.len(), FUNDED);
    let mut txs: Vec<Transaction> = coins.iter().map(pay).collect();
    let child = pay(&coins_of(&txs[0], &program)[0]);
    txs.push(child);
    txs
}

fn p2p_public(seed: &[u8; 32]) -> [u8; 32] {
    crypto::chainkd::ExpandedPrivateKey::from_ed25519_seed(seed).public_key()
}

fn wait(procs: &[Proc], what: &str, secs: u64, pred: impl Fn(u64) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let heights: Vec<u64> = procs
            .iter()
            .filter(|p| p.child.is_some())
            .map(Proc::height)
            .collect();
        if heights.iter().all(|&h| pred(h)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; heights {heights:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The node ids of the validators a `GET /v1/validators` answer lists, in election order.
fn validator_ids(v: &Value) -> Vec<u64> {
    v["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["node_id"].as_u64().unwrap())
        .collect()
}

fn assert_one_chain(procs: &[Proc]) {
    let live: Vec<&Proc> = procs.iter().filter(|p| p.child.is_some()).collect();
    let top = live.iter().map(|p| p.height()).min().unwrap();
    for h in 1..=top {
        let blocks: Vec<Value> = live.iter().map(|p| p.block(h)).collect();
        for b in &blocks {
            assert_eq!(b["final"], true, "block {h} not final: {b}");
            assert_eq!(b["hash"], blocks[0]["hash"], "two final blocks at height {h}");
        }
    }
}

#[test]
fn four_validator_processes_survive_sigkill_and_lose_no_final_block() {
    let root = TempDir(std::env::temp_dir().join(format!("tributary-bbft-procs-{}", std::process::id())));
    std::fs::create_dir_all(&root.0).unwrap();
    let (configs, genesis) = write_configs(&root.0);
    let log = |i: usize| root.0.join(format!("node{i}.log"));
    let mut procs: Vec<Proc> = (0..N).map(|i| Proc::start(&configs[i], &log(i))).collect();
    wait(&procs, "three final blocks", 60, |h| h >= 3);
    assert_one_chain(&procs);

    // SIGKILL one: the other three go on.
    procs[2].sigkill();
    let h = procs
        .iter()
        .filter(|p| p.child.is_some())
        .map(Proc::height)
        .max()
        .unwrap();
    // Past the end of the epoch: the killed validator restarts in an epoch it never saw begin.
    let past_boundary = (h / ROUND + 1) * ROUND + 2;
    wait(&procs, "three validators to go on into the next epoch", 60, |x| {
        x >= (h + 3).max(past_boundary)
    });
    // Restarted, it catches up.
    procs[2] = Proc::start(&configs[2], &log(2));
    let target = procs.iter().map(Proc::height).max().unwrap();
    wait(&procs, "the restarted validator to catch up", 60, |x| x > target);
    assert_one_chain(&procs);

    // Transfers accepted by the validators' APIs (each to another validator; the child to its
    // parent's), then at once SIGKILL all, restart all: no final block and no accepted transfer
    // lost, and the chain goes on.
    let txs = transfers(&genesis);
    for (k, tx) in txs.iter().enumerate() {
        let to = if k == txs.len() - 1 { 0 } else { k % N };
        let (status, v) = procs[to].post_status(
            "/submit-transaction",
            &json!({ "raw_transaction": hex::encode(tx.encode()) }),
        );
        assert_eq!((status, &v["status"]), (200, &json!("success")), "{v}");
    }
    let already: usize = txs.iter().filter(|tx| procs[0].block_of(tx).is_some()).count();
    let before: Vec<(u64, Value)> = procs
        .iter()
        .map(|p| {
            let h = p.height();
            (h, p.block(h)["hash"].clone())
        })
        .collect();
    for p in &mut procs {
        p.sigkill();
    }
    let mut procs: Vec<Proc> = (0..N).map(|i| Proc::start(&configs[i], &log(i))).collect();
    for (p, (h, hash)) in procs.iter().zip(&before) {
        assert!(p.height() >= *h, "a final block was lost");
        assert_eq!(&p.block(*h)["hash"], hash, "a final block changed");
    }
    let top = before.iter().map(|b| b.0).max().unwrap();
    wait(
        &procs,
        "the restarted cluster to go on into the next epoch",
        60,
        |x| x >= (top / ROUND + 1) * ROUND + 2,
    );
    assert_one_chain(&procs);
    // Every node reports the epoch it is in, and the genesis set serving it: no candidate
    // registered, so every election fell back to it.
    for p in &procs {
        let (status, v) = p.get("/v1/validators");
        assert_eq!(status, 200, "{v}");
        assert!(v["epoch"].as_u64().unwrap() >= 2, "{v}");
        assert_eq!(v["round_length"], ROUND);
        assert_eq!(validator_ids(&v), vec![0, 1, 2, 3], "{v}");
        assert_eq!(v["projected_source"], "fallback", "{v}");
        assert_eq!(v["candidates"], json!([]), "{v}");
    }
    // Every accepted transfer in the same final block on every node.
    eprintln!(
        "{already} of {} accepted transfers were in a block before the kill",
        txs.len()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    for tx in &txs {
        loop {
            let found: Vec<Option<String>> = procs.iter().map(|p| p.block_of(tx)).collect();
            if found.iter().all(Option::is_some) {
                assert!(
                    found.iter().all(|b| *b == found[0]),
                    "{} in different blocks: {found:?}",
                    tx.id()
                );
                break;
            }
            assert!(
                Instant::now() < deadline,
                "accepted transfer {} lost after SIGKILL-all: {found:?}",
                tx.id()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    assert_one_chain(&procs);
    for p in &mut procs {
        p.sigkill();
    }
}

/// Four validator processes and a candidate process (`[[bbft.candidates]]`, node 4), over the p2p
/// network: one transaction registers candidates 1–4 and votes for them, most for 4. At the end of
/// the round every node reports the elected set {4, 3, 2, 1} (`GET /v1/validators`). With
/// validator 1 then SIGKILLed, blocks keep becoming final: in a set of four that takes three, so
/// the candidate process votes, and validator 0 (voted out) follows.
#[test]
fn an_elected_candidate_process_replaces_a_validator_at_the_round_end() {
    const STAKE: u64 = 100_000_000;
    let root = TempDir(std::env::temp_dir().join(format!("tributary-bbft-elect-{}", std::process::id())));
    std::fs::create_dir_all(&root.0).unwrap();
    let dpos = format!("num_validators = {N}\nmin_validator_stake = {STAKE}\n");
    let (configs, genesis) = write_configs_with(&root.0, 1, &dpos);
    let log = |i: usize| root.0.join(format!("node{i}.log"));
    let mut procs: Vec<Proc> = (0..=N).map(|i| Proc::start(&configs[i], &log(i))).collect();
    wait(&procs, "two final blocks", 60, |h| h >= 2);
    let (status, v) = procs[4].get("/v1/validators");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["candidates"], json!([]), "{v}");

    // Registrations of 1–4 (retirement outputs holding each candidate's signed registration) and
    // votes for them, from the dev account's first genesis output.
    let (xprv, program) = dev_account();
    let keys: Vec<(XPrv, SecretKey)> = (1..=N).map(|i| (dpos_identity(i), bls_secret(i))).collect();
    let ballots: Vec<node::devnet::Ballot<'_>> = keys
        .iter()
        .zip(1u64..)
        .map(|((dpos, bls), i)| node::devnet::Ballot {
            dpos,
            bls,
            votes: STAKE * i,
        })
        .collect();
    let coin = coins_of(&genesis.transactions()[1], &program).remove(0);
    let chain = consensus::dpos::ChainId::from(genesis.hash());
    let tx = node::devnet::sign_election(&xprv, &coin, &chain, &ballots, 10_000_000).unwrap();
    let (status, v) = procs[0].post_status(
        "/submit-transaction",
        &json!({ "raw_transaction": hex::encode(tx.encode()) }),
    );
    assert_eq!(status, 200, "{v}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let voted_at = loop {
        let (status, v) = procs[0].post_status("/get-transaction", &json!({ "tx_id": tx.id().to_hex() }));
        if status == 200 {
            break v["data"]["block_height"].as_u64().unwrap();
        }
        assert!(Instant::now() < deadline, "the election transaction is not final");
        std::thread::sleep(Duration::from_millis(100));
    };
    let first = (voted_at / ROUND + 1) * ROUND + 1;
    wait(&procs, "the elected epoch under way", 60, |h| h >= first + 2);
    for p in &procs {
        let (status, v) = p.get("/v1/validators");
        assert_eq!(status, 200, "{v}");
        assert!(v["epoch"].as_u64().unwrap() >= first / ROUND, "{v}");
        assert_eq!(validator_ids(&v), vec![4, 3, 2, 1], "{v}");
        assert_eq!(v["candidates"].as_array().unwrap().len(), N, "{v}");
        assert_eq!(v["projected_source"], "elected", "{v}");
    }

    // Without validator 1, a quorum of {4, 3, 2, 1} needs the candidate process.
    procs[1].sigkill();
    let h = procs[4].height();
    wait(&procs, "finality without validator 1", 60, |x| x >= h + 4);
    assert_one_chain(&procs);
    for p in &mut procs {
        if p.child.is_some() {
            p.sigkill();
        }
    }
}

//! Crash safety: the node binary under continuous transaction load is killed with SIGKILL at random
//! moments and restarted on the same data directory, `TRIBUTARY_CRASH_ROUNDS` times (20 by default).
//! Then, with the node dead, the store is opened and checked:
//! - its UTXO set (and claims, and every per-block change set) equals a replay of its blocks through
//!   the ledger into a `MemoryUtxoSet`, and every block carries the producer's signature;
//! - every transaction the node reported as included (by get-transaction) is still in the same block;
//! - no output is both spent (by a stored block) and unspent (in the UTXO set).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crypto::chainkd::XPrv;
use ledger::{ChainParams, MemoryUtxoSet, UtxoEntry};
use node::chain::{ProducerKey, witness_is_valid};
use node::devnet::{Coin, coins_of, sign_transfer};
use rand_core::{OsRng, RngCore};
use serde_json::{Value, json};
use storage::{RedbStore, StoreRead};
use types::codec::Limits;
use types::profile::Profile;
use types::{Block, Hash, Transaction};

const FEE: u64 = 1_000_000;
/// Transfers in flight per lane (a lane is one chain of transfers from one genesis output).
const MAX_PENDING: usize = 6;

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("TRIBUTARY_KEEP_CRASH_DIR").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A node process, killed on drop.
struct NodeProc {
    child: Option<Child>,
    startup: Value,
    addr: String,
    auth: String,
}

impl NodeProc {
    fn start(args: &[&str], log: &Path, auth: &str) -> NodeProc {
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(args)
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
        let mut proc = NodeProc {
            child: Some(child),
            startup: Value::Null,
            addr: String::new(),
            auth: auth.to_string(),
        };
        let line = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|e| {
            panic!(
                "no startup line ({e}); log: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        });
        proc.startup = serde_json::from_str(&line).unwrap();
        proc.addr = proc.startup["api_url"]
            .as_str()
            .unwrap()
            .trim_start_matches("http://")
            .to_string();
        proc
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let body = body.to_string();
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nAuthorization: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len(),
            self.auth
        );
        s.write_all(req.as_bytes()).unwrap();
        let mut out = Vec::new();
        s.read_to_end(&mut out).unwrap();
        let text = String::from_utf8_lossy(&out).to_string();
        let status: u16 = text.split(' ').nth(1).unwrap().parse().unwrap();
        let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    fn sigkill(mut self) {
        let mut c = self.child.take().unwrap();
        c.kill().unwrap();
        c.wait().unwrap();
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

/// One chain of transfers: each spends the previous one's output.
struct Lane {
    start: Coin,
    txs: Vec<Transaction>,
    /// How many of `txs` (a prefix) are known to be in blocks.
    committed: usize,
}

impl Lane {
    fn next_coin(&self, program: &[u8]) -> Coin {
        match self.txs.last() {
            Some(t) => coins_of(t, program)[0].clone(),
            None => self.start.clone(),
        }
    }
}

struct Load {
    xprv: XPrv,
    program: Vec<u8>,
    lanes: Vec<Lane>,
    /// Transactions the node reported as included: ID → (height, block hash).
    included: HashMap<Hash, (u64, String)>,
    submitted: usize,
}

impl Load {
    /// Moves each lane's committed prefix forward as far as the node reports inclusion.
    fn poll(&mut self, node: &NodeProc) {
        for lane in &mut self.lanes {
            while let Some(tx) = lane.txs.get(lane.committed) {
                let (status, v) = node.post("/get-transaction", &json!({ "tx_id": tx.id().to_hex() }));
                if status == 404 {
                    break;
                }
                assert_eq!(status, 200, "{v}");
                let d = &v["data"];
                self.included.insert(
                    tx.id(),
                    (
                        d["block_height"].as_u64().unwrap(),
                        d["block_hash"].as_str().unwrap().to_string(),
                    ),
                );
                lane.committed += 1;
            }
        }
    }

    /// After a restart: transfers that were only in the (lost) pool are submitted again, in order.
    fn resubmit(&mut self, node: &NodeProc) {
        self.poll(node);
        for lane in &self.lanes {
            for tx in &lane.txs[lane.committed..] {
                let (status, v) = node.post(
                    "/submit-transaction",
                    &json!({ "raw_transaction": hex::encode(tx.encode()) }),
                );
                assert_eq!(status, 200, "resubmitting {}: {v}", tx.id());
            }
        }
    }

    /// Tops every lane up to `MAX_PENDING` transfers in flight.
    fn submit_more(&mut self, node: &NodeProc) {
        for lane in &mut self.lanes {
            while lane.txs.len() - lane.committed < MAX_PENDING {
                let coin = lane.next_coin(&self.program);
                let tx = sign_transfer(
                    &self.xprv,
                    std::slice::from_ref(&coin),
                    &[(self.program.clone(), coin.amount - FEE)],
                )
                .unwrap();
                let (status, v) = node.post(
                    "/submit-transaction",
                    &json!({ "raw_transaction": hex::encode(tx.encode()) }),
                );
                assert_eq!(status, 200, "{v}");
                lane.txs.push(tx);
                self.submitted += 1;
            }
        }
    }
}

fn random_below(n: u64) -> u64 {
    OsRng.next_u64() % n.max(1)
}

#[test]
fn sigkill_under_load_loses_nothing() {
    let rounds: usize = std::env::var("TRIBUTARY_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let tmp = TempDir(std::env::temp_dir().join(format!("tributary-crash-{}-{nanos}", std::process::id())));
    std::fs::create_dir_all(&tmp.0).unwrap();
    let data = tmp.0.join("data");
    let log = tmp.0.join("node.log");
    let data_s = data.to_str().unwrap().to_string();
    let config = data.join("node.toml");
    let config_s = config.to_str().unwrap().to_string();

    // Round 0 creates a solo devnet (one producer: the store under test); later rounds restart it
    // from its configuration file. Blocks every 100 ms rather than 500: five times the commits, so
    // more kills land inside one.
    let mut node = NodeProc::start(
        &[
            "devnet",
            "--validators",
            "1",
            "--data-dir",
            &data_s,
            "--listen",
            "127.0.0.1:0",
            "--no-main-chain",
            "--block-interval-ms",
            "100",
        ],
        &log,
        "",
    );
    let token = node.startup["access_token"].as_str().unwrap().to_string();
    node.auth = format!("Bearer {token}");
    // The dev account is a wallet account: it pays 16 outputs to a key of the test's own (build, sign
    // with the dev password, submit), and the lanes start from those once they are in a block.
    let account = node.startup["dev_account"].clone();
    let xprv = XPrv::generate(&mut OsRng);
    let program = node::genesis::p2wpkh_program_of(&xprv.xpub());
    let password = std::fs::read_to_string(account["password_file"].as_str().unwrap()).unwrap();
    let btm = "ff".repeat(32);
    let mut actions = vec![
        json!({"type": "spend_account", "account_alias": "dev", "asset_id": btm, "amount": 16 * 10_000_000_000u64 + FEE}),
    ];
    for _ in 0..16 {
        actions.push(json!({"type": "control_program", "control_program": hex::encode(&program), "asset_id": btm, "amount": 10_000_000_000u64}));
    }
    let (status, built) = node.post("/build-transaction", &json!({ "actions": actions }));
    assert_eq!(status, 200, "{built}");
    let (status, signed) = node.post(
        "/sign-transaction",
        &json!({"password": password.trim_end(), "transaction": built["data"]}),
    );
    assert_eq!(status, 200, "{signed}");
    let raw = signed["data"]["transaction"]["raw_transaction"].as_str().unwrap();
    let funding = Transaction::decode(&hex::decode(raw).unwrap(), Profile::Side, &Limits::default()).unwrap();
    let (status, v) = node.post("/submit-transaction", &json!({ "raw_transaction": raw }));
    assert_eq!(status, 200, "{v}");
    let waiting = Instant::now();
    while node
        .post("/get-transaction", &json!({ "tx_id": funding.id().to_hex() }))
        .0
        != 200
    {
        assert!(
            waiting.elapsed() < Duration::from_secs(30),
            "the funding transaction was not included"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let genesis_hex = std::fs::read_to_string(data.join("genesis.hex")).unwrap();
    let genesis = Block::decode(
        &hex::decode(genesis_hex.trim()).unwrap(),
        Profile::Side,
        &Limits::default(),
    )
    .unwrap();
    let mut load = Load {
        lanes: coins_of(&funding, &program)
            .into_iter()
            .map(|start| Lane {
                start,
                txs: Vec::new(),
                committed: 0,
            })
            .collect(),
        xprv,
        program,
        included: HashMap::new(),
        submitted: 0,
    };
    assert_eq!(load.lanes.len(), 16);

    let started = Instant::now();
    let mut kills = 0;
    let mut node = Some(node);
    for round in 0..rounds {
        let n = match node.take() {
            Some(n) => n,
            None => NodeProc::start(
                &["node", "--config", &config_s, "--listen", "127.0.0.1:0"],
                &log,
                &format!("Bearer {token}"),
            ),
        };
        // Nothing reported as included is missing after a restart.
        let height = n.startup["height"].as_u64().unwrap();
        let max_reported = load.included.values().map(|(h, _)| *h).max().unwrap_or(0);
        assert!(
            height >= max_reported,
            "round {round}: restarted at height {height} < reported {max_reported}"
        );
        load.resubmit(&n);
        let run_for = Duration::from_millis(200 + random_below(1300));
        let until = Instant::now() + run_for;
        while Instant::now() < until {
            load.submit_more(&n);
            load.poll(&n);
            std::thread::sleep(Duration::from_millis(5));
        }
        n.sigkill();
        kills += 1;
    }
    let elapsed = started.elapsed();

    // The node is dead: open its store directly.
    let store = RedbStore::open_existing(data.join("chain.redb")).unwrap();
    let tip = store.tip().unwrap().unwrap();
    let params = ChainParams::side_devnet();
    let seed = hex::decode(std::fs::read_to_string(data.join("producer.key")).unwrap().trim()).unwrap();
    let producer = ProducerKey::from_seed(&seed.try_into().unwrap()).public_key();
    let stored_genesis = store.block_at(0).unwrap().unwrap();
    assert_eq!(stored_genesis, genesis);
    let mut replay = MemoryUtxoSet::new();
    let genesis_changes = ledger::genesis_change_set(&genesis);
    assert_eq!(store.change_set(0).unwrap().unwrap(), genesis_changes);
    replay.apply(&genesis_changes).unwrap();
    let mut parent = genesis.header().clone();
    let mut spent: HashSet<Hash> = HashSet::new();
    let mut txs_in_blocks = 0usize;
    for height in 1..=tip.height {
        let block = store.block_at(height).unwrap().unwrap();
        assert!(
            witness_is_valid(block.header(), &producer),
            "block {height} unsigned"
        );
        let changes = ledger::validate_block(&block, &parent, &replay, &params, &[])
            .unwrap_or_else(|e| panic!("stored block {height} does not validate: {e}"));
        assert_eq!(
            store.change_set(height).unwrap().unwrap(),
            changes,
            "change set of block {height}"
        );
        replay.apply(&changes).unwrap();
        for (position, tx) in block.transactions().iter().enumerate() {
            let loc = store.tx_location(&tx.id()).unwrap().unwrap();
            if position > 0 {
                // Coinbase IDs repeat only with their arbitrary data (the height), so they are unique too.
                txs_in_blocks += 1;
            }
            assert_eq!((loc.block_height, loc.position as usize), (height, position));
            for ids in &tx.ids().inputs {
                if let Some(id) = ids.spent_output_id {
                    spent.insert(id);
                }
            }
        }
        parent = block.header().clone();
    }
    assert_eq!(parent.hash(), tip.hash);
    // The stored state equals the replay.
    let stored: Vec<(Hash, UtxoEntry)> = store.utxos().unwrap();
    let replayed: Vec<(Hash, UtxoEntry)> = replay.iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(stored.len(), replayed.len());
    assert!(
        stored == replayed,
        "the stored UTXO set differs from the replay of the stored blocks"
    );
    let claims: Vec<Hash> = replay.claims().copied().collect();
    assert_eq!(store.claimed_outputs().unwrap(), claims);
    // No output both spent and unspent.
    for (id, _) in &stored {
        assert!(
            !spent.contains(id),
            "output {id} is spent by a stored block and still unspent"
        );
    }
    // Everything reported as included is still there, in the same block.
    for (tx_id, (height, hash)) in &load.included {
        let loc = store
            .tx_location(tx_id)
            .unwrap()
            .unwrap_or_else(|| panic!("{tx_id} was reported included at height {height} and is gone"));
        assert_eq!(loc.block_height, *height, "{tx_id}");
        assert_eq!(
            store.block_hash(*height).unwrap().unwrap().to_hex(),
            *hash,
            "{tx_id}"
        );
    }
    // The load was real.
    assert_eq!(kills, rounds);
    assert!(
        load.included.len() >= rounds,
        "only {} transfers included",
        load.included.len()
    );
    eprintln!(
        "crash test: {kills} SIGKILLs in {elapsed:?}; {} transfers submitted, {} reported included, {} in {} blocks",
        load.submitted,
        load.included.len(),
        txs_in_blocks,
        tip.height
    );
}

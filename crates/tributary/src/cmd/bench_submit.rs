//! `tributary bench submit`: the node's API under load.
//!
//! An in-process devnet node (temporary data directory, its genesis paying one output per
//! transaction to a bench key) serves the HTTP API on a loopback port. Every transfer is signed
//! before the clock starts (1 input, 1 output, a fixed fee), then `--clients` threads, each on its
//! own keep-alive connection, submit them (`--batch` per request). Inclusion times come from the
//! node's block feed (the broadcast behind the API's event stream), so measuring adds no polling
//! load. Reported: submission rate, throughput to inclusion (transactions included / time from the
//! first submission to the last inclusion) and submit-to-inclusion latency percentiles.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use crypto::chainkd::XPrv;
use node::devnet::{coins_of, sign_transfer};
use rand_core::{OsRng, RngCore as _};
use rayon::prelude::*;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::TryRecvError;

use super::load::percentile;
use super::wallet::{ApiClient, Connection, data_of};
use crate::cli::BenchSubmitOpts;

/// Neu per genesis output.
const COIN: u64 = 1_000_000_000;
/// Fee per transfer.
const FEE: u64 = 1_000_000;
/// How long to wait for the last inclusion after the last submission.
const DRAIN: Duration = Duration::from_secs(120);

/// A temporary directory removed on drop.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Runs the benchmark and returns its report.
pub(crate) fn run(opts: &BenchSubmitOpts) -> Result<Value> {
    if opts.txs == 0 || opts.clients == 0 || opts.batch == 0 {
        bail!("--txs, --clients and --batch must be positive");
    }
    if opts.txs > 1_000_000 {
        bail!("--txs is at most 1000000");
    }
    let mut seed = [0u8; 8];
    OsRng.fill_bytes(&mut seed);
    let dir = TempDir(std::env::temp_dir().join(format!(
        "tributary-bench-submit-{}-{}",
        std::process::id(),
        hex::encode(seed)
    )));
    std::fs::create_dir_all(&dir.0).with_context(|| format!("cannot create {}", dir.0.display()))?;

    let params = ledger::ChainParams::side_devnet();
    let xprv = XPrv::generate(&mut OsRng);
    let program = node::genesis::p2wpkh_program_of(&xprv.xpub());
    let genesis = node::genesis::devnet_genesis(&params, &program, opts.txs, COIN, node::producer::now_ms())?;
    let mut producer_seed = [0u8; 32];
    OsRng.fill_bytes(&mut producer_seed);
    std::fs::write(dir.0.join("genesis.hex"), hex::encode(genesis.encode()))
        .and_then(|()| std::fs::write(dir.0.join("producer.key"), hex::encode(producer_seed)))
        .context("cannot write the bench node's files")?;

    let sign_start = Instant::now();
    let coins: Vec<_> = genesis.transactions()[1..]
        .iter()
        .flat_map(|t| coins_of(t, &program))
        .collect();
    let signed: Vec<(String, String)> = coins
        .par_iter()
        .map(|c| {
            let tx = sign_transfer(
                &xprv,
                std::slice::from_ref(c),
                &[(program.clone(), c.amount - FEE)],
            )?;
            Ok((tx.id().to_hex(), hex::encode(tx.encode())))
        })
        .collect::<Result<_, node::NodeError>>()?;
    let sign_seconds = sign_start.elapsed().as_secs_f64();

    let config = node::NodeConfig {
        data_dir: dir.0.clone(),
        producer: node::ProducerConfig {
            block_interval_ms: opts.block_interval_ms,
            ..node::ProducerConfig::default()
        },
        mempool: node::MempoolConfig {
            max_txs: opts.txs.max(node::MempoolConfig::default().max_txs),
            ..node::MempoolConfig::default()
        },
        ..node::NodeConfig::default()
    };
    let token = format!("bench:{}", hex::encode(producer_seed.map(|b| b ^ 0x5a)));
    let api_config = api::ApiConfig {
        listen: "127.0.0.1:0".to_string(),
        access_tokens: vec![token.clone()],
        ..api::ApiConfig::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (node, server) = runtime.block_on(async {
        let node = node::Node::start(&config).context("cannot start the bench node")?;
        let server = api::Server::start(node.chain(), None, &api_config)
            .await
            .context("cannot start the API")?;
        Ok::<_, anyhow::Error>((node, server))
    })?;
    let chain = node.chain();
    let client = ApiClient::new(&format!("http://{}", server.local_addr()), Some(token))?;

    let result = measure(opts, &client, &chain, &signed);
    runtime.block_on(async {
        server.shutdown().await;
        node.shutdown().await;
    });
    let mut report = result?;
    report["sign_seconds"] = json!((sign_seconds * 1e3).round() / 1e3);
    Ok(report)
}

/// Submits `signed` with `opts.clients` clients and waits for every inclusion.
fn measure(
    opts: &BenchSubmitOpts,
    client: &ApiClient,
    chain: &Arc<node::ChainService>,
    signed: &[(String, String)],
) -> Result<Value> {
    let index: HashMap<&str, usize> = signed
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (id.as_str(), i))
        .collect();
    let mut blocks = chain.subscribe();
    let start_height = chain.tip().height;
    let submitted_at: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; signed.len()]));
    let next = AtomicUsize::new(0);
    let errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let start = Instant::now();
    let mut included: Vec<Option<Instant>> = vec![None; signed.len()];
    let mut included_count = 0usize;
    let mut block_sizes = Vec::new();
    let mut submit_done = None;

    std::thread::scope(|scope| -> Result<()> {
        let workers: Vec<_> = (0..opts.clients)
            .map(|_| {
                let submitted_at = submitted_at.clone();
                let next = &next;
                let errors = &errors;
                scope.spawn(move || {
                    if let Err(e) = submit_loop(client, opts.batch, signed, next, &submitted_at) {
                        if let Ok(mut errors) = errors.lock() {
                            errors.push(format!("{e:#}"));
                        }
                        // Stop the other clients too: the run is void.
                        next.store(usize::MAX / 2, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        let mut last_progress = Instant::now();
        while included_count < signed.len() {
            if submit_done.is_none() && workers.iter().all(|w| w.is_finished()) {
                submit_done = Some(start.elapsed());
                last_progress = Instant::now();
                if errors.lock().map(|e| !e.is_empty()).unwrap_or(true) {
                    break;
                }
            }
            if submit_done.is_some() && last_progress.elapsed() > DRAIN {
                break;
            }
            let block = match blocks.try_recv() {
                Ok(b) => b,
                Err(TryRecvError::Empty) => {
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                }
                Err(TryRecvError::Lagged(n)) => {
                    return Err(anyhow!("the block feed lagged by {n} blocks"));
                }
                Err(TryRecvError::Closed) => {
                    return Err(anyhow!("the node stopped"));
                }
            };
            let now = Instant::now();
            let mut n = 0usize;
            for tx in block.transactions() {
                if let Some(&i) = index.get(tx.id().to_hex().as_str())
                    && included[i].is_none()
                {
                    included[i] = Some(now);
                    n += 1;
                }
            }
            if n > 0 {
                included_count += n;
                block_sizes.push(n);
                last_progress = now;
            }
        }
        for w in workers {
            let _ = w.join();
        }
        Ok(())
    })?;

    if let Some(e) = errors.lock().ok().and_then(|e| e.first().cloned()) {
        bail!("a client failed: {e}");
    }
    let submit_seconds = submit_done.unwrap_or_else(|| start.elapsed()).as_secs_f64();
    let submitted_at = submitted_at.lock().map_err(|_| anyhow!("a client panicked"))?;
    let mut latencies: Vec<f64> = submitted_at
        .iter()
        .zip(&included)
        .filter_map(|(s, i)| Some(ms(i.as_ref()?.duration_since(*s.as_ref()?))))
        .collect();
    latencies.sort_by(f64::total_cmp);
    let last = included.iter().flatten().max().copied();
    let wall = last.map_or(0.0, |l| l.duration_since(start).as_secs_f64());
    let end_height = chain.tip().height;
    Ok(json!({
        "txs": signed.len(),
        "clients": opts.clients,
        "batch": opts.batch,
        "block_interval_ms": opts.block_interval_ms,
        "submit_seconds": (submit_seconds * 1e3).round() / 1e3,
        "submit_tx_per_s": (signed.len() as f64 / submit_seconds).round(),
        "included": included_count,
        "wall_seconds": (wall * 1e3).round() / 1e3,
        "throughput_tx_per_s": if wall > 0.0 { (included_count as f64 / wall).round() } else { 0.0 },
        "latency_ms": {
            "p50": percentile(&latencies, 500),
            "p99": percentile(&latencies, 990),
            "max": latencies.last().copied().unwrap_or(0.0),
        },
        "blocks_with_bench_txs": block_sizes.len(),
        "max_txs_per_block": block_sizes.iter().max().copied().unwrap_or(0),
        "blocks": end_height.saturating_sub(start_height),
    }))
}

/// One client: takes the next `batch` transactions until none are left and sends them pipelined
/// on its kept-alive connection (all requests written, then the answers read in order).
fn submit_loop(
    client: &ApiClient,
    batch: usize,
    signed: &[(String, String)],
    next: &AtomicUsize,
    submitted_at: &Mutex<Vec<Option<Instant>>>,
) -> Result<()> {
    let mut conn: Option<Connection> = None;
    loop {
        let from = next.fetch_add(batch, Ordering::SeqCst);
        if from >= signed.len() {
            return Ok(());
        }
        let to = (from + batch).min(signed.len());
        let bodies: Vec<String> = signed[from..to]
            .iter()
            .map(|(_, raw)| json!({ "raw_transaction": raw }).to_string())
            .collect();
        let mut c = match conn.take() {
            Some(c) => c,
            None => client.connect()?,
        };
        let sent = Instant::now();
        if let Ok(mut at) = submitted_at.lock() {
            for slot in &mut at[from..to] {
                *slot = Some(sent);
            }
        }
        for body in &bodies {
            c.send("submit-transaction", body.as_bytes())?;
        }
        let mut keep = true;
        for _ in &bodies {
            let response = c.receive()?;
            data_of("submit-transaction", &response)?;
            keep &= response.keep_alive;
        }
        if keep {
            conn = Some(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small run: every transaction is submitted and included, and the figures agree with each
    /// other (no timing is asserted).
    #[test]
    fn small_run_includes_everything() {
        let opts = BenchSubmitOpts {
            txs: 60,
            clients: 3,
            batch: 2,
            block_interval_ms: 100,
        };
        let r = run(&opts).unwrap();
        assert_eq!(r["txs"], 60);
        assert_eq!(r["included"], 60);
        let l = &r["latency_ms"];
        let (p50, p99, max) = (
            l["p50"].as_f64().unwrap(),
            l["p99"].as_f64().unwrap(),
            l["max"].as_f64().unwrap(),
        );
        assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{r}");
        let blocks = r["blocks_with_bench_txs"].as_u64().unwrap();
        assert!(blocks >= 1 && blocks <= r["blocks"].as_u64().unwrap(), "{r}");
        assert!(r["max_txs_per_block"].as_u64().unwrap() * blocks >= 60, "{r}");
        for bad in [
            BenchSubmitOpts { txs: 0, ..opts },
            BenchSubmitOpts { clients: 0, ..opts },
            BenchSubmitOpts { batch: 0, ..opts },
        ] {
            assert!(run(&bad).is_err());
        }
    }
}

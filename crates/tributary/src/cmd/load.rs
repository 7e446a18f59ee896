//! The load generator behind `tributary bench load` (and, later, `bench cluster`): pre-signed
//! transfers submitted in batches through `submit-transactions` to one or several nodes, this
//! project's or the reference Vapor node (`vapord`), with inclusion and finality followed block by
//! block through `get-block`.
//!
//! A run: (a) a node's wallet pays one output to a fresh bench key (spending a wallet account, or
//! minting with the federation key's `cross_chain_in` on a Vapor solonet); fan-out transactions split
//! it into one independent coin per transfer, level by level, each level included before the next;
//! (b) every transfer (1 input, 1 output back to the bench key, a fixed fee) is signed before the
//! clock starts; (c) `clients` threads submit them `batch` at a time, paced at `rate` tx/s when it
//! is set, round-robin over the API URLs; (d) a follower polls `get-block-count`/`get-block` on the
//! first URL and notes when each transfer's block was seen and when it was `final_depth` blocks
//! deep. Reported: sustained tx/s over a fixed window after a warm-up, latency percentiles from
//! submission to inclusion and to finality, and how many transfers were included (each exactly once).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use crypto::chainkd::XPrv;
use node::devnet::{Coin, coins_of, sign_transfer};
use rand_core::{OsRng, RngCore as _};
use rayon::prelude::*;
use serde_json::{Value, json};
use types::Transaction;
use types::codec::Limits;
use types::profile::Profile;

use super::wallet::{ApiClient, Connection, PASSWORD_ENV, data_of};
use crate::cli::{BenchLoadOpts, LoadTarget};

/// BTM's asset ID.
const BTM: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
/// Fee per load transfer (1 input, 1 output), in neu: 0.01 BTM, enough gas on both nodes.
pub(crate) const TRANSFER_FEE: u64 = 1_000_000;
/// What each load coin holds: its transfer's fee and as much again to move.
pub(crate) const LEAF_AMOUNT: u64 = 2 * TRANSFER_FEE;
/// Fee of the wallet-built funding transaction: 0.2 BTM, as the reference's fixtures paid.
const FUNDING_FEE: u64 = 20_000_000;
/// First pause before resending a refused batch (a full pool refuses too, until a block empties
/// it); it doubles while the refusals go on, up to [`MAX_RETRY_PAUSE`].
const RETRY_PAUSE: Duration = Duration::from_millis(50);
/// The longest pause between resends. Resending a refused batch every 50 ms kept a saturated
/// node decoding batches it could not take (eight clients' worth), in competition with the
/// blocks that would have made room.
const MAX_RETRY_PAUSE: Duration = Duration::from_millis(400);

/// Which node's API shapes to expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// This project's node.
    Tributary,
    /// The reference Vapor node.
    Reference,
}

/// Where the bench key's first coin comes from: the first URL's wallet builds and signs it.
#[derive(Debug, Clone)]
pub(crate) enum Funding {
    /// Spend from a wallet account (`spend_account`), signed with its key's password.
    Account {
        /// The account's alias.
        alias: String,
        /// Its key's password.
        password: String,
    },
    /// Mint with the federation key (`cross_chain_in`, a Vapor solonet whose wallet holds the
    /// federation key), signed with that key's password.
    CrossChainIn {
        /// The federation key's password.
        password: String,
    },
}

/// What to run.
#[derive(Debug, Clone)]
pub(crate) struct LoadConfig {
    /// API URLs; clients are spread over them, the first one funds and is followed.
    pub(crate) urls: Vec<String>,
    /// Access token (`id:secret`) sent to every URL, if any.
    pub(crate) token: Option<String>,
    /// The node's API flavour.
    pub(crate) target: Target,
    /// Funding of the bench key.
    pub(crate) funding: Funding,
    /// Transfers.
    pub(crate) txs: usize,
    /// Transfers per `submit-transactions` request.
    pub(crate) batch: usize,
    /// Concurrent clients.
    pub(crate) clients: usize,
    /// Target submission rate in tx/s (0: as fast as the node takes them).
    pub(crate) rate: f64,
    /// Outputs per fan-out transaction.
    pub(crate) fanout: usize,
    /// Blocks on top of a transfer's block before it counts as final (0: final when included).
    pub(crate) final_depth: u64,
    /// Time after the first submission not counted in the sustained rate.
    pub(crate) warmup: Duration,
    /// Length of the sustained-rate window.
    pub(crate) window: Duration,
    /// How often the follower asks for new blocks.
    pub(crate) poll: Duration,
    /// How long to wait for inclusions after the last submission before giving up.
    pub(crate) drain: Duration,
    /// Processes (the nodes under load) whose CPU time over the measured run is reported next to
    /// the generator's own.
    pub(crate) watch: Vec<u32>,
}

// ---------------------------------------------------------------------------------------------
// Pure pieces.

/// The nearest-rank percentile `per_mille`/1000 of sorted values (0 for none).
pub(crate) fn percentile(sorted: &[f64], per_mille: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (per_mille * sorted.len()).div_ceil(1000);
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The fee of a fan-out transaction with `outputs` outputs: the transfer fee plus 0.0005 BTM per
/// output (its bytes cost storage gas on Vapor: ≈ 70 gas each at 200 neu per gas).
pub(crate) fn fanout_fee(outputs: usize) -> u64 {
    TRANSFER_FEE + 50_000 * outputs as u64
}

/// How `leaves` coins of `leaf` neu each come out of one: `levels[d][j]` lists the output amounts
/// of the `j`-th fan-out transaction at depth `d`, which spends the `j`-th coin depth `d - 1`
/// created (outputs taken in order, transaction after transaction); depth 0 spends the funding coin
/// of [`FanoutPlan::root`] neu. The last depth's outputs are the leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FanoutPlan {
    /// Output amounts per transaction per depth, root first.
    pub(crate) levels: Vec<Vec<Vec<u64>>>,
    /// What the funding coin must hold.
    pub(crate) root: u64,
}

/// Plans the fan-out of `leaves` coins with at most `fanout` (≥ 2) outputs per transaction.
pub(crate) fn plan_fanout(leaves: usize, fanout: usize, leaf: u64) -> Result<FanoutPlan> {
    if leaves == 0 || fanout < 2 {
        bail!("a fan-out needs at least one leaf and two outputs per transaction");
    }
    // Bottom-up: the amounts one depth needs are the inputs of the depth above.
    let mut needs: Vec<u64> = vec![leaf; leaves];
    let mut levels = Vec::new();
    loop {
        let txs: Vec<Vec<u64>> = needs.chunks(fanout).map(<[u64]>::to_vec).collect();
        let inputs = txs
            .iter()
            .map(|outs| {
                outs.iter()
                    .try_fold(fanout_fee(outs.len()), |a, &b| a.checked_add(b))
                    .ok_or_else(|| anyhow!("the fan-out's amounts overflow"))
            })
            .collect::<Result<Vec<u64>>>()?;
        levels.push(txs);
        if inputs.len() == 1 {
            levels.reverse();
            return Ok(FanoutPlan {
                levels,
                root: inputs[0],
            });
        }
        needs = inputs;
    }
}

/// When the `k`-th batch of `batch` transfers may leave, at `rate` tx/s (0: at once).
pub(crate) fn release_offset(k: usize, batch: usize, rate: f64) -> Duration {
    if rate <= 0.0 || !rate.is_finite() {
        return Duration::ZERO;
    }
    Duration::from_secs_f64((k * batch) as f64 / rate)
}

/// The index ranges of the batches of `n` transfers, `batch` each (the last may be shorter).
pub(crate) fn batches(n: usize, batch: usize) -> Vec<std::ops::Range<usize>> {
    if batch == 0 {
        return Vec::new();
    }
    (0..n.div_ceil(batch))
        .map(|k| k * batch..((k + 1) * batch).min(n))
        .collect()
}

/// Consecutive index ranges over items of `sizes` bytes, each at most `max_count` items and, unless
/// one item alone is larger, at most `max_bytes` bytes (requests stay under the API's body limit).
pub(crate) fn batches_by_size(
    sizes: &[usize],
    max_count: usize,
    max_bytes: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0usize);
    for (i, &size) in sizes.iter().enumerate() {
        if i > start && (i - start >= max_count || bytes + size > max_bytes) {
            out.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

/// Events per second in `[from, from + window)` given event times (seconds from the start); `None`
/// when the window is empty or ends after the last event (the run did not cover it).
pub(crate) fn sustained_rate(times: &[f64], from: f64, window: f64) -> Option<f64> {
    let last = times.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if window <= 0.0 || last < from + window {
        return None;
    }
    let n = times.iter().filter(|&&t| t >= from && t < from + window).count();
    Some(n as f64 / window)
}

fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

fn ms(d: Duration) -> f64 {
    round3(d.as_secs_f64() * 1e3)
}

/// The 1-minute load average (0 when unknown).
pub(crate) fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|x| x.parse().ok()))
        .unwrap_or(0.0)
}

/// CPU time (user plus system) a process has used, in clock ticks, from the text of its
/// `/proc/<pid>/stat`; `None` when the text is not of that shape.
pub(crate) fn cpu_ticks_of_stat(stat: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    // `rest` starts at field 3 (state); utime and stime are fields 14 and 15.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// CPU ticks of `pid` (`None`: this process), or `None` where `/proc` cannot tell (another OS, or
/// the process is gone).
fn cpu_ticks(pid: Option<u32>) -> Option<u64> {
    let path = match pid {
        Some(p) => format!("/proc/{p}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    cpu_ticks_of_stat(&std::fs::read_to_string(path).ok()?)
}

/// Linux reports `/proc` CPU times in units of `USER_HZ`, which is 100 on every architecture the
/// kernel supports for user space.
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU use of the generator and the watched processes between two readings: cores (CPU seconds
/// per second of the run) and microseconds of CPU per final transfer.
fn cpu_report(before: &[Option<u64>], after: &[Option<u64>], seconds: f64, finals: usize) -> Value {
    let per = |b: &Option<u64>, a: &Option<u64>| -> Value {
        match (b, a) {
            (Some(b), Some(a)) if a >= b && seconds > 0.0 => {
                #[allow(clippy::cast_precision_loss)]
                let cpu = (a - b) as f64 / TICKS_PER_SECOND;
                #[allow(clippy::cast_precision_loss)]
                let per_tx = if finals > 0 {
                    json!(round3(cpu * 1e6 / finals as f64))
                } else {
                    json!(null)
                };
                json!({ "cores": round3(cpu / seconds), "cpu_us_per_final_tx": per_tx })
            }
            _ => json!(null),
        }
    };
    let all: Vec<Value> = before.iter().zip(after).map(|(b, a)| per(b, a)).collect();
    let total: f64 = all.iter().filter_map(|v| v["cores"].as_f64()).sum();
    json!({
        "seconds": round3(seconds),
        "generator": all.first().cloned().unwrap_or(Value::Null),
        "nodes": all.get(1..).map(<[Value]>::to_vec).unwrap_or_default(),
        "total_cores": round3(total),
    })
}

// ---------------------------------------------------------------------------------------------
// Talking to a node.

/// The IDs of the transactions in block `height` (strict: 64 lowercase hex characters each), or
/// `None` when the node has no block there yet.
fn block_tx_ids(conn: &mut Connection, height: u64, target: Target) -> Result<Option<Vec<String>>> {
    let endpoint = match target {
        // The IDs alone: `get-block` renders every transaction as JSON, which cost the polled
        // validator (and this process, parsing it) more than the block's validation, and
        // decoding `get-raw-block` here hashed every transaction again (most of this process's
        // CPU per transfer).
        Target::Tributary => "get-block-tx-ids",
        Target::Reference => "get-block",
    };
    let response = conn.post(endpoint, json!({ "block_height": height }).to_string().as_bytes())?;
    let data = match data_of(endpoint, &response) {
        Ok(d) => d,
        // Both nodes refuse a height past the tip (ours with 404, the reference with a failure).
        Err(_) if response.status != 200 || response.body.windows(6).any(|w| w == b"\"fail\"") => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let strict = |id: &str| -> Result<String> {
        if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!("{endpoint} {height}: bad transaction id {id:?}");
        }
        Ok(id.to_ascii_lowercase())
    };
    if target == Target::Tributary {
        let ids = data["tx_ids"]
            .as_array()
            .ok_or_else(|| anyhow!("get-block-tx-ids {height}: no tx_ids list"))?;
        return ids
            .iter()
            .map(|id| {
                id.as_str()
                    .ok_or_else(|| anyhow!("get-block-tx-ids {height}: an id is not a string"))
                    .and_then(strict)
            })
            .collect::<Result<Vec<_>>>()
            .map(Some);
    }
    let txs = data["transactions"]
        .as_array()
        .ok_or_else(|| anyhow!("get-block {height}: no transactions list"))?;
    txs.iter()
        .map(|t| {
            t["id"]
                .as_str()
                .ok_or_else(|| anyhow!("get-block {height}: a transaction without an id"))
                .and_then(strict)
        })
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

fn block_count(conn: &mut Connection) -> Result<u64> {
    let response = conn.post("get-block-count", b"{}")?;
    data_of("get-block-count", &response)?["block_count"]
        .as_u64()
        .ok_or_else(|| anyhow!("get-block-count: no block_count"))
}

/// Submits `raws` (hex) in one `submit-transactions` request; the IDs the node answered, which must
/// be `ids` in order.
/// What a node answered to a batch it did not take whole.
#[derive(Debug)]
struct Refusal {
    /// How many of the batch's first transactions it admitted before refusing one (0 when the
    /// answer does not say: the reference's does not).
    admitted: usize,
    /// Whether the connection stays open.
    keep_alive: bool,
    reason: anyhow::Error,
}

/// Submits a batch: `Ok(Ok(()))` when the node took all of it, `Ok(Err(_))` when it refused one
/// (a full pool, say), `Err(_)` when the connection or the answer's shape failed.
fn submit_batch(conn: &mut Connection, raws: &[&str], ids: &[&str]) -> Result<Result<(), Refusal>> {
    let body = json!({ "raw_transactions": raws }).to_string();
    let response = conn.post("submit-transactions", body.as_bytes())?;
    let data = match data_of("submit-transactions", &response) {
        Ok(data) => data,
        Err(reason) => {
            return Ok(Err(Refusal {
                admitted: admitted_before_refusal(&response.body).min(raws.len()),
                keep_alive: response.keep_alive,
                reason,
            }));
        }
    };
    let got = data["tx_id"]
        .as_array()
        .ok_or_else(|| anyhow!("submit-transactions: no tx_id list in {data}"))?;
    if got.len() != ids.len()
        || got
            .iter()
            .zip(ids)
            .any(|(g, want)| !g.as_str().is_some_and(|g| g.eq_ignore_ascii_case(want)))
    {
        bail!("submit-transactions answered other IDs than the transactions sent: {data}");
    }
    Ok(Ok(()))
}

/// How many transactions a refused `submit-transactions` admitted: our node's detail starts with
/// the refused one's place, `raw_transactions[i]`, and everything before it was admitted.
fn admitted_before_refusal(body: &[u8]) -> usize {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return 0;
    };
    v["error_detail"]
        .as_str()
        .and_then(|d| d.strip_prefix("raw_transactions["))
        .and_then(|d| d.split_once(']'))
        .and_then(|(i, _)| i.parse().ok())
        .unwrap_or(0)
}

/// Polls `first` until every ID in `ids` is in a block; returns the heights seen (from `from`).
fn wait_included(
    client: &ApiClient,
    target: Target,
    ids: &[String],
    from: u64,
    timeout: Duration,
) -> Result<u64> {
    let mut want: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut conn = client.connect()?;
    let mut next = from;
    let start = Instant::now();
    while !want.is_empty() {
        if start.elapsed() > timeout {
            bail!(
                "{} funding transactions not included after {timeout:?}",
                want.len()
            );
        }
        match block_tx_ids(&mut conn, next, target)? {
            Some(txs) => {
                for t in &txs {
                    want.remove(t.as_str());
                }
                next += 1;
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    Ok(next)
}

/// The first URL's wallet builds and signs the funding transaction paying `amount` to `program`.
fn fund(client: &ApiClient, funding: &Funding, program: &[u8], amount: u64) -> Result<Transaction> {
    let pay = json!({"type": "control_program", "control_program": hex::encode(program), "asset_id": BTM, "amount": amount});
    let (source, password) = match funding {
        Funding::Account { alias, password } => (
            json!({"type": "spend_account", "account_alias": alias, "asset_id": BTM, "amount": amount + FUNDING_FEE}),
            password,
        ),
        Funding::CrossChainIn { password } => {
            // A fresh source ID each time: the federation mints each cross-chain claim once.
            let mut id = [0u8; 32];
            OsRng.fill_bytes(&mut id);
            (
                json!({"type": "cross_chain_in", "source_id": hex::encode(id), "source_pos": 0, "vm_version": 1, "asset_id": BTM, "amount": amount + FUNDING_FEE}),
                password,
            )
        }
    };
    let template = client
        .call(
            "build-transaction",
            &json!({"base_transaction": null, "actions": [source, pay], "ttl": 0, "time_range": 0}),
        )
        .context("the funding transaction")?;
    let signed = client.call(
        "sign-transaction",
        &json!({"password": password, "transaction": template}),
    )?;
    if signed["sign_complete"] != true {
        bail!("sign-transaction did not complete the funding transaction (wrong password or key?)");
    }
    let raw = signed["transaction"]["raw_transaction"]
        .as_str()
        .ok_or_else(|| anyhow!("sign-transaction: no raw_transaction"))?;
    let bytes = hex::decode(raw).context("the funding transaction is not hex")?;
    Transaction::decode(&bytes, Profile::Side, &Limits::default())
        .map_err(|e| anyhow!("the funding transaction does not decode: {e}"))
}

/// Signs the fan-out of `plan` and submits it depth by depth, each depth included before the
/// next; returns the leaf coins in order.
fn fan_out(
    client: &ApiClient,
    target: Target,
    xprv: &XPrv,
    plan: &FanoutPlan,
    root: Coin,
    from: u64,
) -> Result<Vec<Coin>> {
    let program = root.control_program.clone();
    let mut coins = vec![root];
    let mut height = from;
    for (depth, level) in plan.levels.iter().enumerate() {
        if level.len() > coins.len() {
            bail!(
                "fan-out depth {depth}: {} transactions for {} coins",
                level.len(),
                coins.len()
            );
        }
        let signed: Vec<Transaction> = level
            .par_iter()
            .zip(coins.par_iter())
            .map(|(outs, coin)| {
                let outputs: Vec<(Vec<u8>, u64)> = outs.iter().map(|&a| (program.clone(), a)).collect();
                sign_transfer(xprv, std::slice::from_ref(coin), &outputs)
            })
            .collect::<Result<_, node::NodeError>>()?;
        let raws: Vec<String> = signed.iter().map(|t| hex::encode(t.encode())).collect();
        let ids: Vec<String> = signed.iter().map(|t| t.id().to_hex()).collect();
        let mut conn = client.connect()?;
        let sizes: Vec<usize> = raws.iter().map(|r| r.len() + 3).collect();
        for range in batches_by_size(&sizes, 200, 1 << 20) {
            let r: Vec<&str> = raws[range.clone()].iter().map(String::as_str).collect();
            let i: Vec<&str> = ids[range].iter().map(String::as_str).collect();
            submit_batch(&mut conn, &r, &i)
                .and_then(|answer| answer.map_err(|refusal| refusal.reason))
                .with_context(|| format!("fan-out depth {depth}"))?;
        }
        height = wait_included(client, target, &ids, height, Duration::from_secs(120))?;
        coins = signed.iter().flat_map(|t| coins_of(t, &program)).collect();
    }
    Ok(coins)
}

// ---------------------------------------------------------------------------------------------
// The run.

/// `tributary bench load`: checks the options and runs the load.
pub(crate) fn run_cli(opts: &BenchLoadOpts) -> Result<Value> {
    let password = match &opts.password_file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the password file {}", path.display()))?
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
        None => std::env::var(PASSWORD_ENV).map_err(|_| {
            anyhow!("the funding key's password is needed: --password-file FILE or {PASSWORD_ENV}")
        })?,
    };
    if password.is_empty() {
        bail!("the password is empty");
    }
    if !(2..=1_000).contains(&opts.fanout) {
        bail!("--fanout must be within 2..=1000");
    }
    if opts.batch > 10_000 {
        bail!("--batch is at most 10000 (the most one submit-transactions request may carry)");
    }
    let secs = |name: &str, v: f64| -> Result<Duration> {
        if (0.0..=86_400.0).contains(&v) {
            Ok(Duration::from_secs_f64(v))
        } else {
            bail!("--{name} must be within 0..=86400 seconds")
        }
    };
    let cfg = LoadConfig {
        urls: opts.api.clone(),
        token: opts.token.clone(),
        target: match opts.target {
            LoadTarget::Tributary => Target::Tributary,
            LoadTarget::Reference => Target::Reference,
        },
        funding: match opts.target {
            LoadTarget::Tributary => Funding::Account {
                alias: opts.account.clone(),
                password,
            },
            LoadTarget::Reference => Funding::CrossChainIn { password },
        },
        txs: opts.txs,
        batch: opts.batch,
        clients: opts.clients,
        rate: opts.rate,
        fanout: opts.fanout,
        final_depth: opts.final_depth,
        warmup: secs("warmup-secs", opts.warmup_secs)?,
        window: secs("window-secs", opts.window_secs)?,
        poll: Duration::from_millis(opts.poll_ms.clamp(1, 10_000)),
        drain: Duration::from_secs(opts.drain_secs.max(1)),
        watch: Vec::new(),
    };
    run(&cfg)
}

/// One pre-signed transfer.
struct Signed {
    id: String,
    raw: String,
}

/// Funds, fans out, signs and runs the load; returns the report.
pub(crate) fn run(cfg: &LoadConfig) -> Result<Value> {
    if cfg.urls.is_empty() || cfg.txs == 0 || cfg.batch == 0 || cfg.clients == 0 {
        bail!("the load needs at least one URL, transfer, client and a positive batch");
    }
    if cfg.txs > 2_000_000 {
        bail!("at most 2000000 transfers");
    }
    if !(cfg.rate >= 0.0 && cfg.rate.is_finite()) {
        bail!("the rate must be a non-negative number");
    }
    let clients: Vec<ApiClient> = cfg
        .urls
        .iter()
        .map(|u| ApiClient::new(u, cfg.token.clone()))
        .collect::<Result<_>>()?;
    let first = &clients[0];
    let load_before = load_average();
    let setup_start = Instant::now();

    let xprv = XPrv::generate(&mut OsRng);
    let program = node::genesis::p2wpkh_program_of(&xprv.xpub());
    let plan = plan_fanout(cfg.txs, cfg.fanout, LEAF_AMOUNT)?;
    let start_height = {
        let mut c = first.connect()?;
        block_count(&mut c)?
    };
    let funding = fund(first, &cfg.funding, &program, plan.root)?;
    let funding_id = funding.id().to_hex();
    {
        let mut c = first.connect()?;
        let raw = hex::encode(funding.encode());
        submit_batch(&mut c, &[raw.as_str()], &[funding_id.as_str()])
            .and_then(|answer| answer.map_err(|refusal| refusal.reason))
            .context("the funding transaction")?;
    }
    let after_funding = wait_included(
        first,
        cfg.target,
        std::slice::from_ref(&funding_id),
        start_height,
        Duration::from_secs(120),
    )?;
    let root = coins_of(&funding, &program)
        .into_iter()
        .find(|c| c.amount == plan.root)
        .ok_or_else(|| {
            anyhow!(
                "the funding transaction does not pay the bench key {} neu",
                plan.root
            )
        })?;
    let coins = fan_out(first, cfg.target, &xprv, &plan, root, after_funding)?;
    if coins.len() != cfg.txs {
        bail!("the fan-out made {} coins, {} wanted", coins.len(), cfg.txs);
    }
    let setup_seconds = setup_start.elapsed().as_secs_f64();

    let sign_start = Instant::now();
    let signed: Vec<Signed> = coins
        .par_iter()
        .map(|c| {
            let tx = sign_transfer(
                &xprv,
                std::slice::from_ref(c),
                &[(program.clone(), c.amount - TRANSFER_FEE)],
            )?;
            Ok(Signed {
                id: tx.id().to_hex(),
                raw: hex::encode(tx.encode()),
            })
        })
        .collect::<Result<_, node::NodeError>>()?;
    let sign_seconds = sign_start.elapsed().as_secs_f64();
    let from_height = {
        let mut c = first.connect()?;
        block_count(&mut c)? + 1
    };
    let mut report = measure(cfg, &clients, &signed, from_height)?;
    report["setup_seconds"] = json!(round3(setup_seconds));
    report["sign_seconds"] = json!(round3(sign_seconds));
    report["load_average_before"] = json!(load_before);
    report["fanout_depths"] = json!(plan.levels.len());
    Ok(report)
}

/// What the follower saw.
#[derive(Default)]
struct Seen {
    /// Per transfer: when its block was seen, and at which height.
    included: Vec<Option<(Instant, u64)>>,
    /// How many times each transfer appeared in a block (must be 0 or 1).
    appearances: Vec<u32>,
    /// When each height was first seen, from the first followed height.
    height_seen: Vec<Instant>,
    /// Load transfers per block that held any.
    per_block: Vec<usize>,
    included_count: usize,
}

fn measure(cfg: &LoadConfig, clients: &[ApiClient], signed: &[Signed], from_height: u64) -> Result<Value> {
    let n = signed.len();
    let index: HashMap<&str, usize> = signed
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    let ranges = batches(n, cfg.batch);
    let next = AtomicUsize::new(0);
    let submitted_at: Mutex<Vec<Option<Instant>>> = Mutex::new(vec![None; n]);
    let refused: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let retries = AtomicUsize::new(0);
    let seen = Arc::new(Mutex::new(Seen {
        included: vec![None; n],
        appearances: vec![0; n],
        ..Seen::default()
    }));
    let load_during = Mutex::new(Vec::new());
    let read_cpu = || -> Vec<Option<u64>> {
        std::iter::once(cpu_ticks(None))
            .chain(cfg.watch.iter().map(|&p| cpu_ticks(Some(p))))
            .collect()
    };
    let cpu_before = read_cpu();
    let start = Instant::now();
    let mut submit_seconds = 0.0;

    std::thread::scope(|scope| -> Result<()> {
        let follower = scope.spawn(|| follow(cfg, &clients[0], &index, &seen, from_height, &load_during));
        let workers: Vec<_> = (0..cfg.clients)
            .map(|w| {
                let client = &clients[w % clients.len()];
                let (ranges, next, submitted_at, refused, retries, seen) =
                    (&ranges, &next, &submitted_at, &refused, &retries, &seen);
                scope.spawn(move || -> Result<()> {
                    let mut conn = client.connect()?;
                    loop {
                        let k = next.fetch_add(1, Ordering::SeqCst);
                        let Some(range) = ranges.get(k) else { return Ok(()) };
                        let at = start + release_offset(k, cfg.batch, cfg.rate);
                        if let Some(wait) = at.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                        let mut failing_since: Option<Instant> = None;
                        let mut pause = RETRY_PAUSE;
                        let mut todo: Vec<usize> = range.clone().collect();
                        loop {
                            // A retry leaves out what is already on chain (the reference refuses
                            // a transaction whose input a block has spent).
                            {
                                let s = seen.lock().map_err(|_| anyhow!("the follower panicked"))?;
                                todo.retain(|&i| s.included[i].is_none());
                            }
                            if todo.is_empty() {
                                break;
                            }
                            let raws: Vec<&str> = todo.iter().map(|&i| signed[i].raw.as_str()).collect();
                            let ids: Vec<&str> = todo.iter().map(|&i| signed[i].id.as_str()).collect();
                            let sent = Instant::now();
                            let answer = submit_batch(&mut conn, &raws, &ids);
                            let admitted = match &answer {
                                Ok(Ok(())) => todo.len(),
                                Ok(Err(refusal)) => refusal.admitted,
                                Err(_) => 0,
                            };
                            if admitted > 0 {
                                if let Ok(mut s) = submitted_at.lock() {
                                    for &i in &todo[..admitted] {
                                        s[i].get_or_insert(sent);
                                    }
                                }
                                // The admitted part is not sent again; progress restarts the clock.
                                todo.drain(..admitted);
                                failing_since = None;
                                pause = RETRY_PAUSE;
                            }
                            let (reason, reconnect) = match answer {
                                Ok(Ok(())) => break,
                                Ok(Err(refusal)) => (refusal.reason, !refusal.keep_alive),
                                Err(e) => (e, true),
                            };
                            retries.fetch_add(1, Ordering::Relaxed);
                            // Refused for longer than the drain time: give the batch up.
                            if failing_since.get_or_insert(sent).elapsed() > cfg.drain {
                                if let Ok(mut r) = refused.lock() {
                                    r.push(format!("batch {k}: {reason:#}"));
                                }
                                break;
                            }
                            // A full pool or a dropped connection: back off, longer each time.
                            std::thread::sleep(pause);
                            pause = (pause * 2).min(MAX_RETRY_PAUSE);
                            if reconnect {
                                conn = client.connect()?;
                            }
                        }
                    }
                })
            })
            .collect();
        let mut first_error = None;
        for w in workers {
            match w.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                Err(_) => {
                    first_error.get_or_insert(anyhow!("a client panicked"));
                }
            }
        }
        submit_seconds = start.elapsed().as_secs_f64();
        // The follower ends once everything is in or the drain time passes.
        let follow_result = follower.join().map_err(|_| anyhow!("the follower panicked"))?;
        if let Some(e) = first_error {
            return Err(e);
        }
        follow_result
    })?;
    let cpu_after = read_cpu();
    let run_seconds = start.elapsed().as_secs_f64();

    let seen = seen.lock().map_err(|_| anyhow!("the follower panicked"))?;
    let submitted_at = submitted_at.lock().map_err(|_| anyhow!("a client panicked"))?;
    let final_at = |i: usize| -> Option<Instant> {
        let (_, h) = seen.included[i]?;
        let idx = usize::try_from(h + cfg.final_depth - from_height).ok()?;
        seen.height_seen.get(idx).copied()
    };
    let mut inclusion_ms = Vec::new();
    let mut final_ms = Vec::new();
    let mut final_times = Vec::new();
    for i in 0..n {
        let Some(sent) = submitted_at[i] else { continue };
        if let Some((at, _)) = seen.included[i] {
            inclusion_ms.push(ms(at.saturating_duration_since(sent)));
        }
        if let Some(at) = final_at(i) {
            final_ms.push(ms(at.saturating_duration_since(sent)));
            final_times.push(at.duration_since(start).as_secs_f64());
        }
    }
    inclusion_ms.sort_by(f64::total_cmp);
    final_ms.sort_by(f64::total_cmp);
    let duplicates = seen.appearances.iter().filter(|&&a| a > 1).count();
    let last_final = final_times.iter().copied().fold(0.0, f64::max);
    let warmup = cfg.warmup.as_secs_f64();
    let window = cfg.window.as_secs_f64();
    let sustained = sustained_rate(&final_times, warmup, window);
    let refused = refused.lock().map_err(|_| anyhow!("a client panicked"))?;
    let load_during = load_during.lock().map_err(|_| anyhow!("the follower panicked"))?;
    let load_mean = if load_during.is_empty() {
        load_average()
    } else {
        load_during.iter().sum::<f64>() / load_during.len() as f64
    };
    Ok(json!({
        "target": match cfg.target { Target::Tributary => "tributary", Target::Reference => "reference" },
        "urls": cfg.urls,
        "txs": n,
        "batch": cfg.batch,
        "clients": cfg.clients,
        "rate_target": cfg.rate,
        "final_depth": cfg.final_depth,
        "submit_seconds": round3(submit_seconds),
        "submit_tx_per_s": (n as f64 / submit_seconds.max(1e-9)).round(),
        "included": seen.included_count,
        "final": final_times.len(),
        "included_twice": duplicates,
        "refused_batches": refused.len(),
        "first_refusal": refused.first(),
        "retries": retries.load(Ordering::Relaxed),
        "window": { "from_s": warmup, "seconds": window, "covered": sustained.is_some() },
        "sustained_final_tx_per_s": sustained.map(f64::round),
        "overall_final_tx_per_s": if last_final > 0.0 { (final_times.len() as f64 / last_final).round() } else { 0.0 },
        "latency_inclusion_ms": {
            "p50": percentile(&inclusion_ms, 500), "p99": percentile(&inclusion_ms, 990),
            "max": inclusion_ms.last().copied().unwrap_or(0.0),
        },
        "latency_final_ms": {
            "p50": percentile(&final_ms, 500), "p99": percentile(&final_ms, 990),
            "max": final_ms.last().copied().unwrap_or(0.0),
        },
        "blocks_with_load": seen.per_block.len(),
        "max_load_txs_per_block": seen.per_block.iter().max().copied().unwrap_or(0),
        "blocks": seen.height_seen.len(),
        "load_average_during": round3(load_mean),
        // From the first submission until everything was final (or the follower gave up).
        "cpu": cpu_report(&cpu_before, &cpu_after, run_seconds, final_times.len()),
    }))
}

/// Follows blocks from `from_height` until every transfer is final (or nothing new arrives for
/// `cfg.drain` after the clients are done).
fn follow(
    cfg: &LoadConfig,
    client: &ApiClient,
    index: &HashMap<&str, usize>,
    seen: &Mutex<Seen>,
    from_height: u64,
    load: &Mutex<Vec<f64>>,
) -> Result<()> {
    let n = index.len();
    let mut conn = client.connect()?;
    let mut next = from_height;
    let mut last_progress = Instant::now();
    let mut last_load = Instant::now();
    let mut highest_included = 0u64;
    loop {
        if last_load.elapsed() >= Duration::from_secs(5) {
            if let Ok(mut l) = load.lock() {
                l.push(load_average());
            }
            last_load = Instant::now();
        }
        let everything_in = seen.lock().map(|s| s.included_count == n).unwrap_or(true);
        if everything_in && next > highest_included + cfg.final_depth {
            return Ok(());
        }
        if last_progress.elapsed() > cfg.drain {
            // Nothing new for a long time: report what arrived.
            return Ok(());
        }
        let tip = block_count(&mut conn)?;
        if tip < next {
            std::thread::sleep(cfg.poll);
            continue;
        }
        while next <= tip {
            let Some(ids) = block_tx_ids(&mut conn, next, cfg.target)? else {
                break;
            };
            let now = Instant::now();
            let mut s = seen.lock().map_err(|_| anyhow!("a client panicked"))?;
            s.height_seen.push(now);
            let mut in_block = 0;
            for id in &ids {
                if let Some(&i) = index.get(id.as_str()) {
                    s.appearances[i] += 1;
                    if s.included[i].is_none() {
                        s.included[i] = Some((now, next));
                        s.included_count += 1;
                        in_block += 1;
                    }
                }
            }
            if in_block > 0 {
                s.per_block.push(in_block);
                highest_included = next;
            }
            next += 1;
            last_progress = now;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_ticks_are_read_past_a_command_name_with_spaces() {
        // Field 14 (utime) is 7, field 15 (stime) 5; the name holds a space and a parenthesis.
        let stat = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 10 0 0 0 7 5 0 0 20 0 3 0";
        assert_eq!(cpu_ticks_of_stat(stat), Some(12));
        assert_eq!(cpu_ticks_of_stat("4242 (x) S 1 2"), None);
        assert_eq!(cpu_ticks_of_stat("no parenthesis"), None);
        // This process's own line reads (Linux CI).
        assert!(cpu_ticks(None).is_some());
    }

    #[test]
    fn cpu_report_divides_by_the_run_and_the_finals() {
        // 200 ticks = 2 s of CPU over a 4 s run with 1,000 finals: 0.5 cores, 2,000 µs each.
        let r = cpu_report(
            &[Some(100), Some(0), None],
            &[Some(300), Some(400), None],
            4.0,
            1_000,
        );
        assert_eq!(r["generator"]["cores"], json!(0.5));
        assert_eq!(r["generator"]["cpu_us_per_final_tx"], json!(2000.0));
        assert_eq!(r["nodes"][0]["cores"], json!(1.0));
        assert_eq!(r["nodes"][1], Value::Null);
        assert_eq!(r["total_cores"], json!(1.5));
    }

    #[test]
    fn a_refusal_says_how_much_of_the_batch_was_admitted() {
        let answer = |detail: &str| {
            json!({"status": "fail", "code": "BTM700", "msg": "pool full", "error_detail": detail})
                .to_string()
                .into_bytes()
        };
        let ours = answer("raw_transactions[37] (ab12): the pool is full; the 37 before it were admitted");
        assert_eq!(admitted_before_refusal(&ours), 37);
        assert_eq!(
            admitted_before_refusal(&answer("raw_transactions[0] (ab12): full")),
            0
        );
        // The reference's detail, or anything else, says nothing: resend it all.
        assert_eq!(admitted_before_refusal(&answer("tx input is not found")), 0);
        assert_eq!(admitted_before_refusal(&answer("raw_transactions[x] (ab12)")), 0);
        assert_eq!(admitted_before_refusal(b"<html>"), 0);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 500), 50.0);
        assert_eq!(percentile(&v, 990), 99.0);
        assert_eq!(percentile(&v, 1000), 100.0);
        assert_eq!(percentile(&[3.0], 990), 3.0);
        assert_eq!(percentile(&[], 500), 0.0);
        let w: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(percentile(&w, 990), 990.0);
    }

    #[test]
    fn batches_cover_every_transfer_once_in_order() {
        for (n, b) in [(10, 3), (9, 3), (1, 5), (0, 4), (1000, 1)] {
            let r = batches(n, b);
            let flat: Vec<usize> = r.iter().flat_map(|r| r.clone()).collect();
            assert_eq!(flat, (0..n).collect::<Vec<_>>(), "{n} {b}");
            assert!(r.iter().all(|r| !r.is_empty() && r.len() <= b));
            assert_eq!(r.len(), n.div_ceil(b));
        }
        assert_eq!(batches(10, 3).last(), Some(&(9..10)));
        assert!(batches(5, 0).is_empty());
    }

    #[test]
    fn size_bounded_batches_respect_both_limits() {
        let sizes = [400, 400, 400, 100, 2000, 10, 10, 10];
        let r = batches_by_size(&sizes, 3, 1000);
        assert_eq!(r, vec![0..2, 2..4, 4..5, 5..8]);
        for b in &r {
            let total: usize = sizes[b.clone()].iter().sum();
            assert!(b.len() <= 3 && (total <= 1000 || b.len() == 1), "{b:?}");
        }
        assert_eq!(batches_by_size(&[1; 7], 3, 1000), vec![0..3, 3..6, 6..7]);
        assert!(batches_by_size(&[], 3, 10).is_empty());
    }

    #[test]
    fn pacing_releases_batches_at_the_rate() {
        assert_eq!(release_offset(0, 100, 1000.0), Duration::ZERO);
        assert_eq!(release_offset(5, 100, 1000.0), Duration::from_millis(500));
        assert_eq!(release_offset(3, 50, 200.0), Duration::from_millis(750));
        // Unpaced.
        assert_eq!(release_offset(99, 100, 0.0), Duration::ZERO);
        assert_eq!(release_offset(99, 100, f64::NAN), Duration::ZERO);
    }

    #[test]
    fn sustained_rate_counts_the_window_only_when_covered() {
        // 10 events per second for 20 s.
        let times: Vec<f64> = (0..200).map(|i| f64::from(i) / 10.0).collect();
        assert_eq!(sustained_rate(&times, 5.0, 10.0), Some(10.0));
        // The window ends after the last event: not covered.
        assert_eq!(sustained_rate(&times, 5.0, 20.0), None);
        assert_eq!(sustained_rate(&times, 0.0, 0.0), None);
        assert_eq!(sustained_rate(&[], 0.0, 1.0), None);
        // Events outside the window do not count.
        let burst = [0.5, 0.6, 3.0, 3.5, 10.0];
        assert_eq!(sustained_rate(&burst, 1.0, 4.0), Some(0.5));
    }

    /// Every plan: each depth spends exactly the coins the depth above made, every transaction
    /// balances (inputs = outputs + its fee), the leaves are `leaves` coins of `leaf`.
    #[test]
    fn fanout_plans_balance_and_make_every_leaf() {
        for (leaves, fanout) in [
            (1, 2),
            (2, 2),
            (7, 2),
            (100, 10),
            (101, 10),
            (60_000, 100),
            (5, 100),
        ] {
            let plan = plan_fanout(leaves, fanout, LEAF_AMOUNT).unwrap();
            assert_eq!(plan.levels[0].len(), 1, "one transaction spends the funding coin");
            let mut inputs = vec![plan.root];
            for level in &plan.levels {
                assert_eq!(level.len(), inputs.len(), "{leaves}/{fanout}");
                for (outs, input) in level.iter().zip(&inputs) {
                    assert!(!outs.is_empty() && outs.len() <= fanout);
                    assert_eq!(outs.iter().sum::<u64>() + fanout_fee(outs.len()), *input);
                }
                inputs = level.iter().flatten().copied().collect();
            }
            assert_eq!(inputs, vec![LEAF_AMOUNT; leaves], "{leaves}/{fanout}");
            let depth = u32::try_from(plan.levels.len()).unwrap();
            assert!(fanout.pow(depth) >= leaves && (depth == 1 || fanout.pow(depth - 1) < leaves));
        }
        assert!(plan_fanout(0, 10, 1).is_err());
        assert!(plan_fanout(10, 1, 1).is_err());
        assert!(plan_fanout(3, 2, u64::MAX / 2).is_err());
    }
}

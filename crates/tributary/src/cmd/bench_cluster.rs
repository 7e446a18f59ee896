//! `tributary bench cluster`: N BBFT validators on this machine, each its own `tributary node`
//! process (configurations from `devnet init`), loaded through all of their APIs by `bench load`'s
//! generator: first as fast as they take it (sustained final tx/s over the window), then paced at
//! half that rate (submit-to-final latency). Under BBFT a block is committed only once final, so a
//! transfer is final when a block holding it is seen.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use serde_json::{Value, json};

use super::load::{Funding, LoadConfig, Target, load_average};

/// Arguments of `bench cluster`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct BenchClusterOpts {
    /// Validators, each its own process.
    #[arg(long, default_value_t = 4)]
    pub(crate) validators: usize,
    /// Transfers of the full-speed run (enough to cover warm-up plus the window).
    #[arg(long, default_value_t = 100_000)]
    pub(crate) txs: usize,
    /// Transfers per `submit-transactions` request.
    #[arg(long, default_value_t = 500)]
    pub(crate) batch: usize,
    /// Concurrent clients, spread over the validators' APIs.
    #[arg(long, default_value_t = 8)]
    pub(crate) clients: usize,
    /// Seconds after the first submission left out of the sustained rate.
    #[arg(long, default_value_t = 5.0)]
    pub(crate) warmup_secs: f64,
    /// Length of the sustained-rate window in seconds.
    #[arg(long, default_value_t = 60.0)]
    pub(crate) window_secs: f64,
    /// Seconds of the half-load run (its transfers: half the measured rate times this).
    #[arg(long, default_value_t = 30.0)]
    pub(crate) half_load_secs: f64,
    /// Keep the cluster's directory (logs, stores) instead of deleting it.
    #[arg(long)]
    pub(crate) keep: bool,
}

/// The validator processes; killed on drop.
struct Cluster {
    dir: PathBuf,
    children: Vec<Child>,
    keep: bool,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `bases` for `devnet init`: its `n` validator APIs and the main chain's, then `n` p2p ports, as
/// one run of free loopback ports (see `ports::AUTO_PORTS` for where and why).
fn free_bases(n: usize) -> Result<(u16, u16)> {
    let n = u16::try_from(n).context("too many validators")?;
    let base = super::ports::free_run(super::ports::AUTO_PORTS, 2 * n + 1)?;
    Ok((base, base + n + 1))
}

fn start_cluster(opts: &BenchClusterOpts) -> Result<(Cluster, Vec<String>, String, String)> {
    if !(2..=16).contains(&opts.validators) {
        bail!("--validators must be 2 to 16");
    }
    let dir = std::env::temp_dir().join(format!(
        "tributary-bench-cluster-{}-{}",
        std::process::id(),
        node::producer::now_ms()
    ));
    let (api_base, p2p_base) = free_bases(opts.validators)?;
    let written = super::devnet::init(opts.validators, &dir, api_base, p2p_base, 500)?;
    let exe = std::env::current_exe().context("cannot find this executable")?;
    let mut cluster = Cluster {
        dir: dir.clone(),
        children: Vec::new(),
        keep: opts.keep,
    };
    let mut urls = Vec::new();
    for (k, v) in written["validators"]
        .as_array()
        .context("devnet init listed no validators")?
        .iter()
        .enumerate()
    {
        let config = v["config"].as_str().context("no config path")?;
        let log = std::fs::File::create(dir.join(format!("node{k}.log")))
            .with_context(|| format!("cannot create node{k}.log"))?;
        let mut child = Command::new(&exe)
            .args(["node", "--config", config])
            // The validators log warnings only, unless TRIBUTARY_BENCH_LOG asks for more.
            .env(
                "RUST_LOG",
                std::env::var("TRIBUTARY_BENCH_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .context("cannot start a validator")?;
        let out = child.stdout.take().context("no stdout")?;
        cluster.children.push(child);
        let mut line = String::new();
        BufReader::new(out)
            .read_line(&mut line)
            .context("a validator printed no startup line")?;
        let startup: Value = serde_json::from_str(&line).with_context(|| {
            format!(
                "validator {k} did not start: {}",
                dir.join(format!("node{k}.log")).display()
            )
        })?;
        urls.push(
            startup["api_url"]
                .as_str()
                .context("no api_url in the startup line")?
                .to_string(),
        );
    }
    let info: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("devnet.json")).context("cannot read devnet.json")?,
    )
    .context("bad devnet.json")?;
    let token = info["access_token"]
        .as_str()
        .context("no access token")?
        .to_string();
    let password = read_password(&dir.join("dev.password"))?;
    Ok((cluster, urls, token, password))
}

fn read_password(path: &Path) -> Result<String> {
    Ok(std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .lines()
        .next()
        .unwrap_or_default()
        .to_string())
}

/// `bench cluster`.
pub(crate) fn run(opts: &BenchClusterOpts) -> Result<Value> {
    let (cluster, urls, token, password) = start_cluster(opts)?;
    let pids: Vec<u32> = cluster.children.iter().map(Child::id).collect();
    let config = |txs: usize, rate: f64, warmup: f64, window: f64| LoadConfig {
        urls: urls.clone(),
        token: Some(token.clone()),
        target: Target::Tributary,
        funding: Funding::Account {
            alias: "dev".into(),
            password: password.clone(),
        },
        txs,
        batch: opts.batch,
        clients: opts.clients,
        rate,
        fanout: 100,
        // Only final blocks are committed under BBFT.
        final_depth: 0,
        warmup: Duration::from_secs_f64(warmup),
        window: Duration::from_secs_f64(window),
        poll: Duration::from_millis(20),
        drain: Duration::from_secs(30),
        watch: pids.clone(),
    };
    let load_before = load_average();
    let full = super::load::run(&config(opts.txs, 0.0, opts.warmup_secs, opts.window_secs))?;
    let rate = full["sustained_final_tx_per_s"]
        .as_f64()
        .or_else(|| full["overall_final_tx_per_s"].as_f64())
        .unwrap_or(0.0);
    let half = if rate >= 2.0 {
        let half_rate = rate / 2.0;
        // Float to count: the rate is bounded by what a run can carry.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let txs = ((half_rate * opts.half_load_secs).ceil() as usize).clamp(100, 2_000_000);
        let warmup = (opts.half_load_secs / 6.0).min(5.0);
        super::load::run(&config(txs, half_rate, warmup, opts.half_load_secs - warmup))?
    } else {
        json!(null)
    };
    let dir = cluster.dir.display().to_string();
    drop(cluster);
    Ok(json!({
        "validators": opts.validators,
        "processes": opts.validators,
        "cluster_dir": if opts.keep { json!(dir) } else { json!(null) },
        "load_average_before": load_before,
        "full_speed": full,
        "half_load": half,
    }))
}

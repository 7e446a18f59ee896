//! `tributary bench consensus`: the BBFT benchmark and long seed sweep from the `sim` crate.
//! Prints JSON rows on stdout and the same table in Markdown on stderr.

use anyhow::{Result, bail};
use clap::Args;
use serde_json::{Value, json};
use sim::bench::{BenchConfig, REGIONS, RTT_MS};

/// Options of `tributary bench consensus`.
#[derive(Debug, Clone, Args)]
pub(crate) struct BenchConsensusOpts {
    /// Validator counts to measure (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "4,10,31,100")]
    pub(crate) sizes: Vec<usize>,
    /// Heights per measured run.
    #[arg(long, default_value_t = 12)]
    pub(crate) heights: u64,
    /// CPU cost of one pairing check (a signature or same-message aggregate verification the
    /// core reports in `take_verify_work`), in microseconds.
    #[arg(long, default_value_t = 1_000)]
    pub(crate) verify_us: u64,
    /// CPU cost of adding one signature into an aggregate, in microseconds.
    #[arg(long, default_value_t = 2)]
    pub(crate) aggregate_us: u64,
    /// CPU cost of decoding one signature of a received message (decompression and subgroup
    /// check), in microseconds.
    #[arg(long, default_value_t = 170)]
    pub(crate) decode_us: u64,
    /// Five-region super nodes and leader order: `quorum` (by quorum radius, the same order for
    /// PBFT's leaders), `same` (as `quorum`, but PBFT's leaders are BBFT's super nodes first, in
    /// BBFT's order: leaders in the same places) or `latency` (`Topology::from_latency` order,
    /// PBFT by index).
    #[arg(long, default_value = "quorum", value_parser = ["quorum", "same", "latency"])]
    pub(crate) supers: String,
    /// Also sweep every scenario over this many seeds, checking safety and liveness (0: none).
    #[arg(long, default_value_t = 0)]
    pub(crate) seeds: u64,
    /// Block payload per proposal in the main table, in bytes.
    #[arg(long, default_value_t = 256)]
    pub(crate) payload_bytes: usize,
    /// Realistic block payloads in bytes (comma-separated), each measured at the largest of
    /// `--sizes` in both networks for FBFT, BBFT and PBFT (`0`: none). 1,500,000 B is
    /// the 10,000 tx/s target at 0.5 s blocks, 5,000 transactions of ~300 bytes.
    #[arg(long, value_delimiter = ',', default_value = "262144,1500000")]
    pub(crate) block_payloads: Vec<usize>,
    /// Every node's uplink in megabits per second; its messages are serialized on it one after
    /// another (0: unlimited bandwidth).
    #[arg(long, default_value_t = 1_000)]
    pub(crate) uplink_mbps: u64,
    /// Run BBFT's commit phase (one-round finality, `docs/bbft.md` §3a): more messages per height,
    /// finality without waiting for the next round. Off by default: the message counts are then
    /// those of the seed's formula.
    #[arg(long)]
    pub(crate) commit_phase: bool,
}

/// Runs the benchmark.
pub(crate) fn consensus(opts: &BenchConsensusOpts) -> Result<Value> {
    if opts.heights < 5 || opts.sizes.iter().any(|&n| n == 0 || n > 1024) {
        bail!("--heights must be at least 5 and every size in 1..=1024");
    }
    let largest = opts
        .block_payloads
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(opts.payload_bytes);
    if largest > 64 << 20 {
        bail!("payloads are limited to 64 MiB");
    }
    let cfg = BenchConfig {
        sizes: opts.sizes.clone(),
        heights: opts.heights,
        cpu: sim::CpuCost {
            verify_us: opts.verify_us,
            aggregate_us: opts.aggregate_us,
            decode_us: opts.decode_us,
        },
        quorum_order: opts.supers != "latency",
        same_leaders: opts.supers == "same",
        sweep_seeds: opts.seeds,
        payload_bytes: opts.payload_bytes,
        block_payloads: opts.block_payloads.iter().copied().filter(|&b| b > 0).collect(),
        uplink_mbps: opts.uplink_mbps,
        commit_phase: opts.commit_phase,
    };
    // What the charged operations really cost here, printed next to the model's figures.
    let measured = sim::bench::measure_costs();
    eprintln!(
        "measured on this machine (µs): sign {:.0}, verify {:.0}, verify aggregate of 100 {:.0}, \
         aggregate per signature {:.1}, decode signature {:.0}",
        measured.sign_us,
        measured.verify_us,
        measured.verify_aggregate_100_us,
        measured.aggregate_us,
        measured.decode_us
    );
    let report = sim::bench::run(&cfg)?;
    eprintln!("{}", sim::bench::table(&report));
    let rows: Vec<Value> = report
        .rows
        .iter()
        .map(|r| {
            json!({
                "n": r.n, "m": r.m, "protocol": r.protocol, "network": r.network,
                "payload_bytes": r.payload_bytes,
                "formula_messages": r.formula, "messages_per_height": r.messages,
                "deviation_pct": r.deviation_pct, "bytes_per_height": r.bytes,
                "finality_ms": r.finality_ms, "interval_ms": r.interval_ms,
                "pairings_per_height": r.pairings_per_height,
            })
        })
        .collect();
    let sweep: Vec<Value> = report
        .sweep
        .iter()
        .map(|s| {
            json!({
                "scenario": s.scenario, "runs": s.runs, "failures": s.failures,
                "failing_seeds": s.failing_seeds, "heights": s.heights,
            })
        })
        .collect();
    let failures: u64 = report.sweep.iter().map(|s| s.failures).sum();
    if failures > 0 {
        bail!(
            "{failures} sweep runs violated safety or liveness: {}",
            Value::Array(sweep)
        );
    }
    Ok(json!({
        "benchmark": "consensus",
        "formula": "S = M^2 + 3N - 2M",
        "verify_us": opts.verify_us,
        "aggregate_us": opts.aggregate_us,
        "decode_us": opts.decode_us,
        "supers": opts.supers,
        "uplink_mbps": opts.uplink_mbps,
        "payload_bytes": opts.payload_bytes,
        "measured_us": {
            "sign": measured.sign_us, "verify": measured.verify_us,
            "verify_aggregate_100": measured.verify_aggregate_100_us,
            "aggregate_per_signature": measured.aggregate_us, "decode_signature": measured.decode_us,
        },
        "regions": REGIONS,
        "rtt_ms": RTT_MS,
        "rows": rows,
        "sweep": sweep,
    }))
}

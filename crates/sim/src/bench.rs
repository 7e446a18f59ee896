//! The consensus benchmark behind `tributary bench consensus`: messages, bytes and finality per
//! height for N ∈ {4, 10, 31, 100} and M ∈ {1, ⌈√N⌉, N} (M = N is PBFT), under uniform 1 ms
//! links and a five-region latency matrix, plus an optional long seed sweep of every scenario.

use std::fmt::Write as _;
use std::sync::Arc;

use consensus::bbft::Crypto;

use crate::cache::CachedCrypto;
use crate::runner::{CpuCost, Latency, Micros, Network, Sim, SimConfig, SimError, TopologyChoice};
use crate::scenario::{Scenario, sweep};

/// The five regions of the latency matrix, in order.
pub const REGIONS: [&str; 5] = ["us-east", "us-west", "eu-central", "ap-east", "ap-southeast"];

/// Round-trip times between the regions in milliseconds (public cloud inter-region medians,
/// rounded); 2 ms inside a region. One-way delay is half.
pub const RTT_MS: [[u64; 5]; 5] = [
    [2, 70, 90, 200, 220],
    [70, 2, 150, 150, 170],
    [90, 150, 2, 190, 160],
    [200, 150, 190, 2, 35],
    [220, 170, 160, 35, 2],
];

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Validator counts.
    pub sizes: Vec<usize>,
    /// Heights per run (rounds 3..heights are measured).
    pub heights: u64,
    /// CPU charged for signature work (see [`CpuCost`]).
    pub cpu: CpuCost,
    /// Five-region super nodes (and PBFT's leader order) by quorum radius
    /// ([`TopologyChoice::Quorum`]) rather than in `Topology::from_latency` order.
    pub quorum_order: bool,
    /// With `quorum_order`: PBFT's leaders are BBFT's super nodes first, in BBFT's order
    /// ([`TopologyChoice::PbftLeadersOf`]), so both protocols have leaders in the same places.
    pub same_leaders: bool,
    /// Seeds per scenario for the optional sweep (0: no sweep).
    pub sweep_seeds: u64,
    /// Block payload per proposal in the main table, bytes.
    pub payload_bytes: usize,
    /// Larger block payloads, each measured at the largest size of `sizes` in both networks
    /// for M = 1, ⌈√N⌉, N.
    pub block_payloads: Vec<usize>,
    /// Every node's uplink in megabits per second (0: unlimited).
    pub uplink_mbps: u64,
    /// Run the commit phase (`docs/bbft.md` §3a). Off by default: the table compares message
    /// counts with the seed's formula, which counts one T0–T4 exchange per height.
    pub commit_phase: bool,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig {
            sizes: vec![4, 10, 31, 100],
            heights: 12,
            cpu: CpuCost {
                verify_us: 1_000,
                aggregate_us: 2,
                decode_us: 170,
            },
            quorum_order: true,
            same_leaders: false,
            sweep_seeds: 0,
            payload_bytes: 256,
            block_payloads: vec![256 * 1024, 1_500_000],
            uplink_mbps: 1_000,
            commit_phase: false,
        }
    }
}

/// One measured configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchRow {
    /// Validators.
    pub n: usize,
    /// Super nodes.
    pub m: usize,
    /// "FBFT" (M = 1), "BBFT" or "PBFT" (M = N).
    pub protocol: &'static str,
    /// "uniform-1ms" or "five-region".
    pub network: &'static str,
    /// Block payload per proposal, bytes.
    pub payload_bytes: usize,
    /// The seed's S = M² + 3N − 2M.
    pub formula: u64,
    /// Measured messages per height (median over the measured rounds).
    pub messages: u64,
    /// Relative difference to the formula, in percent.
    pub deviation_pct: f64,
    /// Bytes per height (median).
    pub bytes: u64,
    /// Mean time from proposal to finality at the validators, milliseconds.
    pub finality_ms: f64,
    /// Mean time between consecutive finalized heights, milliseconds.
    pub interval_ms: f64,
    /// Pairing checks per finalized height, summed over all validators (what the CPU model
    /// charges `verify_us` for).
    pub pairings_per_height: f64,
}

/// Totals of one scenario in the sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepRow {
    /// Scenario name.
    pub scenario: &'static str,
    /// Runs.
    pub runs: u64,
    /// Runs with a safety or liveness violation.
    pub failures: u64,
    /// First failing seeds (up to ten).
    pub failing_seeds: Vec<u64>,
    /// Heights finalized, summed over runs.
    pub heights: u64,
}

/// The benchmark's results.
#[derive(Debug, Clone, Default)]
pub struct BenchReport {
    /// Performance rows.
    pub rows: Vec<BenchRow>,
    /// Sweep rows (empty without a sweep).
    pub sweep: Vec<SweepRow>,
}

/// The seed's message count per height.
pub fn formula(n: usize, m: usize) -> u64 {
    let (n, m) = (u64::try_from(n).unwrap_or(0), u64::try_from(m).unwrap_or(0));
    (m * m + 3 * n).saturating_sub(2 * m)
}

fn ceil_sqrt(n: usize) -> usize {
    let mut m = 1;
    while m * m < n {
        m += 1;
    }
    m
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// One measured run.
pub fn measure(
    n: usize,
    m: usize,
    five_region: bool,
    payload_bytes: usize,
    cfg: &BenchConfig,
    crypto: &Arc<dyn Crypto>,
) -> Result<BenchRow, SimError> {
    let mut c = SimConfig::new(1, n);
    c.heights = cfg.heights;
    c.max_time_ms = 600_000;
    c.cpu = cfg.cpu;
    c.payload_bytes = payload_bytes;
    c.core.max_payload = c.core.max_payload.max(payload_bytes);
    c.core.round_timeout_ms = 20_000;
    c.core.aggregate_wait_ms = 1_000;
    c.core.commit_phase = cfg.commit_phase;
    c.network = if five_region {
        Network {
            latency: Latency::Regions {
                region_of: (0..5).collect(),
                one_way: RTT_MS
                    .iter()
                    .map(|row| row.iter().map(|&r| r * 500).collect())
                    .collect(),
            },
            jitter: 0,
            loss: 0.0,
            replay: 0.0,
            uplink_mbps: cfg.uplink_mbps,
        }
    } else {
        Network {
            latency: Latency::Uniform(1_000),
            jitter: 0,
            loss: 0.0,
            replay: 0.0,
            uplink_mbps: cfg.uplink_mbps,
        }
    };
    // The same rule for every M in one network: PBFT's leaders are ordered like BBFT's.
    c.topology = match (five_region, cfg.quorum_order) {
        (true, true) if m == n && cfg.same_leaders => TopologyChoice::PbftLeadersOf(ceil_sqrt(n)),
        (true, true) => TopologyChoice::Quorum(m),
        (true, false) if m < n => TopologyChoice::Latency(m),
        _ if m == n => TopologyChoice::Pbft,
        _ => TopologyChoice::Supers(m),
    };
    let r = Sim::new(c, Arc::clone(crypto))?.run();
    let measured: Vec<(u64, u64)> = (3..cfg.heights)
        .filter_map(|round| r.per_round.get(&round).copied())
        .collect();
    let messages = median(measured.iter().map(|x| x.0).collect());
    let bytes = median(measured.iter().map(|x| x.1).collect());
    let s = formula(n, m);
    let times: Vec<Micros> = r.commit_times.values().copied().collect();
    let interval_ms = match (times.get(1), times.last()) {
        (Some(&a), Some(&b)) if times.len() > 2 => (b - a) as f64 / 1000.0 / (times.len() - 2) as f64,
        _ => 0.0,
    };
    Ok(BenchRow {
        n,
        m,
        protocol: if m == n {
            "PBFT"
        } else if m == 1 {
            "FBFT"
        } else {
            "BBFT"
        },
        network: if five_region { "five-region" } else { "uniform-1ms" },
        payload_bytes,
        formula: s,
        messages,
        deviation_pct: if s == 0 {
            0.0
        } else {
            (messages as f64 - s as f64) / s as f64 * 100.0
        },
        bytes,
        finality_ms: r.mean_finality / 1000.0,
        interval_ms,
        pairings_per_height: if r.min_committed == 0 {
            0.0
        } else {
            r.pairing_checks as f64 / r.min_committed as f64
        },
    })
}

/// Per-operation costs measured on this machine, in microseconds (medians of a few runs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpCosts {
    /// Signing one vote.
    pub sign_us: f64,
    /// One pairing check: verifying a single signature.
    pub verify_us: f64,
    /// One pairing check of a same-message aggregate of 100 signers (includes adding the keys).
    pub verify_aggregate_100_us: f64,
    /// Adding one signature into an aggregate (100 at once, per signature).
    pub aggregate_us: f64,
    /// Decoding one signature: decompression and subgroup check.
    pub decode_us: f64,
}

fn median_us(mut f: impl FnMut(), reps: usize, per: f64) -> f64 {
    let mut v: Vec<f64> = (0..5)
        .map(|_| {
            let t = std::time::Instant::now();
            for _ in 0..reps {
                f();
            }
            t.elapsed().as_secs_f64() * 1e6 / reps as f64 / per
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[2]
}

/// Times the BLS operations the CPU model charges (real BLS, no cache).
pub fn measure_costs() -> OpCosts {
    use crypto::bls::{SecretKey, Signature};
    let keys: Vec<SecretKey> = (0..100u8)
        .map(|i| SecretKey::from_seed(&[i.wrapping_add(1); 32]))
        .collect();
    let pks: Vec<_> = keys.iter().map(SecretKey::public_key).collect();
    let msg = b"tributary bench: one vote".to_vec();
    let sigs: Vec<Signature> = keys.iter().map(|k| k.sign(&msg)).collect();
    let bytes: Vec<[u8; 96]> = sigs.iter().map(Signature::to_bytes).collect();
    let agg = Signature::aggregate(&sigs).ok();
    let mut k = 0usize;
    let sign_us = median_us(
        || {
            let _ = std::hint::black_box(keys[0].sign(&msg));
        },
        20,
        1.0,
    );
    let verify_us = median_us(
        || {
            k = (k + 1) % 100;
            std::hint::black_box(sigs[k].verify(&pks[k], &msg));
        },
        20,
        1.0,
    );
    let verify_aggregate_100_us = median_us(
        || {
            if let Some(a) = &agg {
                std::hint::black_box(a.verify_aggregate(&pks, &msg));
            }
        },
        10,
        1.0,
    );
    let aggregate_us = median_us(
        || {
            let _ = std::hint::black_box(Signature::aggregate(&sigs));
        },
        20,
        100.0,
    );
    let decode_us = median_us(
        || {
            k = (k + 1) % 100;
            let _ = std::hint::black_box(Signature::from_bytes(&bytes[k]));
        },
        50,
        1.0,
    );
    OpCosts {
        sign_us,
        verify_us,
        verify_aggregate_100_us,
        aggregate_us,
        decode_us,
    }
}

/// Runs the benchmark (and the sweep when asked).
pub fn run(cfg: &BenchConfig) -> Result<BenchReport, SimError> {
    let crypto: Arc<dyn Crypto> = Arc::new(CachedCrypto::new());
    let mut report = BenchReport::default();
    let ms = |n: usize| {
        let mut ms = vec![1, ceil_sqrt(n), n];
        ms.dedup();
        ms
    };
    for &n in &cfg.sizes {
        for five in [false, true] {
            for m in ms(n) {
                report
                    .rows
                    .push(measure(n, m, five, cfg.payload_bytes, cfg, &crypto)?);
            }
        }
    }
    // Realistic blocks at the largest size: the leader's and the super nodes' uplinks.
    if let Some(&n) = cfg.sizes.iter().max() {
        for &payload in &cfg.block_payloads {
            for five in [false, true] {
                for m in ms(n) {
                    report.rows.push(measure(n, m, five, payload, cfg, &crypto)?);
                }
            }
        }
    }
    if cfg.sweep_seeds > 0 {
        for s in Scenario::ALL {
            let r = sweep(s, 0..cfg.sweep_seeds, &crypto);
            report.sweep.push(SweepRow {
                scenario: s.name(),
                runs: r.runs,
                failures: u64::try_from(r.failures.len()).unwrap_or(u64::MAX),
                failing_seeds: r.failures.iter().take(10).map(|f| f.seed).collect(),
                heights: r.heights,
            });
        }
    }
    Ok(report)
}

/// The report as a Markdown table.
pub fn table(report: &BenchReport) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "| N | M | protocol | network | payload B | S = M²+3N−2M | msgs/height | vs S | bytes/height | pairings/height | finality ms | interval ms |"
    );
    let _ = writeln!(t, "|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in &report.rows {
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {} | {:+.1}% | {} | {:.0} | {:.1} | {:.1} |",
            r.n,
            r.m,
            r.protocol,
            r.network,
            r.payload_bytes,
            r.formula,
            r.messages,
            r.deviation_pct,
            r.bytes,
            r.pairings_per_height,
            r.finality_ms,
            r.interval_ms
        );
    }
    if !report.sweep.is_empty() {
        let _ = writeln!(t, "\n| scenario | runs | failures | heights |");
        let _ = writeln!(t, "|---|---|---|---|");
        for s in &report.sweep {
            let _ = writeln!(
                t,
                "| {} | {} | {} | {} |",
                s.scenario, s.runs, s.failures, s.heights
            );
        }
    }
    t
}

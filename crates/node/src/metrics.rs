//! The node's metrics registry: counters, gauges and histograms updated with atomics on the hot paths
//! (submit, block commit, API requests), rendered in the Prometheus text exposition format (version
//! 0.0.4) when scraped. Shared behind an `Arc` ([`crate::ChainService::metrics`]).
//!
//! Families the node itself does not measure yet — peers, their round-trip times, consensus round
//! durations — have setters and observers here for the network and BBFT host to call; until one is
//! called, such a family prints only its `# HELP` and `# TYPE` lines (no invented samples).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use types::Block;
use types::profile::Profile;

use crate::chain::{PoolStats, SubmitError, Submitted};
use crate::mempool::{Admission, MempoolError};

/// Most distinct label values kept per labelled family; further values are counted under `other`
/// (bounded memory whatever callers send).
const MAX_LABEL_VALUES: usize = 256;

/// The reason classes of refused submissions (the `reason` label).
pub const REJECT_CLASSES: [&str; 9] = [
    "invalid",
    "invalid_in_context",
    "already_on_chain",
    "duplicate",
    "conflict",
    "unknown_input",
    "pool_full",
    "too_large",
    "internal",
];

/// The reason class of a refused submission (one of [`REJECT_CLASSES`]).
pub fn reject_class(e: &SubmitError) -> &'static str {
    match e {
        SubmitError::Invalid(_) => "invalid",
        SubmitError::AlreadyOnChain(_) => "already_on_chain",
        SubmitError::Mempool(m) => match m {
            MempoolError::Duplicate(_) | MempoolError::DuplicateOrphan(_) => "duplicate",
            MempoolError::Conflict { .. } | MempoolError::ClaimConflict { .. } => "conflict",
            MempoolError::UnknownInput { .. } => "unknown_input",
            MempoolError::Invalid(_) => "invalid_in_context",
            MempoolError::PoolFull { .. } => "pool_full",
            MempoolError::TooLarge { .. } => "too_large",
            _ => "internal",
        },
        _ => "internal",
    }
}

/// An `f64` in an atomic, added to with a compare-and-swap loop.
#[derive(Debug, Default)]
struct AtomicF64(AtomicU64);

impl AtomicF64 {
    fn add(&self, v: f64) {
        // The closure always returns Some: the update cannot fail.
        let _ = self.0.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
            Some((f64::from_bits(bits) + v).to_bits())
        });
    }
    fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// A Prometheus histogram with fixed upper bounds.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative); the last is above every bound.
    buckets: Vec<AtomicU64>,
    sum: AtomicF64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            buckets: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum: AtomicF64::default(),
            count: AtomicU64::new(0),
        }
    }

    /// Records one value.
    pub fn observe(&self, v: f64) {
        let i = self
            .bounds
            .iter()
            .position(|b| v <= *b)
            .unwrap_or(self.bounds.len());
        if let Some(b) = self.buckets.get(i) {
            b.fetch_add(1, Ordering::Relaxed);
        }
        self.sum.add(v);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Sum of the observations.
    pub fn sum(&self) -> f64 {
        self.sum.get()
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let count = self.count();
        if count == 0 {
            return;
        }
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0u64;
        for (i, bound) in self.bounds.iter().enumerate() {
            cumulative += self.buckets.get(i).map_or(0, |b| b.load(Ordering::Relaxed));
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}");
        }
        // +Inf is the count, read once, so that buckets never exceed it.
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            count.max(cumulative)
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum());
        let _ = writeln!(out, "{name}_count{braces} {}", count.max(cumulative));
    }
}

/// Seconds between blocks.
const INTERVAL_BOUNDS: &[f64] = &[0.25, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0];
/// Transactions in a block.
const TXS_BOUNDS: &[f64] = &[0.0, 1.0, 10.0, 100.0, 1_000.0, 5_000.0, 10_000.0, 50_000.0];
/// Consensus round durations, seconds.
const ROUND_BOUNDS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0];

/// A gauge that has no value until first set.
#[derive(Debug, Default)]
struct OptionalGauge {
    set: AtomicBool,
    value: AtomicU64,
}

impl OptionalGauge {
    fn set(&self, v: u64) {
        self.value.store(v, Ordering::Relaxed);
        self.set.store(true, Ordering::Release);
    }
    fn get(&self) -> Option<u64> {
        self.set
            .load(Ordering::Acquire)
            .then(|| self.value.load(Ordering::Relaxed))
    }
}

/// Adds one to `key` in a bounded map (keys beyond [`MAX_LABEL_VALUES`] count as `other`).
fn bump(map: &Mutex<BTreeMap<String, u64>>, key: &str) {
    let mut m = map.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(v) = m.get_mut(key) {
        *v += 1;
    } else if m.len() < MAX_LABEL_VALUES {
        m.insert(key.to_string(), 1);
    } else {
        *m.entry("other".to_string()).or_insert(0) += 1;
    }
}

/// Escapes a label value for the text format.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The registry. Every update is a few relaxed atomic operations (labelled request counts and peer
/// round-trip times take a short lock).
#[derive(Debug)]
pub struct Metrics {
    height: OptionalGauge,
    final_height: OptionalGauge,
    last_interval_ms: OptionalGauge,
    block_interval: Histogram,
    txs_per_block: Histogram,
    blocks_committed: AtomicU64,
    txs_committed: AtomicU64,
    submitted: AtomicU64,
    accepted: AtomicU64,
    orphaned: AtomicU64,
    rejected: [AtomicU64; REJECT_CLASSES.len()],
    txs_validated: AtomicU64,
    tx_validation_seconds: AtomicF64,
    blocks_validated: AtomicU64,
    block_validation_seconds: AtomicF64,
    api_requests: Mutex<BTreeMap<String, u64>>,
    peers: OptionalGauge,
    bbft_epoch: OptionalGauge,
    bbft_validators: OptionalGauge,
    peer_rtt: Mutex<BTreeMap<String, f64>>,
    consensus_round: Histogram,
    sync_target: OptionalGauge,
    sync_blocks: AtomicU64,
    sync_stale: AtomicU64,
    sync_log: Mutex<SyncLog>,
    compact_proposals: AtomicU64,
    compact_missing_txs: AtomicU64,
    compact_fallbacks: AtomicU64,
}

/// Least time between two `syncing` log lines.
const SYNC_LOG_EVERY: Duration = Duration::from_secs(1);

/// The state of the catch-up progress line: when it was last printed and the blocks imported since.
#[derive(Debug, Default)]
struct SyncLog {
    since: Option<Instant>,
    blocks: u64,
    /// Whether a `syncing` line was printed and the node has not reached its target since.
    syncing: bool,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Metrics {
        Metrics {
            height: OptionalGauge::default(),
            final_height: OptionalGauge::default(),
            last_interval_ms: OptionalGauge::default(),
            block_interval: Histogram::new(INTERVAL_BOUNDS),
            txs_per_block: Histogram::new(TXS_BOUNDS),
            blocks_committed: AtomicU64::new(0),
            txs_committed: AtomicU64::new(0),
            submitted: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            orphaned: AtomicU64::new(0),
            rejected: std::array::from_fn(|_| AtomicU64::new(0)),
            txs_validated: AtomicU64::new(0),
            tx_validation_seconds: AtomicF64::default(),
            blocks_validated: AtomicU64::new(0),
            block_validation_seconds: AtomicF64::default(),
            api_requests: Mutex::new(BTreeMap::new()),
            peers: OptionalGauge::default(),
            bbft_epoch: OptionalGauge::default(),
            bbft_validators: OptionalGauge::default(),
            peer_rtt: Mutex::new(BTreeMap::new()),
            consensus_round: Histogram::new(ROUND_BOUNDS),
            sync_target: OptionalGauge::default(),
            sync_blocks: AtomicU64::new(0),
            sync_stale: AtomicU64::new(0),
            sync_log: Mutex::new(SyncLog::default()),
            compact_proposals: AtomicU64::new(0),
            compact_missing_txs: AtomicU64::new(0),
            compact_fallbacks: AtomicU64::new(0),
        }
    }

    /// A peer's tip as a catch-up requester learned it (from replies or probes): the sync target
    /// becomes the highest seen.
    pub fn note_sync_target(&self, height: u64) {
        match self.sync_target.get() {
            Some(t) if t >= height => {}
            _ => self.sync_target.set(height),
        }
    }

    /// The sync target (highest peer tip learned), if any.
    pub fn sync_target(&self) -> Option<u64> {
        self.sync_target.get()
    }

    /// `n` fetched blocks were at or below the tip when they arrived (committed meanwhile).
    pub fn sync_stale(&self, n: u64) {
        self.sync_stale.fetch_add(n, Ordering::Relaxed);
    }

    /// Blocks imported by catch-up so far.
    pub fn sync_blocks(&self) -> u64 {
        self.sync_blocks.load(Ordering::Relaxed)
    }

    /// `imported` blocks committed by catch-up, the tip now at `height`, with blocks fetched up to
    /// `fetched` (a peer holds them, so the target is at least that). While the node is behind its
    /// target, logs `syncing height=H target=T blocks_per_s=X eta_s=Y` at most once per second
    /// (the rate over the time since the previous line), and one `synced` line on reaching it.
    pub fn sync_imported(&self, imported: u64, height: u64, fetched: u64) {
        self.sync_blocks.fetch_add(imported, Ordering::Relaxed);
        self.note_sync_target(fetched.max(height));
        let target = self.sync_target.get().unwrap_or(height);
        let mut log = self
            .sync_log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        // The first import of a catch-up starts the clock (its own duration is unknown).
        let Some(since) = log.since.filter(|_| height < target) else {
            if height >= target && log.syncing {
                tracing::info!(height, "synced");
            }
            *log = SyncLog::default();
            if height < target {
                log.since = Some(now);
            }
            return;
        };
        log.blocks = log.blocks.saturating_add(imported);
        let elapsed = now.duration_since(since);
        if elapsed < SYNC_LOG_EVERY {
            return;
        }
        #[allow(clippy::cast_precision_loss)]
        let rate = log.blocks as f64 / elapsed.as_secs_f64();
        #[allow(clippy::cast_precision_loss)]
        let eta = if rate > 0.0 {
            format!("{:.0}", (target - height) as f64 / rate)
        } else {
            "unknown".to_string()
        };
        tracing::info!("syncing height={height} target={target} blocks_per_s={rate:.1} eta_s={eta}");
        log.since = Some(now);
        log.blocks = 0;
        log.syncing = true;
    }

    /// The chain's height (the store's tip), e.g. on start.
    pub fn set_height(&self, height: u64) {
        self.height.set(height);
    }

    /// The highest final block. Under solo consensus every committed block is final and the chain
    /// service sets it with the height; a BBFT host sets it when a block gets its certificate.
    pub fn set_final_height(&self, height: u64) {
        self.final_height.set(height);
    }

    /// A block committed on top of a parent with timestamp `parent_timestamp` (the profile's unit:
    /// seconds on the main chain, milliseconds on sidechains): height, interval, transactions.
    pub fn block_committed(&self, block: &Block, parent_timestamp: u64) {
        let header = block.header();
        self.height.set(header.height);
        let delta = header.timestamp.saturating_sub(parent_timestamp);
        let ms = match block.profile() {
            Profile::Main => delta.saturating_mul(1000),
            Profile::Side => delta,
        };
        self.last_interval_ms.set(ms);
        // Block intervals are far below 2^52 ms: the conversion is exact.
        #[allow(clippy::cast_precision_loss)]
        self.block_interval.observe(ms as f64 / 1000.0);
        let txs = block.transactions().len().saturating_sub(1);
        let txs = u64::try_from(txs).unwrap_or(u64::MAX);
        #[allow(clippy::cast_precision_loss)]
        self.txs_per_block.observe(txs as f64);
        self.blocks_committed.fetch_add(1, Ordering::Relaxed);
        self.txs_committed.fetch_add(txs, Ordering::Relaxed);
    }

    /// The outcome of one submission: accepted (ready or waiting for inputs) or refused, by class.
    pub fn submission(&self, result: &Result<Submitted, SubmitError>) {
        self.submitted.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(Submitted {
                admission: Admission::Orphaned { .. },
                ..
            }) => {
                self.orphaned.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {
                self.accepted.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                let class = reject_class(e);
                let i = REJECT_CLASSES.iter().position(|c| *c == class).unwrap_or(0);
                if let Some(c) = self.rejected.get(i) {
                    c.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }

    /// One transaction checked statelessly (signatures, programs), in `took`.
    pub fn tx_validated(&self, took: Duration) {
        self.txs_validated(1, took);
    }

    /// `count` transactions checked statelessly together (a batch), in `took` all told.
    pub fn txs_validated(&self, count: u64, took: Duration) {
        self.txs_validated.fetch_add(count, Ordering::Relaxed);
        self.tx_validation_seconds.add(took.as_secs_f64());
    }

    /// One block validated against the state, in `took`.
    pub fn block_validated(&self, took: Duration) {
        self.blocks_validated.fetch_add(1, Ordering::Relaxed);
        self.block_validation_seconds.add(took.as_secs_f64());
    }

    /// One API request to `endpoint` (the route pattern, not the raw path) answered with `status`.
    pub fn api_request(&self, endpoint: &str, status: u16) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        bump(&self.api_requests, &format!("{endpoint}\u{0}{class}"));
    }

    /// The number of connected peers (network host).
    pub fn set_peers(&self, n: u64) {
        self.peers.set(n);
    }

    /// The BBFT epoch of the next block and the size of its validator set (a BBFT chain).
    pub fn set_bbft_epoch(&self, epoch: u64, validators: u64) {
        self.bbft_epoch.set(epoch);
        self.bbft_validators.set(validators);
    }

    /// A peer's last measured round-trip time (network host).
    pub fn set_peer_rtt(&self, peer: &str, rtt: Duration) {
        let mut m = self
            .peer_rtt
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.len() < MAX_LABEL_VALUES || m.contains_key(peer) {
            m.insert(peer.to_string(), rtt.as_secs_f64());
        }
    }

    /// Forgets a disconnected peer's round-trip time.
    pub fn remove_peer(&self, peer: &str) {
        self.peer_rtt
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(peer);
    }

    /// A consensus round from proposal to decision (BBFT host).
    pub fn observe_consensus_round(&self, took: Duration) {
        self.consensus_round.observe(took.as_secs_f64());
    }

    /// A compact proposal rebuilt into its block and handed to consensus (BBFT host).
    pub fn compact_proposal(&self) {
        self.compact_proposals.fetch_add(1, Ordering::Relaxed);
    }

    /// `n` transactions of a compact proposal asked of its sender: the pool lacked them.
    pub fn compact_missing_txs(&self, n: u64) {
        self.compact_missing_txs.fetch_add(n, Ordering::Relaxed);
    }

    /// A full proposal asked of a compact proposal's sender: the rebuilt block was not the proposed
    /// one, or the sender's answer was unusable.
    pub fn compact_fallback(&self) {
        self.compact_fallbacks.fetch_add(1, Ordering::Relaxed);
    }

    /// Compact proposals rebuilt so far, transactions fetched for them, full proposals asked for.
    pub fn compact_counts(&self) -> (u64, u64, u64) {
        (
            self.compact_proposals.load(Ordering::Relaxed),
            self.compact_missing_txs.load(Ordering::Relaxed),
            self.compact_fallbacks.load(Ordering::Relaxed),
        )
    }

    /// Transactions submitted so far (tests, tools).
    pub fn submitted(&self) -> u64 {
        self.submitted.load(Ordering::Relaxed)
    }

    /// The whole registry in the Prometheus text format, with the pool's statistics read now.
    pub fn render(&self, pool: &PoolStats) -> String {
        let mut out = String::with_capacity(8192);
        let o = &mut out;
        let gauge = |o: &mut String, name: &str, help: &str, v: Option<u64>| {
            family(o, name, "gauge", help);
            if let Some(v) = v {
                let _ = writeln!(o, "{name} {v}");
            }
        };
        let counter = |o: &mut String, name: &str, help: &str, v: &AtomicU64| {
            family(o, name, "counter", help);
            let _ = writeln!(o, "{name} {}", v.load(Ordering::Relaxed));
        };
        gauge(
            o,
            "tributary_chain_height",
            "Height of the last committed block.",
            self.height.get(),
        );
        gauge(
            o,
            "tributary_chain_final_height",
            "Height of the last final block. Under solo consensus every committed block is final, so it equals the height; under BBFT it is the last block with a commit certificate.",
            self.final_height.get(),
        );
        gauge(
            o,
            "tributary_block_interval_last_seconds",
            "Timestamp difference between the last committed block and its parent.",
            None,
        );
        if let Some(ms) = self.last_interval_ms.get() {
            #[allow(clippy::cast_precision_loss)]
            let _ = writeln!(o, "tributary_block_interval_last_seconds {}", ms as f64 / 1000.0);
        }
        family(
            o,
            "tributary_block_interval_seconds",
            "histogram",
            "Timestamp differences between committed blocks and their parents (blocks committed since start).",
        );
        self.block_interval
            .render(o, "tributary_block_interval_seconds", "");
        family(
            o,
            "tributary_block_transactions",
            "histogram",
            "Transactions per committed block, the coinbase excluded (blocks committed since start).",
        );
        self.txs_per_block.render(o, "tributary_block_transactions", "");
        counter(
            o,
            "tributary_blocks_committed_total",
            "Blocks committed since start.",
            &self.blocks_committed,
        );
        counter(
            o,
            "tributary_transactions_committed_total",
            "Transactions committed in blocks since start, coinbases excluded.",
            &self.txs_committed,
        );
        gauge(
            o,
            "tributary_mempool_transactions",
            "Transactions in the pool, ready for a block.",
            u64::try_from(pool.txs).ok(),
        );
        gauge(
            o,
            "tributary_mempool_bytes",
            "Serialized bytes of the ready pool transactions.",
            Some(pool.bytes),
        );
        gauge(
            o,
            "tributary_mempool_orphans",
            "Transactions waiting in the pool for inputs not known yet.",
            u64::try_from(pool.orphans).ok(),
        );
        counter(
            o,
            "tributary_transactions_submitted_total",
            "Transactions submitted to this node (API or peers).",
            &self.submitted,
        );
        counter(
            o,
            "tributary_transactions_accepted_total",
            "Submitted transactions admitted to the pool, ready for a block.",
            &self.accepted,
        );
        counter(
            o,
            "tributary_transactions_orphaned_total",
            "Submitted transactions admitted to the orphan area, waiting for their inputs.",
            &self.orphaned,
        );
        family(
            o,
            "tributary_transactions_rejected_total",
            "counter",
            "Submitted transactions refused, by reason class.",
        );
        for (class, c) in REJECT_CLASSES.iter().zip(&self.rejected) {
            let _ = writeln!(
                o,
                "tributary_transactions_rejected_total{{reason=\"{class}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        counter(
            o,
            "tributary_validated_transactions_total",
            "Transactions checked statelessly (format, balance, gas, signatures, programs); rate() is the validation throughput.",
            &self.txs_validated,
        );
        counter(
            o,
            "tributary_validated_blocks_total",
            "Blocks validated against the chain state.",
            &self.blocks_validated,
        );
        family(
            o,
            "tributary_validation_seconds_total",
            "counter",
            "Seconds spent validating, by kind: transactions (stateless checks) and blocks (against the state).",
        );
        let _ = writeln!(
            o,
            "tributary_validation_seconds_total{{kind=\"transaction\"}} {}",
            self.tx_validation_seconds.get()
        );
        let _ = writeln!(
            o,
            "tributary_validation_seconds_total{{kind=\"block\"}} {}",
            self.block_validation_seconds.get()
        );
        family(
            o,
            "tributary_api_requests_total",
            "counter",
            "API requests answered, by endpoint (route pattern) and status class.",
        );
        {
            let m = self
                .api_requests
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (key, n) in m.iter() {
                let (endpoint, class) = key.split_once('\u{0}').unwrap_or((key.as_str(), "other"));
                let _ = writeln!(
                    o,
                    "tributary_api_requests_total{{endpoint=\"{}\",code=\"{class}\"}} {n}",
                    escape(endpoint)
                );
            }
        }
        gauge(
            o,
            "tributary_peers",
            "Connected peers (set by the network host; absent until it runs).",
            self.peers.get(),
        );
        gauge(
            o,
            "tributary_bbft_epoch",
            "BBFT epoch (DPoS round - 1) of the next block (absent unless the chain is run by BBFT).",
            self.bbft_epoch.get(),
        );
        gauge(
            o,
            "tributary_bbft_validators",
            "Validators in the next block's epoch (absent unless the chain is run by BBFT).",
            self.bbft_validators.get(),
        );
        family(
            o,
            "tributary_peer_rtt_seconds",
            "gauge",
            "Last measured round-trip time per peer (set by the network host; absent until it runs).",
        );
        {
            let m = self
                .peer_rtt
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (peer, rtt) in m.iter() {
                let _ = writeln!(o, "tributary_peer_rtt_seconds{{peer=\"{}\"}} {rtt}", escape(peer));
            }
        }
        family(
            o,
            "tributary_consensus_round_seconds",
            "histogram",
            "Consensus round durations from proposal to decision (observed by the BBFT host; absent until it runs).",
        );
        self.consensus_round
            .render(o, "tributary_consensus_round_seconds", "");
        gauge(
            o,
            "tributary_sync_target_height",
            "Highest peer tip learned by catch-up (absent until the node has asked peers for blocks).",
            self.sync_target.get(),
        );
        counter(
            o,
            "tributary_sync_blocks_total",
            "Blocks imported by catch-up (fetched from peers, certificates checked, validated as windows).",
            &self.sync_blocks,
        );
        counter(
            o,
            "tributary_sync_stale_blocks_total",
            "Fetched blocks that were committed already when they arrived (a catch-up request that raced consensus).",
            &self.sync_stale,
        );
        counter(
            o,
            "tributary_compact_proposals_total",
            "Compact proposals received from other validators, rebuilt from the pool (and fetched transactions) and handed to consensus.",
            &self.compact_proposals,
        );
        counter(
            o,
            "tributary_compact_missing_txs_total",
            "Transactions of compact proposals the pool lacked, asked of the proposal's sender.",
            &self.compact_missing_txs,
        );
        counter(
            o,
            "tributary_compact_fallbacks_total",
            "Full proposals asked for because a compact one did not rebuild into the proposed block (short-ID collision, another witness, an unusable answer, too many missing).",
            &self.compact_fallbacks,
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_families_print_only_help_and_type() {
        let m = Metrics::new();
        let text = m.render(&PoolStats {
            txs: 0,
            bytes: 0,
            orphans: 0,
        });
        for name in [
            "tributary_peers",
            "tributary_bbft_epoch",
            "tributary_peer_rtt_seconds",
            "tributary_consensus_round_seconds",
            "tributary_chain_height",
        ] {
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
            assert!(
                !text.lines().any(|l| !l.starts_with('#') && l.starts_with(name)),
                "{name} has a sample:\n{text}"
            );
        }
        m.set_peers(3);
        m.set_bbft_epoch(7, 4);
        m.set_peer_rtt("ab\"c", Duration::from_millis(20));
        m.observe_consensus_round(Duration::from_millis(300));
        m.observe_consensus_round(Duration::from_secs(20));
        let text = m.render(&PoolStats {
            txs: 1,
            bytes: 2,
            orphans: 3,
        });
        assert!(text.contains("\ntributary_peers 3\n"), "{text}");
        assert!(text.contains("\ntributary_bbft_epoch 7\n"), "{text}");
        assert!(text.contains("\ntributary_bbft_validators 4\n"), "{text}");
        assert!(
            text.contains("tributary_peer_rtt_seconds{peer=\"ab\\\"c\"} 0.02\n"),
            "{text}"
        );
        assert!(text.contains("tributary_consensus_round_seconds_bucket{le=\"0.25\"} 0\n"));
        assert!(text.contains("tributary_consensus_round_seconds_bucket{le=\"0.5\"} 1\n"));
        assert!(text.contains("tributary_consensus_round_seconds_bucket{le=\"10\"} 1\n"));
        assert!(text.contains("tributary_consensus_round_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(text.contains("tributary_consensus_round_seconds_count 2\n"));
        assert!(text.contains("tributary_mempool_orphans 3\n"));
    }

    #[test]
    fn sync_progress_counts_blocks_and_keeps_the_highest_target() {
        let m = Metrics::new();
        let pool = PoolStats {
            txs: 0,
            bytes: 0,
            orphans: 0,
        };
        let text = m.render(&pool);
        assert!(text.contains("# TYPE tributary_sync_target_height gauge\n"));
        assert!(!text.contains("\ntributary_sync_target_height "));
        assert!(text.contains("\ntributary_sync_blocks_total 0\n"));
        m.note_sync_target(500);
        m.sync_imported(64, 64, 64);
        m.sync_imported(64, 128, 128);
        m.note_sync_target(300);
        let text = m.render(&pool);
        assert!(text.contains("\ntributary_sync_target_height 500\n"), "{text}");
        assert!(text.contains("\ntributary_sync_blocks_total 128\n"), "{text}");
        m.sync_imported(372, 500, 500);
        assert_eq!(m.sync_blocks(), 500);
        m.sync_stale(3);
        assert!(
            m.render(&pool)
                .contains("\ntributary_sync_stale_blocks_total 3\n")
        );
        assert_eq!(m.sync_target(), Some(500));
    }

    #[test]
    fn compact_relay_counters_are_exported() {
        let m = Metrics::new();
        let pool = PoolStats {
            txs: 0,
            bytes: 0,
            orphans: 0,
        };
        let text = m.render(&pool);
        assert!(text.contains("\ntributary_compact_proposals_total 0\n"), "{text}");
        m.compact_proposal();
        m.compact_proposal();
        m.compact_missing_txs(7);
        m.compact_fallback();
        let text = m.render(&pool);
        assert!(text.contains("# TYPE tributary_compact_proposals_total counter\n"));
        assert!(text.contains("\ntributary_compact_proposals_total 2\n"), "{text}");
        assert!(
            text.contains("\ntributary_compact_missing_txs_total 7\n"),
            "{text}"
        );
        assert!(text.contains("\ntributary_compact_fallbacks_total 1\n"), "{text}");
        assert_eq!(m.compact_counts(), (2, 7, 1));
    }

    #[test]
    fn labelled_families_are_bounded() {
        let m = Metrics::new();
        for i in 0..(MAX_LABEL_VALUES + 10) {
            m.api_request(&format!("/e{i}"), 200);
        }
        let n = m.api_requests.lock().unwrap().len();
        assert_eq!(n, MAX_LABEL_VALUES + 1);
        assert_eq!(m.api_requests.lock().unwrap().get("other"), Some(&10));
    }
}

//! `tributary bench ledger`: validate+apply throughput of the ledger against the batch
//! signature-verification ceiling for the same signatures.
//!
//! The run generates signed sidechain transfers with real chainkd keys (1 input / 2 outputs, plus a
//! share of 3-input / 2-output spends), packs them into blocks behind a coinbase, then measures on
//! all cores (or `--threads`):
//!
//! * **block**: `validate_block` of every block in order (parallel stateless checks with batched
//!   signatures, then the ordered UTXO checks) and `MemoryUtxoSet::apply` of its change set;
//! * **window**: the same blocks through `validate_window` at once, then every change set applied;
//! * **mempool**: `check_txs` (parallel, batched) then `check_tx_against` and apply, per block;
//! * **ceiling**: every signature of those transactions verified with `BatchVerifier` in batches of
//!   the size the ledger uses, in parallel, and nothing else.
//!
//! Each measurement runs `--rounds` times, interleaved, and the fastest is reported. The ratio is
//! the block path's signatures per second over the ceiling's.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use clap::Args;
use ledger::testkit::{self, Coin, Key};
use ledger::{ChainParams, MemoryUtxoSet, UtxoEntry, UtxoKind};
use rayon::prelude::*;
use serde_json::{Value, json};
use types::{AssetId, Block, BlockHeader, Profile, Transaction};

/// Options of `tributary bench ledger`.
#[derive(Debug, Clone, Args)]
pub(crate) struct BenchLedgerOpts {
    /// Number of transactions to generate and validate.
    #[arg(long, default_value_t = 20_000)]
    pub(crate) txs: usize,
    /// Worker threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub(crate) threads: usize,
    /// Transactions per block (plus the coinbase).
    #[arg(long, default_value_t = 2_000)]
    pub(crate) block_size: usize,
    /// Percentage of 3-input / 2-output transactions in the mix.
    #[arg(long, default_value_t = 10)]
    pub(crate) multi_input_percent: usize,
    /// Signatures per batch in the ceiling measurement.
    #[arg(long, default_value_t = 64)]
    pub(crate) batch: usize,
    /// Rounds; each round runs every measurement once, and the fastest time of each is reported
    /// (the machine may be shared).
    #[arg(long, default_value_t = 3)]
    pub(crate) rounds: usize,
}

/// Neu per generated coin.
const COIN: u64 = 1_000_000_000;
/// Fee per transaction (buys ample gas).
const FEE: u64 = 10_000_000;
/// Outputs per funding transaction.
const FUNDING_CHUNK: usize = 5_000;

/// Runs the benchmark and returns its report.
pub(crate) fn run(opts: &BenchLedgerOpts) -> Result<Value> {
    if opts.txs == 0 || opts.block_size == 0 || opts.batch == 0 || opts.rounds == 0 {
        bail!("--txs, --block-size, --batch and --rounds must be positive");
    }
    if opts.multi_input_percent > 100 {
        bail!("--multi-input-percent is at most 100");
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .context("building the thread pool")?;
    pool.install(|| run_in_pool(opts, pool.current_num_threads()))
}

fn run_in_pool(opts: &BenchLedgerOpts, threads: usize) -> Result<Value> {
    let profile = Profile::Side;
    let params = ChainParams::side_devnet();
    let keys: Vec<Key> = (0..64u32)
        .map(|i| Key::from_seed(format!("bench ledger key {i}").as_bytes()))
        .collect();

    // Which transactions are multi-input: every k-th, spread evenly.
    let is_multi = |n: usize| {
        opts.multi_input_percent > 0 && (n * opts.multi_input_percent) % 100 < opts.multi_input_percent
    };
    let inputs_needed: usize = (0..opts.txs).map(|n| if is_multi(n) { 3 } else { 1 }).sum();

    // Fund: coinbase-shaped transactions whose outputs go straight into the UTXO set.
    let gen_start = Instant::now();
    let mut initial = MemoryUtxoSet::new();
    let mut coins: Vec<(Coin, usize)> = Vec::with_capacity(inputs_needed);
    let mut funded = 0usize;
    let mut funding_round = 0u64;
    while funded < inputs_needed {
        let n = FUNDING_CHUNK.min(inputs_needed - funded);
        let outputs = (0..n)
            .map(|i| testkit::output(keys[(funded + i) % keys.len()].program(), AssetId::BTM, COIN))
            .collect::<Result<Vec<_>, _>>()?;
        let tx = testkit::coinbase(profile, funding_round, outputs)?;
        for (i, coin) in testkit::coins_of(&tx).into_iter().enumerate() {
            initial.insert(
                coin.output_id,
                UtxoEntry {
                    kind: UtxoKind::Normal,
                    height: 0,
                },
            );
            coins.push((coin, (funded + i) % keys.len()));
        }
        funded += n;
        funding_round += 1;
    }

    // Assign coins to transactions, then build and sign them in parallel.
    let mut plans: Vec<Vec<(Coin, usize)>> = Vec::with_capacity(opts.txs);
    let mut it = coins.into_iter();
    for n in 0..opts.txs {
        let k = if is_multi(n) { 3 } else { 1 };
        plans.push(it.by_ref().take(k).collect());
    }
    let txs: Vec<Transaction> = plans
        .par_iter()
        .enumerate()
        .map(|(n, plan)| -> Result<Transaction> {
            let owner = &keys[plan.first().map_or(0, |(_, k)| *k)];
            let payee = &keys[(n * 7 + 3) % keys.len()];
            let total = COIN * plan.len() as u64;
            let pay = 1_000 + (n as u64 % 1_000);
            let inputs: Vec<(&Coin, &Key)> = plan.iter().map(|(c, k)| (c, &keys[*k])).collect();
            let outputs = vec![
                testkit::output(payee.program(), AssetId::BTM, pay)?,
                testkit::output(owner.program(), AssetId::BTM, total - pay - FEE)?,
            ];
            Ok(testkit::transfer(profile, &inputs, outputs)?)
        })
        .collect::<Result<_>>()?;
    let signatures: usize = txs.iter().map(|t| t.inputs().len()).sum();

    // Blocks of `block_size` transactions behind a coinbase.
    let mut genesis = BlockHeader::empty(Profile::Side);
    genesis.version = 1;
    genesis.height = 1;
    genesis.timestamp = 1_000;
    let mut blocks: Vec<Block> = Vec::new();
    let mut parent = genesis.clone();
    for chunk in txs.chunks(opts.block_size) {
        let height = parent.height + 1;
        let cb = testkit::coinbase(
            profile,
            height,
            vec![testkit::output(keys[0].program(), AssetId::BTM, 0)?],
        )?;
        let mut body = Vec::with_capacity(chunk.len() + 1);
        body.push(cb);
        body.extend(chunk.iter().cloned());
        let block = testkit::block(&parent, body, parent.timestamp + 500)?;
        parent = block.header().clone();
        blocks.push(block);
    }
    let generation_seconds = gen_start.elapsed().as_secs_f64();

    let arcs: Vec<Vec<Arc<Transaction>>> = blocks
        .iter()
        .map(|b| b.transactions().iter().skip(1).cloned().map(Arc::new).collect())
        .collect();
    let triples: Vec<([u8; 32], [u8; 32], Vec<u8>)> = txs
        .iter()
        .flat_map(|t| {
            (0..t.inputs().len()).filter_map(move |i| {
                let args = t.inputs()[i].arguments();
                let pk: [u8; 32] = args.get(1)?.as_slice().try_into().ok()?;
                Some((pk, t.sighash(i)?.0, args.first()?.clone()))
            })
        })
        .collect();
    if triples.len() != signatures {
        bail!("expected {signatures} signatures, found {}", triples.len());
    }
    let mut block_seconds = f64::INFINITY;
    let mut window_seconds = f64::INFINITY;
    let mut mempool_seconds = f64::INFINITY;
    let mut ceiling_seconds = f64::INFINITY;
    for _ in 0..opts.rounds {
        // 1. Block by block: validate_block + apply.
        let mut set = initial.clone();
        let start = Instant::now();
        let mut parent = &genesis;
        for block in &blocks {
            let cs = ledger::validate_block(block, parent, &set, &params, &[])
                .with_context(|| format!("block {} was rejected", block.header().height))?;
            set.apply(&cs)?;
            parent = block.header();
        }
        block_seconds = block_seconds.min(start.elapsed().as_secs_f64());
        let final_state = set.encode();

        // 2. The whole run as one window.
        let mut set = initial.clone();
        let start = Instant::now();
        let sets =
            ledger::validate_window(&blocks, &genesis, &set, &params).context("the window was rejected")?;
        for cs in &sets {
            set.apply(cs)?;
        }
        window_seconds = window_seconds.min(start.elapsed().as_secs_f64());
        if set.encode() != final_state {
            bail!("window and block-by-block validation disagree");
        }

        // 3. Mempool style: check_txs in parallel, then check_tx_against and apply per block.
        let mut set = initial.clone();
        let start = Instant::now();
        for (block, batch) in blocks.iter().zip(&arcs) {
            let height = block.header().height;
            let checked = ledger::check_txs(batch, &params, height);
            let mut spent = Vec::new();
            let mut created = Vec::new();
            for c in checked {
                let c = c?;
                ledger::check_tx_against(&c, &set, height, &params)?;
                spent.extend(c.spends().iter().map(|id| {
                    (
                        *id,
                        UtxoEntry {
                            kind: UtxoKind::Normal,
                            height: 0,
                        },
                    )
                }));
                created.extend(
                    c.created()
                        .iter()
                        .map(|(id, kind)| (*id, UtxoEntry { kind: *kind, height })),
                );
            }
            set.apply(&ledger::ChangeSet {
                height,
                block_hash: block.hash(),
                spent,
                created,
                claimed: Vec::new(),
            })?;
        }
        mempool_seconds = mempool_seconds.min(start.elapsed().as_secs_f64());

        // 4. The ceiling: batch verification of the same signatures, nothing else.
        let start = Instant::now();
        let all_valid = triples.par_chunks(opts.batch).all(|chunk| {
            let mut batch = crypto::ed25519::BatchVerifier::new();
            for (pk, msg, sig) in chunk {
                batch.queue(pk, msg, sig);
            }
            batch.verify(rand_core::OsRng).is_ok()
        });
        ceiling_seconds = ceiling_seconds.min(start.elapsed().as_secs_f64());
        if !all_valid {
            bail!("a generated signature failed batch verification");
        }
    }

    let per_sec = |n: usize, s: f64| if s > 0.0 { n as f64 / s } else { 0.0 };
    let n = opts.txs;
    let ceiling_sigs = per_sec(signatures, ceiling_seconds);
    let block_sigs = per_sec(signatures, block_seconds);
    let ratio = if ceiling_sigs > 0.0 {
        block_sigs / ceiling_sigs
    } else {
        0.0
    };
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    let section = |s: f64| {
        json!({
            "seconds": round(s),
            "tx_per_sec": round(per_sec(n, s)),
            "sig_per_sec": round(per_sec(signatures, s)),
            "ratio_to_ceiling": round(if ceiling_sigs > 0.0 { per_sec(signatures, s) / ceiling_sigs } else { 0.0 }),
        })
    };
    Ok(json!({
        "benchmark": "ledger",
        "profile": "side",
        "threads": threads,
        "txs": n,
        "multi_input_txs": (0..n).filter(|k| is_multi(*k)).count(),
        "signatures": signatures,
        "blocks": blocks.len(),
        "block_size": opts.block_size,
        "ceiling_batch": opts.batch,
        "rounds": opts.rounds,
        "generation_seconds": round(generation_seconds),
        "validate_apply_block": section(block_seconds),
        "validate_apply_window": section(window_seconds),
        "check_txs_mempool": section(mempool_seconds),
        "batch_verify_ceiling": {
            "seconds": round(ceiling_seconds),
            "sig_per_sec": round(ceiling_sigs),
            "tx_per_sec_equivalent": round(per_sec(n, ceiling_seconds)),
        },
        "ratio": round(ratio),
        "target_ratio": 0.7,
        "meets_target": ratio >= 0.7,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_run_reports_consistent_figures() {
        let opts = BenchLedgerOpts {
            txs: 300,
            threads: 2,
            block_size: 100,
            multi_input_percent: 10,
            batch: 64,
            rounds: 1,
        };
        let v = run(&opts).unwrap();
        assert_eq!(v["txs"], 300);
        assert_eq!(v["blocks"], 3);
        assert_eq!(v["multi_input_txs"], 30);
        assert_eq!(v["signatures"], 300 + 2 * 30);
        assert!(v["ratio"].as_f64().unwrap() > 0.0);
        assert!(v["validate_apply_block"]["tx_per_sec"].as_f64().unwrap() > 0.0);
    }

    #[test]
    fn bad_options_are_refused() {
        let opts = BenchLedgerOpts {
            txs: 0,
            threads: 1,
            block_size: 1,
            multi_input_percent: 0,
            batch: 1,
            rounds: 1,
        };
        assert!(run(&opts).is_err());
    }
}

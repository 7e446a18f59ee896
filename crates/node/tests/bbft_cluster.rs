//! Four BBFT validators in one process, each with its own store, over the in-memory network with
//! 500 ms blocks: blocks become final everywhere, a transaction submitted to one validator is final
//! on all, one stopped validator does not stop the other three, it restarts from its store and
//! catches up, and no two nodes ever hold different blocks at one height. Stores reopen with every
//! certificate checked, and a store checked against another validator set is refused. Proposals
//! travel compact (short IDs rebuilt from the pool): with forwarding on, no full proposal crosses
//! the network; with forwarding off the other validators fetch the missing transactions from the
//! sender, and when the sender's answers are garbage they fall back to the full proposal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crypto::bls::SecretKey;
use crypto::chainkd::XPrv;
use ledger::ChainParams;
use node::bbft_host::net::CompactProposal;
use node::bbft_host::validators::{GenesisSet, GenesisValidator, genesis_set};
use node::bbft_host::{self, BbftHandle, HostConfig, MemoryNetwork, Wire};
use node::chain::{ChainService, ChainSetup};
use node::devnet::{Coin, coins_of, sign_transfer};
use node::genesis::{devnet_genesis, p2wpkh_program_of};
use node::{Authority, MempoolConfig, NodeError};
use storage::{ChainIdentity, RedbStore, StoreRead};
use types::{Block, Hash, Transaction};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!("tributary-bbft-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const N: usize = 4;
const EACH: u64 = 1_000_000_000_000;
const FEE: u64 = 1_000_000;

fn now_ms() -> u64 {
    u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

struct Cluster {
    dir: TempDir,
    net: MemoryNetwork,
    genesis: Block,
    set: GenesisSet,
    keys: Vec<SecretKey>,
    nodes: Vec<Option<BbftHandle>>,
    xprv: XPrv,
    program: Vec<u8>,
    coins: Vec<Coin>,
}

fn open_chain(path: &Path, genesis: &Block, set: &GenesisSet) -> Result<ChainService, NodeError> {
    let params = ChainParams::side_devnet();
    let store = RedbStore::open(
        path,
        ChainIdentity {
            profile: params.profile,
            network: params.network,
            genesis_hash: genesis.hash(),
        },
    )?;
    ChainService::open(
        store,
        ChainSetup {
            params,
            genesis: genesis.clone(),
            authority: Authority::Bbft {
                setup: Arc::new(node::elections::BbftSetup::fixed(set.dpos.clone())),
            },
            mempool: MempoolConfig::default(),
            max_block_bytes: 8 << 20,
            max_block_gas: 10_000_000,
        },
    )
}

fn keys_and_set(seed: u8) -> (Vec<SecretKey>, GenesisSet) {
    let keys: Vec<SecretKey> = (0..N)
        .map(|i| SecretKey::from_seed(&[seed.wrapping_add(u8::try_from(i).unwrap()); 32]))
        .collect();
    let entries: Vec<GenesisValidator> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let i = u8::try_from(i).unwrap();
            GenesisValidator::of(&XPrv::root(&[seed, i]).xpub(), &[i; 32], k)
        })
        .collect();
    (keys, genesis_set(&entries).unwrap())
}

impl Cluster {
    fn new(name: &str) -> Cluster {
        let params = ChainParams::side_devnet();
        let xprv = XPrv::root(b"bbft cluster dev account");
        let program = p2wpkh_program_of(&xprv.xpub());
        let genesis = devnet_genesis(&params, &program, 8, EACH, now_ms() - 1_000).unwrap();
        let coins = coins_of(&genesis.transactions()[1], &program);
        let (keys, set) = keys_and_set(1);
        Cluster {
            dir: TempDir::new(name),
            net: MemoryNetwork::new(),
            genesis,
            set,
            keys,
            nodes: (0..N).map(|_| None).collect(),
            xprv,
            program,
            coins,
        }
    }

    fn node_dir(&self, i: usize) -> PathBuf {
        let d = self.dir.0.join(format!("node{i}"));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn start(&mut self, i: usize) {
        self.start_with(i, |cfg| cfg);
    }

    fn start_with(&mut self, i: usize, configure: impl FnOnce(HostConfig) -> HostConfig) {
        let d = self.node_dir(i);
        let chain = Arc::new(open_chain(&d.join("chain.redb"), &self.genesis, &self.set).unwrap());
        let me = u32::try_from(i).unwrap();
        let (endpoint, inbox) = self.net.join(me);
        let cfg = configure(HostConfig::new(
            me,
            self.keys[i].clone(),
            d.join("consensus.state"),
        ));
        self.nodes[i] = Some(bbft_host::start(chain, cfg, endpoint, inbox).unwrap());
    }

    async fn stop(&mut self, i: usize) {
        self.net.leave(u32::try_from(i).unwrap());
        let h = self.nodes[i].take().unwrap();
        h.stop().await.unwrap();
    }

    fn chain(&self, i: usize) -> &Arc<ChainService> {
        self.nodes[i].as_ref().unwrap().chain()
    }

    fn running(&self) -> Vec<usize> {
        (0..N).filter(|&i| self.nodes[i].is_some()).collect()
    }

    fn pay(&self, coin: &Coin) -> Transaction {
        sign_transfer(
            &self.xprv,
            std::slice::from_ref(coin),
            &[(self.program.clone(), coin.amount - FEE)],
        )
        .unwrap()
    }

    /// Waits until `pred` holds for every running node, or fails after `secs`.
    async fn wait(&self, what: &str, secs: u64, pred: impl Fn(&ChainService) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            for i in self.running() {
                assert!(!self.nodes[i].as_ref().unwrap().is_finished(), "host {i} ended");
            }
            if self.running().iter().all(|&i| pred(self.chain(i))) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; heights {:?}",
                self.running()
                    .iter()
                    .map(|&i| self.chain(i).final_height())
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Starts every validator and waits for the first final block.
    async fn start_all(&mut self) {
        self.start_all_with(|cfg| cfg, 1, 20).await;
    }

    /// Starts every validator with its configuration changed by `configure` and waits (at most
    /// `secs`) until each has `final_height` final blocks.
    async fn start_all_with(
        &mut self,
        configure: impl Fn(HostConfig) -> HostConfig,
        final_height: u64,
        secs: u64,
    ) {
        for i in 0..N {
            self.start_with(i, &configure);
        }
        self.wait("the first final blocks", secs, |ch| {
            ch.final_height() >= final_height
        })
        .await;
    }

    /// Pays every coin in one batch submitted to validator `via`; the transfers' ids.
    fn submit_every_coin(&self, via: usize) -> Vec<Hash> {
        let txs: Vec<Transaction> = self.coins.iter().map(|coin| self.pay(coin)).collect();
        let ids: Vec<Hash> = txs.iter().map(Transaction::id).collect();
        let results = self.chain(via).submit_many(txs, node::Origin::Local, true);
        assert_eq!(results.len(), ids.len());
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        ids
    }

    /// Waits until every transfer in `ids` is final on all four, checks they agree, and returns
    /// the compact-relay counts (printed for the log).
    async fn all_final(&self, ids: &[Hash], secs: u64) -> Vec<(u64, u64, u64)> {
        for id in ids {
            self.wait("every transfer final on all four", secs, included(*id))
                .await;
        }
        self.assert_one_chain();
        let counts = self.compact_counts();
        println!("compact (rebuilt, fetched, full asked) per node: {counts:?}");
        counts
    }

    /// Compact proposals rebuilt, transactions fetched for them and full proposals asked for, per
    /// node, read from the `/metrics` text.
    fn compact_counts(&self) -> Vec<(u64, u64, u64)> {
        (0..N)
            .map(|i| {
                let ch = self.chain(i);
                let text = ch.metrics().render(&ch.pool_stats());
                let get = |name: &str| {
                    text.lines()
                        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<u64>().ok())
                        .unwrap_or_else(|| panic!("{name} missing from /metrics:\n{text}"))
                };
                let counts = (
                    get("tributary_compact_proposals_total"),
                    get("tributary_compact_missing_txs_total"),
                    get("tributary_compact_fallbacks_total"),
                );
                assert_eq!(counts, ch.metrics().compact_counts());
                counts
            })
            .collect()
    }

    /// Every pair of running nodes holds the same block at every height both have.
    fn assert_one_chain(&self) {
        let run = self.running();
        let top = run.iter().map(|&i| self.chain(i).final_height()).max().unwrap();
        for h in 0..=top {
            let hashes: Vec<Hash> = run
                .iter()
                .filter_map(|&i| self.chain(i).store().block_hash(h).unwrap())
                .collect();
            assert!(
                hashes.windows(2).all(|w| w[0] == w[1]),
                "two different final blocks at height {h}"
            );
        }
    }
}

fn included(tx: Hash) -> impl Fn(&ChainService) -> bool {
    move |c| c.store().tx_location(&tx).unwrap().is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_validators_finalize_survive_a_stopped_one_and_it_catches_up() {
    let mut c = Cluster::new("cluster");
    let started = Instant::now();
    for i in 0..N {
        c.start(i);
    }

    // Blocks become final on all four.
    c.wait("the first final block", 20, |ch| ch.final_height() >= 1)
        .await;
    let first_final = started.elapsed();
    let h0 = c.chain(0).final_height();
    let t0 = Instant::now();
    c.wait("ten more final blocks", 30, |ch| ch.final_height() >= h0 + 10)
        .await;
    let interval = t0.elapsed() / 10;
    println!("first final block after {first_final:?}; block interval {interval:?} (over 10 blocks)");
    assert!(
        interval >= Duration::from_millis(450),
        "blocks come faster than the 500 ms interval"
    );
    c.assert_one_chain();

    // A transaction submitted to one validator is included and final everywhere.
    let tx = c.pay(&c.coins[0]);
    let tx_id = tx.id();
    let t = Instant::now();
    c.nodes[1].as_ref().unwrap().submit(tx).unwrap();
    c.wait("the transfer to be final on all four", 20, included(tx_id))
        .await;
    println!("transfer final on all four after {:?}", t.elapsed());
    for i in 0..N {
        assert!(
            !c.chain(i).in_pool(&tx_id),
            "node {i} still pools the committed transfer"
        );
        let loc = c.chain(i).store().tx_location(&tx_id).unwrap().unwrap();
        let hash = c.chain(i).store().block_hash(loc.block_height).unwrap().unwrap();
        assert!(c.chain(i).is_final(&hash).unwrap());
    }

    // One validator stops: the other three keep finalizing, and take transactions.
    c.stop(3).await;
    let stopped_at = c
        .running()
        .iter()
        .map(|&i| c.chain(i).final_height())
        .max()
        .unwrap();
    let t = Instant::now();
    c.wait("three validators to finalize five more blocks", 40, |ch| {
        ch.final_height() >= stopped_at + 5
    })
    .await;
    println!("three of four: five blocks in {:?}", t.elapsed());
    let tx2 = c.pay(&c.coins[1]);
    let tx2_id = tx2.id();
    c.nodes[0].as_ref().unwrap().submit(tx2).unwrap();
    c.wait("the second transfer with three validators", 30, included(tx2_id))
        .await;
    c.assert_one_chain();

    // It restarts from its store (certificates checked on open) and catches up.
    let target = c
        .running()
        .iter()
        .map(|&i| c.chain(i).final_height())
        .max()
        .unwrap();
    assert!(target > stopped_at + 4);
    let t = Instant::now();
    c.start(3);
    let restarted_at = c.chain(3).final_height();
    assert!(restarted_at < target, "the restarted node should be behind");
    c.wait("the restarted validator to catch up", 40, |ch| {
        ch.final_height() >= target + 2
    })
    .await;
    println!(
        "restarted validator caught up from {restarted_at} past {target} in {:?}",
        t.elapsed()
    );
    assert!(c.chain(3).store().tx_location(&tx2_id).unwrap().is_some());
    c.assert_one_chain();

    // All four keep going together.
    let h = c.chain(0).final_height();
    c.wait("four validators again", 30, |ch| ch.final_height() >= h + 3)
        .await;
    c.assert_one_chain();

    // Stop everything; every store reopens with every certificate checked, and the same store
    // is refused under another validator set.
    for i in 0..N {
        c.stop(i).await;
    }
    // A validator whose consensus state file is gone (its record of votes) refuses to start.
    let state = c.node_dir(0).join("consensus.state");
    std::fs::remove_file(&state).unwrap();
    let chain = Arc::new(open_chain(&c.node_dir(0).join("chain.redb"), &c.genesis, &c.set).unwrap());
    let (endpoint, inbox) = c.net.join(0);
    let refused = bbft_host::start(
        chain,
        HostConfig::new(0, c.keys[0].clone(), state),
        endpoint,
        inbox,
    );
    assert!(matches!(refused, Err(NodeError::Config(_))), "{refused:?}");
    let (_, other_set) = keys_and_set(50);
    for i in 0..N {
        let path = c.node_dir(i).join("chain.redb");
        let reopened = open_chain(&path, &c.genesis, &c.set).unwrap();
        assert!(reopened.final_height() >= h + 3);
        drop(reopened);
        let refused = open_chain(&path, &c.genesis, &other_set);
        assert!(
            matches!(refused, Err(NodeError::Corrupt(_))),
            "node {i}: {refused:?}"
        );
    }
}

/// Blocks finalized together by the two-chain rule carry a proof naming the highest of them. A
/// catch-up reply cut by its byte limit between them proves nothing on its own: the fetched blocks
/// are kept and imported with the next reply. Before, a validator behind such a pair asked for the
/// same block forever (seen in `bench cluster`: one validator stuck 500 blocks behind). Here every
/// reply carries one block and no block has a commit certificate.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn catch_up_imports_blocks_whose_proof_lies_in_the_next_reply() {
    let mut c = Cluster::new("cluster-split-reply");
    let two_chain_only = |cfg: HostConfig| HostConfig {
        commit_phase: false,
        max_reply_bytes: 1,
        ..cfg
    };
    c.start_all_with(two_chain_only, 2, 30).await;
    c.stop(3).await;
    let stopped_at = c.chain(0).final_height();
    c.wait("three validators to finalize six more blocks", 40, |ch| {
        ch.final_height() >= stopped_at + 6
    })
    .await;
    // Each stored block's proof names a block above it: none proves itself.
    let target = c.chain(0).final_height();
    c.start_with(3, two_chain_only);
    assert!(c.chain(3).final_height() < target);
    c.wait(
        "the restarted validator to catch up by one-block replies",
        40,
        |ch| ch.final_height() >= target,
    )
    .await;
    c.assert_one_chain();
}

/// Validators that keep committing do not ask each other for blocks: catch-up requests go out
/// only from a validator that committed nothing for a catch-up interval (or misses a block). Before,
/// every validator asked every peer each interval, and each peer read and sent its newest block,
/// which the asker then committed itself. Ticks every 400 ms against 500 ms blocks: asking on every
/// tick sends up to 4 × 3 requests per tick (81 counted over the 4 s watched with the old tick).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn validators_that_commit_do_not_ask_each_other_for_blocks() {
    let mut c = Cluster::new("cluster-no-idle-catch-up");
    let tick = |cfg: HostConfig| HostConfig {
        catch_up_interval_ms: 400,
        ..cfg
    };
    c.start_all_with(tick, 2, 30).await;
    let requests = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&requests);
    c.net.set_filter(move |_, _, bytes| {
        if matches!(Wire::decode(&bytes), Ok(Wire::GetBlocks { .. })) {
            counted.fetch_add(1, Ordering::Relaxed);
        }
        Some(bytes)
    });
    let from = c.chain(0).final_height();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let progressed = c.chain(0).final_height() - from;
    assert!(progressed >= 4, "only {progressed} blocks in 4 s");
    let asked = requests.load(Ordering::Relaxed);
    // Slack for ticks that fall between two slow commits on a loaded machine: a third of asking
    // on every tick.
    assert!(
        asked <= 40,
        "{asked} block requests while every validator committed"
    );
    c.net.clear_filter();
    c.assert_one_chain();
    for i in 0..N {
        c.stop(i).await;
    }
}

/// A batch submitted to one validator is forwarded to the others in batches and admitted there as
/// a peer's (so not forwarded again); every transfer then becomes final everywhere, each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_submitted_batch_is_forwarded_to_every_validator_once() {
    let mut c = Cluster::new("forward");
    c.start_all().await;
    let mut seen: Vec<_> = (1..N).map(|i| c.chain(i).subscribe_admitted()).collect();
    let ids = c.submit_every_coin(0);

    // Each other validator admits every one of them from a peer (or sees it committed first).
    for (k, rx) in seen.iter_mut().enumerate() {
        let mut from_peer = std::collections::HashSet::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while from_peer.len() < ids.len() && Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
                Ok(Ok(a)) => {
                    assert_eq!(
                        a.origin,
                        node::Origin::Peer,
                        "validator {} re-originated it",
                        k + 1
                    );
                    from_peer.insert(a.tx.id());
                }
                Ok(Err(e)) => panic!("admitted feed: {e}"),
                Err(_) => {
                    let committed = ids
                        .iter()
                        .filter(|id| c.chain(k + 1).store().tx_location(id).unwrap().is_some())
                        .count();
                    if from_peer.len() + committed >= ids.len() {
                        break;
                    }
                }
            }
        }
        assert!(
            !from_peer.is_empty(),
            "validator {} admitted nothing forwarded",
            k + 1
        );
    }
    for id in &ids {
        c.wait("every transfer final on all four", 30, included(*id))
            .await;
    }
    c.assert_one_chain();
    for i in 0..N {
        c.stop(i).await;
    }
}

/// What crossed the network: full proposals (a consensus message that is a proposal), compact
/// proposals that carried transactions as short IDs, and transaction requests.
#[derive(Default)]
struct Traffic {
    full_proposals: AtomicU64,
    compact_with_txs: AtomicU64,
    tx_requests: AtomicU64,
    proposal_requests: AtomicU64,
}

impl Traffic {
    fn note(&self, bytes: &[u8]) {
        let limits = bbft_limits();
        match Wire::decode(bytes) {
            Ok(Wire::Consensus(b)) => {
                if let Ok(consensus::bbft::Message::Proposal(p)) = consensus::bbft::decode(&b, &limits)
                    && !p.payload.is_empty()
                {
                    self.full_proposals.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(Wire::CompactProposal { block, proposal }) => {
                let cp = CompactProposal::open(block, &proposal, &limits, &ChainParams::side_devnet().limits)
                    .expect("a compact proposal that does not open");
                if !cp.compact.short_ids.is_empty() {
                    self.compact_with_txs.fetch_add(1, Ordering::Relaxed);
                }
            }
            Ok(Wire::GetProposalTxs { .. }) => {
                self.tx_requests.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Wire::GetProposal { .. }) => {
                self.proposal_requests.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

fn bbft_limits() -> consensus::bbft::Limits {
    consensus::bbft::Limits {
        max_payload: ChainParams::side_devnet().limits.max_block_bytes,
    }
}

/// Transfers submitted to one validator are forwarded, and every proposal goes out compact: the
/// transfers become final on all four, every validator rebuilt proposals from its pool, and no
/// full proposal crossed the network.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn transfers_become_final_on_all_four_through_compact_proposals() {
    let mut c = Cluster::new("compact");
    let traffic = Arc::new(Traffic::default());
    let t = Arc::clone(&traffic);
    c.net.set_filter(move |_, _, bytes| {
        t.note(&bytes);
        Some(bytes)
    });
    c.start_all().await;
    let ids = c.submit_every_coin(1);
    let counts = c.all_final(&ids, 30).await;
    // A block is final once a quorum (three of four) voted for it, so at least two validators
    // besides its proposer rebuilt it; no validator needed a full proposal.
    let rebuilding = counts.iter().filter(|c| c.0 > 0).count();
    assert!(
        rebuilding >= 2,
        "only {rebuilding} validators rebuilt compact proposals"
    );
    for (i, (_, _, fallbacks)) in counts.iter().enumerate() {
        assert_eq!(*fallbacks, 0, "node {i} asked for a full proposal");
    }
    assert!(
        traffic.compact_with_txs.load(Ordering::Relaxed) > 0,
        "no compact proposal carried transactions"
    );
    assert_eq!(
        traffic.full_proposals.load(Ordering::Relaxed),
        0,
        "a proposal crossed the network in full"
    );
    for i in 0..N {
        c.stop(i).await;
    }
}

/// Forwarding is cut (every `Txs` envelope dropped), so only the validator the transfers were
/// submitted to pools them: when it leads, the others rebuild its compact proposal by fetching the
/// transactions they lack from their sender, and the transfers become final on all four.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn validators_lacking_the_transactions_fetch_them_from_the_sender() {
    let mut c = Cluster::new("compact-fetch");
    let traffic = Arc::new(Traffic::default());
    let t = Arc::clone(&traffic);
    c.net.set_filter(move |_, _, bytes| {
        t.note(&bytes);
        (!Wire::is_bulk(&bytes)).then_some(bytes)
    });
    c.start_all().await;
    let ids = c.submit_every_coin(2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in [0, 1, 3] {
        assert!(
            ids.iter().all(|id| !c.chain(i).in_pool(id)),
            "node {i} got a transfer though forwarding is cut"
        );
    }
    let counts = c.all_final(&ids, 40).await;
    let fetched: u64 = counts.iter().map(|c| c.1).sum();
    assert!(
        fetched >= ids.len() as u64,
        "only {fetched} transactions fetched for {} transfers",
        ids.len()
    );
    // Final means three of four voted: at least two of the validators lacking the transfers
    // rebuilt the block, by fetching them (no full proposal was asked for).
    let fetching = [0, 1, 3].iter().filter(|&&i| counts[i].1 > 0).count();
    assert!(fetching >= 2, "only {fetching} validators fetched transactions");
    assert_eq!(
        counts.iter().map(|c| c.2).sum::<u64>(),
        0,
        "a full proposal was asked for"
    );
    assert!(traffic.tx_requests.load(Ordering::Relaxed) > 0);
    assert_eq!(traffic.full_proposals.load(Ordering::Relaxed), 0);
    for i in 0..N {
        c.stop(i).await;
    }
}

/// Forwarding is cut and every answer to a transaction request is garbage (undecodable
/// transactions, then the wrong count): the receivers refuse the answers, ask the sender for the
/// full proposal instead, and the transfers still become final on all four; no host stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn garbage_transaction_answers_fall_back_to_the_full_proposal() {
    let mut c = Cluster::new("compact-garbage");
    let traffic = Arc::new(Traffic::default());
    let t = Arc::clone(&traffic);
    let answers = Arc::new(AtomicU64::new(0));
    let a = Arc::clone(&answers);
    c.net.set_filter(move |_, _, bytes| {
        t.note(&bytes);
        if Wire::is_bulk(&bytes) {
            return None;
        }
        match Wire::decode(&bytes) {
            Ok(Wire::ProposalTxs { block, txs }) => {
                // Alternately transactions that do not decode and one transaction too few.
                let garbage = if a.fetch_add(1, Ordering::Relaxed).is_multiple_of(2) {
                    txs.iter().map(|_| vec![0xde, 0xad]).collect()
                } else {
                    txs.get(1..).unwrap_or_default().to_vec()
                };
                Some(Wire::ProposalTxs { block, txs: garbage }.encode())
            }
            _ => Some(bytes),
        }
    });
    c.start_all().await;
    let ids = c.submit_every_coin(3);
    let counts = c.all_final(&ids, 40).await;
    assert!(
        answers.load(Ordering::Relaxed) > 0,
        "no transaction request was answered"
    );
    // Final means three of four voted: at least two validators lacking the transfers got the
    // block, and every answer they could get was garbage, so each asked for the full proposal.
    let fallbacks: u64 = counts.iter().map(|c| c.2).sum();
    assert!(fallbacks >= 2, "only {fallbacks} full proposals asked for");
    assert_eq!(traffic.proposal_requests.load(Ordering::Relaxed), fallbacks);
    assert!(
        traffic.full_proposals.load(Ordering::Relaxed) > 0,
        "no full proposal answered the requests"
    );
    for i in 0..N {
        assert!(!c.nodes[i].as_ref().unwrap().is_finished(), "host {i} ended");
        c.stop(i).await;
    }
}

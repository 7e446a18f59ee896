//! Catch-up of a BBFT chain through window import (`ChainService::import_certified`): a source
//! chain of several hundred certified blocks with transfers in them is built directly (blocks from
//! the pool, certificates signed by every validator's BLS key), then
//! - a follower far behind catches up from a validator's p2p listener serving that chain, ends on
//!   the same blocks, and the sync metrics moved;
//! - a window whose middle block carries a transaction with a bad signature (under a valid
//!   certificate) commits exactly the blocks before it and reports that block;
//! - (ignored, `--nocapture`) catch-up speed in blocks/s and tx/s through `import_certified`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use consensus::bbft::{BlockId, Certificate, ValidatorSet, VoteData};
use crypto::bls::{SecretKey, Signature};
use crypto::chainkd::XPrv;
use ledger::ChainParams;
use node::bbft_host::follower::{self, FollowConfig};
use node::bbft_host::p2p_net::{P2pNetwork, PeerAddr, transport_config};
use node::bbft_host::validators::{GenesisSet, GenesisValidator, genesis_set};
use node::chain::bbft::{consensus_payload, genesis_id};
use node::chain::{ChainService, ChainSetup, ImportError, Overlay};
use node::devnet::{Coin, coins_of, sign_transfer};
use node::genesis::{devnet_genesis, p2wpkh_program_of};
use node::{Authority, MempoolConfig};
use storage::{ChainIdentity, RedbStore, StoreRead};
use types::{Block, Transaction};

mod common;

use common::bbft::{N, node_seed};
use common::{TempDir, now_ms};

const EACH: u64 = 1_000_000_000_000;
const FEE: u64 = 1_000_000;

/// A chain of certified blocks built without consensus: the validators' BLS keys sign each
/// block's finality certificate directly.
struct Source {
    dir: TempDir,
    genesis: Block,
    set: GenesisSet,
    keys: Vec<SecretKey>,
    chain: Arc<ChainService>,
    xprv: XPrv,
    program: Vec<u8>,
    coins: VecDeque<Coin>,
}

fn open_chain(path: &Path, genesis: &Block, set: &GenesisSet) -> ChainService {
    let params = ChainParams::side_devnet();
    let store = RedbStore::open(
        path,
        ChainIdentity {
            profile: params.profile,
            network: params.network,
            genesis_hash: genesis.hash(),
        },
    )
    .unwrap();
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
    .unwrap()
}

/// The finality certificate of the block `id` at `height`: a vote of every validator for a child
/// at the next round (a direct two-chain), aggregated.
fn certify(keys: &[SecretKey], set: &ValidatorSet, height: u64, id: BlockId) -> Certificate {
    let data = VoteData {
        epoch: 0,
        round: height + 1,
        height: height + 1,
        block: BlockId::compute(height + 1, &id, b"child"),
        parent: id,
        parent_round: height,
        phase: consensus::bbft::Phase::Prepare,
    };
    let msg = data.signing_bytes();
    let mut signers = consensus::bbft::Bitmap::new(set.len());
    let mut sigs: Vec<Signature> = Vec::new();
    for (i, v) in set.validators().iter().enumerate() {
        let k = keys.iter().find(|k| k.public_key() == v.key).unwrap();
        sigs.push(k.sign(&msg));
        signers.set(i);
    }
    Certificate {
        data,
        signers,
        signature: Signature::aggregate(&sigs).unwrap(),
    }
}

/// `blocks` (unwitnessed, consecutive, the first on the block whose id is `parent`) with their
/// certificates stored in the witness, as peers serve them.
fn certify_all(src: &Source, parent: BlockId, blocks: &[Block]) -> Vec<Block> {
    let mut prev = parent;
    blocks
        .iter()
        .map(|b| {
            let h = b.header().height;
            let id = BlockId::compute(h, &prev, &consensus_payload(b).unwrap());
            prev = id;
            let cert = certify(&src.keys, &src.set.bbft, h, id);
            let mut header = b.header().clone();
            header.consensus = types::block::HeaderConsensus::Witness {
                witness: vec![consensus::bbft::encode(&consensus::bbft::Message::Certificate(
                    cert,
                ))],
                suffix: Vec::new(),
            };
            Block::new(header, b.transactions().to_vec()).unwrap()
        })
        .collect()
}

impl Source {
    fn new(name: &str) -> Source {
        let dir = TempDir::new(&format!("sync-{name}"));
        let params = ChainParams::side_devnet();
        let xprv = XPrv::root(b"bbft sync dev account");
        let program = p2wpkh_program_of(&xprv.xpub());
        let genesis = devnet_genesis(&params, &program, 16, EACH, now_ms() - 1_000).unwrap();
        let coins = coins_of(&genesis.transactions()[1], &program).into();
        let keys: Vec<SecretKey> = (0..N)
            .map(|i| SecretKey::from_seed(&[u8::try_from(i).unwrap() + 1; 32]))
            .collect();
        let entries: Vec<GenesisValidator> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                let node_key = p2p::NodeKey::from_seed(&node_seed(i)).peer_id().0;
                GenesisValidator::of(&XPrv::root(&[9, u8::try_from(i).unwrap()]).xpub(), &node_key, k)
            })
            .collect();
        let set = genesis_set(&entries).unwrap();
        let chain = Arc::new(open_chain(&dir.0.join("source.redb"), &genesis, &set));
        Source {
            dir,
            genesis,
            set,
            keys,
            chain,
            xprv,
            program,
            coins,
        }
    }

    /// A fresh, empty chain of the same genesis and validators (a node far behind).
    fn empty_peer(&self, name: &str) -> ChainService {
        open_chain(&self.dir.0.join(format!("{name}.redb")), &self.genesis, &self.set)
    }

    /// `txs` signed transfers, each spending one coin into two.
    fn transfers(&mut self, txs: usize) -> Vec<Transaction> {
        (0..txs)
            .map(|_| {
                let coin = self.coins.pop_front().unwrap();
                let half = coin.amount / 2;
                let tx = sign_transfer(
                    &self.xprv,
                    std::slice::from_ref(&coin),
                    &[
                        (self.program.clone(), half),
                        (self.program.clone(), coin.amount - half - FEE),
                    ],
                )
                .unwrap();
                self.coins.extend(coins_of(&tx, &self.program));
                tx
            })
            .collect()
    }

    /// Adds `blocks` certified blocks of `txs` transfers each to the source chain.
    fn grow(&mut self, blocks: usize, txs: usize) {
        let chain = Arc::clone(&self.chain);
        let bbft = chain.bbft().unwrap();
        for _ in 0..blocks {
            for tx in self.transfers(txs) {
                self.chain.submit(tx).unwrap();
            }
            let parent = self.chain.tip_header();
            let (block, changes) = self
                .chain
                .build_bbft_block(&Overlay::default(), parent.timestamp + 500)
                .unwrap();
            assert_eq!(block.transactions().len(), txs + 1);
            let h = block.header().height;
            let id = BlockId::compute(h, &bbft.tip_id(), &consensus_payload(&block).unwrap());
            let cert = certify(&self.keys, &self.set.bbft, h, id);
            self.chain.commit_certified(&block, &changes, id, &cert).unwrap();
        }
    }

    /// Every committed block above genesis, stored form.
    fn blocks(&self) -> Vec<Block> {
        let tip = self.chain.tip().height;
        let mut all = Vec::new();
        while (all.len() as u64) < tip {
            let got = self.chain.committed_blocks(all.len() as u64 + 1, 1024).unwrap();
            assert!(!got.is_empty());
            all.extend(got);
        }
        all
    }
}

fn metric(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .map(|v| v.trim().parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_hundreds_of_blocks_behind_catches_up_by_windows() {
    let mut src = Source::new("follow");
    src.grow(320, 4);
    let tip = src.chain.tip();
    assert_eq!(tip.height, 320);

    // Validator 0's listener serves followers from the source chain (no consensus host needed).
    let genesis_hash = src.genesis.hash();
    let tcfg = transport_config(genesis_hash, 8 << 20);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (net, _inbox) = P2pNetwork::start(
        0,
        p2p::NodeKey::from_seed(&node_seed(0)),
        listener,
        Vec::new(),
        tcfg,
        Some(Arc::clone(&src.chain)),
    )
    .unwrap();

    let peer = Arc::new(src.empty_peer("follower"));
    let handle = follower::start(
        Arc::clone(&peer),
        p2p::NodeKey::from_seed(&[42; 32]),
        vec![PeerAddr {
            node: 0,
            addr: net.local_addr(),
            peer_id: p2p::NodeKey::from_seed(&node_seed(0)).peer_id(),
        }],
        tcfg,
        FollowConfig {
            poll_interval: Duration::from_millis(100),
            reply_timeout: Duration::from_secs(10),
        },
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while peer.tip().height < tip.height {
        assert!(Instant::now() < deadline, "stuck at {}", peer.tip().height);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    handle.stop().await;
    net.stop();

    // The same chain, block by block, with the source's certificates.
    assert_eq!(peer.tip(), tip);
    for h in 1..=tip.height {
        let mine = peer.store().block_hash(h).unwrap().unwrap();
        assert_eq!(Some(mine), src.chain.store().block_hash(h).unwrap(), "height {h}");
        assert_eq!(peer.bbft().unwrap().id_at(h), src.chain.bbft().unwrap().id_at(h));
    }
    let text = peer.metrics().render(&peer.pool_stats());
    assert_eq!(metric(&text, "tributary_sync_blocks_total"), Some(320), "{text}");
    assert_eq!(metric(&text, "tributary_sync_target_height"), Some(320), "{text}");
    assert_eq!(
        metric(&text, "tributary_transactions_committed_total"),
        Some(320 * 4)
    );
}

#[test]
fn a_window_with_a_bad_signature_commits_exactly_the_blocks_before_it() {
    let mut src = Source::new("corrupt");
    src.grow(40, 3);
    let good = src.blocks();
    assert_eq!(good.len(), 40);
    // Block 25: its second transfer's signature no longer matches (the transaction id, hence the
    // block hash and the Merkle root, exclude the witness), and every block is certified anew so
    // that the certificates are valid for the corrupted chain of ids.
    let bad_at = 25usize;
    let mut plain: Vec<Block> = good
        .iter()
        .map(|b| node::chain::bbft::unwitnessed(b).unwrap())
        .collect();
    {
        let b = &plain[bad_at - 1];
        let mut txs = b.transactions().to_vec();
        let mut data = txs[2].clone().into_data();
        let mut args = data.inputs[0].arguments().to_vec();
        args[0][0] ^= 1;
        data.inputs[0].set_arguments(args);
        txs[2] = Transaction::new(types::profile::Profile::Side, data).unwrap();
        let corrupted = Block::new(b.header().clone(), txs).unwrap();
        assert_eq!(corrupted.hash(), b.hash());
        plain[bad_at - 1] = corrupted;
    }
    let window = certify_all(&src, genesis_id(&src.genesis), &plain);

    let peer = src.empty_peer("peer");
    match peer.import_certified(&window) {
        Err(ImportError::Invalid { height, .. }) => assert_eq!(height, bad_at as u64),
        other => panic!("expected the block at {bad_at} refused, got {other:?}"),
    }
    assert_eq!(peer.tip().height, bad_at as u64 - 1);
    for h in 1..bad_at as u64 {
        assert_eq!(
            peer.store().block_hash(h).unwrap(),
            src.chain.store().block_hash(h).unwrap()
        );
    }
    assert_eq!(peer.store().block_hash(bad_at as u64).unwrap(), None);

    // The honest blocks from there on still import.
    assert_eq!(peer.import_certified(&good).unwrap(), 40 - (bad_at - 1));
    assert_eq!(peer.tip(), src.chain.tip());
}

/// Catch-up speed: every block of a source chain imported into an empty one through
/// `import_certified`, in replies of 64 blocks (as peers send them). Prints blocks/s and tx/s.
/// `SYNC_BENCH_BLOCKS` and `SYNC_BENCH_TXS` (per block) size the chain.
#[test]
#[ignore = "benchmark: run with --ignored --nocapture, in release"]
fn bench_catch_up() {
    let blocks: usize = std::env::var("SYNC_BENCH_BLOCKS").map_or(1000, |v| v.parse().unwrap());
    let txs: usize = std::env::var("SYNC_BENCH_TXS").map_or(16, |v| v.parse().unwrap());
    let mut src = Source::new("bench");
    let t = Instant::now();
    src.grow(blocks, txs);
    println!("built {blocks} blocks of {txs} transfers in {:.1?}", t.elapsed());
    let all = src.blocks();
    for run in 0..2 {
        let peer = src.empty_peer(&format!("peer{run}"));
        let t = Instant::now();
        let mut done = 0;
        for chunk in all.chunks(64) {
            done += peer.import_certified(chunk).unwrap();
        }
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(done, blocks);
        assert_eq!(peer.tip(), src.chain.tip());
        println!(
            "catch-up run {run}: {blocks} blocks, {} tx in {secs:.2} s: {:.0} blocks/s, {:.0} tx/s",
            blocks * txs,
            blocks as f64 / secs,
            (blocks * txs) as f64 / secs
        );
    }
}

//! DPoS elections drive BBFT's validator sets, in one process over the in-memory network: four
//! genesis validators (nodes 0–3) and a registered candidate (node 4) run a chain whose rounds
//! are 16 blocks. One transaction registers candidates 1–4 and votes for them, most for 4; at the
//! end of that round the elections fix {4, 1, 2, 3} as the next epoch's set. With validator 1
//! stopped, blocks keep becoming final in the new epoch, which needs node 4's votes (3 of 4), and
//! node 0, voted out, follows as a non-member. Validator 1 restarts and catches up across the
//! boundary; a store reopens with every certificate checked against its epoch's elected set, and
//! is refused when opened with other election parameters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use consensus::dpos::{ChainId, DposConfig};
use crypto::bls::SecretKey;
use crypto::chainkd::XPrv;
use ledger::ChainParams;
use node::bbft_host::validators::{GenesisSet, GenesisValidator, network_set};
use node::bbft_host::{self, BbftHandle, HostConfig, MemoryNetwork};
use node::chain::bbft::proof_of;
use node::chain::{ChainService, ChainSetup};
use node::devnet::{Ballot, Coin, coins_of, sign_election};
use node::elections::BbftSetup;
use node::genesis::{devnet_genesis, p2wpkh_program_of};
use node::{Authority, MempoolConfig, NodeError};
use storage::{ChainIdentity, RedbStore, StoreRead};
use types::{Block, Transaction};

mod common;
use common::TempDir;

/// Genesis validators, then one candidate.
const VALIDATORS: usize = 4;
const NODES: usize = 5;
const ROUND: u64 = 16;
const EACH: u64 = 1_000_000_000_000;
const STAKE: u64 = 100_000_000;

fn xprv(i: usize) -> XPrv {
    XPrv::root(&[b'e', u8::try_from(i).unwrap()])
}

fn bls(i: usize) -> SecretKey {
    SecretKey::from_seed(&[u8::try_from(40 + i).unwrap(); 32])
}

struct Net {
    dir: TempDir,
    net: MemoryNetwork,
    genesis: Block,
    set: GenesisSet,
    dpos: DposConfig,
    nodes: Vec<Option<BbftHandle>>,
    payer: XPrv,
    coins: Vec<Coin>,
}

fn open_chain(path: &Path, genesis: &Block, setup: BbftSetup) -> Result<ChainService, NodeError> {
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
                setup: Arc::new(setup),
            },
            mempool: MempoolConfig::default(),
            max_block_bytes: 8 << 20,
            max_block_gas: 10_000_000,
        },
    )
}

impl Net {
    fn new() -> Net {
        let params = ChainParams::side_devnet();
        let payer = XPrv::root(b"elections payer");
        let program = p2wpkh_program_of(&payer.xpub());
        let genesis = devnet_genesis(&params, &program, 4, EACH, common::now_ms() - 1_000).unwrap();
        let coins = coins_of(&genesis.transactions()[1], &program);
        let entries: Vec<GenesisValidator> = (0..NODES)
            .map(|i| GenesisValidator::of(&xprv(i).xpub(), &[u8::try_from(i + 1).unwrap(); 32], &bls(i)))
            .collect();
        let set = network_set(&entries[..VALIDATORS], &entries[VALIDATORS..]).unwrap();
        Net {
            dir: TempDir::new("elections"),
            net: MemoryNetwork::new(),
            genesis,
            set,
            // The vote rules are the chain's, as the node sets them.
            dpos: DposConfig::new(
                ROUND,
                VALIDATORS,
                1,
                STAKE,
                params.min_vote_output_amount,
                params.vote_maturity,
                0,
            )
            .unwrap(),
            nodes: (0..NODES).map(|_| None).collect(),
            payer,
            coins,
        }
    }

    fn store_path(&self, i: usize) -> PathBuf {
        let d = self.dir.0.join(format!("node{i}"));
        std::fs::create_dir_all(&d).unwrap();
        d.join("chain.redb")
    }

    fn start(&mut self, i: usize) {
        let path = self.store_path(i);
        let chain = Arc::new(open_chain(&path, &self.genesis, self.set.setup(self.dpos)).unwrap());
        let me = u32::try_from(i).unwrap();
        let (endpoint, inbox) = self.net.join(me);
        let cfg = HostConfig::new(me, bls(i), path.with_file_name("consensus.state"));
        self.nodes[i] = Some(bbft_host::start(chain, cfg, endpoint, inbox).unwrap());
    }

    async fn stop(&mut self, i: usize) {
        self.net.leave(u32::try_from(i).unwrap());
        self.nodes[i].take().unwrap().stop().await.unwrap();
    }

    fn chain(&self, i: usize) -> &Arc<ChainService> {
        self.nodes[i].as_ref().unwrap().chain()
    }

    fn running(&self) -> Vec<usize> {
        (0..NODES).filter(|&i| self.nodes[i].is_some()).collect()
    }

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
                    .map(|&i| (i, self.chain(i).final_height()))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Registers candidates 1–4 (each with its BLS key) and votes for them: 4 gets the most,
    /// then 3, 2, 1; validator 0 registers nothing and gets no vote.
    fn election_tx(&self) -> Transaction {
        let keys: Vec<(XPrv, SecretKey)> = (1..NODES).map(|i| (xprv(i), bls(i))).collect();
        let ballots: Vec<Ballot<'_>> = keys
            .iter()
            .zip(1u64..)
            .map(|((dpos, bls), i)| Ballot {
                dpos,
                bls,
                votes: STAKE * i,
            })
            .collect();
        let chain = ChainId::from(self.genesis.hash());
        sign_election(&self.payer, &self.coins[0], &chain, &ballots, 10_000_000).unwrap()
    }
}

fn block(chain: &ChainService, h: u64) -> Arc<Block> {
    chain.block_at(h).unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_elected_candidate_takes_over_from_a_voted_out_validator_at_the_round_end() {
    let mut n = Net::new();
    for i in 0..NODES {
        n.start(i);
    }
    n.wait("the first final block", 30, |c| c.final_height() >= 1)
        .await;
    // The candidate runs but is no member of epoch 0.
    let epoch0 = n.chain(4).bbft().unwrap().epoch(0).unwrap();
    assert_eq!((epoch0.first_height, epoch0.last_height), (1, ROUND));
    assert!(epoch0.set.validators().iter().all(|v| v.node != 4));

    let tx = n.election_tx();
    let id = tx.id();
    n.chain(2).submit(tx).unwrap();
    n.wait("the election transaction final", 30, |c| {
        c.store().tx_location(&id).unwrap().is_some()
    })
    .await;
    let voted_at = n.chain(2).store().tx_location(&id).unwrap().unwrap().block_height;
    let setup = n.chain(2).bbft().unwrap().setup().clone();
    let next = setup.epoch_of(voted_at) + 1;
    let (first, last) = setup.bounds(next);
    assert_eq!(last - first + 1, ROUND);
    eprintln!("votes final at height {voted_at}; epoch {next} runs heights {first}..={last}");

    // Validator 1 stops (before the boundary unless the votes landed on its last block).
    n.stop(1).await;
    n.wait("the new epoch under way", 60, |c| c.final_height() >= first + 6)
        .await;

    // The elected set, by votes: 4, 3, 2, 1 are ordered by stake, highest first.
    for i in n.running() {
        let epoch = n
            .chain(i)
            .bbft()
            .unwrap()
            .epoch(next)
            .expect("the next epoch is known");
        let nodes: Vec<u32> = epoch.set.validators().iter().map(|v| v.node).collect();
        assert_eq!(nodes, vec![4, 3, 2, 1], "node {i}");
        assert_eq!(epoch.set.get(0).unwrap().key, bls(4).public_key());
    }
    let metrics = n.chain(3).metrics().render(&n.chain(3).pool_stats());
    assert!(
        metrics.lines().any(|l| l
            .strip_prefix("tributary_bbft_epoch ")
            .and_then(|v| v.parse::<u64>().ok())
            >= Some(next)),
        "{metrics}"
    );
    assert!(metrics.contains("\ntributary_bbft_validators 4\n"), "{metrics}");
    let state = n.chain(3).bbft().unwrap().election_state();
    assert!(state.candidates().contains_key(&xprv(4).xpub()));
    assert_eq!(state.votes_for(&xprv(4).xpub()), 4 * STAKE);

    // Certificates of the new epoch, each signed by node 4 (with validator 1 down, no quorum of
    // {4, 3, 2, 1} forms without it); the last block of the old epoch is proven by the old set.
    let chain = n.chain(2);
    for h in first..=first + 5 {
        let proof = proof_of(&block(chain, h)).unwrap();
        assert_eq!(proof.data.epoch, next, "height {h}");
        assert!(proof.signers.get(0), "node 4 did not sign the certificate at {h}");
    }
    assert_eq!(proof_of(&block(chain, first - 1)).unwrap().data.epoch, next - 1);
    // Node 0, voted out, follows the chain without a vote.
    assert!(n.chain(0).final_height() >= first + 6);

    // Validator 1 restarts from a store that may end before the boundary, and catches up.
    n.start(1);
    let goal = n.chain(2).final_height() + 4;
    n.wait("validator 1 caught up", 60, |c| c.final_height() >= goal)
        .await;
    for h in 1..=goal {
        let hashes: Vec<_> = n.running().iter().map(|&i| block(n.chain(i), h).hash()).collect();
        assert!(
            hashes.windows(2).all(|w| w[0] == w[1]),
            "nodes differ at height {h}"
        );
    }

    // Every store reopens with its certificates checked against each epoch's elected set, and
    // refuses to open under a fixed genesis set (the default, longer rounds).
    for i in n.running() {
        n.stop(i).await;
    }
    for i in 0..NODES {
        let path = n.store_path(i);
        let reopened = open_chain(&path, &n.genesis, n.set.setup(n.dpos)).unwrap();
        assert!(reopened.final_height() >= goal);
        assert!(reopened.bbft().unwrap().highest_epoch() >= next);
        drop(reopened);
        let refused = open_chain(&path, &n.genesis, BbftSetup::fixed(n.set.dpos.clone()));
        assert!(
            matches!(refused, Err(NodeError::Corrupt(_))),
            "node {i}: {refused:?}"
        );
    }
}

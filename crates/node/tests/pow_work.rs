//! `get-work` / `submit-work` templates on the main chain (kept by tip, not evicted by polling) and
//! the payout a mining node needs (refused on mainnet without one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use ledger::ChainParams;
use ledger::testkit::{Key, coins_of, output, transfer};
use node::chain::pow::{ImportStatus, MAX_TEMPLATES, WorkError};
use node::chain::{ChainService, ChainSetup};
use node::genesis::main_devnet_genesis;
use node::{
    Authority, ImportError, MempoolConfig, MiningConfig, NodeError, PowAuthority, PowEngine, mining_program,
};
use pow::PowParams;
use pow::miner::{MineOutcome, MinerConfig};
use pow::validate::PowFunction;
use storage::{ChainIdentity, RedbStore};
use types::asset::AssetId;
use types::profile::Profile;
use types::{Block, BlockHeader, Hash};

/// sha3(block hash || seed): as unpredictable as Tensority for the target comparison, and instant.
struct CheapPow;

impl PowFunction for CheapPow {
    fn result(&self, block_hash: &Hash, seed: &Hash) -> Hash {
        let mut b = block_hash.0.to_vec();
        b.extend_from_slice(&seed.0);
        Hash(crypto::hash::sha3_256(&b))
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!("tributary-pow-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const EACH: u64 = 1_000_000_000_000;
const FEE: u64 = 10_000_000;

fn funder() -> Key {
    Key::from_seed(b"pow chain test funder")
}

/// A standard (P2WPKH) program of a test key.
fn prog(n: u8) -> Vec<u8> {
    Key::from_seed(&[n; 8]).program().to_vec()
}

fn genesis() -> Block {
    let now = pow_now();
    let program = funder().program().to_vec();
    main_devnet_genesis(&PowParams::devnet(), &vec![(program, EACH); 4], now - 3_600).unwrap()
}

fn pow_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn open(path: &Path, genesis: &Block, coinbase_program: &[u8]) -> Arc<ChainService> {
    let params = ChainParams::main_devnet();
    let store = RedbStore::open(
        path,
        ChainIdentity {
            profile: params.profile,
            network: params.network,
            genesis_hash: genesis.hash(),
        },
    )
    .unwrap();
    Arc::new(
        ChainService::open(
            store,
            ChainSetup {
                params,
                genesis: genesis.clone(),
                authority: Authority::ProofOfWork(PowAuthority {
                    params: PowParams::devnet(),
                    pow: PowEngine::new(CheapPow),
                    coinbase_program: coinbase_program.to_vec(),
                }),
                mempool: MempoolConfig::default(),
                max_block_bytes: 8 << 20,
                max_block_gas: 10_000_000,
            },
        )
        .unwrap(),
    )
}

fn mine(chain: &ChainService, program: &[u8]) -> Hash {
    let out = chain
        .mine_block(program, &MinerConfig { threads: 1 }, &AtomicBool::new(false))
        .unwrap()
        .expect("a block is found");
    assert_eq!(out.status, ImportStatus::BestChain);
    out.hash
}

/// Mines `header` (a template with its seed) with the cheap hash.
fn solve(header: &BlockHeader, seed: &Hash) -> BlockHeader {
    match pow::miner::mine(
        &CheapPow,
        header,
        seed,
        0..1_000_000,
        &MinerConfig { threads: 1 },
        &AtomicBool::new(false),
    )
    .unwrap()
    {
        MineOutcome::Found(h) => h,
        other => panic!("no nonce found: {other:?}"),
    }
}

#[test]
fn work_on_an_unchanged_tip_stays_valid_while_the_pool_changes() {
    let dir = TempDir::new("work");
    let g = genesis();
    let a = open(&dir.0.join("a.redb"), &g, &prog(1));
    let first = a.get_work(pow_now()).unwrap();
    let solved = solve(first.block.header(), &first.seed);
    // Transactions keep arriving (a chain of payments, each spending the last) and miners poll after
    // each: more templates than the old bound of eight, every one with other transactions.
    let key = funder();
    let mut coin = coins_of(&g.transactions()[0]).remove(0);
    let mut value = EACH;
    let mut roots = vec![first.block.header().transactions_merkle_root];
    for _ in 0..12 {
        value -= FEE;
        let tx = transfer(
            Profile::Main,
            &[(&coin, &key)],
            vec![output(key.program(), AssetId::BTM, value).unwrap()],
        )
        .unwrap();
        a.submit(tx.clone()).unwrap();
        coin = coins_of(&tx).remove(0);
        for _ in 0..3 {
            let t = a.get_work(pow_now()).unwrap();
            roots.push(t.block.header().transactions_merkle_root);
        }
    }
    roots.dedup();
    assert_eq!(roots.len(), 13);
    assert!(roots.len() <= MAX_TEMPLATES);
    // The first template's work is still accepted: the tip never moved.
    let out = a.submit_work(&solved).unwrap();
    assert_eq!(out.status, ImportStatus::BestChain);
    assert_eq!(a.tip().hash, solved.hash());
    // Once the tip moved, work on the old tip is stale.
    let old = a.get_work(pow_now()).unwrap();
    let old_solved = solve(old.block.header(), &old.seed);
    mine(&a, &prog(1));
    assert!(matches!(a.submit_work(&old_solved), Err(WorkError::Stale)));
}

#[test]
fn mining_without_a_payout_is_refused_on_mainnet_and_allowed_on_the_devnet() {
    let none = MiningConfig {
        enabled: true,
        ..MiningConfig::default()
    };
    let err = mining_program(&none, &ChainParams::main_mainnet()).unwrap_err();
    assert!(matches!(err, NodeError::Config(_)), "{err}");
    assert!(err.to_string().contains("anyone can spend"), "{err}");
    assert_eq!(
        mining_program(&none, &ChainParams::main_devnet()).unwrap(),
        vm::standard::default_coinbase_program()
    );
    // A control program that is not hex, or empty, would burn the rewards.
    for bad in ["zz", "0x51"] {
        let cfg = MiningConfig {
            control_program: bad.into(),
            ..none.clone()
        };
        assert!(matches!(
            mining_program(&cfg, &ChainParams::main_devnet()),
            Err(NodeError::Config(_))
        ));
    }
    // Blank is "not set": refused on mainnet like no payout at all.
    let blank = MiningConfig {
        control_program: "  ".into(),
        ..none.clone()
    };
    assert!(mining_program(&blank, &ChainParams::main_mainnet()).is_err());
    let program = prog(3);
    let given = MiningConfig {
        control_program: hex::encode(&program),
        ..none
    };
    assert_eq!(
        mining_program(&given, &ChainParams::main_mainnet()).unwrap(),
        program
    );
    // A node without a payout program gives no work.
    let dir = TempDir::new("nopayout");
    let g = genesis();
    let a = open(&dir.0.join("a.redb"), &g, &[]);
    assert!(matches!(a.get_work(pow_now()), Err(ImportError::NoPayout)));
}

//! A main-chain store imported from a snapshot: the node refuses it with a clear error (the snapshot
//! format does not carry what the block tree needs at the base), instead of calling it corrupt.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use ledger::ChainParams;
use ledger::testkit::Key;
use node::chain::pow::ImportStatus;
use node::chain::{ChainService, ChainSetup};
use node::genesis::main_devnet_genesis;
use node::{Authority, MempoolConfig, NodeError, PowAuthority, PowEngine};
use pow::PowParams;
use pow::miner::MinerConfig;
use pow::validate::PowFunction;
use storage::{ChainIdentity, RedbStore};
use types::{Block, Hash};

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

#[test]
fn a_main_chain_store_imported_from_a_snapshot_is_refused_with_a_clear_error() {
    let dir = TempDir::new("snapshot");
    let g = genesis();
    let a = open(&dir.0.join("a.redb"), &g, &prog(1));
    for _ in 0..3 {
        mine(&a, &prog(1));
    }
    let mut bytes = Vec::new();
    let info = a.store().export_snapshot(&mut bytes).unwrap();
    let path = dir.0.join("imported.redb");
    let (store, _) = storage::snapshot::import(bytes.as_slice(), &info.commitment, &path).unwrap();
    drop(store);
    let params = ChainParams::main_devnet();
    let store = RedbStore::open(
        &path,
        ChainIdentity {
            profile: params.profile,
            network: params.network,
            genesis_hash: g.hash(),
        },
    )
    .unwrap();
    let err = ChainService::open(
        store,
        ChainSetup {
            params,
            genesis: g.clone(),
            authority: Authority::ProofOfWork(PowAuthority {
                params: PowParams::devnet(),
                pow: PowEngine::new(CheapPow),
                coinbase_program: prog(1),
            }),
            mempool: MempoolConfig::default(),
            max_block_bytes: 8 << 20,
            max_block_gas: 10_000_000,
        },
    )
    .unwrap_err();
    assert!(matches!(err, NodeError::Config(_)), "{err}");
    let shown = err.to_string();
    assert!(
        shown.contains("snapshot") && shown.contains("from genesis"),
        "{shown}"
    );
}

//! What the main-chain (proof of work) tests share: a cheap hash in place of Tensority, stores in
//! temporary directories, a funded devnet genesis, mining and paying helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use ledger::ChainParams;
use ledger::testkit::{Key, coins_of, output, transfer};
use node::chain::pow::ImportStatus;
use node::chain::{ChainService, ChainSetup};
use node::genesis::main_devnet_genesis;
use node::{Authority, MempoolConfig, PowAuthority, PowEngine};
use pow::PowParams;
use pow::miner::{MineOutcome, MinerConfig};
use pow::validate::PowFunction;
use storage::{ChainIdentity, RedbStore, StoreRead};
use types::asset::AssetId;
use types::profile::Profile;
use types::{Block, BlockHeader, Hash, Transaction};

/// sha3(block hash || seed): as unpredictable as Tensority for the target comparison, and instant.
pub(crate) struct CheapPow;

impl PowFunction for CheapPow {
    fn result(&self, block_hash: &Hash, seed: &Hash) -> Hash {
        let mut b = block_hash.0.to_vec();
        b.extend_from_slice(&seed.0);
        Hash(crypto::hash::sha3_256(&b))
    }
}

pub(crate) const EACH: u64 = 1_000_000_000_000;
pub(crate) const FEE: u64 = 10_000_000;

pub(crate) fn funder() -> Key {
    Key::from_seed(b"pow chain test funder")
}

/// A standard (P2WPKH) program of a test key.
pub(crate) fn prog(n: u8) -> Vec<u8> {
    Key::from_seed(&[n; 8]).program().to_vec()
}

pub(crate) fn genesis() -> Block {
    let now = pow_now();
    let program = funder().program().to_vec();
    main_devnet_genesis(&PowParams::devnet(), &vec![(program, EACH); 4], now - 3_600).unwrap()
}

pub(crate) fn pow_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub(crate) fn open(path: &Path, genesis: &Block, coinbase_program: &[u8]) -> Arc<ChainService> {
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

pub(crate) fn mine(chain: &ChainService, program: &[u8]) -> Hash {
    let out = chain
        .mine_block(program, &MinerConfig { threads: 1 }, &AtomicBool::new(false))
        .unwrap()
        .expect("a block is found");
    assert_eq!(out.status, ImportStatus::BestChain);
    out.hash
}

pub(crate) fn blocks_of(chain: &ChainService) -> Vec<Block> {
    let tip = chain.tip().height;
    (1..=tip)
        .map(|h| chain.store().block_at(h).unwrap().unwrap())
        .collect()
}

pub(crate) fn pay(coin_index: usize, to: &[u8], genesis: &Block) -> Transaction {
    let key = funder();
    let coins = coins_of(&genesis.transactions()[0]);
    transfer(
        Profile::Main,
        &[(&coins[coin_index], &key)],
        vec![output(to, AssetId::BTM, EACH - FEE).unwrap()],
    )
    .unwrap()
}

/// Mines `header` (a template with its seed) with the cheap hash.
pub(crate) fn solve(header: &BlockHeader, seed: &Hash) -> BlockHeader {
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

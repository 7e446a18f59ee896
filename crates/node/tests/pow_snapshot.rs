//! A main-chain store imported from a snapshot: the node refuses it with a clear error (the snapshot
//! format does not carry what the block tree needs at the base), instead of calling it corrupt.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ledger::ChainParams;
use node::chain::{ChainService, ChainSetup};
use node::{Authority, MempoolConfig, NodeError, PowAuthority, PowEngine};
use pow::PowParams;
use storage::{ChainIdentity, RedbStore};

use common::TempDir;
use common::pow::{CheapPow, genesis, mine, open, prog};

#[test]
fn a_main_chain_store_imported_from_a_snapshot_is_refused_with_a_clear_error() {
    let dir = TempDir::new("snapshot");
    let g = genesis();
    let a = open(&dir.0.join("a.redb"), &g, &prog(1));
    for _ in 0..3 {
        mine(&a, &prog(1));
    }
    let mut bytes = Vec::new();
    let info = a.store().export_snapshot(&mut bytes, &[]).unwrap();
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

//! The pool journal through the chain service (solo devnet, real store): transactions accepted by
//! `submit` come back after the service is dropped without a block and reopened from the same
//! directory; replay drops what is on chain since, a torn or garbage journal is cut off, and the
//! journal is compacted to the pool's content on open and on demand.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};

use crypto::chainkd::XPrv;
use ledger::ChainParams;
use node::chain::{ChainService, ChainSetup, ProducerKey};
use node::devnet::{Coin, coins_of, sign_transfer};
use node::genesis::{devnet_genesis, p2wpkh_program_of};
use node::mempool::Admission;
use node::pool_journal::{RECORD_HEADER_BYTES, journal_path};
use node::{MempoolConfig, NodeError};
use storage::{ChainIdentity, RedbStore};
use types::{Block, Hash, Transaction};

mod common;

use common::TempDir;

const EACH: u64 = 1_000_000_000_000;
const FEE: u64 = 1_000_000;

struct Harness {
    dir: TempDir,
    xprv: XPrv,
    program: Vec<u8>,
    coins: Vec<Coin>,
    genesis: Block,
    producer: ProducerKey,
}

impl Harness {
    fn new(name: &str) -> Harness {
        let params = ChainParams::side_devnet();
        let xprv = XPrv::root(b"pool journal test account");
        let program = p2wpkh_program_of(&xprv.xpub());
        let genesis = devnet_genesis(&params, &program, 8, EACH, 1_700_000_000_000).unwrap();
        let coins = coins_of(&genesis.transactions()[1], &program);
        Harness {
            dir: TempDir::new(&format!("journal-{name}")),
            xprv,
            program,
            coins,
            genesis,
            producer: ProducerKey::from_seed(&[7; 32]),
        }
    }

    fn store_path(&self) -> PathBuf {
        self.dir.0.join("chain.redb")
    }

    fn journal(&self) -> PathBuf {
        journal_path(&self.store_path())
    }

    fn open(&self) -> Result<ChainService, NodeError> {
        let params = ChainParams::side_devnet();
        let store = RedbStore::open(
            self.store_path(),
            ChainIdentity {
                profile: params.profile,
                network: params.network,
                genesis_hash: self.genesis.hash(),
            },
        )?;
        ChainService::open(
            store,
            ChainSetup {
                params,
                genesis: self.genesis.clone(),
                authority: node::Authority::Solo {
                    producer_public: self.producer.public_key(),
                    producer_key: Some(self.producer.clone()),
                },
                mempool: MempoolConfig::default(),
                max_block_bytes: 8 << 20,
                max_block_gas: 10_000_000,
            },
        )
    }

    fn pay(&self, coin: &Coin) -> Transaction {
        sign_transfer(
            &self.xprv,
            std::slice::from_ref(coin),
            &[(self.program.clone(), coin.amount - FEE)],
        )
        .unwrap()
    }

    fn next(&self, tx: &Transaction) -> Coin {
        coins_of(tx, &self.program).remove(0)
    }
}

fn journal_len(path: &Path) -> u64 {
    std::fs::metadata(path).unwrap().len()
}

fn records_of(txs: &[&Transaction]) -> u64 {
    txs.iter()
        .map(|t| t.serialized_size() + RECORD_HEADER_BYTES as u64)
        .sum()
}

fn ids(block: &Block) -> Vec<Hash> {
    block.transactions().iter().skip(1).map(Transaction::id).collect()
}

#[test]
fn accepted_transactions_come_back_after_a_restart_without_a_block() {
    let h = Harness::new("restart");
    let chain = h.open().unwrap();
    // A ready transfer, its child (spending the pool's own output), an unrelated transfer, and an
    // orphan whose parent was never submitted.
    let a = h.pay(&h.coins[0]);
    let b = h.pay(&h.next(&a));
    let c = h.pay(&h.coins[1]);
    let parent = h.pay(&h.coins[2]);
    let orphan = h.pay(&h.next(&parent));
    for tx in [&a, &b, &c] {
        assert!(matches!(
            chain.submit(tx.clone()).unwrap().admission,
            Admission::Accepted { .. }
        ));
    }
    assert!(matches!(
        chain.submit(orphan.clone()).unwrap().admission,
        Admission::Orphaned { .. }
    ));
    // Each submit returned after its record was on disk.
    assert_eq!(journal_len(&h.journal()), records_of(&[&a, &b, &c, &orphan]));
    drop(chain);

    let chain = h.open().unwrap();
    let stats = chain.pool_stats();
    assert_eq!((stats.txs, stats.orphans), (3, 1));
    for tx in [&a, &b, &c] {
        assert!(chain.in_pool(&tx.id()));
    }
    let block = chain.produce_block(1_800_000_000_000).unwrap();
    let included = ids(&block);
    assert_eq!(included.len(), 3);
    for tx in [&a, &b, &c] {
        assert!(included.contains(&tx.id()));
    }
    let pos = |id: Hash| included.iter().position(|x| *x == id).unwrap();
    assert!(pos(a.id()) < pos(b.id()), "the parent before its child");
    // The orphan's parent arrives after the restart: the orphan is promoted and mined too.
    chain.submit(parent.clone()).unwrap();
    assert_eq!(chain.pool_stats().txs, 2);
    let block = chain.produce_block(1_800_000_001_000).unwrap();
    assert_eq!(ids(&block), vec![parent.id(), orphan.id()]);
}

#[test]
fn replay_drops_committed_transactions_and_compacts_the_journal() {
    let h = Harness::new("compact");
    let chain = h.open().unwrap();
    let a = h.pay(&h.coins[0]);
    let b = h.pay(&h.coins[1]);
    chain.submit(a.clone()).unwrap();
    chain.submit(b.clone()).unwrap();
    chain.produce_block(1_800_000_000_000).unwrap();
    let c = h.pay(&h.coins[2]);
    chain.submit(c.clone()).unwrap();
    // A duplicate is reported as accepted by the API: it is journaled again.
    assert!(chain.submit(c.clone()).is_err());
    assert_eq!(journal_len(&h.journal()), records_of(&[&a, &b, &c, &c]));
    drop(chain);
    // A torn record at the end (a kill in the middle of a write).
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(h.journal())
        .unwrap();
    f.write_all(&[200, 1, 0, 0, 9, 9]).unwrap();
    drop(f);

    let chain = h.open().unwrap();
    assert_eq!(chain.pool_stats().txs, 1);
    assert!(chain.in_pool(&c.id()));
    // Rewritten to exactly the pool: the committed ones, the duplicate and the torn tail are gone.
    assert_eq!(journal_len(&h.journal()), records_of(&[&c]));
    // Submissions go on after the rewrite.
    let d = h.pay(&h.coins[3]);
    chain.submit(d.clone()).unwrap();
    assert_eq!(journal_len(&h.journal()), records_of(&[&c, &d]));
    drop(chain);
    let chain = h.open().unwrap();
    assert_eq!(chain.pool_stats().txs, 2);
    assert!(chain.in_pool(&d.id()));
}

#[test]
fn compaction_while_running_keeps_exactly_the_pool() {
    let h = Harness::new("running");
    let chain = h.open().unwrap();
    let first: Vec<Transaction> = (0..4).map(|i| h.pay(&h.coins[i])).collect();
    for tx in &first {
        chain.submit(tx.clone()).unwrap();
    }
    chain.produce_block(1_800_000_000_000).unwrap();
    let rest: Vec<Transaction> = (4..6).map(|i| h.pay(&h.coins[i])).collect();
    for tx in &rest {
        chain.submit(tx.clone()).unwrap();
    }
    chain.compact_journal().unwrap();
    assert_eq!(journal_len(&h.journal()), records_of(&[&rest[0], &rest[1]]));
    let last = h.pay(&h.coins[6]);
    chain.submit(last.clone()).unwrap();
    drop(chain);
    let chain = h.open().unwrap();
    assert_eq!(chain.pool_stats().txs, 3);
    for tx in rest.iter().chain([&last]) {
        assert!(chain.in_pool(&tx.id()));
    }
}

#[test]
fn a_garbage_journal_is_cut_off_and_the_node_starts() {
    let h = Harness::new("garbage");
    drop(h.open().unwrap());
    let mut junk = vec![0xffu8; 64];
    junk.extend((0..=255u8).cycle().take(5000));
    std::fs::write(h.journal(), &junk).unwrap();
    let chain = h.open().unwrap();
    assert_eq!(chain.pool_stats().txs, 0);
    assert_eq!(journal_len(&h.journal()), 0);
    // And a journal record of something that is not a transaction is dropped on replay.
    drop(chain);
    let mut record = Vec::new();
    node::pool_journal::encode_record(b"not a transaction", 1 << 20, &mut record).unwrap();
    std::fs::write(h.journal(), &record).unwrap();
    let chain = h.open().unwrap();
    assert_eq!(chain.pool_stats().txs, 0);
    let a = h.pay(&h.coins[0]);
    chain.submit(a.clone()).unwrap();
    drop(chain);
    assert!(h.open().unwrap().in_pool(&a.id()));
}

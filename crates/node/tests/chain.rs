//! The chain service with its mempool and producer, on a real store: admission rules, block
//! production under gas/byte budgets, commit, restart and signature checks on load.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use crypto::chainkd::XPrv;
use ledger::ChainParams;
use node::chain::{ChainService, ChainSetup, ProducerKey, SubmitError, witness_is_valid};
use node::devnet::{Coin, coins_of, sign_transfer};
use node::genesis::{devnet_genesis, p2wpkh_program_of};
use node::mempool::{Admission, MempoolError};
use node::{MempoolConfig, NodeError};
use storage::{ChainIdentity, RedbStore, StoreRead};
use types::{Block, Transaction};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!("tributary-node-{name}-{}-{nanos}", std::process::id()));
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
const FEE: u64 = 1_000_000;

struct Harness {
    _dir: TempDir,
    path: PathBuf,
    chain: ChainService,
    xprv: XPrv,
    program: Vec<u8>,
    coins: Vec<Coin>,
    genesis: Block,
    producer: ProducerKey,
}

fn setup_with(name: &str, mempool: MempoolConfig, max_block_bytes: u64, max_block_gas: u64) -> Harness {
    let dir = TempDir::new(name);
    let params = ChainParams::side_devnet();
    let xprv = XPrv::root(b"node test dev account");
    let program = p2wpkh_program_of(&xprv.xpub());
    let genesis = devnet_genesis(&params, &program, 8, EACH, 1_700_000_000_000).unwrap();
    let coins = coins_of(&genesis.transactions()[1], &program);
    assert_eq!(coins.len(), 8);
    let producer = ProducerKey::from_seed(&[7; 32]);
    let path = dir.0.join("chain.redb");
    let chain = open(
        &path,
        &genesis,
        &producer,
        mempool,
        max_block_bytes,
        max_block_gas,
    )
    .unwrap();
    Harness {
        _dir: dir,
        path,
        chain,
        xprv,
        program,
        coins,
        genesis,
        producer,
    }
}

/// A harness with the given pool and the default block budgets.
fn setup_pool(name: &str, mempool: MempoolConfig) -> Harness {
    setup_with(name, mempool, 8 << 20, 10_000_000)
}

fn setup(name: &str) -> Harness {
    setup_pool(name, MempoolConfig::default())
}

fn open(
    path: &std::path::Path,
    genesis: &Block,
    producer: &ProducerKey,
    mempool: MempoolConfig,
    max_block_bytes: u64,
    max_block_gas: u64,
) -> Result<ChainService, NodeError> {
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
            authority: node::Authority::Solo {
                producer_public: producer.public_key(),
                producer_key: Some(producer.clone()),
            },
            mempool,
            max_block_bytes,
            max_block_gas,
        },
    )
}

impl Harness {
    fn pay(&self, coin: &Coin, fee: u64) -> Transaction {
        sign_transfer(
            &self.xprv,
            std::slice::from_ref(coin),
            &[(self.program.clone(), coin.amount - fee)],
        )
        .unwrap()
    }
    fn produce(&self) -> Arc<Block> {
        self.chain.produce_block(1_800_000_000_000).unwrap()
    }
}

#[test]
fn a_submitted_transfer_is_included_and_indexed() {
    let h = setup("include");
    let mut blocks = h.chain.subscribe();
    let tx = h.pay(&h.coins[0], FEE);
    let out = h.chain.submit(tx.clone()).unwrap();
    assert_eq!(out.tx_id, tx.id());
    assert!(matches!(out.admission, Admission::Accepted { .. }));
    assert!(h.chain.in_pool(&tx.id()));
    let block = h.produce();
    assert_eq!(block.header().height, 1);
    assert_eq!(block.transactions().len(), 2);
    assert_eq!(block.transactions()[1].id(), tx.id());
    assert!(witness_is_valid(block.header(), &h.producer.public_key()));
    assert_eq!(blocks.try_recv().unwrap().hash(), block.hash());
    assert!(!h.chain.in_pool(&tx.id()));
    let store = h.chain.store();
    let loc = store.tx_location(&tx.id()).unwrap().unwrap();
    assert_eq!((loc.block_height, loc.position), (1, 1));
    assert_eq!(store.utxo_entry(&h.coins[0].output_id).unwrap(), None);
    let new = coins_of(&tx, &h.program);
    assert!(store.utxo_entry(&new[0].output_id).unwrap().is_some());
    // Submitting it again: already on chain.
    assert!(matches!(h.chain.submit(tx), Err(SubmitError::AlreadyOnChain(_))));
    // Spending the same coin again: not unspent any more.
    let again = sign_transfer(
        &h.xprv,
        &[h.coins[0].clone()],
        &[(h.program.clone(), EACH - 2 * FEE)],
    )
    .unwrap();
    assert!(matches!(
        h.chain.submit(again),
        Err(SubmitError::Mempool(
            MempoolError::UnknownInput { .. } | MempoolError::Invalid(_)
        )) | Ok(node::Submitted {
            admission: Admission::Orphaned { .. },
            ..
        })
    ));
}

#[test]
fn conflicts_bad_signatures_and_duplicates_are_refused_with_reasons() {
    let h = setup("refuse");
    let a = h.pay(&h.coins[0], FEE);
    h.chain.submit(a.clone()).unwrap();
    assert!(matches!(
        h.chain.submit(a.clone()),
        Err(SubmitError::Mempool(MempoolError::Duplicate(_)))
    ));
    // Double spend of the same coin with another fee.
    let b = h.pay(&h.coins[0], FEE * 2);
    let err = h.chain.submit(b).unwrap_err();
    assert!(
        matches!(err, SubmitError::Mempool(MempoolError::Conflict { by, .. }) if by == a.id()),
        "{err}"
    );
    // Signed by another key.
    let other = XPrv::root(b"someone else");
    let forged = sign_transfer(&other, &[h.coins[1].clone()], &[(h.program.clone(), EACH - FEE)]).unwrap();
    let err = h.chain.submit(forged).unwrap_err();
    assert!(matches!(err, SubmitError::Invalid(_)), "{err}");
    // Spends more than it has.
    let greedy = sign_transfer(&h.xprv, &[h.coins[2].clone()], &[(h.program.clone(), EACH + 1)]).unwrap();
    assert!(matches!(h.chain.submit(greedy), Err(SubmitError::Invalid(_))));
    assert_eq!(h.chain.pool_stats().txs, 1);
}

#[test]
fn chained_spends_and_orphans() {
    let h = setup("chain");
    // a -> b -> c, each spending the previous one's output. Submit c and b first: orphans.
    let a = h.pay(&h.coins[0], FEE);
    let b = h.pay(&coins_of(&a, &h.program)[0], FEE);
    let c = h.pay(&coins_of(&b, &h.program)[0], FEE);
    assert!(matches!(
        h.chain.submit(c.clone()).unwrap().admission,
        Admission::Orphaned { .. }
    ));
    assert!(matches!(
        h.chain.submit(b.clone()).unwrap().admission,
        Admission::Orphaned { .. }
    ));
    assert_eq!(h.chain.pool_stats().orphans, 2);
    match h.chain.submit(a.clone()).unwrap().admission {
        Admission::Accepted { promoted, .. } => {
            assert_eq!(promoted, vec![b.id(), c.id()]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.chain.pool_stats().txs, 3);
    assert_eq!(h.chain.pool_stats().orphans, 0);
    let block = h.produce();
    let ids: Vec<_> = block.transactions().iter().skip(1).map(Transaction::id).collect();
    assert_eq!(ids, vec![a.id(), b.id(), c.id()]);
    assert!(!h.chain.has_pending());
}

#[test]
fn orphans_off_means_unknown_inputs_are_refused() {
    let h = setup_pool(
        "noorphan",
        MempoolConfig {
            max_orphans: 0,
            ..MempoolConfig::default()
        },
    );
    let a = h.pay(&h.coins[0], FEE);
    let b = h.pay(&coins_of(&a, &h.program)[0], FEE);
    let err = h.chain.submit(b).unwrap_err();
    assert!(
        matches!(err, SubmitError::Mempool(MempoolError::UnknownInput { .. })),
        "{err}"
    );
}

#[test]
fn a_committed_transfer_resubmitted_in_a_batch_is_already_on_chain() {
    // Batches do not look a spending transaction up in the index before its checks: admission
    // finds its coin gone, and only then is it found on chain. With orphans held or refused alike,
    // and nothing is left in the pool.
    for max_orphans in [MempoolConfig::default().max_orphans, 0] {
        let h = setup_pool(
            "resubmit",
            MempoolConfig {
                max_orphans,
                ..MempoolConfig::default()
            },
        );
        let tx = h.pay(&h.coins[0], FEE);
        h.chain.submit(tx.clone()).unwrap();
        h.produce();
        for origin in [node::Origin::Local, node::Origin::Peer] {
            let r = h.chain.submit_many(vec![tx.clone()], origin, false);
            assert!(
                matches!(r.as_slice(), [Err(SubmitError::AlreadyOnChain(id))] if *id == tx.id()),
                "max_orphans {max_orphans}: {r:?}"
            );
        }
        assert_eq!(h.chain.pool_stats().txs, 0);
        assert_eq!(h.chain.pool_stats().orphans, 0);
        // A transfer of a coin nobody has is still an orphan (or refused), not on chain.
        let unknown = h.pay(&coins_of(&h.pay(&h.coins[1], FEE), &h.program)[0], FEE);
        let r = h.chain.submit_many(vec![unknown], node::Origin::Local, false);
        if max_orphans == 0 {
            assert!(
                matches!(
                    r.as_slice(),
                    [Err(SubmitError::Mempool(MempoolError::UnknownInput { .. }))]
                ),
                "{r:?}"
            );
        } else {
            assert!(
                matches!(
                    r.as_slice(),
                    [Ok(node::chain::Submitted {
                        admission: Admission::Orphaned { .. },
                        ..
                    })]
                ),
                "{r:?}"
            );
        }
    }
    // A full pool that would refuse it still says it is on chain (not a refusal).
    let h = setup_pool(
        "resubmitfull",
        MempoolConfig {
            max_txs: 1,
            ..MempoolConfig::default()
        },
    );
    let tx = h.pay(&h.coins[0], FEE);
    h.chain.submit(tx.clone()).unwrap();
    h.produce();
    h.chain.submit(h.pay(&h.coins[1], FEE * 10)).unwrap();
    let r = h.chain.submit_many(vec![tx.clone()], node::Origin::Local, true);
    assert!(
        matches!(r.as_slice(), [Err(SubmitError::AlreadyOnChain(id))] if *id == tx.id()),
        "{r:?}"
    );
    // While a new one is refused.
    let r = h
        .chain
        .submit_many(vec![h.pay(&h.coins[2], FEE)], node::Origin::Local, true);
    assert!(matches!(r.as_slice(), [Err(e)] if e.is_refusal()), "{r:?}");
}

#[test]
fn full_pool_evicts_the_lowest_fee_rate() {
    let h = setup_pool(
        "evict",
        MempoolConfig {
            max_txs: 2,
            ..MempoolConfig::default()
        },
    );
    let low = h.pay(&h.coins[0], FEE);
    let mid = h.pay(&h.coins[1], FEE * 2);
    h.chain.submit(low.clone()).unwrap();
    h.chain.submit(mid.clone()).unwrap();
    // A lower fee than everything held: refused.
    let lower = h.pay(&h.coins[2], FEE / 2);
    let err = h.chain.submit(lower).unwrap_err();
    assert!(
        matches!(err, SubmitError::Mempool(MempoolError::PoolFull { .. })),
        "{err}"
    );
    // A higher fee: evicts the lowest.
    let high = h.pay(&h.coins[3], FEE * 3);
    match h.chain.submit(high.clone()).unwrap().admission {
        Admission::Accepted { evicted, .. } => assert_eq!(evicted, vec![low.id()]),
        other => panic!("{other:?}"),
    }
    assert!(!h.chain.in_pool(&low.id()));
    assert!(h.chain.in_pool(&mid.id()) && h.chain.in_pool(&high.id()));
    // Block order: highest fee rate first.
    let block = h.produce();
    assert_eq!(block.transactions()[1].id(), high.id());
    assert_eq!(block.transactions()[2].id(), mid.id());
}

#[test]
fn blocks_respect_the_gas_budget_and_empty_blocks_work() {
    // A budget for about two transfers per block.
    let h = setup_with("gas", MempoolConfig::default(), 8 << 20, 4_500);
    for c in &h.coins[..6] {
        h.chain.submit(h.pay(c, FEE)).unwrap();
    }
    let mut heights = Vec::new();
    while h.chain.has_pending() {
        let b = h.produce();
        assert!(b.transactions().len() >= 2, "no progress");
        assert!(b.transactions().len() <= 3);
        heights.push(b.header().height);
        assert!(heights.len() < 10);
    }
    assert!(heights.len() >= 2);
    let empty = h.produce();
    assert_eq!(empty.transactions().len(), 1);
    // Timestamps move forward by at least the block interval.
    let s = h.chain.store();
    let t1 = s.block_at(1).unwrap().unwrap().header().timestamp;
    let t2 = s.block_at(2).unwrap().unwrap().header().timestamp;
    assert!(t2 >= t1 + 500);
}

#[test]
fn restart_keeps_state_and_checks_block_signatures() {
    let h = setup("restart");
    let tx = h.pay(&h.coins[0], FEE);
    h.chain.submit(tx.clone()).unwrap();
    h.produce();
    h.produce();
    let utxos = h.chain.store().utxos().unwrap();
    let Harness {
        chain,
        path,
        genesis,
        producer,
        _dir,
        ..
    } = h;
    drop(chain);
    let again = open(
        &path,
        &genesis,
        &producer,
        MempoolConfig::default(),
        8 << 20,
        10_000_000,
    )
    .unwrap();
    assert_eq!(again.tip().height, 2);
    assert_eq!(again.store().utxos().unwrap(), utxos);
    assert!(again.store().tx_location(&tx.id()).unwrap().is_some());
    drop(again);
    // Another producer key: the stored blocks do not carry its signatures.
    let other = ProducerKey::from_seed(&[8; 32]);
    let err = open(
        &path,
        &genesis,
        &other,
        MempoolConfig::default(),
        8 << 20,
        10_000_000,
    )
    .unwrap_err();
    assert!(err.to_string().contains("producer's signature"), "{err}");
    // Another genesis: refused by the store.
    let params = ChainParams::side_devnet();
    let g2 = devnet_genesis(&params, &[0x51], 1, 5, 1).unwrap();
    assert!(
        open(
            &path,
            &g2,
            &producer,
            MempoolConfig::default(),
            8 << 20,
            10_000_000
        )
        .is_err()
    );
}

#[test]
fn eviction_takes_descendants_and_never_the_newcomers_parent() {
    let h = setup_pool(
        "evict-desc",
        MempoolConfig {
            max_txs: 3,
            ..MempoolConfig::default()
        },
    );
    let a = h.pay(&h.coins[0], FEE);
    let b = h.pay(&coins_of(&a, &h.program)[0], FEE * 3);
    let c = h.pay(&h.coins[1], FEE * 2);
    for t in [&a, &b, &c] {
        h.chain.submit(t.clone()).unwrap();
    }
    // The lowest fee rate is a; b spends a's output, so both go.
    let d = h.pay(&h.coins[2], FEE * 5);
    match h.chain.submit(d.clone()).unwrap().admission {
        Admission::Accepted { evicted, .. } => assert_eq!(evicted, vec![a.id(), b.id()]),
        other => panic!("{other:?}"),
    }
    assert_eq!(h.chain.pool_stats().txs, 2);
    // Now c (2M) is the lowest. A child of c paying a lot cannot evict its own parent.
    let e = h.pay(&h.coins[3], FEE * 4);
    h.chain.submit(e).unwrap();
    let child = h.pay(&coins_of(&c, &h.program)[0], FEE * 9);
    let err = h.chain.submit(child).unwrap_err();
    assert!(
        matches!(err, SubmitError::Mempool(MempoolError::PoolFull { .. })),
        "{err}"
    );
    assert!(h.chain.in_pool(&c.id()));
    // Everything left is still valid together: one block takes it all.
    let block = h.produce();
    assert_eq!(block.transactions().len(), 4);
}

#[test]
fn the_orphan_area_is_bounded_oldest_out_first() {
    let h = setup_pool(
        "orphan-bound",
        MempoolConfig {
            max_orphans: 2,
            ..MempoolConfig::default()
        },
    );
    // Three children of three parents not submitted yet.
    let parents: Vec<Transaction> = h.coins[..3].iter().map(|c| h.pay(c, FEE)).collect();
    let children: Vec<Transaction> = parents
        .iter()
        .map(|p| h.pay(&coins_of(p, &h.program)[0], FEE))
        .collect();
    for c in &children {
        assert!(matches!(
            h.chain.submit(c.clone()).unwrap().admission,
            Admission::Orphaned { .. }
        ));
    }
    assert_eq!(h.chain.pool_stats().orphans, 2);
    // The first child was dropped: its parent promotes nothing; the others' parents promote them.
    match h.chain.submit(parents[0].clone()).unwrap().admission {
        Admission::Accepted { promoted, .. } => assert!(promoted.is_empty()),
        other => panic!("{other:?}"),
    }
    match h.chain.submit(parents[2].clone()).unwrap().admission {
        Admission::Accepted { promoted, .. } => assert_eq!(promoted, vec![children[2].id()]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_transaction_that_expires_in_the_pool_is_dropped_by_block_validation() {
    // Room for one transfer per block.
    let h = setup_with("expire", MempoolConfig::default(), 8 << 20, 2_500);
    let first = h.pay(&h.coins[0], FEE * 10);
    let coin = &h.coins[1];
    // Valid up to height 1 only, and paying less: it waits for block 2 and expires.
    let expiring = node::devnet::sign_transfer_until(
        &h.xprv,
        std::slice::from_ref(coin),
        &[(h.program.clone(), coin.amount - FEE)],
        1,
    )
    .unwrap();
    h.chain.submit(first.clone()).unwrap();
    h.chain.submit(expiring.clone()).unwrap();
    let b1 = h.produce();
    assert_eq!(b1.transactions()[1].id(), first.id());
    assert_eq!(b1.transactions().len(), 2);
    let b2 = h.produce();
    assert_eq!(
        b2.transactions().len(),
        1,
        "the expired transfer is not in block 2"
    );
    assert!(!h.chain.in_pool(&expiring.id()));
    assert!(!h.chain.has_pending());
}

/// A batch that stops at its first refusal (`submit-transactions`) admits exactly the ones before
/// it, also when the refusal lies past the first chunk it checks; without stopping, every other
/// one is admitted and those already pooled count as duplicates.
#[test]
fn a_batch_stopping_at_a_refusal_admits_exactly_the_ones_before_it() {
    let h = setup("batch-chunks");
    let n = 300usize;
    let fan_fee = 100 * FEE;
    let per = (EACH - fan_fee) / n as u64;
    let outs: Vec<(Vec<u8>, u64)> = (0..n).map(|_| (h.program.clone(), per)).collect();
    let fan = sign_transfer(&h.xprv, std::slice::from_ref(&h.coins[0]), &outs).unwrap();
    h.chain.submit(fan.clone()).unwrap();
    h.produce();
    let coins = coins_of(&fan, &h.program);
    assert_eq!(coins.len(), n);
    let mut txs: Vec<Transaction> = coins.iter().map(|c| h.pay(c, FEE)).collect();
    // Signed by another key, at a position past the first chunk.
    let other = XPrv::root(b"someone else");
    txs[200] = sign_transfer(
        &other,
        std::slice::from_ref(&coins[200]),
        &[(h.program.clone(), coins[200].amount - FEE)],
    )
    .unwrap();
    let results = h.chain.submit_many(txs.clone(), node::Origin::Local, true);
    assert_eq!(results.len(), 201);
    assert!(results[..200].iter().all(Result::is_ok));
    assert!(
        matches!(results[200], Err(SubmitError::Invalid(_))),
        "{:?}",
        results[200]
    );
    assert_eq!(h.chain.pool_stats().txs, 200);

    let results = h.chain.submit_many(txs, node::Origin::Local, false);
    assert_eq!(results.len(), n);
    let refused: Vec<usize> = (0..n)
        .filter(|&i| matches!(&results[i], Err(e) if e.is_refusal()))
        .collect();
    assert_eq!(refused, vec![200]);
    assert!(
        results[..200]
            .iter()
            .all(|r| matches!(r, Err(SubmitError::Mempool(MempoolError::Duplicate(_)))))
    );
    assert_eq!(h.chain.pool_stats().txs, n - 1);
}

#[test]
fn a_full_pool_refuses_what_it_cannot_take_before_checking_signatures() {
    let h = setup_pool(
        "full-before-checks",
        MempoolConfig {
            max_txs: 2,
            ..MempoolConfig::default()
        },
    );
    h.chain.submit(h.pay(&h.coins[0], FEE * 2)).unwrap();
    h.chain.submit(h.pay(&h.coins[1], FEE * 2)).unwrap();
    // Signed by a key that does not own the coins: a check would find it invalid. A full pool
    // answers "full" without checking, for a fee rate at or below the lowest held.
    let other = XPrv::root(b"not the owner");
    let forged = |coin: &Coin, fee: u64| {
        sign_transfer(
            &other,
            std::slice::from_ref(coin),
            &[(h.program.clone(), coin.amount - fee)],
        )
        .unwrap()
    };
    let full =
        |r: &Result<_, SubmitError>| matches!(r, Err(SubmitError::Mempool(MempoolError::PoolFull { .. })));
    assert!(full(&h.chain.submit(forged(&h.coins[2], FEE))));
    assert!(full(&h.chain.submit(forged(&h.coins[2], FEE * 2))));
    let batch = vec![forged(&h.coins[2], FEE), forged(&h.coins[3], FEE)];
    let results = h.chain.submit_many(batch.clone(), node::Origin::Local, false);
    assert!(results.iter().all(full), "{results:?}");
    // Stopping at the first refusal: one answer.
    let results = h.chain.submit_many(batch, node::Origin::Local, true);
    assert_eq!(results.len(), 1);
    assert!(full(&results[0]));
    // A higher fee rate could evict, so it is checked: the forgery is found invalid.
    let err = h.chain.submit(forged(&h.coins[2], FEE * 3)).unwrap_err();
    assert!(matches!(err, SubmitError::Invalid(_)), "{err}");
    assert_eq!(h.chain.pool_stats().txs, 2);
}

#[test]
fn local_clients_leave_the_last_eighth_of_the_pool_to_forwarded_transactions() {
    let h = setup_pool(
        "headroom",
        MempoolConfig {
            max_txs: 8,
            ..MempoolConfig::default()
        },
    );
    for c in &h.coins[..7] {
        h.chain.submit(h.pay(c, FEE)).unwrap();
    }
    // Seven of eight held: a local client's transaction at the same fee rate is refused ...
    let last = h.pay(&h.coins[7], FEE);
    let err = h.chain.submit(last.clone()).unwrap_err();
    assert!(
        matches!(err, SubmitError::Mempool(MempoolError::PoolFull { .. })),
        "{err}"
    );
    let r = h.chain.submit_many(vec![last.clone()], node::Origin::Local, true);
    assert!(matches!(
        r[0],
        Err(SubmitError::Mempool(MempoolError::PoolFull { .. }))
    ));
    // ... while the same transaction forwarded by another validator takes the last place.
    let r = h.chain.submit_many(vec![last.clone()], node::Origin::Peer, false);
    assert!(r[0].is_ok(), "{:?}", r[0]);
    assert!(h.chain.in_pool(&last.id()));
    assert_eq!(h.chain.pool_stats().txs, 8);
}

//! Property test of the pool and the producer: random submissions (chains, double spends, unknown
//! inputs, fee levels) into a small pool, with blocks in between. Every transaction the pool accepted
//! (directly or promoted from the orphan area) ends up in a block unless it was reported evicted;
//! block production never fails; no output is spent twice; the stored UTXO set never holds an
//! output a block spent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;

use crypto::chainkd::XPrv;
use ledger::ChainParams;
use node::chain::{ChainService, ChainSetup, ProducerKey};
use node::devnet::{Coin, coins_of, sign_transfer};
use node::genesis::{devnet_genesis, p2wpkh_program_of};
use node::mempool::Admission;
use node::{MempoolConfig, Submitted};
use proptest::prelude::*;
use storage::{ChainIdentity, RedbStore, StoreRead};
use types::Hash;

#[derive(Debug, Clone)]
enum Op {
    /// Spend known coin `coin % known`, paying fee level `fee`, into `outs` outputs.
    Submit {
        coin: usize,
        fee: u8,
        outs: u8,
    },
    Produce,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0usize..1000, 1u8..6, 1u8..3).prop_map(|(coin, fee, outs)| Op::Submit { coin, fee, outs }),
        1 => Just(Op::Produce),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]
    #[test]
    fn accepted_transactions_are_included_unless_evicted(ops in proptest::collection::vec(op(), 1..40)) {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        let dir = std::env::temp_dir().join(format!("tributary-mempool-prop-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let params = ChainParams::side_devnet();
        let xprv = XPrv::root(b"mempool property");
        let program = p2wpkh_program_of(&xprv.xpub());
        let genesis = devnet_genesis(&params, &program, 4, 1_000_000_000_000, 1_700_000_000_000).unwrap();
        let producer = ProducerKey::from_seed(&[5; 32]);
        let store = RedbStore::open(dir.join("chain.redb"), ChainIdentity {
            profile: params.profile, network: params.network, genesis_hash: genesis.hash(),
        }).unwrap();
        let chain = ChainService::open(store, ChainSetup {
            params,
            genesis: genesis.clone(),
            authority: node::Authority::Solo {
                producer_public: producer.public_key(),
                producer_key: Some(producer),
            },
            // A small pool and small blocks, so eviction and budgets matter.
            mempool: MempoolConfig { max_txs: 6, max_orphans: 3, ..MempoolConfig::default() },
            max_block_bytes: 8 << 20,
            max_block_gas: 6_000,
        }).unwrap();

        let mut known: Vec<Coin> = coins_of(&genesis.transactions()[1], &program);
        let mut accepted: HashSet<Hash> = HashSet::new();
        let mut evicted: HashSet<Hash> = HashSet::new();
        let mut now = 1_800_000_000_000u64;
        let produce = |chain: &ChainService, now: &mut u64| {
            *now += 500;
            chain.produce_block(*now).unwrap()
        };
        for op in ops {
            match op {
                Op::Submit { coin, fee, outs } => {
                    let c = known[coin % known.len()].clone();
                    let fee = 100_000 * u64::from(fee);
                    let per = (c.amount - fee) / u64::from(outs);
                    let outputs: Vec<(Vec<u8>, u64)> = (0..outs).map(|_| (program.clone(), per)).collect();
                    let tx = sign_transfer(&xprv, std::slice::from_ref(&c), &outputs).unwrap();
                    known.extend(coins_of(&tx, &program));
                    if let Ok(Submitted { admission: Admission::Accepted { evicted: ev, promoted }, tx_id }) = chain.submit(tx) {
                        accepted.insert(tx_id);
                        accepted.extend(promoted);
                        for e in ev {
                            evicted.insert(e);
                        }
                    }
                }
                Op::Produce => {
                    produce(&chain, &mut now);
                }
            }
        }
        let mut rounds = 0;
        while chain.has_pending() {
            produce(&chain, &mut now);
            rounds += 1;
            prop_assert!(rounds < 100, "the pool does not drain");
        }
        let store = chain.store();
        let mut spent = HashSet::new();
        for tx_id in &accepted {
            let included = store.tx_location(tx_id).unwrap().is_some();
            if evicted.contains(tx_id) {
                // Evicted: it may or may not have come back (the same bytes can be submitted again).
                continue;
            }
            prop_assert!(included, "accepted {} is not on chain", tx_id);
        }
        let tip = store.tip().unwrap().unwrap();
        if std::env::var_os("MEMPOOL_PROP_STATS").is_some() {
            eprintln!("accepted {} evicted {} blocks {}", accepted.len(), evicted.len(), tip.height);
        }
        for h in 1..=tip.height {
            for tx in store.block_at(h).unwrap().unwrap().transactions() {
                for i in &tx.ids().inputs {
                    if let Some(id) = i.spent_output_id {
                        prop_assert!(spent.insert(id), "output {} spent twice", id);
                    }
                }
            }
        }
        for (id, _) in store.utxos().unwrap() {
            prop_assert!(!spent.contains(&id));
        }
        drop(chain);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

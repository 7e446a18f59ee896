//! The asset registry and BAP-02 lots in the redb store: blocks of real issuances and transfers
//! validated against the store itself, committed, compared with `ledger::MemoryUtxoSet` after every
//! step, across a restart, and unwound back to genesis.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use ledger::testkit::{self, Key};
use ledger::{AssetChanges, ChainParams, LotId, MemoryUtxoSet, UtxoView, validate_block};
use storage::{ChainIdentity, FORMAT_VERSION, RedbStore, StoreError, StoreRead, StoreWrite};
use types::asset_class::AssetClass;
use types::block::HeaderConsensus;
use types::profile::{Network, Profile};
use types::{AssetId, Block, BlockHeader, Hash, Transaction, TxOutput};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let p = std::env::temp_dir().join(format!(
            "tributary-storage-assets-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn file(&self) -> PathBuf {
        self.0.join("chain.redb")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const ATOMIC: &[u8] = br#"{"bap":"BAP-02","name":"lot"}"#;
const QUARK: &[u8] = br#"{"bap":"BAP-03","name":"item"}"#;
const QUANTUM: &[u8] = br#"{"bap":"BAP-04","decimals":1}"#;

fn genesis(miner: &Key) -> Block {
    let cb = testkit::coinbase(
        Profile::Main,
        0,
        vec![testkit::output(miner.program(), AssetId::BTM, 1_000).unwrap()],
    )
    .unwrap();
    let header = BlockHeader {
        version: 1,
        height: 0,
        previous_block_hash: Hash::ZERO,
        timestamp: 1,
        transactions_merkle_root: types::merkle::tx_merkle_root(&[cb.id()]),
        transaction_status_hash: types::merkle::status_merkle_root(&[false]),
        commitment_suffix: Vec::new(),
        consensus: HeaderConsensus::Pow { nonce: 0, bits: 0 },
    };
    Block::new(header, vec![cb]).unwrap()
}

fn out(k: &Key, asset: AssetId, amount: u64) -> TxOutput {
    testkit::output(k.program(), asset, amount).unwrap()
}

fn issue(issuer: &Key, def: &[u8], nonce: &[u8], amount: u64, outputs: Vec<TxOutput>) -> Transaction {
    testkit::signed(
        Profile::Main,
        vec![(testkit::issuance(issuer, def, nonce, amount).unwrap(), issuer)],
        outputs,
    )
    .unwrap()
}

fn next_block(params: &ChainParams, parent: &BlockHeader, miner: &Key, txs: Vec<Transaction>) -> Block {
    let height = parent.height + 1;
    let cb = testkit::coinbase(
        Profile::Main,
        height,
        vec![
            testkit::output(
                miner.program(),
                AssetId::BTM,
                params.block_subsidy(height).unwrap(),
            )
            .unwrap(),
        ],
    )
    .unwrap();
    let mut all = vec![cb];
    all.extend(txs);
    testkit::block(parent, all, height + 1).unwrap()
}

/// The whole state of the store and of the memory set agree.
fn same_state(store: &RedbStore, mem: &MemoryUtxoSet) {
    let utxos: Vec<_> = mem.iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(store.utxos().unwrap(), utxos);
    let claims: Vec<Hash> = mem.claims().copied().collect();
    assert_eq!(store.claimed_outputs().unwrap(), claims);
    let assets: Vec<_> = mem.assets().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(store.assets().unwrap(), assets);
    let lots: Vec<_> = mem.lots().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(store.lots().unwrap(), lots);
}

#[test]
fn registry_and_lots_commit_restart_and_unwind() {
    let dir = TempDir::new("commit");
    let params = ChainParams::main_mainnet();
    let miner = Key::from_seed(b"miner");
    let ks: Vec<Key> = (0..3).map(|i| Key::from_seed(&[i])).collect();
    let g = genesis(&miner);
    let id = ChainIdentity {
        profile: Profile::Main,
        network: Network::Devnet,
        genesis_hash: g.hash(),
    };
    let atomic = testkit::issued_asset(&ks[0], ATOMIC);
    let quark = testkit::issued_asset(&ks[0], QUARK);
    let quantum = testkit::issued_asset(&ks[0], QUANTUM);

    let mut mem = MemoryUtxoSet::new();
    let mut history: Vec<(ledger::ChangeSet, AssetChanges, Vec<u8>)> = Vec::new();
    let mut blocks = vec![g.clone()];
    {
        let store = RedbStore::open(dir.file(), id).unwrap();
        let gcs = ledger::genesis_change_set(&g);
        store.commit_block(&g, &gcs).unwrap();
        let before = mem.encode();
        let ga = mem.apply_block(&g, &gcs).unwrap();
        assert!(ga.is_empty());
        history.push((gcs, ga, before));
        same_state(&store, &mem);

        // Block 1: issue a lot, a quark and quantum units.
        let t_lot = issue(&ks[0], ATOMIC, b"1", 90, vec![out(&ks[1], atomic, 90)]);
        let t_quark = issue(&ks[0], QUARK, b"1", 1, vec![out(&ks[1], quark, 1)]);
        let t_quantum = issue(&ks[0], QUANTUM, b"1", 50, vec![out(&ks[2], quantum, 50)]);
        // Block 2: split the lot, hand the quark on, retire quantum units.
        let lot_coin = testkit::coins_of(&t_lot).remove(0);
        let split = testkit::transfer(
            Profile::Main,
            &[(&lot_coin, &ks[1])],
            vec![out(&ks[1], atomic, 30), out(&ks[2], atomic, 60)],
        )
        .unwrap();
        let quark_coin = testkit::coins_of(&t_quark).remove(0);
        let give = testkit::transfer(
            Profile::Main,
            &[(&quark_coin, &ks[1])],
            vec![out(&ks[2], quark, 1)],
        )
        .unwrap();
        let units = testkit::coins_of(&t_quantum).remove(0);
        let retire = testkit::transfer(
            Profile::Main,
            &[(&units, &ks[2])],
            vec![
                out(&ks[2], quantum, 40),
                testkit::retirement(quantum, 10).unwrap(),
            ],
        )
        .unwrap();
        // Block 3: a second lot.
        let t_lot2 = issue(&ks[0], ATOMIC, b"2", 5, vec![out(&ks[0], atomic, 5)]);

        for txs in [
            vec![t_lot.clone(), t_quark, t_quantum],
            vec![split.clone(), give, retire],
            vec![t_lot2],
        ] {
            let parent = blocks.last().unwrap().header().clone();
            let b = next_block(&params, &parent, &miner, txs);
            // Validated against the store itself.
            let cs = validate_block(&b, &parent, &store, &params, &[]).unwrap();
            store.commit_block(&b, &cs).unwrap();
            let before = mem.encode();
            let a = mem.apply_block(&b, &cs).unwrap();
            assert_eq!(store.asset_changes(b.header().height).unwrap(), Some(a.clone()));
            history.push((cs, a, before));
            blocks.push(b);
            same_state(&store, &mem);
        }
        assert_eq!(
            store.asset_record(&quark).unwrap().unwrap().class,
            AssetClass::Quark
        );
        assert_eq!(
            store.asset_record(&quantum).unwrap().unwrap().class,
            AssetClass::Quantum { decimals: 1 }
        );
        let lot1 = LotId(t_lot.ids().inputs[0].input_id);
        let parts = testkit::coins_of(&split);
        assert_eq!(store.lot(&parts[0].output_id).unwrap(), Some(lot1));
        assert_eq!(UtxoView::lot(&store, &parts[1].output_id).unwrap(), Some(lot1));
        assert_eq!(store.lots().unwrap().len(), 3);
    }

    // Restart: the registry and lots are still there and still enforced.
    let store = RedbStore::open(dir.file(), id).unwrap();
    same_state(&store, &mem);
    let tip = blocks.last().unwrap().header().clone();
    let again = next_block(
        &params,
        &tip,
        &miner,
        vec![issue(&ks[0], QUARK, b"2", 1, vec![out(&ks[0], quark, 1)])],
    );
    assert!(matches!(
        validate_block(&again, &tip, &store, &params, &[]),
        Err(ledger::BlockRejection::Tx {
            reason: ledger::TxRejection::QuarkReissued { .. },
            ..
        })
    ));
    // Committing it anyway (skipping validation) is refused and writes nothing.
    let cs = validate_block(&again, &tip, &MemoryUtxoSet::new(), &params, &[]).unwrap();
    assert!(matches!(
        store.commit_block(&again, &cs),
        Err(StoreError::Inconsistent(_))
    ));
    same_state(&store, &mem);

    // Unwind every block to genesis, comparing with the memory set at each step.
    while let Some((cs, a, before)) = history.pop() {
        let unwound = store.unwind_tip().unwrap().unwrap();
        assert_eq!(unwound.hash(), blocks.pop().unwrap().hash());
        mem.unwind_block(&cs, &a).unwrap();
        assert_eq!(mem.encode(), before);
        same_state(&store, &mem);
    }
    assert_eq!(store.tip().unwrap(), None);
    assert!(store.assets().unwrap().is_empty());
    assert!(store.lots().unwrap().is_empty());
}

#[test]
fn a_version_one_store_is_refused_with_a_clear_error() {
    assert_eq!(FORMAT_VERSION, 2);
    let dir = TempDir::new("v1");
    let g = genesis(&Key::from_seed(b"miner"));
    let id = ChainIdentity {
        profile: Profile::Main,
        network: Network::Devnet,
        genesis_hash: g.hash(),
    };
    drop(RedbStore::open(dir.file(), id).unwrap());
    {
        let db = redb::Database::open(dir.file()).unwrap();
        let txn = db.begin_write().unwrap();
        txn.open_table(redb::TableDefinition::<&str, &[u8]>::new("meta"))
            .unwrap()
            .insert("format_version", 1u32.to_be_bytes().as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let err = RedbStore::open(dir.file(), id).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::WrongFormat {
                found: 1,
                expected: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("format version 1"), "{err}");
}

//! The redb store: commit, reopen and read back; unwind; refusal of another chain; and a property test
//! that any sequence of commits and unwinds leaves the same state as `ledger::MemoryUtxoSet`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use ledger::{ChangeSet, MemoryUtxoSet, UtxoEntry, UtxoKind, UtxoView};
use proptest::prelude::*;
use storage::{ChainIdentity, RedbStore, StoreError, StoreRead, StoreWrite, TxLocation};
use types::amount::Amount;
use types::asset::AssetId;
use types::block::HeaderConsensus;
use types::profile::{Network, Profile};
use types::tx::{CoinbaseInput, InputKind, OutputKind, TxData, TxInput, TxOutput};
use types::{Block, BlockHeader, Hash, Transaction};

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let mut p = std::env::temp_dir();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        p.push(format!("tributary-storage-{name}-{}-{nanos}", std::process::id()));
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

/// A transaction made unique by `tag`.
fn tx(tag: u64) -> Transaction {
    Transaction::new(
        Profile::Side,
        TxData {
            version: 1,
            time_range: 0,
            inputs: vec![TxInput::new(InputKind::Coinbase(CoinbaseInput {
                arbitrary: tag.to_be_bytes().to_vec(),
            }))],
            outputs: vec![TxOutput::new(
                OutputKind::Control,
                AssetId::BTM,
                Amount::ZERO,
                vec![0x51],
            )],
        },
    )
    .unwrap()
}

fn block(height: u64, prev: Hash, ntx: u64) -> Block {
    let txs: Vec<Transaction> = (0..ntx).map(|i| tx(height * 1000 + i)).collect();
    let ids: Vec<Hash> = txs.iter().map(Transaction::id).collect();
    let header = BlockHeader {
        version: 1,
        height,
        previous_block_hash: prev,
        timestamp: 1_700_000_000_000 + height * 500,
        transactions_merkle_root: types::merkle::tx_merkle_root(&ids),
        transaction_status_hash: types::merkle::status_merkle_root(&vec![false; txs.len()]),
        commitment_suffix: Vec::new(),
        consensus: HeaderConsensus::Witness {
            witness: vec![vec![height.to_be_bytes()[7]; 64]],
            suffix: Vec::new(),
        },
    };
    Block::new(header, txs).unwrap()
}

fn identity(genesis: &Block) -> ChainIdentity {
    ChainIdentity {
        profile: Profile::Side,
        network: Network::Devnet,
        genesis_hash: genesis.hash(),
    }
}

fn entry(kind: UtxoKind, height: u64) -> UtxoEntry {
    UtxoEntry { kind, height }
}

fn h(n: u8) -> Hash {
    Hash([n; 32])
}

fn changes(
    b: &Block,
    spent: Vec<(Hash, UtxoEntry)>,
    created: Vec<(Hash, UtxoEntry)>,
    claimed: Vec<Hash>,
) -> ChangeSet {
    ChangeSet {
        height: b.header().height,
        block_hash: b.hash(),
        spent,
        created,
        claimed,
    }
}

#[test]
fn commit_reopen_read_back() {
    let dir = TempDir::new("reopen");
    let g = block(0, Hash::ZERO, 2);
    let b1 = block(1, g.hash(), 3);
    {
        let store = RedbStore::open(dir.file(), identity(&g)).unwrap();
        assert_eq!(store.tip().unwrap(), None);
        store
            .commit_block(
                &g,
                &changes(
                    &g,
                    vec![],
                    vec![
                        (h(1), entry(UtxoKind::Normal, 0)),
                        (h(2), entry(UtxoKind::Coinbase, 0)),
                    ],
                    vec![h(9)],
                ),
            )
            .unwrap();
        let tip = store
            .commit_block(
                &b1,
                &changes(
                    &b1,
                    vec![(h(1), entry(UtxoKind::Normal, 0))],
                    vec![(h(3), entry(UtxoKind::Vote, 1))],
                    vec![],
                ),
            )
            .unwrap();
        assert_eq!(tip.height, 1);
        assert_eq!(tip.hash, b1.hash());
    }
    let store = RedbStore::open(dir.file(), identity(&g)).unwrap();
    let tip = store.tip().unwrap().unwrap();
    assert_eq!((tip.height, tip.hash), (1, b1.hash()));
    assert_eq!(store.block_hash(0).unwrap(), Some(g.hash()));
    assert_eq!(store.block_hash(1).unwrap(), Some(b1.hash()));
    assert_eq!(store.block_hash(2).unwrap(), None);
    assert_eq!(store.block(&b1.hash()).unwrap().unwrap(), b1);
    assert_eq!(store.block_at(0).unwrap().unwrap(), g);
    assert_eq!(store.raw_block(&g.hash()).unwrap().unwrap(), g.encode());
    assert_eq!(&store.header(&b1.hash()).unwrap().unwrap(), b1.header());
    assert_eq!(store.block(&h(77)).unwrap(), None);
    let t2 = &b1.transactions()[2];
    assert_eq!(
        store.tx_location(&t2.id()).unwrap(),
        Some(TxLocation {
            block_height: 1,
            position: 2
        })
    );
    assert_eq!(store.tx_location(&h(5)).unwrap(), None);
    assert_eq!(
        store.utxos().unwrap(),
        vec![
            (h(2), entry(UtxoKind::Coinbase, 0)),
            (h(3), entry(UtxoKind::Vote, 1))
        ]
    );
    assert_eq!(store.utxo(&h(1)).unwrap(), None);
    assert_eq!(store.utxo(&h(3)).unwrap(), Some(entry(UtxoKind::Vote, 1)));
    assert!(store.is_claimed(&h(9)).unwrap());
    assert!(!store.is_claimed(&h(8)).unwrap());
    assert_eq!(
        store.change_set(1).unwrap().unwrap().created,
        vec![(h(3), entry(UtxoKind::Vote, 1))]
    );
    // A snapshot does not see later commits.
    let snap = store.snapshot().unwrap();
    let b2 = block(2, b1.hash(), 1);
    store
        .commit_block(&b2, &changes(&b2, vec![], vec![], vec![]))
        .unwrap();
    assert_eq!(snap.tip().unwrap().unwrap().height, 1);
    assert_eq!(store.tip().unwrap().unwrap().height, 2);
}

#[test]
fn refuses_blocks_that_do_not_extend_and_bad_change_sets_atomically() {
    let dir = TempDir::new("extend");
    let g = block(0, Hash::ZERO, 1);
    let store = RedbStore::open(dir.file(), identity(&g)).unwrap();
    // Not genesis first.
    let b1 = block(1, g.hash(), 1);
    assert!(matches!(
        store.commit_block(&b1, &changes(&b1, vec![], vec![], vec![])),
        Err(StoreError::NotExtendingTip { .. })
    ));
    // Another genesis.
    let other = block(0, h(1), 1);
    assert!(matches!(
        store.commit_block(&other, &changes(&other, vec![], vec![], vec![])),
        Err(StoreError::WrongGenesis { .. })
    ));
    store
        .commit_block(
            &g,
            &changes(&g, vec![], vec![(h(1), entry(UtxoKind::Normal, 0))], vec![]),
        )
        .unwrap();
    // Wrong parent.
    let orphan = block(1, h(42), 1);
    assert!(matches!(
        store.commit_block(&orphan, &changes(&orphan, vec![], vec![], vec![])),
        Err(StoreError::NotExtendingTip { .. })
    ));
    // Change set for another block.
    assert!(matches!(
        store.commit_block(&b1, &changes(&g, vec![], vec![], vec![])),
        Err(StoreError::Inconsistent(_))
    ));
    // Spends a missing output after creating one: nothing of it may stay.
    let bad = changes(
        &b1,
        vec![(h(2), entry(UtxoKind::Normal, 0))],
        vec![(h(5), entry(UtxoKind::Normal, 1))],
        vec![],
    );
    assert!(matches!(
        store.commit_block(&b1, &bad),
        Err(StoreError::Inconsistent(_))
    ));
    // Creates an existing output.
    let bad = changes(&b1, vec![], vec![(h(1), entry(UtxoKind::Normal, 1))], vec![]);
    assert!(matches!(
        store.commit_block(&b1, &bad),
        Err(StoreError::Inconsistent(_))
    ));
    assert_eq!(store.tip().unwrap().unwrap().height, 0);
    assert_eq!(store.utxos().unwrap(), vec![(h(1), entry(UtxoKind::Normal, 0))]);
    assert_eq!(store.block_hash(1).unwrap(), None);
    assert_eq!(store.tx_location(&b1.transactions()[0].id()).unwrap(), None);
}

#[test]
fn unwind_restores_the_parent_state() {
    let dir = TempDir::new("unwind");
    let g = block(0, Hash::ZERO, 1);
    let b1 = block(1, g.hash(), 2);
    let store = RedbStore::open(dir.file(), identity(&g)).unwrap();
    assert!(store.unwind_tip().unwrap().is_none());
    store
        .commit_block(
            &g,
            &changes(&g, vec![], vec![(h(1), entry(UtxoKind::Normal, 0))], vec![]),
        )
        .unwrap();
    let before = store.utxos().unwrap();
    store
        .commit_block(
            &b1,
            &changes(
                &b1,
                vec![(h(1), entry(UtxoKind::Normal, 0))],
                vec![(h(2), entry(UtxoKind::Normal, 1))],
                vec![h(7)],
            ),
        )
        .unwrap();
    assert_eq!(store.unwind_tip().unwrap().unwrap(), b1);
    assert_eq!(store.utxos().unwrap(), before);
    assert!(!store.is_claimed(&h(7)).unwrap());
    assert_eq!(store.tip().unwrap().unwrap().hash, g.hash());
    assert_eq!(store.block(&b1.hash()).unwrap(), None);
    assert_eq!(store.header(&b1.hash()).unwrap(), None);
    assert_eq!(store.block_hash(1).unwrap(), None);
    assert_eq!(store.tx_location(&b1.transactions()[1].id()).unwrap(), None);
    assert_eq!(store.change_set(1).unwrap(), None);
    // Re-commit works after unwinding, and genesis unwinds to an empty store.
    store
        .commit_block(
            &b1,
            &changes(&b1, vec![(h(1), entry(UtxoKind::Normal, 0))], vec![], vec![]),
        )
        .unwrap();
    store.unwind_tip().unwrap().unwrap();
    assert_eq!(store.unwind_tip().unwrap().unwrap(), g);
    assert_eq!(store.tip().unwrap(), None);
    assert!(store.utxos().unwrap().is_empty());
}

#[test]
fn refuses_another_chain() {
    let dir = TempDir::new("chain");
    let g = block(0, Hash::ZERO, 1);
    drop(RedbStore::open(dir.file(), identity(&g)).unwrap());
    let mut other = identity(&g);
    other.genesis_hash = h(3);
    let err = RedbStore::open(dir.file(), other).unwrap_err();
    assert!(matches!(err, StoreError::WrongChain { .. }), "{err}");
    assert!(err.to_string().contains("another chain"), "{err}");
    let mut other = identity(&g);
    other.network = Network::Mainnet;
    assert!(matches!(
        RedbStore::open(dir.file(), other),
        Err(StoreError::WrongChain { .. })
    ));
    let mut other = identity(&g);
    other.profile = Profile::Main;
    assert!(matches!(
        RedbStore::open(dir.file(), other),
        Err(StoreError::WrongChain { .. })
    ));
    // open_existing reads the identity back.
    assert_eq!(
        RedbStore::open_existing(dir.file()).unwrap().identity(),
        identity(&g)
    );
    // A file that is not a redb database.
    let junk = dir.0.join("junk.redb");
    std::fs::write(&junk, b"not a database at all, just some bytes").unwrap();
    assert!(RedbStore::open(&junk, identity(&g)).is_err());
    assert!(RedbStore::open_existing(dir.0.join("missing.redb")).is_err());
}

/// One step of the property test.
#[derive(Debug, Clone)]
enum Step {
    /// Commit a block spending the chosen existing outputs (indexes into the current set) and creating
    /// `created` new ones, claiming `claims` new main-chain outputs.
    Commit {
        spend: Vec<usize>,
        created: u8,
        claims: u8,
        kind: u8,
    },
    /// Unwind the tip.
    Unwind,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (proptest::collection::vec(0usize..64, 0..4), 0u8..4, 0u8..2, 0u8..3)
            .prop_map(|(spend, created, claims, kind)| Step::Commit { spend, created, claims, kind }),
        1 => Just(Step::Unwind),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
    #[test]
    fn apply_unwind_sequences_match_memory_set(
        steps in proptest::collection::vec(step(), 1..24),
        defer in prop_oneof![Just(0usize), Just(3)],
    ) {
        let dir = TempDir::new("prop");
        let g = block(0, Hash::ZERO, 1);
        let store = RedbStore::open(dir.file(), identity(&g)).unwrap().with_deferred_state(defer);
        let mut mem = MemoryUtxoSet::new();
        let genesis_changes = changes(&g, vec![], vec![(h(1), entry(UtxoKind::Normal, 0))], vec![]);
        store.commit_block(&g, &genesis_changes).unwrap();
        mem.apply(&genesis_changes).unwrap();
        let mut chain: Vec<(Block, ChangeSet)> = vec![(g, genesis_changes)];
        let mut counter: u64 = 100;
        // Every output ever created, for reads of outputs gone (spent, or unwound) as well.
        let mut seen: Vec<Hash> = vec![h(1)];
        for s in steps {
            match s {
                Step::Commit { spend, created, claims, kind } => {
                    let (parent, _) = chain.last().unwrap();
                    let height = parent.header().height + 1;
                    let b = block(height, parent.hash(), 1 + (counter % 3));
                    let current: Vec<(Hash, UtxoEntry)> = mem.iter().map(|(k, v)| (*k, *v)).collect();
                    let mut spent: Vec<(Hash, UtxoEntry)> = Vec::new();
                    for i in spend {
                        if let Some(e) = current.get(i % current.len().max(1)) && !spent.contains(e) {
                            spent.push(*e);
                        }
                    }
                    let kind = [UtxoKind::Normal, UtxoKind::Coinbase, UtxoKind::Vote][usize::from(kind)];
                    let mut new = Vec::new();
                    for _ in 0..created {
                        counter += 1;
                        let mut id = [0u8; 32];
                        id[..8].copy_from_slice(&counter.to_be_bytes());
                        new.push((Hash(id), entry(kind, height)));
                    }
                    let mut claimed = Vec::new();
                    for _ in 0..claims {
                        counter += 1;
                        let mut id = [0xcc; 32];
                        id[..8].copy_from_slice(&counter.to_be_bytes());
                        claimed.push(Hash(id));
                    }
                    seen.extend(new.iter().map(|(id, _)| *id));
                    let c = changes(&b, spent, new, claimed);
                    // A view taken before the commit, having read what the block spends (so
                    // that the store remembers it), still reads the state it was taken at.
                    let before = store.snapshot().unwrap();
                    for (id, e) in &c.spent {
                        prop_assert_eq!(before.utxo_entry(id).unwrap(), Some(*e));
                    }
                    store.commit_block(&b, &c).unwrap();
                    for (id, e) in &c.spent {
                        prop_assert_eq!(before.utxo_entry(id).unwrap(), Some(*e));
                        prop_assert_eq!(store.utxo(id).unwrap(), None);
                    }
                    mem.apply(&c).unwrap();
                    chain.push((b, c));
                }
                Step::Unwind => {
                    if chain.len() > 1 {
                        let (b, c) = chain.pop().unwrap();
                        prop_assert_eq!(store.unwind_tip().unwrap().unwrap(), b);
                        mem.unwind(&c).unwrap();
                    }
                }
            }
            let stored: Vec<(Hash, UtxoEntry)> = store.utxos().unwrap();
            let expected: Vec<(Hash, UtxoEntry)> = mem.iter().map(|(k, v)| (*k, *v)).collect();
            prop_assert_eq!(&stored, &expected);
            let claims: Vec<Hash> = mem.claims().copied().collect();
            prop_assert_eq!(store.claimed_outputs().unwrap(), claims);
            prop_assert_eq!(store.tip().unwrap().unwrap().hash, chain.last().unwrap().0.hash());
            // Point reads agree (twice: the second may be answered from what the store
            // remembers of the first), and every stored block's transactions are found where they
            // are.
            for _ in 0..2 {
                for id in &seen {
                    let want = expected.iter().find(|(k, _)| k == id).map(|(_, e)| *e);
                    prop_assert_eq!(store.utxo(id).unwrap(), want);
                }
            }
            for (b, c) in &chain {
                for (id, _) in &c.spent {
                    if !expected.iter().any(|(k, _)| k == id) {
                        prop_assert_eq!(store.utxo(id).unwrap(), None);
                    }
                }
                for (i, t) in b.transactions().iter().enumerate() {
                    let found = store.tx_location(&t.id()).unwrap();
                    prop_assert_eq!(found, Some(TxLocation {
                        block_height: b.header().height,
                        position: u32::try_from(i).unwrap(),
                    }));
                }
            }
        }
        // Reopen (a deferring store dropped with blocks held in memory, as a kill would leave it):
        // the same state, indexes included.
        drop(store);
        let store = RedbStore::open(dir.file(), identity(&chain[0].0)).unwrap();
        let expected: Vec<(Hash, UtxoEntry)> = mem.iter().map(|(k, v)| (*k, *v)).collect();
        prop_assert_eq!(store.utxos().unwrap(), expected);
        let (b, _) = chain.last().unwrap();
        for t in b.transactions() {
            prop_assert_eq!(store.tx_location(&t.id()).unwrap().map(|l| l.block_height), Some(b.header().height));
        }
    }
}

#[test]
fn an_unwound_block_stays_in_the_side_table_until_committed_again_or_pruned() {
    let dir = TempDir::new("side");
    let g = block(0, Hash::ZERO, 1);
    let b1 = block(1, g.hash(), 2);
    let other = block(1, g.hash(), 3);
    {
        let store = RedbStore::open(dir.file(), identity(&g)).unwrap();
        store
            .commit_block(&g, &changes(&g, vec![], vec![], vec![]))
            .unwrap();
        store
            .commit_block(&b1, &changes(&b1, vec![], vec![], vec![]))
            .unwrap();
        assert!(store.side_blocks().unwrap().is_empty());
        store.put_side_blocks(&[&other]).unwrap();
        assert_eq!(store.unwind_tip().unwrap().unwrap(), b1);
        // Off the chain, but its body survives (a reopen included), with the side branch's.
        assert_eq!(store.block_hash(1).unwrap(), None);
        assert_eq!(store.block(&b1.hash()).unwrap(), None);
    }
    let store = RedbStore::open(dir.file(), identity(&g)).unwrap();
    assert_eq!(store.side_block(&b1.hash()).unwrap().unwrap(), b1);
    let mut side: Vec<Hash> = store.side_blocks().unwrap().iter().map(Block::hash).collect();
    side.sort();
    let mut expected = vec![b1.hash(), other.hash()];
    expected.sort();
    assert_eq!(side, expected);
    let mut ids: Vec<Hash> = store
        .side_block_ids()
        .unwrap()
        .into_iter()
        .map(|(height, hash)| {
            assert_eq!(height, 1);
            hash
        })
        .collect();
    ids.sort();
    assert_eq!(ids, expected);
    // Committing it again takes it out of the table in the same transaction.
    store
        .commit_block(&b1, &changes(&b1, vec![], vec![], vec![]))
        .unwrap();
    assert_eq!(store.side_block(&b1.hash()).unwrap(), None);
    assert_eq!(store.side_blocks().unwrap(), vec![other.clone()]);
    // Pruning by height.
    assert_eq!(store.remove_side_blocks(&[], Some(0)).unwrap(), 0);
    assert_eq!(store.remove_side_blocks(&[], Some(1)).unwrap(), 1);
    assert!(store.side_blocks().unwrap().is_empty());
}

/// A store deferring in 4 parts holds each block's output and index writes for up to 3 later
/// commits (each commit writes one part of every held block); reads, snapshot exports and a reopen
/// after a drop with blocks held (as a kill leaves it) all see every committed block.
#[test]
fn deferred_state_is_read_through_exported_and_written_on_reopen() {
    let dir = TempDir::new("deferred");
    let g = block(0, Hash::ZERO, 1);
    let store = RedbStore::open(dir.file(), identity(&g))
        .unwrap()
        .with_deferred_state(4);
    store
        .commit_block(
            &g,
            &changes(
                &g,
                vec![],
                (1..=6).map(|i| (h(i), entry(UtxoKind::Normal, 0))).collect(),
                vec![],
            ),
        )
        .unwrap();
    assert_eq!(store.deferred_blocks(), 0, "genesis is written at once");
    let mut parent = g.hash();
    let mut blocks = Vec::new();
    // Block k spends output k and creates output 100 + k; block 2 also spends what block 1 created.
    for k in 1..=6u8 {
        let b = block(u64::from(k), parent, 2);
        let mut spent = vec![(h(k), entry(UtxoKind::Normal, 0))];
        if k == 2 {
            spent.push((h(101), entry(UtxoKind::Normal, 1)));
        }
        let c = changes(
            &b,
            spent,
            vec![(h(100 + k), entry(UtxoKind::Normal, u64::from(k)))],
            vec![],
        );
        store.commit_block(&b, &c).unwrap();
        parent = b.hash();
        blocks.push(b);
        assert_eq!(store.deferred_blocks(), usize::from(k.min(3)), "after block {k}");
    }
    // Blocks 4 to 6 are held (in part); block 6 spent output 6, block 5 created output 105.
    let expected: Vec<(Hash, UtxoEntry)> = [102u8, 103, 104, 105, 106]
        .iter()
        .map(|&i| (h(i), entry(UtxoKind::Normal, u64::from(i - 100))))
        .collect();
    assert_eq!(store.utxos().unwrap(), expected);
    assert_eq!(store.utxo(&h(6)).unwrap(), None);
    assert_eq!(store.utxo(&h(101)).unwrap(), None);
    assert_eq!(store.utxo(&h(106)).unwrap(), Some(entry(UtxoKind::Normal, 6)));
    let t = &blocks[5].transactions()[1];
    assert_eq!(
        store.tx_location(&t.id()).unwrap(),
        Some(TxLocation {
            block_height: 6,
            position: 1
        })
    );
    // A block that spends an output a held block already spent is refused, and changes nothing.
    let bad = block(7, parent, 1);
    let err = store
        .commit_block(
            &bad,
            &changes(&bad, vec![(h(6), entry(UtxoKind::Normal, 0))], vec![], vec![]),
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::Inconsistent(_)), "{err}");
    assert_eq!(store.tip().unwrap().unwrap().height, 6);
    assert_eq!(store.deferred_blocks(), 3);
    let mut held = Vec::new();
    let info = store.export_snapshot(&mut held, &[]).unwrap();
    assert_eq!(info.utxos, 5);
    // A copy of the file now (as a kill would leave it) still holds blocks in memory only.
    let killed = dir.0.join("killed.redb");
    std::fs::copy(dir.file(), &killed).unwrap();
    // A clean shutdown writes them: the file is complete as it stands.
    store.write_held().unwrap();
    assert_eq!(store.deferred_blocks(), 0);
    assert_eq!(store.utxos().unwrap(), expected);
    drop(store);
    let plain = RedbStore::open(dir.file(), identity(&g)).unwrap();
    assert_eq!(plain.utxos().unwrap(), expected);
    let mut after_shutdown = Vec::new();
    assert_eq!(
        plain
            .export_snapshot(&mut after_shutdown, &[])
            .unwrap()
            .commitment,
        info.commitment
    );
    drop(plain);
    std::fs::rename(&killed, dir.file()).unwrap();
    // Reopened without deferral: the held blocks' writes are in the tables, and the snapshot of
    // the same state is byte for byte the one exported through the layers.
    let store = RedbStore::open(dir.file(), identity(&g)).unwrap();
    assert_eq!(store.deferred_blocks(), 0);
    assert_eq!(store.utxos().unwrap(), expected);
    assert_eq!(store.tx_location(&t.id()).unwrap().unwrap().block_height, 6);
    let mut written = Vec::new();
    assert_eq!(
        store.export_snapshot(&mut written, &[]).unwrap().commitment,
        info.commitment
    );
    assert_eq!(written, held);
}

//! A node joins from a snapshot: the producer's chain exports its state, a fresh store is imported
//! from it, a chain service opens on that store without the earlier blocks, takes the producer's next
//! blocks (validated against its own state) and ends at the same tip, UTXO set and commitment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use crypto::chainkd::XPrv;
use ledger::ChainParams;
use node::chain::{ChainService, ChainSetup, ProducerKey};
use node::devnet::{coins_of, sign_transfer};
use node::genesis::{devnet_genesis, p2wpkh_program_of};
use node::mempool::Admission;
use node::{MempoolConfig, NodeError};
use storage::{ChainIdentity, RedbStore, StoreError, StoreRead, StoreWrite};
use types::Block;

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

fn setup(genesis: &Block, producer: &ProducerKey, producing: bool) -> ChainSetup {
    ChainSetup {
        params: ChainParams::side_devnet(),
        genesis: genesis.clone(),
        authority: node::Authority::Solo {
            producer_public: producer.public_key(),
            producer_key: producing.then(|| producer.clone()),
        },
        mempool: MempoolConfig::default(),
        max_block_bytes: 8 << 20,
        max_block_gas: 10_000_000,
    }
}

/// Validates `block` against the service's store and commits it there (what a syncing follower does).
fn follow(store: &RedbStore, params: &ChainParams, block: &Block) {
    let parent = store.block_at(block.header().height - 1).unwrap().unwrap();
    let changes = ledger::validate_block(block, parent.header(), store, params, &[]).unwrap();
    store.commit_block(block, &changes).unwrap();
}

fn open_imported(path: &Path, genesis: &Block, producer: &ProducerKey) -> Result<ChainService, NodeError> {
    ChainService::open(
        RedbStore::open_existing(path).unwrap(),
        setup(genesis, producer, false),
    )
}

#[test]
fn a_node_joins_from_a_snapshot_and_follows_the_chain() {
    let dir = TempDir::new("snapshot-join");
    let params = ChainParams::side_devnet();
    let xprv = XPrv::root(b"snapshot test");
    let program = p2wpkh_program_of(&xprv.xpub());
    let genesis = devnet_genesis(&params, &program, 6, 1_000_000_000_000, 1_700_000_000_000).unwrap();
    let producer = ProducerKey::from_seed(&[9; 32]);
    let identity = ChainIdentity {
        profile: params.profile,
        network: params.network,
        genesis_hash: genesis.hash(),
    };
    let source = ChainService::open(
        RedbStore::open(dir.0.join("source.redb"), identity).unwrap(),
        setup(&genesis, &producer, true),
    )
    .unwrap();
    let coins = coins_of(&genesis.transactions()[1], &program);
    let pay = |c: &node::devnet::Coin| {
        sign_transfer(
            &xprv,
            std::slice::from_ref(c),
            &[(program.clone(), c.amount - 1_000_000)],
        )
        .unwrap()
    };
    let mut now = 1_800_000_000_000;
    for c in &coins[..3] {
        source.submit(pay(c)).unwrap();
        source.produce_block(now).unwrap();
        now += 500;
    }
    let mut file = Vec::new();
    let info = source.store().export_snapshot(&mut file, &[]).unwrap();
    assert_eq!(info.height, 3);

    // The producer goes on: a block spending an output created after genesis, and one more.
    let change = coins_of(
        &source.store().block_at(2).unwrap().unwrap().transactions()[1],
        &program,
    );
    source.submit(pay(&change[0])).unwrap();
    source.submit(pay(&coins[3])).unwrap();
    let mut next = Vec::new();
    for _ in 0..2 {
        next.push(source.produce_block(now).unwrap());
        now += 500;
    }
    assert_eq!(next[0].transactions().len(), 3);

    let path = dir.0.join("joined.redb");
    let (store, got) = storage::snapshot::import(file.as_slice(), &info.commitment, &path).unwrap();
    assert_eq!(got, info);
    drop(store);
    // A chain service opens on the imported store (its signature check starts after the base).
    let joined = open_imported(&path, &genesis, &producer).unwrap();
    assert_eq!(joined.tip().height, 3);
    assert_eq!(joined.tip().hash, info.block_hash);
    assert_eq!(joined.store().block_hash(2).unwrap(), None);
    // It checks transactions against the snapshot's state: the coin spent before the snapshot is
    // gone (the transaction can only wait for it as an orphan, as on the source node), an unspent
    // one is ready for a block.
    assert!(matches!(
        joined.submit(pay(&coins[0])).unwrap().admission,
        Admission::Orphaned { .. }
    ));
    assert!(matches!(
        source.submit(pay(&coins[0])),
        Err(node::SubmitError::AlreadyOnChain(_))
    ));
    assert!(matches!(
        joined.submit(pay(&coins[4])).unwrap().admission,
        Admission::Accepted { .. }
    ));
    drop(joined);

    let followed = RedbStore::open_existing(&path).unwrap();
    for b in &next {
        follow(&followed, &params, b);
    }
    assert!(matches!(
        followed.unwind_tip().map(|b| b.map(|b| b.hash())),
        Ok(Some(h)) if h == next[1].hash()
    ));
    follow(&followed, &params, &next[1]);
    drop(followed);
    let joined = open_imported(&path, &genesis, &producer).unwrap();
    assert_eq!(joined.tip(), source.tip());
    assert_eq!(joined.store().utxos().unwrap(), source.store().utxos().unwrap());
    let mut a = Vec::new();
    let mut b = Vec::new();
    assert_eq!(
        joined.store().export_snapshot(&mut a, &[]).unwrap().commitment,
        source.store().export_snapshot(&mut b, &[]).unwrap().commitment
    );
    assert_eq!(a, b);
    drop(joined);

    // Unwinding to the base works, below it is refused.
    let s = RedbStore::open_existing(&path).unwrap();
    s.unwind_tip().unwrap();
    s.unwind_tip().unwrap();
    assert!(matches!(s.unwind_tip(), Err(StoreError::BelowBase { base: 3 })));
    drop(s);

    // A block after the base that the producer did not sign is refused when the service opens.
    let mut forged = (*next[0]).clone();
    let other = ProducerKey::from_seed(&[1; 32]);
    let mut header = forged.header().clone();
    header.consensus = types::block::HeaderConsensus::Witness {
        witness: vec![other.sign_block(&header.hash()).to_vec()],
        suffix: Vec::new(),
    };
    forged = Block::new(header, forged.transactions().to_vec()).unwrap();
    let s = RedbStore::open_existing(&path).unwrap();
    follow(&s, &params, &forged);
    drop(s);
    assert!(matches!(
        open_imported(&path, &genesis, &producer),
        Err(NodeError::Corrupt(_))
    ));
}

//! `Node::start` from a configuration: genesis and key files, the producer loop (empty blocks when
//! idle, prompt blocks when transactions wait) and shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use crypto::chainkd::XPrv;
use ledger::ChainParams;
use node::devnet::{coins_of, sign_transfer};
use node::genesis::{devnet_genesis, p2wpkh_program_of};
use node::{Node, NodeConfig, ProducerConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_producer_runs_and_stops() {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("tributary-node-runner-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let params = ChainParams::side_devnet();
    let xprv = XPrv::root(b"runner");
    let program = p2wpkh_program_of(&xprv.xpub());
    let genesis = devnet_genesis(&params, &program, 2, 1_000_000_000, 1_700_000_000_000).unwrap();
    std::fs::write(dir.join("genesis.hex"), hex::encode(genesis.encode())).unwrap();
    std::fs::write(dir.join("producer.key"), hex::encode([9u8; 32])).unwrap();
    let config = NodeConfig {
        data_dir: dir.clone(),
        producer: ProducerConfig {
            block_interval_ms: 50,
            empty_block_interval_ms: 300,
            ..ProducerConfig::default()
        },
        ..NodeConfig::default()
    };

    let node = Node::start(&config).unwrap();
    let chain = node.chain();
    let mut blocks = chain.subscribe();
    // Idle: an empty block arrives after the empty-block interval.
    let b = tokio::time::timeout(Duration::from_secs(10), blocks.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.transactions().len(), 1);
    // A transaction: included promptly.
    let coin = coins_of(&genesis.transactions()[1], &program)[0].clone();
    let tx = sign_transfer(
        &xprv,
        std::slice::from_ref(&coin),
        &[(program.clone(), coin.amount - 1000)],
    )
    .unwrap();
    let c = chain.clone();
    let t = tx.clone();
    tokio::task::spawn_blocking(move || c.submit(t))
        .await
        .unwrap()
        .unwrap();
    let included = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let b = blocks.recv().await.unwrap();
            if b.transactions().iter().any(|x| x.id() == tx.id()) {
                return b;
            }
        }
    })
    .await
    .unwrap();
    assert!(included.header().height >= 2);
    node.shutdown().await;
    let height = chain.tip().height;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(chain.tip().height, height, "no block after shutdown");
    drop(chain);

    // Restart on the same directory: same tip; a wrong genesis file is refused.
    let again = Node::start(&config).unwrap();
    assert_eq!(again.chain().tip().height, height);
    again.shutdown().await;
    let other = devnet_genesis(&params, &program, 3, 5, 1).unwrap();
    std::fs::write(dir.join("genesis.hex"), hex::encode(other.encode())).unwrap();
    let err = Node::start(&config).unwrap_err();
    assert!(err.to_string().contains("another chain"), "{err}");
    std::fs::write(dir.join("genesis.hex"), "not hex").unwrap();
    assert!(Node::start(&config).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

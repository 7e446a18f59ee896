//! `Node::start` on a main-chain configuration: the genesis file decoded as a main-chain block, the
//! miner mining real Tensority blocks on the devnet's difficulty, the rewards paid to the configured
//! program, and shutdown; a bad configuration is refused with a typed error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use node::genesis::main_devnet_genesis;
use node::{ChainConfig, MiningConfig, Node, NodeConfig, NodeError};
use pow::PowParams;
use storage::StoreRead;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "tributary-main-node-{name}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_main_chain_node_mines_tensority_blocks_and_stops() {
    let dir = temp_dir("mine");
    let reward = ledger::testkit::Key::from_seed(b"main node rewards")
        .program()
        .to_vec();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let genesis = main_devnet_genesis(&PowParams::devnet(), &[(reward.clone(), 1_000)], now - 60).unwrap();
    std::fs::write(dir.join("genesis.hex"), hex::encode(genesis.encode())).unwrap();
    let config = NodeConfig {
        data_dir: dir.clone(),
        chain: ChainConfig {
            profile: "main".into(),
            ..ChainConfig::default()
        },
        mining: MiningConfig {
            enabled: true,
            control_program: hex::encode(&reward),
            ..MiningConfig::default()
        },
        ..NodeConfig::default()
    };
    let node = Node::start(&config).unwrap();
    let chain = node.chain();
    assert!(chain.is_pow());
    let mut blocks = chain.subscribe();
    let started = std::time::Instant::now();
    // About 20 Tensority hashes at the starting difficulty: seconds, allowing for a loaded machine.
    let block = tokio::time::timeout(Duration::from_secs(300), blocks.recv())
        .await
        .expect("a block within 300 s")
        .unwrap();
    eprintln!(
        "first Tensority block after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(block.header().height, 1);
    assert_eq!(
        block.transactions()[0].outputs()[0].control_program(),
        reward.as_slice()
    );
    let seed = pow::INITIAL_SEED;
    assert!(pow::validate::check_header_pow(
        &pow::Tensority::default(),
        block.header(),
        &seed
    ));
    node.shutdown().await;
    let tip = chain.tip();
    assert!(tip.height >= 1);
    assert_eq!(chain.store().block_at(1).unwrap().unwrap().hash(), block.hash());
    drop(chain);
    // Reopening (no mining) loads the chain, the block tree rebuilt from the store.
    let reopened = Node::start(&NodeConfig {
        mining: MiningConfig::default(),
        ..config.clone()
    })
    .unwrap();
    assert_eq!(reopened.chain().tip(), tip);
    reopened.shutdown().await;
    // An unknown profile and a bad reward program: refused.
    let bad = NodeConfig {
        chain: ChainConfig {
            profile: "mainn".into(),
            ..ChainConfig::default()
        },
        ..config.clone()
    };
    assert!(matches!(Node::start(&bad), Err(NodeError::Config(_))));
    let bad = NodeConfig {
        mining: MiningConfig {
            control_program: "zz".into(),
            ..MiningConfig::default()
        },
        ..config.clone()
    };
    assert!(matches!(Node::start(&bad), Err(NodeError::Config(_))));
    let _ = std::fs::remove_dir_all(&dir);
}

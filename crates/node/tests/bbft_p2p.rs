//! Four BBFT validators started from configuration (`Node::start` with `[bbft]`), connected over
//! loopback TCP by the p2p transport (Noise, node keys from the configuration): blocks become
//! final (proposals travelling compact), a transaction submitted to one validator's chain service
//! (the API's path) is final on all, a validator configured with the wrong node key is refused, and a node restarted from its
//! configuration catches up.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use node::devnet::{coins_of, sign_transfer};
use node::genesis::p2wpkh_program_of;
use node::{Node, NodeError};
use storage::StoreRead;
use types::Hash;

use common::bbft::{configs, node_seed, wait};
use common::{TempDir, now_ms};

fn assert_one_chain(nodes: &[Option<Node>]) {
    let top = nodes
        .iter()
        .flatten()
        .map(|n| n.chain().final_height())
        .max()
        .unwrap();
    for h in 0..=top {
        let hashes: Vec<Hash> = nodes
            .iter()
            .flatten()
            .filter_map(|n| n.chain().store().block_hash(h).unwrap())
            .collect();
        assert!(
            hashes.windows(2).all(|w| w[0] == w[1]),
            "two final blocks at height {h}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn validators_from_configuration_finalize_over_loopback_p2p() {
    let root =
        TempDir(std::env::temp_dir().join(format!("tributary-bbft-p2p-{}-{}", std::process::id(), now_ms())));
    std::fs::create_dir_all(&root.0).unwrap();
    let (cfgs, xprv, genesis) = configs(&root.0);

    // The wrong node key for validator 0 is refused before anything starts.
    let mut wrong = cfgs[0].clone();
    wrong.bbft.node_key_file = PathBuf::from("wrong.key");
    std::fs::write(wrong.data_dir.join("wrong.key"), hex::encode([9u8; 32])).unwrap();
    assert!(matches!(Node::start(&wrong), Err(NodeError::Config(_))));

    let mut nodes: Vec<Option<Node>> = cfgs.iter().map(|c| Some(Node::start(c).unwrap())).collect();
    wait(&nodes, "three final blocks", 30, |c| c.final_height() >= 3).await;
    assert_one_chain(&nodes);

    // Submitted to validator 2's chain service, as the API does: forwarded and final everywhere.
    let program = p2wpkh_program_of(&xprv.xpub());
    let coin = coins_of(&genesis.transactions()[1], &program)[0].clone();
    let tx = sign_transfer(
        &xprv,
        std::slice::from_ref(&coin),
        &[(program.clone(), coin.amount - 1_000_000)],
    )
    .unwrap();
    let id = tx.id();
    nodes[2].as_ref().unwrap().chain().submit(tx).unwrap();
    wait(&nodes, "the transfer on all four", 30, |c| {
        c.store().tx_location(&id).unwrap().is_some()
    })
    .await;
    // Forwarded over TCP: the other three received it from validator 2 (the transport hands the
    // decoded batch to admission) and submitted it to their own pools.
    wait(&nodes, "the forwarded transfer submitted on all four", 30, |c| {
        c.metrics().submitted() >= 1
    })
    .await;
    // Proposals cross the transport compact (in the p2p `Consensus` message): every validator
    // rebuilt some from its pool, and none had to ask for a full one.
    for (i, n) in nodes.iter().enumerate() {
        let (rebuilt, _, fallbacks) = n.as_ref().unwrap().chain().metrics().compact_counts();
        assert!(rebuilt > 0, "validator {i} rebuilt no compact proposal");
        assert_eq!(fallbacks, 0, "validator {i} asked for a full proposal");
    }

    // Validator 1 shuts down; the rest go on; it restarts from its configuration and catches up.
    nodes[1].take().unwrap().shutdown().await;
    let h = nodes
        .iter()
        .flatten()
        .map(|n| n.chain().final_height())
        .max()
        .unwrap();
    wait(&nodes, "three validators to go on", 40, |c| {
        c.final_height() >= h + 3
    })
    .await;
    let target = nodes
        .iter()
        .flatten()
        .map(|n| n.chain().final_height())
        .max()
        .unwrap();
    nodes[1] = Some(Node::start(&cfgs[1]).unwrap());
    wait(&nodes, "the restarted validator to catch up", 40, |c| {
        c.final_height() >= target + 2
    })
    .await;
    assert_one_chain(&nodes);

    for n in nodes.iter_mut() {
        n.take().unwrap().shutdown().await;
    }
}

/// A validator that sends a malformed message, or a frame above the size limit, is banned by the
/// node it sent it to: its next connection is closed at once, and the validators keep finalizing.
/// (The attacker holds validator 3's node key, so its handshake is accepted; the three honest
/// validators are a quorum on their own.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn malformed_and_oversized_peer_messages_get_the_peer_banned() {
    let root =
        TempDir(std::env::temp_dir().join(format!("tributary-bbft-ban-{}-{}", std::process::id(), now_ms())));
    std::fs::create_dir_all(&root.0).unwrap();
    let (cfgs, _, genesis) = configs(&root.0);
    let nodes: Vec<Option<Node>> = cfgs[..3].iter().map(|c| Some(Node::start(c).unwrap())).collect();
    wait(&nodes, "two final blocks", 30, |c| c.final_height() >= 2).await;

    let key = p2p::NodeKey::from_seed(&node_seed(3));
    let mut cfg = p2p::transport::TransportConfig::new(genesis.hash(), types::profile::Profile::Side);
    let node_max = cfg.max_message_bytes;
    // The attacker's own limit lets it send what the nodes refuse.
    cfg.max_message_bytes = node_max.saturating_mul(2);
    let addr = |i: usize| -> std::net::SocketAddr { cfgs[i].bbft.listen.parse().unwrap() };
    // Whether node `i` closes a fresh connection from the attacker at once (banned) rather than
    // keeping it open and silent (welcome).
    let refused = |i: usize| {
        let key = key.clone();
        async move {
            let conn = p2p::transport::dial(addr(i), &key, &cfg, None).await.unwrap();
            let (_tx, mut rx) = conn.split();
            matches!(
                tokio::time::timeout(Duration::from_secs(2), rx.recv()).await,
                Ok(Err(_))
            )
        }
    };
    assert!(
        !refused(0).await,
        "a validator's connection is welcome before it misbehaves"
    );

    // Malformed: bytes that are no message, to validator 0.
    let conn = p2p::transport::dial(addr(0), &key, &cfg, None).await.unwrap();
    let (mut tx, _rx) = conn.split();
    tx.send_bytes(&[0xff; 64]).await.unwrap();
    // Oversized: a frame above the nodes' limit, to validator 1 (it stops reading at the length).
    let conn = p2p::transport::dial(addr(1), &key, &cfg, None).await.unwrap();
    let (mut tx2, _rx2) = conn.split();
    let _ = tx2.send_bytes(&vec![0u8; node_max + 1]).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(refused(0).await && refused(1).await) {
        assert!(Instant::now() < deadline, "the attacker was not banned");
    }
    // Validator 2 saw nothing wrong and still welcomes it.
    assert!(!refused(2).await);
    // Nobody crashed: blocks keep becoming final on all three.
    let h = nodes
        .iter()
        .flatten()
        .map(|n| n.chain().final_height())
        .max()
        .unwrap();
    wait(&nodes, "finality after the attack", 30, |c| {
        c.final_height() >= h + 2
    })
    .await;
    assert_one_chain(&nodes);
    for n in nodes.into_iter().flatten() {
        n.shutdown().await;
    }
}

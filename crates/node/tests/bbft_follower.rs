//! Followers of a BBFT chain (`[bbft] validator = false`): four validators from configuration over
//! loopback p2p; a follower from genesis catches up and follows the tip with the validators' very
//! blocks; a fifth node imported from a snapshot of validator 0's store (exported while the chain
//! runs, imported against its commitment) follows the tip without any block below its base. And a
//! non-validator peer gets blocks and relays transactions, but is banned for sending consensus
//! messages or transactions invalid on their own. Transactions submitted to a follower are relayed
//! to the validators and become final.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use crypto::bls::SecretKey;
use crypto::chainkd::XPrv;
use ledger::ChainParams;
use node::bbft_host::validators::GenesisValidator;
use node::devnet::{Coin, coins_of, sign_transfer};
use node::genesis::p2wpkh_program_of;
use node::{BbftConfig, Node, NodeConfig, NodeError, PeerConfig};
use storage::StoreRead;
use types::Hash;

use common::bbft::{N, configs, node_seed, wait};
use common::{TempDir, now_ms};

/// A follower's configuration: the validator set and the validators' addresses, no keys.
fn follower_config(dir: &std::path::Path, validator_cfg: &NodeConfig, genesis: &types::Block) -> NodeConfig {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("genesis.hex"), hex::encode(genesis.encode())).unwrap();
    NodeConfig {
        data_dir: dir.to_path_buf(),
        bbft: BbftConfig {
            enabled: true,
            validator: false,
            poll_interval_ms: 100,
            validators: validator_cfg.bbft.validators.clone(),
            peers: (0..N)
                .map(|j| PeerConfig {
                    node_id: u32::try_from(j).unwrap(),
                    addr: if j == 0 {
                        validator_cfg.bbft.listen.clone()
                    } else {
                        validator_cfg
                            .bbft
                            .peers
                            .iter()
                            .find(|p| p.node_id == u32::try_from(j).unwrap())
                            .unwrap()
                            .addr
                            .clone()
                    },
                })
                .collect(),
            ..BbftConfig::default()
        },
        ..NodeConfig::default()
    }
}

/// `coin` spent back to its own `program`, less a fee.
fn pay_back(xprv: &XPrv, coin: &Coin, program: &[u8]) -> types::Transaction {
    sign_transfer(
        xprv,
        std::slice::from_ref(coin),
        &[(program.to_vec(), coin.amount - 1_000_000)],
    )
    .unwrap()
}

fn top(nodes: &[Option<Node>]) -> u64 {
    nodes
        .iter()
        .flatten()
        .map(|n| n.chain().final_height())
        .max()
        .unwrap()
}

/// Every block of `follower` from `from` up to its tip is the validators' block at that height (by
/// hash: the stored certificates may differ, each validator keeps the quorum it aggregated), final
/// and stored with a certificate.
fn assert_same_blocks(validators: &[Option<Node>], follower: &Node, from: u64) {
    let f = follower.chain();
    let tip = f.final_height();
    assert!(tip >= from);
    for h in from..=tip {
        let mine = f
            .store()
            .block_hash(h)
            .unwrap()
            .expect("a block at every height from the base");
        for v in validators.iter().flatten() {
            let theirs = v.chain().store().block_hash(h).unwrap();
            if let Some(theirs) = theirs {
                assert_eq!(
                    theirs, mine,
                    "the follower's block at height {h} is not the validators'"
                );
            }
        }
        assert!(f.is_final(&mine).unwrap());
        let block = f.store().block(&mine).unwrap().unwrap();
        assert!(
            h == 0 || node::chain::bbft::proof_of(&block).is_some(),
            "no certificate at {h}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn followers_from_genesis_and_from_a_snapshot_follow_the_validators() {
    let root = TempDir(std::env::temp_dir().join(format!(
        "tributary-bbft-follow-{}-{}",
        std::process::id(),
        now_ms()
    )));
    std::fs::create_dir_all(&root.0).unwrap();
    let (cfgs, xprv, genesis) = configs(&root.0);
    let mut nodes: Vec<Option<Node>> = cfgs.iter().map(|c| Some(Node::start(c).unwrap())).collect();
    wait(&nodes, "eight final blocks", 40, |c| c.final_height() >= 8).await;

    // A follower from genesis: behind by several blocks, it catches up.
    let fcfg = follower_config(&root.0.join("follower"), &cfgs[0], &genesis);
    let target = top(&nodes);
    let follower = Node::start(&fcfg).unwrap();
    let followers = [Some(follower)];
    wait(&followers, "the follower to catch up", 40, |c| {
        c.final_height() >= target
    })
    .await;

    // A transfer submitted to a validator becomes final on the follower too.
    let program = p2wpkh_program_of(&xprv.xpub());
    let coin = coins_of(&genesis.transactions()[1], &program)[0].clone();
    let tx = pay_back(&xprv, &coin, &program);
    let id = tx.id();
    nodes[1].as_ref().unwrap().chain().submit(tx.clone()).unwrap();
    wait(&followers, "the transfer on the follower", 40, |c| {
        c.store().tx_location(&id).unwrap().is_some()
    })
    .await;

    // A transfer submitted to the follower is relayed to the validators and becomes final, on the
    // validators and on the follower (whose pool lets go of it).
    let change = coins_of(&tx, &program)[0].clone();
    let relayed = pay_back(&xprv, &change, &program);
    let relayed_id = relayed.id();
    followers[0].as_ref().unwrap().chain().submit(relayed).unwrap();
    wait(&nodes, "the follower's transfer on every validator", 40, |c| {
        c.store().tx_location(&relayed_id).unwrap().is_some()
    })
    .await;
    wait(
        &followers,
        "the follower's transfer final on the follower",
        40,
        |c| c.store().tx_location(&relayed_id).unwrap().is_some() && !c.in_pool(&relayed_id),
    )
    .await;

    // A snapshot of validator 0's store, taken while the chain runs, with its election state.
    let mut file = Vec::new();
    let (view, elections) = nodes[0].as_ref().unwrap().chain().snapshot_view().unwrap();
    assert!(!elections.is_empty());
    let info = view.export_snapshot(&mut file, &elections).unwrap();
    let base = info.height;
    assert!(base >= 8);
    let snap_dir = root.0.join("from-snapshot");
    std::fs::create_dir_all(&snap_dir).unwrap();
    // The wrong commitment is refused and leaves nothing behind.
    let store_path = snap_dir.join(node::STORE_FILE);
    assert!(storage::snapshot::import(&file[..], &Hash([7; 32]), &store_path).is_err());
    assert!(!store_path.exists());
    let (store, _) = storage::snapshot::import(&file[..], &info.commitment, &store_path).unwrap();
    drop(store);
    let scfg = follower_config(&snap_dir, &cfgs[0], &genesis);
    // Configured with another validator set, the base block's certificate does not verify: refused.
    let mut forged = scfg.clone();
    for (i, v) in forged.bbft.validators.iter_mut().enumerate() {
        let node_public = p2p::NodeKey::from_seed(&node_seed(i)).peer_id().0;
        *v = GenesisValidator::of(
            &XPrv::root(&[7, u8::try_from(i).unwrap()]).xpub(),
            &node_public,
            &SecretKey::from_seed(&[u8::try_from(i).unwrap() + 1; 32]),
        );
    }
    match Node::start(&forged) {
        Err(NodeError::Config(why)) => assert!(why.contains("genesis validator set"), "{why}"),
        other => panic!(
            "a store checked against the wrong validator set: {:?}",
            other.map(|_| ())
        ),
    }
    // A snapshot without the election state cannot start a BBFT node: nothing would tell it the
    // validator sets of the epochs ahead.
    let bare_dir = root.0.join("bare-snapshot");
    std::fs::create_dir_all(&bare_dir).unwrap();
    let mut bare = Vec::new();
    let bare_info = view.export_snapshot(&mut bare, &[]).unwrap();
    storage::snapshot::import(&bare[..], &bare_info.commitment, &bare_dir.join(node::STORE_FILE)).unwrap();
    match Node::start(&follower_config(&bare_dir, &cfgs[0], &genesis)) {
        Err(NodeError::Corrupt(why)) => assert!(why.contains("election state"), "{why}"),
        other => panic!("a snapshot without the election state: {:?}", other.map(|_| ())),
    }
    // A follower holding a validator's node key would be taken for that validator: refused.
    let mut as_validator = scfg.clone();
    as_validator.bbft.node_key_file = PathBuf::from("v0.key");
    std::fs::write(snap_dir.join("v0.key"), hex::encode(node_seed(0))).unwrap();
    assert!(matches!(Node::start(&as_validator), Err(NodeError::Config(_))));
    let from_snapshot = Node::start(&scfg).unwrap();
    assert_eq!(from_snapshot.chain().final_height(), base);
    assert_eq!(from_snapshot.chain().bbft().unwrap().base(), base);

    // Both followers follow the tip: the validators go on, and the followers reach where they were.
    let followers = [followers.into_iter().next().unwrap(), Some(from_snapshot)];
    let goal = top(&nodes) + 6;
    wait(&nodes, "six more final blocks", 40, |c| c.final_height() >= goal).await;
    wait(&followers, "the followers to reach the tip", 40, |c| {
        c.final_height() >= goal
    })
    .await;
    let [Some(f_genesis), Some(f_snapshot)] = &followers else {
        unreachable!()
    };
    assert_same_blocks(&nodes, f_genesis, 0);
    assert_same_blocks(&nodes, f_snapshot, base);
    // Nothing below the base: the snapshot follower never replayed history.
    for h in 0..base {
        assert_eq!(
            f_snapshot.chain().store().block_hash(h).unwrap(),
            None,
            "height {h}"
        );
    }
    assert_eq!(f_snapshot.chain().store().base().unwrap(), base);

    // Restarted, the snapshot follower reloads its store (base block trusted, the rest checked).
    let [f_genesis, f_snapshot] = followers;
    f_snapshot.unwrap().shutdown().await;
    let again = Node::start(&scfg).unwrap();
    assert!(again.chain().final_height() >= goal);
    let goal = top(&nodes) + 2;
    let followers = [f_genesis, Some(again)];
    wait(&followers, "the restarted follower to follow", 40, |c| {
        c.final_height() >= goal
    })
    .await;

    for n in followers
        .into_iter()
        .chain(nodes.iter_mut().map(Option::take))
        .flatten()
    {
        n.shutdown().await;
    }
}

/// A non-validator peer is served committed blocks with their certificates, but a consensus message
/// from it is a protocol violation: its connection is closed each time, and the third violation in a
/// row bans it (a violation costs half the ban threshold, and the score recovers over time).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_follower_peer_gets_blocks_but_not_a_say_in_consensus() {
    let root = TempDir(std::env::temp_dir().join(format!(
        "tributary-bbft-fpeer-{}-{}",
        std::process::id(),
        now_ms()
    )));
    std::fs::create_dir_all(&root.0).unwrap();
    let (cfgs, xprv, genesis) = configs(&root.0);
    let nodes: Vec<Option<Node>> = cfgs.iter().map(|c| Some(Node::start(c).unwrap())).collect();
    wait(&nodes, "three final blocks", 30, |c| c.final_height() >= 3).await;

    let key = p2p::NodeKey::from_seed(&[42; 32]);
    let cfg = node::bbft_host::p2p_net::transport_config(
        genesis.hash(),
        ChainParams::side_devnet().limits.max_block_bytes,
    );
    let addr: std::net::SocketAddr = cfgs[0].bbft.listen.parse().unwrap();
    let v0 = p2p::PeerId(p2p::NodeKey::from_seed(&node_seed(0)).peer_id().0);
    let mut conn = p2p::transport::dial(addr, &key, &cfg, Some(v0)).await.unwrap();
    conn.send(&p2p::Message::GetBlocks {
        from_height: 1,
        count: 3,
    })
    .await
    .unwrap();
    let p2p::Message::Blocks(blocks) = tokio::time::timeout(Duration::from_secs(5), conn.recv())
        .await
        .unwrap()
        .unwrap()
    else {
        panic!("a reply other than blocks")
    };
    assert_eq!(blocks.len(), 3);
    for (i, b) in blocks.iter().enumerate() {
        assert_eq!(b.header().height, u64::try_from(i).unwrap() + 1);
        assert_eq!(
            Some(b.hash()),
            nodes[0]
                .as_ref()
                .unwrap()
                .chain()
                .store()
                .block_hash(b.header().height)
                .unwrap()
        );
        assert!(
            node::chain::bbft::proof_of(b).is_some(),
            "served without its certificate"
        );
    }
    // Past the tip: an empty reply.
    conn.send(&p2p::Message::GetBlocks {
        from_height: 1_000_000,
        count: 3,
    })
    .await
    .unwrap();
    assert!(matches!(
        tokio::time::timeout(Duration::from_secs(5), conn.recv()).await,
        Ok(Ok(p2p::Message::Blocks(b))) if b.is_empty()
    ));

    // Relayed transactions: a valid one is admitted to the validator's pool (no reply, the
    // connection stays up and is served); one invalid on its own counts against the follower, and
    // the fifth such message bans it.
    let program = p2wpkh_program_of(&xprv.xpub());
    let coin = coins_of(&genesis.transactions()[1], &program)[0].clone();
    let valid = pay_back(&xprv, &coin, &program);
    let valid_id = valid.id();
    conn.send(&p2p::Message::Transactions(vec![valid])).await.unwrap();
    conn.send(&p2p::Message::GetBlocks {
        from_height: 1,
        count: 1,
    })
    .await
    .unwrap();
    assert!(matches!(
        tokio::time::timeout(Duration::from_secs(5), conn.recv()).await,
        Ok(Ok(p2p::Message::Blocks(b))) if b.len() == 1
    ));
    wait(&nodes[..1], "the relayed transfer at validator 0", 30, |c| {
        c.in_pool(&valid_id) || c.store().tx_location(&valid_id).unwrap().is_some()
    })
    .await;
    // Signed by another key: the spent output's program refuses it.
    let forged = sign_transfer(
        &XPrv::root(&[9, 9]),
        std::slice::from_ref(&coins_of(&genesis.transactions()[1], &program)[1]),
        &[(program.clone(), 1_000)],
    )
    .unwrap();
    let addr2: std::net::SocketAddr = cfgs[2].bbft.listen.parse().unwrap();
    let v2 = p2p::PeerId(p2p::NodeKey::from_seed(&node_seed(2)).peer_id().0);
    let mut relay = p2p::transport::dial(addr2, &key, &cfg, Some(v2)).await.unwrap();
    for i in 0..5 {
        let _ = relay
            .send(&p2p::Message::Transactions(vec![forged.clone()]))
            .await;
        let _ = relay
            .send(&p2p::Message::GetBlocks {
                from_height: 1,
                count: 1,
            })
            .await;
        let answer = tokio::time::timeout(Duration::from_secs(10), relay.recv()).await;
        if i < 4 {
            assert!(
                matches!(answer, Ok(Ok(p2p::Message::Blocks(ref b))) if b.len() == 1),
                "served after {} invalid relays: {answer:?}",
                i + 1
            );
        } else {
            assert!(
                matches!(answer, Ok(Err(_))),
                "still served after five invalid relays"
            );
        }
    }
    assert!(!nodes[2].as_ref().unwrap().chain().in_pool(&forged.id()));

    // A consensus message: the connection is closed; three times: banned (a fresh connection is
    // closed before any request is answered).
    for _ in 0..3 {
        conn.send(&p2p::Message::Consensus(vec![1, 2, 3])).await.unwrap();
        assert!(matches!(
            tokio::time::timeout(Duration::from_secs(5), conn.recv()).await,
            Ok(Err(_))
        ));
        conn = p2p::transport::dial(addr, &key, &cfg, Some(v0)).await.unwrap();
    }
    let _ = conn
        .send(&p2p::Message::GetBlocks {
            from_height: 1,
            count: 1,
        })
        .await;
    assert!(
        matches!(
            tokio::time::timeout(Duration::from_secs(5), conn.recv()).await,
            Ok(Err(_))
        ),
        "a banned follower was served"
    );
    // Another validator did not see it misbehave and serves it.
    let addr1: std::net::SocketAddr = cfgs[1].bbft.listen.parse().unwrap();
    let v1 = p2p::PeerId(p2p::NodeKey::from_seed(&node_seed(1)).peer_id().0);
    let mut conn = p2p::transport::dial(addr1, &key, &cfg, Some(v1)).await.unwrap();
    conn.send(&p2p::Message::GetBlocks {
        from_height: 1,
        count: 1,
    })
    .await
    .unwrap();
    assert!(matches!(
        tokio::time::timeout(Duration::from_secs(5), conn.recv()).await,
        Ok(Ok(p2p::Message::Blocks(b))) if b.len() == 1
    ));
    // The validators kept finalizing.
    let h = top(&nodes);
    wait(&nodes, "finality after the follower's misbehaviour", 30, |c| {
        c.final_height() >= h + 2
    })
    .await;
    for n in nodes.into_iter().flatten() {
        n.shutdown().await;
    }
}

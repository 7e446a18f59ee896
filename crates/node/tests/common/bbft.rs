//! What the BBFT network tests share: four validators' keys, genesis and configurations over
//! loopback p2p, temporary directories, waiting on the chains.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use crypto::bls::SecretKey;
use crypto::chainkd::XPrv;
use ledger::ChainParams;
use node::bbft_host::validators::GenesisValidator;
use node::genesis::{devnet_genesis, p2wpkh_program_of};
use node::{BbftConfig, Node, NodeConfig, PeerConfig};

pub(crate) const N: usize = 4;

use super::now_ms;

/// `n` loopback addresses free now, from below the kernel's ephemeral range (32768 and up): a port
/// picked there could be taken as the source port of some outgoing connection (a validator dialling
/// its peers) before its node binds it. Never the same port twice in one test process.
pub(crate) fn free_addrs(n: usize) -> Vec<String> {
    static HANDED_OUT: std::sync::Mutex<Option<std::collections::HashSet<u16>>> = std::sync::Mutex::new(None);
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    let mut handed = HANDED_OUT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let handed = handed.get_or_insert_with(Default::default);
    // Processes running at once start at different places.
    let start = (std::process::id().wrapping_mul(7919) ^ u32::try_from(now_ms() % 10_000).unwrap()) % SPAN;
    let mut out = Vec::new();
    for i in 0..SPAN {
        if out.len() == n {
            break;
        }
        let port = u16::try_from(LOW + (start + i) % SPAN).unwrap();
        if handed.contains(&port) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            handed.insert(port);
            out.push(format!("127.0.0.1:{port}"));
        }
    }
    assert_eq!(out.len(), n, "no free ports");
    out
}

pub(crate) fn node_seed(i: usize) -> [u8; 32] {
    [u8::try_from(i).unwrap() + 100; 32]
}

pub(crate) fn bls_seed(i: usize) -> [u8; 32] {
    [u8::try_from(i).unwrap() + 200; 32]
}

pub(crate) fn configs(root: &std::path::Path) -> (Vec<NodeConfig>, XPrv, types::Block) {
    let params = ChainParams::side_devnet();
    let xprv = XPrv::root(b"bbft p2p dev account");
    let program = p2wpkh_program_of(&xprv.xpub());
    let genesis = devnet_genesis(&params, &program, 4, 1_000_000_000_000, now_ms() - 1_000).unwrap();
    let validators: Vec<GenesisValidator> = (0..N)
        .map(|i| {
            let node_public = p2p::NodeKey::from_seed(&node_seed(i)).peer_id().0;
            GenesisValidator::of(
                &XPrv::root(&[7, u8::try_from(i).unwrap()]).xpub(),
                &node_public,
                &SecretKey::from_seed(&bls_seed(i)),
            )
        })
        .collect();
    let addrs = free_addrs(N);
    let cfgs = (0..N)
        .map(|i| {
            let dir = root.join(format!("node{i}"));
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("genesis.hex"), hex::encode(genesis.encode())).unwrap();
            std::fs::write(dir.join("node.key"), hex::encode(node_seed(i))).unwrap();
            std::fs::write(
                dir.join("bls.key"),
                hex::encode(SecretKey::from_seed(&bls_seed(i)).to_bytes()),
            )
            .unwrap();
            NodeConfig {
                data_dir: dir,
                bbft: BbftConfig {
                    enabled: true,
                    node_id: u32::try_from(i).unwrap(),
                    listen: addrs[i].clone(),
                    validators: validators.clone(),
                    peers: (0..N)
                        .filter(|&j| j != i)
                        .map(|j| PeerConfig {
                            node_id: u32::try_from(j).unwrap(),
                            addr: addrs[j].clone(),
                        })
                        .collect(),
                    ..BbftConfig::default()
                },
                ..NodeConfig::default()
            }
        })
        .collect();
    (cfgs, xprv, genesis)
}

pub(crate) async fn wait(
    nodes: &[Option<Node>],
    what: &str,
    secs: u64,
    pred: impl Fn(&node::ChainService) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if nodes.iter().flatten().all(|n| pred(&n.chain())) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; heights {:?}",
            nodes
                .iter()
                .map(|n| n.as_ref().map(|n| n.chain().final_height()))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

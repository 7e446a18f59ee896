#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Gossip de-duplication invariants under random operation sequences.

use p2p::gossip::{GossipConfig, TxGossip};
use p2p::identity::PeerId;
use proptest::prelude::*;
use types::Hash;

#[derive(Debug, Clone)]
enum Op {
    Received { tx: u8, from: u8 },
    Local { tx: u8 },
    Announce { tx: u8 },
    Advance { ms: u16 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<u8>(), 0u8..12).prop_map(|(tx, from)| Op::Received { tx, from }),
        any::<u8>().prop_map(|tx| Op::Local { tx }),
        any::<u8>().prop_map(|tx| Op::Announce { tx }),
        any::<u16>().prop_map(|ms| Op::Advance { ms }),
    ]
}

proptest! {
    #[test]
    fn bounded_and_never_echoed(ops in prop::collection::vec(op(), 1..400)) {
        let cfg = GossipConfig { capacity: 16, ttl_ms: 5_000, max_peers_per_tx: 4 };
        let mut g = TxGossip::new(cfg);
        let peers: Vec<PeerId> = (0u8..12).map(|b| PeerId([b; 32])).collect();
        let mut now = 0u64;
        // Model: first sender of each live tx, and who was already announced to.
        let mut origin: std::collections::HashMap<u8, (PeerId, u64)> = Default::default();
        for o in ops {
            match o {
                Op::Received { tx, from } => {
                    let h = Hash([tx; 32]);
                    let was = g.contains(&h, now);
                    let fresh = g.on_received(h, peers[usize::from(from)], now);
                    prop_assert_eq!(fresh, !was);
                    if fresh {
                        origin.insert(tx, (peers[usize::from(from)], now));
                    }
                }
                Op::Local { tx } => {
                    let h = Hash([tx; 32]);
                    let was = g.contains(&h, now);
                    prop_assert_eq!(g.on_local(h, now), !was);
                    if !was {
                        origin.remove(&tx);
                    }
                }
                Op::Announce { tx } => {
                    let h = Hash([tx; 32]);
                    let live = g.contains(&h, now);
                    let targets = g.announce_targets(&h, &peers, now);
                    if !live {
                        prop_assert!(targets.is_empty());
                    }
                    if let Some((o, _)) = origin.get(&tx) && live {
                        prop_assert!(!targets.contains(o), "echoed to the sender");
                    }
                    let mut dedup = targets.clone();
                    dedup.sort();
                    dedup.dedup();
                    prop_assert_eq!(dedup.len(), targets.len());
                }
                Op::Advance { ms } => {
                    now += u64::from(ms);
                    g.expire(now);
                }
            }
            prop_assert!(g.len() <= 16);
        }
    }
}

//! Transaction gossip de-duplication (pure): a bounded set of recently seen transaction IDs, each with
//! the peers known to have it (the sender, and everyone we announced it to or who announced it to us).
//! It decides whom to announce a transaction to: every connected peer not known to have it, never the
//! peer it came from.
//!
//! Memory is bounded twice: at most `capacity` IDs (the oldest is forgotten first) and at most
//! `max_peers_per_tx` known peers per ID besides the origin (the first sender, kept apart so it is never
//! echoed to whatever happens). Set the bound at least to the connection limit; beyond it a peer may get
//! a duplicate announcement, which it de-duplicates in turn.

use std::collections::{HashMap, HashSet, VecDeque};

use types::Hash;

use crate::identity::PeerId;

/// Gossip settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GossipConfig {
    /// Most transaction IDs remembered.
    pub capacity: usize,
    /// How long an ID is remembered after it was first seen.
    pub ttl_ms: u64,
    /// Most peers recorded per ID.
    pub max_peers_per_tx: usize,
}

impl Default for GossipConfig {
    fn default() -> Self {
        GossipConfig {
            capacity: 100_000,
            ttl_ms: 10 * 60 * 1000,
            max_peers_per_tx: 128,
        }
    }
}

#[derive(Debug, Clone)]
struct Seen {
    expires_ms: u64,
    origin: Option<PeerId>,
    peers: HashSet<PeerId>,
}

impl Seen {
    fn knows(&self, peer: &PeerId) -> bool {
        self.origin.as_ref() == Some(peer) || self.peers.contains(peer)
    }
}

/// The seen-set.
#[derive(Debug, Clone)]
pub struct TxGossip {
    cfg: GossipConfig,
    seen: HashMap<Hash, Seen>,
    // Insertion order with the expiry it was inserted with; entries refreshed later are skipped by
    // comparing the expiry.
    order: VecDeque<(Hash, u64)>,
}

impl TxGossip {
    /// An empty set.
    pub fn new(cfg: GossipConfig) -> TxGossip {
        TxGossip {
            cfg,
            seen: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// IDs remembered.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Whether `id` was seen and has not expired.
    pub fn contains(&self, id: &Hash, now_ms: u64) -> bool {
        self.seen.get(id).is_some_and(|s| now_ms < s.expires_ms)
    }

    /// Forgets expired IDs.
    pub fn expire(&mut self, now_ms: u64) {
        while let Some((id, exp)) = self.order.front().copied() {
            if exp > now_ms {
                break;
            }
            self.order.pop_front();
            if self.seen.get(&id).is_some_and(|s| s.expires_ms == exp) {
                self.seen.remove(&id);
            }
        }
    }

    fn insert(&mut self, id: Hash, now_ms: u64) -> &mut Seen {
        self.expire(now_ms);
        if !self.seen.contains_key(&id) {
            while self.seen.len() >= self.cfg.capacity.max(1) {
                match self.order.pop_front() {
                    Some((old, exp)) => {
                        if self.seen.get(&old).is_some_and(|s| s.expires_ms == exp) {
                            self.seen.remove(&old);
                        }
                    }
                    None => break,
                }
            }
            let expires_ms = now_ms.saturating_add(self.cfg.ttl_ms);
            self.order.push_back((id, expires_ms));
        }
        let expires_ms = now_ms.saturating_add(self.cfg.ttl_ms);
        self.seen.entry(id).or_insert_with(|| Seen {
            expires_ms,
            origin: None,
            peers: HashSet::new(),
        })
    }

    fn note(&mut self, id: Hash, peer: PeerId, now_ms: u64) -> bool {
        let max = self.cfg.max_peers_per_tx;
        let fresh = !self.contains(&id, now_ms);
        let s = self.insert(id, now_ms);
        if s.origin.is_none() {
            s.origin = Some(peer);
        } else if s.peers.len() < max && !s.knows(&peer) {
            s.peers.insert(peer);
        }
        fresh
    }

    /// A transaction (or its announcement) arrived from `from`. Returns `true` if it is new (fetch or
    /// validate it), `false` if already seen.
    pub fn on_received(&mut self, id: Hash, from: PeerId, now_ms: u64) -> bool {
        self.note(id, from, now_ms)
    }

    /// We created or accepted `id` locally (no sender). Returns `true` if it is new.
    pub fn on_local(&mut self, id: Hash, now_ms: u64) -> bool {
        let fresh = !self.contains(&id, now_ms);
        self.insert(id, now_ms);
        fresh
    }

    /// Of `peers`, those to announce `id` to: every peer not known to have it. They are recorded as
    /// knowing it, so a second call announces nothing twice. An unknown or expired ID is announced to
    /// nobody (the caller must have accepted it first).
    pub fn announce_targets(&mut self, id: &Hash, peers: &[PeerId], now_ms: u64) -> Vec<PeerId> {
        if !self.contains(id, now_ms) {
            return Vec::new();
        }
        let max = self.cfg.max_peers_per_tx;
        let Some(s) = self.seen.get_mut(id) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for p in peers {
            if s.knows(p) || out.contains(p) {
                continue;
            }
            out.push(*p);
            if s.peers.len() < max {
                s.peers.insert(*p);
            }
        }
        out
    }

    /// Whether `peer` is known to have `id` (so we need not send it).
    pub fn peer_has(&self, id: &Hash, peer: &PeerId) -> bool {
        self.seen.get(id).is_some_and(|s| s.knows(peer))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(b: u8) -> Hash {
        Hash([b; 32])
    }
    fn p(b: u8) -> PeerId {
        PeerId([b; 32])
    }

    #[test]
    fn never_echo_and_never_twice() {
        let mut g = TxGossip::new(GossipConfig::default());
        assert!(g.on_received(h(1), p(1), 0));
        assert!(!g.on_received(h(1), p(2), 1), "second copy is not new");
        let peers = [p(1), p(2), p(3), p(4)];
        assert_eq!(g.announce_targets(&h(1), &peers, 2), vec![p(3), p(4)]);
        assert!(g.announce_targets(&h(1), &peers, 3).is_empty());
        assert!(g.announce_targets(&h(9), &peers, 3).is_empty(), "unknown tx");
    }

    #[test]
    fn expiry() {
        let cfg = GossipConfig {
            ttl_ms: 100,
            ..GossipConfig::default()
        };
        let mut g = TxGossip::new(cfg);
        assert!(g.on_local(h(1), 0));
        assert!(g.contains(&h(1), 99));
        assert!(!g.contains(&h(1), 100));
        g.expire(100);
        assert!(g.is_empty());
        assert!(g.on_received(h(1), p(1), 150), "new again after expiry");
    }

    #[test]
    fn bounded_ids_and_peers() {
        let cfg = GossipConfig {
            capacity: 10,
            ttl_ms: 1_000_000,
            max_peers_per_tx: 3,
        };
        let mut g = TxGossip::new(cfg);
        for i in 0..=255u8 {
            g.on_received(h(i), p(0), u64::from(i));
            assert!(g.len() <= 10);
            assert!(g.order.len() <= 10);
        }
        assert!(g.contains(&h(255), 300));
        assert!(!g.contains(&h(0), 300), "oldest forgotten first");
        let peers: Vec<PeerId> = (1..=20).map(p).collect();
        let first = g.announce_targets(&h(255), &peers, 300);
        assert_eq!(first.len(), 20);
        assert!(g.seen.get(&h(255)).is_some_and(|s| s.peers.len() <= 3));
        // The origin is never announced to, even with the peer set full.
        assert!(!g.announce_targets(&h(255), &[p(0)], 301).contains(&p(0)));
    }
}

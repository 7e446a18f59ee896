//! Peer scoring, banning, rate limiting and RTT (pure: the caller passes the time, in milliseconds on any
//! monotonic clock).
//!
//! A score starts at 0 and only goes down on misbehaviour; it recovers toward 0 at a fixed rate. When it
//! reaches the ban threshold the peer is banned for the ban duration and its score resets, so a ban is a
//! fixed sentence rather than one that grows while the peer keeps failing to connect.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::error::{Misbehaviour, P2pError};
use crate::identity::PeerId;

/// Scoring and rate-limit settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerBookConfig {
    /// Ban when the score is at or below `-ban_threshold`.
    pub ban_threshold: u32,
    /// How long a ban lasts.
    pub ban_duration_ms: u64,
    /// Milliseconds for the score to recover one point.
    pub recovery_ms_per_point: u64,
    /// Message burst allowed.
    pub msg_burst: u32,
    /// Sustained messages per second.
    pub msgs_per_sec: u32,
    /// Byte burst allowed (keep it at least the transport's `max_message_bytes`, or the largest messages
    /// can never pass).
    pub byte_burst: u64,
    /// Sustained bytes per second.
    pub bytes_per_sec: u64,
    /// Most peers and addresses tracked; beyond it the least recently seen unbanned entry is forgotten.
    pub max_entries: usize,
}

impl Default for PeerBookConfig {
    fn default() -> Self {
        PeerBookConfig {
            ban_threshold: 100,
            ban_duration_ms: 60 * 60 * 1000,
            recovery_ms_per_point: 10_000,
            msg_burst: 1_000,
            msgs_per_sec: 200,
            byte_burst: 32 << 20,
            bytes_per_sec: 8 << 20,
            max_entries: 4_096,
        }
    }
}

/// The penalty of each misbehaviour (the table in `docs/p2p.md`). With the default threshold of 100 a
/// single malformed message, oversized frame, bad handshake or invalid block bans at once; a protocol
/// violation costs half of that, an invalid transaction (which can be an honest race) a fifth.
pub fn penalty(m: Misbehaviour) -> u32 {
    match m {
        Misbehaviour::MalformedMessage
        | Misbehaviour::OversizedFrame
        | Misbehaviour::BadHandshake
        | Misbehaviour::InvalidBlock => 100,
        Misbehaviour::ProtocolViolation => 50,
        Misbehaviour::InvalidTransaction => 20,
        Misbehaviour::RateLimitExceeded => 10,
    }
}

/// A token bucket in milli-tokens, so slow refill rates lose nothing to rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    capacity: u64,
    per_sec: u64,
    milli_tokens: u64,
    last_ms: u64,
}

impl TokenBucket {
    /// A full bucket of `capacity` tokens refilling at `per_sec`.
    pub fn new(capacity: u64, per_sec: u64, now_ms: u64) -> TokenBucket {
        TokenBucket {
            capacity,
            per_sec,
            milli_tokens: capacity.saturating_mul(1000),
            last_ms: now_ms,
        }
    }

    fn refill(&mut self, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(self.last_ms);
        // tokens/s × ms = milli-tokens
        let add = elapsed.saturating_mul(self.per_sec);
        self.milli_tokens = self
            .milli_tokens
            .saturating_add(add)
            .min(self.capacity.saturating_mul(1000));
        self.last_ms = self.last_ms.max(now_ms);
    }

    /// Takes `n` tokens if available; otherwise takes nothing and returns `false`.
    pub fn try_take(&mut self, n: u64, now_ms: u64) -> bool {
        self.refill(now_ms);
        let need = n.saturating_mul(1000);
        if self.milli_tokens >= need {
            self.milli_tokens -= need;
            true
        } else {
            false
        }
    }

    /// Whole tokens available now.
    pub fn available(&mut self, now_ms: u64) -> u64 {
        self.refill(now_ms);
        self.milli_tokens / 1000
    }
}

/// A score that recovers toward zero over time, in milli-points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Score {
    milli: u64,
    last_ms: u64,
    banned_until: Option<u64>,
}

impl Score {
    fn decay(&mut self, cfg: &PeerBookConfig, now_ms: u64) {
        let elapsed = now_ms.saturating_sub(self.last_ms);
        let recovered = elapsed.saturating_mul(1000) / cfg.recovery_ms_per_point.max(1);
        self.milli = self.milli.saturating_sub(recovered);
        self.last_ms = self.last_ms.max(now_ms);
    }

    fn penalize(&mut self, cfg: &PeerBookConfig, points: u32, now_ms: u64) -> bool {
        self.decay(cfg, now_ms);
        self.milli = self.milli.saturating_add(u64::from(points).saturating_mul(1000));
        if self.milli >= u64::from(cfg.ban_threshold).saturating_mul(1000) {
            self.banned_until = Some(now_ms.saturating_add(cfg.ban_duration_ms));
            self.milli = 0;
            true
        } else {
            false
        }
    }

    fn is_banned(&self, now_ms: u64) -> bool {
        self.banned_until.is_some_and(|t| now_ms < t)
    }

    fn points(&mut self, cfg: &PeerBookConfig, now_ms: u64) -> i64 {
        self.decay(cfg, now_ms);
        // Displayed negative: 0 is clean, -threshold bans.
        -i64::try_from(self.milli / 1000).unwrap_or(i64::MAX)
    }
}

/// What the book knows of one peer.
#[derive(Debug, Clone)]
struct PeerState {
    score: Score,
    msgs: TokenBucket,
    bytes: TokenBucket,
    rtt_ms: Option<u64>,
    pending_ping: Option<(u64, u64)>,
    last_seen_ms: u64,
}

/// What happened to a reported peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Verdict {
    /// Still welcome.
    Ok,
    /// Banned now (the caller should disconnect).
    Banned,
}

/// Peers with their scores, bans, rate limits and RTT, plus scores of addresses (for misbehaviour before
/// a peer has proved its identity). Bounded by [`PeerBookConfig::max_entries`] each.
#[derive(Debug, Clone)]
pub struct PeerBook {
    cfg: PeerBookConfig,
    peers: HashMap<PeerId, PeerState>,
    addrs: HashMap<IpAddr, (Score, u64)>,
}

impl PeerBook {
    /// An empty book.
    pub fn new(cfg: PeerBookConfig) -> PeerBook {
        PeerBook {
            cfg,
            peers: HashMap::new(),
            addrs: HashMap::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PeerBookConfig {
        &self.cfg
    }

    /// Number of peers tracked.
    pub fn len(&self) -> usize {
        self.peers.len()
    }

    /// Whether no peer is tracked.
    pub fn is_empty(&self) -> bool {
        self.peers.is_empty()
    }

    fn make_room_peers(&mut self, now_ms: u64) {
        if self.peers.len() < self.cfg.max_entries {
            return;
        }
        let victim = self
            .peers
            .iter()
            .filter(|(_, s)| !s.score.is_banned(now_ms))
            .min_by_key(|(_, s)| s.last_seen_ms)
            .map(|(id, _)| *id);
        if let Some(id) = victim {
            self.peers.remove(&id);
        }
    }

    fn entry(&mut self, peer: PeerId, now_ms: u64) -> Option<&mut PeerState> {
        if !self.peers.contains_key(&peer) {
            self.make_room_peers(now_ms);
            if self.peers.len() >= self.cfg.max_entries {
                // Full of banned peers: refuse to track more rather than forget a ban.
                return None;
            }
            let c = &self.cfg;
            self.peers.insert(
                peer,
                PeerState {
                    score: Score {
                        last_ms: now_ms,
                        ..Score::default()
                    },
                    msgs: TokenBucket::new(u64::from(c.msg_burst), u64::from(c.msgs_per_sec), now_ms),
                    bytes: TokenBucket::new(c.byte_burst, c.bytes_per_sec, now_ms),
                    rtt_ms: None,
                    pending_ping: None,
                    last_seen_ms: now_ms,
                },
            );
        }
        let s = self.peers.get_mut(&peer)?;
        s.last_seen_ms = s.last_seen_ms.max(now_ms);
        Some(s)
    }

    /// Records a connected peer (no effect on its score).
    pub fn add(&mut self, peer: PeerId, now_ms: u64) {
        let _ = self.entry(peer, now_ms);
    }

    /// Penalizes `peer` for `m`.
    pub fn report(&mut self, peer: PeerId, m: Misbehaviour, now_ms: u64) -> Verdict {
        let cfg = self.cfg;
        let Some(s) = self.entry(peer, now_ms) else {
            return Verdict::Ok;
        };
        if s.score.penalize(&cfg, penalty(m), now_ms) {
            tracing::info!(%peer, ?m, "peer banned");
            Verdict::Banned
        } else {
            Verdict::Ok
        }
    }

    /// Penalizes `peer` for the misbehaviour `err` proves, if any (see [`P2pError::misbehaviour`]).
    pub fn report_error(&mut self, peer: PeerId, err: &P2pError, now_ms: u64) -> Verdict {
        match err.misbehaviour() {
            Some(m) => self.report(peer, m, now_ms),
            None => Verdict::Ok,
        }
    }

    /// Penalizes an address (misbehaviour before the handshake proved an identity).
    pub fn report_addr(&mut self, addr: IpAddr, m: Misbehaviour, now_ms: u64) -> Verdict {
        let cfg = self.cfg;
        if !self.addrs.contains_key(&addr) && self.addrs.len() >= cfg.max_entries {
            let victim = self
                .addrs
                .iter()
                .filter(|(_, (s, _))| !s.is_banned(now_ms))
                .min_by_key(|(_, (_, seen))| *seen)
                .map(|(a, _)| *a);
            match victim {
                Some(a) => {
                    self.addrs.remove(&a);
                }
                None => return Verdict::Ok,
            }
        }
        let (score, seen) = self.addrs.entry(addr).or_insert((
            Score {
                last_ms: now_ms,
                ..Score::default()
            },
            now_ms,
        ));
        *seen = now_ms;
        if score.penalize(&cfg, penalty(m), now_ms) {
            tracing::info!(%addr, ?m, "address banned");
            Verdict::Banned
        } else {
            Verdict::Ok
        }
    }

    /// Whether `peer` is banned at `now_ms`.
    pub fn is_banned(&self, peer: &PeerId, now_ms: u64) -> bool {
        self.peers.get(peer).is_some_and(|s| s.score.is_banned(now_ms))
    }

    /// Whether `addr` is banned at `now_ms`.
    pub fn is_addr_banned(&self, addr: &IpAddr, now_ms: u64) -> bool {
        self.addrs.get(addr).is_some_and(|(s, _)| s.is_banned(now_ms))
    }

    /// The peer's score (0 clean, negative after misbehaviour), after decay to `now_ms`.
    pub fn score(&mut self, peer: &PeerId, now_ms: u64) -> Option<i64> {
        let cfg = self.cfg;
        self.peers.get_mut(peer).map(|s| s.score.points(&cfg, now_ms))
    }

    /// Charges one message of `bytes` bytes against the peer's rate limits; over the limit the peer is
    /// penalized for [`Misbehaviour::RateLimitExceeded`] and the message should be dropped.
    pub fn on_message(&mut self, peer: PeerId, bytes: usize, now_ms: u64) -> Result<(), Verdict> {
        let Some(s) = self.entry(peer, now_ms) else {
            return Ok(());
        };
        if s.score.is_banned(now_ms) {
            return Err(Verdict::Banned);
        }
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        // Check both before taking either, so a refused message costs no tokens.
        let ok = s.msgs.available(now_ms) >= 1 && s.bytes.available(now_ms) >= bytes;
        if ok && s.msgs.try_take(1, now_ms) && s.bytes.try_take(bytes, now_ms) {
            return Ok(());
        }
        Err(self.report(peer, Misbehaviour::RateLimitExceeded, now_ms))
    }

    /// Notes a ping sent with `nonce` (one outstanding ping per peer; a new one replaces it).
    pub fn ping_sent(&mut self, peer: PeerId, nonce: u64, now_ms: u64) {
        if let Some(s) = self.entry(peer, now_ms) {
            s.pending_ping = Some((nonce, now_ms));
        }
    }

    /// Matches a pong against the outstanding ping and updates the RTT (moving average, 1/4 weight on the
    /// new sample). Returns the sample, or `None` for an unsolicited or stale pong.
    pub fn pong_received(&mut self, peer: PeerId, nonce: u64, now_ms: u64) -> Option<u64> {
        let s = self.peers.get_mut(&peer)?;
        match s.pending_ping {
            Some((n, sent)) if n == nonce => {
                s.pending_ping = None;
                let sample = now_ms.saturating_sub(sent);
                s.rtt_ms = Some(match s.rtt_ms {
                    None => sample,
                    Some(old) => (old.saturating_mul(3).saturating_add(sample)) / 4,
                });
                Some(sample)
            }
            _ => None,
        }
    }

    /// The smoothed RTT of `peer`.
    pub fn rtt_ms(&self, peer: &PeerId) -> Option<u64> {
        self.peers.get(peer).and_then(|s| s.rtt_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(b: u8) -> PeerId {
        PeerId([b; 32])
    }

    #[test]
    fn token_bucket_refills_at_its_rate() {
        let mut b = TokenBucket::new(10, 2, 0);
        assert!(b.try_take(10, 0));
        assert!(!b.try_take(1, 0));
        assert!(!b.try_take(1, 499)); // 0.998 tokens
        assert!(b.try_take(1, 500));
        assert_eq!(b.available(100_000), 10); // capped at capacity
    }

    #[test]
    fn message_rate_limit_penalizes_then_bans() {
        let cfg = PeerBookConfig {
            msg_burst: 5,
            msgs_per_sec: 1,
            ..PeerBookConfig::default()
        };
        let mut book = PeerBook::new(cfg);
        for _ in 0..5 {
            assert_eq!(book.on_message(id(1), 10, 0), Ok(()));
        }
        assert_eq!(book.on_message(id(1), 10, 0), Err(Verdict::Ok));
        assert_eq!(book.score(&id(1), 0), Some(-10));
        // A second later one more message fits.
        assert_eq!(book.on_message(id(1), 10, 1000), Ok(()));
        // Flooding: each refused message costs 10 points. 9.9 points are left after a second of
        // recovery, so the ninth refusal stays below 100 and the tenth bans.
        let mut verdicts = Vec::new();
        for _ in 0..10 {
            verdicts.push(book.on_message(id(1), 10, 1000));
        }
        assert_eq!(verdicts.get(8), Some(&Err(Verdict::Ok)));
        assert_eq!(verdicts.get(9), Some(&Err(Verdict::Banned)));
        // A banned peer's messages are refused whatever its tokens.
        assert_eq!(book.on_message(id(1), 1, 100_000), Err(Verdict::Banned));
        assert!(book.is_banned(&id(1), 1000));
    }

    #[test]
    fn byte_rate_limit() {
        let cfg = PeerBookConfig {
            byte_burst: 1000,
            bytes_per_sec: 100,
            ..PeerBookConfig::default()
        };
        let mut book = PeerBook::new(cfg);
        assert_eq!(book.on_message(id(1), 1000, 0), Ok(()));
        assert!(book.on_message(id(1), 1, 0).is_err());
        assert_eq!(book.on_message(id(1), 100, 1000), Ok(()));
    }

    #[test]
    fn score_decays_and_ban_expires() {
        let cfg = PeerBookConfig::default();
        let mut book = PeerBook::new(cfg);
        assert_eq!(
            book.report(id(2), Misbehaviour::ProtocolViolation, 0),
            Verdict::Ok
        );
        assert_eq!(book.score(&id(2), 0), Some(-50));
        // One point per 10 s: after 200 s, 20 points recovered.
        assert_eq!(book.score(&id(2), 200_000), Some(-30));
        assert_eq!(book.score(&id(2), 10_000_000), Some(0));
        // Two violations close together ban; decay in between prevents a ban.
        assert_eq!(
            book.report(id(3), Misbehaviour::ProtocolViolation, 0),
            Verdict::Ok
        );
        assert_eq!(
            book.report(id(3), Misbehaviour::ProtocolViolation, 0),
            Verdict::Banned
        );
        assert!(book.is_banned(&id(3), 0));
        assert!(book.is_banned(&id(3), cfg.ban_duration_ms - 1));
        assert!(!book.is_banned(&id(3), cfg.ban_duration_ms));
        // A second later the first 0.1 point has recovered: 99.9 is not a ban.
        assert_eq!(
            book.report(id(5), Misbehaviour::ProtocolViolation, 0),
            Verdict::Ok
        );
        assert_eq!(
            book.report(id(5), Misbehaviour::ProtocolViolation, 1_000),
            Verdict::Ok
        );
        assert_eq!(
            book.report(id(4), Misbehaviour::ProtocolViolation, 0),
            Verdict::Ok
        );
        assert_eq!(
            book.report(id(4), Misbehaviour::ProtocolViolation, 500_000),
            Verdict::Ok
        );
        assert!(!book.is_banned(&id(4), 500_000));
    }

    #[test]
    fn penalties_follow_the_table() {
        let mut book = PeerBook::new(PeerBookConfig::default());
        for (i, m) in [
            Misbehaviour::MalformedMessage,
            Misbehaviour::OversizedFrame,
            Misbehaviour::BadHandshake,
            Misbehaviour::InvalidBlock,
        ]
        .into_iter()
        .enumerate()
        {
            let p = id(10 + u8::try_from(i).unwrap());
            assert_eq!(book.report(p, m, 0), Verdict::Banned, "{m:?}");
        }
        assert_eq!(
            book.report(id(20), Misbehaviour::InvalidTransaction, 0),
            Verdict::Ok
        );
        assert_eq!(book.score(&id(20), 0), Some(-20));
    }

    #[test]
    fn addresses_are_scored_and_bounded() {
        let cfg = PeerBookConfig {
            max_entries: 3,
            ..PeerBookConfig::default()
        };
        let mut book = PeerBook::new(cfg);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(
            book.report_addr(a, Misbehaviour::MalformedMessage, 0),
            Verdict::Banned
        );
        assert!(book.is_addr_banned(&a, 1));
        for i in 2..10u8 {
            let _ = book.report_addr(IpAddr::from([10, 0, 0, i]), Misbehaviour::RateLimitExceeded, 0);
        }
        assert!(book.addrs.len() <= 3);
        assert!(book.is_addr_banned(&a, 1), "bans are never evicted");
        for i in 0..10u8 {
            book.add(id(i), u64::from(i));
        }
        assert!(book.len() <= 3);
    }

    #[test]
    fn rtt_from_ping_pong() {
        let mut book = PeerBook::new(PeerBookConfig::default());
        book.ping_sent(id(1), 42, 1_000);
        assert_eq!(book.pong_received(id(1), 41, 1_050), None);
        assert_eq!(book.pong_received(id(1), 42, 1_080), Some(80));
        assert_eq!(book.rtt_ms(&id(1)), Some(80));
        assert_eq!(book.pong_received(id(1), 42, 1_090), None, "answered once");
        book.ping_sent(id(1), 43, 2_000);
        assert_eq!(book.pong_received(id(1), 43, 2_040), Some(40));
        assert_eq!(book.rtt_ms(&id(1)), Some(70));
    }
}

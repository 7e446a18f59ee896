#![doc = include_str!("../README.md")]
//!
//! Modules: [`identity`] (node key, peer ID, handshake payload), [`transport`] (Noise XX over TCP and
//! chunked framing, the only module doing I/O), [`message`] (the versioned wire codec), [`peer`] (scoring,
//! bans, rate limits, RTT), [`gossip`] (transaction announcement de-duplication), [`compact`] (compact
//! block relay). The wire format is specified in `docs/p2p.md`.

pub mod compact;
pub mod error;
pub mod gossip;
pub mod identity;
pub mod message;
pub mod peer;
pub mod transport;

pub use compact::{CompactBlock, CompactError, PartialBlock, ShortId};
pub use error::{Misbehaviour, P2pError};
pub use gossip::{GossipConfig, TxGossip};
pub use identity::{NodeKey, PeerId};
pub use message::{CodecConfig, Message, MessageError, Status};
pub use peer::{PeerBook, PeerBookConfig, TokenBucket, Verdict};
pub use transport::{Connection, RecvHalf, SendHalf, TransportConfig};

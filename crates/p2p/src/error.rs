//! The transport's error type and the misbehaviour each error stands for.

use crate::identity::PeerId;
use crate::message::MessageError;
use types::Hash;

/// What a peer did wrong, as far as scoring is concerned. [`crate::peer::PeerBook`] turns each into a
/// penalty (see the table in `docs/p2p.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Misbehaviour {
    /// Bytes that do not decode as a message, or a broken frame sequence.
    MalformedMessage,
    /// A message announced larger than the configured maximum.
    OversizedFrame,
    /// A well-formed message that breaks the protocol (unsolicited response, bad index, ...).
    ProtocolViolation,
    /// The handshake failed in a way only a broken or hostile peer causes (bad signature, garbage).
    BadHandshake,
    /// The caller found a relayed transaction invalid.
    InvalidTransaction,
    /// The caller found a relayed block invalid.
    InvalidBlock,
    /// The peer exceeded its message or byte rate.
    RateLimitExceeded,
}

/// Everything that can go wrong on a connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum P2pError {
    /// The socket failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The peer closed the connection.
    #[error("connection closed by peer")]
    Closed,
    /// Noise refused a message (authentication failure, bad handshake message).
    #[error("noise: {0}")]
    Noise(#[from] snow::Error),
    /// A transport frame failed authentication (tampered, replayed or garbage bytes).
    #[error("frame failed authentication")]
    Decrypt,
    /// The handshake did not finish in time.
    #[error("handshake timed out")]
    HandshakeTimeout,
    /// The handshake payload has the wrong length or layout.
    #[error("malformed handshake payload ({len} bytes)")]
    MalformedHandshake {
        /// Length received.
        len: usize,
    },
    /// The peer speaks another protocol version.
    #[error("protocol version mismatch: ours {ours}, theirs {theirs}")]
    VersionMismatch {
        /// Our version.
        ours: u32,
        /// The peer's version.
        theirs: u32,
    },
    /// The peer is on another chain.
    #[error("wrong chain: expected {expected}, peer is on {got}")]
    WrongChain {
        /// Our chain ID.
        expected: Hash,
        /// The peer's chain ID.
        got: Hash,
    },
    /// The peer's identity signature does not verify over its Noise static key.
    #[error("bad identity signature from {peer}")]
    BadSignature {
        /// The peer ID claimed.
        peer: PeerId,
    },
    /// We dialled a known peer and someone else answered.
    #[error("unexpected peer: expected {expected}, got {got}")]
    UnexpectedPeer {
        /// The ID we dialled.
        expected: PeerId,
        /// The ID that answered.
        got: PeerId,
    },
    /// A message larger than the configured maximum (checked before allocating).
    #[error("message of {size} bytes exceeds the maximum of {max}")]
    Oversized {
        /// Announced (or attempted) size.
        size: u64,
        /// The configured maximum.
        max: usize,
    },
    /// A frame sequence that does not add up (a chunk longer than the announced message, a first chunk
    /// shorter than its length prefix).
    #[error("bad framing: {0}")]
    Framing(&'static str),
    /// The message bytes did not decode.
    #[error("malformed message: {0}")]
    Malformed(#[from] MessageError),
}

impl P2pError {
    /// The misbehaviour this error proves, if any. I/O failures, closes and timeouts prove nothing
    /// (networks fail), and neither does a wrong chain, a version mismatch or an unexpected peer: an honest
    /// node can be misconfigured or have rotated its key.
    pub fn misbehaviour(&self) -> Option<Misbehaviour> {
        match self {
            P2pError::Io(_)
            | P2pError::Closed
            | P2pError::HandshakeTimeout
            | P2pError::VersionMismatch { .. }
            | P2pError::WrongChain { .. }
            | P2pError::UnexpectedPeer { .. } => None,
            P2pError::Noise(_) | P2pError::MalformedHandshake { .. } | P2pError::BadSignature { .. } => {
                Some(Misbehaviour::BadHandshake)
            }
            P2pError::Oversized { .. } => Some(Misbehaviour::OversizedFrame),
            P2pError::Decrypt | P2pError::Framing(_) | P2pError::Malformed(_) => {
                Some(Misbehaviour::MalformedMessage)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_proof_of_misbehaviour_is_penalized() {
        let io = P2pError::Io(std::io::Error::other("reset"));
        assert_eq!(io.misbehaviour(), None);
        assert_eq!(P2pError::Closed.misbehaviour(), None);
        assert_eq!(P2pError::HandshakeTimeout.misbehaviour(), None);
        assert_eq!(
            P2pError::Oversized { size: 10, max: 1 }.misbehaviour(),
            Some(Misbehaviour::OversizedFrame)
        );
        assert_eq!(
            P2pError::Decrypt.misbehaviour(),
            Some(Misbehaviour::MalformedMessage)
        );
        assert_eq!(
            P2pError::Malformed(MessageError::Truncated).misbehaviour(),
            Some(Misbehaviour::MalformedMessage)
        );
        assert_eq!(
            P2pError::BadSignature {
                peer: PeerId([0; 32])
            }
            .misbehaviour(),
            Some(Misbehaviour::BadHandshake)
        );
    }
}

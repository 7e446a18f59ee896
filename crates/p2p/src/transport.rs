//! The tokio host: TCP, the Noise XX handshake bound to the node key, and chunked framing of messages.
//!
//! Handshake frames and transport frames are both `u16 big-endian length ‖ Noise message`. An
//! application message is `u32 big-endian length ‖ message bytes`, split into chunks of at most
//! 65 519 plaintext bytes (65 535 minus the 16-byte tag), each encrypted as one Noise transport message.
//! The length is in the first chunk and checked against the maximum before any buffer is sized from it.
//!
//! After any receive error the byte stream is no longer in step with the sender: drop the connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use snow::{Builder, HandshakeState, StatelessTransportState};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use types::{Hash, Profile};
use zeroize::Zeroizing;

use crate::error::P2pError;
use crate::identity::{HandshakePayload, NodeKey, PeerId};
use crate::message::{CodecConfig, Message};

/// The Noise protocol name.
pub const NOISE_PARAMS: &str = "Noise_XX_25519_ChaChaPoly_SHA256";
/// Noise prologue: both sides must agree on it or the handshake fails.
pub const PROLOGUE: &[u8] = b"tributary/p2p/noise/v1";
/// Our protocol version, exchanged (signed) in the handshake.
pub const PROTOCOL_VERSION: u32 = 1;
/// Largest Noise message.
pub const MAX_NOISE_MESSAGE: usize = 65_535;
/// Noise authentication tag length.
pub const TAG_LEN: usize = 16;
/// Largest plaintext of one chunk.
pub const MAX_CHUNK_PLAINTEXT: usize = MAX_NOISE_MESSAGE - TAG_LEN;
/// Length of the message length prefix.
const LEN_PREFIX: usize = 4;

/// Transport settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransportConfig {
    /// Our chain; peers on another chain are refused.
    pub chain_id: Hash,
    /// Protocol version; peers with another version are refused.
    pub protocol_version: u32,
    /// Largest message accepted (and sent).
    pub max_message_bytes: usize,
    /// Time allowed for the whole handshake.
    pub handshake_timeout: Duration,
    /// Message decoding bounds.
    pub codec: CodecConfig,
}

impl TransportConfig {
    /// Defaults: messages up to the largest block [`types::Limits`] allows plus 1 MiB (so any valid
    /// block can be relayed in one `Blocks` message), a 10-second handshake.
    pub fn new(chain_id: Hash, profile: Profile) -> TransportConfig {
        let codec = CodecConfig::new(profile);
        TransportConfig {
            chain_id,
            protocol_version: PROTOCOL_VERSION,
            max_message_bytes: codec.limits.max_block_bytes.saturating_add(1 << 20),
            handshake_timeout: Duration::from_secs(10),
            codec,
        }
    }
}

fn eof_to_closed(e: std::io::Error) -> P2pError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        P2pError::Closed
    } else {
        P2pError::Io(e)
    }
}

async fn write_frame(w: &mut (impl AsyncWriteExt + Unpin), body: &[u8]) -> Result<(), P2pError> {
    let len = u16::try_from(body.len()).map_err(|_| P2pError::Framing("noise message above 65535 bytes"))?;
    let mut out = Vec::with_capacity(body.len().saturating_add(2));
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    w.write_all(&out).await?;
    w.flush().await?;
    Ok(())
}

/// Reads one `u16 length ‖ body` frame into `buf` (which holds 65 535 bytes); returns the length.
async fn read_frame(r: &mut (impl AsyncReadExt + Unpin), buf: &mut [u8]) -> Result<usize, P2pError> {
    let mut len = [0u8; 2];
    r.read_exact(&mut len).await.map_err(eof_to_closed)?;
    let len = usize::from(u16::from_be_bytes(len));
    let dst = buf.get_mut(..len).ok_or(P2pError::Framing("frame buffer"))?;
    r.read_exact(dst).await.map_err(eof_to_closed)?;
    Ok(len)
}

struct Noise {
    state: HandshakeState,
    our_static: Vec<u8>,
}

fn noise(initiator: bool) -> Result<Noise, P2pError> {
    let params: snow::params::NoiseParams = NOISE_PARAMS.parse()?;
    // A fresh static key per connection: the node key, not the Noise key, is the identity, and the
    // signature binds the two.
    let kp = Builder::new(params.clone()).generate_keypair()?;
    let private = Zeroizing::new(kp.private);
    let builder = Builder::new(params)
        .local_private_key(&private)?
        .prologue(PROLOGUE)?;
    let state = if initiator {
        builder.build_initiator()?
    } else {
        builder.build_responder()?
    };
    Ok(Noise {
        state,
        our_static: kp.public,
    })
}

fn remote_static(state: &HandshakeState) -> Result<Vec<u8>, P2pError> {
    state
        .get_remote_static()
        .map(<[u8]>::to_vec)
        .ok_or(P2pError::MalformedHandshake { len: 0 })
}

/// Reading side of any byte stream (a TCP half, or an in-memory pipe in tests and simulation).
type BoxRead = Box<dyn AsyncRead + Send + Unpin>;
/// Writing side of any byte stream.
type BoxWrite = Box<dyn AsyncWrite + Send + Unpin>;

async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    key: &NodeKey,
    cfg: &TransportConfig,
    initiator: bool,
    expected: Option<PeerId>,
) -> Result<(StatelessTransportState, PeerId), P2pError> {
    let Noise {
        mut state,
        our_static,
    } = noise(initiator)?;
    let ours = HandshakePayload::sign(key, cfg.protocol_version, cfg.chain_id, &our_static).encode();
    let mut frame = vec![0u8; MAX_NOISE_MESSAGE];
    let mut out = vec![0u8; MAX_NOISE_MESSAGE];
    let mut payload = vec![0u8; MAX_NOISE_MESSAGE];
    let peer = if initiator {
        // -> e
        let n = state.write_message(&[], &mut out)?;
        write_frame(stream, out.get(..n).unwrap_or_default()).await?;
        // <- e, ee, s, es (+ responder identity)
        let len = read_frame(stream, &mut frame).await?;
        let n = state.read_message(frame.get(..len).unwrap_or_default(), &mut payload)?;
        let theirs = HandshakePayload::decode(payload.get(..n).unwrap_or_default())?;
        let peer = theirs.verify(
            cfg.protocol_version,
            &cfg.chain_id,
            &remote_static(&state)?,
            expected,
        )?;
        // -> s, se (+ our identity)
        let n = state.write_message(&ours, &mut out)?;
        write_frame(stream, out.get(..n).unwrap_or_default()).await?;
        peer
    } else {
        let len = read_frame(stream, &mut frame).await?;
        let n = state.read_message(frame.get(..len).unwrap_or_default(), &mut payload)?;
        // The first message carries no payload; bytes there are not ours to interpret.
        if n != 0 {
            return Err(P2pError::MalformedHandshake { len: n });
        }
        let n = state.write_message(&ours, &mut out)?;
        write_frame(stream, out.get(..n).unwrap_or_default()).await?;
        let len = read_frame(stream, &mut frame).await?;
        let n = state.read_message(frame.get(..len).unwrap_or_default(), &mut payload)?;
        let theirs = HandshakePayload::decode(payload.get(..n).unwrap_or_default())?;
        theirs.verify(
            cfg.protocol_version,
            &cfg.chain_id,
            &remote_static(&state)?,
            expected,
        )?
    };
    Ok((state.into_stateless_transport_mode()?, peer))
}

async fn establish<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    key: &NodeKey,
    cfg: &TransportConfig,
    initiator: bool,
    expected: Option<PeerId>,
) -> Result<(S, StatelessTransportState, PeerId), P2pError> {
    let (noise, peer_id) = tokio::time::timeout(
        cfg.handshake_timeout,
        handshake(&mut stream, key, cfg, initiator, expected),
    )
    .await
    .map_err(|_| P2pError::HandshakeTimeout)??;
    Ok((stream, noise, peer_id))
}

fn connection(
    r: BoxRead,
    w: BoxWrite,
    noise: StatelessTransportState,
    peer_id: PeerId,
    remote_addr: Option<SocketAddr>,
    cfg: &TransportConfig,
) -> Connection {
    let noise = Arc::new(noise);
    Connection {
        peer_id,
        remote_addr,
        send: SendHalf {
            w,
            noise: Arc::clone(&noise),
            nonce: 0,
            max: cfg.max_message_bytes,
        },
        recv: RecvHalf {
            r,
            noise,
            nonce: 0,
            max: cfg.max_message_bytes,
            codec: cfg.codec,
            cipher: vec![0u8; MAX_NOISE_MESSAGE],
            plain: vec![0u8; MAX_NOISE_MESSAGE],
        },
    }
}

async fn establish_tcp(
    stream: TcpStream,
    key: &NodeKey,
    cfg: &TransportConfig,
    initiator: bool,
    expected: Option<PeerId>,
) -> Result<Connection, P2pError> {
    let remote_addr = stream.peer_addr()?;
    stream.set_nodelay(true)?;
    let (stream, noise, peer_id) = establish(stream, key, cfg, initiator, expected).await?;
    let (r, w) = stream.into_split();
    Ok(connection(
        Box::new(r),
        Box::new(w),
        noise,
        peer_id,
        Some(remote_addr),
        cfg,
    ))
}

/// Runs the handshake over any byte stream (e.g. `tokio::io::duplex` in tests and simulation) as the
/// initiator (`expected`: refuse any other peer) or, with `initiator == false`, the responder.
pub async fn handshake_stream<S>(
    stream: S,
    key: &NodeKey,
    cfg: &TransportConfig,
    initiator: bool,
    expected: Option<PeerId>,
) -> Result<Connection, P2pError>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (stream, noise, peer_id) = establish(stream, key, cfg, initiator, expected).await?;
    let (r, w) = tokio::io::split(stream);
    Ok(connection(Box::new(r), Box::new(w), noise, peer_id, None, cfg))
}

/// Runs the initiator's handshake on a connected stream. With `expected`, refuses any other peer.
pub async fn connect(
    stream: TcpStream,
    key: &NodeKey,
    cfg: &TransportConfig,
    expected: Option<PeerId>,
) -> Result<Connection, P2pError> {
    establish_tcp(stream, key, cfg, true, expected).await
}

/// Dials `addr` and runs the initiator's handshake (the timeout covers the TCP connect too).
pub async fn dial(
    addr: SocketAddr,
    key: &NodeKey,
    cfg: &TransportConfig,
    expected: Option<PeerId>,
) -> Result<Connection, P2pError> {
    let stream = tokio::time::timeout(cfg.handshake_timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| P2pError::HandshakeTimeout)??;
    connect(stream, key, cfg, expected).await
}

/// Runs the responder's handshake on an accepted stream.
pub async fn accept(stream: TcpStream, key: &NodeKey, cfg: &TransportConfig) -> Result<Connection, P2pError> {
    establish_tcp(stream, key, cfg, false, None).await
}

/// An authenticated, encrypted connection to a peer.
#[derive(Debug)]
pub struct Connection {
    peer_id: PeerId,
    remote_addr: Option<SocketAddr>,
    send: SendHalf,
    recv: RecvHalf,
}

impl Connection {
    /// The peer's verified identity.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The peer's socket address (`None` over a non-TCP stream).
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
    }

    /// Sends one message.
    pub async fn send(&mut self, msg: &Message) -> Result<(), P2pError> {
        self.send.send(msg).await
    }

    /// Sends already-encoded message bytes ([`SendHalf::send_bytes`]).
    pub async fn send_bytes(&mut self, bytes: &[u8]) -> Result<(), P2pError> {
        self.send.send_bytes(bytes).await
    }

    /// Receives one message.
    pub async fn recv(&mut self) -> Result<Message, P2pError> {
        self.recv.recv().await
    }

    /// Splits into halves that can live in separate tasks.
    pub fn split(self) -> (SendHalf, RecvHalf) {
        (self.send, self.recv)
    }
}

/// The sending half of a [`Connection`].
pub struct SendHalf {
    w: BoxWrite,
    noise: Arc<StatelessTransportState>,
    nonce: u64,
    max: usize,
}

impl std::fmt::Debug for SendHalf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendHalf").field("nonce", &self.nonce).finish()
    }
}

impl SendHalf {
    /// Sends one message.
    pub async fn send(&mut self, msg: &Message) -> Result<(), P2pError> {
        self.send_bytes(&msg.encode()).await
    }

    /// Sends already-encoded message bytes (e.g. a block encoded once for many peers). The receiver
    /// decodes them as a [`Message`].
    pub async fn send_bytes(&mut self, bytes: &[u8]) -> Result<(), P2pError> {
        let size = u32::try_from(bytes.len())
            .ok()
            .filter(|_| bytes.len() <= self.max);
        let Some(size) = size else {
            return Err(P2pError::Oversized {
                size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
                max: self.max,
            });
        };
        let mut plain = Vec::with_capacity(bytes.len().saturating_add(LEN_PREFIX));
        plain.extend_from_slice(&size.to_be_bytes());
        plain.extend_from_slice(bytes);
        let mut out = Vec::new();
        let mut cipher = vec![0u8; MAX_NOISE_MESSAGE];
        for chunk in plain.chunks(MAX_CHUNK_PLAINTEXT) {
            let n = self.noise.write_message(self.nonce, chunk, &mut cipher)?;
            self.nonce = self
                .nonce
                .checked_add(1)
                .ok_or(P2pError::Framing("nonce exhausted"))?;
            let len = u16::try_from(n).map_err(|_| P2pError::Framing("noise message above 65535 bytes"))?;
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(cipher.get(..n).unwrap_or_default());
        }
        self.w.write_all(&out).await?;
        self.w.flush().await?;
        Ok(())
    }

    /// Closes the sending direction.
    pub async fn shutdown(&mut self) -> Result<(), P2pError> {
        self.w.shutdown().await?;
        Ok(())
    }
}

/// The receiving half of a [`Connection`].
pub struct RecvHalf {
    r: BoxRead,
    noise: Arc<StatelessTransportState>,
    nonce: u64,
    max: usize,
    codec: CodecConfig,
    cipher: Vec<u8>,
    plain: Vec<u8>,
}

impl std::fmt::Debug for RecvHalf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvHalf").field("nonce", &self.nonce).finish()
    }
}

impl RecvHalf {
    /// Reads and decrypts one chunk; returns its plaintext length (in `self.plain`).
    async fn read_chunk(&mut self) -> Result<usize, P2pError> {
        let len = read_frame(&mut self.r, &mut self.cipher).await?;
        let frame = self.cipher.get(..len).unwrap_or_default();
        let n = self
            .noise
            .read_message(self.nonce, frame, &mut self.plain)
            .map_err(|_| P2pError::Decrypt)?;
        self.nonce = self
            .nonce
            .checked_add(1)
            .ok_or(P2pError::Framing("nonce exhausted"))?;
        Ok(n)
    }

    /// Receives the bytes of one message (not decoded).
    pub async fn recv_bytes(&mut self) -> Result<Vec<u8>, P2pError> {
        let n = self.read_chunk().await?;
        let first = self.plain.get(..n).unwrap_or_default();
        let (len, rest) = first
            .split_first_chunk::<LEN_PREFIX>()
            .ok_or(P2pError::Framing("first chunk shorter than the length prefix"))?;
        let total = u32::from_be_bytes(*len);
        let total_usize = usize::try_from(total).unwrap_or(usize::MAX);
        // The bound is checked before anything is sized from the peer's number.
        if total_usize > self.max {
            return Err(P2pError::Oversized {
                size: u64::from(total),
                max: self.max,
            });
        }
        if rest.len() > total_usize {
            return Err(P2pError::Framing("chunk longer than the message"));
        }
        let mut body = Vec::with_capacity(total_usize.min(MAX_CHUNK_PLAINTEXT));
        body.extend_from_slice(rest);
        while body.len() < total_usize {
            let n = self.read_chunk().await?;
            let chunk = self.plain.get(..n).unwrap_or_default();
            if chunk.len() > total_usize.saturating_sub(body.len()) {
                return Err(P2pError::Framing("chunk longer than the message"));
            }
            body.extend_from_slice(chunk);
        }
        Ok(body)
    }

    /// Receives and decodes one message.
    pub async fn recv(&mut self) -> Result<Message, P2pError> {
        let bytes = self.recv_bytes().await?;
        Ok(Message::decode(&bytes, &self.codec)?)
    }
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Two peers over loopback TCP: handshake, every message kind, refusals, and hostile bytes before and
//! after the handshake ending in a typed error and a ban, never a panic.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use p2p::compact::CompactBlock;
use p2p::identity::{HandshakePayload, NodeKey, PeerId};
use p2p::message::{Message, Status};
use p2p::peer::{PeerBook, PeerBookConfig};
use p2p::transport::{self, NOISE_PARAMS, PROLOGUE, TransportConfig};
use p2p::{Misbehaviour, P2pError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use types::{Hash, Profile};

const CHAIN: Hash = Hash([0xc7; 32]);

fn cfg() -> TransportConfig {
    let mut c = TransportConfig::new(CHAIN, Profile::Main);
    c.handshake_timeout = Duration::from_secs(5);
    c
}

fn key(b: u8) -> NodeKey {
    NodeKey::from_seed(&[b; 32])
}

async fn listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a = l.local_addr().unwrap();
    (l, a)
}

/// Accepts one connection with `key`/`cfg` and returns the handshake result.
fn spawn_accept(
    l: TcpListener,
    key: NodeKey,
    cfg: TransportConfig,
) -> tokio::task::JoinHandle<Result<transport::Connection, P2pError>> {
    tokio::spawn(async move {
        let (s, _) = l.accept().await.unwrap();
        transport::accept(s, &key, &cfg).await
    })
}

fn all_messages() -> Vec<Message> {
    let b = common::block(3, 0, 4);
    vec![
        Message::Status(Status {
            chain_id: CHAIN,
            best_height: 42,
            best_hash: b.hash(),
            final_height: 40,
        }),
        Message::Transactions(vec![common::tx(1), common::tx(2)]),
        Message::TxInventory(vec![common::tx(1).id(), common::tx(3).id()]),
        Message::GetTransactions(vec![common::tx(3).id()]),
        Message::CompactBlock(CompactBlock::from_block(&b, &[2])),
        Message::GetBlockTransactions {
            block_hash: b.hash(),
            indexes: vec![1, 3],
        },
        Message::BlockTransactions {
            block_hash: b.hash(),
            transactions: vec![common::tx(1), common::tx(3)],
        },
        Message::GetBlocks {
            from_height: 3,
            count: 16,
        },
        Message::Blocks(vec![b.clone(), common::block(4, 10, 2)]),
        Message::Consensus(vec![0xab; 1000]),
        Message::Ping(0x0123_4567_89ab_cdef),
        Message::Pong(0x0123_4567_89ab_cdef),
        // Larger than one Noise chunk: exercises multi-chunk framing.
        Message::Consensus((0..200_000u32).map(|i| i.to_le_bytes()[0]).collect()),
    ]
}

#[tokio::test]
async fn handshake_and_every_message_kind() {
    let (l, addr) = listener().await;
    let server = spawn_accept(l, key(2), cfg());
    let mut client = transport::dial(addr, &key(1), &cfg(), Some(key(2).peer_id()))
        .await
        .unwrap();
    let server = server.await.unwrap().unwrap();
    assert_eq!(client.peer_id(), key(2).peer_id());
    assert_eq!(server.peer_id(), key(1).peer_id());

    // Server echoes from a task on its receive half through its send half in another task.
    let (mut s_send, mut s_recv) = server.split();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Message>(4);
    let reader = tokio::spawn(async move {
        while let Ok(m) = s_recv.recv().await {
            if tx.send(m).await.is_err() {
                break;
            }
        }
    });
    let writer = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            s_send.send(&m).await.unwrap();
        }
    });
    for m in all_messages() {
        client.send(&m).await.unwrap();
        let back = client.recv().await.unwrap();
        assert_eq!(back, m);
    }
    drop(client);
    reader.await.unwrap();
    writer.await.unwrap();
}

#[tokio::test]
async fn ping_pong_measures_rtt_in_the_book() {
    let (l, addr) = listener().await;
    let server = spawn_accept(l, key(2), cfg());
    let mut client = transport::dial(addr, &key(1), &cfg(), None).await.unwrap();
    let mut server = server.await.unwrap().unwrap();
    let mut book = PeerBook::new(PeerBookConfig::default());
    let start = std::time::Instant::now();
    let now = |s: std::time::Instant| u64::try_from(s.elapsed().as_millis()).unwrap();
    book.ping_sent(client.peer_id(), 77, now(start));
    client.send(&Message::Ping(77)).await.unwrap();
    match server.recv().await.unwrap() {
        Message::Ping(n) => server.send(&Message::Pong(n)).await.unwrap(),
        other => panic!("{other:?}"),
    }
    let Message::Pong(n) = client.recv().await.unwrap() else {
        panic!()
    };
    let rtt = book.pong_received(client.peer_id(), n, now(start)).unwrap();
    assert_eq!(book.rtt_ms(&client.peer_id()), Some(rtt));
}

#[tokio::test]
async fn wrong_chain_is_refused() {
    let (l, addr) = listener().await;
    let mut other = cfg();
    other.chain_id = Hash([1; 32]);
    let server = spawn_accept(l, key(2), other);
    let err = transport::dial(addr, &key(1), &cfg(), None).await.unwrap_err();
    assert!(
        matches!(err, P2pError::WrongChain { expected, got } if expected == CHAIN && got == Hash([1; 32]))
    );
    assert_eq!(err.misbehaviour(), None);
    // The server never learns the client's identity: the client hung up first.
    assert!(server.await.unwrap().is_err());
}

#[tokio::test]
async fn version_mismatch_is_refused() {
    let (l, addr) = listener().await;
    let mut other = cfg();
    other.protocol_version = 2;
    let server = spawn_accept(l, key(2), other);
    let err = transport::dial(addr, &key(1), &cfg(), None).await.unwrap_err();
    assert!(matches!(err, P2pError::VersionMismatch { ours: 1, theirs: 2 }));
    assert!(server.await.unwrap().is_err());
}

#[tokio::test]
async fn unexpected_peer_is_refused() {
    let (l, addr) = listener().await;
    let server = spawn_accept(l, key(3), cfg());
    let err = transport::dial(addr, &key(1), &cfg(), Some(key(2).peer_id()))
        .await
        .unwrap_err();
    assert!(matches!(err, P2pError::UnexpectedPeer { expected, got }
        if expected == key(2).peer_id() && got == key(3).peer_id()));
    assert!(server.await.unwrap().is_err());
}

/// A hand-driven Noise XX initiator, so tests can send what an honest node never would.
struct Raw {
    stream: TcpStream,
    noise: snow::StatelessTransportState,
    nonce: u64,
}

async fn write_frame(s: &mut TcpStream, body: &[u8]) {
    let mut out = u16::try_from(body.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(body);
    s.write_all(&out).await.unwrap();
}

async fn read_frame(s: &mut TcpStream) -> Vec<u8> {
    let mut len = [0u8; 2];
    s.read_exact(&mut len).await.unwrap();
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    s.read_exact(&mut body).await.unwrap();
    body
}

/// Runs the initiator side; `payload` builds our identity payload from our Noise static key.
async fn raw_handshake(addr: SocketAddr, payload: impl FnOnce(&[u8]) -> Vec<u8>) -> Raw {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let builder = snow::Builder::new(NOISE_PARAMS.parse().unwrap());
    let kp = builder.generate_keypair().unwrap();
    let mut hs = snow::Builder::new(NOISE_PARAMS.parse().unwrap())
        .local_private_key(&kp.private)
        .unwrap()
        .prologue(PROLOGUE)
        .unwrap()
        .build_initiator()
        .unwrap();
    let mut buf = vec![0u8; 65535];
    let n = hs.write_message(&[], &mut buf).unwrap();
    write_frame(&mut stream, &buf[..n]).await;
    let msg2 = read_frame(&mut stream).await;
    let mut pl = vec![0u8; 65535];
    hs.read_message(&msg2, &mut pl).unwrap();
    let ours = payload(&kp.public);
    let n = hs.write_message(&ours, &mut buf).unwrap();
    write_frame(&mut stream, &buf[..n]).await;
    Raw {
        stream,
        noise: hs.into_stateless_transport_mode().unwrap(),
        nonce: 0,
    }
}

impl Raw {
    async fn send_chunk(&mut self, plain: &[u8]) {
        let mut buf = vec![0u8; 65535];
        let n = self.noise.write_message(self.nonce, plain, &mut buf).unwrap();
        self.nonce += 1;
        write_frame(&mut self.stream, &buf[..n]).await;
    }
}

fn honest(k: &NodeKey) -> impl FnOnce(&[u8]) -> Vec<u8> + '_ {
    move |st: &[u8]| HandshakePayload::sign(k, 1, CHAIN, st).encode().to_vec()
}

#[tokio::test]
async fn bad_signature_is_refused_and_banned() {
    let (l, addr) = listener().await;
    let server = spawn_accept(l, key(2), cfg());
    // Claims key 5's identity but signs with key 1.
    let _raw = raw_handshake(addr, |st| {
        let mut p = HandshakePayload::sign(&key(1), 1, CHAIN, st);
        p.peer_id = key(5).peer_id();
        p.encode().to_vec()
    })
    .await;
    let err = server.await.unwrap().unwrap_err();
    assert!(matches!(err, P2pError::BadSignature { peer } if peer == key(5).peer_id()));
    let mut book = PeerBook::new(PeerBookConfig::default());
    let _ = book.report_addr(addr.ip(), err.misbehaviour().unwrap(), 0);
    assert!(book.is_addr_banned(&addr.ip(), 1));
}

#[tokio::test]
async fn signature_for_another_noise_key_is_refused() {
    // A valid signature by the claimed key, but over a Noise key that is not the sender's: a replayed
    // identity cannot be attached to another session.
    let (l, addr) = listener().await;
    let server = spawn_accept(l, key(2), cfg());
    let k = key(1);
    let _raw = raw_handshake(addr, |_| {
        HandshakePayload::sign(&k, 1, CHAIN, &[9u8; 32]).encode().to_vec()
    })
    .await;
    assert!(matches!(
        server.await.unwrap(),
        Err(P2pError::BadSignature { .. })
    ));
}

/// Completes an honest raw handshake and returns the raw side and the server's connection.
async fn raw_pair(mut server_cfg: TransportConfig, max: usize) -> (Raw, transport::Connection) {
    server_cfg.max_message_bytes = max;
    let (l, addr) = listener().await;
    let server = spawn_accept(l, key(2), server_cfg);
    let k = key(1);
    let raw = raw_handshake(addr, honest(&k)).await;
    let conn = server.await.unwrap().unwrap();
    assert_eq!(conn.peer_id(), k.peer_id());
    (raw, conn)
}

fn ban_for(err: &P2pError, peer: PeerId) -> bool {
    let mut book = PeerBook::new(PeerBookConfig::default());
    assert!(!book.is_banned(&peer, 1_000));
    let verdict = book.report_error(peer, err, 1_000);
    verdict == p2p::Verdict::Banned && book.is_banned(&peer, 1_001)
}

#[tokio::test]
async fn garbage_after_handshake_is_malformed_and_banned() {
    let (mut raw, mut conn) = raw_pair(cfg(), 8 << 20).await;
    // Unencrypted bytes with a plausible frame length.
    let mut junk = vec![0x00, 0x20];
    junk.extend_from_slice(&[0x5a; 32]);
    raw.stream.write_all(&junk).await.unwrap();
    let err = conn.recv().await.unwrap_err();
    assert!(matches!(err, P2pError::Decrypt));
    assert_eq!(err.misbehaviour(), Some(Misbehaviour::MalformedMessage));
    assert!(ban_for(&err, conn.peer_id()));
}

#[tokio::test]
async fn malformed_message_is_typed_and_banned() {
    let (mut raw, mut conn) = raw_pair(cfg(), 8 << 20).await;
    // Properly framed and encrypted, but an unknown message kind.
    let body = [1u8, 0xee, 1, 2, 3];
    let mut plain = u32::try_from(body.len()).unwrap().to_be_bytes().to_vec();
    plain.extend_from_slice(&body);
    raw.send_chunk(&plain).await;
    let err = conn.recv().await.unwrap_err();
    assert!(matches!(
        err,
        P2pError::Malformed(p2p::MessageError::UnknownKind(0xee))
    ));
    assert!(ban_for(&err, conn.peer_id()));
}

#[tokio::test]
async fn truncated_transaction_is_malformed() {
    let (mut raw, mut conn) = raw_pair(cfg(), 8 << 20).await;
    let mut body = Message::Transactions(vec![common::tx(1)]).encode();
    body.pop();
    let mut plain = u32::try_from(body.len()).unwrap().to_be_bytes().to_vec();
    plain.extend_from_slice(&body);
    raw.send_chunk(&plain).await;
    let err = conn.recv().await.unwrap_err();
    assert!(matches!(err, P2pError::Malformed(p2p::MessageError::Decode(_))));
    assert!(ban_for(&err, conn.peer_id()));
}

#[tokio::test]
async fn oversized_frame_is_refused_before_reading_it() {
    let (mut raw, mut conn) = raw_pair(cfg(), 1 << 20).await;
    // Announces 4 GiB - 1 in a one-chunk message.
    let plain = [0xff, 0xff, 0xff, 0xff, 1, 2];
    raw.send_chunk(&plain).await;
    let err = conn.recv().await.unwrap_err();
    assert!(matches!(
        err,
        P2pError::Oversized {
            size: 0xffff_ffff,
            max: 1_048_576
        }
    ));
    assert_eq!(err.misbehaviour(), Some(Misbehaviour::OversizedFrame));
    assert!(ban_for(&err, conn.peer_id()));
}

#[tokio::test]
async fn chunk_longer_than_announced_is_a_framing_error() {
    let (mut raw, mut conn) = raw_pair(cfg(), 8 << 20).await;
    raw.send_chunk(&[0, 0, 0, 2, 1, 10, 0, 0, 0]).await;
    let err = conn.recv().await.unwrap_err();
    assert!(matches!(err, P2pError::Framing(_)));
    assert!(ban_for(&err, conn.peer_id()));
}

#[tokio::test]
async fn oversized_message_between_real_peers() {
    // The sender allows 8 MiB, the receiver only 64 KiB: the receiver refuses from the first chunk.
    let (l, addr) = listener().await;
    let mut small = cfg();
    small.max_message_bytes = 64 << 10;
    let server = spawn_accept(l, key(2), small);
    let mut client = transport::dial(addr, &key(1), &cfg(), None).await.unwrap();
    let mut server = server.await.unwrap().unwrap();
    client.send(&Message::Consensus(vec![7; 100_000])).await.unwrap();
    let err = server.recv().await.unwrap_err();
    assert!(matches!(err, P2pError::Oversized { max: 65_536, .. }));
    assert!(ban_for(&err, server.peer_id()));
    // The sender refuses to send beyond its own maximum, locally.
    let mut tiny = cfg();
    tiny.max_message_bytes = 10;
    let (l, addr) = listener().await;
    let server = spawn_accept(l, key(2), cfg());
    let mut client = transport::dial(addr, &key(1), &tiny, None).await.unwrap();
    let _server = server.await.unwrap().unwrap();
    assert!(matches!(
        client.send(&Message::Consensus(vec![0; 20])).await,
        Err(P2pError::Oversized { .. })
    ));
}

#[tokio::test]
async fn garbage_before_handshake_is_typed_and_bans_the_address() {
    let (l, addr) = listener().await;
    let server = spawn_accept(l, key(2), cfg());
    let mut s = TcpStream::connect(addr).await.unwrap();
    // A frame of 64 bytes: a first Noise message must be exactly an ephemeral key and no payload.
    let mut junk = vec![0x00, 0x40];
    junk.extend((0..64u8).map(|i| i.wrapping_mul(37)));
    s.write_all(&junk).await.unwrap();
    let err = server.await.unwrap().unwrap_err();
    assert!(matches!(err, P2pError::MalformedHandshake { len: 32 }));
    let mut book = PeerBook::new(PeerBookConfig::default());
    assert_eq!(
        book.report_addr(addr.ip(), err.misbehaviour().unwrap(), 0),
        p2p::peer::Verdict::Banned
    );
}

#[tokio::test]
async fn random_garbage_before_handshake_never_panics() {
    for seed in 0..16u32 {
        let (l, addr) = listener().await;
        let mut c = cfg();
        c.handshake_timeout = Duration::from_millis(300);
        let server = spawn_accept(l, key(2), c);
        let mut s = TcpStream::connect(addr).await.unwrap();
        let junk: Vec<u8> = (0..200u32)
            .map(|i| {
                (i.wrapping_mul(2_654_435_761)
                    .wrapping_add(seed.wrapping_mul(40_503))
                    >> 13)
                    .to_le_bytes()[0]
            })
            .collect();
        s.write_all(&junk).await.unwrap();
        drop(s);
        // Every outcome is a typed error; which one depends on the bytes.
        let err = server.await.unwrap().unwrap_err();
        assert!(
            matches!(
                err,
                P2pError::Noise(_)
                    | P2pError::MalformedHandshake { .. }
                    | P2pError::Closed
                    | P2pError::Io(_)
                    | P2pError::HandshakeTimeout
            ),
            "{err:?}"
        );
    }
}

#[tokio::test]
async fn silent_peer_times_out() {
    let (l, addr) = listener().await;
    let mut c = cfg();
    c.handshake_timeout = Duration::from_millis(200);
    let server = spawn_accept(l, key(2), c);
    let _s = TcpStream::connect(addr).await.unwrap();
    assert!(matches!(server.await.unwrap(), Err(P2pError::HandshakeTimeout)));
}

#[tokio::test]
async fn handshake_over_an_in_memory_stream() {
    let (a, b) = tokio::io::duplex(1 << 16);
    let server =
        tokio::spawn(async move { transport::handshake_stream(b, &key(2), &cfg(), false, None).await });
    let mut client = transport::handshake_stream(a, &key(1), &cfg(), true, Some(key(2).peer_id()))
        .await
        .unwrap();
    let mut server = server.await.unwrap().unwrap();
    assert_eq!(server.peer_id(), key(1).peer_id());
    assert_eq!(client.remote_addr(), None);
    // The pipe holds 64 KiB, less than the largest message: the receiver runs in its own task.
    let receiver = tokio::spawn(async move {
        let mut got = Vec::new();
        for _ in 0..all_messages().len() {
            got.push(server.recv().await.unwrap());
        }
        got
    });
    for m in all_messages() {
        client.send(&m).await.unwrap();
    }
    let got = tokio::time::timeout(Duration::from_secs(20), receiver)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, all_messages());
    // Refusals work the same way over any stream.
    let (a, b) = tokio::io::duplex(1 << 16);
    let mut other = cfg();
    other.chain_id = Hash([9; 32]);
    let server =
        tokio::spawn(async move { transport::handshake_stream(b, &key(2), &other, false, None).await });
    let err = transport::handshake_stream(a, &key(1), &cfg(), true, None)
        .await
        .unwrap_err();
    assert!(matches!(err, P2pError::WrongChain { .. }));
    assert!(server.await.unwrap().is_err());
}

#[tokio::test]
async fn tcp_connections_know_the_remote_address() {
    let (l, addr) = listener().await;
    let server = spawn_accept(l, key(2), cfg());
    let client = transport::dial(addr, &key(1), &cfg(), None).await.unwrap();
    let server = server.await.unwrap().unwrap();
    assert_eq!(client.remote_addr(), Some(addr));
    assert_eq!(server.remote_addr().map(|a| a.ip()), Some(addr.ip()));
}

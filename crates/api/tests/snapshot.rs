//! `GET /v1/snapshot/file` on a running node: token required, and the streamed file is the state at
//! the tip with the commitment the store computes, importable into a fresh store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use common::{BEARER, TempDir, get, open_chain, produce, start};
use crypto::chainkd::XPrv;
use node::devnet::{coins_of, sign_transfer};
use node::genesis::p2wpkh_program_of;
use storage::StoreRead;

/// A GET over HTTP/1.0 (so the body is not chunked): status and raw body bytes.
fn fetch(addr: SocketAddr, path: &str, auth: Option<&str>) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut head = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n");
    if let Some(a) = auth {
        head.push_str(&format!("Authorization: {a}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status_line = String::from_utf8_lossy(&out[..split]).to_string();
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    (status, out[split + 4..].to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_node_serves_its_snapshot() {
    let dir = TempDir::new("snapshot-file");
    let xprv = XPrv::root(b"snapshot api test");
    let program = p2wpkh_program_of(&xprv.xpub());
    let (chain, genesis) = open_chain(dir.path(), &program);
    let srv = start(chain.clone(), None, None, 1 << 20).await;
    let addr = srv.local_addr();
    for c in &coins_of(&genesis.transactions()[1], &program)[..2] {
        let tx = sign_transfer(
            &xprv,
            std::slice::from_ref(c),
            &[(program.clone(), c.amount - 1_000_000)],
        )
        .unwrap();
        chain.submit(tx).unwrap();
        produce(&chain).await;
    }

    let (status, _) = tokio::task::spawn_blocking(move || fetch(addr, "/v1/snapshot/file", None))
        .await
        .unwrap();
    assert_eq!(status, 401);
    let (status, body) = tokio::task::spawn_blocking(move || fetch(addr, "/v1/snapshot/file", Some(BEARER)))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let mut local = Vec::new();
    let expected = chain.store().export_snapshot(&mut local, &[]).unwrap();
    assert_eq!(body, local);
    let info = storage::snapshot::verify(body.as_slice()).unwrap();
    assert_eq!(info, expected);
    assert_eq!(info.height, 2);
    let path = dir.path().join("joined.redb");
    let (joined, _) = storage::snapshot::import(body.as_slice(), &info.commitment, &path).unwrap();
    assert_eq!(joined.utxos().unwrap(), chain.store().utxos().unwrap());

    // Listed in the OpenAPI document as a token-protected read.
    let (_, doc) = get(addr, "/v1/openapi.json", None).await;
    assert!(
        doc["paths"]["/v1/snapshot/file"]["get"]["security"].is_array(),
        "{doc}"
    );
    srv.shutdown().await;
}

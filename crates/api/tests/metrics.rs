//! `GET /metrics` on a solo devnet node: scraped before and after transactions are submitted (valid,
//! invalid, duplicate) and a block is produced; the parsed values must move exactly as the node's
//! work did, so a counter that is not wired fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;

use common::{TempDir, call, http, open_chain, produce, start};
use crypto::chainkd::XPrv;
use node::devnet::{coins_of, sign_transfer};
use node::genesis::p2wpkh_program_of;
use serde_json::json;

/// Every sample of a scrape, `name{labels}` → value; also checks the text format's shape: each
/// family announced by HELP and TYPE before its samples, no sample of an unannounced family.
async fn scrape(addr: SocketAddr) -> (BTreeMap<String, f64>, String) {
    // Public: no token.
    let (status, _, text) = http(addr, "GET", "/metrics", None, Vec::new()).await;
    assert_eq!(status, 200, "{text}");
    let mut typed: Vec<String> = Vec::new();
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            typed.push(name.to_string());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        let name = series.split('{').next().unwrap();
        let family = typed
            .last()
            .unwrap_or_else(|| panic!("sample before any TYPE: {line}"));
        assert!(
            name == family
                || [
                    format!("{family}_bucket"),
                    format!("{family}_sum"),
                    format!("{family}_count")
                ]
                .contains(&name.to_string()),
            "sample {name} under family {family}"
        );
        let v: f64 = value.parse().unwrap_or_else(|_| panic!("bad value in {line}"));
        assert!(
            samples.insert(series.to_string(), v).is_none(),
            "duplicate {series}"
        );
    }
    (samples, text)
}

fn get(m: &BTreeMap<String, f64>, series: &str) -> f64 {
    *m.get(series).unwrap_or_else(|| panic!("no sample {series}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_follow_submissions_blocks_and_requests() {
    let dir = TempDir::new("metrics");
    let xprv = XPrv::root(b"metrics test");
    let program = p2wpkh_program_of(&xprv.xpub());
    let (chain, genesis) = open_chain(dir.path(), &program);
    let srv = start(chain.clone(), None, None, 1 << 20).await;
    let addr = srv.local_addr();

    let (m0, text0) = scrape(addr).await;
    assert_eq!(get(&m0, "tributary_chain_height"), 0.0);
    assert_eq!(get(&m0, "tributary_chain_final_height"), 0.0);
    assert_eq!(get(&m0, "tributary_transactions_submitted_total"), 0.0);
    assert_eq!(get(&m0, "tributary_mempool_transactions"), 0.0);
    // Nothing measured yet, nothing invented: no peers, no round times, no block interval.
    for family in [
        "tributary_peers",
        "tributary_peer_rtt_seconds",
        "tributary_consensus_round_seconds",
        "tributary_block_interval_seconds",
        "tributary_block_interval_last_seconds",
    ] {
        assert!(text0.contains(&format!("# TYPE {family} ")), "{family}");
        assert!(
            !m0.keys().any(|k| k.starts_with(family)),
            "{family} has samples before any was measured"
        );
    }

    // Two valid transfers, one signed by the wrong key, and the first one again.
    let coins = coins_of(&genesis.transactions()[1], &program);
    let fee = 1_000_000;
    let txs: Vec<_> = coins[..2]
        .iter()
        .map(|c| {
            sign_transfer(
                &xprv,
                std::slice::from_ref(c),
                &[(program.clone(), c.amount - fee)],
            )
            .unwrap()
        })
        .collect();
    let forged = sign_transfer(
        &XPrv::root(b"someone else"),
        std::slice::from_ref(&coins[2]),
        &[(program.clone(), coins[2].amount - fee)],
    )
    .unwrap();
    for tx in [&txs[0], &txs[1], &forged, &txs[0]] {
        call(
            addr,
            "/submit-transaction",
            json!({"raw_transaction": hex::encode(tx.encode())}),
        )
        .await;
    }
    let (m1, _) = scrape(addr).await;
    assert_eq!(get(&m1, "tributary_transactions_submitted_total"), 4.0);
    assert_eq!(get(&m1, "tributary_transactions_accepted_total"), 2.0);
    assert_eq!(
        get(&m1, "tributary_transactions_rejected_total{reason=\"invalid\"}"),
        1.0
    );
    assert_eq!(
        get(&m1, "tributary_transactions_rejected_total{reason=\"duplicate\"}"),
        1.0
    );
    assert_eq!(get(&m1, "tributary_mempool_transactions"), 2.0);
    let pool_bytes: u64 = txs.iter().map(|t| t.serialized_size()).sum();
    assert_eq!(get(&m1, "tributary_mempool_bytes"), pool_bytes as f64);
    assert_eq!(get(&m1, "tributary_validated_transactions_total"), 4.0);
    assert!(get(&m1, "tributary_validation_seconds_total{kind=\"transaction\"}") > 0.0);
    assert_eq!(get(&m1, "tributary_validated_blocks_total"), 0.0);
    // Requests are counted by route: four submissions answered 2xx or 4xx, and the first scrape.
    let submits: f64 = ["2xx", "4xx"]
        .iter()
        .map(|c| {
            m1.get(&format!(
                "tributary_api_requests_total{{endpoint=\"/submit-transaction\",code=\"{c}\"}}"
            ))
            .copied()
            .unwrap_or(0.0)
        })
        .sum();
    assert_eq!(submits, 4.0);
    assert_eq!(
        get(
            &m1,
            "tributary_api_requests_total{endpoint=\"/metrics\",code=\"2xx\"}"
        ),
        1.0
    );

    let block = produce(&chain).await;
    assert_eq!(block.transactions().len(), 3);
    let (m2, _) = scrape(addr).await;
    assert_eq!(get(&m2, "tributary_chain_height"), 1.0);
    assert_eq!(get(&m2, "tributary_chain_final_height"), 1.0);
    assert_eq!(get(&m2, "tributary_mempool_transactions"), 0.0);
    assert_eq!(get(&m2, "tributary_mempool_bytes"), 0.0);
    assert_eq!(get(&m2, "tributary_blocks_committed_total"), 1.0);
    assert_eq!(get(&m2, "tributary_transactions_committed_total"), 2.0);
    assert_eq!(get(&m2, "tributary_block_transactions_count"), 1.0);
    assert_eq!(get(&m2, "tributary_block_transactions_sum"), 2.0);
    assert_eq!(get(&m2, "tributary_block_transactions_bucket{le=\"1\"}"), 0.0);
    assert_eq!(get(&m2, "tributary_block_transactions_bucket{le=\"10\"}"), 1.0);
    assert_eq!(get(&m2, "tributary_validated_blocks_total"), 1.0);
    assert!(get(&m2, "tributary_validation_seconds_total{kind=\"block\"}") > 0.0);
    let interval = (block.header().timestamp - genesis.header().timestamp) as f64 / 1000.0;
    assert_eq!(get(&m2, "tributary_block_interval_last_seconds"), interval);
    assert_eq!(get(&m2, "tributary_block_interval_seconds_count"), 1.0);
    assert_eq!(get(&m2, "tributary_block_interval_seconds_sum"), interval);
    assert_eq!(
        get(&m2, "tributary_block_interval_seconds_bucket{le=\"+Inf\"}"),
        1.0
    );
    assert_eq!(
        get(
            &m2,
            "tributary_api_requests_total{endpoint=\"/metrics\",code=\"2xx\"}"
        ),
        2.0
    );

    // A REST read is counted by its route pattern, not its raw path.
    let path = format!("/v1/blocks/{}", block.hash().to_hex());
    assert_eq!(http(addr, "GET", &path, None, Vec::new()).await.0, 200);
    let (m3, _) = scrape(addr).await;
    assert_eq!(
        get(
            &m3,
            "tributary_api_requests_total{endpoint=\"/v1/blocks/{id}\",code=\"2xx\"}"
        ),
        1.0
    );
    assert!(!m3.keys().any(|k| k.contains(&block.hash().to_hex())));

    // The hosts' setters show up once called.
    chain.metrics().set_peers(3);
    chain
        .metrics()
        .set_peer_rtt("peer-a", std::time::Duration::from_millis(25));
    let (m4, _) = scrape(addr).await;
    assert_eq!(get(&m4, "tributary_peers"), 3.0);
    assert_eq!(get(&m4, "tributary_peer_rtt_seconds{peer=\"peer-a\"}"), 0.025);
    srv.shutdown().await;
}

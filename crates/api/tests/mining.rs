//! The main chain through the API: `get-work` → mine outside the node → `submit-work` commits the
//! block; bad work is refused in the reference's shape; the wallet's balances follow a reorg.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use common::{FUNDER_PASSWORD, TempDir, assert_fail, btm_balance, call, ok, start};
use ledger::ChainParams;
use node::chain::{ChainService, ChainSetup};
use node::genesis::main_devnet_genesis;
use node::{Authority, MempoolConfig, PowAuthority, PowEngine};
use pow::PowParams;
use pow::miner::{MineOutcome, MinerConfig};
use pow::validate::PowFunction;
use serde_json::json;
use storage::{ChainIdentity, RedbStore, StoreRead};
use types::profile::{Network, Profile};
use types::{Block, BlockHeader, Hash};

/// sha3(block hash || seed): a stand-in for Tensority that is instant.
struct CheapPow;

impl PowFunction for CheapPow {
    fn result(&self, block_hash: &Hash, seed: &Hash) -> Hash {
        let mut b = block_hash.0.to_vec();
        b.extend_from_slice(&seed.0);
        Hash(crypto::hash::sha3_256(&b))
    }
}

const EACH: u64 = 1_000_000_000_000;

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn pow_genesis(program: &[u8]) -> Block {
    main_devnet_genesis(&PowParams::devnet(), &[(program.to_vec(), EACH)], now() - 3_600).unwrap()
}

fn open_pow(path: &Path, genesis: &Block, coinbase_program: &[u8]) -> Arc<ChainService> {
    let params = ChainParams::main_devnet();
    let store = RedbStore::open(
        path,
        ChainIdentity {
            profile: params.profile,
            network: params.network,
            genesis_hash: genesis.hash(),
        },
    )
    .unwrap();
    Arc::new(
        ChainService::open(
            store,
            ChainSetup {
                params,
                genesis: genesis.clone(),
                authority: Authority::ProofOfWork(PowAuthority {
                    params: PowParams::devnet(),
                    pow: PowEngine::new(CheapPow),
                    coinbase_program: coinbase_program.to_vec(),
                }),
                mempool: MempoolConfig::default(),
                max_block_bytes: 8 << 20,
                max_block_gas: 10_000_000,
            },
        )
        .unwrap(),
    )
}

fn solve(header: &BlockHeader, seed: &Hash) -> BlockHeader {
    match pow::miner::mine(
        &CheapPow,
        header,
        seed,
        0..1_000_000,
        &MinerConfig { threads: 1 },
        &AtomicBool::new(false),
    )
    .unwrap()
    {
        MineOutcome::Found(h) => h,
        other => panic!("no nonce found: {other:?}"),
    }
}

fn program(n: u8) -> Vec<u8> {
    ledger::testkit::Key::from_seed(&[n; 8]).program().to_vec()
}

async fn mine(chain: &Arc<ChainService>, program: Vec<u8>) {
    let c = chain.clone();
    tokio::task::spawn_blocking(move || {
        c.mine_block(&program, &MinerConfig { threads: 1 }, &AtomicBool::new(false))
            .unwrap()
            .unwrap()
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_work_then_external_mining_then_submit_work_commits_the_block() {
    let dir = TempDir::new("getwork");
    let g = pow_genesis(&program(1));
    let chain = open_pow(&dir.path().join("chain.redb"), &g, &program(7));
    let server = start(chain.clone(), None, None, 1 << 20).await;
    let addr = server.local_addr();

    let work = ok(addr, "/get-work", json!({})).await;
    let bytes = hex::decode(work["block_header"].as_str().unwrap()).unwrap();
    let header = BlockHeader::decode(&bytes, Profile::Main, &types::Limits::default()).unwrap();
    let seed = Hash::from_hex(work["seed"].as_str().unwrap()).unwrap();
    assert_eq!(seed, pow::INITIAL_SEED);
    assert_eq!(header.height, 1);
    assert_eq!(header.previous_block_hash, g.hash());
    let solved = solve(&header, &seed);
    let done = ok(
        addr,
        "/submit-work",
        json!({"block_header": hex::encode(solved.encode())}),
    )
    .await;
    assert_eq!(done, json!(true));
    assert_eq!(chain.tip().height, 1);
    assert_eq!(chain.tip().hash, solved.hash());
    // The committed block pays the node's coinbase program the subsidy.
    let block = chain.store().block_at(1).unwrap().unwrap();
    let cb = &block.transactions()[0].outputs()[0];
    assert_eq!(cb.control_program(), program(7).as_slice());
    assert_eq!(cb.amount().get(), 41_250_000_000);

    // The JSON variants.
    let work = ok(addr, "/get-work-json", json!({})).await;
    let mut h = work["block_header"].clone();
    assert_eq!(h["height"], 2);
    assert_eq!(h["previous_block_hash"], solved.hash().to_hex());
    let header = BlockHeader {
        version: h["version"].as_u64().unwrap(),
        height: 2,
        previous_block_hash: solved.hash(),
        timestamp: h["timestamp"].as_u64().unwrap(),
        transactions_merkle_root: Hash::from_hex(
            h["block_commitment"]["transaction_merkle_root"].as_str().unwrap(),
        )
        .unwrap(),
        transaction_status_hash: Hash::from_hex(
            h["block_commitment"]["transaction_status_hash"].as_str().unwrap(),
        )
        .unwrap(),
        commitment_suffix: Vec::new(),
        consensus: types::HeaderConsensus::Pow {
            nonce: 0,
            bits: h["bits"].as_u64().unwrap(),
        },
    };
    let seed = Hash::from_hex(work["seed"].as_str().unwrap()).unwrap();
    let solved2 = solve(&header, &seed);
    h["nonce"] = json!(solved2.nonce().unwrap());
    assert_eq!(
        ok(addr, "/submit-work-json", json!({"block_header": h})).await,
        json!(true)
    );
    assert_eq!(chain.tip().hash, solved2.hash());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_submit_work_is_refused_in_the_reference_shape() {
    let dir = TempDir::new("badwork");
    let g = pow_genesis(&program(1));
    let chain = open_pow(&dir.path().join("chain.redb"), &g, &program(7));
    let server = start(chain.clone(), None, None, 1 << 20).await;
    let addr = server.local_addr();
    let tip = chain.tip();

    // Malformed: not hex, not a header, a JSON header with a bad hash, no header at all.
    assert_fail(
        &call(addr, "/submit-work", json!({"block_header": "zz"})).await,
        400,
        "BTM002",
    );
    assert_fail(
        &call(addr, "/submit-work", json!({"block_header": "01"})).await,
        400,
        "BTM002",
    );
    assert_fail(
        &call(addr, "/submit-work", json!({"block_header": 5})).await,
        400,
        "BTM002",
    );
    let r = call(addr, "/submit-work", json!({})).await;
    assert_fail(&r, 400, "BTM000");
    assert!(
        r.1["error_detail"].as_str().unwrap().contains("empty block"),
        "{r:?}"
    );
    let work = ok(addr, "/get-work-json", json!({})).await;
    let mut h = work["block_header"].clone();
    h["previous_block_hash"] = json!("xyz");
    assert_fail(
        &call(addr, "/submit-work-json", json!({"block_header": h})).await,
        400,
        "BTM002",
    );

    // Stale: a parent no template has.
    let work = ok(addr, "/get-work", json!({})).await;
    let bytes = hex::decode(work["block_header"].as_str().unwrap()).unwrap();
    let header = BlockHeader::decode(&bytes, Profile::Main, &types::Limits::default()).unwrap();
    let seed = Hash::from_hex(work["seed"].as_str().unwrap()).unwrap();
    let stale = BlockHeader {
        previous_block_hash: Hash([7; 32]),
        ..header.clone()
    };
    let r = call(
        addr,
        "/submit-work",
        json!({"block_header": hex::encode(stale.encode())}),
    )
    .await;
    assert_fail(&r, 400, "BTM000");
    assert_eq!(
        r.1["error_detail"], "pending mining block has been changed",
        "{r:?}"
    );

    // Bad proof of work: a nonce whose result misses the target.
    let bits = header.bits().unwrap();
    let bad = (0..1_000u64)
        .map(|nonce| BlockHeader {
            consensus: types::HeaderConsensus::Pow { nonce, bits },
            ..header.clone()
        })
        .find(|h| !pow::validate::check_header_pow(&CheapPow, h, &seed))
        .unwrap();
    let r = call(
        addr,
        "/submit-work",
        json!({"block_header": hex::encode(bad.encode())}),
    )
    .await;
    assert_fail(&r, 400, "BTM000");
    assert!(
        r.1["error_detail"].as_str().unwrap().contains("proof of work"),
        "{r:?}"
    );

    // A timestamp far in the future.
    let future = BlockHeader {
        timestamp: now() + 7_200,
        ..header.clone()
    };
    let future = solve(&future, &seed);
    let r = call(
        addr,
        "/submit-work",
        json!({"block_header": hex::encode(future.encode())}),
    )
    .await;
    assert_fail(&r, 400, "BTM000");
    assert_eq!(chain.tip(), tip, "nothing was committed");

    // A sidechain node has no work.
    let side_dir = TempDir::new("badwork-side");
    let (side, _) = common::open_chain(side_dir.path(), &program(1));
    let side_server = start(side, None, None, 1 << 20).await;
    assert_fail(
        &call(side_server.local_addr(), "/get-work", json!({})).await,
        400,
        "BTM000",
    );
    let r = call(
        side_server.local_addr(),
        "/submit-work",
        json!({"block_header": hex::encode(header.encode())}),
    )
    .await;
    assert_fail(&r, 400, "BTM000");
    side_server.shutdown().await;
    server.shutdown().await;

    // A main-chain node with no payout program (mainnet without mining.address) gives no work.
    let unpaid = open_pow(&dir.path().join("unpaid.redb"), &g, &[]);
    let unpaid_server = start(unpaid, None, None, 1 << 20).await;
    let r = call(unpaid_server.local_addr(), "/get-work", json!({})).await;
    assert_fail(&r, 400, "BTM000");
    assert!(r.1["error_detail"].as_str().unwrap().contains("payout"), "{r:?}");
    unpaid_server.shutdown().await;
}

async fn wait_balance(addr: std::net::SocketAddr, account: &str, want: u64) {
    for _ in 0..200 {
        if btm_balance(addr, account).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "balance of {account} never reached {want}: {}",
        btm_balance(addr, account).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallets_balances_follow_a_reorg() {
    let dir = TempDir::new("wallet-reorg");
    let wallet = wallet::Wallet::open(
        &dir.path().join("wallet"),
        Profile::Main,
        Network::Devnet,
        wallet::KdfParams::FAST_INSECURE,
    )
    .unwrap();
    let (key, _) = wallet.create_key("payee", FUNDER_PASSWORD).unwrap();
    let payee = wallet.create_account(&[key.xpub], 1, "payee").unwrap();
    let receiver = wallet.create_receiver(&payee.id).unwrap();
    // Genesis funds a key outside the wallet, which pays the wallet's account on branch A.
    let funder = ledger::testkit::Key::from_seed(b"api reorg funder");
    let g = pow_genesis(funder.program());
    let a = open_pow(&dir.path().join("a.redb"), &g, &program(7));
    let b = open_pow(&dir.path().join("b.redb"), &g, &program(8));
    let server = start(a.clone(), Some(Arc::new(wallet)), None, 1 << 20).await;
    let addr = server.local_addr();
    wait_balance(addr, "payee", 0).await;

    let amount = 300_000_000_000;
    let coins = ledger::testkit::coins_of(&g.transactions()[0]);
    let payment = ledger::testkit::transfer(
        Profile::Main,
        &[(&coins[0], &funder)],
        vec![
            ledger::testkit::output(&receiver.control_program, types::asset::AssetId::BTM, amount).unwrap(),
            ledger::testkit::output(
                funder.program(),
                types::asset::AssetId::BTM,
                EACH - amount - 20_000_000,
            )
            .unwrap(),
        ],
    )
    .unwrap();
    let tx_hash = payment.id();
    ok(
        addr,
        "/submit-transaction",
        json!({"raw_transaction": hex::encode(payment.encode())}),
    )
    .await;
    mine(&a, program(7)).await;
    assert!(a.store().tx_location(&tx_hash).unwrap().is_some());
    wait_balance(addr, "payee", amount).await;

    // Branch B, heavier, without the payment, arrives from another node.
    mine(&b, program(8)).await;
    mine(&b, program(8)).await;
    for h in 1..=2 {
        let blk = b.store().block_at(h).unwrap().unwrap();
        let c = a.clone();
        tokio::task::spawn_blocking(move || c.import_block(blk).unwrap())
            .await
            .unwrap();
    }
    assert_eq!(a.tip(), b.tip());
    // The payment is back in the pool, and the wallet's balance is branch B's.
    assert!(a.in_pool(&tx_hash));
    wait_balance(addr, "payee", 0).await;
    // Mining again on A re-includes it; the balance follows.
    mine(&a, program(7)).await;
    wait_balance(addr, "payee", amount).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wallet_follows_a_reorg_it_missed_while_the_node_was_down() {
    let dir = TempDir::new("wallet-reorg-restart");
    let wallet = wallet::Wallet::open(
        &dir.path().join("wallet"),
        Profile::Main,
        Network::Devnet,
        wallet::KdfParams::FAST_INSECURE,
    )
    .unwrap();
    let (key, _) = wallet.create_key("payee", FUNDER_PASSWORD).unwrap();
    let payee = wallet.create_account(&[key.xpub], 1, "payee").unwrap();
    let receiver = wallet.create_receiver(&payee.id).unwrap();
    let wallet = Arc::new(wallet);
    let funder = ledger::testkit::Key::from_seed(b"api reorg restart funder");
    let g = pow_genesis(funder.program());
    let a_path = dir.path().join("a.redb");
    let a = open_pow(&a_path, &g, &program(7));
    let b = open_pow(&dir.path().join("b.redb"), &g, &program(8));
    // Branch A pays the wallet's account; the wallet indexes it.
    let amount = 300_000_000_000;
    let coins = ledger::testkit::coins_of(&g.transactions()[0]);
    let payment = ledger::testkit::transfer(
        Profile::Main,
        &[(&coins[0], &funder)],
        vec![ledger::testkit::output(&receiver.control_program, types::asset::AssetId::BTM, amount).unwrap()],
    )
    .unwrap();
    a.submit(payment).unwrap();
    mine(&a, program(7)).await;
    let a1 = a.tip();
    let server = start(a.clone(), Some(wallet.clone()), None, 1 << 20).await;
    let addr = server.local_addr();
    wait_balance(addr, "payee", amount).await;
    server.shutdown().await;
    assert_eq!(wallet.indexed_tip().unwrap(), Some((1, a1.hash)));
    // While no follower runs, a heavier branch B replaces A1; then the node stops.
    mine(&b, program(8)).await;
    mine(&b, program(8)).await;
    for h in 1..=2 {
        let blk = b.store().block_at(h).unwrap().unwrap();
        let c = a.clone();
        tokio::task::spawn_blocking(move || c.import_block(blk).unwrap())
            .await
            .unwrap();
    }
    assert_eq!(a.tip(), b.tip());
    drop(a);
    // The disconnected block's body is gone too (pruned, or deleted by an older build).
    {
        let store = RedbStore::open(
            &a_path,
            storage::ChainIdentity {
                profile: Profile::Main,
                network: Network::Devnet,
                genesis_hash: g.hash(),
            },
        )
        .unwrap();
        assert_eq!(store.remove_side_blocks(&[a1.hash], None).unwrap(), 1);
    }
    // Restarted: the wallet unwinds A1 from its undo record and follows B.
    let a = open_pow(&a_path, &g, &program(7));
    assert!(a.known_block(&a1.hash).unwrap().is_none());
    let server = start(a.clone(), Some(wallet.clone()), None, 1 << 20).await;
    let addr = server.local_addr();
    wait_balance(addr, "payee", 0).await;
    assert_eq!(wallet.indexed_tip().unwrap(), Some((2, b.tip().hash)));
    server.shutdown().await;
}

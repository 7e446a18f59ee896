//! Secrets stay secret: no response and no log line (every level, captured) carries a mnemonic, an
//! xprv or a password, except `create-key`'s answer with the mnemonic of the key it just made.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span;

/// Records every event and span field, at every level, as text.
struct Capture {
    out: Arc<Mutex<String>>,
    next_span: AtomicU64,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, attrs: &span::Attributes<'_>) -> span::Id {
        let mut line = format!("span {}", attrs.metadata().name());
        attrs.record(&mut Fields(&mut line));
        self.out.lock().unwrap().push_str(&(line + "\n"));
        span::Id::from_u64(self.next_span.fetch_add(1, Ordering::Relaxed))
    }
    fn record(&self, _: &span::Id, values: &span::Record<'_>) {
        let mut line = String::from("record");
        values.record(&mut Fields(&mut line));
        self.out.lock().unwrap().push_str(&(line + "\n"));
    }
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = format!("{} {}", event.metadata().level(), event.metadata().target());
        event.record(&mut Fields(&mut line));
        self.out.lock().unwrap().push_str(&(line + "\n"));
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

fn xprv_hex(mnemonic: &str) -> String {
    let m = wallet::keystore::parse_mnemonic(mnemonic).unwrap();
    let seed = m.to_seed_normalized("");
    crypto::chainkd::XPrv::root(&seed).expose_hex().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_response_or_log_line_carries_a_secret() {
    let logs = Arc::new(Mutex::new(String::new()));
    tracing::subscriber::set_global_default(Capture {
        out: logs.clone(),
        next_span: AtomicU64::new(1),
    })
    .unwrap();

    let dir = TempDir::new("secrets");
    let n = wallet_node(dir.path());
    let srv = start(n.chain.clone(), Some(n.wallet.clone()), Some(dir.path()), 1 << 20).await;
    let addr = srv.local_addr();
    let answers: std::cell::RefCell<Vec<String>> = std::cell::RefCell::new(Vec::new());
    let post = async |path: &str, body: serde_json::Value| -> serde_json::Value {
        let (_, v, text) = http(addr, "POST", path, Some(BEARER), body.to_string().into_bytes()).await;
        answers.borrow_mut().push(text);
        v
    };

    let created = post(
        "/create-key",
        json!({"alias": "alice", "password": "alice secret pw"}),
    )
    .await;
    let mnemonic = created["data"]["mnemonic"].as_str().unwrap().to_string();
    // The one answer allowed to carry a secret: set it aside.
    assert!(answers.borrow_mut().pop().unwrap().contains(&mnemonic));
    let xprv = xprv_hex(&mnemonic);
    let xpub = created["data"]["xpub"].as_str().unwrap().to_string();

    // An imported key: its mnemonic goes in, never out.
    let imported_mnemonic = "legal winner thank year wave sausage worth useful legal winner thank yellow";
    let imported_xprv = xprv_hex(imported_mnemonic);
    let imp = post(
        "/create-key",
        json!({"alias": "imported", "password": "import secret pw", "mnemonic": imported_mnemonic}),
    )
    .await;
    assert_eq!(imp["status"], "success", "{imp}");
    assert!(imp["data"].get("mnemonic").is_none());
    // Bad mnemonics (one word changed, a phrase of the right length) are refused without echoing them.
    let tampered = imported_mnemonic.replace("sausage", "sausages");
    let r = post(
        "/create-key",
        json!({"alias": "bad", "password": "x pw", "mnemonic": tampered}),
    )
    .await;
    assert_eq!(r["status"], "fail");

    let acct = post(
        "/create-account",
        json!({"root_xpubs": [xpub], "quorum": 1, "alias": "alice"}),
    )
    .await;
    assert_eq!(acct["status"], "success");
    let recv = post("/create-account-receiver", json!({"account_alias": "alice"})).await;
    let address = recv["data"]["address"].as_str().unwrap().to_string();
    let btm = types::asset::AssetId::BTM.to_hex();
    let template = post(
        "/build-transaction",
        json!({"actions": [
            {"type": "spend_account", "account_alias": "funder", "asset_id": btm, "amount": 1_020_000_000},
            {"type": "control_address", "address": address, "asset_id": btm, "amount": 1_000_000_000},
        ]}),
    )
    .await;
    let t = template["data"].clone();
    post("/estimate-transaction-gas", json!({"transaction_template": t})).await;
    let wrong = post(
        "/sign-transaction",
        json!({"password": "not the funder pw", "transaction": t}),
    )
    .await;
    assert_eq!(wrong["status"], "fail");
    let signed = post(
        "/sign-transaction",
        json!({"password": FUNDER_PASSWORD, "transaction": t}),
    )
    .await;
    assert_eq!(signed["data"]["sign_complete"], true);
    post(
        "/submit-transaction",
        json!({"raw_transaction": signed["data"]["transaction"]["raw_transaction"]}),
    )
    .await;
    produce(&n.chain).await;
    post("/list-balances", json!({})).await;
    post(
        "/list-transactions",
        json!({"account_alias": "alice", "detail": true}),
    )
    .await;
    post("/list-keys", json!({})).await;
    post("/list-accounts", json!({})).await;
    post(
        "/reset-key-password",
        json!({"xpub": xpub, "old_password": "alice secret pw", "new_password": "alice new secret"}),
    )
    .await;
    post(
        "/delete-key",
        json!({"xpub": xpub, "password": "wrong secret guess"}),
    )
    .await;
    let token = post("/create-access-token", json!({"id": "ops"})).await;
    let token_secret = token["data"]["token"]
        .as_str()
        .unwrap()
        .split_once(':')
        .unwrap()
        .1
        .to_string();
    answers.borrow_mut().pop();
    post("/list-access-tokens", json!({})).await;
    for path in [
        "/v1/accounts",
        "/v1/accounts/alice",
        "/v1/accounts/alice/utxos",
        "/v1/accounts/funder/balances",
    ] {
        let (_, _, text) = http(addr, "GET", path, Some(BEARER), Vec::new()).await;
        answers.borrow_mut().push(text);
    }
    srv.shutdown().await;

    let logs = logs.lock().unwrap().clone();
    assert!(logs.contains("key created"), "the capture works: {logs}");
    let secrets = [
        mnemonic.as_str(),
        xprv.as_str(),
        imported_mnemonic,
        tampered.as_str(),
        imported_xprv.as_str(),
        "alice secret pw",
        "alice new secret",
        "import secret pw",
        "not the funder pw",
        "wrong secret guess",
        FUNDER_PASSWORD,
        token_secret.as_str(),
    ];
    // Any four consecutive mnemonic words would already say too much.
    let fragments: Vec<String> = [mnemonic.as_str(), imported_mnemonic]
        .iter()
        .flat_map(|m| {
            let w: Vec<&str> = m.split_whitespace().collect();
            w.windows(4).map(|x| x.join(" ")).collect::<Vec<_>>()
        })
        .collect();
    let answers = answers.into_inner();
    for (i, a) in answers.iter().enumerate() {
        for s in secrets
            .iter()
            .copied()
            .chain(fragments.iter().map(String::as_str))
        {
            assert!(!a.contains(s), "answer {i} carries a secret ({s:?}): {a}");
        }
    }
    for s in secrets
        .iter()
        .copied()
        .chain(fragments.iter().map(String::as_str))
    {
        assert!(!logs.contains(s), "the log carries a secret ({s:?})");
    }
}

//! The wallet's endpoints: keys, accounts, addresses, building and signing transactions, balances,
//! unspent outputs, history and votes (compatible API), and the account resources of REST v1. Each
//! answers `BTM005` (400) when the node runs without a wallet.
//!
//! Secrets: passwords and mnemonics arrive in request bodies, which are never logged; the only
//! answer that carries a secret is `create-key`'s mnemonic, shown once as the reference does.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use crypto::chainkd::XPub;
use node::ChainService;
use serde::Deserialize;
use serde_json::{Value, json};
use storage::StoreRead;
use types::Hash;
use wallet::WalletError;

use crate::AppState;
use crate::error::{ApiError, RestError};
use crate::events::Follower;
use crate::handlers::{self, Shared, read, respond, success};
use crate::rest::{RestResult, RestUtxo, Segment};
use crate::view;

/// Keeps the wallet's index at the chain tip: applies every stored block the wallet has not seen.
/// The follower task calls it on every block, and the wallet's read endpoints call it before
/// answering, so that an answer always reflects the chain up to the tip it saw.
pub(crate) struct WalletSync {
    chain: Arc<ChainService>,
    pub(crate) wallet: Arc<wallet::Wallet>,
    lock: Mutex<()>,
}

impl WalletSync {
    pub(crate) fn new(chain: Arc<ChainService>, wallet: Arc<wallet::Wallet>) -> WalletSync {
        WalletSync {
            chain,
            wallet,
            lock: Mutex::new(()),
        }
    }

    /// Applies the missing blocks (blocking). A wallet tip no longer on the chain (a reorg) is unwound
    /// block by block from the wallet's own undo records (no block body needed, so a restart between
    /// the reorg and the catch-up does not matter) down to the common ancestor first. Fails if the
    /// wallet followed another chain deeper than its undo history.
    pub(crate) fn catch_up(&self) -> Result<(), String> {
        // One catch-up at a time: two would apply the same block twice.
        let _one = self
            .lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let store = self.chain.store();
        loop {
            let indexed = self.wallet.indexed_tip().map_err(|e| e.to_string())?;
            let next = match indexed {
                Some((height, hash)) => {
                    let ours = store.block_hash(height).map_err(|e| e.to_string())?;
                    if ours != Some(hash) {
                        // Disconnected by a reorg (or never ours): unwind it from its undo record.
                        self.wallet.unwind_tip().map_err(|e| {
                            format!(
                                "the wallet indexed block {hash} at height {height}, which is not on this chain, and cannot unwind it: {e}"
                            )
                        })?;
                        tracing::info!(%hash, height, "wallet unwound a block disconnected from the chain");
                        continue;
                    }
                    height.saturating_add(1)
                }
                None => 0,
            };
            if next > self.chain.tip().height {
                // Reservations of built transactions that were never submitted lapse with time.
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                    .unwrap_or(0);
                return self.wallet.expire_reservations(now).map_err(|e| e.to_string());
            }
            let block = self
                .chain
                .block_at(next)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no stored block at height {next}"))?;
            self.wallet
                .apply_block(&block)
                .map_err(|e| format!("the wallet could not apply block {next}: {e}"))?;
        }
    }
}

impl Follower for WalletSync {
    fn name(&self) -> &'static str {
        "wallet"
    }
    fn catch_up(&self, _chain: &ChainService) -> Result<(), String> {
        WalletSync::catch_up(self)
    }
}

/// A wallet failure as an API error: the reference's code and status; a request at fault is always
/// a 4xx, even where the reference has no code for it.
pub(crate) fn wallet_err(e: WalletError) -> ApiError {
    let detail = e.to_string();
    if !e.is_client_error() {
        tracing::error!(error = %detail, "wallet failed");
        return ApiError::internal(detail);
    }
    match e.reference_code() {
        "BTM000" if matches!(e, WalletError::DuplicateAccountAlias { .. }) => ApiError::conflict(detail),
        "BTM000" => ApiError::bad_request(detail),
        code => ApiError::from_reference_code(code, detail),
    }
}

/// Reads a wallet endpoint's request: authentication, then the wallet's presence (a node without
/// one says so whatever the body), then the body.
pub(crate) async fn wread<T: serde::de::DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<T, ApiError> {
    state.tokens.check(headers)?;
    wallet_of(state)?;
    read(state, headers, body).await
}

fn wallet_of(state: &AppState) -> Result<Arc<WalletSync>, ApiError> {
    state.wallet.clone().ok_or_else(ApiError::no_wallet)
}

/// Runs `f` on the wallet on a blocking thread (key derivation and signing are slow by design).
/// With `sync`, the wallet first catches up with the chain.
pub(crate) async fn with_wallet<T, F>(state: &AppState, sync: bool, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&wallet::Wallet) -> Result<T, ApiError> + Send + 'static,
{
    let w = wallet_of(state)?;
    tokio::task::spawn_blocking(move || {
        if sync && let Err(e) = w.catch_up() {
            tracing::error!(error = %e, "wallet cannot follow the chain");
        }
        f(&w.wallet)
    })
    .await
    .map_err(|e| ApiError::internal(format!("wallet task failed: {e}")))?
}

/// The account a request names: `account_alias` when given, else `account_id`.
fn account_key(id: &str, alias: &str) -> Option<String> {
    let alias = alias.trim();
    let id = id.trim();
    if !alias.is_empty() {
        Some(alias.to_string())
    } else if !id.is_empty() {
        Some(id.to_string())
    } else {
        None
    }
}

/// The account `key` (ID or alias) names; `BTM705` if none.
fn resolve_account(w: &wallet::Wallet, key: &str) -> Result<wallet::Account, ApiError> {
    w.list_accounts(Some(key))
        .map_err(wallet_err)?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::from_reference_code("BTM705", format!("no account {key:?}")))
}

#[derive(Deserialize)]
struct CreateKeyReq {
    alias: String,
    password: String,
    #[serde(default)]
    mnemonic: String,
    #[serde(default)]
    language: String,
}

pub(crate) async fn create_key(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: CreateKeyReq = wread(&state, &headers, body).await?;
            if !req.language.is_empty() && req.language != "en" {
                return Err(ApiError::bad_request(
                    "only English mnemonics (language \"en\") are supported",
                ));
            }
            if req.password.is_empty() {
                return Err(ApiError::bad_request("the password must not be empty"));
            }
            let out = with_wallet(&state, false, move |w| {
                if req.mnemonic.trim().is_empty() {
                    let (info, mnemonic) = w.create_key(&req.alias, &req.password).map_err(wallet_err)?;
                    // The mnemonic is shown this once, as the reference does.
                    Ok(json!({
                        "alias": info.alias,
                        "xpub": info.xpub,
                        "file": info.file,
                        "mnemonic": mnemonic.as_str(),
                    }))
                } else {
                    let info = w
                        .import_key(&req.alias, &req.password, &req.mnemonic)
                        .map_err(wallet_err)?;
                    Ok(json!({ "alias": info.alias, "xpub": info.xpub, "file": info.file }))
                }
            })
            .await?;
            tracing::info!(alias = %out["alias"], "key created");
            Ok(success(out))
        }
        .await,
    )
}

pub(crate) async fn list_keys(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let _: handlers::Empty = wread(&state, &headers, body).await?;
            let keys = with_wallet(&state, false, |w| Ok(w.list_keys())).await?;
            Ok(success(keys))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct DeleteKeyReq {
    xpub: XPub,
    password: String,
}

pub(crate) async fn delete_key(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: DeleteKeyReq = wread(&state, &headers, body).await?;
            with_wallet(&state, false, move |w| {
                w.delete_key(&req.xpub, &req.password).map_err(wallet_err)
            })
            .await?;
            Ok(success(Value::Null))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct ResetPasswordReq {
    xpub: XPub,
    old_password: String,
    new_password: String,
}

/// As the reference: `{"changed": false}` when the key is unknown or the old password wrong.
pub(crate) async fn reset_key_password(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: ResetPasswordReq = wread(&state, &headers, body).await?;
            if req.new_password.is_empty() {
                return Err(ApiError::bad_request("the new password must not be empty"));
            }
            let changed = with_wallet(&state, false, move |w| {
                match w.reset_key_password(&req.xpub, &req.old_password, &req.new_password) {
                    Ok(()) => Ok(true),
                    Err(e) if e.is_client_error() => Ok(false),
                    Err(e) => Err(wallet_err(e)),
                }
            })
            .await?;
            Ok(success(json!({ "changed": changed })))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct CreateAccountReq {
    root_xpubs: Vec<XPub>,
    quorum: u64,
    #[serde(default)]
    alias: String,
}

pub(crate) async fn create_account(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: CreateAccountReq = wread(&state, &headers, body).await?;
            let account = with_wallet(&state, false, move |w| {
                w.create_account(&req.root_xpubs, req.quorum, &req.alias)
                    .map_err(wallet_err)
            })
            .await?;
            tracing::info!(id = %account.id, "account created");
            Ok(success(account))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct ListAccountsReq {
    #[serde(default)]
    id: String,
    #[serde(default)]
    alias: String,
}

pub(crate) async fn list_accounts(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: ListAccountsReq = wread(&state, &headers, body).await?;
            let accounts = with_wallet(&state, false, move |w| match account_key(&req.id, &req.alias) {
                Some(key) => Ok(vec![resolve_account(w, &key)?]),
                None => w.list_accounts(None).map_err(wallet_err),
            })
            .await?;
            Ok(success(accounts))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct AccountFilter {
    #[serde(default)]
    account_id: String,
    #[serde(default)]
    account_alias: String,
}

impl AccountFilter {
    fn required(&self) -> Result<String, ApiError> {
        account_key(&self.account_id, &self.account_alias)
            .ok_or_else(|| ApiError::bad_request("account_id or account_alias is required"))
    }
}

pub(crate) async fn delete_account(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: AccountFilter = wread(&state, &headers, body).await?;
            let key = req.required()?;
            with_wallet(&state, false, move |w| {
                let account = resolve_account(w, &key)?;
                w.delete_account(&account.id).map_err(wallet_err)
            })
            .await?;
            Ok(success(Value::Null))
        }
        .await,
    )
}

pub(crate) async fn create_account_receiver(
    State(state): Shared,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let req: AccountFilter = wread(&state, &headers, body).await?;
            let key = req.required()?;
            let receiver = with_wallet(&state, false, move |w| {
                let account = resolve_account(w, &key)?;
                w.create_receiver(&account.id).map_err(wallet_err)
            })
            .await?;
            Ok(success(receiver))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct ListAddressesReq {
    #[serde(default)]
    account_id: String,
    #[serde(default)]
    account_alias: String,
    #[serde(default)]
    from: u64,
    #[serde(default)]
    count: u64,
}

pub(crate) async fn list_addresses(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: ListAddressesReq = wread(&state, &headers, body).await?;
            let key = account_key(&req.account_id, &req.account_alias);
            let list = with_wallet(&state, false, move |w| {
                let id = key.map(|k| resolve_account(w, &k)).transpose()?.map(|a| a.id);
                let from = usize::try_from(req.from).unwrap_or(usize::MAX);
                let count = usize::try_from(req.count).unwrap_or(usize::MAX);
                w.list_addresses(id.as_deref(), from, count).map_err(wallet_err)
            })
            .await?;
            Ok(success(list))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct AddressReq {
    address: String,
}

pub(crate) async fn validate_address(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: AddressReq = wread(&state, &headers, body).await?;
            let v = with_wallet(&state, false, move |w| Ok(w.validate_address(&req.address))).await?;
            Ok(success(v))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct TxReq {
    tx_id: String,
}

/// The wallet's annotated view when the transaction is the wallet's; otherwise the chain's.
pub(crate) async fn get_transaction(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: TxReq = read(&state, &headers, body).await?;
            let tx_id = handlers::parse_hash("tx_id", &req.tx_id)?;
            if state.wallet.is_some() {
                let found = with_wallet(&state, true, move |w| {
                    let q = wallet::TxQuery {
                        tx_id: Some(tx_id),
                        ..Default::default()
                    };
                    w.transactions(&q).map_err(wallet_err)
                })
                .await?;
                if let Some(tx) = found.into_iter().next() {
                    return Ok(success(tx));
                }
            }
            chain_transaction(&state, &tx_id)
        }
        .await,
    )
}

fn chain_transaction(state: &AppState, tx_id: &Hash) -> Result<Response, ApiError> {
    let store = state.chain.store();
    let Some(loc) = store.tx_location(tx_id).map_err(handlers::store_err)? else {
        let detail = if state.chain.in_pool(tx_id) {
            format!("transaction {tx_id} is waiting in the pool, not yet in a block")
        } else {
            format!("no transaction {tx_id}")
        };
        return Err(ApiError::not_found(detail));
    };
    let block = store
        .block_at(loc.block_height)
        .map_err(handlers::store_err)?
        .ok_or_else(|| ApiError::internal(format!("indexed block {} is missing", loc.block_height)))?;
    let v = view::annotated_tx_view(&block, loc.position, state.chain.params().network)
        .ok_or_else(|| ApiError::internal(format!("indexed position {} is missing", loc.position)))?;
    Ok(success(v))
}

#[derive(Deserialize)]
struct ListTxReq {
    #[serde(default)]
    account_id: String,
    #[serde(default)]
    account_alias: String,
    #[serde(default)]
    start_tx_id: String,
    #[serde(default)]
    detail: bool,
    // `unconfirmed` is accepted and ignored: the wallet indexes committed blocks only, so pool
    // transactions are never listed.
    #[serde(default)]
    count: u64,
}

pub(crate) async fn list_transactions(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: ListTxReq = wread(&state, &headers, body).await?;
            let key = account_key(&req.account_id, &req.account_alias)
                .ok_or_else(|| ApiError::bad_request("account_id or account_alias is required"))?;
            let start = match req.start_tx_id.trim() {
                "" => None,
                t => Some(handlers::parse_hash("start_tx_id", t)?),
            };
            let count = usize::try_from(req.count).unwrap_or(usize::MAX);
            let txs = with_wallet(&state, true, move |w| {
                let account = resolve_account(w, &key)?;
                let mut q = wallet::TxQuery {
                    account_id: Some(account.id),
                    count,
                    ..Default::default()
                };
                if start.is_some() {
                    // Pages continue after `start_tx_id`: read a full page to find it.
                    q.count = wallet::index::MAX_PAGE;
                }
                let all = w.transactions(&q).map_err(wallet_err)?;
                let txs: Vec<wallet::AnnotatedTx> = match start {
                    None => all,
                    Some(id) => {
                        let take = if count == 0 {
                            wallet::index::DEFAULT_PAGE
                        } else {
                            count
                        };
                        all.into_iter()
                            .skip_while(|t| t.tx_id != id)
                            .skip(1)
                            .take(take)
                            .collect()
                    }
                };
                Ok(txs)
            })
            .await?;
            if req.detail {
                return Ok(success(txs));
            }
            let summaries: Vec<Value> = txs.iter().map(tx_summary).collect();
            Ok(success(summaries))
        }
        .await,
    )
}

/// The reference's summary of an annotated transaction (`list-transactions` without `detail`): per
/// input and output only the type, asset, amount, account and (inputs) arbitrary data.
fn tx_summary(tx: &wallet::AnnotatedTx) -> Value {
    let v = serde_json::to_value(tx).unwrap_or(Value::Null);
    let pick = |items: &Value, fields: &[&str]| -> Value {
        Value::Array(
            items
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|item| {
                            let mut out = serde_json::Map::new();
                            for f in fields {
                                if let Some(x) = item.get(*f).filter(|x| !x.is_null() && *x != "" && *x != 0)
                                {
                                    out.insert((*f).to_string(), x.clone());
                                }
                            }
                            if let Some(t) = item.get("type") {
                                out.insert("type".into(), t.clone());
                            }
                            Value::Object(out)
                        })
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    let common = ["asset_id", "asset_alias", "amount", "account_id", "account_alias"];
    let with_arbitrary = [
        "asset_id",
        "asset_alias",
        "amount",
        "account_id",
        "account_alias",
        "arbitrary",
    ];
    json!({
        "tx_id": v["tx_id"],
        "block_time": v["block_time"],
        "inputs": pick(&v["inputs"], &with_arbitrary),
        "outputs": pick(&v["outputs"], &common),
    })
}

pub(crate) async fn list_balances(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: AccountFilter = wread(&state, &headers, body).await?;
            let key = account_key(&req.account_id, &req.account_alias);
            let balances = with_wallet(&state, true, move |w| {
                let id = key.map(|k| resolve_account(w, &k)).transpose()?.map(|a| a.id);
                w.balances(id.as_deref()).map_err(wallet_err)
            })
            .await?;
            Ok(success(balances))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct ListUtxosReq {
    #[serde(default)]
    account_id: String,
    #[serde(default)]
    account_alias: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    from: u64,
    #[serde(default)]
    count: u64,
}

/// One page of `items` from `from`, `count` items (0: all), as the reference pages.
fn page<T>(items: Vec<T>, from: u64, count: u64) -> Vec<T> {
    let from = usize::try_from(from).unwrap_or(usize::MAX);
    let count = if count == 0 {
        usize::MAX
    } else {
        usize::try_from(count).unwrap_or(usize::MAX)
    };
    items.into_iter().skip(from).take(count).collect()
}

pub(crate) async fn list_unspent_outputs(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: ListUtxosReq = wread(&state, &headers, body).await?;
            let key = account_key(&req.account_id, &req.account_alias);
            let output = match req.id.trim() {
                "" => None,
                t => Some(handlers::parse_hash("id", t)?),
            };
            let utxos = with_wallet(&state, true, move |w| {
                let id = key.map(|k| resolve_account(w, &k)).transpose()?.map(|a| a.id);
                w.unspent_outputs(id.as_deref(), output.as_ref())
                    .map_err(wallet_err)
            })
            .await?;
            Ok(success(page(utxos, req.from, req.count)))
        }
        .await,
    )
}

/// The wallet's vote outputs per account and candidate, as the reference's `list-account-votes`.
pub(crate) async fn list_account_votes(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: AccountFilter = wread(&state, &headers, body).await?;
            let key = account_key(&req.account_id, &req.account_alias);
            let votes = with_wallet(&state, true, move |w| {
                let id = key.map(|k| resolve_account(w, &k)).transpose()?.map(|a| a.id);
                let utxos = w.unspent_outputs(id.as_deref(), None).map_err(wallet_err)?;
                let accounts = w.list_accounts(None).map_err(wallet_err)?;
                Ok(account_votes(&utxos, &accounts))
            })
            .await?;
            Ok(success(votes))
        }
        .await,
    )
}

/// Sums BTM vote outputs by account, then by candidate key (both sorted, as the reference does).
fn account_votes(utxos: &[wallet::WalletUtxo], accounts: &[wallet::Account]) -> Vec<Value> {
    use std::collections::BTreeMap;
    let mut by_account: BTreeMap<&str, BTreeMap<String, u64>> = BTreeMap::new();
    for u in utxos {
        if u.vote.is_empty() {
            continue;
        }
        let vote = &u.vote;
        if u.asset_id != types::asset::AssetId::BTM {
            continue;
        }
        let n = by_account
            .entry(u.account_id.as_str())
            .or_default()
            .entry(hex::encode(vote))
            .or_insert(0);
        *n = n.saturating_add(u.amount);
    }
    by_account
        .into_iter()
        .map(|(id, votes)| {
            let total = votes.values().fold(0u64, |t, n| t.saturating_add(*n));
            let alias = accounts
                .iter()
                .find(|a| a.id == id)
                .map(|a| a.alias.clone())
                .unwrap_or_default();
            json!({
                "account_id": id,
                "account_alias": alias,
                "total_vote_number": total,
                "vote_details": votes
                    .into_iter()
                    .map(|(vote, n)| json!({ "vote": vote, "vote_number": n }))
                    .collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// The wallet's unspent outputs locked by `program`, when `address` is the wallet's; `None` when the
/// node has no wallet or the address is not its own.
pub(crate) async fn address_utxos(
    state: &AppState,
    address: &str,
    program: &[u8],
) -> Result<Option<Vec<RestUtxo>>, ApiError> {
    if state.wallet.is_none() {
        return Ok(None);
    }
    let (address, program) = (address.to_string(), program.to_vec());
    let chain = state.chain.clone();
    with_wallet(state, true, move |w| {
        if !w.validate_address(&address).is_local {
            return Ok(None);
        }
        let utxos = w.unspent_outputs(None, None).map_err(wallet_err)?;
        let mine: Vec<wallet::WalletUtxo> = utxos.into_iter().filter(|u| u.program == program).collect();
        rest_utxos(&chain, mine).map(Some)
    })
    .await
}

/// The REST view of the wallet's outputs, with the height of the block that created each (from the
/// store). An output the store no longer holds was spent in a block the wallet has not read yet: it
/// is left out.
fn rest_utxos(chain: &ChainService, utxos: Vec<wallet::WalletUtxo>) -> Result<Vec<RestUtxo>, ApiError> {
    let store = chain.store();
    let mut out = Vec::with_capacity(utxos.len());
    for u in utxos {
        let Some(entry) = store.utxo_entry(&u.id).map_err(handlers::store_err)? else {
            continue;
        };
        out.push(RestUtxo {
            output_id: u.id.to_hex(),
            asset_id: u.asset_id.to_hex(),
            amount: u.amount,
            control_program: hex::encode(&u.program),
            height: entry.height,
        });
    }
    Ok(out)
}

/// REST: authentication first, then a wallet; an unknown account is a 404 here.
async fn rest_wallet<T, F>(state: &AppState, headers: &HeaderMap, f: F) -> RestResult<Json<T>>
where
    T: Send + 'static,
    F: FnOnce(&wallet::Wallet) -> Result<T, ApiError> + Send + 'static,
{
    state.tokens.check(headers)?;
    match with_wallet(state, true, f).await {
        Ok(v) => Ok(Json(v)),
        Err(mut e) => {
            if e.code == "BTM705" {
                e.status = StatusCode::NOT_FOUND;
            }
            Err(RestError(e))
        }
    }
}

/// The wallet's accounts.
#[utoipa::path(get, path = "/v1/accounts", tag = "wallet", security(("token" = [])),
    responses((status = 200, description = "the accounts (reference `AnnotatedAccount` shape)", body = [Object]),
        (status = 400, body = crate::error::RestErrorBody), (status = 401, body = crate::error::RestErrorBody)))]
pub(crate) async fn rest_accounts(
    State(state): Shared,
    headers: HeaderMap,
) -> RestResult<Json<Vec<wallet::Account>>> {
    rest_wallet(&state, &headers, |w| w.list_accounts(None).map_err(wallet_err)).await
}

/// One account, by ID or alias.
#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "wallet", security(("token" = [])),
    params(("id" = String, Path, description = "account ID or alias")),
    responses((status = 200, description = "the account", body = Object),
        (status = 404, body = crate::error::RestErrorBody), (status = 401, body = crate::error::RestErrorBody)))]
pub(crate) async fn rest_account(
    State(state): Shared,
    headers: HeaderMap,
    Segment(id): Segment,
) -> RestResult<Json<wallet::Account>> {
    rest_wallet(&state, &headers, move |w| resolve_account(w, id.trim())).await
}

/// An account's balances per asset.
#[utoipa::path(get, path = "/v1/accounts/{id}/balances", tag = "wallet", security(("token" = [])),
    params(("id" = String, Path, description = "account ID or alias")),
    responses((status = 200, description = "balances (reference `list-balances` shape)", body = [Object]),
        (status = 404, body = crate::error::RestErrorBody), (status = 401, body = crate::error::RestErrorBody)))]
pub(crate) async fn rest_account_balances(
    State(state): Shared,
    headers: HeaderMap,
    Segment(id): Segment,
) -> RestResult<Json<Value>> {
    rest_wallet(&state, &headers, move |w| {
        let account = resolve_account(w, id.trim())?;
        let b = w.balances(Some(&account.id)).map_err(wallet_err)?;
        serde_json::to_value(b).map_err(|e| ApiError::internal(e.to_string()))
    })
    .await
}

/// An account's unspent outputs.
#[utoipa::path(get, path = "/v1/accounts/{id}/utxos", tag = "wallet", security(("token" = [])),
    params(("id" = String, Path, description = "account ID or alias")),
    responses((status = 200, body = [RestUtxo]),
        (status = 404, body = crate::error::RestErrorBody), (status = 401, body = crate::error::RestErrorBody)))]
pub(crate) async fn rest_account_utxos(
    State(state): Shared,
    headers: HeaderMap,
    Segment(id): Segment,
) -> RestResult<Json<Vec<RestUtxo>>> {
    let chain = state.chain.clone();
    rest_wallet(&state, &headers, move |w| {
        let account = resolve_account(w, id.trim())?;
        let u = w.unspent_outputs(Some(&account.id), None).map_err(wallet_err)?;
        rest_utxos(&chain, u)
    })
    .await
}

// ----- assets (create-asset, get-asset, list-assets; Bytom v1.1.0 api/assets.go, api/query.go) -----

#[derive(Deserialize)]
struct AssetIdReq {
    #[serde(default)]
    id: String,
}

fn asset_id_of(text: &str) -> Result<types::AssetId, ApiError> {
    types::AssetId::from_hex(text.trim())
        .map_err(|e| ApiError::bad_request(format!("id: not a 32-byte hex asset ID: {e}")))
}

/// `create-asset`: defines an asset in the wallet (its class from the definition's `"bap"` member).
pub(crate) async fn create_asset(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: wallet::CreateAssetRequest = wread(&state, &headers, body).await?;
            let asset = with_wallet(&state, false, move |w| w.create_asset(&req).map_err(wallet_err)).await?;
            tracing::info!(asset = %asset.id, alias = %asset.alias, "asset created");
            Ok(success(asset))
        }
        .await,
    )
}

/// `get-asset`: BTM, an asset defined here, or one learned from a cross-chain input.
pub(crate) async fn get_asset(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: AssetIdReq = wread(&state, &headers, body).await?;
            let id = asset_id_of(&req.id)?;
            let asset = with_wallet(&state, true, move |w| w.get_asset(&id).map_err(wallet_err)).await?;
            Ok(success(asset))
        }
        .await,
    )
}

/// `list-assets`: BTM and the assets defined here; with `id`, only that one.
pub(crate) async fn list_assets(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: AssetIdReq = wread(&state, &headers, body).await?;
            let id = match req.id.trim() {
                "" => None,
                text => Some(asset_id_of(text)?),
            };
            let list = with_wallet(&state, false, move |w| {
                w.list_assets(id.as_ref()).map_err(wallet_err)
            })
            .await?;
            Ok(success(list))
        }
        .await,
    )
}

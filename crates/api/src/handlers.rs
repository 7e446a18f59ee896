//! The endpoints. Every request is a POST with a JSON body (empty for endpoints without parameters);
//! every answer is `{"status":"success","data":...}` or the failure shape of [`ApiError`].

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use node::mempool::MempoolError;
use node::{Origin, SubmitError};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use storage::StoreRead;
use types::{Block, Hash, Transaction};

use crate::AppState;
use crate::error::ApiError;
use crate::view;

pub(crate) type Shared = State<Arc<AppState>>;

pub(crate) fn success<T: serde::Serialize>(data: T) -> Response {
    Json(json!({ "status": "success", "data": data })).into_response()
}

pub(crate) fn respond(r: Result<Response, ApiError>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

/// Authenticates, reads the body within the limit and parses it; an empty body parses as `{}`.
pub(crate) async fn read<T: DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<T, ApiError> {
    state.tokens.check(headers)?;
    let bytes = axum::body::to_bytes(body, state.max_body_bytes)
        .await
        .map_err(|_| ApiError::too_large(state.max_body_bytes))?;
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        &bytes
    };
    serde_json::from_slice(text).map_err(|e| ApiError::bad_request(format!("bad JSON request: {e}")))
}

pub(crate) fn parse_hash(what: &str, text: &str) -> Result<Hash, ApiError> {
    Hash::from_hex(text.trim())
        .map_err(|e| ApiError::bad_request(format!("{what} must be 64 hex characters: {e}")))
}

pub(crate) fn store_err(e: storage::StoreError) -> ApiError {
    tracing::error!(error = %e, "store read failed");
    ApiError::internal(e.to_string())
}

pub(crate) fn decode_tx(state: &AppState, hex_text: &str) -> Result<Transaction, ApiError> {
    let text = hex_text.trim();
    let bytes = hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .map_err(|e| ApiError::bad_request(format!("raw_transaction is not hex: {e}")))?;
    let params = state.chain.params();
    Transaction::decode(&bytes, params.profile, &params.limits)
        .map_err(|e| ApiError::bad_request(format!("raw_transaction does not decode: {e}")))
}

#[derive(Deserialize)]
pub(crate) struct RawTxReq {
    pub(crate) raw_transaction: String,
}

/// Submits a transaction to the pool and reports it to the event feed: `pending` when the pool takes
/// it (or already holds it), `rejected` with the reason when it is refused. A transaction already on
/// chain is a success, as in the reference.
pub(crate) async fn submit_tx(state: &AppState, tx: Transaction) -> Result<Hash, ApiError> {
    let tx_id = tx.id();
    state.feed.submitting(tx_id);
    let chain = state.chain.clone();
    let outcome = tokio::task::spawn_blocking(move || chain.submit(tx)).await;
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            state.feed.forget(&tx_id);
            return Err(ApiError::internal(format!("submit task failed: {e}")));
        }
    };
    match outcome {
        Ok(_) | Err(SubmitError::Mempool(MempoolError::Duplicate(_) | MempoolError::DuplicateOrphan(_))) => {
            state.feed.accepted(tx_id);
            Ok(tx_id)
        }
        Err(SubmitError::AlreadyOnChain(_)) => {
            state.feed.forget(&tx_id);
            Ok(tx_id)
        }
        Err(e) => {
            tracing::debug!(%tx_id, error = %e, "transaction refused");
            state.feed.refused(tx_id, e.to_string());
            Err(ApiError::from(e))
        }
    }
}

/// Submits a batch through the pool's batch path (signatures checked in parallel batches), reporting
/// each transaction to the event feed as [`submit_tx`] does. Stops at the first refused transaction:
/// the ones before it stay admitted and its error names it.
async fn submit_txs(state: &AppState, txs: Vec<Transaction>) -> Result<Vec<String>, ApiError> {
    let ids: Vec<Hash> = txs.iter().map(Transaction::id).collect();
    for id in &ids {
        state.feed.submitting(*id);
    }
    let chain = state.chain.clone();
    let outcome = tokio::task::spawn_blocking(move || chain.submit_many(txs, Origin::Local, true)).await;
    let results = match outcome {
        Ok(r) => r,
        Err(e) => {
            for id in &ids {
                state.feed.forget(id);
            }
            return Err(ApiError::internal(format!("submit task failed: {e}")));
        }
    };
    let mut answered = Vec::with_capacity(ids.len());
    let mut refused = None;
    for (i, (tx_id, r)) in ids.iter().zip(results).enumerate() {
        match r {
            Ok(_)
            | Err(SubmitError::Mempool(MempoolError::Duplicate(_) | MempoolError::DuplicateOrphan(_))) => {
                state.feed.accepted(*tx_id);
                answered.push(tx_id.to_hex());
            }
            Err(SubmitError::AlreadyOnChain(_)) => {
                state.feed.forget(tx_id);
                answered.push(tx_id.to_hex());
            }
            Err(e) => {
                tracing::debug!(%tx_id, error = %e, "transaction refused");
                state.feed.refused(*tx_id, e.to_string());
                let mut err = ApiError::from(e);
                err.detail = format!(
                    "raw_transactions[{i}] ({tx_id}): {}; the {i} before it were admitted",
                    err.detail
                );
                refused = Some(err);
                break;
            }
        }
    }
    // Those after a refusal were never tried.
    for id in ids
        .iter()
        .skip(answered.len().saturating_add(usize::from(refused.is_some())))
    {
        state.feed.forget(id);
    }
    match refused {
        Some(e) => Err(e),
        None => Ok(answered),
    }
}

pub(crate) async fn submit_transaction(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: RawTxReq = read(&state, &headers, body).await?;
            let tx = decode_tx(&state, &req.raw_transaction)?;
            let tx_id = submit_tx(&state, tx).await?;
            Ok(success(json!({ "tx_id": tx_id.to_hex() })))
        }
        .await,
    )
}

/// The most transactions one `submit-transactions` request may carry (the body is bounded too, by
/// the configured `max_body_bytes`).
pub(crate) const MAX_SUBMIT_BATCH: usize = 10_000;

#[derive(Deserialize)]
struct RawTxsReq {
    raw_transactions: Vec<String>,
}

/// `submit-transactions` (Vapor `api/transact.go`): many raw transactions in one request, admitted
/// one after another in the order given; the answer lists their IDs in that order
/// (`{"tx_id": [...]}`). As in the reference, a request that does not decode (any transaction not hex
/// or not a transaction) is refused whole and admits nothing, and the first refused transaction ends
/// the request with that transaction's error: the ones before it stay admitted (the detail names the
/// refused transaction's index and ID, so that a client can resubmit the rest). A transaction already
/// in the pool or on chain counts as admitted. More than [`MAX_SUBMIT_BATCH`] transactions is a
/// `BTM002` (400) and admits nothing; a body over the size limit is a 413.
pub(crate) async fn submit_transactions(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: RawTxsReq = read(&state, &headers, body).await?;
            if req.raw_transactions.len() > MAX_SUBMIT_BATCH {
                return Err(ApiError::bad_request(format!(
                    "{} raw_transactions, at most {MAX_SUBMIT_BATCH} per request",
                    req.raw_transactions.len()
                )));
            }
            let txs = req
                .raw_transactions
                .iter()
                .enumerate()
                .map(|(i, raw)| {
                    decode_tx(&state, raw).map_err(|mut e| {
                        e.detail = format!("raw_transactions[{i}]: {}", e.detail);
                        e
                    })
                })
                .collect::<Result<Vec<Transaction>, ApiError>>()?;
            let ids = submit_txs(&state, txs).await?;
            Ok(success(json!({ "tx_id": ids })))
        }
        .await,
    )
}

#[derive(Deserialize)]
pub(crate) struct Empty {}

pub(crate) async fn get_block_count(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let _: Empty = read(&state, &headers, body).await?;
            Ok(success(json!({ "block_count": state.chain.tip().height })))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct HashReq {
    block_height: Option<u64>,
}

/// The best block's hash (the reference's behaviour); with `block_height`, the hash at that height.
pub(crate) async fn get_block_hash(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: HashReq = read(&state, &headers, body).await?;
            let hash = match req.block_height {
                None => state.chain.tip().hash,
                Some(h) => state
                    .chain
                    .store()
                    .block_hash(h)
                    .map_err(store_err)?
                    .ok_or_else(|| ApiError::not_found(format!("no block at height {h}")))?,
            };
            Ok(success(json!({ "block_hash": hash.to_hex() })))
        }
        .await,
    )
}

#[derive(Deserialize)]
pub(crate) struct BlockReq {
    pub(crate) block_height: Option<u64>,
    pub(crate) block_hash: Option<String>,
}

/// The hash of the block a request names: by `block_hash` if given (non-empty), else by
/// `block_height` (default 0).
fn named_block_hash(state: &AppState, req: &BlockReq) -> Result<Hash, ApiError> {
    match req.block_hash.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => parse_hash("block_hash", text),
        None => {
            let h = req.block_height.unwrap_or(0);
            state
                .chain
                .store()
                .block_hash(h)
                .map_err(store_err)?
                .ok_or_else(|| ApiError::not_found(format!("no block at height {h}")))
        }
    }
}

/// The block a request names ([`named_block_hash`]) and its hash.
fn named_block(state: &AppState, req: &BlockReq) -> Result<(Arc<Block>, Hash), ApiError> {
    let hash = named_block_hash(state, req)?;
    let block = state
        .chain
        .block_by_hash(&hash)
        .map_err(store_err)?
        .ok_or_else(|| ApiError::not_found(format!("no block with hash {hash}")))?;
    Ok((block, hash))
}

/// The block a request names ([`named_block_hash`]) and its size as the reference reports it.
pub(crate) fn find_block(state: &AppState, req: &BlockReq) -> Result<(Arc<Block>, u64), ApiError> {
    let (block, _) = named_block(state, req)?;
    // The reference reports the length of the block's hex text (encoding hashes nothing).
    let size = u64::try_from(block.encode().len())
        .unwrap_or(u64::MAX)
        .saturating_mul(2);
    Ok((block, size))
}

pub(crate) async fn get_block(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: BlockReq = read(&state, &headers, body).await?;
            let (block, size) = find_block(&state, &req)?;
            // Blocks are committed only when every transaction succeeds.
            let statuses = vec![false; block.transactions().len()];
            let blocker = state
                .chain
                .producer_public_key()
                .filter(|_| block.header().height > 0)
                .map(hex::encode);
            let is_final = state.chain.is_final(&block.hash()).map_err(store_err)?;
            Ok(success(
                view::block_view_with_status(
                    &block,
                    size,
                    state.chain.params().network,
                    Some(&statuses),
                    blocker,
                )
                .with_final(is_final),
            ))
        }
        .await,
    )
}

/// `get-raw-block` (Vapor `api/block_retrieve.go`): a block as its canonical bytes in hex, read
/// from the store without decoding, with the reference's `transaction_status` (every transaction
/// of a committed block succeeded: the status of each is `{}`, `status_fail` omitted as false).
/// What a client that decodes blocks itself follows the chain with, at a fraction of the cost of
/// `get-block`'s view of every transaction.
pub(crate) async fn get_raw_block(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: BlockReq = read(&state, &headers, body).await?;
            let hash = named_block_hash(&state, &req)?;
            let raw = state
                .chain
                .store()
                .raw_block(&hash)
                .map_err(store_err)?
                .ok_or_else(|| ApiError::not_found(format!("no block with hash {hash}")))?;
            let params = state.chain.params();
            let count = types::Block::transaction_count_of(&raw, params.profile, &params.limits)
                .map_err(|e| ApiError::internal(format!("stored block {hash} does not decode: {e}")))?;
            let statuses = vec![json!({}); count];
            Ok(success(json!({
                "raw_block": hex::encode(&raw),
                "transaction_status": { "version": 1, "verify_status": statuses },
            })))
        }
        .await,
    )
}

/// `get-block-tx-ids` (ours): the IDs of a block's transactions in block order, with its hash,
/// height and finality. What a client that only needs to know which transactions a block holds
/// (a payment tracker, `bench load`) follows the chain with: the IDs are known to the node, while
/// `get-raw-block` made every such client decode and hash each transaction again.
pub(crate) async fn get_block_tx_ids(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: BlockReq = read(&state, &headers, body).await?;
            // Not `find_block`: its size figure encodes the whole block.
            let (block, hash) = named_block(&state, &req)?;
            let is_final = state.chain.is_final(&hash).map_err(store_err)?;
            let ids: Vec<String> = block.transactions().iter().map(|t| t.id().to_hex()).collect();
            Ok(success(json!({
                "hash": hash.to_hex(),
                "height": block.header().height,
                "final": is_final,
                "tx_ids": ids,
            })))
        }
        .await,
    )
}

pub(crate) async fn get_block_header(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: BlockReq = read(&state, &headers, body).await?;
            let (block, _) = find_block(&state, &req)?;
            let reward = block
                .transactions()
                .first()
                .and_then(|t| t.outputs().first())
                .map(|o| o.amount().get())
                .unwrap_or(0);
            Ok(success(json!({
                "block_header": hex::encode(block.header().encode()),
                "reward": reward,
            })))
        }
        .await,
    )
}

pub(crate) async fn decode_raw_transaction(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: RawTxReq = read(&state, &headers, body).await?;
            let tx = decode_tx(&state, &req.raw_transaction)?;
            Ok(success(view::tx_view(&tx, state.chain.params().network)))
        }
        .await,
    )
}

pub(crate) async fn net_info(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let _: Empty = read(&state, &headers, body).await?;
            let tip = state.chain.tip().height;
            let version = env!("CARGO_PKG_VERSION");
            Ok(success(json!({
                "listening": false,
                "syncing": false,
                "mining": state.chain.is_producing(),
                "node_xpub": state.chain.producer_public_key().map(hex::encode).unwrap_or_default(),
                "federation_address": "",
                "peer_count": 0,
                "current_block": tip,
                "irreversible_block": tip,
                "highest_block": tip,
                "network_id": state.chain.params().network.to_string(),
                "version_info": { "version": version, "update": 0, "new_version": version },
            })))
        }
        .await,
    )
}

pub(crate) async fn unknown_endpoint(uri: axum::http::Uri) -> Response {
    ApiError::not_found(format!("no endpoint {}", uri.path())).into_response()
}

pub(crate) async fn method_not_allowed() -> Response {
    let mut e = ApiError::bad_request("every endpoint takes POST with a JSON body");
    e.status = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    e.into_response()
}

#[derive(Deserialize)]
struct CreateTokenReq {
    id: String,
    #[serde(rename = "type", default)]
    kind: String,
}

pub(crate) async fn create_access_token(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: CreateTokenReq = read(&state, &headers, body).await?;
            let token = state.tokens.create(&req.id, &req.kind)?;
            tracing::info!(id = %token.id, "access token created");
            Ok(success(token))
        }
        .await,
    )
}

pub(crate) async fn list_access_tokens(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let _: Empty = read(&state, &headers, body).await?;
            Ok(success(state.tokens.list()))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct TokenIdReq {
    id: String,
}

pub(crate) async fn delete_access_token(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: TokenIdReq = read(&state, &headers, body).await?;
            state.tokens.delete(&req.id)?;
            tracing::info!(id = %req.id, "access token deleted");
            Ok(success(Value::Null))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct CheckTokenReq {
    id: String,
    secret: String,
}

pub(crate) async fn check_access_token(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: CheckTokenReq = read(&state, &headers, body).await?;
            state.tokens.check_pair(&req.id, &req.secret)?;
            Ok(success(Value::Null))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct VoteResultReq {
    #[serde(default)]
    block_hash: String,
    block_height: Option<u64>,
}

/// Votes per candidate key after block `height`: every vote output's amount added and every veto
/// input's amount taken away, replaying the stored blocks from genesis. (The reference snapshots its
/// consensus result at round boundaries; this node runs solo consensus and keeps no such snapshot, so
/// the tally is computed from the blocks themselves, at the block asked for.)
pub(crate) fn vote_tally(
    store: &storage::RedbStore,
    height: u64,
) -> Result<BTreeMap<Vec<u8>, u64>, ApiError> {
    let mut tally: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
    for h in 0..=height {
        let block = store
            .block_at(h)
            .map_err(store_err)?
            .ok_or_else(|| ApiError::internal(format!("no stored block at height {h}")))?;
        for tx in block.transactions() {
            for input in tx.inputs() {
                if let (Some(key), Some((_, amount))) = (input.vote(), input.asset_amount()) {
                    let n = tally.entry(key.to_vec()).or_insert(0);
                    *n = n.saturating_sub(amount.get());
                    if *n == 0 {
                        tally.remove(key);
                    }
                }
            }
            for output in tx.outputs() {
                if let Some(key) = output.vote() {
                    let n = tally.entry(key.to_vec()).or_insert(0);
                    *n = n.saturating_add(output.amount().get());
                }
            }
        }
    }
    Ok(tally)
}

pub(crate) async fn get_vote_result(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: VoteResultReq = read(&state, &headers, body).await?;
            let store = state.chain.store();
            // As the reference: the hash when it is 32 bytes, else the height.
            let height = match req.block_hash.trim() {
                "" => req.block_height.unwrap_or(0),
                text => {
                    let hash = parse_hash("block_hash", text)?;
                    store
                        .header(&hash)
                        .map_err(store_err)?
                        .ok_or_else(|| ApiError::not_found(format!("no block with hash {hash}")))?
                        .height
                }
            };
            if height > state.chain.tip().height {
                return Err(ApiError::not_found(format!("no block at height {height}")));
            }
            let chain = state.chain.clone();
            let tally = tokio::task::spawn_blocking(move || vote_tally(chain.store(), height))
                .await
                .map_err(|e| ApiError::internal(format!("vote tally task failed: {e}")))??;
            let mut votes: Vec<(String, u64)> = tally.into_iter().map(|(k, n)| (hex::encode(k), n)).collect();
            // Most votes first; ties by key so that the order is stable.
            votes.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let out: Vec<Value> = votes
                .into_iter()
                .map(|(vote, n)| json!({ "vote": vote, "vote_number": n }))
                .collect();
            Ok(success(out))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct MerkleProofReq {
    #[serde(default)]
    tx_ids: Vec<String>,
    #[serde(default)]
    block_hash: String,
}

/// The most transaction IDs one `get-merkle-proof` request may name.
pub(crate) const MAX_PROOF_TX_IDS: usize = 10_000;

/// `get-merkle-proof` (Bytom v1.1.0 `api/block_retrieve.go`): the block's header and the partial
/// transaction and status trees proving which of `tx_ids` it holds (`pow::spv::MerkleBlockProof`).
/// Stored blocks hold only successful transactions, so every status leaf is "success". The same
/// format serves a sidechain's blocks.
pub(crate) async fn get_merkle_proof(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: MerkleProofReq = read(&state, &headers, body).await?;
            if req.block_hash.trim().is_empty() {
                return Err(ApiError::bad_request("block_hash is required"));
            }
            if req.tx_ids.len() > MAX_PROOF_TX_IDS {
                return Err(ApiError::bad_request(format!(
                    "{} tx_ids, at most {MAX_PROOF_TX_IDS}",
                    req.tx_ids.len()
                )));
            }
            let wanted = req
                .tx_ids
                .iter()
                .map(|t| parse_hash("tx_ids", t))
                .collect::<Result<Vec<Hash>, ApiError>>()?;
            let (block, _) = find_block(
                &state,
                &BlockReq {
                    block_height: None,
                    block_hash: Some(req.block_hash.clone()),
                },
            )?;
            let statuses = vec![false; block.transactions().len()];
            let proof = merkle_block_proof(&block, &statuses, &wanted);
            Ok(success(proof.to_json()))
        }
        .await,
    )
}

/// The proof of `wanted` in `block`: [`pow::spv::MerkleBlockProof::build`] on the main chain; on a
/// sidechain, the same trees built from the same pure pieces (the builder accepts main-chain blocks only).
pub(crate) fn merkle_block_proof(
    block: &Block,
    statuses: &[bool],
    wanted: &[Hash],
) -> pow::spv::MerkleBlockProof {
    if let Ok(p) = pow::spv::MerkleBlockProof::build(block, statuses, wanted) {
        return p;
    }
    let ids: Vec<Hash> = block.transactions().iter().map(|t| t.id()).collect();
    let set: std::collections::HashSet<Hash> = wanted.iter().copied().collect();
    let matched: Vec<Hash> = ids.iter().copied().filter(|id| set.contains(id)).collect();
    let tree = types::merkle::tx_merkle_proof(&ids, &matched);
    let status_hashes = types::merkle::status_merkle_proof(statuses, &tree.flags);
    pow::spv::MerkleBlockProof {
        block_header: block.header().clone(),
        tx_hashes: tree.hashes,
        status_hashes,
        flags: tree.flags,
        matched_tx_ids: matched,
    }
}

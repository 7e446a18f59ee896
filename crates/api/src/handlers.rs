//! The endpoints. Every request is a POST with a JSON body (empty for endpoints without parameters);
//! every answer is `{"status":"success","data":...}` or the failure shape of [`ApiError`].

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use node::SubmitError;
use node::mempool::MempoolError;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use storage::StoreRead;
use types::{Block, Hash, Transaction};

use crate::AppState;
use crate::error::ApiError;
use crate::view;

type Shared = State<Arc<AppState>>;

fn success<T: serde::Serialize>(data: T) -> Response {
    Json(json!({ "status": "success", "data": data })).into_response()
}

fn respond(r: Result<Response, ApiError>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

/// Authenticates, reads the body within the limit and parses it; an empty body parses as `{}`.
async fn read<T: DeserializeOwned>(state: &AppState, headers: &HeaderMap, body: Body) -> Result<T, ApiError> {
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

fn parse_hash(what: &str, text: &str) -> Result<Hash, ApiError> {
    Hash::from_hex(text.trim())
        .map_err(|e| ApiError::bad_request(format!("{what} must be 64 hex characters: {e}")))
}

fn store_err(e: storage::StoreError) -> ApiError {
    tracing::error!(error = %e, "store read failed");
    ApiError::internal(e.to_string())
}

fn decode_tx(state: &AppState, hex_text: &str) -> Result<Transaction, ApiError> {
    let text = hex_text.trim();
    let bytes = hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .map_err(|e| ApiError::bad_request(format!("raw_transaction is not hex: {e}")))?;
    let params = state.chain.params();
    Transaction::decode(&bytes, params.profile, &params.limits)
        .map_err(|e| ApiError::bad_request(format!("raw_transaction does not decode: {e}")))
}

#[derive(Deserialize)]
struct RawTxReq {
    raw_transaction: String,
}

pub(crate) async fn submit_transaction(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: RawTxReq = read(&state, &headers, body).await?;
            let tx = decode_tx(&state, &req.raw_transaction)?;
            let tx_id = tx.id();
            let chain = state.chain.clone();
            let outcome = tokio::task::spawn_blocking(move || chain.submit(tx))
                .await
                .map_err(|e| ApiError::internal(format!("submit task failed: {e}")))?;
            match outcome {
                Ok(_)
                | Err(SubmitError::AlreadyOnChain(_))
                | Err(SubmitError::Mempool(MempoolError::Duplicate(_) | MempoolError::DuplicateOrphan(_))) => {
                    Ok(success(json!({ "tx_id": tx_id.to_hex() })))
                }
                Err(e) => {
                    tracing::debug!(%tx_id, error = %e, "transaction refused");
                    Err(ApiError::from(e))
                }
            }
        }
        .await,
    )
}

#[derive(Deserialize)]
struct Empty {}

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
struct BlockReq {
    block_height: Option<u64>,
    block_hash: Option<String>,
}

/// The block a request names: by `block_hash` if given (non-empty), else by `block_height` (default 0).
fn find_block(state: &AppState, req: &BlockReq) -> Result<(Block, u64), ApiError> {
    let store = state.chain.store();
    let hash = match req.block_hash.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(text) => parse_hash("block_hash", text)?,
        None => {
            let h = req.block_height.unwrap_or(0);
            store
                .block_hash(h)
                .map_err(store_err)?
                .ok_or_else(|| ApiError::not_found(format!("no block at height {h}")))?
        }
    };
    let raw = store
        .raw_block(&hash)
        .map_err(store_err)?
        .ok_or_else(|| ApiError::not_found(format!("no block with hash {hash}")))?;
    let block = Block::decode(&raw, state.chain.params().profile, &state.chain.params().limits)
        .map_err(|e| ApiError::internal(format!("stored block does not decode: {e}")))?;
    // The reference reports the length of the block's hex text.
    let size = u64::try_from(raw.len()).unwrap_or(u64::MAX).saturating_mul(2);
    Ok((block, size))
}

pub(crate) async fn get_block(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: BlockReq = read(&state, &headers, body).await?;
            let (block, size) = find_block(&state, &req)?;
            // Blocks are committed only when every transaction succeeds.
            let statuses = vec![false; block.transactions().len()];
            let blocker = (block.header().height > 0).then(|| hex::encode(state.chain.producer_public_key()));
            Ok(success(view::block_view_with_status(
                &block,
                size,
                state.chain.params().network,
                Some(&statuses),
                blocker,
            )))
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

#[derive(Deserialize)]
struct TxReq {
    tx_id: String,
}

pub(crate) async fn get_transaction(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: TxReq = read(&state, &headers, body).await?;
            let tx_id = parse_hash("tx_id", &req.tx_id)?;
            let store = state.chain.store();
            let Some(loc) = store.tx_location(&tx_id).map_err(store_err)? else {
                let detail = if state.chain.in_pool(&tx_id) {
                    format!("transaction {tx_id} is waiting in the pool, not yet in a block")
                } else {
                    format!("no transaction {tx_id}")
                };
                return Err(ApiError::not_found(detail));
            };
            let block = store
                .block_at(loc.block_height)
                .map_err(store_err)?
                .ok_or_else(|| {
                    ApiError::internal(format!("indexed block {} is missing", loc.block_height))
                })?;
            let v = view::annotated_tx_view(&block, loc.position, state.chain.params().network)
                .ok_or_else(|| ApiError::internal(format!("indexed position {} is missing", loc.position)))?;
            Ok(success(v))
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
                "node_xpub": hex::encode(state.chain.producer_public_key()),
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

//! REST v1: resource-oriented JSON under `/v1`, described by an OpenAPI 3 document generated from
//! this code (`GET /v1/openapi.json`). Failures are `{"code", "message"}` with a 4xx status.
//!
//! Public chain reads (blocks, transactions, assets, address outputs, the event feed, the document)
//! need no token; wallet resources and submitting do.

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use storage::StoreRead;
use types::asset::AssetId;
use types::graph::ResultKind;
use types::{Block, Hash};
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use crate::error::{ApiError, RestError, RestErrorBody};
use crate::events::{BlockEvent, TxEvent};
use crate::handlers::{self, RawTxReq, Shared};
use crate::view;

/// Blocks read backwards from the tip when looking for an address's unspent outputs in the store,
/// which indexes outputs by ID, not by program.
pub(crate) const ADDRESS_SCAN_BLOCKS: u64 = 1000;

/// A block.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestBlock {
    /// Hash (hex).
    pub hash: String,
    /// Height.
    pub height: u64,
    /// Parent's hash (hex).
    pub previous_block_hash: String,
    /// Timestamp, milliseconds since the Unix epoch.
    pub timestamp: u64,
    /// Encoded size in bytes.
    pub size: u64,
    /// IDs of its transactions, coinbase first.
    pub transactions: Vec<String>,
    /// Whether it can no longer be reverted (always, on a single-producer chain).
    #[serde(rename = "final")]
    pub is_final: bool,
}

/// A transaction.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestTx {
    /// ID (hex).
    pub tx_id: String,
    /// `confirmed` (in a block) or `pending` (waiting in the pool).
    pub status: String,
    /// The including block's height.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_height: Option<u64>,
    /// The including block's hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_hash: Option<String>,
    /// Position in the block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_index: Option<u32>,
    /// The decoded transaction (the compatible API's `get-transaction` view) when confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub detail: Option<Value>,
}

/// An asset.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestAsset {
    /// ID (hex).
    pub id: String,
    /// Whether it is the chain's native asset (BTM).
    pub native: bool,
    /// Its definition: the native asset's, or the one the first issuance or claim carried (JSON when
    /// it parses, else hex), or null.
    #[schema(value_type = Object)]
    pub definition: Value,
    /// Height of the first block with an output of it (absent for BTM before any output).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen_height: Option<u64>,
}

/// An unspent output.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestUtxo {
    /// Output ID (hex).
    pub output_id: String,
    /// Asset ID (hex).
    pub asset_id: String,
    /// Amount in the asset's smallest unit.
    pub amount: u64,
    /// Control program (hex).
    pub control_program: String,
    /// Height of the block that created it.
    pub height: u64,
}

/// The unspent outputs of an address.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestAddressUtxos {
    /// The address.
    pub address: String,
    /// Its control program (hex).
    pub control_program: String,
    /// Unspent outputs found.
    pub utxos: Vec<RestUtxo>,
    /// Where they come from: `wallet` (the node wallet's index: every output of the address) or
    /// `chain_scan` (the store, scanned from `scanned_from_height` to the tip).
    pub source: String,
    /// First height scanned (`chain_scan`).
    pub scanned_from_height: u64,
    /// Whether the list is complete: the address is the wallet's, or the scan reached genesis.
    pub complete: bool,
}

/// A submission: the raw transaction (hex).
#[derive(Debug, serde::Deserialize, ToSchema)]
pub struct RestSubmit {
    /// The signed transaction, hex.
    pub raw_transaction: String,
}

/// A submitted transaction.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestSubmitted {
    /// ID (hex).
    pub tx_id: String,
    /// `pending`: follow it on `/v1/events?tx=ID`.
    pub status: String,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Tributary node REST API", version = "1", description = "Resource-oriented reads of the chain and the node's wallet, transaction submission and the live event feed. The Bytom-compatible JSON API lives beside it (POST /<endpoint>)."),
    paths(
        block_tip,
        block,
        transaction,
        submit,
        asset,
        address_utxos,
        crate::wallet_api::rest_accounts,
        crate::wallet_api::rest_account,
        crate::wallet_api::rest_account_balances,
        crate::wallet_api::rest_account_utxos,
        events,
        openapi,
        crate::snapshot::file,
        validators,
    ),
    components(schemas(
        RestBlock,
        RestTx,
        RestAsset,
        RestUtxo,
        RestAddressUtxos,
        RestValidator,
        RestCandidate,
        RestValidators,
        RestSubmit,
        RestSubmitted,
        RestErrorBody,
        BlockEvent,
        TxEvent
    )),
    modifiers(&BearerAuth)
)]
pub(crate) struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(c) = doc.components.as_mut() {
            c.add_security_scheme(
                "token",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

pub(crate) type RestResult<T> = Result<T, RestError>;

/// One path parameter. A segment that does not decode (bad percent-encoding, not UTF-8) is a 400 in
/// the REST failure shape rather than the framework's plain-text answer.
pub(crate) struct Segment(pub(crate) String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = RestError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(s)) => Ok(Segment(s)),
            Err(e) => Err(ApiError::bad_request(format!("bad path parameter: {e}")).into()),
        }
    }
}

fn block_by(state: &AppState, id: &str) -> Result<Block, ApiError> {
    let store = state.chain.store();
    let hash = if !id.is_empty() && id.len() <= 20 && id.bytes().all(|b| b.is_ascii_digit()) {
        let height: u64 = id
            .parse()
            .map_err(|_| ApiError::bad_request(format!("height {id} is out of range")))?;
        store
            .block_hash(height)
            .map_err(handlers::store_err)?
            .ok_or_else(|| ApiError::not_found(format!("no block at height {height}")))?
    } else if id.len() == 64 {
        handlers::parse_hash("block hash", id)?
    } else {
        return Err(ApiError::bad_request(format!(
            "{id:?} is neither a height (decimal) nor a block hash (64 hex characters)"
        )));
    };
    store
        .block(&hash)
        .map_err(handlers::store_err)?
        .ok_or_else(|| ApiError::not_found(format!("no block with hash {hash}")))
}

fn rest_block(block: &Block) -> RestBlock {
    let h = block.header();
    RestBlock {
        hash: block.hash().to_hex(),
        height: h.height,
        previous_block_hash: h.previous_block_hash.to_hex(),
        timestamp: h.timestamp,
        size: u64::try_from(block.encode().len()).unwrap_or(u64::MAX),
        transactions: block.transactions().iter().map(|t| t.id().to_hex()).collect(),
        is_final: true,
    }
}

/// The chain's tip block.
#[utoipa::path(get, path = "/v1/blocks/tip", tag = "chain",
    responses((status = 200, body = RestBlock)))]
pub(crate) async fn block_tip(State(state): Shared) -> RestResult<Json<RestBlock>> {
    let tip = state.chain.tip();
    let block = block_by(&state, &tip.hash.to_hex())?;
    Ok(Json(rest_block(&block)))
}

/// A block by height (decimal) or hash (hex).
#[utoipa::path(get, path = "/v1/blocks/{id}", tag = "chain",
    params(("id" = String, Path, description = "height (decimal) or hash (64 hex characters)")),
    responses((status = 200, body = RestBlock), (status = 400, body = RestErrorBody), (status = 404, body = RestErrorBody)))]
pub(crate) async fn block(State(state): Shared, Segment(id): Segment) -> RestResult<Json<RestBlock>> {
    let block = block_by(&state, id.trim())?;
    Ok(Json(rest_block(&block)))
}

/// A transaction by ID: confirmed (with its block and decoded view) or pending in the pool.
#[utoipa::path(get, path = "/v1/transactions/{id}", tag = "chain",
    params(("id" = String, Path, description = "transaction ID (64 hex characters)")),
    responses((status = 200, body = RestTx), (status = 400, body = RestErrorBody), (status = 404, body = RestErrorBody)))]
pub(crate) async fn transaction(State(state): Shared, Segment(id): Segment) -> RestResult<Json<RestTx>> {
    let tx_id = handlers::parse_hash("transaction id", &id)?;
    let store = state.chain.store();
    let Some(loc) = store.tx_location(&tx_id).map_err(handlers::store_err)? else {
        if state.chain.in_pool(&tx_id) {
            return Ok(Json(RestTx {
                tx_id: tx_id.to_hex(),
                status: "pending".into(),
                block_height: None,
                block_hash: None,
                block_index: None,
                detail: None,
            }));
        }
        return Err(ApiError::not_found(format!("no transaction {tx_id}")).into());
    };
    let block = store
        .block_at(loc.block_height)
        .map_err(handlers::store_err)?
        .ok_or_else(|| ApiError::internal(format!("indexed block {} is missing", loc.block_height)))?;
    let detail = view::annotated_tx_view(&block, loc.position, state.chain.params().network)
        .and_then(|v| serde_json::to_value(v).ok());
    Ok(Json(RestTx {
        tx_id: tx_id.to_hex(),
        status: "confirmed".into(),
        block_height: Some(loc.block_height),
        block_hash: Some(block.hash().to_hex()),
        block_index: Some(loc.position),
        detail,
    }))
}

/// Submits a signed transaction (hex). Its status then shows on `/v1/events`.
#[utoipa::path(post, path = "/v1/transactions", tag = "chain", request_body = RestSubmit,
    security(("token" = [])),
    responses((status = 202, body = RestSubmitted), (status = 400, body = RestErrorBody), (status = 401, body = RestErrorBody), (status = 413, body = RestErrorBody)))]
pub(crate) async fn submit(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    let r: RestResult<Response> = async {
        let req: RawTxReq = handlers::read(&state, &headers, body).await?;
        let tx = handlers::decode_tx(&state, &req.raw_transaction)?;
        let tx_id = handlers::submit_tx(&state, tx).await?;
        Ok((
            StatusCode::ACCEPTED,
            Json(RestSubmitted {
                tx_id: tx_id.to_hex(),
                status: "pending".into(),
            }),
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(IntoResponse::into_response)
}

/// A validator of a set.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestValidator {
    /// Its DPoS identity (64-byte extended public key, hex).
    pub xpub: String,
    /// Its BLS consensus key (48 bytes, hex).
    pub consensus_key: String,
    /// Its votes when the set was elected (0 for the genesis set).
    pub votes: u64,
    /// Its node id in this node's directory (`bbft.validators`, then `bbft.candidates`); absent when
    /// this node does not know it (it still counts for the quorum).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_id: Option<u32>,
}

/// A registered candidate.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestCandidate {
    /// Its DPoS identity (hex).
    pub xpub: String,
    /// The BLS consensus key it registered (hex).
    pub consensus_key: String,
    /// The sequence of its accepted registration.
    pub sequence: u64,
    /// Height of the block that carried it.
    pub registered_at: u64,
    /// Votes for it now (neu).
    pub votes: u64,
}

/// The DPoS elections of a BBFT sidechain, at the committed tip.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestValidators {
    /// Height of the committed tip.
    pub tip_height: u64,
    /// Blocks per round (one BBFT epoch).
    pub round_length: u64,
    /// The epoch of the next block.
    pub epoch: u64,
    /// Its first height.
    pub first_height: u64,
    /// Its last height.
    pub last_height: u64,
    /// Its validator set, in election order (at a round's last block, the set just elected).
    pub validators: Vec<RestValidator>,
    /// Registered candidates, by identity.
    pub candidates: Vec<RestCandidate>,
    /// The set an election would fix if the round ended now.
    pub projected: Vec<RestValidator>,
    /// `elected` (enough candidates qualify), or `fallback` (the genesis set serves).
    pub projected_source: String,
    /// With `fallback`: how many candidates qualify (registered, with at least the minimum stake).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualified: Option<usize>,
}

/// The validator elections of a BBFT sidechain: the set of the next block's epoch, the registered
/// candidates with their votes, and the set an election would fix now.
#[utoipa::path(get, path = "/v1/validators", tag = "chain",
    responses((status = 200, body = RestValidators), (status = 404, body = RestErrorBody)))]
pub(crate) async fn validators(State(state): Shared) -> RestResult<Json<RestValidators>> {
    let bbft = state.chain.bbft().ok_or_else(|| {
        ApiError::not_found("this chain has no validator elections (it is not run by BBFT)")
    })?;
    let setup = bbft.setup();
    let elections = bbft.election_state();
    let tip_height = elections.tip_height();
    let next = tip_height.saturating_add(1);
    let epoch = setup.epoch_of(next);
    let (first_height, last_height) = setup.bounds(epoch);
    let list = |set: &consensus::dpos::ValidatorSet| -> Vec<RestValidator> {
        set.validators()
            .iter()
            .map(|v| RestValidator {
                xpub: v.candidate.to_hex(),
                consensus_key: hex::encode(v.consensus_key.public_key().to_bytes()),
                votes: v.votes,
                node_id: setup.node_id(&v.candidate),
            })
            .collect()
    };
    // The next block's set is always fixed: the current round's, or the one its last block elected.
    let validators = elections.set_for(next).map(list).unwrap_or_default();
    let candidates = elections
        .candidates()
        .iter()
        .map(|(xpub, c)| RestCandidate {
            xpub: xpub.to_hex(),
            consensus_key: hex::encode(c.consensus_key.public_key().to_bytes()),
            sequence: c.sequence,
            registered_at: c.registered_at,
            votes: elections.votes_for(xpub),
        })
        .collect();
    let (projected, source) = elections.projected_set();
    let (projected_source, qualified) = match source {
        consensus::dpos::SetSource::Elected => ("elected", None),
        consensus::dpos::SetSource::Fallback { qualified } => ("fallback", Some(qualified)),
    };
    Ok(Json(RestValidators {
        tip_height,
        round_length: setup.dpos.round_length,
        epoch,
        first_height,
        last_height,
        validators,
        candidates,
        projected: list(&projected),
        projected_source: projected_source.into(),
        qualified,
    }))
}

/// An asset: BTM, or any asset seen in an output on chain.
#[utoipa::path(get, path = "/v1/assets/{id}", tag = "chain",
    params(("id" = String, Path, description = "asset ID (64 hex characters)")),
    responses((status = 200, body = RestAsset), (status = 400, body = RestErrorBody), (status = 404, body = RestErrorBody)))]
pub(crate) async fn asset(State(state): Shared, Segment(id): Segment) -> RestResult<Json<RestAsset>> {
    let asset = AssetId::from_hex(id.trim())
        .map_err(|e| ApiError::bad_request(format!("asset id must be 64 hex characters: {e}")))?;
    let seen = state.assets.get(&asset);
    if asset == AssetId::BTM {
        return Ok(Json(RestAsset {
            id: asset.to_hex(),
            native: true,
            definition: serde_json::json!({
                "decimals": 8,
                "description": "Bytom Official Issue",
                "name": "BTM",
                "symbol": "BTM",
            }),
            first_seen_height: seen.map(|s| s.first_height),
        }));
    }
    let info = seen.ok_or_else(|| ApiError::not_found(format!("asset {asset} is not on this chain")))?;
    Ok(Json(RestAsset {
        id: asset.to_hex(),
        native: false,
        definition: info.definition.unwrap_or(Value::Null),
        first_seen_height: Some(info.first_height),
    }))
}

/// The unspent outputs of the last [`ADDRESS_SCAN_BLOCKS`] blocks locked by `program`.
fn scan_store(state: &AppState, program: &[u8]) -> Result<(Vec<RestUtxo>, u64), ApiError> {
    let store = state.chain.store();
    let tip = state.chain.tip().height;
    let from = tip.saturating_sub(ADDRESS_SCAN_BLOCKS - 1);
    let mut out = Vec::new();
    for h in from..=tip {
        let block = store
            .block_at(h)
            .map_err(handlers::store_err)?
            .ok_or_else(|| ApiError::internal(format!("no stored block at height {h}")))?;
        for tx in block.transactions() {
            for (o, ids) in tx.outputs().iter().zip(tx.ids().outputs.iter()) {
                if o.control_program() != program || ids.kind == ResultKind::Retirement {
                    continue;
                }
                if store.utxo_entry(&ids.id).map_err(handlers::store_err)?.is_some() {
                    out.push(RestUtxo {
                        output_id: ids.id.to_hex(),
                        asset_id: o.asset_id().to_hex(),
                        amount: o.amount().get(),
                        control_program: hex::encode(o.control_program()),
                        height: h,
                    });
                }
            }
        }
    }
    Ok((out, from))
}

/// The unspent outputs locked by an address. The store indexes outputs by ID, not by program: for
/// the node wallet's addresses the wallet's index answers completely; for any other address the last
/// 1000 blocks are scanned (`complete` says whether that covered the whole chain).
#[utoipa::path(get, path = "/v1/addresses/{address}/utxos", tag = "chain",
    params(("address" = String, Path, description = "a standard address of this chain")),
    responses((status = 200, body = RestAddressUtxos), (status = 400, body = RestErrorBody)))]
pub(crate) async fn address_utxos(
    State(state): Shared,
    Segment(address): Segment,
) -> RestResult<Json<RestAddressUtxos>> {
    let params = state.chain.params();
    let program = types::address::address_to_program(address.trim(), params.profile, params.network)
        .map_err(|e| ApiError::bad_request(format!("{address:?} is not an address of this chain: {e}")))?;
    if let Some(utxos) = crate::wallet_api::address_utxos(&state, address.trim(), &program).await? {
        return Ok(Json(RestAddressUtxos {
            address: address.trim().to_string(),
            control_program: hex::encode(&program),
            utxos,
            source: "wallet".into(),
            scanned_from_height: 0,
            complete: true,
        }));
    }
    let st = state.clone();
    let p = program.clone();
    let (utxos, from) = tokio::task::spawn_blocking(move || scan_store(&st, &p))
        .await
        .map_err(|e| ApiError::internal(format!("scan task failed: {e}")))??;
    Ok(Json(RestAddressUtxos {
        address: address.trim().to_string(),
        control_program: hex::encode(&program),
        utxos,
        source: "chain_scan".into(),
        scanned_from_height: from,
        complete: from == 0,
    }))
}

/// The live feed, as Server-Sent Events: `block` events for every committed block and `tx` events
/// for transactions submitted through this API (`pending`, `included`, `final`, `rejected`). With
/// `?tx=ID`, only that transaction's events. Slow clients are disconnected.
#[utoipa::path(get, path = "/v1/events", tag = "feed",
    params(("tx" = Option<String>, Query, description = "only this transaction's status events")),
    responses((status = 200, description = "text/event-stream of `block` and `block_disconnected` (BlockEvent) and `tx` (TxEvent) events"),
        (status = 400, body = RestErrorBody), (status = 429, body = RestErrorBody)))]
pub(crate) async fn events(State(state): Shared, RawQuery(query): RawQuery) -> Response {
    let mut only_tx: Option<Hash> = None;
    for pair in query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
    {
        match pair.split_once('=') {
            Some(("tx", v)) => match handlers::parse_hash("tx", v) {
                Ok(h) => only_tx = Some(h),
                Err(e) => return RestError(e).into_response(),
            },
            _ => {
                return RestError(ApiError::bad_request(format!(
                    "unknown query parameter {pair:?}; the only one is tx=ID"
                )))
                .into_response();
            }
        }
    }
    match state.feed.stream(only_tx) {
        Some(sse) => sse.into_response(),
        None => {
            let mut e = ApiError::bad_request("too many event feed clients connected; retry later");
            e.status = StatusCode::TOO_MANY_REQUESTS;
            RestError(e).into_response()
        }
    }
}

/// This document.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta",
    responses((status = 200, description = "the OpenAPI 3 document")))]
pub(crate) async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// An unknown path under `/v1`.
pub(crate) async fn not_found(uri: axum::http::Uri) -> RestError {
    ApiError::not_found(format!("no resource {}", uri.path())).into()
}

/// A known path with the wrong method.
pub(crate) async fn method_not_allowed() -> RestError {
    let mut e = ApiError::bad_request("method not allowed on this resource");
    e.status = StatusCode::METHOD_NOT_ALLOWED;
    e.into()
}

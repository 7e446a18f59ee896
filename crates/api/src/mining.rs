//! Mining endpoints of the main chain, with Bytom v1.1.0's shapes (`api/miner.go`,
//! `mining/miningpool`):
//!
//! - `get-work`: `{"block_header": "<hex of the serialized header>", "seed": "<hex>"}`: a template
//!   on the current tip paying the node's coinbase program, its timestamp the current time.
//! - `get-work-json`: the same with the header as JSON (`version`, `height`, `previous_block_hash`,
//!   `timestamp`, `nonce`, `bits`, `block_commitment` {`transaction_merkle_root`,
//!   `transaction_status_hash`}).
//! - `submit-work` (`{"block_header": "<hex>"}`) and `submit-work-json` (`{"block_header": {...}}`):
//!   the remembered template with the same parent and transactions root takes the submitted nonce
//!   and timestamp and is imported; the answer is `true`.
//!
//! Refused work (malformed header, stale template, proof of work or timestamp that fails, an invalid
//! block) gets the reference's failure shape: a malformed request `BTM002`, any other refusal
//! `BTM000` with the reference's message (e.g. "pending mining block has been changed") as
//! `error_detail`, with a 400 status (the reference answers 500 for all of them; ours keeps 5xx for the
//! node failing). A sidechain node answers 400 too: it has no work to give.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use node::{ChainService, ImportError, Template, WorkError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use types::profile::Profile;
use types::{BlockHeader, Hash, HeaderConsensus};

use crate::error::ApiError;
use crate::handlers::{Shared, parse_hash, read, respond, success};

/// A refusal in the reference's shape: `BTM000` "Bytom API Error", the reason as detail, 400.
fn refused(detail: impl Into<String>) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        code: "BTM000",
        msg: "Bytom API Error",
        detail: detail.into(),
    }
}

fn import_err(e: ImportError) -> ApiError {
    if e.is_block_fault() || matches!(e, ImportError::NotPow | ImportError::NoPayout) {
        refused(e.to_string())
    } else {
        tracing::error!(error = %e, "mining endpoint failed");
        ApiError::internal(e.to_string())
    }
}

fn work_err(e: WorkError) -> ApiError {
    match e {
        WorkError::Import(inner) => import_err(*inner),
        other => refused(other.to_string()),
    }
}

/// The reference's `BlockCommitment` JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CommitmentJson {
    transaction_merkle_root: String,
    transaction_status_hash: String,
}

/// The reference's `BlockHeaderJSON`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HeaderJson {
    version: u64,
    height: u64,
    previous_block_hash: String,
    timestamp: u64,
    nonce: u64,
    bits: u64,
    block_commitment: CommitmentJson,
}

impl HeaderJson {
    fn of(h: &BlockHeader) -> HeaderJson {
        HeaderJson {
            version: h.version,
            height: h.height,
            previous_block_hash: h.previous_block_hash.to_hex(),
            timestamp: h.timestamp,
            nonce: h.nonce().unwrap_or_default(),
            bits: h.bits().unwrap_or_default(),
            block_commitment: CommitmentJson {
                transaction_merkle_root: h.transactions_merkle_root.to_hex(),
                transaction_status_hash: h.transaction_status_hash.to_hex(),
            },
        }
    }

    fn header(&self) -> Result<BlockHeader, ApiError> {
        let h = BlockHeader {
            version: self.version,
            height: self.height,
            previous_block_hash: parse_hash("previous_block_hash", &self.previous_block_hash)?,
            timestamp: self.timestamp,
            transactions_merkle_root: parse_hash(
                "transaction_merkle_root",
                &self.block_commitment.transaction_merkle_root,
            )?,
            transaction_status_hash: parse_hash(
                "transaction_status_hash",
                &self.block_commitment.transaction_status_hash,
            )?,
            commitment_suffix: Vec::new(),
            consensus: HeaderConsensus::Pow {
                nonce: self.nonce,
                bits: self.bits,
            },
        };
        h.validate()
            .map_err(|e| ApiError::bad_request(format!("block_header: {e}")))?;
        Ok(h)
    }
}

async fn work(chain: &std::sync::Arc<ChainService>) -> Result<Template, ApiError> {
    if !chain.is_pow() {
        return Err(refused(
            "this node does not run proof of work: there is no work to give",
        ));
    }
    let c = chain.clone();
    tokio::task::spawn_blocking(move || c.get_work(node::chain::pow::now_secs()))
        .await
        .map_err(|e| ApiError::internal(format!("get-work task failed: {e}")))?
        .map_err(import_err)
}

async fn submit(chain: &std::sync::Arc<ChainService>, header: BlockHeader) -> Result<Response, ApiError> {
    if !chain.is_pow() {
        return Err(refused("this node does not run proof of work"));
    }
    let c = chain.clone();
    tokio::task::spawn_blocking(move || c.submit_work(&header))
        .await
        .map_err(|e| ApiError::internal(format!("submit-work task failed: {e}")))?
        .map_err(work_err)?;
    Ok(success(true))
}

fn seed_hex(seed: &Hash) -> String {
    seed.to_hex()
}

pub(crate) async fn get_work(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let _: serde_json::Value = read(&state, &headers, body).await?;
            let t = work(&state.chain).await?;
            Ok(success(json!({
                "block_header": hex::encode(t.block.header().encode()),
                "seed": seed_hex(&t.seed),
            })))
        }
        .await,
    )
}

pub(crate) async fn get_work_json(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let _: serde_json::Value = read(&state, &headers, body).await?;
            let t = work(&state.chain).await?;
            Ok(success(json!({
                "block_header": HeaderJson::of(t.block.header()),
                "seed": seed_hex(&t.seed),
            })))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct SubmitWorkReq {
    block_header: Option<String>,
}

#[derive(Deserialize)]
struct SubmitWorkJsonReq {
    block_header: Option<HeaderJson>,
}

pub(crate) async fn submit_work(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: SubmitWorkReq = read(&state, &headers, body).await?;
            let Some(text) = req.block_header else {
                return Err(refused("can't submit empty block"));
            };
            let text = text.trim();
            let bytes = hex::decode(text.strip_prefix("0x").unwrap_or(text))
                .map_err(|e| ApiError::bad_request(format!("block_header is not hex: {e}")))?;
            let header = BlockHeader::decode(&bytes, Profile::Main, &state.chain.params().limits)
                .map_err(|e| ApiError::bad_request(format!("block_header does not decode: {e}")))?;
            submit(&state.chain, header).await
        }
        .await,
    )
}

pub(crate) async fn submit_work_json(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: SubmitWorkJsonReq = read(&state, &headers, body).await?;
            let Some(h) = req.block_header else {
                return Err(refused("can't submit empty block"));
            };
            let header = h.header()?;
            submit(&state.chain, header).await
        }
        .await,
    )
}

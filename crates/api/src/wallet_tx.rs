//! Building, signing and estimating transactions with the node's wallet (`build-transaction`,
//! `sign-transaction`, `estimate-transaction-gas`).

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::handlers::{Shared, respond, success};
use crate::wallet_api::{wallet_err, with_wallet, wread};

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

pub(crate) async fn build_transaction(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: wallet::BuildRequest = wread(&state, &headers, body).await?;
            // Built against the chain's asset registry and BAP-02 lots (docs/assets.md).
            let chain = state.chain.clone();
            let template = with_wallet(&state, true, move |w| {
                w.build_in(&req, now_ms(), chain.store()).map_err(wallet_err)
            })
            .await?;
            Ok(success(template))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct SignReq {
    password: String,
    transaction: wallet::Template,
}

pub(crate) async fn sign_transaction(State(state): Shared, headers: HeaderMap, body: Body) -> Response {
    respond(
        async {
            let req: SignReq = wread(&state, &headers, body).await?;
            let out = with_wallet(&state, false, move |w| {
                let mut template = req.transaction;
                let complete = w.sign(&mut template, &req.password).map_err(wallet_err)?;
                Ok(json!({ "transaction": template, "sign_complete": complete }))
            })
            .await?;
            Ok(success(out))
        }
        .await,
    )
}

#[derive(Deserialize)]
struct EstimateReq {
    transaction_template: wallet::Template,
}

pub(crate) async fn estimate_transaction_gas(
    State(state): Shared,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let req: EstimateReq = wread(&state, &headers, body).await?;
            let gas = with_wallet(&state, false, move |w| {
                w.estimate_gas(&req.transaction_template).map_err(wallet_err)
            })
            .await?;
            Ok(success(gas))
        }
        .await,
    )
}

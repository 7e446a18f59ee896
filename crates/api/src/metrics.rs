//! `GET /metrics`: the node's metrics registry (`node::metrics`) in the Prometheus text format, and
//! the middleware counting API requests by route.
//!
//! Public, like the REST chain reads and `/v1/events`: it holds heights, counters and pool sizes,
//! nothing secret (no keys, tokens, addresses or amounts), and Prometheus scrapers are usually set up
//! without credentials. A node whose API is reachable by untrusted parties should restrict the
//! address (the API listens on loopback by default).

use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::handlers::Shared;

/// The content type of the text exposition format, version 0.0.4.
pub(crate) const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The registry with the pool's statistics read now.
pub(crate) async fn metrics(State(state): Shared) -> Response {
    let chain = state.chain.clone();
    // Reading the pool's statistics waits for the chain lock, which block production holds.
    match tokio::task::spawn_blocking(move || chain.metrics().render(&chain.pool_stats())).await {
        Ok(text) => ([(CONTENT_TYPE, CONTENT_TYPE_TEXT)], text).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the metrics failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "rendering the metrics failed\n",
            )
                .into_response()
        }
    }
}

/// Counts every request by its route pattern (never the raw path, so IDs do not multiply the label
/// values) and answer status; requests no route matched count as `unmatched`.
pub(crate) async fn count_requests(State(state): Shared, req: Request, next: Next) -> Response {
    let endpoint = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(req).await;
    state
        .chain
        .metrics()
        .api_request(&endpoint, response.status().as_u16());
    response
}

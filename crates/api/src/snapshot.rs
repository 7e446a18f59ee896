//! `GET /v1/snapshot/file`: the state at the node's tip as a snapshot file (`storage::snapshot`),
//! streamed while the node runs (the CLI's `tributary snapshot export` needs the store unlocked, so
//! a stopped node).
//!
//! It needs a token: it reads the whole state (a full scan of the UTXO set, the claims, the registry
//! and the lots), which an anonymous client must not be able to trigger at will. The commitment is
//! the file's last 32 bytes; `tributary snapshot verify --file FILE` prints it. The view is one redb
//! read transaction taken when the request arrives: later commits do not show through it and the
//! producer is not blocked.

use std::io::Write;

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use crate::handlers::{Shared, store_err};
use crate::rest::RestResult;

/// Chunks in flight between the exporting thread and the connection.
const CHUNKS_IN_FLIGHT: usize = 8;

/// A writer handing chunks to the response body; fails once the client is gone, which stops the
/// export.
struct ChannelWriter {
    tx: mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tx
            .blocking_send(Ok(buf.to_vec()))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The snapshot file of the state at the tip (binary, format in docs/snapshots.md).
#[utoipa::path(get, path = "/v1/snapshot/file", tag = "chain", security(("token" = [])),
    responses((status = 200, description = "the snapshot file (application/octet-stream); its last 32 bytes are the commitment", content_type = "application/octet-stream"),
        (status = 401, body = crate::error::RestErrorBody)))]
pub(crate) async fn file(State(state): Shared, headers: HeaderMap) -> Response {
    let r: RestResult<Response> = async {
        state.tokens.check(&headers)?;
        // A BBFT chain's snapshot carries the election state at the view's height.
        let (view, consensus_state) = state.chain.snapshot_view().map_err(store_err)?;
        let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let errors = tx.clone();
        tokio::task::spawn_blocking(move || {
            match view.export_snapshot(ChannelWriter { tx }, &consensus_state) {
                Ok(info) => tracing::info!(
                    height = info.height,
                    commitment = %info.commitment,
                    "snapshot served"
                ),
                Err(e) => {
                    tracing::warn!(error = %e, "snapshot export stopped");
                    // The body ends with an error: the client sees a broken transfer, never a short
                    // file that looks whole (and a short file fails verification anyway).
                    let _ = errors.blocking_send(Err(std::io::Error::other(e.to_string())));
                }
            }
        });
        let stream =
            futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
        Ok((
            [
                (CONTENT_TYPE, "application/octet-stream"),
                (CONTENT_DISPOSITION, "attachment; filename=\"tributary.snapshot\""),
            ],
            Body::from_stream(stream),
        )
            .into_response())
    }
    .await;
    r.unwrap_or_else(IntoResponse::into_response)
}

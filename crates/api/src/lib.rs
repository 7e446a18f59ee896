#![doc = include_str!("../README.md")]

mod auth;
pub mod error;
mod handlers;
pub mod view;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::post;
pub use error::ApiError;
use node::ChainService;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The API server's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Address to listen on; loopback by default.
    pub listen: String,
    /// Access tokens, each `id:secret` as the reference prints them. Requests must carry one as
    /// `Authorization: Bearer id:secret` or HTTP basic auth (user `id`, password `secret`). With no
    /// token configured and `require_auth = false`, requests need none.
    pub access_tokens: Vec<String>,
    /// Whether requests must be authenticated (refused altogether if no token is configured).
    pub require_auth: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: "127.0.0.1:9888".to_string(),
            access_tokens: Vec::new(),
            require_auth: true,
            max_body_bytes: 2 << 20,
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The configuration is wrong.
    #[error("api configuration: {0}")]
    Config(String),
    /// Binding the address failed.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// The error.
        source: std::io::Error,
    },
}

pub(crate) struct AppState {
    chain: Arc<ChainService>,
    tokens: auth::Tokens,
    max_body_bytes: usize,
}

/// The router with every endpoint (for tests and embedding).
pub fn router(chain: Arc<ChainService>, config: &ApiConfig) -> Result<Router, ServeError> {
    let tokens =
        auth::Tokens::parse(&config.access_tokens, config.require_auth).map_err(ServeError::Config)?;
    let state = Arc::new(AppState {
        chain,
        tokens,
        max_body_bytes: config.max_body_bytes,
    });
    Ok(Router::new()
        .route("/submit-transaction", post(handlers::submit_transaction))
        .route("/get-block-count", post(handlers::get_block_count))
        .route("/get-block-hash", post(handlers::get_block_hash))
        .route("/get-block", post(handlers::get_block))
        .route("/get-block-header", post(handlers::get_block_header))
        .route("/get-transaction", post(handlers::get_transaction))
        .route("/decode-raw-transaction", post(handlers::decode_raw_transaction))
        .route("/net-info", post(handlers::net_info))
        .fallback(handlers::unknown_endpoint)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .with_state(state))
}

/// A running API server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Server {
    /// Binds `config.listen` and serves until [`Server::shutdown`].
    pub async fn start(chain: Arc<ChainService>, config: &ApiConfig) -> Result<Server, ServeError> {
        let app = router(chain, config)?;
        let listener = TcpListener::bind(&config.listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: config.listen.clone(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServeError::Bind {
            addr: config.listen.clone(),
            source,
        })?;
        let (shutdown, mut rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let stop = async move {
                while !*rx.borrow() {
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
            };
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stop).await {
                tracing::error!(error = %e, "API server failed");
            }
        });
        tracing::info!(%addr, "API listening");
        Ok(Server { addr, shutdown, task })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections and waits for open requests to finish.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "API server task failed");
        }
    }
}

#![doc = include_str!("../README.md")]

mod auth;
pub mod error;
pub mod events;
mod handlers;
mod metrics;
mod mining;
pub mod rest;
mod snapshot;
pub mod view;
mod wallet_api;
mod wallet_tx;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
pub use error::{ApiError, RestError};
use node::ChainService;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The API server's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiConfig {
    /// Address to listen on; loopback by default.
    pub listen: String,
    /// Access tokens, each `id:secret` as the reference prints them. Requests must carry one as
    /// `Authorization: Bearer id:secret` or HTTP basic auth (user `id`, password `secret`). With no
    /// token configured or created and `require_auth = false`, requests need none.
    pub access_tokens: Vec<String>,
    /// Whether requests must be authenticated (refused altogether if no token exists).
    pub require_auth: bool,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The node's data directory, where tokens created at runtime are kept (`access_tokens.json`).
    /// Set by the node, not read from its configuration file; without it runtime tokens live in
    /// memory only.
    #[serde(skip)]
    pub data_dir: Option<PathBuf>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: "127.0.0.1:9888".to_string(),
            access_tokens: Vec::new(),
            require_auth: true,
            max_body_bytes: 2 << 20,
            data_dir: None,
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
    wallet: Option<Arc<wallet_api::WalletSync>>,
    tokens: auth::Tokens,
    max_body_bytes: usize,
    feed: Arc<events::Feed>,
    assets: Arc<events::AssetIndex>,
    /// Dropping it (with the router) stops the background tasks.
    _stop: watch::Sender<bool>,
}

/// The router with every endpoint (for tests and embedding), and the background task following the
/// chain for the event feed, the asset index and the wallet (when given): the wallet is first caught
/// up from its indexed tip to the chain's tip, then kept there block by block. The task ends when
/// the router is dropped. Call it inside a Tokio runtime.
pub fn router(
    chain: Arc<ChainService>,
    wallet: Option<Arc<wallet::Wallet>>,
    config: &ApiConfig,
) -> Result<Router, ServeError> {
    build(chain, wallet, config).map(|(r, _, _)| r)
}

fn build(
    chain: Arc<ChainService>,
    wallet: Option<Arc<wallet::Wallet>>,
    config: &ApiConfig,
) -> Result<(Router, JoinHandle<()>, Arc<events::Feed>), ServeError> {
    let tokens = auth::Tokens::open(
        &config.access_tokens,
        config.require_auth,
        config.data_dir.as_deref(),
    )
    .map_err(ServeError::Config)?;
    let feed = Arc::new(events::Feed::with_final_depth(chain.final_depth()));
    let assets = Arc::new(events::AssetIndex::default());
    let wallet = wallet.map(|w| Arc::new(wallet_api::WalletSync::new(chain.clone(), w)));
    let mut followers: Vec<Arc<dyn events::Follower>> = vec![assets.clone()];
    if let Some(w) = &wallet {
        followers.push(w.clone());
    }
    let (stop, stop_rx) = watch::channel(false);
    let start = events::FollowStart::now(&chain);
    let follower = tokio::spawn(events::follow(
        chain.clone(),
        feed.clone(),
        followers,
        start,
        stop_rx,
    ));
    let state = Arc::new(AppState {
        chain,
        wallet,
        tokens,
        max_body_bytes: config.max_body_bytes,
        feed: feed.clone(),
        assets,
        _stop: stop,
    });
    let compatible = Router::new()
        .route("/submit-transaction", post(handlers::submit_transaction))
        .route("/submit-transactions", post(handlers::submit_transactions))
        .route("/get-block-count", post(handlers::get_block_count))
        .route("/get-block-hash", post(handlers::get_block_hash))
        .route("/get-block", post(handlers::get_block))
        .route("/get-block-header", post(handlers::get_block_header))
        .route("/get-raw-block", post(handlers::get_raw_block))
        .route("/get-block-tx-ids", post(handlers::get_block_tx_ids))
        .route("/get-merkle-proof", post(handlers::get_merkle_proof))
        .route("/get-transaction", post(wallet_api::get_transaction))
        .route("/decode-raw-transaction", post(handlers::decode_raw_transaction))
        .route("/net-info", post(handlers::net_info))
        .route("/get-vote-result", post(handlers::get_vote_result))
        .route("/create-access-token", post(handlers::create_access_token))
        .route("/list-access-tokens", post(handlers::list_access_tokens))
        .route("/delete-access-token", post(handlers::delete_access_token))
        .route("/check-access-token", post(handlers::check_access_token))
        .route("/create-key", post(wallet_api::create_key))
        .route("/list-keys", post(wallet_api::list_keys))
        .route("/delete-key", post(wallet_api::delete_key))
        .route("/reset-key-password", post(wallet_api::reset_key_password))
        .route("/create-account", post(wallet_api::create_account))
        .route("/list-accounts", post(wallet_api::list_accounts))
        .route("/delete-account", post(wallet_api::delete_account))
        .route(
            "/create-account-receiver",
            post(wallet_api::create_account_receiver),
        )
        .route("/list-addresses", post(wallet_api::list_addresses))
        .route("/validate-address", post(wallet_api::validate_address))
        .route("/build-transaction", post(wallet_tx::build_transaction))
        .route("/sign-transaction", post(wallet_tx::sign_transaction))
        .route(
            "/estimate-transaction-gas",
            post(wallet_tx::estimate_transaction_gas),
        )
        .route("/list-transactions", post(wallet_api::list_transactions))
        .route("/list-balances", post(wallet_api::list_balances))
        .route("/list-unspent-outputs", post(wallet_api::list_unspent_outputs))
        .route("/list-account-votes", post(wallet_api::list_account_votes))
        .route("/create-asset", post(wallet_api::create_asset))
        .route("/get-asset", post(wallet_api::get_asset))
        .route("/list-assets", post(wallet_api::list_assets))
        .route("/metrics", get(metrics::metrics))
        .route("/get-work", post(mining::get_work))
        .route("/get-work-json", post(mining::get_work_json))
        .route("/submit-work", post(mining::submit_work))
        .route("/submit-work-json", post(mining::submit_work_json))
        .fallback(handlers::unknown_endpoint)
        .method_not_allowed_fallback(handlers::method_not_allowed);
    let rest = Router::new()
        .route("/blocks/tip", get(rest::block_tip))
        .route("/validators", get(rest::validators))
        .route("/blocks/{id}", get(rest::block))
        .route("/transactions", post(rest::submit))
        .route("/transactions/{id}", get(rest::transaction))
        .route("/assets/{id}", get(rest::asset))
        .route("/addresses/{address}/utxos", get(rest::address_utxos))
        .route("/accounts", get(wallet_api::rest_accounts))
        .route("/accounts/{id}", get(wallet_api::rest_account))
        .route("/accounts/{id}/balances", get(wallet_api::rest_account_balances))
        .route("/accounts/{id}/utxos", get(wallet_api::rest_account_utxos))
        .route("/events", get(rest::events))
        .route("/openapi.json", get(rest::openapi))
        .route("/snapshot/file", get(snapshot::file))
        .fallback(rest::not_found)
        .method_not_allowed_fallback(rest::method_not_allowed);
    let app = compatible
        .nest("/v1", rest)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count_requests,
        ))
        .with_state(state);
    Ok((app, follower, feed))
}

/// A running API server.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Server {
    /// Binds `config.listen` and serves until [`Server::shutdown`]; with a wallet, also keeps the
    /// wallet following the chain (see [`router`]).
    pub async fn start(
        chain: Arc<ChainService>,
        wallet: Option<Arc<wallet::Wallet>>,
        config: &ApiConfig,
    ) -> Result<Server, ServeError> {
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
        let (app, follower, feed) = build(chain, wallet, config)?;
        let (shutdown, mut rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            let stop = async move {
                while !*rx.borrow() {
                    if rx.changed().await.is_err() {
                        break;
                    }
                }
                // Event streams never end on their own: end them so that open requests can finish.
                feed.close();
            };
            // Answers are small and clients pipeline requests on keep-alive connections: without
            // TCP_NODELAY, Nagle's algorithm and delayed ACKs hold each answer for tens of milliseconds.
            let listener = listener.tap_io(|stream| {
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::debug!(error = %e, "cannot set TCP_NODELAY");
                }
            });
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stop).await {
                tracing::error!(error = %e, "API server failed");
            }
            // The router (and with it the follower's stop signal) is gone: the follower ends.
            follower.abort();
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

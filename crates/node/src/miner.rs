//! The main chain's miner task: mines on the current tip with every core ([`pow::miner`]), imports
//! each block found, and restarts the search on a fresh template whenever the tip changes (a block
//! from elsewhere), every [`TEMPLATE_REFRESH`] (new pool transactions, a fresher timestamp), or stops
//! on shutdown.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pow::miner::MinerConfig;
use tokio::sync::{broadcast, watch};

use crate::chain::{ChainEvent, ChainService};

/// How long one template is mined before it is rebuilt.
pub const TEMPLATE_REFRESH: Duration = Duration::from_secs(30);

/// Runs until `shutdown` turns true (or its sender is dropped). Rewards go to `program`.
pub async fn run(
    chain: Arc<ChainService>,
    program: Vec<u8>,
    config: MinerConfig,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut events = chain.subscribe_chain();
    let program = Arc::new(program);
    tracing::info!(threads = config.threads, "miner started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Events of blocks imported before this template (our own included) are already reflected.
        while !matches!(
            events.try_recv(),
            Err(broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed)
        ) {}
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s, p) = (chain.clone(), stop.clone(), program.clone());
        let mut task = tokio::task::spawn_blocking(move || c.mine_block(&p, &config, &s));
        let refresh = tokio::time::sleep(TEMPLATE_REFRESH);
        tokio::pin!(refresh);
        let mut stopping = false;
        let result = loop {
            tokio::select! {
                r = &mut task => break r,
                ev = events.recv() => match ev {
                    Ok(ChainEvent::Connected(_) | ChainEvent::Disconnected(_)) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        stop.store(true, Ordering::Relaxed);
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        stop.store(true, Ordering::Relaxed);
                        stopping = true;
                    }
                },
                _ = &mut refresh => stop.store(true, Ordering::Relaxed),
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        stop.store(true, Ordering::Relaxed);
                        stopping = true;
                    }
                }
            }
        };
        match result {
            Ok(Ok(Some(outcome))) => tracing::info!(
                hash = %outcome.hash,
                height = outcome.tip.height,
                status = ?outcome.status,
                "mined a block"
            ),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, "mining failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => tracing::error!(error = %e, "miner task failed"),
        }
        if stopping {
            break;
        }
    }
    tracing::info!("miner stopped");
}

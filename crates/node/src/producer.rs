//! The solo block producer: a block every `block_interval_ms` while transactions wait, and an empty
//! block once `empty_block_interval_ms` passes without one.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use crate::ProducerConfig;
use crate::chain::ChainService;

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Runs until `shutdown` turns true (or its sender is dropped). A block being committed when shutdown
/// arrives is finished first.
pub async fn run(chain: Arc<ChainService>, config: ProducerConfig, mut shutdown: watch::Receiver<bool>) {
    let interval = Duration::from_millis(config.block_interval_ms.max(1));
    let empty_after = Duration::from_millis(config.empty_block_interval_ms.max(1));
    let mut last_block = Instant::now();
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    break;
                }
                continue;
            }
        }
        if *shutdown.borrow() {
            break;
        }
        if !chain.has_pending() && last_block.elapsed() < empty_after {
            continue;
        }
        let c = chain.clone();
        match tokio::task::spawn_blocking(move || c.produce_block(now_ms())).await {
            Ok(Ok(_)) => last_block = Instant::now(),
            Ok(Err(e)) => tracing::error!(error = %e, "block production failed"),
            Err(e) => tracing::error!(error = %e, "block production task failed"),
        }
    }
    tracing::info!("block producer stopped");
}

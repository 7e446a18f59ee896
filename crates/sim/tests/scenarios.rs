#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Quick smoke: a few seeds per scenario.

use std::sync::Arc;

use consensus::bbft::Crypto;
use sim::scenario::{Scenario, sweep};

#[test]
fn smoke() {
    let crypto: Arc<dyn Crypto> = Arc::new(sim::CachedCrypto::new());
    for s in Scenario::ALL {
        let t = std::time::Instant::now();
        let r = sweep(s, 0..40, &crypto);
        println!(
            "{} runs {} fail {:?} heights {} ev {} rej {} wall={:?}",
            s.name(),
            r.runs,
            r.failures
                .iter()
                .map(|f| (f.seed, f.violations.len()))
                .collect::<Vec<_>>(),
            r.heights,
            r.evidence,
            r.rejected,
            t.elapsed()
        );
    }
}

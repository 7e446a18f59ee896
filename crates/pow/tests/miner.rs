//! The CPU miner: finds valid nonces, stops on request, resumes without skipping, respects its range.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{CheapPow, genesis, template, test_params};
use pow::PowFunction;
use pow::miner::{MAX_NONCE, MineOutcome, MinerConfig, MinerError, mine};
use pow::validate::{HeaderContext, check_header_pow};
use types::{Hash, HeaderConsensus};

/// Cheap PoW that records every block hash it is asked about and raises `stop` after `limit` calls.
struct Recording<'a> {
    seen: Mutex<HashSet<Hash>>,
    calls: AtomicUsize,
    limit: usize,
    stop: &'a AtomicBool,
    never: bool,
}

impl PowFunction for Recording<'_> {
    fn result(&self, block_hash: &Hash, seed: &Hash) -> Hash {
        self.seen.lock().unwrap().insert(*block_hash);
        if self.calls.fetch_add(1, Ordering::SeqCst) + 1 >= self.limit {
            self.stop.store(true, Ordering::SeqCst);
        }
        if self.never {
            Hash([0xff; 32])
        } else {
            CheapPow.result(block_hash, seed)
        }
    }
}

#[test]
fn finds_a_nonce_that_validates() {
    let p = test_params();
    let g = HeaderContext::genesis(&p, &genesis(&p, 1_000)).unwrap();
    let t = template(&p, &g, 1_010, 1);
    for threads in [1, 2, 4] {
        let stop = AtomicBool::new(false);
        let out = mine(
            &CheapPow,
            &t,
            &g.next_seed(),
            0..10_000,
            &MinerConfig { threads },
            &stop,
        )
        .unwrap();
        let MineOutcome::Found(h) = out else {
            panic!("{out:?}")
        };
        assert!(check_header_pow(&CheapPow, &h, &g.next_seed()));
        // Only the nonce differs from the template.
        let mut back = h.clone();
        back.consensus = t.consensus.clone();
        assert_eq!(back, t);
    }
}

#[test]
fn a_raised_flag_stops_before_any_work_and_resumes_where_it_stopped() {
    let p = test_params();
    let g = HeaderContext::genesis(&p, &genesis(&p, 1_000)).unwrap();
    let t = template(&p, &g, 1_010, 1);
    let stop = AtomicBool::new(true);
    let out = mine(
        &CheapPow,
        &t,
        &g.next_seed(),
        40..100,
        &MinerConfig { threads: 2 },
        &stop,
    )
    .unwrap();
    assert_eq!(out, MineOutcome::Stopped { next_nonce: 40 });
}

#[test]
fn stopping_midway_leaves_no_untried_nonce_below_the_resume_point() {
    let p = test_params();
    let g = HeaderContext::genesis(&p, &genesis(&p, 1_000)).unwrap();
    let t = template(&p, &g, 1_010, 1);
    let stop = AtomicBool::new(false);
    let rec = Recording {
        seen: Mutex::new(HashSet::new()),
        calls: AtomicUsize::new(0),
        limit: 25,
        stop: &stop,
        never: true,
    };
    let out = mine(
        &rec,
        &t,
        &g.next_seed(),
        100..1_000,
        &MinerConfig { threads: 3 },
        &stop,
    )
    .unwrap();
    let MineOutcome::Stopped { next_nonce } = out else {
        panic!("{out:?}")
    };
    // A worker the scheduler never ran may hold the resume point at the start; never past the end.
    assert!((100..1_000).contains(&next_nonce), "{next_nonce}");
    assert!(rec.calls.load(Ordering::SeqCst) >= 25);
    let seen = rec.seen.lock().unwrap().clone();
    let hash_of = |nonce| {
        let mut h = t.clone();
        h.consensus = HeaderConsensus::Pow {
            nonce,
            bits: t.bits().unwrap(),
        };
        h.hash()
    };
    for nonce in 100..next_nonce {
        assert!(
            seen.contains(&hash_of(nonce)),
            "nonce {nonce} below {next_nonce} untried"
        );
    }
    assert!(!seen.contains(&hash_of(99)), "nothing below the range");
    // Resuming covers the rest: together, every nonce of the range once at least.
    stop.store(false, Ordering::SeqCst);
    let rec2 = Recording {
        seen: Mutex::new(HashSet::new()),
        calls: AtomicUsize::new(0),
        limit: usize::MAX,
        stop: &stop,
        never: true,
    };
    let out = mine(
        &rec2,
        &t,
        &g.next_seed(),
        next_nonce..1_000,
        &MinerConfig { threads: 3 },
        &stop,
    )
    .unwrap();
    assert_eq!(out, MineOutcome::Exhausted);
    let all: HashSet<Hash> = seen.union(&rec2.seen.lock().unwrap()).copied().collect();
    for nonce in 100..1_000 {
        assert!(all.contains(&hash_of(nonce)), "nonce {nonce} never tried");
    }
}

#[test]
fn an_impossible_target_exhausts_the_range() {
    let p = test_params();
    let g = HeaderContext::genesis(&p, &genesis(&p, 1_000)).unwrap();
    let mut t = template(&p, &g, 1_010, 1);
    // Bits 0: target 0, which only the all-zero result meets.
    t.consensus = HeaderConsensus::Pow { nonce: 0, bits: 0 };
    let stop = AtomicBool::new(false);
    let out = mine(
        &CheapPow,
        &t,
        &g.next_seed(),
        0..64,
        &MinerConfig { threads: 2 },
        &stop,
    )
    .unwrap();
    assert_eq!(out, MineOutcome::Exhausted);
    let out = mine(
        &CheapPow,
        &t,
        &g.next_seed(),
        5..5,
        &MinerConfig::default(),
        &stop,
    )
    .unwrap();
    assert_eq!(out, MineOutcome::Exhausted);
}

#[test]
fn bad_templates_and_ranges_are_typed_errors() {
    let p = test_params();
    let g = HeaderContext::genesis(&p, &genesis(&p, 1_000)).unwrap();
    let t = template(&p, &g, 1_010, 1);
    let stop = AtomicBool::new(false);
    let cfg = MinerConfig { threads: 1 };
    assert_eq!(
        mine(&CheapPow, &t, &g.next_seed(), 0..MAX_NONCE + 2, &cfg, &stop),
        Err(MinerError::NonceOutOfRange {
            start: 0,
            end: MAX_NONCE + 2
        })
    );
    // The very top of the range is usable.
    let out = mine(
        &CheapPow,
        &t,
        &g.next_seed(),
        MAX_NONCE - 200..MAX_NONCE + 1,
        &cfg,
        &stop,
    )
    .unwrap();
    let MineOutcome::Found(h) = out else {
        panic!("{out:?}")
    };
    assert!(h.nonce().unwrap() >= MAX_NONCE - 200);
    let mut side = t.clone();
    side.consensus = HeaderConsensus::Witness {
        witness: vec![],
        suffix: vec![],
    };
    assert_eq!(
        mine(&CheapPow, &side, &g.next_seed(), 0..10, &cfg, &stop),
        Err(MinerError::NotPow)
    );
}

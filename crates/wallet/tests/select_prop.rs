//! Properties of coin selection (`select_coins`) over generated coin sets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use types::Hash;
use wallet::{Candidate, SelectError, select_coins};

fn coins() -> impl Strategy<Value = Vec<Candidate>> {
    prop::collection::vec((1u64..1_000_000, 0u64..20, prop::bool::weighted(0.2)), 0..24).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (amount, valid_height, reserved))| {
                let mut id = [0u8; 32];
                id[..8].copy_from_slice(&(i as u64).to_be_bytes());
                Candidate {
                    id: Hash(id),
                    amount,
                    valid_height,
                    reserved,
                }
            })
            .collect()
    })
}

fn usable(c: &Candidate, height: u64) -> bool {
    !c.reserved && c.valid_height <= height
}

proptest! {
    #[test]
    fn selection_covers_the_amount_with_usable_coins_only(set in coins(), amount in 1u64..5_000_000, height in 0u64..20) {
        match select_coins(&set, amount, height) {
            Ok(sel) => {
                let chosen: Vec<&Candidate> = sel.ids.iter().map(|id| set.iter().find(|c| c.id == *id).unwrap()).collect();
                // Distinct, usable, summing to total, covering the amount.
                let mut ids = sel.ids.clone();
                ids.sort();
                ids.dedup();
                prop_assert_eq!(ids.len(), sel.ids.len());
                prop_assert!(chosen.iter().all(|c| usable(c, height)));
                let total: u64 = chosen.iter().map(|c| c.amount).sum();
                prop_assert_eq!(total, sel.total);
                prop_assert!(total >= amount);
                prop_assert_eq!(sel.change, total - amount);
                // Fewest inputs: no smaller number of usable coins can cover the amount.
                let mut amounts: Vec<u64> = set.iter().filter(|c| usable(c, height)).map(|c| c.amount).collect();
                amounts.sort_unstable_by(|a, b| b.cmp(a));
                let k = sel.ids.len();
                let best_smaller: u64 = amounts.iter().take(k.saturating_sub(1)).sum();
                prop_assert!(k == 1 || best_smaller < amount);
                // An exact coin is taken alone.
                if amounts.contains(&amount) {
                    prop_assert_eq!(k, 1);
                    prop_assert_eq!(sel.change, 0);
                }
            }
            Err(e) => {
                let all: u64 = set.iter().map(|c| c.amount).sum();
                let mature: u64 = set.iter().filter(|c| c.valid_height <= height).map(|c| c.amount).sum();
                let free: u64 = set.iter().filter(|c| usable(c, height)).map(|c| c.amount).sum();
                prop_assert!(free < amount);
                match e {
                    SelectError::InsufficientFunds { needed, available } => {
                        prop_assert_eq!((needed, available), (amount, all));
                        prop_assert!(all < amount);
                    }
                    SelectError::Immature { needed, mature: m } => {
                        prop_assert_eq!((needed, m), (amount, mature));
                        prop_assert!(all >= amount && mature < amount);
                    }
                    SelectError::Reserved { needed, unreserved } => {
                        prop_assert_eq!((needed, unreserved), (amount, free));
                        prop_assert!(mature >= amount);
                    }
                    other => prop_assert!(false, "unexpected {other:?}"),
                }
            }
        }
    }

    #[test]
    fn selection_depends_only_on_the_set(set in coins(), amount in 1u64..5_000_000) {
        let mut reversed = set.clone();
        reversed.reverse();
        prop_assert_eq!(select_coins(&set, amount, 20), select_coins(&reversed, amount, 20));
    }
}

#[test]
fn zero_is_refused_and_sums_never_wrap() {
    assert_eq!(select_coins(&[], 0, 0), Err(SelectError::ZeroAmount));
    let coin = |i: u8, amount: u64| Candidate {
        id: Hash([i; 32]),
        amount,
        valid_height: 0,
        reserved: false,
    };
    // Two coins of 2^63 sum past u64::MAX: refused, never wrapped.
    let big = u64::MAX / 2 + 1;
    assert_eq!(
        select_coins(&[coin(1, big), coin(2, big), coin(3, big)], u64::MAX, 0),
        Err(SelectError::Overflow)
    );
    // The largest legal amounts still work.
    let max = (1u64 << 63) - 1;
    let sel = select_coins(&[coin(1, max), coin(2, max)], max + 1, 0).unwrap();
    assert_eq!((sel.ids.len(), sel.total, sel.change), (2, 2 * max, max - 1));
}

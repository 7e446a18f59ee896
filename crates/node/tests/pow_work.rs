//! `get-work` / `submit-work` templates on the main chain (kept by tip, not evicted by polling) and
//! the payout a mining node needs (refused on mainnet without one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ledger::ChainParams;
use ledger::testkit::{coins_of, output, transfer};
use node::chain::pow::{ImportStatus, MAX_TEMPLATES, WorkError};
use node::{ImportError, MiningConfig, NodeError, mining_program};
use types::asset::AssetId;
use types::profile::Profile;

use common::TempDir;
use common::pow::{EACH, FEE, funder, genesis, mine, open, pow_now, prog, solve};

#[test]
fn work_on_an_unchanged_tip_stays_valid_while_the_pool_changes() {
    let dir = TempDir::new("work");
    let g = genesis();
    let a = open(&dir.0.join("a.redb"), &g, &prog(1));
    let first = a.get_work(pow_now()).unwrap();
    let solved = solve(first.block.header(), &first.seed);
    // Transactions keep arriving (a chain of payments, each spending the last) and miners poll after
    // each: more templates than the old bound of eight, every one with other transactions.
    let key = funder();
    let mut coin = coins_of(&g.transactions()[0]).remove(0);
    let mut value = EACH;
    let mut roots = vec![first.block.header().transactions_merkle_root];
    for _ in 0..12 {
        value -= FEE;
        let tx = transfer(
            Profile::Main,
            &[(&coin, &key)],
            vec![output(key.program(), AssetId::BTM, value).unwrap()],
        )
        .unwrap();
        a.submit(tx.clone()).unwrap();
        coin = coins_of(&tx).remove(0);
        for _ in 0..3 {
            let t = a.get_work(pow_now()).unwrap();
            roots.push(t.block.header().transactions_merkle_root);
        }
    }
    roots.dedup();
    assert_eq!(roots.len(), 13);
    assert!(roots.len() <= MAX_TEMPLATES);
    // The first template's work is still accepted: the tip never moved.
    let out = a.submit_work(&solved).unwrap();
    assert_eq!(out.status, ImportStatus::BestChain);
    assert_eq!(a.tip().hash, solved.hash());
    // Once the tip moved, work on the old tip is stale.
    let old = a.get_work(pow_now()).unwrap();
    let old_solved = solve(old.block.header(), &old.seed);
    mine(&a, &prog(1));
    assert!(matches!(a.submit_work(&old_solved), Err(WorkError::Stale)));
}

#[test]
fn mining_without_a_payout_is_refused_on_mainnet_and_allowed_on_the_devnet() {
    let none = MiningConfig {
        enabled: true,
        ..MiningConfig::default()
    };
    let err = mining_program(&none, &ChainParams::main_mainnet()).unwrap_err();
    assert!(matches!(err, NodeError::Config(_)), "{err}");
    assert!(err.to_string().contains("anyone can spend"), "{err}");
    assert_eq!(
        mining_program(&none, &ChainParams::main_devnet()).unwrap(),
        vm::standard::default_coinbase_program()
    );
    // A control program that is not hex, or empty, would burn the rewards.
    for bad in ["zz", "0x51"] {
        let cfg = MiningConfig {
            control_program: bad.into(),
            ..none.clone()
        };
        assert!(matches!(
            mining_program(&cfg, &ChainParams::main_devnet()),
            Err(NodeError::Config(_))
        ));
    }
    // Blank is "not set": refused on mainnet like no payout at all.
    let blank = MiningConfig {
        control_program: "  ".into(),
        ..none.clone()
    };
    assert!(mining_program(&blank, &ChainParams::main_mainnet()).is_err());
    let program = prog(3);
    let given = MiningConfig {
        control_program: hex::encode(&program),
        ..none
    };
    assert_eq!(
        mining_program(&given, &ChainParams::main_mainnet()).unwrap(),
        program
    );
    // A node without a payout program gives no work.
    let dir = TempDir::new("nopayout");
    let g = genesis();
    let a = open(&dir.0.join("a.redb"), &g, &[]);
    assert!(matches!(a.get_work(pow_now()), Err(ImportError::NoPayout)));
}

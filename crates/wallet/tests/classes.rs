//! Issuing and moving assets of each class (BAP-01 … BAP-04, `docs/assets.md`) end to end on a main
//! chain in memory: the wallet defines the asset, builds and signs with the chain's asset state, and
//! every transaction it returns passes `check_tx`, `check_tx_against` and block validation; what a
//! class forbids is refused by the builder up front with `AssetClassRule` (`BTM712`), reserving nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TempDir;

use std::sync::Arc;

use ledger::testkit::{self, Key};
use ledger::{ChainParams, ChangeSet, MemoryUtxoSet, check_tx, check_tx_against, validate_block};
use serde_json::{Value, json};
use types::block::BlockHeader;
use types::{AssetId, Block, Limits, Network, Profile, Transaction};
use wallet::{BuildRequest, KdfParams, Template, Wallet, WalletError};

const PW: &str = "pw";

fn tmp(name: &str) -> TempDir {
    TempDir::new(name)
}

/// A main chain in memory and a wallet following it.
struct Env {
    params: ChainParams,
    set: MemoryUtxoSet,
    tip: BlockHeader,
    miner: Key,
    w: Wallet,
    /// The wallet's directory, removed with the environment.
    _dir: TempDir,
    alice: String,
    bob: String,
    nonce: u64,
}

impl Env {
    fn new(name: &str) -> Env {
        let params = wallet::chain_params(Profile::Main, Network::Devnet);
        let mut tip = BlockHeader::empty(Profile::Main);
        tip.version = 1;
        tip.height = 10_000;
        let dir = tmp(name);
        let w = Wallet::open(&dir, Profile::Main, Network::Devnet, KdfParams::FAST_INSECURE).unwrap();
        let (key, _) = w.create_key("issuer", PW).unwrap();
        w.create_account(&[key.xpub], 1, "alice").unwrap();
        w.create_account(&[key.xpub], 1, "bob").unwrap();
        let alice = w.create_receiver("alice").unwrap().address;
        let bob = w.create_receiver("bob").unwrap().address;
        Env {
            params,
            set: MemoryUtxoSet::new(),
            tip,
            miner: Key::from_seed(b"miner"),
            w,
            _dir: dir,
            alice,
            bob,
            nonce: 0,
        }
    }

    fn define(&self, alias: &str, definition: Value) -> AssetId {
        let xpub = self.w.list_keys()[0].xpub;
        self.w
            .create_asset(
                &serde_json::from_value(
                    json!({"alias": alias, "root_xpubs": [xpub], "quorum": 1, "definition": definition}),
                )
                .unwrap(),
            )
            .unwrap()
            .id
    }

    /// Builds against the chain's state (registry and lots).
    fn build(&mut self, actions: Value) -> Result<Template, WalletError> {
        let req: BuildRequest = serde_json::from_value(json!({ "actions": actions })).unwrap();
        let mut n = self.nonce;
        let mut next = || {
            n += 1;
            n.to_le_bytes()
        };
        let r = self.w.build_with(&req, 0, Some(&self.set), &mut next);
        self.nonce = n;
        r
    }

    /// Signs, checks as the mempool does, mines into a block (validated) and lets the wallet index it.
    fn settle(&mut self, mut tpl: Template) -> Transaction {
        assert!(self.w.sign(&mut tpl, PW).unwrap());
        let tx = Transaction::decode(&tpl.raw_transaction, Profile::Main, &Limits::default()).unwrap();
        let height = self.tip.height + 1;
        let checked = check_tx(Arc::new(tx.clone()), &self.params, height).unwrap();
        check_tx_against(&checked, &self.set, height, &self.params).unwrap();
        let block = self.block(vec![tx.clone()]);
        let cs: ChangeSet = validate_block(&block, &self.tip, &self.set, &self.params, &[]).unwrap();
        self.set.apply_block(&block, &cs).unwrap();
        self.tip = block.header().clone();
        self.w.apply_block(&block).unwrap();
        tx
    }

    fn block(&self, txs: Vec<Transaction>) -> Block {
        let height = self.tip.height + 1;
        let subsidy = self.params.block_subsidy(height).unwrap();
        let cb = testkit::coinbase(
            Profile::Main,
            height,
            vec![testkit::output(self.miner.program(), AssetId::BTM, subsidy).unwrap()],
        )
        .unwrap();
        let mut all = vec![cb];
        all.extend(txs);
        testkit::block(&self.tip, all, height).unwrap()
    }

    fn issue(&mut self, asset: &str, amount: u64, to: &str) -> Result<Template, WalletError> {
        let id = self.w.find_asset(asset).unwrap().id.to_hex();
        let to = if to == "alice" {
            self.alice.clone()
        } else {
            self.bob.clone()
        };
        self.build(json!([
            {"type": "issue", "asset_alias": asset, "amount": amount},
            {"type": "control_address", "address": to, "asset_id": id, "amount": amount},
        ]))
    }

    fn pay(&mut self, from: &str, asset: &AssetId, amount: u64) -> Result<Template, WalletError> {
        let to = if from == "alice" {
            self.bob.clone()
        } else {
            self.alice.clone()
        };
        self.build(json!([
            {"type": "spend_account", "account_alias": from, "asset_id": asset.to_hex(), "amount": amount},
            {"type": "control_address", "address": to, "asset_id": asset.to_hex(), "amount": amount},
        ]))
    }

    fn balance(&self, account: &str, asset: &AssetId) -> u64 {
        self.w
            .balances(Some(account))
            .unwrap()
            .iter()
            .filter(|b| b.asset_id == asset.to_hex())
            .map(|b| b.amount)
            .sum()
    }

    fn outputs(&self, account: &str, asset: &AssetId) -> Vec<(types::Hash, u64)> {
        self.w
            .unspent_outputs(Some(account), None)
            .unwrap()
            .iter()
            .filter(|u| u.asset_id == *asset)
            .map(|u| (u.id, u.amount))
            .collect()
    }
}

fn assert_class_rule(r: Result<Template, WalletError>, code: &str) {
    match r {
        Err(e @ WalletError::AssetClassRule { class, .. }) => {
            assert_eq!(class, code, "{e}");
            assert_eq!(e.reference_code(), "BTM712");
            assert!(e.is_client_error());
        }
        other => panic!("expected a {code} class refusal, got {other:?}"),
    }
}

#[test]
fn bit_asset_issues_and_splits_freely() {
    let mut env = Env::new("class-bit");
    let a = env.define("points", json!({"name": "points", "decimals": 2}));
    let tpl = env.issue("points", 1_000, "alice").unwrap();
    env.settle(tpl);
    assert_eq!(env.balance("alice", &a), 1_000);
    let tpl = env.pay("alice", &a, 333).unwrap();
    env.settle(tpl);
    assert_eq!(env.balance("alice", &a), 667);
    assert_eq!(env.balance("bob", &a), 333);
    // A second issuance is fine for a bit asset.
    let tpl = env.issue("points", 5, "bob").unwrap();
    env.settle(tpl);
    assert_eq!(env.balance("bob", &a), 338);
}

#[test]
fn atomic_lots_are_spent_within_one_lot_and_never_merged() {
    let mut env = Env::new("class-atomic");
    let a = env.define("bond", json!({"name": "bond series A", "bap": "BAP-02"}));
    let tpl = env.issue("bond", 100, "alice").unwrap();
    env.settle(tpl);
    let tpl = env.issue("bond", 50, "alice").unwrap();
    env.settle(tpl);
    assert_eq!(env.balance("alice", &a), 150);
    let reserved = env.w.reserved_outputs().unwrap();

    // 120 is there in total but in no one lot: refused up front, nothing reserved.
    assert_class_rule(env.pay("alice", &a, 120), "BAP-02");
    assert_eq!(env.w.reserved_outputs().unwrap(), reserved);
    // Naming one output of each lot explicitly is a merge too.
    let outs = env.outputs("alice", &a);
    assert_eq!(outs.len(), 2);
    let r = env.build(json!([
        {"type": "spend_account_unspent_output", "output_id": outs[0].0.to_hex()},
        {"type": "spend_account_unspent_output", "output_id": outs[1].0.to_hex()},
        {"type": "control_address", "address": env.bob.clone(), "asset_id": a.to_hex(), "amount": 150},
    ]));
    assert_class_rule(r, "BAP-02");
    // An issuance next to a spend of the asset (a new lot joining an old one).
    let r = env.build(json!([
        {"type": "issue", "asset_id": a.to_hex(), "amount": 10},
        {"type": "spend_account", "account_alias": "alice", "asset_id": a.to_hex(), "amount": 10},
        {"type": "control_address", "address": env.bob.clone(), "asset_id": a.to_hex(), "amount": 20},
    ]));
    assert_class_rule(r, "BAP-02");
    // Two issuances in one transaction are two lots.
    let r = env.build(json!([
        {"type": "issue", "asset_id": a.to_hex(), "amount": 10},
        {"type": "issue", "asset_id": a.to_hex(), "amount": 10},
        {"type": "control_address", "address": env.bob.clone(), "asset_id": a.to_hex(), "amount": 20},
    ]));
    assert_class_rule(r, "BAP-02");
    assert_eq!(env.w.reserved_outputs().unwrap(), reserved);

    // 80 fits in the 100 lot: the split passes consensus, change stays in the lot.
    let t = env.pay("alice", &a, 80).unwrap();
    let tx = env.settle(t);
    assert_eq!(tx.inputs().len(), 1);
    assert_eq!(env.balance("bob", &a), 80);
    assert_eq!(env.balance("alice", &a), 70);
    // The 20 of change and the 50 lot cannot pay 60 together; the 50 lot alone pays 45.
    assert_class_rule(env.pay("alice", &a, 60), "BAP-02");
    {
        let t = env.pay("alice", &a, 45).unwrap();
        env.settle(t);
    }
    assert_eq!(env.balance("alice", &a), 25);

    // Without the chain's state every output counts as its own lot, so still no merge.
    let req: BuildRequest = serde_json::from_value(json!({"actions": [
        {"type": "spend_account", "account_alias": "alice", "asset_id": a.to_hex(), "amount": 25},
        {"type": "control_address", "address": env.bob.clone(), "asset_id": a.to_hex(), "amount": 25},
    ]}))
    .unwrap();
    match env.w.build(&req, 0) {
        Err(WalletError::AssetClassRule { class: "BAP-02", .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn quark_is_issued_once_and_moves_whole() {
    let mut env = Env::new("class-quark");
    let a = env.define("sword", json!({"name": "sword #1", "bap": "BAP-03"}));
    // Not one unit: refused.
    assert_class_rule(env.issue("sword", 2, "alice"), "BAP-03");
    let tpl = env.issue("sword", 1, "alice").unwrap();
    env.settle(tpl);
    assert_eq!(env.balance("alice", &a), 1);
    // Issued already (the chain's registry knows it): refused.
    assert_class_rule(env.issue("sword", 1, "bob"), "BAP-03");
    // Splitting or paying more than the item: refused before selection.
    assert_class_rule(env.pay("alice", &a, 2), "BAP-03");
    // The item moves whole.
    {
        let t = env.pay("alice", &a, 1).unwrap();
        env.settle(t);
    }
    assert_eq!(env.balance("alice", &a), 0);
    assert_eq!(env.balance("bob", &a), 1);
}

#[test]
fn quantum_amounts_are_whole_units() {
    let mut env = Env::new("class-quantum");
    let a = env.define(
        "ticket",
        json!({"name": "ticket", "bap": "BAP-04", "decimals": 2}),
    );
    assert_class_rule(env.issue("ticket", 150, "alice"), "BAP-04");
    let tpl = env.issue("ticket", 1_000, "alice").unwrap();
    env.settle(tpl);
    // A fractional payment is refused; a whole one passes with whole change.
    assert_class_rule(env.pay("alice", &a, 150), "BAP-04");
    {
        let t = env.pay("alice", &a, 200).unwrap();
        env.settle(t);
    }
    assert_eq!(env.balance("alice", &a), 800);
    assert_eq!(env.balance("bob", &a), 200);
    assert!(env.outputs("alice", &a).iter().all(|(_, n)| n % 100 == 0));
    // A fractional output next to a whole spend is refused too.
    let r = env.build(json!([
        {"type": "spend_account", "account_alias": "alice", "asset_id": a.to_hex(), "amount": 100},
        {"type": "control_address", "address": env.bob.clone(), "asset_id": a.to_hex(), "amount": 50},
        {"type": "control_address", "address": env.bob.clone(), "asset_id": a.to_hex(), "amount": 50},
    ]));
    assert_class_rule(r, "BAP-04");
}

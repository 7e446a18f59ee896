#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Real Bytom v1.1.0 (solonet) transactions and blocks from
//! `crates/tributary/tests/fixtures/reference/` (see the README there): every signed transaction
//! (spends, an issuance, retirements, a 2-of-3 multisig spend) passes the stateless checks at the
//! height it was mined, a tampered copy fails naming the input, every block's coinbase pays exactly
//! the subsidy plus the fees we compute, and block 1 validates on the genesis block.

mod common;

use std::sync::Arc;

use ledger::{
    ChainParams, TxRejection, UtxoEntry, UtxoKind, UtxoView, ViewError, check_tx, genesis_change_set,
    validate_block,
};
use serde_json::Value;
use types::{Block, Hash, Limits, Profile, Transaction};

const TXS: &str = include_str!("../../tributary/tests/fixtures/reference/bytom_transactions.json");
const BLOCKS: &str = include_str!("../../tributary/tests/fixtures/reference/bytom_blocks.json");

fn txs() -> Vec<(String, u64, Transaction)> {
    let v: Value = serde_json::from_str(TXS).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let raw = hex::decode(t["raw_transaction"].as_str().unwrap()).unwrap();
            let tx = Transaction::decode(&raw, Profile::Main, &Limits::default()).unwrap();
            assert_eq!(tx.id().to_hex(), t["tx_id"].as_str().unwrap());
            (
                t["name"].as_str().unwrap().to_string(),
                t["block_height"].as_u64().unwrap(),
                tx,
            )
        })
        .collect()
}

fn blocks() -> Vec<Block> {
    let v: Value = serde_json::from_str(BLOCKS).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let raw = hex::decode(b["raw_block"].as_str().unwrap()).unwrap();
            Block::decode(&raw, Profile::Main, &Limits::default()).unwrap()
        })
        .collect()
}

struct Everything;
impl UtxoView for Everything {
    fn utxo(&self, _: &Hash) -> Result<Option<UtxoEntry>, ViewError> {
        Ok(Some(UtxoEntry {
            kind: UtxoKind::Normal,
            height: 0,
        }))
    }
    fn is_claimed(&self, _: &Hash) -> Result<bool, ViewError> {
        Ok(false)
    }
}

#[test]
fn every_signed_transaction_passes_and_a_tampered_one_names_its_input() {
    let params = ChainParams::main_devnet();
    let mut checked = 0;
    let mut tampered = 0;
    for (name, height, tx) in txs() {
        let r = check_tx(Arc::new(tx.clone()), &params, height);
        if tx.is_coinbase() {
            assert_eq!(r, Err(TxRejection::MisplacedCoinbase { input: 0 }), "{name}");
            continue;
        }
        let c = r.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(c.fee(), tx.checked_fee().unwrap().get(), "{name}");
        assert!(c.gas_used() > tx.serialized_size(), "{name}");
        checked += 1;
        for i in 0..tx.inputs().len() {
            let args = tx.inputs()[i].arguments();
            if args.is_empty() || args[0].len() != 64 {
                continue;
            }
            let bad = common::tamper_sig(&tx, i);
            match check_tx(Arc::new(bad), &params, height) {
                Err(TxRejection::Vm { input, .. }) => assert_eq!(input, i, "{name}"),
                other => panic!("{name} input {i}: {other:?}"),
            }
            tampered += 1;
        }
    }
    assert_eq!(checked, 8);
    assert!(tampered >= 8, "{tampered}");
}

/// Bytom `block.go` `checkCoinbaseAmount`: the coinbase pays the subsidy plus every fee.
#[test]
fn coinbase_pays_subsidy_plus_fees_in_every_real_block() {
    let params = ChainParams::main_devnet();
    for block in blocks() {
        let h = block.header().height;
        if h == 0 {
            continue;
        }
        let mut fees = 0u64;
        for tx in block.transactions().iter().skip(1) {
            fees += check_tx(Arc::new(tx.clone()), &params, h).unwrap().fee();
        }
        let cb = &block.transactions()[0];
        assert_eq!(cb.outputs().len(), 1);
        assert_eq!(
            cb.outputs()[0].amount().get(),
            params.block_subsidy(h).unwrap() + fees,
            "height {h}"
        );
    }
}

#[test]
fn block_one_validates_on_genesis() {
    let params = ChainParams::main_devnet();
    let all = blocks();
    let genesis = &all[0];
    let one = &all[1];
    assert_eq!(one.header().height, 1);
    let g = genesis_change_set(genesis);
    assert_eq!(g.height, 0);
    assert_eq!(g.created.len(), 1);
    assert_eq!(g.created[0].1.kind, UtxoKind::Normal);
    let cs = validate_block(one, genesis.header(), &Everything, &params, &[]).unwrap();
    assert_eq!(cs.block_hash, one.hash());
    assert_eq!(
        cs.created,
        vec![(
            one.transactions()[0].ids().outputs[0].id,
            UtxoEntry {
                kind: UtxoKind::Coinbase,
                height: 1
            }
        )]
    );
    // A version regression is refused.
    let mut parent = genesis.header().clone();
    parent.version = 2;
    assert!(validate_block(one, &parent, &Everything, &params, &[]).is_err());
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The asset classes (BAP-01 … BAP-04) enforced in blocks and in the mempool's stateful check, and
//! apply/unwind of the asset state.

mod common;

use std::sync::Arc;

use common::keys;
use ledger::testkit::{self, Coin, Key};
use ledger::{
    AssetChanges, BlockRejection, ChainParams, ChangeSet, LotId, MemoryUtxoSet, TxRejection, check_tx,
    check_tx_against, validate_block,
};
use types::asset_class::{AssetClass, DefinitionError};
use types::block::BlockHeader;
use types::{AssetId, Block, Profile, Transaction};

const BIT: &[u8] = br#"{"name":"points","decimals":2}"#;
const ATOMIC: &[u8] = br#"{"name":"bond series A","bap":"BAP-02"}"#;
const QUARK: &[u8] = br#"{"bap":"BAP-03","name":"sword #1"}"#;
const QUANTUM: &[u8] = br#"{"bap":"BAP-04","decimals":2,"name":"ticket"}"#;

/// A main chain in memory: blocks validated and applied with their asset changes, kept to unwind.
struct Chain {
    params: ChainParams,
    set: MemoryUtxoSet,
    tip: BlockHeader,
    applied: Vec<(BlockHeader, ChangeSet, AssetChanges, Vec<u8>)>,
    miner: Key,
}

impl Chain {
    fn new() -> Chain {
        let mut tip = BlockHeader::empty(Profile::Main);
        tip.version = 1;
        tip.height = 10_000;
        Chain {
            params: ChainParams::main_mainnet(),
            set: MemoryUtxoSet::new(),
            tip,
            applied: Vec::new(),
            miner: Key::from_seed(b"miner"),
        }
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

    fn try_push(&mut self, txs: Vec<Transaction>) -> Result<(), BlockRejection> {
        let block = self.block(txs);
        let cs = validate_block(&block, &self.tip, &self.set, &self.params, &[])?;
        let before = self.set.encode();
        let assets = self.set.apply_block(&block, &cs).unwrap();
        self.applied.push((self.tip.clone(), cs, assets, before));
        self.tip = block.header().clone();
        Ok(())
    }

    fn push(&mut self, txs: Vec<Transaction>) {
        self.try_push(txs).unwrap();
    }

    fn unwind(&mut self) {
        let (parent, cs, assets, before) = self.applied.pop().unwrap();
        self.set.unwind_block(&cs, &assets).unwrap();
        assert_eq!(self.set.encode(), before, "unwind restores the state exactly");
        self.tip = parent;
    }

    /// The mempool path: stateless then stateful checks against the chain's state.
    fn check(&self, tx: &Transaction) -> Result<(), TxRejection> {
        let height = self.tip.height + 1;
        let c = check_tx(Arc::new(tx.clone()), &self.params, height)?;
        check_tx_against(&c, &self.set, height, &self.params)
    }

    /// The block path: the transaction's rejection inside a block.
    fn reject(&self, txs: Vec<Transaction>) -> TxRejection {
        let block = self.block(txs);
        match validate_block(&block, &self.tip, &self.set, &self.params, &[]) {
            Err(BlockRejection::Tx { reason, .. }) => reason,
            other => panic!("expected a transaction rejection, got {other:?}"),
        }
    }

    fn record(&self, asset: &AssetId) -> Option<AssetClass> {
        self.set.assets().find(|(a, _)| *a == asset).map(|(_, r)| r.class)
    }

    fn lot(&self, coin: &Coin) -> Option<LotId> {
        self.set
            .lots()
            .find(|(id, _)| **id == coin.output_id)
            .map(|(_, l)| *l)
    }
}

fn out(k: &Key, asset: AssetId, amount: u64) -> types::TxOutput {
    testkit::output(k.program(), asset, amount).unwrap()
}

fn issue(issuer: &Key, def: &[u8], nonce: &[u8], amount: u64, outputs: Vec<types::TxOutput>) -> Transaction {
    testkit::signed(
        Profile::Main,
        vec![(testkit::issuance(issuer, def, nonce, amount).unwrap(), issuer)],
        outputs,
    )
    .unwrap()
}

fn spend(inputs: &[(&Coin, &Key)], outputs: Vec<types::TxOutput>) -> Transaction {
    testkit::transfer(Profile::Main, inputs, outputs).unwrap()
}

#[test]
fn bit_assets_are_unrestricted() {
    let ks = keys(3);
    let mut chain = Chain::new();
    let asset = testkit::issued_asset(&ks[0], BIT);
    let t = issue(
        &ks[0],
        BIT,
        b"1",
        1_001,
        vec![out(&ks[1], asset, 333), out(&ks[2], asset, 668)],
    );
    chain.check(&t).unwrap();
    chain.push(vec![t.clone()]);
    assert_eq!(chain.record(&asset), Some(AssetClass::Bit));
    assert_eq!(chain.set.lots().count(), 0, "only BAP-02 outputs have lots");
    // A second issuance, merging, splitting into odd amounts, retiring: all fine.
    let coins = testkit::coins_of(&t);
    let again = issue(&ks[0], BIT, b"2", 7, vec![out(&ks[1], asset, 7)]);
    let merge = spend(
        &[(&coins[0], &ks[1]), (&coins[1], &ks[2])],
        vec![out(&ks[1], asset, 1_000), testkit::retirement(asset, 1).unwrap()],
    );
    chain.check(&merge).unwrap();
    chain.push(vec![again, merge]);
    // A definition that is not JSON claims nothing: BAP-01.
    let raw = b"\x00\x01 not json at all";
    let other = testkit::issued_asset(&ks[0], raw);
    chain.push(vec![issue(&ks[0], raw, b"3", 5, vec![out(&ks[1], other, 5)])]);
    assert_eq!(chain.record(&other), Some(AssetClass::Bit));
    chain.unwind();
    chain.unwind();
    chain.unwind();
    assert!(chain.set.is_empty() || chain.set.assets().count() == 0);
}

#[test]
fn atomic_lots_split_but_never_merge() {
    let ks = keys(3);
    let mut chain = Chain::new();
    let asset = testkit::issued_asset(&ks[0], ATOMIC);
    let t1 = issue(&ks[0], ATOMIC, b"lot 1", 100, vec![out(&ks[1], asset, 100)]);
    let t2 = issue(&ks[0], ATOMIC, b"lot 2", 50, vec![out(&ks[2], asset, 50)]);
    chain.push(vec![t1.clone(), t2.clone()]);
    assert_eq!(chain.record(&asset), Some(AssetClass::Atomic));
    let l1 = LotId(t1.ids().inputs[0].input_id);
    let l2 = LotId(t2.ids().inputs[0].input_id);
    assert_ne!(l1, l2, "each issuance starts its own lot");
    let a = testkit::coins_of(&t1).remove(0);
    let b = testkit::coins_of(&t2).remove(0);
    assert_eq!(chain.lot(&a), Some(l1));
    assert_eq!(chain.lot(&b), Some(l2));

    // Splitting a lot: both parts keep it.
    let split = spend(
        &[(&a, &ks[1])],
        vec![out(&ks[1], asset, 60), out(&ks[2], asset, 40)],
    );
    chain.check(&split).unwrap();
    chain.push(vec![split.clone()]);
    let parts = testkit::coins_of(&split);
    assert_eq!(chain.lot(&parts[0]), Some(l1));
    assert_eq!(chain.lot(&parts[1]), Some(l1));
    assert_eq!(chain.lot(&a), None, "a spent output's lot is gone");

    // Merging two lots is refused, in the mempool and in a block.
    let merge = spend(
        &[(&parts[0], &ks[1]), (&b, &ks[2])],
        vec![out(&ks[1], asset, 110)],
    );
    let want = TxRejection::LotMerge {
        asset,
        input: 1,
        first: 0,
    };
    assert_eq!(chain.check(&merge), Err(want.clone()));
    assert_eq!(chain.reject(vec![merge]), want);
    // So is an issuance joining an existing lot, or two issuances in one transaction.
    let join = testkit::signed(
        Profile::Main,
        vec![
            (testkit::spend(&b), &ks[2]),
            (testkit::issuance(&ks[0], ATOMIC, b"lot 3", 5).unwrap(), &ks[0]),
        ],
        vec![out(&ks[2], asset, 55)],
    )
    .unwrap();
    assert!(matches!(
        chain.check(&join),
        Err(TxRejection::LotMerge { input: 1, .. })
    ));
    let twice = testkit::signed(
        Profile::Main,
        vec![
            (testkit::issuance(&ks[0], ATOMIC, b"lot 4", 5).unwrap(), &ks[0]),
            (testkit::issuance(&ks[0], ATOMIC, b"lot 5", 5).unwrap(), &ks[0]),
        ],
        vec![out(&ks[2], asset, 10)],
    )
    .unwrap();
    assert!(matches!(
        chain.reject(vec![twice]),
        TxRejection::LotMerge { input: 1, .. }
    ));

    // Re-joining the two parts of one lot is not a merge; retiring part of it is fine.
    let rejoin = spend(
        &[(&parts[0], &ks[1]), (&parts[1], &ks[2])],
        vec![out(&ks[1], asset, 90), testkit::retirement(asset, 10).unwrap()],
    );
    chain.check(&rejoin).unwrap();
    // A lot created and spent inside one block: the block's changes net it out.
    let whole = testkit::coins_of(&rejoin).remove(0);
    let onward = spend(&[(&whole, &ks[1])], vec![out(&ks[2], asset, 90)]);
    chain.push(vec![rejoin, onward.clone()]);
    let (_, _, changes, _) = chain.applied.last().unwrap();
    assert_eq!(changes.lots_spent.len(), 2);
    assert_eq!(changes.lots_created.len(), 1);
    assert_eq!(chain.lot(&testkit::coins_of(&onward)[0]), Some(l1));
    // The lot of one block cannot merge with the lot of another in a later block either.
    let last = testkit::coins_of(&onward).remove(0);
    let merge = spend(&[(&last, &ks[2]), (&b, &ks[2])], vec![out(&ks[1], asset, 140)]);
    assert!(matches!(chain.reject(vec![merge]), TxRejection::LotMerge { .. }));

    chain.unwind();
    assert_eq!(chain.lot(&parts[0]), Some(l1), "unwind restores the spent lots");
    chain.unwind();
    assert_eq!(chain.lot(&a), Some(l1));
    chain.unwind();
    assert_eq!(chain.record(&asset), None);
    assert_eq!(chain.set.lots().count(), 0);
}

#[test]
fn quark_is_one_unique_item() {
    let ks = keys(3);
    let mut chain = Chain::new();
    let asset = testkit::issued_asset(&ks[0], QUARK);
    // Amount 2 is refused at the issuance, and as an output.
    let two = issue(&ks[0], QUARK, b"a", 2, vec![out(&ks[1], asset, 2)]);
    let want = TxRejection::AssetAmount {
        what: "input",
        index: 0,
        class: AssetClass::Quark,
        amount: 2,
    };
    assert_eq!(chain.check(&two), Err(want.clone()));
    assert_eq!(chain.reject(vec![two]), want);

    let t = issue(&ks[0], QUARK, b"a", 1, vec![out(&ks[1], asset, 1)]);
    chain.check(&t).unwrap();
    // Issued twice in one block: refused.
    let t2 = issue(&ks[0], QUARK, b"b", 1, vec![out(&ks[2], asset, 1)]);
    assert_eq!(
        chain.reject(vec![t.clone(), t2.clone()]),
        TxRejection::QuarkReissued { input: 0, asset }
    );
    chain.push(vec![t.clone()]);
    assert_eq!(chain.record(&asset), Some(AssetClass::Quark));
    // Issued again in a later block: refused in the mempool and in a block.
    assert_eq!(
        chain.check(&t2),
        Err(TxRejection::QuarkReissued { input: 0, asset })
    );
    assert_eq!(
        chain.reject(vec![t2.clone()]),
        TxRejection::QuarkReissued { input: 0, asset }
    );
    // Transferred whole; then retired (amount 1).
    let c = testkit::coins_of(&t).remove(0);
    let give = spend(&[(&c, &ks[1])], vec![out(&ks[2], asset, 1)]);
    chain.check(&give).unwrap();
    chain.push(vec![give.clone()]);
    let c2 = testkit::coins_of(&give).remove(0);
    let retire = spend(&[(&c2, &ks[2])], vec![testkit::retirement(asset, 1).unwrap()]);
    chain.check(&retire).unwrap();
    chain.push(vec![retire]);
    // Retired, it still cannot be issued again.
    assert_eq!(
        chain.check(&t2),
        Err(TxRejection::QuarkReissued { input: 0, asset })
    );
    // Each BAP-03 asset ID is its own item: another definition is another quark.
    let other_def = br#"{"bap":"BAP-03","name":"sword #2"}"#;
    let other = testkit::issued_asset(&ks[0], other_def);
    assert_ne!(other, asset);
    chain
        .check(&issue(&ks[0], other_def, b"a", 1, vec![out(&ks[1], other, 1)]))
        .unwrap();
    // Unwinding the issuing block frees the item to be issued (once) on the new branch.
    chain.unwind();
    chain.unwind();
    chain.unwind();
    assert_eq!(chain.record(&asset), None);
    chain.check(&t2).unwrap();
}

#[test]
fn quantum_amounts_are_whole_units() {
    let ks = keys(3);
    let mut chain = Chain::new();
    let asset = testkit::issued_asset(&ks[0], QUANTUM);
    let class = AssetClass::Quantum { decimals: 2 };
    // Issuing a non-multiple of the unit (100).
    let bad = issue(&ks[0], QUANTUM, b"a", 250, vec![out(&ks[1], asset, 250)]);
    assert!(matches!(
        chain.check(&bad),
        Err(TxRejection::AssetAmount {
            what: "input",
            amount: 250,
            ..
        })
    ));
    // Whole units issued, but split into halves.
    let halves = issue(
        &ks[0],
        QUANTUM,
        b"a",
        300,
        vec![out(&ks[1], asset, 150), out(&ks[1], asset, 150)],
    );
    let want = TxRejection::AssetAmount {
        what: "output",
        index: 0,
        class,
        amount: 150,
    };
    assert_eq!(chain.check(&halves), Err(want.clone()));
    assert_eq!(chain.reject(vec![halves]), want);
    let t = issue(
        &ks[0],
        QUANTUM,
        b"a",
        300,
        vec![out(&ks[1], asset, 200), out(&ks[2], asset, 100)],
    );
    chain.check(&t).unwrap();
    chain.push(vec![t.clone()]);
    assert_eq!(chain.record(&asset), Some(class));
    let coins = testkit::coins_of(&t);
    // Retiring half a unit is refused; a whole unit is fine; fungible: merging units is fine.
    let half = spend(
        &[(&coins[0], &ks[1])],
        vec![
            out(&ks[1], asset, 100),
            testkit::retirement(asset, 50).unwrap(),
            out(&ks[1], asset, 50),
        ],
    );
    assert!(matches!(
        chain.reject(vec![half]),
        TxRejection::AssetAmount {
            what: "output",
            index: 1,
            amount: 50,
            ..
        }
    ));
    let merge = spend(
        &[(&coins[0], &ks[1]), (&coins[1], &ks[2])],
        vec![out(&ks[1], asset, 200), testkit::retirement(asset, 100).unwrap()],
    );
    chain.check(&merge).unwrap();
    chain.push(vec![merge]);
    // A second issuance of a quantum asset is allowed (only quarks are issued once).
    chain.push(vec![issue(
        &ks[0],
        QUANTUM,
        b"b",
        500,
        vec![out(&ks[2], asset, 500)],
    )]);
    chain.unwind();
    chain.unwind();
    chain.unwind();
    assert!(chain.set.is_empty() || chain.set.assets().count() == 0);
}

#[test]
fn definition_claiming_a_class_but_malformed_is_rejected() {
    let ks = keys(2);
    let chain = Chain::new();
    for (def, expected) in [
        (&br#"{"bap":"BAP-03","name":"x""#[..], "malformed"),
        (br#"{"bap":"BAP-3"}"#, "unknown"),
        (br#"{"bap":["BAP-03"]}"#, "not a string"),
        (br#"{"bap":"BAP-04","decimals":1.5}"#, "decimals"),
        (br#"{"bap":"BAP-02","bap":"BAP-02"}"#, "duplicate"),
    ] {
        let asset = testkit::issued_asset(&ks[0], def);
        let t = issue(&ks[0], def, b"n", 1, vec![out(&ks[1], asset, 1)]);
        let r = chain.check(&t);
        let ok = match (&r, expected) {
            (Err(TxRejection::AssetDefinition { input: 0, error }), _) => matches!(
                (error, expected),
                (DefinitionError::Malformed { .. }, "malformed")
                    | (DefinitionError::UnknownClass { .. }, "unknown")
                    | (DefinitionError::NotAString, "not a string")
                    | (DefinitionError::Decimals, "decimals")
                    | (DefinitionError::DuplicateMember { .. }, "duplicate")
            ),
            _ => false,
        };
        assert!(ok, "{} -> {r:?}", String::from_utf8_lossy(def));
        assert!(matches!(
            chain.reject(vec![t]),
            TxRejection::AssetDefinition { input: 0, .. }
        ));
    }
}

#[test]
fn window_validation_sees_earlier_blocks_assets() {
    // A quark issued in block 1 of a window and again in block 2 of the same window is refused.
    let ks = keys(2);
    let chain = Chain::new();
    let asset = testkit::issued_asset(&ks[0], QUARK);
    let b1 = chain.block(vec![issue(&ks[0], QUARK, b"a", 1, vec![out(&ks[1], asset, 1)])]);
    let mut next = Chain::new();
    next.tip = b1.header().clone();
    let b2 = next.block(vec![issue(&ks[0], QUARK, b"b", 1, vec![out(&ks[1], asset, 1)])]);
    match ledger::validate_window(&[b1.clone(), b2], &chain.tip, &chain.set, &chain.params) {
        Err(BlockRejection::Window {
            position: 1, reason, ..
        }) => assert!(
            matches!(
                *reason,
                BlockRejection::Tx {
                    reason: TxRejection::QuarkReissued { .. },
                    ..
                }
            ),
            "{reason:?}"
        ),
        other => panic!("{other:?}"),
    }
    // The asset changes of block 1 alone, derived from the block and the state.
    let changes = ledger::asset_changes(&b1, &chain.set).unwrap();
    assert_eq!(changes.registered.len(), 1);
    assert_eq!(changes.registered[0].0, asset);
}

/// Sidechain claims (pegin) register the asset from the definition they carry and follow the same
/// rules; burns (cross-chain outputs) too.
mod sidechain {
    use super::*;
    use types::tx::{CrossChainInput, SpendCommitment, TxInput};
    use types::{Amount, InputKind, OutputKind, TxOutput};

    fn params(federation: &Key) -> ChainParams {
        ChainParams {
            federation_program: Some(federation.program().to_vec()),
            ..ChainParams::side_devnet()
        }
    }

    /// A claim of `amount` of the asset `issuer` defines with `def`, for the main-chain output `source`.
    fn claim(issuer: &Key, def: &[u8], amount: u64, source: u8) -> TxInput {
        TxInput::new(InputKind::CrossChain(CrossChainInput {
            commitment: SpendCommitment {
                source_id: types::Hash([source; 32]),
                asset_id: testkit::issued_asset(issuer, def),
                amount: Amount::new(amount).unwrap(),
                source_position: 0,
                vm_version: 1,
                control_program: issuer.program().to_vec(),
                suffix: Vec::new(),
            },
            issuance_vm_version: 1,
            asset_definition: def.to_vec(),
            issuance_program: issuer.program().to_vec(),
            arguments: Vec::new(),
        }))
    }

    fn side_out(k: &Key, asset: AssetId, amount: u64) -> TxOutput {
        TxOutput::new(
            OutputKind::Control,
            asset,
            Amount::new(amount).unwrap(),
            k.program().to_vec(),
        )
    }

    fn check(p: &ChainParams, set: &MemoryUtxoSet, tx: &Transaction) -> Result<(), TxRejection> {
        let c = check_tx(Arc::new(tx.clone()), p, 10)?;
        check_tx_against(&c, set, 10, p)
    }

    #[test]
    fn claims_follow_the_classes() {
        let ks = keys(2);
        let fed = Key::from_seed(b"federation");
        let p = params(&fed);
        let set = MemoryUtxoSet::new();
        let quark = testkit::issued_asset(&ks[0], QUARK);
        let signed = |inputs: Vec<TxInput>, outputs| {
            testkit::signed(
                Profile::Side,
                inputs.into_iter().map(|i| (i, &fed)).collect(),
                outputs,
            )
            .unwrap()
        };
        // A quark claimed whole: fine; claimed as 2: refused.
        let ok = signed(vec![claim(&ks[0], QUARK, 1, 1)], vec![side_out(&ks[1], quark, 1)]);
        check(&p, &set, &ok).unwrap();
        let two = signed(vec![claim(&ks[0], QUARK, 2, 1)], vec![side_out(&ks[1], quark, 2)]);
        assert!(matches!(
            check(&p, &set, &two),
            Err(TxRejection::AssetAmount {
                what: "input",
                amount: 2,
                ..
            })
        ));
        // A claim whose definition claims a class but is malformed.
        let bad_def = br#"{"bap":"BAP-03""#;
        let bad_asset = testkit::issued_asset(&ks[0], bad_def);
        let bad = signed(
            vec![claim(&ks[0], bad_def, 1, 2)],
            vec![side_out(&ks[1], bad_asset, 1)],
        );
        assert!(matches!(
            check(&p, &set, &bad),
            Err(TxRejection::AssetDefinition { input: 0, .. })
        ));
        // Two claims of one BAP-02 asset in one transaction are two lots.
        let atomic = testkit::issued_asset(&ks[0], ATOMIC);
        let merge = signed(
            vec![claim(&ks[0], ATOMIC, 5, 3), claim(&ks[0], ATOMIC, 6, 4)],
            vec![side_out(&ks[1], atomic, 11)],
        );
        assert!(matches!(
            check(&p, &set, &merge),
            Err(TxRejection::LotMerge {
                input: 1,
                first: 0,
                ..
            })
        ));
        // A burn (cross-chain output) of half a quantum unit.
        let quantum = testkit::issued_asset(&ks[0], QUANTUM);
        let burn = signed(
            vec![claim(&ks[0], QUANTUM, 200, 5)],
            vec![
                side_out(&ks[1], quantum, 150),
                TxOutput::new(
                    OutputKind::CrossChain,
                    quantum,
                    Amount::new(50).unwrap(),
                    ks[1].program().to_vec(),
                ),
            ],
        );
        assert!(matches!(
            check(&p, &set, &burn),
            Err(TxRejection::AssetAmount {
                what: "output",
                index: 0,
                amount: 150,
                ..
            })
        ));

        // In blocks: the claim registers the quark and starts a lot for the BAP-02 claim.
        let lot_claim = signed(
            vec![claim(&ks[0], ATOMIC, 5, 3)],
            vec![side_out(&ks[1], atomic, 5)],
        );
        let mut parent = BlockHeader::empty(Profile::Side);
        parent.version = 1;
        parent.height = 9;
        let cb = testkit::coinbase(
            Profile::Side,
            10,
            vec![testkit::output(&[0x51], AssetId::BTM, 0).unwrap()],
        )
        .unwrap();
        let block = testkit::block(&parent, vec![cb, ok.clone(), lot_claim.clone()], 500).unwrap();
        let cs = validate_block(&block, &parent, &set, &p, &[]).unwrap();
        let mut set = set;
        let before = set.encode();
        let changes = set.apply_block(&block, &cs).unwrap();
        assert_eq!(changes.registered.len(), 2);
        let coin = testkit::coins_of(&lot_claim).remove(0);
        assert_eq!(
            set.lots().find(|(id, _)| **id == coin.output_id).map(|(_, l)| *l),
            Some(LotId(lot_claim.ids().inputs[0].input_id))
        );
        // A quark pegged out and in again is claimed from another main-chain output: allowed.
        let again = signed(vec![claim(&ks[0], QUARK, 1, 9)], vec![side_out(&ks[1], quark, 1)]);
        check(&p, &set, &again).unwrap();
        set.unwind_block(&cs, &changes).unwrap();
        assert_eq!(set.encode(), before);
    }
}

/// Random sequences of issuances, splits, merges and unwinds against a model of who holds which lot:
/// every block is accepted or refused exactly as the model says, and every unwind restores the state
/// byte for byte (checked inside `Chain::unwind`).
mod model {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    #[derive(Clone, Debug)]
    enum Op {
        IssueLot(u64),
        IssueQuark(u8),
        Split(usize, u64),
        Merge(usize, usize),
        Unwind,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (2u64..1_000).prop_map(Op::IssueLot),
            (0u8..3).prop_map(Op::IssueQuark),
            (0usize..16, 1u64..1_000).prop_map(|(i, c)| Op::Split(i, c)),
            (0usize..16, 0usize..16).prop_map(|(i, j)| Op::Merge(i, j)),
            Just(Op::Unwind),
        ]
    }

    #[derive(Clone, Default)]
    struct Model {
        /// Unspent BAP-02 coins with the lot (by issuance number) they belong to.
        coins: Vec<(Coin, u32)>,
        quarks: BTreeSet<u8>,
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn lots_and_quarks_follow_the_model(ops in proptest::collection::vec(op(), 1..14)) {
            let ks = keys(2);
            let asset = testkit::issued_asset(&ks[0], ATOMIC);
            let mut chain = Chain::new();
            let mut model = Model::default();
            let mut snapshots: Vec<Model> = Vec::new();
            let mut nonce: u32 = 0;
            for op in ops {
                nonce += 1;
                let n = nonce.to_be_bytes();
                let (tx, accept, next) = match op {
                    Op::Unwind => {
                        if let Some(m) = snapshots.pop() {
                            chain.unwind();
                            model = m;
                        }
                        continue;
                    }
                    Op::IssueLot(amount) => {
                        let tx = issue(&ks[0], ATOMIC, &n, amount, vec![out(&ks[1], asset, amount)]);
                        let mut next = model.clone();
                        next.coins.push((testkit::coins_of(&tx).remove(0), nonce));
                        (tx, true, next)
                    }
                    Op::IssueQuark(which) => {
                        let def = format!(r#"{{"bap":"BAP-03","n":{which}}}"#);
                        let quark = testkit::issued_asset(&ks[0], def.as_bytes());
                        let tx = issue(&ks[0], def.as_bytes(), &n, 1, vec![out(&ks[1], quark, 1)]);
                        let mut next = model.clone();
                        let fresh = next.quarks.insert(which);
                        (tx, fresh, next)
                    }
                    Op::Split(i, cut) => {
                        if model.coins.is_empty() {
                            continue;
                        }
                        let i = i % model.coins.len();
                        let (coin, lot) = model.coins[i].clone();
                        let total = coin.commitment.amount.get();
                        if total < 2 {
                            continue;
                        }
                        let cut = 1 + cut % (total - 1);
                        let tx = spend(&[(&coin, &ks[1])], vec![out(&ks[1], asset, cut), out(&ks[1], asset, total - cut)]);
                        let mut next = model.clone();
                        next.coins.remove(i);
                        next.coins.extend(testkit::coins_of(&tx).into_iter().map(|c| (c, lot)));
                        (tx, true, next)
                    }
                    Op::Merge(i, j) => {
                        if model.coins.len() < 2 {
                            continue;
                        }
                        let i = i % model.coins.len();
                        let j = j % model.coins.len();
                        if i == j {
                            continue;
                        }
                        let (a, la) = model.coins[i].clone();
                        let (b, lb) = model.coins[j].clone();
                        let total = a.commitment.amount.get() + b.commitment.amount.get();
                        let tx = spend(&[(&a, &ks[1]), (&b, &ks[1])], vec![out(&ks[1], asset, total)]);
                        let mut next = model.clone();
                        next.coins.retain(|(c, _)| c.output_id != a.output_id && c.output_id != b.output_id);
                        next.coins.push((testkit::coins_of(&tx).remove(0), la));
                        (tx, la == lb, next)
                    }
                };
                let before = chain.set.encode();
                match chain.try_push(vec![tx]) {
                    Ok(()) => {
                        prop_assert!(accept, "accepted a block the model refuses");
                        snapshots.push(std::mem::replace(&mut model, next));
                    }
                    Err(BlockRejection::Tx { reason, .. }) => {
                        prop_assert!(!accept, "refused a valid block: {reason:?}");
                        let named =
                            matches!(reason, TxRejection::LotMerge { .. } | TxRejection::QuarkReissued { .. });
                        prop_assert!(named, "unexpected rejection {:?}", reason);
                        prop_assert_eq!(chain.set.encode(), before);
                    }
                    Err(other) => prop_assert!(false, "{other:?}"),
                }
                // Every unspent BAP-02 output the model knows carries its lot in the state, and lots
                // of one issuance agree.
                for (coin, lot) in &model.coins {
                    let state = chain.lot(coin).unwrap();
                    for (other, other_lot) in &model.coins {
                        prop_assert_eq!(lot == other_lot, Some(state) == chain.lot(other));
                    }
                }
                prop_assert_eq!(chain.set.lots().count(), model.coins.len());
            }
            while !snapshots.is_empty() {
                snapshots.pop();
                chain.unwind();
            }
            prop_assert!(chain.set.is_empty());
        }
    }
}

//! Generated chains: whatever blocks the wallet indexes, unwinding them one by one gives back every
//! earlier state exactly, re-applying gives the same states again, and what is on disk equals what is
//! in memory.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TempDir;

use crypto::chainkd::XPrv;
use proptest::prelude::*;
use types::{
    AssetId, Block, BlockHeader, Hash, InputKind, Network, OutputKind, Profile, SpendCommitment, SpendInput,
    Transaction, TxData, TxInput, TxOutput,
};
use wallet::{AnnotatedTx, Balance, KdfParams, TxQuery, Wallet, WalletUtxo};

type Snapshot = (
    Option<(u64, Hash)>,
    Vec<WalletUtxo>,
    Vec<Balance>,
    Vec<AnnotatedTx>,
);

fn snapshot(w: &Wallet) -> Snapshot {
    (
        w.indexed_tip().unwrap(),
        w.unspent_outputs(None, None).unwrap(),
        w.balances(None).unwrap(),
        w.transactions(&TxQuery::default()).unwrap(),
    )
}

fn tmp() -> TempDir {
    TempDir::new("prop")
}

/// One generated transaction: which known outputs it spends (indexes into the live list, taken
/// modulo its length) and where its outputs go (index into the programs: ours first, then foreign).
#[derive(Debug, Clone)]
struct GenTx {
    spends: Vec<usize>,
    outputs: Vec<(usize, u64)>,
}

fn gen_blocks() -> impl Strategy<Value = Vec<Vec<GenTx>>> {
    let tx = (
        prop::collection::vec(0usize..64, 0..3),
        prop::collection::vec((0usize..6, 1u64..1_000_000), 1..4),
    )
        .prop_map(|(spends, outputs)| GenTx { spends, outputs });
    prop::collection::vec(prop::collection::vec(tx, 1..4), 1..7)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn unwinding_restores_every_earlier_state(blocks in gen_blocks()) {
        let dir = tmp();
        let w = Wallet::open(&dir, Profile::Side, Network::Devnet, KdfParams::FAST_INSECURE).unwrap();
        let xpub = XPrv::root(b"index-prop").xpub();
        w.create_account(&[xpub], 1, "a").unwrap();
        let mut programs: Vec<Vec<u8>> = (0..3).map(|_| w.create_receiver("a").unwrap().control_program).collect();
        // Foreign programs.
        programs.push(vec![0x51]);
        programs.push(vm::standard::p2wpkh_program(&[7u8; 20]));
        programs.push(vm::standard::retire_program(b"gone"));

        // Every output created so far, as (id, source id, position, amount, program).
        let mut live: Vec<(Hash, Hash, u64, u64, Vec<u8>)> = Vec::new();
        let mut chain: Vec<Block> = Vec::new();
        let mut states = vec![snapshot(&w)];
        for (h, txs) in blocks.iter().enumerate() {
            let mut built = Vec::new();
            for g in txs {
                let mut inputs = Vec::new();
                let mut taken = Vec::new();
                for s in &g.spends {
                    if live.is_empty() {
                        break;
                    }
                    let k = s % live.len();
                    if taken.contains(&k) {
                        continue;
                    }
                    taken.push(k);
                    let (_, source, pos, amount, program) = live[k].clone();
                    inputs.push(TxInput::new(InputKind::Spend(SpendInput {
                        commitment: SpendCommitment {
                            source_id: source,
                            asset_id: AssetId::BTM,
                            amount: types::Amount::new(amount).unwrap(),
                            source_position: pos,
                            vm_version: 1,
                            control_program: program,
                            suffix: Vec::new(),
                        },
                        arguments: Vec::new(),
                    })));
                }
                taken.sort_unstable();
                for k in taken.into_iter().rev() {
                    live.remove(k);
                }
                // A nonce output keeps otherwise equal transactions apart.
                let mut outputs: Vec<TxOutput> = g
                    .outputs
                    .iter()
                    .map(|(p, n)| {
                        TxOutput::new(OutputKind::Control, AssetId::BTM, types::Amount::new(*n).unwrap(), programs[*p].clone())
                    })
                    .collect();
                outputs.push(TxOutput::new(
                    OutputKind::Control,
                    AssetId::BTM,
                    types::Amount::new(u64::try_from(h * 1000 + built.len() + 1).unwrap()).unwrap(),
                    vm::standard::retire_program(&(h as u64).to_le_bytes()),
                ));
                let tx = Transaction::new(Profile::Side, TxData { version: 1, time_range: 0, inputs, outputs }).unwrap();
                let ids = tx.ids().clone();
                for (i, (o, oid)) in tx.outputs().iter().zip(ids.outputs.iter()).enumerate() {
                    if oid.kind == types::ResultKind::Output {
                        live.push((oid.id, ids.mux_id, i as u64, o.amount().get(), o.control_program().to_vec()));
                    }
                }
                built.push(tx);
            }
            let mut header = BlockHeader::empty(Profile::Side);
            header.height = 100 + h as u64;
            header.timestamp = 1_000 * h as u64;
            header.previous_block_hash = chain.last().map(Block::hash).unwrap_or_default();
            let block = Block::new(header, built).unwrap();
            w.apply_block(&block).unwrap();
            chain.push(block);
            states.push(snapshot(&w));
        }
        // Disk equals memory.
        drop(w);
        let w = Wallet::open(&dir, Profile::Side, Network::Devnet, KdfParams::FAST_INSECURE).unwrap();
        prop_assert_eq!(&snapshot(&w), states.last().unwrap());
        // Balances are the sums of the unspent outputs.
        let total: u64 = w.unspent_outputs(None, None).unwrap().iter().map(|u| u.amount).sum();
        prop_assert_eq!(w.balances(None).unwrap().iter().map(|b| b.amount).sum::<u64>(), total);
        // Unwind all, checking every state on the way; then re-apply and get the same states.
        for (i, b) in chain.iter().enumerate().rev() {
            w.unwind_block(b).unwrap();
            prop_assert_eq!(&snapshot(&w), &states[i]);
        }
        for (i, b) in chain.iter().enumerate() {
            w.apply_block(b).unwrap();
            w.apply_block(b).unwrap();
            prop_assert_eq!(&snapshot(&w), &states[i + 1]);
        }
    }
}

//! Decoding plus full ID computation (transaction ID, input and output IDs, mux, signature hashes) per
//! transaction, for a 1-input/2-output and a 5-input/5-output spend of each profile.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use types::tx::{InputKind, OutputKind, SpendCommitment, SpendInput};
use types::{Amount, AssetId, Hash, Limits, Profile, Transaction, TxData, TxInput, TxOutput};

fn p2wpkh(tag: u8) -> Vec<u8> {
    let mut p = vec![0x00, 0x14];
    p.extend_from_slice(&[tag; 20]);
    p
}

fn sample(profile: Profile, inputs: u8, outputs: u8) -> Vec<u8> {
    let inputs = (0..inputs)
        .map(|i| {
            TxInput::new(InputKind::Spend(SpendInput {
                commitment: SpendCommitment {
                    source_id: Hash([i; 32]),
                    asset_id: AssetId::BTM,
                    amount: Amount::new(100_000_000 + u64::from(i)).unwrap(),
                    source_position: u64::from(i),
                    vm_version: 1,
                    control_program: p2wpkh(i),
                    suffix: vec![],
                },
                // A signature and a public key, as a pay-to-pubkey-hash spend carries.
                arguments: vec![vec![0xaa; 64], vec![0xbb; 32]],
            }))
        })
        .collect();
    let outputs = (0..outputs)
        .map(|o| {
            TxOutput::new(
                OutputKind::Control,
                AssetId::BTM,
                Amount::new(1_000).unwrap(),
                p2wpkh(o + 100),
            )
        })
        .collect();
    Transaction::new(
        profile,
        TxData {
            version: 1,
            time_range: 0,
            inputs,
            outputs,
        },
    )
    .unwrap()
    .encode()
}

fn decode_and_ids(c: &mut Criterion) {
    let limits = Limits::default();
    for profile in [Profile::Main, Profile::Side] {
        for (ins, outs) in [(1u8, 2u8), (5, 5)] {
            let bytes = sample(profile, ins, outs);
            c.bench_function(&format!("decode+ids {profile} {ins}in/{outs}out"), |b| {
                b.iter(|| {
                    let tx = Transaction::decode(black_box(&bytes), profile, &limits).unwrap();
                    let sighashes: Vec<Hash> =
                        (0..tx.inputs().len()).map(|i| tx.sighash(i).unwrap()).collect();
                    black_box((tx.id(), tx.ids().outputs.len(), sighashes))
                })
            });
        }
    }
}

criterion_group!(benches, decode_and_ids);
criterion_main!(benches);

//! Property tests: canonical bytes round-trip for generated transactions and blocks of both profiles,
//! decoding arbitrary or corrupted bytes never panics, and amount arithmetic never wraps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::collection::vec;
use proptest::prelude::*;

use types::block::HeaderConsensus;
use types::tx::{
    CoinbaseInput, CrossChainInput, InputKind, IssuanceInput, OutputCommitment, OutputKind, SpendCommitment,
    SpendInput, VetoInput,
};
use types::{
    Amount, AmountError, AssetId, Block, BlockHeader, Hash, Limits, Profile, Transaction, TxData, TxInput,
    TxOutput,
};

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn value63() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..1000, 0u64..=(i64::MAX as u64), Just(i64::MAX as u64)]
}

fn amount() -> impl Strategy<Value = Amount> {
    value63().prop_map(|v| Amount::new(v).unwrap())
}

fn hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

fn asset() -> impl Strategy<Value = AssetId> {
    prop_oneof![Just(AssetId::BTM), any::<[u8; 32]>().prop_map(AssetId)]
}

fn args() -> impl Strategy<Value = Vec<Vec<u8>>> {
    vec(bytes(40), 0..4)
}

fn spend_commitment() -> impl Strategy<Value = SpendCommitment> {
    (hash(), asset(), amount(), value63(), bytes(30), bytes(6)).prop_map(
        |(source_id, asset_id, amount, source_position, control_program, suffix)| SpendCommitment {
            source_id,
            asset_id,
            amount,
            source_position,
            vm_version: 1,
            control_program,
            suffix,
        },
    )
}

fn typed_input(profile: Profile) -> BoxedStrategy<InputKind> {
    let spend = (spend_commitment(), args()).prop_map(|(commitment, arguments)| {
        InputKind::Spend(SpendInput {
            commitment,
            arguments,
        })
    });
    let coinbase = bytes(20).prop_map(|arbitrary| InputKind::Coinbase(CoinbaseInput { arbitrary }));
    match profile {
        Profile::Main => {
            let issuance = (bytes(10), amount(), bytes(30), value63(), bytes(30), args()).prop_map(
                |(nonce, amount, asset_definition, vm_version, issuance_program, arguments)| {
                    InputKind::Issuance(IssuanceInput {
                        nonce,
                        amount,
                        asset_definition,
                        vm_version,
                        issuance_program,
                        arguments,
                    })
                },
            );
            prop_oneof![4 => spend, 2 => issuance, 1 => coinbase].boxed()
        }
        Profile::Side => {
            let cross = (spend_commitment(), value63(), bytes(30), bytes(30), args()).prop_map(
                |(commitment, issuance_vm_version, asset_definition, issuance_program, arguments)| {
                    InputKind::CrossChain(CrossChainInput {
                        commitment,
                        issuance_vm_version,
                        asset_definition,
                        issuance_program,
                        arguments,
                    })
                },
            );
            let veto = (spend_commitment(), bytes(70), args()).prop_map(|(commitment, vote, arguments)| {
                InputKind::Veto(VetoInput {
                    commitment,
                    vote,
                    arguments,
                })
            });
            prop_oneof![4 => spend, 2 => cross, 2 => veto, 1 => coinbase].boxed()
        }
    }
}

fn input(profile: Profile) -> impl Strategy<Value = TxInput> {
    let typed =
        (typed_input(profile), bytes(5), bytes(5)).prop_map(|(kind, commitment_suffix, witness_suffix)| {
            TxInput {
                asset_version: 1,
                kind,
                commitment_suffix,
                witness_suffix,
            }
        });
    let opaque =
        (2u64..300, bytes(20), bytes(20)).prop_map(|(asset_version, commitment_suffix, witness_suffix)| {
            TxInput {
                asset_version,
                kind: InputKind::Opaque,
                commitment_suffix,
                witness_suffix,
            }
        });
    prop_oneof![6 => typed, 1 => opaque]
}

fn output_commitment() -> impl Strategy<Value = OutputCommitment> {
    (asset(), amount(), bytes(30), bytes(6)).prop_map(|(asset_id, amount, control_program, suffix)| {
        OutputCommitment {
            asset_id,
            amount,
            vm_version: 1,
            control_program,
            suffix,
        }
    })
}

fn output(profile: Profile) -> BoxedStrategy<TxOutput> {
    match profile {
        Profile::Main => {
            let typed = (output_commitment(), bytes(4)).prop_map(|(commitment, witness)| TxOutput {
                asset_version: 1,
                kind: OutputKind::Control,
                commitment,
                type_suffix: vec![],
                witness,
            });
            let opaque =
                (2u64..300, bytes(20), bytes(4)).prop_map(|(asset_version, suffix, witness)| TxOutput {
                    asset_version,
                    kind: OutputKind::Control,
                    commitment: OutputCommitment {
                        suffix,
                        ..OutputCommitment::default()
                    },
                    type_suffix: vec![],
                    witness,
                });
            prop_oneof![6 => typed, 1 => opaque].boxed()
        }
        Profile::Side => {
            let kind = prop_oneof![
                Just(OutputKind::Control),
                Just(OutputKind::CrossChain),
                bytes(70).prop_map(|vote| OutputKind::Vote { vote }),
            ];
            (kind, output_commitment(), bytes(5), bytes(4))
                .prop_map(|(kind, commitment, type_suffix, witness)| TxOutput {
                    asset_version: 1,
                    kind,
                    commitment,
                    type_suffix,
                    witness,
                })
                .boxed()
        }
    }
}

/// Contents that [`Transaction::new`] accepts: a coinbase needs a typed input 0 and, on the main
/// chain, an output.
fn tx_data(profile: Profile) -> impl Strategy<Value = TxData> {
    (
        value63(),
        value63(),
        vec(input(profile), 0..4),
        vec(output(profile), 0..4),
    )
        .prop_map(move |(version, time_range, mut inputs, mut outputs)| {
            let coinbase = inputs.iter().any(|i| matches!(i.kind, InputKind::Coinbase(_)));
            if coinbase {
                if let Some(first) = inputs.first_mut()
                    && matches!(first.kind, InputKind::Opaque)
                {
                    *first = TxInput::new(InputKind::Coinbase(CoinbaseInput { arbitrary: vec![1] }));
                }
                if profile == Profile::Main && outputs.is_empty() {
                    outputs.push(TxOutput::new(
                        OutputKind::Control,
                        AssetId::BTM,
                        Amount::ZERO,
                        vec![0x51],
                    ));
                }
            }
            TxData {
                version,
                time_range,
                inputs,
                outputs,
            }
        })
}

fn tx(profile: Profile) -> impl Strategy<Value = Transaction> {
    tx_data(profile).prop_map(move |d| Transaction::new(profile, d).unwrap())
}

fn header(profile: Profile) -> BoxedStrategy<BlockHeader> {
    let consensus = match profile {
        Profile::Main => (value63(), value63())
            .prop_map(|(nonce, bits)| HeaderConsensus::Pow { nonce, bits })
            .boxed(),
        Profile::Side => (vec(bytes(70), 0..4), bytes(4))
            .prop_map(|(witness, suffix)| HeaderConsensus::Witness { witness, suffix })
            .boxed(),
    };
    (
        value63(),
        value63(),
        hash(),
        value63(),
        hash(),
        hash(),
        bytes(4),
        consensus,
    )
        .prop_map(
            |(version, height, prev, timestamp, txr, status, commitment_suffix, consensus)| BlockHeader {
                version,
                height,
                previous_block_hash: prev,
                timestamp,
                transactions_merkle_root: txr,
                transaction_status_hash: status,
                commitment_suffix,
                consensus,
            },
        )
        .boxed()
}

fn block(profile: Profile) -> impl Strategy<Value = Block> {
    (header(profile), vec(tx(profile), 0..3)).prop_map(|(h, txs)| Block::new(h, txs).unwrap())
}

fn profile() -> impl Strategy<Value = Profile> {
    prop_oneof![Just(Profile::Main), Just(Profile::Side)]
}

fn tx_any() -> impl Strategy<Value = Transaction> {
    profile().prop_flat_map(tx)
}

fn block_any() -> impl Strategy<Value = Block> {
    profile().prop_flat_map(block)
}

/// Flips, inserts or deletes a byte, or truncates.
fn mutate(mut b: Vec<u8>, op: u8, pos: usize, val: u8) -> Vec<u8> {
    if b.is_empty() {
        return vec![val];
    }
    let i = pos % b.len();
    match op % 4 {
        0 => b[i] ^= val | 1,
        1 => b.insert(i, val),
        2 => {
            b.remove(i);
        }
        _ => b.truncate(i),
    }
    b
}

proptest! {
    #[test]
    fn tx_roundtrip(tx in tx_any()) {
        let bytes = tx.encode();
        let back = Transaction::decode(&bytes, tx.profile(), &Limits::default()).unwrap();
        prop_assert_eq!(back.encode(), bytes.clone());
        prop_assert_eq!(back.serialized_size(), bytes.len() as u64);
        prop_assert_eq!(&back, &tx);
    }

    #[test]
    fn block_roundtrip(block in block_any()) {
        let bytes = block.encode();
        let back = Block::decode(&bytes, block.profile(), &Limits::default()).unwrap();
        prop_assert_eq!(back.encode(), bytes);
        prop_assert_eq!(back.hash(), block.hash());
        prop_assert_eq!(&back, &block);
        // The root is kept once computed; equality does not depend on whether it was, and the
        // kept root is the one computed from the IDs.
        let ids: Vec<_> = block.transactions().iter().map(Transaction::id).collect();
        prop_assert_eq!(block.compute_transactions_merkle_root(), types::merkle::tx_merkle_root(&ids));
        prop_assert_eq!(&back, &block);
        prop_assert_eq!(back.clone().compute_transactions_merkle_root(), block.compute_transactions_merkle_root());
        let header = block.header().encode();
        prop_assert_eq!(&BlockHeader::decode(&header, block.profile(), &Limits::default()).unwrap(), block.header());
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in bytes(600), p in profile()) {
        let lim = Limits::default();
        let _ = Transaction::decode(&b, p, &lim);
        let _ = Block::decode(&b, p, &lim);
        let _ = BlockHeader::decode(&b, p, &lim);
        // With the right leading flags the decoders get further into the input.
        let mut t = vec![0x07];
        t.extend_from_slice(&b);
        let _ = Transaction::decode(&t, p, &lim);
        for flag in 1..=3u8 {
            let mut k = vec![flag];
            k.extend_from_slice(&b);
            let _ = Block::decode(&k, p, &lim);
        }
    }

    #[test]
    fn corrupted_encodings_never_panic(tx in tx_any(), op: u8, pos: usize, val: u8) {
        let bad = mutate(tx.encode(), op, pos, val);
        let lim = Limits::default();
        for p in [Profile::Main, Profile::Side] {
            if let Ok(back) = Transaction::decode(&bad, p, &lim) {
                // Whatever decodes must re-decode from its own encoding.
                let again = Transaction::decode(&back.encode(), p, &lim).unwrap();
                prop_assert_eq!(again.id(), back.id());
                // The bytes a decoded transaction keeps as canonical (the input itself, when
                // every varint was shortest) are exactly what encoding its contents writes.
                let fresh = Transaction::new(p, back.data().clone()).unwrap();
                prop_assert_eq!(back.canonical_bytes(), fresh.canonical_bytes());
            }
            // Inside a block as well: each transaction keeps its own bytes only.
            if let Ok(block) = Block::decode(&bad, p, &lim) {
                for t in block.transactions() {
                    let fresh = Transaction::new(p, t.data().clone()).unwrap();
                    prop_assert_eq!(t.canonical_bytes(), fresh.canonical_bytes());
                }
            }
        }
    }

    #[test]
    fn corrupted_blocks_never_panic(block in block_any(), op: u8, pos: usize, val: u8) {
        let bad = mutate(block.encode(), op, pos, val);
        for p in [Profile::Main, Profile::Side] {
            if let Ok(b) = Block::decode(&bad, p, &Limits::default()) {
                for t in b.transactions() {
                    let fresh = Transaction::new(p, t.data().clone()).unwrap();
                    prop_assert_eq!(t.canonical_bytes(), fresh.canonical_bytes());
                }
            }
            let _ = BlockHeader::decode(&bad, p, &Limits::default());
        }
    }

    #[test]
    fn tight_limits_are_enforced(tx in tx_any()) {
        let bytes = tx.encode();
        let lim = Limits { max_tx_bytes: bytes.len().saturating_sub(1), ..Limits::default() };
        prop_assert!(Transaction::decode(&bytes, tx.profile(), &lim).is_err());
        let lim = Limits { max_inputs: tx.inputs().len().saturating_sub(1), ..Limits::default() };
        prop_assert_eq!(Transaction::decode(&bytes, tx.profile(), &lim).is_err(), !tx.inputs().is_empty());
    }

    #[test]
    fn amount_add_matches_u128(a in any::<u64>(), b in any::<u64>()) {
        match (Amount::new(a), Amount::new(b)) {
            (Ok(x), Ok(y)) => {
                let exact = u128::from(a) + u128::from(b);
                match x.checked_add(y) {
                    Ok(s) => prop_assert_eq!(u128::from(s.get()), exact),
                    Err(e) => {
                        prop_assert!(exact > u128::from(Amount::MAX.get()));
                        prop_assert_eq!(e, AmountError::Overflow { left: a, right: b });
                    }
                }
            }
            (x, y) => {
                prop_assert!(x.is_err() == (a > Amount::MAX.get()));
                prop_assert!(y.is_err() == (b > Amount::MAX.get()));
            }
        }
    }

    #[test]
    fn amount_sub_matches_i128(a in 0..=Amount::MAX.get(), b in 0..=Amount::MAX.get()) {
        let (x, y) = (Amount::new(a).unwrap(), Amount::new(b).unwrap());
        let exact = i128::from(a) - i128::from(b);
        match x.checked_sub(y) {
            Ok(d) => prop_assert_eq!(i128::from(d.get()), exact),
            Err(e) => {
                prop_assert!(exact < 0);
                prop_assert_eq!(e, AmountError::Underflow { left: a, right: b });
            }
        }
    }

    #[test]
    fn amount_sum_matches_u128(values in vec(0..=Amount::MAX.get(), 0..6)) {
        let exact: u128 = values.iter().map(|v| u128::from(*v)).sum();
        let got = Amount::sum(values.iter().map(|v| Amount::new(*v).unwrap()));
        if exact <= u128::from(Amount::MAX.get()) {
            prop_assert_eq!(u128::from(got.unwrap().get()), exact);
        } else {
            prop_assert!(got.is_err());
        }
    }
}

//! Construction rules, fees, error context and forward-compatible suffixes.
//!
//! The fee rules follow the references' `decode-raw-transaction`: Bytom `blockchain/txbuilder/finalize.go`
//! (`CalculateTxFee`, unchecked) and Vapor `common/arithmetic` (`CalculateTxFee`, checked, 0 on error).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use types::tx::{CoinbaseInput, InputKind, OutputKind, SpendCommitment, SpendInput};
use types::{
    Amount, AssetId, DecodeError, Hash, Limits, Profile, Transaction, TxData, TxError, TxInput, TxOutput,
};

fn amt(v: u64) -> Amount {
    Amount::new(v).unwrap()
}

fn spend(asset: AssetId, amount: u64, pos: u64) -> TxInput {
    TxInput::new(InputKind::Spend(SpendInput {
        commitment: SpendCommitment {
            source_id: Hash([u8::try_from(pos).unwrap(); 32]),
            asset_id: asset,
            amount: amt(amount),
            source_position: pos,
            vm_version: 1,
            control_program: vec![0x51],
            suffix: vec![],
        },
        arguments: vec![vec![1, 2]],
    }))
}

fn out(asset: AssetId, amount: u64) -> TxOutput {
    TxOutput::new(OutputKind::Control, asset, amt(amount), vec![0x00, 0x14])
}

fn tx(profile: Profile, inputs: Vec<TxInput>, outputs: Vec<TxOutput>) -> Transaction {
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
}

#[test]
fn fees() {
    let other = AssetId([7; 32]);
    for p in [Profile::Main, Profile::Side] {
        let t = tx(
            p,
            vec![
                spend(AssetId::BTM, 1000, 0),
                spend(AssetId::BTM, 500, 1),
                spend(other, 9, 2),
            ],
            vec![out(AssetId::BTM, 1200), out(other, 9)],
        );
        assert_eq!(t.fee(), 300);
        assert_eq!(t.checked_fee().unwrap(), amt(300));
        let ins = t.input_totals().unwrap();
        assert_eq!(ins[&AssetId::BTM], amt(1500));
        assert_eq!(ins[&other], amt(9));
        assert_eq!(t.output_totals().unwrap()[&AssetId::BTM], amt(1200));
    }
    // More BTM out than in: the main chain's reference wraps around, the sidechain's reports 0.
    let main = tx(
        Profile::Main,
        vec![spend(AssetId::BTM, 10, 0)],
        vec![out(AssetId::BTM, 11)],
    );
    assert_eq!(main.fee(), u64::MAX);
    assert!(main.checked_fee().is_err());
    let side = tx(
        Profile::Side,
        vec![spend(AssetId::BTM, 10, 0)],
        vec![out(AssetId::BTM, 11)],
    );
    assert_eq!(side.fee(), 0);
    // Input totals above 2^63-1 overflow instead of wrapping.
    let big = tx(
        Profile::Side,
        vec![
            spend(AssetId::BTM, Amount::MAX.get(), 0),
            spend(AssetId::BTM, 1, 1),
        ],
        vec![],
    );
    assert!(big.input_totals().is_err());
    assert_eq!(big.fee(), 0);
    // A coinbase pays no fee.
    let cb = TxInput::new(InputKind::Coinbase(CoinbaseInput { arbitrary: vec![] }));
    let t = tx(Profile::Main, vec![cb], vec![out(AssetId::BTM, 5)]);
    assert_eq!(t.fee(), 0);
    assert_eq!(t.checked_fee().unwrap(), Amount::ZERO);
}

#[test]
fn sighash_is_input_id_then_tx_id() {
    use sha3::{Digest, Sha3_256};
    let t = tx(
        Profile::Main,
        vec![spend(AssetId::BTM, 10, 0)],
        vec![out(AssetId::BTM, 9)],
    );
    let mut h = Sha3_256::new();
    h.update(t.ids().inputs[0].input_id.0);
    h.update(t.id().0);
    assert_eq!(t.sighash(0), Some(Hash(h.finalize().into())));
    assert_eq!(t.sighash(1), None);
}

#[test]
fn construction_rules() {
    let data = |inputs: Vec<TxInput>, outputs: Vec<TxOutput>| TxData {
        version: 1,
        time_range: 0,
        inputs,
        outputs,
    };
    // A main-chain coinbase needs an output to take its value from.
    let cb = TxInput::new(InputKind::Coinbase(CoinbaseInput { arbitrary: vec![] }));
    assert_eq!(
        Transaction::new(Profile::Main, data(vec![cb.clone()], vec![])),
        Err(TxError::CoinbaseWithoutOutputs)
    );
    // The sidechain's coinbase carries the outputs' sum, so none is fine.
    Transaction::new(Profile::Side, data(vec![cb.clone()], vec![])).unwrap();
    // Opaque input 0 with a coinbase later.
    let opaque = TxInput {
        asset_version: 2,
        kind: InputKind::Opaque,
        commitment_suffix: vec![],
        witness_suffix: vec![],
    };
    assert_eq!(
        Transaction::new(Profile::Side, data(vec![opaque.clone(), cb], vec![])),
        Err(TxError::CoinbaseMissingFirstSource)
    );
    // Version and contents must agree.
    let wrong = TxInput {
        asset_version: 1,
        ..opaque.clone()
    };
    assert!(matches!(
        Transaction::new(Profile::Main, data(vec![wrong], vec![])),
        Err(TxError::AssetVersionMismatch {
            what: "input",
            index: 0,
            asset_version: 1
        })
    ));
    // Opaque inputs map to no entry: zero input ID, counted in the mux.
    let t = Transaction::new(Profile::Main, data(vec![opaque], vec![])).unwrap();
    assert_eq!(t.ids().inputs[0].input_id, Hash::ZERO);
    assert_eq!(t.inputs()[0].kind.api_type_name(), "");
    // VM version other than 1.
    let mut bad = spend(AssetId::BTM, 1, 0);
    if let InputKind::Spend(s) = &mut bad.kind {
        s.commitment.vm_version = 2;
    }
    assert!(matches!(
        Transaction::new(Profile::Main, data(vec![bad], vec![])),
        Err(TxError::VmVersion {
            what: "input",
            index: 0,
            version: 2
        })
    ));
    // Values beyond 63 bits.
    let big = TxData {
        version: 1 << 63,
        ..TxData::default()
    };
    assert!(matches!(
        Transaction::new(Profile::Main, big),
        Err(TxError::ValueOutOfRange { .. })
    ));
    // An output of an unknown asset version maps on the main chain and is refused on the sidechain.
    let opaque_out = TxOutput {
        asset_version: 3,
        ..TxOutput::default()
    };
    let t = Transaction::new(Profile::Main, data(vec![], vec![opaque_out.clone()])).unwrap();
    assert_eq!(
        Transaction::decode(&t.encode(), Profile::Main, &Limits::default()).unwrap(),
        t
    );
    assert!(matches!(
        Transaction::new(Profile::Side, data(vec![], vec![opaque_out])),
        Err(TxError::OpaqueOutputInSide {
            index: 0,
            asset_version: 3
        })
    ));
}

#[test]
fn suffixes_round_trip_and_do_not_change_ids() {
    let plain = tx(
        Profile::Main,
        vec![spend(AssetId::BTM, 10, 0)],
        vec![out(AssetId::BTM, 9)],
    );
    let mut data = plain.data().clone();
    if let InputKind::Spend(s) = &mut data.inputs[0].kind {
        s.commitment.suffix = vec![0xaa, 0xbb];
    }
    data.inputs[0].commitment_suffix = vec![0xcc];
    data.inputs[0].witness_suffix = vec![0xdd];
    data.outputs[0].commitment.suffix = vec![0xee];
    data.outputs[0].witness = vec![0xff];
    let extended = Transaction::new(Profile::Main, data).unwrap();
    let bytes = extended.encode();
    let back = Transaction::decode(&bytes, Profile::Main, &Limits::default()).unwrap();
    assert_eq!(back, extended);
    assert_eq!(back.encode(), bytes);
    assert_eq!(back.serialized_size(), bytes.len() as u64);
    // Suffixes are outside every hash.
    assert_eq!(back.ids(), plain.ids());
    assert!(bytes.len() > plain.encode().len());
}

#[test]
fn errors_say_where() {
    let t = tx(
        Profile::Main,
        vec![spend(AssetId::BTM, 10, 0), spend(AssetId::BTM, 5, 1)],
        vec![out(AssetId::BTM, 9)],
    );
    let mut bytes = t.encode();
    // Cut inside the second input.
    let first_input_len = t.inputs()[0].encode(Profile::Main).len();
    bytes.truncate(4 + first_input_len + 10);
    match Transaction::decode(&bytes, Profile::Main, &Limits::default()).unwrap_err() {
        DecodeError::Input { index: 1, source } => {
            assert!(matches!(*source, DecodeError::UnexpectedEnd { .. }), "{source}")
        }
        other => panic!("{other}"),
    }
    // A program over the limit.
    let lim = Limits {
        max_program_bytes: 0,
        ..Limits::default()
    };
    match Transaction::decode(&t.encode(), Profile::Main, &lim).unwrap_err() {
        DecodeError::Input { index: 0, source } => assert!(
            matches!(
                *source,
                DecodeError::LimitExceeded {
                    what: "spend control program",
                    value: 1,
                    limit: 0,
                    ..
                }
            ),
            "{source}"
        ),
        other => panic!("{other}"),
    }
    // Wrong serialization flags.
    let mut flags = t.encode();
    flags[0] = 0x05;
    assert_eq!(
        Transaction::decode(&flags, Profile::Main, &Limits::default()),
        Err(DecodeError::BadSerializationFlags {
            what: "transaction",
            offset: 0,
            flags: 5
        })
    );
    // Messages name the field.
    let msg = DecodeError::Input {
        index: 1,
        source: Box::new(DecodeError::UnexpectedEnd {
            what: "spend source id",
            offset: 50,
            needed: 32,
            remaining: 3,
        }),
    }
    .to_string();
    assert!(
        msg.contains("input 1") && msg.contains("spend source id") && msg.contains("byte 50"),
        "{msg}"
    );
}

#[test]
fn canonical_bytes_are_made_once_shared_by_clones_and_do_not_change_equality() {
    for p in [Profile::Main, Profile::Side] {
        let built = tx(
            p,
            vec![spend(AssetId::BTM, 1000, 0)],
            vec![out(AssetId::BTM, 900)],
        );
        let bytes = built.encode();
        // Decoded (keeping the bytes it was read from), and equal to the built one.
        let decoded = Transaction::decode(&bytes, p, &Limits::default()).unwrap();
        assert_eq!(decoded, built);
        assert_eq!(decoded.canonical_bytes(), bytes.as_slice());
        assert_eq!(decoded, built);
        // A clone shares the bytes rather than making them again.
        let clone = decoded.clone();
        assert!(std::ptr::eq(clone.canonical_bytes(), decoded.canonical_bytes()));

        // A non-minimal version varint (`81 00` for 1) decodes; the bytes given back are the
        // canonical ones, not those read, while the size is what was read.
        assert_eq!(&bytes[..2], &[0x07, 0x01]);
        let mut loose = vec![0x07, 0x81, 0x00];
        loose.extend_from_slice(&bytes[2..]);
        let decoded = Transaction::decode(&loose, p, &Limits::default()).unwrap();
        assert_eq!(decoded.serialized_size(), loose.len() as u64);
        assert_eq!(decoded.encode(), bytes);
        assert_eq!(decoded.id(), built.id());
    }

    // The same inside a nested string: the output's amount (900 = `84 07`) written `84 87 00`,
    // its commitment string one byte longer (main chain: the commitment is one level deep).
    let built = tx(
        Profile::Main,
        vec![spend(AssetId::BTM, 1000, 0)],
        vec![out(AssetId::BTM, 900)],
    );
    let bytes = built.encode();
    let mut pattern = vec![0xff; 32];
    pattern.extend_from_slice(&[0x84, 0x07]);
    let at = bytes
        .windows(pattern.len())
        .position(|w| w == pattern.as_slice())
        .expect("the output's asset and amount");
    let mut loose = bytes[..at].to_vec();
    *loose.last_mut().unwrap() += 1;
    loose.extend_from_slice(&[0xff; 32]);
    loose.extend_from_slice(&[0x84, 0x87, 0x00]);
    loose.extend_from_slice(&bytes[at + pattern.len()..]);
    let decoded = Transaction::decode(&loose, Profile::Main, &Limits::default()).unwrap();
    assert_eq!(decoded.id(), built.id());
    assert_eq!(decoded.canonical_bytes(), bytes.as_slice());
    assert_eq!(decoded.serialized_size(), loose.len() as u64);
    // A decoded canonical encoding keeps the very bytes it was read from.
    let decoded = Transaction::decode(&bytes, Profile::Main, &Limits::default()).unwrap();
    assert_eq!(decoded.canonical_bytes(), bytes.as_slice());
}

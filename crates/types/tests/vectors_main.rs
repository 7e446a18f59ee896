//! Reference vectors for the main-chain profile (Bytom v1.1.0). Each test names the reference file and
//! test it comes from; paths are relative to the Bytom repository at tag v1.1.0.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{a, a4, h, h4, hx, join};
use types::block::{BlockSerialization, HeaderConsensus};
use types::codec::Reader;
use types::entry::{self, Program, ValueSource};
use types::graph::{self, ResultKind, SpentKind};
use types::merkle::{self, MerkleProof};
use types::tx::{CoinbaseInput, InputKind, IssuanceInput, OutputKind, SpendCommitment, SpendInput};
use types::{
    Amount, AssetId, Block, BlockHeader, DecodeError, Limits, Profile, Transaction, TxData, TxInput, TxOutput,
};

const P: Profile = Profile::Main;

fn amt(v: u64) -> Amount {
    Amount::new(v).unwrap()
}

fn spend(args: Vec<Vec<u8>>, source: &str, asset: AssetId, amount: u64, pos: u64, prog: &[u8]) -> TxInput {
    TxInput::new(InputKind::Spend(SpendInput {
        commitment: SpendCommitment {
            source_id: h(source),
            asset_id: asset,
            amount: amt(amount),
            source_position: pos,
            vm_version: 1,
            control_program: prog.to_vec(),
            suffix: vec![],
        },
        arguments: args,
    }))
}

fn issuance(nonce: &[u8], amount: u64, prog: &[u8], args: Vec<Vec<u8>>, def: &[u8]) -> TxInput {
    TxInput::new(InputKind::Issuance(IssuanceInput {
        nonce: nonce.to_vec(),
        amount: amt(amount),
        asset_definition: def.to_vec(),
        vm_version: 1,
        issuance_program: prog.to_vec(),
        arguments: args,
    }))
}

fn coinbase(arbitrary: &[u8]) -> TxInput {
    TxInput::new(InputKind::Coinbase(CoinbaseInput {
        arbitrary: arbitrary.to_vec(),
    }))
}

fn out(asset: AssetId, amount: u64, prog: &[u8]) -> TxOutput {
    TxOutput::new(OutputKind::Control, asset, amt(amount), prog.to_vec())
}

fn args(list: &[&[u8]]) -> Vec<Vec<u8>> {
    list.iter().map(|s| s.to_vec()).collect()
}

// protocol/bc/entry_test.go, TestEntryID.
#[test]
fn entry_ids() {
    let nonce = h4(0, 1, 2, 3);
    assert_eq!(
        entry::issuance_id(&nonce, &a4(1, 2, 3, 4), 100),
        h("3012b9b6da3962bb2388cdf5db7f3b93a2b696fcc70e79bc5da1238a6d66ae73")
    );
    let mux_src = ValueSource {
        source_id: h4(0, 1, 2, 3),
        asset_id: a4(1, 2, 3, 4),
        amount: 100,
        position: 1,
    };
    assert_eq!(
        entry::mux_id(
            &[Some(mux_src)],
            &Program {
                vm_version: 1,
                code: &[1, 2, 3, 4]
            }
        ),
        h("16c4265a8a90916434c2a904a90132c198c7ebf8512aa1ba4485455b0beff388")
    );
    let src = ValueSource {
        source_id: h4(4, 5, 6, 7),
        asset_id: a4(1, 1, 1, 1),
        amount: 10,
        position: 10,
    };
    assert_eq!(
        entry::output_id(
            P,
            &src,
            &Program {
                vm_version: 1,
                code: &[5, 5, 5, 5]
            }
        ),
        h("1145c54cd79721c31c81ecfb7cae217f8ef1bea0016df51c1f5060bba43252cc")
    );
    assert_eq!(
        entry::retirement_id(&src),
        h("538c367f7b6e1e9bf205ed0a29def84a1467c477b19812a6934e831c78c4da62")
    );
    assert_eq!(
        entry::spend_id(&h4(0, 1, 2, 3)),
        h("2761dbb13967af8944620c134e0f336bbbb26f61eb4ecd154bc034ad6155b9e8")
    );
    assert_eq!(
        entry::tx_header_id(1, 1000, &[h4(4, 5, 6, 7)]),
        h("ba592aa0841bd4649d9a04309e2e8497ac6f295a847cadd9de6b6f9c2d806663")
    );
}

// protocol/bc/asset_test.go, TestComputeAssetID: the asset ID is SHA3-256 of the definition body.
#[test]
fn asset_id_body_layout() {
    use sha3::{Digest, Sha3_256};
    let empty = merkle::empty_root();
    let mut unhashed = vec![1, 0, 0, 0, 0, 0, 0, 0, 1, 1];
    unhashed.extend_from_slice(&empty.0);
    let want = AssetId(Sha3_256::digest(&unhashed).into());
    assert_eq!(AssetId::compute(&[1], 1, &empty), want);
}

// protocol/bc/asset_test.go, TestComputeAssetIDReally.
#[test]
fn asset_ids_real() {
    let cases = [
        (
            "ae2039294f652632eee970765550c245f0b0314256b4b93aadc86279fdb45db3b70e5151ad",
            "7b0a202022646563696d616c73223a20382c0a2020226465736372697074696f6e223a207b7d2c0a2020226e616d65223a2022222c0a20202273796d626f6c223a2022220a7d",
            "07c7ced3f37f48ea39da6971c89f90e9cff3202d54b0a911f12ace8501f3834e",
        ),
        (
            "ae20620b1755451738b04f42822f4b37186563f824c9c30d485987298918f96395fe5151ad",
            "7b0a202022646563696d616c73223a20382c0a2020226465736372697074696f6e223a207b7d2c0a2020226e616d65223a2022222c0a20202273796d6f626f6c223a2022220a7d",
            "0dafd0f0e42f06f3bf9a8cf5787519d3860650f27a2b3393d34e1fe06e89b469",
        ),
        (
            "ae20db11f9dfa39c9e66421c530fe027218edd3d5b1cd98f24c826f4d9c0cd131a475151ad",
            "7b0a202022646563696d616c73223a20382c0a2020226465736372697074696f6e223a207b7d2c0a2020226e616d65223a2022222c0a20202273796d626f6c223a2022220a7d",
            "a5bc30d8d0ad051e6e352ebc21d79ba798cd8c436e89f4149969c2c562371791",
        ),
    ];
    for (prog, def, want) in cases {
        assert_eq!(AssetId::from_definition(&hx(prog), 1, &hx(def)), a(want));
    }
}

// protocol/bc/tx_test.go, TestSigHash.
#[test]
fn sighash_vectors() {
    let cases = [
        (
            h4(
                13464118406972499748,
                5083224803004805715,
                16263625389659454272,
                9428032044180324575,
            ),
            h4(
                14760873410800997144,
                1698395500822741684,
                5965908492734661392,
                9445539829830863994,
            ),
            "17dfad182df66212f6f694d774285e5989c5d9d1add6d5ce51a5930dbef360d8",
        ),
        (
            h4(
                17091584763764411831,
                2315724244669489432,
                4322938623810388342,
                11167378497724951792,
            ),
            h4(
                6970879411704044573,
                10086395903308657573,
                10107608596190358115,
                8645856247221333302,
            ),
            "f650ba3a58f90d3a2215f6c50a692a86c621b7968bb2a059a4c8e0c819770430",
        ),
    ];
    for (tx_id, input_id, want) in cases {
        assert_eq!(graph::sighash(&input_id, &tx_id), h(want));
    }
}

fn tx_case_issuance_spend() -> (TxData, Vec<u8>) {
    let data = TxData {
        version: 1,
        time_range: 654,
        inputs: vec![
            issuance(
                b"nonce",
                254354,
                b"issuanceProgram",
                args(&[b"arguments1", b"arguments2"]),
                b"assetDefinition",
            ),
            spend(
                args(&[b"arguments3", b"arguments4"]),
                "fad5195a0c8e3b590b86a3c0a95e7529565888508aecca96e9aeda633002f409",
                AssetId::BTM,
                254354,
                3,
                b"spendProgram",
            ),
        ],
        outputs: vec![out(
            a("a69849e11add96ac7053aad22ba2349a4abf5feb0475a0afcadff4e128be76cf"),
            254354,
            b"true",
        )],
    };
    let bytes = join(&[
        "07",
        "01",
        "8e05",
        "02",
        "01",
        "2a",
        "00",
        "05",
        "6e6f6e6365",
        "a69849e11add96ac7053aad22ba2349a4abf5feb0475a0afcadff4e128be76cf",
        "92c30f",
        "38",
        "0f",
        "6173736574446566696e6974696f6e",
        "01",
        "0f",
        "69737375616e636550726f6772616d",
        "02",
        "0a",
        "617267756d656e747331",
        "0a",
        "617267756d656e747332",
        "01",
        "54",
        "01",
        "52",
        "fad5195a0c8e3b590b86a3c0a95e7529565888508aecca96e9aeda633002f409",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "92c30f",
        "03",
        "01",
        "0c",
        "7370656e6450726f6772616d",
        "17",
        "02",
        "0a",
        "617267756d656e747333",
        "0a",
        "617267756d656e747334",
        "01",
        "01",
        "29",
        "a69849e11add96ac7053aad22ba2349a4abf5feb0475a0afcadff4e128be76cf",
        "92c30f",
        "01",
        "04",
        "74727565",
        "00",
    ]);
    (data, bytes)
}

fn tx_case_coinbase() -> (TxData, Vec<u8>) {
    let data = TxData {
        version: 1,
        time_range: 0,
        inputs: vec![coinbase(b"arbitrary")],
        outputs: vec![
            out(AssetId::BTM, 254354, b"true"),
            out(AssetId::BTM, 254354, b"false"),
        ],
    };
    let bytes = join(&[
        "07",
        "01",
        "00",
        "01",
        "01",
        "0b",
        "02",
        "09",
        "617262697472617279",
        "00",
        "02",
        "01",
        "29",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "92c30f",
        "01",
        "04",
        "74727565",
        "00",
        "01",
        "2a",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "92c30f",
        "01",
        "05",
        "66616c7365",
        "00",
    ]);
    (data, bytes)
}

// protocol/bc/types/transaction_test.go, TestTransaction: bytes, IDs and serialized sizes both ways.
#[test]
fn transactions_encode_decode_and_ids() {
    let empty = (
        TxData {
            version: 1,
            ..TxData::default()
        },
        hx("0701000000"),
    );
    let cases = [
        (
            empty,
            "8e88b9cb4615128c7209dff695f68b8de5b38648bf3d44d2d0e6a674848539c9",
            5u64,
        ),
        (
            tx_case_issuance_spend(),
            "a0ece5ca48dca27708394852599cb4d04af22c36538c03cb72663f3091406c17",
            261,
        ),
        (
            tx_case_coinbase(),
            "c2e2f388706fc06cca6aba5e85e0e85029f772872e1b6e6c32a70da22d0309dc",
            108,
        ),
    ];
    for ((data, bytes), id, size) in cases {
        let built = Transaction::new(P, data.clone()).unwrap();
        assert_eq!(built.encode(), bytes);
        assert_eq!(built.id(), h(id));
        assert_eq!(built.serialized_size(), size);
        let decoded = Transaction::decode(&bytes, P, &Limits::default()).unwrap();
        assert_eq!(decoded.data(), &data);
        assert_eq!(decoded, built);
    }
}

// protocol/bc/types/transaction_test.go, TestTransactionTrailingGarbage and TestFuzzUnknownAssetVersion.
const VALID_TX: &str = "07010001012b00030a0908916133a0d64d1d973b631e226ef95338ad4a536b95635f32f0d04708a6f2a26380a094a58d1d09000101010103010203010129000000000000000000000000000000000000000000000000000000000000000080a094a58d1d01010100";

#[test]
fn trailing_garbage_rejected() {
    let valid = hx(VALID_TX);
    Transaction::decode(&valid, P, &Limits::default()).unwrap();
    let mut garbage = valid.clone();
    garbage.extend_from_slice(&[0u8; 10]);
    let err = Transaction::decode(&garbage, P, &Limits::default()).unwrap_err();
    assert_eq!(
        err,
        DecodeError::TrailingBytes {
            what: "transaction",
            count: 10
        }
    );
}

#[test]
fn reencoding_keeps_the_id() {
    let want = Transaction::decode(&hx(VALID_TX), P, &Limits::default()).unwrap();
    let again = Transaction::decode(&want.encode(), P, &Limits::default()).unwrap();
    assert_eq!(again.id(), want.id());
    assert_eq!(want.encode(), hx(VALID_TX));
    match &want.inputs()[0].kind {
        InputKind::Issuance(i) => {
            assert_eq!(
                i.asset_id(),
                a("916133a0d64d1d973b631e226ef95338ad4a536b95635f32f0d04708a6f2a263")
            );
            assert_eq!(i.arguments, vec![vec![1, 2, 3]]);
        }
        other => panic!("expected an issuance, got {other:?}"),
    }
}

// protocol/bc/types/transaction_test.go, TestInvalidIssuance: the declared asset ID must match.
#[test]
fn invalid_issuance_rejected() {
    let bytes = join(&[
        "07",
        "01",
        "00",
        "01",
        "01",
        "2b",
        "00",
        "03",
        "0a0908",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "80a094a58d1d",
        "29",
        "03deff1d4319d67baa10a6d26c1fea9c3e8d30e33474efee1a610a9bb49d758d",
        "00",
        "01",
        "01",
        "01",
        "01",
        "03",
        "010203",
        "01",
        "01",
        "29",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "80a094a58d1d",
        "01",
        "0101",
        "066f7574707574",
        "00",
        "0869737375616e6365",
    ]);
    let err = Transaction::decode(&bytes, P, &Limits::default()).unwrap_err();
    match err {
        DecodeError::Input { index: 0, source } => {
            assert!(
                matches!(*source, DecodeError::IssuanceAssetMismatch { .. }),
                "{source:?}"
            )
        }
        other => panic!("unexpected {other:?}"),
    }
}

// protocol/bc/types/txinput_test.go, TestSerializationIssuance and TestSerializationSpend.
#[test]
fn input_serialization() {
    let iss = issuance(
        b"nonce",
        254354,
        b"issuanceProgram",
        args(&[b"arguments1", b"arguments2"]),
        b"assetDefinition",
    );
    let want = hx(concat!(
        "012a00056e6f6e6365a69849e11add96ac7053aad22ba2349a4abf5feb0475a0afcadff4e128be76cf92c30f38",
        "0f6173736574446566696e6974696f6e010f69737375616e636550726f6772616d020a617267756d656e7473310a",
        "617267756d656e747332"
    ));
    assert_eq!(iss.encode(P), want);
    let mut r = Reader::new(&want);
    assert_eq!(TxInput::read_from(&mut r, P, &Limits::default()).unwrap(), iss);
    assert_eq!(r.remaining(), 0);

    let sp = spend(
        args(&[b"arguments1", b"arguments2"]),
        "fad5195a0c8e3b590b86a3c0a95e7529565888508aecca96e9aeda633002f409",
        a("fe9791d71b67ee62515e08723c061b5ccb952a80d804417c8aeedf7f633c524a"),
        254354,
        3,
        b"spendProgram",
    );
    let want = hx(concat!(
        "01540152fad5195a0c8e3b590b86a3c0a95e7529565888508aecca96e9aeda633002f409fe9791d71b67ee62515e08",
        "723c061b5ccb952a80d804417c8aeedf7f633c524a92c30f03010c7370656e6450726f6772616d17020a617267756d",
        "656e7473310a617267756d656e747332"
    ));
    assert_eq!(sp.encode(P), want);
    let mut r = Reader::new(&want);
    assert_eq!(TxInput::read_from(&mut r, P, &Limits::default()).unwrap(), sp);
}

// protocol/bc/types/txoutput_test.go, TestSerializationTxOutput.
#[test]
fn output_serialization() {
    let o = out(
        a("81756fdab39a17163b0ce582ee4ee256fb4d1e156c692b997d608a42ecb38d47"),
        254354,
        b"TestSerializationTxOutput",
    );
    let want = hx(concat!(
        "013e81756fdab39a17163b0ce582ee4ee256fb4d1e156c692b997d608a42ecb38d4792c30f0119",
        "5465737453657269616c697a6174696f6e54784f757470757400"
    ));
    assert_eq!(o.encode(P), want);
    let mut r = Reader::new(&want);
    assert_eq!(TxOutput::read_from(&mut r, P, &Limits::default()).unwrap(), o);
}

// protocol/bc/types/output_commitment_test.go and spend_commitment_test.go: commitment strings, seen
// inside an output and a spend input.
#[test]
fn commitment_strings() {
    let cases = [
        (
            100u64,
            "00140876db6ca8f4542a836f0edd42b87d095d081182",
            "39ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff64011600140876db6ca8f4542a836f0edd42b87d095d081182",
        ),
        (
            50,
            "00148bf7800b2333afd8414d6e903d58c4908b9bbcc7",
            "39ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff32011600148bf7800b2333afd8414d6e903d58c4908b9bbcc7",
        ),
    ];
    for (amount, prog, commitment) in cases {
        let mut want = vec![0x01];
        want.extend(hx(commitment));
        want.push(0x00);
        assert_eq!(out(AssetId::BTM, amount, &hx(prog)).encode(P), want);
    }
    let cases = [
        (
            "3160fb24f97e06ad5a9717cd47fe2b65c7409903216b39120b10550282b20e99",
            100u64,
            0u64,
            "0014d927424f4e8c242460b538f04c2676b97842e9a7",
            "5a3160fb24f97e06ad5a9717cd47fe2b65c7409903216b39120b10550282b20e99ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff640001160014d927424f4e8c242460b538f04c2676b97842e9a7",
        ),
        (
            "4b5cb973f5bef4eadde4c89b92ee73312b940e84164da0594149554cc8a2adea",
            999,
            2,
            "001418549d84daf53344d32563830c7cf979dc19d5c0",
            "5b4b5cb973f5bef4eadde4c89b92ee73312b940e84164da0594149554cc8a2adeaffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe707020116001418549d84daf53344d32563830c7cf979dc19d5c0",
        ),
    ];
    for (source, amount, pos, prog, commitment) in cases {
        let input = spend(vec![], source, AssetId::BTM, amount, pos, &hx(prog));
        let encoded = input.encode(P);
        // asset version, outer length, type byte, then the spend commitment string.
        assert_eq!(&encoded[3..3 + commitment.len() / 2], hx(commitment).as_slice());
    }
}

// protocol/bc/types/txoutput_test.go, TestComputeOutputID.
#[test]
fn spent_output_ids() {
    let cases = [
        (
            "4b5cb973f5bef4eadde4c89b92ee73312b940e84164da0594149554cc8a2adea",
            1000u64,
            "0014cb9f2391bafe2bc1159b2c4c8a0f17ba1b4dd94e",
            "c9902bad769008917d14710d60391a43fe6cbd255c839045425c65f749c39d81",
        ),
        (
            "9e74e35362ffc73c8967aa0008da8fcbc62a21d35673fb970445b5c2972f8603",
            999,
            "001418549d84daf53344d32563830c7cf979dc19d5c0",
            "4d038eed93338f4dfc8603101bc70f4b8e662e69828c6dadf4207b5dfaf66275",
        ),
    ];
    for (source, amount, prog, want) in cases {
        let c = SpendCommitment {
            source_id: h(source),
            asset_id: AssetId::BTM,
            amount: amt(amount),
            source_position: 2,
            vm_version: 1,
            control_program: hx(prog),
            suffix: vec![],
        };
        assert_eq!(graph::spent_output_id(P, SpentKind::Output, &c, &[]), h(want));
        // The same ID comes out of a transaction spending it.
        let tx = Transaction::new(
            P,
            TxData {
                version: 1,
                time_range: 0,
                inputs: vec![TxInput::new(InputKind::Spend(SpendInput {
                    commitment: c,
                    arguments: vec![],
                }))],
                outputs: vec![],
            },
        )
        .unwrap();
        assert_eq!(tx.ids().inputs[0].spent_output_id, Some(h(want)));
        assert_eq!(tx.ids().inputs[0].input_id, entry::spend_id(&h(want)));
    }
}

// protocol/bc/types/map_test.go, TestMapSpendTx / TestMapCoinbaseTx: the graph's shape.
#[test]
fn map_spend_and_coinbase() {
    let (data, _) = tx_case_issuance_spend();
    let tx = Transaction::new(P, data).unwrap();
    let ids = tx.ids();
    assert_eq!(ids.outputs.len(), 1);
    assert_eq!(ids.outputs[0].kind, ResultKind::Output);
    // Output 0 draws (mux, 0) and is locked by its own program.
    let o = &tx.outputs()[0];
    let src = ValueSource {
        source_id: ids.mux_id,
        asset_id: o.asset_id(),
        amount: o.amount().get(),
        position: 0,
    };
    assert_eq!(
        ids.outputs[0].id,
        entry::output_id(
            P,
            &src,
            &Program {
                vm_version: 1,
                code: b"true"
            }
        )
    );
    assert_eq!(ids.tx_id, entry::tx_header_id(1, 654, &[ids.outputs[0].id]));
    // The mux takes the issuance and the spend.
    let iss = match &tx.inputs()[0].kind {
        InputKind::Issuance(i) => i.clone(),
        other => panic!("{other:?}"),
    };
    use sha3::{Digest, Sha3_256};
    let nonce_hash = types::Hash(Sha3_256::digest(b"nonce").into());
    assert_eq!(
        ids.inputs[0].input_id,
        entry::issuance_id(&nonce_hash, &iss.asset_id(), 254354)
    );
    let sources = [
        Some(ValueSource {
            source_id: ids.inputs[0].input_id,
            asset_id: iss.asset_id(),
            amount: 254354,
            position: 0,
        }),
        Some(ValueSource {
            source_id: ids.inputs[1].input_id,
            asset_id: AssetId::BTM,
            amount: 254354,
            position: 0,
        }),
    ];
    assert_eq!(
        ids.mux_id,
        entry::mux_id(
            &sources,
            &Program {
                vm_version: 1,
                code: &[0x51]
            }
        )
    );

    let cb = Transaction::new(
        P,
        TxData {
            version: 0,
            time_range: 0,
            inputs: vec![coinbase(b"TestMapCoinbaseTx")],
            outputs: vec![out(AssetId::BTM, 800000000000, &[1])],
        },
    )
    .unwrap();
    let ids = cb.ids();
    assert_eq!(ids.inputs[0].input_id, entry::coinbase_id(b"TestMapCoinbaseTx"));
    assert_eq!(ids.inputs[0].spent_output_id, None);
    let src = ValueSource {
        source_id: ids.inputs[0].input_id,
        asset_id: AssetId::BTM,
        amount: 800000000000,
        position: 0,
    };
    assert_eq!(
        ids.mux_id,
        entry::mux_id(
            &[Some(src)],
            &Program {
                vm_version: 1,
                code: &[0x51]
            }
        )
    );
}

fn bytom_block_2() -> (Block, Vec<u8>) {
    let header = BlockHeader {
        version: 1,
        height: 432234,
        previous_block_hash: h("c34048bd60c4c13144fd34f408627d1be68f6cb4fdd34e879d6d791060ea73a0"),
        timestamp: 1522908275,
        transactions_merkle_root: h("ad9ac003d08ff305181a345d64fe0b02311cc1a6ec04ab73f3318d90139bfe03"),
        transaction_status_hash: h("b94301ea4e316bee00109f68d25beaca90aeff08e9bf439a37d91d7a3b5a1470"),
        commitment_suffix: vec![],
        consensus: HeaderConsensus::Pow {
            nonce: 34342,
            bits: 2305843009222082559,
        },
    };
    let txs = vec![
        Transaction::new(P, tx_case_issuance_spend().0).unwrap(),
        Transaction::new(P, tx_case_coinbase().0).unwrap(),
    ];
    let bytes = join(&[
        "03",
        "01",
        "eab01a",
        "c34048bd60c4c13144fd34f408627d1be68f6cb4fdd34e879d6d791060ea73a0",
        "f3f896d605",
        "40",
        "ad9ac003d08ff305181a345d64fe0b02311cc1a6ec04ab73f3318d90139bfe03",
        "b94301ea4e316bee00109f68d25beaca90aeff08e9bf439a37d91d7a3b5a1470",
        "a68c02",
        "ffffff838080808020",
        "02",
        "07018e0502012a00056e6f6e6365a69849e11add96ac7053aad22ba2349a4abf5feb0475a0afcadff4e128be76cf92c30f380f6173736574446566696e6974696f6e010f69737375616e636550726f6772616d020a617267756d656e7473310a617267756d656e74733201540152fad5195a0c8e3b590b86a3c0a95e7529565888508aecca96e9aeda633002f409ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff92c30f03010c7370656e6450726f6772616d17020a617267756d656e7473330a617267756d656e747334010129a69849e11add96ac7053aad22ba2349a4abf5feb0475a0afcadff4e128be76cf92c30f01047472756500",
        "07010001010b020961726269747261727900020129ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff92c30f01047472756500012affffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff92c30f010566616c736500",
    ]);
    (Block::new(header, txs).unwrap(), bytes)
}

// protocol/bc/types/block_test.go, TestBlock.
#[test]
fn blocks_encode_decode_and_hash() {
    let mut empty_header = BlockHeader::empty(P);
    empty_header.version = 1;
    empty_header.height = 1;
    let empty = Block::new(empty_header, vec![]).unwrap();
    let empty_bytes = join(&[
        "03",
        "01",
        "01",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "00",
        "40",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "00",
        "00",
        "00",
    ]);
    let cases = [
        (
            (empty, empty_bytes),
            "9609d2e45760f34cbc6c6d948c3fb9b6d7b61552d9d17fdd5b7d0cb5d2e67244",
        ),
        (
            bytom_block_2(),
            "86c833711a6a6b59864708d9dbae7869ba10782e3e7b1c7fc9fe3514899fec80",
        ),
    ];
    for ((block, bytes), hash) in cases {
        assert_eq!(block.encode(), bytes);
        assert_eq!(block.hash(), h(hash));
        let decoded = Block::decode(&bytes, P, &Limits::default()).unwrap();
        assert_eq!(decoded, block);
    }
}

// protocol/bc/types/block_test.go, TestReadFrom: a real main-chain block.
#[test]
fn real_block_read() {
    let raw = hx(
        "03018b5f3077f24528e94ecfc4491bb2e9ed6264a632a9a4b86b00c88093ca545d14a137d4f5e1e4054035a2d11158f47a5c5267630b2b6cf9e9a5f79a598085a2572a68defeb8013ad26978a65b4ee5b6f4914fe5c05000459a803ecf59132604e5d334d64249c5e50a17ebee908080808080200207010001010802060031323137310001013effffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff809df3b49a010116001437e1aec83a4e6587ca9609e4e5aa728db700744900070100020160015e4b5cb973f5bef4eadde4c89b92ee73312b940e84164da0594149554cc8a2adeaffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80c480c1240201160014cb9f2391bafe2bc1159b2c4c8a0f17ba1b4dd94e6302405760b15cc09e543437c4e3aad05bf073e82ebdb214beccb5f4473653dfc0a9d5ae59fb149de19eb71c1c1399594757aeea4dd6327ca2790ef919bd20caa86104201381d35e235813ad1e62f9a602c82abee90565639cc4573568206b55bcd2aed90130000840142084606f20ca7b38dc897329a288ea31031724f5c55bcafec80468a546955023380af2faad1480d0dbc3f402b001467b0a202022646563696d616c73223a20382c0a2020226465736372697074696f6e223a207b7d2c0a2020226e616d65223a2022222c0a20202273796d626f6c223a2022220a7d0125ae2054a71277cc162eb3eb21b5bd9fe54402829a53b294deaed91692a2cd8a081f9c5151ad0140621c2c3554da50d2a492d9d78be7c6159359d8f5f0b93a054ce0133617a61d85c532aff449b97a3ec2804ca5fe12b4d54aa6e8c3215c33d04abee9c9abdfdb0302013dffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80c0d1e123011600144b61da45324299e40dacc255e2ea07dfce3a56d200013e7b38dc897329a288ea31031724f5c55bcafec80468a546955023380af2faad1480d0dbc3f4020116001437e1aec83a4e6587ca9609e4e5aa728db700744900",
    );
    let block = Block::decode(&raw, P, &Limits::default()).unwrap();
    let hd = block.header();
    assert_eq!(hd.version, 1);
    assert_eq!(hd.height, 12171);
    assert_eq!(
        hd.previous_block_hash,
        h("3077f24528e94ecfc4491bb2e9ed6264a632a9a4b86b00c88093ca545d14a137")
    );
    assert_eq!(hd.timestamp, 1553496788);
    assert_eq!(hd.nonce(), Some(23));
    assert_eq!(hd.bits(), Some(2305843009213970283));
    assert_eq!(
        hd.transactions_merkle_root,
        h("35a2d11158f47a5c5267630b2b6cf9e9a5f79a598085a2572a68defeb8013ad2")
    );
    assert_eq!(
        hd.transaction_status_hash,
        h("6978a65b4ee5b6f4914fe5c05000459a803ecf59132604e5d334d64249c5e50a")
    );
    let txs = block.transactions();
    assert_eq!(txs.len(), 2);
    assert_eq!(txs[0].serialized_size(), 81);
    assert_eq!(txs[1].serialized_size(), 560);
    assert_eq!(
        txs[0].inputs()[0].arbitrary(),
        Some(hx("003132313731").as_slice())
    );
    assert_eq!(txs[0].outputs()[0].amount().get(), 41450000000);
    let in0 = &txs[1].inputs()[0];
    assert_eq!(in0.asset_amount(), Some((AssetId::BTM, amt(9800000000))));
    assert_eq!(
        in0.control_program(),
        Some(hx("0014cb9f2391bafe2bc1159b2c4c8a0f17ba1b4dd94e").as_slice())
    );
    assert_eq!(in0.arguments().len(), 2);
    let in1 = &txs[1].inputs()[1];
    assert_eq!(in1.kind.api_type_name(), "issue");
    assert_eq!(
        in1.asset_amount(),
        Some((
            a("7b38dc897329a288ea31031724f5c55bcafec80468a546955023380af2faad14"),
            amt(100000000000)
        ))
    );
    assert_eq!(txs[1].outputs()[0].amount().get(), 9600000000);
    // The header's root is the root of these transactions, and the bytes round-trip.
    assert_eq!(
        block.compute_transactions_merkle_root(),
        hd.transactions_merkle_root
    );
    assert_eq!(block.encode(), raw);
    // Fee: 9800000000 BTM in, 9600000000 BTM out.
    assert_eq!(txs[1].fee(), 200000000);
    assert_eq!(txs[1].checked_fee().unwrap().get(), 200000000);
    assert_eq!(txs[0].fee(), 0);
}

// protocol/bc/types/block_header_test.go, TestBlockHeader and TestMarshalBlockHeader.
#[test]
fn block_header_bytes() {
    let (block, _) = bytom_block_2();
    let want = join(&[
        "01",
        "01",
        "eab01a",
        "c34048bd60c4c13144fd34f408627d1be68f6cb4fdd34e879d6d791060ea73a0",
        "f3f896d605",
        "40",
        "ad9ac003d08ff305181a345d64fe0b02311cc1a6ec04ab73f3318d90139bfe03",
        "b94301ea4e316bee00109f68d25beaca90aeff08e9bf439a37d91d7a3b5a1470",
        "a68c02",
        "ffffff838080808020",
    ]);
    assert_eq!(block.header().encode(), want);
    assert_eq!(
        &BlockHeader::decode(&want, P, &Limits::default()).unwrap(),
        block.header()
    );

    let mut hd = block.header().clone();
    hd.height = 10000;
    hd.timestamp = 1528945000;
    hd.consensus = HeaderConsensus::Pow {
        nonce: 9253507043297,
        bits: 2305843009214532812,
    };
    let want = join(&[
        "01",
        "01",
        "904e",
        "c34048bd60c4c13144fd34f408627d1be68f6cb4fdd34e879d6d791060ea73a0",
        "e8b287d905",
        "40",
        "ad9ac003d08ff305181a345d64fe0b02311cc1a6ec04ab73f3318d90139bfe03",
        "b94301ea4e316bee00109f68d25beaca90aeff08e9bf439a37d91d7a3b5a1470",
        "e19f8080a88d02",
        "cc99b3808080808020",
    ]);
    assert_eq!(hd.encode(), want);
    // The same bytes with the full-block flag decode to the same header.
    let mut full = want.clone();
    full[0] = 0x03;
    assert_eq!(BlockHeader::decode(&full, P, &Limits::default()).unwrap(), hd);

    // Values above 2^63-1 cannot be carried.
    for field in ["height", "timestamp", "nonce", "bits"] {
        let mut bad = hd.clone();
        let big = 9223372036854775808u64;
        match field {
            "height" => bad.height = big,
            "timestamp" => bad.timestamp = big,
            "nonce" => bad.consensus = HeaderConsensus::Pow { nonce: big, bits: 1 },
            _ => bad.consensus = HeaderConsensus::Pow { nonce: 1, bits: big },
        }
        assert!(bad.validate().is_err(), "{field}");
        assert!(Block::new(bad, vec![]).is_err(), "{field}");
    }
    hd.height = 9223372036854775807;
    hd.validate().unwrap();
    assert_eq!(&hd.encode()[2..11], hx("ffffffffffffffff7f").as_slice());
}

// protocol/bc/types/block_header_test.go, TestUnmarshalBlockHeader: the failure cases.
#[test]
fn block_header_decode_errors() {
    let head = "0101ffffffffffffffff7fc34048bd60c4c13144fd34f408627d1be68f6cb4fdd34e879d6d791060ea73a0e8b287d90540ad9ac003d08ff305181a345d64fe0b02311cc1a6ec04ab73f3318d90139bfe03b94301ea4e316bee00109f68d25beaca90aeff08e9bf439a37d91d7a3b5a1470e19f8080a88d02";
    let lim = Limits::default();
    // Flag 2 is not a main-chain header.
    let mut flag2 = hx(&format!("{head}cc99b3808080808020"));
    flag2[0] = 0x02;
    assert!(matches!(
        BlockHeader::decode(&flag2, P, &lim),
        Err(DecodeError::BadSerializationFlags { flags: 2, .. })
    ));
    // A tenth varint byte above 1 overflows 64 bits.
    let overflow = hx(&format!("{head}ffffffffffffffffff20"));
    assert!(matches!(
        BlockHeader::decode(&overflow, P, &lim),
        Err(DecodeError::VarintOverflow { .. })
    ));
    // A varint cut short.
    let eof = hx(&format!("{head}ffffffffffffffff80"));
    assert!(matches!(
        BlockHeader::decode(&eof, P, &lim),
        Err(DecodeError::UnexpectedEnd { .. })
    ));
    // 2^64-1 fits 64 bits but not 63.
    let range = hx(&format!("{head}ffffffffffffffffff01"));
    assert!(matches!(
        BlockHeader::decode(&range, P, &lim),
        Err(DecodeError::OutOfRange { bits: 63, .. })
    ));
    // The good one.
    let ok = hx(&format!("{head}cc99b3808080808020"));
    let hd = BlockHeader::decode(&ok, P, &lim).unwrap();
    assert_eq!(hd.height, 9223372036854775807);
    assert_eq!(hd.bits(), Some(2305843009214532812));
    // A header-only block has no transactions.
    let block = Block::decode(&ok, P, &lim).unwrap();
    assert!(block.transactions().is_empty());
    assert_eq!(BlockSerialization::Header as u8, 1);
}

// protocol/bc/types/block_commitment_test.go: the commitment string is the two roots.
#[test]
fn block_commitment() {
    let mut hd = BlockHeader::empty(P);
    hd.transactions_merkle_root = h("35a2d11158f47a5c5267630b2b6cf9e9a5f79a598085a2572a68defeb8013ad2");
    hd.transaction_status_hash = h("6978a65b4ee5b6f4914fe5c05000459a803ecf59132604e5d334d64249c5e50a");
    let bytes = hd.encode();
    // flag, version, height, 32-byte previous hash, timestamp, then the 0x40-byte commitment.
    assert_eq!(bytes[36], 0x40);
    assert_eq!(
        &bytes[37..101],
        hx("35a2d11158f47a5c5267630b2b6cf9e9a5f79a598085a2572a68defeb8013ad26978a65b4ee5b6f4914fe5c05000459a803ecf59132604e5d334d64249c5e50a")
            .as_slice()
    );
}

// protocol/bc/types/merkle_test.go, TestMerkleRoot: transactions with no outputs all have the ID of
// txheader(0, 0, []), whatever their inputs.
#[test]
fn merkle_roots_of_empty_txs() {
    let tx_with = |wit: Vec<Vec<u8>>| {
        let input = TxInput::new(InputKind::Spend(SpendInput {
            commitment: SpendCommitment {
                vm_version: 0,
                ..SpendCommitment::default()
            },
            arguments: wit,
        }));
        graph::map_tx(
            P,
            &TxData {
                inputs: vec![input],
                ..TxData::default()
            },
        )
        .unwrap()
        .tx_id
    };
    let one = tx_with(args(&[&[1], b"00000"]));
    assert_eq!(
        merkle::tx_merkle_root(&[one]),
        h("fe34dbd5da0ce3656f423fd7aad7fc7e879353174d33a6446c2ed0e3f3512101")
    );
    let two = [
        tx_with(args(&[&[1], b"000000"])),
        tx_with(args(&[&[1], b"111111"])),
    ];
    assert_eq!(
        merkle::tx_merkle_root(&two),
        h("0e4b4c1af18b8f59997804d69f8f66879ad5e30027346ee003ff7c7a512e5554")
    );
    let two = [
        tx_with(args(&[&[1], b"000000"])),
        tx_with(args(&[&[2], b"111111", b"222222"])),
    ];
    assert_eq!(
        merkle::tx_merkle_root(&two),
        h("0e4b4c1af18b8f59997804d69f8f66879ad5e30027346ee003ff7c7a512e5554")
    );
}

// protocol/bc/types/merkle_test.go, TestMerkleRootRealTx.
#[test]
fn merkle_root_of_real_txs() {
    let raw = [
        "070100010160015e5ac79a73db78e5c9215b37cb752f0147d1157c542bb4884908ceb97abc33fe0affffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa0f280d42b0001160014085a02ecdf934a56343aa59a3dec9d9feb86ee43630240035e1ef422b4901997ad3c20c50d82e726d03cb6e8ccb5dddc20e0c09e0a6f2e0055331e2b54d9ec52cffb1c47d8fdf2f8887d55c336753637cbf8f832c7af0b20a29601468f08c57ca9c383d28736a9d5c7737cd483126d8db3d85490fe497b3502013dffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa0aad1b30601160014991b78d1bf731390e2dd838c05ff37ec5146886b00013dffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff8086d8f024011600145ade29df622cc68d0473aa1a20fb89690451c66e00",
        "070100020160015e4b5cb973f5bef4eadde4c89b92ee73312b940e84164da0594149554cc8a2adeaffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80c480c1240201160014cb9f2391bafe2bc1159b2c4c8a0f17ba1b4dd94e630240d96b8f31519c5e34ef983bb7dfb92e807df7fc1ae5a4c08846d00d4f84ebd2f8634b9e0b0374eb2508d0f989520f622aef051862c26daba0e466944e3d55d00b201381d35e235813ad1e62f9a602c82abee90565639cc4573568206b55bcd2aed901300008ede605460cacbf107b38dc897329a288ea31031724f5c55bcafec80468a546955023380af2faad1480d0dbc3f402b001467b0a202022646563696d616c73223a20382c0a2020226465736372697074696f6e223a207b7d2c0a2020226e616d65223a2022222c0a20202273796d626f6c223a2022220a7d0125ae2054a71277cc162eb3eb21b5bd9fe54402829a53b294deaed91692a2cd8a081f9c5151ad01403a54a3ca0210d005cc9bce490478b518c405ba72e0bc1d134b739f29a73e008345229f0e061c420aa3c56a48bc1c9bf592914252ab9100e69252deeac532430f03013dffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80e0e8f011011600144ab5249140ca4630729030941f59f75e507bd4d500013e7b38dc897329a288ea31031724f5c55bcafec80468a546955023380af2faad1480d0dbc3f402011600145ade29df622cc68d0473aa1a20fb89690451c66e00013dffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80a2c0a012011600145ade29df622cc68d0473aa1a20fb89690451c66e00",
        "07010001016c016acf24f1471d67c25a01ac84482ecdd8550229180171cae22321f87fe43d4f6a13ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80b4c4c32101012200200824e931fb806bd77fdcd291aad3bd0a4493443a4120062bd659e64a3e0bac66ef02044059c7a12d006fd34bf8b9b2cb2f99756e5c3c3fdca4c928b830c014819e933b01c92a99bfeb6add73a5087870a3de3465cfed2c99f736b5f77d5fbdc69d91ff0040b95d110d118b873a8232104a6613f0e8c6a791efa3a695c02108cebd5239c8a8471551a48f18ab8ea05d10900b485af5e95b74cd3c01044c1742e71854099c0b40a1b63dae273e3b5b757b7c61286088a934e7282e837d08d62e60d7f75eb739529cd8c6cfef2254d47a546bf8b789657ce0944fec2f7e130c8498e28cae2a9108a901ae20d441b6f375659325a04eede4fc3b74579bb08ccd05b41b99776501e22d6dca7320af6d98ca2c3cd10bf0affbfa6e86609b750523cfadb662ec963c164f05798a49209820b9f1553b03aaebe7e3f9e9222ed7db73b5079b18564042fd3b2cef74156a20271b52de5f554aa4a6f1358f1c2193617bfb3fed4546d13c4af773096a429f9420eeb4a78d8b5cb8283c221ca2d3fd96b8946b3cddee02b7ceffb8f605932588595355ad020149ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80a0d9e61d012200206e8060ef3daca62841802dd9660b24b7dca81c1662b2d68ba8884ecbcd3e1e2200013dffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80d293ad0301160014ed7d3c466dbc6cc1f3a9af21267ac162f11b30a200",
        "070100020161015f4b5cb973f5bef4eadde4c89b92ee73312b940e84164da0594149554cc8a2adea0dafd0f0e42f06f3bf9a8cf5787519d3860650f27a2b3393d34e1fe06e89b469ddc3f8c2f40200011600141da7f908979e521bf2ba12d280b2c84fc1d024416302409524d0d817176eeb718ce45671d95831cdb138d27289aa8a920104e38a8cab8a7dc8cc3fb60d65aa337b719aed0f696fb12610bfe68add89169a47ac1241e0002033444e1b57524161af3899e50fdfe270a90a1ea97fe38e86019a1e252667fb2d0161015fed3181c99ca80db720231aee6948e1183bfe29c64208c1769afa7f938d3b2cf0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff809cd2b0f4020101160014cfbccfac5018ad4b4bfbcb1fab834e3c8503746063024065beb1da2f0840188af0e3c0127b158f7a2a36f1612499694a731df1e3a9d1abe6694c42986b8700aa9856f59cb3692ee88d68b20d1278f05592fb253c58bd0520e5966eee4092eeefdd805b06f2ad368bb9392edec20998993ebe2a929052c1ce03013e0dafd0f0e42f06f3bf9a8cf5787519d3860650f27a2b3393d34e1fe06e89b469ddfbc8a2cf0201160014583c0323603dd397ba5414255adc80b076cf232b00013d0dafd0f0e42f06f3bf9a8cf5787519d3860650f27a2b3393d34e1fe06e89b46980c8afa02501160014fdb3e6abf7f430fdabb53484ca2469103b2af1b500013effffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80dafa80f4020116001408e75789f47d2a39622e5a940fa918260bf44c5400",
        "07010001016d016b1f134a47da4f6df00822935e02a07514718ea99ce5ac4e07bd6c204e098eb525ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff808a858fa70200012200206205ec178dc1ac6ea05ea01bb0fcda6aa978173026fa75204a101bdad7bd6b4889010240d8d5bbf4969fba52df8fba06f75c5de0f51b2bd5f902bf234591f90e78bae20bfb5b7904cb83a1d6577c431f644d37722b432df9d64718b8300e3ab74a871a0046ae2068003e53d467b6d81beaf1e7bd9b60a5ffedc79b36ce14ecd1f30a2dcbcd0551200449030407a3a1fa0731f7f784a72c325b5ce4d534fc3cf8fb7140536ba928605152ad02014affffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80f699b2a302012200209a0b4b27fde7d29d3b465d20eb2e19f4bda3a873d19d11f4cba53958bde92ed000013dffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80b3ffc40301160014ed7d3c466dbc6cc1f3a9af21267ac162f11b30a200",
    ];
    let ids: Vec<_> = raw
        .iter()
        .map(|r| {
            let tx = Transaction::decode(&hx(r), P, &Limits::default()).unwrap();
            assert_eq!(tx.encode(), hx(r));
            tx.id()
        })
        .collect();
    assert_eq!(
        merkle::tx_merkle_root(&ids),
        h("0f07b8a453771c2dc628f3895ebb33fea82a8de42e11aa588bec26419af22065")
    );
}

/// Distinct IDs standing in for the reference's mock transactions (proof shapes depend only on count).
fn mock_ids(n: u64) -> Vec<types::Hash> {
    (0..n).map(|i| h4(i + 1, 0, 0, 0)).collect()
}

// protocol/bc/types/merkle_test.go, TestTxMerkleProof and TestStatusMerkleProof.
#[test]
fn merkle_proofs() {
    let cases: [(u64, &[usize], usize, &[u8]); 4] = [
        (
            10,
            &[0, 3, 7, 8],
            9,
            &[1, 1, 1, 1, 2, 0, 1, 0, 2, 1, 0, 1, 0, 2, 1, 2, 0],
        ),
        (10, &[], 1, &[0]),
        (1, &[0], 1, &[2]),
        (
            19,
            &[1, 3, 5, 7, 11, 15],
            15,
            &[
                1, 1, 1, 1, 1, 0, 2, 1, 0, 2, 1, 1, 0, 2, 1, 0, 2, 1, 1, 0, 1, 0, 2, 1, 0, 1, 0, 2, 0,
            ],
        ),
    ];
    for (n, related, hash_len, flags) in cases {
        let ids = mock_ids(n);
        let root = merkle::tx_merkle_root(&ids);
        let rel: Vec<_> = related.iter().map(|i| ids[*i]).collect();
        let proof = merkle::tx_merkle_proof(&ids, &rel);
        assert_eq!(proof.flags, flags);
        assert_eq!(proof.hashes.len(), hash_len);
        assert!(merkle::validate_tx_merkle_proof(&proof, &rel, &root));

        // Status proofs use the same flags.
        let statuses: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
        let status_root = merkle::status_merkle_root(&statuses);
        let hashes = merkle::status_merkle_proof(&statuses, flags);
        assert_eq!(hashes.len(), hash_len);
        let rel_status: Vec<bool> = related.iter().map(|i| statuses[*i]).collect();
        let sp = MerkleProof {
            hashes,
            flags: flags.to_vec(),
        };
        assert!(merkle::validate_status_merkle_proof(
            &sp,
            &rel_status,
            &status_root
        ));
    }
}

// protocol/bc/types/merkle_test.go, TestUglyValidateTxMerkleProof.
#[test]
fn merkle_proof_validation_edge_cases() {
    let hs = |v: &[&str]| v.iter().map(|s| h(s)).collect::<Vec<_>>();
    let zero = types::Hash::ZERO;
    let r1 = "0093370a8e19f8f131fd7e75c576615950d5672ee5e18c63f105a95bcab4332c";
    let r2 = "c9b7779847fb7ab74cf4b1e7f4557133918faa2bc130042753417dfb62b12dfa";
    let root_a = h("281138e0a9ea19505844bd61a2f5843787035782c093da74d12b5fba73eeeb07");
    let p = |hashes: Vec<types::Hash>, flags: &[u8]| MerkleProof {
        hashes,
        flags: flags.to_vec(),
    };
    let long_flags = [1, 1, 1, 1, 2, 0, 1, 0, 2, 1, 0, 1, 0, 2, 1, 2, 0];
    assert!(!merkle::validate_tx_merkle_proof(&p(vec![], &[]), &[], &zero));
    assert!(!merkle::validate_tx_merkle_proof(
        &p(vec![], &long_flags),
        &[],
        &zero
    ));
    assert!(!merkle::validate_tx_merkle_proof(
        &p(hs(&[r1, r2]), &[]),
        &[],
        &zero
    ));
    assert!(!merkle::validate_tx_merkle_proof(
        &p(vec![], &[]),
        &hs(&[r1, r2]),
        &zero
    ));
    assert!(!merkle::validate_tx_merkle_proof(
        &p(vec![], &[1, 1, 0, 2, 1, 2, 1, 0, 1]),
        &hs(&[r1, r2]),
        &root_a
    ));
    assert!(!merkle::validate_tx_merkle_proof(
        &p(
            hs(&["68f03ea2b02a21ad944d1a43ad6152a7fa6a7ed4101d59be62594dd30ef2a558"]),
            &[]
        ),
        &hs(&[r1, r2]),
        &root_a
    ));
    let good = hs(&[
        "8ec3ee7589f95eee9b534f71fcd37142bcc839a0dbfe78124df9663827b90c35",
        "011bd3380852b2946df507e0c6234222c559eec8f545e4bc58a89e960892259b",
        "c205988d9c864083421f1bdb95e6cf8b52070facfcc87e46a6e8197f5389fca2",
    ]);
    let flags = [1, 1, 0, 2, 0];
    let related = "504af455e328e7dd39bbc059529851946d54ee8b459b11b3aac4a0feeb474487";
    let root_b = h("aff81a46fe79204ef9007243f374d54104a59762b9f74d80d56b5291753db6fb");
    assert!(merkle::validate_tx_merkle_proof(
        &p(good.clone(), &flags),
        &hs(&[related]),
        &root_b
    ));
    // A related ID that is not in the tree.
    let two = hs(&[
        related,
        "281138e0a9ea19505844bd61a2f5843787035782c093da74d12b5fba73eeeb07",
    ]);
    assert!(!merkle::validate_tx_merkle_proof(
        &p(good.clone(), &flags),
        &two,
        &root_b
    ));
    // Not enough related IDs.
    assert!(!merkle::validate_tx_merkle_proof(
        &p(good.clone(), &flags),
        &[],
        &root_b
    ));
    // An extra hash at the end is ignored, as in the reference.
    let mut extra = good;
    extra.push(h(
        "5a06c90136e81c0f9cad29725e69edc6d21bd6fb0641265f9c4b6bb6840b37dd",
    ));
    assert!(merkle::validate_tx_merkle_proof(
        &p(extra, &flags),
        &hs(&[related]),
        &root_b
    ));
}

// A hostile proof of nothing but parent flags must not exhaust the stack.
#[test]
fn deep_hostile_proof_is_rejected() {
    let proof = MerkleProof {
        hashes: vec![types::Hash::ZERO; 4],
        flags: vec![1; 100_000],
    };
    assert!(!merkle::validate_tx_merkle_proof(
        &proof,
        &[types::Hash::ZERO],
        &types::Hash::ZERO
    ));
}

// protocol/bc/tx_status_test.go records per-transaction failure flags; the status tree hashes the JSON
// of each record.
#[test]
fn status_leaves() {
    assert_eq!(merkle::status_leaf_bytes(false), b"{}");
    assert_eq!(merkle::status_leaf_bytes(true), br#"{"status_fail":true}"#);
    assert_eq!(merkle::status_merkle_root(&[]), merkle::empty_root());
    assert_eq!(
        merkle::status_merkle_root(&[true]),
        merkle::leaf_hash(br#"{"status_fail":true}"#)
    );
    let two = merkle::status_merkle_root(&[false, true]);
    assert_eq!(
        two,
        merkle::interior_hash(
            &merkle::leaf_hash(b"{}"),
            &merkle::leaf_hash(br#"{"status_fail":true}"#)
        )
    );
}

// protocol/bc/types/block_test.go, TestReadFrom: the real block's status hash is the status root of its
// two transactions, both successful.
#[test]
fn real_block_status_root() {
    assert_eq!(
        merkle::status_merkle_root(&[false, false]),
        h("6978a65b4ee5b6f4914fe5c05000459a803ecf59132604e5d334d64249c5e50a")
    );
}

// config/genesis.go (mainNetGenesisBlock, GenesisTx): the main chain's genesis block, rebuilt from its
// fields, has the block hash the Bytom main network publishes for height 0.
#[test]
fn mainnet_genesis_block() {
    let tx = Transaction::new(
        P,
        TxData {
            version: 1,
            time_range: 0,
            inputs: vec![coinbase(
                b"Information is power. -- Jan/11/2013. Computing is power. -- Apr/24/2018.",
            )],
            outputs: vec![out(
                AssetId::BTM,
                140700041250000000,
                &hx("00148c9d063ff74ee6d9ffa88d83aeb038068366c4c4"),
            )],
        },
    )
    .unwrap();
    let header = BlockHeader {
        version: 1,
        height: 0,
        previous_block_hash: types::Hash::ZERO,
        timestamp: 1524549600,
        transactions_merkle_root: merkle::tx_merkle_root(&[tx.id()]),
        transaction_status_hash: merkle::status_merkle_root(&[false]),
        commitment_suffix: vec![],
        consensus: HeaderConsensus::Pow {
            nonce: 9253507043297,
            bits: 2161727821137910632,
        },
    };
    let block = Block::new(header, vec![tx]).unwrap();
    assert_eq!(
        block.hash(),
        h("a75483474799ea1aa6bb910a1a5025b4372bf20bef20f246a2c2dc5e12e8a053")
    );
    assert_eq!(
        Block::decode(&block.encode(), P, &Limits::default()).unwrap(),
        block
    );
}

// protocol/bc/types/spend_test.go, TestSerializationSpendCommitment.
#[test]
fn spend_commitment_string() {
    let input = spend(
        vec![],
        "bef8ff450b877df84174ac5c279fc97da0f507ffe7beef7badf116ea9e2ff041",
        a("81756fdab39a17163b0ce582ee4ee256fb4d1e156c692b997d608a42ecb38d47"),
        254354,
        3,
        b"TestSerializationSpendCommitment",
    );
    let want = join(&[
        "66",
        "bef8ff450b877df84174ac5c279fc97da0f507ffe7beef7badf116ea9e2ff041",
        "81756fdab39a17163b0ce582ee4ee256fb4d1e156c692b997d608a42ecb38d47",
        "92c30f",
        "03",
        "01",
        "20",
        "5465737453657269616c697a6174696f6e5370656e64436f6d6d69746d656e74",
    ]);
    let encoded = input.encode(P);
    // asset version 1, input-commitment length, spend type 1, then the commitment string; an empty witness
    // list closes the input.
    assert_eq!(encoded[..3], [0x01, u8::try_from(want.len() + 1).unwrap(), 0x01]);
    assert_eq!(&encoded[3..3 + want.len()], want.as_slice());
    let mut r = Reader::new(&encoded);
    assert_eq!(TxInput::read_from(&mut r, P, &Limits::default()).unwrap(), input);
}

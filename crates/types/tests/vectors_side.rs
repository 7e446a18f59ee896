//! Reference vectors for the sidechain profile (Vapor v1.1.9). Each test names the reference file and
//! test it comes from; paths are relative to the Vapor repository.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{a, a4, h, h4, hx, join};
use types::block::HeaderConsensus;
use types::codec::Reader;
use types::entry::{self, Program, ValueSource};
use types::graph::{self, ResultKind, SpentKind};
use types::merkle;
use types::tx::{
    CoinbaseInput, CrossChainInput, InputKind, OutputKind, SpendCommitment, SpendInput, TxError, VetoInput,
};
use types::{
    Amount, AssetId, Block, BlockHeader, DecodeError, Limits, Profile, Transaction, TxData, TxInput, TxOutput,
};

const P: Profile = Profile::Side;

fn amt(v: u64) -> Amount {
    Amount::new(v).unwrap()
}

fn args(list: &[&[u8]]) -> Vec<Vec<u8>> {
    list.iter().map(|s| s.to_vec()).collect()
}

fn commitment(source: types::Hash, asset: AssetId, amount: u64, pos: u64, prog: &[u8]) -> SpendCommitment {
    SpendCommitment {
        source_id: source,
        asset_id: asset,
        amount: amt(amount),
        source_position: pos,
        vm_version: 1,
        control_program: prog.to_vec(),
        suffix: vec![],
    }
}

const XPUB: &[u8] = b"af594006a40837d9f028daabb6d589df0b9138daefad5683e5233c2646279217294a8d532e60863bcf196625a35fb8ceeffa3c09610eb92dcfb655a947f13269";

// protocol/bc/entry_test.go, TestEntryID.
#[test]
fn entry_ids() {
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
    let prog = Program {
        vm_version: 1,
        code: &[5, 5, 5, 5],
    };
    assert_eq!(
        entry::output_id(P, &src, &prog),
        h("c60faad6ae44b15d54a57b5bd021f6cec0e5f7d2c55f53b90d6231ce5c561e9c")
    );
    assert_eq!(
        entry::retirement_id(&src),
        h("538c367f7b6e1e9bf205ed0a29def84a1467c477b19812a6934e831c78c4da62")
    );
    // The cross-chain input hashes the main-chain output ID and the asset definition only.
    assert_eq!(
        entry::cross_chain_input_id(
            &h4(0, 1, 2, 3),
            &Program {
                vm_version: 1,
                code: &[1, 2, 3, 4]
            },
            &h4(0, 1, 2, 3)
        ),
        h("14bb3f6e68f37d037b1f1539a21ab41e182b8d59d703a1af6c426d52cfc775d9")
    );
    assert_eq!(
        entry::cross_chain_output_id(&src, &prog),
        h("8e212555174bb8b725d7023cbe1864408c6a586389875ea0143257c2402b3be9")
    );
    assert_eq!(
        entry::vote_output_id(&src, &prog, b"vote"),
        h("67e722b339e58604e46b5a08b9684ab8b6dcb3e6218954db133c05eb2b76f0e8")
    );
    assert_eq!(
        entry::veto_input_id(&h4(0, 1, 2, 3)),
        h("a4f4909f947977b50bdd978fcd320161b66a266833546b6399f4709b8dd6ad59")
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

fn coinbase_tx() -> (TxData, Vec<u8>) {
    let data = TxData {
        version: 1,
        time_range: 0,
        inputs: vec![TxInput::new(InputKind::Coinbase(CoinbaseInput {
            arbitrary: b"arbitrary".to_vec(),
        }))],
        outputs: vec![
            TxOutput::new(OutputKind::Control, AssetId::BTM, amt(254354), b"true".to_vec()),
            TxOutput::new(OutputKind::Control, AssetId::BTM, amt(254354), b"false".to_vec()),
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
        "2b",
        "00",
        "29",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "92c30f",
        "01",
        "04",
        "74727565",
        "00",
        "01",
        "2c",
        "00",
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

// protocol/bc/types/transaction_test.go, TestTransaction.
#[test]
fn transactions_encode_decode_and_ids() {
    let cases = [
        (
            (
                TxData {
                    version: 1,
                    ..TxData::default()
                },
                hx("0701000000"),
            ),
            "8e88b9cb4615128c7209dff695f68b8de5b38648bf3d44d2d0e6a674848539c9",
            5u64,
        ),
        (
            coinbase_tx(),
            "2591a2af0d3690107215c2a47ab60c4e8d7547f04154ecd5ccab1db0d31e66b4",
            112,
        ),
    ];
    for ((data, bytes), id, size) in cases {
        let built = Transaction::new(P, data.clone()).unwrap();
        assert_eq!(built.encode(), bytes);
        assert_eq!(built.id(), h(id));
        assert_eq!(built.serialized_size(), size);
        let decoded = Transaction::decode(&bytes, P, &Limits::default()).unwrap();
        assert_eq!(decoded.data(), &data);
        assert_eq!(decoded.id(), h(id));
    }
}

fn roundtrip_input(input: &TxInput, want: &[u8]) {
    assert_eq!(input.encode(P), want);
    let mut r = Reader::new(want);
    assert_eq!(&TxInput::read_from(&mut r, P, &Limits::default()).unwrap(), input);
    assert_eq!(r.remaining(), 0);
}

// protocol/bc/types/txinput_test.go, TestSerializationSpend / CrossIn / Veto / Coinbase.
#[test]
fn input_serialization() {
    let source = h("fad5195a0c8e3b590b86a3c0a95e7529565888508aecca96e9aeda633002f409");
    let asset = a("fe9791d71b67ee62515e08723c061b5ccb952a80d804417c8aeedf7f633c524a");
    let two_args = args(&[b"arguments1", b"arguments2"]);

    let spend = TxInput::new(InputKind::Spend(SpendInput {
        commitment: commitment(source, asset, 254354, 3, b"spendProgram"),
        arguments: two_args.clone(),
    }));
    roundtrip_input(
        &spend,
        &hx(concat!(
            "01540152fad5195a0c8e3b590b86a3c0a95e7529565888508aecca96e9aeda633002f409fe9791d71b67ee62515e08",
            "723c061b5ccb952a80d804417c8aeedf7f633c524a92c30f03010c7370656e6450726f6772616d17020a617267756d",
            "656e7473310a617267756d656e747332"
        )),
    );

    let cross = TxInput::new(InputKind::CrossChain(CrossChainInput {
        commitment: commitment(source, asset, 254354, 3, b""),
        issuance_vm_version: 1,
        asset_definition: b"whatever".to_vec(),
        issuance_program: b"IssuanceProgram".to_vec(),
        arguments: two_args.clone(),
    }));
    roundtrip_input(
        &cross,
        &join(&[
            "01",
            "62",
            "00",
            "46",
            "fad5195a0c8e3b590b86a3c0a95e7529565888508aecca96e9aeda633002f409",
            "fe9791d71b67ee62515e08723c061b5ccb952a80d804417c8aeedf7f633c524a",
            "92c30f",
            "03",
            "01",
            "00",
            "01",
            "08",
            "7768617465766572",
            "0f",
            "49737375616e636550726f6772616d",
            "17",
            "02",
            "0a",
            "617267756d656e747331",
            "0a",
            "617267756d656e747332",
        ]),
    );
    assert_eq!(cross.kind.api_type_name(), "cross_chain_in");
    assert_eq!(cross.issuance_program(), Some(&b"IssuanceProgram"[..]));
    assert_eq!(cross.asset_definition(), Some(&b"whatever"[..]));

    let veto = TxInput::new(InputKind::Veto(VetoInput {
        commitment: commitment(source, asset, 254354, 3, b"spendProgram"),
        vote: XPUB.to_vec(),
        arguments: two_args,
    }));
    roundtrip_input(
        &veto,
        &join(&[
            "01",
            "d601",
            "03",
            "52",
            "fad5195a0c8e3b590b86a3c0a95e7529565888508aecca96e9aeda633002f409",
            "fe9791d71b67ee62515e08723c061b5ccb952a80d804417c8aeedf7f633c524a",
            "92c30f",
            "03",
            "01",
            "0c",
            "7370656e6450726f6772616d",
            "8001",
            "6166353934303036613430383337643966303238646161626236643538396466306239313338646165666164353638336535323333633236343632373932313732393461386435333265363038363362636631393636323561333566623863656566666133633039363130656239326463666236353561393437663133323639",
            "17",
            "02",
            "0a",
            "617267756d656e747331",
            "0a",
            "617267756d656e747332",
        ]),
    );
    assert_eq!(veto.vote(), Some(XPUB));

    let cb = TxInput::new(InputKind::Coinbase(CoinbaseInput {
        arbitrary: b"arbitrary".to_vec(),
    }));
    roundtrip_input(&cb, &hx("010b020961726269747261727900"));
}

fn roundtrip_output(output: &TxOutput, want: &[u8]) {
    assert_eq!(output.encode(P), want);
    let mut r = Reader::new(want);
    assert_eq!(
        &TxOutput::read_from(&mut r, P, &Limits::default()).unwrap(),
        output
    );
    assert_eq!(r.remaining(), 0);
}

// protocol/bc/types/txoutput_test.go, TestSerializationIntraChainTxOutput / CrossChain / VoteOutput.
#[test]
fn output_serialization() {
    let asset = a("81756fdab39a17163b0ce582ee4ee256fb4d1e156c692b997d608a42ecb38d47");
    let prog = b"TestSerializationTxOutput".to_vec();
    let body = "81756fdab39a17163b0ce582ee4ee256fb4d1e156c692b997d608a42ecb38d4792c30f01195465737453657269616c697a6174696f6e54784f7574707574";
    roundtrip_output(
        &TxOutput::new(OutputKind::Control, asset, amt(254354), prog.clone()),
        &hx(&format!("0140003e{body}00")),
    );
    roundtrip_output(
        &TxOutput::new(OutputKind::CrossChain, asset, amt(254354), prog.clone()),
        &hx(&format!("0140013e{body}00")),
    );
    let vote = TxOutput::new(OutputKind::Vote { vote: XPUB.to_vec() }, asset, amt(1000), prog);
    roundtrip_output(
        &vote,
        &join(&[
            "01",
            "c101",
            "02",
            "8001",
            "6166353934303036613430383337643966303238646161626236643538396466306239313338646165666164353638336535323333633236343632373932313732393461386435333265363038363362636631393636323561333566623863656566666133633039363130656239326463666236353561393437663133323639",
            "3d",
            "81756fdab39a17163b0ce582ee4ee256fb4d1e156c692b997d608a42ecb38d47",
            "e807",
            "01",
            "19",
            "5465737453657269616c697a6174696f6e54784f7574707574",
            "00",
        ]),
    );
    assert_eq!(vote.vote(), Some(XPUB));
}

// protocol/bc/types/txoutput_test.go, TestComputeOutputID.
#[test]
fn spent_output_ids() {
    /// Source ID, amount, program, kind of spent output, vote key, expected ID.
    type Case = (
        &'static str,
        u64,
        &'static str,
        SpentKind,
        &'static [u8],
        &'static str,
    );
    let cases: [Case; 4] = [
        (
            "4b5cb973f5bef4eadde4c89b92ee73312b940e84164da0594149554cc8a2adea",
            1000,
            "0014cb9f2391bafe2bc1159b2c4c8a0f17ba1b4dd94e",
            SpentKind::Output,
            b"",
            "73eea4d38b22ffd60fc30d0941f3875f45e29d424227bfde100193a08568605b",
        ),
        (
            "9e74e35362ffc73c8967aa0008da8fcbc62a21d35673fb970445b5c2972f8603",
            999,
            "001418549d84daf53344d32563830c7cf979dc19d5c0",
            SpentKind::Output,
            b"",
            "8371e76fd1c873503a326268bfd286ffe13009a0f1140d2c858e8187825696ab",
        ),
        (
            "993d3797fa3b2d958f300e599987dc10904b13f56ce89d158f60f9131424e0e2",
            999,
            "00145c47f3a0dd3e1e9956fe5b0f897072ed33f9efb9",
            SpentKind::Vote,
            XPUB,
            "a4de5a81babc7949d6b38d1cd4bcbc83da340387e747b5f521af3e427c6b0132",
        ),
        (
            "993d3797fa3b2d958f300e599987dc10904b13f56ce89d158f60f9131424e0e2",
            999,
            "00145c47f3a0dd3e1e9956fe5b0f897072ed33f9efb9",
            SpentKind::Vote,
            b"",
            "e42a48ef401b993c5e523b6a7b5456ad4b297c7aeda163405f265d8d00af983e",
        ),
    ];
    for (source, amount, prog, kind, vote, want) in cases {
        let c = commitment(h(source), AssetId::BTM, amount, 2, &hx(prog));
        assert_eq!(graph::spent_output_id(P, kind, &c, vote), h(want));
        // The same ID comes out of a spend or veto input in a transaction.
        let kind_in = match kind {
            SpentKind::Output => InputKind::Spend(SpendInput {
                commitment: c,
                arguments: vec![],
            }),
            SpentKind::Vote => InputKind::Veto(VetoInput {
                commitment: c,
                vote: vote.to_vec(),
                arguments: vec![],
            }),
        };
        let tx = Transaction::new(
            P,
            TxData {
                inputs: vec![TxInput::new(kind_in)],
                ..TxData::default()
            },
        )
        .unwrap();
        assert_eq!(tx.ids().inputs[0].spent_output_id, Some(h(want)));
    }
}

// protocol/bc/types/map_test.go, TestMapSpendTx and TestMapCoinbaseTx, plus the kinds of result entries.
#[test]
fn map_tx_shapes() {
    let spend = TxInput::new(InputKind::Spend(SpendInput {
        commitment: commitment(
            h("fad5195a0c8e3b590b86a3c0a95e7529565888508aecca96e9aeda633002f409"),
            AssetId::BTM,
            88,
            3,
            &[1],
        ),
        arguments: vec![],
    }));
    let tx = Transaction::new(
        P,
        TxData {
            version: 1,
            time_range: 0,
            inputs: vec![spend],
            outputs: vec![
                TxOutput::new(OutputKind::Control, AssetId::BTM, amt(80), vec![1]),
                TxOutput::new(OutputKind::CrossChain, AssetId::BTM, amt(1), vec![1]),
                TxOutput::new(
                    OutputKind::Vote { vote: XPUB.to_vec() },
                    AssetId::BTM,
                    amt(2),
                    vec![1],
                ),
                TxOutput::new(
                    OutputKind::Vote { vote: XPUB.to_vec() },
                    AssetId::BTM,
                    amt(3),
                    vec![0x6a, 1],
                ),
            ],
        },
    )
    .unwrap();
    let ids = tx.ids();
    let kinds: Vec<_> = ids.outputs.iter().map(|o| o.kind).collect();
    assert_eq!(
        kinds,
        [
            ResultKind::Output,
            ResultKind::CrossChainOutput,
            ResultKind::VoteOutput,
            ResultKind::Retirement
        ]
    );
    let names: Vec<_> = kinds.iter().map(|k| k.api_type_name(P)).collect();
    assert_eq!(names, ["control", "cross_chain_out", "vote", ""]);
    let src = |pos: u64, amount: u64| ValueSource {
        source_id: ids.mux_id,
        asset_id: AssetId::BTM,
        amount,
        position: pos,
    };
    let prog = Program {
        vm_version: 1,
        code: &[1],
    };
    assert_eq!(ids.outputs[0].id, entry::output_id(P, &src(0, 80), &prog));
    assert_eq!(ids.outputs[1].id, entry::cross_chain_output_id(&src(1, 1), &prog));
    assert_eq!(ids.outputs[2].id, entry::vote_output_id(&src(2, 2), &prog, XPUB));
    assert_eq!(ids.outputs[3].id, entry::retirement_id(&src(3, 3)));
    let result_ids: Vec<_> = ids.outputs.iter().map(|o| o.id).collect();
    assert_eq!(ids.tx_id, entry::tx_header_id(1, 0, &result_ids));

    // The sidechain coinbase carries BTM, the sum of all outputs.
    let (data, _) = coinbase_tx();
    let cb = Transaction::new(P, data).unwrap();
    let cb_id = entry::coinbase_id(b"arbitrary");
    assert_eq!(cb.ids().inputs[0].input_id, cb_id);
    let source = ValueSource {
        source_id: cb_id,
        asset_id: AssetId::BTM,
        amount: 2 * 254354,
        position: 0,
    };
    assert_eq!(
        cb.ids().mux_id,
        entry::mux_id(
            &[Some(source)],
            &Program {
                vm_version: 1,
                code: &[0x51]
            }
        )
    );
}

// protocol/bc/types/map.go: a cross-chain input claims the main-chain output its commitment describes and
// hashes the asset definition.
#[test]
fn cross_chain_input_ids() {
    let c = commitment(h4(1, 2, 3, 4), a4(9, 9, 9, 9), 500, 1, &[0x00, 0x14, 7, 7]);
    let input = TxInput::new(InputKind::CrossChain(CrossChainInput {
        commitment: c.clone(),
        issuance_vm_version: 1,
        asset_definition: b"{}".to_vec(),
        issuance_program: vec![0x51],
        arguments: vec![],
    }));
    let tx = Transaction::new(
        P,
        TxData {
            inputs: vec![input],
            ..TxData::default()
        },
    )
    .unwrap();
    let prev = graph::spent_output_id(P, SpentKind::Output, &c, &[]);
    assert_eq!(tx.ids().inputs[0].spent_output_id, Some(prev));
    let def_hash = types::asset::definition_hash(b"{}");
    let want = entry::cross_chain_input_id(
        &prev,
        &Program {
            vm_version: 1,
            code: &[0x51],
        },
        &def_hash,
    );
    assert_eq!(tx.ids().inputs[0].input_id, want);
    assert_eq!(tx.ids().mainchain_output_ids(tx.data()), vec![prev]);
    assert!(tx.ids().spent_output_ids(tx.data()).is_empty());
    assert_eq!(tx.sighash(0), Some(graph::sighash(&want, &tx.id())));
}

// protocol/bc/types/block_witness_test.go, TestReadWriteBlockWitness, seen inside a header.
#[test]
fn block_witness_strings() {
    let cases: [(Vec<Vec<u8>>, &str); 5] = [
        (vec![vec![0xbe, 0xef]], "0102beef"),
        (
            vec![vec![0xbe, 0xef], vec![0xab, 0xcd], vec![0xcd, 0x68]],
            "0302beef02abcd02cd68",
        ),
        (
            vec![vec![0xbe, 0xef], vec![], vec![0xcd, 0x68]],
            "0302beef0002cd68",
        ),
        (vec![vec![]], "0100"),
        (vec![], "00"),
    ];
    for (witness, want) in cases {
        let mut hd = BlockHeader::empty(P);
        hd.consensus = HeaderConsensus::Witness {
            witness: witness.clone(),
            suffix: vec![],
        };
        let bytes = hd.encode();
        let tail = hx(want);
        // The header ends with the witness string: its length, then the list.
        assert_eq!(
            bytes[bytes.len() - tail.len() - 1],
            u8::try_from(tail.len()).unwrap()
        );
        assert_eq!(&bytes[bytes.len() - tail.len()..], tail.as_slice());
        let back = BlockHeader::decode(&bytes, P, &Limits::default()).unwrap();
        assert_eq!(back.witness(), Some(witness.as_slice()));
    }
}

fn vapor_header() -> BlockHeader {
    BlockHeader {
        version: 1,
        height: 432234,
        previous_block_hash: h("c34048bd60c4c13144fd34f408627d1be68f6cb4fdd34e879d6d791060ea73a0"),
        timestamp: 1522908275000,
        transactions_merkle_root: h("ad9ac003d08ff305181a345d64fe0b02311cc1a6ec04ab73f3318d90139bfe03"),
        transaction_status_hash: h("b94301ea4e316bee00109f68d25beaca90aeff08e9bf439a37d91d7a3b5a1470"),
        commitment_suffix: vec![],
        consensus: HeaderConsensus::Witness {
            witness: vec![vec![0xbe, 0xef]],
            suffix: vec![],
        },
    }
}

// protocol/bc/types/block_header_test.go, TestBlockHeader and TestMarshalBlockHeader.
#[test]
fn block_header_bytes() {
    let hd = vapor_header();
    let want = join(&[
        "01",
        "01",
        "eab01a",
        "c34048bd60c4c13144fd34f408627d1be68f6cb4fdd34e879d6d791060ea73a0",
        "b8c2a0a3a92c",
        "40",
        "ad9ac003d08ff305181a345d64fe0b02311cc1a6ec04ab73f3318d90139bfe03",
        "b94301ea4e316bee00109f68d25beaca90aeff08e9bf439a37d91d7a3b5a1470",
        "040102beef",
    ]);
    assert_eq!(hd.encode(), want);
    assert_eq!(BlockHeader::decode(&want, P, &Limits::default()).unwrap(), hd);

    let zero = "0000000000000000000000000000000000000000000000000000000000000000";
    let mut max = BlockHeader::empty(P);
    max.version = 1;
    max.height = 9223372036854775807;
    max.previous_block_hash = hd.previous_block_hash;
    max.timestamp = 1528945000000;
    for (witness, tail) in [
        (
            vec![vec![0xbe, 0xef], vec![0xab, 0xcd], vec![0xcd, 0x68]],
            "0a0302beef02abcd02cd68",
        ),
        (
            vec![vec![0xbe, 0xef], vec![], vec![0xcd, 0x68]],
            "080302beef0002cd68",
        ),
    ] {
        max.consensus = HeaderConsensus::Witness {
            witness,
            suffix: vec![],
        };
        let want = join(&[
            "01",
            "01",
            "ffffffffffffffff7f",
            "c34048bd60c4c13144fd34f408627d1be68f6cb4fdd34e879d6d791060ea73a0",
            "c0fce4e1bf2c",
            "40",
            zero,
            zero,
            tail,
        ]);
        assert_eq!(max.encode(), want);
        assert_eq!(BlockHeader::decode(&want, P, &Limits::default()).unwrap(), max);
    }
    let mut big = hd.clone();
    big.timestamp = 9223372036854775808;
    assert!(big.validate().is_err());

    // The witness is not part of the block hash.
    let mut other = hd.clone();
    other.consensus = HeaderConsensus::Witness {
        witness: vec![vec![1; 64]; 3],
        suffix: vec![],
    };
    assert_eq!(other.hash(), hd.hash());
    // Flag 2 is not a header.
    let mut flag2 = want.clone();
    flag2[0] = 2;
    assert!(matches!(
        BlockHeader::decode(&flag2, P, &Limits::default()),
        Err(DecodeError::BadSerializationFlags { flags: 2, .. })
    ));
}

// protocol/bc/types/block.go: full, header-only and transactions-only encodings.
#[test]
fn block_encodings() {
    let (data, tx_bytes) = coinbase_tx();
    let tx = Transaction::new(P, data).unwrap();
    let block = Block::new(vapor_header(), vec![tx.clone()]).unwrap();
    let full = block.encode();
    let mut header_only = vapor_header().encode();
    let mut expected = header_only.clone();
    expected[0] = 3;
    expected.push(1);
    expected.extend_from_slice(&tx_bytes);
    assert_eq!(full, expected);
    assert_eq!(Block::decode(&full, P, &Limits::default()).unwrap(), block);

    let txs_only = block.encode_transactions_only().unwrap();
    assert_eq!(txs_only[..2], [2, 1]);
    let decoded = Block::decode(&txs_only, P, &Limits::default()).unwrap();
    assert_eq!(decoded.header(), &BlockHeader::empty(P));
    assert_eq!(decoded.transactions(), &[tx]);

    let head_block = Block::decode(&header_only, P, &Limits::default()).unwrap();
    assert!(head_block.transactions().is_empty());
    header_only.push(0);
    assert!(matches!(
        Block::decode(&header_only, P, &Limits::default()),
        Err(DecodeError::TrailingBytes {
            what: "block",
            count: 1
        })
    ));
    assert_eq!(
        block.compute_transactions_merkle_root(),
        merkle::tx_merkle_root(&[block.transactions()[0].id()])
    );
}

// protocol/bc/types/merkle_test.go, TestTxMerkleProof with the sidechain's mock transactions.
#[test]
fn merkle_proofs_with_mock_transactions() {
    let mock = |n: u64| -> Vec<types::Hash> {
        (0..n)
            .map(|i| {
                let input = TxInput::new(InputKind::Spend(SpendInput {
                    commitment: commitment(h4(i + 1, 0, 0, 0), a4(9999, 0, 0, 0), i, i, &[0x51]),
                    arguments: vec![],
                }));
                let output = TxOutput::new(OutputKind::Control, a4(9999, 0, 0, 0), amt(1), vec![0x51]);
                Transaction::new(
                    P,
                    TxData {
                        version: 1,
                        time_range: 0,
                        inputs: vec![input],
                        outputs: vec![output],
                    },
                )
                .unwrap()
                .id()
            })
            .collect()
    };
    let cases: [(u64, &[usize], usize, &[u8]); 3] = [
        (
            10,
            &[0, 3, 7, 8],
            9,
            &[1, 1, 1, 1, 2, 0, 1, 0, 2, 1, 0, 1, 0, 2, 1, 2, 0],
        ),
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
        let ids = mock(n);
        let rel: Vec<_> = related.iter().map(|i| ids[*i]).collect();
        let proof = merkle::tx_merkle_proof(&ids, &rel);
        assert_eq!(proof.flags, flags);
        assert_eq!(proof.hashes.len(), hash_len);
        assert!(merkle::validate_tx_merkle_proof(
            &proof,
            &rel,
            &merkle::tx_merkle_root(&ids)
        ));
    }
}

// The sidechain has no issuance; the main chain has no cross-chain, veto, or typed outputs.
#[test]
fn profile_boundaries() {
    let lim = Limits::default();
    // Main-chain issuance type byte 0 decodes as a cross-chain input here and fails on its contents.
    let iss = hx(
        "0701000101012a00056e6f6e6365a69849e11add96ac7053aad22ba2349a4abf5feb0475a0afcadff4e128be76cf92c30f0000",
    );
    assert!(Transaction::decode(&iss, P, &lim).is_err());
    // Input type 3 (veto) does not exist on the main chain.
    let veto = hx("07010001010203000000");
    match Transaction::decode(&veto, Profile::Main, &lim).unwrap_err() {
        DecodeError::Input { source, .. } => {
            assert!(matches!(
                *source,
                DecodeError::UnknownType {
                    type_byte: 3,
                    profile: Profile::Main,
                    ..
                }
            ))
        }
        other => panic!("{other:?}"),
    }
    // Building a vote output under the main profile is refused.
    let data = TxData {
        outputs: vec![TxOutput::new(
            OutputKind::Vote { vote: vec![1] },
            AssetId::BTM,
            amt(1),
            vec![1],
        )],
        ..TxData::default()
    };
    assert!(matches!(
        Transaction::new(Profile::Main, data),
        Err(TxError::OutputNotInProfile { index: 0, .. })
    ));
    // An unknown output type.
    let bad_out = hx("07010000010102030000");
    match Transaction::decode(&bad_out, P, &lim).unwrap_err() {
        DecodeError::Output { source, .. } => {
            assert!(
                matches!(*source, DecodeError::UnknownType { type_byte: 3, .. }),
                "{source:?}"
            )
        }
        other => panic!("{other:?}"),
    }
}

// blockchain/txbuilder/estimate_test.go, TestEstimateTxGas: raw sidechain transactions built by the
// reference wallet (spends of pay-to-pubkey-hash and pay-to-script-hash outputs) decode and re-encode
// byte for byte.
#[test]
fn reference_wallet_transactions() {
    let cases: [(&str, usize, usize, u64); 3] = [
        (
            "070100010160015e9a4e2bbae57dd71b6a827fb50aaeb744ce3ae6f45c4aec7494ad097213220e8affffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe0cea1bc5800011600144a6322008c5424251c7502c7d7d55f6389c3c358010001013f003dffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe086f29b3301160014fa61b0629e5f2da2bb8b08e7fc948dbd265234f700",
            1,
            1,
            0,
        ),
        (
            "0701dfd5c8d505020160015eb0fdbdb00567080bf5732fe4c5027478d8f013f89fc852e3ae3d7f56f5657f71ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff8094ebdc03020116001416845959fd7bc6edd959f9a5f7cbfcf56630cfdf01000160015ec757e7a85beafaf620112b2dd01980609f3378e9e77b5f699c969d146c307948ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff8094ebdc03030116001416845959fd7bc6edd959f9a5f7cbfcf56630cfdf010001013f003dffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80a8d6b907011600147741752a6a989f2a72dedd966bc736b04e4bfe6f00",
            2,
            1,
            1521625823,
        ),
        (
            "0701dfd5c8d50502016c016a2b58638987a57138bf3022c37e1b0f7177b8593416eefbed853d4ad5301193ebffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff8094ebdc030101220020ec0aff6b7cfee461ed40be35c3d27ddcfd923dafa50a94659f1ceb17cb12076a0100016c016a988c49f1234b5e117d0238e52f8b9def88c2b16d66bc0e4ce7a2ca3cbd3f316cffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff8094ebdc030101220020ec0aff6b7cfee461ed40be35c3d27ddcfd923dafa50a94659f1ceb17cb12076a010001013f003dffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff80a8d6b907011600147741752a6a989f2a72dedd966bc736b04e4bfe6f00",
            2,
            1,
            1521625823,
        ),
    ];
    for (raw, n_in, n_out, time_range) in cases {
        let bytes = hx(raw);
        let tx = Transaction::decode(&bytes, P, &Limits::default()).unwrap();
        assert_eq!(tx.encode(), bytes);
        assert_eq!(tx.serialized_size(), bytes.len() as u64);
        assert_eq!((tx.inputs().len(), tx.outputs().len()), (n_in, n_out));
        assert_eq!(tx.time_range(), time_range);
        for input in tx.inputs() {
            assert_eq!(input.kind.api_type_name(), "spend");
            let (asset, _) = input.asset_amount().unwrap();
            assert_eq!(asset, AssetId::BTM);
        }
        // Every spend's UTXO key is recomputable from its commitment alone.
        for (input, ids) in tx.inputs().iter().zip(&tx.ids().inputs) {
            let c = input.spend_commitment().unwrap();
            assert_eq!(
                ids.spent_output_id,
                Some(graph::spent_output_id(P, SpentKind::Output, c, &[]))
            );
        }
        let btm_in: u64 = tx
            .inputs()
            .iter()
            .map(|i| i.asset_amount().unwrap().1.get())
            .sum();
        let btm_out: u64 = tx.outputs().iter().map(|o| o.amount().get()).sum();
        assert_eq!(tx.fee(), btm_in - btm_out);
        assert_eq!(tx.ids().outputs[0].kind, ResultKind::Output);
    }
}

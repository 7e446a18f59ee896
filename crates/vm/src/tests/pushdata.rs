//! Vectors from `protocol/vm/pushdata_test.go` (TestPushdataOps), Bytom v1.1.0 and Vapor.

use super::*;

#[test]
fn testpushdataops_table() {
    let mut cases = vec![
        opc(
            Op::FALSE,
            Frame {
                run_limit: 50000,
                data_stack: vec![],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49991,
                data_stack: vec![vec![]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::FALSE,
            Frame {
                run_limit: 1,
                data_stack: vec![],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
        opc(
            Op::OP_1NEGATE,
            Frame {
                run_limit: 50000,
                data_stack: vec![],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49983,
                data_stack: vec![int64_bytes(-1)],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OP_1NEGATE,
            Frame {
                run_limit: 1,
                data_stack: vec![],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
    ];
    // Every push opcode pushes its immediate data (`data`) at a cost of 1 + 8 + len.
    let mut pushdata_ops = vec![Op::PUSHDATA1, Op::PUSHDATA2, Op::PUSHDATA4];
    pushdata_ops.extend((1..=75).map(Op));
    for op in &pushdata_ops {
        let start = Frame {
            run_limit: 50000,
            data: b"data".to_vec(),
            ..Frame::default()
        };
        let want = Frame {
            run_limit: 49987,
            data_stack: vec![b"data".to_vec()],
            data: b"data".to_vec(),
            ..Frame::default()
        };
        cases.push(opc(*op, start, Ok(want)));
        let start = Frame {
            run_limit: 1,
            data: b"data".to_vec(),
            ..Frame::default()
        };
        cases.push(opc(*op, start, Err(VmError::RunLimitExceeded)));
    }
    for op in pushdata_ops
        .into_iter()
        .chain([Op::FALSE, Op::OP_1NEGATE, Op::NOP])
    {
        cases.push(opc(op, Frame::default(), Err(VmError::RunLimitExceeded)));
    }
    run_op_cases(cases);
}

/// `pushdata_test.go` TestPushDataBytes.
#[test]
fn pushdata_bytes_vectors() {
    let mut cases: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (vec![], vec![0x00]),
        (vec![0; 255], [vec![0x4c, 0xff], vec![0; 255]].concat()),
        (vec![0; 1 << 8], [vec![0x4d, 0, 1], vec![0; 1 << 8]].concat()),
        (
            vec![0; 1 << 16],
            [vec![0x4e, 0, 0, 1, 0], vec![0; 1 << 16]].concat(),
        ),
    ];
    for i in 1..=75u8 {
        cases.push((
            vec![0; usize::from(i)],
            [vec![i], vec![0; usize::from(i)]].concat(),
        ));
    }
    for (data, want) in cases {
        assert_eq!(pushdata_bytes(&data), want, "len {}", data.len());
    }
}

/// `pushdata_test.go` TestPushdataInt64.
#[test]
fn pushdata_int64_vectors() {
    let mut cases: Vec<(i64, Vec<u8>)> = vec![
        (0, vec![0x00]),
        (17, vec![0x01, 0x11]),
        (255, vec![0x01, 0xff]),
        (256, vec![0x02, 0x00, 0x01]),
        (-1, vec![0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        (-2, vec![0x08, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ];
    for i in 1..=16u8 {
        cases.push((i64::from(i), vec![0x50 + i]));
    }
    for (n, want) in cases {
        assert_eq!(pushdata_int64(n), want, "{n}");
    }
}

//! Vectors from `protocol/vm/bitwise_test.go` (TestBitwiseOps), Bytom v1.1.0 and Vapor.

use super::*;

#[test]
fn testbitwiseops_table() {
    let mut cases = vec![
        opc(
            Op::INVERT,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![255]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                data_stack: vec![vec![0]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::INVERT,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![255, 0]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49997,
                data_stack: vec![vec![0, 255]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::AND,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff], vec![0x80]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: -9,
                data_stack: vec![vec![0x80]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::AND,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff], vec![0x80, 0xff]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: -10,
                data_stack: vec![vec![0x80]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::AND,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0x80, 0xff], vec![0xff]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: -10,
                data_stack: vec![vec![0x80]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OR,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff], vec![0x80]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: -9,
                data_stack: vec![vec![0xff]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OR,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff], vec![0x80, 0x10]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49997,
                deferred_cost: -9,
                data_stack: vec![vec![0xff, 0x10]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OR,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff, 0x10], vec![0x80]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49997,
                deferred_cost: -9,
                data_stack: vec![vec![0xff, 0x10]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::XOR,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff], vec![0x80]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: -9,
                data_stack: vec![vec![0x7f]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::XOR,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff], vec![0x80, 0x10]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49997,
                deferred_cost: -9,
                data_stack: vec![vec![0x7f, 0x10]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::XOR,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff, 0x10], vec![0x80]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49997,
                deferred_cost: -9,
                data_stack: vec![vec![0x7f, 0x10]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::EQUAL,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff], vec![0xff]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: -9,
                data_stack: vec![vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::EQUAL,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff, 0x10], vec![0xff, 0x10]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49997,
                deferred_cost: -11,
                data_stack: vec![vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::EQUAL,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff], vec![0x80]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: -10,
                data_stack: vec![vec![]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::EQUAL,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff], vec![0xff, 0x80]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: -11,
                data_stack: vec![vec![]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::EQUAL,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff, 0x80], vec![0xff]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: -11,
                data_stack: vec![vec![]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::EQUALVERIFY,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff], vec![0xff]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: -18,
                data_stack: vec![],
                ..Frame::default()
            }),
        ),
        opc(
            Op::EQUALVERIFY,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff, 0x10], vec![0xff, 0x10]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49997,
                deferred_cost: -20,
                data_stack: vec![],
                ..Frame::default()
            }),
        ),
        opc(
            Op::EQUALVERIFY,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff], vec![0x80]],
                ..Frame::default()
            },
            Err(VmError::VerifyFailed),
        ),
        opc(
            Op::EQUALVERIFY,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff], vec![0xff, 0x80]],
                ..Frame::default()
            },
            Err(VmError::VerifyFailed),
        ),
        opc(
            Op::EQUALVERIFY,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff, 0x80], vec![0xff]],
                ..Frame::default()
            },
            Err(VmError::VerifyFailed),
        ),
    ];
    // The reference appends, for each of these ops, a start state with too little gas.
    for op in [Op::INVERT, Op::AND, Op::OR, Op::XOR, Op::EQUAL, Op::EQUALVERIFY] {
        cases.push(opc(
            op,
            Frame {
                run_limit: 0,
                data_stack: vec![vec![0xff], vec![0xff]],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ));
        cases.push(opc(
            op,
            Frame {
                run_limit: 1,
                data_stack: vec![vec![0xff], vec![0xff]],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ));
    }
    run_op_cases(cases);
}

//! Vectors from `protocol/vm/stack_test.go` (TestStackOps), Bytom v1.1.0 and Vapor.

use super::*;

#[test]
fn teststackops_table() {
    let mut cases = vec![
        opc(
            Op::TOALTSTACK,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                data_stack: vec![],
                alt_stack: vec![vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::FROMALTSTACK,
            Frame {
                run_limit: 50000,
                alt_stack: vec![vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                alt_stack: vec![],
                data_stack: vec![vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::FROMALTSTACK,
            Frame {
                run_limit: 50000,
                alt_stack: vec![],
                ..Frame::default()
            },
            Err(VmError::AltStackUnderflow),
        ),
        opc(
            Op::OP_2DROP,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![1], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 50016,
                data_stack: vec![],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OP_2DUP,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49980,
                data_stack: vec![vec![2], vec![1], vec![2], vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OP_3DUP,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![3], vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49970,
                data_stack: vec![vec![3], vec![2], vec![1], vec![3], vec![2], vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OP_2OVER,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![4], vec![3], vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49980,
                data_stack: vec![vec![4], vec![3], vec![2], vec![1], vec![4], vec![3]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OP_2OVER,
            Frame {
                run_limit: 2,
                data_stack: vec![vec![4], vec![3], vec![2], vec![1]],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
        opc(
            Op::OP_2ROT,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![6], vec![5], vec![4], vec![3], vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                data_stack: vec![vec![4], vec![3], vec![2], vec![1], vec![6], vec![5]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OP_2SWAP,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![4], vec![3], vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                data_stack: vec![vec![2], vec![1], vec![4], vec![3]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::IFDUP,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49990,
                data_stack: vec![vec![1], vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::IFDUP,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49999,
                data_stack: vec![vec![]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::IFDUP,
            Frame {
                run_limit: 1,
                data_stack: vec![vec![1]],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
        opc(
            Op::DEPTH,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49990,
                data_stack: vec![vec![1], vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::DEPTH,
            Frame {
                run_limit: 1,
                data_stack: vec![vec![1]],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
        opc(
            Op::DROP,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 50008,
                data_stack: vec![],
                ..Frame::default()
            }),
        ),
        opc(
            Op::DUP,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49990,
                data_stack: vec![vec![1], vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::DUP,
            Frame {
                run_limit: 1,
                data_stack: vec![vec![1]],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
        opc(
            Op::NIP,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 50008,
                data_stack: vec![vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OVER,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49990,
                data_stack: vec![vec![2], vec![1], vec![2]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OVER,
            Frame {
                run_limit: 1,
                data_stack: vec![vec![2], vec![1]],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
        opc(
            Op::PICK,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![3], vec![2], vec![1], vec![2]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                data_stack: vec![vec![3], vec![2], vec![1], vec![3]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::PICK,
            Frame {
                run_limit: 2,
                data_stack: vec![vec![0xff, 0xff], vec![2], vec![1], vec![2]],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
        opc(
            Op::ROLL,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![3], vec![2], vec![1], vec![2]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 50007,
                data_stack: vec![vec![2], vec![1], vec![3]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::ROT,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![3], vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                data_stack: vec![vec![2], vec![1], vec![3]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::SWAP,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49999,
                data_stack: vec![vec![1], vec![2]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::TUCK,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49990,
                data_stack: vec![vec![1], vec![2], vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::TUCK,
            Frame {
                run_limit: 1,
                data_stack: vec![vec![2], vec![1]],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
    ];
    // The reference appends, for each of these ops, a start state with too little gas.
    for op in [
        Op::DEPTH,
        Op::FROMALTSTACK,
        Op::TOALTSTACK,
        Op::OP_2DROP,
        Op::OP_2DUP,
        Op::OP_3DUP,
        Op::OP_2OVER,
        Op::OP_2ROT,
        Op::OP_2SWAP,
        Op::IFDUP,
        Op::DROP,
        Op::DUP,
        Op::NIP,
        Op::OVER,
        Op::PICK,
        Op::ROLL,
        Op::ROT,
        Op::SWAP,
        Op::TUCK,
    ] {
        cases.push(opc(
            op,
            Frame {
                run_limit: 0,
                data_stack: vec![],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ));
    }
    run_op_cases(cases);
}

/// `stack_test.go` TestStackUnderflow: each op, given fewer (empty) items than it needs, underflows.
#[test]
fn stack_underflow() {
    let cases: [(usize, Op); 64] = [
        (1, Op::INVERT),
        (2, Op::AND),
        (2, Op::OR),
        (2, Op::XOR),
        (2, Op::EQUAL),
        (2, Op::EQUALVERIFY),
        (1, Op::VERIFY),
        (3, Op::CHECKPREDICATE),
        (1, Op::JUMPIF),
        (1, Op::SHA256),
        (1, Op::SHA3),
        (3, Op::CHECKSIG),
        (3, Op::CHECKMULTISIG),
        (5, Op::CHECKOUTPUT),
        (1, Op::OP_1ADD),
        (1, Op::OP_1SUB),
        (1, Op::OP_2MUL),
        (1, Op::OP_2DIV),
        (1, Op::NEGATE),
        (1, Op::ABS),
        (1, Op::NOT),
        (1, Op::OP_0NOTEQUAL),
        (2, Op::ADD),
        (2, Op::SUB),
        (2, Op::MUL),
        (2, Op::DIV),
        (2, Op::MOD),
        (2, Op::LSHIFT),
        (2, Op::RSHIFT),
        (2, Op::BOOLAND),
        (2, Op::BOOLOR),
        (2, Op::NUMEQUAL),
        (2, Op::NUMEQUALVERIFY),
        (2, Op::NUMNOTEQUAL),
        (2, Op::LESSTHAN),
        (2, Op::GREATERTHAN),
        (2, Op::LESSTHANOREQUAL),
        (2, Op::GREATERTHANOREQUAL),
        (2, Op::MIN),
        (2, Op::MAX),
        (3, Op::WITHIN),
        (2, Op::CAT),
        (3, Op::SUBSTR),
        (2, Op::LEFT),
        (2, Op::RIGHT),
        (1, Op::SIZE),
        (2, Op::CATPUSHDATA),
        (1, Op::TOALTSTACK),
        (2, Op::OP_2DROP),
        (2, Op::OP_2DUP),
        (3, Op::OP_3DUP),
        (4, Op::OP_2OVER),
        (6, Op::OP_2ROT),
        (4, Op::OP_2SWAP),
        (1, Op::IFDUP),
        (1, Op::DROP),
        (1, Op::DUP),
        (2, Op::NIP),
        (2, Op::OVER),
        (2, Op::PICK),
        (2, Op::ROLL),
        (3, Op::ROT),
        (2, Op::SWAP),
        (2, Op::TUCK),
    ];
    let mut all = Vec::new();
    for (narg, op) in cases {
        for i in 0..narg {
            let start = Frame {
                run_limit: 50000,
                data_stack: vec![vec![]; i],
                ..Frame::default()
            };
            all.push(opc(op, start, Err(VmError::DataStackUnderflow)));
        }
    }
    // With no introspection at all, CHECKOUTPUT still underflows before it asks for the context.
    run_op_cases_in(&side_ctx(), all);
}

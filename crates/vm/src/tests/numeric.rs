//! Vectors from `protocol/vm/numeric_test.go` (TestNumericOps), Bytom v1.1.0 and Vapor.

use super::*;

#[test]
fn testnumericops_table() {
    let mut cases = vec![
        opc(
            Op::OP_1ADD,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                data_stack: vec![vec![3]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OP_1SUB,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                data_stack: vec![vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OP_2MUL,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                data_stack: vec![vec![4]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OP_2DIV,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                data_stack: vec![vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OP_2DIV,
            Frame {
                run_limit: 50000,
                data_stack: vec![int64_bytes(-2)],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                data_stack: vec![int64_bytes(-1)],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OP_2DIV,
            Frame {
                run_limit: 50000,
                data_stack: vec![int64_bytes(-1)],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                data_stack: vec![int64_bytes(-1)],
                ..Frame::default()
            }),
        ),
        opc(
            Op::NEGATE,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: 7,
                data_stack: vec![int64_bytes(-2)],
                ..Frame::default()
            }),
        ),
        opc(
            Op::ABS,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                data_stack: vec![vec![2]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::ABS,
            Frame {
                run_limit: 50000,
                data_stack: vec![int64_bytes(-2)],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: -7,
                data_stack: vec![vec![2]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::NOT,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: -1,
                data_stack: vec![vec![]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::OP_0NOTEQUAL,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                data_stack: vec![vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::ADD,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: -9,
                data_stack: vec![vec![3]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::SUB,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
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
            Op::MUL,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49992,
                deferred_cost: -9,
                data_stack: vec![vec![2]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::DIV,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49992,
                deferred_cost: -9,
                data_stack: vec![vec![2]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::DIV,
            Frame {
                run_limit: 50000,
                data_stack: vec![int64_bytes(-2), vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49992,
                deferred_cost: -9,
                data_stack: vec![int64_bytes(-2)],
                ..Frame::default()
            }),
        ),
        opc(
            Op::DIV,
            Frame {
                run_limit: 50000,
                data_stack: vec![int64_bytes(-2), int64_bytes(-1)],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49992,
                deferred_cost: -23,
                data_stack: vec![vec![2]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::DIV,
            Frame {
                run_limit: 50000,
                data_stack: vec![int64_bytes(-3), int64_bytes(2)],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49992,
                deferred_cost: -9,
                data_stack: vec![int64_bytes(-1)],
                ..Frame::default()
            }),
        ),
        opc(
            Op::DIV,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![]],
                ..Frame::default()
            },
            Err(VmError::DivZero),
        ),
        opc(
            Op::MOD,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49992,
                deferred_cost: -10,
                data_stack: vec![vec![]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::MOD,
            Frame {
                run_limit: 50000,
                data_stack: vec![int64_bytes(-12), vec![10]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49992,
                deferred_cost: -16,
                data_stack: vec![vec![8]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::MOD,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![0]],
                ..Frame::default()
            },
            Err(VmError::DivZero),
        ),
        opc(
            Op::LSHIFT,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49992,
                deferred_cost: -9,
                data_stack: vec![vec![4]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::LSHIFT,
            Frame {
                run_limit: 50000,
                data_stack: vec![int64_bytes(-2), vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49992,
                deferred_cost: -9,
                data_stack: vec![int64_bytes(-4)],
                ..Frame::default()
            }),
        ),
        opc(
            Op::RSHIFT,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49992,
                deferred_cost: -9,
                data_stack: vec![vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::RSHIFT,
            Frame {
                run_limit: 50000,
                data_stack: vec![int64_bytes(-2), vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49992,
                deferred_cost: -9,
                data_stack: vec![int64_bytes(-1)],
                ..Frame::default()
            }),
        ),
        opc(
            Op::BOOLAND,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
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
            Op::BOOLOR,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
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
            Op::NUMEQUAL,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
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
            Op::NUMEQUALVERIFY,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![2]],
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
            Op::NUMEQUALVERIFY,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![1], vec![2]],
                ..Frame::default()
            },
            Err(VmError::VerifyFailed),
        ),
        opc(
            Op::NUMNOTEQUAL,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
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
            Op::LESSTHAN,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
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
            Op::LESSTHANOREQUAL,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
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
            Op::GREATERTHAN,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
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
            Op::GREATERTHANOREQUAL,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
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
            Op::MIN,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
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
            Op::MIN,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![1], vec![2]],
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
            Op::MAX,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![2], vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: -9,
                data_stack: vec![vec![2]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::MAX,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![1], vec![2]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49998,
                deferred_cost: -9,
                data_stack: vec![vec![2]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::WITHIN,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![1], vec![1], vec![2]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49996,
                deferred_cost: -18,
                data_stack: vec![vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::MULFRACTION,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![15], vec![2], vec![3]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49992,
                deferred_cost: -18,
                data_stack: vec![vec![10]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::MULFRACTION,
            Frame {
                run_limit: 50000,
                data_stack: vec![int64_bytes(-654), vec![3], vec![2]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49992,
                deferred_cost: -18,
                data_stack: vec![int64_bytes(-981)],
                ..Frame::default()
            }),
        ),
        opc(
            Op::MULFRACTION,
            Frame {
                run_limit: 50000,
                data_stack: vec![int64_bytes(-654), vec![3], vec![]],
                ..Frame::default()
            },
            Err(VmError::DivZero),
        ),
    ];
    // The reference appends, for each of these ops, a start state with too little gas.
    for op in [
        Op::OP_1ADD,
        Op::OP_1SUB,
        Op::OP_2MUL,
        Op::OP_2DIV,
        Op::NEGATE,
        Op::ABS,
        Op::NOT,
        Op::OP_0NOTEQUAL,
        Op::ADD,
        Op::SUB,
        Op::MUL,
        Op::DIV,
        Op::MOD,
        Op::LSHIFT,
        Op::RSHIFT,
        Op::BOOLAND,
        Op::BOOLOR,
        Op::NUMEQUAL,
        Op::NUMEQUALVERIFY,
        Op::NUMNOTEQUAL,
        Op::LESSTHAN,
        Op::LESSTHANOREQUAL,
        Op::GREATERTHAN,
        Op::GREATERTHANOREQUAL,
        Op::MIN,
        Op::MAX,
        Op::WITHIN,
        Op::MULFRACTION,
    ] {
        cases.push(opc(
            op,
            Frame {
                run_limit: 0,
                data_stack: vec![vec![2], vec![2], vec![2]],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ));
    }
    run_op_cases(cases);
}

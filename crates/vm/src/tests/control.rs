//! Vectors from `protocol/vm/control_test.go` (TestControlOps), Bytom v1.1.0 and Vapor.

use super::*;

#[test]
fn testcontrolops_table() {
    let mut cases = vec![
        opc(
            Op::JUMP,
            Frame {
                run_limit: 50000,
                pc: 0,
                next_pc: 1,
                data: vec![0x05, 0x00, 0x00, 0x00],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49999,
                pc: 0,
                next_pc: 5,
                data: vec![0x05, 0x00, 0x00, 0x00],
                ..Frame::default()
            }),
        ),
        opc(
            Op::JUMP,
            Frame {
                run_limit: 50000,
                pc: 0,
                next_pc: 1,
                data: vec![0xff, 0xff, 0xff, 0xff],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49999,
                pc: 0,
                next_pc: 4294967295,
                data: vec![0xff, 0xff, 0xff, 0xff],
                ..Frame::default()
            }),
        ),
        opc(
            Op::JUMPIF,
            Frame {
                run_limit: 50000,
                pc: 0,
                next_pc: 1,
                deferred_cost: 0,
                data_stack: vec![vec![1]],
                data: vec![0x05, 0x00, 0x00, 0x00],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49999,
                pc: 0,
                next_pc: 5,
                deferred_cost: -9,
                data_stack: vec![],
                data: vec![0x05, 0x00, 0x00, 0x00],
                ..Frame::default()
            }),
        ),
        opc(
            Op::JUMPIF,
            Frame {
                run_limit: 50000,
                pc: 0,
                next_pc: 1,
                deferred_cost: 0,
                data_stack: vec![vec![]],
                data: vec![0x05, 0x00, 0x00, 0x00],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49999,
                pc: 0,
                next_pc: 1,
                deferred_cost: -8,
                data_stack: vec![],
                data: vec![0x05, 0x00, 0x00, 0x00],
                ..Frame::default()
            }),
        ),
        opc(
            Op::VERIFY,
            Frame {
                pc: 0,
                run_limit: 50000,
                deferred_cost: 0,
                data_stack: vec![vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49999,
                deferred_cost: -9,
                data_stack: vec![],
                ..Frame::default()
            }),
        ),
        opc(
            Op::VERIFY,
            Frame {
                run_limit: 50000,
                deferred_cost: 0,
                data_stack: vec![vec![1, 1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49999,
                deferred_cost: -10,
                data_stack: vec![],
                ..Frame::default()
            }),
        ),
        opc(
            Op::VERIFY,
            Frame {
                run_limit: 50000,
                deferred_cost: 0,
                data_stack: vec![vec![]],
                ..Frame::default()
            },
            Err(VmError::VerifyFailed),
        ),
        opc(
            Op::FAIL,
            Frame {
                run_limit: 50000,
                ..Frame::default()
            },
            Err(VmError::Fail),
        ),
        opc(
            Op::CHECKPREDICATE,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![], vec![Op::TRUE.0], vec![]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 0,
                deferred_cost: -49951,
                data_stack: vec![vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::CHECKPREDICATE,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![], vec![], vec![]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 0,
                deferred_cost: -49952,
                data_stack: vec![vec![]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::CHECKPREDICATE,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![], vec![Op::FAIL.0], vec![]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 0,
                deferred_cost: -49952,
                data_stack: vec![vec![]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::CHECKPREDICATE,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![], vec![], int64_bytes(-1)],
                ..Frame::default()
            },
            Err(VmError::BadValue),
        ),
        opc(
            Op::CHECKPREDICATE,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![], vec![], int64_bytes(50000)],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
        opc(
            Op::CHECKPREDICATE,
            Frame {
                run_limit: 50000,
                data_stack: vec![
                    vec![0x05],
                    vec![0x07],
                    vec![0x02],
                    vec![Op::ADD.0, Op::OP_12.0, Op::NUMEQUAL.0],
                    vec![],
                ],
                ..Frame::default()
            },
            Ok(Frame {
                deferred_cost: -49968,
                data_stack: vec![vec![0x01]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::CHECKPREDICATE,
            Frame {
                run_limit: 50000,
                data_stack: vec![
                    vec![0x05],
                    vec![0x07],
                    vec![0x01],
                    vec![Op::ADD.0, Op::DATA_12.0, Op::NUMEQUAL.0],
                    vec![],
                ],
                ..Frame::default()
            },
            Ok(Frame {
                deferred_cost: -49954,
                data_stack: vec![vec![0x05], vec![]],
                ..Frame::default()
            }),
        ),
    ];
    // The reference appends, for each of these ops, a start state with too little gas.
    for op in [Op::CHECKPREDICATE, Op::VERIFY, Op::FAIL] {
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

//! Vectors from `protocol/vm/stack_test.go` (TestStackOps), Bytom v1.1.0 and Vapor.

use super::*;

#[test]
fn teststackops_table() {
    let cases = vec![
        opc(Op::TOALTSTACK, Frame { run_limit: 50000, data_stack: vec![vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 49998, data_stack: vec![], alt_stack: vec![vec![1]], ..Frame::default() })),
        opc(Op::FROMALTSTACK, Frame { run_limit: 50000, alt_stack: vec![vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 49998, alt_stack: vec![], data_stack: vec![vec![1]], ..Frame::default() })),
        opc(Op::FROMALTSTACK, Frame { run_limit: 50000, alt_stack: vec![], ..Frame::default() }, Err(VmError::AltStackUnderflow)),
        opc(Op::OP_2DROP, Frame { run_limit: 50000, data_stack: vec![vec![1], vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 50016, data_stack: vec![], ..Frame::default() })),
        opc(Op::OP_2DUP, Frame { run_limit: 50000, data_stack: vec![vec![2], vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 49980, data_stack: vec![vec![2], vec![1], vec![2], vec![1]], ..Frame::default() })),
        opc(Op::OP_3DUP, Frame { run_limit: 50000, data_stack: vec![vec![3], vec![2], vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 49970, data_stack: vec![vec![3], vec![2], vec![1], vec![3], vec![2], vec![1]], ..Frame::default() })),
        opc(Op::OP_2OVER, Frame { run_limit: 50000, data_stack: vec![vec![4], vec![3], vec![2], vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 49980, data_stack: vec![vec![4], vec![3], vec![2], vec![1], vec![4], vec![3]], ..Frame::default() })),
        opc(Op::OP_2OVER, Frame { run_limit: 2, data_stack: vec![vec![4], vec![3], vec![2], vec![1]], ..Frame::default() }, Err(VmError::RunLimitExceeded)),
        opc(Op::OP_2ROT, Frame { run_limit: 50000, data_stack: vec![vec![6], vec![5], vec![4], vec![3], vec![2], vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 49998, data_stack: vec![vec![4], vec![3], vec![2], vec![1], vec![6], vec![5]], ..Frame::default() })),
        opc(Op::OP_2SWAP, Frame { run_limit: 50000, data_stack: vec![vec![4], vec![3], vec![2], vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 49998, data_stack: vec![vec![2], vec![1], vec![4], vec![3]], ..Frame::default() })),
        opc(Op::IFDUP, Frame { run_limit: 50000, data_stack: vec![vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 49990, data_stack: vec![vec![1], vec![1]], ..Frame::default() })),
        opc(Op::IFDUP, Frame { run_limit: 50000, data_stack: vec![vec![]], ..Frame::default() }, Ok(Frame { run_limit: 49999, data_stack: vec![vec![]], ..Frame::default() })),
        opc(Op::IFDUP, Frame { run_limit: 1, data_stack: vec![vec![1]], ..Frame::default() }, Err(VmError::RunLimitExceeded)),
        opc(Op::DEPTH, Frame { run_limit: 50000, data_stack: vec![vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 49990, data_stack: vec![vec![1], vec![1]], ..Frame::default() })),
        opc(Op::DEPTH, Frame { run_limit: 1, data_stack: vec![vec![1]], ..Frame::default() }, Err(VmError::RunLimitExceeded)),
        opc(Op::DROP, Frame { run_limit: 50000, data_stack: vec![vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 50008, data_stack: vec![], ..Frame::default() })),
        opc(Op::DUP, Frame { run_limit: 50000, data_stack: vec![vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 49990, data_stack: vec![vec![1], vec![1]], ..Frame::default() })),
        opc(Op::DUP, Frame { run_limit: 1, data_stack: vec![vec![1]], ..Frame::default() }, Err(VmError::RunLimitExceeded)),
        opc(Op::NIP, Frame { run_limit: 50000, data_stack: vec![vec![2], vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 50008, data_stack: vec![vec![1]], ..Frame::default() })),
        opc(Op::OVER, Frame { run_limit: 50000, data_stack: vec![vec![2], vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 49990, data_stack: vec![vec![2], vec![1], vec![2]], ..Frame::default() })),
        opc(Op::OVER, Frame { run_limit: 1, data_stack: vec![vec![2], vec![1]], ..Frame::default() }, Err(VmError::RunLimitExceeded)),
        opc(Op::PICK, Frame { run_limit: 50000, data_stack: vec![vec![3], vec![2], vec![1], vec![2]], ..Frame::default() }, Ok(Frame { run_limit: 49998, data_stack: vec![vec![3], vec![2], vec![1], vec![3]], ..Frame::default() })),
        opc(Op::PICK, Frame { run_limit: 2, data_stack: vec![vec![0xff, 0xff], vec![2], vec![1], vec![2]], ..Frame::default() }, Err(VmError::RunLimitExceeded)),
        opc(Op::ROLL, Frame { run_limit: 50000, data_stack: vec![vec![3], vec![2], vec![1], vec![2]], ..Frame::default() }, Ok(Frame { run_limit: 50007, data_stack: vec![vec![2], vec![1], vec![3]], ..Frame::default() })),
        opc(Op::ROT, Frame { run_limit: 50000, data_stack: vec![vec![3], vec![2], vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 49998, data_stack: vec![vec![2], vec![1], vec![3]], ..Frame::default() })),
        opc(Op::SWAP, Frame { run_limit: 50000, data_stack: vec![vec![2], vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 49999, data_stack: vec![vec![1], vec![2]], ..Frame::default() })),
        opc(Op::TUCK, Frame { run_limit: 50000, data_stack: vec![vec![2], vec![1]], ..Frame::default() }, Ok(Frame { run_limit: 49990, data_stack: vec![vec![1], vec![2], vec![1]], ..Frame::default() })),
        opc(Op::TUCK, Frame { run_limit: 1, data_stack: vec![vec![2], vec![1]], ..Frame::default() }, Err(VmError::RunLimitExceeded)),
    ];
    run_op_cases(cases);
}

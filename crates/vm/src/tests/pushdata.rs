//! Vectors from `protocol/vm/pushdata_test.go` (TestPushdataOps), Bytom v1.1.0 and Vapor.

use super::*;

#[test]
fn testpushdataops_table() {
    let cases = vec![
        opc(Op::FALSE, Frame { run_limit: 50000, data_stack: vec![], ..Frame::default() }, Ok(Frame { run_limit: 49991, data_stack: vec![vec![]], ..Frame::default() })),
        opc(Op::FALSE, Frame { run_limit: 1, data_stack: vec![], ..Frame::default() }, Err(VmError::RunLimitExceeded)),
        opc(Op::OP_1NEGATE, Frame { run_limit: 50000, data_stack: vec![], ..Frame::default() }, Ok(Frame { run_limit: 49983, data_stack: vec![int64_bytes(-1)], ..Frame::default() })),
        opc(Op::OP_1NEGATE, Frame { run_limit: 1, data_stack: vec![], ..Frame::default() }, Err(VmError::RunLimitExceeded)),
    ];
    run_op_cases(cases);
}

//! Vectors from `protocol/vm/splice_test.go` (TestSpliceOps), Bytom v1.1.0 and Vapor.

use super::*;

#[test]
fn testspliceops_table() {
    let mut cases = vec![
        opc(
            Op::CAT,
            Frame {
                run_limit: 50000,
                data_stack: vec![b"hello".to_vec(), b"world".to_vec()],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49986,
                deferred_cost: -18,
                data_stack: vec![b"helloworld".to_vec()],
                ..Frame::default()
            }),
        ),
        opc(
            Op::CAT,
            Frame {
                run_limit: 4,
                data_stack: vec![b"hello".to_vec(), b"world".to_vec()],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
        opc(
            Op::SUBSTR,
            Frame {
                run_limit: 50000,
                data_stack: vec![b"helloworld".to_vec(), vec![3], vec![5]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49991,
                deferred_cost: -28,
                data_stack: vec![b"lowor".to_vec()],
                ..Frame::default()
            }),
        ),
        opc(
            Op::SUBSTR,
            Frame {
                run_limit: 50000,
                data_stack: vec![b"helloworld".to_vec(), vec![3], int64_bytes(-1)],
                ..Frame::default()
            },
            Err(VmError::BadValue),
        ),
        opc(
            Op::SUBSTR,
            Frame {
                run_limit: 50000,
                data_stack: vec![b"helloworld".to_vec(), int64_bytes(-1), vec![5]],
                ..Frame::default()
            },
            Err(VmError::BadValue),
        ),
        opc(
            Op::SUBSTR,
            Frame {
                run_limit: 50000,
                data_stack: vec![b"helloworld".to_vec(), vec![6], vec![5]],
                ..Frame::default()
            },
            Err(VmError::BadValue),
        ),
        opc(
            Op::SUBSTR,
            Frame {
                run_limit: 4,
                data_stack: vec![b"helloworld".to_vec(), vec![3], vec![5]],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
        opc(
            Op::LEFT,
            Frame {
                run_limit: 50000,
                data_stack: vec![b"helloworld".to_vec(), vec![5]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49991,
                deferred_cost: -19,
                data_stack: vec![b"hello".to_vec()],
                ..Frame::default()
            }),
        ),
        opc(
            Op::LEFT,
            Frame {
                run_limit: 50000,
                data_stack: vec![b"helloworld".to_vec(), int64_bytes(-1)],
                ..Frame::default()
            },
            Err(VmError::BadValue),
        ),
        opc(
            Op::LEFT,
            Frame {
                run_limit: 50000,
                data_stack: vec![b"helloworld".to_vec(), vec![11]],
                ..Frame::default()
            },
            Err(VmError::BadValue),
        ),
        opc(
            Op::LEFT,
            Frame {
                run_limit: 4,
                data_stack: vec![b"helloworld".to_vec(), vec![5]],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
        opc(
            Op::RIGHT,
            Frame {
                run_limit: 50000,
                data_stack: vec![b"helloworld".to_vec(), vec![5]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49991,
                deferred_cost: -19,
                data_stack: vec![b"world".to_vec()],
                ..Frame::default()
            }),
        ),
        opc(
            Op::RIGHT,
            Frame {
                run_limit: 50000,
                data_stack: vec![b"helloworld".to_vec(), int64_bytes(-1)],
                ..Frame::default()
            },
            Err(VmError::BadValue),
        ),
        opc(
            Op::RIGHT,
            Frame {
                run_limit: 50000,
                data_stack: vec![b"helloworld".to_vec(), vec![11]],
                ..Frame::default()
            },
            Err(VmError::BadValue),
        ),
        opc(
            Op::RIGHT,
            Frame {
                run_limit: 4,
                data_stack: vec![b"helloworld".to_vec(), vec![5]],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
        opc(
            Op::SIZE,
            Frame {
                run_limit: 50000,
                data_stack: vec![b"helloworld".to_vec()],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49999,
                deferred_cost: 9,
                data_stack: vec![b"helloworld".to_vec(), vec![10]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::CATPUSHDATA,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0xff], vec![0xab, 0xcd]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49993,
                deferred_cost: -10,
                data_stack: vec![vec![0xff, 0x02, 0xab, 0xcd]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::CATPUSHDATA,
            Frame {
                run_limit: 4,
                data_stack: vec![vec![0xff], vec![0xab, 0xcd]],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
    ];
    // The reference appends, for each of these ops, a start state with too little gas.
    for op in [
        Op::CAT,
        Op::SUBSTR,
        Op::LEFT,
        Op::RIGHT,
        Op::CATPUSHDATA,
        Op::SIZE,
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

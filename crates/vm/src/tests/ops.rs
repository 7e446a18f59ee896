//! Vectors from `protocol/vm/ops_test.go`: TestParseOp, TestParseProgram, TestIsPushData.

use super::*;
use crate::ops::{Instruction, parse_op, parse_program};

fn inst(op: Op, data: Vec<u8>, len: u32) -> Instruction {
    Instruction { op, len, data }
}

#[test]
fn parse_op_vectors() {
    let ok: Vec<(Vec<u8>, Instruction)> = vec![
        (vec![Op::ADD.0], inst(Op::ADD, vec![], 1)),
        (vec![Op::OP_16.0], inst(Op::OP_16, vec![16], 1)),
        (vec![Op::DATA_5.0, 1, 1, 1, 1, 1], inst(Op::DATA_5, vec![1; 5], 6)),
        (
            vec![Op::DATA_5.0, 1, 1, 1, 1, 1, 255],
            inst(Op::DATA_5, vec![1; 5], 6),
        ),
        (vec![Op::PUSHDATA1.0, 1, 1], inst(Op::PUSHDATA1, vec![1], 3)),
        (vec![Op::PUSHDATA1.0, 1, 1, 255], inst(Op::PUSHDATA1, vec![1], 3)),
        (vec![Op::PUSHDATA2.0, 1, 0, 1], inst(Op::PUSHDATA2, vec![1], 4)),
        (
            vec![Op::PUSHDATA2.0, 1, 0, 1, 255],
            inst(Op::PUSHDATA2, vec![1], 4),
        ),
        (
            vec![Op::PUSHDATA4.0, 1, 0, 0, 0, 1],
            inst(Op::PUSHDATA4, vec![1], 6),
        ),
        (
            vec![Op::PUSHDATA4.0, 1, 0, 0, 0, 1, 255],
            inst(Op::PUSHDATA4, vec![1], 6),
        ),
    ];
    for (prog, want) in ok {
        assert_eq!(parse_op(&prog, 0), Ok(want), "{}", hex::encode(&prog));
    }
    let short: Vec<(Vec<u8>, u32)> = vec![
        (vec![], 0),
        (vec![Op::OP_0.0], 1),
        (vec![Op::DATA_1.0], 0),
        (vec![Op::PUSHDATA1.0], 0),
        (vec![Op::PUSHDATA1.0, 1], 0),
        (vec![Op::PUSHDATA2.0], 0),
        (vec![Op::PUSHDATA2.0, 1, 0], 0),
        (vec![Op::PUSHDATA4.0], 0),
        (vec![Op::PUSHDATA4.0, 1, 0, 0, 0], 0),
    ];
    for (prog, pc) in short {
        assert_eq!(
            parse_op(&prog, pc),
            Err(VmError::ShortProgram),
            "{} at {pc}",
            hex::encode(&prog)
        );
    }
    // A PUSHDATA4 length of 0xffffffff overflows the 32-bit instruction length.
    let mut prog = vec![0x6d, 0x6b, 0xaa, 0x20];
    prog.extend([0x30; 32]);
    prog.push(0x20);
    prog.extend([0x30; 32]);
    prog.extend([0x00, 0x00, 0x4e, 0xff, 0xff, 0xff, 0xff]);
    prog.extend([0x30; 32]);
    assert_eq!(prog.get(71), Some(&0x4e));
    assert_eq!(parse_op(&prog, 71), Err(VmError::Overflow));
}

#[test]
fn parse_program_vectors() {
    let prog = [Op::OP_2.0, Op::OP_3.0, Op::ADD.0, Op::OP_5.0, Op::NUMEQUAL.0];
    let want = vec![
        inst(Op::OP_2, vec![2], 1),
        inst(Op::OP_3, vec![3], 1),
        inst(Op::ADD, vec![], 1),
        inst(Op::OP_5, vec![5], 1),
        inst(Op::NUMEQUAL, vec![], 1),
    ];
    assert_eq!(parse_program(&prog), Ok(want));
    assert_eq!(parse_program(&[255]), Ok(vec![inst(Op(255), vec![], 1)]));
    assert_eq!(parse_program(&[Op::JUMP.0, 0, 0]), Err(VmError::ShortProgram));
}

#[test]
fn is_pushdata_vectors() {
    assert!(inst(Op::OP_16, vec![16], 1).is_pushdata());
    assert!(inst(Op::DATA_32, vec![16], 1).is_pushdata());
    assert!(inst(Op::FALSE, vec![], 1).is_pushdata());
    assert!(inst(Op::TRUE, vec![1], 1).is_pushdata());
    assert!(!inst(Op::JUMP, vec![0], 1).is_pushdata());
    assert!(!inst(Op::ADD, vec![0x12, 0x56], 2).is_pushdata());
    // 1NEGATE pushes but is not a data push in the reference's sense.
    assert!(!Op::OP_1NEGATE.is_pushdata());
}

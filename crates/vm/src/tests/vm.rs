//! Vectors from `protocol/vm/vm_test.go`: TestProgramOK/NotOK, TestVerifyTxInput, TestRun, TestStep.

use super::*;
use crate::assemble::assemble;
use crate::machine::verify;

/// TestProgramOK and TestProgramNotOK: each program succeeds, and with ` NOT` appended it ends false.
#[test]
fn programs_ok_and_not_ok() {
    let cases: Vec<(&str, Vec<Vec<u8>>)> = vec![
        ("TRUE", vec![]),
        ("INVERT 0xfef0 EQUAL", vec![vec![0x01, 0x0f]]),
        ("AND 0x02 EQUAL", vec![vec![0x03], vec![0x06]]),
        ("AND 0x02 EQUAL", vec![vec![0x03, 0xff], vec![0x06]]),
        ("OR 0x07 EQUAL", vec![vec![0x03], vec![0x06]]),
        ("OR 0x07ff EQUAL", vec![vec![0x03, 0xff], vec![0x06]]),
        ("XOR 0x05 EQUAL", vec![vec![0x03], vec![0x06]]),
        ("XOR 0x05ff EQUAL", vec![vec![0x03, 0xff], vec![0x06]]),
        ("1ADD 2 NUMEQUAL", vec![int64_bytes(1)]),
        ("1ADD 0 NUMEQUAL", vec![int64_bytes(-1)]),
        ("1SUB 1 NUMEQUAL", vec![int64_bytes(2)]),
        ("1SUB -1 NUMEQUAL", vec![int64_bytes(0)]),
        ("2MUL 2 NUMEQUAL", vec![int64_bytes(1)]),
        ("2MUL 0 NUMEQUAL", vec![int64_bytes(0)]),
        ("2MUL -2 NUMEQUAL", vec![int64_bytes(-1)]),
        ("2DIV 1 NUMEQUAL", vec![int64_bytes(2)]),
        ("2DIV 0 NUMEQUAL", vec![int64_bytes(1)]),
        ("2DIV 0 NUMEQUAL", vec![int64_bytes(0)]),
        ("2DIV -1 NUMEQUAL", vec![int64_bytes(-1)]),
        ("2DIV -1 NUMEQUAL", vec![int64_bytes(-2)]),
        ("NEGATE -1 NUMEQUAL", vec![int64_bytes(1)]),
        ("NEGATE 1 NUMEQUAL", vec![int64_bytes(-1)]),
        ("NEGATE 0 NUMEQUAL", vec![int64_bytes(0)]),
        ("ABS 1 NUMEQUAL", vec![int64_bytes(1)]),
        ("ABS 1 NUMEQUAL", vec![int64_bytes(-1)]),
        ("ABS 0 NUMEQUAL", vec![int64_bytes(0)]),
        ("0NOTEQUAL", vec![int64_bytes(1)]),
        ("0NOTEQUAL NOT", vec![int64_bytes(0)]),
        ("ADD 5 NUMEQUAL", vec![int64_bytes(2), int64_bytes(3)]),
        ("SUB 2 NUMEQUAL", vec![int64_bytes(5), int64_bytes(3)]),
        ("MUL 6 NUMEQUAL", vec![int64_bytes(2), int64_bytes(3)]),
        ("DIV 2 NUMEQUAL", vec![int64_bytes(6), int64_bytes(3)]),
        ("MOD 0 NUMEQUAL", vec![int64_bytes(6), int64_bytes(2)]),
        ("MOD 0 NUMEQUAL", vec![int64_bytes(-6), int64_bytes(2)]),
        ("MOD 0 NUMEQUAL", vec![int64_bytes(6), int64_bytes(-2)]),
        ("MOD 0 NUMEQUAL", vec![int64_bytes(-6), int64_bytes(-2)]),
        ("MOD 2 NUMEQUAL", vec![int64_bytes(12), int64_bytes(10)]),
        ("MOD 8 NUMEQUAL", vec![int64_bytes(-12), int64_bytes(10)]),
        ("MOD -8 NUMEQUAL", vec![int64_bytes(12), int64_bytes(-10)]),
        ("MOD -2 NUMEQUAL", vec![int64_bytes(-12), int64_bytes(-10)]),
        ("LSHIFT 2 NUMEQUAL", vec![int64_bytes(1), int64_bytes(1)]),
        ("LSHIFT 4 NUMEQUAL", vec![int64_bytes(1), int64_bytes(2)]),
        ("LSHIFT -2 NUMEQUAL", vec![int64_bytes(-1), int64_bytes(1)]),
        ("LSHIFT -4 NUMEQUAL", vec![int64_bytes(-1), int64_bytes(2)]),
        ("1 1 BOOLAND", vec![]),
        ("1 0 BOOLAND NOT", vec![]),
        ("0 1 BOOLAND NOT", vec![]),
        ("0 0 BOOLAND NOT", vec![]),
        ("1 1 BOOLOR", vec![]),
        ("1 0 BOOLOR", vec![]),
        ("0 1 BOOLOR", vec![]),
        ("0 0 BOOLOR NOT", vec![]),
        ("1 2 OR 3 EQUAL", vec![]),
        ("0 CATPUSHDATA 0x0000 EQUAL", vec![vec![0x00]]),
        ("0 0xff CATPUSHDATA 0x01ff EQUAL", vec![]),
        ("CATPUSHDATA 0x050105 EQUAL", vec![vec![0x05], vec![0x05]]),
        ("CATPUSHDATA 0xff01ff EQUAL", vec![vec![0xff], vec![0xff]]),
        ("0 0xcccccc CATPUSHDATA 0x03cccccc EQUAL", vec![]),
        ("0x05 0x05 SWAP 0xdeadbeef CATPUSHDATA DROP 0x05 EQUAL", vec![]),
        ("0x05 0x05 SWAP 0xdeadbeef CATPUSHDATA DROP 0x05 EQUAL", vec![]),
        ("1 JUMP:7 0 1 EQUAL", vec![]),
        ("1 JUMP:$target 0 $target 1 EQUAL", vec![]),
        ("1 1 JUMPIF:8 0 1 EQUAL", vec![]),
        ("1 1 JUMPIF:$target 0 $target 1 EQUAL", vec![]),
        ("1 0 JUMPIF:8 0 1 EQUAL NOT", vec![]),
        ("1 0 JUMPIF:$target 0 $target 1 EQUAL NOT", vec![]),
        ("1 0 JUMPIF:1", vec![]),
        ("1 $target 0 JUMPIF:$target", vec![]),
        ("4 1 JUMPIF:14 5 EQUAL JUMP:16 4 EQUAL", vec![]),
        ("4 1 JUMPIF:$true 5 EQUAL JUMP:$end $true 4 EQUAL $end", vec![]),
        ("5 0 JUMPIF:14 5 EQUAL JUMP:16 4 EQUAL", vec![]),
        (
            "5 0 JUMPIF:$true 5 EQUAL JUMP:$end $true 4 $test EQUAL $end",
            vec![],
        ),
        ("0 1 2 3 4 5 6 JUMP:13 DROP DUP 0 NUMNOTEQUAL JUMPIF:12 1", vec![]),
    ];
    let ctx = side_ctx();
    for (src, args) in &cases {
        let prog = assemble(src).unwrap();
        assert_eq!(run_verdict(&ctx, &prog, args, 10000), Ok(()), "{src}");
        let prog = assemble(&format!("{src} NOT")).unwrap();
        assert_eq!(
            run_verdict(&ctx, &prog, args, 10000),
            Err(VmError::FalseResult),
            "{src} NOT"
        );
    }
}

/// TestVerifyTxInput: gas left after success, an unsupported VM, and arguments exceeding the limit.
#[test]
fn verify_tx_input() {
    let code = [Op::ADD.0, Op::OP_5.0, Op::NUMEQUAL.0];
    let args = vec![vec![2], vec![3]];
    let ctx = Context::new(VmProfile::Main, &code, &args);
    assert_eq!(verify(&ctx, 10000), Ok(9986));

    let mut ctx = Context::new(VmProfile::Main, &[], &[]);
    ctx.vm_version = 2;
    let failure = verify(&ctx, 10000).unwrap_err();
    assert_eq!(
        (failure.reason, failure.gas_left),
        (VmError::UnsupportedVm, 10000)
    );

    let big = vec![vec![0u8; 50001]];
    let ctx = Context::new(VmProfile::Main, &code, &big);
    let failure = verify(&ctx, 10000).unwrap_err();
    assert_eq!(
        (failure.reason, failure.gas_left, failure.op),
        (VmError::RunLimitExceeded, 0, None)
    );
}

/// TestRun.
#[test]
fn run_cases() {
    let ctx = side_ctx();
    assert_eq!(run_prog(&ctx, &[Op::TRUE.0], &[], 50000).0, Ok(()));
    assert_eq!(
        run_prog(&ctx, &[Op::ADD.0], &[], 50000).0,
        Err(VmError::DataStackUnderflow)
    );
}

/// TestStep: one instruction from a given state, including jumps, expansion opcodes and their
/// reservation under transaction version 1.
#[test]
fn step_cases() {
    let tx = FixedTx { check: Ok(true) };
    let mut ctx = side_ctx();
    ctx.dest_pos = Some(0);
    ctx.tx = Some(&tx);
    let step = |start: Frame| {
        let mut m = Machine::new(&ctx, 0);
        m.frame = start;
        m.step().map(|_| m.frame)
    };
    let prog = vec![Op::TRUE.0];
    let got = step(Frame {
        program: prog.clone(),
        run_limit: 50000,
        ..Frame::default()
    })
    .unwrap();
    let want = Frame {
        program: prog,
        run_limit: 49990,
        data_stack: vec![vec![1]],
        pc: 1,
        next_pc: 1,
        data: vec![1],
        ..Frame::default()
    };
    assert_eq!(got, want);

    let prog = vec![Op::TRUE.0, Op::JUMP.0, 0xff, 0x00, 0x00, 0x00];
    let got = step(Frame {
        program: prog.clone(),
        run_limit: 49990,
        pc: 1,
        ..Frame::default()
    })
    .unwrap();
    let want = Frame {
        program: prog,
        run_limit: 49989,
        data: vec![0xff, 0, 0, 0],
        pc: 255,
        next_pc: 255,
        ..Frame::default()
    };
    assert_eq!(got, want);

    let prog = vec![Op::TRUE.0, Op::JUMPIF.0, 0x00, 0x00, 0x00, 0x00];
    let got = step(Frame {
        program: prog.clone(),
        run_limit: 49995,
        data_stack: vec![vec![1]],
        pc: 1,
        ..Frame::default()
    })
    .unwrap();
    let want = Frame {
        program: prog,
        run_limit: 50003,
        data: vec![0; 4],
        pc: 0,
        next_pc: 0,
        deferred_cost: -9,
        ..Frame::default()
    };
    assert_eq!(got, want);

    let prog = vec![Op::FALSE.0, Op::JUMPIF.0, 0x00, 0x00, 0x00, 0x00];
    let got = step(Frame {
        program: prog.clone(),
        run_limit: 49995,
        data_stack: vec![vec![]],
        pc: 1,
        ..Frame::default()
    })
    .unwrap();
    let want = Frame {
        program: prog,
        run_limit: 50002,
        data: vec![0; 4],
        pc: 6,
        next_pc: 6,
        deferred_cost: -8,
        ..Frame::default()
    };
    assert_eq!(got, want);

    let got = step(Frame {
        program: vec![255],
        run_limit: 50000,
        ..Frame::default()
    })
    .unwrap();
    assert_eq!(
        got,
        Frame {
            program: vec![255],
            run_limit: 49999,
            pc: 1,
            next_pc: 1,
            ..Frame::default()
        }
    );

    let err = step(Frame {
        program: vec![Op::ADD.0],
        run_limit: 50000,
        ..Frame::default()
    })
    .unwrap_err();
    assert_eq!(err, VmError::DataStackUnderflow);

    let err = step(Frame {
        program: vec![Op::INDEX.0],
        run_limit: 1,
        ..Frame::default()
    })
    .unwrap_err();
    assert_eq!(err, VmError::RunLimitExceeded);

    let reserved = Frame {
        program: vec![255],
        run_limit: 100,
        expansion_reserved: true,
        ..Frame::default()
    };
    assert_eq!(step(reserved).unwrap_err(), VmError::DisallowedOpcode);

    let got = step(Frame {
        program: vec![255],
        run_limit: 100,
        ..Frame::default()
    })
    .unwrap();
    assert_eq!(
        got,
        Frame {
            program: vec![255],
            run_limit: 99,
            pc: 1,
            next_pc: 1,
            ..Frame::default()
        }
    );
}

/// Transaction version 1 reserves expansion opcodes through `verify`; other versions run them as NOPs.
/// A CHECKPREDICATE child never inherits the reservation (the reference builds it without the flag).
#[test]
fn expansion_reserved_by_tx_version() {
    let code = [0x50, Op::TRUE.0];
    let mut ctx = Context::new(VmProfile::Main, &code, &[]);
    assert_eq!(verify(&ctx, 1000), Ok(1000 - 1 - 10));
    ctx.tx_version = Some(1);
    let failure = verify(&ctx, 1000).unwrap_err();
    assert_eq!(
        (failure.reason, failure.op, failure.pc),
        (VmError::DisallowedOpcode, Some("NOPx50"), 0)
    );

    // 0 <0x50 TRUE> 0 CHECKPREDICATE: the child runs the expansion opcode even under version 1.
    let code = assemble("0 0x5051 0 CHECKPREDICATE").unwrap();
    let mut ctx = Context::new(VmProfile::Main, &code, &[]);
    ctx.tx_version = Some(1);
    assert!(verify(&ctx, 10000).is_ok());
}

/// MULFRACTION (Vapor's `numeric_test.go`) exists only under the Side profile; under Main 0xa6 is an
/// expansion opcode (a 1-gas NOP, disallowed under transaction version 1) and has no mnemonic.
#[test]
fn mulfraction_only_on_side() {
    let code = assemble("15 2 3 MULFRACTION 10 NUMEQUAL").unwrap();
    let side = Context::new(VmProfile::Side, &code, &[]);
    assert!(verify(&side, 10000).is_ok());

    let main = Context::new(VmProfile::Main, &code, &[]);
    // Under Main the opcode does nothing, so 15 2 3 stay and `3 == 10` is false.
    assert_eq!(verify(&main, 10000).unwrap_err().reason, VmError::FalseResult);
    let mut main_v1 = main;
    main_v1.tx_version = Some(1);
    let failure = verify(&main_v1, 10000).unwrap_err();
    assert_eq!(
        (failure.reason, failure.op),
        (VmError::DisallowedOpcode, Some("NOPxa6"))
    );

    assert_eq!(Op::MULFRACTION.name(VmProfile::Main), "NOPxa6");
    assert_eq!(Op::MULFRACTION.name(VmProfile::Side), "MULFRACTION");
    assert!(crate::assemble::assemble_for(VmProfile::Main, "MULFRACTION").is_err());
    assert_eq!(
        crate::assemble::disassemble_for(VmProfile::Main, &[0xa6]).unwrap(),
        "NOPxa6"
    );
}

/// Failures name the instruction of the top-level program where they happened.
#[test]
fn failure_reports_op_and_pc() {
    let code = assemble("1 2 ADD 0x00 CHECKSIG").unwrap();
    let ctx = Context::new(VmProfile::Main, &code, &[]);
    let failure = verify(&ctx, 10000).unwrap_err();
    assert_eq!(
        (failure.op, failure.pc, &failure.reason),
        (Some("CHECKSIG"), 5, &VmError::DataStackUnderflow)
    );
    assert_eq!(failure.to_string(), "data stack underflow at CHECKSIG (pc 5)");

    let code = assemble("1 0 VERIFY").unwrap();
    let ctx = Context::new(VmProfile::Main, &code, &[]);
    let failure = verify(&ctx, 10000).unwrap_err();
    assert_eq!(
        (failure.op, failure.pc, failure.reason),
        (Some("VERIFY"), 2, VmError::VerifyFailed)
    );

    let code = assemble("0").unwrap();
    let ctx = Context::new(VmProfile::Main, &code, &[]);
    let failure = verify(&ctx, 10000).unwrap_err();
    assert_eq!(
        (failure.op, failure.pc, failure.reason),
        (None, 1, VmError::FalseResult)
    );
}

/// CHECKPREDICATE nested deeper than any Rust stack could recurse still runs: the frames live on the heap.
#[test]
fn deep_checkpredicate_nesting() {
    // Each level pushes a copy of the predicate and runs it on itself, until the gas runs out; the
    // innermost failure makes every level false, and the outermost reports a false result.
    let inner = assemble("DUP 1 SWAP 0 CHECKPREDICATE").unwrap();
    let args = vec![inner.clone()];
    let ctx = Context::new(VmProfile::Main, &inner, &args);
    let failure = verify(&ctx, 5_000_000).unwrap_err();
    assert_eq!(failure.reason, VmError::FalseResult);
    // Every level keeps about 70 gas it never gets back (op costs and CHECKPREDICATE's 64), so only a
    // nesting thousands deep consumes this much.
    assert!(failure.gas_left < 4_000_000, "gas left {}", failure.gas_left);
    // A predicate that does not recurse costs almost nothing.
    let flat = assemble("DUP 0 SWAP 0 CHECKPREDICATE").unwrap();
    let args = vec![flat.clone()];
    let ctx = Context::new(VmProfile::Main, &flat, &args);
    assert!(verify(&ctx, 5_000_000).unwrap_err().gas_left > 4_999_000);
}

//! Vectors from `protocol/vm/introspection_test.go`: TestOutputIDAndNonceOp, TestBlockHeight,
//! TestIntrospectionOps (with a test implementation of [`TxIntrospection`]).

use super::*;
use crate::assemble::assemble;

const ENTRY_ID: &str = "2e68d78cdeaa98944c12512cf9c719eb4881e9afb61e4b766df5f369aee6392c";
const ASSET_ID: &str = "0100000000000000000000000000000000000000000000000000000000000000";
const OUTPUT_ID: &str = "0a60f9b12950c84c221012a808ef7782823b7e16b71fe2ba01811cda96a217df";
const PROG_HASH: &str = "1f2a05f881ed9fa0c9068a84823677409f863891a2196eb55dbfbb677a566374";

#[test]
fn output_id() {
    let output_id = hx(OUTPUT_ID);
    let mut ctx = side_ctx();
    ctx.spent_output_id = Some(&output_id);
    let (res, frame) = run_prog(&ctx, &[Op::OUTPUTID.0], &[], 50000);
    assert_eq!(res, Ok(()));
    assert_eq!(frame.data_stack, vec![output_id.clone()]);

    let ctx = side_ctx();
    assert_eq!(
        run_prog(&ctx, &[Op::OUTPUTID.0], &[], 50000).0,
        Err(VmError::Context)
    );
}

#[test]
fn block_height() {
    let mut ctx = side_ctx();
    ctx.block_height = Some(6666);
    let prog = assemble("BLOCKHEIGHT 6666 NUMEQUAL").unwrap();
    assert_eq!(run_verdict(&ctx, &prog, &[], 50000), Ok(()));
    let prog = assemble("BLOCKHEIGHT 7777 NUMEQUAL").unwrap();
    assert_eq!(run_verdict(&ctx, &prog, &[], 50000), Err(VmError::FalseResult));
}

/// A `CHECKOUTPUT` request as the test records it.
type Seen = (u64, u64, Vec<u8>, u64, Vec<u8>, bool);

/// Records the last `CHECKOUTPUT` request and answers with a fixed result.
struct RecordingTx {
    answer: Result<bool, VmError>,
    seen: std::cell::RefCell<Option<Seen>>,
}

impl TxIntrospection for RecordingTx {
    fn tx_sig_hash(&self) -> ::types::Hash {
        ::types::Hash(SIGHASH)
    }
    fn check_output(&self, c: &OutputCheck<'_>) -> Result<bool, VmError> {
        *self.seen.borrow_mut() = Some((
            c.index,
            c.amount,
            c.asset_id.to_vec(),
            c.vm_version,
            c.code.to_vec(),
            c.expansion,
        ));
        self.answer.clone()
    }
}

/// Runs the single opcode `op` as a one-byte program, as the reference's TestIntrospectionOps does.
fn run_one(ctx: &Context<'_>, op: Op, stack: Vec<Vec<u8>>, limit: i64) -> (Result<(), VmError>, Frame) {
    run_prog(ctx, &[op.0], &stack, limit)
}

fn done(run_limit: i64, deferred_cost: i64, data_stack: Vec<Vec<u8>>, op: Op) -> Frame {
    Frame {
        program: vec![op.0],
        pc: 1,
        next_pc: 1,
        run_limit,
        deferred_cost,
        data_stack,
        ..Frame::default()
    }
}

fn asset(first: u8) -> Vec<u8> {
    let mut a = vec![0u8; 32];
    a[0] = first;
    a
}

#[test]
fn introspection_ops() {
    // CHECKOUTPUT answered false: the five operands are consumed and false is pushed.
    let tx = RecordingTx {
        answer: Ok(false),
        seen: Default::default(),
    };
    let mut ctx = side_ctx();
    ctx.tx = Some(&tx);
    let stack = vec![vec![0], vec![1], asset(9), vec![1], b"missingprog".to_vec()];
    let (res, frame) = run_one(&ctx, Op::CHECKOUTPUT, stack, 50000);
    assert_eq!(res, Ok(()));
    assert_eq!(frame, done(50062, -78, vec![vec![]], Op::CHECKOUTPUT));
    assert_eq!(
        *tx.seen.borrow(),
        Some((0, 1, asset(9), 1, b"missingprog".to_vec(), false))
    );

    // Negative vm version, amount or index: bad value before the context is consulted.
    let no_tx = side_ctx();
    for stack in [
        vec![
            vec![4],
            hx(PROG_HASH),
            vec![7],
            asset(2),
            int64_bytes(-1),
            b"controlprog".to_vec(),
        ],
        vec![
            vec![4],
            hx(PROG_HASH),
            int64_bytes(-1),
            asset(2),
            vec![1],
            b"controlprog".to_vec(),
        ],
        vec![
            int64_bytes(-1),
            hx(PROG_HASH),
            vec![7],
            asset(2),
            vec![1],
            b"controlprog".to_vec(),
        ],
    ] {
        assert_eq!(
            run_one(&no_tx, Op::CHECKOUTPUT, stack, 50000).0,
            Err(VmError::BadValue)
        );
    }

    // The introspection's own error ends the program.
    let failing = RecordingTx {
        answer: Err(VmError::BadValue),
        seen: Default::default(),
    };
    let mut ctx = side_ctx();
    ctx.tx = Some(&failing);
    let stack = vec![
        vec![5],
        hx(PROG_HASH),
        vec![7],
        asset(2),
        vec![1],
        b"controlprog".to_vec(),
    ];
    assert_eq!(
        run_one(&ctx, Op::CHECKOUTPUT, stack.clone(), 50000).0,
        Err(VmError::BadValue)
    );
    assert_eq!(
        run_one(&no_tx, Op::CHECKOUTPUT, stack.clone(), 0).0,
        Err(VmError::RunLimitExceeded)
    );
    // With well-formed operands the introspection's own error is what ends the program.
    let failing = RecordingTx {
        answer: Err(VmError::Introspection("missing entry".into())),
        seen: Default::default(),
    };
    let mut ctx = side_ctx();
    ctx.tx = Some(&failing);
    let stack = vec![vec![0], vec![7], asset(2), vec![1], b"controlprog".to_vec()];
    let want = Err(VmError::Introspection("missing entry".into()));
    assert_eq!(run_one(&ctx, Op::CHECKOUTPUT, stack.clone(), 50000).0, want);
    // Absent introspection is the context error.
    assert_eq!(
        run_one(&no_tx, Op::CHECKOUTPUT, stack, 50000).0,
        Err(VmError::Context)
    );

    let asset_id = hx(ASSET_ID);
    let mut ctx = side_ctx();
    ctx.asset_id = Some(&asset_id);
    let (res, frame) = run_one(&ctx, Op::ASSET, vec![], 50000);
    assert_eq!(
        (res, frame),
        (Ok(()), done(49959, 40, vec![asset_id.clone()], Op::ASSET))
    );

    let mut ctx = side_ctx();
    ctx.amount = Some(5);
    let (res, frame) = run_one(&ctx, Op::AMOUNT, vec![], 50000);
    assert_eq!((res, frame), (Ok(()), done(49990, 9, vec![vec![5]], Op::AMOUNT)));

    // PROGRAM pushes the context's program (the top-level one, even inside CHECKPREDICATE).
    for code in [b"spendprog", b"issueprog"] {
        let ctx = Context::new(VmProfile::Side, code, &[]);
        let mut m = Machine::new(&ctx, 50000);
        m.frame.program = vec![Op::PROGRAM.0];
        let res = m.run();
        assert_eq!(
            (res, m.frame),
            (Ok(()), done(49982, 17, vec![code.to_vec()], Op::PROGRAM))
        );
    }

    let mut ctx = side_ctx();
    ctx.dest_pos = Some(0);
    let (res, frame) = run_one(&ctx, Op::INDEX, vec![], 50000);
    assert_eq!((res, frame), (Ok(()), done(49991, 8, vec![vec![]], Op::INDEX)));

    let entry_id = hx(ENTRY_ID);
    let mut ctx = side_ctx();
    ctx.entry_id = &entry_id;
    let (res, frame) = run_one(&ctx, Op::ENTRYID, vec![], 50000);
    assert_eq!(
        (res, frame),
        (Ok(()), done(49959, 40, vec![entry_id.clone()], Op::ENTRYID))
    );

    for op in [
        Op::CHECKOUTPUT,
        Op::ASSET,
        Op::AMOUNT,
        Op::PROGRAM,
        Op::INDEX,
        Op::OUTPUTID,
    ] {
        assert_eq!(
            run_one(&side_ctx(), op, vec![], 0).0,
            Err(VmError::RunLimitExceeded),
            "{op}"
        );
    }
    // Absent fields are the context error.
    for op in [
        Op::ASSET,
        Op::AMOUNT,
        Op::INDEX,
        Op::OUTPUTID,
        Op::BLOCKHEIGHT,
        Op::TXSIGHASH,
    ] {
        assert_eq!(
            run_one(&side_ctx(), op, vec![], 50000).0,
            Err(VmError::Context),
            "{op}"
        );
    }
}

/// Inside a transaction of version 1 the reservation flag reaches CHECKOUTPUT (retirements then
/// match any program); children of CHECKPREDICATE pass `false`, as the reference's child VM does.
#[test]
fn checkoutput_expansion_flag() {
    let tx = RecordingTx {
        answer: Ok(true),
        seen: Default::default(),
    };
    let code = assemble("0 1 0x01 1 'p' CHECKOUTPUT").unwrap();
    let mut ctx = Context::new(VmProfile::Main, &code, &[]);
    ctx.tx = Some(&tx);
    ctx.tx_version = Some(1);
    assert!(crate::machine::verify(&ctx, 10000).is_ok());
    assert_eq!(tx.seen.borrow().as_ref().map(|s| s.5), Some(true));

    let child = code.clone();
    let code = [
        crate::types::pushdata_int64(0),
        crate::types::pushdata_bytes(&child),
        vec![0x00, Op::CHECKPREDICATE.0],
    ]
    .concat();
    let mut ctx = Context::new(VmProfile::Main, &code, &[]);
    ctx.tx = Some(&tx);
    ctx.tx_version = Some(1);
    assert!(crate::machine::verify(&ctx, 10000).is_ok());
    assert_eq!(tx.seen.borrow().as_ref().map(|s| s.5), Some(false));
}

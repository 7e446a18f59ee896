//! Reference vectors. Each submodule ports one test file of the reference VM
//! (`protocol/vm/*_test.go`, identical in Bytom v1.1.0 and Vapor except `MULFRACTION`) and says which.
//! Op-level tables compare the whole machine state after one opcode, as the reference's do.

use crate::context::{Context, OutputCheck, TxIntrospection, VmProfile};
use crate::error::VmError;
use crate::machine::{Frame, Machine};
use crate::ops::Op;
#[allow(unused_imports)]
pub(crate) use crate::types::{int64_bytes, pushdata_bytes, pushdata_int64};

mod assemble;
mod bitwise;
mod control;
mod crypto;
mod crypto_sig;
mod introspection;
mod numeric;
mod ops;
mod pushdata;
mod splice;
mod stack;
mod types;
mod vm;

pub(crate) fn hx(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// The signature hash that `crypto_test.go`'s TXSIGHASH case returns.
pub(crate) const SIGHASH: [u8; 32] = [
    0x2f, 0x00, 0x3c, 0xdd, 0x64, 0x42, 0x7b, 0x5e, 0xed, 0xd6, 0xcc, 0xb5, 0x85, 0x47, 0x02, 0x0b, 0x02,
    0xde, 0xf2, 0x2d, 0xc5, 0x99, 0x7e, 0x9d, 0xa9, 0xac, 0x40, 0x49, 0xc3, 0x4a, 0x58, 0xd8,
];

/// A test introspection: a fixed signature hash and a fixed `CHECKOUTPUT` answer, recording nothing.
pub(crate) struct FixedTx {
    pub(crate) check: Result<bool, VmError>,
}

impl TxIntrospection for FixedTx {
    fn tx_sig_hash(&self) -> ::types::Hash {
        ::types::Hash(SIGHASH)
    }
    fn check_output(&self, _check: &OutputCheck<'_>) -> Result<bool, VmError> {
        self.check.clone()
    }
}

pub(crate) struct OpCase {
    pub(crate) op: Op,
    pub(crate) start: Frame,
    pub(crate) want: Result<Frame, VmError>,
}

pub(crate) fn opc(op: Op, start: Frame, want: Result<Frame, VmError>) -> OpCase {
    OpCase { op, start, want }
}

/// Runs each case's opcode directly on its start state (Side profile, so `MULFRACTION` exists) and
/// compares the error or the whole resulting state.
pub(crate) fn run_op_cases(cases: Vec<OpCase>) {
    let tx = FixedTx { check: Ok(true) };
    let mut ctx = Context::new(VmProfile::Side, &[], &[]);
    ctx.tx = Some(&tx);
    run_op_cases_in(&ctx, cases);
}

pub(crate) fn run_op_cases_in(ctx: &Context<'_>, cases: Vec<OpCase>) {
    assert!(!cases.is_empty());
    for (i, case) in cases.into_iter().enumerate() {
        let mut m = Machine::new(ctx, 0);
        m.frame = case.start;
        let got = m.exec_complete(case.op);
        match case.want {
            Err(e) => assert_eq!(got, Err(e), "case {i} ({})", case.op),
            Ok(want) => {
                assert_eq!(got, Ok(()), "case {i} ({})", case.op);
                assert_eq!(m.frame, want, "case {i} ({})", case.op);
            }
        }
    }
}

/// Runs `prog` from a fresh machine as the reference's `vm.run()` does (no false-result check), with
/// `args` on the stack; returns the outcome and the final frame.
pub(crate) fn run_prog(
    ctx: &Context<'_>,
    prog: &[u8],
    args: &[Vec<u8>],
    limit: i64,
) -> (Result<(), VmError>, Frame) {
    let mut m = Machine::new(ctx, limit);
    m.frame.program = prog.to_vec();
    m.frame.data_stack = args.to_vec();
    let res = m.run();
    (res, m.frame)
}

/// `run_prog` plus the reference's false-result rule.
pub(crate) fn run_verdict(
    ctx: &Context<'_>,
    prog: &[u8],
    args: &[Vec<u8>],
    limit: i64,
) -> Result<(), VmError> {
    let (res, frame) = run_prog(ctx, prog, args, limit);
    res?;
    if frame.false_result() {
        Err(VmError::FalseResult)
    } else {
        Ok(())
    }
}

pub(crate) fn side_ctx() -> Context<'static> {
    Context::new(VmProfile::Side, &[], &[])
}

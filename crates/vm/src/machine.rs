//! The interpreter: frames, gas accounting, and every opcode.
//!
//! `CHECKPREDICATE` runs a child program; instead of recursing on the Rust stack (the depth is bounded
//! only by gas) the machine keeps suspended parent frames in a vector and resumes them when the child
//! ends, which gives the reference's results without a stack-overflow hazard.

use sha2::Digest as _;

use crate::context::{Context, OutputCheck};
use crate::error::{VmError, VmFailure};
use crate::ops::{Op, parse_op, to_index};
use crate::types::{as_bool, as_int64, bool_bytes, int64_bytes, pushdata_bytes};

/// One running program: the state the reference keeps per virtual machine.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) program: Vec<u8>,
    pub(crate) pc: u32,
    pub(crate) next_pc: u32,
    pub(crate) run_limit: i64,
    pub(crate) deferred_cost: i64,
    pub(crate) expansion_reserved: bool,
    pub(crate) data: Vec<u8>,
    pub(crate) depth: usize,
    pub(crate) data_stack: Vec<Vec<u8>>,
    pub(crate) alt_stack: Vec<Vec<u8>>,
}

/// What an opcode asks of the driver.
pub(crate) enum Flow {
    /// Carry on with the next instruction.
    Next,
    /// Run this child frame (`CHECKPREDICATE`), then finish the current instruction.
    Call(Box<Frame>),
}

type OpResult = Result<Flow, VmError>;

fn len_cost(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

fn u64_as_i64(n: u64) -> i64 {
    // The reference converts with a plain Go conversion, which reinterprets the bits.
    i64::from_le_bytes(n.to_le_bytes())
}

fn i64_as_u64(n: i64) -> u64 {
    u64::from_le_bytes(n.to_le_bytes())
}

/// Memory cost of a stack: 8 per item plus its bytes.
pub(crate) fn stack_cost(stack: &[Vec<u8>]) -> i64 {
    stack
        .iter()
        .fold(len_cost(stack.len()).wrapping_mul(8), |acc, item| {
            acc.wrapping_add(len_cost(item.len()))
        })
}

impl Frame {
    /// Charges `n` gas (a negative `n` refunds); running out zeroes the limit as the reference does.
    pub(crate) fn apply_cost(&mut self, n: i64) -> Result<(), VmError> {
        if n > self.run_limit {
            self.run_limit = 0;
            return Err(VmError::RunLimitExceeded);
        }
        // Go's int64 arithmetic wraps; wrapping keeps the same numbers for any gas limit.
        self.run_limit = self.run_limit.wrapping_sub(n);
        Ok(())
    }

    fn defer_cost(&mut self, n: i64) {
        self.deferred_cost = self.deferred_cost.wrapping_add(n);
    }

    pub(crate) fn push(&mut self, data: Vec<u8>, deferred: bool) -> Result<(), VmError> {
        let cost = len_cost(data.len()).wrapping_add(8);
        if deferred {
            self.defer_cost(cost);
        } else {
            self.apply_cost(cost)?;
        }
        self.data_stack.push(data);
        Ok(())
    }

    fn push_bool(&mut self, b: bool, deferred: bool) -> Result<(), VmError> {
        self.push(bool_bytes(b), deferred)
    }

    fn push_int64(&mut self, n: i64, deferred: bool) -> Result<(), VmError> {
        self.push(int64_bytes(n), deferred)
    }

    fn pop(&mut self, deferred: bool) -> Result<Vec<u8>, VmError> {
        let item = self.data_stack.pop().ok_or(VmError::DataStackUnderflow)?;
        let cost = len_cost(item.len()).wrapping_add(8);
        if deferred {
            self.defer_cost(cost.wrapping_neg());
        } else {
            self.run_limit = self.run_limit.wrapping_add(cost);
        }
        Ok(item)
    }

    fn pop_int64(&mut self, deferred: bool) -> Result<i64, VmError> {
        let item = self.pop(deferred)?;
        as_int64(&item)
    }

    fn top(&self) -> Result<&Vec<u8>, VmError> {
        self.data_stack.last().ok_or(VmError::DataStackUnderflow)
    }

    /// True iff the stack is empty or its top item is false.
    pub(crate) fn false_result(&self) -> bool {
        self.data_stack.last().is_none_or(|top| !as_bool(top))
    }

    /// The item `n` places below the top (0 is the top), if there is one.
    fn nth_from_top(&self, n: usize) -> Result<&Vec<u8>, VmError> {
        let len = self.data_stack.len();
        let index = len.checked_sub(n + 1).ok_or(VmError::DataStackUnderflow)?;
        self.data_stack.get(index).ok_or(VmError::DataStackUnderflow)
    }

    fn jump_target(&self) -> u32 {
        let mut raw = [0u8; 4];
        raw.iter_mut().zip(&self.data).for_each(|(r, d)| *r = *d);
        u32::from_le_bytes(raw)
    }
}

/// The interpreter over one [`Context`]: the running frame plus the parents suspended by
/// `CHECKPREDICATE`.
pub(crate) struct Machine<'c, 'a> {
    pub(crate) ctx: &'c Context<'a>,
    pub(crate) frame: Frame,
    suspended: Vec<Frame>,
    /// pc of the instruction the running frame is executing, for failure reports.
    step_pc: u32,
}

/// Verifies the program of `ctx` with `gas_limit` gas: pushes the arguments, runs the program, and
/// requires a true top item. Returns the gas left.
///
/// # Consensus
/// The reference's `vm.Verify` (`protocol/vm/vm.go`): only VM version 1 runs (an unsupported version
/// leaves the whole limit), transaction version 1 reserves the expansion opcodes, and the gas left is
/// what the ledger charges.
pub fn verify(ctx: &Context<'_>, gas_limit: i64) -> Result<i64, VmFailure> {
    if ctx.vm_version != 1 {
        return Err(VmFailure {
            op: None,
            pc: 0,
            reason: VmError::UnsupportedVm,
            gas_left: gas_limit,
        });
    }
    let mut machine = Machine::new(ctx, gas_limit);
    machine.frame.expansion_reserved = ctx.tx_version == Some(1);
    for arg in ctx.arguments {
        if let Err(reason) = machine.frame.push(arg.clone(), false) {
            return Err(VmFailure {
                op: None,
                pc: 0,
                reason,
                gas_left: machine.frame.run_limit,
            });
        }
    }
    match machine.run() {
        Ok(()) if machine.frame.false_result() => Err(VmFailure {
            op: None,
            pc: u32::try_from(ctx.code.len()).unwrap_or(u32::MAX),
            reason: VmError::FalseResult,
            gas_left: machine.frame.run_limit,
        }),
        Ok(()) => Ok(machine.frame.run_limit),
        Err(reason) => {
            let pc = machine.step_pc;
            let op = ctx.code.get(to_index(pc)).map(|b| Op(*b).name(ctx.profile));
            Err(VmFailure {
                op,
                pc,
                reason,
                gas_left: machine.frame.run_limit,
            })
        }
    }
}

impl<'c, 'a> Machine<'c, 'a> {
    pub(crate) fn new(ctx: &'c Context<'a>, run_limit: i64) -> Self {
        let frame = Frame {
            program: ctx.code.to_vec(),
            run_limit,
            ..Frame::default()
        };
        Machine {
            ctx,
            frame,
            suspended: Vec::new(),
            step_pc: 0,
        }
    }

    /// Runs the current frame to its end, including the children it calls; returns its outcome.
    pub(crate) fn run(&mut self) -> Result<(), VmError> {
        let base = self.suspended.len();
        loop {
            let mut outcome = self.run_frame();
            if let Ok(Some(child)) = outcome {
                let parent = std::mem::replace(&mut self.frame, *child);
                self.suspended.push(parent);
                continue;
            }
            // The current frame ended; finish the CHECKPREDICATE of each parent it returns to.
            loop {
                if self.suspended.len() == base {
                    return outcome.map(|_| ());
                }
                let Some(parent) = self.suspended.pop() else {
                    return outcome.map(|_| ());
                };
                let child = std::mem::replace(&mut self.frame, parent);
                let ok = outcome.is_ok() && !child.false_result();
                self.finish_predicate(&child, ok);
                match self.complete_step() {
                    Ok(()) => break,
                    Err(e) => outcome = Err(e),
                }
            }
        }
    }

    /// Steps the current frame until it ends (`Ok(None)`), fails, or calls a child (`Ok(Some)`).
    fn run_frame(&mut self) -> Result<Option<Box<Frame>>, VmError> {
        while to_index(self.frame.pc) < self.frame.program.len() {
            if let Flow::Call(child) = self.step()? {
                return Ok(Some(child));
            }
        }
        Ok(None)
    }

    /// Executes one instruction of the current frame.
    pub(crate) fn step(&mut self) -> Result<Flow, VmError> {
        if self.suspended.is_empty() {
            self.step_pc = self.frame.pc;
        }
        let inst = parse_op(&self.frame.program, self.frame.pc)?;
        self.frame.next_pc = self.frame.pc.wrapping_add(inst.len);

        if inst.op.is_expansion(self.ctx.profile) {
            if self.frame.expansion_reserved {
                return Err(VmError::DisallowedOpcode);
            }
            self.frame.pc = self.frame.next_pc;
            self.frame.apply_cost(1)?;
            return Ok(Flow::Next);
        }

        self.frame.deferred_cost = 0;
        self.frame.data = inst.data;
        match self.exec(inst.op)? {
            Flow::Next => {
                self.complete_step()?;
                Ok(Flow::Next)
            }
            call @ Flow::Call(_) => Ok(call),
        }
    }

    /// The end of every instruction: settle the deferred cost and move on.
    fn complete_step(&mut self) -> Result<(), VmError> {
        let deferred = self.frame.deferred_cost;
        self.frame.apply_cost(deferred)?;
        self.frame.pc = self.frame.next_pc;
        Ok(())
    }

    /// The end of `CHECKPREDICATE` once its child has run: refund what the child did not use and the
    /// memory it leaves, and push whether it succeeded.
    fn finish_predicate(&mut self, child: &Frame, ok: bool) {
        let frame = &mut self.frame;
        frame.defer_cost(child.run_limit.wrapping_neg());
        frame.defer_cost(stack_cost(&child.data_stack).wrapping_neg());
        frame.defer_cost(stack_cost(&child.alt_stack).wrapping_neg());
        frame.data_stack.push(bool_bytes(ok));
        frame.defer_cost(len_cost(usize::from(ok)).wrapping_add(8));
    }

    /// Runs one opcode to completion, child program included, without settling its deferred cost:
    /// what the reference's tests observe when they call an op function directly.
    #[cfg(test)]
    pub(crate) fn exec_complete(&mut self, op: Op) -> Result<(), VmError> {
        if let Flow::Call(child) = self.exec(op)? {
            let parent = std::mem::replace(&mut self.frame, *child);
            let result = self.run();
            let child = std::mem::replace(&mut self.frame, parent);
            let ok = result.is_ok() && !child.false_result();
            self.finish_predicate(&child, ok);
        }
        Ok(())
    }

    /// Dispatches one opcode (never an expansion opcode: `step` handles those).
    pub(crate) fn exec(&mut self, op: Op) -> OpResult {
        let f = &mut self.frame;
        match op {
            Op::FALSE => {
                f.apply_cost(1)?;
                f.push_bool(false, false)?;
            }
            Op(0x01..=0x4e) | Op(0x51..=0x60) => {
                f.apply_cost(1)?;
                let data = f.data.clone();
                f.push(data, false)?;
            }
            Op::OP_1NEGATE => {
                f.apply_cost(1)?;
                f.push_int64(-1, false)?;
            }
            Op::NOP => f.apply_cost(1)?,

            Op::JUMP => {
                f.apply_cost(1)?;
                f.next_pc = f.jump_target();
            }
            Op::JUMPIF => {
                f.apply_cost(1)?;
                if as_bool(&f.pop(true)?) {
                    f.next_pc = f.jump_target();
                }
            }
            Op::VERIFY => {
                f.apply_cost(1)?;
                if !as_bool(&f.pop(true)?) {
                    return Err(VmError::VerifyFailed);
                }
            }
            Op::FAIL => {
                f.apply_cost(1)?;
                return Err(VmError::Fail);
            }
            Op::CHECKPREDICATE => return check_predicate(f),

            Op::TOALTSTACK => {
                f.apply_cost(2)?;
                let item = f.data_stack.pop().ok_or(VmError::DataStackUnderflow)?;
                f.alt_stack.push(item);
            }
            Op::FROMALTSTACK => {
                f.apply_cost(2)?;
                let item = f.alt_stack.pop().ok_or(VmError::AltStackUnderflow)?;
                f.data_stack.push(item);
            }
            Op::OP_2DROP => {
                f.apply_cost(2)?;
                f.pop(false)?;
                f.pop(false)?;
            }
            Op::OP_2DUP => n_dup(f, 2)?,
            Op::OP_3DUP => n_dup(f, 3)?,
            Op::DUP => n_dup(f, 1)?,
            Op::OP_2OVER => {
                f.apply_cost(2)?;
                if f.data_stack.len() < 4 {
                    return Err(VmError::DataStackUnderflow);
                }
                for _ in 0..2 {
                    let item = f.nth_from_top(3)?.clone();
                    f.push(item, false)?;
                }
            }
            Op::OP_2ROT => {
                f.apply_cost(2)?;
                let len = f.data_stack.len();
                let start = len.checked_sub(6).ok_or(VmError::DataStackUnderflow)?;
                // [.. a b c d e f] becomes [.. c d e f a b]
                f.data_stack[start..].rotate_left(2);
            }
            Op::OP_2SWAP => {
                f.apply_cost(2)?;
                let len = f.data_stack.len();
                let start = len.checked_sub(4).ok_or(VmError::DataStackUnderflow)?;
                f.data_stack[start..].rotate_left(2);
            }
            Op::IFDUP => {
                f.apply_cost(1)?;
                let top = f.top()?;
                if as_bool(top) {
                    let item = top.clone();
                    f.push(item, false)?;
                }
            }
            Op::DEPTH => {
                f.apply_cost(1)?;
                let depth = len_cost(f.data_stack.len());
                f.push_int64(depth, false)?;
            }
            Op::DROP => {
                f.apply_cost(1)?;
                f.pop(false)?;
            }
            Op::NIP => {
                f.apply_cost(1)?;
                // The top item is set aside without memory accounting; only the one below is charged.
                let top = f.data_stack.pop().ok_or(VmError::DataStackUnderflow)?;
                f.pop(false)?;
                f.data_stack.push(top);
            }
            Op::OVER => {
                f.apply_cost(1)?;
                let item = f.nth_from_top(1)?.clone();
                f.push(item, false)?;
            }
            Op::PICK => {
                f.apply_cost(2)?;
                let n = f.pop_int64(false)?;
                let off = pick_offset(n)?;
                let index = len_cost(f.data_stack.len())
                    .checked_sub(off)
                    .ok_or(VmError::DataStackUnderflow)?;
                let index = usize::try_from(index).map_err(|_| VmError::DataStackUnderflow)?;
                let item = f
                    .data_stack
                    .get(index)
                    .ok_or(VmError::DataStackUnderflow)?
                    .clone();
                f.push(item, false)?;
            }
            Op::ROLL => {
                f.apply_cost(2)?;
                let n = f.pop_int64(false)?;
                let off = pick_offset(n)?;
                rot(f, off)?;
            }
            Op::ROT => {
                f.apply_cost(2)?;
                rot(f, 3)?;
            }
            Op::SWAP => {
                f.apply_cost(1)?;
                let len = f.data_stack.len();
                let start = len.checked_sub(2).ok_or(VmError::DataStackUnderflow)?;
                f.data_stack.swap(start, start + 1);
            }
            Op::TUCK => {
                f.apply_cost(1)?;
                let len = f.data_stack.len();
                let start = len.checked_sub(2).ok_or(VmError::DataStackUnderflow)?;
                // [.. a b] becomes [.. b a b]; only the inserted copy is charged.
                let top2 = f.data_stack.split_off(start);
                let b = top2.get(1).cloned().unwrap_or_default();
                f.push(b, false)?;
                f.data_stack.extend(top2);
            }

            Op::CAT => {
                f.apply_cost(4)?;
                let b = f.pop(true)?;
                let mut a = f.pop(true)?;
                let lens = len_cost(a.len()).wrapping_add(len_cost(b.len()));
                f.apply_cost(lens)?;
                f.defer_cost(lens.wrapping_neg());
                a.extend_from_slice(&b);
                f.push(a, true)?;
            }
            Op::SUBSTR => {
                f.apply_cost(4)?;
                let size = sized_cost(f)?;
                let offset = f.pop_int64(true)?;
                if offset < 0 {
                    return Err(VmError::BadValue);
                }
                let s = f.pop(true)?;
                let end = offset.checked_add(size).ok_or(VmError::BadValue)?;
                let piece = slice_i64(&s, offset, end)?;
                f.push(piece, true)?;
            }
            Op::LEFT => {
                f.apply_cost(4)?;
                let size = sized_cost(f)?;
                let s = f.pop(true)?;
                let piece = slice_i64(&s, 0, size)?;
                f.push(piece, true)?;
            }
            Op::RIGHT => {
                f.apply_cost(4)?;
                let size = sized_cost(f)?;
                let s = f.pop(true)?;
                let len = len_cost(s.len());
                if size > len {
                    return Err(VmError::BadValue);
                }
                let piece = slice_i64(&s, len - size, len)?;
                f.push(piece, true)?;
            }
            Op::SIZE => {
                f.apply_cost(1)?;
                let size = len_cost(f.top()?.len());
                f.push_int64(size, true)?;
            }
            Op::CATPUSHDATA => {
                f.apply_cost(4)?;
                let b = f.pop(true)?;
                let mut a = f.pop(true)?;
                let lens = len_cost(a.len()).wrapping_add(len_cost(b.len()));
                f.apply_cost(lens)?;
                f.defer_cost(lens.wrapping_neg());
                a.extend_from_slice(&pushdata_bytes(&b));
                f.push(a, true)?;
            }

            Op::INVERT => {
                f.apply_cost(1)?;
                let len = len_cost(f.top()?.len());
                f.apply_cost(len)?;
                if let Some(top) = f.data_stack.last_mut() {
                    top.iter_mut().for_each(|b| *b = !*b);
                }
            }
            Op::AND => {
                f.apply_cost(1)?;
                let b = f.pop(true)?;
                let a = f.pop(true)?;
                f.apply_cost(len_cost(a.len().min(b.len())))?;
                let res = a.iter().zip(&b).map(|(x, y)| x & y).collect();
                f.push(res, true)?;
            }
            Op::OR | Op::XOR => {
                f.apply_cost(1)?;
                let b = f.pop(true)?;
                let a = f.pop(true)?;
                let max = a.len().max(b.len());
                f.apply_cost(len_cost(max))?;
                let res = (0..max)
                    .map(|i| {
                        let (x, y) = (a.get(i).copied().unwrap_or(0), b.get(i).copied().unwrap_or(0));
                        if op == Op::XOR { x ^ y } else { x | y }
                    })
                    .collect();
                f.push(res, true)?;
            }
            Op::EQUAL => {
                let eq = do_equal(f)?;
                f.push_bool(eq, true)?;
            }
            Op::EQUALVERIFY => {
                if !do_equal(f)? {
                    return Err(VmError::VerifyFailed);
                }
            }

            Op::OP_1ADD => unary(f, |n| n.checked_add(1).ok_or(VmError::Range))?,
            Op::OP_1SUB => unary(f, |n| n.checked_sub(1).ok_or(VmError::Range))?,
            Op::OP_2MUL => unary(f, |n| n.checked_mul(2).ok_or(VmError::Range))?,
            Op::OP_2DIV => unary(f, |n| Ok(n >> 1))?,
            Op::NEGATE => unary(f, |n| n.checked_neg().ok_or(VmError::Range))?,
            Op::ABS => unary(f, |n| n.checked_abs().ok_or(VmError::Range))?,
            Op::NOT => unary_bool(f, |n| n == 0)?,
            Op::OP_0NOTEQUAL => unary_bool(f, |n| n != 0)?,
            Op::ADD => binary(f, 2, |x, y| x.checked_add(y).ok_or(VmError::Range))?,
            Op::SUB => binary(f, 2, |x, y| x.checked_sub(y).ok_or(VmError::Range))?,
            Op::MUL => binary(f, 8, |x, y| x.checked_mul(y).ok_or(VmError::Range))?,
            Op::DIV => binary(f, 8, |x, y| {
                if y == 0 {
                    return Err(VmError::DivZero);
                }
                x.checked_div(y).ok_or(VmError::Range)
            })?,
            Op::MOD => binary(f, 8, |x, y| {
                if y == 0 {
                    return Err(VmError::DivZero);
                }
                let res = x.checked_rem(y).ok_or(VmError::Range)?;
                // The result takes the sign of the divisor (floored modulus).
                Ok(if res != 0 && (x >= 0) != (y >= 0) {
                    res.wrapping_add(y)
                } else {
                    res
                })
            })?,
            Op::LSHIFT => {
                f.apply_cost(8)?;
                let y = f.pop_int64(true)?;
                if y < 0 {
                    return Err(VmError::BadValue);
                }
                let x = f.pop_int64(true)?;
                let res = if x == 0 || y == 0 {
                    x
                } else {
                    checked_lshift(x, y)?
                };
                f.push_int64(res, true)?;
            }
            Op::RSHIFT => {
                f.apply_cost(8)?;
                let y = f.pop_int64(true)?;
                let x = f.pop_int64(true)?;
                if y < 0 {
                    return Err(VmError::BadValue);
                }
                // An arithmetic shift by 64 or more leaves only the sign.
                let res = u32::try_from(y)
                    .ok()
                    .and_then(|s| x.checked_shr(s))
                    .unwrap_or(if x < 0 { -1 } else { 0 });
                f.push_int64(res, true)?;
            }
            Op::BOOLAND | Op::BOOLOR => {
                f.apply_cost(2)?;
                let b = as_bool(&f.pop(true)?);
                let a = as_bool(&f.pop(true)?);
                f.push_bool(if op == Op::BOOLAND { a && b } else { a || b }, true)?;
            }
            Op::NUMEQUAL => compare(f, |x, y| x == y)?,
            Op::NUMEQUALVERIFY => {
                f.apply_cost(2)?;
                let y = f.pop_int64(true)?;
                let x = f.pop_int64(true)?;
                if x != y {
                    return Err(VmError::VerifyFailed);
                }
            }
            Op::NUMNOTEQUAL => compare(f, |x, y| x != y)?,
            Op::LESSTHAN => compare(f, |x, y| x < y)?,
            Op::GREATERTHAN => compare(f, |x, y| x > y)?,
            Op::LESSTHANOREQUAL => compare(f, |x, y| x <= y)?,
            Op::GREATERTHANOREQUAL => compare(f, |x, y| x >= y)?,
            Op::MIN => binary(f, 2, |x, y| Ok(x.min(y)))?,
            Op::MAX => binary(f, 2, |x, y| Ok(x.max(y)))?,
            Op::WITHIN => {
                f.apply_cost(4)?;
                let max = f.pop_int64(true)?;
                let min = f.pop_int64(true)?;
                let x = f.pop_int64(true)?;
                f.push_bool(x >= min && x < max, true)?;
            }
            Op::MULFRACTION => {
                f.apply_cost(8)?;
                let z = f.pop_int64(true)?;
                if z == 0 {
                    return Err(VmError::DivZero);
                }
                let y = f.pop_int64(true)?;
                let x = f.pop_int64(true)?;
                // |x * y| < 2^126, so neither the product nor the truncating quotient overflows i128.
                let res = (i128::from(x) * i128::from(y)) / i128::from(z);
                f.push_int64(i64::try_from(res).map_err(|_| VmError::Range)?, true)?;
            }

            Op::SHA256 => hash_op(f, 64, |d| sha2::Sha256::digest(d).to_vec())?,
            Op::SHA3 => hash_op(f, 64, |d| sha3::Sha3_256::digest(d).to_vec())?,
            Op::HASH160 => hash_op(f, 0, |d| ripemd::Ripemd160::digest(d).to_vec())?,
            Op::CHECKSIG => {
                f.apply_cost(1024)?;
                let pubkey = f.pop(true)?;
                let msg = f.pop(true)?;
                let sig = f.pop(true)?;
                if msg.len() != 32 {
                    return Err(VmError::BadValue);
                }
                let ok = pubkey.len() == 32 && crypto::ed25519::verify(&pubkey, &msg, &sig);
                f.push_bool(ok, true)?;
            }
            Op::CHECKMULTISIG => check_multisig(f)?,
            Op::TXSIGHASH => {
                f.apply_cost(256)?;
                let tx = self.ctx.tx.ok_or(VmError::Context)?;
                self.frame.push(tx.tx_sig_hash().0.to_vec(), false)?;
            }

            Op::CHECKOUTPUT => {
                f.apply_cost(16)?;
                let code = f.pop(true)?;
                let vm_version = non_negative(f.pop_int64(true)?)?;
                let asset_id = f.pop(true)?;
                let amount = non_negative(f.pop_int64(true)?)?;
                let index = non_negative(f.pop_int64(true)?)?;
                let tx = self.ctx.tx.ok_or(VmError::Context)?;
                let check = OutputCheck {
                    index,
                    amount,
                    asset_id: &asset_id,
                    vm_version,
                    code: &code,
                    expansion: f.expansion_reserved,
                };
                let ok = tx.check_output(&check)?;
                f.push_bool(ok, true)?;
            }
            Op::ASSET => {
                f.apply_cost(1)?;
                let asset = self.ctx.asset_id.ok_or(VmError::Context)?;
                self.frame.push(asset.to_vec(), true)?;
            }
            Op::AMOUNT => {
                f.apply_cost(1)?;
                let amount = self.ctx.amount.ok_or(VmError::Context)?;
                self.frame.push_int64(u64_as_i64(amount), true)?;
            }
            Op::PROGRAM => {
                f.apply_cost(1)?;
                self.frame.push(self.ctx.code.to_vec(), true)?;
            }
            Op::INDEX => {
                f.apply_cost(1)?;
                let pos = self.ctx.dest_pos.ok_or(VmError::Context)?;
                self.frame.push_int64(u64_as_i64(pos), true)?;
            }
            Op::ENTRYID => {
                f.apply_cost(1)?;
                self.frame.push(self.ctx.entry_id.to_vec(), true)?;
            }
            Op::OUTPUTID => {
                f.apply_cost(1)?;
                let id = self.ctx.spent_output_id.ok_or(VmError::Context)?;
                self.frame.push(id.to_vec(), true)?;
            }
            Op::BLOCKHEIGHT => {
                f.apply_cost(1)?;
                let height = self.ctx.block_height.ok_or(VmError::Context)?;
                self.frame.push_int64(u64_as_i64(height), true)?;
            }

            // Unassigned opcodes never reach here (`step` runs them as expansion NOPs), but a direct
            // call treats them the same way.
            _ => f.apply_cost(1)?,
        }
        Ok(Flow::Next)
    }
}

fn non_negative(n: i64) -> Result<u64, VmError> {
    if n < 0 {
        Err(VmError::BadValue)
    } else {
        Ok(i64_as_u64(n))
    }
}

fn n_dup(f: &mut Frame, n: usize) -> Result<(), VmError> {
    f.apply_cost(len_cost(n))?;
    if f.data_stack.len() < n {
        return Err(VmError::DataStackUnderflow);
    }
    for _ in 0..n {
        let item = f.nth_from_top(n - 1)?.clone();
        f.push(item, false)?;
    }
    Ok(())
}

/// `n + 1` for PICK and ROLL, rejecting negative and overflowing counts.
fn pick_offset(n: i64) -> Result<i64, VmError> {
    if n < 0 {
        return Err(VmError::BadValue);
    }
    n.checked_add(1).ok_or(VmError::BadValue)
}

/// Moves the item `n - 1` places below the top to the top.
fn rot(f: &mut Frame, n: i64) -> Result<(), VmError> {
    if n < 1 {
        return Err(VmError::BadValue);
    }
    let index = len_cost(f.data_stack.len())
        .checked_sub(n)
        .ok_or(VmError::DataStackUnderflow)?;
    let index = usize::try_from(index).map_err(|_| VmError::DataStackUnderflow)?;
    if index >= f.data_stack.len() {
        return Err(VmError::DataStackUnderflow);
    }
    let item = f.data_stack.remove(index);
    f.data_stack.push(item);
    Ok(())
}

/// Pops the size operand of SUBSTR/LEFT/RIGHT and charges it as the reference does (refunded at the end).
fn sized_cost(f: &mut Frame) -> Result<i64, VmError> {
    let size = f.pop_int64(true)?;
    if size < 0 {
        return Err(VmError::BadValue);
    }
    f.apply_cost(size)?;
    f.defer_cost(size.wrapping_neg());
    Ok(size)
}

fn slice_i64(s: &[u8], start: i64, end: i64) -> Result<Vec<u8>, VmError> {
    let start = usize::try_from(start).map_err(|_| VmError::BadValue)?;
    let end = usize::try_from(end).map_err(|_| VmError::BadValue)?;
    s.get(start..end).map(<[u8]>::to_vec).ok_or(VmError::BadValue)
}

fn do_equal(f: &mut Frame) -> Result<bool, VmError> {
    f.apply_cost(1)?;
    let b = f.pop(true)?;
    let a = f.pop(true)?;
    f.apply_cost(len_cost(a.len().min(b.len())))?;
    Ok(a == b)
}

fn unary(f: &mut Frame, op: impl FnOnce(i64) -> Result<i64, VmError>) -> Result<(), VmError> {
    f.apply_cost(2)?;
    let n = f.pop_int64(true)?;
    f.push_int64(op(n)?, true)
}

fn unary_bool(f: &mut Frame, op: impl FnOnce(i64) -> bool) -> Result<(), VmError> {
    f.apply_cost(2)?;
    let n = f.pop_int64(true)?;
    f.push_bool(op(n), true)
}

fn binary(
    f: &mut Frame,
    cost: i64,
    op: impl FnOnce(i64, i64) -> Result<i64, VmError>,
) -> Result<(), VmError> {
    f.apply_cost(cost)?;
    let y = f.pop_int64(true)?;
    let x = f.pop_int64(true)?;
    f.push_int64(op(x, y)?, true)
}

fn compare(f: &mut Frame, op: impl FnOnce(i64, i64) -> bool) -> Result<(), VmError> {
    f.apply_cost(2)?;
    let y = f.pop_int64(true)?;
    let x = f.pop_int64(true)?;
    f.push_bool(op(x, y), true)
}

/// `x << y` when it fits in an i64 (the reference's `checked.LshiftInt64`).
fn checked_lshift(x: i64, y: i64) -> Result<i64, VmError> {
    let shift = u32::try_from(y).ok().filter(|s| *s < 64).ok_or(VmError::Range)?;
    if (x >= 0 && x > i64::MAX >> shift) || (x < 0 && x < i64::MIN >> shift) {
        return Err(VmError::Range);
    }
    Ok(x << shift)
}

/// SHA256, SHA3 and HASH160: the input is refunded at once; hashing costs the input length but at
/// least `min` (64 for SHA256 and SHA3), or, when `min` is 0 (HASH160), the length plus 64.
fn hash_op(f: &mut Frame, min: i64, hash: impl FnOnce(&[u8]) -> Vec<u8>) -> Result<(), VmError> {
    let x = f.pop(false)?;
    let len = len_cost(x.len());
    let cost = if min == 0 {
        len.wrapping_add(64)
    } else {
        len.max(min)
    };
    f.apply_cost(cost)?;
    f.push(hash(&x), false)
}

fn check_predicate(f: &mut Frame) -> OpResult {
    f.apply_cost(256)?;
    f.defer_cost(-256 + 64); // most of the fixed cost comes back at the end
    let mut limit = f.pop_int64(true)?;
    let predicate = f.pop(true)?;
    let n = f.pop_int64(true)?;
    if limit < 0 {
        return Err(VmError::BadValue);
    }
    let l = len_cost(f.data_stack.len());
    let n = if n < 0 { l } else { n };
    if n > l {
        return Err(VmError::DataStackUnderflow);
    }
    if limit == 0 {
        limit = f.run_limit;
    }
    f.apply_cost(limit)?;
    let keep = usize::try_from(l - n).map_err(|_| VmError::DataStackUnderflow)?;
    let moved = f.data_stack.split_off(keep);
    Ok(Flow::Call(Box::new(Frame {
        program: predicate,
        run_limit: limit,
        depth: f.depth.saturating_add(1),
        data_stack: moved,
        ..Frame::default()
    })))
}

fn check_multisig(f: &mut Frame) -> Result<(), VmError> {
    let num_pubkeys = f.pop_int64(true)?;
    let pub_cost = num_pubkeys.checked_mul(1024);
    let pub_cost = match pub_cost {
        Some(c) if num_pubkeys >= 0 => c,
        _ => return Err(VmError::BadValue),
    };
    f.apply_cost(pub_cost)?;
    let num_sigs = f.pop_int64(true)?;
    if num_sigs < 0 || num_sigs > num_pubkeys || (num_pubkeys > 0 && num_sigs == 0) {
        return Err(VmError::BadValue);
    }
    let mut pubkeys = Vec::new();
    for _ in 0..num_pubkeys {
        pubkeys.push(f.pop(true)?);
    }
    let msg = f.pop(true)?;
    if msg.len() != 32 {
        return Err(VmError::BadValue);
    }
    let mut sigs = Vec::new();
    for _ in 0..num_sigs {
        sigs.push(f.pop(true)?);
    }
    if pubkeys.iter().any(|p| p.len() != 32) {
        return f.push_bool(false, true);
    }
    // Signatures must match keys in order; each key is tried once.
    let mut sigs = sigs.iter().peekable();
    for pubkey in &pubkeys {
        let Some(sig) = sigs.peek() else { break };
        if crypto::ed25519::verify(pubkey, &msg, sig) {
            sigs.next();
        }
    }
    f.push_bool(sigs.peek().is_none(), true)
}

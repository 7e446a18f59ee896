//! Why a program failed, and where.

use std::fmt;

/// The reason a program (or one instruction) failed, one variant per error of the reference VM.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VmError {
    /// `FROMALTSTACK` on an empty alt stack.
    #[error("alt stack underflow")]
    AltStackUnderflow,
    /// An operand is out of its domain (negative count, oversized number, wrong message length...).
    #[error("bad value")]
    BadValue,
    /// An introspection opcode needs a context field that is absent.
    #[error("wrong context")]
    Context,
    /// An opcode needs more data-stack items than there are.
    #[error("data stack underflow")]
    DataStackUnderflow,
    /// An expansion opcode ran while the transaction version reserves them.
    #[error("disallowed opcode")]
    DisallowedOpcode,
    /// Division or modulus by zero (also `MULFRACTION` with a zero divisor).
    #[error("division by zero")]
    DivZero,
    /// The program ended with an empty stack or a false top item.
    #[error("false VM result")]
    FalseResult,
    /// The program is longer than `i32::MAX` bytes.
    #[error("program size exceeds maxint32")]
    LongProgram,
    /// A numeric result does not fit in an `i64`.
    #[error("range error")]
    Range,
    /// `FAIL` executed.
    #[error("FAIL executed")]
    Fail,
    /// The gas (run limit) ran out.
    #[error("run limit exceeded")]
    RunLimitExceeded,
    /// An instruction's immediate data runs past the end of the program.
    #[error("unexpected end of program")]
    ShortProgram,
    /// An instruction's length or address overflows 32 bits.
    #[error("arithmetic overflow in program layout")]
    Overflow,
    /// The program's VM version is not 1.
    #[error("unsupported VM")]
    UnsupportedVm,
    /// `VERIFY`, `EQUALVERIFY` or `NUMEQUALVERIFY` found false.
    #[error("VERIFY failed")]
    VerifyFailed,
    /// The transaction introspection (`CHECKOUTPUT`) failed for a reason of its own, e.g. a missing entry.
    #[error("introspection failed: {0}")]
    Introspection(String),
}

/// A failed verification: the reason, the instruction of the top-level program where it happened,
/// and the gas left at that point (the reference returns it alongside the error).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmFailure {
    /// Mnemonic of the failing opcode; `None` when no instruction was executing (pushing the
    /// arguments, or a false result at the end).
    pub op: Option<&'static str>,
    /// Position of the failing instruction in the top-level program (its length for a false result).
    pub pc: u32,
    /// Why it failed.
    pub reason: VmError,
    /// Gas left when it failed.
    pub gas_left: i64,
}

impl fmt::Display for VmFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.op {
            Some(op) => write!(f, "{} at {op} (pc {})", self.reason, self.pc),
            None => write!(f, "{} (pc {})", self.reason, self.pc),
        }
    }
}

impl std::error::Error for VmFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.reason)
    }
}

/// Why assembling a source text failed.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AssembleError {
    /// A token is neither an opcode, a number, a hex or quoted string, nor a label.
    #[error("unrecognized token {0:?}")]
    Token(String),
    /// A quoted string has no closing quote.
    #[error("unterminated quoted string")]
    UnterminatedQuote,
    /// A `0x` token is not valid hex.
    #[error("bad hex in {0:?}")]
    Hex(String),
    /// A jump address is neither a label nor a `u32`.
    #[error("bad jump address {0:?}")]
    JumpAddress(String),
    /// A label is defined twice.
    #[error("label {0} redefined")]
    LabelRedefined(String),
    /// A jump names a label that is never defined.
    #[error("undefined label {0}")]
    UndefinedLabel(String),
    /// The program grew past `i32::MAX` bytes.
    #[error("program too long")]
    ProgramTooLong,
}

/// Why building a standard program failed.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StandardError {
    /// A jump placeholder's target was never set.
    #[error("unresolved jump target {0}")]
    UnresolvedJump(u32),
    /// A parameter is out of range (the detail says which).
    #[error("bad value: {0}")]
    BadValue(&'static str),
    /// The program is not of the expected standard form.
    #[error("bad multisig program format")]
    MultisigFormat,
    /// The program does not parse.
    #[error("program does not parse: {0}")]
    Parse(VmError),
}

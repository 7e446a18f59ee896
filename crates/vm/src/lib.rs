#![doc = include_str!("../README.md")]

mod assemble;
mod context;
mod error;
mod machine;
mod ops;
pub mod standard;
mod types;

#[cfg(test)]
mod tests;

pub use assemble::{assemble, assemble_for, disassemble, disassemble_for};
pub use context::{Context, OutputCheck, TxIntrospection, VmProfile};
pub use error::{AssembleError, StandardError, VmError, VmFailure};
pub use machine::verify;
pub use ops::{Instruction, Op, parse_op, parse_program};
pub use types::{as_bool, as_int64, bool_bytes, int64_bytes, pushdata_bytes, pushdata_int64};

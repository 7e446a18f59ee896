//! What a program may learn about the transaction it guards.

use crate::error::VmError;

/// Which chain's rule set the VM runs: the two differ only in `MULFRACTION` (0xa6), an opcode on the
/// Side chain (Vapor) and an unassigned expansion opcode on the Main chain (Bytom).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum VmProfile {
    /// Bytom v1.1.0 main chain.
    #[default]
    Main,
    /// Vapor sidechain.
    Side,
}

/// The arguments of one `CHECKOUTPUT`, as popped from the stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputCheck<'a> {
    /// Destination index within the mux (0 when the destination is not a mux).
    pub index: u64,
    /// Expected amount.
    pub amount: u64,
    /// Expected asset ID bytes.
    pub asset_id: &'a [u8],
    /// Expected VM version of the control program.
    pub vm_version: u64,
    /// Expected control program.
    pub code: &'a [u8],
    /// Whether expansion opcodes are reserved (transaction version 1); a retirement then matches any code.
    pub expansion: bool,
}

/// The transaction-dependent answers that `TXSIGHASH` and `CHECKOUTPUT` need; the ledger implements it
/// from the transaction's entry graph.
pub trait TxIntrospection {
    /// The signature hash of the entry being verified (`SHA3-256(entry ID || tx ID)` in the reference).
    fn tx_sig_hash(&self) -> ::types::Hash;

    /// Whether the destination `check.index` of the entry carries exactly the given value and program.
    /// Errors end the program: `BadValue` for an index out of range, `Context` for a wrong entry kind,
    /// `Introspection` for anything else.
    fn check_output(&self, check: &OutputCheck<'_>) -> Result<bool, VmError>;
}

/// Everything a run of the VM may see, the counterpart of the reference's `vm.Context`. Absent
/// (`None`) fields make the opcodes that need them fail with [`VmError::Context`].
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// Rule set to run under.
    pub profile: VmProfile,
    /// VM version of the program; only 1 runs.
    pub vm_version: u64,
    /// The program (after witness expansion, see [`crate::standard::witness_program`]).
    pub code: &'a [u8],
    /// Witness arguments, pushed in order before the program runs.
    pub arguments: &'a [Vec<u8>],
    /// ID of the entry being verified (`ENTRYID`).
    pub entry_id: &'a [u8],
    /// Transaction version; version 1 reserves expansion opcodes.
    pub tx_version: Option<u64>,
    /// Height of the block being validated (`BLOCKHEIGHT`).
    pub block_height: Option<u64>,
    /// Number of results of the transaction.
    pub num_results: Option<u64>,
    /// Asset ID of the value spent or issued (`ASSET`).
    pub asset_id: Option<&'a [u8]>,
    /// Amount spent or issued (`AMOUNT`).
    pub amount: Option<u64>,
    /// Position of the entry's destination (`INDEX`).
    pub dest_pos: Option<u64>,
    /// ID of the spent output (`OUTPUTID`).
    pub spent_output_id: Option<&'a [u8]>,
    /// `TXSIGHASH` and `CHECKOUTPUT`; `None` makes both fail with [`VmError::Context`].
    pub tx: Option<&'a dyn TxIntrospection>,
}

impl<'a> Context<'a> {
    /// A VM-version-1 context for `code` and `arguments` under `profile`, with every optional field absent.
    pub fn new(profile: VmProfile, code: &'a [u8], arguments: &'a [Vec<u8>]) -> Self {
        Context {
            profile,
            vm_version: 1,
            code,
            arguments,
            entry_id: &[],
            tx_version: None,
            block_height: None,
            num_results: None,
            asset_id: None,
            amount: None,
            dest_pos: None,
            spent_output_id: None,
            tx: None,
        }
    }
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("profile", &self.profile)
            .field("vm_version", &self.vm_version)
            .field("code", &hex::encode(self.code))
            .field("arguments", &self.arguments.len())
            .field("tx_version", &self.tx_version)
            .field("block_height", &self.block_height)
            .finish_non_exhaustive()
    }
}

//! Typed errors of validation, of the UTXO view and of applying change sets.

use types::asset_class::{AssetClass, DefinitionError};
use types::{AssetId, Hash};
use vm::VmFailure;

use crate::utxo::{UtxoEntry, UtxoKind};

/// A failure of the storage behind a [`crate::UtxoView`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("UTXO view: {message}")]
pub struct ViewError {
    /// What went wrong.
    pub message: String,
}

impl ViewError {
    /// A view error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        ViewError {
            message: message.into(),
        }
    }
}

/// Why the gas rules reject a transaction.
///
/// # Consensus
/// The reference's `GasState` (`setGas`, `updateUsage`, `setGasValid`) in `protocol/validation/tx.go`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GasError {
    /// More BTM leaves than enters (`setGas`: input BTM is negative).
    #[error("more BTM leaves than enters ({deficit} neu short)")]
    NegativeFee {
        /// Neu missing.
        deficit: u128,
    },
    /// The programs of the BTM inputs used more than the free credit before the fee was secured, or
    /// the gas left cannot pay for storage (`ErrOverGasCredit`).
    #[error(
        "gas credit exhausted: {used} used of a free credit of {credit}, {left} left for {storage} storage gas"
    )]
    OverCredit {
        /// Gas used so far.
        used: i64,
        /// Free credit.
        credit: i64,
        /// Gas left.
        left: i64,
        /// Storage gas owed.
        storage: i64,
    },
    /// The gas left cannot pay the storage gas (`setGasValid`).
    #[error("storage gas {storage} exceeds the {left} gas left")]
    Storage {
        /// Storage gas owed.
        storage: i64,
        /// Gas left.
        left: i64,
    },
    /// Gas arithmetic overflowed (`ErrGasCalculate`).
    #[error("gas arithmetic overflow")]
    Overflow,
}

/// Why a transaction is invalid. Input and output indexes are positions in the transaction.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxRejection {
    /// Transaction version other than 1 in a version-1 block (`ErrTxVersion`).
    #[error("transaction version {version} in a version-1 block")]
    Version {
        /// The transaction's version.
        version: u64,
    },
    /// The transaction was built or decoded under the other chain profile.
    #[error("transaction of profile {found} on a {expected} chain")]
    Profile {
        /// Chain profile.
        expected: types::Profile,
        /// Transaction profile.
        found: types::Profile,
    },
    /// Serialized size zero (`ErrWrongTransactionSize`).
    #[error("transaction has serialized size 0")]
    ZeroSize,
    /// Larger than the chain allows.
    #[error("transaction is {size} bytes, more than the {max} allowed")]
    TooLarge {
        /// Serialized size.
        size: u64,
        /// Limit.
        max: u64,
    },
    /// A version-1 transaction without outputs (`ErrEmptyResults`).
    #[error("transaction has no outputs")]
    EmptyResults,
    /// Time range set and below the block height (`ErrBadTimeRange`).
    #[error("time range {time_range} is below the block height {height}")]
    TimeRange {
        /// The transaction's time range.
        time_range: u64,
        /// Height of the block it would enter.
        height: u64,
    },
    /// An input the chain cannot map (unknown asset version: zero input ID, `ErrEmptyInputIDs`).
    #[error("input {input} has an unknown asset version (empty input ID)")]
    EmptyInputId {
        /// Input index.
        input: usize,
    },
    /// The same input appears twice.
    #[error("input {input} repeats input {first}")]
    DuplicateInput {
        /// Input index.
        input: usize,
        /// Index of its first occurrence.
        first: usize,
    },
    /// Main chain: a BTM spend of a program that is neither P2WPKH nor P2WSH (`ErrNotStandardTx`).
    #[error("input {input} spends BTM from a non-standard program")]
    NonStandardInput {
        /// Input index.
        input: usize,
    },
    /// Main chain: a BTM output to a program that is neither P2WPKH nor P2WSH (`ErrNotStandardTx`).
    #[error("output {output} pays BTM to a non-standard program")]
    NonStandardOutput {
        /// Output index.
        output: usize,
    },
    /// A coinbase input outside the first transaction of a block, or not as the only input
    /// (`ErrWrongCoinbaseTransaction`).
    #[error("input {input} is a coinbase outside the first transaction of a block")]
    MisplacedCoinbase {
        /// Input index.
        input: usize,
    },
    /// A coinbase of an asset other than BTM (`ErrWrongCoinbaseAsset`).
    #[error("coinbase of an asset other than BTM")]
    CoinbaseAsset,
    /// Coinbase `arbitrary` too long (`ErrCoinbaseArbitraryOversize`).
    #[error("coinbase arbitrary data is {len} bytes, more than {max}")]
    CoinbaseArbitrary {
        /// Length.
        len: usize,
        /// Limit.
        max: usize,
    },
    /// An output of an asset no input brings (`ErrNoSource`).
    #[error("output {output} carries asset {asset} that no input brings")]
    NoSource {
        /// Output index.
        output: usize,
        /// The asset.
        asset: AssetId,
    },
    /// Inputs and outputs of a non-BTM asset differ (`ErrUnbalanced`).
    #[error("asset {asset} is unbalanced: inputs minus outputs = {difference}")]
    Unbalanced {
        /// The asset.
        asset: AssetId,
        /// Inputs minus outputs.
        difference: i128,
    },
    /// A sum of amounts overflows (`ErrOverflow`).
    #[error("amount overflow summing asset {asset}")]
    Overflow {
        /// The asset.
        asset: AssetId,
    },
    /// The gas rules fail.
    #[error("gas: {0}")]
    Gas(#[from] GasError),
    /// An input's program failed in the VM.
    #[error("input {input}: program failed: {failure}")]
    Vm {
        /// Input index.
        input: usize,
        /// Reason, opcode and position.
        failure: VmFailure,
    },
    /// A vote output or veto input whose vote key is not 64 bytes (`ErrVotePubKey`).
    #[error("vote public key is {len} bytes, not 64 ({what} {index})")]
    VotePubKey {
        /// `"output"` or `"input"`.
        what: &'static str,
        /// Its index.
        index: usize,
        /// Length found.
        len: usize,
    },
    /// A vote output below the minimum (`ErrVoteOutputAmount`).
    #[error("vote output {output} of {amount} neu is below the minimum {min}")]
    VoteAmount {
        /// Output index.
        output: usize,
        /// Amount.
        amount: u64,
        /// Minimum.
        min: u64,
    },
    /// A vote output of an asset other than BTM (`ErrVoteOutputAseet`).
    #[error("vote output {output} is not BTM")]
    VoteAsset {
        /// Output index.
        output: usize,
    },
    /// A cross-chain input whose asset is neither BTM nor the asset its definition describes.
    #[error("cross-chain input {input}: asset matches neither BTM nor its definition")]
    CrossChainAsset {
        /// Input index.
        input: usize,
    },
    /// A cross-chain input on a chain configured without a federation program.
    #[error("cross-chain input {input}: this chain has no federation to accept it")]
    NoFederation {
        /// Input index.
        input: usize,
    },
    /// The output an input spends is not in the UTXO set (missing or already spent).
    #[error("input {input} spends {output_id}, which is not unspent")]
    MissingUtxo {
        /// Input index.
        input: usize,
        /// Spent output ID.
        output_id: Hash,
    },
    /// The output is already spent by an earlier transaction of the same block.
    #[error("input {input} spends {output_id}, already spent in this block")]
    DoubleSpend {
        /// Input index.
        input: usize,
        /// Spent output ID.
        output_id: Hash,
    },
    /// A coinbase output spent before its maturity.
    #[error("input {input} spends a coinbase output of height {created} before height {mature}")]
    ImmatureCoinbase {
        /// Input index.
        input: usize,
        /// Height it was created at.
        created: u64,
        /// First height it may be spent at.
        mature: u64,
    },
    /// A vote output vetoed before its lock time ends.
    #[error("input {input} vetoes a vote of height {created} before height {mature}")]
    VoteLocked {
        /// Input index.
        input: usize,
        /// Height it was created at.
        created: u64,
        /// First height it may be vetoed at.
        mature: u64,
    },
    /// A spend of a vote output, or a veto of an ordinary output.
    #[error("input {input} spends a {found:?} output with the wrong input type")]
    WrongUtxoKind {
        /// Input index.
        input: usize,
        /// Kind found.
        found: UtxoKind,
    },
    /// The main-chain output this cross-chain input claims was claimed before.
    #[error("cross-chain input {input} claims {output_id}, already claimed")]
    AlreadyClaimed {
        /// Input index.
        input: usize,
        /// Main-chain output ID.
        output_id: Hash,
    },
    /// An issuance or cross-chain input whose definition claims an asset class but is malformed.
    #[error("input {input}: invalid asset definition: {error}")]
    AssetDefinition {
        /// Input index.
        input: usize,
        /// What is wrong with it.
        error: DefinitionError,
    },
    /// A second issuance of a BAP-03 quark asset (issued at most once ever).
    #[error("input {input} issues quark asset {asset} again")]
    QuarkReissued {
        /// Input index.
        input: usize,
        /// The asset.
        asset: AssetId,
    },
    /// An amount its asset's class forbids: a quark amount other than 1, a quantum amount that is
    /// not a multiple of the unit.
    #[error("{what} {index}: an amount of {amount} is not allowed for its {class} asset")]
    AssetAmount {
        /// `"input"` (an issuance or claim) or `"output"` (outputs and retirements).
        what: &'static str,
        /// Its index.
        index: usize,
        /// The asset's class.
        class: AssetClass,
        /// The amount.
        amount: u64,
    },
    /// Inputs carrying two different lots of one BAP-02 atomic asset (lots cannot be merged).
    #[error("input {input} brings another lot of atomic asset {asset} than input {first}")]
    LotMerge {
        /// The asset.
        asset: AssetId,
        /// Input index.
        input: usize,
        /// The input that brought the first lot.
        first: usize,
    },
    /// The UTXO view failed.
    #[error(transparent)]
    View(#[from] ViewError),
}

/// Why a block is invalid.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlockRejection {
    /// The block's profile is not the chain's.
    #[error("block of profile {found} on a {expected} chain")]
    Profile {
        /// Chain profile.
        expected: types::Profile,
        /// Block profile.
        found: types::Profile,
    },
    /// Height is not the parent's plus one (`errMisorderedBlockHeight`).
    #[error("block height {found}, expected {expected}")]
    Height {
        /// Parent height + 1.
        expected: u64,
        /// Block height.
        found: u64,
    },
    /// The previous-block hash is not the parent's (`errMismatchedBlock`).
    #[error("previous block hash {found}, parent is {expected}")]
    PreviousHash {
        /// Parent hash.
        expected: Hash,
        /// Hash in the header.
        found: Hash,
    },
    /// Version rule (`errVersionRegression`): the sidechain requires 1, the main chain no regression.
    #[error("block version {found} (parent version {parent})")]
    Version {
        /// Block version.
        found: u64,
        /// Parent version.
        parent: u64,
    },
    /// Sidechain: the timestamp is less than one block interval after the parent's (`errBadTimestamp`).
    #[error("timestamp {found} is before the earliest allowed {earliest}")]
    Timestamp {
        /// Block timestamp.
        found: u64,
        /// Parent timestamp + interval.
        earliest: u64,
    },
    /// The block has no transaction or its first is not a coinbase.
    #[error("the first transaction is not a coinbase")]
    MissingCoinbase,
    /// The coinbase outputs break the rules (main chain: exactly one output; sidechain: ordinary
    /// outputs only).
    #[error("coinbase outputs: {0}")]
    CoinbaseOutputs(&'static str),
    /// Main chain: the coinbase does not pay subsidy plus fees.
    #[error("coinbase pays {found}, expected {expected}")]
    CoinbaseAmount {
        /// Paid.
        found: u64,
        /// Subsidy plus fees.
        expected: u64,
    },
    /// The transaction Merkle root does not match.
    #[error("transaction Merkle root {found}, computed {computed}")]
    MerkleRoot {
        /// In the header.
        found: Hash,
        /// Computed.
        computed: Hash,
    },
    /// The status root does not say "all succeeded".
    #[error("transaction status root {found}, computed {computed} (failed transactions are not accepted)")]
    StatusRoot {
        /// In the header.
        found: Hash,
        /// Computed.
        computed: Hash,
    },
    /// Block gas over the limit (`errOverBlockLimit`).
    #[error("block gas over the limit {max}")]
    Gas {
        /// Limit.
        max: u64,
    },
    /// Block too large.
    #[error("block transactions are {size} bytes, more than {max}")]
    Size {
        /// Sum of transaction sizes.
        size: u64,
        /// Limit.
        max: u64,
    },
    /// A transaction is invalid.
    #[error("transaction {index} ({tx_id}): {reason}")]
    Tx {
        /// Position in the block.
        index: usize,
        /// Transaction ID.
        tx_id: Hash,
        /// Why.
        reason: TxRejection,
    },
    /// A block of a window is invalid.
    #[error("block {position} of the window (height {height}): {reason}")]
    Window {
        /// Position in the window.
        position: usize,
        /// Its height.
        height: u64,
        /// Why.
        reason: Box<BlockRejection>,
    },
    /// The UTXO view failed.
    #[error(transparent)]
    View(#[from] ViewError),
}

/// Why a change set cannot be applied or unwound.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// A spent output is not in the set.
    #[error("spent output {output_id} is not in the set")]
    MissingSpent {
        /// Output ID.
        output_id: Hash,
    },
    /// A spent output is in the set with another entry than recorded.
    #[error("spent output {output_id} is {found:?} in the set, the change set says {expected:?}")]
    SpentEntryMismatch {
        /// Output ID.
        output_id: Hash,
        /// Recorded.
        expected: UtxoEntry,
        /// In the set.
        found: UtxoEntry,
    },
    /// An output to create (or restore) already exists.
    #[error("output {output_id} already exists")]
    AlreadyExists {
        /// Output ID.
        output_id: Hash,
    },
    /// An output to remove on unwind is missing or differs.
    #[error("created output {output_id} is not in the set as recorded")]
    MissingCreated {
        /// Output ID.
        output_id: Hash,
    },
    /// A claim to record exists already.
    #[error("main-chain output {output_id} is already claimed")]
    AlreadyClaimed {
        /// Output ID.
        output_id: Hash,
    },
    /// A claim to forget does not exist.
    #[error("main-chain output {output_id} is not claimed")]
    NotClaimed {
        /// Output ID.
        output_id: Hash,
    },
    /// An asset to register is registered already (or twice in the change).
    #[error("asset {asset} is already registered")]
    AssetRegistered {
        /// The asset.
        asset: AssetId,
    },
    /// An asset to forget on unwind is not registered as recorded.
    #[error("asset {asset} is not registered as recorded")]
    AssetNotRegistered {
        /// The asset.
        asset: AssetId,
    },
    /// An output's lot is not in the state as the change says.
    #[error("the lot of output {output_id} is not as recorded")]
    LotMismatch {
        /// Output ID.
        output_id: Hash,
    },
    /// The block breaks an asset rule (its asset changes cannot be derived).
    #[error("asset rules: {0}")]
    Assets(Box<BlockRejection>),
    /// The view failed.
    #[error(transparent)]
    View(#[from] ViewError),
}

//! Transactions of both profiles: the data model, its wire format (serialization flags `0x07`) and the
//! checks that make a [`Transaction`] always mappable to its entry graph.

use std::sync::{Arc, OnceLock};

use crate::amount::{Amount, AmountError, AssetTotals, sum_by_asset};
use crate::asset::AssetId;
use crate::codec::{DecodeError, Limits, Reader, Writer};
use crate::graph::{self, TxIds};
use crate::hash::Hash;
use crate::profile::Profile;

/// The only transaction serialization flags the reference accepts.
pub const TX_SERIALIZATION_FLAGS: u8 = 0x07;

/// The commitment of an input that spends an earlier output: that output's source, value and program.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpendCommitment {
    /// The entry the spent output drew from (usually the mux of the transaction that made it).
    pub source_id: Hash,
    /// Asset of the spent output.
    pub asset_id: AssetId,
    /// Amount of the spent output.
    pub amount: Amount,
    /// Position of the spent output in its source.
    pub source_position: u64,
    /// VM version of the control program (must be 1).
    pub vm_version: u64,
    /// Control program of the spent output.
    pub control_program: Vec<u8>,
    /// Unread tail of the commitment's extensible string, written back unchanged.
    pub suffix: Vec<u8>,
}

/// Main chain: issues new units of an asset defined by an issuance program.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IssuanceInput {
    /// Nonce making the issuance unique.
    pub nonce: Vec<u8>,
    /// Amount issued.
    pub amount: Amount,
    /// Raw asset definition (usually JSON).
    pub asset_definition: Vec<u8>,
    /// VM version of the issuance program.
    pub vm_version: u64,
    /// The issuance program.
    pub issuance_program: Vec<u8>,
    /// Witness arguments.
    pub arguments: Vec<Vec<u8>>,
}

impl IssuanceInput {
    /// The asset issued, computed from the program and definition (the wire carries it too, and the
    /// decoder rejects a mismatch).
    pub fn asset_id(&self) -> AssetId {
        AssetId::from_definition(&self.issuance_program, self.vm_version, &self.asset_definition)
    }
}

/// Spends an earlier output.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SpendInput {
    /// The spent output.
    pub commitment: SpendCommitment,
    /// Witness arguments.
    pub arguments: Vec<Vec<u8>>,
}

/// Mints the block reward; arbitrary bytes make it unique.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CoinbaseInput {
    /// Arbitrary data.
    pub arbitrary: Vec<u8>,
}

/// Sidechain: claims a main-chain output (a peg-in), carrying the asset's definition.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CrossChainInput {
    /// The main-chain output claimed.
    pub commitment: SpendCommitment,
    /// VM version of the asset's issuance program.
    pub issuance_vm_version: u64,
    /// Raw asset definition.
    pub asset_definition: Vec<u8>,
    /// The asset's issuance program on the main chain.
    pub issuance_program: Vec<u8>,
    /// Witness arguments.
    pub arguments: Vec<Vec<u8>>,
}

/// Sidechain: spends a vote output, withdrawing the vote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VetoInput {
    /// The spent vote output.
    pub commitment: SpendCommitment,
    /// Public key (xpub) the vote was for.
    pub vote: Vec<u8>,
    /// Witness arguments.
    pub arguments: Vec<Vec<u8>>,
}

/// What an input is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputKind {
    /// Main chain issuance (type byte 0 on the main chain).
    Issuance(IssuanceInput),
    /// Spend (type byte 1).
    Spend(SpendInput),
    /// Coinbase (type byte 2).
    Coinbase(CoinbaseInput),
    /// Sidechain cross-chain input (type byte 0 on a sidechain).
    CrossChain(CrossChainInput),
    /// Sidechain veto input (type byte 3).
    Veto(VetoInput),
    /// An input of an asset version other than 1: the reference reads none of its contents (they are in
    /// the input's suffixes) and maps it to nothing.
    Opaque,
}

impl InputKind {
    /// The type name the reference's `decode-raw-transaction` prints (`""` for an opaque input, which
    /// the reference cannot name).
    pub fn api_type_name(&self) -> &'static str {
        match self {
            InputKind::Issuance(_) => "issue",
            InputKind::Spend(_) => "spend",
            InputKind::Coinbase(_) => "coinbase",
            InputKind::CrossChain(_) => "cross_chain_in",
            InputKind::Veto(_) => "veto",
            InputKind::Opaque => "",
        }
    }

    /// Whether the profile defines this kind.
    pub fn allowed_in(&self, profile: Profile) -> bool {
        match self {
            InputKind::Spend(_) | InputKind::Coinbase(_) | InputKind::Opaque => true,
            InputKind::Issuance(_) => profile == Profile::Main,
            InputKind::CrossChain(_) | InputKind::Veto(_) => profile == Profile::Side,
        }
    }

    fn type_byte(&self, profile: Profile) -> Option<u8> {
        match (self, profile) {
            (InputKind::Issuance(_), Profile::Main) | (InputKind::CrossChain(_), Profile::Side) => Some(0),
            (InputKind::Spend(_), _) => Some(1),
            (InputKind::Coinbase(_), _) => Some(2),
            (InputKind::Veto(_), Profile::Side) => Some(3),
            _ => None,
        }
    }
}

/// A transaction input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxInput {
    /// Asset version; 1 for every input the reference understands.
    pub asset_version: u64,
    /// The typed contents.
    pub kind: InputKind,
    /// Unread tail of the input-commitment string (all of it for an opaque input).
    pub commitment_suffix: Vec<u8>,
    /// Unread tail of the input-witness string (all of it for an opaque input or a coinbase).
    pub witness_suffix: Vec<u8>,
}

impl TxInput {
    /// Decodes one input (as it appears inside a transaction) from a reader.
    pub fn read_from(r: &mut Reader<'_>, profile: Profile, limits: &Limits) -> Result<TxInput, DecodeError> {
        read_input(r, profile, limits)
    }

    /// Encodes the input as it appears inside a transaction.
    pub fn encode(&self, profile: Profile) -> Vec<u8> {
        let mut w = Writer::new();
        write_input(&mut w, profile, self);
        w.into_bytes()
    }

    /// A version-1 input of the given kind, with no suffixes.
    pub fn new(kind: InputKind) -> TxInput {
        TxInput {
            asset_version: 1,
            kind,
            commitment_suffix: Vec::new(),
            witness_suffix: Vec::new(),
        }
    }

    /// The spend commitment, for spend, cross-chain and veto inputs.
    pub fn spend_commitment(&self) -> Option<&SpendCommitment> {
        match &self.kind {
            InputKind::Spend(s) => Some(&s.commitment),
            InputKind::CrossChain(c) => Some(&c.commitment),
            InputKind::Veto(v) => Some(&v.commitment),
            _ => None,
        }
    }

    /// Asset and amount the input brings in, as the reference reports them: `None` for a coinbase (its
    /// value comes from the outputs) and an opaque input.
    pub fn asset_amount(&self) -> Option<(AssetId, Amount)> {
        match &self.kind {
            InputKind::Issuance(i) => Some((i.asset_id(), i.amount)),
            InputKind::Spend(_) | InputKind::CrossChain(_) | InputKind::Veto(_) => {
                self.spend_commitment().map(|c| (c.asset_id, c.amount))
            }
            InputKind::Coinbase(_) | InputKind::Opaque => None,
        }
    }

    /// The control program being satisfied (spend, cross-chain, veto).
    pub fn control_program(&self) -> Option<&[u8]> {
        self.spend_commitment().map(|c| c.control_program.as_slice())
    }

    /// The issuance program (issuance, cross-chain).
    pub fn issuance_program(&self) -> Option<&[u8]> {
        match &self.kind {
            InputKind::Issuance(i) => Some(&i.issuance_program),
            InputKind::CrossChain(c) => Some(&c.issuance_program),
            _ => None,
        }
    }

    /// The raw asset definition (issuance, cross-chain).
    pub fn asset_definition(&self) -> Option<&[u8]> {
        match &self.kind {
            InputKind::Issuance(i) => Some(&i.asset_definition),
            InputKind::CrossChain(c) => Some(&c.asset_definition),
            _ => None,
        }
    }

    /// The witness arguments (empty for coinbase and opaque inputs).
    pub fn arguments(&self) -> &[Vec<u8>] {
        match &self.kind {
            InputKind::Issuance(i) => &i.arguments,
            InputKind::Spend(s) => &s.arguments,
            InputKind::CrossChain(c) => &c.arguments,
            InputKind::Veto(v) => &v.arguments,
            InputKind::Coinbase(_) | InputKind::Opaque => &[],
        }
    }

    /// Replaces the witness arguments (no-op for coinbase and opaque inputs, which have none).
    pub fn set_arguments(&mut self, args: Vec<Vec<u8>>) {
        match &mut self.kind {
            InputKind::Issuance(i) => i.arguments = args,
            InputKind::Spend(s) => s.arguments = args,
            InputKind::CrossChain(c) => c.arguments = args,
            InputKind::Veto(v) => v.arguments = args,
            InputKind::Coinbase(_) | InputKind::Opaque => {}
        }
    }

    /// The coinbase's arbitrary bytes.
    pub fn arbitrary(&self) -> Option<&[u8]> {
        match &self.kind {
            InputKind::Coinbase(c) => Some(&c.arbitrary),
            _ => None,
        }
    }

    /// The vote public key of a veto input.
    pub fn vote(&self) -> Option<&[u8]> {
        match &self.kind {
            InputKind::Veto(v) => Some(&v.vote),
            _ => None,
        }
    }
}

/// The value and program an output locks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OutputCommitment {
    /// Asset locked.
    pub asset_id: AssetId,
    /// Amount locked.
    pub amount: Amount,
    /// VM version of the control program (must be 1).
    pub vm_version: u64,
    /// The control program; one starting with `OP_FAIL` (0x6a) makes the output a retirement.
    pub control_program: Vec<u8>,
    /// Unread tail of the commitment string. On the main chain, an output of an unknown asset version
    /// keeps its whole commitment here.
    pub suffix: Vec<u8>,
}

/// What an output is. The main chain has only [`OutputKind::Control`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum OutputKind {
    /// An ordinary output (sidechain type byte 0, "intra-chain").
    #[default]
    Control,
    /// Sidechain: value leaving for the main chain (type byte 1).
    CrossChain,
    /// Sidechain: a vote for a consensus node (type byte 2).
    Vote {
        /// The node's public key (xpub).
        vote: Vec<u8>,
    },
}

impl OutputKind {
    fn type_byte(&self) -> u8 {
        match self {
            OutputKind::Control => 0,
            OutputKind::CrossChain => 1,
            OutputKind::Vote { .. } => 2,
        }
    }
}

/// A transaction output.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TxOutput {
    /// Asset version; 1 for every output the reference understands.
    pub asset_version: u64,
    /// The kind (always `Control` on the main chain).
    pub kind: OutputKind,
    /// Value and program.
    pub commitment: OutputCommitment,
    /// Sidechain only: unread tail of the typed outer string (all of it for an unknown asset version).
    pub type_suffix: Vec<u8>,
    /// The output witness string. The reference reads and drops it and always writes it empty; it is kept
    /// here so that decoding then encoding gives back the same bytes.
    pub witness: Vec<u8>,
}

impl TxOutput {
    /// Decodes one output (as it appears inside a transaction) from a reader.
    pub fn read_from(r: &mut Reader<'_>, profile: Profile, limits: &Limits) -> Result<TxOutput, DecodeError> {
        read_output(r, profile, limits)
    }

    /// Encodes the output as it appears inside a transaction.
    pub fn encode(&self, profile: Profile) -> Vec<u8> {
        let mut w = Writer::new();
        write_output(&mut w, profile, self);
        w.into_bytes()
    }

    /// A version-1 output.
    pub fn new(kind: OutputKind, asset_id: AssetId, amount: Amount, control_program: Vec<u8>) -> TxOutput {
        TxOutput {
            asset_version: 1,
            kind,
            commitment: OutputCommitment {
                asset_id,
                amount,
                vm_version: 1,
                control_program,
                suffix: Vec::new(),
            },
            type_suffix: Vec::new(),
            witness: Vec::new(),
        }
    }

    /// Asset locked.
    pub fn asset_id(&self) -> AssetId {
        self.commitment.asset_id
    }

    /// Amount locked.
    pub fn amount(&self) -> Amount {
        self.commitment.amount
    }

    /// Control program.
    pub fn control_program(&self) -> &[u8] {
        &self.commitment.control_program
    }

    /// Whether the control program starts with `OP_FAIL`, which makes the output a retirement.
    pub fn is_retirement(&self) -> bool {
        is_unspendable(&self.commitment.control_program)
    }

    /// The vote public key of a vote output.
    pub fn vote(&self) -> Option<&[u8]> {
        match &self.kind {
            OutputKind::Vote { vote } => Some(vote),
            _ => None,
        }
    }
}

/// `OP_FAIL`: a program starting with it can never be satisfied.
pub const OP_FAIL: u8 = 0x6a;

/// Whether a program starts with `OP_FAIL` (the reference's `IsUnspendable`).
pub fn is_unspendable(program: &[u8]) -> bool {
    program.first() == Some(&OP_FAIL)
}

/// The plain contents of a transaction.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TxData {
    /// Transaction version.
    pub version: u64,
    /// Time range (the reference's maximum block height/time field; 0 means none).
    pub time_range: u64,
    /// Inputs.
    pub inputs: Vec<TxInput>,
    /// Outputs.
    pub outputs: Vec<TxOutput>,
}

/// Why a transaction's contents are not acceptable for its profile or cannot be mapped to entries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxError {
    /// An input kind the profile does not have.
    #[error("input {index}: {kind} inputs do not exist in the {profile} profile")]
    InputNotInProfile {
        /// Input position.
        index: usize,
        /// The reference's name for the kind.
        kind: &'static str,
        /// The profile.
        profile: Profile,
    },
    /// An output kind the profile does not have.
    #[error("output {index}: this output kind does not exist in the {profile} profile")]
    OutputNotInProfile {
        /// Output position.
        index: usize,
        /// The profile.
        profile: Profile,
    },
    /// Typed contents with an asset version other than 1, or opaque contents with asset version 1.
    #[error("{what} {index}: asset version {asset_version} does not match its contents")]
    AssetVersionMismatch {
        /// "input" or "output".
        what: &'static str,
        /// Position.
        index: usize,
        /// The version.
        asset_version: u64,
    },
    /// An output of an unknown asset version that still carries typed fields.
    #[error("output {index}: an output of asset version {asset_version} cannot carry typed fields")]
    OpaqueOutputWithFields {
        /// Output position.
        index: usize,
        /// The version.
        asset_version: u64,
    },
    /// The sidechain reference cannot map an output of an unknown asset version (it crashes on it).
    #[error("output {index}: the sidechain cannot map an output of asset version {asset_version}")]
    OpaqueOutputInSide {
        /// Output position.
        index: usize,
        /// The version.
        asset_version: u64,
    },
    /// A commitment whose VM version is not 1.
    #[error("{what} {index}: VM version {version}, only 1 is defined")]
    VmVersion {
        /// "input" or "output".
        what: &'static str,
        /// Position.
        index: usize,
        /// The version.
        version: u64,
    },
    /// A value the wire format cannot carry (above 2^63-1).
    #[error("{what} is {value}, above 2^63-1")]
    ValueOutOfRange {
        /// The field.
        what: &'static str,
        /// The value.
        value: u64,
    },
    /// A main-chain coinbase takes its value from output 0, so it needs one.
    #[error("a main-chain coinbase needs at least one output")]
    CoinbaseWithoutOutputs,
    /// The reference routes the coinbase's value through mux source 0, which an opaque input 0 lacks.
    #[error("a coinbase transaction's input 0 is opaque, leaving the mux without source 0")]
    CoinbaseMissingFirstSource,
}

const MAX63: u64 = i64::MAX as u64;

fn check63(what: &'static str, value: u64) -> Result<(), TxError> {
    if value > MAX63 {
        return Err(TxError::ValueOutOfRange { what, value });
    }
    Ok(())
}

fn check_spend_commitment(index: usize, c: &SpendCommitment) -> Result<(), TxError> {
    check63("source position", c.source_position)?;
    if c.vm_version != 1 {
        return Err(TxError::VmVersion {
            what: "input",
            index,
            version: c.vm_version,
        });
    }
    Ok(())
}

/// Checks everything that decoding guarantees, so that a built transaction encodes to bytes that decode
/// back to it and maps like the reference.
fn validate(profile: Profile, data: &TxData) -> Result<(), TxError> {
    check63("transaction version", data.version)?;
    check63("time range", data.time_range)?;
    for (index, input) in data.inputs.iter().enumerate() {
        check63("input asset version", input.asset_version)?;
        let opaque = matches!(input.kind, InputKind::Opaque);
        if opaque != (input.asset_version != 1) {
            return Err(TxError::AssetVersionMismatch {
                what: "input",
                index,
                asset_version: input.asset_version,
            });
        }
        if !input.kind.allowed_in(profile) {
            return Err(TxError::InputNotInProfile {
                index,
                kind: input.kind.api_type_name(),
                profile,
            });
        }
        match &input.kind {
            InputKind::Issuance(i) => check63("issuance VM version", i.vm_version)?,
            InputKind::CrossChain(c) => {
                check_spend_commitment(index, &c.commitment)?;
                check63("issuance VM version", c.issuance_vm_version)?;
            }
            InputKind::Spend(SpendInput { commitment, .. })
            | InputKind::Veto(VetoInput { commitment, .. }) => check_spend_commitment(index, commitment)?,
            InputKind::Coinbase(_) | InputKind::Opaque => {}
        }
    }
    for (index, output) in data.outputs.iter().enumerate() {
        check63("output asset version", output.asset_version)?;
        if profile == Profile::Main && output.kind != OutputKind::Control {
            return Err(TxError::OutputNotInProfile { index, profile });
        }
        if profile == Profile::Main && !output.type_suffix.is_empty() {
            return Err(TxError::OutputNotInProfile { index, profile });
        }
        if output.asset_version == 1 {
            if output.commitment.vm_version != 1 {
                return Err(TxError::VmVersion {
                    what: "output",
                    index,
                    version: output.commitment.vm_version,
                });
            }
        } else {
            if profile == Profile::Side {
                return Err(TxError::OpaqueOutputInSide {
                    index,
                    asset_version: output.asset_version,
                });
            }
            let c = &output.commitment;
            if c.asset_id != AssetId::default()
                || c.amount != Amount::ZERO
                || c.vm_version != 0
                || !c.control_program.is_empty()
            {
                return Err(TxError::OpaqueOutputWithFields {
                    index,
                    asset_version: output.asset_version,
                });
            }
        }
    }
    let coinbase = data
        .inputs
        .iter()
        .any(|i| matches!(i.kind, InputKind::Coinbase(_)));
    if coinbase {
        if profile == Profile::Main && data.outputs.is_empty() {
            return Err(TxError::CoinbaseWithoutOutputs);
        }
        if data
            .inputs
            .first()
            .is_some_and(|i| matches!(i.kind, InputKind::Opaque))
        {
            return Err(TxError::CoinbaseMissingFirstSource);
        }
    }
    Ok(())
}

/// A transaction of a given profile with its entry IDs, computed once.
///
/// Built by [`Transaction::decode`] or [`Transaction::new`]; both check the contents so that the value
/// always encodes, decodes back to itself and maps to an entry graph exactly as the reference does.
///
/// Immutable once built, and shared: a clone is a reference count, not a copy. The same
/// transaction sits in the pool, in a block being rebuilt from it, in the block committed and in
/// the caches of recent blocks; copying it at each step was a large share of a loaded validator's
/// allocation work.
#[derive(Clone, PartialEq, Eq)]
pub struct Transaction {
    inner: Arc<TxInner>,
}

struct TxInner {
    profile: Profile,
    data: TxData,
    serialized_size: u64,
    ids: TxIds,
    /// The canonical bytes, made on first use: the pool journal, peers, blocks and the store all
    /// want them, and encoding anew each time was a twentieth of a loaded validator's CPU.
    canonical: OnceLock<Vec<u8>>,
}

// Equality is of the contents; whether the bytes were made yet does not matter.
impl PartialEq for TxInner {
    fn eq(&self, other: &Self) -> bool {
        self.profile == other.profile
            && self.data == other.data
            && self.serialized_size == other.serialized_size
            && self.ids == other.ids
    }
}

impl Eq for TxInner {}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("profile", &self.inner.profile)
            .field("data", &self.inner.data)
            .field("serialized_size", &self.inner.serialized_size)
            .field("ids", &self.inner.ids)
            .finish()
    }
}

impl Transaction {
    /// Checks `data` for `profile` and computes its IDs. The serialized size is that of
    /// [`Transaction::encode`].
    pub fn new(profile: Profile, data: TxData) -> Result<Transaction, TxError> {
        validate(profile, &data)?;
        let bytes = encode_data(profile, &data);
        let size = bytes.len() as u64;
        let tx = Self::from_valid(profile, data, size)?;
        // Made already: keep them.
        let _ = tx.inner.canonical.set(bytes);
        Ok(tx)
    }

    fn from_valid(profile: Profile, data: TxData, serialized_size: u64) -> Result<Transaction, TxError> {
        let ids = graph::map_tx(profile, &data)?;
        Ok(Transaction {
            inner: Arc::new(TxInner {
                profile,
                data,
                serialized_size,
                ids,
                canonical: OnceLock::new(),
            }),
        })
    }

    /// Decodes one transaction that must fill `bytes` exactly.
    pub fn decode(bytes: &[u8], profile: Profile, limits: &Limits) -> Result<Transaction, DecodeError> {
        if bytes.len() > limits.max_tx_bytes {
            return Err(DecodeError::LimitExceeded {
                what: "transaction size",
                offset: 0,
                value: bytes.len() as u64,
                limit: limits.max_tx_bytes as u64,
            });
        }
        let mut r = Reader::new(bytes);
        let tx = Self::read_from(&mut r, profile, limits)?;
        r.expect_end("transaction")?;
        Ok(tx)
    }

    /// Decodes one transaction from a reader (e.g. inside a block), leaving what follows unread.
    pub fn read_from(
        r: &mut Reader<'_>,
        profile: Profile,
        limits: &Limits,
    ) -> Result<Transaction, DecodeError> {
        let start = r.offset();
        let start_pos = r.consumed();
        // Whether this transaction's own bytes hold a longer-than-shortest varint: the reader's
        // flag is put back as it was afterwards.
        let earlier = r.take_non_minimal();
        let data = read_tx_data(r, profile, limits);
        let non_minimal = r.take_non_minimal();
        if earlier || non_minimal {
            r.note_non_minimal();
        }
        let data = data?;
        let size = r.offset().saturating_sub(start);
        if size > limits.max_tx_bytes {
            return Err(DecodeError::LimitExceeded {
                what: "transaction size",
                offset: start,
                value: size as u64,
                limit: limits.max_tx_bytes as u64,
            });
        }
        // Decoding guarantees every check `validate` makes except those that need the whole
        // transaction; run it anyway so both constructors share one definition of "valid".
        validate(profile, &data)?;
        let tx = Self::from_valid(profile, data, size as u64)?;
        if !non_minimal {
            // Every varint in its shortest form: the bytes read are the canonical encoding
            // (the codec has no other choice to make; a property test checks this against
            // encoding), so they are kept instead of encoding the transaction again later.
            let _ = tx.inner.canonical.set(r.read_since(start_pos).to_vec());
        }
        Ok(tx)
    }

    /// The canonical bytes (serialization flags 0x07).
    pub fn encode(&self) -> Vec<u8> {
        self.canonical_bytes().to_vec()
    }

    /// The canonical bytes (serialization flags 0x07), without copying them: made on first use and
    /// kept with the transaction.
    pub fn canonical_bytes(&self) -> &[u8] {
        self.inner
            .canonical
            .get_or_init(|| encode_data(self.inner.profile, &self.inner.data))
    }

    /// Appends the canonical bytes to a writer.
    pub fn write_to(&self, w: &mut Writer) {
        w.put_bytes(self.canonical_bytes());
    }

    /// The profile the transaction was built or decoded under.
    pub fn profile(&self) -> Profile {
        self.inner.profile
    }

    /// The plain contents.
    pub fn data(&self) -> &TxData {
        &self.inner.data
    }

    /// Gives the contents back (to change them and build a new transaction).
    pub fn into_data(self) -> TxData {
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner.data,
            Err(shared) => shared.data.clone(),
        }
    }

    /// Number of bytes the transaction occupied when decoded (or its encoded length when built), as the
    /// reference reports `size`.
    pub fn serialized_size(&self) -> u64 {
        self.inner.serialized_size
    }

    /// The entry IDs.
    pub fn ids(&self) -> &TxIds {
        &self.inner.ids
    }

    /// The transaction ID.
    pub fn id(&self) -> Hash {
        self.inner.ids.tx_id
    }

    /// Transaction version.
    pub fn version(&self) -> u64 {
        self.inner.data.version
    }

    /// Time range.
    pub fn time_range(&self) -> u64 {
        self.inner.data.time_range
    }

    /// Inputs.
    pub fn inputs(&self) -> &[TxInput] {
        &self.inner.data.inputs
    }

    /// Outputs.
    pub fn outputs(&self) -> &[TxOutput] {
        &self.inner.data.outputs
    }

    /// `TXSIGHASH` for input `index`: SHA3-256(input entry ID || transaction ID).
    pub fn sighash(&self, index: usize) -> Option<Hash> {
        self.inner.ids.sighash(index)
    }

    /// Whether any input is a coinbase.
    pub fn is_coinbase(&self) -> bool {
        self.inner
            .data
            .inputs
            .iter()
            .any(|i| matches!(i.kind, InputKind::Coinbase(_)))
    }

    /// Per-asset totals of the inputs that carry a value (coinbase and opaque inputs carry none).
    pub fn input_totals(&self) -> Result<AssetTotals, AmountError> {
        sum_by_asset(self.inner.data.inputs.iter().filter_map(TxInput::asset_amount))
    }

    /// Per-asset totals of the outputs (retirements included).
    pub fn output_totals(&self) -> Result<AssetTotals, AmountError> {
        sum_by_asset(self.inner.data.outputs.iter().map(|o| (o.asset_id(), o.amount())))
    }

    /// BTM in minus BTM out, checked: `Ok(0)` for a coinbase transaction, an error if either sum
    /// overflows or more BTM leaves than enters.
    pub fn checked_fee(&self) -> Result<Amount, AmountError> {
        if self.is_coinbase() {
            return Ok(Amount::ZERO);
        }
        let btm_in = self
            .input_totals()?
            .get(&AssetId::BTM)
            .copied()
            .unwrap_or(Amount::ZERO);
        let btm_out = self
            .output_totals()?
            .get(&AssetId::BTM)
            .copied()
            .unwrap_or(Amount::ZERO);
        btm_in.checked_sub(btm_out)
    }

    /// The `fee` the reference's `decode-raw-transaction` prints. Both compute BTM in minus BTM out and
    /// 0 for a coinbase; they differ on bad input: the main chain (Bytom) wraps around in 64 bits, the
    /// sidechain (Vapor) reports 0 when a checked step fails. Use [`Transaction::checked_fee`] for
    /// anything but display.
    pub fn fee(&self) -> u64 {
        match self.inner.profile {
            Profile::Side => self.checked_fee().map(Amount::get).unwrap_or(0),
            Profile::Main => {
                // The reference stops at the first coinbase, before looking at later inputs.
                let mut total_in: u64 = 0;
                for input in &self.inner.data.inputs {
                    if matches!(input.kind, InputKind::Coinbase(_)) {
                        return 0;
                    }
                    if let Some((asset, amount)) = input.asset_amount()
                        && asset == AssetId::BTM
                    {
                        total_in = total_in.wrapping_add(amount.get());
                    }
                }
                let total_out = self
                    .inner
                    .data
                    .outputs
                    .iter()
                    .filter(|o| o.asset_id() == AssetId::BTM)
                    .fold(0u64, |acc, o| acc.wrapping_add(o.amount().get()));
                total_in.wrapping_sub(total_out)
            }
        }
    }
}

fn encode_data(profile: Profile, data: &TxData) -> Vec<u8> {
    let mut w = Writer::new();
    write_tx_data(&mut w, profile, data);
    w.into_bytes()
}

fn read_amount(r: &mut Reader<'_>, what: &'static str) -> Result<Amount, DecodeError> {
    let offset = r.offset();
    let v = r.read_varint63(what)?;
    // A 63-bit varint is always a valid amount; map the impossible case to the range error anyway.
    Amount::new(v).map_err(|_| DecodeError::OutOfRange {
        what,
        offset,
        value: v,
        bits: 63,
    })
}

fn read_vm_version_1(r: &mut Reader<'_>, what: &'static str) -> Result<u64, DecodeError> {
    let offset = r.offset();
    let version = r.read_varint63(what)?;
    if version != 1 {
        return Err(DecodeError::UnsupportedVmVersion {
            what,
            offset,
            version,
        });
    }
    Ok(version)
}

fn read_spend_commitment(r: &mut Reader<'_>, limits: &Limits) -> Result<SpendCommitment, DecodeError> {
    let (mut c, suffix) = r.read_extensible(limits.max_extensible_bytes, "spend commitment", |r| {
        Ok(SpendCommitment {
            source_id: r.read_hash("spend source id")?,
            asset_id: AssetId(r.read_hash("spend asset id")?.0),
            amount: read_amount(r, "spend amount")?,
            source_position: r.read_varint63("spend source position")?,
            vm_version: read_vm_version_1(r, "spend commitment")?,
            control_program: r.read_varstr_vec(limits.max_program_bytes, "spend control program")?,
            suffix: Vec::new(),
        })
    })?;
    c.suffix = suffix;
    Ok(c)
}

fn write_spend_commitment(w: &mut Writer, c: &SpendCommitment) {
    w.put_extensible(&c.suffix, |w| {
        w.put_hash(&c.source_id);
        w.put_bytes(&c.asset_id.0);
        w.put_uvarint(c.amount.get());
        w.put_uvarint(c.source_position);
        w.put_uvarint(c.vm_version);
        w.put_varstr(&c.control_program);
    });
}

fn read_arguments(r: &mut Reader<'_>, limits: &Limits) -> Result<Vec<Vec<u8>>, DecodeError> {
    r.read_varstr_list(
        limits.max_witness_args,
        limits.max_witness_arg_bytes,
        "witness arguments",
    )
}

fn read_input(r: &mut Reader<'_>, profile: Profile, limits: &Limits) -> Result<TxInput, DecodeError> {
    let asset_version = r.read_varint63("input asset version")?;
    // The issuance's declared asset ID sits in the commitment; it is checked once the witness has
    // supplied the definition.
    let ((mut kind, declared), commitment_suffix) =
        r.read_extensible(limits.max_extensible_bytes, "input commitment", |r| {
            if asset_version != 1 {
                return Ok((InputKind::Opaque, None));
            }
            let offset = r.offset();
            let type_byte = r.read_u8("input type")?;
            let kind = match (profile, type_byte) {
                (Profile::Main, 0) => {
                    let nonce = r.read_varstr_vec(limits.max_extensible_bytes, "issuance nonce")?;
                    let declared = AssetId(r.read_hash("issuance asset id")?.0);
                    let amount = read_amount(r, "issuance amount")?;
                    let issuance = IssuanceInput {
                        nonce,
                        amount,
                        ..IssuanceInput::default()
                    };
                    return Ok((InputKind::Issuance(issuance), Some(declared)));
                }
                (_, 1) => InputKind::Spend(SpendInput {
                    commitment: read_spend_commitment(r, limits)?,
                    arguments: vec![],
                }),
                (_, 2) => InputKind::Coinbase(CoinbaseInput {
                    arbitrary: r.read_varstr_vec(limits.max_extensible_bytes, "coinbase arbitrary")?,
                }),
                (Profile::Side, 0) => {
                    let commitment = read_spend_commitment(r, limits)?;
                    InputKind::CrossChain(CrossChainInput {
                        commitment,
                        issuance_vm_version: r.read_varint63("cross-chain issuance VM version")?,
                        asset_definition: r
                            .read_varstr_vec(limits.max_extensible_bytes, "cross-chain asset definition")?,
                        issuance_program: r
                            .read_varstr_vec(limits.max_program_bytes, "cross-chain issuance program")?,
                        arguments: vec![],
                    })
                }
                (Profile::Side, 3) => {
                    let commitment = read_spend_commitment(r, limits)?;
                    InputKind::Veto(VetoInput {
                        commitment,
                        vote: r.read_varstr_vec(limits.max_extensible_bytes, "veto vote")?,
                        arguments: vec![],
                    })
                }
                (profile, type_byte) => {
                    return Err(DecodeError::UnknownType {
                        what: "input",
                        offset,
                        type_byte,
                        profile,
                    });
                }
            };
            Ok((kind, None))
        })?;
    let ((), witness_suffix) = r.read_extensible(limits.max_extensible_bytes, "input witness", |r| {
        match &mut kind {
            InputKind::Issuance(i) => {
                let offset = r.offset();
                i.asset_definition = r.read_varstr_vec(limits.max_extensible_bytes, "asset definition")?;
                i.vm_version = r.read_varint63("issuance VM version")?;
                i.issuance_program = r.read_varstr_vec(limits.max_program_bytes, "issuance program")?;
                let computed = i.asset_id();
                if let Some(declared) = declared
                    && computed != declared
                {
                    return Err(DecodeError::IssuanceAssetMismatch {
                        offset,
                        declared,
                        computed,
                    });
                }
                i.arguments = read_arguments(r, limits)?;
            }
            InputKind::Spend(s) => s.arguments = read_arguments(r, limits)?,
            InputKind::CrossChain(c) => c.arguments = read_arguments(r, limits)?,
            InputKind::Veto(v) => v.arguments = read_arguments(r, limits)?,
            InputKind::Coinbase(_) | InputKind::Opaque => {}
        }
        Ok(())
    })?;
    Ok(TxInput {
        asset_version,
        kind,
        commitment_suffix,
        witness_suffix,
    })
}

fn write_input(w: &mut Writer, profile: Profile, input: &TxInput) {
    w.put_uvarint(input.asset_version);
    w.put_extensible(&input.commitment_suffix, |w| {
        if input.asset_version != 1 {
            return;
        }
        if let Some(t) = input.kind.type_byte(profile) {
            w.put_u8(t);
        }
        match &input.kind {
            InputKind::Issuance(i) => {
                w.put_varstr(&i.nonce);
                w.put_bytes(&i.asset_id().0);
                w.put_uvarint(i.amount.get());
            }
            InputKind::Spend(s) => write_spend_commitment(w, &s.commitment),
            InputKind::Coinbase(c) => w.put_varstr(&c.arbitrary),
            InputKind::CrossChain(c) => {
                write_spend_commitment(w, &c.commitment);
                w.put_uvarint(c.issuance_vm_version);
                w.put_varstr(&c.asset_definition);
                w.put_varstr(&c.issuance_program);
            }
            InputKind::Veto(v) => {
                write_spend_commitment(w, &v.commitment);
                w.put_varstr(&v.vote);
            }
            InputKind::Opaque => {}
        }
    });
    w.put_extensible(&input.witness_suffix, |w| {
        if input.asset_version != 1 {
            return;
        }
        match &input.kind {
            InputKind::Issuance(i) => {
                w.put_varstr(&i.asset_definition);
                w.put_uvarint(i.vm_version);
                w.put_varstr(&i.issuance_program);
                w.put_varstr_list(&i.arguments);
            }
            InputKind::Spend(SpendInput { arguments, .. })
            | InputKind::CrossChain(CrossChainInput { arguments, .. })
            | InputKind::Veto(VetoInput { arguments, .. }) => w.put_varstr_list(arguments),
            InputKind::Coinbase(_) | InputKind::Opaque => {}
        }
    });
}

fn read_output_commitment(r: &mut Reader<'_>, limits: &Limits) -> Result<OutputCommitment, DecodeError> {
    Ok(OutputCommitment {
        asset_id: AssetId(r.read_hash("output asset id")?.0),
        amount: read_amount(r, "output amount")?,
        vm_version: read_vm_version_1(r, "output commitment")?,
        control_program: r.read_varstr_vec(limits.max_program_bytes, "output control program")?,
        suffix: Vec::new(),
    })
}

fn write_output_commitment_contents(w: &mut Writer, c: &OutputCommitment) {
    w.put_bytes(&c.asset_id.0);
    w.put_uvarint(c.amount.get());
    w.put_uvarint(c.vm_version);
    w.put_varstr(&c.control_program);
}

fn read_output(r: &mut Reader<'_>, profile: Profile, limits: &Limits) -> Result<TxOutput, DecodeError> {
    let asset_version = r.read_varint63("output asset version")?;
    let mut out = TxOutput {
        asset_version,
        ..TxOutput::default()
    };
    match profile {
        Profile::Main => {
            let (c, suffix) = r.read_extensible(limits.max_extensible_bytes, "output commitment", |r| {
                if asset_version != 1 {
                    return Ok(OutputCommitment::default());
                }
                read_output_commitment(r, limits)
            })?;
            out.commitment = OutputCommitment { suffix, ..c };
        }
        Profile::Side => {
            let ((kind, c), type_suffix) =
                r.read_extensible(limits.max_extensible_bytes, "output commitment", |r| {
                    if asset_version != 1 {
                        return Ok((OutputKind::Control, OutputCommitment::default()));
                    }
                    let offset = r.offset();
                    let kind = match r.read_u8("output type")? {
                        0 => OutputKind::Control,
                        1 => OutputKind::CrossChain,
                        2 => OutputKind::Vote {
                            vote: r.read_varstr_vec(limits.max_extensible_bytes, "vote")?,
                        },
                        type_byte => {
                            return Err(DecodeError::UnknownType {
                                what: "output",
                                offset,
                                type_byte,
                                profile,
                            });
                        }
                    };
                    let (c, suffix) =
                        r.read_extensible(limits.max_extensible_bytes, "output commitment", |r| {
                            read_output_commitment(r, limits)
                        })?;
                    Ok((kind, OutputCommitment { suffix, ..c }))
                })?;
            out.kind = kind;
            out.commitment = c;
            out.type_suffix = type_suffix;
        }
    }
    out.witness = r.read_varstr_vec(limits.max_extensible_bytes, "output witness")?;
    Ok(out)
}

fn write_output(w: &mut Writer, profile: Profile, out: &TxOutput) {
    w.put_uvarint(out.asset_version);
    let c = &out.commitment;
    match profile {
        Profile::Main => w.put_extensible(&c.suffix, |w| {
            if out.asset_version == 1 {
                write_output_commitment_contents(w, c);
            }
        }),
        Profile::Side => w.put_extensible(&out.type_suffix, |w| {
            if out.asset_version != 1 {
                return;
            }
            w.put_u8(out.kind.type_byte());
            if let OutputKind::Vote { vote } = &out.kind {
                w.put_varstr(vote);
            }
            w.put_extensible(&c.suffix, |w| write_output_commitment_contents(w, c));
        }),
    }
    w.put_varstr(&out.witness);
}

fn read_tx_data(r: &mut Reader<'_>, profile: Profile, limits: &Limits) -> Result<TxData, DecodeError> {
    let offset = r.offset();
    let flags = r.read_u8("transaction serialization flags")?;
    if flags != TX_SERIALIZATION_FLAGS {
        return Err(DecodeError::BadSerializationFlags {
            what: "transaction",
            offset,
            flags,
        });
    }
    let version = r.read_varint63("transaction version")?;
    let time_range = r.read_varint63("transaction time range")?;
    let n_inputs = r.read_count(limits.max_inputs, "input count")?;
    let mut inputs = Vec::new();
    for index in 0..n_inputs {
        let input = read_input(r, profile, limits).map_err(|e| DecodeError::Input {
            index,
            source: Box::new(e),
        })?;
        inputs.push(input);
    }
    let n_outputs = r.read_count(limits.max_outputs, "output count")?;
    let mut outputs = Vec::new();
    for index in 0..n_outputs {
        let output = read_output(r, profile, limits).map_err(|e| DecodeError::Output {
            index,
            source: Box::new(e),
        })?;
        outputs.push(output);
    }
    Ok(TxData {
        version,
        time_range,
        inputs,
        outputs,
    })
}

fn write_tx_data(w: &mut Writer, profile: Profile, data: &TxData) {
    w.put_u8(TX_SERIALIZATION_FLAGS);
    w.put_uvarint(data.version);
    w.put_uvarint(data.time_range);
    w.put_uvarint(data.inputs.len() as u64);
    for input in &data.inputs {
        write_input(w, profile, input);
    }
    w.put_uvarint(data.outputs.len() as u64);
    for output in &data.outputs {
        write_output(w, profile, output);
    }
}

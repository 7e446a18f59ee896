//! Transaction validation: the stateless checks (done once and remembered in a [`CheckedTx`]) and
//! the stateful checks against a [`UtxoView`].

use std::collections::BTreeMap;
use std::sync::Arc;

use foldhash::{HashMap, HashMapExt as _};

use types::asset_class::AssetClass;
use types::tx::Transaction;
use types::{AssetId, Hash, InputKind, Profile, ResultKind};
use vm::{Context, OutputCheck, TxIntrospection, VmError, VmProfile};

use crate::error::{GasError, TxRejection};
use crate::params::ChainParams;
use crate::sig::{self, DeferredSig, SigMode};
use crate::utxo::{UtxoKind, UtxoView};

/// Which kind of UTXO an input spends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpendKind {
    /// A spend input: an ordinary or coinbase output.
    Output,
    /// A veto input: a vote output.
    Vote,
}

/// A transaction that passed every stateless check for a given block height: format, limits, gas,
/// time range, per-asset balance and every input's program in the VM with its signatures.
///
/// The checks are done once ("validate once"); [`check_tx_against`] and [`crate::validate_block`]
/// reuse the result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedTx {
    tx: Arc<Transaction>,
    fx: TxEffects,
}

/// Everything the stateless checks learn about a transaction, without the transaction itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TxEffects {
    pub(crate) height: u64,
    /// Whether the checks would pass at any other height on the same side of the empty-input-ID
    /// rule: no time range, and every input a spend or veto of a pay-to-witness-key-hash output
    /// (the one program that cannot read the block height). See [`CheckedTx::reusable_at`].
    pub(crate) height_free: bool,
    pub(crate) coinbase: bool,
    pub(crate) gas_used: u64,
    pub(crate) fee: u64,
    pub(crate) spends: Vec<Hash>,
    pub(crate) spend_inputs: Vec<(usize, SpendKind)>,
    pub(crate) created: Vec<(Hash, UtxoKind)>,
    pub(crate) claims: Vec<(usize, Hash)>,
}

impl CheckedTx {
    pub(crate) fn effects(&self) -> &TxEffects {
        &self.fx
    }

    /// The transaction.
    pub fn tx(&self) -> &Arc<Transaction> {
        &self.tx
    }
    /// Gas used (VM runs of the charged inputs plus storage gas).
    pub fn gas_used(&self) -> u64 {
        self.fx.gas_used
    }
    /// BTM in minus BTM out, in neu.
    pub fn fee(&self) -> u64 {
        self.fx.fee
    }
    /// IDs of the outputs spent by spend and veto inputs, in input order.
    pub fn spends(&self) -> &[Hash] {
        &self.fx.spends
    }
    /// Input index and kind of each entry of [`CheckedTx::spends`].
    pub fn spend_inputs(&self) -> &[(usize, SpendKind)] {
        &self.fx.spend_inputs
    }
    /// The outputs that become UTXOs, with their kind (a block's coinbase turns them into
    /// [`UtxoKind::Coinbase`]). Retirements, cross-chain outputs and, on the sidechain, zero-amount
    /// outputs create none.
    pub fn created(&self) -> &[(Hash, UtxoKind)] {
        &self.fx.created
    }
    /// Main-chain output IDs claimed by cross-chain inputs, with the input index.
    pub fn claims(&self) -> &[(usize, Hash)] {
        &self.fx.claims
    }
    /// Serialized size in bytes.
    pub fn serialized_size(&self) -> u64 {
        self.tx.serialized_size()
    }
    /// The block height the checks were made for (the VM's `BLOCKHEIGHT` and the time range depend on it).
    pub fn height(&self) -> u64 {
        self.fx.height
    }
    /// Whether this is a coinbase transaction (checked as the first transaction of a block).
    pub fn is_coinbase(&self) -> bool {
        self.fx.coinbase
    }
    /// Whether the stateless checks made for [`CheckedTx::height`] hold for a block at `height`
    /// too: the same height, or a transaction whose checks do not depend on the height (no time
    /// range; every input spends a pay-to-witness-key-hash output, whose program never reads the
    /// height) with both heights on the same side of `params.empty_input_id_height`.
    ///
    /// This lets a BBFT validator reuse a pool admission made for the committed tip + 1 in a block
    /// proposed further up, above certified-but-uncommitted blocks, instead of verifying every
    /// signature again.
    pub fn reusable_at(&self, height: u64, params: &ChainParams) -> bool {
        let fork = params.empty_input_id_height;
        height == self.fx.height
            || (self.fx.height_free && !self.fx.coinbase && (height >= fork) == (self.fx.height >= fork))
    }
}

/// Stateless checks of a transaction for the block at `next_height` (a mempool transaction: a
/// coinbase is refused).
///
/// # Consensus
/// `ValidateTx` of `protocol/validation/tx.go` (both references) for a version-1 block: version,
/// size, time range, empty input IDs, the main chain's standard-program rule, the mux balance per
/// asset, the gas state machine, and every input's program run in the VM.
pub fn check_tx(
    tx: Arc<Transaction>,
    params: &ChainParams,
    next_height: u64,
) -> Result<CheckedTx, TxRejection> {
    let fx = check_tx_with(&tx, params, next_height, 1, false, &mut SigMode::Immediate)?;
    Ok(CheckedTx { tx, fx })
}

/// [`check_tx`] for many transactions in parallel on rayon's pool, with the signatures of standard
/// spends verified in batches. The result for each transaction is identical to [`check_tx`].
pub fn check_txs(
    txs: &[Arc<Transaction>],
    params: &ChainParams,
    next_height: u64,
) -> Vec<Result<CheckedTx, TxRejection>> {
    let jobs: Vec<Job<'_>> = txs
        .iter()
        .map(|tx| Job {
            tx: tx.as_ref(),
            height: next_height,
            block_version: 1,
            coinbase_allowed: false,
        })
        .collect();
    sig::check_parallel(&jobs, params)
        .into_iter()
        .zip(txs)
        .map(|(r, tx)| {
            r.map(|fx| CheckedTx {
                tx: Arc::clone(tx),
                fx,
            })
        })
        .collect()
}

/// One transaction to check statelessly.
pub(crate) struct Job<'a> {
    pub(crate) tx: &'a Transaction,
    pub(crate) height: u64,
    pub(crate) block_version: u64,
    pub(crate) coinbase_allowed: bool,
}

/// Stateful checks against a view: every spent output exists and is mature (coinbase maturity,
/// vote lock), its kind fits the input, no claimed main-chain output was claimed before, and the
/// asset-class rules hold against the view's asset registry and lots.
///
/// # Consensus
/// `applySpendUtxo` / `applyCrossChainUtxo` of Vapor's `protocol/state/utxo_view.go` and
/// `ApplyTransaction` of Bytom's; the asset classes are Tributary's (`docs/assets.md`).
pub fn check_tx_against(
    checked: &CheckedTx,
    view: &dyn UtxoView,
    height: u64,
    params: &ChainParams,
) -> Result<(), TxRejection> {
    let tx = &checked.fx;
    for ((input, kind), id) in tx.spend_inputs.iter().zip(&tx.spends) {
        let entry = view.utxo(id)?.ok_or(TxRejection::MissingUtxo {
            input: *input,
            output_id: *id,
        })?;
        check_spendable(*input, *kind, entry, height, params)?;
    }
    for (input, id) in &tx.claims {
        if view.is_claimed(id)? {
            return Err(TxRejection::AlreadyClaimed {
                input: *input,
                output_id: *id,
            });
        }
    }
    crate::assets::AssetPass::new(view).tx(&checked.tx, height)?;
    Ok(())
}

/// Kind and maturity of one spent UTXO.
pub(crate) fn check_spendable(
    input: usize,
    kind: SpendKind,
    entry: crate::UtxoEntry,
    height: u64,
    params: &ChainParams,
) -> Result<(), TxRejection> {
    match (kind, entry.kind) {
        (SpendKind::Output, UtxoKind::Normal) => Ok(()),
        (SpendKind::Output, UtxoKind::Coinbase) => {
            let mature = entry.height.saturating_add(params.coinbase_maturity);
            if mature > height {
                return Err(TxRejection::ImmatureCoinbase {
                    input,
                    created: entry.height,
                    mature,
                });
            }
            Ok(())
        }
        (SpendKind::Vote, UtxoKind::Vote) => {
            let mature = entry.height.saturating_add(params.vote_maturity);
            if mature > height {
                return Err(TxRejection::VoteLocked {
                    input,
                    created: entry.height,
                    mature,
                });
            }
            Ok(())
        }
        (_, found) => Err(TxRejection::WrongUtxoKind { input, found }),
    }
}

/// The gas state of one transaction (the reference's `GasState`).
struct Gas {
    left: i64,
    used: i64,
    storage: i64,
    valid: bool,
    credit: i64,
}

impl Gas {
    fn update(&mut self, new_left: i64) -> Result<(), GasError> {
        if new_left < 0 {
            return Err(GasError::Overflow);
        }
        let spent = self.left.checked_sub(new_left).ok_or(GasError::Overflow)?;
        self.used = self.used.checked_add(spent).ok_or(GasError::Overflow)?;
        self.left = new_left;
        if !self.valid && (self.used > self.credit || self.storage > self.left) {
            return Err(GasError::OverCredit {
                used: self.used,
                credit: self.credit,
                left: self.left,
                storage: self.storage,
            });
        }
        Ok(())
    }

    fn set_valid(&mut self) -> Result<(), GasError> {
        let left = self.left.checked_sub(self.storage).ok_or(GasError::Overflow)?;
        if left < 0 {
            return Err(GasError::Storage {
                storage: self.storage,
                left: self.left,
            });
        }
        self.left = left;
        self.used = self.used.checked_add(self.storage).ok_or(GasError::Overflow)?;
        self.valid = true;
        Ok(())
    }
}

fn vm_profile(p: Profile) -> VmProfile {
    match p {
        Profile::Main => VmProfile::Main,
        Profile::Side => VmProfile::Side,
    }
}

/// What `TXSIGHASH` and `CHECKOUTPUT` see from one input.
struct Introspection<'a> {
    tx: &'a Transaction,
    sighash: Hash,
    /// Sidechain cross-chain inputs cannot use `CHECKOUTPUT` (the reference answers a context error).
    check_output_allowed: bool,
}

impl TxIntrospection for Introspection<'_> {
    fn tx_sig_hash(&self) -> Hash {
        self.sighash
    }

    fn check_output(&self, check: &OutputCheck<'_>) -> Result<bool, VmError> {
        if !self.check_output_allowed {
            return Err(VmError::Context);
        }
        let index = usize::try_from(check.index).map_err(|_| VmError::BadValue)?;
        let (Some(out), Some(ids)) = (self.tx.outputs().get(index), self.tx.ids().outputs.get(index)) else {
            return Err(VmError::BadValue);
        };
        let value_ok =
            out.asset_id().as_bytes().as_slice() == check.asset_id && out.amount().get() == check.amount;
        match ids.kind {
            ResultKind::Output | ResultKind::VoteOutput => Ok(value_ok
                && out.commitment.vm_version == check.vm_version
                && out.control_program() == check.code),
            // A retirement has no program: version 0, and empty code unless expansion opcodes are
            // reserved, when any code matches.
            ResultKind::Retirement => {
                Ok(value_ok && check.vm_version == 0 && (check.expansion || check.code.is_empty()))
            }
            ResultKind::CrossChainOutput => Err(VmError::Context),
        }
    }
}

/// Runs input `i`'s program. `limit` is the gas limit; returns the gas left.
fn run_input(
    tx: &Transaction,
    params: &ChainParams,
    height: u64,
    i: usize,
    dest_pos: u64,
    limit: i64,
    sigs: &mut SigMode<'_>,
) -> Result<i64, TxRejection> {
    let Some(input) = tx.inputs().get(i) else {
        return Ok(limit);
    };
    let Some(ids) = tx.ids().inputs.get(i) else {
        return Ok(limit);
    };
    let sighash = types::graph::sighash(&ids.input_id, &tx.id());
    let profile = vm_profile(tx.profile());
    let spent = ids.spent_output_id.map(|h| h.0);
    let (vm_version, program, asset, amount, check_output_allowed): (u64, &[u8], AssetId, u64, bool) =
        match &input.kind {
            InputKind::Spend(s) => (
                s.commitment.vm_version,
                &s.commitment.control_program,
                s.commitment.asset_id,
                s.commitment.amount.get(),
                true,
            ),
            InputKind::Veto(v) => (
                v.commitment.vm_version,
                &v.commitment.control_program,
                v.commitment.asset_id,
                v.commitment.amount.get(),
                true,
            ),
            InputKind::CrossChain(x) => (
                x.issuance_vm_version,
                params
                    .federation_program
                    .as_deref()
                    .ok_or(TxRejection::NoFederation { input: i })?,
                x.commitment.asset_id,
                x.commitment.amount.get(),
                false,
            ),
            InputKind::Issuance(is) => (
                is.vm_version,
                &is.issuance_program,
                is.asset_id(),
                is.amount.get(),
                true,
            ),
            InputKind::Coinbase(_) | InputKind::Opaque => return Ok(limit),
        };
    let args = input.arguments();
    if let SigMode::Deferred(queue) = sigs
        && vm_version == 1
        && let Some(left) = sig::fast_p2wpkh(program, args, limit)
        && let (Some(sig), Some(pk)) = (args.first(), args.get(1))
    {
        queue.push(DeferredSig {
            pubkey: pk.clone(),
            msg: sighash.0,
            sig: sig.clone(),
        });
        return Ok(left);
    }
    let code = vm::standard::witness_program(profile, program);
    let asset_bytes = asset.0;
    let intro = Introspection {
        tx,
        sighash,
        check_output_allowed,
    };
    let ctx = Context {
        profile,
        vm_version,
        code: &code,
        arguments: args,
        entry_id: &ids.input_id.0,
        tx_version: Some(tx.version()),
        block_height: Some(height),
        num_results: u64::try_from(tx.outputs().len()).ok(),
        asset_id: Some(&asset_bytes),
        amount: Some(amount),
        dest_pos: Some(dest_pos),
        spent_output_id: match &input.kind {
            InputKind::Issuance(_) => None,
            _ => spent.as_ref().map(|s| s.as_slice()),
        },
        tx: Some(&intro),
    };
    vm::verify(&ctx, limit).map_err(|failure| TxRejection::Vm { input: i, failure })
}

/// The stateless checks. `block_version` is the version of the block the transaction enters;
/// `coinbase_allowed` is true only for the first transaction of a block.
pub(crate) fn check_tx_with(
    tx: &Transaction,
    params: &ChainParams,
    height: u64,
    block_version: u64,
    coinbase_allowed: bool,
    sigs: &mut SigMode<'_>,
) -> Result<TxEffects, TxRejection> {
    let profile = params.profile;
    if tx.profile() != profile {
        return Err(TxRejection::Profile {
            expected: profile,
            found: tx.profile(),
        });
    }
    if block_version == 1 && tx.version() != 1 {
        return Err(TxRejection::Version {
            version: tx.version(),
        });
    }
    let size = tx.serialized_size();
    if size == 0 {
        return Err(TxRejection::ZeroSize);
    }
    if size > params.max_tx_bytes {
        return Err(TxRejection::TooLarge {
            size,
            max: params.max_tx_bytes,
        });
    }
    if tx.time_range() != 0 && tx.time_range() < height {
        return Err(TxRejection::TimeRange {
            time_range: tx.time_range(),
            height,
        });
    }
    let ids = tx.ids();
    if height >= params.empty_input_id_height
        && let Some(input) = ids.inputs.iter().position(|i| i.input_id == Hash::default())
    {
        return Err(TxRejection::EmptyInputId { input });
    }
    let mut seen: HashMap<Hash, usize> = HashMap::with_capacity(ids.inputs.len());
    for (i, ids) in ids.inputs.iter().enumerate() {
        if ids.input_id == Hash::default() {
            continue;
        }
        if let Some(first) = seen.insert(ids.input_id, i) {
            return Err(TxRejection::DuplicateInput { input: i, first });
        }
    }
    // Distinct entry IDs do not mean distinct outputs: a cross-chain input's ID also hashes its asset
    // definition, so two claims of one main-chain output can differ in ID. Each output (spent or
    // claimed) is consumed at most once per transaction, as the reference's UTXO view enforces.
    let mut consumed: HashMap<Hash, usize> = HashMap::with_capacity(ids.inputs.len());
    for (i, ids) in ids.inputs.iter().enumerate() {
        if let Some(output) = ids.spent_output_id
            && let Some(first) = consumed.insert(output, i)
        {
            return Err(TxRejection::DuplicateInput { input: i, first });
        }
    }
    let inputs = tx.inputs();
    let outputs = tx.outputs();

    // Coinbase placement and contents.
    let mut coinbase = false;
    for (i, input) in inputs.iter().enumerate() {
        if let InputKind::Coinbase(c) = &input.kind {
            if !coinbase_allowed || i != 0 {
                return Err(TxRejection::MisplacedCoinbase { input: i });
            }
            if c.arbitrary.len() > params.coinbase_arbitrary_limit {
                return Err(TxRejection::CoinbaseArbitrary {
                    len: c.arbitrary.len(),
                    max: params.coinbase_arbitrary_limit,
                });
            }
            coinbase = true;
        }
    }

    // The main chain's standard-program rule.
    if profile == Profile::Main {
        for (i, input) in inputs.iter().enumerate() {
            if let InputKind::Spend(s) = &input.kind
                && s.commitment.asset_id == AssetId::BTM
                && !vm::standard::is_p2w_script(&s.commitment.control_program)
            {
                return Err(TxRejection::NonStandardInput { input: i });
            }
        }
        for (o, (out, oid)) in outputs.iter().zip(&ids.outputs).enumerate() {
            if oid.kind == ResultKind::Output
                && out.asset_id() == AssetId::BTM
                && !vm::standard::is_p2w_script(out.control_program())
            {
                return Err(TxRejection::NonStandardOutput { output: o });
            }
        }
    }

    if tx.version() == 1 && outputs.is_empty() {
        return Err(TxRejection::EmptyResults);
    }

    // Vote outputs and veto inputs.
    for (o, (out, oid)) in outputs.iter().zip(&ids.outputs).enumerate() {
        if oid.kind == ResultKind::VoteOutput {
            let len = out.vote().map_or(0, <[u8]>::len);
            if len != 64 {
                return Err(TxRejection::VotePubKey {
                    what: "output",
                    index: o,
                    len,
                });
            }
            if out.amount().get() < params.min_vote_output_amount {
                return Err(TxRejection::VoteAmount {
                    output: o,
                    amount: out.amount().get(),
                    min: params.min_vote_output_amount,
                });
            }
            if out.asset_id() != AssetId::BTM {
                return Err(TxRejection::VoteAsset { output: o });
            }
        }
    }
    for (i, input) in inputs.iter().enumerate() {
        match &input.kind {
            InputKind::Veto(v) if v.vote.len() != 64 => {
                return Err(TxRejection::VotePubKey {
                    what: "input",
                    index: i,
                    len: v.vote.len(),
                });
            }
            InputKind::CrossChain(x) => {
                let defined =
                    AssetId::from_definition(&x.issuance_program, x.issuance_vm_version, &x.asset_definition);
                if x.commitment.asset_id != AssetId::BTM && x.commitment.asset_id != defined {
                    return Err(TxRejection::CrossChainAsset { input: i });
                }
            }
            _ => {}
        }
    }

    // Asset classes, the part that needs no state: a definition that claims a class must be valid,
    // and an issuance or claim must carry an amount its class allows (an ID fixes its definition,
    // so the declared class is the registered one). The stateful pass checks the rest.
    for (i, input) in inputs.iter().enumerate() {
        let (definition, amount) = match &input.kind {
            InputKind::Issuance(is) => (&is.asset_definition, is.amount.get()),
            InputKind::CrossChain(x) if x.commitment.asset_id != AssetId::BTM => {
                (&x.asset_definition, x.commitment.amount.get())
            }
            _ => continue,
        };
        let class = AssetClass::from_definition(definition)
            .map_err(|error| TxRejection::AssetDefinition { input: i, error })?;
        if !class.allows_amount(amount) {
            return Err(TxRejection::AssetAmount {
                what: "input",
                index: i,
                class,
                amount,
            });
        }
    }

    // The mux: per-asset balance.
    let mut parity: BTreeMap<AssetId, i128> = BTreeMap::new();
    let mut add_source = |asset: AssetId, amount: u64| -> Result<(), TxRejection> {
        let e = parity.entry(asset).or_insert(0);
        *e += i128::from(amount);
        if *e > i128::from(i64::MAX) {
            return Err(TxRejection::Overflow { asset });
        }
        Ok(())
    };
    for input in inputs {
        match &input.kind {
            InputKind::Coinbase(_) => match profile {
                Profile::Main => {
                    let Some(first) = outputs.first() else {
                        return Err(TxRejection::EmptyResults);
                    };
                    if first.asset_id() != AssetId::BTM {
                        return Err(TxRejection::CoinbaseAsset);
                    }
                    add_source(AssetId::BTM, first.amount().get())?;
                }
                Profile::Side => {
                    let mut total: u64 = 0;
                    for out in outputs {
                        total = total
                            .checked_add(out.amount().get())
                            .ok_or(TxRejection::Overflow { asset: AssetId::BTM })?;
                    }
                    add_source(AssetId::BTM, total)?;
                }
            },
            _ => {
                if let Some((asset, amount)) = input.asset_amount() {
                    add_source(asset, amount.get())?;
                }
            }
        }
    }
    for (o, out) in outputs.iter().enumerate() {
        let asset = out.asset_id();
        let Some(e) = parity.get_mut(&asset) else {
            return Err(TxRejection::NoSource { output: o, asset });
        };
        *e -= i128::from(out.amount().get());
    }
    let mut btm: i128 = 0;
    for (asset, diff) in &parity {
        if *asset == AssetId::BTM {
            btm = *diff;
        } else if *diff != 0 {
            return Err(TxRejection::Unbalanced {
                asset: *asset,
                difference: *diff,
            });
        }
    }
    if btm < 0 {
        return Err(GasError::NegativeFee {
            deficit: btm.unsigned_abs(),
        }
        .into());
    }
    let fee = u64::try_from(btm).map_err(|_| TxRejection::Overflow { asset: AssetId::BTM })?;
    let fee_i64 = i64::try_from(fee).map_err(|_| GasError::Overflow)?;

    // Gas (`setGas`).
    let credit = params.default_gas_credit;
    let rate = params.vm_gas_rate.max(1);
    let mut left = (fee_i64 / rate).checked_add(credit).ok_or(GasError::Overflow)?;
    if left > params.max_gas_amount {
        left = params.max_gas_amount;
    }
    let size_i64 = i64::try_from(size).map_err(|_| GasError::Overflow)?;
    let storage = size_i64
        .checked_mul(params.storage_gas_rate)
        .ok_or(GasError::Overflow)?;
    let mut gas = Gas {
        left,
        used: 0,
        storage,
        valid: false,
        credit,
    };

    // Mux source positions: every mapped input in order.
    let mut positions = Vec::with_capacity(inputs.len());
    let mut pos: u64 = 0;
    for input in inputs {
        positions.push(pos);
        if !matches!(input.kind, InputKind::Opaque) {
            pos = pos.saturating_add(1);
        }
    }
    let is_btm_gas_input = |k: &InputKind| match k {
        InputKind::Spend(s) => s.commitment.asset_id == AssetId::BTM,
        InputKind::Veto(v) => v.commitment.asset_id == AssetId::BTM,
        InputKind::CrossChain(x) => x.commitment.asset_id == AssetId::BTM,
        InputKind::Coinbase(_) => true,
        InputKind::Issuance(_) | InputKind::Opaque => false,
    };

    // The gas inputs first (BTM spends and vetoes under the running gas, BTM cross-chain inputs
    // under their own credit, the coinbase), then the fee is secured, then the other inputs.
    for (i, input) in inputs.iter().enumerate() {
        if !is_btm_gas_input(&input.kind) {
            continue;
        }
        let dest = positions.get(i).copied().unwrap_or(0);
        match &input.kind {
            InputKind::Spend(_) | InputKind::Veto(_) => {
                let new_left = run_input(tx, params, height, i, dest, gas.left, sigs)?;
                gas.update(new_left)?;
            }
            InputKind::CrossChain(_) => {
                run_input(tx, params, height, i, dest, credit, sigs)?;
                gas.storage = 0;
            }
            InputKind::Coinbase(_) => gas.storage = 0,
            InputKind::Issuance(_) | InputKind::Opaque => {}
        }
    }
    gas.set_valid()?;
    for (i, input) in inputs.iter().enumerate() {
        if is_btm_gas_input(&input.kind) {
            continue;
        }
        let dest = positions.get(i).copied().unwrap_or(0);
        match &input.kind {
            InputKind::Spend(_) | InputKind::Veto(_) | InputKind::Issuance(_) => {
                let new_left = run_input(tx, params, height, i, dest, gas.left, sigs)?;
                gas.update(new_left)?;
            }
            InputKind::CrossChain(_) => {
                run_input(tx, params, height, i, dest, credit, sigs)?;
            }
            InputKind::Coinbase(_) | InputKind::Opaque => {}
        }
    }
    let gas_used = u64::try_from(gas.used).map_err(|_| GasError::Overflow)?;

    let u = utxo_effects(tx, coinbase);
    Ok(TxEffects {
        height,
        height_free: is_height_free(tx),
        coinbase,
        gas_used,
        fee,
        spends: u.spends,
        spend_inputs: u.spend_inputs,
        created: u.created,
        claims: u.claims,
    })
}

/// No time range, and only spends and vetoes of pay-to-witness-key-hash outputs (`00 14 <hash160>`):
/// the VM expands that program to a fixed signature check that never reads `BLOCKHEIGHT`.
fn is_height_free(tx: &Transaction) -> bool {
    let p2wpkh = |prog: &[u8]| prog.len() == 22 && prog.first() == Some(&0x00) && prog.get(1) == Some(&0x14);
    tx.time_range() == 0
        && tx.inputs().iter().all(|input| match &input.kind {
            InputKind::Spend(s) => p2wpkh(&s.commitment.control_program),
            InputKind::Veto(v) => p2wpkh(&v.commitment.control_program),
            _ => false,
        })
}

/// What a transaction does to the UTXO set, read off its contents alone.
pub(crate) struct UtxoEffects {
    pub(crate) spends: Vec<Hash>,
    pub(crate) spend_inputs: Vec<(usize, SpendKind)>,
    pub(crate) claims: Vec<(usize, Hash)>,
    pub(crate) created: Vec<(Hash, UtxoKind)>,
}

/// The outputs a transaction spends (spend and veto inputs), the main-chain outputs it claims, and
/// the outputs that become UTXOs (ordinary outputs, on the sidechain only non-zero ones, and vote
/// outputs; all of them `Coinbase` for a block's coinbase).
pub(crate) fn utxo_effects(tx: &Transaction, coinbase: bool) -> UtxoEffects {
    let ids = tx.ids();
    let mut spends = Vec::new();
    let mut spend_inputs = Vec::new();
    let mut claims = Vec::new();
    for (i, (input, iid)) in tx.inputs().iter().zip(&ids.inputs).enumerate() {
        let Some(id) = iid.spent_output_id else { continue };
        match input.kind {
            InputKind::Spend(_) => {
                spends.push(id);
                spend_inputs.push((i, SpendKind::Output));
            }
            InputKind::Veto(_) => {
                spends.push(id);
                spend_inputs.push((i, SpendKind::Vote));
            }
            InputKind::CrossChain(_) => claims.push((i, id)),
            _ => {}
        }
    }
    let mut created = Vec::new();
    for (out, oid) in tx.outputs().iter().zip(&ids.outputs) {
        let kind = match oid.kind {
            ResultKind::Output => {
                if tx.profile() == Profile::Side && out.amount().get() == 0 {
                    continue;
                }
                UtxoKind::Normal
            }
            ResultKind::VoteOutput => UtxoKind::Vote,
            ResultKind::Retirement | ResultKind::CrossChainOutput => continue,
        };
        created.push((oid.id, if coinbase { UtxoKind::Coinbase } else { kind }));
    }
    UtxoEffects {
        spends,
        spend_inputs,
        claims,
        created,
    }
}

//! `build-transaction` from the reference's actions (vapor `blockchain/txbuilder/actions.go`,
//! `account/builder.go`), `sign-transaction` and `estimate-transaction-gas`.

use std::collections::BTreeMap;

use crypto::chainkd::XPub;
use ledger::{LotId, UtxoView};
use serde::{Deserialize, Deserializer, Serialize};
use types::address::{address_to_program, decode_address_with_hrp, sidechain_mainchain_hrp};
use types::asset_class::AssetClass;
use types::{
    AssetId, Hash, InputKind, IssuanceInput, OutputKind, Profile, SpendCommitment, SpendInput, Transaction,
    TxData, TxInput, TxOutput, VetoInput,
};
use vm::standard;

use crate::account::{Account, CtrlProgram};
use crate::asset::find_asset;
use crate::error::WalletError;
use crate::index::WalletUtxo;
use crate::select::{Candidate, SelectError, select_coins};
use crate::serde_util::{hex_bytes, opt_hash};
use crate::store::{Change, address_counter};
use crate::template::{GasEstimate, KeyId, SigningInstruction, Template, WitnessComponent, materialize};
use crate::wallet::{Inner, Wallet, find_account};

/// The reference's default time a build holds its outputs (`defaultTxTTL`, 30 minutes).
pub const DEFAULT_TTL_MS: u64 = 30 * 60 * 1000;
/// Most actions in one request.
pub const MAX_ACTIONS: usize = 256;

/// A `build-transaction` request body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BuildRequest {
    /// A transaction to extend (hex), or `null`.
    #[serde(default, with = "opt_hex")]
    pub base_transaction: Option<Vec<u8>>,
    /// The actions, as JSON objects with a `type`.
    #[serde(default)]
    pub actions: Vec<serde_json::Value>,
    /// How long the chosen outputs stay reserved, in milliseconds (a number) or as a duration string
    /// (`"30s"`, `"5m"`, `"1h"`, `"500ms"`); 0 means the default of 30 minutes.
    #[serde(default, deserialize_with = "ttl_ms")]
    pub ttl: u64,
    /// The transaction's time range (last valid block height; 0 = none).
    #[serde(default)]
    pub time_range: u64,
}

mod opt_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_str(&hex::encode(b)),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) if s.is_empty() => Ok(None),
            Some(s) => hex::decode(s).map(Some).map_err(serde::de::Error::custom),
        }
    }
}

fn ttl_ms<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Ttl {
        Ms(u64),
        Text(String),
        Null(()),
    }
    match Ttl::deserialize(d)? {
        Ttl::Ms(n) => Ok(n),
        Ttl::Null(()) => Ok(0),
        Ttl::Text(s) => {
            parse_duration_ms(&s).ok_or_else(|| serde::de::Error::custom(format!("bad ttl {s:?}")))
        }
    }
}

/// Parses `"<n><unit>"` with unit `ms`, `s`, `m` or `h` (a number alone is milliseconds).
pub fn parse_duration_ms(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let factor = match unit {
        "" | "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return None,
    };
    n.checked_mul(factor)
}

/// A parsed action.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    SpendAccount {
        account: String,
        asset: AssetId,
        amount: u64,
    },
    SpendUtxo {
        output_id: Hash,
        arguments: Option<Vec<WitnessComponent>>,
    },
    ControlAddress {
        address: String,
        asset: AssetId,
        amount: u64,
    },
    ControlProgram {
        program: Vec<u8>,
        asset: AssetId,
        amount: u64,
    },
    Retire {
        arbitrary: Vec<u8>,
        asset: AssetId,
        amount: u64,
    },
    CrossChainOut {
        address: String,
        program: Vec<u8>,
        asset: AssetId,
        amount: u64,
    },
    VoteOutput {
        address: String,
        vote: Vec<u8>,
        asset: AssetId,
        amount: u64,
    },
    Veto {
        account: String,
        vote: Vec<u8>,
        asset: AssetId,
        amount: u64,
    },
    /// Issue an asset defined in this wallet, named by ID (hex) or alias.
    Issue { asset: String, amount: u64 },
}

impl Action {
    fn is_input(&self) -> bool {
        matches!(
            self,
            Action::SpendAccount { .. }
                | Action::SpendUtxo { .. }
                | Action::Veto { .. }
                | Action::Issue { .. }
        )
    }
}

/// Every field any action may carry; missing ones are caught per type, as the reference does.
#[derive(Debug, Default, Deserialize)]
struct RawAction {
    #[serde(rename = "type")]
    action_type: Option<String>,
    account_id: Option<String>,
    account_alias: Option<String>,
    asset_id: Option<String>,
    asset_alias: Option<String>,
    #[serde(default)]
    amount: u64,
    address: Option<String>,
    #[serde(default, with = "hex_bytes")]
    control_program: Vec<u8>,
    #[serde(default, with = "hex_bytes")]
    arbitrary: Vec<u8>,
    #[serde(default, with = "hex_bytes")]
    vote: Vec<u8>,
    #[serde(default, with = "opt_hash")]
    output_id: Option<Hash>,
    arguments: Option<Vec<ContractArgument>>,
}

#[derive(Debug, Deserialize)]
struct ContractArgument {
    #[serde(rename = "type")]
    arg_type: String,
    raw_data: serde_json::Value,
}

fn parse_action(index: usize, value: &serde_json::Value, profile: Profile) -> Result<Action, WalletError> {
    let bad = |reason: String| WalletError::BadAction { index, reason };
    let raw: RawAction = serde_json::from_value(value.clone()).map_err(|e| bad(e.to_string()))?;
    let action_type = raw.action_type.clone().unwrap_or_default();
    let asset = match raw.asset_id.as_deref() {
        None | Some("") => None,
        Some(h) => Some(AssetId::from_hex(h).map_err(|e| bad(format!("asset_id: {e}")))?),
    }
    .filter(|a| a.0 != [0u8; 32]);
    let account = raw
        .account_id
        .clone()
        .filter(|s| !s.is_empty())
        .or(raw.account_alias.clone().filter(|s| !s.is_empty()));
    let mut missing: Vec<&'static str> = Vec::new();
    let mut need = |cond: bool, name: &'static str| {
        if cond {
            missing.push(name);
        }
    };
    let side_only = |t: &str| -> Result<(), WalletError> {
        if profile == Profile::Side {
            Ok(())
        } else {
            Err(WalletError::BadActionType {
                index,
                action_type: t.to_string(),
            })
        }
    };
    let action = match action_type.as_str() {
        "spend_account" => {
            need(account.is_none(), "account_id");
            need(asset.is_none(), "asset_id");
            Action::SpendAccount {
                account: account.unwrap_or_default(),
                asset: asset.unwrap_or_default(),
                amount: raw.amount,
            }
        }
        "spend_account_unspent_output" => {
            need(raw.output_id.is_none(), "output_id");
            let arguments = match raw.arguments {
                None => None,
                Some(args) => Some(contract_args(index, &args)?),
            };
            Action::SpendUtxo {
                output_id: raw.output_id.unwrap_or_default(),
                arguments,
            }
        }
        "control_address" => {
            need(raw.address.as_deref().is_none_or(str::is_empty), "address");
            need(asset.is_none(), "asset_id");
            need(raw.amount == 0, "amount");
            Action::ControlAddress {
                address: raw.address.unwrap_or_default(),
                asset: asset.unwrap_or_default(),
                amount: raw.amount,
            }
        }
        "control_program" => {
            need(raw.control_program.is_empty(), "control_program");
            need(asset.is_none(), "asset_id");
            need(raw.amount == 0, "amount");
            Action::ControlProgram {
                program: raw.control_program,
                asset: asset.unwrap_or_default(),
                amount: raw.amount,
            }
        }
        "retire" => {
            need(asset.is_none(), "asset_id");
            need(raw.amount == 0, "amount");
            Action::Retire {
                arbitrary: raw.arbitrary,
                asset: asset.unwrap_or_default(),
                amount: raw.amount,
            }
        }
        "cross_chain_out" => {
            side_only(&action_type)?;
            need(
                raw.address.as_deref().is_none_or(str::is_empty) && raw.control_program.is_empty(),
                "address or program",
            );
            need(asset.is_none(), "asset_id");
            need(raw.amount == 0, "amount");
            Action::CrossChainOut {
                address: raw.address.unwrap_or_default(),
                program: raw.control_program,
                asset: asset.unwrap_or_default(),
                amount: raw.amount,
            }
        }
        "vote_output" => {
            side_only(&action_type)?;
            need(raw.address.as_deref().is_none_or(str::is_empty), "address");
            need(asset.is_none(), "asset_id");
            need(raw.amount == 0, "amount");
            need(raw.vote.is_empty(), "vote");
            Action::VoteOutput {
                address: raw.address.unwrap_or_default(),
                vote: raw.vote,
                asset: asset.unwrap_or_default(),
                amount: raw.amount,
            }
        }
        "veto" | "veto_input" => {
            side_only(&action_type)?;
            need(account.is_none(), "account_id");
            need(asset.is_none(), "asset_id");
            Action::Veto {
                account: account.unwrap_or_default(),
                vote: raw.vote,
                asset: asset.unwrap_or_default(),
                amount: raw.amount,
            }
        }
        "issue" => {
            if profile != Profile::Main {
                return Err(WalletError::BadAction {
                    index,
                    reason: "issue: assets are issued on the main chain only (a sidechain receives them \
                             by cross-chain transfer)"
                        .into(),
                });
            }
            let key = match (&asset, raw.asset_alias.as_deref().map(str::trim)) {
                (Some(a), _) => Some(a.to_hex()),
                (None, Some(alias)) if !alias.is_empty() => Some(alias.to_string()),
                _ => None,
            };
            need(key.is_none(), "asset_id");
            need(raw.amount == 0, "amount");
            Action::Issue {
                asset: key.unwrap_or_default(),
                amount: raw.amount,
            }
        }
        _ => return Err(WalletError::BadActionType { index, action_type }),
    };
    if !missing.is_empty() {
        return Err(WalletError::MissingFields {
            index,
            fields: missing,
        });
    }
    Ok(action)
}

/// Contract arguments of `spend_account_unspent_output` (reference `AddContractArgs`).
fn contract_args(index: usize, args: &[ContractArgument]) -> Result<Vec<WitnessComponent>, WalletError> {
    let bad = |reason: String| WalletError::BadAction { index, reason };
    #[derive(Deserialize)]
    struct Sig {
        xpub: XPub,
        #[serde(with = "crate::serde_util::hex_list")]
        derivation_path: Vec<Vec<u8>>,
    }
    #[derive(Deserialize)]
    struct Val<T> {
        value: T,
    }
    let mut out = Vec::with_capacity(args.len());
    for a in args {
        let parse_err = |e: serde_json::Error| bad(format!("argument {}: {e}", a.arg_type));
        out.push(match a.arg_type.as_str() {
            "raw_tx_signature" => {
                let s: Sig = serde_json::from_value(a.raw_data.clone()).map_err(parse_err)?;
                WitnessComponent::RawTxSignature {
                    quorum: 1,
                    keys: vec![KeyId {
                        xpub: s.xpub,
                        derivation_path: s.derivation_path,
                    }],
                    signatures: Vec::new(),
                }
            }
            "data" => {
                let v: Val<String> = serde_json::from_value(a.raw_data.clone()).map_err(parse_err)?;
                WitnessComponent::Data {
                    value: hex::decode(v.value).map_err(|e| bad(format!("data: {e}")))?,
                }
            }
            "string" => {
                let v: Val<String> = serde_json::from_value(a.raw_data.clone()).map_err(parse_err)?;
                WitnessComponent::Data {
                    value: v.value.into_bytes(),
                }
            }
            "integer" => {
                let v: Val<i64> = serde_json::from_value(a.raw_data.clone()).map_err(parse_err)?;
                WitnessComponent::Data {
                    value: vm::int64_bytes(v.value),
                }
            }
            "boolean" => {
                let v: Val<bool> = serde_json::from_value(a.raw_data.clone()).map_err(parse_err)?;
                WitnessComponent::Data {
                    value: vm::bool_bytes(v.value),
                }
            }
            other => return Err(bad(format!("invalid contract argument type {other:?}"))),
        });
    }
    Ok(out)
}

/// Sums spend actions of the same account and asset into the first of them (reference
/// `MergeSpendAction`).
fn merge_spends(actions: Vec<(usize, Action)>) -> Result<Vec<(usize, Action)>, WalletError> {
    let mut out: Vec<(usize, Action)> = Vec::with_capacity(actions.len());
    let mut seen: BTreeMap<(String, [u8; 32]), usize> = BTreeMap::new();
    for (i, a) in actions {
        if let Action::SpendAccount {
            account,
            asset,
            amount,
        } = &a
        {
            let key = (account.clone(), asset.0);
            if let Some(&slot) = seen.get(&key) {
                if let Some((_, Action::SpendAccount { amount: total, .. })) = out.get_mut(slot) {
                    *total = total
                        .checked_add(*amount)
                        .ok_or(WalletError::AmountRange("merged spend amount"))?;
                }
                continue;
            }
            seen.insert(key, out.len());
        }
        out.push((i, a));
    }
    Ok(out)
}

fn amount(n: u64) -> Result<types::Amount, WalletError> {
    types::Amount::new(n).map_err(|_| WalletError::AmountRange("amount above 2^63 - 1"))
}

/// The spend input and signing instruction of one of our outputs (reference `UtxoToInputs`).
fn utxo_input(account: &Account, u: &WalletUtxo) -> Result<(TxInput, SigningInstruction), WalletError> {
    let commitment = SpendCommitment {
        source_id: u.source_id,
        asset_id: u.asset_id,
        amount: amount(u.amount)?,
        source_position: u.source_pos,
        vm_version: 1,
        control_program: u.program.clone(),
        suffix: Vec::new(),
    };
    let kind = if u.vote.is_empty() {
        InputKind::Spend(SpendInput {
            commitment,
            arguments: Vec::new(),
        })
    } else {
        InputKind::Veto(VetoInput {
            commitment,
            vote: u.vote.clone(),
            arguments: Vec::new(),
        })
    };
    let path = account.path(u.change, u.control_program_index)?;
    let keys = account
        .xpubs
        .iter()
        .map(|x| KeyId {
            xpub: *x,
            derivation_path: path.clone(),
        })
        .collect();
    let mut components = vec![WitnessComponent::RawTxSignature {
        quorum: account.quorum,
        keys,
        signatures: Vec::new(),
    }];
    let derived = account.derived_xpubs(&path)?;
    if let [single] = derived.as_slice() {
        components.push(WitnessComponent::Data {
            value: single.public_key().to_vec(),
        });
    } else {
        components.push(WitnessComponent::Data {
            value: crate::account::multisig_script(&derived, account.quorum)?,
        });
    }
    Ok((
        TxInput::new(kind),
        SigningInstruction {
            position: 0,
            witness_components: components,
        },
    ))
}

fn select_error(e: SelectError, asset: &AssetId, veto: bool) -> WalletError {
    let asset = asset.to_hex();
    match e {
        SelectError::InsufficientFunds { needed, available } => WalletError::InsufficientFunds {
            asset,
            needed,
            available,
        },
        SelectError::Immature { needed, mature } if veto => WalletError::VoteLocked {
            needed,
            unlocked: mature,
        },
        SelectError::Immature { needed, mature } => WalletError::ImmatureFunds {
            asset,
            needed,
            mature,
        },
        SelectError::Reserved { needed, unreserved } => WalletError::ReservedFunds {
            asset,
            needed,
            unreserved,
        },
        SelectError::ZeroAmount => WalletError::BadConstruction("spend amount must be positive".into()),
        SelectError::Overflow => WalletError::AmountRange("selected outputs"),
    }
}

/// A fresh random issuance nonce (8 bytes, as the reference).
fn random_nonce() -> [u8; 8] {
    let mut b = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
    b
}

/// What a build consults beyond the wallet: the chain's asset state and the source of issuance nonces.
struct Ctx<'a> {
    view: Option<&'a dyn UtxoView>,
    nonce: &'a mut dyn FnMut() -> [u8; 8],
}

fn view_err(e: ledger::ViewError) -> WalletError {
    WalletError::Db(format!("chain state: {e}"))
}

/// The class of `asset`: the chain's registry if it knows the asset, else the definition of an asset
/// defined or learned here, else BAP-01 (as the ledger treats assets it has no record of).
fn class_of(
    state: &crate::store::State,
    view: Option<&dyn UtxoView>,
    asset: &AssetId,
) -> Result<AssetClass, WalletError> {
    if *asset == AssetId::BTM {
        return Ok(AssetClass::Bit);
    }
    if let Some(v) = view
        && let Some(r) = v.asset(asset).map_err(view_err)?
    {
        return Ok(r.class);
    }
    if let Some(a) = state.defined.get(&asset.0) {
        return a.class();
    }
    if let Some(r) = state.assets.get(&asset.0) {
        return AssetClass::from_definition(&r.definition).map_err(|e| WalletError::BadAssetDefinition {
            reason: e.to_string(),
        });
    }
    Ok(AssetClass::Bit)
}

/// The BAP-02 lot of an output: the chain's record, or (none recorded, or no chain state) its own.
fn lot_of(view: Option<&dyn UtxoView>, output_id: &Hash) -> Result<LotId, WalletError> {
    match view {
        Some(v) => Ok(v.lot(output_id).map_err(view_err)?.unwrap_or(LotId(*output_id))),
        None => Ok(LotId(*output_id)),
    }
}

fn class_rule(asset: &AssetId, class: AssetClass, reason: String) -> WalletError {
    WalletError::AssetClassRule {
        asset: asset.to_hex(),
        class: class.code(),
        reason,
    }
}

/// Whether the wallet's own history shows an issuance of `asset` (a quark issued by this wallet).
fn issued_here(state: &crate::store::State, asset: &AssetId) -> bool {
    state.txs.values().any(|t| {
        t.inputs
            .iter()
            .any(|i| i.input_type == "issue" && i.asset_id == *asset)
    })
}

/// Checks the assembled transaction against the class rules of `docs/assets.md` (amounts, quark
/// issued once, lots never merged), so that a template the wallet returns is one consensus accepts.
fn check_classes(
    state: &crate::store::State,
    view: Option<&dyn UtxoView>,
    tx: &Transaction,
) -> Result<(), WalletError> {
    let mut classes: BTreeMap<[u8; 32], AssetClass> = BTreeMap::new();
    let mut class = |a: &AssetId| -> Result<AssetClass, WalletError> {
        if let Some(c) = classes.get(&a.0) {
            return Ok(*c);
        }
        let c = class_of(state, view, a)?;
        classes.insert(a.0, c);
        Ok(c)
    };
    let mut lots: BTreeMap<[u8; 32], LotId> = BTreeMap::new();
    let mut quark_issued: std::collections::BTreeSet<[u8; 32]> = std::collections::BTreeSet::new();
    for (i, input) in tx.inputs().iter().enumerate() {
        let Some((asset, n)) = input.asset_amount() else {
            continue;
        };
        let c = class(&asset)?;
        if !c.allows_amount(n.get()) {
            return Err(class_rule(
                &asset,
                c,
                format!(
                    "input {i} carries {}, not a whole number of units of {}",
                    n.get(),
                    c.unit()
                ),
            ));
        }
        let ids = tx.ids().inputs.get(i);
        let lot = match &input.kind {
            InputKind::Issuance(_) => {
                if c == AssetClass::Quark {
                    let registered = match view {
                        Some(v) => v.asset(&asset).map_err(view_err)?.is_some(),
                        None => false,
                    };
                    if registered || issued_here(state, &asset) || !quark_issued.insert(asset.0) {
                        return Err(class_rule(
                            &asset,
                            c,
                            "a BAP-03 item is issued once ever, and it has been issued already".into(),
                        ));
                    }
                }
                ids.map(|x| LotId(x.input_id))
            }
            _ => match ids.and_then(|x| x.spent_output_id) {
                Some(spent) => Some(lot_of(view, &spent)?),
                None => ids.map(|x| LotId(x.input_id)),
            },
        };
        if c == AssetClass::Atomic
            && let Some(lot) = lot
            && let Some(first) = lots.insert(asset.0, lot)
            && first != lot
        {
            return Err(class_rule(
                &asset,
                c,
                "BAP-02 lots never merge: the inputs of this asset come from two lots (an issuance is a new \
                 lot); build one transaction per lot"
                    .into(),
            ));
        }
    }
    for (i, out) in tx.outputs().iter().enumerate() {
        let asset = out.asset_id();
        let c = class(&asset)?;
        let n = out.amount().get();
        if !c.allows_amount(n) {
            let reason = match c {
                AssetClass::Quark => format!("output {i} carries {n}; a BAP-03 item moves whole (amount 1)"),
                _ => format!("output {i} carries {n}, not a multiple of the unit {}", c.unit()),
            };
            return Err(class_rule(&asset, c, reason));
        }
    }
    Ok(())
}

/// Work in progress of one build; nothing here is persisted until the build succeeds.
struct Draft {
    inputs: Vec<TxInput>,
    instructions: Vec<SigningInstruction>,
    outputs: Vec<TxOutput>,
    reserved: Vec<Hash>,
    new_programs: Vec<CtrlProgram>,
    counters: BTreeMap<String, u64>,
    /// The lot each BAP-02 asset's spends come from so far.
    lots: BTreeMap<[u8; 32], LotId>,
    /// Assets issued by this transaction so far.
    issued: std::collections::BTreeSet<[u8; 32]>,
}

impl Wallet {
    /// Builds a template from the reference's actions (`build-transaction`). Chosen outputs are
    /// reserved until `now_ms + ttl`; change goes to new change addresses of the spending account.
    ///
    /// Without the chain's state, asset classes come from the definitions the wallet knows and every
    /// BAP-02 output counts as its own lot (so a spend never combines two outputs of one BAP-02 asset);
    /// [`Wallet::build_with`] takes the chain's state.
    pub fn build(&self, request: &BuildRequest, now_ms: u64) -> Result<Template, WalletError> {
        self.build_with(request, now_ms, None, &mut random_nonce)
    }

    /// [`Wallet::build`] against the chain's state `view` (its asset registry and BAP-02 lots), with
    /// random issuance nonces: what a node's `build-transaction` uses.
    pub fn build_in(
        &self,
        request: &BuildRequest,
        now_ms: u64,
        view: &dyn UtxoView,
    ) -> Result<Template, WalletError> {
        self.build_with(request, now_ms, Some(view), &mut random_nonce)
    }

    /// [`Wallet::build`] against the chain's state `view` (its asset registry and BAP-02 lots, see
    /// `docs/assets.md`), with issuance nonces from `nonce` (8 random bytes each in [`Wallet::build`];
    /// a fixed source reproduces a transaction exactly). Coin selection for a BAP-02 asset stays within
    /// one lot; a request that would break a class rule is refused with
    /// [`WalletError::AssetClassRule`] before anything is reserved.
    pub fn build_with(
        &self,
        request: &BuildRequest,
        now_ms: u64,
        view: Option<&dyn UtxoView>,
        nonce: &mut dyn FnMut() -> [u8; 8],
    ) -> Result<Template, WalletError> {
        let mut ctx = Ctx { view, nonce };
        if request.actions.len() > MAX_ACTIONS {
            return Err(WalletError::BadConstruction(format!(
                "more than {MAX_ACTIONS} actions"
            )));
        }
        let mut parsed = Vec::with_capacity(request.actions.len());
        for (i, a) in request.actions.iter().enumerate() {
            parsed.push((i, parse_action(i, a, self.profile)?));
        }
        if parsed.iter().all(|(_, a)| a.is_input()) {
            return Err(WalletError::BadConstruction(
                "the transaction contains only input actions".into(),
            ));
        }
        let actions = merge_spends(parsed)?;
        let ttl = if request.ttl == 0 {
            DEFAULT_TTL_MS
        } else {
            request.ttl
        };
        let expiry = now_ms.saturating_add(ttl);
        let mut base = match &request.base_transaction {
            Some(raw) => Transaction::decode(raw, self.profile, &types::Limits::default())
                .map_err(|e| WalletError::BadConstruction(format!("base_transaction: {e}")))?
                .into_data(),
            None => TxData {
                version: 1,
                time_range: 0,
                inputs: Vec::new(),
                outputs: Vec::new(),
            },
        };
        if request.time_range != 0 {
            base.time_range = request.time_range;
        }

        let mut inner = self.lock()?;
        inner.reserver.expire(now_ms);
        let height = inner.store.state.tip.map(|(h, _)| h).unwrap_or(0);
        let mut draft = Draft {
            inputs: Vec::new(),
            instructions: Vec::new(),
            outputs: Vec::new(),
            reserved: Vec::new(),
            new_programs: Vec::new(),
            counters: BTreeMap::new(),
            lots: BTreeMap::new(),
            issued: std::collections::BTreeSet::new(),
        };
        for (index, action) in &actions {
            self.build_action(&inner, &mut draft, action, height, &mut ctx)
                .map_err(|e| match e {
                    // Name the action for errors that do not already.
                    WalletError::InvalidAddress { address, reason } => WalletError::InvalidAddress {
                        address,
                        reason: format!("action {index}: {reason}"),
                    },
                    other => other,
                })?;
        }
        let base_inputs = base.inputs.len();
        base.outputs.append(&mut draft.outputs);
        base.inputs.append(&mut draft.inputs);
        for (k, si) in draft.instructions.iter_mut().enumerate() {
            si.position = u32::try_from(base_inputs.saturating_add(k))
                .map_err(|_| WalletError::BadConstruction("too many inputs".into()))?;
        }
        let tx =
            Transaction::new(self.profile, base).map_err(|e| WalletError::BadConstruction(e.to_string()))?;
        let fee = btm_fee(&tx)?;
        check_classes(&inner.store.state, ctx.view, &tx)?;
        // Success: hold the outputs and keep the change addresses.
        let id = inner
            .reserver
            .reserve(&draft.reserved, expiry)
            .map_err(WalletError::OutputReserved)?;
        let mut changes: Vec<Change> = draft
            .new_programs
            .into_iter()
            .map(|cp| Change::Program(cp.control_program.clone(), Some(cp)))
            .collect();
        changes.extend(draft.counters.into_iter().map(|(k, v)| Change::Counter(k, v)));
        if let Err(e) = inner.store.commit(changes) {
            inner.reserver.cancel(id);
            return Err(e);
        }
        Ok(Template {
            raw_transaction: tx.encode(),
            signing_instructions: draft.instructions,
            fee,
            allow_additional_actions: false,
        })
    }

    /// Coin selection under the asset's class: a BAP-03 spend is exactly one item, a BAP-04 spend a
    /// whole number of units, and a BAP-02 spend takes outputs of one lot only (the lot already used by
    /// this transaction if any; otherwise the lot whose selection needs the fewest inputs).
    #[allow(clippy::too_many_arguments)]
    fn select_for_class(
        &self,
        inner: &Inner,
        draft: &mut Draft,
        ctx: &Ctx<'_>,
        candidates: &[Candidate],
        asset: &AssetId,
        n: u64,
        height: u64,
        veto: bool,
    ) -> Result<crate::select::Selection, WalletError> {
        let class = class_of(&inner.store.state, ctx.view, asset)?;
        let plain = || select_coins(candidates, n, height).map_err(|e| select_error(e, asset, veto));
        match class {
            AssetClass::Bit => plain(),
            AssetClass::Quark if n != 1 => Err(class_rule(
                asset,
                class,
                format!("spend of {n}: a BAP-03 item is one unique unit and moves whole (amount 1)"),
            )),
            AssetClass::Quantum { .. } if !n.is_multiple_of(class.unit()) => Err(class_rule(
                asset,
                class,
                format!("spend of {n} is not a multiple of the unit {}", class.unit()),
            )),
            AssetClass::Quark | AssetClass::Quantum { .. } => plain(),
            AssetClass::Atomic => {
                if draft.issued.contains(&asset.0) {
                    return Err(class_rule(
                        asset,
                        class,
                        "an issuance starts a new lot, which cannot be spent together with an existing lot"
                            .into(),
                    ));
                }
                let mut groups: BTreeMap<LotId, Vec<Candidate>> = BTreeMap::new();
                for c in candidates {
                    groups.entry(lot_of(ctx.view, &c.id)?).or_default().push(*c);
                }
                if let Some(lot) = draft.lots.get(&asset.0) {
                    groups.retain(|l, _| l == lot);
                }
                let best = groups
                    .iter()
                    .filter_map(|(lot, g)| select_coins(g, n, height).ok().map(|s| (*lot, s)))
                    .min_by_key(|(_, s)| (s.ids.len(), s.change));
                match best {
                    Some((lot, sel)) => {
                        draft.lots.insert(asset.0, lot);
                        Ok(sel)
                    }
                    None => {
                        // Not enough in any one lot: say why, with the ordinary error if the asset's
                        // outputs together do not cover the amount either.
                        plain()?;
                        let largest = groups
                            .values()
                            .map(|g| g.iter().map(|c| c.amount).fold(0u64, u64::saturating_add))
                            .max()
                            .unwrap_or(0);
                        Err(class_rule(
                            asset,
                            class,
                            format!(
                                "spend of {n} needs outputs of more than one lot (the largest usable lot \
                                 holds {largest}); BAP-02 lots never merge, so build one transaction per lot"
                            ),
                        ))
                    }
                }
            }
        }
    }

    fn change_program(
        &self,
        inner: &Inner,
        draft: &mut Draft,
        account: &Account,
    ) -> Result<Vec<u8>, WalletError> {
        let key = address_counter(&account.id, true);
        let current = match draft.counters.get(&key) {
            Some(v) => *v,
            None => inner.store.state.counters.get(&key).copied().unwrap_or(0),
        };
        let index = current.saturating_add(1);
        let cp = crate::account::derive_program(account, true, index, self.profile, self.network)?;
        draft.counters.insert(key, index);
        let program = cp.control_program.clone();
        draft.new_programs.push(cp);
        Ok(program)
    }

    fn build_action(
        &self,
        inner: &Inner,
        draft: &mut Draft,
        action: &Action,
        height: u64,
        ctx: &mut Ctx<'_>,
    ) -> Result<(), WalletError> {
        let state = &inner.store.state;
        let program_of = |address: &str| {
            address_to_program(address, self.profile, self.network).map_err(|e| WalletError::InvalidAddress {
                address: address.to_string(),
                reason: e.to_string(),
            })
        };
        match action {
            Action::SpendAccount {
                account,
                asset,
                amount: n,
            }
            | Action::Veto {
                account,
                asset,
                amount: n,
                ..
            } => {
                let vote: &[u8] = match action {
                    Action::Veto { vote, .. } => vote,
                    _ => &[],
                };
                let account = find_account(state, account)?.clone();
                let candidates: Vec<Candidate> = state
                    .utxos
                    .values()
                    .filter(|u| u.account_id == account.id && u.asset_id == *asset && u.vote == vote)
                    .map(|u| Candidate {
                        id: u.id,
                        amount: u.amount,
                        valid_height: u.valid_height,
                        reserved: inner.reserver.is_reserved(&u.id) || draft.reserved.contains(&u.id),
                    })
                    .collect();
                let sel = self.select_for_class(
                    inner,
                    draft,
                    ctx,
                    &candidates,
                    asset,
                    *n,
                    height,
                    !vote.is_empty(),
                )?;
                for id in &sel.ids {
                    let u = state.utxos.get(id).ok_or(WalletError::UtxoNotFound(*id))?;
                    let (input, si) = utxo_input(&account, u)?;
                    draft.inputs.push(input);
                    draft.instructions.push(si);
                    draft.reserved.push(*id);
                }
                if sel.change > 0 {
                    let program = self.change_program(inner, draft, &account)?;
                    let kind = if vote.is_empty() {
                        OutputKind::Control
                    } else {
                        OutputKind::Vote { vote: vote.to_vec() }
                    };
                    draft
                        .outputs
                        .push(TxOutput::new(kind, *asset, amount(sel.change)?, program));
                }
            }
            Action::SpendUtxo { output_id, arguments } => {
                if inner.reserver.is_reserved(output_id) || draft.reserved.contains(output_id) {
                    return Err(WalletError::OutputReserved(*output_id));
                }
                let u = state
                    .utxos
                    .get(output_id)
                    .ok_or(WalletError::UtxoNotFound(*output_id))?;
                if u.valid_height > height {
                    return Err(WalletError::ImmatureFunds {
                        asset: u.asset_id.to_hex(),
                        needed: u.amount,
                        mature: 0,
                    });
                }
                let account = state
                    .accounts
                    .get(&u.account_id)
                    .ok_or_else(|| WalletError::AccountNotFound(u.account_id.clone()))?;
                let (input, mut si) = utxo_input(account, u)?;
                if let Some(args) = arguments {
                    si.witness_components = args.clone();
                }
                draft.inputs.push(input);
                draft.instructions.push(si);
                draft.reserved.push(*output_id);
            }
            Action::Issue { asset, amount: n } => {
                let a = find_asset(state, asset).ok_or_else(|| WalletError::AssetNotFound(asset.clone()))?;
                let Some(xpubs) = &a.xpubs else {
                    return Err(WalletError::BadConstruction(format!(
                        "asset {} was defined with its own issuance program; this wallet holds no keys for it",
                        a.alias
                    )));
                };
                let class = a.class()?;
                if class == AssetClass::Atomic && draft.lots.contains_key(&a.id.0) {
                    return Err(class_rule(
                        &a.id,
                        class,
                        "an issuance starts a new lot, which cannot be spent together with an existing lot"
                            .into(),
                    ));
                }
                if matches!(class, AssetClass::Atomic | AssetClass::Quark) && draft.issued.contains(&a.id.0) {
                    return Err(class_rule(
                        &a.id,
                        class,
                        "two issuances of this asset in one transaction (two lots, or a second quark)".into(),
                    ));
                }
                let nonce = (ctx.nonce)();
                let input = TxInput::new(InputKind::Issuance(IssuanceInput {
                    nonce: nonce.to_vec(),
                    amount: amount(*n)?,
                    asset_definition: a.raw_definition_byte.clone(),
                    vm_version: a.vm_version,
                    issuance_program: a.issue_program.clone(),
                    arguments: Vec::new(),
                }));
                let path = a.path();
                let keys = xpubs
                    .iter()
                    .map(|x| KeyId {
                        xpub: *x,
                        derivation_path: path.clone(),
                    })
                    .collect();
                draft.inputs.push(input);
                draft.instructions.push(SigningInstruction {
                    position: 0,
                    witness_components: vec![WitnessComponent::RawTxSignature {
                        quorum: a.quorum,
                        keys,
                        signatures: Vec::new(),
                    }],
                });
                draft.issued.insert(a.id.0);
            }
            Action::ControlAddress {
                address,
                asset,
                amount: n,
            } => {
                draft.outputs.push(TxOutput::new(
                    OutputKind::Control,
                    *asset,
                    amount(*n)?,
                    program_of(address)?,
                ));
            }
            Action::ControlProgram {
                program,
                asset,
                amount: n,
            } => {
                draft.outputs.push(TxOutput::new(
                    OutputKind::Control,
                    *asset,
                    amount(*n)?,
                    program.clone(),
                ));
            }
            Action::Retire {
                arbitrary,
                asset,
                amount: n,
            } => {
                let program = standard::retire_program(arbitrary);
                draft
                    .outputs
                    .push(TxOutput::new(OutputKind::Control, *asset, amount(*n)?, program));
            }
            Action::CrossChainOut {
                address,
                program,
                asset,
                amount: n,
            } => {
                let program = if address.is_empty() {
                    program.clone()
                } else {
                    decode_address_with_hrp(address, sidechain_mainchain_hrp(self.network))
                        .map_err(|e| WalletError::InvalidAddress {
                            address: address.clone(),
                            reason: e.to_string(),
                        })?
                        .to_program()
                };
                draft.outputs.push(TxOutput::new(
                    OutputKind::CrossChain,
                    *asset,
                    amount(*n)?,
                    program,
                ));
            }
            Action::VoteOutput {
                address,
                vote,
                asset,
                amount: n,
            } => {
                let kind = OutputKind::Vote { vote: vote.clone() };
                draft
                    .outputs
                    .push(TxOutput::new(kind, *asset, amount(*n)?, program_of(address)?));
            }
        }
        Ok(())
    }

    /// Signs with every key of the keystore the instructions name (`sign-transaction`): for each
    /// signature component, keys held here sign the input's TXSIGHASH in key order until the quorum is
    /// reached; keys not held here are left for other signers. Then the witnesses are written into the
    /// raw transaction. Returns whether every component now has its quorum. Keys the password does not
    /// open are skipped (a wallet may hold several co-signers' keys under different passwords); if it
    /// opens none and signs nothing, the answer is `WrongPassword`. On any error the template is left
    /// as it was.
    pub fn sign(&self, template: &mut Template, password: &str) -> Result<bool, WalletError> {
        let tx = template.transaction(self.profile)?;
        let mut signed = template.signing_instructions.clone();
        let mut unlocked: BTreeMap<XPub, crate::keystore::Secret> = BTreeMap::new();
        let mut locked: std::collections::BTreeSet<XPub> = std::collections::BTreeSet::new();
        let mut wrong_password: Option<WalletError> = None;
        let mut added = 0usize;
        for si in &mut signed {
            let pos = usize::try_from(si.position).unwrap_or(usize::MAX);
            let hash = tx
                .sighash(pos)
                .ok_or_else(|| WalletError::BadTemplate(format!("no input {}", si.position)))?;
            for c in &mut si.witness_components {
                let WitnessComponent::RawTxSignature {
                    quorum,
                    keys,
                    signatures,
                } = c
                else {
                    continue;
                };
                signatures.resize(keys.len(), Vec::new());
                let q = usize::try_from(*quorum).unwrap_or(usize::MAX);
                let mut count = signatures.iter().filter(|s| !s.is_empty()).count();
                for (key, slot) in keys.iter().zip(signatures.iter_mut()) {
                    // Stop at the quorum: more signatures would not be used.
                    if count >= q {
                        break;
                    }
                    if !slot.is_empty() || !self.keystore.has(&key.xpub) {
                        continue;
                    }
                    if locked.contains(&key.xpub) {
                        continue;
                    }
                    let secret = match unlocked.entry(key.xpub) {
                        std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::btree_map::Entry::Vacant(v) => {
                            match self.keystore.unlock(&key.xpub, password) {
                                Ok(secret) => v.insert(secret),
                                // As the reference does, a key this password does not open is left
                                // for a later call with its own password (one wallet may hold several
                                // co-signers' keys).
                                Err(e @ WalletError::WrongPassword { .. }) => {
                                    locked.insert(key.xpub);
                                    wrong_password.get_or_insert(e);
                                    continue;
                                }
                                Err(e) => return Err(e),
                            }
                        }
                    };
                    let child = secret
                        .xprv
                        .derive(&key.derivation_path)
                        .map_err(|e| WalletError::BadTemplate(format!("derivation path: {e}")))?;
                    *slot = child.sign(hash.as_bytes()).to_vec();
                    count += 1;
                    added += 1;
                }
                if signatures.iter().all(Vec::is_empty) {
                    signatures.clear();
                }
            }
        }
        // A password that opened none of the keys it was asked to use is a mistake worth reporting
        // (the reference would silently sign nothing); one that opened some keys is not.
        if added == 0
            && let Some(e) = wrong_password
        {
            return Err(e);
        }
        let finalized = materialize(tx, &signed)?;
        template.signing_instructions = signed;
        template.raw_transaction = finalized.encode();
        Ok(template.is_complete())
    }

    /// Estimates the fee a template needs (`estimate-transaction-gas`), with this chain's gas rules.
    ///
    /// The witness of every input is filled with placeholders of the final sizes (64-byte signatures up
    /// to the quorum, the public key or script), so storage gas is the size of the signed transaction.
    /// VM gas per input is the constant of a P2WPKH spend ([`ledger::P2WPKH_GAS`]) or the reference's
    /// formula for an M-of-N script; `flexible_neu` allows for one more input, as the reference does.
    pub fn estimate_gas(&self, template: &Template) -> Result<GasEstimate, WalletError> {
        let tx = template.transaction(self.profile)?;
        let mut placeholder = template.signing_instructions.clone();
        let mut vm_gas: i64 = 0;
        let mut p2wpkh = false;
        let mut p2wsh_first: Option<(i64, i64)> = None;
        for si in &mut placeholder {
            let pos = usize::try_from(si.position).unwrap_or(usize::MAX);
            let program = tx
                .inputs()
                .get(pos)
                .and_then(|i| i.control_program())
                .unwrap_or_default()
                .to_vec();
            let is_spend = matches!(
                tx.inputs().get(pos).map(|i| &i.kind),
                Some(InputKind::Spend(_) | InputKind::Veto(_))
            );
            for c in &mut si.witness_components {
                if let WitnessComponent::RawTxSignature {
                    quorum,
                    keys,
                    signatures,
                } = c
                {
                    let q = usize::try_from(*quorum).unwrap_or(usize::MAX).min(keys.len());
                    *signatures = vec![vec![0u8; 64]; q];
                    signatures.resize(keys.len(), Vec::new());
                }
            }
            if !is_spend {
                continue;
            }
            if standard::is_p2wpkh(&program) {
                vm_gas = vm_gas.saturating_add(ledger::P2WPKH_GAS);
                p2wpkh = true;
            } else if standard::is_p2wsh(&program) {
                let g = multisig_gas(si);
                vm_gas = vm_gas.saturating_add(g);
                if p2wsh_first.is_none() {
                    let size: i64 = crate::template::witness_of(si)
                        .iter()
                        .map(|a| i64::try_from(a.len()).unwrap_or(i64::MAX))
                        .fold(0i64, i64::saturating_add);
                    p2wsh_first = Some((g, size));
                }
            }
        }
        let filled = materialize(tx, &placeholder)?;
        let p = &self.params;
        let size = i64::try_from(filled.serialized_size()).unwrap_or(i64::MAX);
        let storage = size.saturating_mul(p.storage_gas_rate);
        // One more input: its VM gas plus its bytes (a bare input of 176 bytes plus its witness).
        const BASE_INPUT_BYTES: i64 = 176;
        const P2WPKH_WITNESS_BYTES: i64 = 98;
        let flexible = if p2wpkh {
            ledger::P2WPKH_GAS
                .saturating_add((BASE_INPUT_BYTES + P2WPKH_WITNESS_BYTES).saturating_mul(p.storage_gas_rate))
        } else if let Some((g, witness)) = p2wsh_first {
            g.saturating_add(
                BASE_INPUT_BYTES
                    .saturating_add(witness)
                    .saturating_mul(p.storage_gas_rate),
            )
        } else {
            0
        };
        let total = storage.saturating_add(vm_gas).saturating_add(flexible);
        let total = if total > p.default_gas_credit {
            total - p.default_gas_credit
        } else {
            0
        };
        Ok(GasEstimate {
            total_neu: total.saturating_mul(p.vm_gas_rate),
            flexible_neu: flexible.saturating_mul(p.vm_gas_rate),
            storage_neu: storage.saturating_mul(p.vm_gas_rate),
            vm_neu: vm_gas.saturating_mul(p.vm_gas_rate),
        })
    }
}

/// VM gas of an M-of-N script input (the reference's `estimateP2WSHGas`).
fn multisig_gas(si: &SigningInstruction) -> i64 {
    let mut gas: i64 = 0;
    for c in &si.witness_components {
        if let WitnessComponent::RawTxSignature { quorum, keys, .. } = c {
            let n = i64::try_from(keys.len()).unwrap_or(i64::MAX);
            let m = i64::try_from(*quorum).unwrap_or(i64::MAX);
            gas = gas
                .saturating_add(n.saturating_mul(1131))
                .saturating_add(m.saturating_mul(72))
                .saturating_add(659);
            if n == 1 && m == 1 {
                gas = gas.saturating_add(27);
            }
        }
    }
    gas
}

/// BTM in minus BTM out (reference `CalculateTxFee`); negative is an error.
fn btm_fee(tx: &Transaction) -> Result<u64, WalletError> {
    let mut fee: u64 = 0;
    for i in tx.inputs() {
        if matches!(i.kind, InputKind::Coinbase(_)) {
            return Ok(0);
        }
        if let Some((a, n)) = i.asset_amount()
            && a == AssetId::BTM
        {
            fee = fee.checked_add(n.get()).ok_or(WalletError::AmountRange("fee"))?;
        }
    }
    for o in tx.outputs() {
        if o.asset_id() == AssetId::BTM {
            fee = fee.checked_sub(o.amount().get()).ok_or_else(|| {
                WalletError::BadConstruction("BTM outputs exceed BTM inputs (no room for the fee)".into())
            })?;
        }
    }
    Ok(fee)
}

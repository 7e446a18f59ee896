//! The wallet index: the wallet's unspent outputs and annotated history, following the chain block by
//! block. `block_changes` and `unwind_changes` are pure: they read the state and return the changes
//! (with an undo record per block, so unwinding restores the exact previous state).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use types::graph::ResultKind;
use types::{AssetId, Block, Hash, InputKind, Network, OutputKind, Profile, Transaction};

use crate::error::WalletError;
use crate::serde_util::{asset_id, hash, hex_bytes, hex_list, opt_hash};
use crate::store::{Change, State, TxKey};

/// Maturity rules the index needs (from the chain's parameters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Maturity {
    /// Blocks before a coinbase output may be spent.
    pub coinbase: u64,
    /// Blocks before a vote output may be vetoed.
    pub vote: u64,
}

/// An unspent output of the wallet: the reference's `AnnotatedUTXO` JSON, plus the vote key of a
/// vote output (what a veto needs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletUtxo {
    /// The account's alias.
    pub account_alias: String,
    /// The output ID.
    #[serde(with = "hash")]
    pub id: Hash,
    /// The asset.
    #[serde(with = "asset_id")]
    pub asset_id: AssetId,
    /// The asset's alias ("BTM" for BTM, empty otherwise: no asset registry here).
    pub asset_alias: String,
    /// Amount.
    pub amount: u64,
    /// The account's ID.
    pub account_id: String,
    /// The program's address.
    pub address: String,
    /// The program's address index.
    pub control_program_index: u64,
    /// The control program (hex).
    #[serde(with = "hex_bytes")]
    pub program: Vec<u8>,
    /// The entry the output came from (the creating transaction's mux).
    #[serde(with = "hash")]
    pub source_id: Hash,
    /// Its position in that source.
    pub source_pos: u64,
    /// First height at which it may be spent (coinbase and vote maturity; 0 for ordinary outputs).
    pub valid_height: u64,
    /// Whether the program is a change address.
    pub change: bool,
    /// The account's derive rule.
    pub derive_rule: u8,
    /// For a vote output, the voted node key (hex); empty otherwise.
    #[serde(default, with = "hex_bytes", skip_serializing_if = "Vec::is_empty")]
    pub vote: Vec<u8>,
}

/// An annotated input (the reference's `AnnotatedInput`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnotatedInput {
    /// "spend", "coinbase", "cross_chain_in", "veto", "issue".
    #[serde(rename = "type")]
    pub input_type: String,
    /// The asset.
    #[serde(with = "asset_id")]
    pub asset_id: AssetId,
    /// The asset's alias.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub asset_alias: String,
    /// The asset's definition (`null` when the asset is unknown).
    #[serde(default)]
    pub asset_definition: serde_json::Value,
    /// Amount.
    pub amount: u64,
    /// The spent program (hex).
    #[serde(default, with = "hex_bytes", skip_serializing_if = "Vec::is_empty")]
    pub control_program: Vec<u8>,
    /// Its address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// The spent output.
    #[serde(default, with = "opt_hash", skip_serializing_if = "Option::is_none")]
    pub spent_output_id: Option<Hash>,
    /// Our account, when the spent program is ours.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub account_id: String,
    /// Its alias.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub account_alias: String,
    /// An issuance's program (hex; main profile).
    #[serde(default, with = "hex_bytes", skip_serializing_if = "Vec::is_empty")]
    pub issuance_program: Vec<u8>,
    /// A coinbase's arbitrary data (hex).
    #[serde(default, with = "hex_bytes", skip_serializing_if = "Vec::is_empty")]
    pub arbitrary: Vec<u8>,
    /// The input's entry ID.
    #[serde(with = "hash")]
    pub input_id: Hash,
    /// The witness (hex strings).
    #[serde(with = "hex_list")]
    pub witness_arguments: Vec<Vec<u8>>,
    /// Main profile only (Bytom prints it, Vapor does not): the input's signature hash; zero for a
    /// coinbase.
    #[serde(default, with = "opt_hash", skip_serializing_if = "Option::is_none")]
    pub sign_data: Option<Hash>,
}

/// An annotated output (the reference's `AnnotatedOutput`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnotatedOutput {
    /// "control", "cross_chain_out", "vote", or the retirement name of the profile.
    #[serde(rename = "type")]
    pub output_type: String,
    /// The output ID.
    #[serde(with = "hash")]
    pub id: Hash,
    /// Position in the transaction.
    pub position: usize,
    /// The asset.
    #[serde(with = "asset_id")]
    pub asset_id: AssetId,
    /// The asset's alias.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub asset_alias: String,
    /// The asset's definition (`null` when the asset is unknown).
    #[serde(default)]
    pub asset_definition: serde_json::Value,
    /// Amount.
    pub amount: u64,
    /// Our account, when the program is ours.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub account_id: String,
    /// Its alias.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub account_alias: String,
    /// The program (hex).
    #[serde(with = "hex_bytes")]
    pub control_program: Vec<u8>,
    /// Its address when it has one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// A vote output's node key (hex).
    #[serde(default, with = "hex_bytes", skip_serializing_if = "Vec::is_empty")]
    pub vote: Vec<u8>,
}

/// A transaction of the wallet's history (the reference's `AnnotatedTx`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnotatedTx {
    /// Transaction ID.
    #[serde(with = "hash")]
    pub tx_id: Hash,
    /// The block's timestamp (milliseconds on the side chain, seconds on the main chain).
    pub block_time: u64,
    /// The block's hash.
    #[serde(with = "hash")]
    pub block_hash: Hash,
    /// The block's height.
    pub block_height: u64,
    /// Position in the block.
    pub block_index: u32,
    /// Transactions in the block.
    pub block_transactions_count: u32,
    /// Inputs.
    pub inputs: Vec<AnnotatedInput>,
    /// Outputs.
    pub outputs: Vec<AnnotatedOutput>,
    /// Always false: we only index valid transactions.
    pub status_fail: bool,
    /// Serialized size in bytes.
    pub size: u64,
}

/// What undoing one block needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockUndo {
    /// The block's hash.
    #[serde(with = "hash")]
    pub block_hash: Hash,
    /// The tip before the block (height, hash hex).
    pub previous_tip: Option<(u64, String)>,
    /// Wallet outputs the block spent, as they were.
    pub spent: Vec<WalletUtxo>,
    /// Wallet outputs the block created.
    pub created: Vec<String>,
    /// History entries the block added.
    pub txs: Vec<TxKey>,
    /// Registry entries the block added or promoted, as they were before (hex asset ID, record).
    #[serde(default)]
    pub assets: Vec<(String, Option<AssetRecord>)>,
}

/// A balance: the reference's `AccountBalance` JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// The account's ID.
    pub account_id: String,
    /// Its alias.
    pub account_alias: String,
    /// The asset's alias.
    pub asset_alias: String,
    /// The asset (hex).
    pub asset_id: String,
    /// Sum of the account's unspent outputs of the asset.
    pub amount: u64,
    /// The asset's definition (empty object when unknown).
    pub asset_definition: serde_json::Value,
}

/// A history query (the reference's `list-transactions` / `get-transaction` filters).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TxQuery {
    /// Only this transaction.
    #[serde(rename = "id", with = "opt_hash", skip_serializing_if = "Option::is_none")]
    pub tx_id: Option<Hash>,
    /// Only transactions touching this account (ID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Only transactions touching this account (alias).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_alias: Option<String>,
    /// Skip this many (newest first).
    pub from: usize,
    /// At most this many (at most [`MAX_PAGE`]); `from` 0 and `count` 0 mean the first [`MAX_PAGE`].
    pub count: usize,
}

/// How many of the latest blocks can be unwound (and re-applied as a no-op). Deeper reorgs than this
/// are beyond both references' finality in practice (BBFT finalizes at once; 10 000 PoW blocks is
/// about 17 days of Bytom blocks); a wallet that must follow one is rebuilt by re-indexing.
pub const UNDO_DEPTH: u64 = 10_000;

/// The smallest page served when a query gives neither `from` nor `count`.
pub const DEFAULT_PAGE: usize = 100;
/// Largest page a query may ask for.
pub const MAX_PAGE: usize = 10_000;

/// The reference's built-in definition of BTM.
pub fn btm_definition() -> serde_json::Value {
    serde_json::json!({
        "decimals": 8,
        "description": "Bytom Official Issue",
        "name": "BTM",
        "symbol": "BTM"
    })
}

/// An asset the wallet learned from a cross-chain input's definition (the reference's external
/// assets, `saveExternalAssetDefinition`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetRecord {
    /// The raw definition bytes (JSON text).
    #[serde(with = "hex_bytes")]
    pub definition: Vec<u8>,
    /// Whether an annotation has looked it up already. The reference answers the first lookup of an
    /// external asset with its ID in lower-case hex as the alias and, in the same step, registers it
    /// locally under the upper-case ID, which every later lookup answers.
    pub promoted: bool,
}

impl AssetRecord {
    fn definition_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.definition).unwrap_or(serde_json::Value::Null)
    }
}

/// Alias and definition of an asset as the reference's `getAliasDefinition` answers them, without
/// registering anything (for reads).
pub(crate) fn asset_annotation(state: &State, a: &AssetId) -> (String, serde_json::Value) {
    if *a == AssetId::BTM {
        return ("BTM".to_string(), btm_definition());
    }
    if let Some(d) = state.defined.get(&a.0) {
        return (
            d.alias.clone(),
            crate::asset::definition_of(&d.raw_definition_byte),
        );
    }
    match state.assets.get(&a.0) {
        Some(r) if r.promoted => (a.to_hex().to_uppercase(), r.definition_json()),
        Some(r) => (a.to_hex(), r.definition_json()),
        // Unknown: no alias, a `null` definition.
        None => (String::new(), serde_json::Value::Null),
    }
}

/// The asset registry while a block is walked: lookups promote, as the reference's do.
struct AssetView<'a> {
    state: &'a State,
    overlay: BTreeMap<[u8; 32], AssetRecord>,
}

impl AssetView<'_> {
    fn get(&self, id: &[u8; 32]) -> Option<&AssetRecord> {
        self.overlay.get(id).or_else(|| self.state.assets.get(id))
    }

    fn register(&mut self, a: &AssetId, definition: &[u8]) {
        if *a != AssetId::BTM && self.get(&a.0).is_none() {
            self.overlay.insert(
                a.0,
                AssetRecord {
                    definition: definition.to_vec(),
                    promoted: false,
                },
            );
        }
    }

    fn annotate(&mut self, a: &AssetId) -> (String, serde_json::Value) {
        if *a == AssetId::BTM {
            return ("BTM".to_string(), btm_definition());
        }
        if let Some(d) = self.state.defined.get(&a.0) {
            return (
                d.alias.clone(),
                crate::asset::definition_of(&d.raw_definition_byte),
            );
        }
        match self.get(&a.0).cloned() {
            Some(r) if r.promoted => (a.to_hex().to_uppercase(), r.definition_json()),
            Some(mut r) => {
                let def = r.definition_json();
                r.promoted = true;
                self.overlay.insert(a.0, r);
                (a.to_hex(), def)
            }
            None => (String::new(), serde_json::Value::Null),
        }
    }
}

fn input_type(kind: &InputKind) -> &'static str {
    match kind {
        InputKind::Issuance(_) => "issue",
        InputKind::Spend(_) => "spend",
        InputKind::Coinbase(_) => "coinbase",
        InputKind::CrossChain(_) => "cross_chain_in",
        InputKind::Veto(_) => "veto",
        InputKind::Opaque => "",
    }
}

/// The changes that index `block` on top of `state`. The caller has checked that the block extends
/// the tip.
pub(crate) fn block_changes(
    state: &State,
    block: &Block,
    profile: Profile,
    network: Network,
    maturity: Maturity,
    undo_depth: u64,
) -> Result<Vec<Change>, WalletError> {
    let height = block.header().height;
    let block_hash = block.hash();
    let tx_count =
        u32::try_from(block.transactions().len()).map_err(|_| WalletError::AmountRange("tx count"))?;
    // Outputs as they stand while walking the block: later transactions may spend earlier ones.
    let mut live: BTreeMap<Hash, Option<WalletUtxo>> = BTreeMap::new();
    let mut spent = Vec::new();
    let mut created = Vec::new();
    let mut tx_keys = Vec::new();
    let mut changes = Vec::new();
    // Assets first, as the reference saves external definitions before it annotates the block.
    let mut assets = AssetView {
        state,
        overlay: BTreeMap::new(),
    };
    for tx in block.transactions() {
        for input in tx.inputs() {
            if let InputKind::CrossChain(c) = &input.kind {
                assets.register(&c.commitment.asset_id, &c.asset_definition);
            }
        }
    }
    let account_of = |program: &[u8]| {
        state
            .programs
            .get(program)
            .and_then(|cp| state.accounts.get(&cp.account_id).map(|a| (cp, a)))
    };
    for (pos, tx) in block.transactions().iter().enumerate() {
        let pos = u32::try_from(pos).map_err(|_| WalletError::AmountRange("tx position"))?;
        let ids = tx.ids();
        let mut ours = false;
        let mut inputs = Vec::with_capacity(tx.inputs().len());
        for (i, input) in tx.inputs().iter().enumerate() {
            let input_ids = ids.inputs.get(i).copied();
            let spent_id = input_ids.and_then(|x| x.spent_output_id);
            let spends_ours = matches!(input.kind, InputKind::Spend(_) | InputKind::Veto(_));
            if let (true, Some(id)) = (spends_ours, spent_id) {
                let current = match live.get(&id) {
                    Some(v) => v.clone(),
                    None => state.utxos.get(&id).cloned(),
                };
                if let Some(u) = current {
                    if state.utxos.contains_key(&id) {
                        spent.push(u.clone());
                    }
                    live.insert(id, None);
                    ours = true;
                }
            }
            let (asset, amount) = input
                .asset_amount()
                .map(|(a, n)| (a, n.get()))
                .unwrap_or((AssetId([0u8; 32]), 0));
            let program = input.control_program().map(<[u8]>::to_vec).unwrap_or_default();
            let owner = account_of(&program);
            let (asset_alias, asset_definition) = assets.annotate(&asset);
            ours |= owner.is_some();
            inputs.push(AnnotatedInput {
                input_type: input_type(&input.kind).to_string(),
                asset_id: asset,
                asset_alias,
                asset_definition,
                amount,
                address: types::address::program_to_address(&program, profile, network).unwrap_or_default(),
                control_program: program,
                // Spends and vetoes name the output they spend; a cross-chain input the main-chain output it
                // claims, as the reference prints them.
                spent_output_id: spent_id,
                account_id: owner.map(|(_, a)| a.id.clone()).unwrap_or_default(),
                account_alias: owner.map(|(_, a)| a.alias.clone()).unwrap_or_default(),
                issuance_program: match &input.kind {
                    InputKind::Issuance(i) => i.issuance_program.clone(),
                    _ => Vec::new(),
                },
                arbitrary: input.arbitrary().map(<[u8]>::to_vec).unwrap_or_default(),
                input_id: input_ids.map(|x| x.input_id).unwrap_or_default(),
                witness_arguments: input.arguments().to_vec(),
                sign_data: match (profile, &input.kind) {
                    (Profile::Side, _) => None,
                    (Profile::Main, InputKind::Coinbase(_)) => Some(Hash::ZERO),
                    (Profile::Main, _) => Some(ids.sighash(i).unwrap_or_default()),
                },
            });
        }
        let mut outputs = Vec::with_capacity(tx.outputs().len());
        for (j, out) in tx.outputs().iter().enumerate() {
            let Some(oid) = ids.outputs.get(j).copied() else {
                return Err(WalletError::Internal(format!(
                    "tx {} output {j} has no ID",
                    tx.id()
                )));
            };
            let program = out.control_program();
            let owner = account_of(program);
            let (out_alias, out_definition) = assets.annotate(&out.asset_id());
            let spendable = matches!(oid.kind, ResultKind::Output | ResultKind::VoteOutput);
            if let (Some((cp, account)), true) = (owner, spendable) {
                ours = true;
                if out.amount().get() > 0 {
                    let mut valid_height = 0;
                    // The genesis block's outputs are ordinary outputs to the ledger
                    // (`ledger::genesis_change_set`): only later coinbases mature.
                    if tx.is_coinbase() && height > 0 {
                        valid_height = height.saturating_add(maturity.coinbase);
                    }
                    let vote = out.vote().map(<[u8]>::to_vec).unwrap_or_default();
                    if oid.kind == ResultKind::VoteOutput {
                        valid_height = valid_height.max(height.saturating_add(maturity.vote));
                    }
                    let u = WalletUtxo {
                        account_alias: account.alias.clone(),
                        id: oid.id,
                        asset_id: out.asset_id(),
                        asset_alias: String::new(),
                        amount: out.amount().get(),
                        account_id: account.id.clone(),
                        address: cp.address.clone(),
                        control_program_index: cp.key_index,
                        program: program.to_vec(),
                        source_id: ids.mux_id,
                        source_pos: u64::try_from(j)
                            .map_err(|_| WalletError::AmountRange("output position"))?,
                        valid_height,
                        change: cp.change,
                        derive_rule: account.derive_rule,
                        vote,
                    };
                    live.insert(oid.id, Some(u));
                    created.push(oid.id);
                }
            }
            outputs.push(AnnotatedOutput {
                output_type: oid.kind.api_type_name(profile).to_string(),
                id: oid.id,
                position: j,
                asset_id: out.asset_id(),
                asset_alias: out_alias,
                asset_definition: out_definition,
                amount: out.amount().get(),
                account_id: owner.map(|(_, a)| a.id.clone()).unwrap_or_default(),
                account_alias: owner.map(|(_, a)| a.alias.clone()).unwrap_or_default(),
                control_program: program.to_vec(),
                address: if matches!(out.kind, OutputKind::CrossChain) {
                    types::address::program_to_address_with_hrp(
                        program,
                        types::address::sidechain_mainchain_hrp(network),
                    )
                    .unwrap_or_default()
                } else {
                    types::address::program_to_address(program, profile, network).unwrap_or_default()
                },
                vote: out.vote().map(<[u8]>::to_vec).unwrap_or_default(),
            });
        }
        if ours {
            let key = (height, pos);
            tx_keys.push(key);
            changes.push(Change::Tx(
                key,
                Some(AnnotatedTx {
                    tx_id: tx.id(),
                    block_time: block.header().timestamp,
                    block_hash,
                    block_height: height,
                    block_index: pos,
                    block_transactions_count: tx_count,
                    inputs,
                    outputs,
                    status_fail: false,
                    size: tx.serialized_size(),
                }),
            ));
        }
    }
    // Outputs created and spent inside the block never reach the store.
    created.retain(|id| matches!(live.get(id), Some(Some(_))));
    for (id, u) in live {
        if u.is_some() || state.utxos.contains_key(&id) {
            changes.push(Change::Utxo(id, u));
        }
    }
    let mut asset_undo = Vec::with_capacity(assets.overlay.len());
    for (id, record) in assets.overlay {
        asset_undo.push((hex::encode(id), state.assets.get(&id).cloned()));
        changes.push(Change::Asset(id, Some(record)));
    }
    changes.push(Change::Undo(
        height,
        Some(BlockUndo {
            assets: asset_undo,
            block_hash,
            previous_tip: state.tip.map(|(h, hash)| (h, hash.to_hex())),
            spent,
            created: created.iter().map(Hash::to_hex).collect(),
            txs: tx_keys,
        }),
    ));
    // Keep undo records for the last UNDO_DEPTH blocks only: the wallet state must not grow with
    // the chain (a sidechain makes two blocks a second).
    if let Some(old) = height.checked_sub(undo_depth)
        && state.undo.contains_key(&old)
    {
        changes.push(Change::Undo(old, None));
    }
    changes.push(Change::Tip(Some((height, block_hash))));
    Ok(changes)
}

/// The changes that take `block` (the indexed tip) back out.
pub(crate) fn unwind_changes(state: &State, block: &Block) -> Result<Vec<Change>, WalletError> {
    unwind_tip_changes(state, block.header().height, block.hash())
}

/// The changes that take the indexed tip, block `hash` at `height`, back out: read from its undo
/// record alone (the block's body is not needed).
pub(crate) fn unwind_tip_changes(state: &State, height: u64, hash: Hash) -> Result<Vec<Change>, WalletError> {
    let not_tip = || WalletError::NotTip {
        height,
        hash,
        tip: state.tip,
    };
    if state.tip != Some((height, hash)) {
        return Err(not_tip());
    }
    let undo = state.undo.get(&height).ok_or(WalletError::UnwindTooDeep {
        height,
        depth: UNDO_DEPTH,
    })?;
    if undo.block_hash != hash {
        return Err(not_tip());
    }
    let mut changes = Vec::new();
    for id in &undo.created {
        let id = Hash::from_hex(id).map_err(|e| WalletError::Db(format!("undo record: {e}")))?;
        changes.push(Change::Utxo(id, None));
    }
    for u in &undo.spent {
        changes.push(Change::Utxo(u.id, Some(u.clone())));
    }
    for k in &undo.txs {
        changes.push(Change::Tx(*k, None));
    }
    for (id, before) in &undo.assets {
        let mut key = [0u8; 32];
        hex::decode_to_slice(id, &mut key).map_err(|e| WalletError::Db(format!("undo record: {e}")))?;
        changes.push(Change::Asset(key, before.clone()));
    }
    changes.push(Change::Undo(height, None));
    let previous = match &undo.previous_tip {
        Some((h, hash)) => Some((
            *h,
            Hash::from_hex(hash).map_err(|e| WalletError::Db(format!("undo record: {e}")))?,
        )),
        None => None,
    };
    changes.push(Change::Tip(previous));
    Ok(changes)
}

/// Whether `tx` spends any of `ids` (used to release reservations once a spend is in a block).
pub(crate) fn spent_ids(tx: &Transaction) -> impl Iterator<Item = Hash> + '_ {
    tx.ids().inputs.iter().filter_map(|i| i.spent_output_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use types::BlockHeader;

    fn chain(n: u64) -> Vec<Block> {
        let mut out: Vec<Block> = Vec::new();
        for h in 0..n {
            let mut header = BlockHeader::empty(Profile::Side);
            header.height = h;
            header.timestamp = h * 500;
            header.previous_block_hash = out.last().map(Block::hash).unwrap_or_default();
            out.push(Block::new(header, Vec::new()).unwrap());
        }
        out
    }

    #[test]
    fn undo_history_is_pruned_to_its_depth() {
        let maturity = Maturity { coinbase: 0, vote: 0 };
        let mut state = State::default();
        let blocks = chain(6);
        for b in &blocks {
            let changes = block_changes(&state, b, Profile::Side, Network::Devnet, maturity, 2).unwrap();
            state.apply(changes);
            assert!(state.undo.len() <= 3);
        }
        assert_eq!(state.undo.keys().copied().collect::<Vec<_>>(), vec![4, 5]);
        // The last blocks unwind; one older than the history cannot.
        for b in blocks[4..].iter().rev() {
            state.apply(unwind_changes(&state, b).unwrap());
        }
        assert_eq!(state.tip, Some((3, blocks[3].hash())));
        assert!(matches!(
            unwind_changes(&state, &blocks[3]),
            Err(WalletError::UnwindTooDeep { height: 3, .. })
        ));
    }
}

//! The reference node's JSON views of transactions and blocks (`decode-raw-transaction`, `get-block`,
//! `get-transaction`), field for field. Shared by the API and the CLI's decoders.
//!
//! The reference omits empty optional fields (`omitempty`) and prints an absent list of witness
//! arguments as `null`; the views below follow it so that outputs compare equal as JSON.

use serde::Serialize;
use serde_json::Value;
use types::Hash;
use types::address::{program_to_address, program_to_address_with_hrp, sidechain_mainchain_hrp};
use types::asset::AssetId;
use types::block::{Block, HeaderConsensus};
use types::graph::ResultKind;
use types::profile::{Network, Profile};
use types::tx::{InputKind, Transaction};

/// The reference's `asset_definition` default: an empty JSON object.
fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// The native asset's definition, as the reference node prints it for BTM.
fn native_asset_definition() -> Value {
    serde_json::json!({
        "decimals": 8,
        "description": "Bytom Official Issue",
        "name": "BTM",
        "symbol": "BTM",
    })
}

/// One input as `decode-raw-transaction` prints it.
#[derive(Debug, Serialize)]
pub struct InputView {
    #[serde(rename = "type")]
    kind: &'static str,
    asset_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    asset_definition: Option<Value>,
    amount: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuance_program: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    control_program: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spent_output_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arbitrary: Option<String>,
    input_id: String,
    witness_arguments: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sign_data: Option<String>,
}

/// One output as `decode-raw-transaction` prints it.
#[derive(Debug, Serialize)]
pub struct OutputView {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    position: usize,
    asset_id: String,
    asset_definition: Value,
    amount: u64,
    control_program: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vote: Option<String>,
}

/// A transaction as `decode-raw-transaction` prints it.
#[derive(Debug, Serialize)]
pub struct TxView {
    tx_id: String,
    version: u64,
    size: u64,
    time_range: u64,
    inputs: Vec<InputView>,
    outputs: Vec<OutputView>,
    fee: u64,
}

/// A transaction inside `get-block`.
#[derive(Debug, Serialize)]
pub struct BlockTxView {
    id: String,
    version: u64,
    size: u64,
    time_range: u64,
    inputs: Vec<InputView>,
    outputs: Vec<OutputView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status_fail: Option<bool>,
    mux_id: String,
}

/// A block as `get-block` prints it. Transaction statuses and, on a sidechain, the block's signer are
/// what only a node's database knows: a decoder leaves them out.
#[derive(Debug, Serialize)]
pub struct BlockView {
    hash: String,
    size: u64,
    version: u64,
    height: u64,
    previous_block_hash: String,
    timestamp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bits: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    difficulty: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    witness: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blocker: Option<String>,
    /// Whether the block can no longer be reverted (a node's answer; a decoder leaves it out).
    #[serde(rename = "final", skip_serializing_if = "Option::is_none")]
    is_final: Option<bool>,
    transaction_merkle_root: String,
    transaction_status_hash: String,
    transactions: Vec<BlockTxView>,
}

/// An address for a standard program, or `None` (the reference prints nothing) for any other program.
fn address_of(program: &[u8], profile: Profile, network: Network, mainchain: bool) -> Option<String> {
    if mainchain && profile == Profile::Side {
        // A sidechain names value on the main chain (cross-chain in/out) with main-chain prefixes.
        program_to_address_with_hrp(program, sidechain_mainchain_hrp(network))
    } else {
        program_to_address(program, profile, network)
    }
}

fn witness(args: &[Vec<u8>]) -> Option<Vec<String>> {
    // The reference appends to a nil slice, so no arguments print as `null`.
    if args.is_empty() {
        None
    } else {
        Some(args.iter().map(hex::encode).collect())
    }
}

/// Raw definition bytes as JSON, if they are JSON.
fn definition_json(raw: &[u8]) -> Option<Value> {
    serde_json::from_slice(raw).ok()
}

fn inputs_view(tx: &Transaction, network: Network, in_block: bool) -> Vec<InputView> {
    let profile = tx.profile();
    let ids = tx.ids();
    tx.inputs()
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let input_ids = ids.inputs.get(i);
            let (asset_id, amount) = match input.asset_amount() {
                Some((asset, amount)) => (asset, amount.get()),
                // A coinbase input carries no value; the sidechain names the native asset, the main chain
                // leaves the zero ID.
                None if profile == Profile::Side && matches!(input.kind, InputKind::Coinbase(_)) => {
                    (AssetId::BTM, 0)
                }
                None => (AssetId::default(), 0),
            };
            let is_coinbase = matches!(input.kind, InputKind::Coinbase(_));
            let control_program = match &input.kind {
                InputKind::Spend(_) | InputKind::CrossChain(_) | InputKind::Veto(_) => input
                    .control_program()
                    .filter(|p| !p.is_empty())
                    .map(<[u8]>::to_vec),
                _ => None,
            };
            let mainchain = matches!(input.kind, InputKind::CrossChain(_));
            let asset_definition = match &input.kind {
                // The main chain prints an issuance's own definition when it is JSON.
                InputKind::Issuance(_) => Some(
                    input
                        .asset_definition()
                        .and_then(definition_json)
                        .unwrap_or_else(empty_object),
                ),
                // A sidechain looks a claimed asset up in its node's registry, not in the input. BTM is
                // always known. Any other asset is registered, with the definition its cross-chain input
                // carries, once the node has processed the block: so a loose transaction prints `null`
                // and a transaction inside a block prints the input's definition.
                InputKind::CrossChain(_) if asset_id == AssetId::BTM => Some(native_asset_definition()),
                InputKind::CrossChain(_) if in_block => Some(
                    input
                        .asset_definition()
                        .and_then(definition_json)
                        .unwrap_or(Value::Null),
                ),
                InputKind::CrossChain(_) => Some(Value::Null),
                _ => Some(empty_object()),
            };
            InputView {
                kind: input.kind.api_type_name(),
                asset_id: asset_id.to_hex(),
                asset_definition,
                amount,
                issuance_program: match &input.kind {
                    InputKind::Issuance(_) => input.issuance_program().map(hex::encode),
                    _ => None,
                },
                address: control_program
                    .as_deref()
                    .and_then(|p| address_of(p, profile, network, mainchain)),
                control_program: control_program.map(hex::encode),
                spent_output_id: input_ids.and_then(|i| i.spent_output_id).map(|h| h.to_hex()),
                arbitrary: input.arbitrary().filter(|a| !a.is_empty()).map(hex::encode),
                input_id: input_ids.map(|i| i.input_id.to_hex()).unwrap_or_default(),
                witness_arguments: witness(input.arguments()),
                // The main-chain decoder also prints each input's signature hash; a coinbase has none and
                // prints the zero hash.
                sign_data: (profile == Profile::Main).then(|| {
                    if is_coinbase {
                        Hash::ZERO
                    } else {
                        tx.sighash(i).unwrap_or(Hash::ZERO)
                    }
                    .to_hex()
                }),
            }
        })
        .collect()
}

fn outputs_view(tx: &Transaction, network: Network) -> Vec<OutputView> {
    let profile = tx.profile();
    let ids = tx.ids();
    tx.outputs()
        .iter()
        .enumerate()
        .map(|(i, output)| {
            let out_ids = ids.outputs.get(i);
            let kind = out_ids.map(|o| o.kind).unwrap_or(ResultKind::Output);
            let mainchain = kind == ResultKind::CrossChainOutput;
            OutputView {
                kind: kind.api_type_name(profile),
                id: out_ids.map(|o| o.id.to_hex()).unwrap_or_default(),
                position: i,
                asset_id: output.asset_id().to_hex(),
                asset_definition: empty_object(),
                amount: output.amount().get(),
                control_program: hex::encode(output.control_program()),
                address: address_of(output.control_program(), profile, network, mainchain),
                vote: output.vote().filter(|v| !v.is_empty()).map(hex::encode),
            }
        })
        .collect()
}

/// The `decode-raw-transaction` view of a transaction.
pub fn tx_view(tx: &Transaction, network: Network) -> TxView {
    TxView {
        tx_id: tx.id().to_hex(),
        version: tx.version(),
        size: tx.serialized_size(),
        time_range: tx.time_range(),
        inputs: inputs_view(tx, network, false),
        outputs: outputs_view(tx, network),
        fee: tx.fee(),
    }
}

/// The `get-block` view of a block, as a decoder shows it (no statuses, no signer).
pub fn block_view(block: &Block, size: u64, network: Network) -> BlockView {
    block_view_with_status(block, size, network, None, None)
}

impl BlockView {
    /// The view with the node's finality answer (`"final": true/false`).
    pub fn with_final(mut self, is_final: bool) -> BlockView {
        self.is_final = Some(is_final);
        self
    }
}

/// The `get-block` view of a stored block: with each transaction's `status_fail` and the block's
/// signer (`blocker`).
pub fn block_view_with_status(
    block: &Block,
    size: u64,
    network: Network,
    statuses: Option<&[bool]>,
    blocker: Option<String>,
) -> BlockView {
    let header = block.header();
    let (nonce, bits, witness) = match &header.consensus {
        HeaderConsensus::Pow { nonce, bits } => (Some(*nonce), Some(*bits), None),
        HeaderConsensus::Witness { witness, .. } => {
            (None, None, Some(witness.iter().map(hex::encode).collect()))
        }
    };
    BlockView {
        hash: block.hash().to_hex(),
        size,
        version: header.version,
        height: header.height,
        previous_block_hash: header.previous_block_hash.to_hex(),
        timestamp: header.timestamp,
        nonce,
        bits,
        difficulty: bits.map(|b| types::difficulty::work_from_bits(b).to_string()),
        witness,
        blocker,
        is_final: None,
        transaction_merkle_root: header.transactions_merkle_root.to_hex(),
        transaction_status_hash: header.transaction_status_hash.to_hex(),
        transactions: block
            .transactions()
            .iter()
            .enumerate()
            .map(|(i, tx)| BlockTxView {
                id: tx.id().to_hex(),
                version: tx.version(),
                size: tx.serialized_size(),
                time_range: tx.time_range(),
                inputs: inputs_view(tx, network, true),
                outputs: outputs_view(tx, network),
                status_fail: statuses.map(|s| s.get(i).copied().unwrap_or(false)),
                mux_id: tx.ids().mux_id.to_hex(),
            })
            .collect(),
    }
}

/// A committed transaction as the reference's `get-transaction` prints it (`query.AnnotatedTx`).
#[derive(Debug, Serialize)]
pub struct AnnotatedTxView {
    tx_id: String,
    block_time: u64,
    block_hash: String,
    block_height: u64,
    block_index: u32,
    block_transactions_count: u32,
    inputs: Vec<InputView>,
    outputs: Vec<OutputView>,
    status_fail: bool,
    size: u64,
}

/// The `get-transaction` view of transaction `index` of `block`; `None` if there is no such position.
pub fn annotated_tx_view(block: &Block, index: u32, network: Network) -> Option<AnnotatedTxView> {
    let tx = block.transactions().get(usize::try_from(index).ok()?)?;
    Some(AnnotatedTxView {
        tx_id: tx.id().to_hex(),
        block_time: block.header().timestamp,
        block_hash: block.hash().to_hex(),
        block_height: block.header().height,
        block_index: index,
        block_transactions_count: u32::try_from(block.transactions().len()).unwrap_or(u32::MAX),
        inputs: inputs_view(tx, network, true),
        outputs: outputs_view(tx, network),
        status_fail: false,
        size: tx.serialized_size(),
    })
}

//! The mapping of a transaction to its entry graph (the reference's `map.go`), reduced to the IDs that
//! callers need: the transaction ID, the mux, each input's entry and spent output, each output's entry,
//! and the signature hash.
//!
//! Every input becomes an entry whose value flows into one mux (program `OP_TRUE`, VM version 1):
//! a spend rebuilds the output it spends and hashes that output's ID; an issuance hashes its nonce hash
//! and value; a coinbase its arbitrary bytes; a sidechain cross-chain input the main-chain output it
//! claims plus the asset definition; a veto input the vote output it spends. Output `i` draws
//! `(mux, i)`; a program starting with `OP_FAIL` makes it a retirement. The transaction ID is the
//! `txheader` entry over version, time range and the output IDs.

use sha3::{Digest, Sha3_256};

use crate::asset::{AssetId, definition_hash};
use crate::entry::{self, Program, ValueSource};
use crate::hash::Hash;
use crate::profile::Profile;
use crate::tx::{InputKind, OutputKind, SpendCommitment, TxData, TxError, is_unspendable};

/// The mux program: `OP_TRUE`.
const MUX_PROGRAM: [u8; 1] = [0x51];

/// IDs of one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputIds {
    /// The input's entry ID (spend, issuance, coinbase, cross-chain or veto entry). The all-zero hash
    /// for an input of an unknown asset version, which the reference maps to no entry.
    pub input_id: Hash,
    /// For a spend or veto input the ID of the output it spends; for a cross-chain input the ID of the
    /// main-chain output it claims (the reference's `MainchainOutputId`); otherwise `None`.
    pub spent_output_id: Option<Hash>,
}

/// What entry an output became.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultKind {
    /// A spendable output (`output1` on the main chain, `intrachainoutput1` on a sidechain).
    Output,
    /// A retirement (`retirement1`): the program starts with `OP_FAIL`.
    Retirement,
    /// A sidechain cross-chain output (`crosschainoutput1`).
    CrossChainOutput,
    /// A sidechain vote output (`voteoutput1`).
    VoteOutput,
}

impl ResultKind {
    /// The output type the reference's `decode-raw-transaction` prints. A retirement is `"retire"` on
    /// the main chain and `""` on a sidechain, whose decoder has no name for it.
    pub fn api_type_name(self, profile: Profile) -> &'static str {
        match (self, profile) {
            (ResultKind::Output, _) => "control",
            (ResultKind::Retirement, Profile::Main) => "retire",
            (ResultKind::Retirement, Profile::Side) => "",
            (ResultKind::CrossChainOutput, _) => "cross_chain_out",
            (ResultKind::VoteOutput, _) => "vote",
        }
    }
}

/// IDs of one output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputIds {
    /// The output's entry ID (the reference's output ID / result ID).
    pub id: Hash,
    /// Which entry it became.
    pub kind: ResultKind,
}

/// All IDs of a transaction, computed once when it is built or decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxIds {
    /// The transaction ID (the `txheader` entry ID).
    pub tx_id: Hash,
    /// The mux entry ID.
    pub mux_id: Hash,
    /// Per input, in order.
    pub inputs: Vec<InputIds>,
    /// Per output, in order.
    pub outputs: Vec<OutputIds>,
}

impl TxIds {
    /// `TXSIGHASH` for input `index`: SHA3-256(input entry ID || transaction ID).
    pub fn sighash(&self, index: usize) -> Option<Hash> {
        self.inputs.get(index).map(|i| sighash(&i.input_id, &self.tx_id))
    }

    /// The entry ID of input `index`.
    pub fn input_id(&self, index: usize) -> Option<Hash> {
        self.inputs.get(index).map(|i| i.input_id)
    }

    /// The ID of output `index`.
    pub fn output_id(&self, index: usize) -> Option<Hash> {
        self.outputs.get(index).map(|o| o.id)
    }

    /// The IDs of the outputs spent by spend and veto inputs, in input order (cross-chain inputs claim
    /// main-chain outputs and are not included; see [`TxIds::mainchain_output_ids`]).
    pub fn spent_output_ids(&self, data: &TxData) -> Vec<Hash> {
        self.inputs
            .iter()
            .zip(&data.inputs)
            .filter(|(_, i)| matches!(i.kind, InputKind::Spend(_) | InputKind::Veto(_)))
            .filter_map(|(ids, _)| ids.spent_output_id)
            .collect()
    }

    /// The main-chain output IDs claimed by cross-chain inputs, in input order.
    pub fn mainchain_output_ids(&self, data: &TxData) -> Vec<Hash> {
        self.inputs
            .iter()
            .zip(&data.inputs)
            .filter(|(_, i)| matches!(i.kind, InputKind::CrossChain(_)))
            .filter_map(|(ids, _)| ids.spent_output_id)
            .collect()
    }
}

/// `TXSIGHASH = SHA3-256(input_id || tx_id)`.
pub fn sighash(input_id: &Hash, tx_id: &Hash) -> Hash {
    let mut h = Sha3_256::new();
    h.update(input_id.0);
    h.update(tx_id.0);
    Hash(h.finalize().into())
}

/// Which kind of earlier output a spend commitment points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpentKind {
    /// An ordinary output (spend and cross-chain inputs).
    Output,
    /// A sidechain vote output (veto inputs), which also hashes the vote key.
    Vote,
}

/// The ID of the output a spend commitment refers to, rebuilt from the commitment's fields as the
/// reference's `ComputeOutputID` does. `vote` is used only for [`SpentKind::Vote`]. This is the UTXO key.
pub fn spent_output_id(profile: Profile, kind: SpentKind, c: &SpendCommitment, vote: &[u8]) -> Hash {
    let source = ValueSource {
        source_id: c.source_id,
        asset_id: c.asset_id,
        amount: c.amount.get(),
        position: c.source_position,
    };
    let program = Program {
        vm_version: c.vm_version,
        code: &c.control_program,
    };
    match kind {
        SpentKind::Output => entry::output_id(profile, &source, &program),
        SpentKind::Vote => entry::vote_output_id(&source, &program, vote),
    }
}

fn nonce_hash(nonce: &[u8]) -> Hash {
    Hash(Sha3_256::digest(nonce).into())
}

/// Maps transaction contents to their IDs, as the reference's `MapTx` does. [`crate::tx::Transaction`]
/// calls this after checking the contents; called directly it checks only what the mapping itself needs
/// (the two coinbase errors), so it can reproduce the reference's IDs for contents the wire format would
/// not carry (e.g. a VM version of 0 in a hand-built spend).
///
/// One deliberate difference: the reference files input IDs by walking a hash map of entries, so a
/// coinbase anywhere lands at position 0 and two identical inputs share one slot (the other stays zero),
/// in an order that varies between runs. Such transactions are invalid anyway; here every input simply
/// gets its own entry ID at its own position.
pub fn map_tx(profile: Profile, data: &TxData) -> Result<TxIds, TxError> {
    let mut sources: Vec<Option<ValueSource>> = Vec::with_capacity(data.inputs.len());
    let mut inputs = Vec::with_capacity(data.inputs.len());
    for input in &data.inputs {
        let (input_id, spent, value) = match &input.kind {
            InputKind::Issuance(i) => {
                let asset = i.asset_id();
                let amount = i.amount.get();
                let id = entry::issuance_id(&nonce_hash(&i.nonce), &asset, amount);
                (id, None, Some((asset, amount)))
            }
            InputKind::Spend(s) => {
                let c = &s.commitment;
                let prev = spent_output_id(profile, SpentKind::Output, c, &[]);
                (
                    entry::spend_id(&prev),
                    Some(prev),
                    Some((c.asset_id, c.amount.get())),
                )
            }
            InputKind::Veto(v) => {
                let c = &v.commitment;
                let prev = spent_output_id(profile, SpentKind::Vote, c, &v.vote);
                (
                    entry::veto_input_id(&prev),
                    Some(prev),
                    Some((c.asset_id, c.amount.get())),
                )
            }
            InputKind::CrossChain(x) => {
                let c = &x.commitment;
                let prev = spent_output_id(Profile::Side, SpentKind::Output, c, &[]);
                let program = Program {
                    vm_version: x.issuance_vm_version,
                    code: &x.issuance_program,
                };
                let id = entry::cross_chain_input_id(&prev, &program, &definition_hash(&x.asset_definition));
                (id, Some(prev), Some((c.asset_id, c.amount.get())))
            }
            InputKind::Coinbase(cb) => {
                let id = entry::coinbase_id(&cb.arbitrary);
                let value = match profile {
                    // The main chain's coinbase carries output 0's value.
                    Profile::Main => {
                        let out = data.outputs.first().ok_or(TxError::CoinbaseWithoutOutputs)?;
                        (out.commitment.asset_id, out.commitment.amount.get())
                    }
                    // The sidechain's carries BTM, the sum of all outputs; the reference adds without a
                    // check, so the sum wraps in 64 bits.
                    Profile::Side => {
                        let sum = data
                            .outputs
                            .iter()
                            .fold(0u64, |acc, o| acc.wrapping_add(o.commitment.amount.get()));
                        (AssetId::BTM, sum)
                    }
                };
                (id, None, Some(value))
            }
            InputKind::Opaque => (Hash::ZERO, None, None),
        };
        sources.push(value.map(|(asset_id, amount)| ValueSource {
            source_id: input_id,
            asset_id,
            amount,
            position: 0,
        }));
        inputs.push(InputIds {
            input_id,
            spent_output_id: spent,
        });
    }
    let has_coinbase = data
        .inputs
        .iter()
        .any(|i| matches!(i.kind, InputKind::Coinbase(_)));
    if has_coinbase && sources.first().is_none_or(Option::is_none) {
        return Err(TxError::CoinbaseMissingFirstSource);
    }
    let mux_id = entry::mux_id(
        &sources,
        &Program {
            vm_version: 1,
            code: &MUX_PROGRAM,
        },
    );

    let mut outputs = Vec::with_capacity(data.outputs.len());
    for (i, out) in data.outputs.iter().enumerate() {
        let c = &out.commitment;
        let source = ValueSource {
            source_id: mux_id,
            asset_id: c.asset_id,
            amount: c.amount.get(),
            position: i as u64,
        };
        let program = Program {
            vm_version: c.vm_version,
            code: &c.control_program,
        };
        let (id, kind) = if is_unspendable(&c.control_program) {
            (entry::retirement_id(&source), ResultKind::Retirement)
        } else {
            match (profile, &out.kind) {
                (Profile::Main, _) | (Profile::Side, OutputKind::Control) => {
                    (entry::output_id(profile, &source, &program), ResultKind::Output)
                }
                (Profile::Side, OutputKind::CrossChain) => (
                    entry::cross_chain_output_id(&source, &program),
                    ResultKind::CrossChainOutput,
                ),
                (Profile::Side, OutputKind::Vote { vote }) => (
                    entry::vote_output_id(&source, &program, vote),
                    ResultKind::VoteOutput,
                ),
            }
        };
        outputs.push(OutputIds { id, kind });
    }
    let result_ids: Vec<Hash> = outputs.iter().map(|o| o.id).collect();
    let tx_id = entry::tx_header_id(data.version, data.time_range, &result_ids);
    Ok(TxIds {
        tx_id,
        mux_id,
        inputs,
        outputs,
    })
}

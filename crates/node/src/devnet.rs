//! Building and signing standard transfers: what a devnet user, the tests and the load generator
//! need without a wallet. Spends pay-to-witness-pubkey-hash outputs of one chainkd key.

use crypto::chainkd::XPrv;
use types::Hash;
use types::Transaction;
use types::amount::Amount;
use types::asset::AssetId;
use types::graph::ResultKind;
use types::profile::Profile;
use types::tx::{InputKind, OutputKind, SpendCommitment, SpendInput, TxData, TxInput, TxOutput};

use crate::NodeError;

/// An unspent BTM output and what spending it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coin {
    /// The output ID.
    pub output_id: Hash,
    /// The entry it came from (the creating transaction's mux).
    pub source_id: Hash,
    /// Its position in that source.
    pub source_position: u64,
    /// Amount in neu.
    pub amount: u64,
    /// Its control program.
    pub control_program: Vec<u8>,
}

/// The spendable BTM outputs of `tx` locked by `program`.
pub fn coins_of(tx: &Transaction, program: &[u8]) -> Vec<Coin> {
    let ids = tx.ids();
    tx.outputs()
        .iter()
        .zip(ids.outputs.iter())
        .enumerate()
        .filter(|(_, (o, oid))| {
            oid.kind == ResultKind::Output
                && o.asset_id() == AssetId::BTM
                && o.control_program() == program
                && o.amount().get() > 0
        })
        .map(|(i, (o, oid))| Coin {
            output_id: oid.id,
            source_id: ids.mux_id,
            source_position: u64::try_from(i).unwrap_or(u64::MAX),
            amount: o.amount().get(),
            control_program: o.control_program().to_vec(),
        })
        .collect()
}

/// A sidechain transfer spending `inputs` (all locked by `xprv`'s P2WPKH program) to `outputs`
/// (program, amount), signed. Whatever BTM the outputs leave is the fee.
pub fn sign_transfer(
    xprv: &XPrv,
    inputs: &[Coin],
    outputs: &[(Vec<u8>, u64)],
) -> Result<Transaction, NodeError> {
    sign_transfer_until(xprv, inputs, outputs, 0)
}

/// As [`sign_transfer`], valid only in blocks up to height `time_range` (0: no limit).
pub fn sign_transfer_until(
    xprv: &XPrv,
    inputs: &[Coin],
    outputs: &[(Vec<u8>, u64)],
    time_range: u64,
) -> Result<Transaction, NodeError> {
    let amount = |n: u64| Amount::new(n).map_err(|e| NodeError::Config(format!("amount {n}: {e}")));
    let mut data = TxData {
        version: 1,
        time_range,
        inputs: Vec::with_capacity(inputs.len()),
        outputs: Vec::with_capacity(outputs.len()),
    };
    for c in inputs {
        data.inputs.push(spend_of(c)?);
    }
    for (program, n) in outputs {
        data.outputs.push(TxOutput::new(
            OutputKind::Control,
            AssetId::BTM,
            amount(*n)?,
            program.clone(),
        ));
    }
    sign_data(xprv, data)
}

/// A sidechain transaction spending `inputs` (all locked by `xprv`'s P2WPKH program) to any
/// `outputs` (e.g. DPoS votes, or a candidate registration in a retirement program), signed.
pub fn sign_outputs(xprv: &XPrv, inputs: &[Coin], outputs: Vec<TxOutput>) -> Result<Transaction, NodeError> {
    let mut data = TxData {
        version: 1,
        time_range: 0,
        inputs: Vec::with_capacity(inputs.len()),
        outputs,
    };
    for c in inputs {
        data.inputs.push(spend_of(c)?);
    }
    sign_data(xprv, data)
}

/// A candidate an election transaction registers and votes for.
#[derive(Debug, Clone, Copy)]
pub struct Ballot<'a> {
    /// Its DPoS identity (signs the registration).
    pub dpos: &'a XPrv,
    /// Its BLS consensus key.
    pub bls: &'a crypto::bls::SecretKey,
    /// The votes (neu of BTM) for it.
    pub votes: u64,
}

/// One transaction that registers every candidate of `ballots` on `chain` (its signed registration,
/// sequence 1, in a 1-neu retirement output) and votes for it from `xprv`'s program, spending
/// `coin` (locked by that program) and paying the change back, `fee` left.
pub fn sign_election(
    xprv: &XPrv,
    coin: &Coin,
    chain: &consensus::dpos::ChainId,
    ballots: &[Ballot<'_>],
    fee: u64,
) -> Result<Transaction, NodeError> {
    let amount = |n: u64| Amount::new(n).map_err(|e| NodeError::Config(format!("amount {n}: {e}")));
    let program = crate::genesis::p2wpkh_program_of(&xprv.xpub());
    let mut outputs = Vec::with_capacity(ballots.len() * 2 + 1);
    let mut spent: u64 = fee;
    for b in ballots {
        let registration = consensus::dpos::registration_program(chain, b.dpos, 1, b.bls);
        outputs.push(TxOutput::new(
            OutputKind::Control,
            AssetId::BTM,
            amount(1)?,
            registration,
        ));
        outputs.push(TxOutput::new(
            OutputKind::Vote {
                vote: b.dpos.xpub().as_bytes().to_vec(),
            },
            AssetId::BTM,
            amount(b.votes)?,
            program.clone(),
        ));
        spent = spent
            .checked_add(b.votes)
            .and_then(|n| n.checked_add(1))
            .ok_or_else(|| NodeError::Config("the votes overflow".into()))?;
    }
    let change = coin.amount.checked_sub(spent).ok_or_else(|| {
        NodeError::Config(format!("the coin of {} neu does not cover {spent}", coin.amount))
    })?;
    outputs.push(TxOutput::new(
        OutputKind::Control,
        AssetId::BTM,
        amount(change)?,
        program,
    ));
    sign_outputs(xprv, std::slice::from_ref(coin), outputs)
}

fn spend_of(c: &Coin) -> Result<TxInput, NodeError> {
    let amount = Amount::new(c.amount).map_err(|e| NodeError::Config(format!("amount {}: {e}", c.amount)))?;
    Ok(TxInput::new(InputKind::Spend(SpendInput {
        commitment: SpendCommitment {
            source_id: c.source_id,
            asset_id: AssetId::BTM,
            amount,
            source_position: c.source_position,
            vm_version: 1,
            control_program: c.control_program.clone(),
            suffix: Vec::new(),
        },
        arguments: Vec::new(),
    })))
}

/// Signs every input of `data` (each a P2WPKH spend of `xprv`'s key).
fn sign_data(xprv: &XPrv, data: TxData) -> Result<Transaction, NodeError> {
    let inputs = data.inputs.len();
    let unsigned =
        Transaction::new(Profile::Side, data).map_err(|e| NodeError::Config(format!("transfer: {e}")))?;
    let public = xprv.xpub().public_key().to_vec();
    let mut sigs = Vec::with_capacity(inputs);
    for i in 0..inputs {
        let hash = unsigned
            .sighash(i)
            .ok_or_else(|| NodeError::Internal(format!("no signature hash for input {i}")))?;
        sigs.push(xprv.sign(hash.as_bytes()).to_vec());
    }
    let mut data = unsigned.into_data();
    for (input, sig) in data.inputs.iter_mut().zip(sigs) {
        input.set_arguments(vec![sig, public.clone()]);
    }
    Transaction::new(Profile::Side, data).map_err(|e| NodeError::Config(format!("transfer: {e}")))
}

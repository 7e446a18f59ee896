//! `tributary dpos ...`: a validator candidate's registration (docs/dpos.md §4).

use std::path::Path;

use anyhow::{Context as _, Result, bail};
use consensus::dpos::{ChainId, ConsensusKey, registration_program};
use crypto::bls::SecretKey;
use crypto::chainkd::XPrv;
use serde_json::{Value, json};
use types::Block;
use types::profile::Profile;
use zeroize::Zeroizing;

use crate::cli::DposRegistrationOpts;

/// `dpos registration`: the registration program of the candidate whose keys are in the files, for
/// the chain of the genesis block in `genesis_file`. Prints public values only.
pub(crate) fn registration(opts: &DposRegistrationOpts) -> Result<Value> {
    let xprv = {
        let text = read_secret(&opts.dpos_key_file, "--dpos-key-file")?;
        XPrv::from_hex(text.trim()).with_context(|| {
            format!(
                "--dpos-key-file {}: not a chainkd extended private key (128 hex characters)",
                opts.dpos_key_file.display()
            )
        })?
    };
    let bls = {
        let text = read_secret(&opts.bls_key_file, "--bls-key-file")?;
        let bytes = Zeroizing::new(
            hex::decode(text.trim())
                .with_context(|| format!("--bls-key-file {}: not hex", opts.bls_key_file.display()))?,
        );
        SecretKey::from_bytes(&bytes).with_context(|| {
            format!(
                "--bls-key-file {}: not a BLS secret key (32 bytes, below the group order, not zero)",
                opts.bls_key_file.display()
            )
        })?
    };
    let genesis = read_genesis(&opts.genesis_file)?;
    let chain = ChainId::from(genesis.hash());
    let program = registration_program(&chain, &xprv, opts.sequence, &bls);
    Ok(json!({
        "program": hex::encode(&program),
        "xpub": xprv.xpub().to_hex(),
        "consensus_key": hex::encode(ConsensusKey::from(&bls.public_key()).as_bytes()),
        "chain_id": hex::encode(chain.as_bytes()),
        "sequence": opts.sequence,
    }))
}

/// A key file's text, wiped when dropped.
fn read_secret(path: &Path, what: &str) -> Result<Zeroizing<String>> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .with_context(|| format!("{what}: cannot read {}", path.display()))
}

/// The sidechain genesis block in a hex file.
fn read_genesis(path: &Path) -> Result<Block> {
    let what = || format!("--genesis-file {}", path.display());
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read it", what()))?;
    let bytes = hex::decode(text.trim()).with_context(|| format!("{}: not hex", what()))?;
    let block = Block::decode(&bytes, Profile::Side, &ledger::ChainParams::side_devnet().limits)
        .with_context(|| format!("{}: not a sidechain block", what()))?;
    if block.header().height != 0 {
        bail!(
            "{}: a block at height {}, not a genesis block",
            what(),
            block.header().height
        );
    }
    Ok(block)
}

//! `tributary tx decode` and `tributary block decode`: the reference node's JSON shapes
//! (`decode-raw-transaction` and `get-block`), from the views the node API also serves (`api::view`).

use anyhow::{Context as _, Result};
use serde_json::Value;
use types::block::Block;
use types::codec::Limits;
use types::profile::Profile;
use types::tx::Transaction;

use super::parse_hex;
use crate::cli::DecodeOpts;

/// `tx decode`.
pub(crate) fn tx(opts: &DecodeOpts) -> Result<Value> {
    let bytes = parse_hex("the transaction", &opts.hex)?;
    let tx = Transaction::decode(&bytes, opts.chain.into(), &Limits::default())
        .with_context(|| format!("not a {} transaction", Profile::from(opts.chain)))?;
    Ok(serde_json::to_value(api::view::tx_view(
        &tx,
        opts.network.into(),
    ))?)
}

/// `block decode`.
pub(crate) fn block(opts: &DecodeOpts) -> Result<Value> {
    let bytes = parse_hex("the block", &opts.hex)?;
    let block = Block::decode(&bytes, opts.chain.into(), &Limits::default())
        .with_context(|| format!("not a {} block", Profile::from(opts.chain)))?;
    // The reference reports the length of the block's hex text, twice its byte length.
    let size = u64::try_from(bytes.len())
        .ok()
        .and_then(|n| n.checked_mul(2))
        .context("block too large")?;
    Ok(serde_json::to_value(api::view::block_view(
        &block,
        size,
        opts.network.into(),
    ))?)
}

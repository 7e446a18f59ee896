//! `tributary pow tensority`: the Tensority result for a block hash and a seed.

use anyhow::Result;
use serde_json::{Value, json};

/// Builds the seed's cache and hashes `hash` under it; prints `{"result": "<hex>"}`.
pub(crate) fn tensority(hash: &str, seed: &str) -> Result<Value> {
    let hash = pow::parse_hash("--hash", hash)?;
    let seed = pow::parse_hash("--seed", seed)?;
    let cache = pow::Cache::new(&seed);
    let result = pow::tensority::hash(&hash, &cache);
    Ok(json!({ "result": result.to_hex() }))
}

//! `tributary asset ...`

use anyhow::Result;
use serde_json::{Value, json};
use types::asset::{AssetId, definition_hash};

use super::parse_hex;

/// `asset id`: the reference's asset ID of an issuance program and a raw definition.
pub(crate) fn id(issuance_program: &str, definition: &str, vm_version: u64) -> Result<Value> {
    let program = parse_hex("--issuance-program", issuance_program)?;
    // The reference hashes the definition's raw bytes; it only requires them to be valid JSON when present.
    if !definition.is_empty() {
        serde_json::from_str::<serde::de::IgnoredAny>(definition)
            .map_err(|e| anyhow::anyhow!("--definition is not valid JSON: {e}"))?;
    }
    let raw = definition.as_bytes();
    Ok(json!({
        "asset_id": AssetId::from_definition(&program, vm_version, raw).to_hex(),
        "definition_hash": definition_hash(raw).to_hex(),
        "issuance_program": hex::encode(&program),
        "vm_version": vm_version,
    }))
}

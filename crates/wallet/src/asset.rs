//! The wallet's asset registry (`create-asset`, `get-asset`, `list-assets`; Bytom v1.1.0
//! `asset/asset.go`, `asset/annotate.go`, `api/assets.go`): assets defined here with the issuer's keys,
//! their issuance programs and raw definitions, and the asset class their definition declares
//! (`docs/assets.md`).

use crypto::chainkd::{XPub, derive_xpubs, xpub_keys};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use types::asset_class::AssetClass;
use types::{AssetId, Profile};
use vm::standard;

use crate::account::check_signers;
use crate::error::WalletError;
use crate::index::btm_definition;
use crate::serde_util::{asset_id, hex_bytes};
use crate::store::{Change, State};
use crate::wallet::Wallet;

/// The counter of asset key indexes (one for the whole wallet, as the reference's `AssetIndex`).
pub(crate) const ASSET_COUNTER: &str = "asset";

/// Longest asset alias accepted.
pub const MAX_ASSET_ALIAS: usize = 256;

/// Largest raw definition accepted, in bytes (the serialized form is what issuance inputs carry).
pub const MAX_DEFINITION_BYTES: usize = 16 * 1024;

/// An asset as the reference's `get-asset` / `list-assets` / `create-asset` answer it
/// (`query.AnnotatedAsset`), which is also the record the wallet stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// `"asset"` for an asset whose program the wallet derived from keys, `"internal"` for BTM, empty
    /// for an asset defined with a caller's issuance program.
    #[serde(rename = "type")]
    pub signer_type: String,
    /// The issuer's root xpubs (`null` without keys).
    pub xpubs: Option<Vec<XPub>>,
    /// Signatures needed to issue.
    pub quorum: u64,
    /// The asset's key index (derivation path `[0x00 ‖ key_index as 8 bytes little-endian]`).
    pub key_index: u64,
    /// Always 0 (BIP32-style asset paths, as the reference).
    pub derive_rule: u8,
    /// The asset ID: SHA3 of the issuance program, VM version and SHA3 of the raw definition.
    #[serde(with = "asset_id")]
    pub id: AssetId,
    /// The alias (upper case).
    pub alias: String,
    /// The issuance program's VM version.
    pub vm_version: u64,
    /// The issuance program.
    #[serde(with = "hex_bytes")]
    pub issue_program: Vec<u8>,
    /// The definition bytes issuance inputs carry (Go's indented JSON of the definition).
    #[serde(with = "hex_bytes")]
    pub raw_definition_byte: Vec<u8>,
    /// The definition, parsed from the raw bytes (`{}` when they are not JSON).
    pub definition: Value,
    /// Block height the issuance program requires to be exceeded (0: none).
    pub limit_height: i64,
}

impl Asset {
    /// The class the definition declares (BAP-01 for definitions that claim none).
    pub fn class(&self) -> Result<AssetClass, WalletError> {
        AssetClass::from_definition(&self.raw_definition_byte).map_err(|e| WalletError::BadAssetDefinition {
            reason: e.to_string(),
        })
    }

    /// The derivation path of the asset's issuing keys (reference `GetBip0032Path(signer, AssetKeySpace)`).
    pub fn path(&self) -> Vec<Vec<u8>> {
        asset_path(self.key_index)
    }
}

/// The derivation path of an asset's issuing keys: one 9-byte step, the asset key space (0) and the key
/// index as 8 bytes little-endian.
pub fn asset_path(key_index: u64) -> Vec<Vec<u8>> {
    let mut step = vec![0u8];
    step.extend_from_slice(&key_index.to_le_bytes());
    vec![step]
}

/// A `create-asset` request (the reference's body).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateAssetRequest {
    /// The alias (trimmed and upper-cased; must not be empty or `BTM`).
    #[serde(default)]
    pub alias: String,
    /// The issuer's root xpubs (needed unless `issuance_program` is given).
    #[serde(default)]
    pub root_xpubs: Vec<XPub>,
    /// Signatures needed to issue.
    #[serde(default)]
    pub quorum: u64,
    /// The definition: a JSON object or `null`. Its `"bap"` member chooses the asset class.
    #[serde(default)]
    pub definition: Option<serde_json::Map<String, Value>>,
    /// Issuance only above this block height (0: no limit).
    #[serde(default)]
    pub limit_height: i64,
    /// A caller's own issuance program (hex) instead of one derived from keys.
    #[serde(default, with = "hex_bytes")]
    pub issuance_program: Vec<u8>,
}

/// Serializes a definition as the reference's `serializeAssetDef` does (Go's
/// `json.MarshalIndent(def, "", "  ")` of a `map[string]interface{}`): keys sorted bytewise at every
/// level, two-space indent, numbers as Go prints a `float64`, strings with Go's escapes (`<`, `>`, `&`,
/// U+2028, U+2029 and control characters as `\uXXXX`).
pub fn serialize_definition(def: &serde_json::Map<String, Value>) -> Vec<u8> {
    let mut out = String::new();
    write_object(&mut out, def, 0);
    out.into_bytes()
}

fn indent(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_object(out: &mut String, map: &serde_json::Map<String, Value>, depth: usize) {
    if map.is_empty() {
        out.push_str("{}");
        return;
    }
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out.push('{');
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        indent(out, depth + 1);
        write_string(out, k);
        out.push_str(": ");
        write_value(out, v, depth + 1);
    }
    indent(out, depth);
    out.push('}');
}

fn write_value(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&go_float(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                indent(out, depth + 1);
                write_value(out, item, depth + 1);
            }
            indent(out, depth);
            out.push(']');
        }
        Value::Object(map) => write_object(out, map, depth),
    }
}

/// A `float64` as Go's `encoding/json` prints it: plain decimal between 1e-6 and 1e21, otherwise
/// exponent form with a signed exponent of at least one digit (`1e+21`, `1e-7`).
fn go_float(f: f64) -> String {
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        return format!("{f}");
    }
    let e = format!("{f:e}");
    match e.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => e,
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The parsed definition the reference's `Annotated` shows: the raw bytes if they are JSON, else `{}`.
pub(crate) fn definition_of(raw: &[u8]) -> Value {
    serde_json::from_slice(raw).unwrap_or_else(|_| Value::Object(serde_json::Map::new()))
}

/// BTM as `list-assets` shows it (the reference's `DefaultNativeAsset`).
pub fn native_asset() -> Asset {
    let def = match btm_definition() {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    let raw = serialize_definition(&def);
    Asset {
        signer_type: "internal".into(),
        xpubs: None,
        quorum: 0,
        key_index: 0,
        derive_rule: 0,
        id: AssetId::BTM,
        alias: "BTM".into(),
        vm_version: 1,
        issue_program: Vec::new(),
        definition: definition_of(&raw),
        raw_definition_byte: raw,
        limit_height: 0,
    }
}

/// The asset `key` names among the wallet's own: an asset ID (hex) or an alias (any case).
pub(crate) fn find_asset<'a>(state: &'a State, key: &str) -> Option<&'a Asset> {
    let key = key.trim();
    if let Ok(id) = AssetId::from_hex(key)
        && let Some(a) = state.defined.get(&id.0)
    {
        return Some(a);
    }
    let alias = key.to_uppercase();
    state.defined.values().find(|a| a.alias == alias)
}

impl Wallet {
    /// Defines an asset (`create-asset`): the alias is trimmed and upper-cased; the definition (a JSON
    /// object, `null` = `{}`) is serialized as the reference does and must be a valid class declaration
    /// if it has a `"bap"` member ([`WalletError::BadAssetDefinition`] otherwise); without an
    /// `issuance_program`, the program is the `quorum`-of-N check of the root xpubs derived along the
    /// asset's path, with `limit_height` if positive. The ID is the reference's
    /// `ComputeAssetID(program, 1, SHA3(raw definition))`. Defining an asset issues nothing.
    pub fn create_asset(&self, req: &CreateAssetRequest) -> Result<Asset, WalletError> {
        let alias = req.alias.trim().to_uppercase();
        if alias.is_empty() {
            return Err(WalletError::InvalidArgument {
                what: "alias",
                reason: "the asset alias must not be empty".into(),
            });
        }
        if alias.len() > MAX_ASSET_ALIAS {
            return Err(WalletError::InvalidArgument {
                what: "alias",
                reason: format!("{} bytes, at most {MAX_ASSET_ALIAS}", alias.len()),
            });
        }
        if alias == "BTM" {
            return Err(WalletError::InvalidArgument {
                what: "alias",
                reason: "BTM is the built-in asset".into(),
            });
        }
        if req.limit_height < 0 {
            return Err(WalletError::InvalidArgument {
                what: "limit_height",
                reason: "must not be negative".into(),
            });
        }
        let raw = serialize_definition(&req.definition.clone().unwrap_or_default());
        if raw.len() > MAX_DEFINITION_BYTES {
            return Err(WalletError::BadAssetDefinition {
                reason: format!("{} bytes, at most {MAX_DEFINITION_BYTES}", raw.len()),
            });
        }
        AssetClass::from_definition(&raw).map_err(|e| WalletError::BadAssetDefinition {
            reason: e.to_string(),
        })?;

        let mut inner = self.lock()?;
        let state = &inner.store.state;
        if state.defined.values().any(|a| a.alias == alias) {
            return Err(WalletError::DuplicateAssetAlias { alias });
        }
        let mut changes = Vec::new();
        let (signer, program) = if req.issuance_program.is_empty() {
            check_signers(&req.root_xpubs, req.quorum)?;
            let key_index = state
                .counters
                .get(ASSET_COUNTER)
                .copied()
                .unwrap_or(0)
                .saturating_add(1);
            let derived = derive_xpubs(&req.root_xpubs, &asset_path(key_index))
                .map_err(|e| WalletError::Internal(format!("derive: {e}")))?;
            let quorum = i64::try_from(req.quorum).map_err(|_| WalletError::BadQuorum {
                quorum: req.quorum,
                keys: req.root_xpubs.len(),
            })?;
            let program =
                standard::p2sp_multisig_program_with_height(&xpub_keys(&derived), quorum, req.limit_height)
                    .map_err(|e| WalletError::InvalidArgument {
                    what: "issuance program",
                    reason: e.to_string(),
                })?;
            changes.push(Change::Counter(ASSET_COUNTER.to_string(), key_index));
            (Some((req.root_xpubs.clone(), req.quorum, key_index)), program)
        } else {
            (None, req.issuance_program.clone())
        };
        let id = AssetId::from_definition(&program, 1, &raw);
        if state.defined.contains_key(&id.0) {
            return Err(WalletError::DuplicateAsset { id: id.to_hex() });
        }
        let (signer_type, xpubs, quorum, key_index) = match signer {
            Some((x, q, k)) => ("asset".to_string(), Some(x), q, k),
            None => (String::new(), None, 0, 0),
        };
        let asset = Asset {
            signer_type,
            xpubs,
            quorum,
            key_index,
            derive_rule: 0,
            id,
            alias,
            vm_version: 1,
            limit_height: standard::get_issuance_program_restrict_height(&program),
            issue_program: program,
            definition: definition_of(&raw),
            raw_definition_byte: raw,
        };
        changes.push(Change::Defined(id.0, Some(asset.clone())));
        inner.store.commit(changes)?;
        Ok(asset)
    }

    /// One asset (`get-asset`): BTM, an asset defined here, or an asset learned from a cross-chain
    /// input (named by its ID, with no program or raw bytes, as the reference answers external assets).
    pub fn get_asset(&self, id: &AssetId) -> Result<Asset, WalletError> {
        if *id == AssetId::BTM {
            return Ok(native_asset());
        }
        let inner = self.lock()?;
        let state = &inner.store.state;
        if let Some(a) = state.defined.get(&id.0) {
            return Ok(a.clone());
        }
        if let Some(r) = state.assets.get(&id.0) {
            return Ok(Asset {
                signer_type: String::new(),
                xpubs: None,
                quorum: 0,
                key_index: 0,
                derive_rule: 0,
                id: *id,
                alias: id.to_hex(),
                vm_version: 0,
                issue_program: Vec::new(),
                raw_definition_byte: Vec::new(),
                definition: serde_json::from_slice(&r.definition)
                    .unwrap_or_else(|_| Value::Object(serde_json::Map::new())),
                limit_height: 0,
            });
        }
        Err(WalletError::AssetNotFound(id.to_hex()))
    }

    /// The asset with this ID or alias among those defined here (BTM included).
    pub fn find_asset(&self, id_or_alias: &str) -> Result<Asset, WalletError> {
        let key = id_or_alias.trim();
        if key.eq_ignore_ascii_case("BTM") || AssetId::from_hex(key).is_ok_and(|a| a == AssetId::BTM) {
            return Ok(native_asset());
        }
        let inner = self.lock()?;
        find_asset(&inner.store.state, key)
            .cloned()
            .ok_or_else(|| WalletError::AssetNotFound(key.to_string()))
    }

    /// BTM then the assets defined here, in ID order (`list-assets` without an ID); with an ID, only
    /// that asset (BTM, or one defined here; none if unknown), as the reference answers.
    pub fn list_assets(&self, id: Option<&AssetId>) -> Result<Vec<Asset>, WalletError> {
        let inner = self.lock()?;
        let state = &inner.store.state;
        match id {
            Some(a) if *a == AssetId::BTM => Ok(vec![native_asset()]),
            Some(a) => Ok(state.defined.get(&a.0).cloned().into_iter().collect()),
            None => {
                let mut all = vec![native_asset()];
                all.extend(state.defined.values().cloned());
                Ok(all)
            }
        }
    }

    /// Whether assets can be issued by this wallet's chain (only the main chain issues).
    pub fn can_issue(&self) -> bool {
        self.profile == Profile::Main
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ser(v: Value) -> String {
        match v {
            Value::Object(m) => String::from_utf8(serialize_definition(&m)).unwrap(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn definitions_serialize_as_go_marshal_indent() {
        assert_eq!(ser(serde_json::json!({})), "{}");
        assert_eq!(
            ser(serde_json::json!({"symbol": "X", "decimals": 8, "a": {"z": [], "b": [1, "<&>"]}})),
            "{\n  \"a\": {\n    \"b\": [\n      1,\n      \"\\u003c\\u0026\\u003e\"\n    ],\n    \"z\": []\n  },\n  \"decimals\": 8,\n  \"symbol\": \"X\"\n}"
        );
        assert_eq!(
            ser(serde_json::json!({"f": 8.0, "g": 1.5, "h": 1e21, "i": 1e-7, "j": -0.25})),
            "{\n  \"f\": 8,\n  \"g\": 1.5,\n  \"h\": 1e+21,\n  \"i\": 1e-7,\n  \"j\": -0.25\n}"
        );
        assert_eq!(
            ser(serde_json::json!({"s": "a\"b\\c\n\u{1}\u{2028}é"})),
            "{\n  \"s\": \"a\\\"b\\\\c\\n\\u0001\\u2028é\"\n}"
        );
    }

    #[test]
    fn asset_path_is_the_asset_key_space_and_index() {
        assert_eq!(asset_path(1), vec![vec![0, 1, 0, 0, 0, 0, 0, 0, 0]]);
        assert_eq!(asset_path(0x0102), vec![vec![0, 2, 1, 0, 0, 0, 0, 0, 0]]);
    }
}

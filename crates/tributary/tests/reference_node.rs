//! Transactions and blocks produced by running reference nodes decode here to the same JSON the reference
//! node printed for them (`decode-raw-transaction`, `get-block`). The fixtures and how they were made are
//! described in `tests/fixtures/reference/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reference")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn decode(kind: &str, hex: &str, chain: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args([kind, "decode", hex, "--chain", chain, "--network", "devnet"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{kind} decode failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Drops what only the reference node's wallet or database knows (aliases, accounts, the block signer,
/// per-transaction status), which raw bytes cannot tell.
fn strip_node_only(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for key in [
                "asset_alias",
                "account_id",
                "account_alias",
                "blocker",
                "status_fail",
            ] {
                map.remove(key);
            }
            map.values_mut().for_each(strip_node_only);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_node_only),
        _ => {}
    }
}

/// Compares two JSON values and lists every differing path.
fn diff(path: &str, ours: &Value, theirs: &Value, out: &mut Vec<String>) {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, vb) in b {
                match a.get(k) {
                    Some(va) => diff(&format!("{path}.{k}"), va, vb, out),
                    None => out.push(format!("{path}.{k}: missing here, reference has {vb}")),
                }
            }
            for k in a.keys().filter(|k| !b.contains_key(*k)) {
                out.push(format!("{path}.{k}: extra here ({})", a[k]));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                diff(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        _ if ours == theirs => {}
        _ => out.push(format!("{path}: here {ours}, reference {theirs}")),
    }
}

/// Appends to `report` every difference between our JSON and the reference node's.
fn compare(what: &str, ours: &Value, theirs: &Value, report: &mut Vec<String>) {
    let mut theirs = theirs.clone();
    strip_node_only(&mut theirs);
    let mut diffs = Vec::new();
    diff("", ours, &theirs, &mut diffs);
    report.extend(diffs.into_iter().map(|d| format!("{what}: {d}")));
}

fn assert_no_differences(report: &[String]) {
    assert!(
        report.is_empty(),
        "differences from the reference node:\n{}",
        report.join("\n")
    );
}

fn check_transactions(file: &str, chain: &str) -> usize {
    let fixtures = fixture(file);
    let cases = fixtures.as_array().unwrap();
    assert!(!cases.is_empty(), "{file} has no transactions");
    let mut report = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let raw = case["raw_transaction"].as_str().unwrap();
        let ours = decode("tx", raw, chain);
        compare(&format!("{file}: {name}"), &ours, &case["decoded"], &mut report);
    }
    assert_no_differences(&report);
    cases.len()
}

fn check_blocks(file: &str, chain: &str) -> usize {
    let fixtures = fixture(file);
    let cases = fixtures.as_array().unwrap();
    assert!(!cases.is_empty(), "{file} has no blocks");
    let mut report = Vec::new();
    for case in cases {
        let raw = case["raw_block"].as_str().unwrap();
        let ours = decode("block", raw, chain);
        compare(
            &format!("{file}: block {}", case["height"]),
            &ours,
            &case["block"],
            &mut report,
        );
    }
    assert_no_differences(&report);
    cases.len()
}

#[test]
fn vapor_transactions_decode_as_the_reference_node_decodes_them() {
    assert!(check_transactions("vapor_transactions.json", "side") >= 10);
}

#[test]
fn vapor_blocks_decode_as_the_reference_node_decodes_them() {
    assert!(check_blocks("vapor_blocks.json", "side") >= 3);
}

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

#[test]
fn bytom_transactions_decode_as_the_reference_node_decodes_them() {
    assert!(check_transactions("bytom_transactions.json", "main") >= 4);
}

#[test]
fn bytom_blocks_decode_as_the_reference_node_decodes_them() {
    assert!(check_blocks("bytom_blocks.json", "main") >= 3);
}

fn tributary_json(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The reference nodes' `list-pubkeys`: each account key derived from its root xpub along the printed
/// path. Our public derivation must reach the same key.
#[test]
fn key_derivations_match_the_reference_nodes() {
    let fixtures = fixture("addresses.json");
    let mut checked = 0;
    for chain in ["vapor", "bytom"] {
        for (account, info) in fixtures[chain]["list_pubkeys"].as_object().unwrap() {
            let root = info["root_xpub"].as_str().unwrap();
            for key in info["pubkey_infos"].as_array().unwrap() {
                let path: Vec<String> = key["derivation_path"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| {
                        let bytes = hex::decode(p.as_str().unwrap()).unwrap();
                        u32::from_le_bytes(bytes.try_into().unwrap()).to_string()
                    })
                    .collect();
                let ours = tributary_json(&["keys", "derive", "--xpub", root, "--path", &path.join(",")]);
                assert_eq!(
                    ours["public_key"], key["pubkey"],
                    "{chain} {account} path {path:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 6, "only {checked} derivations in the fixtures");
}

/// The reference nodes' `create-account-receiver`: control program ⇄ address on each chain's devnet.
#[test]
fn receiver_addresses_match_the_reference_nodes() {
    let fixtures = fixture("addresses.json");
    let mut checked = 0;
    for (chain, ours_chain) in [("vapor", "side"), ("bytom", "main")] {
        for (account, receivers) in fixtures[chain]["receivers"].as_object().unwrap() {
            for r in receivers.as_array().unwrap() {
                let program = r["control_program"].as_str().unwrap();
                // A standard program is 00 <len> <hash>.
                let hash = &program[4..];
                let ours = tributary_json(&[
                    "keys",
                    "address",
                    "--pubkey-hash",
                    hash,
                    "--network",
                    "devnet",
                    "--chain",
                    ours_chain,
                ]);
                assert_eq!(ours["address"], r["address"], "{chain} {account}");
                assert_eq!(ours["control_program"], r["control_program"], "{chain} {account}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "only {checked} receivers in the fixtures");
}

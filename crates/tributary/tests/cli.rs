//! The `tributary` binary end to end: JSON on success, a one-line error and a non-zero exit on bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use serde_json::Value;

fn tributary(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tributary"))
        .args(args)
        .output()
        .expect("run tributary");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Runs a command that must succeed and returns its JSON.
fn ok(args: &[&str]) -> Value {
    let (code, stdout, stderr) = tributary(args);
    assert_eq!(code, 0, "{args:?} failed: {stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {stdout}"))
}

/// Runs a command that must fail with a one-line error containing `needle`.
fn fails(args: &[&str], needle: &str) {
    let (code, stdout, stderr) = tributary(args);
    assert_ne!(code, 0, "{args:?} should fail but printed {stdout}");
    assert!(
        stdout.is_empty(),
        "{args:?} printed to stdout on failure: {stdout}"
    );
    let line = stderr.trim_end();
    assert!(line.starts_with("error: "), "{args:?}: {line}");
    assert!(!line.contains('\n'), "{args:?}: error is not one line: {line}");
    assert!(
        line.contains(needle),
        "{args:?}: {line:?} does not mention {needle:?}"
    );
}

fn s(v: &Value, key: &str) -> String {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no string {key} in {v}"))
        .to_string()
}

#[test]
fn keys_new_derive_sign_verify_agree() {
    let root = ok(&["keys", "new"]);
    let xprv = s(&root, "xprv");
    let xpub = s(&root, "xpub");
    assert_eq!(xprv.len(), 128);
    assert_eq!(xpub.len(), 128);
    assert_ne!(
        ok(&["keys", "new"])["xprv"],
        root["xprv"],
        "two fresh keys must differ"
    );

    // Non-hardened derivation from the private and the public key reaches the same public key.
    let from_xprv = ok(&["keys", "derive", "--xprv", &xprv, "--path", "44,153,1,0,1"]);
    let from_xpub = ok(&["keys", "derive", "--xpub", &xpub, "--path", "44,153,1,0,1"]);
    assert_eq!(from_xprv["xpub"], from_xpub["xpub"]);
    assert_ne!(from_xprv["xpub"].as_str().unwrap(), xpub);
    assert_eq!(
        from_xprv["path"][1], "99000000",
        "path elements are 4-byte little-endian"
    );
    // Hardened derivation leaves the public branch.
    let hardened = ok(&[
        "keys",
        "derive",
        "--xprv",
        &xprv,
        "--path",
        "44,153,1,0,1",
        "--hardened",
    ]);
    assert_ne!(hardened["xpub"], from_xprv["xpub"]);
    fails(
        &["keys", "derive", "--xpub", &xpub, "--path", "1", "--hardened"],
        "private key",
    );

    let child_xprv = s(&from_xprv, "xprv");
    let child_xpub = s(&from_xprv, "xpub");
    let sig = ok(&["keys", "sign", "--xprv", &child_xprv, "--message-hex", "deadbeef"]);
    let sig = s(&sig, "signature");
    assert_eq!(sig.len(), 128);
    let good = ok(&[
        "keys",
        "verify",
        "--xpub",
        &child_xpub,
        "--message-hex",
        "deadbeef",
        "--signature",
        &sig,
    ]);
    assert_eq!(good["valid"], true);
    let bad_msg = ok(&[
        "keys",
        "verify",
        "--xpub",
        &child_xpub,
        "--message-hex",
        "deadbeee",
        "--signature",
        &sig,
    ]);
    assert_eq!(bad_msg["valid"], false);
    let bad_key = ok(&[
        "keys",
        "verify",
        "--xpub",
        &xpub,
        "--message-hex",
        "deadbeef",
        "--signature",
        &sig,
    ]);
    assert_eq!(bad_key["valid"], false);
}

#[test]
fn keys_reject_bad_input() {
    fails(&["keys", "sign", "--xprv", "00", "--message-hex", "00"], "--xprv");
    fails(
        &["keys", "sign", "--xprv", &"zz".repeat(64), "--message-hex", "00"],
        "--xprv",
    );
    let xprv = s(&ok(&["keys", "new"]), "xprv");
    fails(
        &["keys", "sign", "--xprv", &xprv, "--message-hex", "0g"],
        "--message-hex",
    );
    let xpub = s(&ok(&["keys", "new"]), "xpub");
    fails(
        &[
            "keys",
            "verify",
            "--xpub",
            &xpub,
            "--message-hex",
            "00",
            "--signature",
            "00",
        ],
        "--signature",
    );
    fails(&["keys", "address", "--pubkey-hash", "0011"], "20 bytes");
}

#[test]
fn addresses_match_the_reference() {
    // Bytom common/address_test.go, TestAddresses "segwit mainnet p2wpkh v0" / "segwit testnet p2wpkh v0".
    let v = ok(&[
        "keys",
        "address",
        "--pubkey-hash",
        "751e76e8199196d454941c45d1b3a323f1433bd6",
        "--network",
        "mainnet",
        "--chain",
        "main",
    ]);
    assert_eq!(v["address"], "bm1qw508d6qejxtdg4y5r3zarvary0c5xw7k23gyyf");
    assert_eq!(
        v["control_program"],
        "0014751e76e8199196d454941c45d1b3a323f1433bd6"
    );
    let v = ok(&[
        "keys",
        "address",
        "--pubkey-hash",
        "751e76e8199196d454941c45d1b3a323f1433bd6",
        "--network",
        "testnet",
        "--chain",
        "main",
    ]);
    assert_eq!(v["address"], "tm1qw508d6qejxtdg4y5r3zarvary0c5xw7kw8fqyc");
    // Bytom common/address_test.go "segwit mainnet p2wsh v0".
    let v = ok(&[
        "keys",
        "address",
        "--pubkey-hash",
        "1863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
        "--chain",
        "main",
    ]);
    assert_eq!(
        v["address"],
        "bm1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qk5egtg"
    );
    // The sidechain uses its own prefixes.
    let v = ok(&[
        "keys",
        "address",
        "--pubkey-hash",
        "751e76e8199196d454941c45d1b3a323f1433bd6",
    ]);
    assert!(v["address"].as_str().unwrap().starts_with("vp1q"), "{v}");
}

#[test]
fn asset_ids_match_the_reference() {
    // Bytom protocol/bc/asset_test.go, TestComputeAssetIDReally, first case.
    let definition = String::from_utf8(
        hex::decode(
            "7b0a202022646563696d616c73223a20382c0a2020226465736372697074696f6e223a207b7d2c0a2020226e616d65223a\
             2022222c0a20202273796d626f6c223a2022220a7d",
        )
        .unwrap(),
    )
    .unwrap();
    let v = ok(&[
        "asset",
        "id",
        "--issuance-program",
        "ae2039294f652632eee970765550c245f0b0314256b4b93aadc86279fdb45db3b70e5151ad",
        "--definition",
        &definition,
    ]);
    assert_eq!(
        v["asset_id"],
        "07c7ced3f37f48ea39da6971c89f90e9cff3202d54b0a911f12ace8501f3834e"
    );
    fails(
        &[
            "asset",
            "id",
            "--issuance-program",
            "ae",
            "--definition",
            "{not json",
        ],
        "JSON",
    );
    fails(
        &["asset", "id", "--issuance-program", "xyz", "--definition", "{}"],
        "--issuance-program",
    );
}

#[test]
fn vm_run_reports_success_and_the_failing_op() {
    let v = ok(&["vm", "run", "--asm", "--program", "2 3 ADD 5 EQUAL"]);
    assert_eq!(v["success"], true, "{v}");
    assert!(v["gas_left"].as_i64().unwrap() < 100_000);

    // A failing program is a result: it names the op and position.
    let v = ok(&["vm", "run", "--asm", "--program", "2 3 ADD 6 EQUALVERIFY"]);
    assert_eq!(v["success"], false, "{v}");
    assert_eq!(v["op"], "EQUALVERIFY", "{v}");

    // Arguments are pushed before the program: the argument's SHA3 checked against a wrong digest fails,
    // against its own digest passes.
    let wrong = "f6b3b4db3b6e24e50e5d4b4e5ae76b64d4b7a0c6f8fc3f5bae3296b0b5b73b52";
    let v = ok(&[
        "vm",
        "run",
        "--asm",
        "--program",
        &format!("SHA3 0x{wrong} EQUAL"),
        "--arg",
        "00",
    ]);
    assert_eq!(v["success"], false, "a wrong digest must fail: {v}");
    // SHA3-256 of the single byte 0x00.
    let right = "5d53469f20fef4f8eab52b88044ede69c77a6a68a60728609fc4a65ff531e7d0";
    let v = ok(&[
        "vm",
        "run",
        "--asm",
        "--program",
        &format!("SHA3 0x{right} EQUAL"),
        "--arg",
        "00",
    ]);
    assert_eq!(v["success"], true, "the right digest must pass: {v}");

    // MULFRACTION (0xa6) exists on sidechains only: 10 * 3 / 2 = 15.
    let side = ok(&["vm", "run", "--program", "5a5352a65f87"]);
    assert_eq!(side["success"], true, "{side}");
    let main = ok(&["vm", "run", "--program", "5a5352a65f87", "--chain", "main"]);
    assert_eq!(main["success"], false, "{main}");

    fails(&["vm", "run", "--program", "zz"], "--program");
    fails(&["vm", "run", "--program", "51", "--arg", "0"], "--arg");
}

#[test]
fn decoders_reject_bad_input_with_one_line() {
    fails(&["tx", "decode", "zz"], "not valid hex");
    fails(&["tx", "decode", "07"], "not a side transaction");
    fails(
        &["tx", "decode", "07", "--chain", "main"],
        "not a main transaction",
    );
    fails(&["block", "decode", "03"], "not a side block");
    fails(&["block", "decode", ""], "not a side block");
}

#[test]
fn bench_commands_run_small_and_report_their_figures() {
    let ledger = ok(&[
        "bench",
        "ledger",
        "--txs",
        "120",
        "--block-size",
        "60",
        "--rounds",
        "1",
    ]);
    assert_eq!(ledger["txs"], 120);
    for path in [
        "validate_apply_block",
        "validate_apply_window",
        "check_txs_mempool",
    ] {
        let tps = ledger[path]["tx_per_sec"].as_f64().unwrap_or(0.0);
        assert!(tps > 0.0, "{path}: {ledger}");
    }
    assert!(
        ledger["batch_verify_ceiling"]["sig_per_sec"].as_f64().unwrap() > 0.0,
        "{ledger}"
    );
    assert!(ledger["ratio"].as_f64().unwrap() > 0.0, "{ledger}");

    let consensus = ok(&["bench", "consensus", "--sizes", "4", "--heights", "5"]);
    let rows = consensus["rows"].as_array().unwrap();
    // FBFT, BBFT and PBFT under both latency models, for the main table's payload and, by default,
    // the two realistic block sizes.
    assert_eq!(rows.len(), 18, "{consensus}");
    for payload in [256, 262_144, 1_500_000] {
        let n = rows.iter().filter(|r| r["payload_bytes"] == payload).count();
        assert_eq!(n, 6, "payload {payload}: {consensus}");
    }
    for row in rows {
        assert!(row["messages_per_height"].as_u64().unwrap() > 0, "{row}");
        assert!(row["finality_ms"].as_f64().unwrap() > 0.0, "{row}");
    }
    let small = ok(&[
        "bench",
        "consensus",
        "--sizes",
        "4",
        "--heights",
        "5",
        "--block-payloads",
        "0",
    ]);
    assert_eq!(small["rows"].as_array().unwrap().len(), 6, "{small}");
    fails(
        &["bench", "consensus", "--sizes", "4", "--heights", "1"],
        "--heights",
    );
}

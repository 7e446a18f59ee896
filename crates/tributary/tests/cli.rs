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

/// A fresh directory for one test's files, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let mut b = [0u8; 8];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut b);
        let p = std::env::temp_dir().join(format!("tributary-cli-{name}-{}", hex::encode(b)));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `dpos registration` on key files of the test's own: the program verifies for the genesis block's
/// chain and binds exactly that xpub and BLS key at the sequence given; it fails for another chain;
/// no private key is printed.
#[test]
fn dpos_registration_verifies_for_its_chain_only() {
    use consensus::dpos::{ChainId, parse_registration};
    let tmp = TempDir::new("dpos-reg");
    let xprv = crypto::chainkd::XPrv::generate(&mut rand_core::OsRng);
    let bls = crypto::bls::SecretKey::generate(&mut rand_core::OsRng);
    let dpos_key = tmp.write("dpos.key", &format!("{}\n", xprv.expose_hex().as_str()));
    let bls_hex = hex::encode(bls.to_bytes());
    let bls_key = tmp.write("bls.key", &bls_hex);
    let params = ledger::ChainParams::side_devnet();
    let genesis = node::genesis::devnet_genesis(&params, &[0x51], 1, 1_000, 0).unwrap();
    let genesis_file = tmp.write("genesis.hex", &hex::encode(genesis.encode()));
    let chain = ChainId::from(genesis.hash());

    let registration = [
        "dpos",
        "registration",
        "--dpos-key-file",
        &dpos_key,
        "--bls-key-file",
        &bls_key,
        "--genesis-file",
        &genesis_file,
    ];
    let (code, stdout, stderr) = tributary(&[&registration[..], &["--sequence", "7"]].concat());
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains(xprv.expose_hex().as_str()) && !stdout.contains(&bls_hex));
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(s(&v, "xpub"), xprv.xpub().to_hex());
    assert_eq!(s(&v, "consensus_key"), hex::encode(bls.public_key().to_bytes()));
    assert_eq!(s(&v, "chain_id"), genesis.hash().to_hex());
    assert_eq!(v["sequence"], 7);
    let program = hex::decode(s(&v, "program")).unwrap();
    let reg = parse_registration(&chain, &program).unwrap().unwrap();
    assert_eq!(reg.candidate, xprv.xpub());
    assert_eq!(reg.sequence, 7);
    assert_eq!(reg.consensus_key.as_bytes(), &bls.public_key().to_bytes());
    // Another chain (another genesis, or a chain named instead) refuses it.
    let other = node::genesis::devnet_genesis(&params, &[0x51], 1, 1_000, 1).unwrap();
    for chain in [ChainId::from(other.hash()), ChainId::from_name("devnet")] {
        assert!(parse_registration(&chain, &program).is_err());
    }
    // The sequence defaults to 1.
    let v = ok(&registration);
    assert_eq!(v["sequence"], 1);
}

/// Bad key or genesis files are one-line errors naming the file's argument.
#[test]
fn dpos_registration_refuses_bad_files() {
    let tmp = TempDir::new("dpos-bad");
    let xprv = crypto::chainkd::XPrv::generate(&mut rand_core::OsRng);
    let bls = crypto::bls::SecretKey::generate(&mut rand_core::OsRng);
    let dpos_key = tmp.write("dpos.key", xprv.expose_hex().as_str());
    let bls_key = tmp.write("bls.key", &hex::encode(bls.to_bytes()));
    let params = ledger::ChainParams::side_devnet();
    let genesis = node::genesis::devnet_genesis(&params, &[0x51], 1, 1_000, 0).unwrap();
    let genesis_file = tmp.write("genesis.hex", &hex::encode(genesis.encode()));
    let short = tmp.write("short.key", &"ab".repeat(32));
    let not_hex = tmp.write("not-hex.key", "not hex at all");
    let zero_bls = tmp.write("zero.key", &"00".repeat(32));
    let missing = tmp.0.join("missing").to_str().unwrap().to_string();
    let run = |d: &str, b: &str, g: &str, needle: &str| {
        fails(
            &[
                "dpos",
                "registration",
                "--dpos-key-file",
                d,
                "--bls-key-file",
                b,
                "--genesis-file",
                g,
            ],
            needle,
        );
    };
    run(&short, &bls_key, &genesis_file, "--dpos-key-file");
    run(&not_hex, &bls_key, &genesis_file, "--dpos-key-file");
    run(&missing, &bls_key, &genesis_file, "--dpos-key-file");
    run(&dpos_key, &dpos_key, &genesis_file, "--bls-key-file");
    run(&dpos_key, &not_hex, &genesis_file, "--bls-key-file");
    run(&dpos_key, &zero_bls, &genesis_file, "--bls-key-file");
    run(&dpos_key, &bls_key, &not_hex, "--genesis-file");
    run(&dpos_key, &bls_key, &bls_key, "--genesis-file");
    run(&dpos_key, &bls_key, &missing, "--genesis-file");
}

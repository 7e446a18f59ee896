//! Keystore and accounts against the reference nodes' own answers
//! (`crates/tributary/tests/fixtures/reference/addresses.json`: `create-key`, `list-accounts`,
//! `list-pubkeys`, `list-addresses`, `create-account-receiver`, `validate-address` of a Vapor v1.1.9
//! and a Bytom v1.1.0 solonet).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TempDir;

use std::path::PathBuf;

use crypto::chainkd::XPub;
use serde_json::Value;
use types::{Network, Profile};
use wallet::keystore::xpub_from_mnemonic;
use wallet::{KdfParams, Wallet, WalletError};

fn fixture() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tributary/tests/fixtures/reference/addresses.json");
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn tmp(name: &str) -> TempDir {
    TempDir::new(name)
}

fn open(name: &str, profile: Profile) -> (Wallet, TempDir) {
    let dir = tmp(name);
    (
        Wallet::open(&dir, profile, Network::Devnet, KdfParams::FAST_INSECURE).unwrap(),
        dir,
    )
}

fn xpub(v: &Value) -> XPub {
    XPub::from_hex(v.as_str().unwrap()).unwrap()
}

#[test]
fn mnemonics_give_the_reference_xpubs() {
    let f = fixture();
    let mut n = 0;
    for chain in ["vapor", "bytom"] {
        for k in f[chain]["create_key"].as_array().unwrap() {
            let want = xpub(&k["xpub"]);
            assert_eq!(
                xpub_from_mnemonic(k["mnemonic"].as_str().unwrap()).unwrap(),
                want,
                "{chain} {}",
                k["alias"]
            );
            n += 1;
        }
    }
    assert!(n >= 4);
}

#[test]
fn import_then_export_and_list() {
    let f = fixture();
    let (w, _dir) = open("import", Profile::Side);
    let k = &f["vapor"]["create_key"][0];
    let phrase = k["mnemonic"].as_str().unwrap();
    // Extra whitespace and an upper-case alias: the alias is normalized, the words are the same.
    let info = w
        .import_key("  Alice ", "pw", &format!("  {}  ", phrase.replace(' ', "\t ")))
        .unwrap();
    assert_eq!(info.alias, "alice");
    assert_eq!(info.xpub, xpub(&k["xpub"]));
    assert_eq!(w.export_mnemonic(&info.xpub, "pw").unwrap().as_str(), phrase);
    assert_eq!(w.list_keys(), vec![info.clone()]);
    // Duplicate alias (after normalization) and duplicate key are refused.
    let err = w
        .import_key(
            "ALICE",
            "pw",
            f["vapor"]["create_key"][1]["mnemonic"].as_str().unwrap(),
        )
        .unwrap_err();
    assert!(matches!(err, WalletError::DuplicateKeyAlias { .. }), "{err}");
    assert_eq!(err.reference_code(), "BTM800");
    assert!(w.import_key("alice2", "pw", phrase).is_err());
    // Eleven words, an unknown word.
    let short: Vec<&str> = phrase.split(' ').take(11).collect();
    assert!(matches!(
        w.import_key("x", "pw", &short.join(" ")),
        Err(WalletError::InvalidMnemonic { .. })
    ));
    let bad = phrase.replacen(phrase.split(' ').next().unwrap(), "notaword", 1);
    let err = w.import_key("x", "pw", &bad).unwrap_err();
    assert!(
        !err.to_string().contains("notaword"),
        "the error must not echo the words: {err}"
    );
    assert_eq!(w.list_keys().len(), 1);
}

#[test]
fn create_key_mnemonic_reimports_to_the_same_key() {
    let (w, _dir) = open("create", Profile::Side);
    let (info, mnemonic) = w.create_key("k", "secret").unwrap();
    assert_eq!(mnemonic.split(' ').count(), 12);
    assert_eq!(xpub_from_mnemonic(&mnemonic).unwrap(), info.xpub);
    assert_eq!(w.export_mnemonic(&info.xpub, "secret").unwrap(), mnemonic);
    let (w2, _dir2) = open("create2", Profile::Side);
    assert_eq!(w2.import_key("k", "other", &mnemonic).unwrap().xpub, info.xpub);
}

#[test]
fn wrong_password_changes_nothing() {
    let (w, dir) = open("wrongpw", Profile::Side);
    let (info, mnemonic) = w.create_key("k", "right").unwrap();
    let before = std::fs::read(&info.file).unwrap();
    for r in [
        w.export_mnemonic(&info.xpub, "wrong").map(|_| ()),
        w.delete_key(&info.xpub, "wrong"),
        w.reset_key_password(&info.xpub, "wrong", "new"),
    ] {
        let err = r.unwrap_err();
        assert!(matches!(err, WalletError::WrongPassword { .. }), "{err}");
        assert_eq!(err.reference_code(), "BTM802");
    }
    assert_eq!(std::fs::read(&info.file).unwrap(), before);
    assert_eq!(w.list_keys(), vec![info.clone()]);
    // The right password still works; after a reset only the new one does.
    w.reset_key_password(&info.xpub, "right", "new").unwrap();
    assert!(w.export_mnemonic(&info.xpub, "right").is_err());
    assert_eq!(w.export_mnemonic(&info.xpub, "new").unwrap(), mnemonic);
    // Reopening finds the key with its new password.
    drop(w);
    let w = Wallet::open(&dir, Profile::Side, Network::Devnet, KdfParams::FAST_INSECURE).unwrap();
    assert_eq!(w.export_mnemonic(&info.xpub, "new").unwrap(), mnemonic);
    w.delete_key(&info.xpub, "new").unwrap();
    assert!(w.list_keys().is_empty());
    assert!(!std::path::Path::new(&info.file).exists());
    assert!(matches!(
        w.delete_key(&info.xpub, "new"),
        Err(WalletError::KeyNotFound { .. })
    ));
}

#[test]
fn tampered_or_swapped_key_files_fail_to_decrypt() {
    let (w, dir) = open("tamper", Profile::Side);
    let (a, _) = w.create_key("a", "pw").unwrap();
    let (b, _) = w.create_key("b", "pw").unwrap();
    let mut fa: Value = serde_json::from_slice(&std::fs::read(&a.file).unwrap()).unwrap();
    let fb: Value = serde_json::from_slice(&std::fs::read(&b.file).unwrap()).unwrap();
    // Flip one ciphertext nibble.
    let ct = fa["cipher"]["ciphertext"].as_str().unwrap().to_string();
    let flipped = format!("{}{}", if ct.starts_with('0') { "1" } else { "0" }, &ct[1..]);
    fa["cipher"]["ciphertext"] = Value::String(flipped);
    std::fs::write(&a.file, serde_json::to_vec(&fa).unwrap()).unwrap();
    assert!(matches!(
        w.export_mnemonic(&a.xpub, "pw"),
        Err(WalletError::WrongPassword { .. })
    ));
    // Put b's ciphertext (and salt, nonce) into a's file: the associated data no longer matches.
    fa["cipher"] = fb["cipher"].clone();
    fa["kdf"] = fb["kdf"].clone();
    std::fs::write(&a.file, serde_json::to_vec(&fa).unwrap()).unwrap();
    assert!(matches!(
        w.export_mnemonic(&a.xpub, "pw"),
        Err(WalletError::WrongPassword { .. })
    ));
    // Renaming the alias in b's file breaks it as well.
    let mut fb2 = fb.clone();
    fb2["alias"] = Value::String("mallory".into());
    std::fs::write(&b.file, serde_json::to_vec(&fb2).unwrap()).unwrap();
    drop(w);
    let w = Wallet::open(&dir, Profile::Side, Network::Devnet, KdfParams::FAST_INSECURE).unwrap();
    assert!(matches!(
        w.export_mnemonic(&b.xpub, "pw"),
        Err(WalletError::WrongPassword { .. })
    ));
}

#[test]
fn secrets_stay_out_of_debug_and_files() {
    let (w, _dir) = open("debug", Profile::Side);
    let (info, mnemonic) = w.create_key("k", "hunter2-password").unwrap();
    assert!(std::path::Path::new(&info.file).is_absolute());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&info.file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let file = std::fs::read_to_string(&info.file).unwrap();
    let first_word = mnemonic.split(' ').next().unwrap();
    assert!(!file.contains("hunter2"));
    assert!(!file.contains(mnemonic.as_str()));
    let dbg = format!("{w:?} {info:?} {:?}", w.list_keys());
    assert!(!dbg.contains("hunter2") && !dbg.contains(mnemonic.as_str()));
    let err = w.export_mnemonic(&info.xpub, "nope").unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("nope") && !shown.contains(first_word) || first_word.len() < 4);
}

/// Rebuilds the reference's accounts (same keys, same creation order) and checks every program
/// and address the nodes reported.
fn check_chain(chain: &str, profile: Profile) {
    let f = fixture();
    let c = &f[chain];
    let (w, _dir) = open(chain, profile);
    // The reference's accounts, in the order of their creation (key_index follows creation per key set).
    let mut accounts: Vec<&Value> = c["accounts"].as_array().unwrap().iter().collect();
    accounts.sort_by_key(|a| a["key_index"].as_u64().unwrap());
    let mut ids = std::collections::BTreeMap::new();
    for a in &accounts {
        let xpubs: Vec<XPub> = a["xpubs"].as_array().unwrap().iter().map(xpub).collect();
        let ours = w
            .create_account(
                &xpubs,
                a["quorum"].as_u64().unwrap(),
                a["alias"].as_str().unwrap(),
            )
            .unwrap();
        assert_eq!(
            ours.key_index,
            a["key_index"].as_u64().unwrap(),
            "{chain} {}",
            a["alias"]
        );
        assert_eq!(ours.derive_rule, 1);
        assert_eq!(serde_json::to_value(&ours.xpubs).unwrap(), a["xpubs"]);
        ids.insert(a["id"].as_str().unwrap().to_string(), ours);
    }
    // list-addresses: every (change, index) the node derived.
    let mut checked = 0;
    for (alias, list) in c["list_addresses"].as_object().unwrap() {
        let list = list.as_array().unwrap();
        let max = |change: bool| {
            list.iter()
                .filter(|e| e["change"].as_bool() == Some(change))
                .map(|e| e["key_index"].as_u64().unwrap())
                .max()
                .unwrap_or(0)
        };
        w.derive_addresses(alias, false, max(false)).unwrap();
        w.derive_addresses(alias, true, max(true)).unwrap();
        let ours = w.list_addresses(Some(alias), 0, 0).unwrap();
        for e in list {
            let mine = ours
                .iter()
                .find(|o| {
                    o.change == e["change"].as_bool().unwrap()
                        && o.key_index == e["key_index"].as_u64().unwrap()
                })
                .unwrap();
            assert_eq!(mine.address, e["address"].as_str().unwrap(), "{chain} {alias}");
            assert_eq!(
                hex::encode(&mine.control_program),
                e["control_program"].as_str().unwrap()
            );
            assert_eq!(mine.account_alias, *alias);
            assert_eq!(mine.account_id, ids[e["account_id"].as_str().unwrap()].id);
            checked += 1;
        }
    }
    assert!(checked >= 10, "{chain}: {checked}");
    // validate-address as the node answered (ours now hold the same programs).
    for (addr, ans) in c["validate_address"].as_object().unwrap() {
        let v = w.validate_address(addr);
        assert_eq!(serde_json::to_value(v).unwrap(), *ans, "{chain} {addr}");
    }
}

#[test]
fn vapor_accounts_programs_and_addresses_match_the_reference() {
    check_chain("vapor", Profile::Side);
}

#[test]
fn bytom_accounts_programs_and_addresses_match_the_reference() {
    check_chain("bytom", Profile::Main);
}

#[test]
fn receivers_follow_the_reference_sequence() {
    let f = fixture();
    let v = &f["vapor"];
    let (w, _dir) = open("receivers", Profile::Side);
    for a in v["accounts"].as_array().unwrap() {
        let xpubs: Vec<XPub> = a["xpubs"].as_array().unwrap().iter().map(xpub).collect();
        w.create_account(
            &xpubs,
            a["quorum"].as_u64().unwrap(),
            a["alias"].as_str().unwrap(),
        )
        .unwrap();
    }
    // The node's first account in its listing (bob) got address 1 as the mining address when mining
    // was switched on (`GetCoinbaseCtrlProgram`), so bob's receivers are addresses 2 and 3.
    let mining = w.create_receiver("bob").unwrap();
    assert_eq!(w.list_addresses(Some("bob"), 0, 1).unwrap()[0].key_index, 1);
    assert_eq!(
        hex::encode(&mining.control_program),
        v["list_addresses"]["bob"][0]["control_program"].as_str().unwrap()
    );
    for (alias, list) in v["receivers"].as_object().unwrap() {
        for r in list.as_array().unwrap() {
            let got = w.create_receiver(alias).unwrap();
            assert_eq!(serde_json::to_value(&got).unwrap(), *r, "{alias}");
        }
    }
}

#[test]
fn list_pubkeys_vector_matches_chainkd() {
    let f = fixture();
    for chain in ["vapor", "bytom"] {
        for (alias, p) in f[chain]["list_pubkeys"].as_object().unwrap() {
            let root = xpub(&p["root_xpub"]);
            for info in p["pubkey_infos"].as_array().unwrap() {
                let path: Vec<Vec<u8>> = info["derivation_path"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|s| hex::decode(s.as_str().unwrap()).unwrap())
                    .collect();
                assert_eq!(
                    hex::encode(root.derive(&path).unwrap().public_key()),
                    info["pubkey"].as_str().unwrap(),
                    "{chain} {alias}"
                );
            }
        }
    }
}

#[test]
fn account_rules() {
    let (w, dir) = open("rules", Profile::Side);
    let f = fixture();
    let keys: Vec<XPub> = f["vapor"]["create_key"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| xpub(&k["xpub"]))
        .collect();
    assert!(matches!(w.create_account(&[], 1, "a"), Err(WalletError::NoXPubs)));
    assert_eq!(
        w.create_account(&keys[..2], 3, "a").unwrap_err().reference_code(),
        "BTM200"
    );
    assert_eq!(
        w.create_account(&keys[..2], 0, "a").unwrap_err().reference_code(),
        "BTM200"
    );
    assert_eq!(
        w.create_account(&[keys[0], keys[0]], 1, "a")
            .unwrap_err()
            .reference_code(),
        "BTM203"
    );
    let a1 = w.create_account(&keys[..2], 2, "Two").unwrap();
    assert_eq!((a1.alias.as_str(), a1.key_index), ("two", 1));
    // The same keys in another order share the counter.
    let a2 = w.create_account(&[keys[1], keys[0]], 1, "two-b").unwrap();
    assert_eq!(a2.key_index, 2);
    assert!(matches!(
        w.create_account(&keys[..1], 1, " TWO "),
        Err(WalletError::DuplicateAccountAlias { .. })
    ));
    // Lookup by id or alias; delete drops the account and its programs.
    let r = w.create_receiver("two").unwrap();
    assert!(w.validate_address(&r.address).is_local);
    assert_eq!(w.list_accounts(Some(&a1.id)).unwrap(), vec![a1.clone()]);
    assert_eq!(w.list_accounts(None).unwrap().len(), 2);
    drop(w);
    // Everything survives a reopen.
    let w = Wallet::open(&dir, Profile::Side, Network::Devnet, KdfParams::FAST_INSECURE).unwrap();
    assert_eq!(w.list_accounts(Some("two")).unwrap(), vec![a1.clone()]);
    assert_eq!(w.create_receiver("two").unwrap().address, {
        let all = w.list_addresses(Some("two"), 0, 0).unwrap();
        all.last().unwrap().address.clone()
    });
    w.delete_account("two").unwrap();
    assert!(matches!(
        w.list_accounts(Some("two")),
        Err(WalletError::AccountNotFound(_))
    ));
    assert_eq!(
        WalletError::AccountNotFound("x".into()).reference_code(),
        "BTM705"
    );
    let v = w.validate_address(&r.address);
    assert!(v.valid && !v.is_local);
    assert!(!w.validate_address("sp1qnotanaddress").valid);
    // A main-chain address is not valid on the side chain.
    assert!(
        !w.validate_address("sn1qcshq68cwpszrzkj4gyhg85uh9ue50a2ncm63df5mamyu6h8a4q4sgvuggq")
            .valid
    );
    // Paging.
    let all = w.list_addresses(None, 0, 0).unwrap();
    assert_eq!(
        w.list_addresses(None, 0, 1).unwrap(),
        all[..1.min(all.len())].to_vec()
    );
}

#[test]
fn wallet_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Wallet>();
}

#[test]
fn hostile_kdf_parameters_in_a_key_file_are_refused_before_any_work() {
    let (w, dir) = open("hostile", Profile::Side);
    let (info, _) = w.create_key("k", "pw").unwrap();
    let mut f: Value = serde_json::from_slice(&std::fs::read(&info.file).unwrap()).unwrap();
    // 1 TiB of memory and a billion passes: must fail at once, not try.
    f["kdf"]["m_cost_kib"] = serde_json::json!(1u64 << 30);
    f["kdf"]["t_cost"] = serde_json::json!(1_000_000_000u64);
    std::fs::write(&info.file, serde_json::to_vec(&f).unwrap()).unwrap();
    let started = std::time::Instant::now();
    assert!(w.export_mnemonic(&info.xpub, "pw").is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // A reopened wallet does not list it, and a garbage file next to it is ignored.
    std::fs::write(dir.join("keys").join("junk.json"), b"{not json").unwrap();
    drop(w);
    let w = Wallet::open(&dir, Profile::Side, Network::Devnet, KdfParams::FAST_INSECURE).unwrap();
    assert!(w.list_keys().is_empty());
}

#[test]
fn concurrent_key_creation_keeps_aliases_unique() {
    let (w, _dir) = open("concurrent", Profile::Side);
    let w = std::sync::Arc::new(w);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let w = std::sync::Arc::clone(&w);
            std::thread::spawn(move || w.create_key("same", "pw").is_ok())
        })
        .collect();
    let ok = handles
        .into_iter()
        .map(|h| h.join().unwrap())
        .filter(|ok| *ok)
        .count();
    assert_eq!(ok, 1);
    assert_eq!(w.list_keys().len(), 1);
}

#[test]
fn list_pubkeys_and_check_password_answer_as_the_node() {
    let f = fixture();
    let v = &f["vapor"];
    let (w, _dir) = open("pubkeys", Profile::Side);
    for a in v["accounts"].as_array().unwrap() {
        let xpubs: Vec<XPub> = a["xpubs"].as_array().unwrap().iter().map(xpub).collect();
        w.create_account(
            &xpubs,
            a["quorum"].as_u64().unwrap(),
            a["alias"].as_str().unwrap(),
        )
        .unwrap();
    }
    for (alias, list) in v["list_addresses"].as_object().unwrap() {
        for change in [false, true] {
            let max = list
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["change"].as_bool() == Some(change))
                .map(|e| e["key_index"].as_u64().unwrap())
                .max()
                .unwrap_or(0);
            w.derive_addresses(alias, change, max).unwrap();
        }
    }
    for (alias, want) in v["list_pubkeys"].as_object().unwrap() {
        let got = w.list_pubkeys(alias, None).unwrap();
        assert_eq!(serde_json::to_value(&got).unwrap(), *want, "{alias}");
        let one = want["pubkey_infos"][0]["pubkey"].as_str().unwrap();
        assert_eq!(w.list_pubkeys(alias, Some(one)).unwrap().pubkey_infos.len(), 1);
    }
    assert!(matches!(
        w.list_pubkeys("alice", Some("00")),
        Err(WalletError::PublicKeyNotFound(_))
    ));
    let (info, _) = w.create_key("k", "pw").unwrap();
    assert!(w.check_key_password(&info.xpub, "pw").unwrap());
    assert!(!w.check_key_password(&info.xpub, "no").unwrap());
    let other = xpub(&v["create_key"][0]["xpub"]);
    assert!(matches!(
        w.check_key_password(&other, "pw"),
        Err(WalletError::KeyNotFound { .. })
    ));
}

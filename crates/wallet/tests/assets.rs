//! The asset registry against a real Bytom v1.1.0 node's answers (`bytom_assets.json`: the
//! `create-asset` request and the node's `create-asset`, `get-asset` and `list-assets` answers), and the
//! checks of `create-asset` (class declarations, aliases, signers).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::TempDir;

use std::path::PathBuf;

use serde_json::{Value, json};
use types::{AssetId, Network, Profile};
use wallet::{CreateAssetRequest, KdfParams, Wallet, WalletError};

fn load(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tributary/tests/fixtures/reference")
        .join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn tmp(name: &str) -> TempDir {
    TempDir::new(name)
}

fn wallet(name: &str, profile: Profile) -> (Wallet, TempDir) {
    let dir = tmp(name);
    let w = Wallet::open(&dir, profile, Network::Devnet, KdfParams::FAST_INSECURE).unwrap();
    (w, dir)
}

fn request(v: Value) -> CreateAssetRequest {
    serde_json::from_value(v).unwrap()
}

#[test]
fn create_get_and_list_assets_answer_as_the_reference_node() {
    let fx = load("bytom_assets.json");
    let (w, dir) = wallet("assets-ref", Profile::Main);
    let created = w
        .create_asset(&request(fx["create_asset_request"].clone()))
        .unwrap();
    assert_eq!(serde_json::to_value(&created).unwrap(), fx["create_asset"]);
    let id = created.id;
    assert_eq!(
        serde_json::to_value(w.get_asset(&id).unwrap()).unwrap(),
        fx["get_asset"]
    );
    assert_eq!(
        serde_json::to_value(w.list_assets(None).unwrap()).unwrap(),
        fx["list_assets"]
    );
    // With an ID: that asset alone; BTM alone; an unknown ID: nothing.
    assert_eq!(
        serde_json::to_value(w.list_assets(Some(&id)).unwrap()).unwrap(),
        json!([fx["get_asset"]])
    );
    assert_eq!(
        serde_json::to_value(w.list_assets(Some(&AssetId::BTM)).unwrap()).unwrap(),
        json!([fx["list_assets"][0]])
    );
    assert!(w.list_assets(Some(&AssetId([7; 32]))).unwrap().is_empty());
    // By alias, any case.
    assert_eq!(w.find_asset("tribx").unwrap().id, id);
    // Persisted: a reopened wallet answers the same.
    drop(w);
    let w = Wallet::open(&dir, Profile::Main, Network::Devnet, KdfParams::FAST_INSECURE).unwrap();
    assert_eq!(
        serde_json::to_value(w.list_assets(None).unwrap()).unwrap(),
        fx["list_assets"]
    );
    // The next asset of the wallet takes the next key index.
    let mut next = fx["create_asset_request"].clone();
    next["alias"] = json!("second");
    let second = w.create_asset(&request(next)).unwrap();
    assert_eq!(second.key_index, 2);
    assert_eq!(second.alias, "SECOND");
    assert_ne!(second.id, id);
    assert_ne!(second.issue_program, created.issue_program);
}

#[test]
fn the_definition_chooses_the_class() {
    let fx = load("bytom_assets.json");
    let xpub = fx["create_asset_request"]["root_xpubs"][0].clone();
    let (w, _dir) = wallet("assets-class", Profile::Side);
    let mk = |alias: &str, def: Value| {
        request(json!({"alias": alias, "root_xpubs": [xpub], "quorum": 1, "definition": def}))
    };
    for (alias, def, code) in [
        ("bit", json!({"name": "points"}), "BAP-01"),
        ("bit2", json!({"bap": "BAP-01"}), "BAP-01"),
        ("atomic", json!({"bap": "BAP-02"}), "BAP-02"),
        ("quark", json!({"bap": "BAP-03", "name": "sword #1"}), "BAP-03"),
        ("quantum", json!({"bap": "BAP-04", "decimals": 2}), "BAP-04"),
        ("nested", json!({"meta": {"bap": "nonsense"}}), "BAP-01"),
    ] {
        let a = w.create_asset(&mk(alias, def)).unwrap();
        assert_eq!(a.class().unwrap().code(), code, "{alias}");
    }
    assert_eq!(w.find_asset("quantum").unwrap().class().unwrap().unit(), 100);
    let before = serde_json::to_value(w.list_assets(None).unwrap()).unwrap();
    for def in [
        json!({"bap": "BAP-05"}),
        json!({"bap": "bap-02"}),
        json!({"bap": 2}),
        json!({"bap": "BAP-04", "decimals": 19}),
        json!({"bap": "BAP-04", "decimals": 1.5}),
        json!({"bap": null}),
    ] {
        let e = w.create_asset(&mk("bad", def.clone())).unwrap_err();
        assert!(
            matches!(e, WalletError::BadAssetDefinition { .. }),
            "{def}: {e:?}"
        );
        assert!(e.is_client_error());
    }
    // Bad aliases and signers.
    for (req, what) in [
        (mk("", json!({})), "empty alias"),
        (mk("  btm ", json!({})), "BTM"),
        (mk("ATOMIC", json!({})), "duplicate"),
        (
            request(json!({"alias": "x", "root_xpubs": [], "quorum": 1})),
            "no keys",
        ),
        (
            request(json!({"alias": "x", "root_xpubs": [xpub], "quorum": 2})),
            "quorum",
        ),
        (
            request(json!({"alias": "x", "root_xpubs": [xpub, xpub], "quorum": 1})),
            "dup key",
        ),
        (
            request(json!({"alias": "x", "root_xpubs": [xpub], "quorum": 1, "limit_height": -1})),
            "negative limit",
        ),
    ] {
        let e = w.create_asset(&req).unwrap_err();
        assert!(e.is_client_error(), "{what}: {e:?}");
    }
    // Nothing changed, and a quark cannot be issued on a sidechain.
    assert_eq!(
        serde_json::to_value(w.list_assets(None).unwrap()).unwrap(),
        before
    );
    let e = w
        .build(
            &serde_json::from_value(json!({"actions": [
                {"type": "issue", "asset_alias": "quark", "amount": 1},
                {"type": "control_program", "control_program": "0014", "asset_id": AssetId::BTM.to_hex(), "amount": 1}
            ]}))
            .unwrap(),
            0,
        )
        .unwrap_err();
    assert!(matches!(e, WalletError::BadAction { index: 0, .. }), "{e:?}");
}

#[test]
fn a_limit_height_and_a_callers_program_are_kept() {
    let fx = load("bytom_assets.json");
    let xpub = fx["create_asset_request"]["root_xpubs"][0].clone();
    let (w, _dir) = wallet("assets-limit", Profile::Main);
    let a = w
        .create_asset(&request(
            json!({"alias": "limited", "root_xpubs": [xpub], "quorum": 1, "limit_height": 500}),
        ))
        .unwrap();
    assert_eq!(a.limit_height, 500);
    let custom = w
        .create_asset(&request(
            json!({"alias": "custom", "issuance_program": "51", "definition": {"name": "c"}}),
        ))
        .unwrap();
    assert_eq!(custom.issue_program, vec![0x51]);
    assert_eq!(custom.xpubs, None);
    assert_eq!(custom.signer_type, "");
    assert_eq!(
        custom.id,
        AssetId::from_definition(&[0x51], 1, &custom.raw_definition_byte)
    );
}

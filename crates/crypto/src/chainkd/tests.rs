//! Vectors from Bytom v1.1.0 `crypto/ed25519/chainkd/chainkd_test.go` (identical in Vapor), plus
//! behaviour checks ported from the same file's `TestChildKeys` and `TestBits`.

use super::path::*;
use super::*;

fn n(xprv: &XPrv, sel: &[u8]) -> XPrv {
    xprv.child(sel, false).unwrap()
}

fn h(xprv: &XPrv, sel: &[u8]) -> XPrv {
    xprv.child(sel, true).unwrap()
}

fn check_prv(label: &str, got: &XPrv, want: &str) {
    assert_eq!(got.expose_hex().as_str(), want, "{label}.xprv");
}

fn check_pub(label: &str, got: &XPub, want: &str) {
    assert_eq!(got.to_hex(), want, "{label}.xpub");
}

/// chainkd_test.go `TestVectors1`.
#[test]
fn vectors_1() {
    let root = XPrv::root(&[1, 2, 3]);
    let sel: &[u8] = &[1, 2, 3];
    check_prv(
        "Root(010203)",
        &root,
        "50f8c532ce6f088de65c2c1fbc27b491509373fab356eba300dfa7cc587b07483bc9e0d93228549c6888d3f68ad664b92c38f5ea8ca07181c1410949c02d3146",
    );
    check_pub(
        "Root(010203)",
        &root.xpub(),
        "e11f321ffef364d01c2df2389e61091b15dab2e8eee87cb4c053fa65ed2812993bc9e0d93228549c6888d3f68ad664b92c38f5ea8ca07181c1410949c02d3146",
    );

    let c = h(&root, sel);
    check_prv(
        "/010203(H)",
        &c,
        "6023c8e7633a9353a59bd930ea6dc397e400b1088b86b4a15d8de8567554df5574274bc1a0bd93b4494cb68e45c5ec5aefc1eed4d0c3bfd53b0b4e679ce52028",
    );
    check_pub(
        "/010203(H)",
        &c.xpub(),
        "eabebab4184c63f8df07efe31fb588a0ae222318087458b4936bf0b0feab015074274bc1a0bd93b4494cb68e45c5ec5aefc1eed4d0c3bfd53b0b4e679ce52028",
    );

    let c = n(&root, sel);
    let want = "c0bbd87142e7bf90abfbb3d0cccc210c6d7eb3f912c35f205302c86ae9ef6eefb0faca523928f42e685ee6deb0cb3d41a09617783c87e9a161a04f2207ad4d2f";
    check_prv(
        "/010203(N)",
        &c,
        "705afd25a0e242b7333105d77cbb0ec15e667154916bbed5084c355dba7b0748b0faca523928f42e685ee6deb0cb3d41a09617783c87e9a161a04f2207ad4d2f",
    );
    check_pub("/010203(N)", &c.xpub(), want);
    check_pub("/010203(N) from xpub", &root.xpub().child(sel).unwrap(), want);

    let c = n(&h(&root, sel), &[]);
    let want = "4e44c9ab8a45b9d1c3daab5c09d73b01209220ea704808f04feaa3614c7c7ba760e3aa7fb600f61a84317a981dc9d1f7e8df2e8a3f8b544a21d2404e0b4e480a";
    check_prv(
        "/010203(H)/\"\"(N)",
        &c,
        "7023f9877813348ca8e67b29d551baf98a43cfb76cdff538f3ff97074a55df5560e3aa7fb600f61a84317a981dc9d1f7e8df2e8a3f8b544a21d2404e0b4e480a",
    );
    check_pub("/010203(H)/\"\"(N)", &c.xpub(), want);
    check_pub(
        "/010203(H)/\"\"(N) from xpub",
        &h(&root, sel).xpub().child(&[]).unwrap(),
        want,
    );

    let c = h(&n(&root, sel), &[]);
    check_prv(
        "/010203(N)/\"\"(H)",
        &c,
        "90b60b007e866dacc4b1f844089a805ffd78a295f5b0544034116ace354c58523410b1e6a3c557ca90c322f6ff4b5e547242965eaed8c34767765f0e05ed0e4f",
    );
    check_pub(
        "/010203(N)/\"\"(H)",
        &c.xpub(),
        "ca97ec34ef30aa08ebd19b9848b11ebadf9c0ad3a0be6b11d33d9558573aca633410b1e6a3c557ca90c322f6ff4b5e547242965eaed8c34767765f0e05ed0e4f",
    );

    let want_prv = "d81ba3ab554a7d09bfd8bda5089363399b7f4b19d4f1806ca0c35feabf7b074856648f55e21bec3aa5df0bce0236aea88a4cc5c395c896df63676f095154bb7b";
    let want_pub = "28279bcb06aee9e5c0302f4e1db879ac7f5444ec07266a736dd571c21961427b56648f55e21bec3aa5df0bce0236aea88a4cc5c395c896df63676f095154bb7b";
    let c = n(&n(&root, sel), &[]);
    check_prv("/010203(N)/\"\"(N)", &c, want_prv);
    check_pub("/010203(N)/\"\"(N)", &c.xpub(), want_pub);
    check_pub(
        "/010203(N)/\"\"(N) from xpub",
        &root.xpub().child(sel).unwrap().child(&[]).unwrap(),
        want_pub,
    );
    let path: [&[u8]; 2] = [sel, &[]];
    check_prv("Derive(010203, \"\")", &root.derive(&path).unwrap(), want_prv);
    check_pub(
        "Derive(010203, \"\")",
        &root.derive(&path).unwrap().xpub(),
        want_pub,
    );
    check_pub(
        "XPub.Derive(010203, \"\")",
        &root.xpub().derive(&path).unwrap(),
        want_pub,
    );
}

/// chainkd_test.go `TestVectors2`.
#[test]
fn vectors_2() {
    let seed = hex::decode("fffcf9f6f3f0edeae7e4e1dedbd8d5d2cfccc9c6c3c0bdbab7b4b1aeaba8a5a29f9c999693908d8a8784817e7b7875726f6c696663605d5a5754514e4b484542").unwrap();
    let root = XPrv::root(&seed);
    check_prv(
        "Root(fffcf9...)",
        &root,
        "0031615bdf7906a19360f08029354d12eaaedc9046806aefd672e3b93b024e495a95ba63cf47903eb742cd1843a5252118f24c0c496e9213bd42de70f649a798",
    );
    check_pub(
        "Root(fffcf9...)",
        &root.xpub(),
        "f153ef65bbfaec3c8fd4fceb0510529048094093cf7c14970013282973e117545a95ba63cf47903eb742cd1843a5252118f24c0c496e9213bd42de70f649a798",
    );

    let c1 = n(&root, &[0]);
    let want = "f48b7e641d119b8ddeaf97aca104ee6e6a780ab550d40534005443550ef7e7d8e8cc52d8e74c5dfd75b0b326c8c97ca7397b7f954ad0b655b8848bfac666f09f";
    check_prv(
        "/0(N)",
        &c1,
        "883e65e6e86499bdd170c14d67e62359dd020dd63056a75ff75983a682024e49e8cc52d8e74c5dfd75b0b326c8c97ca7397b7f954ad0b655b8848bfac666f09f",
    );
    check_pub("/0(N)", &c1.xpub(), want);
    check_pub("/0(N) from xpub", &root.xpub().child(&[0]).unwrap(), want);

    let c2 = h(&c1, &[0xff, 0xff, 0xff, 0x7f]);
    check_prv(
        "/0(N)/2147483647(H)",
        &c2,
        "5048fa4498bf65e2b10d26e6c99cc43556ecfebf8b9fddf8bd2150ba29d63154044ef557a3aa4cb6ae8b61e87cb977a929bc4a170e4faafc2661231f5f3f78e8",
    );
    check_pub(
        "/0(N)/2147483647(H)",
        &c2.xpub(),
        "a8555c5ee5054ad03c6c6661968d66768fa081103bf576ea63a26c00ca7eab69044ef557a3aa4cb6ae8b61e87cb977a929bc4a170e4faafc2661231f5f3f78e8",
    );

    let c3 = n(&c2, &[1]);
    let want = "7385ab0b06eacc226c8035bab1ff9bc6972c7700d1caede26fe2b4d57b208bd0174c386ad6ae01e54acd7bb422243c6055058f4231e250050134283a76de8eff";
    check_prv(
        "/0(N)/2147483647(H)/1(N)",
        &c3,
        "480f6aa25f7c9f4a569896f06614303a697f00ee8d240c6277605d44e0d63154174c386ad6ae01e54acd7bb422243c6055058f4231e250050134283a76de8eff",
    );
    check_pub("/0(N)/2147483647(H)/1(N)", &c3.xpub(), want);
    check_pub(
        "/0(N)/2147483647(H)/1(N) from xpub",
        &c2.xpub().child(&[1]).unwrap(),
        want,
    );

    let c4 = h(&c3, &[0xfe, 0xff, 0xff, 0x7f]);
    check_prv(
        "/.../2147483646(H)",
        &c4,
        "386014c6dfeb8dadf62f0e5acacfbf7965d5746c8b9011df155a31df7be0fb59986c923d979d89310acd82171dbaa7b73b20b2033ac6819d7f309212ff3fbabd",
    );
    check_pub(
        "/.../2147483646(H)",
        &c4.xpub(),
        "9f66aa8019427a825dd72a13ce982454d99f221c8d4874db59f52c2945cbcabd986c923d979d89310acd82171dbaa7b73b20b2033ac6819d7f309212ff3fbabd",
    );

    let c5 = n(&c4, &[2]);
    let want = "67388f59a7b62644c3c6148575770e56969d77244530263bc9659b8563d7ff81ef9d0a352f3252ea673e8b6bd31ac97218e019e845bdc545c268cd52f7af3f5d";
    check_prv(
        "/.../2(N)",
        &c5,
        "08c3772f5c0eee42f40d00f4faff9e4c84e5db3c4e7f28ecb446945a1de1fb59ef9d0a352f3252ea673e8b6bd31ac97218e019e845bdc545c268cd52f7af3f5d",
    );
    check_pub("/.../2(N)", &c5.xpub(), want);
    check_pub("/.../2(N) from xpub", &c4.xpub().child(&[2]).unwrap(), want);
}

/// chainkd_test.go `TestExpandedPrivateKey`.
#[test]
fn expanded_private_key_vectors() {
    let root = XPrv::root(&[0xca, 0xfe]);
    check_prv(
        "Root(cafe)",
        &root,
        "a0cde08fd2ea06e16dd5d21e64ca0609fa1d719b79fed4245a5b8ada0242464cebbc2b9e1e989aca72d9766efd9b63ebcfc968027ef27cb786babb7897f9248a",
    );
    assert_eq!(
        hex::encode(root.expanded_private_key().expose_secret_bytes()),
        "a0cde08fd2ea06e16dd5d21e64ca0609fa1d719b79fed4245a5b8ada0242464c1437c8234e21e43eb9c79df0ce370dc82d4c7a952ef317e716b0762146bb61a0"
    );
    let child = n(&root, &[0xbe, 0xef]);
    check_prv(
        "Root(cafe)/beef",
        &child,
        "684df1aa25e0425c48c76392f42abc87a359ef2a2328ad31e53318128242464cf85916f4261b03f71afa64ad4bc2be4f335f15e433e815b45bbd15fcc7d1a864",
    );
    assert_eq!(
        hex::encode(child.expanded_private_key().expose_secret_bytes()),
        "684df1aa25e0425c48c76392f42abc87a359ef2a2328ad31e53318128242464c0abdda57709eff7e9c60e0d4199065a6941122566c0a30ffa3ce0449d0582278"
    );
}

/// RFC 8032 §7.1 TEST 1 and TEST 3: signing from the expanded form of a standard seed gives the
/// RFC signature (the invariant of expanded_key_test.go `TestInnerSignInvariant`, checked against
/// published vectors rather than against another implementation).
#[test]
fn expanded_key_signing_matches_rfc8032() {
    let cases = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
    ];
    for (seed, public, msg, sig) in cases {
        let seed: [u8; 32] = hex::decode(seed).unwrap().try_into().unwrap();
        let key = ExpandedPrivateKey::from_ed25519_seed(&seed);
        assert_eq!(hex::encode(key.public_key()), public);
        let msg = hex::decode(msg).unwrap();
        let got = key.sign(&msg);
        assert_eq!(hex::encode(got), sig);
        assert!(crate::ed25519::verify(&key.public_key(), &msg, &got));
    }
}

/// expanded_key_test.go `TestInnerSignVerify`: the all-zero seed (Go's `GenerateKey(zeroReader)`)
/// signs "test message"; the signature verifies and does not verify another message.
#[test]
fn inner_sign_verify_zero_seed() {
    let key = ExpandedPrivateKey::from_ed25519_seed(&[0u8; 32]);
    let sig = key.sign(b"test message");
    assert!(crate::ed25519::verify(&key.public_key(), b"test message", &sig));
    assert!(!crate::ed25519::verify(&key.public_key(), b"wrong message", &sig));
    // RFC 8032 public key of the all-zero seed.
    assert_eq!(
        hex::encode(key.public_key()),
        "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"
    );
}

/// Mirrors chainkd_test.go `doverify`: the signature verifies, and flipping any bit of the key,
/// every 7th message byte or any bit of the signature makes it fail.
fn check_verify(xpub: &XPub, msg: &[u8], sig: &[u8; 64]) {
    assert!(xpub.verify(msg, sig));
    let mut bytes = *xpub.as_bytes();
    for i in 0..32 {
        for bit in 0..8 {
            bytes[i] ^= 1 << bit;
            assert!(
                !XPub::from_bytes(bytes).verify(msg, sig),
                "altered xpub byte {i} bit {bit}"
            );
            bytes[i] ^= 1 << bit;
        }
    }
    let mut m = msg.to_vec();
    for i in (0..m.len()).step_by(7) {
        for bit in 0..8 {
            m[i] ^= 1 << bit;
            assert!(!xpub.verify(&m, sig), "altered msg byte {i} bit {bit}");
            m[i] ^= 1 << bit;
        }
    }
    let mut s = *sig;
    for i in 0..64 {
        for bit in 0..8 {
            s[i] ^= 1 << bit;
            assert!(!xpub.verify(msg, &s), "altered sig byte {i} bit {bit}");
            s[i] ^= 1 << bit;
        }
    }
}

/// chainkd_test.go `TestChildKeys` (with a fixed seed instead of crypto/rand).
#[test]
fn child_keys_sign_and_verify() {
    let root = XPrv::root(b"TestChildKeys");
    let root_pub = root.xpub();
    let msg = b"In the face of ignorance and resistance I wrote financial systems into existence";

    check_verify(&root_pub, msg, &root.sign(msg));

    let sel = [1u8, 2, 3];
    let dprv = n(&root, &sel);
    let dpub = root_pub.child(&sel).unwrap();
    assert_eq!(dprv.xpub(), dpub);
    check_verify(&dpub, msg, &dprv.sign(msg));
    let ddprv = n(&dprv, &sel);
    check_verify(&dpub.child(&sel).unwrap(), msg, &ddprv.sign(msg));

    for i in 0..10u8 {
        let dprv = n(&root, &[i]);
        assert_ne!(dprv, root);
        let dpub = root_pub.child(&[i]).unwrap();
        assert_ne!(dpub, root_pub);
        assert!(dpub.verify(msg, &dprv.sign(msg)));
        for j in 0..10u8 {
            let ddprv = n(&dprv, &[j]);
            assert_ne!(ddprv, dprv);
            let ddpub = dpub.child(&[j]).unwrap();
            assert_ne!(ddpub, dpub);
            assert!(ddpub.verify(msg, &ddprv.sign(msg)));
        }
        let hprv = h(&root, &[i]);
        assert_ne!(hprv, root);
        assert_ne!(hprv, dprv);
        assert_ne!(hprv.xpub(), dpub);
        assert!(hprv.xpub().verify(msg, &hprv.sign(msg)));
    }
}

/// chainkd_test.go `TestBits` (256 roots × 1000 levels there; 256 × 100 here to stay quick): the
/// pruning keeps the low 3 bits clear and bit 254 set however deep the derivation goes.
#[test]
fn pruned_bits_survive_derivation() {
    for i in 0..=255u8 {
        let root = XPrv::root(&[i]);
        let b = root.expose_secret_bytes();
        assert_eq!(b[0] & 7, 0);
        assert_eq!(b[31] >> 5, 2);
        let mut x = root;
        for _ in 0..100 {
            x = n(&x, b"child");
            let b = x.expose_secret_bytes();
            assert_eq!(b[0] & 7, 0, "non-hardened low bits");
            assert_eq!(b[31] >> 6, 1, "non-hardened high bits");
            let hc = h(&x, b"hardened child");
            let hb = hc.expose_secret_bytes();
            assert_eq!(hb[0] & 7, 0, "hardened low bits");
            assert_eq!(hb[31] >> 5, 2, "hardened high bits");
        }
    }
}

/// serialize_test.go `TestMarshalingFuncs`: hex round trip; plus the reference's length rule.
#[test]
fn hex_round_trip_and_errors() {
    let xprv = XPrv::root(b"serialize");
    let hex = xprv.expose_hex();
    assert_eq!(hex.len(), 128);
    assert_eq!(XPrv::from_hex(&hex).unwrap(), xprv);
    assert_eq!(XPrv::from_hex(&hex.to_uppercase()).unwrap(), xprv);
    let xpub = xprv.xpub();
    assert_eq!(xpub.to_string().parse::<XPub>().unwrap(), xpub);
    let json = serde_json::to_string(&xpub).unwrap();
    assert_eq!(json, format!("\"{}\"", xpub.to_hex()));
    assert_eq!(serde_json::from_str::<XPub>(&json).unwrap(), xpub);
    assert!(serde_json::from_str::<XPub>("\"00\"").is_err());

    assert_eq!(
        XPub::from_hex(&hex[..126]),
        Err(ChainKdError::BadKeyStringLength {
            got: 126,
            expected: 128
        })
    );
    let mut bad = hex.to_string();
    bad.replace_range(0..1, "g");
    assert!(matches!(XPrv::from_hex(&bad), Err(ChainKdError::BadHex(_))));
    assert_eq!(
        XPub::from_slice(&[0u8; 63]),
        Err(ChainKdError::BadKeyLength {
            got: 63,
            expected: 64
        })
    );
}

/// The secret never shows in `Debug`.
#[test]
fn debug_is_redacted() {
    let xprv = XPrv::root(b"debug");
    let hex = xprv.expose_hex();
    for text in [format!("{xprv:?}"), format!("{:?}", xprv.expanded_private_key())] {
        assert!(text.contains("<redacted>"), "{text}");
        assert!(!text.contains(&hex[..16]), "{text}");
        assert!(!text.contains(&hex[64..80]), "{text}");
    }
}

/// A crafted xprv whose scalar is near 2^256 overflows non-hardened derivation: an error, where
/// the reference panics. Hardened derivation of the same key still works.
#[test]
fn non_hardened_overflow_is_an_error() {
    let xprv = XPrv::from_bytes([0xff; 64]);
    assert_eq!(xprv.child(b"x", false), Err(ChainKdError::ScalarOverflow));
    assert_eq!(xprv.derive(&[b"x"]), Err(ChainKdError::ScalarOverflow));
    assert!(xprv.child(b"x", true).is_ok());
}

/// An xpub whose point does not decode cannot have children (the reference panics here).
#[test]
fn invalid_xpub_point_is_an_error() {
    // y = 2 is not the y coordinate of any point on edwards25519.
    let mut bytes = [0u8; 64];
    bytes[0] = 2;
    let xpub = XPub::from_bytes(bytes);
    assert_eq!(xpub.child(b"x"), Err(ChainKdError::InvalidPublicKey));
    assert!(!xpub.verify(b"m", &[0u8; 64]));
}

/// Byte layout of the reference paths (Bytom/Vapor `blockchain/signers/signers.go`:
/// `BIP44Purpose`, `BTMCoinType`, `getBip0044Path`, `GetBip0032Path`, `Path`).
#[test]
fn path_layouts() {
    let p = bip44_path(7, true, 0x0102_0304);
    assert_eq!(p[0], [0x2c, 0, 0, 0]);
    assert_eq!(p[1], [0x99, 0, 0, 0]);
    assert_eq!(p[2], [7, 0, 0, 0]);
    assert_eq!(p[3], [1, 0, 0, 0]);
    assert_eq!(p[4], [4, 3, 2, 1]);
    assert_eq!(bip44_path(7, false, 0)[3], [0, 0, 0, 0]);

    let p = bip32_path(KeySpace::Account, 0x0102, &[5]);
    assert_eq!(
        p,
        vec![vec![1, 2, 1, 0, 0, 0, 0, 0, 0], vec![5, 0, 0, 0, 0, 0, 0, 0]]
    );
    assert_eq!(asset_path(3), vec![vec![0, 3, 0, 0, 0, 0, 0, 0, 0]]);

    assert_eq!(
        account_path(DeriveRule::Bip0044, 7, true, 0x0102_0304).unwrap(),
        bip44_path(7, true, 0x0102_0304)
            .iter()
            .map(|e| e.to_vec())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        account_path(DeriveRule::Bip0032, 2, true, 9).unwrap(),
        bip32_path(KeySpace::Account, 2, &[9])
    );
    assert_eq!(
        account_path(DeriveRule::Bip0044, 1 << 32, false, 0),
        Err(PathError::IndexTooLarge {
            what: "account index",
            value: 1 << 32
        })
    );
    assert_eq!(
        account_path(DeriveRule::Bip0044, 0, false, u64::MAX),
        Err(PathError::IndexTooLarge {
            what: "address index",
            value: u64::MAX
        })
    );
    assert_eq!(DeriveRule::try_from(0), Ok(DeriveRule::Bip0032));
    assert_eq!(DeriveRule::try_from(1), Ok(DeriveRule::Bip0044));
    assert_eq!(DeriveRule::try_from(2), Err(PathError::UnknownDeriveRule(2)));
    assert_eq!(DeriveRule::Bip0044.to_u8(), 1);
}

/// Vapor `config/genesis.go` `FedAddressPath` is exactly the BIP44 path of account 1, address 1.
#[test]
fn federation_path_is_bip44_account_1_address_1() {
    assert_eq!(FEDERATION_PATH, bip44_path(1, false, 1));
    assert_eq!(
        FEDERATION_PATH,
        [
            [0x2c, 0, 0, 0],
            [0x99, 0, 0, 0],
            [1, 0, 0, 0],
            [0, 0, 0, 0],
            [1, 0, 0, 0]
        ]
    );
}

/// End-to-end multi-xpub derivation against a value published by the reference: Vapor's default
/// federation (`config/config.go` `DefaultFederationConfig`, 4 xpubs, quorum 2) derived along
/// `FedAddressPath` and put in the 2-of-4 multisig program (`vmutil.P2SPMultiSigProgram`:
/// TXSIGHASH, 4 × push32 key, OP_2, OP_4, CHECKMULTISIG) must hash (SHA3-256) to the P2WSH
/// program `0020f868…` given as `federation_prog` in `docs/federation/README-en.md`.
#[test]
fn vapor_default_federation_program() {
    let xpubs: Vec<XPub> = [
        "580daf48fa8962100047cb1391da890bb7f2c849fdbc9b368cb4394a4c7cbb0977e2e7ebbf055dc0ef90af6a0d2af01ce7ec56b735d016aab597815ec48552e5",
        "f3f6bcf61b65fa9d1566455a5688ca8b395efdc22e654963134b5e5cb0a45d8be522d21abc384a73177a7b9d64eba915fcfe2862d86a508a3c46dc410bdd72ad",
        "53559612f2b7bcada18948b7de39d63947a0e2bd7336d07db1350c54ba5743996b84bf9d18ff7a2457e1a5c70ce5013e4a3b62666ddb03294c53051d5f5c70c0",
        "7c88cc58adfc71818b08308d43c29de22460b0ea6895449cbec6e458d7dc09e0aea243fa5075ee6621da0d805bd047f6bb207329c5bd2ca3253b172fb323b512",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    let derived = derive_xpubs(&xpubs, &FEDERATION_PATH).unwrap();
    let mut program = vec![0xae]; // TXSIGHASH
    for pk in xpub_keys(&derived) {
        program.push(0x20); // push 32 bytes
        program.extend_from_slice(&pk);
    }
    program.extend_from_slice(&[0x52, 0x54, 0xad]); // OP_2 OP_4 CHECKMULTISIG
    assert_eq!(
        hex::encode(crate::hash::sha3_256(&program)),
        "f86826d640810eb08a2bfb706e0092273e05e9a7d3d71f9d53f4f6cc2e3d6c6a"
    );
}

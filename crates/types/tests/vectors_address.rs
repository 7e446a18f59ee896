//! Address vectors from `common/address_test.go` (TestAddresses) of both references: Bytom v1.1.0 for the
//! main-chain prefixes, Vapor for the sidechain prefixes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use types::address::{self, AddressError, StandardProgram};
use types::{Network, Profile};

const PKH: [u8; 20] = [
    0x75, 0x1e, 0x76, 0xe8, 0x19, 0x91, 0x96, 0xd4, 0x54, 0x94, 0x1c, 0x45, 0xd1, 0xb3, 0xa3, 0x23, 0xf1,
    0x43, 0x3b, 0xd6,
];
const SH: [u8; 32] = [
    0x18, 0x63, 0x14, 0x3c, 0x14, 0xc5, 0x16, 0x68, 0x04, 0xbd, 0x19, 0x20, 0x33, 0x56, 0xda, 0x13, 0x6c,
    0x98, 0x56, 0x78, 0xcd, 0x4d, 0x27, 0xa1, 0xb8, 0xc6, 0x32, 0x96, 0x04, 0x90, 0x32, 0x62,
];
const SH2: [u8; 32] = [
    0x00, 0x00, 0x00, 0xc4, 0xa5, 0xca, 0xd4, 0x62, 0x21, 0xb2, 0xa1, 0x87, 0x90, 0x5e, 0x52, 0x66, 0x36,
    0x2b, 0x99, 0xd5, 0xe9, 0x1c, 0x6c, 0xe2, 0x4d, 0x16, 0x5d, 0xab, 0x93, 0xe8, 0x64, 0x33,
];

fn valid_cases() -> Vec<(Profile, Network, &'static str, &'static str, StandardProgram)> {
    use Network::{Mainnet, Testnet};
    use Profile::{Main, Side};
    use StandardProgram::{PubKeyHash, ScriptHash};
    vec![
        // Bytom common/address_test.go
        (
            Main,
            Mainnet,
            "BM1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7K23GYYF",
            "bm1qw508d6qejxtdg4y5r3zarvary0c5xw7k23gyyf",
            PubKeyHash(PKH),
        ),
        (
            Main,
            Mainnet,
            "bm1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qk5egtg",
            "bm1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qk5egtg",
            ScriptHash(SH),
        ),
        (
            Main,
            Testnet,
            "tm1qw508d6qejxtdg4y5r3zarvary0c5xw7kw8fqyc",
            "tm1qw508d6qejxtdg4y5r3zarvary0c5xw7kw8fqyc",
            PubKeyHash(PKH),
        ),
        (
            Main,
            Testnet,
            "tm1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qqq379v",
            "tm1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qqq379v",
            ScriptHash(SH),
        ),
        (
            Main,
            Testnet,
            "tm1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesvkesyk",
            "tm1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesvkesyk",
            ScriptHash(SH2),
        ),
        // Vapor common/address_test.go
        (
            Side,
            Mainnet,
            "VP1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KPSCEPL",
            "vp1qw508d6qejxtdg4y5r3zarvary0c5xw7kpscepl",
            PubKeyHash(PKH),
        ),
        (
            Side,
            Mainnet,
            "vp1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3ql5u263",
            "vp1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3ql5u263",
            ScriptHash(SH),
        ),
        (
            Side,
            Testnet,
            "tp1qw508d6qejxtdg4y5r3zarvary0c5xw7kvj35pt",
            "tp1qw508d6qejxtdg4y5r3zarvary0c5xw7kvj35pt",
            PubKeyHash(PKH),
        ),
        (
            Side,
            Testnet,
            "tp1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qayxglu",
            "tp1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qayxglu",
            ScriptHash(SH),
        ),
        (
            Side,
            Testnet,
            "tp1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvses3jwx7x",
            "tp1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvses3jwx7x",
            ScriptHash(SH2),
        ),
    ]
}

#[test]
fn valid_addresses() {
    for (profile, network, addr, encoded, want) in valid_cases() {
        assert_eq!(
            address::decode_address(addr, profile, network).unwrap(),
            want,
            "{addr}"
        );
        let program = want.to_program();
        assert_eq!(
            address::address_to_program(addr, profile, network).unwrap(),
            program
        );
        assert_eq!(
            address::program_to_address(&program, profile, network).unwrap(),
            encoded
        );
    }
}

#[test]
fn invalid_addresses() {
    // (profile, network, address) from the "valid: false" cases of both files.
    let cases = [
        (
            Profile::Main,
            Network::Mainnet,
            "bm1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
        ),
        (Profile::Main, Network::Mainnet, "BM1SW50QA3JX3S"),
        (
            Profile::Main,
            Network::Mainnet,
            "bm1zw508d6qejxtdg4y5r3zarvaryvg6kdaj",
        ),
        (
            Profile::Main,
            Network::Testnet,
            "tc1qw508d6qejxtdg4y5r3zarvary0c5xw7kg3g4ty",
        ),
        (
            Profile::Main,
            Network::Mainnet,
            "bm1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
        ),
        (
            Profile::Main,
            Network::Mainnet,
            "BM13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2",
        ),
        (Profile::Main, Network::Mainnet, "bm1rw5uspcuh"),
        (
            Profile::Main,
            Network::Mainnet,
            "bm10w508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kw5rljs90",
        ),
        (
            Profile::Main,
            Network::Mainnet,
            "BM1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
        ),
        (
            Profile::Main,
            Network::Testnet,
            "tm1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
        ),
        (
            Profile::Main,
            Network::Testnet,
            "tm1pw508d6qejxtdg4y5r3zarqfsj6c3",
        ),
        (
            Profile::Main,
            Network::Testnet,
            "tm1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",
        ),
        (
            Profile::Side,
            Network::Mainnet,
            "vp1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
        ),
        (Profile::Side, Network::Mainnet, "VP1SW50QA3JX3S"),
        (
            Profile::Side,
            Network::Mainnet,
            "vp1zw508d6qejxtdg4y5r3zarvaryvg6kdaj",
        ),
        (
            Profile::Side,
            Network::Mainnet,
            "vp1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",
        ),
        (
            Profile::Side,
            Network::Mainnet,
            "VP13W508D6QEJXTDG4Y5R3ZARVARY0C5XW7KN40WF2",
        ),
        (Profile::Side, Network::Mainnet, "vp1rw5uspcuh"),
        (
            Profile::Side,
            Network::Mainnet,
            "VP1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",
        ),
        (
            Profile::Side,
            Network::Testnet,
            "tp1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sL5k7",
        ),
        (
            Profile::Side,
            Network::Testnet,
            "tp1pw508d6qejxtdg4y5r3zarqfsj6c3",
        ),
        (
            Profile::Side,
            Network::Testnet,
            "tp1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3pjxtptv",
        ),
    ];
    for (profile, network, addr) in cases {
        assert!(
            address::decode_address(addr, profile, network).is_err(),
            "{addr} should be rejected"
        );
    }
}

#[test]
fn prefixes_per_network() {
    let want = [
        (Profile::Main, Network::Mainnet, "bm"),
        (Profile::Main, Network::Testnet, "tm"),
        (Profile::Main, Network::Devnet, "sm"),
        (Profile::Side, Network::Mainnet, "vp"),
        (Profile::Side, Network::Testnet, "tp"),
        (Profile::Side, Network::Devnet, "sp"),
    ];
    for (p, n, hrp) in want {
        assert_eq!(address::hrp(p, n), hrp);
    }
    assert_eq!(address::sidechain_mainchain_hrp(Network::Mainnet), "bn");
    assert_eq!(address::sidechain_mainchain_hrp(Network::Devnet), "sn");
    // A valid address of another network is refused by prefix.
    assert_eq!(
        address::decode_address(
            "tm1qw508d6qejxtdg4y5r3zarvary0c5xw7kw8fqyc",
            Profile::Main,
            Network::Mainnet
        ),
        Err(AddressError::WrongPrefix { expected: "bm" })
    );
}

// consensus/segwit/segwit.go, IsP2WPKHScript / IsP2WSHScript: two instructions, the first any opcode up
// to OP_16, the second a direct push of 20 or 32 bytes.
#[test]
fn standard_program_recognition() {
    let mut p2wpkh = vec![0x00, 0x14];
    p2wpkh.extend_from_slice(&PKH);
    let addr = address::program_to_address(&p2wpkh, Profile::Main, Network::Mainnet).unwrap();
    assert_eq!(addr, "bm1qw508d6qejxtdg4y5r3zarvary0c5xw7k23gyyf");
    // OP_1 first, or a one-byte push first: still recognised, same witness-v0 address.
    for first in [vec![0x51], vec![0x01, 0x07], vec![0x4c, 0x01, 0x07]] {
        let mut prog = first;
        prog.push(0x14);
        prog.extend_from_slice(&PKH);
        assert_eq!(
            address::program_to_address(&prog, Profile::Main, Network::Mainnet).as_deref(),
            Some(addr.as_str())
        );
    }
    // Not standard: a first opcode above OP_16, a pushdata for the hash, a wrong length, trailing bytes.
    let mut bad = vec![0x61, 0x14];
    bad.extend_from_slice(&PKH);
    assert_eq!(
        address::program_to_address(&bad, Profile::Main, Network::Mainnet),
        None
    );
    let mut bad = vec![0x00, 0x4c, 0x14];
    bad.extend_from_slice(&PKH);
    assert_eq!(StandardProgram::from_program(&bad), None);
    assert_eq!(StandardProgram::from_program(&[0x00, 0x14, 1, 2, 3]), None);
    let mut long = p2wpkh.clone();
    long.push(0);
    assert_eq!(StandardProgram::from_program(&long), None);
    assert_eq!(StandardProgram::from_program(&[]), None);
    let mut p2wsh = vec![0x00, 0x20];
    p2wsh.extend_from_slice(&SH);
    assert_eq!(
        StandardProgram::from_program(&p2wsh),
        Some(StandardProgram::ScriptHash(SH))
    );
}

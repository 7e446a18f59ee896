//! Vectors from `protocol/vm/crypto_test.go` TestCheckSig: CHECKSIG and CHECKMULTISIG on a real
//! ed25519 signature and its corruptions.

use super::*;
use crate::assemble::assemble;

const SIG: &str = "0x26ced30b1942b89ef5332a9f22f1a61e5a6a3f8a5bc33b2fc58b1daf78c81bf1d5c8add19cea050adeb37da3a7bf8f813c6a6922b42934a6441fa6bb1c7fc208";
const MSG: &str = "0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
const KEY: &str = "0xdbca6fb13badb7cfdf76510070ffad15b85f9934224a9e11202f5e8f86b584a6";

#[derive(Debug, PartialEq)]
enum Want {
    Ok,
    False,
    Error,
}

#[test]
fn check_sig() {
    let bad_sig = "0x00ced30b1942b89ef5332a9f22f1a61e5a6a3f8a5bc33b2fc58b1daf78c81bf1d5c8add19cea050adeb37da3a7bf8f813c6a6922b42934a6441fa6bb1c7fc208";
    let cases: Vec<(String, Want)> = vec![
        (format!("{SIG} {MSG} {KEY} CHECKSIG"), Want::Ok),
        // wrong-length signature
        (
            format!("{} {MSG} {KEY} CHECKSIG", &SIG[..SIG.len() - 2]),
            Want::False,
        ),
        // wrong-length message
        (
            format!("{SIG} {} {KEY} CHECKSIG", &MSG[..MSG.len() - 2]),
            Want::Error,
        ),
        // wrong-length public key
        (
            format!("{SIG} {MSG} {} CHECKSIG", &KEY[..KEY.len() - 2]),
            Want::False,
        ),
        // a wrong byte in the signature, the message, the key
        (format!("{bad_sig} {MSG} {KEY} CHECKSIG"), Want::False),
        (
            format!(
                "{SIG} 0x0002030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20 {KEY} CHECKSIG"
            ),
            Want::False,
        ),
        (
            format!(
                "{SIG} {MSG} 0x00ca6fb13badb7cfdf76510070ffad15b85f9934224a9e11202f5e8f86b584a6 CHECKSIG"
            ),
            Want::False,
        ),
        (format!("0x010203 {MSG} 0x040506 1 1 CHECKMULTISIG"), Want::False),
        (
            format!("0x010203 {} 0x040506 1 1 CHECKMULTISIG", &MSG[..MSG.len() - 2]),
            Want::Error,
        ),
        (format!("{SIG} {MSG} {KEY} 1 1 CHECKMULTISIG"), Want::Ok),
    ];
    let ctx = side_ctx();
    for (src, want) in cases {
        let prog = assemble(&src).unwrap();
        let (res, frame) = run_prog(&ctx, &prog, &[], 50000);
        let got = match res {
            Err(_) => Want::Error,
            Ok(()) if frame.false_result() => Want::False,
            Ok(()) => Want::Ok,
        };
        assert_eq!(got, want, "{src}");
    }
}

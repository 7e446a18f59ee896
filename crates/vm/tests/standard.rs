//! Standard programs: vectors from `protocol/vm/vmutil/script_test.go` and `builder_test.go`, and from
//! `consensus/segwit/segwit_test.go` (the witness-program expansion), Bytom v1.1.0 and Vapor.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;

use vm::standard::*;
use vm::{Context, Op, OutputCheck, StandardError, TxIntrospection, VmError, VmProfile, assemble, verify};

fn hx(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

const PUB1: &str = "988650ff921c82d47a953527894f792572ba63197c56e5fe79e5df0c444d6bb6";
const PUB2: &str = "7192bf4eac0789ee19c88dfa87861cf59e215820f7bdb7be02761d9ed92e6c62";
const PUB3: &str = "8bcd251d9f4e03877130b6e6f1d577eda562375f07c3cdfad8f1d541002fd1a3";
const ONE: &str = "ae20988650ff921c82d47a953527894f792572ba63197c56e5fe79e5df0c444d6bb65151ad";
const TWO: &str = "ae20988650ff921c82d47a953527894f792572ba63197c56e5fe79e5df0c444d6bb6207192bf4eac0789ee19c88dfa87861cf59e215820f7bdb7be02761d9ed92e6c625252ad";
const THREE: &str = "ae20988650ff921c82d47a953527894f792572ba63197c56e5fe79e5df0c444d6bb6207192bf4eac0789ee19c88dfa87861cf59e215820f7bdb7be02761d9ed92e6c62208bcd251d9f4e03877130b6e6f1d577eda562375f07c3cdfad8f1d541002fd1a35253ad";

/// script_test.go TestIsUnspendable.
#[test]
fn unspendable() {
    assert!(is_unspendable(&[0x6a, 0x04, 0x74, 0x65, 0x73, 0x74]));
    assert!(is_retirement(&retire_program(b"test")));
    let spendable = hx("76a9142995a0fe6843fa9b954597f0dca7a44df6fa0b5c88ac");
    assert!(!is_unspendable(&spendable));
    assert!(!is_unspendable(&[]));
    assert_eq!(retire_program(b""), vec![0x6a]);
    assert_eq!(retire_program(b"test"), vec![0x6a, 0x04, 0x74, 0x65, 0x73, 0x74]);
}

/// script_test.go TestP2SPMultiSigProgram and TestP2SPMultiSigProgramWithHeight.
#[test]
fn multisig_programs() {
    let (p1, p2, p3) = (hx(PUB1), hx(PUB2), hx(PUB3));
    let ok: Vec<(Vec<Vec<u8>>, i64, i64, String)> = vec![
        (vec![p1.clone()], 1, 0, ONE.into()),
        (vec![p1.clone(), p2.clone()], 2, 0, TWO.into()),
        (vec![p1.clone(), p2.clone(), p3.clone()], 2, 0, THREE.into()),
        (vec![p1.clone()], 1, 200, format!("01c8cda069{ONE}")),
        (vec![p1.clone(), p2.clone()], 2, 200, format!("01c8cda069{TWO}")),
        (
            vec![p1.clone(), p2.clone(), p3.clone()],
            2,
            200,
            format!("01c8cda069{THREE}"),
        ),
    ];
    for (keys, m, height, want) in ok {
        if height == 0 {
            assert_eq!(hex::encode(p2sp_multisig_program(&keys, m).unwrap()), want);
        }
        let prog = p2sp_multisig_program_with_height(&keys, m, height).unwrap();
        assert_eq!(hex::encode(&prog), want);
        // and it reads back
        assert_eq!(parse_p2sp_multisig_program(&prog).unwrap(), (keys.clone(), m));
        assert_eq!(get_issuance_program_restrict_height(&prog), height);
    }
    let bad: Vec<(Vec<Vec<u8>>, i64, &str)> = vec![
        (vec![p1.clone()], -1, "negative quorum"),
        (vec![p1.clone()], 0, "quorum empty with non-empty pubkey list"),
        (vec![p1.clone(), p2.clone()], 3, "quorum too big"),
    ];
    for (keys, m, why) in bad {
        assert_eq!(p2sp_multisig_program(&keys, m), Err(StandardError::BadValue(why)));
        assert_eq!(
            p2sp_multisig_program_with_height(&keys, m, 0),
            Err(StandardError::BadValue(why))
        );
    }
    assert_eq!(
        p2sp_multisig_program_with_height(&[p1], 1, -1),
        Err(StandardError::BadValue("negative blockHeight"))
    );
    assert_eq!(
        parse_p2sp_multisig_program(&hx("51")),
        Err(StandardError::MultisigFormat)
    );
}

/// builder_test.go TestAddJump.
#[test]
fn builder_jumps() {
    type Case = (&'static str, fn(&mut Builder));
    let cases: [Case; 7] = [
        ("630600000061", |b| {
            let t = b.new_jump_target();
            b.add_jump(t).add_op(Op::NOP).set_jump_target(t);
        }),
        ("616300000000", |b| {
            let t = b.new_jump_target();
            b.set_jump_target(t).add_op(Op::NOP).add_jump(t);
        }),
        ("630c00000061630c00000061", |b| {
            let t = b.new_jump_target();
            b.add_jump(t)
                .add_op(Op::NOP)
                .add_jump(t)
                .add_op(Op::NOP)
                .set_jump_target(t);
        }),
        ("616300000000616300000000", |b| {
            let t = b.new_jump_target();
            b.set_jump_target(t)
                .add_op(Op::NOP)
                .add_jump(t)
                .add_op(Op::NOP)
                .add_jump(t);
        }),
        ("630600000061616306000000", |b| {
            let t = b.new_jump_target();
            b.add_jump(t)
                .add_op(Op::NOP)
                .set_jump_target(t)
                .add_op(Op::NOP)
                .add_jump(t);
        }),
        ("630c00000061630d0000006161", |b| {
            let t1 = b.new_jump_target();
            b.add_jump(t1).add_op(Op::NOP);
            let t2 = b.new_jump_target();
            b.add_jump(t2)
                .add_op(Op::NOP)
                .set_jump_target(t1)
                .add_op(Op::NOP)
                .set_jump_target(t2);
        }),
        ("6161616301000000616302000000", |b| {
            b.add_op(Op::NOP);
            let t1 = b.new_jump_target();
            b.set_jump_target(t1).add_op(Op::NOP);
            let t2 = b.new_jump_target();
            b.set_jump_target(t2)
                .add_op(Op::NOP)
                .add_jump(t1)
                .add_op(Op::NOP)
                .add_jump(t2);
        }),
    ];
    for (want, build) in cases {
        let mut b = Builder::new();
        build(&mut b);
        assert_eq!(hex::encode(b.build().unwrap()), want);
    }
    let mut b = Builder::new();
    let t = b.new_jump_target();
    b.add_jump_if(t);
    assert_eq!(b.build(), Err(StandardError::UnresolvedJump(t)));
}

/// Builder pushes use the minimal forms.
#[test]
fn builder_pushes() {
    let mut b = Builder::new();
    b.add_int64(0)
        .add_int64(16)
        .add_int64(17)
        .add_int64(-1)
        .add_data(&[])
        .add_data(&[7; 76]);
    let mut want = hx("006001110 8ffffffffffffffff004c4c".replace(' ', "").as_str());
    want.extend([7; 76]);
    assert_eq!(b.build().unwrap(), want);
    assert_eq!(default_coinbase_program(), vec![0x51]);
}

/// segwit_test.go TestConvertProgram and TestProgramType.
#[test]
fn witness_programs() {
    let p2wsh_a = "0020e402787b2bf9749f8fcdcc132a44e86bacf36780ec5df2189a11020d590533ee";
    let p2wsh_b = "00200824e931fb806bd77fdcd291aad3bd0a4493443a4120062bd659e64a3e0bac66";
    let p2wpkh = "001437e1aec83a4e6587ca9609e4e5aa728db7007449";
    let conversions = [
        (
            p2wsh_a,
            "76aa20e402787b2bf9749f8fcdcc132a44e86bacf36780ec5df2189a11020d590533ee8808ffffffffffffffff7c00c0",
        ),
        (
            p2wsh_b,
            "76aa200824e931fb806bd77fdcd291aad3bd0a4493443a4120062bd659e64a3e0bac668808ffffffffffffffff7c00c0",
        ),
        (p2wpkh, "76ab1437e1aec83a4e6587ca9609e4e5aa728db700744988ae7cac"),
    ];
    for (prog, script) in conversions {
        let prog = hx(prog);
        for profile in [VmProfile::Main, VmProfile::Side] {
            assert_eq!(hex::encode(witness_program(profile, &prog)), script);
        }
    }
    assert_eq!(
        convert_p2sh_program(&hx(p2wsh_a)).map(hex::encode),
        Some(conversions[0].1.to_owned())
    );
    assert_eq!(
        convert_p2pkh_sig_program(&hx(p2wpkh)).map(hex::encode),
        Some(conversions[2].1.to_owned())
    );

    assert!(is_p2wpkh(&hx(p2wpkh)));
    assert!(!is_p2wpkh(&hx(p2wsh_b)));
    assert!(!is_p2wpkh(&hx("51")));
    assert!(is_p2wsh(&hx(p2wsh_b)));
    assert!(!is_p2wsh(&hx(p2wpkh)));
    assert!(!is_p2wsh(&hx("51")));
    assert!(is_straightforward(&hx("51")));
    assert!(!is_straightforward(&hx(p2wpkh)));
    assert!(!is_straightforward(&hx(p2wsh_b)));

    // Other witness versions are recognised but run as they are.
    let v1 = [vec![0x51], hx(p2wpkh).split_off(1)].concat();
    assert!(is_p2wpkh(&v1));
    assert_eq!(witness_program(VmProfile::Main, &v1).as_ref(), v1.as_slice());
    assert_eq!(
        get_hash_from_standard_prog(&hx(p2wpkh)),
        Some(hx("37e1aec83a4e6587ca9609e4e5aa728db7007449"))
    );
    assert_eq!(
        p2wpkh_program(&hx("37e1aec83a4e6587ca9609e4e5aa728db7007449")),
        hx(p2wpkh)
    );
    assert_eq!(
        p2wsh_program(&hx(
            "0824e931fb806bd77fdcd291aad3bd0a4493443a4120062bd659e64a3e0bac66"
        )),
        hx(p2wsh_b)
    );
}

/// A P2WSH spend: the script is the last argument; its hash must match and it runs over the others.
#[test]
fn p2wsh_spend_runs_the_script() {
    let script = assemble("5 NUMEQUAL").unwrap();
    let hash: [u8; 32] = {
        use sha3::Digest as _;
        sha3::Sha3_256::digest(&script).into()
    };
    let control = p2wsh_program(&hash);
    let code = witness_program(VmProfile::Main, &control);
    let args = vec![vec![5], script.clone()];
    assert!(verify(&Context::new(VmProfile::Main, &code, &args), 10_000).is_ok());
    let args = vec![vec![6], script];
    assert_eq!(
        verify(&Context::new(VmProfile::Main, &code, &args), 10_000)
            .unwrap_err()
            .reason,
        VmError::FalseResult
    );
}

/// Answers CHECKOUTPUT with true and records the requests.
#[derive(Default)]
struct Outputs(RefCell<Vec<Request>>);

/// index, amount, asset, VM version, program
type Request = (u64, u64, Vec<u8>, u64, Vec<u8>);

impl TxIntrospection for Outputs {
    fn tx_sig_hash(&self) -> types::Hash {
        types::Hash([0x11; 32])
    }
    fn check_output(&self, c: &OutputCheck<'_>) -> Result<bool, VmError> {
        self.0.borrow_mut().push((
            c.index,
            c.amount,
            c.asset_id.to_vec(),
            c.vm_version,
            c.code.to_vec(),
        ));
        Ok(true)
    }
}

/// Vapor's magnetic contract: a P2WMC program expands (Side profile only) and its full-trade clause
/// pays the seller `amount * numerator / denominator * 999 / 1000` of the requested asset.
#[test]
fn magnetic_contract() {
    let args = MagneticContractArgs {
        requested_asset: [0xaa; 32],
        ratio_numerator: 2,
        ratio_denominator: 1,
        seller_program: hx("0014f928b723999312df4ed51cb275a2644336c19251"),
        seller_key: vec![0x22; 32],
    };
    let control = p2wmc_program(&args);
    assert!(is_p2wmc(&control));
    assert_eq!(decode_p2wmc_program(&control), Some(args.clone()));
    assert_eq!(
        witness_program(VmProfile::Main, &control).as_ref(),
        control.as_slice()
    );
    let code = witness_program(VmProfile::Side, &control).into_owned();
    assert_eq!(code, p2mc_program(&args).unwrap());

    let outputs = Outputs::default();
    let value_asset = [0xbb; 32];
    // witness: <position 0> <clause 1 = full trade>
    let witness = vec![vec![], vec![1]];
    let mut ctx = Context::new(VmProfile::Side, &code, &witness);
    ctx.amount = Some(100);
    ctx.asset_id = Some(&value_asset);
    ctx.tx = Some(&outputs);
    verify(&ctx, 100_000).unwrap();
    let expected = (0, 199, vec![0xaa; 32], 1, args.seller_program.clone());
    assert_eq!(*outputs.0.borrow(), vec![expected.clone()]);

    // On the Main profile MULFRACTION is a NOP, so the contract never asks for that payment.
    outputs.0.borrow_mut().clear();
    let mut main = ctx;
    main.profile = VmProfile::Main;
    let _ = verify(&main, 100_000);
    assert!(!outputs.0.borrow().contains(&expected));
}

/// The signature vector of the reference's `crypto_test.go` TestCheckSig, used here as a transaction
/// signature: the message plays the signature hash.
const SIG: &str = "26ced30b1942b89ef5332a9f22f1a61e5a6a3f8a5bc33b2fc58b1daf78c81bf1d5c8add19cea050adeb37da3a7bf8f813c6a6922b42934a6441fa6bb1c7fc208";
const MSG: &str = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";
const KEY: &str = "dbca6fb13badb7cfdf76510070ffad15b85f9934224a9e11202f5e8f86b584a6";

struct SignedTx;

impl TxIntrospection for SignedTx {
    fn tx_sig_hash(&self) -> types::Hash {
        types::Hash(hx(MSG).try_into().unwrap())
    }
    fn check_output(&self, _: &OutputCheck<'_>) -> Result<bool, VmError> {
        Err(VmError::Context)
    }
}

fn spend(control: &[u8], args: Vec<Vec<u8>>) -> Result<i64, vm::VmFailure> {
    let code = witness_program(VmProfile::Main, control).into_owned();
    let mut ctx = Context::new(VmProfile::Main, &code, &args);
    ctx.tx_version = Some(1);
    ctx.tx = Some(&SignedTx);
    verify(&ctx, 100_000)
}

/// End to end: P2WPKH, bare multisig and P2WSH-wrapped multisig spends with a real signature, and the
/// same spends with a corrupted signature.
#[test]
fn standard_spends() {
    use ripemd::Digest as _;
    let (sig, key) = (hx(SIG), hx(KEY));
    let mut bad_sig = sig.clone();
    bad_sig[0] ^= 1;

    let key_hash = ripemd::Ripemd160::digest(&key).to_vec();
    let p2wpkh = p2wpkh_program(&key_hash);
    assert!(spend(&p2wpkh, vec![sig.clone(), key.clone()]).is_ok());
    assert_eq!(
        spend(&p2wpkh, vec![bad_sig.clone(), key.clone()])
            .unwrap_err()
            .reason,
        VmError::FalseResult
    );
    // the wrong key fails EQUALVERIFY on its hash
    let failure = spend(&p2wpkh, vec![sig.clone(), hx(PUB1)]).unwrap_err();
    assert_eq!(
        (failure.reason, failure.op),
        (VmError::VerifyFailed, Some("EQUALVERIFY"))
    );

    let multisig = p2sp_multisig_program(std::slice::from_ref(&key), 1).unwrap();
    assert!(spend(&multisig, vec![sig.clone()]).is_ok());
    assert_eq!(
        spend(&multisig, vec![bad_sig.clone()]).unwrap_err().reason,
        VmError::FalseResult
    );

    let script_hash: [u8; 32] = {
        use sha3::Digest as _;
        sha3::Sha3_256::digest(&multisig).into()
    };
    let p2wsh = p2wsh_program(&script_hash);
    assert!(spend(&p2wsh, vec![sig.clone(), multisig.clone()]).is_ok());
    assert_eq!(
        spend(&p2wsh, vec![bad_sig, multisig]).unwrap_err().reason,
        VmError::FalseResult
    );
}

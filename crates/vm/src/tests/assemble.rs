//! Vectors from `protocol/vm/assemble_test.go` (TestAssemble, TestDisassemble) and `numeric_test.go`
//! TestRangeErrs, which runs assembled programs.

use super::*;
use crate::assemble::{assemble, disassemble};
use crate::error::AssembleError;

#[test]
fn assemble_vectors() {
    let ok = [
        ("2 3 ADD 5 NUMEQUAL", "525393559c"),
        ("0x02 3 ADD 5 NUMEQUAL", "01025393559c"),
        ("19 14 SUB 5 NUMEQUAL", "01135e94559c"),
        (
            "'Hello' 'WORLD' CAT 'HELLOWORLD' EQUAL",
            "0548656c6c6f05574f524c447e0a48454c4c4f574f524c4487",
        ),
        (r"'H\'E' 'W' CAT 'H\'EW' EQUAL", "0348274501577e044827455787"),
        (
            "'HELLO '  'WORLD' CAT 'HELLO WORLD' EQUAL",
            "0648454c4c4f2005574f524c447e0b48454c4c4f20574f524c4487",
        ),
    ];
    for (src, want) in ok {
        assert_eq!(assemble(src).map(hex::encode), Ok(want.to_owned()), "{src}");
    }
    assert!(matches!(assemble("0x1"), Err(AssembleError::Hex(_))));
    assert_eq!(assemble("BADTOKEN"), Err(AssembleError::Token("BADTOKEN".into())));
    assert_eq!(
        assemble("'Unterminated quote"),
        Err(AssembleError::UnterminatedQuote)
    );
    // Not in the reference's table, but its rules: explicit pushes and bare jumps are refused, labels
    // must exist and be unique.
    assert_eq!(
        assemble("PUSHDATA1"),
        Err(AssembleError::Token("PUSHDATA1".into()))
    );
    assert_eq!(assemble("JUMP"), Err(AssembleError::Token("JUMP".into())));
    assert_eq!(
        assemble("JUMP:$nowhere"),
        Err(AssembleError::UndefinedLabel("$nowhere".into()))
    );
    assert_eq!(assemble("$a $a"), Err(AssembleError::LabelRedefined("$a".into())));
    assert_eq!(assemble("JUMP:-1"), Err(AssembleError::JumpAddress("-1".into())));
    assert_eq!(
        assemble("-1 FALSE TRUE 17").map(hex::encode),
        Ok("08ffffffffffffffff00510111".to_owned())
    );
}

#[test]
fn disassemble_vectors() {
    let cases = [
        ("525393559c", "0x02 0x03 ADD 0x05 NUMEQUAL"),
        ("01135e94559c", "0x13 0x0e SUB 0x05 NUMEQUAL"),
        ("6300000000", "$alpha JUMP:$alpha"),
        ("ff", "NOPxff"),
    ];
    for (raw, want) in cases {
        assert_eq!(disassemble(&hx(raw)).as_deref(), Ok(want), "{raw}");
    }
    assert_eq!(disassemble(&[Op::DATA_2.0, 1]), Err(VmError::ShortProgram));
    // Labels follow the jumps' order of appearance, and the end of the program can be a target.
    let prog = assemble("JUMP:$x JUMPIF:$y $y NOP $x").unwrap();
    assert_eq!(
        disassemble(&prog).unwrap(),
        "JUMP:$alpha JUMPIF:$bravo $bravo NOP $alpha"
    );
}

/// TestRangeErrs: which programs overflow the i64 range.
#[test]
fn range_errors() {
    let (max, min) = (i64::MAX, i64::MIN);
    let cases: Vec<(String, bool)> = vec![
        ("0 1ADD".into(), false),
        (format!("{min} 1ADD"), false),
        (format!("{} 1ADD", max - 1), false),
        (format!("{max} 1ADD"), true),
        ("0 1SUB".into(), false),
        (format!("{max} 1SUB"), false),
        (format!("{} 1SUB", min + 1), false),
        (format!("{min} 1SUB"), true),
        ("1 2MUL".into(), false),
        (format!("{} 2MUL", max / 2 - 1), false),
        (format!("{} 2MUL", max / 2 + 1), true),
        (format!("{} 2MUL", min / 2 + 1), false),
        (format!("{} 2MUL", min / 2 - 1), true),
        ("1 NEGATE".into(), false),
        ("-1 NEGATE".into(), false),
        (format!("{max} NEGATE"), false),
        (format!("{min} NEGATE"), true),
        ("1 ABS".into(), false),
        ("-1 ABS".into(), false),
        (format!("{max} ABS"), false),
        (format!("{min} ABS"), true),
        ("2 3 ADD".into(), false),
        (format!("{min} {max} ADD"), false),
        (format!("{} {} ADD", max / 2 - 1, max / 2 - 2), false),
        (format!("{} {} ADD", max / 2 + 1, max / 2 + 2), true),
        (format!("{} {} ADD", min / 2 + 1, min / 2 + 2), false),
        (format!("{} {} ADD", min / 2 - 1, min / 2 - 2), true),
        ("2 3 SUB".into(), false),
        (format!("1 {max} SUB"), false),
        (format!("-1 {min} SUB"), false),
        (format!("1 {min} SUB"), true),
        (format!("-1 {max} SUB"), false),
        (format!("-2 {max} SUB"), true),
        ("1 2 LSHIFT".into(), false),
        ("-1 2 LSHIFT".into(), false),
        ("-1 63 LSHIFT".into(), false),
        ("-1 64 LSHIFT".into(), true),
        ("0 64 LSHIFT".into(), false),
        ("1 62 LSHIFT".into(), false),
        ("1 63 LSHIFT".into(), true),
        (format!("{max} 0 LSHIFT"), false),
        (format!("{max} 1 LSHIFT"), true),
        (format!("{} 1 LSHIFT", max / 2), false),
        (format!("{} 2 LSHIFT", max / 2), true),
        (format!("{min} 0 LSHIFT"), false),
        (format!("{min} 1 LSHIFT"), true),
        (format!("{} 1 LSHIFT", min / 2), false),
        (format!("{} 2 LSHIFT", min / 2), true),
        // Vapor only
        (format!("{} 2 1 MULFRACTION", max / 2 - 1), false),
        (format!("{} 2 1 MULFRACTION", max / 2 + 1), true),
        (format!("{} 2 1 MULFRACTION", min / 2 + 1), false),
        (format!("{} 2 1 MULFRACTION", min / 2 - 1), true),
        (format!("{max} 3 2 MULFRACTION"), true),
        (format!("{max} 2 3 MULFRACTION"), false),
        (format!("{min} 3 2 MULFRACTION"), true),
        (format!("{min} 2 3 MULFRACTION"), false),
    ];
    let ctx = side_ctx();
    for (src, range_err) in cases {
        let prog = assemble(&src).unwrap();
        let res = run_prog(&ctx, &prog, &[], 50000).0;
        let want = if range_err { Err(VmError::Range) } else { Ok(()) };
        assert_eq!(res, want, "{src}");
    }
}

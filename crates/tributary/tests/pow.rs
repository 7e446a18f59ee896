//! `tributary pow tensority` end to end.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use serde_json::Value;

fn run(args: &[&str]) -> (i32, String, String) {
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

#[test]
fn pow_tensority_prints_the_reference_result_and_rejects_bad_hex() {
    // Bytom v1.1.0 mining/tensority/go_algorithm/algorithm_test.go, case 3.
    let (code, stdout, stderr) = run(&[
        "pow",
        "tensority",
        "--hash",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "--seed",
        "48dda5bbe9171a6656206ec56c595c5834b6cf38c5fe71bcb44fe43833aee9df",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "result": "26db94efa422d76c402a54eeb61dd5f53282cd3ce1a0ac677e177051edaa98c1"
        })
    );

    let (code, stdout, stderr) = run(&["pow", "tensority", "--hash", "abcd", "--seed", &"00".repeat(32)]);
    assert_ne!(code, 0);
    assert!(stdout.is_empty());
    assert!(stderr.contains("--hash") && stderr.contains("64 hex"), "{stderr}");
}

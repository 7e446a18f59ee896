//! The VM on arbitrary programs and arguments, both profiles: never panics, always stops within its gas.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vm::{Context, VmProfile};

const GAS: i64 = 10_000;

fuzz_target!(|data: &[u8]| {
    // First byte: how many leading chunks become arguments; the rest is split on 0xff-0xfe pairs.
    let Some((&nargs, rest)) = data.split_first() else { return };
    let mut parts: Vec<Vec<u8>> = rest.split(|b| *b == 0xfe).map(<[u8]>::to_vec).collect();
    let program = parts.pop().unwrap_or_default();
    parts.truncate(usize::from(nargs % 8));
    for profile in [VmProfile::Main, VmProfile::Side] {
        let ctx = Context::new(profile, &program, &parts);
        match vm::verify(&ctx, GAS) {
            Ok(left) => assert!((0..=GAS).contains(&left)),
            Err(f) => assert!(f.gas_left <= GAS),
        }
        if let Ok(text) = vm::disassemble_for(profile, &program) {
            let _ = vm::assemble_for(profile, &text);
        }
    }
});

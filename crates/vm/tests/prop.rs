//! Property tests: the VM never panics and always stops within its gas, the assembler inverts the
//! disassembler on canonical programs, and the integer encoding round-trips.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use vm::{
    Context, Op, OutputCheck, TxIntrospection, VmError, VmProfile, as_int64, assemble, disassemble,
    int64_bytes, parse_op, parse_program, pushdata_bytes, verify,
};

struct AnyTx;

impl TxIntrospection for AnyTx {
    fn tx_sig_hash(&self) -> types::Hash {
        types::Hash([7; 32])
    }
    fn check_output(&self, c: &OutputCheck<'_>) -> Result<bool, VmError> {
        Ok(c.amount.is_multiple_of(2))
    }
}

fn profile() -> impl Strategy<Value = VmProfile> {
    prop_oneof![Just(VmProfile::Main), Just(VmProfile::Side)]
}

/// Programs biased towards real opcodes (and the interesting control ops) rather than pure noise.
fn program() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => any::<u8>(),
        2 => prop::sample::select(vec![
            Op::DUP.0, Op::CAT.0, Op::JUMP.0, Op::JUMPIF.0, Op::CHECKPREDICATE.0, Op::PICK.0, Op::ROLL.0,
            Op::OP_1.0, Op::OP_0.0, Op::OP_2.0, Op::SWAP.0, Op::CHECKMULTISIG.0, Op::SUBSTR.0, Op::MULFRACTION.0,
            Op::TOALTSTACK.0, Op::FROMALTSTACK.0, Op::CHECKOUTPUT.0, Op::TXSIGHASH.0, Op::LSHIFT.0, 0x00,
        ]),
    ];
    prop::collection::vec(byte, 0..200)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn verify_never_panics_and_respects_gas(
        prog in program(),
        args in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..6),
        gas in 0i64..200_000,
        profile in profile(),
        tx_version in prop::option::of(0u64..3),
    ) {
        let tx = AnyTx;
        let mut ctx = Context::new(profile, &prog, &args);
        ctx.tx_version = tx_version;
        ctx.tx = Some(&tx);
        ctx.amount = Some(5);
        ctx.block_height = Some(100);
        let gas_left = match verify(&ctx, gas) {
            Ok(left) => left,
            Err(failure) => failure.gas_left,
        };
        prop_assert!((0..=gas).contains(&gas_left), "gas left {gas_left} of {gas}");
    }

    /// Programs made of opcodes, minimal pushes and jumps to instruction boundaries disassemble to text
    /// that assembles back to the same bytes.
    #[test]
    fn assemble_inverts_disassemble(items in prop::collection::vec(item(), 0..40), profile in profile()) {
        let prog = build(&items);
        let text = vm::disassemble_for(profile, &prog).unwrap();
        prop_assert_eq!(vm::assemble_for(profile, &text).unwrap(), prog);
    }

    /// For any program that parses and whose disassembly assembles, the text is stable.
    #[test]
    fn disassembly_is_stable(prog in program()) {
        if let Ok(text) = disassemble(&prog)
            && let Ok(again) = assemble(&text)
        {
            prop_assert_eq!(disassemble(&again).unwrap(), text);
        }
    }

    #[test]
    fn int64_round_trips(n in any::<i64>()) {
        let bytes = int64_bytes(n);
        prop_assert!(bytes.len() <= 8);
        prop_assert_ne!(bytes.last(), Some(&0));
        prop_assert_eq!(as_int64(&bytes), Ok(n));
    }

    #[test]
    fn int64_decoding_is_canonical_up_to_trailing_zeros(bytes in prop::collection::vec(any::<u8>(), 0..12)) {
        match as_int64(&bytes) {
            Ok(n) => {
                let mut trimmed = bytes.clone();
                while trimmed.last() == Some(&0) {
                    trimmed.pop();
                }
                prop_assert_eq!(int64_bytes(n), trimmed);
            }
            Err(e) => {
                prop_assert!(bytes.len() > 8);
                prop_assert_eq!(e, VmError::BadValue);
            }
        }
    }

    #[test]
    fn pushdata_parses_back(data in prop::collection::vec(any::<u8>(), 0..600)) {
        let prog = pushdata_bytes(&data);
        let inst = parse_op(&prog, 0).unwrap();
        prop_assert_eq!(inst.data, data);
        prop_assert_eq!(usize::try_from(inst.len).unwrap(), prog.len());
        prop_assert_eq!(parse_program(&prog).unwrap().len(), 1);
    }
}

#[derive(Clone, Debug)]
enum Item {
    Op(u8),
    Push(Vec<u8>),
    Jump(bool, usize),
}

/// Opcodes the assembler can name: everything but pushes, jumps and expansion opcodes.
fn named_ops() -> Vec<u8> {
    (0u8..=255)
        .filter(|b| {
            let op = Op(*b);
            !(op.0 <= Op::PUSHDATA4.0 || (Op::OP_1.0..=Op::OP_16.0).contains(&op.0))
                && op != Op::JUMP
                && op != Op::JUMPIF
                && !op.is_expansion(VmProfile::Main)
        })
        .collect()
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        3 => prop::sample::select(named_ops()).prop_map(Item::Op),
        // Single bytes 1..=16 disassemble the same as OP_1..OP_16; minimal pushes are what assemble emits.
        2 => prop::collection::vec(any::<u8>(), 0..300).prop_map(Item::Push),
        1 => (any::<bool>(), any::<usize>()).prop_map(|(c, t)| Item::Jump(c, t)),
    ]
}

fn build(items: &[Item]) -> Vec<u8> {
    let encoded: Vec<Vec<u8>> = items
        .iter()
        .map(|i| match i {
            Item::Op(b) => vec![*b],
            Item::Push(d) => pushdata_bytes(d),
            Item::Jump(..) => vec![0; 5],
        })
        .collect();
    // Instruction boundaries, the end of the program included.
    let mut bounds = vec![0u32];
    for e in &encoded {
        bounds.push(bounds.last().unwrap() + u32::try_from(e.len()).unwrap());
    }
    let mut prog = Vec::new();
    for (i, e) in items.iter().zip(encoded) {
        match i {
            Item::Jump(cond, target) => {
                prog.push(if *cond { Op::JUMPIF.0 } else { Op::JUMP.0 });
                prog.extend_from_slice(&bounds[target % bounds.len()].to_le_bytes());
            }
            _ => prog.extend(e),
        }
    }
    prog
}

//! Opcodes, their names per profile, and parsing a program into instructions.

use std::fmt;

use crate::context::VmProfile;
use crate::error::VmError;

/// One opcode byte.
///
/// Constants are named after the reference's mnemonics; those starting with a digit carry an `OP_`
/// prefix (`Op::OP_1ADD`, `Op::OP_2DROP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Op(pub u8);

#[allow(missing_docs)]
impl Op {
    /// The `FALSE` opcode.
    pub const FALSE: Op = Op(0x00);
    /// Synonym of `FALSE`: pushes the empty string.
    pub const OP_0: Op = Op(0x00);
    /// Pushes the next 1 program byte(s).
    pub const DATA_1: Op = Op(0x01);
    /// Pushes the next 2 program byte(s).
    pub const DATA_2: Op = Op(0x02);
    /// Pushes the next 3 program byte(s).
    pub const DATA_3: Op = Op(0x03);
    /// Pushes the next 4 program byte(s).
    pub const DATA_4: Op = Op(0x04);
    /// Pushes the next 5 program byte(s).
    pub const DATA_5: Op = Op(0x05);
    /// Pushes the next 6 program byte(s).
    pub const DATA_6: Op = Op(0x06);
    /// Pushes the next 7 program byte(s).
    pub const DATA_7: Op = Op(0x07);
    /// Pushes the next 8 program byte(s).
    pub const DATA_8: Op = Op(0x08);
    /// Pushes the next 9 program byte(s).
    pub const DATA_9: Op = Op(0x09);
    /// Pushes the next 10 program byte(s).
    pub const DATA_10: Op = Op(0x0a);
    /// Pushes the next 11 program byte(s).
    pub const DATA_11: Op = Op(0x0b);
    /// Pushes the next 12 program byte(s).
    pub const DATA_12: Op = Op(0x0c);
    /// Pushes the next 13 program byte(s).
    pub const DATA_13: Op = Op(0x0d);
    /// Pushes the next 14 program byte(s).
    pub const DATA_14: Op = Op(0x0e);
    /// Pushes the next 15 program byte(s).
    pub const DATA_15: Op = Op(0x0f);
    /// Pushes the next 16 program byte(s).
    pub const DATA_16: Op = Op(0x10);
    /// Pushes the next 17 program byte(s).
    pub const DATA_17: Op = Op(0x11);
    /// Pushes the next 18 program byte(s).
    pub const DATA_18: Op = Op(0x12);
    /// Pushes the next 19 program byte(s).
    pub const DATA_19: Op = Op(0x13);
    /// Pushes the next 20 program byte(s).
    pub const DATA_20: Op = Op(0x14);
    /// Pushes the next 21 program byte(s).
    pub const DATA_21: Op = Op(0x15);
    /// Pushes the next 22 program byte(s).
    pub const DATA_22: Op = Op(0x16);
    /// Pushes the next 23 program byte(s).
    pub const DATA_23: Op = Op(0x17);
    /// Pushes the next 24 program byte(s).
    pub const DATA_24: Op = Op(0x18);
    /// Pushes the next 25 program byte(s).
    pub const DATA_25: Op = Op(0x19);
    /// Pushes the next 26 program byte(s).
    pub const DATA_26: Op = Op(0x1a);
    /// Pushes the next 27 program byte(s).
    pub const DATA_27: Op = Op(0x1b);
    /// Pushes the next 28 program byte(s).
    pub const DATA_28: Op = Op(0x1c);
    /// Pushes the next 29 program byte(s).
    pub const DATA_29: Op = Op(0x1d);
    /// Pushes the next 30 program byte(s).
    pub const DATA_30: Op = Op(0x1e);
    /// Pushes the next 31 program byte(s).
    pub const DATA_31: Op = Op(0x1f);
    /// Pushes the next 32 program byte(s).
    pub const DATA_32: Op = Op(0x20);
    /// Pushes the next 33 program byte(s).
    pub const DATA_33: Op = Op(0x21);
    /// Pushes the next 34 program byte(s).
    pub const DATA_34: Op = Op(0x22);
    /// Pushes the next 35 program byte(s).
    pub const DATA_35: Op = Op(0x23);
    /// Pushes the next 36 program byte(s).
    pub const DATA_36: Op = Op(0x24);
    /// Pushes the next 37 program byte(s).
    pub const DATA_37: Op = Op(0x25);
    /// Pushes the next 38 program byte(s).
    pub const DATA_38: Op = Op(0x26);
    /// Pushes the next 39 program byte(s).
    pub const DATA_39: Op = Op(0x27);
    /// Pushes the next 40 program byte(s).
    pub const DATA_40: Op = Op(0x28);
    /// Pushes the next 41 program byte(s).
    pub const DATA_41: Op = Op(0x29);
    /// Pushes the next 42 program byte(s).
    pub const DATA_42: Op = Op(0x2a);
    /// Pushes the next 43 program byte(s).
    pub const DATA_43: Op = Op(0x2b);
    /// Pushes the next 44 program byte(s).
    pub const DATA_44: Op = Op(0x2c);
    /// Pushes the next 45 program byte(s).
    pub const DATA_45: Op = Op(0x2d);
    /// Pushes the next 46 program byte(s).
    pub const DATA_46: Op = Op(0x2e);
    /// Pushes the next 47 program byte(s).
    pub const DATA_47: Op = Op(0x2f);
    /// Pushes the next 48 program byte(s).
    pub const DATA_48: Op = Op(0x30);
    /// Pushes the next 49 program byte(s).
    pub const DATA_49: Op = Op(0x31);
    /// Pushes the next 50 program byte(s).
    pub const DATA_50: Op = Op(0x32);
    /// Pushes the next 51 program byte(s).
    pub const DATA_51: Op = Op(0x33);
    /// Pushes the next 52 program byte(s).
    pub const DATA_52: Op = Op(0x34);
    /// Pushes the next 53 program byte(s).
    pub const DATA_53: Op = Op(0x35);
    /// Pushes the next 54 program byte(s).
    pub const DATA_54: Op = Op(0x36);
    /// Pushes the next 55 program byte(s).
    pub const DATA_55: Op = Op(0x37);
    /// Pushes the next 56 program byte(s).
    pub const DATA_56: Op = Op(0x38);
    /// Pushes the next 57 program byte(s).
    pub const DATA_57: Op = Op(0x39);
    /// Pushes the next 58 program byte(s).
    pub const DATA_58: Op = Op(0x3a);
    /// Pushes the next 59 program byte(s).
    pub const DATA_59: Op = Op(0x3b);
    /// Pushes the next 60 program byte(s).
    pub const DATA_60: Op = Op(0x3c);
    /// Pushes the next 61 program byte(s).
    pub const DATA_61: Op = Op(0x3d);
    /// Pushes the next 62 program byte(s).
    pub const DATA_62: Op = Op(0x3e);
    /// Pushes the next 63 program byte(s).
    pub const DATA_63: Op = Op(0x3f);
    /// Pushes the next 64 program byte(s).
    pub const DATA_64: Op = Op(0x40);
    /// Pushes the next 65 program byte(s).
    pub const DATA_65: Op = Op(0x41);
    /// Pushes the next 66 program byte(s).
    pub const DATA_66: Op = Op(0x42);
    /// Pushes the next 67 program byte(s).
    pub const DATA_67: Op = Op(0x43);
    /// Pushes the next 68 program byte(s).
    pub const DATA_68: Op = Op(0x44);
    /// Pushes the next 69 program byte(s).
    pub const DATA_69: Op = Op(0x45);
    /// Pushes the next 70 program byte(s).
    pub const DATA_70: Op = Op(0x46);
    /// Pushes the next 71 program byte(s).
    pub const DATA_71: Op = Op(0x47);
    /// Pushes the next 72 program byte(s).
    pub const DATA_72: Op = Op(0x48);
    /// Pushes the next 73 program byte(s).
    pub const DATA_73: Op = Op(0x49);
    /// Pushes the next 74 program byte(s).
    pub const DATA_74: Op = Op(0x4a);
    /// Pushes the next 75 program byte(s).
    pub const DATA_75: Op = Op(0x4b);
    /// The `PUSHDATA1` opcode.
    pub const PUSHDATA1: Op = Op(0x4c);
    /// The `PUSHDATA2` opcode.
    pub const PUSHDATA2: Op = Op(0x4d);
    /// The `PUSHDATA4` opcode.
    pub const PUSHDATA4: Op = Op(0x4e);
    /// The `1NEGATE` opcode.
    pub const OP_1NEGATE: Op = Op(0x4f);
    /// Pushes the number 1.
    pub const OP_1: Op = Op(0x51);
    /// Synonym of `1`.
    pub const TRUE: Op = Op(0x51);
    /// Pushes the number 2.
    pub const OP_2: Op = Op(0x52);
    /// Pushes the number 3.
    pub const OP_3: Op = Op(0x53);
    /// Pushes the number 4.
    pub const OP_4: Op = Op(0x54);
    /// Pushes the number 5.
    pub const OP_5: Op = Op(0x55);
    /// Pushes the number 6.
    pub const OP_6: Op = Op(0x56);
    /// Pushes the number 7.
    pub const OP_7: Op = Op(0x57);
    /// Pushes the number 8.
    pub const OP_8: Op = Op(0x58);
    /// Pushes the number 9.
    pub const OP_9: Op = Op(0x59);
    /// Pushes the number 10.
    pub const OP_10: Op = Op(0x5a);
    /// Pushes the number 11.
    pub const OP_11: Op = Op(0x5b);
    /// Pushes the number 12.
    pub const OP_12: Op = Op(0x5c);
    /// Pushes the number 13.
    pub const OP_13: Op = Op(0x5d);
    /// Pushes the number 14.
    pub const OP_14: Op = Op(0x5e);
    /// Pushes the number 15.
    pub const OP_15: Op = Op(0x5f);
    /// Pushes the number 16.
    pub const OP_16: Op = Op(0x60);
    /// The `NOP` opcode.
    pub const NOP: Op = Op(0x61);
    /// The `JUMP` opcode.
    pub const JUMP: Op = Op(0x63);
    /// The `JUMPIF` opcode.
    pub const JUMPIF: Op = Op(0x64);
    /// The `VERIFY` opcode.
    pub const VERIFY: Op = Op(0x69);
    /// The `FAIL` opcode.
    pub const FAIL: Op = Op(0x6a);
    /// The `TOALTSTACK` opcode.
    pub const TOALTSTACK: Op = Op(0x6b);
    /// The `FROMALTSTACK` opcode.
    pub const FROMALTSTACK: Op = Op(0x6c);
    /// The `2DROP` opcode.
    pub const OP_2DROP: Op = Op(0x6d);
    /// The `2DUP` opcode.
    pub const OP_2DUP: Op = Op(0x6e);
    /// The `3DUP` opcode.
    pub const OP_3DUP: Op = Op(0x6f);
    /// The `2OVER` opcode.
    pub const OP_2OVER: Op = Op(0x70);
    /// The `2ROT` opcode.
    pub const OP_2ROT: Op = Op(0x71);
    /// The `2SWAP` opcode.
    pub const OP_2SWAP: Op = Op(0x72);
    /// The `IFDUP` opcode.
    pub const IFDUP: Op = Op(0x73);
    /// The `DEPTH` opcode.
    pub const DEPTH: Op = Op(0x74);
    /// The `DROP` opcode.
    pub const DROP: Op = Op(0x75);
    /// The `DUP` opcode.
    pub const DUP: Op = Op(0x76);
    /// The `NIP` opcode.
    pub const NIP: Op = Op(0x77);
    /// The `OVER` opcode.
    pub const OVER: Op = Op(0x78);
    /// The `PICK` opcode.
    pub const PICK: Op = Op(0x79);
    /// The `ROLL` opcode.
    pub const ROLL: Op = Op(0x7a);
    /// The `ROT` opcode.
    pub const ROT: Op = Op(0x7b);
    /// The `SWAP` opcode.
    pub const SWAP: Op = Op(0x7c);
    /// The `TUCK` opcode.
    pub const TUCK: Op = Op(0x7d);
    /// The `CAT` opcode.
    pub const CAT: Op = Op(0x7e);
    /// The `SUBSTR` opcode.
    pub const SUBSTR: Op = Op(0x7f);
    /// The `LEFT` opcode.
    pub const LEFT: Op = Op(0x80);
    /// The `RIGHT` opcode.
    pub const RIGHT: Op = Op(0x81);
    /// The `SIZE` opcode.
    pub const SIZE: Op = Op(0x82);
    /// The `INVERT` opcode.
    pub const INVERT: Op = Op(0x83);
    /// The `AND` opcode.
    pub const AND: Op = Op(0x84);
    /// The `OR` opcode.
    pub const OR: Op = Op(0x85);
    /// The `XOR` opcode.
    pub const XOR: Op = Op(0x86);
    /// The `EQUAL` opcode.
    pub const EQUAL: Op = Op(0x87);
    /// The `EQUALVERIFY` opcode.
    pub const EQUALVERIFY: Op = Op(0x88);
    /// The `CATPUSHDATA` opcode.
    pub const CATPUSHDATA: Op = Op(0x89);
    /// The `1ADD` opcode.
    pub const OP_1ADD: Op = Op(0x8b);
    /// The `1SUB` opcode.
    pub const OP_1SUB: Op = Op(0x8c);
    /// The `2MUL` opcode.
    pub const OP_2MUL: Op = Op(0x8d);
    /// The `2DIV` opcode.
    pub const OP_2DIV: Op = Op(0x8e);
    /// The `NEGATE` opcode.
    pub const NEGATE: Op = Op(0x8f);
    /// The `ABS` opcode.
    pub const ABS: Op = Op(0x90);
    /// The `NOT` opcode.
    pub const NOT: Op = Op(0x91);
    /// The `0NOTEQUAL` opcode.
    pub const OP_0NOTEQUAL: Op = Op(0x92);
    /// The `ADD` opcode.
    pub const ADD: Op = Op(0x93);
    /// The `SUB` opcode.
    pub const SUB: Op = Op(0x94);
    /// The `MUL` opcode.
    pub const MUL: Op = Op(0x95);
    /// The `DIV` opcode.
    pub const DIV: Op = Op(0x96);
    /// The `MOD` opcode.
    pub const MOD: Op = Op(0x97);
    /// The `LSHIFT` opcode.
    pub const LSHIFT: Op = Op(0x98);
    /// The `RSHIFT` opcode.
    pub const RSHIFT: Op = Op(0x99);
    /// The `BOOLAND` opcode.
    pub const BOOLAND: Op = Op(0x9a);
    /// The `BOOLOR` opcode.
    pub const BOOLOR: Op = Op(0x9b);
    /// The `NUMEQUAL` opcode.
    pub const NUMEQUAL: Op = Op(0x9c);
    /// The `NUMEQUALVERIFY` opcode.
    pub const NUMEQUALVERIFY: Op = Op(0x9d);
    /// The `NUMNOTEQUAL` opcode.
    pub const NUMNOTEQUAL: Op = Op(0x9e);
    /// The `LESSTHAN` opcode.
    pub const LESSTHAN: Op = Op(0x9f);
    /// The `GREATERTHAN` opcode.
    pub const GREATERTHAN: Op = Op(0xa0);
    /// The `LESSTHANOREQUAL` opcode.
    pub const LESSTHANOREQUAL: Op = Op(0xa1);
    /// The `GREATERTHANOREQUAL` opcode.
    pub const GREATERTHANOREQUAL: Op = Op(0xa2);
    /// The `MIN` opcode.
    pub const MIN: Op = Op(0xa3);
    /// The `MAX` opcode.
    pub const MAX: Op = Op(0xa4);
    /// The `WITHIN` opcode.
    pub const WITHIN: Op = Op(0xa5);
    /// The `MULFRACTION` opcode.
    pub const MULFRACTION: Op = Op(0xa6);
    /// The `SHA256` opcode.
    pub const SHA256: Op = Op(0xa8);
    /// The `SHA3` opcode.
    pub const SHA3: Op = Op(0xaa);
    /// The `HASH160` opcode.
    pub const HASH160: Op = Op(0xab);
    /// The `CHECKSIG` opcode.
    pub const CHECKSIG: Op = Op(0xac);
    /// The `CHECKMULTISIG` opcode.
    pub const CHECKMULTISIG: Op = Op(0xad);
    /// The `TXSIGHASH` opcode.
    pub const TXSIGHASH: Op = Op(0xae);
    /// The `CHECKPREDICATE` opcode.
    pub const CHECKPREDICATE: Op = Op(0xc0);
    /// The `CHECKOUTPUT` opcode.
    pub const CHECKOUTPUT: Op = Op(0xc1);
    /// The `ASSET` opcode.
    pub const ASSET: Op = Op(0xc2);
    /// The `AMOUNT` opcode.
    pub const AMOUNT: Op = Op(0xc3);
    /// The `PROGRAM` opcode.
    pub const PROGRAM: Op = Op(0xc4);
    /// The `INDEX` opcode.
    pub const INDEX: Op = Op(0xc9);
    /// The `ENTRYID` opcode.
    pub const ENTRYID: Op = Op(0xca);
    /// The `OUTPUTID` opcode.
    pub const OUTPUTID: Op = Op(0xcb);
    /// The `BLOCKHEIGHT` opcode.
    pub const BLOCKHEIGHT: Op = Op(0xcd);
}

/// Mnemonics of the Side profile (a superset: Main differs only at `MULFRACTION`).
static NAMES: [&str; 256] = [
    "FALSE",
    "DATA_1",
    "DATA_2",
    "DATA_3",
    "DATA_4",
    "DATA_5",
    "DATA_6",
    "DATA_7",
    "DATA_8",
    "DATA_9",
    "DATA_10",
    "DATA_11",
    "DATA_12",
    "DATA_13",
    "DATA_14",
    "DATA_15",
    "DATA_16",
    "DATA_17",
    "DATA_18",
    "DATA_19",
    "DATA_20",
    "DATA_21",
    "DATA_22",
    "DATA_23",
    "DATA_24",
    "DATA_25",
    "DATA_26",
    "DATA_27",
    "DATA_28",
    "DATA_29",
    "DATA_30",
    "DATA_31",
    "DATA_32",
    "DATA_33",
    "DATA_34",
    "DATA_35",
    "DATA_36",
    "DATA_37",
    "DATA_38",
    "DATA_39",
    "DATA_40",
    "DATA_41",
    "DATA_42",
    "DATA_43",
    "DATA_44",
    "DATA_45",
    "DATA_46",
    "DATA_47",
    "DATA_48",
    "DATA_49",
    "DATA_50",
    "DATA_51",
    "DATA_52",
    "DATA_53",
    "DATA_54",
    "DATA_55",
    "DATA_56",
    "DATA_57",
    "DATA_58",
    "DATA_59",
    "DATA_60",
    "DATA_61",
    "DATA_62",
    "DATA_63",
    "DATA_64",
    "DATA_65",
    "DATA_66",
    "DATA_67",
    "DATA_68",
    "DATA_69",
    "DATA_70",
    "DATA_71",
    "DATA_72",
    "DATA_73",
    "DATA_74",
    "DATA_75",
    "PUSHDATA1",
    "PUSHDATA2",
    "PUSHDATA4",
    "1NEGATE",
    "NOPx50",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "10",
    "11",
    "12",
    "13",
    "14",
    "15",
    "16",
    "NOP",
    "NOPx62",
    "JUMP",
    "JUMPIF",
    "NOPx65",
    "NOPx66",
    "NOPx67",
    "NOPx68",
    "VERIFY",
    "FAIL",
    "TOALTSTACK",
    "FROMALTSTACK",
    "2DROP",
    "2DUP",
    "3DUP",
    "2OVER",
    "2ROT",
    "2SWAP",
    "IFDUP",
    "DEPTH",
    "DROP",
    "DUP",
    "NIP",
    "OVER",
    "PICK",
    "ROLL",
    "ROT",
    "SWAP",
    "TUCK",
    "CAT",
    "SUBSTR",
    "LEFT",
    "RIGHT",
    "SIZE",
    "INVERT",
    "AND",
    "OR",
    "XOR",
    "EQUAL",
    "EQUALVERIFY",
    "CATPUSHDATA",
    "NOPx8a",
    "1ADD",
    "1SUB",
    "2MUL",
    "2DIV",
    "NEGATE",
    "ABS",
    "NOT",
    "0NOTEQUAL",
    "ADD",
    "SUB",
    "MUL",
    "DIV",
    "MOD",
    "LSHIFT",
    "RSHIFT",
    "BOOLAND",
    "BOOLOR",
    "NUMEQUAL",
    "NUMEQUALVERIFY",
    "NUMNOTEQUAL",
    "LESSTHAN",
    "GREATERTHAN",
    "LESSTHANOREQUAL",
    "GREATERTHANOREQUAL",
    "MIN",
    "MAX",
    "WITHIN",
    "MULFRACTION",
    "NOPxa7",
    "SHA256",
    "NOPxa9",
    "SHA3",
    "HASH160",
    "CHECKSIG",
    "CHECKMULTISIG",
    "TXSIGHASH",
    "NOPxaf",
    "NOPxb0",
    "NOPxb1",
    "NOPxb2",
    "NOPxb3",
    "NOPxb4",
    "NOPxb5",
    "NOPxb6",
    "NOPxb7",
    "NOPxb8",
    "NOPxb9",
    "NOPxba",
    "NOPxbb",
    "NOPxbc",
    "NOPxbd",
    "NOPxbe",
    "NOPxbf",
    "CHECKPREDICATE",
    "CHECKOUTPUT",
    "ASSET",
    "AMOUNT",
    "PROGRAM",
    "NOPxc5",
    "NOPxc6",
    "NOPxc7",
    "NOPxc8",
    "INDEX",
    "ENTRYID",
    "OUTPUTID",
    "NOPxcc",
    "BLOCKHEIGHT",
    "NOPxce",
    "NOPxcf",
    "NOPxd0",
    "NOPxd1",
    "NOPxd2",
    "NOPxd3",
    "NOPxd4",
    "NOPxd5",
    "NOPxd6",
    "NOPxd7",
    "NOPxd8",
    "NOPxd9",
    "NOPxda",
    "NOPxdb",
    "NOPxdc",
    "NOPxdd",
    "NOPxde",
    "NOPxdf",
    "NOPxe0",
    "NOPxe1",
    "NOPxe2",
    "NOPxe3",
    "NOPxe4",
    "NOPxe5",
    "NOPxe6",
    "NOPxe7",
    "NOPxe8",
    "NOPxe9",
    "NOPxea",
    "NOPxeb",
    "NOPxec",
    "NOPxed",
    "NOPxee",
    "NOPxef",
    "NOPxf0",
    "NOPxf1",
    "NOPxf2",
    "NOPxf3",
    "NOPxf4",
    "NOPxf5",
    "NOPxf6",
    "NOPxf7",
    "NOPxf8",
    "NOPxf9",
    "NOPxfa",
    "NOPxfb",
    "NOPxfc",
    "NOPxfd",
    "NOPxfe",
    "NOPxff",
];

impl Op {
    /// The mnemonic under `profile`; unassigned opcodes are named `NOPx<hex>`.
    pub fn name(self, profile: VmProfile) -> &'static str {
        if self.is_expansion(profile) {
            // Only MULFRACTION's name differs between profiles, and under Main it is unassigned.
            if self == Op::MULFRACTION {
                return "NOPxa6";
            }
        }
        NAMES.get(usize::from(self.0)).copied().unwrap_or("NOPx??")
    }

    /// Whether the opcode is unassigned under `profile` and so reserved for future expansion: it costs 1
    /// and does nothing, unless the transaction version reserves expansion opcodes.
    pub fn is_expansion(self, profile: VmProfile) -> bool {
        if self == Op::MULFRACTION {
            return profile == VmProfile::Main;
        }
        NAMES
            .get(usize::from(self.0))
            .is_none_or(|n| n.starts_with("NOPx"))
    }

    /// The opcode whose mnemonic is `name` under `profile`, as the assembler reads it (`0` and `TRUE`
    /// are accepted as synonyms; expansion opcodes have no assemblable name).
    pub fn from_name(name: &str, profile: VmProfile) -> Option<Op> {
        match name {
            "0" => return Some(Op::FALSE),
            "TRUE" => return Some(Op::OP_1),
            _ => {}
        }
        let index = NAMES.iter().position(|n| *n == name)?;
        let op = Op(u8::try_from(index).ok()?);
        if op.is_expansion(profile) { None } else { Some(op) }
    }

    /// Whether the opcode pushes data: `FALSE`, `DATA_n`, `PUSHDATAn` and `1`..`16` (not `1NEGATE`).
    pub fn is_pushdata(self) -> bool {
        self.0 <= Op::PUSHDATA4.0 || (Op::OP_1.0..=Op::OP_16.0).contains(&self.0)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name(VmProfile::Side))
    }
}

/// One parsed instruction: the opcode, its encoded length, and its immediate data (pushed bytes,
/// the small number of `1`..`16`, or the 4-byte address of a jump).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// The opcode.
    pub op: Op,
    /// Encoded length in bytes, opcode included.
    pub len: u32,
    /// Immediate data; empty for ops that have none.
    pub data: Vec<u8>,
}

impl Instruction {
    /// Whether this is a data push (see [`Op::is_pushdata`]).
    pub fn is_pushdata(&self) -> bool {
        self.op.is_pushdata()
    }
}

/// Bytes `start..start + len` of `prog`, or `ShortProgram` when they run past its end; the end is
/// computed in `u32` as the reference does, so an address overflow is `Overflow`.
fn immediate(prog: &[u8], start: u32, len: u32) -> Result<&[u8], VmError> {
    let end = start.checked_add(len).ok_or(VmError::Overflow)?;
    prog.get(to_index(start)..to_index(end))
        .ok_or(VmError::ShortProgram)
}

pub(crate) fn to_index(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Parses the instruction at `pc`.
///
/// # Consensus
/// Byte-for-byte the reference's `ParseOp` (`protocol/vm/ops.go`): lengths are little-endian,
/// the end of an instruction is computed in `u32` and must not pass the end of the program.
pub fn parse_op(prog: &[u8], pc: u32) -> Result<Instruction, VmError> {
    if prog.len() > 0x7fff_ffff {
        return Err(VmError::LongProgram);
    }
    let opcode = *prog.get(to_index(pc)).ok_or(VmError::ShortProgram)?;
    let op = Op(opcode);
    let after = pc.checked_add(1).ok_or(VmError::Overflow)?;
    let (len, data) = match opcode {
        0x51..=0x60 => (1, vec![opcode - 0x50]),
        0x01..=0x4b => {
            let n = u32::from(opcode);
            (n + 1, immediate(prog, after, n)?.to_vec())
        }
        0x4c => {
            let n = u32::from(*prog.get(to_index(after)).ok_or(VmError::ShortProgram)?);
            (n + 2, immediate(prog, after + 1, n)?.to_vec())
        }
        0x4d => {
            let raw = immediate(prog, after, 2)?;
            let n = u32::from(u16::from_le_bytes([raw[0], raw[1]]));
            (n + 3, immediate(prog, after + 2, n)?.to_vec())
        }
        0x4e => {
            let raw = immediate(prog, after, 4)?;
            let n = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]);
            let len = n.checked_add(5).ok_or(VmError::Overflow)?;
            pc.checked_add(len).ok_or(VmError::Overflow)?;
            (len, immediate(prog, after + 4, n)?.to_vec())
        }
        0x63 | 0x64 => (5, immediate(prog, after, 4)?.to_vec()),
        _ => (1, Vec::new()),
    };
    Ok(Instruction { op, len, data })
}

/// Parses a whole program; fails on the first instruction that runs past the end.
pub fn parse_program(prog: &[u8]) -> Result<Vec<Instruction>, VmError> {
    let mut result = Vec::new();
    let mut pc: u32 = 0;
    while to_index(pc) < prog.len() {
        let inst = parse_op(prog, pc)?;
        pc = pc.checked_add(inst.len).ok_or(VmError::Overflow)?;
        result.push(inst);
    }
    Ok(result)
}

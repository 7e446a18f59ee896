//! Text form of programs: the reference's assembler and disassembler (`protocol/vm/assemble.go`).

use std::collections::HashMap;

use crate::context::VmProfile;
use crate::error::{AssembleError, VmError};
use crate::ops::{Op, parse_op, to_index};
use crate::types::{pushdata_bytes, pushdata_int64};

/// Assembles under the Side profile's names (a superset of Main's, so every Main program assembles).
pub fn assemble(src: &str) -> Result<Vec<u8>, AssembleError> {
    assemble_for(VmProfile::Side, src)
}

/// Disassembles naming opcodes as the Side profile does (`MULFRACTION` rather than `NOPxa6`).
pub fn disassemble(prog: &[u8]) -> Result<String, VmError> {
    disassemble_for(VmProfile::Side, prog)
}

/// Assembles text such as `"DUP HASH160 0x0102 EQUALVERIFY"` into bytecode.
///
/// Tokens are separated by white space: opcode names (`PUSHDATAn` and bare `JUMP`/`JUMPIF` are refused,
/// pushes are inferred), decimal integers (minimal push), `0x` hex strings and `'quoted'` strings (pushed
/// as data, `\` escapes the next byte), labels `$name`, and jumps `JUMP:$name`, `JUMPIF:$name` or
/// `JUMP:<address>`.
pub fn assemble_for(profile: VmProfile, src: &str) -> Result<Vec<u8>, AssembleError> {
    let mut res: Vec<u8> = Vec::new();
    let mut locations: HashMap<String, u32> = HashMap::new();
    let mut unresolved: Vec<(String, usize)> = Vec::new();

    for token in tokens(src.as_bytes())? {
        let text = String::from_utf8_lossy(token).into_owned();
        if let Some(op) = Op::from_name(&text, profile) {
            if text.starts_with("PUSHDATA") || text.starts_with("JUMP") {
                return Err(AssembleError::Token(text));
            }
            res.push(op.0);
        } else if let Some(addr) = text.strip_prefix("JUMP:") {
            jump(&mut res, &mut unresolved, Op::JUMP, addr)?;
        } else if let Some(addr) = text.strip_prefix("JUMPIF:") {
            jump(&mut res, &mut unresolved, Op::JUMPIF, addr)?;
        } else if text.starts_with('$') {
            if locations.contains_key(&text) {
                return Err(AssembleError::LabelRedefined(text));
            }
            let here = u32::try_from(res.len())
                .ok()
                .filter(|l| *l <= 0x7fff_ffff)
                .ok_or(AssembleError::ProgramTooLong)?;
            locations.insert(text, here);
        } else if let Some(hex) = text.strip_prefix("0x") {
            let bytes = hex::decode(hex).map_err(|_| AssembleError::Hex(text.clone()))?;
            res.extend_from_slice(&pushdata_bytes(&bytes));
        } else if token.len() >= 2 && token.first() == Some(&b'\'') && token.last() == Some(&b'\'') {
            res.extend_from_slice(&pushdata_bytes(&unquote(token)));
        } else if let Ok(n) = text.parse::<i64>() {
            res.extend_from_slice(&pushdata_int64(n));
        } else {
            return Err(AssembleError::Token(text));
        }
    }

    for (label, at) in unresolved {
        let location = *locations
            .get(&label)
            .ok_or(AssembleError::UndefinedLabel(label))?;
        if let Some(slot) = res.get_mut(at..at + 4) {
            slot.copy_from_slice(&location.to_le_bytes());
        }
    }
    Ok(res)
}

fn jump(
    res: &mut Vec<u8>,
    unresolved: &mut Vec<(String, usize)>,
    op: Op,
    addr: &str,
) -> Result<(), AssembleError> {
    res.push(op.0);
    let at = res.len();
    if addr.starts_with('$') {
        unresolved.push((addr.to_owned(), at));
        res.extend_from_slice(&[0; 4]);
        return Ok(());
    }
    // Plain unsigned decimal, as Go's ParseUint(s, 10, 32) accepts (no sign).
    let address = Some(addr)
        .filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|a| a.parse::<u32>().ok())
        .ok_or_else(|| AssembleError::JumpAddress(addr.to_owned()))?;
    res.extend_from_slice(&address.to_le_bytes());
    Ok(())
}

/// Drops the quotes; a backslash takes the next byte literally.
fn unquote(token: &[u8]) -> Vec<u8> {
    let inner_end = token.len().saturating_sub(1);
    let mut out = Vec::with_capacity(inner_end);
    let mut i = 1;
    while i < inner_end {
        if token.get(i) == Some(&b'\\') {
            i += 1;
        }
        if let Some(b) = token.get(i) {
            out.push(*b);
        }
        i += 1;
    }
    out
}

/// White space as Go's `unicode.IsSpace` sees a single byte.
fn is_space_byte(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0x85 | 0xa0)
}

/// Splits like the reference: white-space separated words, except that a token starting with a quote
/// runs to the matching unescaped quote, spaces included.
fn tokens(src: &[u8]) -> Result<Vec<&[u8]>, AssembleError> {
    let text = std::str::from_utf8(src).ok();
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < src.len() {
        // Words are separated by Unicode white space (Go's bufio.ScanWords).
        let rest = src.get(pos..).unwrap_or_default();
        let skip = match text.and_then(|t| t.get(pos..)) {
            Some(s) => s
                .char_indices()
                .find(|(_, c)| !c.is_whitespace())
                .map_or(s.len(), |(i, _)| i),
            None => rest.iter().position(|b| !is_space_byte(*b)).unwrap_or(rest.len()),
        };
        pos += skip;
        let rest = src.get(pos..).unwrap_or_default();
        if rest.is_empty() {
            break;
        }
        if rest.first() == Some(&b'\'') {
            let mut escape = false;
            let mut close = None;
            for (i, b) in rest.iter().enumerate().skip(1) {
                if escape {
                    escape = false;
                } else if *b == b'\'' {
                    close = Some(i);
                    break;
                } else if *b == b'\\' {
                    escape = true;
                }
            }
            let close = close.ok_or(AssembleError::UnterminatedQuote)?;
            out.push(rest.get(..=close).unwrap_or_default());
            pos += close + 1;
            continue;
        }
        let len = match text.and_then(|t| t.get(pos..)) {
            Some(s) => s
                .char_indices()
                .find(|(_, c)| c.is_whitespace())
                .map_or(s.len(), |(i, _)| i),
            None => rest.iter().position(|b| is_space_byte(*b)).unwrap_or(rest.len()),
        };
        out.push(rest.get(..len).unwrap_or_default());
        pos += len;
    }
    Ok(out)
}

/// Names for jump targets, in order of first use.
const WORDS: [&str; 26] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo",
    "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor",
    "whisky", "xray", "yankee", "zulu",
];

/// Disassembles bytecode into the assembler's syntax: pushes become `0x<hex>` and jump targets get
/// labels (`alpha`, `bravo`, ..., `alpha2`, ...). Fails where the program does not parse.
pub fn disassemble_for(profile: VmProfile, prog: &[u8]) -> Result<String, VmError> {
    let mut insts = Vec::new();
    let mut labels: HashMap<u32, String> = HashMap::new();
    let mut pc: u32 = 0;
    while to_index(pc) < prog.len() {
        let inst = parse_op(prog, pc)?;
        if inst.op == Op::JUMP || inst.op == Op::JUMPIF {
            let addr = jump_address(&inst.data);
            let n = labels.len();
            labels.entry(addr).or_insert_with(|| {
                let word = WORDS.get(n % WORDS.len()).copied().unwrap_or("label");
                if n >= WORDS.len() {
                    format!("{word}{}", n / WORDS.len() + 1)
                } else {
                    word.to_owned()
                }
            });
        }
        pc = pc.checked_add(inst.len).ok_or(VmError::Overflow)?;
        insts.push(inst);
    }

    let mut parts = Vec::with_capacity(insts.len());
    let mut loc: u32 = 0;
    for inst in &insts {
        if let Some(label) = labels.get(&loc) {
            parts.push(format!("${label}"));
        }
        if inst.op == Op::JUMP || inst.op == Op::JUMPIF {
            let label = labels.get(&jump_address(&inst.data)).cloned().unwrap_or_default();
            parts.push(format!("{}:${label}", inst.op.name(profile)));
        } else if !inst.data.is_empty() {
            parts.push(format!("0x{}", hex::encode(&inst.data)));
        } else {
            parts.push(inst.op.name(profile).to_owned());
        }
        loc = loc.wrapping_add(inst.len);
    }
    if let Some(label) = labels.get(&loc) {
        parts.push(format!("${label}"));
    }
    Ok(parts.join(" "))
}

fn jump_address(data: &[u8]) -> u32 {
    let mut raw = [0u8; 4];
    raw.iter_mut().zip(data).for_each(|(r, d)| *r = *d);
    u32::from_le_bytes(raw)
}

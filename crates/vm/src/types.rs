//! The VM's encodings of booleans and integers as stack items.

use crate::error::VmError;

/// `[1]` for true, the empty string for false.
pub fn bool_bytes(b: bool) -> Vec<u8> {
    if b { vec![1] } else { Vec::new() }
}

/// True iff any byte is non-zero (so `[0, 0]` and the empty string are false).
pub fn as_bool(bytes: &[u8]) -> bool {
    bytes.iter().any(|b| *b != 0)
}

/// Little-endian two's complement with trailing zero bytes dropped; 0 is the empty string and
/// negative numbers always take 8 bytes.
pub fn int64_bytes(n: i64) -> Vec<u8> {
    let mut out = n.to_le_bytes().to_vec();
    while out.last() == Some(&0) {
        out.pop();
    }
    out
}

/// Reads at most 8 little-endian bytes, zero-extended (not sign-extended), as an `i64`; longer strings
/// are [`VmError::BadValue`].
pub fn as_int64(bytes: &[u8]) -> Result<i64, VmError> {
    if bytes.len() > 8 {
        return Err(VmError::BadValue);
    }
    let mut padded = [0u8; 8];
    padded.iter_mut().zip(bytes).for_each(|(p, b)| *p = *b);
    Ok(i64::from_le_bytes(padded))
}

/// Encodes `data` as the shortest push: `0`, `DATA_n`, `PUSHDATA1`, `PUSHDATA2` or `PUSHDATA4`.
pub fn pushdata_bytes(data: &[u8]) -> Vec<u8> {
    let len = data.len();
    let mut out = Vec::with_capacity(len + 5);
    if len == 0 {
        out.push(0x00);
        return out;
    }
    if let Ok(small) = u8::try_from(len) {
        if small <= 75 {
            out.push(small);
        } else {
            out.extend_from_slice(&[0x4c, small]);
        }
    } else if let Ok(medium) = u16::try_from(len) {
        out.push(0x4d);
        out.extend_from_slice(&medium.to_le_bytes());
    } else {
        // Longer than u32::MAX cannot be a program; the reference truncates the length the same way.
        #[allow(clippy::cast_possible_truncation)] // deliberate: matches the reference's uint32 conversion
        let large = len as u32;
        out.push(0x4e);
        out.extend_from_slice(&large.to_le_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// Encodes `n` as the shortest push: `0`, `1`..`16` as single opcodes, otherwise its [`int64_bytes`].
pub fn pushdata_int64(n: i64) -> Vec<u8> {
    match u8::try_from(n) {
        Ok(0) => vec![0x00],
        Ok(small @ 1..=16) => vec![0x50 + small],
        _ => pushdata_bytes(&int64_bytes(n)),
    }
}

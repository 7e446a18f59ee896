//! The wire primitives. The references ship no tests for `encoding/blockchain`; these follow its code
//! (Go's `binary.ReadUvarint` plus the 31/63-bit range checks, varstrs, extensible strings with suffix)
//! and the varint failure cases of `protocol/bc/types/block_header_test.go` (TestUnmarshalBlockHeader).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use types::codec::{DecodeError, Reader, Writer, put_uvarint, uvarint_len};

fn enc(v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    put_uvarint(&mut out, v);
    out
}

#[test]
fn varint_encodings() {
    let cases: [(u64, &str); 7] = [
        (0, "00"),
        (1, "01"),
        (127, "7f"),
        (128, "8001"),
        (300, "ac02"),
        (254354, "92c30f"),
        (u64::MAX, "ffffffffffffffffff01"),
    ];
    for (v, hex_str) in cases {
        let b = hex::decode(hex_str).unwrap();
        assert_eq!(enc(v), b, "{v}");
        assert_eq!(uvarint_len(v), b.len());
        let mut r = Reader::new(&b);
        assert_eq!(r.read_uvarint("v").unwrap(), v);
        assert_eq!(r.remaining(), 0);
    }
    // Values from block_header_test.go: height 10000 and the bits field.
    assert_eq!(enc(10000), hex::decode("904e").unwrap());
    assert_eq!(
        enc(2305843009214532812),
        hex::decode("cc99b3808080808020").unwrap()
    );
}

#[test]
fn varint_failures() {
    // A non-minimal encoding is accepted, as Go's reader does.
    let mut r = Reader::new(&[0x80, 0x00]);
    assert_eq!(r.read_uvarint("v").unwrap(), 0);
    // Tenth byte above 1.
    let b = hex::decode("ffffffffffffffffff02").unwrap();
    assert_eq!(
        Reader::new(&b).read_uvarint("v"),
        Err(DecodeError::VarintOverflow { what: "v", offset: 0 })
    );
    // Eleven bytes.
    let b = hex::decode("ffffffffffffffffff8001").unwrap();
    assert!(matches!(
        Reader::new(&b).read_uvarint("v"),
        Err(DecodeError::VarintOverflow { .. })
    ));
    // Cut short, and empty.
    let b = hex::decode("ffffffffffffffff80").unwrap();
    assert!(matches!(
        Reader::new(&b).read_uvarint("v"),
        Err(DecodeError::UnexpectedEnd { .. })
    ));
    assert!(matches!(
        Reader::new(&[]).read_uvarint("v"),
        Err(DecodeError::UnexpectedEnd { needed: 1, .. })
    ));
}

#[test]
fn varint_ranges() {
    let max31 = enc(i32::MAX as u64);
    assert_eq!(Reader::new(&max31).read_varint31("n").unwrap(), i32::MAX as u32);
    let over31 = enc(1 << 31);
    assert_eq!(
        Reader::new(&over31).read_varint31("n"),
        Err(DecodeError::OutOfRange {
            what: "n",
            offset: 0,
            value: 1 << 31,
            bits: 31
        })
    );
    let max63 = enc(i64::MAX as u64);
    assert_eq!(Reader::new(&max63).read_varint63("n").unwrap(), i64::MAX as u64);
    let over63 = enc(1 << 63);
    assert!(matches!(
        Reader::new(&over63).read_varint63("n"),
        Err(DecodeError::OutOfRange { bits: 63, .. })
    ));
}

#[test]
fn varstrs_and_lists() {
    let mut w = Writer::new();
    w.put_varstr(b"abc");
    w.put_varstr_list(&[b"x".to_vec(), vec![], b"yz".to_vec()]);
    let b = w.into_bytes();
    assert_eq!(
        b,
        hex::decode("03616263030178000279 7a".replace(' ', "")).unwrap()
    );
    let mut r = Reader::new(&b);
    assert_eq!(r.read_varstr(10, "s").unwrap(), b"abc");
    assert_eq!(
        r.read_varstr_list(3, 2, "l").unwrap(),
        vec![b"x".to_vec(), vec![], b"yz".to_vec()]
    );
    r.expect_end("all").unwrap();

    // Limits: a string longer than allowed, a list with too many items, an item too long.
    assert!(matches!(
        Reader::new(&b).read_varstr(2, "s"),
        Err(DecodeError::LimitExceeded {
            what: "s",
            value: 3,
            limit: 2,
            ..
        })
    ));
    let mut r = Reader::new(&b);
    r.read_varstr(10, "s").unwrap();
    assert!(matches!(
        r.clone().read_varstr_list(2, 2, "l"),
        Err(DecodeError::LimitExceeded { value: 3, .. })
    ));
    assert!(matches!(
        r.read_varstr_list(3, 1, "l"),
        Err(DecodeError::LimitExceeded { value: 2, .. })
    ));

    // A length beyond the input.
    assert!(matches!(
        Reader::new(&[0x05, 1, 2]).read_varstr(100, "s"),
        Err(DecodeError::UnexpectedEnd {
            needed: 5,
            remaining: 2,
            ..
        })
    ));
    // A huge claimed count allocates nothing up front and fails on the missing bytes.
    let huge = enc(i32::MAX as u64);
    assert!(matches!(
        Reader::new(&huge).read_varstr_list(usize::MAX, usize::MAX, "l"),
        Err(DecodeError::UnexpectedEnd { .. })
    ));
}

#[test]
fn extensible_strings_keep_their_suffix() {
    // A string holding a varint the reader understands, followed by bytes it does not.
    let mut w = Writer::new();
    w.put_extensible(&[0xde, 0xad], |w| w.put_uvarint(300));
    let b = w.into_bytes();
    assert_eq!(b, hex::decode("04ac02dead").unwrap());
    let mut r = Reader::new(&b);
    let (v, suffix) = r.read_extensible(10, "ext", |r| r.read_uvarint("inner")).unwrap();
    assert_eq!((v, suffix.as_slice()), (300, &[0xde, 0xad][..]));
    assert_eq!(r.remaining(), 0);

    // Errors inside a nested string report absolute offsets.
    let b = [0xaa, 0x02, 0xff, 0xff];
    let mut r = Reader::new(&b);
    r.read_u8("lead").unwrap();
    let err = r
        .read_extensible(10, "ext", |r| r.read_uvarint("inner"))
        .unwrap_err();
    assert_eq!(
        err,
        DecodeError::UnexpectedEnd {
            what: "inner",
            offset: 2,
            needed: 3,
            remaining: 2
        }
    );

    // The string's own length is bounded.
    assert!(matches!(
        Reader::new(&b[1..]).read_extensible(1, "ext", |_| Ok(())),
        Err(DecodeError::LimitExceeded { what: "ext", .. })
    ));
}

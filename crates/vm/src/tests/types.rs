//! Vectors from `protocol/vm/types_test.go`: TestBoolBytes, TestAsBool, TestInt64.

use crate::error::VmError;
use crate::types::{as_bool, as_int64, bool_bytes, int64_bytes};

#[test]
fn bool_bytes_vectors() {
    assert_eq!(bool_bytes(true), vec![1]);
    assert_eq!(bool_bytes(false), Vec::<u8>::new());
}

#[test]
fn as_bool_vectors() {
    let cases: [(&[u8], bool); 8] = [
        (&[0, 0, 0, 0], false),
        (&[0], false),
        (&[], false),
        (&[1], true),
        (&[1, 1, 1, 1], true),
        (&[0, 0, 0, 1], true),
        (&[1, 0, 0, 0], true),
        (&[2], true),
    ];
    for (data, want) in cases {
        assert_eq!(as_bool(data), want, "{data:?}");
    }
}

#[test]
fn int64_vectors() {
    let cases: [(i64, &[u8]); 7] = [
        (0, &[]),
        (1, &[0x01]),
        (255, &[0xff]),
        (256, &[0x00, 0x01]),
        (1 << 16, &[0x00, 0x00, 0x01]),
        (-1, &[0xff; 8]),
        (-2, &[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
    ];
    for (num, data) in cases {
        assert_eq!(int64_bytes(num), data, "{num}");
        assert_eq!(as_int64(data), Ok(num), "{data:?}");
    }
    assert_eq!(as_int64(&[1; 9]), Err(VmError::BadValue));
}

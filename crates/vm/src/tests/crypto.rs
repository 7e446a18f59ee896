//! Vectors from `protocol/vm/crypto_test.go` (TestCryptoOps), Bytom v1.1.0 and Vapor.

use super::*;

#[test]
fn testcryptoops_table() {
    let mut cases = vec![
        opc(
            Op::SHA256,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49905,
                data_stack: vec![vec![
                    75, 245, 18, 47, 52, 69, 84, 197, 59, 222, 46, 187, 140, 210, 183, 227, 209, 96, 10, 214,
                    49, 195, 133, 165, 215, 204, 226, 60, 119, 133, 69, 154,
                ]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::SHA256,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0u8; 65]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49968,
                data_stack: vec![vec![
                    152, 206, 66, 222, 239, 81, 212, 2, 105, 213, 66, 245, 49, 75, 239, 44, 116, 104, 212, 1,
                    173, 93, 133, 22, 139, 250, 180, 192, 16, 143, 117, 247,
                ]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::SHA3,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49905,
                data_stack: vec![vec![
                    39, 103, 241, 92, 138, 242, 242, 199, 34, 93, 82, 115, 253, 214, 131, 237, 199, 20, 17,
                    10, 152, 125, 16, 84, 105, 124, 52, 138, 237, 78, 108, 199,
                ]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::SHA3,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0u8; 65]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49968,
                data_stack: vec![vec![
                    65, 106, 167, 181, 192, 224, 101, 48, 102, 167, 198, 77, 189, 208, 0, 157, 190, 132, 56,
                    97, 81, 254, 3, 159, 217, 66, 250, 162, 219, 97, 114, 235,
                ]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::HASH160,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![1]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49916,
                data_stack: vec![vec![
                    242, 145, 186, 80, 21, 223, 52, 140, 128, 133, 63, 165, 187, 15, 121, 70, 245, 201, 225,
                    179,
                ]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::HASH160,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![0u8; 65]],
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49916,
                data_stack: vec![vec![
                    171, 60, 102, 205, 10, 63, 18, 180, 244, 250, 235, 84, 138, 85, 22, 7, 148, 250, 215, 6,
                ]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::CHECKSIG,
            Frame {
                run_limit: 50000,
                data_stack: vec![
                    hx(concat!(
                        "af5abdf4bbb34f4a089efc298234f84fd909def662a8df03b4d7d40372728851",
                        "fbd3bf59920af5a7c361a4851967714271d1727e3be417a60053c30969d8860c"
                    )),
                    hx("916f0027a575074ce72a331777c3478d6513f786a591bd892da1a577bf2335f9"),
                    hx("ab3220d065dc875c6a5b4ecc39809b5f24eb0a605e9eef5190457edbf1e3b866"),
                ],
                ..Frame::default()
            },
            Ok(Frame {
                deferred_cost: -143,
                run_limit: 48976,
                data_stack: vec![vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::CHECKSIG,
            Frame {
                run_limit: 50000,
                data_stack: vec![
                    hx(concat!(
                        "af5abdf4bbb34f4a089efc298234f84fd909def662a8df03b4d7d40372728851",
                        "fbd3bf59920af5a7c361a4851967714271d1727e3be417a60053c30969d8860c"
                    )),
                    hx("badda7a7a575074ce72a331777c3478d6513f786a591bd892da1a577bf2335f9"),
                    hx("ab3220d065dc875c6a5b4ecc39809b5f24eb0a605e9eef5190457edbf1e3b866"),
                ],
                ..Frame::default()
            },
            Ok(Frame {
                deferred_cost: -144,
                run_limit: 48976,
                data_stack: vec![vec![]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::CHECKSIG,
            Frame {
                run_limit: 50000,
                data_stack: vec![
                    hx(concat!(
                        "af5abdf4bbb34f4a089efc298234f84fd909def662a8df03b4d7d40372728851",
                        "fbd3bf59920af5a7c361a4851967714271d1727e3be417a60053c30969d8860c"
                    )),
                    hx("916f0027a575074ce72a331777c3478d6513f786a591bd892da1a577bf2335f9"),
                    hx("bad220d065dc875c6a5b4ecc39809b5f24eb0a605e9eef5190457edbf1e3b866"),
                ],
                ..Frame::default()
            },
            Ok(Frame {
                deferred_cost: -144,
                run_limit: 48976,
                data_stack: vec![vec![]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::CHECKSIG,
            Frame {
                run_limit: 50000,
                data_stack: vec![
                    hx(concat!(
                        "badabdf4bbb34f4a089efc298234f84fd909def662a8df03b4d7d40372728851",
                        "fbd3bf59920af5a7c361a4851967714271d1727e3be417a60053c30969d8860c"
                    )),
                    hx("916f0027a575074ce72a331777c3478d6513f786a591bd892da1a577bf2335f9"),
                    hx("ab3220d065dc875c6a5b4ecc39809b5f24eb0a605e9eef5190457edbf1e3b866"),
                ],
                ..Frame::default()
            },
            Ok(Frame {
                deferred_cost: -144,
                run_limit: 48976,
                data_stack: vec![vec![]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::CHECKSIG,
            Frame {
                run_limit: 50000,
                data_stack: vec![
                    hx(concat!(
                        "af5abdf4bbb34f4a089efc298234f84fd909def662a8df03b4d7d40372728851",
                        "fbd3bf59920af5a7c361a4851967714271d1727e3be417a60053c30969d8860c"
                    )),
                    hx("badbad"),
                    hx("ab3220d065dc875c6a5b4ecc39809b5f24eb0a605e9eef5190457edbf1e3b866"),
                ],
                ..Frame::default()
            },
            Err(VmError::BadValue),
        ),
        opc(
            Op::CHECKSIG,
            Frame {
                run_limit: 0,
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
        opc(
            Op::CHECKMULTISIG,
            Frame {
                run_limit: 50000,
                data_stack: vec![
                    hx(
                        "af5abdf4bbb34f4a089efc298234f84fd909def662a8df03b4d7d40372728851fbd3bf59920af5a7c361a4851967714271d1727e3be417a60053c30969d8860c",
                    ),
                    hx("916f0027a575074ce72a331777c3478d6513f786a591bd892da1a577bf2335f9"),
                    hx("ab3220d065dc875c6a5b4ecc39809b5f24eb0a605e9eef5190457edbf1e3b866"),
                    vec![1],
                    vec![1],
                ],
                ..Frame::default()
            },
            Ok(Frame {
                deferred_cost: -161,
                run_limit: 48976,
                data_stack: vec![vec![1]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::CHECKMULTISIG,
            Frame {
                run_limit: 50000,
                data_stack: vec![
                    hx(
                        "badabdf4bbb34f4a089efc298234f84fd909def662a8df03b4d7d40372728851fbd3bf59920af5a7c361a4851967714271d1727e3be417a60053c30969d8860c",
                    ),
                    hx("916f0027a575074ce72a331777c3478d6513f786a591bd892da1a577bf2335f9"),
                    hx("ab3220d065dc875c6a5b4ecc39809b5f24eb0a605e9eef5190457edbf1e3b866"),
                    vec![1],
                    vec![1],
                ],
                ..Frame::default()
            },
            Ok(Frame {
                deferred_cost: -162,
                run_limit: 48976,
                data_stack: vec![vec![]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::CHECKMULTISIG,
            Frame {
                run_limit: 50000,
                data_stack: vec![],
                ..Frame::default()
            },
            Err(VmError::DataStackUnderflow),
        ),
        opc(
            Op::CHECKMULTISIG,
            Frame {
                run_limit: 50000,
                data_stack: vec![vec![1], vec![1]],
                ..Frame::default()
            },
            Err(VmError::DataStackUnderflow),
        ),
        opc(
            Op::CHECKMULTISIG,
            Frame {
                run_limit: 50000,
                data_stack: vec![
                    hx("916f0027a575074ce72a331777c3478d6513f786a591bd892da1a577bf2335f9"),
                    vec![1],
                    vec![1],
                ],
                ..Frame::default()
            },
            Err(VmError::DataStackUnderflow),
        ),
        opc(
            Op::CHECKMULTISIG,
            Frame {
                run_limit: 50000,
                data_stack: vec![
                    hx("ab3220d065dc875c6a5b4ecc39809b5f24eb0a605e9eef5190457edbf1e3b866"),
                    hx("916f0027a575074ce72a331777c3478d6513f786a591bd892da1a577bf2335f9"),
                    vec![1],
                    vec![1],
                ],
                ..Frame::default()
            },
            Err(VmError::DataStackUnderflow),
        ),
        opc(
            Op::CHECKMULTISIG,
            Frame {
                run_limit: 50000,
                data_stack: vec![
                    hx(
                        "af5abdf4bbb34f4a089efc298234f84fd909def662a8df03b4d7d40372728851fbd3bf59920af5a7c361a4851967714271d1727e3be417a60053c30969d8860c",
                    ),
                    hx("badbad"),
                    hx("ab3220d065dc875c6a5b4ecc39809b5f24eb0a605e9eef5190457edbf1e3b866"),
                    vec![1],
                    vec![1],
                ],
                ..Frame::default()
            },
            Err(VmError::BadValue),
        ),
        opc(
            Op::CHECKMULTISIG,
            Frame {
                run_limit: 50000,
                data_stack: vec![
                    hx(
                        "af5abdf4bbb34f4a089efc298234f84fd909def662a8df03b4d7d40372728851fbd3bf59920af5a7c361a4851967714271d1727e3be417a60053c30969d8860c",
                    ),
                    hx("916f0027a575074ce72a331777c3478d6513f786a591bd892da1a577bf2335f9"),
                    hx("ab3220d065dc875c6a5b4ecc39809b5f24eb0a605e9eef5190457edbf1e3b866"),
                    vec![1],
                    vec![0],
                ],
                ..Frame::default()
            },
            Err(VmError::BadValue),
        ),
        opc(
            Op::CHECKMULTISIG,
            Frame {
                run_limit: 50000,
                data_stack: vec![
                    hx(
                        "af5abdf4bbb34f4a089efc298234f84fd909def662a8df03b4d7d40372728851fbd3bf59920af5a7c361a4851967714271d1727e3be417a60053c30969d8860c",
                    ),
                    hx("916f0027a575074ce72a331777c3478d6513f786a591bd892da1a577bf2335f9"),
                    hx("ab3220d065dc875c6a5b4ecc39809b5f24eb0a605e9eef5190457edbf1e3b866"),
                    vec![0],
                    vec![1],
                ],
                ..Frame::default()
            },
            Err(VmError::BadValue),
        ),
        opc(
            Op::CHECKMULTISIG,
            Frame {
                run_limit: 50000,
                data_stack: vec![
                    hx(
                        "af5abdf4bbb34f4a089efc298234f84fd909def662a8df03b4d7d40372728851fbd3bf59920af5a7c361a4851967714271d1727e3be417a60053c30969d8860c",
                    ),
                    hx("916f0027a575074ce72a331777c3478d6513f786a591bd892da1a577bf2335f9"),
                    hx("ab3220d065dc875c6a5b4ecc39809b5f24eb0a605e9eef5190457edbf1e3b866"),
                    vec![2],
                    vec![1],
                ],
                ..Frame::default()
            },
            Err(VmError::BadValue),
        ),
        opc(
            Op::CHECKMULTISIG,
            Frame {
                run_limit: 0,
                data_stack: vec![
                    hx(
                        "af5abdf4bbb34f4a089efc298234f84fd909def662a8df03b4d7d40372728851fbd3bf59920af5a7c361a4851967714271d1727e3be417a60053c30969d8860c",
                    ),
                    hx("916f0027a575074ce72a331777c3478d6513f786a591bd892da1a577bf2335f9"),
                    hx("ab3220d065dc875c6a5b4ecc39809b5f24eb0a605e9eef5190457edbf1e3b866"),
                    vec![1],
                    vec![1],
                ],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
        opc(
            Op::TXSIGHASH,
            Frame {
                run_limit: 50000,
                ..Frame::default()
            },
            Ok(Frame {
                run_limit: 49704,
                data_stack: vec![vec![
                    47, 0, 60, 221, 100, 66, 123, 94, 237, 214, 204, 181, 133, 71, 2, 11, 2, 222, 242, 45,
                    197, 153, 126, 157, 169, 172, 64, 73, 195, 74, 88, 216,
                ]],
                ..Frame::default()
            }),
        ),
        opc(
            Op::TXSIGHASH,
            Frame {
                run_limit: 0,
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ),
    ];
    // The reference appends, for each of these ops, a start state with too little gas.
    for op in [Op::SHA256, Op::SHA3] {
        cases.push(opc(
            op,
            Frame {
                run_limit: 0,
                data_stack: vec![vec![1]],
                ..Frame::default()
            },
            Err(VmError::RunLimitExceeded),
        ));
    }
    run_op_cases(cases);
}

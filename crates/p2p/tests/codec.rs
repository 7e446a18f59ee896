#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The message codec: frozen vectors, round trips, and arbitrary or mutated bytes never panicking.

mod common;

use p2p::compact::{CompactBlock, ShortId};
use p2p::message::{CodecConfig, Message, MessageError, Status};
use proptest::prelude::*;
use types::{Hash, Profile};

fn cfg() -> CodecConfig {
    CodecConfig::new(Profile::Main)
}

#[test]
fn frozen_vectors() {
    let cases: Vec<(Message, String)> = vec![
        (Message::Ping(1), "010a0000000000000001".into()),
        (Message::Pong(u64::MAX), "010bffffffffffffffff".into()),
        (
            Message::GetBlocks {
                from_height: 300,
                count: 16,
            },
            "0107ac0210".into(),
        ),
        (
            Message::Status(Status {
                chain_id: Hash([1; 32]),
                best_height: 5,
                best_hash: Hash([2; 32]),
                final_height: 4,
            }),
            format!("0100{}05{}04", "01".repeat(32), "02".repeat(32)),
        ),
        (
            Message::TxInventory(vec![Hash([3; 32])]),
            format!("010201{}", "03".repeat(32)),
        ),
        (Message::GetTransactions(vec![]), "010300".into()),
        (Message::Consensus(vec![0xaa, 0xbb]), "010902aabb".into()),
        (
            Message::GetBlockTransactions {
                block_hash: Hash([4; 32]),
                indexes: vec![1, 200],
            },
            format!("0105{}0201c801", "04".repeat(32)),
        ),
    ];
    for (m, hex) in cases {
        assert_eq!(hex::encode(m.encode()), hex, "{m:?}");
        assert_eq!(Message::decode(&hex::decode(&hex).unwrap(), &cfg()).unwrap(), m);
    }
}

#[test]
fn typed_errors() {
    let c = cfg();
    assert_eq!(Message::decode(&[], &c), Err(MessageError::Truncated));
    assert_eq!(Message::decode(&[1], &c), Err(MessageError::Truncated));
    assert_eq!(
        Message::decode(&[2, 0], &c),
        Err(MessageError::UnsupportedVersion(2))
    );
    assert_eq!(Message::decode(&[1, 12], &c), Err(MessageError::UnknownKind(12)));
    assert!(matches!(
        Message::decode(&[1, 7, 0, 0], &c),
        Err(MessageError::BadBlockCount { count: 0, .. })
    ));
    assert!(matches!(
        Message::decode(&[1, 7, 0, 129, 1], &c),
        Err(MessageError::BadBlockCount { count: 129, max: 128 })
    ));
    // Trailing bytes.
    assert!(matches!(
        Message::decode(&hex::decode("010a000000000000000100").unwrap(), &c),
        Err(MessageError::Decode(types::DecodeError::TrailingBytes { .. }))
    ));
    // A count above the configured bound is refused before reading the items.
    let mut small = c;
    small.max_inventory = 2;
    let m = Message::TxInventory(vec![Hash([0; 32]); 3]).encode();
    assert!(matches!(
        Message::decode(&m, &small),
        Err(MessageError::Decode(types::DecodeError::LimitExceeded {
            value: 3,
            limit: 2,
            ..
        }))
    ));
    let mut small = c;
    small.max_consensus_bytes = 4;
    assert!(Message::decode(&Message::Consensus(vec![0; 5]).encode(), &small).is_err());
    // Blocks must be full blocks: a header-only encoding in a Blocks message is refused.
    let header_only = common::block(1, 0, 1).header().encode();
    let mut m = vec![1u8, 8, 1];
    types::codec::put_uvarint(&mut m, u64::try_from(header_only.len()).unwrap());
    m.extend_from_slice(&header_only);
    assert!(matches!(
        Message::decode(&m, &c),
        Err(MessageError::NotFullBlock { index: 0, flags: 1 })
    ));
    // A huge declared count with no bytes behind it fails on the bytes, without allocating.
    assert!(Message::decode(&[1, 2, 0xff, 0xff, 0x03], &c).is_err());
}

#[test]
fn transactions_decode_under_the_profile() {
    // A main-chain transaction is read with the sidechain's rules: typed error, no panic.
    let m = Message::Transactions(vec![common::tx(1)]).encode();
    assert!(Message::decode(&m, &cfg()).is_ok());
    let _ = Message::decode(&m, &CodecConfig::new(Profile::Side));
}

/// Relayed transactions encoded from their bytes are the same message as encoded from the
/// decoded transactions, and decode back to them.
#[test]
fn raw_transactions_encode_as_the_typed_message() {
    let txs = vec![common::tx(1), common::tx(2), common::tx(3)];
    let raw: Vec<Vec<u8>> = txs.iter().map(|t| t.encode()).collect();
    let bytes = p2p::message::encode_raw_transactions(&raw);
    assert_eq!(bytes, Message::Transactions(txs.clone()).encode());
    assert_eq!(
        Message::decode(&bytes, &cfg()).unwrap(),
        Message::Transactions(txs)
    );
    assert_eq!(
        p2p::message::encode_raw_transactions(&[]),
        Message::Transactions(Vec::new()).encode()
    );
}

/// A catch-up reply encoded from the stored blocks' bytes is the same message as encoded from the
/// decoded blocks, and decodes back to them.
#[test]
fn raw_blocks_encode_as_the_typed_message() {
    let blocks = vec![
        common::block(1, 10, 2),
        common::block(2, 20, 0),
        common::block(3, 30, 5),
    ];
    let raw: Vec<Vec<u8>> = blocks.iter().map(|b| b.encode()).collect();
    let bytes = p2p::message::encode_raw_blocks(&raw);
    assert_eq!(bytes, Message::Blocks(blocks.clone()).encode());
    assert_eq!(Message::decode(&bytes, &cfg()).unwrap(), Message::Blocks(blocks));
}

fn hash() -> impl Strategy<Value = Hash> {
    any::<[u8; 32]>().prop_map(Hash)
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (hash(), any::<u64>(), hash(), any::<u64>()).prop_map(|(c, b, h, f)| Message::Status(Status {
            chain_id: c,
            best_height: b,
            best_hash: h,
            final_height: f,
        })),
        prop::collection::vec(0u64..1_000_000, 0..5)
            .prop_map(|s| Message::Transactions(s.into_iter().map(common::tx).collect())),
        prop::collection::vec(hash(), 0..20).prop_map(Message::TxInventory),
        prop::collection::vec(hash(), 0..20).prop_map(Message::GetTransactions),
        (
            1u64..1000,
            0u64..1000,
            1u64..8,
            prop::collection::vec(0usize..8, 0..4)
        )
            .prop_map(
                |(h, base, n, pre)| Message::CompactBlock(CompactBlock::from_block(
                    &common::block(h, base, n),
                    &pre
                ))
            ),
        (hash(), prop::collection::vec(any::<u32>(), 0..20))
            .prop_map(|(block_hash, indexes)| Message::GetBlockTransactions { block_hash, indexes }),
        (hash(), prop::collection::vec(0u64..1000, 0..4)).prop_map(|(block_hash, s)| {
            Message::BlockTransactions {
                block_hash,
                transactions: s.into_iter().map(common::tx).collect(),
            }
        }),
        (any::<u64>(), 1u32..=128).prop_map(|(from_height, count)| Message::GetBlocks { from_height, count }),
        prop::collection::vec((1u64..1000, 0u64..1000, 0u64..4), 0..3)
            .prop_map(|bs| Message::Blocks(bs.into_iter().map(|(h, b, n)| common::block(h, b, n)).collect())),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(Message::Consensus),
        any::<u64>().prop_map(Message::Ping),
        any::<u64>().prop_map(Message::Pong),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn round_trip(m in message()) {
        let bytes = m.encode();
        prop_assert_eq!(Message::decode(&bytes, &cfg()).unwrap(), m);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Message::decode(&bytes, &cfg());
        // With a valid header, so the body parsers see the arbitrary bytes.
        for kind in 0u8..13 {
            let mut b = vec![1, kind];
            b.extend_from_slice(&bytes);
            let _ = Message::decode(&b, &cfg());
        }
    }

    #[test]
    fn mutated_encodings_never_panic(m in message(), pos in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        let bytes = m.encode();
        // Every message is self-delimiting and must fill its bytes, so no strict prefix decodes.
        let prefix = &bytes[..cut % bytes.len()];
        prop_assert!(Message::decode(prefix, &cfg()).is_err());
        let mut mutated = bytes.clone();
        let i = pos % mutated.len();
        mutated[i] = byte;
        let _ = Message::decode(&mutated, &cfg());
    }

    #[test]
    fn short_ids_are_six_bytes_of_siphash_keyed_by_the_salt(block_hash in hash(), tx_id in hash()) {
        let s = p2p::compact::salt(&block_hash);
        let ShortId(id) = p2p::compact::short_id(&s, &tx_id);
        // The standard library's SipHash-2-4 (deprecated for hash maps, still the reference
        // algorithm) as the oracle.
        #[allow(deprecated)]
        let expected = {
            use std::hash::Hasher;
            let key = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap());
            let mut h = std::hash::SipHasher::new_with_keys(key(&s[..8]), key(&s[8..16]));
            h.write(tx_id.as_bytes());
            h.finish().to_le_bytes()
        };
        prop_assert_eq!(&id[..], &expected[..6]);
    }
}

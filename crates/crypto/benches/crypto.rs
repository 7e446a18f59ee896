//! Benchmarks: ed25519 single vs batch verification (per-signature throughput), chainkd
//! signing, SM2 verification, SHA3-256 and SM3 of 256 bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use criterion::{BatchSize, Criterion, Throughput, black_box, criterion_group, criterion_main};
use crypto::chainkd::XPrv;
use crypto::ed25519::{self, BatchVerifier};
use crypto::sm2::Sm2SigningKey;
use rand_core::OsRng;

fn signed(n: usize) -> Vec<([u8; 32], Vec<u8>, [u8; 64])> {
    (0..n)
        .map(|i| {
            let key = XPrv::root(&i.to_le_bytes());
            let msg = format!("transaction sighash {i}").into_bytes();
            let sig = key.sign(&msg);
            (key.xpub().public_key(), msg, sig)
        })
        .collect()
}

fn ed25519_verify(c: &mut Criterion) {
    for n in [64usize, 1024] {
        let entries = signed(n);
        let mut group = c.benchmark_group(format!("ed25519/{n}"));
        // Throughput in elements = signatures per second.
        group.throughput(Throughput::Elements(u64::try_from(n).unwrap()));
        group.bench_function("single", |b| {
            b.iter(|| {
                for (pk, msg, sig) in &entries {
                    assert!(ed25519::verify(pk, msg, sig));
                }
            })
        });
        group.bench_function("batch", |b| {
            b.iter(|| {
                let mut batch = BatchVerifier::new();
                for (pk, msg, sig) in &entries {
                    batch.queue(pk, msg, sig);
                }
                batch.verify(OsRng).unwrap();
            })
        });
        group.finish();
    }
}

/// One key signing every message (an account paying many transfers, as `bench cluster`'s load
/// does), at the batch sizes the ledger could use: the batch combines a key's terms into one.
fn ed25519_one_key_batches(c: &mut Criterion) {
    let key = XPrv::root(b"one payer");
    let pk = key.xpub().public_key();
    for n in [64usize, 128, 256, 512] {
        let entries: Vec<(Vec<u8>, [u8; 64])> = (0..n)
            .map(|i| {
                let msg = format!("transaction sighash {i}").into_bytes();
                let sig = key.sign(&msg);
                (msg, sig)
            })
            .collect();
        let mut group = c.benchmark_group(format!("ed25519-one-key/{n}"));
        group.throughput(Throughput::Elements(u64::try_from(n).unwrap()));
        group.bench_function("batch", |b| {
            b.iter(|| {
                let mut batch = BatchVerifier::new();
                for (msg, sig) in &entries {
                    batch.queue(&pk, msg, sig);
                }
                batch.verify(OsRng).unwrap();
            })
        });
        group.finish();
    }
}

fn chainkd_sign(c: &mut Criterion) {
    let key = XPrv::root(b"bench");
    let msg = [7u8; 32];
    c.bench_function("chainkd/sign", |b| b.iter(|| key.sign(black_box(&msg))));
    c.bench_function("chainkd/derive_xpub_bip44", |b| {
        let xpub = key.xpub();
        let path = crypto::chainkd::path::bip44_path(1, false, 1);
        b.iter(|| xpub.derive(black_box(&path)).unwrap())
    });
}

fn sm2_verify(c: &mut Criterion) {
    let key = Sm2SigningKey::generate(&mut OsRng);
    let public = key.public_key();
    let msg = [7u8; 32];
    let sig = key.sign(&msg);
    c.bench_function("sm2/verify", |b| {
        b.iter(|| assert!(public.verify(black_box(&msg), &sig)))
    });
    c.bench_function("sm2/sign", |b| b.iter(|| key.sign(black_box(&msg))));
}

fn hashes(c: &mut Criterion) {
    let data = [0x5au8; 256];
    let mut group = c.benchmark_group("hash/256B");
    group.throughput(Throughput::Bytes(256));
    group.bench_function("sha3-256", |b| b.iter(|| crypto::sha3_256(black_box(&data))));
    group.bench_function("sm3", |b| b.iter(|| crypto::sm3(black_box(&data))));
    group.finish();
    c.bench_function("sm4/seal_1KiB", |b| {
        let key = crypto::sm4::SealKey::from_bytes([1u8; 32]);
        b.iter_batched(
            || vec![0u8; 1024],
            |p| key.seal(&mut OsRng, b"", &p),
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(
    benches,
    ed25519_verify,
    ed25519_one_key_batches,
    chainkd_sign,
    sm2_verify,
    hashes
);
criterion_main!(benches);

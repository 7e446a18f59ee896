//! Tensority throughput with the cache built, and the cache build itself; each hot path once with
//! the portable kernel and once with the kernel the CPU dispatch picks, in the same run.
//! `cargo bench -p tributary-pow --bench tensority`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use pow::matrix::Kernel;
use pow::tensority::{Cache, hash, hash_single_threaded, hash_single_threaded_with_kernel, hash_with_kernel};
use types::Hash;

fn h(s: &str) -> Hash {
    Hash::from_hex(s).unwrap()
}

fn benches(c: &mut Criterion) {
    // algorithm_test.go case 1 (the reference's BenchmarkLegacyAlgorithm input).
    let header = h("d0dad73fb2dabf3353fda15571b4e5f6ac62ff187b354fadd4840d9ff2f1afdf");
    let seed = h("0737520781345b11b7bd0f843c1bdd9aea81b6da94fd141cc9f2df53ac6744d2");
    eprintln!("dispatched kernel on this CPU: {:?}", Kernel::detected());
    let mut group = c.benchmark_group("tensority");
    group.sample_size(10);
    let a = {
        let c = Cache::new(&seed);
        pow::tensority::lane(&header, 0, &c)
    };
    let mut m = pow::matrix::zero_matrix();
    for (r, row) in m.iter_mut().enumerate() {
        for (col, x) in row.iter_mut().enumerate() {
            *x = i16::from(u8::try_from((r * 7 + col * 13) % 256).unwrap().cast_signed());
        }
    }
    let mut out = pow::matrix::zero_matrix();
    group.bench_function("mul_reduce_256_portable", |b| {
        b.iter(|| {
            Kernel::Portable
                .mul_reduce(std::hint::black_box(&a), &m, &mut out)
                .unwrap()
        })
    });
    group.bench_function("mul_reduce_256", |b| {
        b.iter(|| pow::matrix::mul_reduce(std::hint::black_box(&a), &m, &mut out))
    });
    group.bench_function("cache_build", |b| b.iter(|| Cache::new(&seed)));
    let cache = Cache::new(&seed);
    group.bench_function("hash_parallel_lanes_portable", |b| {
        b.iter(|| hash_with_kernel(&header, &cache, Kernel::Portable).unwrap())
    });
    group.bench_function("hash_parallel_lanes", |b| b.iter(|| hash(&header, &cache)));
    group.bench_function("hash_single_thread_portable", |b| {
        b.iter(|| hash_single_threaded_with_kernel(&header, &cache, Kernel::Portable).unwrap())
    });
    group.bench_function("hash_single_thread", |b| {
        b.iter(|| hash_single_threaded(&header, &cache))
    });
    group.finish();
}

criterion_group!(tensority, benches);
criterion_main!(tensority);

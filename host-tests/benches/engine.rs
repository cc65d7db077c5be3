//! Engine cost per block, beside a plain sum kernel over the same data in the same run.
//!
//! Run: `cargo bench -p rtmix-host-tests --bench engine`, then
//! `cargo run --release -p rtmix-host-tests --example perf_table` for the ratios.
//!
//! Every play is a stereo buffer of its own mapped to both output channels (the common
//! case), so engine and kernel read the same bytes; the kernel is
//! `out[i] += buffer[i]` per voice with no scheduling, mapping or gain.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rtmix_core::{Queues, StreamConfig};
use rtmix_host_tests::voices::{start_together, stereo_buffers, sum_kernel};

/// Slots per direction of the benchmarked stream; `CAPACITY - 1` plays fit.
const CAPACITY: usize = 1024;
type BenchQueues = Queues<Arc<[f32]>, Vec<f32>, CAPACITY, CAPACITY>;
/// Frames in each voice's buffer.
const BUFFER_FRAMES: usize = 8192;

/// Times `iters` output blocks of `block` frames with every buffer in `bufs` playing,
/// and `scheduled` more plays waiting far in the future. Setting up (and re-setting up
/// when the buffers run out) is not timed.
fn time_engine(bufs: &[Arc<[f32]>], scheduled: usize, block: usize, iters: u64) -> Duration {
    let per_setup = (BUFFER_FRAMES / block).saturating_sub(1).max(1) as u64;
    let mut out = vec![0.0f32; block * 2];
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let mut queues: Box<BenchQueues> = Box::default();
        let (mut ctl, mut engine) = queues.split(StreamConfig::output(2)).unwrap();
        start_together(&mut ctl, &mut engine, bufs, scheduled);
        let n = per_setup.min(iters - done);
        let start = Instant::now();
        for _ in 0..n {
            engine.output.process(black_box(&mut out));
            black_box(&out);
        }
        total += start.elapsed();
        done += n;
    }
    total
}

/// The reference: a plain sum of the same buffers over the same frames. It re-creates a
/// stream (untimed) as often as the engine loop does, so both run with the same caches.
fn time_kernel(bufs: &[Arc<[f32]>], block: usize, iters: u64) -> Duration {
    let per_setup = (BUFFER_FRAMES / block).saturating_sub(1).max(1) as u64;
    let mut out = vec![0.0f32; block * 2];
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let mut queues: Box<BenchQueues> = Box::default();
        black_box(queues.split(StreamConfig::output(2)).unwrap());
        let n = per_setup.min(iters - done);
        let start = Instant::now();
        for i in 0..n {
            sum_kernel(&mut out, bufs, block * (1 + i as usize));
            black_box(&out);
        }
        total += start.elapsed();
        done += n;
    }
    total
}

fn by_voices(c: &mut Criterion) {
    let mut group = c.benchmark_group("voices_block64");
    for voices in [1usize, 8, 64, 256, CAPACITY - 1] {
        let bufs = stereo_buffers(voices, BUFFER_FRAMES);
        group.throughput(Throughput::Elements((voices * 64) as u64));
        group.bench_with_input(BenchmarkId::new("engine", voices), &voices, |b, _| {
            b.iter_custom(|iters| time_engine(&bufs, 0, 64, iters));
        });
        group.bench_with_input(BenchmarkId::new("sum_kernel", voices), &voices, |b, _| {
            b.iter_custom(|iters| time_kernel(&bufs, 64, iters));
        });
    }
    group.finish();
}

fn by_block(c: &mut Criterion) {
    let mut group = c.benchmark_group("block_8voices");
    let bufs = stereo_buffers(8, BUFFER_FRAMES);
    for block in [1usize, 4, 64, 512, 4096] {
        group.throughput(Throughput::Elements((8 * block) as u64));
        group.bench_with_input(BenchmarkId::new("engine", block), &block, |b, &block| {
            b.iter_custom(|iters| time_engine(&bufs, 0, block, iters));
        });
        group.bench_with_input(
            BenchmarkId::new("sum_kernel", block),
            &block,
            |b, &block| {
                b.iter_custom(|iters| time_kernel(&bufs, block, iters));
            },
        );
    }
    group.finish();
}

fn fixed_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("idle_block");
    for block in [1usize, 64] {
        for scheduled in [0usize, 1000] {
            let id = BenchmarkId::new(format!("block{block}"), format!("{scheduled}_scheduled"));
            group.bench_function(id, |b| {
                b.iter_custom(|iters| time_engine(&[], scheduled, block, iters));
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = by_voices, by_block, fixed_cost
}
criterion_main!(benches);

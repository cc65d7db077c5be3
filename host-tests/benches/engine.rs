//! Engine cost per block, beside a plain sum kernel over the same data in the same run.
//!
//! Run: `cargo bench -p rtmix-host-tests --bench engine`, then
//! `cargo run --release -p rtmix-host-tests --example perf_table` for criterion's medians
//! as tables. The ratios in docs/performance.md come from `--bench ratios`, which
//! alternates engine and kernel and holds up better on a noisy machine.
//!
//! Every play is a stereo buffer of its own mapped to both output channels (the common
//! case), so engine and kernel read the same bytes; the kernel is
//! `out[i] += buffer[i]` per voice with no scheduling, mapping or gain. The `features`
//! group plays the same voices with one feature each (`rtmix_host_tests::voices::Feature`:
//! gain ramps, fades, a gain, a master ramp, loops, spaced repetitions, ring streams).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rtmix_core::StreamConfig;
use rtmix_host_tests::stream;
use rtmix_host_tests::voices::{
    ring_play, rings, start_feature, start_together, stereo_buffers, sum_kernel, Feature, RingFeed,
};

/// Slots per direction of the benchmarked stream; `CAPACITY - 1` plays fit.
const CAPACITY: usize = 1024;
/// Frames in each voice's buffer.
const BUFFER_FRAMES: usize = 8192;

/// Runs `iters` timed blocks in rounds of at most as many as the buffers hold. Each round
/// opens a stream afresh (untimed) and returns the time of its blocks.
fn in_rounds(iters: u64, block: usize, mut round: impl FnMut(u64) -> Duration) -> Duration {
    let per_round = (BUFFER_FRAMES / block).saturating_sub(1).max(1) as u64;
    let (mut total, mut done) = (Duration::ZERO, 0);
    while done < iters {
        let n = per_round.min(iters - done);
        total += round(n);
        done += n;
    }
    total
}

/// Times `iters` output blocks of `block` frames with every buffer in `bufs` playing,
/// and `scheduled` more plays waiting far in the future. Setting up is not timed.
fn time_engine(bufs: &[Arc<[f32]>], scheduled: usize, block: usize, iters: u64) -> Duration {
    let mut out = vec![0.0f32; block * 2];
    in_rounds(iters, block, |n| {
        let (mut ctl, mut engine) =
            stream::open::<Arc<[f32]>, Vec<f32>>(CAPACITY, CAPACITY, StreamConfig::output(2));
        start_together(&mut ctl, &mut engine, bufs, scheduled);
        let start = Instant::now();
        for _ in 0..n {
            engine.output.process(black_box(&mut out));
            black_box(&out);
        }
        start.elapsed()
    })
}

/// The reference: a plain sum of the same buffers over the same frames. Each round resets
/// the stream storage (untimed) as the engine's does, so both run with the same caches.
fn time_kernel(bufs: &[Arc<[f32]>], block: usize, iters: u64) -> Duration {
    let mut out = vec![0.0f32; block * 2];
    in_rounds(iters, block, |n| {
        black_box(stream::open::<Arc<[f32]>, Vec<f32>>(
            CAPACITY,
            CAPACITY,
            StreamConfig::output(2),
        ));
        let start = Instant::now();
        for i in 0..n {
            sum_kernel(&mut out, bufs, block * (1 + i as usize));
            black_box(&out);
        }
        start.elapsed()
    })
}

/// Times `iters` 64-frame blocks with every buffer in `bufs` playing with `feature`
/// (docs/performance.md, "Features against the sum kernel"). Setting up, and filling the
/// rings of ring voices with the frames the round plays, is not timed.
fn time_feature(bufs: &[Arc<[f32]>], feature: Feature, iters: u64) -> Duration {
    let mut out = vec![0.0f32; 64 * 2];
    if feature == Feature::Ring {
        return in_rounds(iters, 64, |n| {
            let (mut ctl, mut engine) =
                stream::open::<RingFeed, Vec<f32>>(CAPACITY, CAPACITY, StreamConfig::output(2));
            let (producers, consumers) = rings(bufs, 1, n as usize * 64);
            start_feature(
                &mut ctl,
                &mut engine,
                consumers.into_iter().map(ring_play),
                feature,
            );
            let start = Instant::now();
            for _ in 0..n {
                engine.output.process(black_box(&mut out));
                black_box(&out);
            }
            let elapsed = start.elapsed();
            drop(producers);
            elapsed
        });
    }
    in_rounds(iters, 64, |n| {
        let (mut ctl, mut engine) =
            stream::open::<Arc<[f32]>, Vec<f32>>(CAPACITY, CAPACITY, StreamConfig::output(2));
        let plays = bufs.iter().map(|b| feature.play(b.clone()));
        start_feature(&mut ctl, &mut engine, plays, feature);
        let start = Instant::now();
        for _ in 0..n {
            engine.output.process(black_box(&mut out));
            black_box(&out);
        }
        start.elapsed()
    })
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

fn features(c: &mut Criterion) {
    let mut group = c.benchmark_group("features");
    for voices in [8usize, 64] {
        let bufs = stereo_buffers(voices, BUFFER_FRAMES);
        group.throughput(Throughput::Elements((voices * 64) as u64));
        for feature in Feature::ALL {
            let id = BenchmarkId::new(feature.name(), voices);
            group.bench_function(id, |b| {
                b.iter_custom(|iters| time_feature(&bufs, feature, iters));
            });
        }
        let id = BenchmarkId::new("sum_kernel", voices);
        group.bench_function(id, |b| b.iter_custom(|iters| time_kernel(&bufs, 64, iters)));
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
    targets = by_voices, by_block, features, fixed_cost
}
criterion_main!(benches);

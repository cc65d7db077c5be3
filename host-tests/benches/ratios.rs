//! Engine-to-kernel ratios that hold up on a noisy shared machine: each configuration runs
//! the engine and the plain sum kernel alternately, many rounds each, and compares the
//! best round of each (the round least disturbed by the rest of the machine).
//!
//! `cargo bench -p rtmix-host-tests --bench ratios` prints the markdown tables used in
//! docs/performance.md: the plain play by voices, buffer size and block size, then each
//! feature (gain ramps, fades, gains, loops, spaced repetitions, ring streams; see
//! `rtmix_host_tests::voices::Feature`) against the same kernel. The criterion bench
//! (`--bench engine`) gives the per-block distributions; this one gives the ratios.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use rtmix_core::{Play, PlaySource, StreamConfig};
use rtmix_host_tests::stream;
use rtmix_host_tests::voices::{
    ring_play, rings, start_feature, start_together, stereo_buffers, sum_kernel, Feature,
};

const CAPACITY: usize = 1024;
const ROUNDS: usize = 30;

/// Blocks per round: as many as the buffers hold after the one-frame lead-in.
fn blocks_per_round(frames: usize, block: usize) -> usize {
    (frames / block).saturating_sub(1).max(1)
}

/// One round: a fresh stream with every buffer playing from frame 1 (untimed), then the
/// timed blocks. Returns the time per block.
fn engine_round(bufs: &[Arc<[f32]>], frames: usize, block: usize) -> f64 {
    let (mut ctl, mut engine) =
        stream::open::<Arc<[f32]>, Vec<f32>>(CAPACITY, CAPACITY, StreamConfig::output(2));
    start_together(&mut ctl, &mut engine, bufs, 0);
    let mut out = vec![0.0f32; block * 2];
    let n = blocks_per_round(frames, block);
    let start = Instant::now();
    for _ in 0..n {
        engine.output.process(black_box(&mut out));
    }
    start.elapsed().as_secs_f64() * 1e9 / n as f64
}

/// One round of the reference: `out[i] += buffer[i]` over the same buffers and frames.
/// It resets the stream storage first (untimed), as the engine round does, so both start
/// with the same caches.
fn kernel_round(bufs: &[Arc<[f32]>], frames: usize, block: usize) -> f64 {
    black_box(stream::open::<Arc<[f32]>, Vec<f32>>(
        CAPACITY,
        CAPACITY,
        StreamConfig::output(2),
    ));
    let mut out = vec![0.0f32; block * 2];
    let n = blocks_per_round(frames, block);
    let start = Instant::now();
    for i in 0..n {
        sum_kernel(&mut out, bufs, block * i);
        black_box(&out);
    }
    start.elapsed().as_secs_f64() * 1e9 / n as f64
}

/// Best engine and kernel time per block over alternating rounds.
fn measure(voices: usize, frames: usize, block: usize) -> (f64, f64) {
    let bufs = stereo_buffers(voices, frames);
    let (mut e, mut k) = (f64::MAX, f64::MAX);
    for _ in 0..ROUNDS {
        e = e.min(engine_round(&bufs, frames, block));
        k = k.min(kernel_round(&bufs, frames, block));
    }
    (e, k)
}

fn row(label: usize, e: f64, k: f64, voice_frames: usize) {
    let n = voice_frames as f64;
    println!(
        "| {label} | {e:.1} | {k:.1} | {:.3} | {:.3} | {:.2}x |",
        e / n,
        k / n,
        e / k
    );
}

fn header(first: &str) {
    println!("| {first} | engine ns/block | kernel ns/block | engine ns per voice-frame | kernel ns per voice-frame | ratio |");
    println!("|---:|---:|---:|---:|---:|---:|");
}

/// One engine round of a feature table: a fresh stream with every voice playing with
/// `feature` from frame 1 (untimed), then `blocks` timed blocks. Returns the time per block.
/// A ring voice's rings are filled here, before the clock starts, with exactly the frames
/// the round plays.
fn feature_engine_round<P: PlaySource + 'static>(
    plays: impl FnOnce() -> (Vec<Play<P>>, Vec<rtrb::Producer<f32>>),
    feature: Feature,
    blocks: usize,
    block: usize,
) -> f64 {
    let (mut ctl, mut engine) =
        stream::open::<P, Vec<f32>>(CAPACITY, CAPACITY, StreamConfig::output(2));
    let (plays, producers) = plays();
    start_feature(&mut ctl, &mut engine, plays, feature);
    let mut out = vec![0.0f32; block * 2];
    let start = Instant::now();
    for _ in 0..blocks {
        engine.output.process(black_box(&mut out));
    }
    let ns = start.elapsed().as_secs_f64() * 1e9 / blocks as f64;
    drop(producers);
    ns
}

/// The kernel round beside [`feature_engine_round`]: the same untimed preparation (a fresh
/// stream storage, and for ring voices the same rings filled), then the plain sum kernel
/// over the voices' buffers.
fn feature_kernel_round(bufs: &[Arc<[f32]>], feature: Feature, blocks: usize, block: usize) -> f64 {
    black_box(stream::open::<Arc<[f32]>, Vec<f32>>(
        CAPACITY,
        CAPACITY,
        StreamConfig::output(2),
    ));
    let prepared = (feature == Feature::Ring).then(|| rings(bufs, 1, blocks * block));
    black_box(&prepared);
    let mut out = vec![0.0f32; block * 2];
    let start = Instant::now();
    for i in 0..blocks {
        sum_kernel(&mut out, bufs, block * i);
        black_box(&out);
    }
    let ns = start.elapsed().as_secs_f64() * 1e9 / blocks as f64;
    drop(prepared);
    ns
}

/// One engine round and one kernel round of `feature`; returns their times per block.
fn feature_rounds(bufs: &[Arc<[f32]>], feature: Feature, block: usize) -> (f64, f64) {
    let blocks = blocks_per_round(bufs[0].len() / 2, block);
    if feature == Feature::Ring {
        let plays = || {
            let (producers, consumers) = rings(bufs, 1, blocks * block);
            (consumers.into_iter().map(ring_play).collect(), producers)
        };
        let e = feature_engine_round(plays, feature, blocks, block);
        (e, feature_kernel_round(bufs, feature, blocks, block))
    } else {
        let plays = || {
            (
                bufs.iter().map(|b| feature.play(b.clone())).collect(),
                vec![],
            )
        };
        let e = feature_engine_round(plays, feature, blocks, block);
        (e, feature_kernel_round(bufs, feature, blocks, block))
    }
}

/// The feature table at `voices` voices: each row against the plain sum kernel measured
/// beside it, and against the plain play's engine time. Every round runs every feature in
/// turn (engine, then kernel), so all rows see the same stretch of a shared machine; each
/// row keeps its best engine and best kernel round.
fn feature_table(voices: usize) {
    println!("\n### Features, {voices} voices, 64-frame blocks, 64 KiB buffers (cache-resident)\n");
    println!("| feature | engine ns/block | kernel ns/block | ratio | engine against plain play |");
    println!("|---|---:|---:|---:|---:|");
    let bufs = stereo_buffers(voices, 8192);
    let mut best = [(f64::MAX, f64::MAX); Feature::ALL.len()];
    for _ in 0..ROUNDS {
        for (feature, best) in Feature::ALL.into_iter().zip(&mut best) {
            let (e, k) = feature_rounds(&bufs, feature, 64);
            *best = (best.0.min(e), best.1.min(k));
        }
    }
    let plain_row = Feature::ALL.iter().position(|&f| f == Feature::Plain);
    let plain = best[plain_row.expect("the plain play is a row")].0;
    for (feature, (e, k)) in Feature::ALL.into_iter().zip(best) {
        println!(
            "| {} | {e:.1} | {k:.1} | {:.2}x | {:.2}x |",
            feature.label(),
            e / k,
            e / plain
        );
    }
}

fn main() {
    // criterion passes `--bench`; nothing here takes arguments.
    println!("### By voices, 64-frame blocks, 64 KiB buffers (cache-resident)\n");
    header("voices");
    for voices in [1, 8, 64, 256, CAPACITY - 1] {
        let (e, k) = measure(voices, 8192, 64);
        row(voices, e, k, voices * 64);
    }
    println!("\n### By voices, 64-frame blocks, 512 KiB buffers (streaming from memory)\n");
    header("voices");
    for voices in [8, 64, 256] {
        let (e, k) = measure(voices, 65_536, 64);
        row(voices, e, k, voices * 64);
    }
    println!("\n### By block size, 8 voices, 64 KiB buffers\n");
    header("block (frames)");
    for block in [1, 4, 64, 512, 4096] {
        let (e, k) = measure(8, 8192, block);
        row(block, e, k, 8 * block);
    }
    for voices in [64, 8] {
        feature_table(voices);
    }
}

//! Engine-to-kernel ratios that hold up on a noisy shared machine: each configuration runs
//! the engine and the plain sum kernel alternately, many rounds each, and compares the
//! best round of each (the round least disturbed by the rest of the machine).
//!
//! `cargo bench -p rtmix-host-tests --bench ratios` prints the markdown tables used in
//! docs/performance.md. The criterion bench (`--bench engine`) gives the per-block
//! distributions; this one gives the ratios.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use rtmix_core::{Queues, StreamConfig};
use rtmix_host_tests::voices::{start_together, stereo_buffers, sum_kernel};

const CAPACITY: usize = 1024;
type BenchQueues = Queues<Arc<[f32]>, Vec<f32>, CAPACITY, CAPACITY>;
const ROUNDS: usize = 30;

/// Blocks per round: as many as the buffers hold after the one-frame lead-in.
fn blocks_per_round(frames: usize, block: usize) -> usize {
    (frames / block).saturating_sub(1).max(1)
}

/// One round: a fresh stream with every buffer playing from frame 1 (untimed), then the
/// timed blocks. Returns the time per block.
fn engine_round(queues: &mut BenchQueues, bufs: &[Arc<[f32]>], frames: usize, block: usize) -> f64 {
    let (mut ctl, mut engine) = queues.split(StreamConfig::output(2)).unwrap();
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
fn kernel_round(queues: &mut BenchQueues, bufs: &[Arc<[f32]>], frames: usize, block: usize) -> f64 {
    black_box(queues.split(StreamConfig::output(2)).unwrap());
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
fn measure(queues: &mut BenchQueues, voices: usize, frames: usize, block: usize) -> (f64, f64) {
    let bufs = stereo_buffers(voices, frames);
    let (mut e, mut k) = (f64::MAX, f64::MAX);
    for _ in 0..ROUNDS {
        e = e.min(engine_round(queues, &bufs, frames, block));
        k = k.min(kernel_round(queues, &bufs, frames, block));
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

fn main() {
    // criterion passes `--bench`; nothing here takes arguments.
    let mut queues: Box<BenchQueues> = Box::default();
    println!("### By voices, 64-frame blocks, 64 KiB buffers (cache-resident)\n");
    header("voices");
    for voices in [1, 8, 64, 256, CAPACITY - 1] {
        let (e, k) = measure(&mut queues, voices, 8192, 64);
        row(voices, e, k, voices * 64);
    }
    println!("\n### By voices, 64-frame blocks, 512 KiB buffers (streaming from memory)\n");
    header("voices");
    for voices in [8, 64, 256] {
        let (e, k) = measure(&mut queues, voices, 65_536, 64);
        row(voices, e, k, voices * 64);
    }
    println!("\n### By block size, 8 voices, 64 KiB buffers\n");
    header("block (frames)");
    for block in [1, 4, 64, 512, 4096] {
        let (e, k) = measure(&mut queues, 8, 8192, block);
        row(block, e, k, 8 * block);
    }
}

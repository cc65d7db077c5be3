//! The cost of rtmix-cpal's output callback against a bare cpal-style callback, in the
//! same run: each round plays 64 stereo voices, once through `OutputCallback::render` (the
//! body of the real cpal callback: the engine, the timestamps and the anchor on the
//! device clock, the xrun check) and once through a bare callback that sums the same 64
//! buffers into cpal's buffer (`out[i] += voice[i]`). The engine alone
//! (`OutputEngine::process`) is timed too, to show what the callback layer adds.
//! Rounds alternate and the best of each is kept (the one least disturbed by the rest of
//! a shared machine).
//!
//! `cargo bench -p rtmix-cpal --bench callback` prints the table used in
//! docs/performance.md.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtmix_core::{Heap, OutputEngine, StreamCapacity, StreamConfig};
use rtmix_cpal::cpal::StreamInstant;
use rtmix_cpal::{OutBlock, OutputCallback, RunControl};
use rtmix_host_tests::voices::{start_together, stereo_buffers, sum_kernel};

/// Action slots, commands and completions in transit per direction: every voice fits, and
/// stopping hands every completion back at once (dropping a callback stops its engine).
const ACTIONS: usize = 128;
const VOICES: usize = 64;
const FRAMES: usize = 48_000;
const ROUNDS: usize = 30;
const RATE: u32 = 48_000;

fn blocks(block: usize) -> usize {
    (FRAMES / block).saturating_sub(1).max(1)
}

/// A fresh engine with every voice playing from frame 1, on storage of its own that is
/// freed when the engine is dropped (its controller is dropped here).
fn engine(bufs: &[Arc<[f32]>]) -> OutputEngine<Arc<[f32]>, Heap> {
    let capacity = StreamCapacity {
        actions: ACTIONS,
        commands: ACTIONS,
        completions: ACTIONS,
    };
    let (mut ctl, mut engine) =
        rtmix_core::open::<Arc<[f32]>, Vec<f32>>(StreamConfig::output(2), capacity).unwrap();
    start_together(&mut ctl, &mut engine, bufs, 0);
    engine.split().0
}

fn callback_round(bufs: &[Arc<[f32]>], block: usize) -> f64 {
    let mut cb = OutputCallback::new(engine(bufs), RATE, RunControl::default());
    let mut out = vec![0.0f32; block * 2];
    let n = blocks(block);
    let period = Duration::from_nanos((block as u64 * 1_000_000_000) / u64::from(RATE));
    let mut t = StreamInstant::new(1, 0);
    let start = Instant::now();
    for _ in 0..n {
        cb.render(OutBlock::F32(black_box(&mut out)), t, t + period * 2);
        t += period;
    }
    let ns = start.elapsed().as_secs_f64() * 1e9 / n as f64;
    drop(cb); // untimed: stops the engine, frees its storage
    ns
}

fn engine_round(bufs: &[Arc<[f32]>], block: usize) -> f64 {
    let mut e = engine(bufs);
    let mut out = vec![0.0f32; block * 2];
    let n = blocks(block);
    let start = Instant::now();
    for _ in 0..n {
        e.process(black_box(&mut out));
    }
    let ns = start.elapsed().as_secs_f64() * 1e9 / n as f64;
    drop(e);
    ns
}

/// A bare cpal-style output callback: `|data: &mut [f32], _info| { sum the voices }`.
fn bare_round(bufs: &[Arc<[f32]>], block: usize) -> f64 {
    let mut out = vec![0.0f32; block * 2];
    let n = blocks(block);
    let mut position = 0;
    let mut callback = |data: &mut [f32]| {
        sum_kernel(data, bufs, position);
        position += data.len() / 2;
    };
    let start = Instant::now();
    for _ in 0..n {
        callback(black_box(&mut out));
    }
    start.elapsed().as_secs_f64() * 1e9 / n as f64
}

fn main() {
    let bufs = stereo_buffers(VOICES, FRAMES);
    println!("| block (frames) | bare callback (ns) | engine alone (ns) | rtmix-cpal callback (ns) | callback / bare | callback / engine |");
    println!("|---|---|---|---|---|---|");
    for block in [64usize, 256, 512, 1024] {
        let (mut b, mut e, mut c) = (f64::MAX, f64::MAX, f64::MAX);
        for _ in 0..ROUNDS {
            b = b.min(bare_round(&bufs, block));
            e = e.min(engine_round(&bufs, block));
            c = c.min(callback_round(&bufs, block));
        }
        println!(
            "| {block} | {b:.0} | {e:.0} | {c:.0} | {:.2}x | {:.3}x |",
            c / b,
            c / e
        );
    }
}

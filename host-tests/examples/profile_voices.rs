//! Times VOICES stereo voices (default 64) in 64-frame blocks outside criterion, against
//! the sum kernel, with long buffers (512 KiB a voice, so the data streams from memory as
//! long samples do) and the best of 40 rounds of 1000 blocks. For quick experiments and
//! for profilers (`perf record`):
//! `cargo run --release -p rtmix-host-tests --example profile_voices -- [VOICES]`.
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rtmix_core::{At, ChannelMap, Play, Queues, StreamConfig};

/// Blocks timed per round (the buffers hold 1024 blocks).
const BLOCKS: u32 = 1000;

fn engine<const A: usize>(bufs: &[Arc<[f32]>], rounds: usize) -> Duration {
    let mut out = vec![0.0f32; 128];
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let mut q: Box<Queues<Arc<[f32]>, Vec<f32>, A, A>> = Box::default();
        let (mut ctl, mut engine) = q.split(StreamConfig::output(2)).unwrap();
        for b in bufs {
            let map = ChannelMap::contiguous(0, 2).unwrap();
            ctl.play(Play::new(b.clone(), map).at(At::Frame(1)))
                .unwrap();
        }
        engine.output.process(&mut [0.0; 2]);
        let start = Instant::now();
        for _ in 0..BLOCKS {
            engine.output.process(black_box(&mut out));
        }
        best = best.min(start.elapsed());
    }
    best / BLOCKS
}

fn kernel(bufs: &[Arc<[f32]>], rounds: usize) -> Duration {
    let mut out = vec![0.0f32; 128];
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        for i in 0..BLOCKS as usize {
            out.fill(0.0);
            for b in bufs {
                let src = &black_box(b)[128 * (i + 1)..128 * (i + 2)];
                for (o, s) in out.iter_mut().zip(src) {
                    *o += s;
                }
            }
            black_box(&out);
        }
        best = best.min(start.elapsed());
    }
    best / BLOCKS
}

fn main() {
    let voices: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(64);
    let bufs: Vec<Arc<[f32]>> = (0..voices)
        .map(|v| vec![v as f32 * 0.001; 65536 * 2].into())
        .collect();
    for _ in 0..3 {
        let k = kernel(&bufs, 40);
        let e128 = if voices < 128 {
            engine::<128>(&bufs, 40)
        } else {
            engine::<1024>(&bufs, 40)
        };
        let e1024 = engine::<1024>(&bufs, 40);
        println!(
            "voices {voices}: kernel {k:?}  engine(A=128) {e128:?} ({:.2}x)  engine(A=1024) {e1024:?} ({:.2}x)",
            e128.as_secs_f64() / k.as_secs_f64(),
            e1024.as_secs_f64() / k.as_secs_f64()
        );
    }
}

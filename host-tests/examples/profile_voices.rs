//! Runs the 64-voice, 64-frame-block case in a loop, for profilers:
//! `perf record cargo run --release -p rtmix-host-tests --example profile_voices`.
use std::sync::Arc;

use rtmix_core::{At, ChannelMap, Play, Queues, StreamConfig};

fn main() {
    let voices: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(64);
    let bufs: Vec<Arc<[f32]>> = (0..voices)
        .map(|v| vec![v as f32 * 0.001; 8192 * 2].into())
        .collect();
    let mut out = vec![0.0f32; 128];
    for _round in 0..2000 {
        let mut q: Box<Queues<Arc<[f32]>, Vec<f32>, 1024, 1024>> = Box::default();
        let (mut ctl, mut engine) = q.split(StreamConfig::output(2)).unwrap();
        for b in &bufs {
            ctl.play(Play::new(b.clone(), ChannelMap::contiguous(0, 2).unwrap()).at(At::Frame(1)))
                .unwrap();
        }
        engine.output.process(&mut [0.0; 2]);
        for _ in 0..127 {
            engine.output.process(&mut out);
        }
        std::hint::black_box(&out);
    }
}

//! What a block costs when commands arrive in it, against the stream's slot count: a
//! 1-frame block that takes 15 plays (each one frame, so they also end and go back in the
//! same block), at 32 and at 2048 action slots. The engine finds everything by slot and
//! keeps its lists in the slots, so the cost must not grow with the slots (issue 15:
//! within 1.25x between the two).
//!
//! `cargo bench -p rtmix-host-tests --bench arrival` (criterion: `arrival_15_plays_block1/32`
//! and `/2048`); docs/performance.md quotes the medians of one run.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

use rtmix_core::{ChannelMap, Play, StreamCapacity, StreamConfig};

/// Plays that arrive in each timed block.
const ARRIVING: usize = 15;

/// The time of `iters` 1-frame blocks that each take `ARRIVING` plays, on a stream with
/// `actions` slots (submitting and taking the completions is untimed).
fn blocks(actions: usize, iters: u64) -> Duration {
    let capacity = StreamCapacity {
        actions,
        commands: 32,
        completions: 32,
    };
    let (mut ctl, mut engine) =
        rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(2), capacity).unwrap();
    let map = ChannelMap::contiguous(0, 2).unwrap();
    let mut buffers: Vec<Vec<f32>> = (0..ARRIVING).map(|_| vec![0.25; 2]).collect();
    let mut out = [0.0f32; 2];
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        for b in buffers.drain(..) {
            ctl.play(Play::new(b, map.clone())).unwrap();
        }
        let start = Instant::now();
        engine.output.process(black_box(&mut out));
        total += start.elapsed();
        while let Some(c) = ctl.try_next() {
            buffers.push(c.into_played().unwrap());
        }
        assert_eq!(buffers.len(), ARRIVING, "every play ended in its block");
    }
    total
}

fn arrival(c: &mut Criterion) {
    let mut group = c.benchmark_group("arrival_15_plays_block1");
    for actions in [32usize, 2048] {
        group.bench_with_input(BenchmarkId::from_parameter(actions), &actions, |b, &a| {
            b.iter_custom(|iters| blocks(a, iters));
        });
    }
    group.finish();
}

criterion_group!(benches, arrival);
criterion_main!(benches);

//! Engine-to-kernel ratios that hold up on a noisy shared machine: each configuration runs
//! the engine and the plain sum kernel alternately, many rounds each, and compares the
//! best round of each (the round least disturbed by the rest of the machine).
//!
//! `cargo bench -p rtmix-host-tests --bench ratios` prints the markdown tables used in
//! docs/performance.md: the plain play by voices (all reading one buffer, then each its
//! own), buffer size and block size, the fixed cost at 1 voice, then each feature (gain
//! ramps, fades, gains, loops, spaced repetitions, ring streams; see
//! `rtmix_host_tests::voices::Feature`) against the same kernel, idle blocks with 0 and
//! 10 000 actions waiting, and last every goal of issue 17 from those figures (with the
//! fixed cost on a stream without meters, and without meters or output protection, as
//! extra rows). The criterion bench (`--bench engine`) gives the per-block
//! distributions; this one gives the ratios.

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
fn engine_round(bufs: &[Arc<[f32]>], frames: usize, block: usize, config: StreamConfig) -> f64 {
    let slots = slots_for(bufs.len());
    let (mut ctl, mut engine) = stream::open::<Arc<[f32]>, Vec<f32>>(slots, CAPACITY, config);
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
        slots_for(bufs.len()),
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

/// Action slots for `voices` plays: [`CAPACITY`], or more for the 1024-voice row (the
/// last slot is kept for cancels).
fn slots_for(voices: usize) -> usize {
    CAPACITY.max(voices + 1)
}

/// Best engine and kernel time per block over alternating rounds, each voice with a
/// buffer of its own.
fn measure(voices: usize, frames: usize, block: usize) -> (f64, f64) {
    let config = StreamConfig::output(2);
    measure_bufs(&stereo_buffers(voices, frames), frames, block, config)
}

/// Best engine and kernel time per block over alternating rounds, all voices reading one
/// buffer (cache-resident whatever the voice count).
fn measure_shared(voices: usize, frames: usize, block: usize) -> (f64, f64) {
    let one = stereo_buffers(1, frames).remove(0);
    measure_bufs(&vec![one; voices], frames, block, StreamConfig::output(2))
}

/// Best engine and kernel time per block over alternating rounds over `bufs`, the engine
/// on a stream of `config`.
fn measure_bufs(
    bufs: &[Arc<[f32]>],
    frames: usize,
    block: usize,
    config: StreamConfig,
) -> (f64, f64) {
    let (mut e, mut k) = (f64::MAX, f64::MAX);
    for _ in 0..ROUNDS {
        e = e.min(engine_round(bufs, frames, block, config));
        k = k.min(kernel_round(bufs, frames, block));
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
fn feature_table(voices: usize) -> Vec<(Feature, f64, f64)> {
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
    Feature::ALL
        .into_iter()
        .zip(best)
        .map(|(f, (e, k))| (f, e, k))
        .collect()
}

/// Future actions in the idle row: far more than any block looks at.
const WAITING: usize = 10_000;

/// One round of idle blocks: a fresh stream holding `waiting` silent plays scheduled for
/// frame 10^9 on (untimed), then `blocks` timed 64-frame blocks that play nothing.
fn idle_round(waiting: usize, blocks: usize) -> f64 {
    let (mut ctl, mut engine) =
        stream::open::<Arc<[f32]>, Vec<f32>>(WAITING + 2, CAPACITY, StreamConfig::output(2));
    start_together(&mut ctl, &mut engine, &[], waiting);
    let mut out = vec![0.0f32; 64 * 2];
    let start = Instant::now();
    for _ in 0..blocks {
        engine.output.process(black_box(&mut out));
    }
    start.elapsed().as_secs_f64() * 1e9 / blocks as f64
}

/// Best idle-block time with nothing waiting and with [`WAITING`] actions waiting,
/// alternating rounds.
fn measure_idle() -> (f64, f64) {
    let (mut none, mut many) = (f64::MAX, f64::MAX);
    for _ in 0..ROUNDS {
        none = none.min(idle_round(0, 2000));
        many = many.min(idle_round(WAITING, 2000));
    }
    (none, many)
}

/// The goals of issue 17, each row from figures measured above in this run (or, for the
/// idle row, here): what it measures, the figure, the goal.
struct Goals(Vec<(String, String, &'static str)>);

impl Goals {
    fn ratio(&mut self, what: &str, e: f64, k: f64, goal: &'static str) {
        let figure = format!("{:.2}x ({e:.1} / {k:.1} ns)", e / k);
        self.0.push((what.into(), figure, goal));
    }

    fn print(&self) {
        println!("\n### Goals (issue 17)\n");
        println!("| case | figure | goal |");
        println!("|---|---|---|");
        for (what, figure, goal) in &self.0 {
            println!("| {what} | {figure} | {goal} |");
        }
    }
}

/// The fixed cost at 1 voice in 1-frame blocks, then on a stream without meters in 1- and
/// 64-frame blocks (extra rows).
fn fixed_costs(goals: &mut Goals) {
    println!("\n### Fixed cost, 1 voice, 1-frame blocks\n");
    header("block (frames)");
    let (e, k) = measure(1, 8192, 1);
    row(1, e, k, 1);
    let figure = format!("{:.1} ns ({e:.1} - {k:.1})", e - k);
    goals.0.push((
        "fixed cost, 1 voice, 1-frame blocks: engine - kernel".into(),
        figure,
        "under 30 ns",
    ));
    let unmetered = StreamConfig::output(2).unmetered();
    for (config, what, title) in [
        (unmetered, "without meters", "`StreamConfig::unmetered`"),
        (
            unmetered.unprotected(),
            "without meters or output protection",
            "`unmetered().unprotected()`",
        ),
    ] {
        println!("\n### Fixed cost, 1 voice, on a stream {what} ({title})\n");
        header("block (frames)");
        for block in [1, 64] {
            let bufs = stereo_buffers(1, 8192);
            let (e, k) = measure_bufs(&bufs, 8192, block, config);
            row(block, e, k, block);
            let figure = format!("{:.1} ns ({e:.1} - {k:.1})", e - k);
            goals.0.push((
                format!("extra row: fixed cost, 1 voice, {block}-frame blocks, stream {what}: engine - kernel"),
                figure,
                "under 30 ns",
            ));
        }
    }
}

fn main() {
    // criterion passes `--bench`; nothing here takes arguments.
    let mut goals = Goals(Vec::new());
    println!(
        "### By voices, 64-frame blocks, one 64 KiB buffer read by every voice (cache-resident)\n"
    );
    header("voices");
    for voices in [1, 8, 64, 256, 1024] {
        let (e, k) = measure_shared(voices, 8192, 64);
        row(voices, e, k, voices * 64);
        if voices == 64 || voices == 256 {
            let what = format!(
                "{voices} voices, 64-frame blocks, cache-resident (one buffer): engine / kernel"
            );
            goals.ratio(&what, e, k, "at most 1.2x");
        }
    }
    println!("\n### By voices, 64-frame blocks, 64 KiB buffers (each voice its own)\n");
    header("voices");
    for voices in [1, 8, 64, 256, 1024] {
        let (e, k) = measure(voices, 8192, 64);
        row(voices, e, k, voices * 64);
        match voices {
            1 => {
                let figure = format!("{:.1} ns ({e:.1} - {k:.1})", e - k);
                goals.0.push((
                    "fixed cost, 1 voice, 64-frame blocks: engine - kernel".into(),
                    figure,
                    "under 30 ns",
                ));
            }
            8 => goals.ratio(
                "8 voices, 64-frame blocks: engine / kernel",
                e,
                k,
                "at most 1.6x",
            ),
            1024 => goals.ratio(
                "1024 voices, 64-frame blocks, each its own buffer: engine / kernel",
                e,
                k,
                "at most 1.15x",
            ),
            _ => {}
        }
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
    fixed_costs(&mut goals);
    for voices in [64, 8] {
        let rows = feature_table(voices);
        if voices == 64 {
            let plain = rows
                .iter()
                .find(|r| r.0 == Feature::Plain)
                .map_or(f64::NAN, |r| r.1);
            for (feature, goal) in [
                (Feature::GainRamp, "at most 1.3x"),
                (Feature::FadeIn, "at most 1.3x"),
                (Feature::Ring, "at most 1.5x"),
            ] {
                if let Some(&(_, e, _)) = rows.iter().find(|r| r.0 == feature) {
                    let what = format!("{}, 64 voices: engine / plain play", feature.label());
                    goals.ratio(&what, e, plain, goal);
                }
            }
        }
    }
    println!("\n### Idle 64-frame blocks\n");
    let (none, many) = measure_idle();
    println!(
        "| waiting actions | ns/block |\n|---:|---:|\n| 0 | {none:.1} |\n| {WAITING} | {many:.1} |"
    );
    goals.ratio(
        "idle 64-frame block, 10 000 actions waiting / none waiting",
        many,
        none,
        "no measurable change",
    );
    goals.print();
}

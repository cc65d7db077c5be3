//! Renders a demo schedule offline, with no sound card, to a 32-bit float WAV file.
//!
//! `cargo run --release -p rtmix-host-tests --example render_demo -- [OUT.wav]`
//!
//! The schedule: a click on every beat of a 119 BPM bar (beat frames computed exactly, no
//! drift), a tone that a cancel cuts at an exact frame, and a chord started as one atomic
//! group. The device's input is its own output delayed by a known latency (a simulated
//! loopback cable); a recording of the first click finds the round trip to the frame.
//! Rendering twice, with 64-frame blocks and with random blocks of 1 to 4096 frames,
//! gives bit-identical files: the schedule does not depend on the block size.

use std::collections::VecDeque;
use std::path::PathBuf;

use rtmix_core::{At, ChannelMap, Completion, Late, Member, Play, Record, StreamConfig};
use rtmix_host_tests::blocks::Blocks;
use rtmix_host_tests::stream;
use rtmix_host_tests::wav;

const RATE: u32 = 48_000;
const SECONDS: u64 = 4;
const LOOPBACK_LATENCY: usize = 123;

fn sine(freq: f32, frames: usize, level: f32) -> Vec<f32> {
    (0..frames)
        .map(|i| level * (2.0 * std::f32::consts::PI * freq * i as f32 / RATE as f32).sin())
        .collect()
}

struct Render {
    output: Vec<f32>,
    completions: Vec<Completion<Vec<f32>, Vec<f32>>>,
}

fn render(blocks: &Blocks) -> Render {
    let (mut ctl, mut engine) =
        stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::duplex(2, 1));
    let map = |c: &[u16]| ChannelMap::new(c).expect("map");

    // A stereo click (a decaying cosine, loud from its first sample) on each beat of
    // 60/119 s: frame = round(n * 60 * RATE / 119), computed in integers, so no drift.
    let click: Vec<f32> = (0..96)
        .map(|i| {
            0.5 * (1.0 - i as f32 / 96.0)
                * (2.0 * std::f32::consts::PI * 2_000.0 * i as f32 / RATE as f32).cos()
        })
        .flat_map(|s| [s, s])
        .collect();
    let beats = (0..)
        .map(|n: u64| (n * 60 * u64::from(RATE) + 119 / 2) / 119)
        .take_while(|&f| f < SECONDS * u64::from(RATE));
    for frame in beats {
        let play = Play::new(click.clone(), map(&[0, 1])).at(At::Frame(frame));
        ctl.play(play).expect("admitted");
    }
    // A tone from 0.25 s, cut at exactly 1.0 s.
    let tone = ctl
        .play(Play::new(sine(440.0, 2 * RATE as usize, 0.3), map(&[0])).at(At::Frame(12_000)))
        .expect("admitted");
    ctl.cancel(tone, At::Frame(u64::from(RATE)), Late::StartNow)
        .expect("admitted");
    // A chord at 2 s, started as one group: all three voices on the same frame.
    ctl.group([
        Member::Play(Play::new(sine(261.63, 48_000, 0.2), map(&[1])).at(At::Frame(96_000))),
        Member::Play(Play::new(sine(329.63, 48_000, 0.2), map(&[1])).at(At::Frame(96_000))),
        Member::Play(Play::new(sine(392.00, 48_000, 0.2), map(&[1])).at(At::Frame(96_000))),
    ])
    .expect("admitted");
    // Record the loopback input around the first click.
    ctl.record(Record::new(vec![0.0; 1024], map(&[0])).at(At::Frame(0)))
        .expect("admitted");

    let total = (SECONDS * u64::from(RATE)) as usize;
    let mut output = Vec::with_capacity(total * 2);
    let mut cable: VecDeque<f32> = std::iter::repeat_n(0.0, LOOPBACK_LATENCY).collect();
    let mut completions = Vec::new();
    let mut sizes = blocks.sizes();
    let (mut out_block, mut in_block) = (Vec::new(), Vec::new());
    while output.len() < total * 2 {
        let n = sizes.next().unwrap_or(64).min(total - output.len() / 2);
        // The loopback carries channel 0 back to the input, LOOPBACK_LATENCY frames late.
        in_block.clear();
        in_block.extend(cable.drain(..n.min(cable.len())));
        in_block.resize(n, 0.0);
        out_block.clear();
        out_block.resize(n * 2, 0.0);
        engine.process(&in_block, &mut out_block);
        cable.extend(out_block.chunks(2).map(|f| f[0]));
        output.extend_from_slice(&out_block);
        while let Some(c) = ctl.try_next() {
            completions.push(c);
        }
    }
    Render {
        output,
        completions,
    }
}

fn hash(samples: &[f32]) -> u64 {
    // FNV-1a over the sample bits: equal hashes for bit-identical renders.
    samples.iter().fold(0xcbf2_9ce4_8422_2325, |h, s| {
        (h ^ u64::from(s.to_bits())).wrapping_mul(0x0100_0000_01b3)
    })
}

fn main() {
    let path = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "rtmix-demo.wav".into()),
    );
    let regular = render(&Blocks::Fixed(64));
    let random = render(&Blocks::Random {
        seed: 2026,
        max: 4096,
    });
    assert_eq!(
        hash(&regular.output),
        hash(&random.output),
        "renders differ between block patterns"
    );

    let recording = regular
        .completions
        .iter()
        .find(|c| c.kind == rtmix_core::ActionKind::Record)
        .and_then(|c| match &c.payload {
            rtmix_core::Payload::Recorded(r) => Some(r.clone()),
            _ => None,
        })
        .expect("the recording completed");
    let onset = recording.iter().position(|s| s.abs() > 1e-6);

    if let Err(e) = wav::write_f32(&path, 2, RATE, &regular.output) {
        eprintln!("rtmix: cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
    let clipped = regular.output.iter().filter(|s| s.abs() > 1.0).count();
    println!(
        "rendered {} frames ({SECONDS} s, stereo, {RATE} Hz) to {}",
        regular.output.len() / 2,
        path.display()
    );
    println!(
        "bit-identical with 64-frame blocks and random 1..4096-frame blocks: hash {:016x}",
        hash(&regular.output)
    );
    println!("clipped samples: {clipped}");
    match onset {
        Some(frame) => println!("loopback: first click recorded at input frame {frame} (cable latency {LOOPBACK_LATENCY} frames)"),
        None => println!("loopback: no click found in the recording"),
    }
    println!("actions (kind, requested, actual start, frames, end):");
    for c in regular
        .completions
        .iter()
        .filter(|c| c.kind != rtmix_core::ActionKind::Play || c.frames != 96)
        .take(12)
    {
        println!(
            "  {:?} {:?} -> {:?}, {} frames, {:?}",
            c.kind, c.requested, c.actual_start, c.frames, c.end
        );
    }
}

//! A play's envelope through the engine, sample for sample: its gain ramp, fade-in,
//! fade-out and the fade of a cancel all at once, and a gain ramp longer than `i32::MAX`
//! frames. The expected values are written out from the definition in docs/features.md
//! (host-tests' `model::ramp`: a ramp from `from` at `start` to `to` at `start + len` gives frame
//! `start + k` the value `from + (to - from) * (k as f32 / len as f32)`; a sample is
//! `(sample * map gain) * (gain(t) * fade_in(p) * fade_out(p) * cancel_fade(t))`), never
//! from the core's own code, and compared bit for bit under several block patterns.

use rtmix_core::{At, ChannelMap, Ending, Engine, GainTarget, Heap, Late, Play, StreamConfig};
use rtmix_host_tests::model::ramp;
use rtmix_host_tests::stream;

/// The output of a mono engine over `frames` frames, rendered in blocks of the sizes in
/// `pattern`, repeated. Each block starts out as NaN: the engine must write every sample.
fn render(engine: Engine<Vec<f32>, Vec<f32>, Heap>, pattern: &[usize], frames: usize) -> Vec<f32> {
    let (mut output, _input) = engine.split();
    let mut out = Vec::with_capacity(frames);
    for &n in pattern.iter().cycle() {
        if out.len() >= frames {
            break;
        }
        let mut block = vec![f32::NAN; n];
        output.process(&mut block);
        out.extend_from_slice(&block);
    }
    out.truncate(frames);
    out
}

const PATTERNS: [&[usize]; 5] = [&[1], &[3], &[7, 64, 2], &[16], &[4096]];

/// Compares bit for bit, naming the first frame that differs.
fn assert_frames(got: &[f32], want: impl Fn(u64) -> f32, pattern: &[usize]) {
    for (t, &x) in got.iter().enumerate() {
        let w = want(t as u64);
        assert_eq!(
            x.to_bits(),
            w.to_bits(),
            "frame {t} in blocks of {pattern:?}: got {x}, want {w}"
        );
    }
}

/// A 40-frame play at gain 0.5 with a fade-in over 8 frames and a fade-out over its last
/// 16, ducked to 0.25 over 10 frames from frame 12 and cancelled at frame 30 with a
/// 6-frame fade, inside its fade-out: every factor of the envelope is under way somewhere,
/// and from frame 30 the fade-out and the cancel's fade multiply. The play ends at 36.
/// (core/src/envelope.rs:220, `!=` made `==` in `Envelope::refresh`, took every frame
/// after such a cancel for steady and played it at the bare gain: the suites never
/// cancelled a play with a fade of its own during a fade-out and looked.)
#[test]
fn a_faded_cancel_during_a_fade_out_multiplies_both_fades_sample_for_sample() {
    let v = 0.75f32;
    for pattern in PATTERNS {
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(8, 8, StreamConfig::output(1));
        let play = Play::new(vec![v; 40], ChannelMap::new(&[0]).unwrap())
            .gain(0.5)
            .fade_in(8)
            .fade_out(16)
            .at(At::Frame(0));
        let id = ctl.play(play).unwrap();
        ctl.set_gain(GainTarget::Action(id), 0.25, 10, At::Frame(12), Late::Skip)
            .unwrap();
        ctl.cancel_with(id, At::Frame(30), Late::Skip, Ending::FadeOut(6))
            .unwrap();
        let out = render(engine, pattern, 48);
        let want = |t: u64| {
            if t >= 36 {
                return 0.0;
            }
            let gain = ramp(0.5, 0.25, 12, 10, t);
            let fade_in = ramp(0.0, 1.0, 0, 8, t);
            let fade_out = ramp(1.0, 0.0, 24, 16, t);
            let cancel = ramp(1.0, 0.0, 30, 6, t);
            let mut mix = 0.0f32;
            mix += (v * 1.0) * (gain * fade_in * fade_out * cancel);
            mix
        };
        assert_frames(&out, want, pattern);
        // Spot checks, by hand: frame 4 is 0.75 * 0.5 * 4/8; frame 33 is
        // 0.75 * 0.25 * (1 - 9/16) * (1 - 3/6).
        assert_eq!(out[4], 0.1875);
        assert_eq!(out[33], 0.75 * 0.25 * 0.4375 * 0.5);
    }
}

/// A gain ramp of 2^32 frames (a fade-up over 25 hours at 48 kHz) is longer than
/// `i32::MAX`, so the engine counts it in `u64` (core/src/envelope.rs:111, whose eight
/// operator mutants no suite reached: their ramps are a few thousand frames at most).
/// From 0 to 1, frame `k` gets `k / 2^32` exactly.
#[test]
fn a_gain_ramp_longer_than_i32_max_frames_rises_by_the_documented_step() {
    const LEN: u64 = 1 << 32;
    for pattern in PATTERNS {
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(8, 8, StreamConfig::output(1));
        let play = Play::new(vec![1.0; 256], ChannelMap::new(&[0]).unwrap())
            .gain(0.0)
            .at(At::Frame(0));
        let id = ctl.play(play).unwrap();
        ctl.set_gain(GainTarget::Action(id), 1.0, LEN, At::Frame(0), Late::Skip)
            .unwrap();
        let out = render(engine, pattern, 200);
        assert_frames(&out, |t| 1.0 * ramp(0.0, 1.0, 0, LEN, t), pattern);
        assert_eq!(out[199], 199.0 / 4_294_967_296.0);
    }
}

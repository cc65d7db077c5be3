//! Properties of the features, each exact to the sample under every block pattern (1 frame to
//! 4096, random partitions included): loop seams, repetitions on an exact interval, fade
//! envelopes, gain ramps, faded cancels, master gains, queued plays (`At::After`) and output
//! protection, plus the typed refusals.
//!
//! Each property drives a real engine directly and compares the output bit for bit with the
//! documented formulas, written out here: a ramp from `from` to `to` over `len` frames from
//! `start` gives frame `start + k` the gain `from + (to - from) * (k as f32 / len as f32)`.
//! Sample values are small integers or multiples of 1/1024, so sums are exact; a timing off
//! by one frame fails them.

use proptest::prelude::*;
use rtmix_core::{
    ActionId, At, ChannelMap, Completion, Controller, Direction, EndReason, Ending, Engine, Error,
    GainTarget, Heap, Interval, Late, OutputEngine, Play, Record, Repeat, StreamConfig,
};
use rtmix_host_tests::blocks::{BlockSizes, Blocks};
use rtmix_host_tests::model::ramp;
use rtmix_host_tests::strategies::blocks;
use rtmix_host_tests::stream;

type Ctl = Controller<Vec<f32>, Vec<f32>, Heap>;
type Done = Completion<Vec<f32>, Vec<f32>>;

/// `k / 1024`, exactly representable.
fn q(k: i32) -> f32 {
    k as f32 / 1024.0
}

/// What a mix of one contribution gives: the engine adds into a block of zeros.
fn mixed(contribution: f32) -> f32 {
    let mut out = 0.0f32;
    out += contribution;
    out
}

/// Buffer frame `i` holds `i + 1`: every frame tells which buffer frame played there.
fn counting(frames: u64, base: u64) -> Vec<f32> {
    (0..frames).map(|i| (base + i + 1) as f32).collect()
}

/// A region `a..b` of a buffer of `frames` frames (`frames > 0`), at least one frame long.
fn fit_region(frames: u64, (ra, rb): (u64, u64)) -> (u64, u64) {
    let a = ra % frames;
    (a, a + 1 + rb % (frames - a))
}

fn mono(buffer: Vec<f32>) -> Play<Vec<f32>> {
    Play::new(buffer, ChannelMap::new(&[0]).unwrap())
}

fn take(ctl: &mut Ctl, id: ActionId) -> Done {
    ctl.take(id)
        .unwrap_or_else(|| panic!("no completion for {id:?}"))
}

/// A simulated device: runs the output engine block by block in a block pattern and keeps
/// everything it rendered (its index is the output frame times the channel count).
struct Device {
    engine: OutputEngine<Vec<f32>, Heap>,
    sizes: std::iter::Peekable<BlockSizes>,
    channels: usize,
    out: Vec<f32>,
    block: Vec<f32>,
}

impl Device {
    fn new(engine: Engine<Vec<f32>, Vec<f32>, Heap>, pattern: &Blocks) -> Self {
        let (engine, _input) = engine.split();
        Self {
            channels: usize::from(engine.channels()),
            engine,
            sizes: pattern.sizes().peekable(),
            out: Vec::new(),
            block: Vec::new(),
        }
    }

    fn clock(&self) -> u64 {
        self.engine.clock()
    }

    /// Renders the next block of the pattern. The block starts out as NaN: the engine must
    /// overwrite every sample.
    fn block(&mut self) {
        let n = self.sizes.next().unwrap_or(1);
        self.block.clear();
        self.block.resize(n * self.channels, f32::NAN);
        let start = self.clock();
        self.engine.process(&mut self.block);
        // The loops over blocks end by the clock: one that stood still would never end.
        assert_eq!(self.clock(), start + n as u64, "the clock did not advance");
        self.out.extend_from_slice(&self.block);
    }

    /// Renders whole blocks as long as the next one ends at or before `frame`, so that a
    /// command submitted next arrives before `frame` is rendered.
    fn run_before(&mut self, frame: u64) {
        while self.clock() + self.sizes.peek().map_or(1, |&n| n as u64) <= frame {
            self.block();
        }
    }

    /// Renders blocks until at least `frame` frames are out.
    fn run_to(&mut self, frame: u64) {
        while self.clock() < frame {
            self.block();
        }
    }
}

/// Checks every rendered sample, bit for bit, against `want(frame, channel)`.
fn check(
    out: &[f32],
    channels: usize,
    want: impl Fn(u64, usize) -> f32,
) -> Result<(), TestCaseError> {
    for (i, &got) in out.iter().enumerate() {
        let (frame, channel) = ((i / channels) as u64, i % channels);
        let want = want(frame, channel);
        prop_assert_eq!(
            got.to_bits(),
            want.to_bits(),
            "frame {} channel {}: got {}, want {}",
            frame,
            channel,
            got,
            want
        );
    }
    Ok(())
}

/// A fade length as a per-mille of the play (0 and the whole play are common).
fn permille() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), Just(1000u64), 0u64..=1000]
}

/// A gain in [-2, 2], a multiple of 1/1024.
fn gain() -> impl Strategy<Value = f32> {
    prop_oneof![Just(0.0f32), Just(1.0), (-2048i32..=2048).prop_map(q)]
}

// 1. Loop seams.

proptest! {
    /// A region `a..b` repeated `n` times from frame F: output frame F + j is buffer frame
    /// `a + j mod (b - a)` for every `j < n (b - a)` (nothing left out or doubled at a seam),
    /// silence before and after, and the completion counts `n (b - a)` frames ending at
    /// `F + n (b - a)`.
    #[test]
    fn loop_seams_are_continuous(
        frames in 1u64..200,
        region in (any::<u64>(), any::<u64>()),
        times in 0u64..7,
        f in 0u64..1500,
        pattern in blocks(),
    ) {
        let (a, b) = fit_region(frames, region);
        let len = b - a;
        let buffer = counting(frames, 0);
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(1));
        let mut dev = Device::new(engine, &pattern);
        let play = mono(buffer.clone()).region(a, b).repeat(Repeat::Times(times)).at(At::Frame(f));
        prop_assert_eq!(play.duration(), Some(times * len));
        let id = ctl.play(play).unwrap();
        let end = f + times * len;
        dev.run_to(end + len + 8);
        check(&dev.out, 1, |t, _| {
            if (f..end).contains(&t) { buffer[(a + (t - f) % len) as usize] } else { 0.0 }
        })?;
        let done = take(&mut ctl, id);
        prop_assert_eq!(done.end, EndReason::Finished);
        prop_assert_eq!(done.actual_start, Some(f));
        prop_assert_eq!(done.frames, times * len);
        prop_assert_eq!(done.ended_at, Some(end));
        prop_assert_eq!(done.into_played(), Some(buffer));
    }

    /// A region of L frames looped forever from frame F, started `s` frames into the play
    /// (`from_frame`, 0 in a quarter of the cases), and ended with `Ending::AfterRepetition`
    /// at frame c >= F finishes the repetition that contains frame c (one that starts
    /// exactly at c plays whole): the play frame at c is `c - F + s`, so it stops at the
    /// seam `F + (floor((c - F + s) / L) + 1) L - s`, with every repetition up to there
    /// complete and gapless. The cancel may arrive before the first block or between blocks.
    #[test]
    fn forever_ends_after_the_repetition_playing_at_the_cancel(
        frames in 1u64..200,
        region in (any::<u64>(), any::<u64>()),
        f in 0u64..1000,
        d in 0u64..1500,
        skip in prop_oneof![Just(0u64), 0u64..600],
        live in any::<bool>(),
        pattern in blocks(),
    ) {
        let (a, b) = fit_region(frames, region);
        let len = b - a;
        let buffer = counting(frames, 0);
        let c = f + d;
        let end = f + ((d + skip) / len + 1) * len - skip;
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(1));
        let mut dev = Device::new(engine, &pattern);
        let play = mono(buffer.clone())
            .region(a, b)
            .repeat(Repeat::Forever)
            .from_frame(skip)
            .at(At::Frame(f));
        let id = ctl.play(play).unwrap();
        if live {
            dev.run_before(c);
        }
        let cut = ctl.cancel_with(id, At::Frame(c), Late::Skip, Ending::AfterRepetition).unwrap();
        dev.run_to(end + len + 8);
        check(&dev.out, 1, |t, _| {
            if (f..end).contains(&t) { buffer[(a + (t - f + skip) % len) as usize] } else { 0.0 }
        })?;
        let done = take(&mut ctl, id);
        prop_assert_eq!(done.end, EndReason::Cancelled { at: end });
        prop_assert_eq!(done.ended_at, Some(end));
        prop_assert_eq!(done.frames, end - f);
        prop_assert_eq!(done.actual_start, Some(f));
        prop_assert_eq!(take(&mut ctl, cut).end, EndReason::Cut);
    }
}

#[test]
fn loop_example_across_blocks_of_three() {
    let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(1));
    let mut dev = Device::new(engine, &Blocks::Fixed(3));
    let id = ctl
        .play(
            mono(counting(8, 0))
                .region(2, 6)
                .repeat(Repeat::Times(3))
                .at(At::Frame(5)),
        )
        .unwrap();
    dev.run_to(20);
    let mut want = vec![0.0f32; 5];
    want.extend([3.0, 4.0, 5.0, 6.0].repeat(3));
    want.extend([0.0; 4]);
    assert_eq!(dev.out[..21], want[..]);
    assert_eq!(take(&mut ctl, id).ended_at, Some(17));
}

// 1b. Repetitions on an exact interval (`Play::interval`).

/// The documented start of repetition `k` of an interval of `num / den` frames, from the
/// origin: `floor(k * num / den)`.
fn start_of(num: u64, den: u64, k: u64) -> u64 {
    (u128::from(k) * u128::from(num) / u128::from(den)) as u64
}

/// Frame `p` (from the origin) of a region of `len` frames repeated every `num / den`
/// frames, the last repetition being `last` (`None`: forever): the region offset it plays
/// (`None` in the silence between repetitions) and where its repetition stops. Each
/// repetition plays the region until it ends or the next one starts; the last plays whole.
fn spaced(num: u64, den: u64, len: u64, last: Option<u64>, p: u64) -> (Option<u64>, u64) {
    let mut k = (u128::from(p) * u128::from(den) / u128::from(num)) as u64;
    while start_of(num, den, k + 1) <= p {
        k += 1;
    }
    if let Some(last) = last {
        k = k.min(last);
    }
    let s = start_of(num, den, k);
    let playing = if Some(k) == last {
        len
    } else {
        len.min(start_of(num, den, k + 1) - s)
    };
    ((p - s < playing).then_some(p - s), s + playing)
}

/// Renders a region `a..b` of a counting buffer of `frames` frames, repeated `times` times
/// every `num / den` frames from frame `f`, and checks every output frame and the
/// completion against [`spaced`].
fn check_spaced(
    frames: u64,
    (a, b): (u64, u64),
    (num, den): (u64, u64),
    times: u64,
    f: u64,
    pattern: &Blocks,
) -> Result<(), TestCaseError> {
    let len = b - a;
    let buffer = counting(frames, 0);
    let duration = if times == 0 {
        0
    } else {
        start_of(num, den, times - 1) + len
    };
    let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(1));
    let mut dev = Device::new(engine, pattern);
    let play = mono(buffer.clone())
        .region(a, b)
        .interval(Interval::new(num, den).unwrap())
        .repeat(Repeat::Times(times))
        .at(At::Frame(f));
    prop_assert_eq!(play.duration(), Some(duration));
    let id = ctl.play(play).unwrap();
    dev.run_to(f + duration + 8);
    let last = times.checked_sub(1);
    check(&dev.out, 1, |t, _| {
        if !(f..f + duration).contains(&t) {
            return 0.0;
        }
        match spaced(num, den, len, last, t - f).0 {
            Some(offset) => buffer[(a + offset) as usize],
            None => 0.0,
        }
    })?;
    let done = take(&mut ctl, id);
    prop_assert_eq!(done.end, EndReason::Finished);
    prop_assert_eq!(done.actual_start, Some(f));
    prop_assert_eq!(done.ended_at, Some(f + duration));
    Ok(())
}

proptest! {
    /// Repetitions every `num / den` frames, an interval at least as long as the region:
    /// repetition k starts at exactly `F + floor(k num / den)` and plays the whole region,
    /// with silence up to the next start; the play ends with its last repetition.
    #[test]
    fn spaced_repetitions_start_on_their_exact_frames(
        frames in 1u64..64,
        region in (any::<u64>(), any::<u64>()),
        (den, extra) in (1u64..=8, any::<u64>()),
        times in 0u64..8,
        f in 0u64..500,
        pattern in blocks(),
    ) {
        let (a, b) = fit_region(frames, region);
        let num = (b - a) * den + extra % (den * (b - a + 8));
        check_spaced(frames, (a, b), (num, den), times, f, &pattern)?;
    }

    /// Repetitions every `num / den` frames, an interval shorter than the region: each
    /// repetition is cut where the next one starts, and the last one plays whole, ending
    /// at `F + floor((n - 1) num / den) + L` as `Play::duration` says.
    #[test]
    fn overlapping_repetitions_end_with_a_whole_last_repetition(
        frames in 2u64..64,
        region in (any::<u64>(), any::<u64>()),
        (den, extra) in (1u64..=8, any::<u64>()),
        times in 2u64..8,
        f in 0u64..500,
        pattern in blocks(),
    ) {
        let (a, b) = fit_region(frames, region);
        // At least two frames, so an interval can be shorter than the region.
        let (a, b) = if b - a >= 2 { (a, b) } else { (0, frames) };
        // An interval from 1 frame up to just under the region.
        let num = den + extra % (den * (b - a - 1));
        check_spaced(frames, (a, b), (num, den), times, f, &pattern)?;
    }

    /// A region repeated forever every `num / den` frames (shorter or longer than the
    /// region) and ended with `Ending::AfterRepetition` at frame c: the repetition playing
    /// at c finishes; in the silence between repetitions it stops at c.
    #[test]
    fn spaced_forever_ends_after_the_repetition_or_in_the_gap(
        frames in 1u64..64,
        region in (any::<u64>(), any::<u64>()),
        (den, extra) in (1u64..=8, any::<u64>()),
        f in 0u64..500,
        d in 0u64..1500,
        live in any::<bool>(),
        pattern in blocks(),
    ) {
        let (a, b) = fit_region(frames, region);
        let len = b - a;
        let num = den + extra % (den * (2 * len + 8));
        let buffer = counting(frames, 0);
        let c = f + d;
        let end = match spaced(num, den, len, None, d) {
            (Some(_), stop) => f + stop,
            (None, _) => c,
        };
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(1));
        let mut dev = Device::new(engine, &pattern);
        let play = mono(buffer.clone())
            .region(a, b)
            .interval(Interval::new(num, den).unwrap())
            .repeat(Repeat::Forever)
            .at(At::Frame(f));
        let id = ctl.play(play).unwrap();
        if live {
            dev.run_before(c);
        }
        let cut = ctl.cancel_with(id, At::Frame(c), Late::Skip, Ending::AfterRepetition).unwrap();
        dev.run_to(end + 8);
        check(&dev.out, 1, |t, _| {
            if !(f..end).contains(&t) {
                return 0.0;
            }
            match spaced(num, den, len, None, t - f).0 {
                Some(offset) => buffer[(a + offset) as usize],
                None => 0.0,
            }
        })?;
        let done = take(&mut ctl, id);
        prop_assert_eq!(done.end, EndReason::Cancelled { at: end });
        prop_assert_eq!(done.ended_at, Some(end));
        prop_assert_eq!(done.actual_start, (end > f).then_some(f));
        prop_assert_eq!(take(&mut ctl, cut).end, EndReason::Cut);
    }
}

/// The minimal case of the bug above: a 4-frame region every 2 frames, twice. The doc says
/// repetition 0 plays until repetition 1 starts at frame 2, and repetition 1 (the last)
/// plays the whole region: `[1, 2, 1, 2, 3, 4]`, `duration() == Some(6)` (the engine once
/// started a third repetition at frame 4, playing `[1, 2, 1, 2, 1, 2]`).
#[test]
fn the_last_overlapping_repetition_plays_whole() {
    let (mut ctl, mut engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(1));
    let play = mono(vec![1.0, 2.0, 3.0, 4.0])
        .interval(Interval::frames(2).unwrap())
        .repeat(Repeat::Times(2));
    assert_eq!(play.duration(), Some(6));
    let id = ctl.play(play).unwrap();
    let mut out = [0.0f32; 8];
    engine.output.process(&mut out);
    assert_eq!(out, [1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 0.0, 0.0]);
    assert_eq!(take(&mut ctl, id).ended_at, Some(6));
}

// 2. Fade envelopes.

proptest! {
    /// A constant 1.0 play of N frames from frame F with `fade_in(i)` and `fade_out(o)`:
    /// frame F + k is `(1.0 * fin) * fout`, the fade-in ramp from 0 to 1 over `i` frames
    /// from F times the fade-out ramp from 1 to 0 over `o` frames from `F + N - o` (a fade of
    /// 0 frames is 1). So the first fade-in sample is 0, frame k of it is `k / i`, and the
    /// last fade-out sample is `1 - (o - 1) / o`.
    #[test]
    fn fade_envelopes_are_exact(
        n in 1u64..2000,
        fade_in in permille(),
        fade_out in permille(),
        f in 0u64..1000,
        pattern in blocks(),
    ) {
        let (i, o) = (fade_in * n / 1000, fade_out * n / 1000);
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(1));
        let mut dev = Device::new(engine, &pattern);
        let id = ctl
            .play(mono(vec![1.0; n as usize]).fade_in(i).fade_out(o).at(At::Frame(f)))
            .unwrap();
        dev.run_to(f + n + 8);
        let gain = 1.0f32;
        check(&dev.out, 1, |t, _| {
            if !(f..f + n).contains(&t) {
                return 0.0;
            }
            let fin = if i == 0 { 1.0 } else { ramp(0.0, 1.0, f, i, t) };
            let fout = if o == 0 { 1.0 } else { ramp(1.0, 0.0, f + n - o, o, t) };
            mixed((gain * fin) * fout)
        })?;
        let at = |t: u64| dev.out[t as usize];
        if i > 0 {
            prop_assert_eq!(at(f).to_bits(), 0.0f32.to_bits(), "first fade-in sample");
            for k in (0..i).filter(|k| f + k < f + n - o) {
                prop_assert_eq!(at(f + k), k as f32 / i as f32, "fade-in frame {}", k);
            }
        }
        if o > 0 && i < n {
            let last = 1.0 - (o - 1) as f32 / o as f32;
            prop_assert_eq!(at(f + n - 1), last, "last fade-out sample");
        }
        let done = take(&mut ctl, id);
        prop_assert_eq!(done.frames, n);
        prop_assert_eq!(done.ended_at, Some(f + n));
    }
}

#[test]
fn fade_examples() {
    for size in [1, 3, 64] {
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(2));
        let mut dev = Device::new(engine, &Blocks::Fixed(size));
        let fade_in = Play::new(vec![1.0; 8], ChannelMap::new(&[0]).unwrap()).fade_in(4);
        let fade_out = Play::new(vec![1.0; 8], ChannelMap::new(&[1]).unwrap()).fade_out(4);
        ctl.play(fade_in).unwrap();
        ctl.play(fade_out).unwrap();
        dev.run_to(9);
        let left: Vec<f32> = dev.out.iter().step_by(2).take(9).copied().collect();
        let right: Vec<f32> = dev.out.iter().skip(1).step_by(2).take(9).copied().collect();
        assert_eq!(left, [0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0, 0.0]);
        assert_eq!(right, [1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0]);
    }
}

// 3. Gain ramps.

proptest! {
    /// `set_gain` of a play (original gain g0) to g1 over r frames at frame G: before G the
    /// play has g0, frame G + k (k < r) has `g0 + (g1 - g0) * (k / r)`, and from G + r on g1,
    /// wherever G falls in a block. A gain at or after the play's end finds no target.
    #[test]
    fn gain_ramp_is_exact(
        p in 0u64..400,
        n in 1u64..1500,
        g_at in any::<u64>(),
        r in prop_oneof![Just(0u64), 1u64..1000],
        (g0, g1) in (gain(), gain()),
        v in 1i32..=2048,
        live in any::<bool>(),
        pattern in blocks(),
    ) {
        // G from 100 frames before the play to 100 frames after it.
        let g = (p.saturating_sub(100) + g_at % (n + 200)).min(p + n + 100);
        let v = q(v);
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(1));
        let mut dev = Device::new(engine, &pattern);
        let id = ctl.play(mono(vec![v; n as usize]).gain(g0).at(At::Frame(p))).unwrap();
        if live {
            dev.run_before(g);
        }
        let change = ctl.set_gain(GainTarget::Action(id), g1, r, At::Frame(g), Late::Skip).unwrap();
        dev.run_to((p + n).max(g) + 8);
        check(&dev.out, 1, |t, _| {
            if (p..p + n).contains(&t) { mixed(v * ramp(g0, g1, g, r, t)) } else { 0.0 }
        })?;
        let want = if g < p + n { EndReason::Finished } else { EndReason::TargetNotActive };
        prop_assert_eq!(take(&mut ctl, change).end, want);
        prop_assert_eq!(take(&mut ctl, id).frames, n);
    }

    /// A gain change that arrives after its frame G with `Late::Skip` keeps its ramp in
    /// place: the frames already rendered kept g0, and from the block that takes it on,
    /// each frame has the value the ramp from G gives it.
    #[test]
    fn a_late_gain_change_with_skip_keeps_its_ramp_in_place(
        p in 0u64..300,
        n in 1u64..1500,
        (g_at, lateness) in (any::<u64>(), 1u64..400),
        r in prop_oneof![Just(0u64), 1u64..1000],
        (g0, g1) in (gain(), gain()),
        pattern in blocks(),
    ) {
        let g = p + g_at % n;
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(1));
        let mut dev = Device::new(engine, &pattern);
        let id = ctl.play(mono(vec![1.0; n as usize]).gain(g0).at(At::Frame(p))).unwrap();
        dev.run_to(g + lateness);
        let now = dev.clock();
        let change = ctl.set_gain(GainTarget::Action(id), g1, r, At::Frame(g), Late::Skip).unwrap();
        dev.block();
        dev.run_to(p + n + 8);
        check(&dev.out, 1, |t, _| {
            if !(p..p + n).contains(&t) {
                0.0
            } else if t < now {
                mixed(g0)
            } else {
                mixed(ramp(g0, g1, g, r, t))
            }
        })?;
        let done = take(&mut ctl, change);
        prop_assert_eq!(done.late_by, now - g);
        let want = if now < p + n { EndReason::Finished } else { EndReason::TargetNotActive };
        prop_assert_eq!(done.end, want);
        prop_assert_eq!(take(&mut ctl, id).frames, n);
    }

    /// Two gain changes, the second starting at G2 during the first's ramp (or at its
    /// start): the second ramp starts from the first ramp's value at G2.
    #[test]
    fn a_gain_change_mid_ramp_starts_from_the_ramp(
        p in 0u64..300,
        n in 1u64..1500,
        (g1_at, r1, d) in (any::<u64>(), 1u64..800, any::<u64>()),
        r2 in prop_oneof![Just(0u64), 1u64..800],
        (g0, g1, g2) in (gain(), gain(), gain()),
        live in any::<bool>(),
        pattern in blocks(),
    ) {
        let t1 = p + g1_at % n;
        let t2 = t1 + d % r1;
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(1));
        let mut dev = Device::new(engine, &pattern);
        let id = ctl.play(mono(vec![1.0; n as usize]).gain(g0).at(At::Frame(p))).unwrap();
        if live {
            dev.run_before(t1);
        }
        let first = ctl.set_gain(GainTarget::Action(id), g1, r1, At::Frame(t1), Late::Skip).unwrap();
        if live {
            dev.run_before(t2);
        }
        let second = ctl.set_gain(GainTarget::Action(id), g2, r2, At::Frame(t2), Late::Skip).unwrap();
        dev.run_to((p + n).max(t2) + 8);
        let from2 = ramp(g0, g1, t1, r1, t2);
        check(&dev.out, 1, |t, _| {
            if !(p..p + n).contains(&t) {
                0.0
            } else if t < t2 {
                mixed(ramp(g0, g1, t1, r1, t))
            } else {
                mixed(ramp(from2, g2, t2, r2, t))
            }
        })?;
        prop_assert_eq!(take(&mut ctl, first).end, EndReason::Finished);
        let want = if t2 < p + n { EndReason::Finished } else { EndReason::TargetNotActive };
        prop_assert_eq!(take(&mut ctl, second).end, want);
    }
}

// 4. Cancels with a fade.

proptest! {
    /// `cancel_with(.., At::Frame(c), .., Ending::FadeOut(m))` on a long constant play: frame
    /// c + k is the sample times `1 + (0 - 1) * (k / m)` for k < m, silence from c + m on,
    /// and the play ends `Cancelled { at: c + m }` there (`FadeOut(0)` is a cut at c).
    #[test]
    fn cancel_fades_out_exactly(
        p in 0u64..500,
        d in 0u64..1500,
        m in prop_oneof![Just(0u64), Just(1u64), 1u64..500],
        extra in 1u64..300,
        v in 1i32..=2048,
        live in any::<bool>(),
        pattern in blocks(),
    ) {
        let (c, n, v) = (p + d, d + m + extra, q(v));
        let end = c + m;
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(1));
        let mut dev = Device::new(engine, &pattern);
        let id = ctl.play(mono(vec![v; n as usize]).at(At::Frame(p))).unwrap();
        if live {
            dev.run_before(c);
        }
        let cut = ctl.cancel_with(id, At::Frame(c), Late::Skip, Ending::FadeOut(m)).unwrap();
        dev.run_to(p + n + 8);
        check(&dev.out, 1, |t, _| {
            if (p..c).contains(&t) {
                mixed(v)
            } else if (c..end).contains(&t) {
                mixed(v * ramp(1.0, 0.0, c, m, t))
            } else {
                0.0
            }
        })?;
        let done = take(&mut ctl, id);
        prop_assert_eq!(done.end, EndReason::Cancelled { at: end });
        prop_assert_eq!(done.ended_at, Some(end));
        prop_assert_eq!(done.frames, end - p);
        prop_assert_eq!(done.actual_start, (end > p).then_some(p));
        prop_assert_eq!(take(&mut ctl, cut).end, EndReason::Cut);
    }
}

proptest! {
    /// A second faded cancel at c2, while the fade of a first one (at c1, over m1 frames)
    /// is under way: the frames before c2 keep the first fade, whatever the block pattern
    /// (a faded cancel takes effect between samples, like a gain change). The fade never
    /// rises: if the second ends first (c2 + m2 < c1 + m1), it falls from the gain `g` the
    /// first reached at c2, `g + (0 - g) * (k / m2)` at c2 + k; otherwise the first goes on
    /// unchanged. The play stops at the earlier of the two ends.
    #[test]
    fn a_second_faded_cancel_takes_over_at_its_frame_and_never_rises(
        c1 in 10u64..300,
        m1 in 2u64..200,
        into in 1u64..200,
        m2 in 1u64..200,
        v in 1i32..=2048,
        pattern in blocks(),
    ) {
        let c2 = c1 + into % m1;
        let (e1, e2) = (c1 + m1, c2 + m2);
        let end = e1.min(e2);
        let v = q(v);
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(1));
        let mut dev = Device::new(engine, &pattern);
        let id = ctl.play(mono(vec![v; 1000]).at(At::Frame(0))).unwrap();
        ctl.cancel_with(id, At::Frame(c1), Late::Skip, Ending::FadeOut(m1)).unwrap();
        ctl.cancel_with(id, At::Frame(c2), Late::Skip, Ending::FadeOut(m2)).unwrap();
        dev.run_to(1008);
        check(&dev.out, 1, |t, _| {
            if t < c1 {
                mixed(v)
            } else if t < c2 {
                mixed(v * ramp(1.0, 0.0, c1, m1, t))
            } else if t < end && e2 < e1 {
                mixed(v * ramp(ramp(1.0, 0.0, c1, m1, c2), 0.0, c2, m2, t))
            } else if t < end {
                mixed(v * ramp(1.0, 0.0, c1, m1, t))
            } else {
                0.0
            }
        })?;
        prop_assert_eq!(take(&mut ctl, id).end, EndReason::Cancelled { at: end });
    }
}

// 5. Master gains.

proptest! {
    /// A master gain ramp on channel `ch` of a 2-channel stream (from unity to g over r
    /// frames at G) scales that channel of the whole mix, silence included, exactly per the
    /// ramp formula; the other channel is untouched. An optional second change at G2 >= G
    /// (usually during the first ramp) starts from the first ramp's value at G2.
    #[test]
    fn master_gain_ramps_one_channel(
        ch in 0u16..2,
        (v0, v1) in (-2048i32..=2048, -2048i32..=2048),
        p in 0u64..400,
        n in 1u64..1000,
        g_at in 0u64..1600,
        r in prop_oneof![Just(0u64), 1u64..800],
        g in gain(),
        second in prop::option::of((any::<u64>(), prop_oneof![Just(0u64), 1u64..400], gain())),
        live in any::<bool>(),
        pattern in blocks(),
    ) {
        let vs = [q(v0), q(v1)];
        let second = second.map(|(d, r2, g2)| (g_at + d % (r + 50), r2, g2));
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(2));
        let mut dev = Device::new(engine, &pattern);
        let buffer: Vec<f32> = vs.repeat(n as usize);
        let id = ctl
            .play(Play::new(buffer, ChannelMap::contiguous(0, 2).unwrap()).at(At::Frame(p)))
            .unwrap();
        let mut changes = vec![];
        for (at, r, g) in std::iter::once((g_at, r, g)).chain(second) {
            if live {
                dev.run_before(at);
            }
            changes.push(ctl.set_gain(GainTarget::Master(ch), g, r, At::Frame(at), Late::Skip).unwrap());
        }
        let last = second.map_or(g_at + r, |(at, r2, _)| at + r2);
        dev.run_to((p + n).max(last) + 8);
        let master = |t: u64| match second {
            Some((at, r2, g2)) if t >= at => ramp(ramp(1.0, g, g_at, r, at), g2, at, r2, t),
            _ => ramp(1.0, g, g_at, r, t),
        };
        check(&dev.out, 2, |t, c| {
            let mix = if (p..p + n).contains(&t) { mixed(vs[c]) } else { 0.0 };
            if c == usize::from(ch) { mix * master(t) } else { mix }
        })?;
        for change in changes {
            prop_assert_eq!(take(&mut ctl, change).end, EndReason::Finished);
        }
        prop_assert_eq!(take(&mut ctl, id).frames, n);
    }
}

// 6. Queues of plays (`At::After`).

/// The starts of plays of `lens` frames queued back to back from `first`.
fn starts(first: u64, lens: &[u64]) -> Vec<u64> {
    lens.iter()
        .scan(first, |at, &len| {
            let start = *at;
            *at += len;
            Some(start)
        })
        .collect()
}

/// The buffers of a playlist: play `i` frame `j` holds `1000 i + j + 1`.
fn playlist(lens: &[u64]) -> Vec<Vec<f32>> {
    lens.iter()
        .enumerate()
        .map(|(i, &len)| counting(len, 1000 * i as u64))
        .collect()
}

/// The output of a playlist: buffer `i` from `starts[i]`, nothing else.
fn concatenation(buffers: &[Vec<f32>], starts: &[u64], t: u64) -> f32 {
    buffers
        .iter()
        .zip(starts)
        .find_map(|(b, &s)| (t >= s && t - s < b.len() as u64).then(|| b[(t - s) as usize]))
        .unwrap_or(0.0)
}

proptest! {
    /// Plays of random lengths (empty ones included), each `At::After` the one before, the
    /// first at frame F: the output is their exact concatenation from F, with no gap or
    /// overlap, and each one starts where the one before ended. The followers are submitted
    /// before the first block, or one by one while their predecessor is still playing (or
    /// just as it ends).
    #[test]
    fn queued_plays_are_back_to_back(
        lens in prop::collection::vec(prop_oneof![Just(0u64), 1u64..300], 1..=6),
        leads in prop::collection::vec(0u64..200, 6),
        f in 0u64..500,
        live in any::<bool>(),
        pattern in blocks(),
    ) {
        let buffers = playlist(&lens);
        let starts = starts(f, &lens);
        let end = f + lens.iter().sum::<u64>();
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(1));
        let mut dev = Device::new(engine, &pattern);
        let mut ids: Vec<ActionId> = Vec::new();
        for (i, buffer) in buffers.iter().enumerate() {
            let at = match ids.last() {
                None => At::Frame(f),
                Some(&prev) => {
                    if live {
                        // Before the predecessor ends (at the latest, as it ends).
                        dev.run_before(starts[i].saturating_sub(leads[i]));
                    }
                    At::After(prev)
                }
            };
            ids.push(ctl.play(mono(buffer.clone()).at(at).late(Late::Skip)).unwrap());
        }
        dev.run_to(end + 8);
        check(&dev.out, 1, |t, _| concatenation(&buffers, &starts, t))?;
        let mut prev_end = Some(f);
        for (i, &id) in ids.iter().enumerate() {
            let done = take(&mut ctl, id);
            prop_assert_eq!(done.end, EndReason::Finished, "play {}", i);
            prop_assert_eq!(done.late_by, 0, "play {}", i);
            prop_assert_eq!(done.actual_start, prev_end, "play {}", i);
            prop_assert_eq!(done.actual_start, Some(starts[i]), "play {}", i);
            prop_assert_eq!(done.frames, lens[i], "play {}", i);
            prop_assert_eq!(done.ended_at, Some(starts[i] + lens[i]), "play {}", i);
            prev_end = done.ended_at;
        }
    }

    /// Cutting the first play of a queue at frame x moves every follower: they start at x
    /// (where it stopped, even if it never started) and play back to back from there. A cut
    /// at or after its natural end changes nothing.
    #[test]
    fn cutting_the_head_moves_the_queue(
        lens in prop::collection::vec(prop_oneof![Just(0u64), 1u64..300], 2..=5),
        f in 0u64..400,
        x_at in 0u64..400,
        live in any::<bool>(),
        pattern in blocks(),
    ) {
        let buffers = playlist(&lens);
        let natural = f + lens[0];
        // From 50 frames before the first play to 50 after its end.
        let x = (f.saturating_sub(50) + x_at % (lens[0] + 101)).min(natural + 50);
        let stop = x.min(natural);
        let starts: Vec<u64> = std::iter::once(f).chain(starts(stop, &lens[1..])).collect();
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(1));
        let mut dev = Device::new(engine, &pattern);
        let mut ids: Vec<ActionId> = Vec::new();
        for (i, buffer) in buffers.iter().enumerate() {
            let at = if i == 0 { At::Frame(f) } else { At::After(ids[i - 1]) };
            ids.push(ctl.play(mono(buffer.clone()).at(at)).unwrap());
        }
        if live {
            dev.run_before(x);
        }
        let cut = ctl.cancel(ids[0], At::Frame(x), Late::Skip).unwrap();
        let end = stop + lens[1..].iter().sum::<u64>();
        dev.run_to(end.max(natural).max(x) + 8);
        check(&dev.out, 1, |t, _| {
            if (f..stop).contains(&t) {
                buffers[0][(t - f) as usize]
            } else {
                concatenation(&buffers[1..], &starts[1..], t)
            }
        })?;
        let head = take(&mut ctl, ids[0]);
        prop_assert_eq!(head.ended_at, Some(stop));
        prop_assert_eq!(head.frames, stop.saturating_sub(f));
        if x >= natural {
            prop_assert_eq!(head.end, EndReason::Finished);
            prop_assert_eq!(head.actual_start, Some(f));
            prop_assert_eq!(take(&mut ctl, cut).end, EndReason::TargetNotActive);
        } else {
            prop_assert_eq!(head.end, EndReason::Cancelled { at: x });
            prop_assert_eq!(head.actual_start, (x > f).then_some(f));
            prop_assert_eq!(take(&mut ctl, cut).end, EndReason::Cut);
        }
        let mut prev_end = head.ended_at;
        for (i, &id) in ids.iter().enumerate().skip(1) {
            let done = take(&mut ctl, id);
            prop_assert_eq!(done.actual_start, prev_end, "play {}", i);
            prop_assert_eq!(done.actual_start, Some(starts[i]), "play {}", i);
            prop_assert_eq!(done.frames, lens[i], "play {}", i);
            prev_end = done.ended_at;
        }
    }
}

/// A follower submitted after its predecessor ended is late: with `Late::Skip` its frames
/// that passed are left out and the rest land on the frames they were queued for.
#[test]
fn a_late_follower_with_skip_stays_in_phase() {
    for size in [1, 4, 5, 7] {
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(1));
        let mut dev = Device::new(engine, &Blocks::Fixed(size));
        let head = ctl.play(mono(counting(10, 0)).at(At::Frame(3))).unwrap();
        dev.run_to(20);
        let now = dev.clock();
        let follower = ctl
            .play(mono(counting(30, 100)).at(At::After(head)).late(Late::Skip))
            .unwrap();
        dev.run_to(50);
        let tail = &dev.out[now as usize..50];
        let want: Vec<f32> = (now..50)
            .map(|t| {
                if t < 43 {
                    (100 + t - 13 + 1) as f32
                } else {
                    0.0
                }
            })
            .collect();
        assert_eq!(tail, &want[..], "blocks of {size}");
        let done = take(&mut ctl, follower);
        assert_eq!(done.late_by, now - 13);
        assert_eq!(done.skipped, now - 13);
        assert_eq!(done.actual_start, Some(now));
        assert_eq!(done.ended_at, Some(43));
        assert_eq!(done.frames, 43 - now);
    }
}

// 7. Output protection.

/// Frame `j` of the play made from `seed`: a multiple of 1/1024 in [-2, 2].
fn wild_sample(seed: u64, j: u64) -> f32 {
    q((seed.wrapping_add(j * 37) % 4097) as i32 - 2048)
}

proptest! {
    /// Plays summing beyond [-1, 1] come out clamped to exactly ±1 on a clamped stream and
    /// unchanged otherwise; either way `clipped` counts the samples beyond. A play at gain
    /// `f32::MAX` over samples of 2.0 (infinite) comes out as 0 and counts in `non_finite`.
    #[test]
    fn output_protection_clamps_and_counts(
        clamp in any::<bool>(),
        plays in prop::collection::vec((0u64..400, 1u64..400, any::<u64>()), 1..=4),
        huge in prop::option::of((0u64..400, 1u64..200)),
        pattern in blocks(),
    ) {
        let config = if clamp { StreamConfig::output(1).clamped() } else { StreamConfig::output(1) };
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, config);
        let mut dev = Device::new(engine, &pattern);
        for &(start, len, seed) in &plays {
            let buffer = (0..len).map(|j| wild_sample(seed, j)).collect();
            ctl.play(mono(buffer).at(At::Frame(start))).unwrap();
        }
        if let Some((start, len)) = huge {
            ctl.play(mono(vec![2.0; len as usize]).gain(f32::MAX).at(At::Frame(start))).unwrap();
        }
        dev.run_to(820);
        let frames = dev.clock();
        let (mut clipped, mut non_finite) = (0u64, 0u64);
        let want: Vec<f32> = (0..frames)
            .map(|t| {
                let mut mix = 0.0f32;
                for &(start, len, seed) in &plays {
                    if (start..start + len).contains(&t) {
                        mix += wild_sample(seed, t - start);
                    }
                }
                if huge.is_some_and(|(start, len)| (start..start + len).contains(&t)) {
                    mix += f32::INFINITY;
                }
                if !mix.is_finite() {
                    non_finite += 1;
                    mix = 0.0;
                }
                if mix.abs() > 1.0 {
                    clipped += 1;
                    if clamp {
                        mix = mix.clamp(-1.0, 1.0);
                    }
                }
                mix
            })
            .collect();
        check(&dev.out, 1, |t, _| want[t as usize])?;
        let fetch = ctl.fetch_stats(Direction::Output, At::Asap).unwrap();
        dev.block();
        let done = take(&mut ctl, fetch);
        let stats = done.stream_stats().unwrap();
        prop_assert_eq!(stats.frames, frames);
        prop_assert_eq!(stats.clipped, clipped);
        prop_assert_eq!(stats.non_finite, non_finite);
    }
}

#[test]
fn an_infinite_mix_is_sent_as_zero() {
    for config in [StreamConfig::output(1), StreamConfig::output(1).clamped()] {
        let (mut ctl, engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, config);
        let mut dev = Device::new(engine, &Blocks::Fixed(8));
        ctl.play(mono(vec![2.0; 4]).gain(f32::MAX).at(At::Frame(2)))
            .unwrap();
        ctl.play(mono(vec![-3.0; 2]).at(At::Frame(5))).unwrap();
        dev.block();
        let fetch = ctl.fetch_stats(Direction::Output, At::Asap).unwrap();
        dev.block();
        let edge = if config.clamp_output { -1.0 } else { -3.0 };
        assert_eq!(dev.out[..8], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, edge, 0.0]);
        let stats = *take(&mut ctl, fetch).stream_stats().unwrap();
        assert_eq!((stats.non_finite, stats.clipped), (4, 1), "{config:?}");
    }
}

// 8. Typed refusals.

/// A shape applied to a play.
type Shape = fn(Play<Vec<f32>>) -> Play<Vec<f32>>;

#[test]
fn refused_plays_say_why_and_hand_their_buffer_back() {
    let (mut ctl, _engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(2));
    let ten = counting(10, 0);
    let region_past_end = |frames| Error::RegionOutOfRange {
        start: 3,
        end: 11,
        frames,
    };
    let cases: Vec<(Vec<f32>, Shape, Error)> = vec![
        (ten.clone(), |p| p.region(3, 11), region_past_end(10)),
        (
            ten.clone(),
            |p| p.region(6, 5),
            Error::RegionOutOfRange {
                start: 6,
                end: 5,
                frames: 10,
            },
        ),
        (
            ten.clone(),
            |p| p.region(4, 4).repeat(Repeat::Forever),
            Error::EmptyLoop,
        ),
        (Vec::new(), |p| p.repeat(Repeat::Forever), Error::EmptyLoop),
        (
            ten.clone(),
            |p| p.fade_in(11),
            Error::FadeTooLong {
                fade: 11,
                frames: 10,
            },
        ),
        (
            ten.clone(),
            |p| p.region(2, 5).repeat(Repeat::Times(3)).fade_out(10),
            Error::FadeTooLong {
                fade: 10,
                frames: 9,
            },
        ),
        (
            ten.clone(),
            |p| p.repeat(Repeat::Times(0)).fade_in(1),
            Error::FadeTooLong { fade: 1, frames: 0 },
        ),
        (
            ten.clone(),
            |p| p.repeat(Repeat::Forever).fade_out(1),
            Error::FadeTooLong {
                fade: 1,
                frames: u64::MAX,
            },
        ),
        (
            ten.clone(),
            |p| p.gain(f32::NAN),
            Error::NonFiniteGain { index: 0 },
        ),
        (
            ten.clone(),
            |p| p.gain(f32::NEG_INFINITY),
            Error::NonFiniteGain { index: 0 },
        ),
    ];
    for (buffer, shape, error) in cases {
        let refused = ctl.play(shape(mono(buffer.clone()))).unwrap_err();
        assert_eq!(refused.error, error);
        assert_eq!(refused.returned.into_buffer(), buffer, "{error:?}");
    }
    assert_eq!(ctl.outstanding(Direction::Output), 0);
    // The limits themselves are accepted.
    let accepted: [Shape; 4] = [
        |p| p.region(0, 10).fade_in(10).fade_out(10),
        |p| p.region(2, 5).repeat(Repeat::Times(3)).fade_out(9),
        |p| p.region(10, 10),
        |p| p.region(9, 10).repeat(Repeat::Forever).fade_in(1000),
    ];
    for shape in accepted {
        ctl.play(shape(mono(ten.clone()))).unwrap();
    }
}

#[test]
fn intervals_shorter_than_a_frame_are_refused() {
    assert_eq!(
        Interval::new(1, 2),
        Err(Error::IntervalTooShort { num: 1, den: 2 })
    );
    assert_eq!(
        Interval::new(3, 0),
        Err(Error::IntervalTooShort { num: 3, den: 0 })
    );
    assert_eq!(
        Interval::frames(0),
        Err(Error::IntervalTooShort { num: 0, den: 1 })
    );
    assert_eq!(Interval::new(7, 7).map(Interval::ratio), Ok((7, 7)));
}

#[test]
fn refused_gain_changes_say_why() {
    let (mut ctl, _engine) = stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::duplex(2, 1));
    let id = ctl.play(mono(vec![1.0; 4])).unwrap();
    let rec = ctl
        .record(Record::new(vec![0.0; 4], ChannelMap::new(&[0]).unwrap()))
        .unwrap();
    let target = GainTarget::Action(id);
    assert_eq!(
        ctl.set_gain(target, f32::NAN, 0, At::Asap, Late::Skip),
        Err(Error::NonFiniteGain { index: 0 })
    );
    assert_eq!(
        ctl.set_gain(target, f32::INFINITY, 0, At::Asap, Late::Skip),
        Err(Error::NonFiniteGain { index: 0 })
    );
    assert_eq!(
        ctl.set_gain(GainTarget::Master(2), 0.5, 0, At::Asap, Late::Skip),
        Err(Error::ChannelOutOfRange {
            channel: 2,
            channels: 2
        })
    );
    assert_eq!(
        ctl.set_gain(GainTarget::Action(rec), 0.5, 0, At::Asap, Late::Skip),
        Err(Error::WrongDirection)
    );
    assert_eq!(ctl.outstanding(Direction::Output), 1);
    assert!(ctl
        .set_gain(GainTarget::Master(1), 0.5, 0, At::Asap, Late::Skip)
        .is_ok());
}

#[test]
fn every_output_channel_has_a_master_gain() {
    // 40 channels: more than the 32 a master gain once stopped at.
    let channels = 40;
    let (mut ctl, mut engine) =
        stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::output(channels));
    ctl.set_gain(
        GainTarget::Master(channels - 1),
        0.5,
        0,
        At::Asap,
        Late::Skip,
    )
    .unwrap();
    assert_eq!(
        ctl.set_gain(GainTarget::Master(channels), 0.5, 0, At::Asap, Late::Skip),
        Err(Error::ChannelOutOfRange {
            channel: channels,
            channels
        })
    );
    let map = ChannelMap::contiguous(channels - 2, 2).unwrap();
    ctl.play(Play::new(vec![1.0; 2], map)).unwrap();
    let mut out = vec![0.0f32; usize::from(channels)];
    engine.output.process(&mut out);
    assert_eq!(out[usize::from(channels) - 2..], [1.0, 0.5]);
}

#[test]
fn refused_followers_say_why() {
    let (mut ctl, mut engine) =
        stream::open::<Vec<f32>, Vec<f32>>(16, 16, StreamConfig::duplex(1, 1));
    let rec = ctl
        .record(Record::new(vec![0.0; 4], ChannelMap::new(&[0]).unwrap()))
        .unwrap();
    let buffer = counting(5, 0);
    let refused = ctl
        .play(mono(buffer.clone()).at(At::After(rec)))
        .unwrap_err();
    assert_eq!(refused.error, Error::WrongDirection);
    assert_eq!(refused.returned.into_buffer(), buffer);

    let head = ctl.play(mono(vec![1.0; 2])).unwrap();
    engine.process(&[0.0; 8], &mut [0.0; 8]);
    assert_eq!(take(&mut ctl, head).ended_at, Some(2));
    let refused = ctl
        .play(mono(buffer.clone()).at(At::After(head)))
        .unwrap_err();
    assert_eq!(refused.error, Error::NotOutstanding);
    assert_eq!(refused.returned.into_buffer(), buffer);
    assert_eq!(
        ctl.cancel_with(rec, At::After(head), Late::Skip, Ending::Cut),
        Err(Error::WrongDirection)
    );
    // Following an action whose completion has arrived but was not taken is fine.
    let second = ctl.play(mono(vec![1.0; 2])).unwrap();
    engine.process(&[0.0; 8], &mut [0.0; 8]);
    let follower = ctl.play(mono(buffer).at(At::After(second))).unwrap();
    engine.process(&[0.0; 8], &mut [0.0; 8]);
    let done = take(&mut ctl, follower);
    assert_eq!(done.late_by, 6);
    assert_eq!(done.end, EndReason::DroppedLate);
}

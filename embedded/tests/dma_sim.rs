//! A simulated circular DMA drives `DmaOutput` and `TriggerOutput` for 10 s of audio at
//! 48 kHz with random plays, cancels and triggers, and missed interrupts.
//!
//! The simulated DMA sends the two halves of the buffer in turn onto a "wire" (a copy of
//! each half as it starts), and raises the interrupt for the half it has just finished,
//! unless the test decides that interrupt is missed. What it proves:
//!
//! * the frame clock is the wire: the block the integration reports as starting on the
//!   wire at each interrupt begins exactly at the wire position (`j * half`), across
//!   halves, missed interrupts included;
//! * every frame on the wire is the reference model's output at that frame (host-tests'
//!   `model::expect`, given the engine's runs and when it saw each command), quantised by
//!   an independent implementation of the I2S word format; a half that went out stale
//!   after a missed interrupt repeats that half's previous content, and the model has
//!   those frames as lost; every completion equals the model's;
//! * every trigger fires once, in the first serviced block whose end is past its frame:
//!   on time (in the block that contains its frame, at the right offset) when it was sent
//!   before that block started, late by the right number of frames otherwise, in frame
//!   order within a block, and the pin ends at the last edge of each block.

use std::collections::BTreeMap;
use std::convert::Infallible;

use embedded_hal::digital::{ErrorType, OutputPin};
use rtmix_core::{
    ActionId, At, ChannelMap, Controller, Ending, Fixed, Late, OutputStorage, Play, Repeat,
    StreamConfig, Unused,
};
use rtmix_embedded::{
    Block, DmaOutput, Edge, Fired, FrameFormat, Half, I16Bits, I24Left, I24LeftHalfwords, Trigger,
    TriggerOutput, TriggerQueue, I16,
};
use rtmix_host_tests::blocks::SplitMix64;
use rtmix_host_tests::model::expect;
use rtmix_host_tests::scenario::{Op, PlayShape, Scenario, Step};
use rtmix_host_tests::sim::{Run, SimCompletion, Submission};

const RATE: u64 = 48_000;
const SECONDS: u64 = 10;
const ACTIONS: usize = 16;
const TRIGGERS: usize = 16;

/// The firmware's storage: 16 actions, 31 queued commands, 3 completions in transit, up to
/// 8 channels.
type Storage = OutputStorage<Vec<f32>, ACTIONS, 32, 4, 8>;
type Ctl<'a> = Controller<Vec<f32>, Unused, Fixed<'a, 8>>;

/// A completion of the output-only firmware stream as the host model's type.
fn as_sim(c: rtmix_core::Completion<Vec<f32>, Unused>) -> SimCompletion {
    use rtmix_core::Payload;
    rtmix_core::Completion {
        id: c.id,
        kind: c.kind,
        requested: c.requested,
        late_by: c.late_by,
        actual_start: c.actual_start,
        frames: c.frames,
        skipped: c.skipped,
        ended_at: c.ended_at,
        end: c.end,
        stats: c.stats,
        payload: match c.payload {
            Payload::None => Payload::None,
            Payload::Played(p) => Payload::Played(p),
            Payload::Recorded(never) => match never {},
            Payload::Stats(s) => Payload::Stats(s),
        },
    }
}

/// A pin that remembers its level.
struct RecPin(Option<bool>);

impl ErrorType for RecPin {
    type Error = Infallible;
}

impl OutputPin for RecPin {
    fn set_high(&mut self) -> Result<(), Infallible> {
        self.0 = Some(true);
        Ok(())
    }
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.0 = Some(false);
        Ok(())
    }
}

/// An independent quantiser: `round(x * 2^(bits-1))` half away from zero, clamped, NaN 0.
fn quantise(x: f32, bits: u32) -> i64 {
    let scale = f64::from(1u32 << (bits - 1));
    if x.is_nan() {
        return 0;
    }
    let v = (f64::from(x) * scale).round();
    v.clamp(-scale, scale - 1.0) as i64
}

/// The I2S words of one sample, as this test computes them.
trait Reference: FrameFormat {
    fn words(x: f32, out: &mut Vec<Self::Word>);
}

impl Reference for I16 {
    fn words(x: f32, out: &mut Vec<i16>) {
        out.push(quantise(x, 16) as i16);
    }
}

impl Reference for I16Bits {
    fn words(x: f32, out: &mut Vec<u16>) {
        out.push(quantise(x, 16) as i16 as u16);
    }
}

impl Reference for I24Left {
    fn words(x: f32, out: &mut Vec<i32>) {
        out.push((quantise(x, 24) as i32) * 256);
    }
}

impl Reference for I24LeftHalfwords {
    fn words(x: f32, out: &mut Vec<u16>) {
        let v = ((quantise(x, 24) as i32) * 256) as u32;
        out.push((v >> 16) as u16);
        out.push(v as u16);
    }
}

struct Rng(SplitMix64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n.max(1)
    }
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// A random play op starting near `clock` (sometimes in the past, to be late).
fn random_play(rng: &mut Rng, clock: u64, channels: u16) -> Op {
    let k = 1 + rng.below(2) as usize;
    let frames = 1 + rng.below(2400) as usize;
    let samples: Vec<f32> = (0..frames * k)
        .map(|_| (rng.below(4097) as f32 - 2048.0) / 2048.0 * 0.7)
        .collect();
    let map: Vec<u16> = (0..k)
        .map(|_| rng.below(u64::from(channels)) as u16)
        .collect();
    let gains: Vec<f32> = (0..k).map(|_| rng.pick(&[1.0, 0.5, 0.75, 1.5])).collect();
    let at = match rng.below(10) {
        0 => At::Asap,
        1 => At::Frame(clock.saturating_sub(rng.below(300))),
        _ => At::Frame(clock + rng.below(20_000)),
    };
    let late = rng.pick(&[Late::Drop, Late::StartNow, Late::Skip]);
    let mut shape = PlayShape {
        gain: rng.pick(&[1.0, 0.8, 0.3]),
        ..PlayShape::default()
    };
    if rng.chance(300) {
        let a = rng.below(frames as u64);
        let b = a + 1 + rng.below(frames as u64 - a);
        shape.region = Some((a, b));
    }
    if rng.chance(300) {
        shape.repeat = Repeat::Times(1 + rng.below(4));
    }
    if rng.chance(300) {
        shape.fade_in = rng.below(frames as u64 / 2 + 1);
        shape.fade_out = rng.below(frames as u64 / 2 + 1);
    }
    Op::Play {
        samples,
        map,
        gains,
        at,
        late,
        shape,
    }
}

/// Submits a play or cancel op the way the host-tests simulator does.
fn submit(ctl: &mut Ctl<'_>, op: &Op, subs: &[Submission], seen_run: usize) -> Submission {
    let result = match op {
        Op::Play {
            samples,
            map,
            gains,
            at,
            late,
            shape,
        } => {
            let map = ChannelMap::new(map).unwrap().with_gains(gains).unwrap();
            let mut play = Play::new(samples.clone(), map)
                .at(*at)
                .late(*late)
                .repeat(shape.repeat)
                .gain(shape.gain)
                .fade_in(shape.fade_in)
                .fade_out(shape.fade_out);
            if let Some((a, b)) = shape.region {
                play = play.region(a, b);
            }
            ctl.play(play).map_err(|r| r.error)
        }
        Op::Cancel {
            target,
            at,
            late,
            ending,
        } => {
            let Some(Submission::Accepted { id, .. }) = subs.get(*target) else {
                return Submission::Skipped;
            };
            ctl.cancel_with(*id, *at, *late, *ending)
        }
        _ => unreachable!("only plays and cancels are generated"),
    };
    match result {
        Ok(id) => Submission::Accepted { id, seen_run },
        Err(e) => Submission::Refused(e),
    }
}

/// A trigger as sent: the trigger, and how many interrupts had been serviced by then.
#[derive(Clone, Copy, Debug)]
struct Sent {
    trigger: Trigger,
    serviced: usize,
}

struct Outcome<W> {
    wire: Vec<W>,
    /// Blocks reported as starting on the wire, by serviced interrupt.
    playing: Vec<Block>,
    runs: Vec<Run>,
    scenario: Scenario,
    submissions: Vec<Submission>,
    completions: Vec<SimCompletion>,
    sent: Vec<Sent>,
    fired: Vec<(usize, Fired)>,
    clipped: usize,
    missed: usize,
}

#[allow(clippy::too_many_lines)]
fn simulate<F>(seed: u64, channels: u16, half: usize, miss_per_mille: u64) -> Outcome<F::Word>
where
    F: Reference,
    F::Word: PartialEq + std::fmt::Debug,
{
    let mut rng = Rng(SplitMix64(seed));
    let mut storage: Box<Storage> = Box::default();
    let (mut ctl, engine) = storage.split(StreamConfig::output(channels)).unwrap();
    let mut scratch = vec![0.0f32; half * usize::from(channels)];
    let mut dma: DmaOutput<'_, _, F, _> =
        DmaOutput::new(engine.output, &mut scratch, half).unwrap();
    let mut trigger_queue: TriggerQueue<TRIGGERS> = TriggerQueue::new();
    let (mut tx, rx) = trigger_queue.split();
    let mut triggers: TriggerOutput<'_, RecPin, TRIGGERS> = TriggerOutput::new(rx, RecPin(None));

    let h = half as u64;
    let mut buffer = vec![F::Word::default(); dma.buffer_len()];
    let mut out = Outcome {
        wire: Vec::new(),
        playing: Vec::new(),
        runs: Vec::new(),
        scenario: Scenario {
            output_channels: channels,
            input_channels: 0,
            steps: Vec::new(),
            xruns: Vec::new(),
            total_frames: RATE * SECONDS,
            clamp: false,
        },
        submissions: Vec::new(),
        completions: Vec::new(),
        sent: Vec::new(),
        fired: Vec::new(),
        clipped: 0,
        missed: 0,
    };
    let mut ops: Vec<Op> = Vec::new();
    let mut plays: Vec<usize> = Vec::new();

    let blocks = dma.prime(&mut buffer).unwrap();
    assert_eq!(blocks.map(|b| b.start), [0, h]);
    out.runs.extend(blocks.iter().map(|b| Run {
        start: b.start,
        frames: b.frames,
        lost: false,
    }));
    let halves = (RATE * SECONDS).div_ceil(h);
    let mut missed_last = false;
    for j in 0..halves {
        let sending = if j % 2 == 0 {
            Half::First
        } else {
            Half::Second
        };
        out.wire.extend_from_slice(sending.of(&buffer));
        if j == 0 {
            continue;
        }

        // The control side, between interrupts.
        let clock = dma.clock();
        if rng.chance(40 * h.min(25)) {
            let op = if plays.is_empty() || rng.chance(800) {
                random_play(&mut rng, clock, channels)
            } else {
                Op::Cancel {
                    target: rng.pick(&plays),
                    at: At::Frame(clock + rng.below(4000)),
                    late: Late::StartNow,
                    ending: if rng.chance(500) {
                        Ending::Cut
                    } else {
                        Ending::FadeOut(rng.below(500))
                    },
                }
            };
            let sub = submit(&mut ctl, &op, &out.submissions, out.runs.len());
            if matches!(op, Op::Play { .. }) {
                plays.push(ops.len());
            }
            out.submissions.push(sub);
            ops.push(op);
        }
        let outstanding = out.sent.len() - out.fired.len();
        if outstanding < TRIGGERS - 1 && rng.chance(30 * h.min(25)) {
            // Mostly ahead of the wire, sometimes already passed.
            let wire_now = j * h;
            let frame = (wire_now + rng.below(6000)).saturating_sub(rng.below(3 * h));
            let edge = rng.pick(&[Edge::High, Edge::Low]);
            let trigger = Trigger { frame, edge };
            tx.send(trigger).unwrap();
            out.sent.push(Sent {
                trigger,
                serviced: out.playing.len(),
            });
        }

        // The interrupt for the half the DMA has just finished, unless it is missed (never
        // two in a row: the order of the halves cannot show that).
        if !missed_last && j > 2 && rng.chance(miss_per_mille) {
            missed_last = true;
            out.missed += 1;
            continue;
        }
        missed_last = false;
        let (report, fired) = dma
            .service(sending.other(), &mut buffer, |block| {
                triggers.on_block(block)
            })
            .unwrap();
        // The block starting on the wire is exactly the wire position.
        assert_eq!(report.playing.start, j * h, "interrupt {j}");
        assert_eq!(report.playing.frames, h);
        assert_eq!(report.playing.stale, report.missed);
        if report.playing.stale {
            out.runs.push(Run {
                start: report.playing.start,
                frames: h,
                lost: true,
            });
        }
        assert_eq!(report.rendered.start, report.playing.end());
        out.runs.push(Run {
            start: report.rendered.start,
            frames: h,
            lost: false,
        });
        out.clipped += report.clipped;
        if let Some(last) = fired.last() {
            let level = triggers.pin().0;
            assert_eq!(level, Some(last.trigger.edge == Edge::High));
        }
        let serviced = out.playing.len();
        out.fired.extend(fired.into_iter().map(|f| (serviced, f)));
        out.playing.push(report.playing);
        while let Some(c) = ctl.try_next() {
            out.completions.push(as_sim(c));
        }
    }
    out.scenario.steps = Step::each_alone(ops);
    drop(triggers);
    out
}

#[allow(clippy::too_many_lines)]
fn check<F>(seed: u64, channels: u16, half: usize, miss_per_mille: u64)
where
    F: Reference,
    F::Word: PartialEq + std::fmt::Debug,
{
    let out = simulate::<F>(seed, channels, half, miss_per_mille);
    let h = half as u64;
    let ch = usize::from(channels);
    let spf = ch * F::WORDS_PER_SAMPLE; // words per frame
    let accepted = out
        .submissions
        .iter()
        .filter(|s| matches!(s, Submission::Accepted { .. }))
        .count();
    assert!(accepted > 50, "too few accepted commands: {accepted}");
    assert!(out.sent.len() > 50, "too few triggers: {}", out.sent.len());
    if miss_per_mille > 0 {
        assert!(out.missed > 0, "no missed interrupt was simulated");
    }

    // The wire against the model.
    let expected = expect(
        &out.scenario,
        &[out.runs.clone(), Vec::new()],
        &out.submissions,
    );
    let stale: Vec<u64> = out
        .playing
        .iter()
        .filter(|b| b.stale)
        .map(|b| b.start / h)
        .collect();
    let wire_frames = out.wire.len() / spf;
    assert_eq!(wire_frames as u64 % h, 0);
    let mut words = Vec::with_capacity(spf * half);
    for j in 0..wire_frames / half {
        let (a, b) = (j * half * spf, (j + 1) * half * spf);
        let frames = &expected.output[j * half * ch..(j + 1) * half * ch];
        if stale.contains(&(j as u64)) {
            assert!(frames.iter().all(|&x| x == 0.0), "a lost run is silent");
            let before = 2 * half * spf;
            assert_eq!(
                out.wire[a..b],
                out.wire[a - before..b - before],
                "stale half {j}"
            );
            continue;
        }
        words.clear();
        for &x in frames {
            F::words(x, &mut words);
        }
        assert_eq!(
            out.wire[a..b],
            words[..],
            "wire block {j} (frames {})",
            j as u64 * h
        );
    }
    // The interrupts' clip counts: every rendered block after the two primed ones.
    let clipped = expected.output[2 * half * ch..]
        .iter()
        .filter(|x| !(-1.0..=1.0).contains(*x))
        .count();
    assert_eq!(out.clipped, clipped);

    // Completions against the model.
    let mut got = BTreeMap::<ActionId, SimCompletion>::new();
    for c in out.completions {
        let id = c.id;
        assert!(got.insert(id, c).is_none(), "duplicate completion");
    }
    for (id, want) in &expected.completions {
        if let Some(c) = got.get(id) {
            assert_eq!(c, want, "completion of {id:?}");
        }
    }
    let compared = got
        .keys()
        .filter(|id| expected.completions.contains_key(id))
        .count();
    assert!(compared > 50, "only {compared} completions compared");
    let missing = expected
        .completions
        .keys()
        .filter(|id| !got.contains_key(id))
        .count();
    // Completions of actions that ended in the last blocks may still be queued.
    assert!(missing <= ACTIONS, "{missing} completions never arrived");
    assert!(got.keys().all(|id| expected.completions.contains_key(id)));

    // Triggers.
    let mut want: Vec<(usize, Trigger, u64, u64)> = Vec::new();
    for s in &out.sent {
        let Some((index, block)) = out
            .playing
            .iter()
            .enumerate()
            .skip(s.serviced)
            .find(|(_, b)| b.end() > s.trigger.frame)
        else {
            continue; // past the end of the run
        };
        let (offset, late_by) = if block.contains(s.trigger.frame) {
            (s.trigger.frame - block.start, 0)
        } else {
            (0, block.start - s.trigger.frame)
        };
        want.push((index, s.trigger, offset, late_by));
    }
    let mut got: Vec<(usize, Trigger, u64, u64)> = out
        .fired
        .iter()
        .map(|(i, f)| {
            assert_eq!(f.block_start, out.playing[*i].start);
            assert_eq!(f.pin_error, None);
            (*i, f.trigger, f.offset, f.late_by)
        })
        .collect();
    // Within a block, in frame order.
    for w in got.windows(2) {
        if w[0].0 == w[1].0 {
            assert!(w[0].1.frame <= w[1].1.frame, "out of order: {w:?}");
        }
    }
    let key = |t: &(usize, Trigger, u64, u64)| (t.0, t.1.frame, t.1.edge == Edge::High, t.2, t.3);
    want.sort_by_key(key);
    got.sort_by_key(key);
    assert_eq!(got, want);
    let on_time = want.iter().filter(|t| t.3 == 0).count();
    assert!(
        on_time > 20 && on_time < want.len(),
        "{on_time} of {}",
        want.len()
    );
    eprintln!(
        "{wire_frames} frames on the wire, {} interrupts ({} missed), {accepted} commands \
         accepted, {compared} completions equal to the model's, {} triggers fired ({on_time} \
         on time)",
        out.playing.len(),
        out.missed,
        want.len()
    );
}

#[test]
fn i16_stereo_64_frame_halves_with_missed_interrupts() {
    check::<I16>(1, 2, 64, 3);
}

#[test]
fn i24_left_justified_stereo_48_frame_halves() {
    check::<I24Left>(2, 2, 48, 2);
}

#[test]
fn i24_halfwords_stereo_odd_100_frame_halves() {
    check::<I24LeftHalfwords>(3, 2, 100, 2);
}

#[test]
fn i16_bits_eight_channels_7_frame_halves() {
    check::<I16Bits>(4, 8, 7, 1);
}

#[test]
fn i16_mono_48_frame_halves_with_missed_interrupts() {
    check::<I16>(5, 1, 48, 2);
}

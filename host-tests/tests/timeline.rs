//! The timeline: a switch takes effect at exactly its frame, a late one stays in phase,
//! each switch learns whether it was applied or superseded, the transport starts, stops and
//! locates at exact frames, and a fractional repeat interval is still exact after 10^9
//! frames. Each is checked against a per-frame reference under every block pattern.

use proptest::prelude::*;
use rtmix_core::{
    ChannelMap, Controller, EndReason, Engine, Entry, Heap, Interval, StreamConfig, Timeline,
};
use rtmix_host_tests::blocks::Blocks;
use rtmix_host_tests::strategies::blocks;
use rtmix_host_tests::stream;

type Buf = &'static [f32];
type Tl = Timeline<Buf, 16>;

/// Clips with distinct, exactly representable samples (sums stay exact in any order).
static CLIPS: [[f32; 5]; 3] = [
    [1.0, 2.0, 3.0, 4.0, 5.0],
    [16.0, 32.0, 48.0, 64.0, 80.0],
    [256.0, 512.0, 768.0, 1024.0, 1280.0],
];

/// An entry as the test describes it: clip, region, position, interval.
#[derive(Clone, Copy, Debug)]
struct Spec {
    clip: usize,
    region: (u64, u64),
    position: u64,
    every: Option<(u64, u64)>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0usize..3,
        (0u64..5, 1u64..=5),
        0u64..400,
        prop_oneof![Just(None), (1u64..40, 1u64..7).prop_map(Some)],
    )
        .prop_map(|(clip, (a, len), position, every)| {
            let a = a.min(5 - len);
            Spec {
                clip,
                region: (a, a + len),
                position,
                every: every.map(|(n, den)| (n * den + n % den, den)),
            }
        })
}

fn entry(s: &Spec) -> Entry<Buf> {
    let mut e = Entry::new(
        &CLIPS[s.clip][..],
        ChannelMap::new(&[0]).unwrap(),
        s.position,
    );
    e.region = Some(s.region);
    e.every = s.every.map(|(n, d)| Interval::new(n, d).unwrap());
    e
}

fn entries(specs: &[Spec]) -> rtmix_core::heapless::Vec<Entry<Buf>, 16> {
    specs.iter().map(entry).collect()
}

/// The sample of one entry at timeline frame `t`.
fn reference(s: &Spec, t: i128) -> f32 {
    let p = t - i128::from(s.position);
    if p < 0 {
        return 0.0;
    }
    let len = i128::from(s.region.1 - s.region.0);
    let (start, next) = match s.every {
        None => (0, i128::MAX),
        Some((num, den)) => {
            let (num, den) = (i128::from(num), i128::from(den));
            let mut k = p * den / num;
            while k * num / den > p {
                k -= 1;
            }
            while (k + 1) * num / den <= p {
                k += 1;
            }
            (k * num / den, (k + 1) * num / den)
        }
    };
    let offset = p - start;
    if offset < len.min(next - start) {
        CLIPS[s.clip][(i128::from(s.region.0) + offset) as usize]
    } else {
        0.0
    }
}

/// Runs output blocks of `pattern` (at most `cap` frames each) until the clock reaches
/// `until`, calling `before` with the clock ahead of each block; returns the output.
fn render(
    engine: &mut Engine<Buf, Vec<f32>, Heap>,
    pattern: &Blocks,
    (until, cap): (u64, u64),
    mut before: impl FnMut(u64),
) -> Vec<f32> {
    let mut out = Vec::new();
    for n in pattern.sizes() {
        let clock = engine.output.clock();
        if clock >= until {
            break;
        }
        before(clock);
        let mut block = vec![0.0f32; (n as u64).min(until - clock).min(cap) as usize];
        engine.output.process(&mut block);
        // The loop ends by the clock: one that stood still would never end.
        assert_eq!(
            engine.output.clock(),
            clock + block.len() as u64,
            "clock stood"
        );
        out.extend_from_slice(&block);
    }
    out
}

/// Checks `out`, rendered from stream frame 0, frame by frame against `want(frame)`.
fn check(out: &[f32], want: impl Fn(u64) -> f32) -> Result<(), TestCaseError> {
    for (frame, &got) in out.iter().enumerate() {
        prop_assert_eq!(got, want(frame as u64), "frame {}", frame);
    }
    Ok(())
}

fn mix(specs: &[Spec], t: i128) -> f32 {
    specs.iter().map(|s| reference(s, t)).sum()
}

fn start(ctl: &mut Controller<Buf, Vec<f32>, Heap>, tl: &mut Tl, specs: &[Spec], zero: u64) {
    tl.switch(ctl, entries(specs), 0).unwrap();
    tl.play(ctl, zero, 0).unwrap();
}

proptest! {
    /// Set A rolls from stream frame `zero`; a switch to set B at frame F, sent before F:
    /// every frame before F is A's, every frame from F is B's, in phase with the timeline.
    #[test]
    fn a_switch_takes_effect_at_its_frame(
        a in prop::collection::vec(spec(), 0..4),
        b in prop::collection::vec(spec(), 0..4),
        zero in 0u64..200,
        f in 0u64..1500,
        pattern in blocks(),
    ) {
        let (mut ctl, mut engine) = stream::open::<Buf, Vec<f32>>(32, 32, StreamConfig::output(1));
        let mut tl = Tl::new(&[]);
        start(&mut ctl, &mut tl, &a, zero);
        let switch = tl.switch(&mut ctl, entries(&b), f).unwrap();
        let end = f + 600;
        let out = render(&mut engine, &pattern, (end, u64::MAX), |_| {});
        check(&out, |x| {
            let t = i128::from(x) - i128::from(zero);
            if x < zero {
                0.0
            } else if x < f {
                mix(&a, t)
            } else {
                mix(&b, t)
            }
        })?;
        let done = ctl.take(switch).unwrap();
        prop_assert_eq!((done.end, done.ended_at), (EndReason::Finished, Some(f)));
    }

    /// A switch sent after its frame has passed: set A plays on up to the block that takes
    /// the switch, and from there set B plays in phase, as if it had started at F.
    #[test]
    fn a_late_switch_stays_in_phase(
        a in prop::collection::vec(spec(), 0..4),
        b in prop::collection::vec(spec(), 1..4),
        f in 0u64..600,
        late_by in 1u64..400,
        pattern in blocks(),
    ) {
        let (mut ctl, mut engine) = stream::open::<Buf, Vec<f32>>(32, 32, StreamConfig::output(1));
        let mut tl = Tl::new(&[]);
        start(&mut ctl, &mut tl, &a, 0);
        let mut sent = None;
        let out = render(&mut engine, &pattern, (f + late_by + 800, late_by), |clock| {
            if sent.is_none() && clock >= f + late_by {
                sent = Some((clock, tl.switch(&mut ctl, entries(&b), f).unwrap()));
            }
        });
        let (seen, switch) = sent.unwrap();
        check(&out, |x| mix(if x < seen { &a } else { &b }, i128::from(x)))?;
        let done = ctl.take(switch).unwrap();
        prop_assert_eq!(done.end, EndReason::Finished);
        prop_assert_eq!(done.late_by, seen - f);
    }

    /// Two switches sent before either frame: if the second comes first on the timeline, it
    /// supersedes the first (whose marker says Cancelled); otherwise both apply in turn.
    #[test]
    fn switches_learn_applied_or_superseded(
        a in prop::collection::vec(spec(), 1..3),
        b in prop::collection::vec(spec(), 1..3),
        c in prop::collection::vec(spec(), 1..3),
        f1 in 0u64..800,
        f2 in 0u64..800,
        pattern in blocks(),
    ) {
        let (mut ctl, mut engine) = stream::open::<Buf, Vec<f32>>(32, 32, StreamConfig::output(1));
        let mut tl = Tl::new(&[]);
        start(&mut ctl, &mut tl, &a, 0);
        let first = tl.switch(&mut ctl, entries(&b), f1).unwrap();
        let second = tl.switch(&mut ctl, entries(&c), f2).unwrap();
        let out = render(&mut engine, &pattern, (f1.max(f2) + 300, u64::MAX), |_| {});
        check(&out, |x| {
            let set = if x >= f2 {
                &c
            } else if x >= f1 {
                &b
            } else {
                &a
            };
            mix(set, i128::from(x))
        })?;
        let (first, second) = (ctl.take(first).unwrap(), ctl.take(second).unwrap());
        if f2 < f1 {
            prop_assert_eq!(first.end, EndReason::Cancelled { at: f2 });
            prop_assert_eq!(first.actual_start, None);
        } else {
            prop_assert_eq!(first.end, EndReason::Finished);
        }
        prop_assert_eq!(second.end, EndReason::Finished);
    }

    /// Stop at frame S, then play again at frame P from timeline frame L (a locate): silence
    /// in between, and from P the timeline from L on.
    #[test]
    fn transport_stops_and_locates_exactly(
        a in prop::collection::vec(spec(), 1..4),
        stop in 0u64..600,
        gap in 0u64..300,
        locate in 0u64..2000,
        pattern in blocks(),
    ) {
        let (mut ctl, mut engine) = stream::open::<Buf, Vec<f32>>(32, 32, StreamConfig::output(1));
        let mut tl = Tl::new(&[]);
        start(&mut ctl, &mut tl, &a, 0);
        tl.stop(&mut ctl, stop).unwrap();
        let resume = stop + gap;
        tl.play(&mut ctl, resume, locate).unwrap();
        prop_assert_eq!(tl.position_at(resume), Some(locate));
        let out = render(&mut engine, &pattern, (resume + 500, u64::MAX), |_| {});
        check(&out, |x| {
            if x < stop {
                mix(&a, i128::from(x))
            } else if x < resume {
                0.0
            } else {
                mix(&a, i128::from(x - resume + locate))
            }
        })?;
    }

    /// While rolling, a locate at stream frame F to timeline frame L: until F the timeline
    /// as it was, from F the timeline from L on, with no gap and no frame twice.
    #[test]
    fn a_locate_while_rolling_jumps_at_its_frame(
        a in prop::collection::vec(spec(), 1..4),
        at in 0u64..600,
        locate in 0u64..2000,
        pattern in blocks(),
    ) {
        let (mut ctl, mut engine) = stream::open::<Buf, Vec<f32>>(32, 32, StreamConfig::output(1));
        let mut tl = Tl::new(&[]);
        start(&mut ctl, &mut tl, &a, 0);
        tl.locate(&mut ctl, at, locate).unwrap();
        prop_assert_eq!(tl.position_at(at), Some(locate));
        let out = render(&mut engine, &pattern, (at + 500, u64::MAX), |_| {});
        check(&out, |x| {
            if x < at {
                mix(&a, i128::from(x))
            } else {
                mix(&a, i128::from(x - at + locate))
            }
        })?;
    }
}

/// A timeline with room for 4 actions, two looping entries rolling, then a switch to none:
/// the switch's group (two cancels, the old marker's cancel, the new marker) fills the room
/// exactly, and the loops stop at its frame. The marker is never counted as a play, or the
/// group would not fit. (cargo-mutants: the marker kept among the plays survived.)
#[test]
fn a_timeline_s_room_holds_a_switch_that_ends_every_play() {
    let (mut ctl, mut engine) = stream::open::<Buf, Vec<f32>>(32, 32, StreamConfig::output(1));
    let mut tl = Timeline::<Buf, 4>::new(&[]);
    let looping = |clip: usize| Spec {
        clip,
        region: (0, 5),
        position: 0,
        every: Some((5, 1)),
    };
    let set: rtmix_core::heapless::Vec<Entry<Buf>, 4> =
        [looping(0), looping(1)].iter().map(entry).collect();
    tl.switch(&mut ctl, set, 0).unwrap();
    tl.play(&mut ctl, 0, 0).unwrap();
    tl.switch(&mut ctl, rtmix_core::heapless::Vec::new(), 23)
        .unwrap();
    let out = render(&mut engine, &Blocks::Fixed(16), (40, u64::MAX), |_| {});
    check(&out, |t| {
        let k = (t % 5) as usize;
        if t < 23 {
            CLIPS[0][k] + CLIPS[1][k]
        } else {
            0.0
        }
    })
    .unwrap();
}

/// A bar of 60/119 s at 48 kHz (2 880 000 / 119 frames) is still exact after 10^9 frames
/// (about 5.8 hours): the click lands on `floor(k * 2 880 000 / 119)`, not one frame off.
/// The clock jumps there as an xrun (nothing is mixed over it, but everything moves on).
#[test]
fn a_fractional_interval_is_exact_after_a_billion_frames() {
    let (mut ctl, mut engine) = stream::open::<Buf, Vec<f32>>(32, 32, StreamConfig::output(1));
    let mut tl = Tl::new(&[]);
    let click = Spec {
        clip: 0,
        region: (0, 1),
        position: 0,
        every: Some((2_880_000, 119)),
    };
    start(&mut ctl, &mut tl, &[click], 0);
    let jump = 1_000_000_000;
    engine.output.report_lost(jump);
    let mut block = vec![0.0f32; 100_000];
    engine.output.process(&mut block);
    let clicks: Vec<u64> = block
        .iter()
        .enumerate()
        .filter(|(_, &x)| x != 0.0)
        .map(|(i, _)| jump + i as u64)
        .collect();
    let want: Vec<u64> = (41_319..41_325u64)
        .map(|k| k * 2_880_000 / 119)
        .filter(|&f| (jump..jump + 100_000).contains(&f))
        .collect();
    assert!(!want.is_empty());
    assert_eq!(clicks, want);
    // The first click past the jump is bar 41 320. A metronome that adds a truncated
    // 24 201 frames per bar would play it 28 125 frames early (docs/features.md); one that
    // rounds to 24 202, 13 195 frames late.
    let k = 41_320;
    assert_eq!(want[0], k * 2_880_000 / 119);
    assert_eq!(want[0] - k * 24_201, 28_125);
    assert_eq!(k * 24_202 - want[0], 13_195);
}

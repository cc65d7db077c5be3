//! Unit tests of what the host property suites cannot reach from outside: group members
//! arriving in different blocks, queue and capacity limits, and odd blocks.

extern crate std;
use std::vec;
use std::vec::Vec;

use crate::channel_map::MapStore;
use crate::command::{Body, Command, GroupMark, Layout, Levels, Shape, When};
use crate::slots::MAX_SLOTS;
use crate::*;

type Ctl = Controller<Vec<f32>, Vec<f32>, Heap>;
type Eng = Engine<Vec<f32>, Vec<f32>, Heap>;

/// A host stream with `actions` slots and room for `commands - 1` queued commands (the
/// sizes the fixed storage's `A` and `C` give), completions never short of room.
fn stream(actions: usize, commands: usize, config: StreamConfig) -> (Ctl, Eng) {
    let capacity = StreamCapacity {
        actions,
        commands: commands - 1,
        completions: actions,
    };
    open(config, capacity).unwrap()
}

fn mono() -> ChannelMap {
    ChannelMap::new(&[0]).unwrap()
}

#[test]
fn a_group_split_across_blocks_starts_together_when_complete() {
    let (mut ctl, mut engine) = stream(8, 8, StreamConfig::output(1));
    let send = |ctl: &mut Ctl, seq, samples: Vec<f32>, group| {
        let port = ctl.output.as_mut().unwrap();
        let slot = port.assign(seq);
        let cmd = Command {
            seq,
            slot,
            when: When::Asap,
            late: Late::Drop,
            group,
            body: Body::Transfer {
                shape: Shape::whole(samples.len() as u64),
                levels: Levels::UNITY,
                buffer: samples,
                map: MapStore::store(&mono()),
                layout: Layout::Full { gain: 1.0 },
            },
        };
        port.send(cmd, false);
    };
    // The controller is interrupted after the first member: the engine runs a block.
    send(&mut ctl, 0, vec![1.0; 4], GroupMark::More);
    let mut out = [9.0f32; 4];
    engine.output.process(&mut out);
    assert_eq!(out, [0.0; 4], "a staged member must not start alone");
    send(&mut ctl, 1, vec![2.0; 4], GroupMark::Last);
    engine.output.process(&mut out);
    assert_eq!(out, [3.0; 4]);
    let a = ctl.try_next().unwrap();
    let b = ctl.try_next().unwrap();
    assert_eq!((a.actual_start, b.actual_start), (Some(4), Some(4)));
}

#[test]
fn a_full_queue_refuses_then_accepts_after_a_block() {
    let (mut ctl, mut engine) = stream(8, 4, StreamConfig::output(1));
    for _ in 0..3 {
        ctl.play(Play::new(vec![0.5], mono())).unwrap();
    }
    let refused = ctl.play(Play::new(vec![0.25; 3], mono())).unwrap_err();
    assert_eq!(refused.error, Error::QueueFull);
    assert_eq!(refused.returned.into_buffer(), vec![0.25; 3]);
    engine.output.process(&mut [0.0; 2]);
    assert!(ctl.play(Play::new(vec![0.5], mono())).is_ok());
}

#[test]
fn the_last_slot_is_kept_for_cancels() {
    let (mut ctl, mut engine) = stream(4, 8, StreamConfig::output(1));
    let far = |n| Play::new(vec![1.0; 8], mono()).at(At::Frame(n));
    let ids: Vec<ActionId> = (0..3).map(|i| ctl.play(far(1000 + i)).unwrap()).collect();
    assert_eq!(
        ctl.play(far(5)).unwrap_err().error,
        Error::Capacity { slots: 4 }
    );
    assert_eq!(
        ctl.fetch_stats(Direction::Output, At::Asap),
        Err(Error::Capacity { slots: 4 })
    );
    let cut = ctl.cancel(ids[0], At::Asap, Late::Drop).unwrap();
    assert_eq!(
        ctl.cancel(ids[1], At::Asap, Late::Drop),
        Err(Error::Capacity { slots: 4 })
    );
    engine.output.process(&mut [0.0; 4]);
    assert_eq!(ctl.take(cut).unwrap().end, EndReason::Cut);
    let done = ctl.take(ids[0]).unwrap();
    assert_eq!(
        (done.end, done.actual_start, done.frames),
        (EndReason::Cancelled { at: 0 }, None, 0)
    );
    assert_eq!(done.into_played(), Some(vec![1.0; 8]));
}

#[test]
fn unknown_and_foreign_ids_are_refused() {
    let (mut ctl2, _e2) = stream(4, 4, StreamConfig::duplex(1, 1));
    let foreign = ctl2.fetch_stats(Direction::Output, At::Asap).unwrap();
    let (mut ctl1, _e1) = stream(4, 4, StreamConfig::duplex(1, 1));
    let own = ctl1.fetch_stats(Direction::Output, At::Asap).unwrap();
    // Same sequence number, slot and direction, another stream.
    assert_eq!(
        (own.seq(), own.direction()),
        (foreign.seq(), foreign.direction())
    );
    assert!(ctl1.is_outstanding(own));
    assert!(!ctl1.is_outstanding(foreign));
    assert_eq!(
        ctl1.cancel(foreign, At::Asap, Late::Drop),
        Err(Error::UnknownAction)
    );
    assert!(ctl1.take(foreign).is_none());
    assert!(!ctl1.forget(foreign));
    #[cfg(feature = "std")]
    assert_eq!(ctl1.wait(foreign).unwrap_err(), Error::UnknownAction);
}

#[test]
fn a_new_stream_over_the_same_storage_refuses_the_old_ids() {
    let mut storage: OutputStorage<Vec<f32>, 4, 4, 2, 1> = OutputStorage::new();
    let old = {
        let (mut ctl, _engine) = storage.split(StreamConfig::output(1)).unwrap();
        ctl.fetch_stats(Direction::Output, At::Asap).unwrap()
    };
    let (mut again, _engine) = storage.split(StreamConfig::output(1)).unwrap();
    let fresh = again.fetch_stats(Direction::Output, At::Asap).unwrap();
    assert_eq!(
        (fresh.seq(), fresh.direction()),
        (old.seq(), old.direction())
    );
    assert_eq!(
        again.cancel(old, At::Asap, Late::Drop),
        Err(Error::UnknownAction)
    );
    assert!(again.is_outstanding(fresh) && !again.is_outstanding(old));
}

#[test]
fn missing_directions_and_bad_maps_are_refused() {
    let (mut ctl, _engine) = stream(4, 4, StreamConfig::output(2));
    // Each refusal hands the request's buffer back as it was given.
    let rec = ctl.record(Record::new(vec![0.5; 4], mono())).unwrap_err();
    assert_eq!(rec.error, Error::NoSuchDirection);
    assert_eq!(rec.returned.into_buffer(), vec![0.5; 4]);
    assert_eq!(
        ctl.fetch_stats(Direction::Input, At::Asap),
        Err(Error::NoSuchDirection)
    );
    let play = ctl
        .play(Play::new(vec![0.25; 3], ChannelMap::new(&[0, 1]).unwrap()))
        .unwrap_err();
    assert_eq!(
        play.error,
        Error::LengthNotWholeFrames {
            samples: 3,
            channels: 2
        }
    );
    assert_eq!(play.returned.into_buffer(), vec![0.25; 3]);
    let play = ctl
        .play(Play::new(vec![0.0, f32::NAN], mono()))
        .unwrap_err();
    assert_eq!(play.error, Error::NonFiniteSample { index: 1 });
    let back = play.returned.into_buffer();
    assert!(back.len() == 2 && back[0] == 0.0 && back[1].is_nan());
    let play = ctl
        .play(Play::new(vec![0.75; 2], mono()).at(At::Frame(u64::MAX)))
        .unwrap_err();
    assert_eq!(play.error, Error::FrameOverflow);
    assert_eq!(play.returned.into_buffer(), vec![0.75; 2]);
    assert_eq!(ctl.group::<0>([]).unwrap_err().error, Error::EmptyGroup);
    assert_eq!(
        ctl.outstanding(Direction::Output),
        0,
        "nothing reached the engine"
    );
    let too_long = [0u16; MAX_MAP_CHANNELS + 1];
    assert_eq!(
        ChannelMap::new(&too_long),
        Err(Error::ChannelMapTooLong {
            len: MAX_MAP_CHANNELS + 1,
            max: MAX_MAP_CHANNELS
        })
    );
}

#[test]
fn odd_blocks_never_panic() {
    let (mut ctl, mut engine) = stream(4, 4, StreamConfig::duplex(3, 2));
    ctl.play(Play::new(vec![1.0; 30], ChannelMap::new(&[2, 0]).unwrap()))
        .unwrap();
    ctl.record(Record::new(vec![0.0; 30], ChannelMap::new(&[1]).unwrap()))
        .unwrap();
    let mut out = [7.0f32; 7]; // two frames and a partial one
    engine.process(&[1.0; 5], &mut out);
    assert_eq!(out, [1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0]);
    engine.process(&[], &mut []);
    engine.output.report_lost(u64::MAX);
    engine.input.report_lost(u64::MAX);
    engine.process(&[1.0; 4], &mut [0.0; 6]);
    assert_eq!(engine.output.clock(), u64::MAX);
    let stats = ctl.fetch_stats(Direction::Output, At::Asap).unwrap();
    engine.process(&[], &mut []);
    let s = *ctl.take(stats).unwrap().stream_stats().unwrap();
    assert_eq!(s.partial_frames, 1);
    assert_eq!(s.xruns, 1);
}

#[test]
fn stop_hands_everything_back() {
    let (mut ctl, mut engine) = stream(8, 8, StreamConfig::input(1));
    let rec = ctl.record(Record::new(vec![-1.0; 6], mono())).unwrap();
    let later = ctl
        .record(Record::new(vec![-1.0; 2], mono()).at(At::Frame(100)))
        .unwrap();
    engine.input.process(&[0.5, 0.25]);
    let queued = ctl.fetch_stats(Direction::Input, At::Asap).unwrap();
    engine.input.stop();
    assert!(engine.input.is_idle());
    let done = ctl.take(rec).unwrap();
    assert_eq!((done.end, done.frames), (EndReason::StreamStopped, 2));
    assert_eq!(
        done.into_recording(),
        Some(vec![0.5, 0.25, -1.0, -1.0, -1.0, -1.0])
    );
    assert_eq!(ctl.take(later).unwrap().end, EndReason::StreamStopped);
    assert_eq!(ctl.take(queued).unwrap().end, EndReason::StreamStopped);
}

#[test]
fn the_end_of_the_frame_clock_is_handled() {
    let (mut ctl, mut engine) = stream(4, 4, StreamConfig::output(1));
    engine.output.report_lost(u64::MAX - 2);
    // An `Asap` play that would run past u64::MAX is ended as invalid, not truncated.
    let play = ctl.play(Play::new(vec![0.5; 10], mono())).unwrap();
    engine.output.process(&mut [0.0; 16]);
    let done = ctl.take(play).unwrap();
    assert_eq!((done.end, done.frames), (EndReason::Invalid, 0));
    // Lost frames beyond the end of the clock neither panic nor overcount.
    engine.output.report_lost(u64::MAX);
    engine.output.report_lost(1);
    let stats = ctl.fetch_stats(Direction::Output, At::Asap).unwrap();
    engine.output.process(&mut [0.0; 4]);
    let s = *ctl.take(stats).unwrap().stream_stats().unwrap();
    assert_eq!(engine.output.clock(), u64::MAX);
    // The first loss moved the clock to MAX - 2, the 16-frame block by 2 more, the last
    // two losses by nothing.
    assert_eq!((s.frames_lost, s.frames, s.xruns), (u64::MAX - 2, 2, 3));
}

#[cfg(feature = "std")]
#[test]
fn an_enormous_timeout_waits_instead_of_panicking() {
    let (mut ctl, mut engine) = stream(4, 4, StreamConfig::output(1));
    let first = ctl.fetch_stats(Direction::Output, At::Asap).unwrap();
    let id = ctl.fetch_stats(Direction::Output, At::Asap).unwrap();
    engine.output.process(&mut [0.0; 4]);
    // Both completed in that block; the first is taken without waiting, so an engine that
    // completed nothing fails here instead of leaving the wait below to wait forever.
    assert!(ctl.take(first).is_some());
    let done = ctl.wait_timeout(id, std::time::Duration::MAX).unwrap();
    assert!(done.is_some());
}

#[test]
fn an_endless_loop_started_near_the_last_play_frame_wraps_instead_of_overflowing() {
    // Found by fuzzing with overflow checks on: `from_frame` close to u64::MAX on an
    // endless loop made the play-frame count overflow within a few blocks.
    use crate::{ChannelMap, Play, Repeat};
    let (mut ctl, mut engine) = stream(4, 4, StreamConfig::output(1));
    let buffer: std::vec::Vec<f32> = (0..4).map(|i| i as f32).collect();
    let play = Play::new(buffer, ChannelMap::new(&[0]).unwrap())
        .repeat(Repeat::Forever)
        .from_frame(u64::MAX - 2);
    ctl.play(play).unwrap();
    let mut out = [0.0f32; 8];
    engine.output.process(&mut out);
    // Play frames u64::MAX-2, u64::MAX-1, u64::MAX, then 0, 1, ... of a 4-frame loop.
    let p = |k: u64| (k % 4) as f32;
    assert_eq!(out[..3], [p(u64::MAX - 2), p(u64::MAX - 1), p(u64::MAX)]);
    assert_eq!(out[3..6], [0.0, 1.0, 2.0]);
}

#[test]
fn a_contiguous_map_ends_at_its_capacity() {
    // Found by cargo-mutants: `count > MAX_MAP_CHANNELS` made `==` survived every suite.
    let max = MAX_MAP_CHANNELS as u16;
    assert_eq!(
        ChannelMap::contiguous(3, max).unwrap().len(),
        MAX_MAP_CHANNELS
    );
    for count in [max + 1, max + 2, u16::MAX] {
        assert_eq!(
            ChannelMap::contiguous(0, count),
            Err(Error::ChannelMapTooLong {
                len: usize::from(count),
                max: MAX_MAP_CHANNELS
            })
        );
    }
}

#[test]
fn a_map_is_never_empty_refuses_a_gain_that_is_not_finite_and_stores_up_to_its_capacity() {
    // Found by cargo-mutants: these were asserted only by doctests, which it does not run.
    let map = ChannelMap::new(&[0, 1]).unwrap();
    assert!(!map.is_empty());
    assert_eq!(map.clone().with_gain(0.25).unwrap().gains(), &[0.25, 0.25]);
    for gain in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        assert_eq!(
            map.clone().with_gain(gain),
            Err(Error::NonFiniteGain { index: 0 })
        );
    }
    assert_eq!(<MapOf<1> as MapStore>::CAPACITY, 1);
    assert_eq!(
        <MapOf<{ MAX_MAP_CHANNELS - 1 }> as MapStore>::CAPACITY,
        MAX_MAP_CHANNELS - 1
    );
    assert_eq!(
        <MapOf<MAX_MAP_CHANNELS> as MapStore>::CAPACITY,
        MAX_MAP_CHANNELS
    );
    assert_eq!(
        <MapOf<{ MAX_MAP_CHANNELS + 1 }> as MapStore>::CAPACITY,
        MAX_MAP_CHANNELS
    );
}

#[test]
fn float_samples_pass_through_and_only_non_finite_ones_count() {
    // Found by cargo-mutants: f32 -> f32 "conversion" replaced by (0.0, true) survived.
    use crate::convert::{decode, encode};
    let src = [0.25f32, -1.5, 1e-30, f32::NAN, f32::INFINITY];
    let mut dst = [9.0f32; 5];
    assert_eq!(
        encode(&src, &mut dst),
        2,
        "the NaN and the infinity are counted"
    );
    assert_eq!(dst[..3], src[..3]);
    let mut wide = [0.0f64; 3];
    assert_eq!(encode(&src[..3], &mut wide), 0);
    assert_eq!(wide, [0.25, -1.5, f64::from(1e-30f32)]);
    let mut back = [0.0f32; 3];
    decode(&wide, &mut back);
    assert_eq!(back, src[..3]);
}

/// A stream end that claims to move more samples than it was given room for.
struct Liar;

impl SampleSource for Liar {
    fn available(&self) -> usize {
        4
    }
    fn read(&mut self, out: &mut [f32]) -> usize {
        out.fill(0.5);
        out.len() + 1000
    }
}

impl SampleSink for Liar {
    fn room(&self) -> usize {
        4
    }
    fn write(&mut self, _frame: u64, samples: &[f32]) -> usize {
        samples.len() + 1000
    }
}

impl PlaySource for Liar {
    fn buffer(&self) -> Option<&[f32]> {
        None
    }
    fn source(&mut self) -> Option<&mut dyn SampleSource> {
        Some(self)
    }
}

impl RecordTarget for Liar {
    fn buffer(&self) -> Option<&[f32]> {
        None
    }
    fn buffer_mut(&mut self) -> Option<&mut [f32]> {
        None
    }
    fn sink(&mut self) -> Option<&mut dyn SampleSink> {
        Some(self)
    }
}

#[test]
fn a_stream_that_claims_too_much_is_believed_only_as_far_as_it_fits() {
    let (mut ctl, mut engine) =
        open::<Liar, Liar>(StreamConfig::duplex(1, 1), StreamCapacity::default()).unwrap();
    let play = ctl.play(Play::new(Liar, mono())).unwrap();
    let rec = ctl.record(Record::new(Liar, mono())).unwrap();
    let mut out = [9.0f32; 3];
    engine.process(&[0.25; 3], &mut out);
    assert_eq!(out, [0.5; 3], "what it read, no more, and no panic");
    ctl.cancel(play, At::Asap, Late::StartNow).unwrap();
    ctl.cancel(rec, At::Asap, Late::StartNow).unwrap();
    engine.process(&[0.25; 3], &mut out);
    let played = ctl.take(play).unwrap();
    assert_eq!((played.frames, played.stats.faults), (3, 1));
    assert_eq!(
        played.end,
        EndReason::Cancelled { at: 3 },
        "it played on until cancelled"
    );
    let recorded = ctl.take(rec).unwrap();
    assert_eq!((recorded.frames, recorded.stats.faults), (3, 1));
}

/// A stream that lends its samples in place (as an `rtrb` ring does) and then claims to
/// have lent `n` plus `claim` samples. It holds the engine to the contract: never ask for
/// more than is available.
struct Lender {
    samples: Vec<f32>,
    at: usize,
    claim: isize,
    /// The length of the slices each loan is lent in (a ring's wrap cuts a loan in two;
    /// the trait allows any number).
    split: usize,
    /// Samples lent past the `n` asked for (which the engine must not use).
    over: usize,
}

impl Lender {
    fn new(samples: Vec<f32>, claim: isize) -> Self {
        Self {
            samples,
            at: 0,
            claim,
            split: usize::MAX,
            over: 0,
        }
    }
}

impl SampleSource for Lender {
    fn available(&self) -> usize {
        self.samples.len() - self.at
    }
    fn read(&mut self, _: &mut [f32]) -> usize {
        unreachable!("a lender is read in place")
    }
    fn read_in_place(&mut self, n: usize, f: &mut dyn FnMut(&[f32])) -> Option<usize> {
        assert!(
            n <= self.available(),
            "asked to lend {n} of {}",
            self.available()
        );
        let lent = &self.samples[self.at..(self.at + n + self.over).min(self.samples.len())];
        for piece in lent.chunks(self.split) {
            f(piece);
        }
        self.at += n;
        Some(n.saturating_add_signed(self.claim))
    }
}

impl PlaySource for Lender {
    fn buffer(&self) -> Option<&[f32]> {
        None
    }
    fn source(&mut self) -> Option<&mut dyn SampleSource> {
        Some(self)
    }
}

// Found by cargo-mutants on the in-place path: its level was never seen on a stereo
// stream (samples / channels: frames), and a lender claiming less was never tried.
#[test]
fn a_stream_lent_in_place_is_counted_in_frames_and_believed_as_far_as_it_lent() {
    for (claim, faults) in [(1000, 1), (0, 0), (-1, 0)] {
        let (mut ctl, mut engine) =
            open::<Lender, Vec<f32>>(StreamConfig::output(2), StreamCapacity::default()).unwrap();
        let samples = (0..16).map(|i| i as f32 / 16.0).collect::<Vec<_>>();
        let source = Lender::new(samples.clone(), claim);
        let play = ctl
            .play(Play::new(source, ChannelMap::new(&[0, 1]).unwrap()))
            .unwrap();
        let mut out = [9.0f32; 8];
        engine.output.process(&mut out);
        assert_eq!(out, samples[..8], "claim {claim}: the 4 frames lent, mixed");
        ctl.cancel(play, At::Asap, Late::StartNow).unwrap();
        engine.output.process(&mut out);
        let played = ctl.take(play).unwrap();
        assert_eq!(played.frames, 4, "claim {claim}");
        assert_eq!(played.stats.faults, faults, "claim {claim}");
        assert_eq!(
            played.stats.lowest_level,
            Some(8),
            "claim {claim}: 8 frames (16 samples) when its one block began"
        );
    }
}

#[test]
fn a_stream_lent_in_place_that_runs_dry_is_asked_for_what_it_has_and_counts_the_rest() {
    let (mut ctl, mut engine) =
        open::<Lender, Vec<f32>>(StreamConfig::output(2), StreamCapacity::default()).unwrap();
    let source = Lender::new(vec![0.5; 6], 0);
    let play = ctl
        .play(Play::new(source, ChannelMap::new(&[0, 1]).unwrap()))
        .unwrap();
    let mut out = [9.0f32; 8];
    engine.output.process(&mut out);
    assert_eq!(
        out,
        [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.0, 0.0],
        "3 frames, then silence"
    );
    ctl.cancel(play, At::Asap, Late::StartNow).unwrap();
    engine.output.process(&mut out);
    let played = ctl.take(play).unwrap();
    assert_eq!((played.stats.missing, played.stats.faults), (1, 0));
}

// Found by cargo-mutants: a frame cut between slices (put together in a carry, over more
// than two slices when they are short), and a source lending more than asked, were never
// tried.
#[test]
fn a_stream_lent_in_slices_is_mixed_whole_wherever_the_cuts_fall() {
    let samples = (1..=24).map(|i| i as f32 / 32.0).collect::<Vec<_>>();
    // Buffer channels onto stream channels 2, 0 (and 1): the general kernel.
    for map in [&[2u16, 0][..], &[2, 0, 1]] {
        for over in [0, 3] {
            for split in 1..=9 {
                let (mut ctl, mut engine) =
                    open::<Lender, Vec<f32>>(StreamConfig::output(3), StreamCapacity::default())
                        .unwrap();
                let mut source = Lender::new(samples.clone(), 0);
                (source.split, source.over) = (split, over);
                ctl.play(Play::new(source, ChannelMap::new(map).unwrap()))
                    .unwrap();
                let mut heard = Vec::new();
                for _ in 0..3 {
                    let mut out = [0.0f32; 12];
                    engine.output.process(&mut out);
                    heard.extend(
                        out.chunks(3).flat_map(|f| {
                            map.iter().map(|&c| f[usize::from(c)]).collect::<Vec<_>>()
                        }),
                    );
                }
                assert_eq!(
                    heard[..24],
                    samples,
                    "{} channels, slices of {split}, {over} lent over",
                    map.len()
                );
            }
        }
    }
}

#[test]
fn an_applied_gain_change_finishes_and_a_cancel_cuts() {
    let (mut ctl, mut engine) = stream(8, 8, StreamConfig::output(1));
    let play = ctl.play(Play::new(vec![1.0; 8], mono())).unwrap();
    let gain = ctl
        .set_gain(GainTarget::Action(play), 0.5, 0, At::Frame(2), Late::Skip)
        .unwrap();
    let cut = ctl.cancel(play, At::Frame(4), Late::Skip).unwrap();
    let mut out = [0.0f32; 8];
    engine.output.process(&mut out);
    assert_eq!(out, [1.0, 1.0, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(ctl.take(gain).unwrap().end, EndReason::Finished);
    assert_eq!(ctl.take(cut).unwrap().end, EndReason::Cut);
}

#[test]
fn splitting_needs_little_stack() {
    // A firmware splits its storage (a `static`) on a stack of a few KB: splitting resets
    // the storage in place and must never build a copy of it on the stack. Here it is
    // larger than the thread's whole stack, on 32-bit targets too (128 actions: 64 make
    // less than 40 KiB on i686, where references and `usize` are half as wide).
    type P = &'static [f32];
    type S = OutputStorage<P, 128, 32, 8, 2>;
    assert!(core::mem::size_of::<S>() > 40 * 1024);
    let mut storage: std::boxed::Box<S> = std::boxed::Box::default();
    std::thread::Builder::new()
        .stack_size(32 * 1024)
        .spawn(move || {
            for _ in 0..2 {
                let (ctl, mut engine) = storage.split(StreamConfig::output(2)).unwrap();
                engine.output.process(&mut [0.0; 8]);
                assert_eq!(ctl.config().output_channels, 2);
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn streams_that_cannot_be_built_are_refused_when_they_open() {
    // The limit the docs state: every `u16` slot index but the one kept as "none".
    assert_eq!(MAX_SLOTS, 65_535);
    let cap = StreamCapacity::default();
    let refused = |config, capacity| open::<Vec<f32>, Vec<f32>>(config, capacity).err();
    assert_eq!(
        refused(StreamConfig::duplex(0, 0), cap),
        Some(Error::NoChannels)
    );
    for (actions, commands, completions, what, value) in [
        (1, 64, 16, "actions", 1),
        (MAX_SLOTS + 1, 64, 16, "actions", MAX_SLOTS + 1),
        (64, 0, 16, "commands", 0),
        (64, 64, 0, "completions", 0),
    ] {
        let capacity = StreamCapacity {
            actions,
            commands,
            completions,
        };
        assert_eq!(
            refused(StreamConfig::output(2), capacity),
            Some(Error::InvalidCapacity { what, value })
        );
    }
    // The boundaries themselves open (under Miri only the lower one: building 65 535 slots
    // there takes minutes).
    let boundaries: &[usize] = if cfg!(miri) { &[2] } else { &[2, MAX_SLOTS] };
    for &actions in boundaries {
        let capacity = StreamCapacity {
            actions,
            commands: 1,
            completions: 1,
        };
        assert!(open::<Vec<f32>, Vec<f32>>(StreamConfig::output(1), capacity).is_ok());
    }

    // A fixed storage holds at most `M` channels, and only the directions it has.
    let too_many = |channels, max| Some(Error::TooManyChannels { channels, max });
    let mut output: OutputStorage<Vec<f32>, 4, 4, 2, 2> = OutputStorage::new();
    assert!(output.split(StreamConfig::output(2)).is_ok());
    for (config, want) in [
        (StreamConfig::output(3), too_many(3, 2)),
        (StreamConfig::duplex(2, 1), too_many(1, 0)),
        (StreamConfig::duplex(0, 0), Some(Error::NoChannels)),
    ] {
        assert_eq!(output.split(config).err(), want, "{config:?}");
    }
    let mut input: InputStorage<Vec<f32>, 4, 4, 2, 2> = InputStorage::new();
    for (config, want) in [
        (StreamConfig::input(3), too_many(3, 2)),
        (StreamConfig::duplex(1, 1), too_many(1, 0)),
    ] {
        assert_eq!(input.split_input(config).err(), want, "{config:?}");
    }
}

/// A stream source with no memory to lend, so the engine copies its samples through
/// `read` (as from a `heapless` queue): `samples` in order, of which the first `arrived`
/// have been written (the test raises it, as a producer thread would).
struct Trickle {
    samples: Vec<f32>,
    at: usize,
    arrived: std::sync::Arc<core::sync::atomic::AtomicUsize>,
}

impl Trickle {
    /// The source, and the handle that says how many of its samples have arrived.
    fn new(
        samples: Vec<f32>,
        arrived: usize,
    ) -> (Self, std::sync::Arc<core::sync::atomic::AtomicUsize>) {
        let handle = std::sync::Arc::new(core::sync::atomic::AtomicUsize::new(arrived));
        let source = Self {
            samples,
            at: 0,
            arrived: handle.clone(),
        };
        (source, handle)
    }
}

impl SampleSource for Trickle {
    fn available(&self) -> usize {
        let arrived = self.arrived.load(core::sync::atomic::Ordering::Relaxed);
        arrived.min(self.samples.len()) - self.at
    }
    fn read(&mut self, out: &mut [f32]) -> usize {
        let n = out.len().min(self.available());
        out[..n].copy_from_slice(&self.samples[self.at..self.at + n]);
        self.at += n;
        n
    }
}

impl PlaySource for Trickle {
    fn buffer(&self) -> Option<&[f32]> {
        None
    }
    fn source(&mut self) -> Option<&mut dyn SampleSource> {
        Some(self)
    }
}

/// Distinct, exactly representable samples: `n` of them.
fn ramp_samples(n: usize) -> Vec<f32> {
    (0..n).map(|i| (i % 251 + 1) as f32 / 256.0).collect()
}

fn stereo() -> ChannelMap {
    ChannelMap::new(&[0, 1]).unwrap()
}

// Found by cargo-mutants: the copying path (a source without `read_in_place`) was only
// played mono and within one stack chunk, so its chunk arithmetic (frames per chunk,
// samples per read, where each chunk lands in the block) went unchecked.
#[test]
fn a_stream_read_by_copy_plays_every_sample_on_its_frame_across_chunks() {
    // 200 stereo frames are two chunks of the 256-sample stack chunk (128 + 72), 200
    // frames of three channels three (85 + 85 + 30).
    for (channels, map) in [(2u16, stereo()), (3, ChannelMap::contiguous(0, 3).unwrap())] {
        let k = usize::from(channels);
        let samples = ramp_samples(400 * k);
        let (source, _) = Trickle::new(samples.clone(), usize::MAX);
        let (mut ctl, mut engine) =
            open::<Trickle, Vec<f32>>(StreamConfig::output(channels), StreamCapacity::default())
                .unwrap();
        let play = ctl.play(Play::new(source, map)).unwrap();
        let mut heard = Vec::new();
        for _ in 0..2 {
            let mut out = vec![9.0f32; 200 * k];
            engine.output.process(&mut out);
            heard.extend(out);
        }
        assert_eq!(heard, samples, "{channels} channels");
        ctl.cancel(play, At::Asap, Late::StartNow).unwrap();
        engine.output.process(&mut [0.0; 6]);
        let played = ctl.take(play).unwrap();
        assert_eq!(played.frames, 400, "{channels} channels");
        assert_eq!(
            (played.stats.missing, played.stats.faults),
            (0, 0),
            "{channels} channels: an honest source that never ran dry"
        );
    }
}

// Found by cargo-mutants: a copied stream that ran dry in a later chunk of a block, with
// a partial frame waiting, was never played: what is missing is counted, and the partial
// frame stays in the source, so later samples play on their frames.
#[test]
fn a_stream_read_by_copy_that_runs_dry_mid_block_counts_what_is_missing_and_keeps_its_frames() {
    let samples = ramp_samples(800);
    // 150 frames and one sample of the next have arrived when the first block plays.
    let (source, arrived) = Trickle::new(samples.clone(), 301);
    let (mut ctl, mut engine) =
        open::<Trickle, Vec<f32>>(StreamConfig::output(2), StreamCapacity::default()).unwrap();
    let play = ctl.play(Play::new(source, stereo())).unwrap();
    let mut out = vec![9.0f32; 400];
    engine.output.process(&mut out);
    assert_eq!(out[..300], samples[..300]);
    assert_eq!(out[300..], [0.0; 100], "50 frames of silence");
    arrived.store(usize::MAX, core::sync::atomic::Ordering::Relaxed);
    engine.output.process(&mut out);
    assert_eq!(
        out[..],
        samples[300..700],
        "the play goes on at the sample where the source ran dry"
    );
    ctl.cancel(play, At::Asap, Late::StartNow).unwrap();
    engine.output.process(&mut [0.0; 2]);
    let played = ctl.take(play).unwrap();
    assert_eq!((played.stats.missing, played.stats.faults), (50, 0));
}

// Found by cargo-mutants: `OnEmpty::Stop` on the copying path was never run dry after its
// first chunk, nor given exactly what a chunk asks for.
#[test]
fn a_stream_read_by_copy_with_on_empty_stop_ends_at_its_first_missing_frame() {
    let samples = ramp_samples(300);
    let (source, _) = Trickle::new(samples.clone(), usize::MAX);
    let (mut ctl, mut engine) =
        open::<Trickle, Vec<f32>>(StreamConfig::output(2), StreamCapacity::default()).unwrap();
    let play = ctl
        .play(Play::new(source, stereo()).on_empty(OnEmpty::Stop))
        .unwrap();
    let mut out = vec![9.0f32; 400];
    engine.output.process(&mut out);
    assert_eq!(out[..300], samples[..]);
    assert_eq!(out[300..], [0.0; 100]);
    let played = ctl.take(play).unwrap();
    assert_eq!(
        (played.end, played.frames, played.ended_at),
        (EndReason::Underflow, 150, Some(150))
    );
}

// Found by cargo-mutants: no enveloped stream play was read by copy over two chunks or
// two blocks, so the stream frame each chunk's envelope starts at went unchecked.
#[test]
fn a_fade_in_on_a_stream_read_by_copy_is_placed_on_its_frames_across_chunks_and_blocks() {
    let samples = ramp_samples(800);
    let (source, _) = Trickle::new(samples.clone(), usize::MAX);
    let (mut ctl, mut engine) =
        open::<Trickle, Vec<f32>>(StreamConfig::output(2), StreamCapacity::default()).unwrap();
    ctl.play(Play::new(source, stereo()).fade_in(300)).unwrap();
    let mut heard = Vec::new();
    for _ in 0..2 {
        let mut out = vec![9.0f32; 400];
        engine.output.process(&mut out);
        heard.extend(out);
    }
    let want: Vec<f32> = samples
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let frame = i / 2;
            if frame < 300 {
                s * (frame as f32 / 300.0)
            } else {
                s
            }
        })
        .collect();
    assert_eq!(heard, want);
}

// Found by cargo-mutants: an xrun over a copied stereo stream whose source held less than
// the lost span, with a partial frame, was never tried: only whole frames are skipped.
#[test]
fn an_xrun_skips_only_the_whole_frames_a_copied_stream_has() {
    let samples = ramp_samples(40);
    let (source, arrived) = Trickle::new(samples.clone(), 4);
    let (mut ctl, mut engine) =
        open::<Trickle, Vec<f32>>(StreamConfig::output(2), StreamCapacity::default()).unwrap();
    ctl.play(Play::new(source, stereo())).unwrap();
    let mut out = [9.0f32; 4];
    engine.output.process(&mut out);
    assert_eq!(out, samples[..4]);
    // One frame and a half arrive, then 4 frames are lost: the whole frame is skipped.
    arrived.store(7, core::sync::atomic::Ordering::Relaxed);
    engine.output.report_lost(4);
    arrived.store(usize::MAX, core::sync::atomic::Ordering::Relaxed);
    engine.output.process(&mut out);
    assert_eq!(out, samples[6..10]);
}

/// `out[f * k + c] = src[f * k + c] * gain * envelope(f)` as the enveloped kernels compute
/// it, `(s * gain) * e`, for a fade-in over `fade` frames under a play gain of 1.
fn faded(src: &[f32], k: usize, gain: f32, fade: usize) -> Vec<f32> {
    src.iter()
        .enumerate()
        .map(|(i, &s)| {
            let f = i / k;
            let e = if f < fade {
                f as f32 / fade as f32
            } else {
                1.0
            };
            (s * gain) * e
        })
        .collect()
}

// Found by cargo-mutants: no fade ran on a play of three or more channels covering the
// whole stream, so the kernel for them (and the choice of the stereo kernels for k <= 2
// only) went unchecked.
#[test]
fn a_fade_on_every_channel_of_a_wide_stream_is_exact_for_each_frame() {
    for channels in [1u16, 2, 3, 5] {
        let k = usize::from(channels);
        for gain in [1.0f32, 0.5] {
            let map = ChannelMap::contiguous(0, channels)
                .unwrap()
                .with_gain(gain)
                .unwrap();
            let src = ramp_samples(12 * k);
            let (mut ctl, mut engine) = open::<Vec<f32>, Vec<f32>>(
                StreamConfig::output(channels),
                StreamCapacity::default(),
            )
            .unwrap();
            ctl.play(Play::new(src.clone(), map).fade_in(8)).unwrap();
            let mut out = vec![9.0f32; 12 * k];
            engine.output.process(&mut out);
            assert_eq!(
                out,
                faded(&src, k, gain, 8),
                "{channels} channels, gain {gain}"
            );
        }
    }
}

// Found by cargo-mutants: a constant envelope other than 1 (a play's gain) was never
// applied together with a map gain other than 1 on a full map.
#[test]
fn a_play_gain_and_a_map_gain_multiply_on_a_full_map() {
    let src = ramp_samples(8);
    let map = stereo().with_gain(0.25).unwrap();
    let (mut ctl, mut engine) =
        open::<Vec<f32>, Vec<f32>>(StreamConfig::output(2), StreamCapacity::default()).unwrap();
    ctl.play(Play::new(src.clone(), map).gain(0.5)).unwrap();
    let mut out = [9.0f32; 8];
    engine.output.process(&mut out);
    let want: Vec<f32> = src.iter().map(|&s| (s * 0.25) * 0.5).collect();
    assert_eq!(out[..], want);
}

// Found by cargo-mutants: no recording took a contiguous run of channels that starts past
// the first few (the kernel's fit check `first + k <= channels`, made `first * k`, passed).
#[test]
fn a_recording_of_the_last_two_of_five_channels_gets_exactly_them() {
    let (mut ctl, mut engine) =
        open::<Vec<f32>, Vec<f32>>(StreamConfig::input(5), StreamCapacity::default()).unwrap();
    let rec = ctl
        .record(Record::new(vec![0.0; 6], ChannelMap::new(&[3, 4]).unwrap()))
        .unwrap();
    let input: Vec<f32> = (0..3)
        .flat_map(|f| (0..5).map(move |c| (10 * f + c) as f32))
        .collect();
    engine.input.process(&input);
    let done = ctl.take(rec).unwrap();
    assert_eq!(done.end, EndReason::Finished);
    assert_eq!(
        done.into_recording(),
        Some(vec![3.0, 4.0, 13.0, 14.0, 23.0, 24.0])
    );
}

/// A stream sink that takes up to `cap` samples, honestly.
struct Tank {
    got: Vec<f32>,
    cap: usize,
}

impl SampleSink for Tank {
    fn room(&self) -> usize {
        self.cap - self.got.len()
    }
    fn write(&mut self, _frame: u64, samples: &[f32]) -> usize {
        let n = samples.len().min(self.room());
        self.got.extend_from_slice(&samples[..n]);
        n
    }
}

impl RecordTarget for Tank {
    fn buffer(&self) -> Option<&[f32]> {
        None
    }
    fn buffer_mut(&mut self) -> Option<&mut [f32]> {
        None
    }
    fn sink(&mut self) -> Option<&mut dyn SampleSink> {
        Some(self)
    }
}

// Found by cargo-mutants: a stream recording was never given a sink whose room is not a
// whole number of frames: it is written whole frames only.
#[test]
fn a_stream_recording_writes_only_the_whole_frames_its_sink_has_room_for() {
    let (mut ctl, mut engine) =
        open::<Vec<f32>, Tank>(StreamConfig::input(2), StreamCapacity::default()).unwrap();
    let tank = Tank {
        got: Vec::new(),
        cap: 5,
    };
    let rec = ctl.record(Record::new(tank, stereo())).unwrap();
    engine
        .input
        .process(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]);
    ctl.cancel(rec, At::Asap, Late::StartNow).unwrap();
    engine.input.process(&[0.0; 2]);
    let done = ctl.take(rec).unwrap();
    assert_eq!((done.stats.dropped, done.stats.faults), (2, 0));
    let tank = done.into_recording().unwrap();
    assert_eq!(
        tank.got,
        [1.0, 2.0, 3.0, 4.0],
        "two whole frames, no half one"
    );
}

// Found by cargo-mutants: `report_lost(0)` ("0 is no xrun and changes nothing") was never
// called, on either side.
#[test]
fn reporting_zero_lost_frames_counts_no_xrun() {
    let (mut ctl, mut engine) =
        open::<Vec<f32>, Vec<f32>>(StreamConfig::duplex(1, 1), StreamCapacity::default()).unwrap();
    engine.process(&[0.0; 2], &mut [0.0; 2]);
    engine.output.report_lost(0);
    engine.input.report_lost(0);
    let output = ctl.fetch_stats(Direction::Output, At::Asap).unwrap();
    let input = ctl.fetch_stats(Direction::Input, At::Asap).unwrap();
    // The fetch takes effect as the next block begins: it covers the first block only.
    engine.process(&[0.0; 2], &mut [0.0; 2]);
    for id in [output, input] {
        let s = *ctl.take(id).unwrap().stream_stats().unwrap();
        assert_eq!((s.xruns, s.frames_lost, s.frames), (0, 0, 2), "{id:?}");
    }
    assert_eq!((engine.output.clock(), engine.input.clock()), (4, 4));
}

// Found by cargo-mutants: a trailing partial frame was only ever counted on the output.
#[test]
fn an_input_block_with_a_partial_frame_counts_it() {
    let (mut ctl, mut engine) =
        open::<Vec<f32>, Vec<f32>>(StreamConfig::input(2), StreamCapacity::default()).unwrap();
    engine.input.process(&[0.5; 5]);
    let stats = ctl.fetch_stats(Direction::Input, At::Asap).unwrap();
    engine.input.process(&[0.5; 4]);
    let s = *ctl.take(stats).unwrap().stream_stats().unwrap();
    // The fetch took effect as the second block began: it covers the first.
    assert_eq!((s.partial_frames, s.frames), (1, 2));
}

// Found by cargo-mutants: `is_idle` was only asserted after a stop, never while a command
// waits or an action runs.
#[test]
fn each_half_is_idle_exactly_when_nothing_is_held_or_waiting() {
    let (mut ctl, mut engine) =
        open::<Vec<f32>, Vec<f32>>(StreamConfig::duplex(1, 1), StreamCapacity::default()).unwrap();
    assert!(engine.output.is_idle() && engine.input.is_idle());
    let play = ctl.play(Play::new(vec![0.5; 4], mono())).unwrap();
    assert!(!engine.output.is_idle(), "a play waits");
    assert!(engine.input.is_idle());
    let rec = ctl.record(Record::new(vec![0.0; 4], mono())).unwrap();
    assert!(!engine.input.is_idle(), "a record waits");
    engine.process(&[0.25; 2], &mut [0.0; 2]);
    assert!(
        !engine.output.is_idle() && !engine.input.is_idle(),
        "both run"
    );
    engine.process(&[0.25; 2], &mut [0.0; 2]);
    // Ended, handed back: nothing is held once the completions are taken.
    assert!(ctl.take(play).is_some() && ctl.take(rec).is_some());
    assert!(engine.output.is_idle() && engine.input.is_idle());
}

// Found by cargo-mutants: the engine halves' `Debug` output was never looked at.
#[test]
fn an_engine_half_debugs_as_its_type_and_channels() {
    let (_ctl, engine) =
        open::<Vec<f32>, Vec<f32>>(StreamConfig::output(2), StreamCapacity::default()).unwrap();
    let out = std::format!("{:?}", engine.output);
    assert!(
        out.starts_with("OutputEngine { channels: 2, scheduler: ") && out.ends_with(", .. }"),
        "{out}"
    );
    assert_eq!(std::format!("{:?}", engine.input), "InputEngine(no input)");
    let (_ctl, engine) =
        open::<Vec<f32>, Vec<f32>>(StreamConfig::input(3), StreamCapacity::default()).unwrap();
    let input = std::format!("{:?}", engine.input);
    assert!(
        input.starts_with("InputEngine { channels: 3, scheduler: ") && input.ends_with(", .. }"),
        "{input}"
    );
    // The scheduler shows its clock and slots (an empty `Debug` of it survived).
    assert!(
        input.contains("scheduler: Scheduler { clock: 0, slots: "),
        "{input}"
    );
    assert_eq!(
        std::format!("{:?}", engine.output),
        "OutputEngine(no output)"
    );
}

/// Sends a master gain of 0.5 on `channel` straight down `port`, past the controller's
/// checks (which refuse it), as the engine tests of that refusal need.
fn send_master_gain<H: crate::home::Home>(port: &mut crate::port::Port<Vec<f32>, H>, channel: u16) {
    let slot = port.assign(0);
    let cmd = Command {
        seq: 0,
        slot,
        when: When::Asap,
        late: Late::StartNow,
        group: GroupMark::Single,
        body: Body::Gain {
            target: crate::command::Gain::Master(channel),
            gain: 0.5,
            ramp: 0,
        },
    };
    port.send(cmd, false);
}

// Found by cargo-mutants: the engine's own check that a master gain's channel is one of the
// stream's (`channel < channels`) was never reached: the controller refuses such a channel
// first. A fixed storage has masters for `M` channels, more than this stream's one, so
// the engine must not take the storage's extra master for a channel of the stream.
#[test]
fn the_engine_refuses_a_master_gain_past_the_streams_channels_whatever_its_storage_holds() {
    let mut storage: OutputStorage<Vec<f32>, 4, 4, 2, 2> = OutputStorage::new();
    let (mut ctl, mut engine) = storage.split(StreamConfig::output(1)).unwrap();
    assert_eq!(
        ctl.set_gain(GainTarget::Master(1), 0.5, 0, At::Asap, Late::StartNow),
        Err(Error::ChannelOutOfRange {
            channel: 1,
            channels: 1
        })
    );
    send_master_gain(ctl.output.as_mut().unwrap(), 1);
    let mut out = [9.0f32; 2];
    engine.output.process(&mut out);
    let done = ctl.try_next().unwrap();
    assert_eq!(done.end, EndReason::TargetNotActive);
}

/// A recording's frame count is its samples over its mapped channels, rounded down (0 for
/// a stream), and a request's `Debug` shows how many samples it holds, or `stream`, never
/// the samples. (cargo-mutants' survivors: `/` made `*` in `Record::frames`, which one
/// channel cannot tell apart, and `Samples`' `Debug` made empty.)
#[test]
fn a_recording_counts_frames_per_mapped_channel_and_debugs_its_size_not_its_samples() {
    let two = || ChannelMap::new(&[0, 1]).unwrap();
    let rec = Record::new(vec![0.25f32; 11], two());
    assert_eq!(rec.frames(), 5);
    let shown = std::format!("{rec:?}");
    assert!(shown.contains("samples: 11,"), "{shown}");
    assert!(!shown.contains("0.25"), "{shown}");
    let stream = Record::new(
        Tank {
            got: Vec::new(),
            cap: 4,
        },
        two(),
    );
    assert_eq!(stream.frames(), 0);
    let shown = std::format!("{stream:?}");
    assert!(shown.contains("samples: stream,"), "{shown}");
}

/// An input half has no master gains: a master gain command that reaches the input engine
/// (the controller refuses it first, so the test sends it itself) ends `TargetNotActive`.
/// (cargo-mutants: the input half's default `set_master` made `true` survived.)
#[test]
fn the_input_engine_refuses_a_master_gain() {
    let mut storage: InputStorage<Vec<f32>, 4, 4, 2, 2> = InputStorage::new();
    let (mut ctl, mut engine) = storage.split_input(StreamConfig::input(1)).unwrap();
    send_master_gain(ctl.input.as_mut().unwrap(), 0);
    engine.input.process(&[0.0f32; 2]);
    let done = ctl.try_next().unwrap();
    assert_eq!(done.end, EndReason::TargetNotActive);
}

/// A group member's `Debug` is its request's (a play shows its sample count and map, not
/// its samples). (cargo-mutants: `Member`'s `Debug` made empty survived.)
#[test]
fn a_group_member_debugs_as_its_request() {
    let member: Member<Vec<f32>, Vec<f32>> = Member::Play(Play::new(vec![0.25; 6], mono()));
    let shown = std::format!("{member:?}");
    assert!(shown.starts_with("Play { samples: 6, map: "), "{shown}");
}

/// A buffer whose visible length the test cuts while it plays (a `PlaySource` may hand
/// back a different slice each time it is asked).
struct Shrinking {
    samples: Vec<f32>,
    len: std::rc::Rc<core::cell::Cell<usize>>,
}

impl Shrinking {
    fn new(samples: Vec<f32>) -> Self {
        let len = std::rc::Rc::new(core::cell::Cell::new(samples.len()));
        Self { samples, len }
    }
}

impl PlaySource for Shrinking {
    fn buffer(&self) -> Option<&[f32]> {
        self.samples.get(..self.len.get())
    }
}

/// A play whose samples run out under it ends as invalid where they did, and what
/// follows it moves up to there (late by then, so it starts at once) instead of waiting
/// for the end the play had. (cargo-mutants: `finish` not retiming the followers of an
/// action that ended invalid survived.)
#[test]
fn a_play_whose_buffer_shrinks_under_it_ends_invalid_and_its_follower_moves_up() {
    let (mut ctl, mut engine) =
        open::<Shrinking, Vec<f32>>(StreamConfig::output(1), StreamCapacity::default()).unwrap();
    let long = Shrinking::new(vec![1.0; 100]);
    let cut = long.len.clone();
    let a = ctl.play(Play::new(long, mono())).unwrap();
    let b = ctl
        .play(
            Play::new(Shrinking::new(vec![0.5; 4]), mono())
                .at(At::After(a))
                .late(Late::StartNow),
        )
        .unwrap();
    let mut out = [0.0f32; 16];
    engine.output.process(&mut out);
    assert_eq!(out, [1.0; 16]);
    cut.set(20);
    engine.output.process(&mut out);
    assert_eq!(
        out, [0.0; 16],
        "frames 16 to 31 are not all there: none is played"
    );
    let done = ctl.take(a).unwrap();
    assert_eq!(
        (done.end, done.frames, done.ended_at),
        (EndReason::Invalid, 16, Some(16))
    );
    engine.output.process(&mut out);
    let mut want = [0.0f32; 16];
    want[..4].fill(0.5);
    assert_eq!(out, want, "the follower plays at once, at frame 32");
    let done = ctl.take(b).unwrap();
    assert_eq!(
        (done.end, done.actual_start),
        (EndReason::Finished, Some(32))
    );
}

/// At the end of the frame clock (`u64::MAX`, some 12 million years in), a loop that never
/// ended stops there, and what follows it completes rather than waiting for ever.
/// (cargo-mutants: `stop_frame` taking such an end for a known frame, or for one still to
/// come, survived.)
#[test]
fn what_follows_a_loop_still_running_at_the_end_of_the_clock_completes() {
    let (mut ctl, mut engine) = stream(4, 4, StreamConfig::output(1));
    engine.output.report_lost(u64::MAX - 8);
    let a = ctl
        .play(Play::new(vec![0.25; 4], mono()).repeat(Repeat::Forever))
        .unwrap();
    let b = ctl
        .play(Play::new(vec![], mono()).at(At::After(a)))
        .unwrap();
    let c = ctl
        .play(Play::new(vec![0.5; 2], mono()).at(At::After(a)))
        .unwrap();
    let mut out = [0.0f32; 16];
    engine.output.process(&mut out);
    assert_eq!(engine.output.clock(), u64::MAX);
    // No frame is left after it: its followers end as invalid, at once, with nothing
    // played, like a play that would run past the end of the clock.
    for id in [b, c] {
        let done = ctl.take(id).expect("completed in the same block");
        assert_eq!((done.end, done.frames), (EndReason::Invalid, 0));
    }
    // One sent after the loop's completion arrived (not yet taken), when the engine knows
    // the loop only by its slot's record, finds the same.
    let late = ctl
        .play(Play::new(vec![], mono()).at(At::After(a)))
        .unwrap();
    engine.output.process(&mut out);
    let done = ctl.take(late).expect("completed in its first block");
    assert_eq!((done.end, done.frames), (EndReason::Invalid, 0));
    let a = ctl.take(a).unwrap();
    assert_eq!(
        (a.end, a.frames, a.ended_at),
        (EndReason::Finished, 8, None)
    );
    assert!(engine.output.is_idle());
}

/// A play that follows one whose completion has arrived but is not taken is timed from
/// where that one stopped, which the engine keeps in the slot's record. (cargo-mutants:
/// `Slots::left_at` forgetting it, or giving another frame, survived while the controller
/// still sent the frame along.)
#[test]
fn a_follower_of_a_play_that_has_left_the_engine_starts_where_it_stopped() {
    let (mut ctl, mut engine) = stream(4, 4, StreamConfig::output(1));
    let a = ctl
        .play(Play::new(vec![0.5; 4], mono()).at(At::Frame(3)))
        .unwrap();
    engine.output.process(&mut [0.0; 10]);
    assert!(ctl.is_outstanding(a));
    // Due at 7, known only now at 10: late by 3; dropped, as asked.
    let b = ctl
        .play(Play::new(vec![1.0; 4], mono()).at(At::After(a)))
        .unwrap();
    // And one that skips what passed plays its last frame at 10.
    let c = ctl
        .play(
            Play::new(vec![0.0, 0.0, 0.0, 0.25], mono())
                .at(At::After(a))
                .late(Late::Skip),
        )
        .unwrap();
    let mut out = [9.0f32; 4];
    engine.output.process(&mut out);
    assert_eq!(out, [0.25, 0.0, 0.0, 0.0]);
    let b = ctl.take(b).unwrap();
    assert_eq!((b.end, b.late_by), (EndReason::DroppedLate, 3));
    let c = ctl.take(c).unwrap();
    assert_eq!(
        (c.end, c.late_by, c.skipped, c.frames),
        (EndReason::Finished, 3, 3, 1)
    );
    assert_eq!(ctl.take(a).unwrap().ended_at, Some(7));
}

/// A play cancelled at the very frame it starts, in the block it starts, plays nothing
/// and says it never started. (cargo-mutants: that branch of `cut` skipped survived.)
#[test]
fn a_play_cut_at_its_first_frame_in_its_first_block_never_started() {
    for ending in [Ending::Cut, Ending::FadeOut(0)] {
        let (mut ctl, mut engine) = stream(4, 4, StreamConfig::output(1));
        let a = ctl
            .play(Play::new(vec![0.5; 8], mono()).at(At::Frame(2)))
            .unwrap();
        let cut = ctl
            .cancel_with(a, At::Frame(2), Late::StartNow, ending)
            .unwrap();
        let mut out = [9.0f32; 6];
        engine.output.process(&mut out);
        assert_eq!(out, [0.0; 6]);
        let done = ctl.take(a).unwrap();
        assert_eq!(
            (done.end, done.frames, done.actual_start, done.ended_at),
            (EndReason::Cancelled { at: 2 }, 0, None, Some(2)),
            "{ending:?}"
        );
        assert_eq!(ctl.take(cut).unwrap().end, EndReason::Cut);
    }
}

/// A stats fetch taken frees its place: a direction's two outstanding fetches are a limit
/// on those outstanding, not on how many are ever made. (cargo-mutants: the count not
/// going down when one is taken survived.)
#[test]
fn stats_fetches_taken_one_by_one_never_run_out() {
    let (mut ctl, mut engine) = stream(4, 4, StreamConfig::output(1));
    for round in 0..5 {
        let id = ctl
            .fetch_stats(Direction::Output, At::Asap)
            .unwrap_or_else(|e| panic!("fetch {round}: {e:?}"));
        engine.output.process(&mut [0.0; 4]);
        assert!(ctl.take(id).unwrap().stream_stats().is_some());
    }
    let held = [
        ctl.fetch_stats(Direction::Output, At::Asap).unwrap(),
        ctl.fetch_stats(Direction::Output, At::Asap).unwrap(),
    ];
    assert_eq!(
        ctl.fetch_stats(Direction::Output, At::Asap),
        Err(Error::StatsBusy { fetches: 2 })
    );
    engine.output.process(&mut [0.0; 4]);
    ctl.take(held[0]).unwrap();
    assert!(ctl.fetch_stats(Direction::Output, At::Asap).is_ok());
}

/// Forgetting an action still under way says yes, and its completion never comes: it is
/// dropped when it arrives and its slot is free again. (cargo-mutants: `Port::forget`
/// saying no, or refusing the actions it holds, survived.)
#[test]
fn a_forgotten_play_still_under_way_is_dropped_when_it_ends() {
    let (mut ctl, mut engine) = stream(2, 4, StreamConfig::output(1));
    let id = ctl.play(Play::new(vec![0.5; 8], mono())).unwrap();
    engine.output.process(&mut [0.0; 4]);
    assert!(ctl.forget(id), "it is outstanding");
    assert_eq!(ctl.outstanding(Direction::Output), 1);
    engine.output.process(&mut [0.0; 4]);
    assert!(ctl.try_next().is_none(), "its completion was dropped");
    assert!(ctl.take(id).is_none());
    assert_eq!(ctl.outstanding(Direction::Output), 0);
    assert!(!ctl.forget(id), "no longer outstanding");
}

/// A fixed storage debugs as its sizes (not its contents), and holds the snapshots of
/// both stats fetches a direction may have outstanding at once. (cargo-mutants: the
/// `Debug` texts and the snapshot queue made one short survived.)
#[test]
fn a_fixed_storage_shows_its_sizes_and_serves_two_stats_fetches_at_once() {
    let mut storage: OutputStorage<Vec<f32>, 4, 8, 4, 2> = OutputStorage::new();
    assert_eq!(
        std::format!("{storage:?}"),
        "OutputStorage(Storage { actions: 4, commands: 7, completions: 3, channels: 2 })"
    );
    let (mut ctl, mut engine) = storage.split(StreamConfig::output(2)).unwrap();
    let both = [
        ctl.fetch_stats(Direction::Output, At::Asap).unwrap(),
        ctl.fetch_stats(Direction::Output, At::Asap).unwrap(),
    ];
    engine.output.process(&mut [0.0; 8]);
    for id in both {
        let done = ctl.take(id).unwrap();
        assert_eq!(done.end, EndReason::Finished);
        assert!(done.stream_stats().is_some());
    }
}

/// Many plays waiting at once, submitted in scrambled frame order, some cancelled before
/// they start: each of the rest starts at its frame, whatever the block sizes. The
/// schedule is a binary heap; this drives its sifting up (submissions) and down (starts
/// and cancels) through every level. (cargo-mutants: a wrong parent index in `sift_up`
/// survived.)
#[test]
fn many_waiting_plays_start_each_at_its_frame_in_any_submission_order() {
    for block in [1usize, 3, 7, 64] {
        let (mut ctl, mut engine) = stream(64, 64, StreamConfig::output(1));
        let frames: Vec<u64> = (0..40).map(|i| (i * 17 + 5) % 40 + 2).collect();
        let ids: Vec<ActionId> = frames
            .iter()
            .map(|&f| {
                let value = f as f32;
                ctl.play(Play::new(vec![value], mono()).at(At::Frame(f)))
                    .unwrap()
            })
            .collect();
        // Every fifth one cancelled while it waits in the engine.
        engine.output.process(&mut []);
        for id in ids.iter().step_by(5) {
            ctl.cancel(*id, At::Asap, Late::StartNow).unwrap();
        }
        let cancelled: Vec<u64> = frames.iter().step_by(5).copied().collect();
        let mut out = [0.0f32; 48];
        for chunk in out.chunks_mut(block) {
            engine.output.process(chunk);
        }
        for (t, &got) in out.iter().enumerate() {
            let t = t as u64;
            let want = if (2..42).contains(&t) && !cancelled.contains(&t) {
                t as f32
            } else {
                0.0
            };
            assert_eq!(got, want, "frame {t}, blocks of {block}");
        }
    }
}

/// An engine half's `Debug` counts the actions it holds and those waiting for their
/// frame. (cargo-mutants: the waiting count shown as 0 survived.)
#[test]
fn an_engine_half_debugs_its_waiting_actions() {
    let (mut ctl, mut engine) = stream(4, 4, StreamConfig::output(1));
    for f in [100, 200] {
        ctl.play(Play::new(vec![0.5; 2], mono()).at(At::Frame(f)))
            .unwrap();
    }
    ctl.play(Play::new(vec![0.5; 2], mono())).unwrap();
    engine.output.process(&mut [0.0; 1]);
    let shown = std::format!("{:?}", engine.output);
    assert!(
        shown.contains("clock: 1, slots: 4, held: 3, pending: 2, "),
        "{shown}"
    );
}

/// A follower cancelled while it waits leaves its target's follower list with its slot:
/// when the slot is given to a new play and the target's end then moves, the new play
/// keeps its own frame. (cargo-mutants: a departing follower left listed survived.)
#[test]
fn a_cancelled_follower_s_slot_reused_is_not_retimed_with_its_old_target() {
    let (mut ctl, mut engine) = stream(4, 8, StreamConfig::output(1));
    let a = ctl.play(Play::new(vec![0.5; 100], mono())).unwrap();
    let b = ctl
        .play(Play::new(vec![1.0; 4], mono()).at(At::After(a)))
        .unwrap();
    let cut = ctl.cancel(b, At::Asap, Late::StartNow).unwrap();
    engine.output.process(&mut [0.0; 4]);
    assert_eq!(ctl.take(cut).unwrap().end, EndReason::Cut);
    let gone = ctl.take(b).unwrap();
    assert_eq!((gone.end, gone.frames), (EndReason::Cancelled { at: 0 }, 0));
    // B's slot, the last freed, goes to C.
    let c = ctl
        .play(Play::new(vec![0.25; 2], mono()).at(At::Frame(50)))
        .unwrap();
    assert_eq!(c.slot(), b.slot());
    // A's end moves to 10: only its followers move with it, and C is not one.
    ctl.cancel(a, At::Frame(10), Late::StartNow).unwrap();
    let mut out = vec![0.0f32; 60];
    for chunk in out.chunks_mut(8) {
        engine.output.process(chunk);
    }
    // `out` starts at frame 4: A until 10, then silence until C at 50.
    assert!(out[..6].iter().all(|&s| s == 0.5) && out[6..46].iter().all(|&s| s == 0.0));
    assert_eq!(&out[46..49], &[0.25, 0.25, 0.0]);
    assert_eq!(ctl.take(c).unwrap().actual_start, Some(50));
}

/// A stopped engine half is a fresh one with its clock kept: what it held is handed
/// back, and what comes next plays at its frame. (cargo-mutants: `stop` leaving its lists
/// and schedule as they were survived.)
#[test]
fn a_stopped_engine_plays_what_comes_next() {
    let (mut ctl, mut engine) = stream(8, 8, StreamConfig::output(1));
    let running = ctl.play(Play::new(vec![0.5; 100], mono())).unwrap();
    let waiting = ctl
        .play(Play::new(vec![0.5; 4], mono()).at(At::Frame(20)))
        .unwrap();
    engine.output.process(&mut [0.0; 8]);
    engine.output.stop();
    for id in [running, waiting] {
        assert_eq!(ctl.take(id).unwrap().end, EndReason::StreamStopped);
    }
    assert!(engine.output.is_idle());
    let next = ctl
        .play(Play::new(vec![0.25; 2], mono()).at(At::Frame(10)))
        .unwrap();
    let mut out = [9.0f32; 16];
    engine.output.process(&mut out[..8]);
    engine.output.process(&mut out[8..]);
    let mut want = [0.0f32; 16];
    want[2..4].fill(0.25);
    assert_eq!(
        out, want,
        "only the new play, at frame 10 (block frames 8 to 23)"
    );
    assert_eq!(ctl.take(next).unwrap().actual_start, Some(10));
    assert!(engine.output.is_idle());
}

/// A stream play is refused what needs a buffer's length, each on its own: a region, a
/// repeat interval, repetitions (`NotABuffer`) and a fade-out (`FadeTooLong`: its end is
/// unknown). (cargo-mutants: an interval alone, or a fade-out, let through survived.)
#[cfg(feature = "std")]
#[test]
fn a_stream_play_is_refused_what_needs_a_buffer_s_length() {
    type Ring = rtrb::Consumer<f32>;
    let (mut ctl, _engine) =
        open::<Ring, Vec<f32>>(StreamConfig::output(1), StreamCapacity::default()).unwrap();
    let ring = || rtrb::RingBuffer::<f32>::new(8).1;
    let refused = |ctl: &mut Controller<Ring, Vec<f32>, Heap>, play: Play<Ring>| {
        ctl.play(play).map(|_| ()).unwrap_err().error
    };
    let every = Interval::new(10, 1).unwrap();
    assert_eq!(
        refused(&mut ctl, Play::new(ring(), mono()).region(0, 4)),
        Error::NotABuffer
    );
    assert_eq!(
        refused(&mut ctl, Play::new(ring(), mono()).interval(every)),
        Error::NotABuffer
    );
    assert_eq!(
        refused(&mut ctl, Play::new(ring(), mono()).repeat(Repeat::Times(2))),
        Error::NotABuffer
    );
    assert_eq!(
        refused(&mut ctl, Play::new(ring(), mono()).fade_out(10)),
        Error::FadeTooLong {
            fade: 10,
            frames: u64::MAX
        }
    );
    assert!(ctl.play(Play::new(ring(), mono()).fade_in(10)).is_ok());
}

/// Voices for the tests of plain groups: each a stereo (or, if `mono`, mono) buffer of
/// `frames` frames whose samples differ in size by up to 2^25 from voice to voice, so that
/// any other order of the sums gives other bits.
fn voice(i: usize, frames: usize, mono: bool) -> Vec<f32> {
    const SCALE: [f32; 6] = [1.0, 3.0e7, -3.0e7, 1.0 / 3.0, -7.0e-3, 2.5e6];
    let k = if mono { 1 } else { 2 };
    (0..frames * k)
        .map(|n| (1.0 + (n / k) as f32 + 0.5 * (n % k) as f32) * SCALE[i % SCALE.len()])
        .collect()
}

/// One voice of [`check_in_submission_order`]: its start, play gain, map gain, and whether
/// it is mono (else stereo).
type Voice = (u64, f32, f32, bool);

/// Plays `voices` on a stereo stream in blocks of `block` frames for `frames` frames, and
/// checks every sample against the sum taken voice by voice in submission order, as the
/// reference model does.
fn check_in_submission_order(voices: &[Voice], block: usize, frames: usize) {
    let (mut ctl, mut engine) = stream(32, 32, StreamConfig::output(2));
    let len = 12;
    for (i, &(start, gain, map_gain, mono)) in voices.iter().enumerate() {
        let map = ChannelMap::contiguous(0, if mono { 1 } else { 2 });
        let map = map.and_then(|m| m.with_gain(map_gain)).unwrap();
        let play = Play::new(voice(i, len, mono), map)
            .at(At::Frame(start))
            .gain(gain);
        ctl.play(play).unwrap();
    }
    // Whatever the caller's block held is overwritten (the engine clears it lazily).
    let mut out = vec![f32::NAN; frames * 2];
    for chunk in out.chunks_mut(block * 2) {
        engine.output.process(chunk);
    }
    let mut want = vec![0.0f32; frames * 2];
    for f in 0..frames {
        for c in 0..2 {
            let mut sum = 0.0f32;
            for (i, &(start, gain, map_gain, mono)) in voices.iter().enumerate() {
                let Some(p) = (f as u64).checked_sub(start).filter(|&p| p < len as u64) else {
                    continue;
                };
                let p = p as usize;
                let s = match (mono, c) {
                    (true, 0) => voice(i, len, true)[p],
                    (true, _) => continue,
                    (false, _) => voice(i, len, false)[p * 2 + c],
                };
                // (sample * map gain) * envelope, the model's formula.
                sum += (s * map_gain) * gain;
            }
            want[f * 2 + c] = sum;
        }
    }
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
    assert_eq!(bits(&out), bits(&want), "{voices:?} in blocks of {block}");
}

#[test]
fn a_block_first_written_by_plain_voices_holds_what_adding_to_zeros_gives() {
    // The block is not cleared before the walk: the first plain voice, or group of four,
    // over the whole block writes it. Whatever the caller's block held, the bits are
    // those of adding to zeros, -0.0 samples included (0.0 + -0.0 is +0.0).
    let frame = [-0.0f32, 0.5, -0.0, -0.0, 0.25, -0.0, -0.0, -1.0];
    for voices in [1, 2, 4, 5, 8] {
        for block in [1, 2, 3, 4, 6] {
            let (mut ctl, mut engine) = stream(16, 16, StreamConfig::output(2));
            for _ in 0..voices {
                let map = ChannelMap::contiguous(0, 2).unwrap();
                ctl.play(Play::new(frame.to_vec(), map).at(At::Frame(0)))
                    .unwrap();
            }
            let mut out = [f32::NAN; 6 * 2];
            for chunk in out.chunks_mut(block * 2) {
                engine.output.process(chunk);
            }
            let want: Vec<u32> = (0..6 * 2)
                .map(|i| {
                    let s = frame.get(i).copied().unwrap_or(0.0);
                    (0..voices).fold(0.0f32, |sum, _| sum + s).to_bits()
                })
                .collect();
            let got: Vec<u32> = out.iter().map(|x| x.to_bits()).collect();
            assert_eq!(got, want, "{voices} voices in blocks of {block}");
        }
    }
    // Nothing plays under a master gain below 0: the zeros it scales are -0.0, as
    // before the block was cleared lazily; the trailing partial frame is +0.0.
    let (mut ctl, mut engine) = stream(4, 4, StreamConfig::output(2));
    for c in 0..2 {
        ctl.set_gain(GainTarget::Master(c), -1.0, 0, At::Frame(0), Late::Skip)
            .unwrap();
    }
    let mut out = [f32::NAN; 5];
    engine.output.process(&mut out);
    let bits: Vec<u32> = out.iter().map(|x| x.to_bits()).collect();
    let (neg, pos) = ((-0.0f32).to_bits(), 0.0f32.to_bits());
    assert_eq!(bits, [neg, neg, neg, neg, pos]);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "safe arithmetic many times over: minutes under Miri, which has no unsafe code to check here"
)]
fn plain_voices_mixed_four_at_a_time_sum_in_submission_order() {
    // Nine alike: two groups of four, then one alone; first in a block from frame 3 on.
    let plain = |start| (start, 1.0, 1.0, false);
    let nine: Vec<_> = (0..9).map(|_| plain(3)).collect();
    for block in [1, 4, 5, 7, 64] {
        check_in_submission_order(&nine, block, 20);
    }
    // Starts that differ: no group in their first blocks, groups after (at other buffer
    // frames per voice).
    let staggered: Vec<_> = (0..8).map(|i| plain(i % 3)).collect();
    for block in [1, 2, 5, 16] {
        check_in_submission_order(&staggered, block, 20);
    }
    // The first of four starts last: in its first block the others' spans are longer, so
    // they are mixed alone; from the next block on, in groups.
    let first_last: Vec<_> = [3, 0, 1, 2, 0, 0].into_iter().map(plain).collect();
    for block in [4, 8, 16] {
        check_in_submission_order(&first_last, block, 20);
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "safe arithmetic many times over: minutes under Miri, which has no unsafe code to check here"
)]
fn plain_voices_looping_a_short_region_are_mixed_across_every_seam() {
    // Six voices loop frames 1..4 of their buffers: most blocks hold a seam, which the
    // one span a group mixes per voice must not cross.
    for block in [2, 3, 4, 7, 16] {
        let (mut ctl, mut engine) = stream(32, 32, StreamConfig::output(2));
        let buffers: Vec<Vec<f32>> = (0..6).map(|i| voice(i, 5, false)).collect();
        for b in &buffers {
            let map = ChannelMap::contiguous(0, 2).unwrap();
            let play = Play::new(b.clone(), map).region(1, 4);
            ctl.play(play.repeat(Repeat::Forever)).unwrap();
        }
        let frames = 30;
        let mut out = vec![0.0f32; frames * 2];
        for chunk in out.chunks_mut(block * 2) {
            engine.output.process(chunk);
        }
        let want: Vec<f32> = (0..frames * 2)
            .map(|n| {
                let (f, c) = (n / 2, n % 2);
                buffers
                    .iter()
                    .fold(0.0, |sum, b| sum + b[(1 + f % 3) * 2 + c])
            })
            .collect();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        assert_eq!(bits(&out), bits(&want), "blocks of {block}");
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "safe arithmetic many times over: minutes under Miri, which has no unsafe code to check here"
)]
fn voices_at_a_gain_other_than_one_are_never_mixed_as_plain_ones() {
    // Groups of them, each kind alone: a play gain (an envelope of 0.5) or a map gain.
    for odd in [(0, 0.5, 1.0, false), (0, 1.0, 0.75, false)] {
        for block in [1, 5, 16] {
            check_in_submission_order(&[odd; 6], block, 16);
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "safe arithmetic many times over: minutes under Miri, which has no unsafe code to check here"
)]
fn a_voice_that_is_not_plain_breaks_up_a_group_in_order() {
    // A play gain, a map gain, and a mono voice on a stereo stream, among plain ones: each
    // is mixed alone, in its place in the order.
    for odd in [
        (0, 0.5, 1.0, false),
        (0, 1.0, 0.75, false),
        (0, 1.0, 1.0, true),
    ] {
        for at in 0..6 {
            let mut voices: Vec<Voice> = (0..6).map(|_| (0, 1.0, 1.0, false)).collect();
            voices[at] = odd;
            for block in [1, 3, 8] {
                check_in_submission_order(&voices, block, 16);
            }
        }
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "safe arithmetic many times over: minutes under Miri, which has no unsafe code to check here"
)]
fn an_unmetered_stream_protects_and_counts_as_a_metered_one_does() {
    // Blocks that are within [-1, 1], beyond it, infinite or NaN, clamped or not, in
    // blocks of 1 to 16 frames; stereo out, mono in.
    // Two voices alike: their sums of f32::MAX are infinite. The input has a NaN too.
    let tricky = [0.5, 1.5, -3.0, f32::MAX, -f32::MAX, -0.25, 1.0, -1.0];
    for clamp in [false, true] {
        for block in [1, 2, 5, 16] {
            let run = |meters: bool| {
                let mut config = StreamConfig::duplex(2, 1);
                config.clamp_output = clamp;
                config.meters = meters;
                let (mut ctl, mut engine) = stream(8, 8, config);
                // 80 frames: whole blocks of every size.
                let samples: Vec<f32> = (0..160).map(|i| tricky[i % tricky.len()]).collect();
                let map = ChannelMap::contiguous(0, 2).unwrap();
                ctl.play(Play::new(samples.clone(), map.clone())).unwrap();
                ctl.play(Play::new(samples.clone(), map)).unwrap();
                let rec = ctl.record(Record::new(vec![0.0; 20], mono())).unwrap();
                let mut input: Vec<f32> = samples.iter().step_by(2).copied().collect();
                input[6] = f32::NAN;
                let mut out = [0.0f32; 160];
                for (o, i) in out.chunks_mut(block * 2).zip(input.chunks(block)) {
                    engine.input.process(i);
                    engine.output.process(o);
                }
                let stats = |ctl: &mut Ctl, engine: &mut Eng, d| {
                    let id = ctl.fetch_stats(d, At::Asap).unwrap();
                    engine.process(&[0.0], &mut [0.0; 2]);
                    *ctl.take(id).unwrap().stream_stats().unwrap()
                };
                let (o, i) = (
                    stats(&mut ctl, &mut engine, Direction::Output),
                    stats(&mut ctl, &mut engine, Direction::Input),
                );
                let metered = vec![
                    ctl.meter(Direction::Output, 0).map(|l| l.frames),
                    ctl.meter(Direction::Output, 1).map(|l| l.frames),
                    ctl.meter(Direction::Input, 0).map(|l| l.frames),
                ];
                let recording = ctl.take(rec).unwrap().into_recording().unwrap();
                let bits: Vec<u32> = out.iter().map(|x| x.to_bits()).collect();
                let rec_bits: Vec<u32> = recording.iter().map(|x| x.to_bits()).collect();
                (
                    (bits, rec_bits, o.non_finite, o.clipped, o.blocks, i.blocks),
                    metered,
                )
            };
            let (with, metered) = run(true);
            let (without, unmetered) = run(false);
            assert_eq!(with, without, "clamp {clamp}, blocks of {block}");
            // 80 frames each way, and the two 1-frame blocks that fetched the stats.
            assert_eq!((metered, unmetered), (vec![Some(82); 3], vec![None; 3]));
            assert!(with.2 > 0 && with.3 > 0, "the blocks hold bad samples");
        }
    }
}

#[test]
fn an_unprotected_stream_sends_the_mix_as_summed_and_counts_nothing() {
    // Two voices whose sums are beyond [-1, 1] or infinite; the master gain of channel 1
    // is 0 from frame 2, so its infinities become NaN there. Sent as summed, metered or
    // not, in blocks of 1 to 8 frames; a protected stream sends 0 for each of those.
    let tricky = [0.5f32, 1.5, -3.0, f32::MAX, -f32::MAX, -0.25, 1.0, f32::MAX];
    let samples: Vec<f32> = (0..32).map(|i| tricky[i % tricky.len()]).collect();
    // Bits, but any NaN for a NaN: its sign and payload are not specified (x86 gives
    // -NaN for infinity times 0; Miri picks either).
    let bits = |x: f32| (!x.is_nan()).then_some(x.to_bits());
    let want: Vec<Option<u32>> = samples
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let master = if i % 2 == 1 && i / 2 >= 2 { 0.0 } else { 1.0 };
            bits((0.0 + s + s) * master)
        })
        .collect();
    assert!(want.iter().any(Option::is_none));
    assert!(want
        .iter()
        .flatten()
        .any(|&b| f32::from_bits(b).is_infinite()));
    for meters in [true, false] {
        for block in [1, 2, 3, 8] {
            let mut config = StreamConfig::output(2).unprotected();
            config.meters = meters;
            let (mut ctl, mut engine) = stream(8, 8, config);
            let map = ChannelMap::contiguous(0, 2).unwrap();
            ctl.play(Play::new(samples.clone(), map.clone()).at(At::Frame(0)))
                .unwrap();
            ctl.play(Play::new(samples.clone(), map).at(At::Frame(0)))
                .unwrap();
            ctl.set_gain(GainTarget::Master(1), 0.0, 0, At::Frame(2), Late::Skip)
                .unwrap();
            let mut out = [0.0f32; 32];
            for chunk in out.chunks_mut(block * 2) {
                engine.output.process(chunk);
            }
            let got: Vec<Option<u32>> = out.iter().map(|&x| bits(x)).collect();
            assert_eq!(got, want, "meters {meters}, blocks of {block}");
            let id = ctl.fetch_stats(Direction::Output, At::Asap).unwrap();
            engine.output.process(&mut [0.0; 2]);
            let stats = *ctl.take(id).unwrap().stream_stats().unwrap();
            assert_eq!((stats.non_finite, stats.clipped), (0, 0));
            // The meters read what was sent: an over on each channel.
            if meters {
                let mut peak = |c| ctl.meter(Direction::Output, c).unwrap().peak;
                assert_eq!((peak(0), peak(1)), (f32::INFINITY, f32::INFINITY));
            }
        }
    }
    // Clamping needs protection.
    let clamped = StreamConfig::output(2).unprotected().clamped();
    let refused = open::<Vec<f32>, Vec<f32>>(clamped, StreamCapacity::default()).err();
    assert_eq!(refused, Some(Error::ClampUnprotected));
}

#[test]
fn blocks_beyond_one_throughout_are_counted_protected_and_metered() {
    // Every sample of every block beyond 1 (or infinite): the protection's first scan
    // must find them however they are written, by one voice or a group of four that
    // writes the whole block, metered or not.
    for (voices, sample, metered) in [
        (1, 4.0f32, false),
        (2, f32::MAX, false),
        (4, 0.375, true),
        (4, 0.375, false),
        (8, f32::MAX, true),
    ] {
        for block in [1, 4, 8] {
            let mut config = StreamConfig::output(2);
            config.meters = metered;
            let (mut ctl, mut engine) = stream(16, 16, config);
            for _ in 0..voices {
                let map = ChannelMap::contiguous(0, 2).unwrap();
                ctl.play(Play::new(vec![sample; 16], map).at(At::Frame(0)))
                    .unwrap();
            }
            let mut out = [0.0f32; 16];
            for chunk in out.chunks_mut(block * 2) {
                engine.output.process(chunk);
            }
            let sum = (0..voices).fold(0.0f32, |s, _| s + sample);
            let sent = if sum.is_finite() { sum } else { 0.0 };
            assert_eq!(out, [sent; 16], "{voices} x {sample} in blocks of {block}");
            let id = ctl.fetch_stats(Direction::Output, At::Asap).unwrap();
            engine.output.process(&mut [0.0; 2]);
            let stats = *ctl.take(id).unwrap().stream_stats().unwrap();
            let counts = if sum.is_finite() { (0, 16) } else { (16, 0) };
            assert_eq!((stats.non_finite, stats.clipped), counts);
            if metered {
                let peak = ctl.meter(Direction::Output, 0).unwrap().peak;
                assert_eq!(peak, sent, "{voices} x {sample} in blocks of {block}");
            }
        }
    }
}

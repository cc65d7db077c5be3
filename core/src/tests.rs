//! Unit tests of what the host property suites cannot reach from outside: group members
//! arriving in different blocks, queue and capacity limits, and odd blocks.

extern crate std;
use std::vec;
use std::vec::Vec;

use crate::command::{Body, Command, GroupMark, Layout, Shape};
use crate::*;

type Q<const A: usize, const C: usize> = Queues<Vec<f32>, Vec<f32>, A, C>;

fn mono() -> ChannelMap {
    ChannelMap::new(&[0]).unwrap()
}

#[test]
fn a_group_split_across_blocks_starts_together_when_complete() {
    let mut q: Q<8, 8> = Queues::new();
    let (mut ctl, mut engine) = q.split(StreamConfig::output(1)).unwrap();
    let stream = ctl.stream;
    let member = |seq, samples: Vec<f32>, group| Command {
        id: ActionId::new(seq, stream, Direction::Output),
        at: At::Asap,
        after_end: None,
        late: Late::Drop,
        group,
        body: Body::Transfer {
            frames: samples.len() as u64,
            shape: Shape::whole(samples.len() as u64),
            buffer: samples,
            map: mono(),
            layout: Layout::Full { gain: 1.0 },
        },
    };
    // The controller is interrupted after the first member: the engine runs a block.
    ctl.output.send(member(0, vec![1.0; 4], GroupMark::More));
    let mut out = [9.0f32; 4];
    engine.output.process(&mut out);
    assert_eq!(out, [0.0; 4], "a staged member must not start alone");
    ctl.output.send(member(1, vec![2.0; 4], GroupMark::Last));
    engine.output.process(&mut out);
    assert_eq!(out, [3.0; 4]);
    let a = ctl.try_next().unwrap();
    let b = ctl.try_next().unwrap();
    assert_eq!((a.actual_start, b.actual_start), (Some(4), Some(4)));
}

#[test]
fn a_full_queue_refuses_then_accepts_after_a_block() {
    let mut q: Q<8, 4> = Queues::new();
    let (mut ctl, mut engine) = q.split(StreamConfig::output(1)).unwrap();
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
    let mut q: Q<4, 8> = Queues::new();
    let (mut ctl, mut engine) = q.split(StreamConfig::output(1)).unwrap();
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
    let mut q1: Q<4, 4> = Queues::new();
    let mut q2: Q<4, 4> = Queues::new();
    let (mut ctl2, _e2) = q2.split(StreamConfig::duplex(1, 1)).unwrap();
    let foreign = ctl2.fetch_stats(Direction::Output, At::Asap).unwrap();
    let own = {
        let (mut ctl1, _e1) = q1.split(StreamConfig::duplex(1, 1)).unwrap();
        let own = ctl1.fetch_stats(Direction::Output, At::Asap).unwrap();
        // Same sequence number, same direction, another stream.
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
        #[cfg(feature = "std")]
        assert_eq!(ctl1.wait(foreign).unwrap_err(), Error::UnknownAction);
        own
    };
    // A new split of the same storage does not accept the old split's ids.
    let (mut again, _e) = q1.split(StreamConfig::duplex(1, 1)).unwrap();
    let fresh = again.fetch_stats(Direction::Output, At::Asap).unwrap();
    assert_eq!(fresh.seq(), own.seq());
    assert_eq!(
        again.cancel(own, At::Asap, Late::Drop),
        Err(Error::UnknownAction)
    );
    assert!(again.is_outstanding(fresh) && !again.is_outstanding(own));
}

#[test]
fn missing_directions_and_bad_maps_are_refused() {
    let mut q: Q<4, 4> = Queues::new();
    let (mut ctl, _engine) = q.split(StreamConfig::output(2)).unwrap();
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
    let mut q: Q<4, 4> = Queues::new();
    let (mut ctl, mut engine) = q.split(StreamConfig::duplex(3, 2)).unwrap();
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
    let mut q: Q<8, 8> = Queues::new();
    let (mut ctl, mut engine) = q.split(StreamConfig::input(1)).unwrap();
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
    let mut q: Q<4, 4> = Queues::new();
    let (mut ctl, mut engine) = q.split(StreamConfig::output(1)).unwrap();
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
    let mut q: Q<4, 4> = Queues::new();
    let (mut ctl, mut engine) = q.split(StreamConfig::output(1)).unwrap();
    let id = ctl.fetch_stats(Direction::Output, At::Asap).unwrap();
    engine.output.process(&mut [0.0; 4]);
    let done = ctl.wait_timeout(id, std::time::Duration::MAX).unwrap();
    assert!(done.is_some());
}

#[test]
fn handles_are_small_and_the_storage_holds_the_rest() {
    use core::mem::size_of;
    type P = &'static [f32];
    type R = &'static mut [f32];
    // The engine and controller handles do not grow with the capacity: everything that
    // does lives in the storage, which can be a `static`.
    assert_eq!(
        size_of::<Engine<'static, P, R, 16>>(),
        size_of::<Engine<'static, P, R, 1024>>()
    );
    assert_eq!(
        size_of::<Controller<'static, P, R, 16>>(),
        size_of::<Controller<'static, P, R, 1024>>()
    );
    assert!(size_of::<Engine<'static, P, R, 16>>() < 256);
    // "A duplex stream with A = C = 16 takes about 67 KB" (Queues' docs, docs/timing.md):
    // at most 67,904 B on 64-bit targets, and no more than 10 % below (rtmix-embedded's
    // tests/memory.rs holds the other capacities' budgets).
    #[cfg(target_pointer_width = "64")]
    {
        let size = size_of::<Queues<P, R, 16, 16>>();
        assert!(size <= 67_904, "Queues<16, 16> grew to {size} B");
        assert!(size * 10 >= 67_904 * 9, "Queues<16, 16> shrank to {size} B");
    }
}

/// The sizes docs/embedded.md ("RAM") gives for what takes the room in the storage, and
/// docs/timing.md's 6 bytes per channel of a map: exact, on `x86_64`. When one changes,
/// update those pages with the new figures.
#[test]
#[cfg(target_arch = "x86_64")]
fn what_takes_the_room_in_the_storage() {
    use crate::action::{Action, Done, Transfer};
    use crate::envelope::Envelope;
    use crate::meter::MeterBank;
    use crate::mixdown::Mixdown;
    use core::mem::size_of;
    type P = &'static [f32];
    type R = &'static mut [f32];
    // Each action slot, and its parts.
    assert_eq!(size_of::<Action<P>>(), 848);
    assert_eq!(size_of::<Transfer<P>>(), 544);
    assert_eq!(size_of::<ChannelMap>(), 208);
    assert_eq!(
        size_of::<ChannelMap>(),
        16 + 32 * (2 + 4),
        "32 channels of 6 bytes"
    );
    assert_eq!(size_of::<Envelope>(), 136);
    assert_eq!(size_of::<Shape>(), 104);
    // Each queued command, each completion on its way back (with its stats), and each
    // completion in the controller's mailbox (a `Done` and its sequence number).
    assert_eq!(size_of::<Command<P>>(), 440);
    assert_eq!(size_of::<Done<P>>(), 328);
    assert_eq!(size_of::<StreamStats>(), 112);
    assert_eq!(size_of::<Done<P>>() + size_of::<u64>(), 336);
    // The fixed part: 32 master ramps and 2 x 32 meter channels.
    assert_eq!(size_of::<Mixdown>() + 2 * size_of::<MeterBank>(), 3_352);
    // What grows with A and C, from the storage's own sizes: per action slot (both
    // directions) and per command queue entry (both directions).
    let q = |a: usize, c: usize| match (a, c) {
        (16, 16) => size_of::<Queues<P, R, 16, 16>>(),
        (16, 32) => size_of::<Queues<P, R, 16, 32>>(),
        (64, 32) => size_of::<Queues<P, R, 64, 32>>(),
        _ => unreachable!(),
    };
    assert_eq!(q(16, 32) - q(16, 16), 16 * 2 * 440);
    assert_eq!((q(64, 32) - q(16, 32)) / 48, 2 * 1_562);
}

#[test]
fn splitting_needs_little_stack() {
    // A firmware splits its storage (a `static`) on a stack of a few KB. 16 actions and
    // queues of 32 take about 80 KB of storage; splitting must not build a copy of it on
    // the stack (it once did: `*self = Queues::new()`). On a 32 KB stack that overflows.
    type P = &'static [f32];
    type R = &'static mut [f32];
    let mut q: std::boxed::Box<Queues<P, R, 16, 32>> = std::boxed::Box::default();
    assert!(core::mem::size_of::<Queues<P, R, 16, 32>>() > 64 * 1024);
    std::thread::Builder::new()
        .stack_size(32 * 1024)
        .spawn(move || {
            for _ in 0..2 {
                let (ctl, mut engine) = q.split(StreamConfig::output(2)).unwrap();
                engine.output.process(&mut [0.0; 8]);
                assert_eq!(ctl.config().output_channels, 2);
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn an_endless_loop_started_near_the_last_play_frame_wraps_instead_of_overflowing() {
    // Found by fuzzing with overflow checks on: `from_frame` close to u64::MAX on an
    // endless loop made the play-frame count overflow within a few blocks.
    use crate::{ChannelMap, Play, Repeat};
    let mut q: Queues<std::vec::Vec<f32>, std::vec::Vec<f32>, 4, 4> = Queues::new();
    let (mut ctl, mut engine) = q.split(StreamConfig::output(1)).unwrap();
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

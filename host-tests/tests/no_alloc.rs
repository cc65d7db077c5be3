//! The audio path never allocates or frees: every command kind, with `Arc`, `Vec` and
//! `Box` owners, runs through real engine blocks under an allocator that counts any
//! allocation or free made on the audio side.

use std::sync::Arc;
use std::time::Duration;

use rtmix_core::{
    At, ChannelMap, Direction, Ending, Engine, Feed, GainTarget, Heap, Interval, Late, Member,
    OnEmpty, OnFull, Play, PlaySource, Record, RecordTarget, Repeat, StreamConfig,
};
use rtmix_host_tests::alloc_guard::{forbid_alloc, GuardedAlloc};
use rtmix_host_tests::stream;

#[global_allocator]
static ALLOC: GuardedAlloc = GuardedAlloc;

fn map(channels: &[u16]) -> ChannelMap {
    ChannelMap::new(channels).unwrap()
}

#[test]
fn guard_sees_allocations() {
    // The guard itself must be able to fail, or the tests below prove nothing.
    // black_box: the optimiser may otherwise remove an allocation that is never used.
    let (v, count) = forbid_alloc(|| std::hint::black_box(vec![1u8; 64]));
    assert!(count >= 1, "the guard missed an allocation");
    drop(v);
    let ((), count) = forbid_alloc(|| drop(std::hint::black_box(Box::new(5u64))));
    assert!(count >= 2, "the guard missed an allocation and a free");
}

#[test]
fn engine_blocks_allocate_nothing_with_arc_and_vec_owners() {
    let (mut ctl, mut engine) =
        stream::open::<Arc<[f32]>, Vec<f32>>(32, 32, StreamConfig::duplex(2, 2));
    let tone: Arc<[f32]> = (0..2000)
        .map(|i| (i as f32 * 0.01).sin())
        .collect::<Vec<_>>()
        .into();

    // Register this thread as a waiter, so the engine's wake-up path (unpark) runs too.
    let probe = ctl
        .fetch_stats(Direction::Output, At::Frame(1_000_000))
        .unwrap();
    assert!(ctl.wait_timeout(probe, Duration::ZERO).unwrap().is_none());

    let p1 = ctl
        .play(Play::new(tone.clone(), map(&[0, 1])).at(At::Frame(10)))
        .unwrap();
    let p2 = ctl
        .play(
            Play::new(tone.clone(), map(&[1]))
                .at(At::Frame(3))
                .late(Late::Skip),
        )
        .unwrap();
    let p3 = ctl
        .play(Play::new(
            tone.clone(),
            ChannelMap::new(&[1, 1])
                .unwrap()
                .with_gains(&[0.5, -0.5])
                .unwrap(),
        ))
        .unwrap();
    let r1 = ctl
        .record(Record::new(vec![0.0; 600], map(&[1, 0])).at(At::Frame(7)))
        .unwrap();
    let r2 = ctl.record(Record::new(vec![0.0; 300], map(&[1]))).unwrap();
    let c1 = ctl.cancel(p1, At::Frame(400), Late::StartNow).unwrap();
    let c2 = ctl.cancel(r2, At::Frame(50), Late::StartNow).unwrap();
    let s1 = ctl.fetch_stats(Direction::Input, At::Frame(200)).unwrap();
    let group = ctl
        .group([
            Member::Play(Play::new(tone.clone(), map(&[0]))),
            Member::Record(Record::new(vec![0.0; 100], map(&[0]))),
            Member::Stats {
                direction: Direction::Output,
                at: At::Asap,
            },
        ])
        .unwrap();
    let timer = ctl
        .play(Play::new(tone.slice_empty(), map(&[0])).at(At::Frame(5)))
        .unwrap();

    let mut input = vec![0.25f32; 2 * 4096];
    let mut output = vec![0.0f32; 2 * 4096];
    let (finished, count) = forbid_alloc(|| {
        let mut frames = 0;
        for (i, n) in [1usize, 2, 3, 64, 7, 512, 1, 4096, 100]
            .iter()
            .cycle()
            .take(40)
            .enumerate()
        {
            let (inp, out) = (&input[..n * 2], &mut output[..n * 2]);
            engine.process(inp, out);
            if i % 7 == 3 {
                engine.output.report_lost(17);
                engine.input.report_lost(5);
            }
            frames += n;
        }
        input[0] = 0.5;
        frames
    });
    assert_eq!(count, 0, "the engine allocated or freed {count} times");
    assert!(finished > 2000);

    for id in [p1, p2, p3, r1, r2, c1, c2, s1, timer]
        .into_iter()
        .chain(group)
    {
        assert!(ctl.take(id).is_some(), "{id:?} did not complete");
    }
    // Stopping hands back what is still scheduled, again without allocating.
    let ((), count) = forbid_alloc(|| {
        engine.output.stop();
        engine.input.stop();
    });
    assert_eq!(count, 0);
    assert_eq!(
        ctl.take(probe).unwrap().end,
        rtmix_core::EndReason::StreamStopped
    );
}

#[test]
fn engine_blocks_allocate_nothing_with_box_owners_at_full_capacity() {
    let capacity = rtmix_core::StreamCapacity {
        actions: 8,
        commands: 15,
        completions: 7,
    };
    let (mut ctl, mut engine) =
        rtmix_core::open::<Box<[f32]>, Box<[f32]>>(StreamConfig::duplex(1, 1), capacity).unwrap();
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(
            ctl.play(
                Play::new(vec![0.1f32; 10 + i].into_boxed_slice(), map(&[0]))
                    .at(At::Frame(i as u64)),
            )
            .unwrap(),
        );
    }
    ids.push(ctl.cancel(ids[0], At::Frame(3), Late::Drop).unwrap());
    // Completions pile up: the completion queue holds 7, the eighth waits in its slot.
    let mut block = vec![0.0f32; 64];
    let ((), count) = forbid_alloc(|| {
        engine.output.process(&mut block);
        engine.output.process(&mut block);
    });
    assert_eq!(count, 0);
    let mut taken: Vec<_> = ids.iter().filter_map(|&id| ctl.take(id)).collect();
    assert_eq!(taken.len(), 7, "the completion queue holds 7");
    let ((), count) = forbid_alloc(|| engine.output.process(&mut block));
    assert_eq!(count, 0);
    taken.extend(ids.iter().filter_map(|&id| ctl.take(id)));
    assert_eq!(
        taken.len(),
        8,
        "the completion that waited in its slot came out"
    );
}

/// Runs `count` duplex blocks of sizes from 1 to 4096 frames on a 2-in, 2-out stream, with
/// an output and an input xrun every seventh; returns the frames run.
fn mixed_blocks<P: PlaySource, R: RecordTarget>(
    engine: &mut Engine<P, R, Heap>,
    output: &mut [f32],
    count: usize,
) -> usize {
    static INPUT: [f32; 2 * 4096] = [0.25; 2 * 4096];
    let mut frames = 0;
    for (i, n) in [1usize, 2, 3, 64, 7, 512, 1, 4096, 100]
        .iter()
        .cycle()
        .take(count)
        .enumerate()
    {
        engine.process(&INPUT[..n * 2], &mut output[..n * 2]);
        if i % 7 == 3 {
            engine.output.report_lost(17);
            engine.input.report_lost(5);
        }
        frames += n;
    }
    frames
}

trait SliceEmpty {
    fn slice_empty(&self) -> Self;
}

impl SliceEmpty for Arc<[f32]> {
    fn slice_empty(&self) -> Self {
        Arc::from(Vec::new())
    }
}

#[test]
fn waking_a_waiting_controller_allocates_nothing() {
    let (mut ctl, mut engine) = stream::open::<Vec<f32>, Vec<f32>>(8, 8, StreamConfig::output(1));
    let ids: Vec<_> = (0..5)
        .map(|i| {
            ctl.play(Play::new(vec![0.5; 64], map(&[0])).at(At::Frame(i * 1000)))
                .unwrap()
        })
        .collect();
    std::thread::scope(|s| {
        // The control thread blocks in `wait`, so every completion goes through the
        // engine's wake-up path (flag, try_lock, unpark). Its end, by return or by a
        // failed assertion, ends the blocks.
        let waiter = s.spawn(|| {
            for id in ids {
                let done = ctl.wait_timeout(id, Duration::from_secs(10)).unwrap();
                assert!(done.is_some(), "{id:?} never woke the waiter");
            }
        });
        let mut block = [0.0f32; 50];
        let mut violations = 0;
        while !waiter.is_finished() {
            let ((), count) = forbid_alloc(|| engine.output.process(&mut block));
            violations += count;
            std::thread::yield_now();
        }
        assert_eq!(violations, 0, "the wake-up path allocated");
    });
}

/// Every command of the features issue (loops, intervals, gains and ramps, master gains,
/// faded and seam cancels, followers, streams both ways, clamping) runs through real blocks
/// of every size, xruns included, without an allocation or a free.
#[test]
fn every_feature_allocates_nothing() {
    type Source = Feed<Arc<[f32]>, rtrb::Consumer<f32>>;
    type Target = Feed<Vec<f32>, rtrb::Producer<f32>>;
    let config = StreamConfig::duplex(2, 2).clamped();
    let (mut ctl, mut engine) = stream::open::<Source, Target>(32, 32, config);
    let tone: Arc<[f32]> = (0..3000)
        .map(|i| (i as f32 * 0.01).sin())
        .collect::<Vec<_>>()
        .into();
    let buf = || Feed::Buffer(tone.clone());

    let looped = ctl
        .play(
            Play::new(buf(), map(&[0, 1]))
                .region(100, 333)
                .repeat(Repeat::Forever)
                .fade_in(500)
                .gain(0.7),
        )
        .unwrap();
    let ticks = ctl
        .play(
            Play::new(buf(), map(&[1]))
                .region(0, 40)
                .interval(Interval::new(2_880_000, 119 * 48).unwrap())
                .repeat(Repeat::Times(40))
                .fade_out(30),
        )
        .unwrap();
    let first = ctl
        .play(Play::new(buf(), map(&[0])).at(At::Frame(10)))
        .unwrap();
    let follower = ctl
        .play(Play::new(buf(), map(&[1])).at(At::After(first)))
        .unwrap();
    let (mut feed, ring) = rtrb::RingBuffer::new(20_000);
    for i in 0..5000 {
        feed.push((i % 100) as f32 / 100.0).unwrap();
    }
    let streamed = ctl
        .play(Play::new(Feed::Stream(ring), map(&[0])).on_empty(OnEmpty::Silence))
        .unwrap();
    let (sink, mut drain) = rtrb::RingBuffer::new(3000);
    let captured = ctl
        .record(Record::new(Feed::Stream(sink), map(&[1, 0])).on_full(OnFull::Drop))
        .unwrap();
    let recorded = ctl
        .record(Record::new(Feed::Buffer(vec![0.0; 800]), map(&[0])).at(At::Frame(30)))
        .unwrap();
    let controls = [
        ctl.set_gain(
            GainTarget::Action(looped),
            0.1,
            900,
            At::Frame(700),
            Late::Skip,
        )
        .unwrap(),
        ctl.set_gain(GainTarget::Master(1), 0.5, 300, At::Frame(333), Late::Skip)
            .unwrap(),
        ctl.cancel_with(looped, At::Frame(5000), Late::Skip, Ending::AfterRepetition)
            .unwrap(),
        ctl.cancel_with(streamed, At::Frame(6000), Late::Skip, Ending::FadeOut(250))
            .unwrap(),
        ctl.cancel_with(captured, At::Frame(7000), Late::Skip, Ending::Cut)
            .unwrap(),
    ];
    let group = ctl
        .group([
            Member::Gain {
                target: GainTarget::Master(0),
                gain: 2.0,
                ramp: 64,
                at: At::Frame(50),
                late: Late::Skip,
            },
            Member::Cancel {
                target: ticks,
                at: At::Frame(9000),
                late: Late::Skip,
                ending: Ending::FadeOut(100),
            },
        ])
        .unwrap();

    let mut output = vec![0.0f32; 2 * 4096];
    let (frames, count) = forbid_alloc(|| mixed_blocks(&mut engine, &mut output, 60));
    assert_eq!(count, 0, "the engine allocated or freed {count} times");
    assert!(frames > 10_000);
    let ids = [looped, ticks, first, follower, streamed, captured, recorded];
    for id in ids.into_iter().chain(controls).chain(group) {
        assert!(ctl.take(id).is_some(), "{id:?} did not complete");
    }
    assert!(drain.pop().is_ok(), "the ring recording wrote nothing");
    assert!(ctl.meter(Direction::Output, 0).unwrap().frames > 0);
}

/// A chunked recording (the sample and mark rings of `chunks::channel`) and a timeline's
/// switches run through real blocks without an allocation or a free on the audio side.
#[test]
fn chunked_recording_and_timeline_allocate_nothing() {
    use rtmix_core::chunks::{self, ChunkSink};
    use rtmix_core::{Entry, Timeline};
    static CLICK: [f32; 4] = [1.0, 0.5, 0.25, 0.125];

    let (sink, mut reader) = chunks::channel(1, 8192, 256);
    let (mut ctl, mut engine) =
        stream::open::<&'static [f32], ChunkSink>(32, 32, StreamConfig::duplex(2, 2));
    let rec = ctl.record(Record::new(sink, map(&[1]))).unwrap();
    let mut tl: Timeline<&'static [f32], 16> = Timeline::new(&[]);
    let mut click = Entry::new(
        &CLICK[..],
        map(&[0, 1]).with_gains(&[1.0, 0.5]).unwrap(),
        10,
    );
    click.every = Some(Interval::new(10_000, 7).unwrap());
    let entries: rtmix_core::heapless::Vec<_, 16> = [click.clone()].into_iter().collect();
    tl.switch(&mut ctl, entries, 0).unwrap();
    tl.play(&mut ctl, 100, 0).unwrap();
    click.position = 55;
    let entries: rtmix_core::heapless::Vec<_, 16> = [click].into_iter().collect();
    tl.switch(&mut ctl, entries, 3000).unwrap();
    tl.locate(&mut ctl, 6000, 123_456).unwrap();
    let mut output = vec![0.0f32; 2 * 4096];
    let (frames, count) = forbid_alloc(|| mixed_blocks(&mut engine, &mut output, 40));
    assert_eq!(count, 0, "the engine allocated or freed {count} times");
    assert!(frames > 8000);
    assert!(
        reader.try_next().is_some(),
        "the chunked recording wrote nothing"
    );
    ctl.cancel(rec, At::Asap, Late::StartNow).unwrap();
}

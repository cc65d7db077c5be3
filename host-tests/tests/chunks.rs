//! Input chunks: a chunked recording delivers every captured frame exactly once, in order,
//! stamped with its frame, under every block pattern; a gap appears only where the sink
//! was full, and it is exactly the count of dropped frames. Streams both ways (ring plays
//! and ring recordings) count the frames they really missed or dropped.

use proptest::prelude::*;
use rtmix_core::chunks::{self, Chunk, ChunkSink};
use rtmix_core::{
    At, ChannelMap, Direction, EndReason, Late, OnEmpty, OnFull, Play, Record, StreamConfig,
};
use rtmix_host_tests::blocks::Blocks;
use rtmix_host_tests::scenario::input_sample;
use rtmix_host_tests::strategies::blocks;
use rtmix_host_tests::stream;

/// The interleaved input block of `channels` channels for frames `[start, start + n)`.
fn input_block(start: u64, n: usize, channels: u16) -> Vec<f32> {
    (start..start + n as u64)
        .flat_map(|f| (0..channels).map(move |c| input_sample(f, c)))
        .collect()
}

/// Checks that `chunks` cover `[start, end)` in order, each sample the input of its frame
/// and channel, except for gaps; returns the frames missing in gaps.
fn check_chunks(chunks: &[Chunk], map: &[u16], start: u64, end: u64) -> u64 {
    let mut next = start;
    let mut gaps = 0;
    for chunk in chunks {
        assert!(
            chunk.frame >= next,
            "chunk at {} overlaps {next}",
            chunk.frame
        );
        gaps += chunk.frame - next;
        for (i, frame) in chunk.samples.chunks_exact(map.len()).enumerate() {
            let f = chunk.frame + i as u64;
            let want: Vec<f32> = map.iter().map(|&c| input_sample(f, c)).collect();
            assert_eq!(frame, &want[..], "frame {f}");
        }
        next = chunk.frame + chunk.frames();
    }
    gaps + end.saturating_sub(next)
}

proptest! {
    /// With room for everything, the chunks are gap-free from the start frame to the cut.
    #[test]
    fn chunks_cover_every_frame_once(
        start in 0u64..500,
        len in 1u64..3000,
        pattern in blocks(),
        map in prop::collection::vec(0u16..3, 1..=3),
    ) {
        let (sink, mut reader) = chunks::channel(map.len(), 4096, 4096);
        let (mut ctl, mut engine) = stream::open::<Vec<f32>, ChunkSink>(4, 4, StreamConfig::input(3));
        let id = ctl
            .record(Record::new(sink, ChannelMap::new(&map).unwrap()).at(At::Frame(start)))
            .unwrap();
        ctl.cancel(id, At::Frame(start + len), Late::Skip).unwrap();
        let (mut clock, mut got) = (0u64, Vec::new());
        for n in pattern.sizes() {
            if clock > start + len + 1 {
                break;
            }
            engine.input.process(&input_block(clock, n, 3));
            clock += n as u64;
            got.extend(std::iter::from_fn(|| reader.try_next()));
        }
        let done = ctl.take(id).unwrap();
        prop_assert_eq!(done.end, EndReason::Cancelled { at: start + len });
        prop_assert_eq!(done.stats.dropped, 0);
        prop_assert_eq!(check_chunks(&got, &map, start, start + len), 0);
        drop(done); // drops the sink: the reader sees the end
        prop_assert!(reader.is_finished());
    }

    /// A sink too small for a slow reader drops frames: the gaps between chunks add up to
    /// exactly the frames the completion counts as dropped.
    #[test]
    fn chunk_gaps_equal_dropped_frames(
        capacity in 1usize..200,
        len in 1u64..2000,
        read_every in 1usize..20,
        pattern in blocks(),
    ) {
        let (sink, mut reader) = chunks::channel(1, capacity, 64);
        let (mut ctl, mut engine) = stream::open::<Vec<f32>, ChunkSink>(4, 4, StreamConfig::input(1));
        let id = ctl.record(Record::new(sink, ChannelMap::new(&[0]).unwrap())).unwrap();
        ctl.cancel(id, At::Frame(len), Late::Skip).unwrap();
        let (mut clock, mut got) = (0u64, Vec::new());
        for (i, n) in pattern.sizes().enumerate() {
            if clock > len {
                break;
            }
            engine.input.process(&input_block(clock, n, 1));
            clock += n as u64;
            if i % read_every == 0 {
                got.extend(std::iter::from_fn(|| reader.try_next()));
            }
        }
        got.extend(std::iter::from_fn(|| reader.try_next()));
        let done = ctl.take(id).unwrap();
        prop_assert_eq!(check_chunks(&got, &[0], 0, len), done.stats.dropped);
        let written: u64 = got.iter().map(Chunk::frames).sum();
        prop_assert_eq!(written + done.stats.dropped, len);
    }

    /// A ring play fed `fed` frames before each block (by the reference clock) misses
    /// exactly the frames it was not fed in time, plays the rest in order, and sees the
    /// lowest level the ring really had.
    #[test]
    fn ring_underflow_counts_the_missing_frames(
        fed in 0usize..80,
        blocks in blocks(),
        len in 1u64..3000,
        stop in any::<bool>(),
    ) {
        let (mut feed, ring) = rtrb::RingBuffer::new(1 << 16);
        let (mut ctl, mut engine) = stream::open::<rtrb::Consumer<f32>, Vec<f32>>(4, 4, StreamConfig::output(1));
        let policy = if stop { OnEmpty::Stop } else { OnEmpty::Silence };
        let id = ctl
            .play(Play::new(ring, ChannelMap::new(&[0]).unwrap()).on_empty(policy))
            .unwrap();
        ctl.cancel(id, At::Frame(len), Late::Skip).unwrap();
        let (mut clock, mut next, mut out) = (0u64, 1.0f32, Vec::new());
        let mut lowest = u64::MAX;
        for n in blocks.sizes() {
            // One block past the cut frame, where the cancel takes effect.
            if clock > len {
                break;
            }
            for _ in 0..fed.min(n) {
                feed.push(next).unwrap();
                next += 1.0;
            }
            if clock < len {
                lowest = lowest.min(feed.buffer().capacity() as u64 - feed.slots() as u64);
            }
            let mut block = vec![0.0f32; n];
            engine.output.process(&mut block);
            out.extend_from_slice(&block[..n.min(len.saturating_sub(clock) as usize)]);
            clock += n as u64;
        }
        let done = ctl.take(id).unwrap();
        // Played samples are 1, 2, 3, ... in order, with zeros where the ring was empty.
        let played: Vec<f32> = out.iter().copied().filter(|&x| x != 0.0).collect();
        let expect: Vec<f32> = (1..=played.len()).map(|i| i as f32).collect();
        prop_assert_eq!(&played, &expect);
        let silent = out.iter().filter(|&&x| x == 0.0).count() as u64;
        if stop {
            prop_assert_eq!(done.stats.missing, 0);
            if done.end == EndReason::Underflow {
                // It stopped at the first frame the ring did not have.
                prop_assert_eq!(done.ended_at, Some(played.len() as u64));
            }
        } else {
            prop_assert_eq!(done.stats.missing, silent);
            prop_assert_eq!(done.frames, len);
            prop_assert_eq!(done.stats.lowest_level, Some(lowest));
        }
    }

    /// A ring recording into a ring nobody drains keeps the first `capacity` frames, in
    /// order, and drops (or stops at) the rest.
    #[test]
    fn ring_overflow_counts_the_dropped_frames(
        capacity in 1usize..300,
        len in 1u64..2000,
        pattern in blocks(),
        stop in any::<bool>(),
    ) {
        let (ring, mut drain) = rtrb::RingBuffer::new(capacity);
        let (mut ctl, mut engine) = stream::open::<Vec<f32>, rtrb::Producer<f32>>(4, 4, StreamConfig::input(1));
        let policy = if stop { OnFull::Stop } else { OnFull::Drop };
        let id = ctl
            .record(Record::new(ring, ChannelMap::new(&[0]).unwrap()).on_full(policy))
            .unwrap();
        ctl.cancel(id, At::Frame(len), Late::Skip).unwrap();
        let mut clock = 0u64;
        for n in pattern.sizes() {
            if clock > len {
                break;
            }
            engine.input.process(&input_block(clock, n, 1));
            clock += n as u64;
        }
        let done = ctl.take(id).unwrap();
        let kept: Vec<f32> = std::iter::from_fn(|| drain.pop().ok()).collect();
        let want: Vec<f32> = (0..(capacity as u64).min(len)).map(|f| input_sample(f, 0)).collect();
        prop_assert_eq!(&kept, &want);
        if stop && len > capacity as u64 {
            prop_assert_eq!(done.end, EndReason::Overflow);
            prop_assert_eq!(done.ended_at, Some(capacity as u64));
            prop_assert_eq!(done.stats.dropped, 0);
        } else {
            prop_assert_eq!(done.stats.dropped, len.saturating_sub(capacity as u64));
        }
    }
}

/// The blocking iterator on its own thread receives every chunk while the engine runs on
/// another, and ends when the recording's completion is dropped.
#[test]
fn a_reader_thread_receives_every_chunk() {
    let (sink, reader) = chunks::channel(2, 512, 256);
    let collector = std::thread::spawn(move || reader.collect::<Vec<Chunk>>());
    let (mut ctl, mut engine) = stream::open::<Vec<f32>, ChunkSink>(4, 4, StreamConfig::input(2));
    let map = [1u16, 0];
    let id = ctl
        .record(Record::new(sink, ChannelMap::new(&map).unwrap()).at(At::Frame(7)))
        .unwrap();
    let end = 48_007;
    ctl.cancel(id, At::Frame(end), Late::Skip).unwrap();
    let mut clock = 0;
    for n in (Blocks::Random { seed: 3, max: 300 }).sizes() {
        if clock > end {
            break;
        }
        engine.input.process(&input_block(clock, n, 2));
        clock += n as u64;
        // Let the reader keep up (the ring holds 512 frames).
        std::thread::sleep(std::time::Duration::from_micros(200));
    }
    let done = ctl.take(id).unwrap();
    let dropped = done.stats.dropped;
    drop(done);
    let chunks = collector.join().unwrap();
    assert_eq!(check_chunks(&chunks, &map, 7, end), dropped);
    assert_eq!(
        ctl.meter(Direction::Input, 1).unwrap().frames,
        clock,
        "the input meter saw every frame"
    );
}

/// A write that carries no samples (nothing given, or no room) delivers no chunk and uses
/// none of the marks, so the next write still gets through. (Found by cargo-mutants: a
/// mark pushed for an empty write survived every suite.)
#[test]
fn an_empty_write_delivers_nothing_and_keeps_its_mark() {
    use rtmix_core::SampleSink;
    let (mut sink, mut reader) = chunks::channel(2, 4, 1);
    assert_eq!(sink.write(0, &[]), 0);
    assert!(reader.try_next().is_none());
    assert_eq!(sink.write(7, &[0.5, -0.5]), 2);
    let chunk = reader.try_next().expect("the write with samples arrives");
    assert_eq!((chunk.frame, &chunk.samples[..]), (7, &[0.5, -0.5][..]));
    assert!(reader.try_next().is_none());
}

//! The audio side of the package's streams never allocates or frees: the engine with the
//! package's own buffer types (copied `Vec<f32>` buffers and rtrb ring ends, `Feed`) and
//! capacities runs under host-tests' counting allocator while plays, ring plays, ring
//! recordings, buffer recordings and cancels start, run, underflow, overflow and end.
//! Every allocation and free (the buffers copied in, the completions taken back) happens
//! on the control side, between the guarded blocks.

use rtmix_core::{At, ChannelMap, Feed, Late, Play, Record, StreamCapacity, StreamConfig};
use rtmix_host_tests::alloc_guard::{forbid_alloc, GuardedAlloc};

use crate::control::{PlaySrc, RecTgt};

#[global_allocator]
static ALLOC: GuardedAlloc = GuardedAlloc;

#[test]
fn the_engine_with_the_packages_buffers_and_rings_never_allocates() {
    let capacity = StreamCapacity {
        actions: 256,
        commands: 256,
        completions: 256,
    };
    let (mut ctl, mut engine) =
        rtmix_core::open::<PlaySrc, RecTgt>(StreamConfig::duplex(2, 2), capacity).unwrap();
    let (mut play_in, play_out) = rtrb::RingBuffer::<f32>::new(64);
    let (rec_in, mut rec_out) = rtrb::RingBuffer::<f32>::new(32);
    let map = |c: &[u16]| ChannelMap::new(c).unwrap();
    let ring_play = ctl
        .play(Play::new(Feed::Stream(play_out), map(&[0])).at(At::Frame(5)))
        .unwrap();
    let ring_rec = ctl
        .record(Record::new(Feed::Stream(rec_in), map(&[1])).at(At::Frame(3)))
        .unwrap();
    let input = vec![0.25f32; 2 * 4096];
    let mut output = vec![0.0f32; 2 * 4096];
    let mut violations = 0;
    let mut taken = 0;
    for block in 0..400u64 {
        // Control side: new requests (allocating their copies), ring traffic, completions.
        let at = engine.output.clock() + 7;
        let id = ctl
            .play(
                Play::new(Feed::Buffer(vec![0.5; 2 * 50]), map(&[0, 1]))
                    .at(At::Frame(at))
                    .late(Late::StartNow)
                    .fade_in(4),
            )
            .unwrap();
        if block % 3 == 0 {
            ctl.cancel(id, At::Frame(at + 20), Late::StartNow).unwrap();
        }
        ctl.record(Record::new(Feed::Buffer(vec![0.0; 30]), map(&[0])).at(At::Frame(at)))
            .unwrap();
        if block % 2 == 0 {
            // Half the time the ring play gets samples; otherwise it underflows.
            let _ = play_in
                .write_chunk_uninit(play_in.slots().min(16))
                .map(|c| {
                    c.fill_from_iter(std::iter::repeat(0.125));
                });
        }
        if block % 5 == 0 {
            // The ring recording overflows in between.
            let n = rec_out.slots();
            if let Ok(c) = rec_out.read_chunk(n) {
                c.commit_all();
            }
        }
        while let Some(done) = ctl.try_next() {
            drop(done);
            taken += 1;
        }
        // Audio side, guarded: blocks of 1 to 97 frames.
        let frames = (block as usize * 37) % 97 + 1;
        let ((), count) = forbid_alloc(|| {
            engine.process(&input[..2 * frames], &mut output[..2 * frames]);
        });
        violations += count;
    }
    assert_eq!(violations, 0, "the audio side allocated or freed");
    assert!(taken > 600, "only {taken} completions came back");
    ctl.cancel(ring_play, At::Asap, Late::StartNow).unwrap();
    ctl.cancel(ring_rec, At::Asap, Late::StartNow).unwrap();
    let ((), count) = forbid_alloc(|| engine.process(&input[..2], &mut output[..2]));
    assert_eq!(count, 0);
    let mut missing = 0;
    let mut dropped = 0;
    while let Some(done) = ctl.try_next() {
        if done.id == ring_play {
            missing = done.stats.missing;
        }
        if done.id == ring_rec {
            dropped = done.stats.dropped;
        }
    }
    assert!(
        missing > 0 && dropped > 0,
        "missing {missing}, dropped {dropped}"
    );
}

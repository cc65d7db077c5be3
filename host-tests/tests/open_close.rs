//! A stream's storage is allocated once when it opens and freed when both sides are gone:
//! 10 000 streams opened, used and dropped leave no allocation behind and do not grow the
//! process's resident memory, and an id of a closed stream is refused by every later one.
//!
//! Only the test's own thread is counted: the test harness's main thread allocates now and
//! then while a test runs (later the more loaded the machine is), and once made this test
//! fail by four blocks under cargo-mutants.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use rtmix_core::{
    At, ChannelMap, Direction, EndReason, Error, Late, Play, Record, StreamCapacity, StreamConfig,
};

/// The system allocator, counting the blocks and bytes alive that the counted thread
/// allocated and freed.
struct Counting;

std::thread_local! {
    /// Set on the test's thread: only its allocations count. (A `const` cell without a
    /// destructor: reading it never allocates, so the allocator may.)
    static COUNTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn counted() -> bool {
    COUNTED.with(std::cell::Cell::get)
}

static BLOCKS: AtomicIsize = AtomicIsize::new(0);
static BYTES: AtomicIsize = AtomicIsize::new(0);

// `GlobalAlloc` is an unsafe trait: a counting allocator must implement it.
#[allow(unsafe_code)]
// SAFETY: every method forwards to `System` unchanged; the counters are plain atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if counted() {
            BLOCKS.fetch_add(1, Ordering::Relaxed);
            BYTES.fetch_add(layout.size().cast_signed(), Ordering::Relaxed);
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if counted() {
            BLOCKS.fetch_sub(1, Ordering::Relaxed);
            BYTES.fetch_sub(layout.size().cast_signed(), Ordering::Relaxed);
        }
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if counted() {
            BYTES.fetch_add(
                new_size.cast_signed() - layout.size().cast_signed(),
                Ordering::Relaxed,
            );
        }
        // SAFETY: forwarded with the caller's pointer, layout and size.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> (isize, isize) {
    (
        BLOCKS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    )
}

/// Resident memory in KiB, from /proc/self/statm.
fn resident_kib() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("resident pages");
    pages * 4
}

/// Opens a duplex stream, plays, records, cancels and fetches stats through blocks of
/// 64 frames, checks every completion, and drops it all. `stale` is an id of a stream
/// closed before: it must be refused.
fn one_stream(stale: Option<rtmix_core::ActionId>) -> rtmix_core::ActionId {
    let capacity = StreamCapacity {
        actions: 16,
        commands: 8,
        completions: 2,
    };
    let (mut ctl, mut engine) =
        rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::duplex(2, 1), capacity)
            .expect("stream");
    if let Some(old) = stale {
        assert!(!ctl.is_outstanding(old));
        assert!(ctl.take(old).is_none());
        assert!(!ctl.forget(old));
        assert_eq!(
            ctl.cancel(old, At::Asap, Late::Drop),
            Err(Error::UnknownAction)
        );
    }
    let map = ChannelMap::contiguous(0, 2).expect("map");
    let play = ctl
        .play(Play::new(vec![0.25; 2 * 100], map).at(At::Frame(10)))
        .expect("play");
    let rec = ctl
        .record(Record::new(
            vec![0.0; 50],
            ChannelMap::new(&[0]).expect("map"),
        ))
        .expect("record");
    let looped = ctl
        .play(
            Play::new(vec![0.5; 2 * 4], ChannelMap::contiguous(0, 2).expect("map"))
                .repeat(rtmix_core::Repeat::Forever),
        )
        .expect("loop");
    let cut = ctl
        .cancel(looped, At::Frame(70), Late::Drop)
        .expect("cancel");
    let stats = ctl
        .fetch_stats(Direction::Output, At::Frame(100))
        .expect("stats");
    let input = vec![0.75f32; 64];
    let mut output = vec![0.0f32; 2 * 64];
    // The control side keeps up with the short completion queue, as it must.
    let mut done = Vec::new();
    for _ in 0..4 {
        engine.process(&input, &mut output);
        done.extend(std::iter::from_fn(|| ctl.try_next()));
    }
    let mut of = |id| {
        let at = done
            .iter()
            .position(|c: &rtmix_core::Completion<_, _>| c.id == id);
        done.swap_remove(at.expect("a completion for every action"))
    };
    let c = of(play);
    assert_eq!((c.actual_start, c.frames), (Some(10), 100));
    assert_eq!(of(rec).into_recording(), Some(vec![0.75; 50]));
    assert_eq!(of(looped).end, EndReason::Cancelled { at: 70 });
    assert_eq!(of(cut).end, EndReason::Cut);
    assert!(of(stats).stream_stats().is_some());
    assert!(done.is_empty());
    // One left outstanding: dropping a stream with work in it frees that too.
    ctl.play(Play::new(vec![0.5; 2], ChannelMap::new(&[0, 1]).expect("map")).at(At::Frame(1 << 40)))
        .expect("far play")
}

#[test]
fn ten_thousand_streams_leave_nothing_behind() {
    const WARM_UP: usize = 100;
    const STREAMS: usize = 10_000;
    // Everything the streams allocate is allocated and freed on this thread.
    COUNTED.with(|c| c.set(true));
    let mut stale = None;
    for _ in 0..WARM_UP {
        stale = Some(one_stream(stale));
    }
    let before = live();
    let mut resident_at_1000 = 0;
    for i in WARM_UP..STREAMS {
        stale = Some(one_stream(stale));
        if i == 1_000 {
            resident_at_1000 = resident_kib();
        }
        if i % 1_000 == 0 {
            assert_eq!(live(), before, "blocks and bytes alive after {i} streams");
        }
    }
    let after = live();
    let resident = resident_kib();
    eprintln!(
        "{STREAMS} streams: {} blocks, {} bytes alive before and {} blocks, {} bytes after; \
         resident {resident_at_1000} KiB after 1 000, {resident} KiB after {STREAMS}",
        before.0, before.1, after.0, after.1
    );
    assert_eq!(after, before, "a stream left allocations behind");
    assert!(
        resident <= resident_at_1000 + 256,
        "resident memory grew from {resident_at_1000} KiB to {resident} KiB"
    );
}

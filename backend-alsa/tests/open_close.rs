//! Opening and closing streams forever (issue 15, item 5, the ALSA half): 10 000 times, a
//! stream is opened with `rtmix_core::open`, ALSA file PCMs (fixtures/alsa/rtmix.conf) are
//! opened through rtmix-alsa, a play and a recording run for a few periods on the stream's
//! realtime thread (`AlsaStream`), the stream is stopped and everything is dropped.
//!
//! Even opens run one duplex stream (`DuplexDevice`, `AlsaStream::duplex`); odd opens split
//! the engine and run a playback and a capture stream side by side (`AlsaStream::play` and
//! `AlsaStream::record`), so every public way to run a stream is opened 5 000 times.
//!
//! What must hold:
//! * every open works: the play completes having played its frames and the recording holds
//!   the input file's samples from its frame;
//! * every allocation is freed: a counting global allocator (every thread, the streams'
//!   own included) finds as many blocks live after the last open as after the warm-up (the
//!   first opens, which let alsa-lib's configuration, libc's and std's caches settle), and
//!   the same at every thousandth open in between;
//! * resident memory does not grow: after 10 000 opens it is within `RSS_SLACK` of what it
//!   was after the first 1 000 (`/proc/self/statm`). The counting allocator sees Rust's
//!   allocations only; this catches what alsa-lib (C) or the system would keep.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use common::alsa_config;
use rtmix_alsa::{AlsaStream, Config, DuplexDevice, InputDevice, OutputDevice, RunControl};
use rtmix_core::{At, ChannelMap, EndReason, Play, Record, StreamCapacity, StreamConfig};

/// Blocks allocated and not yet freed, and their bytes, by every thread.
static LIVE_BLOCKS: AtomicI64 = AtomicI64::new(0);
static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
/// Allocations made (reallocations not counted).
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting.
struct Counting;

fn grew(bytes: usize) {
    LIVE_BYTES.fetch_add(i64::try_from(bytes).unwrap_or(i64::MAX), Relaxed);
}

fn shrank(bytes: usize) {
    LIVE_BYTES.fetch_sub(i64::try_from(bytes).unwrap_or(i64::MAX), Relaxed);
}

// `GlobalAlloc` is an unsafe trait: a counting allocator must implement it.
#[allow(unsafe_code)]
// SAFETY: every method forwards to `System` unchanged; the counting touches atomics only.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE_BLOCKS.fetch_add(1, Relaxed);
            ALLOCATIONS.fetch_add(1, Relaxed);
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE_BLOCKS.fetch_add(1, Relaxed);
            ALLOCATIONS.fetch_add(1, Relaxed);
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BLOCKS.fetch_sub(1, Relaxed);
        shrank(layout.size());
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            shrank(layout.size());
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const RATE: u32 = 48_000;
const PERIOD: u32 = 64;
/// Opens in all.
const OPENS: usize = 10_000;
/// Opens before the allocation count is taken as the reference (caches settle).
const WARM_UP: usize = 20;
/// Opens before the resident memory is taken as the reference.
const RSS_AFTER: usize = 1_000;
/// How much resident memory may grow from open `RSS_AFTER` to open `OPENS`: 9 000 opens
/// that kept 30 bytes each would pass it. (It grew by 4 to 8 KiB in the runs here.)
const RSS_SLACK: u64 = 256 * 1024;
/// Frames each stream runs: eight periods.
const FRAMES: u64 = 8 * PERIOD as u64;
/// The play: three periods of a constant from frame 10. The recording: two periods of the
/// input file from frame 100.
const PLAY: (u64, usize) = (10, 3 * PERIOD as usize);
const RECORD: (u64, usize) = (100, 2 * PERIOD as usize);

fn live() -> (i64, i64) {
    (LIVE_BLOCKS.load(Relaxed), LIVE_BYTES.load(Relaxed))
}

/// The process's resident memory, in bytes.
#[allow(unsafe_code)] // FFI: libc's sysconf, for the page size
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("statm's resident field");
    // SAFETY: sysconf takes a constant and touches no memory of ours.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page).unwrap_or(4096)
}

/// A file for a PCM, in memory where the system has a tmpfs: on a disk, the file PCM's
/// truncation of its output file at each open took 3 ms on a loaded machine, six times
/// the rest of the open (36 s for the 10 000 opens instead of 6 s).
fn temp(name: &str) -> PathBuf {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    dir.join(format!("rtmix-alsa-{}-{name}", std::process::id()))
}

fn device(pcm: &str, file: &Path) -> Config {
    Config::new(&format!("{pcm}:FILE={}", file.display()), RATE, 2)
        .period(PERIOD)
        .periods(2)
}

/// One open: a core stream, its PCMs, a play and a recording on the stream's thread, a
/// stop, and everything dropped. `input` is the input file's samples.
fn open_once(n: usize, out_path: &Path, in_path: &Path, input: &[f32]) {
    let (mut ctl, engine) = rtmix_core::open::<Vec<f32>, Vec<f32>>(
        StreamConfig::duplex(2, 2),
        StreamCapacity::default(),
    )
    .expect("the stream opens");
    let both = || ChannelMap::new(&[0, 1]).unwrap();
    let play = ctl
        .play(Play::new(vec![0.5; 2 * PLAY.1], both()).at(At::Frame(PLAY.0)))
        .unwrap();
    let rec = ctl
        .record(Record::new(vec![0.0; 2 * RECORD.1], both()).at(At::Frame(RECORD.0)))
        .unwrap();
    // Its own for each stream: a clone shares the stop flag.
    let control = || RunControl {
        stop_after: Some(FRAMES),
        ..RunControl::default()
    };
    let (output, input_config) = (
        device("rtmix_file", out_path),
        device("rtmix_infile", in_path),
    );
    // The completions come first, then the stop: the loop has moved at least the frames
    // of the recording and at most `FRAMES`, where it ends by itself.
    let ran = |frames| (RECORD.0 + RECORD.1 as u64..=FRAMES).contains(&frames);
    let (played, recorded) = if n.is_multiple_of(2) {
        let device = DuplexDevice::open(&output, &input_config).expect("the file PCMs open");
        let stream = AlsaStream::duplex(device, engine, control()).unwrap();
        let done = (ctl.wait(play), ctl.wait(rec));
        let report = stream.stop().expect("the duplex stream ran");
        assert!(ran(report.output.frames), "{report:?}");
        done
    } else {
        let playback = OutputDevice::open(&output).expect("the output file PCM opens");
        let capture = InputDevice::open(&input_config).expect("the input file PCM opens");
        let (out_engine, in_engine) = engine.split();
        let playing = AlsaStream::play(playback, out_engine, control()).unwrap();
        let recording = AlsaStream::record(capture, in_engine, control()).unwrap();
        let done = (ctl.wait(play), ctl.wait(rec));
        let recorded = recording.stop().expect("the capture ran");
        let played = playing.stop().expect("the playback ran");
        assert!(
            ran(recorded.frames) && ran(played.frames),
            "{played:?}, {recorded:?}"
        );
        done
    };
    let played = played.expect("the play completes");
    assert_eq!(
        (played.actual_start, played.frames, played.end),
        (Some(PLAY.0), PLAY.1 as u64, EndReason::Finished),
        "open {n}"
    );
    let recorded = recorded.expect("the recording completes");
    assert_eq!(
        (recorded.actual_start, recorded.end),
        (Some(RECORD.0), EndReason::Finished),
        "open {n}"
    );
    let from = 2 * RECORD.0 as usize;
    assert_eq!(
        recorded.into_recording().unwrap(),
        &input[from..from + 2 * RECORD.1],
        "open {n}"
    );
}

#[test]
fn ten_thousand_opens_free_every_allocation_and_keep_resident_memory_flat() {
    alsa_config();
    let (out_path, in_path) = (temp("open-close-out.raw"), temp("open-close-in.raw"));
    let input: Vec<f32> = (0..2 * FRAMES).map(|i| i as f32 / 4096.0).collect();
    std::fs::write(
        &in_path,
        input
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let began = Instant::now();
    let mut reference = None;
    let mut rss_reference = 0;
    // Room for every thousandth count, allocated before the reference is taken.
    let mut leaks = Vec::with_capacity(OPENS / 1000);
    for n in 0..OPENS {
        open_once(n, &out_path, &in_path, &input);
        let opened = n + 1;
        if opened == WARM_UP {
            reference = Some(live());
        }
        if opened == RSS_AFTER {
            rss_reference = rss();
        }
        if let Some(start) = reference {
            if opened.is_multiple_of(1000) && live() != start {
                leaks.push((opened, live()));
            }
        }
    }
    let elapsed = began.elapsed();
    let (start, end) = (reference.unwrap(), live());
    let rss_end = rss();
    // The last open's play reached its file: frames 10 to 201 on both channels.
    let written: Vec<f32> = std::fs::read(&out_path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let frames = written.len() / 2;
    assert!(
        frames >= PLAY.0 as usize + PLAY.1,
        "{frames} frames written"
    );
    for (f, frame) in written.chunks_exact(2).enumerate() {
        let playing = (PLAY.0 as usize..PLAY.0 as usize + PLAY.1).contains(&f);
        assert_eq!(frame, [if playing { 0.5 } else { 0.0 }; 2], "frame {f}");
    }
    let _ = std::fs::remove_file(&out_path);
    let _ = std::fs::remove_file(&in_path);
    // Printed after the measurements: the harness's output capture allocates.
    eprintln!(
        "{OPENS} opens in {elapsed:.1?} ({:?} each); {} allocations; live after open \
         {WARM_UP}: {} blocks, {} bytes; after open {OPENS}: {} blocks, {} bytes; resident \
         after open {RSS_AFTER}: {} KiB, after open {OPENS}: {} KiB",
        elapsed / u32::try_from(OPENS).unwrap(),
        ALLOCATIONS.load(Relaxed),
        start.0,
        start.1,
        end.0,
        end.1,
        rss_reference / 1024,
        rss_end / 1024,
    );
    assert!(
        leaks.is_empty(),
        "live (blocks, bytes) at thousandth opens differ from {start:?}: {leaks:?}"
    );
    assert_eq!(
        end, start,
        "blocks and bytes still live after {OPENS} opens"
    );
    assert!(
        rss_end <= rss_reference + RSS_SLACK,
        "resident memory grew by {} KiB from open {RSS_AFTER} to open {OPENS}",
        (rss_end - rss_reference) / 1024
    );
    assert!(elapsed < Duration::from_secs(600), "{elapsed:?}");
}

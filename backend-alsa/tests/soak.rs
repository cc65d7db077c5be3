//! The no-loss soak: a duplex stream on ALSA's jack PCM plays a signal into a private JACK
//! server's loopback ports and records what comes back, for a minute (or
//! `RTMIX_SOAK_SECONDS`), into a chunked ring-buffer recording that a deliberately slow
//! reader drains: it stalls for 1.5 s every 4 s, three times as long as the ring holds.
//!
//! What must hold, frame by frame:
//! * every input frame of the recording's window is accounted for, once: delivered to the
//!   reader, dropped because the ring was full (counted in `dropped`), or lost to a device
//!   xrun (counted in `frames_lost`); the gaps between the chunks' frame stamps are exactly
//!   the dropped and the lost frames;
//! * every delivered frame is bit for bit the frame played a fixed number of frames
//!   earlier (the round trip): the signal numbers each output frame in its sample values,
//!   so a frame delivered twice, out of order, from the wrong channel or altered is seen;
//! * without xruns there is one round trip for the whole run and no silence once the
//!   signal has arrived; each xrun may move it once.
//!
//! The ten-minute run: `RTMIX_SOAK_SECONDS=600 cargo test --release -p rtmix-alsa --test
//! soak -- --ignored --nocapture` (needs jackd installed; the test starts and stops its own
//! server).

mod common;

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::alsa_config;
use rtmix_alsa::{AlsaStream, Config, DuplexDevice, RunControl};
use rtmix_core::chunks::{self, Chunk, ChunkReader, ChunkSink};
use rtmix_core::{At, ChannelMap, EndReason, Late, Play, Queues, Record, Repeat, StreamConfig};
use rtmix_host_tests::jack_server::JackServer;

/// The private server's name: unique to this test binary.
const SERVER: &str = "rtmix-soak";
const RATE: u32 = 48_000;
/// The signal's length: output frame n plays frame `n % LOOP` of it.
const LOOP: u64 = 1 << 20;
/// Frame k of the signal is `(k + 1) * STEP` on channel 0 and its negative on channel 1:
/// every value is exact in `f32`, none is zero, and each names its frame.
const STEP: f32 = 1.0 / (1u32 << 21) as f32;
/// The ring between the engine and the reader: half a second.
const RING_FRAMES: usize = RATE as usize / 2;
/// The reader stalls this long every `READ_FOR`.
const STALL: Duration = Duration::from_millis(1500);
const READ_FOR: Duration = Duration::from_secs(4);

type Q = Queues<Vec<f32>, ChunkSink, 4, 4>;

fn seconds() -> u64 {
    std::env::var("RTMIX_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60)
}

/// The signal, interleaved stereo.
fn signal() -> Vec<f32> {
    (0..LOOP)
        .flat_map(|k| {
            let x = (k + 1) as f32 * STEP;
            [x, -x]
        })
        .collect()
}

/// What one captured frame holds.
#[derive(Debug, PartialEq)]
enum Heard {
    Silence,
    /// Frame k of the signal, on the right channels.
    Signal(u64),
    /// Anything else.
    Corrupt,
}

fn heard(left: f32, right: f32) -> Heard {
    if left == 0.0 && right == 0.0 {
        return Heard::Silence;
    }
    let k = left / STEP;
    if right == -left && k.fract() == 0.0 && (1.0..=LOOP as f32).contains(&k) {
        Heard::Signal(k as u64 - 1)
    } else {
        Heard::Corrupt
    }
}

/// What the reader saw.
#[derive(Debug, Default)]
struct Tally {
    chunks: u64,
    delivered: u64,
    /// Frames missing between chunks (and before the first).
    gaps: u64,
    /// The frame after the last chunk.
    next: u64,
    silent_before: u64,
    silent_after: u64,
    corrupt: u64,
    /// Each change of the round trip (modulo the loop): (input frame, round trip).
    round_trips: Vec<(u64, u64)>,
    stalls: u32,
}

impl Tally {
    fn take(&mut self, chunk: &Chunk) {
        assert!(
            chunk.frame >= self.next,
            "chunk at {} overlaps or repeats frames before {}",
            chunk.frame,
            self.next
        );
        self.chunks += 1;
        self.gaps += chunk.frame - self.next;
        for (i, frame) in chunk.samples.chunks_exact(2).enumerate() {
            let m = chunk.frame + i as u64;
            match heard(frame[0], frame[1]) {
                Heard::Silence if self.round_trips.is_empty() => self.silent_before += 1,
                Heard::Silence => self.silent_after += 1,
                Heard::Signal(k) => {
                    let round_trip = (m % LOOP + LOOP - k) % LOOP;
                    if self.round_trips.last().map(|r| r.1) != Some(round_trip) {
                        self.round_trips.push((m, round_trip));
                    }
                }
                Heard::Corrupt => self.corrupt += 1,
            }
        }
        self.delivered += chunk.frames();
        self.next = chunk.frame + chunk.frames();
    }
}

/// Drains `reader` until the recording has ended, stalling `STALL` every `READ_FOR`.
fn slow_reader(mut reader: ChunkReader) -> JoinHandle<Tally> {
    std::thread::spawn(move || {
        let mut tally = Tally::default();
        let mut reading = Instant::now();
        loop {
            if reading.elapsed() >= READ_FOR {
                std::thread::sleep(STALL);
                tally.stalls += 1;
                reading = Instant::now();
            }
            match reader.try_next() {
                Some(chunk) => tally.take(&chunk),
                None if reader.is_finished() => return tally,
                None => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    })
}

#[test]
#[ignore = "needs jackd installed; runs a minute (run by .ci/run with --ignored)"]
fn a_slow_reader_loses_no_frame_unaccounted_and_hears_exactly_what_was_played() {
    alsa_config();
    std::env::set_var("JACK_DEFAULT_SERVER", SERVER);
    let _server = JackServer::start(SERVER).expect("a private jackd starts");
    let config = Config::new("rtmix_jack", RATE, 2).period(1024).periods(3);
    let device = DuplexDevice::open(&config, &config).expect("the jack PCM opens both ways");
    let q: &'static mut Q = Box::leak(Box::default());
    let (mut ctl, engine) = q.split(StreamConfig::duplex(2, 2)).unwrap();
    let both = || ChannelMap::new(&[0, 1]).unwrap();

    let window = seconds() * u64::from(RATE);
    let play = ctl
        .play(
            Play::new(signal(), both())
                .repeat(Repeat::Forever)
                .at(At::Frame(0)),
        )
        .unwrap();
    let (sink, reader) = chunks::channel(2, RING_FRAMES, 1024);
    let rec = ctl
        .record(Record::new(sink, both()).at(At::Frame(0)))
        .unwrap();
    ctl.cancel(rec, At::Frame(window), Late::Skip).unwrap();
    let reader = slow_reader(reader);

    let control = RunControl {
        // A second more output than the window: the input may start a few periods late.
        stop_after: Some(window + u64::from(RATE)),
        ..RunControl::default()
    };
    let stream = AlsaStream::duplex(device, engine, control).unwrap();
    let report = stream.join().expect("the stream ran to its end");
    let played = ctl.take(play).expect("the play completed");
    assert_eq!(played.end, EndReason::StreamStopped);
    let done = ctl.take(rec).expect("the recording completed");
    let (frames, dropped, lost) = (done.frames, done.stats.dropped, done.stats.frames_lost);
    let xruns = report.output.xruns + report.input.xruns;
    assert_eq!(done.end, EndReason::Cancelled { at: window });
    assert_eq!(done.actual_start, Some(0));
    drop(done); // drops the sink: the reader sees the end
    let tally = reader.join().expect("the reader ran to the end");
    eprintln!(
        "soak {} s: {window} input frames; delivered {} in {} chunks, dropped {dropped} \
         (ring full, {} reader stalls), lost {lost} to {xruns} xruns ({report:?}); \
         round trips {:?}; silence {} before the signal, {} after; corrupt {}",
        seconds(),
        tally.delivered,
        tally.chunks,
        tally.stalls,
        tally.round_trips,
        tally.silent_before,
        tally.silent_after,
        tally.corrupt,
    );

    // Every frame of the window, once: delivered, dropped or lost, and nothing else.
    assert_eq!(
        frames + lost,
        window,
        "recorded and lost frames cover the window"
    );
    assert_eq!(
        tally.delivered,
        frames - dropped,
        "delivered = recorded - dropped"
    );
    assert_eq!(
        tally.gaps + (window - tally.next),
        dropped + lost,
        "the gaps are exactly the dropped and lost frames"
    );
    assert!(dropped > 0, "the reader was never too slow: nothing tested");
    assert!(tally.delivered >= window / 2, "too little was delivered");

    // What was delivered is what was played, a round trip earlier.
    assert_eq!(tally.corrupt, 0, "frames that are not what was played");
    let (_, round_trip) = *tally.round_trips.first().expect("the signal came back");
    // Signed: an input that started late hears output frames from before its frame 0.
    let round_trip = if round_trip > LOOP / 2 {
        round_trip.cast_signed() - LOOP.cast_signed()
    } else {
        round_trip.cast_signed()
    };
    assert!(
        round_trip.abs() < 16 * 1024,
        "round trip {round_trip} frames: beyond the buffers"
    );
    if xruns == 0 {
        assert_eq!(tally.round_trips.len(), 1, "the round trip moved");
        assert_eq!(tally.silent_after, 0, "silence after the signal arrived");
    } else {
        assert!(
            tally.round_trips.len() as u64 <= 1 + xruns,
            "the round trip moved more often than there were xruns"
        );
    }
}

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
//! * every delivered sample is bit for bit the sample played on its channel a whole
//!   number of device periods earlier, within the buffers, and most were played exactly
//!   the loopback's one period earlier: the signal numbers each output frame in its sample
//!   values, so a sample delivered from the wrong frame (one frame lost or repeated
//!   unaccounted shifts every later one), from the wrong channel or altered is seen;
//! * there is no silence once the signal has arrived.
//!
//! "Whole periods" and "no silence" need a run without xruns (an xrun leaves a gap of
//! silence in the device timeline, and the round trips after it are off by the error of
//! the lost-frame estimate, less than a period): a run with one checks the rest, is
//! reported and run again, and the test fails if every one of its three runs had one.
//!
//! Why "a whole number of periods" and not one fixed round trip: the rig itself moves it.
//! The jack PCM's playback and capture are two JACK clients, and the dummy server's
//! loopback now and then hands the capture client the period played in the same cycle
//! instead of the one before (round trip 0 instead of 1024: one period heard twice, the
//! one before it never), sometimes for only part of a period on one channel: 52 moves in
//! 10 minutes on a quiet machine, 46 to 122 in the 60 s of a CI run (where two servers run
//! at realtime priority). Every sample is still one played a whole number of periods
//! earlier, and the test reports how often the round trip moved.
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
use rtmix_core::{
    At, ChannelMap, EndReason, Late, Play, Record, Repeat, StreamCapacity, StreamConfig,
};
use rtmix_host_tests::jack_server::JackServer;

/// The private server's name: unique to this test binary.
const SERVER: &str = "rtmix-soak";
const RATE: u32 = 48_000;
/// The signal's length: output frame n plays frame `n % LOOP` of it.
const LOOP: u64 = 1 << 20;
/// The device period, in frames: JACK's.
const PERIOD: u64 = 1024;
/// Frame k of the signal is `(k + 1) * STEP` on channel 0 and its negative on channel 1:
/// every value is exact in `f32`, none is zero, and each names its frame.
const STEP: f32 = 1.0 / (1u32 << 21) as f32;
/// The ring between the engine and the reader: half a second.
const RING_FRAMES: usize = RATE as usize / 2;
/// The reader stalls this long every `READ_FOR`.
const STALL: Duration = Duration::from_millis(1500);
const READ_FOR: Duration = Duration::from_secs(4);
/// The stream's storage: a play, a recording and its cancel are all it holds.
const CAPACITY: StreamCapacity = StreamCapacity {
    actions: 4,
    commands: 3,
    completions: 4,
};

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

/// What one captured sample holds.
#[derive(Debug, PartialEq)]
enum Heard {
    Silence,
    /// Frame k of the signal, as played on this channel.
    Signal(u64),
    /// Anything else.
    Corrupt,
}

/// Channel 0 carries the signal, channel 1 its negative.
fn heard(sample: f32, channel: usize) -> Heard {
    if sample == 0.0 {
        return Heard::Silence;
    }
    let k = if channel == 0 { sample } else { -sample } / STEP;
    if k.fract() == 0.0 && (1.0..=LOOP as f32).contains(&k) {
        Heard::Signal(k as u64 - 1)
    } else {
        Heard::Corrupt
    }
}

/// What one channel of the recording held.
#[derive(Debug, Default)]
struct Channel {
    /// The last input frame seen, and its round trip.
    last: Option<(u64, u64)>,
    /// Each change of the round trip (modulo the loop): (input frame, round trip).
    round_trips: Vec<(u64, u64)>,
    /// Changes of the round trip inside a device period (between two frames of one).
    inside_a_period: u64,
    /// Frames heard at each round trip (modulo the loop).
    frames_at: std::collections::BTreeMap<u64, u64>,
    silent_before: u64,
    silent_after: u64,
    corrupt: u64,
    /// The first few corrupt samples: (input frame, value).
    first_corrupt: Vec<(u64, f32)>,
}

impl Channel {
    fn take(&mut self, m: u64, sample: f32, channel: usize) {
        match heard(sample, channel) {
            Heard::Silence if self.round_trips.is_empty() => self.silent_before += 1,
            Heard::Silence => self.silent_after += 1,
            Heard::Signal(k) => {
                let round_trip = (m % LOOP + LOOP - k) % LOOP;
                match self.last {
                    Some((_, r)) if r == round_trip => {}
                    Some((prev, _)) if prev / PERIOD == m / PERIOD => {
                        self.inside_a_period += 1;
                        self.round_trips.push((m, round_trip));
                    }
                    _ => self.round_trips.push((m, round_trip)),
                }
                self.last = Some((m, round_trip));
                *self.frames_at.entry(round_trip).or_default() += 1;
            }
            Heard::Corrupt => {
                self.corrupt += 1;
                if self.first_corrupt.len() < 8 {
                    self.first_corrupt.push((m, sample));
                }
            }
        }
    }

    /// The round trips heard, signed (an input that started late hears output frames from
    /// before its frame 0), with the frames heard at each.
    fn round_trips(&self) -> Vec<(i64, u64)> {
        self.frames_at
            .iter()
            .map(|(&r, &n)| {
                let signed = if r > LOOP / 2 {
                    r.cast_signed() - LOOP.cast_signed()
                } else {
                    r.cast_signed()
                };
                (signed, n)
            })
            .collect()
    }
}

impl Channel {
    fn summary(&self) -> String {
        format!(
            "(round trip, frames) {:?}, {} changes ({} inside a period), the first at {:?}; \
             silence {} before the signal, {} after; corrupt {} {:?}",
            self.round_trips(),
            self.round_trips.len().saturating_sub(1),
            self.inside_a_period,
            self.round_trips.iter().take(6).collect::<Vec<_>>(),
            self.silent_before,
            self.silent_after,
            self.corrupt,
            self.first_corrupt,
        )
    }

    /// Every sample is one the channel played (none corrupt) and most were played exactly
    /// the loopback's one period earlier; with `whole` (a run without xruns), every one
    /// was played a whole number of periods earlier, within the buffers, and there is no
    /// silence once the signal has arrived.
    fn check(&self, c: usize, whole: bool) {
        assert_eq!(self.corrupt, 0, "channel {c}: samples never played");
        let round_trips = self.round_trips();
        let period = PERIOD.cast_signed();
        let (most, _) = *round_trips
            .iter()
            .max_by_key(|&&(_, n)| n)
            .unwrap_or_else(|| panic!("channel {c}: the signal never came back"));
        assert_eq!(most, period, "channel {c}: the loopback's round trip");
        if !whole {
            return;
        }
        for &(r, _) in &round_trips {
            assert!(
                r % period == 0 && r.abs() < 16 * period,
                "channel {c}: a round trip of {r} frames is not whole periods within the buffers"
            );
        }
        assert_eq!(
            self.silent_after, 0,
            "channel {c}: silence after the signal arrived"
        );
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
    channels: [Channel; 2],
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
            for (c, channel) in self.channels.iter_mut().enumerate() {
                channel.take(m, frame[c], c);
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

/// How many soak runs may be tried: a run with an xrun cannot check the content (the
/// device timeline has a gap of the frames lost, estimated to within a period, so the
/// round trips after it are no longer whole periods, and the gap is silence), so it is
/// run again; every run checks the accounting.
const ATTEMPTS: usize = 3;

#[test]
#[ignore = "needs jackd installed; runs a minute (run by .ci/run with --ignored)"]
fn a_slow_reader_loses_no_frame_unaccounted_and_hears_exactly_what_was_played() {
    alsa_config();
    std::env::set_var("JACK_DEFAULT_SERVER", SERVER);
    let _server = JackServer::start(SERVER).expect("a private jackd starts");
    let mut skipped = Vec::new();
    while let Err(why) = soak_once() {
        eprintln!("soak run {}: content not checked: {why}", skipped.len() + 1);
        skipped.push(why);
        assert!(
            skipped.len() < ATTEMPTS,
            "every soak run had an xrun, the content was never checked: {skipped:?}"
        );
    }
}

/// One soak run: asserts the accounting; `Err` (why) when an xrun kept it from checking
/// the content.
fn soak_once() -> Result<(), String> {
    let config = Config::new("rtmix_jack", RATE, 2)
        .period(PERIOD as u32)
        .periods(3);
    let device = DuplexDevice::open(&config, &config).expect("the jack PCM opens both ways");
    let (mut ctl, engine) =
        rtmix_core::open::<Vec<f32>, ChunkSink>(StreamConfig::duplex(2, 2), CAPACITY).unwrap();
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
         (ring full, {} reader stalls), lost {lost} to {xruns} xruns ({report:?})",
        seconds(),
        tally.delivered,
        tally.chunks,
        tally.stalls,
    );
    for (c, channel) in tally.channels.iter().enumerate() {
        eprintln!("channel {c}: {}", channel.summary());
    }

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

    // What was delivered is what was played on that channel, a whole number of device
    // periods earlier.
    for (c, channel) in tally.channels.iter().enumerate() {
        channel.check(c, xruns == 0);
    }
    if xruns > 0 {
        return Err(format!(
            "{xruns} xruns ({} output and {} input frames lost)",
            report.output.frames_lost_estimate, report.input.frames_lost_estimate
        ));
    }
    Ok(())
}

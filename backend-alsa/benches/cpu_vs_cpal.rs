//! CPU time per second of audio: rtmix-alsa (alsa-lib mmap, its own realtime thread)
//! against cpal's ALSA host (read/write access, cpal's thread), playing the same mix with
//! the same rtmix engine, the same period, to the same paced PCM, in one run.
//!
//! ```sh
//! # needs jackd: jackd -R -L 2 -d dummy -r 48000 -p 1024
//! cargo bench -p rtmix-alsa --bench cpu_vs_cpal -- [SECONDS] [VOICES]
//! ```
//!
//! Both paths play `VOICES` looping stereo voices (default 16) for `SECONDS` (default 5)
//! to the `rtmix_jack` PCM of fixtures/alsa/rtmix.conf, four rounds alternating A, B, B, A
//! so that a machine getting busier or quieter does not favour one. Two CPU times are
//! taken: the whole process's from opening the device to closing it
//! (`getrusage(RUSAGE_SELF)`, user + system, so it includes the ALSA jack plugin's own
//! client thread), and the audio thread's alone (`CLOCK_THREAD_CPUTIME_ID`: rtmix-alsa's
//! loop from start to end, cpal's callback thread from its first callback to its last).
//! The ratios are what compare; the absolute figures move with the machine's load.

// CPU clocks only go forward.
#![allow(clippy::unchecked_time_subtraction)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use rtmix_alsa::{Config, OutputDevice, RunControl};
use rtmix_core::{At, ChannelMap, Heap, OutputEngine, Play, Repeat, StreamCapacity, StreamConfig};

const RATE: u32 = 48_000;
const PERIOD: u32 = 1024;
const PCM: &str = "rtmix_jack";

/// The calling thread's CPU time.
#[allow(unsafe_code)] // FFI: libc's clock_gettime
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is valid and writable for the call.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    Duration::from_secs(u64::try_from(ts.tv_sec).unwrap_or(0))
        + Duration::from_nanos(u64::try_from(ts.tv_nsec).unwrap_or(0))
}

/// The whole process's CPU time, user and system.
#[allow(unsafe_code)] // FFI: libc's getrusage
fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the whole rusage behind the pointer, which is valid and
    // writable for the call; it was zeroed, so it is initialised either way.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let tv = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// An output engine with `voices` looping stereo voices of different lengths.
fn engine(voices: usize) -> OutputEngine<Vec<f32>, Heap> {
    // Room for every voice (and a cancel), all queued before the engine runs.
    let capacity = StreamCapacity {
        actions: voices + 1,
        commands: voices.max(1),
        ..StreamCapacity::default()
    };
    let (mut ctl, engine) =
        rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(2), capacity).unwrap();
    for v in 0..voices {
        let frames = 4_800 + 37 * v;
        let buffer: Vec<f32> = (0..2 * frames)
            .map(|i| ((i * (v + 3)) % 200) as f32 / 2_000.0 - 0.05)
            .collect();
        let play = Play::new(buffer, ChannelMap::new(&[0, 1]).unwrap())
            .at(At::Frame(0))
            .gain(0.5)
            .repeat(Repeat::Forever);
        ctl.play(play).unwrap();
    }
    // The controller goes: nothing more is scheduled, the voices loop on.
    let (output, _) = engine.split();
    output
}

/// What one path cost: process CPU, the audio thread's CPU, frames played.
struct Cost {
    process: Duration,
    thread: Duration,
    frames: u64,
}

fn alsa_path(frames: u64, voices: usize) -> Cost {
    let mut engine = engine(voices);
    let control = RunControl {
        stop_after: Some(frames),
        ..RunControl::default()
    };
    // From opening the device to closing it, as for cpal below.
    let before = cpu_time();
    let mut device =
        OutputDevice::open(&Config::new(PCM, RATE, 2).period(PERIOD).periods(3)).unwrap();
    // The loop on a thread of our own (as `AlsaStream` runs it, without asking for
    // realtime priority), so that thread's CPU time is the loop's.
    let (report, thread) = std::thread::spawn(move || {
        let start = thread_cpu_time();
        let report = device.run(&mut engine, &control).unwrap();
        (report, thread_cpu_time() - start)
    })
    .join()
    .unwrap();
    Cost {
        process: cpu_time() - before,
        thread,
        frames: report.frames,
    }
}

fn cpal_path(frames: u64, voices: usize) -> Cost {
    let host = cpal::host_from_id(cpal::HostId::Alsa).unwrap();
    let device = host
        .output_devices()
        .unwrap()
        .find(|d| d.id().is_ok_and(|id| id.id() == PCM))
        .expect("cpal lists the rtmix_jack PCM");
    let config = cpal::StreamConfig {
        channels: 2,
        sample_rate: RATE,
        buffer_size: cpal::BufferSize::Fixed(PERIOD),
    };
    let mut engine = engine(voices);
    let done = Arc::new(AtomicU64::new(0));
    let counter = done.clone();
    // The callback thread's CPU time from its first callback to its latest.
    let thread_nanos = Arc::new(AtomicU64::new(0));
    let spent = thread_nanos.clone();
    let mut first = None;
    let before = cpu_time();
    let stream = device
        .build_output_stream(
            config,
            move |data: &mut [f32], _: &cpal::OutputCallbackInfo| {
                let now = thread_cpu_time();
                let start = *first.get_or_insert(now);
                engine.process(data);
                counter.fetch_add(data.len() as u64 / 2, Ordering::Relaxed);
                let nanos = (thread_cpu_time() - start).as_nanos();
                spent.store(u64::try_from(nanos).unwrap_or(u64::MAX), Ordering::Relaxed);
            },
            |e| eprintln!("cpal: {e}"),
            None,
        )
        .unwrap();
    stream.play().unwrap();
    let started = Instant::now();
    while done.load(Ordering::Relaxed) < frames && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(stream);
    Cost {
        process: cpu_time() - before,
        thread: Duration::from_nanos(thread_nanos.load(Ordering::Relaxed)),
        frames: done.load(Ordering::Relaxed),
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let seconds: u64 = args.first().and_then(|s| s.parse().ok()).unwrap_or(5);
    let voices: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(16);
    let frames = seconds * u64::from(RATE);
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/alsa/rtmix.conf");
    std::env::set_var(
        "ALSA_CONFIG_PATH",
        format!("/usr/share/alsa/alsa.conf:{config}"),
    );

    let mut totals = [(Duration::ZERO, Duration::ZERO, 0u64); 2];
    for round in 0..4 {
        // A B B A: rtmix-alsa first in rounds 0 and 3.
        let order = if round % 3 == 0 { [0, 1] } else { [1, 0] };
        for path in order {
            let cost = if path == 0 {
                alsa_path(frames, voices)
            } else {
                cpal_path(frames, voices)
            };
            let name = ["rtmix-alsa (mmap)", "cpal ALSA host (writei)"][path];
            println!(
                "round {round}: {name:<24} {:>8} frames, process {:>7.1} ms, audio thread {:>7.1} ms",
                cost.frames,
                cost.process.as_secs_f64() * 1e3,
                cost.thread.as_secs_f64() * 1e3
            );
            totals[path].0 += cost.process;
            totals[path].1 += cost.thread;
            totals[path].2 += cost.frames;
        }
    }
    let per_second =
        |cpu: Duration, played: u64| cpu.as_secs_f64() * 1e3 / (played as f64 / f64::from(RATE));
    println!("{voices} voices, period {PERIOD}, {seconds} s x 4 rounds per path");
    println!("ms of CPU per second of audio:   process   audio thread");
    let mut rows = [(0.0, 0.0); 2];
    for (path, name) in ["rtmix-alsa", "cpal ALSA host"].iter().enumerate() {
        let (process, thread, played) = totals[path];
        rows[path] = (per_second(process, played), per_second(thread, played));
        println!("{name:<32} {:>8.2} {:>12.2}", rows[path].0, rows[path].1);
    }
    println!(
        "ratio rtmix-alsa / cpal:         {:>8.2} {:>12.2}",
        rows[0].0 / rows[1].0,
        rows[0].1 / rows[1].1
    );
}

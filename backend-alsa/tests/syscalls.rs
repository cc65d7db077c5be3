//! A system-call audit of the audio thread in steady state (issue 16, item 4): only calls
//! that neither block on another thread nor allocate, sleep or do I/O beyond the device.
//!
//! Each test starts a stream (playback, capture or duplex; `SCHED_FIFO` as by default),
//! waits until the loop has moved 8 periods (its clock's anchors, not a fixed sleep),
//! then attaches `strace -p TID` to the audio thread alone (`AlsaStream::thread_id`),
//! waits for strace to say it is attached, and keeps it there while the control side
//! submits 10 short actions one after the other, each waited for (`Controller::wait`: the
//! audio thread wakes the waiting controller), and the loop moves at least 16 more
//! periods. Then strace is interrupted (it detaches) before the stream is stopped, so the
//! stop's own calls (draining, closing) are not in the audit.
//!
//! Allowed: `poll`/`ppoll` (waiting for the device), `ioctl` with an ALSA PCM request,
//! `read` of at most 32 bytes from a non-blocking file (the `jack` plugin drains its
//! wake-up socket so: `read(fd, buf, 32) = 1`; the test looks up each such file's
//! `O_NONBLOCK` in /proc/self/fdinfo while the stream still runs), `futex` wakes (a
//! `FUTEX_WAKE*`: the controller's unpark), clock reads (normally in the vDSO, so
//! never seen), and `restart_syscall` resuming a `poll` or `read` that strace's attach
//! caught. Anything else fails the audit: an allocation reaching the kernel (`mmap`,
//! `munmap`, `brk`, `madvise`), a sleep (`nanosleep`, `clock_nanosleep`), a futex wait (a
//! lock taken against another thread), a `write`, an `openat`.
//!
//! The negative test plays a source that sleeps, allocates 64 MiB and writes a byte to
//! /dev/null on each read: the audit must see `clock_nanosleep`, `mmap`, `munmap` and
//! `write`, and fail.
//!
//! `#[ignore]`d: they need `strace` (and the `jack_*` ones `jackd`; they start a private
//! server, `rtmix-audit`, and kill it by its PID). Run them with
//! `cargo test -p rtmix-alsa --test syscalls -- --ignored --test-threads=1`.

#![allow(unsafe_code)] // FFI: libc kill, to end strace

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::alsa_config;
use rtmix_alsa::{AlsaStream, Config, DuplexDevice, InputDevice, OutputDevice, RunControl};
use rtmix_core::{
    At, ChannelMap, Controller, Feed, Heap, Play, PlaySource, Record, SampleSource, StreamCapacity,
    StreamConfig,
};
use rtmix_host_tests::jack_server::JackServer;

/// How long anything is waited for before it is taken for hung.
const HANG: Duration = Duration::from_secs(30);
/// Periods the loop moves before strace attaches, and at least while it is attached.
const WARM_UP: u64 = 8;
const WINDOW: u64 = 16;
/// Actions submitted and waited for while strace is attached.
const ACTIONS: usize = 10;
/// The private JACK server of the `jack_*` tests.
const SERVER: &str = "rtmix-audit";

/// A source that does what an audio thread must not: sleeps, allocates (64 MiB, which
/// glibc maps and unmaps), and writes to a file.
#[derive(Debug)]
struct Misbehaving {
    sink: std::fs::File,
}

impl SampleSource for Misbehaving {
    fn available(&self) -> usize {
        usize::MAX / 2
    }

    fn read(&mut self, out: &mut [f32]) -> usize {
        std::thread::sleep(Duration::from_micros(100));
        // Above glibc's largest mmap threshold (32 MiB): always mapped, then unmapped.
        let block = std::hint::black_box(Vec::<u8>::with_capacity(64 << 20));
        let _ = self.sink.write_all(&[u8::from(block.capacity() > 0)]);
        out.fill(0.0);
        out.len()
    }
}

impl PlaySource for Misbehaving {
    fn buffer(&self) -> Option<&[f32]> {
        None
    }

    fn source(&mut self) -> Option<&mut dyn SampleSource> {
        Some(self)
    }
}

type Source = Feed<Vec<f32>, Misbehaving>;
type Ctl = Controller<Source, Vec<f32>, Heap>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Play,
    Record,
    Duplex,
}

/// What strace saw the audio thread call.
#[derive(Debug, Default)]
struct Audit {
    /// Calls by name.
    calls: BTreeMap<String, usize>,
    /// The calls outside the allowed set, as strace printed them (the first of each name).
    forbidden: BTreeMap<String, String>,
    /// The files the thread read from.
    read_fds: Vec<i32>,
}

/// Whether the audio thread may make the call strace printed as `line`.
fn allowed(name: &str, line: &str) -> bool {
    match name {
        "poll" | "ppoll" | "clock_gettime" | "clock_gettime64" | "gettimeofday" => true,
        "ioctl" => line.contains("SNDRV_PCM_IOCTL"),
        "futex" => line.contains("FUTEX_WAKE"),
        // A call strace's attach interrupted, resumed: allowed if that call is.
        "restart_syscall" => line
            .split("resuming interrupted ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .is_some_and(|resumed| matches!(resumed, "poll" | "ppoll" | "read")),
        // `read(fd, "...", count) = n`: the count is the last argument. (That its file is
        // non-blocking is checked apart, while the stream still runs.)
        "read" => line
            .rsplit_once(" = ")
            .and_then(|(call, _)| call.trim_end().strip_suffix(')'))
            .and_then(|call| call.rsplit(", ").next())
            .and_then(|count| count.trim().parse::<u64>().ok())
            .is_some_and(|count| count <= 32),
        _ => false,
    }
}

fn parse(trace: &str) -> Audit {
    let mut audit = Audit::default();
    let mut detached_reads = Vec::new();
    for line in trace.lines() {
        // Signals (`--- SIG... ---`), exits (`+++ ... +++`) and the second half of an
        // interrupted call (`<... poll resumed>`) are not calls of their own.
        if line.starts_with("---") || line.starts_with("+++") || line.starts_with("<...") {
            continue;
        }
        let Some(name) = line.split('(').next().filter(|n| !n.is_empty()) else {
            continue;
        };
        *audit.calls.entry(name.to_owned()).or_default() += 1;
        if name == "read" {
            let fd = line["read(".len()..].split(',').next();
            if let Some(fd) = fd.and_then(|fd| fd.parse().ok()) {
                if !audit.read_fds.contains(&fd) {
                    audit.read_fds.push(fd);
                }
            }
        }
        // A read strace detached from before it returned shows its file but not its
        // count: allowed once the same file has been read with an allowed count.
        if name == "read" && line.trim_end().ends_with("<detached ...>") {
            detached_reads.push(line);
            continue;
        }
        if !allowed(name, line) {
            audit
                .forbidden
                .entry(name.to_owned())
                .or_insert_with(|| line.to_owned());
        }
    }
    for line in detached_reads {
        let counted = trace.lines().any(|other| {
            other != line
                && other.starts_with(line.trim_end_matches("<detached ...>").trim_end())
                && allowed("read", other)
        });
        if !counted {
            audit
                .forbidden
                .entry("read".to_owned())
                .or_insert_with(|| line.to_owned());
        }
    }
    audit
}

fn both() -> ChannelMap {
    ChannelMap::new(&[0, 1]).unwrap()
}

/// Waits until `stream`'s loop has moved `frames` frames (its clock's anchors).
fn wait_for_frames<R: Send + 'static>(stream: &AlsaStream<R>, frames: u64) {
    let began = Instant::now();
    let clock = stream.clock();
    while clock.anchor().is_none_or(|a| a.next_frame < frames) {
        assert!(!stream.is_finished(), "the loop ended early");
        assert!(
            began.elapsed() < HANG,
            "the loop did not reach frame {frames}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Attaches strace to thread `tid` (output in `file`); returns once it is attached.
fn attach(tid: i32, file: &PathBuf) -> std::process::Child {
    let mut strace = Command::new("strace")
        .args(["-p", &tid.to_string(), "-o"])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("strace is installed");
    let stderr = strace.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    loop {
        match rx.recv_timeout(HANG) {
            Ok(line) if line.contains("attached") => return strace,
            Ok(line) => eprintln!("strace: {line}"),
            Err(e) => panic!("strace did not attach to thread {tid}: {e}"),
        }
    }
}

/// Interrupts strace (it detaches from the thread) and reaps it.
fn detach(mut strace: std::process::Child) {
    let pid = i32::try_from(strace.id()).unwrap();
    // SAFETY: a signal to the strace process this test started, by its PID.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let _ = strace.wait();
}

/// Runs a `kind` stream on `pcm`, audits its audio thread in steady state (see the
/// module's documentation), stops it, and returns what the audit saw. `misbehave` adds a
/// play of the [`Misbehaving`] source.
fn audit(kind: Kind, pcm: &Config, misbehave: bool) -> Audit {
    alsa_config();
    let (mut ctl, engine) =
        rtmix_core::open::<Source, Vec<f32>>(StreamConfig::duplex(2, 2), StreamCapacity::default())
            .unwrap();
    // Work for the engine in steady state: a long play and a long recording.
    if kind != Kind::Record {
        ctl.play(Play::new(Feed::Buffer(vec![0.25; 2 * 480_000]), both()).at(At::Frame(0)))
            .unwrap();
    }
    if kind != Kind::Play {
        ctl.record(Record::new(vec![0.0; 2 * 480_000], both()).at(At::Frame(0)))
            .unwrap();
    }
    if misbehave {
        let sink = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .unwrap();
        ctl.play(Play::new(Feed::Stream(Misbehaving { sink }), both()).at(At::Frame(0)))
            .unwrap();
    }
    let control = RunControl::default();
    match kind {
        Kind::Play => {
            let device = OutputDevice::open(pcm).expect("the PCM opens for playback");
            let stream = AlsaStream::play(device, engine.split().0, control).unwrap();
            window(&mut ctl, kind, stream)
        }
        Kind::Record => {
            let device = InputDevice::open(pcm).expect("the PCM opens for capture");
            let stream = AlsaStream::record(device, engine.split().1, control).unwrap();
            window(&mut ctl, kind, stream)
        }
        Kind::Duplex => {
            let device = DuplexDevice::open(pcm, pcm).expect("the PCMs open");
            let stream = AlsaStream::duplex(device, engine, control).unwrap();
            window(&mut ctl, kind, stream)
        }
    }
}

/// The audit of a running `stream`.
fn window<R: Send + std::fmt::Debug + 'static>(
    ctl: &mut Ctl,
    kind: Kind,
    stream: AlsaStream<R>,
) -> Audit {
    let realtime = stream.wait_realtime(HANG).expect("the thread started");
    let tid = stream.thread_id().unwrap();
    let period = u64::from(stream.granted().period.unwrap());
    wait_for_frames(&stream, WARM_UP * period);
    let file = std::env::temp_dir().join(format!(
        "rtmix-alsa-{}-strace-{tid}.txt",
        std::process::id()
    ));
    let strace = attach(tid, &file);
    let from = stream.clock().anchor().map_or(0, |a| a.next_frame);
    for _ in 0..ACTIONS {
        let id = if kind == Kind::Record {
            ctl.record(Record::new(vec![0.0; 2 * 16], both())).unwrap()
        } else {
            ctl.play(Play::new(Feed::Buffer(vec![0.125; 2 * 16]), both()))
                .unwrap()
        };
        let done = ctl.wait_timeout(id, HANG).unwrap();
        assert!(done.is_some(), "an action did not complete");
    }
    wait_for_frames(&stream, from + WINDOW * period);
    let to = stream.clock().anchor().map_or(0, |a| a.next_frame);
    detach(strace);
    let trace = std::fs::read_to_string(&file).expect("strace's output");
    let _ = std::fs::remove_file(&file);
    let mut audit = parse(&trace);
    // The files read from, while they are still open: a blocking one is forbidden.
    for &fd in &audit.read_fds {
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
        let flags = info
            .lines()
            .find_map(|l| l.strip_prefix("flags:"))
            .and_then(|f| i32::from_str_radix(f.trim(), 8).ok())
            .expect("the file's flags");
        if flags & libc::O_NONBLOCK == 0 {
            audit
                .forbidden
                .insert(format!("read({fd})"), format!("fd {fd} blocks: {info}"));
        }
    }
    let report = stream.stop().expect("the stream ran");
    eprintln!(
        "{kind:?}, thread {tid} ({realtime:?}), frames {from} to {to} under strace: \
         {:?} (read from non-blocking fds {:?}); forbidden: {:?}; {report:?}",
        audit.calls, audit.read_fds, audit.forbidden
    );
    audit
}

fn null() -> Config {
    Config::new("null", 48_000, 2).period(256).periods(2)
}

fn jack() -> Config {
    Config::new("rtmix_jack", 48_000, 2).period(1024).periods(3)
}

/// A private JACK server (`rtmix-audit`), killed by its PID when dropped; the CI's server,
/// under the default name, is left alone.
fn jack_server() -> JackServer {
    std::env::set_var("JACK_DEFAULT_SERVER", SERVER);
    JackServer::start(SERVER).expect("a private jackd starts")
}

#[test]
#[ignore = "needs strace (run by .ci/test with --ignored)"]
fn null_pcm_audio_threads_make_only_allowed_calls_in_steady_state() {
    for kind in [Kind::Play, Kind::Record, Kind::Duplex] {
        let audit = audit(kind, &null(), false);
        assert!(
            audit.forbidden.is_empty(),
            "{kind:?}: {:?}",
            audit.forbidden
        );
    }
}

#[test]
#[ignore = "needs strace (run by .ci/test with --ignored)"]
fn the_audit_catches_a_source_that_sleeps_allocates_and_writes() {
    let audit = audit(Kind::Play, &null(), true);
    for call in ["clock_nanosleep", "mmap", "munmap", "write"] {
        assert!(
            audit.forbidden.contains_key(call),
            "the audit missed {call}: {:?}",
            audit.calls
        );
    }
}

#[test]
#[ignore = "needs strace and jackd (run by .ci/test with --ignored)"]
fn jack_pcm_audio_threads_make_only_allowed_calls_in_steady_state() {
    let _server = jack_server();
    for kind in [Kind::Play, Kind::Record, Kind::Duplex] {
        let audit = audit(kind, &jack(), false);
        assert!(
            audit.forbidden.is_empty(),
            "{kind:?}: {:?}",
            audit.forbidden
        );
        // A paced device: the thread sleeps in poll between periods.
        assert!(
            audit.calls.get("poll").copied().unwrap_or(0) >= 1,
            "{kind:?}: {:?}",
            audit.calls
        );
    }
}

#[test]
fn a_read_cut_by_the_detach_is_judged_by_the_reads_of_its_file() {
    let allowed_read = "read(14, \"\\1\", 32) = 1\n";
    let cut = "read(14,  <detached ...>\n";
    let audit = parse(&format!("{allowed_read}{cut}"));
    assert!(audit.forbidden.is_empty(), "{:?}", audit.forbidden);
    assert_eq!(audit.calls.get("read"), Some(&2));
    // Alone, or after reads of another file or of a large count, it is not believed.
    for before in [
        "",
        "read(1, \"\\1\", 32) = 1\n",
        "read(14, \"...\", 4096) = 4096\n",
    ] {
        let audit = parse(&format!("{before}{cut}"));
        assert!(
            audit.forbidden.contains_key("read"),
            "{before:?}: {audit:?}"
        );
    }
}

//! Realtime done properly (issue 16, item 4): what the audio thread asks for is what
//! `RunControl::realtime` says, a refusal says which limit refused it, memory is locked
//! only when asked and unlocked when the last stream that asked ends, and asking what the
//! thread got never blocks.
//!
//! Each stream runs on alsa-lib's `null` PCM with a play whose source sleeps a
//! millisecond a read, so the loop stays alive (and off the CPU) while the test looks at
//! its thread from outside: its policy and priority (`sched_getscheduler`,
//! `sched_getparam` on its kernel id) and the process's locked memory (`VmLck` in
//! /proc/self/status). The refusals need an unprivileged process: that test runs itself
//! again in a child that drops root for `nobody` (which loses `CAP_SYS_NICE` and
//! `CAP_IPC_LOCK`) under chosen `RLIMIT_RTPRIO` and `RLIMIT_MEMLOCK`.

#![allow(unsafe_code)] // FFI: libc scheduling, rlimit and setuid calls to read and limit the process

#[path = "common/child.rs"]
mod child;
mod common;

use std::time::{Duration, Instant};

use common::alsa_config;
use rtmix_alsa::{
    AlsaStream, Config, Memory, OutputDevice, Policy, Realtime, RealtimeConfig, Refusal,
    RunControl, Scheduling,
};
use rtmix_core::{
    At, ChannelMap, Controller, Heap, Play, PlaySource, SampleSource, StreamCapacity, StreamConfig,
};

/// How long anything is waited for before it is taken for hung.
const HANG: Duration = Duration::from_secs(30);

/// A stream play that sleeps a millisecond each time it is read: the loop it runs in
/// stays alive without spinning.
#[derive(Debug)]
struct Slow;

impl SampleSource for Slow {
    fn available(&self) -> usize {
        usize::MAX / 2
    }

    fn read(&mut self, out: &mut [f32]) -> usize {
        std::thread::sleep(Duration::from_millis(1));
        out.fill(0.0);
        out.len()
    }
}

impl PlaySource for Slow {
    fn buffer(&self) -> Option<&[f32]> {
        None
    }

    fn source(&mut self) -> Option<&mut dyn SampleSource> {
        Some(self)
    }
}

/// A running stream on the `null` PCM, asking for `realtime`, with its controller (which
/// keeps the stream's storage alive).
struct Running {
    _ctl: Controller<Slow, Vec<f32>, Heap>,
    stream: AlsaStream,
    got: Realtime,
}

fn run(realtime: RealtimeConfig) -> Running {
    alsa_config();
    let (mut ctl, engine) =
        rtmix_core::open::<Slow, Vec<f32>>(StreamConfig::output(2), StreamCapacity::default())
            .unwrap();
    ctl.play(Play::new(Slow, ChannelMap::new(&[0, 1]).unwrap()).at(At::Frame(0)))
        .unwrap();
    let device = OutputDevice::open(&Config::new("null", 48_000, 2).period(256).periods(2))
        .expect("the null PCM opens");
    let control = RunControl {
        realtime,
        ..RunControl::default()
    };
    let stream = AlsaStream::play(device, engine.split().0, control).unwrap();
    let got = stream
        .wait_realtime(HANG)
        .expect("the thread says what it got");
    Running {
        _ctl: ctl,
        stream,
        got,
    }
}

/// The policy and priority the kernel has for thread `tid`.
fn scheduling_of(tid: i32) -> (i32, i32) {
    // SAFETY: `sched_param` is plain integers, for which all zeroes are valid (musl's has
    // more fields than glibc's, so it is not written as a literal).
    let mut param: libc::sched_param = unsafe { std::mem::zeroed() };
    param.sched_priority = -1;
    // SAFETY: `param` is valid and writable; `tid` is a thread of this process, alive
    // while its stream runs.
    let (policy, status) = unsafe {
        (
            libc::sched_getscheduler(tid),
            libc::sched_getparam(tid, &raw mut param),
        )
    };
    assert_eq!(status, 0, "sched_getparam({tid})");
    (policy, param.sched_priority)
}

/// The process's locked memory, in KiB (`VmLck`).
fn locked_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmLck in /proc/self/status")
}

fn asking(policy: Option<Policy>, priority: u8) -> RealtimeConfig {
    RealtimeConfig {
        policy,
        priority,
        ..RealtimeConfig::default()
    }
}

#[test]
fn the_audio_thread_runs_under_the_configured_policy_and_priority() {
    for (policy, priority, kernel_policy, kernel_priority) in [
        (Some(Policy::Fifo), 42, libc::SCHED_FIFO, 42),
        (Some(Policy::RoundRobin), 13, libc::SCHED_RR, 13),
        (None, 70, libc::SCHED_OTHER, 0),
    ] {
        let running = run(asking(policy, priority));
        let expected = policy.map_or(Scheduling::NotAsked, |policy| Scheduling::Granted {
            policy,
            priority,
        });
        assert_eq!(
            running.got,
            Realtime {
                scheduling: expected,
                memory: Memory::NotAsked,
            }
        );
        assert_eq!(running.got.is_realtime(), policy.is_some());
        let tid = running.stream.thread_id().expect("the thread's id");
        assert_eq!(
            scheduling_of(tid),
            (kernel_policy, kernel_priority),
            "the kernel's view of {policy:?} at {priority}"
        );
        let comm = std::fs::read_to_string(format!("/proc/self/task/{tid}/comm")).unwrap();
        assert_eq!(comm.trim(), "rtmix-alsa", "the thread's name");
        running.stream.stop().expect("the stream ran");
    }
}

#[test]
fn a_priority_outside_the_policy_range_is_refused_as_out_of_range() {
    for (policy, priority) in [
        (Policy::Fifo, 0),
        (Policy::Fifo, 100),
        (Policy::RoundRobin, 255),
    ] {
        let running = run(asking(Some(policy), priority));
        assert_eq!(
            running.got.scheduling,
            Scheduling::Refused(Refusal::OutOfRange { min: 1, max: 99 }),
            "{policy:?} at {priority}"
        );
        let tid = running.stream.thread_id().unwrap();
        assert_eq!(scheduling_of(tid), (libc::SCHED_OTHER, 0), "left as it was");
        running.stream.stop().expect("the stream runs all the same");
    }
}

#[test]
fn memory_is_locked_only_when_asked_and_unlocked_when_the_last_stream_that_asked_ends() {
    let lock = RealtimeConfig {
        lock_memory: true,
        ..RealtimeConfig::default()
    };
    assert_eq!(locked_kib(), 0, "nothing locked before");
    let plain = run(RealtimeConfig::default());
    assert_eq!(plain.got.memory, Memory::NotAsked);
    assert_eq!(locked_kib(), 0, "not locked unasked");
    let first = run(lock);
    assert_eq!(first.got.memory, Memory::Locked);
    let second = run(lock);
    assert_eq!(second.got.memory, Memory::Locked);
    let while_both = locked_kib();
    assert!(while_both > 0, "locked while the streams that asked run");
    first.stream.stop().unwrap();
    let while_one = locked_kib();
    assert!(
        while_one > 0,
        "still locked while the second stream that asked runs"
    );
    second.stream.stop().unwrap();
    let after = locked_kib();
    plain.stream.stop().unwrap();
    eprintln!("VmLck: {while_both} KiB with two, {while_one} KiB with one, {after} KiB after");
    assert_eq!(after, 0, "unlocked when the last stream that asked ended");
}

#[test]
fn realtime_never_blocks_and_wait_realtime_waits_for_the_thread() {
    let running = run(RealtimeConfig::default());
    // Before, a second call waited for the stream to end (here: forever).
    let began = Instant::now();
    let (a, b) = (running.stream.realtime(), running.stream.realtime());
    let took = began.elapsed();
    assert_eq!((a, b), (Some(running.got), Some(running.got)));
    assert!(took < Duration::from_secs(1), "{took:?}");
    assert_eq!(
        running.stream.wait_realtime(Duration::ZERO),
        Some(running.got)
    );
    assert!(!running.stream.is_finished(), "the stream still runs");
    running.stream.stop().unwrap();
}

/// Set in the child process of the refusal test.
const CHILD: &str = "RTMIX_ALSA_REALTIME_CHILD";
const CHILD_PASSED: &str = "unprivileged child: all checks passed";

/// The type of `setrlimit`'s resource argument: glibc declares an enum, musl a plain int.
#[cfg(target_env = "gnu")]
type Resource = libc::__rlimit_resource_t;
/// The type of `setrlimit`'s resource argument: glibc declares an enum, musl a plain int.
#[cfg(not(target_env = "gnu"))]
type Resource = libc::c_int;

/// Sets `resource`'s soft and hard limits to `value`.
fn set_limit(resource: Resource, value: libc::rlim_t) {
    let limit = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: a valid `struct rlimit`, read during the call only.
    let status = unsafe { libc::setrlimit(resource, &raw const limit) };
    assert_eq!(
        status,
        0,
        "setrlimit({resource}, {value}): {}",
        std::io::Error::last_os_error()
    );
}

/// The hard limit of `resource`.
#[allow(clippy::useless_conversion)] // `rlim_t` is 32 bits on 32-bit targets
fn hard_limit(resource: Resource) -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid, writable `struct rlimit` for the call's duration.
    assert_eq!(unsafe { libc::getrlimit(resource, &raw mut limit) }, 0);
    u64::from(limit.rlim_max)
}

fn refusals_child() {
    let ran = |config: RealtimeConfig| {
        let running = run(config);
        let tid = running.stream.thread_id().unwrap();
        let kernel = scheduling_of(tid);
        running
            .stream
            .stop()
            .expect("the stream runs whatever was refused");
        (running.got, kernel)
    };
    let lock = |priority| RealtimeConfig {
        lock_memory: true,
        ..asking(Some(Policy::Fifo), priority)
    };
    // A limit can be lowered by anyone, raised only with CAP_SYS_RESOURCE, which the
    // machines this was written on do not give root: their hard RLIMIT_RTPRIO is 0. Where
    // it is at least 10, the child also sees a priority over the limit refused, and one
    // within it granted, without privileges.
    let rtprio = hard_limit(libc::RLIMIT_RTPRIO).min(10);
    set_limit(
        libc::RLIMIT_RTPRIO,
        libc::rlim_t::try_from(rtprio).expect("at most 10"),
    );
    set_limit(libc::RLIMIT_MEMLOCK, 64 * 1024);
    child::drop_root();
    let (got, kernel) = ran(lock(70));
    let scheduling = if rtprio == 0 {
        Refusal::NotPermitted { limit: 0 }
    } else {
        Refusal::OverLimit { limit: rtprio }
    };
    assert_eq!(
        got,
        Realtime {
            scheduling: Scheduling::Refused(scheduling),
            memory: Memory::Refused(Refusal::OverLimit { limit: 64 * 1024 }),
        },
        "RLIMIT_RTPRIO {rtprio}, RLIMIT_MEMLOCK 64 KiB"
    );
    assert_eq!(kernel, (libc::SCHED_OTHER, 0), "left at normal scheduling");
    if rtprio > 0 {
        let within = u8::try_from(rtprio).unwrap();
        let (got, kernel) = ran(asking(Some(Policy::Fifo), within));
        assert_eq!(
            got.scheduling,
            Scheduling::Granted {
                policy: Policy::Fifo,
                priority: within
            },
            "within the limit, no privilege is needed"
        );
        assert_eq!(kernel, (libc::SCHED_FIFO, i32::from(within)));
    } else {
        println!("hard RLIMIT_RTPRIO is 0: the over-limit and within-limit cases are not run");
    }
    // No locking at all.
    set_limit(libc::RLIMIT_RTPRIO, 0);
    set_limit(libc::RLIMIT_MEMLOCK, 0);
    let (got, kernel) = ran(lock(70));
    assert_eq!(
        got,
        Realtime {
            scheduling: Scheduling::Refused(Refusal::NotPermitted { limit: 0 }),
            memory: Memory::Refused(Refusal::NotPermitted { limit: 0 }),
        },
        "RLIMIT_RTPRIO 0, RLIMIT_MEMLOCK 0"
    );
    assert_eq!(kernel, (libc::SCHED_OTHER, 0));
    assert_eq!(locked_kib(), 0);
    println!("{CHILD_PASSED}: {got:?}");
}

#[test]
fn without_privileges_each_refusal_names_the_limit_that_refused_it() {
    if std::env::var_os(CHILD).is_some() {
        refusals_child();
        return;
    }
    let passed = child::run_as_child(
        "without_privileges_each_refusal_names_the_limit_that_refused_it",
        CHILD,
        CHILD_PASSED,
    );
    eprintln!("{passed}");
}

//! How the control side steers a running stream: one [`RunControl`] for every backend,
//! and the realtime scheduling its audio thread asks for ([`RealtimeConfig`]).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// How the control side steers a running stream.
///
/// ```
/// use rtmix_backend::RunControl;
/// let c = RunControl { stop_after: Some(48_000), ..RunControl::default() };
/// assert!(!c.stop.load(std::sync::atomic::Ordering::Relaxed));
/// assert_eq!(c.device_timeout, std::time::Duration::from_secs(2));
/// // At least two buffers' time, whatever `device_timeout` says:
/// let short = RunControl { device_timeout: std::time::Duration::ZERO, ..c };
/// assert_eq!(short.timeout(Some(4800), 48_000), std::time::Duration::from_millis(200));
/// ```
#[derive(Clone, Debug)]
pub struct RunControl {
    /// Set to end the stream after its current period (as the stream's `stop` does).
    pub stop: Arc<AtomicBool>,
    /// End the stream by itself once this many frames have been rendered (output, and
    /// duplex) or captured (input).
    pub stop_after: Option<u64>,
    /// A test hook: once this many frames have been transferred, the audio thread sleeps
    /// this long, as a descheduled one would. Never set it in production.
    pub stall: Option<(u64, Duration)>,
    /// A test hook of rtmix-cpal: every callback body runs inside this function (a test
    /// wraps it in an allocation counter, say). rtmix-alsa's loop does not use it (its
    /// tests count on the loop's own thread). Never set it in production.
    pub audit: Option<fn(&mut dyn FnMut())>,
    /// How long a running stream may move no frames (take no callback) before it is
    /// taken for gone and ended with [`Error::NotResponding`](crate::Error::NotResponding):
    /// a device unplugged without an error, a sound server that died. At least two
    /// buffers' time is waited whatever this says ([`timeout`](Self::timeout)).
    /// Default: 2 s.
    pub device_timeout: Duration,
    /// The scheduling and memory locking the audio thread asks for (rtmix-alsa's own
    /// thread; rtmix-cpal's callbacks run on the host's threads, which it does not
    /// change).
    pub realtime: RealtimeConfig,
}

impl Default for RunControl {
    fn default() -> Self {
        Self {
            stop: Arc::default(),
            stop_after: None,
            stall: None,
            audit: None,
            device_timeout: Duration::from_secs(2),
            realtime: RealtimeConfig::default(),
        }
    }
}

impl RunControl {
    /// How long a stream whose buffer (or, where the buffer is unknown, period) holds
    /// `frames` at `rate` may move nothing before it is taken for gone:
    /// [`device_timeout`](Self::device_timeout), but at least twice `frames`.
    pub fn timeout(&self, frames: Option<u32>, rate: u32) -> Duration {
        let twice = frames.map_or(Duration::ZERO, |f| {
            Duration::from_nanos(2 * u64::from(f) * 1_000_000_000 / u64::from(rate.max(1)))
        });
        self.device_timeout.max(twice)
    }
}

/// A realtime scheduling policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Policy {
    /// `SCHED_FIFO`: runs until it blocks or a higher priority thread wakes.
    Fifo,
    /// `SCHED_RR`: as `SCHED_FIFO`, but threads of the same priority take turns.
    RoundRobin,
}

/// What the audio thread asks of the system before its loop starts
/// ([`RunControl::realtime`]).
///
/// ```
/// use rtmix_backend::{Policy, RealtimeConfig};
/// let asked = RealtimeConfig::default();
/// assert_eq!((asked.policy, asked.priority, asked.lock_memory), (Some(Policy::Fifo), 70, false));
/// let quiet = RealtimeConfig { policy: None, ..RealtimeConfig::default() }; // normal scheduling
/// # let _ = quiet;
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RealtimeConfig {
    /// The realtime policy to ask for; `None` leaves the thread at normal scheduling.
    /// `Some(Policy::Fifo)` by default.
    pub policy: Option<Policy>,
    /// The priority within the policy: 1 to 99 on Linux (higher runs first). 70 by
    /// default, below JACK's server threads and above most others.
    pub priority: u8,
    /// Lock all the process's memory (`mlockall(MCL_CURRENT | MCL_FUTURE)`) while the
    /// stream runs, so that no page the loop touches is ever paged out. Off by default:
    /// it is process-wide, and a process under an `RLIMIT_MEMLOCK` that allowed it may then
    /// fail to allocate. The lock is counted: the last stream that asked for it unlocks
    /// (`munlockall`) when its thread ends, which also undoes an `mlockall` made elsewhere
    /// in the process.
    pub lock_memory: bool,
}

impl Default for RealtimeConfig {
    fn default() -> Self {
        Self {
            policy: Some(Policy::Fifo),
            priority: 70,
            lock_memory: false,
        }
    }
}

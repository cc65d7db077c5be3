//! Asking for realtime scheduling and locked memory, and saying what was granted.
//!
//! The promotion itself goes through the `thread-priority` crate
//! (`pthread_setschedparam` on the audio thread); this module chooses what to ask, and
//! turns a refusal into a [`Refusal`] that says why, read from the limits that decided it
//! (`RLIMIT_RTPRIO`, `RLIMIT_MEMLOCK`).

use std::sync::{Mutex, PoisonError};

use crate::{Policy, RealtimeConfig};

use thread_priority::{
    set_thread_priority_and_policy, thread_native_id, RealtimeThreadSchedulePolicy, ThreadPriority,
    ThreadPriorityValue, ThreadSchedulePolicy,
};

/// `thread-priority`'s name of a policy.
fn of_crate(policy: Policy) -> ThreadSchedulePolicy {
    ThreadSchedulePolicy::Realtime(match policy {
        Policy::Fifo => RealtimeThreadSchedulePolicy::Fifo,
        Policy::RoundRobin => RealtimeThreadSchedulePolicy::RoundRobin,
    })
}

/// What the audio thread got from the system ([`AlsaStream::realtime`](crate::AlsaStream::realtime)).
/// A refusal is not an error: the stream runs all the same, at normal priority or with
/// memory that can be paged out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Realtime {
    /// The thread's scheduling.
    pub scheduling: Scheduling,
    /// Whether memory is locked.
    pub memory: Memory,
}

impl Realtime {
    /// True when the thread runs under the realtime policy it asked for.
    pub fn is_realtime(&self) -> bool {
        matches!(self.scheduling, Scheduling::Granted { .. })
    }
}

/// The audio thread's scheduling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheduling {
    /// No realtime policy was asked for ([`RealtimeConfig::policy`] is `None`).
    NotAsked,
    /// The thread runs under `policy` at `priority`.
    Granted {
        /// The policy.
        policy: Policy,
        /// The priority.
        priority: u8,
    },
    /// The system refused: the thread runs at normal priority.
    Refused(Refusal),
}

/// Whether the process's memory is locked for the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Memory {
    /// Locking was not asked for ([`RealtimeConfig::lock_memory`] is false).
    NotAsked,
    /// All memory is locked, now and as it is mapped, until the last stream that asked
    /// ends.
    Locked,
    /// The system refused: memory can be paged out.
    Refused(Refusal),
}

/// Why the system refused realtime scheduling or locked memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// Not permitted (`EPERM`): the limit (`RLIMIT_RTPRIO` for scheduling,
    /// `RLIMIT_MEMLOCK` in bytes for memory) is 0 and the process lacks the capability
    /// (`CAP_SYS_NICE`, `CAP_IPC_LOCK`); or, with a limit that allows it, something else
    /// forbids it (a cgroup without realtime runtime). `u64::MAX` is no limit.
    NotPermitted {
        /// The limit in force.
        limit: u64,
    },
    /// The request exceeds a non-zero limit: a priority above `RLIMIT_RTPRIO`, or more
    /// memory than `RLIMIT_MEMLOCK` (in bytes) allows.
    OverLimit {
        /// The limit in force.
        limit: u64,
    },
    /// The priority is outside the policy's range (`sched_get_priority_min` to `max`).
    OutOfRange {
        /// The lowest priority of the policy.
        min: i32,
        /// The highest.
        max: i32,
    },
    /// Any other error, by its number.
    Os {
        /// The error number.
        errno: i32,
    },
}

/// Asks for what `config` says for the calling thread; the memory lock, when granted, is
/// held until the returned [`MemoryLock`] is dropped (at the end of the thread).
pub(crate) fn promote(config: RealtimeConfig) -> (Realtime, Option<MemoryLock>) {
    let (memory, lock) = if config.lock_memory {
        match MemoryLock::take() {
            Ok(lock) => (Memory::Locked, Some(lock)),
            Err(refusal) => (Memory::Refused(refusal), None),
        }
    } else {
        (Memory::NotAsked, None)
    };
    let scheduling = config.policy.map_or(Scheduling::NotAsked, |policy| {
        schedule(policy, config.priority)
    });
    (Realtime { scheduling, memory }, lock)
}

/// Puts the calling thread under `policy` at `priority`.
fn schedule(policy: Policy, priority: u8) -> Scheduling {
    let ours = of_crate(policy);
    let out_of_range = || {
        let min = ThreadPriority::min_value_for_policy(ours).unwrap_or(1);
        let max = ThreadPriority::max_value_for_policy(ours).unwrap_or(99);
        Refusal::OutOfRange { min, max }
    };
    let Ok(value) = ThreadPriorityValue::try_from(priority) else {
        return Scheduling::Refused(out_of_range());
    };
    let asked = ThreadPriority::Crossplatform(value);
    match set_thread_priority_and_policy(thread_native_id(), asked, ours) {
        Ok(()) => Scheduling::Granted { policy, priority },
        Err(thread_priority::Error::PriorityNotInRange(range)) => {
            Scheduling::Refused(Refusal::OutOfRange {
                min: *range.start(),
                max: *range.end(),
            })
        }
        Err(thread_priority::Error::OS(errno)) if errno == libc::EPERM => {
            Scheduling::Refused(not_permitted(limit(libc::RLIMIT_RTPRIO), priority))
        }
        Err(thread_priority::Error::OS(errno)) => Scheduling::Refused(Refusal::Os { errno }),
        Err(_) => Scheduling::Refused(Refusal::Os {
            errno: libc::EINVAL,
        }),
    }
}

/// Why `EPERM` refused `priority` under an `RLIMIT_RTPRIO` of `limit`: a priority above a
/// non-zero limit is over it; otherwise realtime scheduling is not permitted at all.
fn not_permitted(limit: u64, priority: u8) -> Refusal {
    if limit > 0 && limit < u64::from(priority) {
        Refusal::OverLimit { limit }
    } else {
        Refusal::NotPermitted { limit }
    }
}

/// The type of `getrlimit`'s resource argument: glibc declares an enum, musl a plain int.
#[cfg(target_env = "gnu")]
pub(crate) type Resource = libc::__rlimit_resource_t;
/// The type of `getrlimit`'s resource argument: glibc declares an enum, musl a plain int.
#[cfg(not(target_env = "gnu"))]
pub(crate) type Resource = libc::c_int;

/// The soft limit of `resource`, `u64::MAX` for none.
#[allow(unsafe_code)] // FFI: libc's getrlimit
#[allow(clippy::useless_conversion)] // `rlim_t` is 32 bits on 32-bit targets
fn limit(resource: Resource) -> u64 {
    let mut rlimit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `rlimit` is a valid, writable `struct rlimit` for the call's duration.
    if unsafe { libc::getrlimit(resource, &raw mut rlimit) } != 0
        || rlimit.rlim_cur == libc::RLIM_INFINITY
    {
        return u64::MAX;
    }
    u64::from(rlimit.rlim_cur)
}

/// The streams holding the process's memory locked.
static LOCKED_BY: Mutex<usize> = Mutex::new(0);

/// One stream's share of the process-wide memory lock: the first takes it
/// (`mlockall`), the last one dropped releases it (`munlockall`).
#[derive(Debug)]
pub(crate) struct MemoryLock(());

impl MemoryLock {
    #[allow(unsafe_code)] // FFI: libc's mlockall
    fn take() -> Result<Self, Refusal> {
        let mut holders = LOCKED_BY.lock().unwrap_or_else(PoisonError::into_inner);
        if *holders == 0 {
            // SAFETY: `mlockall` takes flags only and changes no memory.
            if unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) } != 0 {
                let errno = std::io::Error::last_os_error()
                    .raw_os_error()
                    .unwrap_or(libc::EINVAL);
                let limit = limit(libc::RLIMIT_MEMLOCK);
                return Err(match errno {
                    libc::EPERM => Refusal::NotPermitted { limit },
                    libc::ENOMEM if limit != u64::MAX => Refusal::OverLimit { limit },
                    errno => Refusal::Os { errno },
                });
            }
        }
        *holders += 1;
        Ok(Self(()))
    }
}

impl Drop for MemoryLock {
    #[allow(unsafe_code)] // FFI: libc's munlockall
    fn drop(&mut self) {
        let mut holders = LOCKED_BY.lock().unwrap_or_else(PoisonError::into_inner);
        *holders = holders.saturating_sub(1);
        if *holders == 0 {
            // SAFETY: `munlockall` takes no arguments and changes no memory.
            unsafe { libc::munlockall() };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The machines here cannot raise `RLIMIT_RTPRIO` above 0 (root lacks
    /// `CAP_SYS_RESOURCE`), so `tests/realtime.rs` sees only `NotPermitted` for scheduling;
    /// the split is checked here.
    #[test]
    fn eperm_is_over_limit_only_above_a_nonzero_limit() {
        assert_eq!(not_permitted(0, 70), Refusal::NotPermitted { limit: 0 });
        assert_eq!(not_permitted(10, 70), Refusal::OverLimit { limit: 10 });
        assert_eq!(not_permitted(69, 70), Refusal::OverLimit { limit: 69 });
        // Within the limit and refused all the same: something else forbids it.
        assert_eq!(not_permitted(70, 70), Refusal::NotPermitted { limit: 70 });
        assert_eq!(
            not_permitted(u64::MAX, 70),
            Refusal::NotPermitted { limit: u64::MAX }
        );
    }

    #[test]
    fn nothing_is_asked_unless_configured() {
        let none = RealtimeConfig {
            policy: None,
            ..RealtimeConfig::default()
        };
        let (got, lock) = promote(none);
        assert_eq!(
            got,
            Realtime {
                scheduling: Scheduling::NotAsked,
                memory: Memory::NotAsked
            }
        );
        assert!(lock.is_none());
    }
}

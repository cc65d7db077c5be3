//! Asking for realtime scheduling and locked memory, and saying what was granted.

/// What the audio thread got from the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Realtime {
    /// `SCHED_FIFO` at this priority.
    Fifo {
        /// The priority.
        priority: i32,
        /// Whether all memory is locked (`mlockall`).
        memory_locked: bool,
    },
    /// The system refused `SCHED_FIFO` (for instance no `rtprio` in limits.conf): the thread
    /// runs at normal priority. The error number says why.
    Denied {
        /// The error number of `sched_setscheduler`.
        errno: i32,
        /// Whether all memory is locked (`mlockall`).
        memory_locked: bool,
    },
}

/// Asks for `SCHED_FIFO` at `priority` for the calling thread and locks memory, falling
/// back to normal scheduling when refused.
#[allow(unsafe_code)] // FFI: libc's mlockall and sched_setscheduler
pub(crate) fn promote(priority: i32) -> Realtime {
    // SAFETY: `mlockall` takes flags only and changes no memory; it fails harmlessly when
    // not permitted.
    let memory_locked = unsafe { libc::mlockall(libc::MCL_CURRENT | libc::MCL_FUTURE) } == 0;
    let param = libc::sched_param {
        sched_priority: priority,
    };
    // SAFETY: `param` is a valid `sched_param` that outlives the call; pid 0 is the calling
    // thread.
    let status = unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &raw const param) };
    if status == 0 {
        Realtime::Fifo {
            priority,
            memory_locked,
        }
    } else {
        Realtime::Denied {
            errno: std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
            memory_locked,
        }
    }
}

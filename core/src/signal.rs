//! Wakes a controller thread that waits for a completion.
//!
//! With `std`, the waiting thread registers itself, raises `waiting`, checks the queue and
//! parks; the engine, after handing back completions, looks at `waiting` and only then
//! unparks the registered thread. Both sides put a `SeqCst` fence between their write (the
//! completion, the flag) and their read (the flag, the queue), so at least one of them sees
//! the other's write: either the engine sees `waiting` and unparks, or the controller sees
//! the completion before parking. An unpark that comes before the park makes the park
//! return at once, so no wake-up is lost.
//!
//! The audio side never waits: it reads an atomic, and only while someone waits does it
//! `try_lock` the registration (never `lock`) and unpark (a futex wake). Without `std` the
//! signal is empty and a firmware polls, or wakes its own task.

#[cfg(feature = "std")]
mod imp {
    use std::sync::atomic::{fence, AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, PoisonError, TryLockError};
    use std::thread::{self, Thread};
    use std::time::Duration;

    #[derive(Debug, Default)]
    struct Shared {
        waiting: AtomicBool,
        waiter: Mutex<Option<Thread>>,
    }

    /// The registration of the one thread that may be waiting.
    #[derive(Clone, Debug, Default)]
    pub(crate) struct Signal {
        shared: Arc<Shared>,
    }

    impl Signal {
        pub(crate) fn new() -> Self {
            Self::default()
        }

        /// Audio side, after handing back completions: wake the waiter, if one waits.
        pub(crate) fn notify(&self) {
            fence(Ordering::SeqCst);
            if !self.shared.waiting.load(Ordering::SeqCst) {
                return;
            }
            let guard = match self.shared.waiter.try_lock() {
                Ok(guard) => guard,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                // The controller is registering: it checks the queue after that anyway.
                Err(TryLockError::WouldBlock) => return,
            };
            if let Some(thread) = guard.as_ref() {
                thread.unpark();
            }
        }

        /// Control side: register the current thread and raise `waiting`. The caller must
        /// check the queue after this and before [`park`](Self::park).
        pub(crate) fn prepare_wait(&self) {
            {
                let mut guard = self
                    .shared
                    .waiter
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                *guard = Some(thread::current());
            }
            self.shared.waiting.store(true, Ordering::SeqCst);
            fence(Ordering::SeqCst);
        }

        /// Control side: wait for a notify (or a spurious wake-up), at most `timeout`, then
        /// lower `waiting`.
        pub(crate) fn park(&self, timeout: Option<Duration>) {
            match timeout {
                Some(t) => thread::park_timeout(t),
                None => thread::park(),
            }
            self.end_wait();
        }

        /// Control side: lower `waiting`, so the engine stops unparking this thread.
        pub(crate) fn end_wait(&self) {
            self.shared.waiting.store(false, Ordering::SeqCst);
        }
    }
}

#[cfg(not(feature = "std"))]
mod imp {
    /// Without `std` there is nobody to wake: a firmware polls the controller.
    #[derive(Clone, Debug, Default)]
    pub(crate) struct Signal;

    impl Signal {
        pub(crate) fn new() -> Self {
            Self
        }

        #[allow(clippy::unused_self)] // the same call as with `std`, which uses it
        pub(crate) fn notify(&self) {}
    }
}

pub(crate) use imp::Signal;

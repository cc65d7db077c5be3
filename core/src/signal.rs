//! Wakes a controller thread that waits for a completion.
//!
//! With `std`, the engine calls [`Signal::notify`] once per block in which it handed back at
//! least one completion. The waiting thread registers itself and parks; `notify` unparks it.
//! The audio side only ever `try_lock`s the registration (it never waits for it) and
//! `Thread::unpark` neither allocates nor blocks, so the audio path stays lock-free. Without
//! `std` the signal is empty and a firmware polls, or wakes its own task.

#[cfg(feature = "std")]
mod imp {
    use std::sync::{Arc, Mutex, TryLockError};
    use std::thread::{self, Thread};

    /// The shared registration of the one thread that may be waiting.
    #[derive(Clone, Debug, Default)]
    pub(crate) struct Signal {
        waiter: Arc<Mutex<Option<Thread>>>,
    }

    impl Signal {
        pub(crate) fn new() -> Self {
            Self::default()
        }

        /// Audio side: wake the registered waiter, if any. Never blocks.
        pub(crate) fn notify(&self) {
            match self.waiter.try_lock() {
                Ok(guard) => {
                    if let Some(thread) = guard.as_ref() {
                        thread.unpark();
                    }
                }
                // The controller holds the lock only while (un)registering, and checks the
                // queue after registering, so it sees what was just pushed.
                Err(TryLockError::WouldBlock | TryLockError::Poisoned(_)) => {}
            }
        }

        /// Control side: register the current thread as the one to wake.
        pub(crate) fn register(&self) {
            let mut guard = self
                .waiter
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *guard = Some(thread::current());
        }

        /// Control side: wait for a notify (or a spurious wake-up), at most `timeout`.
        pub(crate) fn park(timeout: Option<std::time::Duration>) {
            match timeout {
                Some(t) => thread::park_timeout(t),
                None => thread::park(),
            }
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

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
//!
//! Under `--cfg loom` (the core's unit tests only; `.ci/miri` runs them) this very code is
//! built on loom's atomics, mutex and threads, and the model at the end of this file
//! explores every interleaving of a waiter and a notifier: no wake-up is lost.

#[cfg(feature = "std")]
mod imp {
    #[cfg(all(loom, test))]
    use loom::{
        sync::atomic::{fence, AtomicBool, Ordering},
        sync::{Arc, Mutex},
        thread::{self, Thread},
    };
    #[cfg(not(all(loom, test)))]
    use std::sync::atomic::{fence, AtomicBool, Ordering};
    #[cfg(not(all(loom, test)))]
    use std::sync::{Arc, Mutex};
    use std::sync::{PoisonError, TryLockError};
    #[cfg(not(all(loom, test)))]
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
            #[cfg(not(all(loom, test)))]
            match timeout {
                Some(t) => thread::park_timeout(t),
                None => thread::park(),
            }
            // Loom has no timed park: every park waits for its unpark, so a lost wake-up
            // is a deadlock, which loom reports.
            #[cfg(all(loom, test))]
            {
                let _ = timeout;
                thread::park();
            }
            self.end_wait();
        }

        /// Control side: lower `waiting`, so the engine stops unparking this thread.
        pub(crate) fn end_wait(&self) {
            self.shared.waiting.store(false, Ordering::SeqCst);
        }

        /// Whether a wait is announced (what the audio side reads).
        #[cfg(all(test, not(loom)))]
        pub(crate) fn is_waiting(&self) -> bool {
            self.shared.waiting.load(Ordering::SeqCst)
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

#[cfg(all(test, feature = "std", not(loom)))]
mod tests {
    use super::Signal;
    use core::time::Duration;

    /// A wait, however it ends, lowers the flag it raised, so the audio side goes back to
    /// reading one atomic: no futex wake per block for a thread that no longer waits.
    /// (cargo-mutants: `end_wait` made a no-op survived.)
    #[test]
    fn a_wait_lowers_its_flag_when_it_ends() {
        let signal = Signal::new();
        signal.prepare_wait();
        assert!(signal.is_waiting());
        signal.park(Some(Duration::from_millis(1)));
        assert!(!signal.is_waiting());
        signal.prepare_wait();
        signal.end_wait();
        assert!(!signal.is_waiting());
    }
}

/// A loom model of the wake-up: this file's `Signal`, built on loom's primitives, between a
/// waiter that follows `wait_step` (wait.rs) and an engine that hands back completions and
/// notifies, as `Scheduler` does. The completion queue is modelled by one flag per
/// completion, published with `Release` and read with `Acquire`, as rtrb's ring buffer
/// publishes and reads its tail. Keep `wait` below in step with wait.rs.
///
/// Run with `RUSTFLAGS="--cfg loom" cargo test -p rtmix-core --features std --lib loom`
/// (`.ci/miri` does, in its own target directory).
#[cfg(all(loom, test, feature = "std"))]
mod loom_model {
    extern crate std;
    use loom::sync::atomic::{AtomicBool, Ordering};
    use loom::sync::Arc;
    use std::vec::Vec;

    use super::Signal;

    /// `Controller::wait` for completion `id`: `wait_step` round after round, until it is
    /// taken. Each round: take; announce the wait; take again; park (then lower `waiting`).
    fn wait(signal: &Signal, queue: &[Arc<AtomicBool>], id: usize) {
        let take = || queue[id].load(Ordering::Acquire);
        loop {
            if take() {
                return;
            }
            signal.prepare_wait();
            if take() {
                signal.end_wait();
                return;
            }
            signal.park(None);
        }
    }

    /// The engine: hands back `count` completions, one per block, notifying after each.
    fn engine(signal: Signal, queue: Vec<Arc<AtomicBool>>) -> loom::thread::JoinHandle<()> {
        loom::thread::spawn(move || {
            for done in &queue {
                done.store(true, Ordering::Release);
                signal.notify();
            }
        })
    }

    fn queue(count: usize) -> Vec<Arc<AtomicBool>> {
        (0..count)
            .map(|_| Arc::new(AtomicBool::new(false)))
            .collect()
    }

    /// One completion, one wait: whichever comes first, the waiter returns (a lost
    /// wake-up would leave it parked for ever, a deadlock loom reports).
    #[test]
    fn loom_a_waiter_is_always_woken() {
        loom::model(|| {
            let signal = Signal::new();
            let queue = queue(1);
            let audio = engine(signal.clone(), queue.clone());
            wait(&signal, &queue, 0);
            audio.join().unwrap();
        });
    }

    /// Two completions, and the waiter wants the second: the first one's notify may wake
    /// it (or find it registering, `try_lock` failing), and it must still be woken for the
    /// second, however the rounds interleave.
    #[test]
    fn loom_a_wake_up_for_another_completion_does_not_hide_the_next() {
        loom::model(|| {
            let signal = Signal::new();
            let queue = queue(2);
            let audio = engine(signal.clone(), queue.clone());
            wait(&signal, &queue, 1);
            audio.join().unwrap();
        });
    }

    /// Two audio threads notifying the one signal, as a backend that runs the output half
    /// in one callback and the input half in another (rtmix-cpal) does: one may find the
    /// registration held by the other (`try_lock` failing) and leave the unpark to it. The
    /// waiter waits for the output's completion, then the input's.
    #[test]
    fn loom_two_audio_threads_lose_no_wake_up() {
        // Three threads: every interleaving with up to five preemptions (3 s here; six
        // take 11 s, eight 90 s, unbounded 2 min). A lost wake-up needs one or two.
        let mut model = loom::model::Builder::new();
        model.preemption_bound = Some(5);
        model.check(|| {
            let signal = Signal::new();
            let (output, input) = (queue(1), queue(1));
            let output_thread = engine(signal.clone(), output.clone());
            let input_thread = engine(signal.clone(), input.clone());
            wait(&signal, &output, 0);
            wait(&signal, &input, 0);
            // Not joined: one audio thread's late unpark of this thread, blocked in the
            // other's `join`, aborts loom (tokio-rs/loom#249; std's `join` ignores it).
            // Loom runs both to their end all the same.
            drop((output_thread, input_thread));
        });
    }

    /// Two waits in a row, for the first completion and then the second: the second wait
    /// registers again while the engine may be notifying for the first.
    #[test]
    fn loom_back_to_back_waits_are_both_woken() {
        loom::model(|| {
            let signal = Signal::new();
            let queue = queue(2);
            let audio = engine(signal.clone(), queue.clone());
            wait(&signal, &queue, 0);
            wait(&signal, &queue, 1);
            audio.join().unwrap();
        });
    }
}

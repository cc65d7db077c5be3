//! The control-side thread that owns a stream's cpal streams and ends them: when asked,
//! when `stop_after` frames are done, when the host reports a fatal error, or when the
//! callbacks stop coming (the watchdog).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::shared::Side;
use crate::{CpalError, RunControl, RunReport};

/// How often the supervisor looks at the flags and the callback counters.
const POLL: Duration = Duration::from_millis(2);

/// One direction as the supervisor sees it: its counters, the ring its error callback
/// fills, and how long it may go without a data callback.
pub(crate) struct Watched {
    pub(crate) side: Arc<Side>,
    pub(crate) errors: rtrb::Consumer<cpal::Error>,
    pub(crate) timeout: Duration,
}

/// The cpal streams of one rtmix stream, owned by a control-side thread that ends them
/// when asked, when the first side has done its `stop_after` frames, when a side reports a
/// fatal error, or when a side's callbacks stop coming for its timeout; dropping them drops
/// the callbacks, which end everything their engines hold with `StreamStopped`.
#[derive(Debug)]
pub(crate) struct Supervised {
    pub(crate) control: RunControl,
    sides: Vec<Arc<Side>>,
    failure: Arc<Mutex<Option<CpalError>>>,
    thread: JoinHandle<Vec<Vec<CpalError>>>,
}

impl Supervised {
    /// Hands `streams` to a new supervising thread; `watched` lists the sides, the first
    /// being the one whose `stop_after` ends the stream.
    pub(crate) fn spawn(
        streams: Vec<cpal::Stream>,
        watched: Vec<Watched>,
        control: RunControl,
    ) -> Result<Self, CpalError> {
        let failure = Arc::new(Mutex::new(None));
        let sides: Vec<Arc<Side>> = watched.iter().map(|w| w.side.clone()).collect();
        let thread = {
            let (failure, control) = (failure.clone(), control.clone());
            std::thread::Builder::new()
                .name("rtmix-cpal".into())
                .spawn(move || supervise(streams, watched, &control, &failure))
                .map_err(|e| CpalError::Spawn {
                    errno: e.raw_os_error().unwrap_or(0),
                })?
        };
        Ok(Self {
            control,
            sides,
            failure,
            thread,
        })
    }

    /// The fatal error that ended the stream, once there is one.
    pub(crate) fn error(&self) -> Option<CpalError> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    /// Whether the supervising thread has ended (and with it the cpal streams).
    pub(crate) fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Waits for the thread; the reports per side, or the fatal error.
    pub(crate) fn join(self) -> Result<Vec<RunReport>, CpalError> {
        let errors = self.thread.join().map_err(|payload| CpalError::Panicked {
            message: payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default(),
        })?;
        if let Some(e) = self.failure.lock().ok().and_then(|f| f.clone()) {
            return Err(e);
        }
        Ok(self
            .sides
            .iter()
            .zip(errors)
            .map(|(side, errors)| side.report(errors))
            .collect())
    }
}

/// A side's data callbacks, watched: `NotResponding` once none has come for its timeout.
#[derive(Debug)]
struct Watchdog {
    seen: u64,
    since: Instant,
    timeout: Duration,
}

impl Watchdog {
    fn new(timeout: Duration, now: Instant) -> Self {
        Self {
            seen: 0,
            since: now,
            timeout,
        }
    }

    /// `callbacks` is the side's count now; an error if it has not moved for too long.
    fn check(&mut self, callbacks: u64, now: Instant) -> Result<(), CpalError> {
        if callbacks != self.seen {
            self.seen = callbacks;
            self.since = now;
            return Ok(());
        }
        let waited = now.saturating_duration_since(self.since);
        if waited > self.timeout {
            return Err(CpalError::NotResponding {
                waited_ms: u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
            });
        }
        Ok(())
    }
}

/// The supervisor's loop; returns the non-fatal errors per side.
fn supervise(
    streams: Vec<cpal::Stream>,
    mut watched: Vec<Watched>,
    control: &RunControl,
    failure: &Mutex<Option<CpalError>>,
) -> Vec<Vec<CpalError>> {
    let fail = |e: CpalError| {
        if let Ok(mut f) = failure.lock() {
            f.get_or_insert(e);
        }
    };
    let mut errors = vec![Vec::new(); watched.len()];
    let drain = |watched: &mut [Watched], errors: &mut [Vec<CpalError>]| {
        for (w, errors) in watched.iter_mut().zip(errors.iter_mut()) {
            while let Ok(e) = w.errors.pop() {
                let e = crate::error::stream(&e);
                if e.is_device_gone() {
                    fail(e);
                } else {
                    errors.push(e);
                }
            }
        }
    };
    let start = Instant::now();
    let mut dogs: Vec<Watchdog> = watched
        .iter()
        .map(|w| Watchdog::new(w.timeout, start))
        .collect();
    loop {
        drain(&mut watched, &mut errors);
        let fatal = watched.iter().any(|w| w.side.fatal_error().is_some());
        let finished = watched
            .first()
            .is_none_or(|w| w.side.finished.load(Ordering::Acquire));
        if fatal || finished || control.stop.load(Ordering::Acquire) {
            break;
        }
        let now = Instant::now();
        let silent = watched.iter().zip(dogs.iter_mut()).find_map(|(w, dog)| {
            dog.check(w.side.callbacks.load(Ordering::Acquire), now)
                .err()
        });
        if let Some(e) = silent {
            fail(e);
            break;
        }
        std::thread::sleep(POLL);
    }
    // Dropping the streams stops them, and drops the callbacks: their engines end
    // everything they hold with `StreamStopped`.
    drop(streams);
    drain(&mut watched, &mut errors);
    // A fatal error whose message the full ring dropped still ends the stream as one.
    if let Some(e) = watched.iter().find_map(|w| w.side.fatal_error()) {
        fail(e);
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watchdog_fires_only_after_its_timeout_without_callbacks() {
        let t = Instant::now();
        let ms = Duration::from_millis;
        let mut dog = Watchdog::new(ms(100), t);
        // Before the first callback, the timeout counts from the start.
        assert!(dog.check(0, t + ms(100)).is_ok());
        // Callbacks move it on.
        assert!(dog.check(1, t + ms(150)).is_ok());
        assert!(dog.check(5, t + ms(240)).is_ok());
        assert!(dog.check(5, t + ms(340)).is_ok());
        assert_eq!(
            dog.check(5, t + ms(341)),
            Err(CpalError::NotResponding { waited_ms: 101 })
        );
        // Never started at all.
        let mut dog = Watchdog::new(ms(100), t);
        assert!(matches!(
            dog.check(0, t + ms(101)),
            Err(CpalError::NotResponding { .. })
        ));
    }
}

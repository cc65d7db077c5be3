//! The body of cpal's error callback: an xrun is counted for the next data callback to
//! measure; anything else goes to the control side through a fixed ring; a device that
//! disappeared or an invalidated stream flags the side fatal, so that the supervisor ends
//! the stream.
//!
//! It runs on a thread of the host's choosing (the ALSA host's audio thread itself, JACK's
//! notification thread) and neither allocates nor frees: the error cpal hands over (with
//! the message cpal allocated for it, if any) is moved into the ring and freed by the
//! control side. The one exception is a full ring (32 errors the supervisor, which drains
//! it every 2 ms, has not taken yet): that error is dropped here, which frees its message
//! if it has one; a fatal one still ends the stream, by its flag. The unit tests below
//! count every branch under the test allocator, and the real callbacks run under
//! `RunControl::audit` like the data callbacks.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::shared::{Side, FATAL_GONE, FATAL_INVALIDATED, FATAL_NONE};

/// Errors a stream's error callback can hold for the control side before dropping more.
pub(crate) const ERROR_RING: usize = 32;

/// What cpal's error callback runs, for one direction.
pub(crate) struct ErrorCallback {
    side: Arc<Side>,
    ring: rtrb::Producer<cpal::Error>,
    audit: Option<fn(&mut dyn FnMut())>,
}

impl ErrorCallback {
    /// The callback for `side`, and the end of its ring the control side reads; the body
    /// runs inside `audit` when there is one (as the data callbacks do).
    pub(crate) fn new(
        side: Arc<Side>,
        audit: Option<fn(&mut dyn FnMut())>,
    ) -> (Self, rtrb::Consumer<cpal::Error>) {
        let (ring, rx) = rtrb::RingBuffer::new(ERROR_RING);
        (Self { side, ring, audit }, rx)
    }

    /// The body of cpal's error callback.
    pub(crate) fn on_error(&mut self, e: cpal::Error) {
        match self.audit {
            Some(audit) => {
                let mut e = Some(e);
                audit(&mut || {
                    if let Some(e) = e.take() {
                        self.handle(e);
                    }
                });
            }
            None => self.handle(e),
        }
    }

    fn handle(&mut self, e: cpal::Error) {
        match e.kind() {
            cpal::ErrorKind::Xrun => {
                // Nothing kept: the kind is all the data callback needs. cpal 0.18's xruns
                // carry no message or a `&'static str` one, so dropping it frees nothing.
                self.side.xrun_reports.fetch_add(1, Ordering::AcqRel);
            }
            kind => {
                let fatal = match kind {
                    cpal::ErrorKind::DeviceNotAvailable => Some(FATAL_GONE),
                    cpal::ErrorKind::StreamInvalidated => Some(FATAL_INVALIDATED),
                    _ => None,
                };
                if let Some(code) = fatal {
                    let _ = self.side.fatal.compare_exchange(
                        FATAL_NONE,
                        code,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    );
                }
                // A full ring drops the error (see the module's note).
                let _ = self.ring.push(e);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtmix_host_tests::alloc_guard::{forbid_alloc, GuardedAlloc};

    #[global_allocator]
    static ALLOC: GuardedAlloc = GuardedAlloc;

    /// Allocations and frees `callback.on_error(e)` makes (the error is built outside).
    fn count(callback: &mut ErrorCallback, e: cpal::Error) -> usize {
        forbid_alloc(|| callback.on_error(e)).1
    }

    #[test]
    fn the_error_callback_neither_allocates_nor_frees() {
        let side = Arc::new(Side::default());
        let (mut callback, mut rx) = ErrorCallback::new(side.clone(), None);
        let owned = |kind| cpal::Error::with_message(kind, format!("{kind:?} (owned message)"));
        // An xrun, as every host reports it: counted, nothing kept.
        assert_eq!(count(&mut callback, cpal::ErrorKind::Xrun.into()), 0);
        assert_eq!(side.xrun_reports.load(Ordering::Acquire), 1);
        // Errors with messages cpal allocated (the JACK host's shutdown, the ALSA host's
        // backend errors) and without: moved into the ring, not freed here.
        assert_eq!(
            count(&mut callback, owned(cpal::ErrorKind::BackendError)),
            0
        );
        assert_eq!(side.fatal.load(Ordering::Acquire), FATAL_NONE);
        assert_eq!(count(&mut callback, cpal::ErrorKind::DeviceBusy.into()), 0);
        assert_eq!(
            count(&mut callback, owned(cpal::ErrorKind::DeviceNotAvailable)),
            0
        );
        assert_eq!(side.fatal.load(Ordering::Acquire), FATAL_GONE);
        // The first fatal kind stays.
        assert_eq!(
            count(&mut callback, owned(cpal::ErrorKind::StreamInvalidated)),
            0
        );
        assert_eq!(side.fatal.load(Ordering::Acquire), FATAL_GONE);
        assert_eq!(rx.slots(), 4);
        let kinds: Vec<_> = std::iter::from_fn(|| rx.pop().ok())
            .map(|e| e.kind())
            .collect();
        assert_eq!(
            kinds,
            [
                cpal::ErrorKind::BackendError,
                cpal::ErrorKind::DeviceBusy,
                cpal::ErrorKind::DeviceNotAvailable,
                cpal::ErrorKind::StreamInvalidated
            ]
        );
    }

    #[test]
    fn a_full_ring_frees_only_the_message_of_the_error_it_drops() {
        let side = Arc::new(Side::default());
        let (mut callback, _rx) = ErrorCallback::new(side.clone(), None);
        for _ in 0..ERROR_RING {
            assert_eq!(count(&mut callback, cpal::ErrorKind::DeviceBusy.into()), 0);
        }
        // Full: an error without a message is dropped without a free; one with a message
        // frees that message (one free); a fatal one still flags the side.
        assert_eq!(count(&mut callback, cpal::ErrorKind::DeviceBusy.into()), 0);
        assert_eq!(
            count(
                &mut callback,
                cpal::Error::with_message(cpal::ErrorKind::StreamInvalidated, String::from("x"))
            ),
            1
        );
        assert_eq!(side.fatal.load(Ordering::Acquire), FATAL_INVALIDATED);
        assert!(side.fatal_error().is_some_and(|e| e.is_device_gone()));
        // Xruns never use the ring.
        assert_eq!(count(&mut callback, cpal::ErrorKind::Xrun.into()), 0);
    }

    #[test]
    fn the_body_runs_under_the_audit_hook() {
        use std::sync::atomic::AtomicUsize;
        static AUDITED: AtomicUsize = AtomicUsize::new(0);
        fn audit(body: &mut dyn FnMut()) {
            AUDITED.fetch_add(1, Ordering::Relaxed);
            body();
        }
        let side = Arc::new(Side::default());
        let (mut callback, _rx) = ErrorCallback::new(side.clone(), Some(audit));
        callback.on_error(cpal::ErrorKind::Xrun.into());
        assert_eq!(AUDITED.load(Ordering::Relaxed), 1);
        assert_eq!(side.xrun_reports.load(Ordering::Acquire), 1);
    }
}

//! From cpal's `StreamInstant`s to `std::time::Instant`s.
//!
//! A `StreamInstant` counts from an epoch of the host's choosing (the stream's creation on
//! ALSA, the JACK server's clock on JACK), so it is paired once with the monotonic clock:
//! the first callback reads `Instant::now()` next to its callback instant, and every later
//! instant converts through that pair. The pairing is a host-clock estimate, off by the
//! time between cpal taking its timestamp and the callback reading the clock (microseconds
//! where cpal reads the clock itself, up to a period where the instant is the device's
//! last interrupt). Differences between instants of one epoch survive the conversion
//! exactly, which is why the two streams of a duplex on one clock share one pairing.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use cpal::StreamInstant;

const UNSET: u8 = 0;
const SETTING: u8 = 1;
const SET: u8 = 2;

/// One pairing of a stream epoch with the monotonic clock, set by whichever callback comes
/// first; lock-free, allocation-free, shareable between two callbacks.
#[derive(Debug)]
pub(crate) struct Epoch {
    base: Instant,
    state: AtomicU8,
    /// The paired stream instant, in nanoseconds.
    stream_nanos: AtomicU64,
    /// The paired monotonic instant, in nanoseconds after `base`.
    host_nanos: AtomicU64,
}

impl Epoch {
    pub(crate) fn new() -> Self {
        Self {
            base: Instant::now(),
            state: AtomicU8::new(UNSET),
            stream_nanos: AtomicU64::new(0),
            host_nanos: AtomicU64::new(0),
        }
    }

    /// `at` as an `Instant`; `now` is the callback's own instant, paired with the clock if
    /// no pairing exists yet. `None` only while another callback is setting the pairing.
    pub(crate) fn instant(&self, now: StreamInstant, at: StreamInstant) -> Option<Instant> {
        let mut state = self.state.load(Ordering::Acquire);
        if state == UNSET
            && self
                .state
                .compare_exchange(UNSET, SETTING, Ordering::Acquire, Ordering::Acquire)
                .is_ok()
        {
            let host = Instant::now().saturating_duration_since(self.base);
            self.stream_nanos
                .store(nanos(now.as_nanos()), Ordering::Relaxed);
            self.host_nanos
                .store(nanos(host.as_nanos()), Ordering::Relaxed);
            self.state.store(SET, Ordering::Release);
            state = SET;
        }
        if state != SET {
            return None;
        }
        let stream = i128::from(self.stream_nanos.load(Ordering::Relaxed));
        let host = i128::from(self.host_nanos.load(Ordering::Relaxed));
        let offset = host + i128::from(nanos(at.as_nanos())) - stream;
        let magnitude = Duration::from_nanos(u64::try_from(offset.unsigned_abs()).ok()?);
        if offset >= 0 {
            self.base.checked_add(magnitude)
        } else {
            self.base.checked_sub(magnitude)
        }
    }
}

fn nanos(n: u128) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_survive_the_pairing_exactly() {
        let epoch = Epoch::new();
        let t0 = StreamInstant::new(5, 250);
        let first = epoch.instant(t0, t0).unwrap();
        let later = StreamInstant::new(7, 1_000_250);
        let earlier = StreamInstant::new(4, 999_999_250);
        assert_eq!(
            epoch.instant(later, later).unwrap() - first,
            Duration::new(2, 1_000_000)
        );
        assert_eq!(
            first - epoch.instant(later, earlier).unwrap(),
            Duration::from_micros(1)
        );
        // The pairing was taken once, next to the first callback.
        assert!(first <= Instant::now());
        assert!(first >= epoch.base);
    }
}

//! From cpal's `StreamInstant`s to `std::time::Instant`s, re-paired as the stream runs.
//!
//! A `StreamInstant` counts from an epoch of the host's choosing, on a clock of the host's
//! choosing: the stream's creation on `CLOCK_MONOTONIC_RAW` (cpal's ALSA host on a device
//! with timestamps), `CLOCK_MONOTONIC` microseconds (JACK), the stream's creation on
//! `Instant` (cpal's ALSA host on a plugin that gives no timestamp). `Instant` is
//! `CLOCK_MONOTONIC`, which NTP slews by up to 500 ppm against the raw clock: one pairing
//! of the two, taken once, is 1.8 ms off after an hour at that rate.
//!
//! So every callback pairs its own `callback` instant with a read of the monotonic clock
//! (`Instant::now()`: on Linux `clock_gettime(CLOCK_MONOTONIC)` through the vDSO, no system
//! call, where the kernel's clocksource allows it, as on TSC machines), and [`ClockMap`]
//! turns those pairings into a line `host = pin + (stream - pin) * (1 + rate)`:
//!
//! * every pairing is late by the time between cpal's timestamp and the clock read (a
//!   scheduling delay, never negative), so only the *least late* pairings are used: the
//!   earliest (least delayed) of each window of [`WINDOW_NS`] of stream time is kept, the
//!   last [`POINTS`] of them;
//! * at the end of each window the rate is the slope between the least delayed point of
//!   the oldest quarter of those points and that of the newest quarter (8 s apart once the
//!   ring is full), and the line is pinned to the least delayed of the newest quarter;
//! * a pairing the line puts *before* its own timestamp (the line runs late: the host
//!   clock slowed) re-pins the line there at once.
//!
//! Differences between two instants of one callback's line are scaled by `1 + rate` (at
//! most a few hundred ppm: 0.3 frames across a 3 000-frame latency at 500 ppm); the
//! exact duplex offset of the JACK host is computed from cpal's own instants, not from
//! these (`src/offset.rs`). `clock_map.rs`'s tests hold the line against scripted clocks
//! drifting at ±500 ppm for six hours.

use std::time::{Duration, Instant};

/// The stream time over which the least delayed pairing is kept as one point.
pub(crate) const WINDOW_NS: i64 = 500_000_000;
/// Points kept (the rate is measured across them: 8 s once full).
pub(crate) const POINTS: usize = 16;
/// A rate beyond this (2 000 ppm) is not a clock: the points straddle a jump in cpal's
/// timestamps, and are dropped.
const MAX_RATE: f64 = 2e-3;
/// A pairing this far before the line (1 ms, twice what 2 000 ppm makes of a window) is a
/// step in cpal's timestamps, not drift.
const STEP_NS: i64 = 1_000_000;
/// Windows in a row whose every pairing is [`STEP_NS`] late that are taken for a step back
/// in cpal's timestamps (fewer may be a busy second).
const LATE_WINDOWS: u32 = 3;

/// One pairing: a stream instant and the host clock read next to it, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Pairing {
    pub(crate) stream: i64,
    pub(crate) host: i64,
}

/// The line from stream instants to host instants (both in nanoseconds, the host's from
/// any origin), re-fitted from the pairings it is given. No clock is read here: the
/// callback hands the pairings in, the tests script them. Fixed size, no allocation.
#[derive(Clone, Debug)]
pub(crate) struct ClockMap {
    /// Whether later pairings move the line (off: the first pairing only, as rtmix-cpal
    /// did before; kept for the tests that show what it costs).
    repair: bool,
    pin: Option<Pairing>,
    /// Host nanoseconds per stream nanosecond, minus one.
    rate: f64,
    /// The stream instant at which the current window closes.
    window_end: i64,
    /// The least delayed pairing of the current window.
    best: Option<Pairing>,
    /// The last stream instant seen.
    last: i64,
    /// The span `rate` was measured over (it is kept across a restart).
    rate_span: i64,
    /// Windows in a row whose least delayed pairing was more than [`STEP_NS`] late.
    late_windows: u32,
    /// The least delayed pairing of each of the last windows, oldest first from `head`.
    points: [Pairing; POINTS],
    len: usize,
    head: usize,
}

impl ClockMap {
    /// A map that re-pairs as the stream runs.
    pub(crate) fn new() -> Self {
        Self {
            repair: true,
            pin: None,
            rate: 0.0,
            window_end: 0,
            best: None,
            last: i64::MIN,
            rate_span: 0,
            late_windows: 0,
            points: [Pairing { stream: 0, host: 0 }; POINTS],
            len: 0,
            head: 0,
        }
    }

    /// A map that keeps its first pairing for ever (what the tests compare against).
    #[cfg(test)]
    pub(crate) fn first_pairing_only() -> Self {
        Self {
            repair: false,
            ..Self::new()
        }
    }

    /// The current rate estimate, in ppm (host clock against the stream's).
    #[cfg(test)]
    pub(crate) fn rate_ppm(&self) -> f64 {
        self.rate * 1e6
    }

    /// `stream` on the host clock, by the current line; `None` before the first pairing.
    pub(crate) fn map(&self, stream: i64) -> Option<i64> {
        self.pin.map(|pin| line(pin, self.rate, stream))
    }

    /// Takes one pairing: cpal's instant for a callback and the host clock read in it.
    pub(crate) fn observe(&mut self, p: Pairing) {
        let Some(pin) = self.pin else {
            self.restart(p);
            return;
        };
        if !self.repair {
            return;
        }
        if p.stream < self.last {
            // cpal's instants went back: a new epoch; start over from here.
            self.restart(p);
            return;
        }
        self.last = p.stream;
        let residual = p.host - line(pin, self.rate, p.stream);
        if residual < -STEP_NS {
            // Further ahead of the clock than any drift takes it between two windows:
            // cpal's timestamps stepped. Start over from here, with the rate as it was.
            self.restart(p);
            return;
        }
        if residual < 0 {
            // The line puts this timestamp after the clock read that followed it: the
            // line runs late. Pin it here.
            self.pin = Some(p);
        }
        if self
            .best
            .is_none_or(|b| self.residual(p) < self.residual(b))
        {
            self.best = Some(p);
        }
        if p.stream >= self.window_end {
            self.close_window();
            self.window_end = p.stream.saturating_add(self.window());
        }
    }

    fn restart(&mut self, p: Pairing) {
        self.pin = Some(p);
        self.late_windows = 0;
        self.last = p.stream;
        self.best = None;
        self.len = 0;
        self.head = 0;
        self.window_end = p.stream.saturating_add(self.window());
    }

    /// The length of the next window: [`WINDOW_NS`], but shorter while there are few
    /// points (an eighth of it for the first, then doubling), so that a rate is measured
    /// within the first half second.
    fn window(&self) -> i64 {
        WINDOW_NS >> 3usize.saturating_sub(self.len)
    }

    /// How late `p` is against the current line (its delay, plus the line's error).
    fn residual(&self, p: Pairing) -> i64 {
        self.map(p.stream).map_or(0, |h| p.host - h)
    }

    /// The `i`th point, oldest first.
    fn point(&self, i: usize) -> Pairing {
        self.points[(self.head + i) % POINTS]
    }

    /// The least delayed of points `from..to` against `rate` (any pin: only the
    /// differences count).
    fn least_delayed(&self, from: usize, to: usize, rate: f64) -> Pairing {
        let reference = self.point(from);
        let mut best = reference;
        let mut best_residual = 0;
        for i in from + 1..to {
            let p = self.point(i);
            let r = p.host - line(reference, rate, p.stream);
            if r < best_residual {
                best = p;
                best_residual = r;
            }
        }
        best
    }

    fn close_window(&mut self) {
        let Some(best) = self.best.take() else {
            return;
        };
        if self.residual(best) > STEP_NS {
            self.late_windows += 1;
            if self.late_windows >= LATE_WINDOWS {
                // Every pairing of three windows in a row 1 ms or more after the line: not
                // a busy moment but cpal's timestamps stepped back. Start over from here.
                self.restart(best);
                return;
            }
        } else {
            self.late_windows = 0;
        }
        if self.len == POINTS {
            self.points[self.head] = best;
            self.head = (self.head + 1) % POINTS;
        } else {
            self.points[(self.head + self.len) % POINTS] = best;
            self.len += 1;
        }
        let n = self.len;
        if n < 2 {
            self.pin = Some(best);
            return;
        }
        let group = (n / 4).max(1);
        let old = self.least_delayed(0, group, self.rate);
        let new = self.least_delayed(n - group, n, self.rate);
        let span = new.stream - old.stream;
        // A rate from an eighth of a window on, but not from a shorter span than the one
        // it replaces, up to four windows' (a restart keeps the rate it had).
        if span >= self.rate_span.clamp(WINDOW_NS / 8, 4 * WINDOW_NS) {
            let rate = (new.host - old.host) as f64 / span as f64 - 1.0;
            if rate.abs() > MAX_RATE {
                // Not a clock: keep the newest point only.
                self.restart(best);
                return;
            }
            self.rate = rate;
            self.rate_span = span;
        }
        self.pin = Some(self.least_delayed(n - group, n, self.rate));
    }
}

/// `stream` by the line through `pin` with slope `1 + rate`.
fn line(pin: Pairing, rate: f64, stream: i64) -> i64 {
    let d = stream.saturating_sub(pin.stream);
    pin.host
        .saturating_add(d)
        .saturating_add((d as f64 * rate).round() as i64)
}

/// A callback's map with its clock: pairs cpal's instants with `Instant::now()` and turns
/// them into `Instant`s.
#[derive(Clone, Debug)]
pub(crate) struct HostClock {
    base: Instant,
    map: ClockMap,
}

impl HostClock {
    pub(crate) fn new() -> Self {
        Self {
            base: Instant::now(),
            map: ClockMap::new(),
        }
    }

    /// Pairs `callback`, cpal's instant for this callback, with `now`, the monotonic clock
    /// read in it.
    pub(crate) fn observe(&mut self, callback: i64, now: Instant) {
        let host = nanos(now.saturating_duration_since(self.base).as_nanos());
        self.map.observe(Pairing {
            stream: callback,
            host,
        });
    }

    /// `at`, a stream instant, as an `Instant`; `None` before the first pairing.
    pub(crate) fn instant(&self, at: i64) -> Option<Instant> {
        let host = self.map.map(at)?;
        let magnitude = Duration::from_nanos(host.unsigned_abs());
        if host >= 0 {
            self.base.checked_add(magnitude)
        } else {
            self.base.checked_sub(magnitude)
        }
    }
}

/// A nanosecond count as an `i64`, saturating.
pub(crate) fn nanos(n: u128) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reproducible generator (xorshift64*).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        /// Uniform in `lo..hi`.
        fn range(&mut self, lo: i64, hi: i64) -> i64 {
            lo + (self.next() % (hi - lo).unsigned_abs()).cast_signed()
        }
    }

    /// How late the callback reads the host clock after cpal's timestamp, in ns: mostly
    /// 2 to 60 µs, one callback in ten 0.1 to 2 ms late, one in a hundred 2 to 15 ms
    /// (a callback descheduled, a JACK client run late in its cycle), and every half hour
    /// a second in which every callback is 1 to 5 ms late.
    fn delay(rng: &mut Rng, t: i64) -> i64 {
        const HALF_HOUR: i64 = 1_800_000_000_000;
        if t % HALF_HOUR > HALF_HOUR - 1_000_000_000 {
            return rng.range(1_000_000, 5_000_000);
        }
        match rng.next() % 100 {
            0 => rng.range(2_000_000, 15_000_000),
            1..=10 => rng.range(100_000, 2_000_000),
            _ => rng.range(2_000, 60_000),
        }
    }

    /// What [`run`] measured: the line's largest error, in ns, at the callbacks' converter
    /// instants (two periods after their callback instants).
    struct Errors {
        /// From `settle` on.
        settled: i64,
        /// Over the whole run.
        all: i64,
        /// How late the first callback read the clock.
        first_delay: i64,
    }

    /// A stream of 1024-frame callbacks at 48 kHz whose clock runs `ppm(t)` slow against
    /// the host's, for `hours`: feeds `map` each callback's pairing (late by [`delay`]) and
    /// measures the line against the true host instants.
    fn run(map: &mut ClockMap, ppm: impl Fn(i64) -> f64, hours: i64, settle_ms: i64) -> Errors {
        let period = 1024 * 1_000_000_000 / 48_000;
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let mut e = Errors {
            settled: 0,
            all: 0,
            first_delay: 0,
        };
        // The host instant of the current callback's stream instant; the host's clock is
        // integrated callback by callback (its rate may change along the way).
        let mut host_at = 3_000_000_000i64;
        let mut stream = 0i64;
        while stream < hours * 3_600_000_000_000 {
            let rate = ppm(stream) * 1e-6;
            let (now, base) = (stream, host_at);
            let truth = move |s: i64| base + ((s - now) as f64 * (1.0 + rate)).round() as i64;
            let late = delay(&mut rng, stream);
            if stream == 0 {
                e.first_delay = late;
            }
            map.observe(Pairing {
                stream,
                host: truth(stream) + late,
            });
            let converter = stream + 2 * period;
            let error = (map.map(converter).unwrap() - truth(converter)).abs();
            e.all = e.all.max(error);
            if stream >= settle_ms * 1_000_000 {
                e.settled = e.settled.max(error);
            }
            host_at = truth(stream + period);
            stream += period;
        }
        e
    }

    /// One frame at 48 kHz, in ns.
    const FRAME_NS: i64 = 1_000_000_000 / 48_000;

    #[test]
    fn the_line_holds_within_a_frame_against_500_ppm_for_six_hours() {
        for ppm in [500.0, -500.0] {
            let mut map = ClockMap::new();
            let e = run(&mut map, |_| ppm, 6, 2000);
            eprintln!(
                "{ppm} ppm: worst {} ns after 2 s, {} ns from the start (first pairing {} ns late)",
                e.settled, e.all, e.first_delay
            );
            // Less than a frame at 48 kHz (20.8 us) from 2 s on (measured: 12.8 us) ...
            assert!(e.settled < FRAME_NS, "{ppm} ppm: {} ns", e.settled);
            // ... and before, the first pairing's delay (nothing tells it from the true
            // offset until a less delayed pairing comes) and at most 100 us more.
            assert!(e.all <= e.first_delay + 100_000, "{ppm} ppm: {} ns", e.all);
            assert!((map.rate_ppm() - ppm).abs() < 2.0, "{}", map.rate_ppm());
        }
    }

    #[test]
    fn the_line_follows_a_slew_that_turns() {
        // NTP's correction swinging from +500 ppm to -500 ppm and back every two hours.
        let ppm = |stream: i64| {
            let hours = stream as f64 / 3.6e12;
            500.0 * (hours * std::f64::consts::PI).cos()
        };
        let e = run(&mut ClockMap::new(), ppm, 4, 2000);
        eprintln!("turning slew: worst {} ns after 2 s", e.settled);
        assert!(e.settled < FRAME_NS, "{} ns", e.settled);
    }

    #[test]
    fn one_pairing_alone_drifts_away() {
        // What rtmix-cpal did before: the first pairing for ever. At 500 ppm the line is
        // 1.8 ms off after an hour (10.8 s after six); the same run re-paired stays
        // within a frame (above).
        let e = run(&mut ClockMap::first_pairing_only(), |_| 500.0, 1, 2000);
        assert!(e.settled > 1_700_000, "{} ns", e.settled);
        assert!(e.settled > 80 * FRAME_NS);
    }

    #[test]
    fn a_step_in_the_timestamps_is_followed() {
        // cpal's instants step 3 ms against the host clock (its ALSA host switching between
        // the link and the system timestamp of a device across an xrun, say), forward at
        // 60 s and back at 120 s, on a clock 200 ppm slow; callbacks read the clock 5 to
        // 40 us late.
        let period = 1024 * 1_000_000_000 / 48_000;
        let mut rng = Rng(7);
        let mut map = ClockMap::new();
        let mut worst = [0i64; 6];
        let mut stream = 0i64;
        while stream < 180_000_000_000 {
            let step = if (60_000_000_000..120_000_000_000).contains(&stream) {
                3_000_000
            } else {
                0
            };
            let truth = |s: i64| 1_000_000 + (s as f64 * 1.0002).round() as i64 - step;
            map.observe(Pairing {
                stream,
                host: truth(stream) + rng.range(5_000, 40_000),
            });
            let error = (map.map(stream).unwrap() - truth(stream)).abs();
            // The first 2 s after the start and after each step, and the rest.
            let phase = (stream / 60_000_000_000) as usize * 2
                + usize::from(stream % 60_000_000_000 >= 2_000_000_000);
            worst[phase] = worst[phase].max(error);
            stream += period;
        }
        eprintln!("step: worst {worst:?} ns");
        // A step forward (the line would run late) is taken at once; a step back is the
        // line's error until three windows (1.5 s) of late pairings show it; then the line
        // is within a frame again.
        assert!(worst[2] < 100_000, "{worst:?}");
        assert!(worst[4] < 3_100_000, "{worst:?}");
        for settled in [1, 3, 5] {
            assert!(worst[settled] < FRAME_NS, "{worst:?}");
        }
    }

    #[test]
    fn a_late_line_is_pinned_again_at_once() {
        let mut map = ClockMap::new();
        map.observe(Pairing {
            stream: 0,
            host: 5_000,
        });
        assert_eq!(map.map(1_000), Some(6_000));
        // A pairing earlier than the line says: the line moves to it at once.
        map.observe(Pairing {
            stream: 1_000_000,
            host: 1_000_100,
        });
        assert_eq!(map.map(1_000_000), Some(1_000_100));
        // A later one does not move it (it is late by its delay).
        map.observe(Pairing {
            stream: 2_000_000,
            host: 2_090_100,
        });
        assert_eq!(map.map(2_000_000), Some(2_000_100));
    }

    #[test]
    fn instants_convert_through_the_line() {
        let mut clock = HostClock::new();
        let now = clock.base + Duration::from_millis(5);
        clock.observe(7_000_000_000, now);
        assert_eq!(clock.instant(7_000_000_000), Some(now));
        assert_eq!(
            clock.instant(7_250_000_000),
            Some(now + Duration::from_millis(250))
        );
        assert_eq!(
            clock.instant(6_990_000_000),
            clock.base.checked_sub(Duration::from_millis(5))
        );
    }
}

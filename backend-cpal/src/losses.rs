//! Frames lost, from the gaps in cpal's timestamps, matched with the xruns the host
//! reports.
//!
//! Every callback compares its converter instant (cpal's playback or capture instant) with
//! the one it would have had if nothing was lost: the previous callback's plus the frames
//! of the previous buffer. A callback more than half a buffer later than that shows a gap.
//!
//! A gap alone is not a loss: the JACK host's converter instants step when the latency it
//! declares for the ports changes (by a period when they are first connected), and the
//! ALSA host's jitter by milliseconds on a plugin whose position lags its timestamp. Every
//! loss the Linux hosts have comes with an xrun report, though (cpal's ALSA host reports
//! the `EPIPE` before recovering, its JACK host forwards JACK's xrun notification), and
//! the report may come before the gap shows or after: the ALSA host reports on the audio
//! thread itself before the next callback, JACK on its notification thread, at any time.
//! So gaps and reports are matched, in whichever order they come, each report with at
//! most one gap:
//!
//! * the gap counts the frames (reported to the engine, which moves its clock over them);
//! * the report counts the xrun (`RunReport::xruns`, counted when it comes);
//! * a gap waits up to [`MATCH_WAIT_NS`] of stream time for its report, a report as long
//!   for its gap; unmatched, a gap is dropped (not a loss) and a report stays an xrun
//!   without lost frames (JACK's dummy driver waits for a late client: no gap).
//!
//! A gap that waited is reported to the engine at the callback its report is seen in, a
//! buffer or more late; the frames between were placed as if nothing was lost. On the
//! JACK host a gap is rounded to whole buffers: a client runs a cycle or misses it, and
//! JACK's DLL-smoothed cycle times put a 13-cycle gap 2 frames short in one run.

use std::time::Duration;

use crate::callback::frames_in;

/// How long, in stream time, a gap waits for its xrun report and a report for its gap.
pub(crate) const MATCH_WAIT_NS: i64 = 500_000_000;

/// A gap waiting for its report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Gap {
    frames: u64,
    /// The stream instant after which it is dropped.
    until: i64,
}

/// One direction's gap and report accounting. Plain integers: the data callback owns it.
#[derive(Clone, Debug)]
pub(crate) struct Losses {
    rate: u32,
    /// Whether the host loses whole buffers only (JACK: a client runs a cycle or misses
    /// it), so that a gap is rounded to whole buffers.
    whole_buffers: bool,
    /// The converter instant the next callback has if nothing is lost (stream ns), half
    /// the buffer that set it, in ns (the tolerance), and that buffer's frames.
    expected: Option<(i64, i64, u64)>,
    /// Xrun reports taken into account so far.
    reports_seen: u64,
    /// Reports waiting for their gap, and the stream instant after which they stop.
    unmatched: u64,
    unmatched_until: i64,
    pending: Option<Gap>,
}

impl Losses {
    pub(crate) fn new(rate: u32) -> Self {
        Self {
            rate: rate.max(1),
            whole_buffers: false,
            expected: None,
            reports_seen: 0,
            unmatched: 0,
            unmatched_until: 0,
            pending: None,
        }
    }

    /// Makes gaps whole buffers (the JACK host, whose cycle start times, smoothed by its
    /// DLL, put a gap of whole cycles a few frames off).
    pub(crate) fn whole_buffers(&mut self) {
        self.whole_buffers = true;
    }

    /// At the start of a callback whose converter instant is `at` (stream ns), when the
    /// host has reported `reports` xruns so far: the frames to report lost now.
    pub(crate) fn at_callback(&mut self, at: i64, reports: u64) -> u64 {
        let mut lost = 0;
        if self.pending.is_some_and(|g| at > g.until) {
            self.pending = None;
        }
        if self.unmatched > 0 && at > self.unmatched_until {
            self.unmatched = 0;
        }
        let mut new = reports.saturating_sub(self.reports_seen);
        self.reports_seen = self.reports_seen.max(reports);
        if new > 0 {
            // A report for a gap already seen.
            if let Some(gap) = self.pending.take() {
                lost += gap.frames;
                new -= 1;
            }
            if new > 0 {
                self.unmatched += new;
                self.unmatched_until = at.saturating_add(MATCH_WAIT_NS);
            }
        }
        if let Some((expected, tolerance, buffer)) = self.expected {
            let gap = at.saturating_sub(expected);
            if gap > tolerance {
                let mut frames = frames_in(Duration::from_nanos(gap.unsigned_abs()), self.rate);
                if self.whole_buffers && buffer > 0 {
                    frames = (frames + buffer / 2) / buffer * buffer;
                }
                if self.unmatched > 0 {
                    // The gap of a report already seen.
                    self.unmatched -= 1;
                    lost += frames;
                } else {
                    let waiting = self.pending.map_or(0, |g| g.frames);
                    self.pending = Some(Gap {
                        frames: waiting + frames,
                        until: at.saturating_add(MATCH_WAIT_NS),
                    });
                }
            }
        }
        lost
    }

    /// After a callback whose converter instant was `at` handed over a buffer of `frames`.
    pub(crate) fn delivered(&mut self, at: i64, frames: u64) {
        let ns = |f: u64| {
            i64::try_from(u128::from(f) * 1_000_000_000 / u128::from(self.rate)).unwrap_or(i64::MAX)
        };
        self.expected = Some((at.saturating_add(ns(frames)), ns(frames / 2), frames));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 48_000;

    /// The stream instant of frame `f` at 48 kHz.
    fn ns(f: u64) -> i64 {
        (u128::from(f) * 1_000_000_000 / u128::from(RATE)) as i64
    }

    /// Runs 1024-frame callbacks whose converter instants are frame `starts[k]`, with
    /// `reports[k]` xruns reported before callback `k`; the frames reported lost at each.
    fn script(starts: &[u64], reports: &[u64]) -> Vec<u64> {
        let mut losses = Losses::new(RATE);
        starts
            .iter()
            .zip(reports)
            .map(|(&f, &r)| {
                let lost = losses.at_callback(ns(f), r);
                losses.delivered(ns(f), 1024);
                lost
            })
            .collect()
    }

    #[test]
    fn a_gap_and_its_report_count_once_in_either_order() {
        // 777 frames lost before the fourth callback.
        let starts = [
            0,
            1024,
            2048,
            3072 + 777,
            4096 + 777,
            5120 + 777,
            6144 + 777,
        ];
        // The report before the gap shows (the ALSA host: same thread, before the next
        // callback): counted at the gap.
        assert_eq!(
            script(&starts, &[0, 0, 0, 1, 1, 1, 1]),
            [0, 0, 0, 777, 0, 0, 0]
        );
        // The report after it (JACK's notification thread): counted when it comes.
        assert_eq!(
            script(&starts, &[0, 0, 0, 0, 1, 1, 1]),
            [0, 0, 0, 0, 777, 0, 0]
        );
        assert_eq!(
            script(&starts, &[0, 0, 0, 0, 0, 0, 1]),
            [0, 0, 0, 0, 0, 0, 777]
        );
        // Two reports of one xrun (a report is matched with one gap at most).
        assert_eq!(
            script(&starts, &[0, 0, 0, 2, 2, 2, 2]),
            [0, 0, 0, 777, 0, 0, 0]
        );
        // No report: a step in the timestamps, not a loss.
        assert_eq!(script(&starts, &[0; 7]), [0; 7]);
    }

    #[test]
    fn unmatched_gaps_and_reports_expire() {
        let mut losses = Losses::new(RATE);
        let mut at = 0;
        let mut step = |losses: &mut Losses, skip: u64, reports: u64| {
            at += skip;
            let lost = losses.at_callback(ns(at), reports);
            losses.delivered(ns(at), 1024);
            at += 1024;
            lost
        };
        step(&mut losses, 0, 0);
        // A report without a gap (JACK's dummy driver waits for a late client) ...
        assert_eq!(step(&mut losses, 0, 1), 0);
        // ... is not matched with a gap half a second later ...
        for _ in 0..24 {
            assert_eq!(step(&mut losses, 0, 1), 0);
        }
        assert_eq!(step(&mut losses, 1024, 1), 0);
        // ... nor is that gap with a report after its wait.
        for _ in 0..24 {
            assert_eq!(step(&mut losses, 0, 1), 0);
        }
        assert_eq!(step(&mut losses, 0, 2), 0);
        // (That report waits in turn, for half a second, and expires.)
        for _ in 0..25 {
            assert_eq!(step(&mut losses, 0, 2), 0);
        }
        // Within the wait, a gap and its report are matched.
        assert_eq!(step(&mut losses, 2048, 2), 0);
        for _ in 0..22 {
            assert_eq!(step(&mut losses, 0, 2), 0);
        }
        assert_eq!(step(&mut losses, 0, 3), 2048);
    }

    #[test]
    fn on_jack_a_gap_is_whole_cycles() {
        // JACK's smoothed cycle times put a 13-cycle gap 2 frames short (seen through
        // jackd): rounded to the cycles the client missed.
        let mut losses = Losses::new(RATE);
        losses.whole_buffers();
        losses.at_callback(ns(0), 0);
        losses.delivered(ns(0), 1024);
        let at = 1024 + 13 * 1024 - 2;
        assert_eq!(losses.at_callback(ns(at), 1), 13 * 1024);
        losses.delivered(ns(at), 1024);
        // 600 frames late (over the tolerance of half a cycle): one cycle.
        assert_eq!(losses.at_callback(ns(at + 1024 + 600), 2), 1024);
    }

    #[test]
    fn a_gap_is_more_than_half_a_buffer() {
        // Late by 511 frames of 1024, with a report waiting: jitter, no gap.
        assert_eq!(script(&[0, 1535, 2559], &[0, 1, 1]), [0, 0, 0]);
        // By 513: a gap, matched with the report.
        assert_eq!(script(&[0, 1537, 2561], &[0, 1, 1]), [0, 513, 0]);
        // Early is never a gap (the next callback measures from the early one).
        assert_eq!(script(&[0, 700, 1724 + 600], &[0, 1, 1]), [0, 0, 600]);
    }
}

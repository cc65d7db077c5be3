//! One direction's account of its device, kept by every transfer loop: what it moved,
//! where the device last said it was (its status: position and timestamp), and the
//! recovery from an xrun or a suspend, with the frames the device went without measured
//! from that record.
//!
//! # The frames an xrun costs
//!
//! After each transfer the loop reads the device's status: the engine frame at the
//! converter (`engine - delay` for playback, `engine + delay` for capture) and the
//! `htstamp` it was true at. That is a point of the device's timeline. At the recovery,
//! right after `snd_pcm_prepare`, the device's timestamp of now (the status's `htstamp`)
//! extends the timeline from that point at the nominal rate; the engine's next frame must
//! be the device's frame at that instant, so the frames lost are that frame minus the
//! engine's clock:
//!
//! * playback: `lost = (now - at) x rate - delay`, the time since the buffer ran dry (the
//!   `delay` frames queued at the last transfer were played first);
//! * capture: `lost = (now - at) x rate + delay`: the frames captured and not read are
//!   thrown away by the prepare, and the device's buffer stopped taking more once full.
//!
//! What it cannot see: the restart itself (the pre-fill, between the prepare and the
//! start, is rendered on the frames the prepare's instant names), and a device whose
//! position is staler than its timestamp (alsa-lib's ioplug, ALSA's `jack` plugin: the
//! position moves once a server period while `htstamp` is the time of the status call,
//! so the estimate is short by up to a period). The scripted device of `src/fake.rs`
//! checks the rest to the frame.
//!
//! # Jumps without an error
//!
//! A device whose position falls behind its own timestamps without an xrun (a sound
//! server that had an xrun of its own and restarted, a driver that skipped) is caught by
//! comparing consecutive readings: when the position moved more than a buffer less than
//! the timestamps say, the difference is counted like an xrun (`RunReport::jumps`, and in
//! `xruns` and `frames_lost_estimate`) and the engine is told it lost those frames. A
//! shortfall up to a buffer is not counted: the `jack` plugin's position is up to a period
//! stale at any reading, and a loaded host delays the server's cycles by more.

use std::time::Duration;

use crate::pcm::{errno, frames_in, Pcm, EAGAIN, EPIPE, ESTRPIPE};
use crate::timestamp::{Reading, Timestamper};
use crate::{AlsaError, Granted};
use crate::{RunControl, RunReport};

/// The longest pause between two resume attempts of a suspended device.
const RESUME_BACKOFF_MAX: Duration = Duration::from_millis(64);

/// One direction of a transfer loop: its device, its report, and the device's last
/// reading.
pub(crate) struct Track<'a, P: Pcm> {
    pub(crate) pcm: &'a P,
    stamps: &'a Timestamper,
    pub(crate) report: RunReport,
    rate: u32,
    buffer: u32,
    timeout: Duration,
    /// `pcm.now()` at the end of the last transfer, or the last start.
    last_good: i128,
    /// `pcm.now()` when [`lost`](Self::lost) last measured: what it counted up to, not to
    /// be counted again by a fault that comes before the device moves again.
    counted_to: i128,
    /// The device's last reading since its last start.
    last: Option<Reading>,
    /// Playback: frames of silence to queue before the engine's next frame, when the
    /// device's timeline at a recovery was behind the engine (its queued frames were
    /// thrown away before their time: a suspend, or a linked capture's overrun, cut a
    /// full buffer short).
    lead_in: u64,
}

impl<'a, P: Pcm> Track<'a, P> {
    pub(crate) fn new(
        pcm: &'a P,
        stamps: &'a Timestamper,
        granted: &Granted,
        control: &RunControl,
    ) -> Self {
        Self {
            pcm,
            stamps,
            report: RunReport::default(),
            rate: granted.rate,
            buffer: granted.buffer.unwrap_or_default(),
            timeout: control.timeout(granted.buffer, granted.rate),
            last_good: pcm.now(),
            counted_to: i128::MIN,
            last: None,
            lead_in: 0,
        }
    }

    /// The time without progress after which the device is taken for gone.
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Notes `frames` moved, the engine's clock now `engine_clock`, and publishes where the
    /// device is. Returns the frames its position jumped behind its timestamps (see the
    /// module's doc), which the caller tells the engine it lost; 0 almost always.
    pub(crate) fn moved(&mut self, frames: usize, engine_clock: u64) -> u64 {
        self.report.frames += frames as u64;
        self.last_good = self.pcm.now();
        let Some(reading) = self.stamps.read(self.pcm, engine_clock) else {
            return 0;
        };
        let jumped = self.last.map_or(0, |last| self.jump(&last, &reading));
        if jumped > 0 {
            self.report.xruns += 1;
            self.report.jumps += 1;
            self.report.frames_lost_estimate += jumped;
        }
        let reading = reading.shifted(jumped);
        self.stamps.publish(&reading);
        self.last = Some(reading);
        jumped
    }

    /// The frames `now` is behind `last` extended by the time between them, if more than a
    /// buffer; else 0.
    fn jump(&self, last: &Reading, now: &Reading) -> u64 {
        use rtmix_core::TimeSource::Device;
        if last.source != Device || now.source != Device {
            return 0;
        }
        let expected = last.frame + frames_in(now.at - last.at, self.rate);
        let behind = expected.saturating_sub(now.frame);
        if behind > u64::from(self.buffer) {
            behind
        } else {
            0
        }
    }

    /// Notes a start of the device, the engine's clock `engine_clock`: for playback how
    /// full it was ([`RunReport::start_fill`]), and its first reading, from which the next
    /// xrun is measured (a restart begins a new timeline segment: no jump is looked for
    /// across it).
    pub(crate) fn started(&mut self, engine_clock: u64, playback: bool) {
        if playback {
            if let Ok(delay) = self.pcm.delay() {
                let fill = u64::try_from(delay).unwrap_or(0);
                let least = self.report.start_fill.map_or(fill, |least| least.min(fill));
                self.report.start_fill = Some(least);
            }
        }
        self.last_good = self.pcm.now();
        self.last = self.stamps.read(self.pcm, engine_clock);
        if let Some(reading) = &self.last {
            self.stamps.publish(reading);
        }
    }

    /// An error if nothing moved for the timeout.
    pub(crate) fn check_progress(&self) -> Result<(), AlsaError> {
        let waited = self.pcm.now() - self.last_good;
        if waited > i128::try_from(self.timeout.as_nanos()).unwrap_or(i128::MAX) {
            return Err(not_responding(waited));
        }
        Ok(())
    }

    /// Takes `e`, an error of the device: an xrun (`EPIPE`) or a suspend (`ESTRPIPE`) is
    /// counted and the device prepared again (a suspended one resumed first, waiting with
    /// a back-off while it says `EAGAIN`, never longer than the timeout); anything else
    /// is returned. The caller then asks [`lost`](Self::lost) what it cost.
    pub(crate) fn xrun(&mut self, e: &alsa::Error) -> Result<(), AlsaError> {
        self.fault(e)?;
        self.pcm.prepare().map_err(|e| crate::error::io(&e))
    }

    /// [`xrun`](Self::xrun) without the prepare: counts `e` if it is an xrun or a suspend
    /// (waiting for a suspended device to resume), else returns it.
    pub(crate) fn fault(&mut self, e: &alsa::Error) -> Result<(), AlsaError> {
        let errno = errno(e);
        if errno != EPIPE && errno != ESTRPIPE {
            return Err(crate::error::io(e));
        }
        self.report.xruns += 1;
        if errno == ESTRPIPE {
            self.resume()?;
        }
        Ok(())
    }

    /// Counts an xrun this side shared without reporting it first (the other PCM of a
    /// linked pair saw it: the kernel stops a linked group together).
    pub(crate) fn shared_xrun(&mut self) {
        self.report.xruns += 1;
    }

    /// Waits for a suspended device to come back: `snd_pcm_resume` until it stops saying
    /// `EAGAIN`, sleeping 1, 2, 4 ... 64 ms between tries, at most the timeout in all. A
    /// device that resumed is running again with a stale buffer: it is stopped, so that
    /// the prepare after this restarts it like after an xrun. One that cannot resume
    /// (`ENOSYS`, ...) is left to the prepare.
    fn resume(&self) -> Result<(), AlsaError> {
        let begun = self.pcm.now();
        let limit = i128::try_from(self.timeout.as_nanos()).unwrap_or(i128::MAX);
        let mut pause = Duration::from_millis(1);
        loop {
            match self.pcm.resume() {
                Ok(()) => {
                    let _ = self.pcm.stop();
                    return Ok(());
                }
                Err(e) if errno(&e) == EAGAIN => {
                    let waited = self.pcm.now() - begun;
                    if waited > limit {
                        return Err(not_responding(waited));
                    }
                    self.pcm.sleep(pause);
                    pause = (pause * 2).min(RESUME_BACKOFF_MAX);
                }
                Err(_) => return Ok(()),
            }
        }
    }

    /// After [`xrun`](Self::xrun): the frames the device's timeline moved past
    /// `engine_clock`, the engine's next frame, by now (the module's doc says how), added
    /// to the report. The caller tells the engine.
    pub(crate) fn lost(&mut self, engine_clock: u64) -> u64 {
        let now = self
            .pcm
            .status()
            .ok()
            .and_then(|s| s.at)
            .unwrap_or_else(|| self.pcm.now());
        let device = match self.last.take() {
            Some(last) if last.source == rtmix_core::TimeSource::Device => {
                last.frame + frames_in(now - last.at, self.rate)
            }
            Some(last) => last.frame + frames_in(self.pcm.now() - last.at, self.rate),
            // No reading since the last start (or the last fault): the time since then,
            // or since the last count, whichever is later.
            None => {
                let since = self.last_good.max(self.counted_to);
                engine_clock + frames_in(self.pcm.now() - since, self.rate)
            }
        };
        self.counted_to = self.pcm.now();
        let lost = device.saturating_sub(engine_clock);
        self.lead_in = engine_clock.saturating_sub(device);
        self.report.frames_lost_estimate += lost;
        lost
    }

    /// Playback, after [`lost`](Self::lost): the frames of silence to queue before the
    /// engine's next frame, so that it is played at its instant (see `lead_in`); 0 unless
    /// the device's timeline was behind the engine. Taken once.
    pub(crate) fn take_lead_in(&mut self) -> u64 {
        std::mem::take(&mut self.lead_in)
    }

    /// Ends the report with the engine's clock.
    pub(crate) fn finish(mut self, engine_clock: u64) -> RunReport {
        self.report.engine_clock = engine_clock;
        self.report
    }
}

fn not_responding(waited_nanos: i128) -> AlsaError {
    AlsaError::NotResponding {
        waited_ms: u64::try_from(waited_nanos / 1_000_000).unwrap_or(u64::MAX),
    }
}

/// An engine half that can be told about frames lost to an xrun.
pub(crate) trait LostFrames {
    fn lost(&mut self, frames: u64);
    fn clock(&self) -> u64;
}

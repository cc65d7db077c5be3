//! Opening a PCM for mmap transfers, and the transfer loops.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use alsa::pcm::{Access, Format, Frames, HwParams, TstampType, PCM};
use alsa::{Direction, ValueOr};
use rtmix_core::convert::{decode, encode, I24Packed, Sample, I24};
use rtmix_core::{DeviceClock, Home, InputEngine, OutputEngine, PlaySource, RecordTarget};

use crate::config::{hardware_format, period_and_periods, FORMATS};
use crate::error::{io, unsupported};
use crate::pcm::{narrow, Mmap, Pcm};
use crate::timestamp::Timestamper;
use crate::track::{LostFrames, Track};
use crate::{AlsaError, Config, Granted, RunControl, RunReport, SampleFormat};
use rtmix_core::TimeSource;
/// How long one wait for the device may take before the loop looks at its stop flag.
pub(crate) const WAIT_MS: u32 = 100;

/// A PCM opened for playback, with its scratch block.
#[derive(Debug)]
pub struct OutputDevice {
    pcm: PCM,
    granted: Granted,
    scratch: Vec<f32>,
    stamps: Timestamper,
}

/// A PCM opened for capture, with its scratch block.
#[derive(Debug)]
pub struct InputDevice {
    pcm: PCM,
    granted: Granted,
    scratch: Vec<f32>,
    stamps: Timestamper,
}

/// Opens `config.device` and negotiates mmap interleaved access with it: `FLOAT_LE` if the
/// device takes it, else `S16_LE`.
pub(crate) fn open(config: &Config, direction: Direction) -> Result<(PCM, Granted), AlsaError> {
    if let Some(host) = config.host.as_deref() {
        if !host.eq_ignore_ascii_case("ALSA") {
            return Err(AlsaError::NoSuchHost {
                host: host.to_owned(),
                available: vec!["ALSA".into()],
            });
        }
    }
    let pcm = PCM::new(&config.device, direction, false).map_err(|e| AlsaError::Open {
        device: config.device.clone(),
        errno: e.errno(),
    })?;
    let unsupported = |what| move |e: alsa::Error| unsupported(what, &e);
    let (asked_period, asked_periods) = period_and_periods(config);
    let format = {
        let hw = HwParams::any(&pcm).map_err(unsupported("hardware parameters"))?;
        hw.set_access(Access::MMapInterleaved)
            .map_err(unsupported("mmap interleaved access"))?;
        hw.set_channels(u32::from(config.channels))
            .map_err(unsupported("channel count"))?;
        hw.set_rate(config.rate, ValueOr::Nearest)
            .map_err(unsupported("rate"))?;
        let candidates = config.format.map_or(&FORMATS[..], |f| {
            match FORMATS.iter().position(|&p| p == f) {
                Some(i) => &FORMATS[i..=i],
                None => &[],
            }
        });
        let format = candidates
            .iter()
            .copied()
            .find(|&f| alsa_format(f).is_some_and(|a| hw.set_format(a).is_ok()))
            .ok_or_else(|| AlsaError::Unsupported {
                what: "sample format",
                message: format!("none of {candidates:?} (rtmix-alsa speaks {FORMATS:?})"),
            })?;
        hw.set_period_size_near(narrow(i64::from(asked_period)), ValueOr::Nearest)
            .map_err(unsupported("period size"))?;
        hw.set_periods_near(asked_periods, ValueOr::Nearest)
            .map_err(unsupported("period count"))?;
        pcm.hw_params(&hw).map_err(unsupported("configuration"))?;
        format
    };
    let hw = pcm.hw_params_current().map_err(|e| io(&e))?;
    let period = hw.get_period_size().map_err(|e| io(&e))?;
    let buffer = hw.get_buffer_size().map_err(|e| io(&e))?;
    let used = hw.get_format().map(|f| f.to_string()).unwrap_or_default();
    let mut granted = Granted {
        host: "ALSA".into(),
        device: config.device.clone(),
        format,
        rate: hw.get_rate().map_err(|e| io(&e))?,
        channels: config.channels,
        period: Some(u32::try_from(period).unwrap_or(u32::MAX)),
        buffer: Some(u32::try_from(buffer).unwrap_or(u32::MAX)),
        time_source: TimeSource::Host,
        hardware_format: None,
    };
    drop(hw);
    // Timestamps in the clock `Instant` reads. A device that refuses them still plays, and
    // its clock anchors say their time is the host's.
    if software_params(&pcm, period, true).is_ok() {
        granted.time_source = TimeSource::Device;
    } else {
        software_params(&pcm, period, false).map_err(unsupported("software parameters"))?;
    }
    granted.hardware_format = hardware_format(&pcm, &used);
    Ok((pcm, granted))
}

/// Wakes the loop once a period is free, leaves starting to the loop (which pre-fills the
/// buffer first) and, with `timestamps`, asks for monotonic timestamps.
fn software_params(pcm: &PCM, period: Frames, timestamps: bool) -> alsa::Result<()> {
    let sw = pcm.sw_params_current()?;
    sw.set_avail_min(period)?;
    // Never start by itself. (alsa-lib starts a PCM at the threshold only in its read and
    // write calls, which the loop does not use: with mmap commits this is belt and braces,
    // and a threshold of one period behaves the same; `RunReport::start_fill` shows the
    // device starting full.)
    sw.set_start_threshold(Frames::MAX / 2)?;
    if timestamps {
        sw.set_tstamp_mode(true)?;
        sw.set_tstamp_type(TstampType::Monotonic)?;
    }
    pcm.sw_params(&sw)
}

/// A format outside [`FORMATS`]: `open` never grants one.
fn not_spoken(format: SampleFormat) -> AlsaError {
    AlsaError::Unsupported {
        what: "sample format",
        message: format!("rtmix-alsa speaks {FORMATS:?}, not {format:?}"),
    }
}

/// The ALSA format of a [`SampleFormat`], for those of [`FORMATS`].
fn alsa_format(format: SampleFormat) -> Option<Format> {
    Some(match format {
        SampleFormat::F32 => Format::float(),
        SampleFormat::I32 => Format::s32(),
        SampleFormat::I24 => Format::s24(),
        SampleFormat::I24Packed => Format::s24_3(),
        SampleFormat::I16 => Format::s16(),
        _ => return None,
    })
}

/// Converts `block` into 24-bit samples in the low bytes of `dst`; returns those clamped.
fn encode_i24(block: &[f32], dst: &mut [i32]) -> u64 {
    let mut clipped = 0;
    for (d, &x) in dst.iter_mut().zip(block) {
        let (v, c) = I24::from_f32(x);
        *d = v.0;
        clipped += u64::from(c);
    }
    clipped
}

/// Converts `block` into packed 3-byte samples in `dst`; returns those clamped.
fn encode_i24_packed(block: &[f32], dst: &mut [u8]) -> u64 {
    let mut clipped = 0;
    for (d, &x) in dst.chunks_exact_mut(3).zip(block) {
        let (v, c) = I24Packed::from_f32(x);
        d.copy_from_slice(&v.0);
        clipped += u64::from(c);
    }
    clipped
}

/// The state a transfer loop keeps between turns.
pub(crate) struct Pump<'a, P: Pcm> {
    track: Track<'a, P>,
    control: &'a RunControl,
    /// Samples of the mapped type per frame.
    unit: usize,
    period: usize,
    buffer: u32,
    rate: u32,
    stalled: bool,
    /// Playback: frames of silence still to queue before the engine's next frame
    /// ([`Track::take_lead_in`]).
    lead_in: u64,
}

impl<'a, P: Pcm> Pump<'a, P> {
    /// A pump for `pcm`, moving `unit` samples of the mapped type per frame.
    pub(crate) fn new(
        pcm: &'a P,
        granted: &Granted,
        control: &'a RunControl,
        stamps: &'a Timestamper,
        unit: usize,
    ) -> Self {
        Self {
            track: Track::new(pcm, stamps, granted, control),
            control,
            unit,
            period: granted.period.unwrap_or_default() as usize,
            buffer: granted.buffer.unwrap_or_default(),
            rate: granted.rate,
            stalled: false,
            lead_in: 0,
        }
    }

    /// Lets what was committed play out, as `drain` would, but never for longer than the
    /// device timeout (a dead server never drains), then stops the PCM. It sleeps for
    /// what is still queued rather than polling: with less than a period left to write,
    /// the device is always "ready" and a poll would spin.
    fn play_out(&self) {
        let pcm = self.track.pcm;
        let begun = pcm.now();
        let limit = i128::try_from(self.track.timeout().as_nanos()).unwrap_or(i128::MAX);
        while pcm.now() - begun < limit {
            match pcm.avail_update() {
                Ok(avail) if avail < i64::from(self.buffer) => {
                    let queued = u64::try_from(i64::from(self.buffer) - avail).unwrap_or(0);
                    let nanos = queued * 1_000_000_000 / u64::from(self.rate.max(1));
                    pcm.sleep(Duration::from_nanos(nanos.max(1_000_000)));
                }
                _ => break,
            }
        }
        let _ = pcm.stop();
    }

    /// Runs the stall test hook once, when its frame has come.
    fn maybe_stall(&mut self) {
        stall_once(
            self.control,
            self.track.report.frames,
            &mut self.stalled,
            self.track.pcm,
        );
    }

    fn done(&self) -> bool {
        self.control.stop.load(Ordering::Acquire)
            || self
                .control
                .stop_after
                .is_some_and(|limit| self.track.report.frames >= limit)
    }

    /// Frames to move in this turn, at most `avail` (and what `stop_after` leaves).
    fn budget(&self, avail: usize) -> usize {
        let frames = self.track.report.frames;
        let left = self.control.stop_after.map_or(usize::MAX, |l| {
            usize::try_from(l - frames.min(l)).unwrap_or(usize::MAX)
        });
        avail.min(left)
    }

    /// Recovers from an xrun or suspend and tells `engine` the frames the device went
    /// without, or returns the error if it is anything else.
    fn recover(&mut self, e: &alsa::Error, engine: &mut impl LostFrames) -> Result<(), AlsaError> {
        self.track.xrun(e)?;
        let lost = self.track.lost(engine.clock());
        engine.lost(lost);
        self.lead_in = self.track.take_lead_in();
        Ok(())
    }

    /// Notes `frames` moved; tells `engine` of a jump of the device's position.
    fn moved(&mut self, frames: usize, engine: &mut impl LostFrames) {
        let jumped = self.track.moved(frames, engine.clock());
        if jumped > 0 {
            engine.lost(jumped);
        }
    }
}

impl OutputDevice {
    /// Opens a PCM for playback.
    pub fn open(config: &Config) -> Result<Self, AlsaError> {
        let (pcm, granted) = open(config, Direction::Playback)?;
        let scratch =
            vec![0.0; granted.buffer.unwrap_or_default() as usize * usize::from(granted.channels)];
        let stamps = Timestamper::new(granted.rate, Direction::Playback);
        Ok(Self {
            pcm,
            granted,
            scratch,
            stamps,
        })
    }

    /// What the device granted.
    pub fn granted(&self) -> &Granted {
        &self.granted
    }

    /// The stream's clock: where its frames are at the converter, once it runs.
    pub fn clock(&self) -> Arc<DeviceClock> {
        self.stamps.clock().clone()
    }

    /// The transfer loop: fills the device buffer, starts the device, then renders each
    /// free period as it comes, until `control` says to stop. Allocation-free.
    pub fn run<P: PlaySource, H: Home>(
        &mut self,
        engine: &mut OutputEngine<P, H>,
        control: &RunControl,
    ) -> Result<RunReport, AlsaError> {
        let Self {
            pcm,
            granted,
            scratch,
            stamps,
        } = self;
        let io_error = |e: alsa::Error| crate::error::io(&e);
        let ch = usize::from(granted.channels);
        match granted.format {
            SampleFormat::F32 => {
                let io = pcm.io_checked::<f32>().map_err(io_error)?;
                play_loop(
                    Pump::new(&*pcm, granted, control, stamps, ch),
                    &io,
                    engine,
                    |engine, buf| {
                        engine.process(buf);
                        0
                    },
                )
            }
            SampleFormat::I32 => {
                let io = pcm.io_i32().map_err(io_error)?;
                play_loop(
                    Pump::new(&*pcm, granted, control, stamps, ch),
                    &io,
                    engine,
                    |engine, buf| {
                        let block = &mut scratch[..buf.len()];
                        engine.process(block);
                        encode(block, buf) as u64
                    },
                )
            }
            SampleFormat::I24 => {
                let io = pcm.io_i32_s24().map_err(io_error)?;
                play_loop(
                    Pump::new(&*pcm, granted, control, stamps, ch),
                    &io,
                    engine,
                    |engine, buf| {
                        let block = &mut scratch[..buf.len()];
                        engine.process(block);
                        encode_i24(block, buf)
                    },
                )
            }
            SampleFormat::I24Packed => {
                let io = pcm.io_bytes();
                play_loop(
                    Pump::new(&*pcm, granted, control, stamps, ch * 3),
                    &io,
                    engine,
                    |engine, buf| {
                        let block = &mut scratch[..buf.len() / 3];
                        engine.process(block);
                        encode_i24_packed(block, buf)
                    },
                )
            }
            SampleFormat::I16 => {
                let io = pcm.io_checked::<i16>().map_err(io_error)?;
                play_loop(
                    Pump::new(&*pcm, granted, control, stamps, ch),
                    &io,
                    engine,
                    |engine, buf| {
                        let block = &mut scratch[..buf.len()];
                        engine.process(block);
                        encode(block, buf) as u64
                    },
                )
            }
            other => Err(not_spoken(other)),
        }
    }
}

/// The playback loop over samples of type `S`, `unit` of them to a frame; `render` fills
/// a mapped slice and returns the samples it clamped.
pub(crate) fn play_loop<P: Pcm, S: Copy + Default, T: Mmap<S>, E: LostFrames>(
    mut pump: Pump<'_, P>,
    io: &T,
    engine: &mut E,
    mut render: impl FnMut(&mut E, &mut [S]) -> u64,
) -> Result<RunReport, AlsaError> {
    let pcm = pump.track.pcm;
    let mut started = false;
    while !pump.done() {
        pump.maybe_stall();
        let avail = match pcm.avail_update() {
            Ok(n) => usize::try_from(n).unwrap_or(0),
            Err(e) => {
                pump.recover(&e, engine)?;
                started = false;
                continue;
            }
        };
        if started && avail < pump.period {
            match pcm.wait(WAIT_MS) {
                Ok(_) => pump.track.check_progress()?,
                Err(e) => {
                    pump.recover(&e, engine)?;
                    started = false;
                }
            }
            continue;
        }
        let want = pump.budget(avail);
        let unit = pump.unit;
        let mut clipped = 0;
        let mut silent = 0;
        let lead_in = usize::try_from(pump.lead_in).unwrap_or(usize::MAX);
        let moved = io.mmap(want, |buf| {
            // Silence first, while the device's timeline catches up with the engine.
            silent = lead_in.min(buf.len() / unit);
            let (lead, rest) = buf.split_at_mut(silent * unit);
            lead.fill(S::default());
            if !rest.is_empty() {
                clipped = render(engine, rest);
            }
            buf.len() / unit
        });
        let moved = match moved {
            Ok(frames) => {
                pump.lead_in -= silent as u64;
                pump.track.report.clipped += clipped;
                pump.moved(frames - silent, engine);
                frames
            }
            Err(e) => {
                pump.recover(&e, engine)?;
                started = false;
                continue;
            }
        };
        // One mapping ends at the ring's end: after a recovery that left the write
        // position inside the ring, the buffer is full only once the next turn has
        // filled the rest from its start.
        if !started && (moved >= avail || pump.done()) {
            // The buffer is full (or there is nothing more to play): start the device.
            if let Err(e) = pcm.start() {
                pump.recover(&e, engine)?;
                continue;
            }
            pump.track.started(engine.clock(), true);
            started = true;
        }
    }
    if started {
        // Let what was committed play out (an offline device returns at once).
        pump.play_out();
    }
    Ok(pump.track.finish(engine.clock()))
}

impl InputDevice {
    /// Opens a PCM for capture.
    pub fn open(config: &Config) -> Result<Self, AlsaError> {
        let (pcm, granted) = open(config, Direction::Capture)?;
        let scratch =
            vec![0.0; granted.buffer.unwrap_or_default() as usize * usize::from(granted.channels)];
        let stamps = Timestamper::new(granted.rate, Direction::Capture);
        Ok(Self {
            pcm,
            granted,
            scratch,
            stamps,
        })
    }

    /// What the device granted.
    pub fn granted(&self) -> &Granted {
        &self.granted
    }

    /// The stream's clock: where its frames are at the converter, once it runs.
    pub fn clock(&self) -> Arc<DeviceClock> {
        self.stamps.clock().clone()
    }

    /// The transfer loop: starts the device, then hands each captured period to the
    /// engine, until `control` says to stop. Allocation-free.
    pub fn run<R: RecordTarget, H: Home>(
        &mut self,
        engine: &mut InputEngine<R, H>,
        control: &RunControl,
    ) -> Result<RunReport, AlsaError> {
        let Self {
            pcm,
            granted,
            scratch,
            stamps,
        } = self;
        let io_error = |e: alsa::Error| crate::error::io(&e);
        let ch = usize::from(granted.channels);
        match granted.format {
            SampleFormat::F32 => {
                let io = pcm.io_checked::<f32>().map_err(io_error)?;
                capture_loop(
                    Pump::new(&*pcm, granted, control, stamps, ch),
                    &io,
                    engine,
                    |engine, buf| {
                        engine.process(buf);
                    },
                )
            }
            SampleFormat::I32 => {
                let io = pcm.io_i32().map_err(io_error)?;
                capture_loop(
                    Pump::new(&*pcm, granted, control, stamps, ch),
                    &io,
                    engine,
                    |engine, buf| {
                        let block = &mut scratch[..buf.len()];
                        decode(buf, block);
                        engine.process(block);
                    },
                )
            }
            SampleFormat::I24 => {
                let io = pcm.io_i32_s24().map_err(io_error)?;
                capture_loop(
                    Pump::new(&*pcm, granted, control, stamps, ch),
                    &io,
                    engine,
                    |engine, buf| {
                        let block = &mut scratch[..buf.len()];
                        for (b, &v) in block.iter_mut().zip(buf.iter()) {
                            // Sign-extend the low 24 bits.
                            *b = I24((v << 8) >> 8).to_f32();
                        }
                        engine.process(block);
                    },
                )
            }
            SampleFormat::I24Packed => {
                let io = pcm.io_bytes();
                capture_loop(
                    Pump::new(&*pcm, granted, control, stamps, ch * 3),
                    &io,
                    engine,
                    |engine, buf| {
                        let block = &mut scratch[..buf.len() / 3];
                        for (b, v) in block.iter_mut().zip(buf.chunks_exact(3)) {
                            *b = I24Packed([v[0], v[1], v[2]]).to_f32();
                        }
                        engine.process(block);
                    },
                )
            }
            SampleFormat::I16 => {
                let io = pcm.io_checked::<i16>().map_err(io_error)?;
                capture_loop(
                    Pump::new(&*pcm, granted, control, stamps, ch),
                    &io,
                    engine,
                    |engine, buf| {
                        let block = &mut scratch[..buf.len()];
                        decode(buf, block);
                        engine.process(block);
                    },
                )
            }
            other => Err(not_spoken(other)),
        }
    }
}

/// The capture loop over samples of type `S`, `unit` of them to a frame; `take` hands a
/// mapped slice to the engine. An overrun or a suspend is recovered like playback's: the
/// device is prepared and started again, and the engine told the frames it went without
/// (those it held unread included: the prepare throws them away).
pub(crate) fn capture_loop<P: Pcm, S, T: Mmap<S>, E: LostFrames>(
    mut pump: Pump<'_, P>,
    io: &T,
    engine: &mut E,
    mut take: impl FnMut(&mut E, &[S]),
) -> Result<RunReport, AlsaError> {
    let pcm = pump.track.pcm;
    let start = |pump: &mut Pump<'_, P>, engine: &E| {
        pcm.start().map_err(|e| crate::error::io(&e))?;
        pump.track.started(engine.clock(), false);
        Ok::<(), AlsaError>(())
    };
    start(&mut pump, engine)?;
    while !pump.done() {
        pump.maybe_stall();
        let avail = match pcm.avail_update() {
            Ok(n) => usize::try_from(n).unwrap_or(0),
            Err(e) => {
                pump.recover(&e, engine)?;
                start(&mut pump, engine)?;
                continue;
            }
        };
        if avail < pump.period.min(pump.budget(usize::MAX)) {
            match pcm.wait(WAIT_MS) {
                Ok(_) => pump.track.check_progress()?,
                Err(e) => {
                    pump.recover(&e, engine)?;
                    start(&mut pump, engine)?;
                }
            }
            continue;
        }
        let want = pump.budget(avail);
        let unit = pump.unit;
        let moved = io.mmap(want, |buf| {
            take(engine, buf);
            buf.len() / unit
        });
        match moved {
            Ok(frames) => pump.moved(frames, engine),
            Err(e) => {
                pump.recover(&e, engine)?;
                start(&mut pump, engine)?;
            }
        }
    }
    let _ = pcm.stop();
    Ok(pump.track.finish(engine.clock()))
}

/// The stall test hook of `control`: sleeps once, when `frames` have been transferred.
pub(crate) fn stall_once(control: &RunControl, frames: u64, stalled: &mut bool, pcm: &impl Pcm) {
    if let Some((after, duration)) = control.stall {
        if !*stalled && frames >= after {
            *stalled = true;
            pcm.sleep(duration);
        }
    }
}

impl<P: PlaySource, H: Home> LostFrames for OutputEngine<P, H> {
    fn lost(&mut self, frames: u64) {
        self.report_lost(frames);
    }

    fn clock(&self) -> u64 {
        OutputEngine::clock(self)
    }
}

impl<R: RecordTarget, H: Home> LostFrames for InputEngine<R, H> {
    fn lost(&mut self, frames: u64) {
        self.report_lost(frames);
    }

    fn clock(&self) -> u64 {
        InputEngine::clock(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `open` leaves the PCM as the loop needs it (checked where no device behaviour can
    /// show it: CI's null and file PCMs act the same without these settings): woken once a
    /// period is free, never started by a threshold (the loop starts it after its
    /// pre-fill), and stamped in the monotonic clock `Instant` reads.
    #[test]
    fn an_opened_pcm_wakes_per_period_starts_only_when_told_and_stamps_monotonic_time() {
        let config = Config::new("null", 48_000, 2).period(256).periods(3);
        for direction in [Direction::Playback, Direction::Capture] {
            let (pcm, granted) = open(&config, direction).unwrap();
            let sw = pcm.sw_params_current().unwrap();
            let period = narrow(i64::from(granted.period.unwrap()));
            assert_eq!(sw.get_avail_min().unwrap(), period, "{direction:?}");
            assert!(
                sw.get_start_threshold().unwrap() > narrow(i64::from(granted.buffer.unwrap())),
                "{direction:?}: the threshold is past any fill"
            );
            assert!(sw.get_tstamp_mode().unwrap(), "{direction:?}");
            assert_eq!(
                sw.get_tstamp_type().unwrap(),
                TstampType::Monotonic,
                "{direction:?}"
            );
            assert_eq!(granted.time_source, TimeSource::Device, "{direction:?}");
        }
    }
}

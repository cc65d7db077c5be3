//! Duplex in one thread: a playback PCM and a capture PCM driven by one loop, each turn
//! taking what was captured, then rendering what can be played, both into the same
//! engine.
//!
//! The two PCMs are linked (`snd_pcm_link`) when the devices allow it, so they start on the
//! same hardware tick and the input and output clocks are aligned by construction. When
//! they cannot be linked (ALSA's `jack` plugin, two different cards), they are started back
//! to back and [`DuplexDevice::linked`] says so: the offset between the clocks is then only
//! known by measuring it (a loopback test, `tests/jack.rs`).

use std::sync::Arc;
use std::time::Instant;

use alsa::pcm::{State, IO, PCM};
use rtmix_core::{DeviceClock, Engine, Home, PlaySource, RecordTarget, TimeSource};

use crate::device::{check_progress, note_start, open, recover, stall_once, RunControl, RunReport};
use crate::edge::{decode_bytes, encode_bytes};
use crate::timestamp::Timestamper;
use crate::{AlsaError, Config, Granted, SampleFormat};

/// How long one wait for the output may take before the loop looks at its stop flag.
const WAIT_MS: u32 = 100;

/// A playback and a capture PCM driven together by one loop.
#[derive(Debug)]
pub struct DuplexDevice {
    output: PCM,
    input: PCM,
    granted: (Granted, Granted),
    linked: bool,
    stamps: (Timestamper, Timestamper),
    /// Conversion blocks for formats other than `FLOAT_LE`: `(output, input)`.
    scratch: (Vec<f32>, Vec<f32>),
}

/// The offset between a duplex stream's input and output frame clocks: the input frame at
/// the ADC when output frame `f` is at the DAC is `f + frames`. Through a loopback cable
/// with no delay of its own, that is the round trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DuplexOffset {
    /// Input frame minus output frame, at the same instant.
    pub frames: i64,
    /// How far to trust it.
    pub kind: OffsetKind,
}

/// How a [`DuplexOffset`] was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetKind {
    /// The PCMs are linked (they start on the same hardware tick) and both clocks carry
    /// device timestamps: the offset is the devices' own account, exact up to converter
    /// delays the driver does not report.
    Linked,
    /// The PCMs were started back to back, or a clock has only host time: the offset is
    /// an estimate from two positions read at slightly different times, and the true
    /// round trip can differ by the plugin's own buffering. Measure it (a loopback
    /// cross-correlation) where it matters.
    Estimate,
}

/// What a duplex loop did, per direction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DuplexReport {
    /// The playback side.
    pub output: RunReport,
    /// The capture side.
    pub input: RunReport,
}

impl DuplexDevice {
    /// Opens `output` for playback and `input` for capture, each in the format its config
    /// insists on or the best the device has (as [`OutputDevice::open`](crate::OutputDevice::open)
    /// negotiates), and links them if the devices allow it.
    pub fn open(output: &Config, input: &Config) -> Result<Self, AlsaError> {
        let (out_pcm, out_granted) = open(output, alsa::Direction::Playback)?;
        let (in_pcm, in_granted) = open(input, alsa::Direction::Capture)?;
        let block = |g: &Granted| vec![0.0; g.buffer as usize * usize::from(g.channels)];
        let scratch = (block(&out_granted), block(&in_granted));
        let linked = out_pcm.link(&in_pcm).is_ok();
        let stamps = (
            Timestamper::new(out_granted.rate, alsa::Direction::Playback),
            Timestamper::new(in_granted.rate, alsa::Direction::Capture),
        );
        Ok(Self {
            output: out_pcm,
            input: in_pcm,
            granted: (out_granted, in_granted),
            linked,
            stamps,
            scratch,
        })
    }

    /// What the devices granted: `(output, input)`.
    pub fn granted(&self) -> (&Granted, &Granted) {
        (&self.granted.0, &self.granted.1)
    }

    /// True when the two PCMs are linked and start together. When false they were started
    /// back to back, and the offset between the input and output clocks is not known
    /// exactly: measure it.
    pub fn linked(&self) -> bool {
        self.linked
    }

    /// The clocks of the two directions, `(output, input)`.
    pub fn clocks(&self) -> (Arc<DeviceClock>, Arc<DeviceClock>) {
        (self.stamps.0.clock().clone(), self.stamps.1.clock().clone())
    }

    /// The offset between the input and output frame clocks (see [`duplex_offset`]), or
    /// `None` until both have run a period.
    pub fn offset(&self) -> Option<DuplexOffset> {
        let (output, input) = self.clocks();
        duplex_offset(&output, &input, self.linked)
    }

    /// The duplex loop: pre-fills the output, starts both, then each turn hands the engine
    /// what was captured and renders what can be played, until `control` says to stop
    /// (`stop_after` counts output frames). Allocation-free.
    ///
    /// With `FLOAT_LE` on both sides the engine reads and renders in the mmap areas
    /// themselves; any other pair of formats goes through the scratch blocks, converted
    /// at the edge.
    pub fn run<P: PlaySource, R: RecordTarget, H: Home>(
        &mut self,
        engine: &mut Engine<P, R, H>,
        control: &RunControl,
    ) -> Result<DuplexReport, AlsaError> {
        let Self {
            output,
            input,
            granted,
            linked,
            stamps,
            scratch,
        } = self;
        let io_err = |e: alsa::Error| AlsaError::io(&e);
        let sides = Sides {
            output,
            input,
            granted,
            linked: *linked,
            stamps,
        };
        let (out_ch, in_ch) = (
            usize::from(granted.0.channels),
            usize::from(granted.1.channels),
        );
        let (out_format, in_format) = (granted.0.format, granted.1.format);
        if out_format == SampleFormat::F32 && in_format == SampleFormat::F32 {
            let out_io = output.io_checked::<f32>().map_err(io_err)?;
            let in_io = input.io_checked::<f32>().map_err(io_err)?;
            sides.turns(
                (&out_io, out_ch),
                (&in_io, in_ch),
                engine,
                control,
                |engine, buf| {
                    engine.output.process(buf);
                    0
                },
                |engine, buf| engine.input.process(buf),
            )
        } else {
            let (out_scratch, in_scratch) = scratch;
            let (out_io, in_io) = (output.io_bytes(), input.io_bytes());
            sides.turns(
                (&out_io, out_ch * out_format.bytes()),
                (&in_io, in_ch * in_format.bytes()),
                engine,
                control,
                |engine, bytes| {
                    let block = &mut out_scratch[..bytes.len() / out_format.bytes()];
                    engine.output.process(block);
                    encode_bytes(out_format, block, bytes)
                },
                |engine, bytes| {
                    let block = &mut in_scratch[..bytes.len() / in_format.bytes()];
                    decode_bytes(in_format, bytes, block);
                    engine.input.process(block);
                },
            )
        }
    }
}

/// The parts of a [`DuplexDevice`] its loop reads, apart from the scratch blocks that its
/// conversions borrow.
struct Sides<'a> {
    output: &'a PCM,
    input: &'a PCM,
    granted: &'a (Granted, Granted),
    linked: bool,
    stamps: &'a (Timestamper, Timestamper),
}

impl Sides<'_> {
    /// The loop over mapped samples of types `O` (output) and `I` (input), each with its
    /// samples per frame; `render` fills a mapped output slice and returns the samples it
    /// clamped, `take` hands a mapped input slice to the engine.
    #[allow(clippy::too_many_lines)]
    fn turns<O: alsa::pcm::IoFormat, I: alsa::pcm::IoFormat, E: DuplexEngine>(
        &self,
        (out_io, out_unit): (&IO<'_, O>, usize),
        (in_io, in_unit): (&IO<'_, I>, usize),
        engine: &mut E,
        control: &RunControl,
        mut render: impl FnMut(&mut E, &mut [O]) -> u64,
        mut take: impl FnMut(&mut E, &[I]),
    ) -> Result<DuplexReport, AlsaError> {
        let io_err = |e: alsa::Error| AlsaError::io(&e);
        let (output, input) = (self.output, self.input);
        let period = self.granted.0.period as usize;
        let timeout = control.timeout(self.granted.0.buffer, self.granted.0.rate);
        let mut report = DuplexReport::default();
        let mut last_good = Instant::now();
        let mut started = false;
        let mut stalled = false;
        let done = |report: &DuplexReport| {
            control.stop.load(std::sync::atomic::Ordering::Acquire)
                || control
                    .stop_after
                    .is_some_and(|limit| report.output.frames >= limit)
        };
        let mut play = |engine: &mut E, report: &mut DuplexReport, want: usize| {
            let mut clipped = 0;
            let frames = out_io
                .mmap(want, |buf| {
                    clipped = render(engine, buf);
                    buf.len() / out_unit
                })
                .map_err(io_err)?;
            report.output.frames += frames as u64;
            report.output.clipped += clipped;
            Ok::<usize, AlsaError>(frames)
        };
        while !done(&report) {
            stall_once(control, report.output.frames, &mut stalled);
            if !started {
                // Pre-fill the output, then start both (one start when linked).
                let avail = output.avail_update().map_err(io_err)?;
                play(engine, &mut report, usize::try_from(avail).unwrap_or(0))?;
                output.start().map_err(io_err)?;
                note_start(output, &mut report.output);
                // After an output xrun the input may still be running: start only a
                // stopped one (an xrun of its own is recovered below).
                if !self.linked && input.state() != State::Running {
                    input.start().map_err(io_err)?;
                }
                started = true;
                last_good = Instant::now();
                continue;
            }
            // Capture first, so the input a block depends on is in before the output.
            let mut moved = false;
            match input.avail_update() {
                Ok(n) if n > 0 => {
                    let frames = in_io
                        .mmap(usize::try_from(n).unwrap_or(0), |buf| {
                            take(engine, buf);
                            buf.len() / in_unit
                        })
                        .map_err(io_err)?;
                    report.input.frames += frames as u64;
                    moved |= frames > 0;
                    self.stamps.1.publish(input, engine.input_clock());
                }
                Ok(_) => {}
                Err(e) => {
                    let lost = recover(
                        input,
                        &e,
                        self.stamps.1.clock(),
                        engine.input_clock(),
                        last_good,
                        &mut report.input,
                    )?;
                    engine.input_lost(lost);
                    input.start().map_err(io_err)?;
                }
            }
            match output.avail_update() {
                Ok(n) if usize::try_from(n).unwrap_or(0) >= period => {
                    let left = control
                        .stop_after
                        .map_or(u64::MAX, |l| l.saturating_sub(report.output.frames));
                    let want = usize::try_from(n)
                        .unwrap_or(0)
                        .min(usize::try_from(left).unwrap_or(usize::MAX));
                    let frames = play(engine, &mut report, want)?;
                    moved |= frames > 0;
                    last_good = Instant::now();
                    self.stamps.0.publish(output, engine.output_clock());
                }
                Ok(_) => {}
                Err(e) => {
                    let lost = recover(
                        output,
                        &e,
                        self.stamps.0.clock(),
                        engine.output_clock(),
                        last_good,
                        &mut report.output,
                    )?;
                    engine.output_lost(lost);
                    started = false;
                    continue;
                }
            }
            if !moved {
                if let Err(e) = output.wait(Some(WAIT_MS)) {
                    let lost = recover(
                        output,
                        &e,
                        self.stamps.0.clock(),
                        engine.output_clock(),
                        last_good,
                        &mut report.output,
                    )?;
                    engine.output_lost(lost);
                    started = false;
                    continue;
                }
                check_progress(last_good, timeout)?;
            }
        }
        let _ = output.drop();
        let _ = input.drop();
        report.output.engine_clock = engine.output_clock();
        report.input.engine_clock = engine.input_clock();
        Ok(report)
    }
}

/// What the duplex loop needs of an engine besides the closures that feed it.
trait DuplexEngine {
    fn output_clock(&self) -> u64;
    fn input_clock(&self) -> u64;
    fn output_lost(&mut self, frames: u64);
    fn input_lost(&mut self, frames: u64);
}

impl<P: PlaySource, R: RecordTarget, H: Home> DuplexEngine for Engine<P, R, H> {
    fn output_clock(&self) -> u64 {
        self.output.clock()
    }
    fn input_clock(&self) -> u64 {
        self.input.clock()
    }
    fn output_lost(&mut self, frames: u64) {
        self.output.report_lost(frames);
    }
    fn input_lost(&mut self, frames: u64) {
        self.input.report_lost(frames);
    }
}

/// The offset between an input and an output clock of one duplex stream: the input frame
/// at the ADC minus the output frame at the DAC, both read at the output's latest anchor.
/// `linked` says the two devices start together. `None` until both clocks have anchors.
pub fn duplex_offset(
    output: &DeviceClock,
    input: &DeviceClock,
    linked: bool,
) -> Option<DuplexOffset> {
    let out = output.anchor()?;
    let input_frame = input.frame_at(out.at)?;
    let exact =
        linked && out.source == TimeSource::Device && input.anchor()?.source == TimeSource::Device;
    Some(DuplexOffset {
        frames: i64::try_from(i128::from(input_frame) - i128::from(out.frame)).ok()?,
        kind: if exact {
            OffsetKind::Linked
        } else {
            OffsetKind::Estimate
        },
    })
}

//! Duplex in one thread: a playback PCM and a capture PCM driven by one loop, each turn
//! taking what was captured, then rendering what can be played, both into the same
//! engine.
//!
//! The two PCMs are linked (`snd_pcm_link`) when the devices allow it, so they start on the
//! same tick and the kernel stops them together at an xrun. A link says nothing about
//! their clocks: the kernel links PCMs of two cards as readily as two of one card, and
//! two cards' clocks run free of each other. The stream's input and output clocks are
//! taken as one only when the PCMs are linked AND on one card (`snd_pcm_info`'s card
//! numbers): [`DuplexDevice::linked`] and [`OffsetKind::Exact`](crate::OffsetKind::Exact) say so only then. When
//! they cannot be linked (ALSA's `jack` plugin) they are started back to back; either way
//! the offset between the clocks is then an estimate, known exactly only by measuring it
//! (a loopback test, `tests/jack.rs`).
//!
//! A linked pair recovers from an xrun or a suspend on either side together: one prepare
//! (of the group), both engines told the frames their side went without, the output
//! pre-filled, one start. An unlinked pair recovers each side on its own.

use std::sync::Arc;

use alsa::pcm::{State, PCM};
use rtmix_core::{DeviceClock, Engine, Home, PlaySource, RecordTarget, TimeSource};

use crate::device::{open, stall_once, WAIT_MS};
use crate::edge::{decode_bytes, encode_bytes};
use crate::pcm::{Mmap, Pcm};
use crate::timestamp::Timestamper;
use crate::track::Track;
use crate::{AlsaError, Config, DuplexReport, Granted, Offset, RunControl, SampleFormat};

/// A playback and a capture PCM driven together by one loop.
#[derive(Debug)]
pub struct DuplexDevice {
    output: PCM,
    input: PCM,
    granted: (Granted, Granted),
    /// `snd_pcm_link` succeeded: they start, stop and prepare together.
    linked: bool,
    /// Both PCMs are on one card: one clock.
    one_clock: bool,
    stamps: (Timestamper, Timestamper),
    /// Conversion blocks for formats other than `FLOAT_LE`: `(output, input)`.
    scratch: (Vec<f32>, Vec<f32>),
}

impl DuplexDevice {
    /// Opens `output` for playback and `input` for capture, each in the format its config
    /// insists on or the best the device has (as [`OutputDevice::open`](crate::OutputDevice::open)
    /// negotiates), and links them if the devices allow it.
    pub fn open(output: &Config, input: &Config) -> Result<Self, AlsaError> {
        let (out_pcm, out_granted) = open(output, alsa::Direction::Playback)?;
        let (in_pcm, in_granted) = open(input, alsa::Direction::Capture)?;
        let block = |g: &Granted| {
            vec![0.0; g.buffer.unwrap_or_default() as usize * usize::from(g.channels)]
        };
        let scratch = (block(&out_granted), block(&in_granted));
        let linked = out_pcm.link(&in_pcm).is_ok();
        let one_clock = same_card(&out_pcm, &in_pcm);
        let stamps = (
            Timestamper::new(out_granted.rate, alsa::Direction::Playback),
            Timestamper::new(in_granted.rate, alsa::Direction::Capture),
        );
        Ok(Self {
            output: out_pcm,
            input: in_pcm,
            granted: (out_granted, in_granted),
            linked,
            one_clock,
            stamps,
            scratch,
        })
    }

    /// What the devices granted: `(output, input)`.
    pub fn granted(&self) -> (&Granted, &Granted) {
        (&self.granted.0, &self.granted.1)
    }

    /// True when the two PCMs are linked (they start on the same tick) and on one card (one
    /// clock: they stay together). When false the offset between the input and output
    /// clocks is not known exactly: measure it. PCMs of two cards may still be linked
    /// ([`started_together`](Self::started_together)), but their clocks drift apart.
    pub fn linked(&self) -> bool {
        self.linked && self.one_clock
    }

    /// True when `snd_pcm_link` joined the two PCMs: they start, stop at an xrun and
    /// recover together, whether or not they share a clock.
    pub fn started_together(&self) -> bool {
        self.linked
    }

    /// The clocks of the two directions, `(output, input)`.
    pub fn clocks(&self) -> (Arc<DeviceClock>, Arc<DeviceClock>) {
        (self.stamps.0.clock().clone(), self.stamps.1.clock().clone())
    }

    /// The offset between the input and output frame clocks (see [`duplex_offset`]), or
    /// `None` until both have run a period.
    pub fn offset(&self) -> Option<Offset> {
        let (output, input) = self.clocks();
        duplex_offset(&output, &input, self.linked())
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
            ..
        } = self;
        let io_err = |e: alsa::Error| crate::error::io(&e);
        let sides = Sides {
            output: &*output,
            input: &*input,
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
pub(crate) struct Sides<'a, P: Pcm> {
    pub(crate) output: &'a P,
    pub(crate) input: &'a P,
    pub(crate) granted: &'a (Granted, Granted),
    /// The PCMs are linked: they start, stop and prepare as one group.
    pub(crate) linked: bool,
    pub(crate) stamps: &'a (Timestamper, Timestamper),
}

/// Which side of a duplex pair an error came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Output,
    Input,
}

impl<P: Pcm> Sides<'_, P> {
    /// The loop over mapped samples of types `O` (output) and `I` (input), each with its
    /// samples per frame; `render` fills a mapped output slice and returns the samples it
    /// clamped, `take` hands a mapped input slice to the engine.
    #[allow(clippy::too_many_lines)]
    pub(crate) fn turns<O: Copy + Default, I, E: DuplexEngine>(
        &self,
        (out_io, out_unit): (&impl Mmap<O>, usize),
        (in_io, in_unit): (&impl Mmap<I>, usize),
        engine: &mut E,
        control: &RunControl,
        mut render: impl FnMut(&mut E, &mut [O]) -> u64,
        mut take: impl FnMut(&mut E, &[I]),
    ) -> Result<DuplexReport, AlsaError> {
        let (output, input) = (self.output, self.input);
        let period = self.granted.0.period.unwrap_or_default() as usize;
        let mut out = Track::new(output, &self.stamps.0, &self.granted.0, control);
        let mut inp = Track::new(input, &self.stamps.1, &self.granted.1, control);
        let mut started = false;
        let mut stalled = false;
        let done = |out: &Track<'_, P>| {
            control.stop.load(std::sync::atomic::Ordering::Acquire)
                || control
                    .stop_after
                    .is_some_and(|limit| out.report.frames >= limit)
        };
        // Frames of silence still to queue before the engine's next output frame
        // (`Track::take_lead_in`).
        let mut lead_in = 0u64;
        // Renders at most `want` frames after what is left of the lead-in; returns the
        // engine's frames and the samples clamped.
        let mut play = |engine: &mut E, want: usize, lead_in: &mut u64| {
            let mut clipped = 0;
            let mut silent = 0;
            let lead = usize::try_from(*lead_in).unwrap_or(usize::MAX);
            let frames = out_io.mmap(want, |buf| {
                silent = lead.min(buf.len() / out_unit);
                let (quiet, rest) = buf.split_at_mut(silent * out_unit);
                quiet.fill(O::default());
                if !rest.is_empty() {
                    clipped = render(engine, rest);
                }
                buf.len() / out_unit
            })?;
            *lead_in -= silent as u64;
            Ok::<(usize, u64, usize), alsa::Error>((frames - silent, clipped, frames))
        };
        while !done(&out) {
            stall_once(control, out.report.frames, &mut stalled, output);
            if !started {
                // Pre-fill the output, then start both (one start when linked).
                let filled = output.avail_update().and_then(|avail| {
                    let want = usize::try_from(avail).unwrap_or(0);
                    let left = control
                        .stop_after
                        .map_or(u64::MAX, |l| l.saturating_sub(out.report.frames));
                    let want = want.min(usize::try_from(left).unwrap_or(usize::MAX));
                    play(engine, want, &mut lead_in).map(|moved| (moved, want))
                });
                let ((frames, clipped, mapped), want) = match filled {
                    Ok(moved) => moved,
                    Err(e) => {
                        self.recover(Side::Output, &e, (&mut out, &mut inp), engine)?;
                        lead_in = out.take_lead_in();
                        continue;
                    }
                };
                out.report.clipped += clipped;
                let jumped = out.moved(frames, engine.output_clock());
                engine.output_lost(jumped);
                if mapped < want {
                    // The mapping ended at the ring's end (a recovery left the write
                    // position inside it): fill the rest from its start before starting.
                    continue;
                }
                if let Err(e) = output.start() {
                    self.recover(Side::Output, &e, (&mut out, &mut inp), engine)?;
                    lead_in = out.take_lead_in();
                    continue;
                }
                out.started(engine.output_clock(), true);
                if self.linked {
                    // The output's start started the group.
                    inp.started(engine.input_clock(), false);
                } else if input.state() != State::Running {
                    // After an output xrun the input may still be running: start only a
                    // stopped one (an xrun of its own is recovered below).
                    input.start().map_err(|e| crate::error::io(&e))?;
                    inp.started(engine.input_clock(), false);
                }
                started = true;
                continue;
            }
            // Capture first, so the input a block depends on is in before the output.
            let mut moved = false;
            let captured = input.avail_update().and_then(|n| {
                if n <= 0 {
                    return Ok(0);
                }
                in_io.mmap(usize::try_from(n).unwrap_or(0), |buf| {
                    take(engine, buf);
                    buf.len() / in_unit
                })
            });
            match captured {
                Ok(0) => {}
                Ok(frames) => {
                    moved = true;
                    let jumped = inp.moved(frames, engine.input_clock());
                    engine.input_lost(jumped);
                }
                Err(e) => {
                    started = self.recover(Side::Input, &e, (&mut out, &mut inp), engine)?;
                    lead_in = out.take_lead_in();
                    continue;
                }
            }
            let played = output.avail_update().and_then(|n| {
                let n = usize::try_from(n).unwrap_or(0);
                if n < period {
                    return Ok((0, 0, 0));
                }
                let left = control
                    .stop_after
                    .map_or(u64::MAX, |l| l.saturating_sub(out.report.frames));
                play(
                    engine,
                    n.min(usize::try_from(left).unwrap_or(usize::MAX)),
                    &mut lead_in,
                )
            });
            match played {
                Ok((0, _, _)) => {}
                Ok((frames, clipped, _)) => {
                    moved = true;
                    out.report.clipped += clipped;
                    let jumped = out.moved(frames, engine.output_clock());
                    engine.output_lost(jumped);
                }
                Err(e) => {
                    started = self.recover(Side::Output, &e, (&mut out, &mut inp), engine)?;
                    lead_in = out.take_lead_in();
                    continue;
                }
            }
            if !moved {
                if let Err(e) = output.wait(WAIT_MS) {
                    started = self.recover(Side::Output, &e, (&mut out, &mut inp), engine)?;
                    lead_in = out.take_lead_in();
                    continue;
                }
                out.check_progress()?;
            }
        }
        let _ = output.stop();
        let _ = input.stop();
        Ok(DuplexReport {
            output: out.finish(engine.output_clock()),
            input: inp.finish(engine.input_clock()),
            offset: None,
        })
    }

    /// Recovers from `e`, which `side` reported, and tells the engine what each side
    /// lost; returns whether the output is still running (`false`: the loop pre-fills and
    /// starts it again). Any error but an xrun or a suspend is returned.
    ///
    /// Linked, the pair recovers as one: the kernel stopped both, so both count the xrun;
    /// one prepare (of the group, and of the input if the link did not carry it), each
    /// engine told the frames its side went without, and the output left to be pre-filled
    /// and started, which starts the input with it. Unlinked, only `side` recovers: the
    /// input is started again at once, the output after its pre-fill.
    fn recover(
        &self,
        side: Side,
        e: &alsa::Error,
        (out, inp): (&mut Track<'_, P>, &mut Track<'_, P>),
        engine: &mut impl DuplexEngine,
    ) -> Result<bool, AlsaError> {
        let io_err = |e: alsa::Error| crate::error::io(&e);
        if self.linked {
            match side {
                Side::Output => {
                    out.fault(e)?;
                    inp.shared_xrun();
                }
                Side::Input => {
                    inp.fault(e)?;
                    out.shared_xrun();
                }
            }
            for pcm in [self.output, self.input] {
                if matches!(
                    pcm.state(),
                    State::Running | State::Draining | State::Paused
                ) {
                    let _ = pcm.stop();
                }
            }
            self.output.prepare().map_err(io_err)?;
            if self.input.state() != State::Prepared {
                self.input.prepare().map_err(io_err)?;
            }
            let lost = out.lost(engine.output_clock());
            engine.output_lost(lost);
            let lost = inp.lost(engine.input_clock());
            engine.input_lost(lost);
            return Ok(false);
        }
        match side {
            Side::Output => {
                out.xrun(e)?;
                let lost = out.lost(engine.output_clock());
                engine.output_lost(lost);
                Ok(false)
            }
            Side::Input => {
                inp.xrun(e)?;
                let lost = inp.lost(engine.input_clock());
                engine.input_lost(lost);
                self.input.start().map_err(io_err)?;
                inp.started(engine.input_clock(), false);
                Ok(true)
            }
        }
    }
}

/// True when `a` and `b` are PCMs of one sound card (`snd_pcm_info`'s card number, which
/// plugins without a card, such as `jack`, `null` and `file`, give as -1): they run on
/// that card's clock. (alsa-lib's sync ID says the same where the driver sets it, and
/// for most drivers it is the card number; the `alsa` crate does not expose it.)
fn same_card(a: &PCM, b: &PCM) -> bool {
    match (a.info(), b.info()) {
        (Ok(a), Ok(b)) => a.get_card() >= 0 && a.get_card() == b.get_card(),
        _ => false,
    }
}

/// What the duplex loop needs of an engine besides the closures that feed it.
pub(crate) trait DuplexEngine {
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
/// `linked` says the two devices start together on one clock ([`DuplexDevice::linked`]).
/// `None` until both clocks have anchors.
pub fn duplex_offset(output: &DeviceClock, input: &DeviceClock, linked: bool) -> Option<Offset> {
    let out = output.anchor()?;
    let input_frame = input.frame_at(out.at)?;
    let exact =
        linked && out.source == TimeSource::Device && input.anchor()?.source == TimeSource::Device;
    let frames = i64::try_from(i128::from(input_frame) - i128::from(out.frame)).ok()?;
    Some(if exact {
        Offset::exact(frames)
    } else {
        Offset::estimate(frames)
    })
}

#[cfg(test)]
mod tests {
    use super::DuplexDevice;
    use crate::Config;

    /// Two PCMs without a card (alsa-lib's `null`, card -1) are never reported as one
    /// clock, whether or not `snd_pcm_link` took them: `linked()` is false, and the offset
    /// would be an estimate.
    #[test]
    fn pcms_without_a_common_card_are_not_linked() {
        let config = Config::new("null", 48_000, 2).period(256).periods(3);
        let device = DuplexDevice::open(&config, &config).unwrap();
        assert!(!device.one_clock, "null PCMs have no card");
        assert!(!device.linked());
        eprintln!("snd_pcm_link took them: {}", device.started_together());
    }
}

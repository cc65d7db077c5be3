//! The firmware's fixed scenario and the loop that renders it, shared as source (not
//! copied) by the firmware's two programs (`src/bin/output-only.rs`, `src/bin/duplex.rs`)
//! and by its host test (`embedded/tests/firmware.rs`), which include this file with
//! `#[path]`. `no_std`, no allocation: it needs only rtmix-core, rtmix-embedded and
//! embedded-hal.
//!
//! What it does: plays from `static` buffers (in flash on the firmware), a loop, fade-ins
//! and fade-outs, a faded cancel, a cut, a cancel after a repetition, gain changes of a
//! play and of a master, a late play, and trigger edges, submitted between "interrupts"
//! at fixed points; the "DMA" is the loop below calling [`DmaOutput::service`] for each
//! half in turn (QEMU has no I2S). It writes one line per event to a [`Trace`]: the
//! FNV-1a 64 checksum of every half written, in order, each trigger fired, each
//! completion, then the checksum of everything written. The duplex program also feeds
//! the input engine the halves just sent (a loopback) through `DmaInput` and records
//! from it.
//!
//! The trace is the same text on the firmware and on the host: integers and `Debug` of
//! enums only (no floats are formatted).

use core::convert::Infallible;
use core::fmt::Write as _;

use embedded_hal::digital::{ErrorType, OutputPin};
use rtmix_core::heapless::String;
use rtmix_core::{
    ActionId, At, ChannelMap, Completion, Controller, Direction, Ending, GainTarget, Home, Late,
    Payload, Play, Record, RecordTarget, Repeat,
};
use rtmix_embedded::{
    DmaInput, DmaOutput, Edge, Fired, FrameFormat, Half, Trigger, TriggerOutput, TriggerQueue,
    TriggerSender, I16,
};

/// What a play moves into the engine: a buffer in flash.
pub(crate) type Source = &'static [f32];

/// Output channels (and input channels of the duplex program).
pub(crate) const CHANNELS: u16 = 2;
/// Frames in one half of the DMA buffer: one engine block, 1 ms at 48 kHz.
pub(crate) const HALF: usize = 48;
/// Samples in one half.
pub(crate) const HALF_SAMPLES: usize = HALF * CHANNELS as usize;
/// Words (`i16`) in the circular DMA buffer: two halves.
pub(crate) const BUFFER_WORDS: usize = 2 * HALF_SAMPLES;
/// Blocks rendered in all, the two primed ones included (0.2 s at 48 kHz).
pub(crate) const BLOCKS: u64 = 200;
/// Room for trigger edges on their way to the pin.
pub(crate) const TRIGGERS: usize = 8;
/// Frames of the duplex program's recording (one channel).
pub(crate) const RECORD_FRAMES: usize = 96;
/// The checksum of every half written, in order (FNV-1a 64 over their `i16` words, little
/// endian): the same on the firmware and the host. Both programs and the host test check
/// it; the host test also checks it against the reference model.
pub(crate) const EXPECTED_FINAL: u64 = 0xc4e5_d85a_001e_ed4c;

/// A triangle wave of `period` frames and peak `amplitude`, computed at compile time.
const fn triangle<const N: usize>(period: usize, amplitude: f32) -> [f32; N] {
    let mut out = [0.0; N];
    let mut i = 0;
    while i < N {
        let p = (i % period) as f32 / period as f32;
        let t = if p < 0.5 {
            4.0 * p - 1.0
        } else {
            3.0 - 4.0 * p
        };
        out[i] = t * amplitude;
        i += 1;
    }
    out
}

/// A falling saw of `period` frames and peak `amplitude`.
const fn saw<const N: usize>(period: usize, amplitude: f32) -> [f32; N] {
    let mut out = [0.0; N];
    let mut i = 0;
    while i < N {
        out[i] = (1.0 - 2.0 * ((i % period) as f32 / period as f32)) * amplitude;
        i += 1;
    }
    out
}

/// A click: a decaying square of alternating sign.
const fn click<const N: usize>() -> [f32; N] {
    let mut out = [0.0; N];
    let mut i = 0;
    while i < N {
        let decay = 0.9 * (1.0 - i as f32 / N as f32);
        out[i] = if i % 4 < 2 { decay } else { -decay };
        i += 1;
    }
    out
}

/// Two triangles of different periods, interleaved as a stereo buffer.
const fn stereo_pad<const N: usize>() -> [f32; N] {
    let left: [f32; N] = triangle(60, 0.3);
    let right: [f32; N] = triangle(36, 0.25);
    let mut out = [0.0; N];
    let mut i = 0;
    while i + 1 < N {
        out[i] = left[i / 2];
        out[i + 1] = right[i / 2];
        i += 2;
    }
    out
}

/// A 24-frame click (mono).
pub(crate) static CLICK: [f32; 24] = click();
/// A 480-frame triangle tone (mono, 1 kHz at 48 kHz).
pub(crate) static TONE: [f32; 480] = triangle(48, 0.5);
/// A 100-frame saw (mono), looped: its seam falls anywhere in a block.
pub(crate) static LOOP: [f32; 100] = saw(100, 0.5);
/// A 600-frame stereo pad (interleaved).
pub(crate) static PAD: [f32; 1200] = stereo_pad();

/// A play as the scenario writes it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlaySpec {
    /// Interleaved samples, `map.len()` channels.
    pub(crate) samples: &'static [f32],
    /// Output channel of each buffer channel.
    pub(crate) map: &'static [u16],
    /// Gain of each buffer channel.
    pub(crate) gains: &'static [f32],
    pub(crate) at: At,
    pub(crate) late: Late,
    pub(crate) gain: f32,
    pub(crate) fade_in: u64,
    pub(crate) fade_out: u64,
    pub(crate) repeat: Repeat,
    pub(crate) region: Option<(u64, u64)>,
}

impl PlaySpec {
    const fn new(samples: &'static [f32], map: &'static [u16], gains: &'static [f32]) -> Self {
        Self {
            samples,
            map,
            gains,
            at: At::Asap,
            late: Late::StartNow,
            gain: 1.0,
            fade_in: 0,
            fade_out: 0,
            repeat: Repeat::ONCE,
            region: None,
        }
    }
    const fn at(mut self, frame: u64) -> Self {
        self.at = At::Frame(frame);
        self
    }
    const fn late(mut self, late: Late) -> Self {
        self.late = late;
        self
    }
    const fn gain(mut self, gain: f32) -> Self {
        self.gain = gain;
        self
    }
    const fn fades(mut self, fade_in: u64, fade_out: u64) -> Self {
        self.fade_in = fade_in;
        self.fade_out = fade_out;
        self
    }
    const fn repeat(mut self, repeat: Repeat) -> Self {
        self.repeat = repeat;
        self
    }
    const fn region(mut self, start: u64, end: u64) -> Self {
        self.region = Some((start, end));
        self
    }

    /// The request.
    pub(crate) fn to_play(self) -> Result<Play<Source>, rtmix_core::Error> {
        let map = ChannelMap::new(self.map)?.with_gains(self.gains)?;
        let mut play = Play::new(self.samples, map)
            .at(self.at)
            .late(self.late)
            .gain(self.gain)
            .fade_in(self.fade_in)
            .fade_out(self.fade_out)
            .repeat(self.repeat);
        if let Some((a, b)) = self.region {
            play = play.region(a, b);
        }
        Ok(play)
    }
}

/// Whose gain a [`Op::Gain`] changes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum GainOf {
    /// The play of this step.
    Play(usize),
    /// An output channel's master gain.
    Master(u16),
}

/// One thing the control side does.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Op {
    Play(PlaySpec),
    /// Ends the play of step `target` at `at`.
    Cancel {
        target: usize,
        at: u64,
        ending: Ending,
    },
    /// Ramps a gain from its value at `at` to `gain` over `ramp` frames.
    Gain {
        target: GainOf,
        gain: f32,
        ramp: u64,
        at: u64,
    },
    /// The trigger pin high at `frame`, low `width` frames later.
    Pulse {
        frame: u64,
        width: u64,
    },
    /// One edge of the trigger pin.
    Edge {
        frame: u64,
        edge: Edge,
    },
    /// Records `RECORD_FRAMES` frames of input `channel` from `at` (duplex only; skipped
    /// by the output-only program).
    Record {
        at: u64,
        channel: u16,
    },
}

/// An op and when the control side submits it: before the interrupt that starts block
/// `half` on the wire (0: before the DMA is primed). The engine takes it at the start of
/// block `half + 1` (block 0 for `half` 0).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Step {
    pub(crate) half: u64,
    pub(crate) op: Op,
}

const fn step(half: u64, op: Op) -> Step {
    Step { half, op }
}

/// The scenario. Frames at 48-frame blocks: block `b` is frames `48 b .. 48 (b + 1)`.
pub(crate) static STEPS: [Step; 23] = [
    // 0, 1: a click at frame 10 and a pulse on the trigger pin with it.
    step(0, Op::Play(PlaySpec::new(&CLICK, &[0], &[1.0]).at(10))),
    step(
        0,
        Op::Pulse {
            frame: 10,
            width: 48,
        },
    ),
    // 2: a tone on the right channel with a fade-in and a fade-out.
    step(
        0,
        Op::Play(PlaySpec::new(&TONE, &[1], &[0.8]).at(100).fades(200, 150)),
    ),
    // 3, 4: a loop from frame 1000 (fading in), a short pulse with it.
    step(
        5,
        Op::Play(
            PlaySpec::new(&LOOP, &[0], &[1.0])
                .at(1000)
                .gain(0.5)
                .fades(96, 0)
                .repeat(Repeat::Forever),
        ),
    ),
    step(
        5,
        Op::Pulse {
            frame: 1000,
            width: 10,
        },
    ),
    // 5: the loop's gain ramps down to 0.25 over 480 frames from frame 2000.
    step(
        30,
        Op::Gain {
            target: GainOf::Play(3),
            gain: 0.25,
            ramp: 480,
            at: 2000,
        },
    ),
    // 6: a stereo region played three times with a fade-out.
    step(
        40,
        Op::Play(
            PlaySpec::new(&PAD, &[0, 1], &[0.7, 0.9])
                .at(2500)
                .region(100, 500)
                .repeat(Repeat::Times(3))
                .fades(0, 200),
        ),
    ),
    // 7, 8, 9: the loop cancelled at 3000 with a 300-frame fade, the pin high over it.
    step(
        50,
        Op::Cancel {
            target: 3,
            at: 3000,
            ending: Ending::FadeOut(300),
        },
    ),
    step(
        50,
        Op::Edge {
            frame: 3000,
            edge: Edge::High,
        },
    ),
    step(
        60,
        Op::Edge {
            frame: 3300,
            edge: Edge::Low,
        },
    ),
    // 10: the right master down to 0.5 over 240 frames from 4000.
    step(
        70,
        Op::Gain {
            target: GainOf::Master(1),
            gain: 0.5,
            ramp: 240,
            at: 4000,
        },
    ),
    // 11: the duplex program records the right channel from 4050 (in the ramp).
    step(
        70,
        Op::Record {
            at: 4050,
            channel: 1,
        },
    ),
    // 12: two periods of the tone, twenty times, on the left (a loop of 1920 frames)...
    step(
        90,
        Op::Play(
            PlaySpec::new(&TONE, &[0], &[1.0])
                .at(4600)
                .region(0, 96)
                .repeat(Repeat::Times(20))
                .fades(48, 0),
        ),
    ),
    // 13: ... cut at 6000.
    step(
        110,
        Op::Cancel {
            target: 12,
            at: 6000,
            ending: Ending::Cut,
        },
    ),
    // 14, 15: two edges 10 frames apart, in one block.
    step(
        110,
        Op::Edge {
            frame: 5900,
            edge: Edge::High,
        },
    ),
    step(
        110,
        Op::Edge {
            frame: 5910,
            edge: Edge::Low,
        },
    ),
    // 16: a play asked for frame 6200 when the engine is at 6288: late, it skips what
    // has passed.
    step(
        130,
        Op::Play(
            PlaySpec::new(&TONE, &[1], &[1.0])
                .at(6200)
                .late(Late::Skip)
                .fades(0, 100),
        ),
    ),
    // 17: a pulse whose rising edge has passed when it is sent (late by 40 frames).
    step(
        130,
        Op::Pulse {
            frame: 6200,
            width: 100,
        },
    ),
    // 18, 19: the pad as soon as possible, quieter, faded in and out; the right master
    // back to 1 at once at 7500.
    step(
        150,
        Op::Play(
            PlaySpec::new(&PAD, &[0, 1], &[1.0, 1.0])
                .gain(0.6)
                .fades(100, 100),
        ),
    ),
    step(
        150,
        Op::Gain {
            target: GainOf::Master(1),
            gain: 1.0,
            ramp: 0,
            at: 7500,
        },
    ),
    // 20, 21: the loop five times from 8300, ended after the repetition that holds 8450.
    step(
        170,
        Op::Play(
            PlaySpec::new(&LOOP, &[1], &[1.0])
                .at(8300)
                .repeat(Repeat::Times(5)),
        ),
    ),
    step(
        170,
        Op::Cancel {
            target: 20,
            at: 8450,
            ending: Ending::AfterRepetition,
        },
    ),
    // 22: a quieter click near the end.
    step(180, Op::Play(PlaySpec::new(&CLICK, &[0], &[0.5]).at(9000))),
];

/// FNV-1a 64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fnv(pub(crate) u64);

impl Fnv {
    pub(crate) const NEW: Self = Self(0xcbf2_9ce4_8422_2325);

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// `i16` words, little endian.
    pub(crate) fn words(&mut self, words: &[i16]) {
        for w in words {
            self.bytes(&w.to_le_bytes());
        }
    }

    /// `f32` samples, their bits little endian.
    pub(crate) fn samples(&mut self, samples: &[f32]) {
        for s in samples {
            self.bytes(&s.to_bits().to_le_bytes());
        }
    }

    pub(crate) fn of_words(words: &[i16]) -> u64 {
        let mut h = Self::NEW;
        h.words(words);
        h.0
    }
}

/// A trigger pin that records its edges (a level change counts, a repeated level not).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct EdgePin {
    pub(crate) high: bool,
    pub(crate) edges: u32,
}

impl ErrorType for EdgePin {
    type Error = Infallible;
}

impl OutputPin for EdgePin {
    fn set_high(&mut self) -> Result<(), Infallible> {
        self.edges += u32::from(!self.high);
        self.high = true;
        Ok(())
    }
    fn set_low(&mut self) -> Result<(), Infallible> {
        self.edges += u32::from(self.high);
        self.high = false;
        Ok(())
    }
}

/// Where the trace goes: semihosting on the firmware, a list of lines on the host.
pub(crate) trait Trace {
    /// One line, without its newline.
    fn line(&mut self, line: &str);
    /// Step `step` was accepted as `id`, and the engine takes it at the start of block
    /// `block` (for the host test's reference model; the firmware ignores it).
    fn accepted(&mut self, _step: usize, _id: ActionId, _block: u64) {}
}

/// Formats one line: at most 160 bytes (a longer one would be cut, on the firmware and
/// the host alike; the host test checks that none is that long).
pub(crate) fn emit(trace: &mut impl Trace, args: core::fmt::Arguments<'_>) {
    let mut line: String<160> = String::new();
    line.write_fmt(args).ok();
    trace.line(&line);
}

/// The trace line of a completion of step `step`.
pub(crate) fn completion_line<P, R>(trace: &mut impl Trace, step: usize, c: &Completion<P, R>) {
    emit(
        trace,
        format_args!(
            "done step {step} {:?} requested {:?} late_by {} actual {:?} frames {} skipped {} \
             ended {:?} end {:?}",
            c.kind, c.requested, c.late_by, c.actual_start, c.frames, c.skipped, c.ended_at, c.end
        ),
    );
}

/// The input side of the duplex program: the capture DMA, its circular buffer, and the
/// buffer the `Record` step records into.
#[derive(Debug)]
pub(crate) struct Capture<'a, R: RecordTarget + 'static, H: Home> {
    pub(crate) dma: DmaInput<'a, R, I16, H>,
    pub(crate) rx: &'a mut [i16],
    pub(crate) recording: Option<R>,
}

/// The trace lines of the triggers that `pin` has just fired.
fn trigger_lines(
    trace: &mut impl Trace,
    fired: &[Fired],
    pin: &TriggerOutput<'_, EdgePin, TRIGGERS>,
) {
    for f in fired {
        emit(
            trace,
            format_args!(
                "trigger frame {} {:?} block {} offset {} late_by {} pin {} edges {}",
                f.trigger.frame,
                f.trigger.edge,
                f.block_start,
                f.offset,
                f.late_by,
                if pin.pin().high { "high" } else { "low" },
                pin.pin().edges
            ),
        );
    }
}

/// What a run found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// FNV-1a 64 of every half written, in order.
    pub(crate) checksum: u64,
    /// The checksum is [`EXPECTED_FINAL`], every step was accepted, every action
    /// completed, and a recording (duplex) equals what was sent.
    pub(crate) ok: bool,
}

/// The recording's expected samples, hashed as the blocks are written: input frame `n`
/// is output frame `n` (a loopback of the halves just sent).
struct Expect {
    at: u64,
    channel: usize,
    hash: Fnv,
}

impl Expect {
    fn block(&mut self, start: u64, words: &[i16]) {
        let ch = usize::from(CHANNELS);
        let end = self.at + RECORD_FRAMES as u64;
        for frame in start.max(self.at)..(start + HALF as u64).min(end) {
            let word = words[(frame - start) as usize * ch + self.channel];
            let mut sample = [0.0f32];
            I16::decode(&[word], &mut sample);
            self.hash.samples(&sample);
        }
    }
}

/// What the loop keeps between interrupts besides the stream.
struct Progress {
    ok: bool,
    /// Every half written so far.
    total: Fnv,
    /// The duplex recording's expected samples, once it is submitted.
    expect: Option<Expect>,
    /// The checksum of the recording, once it is back.
    recorded: Option<u64>,
}

impl Progress {
    /// Hashes a half just written with block `start..` and says so.
    fn written(&mut self, trace: &mut impl Trace, start: u64, words: &[i16]) {
        self.total.words(words);
        if let Some(e) = self.expect.as_mut() {
            e.block(start, words);
        }
        emit(
            trace,
            format_args!(
                "half {} frames {start}..{} fnv {:016x}",
                start / HALF as u64,
                start + HALF as u64,
                Fnv::of_words(words)
            ),
        );
    }
}

/// Renders the scenario: `dma` drives the output, `capture` (duplex) the input; trigger
/// edges go through `triggers` to an [`EdgePin`]. Every line goes to `trace`.
///
/// The control side (submitting steps, taking completions) and the interrupt (servicing
/// the DMA halves) are separate functions that are never inlined here, as they would be
/// separate contexts on a board: the peak stack is the deeper of the two, not their sum.
pub(crate) fn run<R: RecordTarget, H: Home>(
    ctl: &mut Controller<Source, R, H>,
    dma: &mut DmaOutput<'_, Source, I16, H>,
    buffer: &mut [i16],
    triggers: &mut TriggerQueue<TRIGGERS>,
    mut capture: Option<Capture<'_, R, H>>,
    trace: &mut impl Trace,
) -> Outcome {
    let (mut tx, rx) = triggers.split();
    let mut pin = TriggerOutput::<_, TRIGGERS>::new(rx, EdgePin::default());
    let mut ids: [Option<ActionId>; STEPS.len()] = [None; STEPS.len()];
    let mut progress = Progress {
        ok: true,
        total: Fnv::NEW,
        expect: None,
        recorded: None,
    };

    emit(
        trace,
        format_args!(
            "rtmix firmware scenario: {} channels, {HALF}-frame halves, i16, {BLOCKS} blocks, \
             {} steps, {}",
            CHANNELS,
            STEPS.len(),
            if capture.is_some() {
                "duplex (input: loopback of the halves sent)"
            } else {
                "output only"
            }
        ),
    );

    // The control side before the DMA starts, then both halves primed.
    let mut step = Submit {
        ctl,
        tx: &mut tx,
        capture: &mut capture,
        ids: &mut ids,
    };
    progress.ok &= submit_half(0, &mut step, &mut progress.expect, trace);
    let Ok(blocks) = dma.prime(buffer) else {
        emit(trace, format_args!("prime failed"));
        return Outcome {
            checksum: progress.total.0,
            ok: false,
        };
    };
    // The DMA starts: block 0 starts on the wire, and the pin takes its edges.
    let fired = pin.on_block(blocks[0]);
    trigger_lines(trace, &fired, &pin);
    for (block, half) in blocks.iter().zip([Half::First, Half::Second]) {
        progress.written(trace, block.start, half.of(buffer));
    }

    // Interrupt `j`: the DMA has finished the half that held block `j - 1` and starts
    // sending block `j`; the freed half gets block `j + 1`.
    for j in 1..BLOCKS - 1 {
        progress.ok &= submit_half(j, &mut step, &mut progress.expect, trace);
        if !interrupt(j, dma, buffer, step.capture, &mut pin, &mut progress, trace) {
            break;
        }
        collect(step.ctl, step.ids, &mut progress, trace);
    }

    let outstanding = step.ctl.outstanding(Direction::Output)
        + if step.capture.is_some() {
            step.ctl.outstanding(Direction::Input)
        } else {
            0
        };
    finish(outstanding, &pin, progress, trace)
}

/// The DMA interrupt `j`: the capture (duplex) reads the half just received, then the
/// output renders the half just sent; the trigger pin takes the edges of the block now
/// starting. False if it failed (said in the trace).
#[inline(never)]
fn interrupt<R: RecordTarget, H: Home>(
    j: u64,
    dma: &mut DmaOutput<'_, Source, I16, H>,
    buffer: &mut [i16],
    capture: &mut Option<Capture<'_, R, H>>,
    pin: &mut TriggerOutput<'_, EdgePin, TRIGGERS>,
    progress: &mut Progress,
    trace: &mut impl Trace,
) -> bool {
    let h = HALF as u64;
    let free = if j % 2 == 1 {
        Half::First
    } else {
        Half::Second
    };
    if let Some(c) = capture.as_mut() {
        // The receive DMA has just filled this half with what was sent from it.
        free.of_mut(c.rx).copy_from_slice(free.of(buffer));
        if c.dma.service(free, c.rx).is_err() {
            emit(trace, format_args!("capture failed at interrupt {j}"));
            progress.ok = false;
        }
    }
    let Ok((report, fired)) = dma.service(free, buffer, |block| pin.on_block(block)) else {
        emit(trace, format_args!("service failed at interrupt {j}"));
        progress.ok = false;
        return false;
    };
    if report.missed || report.playing.start != j * h || report.rendered.start != (j + 1) * h {
        emit(
            trace,
            format_args!("unexpected report at interrupt {j}: {report:?}"),
        );
        progress.ok = false;
    }
    trigger_lines(trace, &fired, pin);
    progress.written(trace, report.rendered.start, free.of(buffer));
    true
}

/// The control side after an interrupt: takes every completion that arrived.
#[inline(never)]
fn collect<R: RecordTarget, H: Home>(
    ctl: &mut Controller<Source, R, H>,
    ids: &[Option<ActionId>],
    progress: &mut Progress,
    trace: &mut impl Trace,
) {
    while let Some(c) = ctl.try_next() {
        let Some(index) = ids.iter().position(|id| *id == Some(c.id)) else {
            emit(trace, format_args!("completion of an unknown action"));
            progress.ok = false;
            continue;
        };
        completion_line(trace, index, &c);
        if let Payload::Recorded(r) = &c.payload {
            let mut hash = Fnv::NEW;
            let samples = r.buffer().unwrap_or(&[]);
            hash.samples(samples);
            emit(
                trace,
                format_args!(
                    "recording step {index}: {} samples fnv {:016x}",
                    samples.len(),
                    hash.0
                ),
            );
            progress.recorded = Some(hash.0);
        }
    }
}

/// The closing lines and the verdict.
#[inline(never)]
fn finish(
    outstanding: usize,
    pin: &TriggerOutput<'_, EdgePin, TRIGGERS>,
    progress: Progress,
    trace: &mut impl Trace,
) -> Outcome {
    let mut ok = progress.ok;
    emit(
        trace,
        format_args!(
            "end: {outstanding} actions outstanding, pin {} after {} edges, {} triggers pending",
            if pin.pin().high { "high" } else { "low" },
            pin.pin().edges,
            pin.pending()
        ),
    );
    ok &= outstanding == 0 && pin.pending() == 0;
    if let Some(e) = progress.expect {
        let same = progress.recorded == Some(e.hash.0);
        emit(
            trace,
            format_args!(
                "recording equals the wire at frames {}..{} channel {}: {}",
                e.at,
                e.at + RECORD_FRAMES as u64,
                e.channel,
                if same { "yes" } else { "NO" }
            ),
        );
        ok &= same;
    }
    let total = progress.total.0;
    emit(
        trace,
        format_args!("final fnv {total:016x} over {BLOCKS} halves"),
    );
    let verdict = if total == EXPECTED_FINAL {
        "equal"
    } else {
        ok = false;
        "DIFFERENT"
    };
    emit(
        trace,
        format_args!("expected fnv {EXPECTED_FINAL:016x}: {verdict}"),
    );
    Outcome {
        checksum: total,
        ok,
    }
}

/// Why a step was not carried out.
#[derive(Debug)]
#[allow(dead_code)] // the fields are read through `Debug`, in the trace
enum Refusal {
    Controller(rtmix_core::Error),
    TriggerQueueFull,
    NoTarget,
    NoRecordingBuffer,
}

/// What became of a step.
enum Submitted {
    Action(ActionId),
    Trigger,
    /// A `Record` step of the output-only program.
    NotHere,
}

/// What the control side submits with.
struct Submit<'s, 't, 'c, R: RecordTarget + 'static, H: Home> {
    ctl: &'s mut Controller<Source, R, H>,
    tx: &'s mut TriggerSender<'t>,
    capture: &'s mut Option<Capture<'c, R, H>>,
    ids: &'s mut [Option<ActionId>],
}

/// The control side before interrupt `half`: submits the steps of `half`; false if one
/// was refused (said in the trace).
#[inline(never)]
fn submit_half<R: RecordTarget, H: Home>(
    half: u64,
    with: &mut Submit<'_, '_, '_, R, H>,
    expect: &mut Option<Expect>,
    trace: &mut impl Trace,
) -> bool {
    let block = if half == 0 { 0 } else { half + 1 };
    let mut all = true;
    for (index, s) in STEPS.iter().enumerate().filter(|(_, s)| s.half == half) {
        match submit(with.ctl, with.tx, &s.op, with.ids, with.capture) {
            Ok(Submitted::Action(id)) => {
                with.ids[index] = Some(id);
                trace.accepted(index, id, block);
                if let Op::Record { at, channel } = s.op {
                    *expect = Some(Expect {
                        at,
                        channel: usize::from(channel),
                        hash: Fnv::NEW,
                    });
                }
            }
            Ok(Submitted::Trigger | Submitted::NotHere) => {}
            Err(why) => {
                emit(trace, format_args!("refused step {index}: {why:?}"));
                all = false;
            }
        }
    }
    all
}

fn submit<R: RecordTarget, H: Home>(
    ctl: &mut Controller<Source, R, H>,
    tx: &mut TriggerSender<'_>,
    op: &Op,
    ids: &[Option<ActionId>],
    capture: &mut Option<Capture<'_, R, H>>,
) -> Result<Submitted, Refusal> {
    let id_of = |step: usize| ids.get(step).copied().flatten().ok_or(Refusal::NoTarget);
    let id = match *op {
        Op::Play(spec) => {
            let play = spec.to_play().map_err(Refusal::Controller)?;
            ctl.play(play).map_err(|r| r.error)
        }
        Op::Cancel { target, at, ending } => {
            ctl.cancel_with(id_of(target)?, At::Frame(at), Late::StartNow, ending)
        }
        Op::Gain {
            target,
            gain,
            ramp,
            at,
        } => {
            let target = match target {
                GainOf::Play(step) => GainTarget::Action(id_of(step)?),
                GainOf::Master(channel) => GainTarget::Master(channel),
            };
            ctl.set_gain(target, gain, ramp, At::Frame(at), Late::StartNow)
        }
        Op::Pulse { frame, width } => {
            tx.pulse(frame, width)
                .map_err(|_| Refusal::TriggerQueueFull)?;
            return Ok(Submitted::Trigger);
        }
        Op::Edge { frame, edge } => {
            tx.send(Trigger { frame, edge })
                .map_err(|_| Refusal::TriggerQueueFull)?;
            return Ok(Submitted::Trigger);
        }
        Op::Record { at, channel } => {
            let Some(c) = capture.as_mut() else {
                return Ok(Submitted::NotHere);
            };
            let buffer = c.recording.take().ok_or(Refusal::NoRecordingBuffer)?;
            let map = ChannelMap::new(&[channel]).map_err(Refusal::Controller)?;
            ctl.record(Record::new(buffer, map).at(At::Frame(at)))
                .map_err(|r| r.error)
        }
    };
    id.map(Submitted::Action).map_err(Refusal::Controller)
}

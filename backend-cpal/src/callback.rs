//! The bodies of the cpal callbacks: the engine halves, the format conversion, the
//! timestamps and the xrun accounting. Nothing here allocates, frees, locks or prints;
//! `tests/alsa_file.rs`, `tests/jack.rs` and `tests/jack_dies.rs` run these bodies under a
//! counting allocator inside running cpal streams, on cpal's audio threads
//! (`RunControl::audit`).

use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cpal::StreamInstant;
use rtmix_core::convert::{Sample, I24};
use rtmix_core::TimeSource;
use rtmix_core::{Anchor, DeviceClock, Home, InputEngine, OutputEngine, PlaySource, RecordTarget};

use crate::clock_map::{nanos, HostClock};
use crate::losses::Losses;
use crate::offset::{CycleOffset, Stamp, StampCell};
use crate::shared::Side;
use crate::RunControl;

/// Frames per chunk of the scratch block that converts to and from integer formats; a
/// longer callback is handled in chunks of this size.
pub(crate) const SCRATCH_FRAMES: usize = 4096;

/// An output buffer in any format cpal hands over.
#[derive(Debug)]
#[allow(missing_docs)]
pub enum OutBlock<'a> {
    F32(&'a mut [f32]),
    F64(&'a mut [f64]),
    I32(&'a mut [i32]),
    I24(&'a mut [cpal::I24]),
    I16(&'a mut [i16]),
    U16(&'a mut [u16]),
    U32(&'a mut [u32]),
    I8(&'a mut [i8]),
    U8(&'a mut [u8]),
}

/// An input buffer in any format cpal hands over.
#[derive(Clone, Copy, Debug)]
#[allow(missing_docs)]
pub enum InBlock<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
    I32(&'a [i32]),
    I24(&'a [cpal::I24]),
    I16(&'a [i16]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    I8(&'a [i8]),
    U8(&'a [u8]),
}

impl<'a> OutBlock<'a> {
    /// The typed view of cpal's raw buffer, or `None` for a format rtmix does not speak.
    pub fn from_data(data: &'a mut cpal::Data) -> Option<Self> {
        use cpal::SampleFormat as F;
        Some(match data.sample_format() {
            F::F32 => OutBlock::F32(data.as_slice_mut()?),
            F::F64 => OutBlock::F64(data.as_slice_mut()?),
            F::I32 => OutBlock::I32(data.as_slice_mut()?),
            F::I24 => OutBlock::I24(data.as_slice_mut()?),
            F::I16 => OutBlock::I16(data.as_slice_mut()?),
            F::U16 => OutBlock::U16(data.as_slice_mut()?),
            F::U32 => OutBlock::U32(data.as_slice_mut()?),
            F::I8 => OutBlock::I8(data.as_slice_mut()?),
            F::U8 => OutBlock::U8(data.as_slice_mut()?),
            _ => return None,
        })
    }

    fn len(&self) -> usize {
        match self {
            OutBlock::F32(b) => b.len(),
            OutBlock::F64(b) => b.len(),
            OutBlock::I32(b) => b.len(),
            OutBlock::I24(b) => b.len(),
            OutBlock::I16(b) => b.len(),
            OutBlock::U16(b) => b.len(),
            OutBlock::U32(b) => b.len(),
            OutBlock::I8(b) => b.len(),
            OutBlock::U8(b) => b.len(),
        }
    }
}

impl<'a> InBlock<'a> {
    /// The typed view of cpal's raw buffer, or `None` for a format rtmix does not speak.
    pub fn from_data(data: &'a cpal::Data) -> Option<Self> {
        use cpal::SampleFormat as F;
        Some(match data.sample_format() {
            F::F32 => InBlock::F32(data.as_slice()?),
            F::F64 => InBlock::F64(data.as_slice()?),
            F::I32 => InBlock::I32(data.as_slice()?),
            F::I24 => InBlock::I24(data.as_slice()?),
            F::I16 => InBlock::I16(data.as_slice()?),
            F::U16 => InBlock::U16(data.as_slice()?),
            F::U32 => InBlock::U32(data.as_slice()?),
            F::I8 => InBlock::I8(data.as_slice()?),
            F::U8 => InBlock::U8(data.as_slice()?),
            _ => return None,
        })
    }

    fn len(&self) -> usize {
        match self {
            InBlock::F32(b) => b.len(),
            InBlock::F64(b) => b.len(),
            InBlock::I32(b) => b.len(),
            InBlock::I24(b) => b.len(),
            InBlock::I16(b) => b.len(),
            InBlock::U16(b) => b.len(),
            InBlock::U32(b) => b.len(),
            InBlock::I8(b) => b.len(),
            InBlock::U8(b) => b.len(),
        }
    }
}

/// What both directions' callbacks keep besides their engine half.
#[derive(Debug)]
struct Common {
    channels: usize,
    rate: u32,
    scratch: Vec<f32>,
    clock: Arc<DeviceClock>,
    /// The first anchor, kept for drift measurement.
    first: Arc<DeviceClock>,
    /// cpal's instants on the monotonic clock, re-paired every callback.
    host: HostClock,
    /// What the anchors say their instants are.
    source: TimeSource,
    side: Arc<Side>,
    control: RunControl,
    frames: u64,
    stalled: bool,
    /// Gaps in the converter instants, matched with the xrun reports.
    losses: Losses,
    /// The latency of the drift reference (`first`), once published.
    first_latency: Option<u64>,
    /// This direction's latest stamp, for the other direction of a duplex on one clock.
    stamp: Arc<StampCell>,
    /// In a duplex on one clock: the other direction's stamps, and where the offset of
    /// one cycle goes.
    peer: Option<Peer>,
}

/// The other direction of a duplex whose streams one clock drives.
#[derive(Debug)]
pub(crate) struct Peer {
    /// Its latest stamp.
    pub(crate) stamp: Arc<StampCell>,
    /// The offset the two directions' stamps of one cycle give.
    pub(crate) offset: Arc<CycleOffset>,
}

/// A stream instant in nanoseconds of its epoch.
fn ns(t: StreamInstant) -> i64 {
    nanos(t.as_nanos())
}

impl Common {
    fn new(channels: u16, rate: u32, control: RunControl) -> Self {
        Self {
            channels: usize::from(channels.max(1)),
            rate,
            scratch: vec![0.0; SCRATCH_FRAMES * usize::from(channels.max(1))],
            clock: Arc::new(DeviceClock::new(rate)),
            first: Arc::new(DeviceClock::new(rate)),
            host: HostClock::new(),
            source: TimeSource::Device,
            side: Arc::new(Side::default()),
            control,
            frames: 0,
            stalled: false,
            losses: Losses::new(rate),
            first_latency: None,
            stamp: Arc::new(StampCell::default()),
            peer: None,
        }
    }

    /// Runs the stall test hook once, when its frame has come.
    fn maybe_stall(&mut self) {
        if let Some((after, duration)) = self.control.stall {
            if !self.stalled && self.frames >= after {
                self.stalled = true;
                std::thread::sleep(duration);
            }
        }
    }

    /// The start of every callback: pairs cpal's `callback` instant with the monotonic
    /// clock read at `now`, and returns the frames lost since the last callback (the gap
    /// at `converter`, once matched with an xrun report), counted.
    fn begin(&mut self, now: Instant, callback: StreamInstant, converter: StreamInstant) -> u64 {
        self.side.callbacks.fetch_add(1, Ordering::AcqRel);
        self.host.observe(ns(callback), now);
        let reports = self.side.xrun_reports.load(Ordering::Acquire);
        let lost = self.losses.at_callback(ns(converter), reports);
        self.side.lost.fetch_add(lost, Ordering::AcqRel);
        lost
    }

    /// Frames of a `len`-sample block this callback passes to the engine (`stop_after`
    /// may leave fewer).
    fn budget(&self, len: usize) -> usize {
        let frames = len / self.channels;
        match self.control.stop_after {
            Some(limit) => {
                frames.min(usize::try_from(limit.saturating_sub(self.frames)).unwrap_or(usize::MAX))
            }
            None => frames,
        }
    }

    /// The end of every callback: publishes where the block's first frame is at the
    /// converter (if the engine took any), and counts the block of `len` samples, `moved`
    /// frames of which went through the engine.
    #[allow(clippy::too_many_arguments)]
    fn end(
        &mut self,
        output: bool,
        frame: u64,
        next_frame: u64,
        len: usize,
        moved: usize,
        converter: StreamInstant,
        latency: Duration,
    ) {
        let at = ns(converter);
        self.losses.delivered(at, (len / self.channels) as u64);
        if moved == 0 {
            return;
        }
        let latency_frames = frames_in(latency, self.rate);
        if let Some(instant) = self.host.instant(at) {
            let anchor = Anchor {
                frame,
                at: instant,
                next_frame,
                latency_frames,
                source: self.source,
            };
            self.clock.publish(anchor);
            // The drift reference: the first anchor, taken again whenever the host's
            // latency changes by more than a quarter block (JACK ports connected, say), so
            // that a latency step is not taken for drift.
            let step = (moved as u64 / 4).max(32);
            if self
                .first_latency
                .is_none_or(|l| l.abs_diff(latency_frames) > step)
            {
                self.first.publish(anchor);
                self.first_latency = Some(latency_frames);
            }
        }
        let stamp = Stamp {
            frame,
            next_frame,
            at,
            latency_frames,
        };
        self.stamp.store(stamp);
        if let Some(peer) = &self.peer {
            if let Some(other) = peer.stamp.load() {
                let (o, i) = if output {
                    (&stamp, &other)
                } else {
                    (&other, &stamp)
                };
                peer.offset.observe(o, i, self.rate);
            }
        }
        self.frames += moved as u64;
        self.side.frames.store(self.frames, Ordering::Release);
        self.side.engine_clock.store(next_frame, Ordering::Release);
        if self
            .control
            .stop_after
            .is_some_and(|limit| self.frames >= limit)
        {
            self.side.finished.store(true, Ordering::Release);
        }
    }
}

/// `duration` in frames at `rate`, rounded to the nearest.
pub(crate) fn frames_in(duration: Duration, rate: u32) -> u64 {
    let n = duration.as_nanos() * u128::from(rate);
    u64::try_from((n + 500_000_000) / 1_000_000_000).unwrap_or(u64::MAX)
}

/// The engine half a [`Callback`] runs, output or input: what its hand-back and its drop
/// need of it. Sealed: implemented for [`OutputEngine`] and [`InputEngine`] only.
pub trait CallbackEngine: sealed::Sealed {
    /// The stream's channel count.
    fn channels(&self) -> u16;
    /// The engine's frame clock.
    fn frame(&self) -> u64;
    /// Ends everything held with `StreamStopped` (as many completions as the queue takes);
    /// true when nothing is held any more.
    fn stop_all(&mut self) -> bool;
}

mod sealed {
    pub trait Sealed {}
    impl<P: rtmix_core::PlaySource, H: rtmix_core::Home> Sealed for rtmix_core::OutputEngine<P, H> {}
    impl<R: rtmix_core::RecordTarget, H: rtmix_core::Home> Sealed for rtmix_core::InputEngine<R, H> {}
}

impl<P: PlaySource, H: Home> CallbackEngine for OutputEngine<P, H> {
    fn channels(&self) -> u16 {
        OutputEngine::channels(self)
    }
    fn frame(&self) -> u64 {
        self.clock()
    }
    fn stop_all(&mut self) -> bool {
        self.stop();
        self.is_idle()
    }
}

impl<R: RecordTarget, H: Home> CallbackEngine for InputEngine<R, H> {
    fn channels(&self) -> u16 {
        InputEngine::channels(self)
    }
    fn frame(&self) -> u64 {
        self.clock()
    }
    fn stop_all(&mut self) -> bool {
        self.stop();
        self.is_idle()
    }
}

/// The audio side of a cpal stream, as its data callback runs it: an engine half, the
/// scratch block that converts to and from integer formats (allocated here, never on the
/// audio thread), the anchors it publishes on its [`DeviceClock`] and the xruns cpal
/// reports, turned into lost frames.
///
/// - [`OutputCallback`] renders each buffer; its anchors are the engine frame at the DAC
///   at cpal's playback instant.
/// - [`InputCallback`] hands each buffer to the engine; its anchors are the engine frame at
///   the ADC at cpal's capture instant.
///
/// [`CpalStream::play`](crate::CpalStream::play) and
/// [`record`](crate::CpalStream::record) build one and move it into the cpal stream; it is
/// public for benchmarks and for callers who build their cpal stream themselves. Dropping
/// it ends everything the engine still holds with `EndReason::StreamStopped`.
///
/// ```
/// use rtmix_core::{StreamCapacity, StreamConfig};
/// use rtmix_cpal::{OutBlock, OutputCallback, RunControl};
/// let (_ctl, engine) =
///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(2), StreamCapacity::default())
///         .unwrap();
/// let (output, _input) = engine.split();
/// let mut callback = OutputCallback::new(output, 48_000, RunControl::default());
/// let mut buffer = [1.0f32; 128];
/// let t = cpal::StreamInstant::new(1, 0);
/// callback.render(OutBlock::F32(&mut buffer), t, t);
/// assert_eq!(buffer, [0.0; 128]); // nothing scheduled: silence
/// ```
#[derive(Debug)]
pub struct Callback<E: CallbackEngine> {
    /// Always `Some` but while it is being dropped, when it is handed back.
    engine: Option<E>,
    /// Where the engine goes when the callback is dropped, instead of ending what it
    /// holds ([`with_handback`](Self::with_handback)).
    handback: Option<SyncSender<E>>,
    common: Common,
}

/// The callback of a cpal output stream ([`Callback`]).
pub type OutputCallback<P, H> = Callback<OutputEngine<P, H>>;

/// The callback of a cpal input stream ([`Callback`]).
pub type InputCallback<R, H> = Callback<InputEngine<R, H>>;

impl<E: CallbackEngine> Callback<E> {
    /// The callback for `engine` at `rate`, steered by `control`. Its anchors say their
    /// instants are the device's ([`TimeSource::Device`]) unless told otherwise
    /// ([`with_time_source`](Self::with_time_source)).
    pub fn new(engine: E, rate: u32, control: RunControl) -> Self {
        let channels = engine.channels();
        Self {
            engine: Some(engine),
            handback: None,
            common: Common::new(channels, rate, control),
        }
    }

    /// Hands the engine to `handback` when the callback is dropped (the stream ended),
    /// untouched, instead of ending what it holds; if nobody receives it any more, it is
    /// ended as usual.
    #[must_use]
    pub fn with_handback(mut self, handback: SyncSender<E>) -> Self {
        self.handback = Some(handback);
        self
    }

    /// Labels the anchors with `source`: what cpal's timestamps are on this host and
    /// device ([`Granted::time_source`](crate::Granted::time_source)).
    #[must_use]
    pub fn with_time_source(mut self, source: TimeSource) -> Self {
        self.common.source = source;
        self
    }

    /// Counts the frames of a gap in whole buffers (the JACK host: a client runs a cycle
    /// or misses it).
    #[must_use]
    pub(crate) fn losing_whole_buffers(mut self) -> Self {
        self.common.losses.whole_buffers();
        self
    }

    /// The clock this callback publishes to (the output's or the input's).
    pub fn clock(&self) -> Arc<DeviceClock> {
        self.common.clock.clone()
    }

    pub(crate) fn first_clock(&self) -> Arc<DeviceClock> {
        self.common.first.clone()
    }

    pub(crate) fn side(&self) -> Arc<Side> {
        self.common.side.clone()
    }

    pub(crate) fn audit(&self) -> Option<fn(&mut dyn FnMut())> {
        self.common.control.audit
    }

    /// Makes this one direction of a duplex on one clock, with `peer` the other.
    pub(crate) fn set_peer(&mut self, peer: Peer) {
        self.common.peer = Some(peer);
    }

    /// This direction's latest stamp, for the other direction's [`Peer`].
    pub(crate) fn stamp(&self) -> Arc<StampCell> {
        self.common.stamp.clone()
    }

    /// Runs `body` on this callback, inside the audit hook when there is one
    /// ([`RunControl::audit`]).
    fn audited(&mut self, body: impl FnOnce(&mut Self)) {
        match self.common.control.audit {
            Some(audit) => {
                let mut body = Some(body);
                audit(&mut || {
                    if let Some(body) = body.take() {
                        body(self);
                    }
                });
            }
            None => body(self),
        }
    }
}

impl<P: PlaySource + 'static, H: Home> Callback<OutputEngine<P, H>> {
    /// The body of cpal's output data callback.
    pub fn on_data(&mut self, data: &mut cpal::Data, info: &cpal::OutputCallbackInfo) {
        let ts = info.timestamp();
        // A format cpal was not asked for stays silent (cpal pre-fills the buffer).
        if let Some(block) = OutBlock::from_data(data) {
            self.render(block, ts.callback, ts.playback);
        }
    }

    /// Renders one buffer; `callback` and `playback` are cpal's instants for it.
    pub fn render(
        &mut self,
        block: OutBlock<'_>,
        callback: StreamInstant,
        playback: StreamInstant,
    ) {
        self.audited(|s| s.render_inner(block, callback, playback));
    }

    fn render_inner(
        &mut self,
        block: OutBlock<'_>,
        callback: StreamInstant,
        playback: StreamInstant,
    ) {
        let now = Instant::now();
        let Self {
            engine, common: c, ..
        } = self;
        // Only a callback being dropped has no engine: it is not called any more.
        let Some(engine) = engine.as_mut() else {
            return;
        };
        let lost = c.begin(now, callback, playback);
        engine.report_lost(lost);
        c.maybe_stall();
        let len = block.len();
        let frames = c.budget(len);
        let n = frames * c.channels;
        let start = engine.clock();
        let scratch = &mut c.scratch;
        let clipped = match block {
            OutBlock::F32(b) => {
                engine.process(&mut b[..n]);
                b[n..].fill(0.0);
                0
            }
            OutBlock::F64(b) => convert_out(engine, scratch, b, n, 0.0),
            OutBlock::I32(b) => convert_out(engine, scratch, b, n, 0),
            OutBlock::I24(b) => convert_out(engine, scratch, b, n, cpal::I24::new_unchecked(0)),
            OutBlock::I16(b) => convert_out(engine, scratch, b, n, 0),
            OutBlock::U16(b) => convert_out(engine, scratch, b, n, 1 << 15),
            OutBlock::U32(b) => convert_out(engine, scratch, b, n, 1 << 31),
            OutBlock::I8(b) => convert_out(engine, scratch, b, n, 0),
            OutBlock::U8(b) => convert_out(engine, scratch, b, n, 1 << 7),
        };
        c.side.clipped.fetch_add(clipped, Ordering::AcqRel);
        let latency = playback
            .checked_duration_since(callback)
            .unwrap_or_default();
        c.end(true, start, engine.clock(), len, frames, playback, latency);
    }
}

impl<R: RecordTarget + 'static, H: Home> Callback<InputEngine<R, H>> {
    /// The body of cpal's input data callback.
    pub fn on_data(&mut self, data: &cpal::Data, info: &cpal::InputCallbackInfo) {
        let ts = info.timestamp();
        if let Some(block) = InBlock::from_data(data) {
            self.take(block, ts.callback, ts.capture);
        }
    }

    /// Takes one buffer; `callback` and `capture` are cpal's instants for it.
    pub fn take(&mut self, block: InBlock<'_>, callback: StreamInstant, capture: StreamInstant) {
        self.audited(|s| s.take_inner(block, callback, capture));
    }

    fn take_inner(&mut self, block: InBlock<'_>, callback: StreamInstant, capture: StreamInstant) {
        let now = Instant::now();
        let Self {
            engine, common: c, ..
        } = self;
        // Only a callback being dropped has no engine: it is not called any more.
        let Some(engine) = engine.as_mut() else {
            return;
        };
        let lost = c.begin(now, callback, capture);
        engine.report_lost(lost);
        c.maybe_stall();
        let len = block.len();
        let frames = c.budget(len);
        let n = frames * c.channels;
        let start = engine.clock();
        let scratch = &mut c.scratch;
        match block {
            InBlock::F32(b) => engine.process(&b[..n]),
            InBlock::F64(b) => convert_in(engine, scratch, &b[..n]),
            InBlock::I32(b) => convert_in(engine, scratch, &b[..n]),
            InBlock::I24(b) => convert_in(engine, scratch, &b[..n]),
            InBlock::I16(b) => convert_in(engine, scratch, &b[..n]),
            InBlock::U16(b) => convert_in(engine, scratch, &b[..n]),
            InBlock::U32(b) => convert_in(engine, scratch, &b[..n]),
            InBlock::I8(b) => convert_in(engine, scratch, &b[..n]),
            InBlock::U8(b) => convert_in(engine, scratch, &b[..n]),
        }
        let latency = callback.checked_duration_since(capture).unwrap_or_default();
        c.end(false, start, engine.clock(), len, frames, capture, latency);
    }
}

impl<E: CallbackEngine> Drop for Callback<E> {
    /// Hands the engine back ([`with_handback`](Self::with_handback)), or ends everything
    /// it still holds with `StreamStopped`.
    fn drop(&mut self) {
        let Some(mut engine) = self.engine.take() else {
            return;
        };
        self.common
            .side
            .engine_clock
            .store(engine.frame(), Ordering::Release);
        if let Some(handback) = self.handback.take() {
            match handback.send(engine) {
                Ok(()) => return,
                Err(unsent) => engine = unsent.0,
            }
        }
        wind_down(|| engine.stop_all());
    }
}

/// A device sample rtmix converts to and from `f32` with rtmix-core's rules.
trait DeviceSample: Copy {
    fn encode(x: f32) -> (Self, bool);
    fn decode(self) -> f32;
}

macro_rules! device_sample {
    ($($t:ty),*) => {$(
        impl DeviceSample for $t {
            fn encode(x: f32) -> (Self, bool) {
                <$t as Sample>::from_f32(x)
            }
            fn decode(self) -> f32 {
                <$t as Sample>::to_f32(self)
            }
        }
    )*};
}
device_sample!(f64, i32, i16, u16, u32, i8, u8);

impl DeviceSample for cpal::I24 {
    fn encode(x: f32) -> (Self, bool) {
        let (v, clipped) = I24::from_f32(x);
        (cpal::I24::new_unchecked(v.0), clipped)
    }
    fn decode(self) -> f32 {
        I24(self.inner()).to_f32()
    }
}

/// Renders the first `n` samples of `out` through `scratch`, chunk by chunk, and fills the
/// rest with `silence`; returns the samples clamped.
fn convert_out<P: PlaySource + 'static, H: Home, S: DeviceSample>(
    engine: &mut OutputEngine<P, H>,
    scratch: &mut [f32],
    out: &mut [S],
    n: usize,
    silence: S,
) -> u64 {
    let mut clipped = 0;
    for chunk in out[..n].chunks_mut(scratch.len()) {
        let block = &mut scratch[..chunk.len()];
        engine.process(block);
        for (d, &x) in chunk.iter_mut().zip(block.iter()) {
            let (v, c) = S::encode(x);
            *d = v;
            clipped += u64::from(c);
        }
    }
    out[n..].fill(silence);
    clipped
}

/// Hands `input` to the engine through `scratch`, chunk by chunk.
fn convert_in<R: RecordTarget + 'static, H: Home, S: DeviceSample>(
    engine: &mut InputEngine<R, H>,
    scratch: &mut [f32],
    input: &[S],
) {
    for chunk in input.chunks(scratch.len()) {
        let block = &mut scratch[..chunk.len()];
        for (d, &s) in block.iter_mut().zip(chunk) {
            *d = s.decode();
        }
        engine.process(block);
    }
}

/// Ends everything the engine holds with `StreamStopped`, giving the controller a moment
/// to take completions when the queue is full (bounded: it never hangs).
fn wind_down(mut stop_and_check_idle: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if stop_and_check_idle() {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_callback::ErrorCallback;
    use rtmix_core::{StreamCapacity, StreamConfig};

    const RATE: u32 = 48_000;
    const BLOCK: u64 = 1024;
    /// The frames lost before the fifth callback.
    const K: u64 = 777;
    const CALLBACKS: u64 = 8;

    /// cpal's instant of device frame `f` (stream instants count from 1 s).
    fn at(f: u64) -> StreamInstant {
        StreamInstant::from_nanos(1_000_000_000 + f * 1_000_000_000 / u64::from(RATE))
    }

    /// When the host reports the xrun: before the callback that shows the gap (the ALSA
    /// host), before the `n`th callback after it (JACK's notification thread), or never.
    #[derive(Clone, Copy, Debug)]
    enum Report {
        Before,
        After(u64),
        Never,
    }

    /// What a run of scripted callbacks left: frames lost, xruns, the engine clock, and the
    /// frame of each callback's anchor.
    #[derive(Debug, PartialEq)]
    struct Run {
        lost: u64,
        xruns: u64,
        engine_clock: u64,
        anchors: Vec<u64>,
    }

    /// Eight 1024-frame callbacks whose cpal instants follow the device (the converter
    /// 2048 frames from the callback), `K` frames lost before the fifth, reported as
    /// `report` says; `callback(k, callback instant, converter instant)` runs the body.
    fn script(
        side: &Arc<Side>,
        clock: &Arc<DeviceClock>,
        report: Report,
        output: bool,
        mut callback: impl FnMut(StreamInstant, StreamInstant),
    ) -> Run {
        let (mut on_error, _rx) = ErrorCallback::new(side.clone(), None);
        let mut anchors = Vec::new();
        for k in 0..CALLBACKS {
            let device = k * BLOCK + if k >= 4 { K } else { 0 };
            let due = match report {
                Report::Before => k == 4,
                Report::After(n) => k == 4 + n,
                Report::Never => false,
            };
            if due {
                on_error.on_error(cpal::ErrorKind::Xrun.into());
            }
            let (cb, conv) = if output {
                (at(device), at(device + 2048))
            } else {
                (at(device + 2048), at(device))
            };
            callback(cb, conv);
            anchors.push(clock.anchor().unwrap().frame);
        }
        let report = side.report(Vec::new());
        Run {
            lost: report.frames_lost_estimate,
            xruns: report.xruns,
            engine_clock: report.engine_clock,
            anchors,
        }
    }

    fn output_run(report: Report) -> Run {
        let (_ctl, engine) = rtmix_core::open::<Vec<f32>, Vec<f32>>(
            StreamConfig::output(2),
            StreamCapacity::default(),
        )
        .unwrap();
        let (output, _) = engine.split();
        let mut cb = OutputCallback::new(output, RATE, RunControl::default());
        let (side, clock) = (cb.side(), cb.clock());
        let mut buffer = vec![0.0f32; 2 * BLOCK as usize];
        script(&side, &clock, report, true, |callback, playback| {
            cb.render(OutBlock::F32(&mut buffer), callback, playback);
        })
    }

    fn input_run(report: Report) -> Run {
        let (_ctl, engine) = rtmix_core::open::<Vec<f32>, Vec<f32>>(
            StreamConfig::input(2),
            StreamCapacity::default(),
        )
        .unwrap();
        let (_, input) = engine.split();
        let mut cb = InputCallback::new(input, RATE, RunControl::default());
        let (side, clock) = (cb.side(), cb.clock());
        let buffer = vec![0.0f32; 2 * BLOCK as usize];
        script(&side, &clock, report, false, |callback, capture| {
            cb.take(InBlock::F32(&buffer), callback, capture);
        })
    }

    #[test]
    fn a_gap_of_k_frames_is_lost_once_whenever_its_xrun_is_reported() {
        let blocks = |from: u64| (from..CALLBACKS).map(|k| k * BLOCK);
        for run in [output_run, input_run] {
            // Reported before the gap shows: counted at once, the fifth block's first frame
            // is K further on.
            let before = run(Report::Before);
            let moved: Vec<u64> = blocks(0)
                .map(|f| if f >= 4 * BLOCK { f + K } else { f })
                .collect();
            assert_eq!(
                before,
                Run {
                    lost: K,
                    xruns: 1,
                    engine_clock: CALLBACKS * BLOCK + K,
                    anchors: moved.clone(),
                }
            );
            // Reported after it: counted when the report comes, once; the blocks between
            // were placed as if nothing was lost.
            for n in [1, 3] {
                let after = run(Report::After(n));
                let anchors: Vec<u64> = blocks(0)
                    .map(|f| if f >= (4 + n) * BLOCK { f + K } else { f })
                    .collect();
                assert_eq!(
                    after,
                    Run {
                        lost: K,
                        xruns: 1,
                        engine_clock: CALLBACKS * BLOCK + K,
                        anchors,
                    },
                    "report {n} callbacks after the gap"
                );
            }
            // Never reported: a step in the timestamps, not a loss.
            let never = run(Report::Never);
            assert_eq!(
                never,
                Run {
                    lost: 0,
                    xruns: 0,
                    engine_clock: CALLBACKS * BLOCK,
                    anchors: blocks(0).collect(),
                }
            );
        }
    }
}

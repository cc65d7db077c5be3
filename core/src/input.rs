//! The input half of the engine: fills scheduled recordings from input blocks.

use crate::action::{Span, Transfer};
use crate::home::Home;
use crate::meter::MeterBank;
use crate::mix::Flow;
use crate::scheduler::{Half, Scheduler};
use crate::{mix, RecordTarget};

/// One input block as the scheduler reads it; `None` for frames lost to an xrun.
struct InputPass<'b> {
    input: Option<&'b [f32]>,
    channels: usize,
}

impl<R: RecordTarget, Mp: crate::channel_map::MapStore> Half<R, Mp> for InputPass<'_> {
    #[inline]
    fn transfer(&mut self, t: &mut Transfer<R, Mp>, span: Span, _lost: bool) -> Flow {
        mix::record(self.input, self.channels, t, span)
    }
}

/// The parts of an input half that has channels.
pub(crate) struct InputHalf<R: 'static, H: Home> {
    pub(crate) scheduler: Scheduler<R, H::Map, H>,
    pub(crate) meters: H::Shared<MeterBank<H::MeterSlots>>,
    /// Whether blocks are measured for the meters ([`StreamConfig::meters`](crate::StreamConfig::meters)).
    pub(crate) metered: bool,
    pub(crate) channels: u16,
}

/// Runs on the audio side and takes interleaved `f32` input blocks of any length.
///
/// Each call to [`process`](Self::process) consumes the next `input.len() / channels` frames
/// of the input timeline. Nothing in it allocates, frees, waits for a lock, blocks or
/// prints (with `std`, handing back a completion may unpark a controller that waits for
/// one: an atomic load, a `try_lock` and a futex wake).
///
/// ```
/// use rtmix_core::{At, ChannelMap, Record, StreamCapacity, StreamConfig};
/// let (mut ctl, engine) =
///     rtmix_core::open::<&'static [f32], Vec<f32>>(StreamConfig::input(2), StreamCapacity::default()).unwrap();
/// let (_out, mut in_engine) = engine.split();
/// let id = ctl.record(Record::new(vec![0.0; 2], ChannelMap::new(&[1]).unwrap()).at(At::Frame(1))).unwrap();
/// in_engine.process(&[0.0, 10.0, 1.0, 11.0, 2.0, 12.0]); // frames 0..3, two channels
/// assert_eq!(ctl.take(id).unwrap().into_recording(), Some(vec![11.0, 12.0]));
/// ```
pub struct InputEngine<R: 'static, H: Home> {
    half: Option<InputHalf<R, H>>,
}

impl<R, H: Home> core::fmt::Debug for InputEngine<R, H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.half {
            Some(h) => f
                .debug_struct("InputEngine")
                .field("channels", &h.channels)
                .field("scheduler", &h.scheduler)
                .finish_non_exhaustive(),
            None => f.write_str("InputEngine(no input)"),
        }
    }
}

impl<R: RecordTarget, H: Home> InputEngine<R, H> {
    /// The input half over its parts, or an engine for a stream without inputs.
    pub(crate) fn new(half: Option<InputHalf<R, H>>) -> Self {
        Self { half }
    }

    /// Consumes the next input block (interleaved, `channels()` wide).
    ///
    /// A trailing partial frame is ignored and counted in [`StreamStats::partial_frames`](crate::StreamStats::partial_frames).
    /// With no input channels this does nothing.
    pub fn process(&mut self, input: &[f32]) {
        let Some(h) = self.half.as_mut() else {
            return;
        };
        let channels = usize::from(h.channels);
        let frames = input.len() / channels;
        let partial = !input.len().is_multiple_of(channels);
        let input = &input[..frames * channels];
        if h.metered {
            h.meters.measure(input, channels);
        }
        let mut pass = InputPass {
            input: Some(input),
            channels,
        };
        h.scheduler.run(frames as u64, false, &mut pass);
        if partial {
            h.scheduler.stats_mut().partial_frames += 1;
        }
    }

    /// Tells the engine that `frames` input frames were lost to an overrun (0 is no xrun
    /// and changes nothing). The clock
    /// advances over them; recordings that cover them get zeros there and count them, so
    /// every recorded sample stays on the frame it belongs to.
    pub fn report_lost(&mut self, frames: u64) {
        let Some(h) = self.half.as_mut().filter(|_| frames > 0) else {
            return;
        };
        let mut pass = InputPass {
            input: None,
            channels: usize::from(h.channels),
        };
        h.scheduler.run(frames, true, &mut pass);
    }

    /// Ends everything scheduled or running with
    /// [`EndReason::StreamStopped`](crate::EndReason::StreamStopped), handing back what was
    /// recorded so far; call again until [`is_idle`](Self::is_idle).
    pub fn stop(&mut self) {
        if let Some(h) = self.half.as_mut() {
            h.scheduler.stop();
        }
    }

    /// True when no action is held and no command waits.
    pub fn is_idle(&self) -> bool {
        self.half.as_ref().is_none_or(|h| h.scheduler.is_idle())
    }

    /// The input frame clock: the frame the next block starts at.
    pub fn clock(&self) -> u64 {
        self.half.as_ref().map_or(0, |h| h.scheduler.clock())
    }

    /// The interleaved channel count of input blocks (0: the stream has no inputs).
    pub fn channels(&self) -> u16 {
        self.half.as_ref().map_or(0, |h| h.channels)
    }
}

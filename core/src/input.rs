//! The input half of the engine: fills scheduled recordings from input blocks.

use crate::action::{Done, Span, Transfer};
use crate::command::Command;
use crate::meter::MeterBank;
use crate::mix::Flow;
use crate::scheduler::{Half, Schedule, Scheduler};
use crate::signal::Signal;
use crate::{mix, ActionKind, RecordTarget};
use heapless::spsc::{Consumer, Producer};

/// One input block as the scheduler reads it; `None` for frames lost to an xrun.
struct InputPass<'b> {
    input: Option<&'b [f32]>,
    channels: usize,
}

impl<R: RecordTarget> Half<R> for InputPass<'_> {
    #[inline]
    fn transfer(&mut self, t: &mut Transfer<R>, span: Span, _lost: bool) -> Flow {
        mix::record(self.input, self.channels, t, span)
    }
}

/// Runs on the audio side and takes interleaved `f32` input blocks of any length.
///
/// Each call to [`process`](Self::process) consumes the next `input.len() / channels` frames
/// of the input timeline. Nothing in it allocates, frees, waits for a lock, blocks or
/// prints (with `std`, handing back a completion may unpark a controller that waits for
/// one: an atomic load, a `try_lock` and a futex wake).
///
/// ```
/// use rtmix_core::{At, ChannelMap, Queues, Record, StreamConfig};
/// let mut q: Queues<&'static [f32], Vec<f32>, 4, 4> = Queues::new();
/// let (mut ctl, engine) = q.split(StreamConfig::input(2)).unwrap();
/// let (_out, mut in_engine) = engine.split();
/// let id = ctl.record(Record::new(vec![0.0; 2], ChannelMap::new(&[1]).unwrap()).at(At::Frame(1))).unwrap();
/// in_engine.process(&[0.0, 10.0, 1.0, 11.0, 2.0, 12.0]); // frames 0..3, two channels
/// assert_eq!(ctl.take(id).unwrap().into_recording(), Some(vec![11.0, 12.0]));
/// ```
#[derive(Debug)]
pub struct InputEngine<'a, R, const A: usize> {
    scheduler: Scheduler<'a, R, A>,
    meters: &'a MeterBank,
    channels: u16,
}

impl<'a, R: RecordTarget, const A: usize> InputEngine<'a, R, A> {
    pub(crate) fn new(
        commands: Consumer<'a, Command<R>>,
        completions: Producer<'a, Done<R>>,
        schedule: &'a mut Schedule<R, A>,
        meters: &'a MeterBank,
        channels: u16,
        signal: Signal,
    ) -> Self {
        let kind = ActionKind::Record;
        Self {
            scheduler: Scheduler::new(commands, completions, schedule, kind, signal),
            meters,
            channels,
        }
    }

    /// Consumes the next input block (interleaved, `channels()` wide).
    ///
    /// A trailing partial frame is ignored and counted in [`StreamStats::partial_frames`](crate::StreamStats::partial_frames).
    /// With no input channels this does nothing.
    pub fn process(&mut self, input: &[f32]) {
        let channels = usize::from(self.channels);
        if channels == 0 {
            return;
        }
        let frames = input.len() / channels;
        let partial = !input.len().is_multiple_of(channels);
        let input = &input[..frames * channels];
        self.meters.measure(input, channels);
        let mut pass = InputPass {
            input: Some(input),
            channels,
        };
        self.scheduler.run(frames as u64, false, &mut pass);
        if partial {
            self.scheduler.stats_mut().partial_frames += 1;
        }
    }

    /// Tells the engine that `frames` input frames were lost to an overrun (0 is no xrun
    /// and changes nothing). The clock
    /// advances over them; recordings that cover them get zeros there and count them, so
    /// every recorded sample stays on the frame it belongs to.
    pub fn report_lost(&mut self, frames: u64) {
        let channels = usize::from(self.channels);
        if channels == 0 || frames == 0 {
            return;
        }
        let mut pass = InputPass {
            input: None,
            channels,
        };
        self.scheduler.run(frames, true, &mut pass);
    }

    /// Ends everything scheduled or running with
    /// [`EndReason::StreamStopped`](crate::EndReason::StreamStopped), handing back what was
    /// recorded so far; call again until [`is_idle`](Self::is_idle).
    pub fn stop(&mut self) {
        self.scheduler.stop();
    }

    /// True when no action is held and no command waits.
    pub fn is_idle(&self) -> bool {
        self.scheduler.is_idle()
    }

    /// The input frame clock: the frame the next block starts at.
    pub fn clock(&self) -> u64 {
        self.scheduler.clock()
    }

    /// The interleaved channel count of input blocks.
    pub fn channels(&self) -> u16 {
        self.channels
    }
}

//! The output half of the engine: plays scheduled buffers into output blocks.

use crate::action::{Done, Span, Transfer};
use crate::command::Command;
use crate::meter::MeterBank;
use crate::mix::Flow;
use crate::mixdown::Mixdown;
use crate::scheduler::{Half, Schedule, Scheduler};
use crate::signal::Signal;
use crate::{mix, ActionKind, PlaySource};
use heapless::spsc::{Consumer, Producer};

/// One output block as the scheduler fills it; `out` is empty for frames lost to an xrun.
struct OutputPass<'b> {
    out: &'b mut [f32],
    channels: usize,
    mixdown: &'b mut Mixdown,
    /// Something was mixed into `out` (else it is still all zeros).
    mixed: bool,
}

impl<P: PlaySource> Half<P> for OutputPass<'_> {
    #[inline]
    fn transfer(&mut self, t: &mut Transfer<P>, span: Span, lost: bool) -> Flow {
        if lost {
            mix::skip(t, span);
            return Flow::Done;
        }
        self.mixed = true;
        mix::play(self.out, self.channels, t, span)
    }

    fn set_master(&mut self, channel: u16, to: f32, len: u64, at: u64) -> bool {
        usize::from(channel) < self.channels && self.mixdown.set_master(channel, to, len, at)
    }

    fn segment_done(&mut self, from: usize, to: usize, frame: u64, lost: bool) {
        if !lost {
            let block = &mut self.out[from * self.channels..to * self.channels];
            self.mixdown.apply_master(block, self.channels, frame);
        }
    }
}

/// Runs on the audio side and fills interleaved `f32` output blocks of any length.
///
/// Each call to [`process`](Self::process) renders the next `out.len() / channels` frames of
/// the output timeline. Nothing in it allocates, frees, locks, blocks or prints.
///
/// ```
/// use rtmix_core::{At, ChannelMap, Play, Queues, StreamConfig};
/// static ONE: [f32; 1] = [1.0];
/// let mut q: Queues<&'static [f32], Vec<f32>, 4, 4> = Queues::new();
/// let (mut ctl, engine) = q.split(StreamConfig::output(1)).unwrap();
/// let (mut out_engine, _in_engine) = engine.split();
/// ctl.play(Play::new(&ONE[..], ChannelMap::new(&[0]).unwrap()).at(At::Frame(5))).unwrap();
/// let mut block = [0.0f32; 3];
/// out_engine.process(&mut block); // frames 0..3
/// out_engine.process(&mut block); // frames 3..6
/// assert_eq!(block, [0.0, 0.0, 1.0]);
/// assert_eq!(out_engine.clock(), 6);
/// ```
#[derive(Debug)]
pub struct OutputEngine<'a, P, const A: usize> {
    scheduler: Scheduler<'a, P, A>,
    mixdown: &'a mut Mixdown,
    meters: &'a MeterBank,
    channels: u16,
}

impl<'a, P: PlaySource, const A: usize> OutputEngine<'a, P, A> {
    pub(crate) fn new(
        commands: Consumer<'a, Command<P>>,
        completions: Producer<'a, Done<P>>,
        schedule: &'a mut Schedule<P, A>,
        mixdown: &'a mut Mixdown,
        meters: &'a MeterBank,
        channels: u16,
        signal: Signal,
    ) -> Self {
        let kind = ActionKind::Play;
        Self {
            scheduler: Scheduler::new(commands, completions, schedule, kind, signal),
            mixdown,
            meters,
            channels,
        }
    }

    /// Renders the next block into `out` (interleaved, `channels()` wide), overwriting it.
    ///
    /// The mix passes through the master gains, then NaN and infinite samples become 0
    /// (and clamping, if configured, keeps it within [-1, 1]); both are counted in
    /// [`StreamStats`](crate::StreamStats). The result is what the meters
    /// ([`Controller::meter`](crate::Controller::meter)) measure. A trailing partial frame is written as silence
    /// and counted in [`StreamStats::partial_frames`](crate::StreamStats::partial_frames).
    /// With no output channels this does nothing.
    pub fn process(&mut self, out: &mut [f32]) {
        out.fill(0.0);
        let channels = usize::from(self.channels);
        if channels == 0 {
            return;
        }
        let frames = out.len() / channels;
        let partial = !out.len().is_multiple_of(channels);
        let out = &mut out[..frames * channels];
        let mut pass = OutputPass {
            out: &mut *out,
            channels,
            mixdown: &mut *self.mixdown,
            mixed: false,
        };
        self.scheduler.run(frames as u64, false, &mut pass);
        // Silence (nothing mixed; master gains keep zeros zero) needs no protecting.
        let (non_finite, clipped) = if pass.mixed {
            let counts = self.mixdown.protect(out);
            self.meters.measure(out, channels);
            counts
        } else {
            self.meters.measure_silence(frames as u64, channels);
            (0, 0)
        };
        let stats = self.scheduler.stats_mut();
        stats.non_finite = stats.non_finite.saturating_add(non_finite);
        stats.clipped = stats.clipped.saturating_add(clipped);
        if partial {
            stats.partial_frames += 1;
        }
    }

    /// Tells the engine that `frames` output frames were lost to an underrun (0 is no xrun
    /// and changes nothing). The clock
    /// advances over them, and every action moves on as if they had played, so later
    /// frames stay on the device timeline.
    pub fn report_lost(&mut self, frames: u64) {
        if self.channels == 0 || frames == 0 {
            return;
        }
        let mut pass = OutputPass {
            out: &mut [],
            channels: usize::from(self.channels),
            mixdown: &mut *self.mixdown,
            mixed: false,
        };
        self.scheduler.run(frames, true, &mut pass);
    }

    /// Ends everything scheduled or running with
    /// [`EndReason::StreamStopped`](crate::EndReason::StreamStopped) and hands back as many
    /// completions as the queue takes; call again until [`is_idle`](Self::is_idle).
    pub fn stop(&mut self) {
        self.scheduler.stop();
    }

    /// True when no action is held and no command waits.
    pub fn is_idle(&self) -> bool {
        self.scheduler.is_idle()
    }

    /// The output frame clock: the frame the next block starts at.
    pub fn clock(&self) -> u64 {
        self.scheduler.clock()
    }

    /// The interleaved channel count of output blocks.
    pub fn channels(&self) -> u16 {
        self.channels
    }
}

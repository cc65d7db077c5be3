//! The output half of the engine: plays scheduled buffers into output blocks.

use crate::action::{Span, Transfer};
use crate::envelope::Ramp;
use crate::home::Home;
use crate::meter::MeterBank;
use crate::mix::Flow;
use crate::mixdown::Mixdown;
use crate::scheduler::{Half, Scheduler, GROUP};
use crate::{mix, PlaySource};

/// One output block as the scheduler fills it; `out` is empty for frames lost to an xrun.
///
/// The block is not cleared before the walk: the first plain voice (or group) over the
/// whole block writes it (`0.0 + a + ...`, the same bits as adding to zeros), which saves
/// a pass over the block; anything else clears it first ([`clear`](Self::clear)).
struct OutputPass<'b, S> {
    out: &'b mut [f32],
    channels: usize,
    mixdown: &'b mut Mixdown<S>,
    /// `out` holds the mix so far (else whatever the caller passed in).
    zeroed: bool,
    /// Something was mixed into `out` (else it is all zeros, once `zeroed`).
    mixed: bool,
}

impl<S> OutputPass<'_, S> {
    /// Clears the block if nothing has written it yet.
    fn clear(&mut self) {
        if !self.zeroed {
            self.out.fill(0.0);
            self.zeroed = true;
        }
    }

    /// True if a span over the whole block would be the first to write it.
    fn fresh(&self, span: Span) -> bool {
        !self.zeroed && span.block_frame == 0 && span.frames * self.channels == self.out.len()
    }
}

impl<P: PlaySource, Mp: crate::channel_map::MapStore, S> Half<P, Mp> for OutputPass<'_, S>
where
    S: core::ops::DerefMut<Target = [Ramp]>,
{
    #[inline]
    fn transfer(&mut self, t: &mut Transfer<P, Mp>, span: Span, lost: bool) -> Flow {
        if lost {
            mix::skip(t, span);
            return Flow::Done;
        }
        self.mixed = true;
        if self.fresh(span) {
            if let Some(src) = mix::plain(t, span, self.channels) {
                if mix::add_all::<1, true>(self.out, [src]) {
                    self.zeroed = true;
                    return Flow::Done;
                }
            }
        }
        self.clear();
        mix::play(self.out, self.channels, t, span)
    }

    const GROUPS: bool = true;

    #[allow(clippy::inline_always)] // measured: kept out of line otherwise
    #[inline(always)]
    fn plain<'t>(&self, t: &'t Transfer<P, Mp>, span: Span) -> Option<&'t [f32]> {
        mix::plain(t, span, self.channels)
    }

    #[inline]
    fn mix_plain(&mut self, span: Span, group: [&[f32]; GROUP]) -> bool {
        if self.fresh(span) {
            let written = mix::add_all::<GROUP, true>(self.out, group);
            self.zeroed |= written;
            self.mixed |= written;
            return written;
        }
        let channels = self.channels;
        let range = span.block_frame * channels..(span.block_frame + span.frames) * channels;
        self.clear();
        let Some(dst) = self.out.get_mut(range) else {
            return false;
        };
        self.mixed = true;
        mix::add_all::<GROUP, false>(dst, group)
    }

    fn set_master(&mut self, channel: u16, to: f32, len: u64, at: u64) -> bool {
        usize::from(channel) < self.channels && self.mixdown.set_master(channel, to, len, at)
    }

    fn segment_done(&mut self, from: usize, to: usize, frame: u64, lost: bool) {
        if !lost {
            let channels = self.channels;
            // Cleared first if nothing wrote it: a master gain below 0 makes its zeros -0.0.
            self.clear();
            let block = &mut self.out[from * channels..to * channels];
            self.mixdown.apply_master(block, channels, frame);
        }
    }
}

/// The parts of an output half that has channels.
pub(crate) struct OutputHalf<P: 'static, H: Home> {
    pub(crate) scheduler: Scheduler<P, H::Map, H>,
    pub(crate) mixdown: Mixdown<H::Array<Ramp>>,
    pub(crate) meters: H::Shared<MeterBank<H::MeterSlots>>,
    /// Whether blocks are measured for the meters ([`StreamConfig::meters`](crate::StreamConfig::meters)).
    pub(crate) metered: bool,
    /// Whether blocks are protected ([`StreamConfig::protect_output`](crate::StreamConfig::protect_output)).
    pub(crate) protected: bool,
    pub(crate) channels: u16,
}

/// Runs on the audio side and fills interleaved `f32` output blocks of any length.
///
/// Each call to [`process`](Self::process) renders the next `out.len() / channels` frames of
/// the output timeline. Nothing in it allocates, frees, locks, blocks or prints.
///
/// ```
/// use rtmix_core::{At, ChannelMap, Play, StreamCapacity, StreamConfig};
/// static ONE: [f32; 1] = [1.0];
/// let (mut ctl, engine) =
///     rtmix_core::open::<&'static [f32], Vec<f32>>(StreamConfig::output(1), StreamCapacity::default()).unwrap();
/// let (mut out_engine, _in_engine) = engine.split();
/// ctl.play(Play::new(&ONE[..], ChannelMap::new(&[0]).unwrap()).at(At::Frame(5))).unwrap();
/// let mut block = [0.0f32; 3];
/// out_engine.process(&mut block); // frames 0..3
/// out_engine.process(&mut block); // frames 3..6
/// assert_eq!(block, [0.0, 0.0, 1.0]);
/// assert_eq!(out_engine.clock(), 6);
/// ```
pub struct OutputEngine<P: 'static, H: Home> {
    half: Option<OutputHalf<P, H>>,
}

impl<P, H: Home> core::fmt::Debug for OutputEngine<P, H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.half {
            Some(h) => f
                .debug_struct("OutputEngine")
                .field("channels", &h.channels)
                .field("scheduler", &h.scheduler)
                .finish_non_exhaustive(),
            None => f.write_str("OutputEngine(no output)"),
        }
    }
}

impl<P: PlaySource, H: Home> OutputEngine<P, H> {
    /// The output half over its parts, or an engine for a stream without outputs.
    pub(crate) fn new(half: Option<OutputHalf<P, H>>) -> Self {
        Self { half }
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
        let Some(h) = self.half.as_mut() else {
            out.fill(0.0);
            return;
        };
        let channels = usize::from(h.channels);
        let frames = crate::frame::whole_frames(out.len(), channels);
        let partial = !out.len().is_multiple_of(channels);
        let (out, tail) = out.split_at_mut(frames * channels);
        tail.fill(0.0);
        let mut pass = OutputPass {
            out: &mut *out,
            channels,
            mixdown: &mut h.mixdown,
            zeroed: false,
            mixed: false,
        };
        h.scheduler.run(frames as u64, false, &mut pass);
        // Every segment cleared what nothing wrote; a block of no frames has none.
        pass.clear();
        // Silence (nothing mixed; master gains keep zeros zero) needs no protecting.
        let (non_finite, clipped) = if pass.mixed && !h.metered {
            if h.protected {
                h.mixdown.protect(out)
            } else {
                (0, 0)
            }
        } else if pass.mixed {
            // One pass over the block measures it for the meters, and its largest
            // magnitude says what protection has to do: nothing if every sample is
            // within [-1, 1]; only count those beyond if all are finite and nothing is
            // clamped (the block stays as it is); else protect, then measure again.
            let mut counts = (0, 0);
            let (mixdown, protected) = (&h.mixdown, h.protected);
            h.meters.measure_checked(out, channels, |loudest, block| {
                if !protected || loudest <= 1.0 {
                    false
                } else if loudest < f32::INFINITY && !mixdown.clamps() {
                    counts.1 = crate::mixdown::beyond(block);
                    false
                } else {
                    counts = mixdown.protect(block);
                    // It changed the block only if it replaced or clamped a sample.
                    counts.0 > 0 || (mixdown.clamps() && counts.1 > 0)
                }
            });
            counts
        } else {
            if h.metered {
                h.meters.measure_silence(frames as u64, channels);
            }
            (0, 0)
        };
        let stats = h.scheduler.stats_mut();
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
        let Some(h) = self.half.as_mut().filter(|_| frames > 0) else {
            return;
        };
        let mut pass = OutputPass {
            out: &mut [],
            channels: usize::from(h.channels),
            mixdown: &mut h.mixdown,
            zeroed: true,
            mixed: false,
        };
        h.scheduler.run(frames, true, &mut pass);
    }

    /// Ends everything scheduled or running with
    /// [`EndReason::StreamStopped`](crate::EndReason::StreamStopped) and hands back as many
    /// completions as the queue takes; call again until [`is_idle`](Self::is_idle).
    pub fn stop(&mut self) {
        if let Some(h) = self.half.as_mut() {
            h.scheduler.stop();
        }
    }

    /// True when no action is held and no command waits.
    pub fn is_idle(&self) -> bool {
        self.half.as_ref().is_none_or(|h| h.scheduler.is_idle())
    }

    /// The output frame clock: the frame the next block starts at.
    pub fn clock(&self) -> u64 {
        self.half.as_ref().map_or(0, |h| h.scheduler.clock())
    }

    /// The interleaved channel count of output blocks (0: the stream has no outputs).
    pub fn channels(&self) -> u16 {
        self.half.as_ref().map_or(0, |h| h.channels)
    }
}

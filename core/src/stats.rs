//! Stream statistics, per direction.

use crate::Direction;

/// Counters of one direction of a stream since the last reset, python-rtmixer's
/// `struct stats` and more. Fetch (and reset) them with
/// [`Controller::fetch_stats`](crate::Controller::fetch_stats).
///
/// ```
/// use rtmix_core::{Direction, StreamStats};
/// let s = StreamStats::new(Direction::Output);
/// assert_eq!(s.blocks, 0);
/// assert_eq!(s.min_block, None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StreamStats {
    /// Which direction these are: output underflows or input overflows.
    pub direction: Direction,
    /// Blocks processed.
    pub blocks: u64,
    /// Frames processed in those blocks (frames lost to xruns not included).
    pub frames: u64,
    /// The smallest block seen, in frames.
    pub min_block: Option<u64>,
    /// The largest block seen, in frames.
    pub max_block: Option<u64>,
    /// Xruns reported by the backend: output underflows or input overflows.
    pub xruns: u64,
    /// Frames lost to those xruns; the frame clock advanced over them.
    pub frames_lost: u64,
    /// Commands whose frame had already passed when they arrived.
    pub late: u64,
    /// The most commands seen waiting in the command queue at the start of a block.
    pub queue_high_water: usize,
    /// Output blocks whose sample count was not a whole number of frames (the partial frame
    /// is written as silence), or input blocks likewise (the partial frame is ignored).
    /// Counted with the block, after any stats fetch that takes effect in it.
    pub partial_frames: u64,
    /// Output samples that came out of the mix as NaN or infinite (a huge sample times a
    /// huge gain) and were sent as 0 instead. Always 0 for input, and on a stream without
    /// output protection ([`StreamConfig::protect_output`](crate::StreamConfig::protect_output)).
    pub non_finite: u64,
    /// Output samples beyond [-1, 1]: clamped if the stream clamps
    /// ([`StreamConfig::clamped`](crate::StreamConfig::clamped)), sent as they are
    /// otherwise. Always 0 for input, and on a stream without output protection.
    pub clipped: u64,
}

impl StreamStats {
    /// All counters at zero.
    pub const fn new(direction: Direction) -> Self {
        Self {
            direction,
            blocks: 0,
            frames: 0,
            min_block: None,
            max_block: None,
            xruns: 0,
            frames_lost: 0,
            late: 0,
            queue_high_water: 0,
            partial_frames: 0,
            non_finite: 0,
            clipped: 0,
        }
    }

    pub(crate) fn count_block(&mut self, frames: u64) {
        self.blocks = self.blocks.saturating_add(1);
        self.frames = self.frames.saturating_add(frames);
        self.min_block = Some(self.min_block.map_or(frames, |m| m.min(frames)));
        self.max_block = Some(self.max_block.map_or(frames, |m| m.max(frames)));
    }

    pub(crate) fn count_xrun(&mut self, frames: u64) {
        self.xruns = self.xruns.saturating_add(1);
        self.frames_lost = self.frames_lost.saturating_add(frames);
    }
}

//! What one DMA interrupt did: the block that starts on the wire, the block rendered.

/// A run of frames on a stream's frame clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Block {
    /// Its first frame.
    pub start: u64,
    /// Its length in frames (one half of the DMA buffer).
    pub frames: u64,
    /// True when the DMA sends stale samples for these frames: the interrupt that should
    /// have rendered them was missed, and the engine counted them as lost (an underrun,
    /// see rtmix-core's `report_lost`).
    pub stale: bool,
}

impl Block {
    /// One past its last frame.
    ///
    /// ```
    /// use rtmix_embedded::Block;
    /// let b = Block { start: 96, frames: 48, stale: false };
    /// assert_eq!(b.end(), 144);
    /// assert!(b.contains(143) && !b.contains(144));
    /// ```
    pub const fn end(&self) -> u64 {
        self.start.saturating_add(self.frames)
    }

    /// Whether `frame` lies in the block.
    pub const fn contains(&self, frame: u64) -> bool {
        frame >= self.start && frame < self.end()
    }
}

/// What one output interrupt did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HalfReport {
    /// The half that was serviced.
    pub half: Half,
    /// The block that the DMA started sending when the interrupt fired (in the other half).
    /// Its first frame leaves the I2S peripheral at about the moment of the interrupt.
    pub playing: Block,
    /// The block rendered into `half`; it starts on the wire one half later.
    pub rendered: Block,
    /// True when the interrupt before this one was missed (see [`Block::stale`]).
    pub missed: bool,
    /// Samples that had to be clamped when converting this block (the engine counts its
    /// own NaN and clip protection in `StreamStats`).
    pub clipped: usize,
}

use crate::Half;

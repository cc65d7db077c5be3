//! The shape of a circular DMA buffer: two halves, each one engine block.

use crate::{DmaError, FrameFormat};

/// A circular buffer of two halves of `frames` frames, in a device format; one half is
/// `samples` `f32` samples in the scratch block and the whole buffer `words` words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Frames in one half (one engine block).
    pub(crate) frames: usize,
    /// Samples in one half.
    pub(crate) samples: usize,
    /// Words in the whole circular buffer.
    pub(crate) words: usize,
}

impl Shape {
    /// The shape of halves of `frames` frames of `channels` channels in format `F`, checked
    /// against a scratch block of `scratch` samples, which must hold one half.
    pub(crate) fn new<F: FrameFormat>(
        frames: usize,
        channels: usize,
        scratch: usize,
    ) -> Result<Self, DmaError> {
        if frames == 0 || channels == 0 {
            return Err(DmaError::Empty);
        }
        let samples = frames.checked_mul(channels).ok_or(DmaError::TooLarge)?;
        let words = samples
            .checked_mul(F::WORDS_PER_SAMPLE)
            .and_then(|w| w.checked_mul(2))
            .ok_or(DmaError::TooLarge)?;
        if scratch < samples {
            return Err(DmaError::ScratchTooSmall {
                len: scratch,
                needed: samples,
            });
        }
        Ok(Self {
            frames,
            samples,
            words,
        })
    }

    /// Checks that a buffer handed over has this shape's length.
    pub(crate) fn check(&self, len: usize) -> Result<(), DmaError> {
        if len == self.words {
            Ok(())
        } else {
            Err(DmaError::BufferLength {
                len,
                expected: self.words,
            })
        }
    }
}

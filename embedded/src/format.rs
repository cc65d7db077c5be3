//! The I2S frame formats: how the engine's `f32` samples become the words a DMA stream
//! moves to (or from) an I2S or SAI peripheral.
//!
//! Every format converts with rtmix-core's [`convert`](rtmix_core::convert) rule: full
//! scale `2^(N-1)`, rounding half away from zero, clamped (+1.0 becomes the largest
//! value, not a wrap-around), NaN to 0; and back exactly.
//!
//! | format | word | one sample is | for |
//! |---|---|---|---|
//! | [`I16`] | `i16` | one word | 16-bit I2S, any DMA that moves `i16` |
//! | [`I16Bits`] | `u16` | one word, the bits of an `i16` | HALs whose DMA buffers are `u16` |
//! | [`I24Left`] | `i32` | one word, 24 bits left-justified (bits 31..8, low byte 0) | SAI and 32-bit I2S slots |
//! | [`I24LeftHalfwords`] | `u16` | two words, high half first | STM32 SPI/I2S in 24- or 32-bit mode, whose DMA moves half-words |

use rtmix_core::convert::{self, Sample, I24};

/// One I2S frame format: a DMA word type and the conversions to and from it.
///
/// ```
/// use rtmix_embedded::{FrameFormat, I16, I24Left};
/// let mut words = [0i16; 3];
/// assert_eq!(I16::encode(&[0.5, -1.0, 1.0], &mut words), 0);
/// assert_eq!(words, [16_384, i16::MIN, i16::MAX]);
/// let mut wide = [0i32; 1];
/// I24Left::encode(&[-1.0], &mut wide);
/// assert_eq!(wide[0], i32::MIN); // 0x800000 in bits 31..8
/// ```
pub trait FrameFormat {
    /// The word the DMA moves.
    type Word: Copy + Default;
    /// DMA words per sample (per channel of a frame).
    const WORDS_PER_SAMPLE: usize;
    /// Converts `src` into the first `src.len() * WORDS_PER_SAMPLE` words of `dst` (as many
    /// whole samples as both hold) and returns how many samples had to be clamped (outside
    /// `[-1, 1]` or not finite).
    fn encode(src: &[f32], dst: &mut [Self::Word]) -> usize;
    /// Converts the words of `src` into `dst` (as many whole samples as both hold).
    fn decode(src: &[Self::Word], dst: &mut [f32]);
}

/// 16-bit samples in `i16` words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct I16;

/// 16-bit samples as the bits of an `i16` in `u16` words, for HALs whose DMA buffers are
/// `u16` (the same bits on the wire as [`I16`]).
///
/// ```
/// use rtmix_embedded::{FrameFormat, I16Bits};
/// let mut words = [0u16; 2];
/// I16Bits::encode(&[-1.0, 0.5], &mut words);
/// assert_eq!(words, [0x8000, 0x4000]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct I16Bits;

/// 24-bit samples left-justified in `i32` words: the sample in bits 31..8, bits 7..0 zero
/// (what a 32-bit I2S slot or an SAI with 32-bit words sends MSB first).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct I24Left;

/// 24-bit samples left-justified in 32 bits, split into two `u16` words, the high half
/// first: the layout of STM32 SPI/I2S peripherals in 24- or 32-bit mode, whose DMA moves
/// half-words.
///
/// ```
/// use rtmix_embedded::{FrameFormat, I24LeftHalfwords};
/// let mut words = [0u16; 2];
/// I24LeftHalfwords::encode(&[0.5], &mut words);
/// assert_eq!(words, [0x4000, 0x0000]); // 0x400000 << 8, high half first
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct I24LeftHalfwords;

impl FrameFormat for I16 {
    type Word = i16;
    const WORDS_PER_SAMPLE: usize = 1;

    fn encode(src: &[f32], dst: &mut [i16]) -> usize {
        convert::encode(src, dst)
    }

    fn decode(src: &[i16], dst: &mut [f32]) {
        convert::decode(src, dst);
    }
}

impl FrameFormat for I16Bits {
    type Word = u16;
    const WORDS_PER_SAMPLE: usize = 1;

    fn encode(src: &[f32], dst: &mut [u16]) -> usize {
        let mut clipped = 0;
        for (d, &s) in dst.iter_mut().zip(src) {
            let (v, c) = i16::from_f32(s);
            *d = v.cast_unsigned();
            clipped += usize::from(c);
        }
        clipped
    }

    fn decode(src: &[u16], dst: &mut [f32]) {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = s.cast_signed().to_f32();
        }
    }
}

/// The left-justified 32-bit word of a 24-bit sample, and whether it was clamped.
fn left24(x: f32) -> (i32, bool) {
    let (I24(v), clipped) = I24::from_f32(x);
    (v << 8, clipped)
}

/// The sample of a left-justified 32-bit word (its low byte ignored).
fn from_left24(w: i32) -> f32 {
    I24(w >> 8).to_f32()
}

impl FrameFormat for I24Left {
    type Word = i32;
    const WORDS_PER_SAMPLE: usize = 1;

    fn encode(src: &[f32], dst: &mut [i32]) -> usize {
        let mut clipped = 0;
        for (d, &s) in dst.iter_mut().zip(src) {
            let (v, c) = left24(s);
            *d = v;
            clipped += usize::from(c);
        }
        clipped
    }

    fn decode(src: &[i32], dst: &mut [f32]) {
        for (d, &s) in dst.iter_mut().zip(src) {
            *d = from_left24(s);
        }
    }
}

impl FrameFormat for I24LeftHalfwords {
    type Word = u16;
    const WORDS_PER_SAMPLE: usize = 2;

    fn encode(src: &[f32], dst: &mut [u16]) -> usize {
        let mut clipped = 0;
        for (d, &s) in dst.chunks_exact_mut(2).zip(src) {
            let (v, c) = left24(s);
            let v = v.cast_unsigned();
            d[0] = (v >> 16) as u16;
            d[1] = v as u16;
            clipped += usize::from(c);
        }
        clipped
    }

    fn decode(src: &[u16], dst: &mut [f32]) {
        for (d, s) in dst.iter_mut().zip(src.chunks_exact(2)) {
            let w = (u32::from(s[0]) << 16) | u32::from(s[1]);
            *d = from_left24(w.cast_signed());
        }
    }
}

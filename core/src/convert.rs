//! Sample-format conversion at the device edge.
//!
//! The engine works in `f32`; devices and codecs want integers. Every integer format uses
//! the same rule, full scale `2^(N-1)`:
//!
//! * to the device: `round(x * 2^(N-1))`, rounding half away from zero, clamped to
//!   `[-2^(N-1), 2^(N-1) - 1]` (so +1.0 becomes the largest value, not a wrap-around);
//!   NaN becomes 0;
//! * from the device: `v / 2^(N-1)`, exact, so every integer sample survives the round
//!   trip device -> `f32` -> device unchanged (for up to 24 bits; `i32` keeps the 24 bits
//!   `f32` can hold).
//!
//! Unsigned formats are offset binary (`u16`: 32768 is silence). [`encode`] reports how
//! many samples it had to clamp: those outside `[-1, 1]` and those that were not finite.

/// One device sample format.
///
/// ```
/// use rtmix_core::convert::Sample;
/// assert_eq!(i16::from_f32(0.5), (16384, false));
/// assert_eq!(i16::from_f32(1.5), (i16::MAX, true));
/// assert_eq!(i16::MIN.to_f32(), -1.0);
/// ```
pub trait Sample: Copy {
    /// Converts from the engine's `f32`; the flag is true when the value had to be clamped
    /// (outside `[-1, 1]`, or not finite).
    fn from_f32(x: f32) -> (Self, bool);
    /// Converts to the engine's `f32`.
    fn to_f32(self) -> f32;
}

/// 24-bit signed samples in the low three bytes of an `i32` (ALSA `S24_LE`), sign-extended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct I24(pub i32);

/// 24-bit signed samples packed in three little-endian bytes (ALSA `S24_3LE`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct I24Packed(pub [u8; 3]);

/// Whether `x` lies outside `[-1, 1]` or is not finite.
fn out_of_range(x: f32) -> bool {
    !(-1.0..=1.0).contains(&x)
}

/// `round(x * scale)` half away from zero, clamped to `[-scale, scale - 1]`, NaN to 0.
/// Computed in `f64`, which holds every intermediate exactly for `scale <= 2^31`.
fn quantise(x: f32, scale: f64) -> i64 {
    let y = f64::from(x) * scale;
    let rounded = if y >= 0.0 { y + 0.5 } else { y - 0.5 };
    // `as` truncates toward zero and saturates; NaN becomes 0.
    let v = rounded as i64;
    v.clamp(-(scale as i64), scale as i64 - 1)
}

const S8: f64 = 128.0;
const S16: f64 = 32_768.0;
const S24: f64 = 8_388_608.0;
const S32: f64 = 2_147_483_648.0;

impl Sample for f32 {
    fn from_f32(x: f32) -> (Self, bool) {
        (x, !x.is_finite())
    }
    fn to_f32(self) -> f32 {
        self
    }
}

impl Sample for f64 {
    fn from_f32(x: f32) -> (Self, bool) {
        (f64::from(x), !x.is_finite())
    }
    fn to_f32(self) -> f32 {
        self as f32
    }
}

/// Signed integers: full scale `2^(N-1)`.
macro_rules! signed_sample {
    ($t:ty, $scale:expr) => {
        impl Sample for $t {
            fn from_f32(x: f32) -> (Self, bool) {
                (quantise(x, $scale) as $t, out_of_range(x))
            }
            fn to_f32(self) -> f32 {
                (f64::from(self) / $scale) as f32
            }
        }
    };
}

/// Unsigned integers: offset binary, `2^(N-1)` is silence.
macro_rules! unsigned_sample {
    ($t:ty, $scale:expr) => {
        impl Sample for $t {
            fn from_f32(x: f32) -> (Self, bool) {
                ((quantise(x, $scale) + $scale as i64) as $t, out_of_range(x))
            }
            fn to_f32(self) -> f32 {
                ((f64::from(self) - $scale) / $scale) as f32
            }
        }
    };
}

signed_sample!(i8, S8);
signed_sample!(i16, S16);
signed_sample!(i32, S32);
unsigned_sample!(u8, S8);
unsigned_sample!(u16, S16);
unsigned_sample!(u32, S32);

impl Sample for I24 {
    fn from_f32(x: f32) -> (Self, bool) {
        (I24(quantise(x, S24) as i32), out_of_range(x))
    }
    fn to_f32(self) -> f32 {
        // Sign-extend the low 24 bits, whatever the top byte holds.
        let v = (self.0 << 8) >> 8;
        (f64::from(v) / S24) as f32
    }
}

impl Sample for I24Packed {
    fn from_f32(x: f32) -> (Self, bool) {
        let (v, clipped) = I24::from_f32(x);
        let [b0, b1, b2, _] = v.0.to_le_bytes();
        (I24Packed([b0, b1, b2]), clipped)
    }
    fn to_f32(self) -> f32 {
        let [b0, b1, b2] = self.0;
        I24(i32::from_le_bytes([b0, b1, b2, 0])).to_f32()
    }
}

/// Converts `src` into `dst` (as many samples as the shorter holds) and returns how many
/// had to be clamped.
///
/// ```
/// use rtmix_core::convert::{encode, I24Packed};
/// let mut out = [0i16; 3];
/// assert_eq!(encode(&[0.0, -1.0, 2.0], &mut out), 1);
/// assert_eq!(out, [0, i16::MIN, i16::MAX]);
/// let mut packed = [I24Packed::default(); 1];
/// encode(&[-1.0], &mut packed);
/// assert_eq!(packed[0].0, [0x00, 0x00, 0x80]);
/// ```
pub fn encode<S: Sample>(src: &[f32], dst: &mut [S]) -> usize {
    let mut clipped = 0;
    for (d, &s) in dst.iter_mut().zip(src) {
        let (v, c) = S::from_f32(s);
        *d = v;
        clipped += usize::from(c);
    }
    clipped
}

/// Converts `src` into `dst` (as many samples as the shorter holds).
///
/// ```
/// use rtmix_core::convert::decode;
/// let mut out = [0.0f32; 2];
/// decode(&[16_384u16, 32_768], &mut out);
/// assert_eq!(out, [-0.5, 0.0]);
/// ```
pub fn decode<S: Sample>(src: &[S], dst: &mut [f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s.to_f32();
    }
}

//! The sample formats a backend may speak to a device, under one set of names.
//!
//! Each backend speaks a subset (its `FORMATS`, in its order of preference); the engine
//! always works in `f32`, and every other format is converted at the edge with
//! rtmix-core's `convert` (rounding half away from zero, clamping, NaN to 0; unsigned
//! formats are offset binary).

/// A sample format, little-endian on the device.
///
/// ```
/// use rtmix_backend::SampleFormat;
/// assert_eq!(SampleFormat::I24Packed.bytes(), 3);
/// assert_eq!(SampleFormat::I24.bytes(), 4);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleFormat {
    /// 32-bit float (`FLOAT_LE`): the engine renders straight into the device's buffer.
    F32,
    /// 64-bit float.
    F64,
    /// 32-bit signed (`S32_LE`).
    I32,
    /// 24 bits in the low three bytes of four (`S24_LE`, cpal's `I24`).
    I24,
    /// 24 bits in three bytes (`S24_3LE`).
    I24Packed,
    /// 16-bit signed (`S16_LE`).
    I16,
    /// 32-bit unsigned, offset binary.
    U32,
    /// 16-bit unsigned, offset binary.
    U16,
    /// 8-bit signed.
    I8,
    /// 8-bit unsigned, offset binary.
    U8,
}

impl SampleFormat {
    /// Bytes per sample on the device.
    pub fn bytes(self) -> usize {
        match self {
            SampleFormat::F64 => 8,
            SampleFormat::F32 | SampleFormat::I32 | SampleFormat::I24 | SampleFormat::U32 => 4,
            SampleFormat::I24Packed => 3,
            SampleFormat::I16 | SampleFormat::U16 => 2,
            SampleFormat::I8 | SampleFormat::U8 => 1,
        }
    }
}

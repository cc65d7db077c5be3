//! The typed errors of this crate: nothing here panics on bad input.

use embedded_hal::i2c;

/// Why the DMA integration refused a call. Nothing was rendered and the frame clock did
/// not move.
///
/// ```
/// use rtmix_embedded::DmaError;
/// assert_eq!(
///     DmaError::BufferLength { len: 3, expected: 4 }.to_string(),
///     "the DMA buffer has 3 words, the stream needs 4"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DmaError {
    /// A half of the DMA buffer holds no frame, or the stream direction has no channels.
    Empty,
    /// The `f32` scratch block is shorter than one half of the DMA buffer in samples.
    ScratchTooSmall {
        /// Its length in samples.
        len: usize,
        /// The samples of one half (frames per half times channels).
        needed: usize,
    },
    /// The circular DMA buffer handed in is not the length the integration was built for
    /// (two halves of `frames_per_half * channels` samples, in words).
    BufferLength {
        /// Its length in words.
        len: usize,
        /// The expected length in words.
        expected: usize,
    },
    /// The sizes overflow `usize`.
    TooLarge,
}

impl core::fmt::Display for DmaError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            DmaError::Empty => {
                f.write_str("a DMA half must hold at least one frame of one channel")
            }
            DmaError::ScratchTooSmall { len, needed } => write!(
                f,
                "the scratch block has {len} samples, one DMA half needs {needed}"
            ),
            DmaError::BufferLength { len, expected } => write!(
                f,
                "the DMA buffer has {len} words, the stream needs {expected}"
            ),
            DmaError::TooLarge => f.write_str("the DMA buffer size overflows usize"),
        }
    }
}

impl core::error::Error for DmaError {}

/// Why a trigger was refused or could not be carried out.
///
/// ```
/// use rtmix_embedded::TriggerError;
/// assert_eq!(TriggerError::QueueFull.to_string(), "the trigger queue is full");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TriggerError {
    /// The queue to the interrupt side has no room (for a pulse: for both edges); nothing
    /// was queued. Try again after the next block, or size the queue larger.
    QueueFull,
    /// The pulse's falling edge would lie past frame `u64::MAX`.
    FrameOverflow,
    /// A pulse must be at least one frame wide.
    ZeroWidth,
}

impl core::fmt::Display for TriggerError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            TriggerError::QueueFull => f.write_str("the trigger queue is full"),
            TriggerError::FrameOverflow => f.write_str("the pulse would end past frame u64::MAX"),
            TriggerError::ZeroWidth => f.write_str("a pulse must be at least one frame wide"),
        }
    }
}

impl core::error::Error for TriggerError {}

/// Why a codec operation failed.
///
/// Bus faults come from the HAL's [`i2c::Error::kind`], with the codec register the
/// transaction addressed, so a firmware can tell "the codec is not there or held in reset"
/// ([`Nak`](Self::Nak) on the address) from a noisy bus ([`Bus`](Self::Bus)).
///
/// ```
/// use embedded_hal::i2c::{ErrorKind, NoAcknowledgeSource};
/// use rtmix_embedded::CodecError;
/// let e = CodecError::from_i2c(0x01, ErrorKind::NoAcknowledge(NoAcknowledgeSource::Address));
/// assert_eq!(e, CodecError::Nak { register: 0x01, source: NoAcknowledgeSource::Address });
/// let e = CodecError::from_i2c(0x20, ErrorKind::ArbitrationLoss);
/// assert_eq!(e, CodecError::Bus { register: 0x20, kind: ErrorKind::ArbitrationLoss });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum CodecError {
    /// The codec did not acknowledge its address or a data byte: absent, unpowered, held
    /// in reset, or at another address.
    Nak {
        /// The register the transaction addressed.
        register: u8,
        /// What was not acknowledged.
        source: i2c::NoAcknowledgeSource,
    },
    /// Any other bus fault (bus error, arbitration loss, overrun, a HAL-specific fault).
    Bus {
        /// The register the transaction addressed.
        register: u8,
        /// The fault, as the HAL classifies it.
        kind: i2c::ErrorKind,
    },
    /// The chip answered with an identity that is not the driver's codec.
    WrongChip {
        /// The identity register's value.
        id: u8,
    },
    /// The sample rate, or the ratio of master clock to sample rate, is one the codec does
    /// not take.
    UnsupportedClock {
        /// The sample rate asked for, in Hz.
        sample_rate: u32,
        /// The master clock asked for, in Hz.
        mclk: u32,
    },
    /// A volume outside the codec's range, in half decibels.
    VolumeOutOfRange {
        /// The volume asked for, in half decibels.
        half_db: i16,
    },
}

impl CodecError {
    /// Classifies a HAL error from a transaction that addressed `register`.
    pub fn from_i2c(register: u8, kind: i2c::ErrorKind) -> Self {
        match kind {
            i2c::ErrorKind::NoAcknowledge(source) => CodecError::Nak { register, source },
            kind => CodecError::Bus { register, kind },
        }
    }
}

impl core::fmt::Display for CodecError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            CodecError::Nak { register, source } => write!(
                f,
                "the codec did not acknowledge ({source}) at register {register:#04x}"
            ),
            CodecError::Bus { register, kind } => {
                write!(f, "I2C fault at codec register {register:#04x}: {kind}")
            }
            CodecError::WrongChip { id } => write!(f, "unexpected codec identity {id:#04x}"),
            CodecError::UnsupportedClock { sample_rate, mclk } => write!(
                f,
                "the codec cannot run at {sample_rate} Hz from a {mclk} Hz master clock"
            ),
            CodecError::VolumeOutOfRange { half_db } => {
                write!(f, "volume {half_db} half-dB is outside the codec's range")
            }
        }
    }
}

impl core::error::Error for CodecError {}

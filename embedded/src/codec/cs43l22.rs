//! Cirrus Logic CS43L22: a low-power stereo DAC with headphone and class-D speaker
//! amplifiers, controlled over I2C.
//!
//! # What this is based on
//!
//! The register addresses and values come from the CS43L22 datasheet (DS792) as the
//! author knows it, cross-checked with the register writes of ST's STM32F4 Discovery
//! board-support code. **None of it has run on hardware yet**: the host tests prove the
//! exact I2C transactions the driver issues and its error paths, not that the codec
//! accepts them. Treat the first power-up on a board as a test. In particular:
//!
//! * the "required initialisation settings" (writes to 0x00, 0x47 and bit 7 of 0x32) are
//!   the datasheet's undocumented-register sequence, written verbatim;
//! * the clocking register is set to auto-detect the MCLK/LRCK ratio, with the internal
//!   MCLK divider for 512x and 768x ratios; ST's code writes 0x81 (auto-detect and divider)
//!   with a 256x MCLK, which this driver does not copy;
//! * only the master volume (0x20/0x21) is used, and mute uses the headphone and speaker
//!   mute bits of Playback Control 2 (0x0F).
//!
//! # Sequence
//!
//! 1. Release the codec's RESET pin (PD4 on the Discovery) high.
//! 2. [`Cs43l22::init`] checks the chip identity and configures everything with the codec
//!    powered down and muted.
//! 3. Start the I2S peripheral (MCLK, SCLK and LRCK must run) and its DMA
//!    ([`DmaOutput::prime`](crate::DmaOutput::prime) first).
//! 4. [`Cs43l22::power_up`], then [`Cs43l22::set_mute`]`(false)`.
//!
//! The exact transactions, as the host tests check them (0xE3: a CS43L22, revision B1;
//! the second read is register 0x32):
//!
//! ```
//! use embedded_hal_mock::eh1::i2c::{Mock, Transaction as T};
//! use rtmix_embedded::codec::cs43l22::{Config, Cs43l22, ADDRESS as A};
//!
//! let expected = [
//!     T::write_read(A, vec![0x01], vec![0xE3]), // chip ID
//!     T::write(A, vec![0x02, 0x01]),            // stay powered down
//!     T::write(A, vec![0x00, 0x99]),            // required settings...
//!     T::write(A, vec![0x47, 0x80]),
//!     T::write_read(A, vec![0x32], vec![0x00]),
//!     T::write(A, vec![0x32, 0x80]),
//!     T::write(A, vec![0x32, 0x00]),
//!     T::write(A, vec![0x00, 0x00]),            // ...done
//!     T::write(A, vec![0x04, 0xAF]),            // headphones on, speaker off
//!     T::write(A, vec![0x05, 0x80]),            // clock auto-detect
//!     T::write(A, vec![0x06, 0x04]),            // slave, I2S
//!     T::write(A, vec![0x20, 0x00]),            // master volume 0 dB
//!     T::write(A, vec![0x21, 0x00]),
//!     T::write(A, vec![0x0F, 0xF0]),            // muted
//!     T::write(A, vec![0x02, 0x9E]),            // power up
//!     T::write(A, vec![0x0F, 0x00]),            // unmute
//! ];
//! let mut i2c = Mock::new(&expected);
//! let mut codec = Cs43l22::new(i2c.clone(), A);
//! codec.init(&Config::default()).unwrap();
//! codec.power_up().unwrap();
//! codec.set_mute(false).unwrap();
//! i2c.done();
//! ```

use embedded_hal::i2c::{Error as _, I2c};

use crate::CodecError;

/// The 7-bit I2C address with the AD0 pin low (as on the STM32F4 Discovery: 0x94 as an
/// 8-bit write address).
pub const ADDRESS: u8 = 0x4A;
/// The 7-bit I2C address with the AD0 pin high.
pub const ADDRESS_AD0_HIGH: u8 = 0x4B;

/// Register addresses (datasheet section 7).
pub mod reg {
    /// Chip ID and revision (read-only): bits 7..3 are `11100`.
    pub const ID: u8 = 0x01;
    /// Power Control 1: 0x01 or 0x9F powered down, 0x9E powered up.
    pub const POWER_CTL1: u8 = 0x02;
    /// Power Control 2: headphone and speaker channels on, off or pin-controlled.
    pub const POWER_CTL2: u8 = 0x04;
    /// Clocking Control: auto-detect, speed, MCLK divider.
    pub const CLOCKING_CTL: u8 = 0x05;
    /// Interface Control 1: master/slave, DAC interface format, word length.
    pub const INTERFACE_CTL1: u8 = 0x06;
    /// Playback Control 2: headphone and speaker mutes.
    pub const PLAYBACK_CTL2: u8 = 0x0F;
    /// Master Volume A (left).
    pub const MASTER_A_VOL: u8 = 0x20;
    /// Master Volume B (right).
    pub const MASTER_B_VOL: u8 = 0x21;
}

/// Identity bits of register [`reg::ID`] (bits 7..3).
const CHIP_ID: u8 = 0xE0;
const CHIP_ID_MASK: u8 = 0xF8;
/// Power Control 1 values.
const POWERED_DOWN: u8 = 0x01;
const POWERED_UP: u8 = 0x9E;
const POWER_DOWN: u8 = 0x9F;
/// Playback Control 2: mute headphone B and A, speaker B and A.
const MUTE_ALL: u8 = 0xF0;

/// Which amplifiers are powered (Power Control 2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OutputDevice {
    /// Headphones on, speaker off (the Discovery's 3.5 mm jack).
    #[default]
    Headphone,
    /// Speaker on, headphones off.
    Speaker,
    /// Both on.
    Both,
    /// As the codec's `SPK/HP_SW` pin says.
    Auto,
}

impl OutputDevice {
    /// The Power Control 2 value.
    pub const fn register(self) -> u8 {
        match self {
            OutputDevice::Headphone => 0xAF,
            OutputDevice::Speaker => 0xFA,
            OutputDevice::Both => 0xAA,
            OutputDevice::Auto => 0x05,
        }
    }
}

/// The serial audio format (Interface Control 1; the codec is always the slave).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Interface {
    /// Philips I2S, up to 24-bit data (16-bit words, or 24 bits left-justified in 32-bit
    /// slots: [`I16`](crate::I16) and [`I24Left`](crate::I24Left) both work).
    #[default]
    I2s,
    /// Left-justified, up to 24-bit data.
    LeftJustified,
    /// Right-justified 16-bit data.
    RightJustified16,
    /// Right-justified 24-bit data.
    RightJustified24,
}

impl Interface {
    /// The Interface Control 1 value: slave, SCLK not inverted, DACDIF and AWL bits.
    pub const fn register(self) -> u8 {
        match self {
            Interface::I2s => 0x04,
            Interface::LeftJustified => 0x00,
            Interface::RightJustified16 => 0x0B,
            Interface::RightJustified24 => 0x08,
        }
    }
}

/// A master volume in half decibels, from -102 dB (-204) to +12 dB (+24).
///
/// ```
/// use rtmix_embedded::codec::cs43l22::Volume;
/// use rtmix_embedded::CodecError;
/// assert_eq!(Volume::from_half_db(0).unwrap().register(), 0x00);
/// assert_eq!(Volume::from_half_db(24).unwrap().register(), 0x18);  // +12 dB
/// assert_eq!(Volume::from_half_db(-1).unwrap().register(), 0xFF);  // -0.5 dB
/// assert_eq!(Volume::from_half_db(-204).unwrap().register(), 0x34); // -102 dB
/// assert_eq!(Volume::from_half_db(25), Err(CodecError::VolumeOutOfRange { half_db: 25 }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Volume(i16);

impl Volume {
    /// 0 dB.
    pub const UNITY: Volume = Volume(0);
    /// The quietest setting, -102 dB.
    pub const MIN_HALF_DB: i16 = -204;
    /// The loudest setting, +12 dB.
    pub const MAX_HALF_DB: i16 = 24;

    /// A volume of `half_db / 2` dB, or [`CodecError::VolumeOutOfRange`].
    pub const fn from_half_db(half_db: i16) -> Result<Self, CodecError> {
        if half_db < Self::MIN_HALF_DB || half_db > Self::MAX_HALF_DB {
            Err(CodecError::VolumeOutOfRange { half_db })
        } else {
            Ok(Volume(half_db))
        }
    }

    /// The volume in half decibels.
    pub const fn half_db(self) -> i16 {
        self.0
    }

    /// The Master Volume register value: half decibels, two's complement, modulo 256
    /// (0x18 is +12 dB, 0x00 is 0 dB, 0xFF is -0.5 dB, 0x34 is -102 dB).
    pub const fn register(self) -> u8 {
        self.0.rem_euclid(256) as u8
    }
}

impl Default for Volume {
    fn default() -> Self {
        Volume::UNITY
    }
}

/// Everything [`Cs43l22::init`] sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Config {
    /// Amplifiers to power.
    pub output: OutputDevice,
    /// Serial audio format.
    pub interface: Interface,
    /// The sample rate (LRCK), in Hz: 8 000 to 96 000.
    pub sample_rate: u32,
    /// The master clock the microcontroller sends (MCLK), in Hz: 256, 384, 512 or 768
    /// times the sample rate.
    pub mclk: u32,
    /// Both channels' master volume.
    pub volume: Volume,
}

impl Default for Config {
    /// Headphones, I2S, 48 kHz with a 256x master clock (12.288 MHz), 0 dB.
    fn default() -> Self {
        Self {
            output: OutputDevice::Headphone,
            interface: Interface::I2s,
            sample_rate: 48_000,
            mclk: 12_288_000,
            volume: Volume::UNITY,
        }
    }
}

impl Config {
    /// The Clocking Control value: auto-detect (bit 7), with the MCLK divider (bit 0) for
    /// 512x and 768x ratios; or [`CodecError::UnsupportedClock`].
    ///
    /// ```
    /// use rtmix_embedded::codec::cs43l22::Config;
    /// let c = Config { sample_rate: 44_100, mclk: 44_100 * 512, ..Config::default() };
    /// assert_eq!(c.clocking().unwrap(), 0x81);
    /// assert!(Config { mclk: 12_000_000, ..Config::default() }.clocking().is_err());
    /// ```
    pub fn clocking(&self) -> Result<u8, CodecError> {
        let unsupported = CodecError::UnsupportedClock {
            sample_rate: self.sample_rate,
            mclk: self.mclk,
        };
        if !(8_000..=96_000).contains(&self.sample_rate)
            || !self.mclk.is_multiple_of(self.sample_rate)
        {
            return Err(unsupported);
        }
        match self.mclk / self.sample_rate {
            256 | 384 => Ok(0x80),
            512 | 768 => Ok(0x81),
            _ => Err(unsupported),
        }
    }
}

/// The CS43L22 driver: owns the I2C bus (or a shared-bus handle) and the codec address.
///
/// Every method returns a typed [`CodecError`]: a NAK or bus fault with the register the
/// transaction addressed, a wrong chip, or a setting out of range (refused before any bus
/// traffic).
#[derive(Debug)]
pub struct Cs43l22<I2C> {
    i2c: I2C,
    address: u8,
}

impl<I2C: I2c> Cs43l22<I2C> {
    /// A driver for the codec at `address` ([`ADDRESS`] or [`ADDRESS_AD0_HIGH`]). Nothing
    /// is sent until [`init`](Self::init).
    pub fn new(i2c: I2C, address: u8) -> Self {
        Self { i2c, address }
    }

    /// Gives the bus back.
    pub fn release(self) -> I2C {
        self.i2c
    }

    /// Reads the identity register; [`CodecError::WrongChip`] unless it is a CS43L22.
    /// Returns the revision (bits 2..0).
    pub fn check_id(&mut self) -> Result<u8, CodecError> {
        let id = self.read(reg::ID)?;
        if id & CHIP_ID_MASK == CHIP_ID {
            Ok(id & !CHIP_ID_MASK)
        } else {
            Err(CodecError::WrongChip { id })
        }
    }

    /// Checks the chip and configures it, leaving it powered down and muted (power up
    /// once the I2S clocks run). The clock and volume are checked before anything is sent.
    pub fn init(&mut self, config: &Config) -> Result<(), CodecError> {
        let clocking = config.clocking()?;
        self.check_id()?;
        self.write(reg::POWER_CTL1, POWERED_DOWN)?;
        // Required initialisation settings (datasheet 4.11), verbatim.
        self.write(0x00, 0x99)?;
        self.write(0x47, 0x80)?;
        let r32 = self.read(0x32)?;
        self.write(0x32, r32 | 0x80)?;
        self.write(0x32, r32 & 0x7F)?;
        self.write(0x00, 0x00)?;
        self.write(reg::POWER_CTL2, config.output.register())?;
        self.write(reg::CLOCKING_CTL, clocking)?;
        self.write(reg::INTERFACE_CTL1, config.interface.register())?;
        self.set_volume(config.volume)?;
        self.write(reg::PLAYBACK_CTL2, MUTE_ALL)?;
        debug!("rtmix: CS43L22 configured");
        Ok(())
    }

    /// Powers the codec up (Power Control 1 = 0x9E). The I2S clocks must be running.
    pub fn power_up(&mut self) -> Result<(), CodecError> {
        self.write(reg::POWER_CTL1, POWERED_UP)
    }

    /// Mutes, then powers the codec down (Power Control 1 = 0x9F); stop the I2S clocks
    /// only after this.
    pub fn power_down(&mut self) -> Result<(), CodecError> {
        self.set_mute(true)?;
        self.write(reg::POWER_CTL1, POWER_DOWN)
    }

    /// Sets both channels' master volume.
    pub fn set_volume(&mut self, volume: Volume) -> Result<(), CodecError> {
        self.write(reg::MASTER_A_VOL, volume.register())?;
        self.write(reg::MASTER_B_VOL, volume.register())
    }

    /// Sets both channels' master volume from half decibels (see [`Volume`]).
    pub fn set_volume_half_db(&mut self, half_db: i16) -> Result<(), CodecError> {
        self.set_volume(Volume::from_half_db(half_db)?)
    }

    /// Mutes or unmutes the headphone and speaker outputs (Playback Control 2).
    pub fn set_mute(&mut self, mute: bool) -> Result<(), CodecError> {
        self.write(reg::PLAYBACK_CTL2, if mute { MUTE_ALL } else { 0x00 })
    }

    /// Writes one register.
    pub fn write(&mut self, register: u8, value: u8) -> Result<(), CodecError> {
        self.i2c
            .write(self.address, &[register, value])
            .map_err(|e| CodecError::from_i2c(register, e.kind()))
    }

    /// Reads one register.
    pub fn read(&mut self, register: u8) -> Result<u8, CodecError> {
        let mut value = [0u8];
        self.i2c
            .write_read(self.address, &[register], &mut value)
            .map_err(|e| CodecError::from_i2c(register, e.kind()))?;
        Ok(value[0])
    }
}

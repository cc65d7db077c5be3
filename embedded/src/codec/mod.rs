//! Codec drivers over `embedded_hal::i2c::I2c` (embedded-hal 1.0).
//!
//! One codec so far: the Cirrus Logic [CS43L22](cs43l22), the DAC with headphone and
//! speaker amplifiers on ST's STM32F4 Discovery (STM32F407G-DISC1) board. Why that one:
//! it is on the cheapest, most common Cortex-M4F board with an audio codec, so an rtmix
//! firmware can be tried on hardware many people already have, and its control port is
//! a plain one-byte-register I2C device. (The SGTL5000 of Teensy audio boards and the
//! WM8960 of Raspberry Pi HATs would be next; both also record, which the CS43L22 cannot.)
//!
//! The drivers only configure the codec. Audio goes over I2S, driven by the firmware's
//! DMA and [`DmaOutput`](crate::DmaOutput); the codec is the I2S slave, so its sample
//! rate is set by the clocks the microcontroller sends.

pub mod cs43l22;

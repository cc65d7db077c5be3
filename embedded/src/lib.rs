//! # rtmix-embedded
//!
//! rtmix on microcontrollers: the same sample-exact, allocation-free engine as on a host,
//! fed by a circular DMA buffer to an I2S codec.
//!
//! * [`DmaOutput`] owns the engine's output half and renders one half of a circular DMA
//!   buffer at each half-transfer and transfer-complete interrupt, converting to the I2S
//!   word format ([`I16`], [`I16Bits`], [`I24Left`], [`I24LeftHalfwords`]) with
//!   rtmix-core's conversions. Each half is one engine block, so the frame clock counts
//!   the frames the DMA sends; a missed interrupt is detected and counted as lost frames.
//!   [`DmaInput`] is the receive side.
//! * [`TriggerOutput`] sets a GPIO pin ([`embedded_hal::digital::OutputPin`]) when the
//!   block containing a trigger's frame starts on the wire, and reports the frame's offset
//!   in that block; triggers travel from the control side through a fixed-capacity
//!   lock-free [`TriggerQueue`].
//! * [`codec::cs43l22`] configures the STM32F4 Discovery's codec over
//!   [`embedded_hal::i2c::I2c`], with typed [`CodecError`]s.
//! * With the `defmt` feature, every value type of rtmix-core and of this crate
//!   implements `defmt::Format`, and the crate's few diagnostics (never per sample) go to
//!   defmt.
//!
//! `#![no_std]`, no allocation, no `unsafe`, no panics on bad input. docs/embedded.md
//! walks through a firmware: static storage, the DMA interrupt, codec bring-up, triggers
//! and the RAM it takes.
//!
//! ```
//! use rtmix_core::{At, ChannelMap, Play, OutputStorage, StreamConfig};
//! use rtmix_embedded::{DmaOutput, I16};
//!
//! static BEEP: [f32; 4] = [0.25, 0.25, -0.25, -0.25];
//! // A `static` in a firmware (see docs/embedded.md).
//! let mut storage: OutputStorage<&'static [f32], 8, 8, 4, 8> = OutputStorage::new();
//! let (mut ctl, engine) = storage.split(StreamConfig::output(2)).unwrap();
//! let mut scratch = [0.0f32; 2 * 32];
//! let mut dma = DmaOutput::<_, I16, _>::new(engine.output, &mut scratch, 32).unwrap();
//! let mut buffer = [0i16; 2 * 2 * 32]; // what the DMA sends, round and round
//!
//! ctl.play(Play::new(&BEEP[..], ChannelMap::new(&[0]).unwrap()).at(At::Frame(100))).unwrap();
//! dma.prime(&mut buffer).unwrap();             // frames 0..64; start the DMA
//! dma.on_half_transfer(&mut buffer).unwrap();  // frames 64..96 into the first half
//! dma.on_transfer_complete(&mut buffer).unwrap(); // frames 96..128 into the second
//! assert_eq!(buffer[64 + (100 - 96) * 2], 8192); // frame 100, left
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[macro_use]
mod fmt;

pub mod codec;
mod dma;
mod dma_input;
mod error;
mod format;
mod half;
#[cfg(all(target_arch = "arm", target_pointer_width = "32"))]
mod ram;
mod report;
mod shape;
mod trigger;

pub use dma::DmaOutput;
pub use dma_input::{CaptureReport, DmaInput};
pub use error::{CodecError, DmaError, TriggerError};
pub use format::{FrameFormat, I16Bits, I24Left, I24LeftHalfwords, I16};
pub use half::Half;
pub use report::{Block, HalfReport};
pub use trigger::{
    Edge, Fired, Trigger, TriggerOutput, TriggerQueue, TriggerReceiver, TriggerSender,
};

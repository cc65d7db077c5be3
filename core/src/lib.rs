//! # rtmix-core
//!
//! The sample-exact, allocation-free heart of rtmix: an audio-side [`Engine`] that mixes
//! playback and fills recordings at exact frames, and a control-side [`Controller`] that
//! validates requests and talks to the engine over fixed-capacity lock-free queues.
//!
//! * `#![no_std]`, no `alloc`, no `unsafe`.
//! * Time is counted in frames ([`At`]); a start, stop or cut that falls inside a block
//!   happens at exactly that sample, whatever the block size (one frame included).
//! * A command moves its buffer into the engine; the [`Completion`] moves it back out, so
//!   nothing is allocated or freed on the audio thread, and recordings come back filled.
//! * Backpressure, never a silently lost completion: each direction has a fixed number of
//!   action slots, and a request that finds none free is refused with
//!   [`Error::Capacity`]. A play, a record, a gain change, a cancel and a stats fetch each
//!   hold one slot, from the moment the controller accepts it until its completion is
//!   taken, or, if [`Controller::forget`] was called for it, until the completion arrives
//!   at the controller (for a gain change, a cancel or a stats fetch: just after it takes
//!   effect); the last slot is kept for cancels, so a stream full of future actions can
//!   still be cut.
//! * Storage: a firmware declares it `static` ([`OutputStorage`], [`InputStorage`], sized by
//!   const generics); a host opens a stream (`open`, feature `alloc`) with capacities chosen
//!   at run time (`StreamCapacity`), allocated once and freed when both sides are gone. A stream holds
//!   storage only for the directions it has.
//!
//! ```
//! use rtmix_core::{At, ChannelMap, Play, Record, StreamCapacity, StreamConfig};
//!
//! static TONE: [f32; 4] = [0.5, -0.5, 0.25, -0.25];
//!
//! // Storage for the queues (a `static` on a microcontroller).
//! let (mut ctl, mut engine) =
//!     rtmix_core::open::<&'static [f32], Vec<f32>>(StreamConfig::duplex(2, 1), StreamCapacity::default()).unwrap();
//!
//! // Play a mono tone on output channel 1, starting at frame 3.
//! let tone = ctl.play(Play::new(&TONE[..], ChannelMap::new(&[1]).unwrap()).at(At::Frame(3))).unwrap();
//! // Record 4 frames of input channel 0, starting at frame 2.
//! let rec = ctl.record(Record::new(vec![0.0; 4], ChannelMap::new(&[0]).unwrap()).at(At::Frame(2))).unwrap();
//!
//! // The audio side: one duplex block of 8 frames.
//! let input: Vec<f32> = (0..8).map(|i| i as f32).collect();
//! let mut output = [0.0f32; 16];
//! engine.process(&input, &mut output);
//!
//! assert_eq!(output[3 * 2 + 1], 0.5); // frame 3, channel 1
//! let done = ctl.take(rec).unwrap();
//! assert_eq!(done.actual_start, Some(2));
//! assert_eq!(done.into_recording().unwrap(), vec![2.0, 3.0, 4.0, 5.0]);
//! assert!(ctl.take(tone).is_some());
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// A refused request hands its buffer back by value: without `alloc` there is nothing to box.
#![allow(clippy::result_large_err)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[macro_use]
mod fmt;

mod action;
mod channel_map;
#[cfg(feature = "std")]
pub mod chunks;
mod command;
mod completion;
mod config;
mod controller;
pub mod convert;
#[cfg(feature = "std")]
mod device_clock;
mod ending;
mod engine;
mod envelope;
mod error;
mod frame;
mod home;
mod id;
mod input;
mod interval;
mod meter;
mod mix;
mod mixdown;
#[cfg(feature = "alloc")]
mod open;
mod output;
mod port;
mod repeat;
mod request;
mod scheduler;
mod signal;
mod slots;
mod stats;
mod storage;
mod stream;
#[cfg(test)]
mod tests;
mod timeline;
mod validate;
#[cfg(feature = "std")]
mod wait;

/// The fixed-capacity collections in rtmix's API (timeline entries, variable groups).
pub use heapless;

pub use channel_map::{ChannelMap, MAX_MAP_CHANNELS};
#[doc(hidden)]
pub use channel_map::{MapOf, MapStore};
pub use completion::{ActionKind, ActionStats, Completion, EndReason, Payload};
pub use config::StreamConfig;
pub use controller::Controller;
#[cfg(feature = "std")]
pub use device_clock::{Anchor, DeviceClock, TimeSource};
pub use ending::Ending;
pub use engine::Engine;
pub use error::{Error, Rejected};
pub use frame::{At, Direction, Late};
#[cfg(feature = "alloc")]
pub use home::Heap;
pub use home::{Fixed, Home, Receiver, Sender};
pub use id::ActionId;
pub use input::InputEngine;
pub use interval::Interval;
pub use meter::{Level, MAX_METER_CHANNELS};
#[doc(hidden)]
pub use meter::{MeterBank, MeterSlot, MeterSlots};
#[cfg(feature = "alloc")]
pub use open::{open, StreamCapacity};
pub use output::OutputEngine;
pub use repeat::Repeat;
pub use request::{GainTarget, Member, Play, Record};
pub use stats::StreamStats;
pub use storage::{split_duplex, InputStorage, OutputStorage, Storage};
pub use stream::{
    Feed, OnEmpty, OnFull, PlaySource, RecordTarget, SampleSink, SampleSource, Unused,
};
pub use timeline::{Entry, Timeline};
#[cfg(feature = "std")]
pub use wait::Wakeup;

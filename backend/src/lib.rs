//! # rtmix-backend
//!
//! The one interface of rtmix's device backends. rtmix-alsa and rtmix-cpal both depend on
//! this crate, re-export it, and implement its traits, so that a program written against
//! it changes backend by changing one line:
//!
//! ```text
//! type B = rtmix_alsa::Alsa;   // or: type B = rtmix_cpal::Cpal;
//! let device = B::open_output(&Config::new("default", 48_000, 2))?;
//! let stream = B::play(device, engine, RunControl::default())?;
//! ```
//!
//! ## Design
//!
//! One concept per file, as cpal's traits and its one error type are:
//!
//! - [`Config`]: what is asked (rate, channels, period, periods, format preference, and
//!   the device named the backend's way);
//! - [`Granted`]: what the device really runs, the hardware format behind a plug
//!   included where the backend can see it;
//! - [`Error`] and [`ErrorKind`]: why it failed, sorted into kinds an application
//!   handles the same way on every backend;
//! - [`Offset`] and [`OffsetKind`]: where a duplex stream's input clock stands against
//!   its output clock, `Exact` only on one clock;
//! - [`RunControl`] and [`RealtimeConfig`]: how the control side steers a stream;
//! - [`RunReport`] and [`DuplexReport`]: what a stream did;
//! - [`Handback`] and [`Detached`]: an engine handed back by a stream that ended (a device
//!   lost, say), to attach to a device again with its clock moved over the frames lost;
//!   [`DuplexHandback`] and [`DetachedDuplex`]: the same for a whole duplex engine, each
//!   half on its own clock;
//! - [`Backend`], [`Device`], [`DevicePair`], [`Stream`], [`Duplex`]: the
//!   shape both backends implement.
//!
//! The control side of a stream is rtmix-core's [`Controller`](rtmix_core::Controller),
//! the same whatever the backend; this crate only describes the device side.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod backend;
mod config;
mod control;
mod detached;
mod error;
mod format;
mod forward;
mod granted;
mod offset;
mod report;

pub use backend::{Attached, AttachedDuplex, Backend, Device, DevicePair, Duplex, Stream};
pub use config::Config;
pub use control::{Policy, RealtimeConfig, RunControl};
pub use detached::{Attachable, Detached, DetachedDuplex, DuplexHandback, Handback};
pub use error::{Error, ErrorKind};
pub use format::SampleFormat;
pub use granted::Granted;
pub use offset::{Offset, OffsetKind};
pub use report::{DuplexReport, RunReport};

//! # rtmix (the command-line program)
//!
//! `rtmix render SESSION.toml -o OUT.wav` renders a session file offline, through a real
//! `rtmix-core` engine on a simulated device, with no sound card. The output is
//! bit-identical for every block pattern (`--block N`, `--blocks random:SEED`), which is
//! how anyone can check rtmix's exactness. `rtmix play`, `record`, `devices` and
//! `latency` drive real devices through rtmix-alsa or rtmix-cpal (docs/cli.md).
//!
//! The crate is a library with a thin `main`, one module per concept:
//!
//! * [`session`]: the TOML session file, parsed and checked (docs/session-format.md);
//! * [`time`]: frame and `"1.5s"` / `"250ms"` times;
//! * [`audio_file`]: reading WAV (hound) and other formats (symphonia), resampling
//!   (rubato);
//! * [`plan`]: checking a session against its audio (also for `play`), with [`cancels`]:
//!   what a session's cancels do to a play;
//! * [`request`]: a plan mapped one to one onto rtmix-core requests;
//! * [`render`]: the offline driver: the simulated device's block loop, in the
//!   [`blocks`] pattern asked for;
//! * [`capacity`]: how much the program's streams hold;
//! * [`wav_out`]: writing f32, s16 or s24 WAV files, atomically;
//! * [`summary`]: what is printed at the end;
//! * [`error`]: the typed errors (exit code 2);
//! * [`cli`]: the clap command line;
//! * [`backend`]: the devices (rtmix-alsa, rtmix-cpal) behind `play`, `record` and
//!   `latency`, opened and started through their one interface; [`device_error`]: what
//!   their errors mean to a user; [`live`]: what those commands share around a running
//!   stream;
//! * [`play`], [`record`], [`devices`], [`latency`]: those subcommands (docs/cli.md);
//! * [`meters`]: live peak meters on a terminal;
//! * [`correlate`]: the MLS burst and the cross-correlation of `latency`.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod audio_file;
#[cfg(feature = "devices")]
pub mod backend;
pub mod blocks;
pub mod cancels;
pub mod capacity;
pub mod cli;
pub mod correlate;
#[cfg(feature = "devices")]
pub mod device_error;
#[cfg(feature = "devices")]
pub mod devices;
pub mod error;
#[cfg(feature = "devices")]
pub mod latency;
#[cfg(feature = "devices")]
pub mod live;
#[cfg(feature = "devices")]
pub mod meters;
pub mod plan;
#[cfg(feature = "devices")]
pub mod play;
#[cfg(feature = "devices")]
pub mod record;
pub mod render;
pub mod request;
pub mod session;
pub mod summary;
pub mod time;
pub mod wav_out;

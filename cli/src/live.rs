//! What the device commands (`play`, `record`, `latency`) share around a running stream,
//! whatever its backend: the [`Request`] that opens it, the [`Stream`] that runs it (the
//! backends' [`rtmix_backend::Stream`] made object-safe, so that the backend is chosen at
//! run time), what it [`Granted`] and did ([`RunSummary`]), the `--ready` line and Ctrl-C.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rtmix_backend::{Duplex, RunReport};
use rtmix_core::DeviceClock;

use crate::error::Error;

/// What a device granted, for the summaries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Granted {
    /// One line: backend, device, channels, rate, format, period, buffer.
    pub description: String,
    /// Frames per period (or callback), when known.
    pub period: Option<u32>,
    /// Frames in the device buffer, when known.
    pub buffer: Option<u32>,
}

/// What a stream did (both directions of a duplex added up).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Frames transferred (the output's, for a duplex).
    pub frames: u64,
    /// Underruns or overruns recovered from.
    pub xruns: u64,
    /// Frames lost to them (an estimate).
    pub frames_lost: u64,
    /// Samples clamped on the way to an integer device format.
    pub clipped: u64,
}

impl RunSummary {
    fn of(r: &RunReport) -> Self {
        Self {
            frames: r.frames,
            xruns: r.xruns,
            frames_lost: r.frames_lost_estimate,
            clipped: r.clipped,
        }
    }
}

/// A duplex stream's own account of where its input clock stands against its output clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportedOffset {
    /// Input frame minus output frame at the same instant.
    pub frames: i64,
    /// Whether the backend calls it exact.
    pub exact: bool,
}

/// A running stream of one direction (or a duplex), whatever its backend.
#[derive(Debug)]
pub struct Stream(pub(crate) Box<dyn Running>);

/// What the commands ask of a running stream: [`rtmix_backend::Stream`] made object-safe.
pub(crate) trait Running: std::fmt::Debug {
    fn clock(&self) -> Arc<DeviceClock>;
    fn is_finished(&self) -> bool;
    fn offset(&self) -> Option<ReportedOffset>;
    fn end(self: Box<Self>, stop: bool) -> Result<RunSummary, rtmix_backend::Error>;
}

/// A stream of one direction.
#[derive(Debug)]
pub(crate) struct One<S>(pub(crate) S);

/// A duplex stream.
#[derive(Debug)]
pub(crate) struct Pair<S>(pub(crate) S);

impl<S: rtmix_backend::Stream<Report = RunReport> + std::fmt::Debug> Running for One<S> {
    fn clock(&self) -> Arc<DeviceClock> {
        self.0.clock()
    }
    fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
    fn offset(&self) -> Option<ReportedOffset> {
        None
    }
    fn end(self: Box<Self>, stop: bool) -> Result<RunSummary, rtmix_backend::Error> {
        let r = if stop { self.0.stop() } else { self.0.join() }?;
        Ok(RunSummary::of(&r))
    }
}

impl<S: Duplex + std::fmt::Debug> Running for Pair<S> {
    fn clock(&self) -> Arc<DeviceClock> {
        self.0.clock()
    }
    fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
    fn offset(&self) -> Option<ReportedOffset> {
        self.0.offset().map(|o| ReportedOffset {
            frames: o.frames,
            exact: o.kind == rtmix_backend::OffsetKind::Exact,
        })
    }
    fn end(self: Box<Self>, stop: bool) -> Result<RunSummary, rtmix_backend::Error> {
        let r = if stop { self.0.stop() } else { self.0.join() }?;
        let (output, input) = (RunSummary::of(&r.output), RunSummary::of(&r.input));
        Ok(RunSummary {
            xruns: output.xruns + input.xruns,
            frames_lost: output.frames_lost + input.frames_lost,
            ..output
        })
    }
}

impl Stream {
    /// The output clock (the input's for a capture stream).
    pub fn clock(&self) -> Arc<DeviceClock> {
        self.0.clock()
    }

    /// Whether the stream has ended by itself.
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }

    /// A duplex stream's offset between its clocks, once both have run.
    pub fn offset(&self) -> Option<ReportedOffset> {
        self.0.offset()
    }

    /// Stops the stream (after its current period) and waits for it.
    pub fn stop(self) -> Result<RunSummary, Error> {
        self.0
            .end(true)
            .map_err(|e| Error::DeviceFailed(e.to_string()))
    }

    /// Waits for the stream to end by itself.
    pub fn join(self) -> Result<RunSummary, Error> {
        self.0
            .end(false)
            .map_err(|e| Error::DeviceFailed(e.to_string()))
    }
}

/// What a stream is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Frames per second.
    pub rate: u32,
    /// Output channels (0: no output).
    pub outputs: u16,
    /// Input channels (0: no input).
    pub inputs: u16,
    /// End by itself after this many frames (output frames, for a duplex).
    pub stop_after: Option<u64>,
    /// Measure every block for the engine's meters: only when they are drawn, since
    /// measuring costs a pass over each block (`StreamConfig::meters`).
    pub meters: bool,
}

/// One direction as the summaries describe it.
pub(crate) fn describe(g: &rtmix_backend::Granted, way: &str) -> String {
    let period = g.period.map_or_else(
        || "host's period".to_owned(),
        |p| format!("period {p} frames"),
    );
    let buffer = g.buffer.map(|b| format!(", buffer {b} frames"));
    let hardware = g
        .hardware_format
        .as_ref()
        .map(|f| format!(" (hardware {f})"));
    format!(
        "{way} {} ch, {} Hz, {:?}{}, {period}{}",
        g.channels,
        g.rate,
        g.format,
        hardware.unwrap_or_default(),
        buffer.unwrap_or_default()
    )
}

/// The `--ready` line: printed once on standard error, the first time the stream's clock
/// has an anchor (the device runs and has moved its first period).
#[derive(Debug)]
pub struct Ready {
    /// Whether to print it (`--ready`).
    wanted: bool,
    /// `output` or `input`.
    direction: &'static str,
}

impl Ready {
    /// A `--ready` line for a stream of `direction`, printed only if `wanted`.
    pub fn new(wanted: bool, direction: &'static str) -> Self {
        Self { wanted, direction }
    }

    /// Prints `ready: <direction> frame N at the converter` once `clock` runs.
    pub fn check(&mut self, clock: &DeviceClock) {
        if !self.wanted {
            return;
        }
        if let Some(frame) = clock.now() {
            eprintln!("ready: {} frame {frame} at the converter", self.direction);
            self.wanted = false;
        }
    }
}

/// Sets a flag when Ctrl-C (SIGINT) arrives, instead of ending the process, so
/// that a command can fade out and clean up. Installed once per process; later calls share
/// the one flag.
pub fn ctrl_c_flag() -> Arc<AtomicBool> {
    static FLAG: std::sync::OnceLock<Arc<AtomicBool>> = std::sync::OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        let set = flag.clone();
        // If a handler cannot be installed, Ctrl-C keeps its default meaning.
        let _ = ctrlc::set_handler(move || set.store(true, Ordering::Release));
        flag
    })
    .clone()
}

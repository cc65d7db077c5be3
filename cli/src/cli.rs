//! The command line (clap) and what each subcommand does.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::blocks::Blocks;
use crate::error::Error;
use crate::plan;
use crate::render;
use crate::session;
use crate::summary::Summary;
use crate::wav_out::{Format, Sink, WavFile};

/// rtmix: sample-exact audio mixing and recording.
#[derive(Debug, Parser)]
#[command(name = "rtmix", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render a session file (TOML) offline, through a simulated device, to a WAV file.
    ///
    /// The output is bit-identical for every block pattern. The session format is
    /// documented in docs/session-format.md.
    Render(RenderArgs),
    /// Play files on a device, each from its exact frame, mixed: `FILE[@AT][:CHANNELS][*GAIN]`.
    ///
    /// Shows peak meters on a terminal; Ctrl-C fades out over 50 ms and stops. See
    /// docs/cli.md.
    #[cfg(feature = "devices")]
    Play(crate::play::PlayArgs),
    /// Record input channels of a device into a WAV file, frame-exact; lost frames are
    /// reported (exit code 1).
    #[cfg(feature = "devices")]
    Record(crate::record::RecordArgs),
    /// List the ALSA PCMs and the cpal hosts and devices, with what each takes.
    #[cfg(feature = "devices")]
    Devices(DevicesArgs),
    /// Measure a loopback's round trip on a duplex stream (MLS burst, cross-correlation).
    #[cfg(feature = "devices")]
    Latency(crate::latency::LatencyArgs),
}

/// `rtmix devices`.
#[cfg(feature = "devices")]
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// List one backend only: alsa or cpal (default: both).
    #[arg(long, value_enum)]
    pub backend: Option<crate::backend::Backend>,
    /// Every PCM of the ALSA configuration (those that do not open, and those that take
    /// arguments, too) and every configuration range cpal reports, instead of the table.
    #[arg(long, conflicts_with = "json")]
    pub all: bool,
    /// The table as JSON, for scripts.
    #[arg(long)]
    pub json: bool,
    /// Let alsa-lib's and libjack's own messages through to standard error.
    #[arg(long)]
    pub verbose: bool,
}

/// `rtmix render SESSION.toml -o OUT.wav`.
#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The session file.
    pub session: PathBuf,
    /// The output WAV file. Recordings are written in the same folder.
    #[arg(short, long, value_name = "OUT.wav")]
    pub output: PathBuf,
    /// The device input that the session's recordings read (WAV, or any format symphonia
    /// decodes; resampled to the session's rate if need be).
    #[arg(long, value_name = "IN.wav")]
    pub input: Option<PathBuf>,
    /// Blocks of N frames (default 1024; 1 works too).
    #[arg(long, value_name = "N", conflicts_with = "blocks", value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    pub block: Option<u32>,
    /// Random block sizes: random:SEED (1 to 4096 frames) or random:SEED:MAX.
    #[arg(long, value_name = "random:SEED")]
    pub blocks: Option<Blocks>,
    /// Sample format of the output and the recordings: f32, s16 or s24.
    #[arg(long, default_value = "f32", value_name = "f32|s16|s24")]
    pub format: Format,
    /// Print no summary.
    #[arg(short, long)]
    pub quiet: bool,
}

impl RenderArgs {
    /// The block pattern the options ask for.
    pub fn block_pattern(&self) -> Blocks {
        match (self.block, self.blocks) {
            (_, Some(b)) => b,
            (Some(n), None) => Blocks::Fixed(n as usize),
            (None, None) => Blocks::default(),
        }
    }
}

/// Runs the command line; returns what to print on standard output.
pub fn run(cli: Cli) -> Result<String, Error> {
    match cli.command {
        Command::Render(args) => {
            let progress = std::io::stderr().is_terminal();
            let summary = render_files(&args, progress)?;
            Ok(if args.quiet { String::new() } else { summary })
        }
        #[cfg(feature = "devices")]
        Command::Play(args) => crate::play::run(&args, std::io::stderr().is_terminal()),
        #[cfg(feature = "devices")]
        Command::Record(args) => crate::record::run(&args, std::io::stderr().is_terminal()),
        #[cfg(feature = "devices")]
        Command::Devices(args) => Ok(crate::devices::list(&args)),
        #[cfg(feature = "devices")]
        Command::Latency(args) => crate::latency::run(&args),
    }
}

/// The folder a file is in (`.` for a bare name).
fn folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// `rtmix render`: loads and checks the session, renders it to `args.output` and its
/// recordings beside it, and returns the summary. Nothing is written unless everything
/// succeeds; with `progress`, a progress bar goes to standard error.
pub fn render_files(args: &RenderArgs, progress: bool) -> Result<String, Error> {
    let session = session::load(&args.session)?;
    let plan = plan::plan(session, args.input.as_deref(), &folder(&args.output))?;
    // Two outputs with one name would overwrite each other.
    let mut names = vec![args.output.clone()];
    for r in &plan.records {
        if names.iter().any(|n| same_file(n, &r.path)) {
            return Err(Error::Output {
                path: r.path.clone(),
                source: std::io::Error::other(format!(
                    "{} is written twice (by the output and by {}, or by two recordings)",
                    r.path.display(),
                    r.label
                )),
            });
        }
        names.push(r.path.clone());
    }
    if let Some(input) = &plan.input {
        if names.iter().any(|n| same_file(n, &input.path)) {
            return Err(Error::Usage(format!(
                "{} is both the input and an output",
                input.path.display()
            )));
        }
    }
    let rate = plan.session.sample_rate;
    let mut out = WavFile::create(&args.output, plan.session.channels, rate, args.format)?;
    let mut record_files = plan
        .records
        .iter()
        .map(|r| {
            let channels = u16::try_from(r.channels.len()).unwrap_or(u16::MAX);
            WavFile::create(&r.path, channels, rate, args.format)
        })
        .collect::<Result<Vec<_>, _>>()?;

    let blocks = args.block_pattern();
    let bar = progress.then(|| {
        let bar = indicatif::ProgressBar::new(plan.run);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "rendering {bar:40} {percent:>3}% {pos}/{len} frames, {eta} left",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut tick = |done: u64, _total: u64| {
        if let Some(bar) = &bar {
            bar.set_position(done);
        }
    };
    let rendered = render::render(&plan, blocks, &mut out, &mut tick)?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    for (file, samples) in record_files.iter_mut().zip(&rendered.recordings) {
        file.write(samples)?;
    }
    let clamped = out.clamped() + record_files.iter().map(WavFile::clamped).sum::<u64>();
    out.commit()?;
    for file in record_files {
        file.commit()?;
    }
    Ok(Summary {
        plan: &plan,
        rendered: &rendered,
        output: &args.output,
        blocks,
        format: args.format,
        clamped,
    }
    .to_string())
}

/// Whether two paths name the same file (compared after making them absolute).
fn same_file(a: &Path, b: &Path) -> bool {
    let abs = |p: &Path| {
        let p = std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
        // Resolve the folder when it exists, so `./x.wav` and `x.wav` match.
        match (
            p.parent().and_then(|d| d.canonicalize().ok()),
            p.file_name(),
        ) {
            (Some(dir), Some(name)) => dir.join(name),
            _ => p,
        }
    };
    abs(a) == abs(b)
}

//! The text printed at the end of a render: frames, clipped samples, what was decoded or
//! resampled, and each action's requested and actual frames.

use std::fmt::Write as _;
use std::path::Path;

use rtmix_core::{ActionKind, EndReason};

use crate::blocks::Blocks;
use crate::plan::Plan;
use crate::render::{Rendered, Report};
use crate::wav_out::Format;

/// Everything the summary shows.
#[derive(Debug)]
pub struct Summary<'a> {
    /// The render's plan.
    pub plan: &'a Plan,
    /// Its outcome.
    pub rendered: &'a Rendered,
    /// The output file.
    pub output: &'a Path,
    /// The block pattern.
    pub blocks: Blocks,
    /// The output format.
    pub format: Format,
    /// Samples clamped by the integer conversion, over every file written.
    pub clamped: u64,
}

fn end_text(r: &Report) -> String {
    match (r.kind, r.end) {
        (ActionKind::Cancel, EndReason::Cut) => "reached its play".into(),
        (ActionKind::Cancel, EndReason::TargetNotActive) => {
            "nothing to stop: its play had already ended".into()
        }
        (_, EndReason::Finished) => "finished".into(),
        (_, EndReason::Cancelled { .. }) if r.actual_start.is_none() => {
            "cancelled before it started".into()
        }
        (_, EndReason::Cancelled { .. }) => match r.ended_at {
            Some(end) => format!("cancelled: silent from frame {end}"),
            None => "cancelled".into(),
        },
        (_, EndReason::StreamStopped) => {
            "still running when the render ended (cut by length)".into()
        }
        (_, other) => format!("{other:?}"),
    }
}

impl Summary<'_> {
    /// Decoded and resampled files, and the input.
    fn notes(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rate = self.plan.session.sample_rate;
        for src in &self.plan.sources {
            match src.resampled_from {
                Some(from) => writeln!(
                    f,
                    "  {}: {}, resampled from {from} Hz to {rate} Hz with rubato (before the render, off the audio path)",
                    src.path.display(),
                    src.format
                )?,
                None if !src.format.starts_with("WAV") => {
                    writeln!(f, "  {}: {}", src.path.display(), src.format)?;
                }
                None => {}
            }
        }
        if let Some(input) = &self.plan.input {
            let a = &input.audio;
            write!(
                f,
                "  input {}: {} channel{}, {} frames, {}",
                input.path.display(),
                a.channels,
                if a.channels == 1 { "" } else { "s" },
                a.frames(),
                a.format
            )?;
            if let Some(from) = a.resampled_from {
                write!(f, ", resampled from {from} Hz to {rate} Hz with rubato")?;
            }
            writeln!(f)?;
            let needed = self
                .plan
                .records
                .iter()
                .map(|r| r.at + r.frames)
                .max()
                .unwrap_or(0);
            if needed > a.frames() {
                writeln!(
                    f,
                    "  note: the input ends at frame {}; recordings hold silence after it",
                    a.frames()
                )?;
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.plan.session;
        let r = self.rendered;
        let rate = s.sample_rate;
        let seconds = r.frames as f64 / f64::from(rate);
        writeln!(
            f,
            "rendered {} -> {}",
            s.path.display(),
            self.output.display()
        )?;
        writeln!(
            f,
            "  {} frames ({seconds:.3} s), {} channel{}, {rate} Hz, {} WAV",
            r.frames,
            s.channels,
            if s.channels == 1 { "" } else { "s" },
            self.format
        )?;
        writeln!(
            f,
            "  engine: {} ({} blocks); the output is the same for every block pattern",
            self.blocks, r.blocks
        )?;
        writeln!(f, "  clipped samples (beyond [-1, 1]): {}", r.clipped)?;
        if self.format != Format::F32 {
            writeln!(
                f,
                "  samples clamped by the conversion to {}: {}",
                self.format, self.clamped
            )?;
        }
        self.notes(f)?;
        writeln!(
            f,
            "  actions (frames are output frames; requested -> actual):"
        )?;
        let width = r.reports.iter().map(|x| x.label.len()).max().unwrap_or(0);
        for x in &r.reports {
            let mut line = String::new();
            let requested = match (x.kind, x.requested_frames) {
                (ActionKind::Cancel, Some(fade)) => format!("at {}, fade {fade}", x.requested_at),
                (_, Some(n)) => format!("at {}, {n} frames", x.requested_at),
                (_, None) => format!("at {}, forever", x.requested_at),
            };
            let actual = match (x.kind, x.actual_start) {
                (ActionKind::Cancel, Some(at)) => format!("took effect at {at}"),
                (_, Some(at)) => format!("at {at}, {} frames", x.frames),
                (_, None) => "never started".into(),
            };
            let _ = write!(
                line,
                "    {:width$}  {requested} -> {actual}; {}",
                x.label,
                end_text(x)
            );
            writeln!(f, "{line}")?;
        }
        for rec in &self.plan.records {
            writeln!(f, "  wrote {} ({})", rec.path.display(), rec.label)?;
        }
        Ok(())
    }
}

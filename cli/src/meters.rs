//! Live per-channel peak meters on a terminal, from [`Controller::meter`]
//! (lock-free reads of the engine's per-block peaks).
//!
//! [`Controller::meter`]: rtmix_core::Controller::meter

use std::io::Write as _;

use rtmix_core::{Direction, Level};

use crate::backend::Ctl;

/// The meter's floor, in dBFS.
pub const FLOOR_DB: f32 = -60.0;
/// Characters per bar.
pub const WIDTH: usize = 20;

/// A level in dBFS (`-inf` for silence).
///
/// ```
/// use rtmix_cli::meters::db;
/// assert!((db(0.5) + 6.02).abs() < 0.01);
/// assert_eq!(db(0.0), f32::NEG_INFINITY);
/// ```
pub fn db(peak: f32) -> f32 {
    if peak > 0.0 {
        20.0 * peak.log10()
    } else {
        f32::NEG_INFINITY
    }
}

/// One channel's bar: `#` up to the peak on a scale from [`FLOOR_DB`] to 0 dBFS, then the
/// peak in dB, `CLIP` above full scale.
///
/// ```
/// use rtmix_cli::meters::bar;
/// assert_eq!(bar(1, 1.0), " 1 [####################]   0.0 dB");
/// assert_eq!(bar(2, 0.0), " 2 [                    ]  -inf dB");
/// assert_eq!(bar(1, 0.1), " 1 [#############       ] -20.0 dB");
/// assert!(bar(1, 1.5).ends_with("CLIP"));
/// ```
pub fn bar(channel: u16, peak: f32) -> String {
    let level = db(peak);
    let filled = if level.is_finite() {
        (((level - FLOOR_DB) / -FLOOR_DB).clamp(0.0, 1.0) * WIDTH as f32).round() as usize
    } else {
        0
    };
    let value = if level.is_finite() {
        format!("{:>5.1} dB", level.max(-99.9))
    } else {
        " -inf dB".to_owned()
    };
    let clip = if peak > 1.0 { " CLIP" } else { "" };
    format!(
        "{channel:>2} [{}{}] {value:>8}{clip}",
        "#".repeat(filled),
        " ".repeat(WIDTH - filled)
    )
}

/// Peak meters for the channels of one direction, redrawn in place on standard error.
#[derive(Debug)]
pub struct Meters {
    direction: Direction,
    channels: u16,
    enabled: bool,
    /// Peaks held since the last draw.
    peaks: Vec<f32>,
}

impl Meters {
    /// Meters for `channels` channels of `direction`; drawn only when `enabled` (standard
    /// error is a terminal).
    pub fn new(direction: Direction, channels: u16, enabled: bool) -> Self {
        Self {
            direction,
            channels,
            enabled,
            peaks: vec![0.0; usize::from(channels)],
        }
    }

    /// Reads the engine's meters (resetting them) into the held peaks.
    pub fn read(&mut self, ctl: &mut Ctl) {
        for c in 0..self.channels {
            if let Some(Level { peak, .. }) = ctl.meter(self.direction, c) {
                let held = &mut self.peaks[usize::from(c)];
                *held = held.max(peak);
            }
        }
    }

    /// Draws one line, `prefix` (a position, say) then a bar per channel, and clears the
    /// held peaks.
    pub fn draw(&mut self, prefix: &str) {
        if !self.enabled {
            return;
        }
        let bars: Vec<String> = self
            .peaks
            .iter()
            .enumerate()
            .map(|(c, &p)| bar(c as u16 + 1, p))
            .collect();
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{prefix} {}", bars.join("  "));
        let _ = err.flush();
        self.peaks.iter_mut().for_each(|p| *p = 0.0);
    }

    /// Ends the meter line.
    pub fn finish(&self) {
        if self.enabled {
            let _ = writeln!(std::io::stderr());
        }
    }
}

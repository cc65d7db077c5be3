//! What a session's cancels do to a play, by its rules (docs/session-format.md): the
//! frame it ends at, which fixes the output's default length.
//!
//! A play's cancels take effect in order of frame, then of file. A cancel at `F` reaches a
//! play that has started by `F` and not yet ended, and ends it at `F + fade` (or earlier
//! if it ends earlier by itself); a play that would start after `F` never plays. How a
//! second fade over one under way sounds is the engine's (a fade never rises); where the
//! play ends is the earliest `F + fade`.

use crate::plan::{PlannedCancel, PlannedPlay};

/// The frame after the last one `cancels` leave play `index`: 0 when it plays nothing,
/// `None` while it loops forever.
pub fn end(play: &PlannedPlay, index: usize, cancels: &[PlannedCancel]) -> Option<u64> {
    let mut mine: Vec<usize> = (0..cancels.len())
        .filter(|&c| cancels[c].target == index)
        .collect();
    // Stable: file order within a frame.
    mine.sort_by_key(|&c| cancels[c].at);
    let mut end = play.total.map(|t| play.at + t);
    for c in mine {
        let cancel = &cancels[c];
        if cancel.at < play.at {
            // It has not started: it never will.
            return Some(0);
        }
        if end.is_some_and(|e| e <= cancel.at) {
            continue;
        }
        let stop = cancel.at + cancel.fade;
        if stop <= play.at {
            // Cut at its first frame: it plays nothing.
            return Some(0);
        }
        end = Some(end.map_or(stop, |e| e.min(stop)));
    }
    end
}

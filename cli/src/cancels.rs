//! What a session's cancels do to a play, by its rules (docs/session-format.md): the
//! frame it ends at, which fixes the output's default length, and the one case the engine
//! cannot yet render exactly.
//!
//! A play's cancels take effect in order of frame, then of file. A cancel at `F` reaches a
//! play that has started by `F` and not yet ended, and ends it at `F + fade` (or earlier
//! if it ends earlier by itself); a play that would start after `F` never plays.

use crate::plan::{PlannedCancel, PlannedPlay};

/// How a play's cancels end it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stop {
    /// The frame after its last one; 0 when it plays nothing; `None` while it loops
    /// forever.
    pub end: Option<u64>,
    /// `(later, earlier)`: a faded cancel that reaches the play at least two frames after
    /// an earlier cancel's fade began, while that fade is under way. The engine applies a
    /// cancel from the first frame of the block that holds it, so the later fade would
    /// also replace the earlier one on the frames of that block before its own frame,
    /// which depends on the block pattern: the plan refuses it.
    pub refade: Option<(usize, usize)>,
}

/// What `cancels` do to play `index`.
pub fn stop(play: &PlannedPlay, index: usize, cancels: &[PlannedCancel]) -> Stop {
    let mut mine: Vec<usize> = (0..cancels.len())
        .filter(|&c| cancels[c].target == index)
        .collect();
    // Stable: file order within a frame.
    mine.sort_by_key(|&c| cancels[c].at);
    let mut end = play.total.map(|t| play.at + t);
    let mut fading: Option<usize> = None;
    let mut refade = None;
    for c in mine {
        let cancel = &cancels[c];
        if cancel.at < play.at {
            // It has not started: it never will.
            return Stop {
                end: Some(0),
                refade,
            };
        }
        if end.is_some_and(|e| e <= cancel.at) {
            continue;
        }
        if cancel.fade > 0 {
            if let Some(f) = fading.filter(|&f| cancel.at >= cancels[f].at + 2) {
                refade.get_or_insert((c, f));
            }
            fading = Some(c);
        }
        let stop = cancel.at + cancel.fade;
        if stop <= play.at {
            // Cut at its first frame: it plays nothing.
            return Stop {
                end: Some(0),
                refade,
            };
        }
        end = Some(end.map_or(stop, |e| e.min(stop)));
    }
    Stop { end, refade }
}

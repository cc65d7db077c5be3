//! A plan mapped one to one onto rtmix-core requests: each `[[play]]` is one [`Play`], each
//! `[[record]]` one [`Record`], each `[[cancel]]` one cancel, all at the session's own
//! frames. The session's fades and faded cancels are the core's (docs/session-format.md),
//! so nothing is shifted and nothing is added. `rtmix render` and `rtmix play` both submit
//! these, in [`order`].

use std::sync::Arc;

use rtmix_core::{ActionId, At, ChannelMap, Ending, Late, Play, Record, Repeat};

use crate::capacity::StreamController;
use crate::plan::{Plan, PlannedCancel, PlannedRecord};

/// One entry of a plan, by its index among the entries of its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Entry {
    /// A `[[play]]`.
    Play(usize),
    /// A `[[record]]`.
    Record(usize),
    /// A `[[cancel]]`.
    Cancel(usize),
}

/// Every entry of `plan` with its frame, in the order the engine receives them: by frame,
/// then plays before recordings before cancels, then file order. The engine sums
/// overlapping plays in the order it received them, so this order fixes the sum, and a
/// play is always there before a cancel at its own first frame.
pub fn order(plan: &Plan) -> Vec<(u64, Entry)> {
    let plays = plan.plays.iter().enumerate();
    let records = plan.records.iter().enumerate();
    let cancels = plan.cancels.iter().enumerate();
    let mut entries: Vec<(u64, Entry)> = plays
        .map(|(i, p)| (p.at, Entry::Play(i)))
        .chain(records.map(|(i, r)| (r.at, Entry::Record(i))))
        .chain(cancels.map(|(i, c)| (c.at, Entry::Cancel(i))))
        .collect();
    entries.sort_unstable();
    entries
}

/// Play `index` of `plan`: its file's samples, region, repetitions, channel map with its
/// gains and its fades, at its frame. The caller chooses what happens when it is late.
pub fn play(plan: &Plan, index: usize) -> Result<Play<Arc<[f32]>>, rtmix_core::Error> {
    let p = &plan.plays[index];
    let map = ChannelMap::new(&p.channels)?.with_gains(&p.gains)?;
    Ok(Play::new(Arc::clone(&plan.sources[p.source].samples), map)
        .region(p.region.0, p.region.1)
        .repeat(p.times.map_or(Repeat::Forever, Repeat::Times))
        .fade_in(p.fade_in)
        .fade_out(p.fade_out)
        .at(At::Frame(p.at)))
}

/// Builds play `index` of `plan` ([`play`]) and submits it to `ctl`, `late` saying what
/// happens when it is late: the one place `rtmix render` (`Late::Drop`: it is never
/// late) and `rtmix play` (`Late::Skip`) submit a play.
pub fn submit_play(
    ctl: &mut StreamController,
    plan: &Plan,
    index: usize,
    late: Late,
) -> Result<ActionId, rtmix_core::Error> {
    ctl.play(play(plan, index)?.late(late))
        .map_err(|refused| refused.error)
}

/// A recording into a silent buffer of its frames, at its (input) frame.
pub fn record(r: &PlannedRecord) -> Result<Record<Vec<f32>>, rtmix_core::Error> {
    let map = ChannelMap::new(&r.channels)?;
    let buffer = vec![0.0f32; r.frames as usize * r.channels.len()];
    Ok(Record::new(buffer, map).at(At::Frame(r.at)))
}

/// How a cancel ends its play, from its frame: a cut with no fade, else the core's fade.
pub fn ending(c: &PlannedCancel) -> Ending {
    match c.fade {
        0 => Ending::Cut,
        n => Ending::FadeOut(n),
    }
}

//! The offline render: a plan's requests driven through a real `rtmix-core` engine on a
//! simulated device, in blocks of any pattern, with the output written as it goes and
//! what became of each request reported at the end.
//!
//! The engine's frames are the session's: each entry is one core request at its own
//! frame ([`crate::request`]), submitted before the block that holds that frame, so none
//! is ever late whatever the block pattern. Overlapping plays are summed in the order of
//! [`request::order`], which makes the output bit-identical for every block pattern.

use std::collections::BTreeMap;

use rtmix_core::{
    ActionId, ActionKind, At, Completion, EndReason, Engine, Home, Late, Payload, PlaySource,
    RecordTarget, StreamConfig,
};

use crate::audio_file::Audio;
use crate::blocks::Blocks;
use crate::capacity::{self, StreamController, ACTIONS};
use crate::error::Error;
use crate::plan::Plan;
use crate::request::{self, Entry};
use crate::wav_out::Sink;

type RenderCompletion = Completion<std::sync::Arc<[f32]>, Vec<f32>>;

/// What became of one play, recording or cancel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Which entry.
    pub label: String,
    /// What kind of action.
    pub kind: ActionKind,
    /// The frame it asked for.
    pub requested_at: u64,
    /// The frames it asked for (`None`: forever); a cancel's fade.
    pub requested_frames: Option<u64>,
    /// The frame where it took effect (`None`: it never did).
    pub actual_start: Option<u64>,
    /// The frames the engine played or recorded.
    pub frames: u64,
    /// The frame after its last one.
    pub ended_at: Option<u64>,
    /// How it ended.
    pub end: EndReason,
}

/// The outcome of a render.
#[derive(Debug)]
pub struct Rendered {
    /// Output frames written.
    pub frames: u64,
    /// Output samples beyond [-1, 1].
    pub clipped: u64,
    /// Blocks the engine processed.
    pub blocks: u64,
    /// One report per play, then recording, then cancel, in file order.
    pub reports: Vec<Report>,
    /// The recorded samples of each recording (interleaved), in file order.
    pub recordings: Vec<Vec<f32>>,
}

/// The control side of a render: submits the plan's requests on time and collects the
/// completions.
struct Driver<'p> {
    plan: &'p Plan,
    ctl: StreamController,
    order: Vec<(u64, Entry)>,
    next: usize,
    play_ids: Vec<Option<ActionId>>,
    who: BTreeMap<ActionId, Entry>,
    done: BTreeMap<ActionId, RenderCompletion>,
}

fn refused(what: &str, e: &rtmix_core::Error) -> Error {
    Error::Engine(format!("the engine refused {what}: {e}"))
}

impl Driver<'_> {
    fn label(&self, entry: Entry) -> &str {
        match entry {
            Entry::Play(i) => &self.plan.plays[i].label,
            Entry::Record(i) => &self.plan.records[i].label,
            Entry::Cancel(i) => &self.plan.cancels[i].label,
        }
    }

    /// Submits every request whose frame is before `end`, for the block `[clock, end)`;
    /// returns the block's end, brought forward if the engine's queues are full.
    fn submit_due(&mut self, clock: u64, mut end: u64) -> Result<u64, Error> {
        while let Some(&(frame, entry)) = self.order.get(self.next) {
            if frame >= end {
                break;
            }
            match self.submit(entry) {
                Ok(()) => self.next += 1,
                Err(rtmix_core::Error::QueueFull | rtmix_core::Error::Capacity { .. })
                    if frame > clock =>
                {
                    // Run up to its frame, take completions, then try again: it is still
                    // on time.
                    end = frame;
                    break;
                }
                Err(rtmix_core::Error::Capacity { .. }) => {
                    return Err(Error::Engine(format!(
                        "{}: more than {} plays, recordings and cancels would be under way at once around frame {frame}, more than the render holds",
                        self.label(entry),
                        ACTIONS - 1,
                    )));
                }
                Err(e) => return Err(refused(self.label(entry), &e)),
            }
        }
        Ok(end)
    }

    fn submit(&mut self, entry: Entry) -> Result<(), rtmix_core::Error> {
        match entry {
            Entry::Play(i) if self.play_ids[i].is_none() => self.submit_play(i).map(drop),
            // Submitted already, for a cancel at or before its frame.
            Entry::Play(_) => Ok(()),
            Entry::Record(i) => {
                let record = request::record(&self.plan.records[i])?.late(Late::Drop);
                let id = self.ctl.record(record).map_err(|r| r.error)?;
                self.who.insert(id, entry);
                Ok(())
            }
            Entry::Cancel(i) => {
                let c = &self.plan.cancels[i];
                // A play that starts after the cancel is submitted now: the engine removes
                // it, as the rules say.
                let target = match self.play_ids[c.target] {
                    Some(id) => id,
                    None => self.submit_play(c.target)?,
                };
                let ending = request::ending(c);
                let id = self
                    .ctl
                    .cancel_with(target, At::Frame(c.at), Late::StartNow, ending)?;
                self.who.insert(id, entry);
                Ok(())
            }
        }
    }

    fn submit_play(&mut self, index: usize) -> Result<ActionId, rtmix_core::Error> {
        let id = request::submit_play(&mut self.ctl, self.plan, index, Late::Drop)?;
        self.play_ids[index] = Some(id);
        self.who.insert(id, Entry::Play(index));
        Ok(id)
    }

    fn collect(&mut self) {
        while let Some(c) = self.ctl.try_next() {
            self.done.insert(c.id, c);
        }
    }

    /// The reports, in the order plays, recordings, cancels, and the recorded samples.
    fn reports(self) -> Result<(Vec<Report>, Vec<Vec<f32>>), Error> {
        let plan = self.plan;
        let mut recordings = vec![Vec::new(); plan.records.len()];
        let mut sorted: BTreeMap<Entry, Report> = BTreeMap::new();
        for (id, c) in self.done {
            let Some(&entry) = self.who.get(&id) else {
                continue;
            };
            if c.late_by > 0 {
                return Err(Error::Engine(format!(
                    "internal error: a request reached the engine {} frames late",
                    c.late_by
                )));
            }
            let (label, requested_at, requested_frames) = match entry {
                Entry::Play(i) => {
                    let p = &plan.plays[i];
                    (&p.label, p.at, p.total)
                }
                Entry::Record(i) => {
                    let r = &plan.records[i];
                    (&r.label, r.at, Some(r.frames))
                }
                Entry::Cancel(i) => {
                    let k = &plan.cancels[i];
                    (&k.label, k.at, Some(k.fade))
                }
            };
            sorted.insert(
                entry,
                Report {
                    label: label.clone(),
                    kind: c.kind,
                    requested_at,
                    requested_frames,
                    actual_start: c.actual_start,
                    frames: c.frames,
                    ended_at: c.ended_at,
                    end: c.end,
                },
            );
            if let (Entry::Record(i), Payload::Recorded(samples)) = (entry, c.payload) {
                recordings[i] = samples;
            }
        }
        Ok((sorted.into_values().collect(), recordings))
    }
}

/// The device side of a render: the block loop's buffers and counters.
struct Device<'p> {
    plan: &'p Plan,
    out_block: Vec<f32>,
    in_block: Vec<f32>,
    written: u64,
    clipped: u64,
    blocks: u64,
}

impl Device<'_> {
    /// Runs the engine over frames `[clock, end)` and writes those before the length to
    /// `sink`.
    fn block<P: PlaySource, R: RecordTarget, H: Home>(
        &mut self,
        engine: &mut Engine<P, R, H>,
        clock: u64,
        end: u64,
        sink: &mut dyn Sink,
    ) -> Result<(), Error> {
        let plan = self.plan;
        let ch = usize::from(plan.session.channels);
        let n = (end - clock) as usize;
        self.out_block.clear();
        self.out_block.resize(n * ch, 0.0);
        if let Some(input) = plan.input.as_ref().filter(|_| !plan.records.is_empty()) {
            fill_input(&input.audio, clock, n, &mut self.in_block);
        }
        engine.process(&self.in_block, &mut self.out_block);
        self.blocks += 1;
        // A recording may run the engine past the length: those frames are not output.
        let last = end.min(plan.length);
        if clock < last {
            let part = &self.out_block[..(last - clock) as usize * ch];
            self.clipped += part.iter().filter(|s| !(-1.0..=1.0).contains(*s)).count() as u64;
            sink.write(part)?;
            self.written += last - clock;
        }
        Ok(())
    }
}

/// Renders `plan` in blocks of `blocks` into `sink` (interleaved, the session's channels,
/// `plan.length` frames). `progress(done, total)` is called as it goes.
pub fn render(
    plan: &Plan,
    blocks: Blocks,
    sink: &mut dyn Sink,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Rendered, Error> {
    let inputs = if plan.records.is_empty() {
        0
    } else {
        plan.input.as_ref().map_or(0, |i| i.audio.channels)
    };
    // Nothing reads the meters of a render: measuring would only cost time.
    let config = StreamConfig::duplex(plan.session.channels, inputs).unmetered();
    let (ctl, mut engine) = capacity::open(config)
        .map_err(|e| Error::Engine(format!("cannot open the simulated stream: {e}")))?;
    let mut driver = Driver {
        plan,
        ctl,
        order: request::order(plan),
        next: 0,
        play_ids: vec![None; plan.plays.len()],
        who: BTreeMap::new(),
        done: BTreeMap::new(),
    };
    let mut device = Device {
        plan,
        out_block: Vec::new(),
        in_block: Vec::new(),
        written: 0,
        clipped: 0,
        blocks: 0,
    };
    let total = plan.run;
    let mut clock = 0u64;
    let mut sizes = blocks.sizes();
    let mut reported = 0u64;
    while clock < total {
        let want = sizes.next().unwrap_or(1) as u64;
        let end = driver.submit_due(clock, (clock + want).min(total))?;
        device.block(&mut engine, clock, end, sink)?;
        clock = end;
        driver.collect();
        if clock - reported >= 48_000 || clock == total {
            progress(clock, total);
            reported = clock;
        }
    }
    // End what still runs (a play past the length): its completion says StreamStopped.
    loop {
        engine.output.stop();
        engine.input.stop();
        driver.collect();
        if engine.output.is_idle() && engine.input.is_idle() {
            break;
        }
    }
    driver.collect();
    let (reports, recordings) = driver.reports()?;
    Ok(Rendered {
        frames: device.written,
        clipped: device.clipped,
        blocks: device.blocks,
        reports,
        recordings,
    })
}

/// The device's input for frames `[clock, clock + n)`: the input file's frames, silence
/// after its end.
fn fill_input(input: &Audio, clock: u64, n: usize, block: &mut Vec<f32>) {
    let ch = usize::from(input.channels);
    block.clear();
    block.resize(n * ch, 0.0);
    let frames = input.frames();
    if clock < frames {
        let have = (frames - clock).min(n as u64) as usize;
        let src = clock as usize * ch;
        block[..have * ch].copy_from_slice(&input.samples[src..src + have * ch]);
    }
}

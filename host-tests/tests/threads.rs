//! The control/audio hand-off under real threads: an audio thread runs duplex blocks of
//! random sizes while the control thread submits tens of thousands of commands (plays,
//! records, cancels, stats, groups), retrying on backpressure and waiting with `wait`.
//! Every accepted action must complete exactly once, group members at `Asap` must share
//! their start frame, recordings must hold exactly the input frames they name, and no wait
//! may hang.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rtmix_core::{
    ActionId, At, ChannelMap, Completion, Controller, Direction, Engine, Error, Heap, Late, Member,
    Payload, Play, Record, StreamConfig,
};
use rtmix_host_tests::blocks::SplitMix64;
use rtmix_host_tests::scenario::input_sample;
use rtmix_host_tests::stream;

const ACTIONS: usize = 32;
type Ctl = Controller<Vec<f32>, Vec<f32>, Heap>;
type Done = Completion<Vec<f32>, Vec<f32>>;

const COMMANDS: usize = 30_000;

/// Runs duplex blocks of 1 to 512 frames (input frame f of channel c holds
/// `input_sample(f, c)`), with an occasional output xrun, until told to stop.
fn audio_thread(
    mut engine: Engine<Vec<f32>, Vec<f32>, Heap>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut rng = SplitMix64(99);
        let (mut input, mut output) = (Vec::new(), vec![0.0f32; 2 * 512]);
        let mut blocks = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let n = 1 + (rng.next_u64() % 512) as usize;
            let start = engine.input.clock();
            input.clear();
            for f in 0..n as u64 {
                input.extend([input_sample(start + f, 0), input_sample(start + f, 1)]);
            }
            engine.process(&input, &mut output[..2 * n]);
            if rng.next_u64().is_multiple_of(97) {
                engine.output.report_lost(rng.next_u64() % 64);
            }
            blocks += 1;
            if blocks.is_multiple_of(8) {
                std::thread::yield_now();
            }
        }
        blocks
    })
}

/// Submits one random request; a group returns all its ids.
fn submit(
    ctl: &mut Ctl,
    rng: &mut SplitMix64,
    accepted: &[ActionId],
) -> Result<Vec<ActionId>, Error> {
    let map = |c: &[u16]| ChannelMap::new(c).unwrap();
    let len = (rng.next_u64() % 300) as usize;
    match rng.next_u64() % 100 {
        0..=39 => ctl
            .play(Play::new(vec![0.25; 2 * len], map(&[1, 0])))
            .map(|id| vec![id])
            .map_err(|r| r.error),
        40..=59 => ctl
            .record(Record::new(vec![-1.0; len], map(&[1])).late(Late::Skip))
            .map(|id| vec![id])
            .map_err(|r| r.error),
        60..=74 if !accepted.is_empty() => {
            let target = accepted[(rng.next_u64() % accepted.len() as u64) as usize];
            ctl.cancel(target, At::Asap, Late::StartNow)
                .map(|id| vec![id])
        }
        75..=84 => ctl
            .fetch_stats(Direction::Output, At::Asap)
            .map(|id| vec![id]),
        _ => ctl
            .group([
                Member::Play(Play::new(vec![0.5; 20], map(&[0]))),
                Member::Play(Play::new(vec![0.5; 30], map(&[1]))),
                Member::Record(Record::new(vec![-1.0; 40], map(&[0, 1]))),
                Member::Play(Play::new(vec![0.5; 50], map(&[0, 1]))),
            ])
            .map(|ids| ids.to_vec())
            .map_err(|r| r.error),
    }
}

/// Waits for `id`, which completes within a few blocks (microseconds). A wait that runs
/// to its 10 s timeout means the engine's wake-up was lost (the completion is found only
/// when the timeout ends the park), so that fails, with a thousandfold margin for a noisy
/// machine.
fn woken(ctl: &mut Ctl, id: ActionId) -> Done {
    let start = Instant::now();
    let c = ctl.wait_timeout(id, Duration::from_secs(10)).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "lost wake-up waiting for {id:?}"
    );
    c.expect("an accepted action never completed")
}

fn keep(done: &mut BTreeMap<ActionId, Done>, c: Done) {
    let id = c.id;
    assert!(done.insert(id, c).is_none(), "{id:?} completed twice");
}

#[test]
fn no_completion_is_lost_or_duplicated_across_threads() {
    let (mut ctl, engine) =
        stream::open::<Vec<f32>, Vec<f32>>(ACTIONS, 16, StreamConfig::duplex(2, 2));
    let stop = Arc::new(AtomicBool::new(false));
    let audio = audio_thread(engine, stop.clone());

    let mut rng = SplitMix64(7);
    let (mut accepted, mut groups) = (Vec::new(), Vec::new());
    let mut done = BTreeMap::new();
    while accepted.len() < COMMANDS {
        match submit(&mut ctl, &mut rng, &accepted) {
            Ok(ids) => {
                if ids.len() > 1 {
                    groups.push(ids.clone());
                }
                // Now and then, block on one of them: the engine must wake us.
                if rng.next_u64().is_multiple_of(50) {
                    keep(&mut done, woken(&mut ctl, ids[0]));
                }
                accepted.extend(ids);
            }
            Err(Error::Capacity { .. } | Error::QueueFull | Error::StatsBusy { .. }) => {}
            Err(e) => panic!("unexpected refusal {e:?}"),
        }
        while let Some(c) = ctl.try_next() {
            keep(&mut done, c);
        }
    }
    // Everything still running ends by itself (all buffers are short); wait for each.
    for &id in &accepted {
        if !done.contains_key(&id) {
            keep(&mut done, woken(&mut ctl, id));
        }
    }
    stop.store(true, Ordering::Relaxed);
    let blocks = audio.join().unwrap();
    assert!(
        ctl.try_next().is_none(),
        "a completion arrived for nothing outstanding"
    );
    assert_eq!(done.len(), accepted.len());
    assert!(blocks > 1000, "the audio thread ran only {blocks} blocks");
    check_groups(&groups, &done);
    check_recordings(&groups, &done);
}

/// Group members that started (a random cancel may have removed one before its start)
/// started on the same frame of their direction.
fn check_groups(groups: &[Vec<ActionId>], done: &BTreeMap<ActionId, Done>) {
    for group in groups {
        for d in [Direction::Output, Direction::Input] {
            let starts: Vec<_> = group
                .iter()
                .filter(|id| id.direction() == d)
                .filter_map(|id| done[id].actual_start)
                .collect();
            assert!(
                starts.windows(2).all(|w| w[0] == w[1]),
                "group members started apart: {starts:?}"
            );
        }
    }
}

/// Sample k of a recording that started at frame `first` is input frame `first + k`
/// (skipped frames excepted).
fn check_recordings(groups: &[Vec<ActionId>], done: &BTreeMap<ActionId, Done>) {
    let mut checked = 0;
    for c in done.values() {
        if let (Payload::Recorded(buffer), Some(first)) = (&c.payload, c.actual_start) {
            let in_group = groups.iter().any(|g| g.contains(&c.id));
            let channels: &[u16] = if in_group { &[0, 1] } else { &[1] };
            let frames = buffer.chunks(channels.len()).enumerate();
            for (i, frame) in frames.skip(c.skipped as usize).take(c.frames as usize) {
                let at = first + i as u64 - c.skipped;
                for (&s, &ch) in frame.iter().zip(channels) {
                    assert_eq!(s, input_sample(at, ch), "{:?} frame {i}", c.id);
                }
            }
            checked += c.frames;
        }
    }
    assert!(checked > 10_000, "only {checked} recorded frames checked");
}

//! The control/audio hand-off under two real threads, small enough for Miri (`.ci/miri`
//! runs it there, where it checks the queues' and the wake-up's `unsafe`-backed code for
//! undefined behaviour, data races and leaks; natively it runs a hundred times as many
//! commands). An engine thread renders duplex blocks of 1 to 16 frames, with an xrun now
//! and then, while the controller thread submits plays, recordings, cancels, stats fetches
//! and meter reads, forgets some actions, and blocks in `wait_timeout` on others, which the
//! engine's wake-up (flag, `try_lock`, unpark) must end.
//!
//! Both kinds of storage: a heap stream (`open`, ring buffers freed when both sides are
//! gone) and the firmware's fixed storage (`split_duplex` over local `OutputStorage` and
//! `InputStorage`, split a second time after the first stream is gone with actions still
//! in it).
//!
//! What must hold: every accepted action that was not forgotten completes exactly once,
//! as the kind it was, with its own buffer back (plays unchanged, recordings at their
//! length, holding the input frames they name); no wait runs into its timeout; and
//! nothing arrives for an action not outstanding.
#![cfg(feature = "std")]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rtmix_core::{
    split_duplex, ActionId, ActionKind, At, ChannelMap, Completion, Controller, Direction,
    EndReason, Engine, Error, Home, InputStorage, Late, OutputStorage, Payload, Play, Record,
    StreamCapacity, StreamConfig,
};

/// Commands per stream: a few dozen under Miri (an interpreter, thousands of times slower
/// than native code), thousands natively.
const COMMANDS: usize = if cfg!(miri) { 100 } else { 4_000 };
/// The largest block the engine renders, in frames.
const BLOCK: usize = 16;

type Ctl<H> = Controller<Vec<f32>, Vec<f32>, H>;
type Eng<H> = Engine<Vec<f32>, Vec<f32>, H>;
type Done = Completion<Vec<f32>, Vec<f32>>;

/// `SplitMix64`: a small, seeded generator.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

/// Input frame `f` of the stream's one input channel.
fn input_sample(f: u64) -> f32 {
    (f % 4096) as f32
}

/// The audio thread: duplex blocks of 1 to `BLOCK` frames (2 output channels, 1 input),
/// with an xrun on either side now and then, until told to stop; returns the blocks run.
fn render<H: Home>(engine: &mut Eng<H>, stop: &AtomicBool) -> u64 {
    let mut rng = Rng(11);
    let (mut input, mut output) = ([0.0f32; BLOCK], [0.0f32; 2 * BLOCK]);
    let mut blocks = 0;
    while !stop.load(Ordering::Acquire) {
        let n = 1 + rng.below(BLOCK as u64) as usize;
        let clock = engine.input.clock();
        for (f, x) in (clock..).zip(&mut input[..n]) {
            *x = input_sample(f);
        }
        engine.process(&input[..n], &mut output[..2 * n]);
        match rng.below(60) {
            0 => engine.output.report_lost(rng.below(8)),
            1 => engine.input.report_lost(rng.below(8)),
            _ => {}
        }
        blocks += 1;
        // Let the controller run: under Miri the threads take turns, and natively a
        // block of 16 frames takes well under a microsecond.
        std::thread::yield_now();
    }
    blocks
}

/// What an accepted action must come back as: its kind, and for a play or a recording
/// the value its buffer was filled with and its length.
struct Expect {
    kind: ActionKind,
    buffer: Option<(f32, usize)>,
}

#[derive(Default)]
struct Ledger {
    outstanding: HashMap<ActionId, Expect>,
    /// Plays and recordings accepted, for cancels to aim at (running, ended or gone).
    targets: Vec<ActionId>,
    accepted: usize,
    completed: usize,
    waits: usize,
    forgotten: usize,
}

impl Ledger {
    fn accept(&mut self, id: ActionId, kind: ActionKind, buffer: Option<(f32, usize)>) {
        self.accepted += 1;
        if buffer.is_some() {
            self.targets.push(id);
        }
        assert!(
            self.outstanding
                .insert(id, Expect { kind, buffer })
                .is_none(),
            "{id:?} issued twice"
        );
    }

    /// A completion: it was outstanding, it is what was submitted, it came back whole.
    fn check(&mut self, c: &Done) {
        let expect = self
            .outstanding
            .remove(&c.id)
            .unwrap_or_else(|| panic!("{:?} completed twice or was never issued", c.id));
        self.completed += 1;
        assert_eq!(c.kind, expect.kind, "{:?}", c.id);
        match (&c.payload, expect.buffer) {
            (Payload::Played(b), Some((v, len))) => {
                assert_eq!(b.len(), len, "{:?}", c.id);
                assert!(b.iter().all(|&s| s == v), "{:?}: play buffer changed", c.id);
            }
            (Payload::Recorded(b), Some((_, len))) => {
                assert_eq!(b.len(), len, "{:?}", c.id);
                if let Some(first) = c.actual_start {
                    let frames = b.iter().enumerate().skip(c.skipped as usize);
                    for (k, &s) in frames.take(c.frames as usize) {
                        let at = first + k as u64 - c.skipped;
                        // Frames that fell into an input xrun are recorded as zeros.
                        let lost = c.stats.frames_lost > 0 && s == 0.0;
                        assert!(
                            s == input_sample(at) || lost,
                            "{:?} sample {k}: {s} for frame {at}",
                            c.id
                        );
                    }
                }
            }
            (Payload::Stats(_), None) => assert_eq!(c.end, EndReason::Finished),
            (Payload::None, None) => assert!(
                matches!(c.end, EndReason::Cut | EndReason::TargetNotActive),
                "{:?}: a cancel ended as {:?}",
                c.id,
                c.end
            ),
            (p, b) => panic!("{:?}: payload {p:?} for a buffer {b:?}", c.id),
        }
    }

    /// Blocks on `id` until the engine wakes this thread. A wait that runs to its 10 s
    /// timeout means a wake-up was lost (the completion is found only when the timeout
    /// ends the park), so that fails.
    fn wait<H: Home>(&mut self, ctl: &mut Ctl<H>, id: ActionId) {
        let start = Instant::now();
        let c = ctl.wait_timeout(id, Duration::from_secs(10)).unwrap();
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "lost wake-up waiting for {id:?}"
        );
        self.check(&c.expect("an accepted action never completed"));
        self.waits += 1;
    }

    fn drain<H: Home>(&mut self, ctl: &mut Ctl<H>) {
        while let Some(c) = ctl.try_next() {
            self.check(&c);
        }
    }
}

/// Submits one random command; `Err` is backpressure only.
fn submit<H: Home>(ctl: &mut Ctl<H>, rng: &mut Rng, ledger: &mut Ledger) -> Result<(), Error> {
    let len = rng.below(24) as usize;
    let value = rng.below(100) as f32 / 128.0;
    match rng.below(100) {
        0..=39 => {
            let play = Play::new(vec![value; 2 * len], ChannelMap::new(&[1, 0]).unwrap());
            let id = ctl.play(play).map_err(|r| r.error)?;
            ledger.accept(id, ActionKind::Play, Some((value, 2 * len)));
        }
        40..=64 => {
            let record =
                Record::new(vec![-1.0; len], ChannelMap::new(&[0]).unwrap()).late(Late::Skip);
            let id = ctl.record(record).map_err(|r| r.error)?;
            ledger.accept(id, ActionKind::Record, Some((-1.0, len)));
        }
        65..=79 if !ledger.targets.is_empty() => {
            let i = rng.below(ledger.targets.len() as u64) as usize;
            let id = ctl.cancel(ledger.targets[i], At::Asap, Late::StartNow)?;
            ledger.accept(id, ActionKind::Cancel, None);
        }
        80..=87 => {
            let direction = if rng.below(2) == 0 {
                Direction::Output
            } else {
                Direction::Input
            };
            let id = ctl.fetch_stats(direction, At::Asap)?;
            ledger.accept(id, ActionKind::Stats, None);
        }
        _ => {
            // The meters, which the engine writes as it renders.
            for channel in 0..2 {
                let level = ctl.meter(Direction::Output, channel).unwrap();
                // At most 8 plays at once, each of samples below 0.8.
                assert!(level.peak < 6.4, "{level:?}");
            }
            let level = ctl.meter(Direction::Input, 0).unwrap();
            assert!(level.peak < 4096.0, "{level:?}");
        }
    }
    Ok(())
}

/// The controller's side of one stream: `COMMANDS` commands, with waits and forgets,
/// then a wait for everything; returns the ledger, with nothing outstanding.
fn control<H: Home>(ctl: &mut Ctl<H>, seed: u64) -> Ledger {
    let mut rng = Rng(seed);
    let mut ledger = Ledger::default();
    let mut refused = 0u64;
    while ledger.accepted < COMMANDS {
        match submit(ctl, &mut rng, &mut ledger) {
            Ok(()) => {}
            Err(Error::Capacity { .. } | Error::QueueFull | Error::StatsBusy { .. }) => {
                refused += 1;
                // Backpressure: let the engine catch up, blocking on something now and
                // then rather than always spinning.
                if let Some(&id) = ledger.outstanding.keys().next() {
                    if refused.is_multiple_of(4) {
                        ledger.wait(ctl, id);
                    }
                }
                std::thread::yield_now();
            }
            Err(e) => panic!("unexpected refusal {e:?}"),
        }
        match rng.below(12) {
            // Block on the newest action: the engine must wake this thread.
            0 => {
                if let Some(&id) = ledger.targets.last() {
                    if ledger.outstanding.contains_key(&id) {
                        ledger.wait(ctl, id);
                    }
                }
            }
            // Forget one: its completion, buffer and all, is dropped when it arrives.
            1 => {
                if let Some(&id) = ledger.targets.last() {
                    if ledger.outstanding.contains_key(&id) && ctl.forget(id) {
                        ledger.outstanding.remove(&id);
                        ledger.forgotten += 1;
                    }
                }
            }
            _ => {}
        }
        ledger.drain(ctl);
    }
    // Everything still running ends by itself (every buffer is short): wait for each.
    let rest: Vec<ActionId> = ledger.outstanding.keys().copied().collect();
    for id in rest {
        if ledger.outstanding.contains_key(&id) {
            ledger.wait(ctl, id);
        }
        ledger.drain(ctl);
    }
    assert!(ledger.outstanding.is_empty());
    assert!(
        ctl.try_next().is_none(),
        "a completion arrived for nothing outstanding"
    );
    assert!(ledger.waits > 0, "no wait was made");
    ledger
}

/// Leaves long plays and recordings behind in a stream whose controller is then dropped
/// while the engine still runs: their buffers are freed with the stream (or the next split
/// of its storage), not leaked.
fn leave_behind<H: Home>(ctl: &mut Ctl<H>) {
    for _ in 0..3 {
        let long = 4 * BLOCK * if cfg!(miri) { 4 } else { 64 };
        let _ = ctl.play(Play::new(
            vec![0.1; 2 * long],
            ChannelMap::new(&[0, 1]).unwrap(),
        ));
        let _ = ctl.record(Record::new(vec![0.0; long], ChannelMap::new(&[0]).unwrap()));
    }
}

fn config() -> StreamConfig {
    StreamConfig::duplex(2, 1)
}

/// Runs one stream's two sides on two threads; returns the ledger and the blocks run.
fn hand_off<H: Home>(mut ctl: Ctl<H>, mut engine: Eng<H>, seed: u64) -> (Ledger, u64)
where
    Ctl<H>: Send,
    Eng<H>: Send,
{
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let audio = s.spawn(|| render(&mut engine, &stop));
        // Stops the audio thread however this one leaves, a failed assertion included
        // (the scope would otherwise wait for it forever).
        let _stop = StopOnDrop(&stop);
        let ledger = control(&mut ctl, seed);
        leave_behind(&mut ctl);
        drop(ctl);
        stop.store(true, Ordering::Release);
        let blocks = audio.join().unwrap();
        (ledger, blocks)
    })
}

struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

#[test]
fn a_heap_stream_hands_off_across_two_threads() {
    let capacity = StreamCapacity {
        actions: 8,
        commands: 4,
        completions: 4,
    };
    let (ctl, engine) = rtmix_core::open::<Vec<f32>, Vec<f32>>(config(), capacity).unwrap();
    let (ledger, blocks) = hand_off(ctl, engine, 1);
    println!(
        "{} accepted, {} completed, {} waits, {} forgotten, {blocks} blocks",
        ledger.accepted, ledger.completed, ledger.waits, ledger.forgotten
    );
    assert_eq!(ledger.accepted, ledger.completed + ledger.forgotten);
    assert!(blocks > 0);
}

#[test]
fn fixed_storage_hands_off_across_two_threads_and_splits_again() {
    let mut output: OutputStorage<Vec<f32>, 8, 5, 4, 2> = OutputStorage::new();
    let mut input: InputStorage<Vec<f32>, 8, 5, 4, 2> = InputStorage::new();
    for seed in [2, 3] {
        let (ctl, engine) = split_duplex(&mut output, &mut input, config()).unwrap();
        let (ledger, blocks) = hand_off(ctl, engine, seed);
        println!(
            "split {seed}: {} accepted, {} completed, {} waits, {} forgotten, {blocks} blocks",
            ledger.accepted, ledger.completed, ledger.waits, ledger.forgotten
        );
        assert_eq!(ledger.accepted, ledger.completed + ledger.forgotten);
        assert!(blocks > 0);
    }
}

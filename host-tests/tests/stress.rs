//! The control/audio hand-off at volume: an audio thread runs duplex blocks of random
//! sizes (1 to 256 frames, with xruns now and then) as fast as it can, while the control
//! thread pushes two million commands through the queues (`RTMIX_STRESS_COMMANDS` for
//! more): short plays and timers, short recordings, cancels of recent actions (running,
//! finished or long gone), stats fetches, and now and then a blocking wait.
//!
//! What must hold: every accepted command completes exactly once, as the kind it was
//! submitted as, handing back the very buffer it was given (plays: unchanged; recordings:
//! at their length); a cancel completes as `Cut` or `TargetNotActive`, and both happen; a
//! refusal is only ever backpressure, and both kinds (`Capacity`, `QueueFull`) happen (first,
//! with the audio thread paused, the command queue is filled until `QueueFull` refuses;
//! then the slots are filled with lasting plays until `Capacity` does); one accepted command
//! in 500 is waited for, and no wait runs into its timeout; and when everything has
//! completed, nothing more arrives.
//! `threads.rs` checks the content of recordings and groups across threads; this one
//! checks the bookkeeping, seventy times as often.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rtmix_core::{
    ActionId, ActionKind, At, ChannelMap, Completion, Controller, Direction, EndReason, Engine,
    Error, Heap, Late, Payload, Play, Record, Repeat, StreamConfig,
};
use rtmix_host_tests::blocks::SplitMix64;
use rtmix_host_tests::stream;

const ACTIONS: usize = 64;
type Ctl = Controller<Vec<f32>, Vec<f32>, Heap>;
type Done = Completion<Vec<f32>, Vec<f32>>;

fn commands() -> u64 {
    std::env::var("RTMIX_STRESS_COMMANDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000)
}

/// Pauses the audio thread between blocks, so that the command queue fills for certain.
#[derive(Default)]
struct Hold {
    /// Set by the control thread: run no block until it is cleared.
    asked: AtomicBool,
    /// Set by the audio thread once it is paused: no block runs from then on.
    paused: AtomicBool,
}

/// Runs duplex blocks of 1 to 256 frames of silence, with an xrun on either side about
/// once in 200 blocks, until told to stop (pausing while `hold` asks); returns the blocks
/// it ran.
fn audio_thread(
    mut engine: Engine<Vec<f32>, Vec<f32>, Heap>,
    stop: Arc<AtomicBool>,
    hold: Arc<Hold>,
) -> JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut rng = SplitMix64(2024);
        let (input, mut output) = (vec![0.0f32; 256], vec![0.0f32; 2 * 256]);
        let mut blocks = 0u64;
        while !stop.load(Ordering::Relaxed) {
            if hold.asked.load(Ordering::Acquire) {
                hold.paused.store(true, Ordering::Release);
                std::thread::yield_now();
                continue;
            }
            hold.paused.store(false, Ordering::Release);
            let n = 1 + (rng.next_u64() % 256) as usize;
            engine.process(&input[..n], &mut output[..2 * n]);
            match rng.next_u64() % 400 {
                0 => engine.output.report_lost(rng.next_u64() % 64),
                1 => engine.input.report_lost(rng.next_u64() % 64),
                _ => {}
            }
            blocks += 1;
        }
        blocks
    })
}

/// What an accepted command must come back as.
#[derive(Debug)]
struct Expect {
    kind: ActionKind,
    /// The value every sample of its buffer was given, and the buffer's length.
    buffer: Option<(f32, usize)>,
}

/// The bookkeeping: what is outstanding, and the counts.
#[derive(Default)]
struct Ledger {
    outstanding: HashMap<ActionId, Expect>,
    /// The most recent plays and recordings, for cancels to aim at.
    recent: Vec<ActionId>,
    accepted: u64,
    /// Refusals for backpressure: every action slot taken, the command queue full, and
    /// as many stats fetches outstanding as a direction admits.
    capacity: u64,
    queue_full: u64,
    stats_busy: u64,
    /// Cancels that reached a running target, and those whose target had ended.
    cuts: u64,
    too_late: u64,
    waits: u64,
}

impl Ledger {
    fn accept(&mut self, id: ActionId, expect: Expect) {
        if expect.buffer.is_some() {
            if self.recent.len() == 64 {
                self.recent.swap_remove(self.accepted as usize % 64);
            }
            self.recent.push(id);
        }
        assert!(
            self.outstanding.insert(id, expect).is_none(),
            "{id:?} reused"
        );
        self.accepted += 1;
    }

    fn complete(&mut self, c: &Done) {
        let expect = self
            .outstanding
            .remove(&c.id)
            .unwrap_or_else(|| panic!("{:?} completed twice or was never accepted", c.id));
        assert_eq!(c.kind, expect.kind, "{:?}", c.id);
        match (&c.payload, expect.buffer) {
            (Payload::Played(b), Some((tag, len))) => {
                assert_eq!(b.len(), len, "{:?}: another buffer came back", c.id);
                assert!(b.iter().all(|&x| x == tag), "{:?}: buffer changed", c.id);
            }
            (Payload::Recorded(b), Some((tag, len))) => {
                assert_eq!(b.len(), len, "{:?}: another buffer came back", c.id);
                // Recorded frames hold the (silent) input; the rest is untouched.
                assert!(b.iter().all(|&x| x == 0.0 || x == tag), "{:?}", c.id);
            }
            (Payload::Stats(_), None) => assert_eq!(c.kind, ActionKind::Stats),
            (Payload::None, None) => match c.end {
                EndReason::Cut => self.cuts += 1,
                EndReason::TargetNotActive => self.too_late += 1,
                end => panic!("{:?}: a cancel ended {end:?}", c.id),
            },
            (payload, buffer) => panic!("{:?}: {payload:?} for {buffer:?}", c.id),
        }
    }
}

/// Submits one random command.
fn submit(ctl: &mut Ctl, rng: &mut SplitMix64, ledger: &mut Ledger) -> Result<(), Error> {
    let r = rng.next_u64();
    let len = (r >> 8) as usize % 9;
    // Exact in f32, never 0: the buffer's fingerprint.
    let tag = (1 + ledger.accepted % (1 << 23)) as f32;
    let (id, expect) = match r % 100 {
        0..=44 => {
            let play = Play::new(vec![tag; 2 * len], ChannelMap::new(&[1, 0]).unwrap());
            let id = ctl.play(play).map_err(|r| r.error)?;
            (id, (ActionKind::Play, Some((tag, 2 * len))))
        }
        45..=69 => {
            let len = len.max(1);
            let record = Record::new(vec![tag; len], ChannelMap::new(&[0]).unwrap());
            let id = ctl.record(record.late(Late::Skip)).map_err(|r| r.error)?;
            (id, (ActionKind::Record, Some((tag, len))))
        }
        70..=89 if !ledger.recent.is_empty() => {
            let target = ledger.recent[(r >> 32) as usize % ledger.recent.len()];
            let id = ctl.cancel(target, At::Asap, Late::StartNow)?;
            (id, (ActionKind::Cancel, None))
        }
        _ => {
            let direction = if r & 1 == 0 {
                Direction::Output
            } else {
                Direction::Input
            };
            let id = ctl.fetch_stats(direction, At::Asap)?;
            (id, (ActionKind::Stats, None))
        }
    };
    ledger.accept(
        id,
        Expect {
            kind: expect.0,
            buffer: expect.1,
        },
    );
    // One accepted command in 500, block on it: the engine must wake us long before the
    // timeout. Counted, not drawn, so a shorter run (`RTMIX_STRESS_COMMANDS`) still waits.
    if ledger.accepted.is_multiple_of(500) {
        let start = Instant::now();
        let c = ctl
            .wait_timeout(id, Duration::from_secs(10))
            .unwrap()
            .expect("an accepted action never completed");
        assert!(start.elapsed() < Duration::from_secs(5), "lost wake-up");
        ledger.complete(&c);
        ledger.waits += 1;
    }
    Ok(())
}

/// Makes both backpressure refusals happen for certain, not by the luck of the interleaving.
fn fill_queue_then_slots(ctl: &mut Ctl, ledger: &mut Ledger, hold: &Hold) {
    // The command queue full, for certain: with the audio thread paused between blocks,
    // nothing drains the queue, and the command after the 31 it holds (a queue of 32 keeps one
    // place empty; fewer than the 64 slots) is refused.
    hold.asked.store(true, Ordering::Release);
    while !hold.paused.load(Ordering::Acquire) {
        std::thread::yield_now();
    }
    while ledger.queue_full == 0 {
        let tag = (1 + ledger.accepted) as f32;
        let play = Play::new(vec![tag; 2], ChannelMap::new(&[1, 0]).unwrap());
        match ctl.play(play).map_err(|r| r.error) {
            Ok(id) => ledger.accept(
                id,
                Expect {
                    kind: ActionKind::Play,
                    buffer: Some((tag, 2)),
                },
            ),
            Err(Error::QueueFull) => ledger.queue_full += 1,
            Err(e) => panic!("unexpected refusal with the audio thread paused: {e:?}"),
        }
    }
    assert_eq!(ledger.accepted, 31, "a command queue of 32 holds 31");
    hold.asked.store(false, Ordering::Release);
    // The action slots full, for certain, not by the luck of the interleaving: plays that
    // last (one frame repeated five million times, a fraction of a second at the audio
    // thread's pace) are submitted until `Capacity` refuses one.
    while ledger.capacity == 0 {
        let tag = (1 + ledger.accepted % (1 << 23)) as f32;
        let play = Play::new(vec![tag; 2], ChannelMap::new(&[1, 0]).unwrap())
            .repeat(Repeat::Times(5_000_000));
        match ctl.play(play).map_err(|r| r.error) {
            Ok(id) => ledger.accept(
                id,
                Expect {
                    kind: ActionKind::Play,
                    buffer: Some((tag, 2)),
                },
            ),
            Err(Error::Capacity { .. }) => ledger.capacity += 1,
            Err(Error::QueueFull) => {
                ledger.queue_full += 1;
                std::thread::yield_now();
            }
            Err(e) => panic!("unexpected refusal {e:?}"),
        }
        while let Some(c) = ctl.try_next() {
            ledger.complete(&c);
        }
    }
}

#[test]
fn millions_of_commands_complete_exactly_once() {
    let (mut ctl, engine) =
        stream::open::<Vec<f32>, Vec<f32>>(ACTIONS, 32, StreamConfig::duplex(2, 1));
    let stop = Arc::new(AtomicBool::new(false));
    let hold = Arc::new(Hold::default());
    let audio = audio_thread(engine, stop.clone(), hold.clone());

    let total = commands();
    let mut rng = SplitMix64(7);
    let mut ledger = Ledger::default();
    fill_queue_then_slots(&mut ctl, &mut ledger, &hold);
    while ledger.accepted < total {
        match submit(&mut ctl, &mut rng, &mut ledger) {
            Ok(()) => {}
            Err(Error::Capacity { .. }) => {
                ledger.capacity += 1;
                std::thread::yield_now();
            }
            Err(Error::QueueFull) => {
                ledger.queue_full += 1;
                std::thread::yield_now();
            }
            Err(Error::StatsBusy { .. }) => {
                ledger.stats_busy += 1;
                std::thread::yield_now();
            }
            Err(e) => panic!("unexpected refusal {e:?}"),
        }
        while let Some(c) = ctl.try_next() {
            ledger.complete(&c);
        }
    }
    // Everything still outstanding is short: it ends by itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ledger.outstanding.is_empty() && Instant::now() < deadline {
        match ctl.try_next() {
            Some(c) => ledger.complete(&c),
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let blocks = audio.join().unwrap();
    eprintln!(
        "{} accepted, {} completed, refused for backpressure: {} Capacity, {} QueueFull, {} StatsBusy; \
         cancels: {} cut, {} too late; {} waits, {blocks} audio blocks",
        ledger.accepted,
        ledger.accepted - ledger.outstanding.len() as u64,
        ledger.capacity,
        ledger.queue_full,
        ledger.stats_busy,
        ledger.cuts,
        ledger.too_late,
        ledger.waits
    );
    assert!(
        ledger.outstanding.is_empty(),
        "{} accepted commands never completed: {:?}",
        ledger.outstanding.len(),
        ledger.outstanding.iter().take(5).collect::<Vec<_>>()
    );
    assert!(
        ctl.try_next().is_none(),
        "a completion for nothing outstanding"
    );
    assert!(
        ledger.capacity > 0,
        "the action slots never filled: `Capacity` untested"
    );
    assert!(
        ledger.queue_full > 0,
        "the command queue never filled: `QueueFull` untested"
    );
    assert!(
        ledger.stats_busy > 0,
        "stats fetches never piled up: `StatsBusy` untested"
    );
    assert!(ledger.cuts > 0, "no cancel reached a running action");
    assert!(ledger.too_late > 0, "no cancel of a finished action");
    assert!(
        ledger.waits >= (total - 500) / 500,
        "{} waits in {total} commands",
        ledger.waits
    );
}

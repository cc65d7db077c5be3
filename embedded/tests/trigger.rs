//! Triggers: typed refusals on the control side, frame order and offsets on the
//! interrupt side, late triggers, and pin errors reported rather than lost.

use embedded_hal::digital::ErrorKind;
use embedded_hal_mock::eh1::digital::{Mock as PinMock, State, Transaction as P};
use embedded_hal_mock::eh1::MockError;
use rtmix_embedded::{Block, Edge, Trigger, TriggerError, TriggerOutput, TriggerQueue};

fn block(start: u64, frames: u64) -> Block {
    Block {
        start,
        frames,
        stale: false,
    }
}

const fn high(frame: u64) -> Trigger {
    Trigger {
        frame,
        edge: Edge::High,
    }
}

const fn low(frame: u64) -> Trigger {
    Trigger {
        frame,
        edge: Edge::Low,
    }
}

#[test]
fn a_full_queue_is_a_typed_error_and_queues_nothing() {
    let mut queue: TriggerQueue<4> = TriggerQueue::new();
    let (mut tx, rx) = queue.split();
    assert_eq!(tx.room(), 3);
    tx.pulse(10, 2).unwrap();
    assert_eq!(tx.pulse(20, 2), Err(TriggerError::QueueFull));
    tx.send(high(30)).unwrap();
    assert_eq!(tx.send(high(40)), Err(TriggerError::QueueFull));
    assert_eq!(tx.pulse(50, 0), Err(TriggerError::ZeroWidth));
    assert_eq!(tx.pulse(u64::MAX, 1), Err(TriggerError::FrameOverflow));
    let mut pin = PinMock::new(&[P::set(State::High), P::set(State::Low), P::set(State::High)]);
    let mut out: TriggerOutput<'_, _, 4> = TriggerOutput::new(rx, pin.clone());
    let fired = out.on_block(block(0, 64));
    let frames: Vec<u64> = fired.iter().map(|f| f.trigger.frame).collect();
    assert_eq!(frames, [10, 12, 30]); // nothing of the refused ones
    pin.done();
}

#[test]
fn triggers_fire_in_their_block_in_frame_order_with_offsets() {
    let mut queue: TriggerQueue<8> = TriggerQueue::new();
    let (mut tx, rx) = queue.split();
    // Queued out of order; two at the same frame keep their queue order.
    for t in [low(70), high(65), high(200), low(65), high(127)] {
        tx.send(t).unwrap();
    }
    let mut pin = PinMock::new(&[
        P::set(State::High),
        P::set(State::Low),
        P::set(State::Low),
        P::set(State::High),
    ]);
    let mut out: TriggerOutput<'_, _, 8> = TriggerOutput::new(rx, pin.clone());
    assert!(out.on_block(block(0, 64)).is_empty());
    assert_eq!(out.pending(), 5);
    let fired = out.on_block(block(64, 64));
    let got: Vec<(Trigger, u64, u64)> = fired
        .iter()
        .map(|f| (f.trigger, f.offset, f.late_by))
        .collect();
    assert_eq!(
        got,
        [
            (high(65), 1, 0),
            (low(65), 1, 0),
            (low(70), 6, 0),
            (high(127), 63, 0)
        ]
    );
    assert!(fired
        .iter()
        .all(|f| f.block_start == 64 && f.pin_error.is_none()));
    assert_eq!(out.pending(), 1);
    drop(out.release());
    pin.done();
}

#[test]
fn a_trigger_whose_block_has_passed_fires_late_and_says_by_how_much() {
    let mut queue: TriggerQueue<4> = TriggerQueue::new();
    let (mut tx, rx) = queue.split();
    let mut pin = PinMock::new(&[P::set(State::High)]);
    let mut out: TriggerOutput<'_, _, 4> = TriggerOutput::new(rx, pin.clone());
    assert!(out.on_block(block(0, 32)).is_empty());
    tx.send(high(5)).unwrap(); // block 0..32 has started: too late for it
    let fired = out.on_block(block(32, 32));
    assert_eq!((fired[0].offset, fired[0].late_by), (0, 27));
    pin.done();
}

#[test]
fn a_pin_error_is_reported_and_the_rest_still_fire() {
    let mut queue: TriggerQueue<4> = TriggerQueue::new();
    let (mut tx, rx) = queue.split();
    tx.pulse(3, 1).unwrap();
    let mut pin = PinMock::new(&[
        P::set(State::High).with_error(MockError::Io(std::io::ErrorKind::NotConnected)),
        P::set(State::Low),
    ]);
    let mut out: TriggerOutput<'_, _, 4> = TriggerOutput::new(rx, pin.clone());
    let fired = out.on_block(block(0, 8));
    assert_eq!(fired.len(), 2);
    assert_eq!(fired[0].pin_error, Some(ErrorKind::Other));
    assert_eq!(fired[1].pin_error, None);
    pin.done();
}

#[test]
fn more_triggers_than_the_interrupt_side_holds_wait_in_the_queue() {
    let mut queue: TriggerQueue<8> = TriggerQueue::new();
    let (mut tx, rx) = queue.split();
    for f in [100, 101, 102, 103, 5] {
        tx.send(high(f)).unwrap();
    }
    let mut pin = PinMock::new(&vec![P::set(State::High); 5]);
    // Room for 2 at the interrupt side: frame 5 waits behind four later ones.
    let mut out: TriggerOutput<'_, _, 2> = TriggerOutput::new(rx, pin.clone());
    assert!(out.on_block(block(0, 16)).is_empty());
    let mut fired = Vec::new();
    let mut start = 16;
    while fired.len() < 5 {
        fired.extend(
            out.on_block(block(start, 100))
                .into_iter()
                .map(|f| (f.trigger.frame, f.late_by)),
        );
        start += 100;
    }
    // Nothing lost, but what did not fit came late, and says so: 102 and 103 were taken
    // only after their block (16..116) had started, and 5 one block later still.
    assert_eq!(fired, [(100, 0), (101, 0), (102, 14), (103, 13), (5, 211)]);
    pin.done();
}

//! The RAM a firmware needs, against the budgets docs/embedded.md ("RAM") gives: the
//! stream storage for typical capacities, the handles, the DMA integration and the
//! buffers around it. Each figure must be at most its budget and no more than 10 % below
//! it (then the page is out of date: lower the budget and the page together).
//!
//! These are the 64-bit figures (the machine running the test). On a 32-bit Cortex-M
//! (`thumbv7em-none-eabihf`) pointers and `usize` are half as wide and the storage is
//! about 7 % smaller: `src/ram.rs` checks those budgets when the crate is built for a
//! 32-bit ARM target (CI's bare-metal build).
//!
//! The storage does not depend on the channel count (that is a run-time setting): channel
//! maps, master gains and meters are sized for the largest case at compile time. Only the
//! DMA buffer and the `f32` scratch block grow with channels.

use std::mem::size_of;

use rtmix_core::{Controller, Engine, OutputEngine, Queues};
use rtmix_embedded::{DmaOutput, TriggerOutput, TriggerQueue, I16};

type P = &'static [f32];
type R = &'static mut [f32];

/// Checks `size` against `budget`: at most the budget, and at least 90 % of it.
fn within(name: &str, size: usize, budget: usize) {
    eprintln!("  {name:32} {size:>7} B  (budget {budget} B)");
    assert!(
        size <= budget,
        "{name}: {size} B is over its budget of {budget} B"
    );
    assert!(
        size * 10 >= budget * 9,
        "{name}: {size} B is more than 10 % below its budget of {budget} B: \
         lower the budget here and in docs/embedded.md"
    );
}

#[test]
#[cfg(target_pointer_width = "64")]
fn ram_for_typical_capacities_is_within_its_budgets() {
    // The handles stay small whatever the capacity: everything else is in the storage.
    assert_eq!(
        size_of::<Engine<'static, P, R, 16>>(),
        size_of::<Engine<'static, P, R, 64>>()
    );

    eprintln!("stream storage (both directions, whatever the channel count):");
    within(
        "Queues<_, _, 16, 16>",
        size_of::<Queues<P, R, 16, 16>>(),
        67_904,
    );
    within(
        "Queues<_, _, 16, 32>",
        size_of::<Queues<P, R, 16, 32>>(),
        81_984,
    );
    within(
        "Queues<_, _, 32, 32>",
        size_of::<Queues<P, R, 32, 32>>(),
        131_968,
    );
    within(
        "Queues<_, _, 64, 32>",
        size_of::<Queues<P, R, 64, 32>>(),
        231_936,
    );
    within(
        "Queues<_, _, 2, 2>",
        size_of::<Queues<P, R, 2, 2>>(),
        11_888,
    );
    eprintln!("handles:");
    within("Engine", size_of::<Engine<'static, P, R, 16>>(), 152);
    within(
        "OutputEngine",
        size_of::<OutputEngine<'static, P, 16>>(),
        80,
    );
    within(
        "Controller",
        size_of::<Controller<'static, P, R, 16>>(),
        152,
    );
    within(
        "DmaOutput",
        size_of::<DmaOutput<'static, P, I16, 16>>(),
        128,
    );
    within("TriggerQueue<16>", size_of::<TriggerQueue<16>>(), 272);
    within(
        "TriggerOutput<_, 16>",
        size_of::<TriggerOutput<'static, (), 16>>(),
        280,
    );

    // The goal of the issue, under 16 KiB for 16 actions and 2 channels, is missed by
    // more than four times (docs/embedded.md says so): when this fails, say it is met.
    let goal = 16 * 1024;
    let storage = size_of::<Queues<P, R, 16, 32>>();
    assert!(
        storage > 4 * goal,
        "the storage for 16 actions is {storage} B, no longer over four times the 16 KiB goal"
    );
}

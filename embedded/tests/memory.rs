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

use rtmix_core::{Controller, Engine, Fixed, InputStorage, OutputEngine, OutputStorage, Unused};
use rtmix_embedded::{DmaOutput, TriggerOutput, TriggerQueue, I16};

type P = &'static [f32];
type R = &'static mut [f32];
type H = Fixed<'static, 2>;

fn within(name: &str, size: usize, budget: usize) {
    eprintln!("  {name:40} {size:>7} B  (budget {budget} B)");
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
    eprintln!("stream storage, per direction:");
    within(
        "OutputStorage<_, 16, 8, 4, 2>",
        size_of::<OutputStorage<P, 16, 8, 4, 2>>(),
        11_424,
    );
    within(
        "InputStorage<_, 16, 8, 4, 2>",
        size_of::<InputStorage<R, 16, 8, 4, 2>>(),
        11_376,
    );
    within(
        "OutputStorage<_, 64, 32, 8, 2>",
        size_of::<OutputStorage<P, 64, 32, 8, 2>>(),
        42_912,
    );
    within(
        "OutputStorage<_, 16, 32, 4, 8>",
        size_of::<OutputStorage<P, 16, 32, 4, 8>>(),
        17_952,
    );
    eprintln!("handles:");
    within("Engine", size_of::<Engine<P, R, H>>(), 552);
    within("OutputEngine", size_of::<OutputEngine<P, H>>(), 288);
    within("Controller", size_of::<Controller<P, Unused, H>>(), 736);
    within("DmaOutput", size_of::<DmaOutput<'static, P, I16, H>>(), 336);
    within("TriggerQueue<16>", size_of::<TriggerQueue<16>>(), 272);
    within(
        "TriggerOutput<_, 16>",
        size_of::<TriggerOutput<'static, (), 16>>(),
        280,
    );
}

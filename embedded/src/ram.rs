//! RAM budgets on 32-bit ARM, the `thumbv7em` figures of docs/embedded.md ("RAM"),
//! checked at compile time whenever the crate is built for such a target (as CI's
//! bare-metal step builds it for `thumbv7em-none-eabihf`). Host tests cannot see these
//! sizes, since pointers and `usize` are 4 bytes here; `tests/memory.rs` checks the
//! 64-bit figures. A build fails when a figure exceeds its budget, or falls more than 10 %
//! below it (then lower the budget here and in docs/embedded.md together).
//!
//! The firmware in `embedded/firmware/` measures the same storage from its linked ELF.

use core::mem::size_of;

use rtmix_core::{Controller, Engine, Fixed, InputStorage, OutputEngine, OutputStorage, Unused};

use crate::{DmaOutput, TriggerOutput, TriggerQueue, I16};

type P = &'static [f32];
type R = &'static mut [f32];
type H = Fixed<'static, 2>;

/// At most `budget`, and at least 90 % of it.
const fn within(size: usize, budget: usize) -> bool {
    size <= budget && size * 10 >= budget * 9
}

/// The sizes: 16 actions, 7 queued commands, 3 completions in transit, 2 channels.
type Output = OutputStorage<P, 16, 8, 4, 2>;
type Input = InputStorage<R, 16, 8, 4, 2>;

// Per direction: under 12 KiB each, so a duplex stream stays under 24 KiB.
const _: () = assert!(within(size_of::<Output>(), 10_832), "output storage");
const _: () = assert!(within(size_of::<Input>(), 10_784), "input storage");
const _: () = assert!(
    size_of::<Output>() + size_of::<Input>() <= 24 * 1024,
    "a duplex stream of these sizes fits 24 KiB"
);
// What grows with the capacities: 64 actions with queues of 32 and 8 completions; 8
// channels.
const _: () = assert!(
    within(size_of::<OutputStorage<P, 64, 32, 8, 2>>(), 40_752),
    "64 actions"
);
const _: () = assert!(
    within(size_of::<OutputStorage<P, 16, 32, 4, 8>>(), 16_976),
    "8 channels, queues of 32"
);
// The handles the two sides hold (on a stack, or in a `static` for an interrupt).
const _: () = assert!(within(size_of::<Engine<P, R, H>>(), 400), "Engine");
const _: () = assert!(within(size_of::<OutputEngine<P, H>>(), 208), "OutputEngine");
const _: () = assert!(
    within(size_of::<Controller<P, Unused, H>>(), 600),
    "Controller"
);
const _: () = assert!(
    within(size_of::<DmaOutput<'static, P, I16, H>>(), 232),
    "DmaOutput"
);
const _: () = assert!(
    within(size_of::<TriggerQueue<16>>(), 264),
    "TriggerQueue<16>"
);
const _: () = assert!(
    within(size_of::<TriggerOutput<'static, (), 16>>(), 272),
    "TriggerOutput"
);

/// A firmware's static RAM: the output storage, a circular DMA buffer of two 48-frame
/// halves (1 ms at 48 kHz) of 2 words of 16 bits, the `f32` scratch block of one half,
/// the `DmaOutput` and 16 triggers.
const FIRMWARE: usize = size_of::<Output>()
    + 2 * 48 * 2 * 2
    + 48 * 2 * size_of::<f32>()
    + size_of::<DmaOutput<'static, P, I16, H>>()
    + size_of::<TriggerQueue<16>>()
    + size_of::<TriggerOutput<'static, (), 16>>();

const _: () = assert!(within(FIRMWARE, 12_368), "a stereo firmware with triggers");

//! RAM budgets on 32-bit ARM, the `thumbv7em` column of docs/embedded.md ("RAM"),
//! checked at compile time whenever the crate is built for such a target (as CI's
//! bare-metal step builds it for `thumbv7em-none-eabihf`). Host tests cannot see these
//! sizes, since pointers and `usize` are 4 bytes here; `tests/memory.rs` checks the
//! 64-bit column. A build fails when a figure exceeds its budget, or falls more than 10 %
//! below it (then lower the budget here and in docs/embedded.md together).

use core::mem::size_of;

use rtmix_core::{Controller, Engine, OutputEngine, Queues};

use crate::{DmaOutput, I24Left, TriggerOutput, TriggerQueue, I16};

type P = &'static [f32];
type R = &'static mut [f32];

/// At most `budget`, and at least 90 % of it.
const fn within(size: usize, budget: usize) -> bool {
    size <= budget && size * 10 >= budget * 9
}

const _: () = assert!(
    within(size_of::<Queues<P, R, 16, 16>>(), 63_712),
    "Queues<16, 16>"
);
const _: () = assert!(
    within(size_of::<Queues<P, R, 16, 32>>(), 76_512),
    "Queues<16, 32>"
);
const _: () = assert!(
    within(size_of::<Queues<P, R, 32, 32>>(), 123_680),
    "Queues<32, 32>"
);
const _: () = assert!(
    within(size_of::<Queues<P, R, 64, 32>>(), 218_016),
    "Queues<64, 32>"
);
const _: () = assert!(
    within(size_of::<Queues<P, R, 2, 2>>(), 11_232),
    "Queues<2, 2>"
);
const _: () = assert!(within(size_of::<Engine<'static, P, R, 16>>(), 68), "Engine");
const _: () = assert!(
    within(size_of::<OutputEngine<'static, P, 16>>(), 36),
    "OutputEngine"
);
const _: () = assert!(
    within(size_of::<Controller<'static, P, R, 16>>(), 80),
    "Controller"
);
const _: () = assert!(
    within(size_of::<DmaOutput<'static, P, I16, 16>>(), 60),
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

/// A firmware's static RAM: the storage, a circular DMA buffer of two 48-frame halves (1 ms
/// at 48 kHz) of `channels` words of `word` bytes, the `f32` scratch block of one half,
/// the `DmaOutput` and 16 triggers.
const fn firmware<const A: usize>(channels: usize, word: usize) -> usize {
    size_of::<Queues<P, R, A, 32>>()
        + 2 * 48 * channels * word
        + 48 * channels * size_of::<f32>()
        + size_of::<DmaOutput<'static, P, I24Left, 16>>()
        + size_of::<TriggerQueue<16>>()
        + size_of::<TriggerOutput<'static, (), 16>>()
}

// 16 actions, queues of 32: 2 channels of 16-bit; 8 channels of 24-bit (in 32-bit words).
const _: () = assert!(within(firmware::<16>(2, 2), 78_000), "16 actions, 2 x i16");
const _: () = assert!(within(firmware::<16>(8, 4), 82_000), "16 actions, 8 x i32");
// 64 actions, 2 channels of 16-bit.
const _: () = assert!(within(firmware::<64>(2, 2), 220_000), "64 actions, 2 x i16");
// The goal of 16 KiB for 16 actions is missed by more than four times.
const _: () = assert!(
    size_of::<Queues<P, R, 16, 32>>() > 4 * 16 * 1024,
    "the goal is met"
);

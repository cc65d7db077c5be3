//! The RAM a firmware needs, printed (run with `--nocapture`): the stream storage for
//! typical capacities, the DMA integration and the buffers around it.
//!
//! These are the sizes on the machine running the test (64-bit). On a 32-bit Cortex-M
//! (`thumbv7em-none-eabihf`) pointers and `usize` are half as wide and the storage is
//! about 7 % smaller: docs/embedded.md lists both, and how the thumb figures were taken.
//!
//! The storage does not depend on the channel count (that is a run-time setting): channel
//! maps, master gains and meters are sized for the largest case at compile time. Only the
//! DMA buffer and the `f32` scratch block grow with channels.

use std::mem::size_of;

use rtmix_core::{ChannelMap, Completion, Controller, Engine, OutputEngine, Play, Queues};
use rtmix_embedded::{DmaOutput, I24Left, TriggerOutput, TriggerQueue, I16};

type P = &'static [f32];
type R = &'static mut [f32];

fn kib(bytes: usize) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}

#[test]
fn ram_for_typical_capacities() {
    // The handles stay small whatever the capacity: everything else is in the storage.
    assert_eq!(
        size_of::<Engine<'static, P, R, 16>>(),
        size_of::<Engine<'static, P, R, 64>>()
    );
    assert!(size_of::<DmaOutput<'static, P, I16, 16>>() < 256);

    let storage = [
        ("Queues<_, _, 16, 32>", size_of::<Queues<P, R, 16, 32>>()),
        ("Queues<_, _, 64, 32>", size_of::<Queues<P, R, 64, 32>>()),
        ("Queues<_, _, 16, 16>", size_of::<Queues<P, R, 16, 16>>()),
        ("Queues<_, _, 2, 2>", size_of::<Queues<P, R, 2, 2>>()),
    ];
    eprintln!("stream storage (both directions, whatever the channel count):");
    for (name, size) in storage {
        eprintln!("  {name:24} {size:>7} B  {}", kib(size));
    }
    eprintln!("handles and values:");
    for (name, size) in [
        ("Engine", size_of::<Engine<'static, P, R, 16>>()),
        ("OutputEngine", size_of::<OutputEngine<'static, P, 16>>()),
        ("Controller", size_of::<Controller<'static, P, R, 16>>()),
        ("DmaOutput", size_of::<DmaOutput<'static, P, I16, 16>>()),
        ("TriggerQueue<16>", size_of::<TriggerQueue<16>>()),
        (
            "TriggerOutput<_, 16>",
            size_of::<TriggerOutput<'static, (), 16>>(),
        ),
        ("Play", size_of::<Play<P>>()),
        ("Completion", size_of::<Completion<P, R>>()),
        ("ChannelMap", size_of::<ChannelMap>()),
    ] {
        eprintln!("  {name:24} {size:>7} B");
    }

    // A firmware: 48 kHz, 1 ms halves (48 frames), 16 actions, queues of 32, 16 triggers.
    let half = 48;
    eprintln!("firmware total, 48-frame halves (1 ms at 48 kHz), 16 triggers:");
    for (actions, queue, name, storage) in [
        (16, 32, "16 actions", size_of::<Queues<P, R, 16, 32>>()),
        (64, 32, "64 actions", size_of::<Queues<P, R, 64, 32>>()),
    ] {
        for channels in [2usize, 8] {
            for (format, word) in [("i16", size_of::<i16>()), ("i32", size_of::<i32>())] {
                let dma = 2 * half * channels * word;
                let scratch = half * channels * size_of::<f32>();
                let rest = size_of::<DmaOutput<'static, P, I24Left, 16>>()
                    + size_of::<TriggerQueue<16>>()
                    + size_of::<TriggerOutput<'static, (), 16>>();
                let total = storage + dma + scratch + rest;
                eprintln!(
                    "  {name} (A={actions}, C={queue}), {channels} ch, {format}: storage {}, DMA {dma} B, \
                     scratch {scratch} B, other {rest} B: {}",
                    kib(storage),
                    kib(total)
                );
            }
        }
    }
    let goal = 16 * 1024;
    let got = size_of::<Queues<P, R, 16, 32>>();
    eprintln!(
        "goal: under {} for 16 actions and 2 channels; the storage alone is {} ({}x)",
        kib(goal),
        kib(got),
        got / goal
    );
}

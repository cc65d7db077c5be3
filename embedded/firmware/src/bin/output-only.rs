//! The output-only firmware: rtmix-core's engine and rtmix-embedded's `DmaOutput` render
//! the scenario (`src/scenario.rs`) into a circular `i16` buffer, half by half, on an
//! emulated Cortex-M4F. Its storage: `OutputStorage<&'static [f32], 16, 8, 4, 2>` (16
//! actions, 7 queued commands, 3 completions in transit, 2 channels), a `static`.
#![no_std]
#![no_main]

#[path = "../board.rs"]
mod board;
#[path = "../scenario.rs"]
mod scenario;

use cortex_m_rt::entry;
use panic_semihosting as _;
use rtmix_core::{OutputStorage, StreamConfig, Unused};
use rtmix_embedded::{DmaOutput, TriggerQueue, I16};
use static_cell::ConstStaticCell;

use scenario::{Source, BUFFER_WORDS, CHANNELS, HALF, HALF_SAMPLES, TRIGGERS};

/// The stream's storage, placed in RAM at link time (`new` is a `const fn`).
static STORAGE: ConstStaticCell<OutputStorage<Source, 16, 8, 4, 2>> =
    ConstStaticCell::new(OutputStorage::new());
static TRIGGER_QUEUE: ConstStaticCell<TriggerQueue<TRIGGERS>> =
    ConstStaticCell::new(TriggerQueue::new());
/// One half as `f32`: the engine renders here, then it is converted into the DMA half.
static SCRATCH: ConstStaticCell<[f32; HALF_SAMPLES]> = ConstStaticCell::new([0.0; HALF_SAMPLES]);
/// The circular buffer the (simulated) DMA sends.
static BUFFER: ConstStaticCell<[i16; BUFFER_WORDS]> = ConstStaticCell::new([0; BUFFER_WORDS]);

#[entry]
fn main() -> ! {
    let mut trace = board::Semihosting::open();
    let Ok((mut ctl, engine)) = STORAGE.take().split(StreamConfig::output(CHANNELS)) else {
        board::fail(&mut trace, "split")
    };
    let Ok(mut dma) = DmaOutput::<_, I16, _>::new(engine.output, SCRATCH.take(), HALF) else {
        board::fail(&mut trace, "DmaOutput::new")
    };
    let outcome = scenario::run::<Unused, _>(
        &mut ctl,
        &mut dma,
        BUFFER.take(),
        TRIGGER_QUEUE.take(),
        None,
        &mut trace,
    );
    board::finish(&mut trace, outcome)
}

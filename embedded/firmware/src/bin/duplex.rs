//! The duplex firmware: the output of `output-only.rs` (the same scenario, the same
//! storage sizes) plus an input direction, `InputStorage<&'static mut [f32], 16, 8, 4, 2>`,
//! fed by `DmaInput` with the halves just sent (a loopback), from which the scenario
//! records one channel and checks the recording against what was sent.
#![no_std]
#![no_main]

#[path = "../board.rs"]
mod board;
#[path = "../scenario.rs"]
mod scenario;

use cortex_m_rt::entry;
use panic_semihosting as _;
use rtmix_core::{InputStorage, OutputStorage, StreamConfig};
use rtmix_embedded::{DmaInput, DmaOutput, TriggerQueue, I16};
use static_cell::ConstStaticCell;

use scenario::{
    Capture, Source, BUFFER_WORDS, CHANNELS, HALF, HALF_SAMPLES, RECORD_FRAMES, TRIGGERS,
};

static OUTPUT: ConstStaticCell<OutputStorage<Source, 16, 8, 4, 2>> =
    ConstStaticCell::new(OutputStorage::new());
static INPUT: ConstStaticCell<InputStorage<&'static mut [f32], 16, 8, 4, 2>> =
    ConstStaticCell::new(InputStorage::new());
static TRIGGER_QUEUE: ConstStaticCell<TriggerQueue<TRIGGERS>> =
    ConstStaticCell::new(TriggerQueue::new());
static SCRATCH: ConstStaticCell<[f32; HALF_SAMPLES]> = ConstStaticCell::new([0.0; HALF_SAMPLES]);
static BUFFER: ConstStaticCell<[i16; BUFFER_WORDS]> = ConstStaticCell::new([0; BUFFER_WORDS]);
static RX_SCRATCH: ConstStaticCell<[f32; HALF_SAMPLES]> = ConstStaticCell::new([0.0; HALF_SAMPLES]);
/// The receive DMA's circular buffer.
static RX_BUFFER: ConstStaticCell<[i16; BUFFER_WORDS]> = ConstStaticCell::new([0; BUFFER_WORDS]);
static RECORDING: ConstStaticCell<[f32; RECORD_FRAMES]> =
    ConstStaticCell::new([0.0; RECORD_FRAMES]);

#[entry]
fn main() -> ! {
    let mut trace = board::Semihosting::open();
    let config = StreamConfig::duplex(CHANNELS, CHANNELS);
    let Ok((mut ctl, engine)) = rtmix_core::split_duplex(OUTPUT.take(), INPUT.take(), config)
    else {
        board::fail(&mut trace, "split_duplex")
    };
    let Ok(mut dma) = DmaOutput::<_, I16, _>::new(engine.output, SCRATCH.take(), HALF) else {
        board::fail(&mut trace, "DmaOutput::new")
    };
    let Ok(input) = DmaInput::<_, I16, _>::new(engine.input, RX_SCRATCH.take(), HALF) else {
        board::fail(&mut trace, "DmaInput::new")
    };
    let capture = Capture {
        dma: input,
        rx: RX_BUFFER.take(),
        recording: Some(&mut RECORDING.take()[..]),
    };
    let outcome = scenario::run(
        &mut ctl,
        &mut dma,
        BUFFER.take(),
        TRIGGER_QUEUE.take(),
        Some(capture),
        &mut trace,
    );
    board::finish(&mut trace, outcome)
}

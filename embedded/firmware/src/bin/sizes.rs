//! What takes the RAM, on the target itself: `size_of` of the stream storage of the two
//! other programs (16 actions, `C = 8`, `D = 4`, 2 channels), what one more action,
//! command, completion or channel adds to it, and the handles that live on the stack.
//! .ci/firmware runs it after the two others; docs/embedded.md quotes it.
#![no_std]
#![no_main]

#[path = "../scenario.rs"]
#[allow(dead_code)]
mod scenario;

use core::mem::size_of;

use cortex_m_rt::entry;
use cortex_m_semihosting::debug::{self, EXIT_SUCCESS};
use cortex_m_semihosting::hprintln;
use panic_semihosting as _;
use rtmix_core::{
    ChannelMap, Completion, Controller, Engine, Fixed, InputStorage, OutputEngine, OutputStorage,
    Play, Unused,
};
use rtmix_embedded::{DmaOutput, TriggerOutput, TriggerQueue, I16};

use scenario::{EdgePin, Source};

type Record = &'static mut [f32];
type H = Fixed<'static, 2>;

#[entry]
fn main() -> ! {
    let out = size_of::<OutputStorage<Source, 16, 8, 4, 2>>();
    let inp = size_of::<InputStorage<Record, 16, 8, 4, 2>>();
    let lines: [(&str, usize, usize); 5] = [
        ("storage (16, 8, 4, 2)", out, inp),
        (
            "one more action (A)",
            size_of::<OutputStorage<Source, 17, 8, 4, 2>>() - out,
            size_of::<InputStorage<Record, 17, 8, 4, 2>>() - inp,
        ),
        (
            "one more command (C)",
            size_of::<OutputStorage<Source, 16, 9, 4, 2>>() - out,
            size_of::<InputStorage<Record, 16, 9, 4, 2>>() - inp,
        ),
        (
            "one more completion (D)",
            size_of::<OutputStorage<Source, 16, 8, 5, 2>>() - out,
            size_of::<InputStorage<Record, 16, 8, 5, 2>>() - inp,
        ),
        (
            "one more channel (M)",
            size_of::<OutputStorage<Source, 16, 8, 4, 3>>() - out,
            size_of::<InputStorage<Record, 16, 8, 4, 3>>() - inp,
        ),
    ];
    hprintln!("sizes on thumbv7em-none-eabihf, in bytes: output / input storage");
    for (what, output, input) in lines {
        hprintln!("{what:26} {output:6} / {input:6}");
    }
    let handles: [(&str, usize); 8] = [
        ("Controller", size_of::<Controller<Source, Unused, H>>()),
        ("Engine", size_of::<Engine<Source, Unused, H>>()),
        ("OutputEngine", size_of::<OutputEngine<Source, H>>()),
        ("DmaOutput", size_of::<DmaOutput<'static, Source, I16, H>>()),
        ("TriggerQueue<8>", size_of::<TriggerQueue<8>>()),
        (
            "TriggerOutput<_, 8>",
            size_of::<TriggerOutput<'static, EdgePin, 8>>(),
        ),
        ("Play", size_of::<Play<Source>>()),
        ("Completion", size_of::<Completion<Source, Unused>>()),
    ];
    for (what, size) in handles {
        hprintln!("{what:26} {size:6}");
    }
    hprintln!("{:26} {:6}", "ChannelMap", size_of::<ChannelMap>());
    debug::exit(EXIT_SUCCESS);
    #[allow(clippy::empty_loop)]
    loop {}
}

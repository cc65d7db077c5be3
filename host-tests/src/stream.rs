//! Host streams for the tests and benchmarks, sized the way the fixed storage's const
//! generics size a firmware's.

use rtmix_core::{
    Controller, Engine, Heap, PlaySource, RecordTarget, StreamCapacity, StreamConfig,
};

/// A stream opened on the heap with `actions` action slots and room for `queue - 1`
/// waiting commands per direction (as a fixed storage with `A = actions` and
/// `C = queue`), and room for every completion in transit.
pub fn open<P: PlaySource + 'static, R: RecordTarget + 'static>(
    actions: usize,
    queue: usize,
    config: StreamConfig,
) -> (Controller<P, R, Heap>, Engine<P, R, Heap>) {
    let capacity = StreamCapacity {
        actions,
        commands: queue - 1,
        completions: actions,
    };
    rtmix_core::open(config, capacity).expect("a valid stream")
}

//! How much the program's streams hold at once: the same for the offline render and the
//! devices, so a session that renders also fits a device stream.
//!
//! Each stream's storage is allocated when it opens ([`open`]) and freed when its
//! controller and its engine are both gone: nothing is leaked, whatever the number of
//! streams a process opens (`latency --repeat` opens one per measurement).

use std::sync::Arc;

use rtmix_core::{Controller, Engine, Heap, StreamCapacity, StreamConfig};

/// Action slots per direction (one is kept for cancels).
pub const ACTIONS: usize = 128;
/// Commands that can wait for the next block, per direction.
pub const COMMANDS: usize = 128;
/// Completions on their way back at once, per direction: as many as there are action
/// slots, so every ended action is handed back at the end of the block it ends in, even
/// with nobody taking completions (a device stream that winds down while the program
/// waits for its thread hands back everything it held).
pub const COMPLETIONS: usize = ACTIONS;

/// The capacity of every stream of the program.
pub const CAPACITY: StreamCapacity = StreamCapacity {
    actions: ACTIONS,
    commands: COMMANDS,
    completions: COMPLETIONS,
};

/// The control side of a stream: plays share their decoded files, recordings own theirs.
pub type StreamController = Controller<Arc<[f32]>, Vec<f32>, Heap>;
/// The audio side of such a stream.
pub type StreamEngine = Engine<Arc<[f32]>, Vec<f32>, Heap>;

/// Opens a stream of `config` with the program's [`CAPACITY`].
pub fn open(config: StreamConfig) -> Result<(StreamController, StreamEngine), rtmix_core::Error> {
    rtmix_core::open(config, CAPACITY)
}

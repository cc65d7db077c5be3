//! How much the program's streams hold at once: the same for the offline render and the
//! devices, so a session that renders also fits a device stream.

use std::sync::Arc;

use rtmix_core::{Controller, Queues};

/// Action slots per direction (one is kept for cancels).
pub const ACTIONS: usize = 128;
/// Command queue storage per direction (one less can wait for a block).
pub const COMMANDS: usize = 128;

/// A stream's queues: plays share their decoded files, recordings own theirs.
pub type StreamQueues = Queues<Arc<[f32]>, Vec<f32>, ACTIONS, COMMANDS>;
/// The control side of such a stream.
pub type StreamController<'q> = Controller<'q, Arc<[f32]>, Vec<f32>, ACTIONS>;

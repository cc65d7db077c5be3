//! Action identifiers.

use crate::Direction;

/// Names one accepted command for its whole life: cancel it, wait for it, match its
/// completion. Identifiers are unique per controller and increase in submission order.
///
/// ```
/// use rtmix_core::{At, Direction, Queues, StreamConfig};
/// let mut q: Queues<&'static [f32], &'static mut [f32], 4, 4> = Queues::new();
/// let (mut ctl, _engine) = q.split(StreamConfig::output(2)).unwrap();
/// let id = ctl.fetch_stats(Direction::Output, At::Asap).unwrap();
/// assert_eq!(id.direction(), Direction::Output);
/// assert_eq!(id.seq(), 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ActionId {
    seq: u64,
    stream: StreamTag,
    direction: Direction,
}

/// Which stream (which split of which [`Queues`](crate::Queues)) issued an id, so that an id
/// from another stream, or from an earlier split of the same storage, is refused instead
/// of naming an unrelated action with the same sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) struct StreamTag {
    /// The address of the queue storage (unique among live streams).
    address: usize,
    /// How many times that storage has been split.
    generation: u32,
}

impl StreamTag {
    pub(crate) const fn new(address: usize, generation: u32) -> Self {
        Self {
            address,
            generation,
        }
    }
}

impl ActionId {
    pub(crate) const fn new(seq: u64, stream: StreamTag, direction: Direction) -> Self {
        Self {
            seq,
            stream,
            direction,
        }
    }

    pub(crate) const fn stream(self) -> StreamTag {
        self.stream
    }

    /// The submission sequence number: 0 for the first command of a controller.
    pub const fn seq(self) -> u64 {
        self.seq
    }

    /// The engine half that carries the action out.
    pub const fn direction(self) -> Direction {
        self.direction
    }
}

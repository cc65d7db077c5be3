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
    direction: Direction,
}

impl ActionId {
    pub(crate) const fn new(seq: u64, direction: Direction) -> Self {
        Self { seq, direction }
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

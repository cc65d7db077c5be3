//! Action identifiers, and the identity of the stream that issues them.

#[cfg(not(target_has_atomic = "64"))]
use core::sync::atomic::AtomicU32;
use core::sync::atomic::Ordering;

use crate::Direction;

/// Names one accepted command for its whole life: cancel it, wait for it, match its
/// completion. Identifiers are unique per stream and increase in submission order; an id
/// of another stream, even one that reuses the storage of a closed one, is refused.
///
/// ```
/// use rtmix_core::{At, Direction, StreamCapacity, StreamConfig};
/// let (mut ctl, _engine) =
///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(2), StreamCapacity::default())
///         .unwrap();
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
    /// The action slot the controller gave it: the engine and the mailbox find it there.
    slot: u16,
}

/// Which stream issued an id: a number no other stream of the process has had, so an id
/// of a closed stream is refused by a new one even if it reuses the same storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) struct StreamTag(u64);

impl StreamTag {
    /// A tag no stream of this process has had: a 64-bit count where the target has 64-bit
    /// atomics (it never wraps), else a 32-bit one (a Cortex-M4; it saturates after 2^32
    /// streams, after which new streams share the last tag, and nothing panics).
    pub(crate) fn unique() -> Self {
        #[cfg(target_has_atomic = "64")]
        {
            use core::sync::atomic::AtomicU64;
            static STREAMS: AtomicU64 = AtomicU64::new(0);
            Self(STREAMS.fetch_add(1, Ordering::Relaxed))
        }
        #[cfg(not(target_has_atomic = "64"))]
        {
            static STREAMS: AtomicU32 = AtomicU32::new(0);
            let tag = STREAMS
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_add(1))
                .unwrap_or(u32::MAX);
            Self(u64::from(tag))
        }
    }
}

impl ActionId {
    pub(crate) const fn new(seq: u64, stream: StreamTag, direction: Direction, slot: u16) -> Self {
        Self {
            seq,
            stream,
            direction,
            slot,
        }
    }

    pub(crate) const fn stream(self) -> StreamTag {
        self.stream
    }

    pub(crate) const fn slot(self) -> u16 {
        self.slot
    }

    /// The submission sequence number: 0 for the first command of a stream.
    pub const fn seq(self) -> u64 {
        self.seq
    }

    /// The engine half that carries the action out.
    pub const fn direction(self) -> Direction {
        self.direction
    }
}

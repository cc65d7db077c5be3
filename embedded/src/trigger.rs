//! Frame-exact trigger output on a GPIO pin.
//!
//! The control side queues [`Trigger`]s (a frame and a level) through a fixed-capacity
//! lock-free queue; the output interrupt hands each block that starts on the wire to
//! [`TriggerOutput::on_block`], which sets the pin for every trigger whose frame lies in
//! that block and reports its offset in the block.
//!
//! # Precision
//!
//! The pin is set in software, in the DMA interrupt, when the block containing the
//! trigger's frame starts leaving the I2S peripheral. So the edge comes early by the
//! trigger's offset in the block (reported as [`Fired::offset`], at most one half of the
//! DMA buffer) and late by the interrupt's latency and jitter (entry, higher-priority
//! interrupts, and whatever the handler does before it calls `on_block`; microseconds on
//! a Cortex-M4 with nothing above it). The codec adds its own fixed pipeline delay between
//! the I2S frame and the analog output (interpolation filter group delay: see the codec's
//! datasheet); it is the same for every frame, so it does not blur the timing, only moves
//! it. For an edge exact to the frame, make the half one frame long (costly), or use the
//! reported offset to arm a hardware timer compare `offset / sample_rate` after the
//! interrupt. Edges of one block are applied back to back, in frame order: two edges less
//! than a block apart may come out microseconds apart.

use embedded_hal::digital::{self, OutputPin};
use heapless::spsc::{Consumer, Producer, Queue};

use crate::{Block, TriggerError};

/// What a trigger does to the pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Edge {
    /// Sets the pin high.
    High,
    /// Sets the pin low.
    Low,
}

/// A pin change at an output frame (on the same clock as `At::Frame` of a play).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Trigger {
    /// The output frame.
    pub frame: u64,
    /// What happens to the pin.
    pub edge: Edge,
}

/// One trigger carried out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Fired {
    /// The trigger.
    pub trigger: Trigger,
    /// The first frame of the block in which the pin was set.
    pub block_start: u64,
    /// Frames from the block's start to the trigger's frame: how early the edge came (0
    /// for a late trigger).
    pub offset: u64,
    /// Frames by which the trigger was late: its frame was in a block that had already
    /// started when it reached the interrupt side (0 when on time).
    pub late_by: u64,
    /// The pin's error, if setting it failed (the trigger still counts as carried out).
    pub pin_error: Option<digital::ErrorKind>,
}

/// The storage of the trigger queue: `N - 1` triggers can wait between the control side
/// and the interrupt. A `static` on a microcontroller.
///
/// ```
/// use rtmix_embedded::{Edge, Trigger, TriggerError, TriggerQueue};
/// let mut queue: TriggerQueue<3> = TriggerQueue::new();
/// let (mut tx, _rx) = queue.split();
/// tx.send(Trigger { frame: 10, edge: Edge::High }).unwrap();
/// assert_eq!(tx.room(), 1);
/// assert_eq!(tx.pulse(20, 5), Err(TriggerError::QueueFull)); // needs two
/// tx.send(Trigger { frame: 30, edge: Edge::Low }).unwrap();
/// assert_eq!(tx.send(Trigger { frame: 40, edge: Edge::High }), Err(TriggerError::QueueFull));
/// ```
pub struct TriggerQueue<const N: usize> {
    queue: Queue<Trigger, N>,
}

impl<const N: usize> core::fmt::Debug for TriggerQueue<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TriggerQueue")
            .field("capacity", &self.queue.capacity())
            .finish_non_exhaustive()
    }
}

impl<const N: usize> Default for TriggerQueue<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> TriggerQueue<N> {
    /// An empty queue (`N` at least 2).
    pub const fn new() -> Self {
        const { assert!(N >= 2, "a trigger queue needs N >= 2") };
        Self {
            queue: Queue::new(),
        }
    }

    /// Splits into the control side's sender and the interrupt side's receiver.
    pub fn split(&mut self) -> (TriggerSender<'_>, TriggerReceiver<'_>) {
        let (tx, rx) = self.queue.split();
        (TriggerSender { tx }, TriggerReceiver { rx })
    }
}

/// The control side of the trigger queue.
pub struct TriggerSender<'a> {
    tx: Producer<'a, Trigger>,
}

impl core::fmt::Debug for TriggerSender<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TriggerSender")
            .field("room", &self.room())
            .finish()
    }
}

impl TriggerSender<'_> {
    /// Triggers that can be queued now.
    pub fn room(&self) -> usize {
        self.tx.capacity() - self.tx.len()
    }

    /// Queues `trigger`, or refuses it with [`TriggerError::QueueFull`].
    pub fn send(&mut self, trigger: Trigger) -> Result<(), TriggerError> {
        self.tx
            .enqueue(trigger)
            .map_err(|_| TriggerError::QueueFull)
    }

    /// Queues a pulse: high at `frame`, low at `frame + width`; both edges or neither.
    pub fn pulse(&mut self, frame: u64, width: u64) -> Result<(), TriggerError> {
        if width == 0 {
            return Err(TriggerError::ZeroWidth);
        }
        let end = frame
            .checked_add(width)
            .ok_or(TriggerError::FrameOverflow)?;
        // This side is the only producer: the room seen here stays.
        if self.room() < 2 {
            return Err(TriggerError::QueueFull);
        }
        self.send(Trigger {
            frame,
            edge: Edge::High,
        })?;
        self.send(Trigger {
            frame: end,
            edge: Edge::Low,
        })
    }
}

/// The interrupt side's end of the trigger queue, for [`TriggerOutput::new`].
pub struct TriggerReceiver<'a> {
    rx: Consumer<'a, Trigger>,
}

impl core::fmt::Debug for TriggerReceiver<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TriggerReceiver")
            .field("queued", &self.rx.len())
            .finish()
    }
}

/// The interrupt side: a pin and the triggers waiting for their block.
///
/// Up to `N` triggers wait here (taken from the queue as room allows); one that cannot be
/// taken yet waits in the queue and, if its block passes meanwhile, fires late (reported
/// in [`Fired::late_by`]). So keep no more than `N` triggers outstanding.
///
/// ```
/// use core::convert::Infallible;
/// use embedded_hal::digital::{ErrorType, OutputPin};
/// use rtmix_embedded::{Block, TriggerOutput, TriggerQueue};
///
/// struct Pin(bool);
/// impl ErrorType for Pin { type Error = Infallible; }
/// impl OutputPin for Pin {
///     fn set_high(&mut self) -> Result<(), Infallible> { self.0 = true; Ok(()) }
///     fn set_low(&mut self) -> Result<(), Infallible> { self.0 = false; Ok(()) }
/// }
///
/// let mut queue: TriggerQueue<8> = TriggerQueue::new();
/// let (mut tx, rx) = queue.split();
/// let mut out: TriggerOutput<'_, Pin, 8> = TriggerOutput::new(rx, Pin(false));
/// tx.pulse(100, 64).unwrap();
/// assert!(out.on_block(Block { start: 0, frames: 64, stale: false }).is_empty());
/// let fired = out.on_block(Block { start: 64, frames: 64, stale: false });
/// assert_eq!((fired[0].trigger.frame, fired[0].offset), (100, 36));
/// assert!(out.pin().0);
/// let fired = out.on_block(Block { start: 128, frames: 64, stale: false });
/// assert_eq!(fired[0].offset, 36);
/// assert!(!out.pin().0);
/// ```
pub struct TriggerOutput<'a, Pin, const N: usize> {
    rx: Consumer<'a, Trigger>,
    pending: heapless::Vec<Trigger, N>,
    pin: Pin,
}

impl<Pin, const N: usize> core::fmt::Debug for TriggerOutput<'_, Pin, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TriggerOutput")
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl<'a, Pin: OutputPin, const N: usize> TriggerOutput<'a, Pin, N> {
    /// Drives `pin` from the triggers that arrive through `receiver`. The pin is left as
    /// it is until the first trigger.
    pub fn new(receiver: TriggerReceiver<'a>, pin: Pin) -> Self {
        Self {
            rx: receiver.rx,
            pending: heapless::Vec::new(),
            pin,
        }
    }

    /// Call when `block` starts on the wire (from
    /// [`DmaOutput::service`](crate::DmaOutput::service)): sets the pin for every trigger
    /// whose frame is before the block's end, in frame order (then queue order), and
    /// reports them. Never waits; a pin error is reported in [`Fired::pin_error`].
    pub fn on_block(&mut self, block: Block) -> heapless::Vec<Fired, N> {
        while !self.pending.is_full() {
            match self.rx.dequeue() {
                Some(t) => {
                    // Cannot fail: checked for room above.
                    self.pending.push(t).ok();
                }
                None => break,
            }
        }
        let end = block.end();
        let mut fired = heapless::Vec::new();
        // The earliest due trigger first; among equal frames, the first queued.
        while let Some(index) = self
            .pending
            .iter()
            .enumerate()
            .filter(|(_, t)| t.frame < end)
            .min_by_key(|&(i, t)| (t.frame, i))
            .map(|(i, _)| i)
        {
            let trigger = self.pending.remove(index);
            let result = match trigger.edge {
                Edge::High => self.pin.set_high(),
                Edge::Low => self.pin.set_low(),
            };
            let pin_error = result.err().map(|e| digital::Error::kind(&e));
            // `fired` holds as many as `pending` did.
            fired
                .push(Fired {
                    trigger,
                    block_start: block.start,
                    offset: trigger.frame.saturating_sub(block.start),
                    late_by: block.start.saturating_sub(trigger.frame),
                    pin_error,
                })
                .ok();
        }
        fired
    }

    /// Triggers taken from the queue and waiting for their block.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The pin.
    pub fn pin(&self) -> &Pin {
        &self.pin
    }

    /// Gives the pin back.
    pub fn release(self) -> Pin {
        self.pin
    }
}

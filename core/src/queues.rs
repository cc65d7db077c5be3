//! The storage behind a stream's queues, and the split into its two sides.

use heapless::spsc::Queue;

use crate::action::Done;
use crate::command::Command;
use crate::controller::{Controller, Mailbox, Port};
use crate::id::StreamTag;
use crate::meter::MeterBank;
use crate::mixdown::Mixdown;
use crate::scheduler::Schedule;
use crate::signal::Signal;
use crate::{
    Direction, Engine, Error, InputEngine, OutputEngine, PlaySource, RecordTarget, StreamConfig,
};

/// Fixed-capacity storage for one stream: per direction, a command queue of `C - 1` entries
/// and a completion queue, plus (in the engine) `A` action slots.
///
/// * `P` owns playback buffers (`&'static [f32]`, `Arc<[f32]>`, `Vec<f32>`, `Box<[f32]>`).
/// * `R` owns recording buffers (`&'static mut [f32]`, `Vec<f32>`, `Box<[f32]>`).
/// * `A` (at least 2) is the number of outstanding actions each direction admits: an
///   action counts from its submission until its completion has been taken from the
///   controller. Plays, records and stats fetches may take `A - 1` of them; the last is
///   kept for cancels, so a full stream can always be cut.
/// * `C` (at least 2) sizes the command queue: `C - 1` commands can wait for the next block.
///
/// It holds everything that grows with `A` and `C`: both directions' queues, action slots,
/// schedules and the controller's mailboxes. The [`Controller`] and [`Engine`] that
/// [`split`](Self::split) returns are small handles into it, so nothing large is ever moved
/// on a stack. A duplex stream with `A = C = 16` and `&'static` buffers takes about 67 KB
/// on 64-bit targets (at most 67,904 B and no more than 10 % less, asserted by the core's
/// `tests.rs::handles_are_small_and_the_storage_holds_the_rest`).
///
/// On a microcontroller this is a `static`; on a host, any place that outlives both sides
/// (a backend that needs `'static` can `Box::leak` it).
///
/// ```
/// use rtmix_core::{Queues, StreamConfig};
/// let mut q: Queues<&'static [f32], &'static mut [f32], 16, 32> = Queues::new();
/// let (ctl, engine) = q.split(StreamConfig::output(2)).unwrap();
/// assert_eq!(ctl.config(), StreamConfig::output(2));
/// # drop((ctl, engine));
/// ```
pub struct Queues<P, R, const A: usize, const C: usize> {
    output_commands: Queue<Command<P>, C>,
    output_done: Queue<Done<P>, A>,
    output_schedule: Schedule<P, A>,
    output_mailbox: Mailbox<P, A>,
    mixdown: Mixdown,
    output_meters: MeterBank,
    input_meters: MeterBank,
    input_commands: Queue<Command<R>, C>,
    input_done: Queue<Done<R>, A>,
    input_schedule: Schedule<R, A>,
    input_mailbox: Mailbox<R, A>,
    /// Splits so far, so ids of an earlier split are told apart (see `StreamTag`).
    generation: u32,
}

impl<P, R, const A: usize, const C: usize> core::fmt::Debug for Queues<P, R, A, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Queues")
            .field("actions", &A)
            .field("commands", &(C - 1))
            .field("splits", &self.generation)
            .finish_non_exhaustive()
    }
}

impl<P, R, const A: usize, const C: usize> Default for Queues<P, R, A, C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P, R, const A: usize, const C: usize> Queues<P, R, A, C> {
    /// Empty queues. `A` must be in `2..=65535` and `C` at least 2 (checked at compile time).
    pub const fn new() -> Self {
        const {
            assert!(A >= 2 && A <= u16::MAX as usize, "A must be in 2..=65535");
            assert!(C >= 2, "C must be at least 2");
        }
        Self {
            output_commands: Queue::new(),
            output_done: Queue::new(),
            output_schedule: Schedule::new(Direction::Output),
            output_mailbox: Mailbox::new(),
            mixdown: Mixdown::new(),
            output_meters: MeterBank::new(),
            input_meters: MeterBank::new(),
            input_commands: Queue::new(),
            input_done: Queue::new(),
            input_schedule: Schedule::new(Direction::Input),
            input_mailbox: Mailbox::new(),
            generation: 0,
        }
    }

    /// Empties everything in place, dropping what an earlier split left, field by field:
    /// `*self = Self::new()` would build the whole storage on the stack first (58 KB for
    /// 16 actions and queues of 32 on a Cortex-M), more stack than a firmware has.
    fn reset(&mut self) {
        while self.output_commands.dequeue().is_some() {}
        while self.output_done.dequeue().is_some() {}
        while self.input_commands.dequeue().is_some() {}
        while self.input_done.dequeue().is_some() {}
        self.output_schedule.reset();
        self.input_schedule.reset();
        self.output_mailbox.reset();
        self.input_mailbox.reset();
    }

    /// Empties the queues (anything left from an earlier split is dropped here, on the
    /// control side) and splits them into the control side and the audio side.
    ///
    /// ```
    /// use rtmix_core::{Error, Queues, StreamConfig};
    /// let mut q: Queues<Vec<f32>, Vec<f32>, 4, 4> = Queues::new();
    /// assert_eq!(q.split(StreamConfig::duplex(0, 0)).err(), Some(Error::NoChannels));
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn split(
        &mut self,
        config: StreamConfig,
    ) -> Result<(Controller<'_, P, R, A>, Engine<'_, P, R, A>), Error>
    where
        P: PlaySource,
        R: RecordTarget,
    {
        if config.output_channels == 0 && config.input_channels == 0 {
            return Err(Error::NoChannels);
        }
        let generation = self.generation.wrapping_add(1);
        self.reset();
        self.generation = generation;
        self.mixdown.reset(config.clamp_output);
        self.output_meters.reset();
        self.input_meters.reset();
        let stream = StreamTag::new(core::ptr::from_ref(&*self).addr(), generation);
        let signal = Signal::new();
        let (out_tx, out_rx) = self.output_commands.split();
        let (out_done_tx, out_done_rx) = self.output_done.split();
        let (in_tx, in_rx) = self.input_commands.split();
        let (in_done_tx, in_done_rx) = self.input_done.split();
        let (out_ch, in_ch) = (config.output_channels, config.input_channels);
        let controller = Controller::new(
            config,
            stream,
            Port::new(out_tx, out_done_rx, &mut self.output_mailbox, out_ch),
            Port::new(in_tx, in_done_rx, &mut self.input_mailbox, in_ch),
            [&self.output_meters, &self.input_meters],
            signal.clone(),
        );
        let output_schedule = &mut self.output_schedule;
        let input_schedule = &mut self.input_schedule;
        let engine = Engine {
            output: OutputEngine::new(
                out_rx,
                out_done_tx,
                output_schedule,
                &mut self.mixdown,
                &self.output_meters,
                out_ch,
                signal.clone(),
            ),
            input: InputEngine::new(
                in_rx,
                in_done_tx,
                input_schedule,
                &self.input_meters,
                in_ch,
                signal,
            ),
        };
        Ok((controller, engine))
    }
}

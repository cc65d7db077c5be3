//! Storage for a stream on a microcontroller: one `static` per direction, sized by const
//! generics ([`Storage`]), and split into the two sides of a stream without an allocator.

use heapless::spsc::Queue;

use crate::action::{Done, Snapshot};
use crate::channel_map::MapOf;
use crate::command::Command;
use crate::envelope::Ramp;
use crate::home::Fixed;
use crate::input::InputHalf;
use crate::meter::{MeterBank, MeterSlots};
use crate::mixdown::Mixdown;
use crate::output::OutputHalf;
use crate::port::{Mail, Port, PortEnds, STATS_FETCHES};
use crate::scheduler::{Ends, Scheduler};
use crate::signal::Signal;
use crate::slots::{Slot, MAX_SLOTS};
use crate::{
    ActionKind, Controller, Direction, Engine, Error, InputEngine, OutputEngine, PlaySource,
    RecordTarget, StreamConfig, Unused,
};

/// The snapshot queue: room for every stats fetch a direction admits.
type Snapshots = Queue<Snapshot, { STATS_FETCHES + 1 }>;

/// The storage of one direction of a stream, for a firmware: a `static`, sized by const
/// generics, split into the two sides of a stream without an allocator. `B` owns the
/// direction's buffers.
///
/// * `A` action slots. An action holds one from submission until its completion is taken
///   (or, after [`Controller::forget`], until it arrives), one kept for cancels.
/// * `C` sizes the command queue: `C - 1` commands can wait for the next block.
/// * `D` sizes the completion queue: `D - 1` completions can be on their way back at
///   once; an ended action keeps its slot until there is room, so `D` may be small.
/// * `M` is the channel capacity: the most channels of the direction and of a channel map.
///
/// Everything the engine half keeps (slots, pending heap, master gains) and everything the
/// controller keeps for the direction (its mailbox) is here, so nothing large is ever
/// moved on a stack: the sides are handles into it.
pub struct Storage<B: 'static, const A: usize, const C: usize, const D: usize, const M: usize> {
    slots: [Slot<B, MapOf<M>>; A],
    heap: [u16; A],
    mail: [Mail<B>; A],
    free: [u16; A],
    commands: Queue<Command<B, MapOf<M>>, C>,
    completions: Queue<Done<B>, D>,
    snapshots: Snapshots,
    meters: MeterBank<[MeterSlots; M]>,
}

impl<B, const A: usize, const C: usize, const D: usize, const M: usize> core::fmt::Debug
    for Storage<B, A, C, D, M>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Storage")
            .field("actions", &A)
            .field("commands", &(C - 1))
            .field("completions", &(D - 1))
            .field("channels", &M)
            .finish()
    }
}

impl<B, const A: usize, const C: usize, const D: usize, const M: usize> Default
    for Storage<B, A, C, D, M>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<B, const A: usize, const C: usize, const D: usize, const M: usize> Storage<B, A, C, D, M> {
    /// Empty storage. `A` must be in `2..=65535`, and `C`, `D` and `M` at least 2, 2 and 1
    /// (checked at compile time). A `const fn`, so a firmware places it in RAM at link
    /// time without building it on the stack.
    pub const fn new() -> Self {
        const {
            assert!(A >= 2 && A <= MAX_SLOTS, "A must be in 2..=65535");
            assert!(C >= 2, "C must be at least 2");
            assert!(D >= 2, "D must be at least 2");
            assert!(M >= 1, "M must be at least 1");
        }
        Self {
            slots: [const { Slot::new() }; A],
            heap: [0; A],
            mail: [const { Mail::new() }; A],
            free: [0; A],
            commands: Queue::new(),
            completions: Queue::new(),
            snapshots: Queue::new(),
            meters: MeterBank::new(),
        }
    }

    /// Empties the queues (anything an earlier stream left in them is dropped here, on the
    /// control side) and splits the storage into the controller's port and the engine's
    /// scheduler for a direction of `channels` channels.
    #[allow(clippy::type_complexity)]
    fn split(
        &mut self,
        channels: u16,
        direction: Direction,
        signal: &Signal,
    ) -> Result<
        (
            Port<B, Fixed<'_, M>>,
            Scheduler<B, MapOf<M>, Fixed<'_, M>>,
            &MeterBank<[MeterSlots; M]>,
        ),
        Error,
    > {
        if usize::from(channels) > M {
            return Err(Error::TooManyChannels { channels, max: M });
        }
        while self.commands.dequeue().is_some() {}
        while self.completions.dequeue().is_some() {}
        while self.snapshots.dequeue().is_some() {}
        for slot in &mut self.slots {
            *slot = Slot::new();
        }
        self.meters.reset();
        let kind = match direction {
            Direction::Output => ActionKind::Play,
            Direction::Input => ActionKind::Record,
        };
        let Self {
            slots,
            heap,
            mail,
            free,
            commands,
            completions,
            snapshots,
            meters,
        } = self;
        let (commands_tx, commands_rx) = commands.split();
        let (done_tx, done_rx) = completions.split();
        let (snap_tx, snap_rx) = snapshots.split();
        let meters: &MeterBank<[MeterSlots; M]> = meters;
        let port = Port::new(
            PortEnds {
                commands: commands_tx,
                completions: done_rx,
                snapshots: snap_rx,
            },
            &mut mail[..],
            &mut free[..],
            meters,
            channels,
            kind,
        );
        let scheduler = Scheduler::new(
            Ends {
                commands: commands_rx,
                completions: done_tx,
                snapshots: snap_tx,
            },
            &mut slots[..],
            &mut heap[..],
            kind,
            direction,
            signal.clone(),
        );
        Ok((port, scheduler, meters))
    }
}

/// The storage of a stream's output: a direction's [`Storage`] and the master gains.
///
/// ```
/// use rtmix_core::{At, ChannelMap, OutputStorage, Play, StreamConfig};
/// static CLICK: [f32; 2] = [1.0, -1.0];
/// // 16 actions, 8 queued commands, 4 completions in transit, 2 channels.
/// let mut storage: OutputStorage<&'static [f32], 16, 8, 4, 2> = OutputStorage::new();
/// let (mut ctl, mut engine) = storage.split(StreamConfig::output(2)).unwrap();
/// ctl.play(Play::new(&CLICK[..], ChannelMap::new(&[1]).unwrap()).at(At::Frame(1))).unwrap();
/// let mut out = [0.0f32; 6];
/// engine.output.process(&mut out);
/// assert_eq!(out, [0.0, 0.0, 0.0, 1.0, 0.0, -1.0]);
/// ```
pub struct OutputStorage<P: 'static, const A: usize, const C: usize, const D: usize, const M: usize>
{
    direction: Storage<P, A, C, D, M>,
    masters: [Ramp; M],
}

impl<P, const A: usize, const C: usize, const D: usize, const M: usize> core::fmt::Debug
    for OutputStorage<P, A, C, D, M>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("OutputStorage")
            .field(&self.direction)
            .finish()
    }
}

impl<P, const A: usize, const C: usize, const D: usize, const M: usize> Default
    for OutputStorage<P, A, C, D, M>
{
    fn default() -> Self {
        Self::new()
    }
}

/// The storage of a stream's input: a direction's [`Storage`].
pub type InputStorage<R, const A: usize, const C: usize, const D: usize, const M: usize> =
    Storage<R, A, C, D, M>;

impl<P, const A: usize, const C: usize, const D: usize, const M: usize>
    OutputStorage<P, A, C, D, M>
{
    /// Empty storage (see [`Storage::new`]).
    pub const fn new() -> Self {
        Self {
            direction: Storage::new(),
            masters: [Ramp::UNITY; M],
        }
    }
}

impl<P: PlaySource, const A: usize, const C: usize, const D: usize, const M: usize>
    OutputStorage<P, A, C, D, M>
{
    #[allow(clippy::type_complexity)]
    fn half<'a>(
        &'a mut self,
        config: StreamConfig,
        signal: &Signal,
    ) -> Result<(Port<P, Fixed<'a, M>>, OutputHalf<P, Fixed<'a, M>>), Error> {
        let channels = config.output_channels;
        let Self { direction, masters } = self;
        let (port, scheduler, meters) = direction.split(channels, Direction::Output, signal)?;
        Ok((
            port,
            OutputHalf {
                scheduler,
                mixdown: Mixdown::new(&mut masters[..], config.clamp_output),
                meters,
                metered: config.meters,
                protected: config.protect_output,
                channels,
            },
        ))
    }

    /// Splits the storage into the two sides of an output-only stream (any earlier stream
    /// over it must be gone: the borrow says so). `config` must have no inputs.
    #[allow(clippy::type_complexity)]
    pub fn split(
        &mut self,
        config: StreamConfig,
    ) -> Result<
        (
            Controller<P, Unused, Fixed<'_, M>>,
            Engine<P, Unused, Fixed<'_, M>>,
        ),
        Error,
    > {
        check_config(config, true, false)?;
        let signal = Signal::new();
        let (port, half) = self.half(config, &signal)?;
        Ok((
            Controller::new(config, Some(port), None, signal),
            Engine {
                output: OutputEngine::new(Some(half)),
                input: InputEngine::new(None),
            },
        ))
    }
}

impl<R: RecordTarget, const A: usize, const C: usize, const D: usize, const M: usize>
    Storage<R, A, C, D, M>
{
    #[allow(clippy::type_complexity)]
    fn input_half<'a>(
        &'a mut self,
        config: StreamConfig,
        signal: &Signal,
    ) -> Result<(Port<R, Fixed<'a, M>>, InputHalf<R, Fixed<'a, M>>), Error> {
        let channels = config.input_channels;
        let (port, scheduler, meters) = self.split(channels, Direction::Input, signal)?;
        Ok((
            port,
            InputHalf {
                scheduler,
                meters,
                metered: config.meters,
                channels,
            },
        ))
    }

    /// Splits the storage into the two sides of an input-only stream. `config` must have
    /// no outputs.
    ///
    /// ```
    /// use rtmix_core::{ChannelMap, InputStorage, Record, StreamConfig};
    /// let mut storage: InputStorage<Vec<f32>, 4, 4, 2, 1> = InputStorage::new();
    /// let (mut ctl, mut engine) = storage.split_input(StreamConfig::input(1)).unwrap();
    /// let id = ctl.record(Record::new(vec![0.0; 2], ChannelMap::new(&[0]).unwrap())).unwrap();
    /// engine.input.process(&[0.5, 0.25, 0.125]);
    /// assert_eq!(ctl.take(id).unwrap().into_recording(), Some(vec![0.5, 0.25]));
    /// ```
    #[allow(clippy::type_complexity)]
    pub fn split_input(
        &mut self,
        config: StreamConfig,
    ) -> Result<
        (
            Controller<Unused, R, Fixed<'_, M>>,
            Engine<Unused, R, Fixed<'_, M>>,
        ),
        Error,
    > {
        check_config(config, false, true)?;
        let signal = Signal::new();
        let (port, half) = self.input_half(config, &signal)?;
        Ok((
            Controller::new(config, None, Some(port), signal),
            Engine {
                output: OutputEngine::new(None),
                input: InputEngine::new(Some(half)),
            },
        ))
    }
}

/// Splits an output and an input storage into the two sides of a duplex stream.
///
/// ```
/// use rtmix_core::{InputStorage, OutputStorage, StreamConfig};
/// let mut output: OutputStorage<&'static [f32], 8, 4, 2, 2> = OutputStorage::new();
/// let mut input: InputStorage<Vec<f32>, 8, 4, 2, 2> = InputStorage::new();
/// let (ctl, engine) = rtmix_core::split_duplex(&mut output, &mut input, StreamConfig::duplex(2, 1)).unwrap();
/// assert_eq!((engine.output.channels(), engine.input.channels()), (2, 1));
/// # drop(ctl);
/// ```
#[allow(clippy::type_complexity)]
pub fn split_duplex<
    'a,
    P: PlaySource,
    R: RecordTarget,
    const A: usize,
    const C: usize,
    const D: usize,
    const AI: usize,
    const CI: usize,
    const DI: usize,
    const M: usize,
>(
    output: &'a mut OutputStorage<P, A, C, D, M>,
    input: &'a mut InputStorage<R, AI, CI, DI, M>,
    config: StreamConfig,
) -> Result<(Controller<P, R, Fixed<'a, M>>, Engine<P, R, Fixed<'a, M>>), Error> {
    check_config(config, true, true)?;
    let signal = Signal::new();
    let (out_port, out_half) = output.half(config, &signal)?;
    let (in_port, in_half) = input.input_half(config, &signal)?;
    Ok((
        Controller::new(config, Some(out_port), Some(in_port), signal),
        Engine {
            output: OutputEngine::new(Some(out_half)),
            input: InputEngine::new(Some(in_half)),
        },
    ))
}

/// Checks that `config` has channels exactly in the directions the storage has.
pub(crate) fn check_config(config: StreamConfig, output: bool, input: bool) -> Result<(), Error> {
    let (out, inp) = (config.output_channels, config.input_channels);
    if out == 0 && inp == 0 {
        return Err(Error::NoChannels);
    }
    if config.clamp_output && !config.protect_output {
        return Err(Error::ClampUnprotected);
    }
    for (channels, has) in [(out, output), (inp, input)] {
        if channels > 0 && !has {
            return Err(Error::TooManyChannels { channels, max: 0 });
        }
        if channels == 0 && has {
            return Err(Error::NoSuchDirection);
        }
    }
    Ok(())
}

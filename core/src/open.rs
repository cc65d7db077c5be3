//! Opening a stream on a host: storage sized at run time, allocated once here, owned by
//! the two sides and freed when both are gone (feature `alloc`).

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec;

use crate::envelope::Ramp;
use crate::home::Heap;
use crate::input::InputHalf;
use crate::meter::MeterBank;
use crate::mixdown::Mixdown;
use crate::output::OutputHalf;
use crate::port::{Mail, Port, PortEnds, STATS_FETCHES};
use crate::scheduler::{Ends, Scheduler};
use crate::signal::Signal;
use crate::slots::{Slot, MAX_SLOTS};
use crate::storage::check_config;
use crate::{
    ActionKind, Controller, Direction, Engine, Error, InputEngine, OutputEngine, PlaySource,
    RecordTarget, StreamConfig,
};

/// How much a host stream holds, per direction, chosen when it opens.
///
/// * `actions`: action slots. An action holds one from submission until its completion is
///   taken (or, after [`Controller::forget`], until it arrives); one is kept for cancels,
///   so `actions - 1` plays, records, gain changes and stats fetches may be outstanding.
/// * `commands`: commands that can wait for the next block.
/// * `completions`: completions on their way back at once; an ended action keeps its slot
///   until there is room, so this may be small.
///
/// ```
/// use rtmix_core::StreamCapacity;
/// let c = StreamCapacity::default();
/// assert_eq!((c.actions, c.commands, c.completions), (64, 64, 16));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StreamCapacity {
    /// Action slots per direction (2 to 65 535).
    pub actions: usize,
    /// Commands that can wait for the next block, per direction (at least 1).
    pub commands: usize,
    /// Completions on their way back at once, per direction (at least 1).
    pub completions: usize,
}

impl Default for StreamCapacity {
    fn default() -> Self {
        Self {
            actions: 64,
            commands: 64,
            completions: 16,
        }
    }
}

impl StreamCapacity {
    fn check(&self) -> Result<(), Error> {
        let bad = if !(2..=MAX_SLOTS).contains(&self.actions) {
            Some(("actions", self.actions))
        } else if self.commands == 0 {
            Some(("commands", 0))
        } else if self.completions == 0 {
            Some(("completions", 0))
        } else {
            None
        };
        match bad {
            Some((what, value)) => Err(Error::InvalidCapacity { what, value }),
            None => Ok(()),
        }
    }
}

/// Opens a stream whose storage is allocated here, once, with the sizes of `capacity`
/// (nothing for a direction `config` does not have), and freed when both sides are gone:
/// a program can open streams forever. `P` owns the buffers of plays, `R` those of
/// recordings.
///
/// ```
/// use rtmix_core::{At, ChannelMap, Play, Record, StreamCapacity, StreamConfig};
/// let (mut ctl, mut engine) =
///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::duplex(2, 1), StreamCapacity::default())
///         .unwrap();
/// let play = ctl.play(Play::new(vec![0.5; 4], ChannelMap::new(&[1]).unwrap()).at(At::Frame(2))).unwrap();
/// let rec = ctl.record(Record::new(vec![0.0; 2], ChannelMap::new(&[0]).unwrap()).at(At::Frame(1))).unwrap();
/// let mut out = [0.0f32; 16];
/// engine.process(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], &mut out);
/// assert_eq!(&out[4..8], &[0.0, 0.5, 0.0, 0.5]);
/// assert_eq!(ctl.take(rec).unwrap().into_recording(), Some(vec![2.0, 3.0]));
/// assert_eq!(ctl.take(play).unwrap().frames, 4);
/// ```
#[allow(clippy::type_complexity)]
pub fn open<P: PlaySource + 'static, R: RecordTarget + 'static>(
    config: StreamConfig,
    capacity: StreamCapacity,
) -> Result<(Controller<P, R, Heap>, Engine<P, R, Heap>), Error> {
    check_config(
        config,
        config.output_channels > 0,
        config.input_channels > 0,
    )?;
    capacity.check()?;
    let signal = Signal::new();
    let (out_port, out_half) = match config.output_channels {
        0 => (None, None),
        channels => {
            let (port, scheduler, meters) =
                direction(capacity, channels, Direction::Output, &signal);
            let masters = vec![Ramp::UNITY; usize::from(channels)].into_boxed_slice();
            let half = OutputHalf {
                scheduler,
                mixdown: Mixdown::new(masters, config.clamp_output),
                meters,
                metered: config.meters,
                protected: config.protect_output,
                channels,
            };
            (Some(port), Some(half))
        }
    };
    let (in_port, in_half) = match config.input_channels {
        0 => (None, None),
        channels => {
            let (port, scheduler, meters) =
                direction(capacity, channels, Direction::Input, &signal);
            let half = InputHalf {
                scheduler,
                meters,
                metered: config.meters,
                channels,
            };
            (Some(port), Some(half))
        }
    };
    Ok((
        Controller::new(config, out_port, in_port, signal),
        Engine {
            output: OutputEngine::new(out_half),
            input: InputEngine::new(in_half),
        },
    ))
}

type Meters = Arc<MeterBank<Box<[crate::meter::MeterSlots]>>>;

/// The controller's port and the engine's scheduler of one direction, and its meters.
type Parts<B> = (
    Port<B, Heap>,
    Scheduler<B, <Heap as crate::Home>::Map, Heap>,
    Meters,
);

/// The parts of one direction, allocated.
fn direction<B: 'static>(
    capacity: StreamCapacity,
    channels: u16,
    direction: Direction,
    signal: &Signal,
) -> Parts<B> {
    let kind = match direction {
        Direction::Output => ActionKind::Play,
        Direction::Input => ActionKind::Record,
    };
    let actions = capacity.actions;
    let (commands_tx, commands_rx) = rtrb::RingBuffer::new(capacity.commands);
    let (done_tx, done_rx) = rtrb::RingBuffer::new(capacity.completions);
    let (snap_tx, snap_rx) = rtrb::RingBuffer::new(STATS_FETCHES);
    let meters = Arc::new(MeterBank::with_channels(usize::from(channels)));
    let port = Port::new(
        PortEnds {
            commands: commands_tx,
            completions: done_rx,
            snapshots: snap_rx,
        },
        (0..actions).map(|_| Mail::new()).collect(),
        vec![0u16; actions].into_boxed_slice(),
        meters.clone(),
        channels,
        kind,
    );
    let scheduler = Scheduler::new(
        Ends {
            commands: commands_rx,
            completions: done_tx,
            snapshots: snap_tx,
        },
        (0..actions).map(|_| Slot::new()).collect(),
        vec![0u16; actions].into_boxed_slice(),
        kind,
        direction,
        signal.clone(),
    );
    (port, scheduler, meters)
}

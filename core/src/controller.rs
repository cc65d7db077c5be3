//! The control side of a stream: validates requests, admits them within capacity, sends
//! them to the engine halves and collects their completions.

use crate::action::Done;
use crate::command::{Body, Command, Gain, GroupMark, Levels, Shape, Target, When, NONE};
use crate::home::Home;
use crate::id::StreamTag;
use crate::port::Port;
use crate::signal::Signal;
use crate::validate::{check_end, check_transfer, play_shape, transfer_body};
use crate::{
    ActionId, At, Completion, Direction, Ending, Error, GainTarget, Late, Level, Member, Payload,
    Play, PlaySource, Record, RecordTarget, Rejected, StreamConfig, StreamStats,
};

/// The control side of a stream: lives on an ordinary thread (or the main loop of a
/// firmware) and never blocks the audio side.
///
/// Every request is validated here and refused with a typed [`Error`]; a refused play or
/// record hands its buffer back in [`Rejected`]. Every accepted request gets an
/// [`ActionId`] and, later, exactly one [`Completion`], taken with [`take`](Self::take),
/// [`try_next`](Self::try_next) or (with `std`) `wait`; or dropped unseen
/// with [`forget`](Self::forget).
///
/// ```
/// use rtmix_core::{At, ChannelMap, EndReason, Play, StreamCapacity, StreamConfig};
/// let (mut ctl, mut engine) =
///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(1), StreamCapacity::default())
///         .unwrap();
/// let id = ctl.play(Play::new(vec![0.5; 100], ChannelMap::new(&[0]).unwrap()).at(At::Frame(10))).unwrap();
/// let cut = ctl.cancel(id, At::Frame(15), Default::default()).unwrap();
/// let mut out = [0.0f32; 32];
/// engine.output.process(&mut out);
/// assert_eq!(&out[9..16], &[0.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.0]);
/// let done = ctl.take(id).unwrap();
/// assert_eq!((done.actual_start, done.frames, done.end), (Some(10), 5, EndReason::Cancelled { at: 15 }));
/// assert_eq!(ctl.take(cut).unwrap().end, EndReason::Cut);
/// ```
pub struct Controller<P: 'static, R: 'static, H: Home> {
    config: StreamConfig,
    pub(crate) stream: StreamTag,
    pub(crate) output: Option<Port<P, H>>,
    pub(crate) input: Option<Port<R, H>>,
    next_seq: u64,
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) signal: Signal,
}

impl<P, R, H: Home> core::fmt::Debug for Controller<P, R, H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Controller")
            .field("config", &self.config)
            .field("output", &self.output)
            .field("input", &self.input)
            .field("next_seq", &self.next_seq)
            .finish_non_exhaustive()
    }
}

/// A command without a buffer, which either engine half takes.
#[derive(Clone, Copy, Debug)]
enum Control {
    Cancel(Target, Ending),
    Gain(Gain, f32, u64),
    Stats,
}

impl Control {
    fn body<B, Mp>(self) -> Body<B, Mp> {
        match self {
            Control::Cancel(target, ending) => Body::Cancel { target, ending },
            Control::Gain(target, gain, ramp) => Body::Gain { target, gain, ramp },
            Control::Stats => Body::Stats,
        }
    }
}

/// For each member index of a group, whether the engine half it goes to must wait for
/// more (`More`) or may start the group (`Last`: the last member of its direction).
fn group_marks<P, R>(members: &[Member<P, R>]) -> impl Fn(usize) -> GroupMark {
    let last = |d: Direction| members.iter().rposition(|m| m.direction() == d);
    let (last_out, last_in) = (last(Direction::Output), last(Direction::Input));
    move |i| {
        if Some(i) == last_out || Some(i) == last_in {
            GroupMark::Last
        } else {
            GroupMark::More
        }
    }
}

/// The action an id names, as a command carries it.
fn target(id: ActionId) -> Target {
    Target {
        slot: id.slot(),
        seq: id.seq(),
    }
}

impl<P, R, H> Controller<P, R, H>
where
    P: PlaySource,
    R: RecordTarget,
    H: Home,
{
    pub(crate) fn new(
        config: StreamConfig,
        output: Option<Port<P, H>>,
        input: Option<Port<R, H>>,
        signal: Signal,
    ) -> Self {
        Self {
            config,
            stream: StreamTag::unique(),
            output,
            input,
            next_seq: 0,
            signal,
        }
    }

    /// The completion a record of one direction becomes, with the id it was issued as.
    fn completion<B>(
        &self,
        direction: Direction,
        (done, stats): (Done<B>, Option<StreamStats>),
        wrap: fn(B) -> Payload<P, R>,
    ) -> Completion<P, R> {
        let id = |slot, seq| ActionId::new(seq, self.stream, direction, slot);
        let some = |frame: u64| (frame != NONE).then_some(frame);
        Completion {
            id: id(done.slot, done.seq),
            kind: done.kind,
            requested: match done.when {
                When::Asap => At::Asap,
                When::Frame(f) => At::Frame(f),
                When::After { slot, seq } => At::After(id(slot, seq)),
            },
            late_by: done.late_by,
            actual_start: some(done.actual_start),
            frames: done.frames,
            skipped: done.skipped,
            ended_at: some(done.ended_at),
            end: done.end.reason(done.ended_at),
            stats: done.counts.report(
                (done.stream.missing, done.stream.dropped, done.stream.faults),
                some(done.stream.lowest),
            ),
            payload: match (done.buffer, stats) {
                (Some(b), _) => wrap(b),
                (None, Some(s)) => Payload::Stats(s),
                (None, None) => Payload::None,
            },
        }
    }

    /// The stream's channel counts.
    pub fn config(&self) -> StreamConfig {
        self.config
    }

    fn no_direction<T>() -> Result<T, Error> {
        Err(Error::NoSuchDirection)
    }

    fn port_room(
        &mut self,
        direction: Direction,
        others: usize,
        cancels: usize,
        stats: usize,
    ) -> Result<(), Error> {
        match direction {
            Direction::Output => match &mut self.output {
                Some(p) => p.room(others, cancels, stats),
                None => Self::no_direction(),
            },
            Direction::Input => match &mut self.input {
                Some(p) => p.room(others, cancels, stats),
                None => Self::no_direction(),
            },
        }
    }

    /// Issues the next id in `direction`, with a free slot (`port_room` said there is one).
    fn issue(&mut self, direction: Direction) -> ActionId {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = match direction {
            Direction::Output => self.output.as_mut().map(|p| p.assign(seq)),
            Direction::Input => self.input.as_mut().map(|p| p.assign(seq)),
        };
        ActionId::new(seq, self.stream, direction, slot.unwrap_or(0))
    }

    /// The timing of a command at `at`, as the engine reads it. For `At::After`, the
    /// engine finds where the followed action stopped itself: the controller admits it
    /// only while that action's completion is outstanding, and until the completion is
    /// taken its slot keeps the action, or the frame where it stopped.
    fn when(at: At) -> When {
        match at {
            At::Asap => When::Asap,
            At::Frame(f) => When::Frame(f),
            At::After(id) => When::After {
                slot: id.slot(),
                seq: id.seq(),
            },
        }
    }

    fn send_play(&mut self, play: Play<P>, shape: (Shape, Levels), group: GroupMark) -> ActionId {
        let when = Self::when(play.at);
        let id = self.issue(Direction::Output);
        let samples = play.buffer.buffer().map_or(0, <[f32]>::len);
        if let Some(port) = self.output.as_mut() {
            let body = transfer_body(
                play.buffer,
                samples,
                &play.map,
                port.channels,
                true,
                Some(shape),
            );
            port.send(command(id, when, play.late, group, body), false);
        }
        id
    }

    fn send_record(&mut self, record: Record<R>, group: GroupMark) -> ActionId {
        let when = Self::when(record.at);
        let id = self.issue(Direction::Input);
        let samples = record.buffer.buffer().map_or(0, <[f32]>::len);
        // A stream records until cancelled (or its sink runs full, with `OnFull::Stop`).
        let shape = record.buffer.buffer().is_none().then_some((
            Shape {
                region_len: u64::MAX,
                total: NONE,
                repetitions: NONE,
                stop: record.on_full == crate::OnFull::Stop,
                ..Shape::whole(0)
            },
            Levels::UNITY,
        ));
        if let Some(port) = self.input.as_mut() {
            let body = transfer_body(
                record.buffer,
                samples,
                &record.map,
                port.channels,
                false,
                shape,
            );
            port.send(command(id, when, record.late, group, body), false);
        }
        id
    }

    fn send_cancel(
        &mut self,
        target_id: ActionId,
        at: At,
        late: Late,
        ending: Ending,
        group: GroupMark,
    ) -> ActionId {
        let direction = target_id.direction();
        let control = Control::Cancel(target(target_id), ending);
        self.send_control(direction, at, late, group, control)
    }

    fn send_gain(
        &mut self,
        target: Gain,
        gain: f32,
        ramp: u64,
        at: At,
        late: Late,
        group: GroupMark,
    ) -> ActionId {
        let control = Control::Gain(target, gain, ramp);
        self.send_control(Direction::Output, at, late, group, control)
    }

    fn send_stats(&mut self, direction: Direction, at: At, group: GroupMark) -> ActionId {
        self.send_control(direction, at, Late::StartNow, group, Control::Stats)
    }

    /// Sends a command that carries no buffer, to either direction's queue.
    fn send_control(
        &mut self,
        direction: Direction,
        at: At,
        late: Late,
        group: GroupMark,
        control: Control,
    ) -> ActionId {
        let when = Self::when(at);
        let id = self.issue(direction);
        let stats = matches!(control, Control::Stats);
        match direction {
            Direction::Output => {
                if let Some(p) = self.output.as_mut() {
                    p.send(command(id, when, late, group, control.body()), stats);
                }
            }
            Direction::Input => {
                if let Some(p) = self.input.as_mut() {
                    p.send(command(id, when, late, group, control.body()), stats);
                }
            }
        }
        id
    }

    /// The peak and RMS of one channel of `direction` since the previous call for that
    /// channel: the output as sent to the device (after master gains and protection), the
    /// input as it arrived. Lock-free: the audio side never waits for it. `None` for a
    /// channel the stream lacks or beyond [`MAX_METER_CHANNELS`](crate::MAX_METER_CHANNELS),
    /// and for every channel of a stream built [`unmetered`](StreamConfig::unmetered).
    ///
    /// ```
    /// use rtmix_core::{ChannelMap, Direction, Play, StreamCapacity, StreamConfig};
    /// let (mut ctl, mut engine) =
    ///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(2), StreamCapacity::default()).unwrap();
    /// ctl.play(Play::new(vec![0.5, -1.0, 0.5, -1.0], ChannelMap::new(&[1]).unwrap())).unwrap();
    /// engine.output.process(&mut [0.0; 16]); // 8 frames
    /// let level = ctl.meter(Direction::Output, 1).unwrap();
    /// assert_eq!((level.peak, level.frames), (1.0, 8));
    /// assert!((level.rms - (2.5f32 / 8.0).sqrt()).abs() < 1e-6);
    /// assert_eq!(ctl.meter(Direction::Output, 1).unwrap().frames, 0); // read resets
    /// assert_eq!(ctl.meter(Direction::Output, 2), None);
    /// ```
    pub fn meter(&mut self, direction: Direction, channel: u16) -> Option<Level> {
        if !self.config().meters {
            return None;
        }
        let (channels, level) = match direction {
            Direction::Output => {
                let p = self.output.as_ref()?;
                (p.channels, p.meters.read(usize::from(channel)))
            }
            Direction::Input => {
                let p = self.input.as_ref()?;
                (p.channels, p.meters.read(usize::from(channel)))
            }
        };
        level.filter(|_| channel < channels)
    }

    /// Admitted actions of `direction` whose completion has not been taken yet (at most
    /// `A`).
    ///
    /// ```
    /// use rtmix_core::{At, Direction, StreamCapacity, StreamConfig};
    /// let (mut ctl, _engine) =
    ///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(1), StreamCapacity { actions: 2, ..StreamCapacity::default() }).unwrap();
    /// ctl.fetch_stats(Direction::Output, At::Asap).unwrap();
    /// assert_eq!(ctl.outstanding(Direction::Output), 1);
    /// ```
    pub fn outstanding(&self, direction: Direction) -> usize {
        match direction {
            Direction::Output => self.output.as_ref().map_or(0, Port::outstanding),
            Direction::Input => self.input.as_ref().map_or(0, Port::outstanding),
        }
    }

    /// The action slots of `direction`: how many actions it admits at once (one of them
    /// kept for cancels).
    pub fn slots(&self, direction: Direction) -> usize {
        match direction {
            Direction::Output => self.output.as_ref().map_or(0, Port::slots),
            Direction::Input => self.input.as_ref().map_or(0, Port::slots),
        }
    }

    /// True while `id` is admitted and its completion has not been taken.
    pub fn is_outstanding(&self, id: ActionId) -> bool {
        if id.stream() != self.stream {
            return false;
        }
        match id.direction() {
            Direction::Output => self
                .output
                .as_ref()
                .is_some_and(|p| p.holds(id.slot(), id.seq())),
            Direction::Input => self
                .input
                .as_ref()
                .is_some_and(|p| p.holds(id.slot(), id.seq())),
        }
    }

    /// Says the completion of `id` is not wanted: it is dropped (with its buffer, on this
    /// thread) when it arrives (seen by the next call that takes a completion or admits a
    /// request), and its slot freed then, so a caller that sets gains or
    /// cancels and never looks back need not take their completions. False if `id` is not
    /// outstanding.
    ///
    /// ```
    /// use rtmix_core::{At, Direction, GainTarget, Late, StreamCapacity, StreamConfig};
    /// let capacity = StreamCapacity { actions: 2, ..StreamCapacity::default() };
    /// let (mut ctl, mut engine) =
    ///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(1), capacity).unwrap();
    /// for _ in 0..10 {
    ///     let id = ctl.set_gain(GainTarget::Master(0), 0.5, 0, At::Asap, Late::StartNow).unwrap();
    ///     assert!(ctl.forget(id));
    ///     engine.output.process(&mut [0.0; 4]); // it takes effect, and its slot is free
    /// }
    /// assert!(ctl.try_next().is_none()); // nothing to take: forgotten ones are dropped
    /// assert_eq!(ctl.outstanding(Direction::Output), 0);
    /// ```
    pub fn forget(&mut self, id: ActionId) -> bool {
        if id.stream() != self.stream {
            return false;
        }
        match id.direction() {
            Direction::Output => self
                .output
                .as_mut()
                .is_some_and(|p| p.forget(id.slot(), id.seq())),
            Direction::Input => self
                .input
                .as_mut()
                .is_some_and(|p| p.forget(id.slot(), id.seq())),
        }
    }

    /// Schedules a play on the output.
    ///
    /// Refused (with the request handed back) for a map channel the output lacks, a
    /// buffer that is not whole frames, a NaN or infinite sample, an end past `u64::MAX`,
    /// full capacity or a full queue.
    pub fn play(&mut self, play: Play<P>) -> Result<ActionId, Rejected<Play<P>>> {
        let checked = self
            .check_play(&play)
            .and_then(|shape| self.port_room(Direction::Output, 1, 0, 0).map(|()| shape));
        match checked {
            Ok(shape) => Ok(self.send_play(play, shape, GroupMark::Single)),
            Err(error) => Err(Rejected {
                error,
                returned: play,
            }),
        }
    }

    /// Schedules a recording from the input. Refused like [`play`](Self::play), but
    /// samples are not inspected (they will be overwritten).
    pub fn record(&mut self, record: Record<R>) -> Result<ActionId, Rejected<Record<R>>> {
        let checked = self
            .check_record(&record)
            .and_then(|()| self.port_room(Direction::Input, 1, 0, 0));
        match checked {
            Ok(()) => Ok(self.send_record(record, GroupMark::Single)),
            Err(error) => Err(Rejected {
                error,
                returned: record,
            }),
        }
    }

    /// Cuts `target` at frame `at`: its last processed frame is `at - 1`. If it has not
    /// started by then it never starts; if it has already ended (or ends by itself
    /// first), the cancel's completion says [`EndReason::TargetNotActive`](crate::EndReason)
    /// and nothing is lost.
    pub fn cancel(&mut self, target: ActionId, at: At, late: Late) -> Result<ActionId, Error> {
        self.cancel_with(target, at, late, Ending::Cut)
    }

    /// Ends `target` at frame `at` the way `ending` says: cut dead, fade out over some
    /// frames (the last frame is then `at + fade - 1`), or, for a loop, at the end of the
    /// repetition it is in at `at`.
    ///
    /// ```
    /// use rtmix_core::{At, ChannelMap, Ending, Late, Play, Repeat, StreamCapacity, StreamConfig};
    /// let (mut ctl, mut engine) =
    ///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(1), StreamCapacity::default()).unwrap();
    /// let map = ChannelMap::new(&[0]).unwrap();
    /// let id = ctl.play(Play::new(vec![1.0; 3], map).repeat(Repeat::Forever)).unwrap();
    /// ctl.cancel_with(id, At::Frame(4), Late::StartNow, Ending::FadeOut(4)).unwrap();
    /// let mut out = [0.0f32; 10];
    /// engine.output.process(&mut out);
    /// assert_eq!(out, [1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]);
    /// assert_eq!(ctl.take(id).unwrap().ended_at, Some(8));
    /// ```
    pub fn cancel_with(
        &mut self,
        target: ActionId,
        at: At,
        late: Late,
        ending: Ending,
    ) -> Result<ActionId, Error> {
        self.check_cancel(target)?;
        self.check_at(at, target.direction())?;
        self.port_room(target.direction(), 0, 1, 0)?;
        Ok(self.send_cancel(target, at, late, ending, GroupMark::Single))
    }

    /// Changes a play's gain, or an output channel's master gain, at frame `at`: from its
    /// value there it ramps linearly to `gain` over `ramp` frames (0: at once), gain
    /// `from + (gain - from) * k / ramp` at frame `at + k`. The ramp is exact to the
    /// sample: the block is split at `at`.
    ///
    /// ```
    /// use rtmix_core::{At, ChannelMap, GainTarget, Late, Play, StreamCapacity, StreamConfig};
    /// let (mut ctl, mut engine) =
    ///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(1), StreamCapacity::default()).unwrap();
    /// let id = ctl.play(Play::new(vec![1.0; 8], ChannelMap::new(&[0]).unwrap())).unwrap();
    /// ctl.set_gain(GainTarget::Action(id), 0.0, 4, At::Frame(2), Late::Skip).unwrap();
    /// let mut out = [0.0f32; 8];
    /// engine.output.process(&mut out);
    /// assert_eq!(out, [1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]);
    /// ```
    pub fn set_gain(
        &mut self,
        target: GainTarget,
        gain: f32,
        ramp: u64,
        at: At,
        late: Late,
    ) -> Result<ActionId, Error> {
        let gain_target = self.check_gain(target, gain, at)?;
        self.port_room(Direction::Output, 1, 0, 0)?;
        Ok(self.send_gain(gain_target, gain, ramp, at, late, GroupMark::Single))
    }

    /// Takes and resets the stats of one direction at the block boundary at or before
    /// frame `at` (stats are kept per block). The completion carries them.
    pub fn fetch_stats(&mut self, direction: Direction, at: At) -> Result<ActionId, Error> {
        self.port_exists(direction)?;
        self.check_at(at, direction)?;
        self.port_room(direction, 1, 0, 1)?;
        Ok(self.send_stats(direction, at, GroupMark::Single))
    }

    /// Submits several commands atomically: all are admitted or none is (the members come
    /// back in [`Rejected`]), and each engine half starts its members together, so members
    /// at [`At::Asap`] share one frame per direction and none can be separated by a block
    /// boundary.
    ///
    /// ```
    /// use rtmix_core::{At, ChannelMap, Member, Play, Record, StreamCapacity, StreamConfig};
    /// let (mut ctl, mut engine) =
    ///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::duplex(1, 1), StreamCapacity::default()).unwrap();
    /// let [a, b] = ctl.group([
    ///     Member::Play(Play::new(vec![1.0; 4], ChannelMap::new(&[0]).unwrap())),
    ///     Member::Play(Play::new(vec![2.0; 4], ChannelMap::new(&[0]).unwrap())),
    /// ]).unwrap();
    /// let mut out = [0.0f32; 8];
    /// engine.output.process(&mut out);
    /// assert_eq!(&out[..5], &[3.0, 3.0, 3.0, 3.0, 0.0]);
    /// assert_eq!(ctl.take(a).unwrap().actual_start, ctl.take(b).unwrap().actual_start);
    /// ```
    pub fn group<const N: usize>(
        &mut self,
        members: [Member<P, R>; N],
    ) -> Result<[ActionId; N], Rejected<[Member<P, R>; N]>> {
        if let Err(error) = self.check_group(&members) {
            return Err(Rejected {
                error,
                returned: members,
            });
        }
        let marks = group_marks(&members);
        let mut index = 0;
        Ok(members.map(|member| {
            index += 1;
            self.send_member(member, marks(index - 1))
        }))
    }

    /// [`group`](Self::group) for a number of members known only when it runs (a
    /// [`Timeline`](crate::Timeline) switch, say): the same atomic admission and start.
    ///
    /// ```
    /// use rtmix_core::{ChannelMap, Member, Play, StreamCapacity, StreamConfig};
    /// let (mut ctl, _engine) =
    ///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(1), StreamCapacity::default()).unwrap();
    /// let mut members = rtmix_core::heapless::Vec::<_, 4>::new();
    /// for gain in [1.0, 0.5, 0.25] {
    ///     let map = ChannelMap::new(&[0]).unwrap();
    ///     members.push(Member::Play(Play::new(vec![gain; 8], map))).unwrap();
    /// }
    /// assert_eq!(ctl.group_vec(members).unwrap().len(), 3);
    /// ```
    pub fn group_vec<const N: usize>(
        &mut self,
        members: heapless::Vec<Member<P, R>, N>,
    ) -> Result<heapless::Vec<ActionId, N>, Rejected<heapless::Vec<Member<P, R>, N>>> {
        if let Err(error) = self.check_group(&members) {
            return Err(Rejected {
                error,
                returned: members,
            });
        }
        let marks = group_marks(&members);
        let mut ids = heapless::Vec::new();
        for (i, member) in members.into_iter().enumerate() {
            // Cannot fail: `ids` is as long as `members`.
            ids.push(self.send_member(member, marks(i))).ok();
        }
        Ok(ids)
    }

    /// Sends one checked group member.
    fn send_member(&mut self, member: Member<P, R>, mark: GroupMark) -> ActionId {
        match member {
            Member::Play(p) => {
                // Checked above; the shape is computed again rather than kept.
                let shape = play_shape(&p).unwrap_or((Shape::whole(p.frames()), Levels::UNITY));
                self.send_play(p, shape, mark)
            }
            Member::Record(r) => self.send_record(r, mark),
            Member::Cancel {
                target,
                at,
                late,
                ending,
            } => self.send_cancel(target, at, late, ending, mark),
            Member::Gain {
                target,
                gain,
                ramp,
                at,
                late,
            } => self.send_gain(Gain::from(target), gain, ramp, at, late, mark),
            Member::Stats { direction, at } => self.send_stats(direction, at, mark),
        }
    }

    fn check_group(&mut self, members: &[Member<P, R>]) -> Result<(), Error> {
        if members.is_empty() {
            return Err(Error::EmptyGroup);
        }
        // [direction][0: others, 1: cancels, 2: stats]
        let mut counts = [[0usize; 3]; 2];
        for member in members {
            match member {
                Member::Play(p) => {
                    self.check_play(p)?;
                }
                Member::Record(r) => self.check_record(r)?,
                Member::Cancel { target, at, .. } => {
                    self.check_cancel(*target)?;
                    self.check_at(*at, target.direction())?;
                }
                Member::Gain {
                    target, gain, at, ..
                } => {
                    self.check_gain(*target, *gain, *at)?;
                }
                Member::Stats { direction, at } => {
                    self.port_exists(*direction)?;
                    self.check_at(*at, *direction)?;
                }
            }
            let d = usize::from(member.direction() == Direction::Input);
            let c = usize::from(matches!(member, Member::Cancel { .. }));
            counts[d][c] += 1;
            counts[d][2] += usize::from(matches!(member, Member::Stats { .. }));
        }
        for (d, direction) in [Direction::Output, Direction::Input]
            .into_iter()
            .enumerate()
        {
            let [others, cancels, stats] = counts[d];
            if others + cancels > 0 {
                self.port_room(direction, others, cancels, stats)?;
            }
        }
        Ok(())
    }

    fn check_cancel(&self, target: ActionId) -> Result<(), Error> {
        if target.stream() != self.stream || target.seq() >= self.next_seq {
            return Err(Error::UnknownAction);
        }
        self.port_exists(target.direction())
    }

    /// Checks a frame target for a command of `direction`: an [`At::After`] must follow an
    /// outstanding action of this stream and direction.
    fn check_at(&self, at: At, direction: Direction) -> Result<(), Error> {
        let At::After(target) = at else {
            return Ok(());
        };
        self.check_cancel(target)?;
        if target.direction() != direction {
            return Err(Error::WrongDirection);
        }
        if !self.is_outstanding(target) {
            return Err(Error::NotOutstanding);
        }
        Ok(())
    }

    fn check_play(&self, play: &Play<P>) -> Result<(Shape, Levels), Error> {
        let channels = self.output.as_ref().map_or(0, |p| p.channels);
        check_transfer(
            &play.map,
            play.buffer.buffer(),
            channels,
            Self::max_map(),
            true,
        )?;
        self.check_at(play.at, Direction::Output)?;
        play_shape(play)
    }

    fn check_record(&self, record: &Record<R>) -> Result<(), Error> {
        let channels = self.input.as_ref().map_or(0, |p| p.channels);
        check_transfer(
            &record.map,
            record.buffer.buffer(),
            channels,
            Self::max_map(),
            false,
        )?;
        self.check_at(record.at, Direction::Input)?;
        let frames = record.buffer.buffer().map(|_| record.frames());
        check_end(record.at, frames)
    }

    /// The longest channel map the stream's storage holds.
    fn max_map() -> usize {
        <H::Map as crate::channel_map::MapStore>::CAPACITY
    }

    fn check_gain(&self, target: GainTarget, gain: f32, at: At) -> Result<Gain, Error> {
        self.port_exists(Direction::Output)?;
        if !gain.is_finite() {
            return Err(Error::NonFiniteGain { index: 0 });
        }
        self.check_at(at, Direction::Output)?;
        match target {
            GainTarget::Action(id) => {
                self.check_cancel(id)?;
                if id.direction() != Direction::Output {
                    return Err(Error::WrongDirection);
                }
            }
            GainTarget::Master(channel) => {
                let channels = self.output.as_ref().map_or(0, |p| p.channels);
                if channel >= channels {
                    return Err(Error::ChannelOutOfRange { channel, channels });
                }
            }
        }
        Ok(Gain::from(target))
    }

    fn port_exists(&self, direction: Direction) -> Result<(), Error> {
        let exists = match direction {
            Direction::Output => self.output.is_some(),
            Direction::Input => self.input.is_some(),
        };
        if exists {
            Ok(())
        } else {
            Err(Error::NoSuchDirection)
        }
    }

    /// The completion of `id`, if it has arrived. Taking it frees its slot. An id of
    /// another stream gives `None`.
    pub fn take(&mut self, id: ActionId) -> Option<Completion<P, R>> {
        if id.stream() != self.stream {
            return None;
        }
        let (slot, seq) = (id.slot(), id.seq());
        match id.direction() {
            Direction::Output => {
                let done = self.output.as_mut()?.take(slot, seq)?;
                Some(self.completion(Direction::Output, done, Payload::Played))
            }
            Direction::Input => {
                let done = self.input.as_mut()?.take(slot, seq)?;
                Some(self.completion(Direction::Input, done, Payload::Recorded))
            }
        }
    }

    /// The oldest arrived completion of either direction (output first), if any.
    pub fn try_next(&mut self) -> Option<Completion<P, R>> {
        if let Some(done) = self.output.as_mut().and_then(Port::next) {
            return Some(self.completion(Direction::Output, done, Payload::Played));
        }
        let done = self.input.as_mut().and_then(Port::next)?;
        Some(self.completion(Direction::Input, done, Payload::Recorded))
    }
}

/// A command to send.
fn command<B, Mp>(
    id: ActionId,
    when: When,
    late: Late,
    group: GroupMark,
    body: Body<B, Mp>,
) -> Command<B, Mp> {
    Command {
        seq: id.seq(),
        slot: id.slot(),
        when,
        late,
        group,
        body,
    }
}

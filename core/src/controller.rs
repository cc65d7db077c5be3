//! The control side of a stream: validates requests, admits them within capacity, sends
//! them to the engine halves and collects their completions.

use heapless::spsc::{Consumer, Producer};

use crate::action::{Done, HalfPayload};
use crate::command::{Body, Command, Gain, GroupMark, Layout, Shape};
use crate::id::StreamTag;
use crate::meter::MeterBank;
use crate::signal::Signal;
use crate::{
    ActionId, At, ChannelMap, Completion, Direction, Ending, Error, GainTarget, Late, Level,
    Member, Payload, Play, PlaySource, Record, RecordTarget, Rejected, Repeat, StreamConfig,
    MAX_MASTER_CHANNELS,
};

/// The control-side state of one direction, kept in [`Queues`](crate::Queues) with the
/// rest of the stream's storage.
pub(crate) struct Mailbox<B, const A: usize> {
    /// Completions taken from the queue but not yet from the controller.
    arrived: heapless::Vec<Done<B>, A>,
    /// Sequence numbers of the admitted actions whose completion has not been taken.
    /// Its length is the admission count: at most `A`, the engine's slot count.
    outstanding: heapless::Vec<u64, A>,
}

impl<B, const A: usize> Mailbox<B, A> {
    pub(crate) const fn new() -> Self {
        Self {
            arrived: heapless::Vec::new(),
            outstanding: heapless::Vec::new(),
        }
    }

    /// Empties it in place (see `Schedule::reset`).
    pub(crate) fn reset(&mut self) {
        self.arrived.clear();
        self.outstanding.clear();
    }
}

/// One direction's queues, as the controller sees them.
pub(crate) struct Port<'a, B, const A: usize> {
    commands: Producer<'a, Command<B>>,
    completions: Consumer<'a, Done<B>>,
    st: &'a mut Mailbox<B, A>,
    channels: u16,
}

impl<B, const A: usize> core::fmt::Debug for Port<'_, B, A> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Port")
            .field("channels", &self.channels)
            .field("outstanding", &self.st.outstanding.len())
            .field("queued", &self.commands.len())
            .field("arrived", &self.st.arrived.len())
            .finish()
    }
}

impl<'a, B, const A: usize> Port<'a, B, A> {
    pub(crate) fn new(
        commands: Producer<'a, Command<B>>,
        completions: Consumer<'a, Done<B>>,
        st: &'a mut Mailbox<B, A>,
        channels: u16,
    ) -> Self {
        st.arrived.clear();
        st.outstanding.clear();
        Self {
            commands,
            completions,
            st,
            channels,
        }
    }

    fn exists(&self) -> Result<(), Error> {
        if self.channels == 0 {
            Err(Error::NoSuchDirection)
        } else {
            Ok(())
        }
    }

    /// Checks that `others` more commands and `cancels` more cancels can be admitted and
    /// queued. The last slot is kept for cancels, so a stream whose slots are all taken by
    /// future actions can still be cut.
    fn room(&self, others: usize, cancels: usize) -> Result<(), Error> {
        let n = others + cancels;
        if n == 0 {
            return Ok(());
        }
        let held = self.st.outstanding.len();
        if held + n > A || (others > 0 && held + others > A - 1) {
            return Err(Error::Capacity { slots: A });
        }
        if self.commands.capacity() - self.commands.len() < n {
            return Err(Error::QueueFull);
        }
        Ok(())
    }

    /// Sends a command for which `room` said yes. This side is the only producer, so the
    /// space `room` saw is still there and the enqueue cannot fail.
    pub(crate) fn send(&mut self, mut cmd: Command<B>) {
        if let At::After(target) = cmd.at {
            cmd.after_end = self.known_end(target.seq());
        }
        let seq = cmd.id.seq();
        if self.commands.enqueue(cmd).is_ok() {
            self.st.outstanding.push(seq).ok();
        } else {
            warn!("command queue refused a command after room() admitted it");
        }
    }

    /// Moves arrived completions into the mailbox. Both hold at most `A` between them,
    /// since every one belongs to an outstanding action.
    fn collect(&mut self) {
        while !self.st.arrived.is_full() {
            match self.completions.dequeue() {
                Some(done) => {
                    self.st.arrived.push(done).ok();
                }
                None => break,
            }
        }
    }

    fn take_at(&mut self, index: usize) -> Done<B> {
        let done = self.st.arrived.remove(index);
        let seq = done.id.seq();
        self.st.outstanding.retain(|&s| s != seq);
        done
    }

    fn take(&mut self, seq: u64) -> Option<Done<B>> {
        self.collect();
        let index = self.st.arrived.iter().position(|d| d.id.seq() == seq)?;
        Some(self.take_at(index))
    }

    fn next(&mut self) -> Option<Done<B>> {
        self.collect();
        (!self.st.arrived.is_empty()).then(|| self.take_at(0))
    }

    fn is_outstanding(&self, seq: u64) -> bool {
        self.st.outstanding.contains(&seq)
    }

    /// Where the action `seq` stopped, if its completion has arrived here (the engine no
    /// longer knows it then).
    fn known_end(&mut self, seq: u64) -> Option<u64> {
        self.collect();
        self.st
            .arrived
            .iter()
            .find(|d| d.id.seq() == seq)
            .and_then(|d| d.ended_at)
    }
}

/// The control side of a stream: lives on an ordinary thread (or the main loop of a
/// firmware) and never blocks the audio side.
///
/// Every request is validated here and refused with a typed [`Error`]; a refused play or
/// record hands its buffer back in [`Rejected`]. Every accepted request gets an
/// [`ActionId`] and, later, exactly one [`Completion`], taken with [`take`](Self::take),
/// [`try_next`](Self::try_next) or (with `std`) [`wait`](Self::wait).
///
/// ```
/// use rtmix_core::{At, ChannelMap, EndReason, Play, Queues, StreamConfig};
/// let mut q: Queues<Vec<f32>, Vec<f32>, 4, 4> = Queues::new();
/// let (mut ctl, mut engine) = q.split(StreamConfig::output(1)).unwrap();
/// let id = ctl.play(Play::new(vec![0.5; 100], ChannelMap::new(&[0]).unwrap()).at(At::Frame(10))).unwrap();
/// let cut = ctl.cancel(id, At::Frame(15), Default::default()).unwrap();
/// let mut out = [0.0f32; 32];
/// engine.output.process(&mut out);
/// assert_eq!(&out[9..16], &[0.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.0]);
/// let done = ctl.take(id).unwrap();
/// assert_eq!((done.actual_start, done.frames, done.end), (Some(10), 5, EndReason::Cancelled { at: 15 }));
/// assert_eq!(ctl.take(cut).unwrap().end, EndReason::Cut);
/// ```
#[derive(Debug)]
pub struct Controller<'a, P, R, const A: usize> {
    config: StreamConfig,
    pub(crate) stream: StreamTag,
    pub(crate) output: Port<'a, P, A>,
    input: Port<'a, R, A>,
    /// `[output, input]`.
    meters: [&'a MeterBank; 2],
    next_seq: u64,
    #[cfg_attr(not(feature = "std"), allow(dead_code))]
    pub(crate) signal: Signal,
}

/// Checks a transfer's buffer and map against one direction of the stream.
fn check_transfer(
    map: &ChannelMap,
    samples: Option<&[f32]>,
    channels: u16,
    playback: bool,
) -> Result<(), Error> {
    if channels == 0 {
        return Err(Error::NoSuchDirection);
    }
    if let Some(channel) = map.out_of_range(channels) {
        return Err(Error::ChannelOutOfRange { channel, channels });
    }
    // A stream's samples arrive later: the output stage keeps NaN from the device.
    let Some(samples) = samples else {
        return Ok(());
    };
    let k = map.len();
    if !samples.len().is_multiple_of(k) {
        return Err(Error::LengthNotWholeFrames {
            samples: samples.len(),
            channels: k,
        });
    }
    if playback {
        if let Some(index) = samples.iter().position(|s| !s.is_finite()) {
            return Err(Error::NonFiniteSample { index });
        }
    }
    Ok(())
}

/// Checks that an action of `frames` frames (`None`: forever) starting at `at` ends
/// before `u64::MAX`.
fn check_end(at: At, frames: Option<u64>) -> Result<(), Error> {
    if let (At::Frame(f), Some(n)) = (at, frames) {
        f.checked_add(n).ok_or(Error::FrameOverflow)?;
    }
    Ok(())
}

/// Checks a play's region, repetitions, gain and fades, and gives its shape.
fn play_shape<P: PlaySource>(play: &Play<P>) -> Result<Shape, Error> {
    if !play.gain.is_finite() {
        return Err(Error::NonFiniteGain { index: 0 });
    }
    if play.buffer.buffer().is_none() {
        return stream_shape(play);
    }
    let frames = play.frames();
    let (start, end) = play.region.unwrap_or((0, frames));
    if start > end || end > frames {
        return Err(Error::RegionOutOfRange { start, end, frames });
    }
    if !play.gain.is_finite() {
        return Err(Error::NonFiniteGain { index: 0 });
    }
    let len = end - start;
    if play.repeat == Repeat::Forever && len == 0 {
        return Err(Error::EmptyLoop);
    }
    let total = match play.repeat {
        Repeat::Times(_) => Some(play.full_duration().ok_or(Error::FrameOverflow)?),
        Repeat::Forever => None,
    };
    for fade in [play.fade_in, play.fade_out] {
        if total.is_some_and(|t| fade > t) {
            return Err(Error::FadeTooLong {
                fade,
                frames: total.unwrap_or(0),
            });
        }
    }
    if total.is_none() && play.fade_out > 0 {
        // A play that loops forever has no natural end to fade towards.
        return Err(Error::FadeTooLong {
            fade: play.fade_out,
            frames: u64::MAX,
        });
    }
    check_end(play.at, play.duration())?;
    Ok(Shape {
        region_start: start,
        region_len: len,
        total,
        interval: play.interval,
        repetitions: match play.repeat {
            Repeat::Times(n) => Some(n),
            Repeat::Forever => None,
        },
        gain: play.gain,
        fade_in: play.fade_in,
        fade_out: play.fade_out,
        stop: false,
        offset: play.offset,
    })
}

/// The shape of a stream play: it plays until cancelled (or until its source runs dry,
/// with [`OnEmpty::Stop`](crate::OnEmpty::Stop)); a region, repetitions or an interval
/// need a buffer.
fn stream_shape<P>(play: &Play<P>) -> Result<Shape, Error> {
    if play.region.is_some() || play.interval.is_some() || play.repeat != Repeat::ONCE {
        return Err(Error::NotABuffer);
    }
    if play.fade_out > 0 {
        return Err(Error::FadeTooLong {
            fade: play.fade_out,
            frames: u64::MAX,
        });
    }
    Ok(Shape {
        // One endless repetition of an endless region: the stream is read in order.
        region_start: 0,
        region_len: u64::MAX,
        total: None,
        interval: None,
        repetitions: None,
        gain: play.gain,
        fade_in: play.fade_in,
        fade_out: 0,
        stop: play.on_empty == crate::OnEmpty::Stop,
        offset: 0,
    })
}

/// The body of a checked transfer: its frame count and kernel layout.
fn transfer_body<B>(
    buffer: B,
    samples: usize,
    map: ChannelMap,
    channels: u16,
    playback: bool,
    shape: Option<Shape>,
) -> Body<B> {
    let frames = (samples / map.len()) as u64;
    Body::Transfer {
        frames,
        layout: Layout::of(&map, channels, playback),
        buffer,
        map,
        shape: shape.unwrap_or(Shape::whole(frames)),
    }
}

/// A command without a buffer, which either engine half takes.
#[derive(Clone, Copy, Debug)]
enum Control {
    Cancel(u64, Ending),
    Gain(Gain, f32, u64),
    Stats,
}

impl Control {
    fn command<B>(self, id: ActionId, at: At, late: Late, group: GroupMark) -> Command<B> {
        let body = match self {
            Control::Cancel(target_seq, ending) => Body::Cancel { target_seq, ending },
            Control::Gain(target, gain, ramp) => Body::Gain { target, gain, ramp },
            Control::Stats => Body::Stats,
        };
        Command {
            id,
            at,
            after_end: None,
            late,
            group,
            body,
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

fn into_completion<B, P, R>(done: Done<B>, wrap: fn(B) -> Payload<P, R>) -> Completion<P, R> {
    Completion {
        id: done.id,
        kind: done.kind,
        requested: done.requested,
        late_by: done.late_by,
        actual_start: done.actual_start,
        frames: done.frames,
        skipped: done.skipped,
        ended_at: done.ended_at,
        end: done.end,
        stats: done.stats,
        payload: match done.payload {
            HalfPayload::None => Payload::None,
            HalfPayload::Buffer(b) => wrap(b),
            HalfPayload::Stats(s) => Payload::Stats(s),
        },
    }
}

impl<'a, P, R, const A: usize> Controller<'a, P, R, A>
where
    P: PlaySource,
    R: RecordTarget,
{
    pub(crate) fn new(
        config: StreamConfig,
        stream: StreamTag,
        output: Port<'a, P, A>,
        input: Port<'a, R, A>,
        meters: [&'a MeterBank; 2],
        signal: Signal,
    ) -> Self {
        Self {
            config,
            stream,
            output,
            input,
            meters,
            next_seq: 0,
            signal,
        }
    }

    /// The stream's channel counts.
    pub fn config(&self) -> StreamConfig {
        self.config
    }

    /// The peak and RMS of one channel of `direction` since the previous call for that
    /// channel: the output as sent to the device (after master gains and protection), the
    /// input as it arrived. Lock-free: the audio side never waits for it. `None` for a
    /// channel the stream lacks or beyond [`MAX_METER_CHANNELS`](crate::MAX_METER_CHANNELS).
    ///
    /// ```
    /// use rtmix_core::{ChannelMap, Direction, Play, Queues, StreamConfig};
    /// let mut q: Queues<Vec<f32>, Vec<f32>, 4, 4> = Queues::new();
    /// let (mut ctl, mut engine) = q.split(StreamConfig::output(2)).unwrap();
    /// ctl.play(Play::new(vec![0.5, -1.0, 0.5, -1.0], ChannelMap::new(&[1]).unwrap())).unwrap();
    /// engine.output.process(&mut [0.0; 16]); // 8 frames
    /// let level = ctl.meter(Direction::Output, 1).unwrap();
    /// assert_eq!((level.peak, level.frames), (1.0, 8));
    /// assert!((level.rms - (2.5f32 / 8.0).sqrt()).abs() < 1e-6);
    /// assert_eq!(ctl.meter(Direction::Output, 1).unwrap().frames, 0); // read resets
    /// assert_eq!(ctl.meter(Direction::Output, 2), None);
    /// ```
    pub fn meter(&mut self, direction: Direction, channel: u16) -> Option<Level> {
        let (channels, bank) = match direction {
            Direction::Output => (self.output.channels, self.meters[0]),
            Direction::Input => (self.input.channels, self.meters[1]),
        };
        if channel >= channels {
            return None;
        }
        bank.read(usize::from(channel))
    }

    /// Admitted actions of `direction` whose completion has not been taken yet (at most
    /// `A`).
    ///
    /// ```
    /// use rtmix_core::{At, Direction, Queues, StreamConfig};
    /// let mut q: Queues<Vec<f32>, Vec<f32>, 2, 4> = Queues::new();
    /// let (mut ctl, _engine) = q.split(StreamConfig::output(1)).unwrap();
    /// ctl.fetch_stats(Direction::Output, At::Asap).unwrap();
    /// assert_eq!(ctl.outstanding(Direction::Output), 1);
    /// ```
    pub fn outstanding(&self, direction: Direction) -> usize {
        match direction {
            Direction::Output => self.output.st.outstanding.len(),
            Direction::Input => self.input.st.outstanding.len(),
        }
    }

    /// True while `id` is admitted and its completion has not been taken.
    pub fn is_outstanding(&self, id: ActionId) -> bool {
        if id.stream() != self.stream {
            return false;
        }
        match id.direction() {
            Direction::Output => self.output.is_outstanding(id.seq()),
            Direction::Input => self.input.is_outstanding(id.seq()),
        }
    }

    fn issue(&mut self, direction: Direction) -> ActionId {
        let id = ActionId::new(self.next_seq, self.stream, direction);
        self.next_seq += 1;
        id
    }

    /// Schedules a play on the output.
    ///
    /// Refused (with the request handed back) for a map channel the output lacks, a
    /// buffer that is not whole frames, a NaN or infinite sample, an end past `u64::MAX`,
    /// full capacity or a full queue.
    pub fn play(&mut self, play: Play<P>) -> Result<ActionId, Rejected<Play<P>>> {
        let checked = self
            .check_play(&play)
            .and_then(|shape| self.output.room(1, 0).map(|()| shape));
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
            .and_then(|()| self.input.room(1, 0));
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
    /// use rtmix_core::{At, ChannelMap, Ending, Late, Play, Queues, Repeat, StreamConfig};
    /// let mut q: Queues<Vec<f32>, Vec<f32>, 4, 4> = Queues::new();
    /// let (mut ctl, mut engine) = q.split(StreamConfig::output(1)).unwrap();
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
        self.port_room(target.direction(), 0, 1)?;
        Ok(self.send_cancel(target, at, late, ending, GroupMark::Single))
    }

    /// Changes a play's gain, or an output channel's master gain, at frame `at`: from its
    /// value there it ramps linearly to `gain` over `ramp` frames (0: at once), gain
    /// `from + (gain - from) * k / ramp` at frame `at + k`. The ramp is exact to the
    /// sample: the block is split at `at`.
    ///
    /// ```
    /// use rtmix_core::{At, ChannelMap, GainTarget, Late, Play, Queues, StreamConfig};
    /// let mut q: Queues<Vec<f32>, Vec<f32>, 4, 4> = Queues::new();
    /// let (mut ctl, mut engine) = q.split(StreamConfig::output(1)).unwrap();
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
        self.output.room(1, 0)?;
        Ok(self.send_gain(gain_target, gain, ramp, at, late, GroupMark::Single))
    }

    /// Takes and resets the stats of one direction at the block boundary at or before
    /// frame `at` (stats are kept per block). The completion carries them.
    pub fn fetch_stats(&mut self, direction: Direction, at: At) -> Result<ActionId, Error> {
        self.port_exists(direction)?;
        self.check_at(at, direction)?;
        self.port_room(direction, 1, 0)?;
        Ok(self.send_stats(direction, at, GroupMark::Single))
    }

    /// Submits several commands atomically: all are admitted or none is (the members come
    /// back in [`Rejected`]), and each engine half starts its members together, so members
    /// at [`At::Asap`] share one frame per direction and none can be separated by a block
    /// boundary.
    ///
    /// ```
    /// use rtmix_core::{At, ChannelMap, Member, Play, Queues, Record, StreamConfig};
    /// let mut q: Queues<Vec<f32>, Vec<f32>, 8, 8> = Queues::new();
    /// let (mut ctl, mut engine) = q.split(StreamConfig::duplex(1, 1)).unwrap();
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
    /// use rtmix_core::{ChannelMap, Member, Play, Queues, StreamConfig};
    /// let mut q: Queues<Vec<f32>, Vec<f32>, 8, 8> = Queues::new();
    /// let (mut ctl, _engine) = q.split(StreamConfig::output(1)).unwrap();
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
                let shape = play_shape(&p).unwrap_or(Shape::whole(p.frames()));
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

    fn check_group(&self, members: &[Member<P, R>]) -> Result<(), Error> {
        if members.is_empty() {
            return Err(Error::EmptyGroup);
        }
        // [direction][0: others, 1: cancels]
        let mut counts = [[0usize; 2]; 2];
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
        }
        self.output.room(counts[0][0], counts[0][1])?;
        self.input.room(counts[1][0], counts[1][1])
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

    fn check_play(&self, play: &Play<P>) -> Result<Shape, Error> {
        check_transfer(&play.map, play.buffer.buffer(), self.output.channels, true)?;
        self.check_at(play.at, Direction::Output)?;
        play_shape(play)
    }

    fn check_record(&self, record: &Record<R>) -> Result<(), Error> {
        check_transfer(
            &record.map,
            record.buffer.buffer(),
            self.input.channels,
            false,
        )?;
        self.check_at(record.at, Direction::Input)?;
        let frames = record.buffer.buffer().map(|_| record.frames());
        check_end(record.at, frames)
    }

    fn check_gain(&self, target: GainTarget, gain: f32, at: At) -> Result<Gain, Error> {
        self.output.exists()?;
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
                let channels = self.output.channels.min(MAX_MASTER_CHANNELS as u16);
                if channel >= channels {
                    return Err(Error::ChannelOutOfRange { channel, channels });
                }
            }
        }
        Ok(Gain::from(target))
    }

    fn port_exists(&self, direction: Direction) -> Result<(), Error> {
        match direction {
            Direction::Output => self.output.exists(),
            Direction::Input => self.input.exists(),
        }
    }

    fn port_room(&self, direction: Direction, others: usize, cancels: usize) -> Result<(), Error> {
        match direction {
            Direction::Output => self.output.room(others, cancels),
            Direction::Input => self.input.room(others, cancels),
        }
    }

    fn send_play(&mut self, play: Play<P>, shape: Shape, group: GroupMark) -> ActionId {
        let id = self.issue(Direction::Output);
        let samples = play.buffer.buffer().map_or(0, <[f32]>::len);
        let channels = self.output.channels;
        self.output.send(Command {
            id,
            at: play.at,
            after_end: None,
            late: play.late,
            group,
            body: transfer_body(play.buffer, samples, play.map, channels, true, Some(shape)),
        });
        id
    }

    fn send_record(&mut self, record: Record<R>, group: GroupMark) -> ActionId {
        let id = self.issue(Direction::Input);
        let samples = record.buffer.buffer().map_or(0, <[f32]>::len);
        let channels = self.input.channels;
        // A stream records until cancelled (or its sink runs full, with `OnFull::Stop`).
        let shape = record.buffer.buffer().is_none().then_some(Shape {
            region_len: u64::MAX,
            total: None,
            repetitions: None,
            stop: record.on_full == crate::OnFull::Stop,
            ..Shape::whole(0)
        });
        self.input.send(Command {
            id,
            at: record.at,
            after_end: None,
            late: record.late,
            group,
            body: transfer_body(record.buffer, samples, record.map, channels, false, shape),
        });
        id
    }

    fn send_cancel(
        &mut self,
        target: ActionId,
        at: At,
        late: Late,
        ending: Ending,
        group: GroupMark,
    ) -> ActionId {
        let direction = target.direction();
        let id = self.issue(direction);
        let control = Control::Cancel(target.seq(), ending);
        self.send_control(direction, id, at, late, group, control);
        id
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
        let id = self.issue(Direction::Output);
        let control = Control::Gain(target, gain, ramp);
        self.send_control(Direction::Output, id, at, late, group, control);
        id
    }

    fn send_stats(&mut self, direction: Direction, at: At, group: GroupMark) -> ActionId {
        let id = self.issue(direction);
        self.send_control(direction, id, at, Late::StartNow, group, Control::Stats);
        id
    }

    /// Sends a command that carries no buffer, to either direction's queue.
    fn send_control(
        &mut self,
        direction: Direction,
        id: ActionId,
        at: At,
        late: Late,
        group: GroupMark,
        control: Control,
    ) {
        match direction {
            Direction::Output => self.output.send(control.command(id, at, late, group)),
            Direction::Input => self.input.send(control.command(id, at, late, group)),
        }
    }

    /// The completion of `id`, if it has arrived. Taking it frees its slot. An id of
    /// another stream gives `None`.
    pub fn take(&mut self, id: ActionId) -> Option<Completion<P, R>> {
        if id.stream() != self.stream {
            return None;
        }
        match id.direction() {
            Direction::Output => self
                .output
                .take(id.seq())
                .map(|d| into_completion(d, Payload::Played)),
            Direction::Input => self
                .input
                .take(id.seq())
                .map(|d| into_completion(d, Payload::Recorded)),
        }
    }

    /// The oldest arrived completion of either direction (output first), if any.
    pub fn try_next(&mut self) -> Option<Completion<P, R>> {
        if let Some(d) = self.output.next() {
            return Some(into_completion(d, Payload::Played));
        }
        self.input
            .next()
            .map(|d| into_completion(d, Payload::Recorded))
    }
}

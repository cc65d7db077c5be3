//! A timeline (AMIO's playspec, done right): a set of entries, each a clip placed at a
//! position and maybe repeating at an exact interval, played by a transport that can start,
//! stop and locate at exact frames, and switched atomically to a new set at an exact frame.
//!
//! It lives on the control side and speaks to the engine only through the controller: a
//! switch is one [`group`](crate::Controller::group_vec) that ends the running entries and
//! starts the new ones at the same frame, each started part-way
//! ([`Play::from_frame`](crate::Play::from_frame)) where it is already under way on the
//! timeline, so every entry is in phase however late the switch arrives (`Late::Skip`).
//!
//! Each switch, start, stop or locate returns the id of a marker: an empty play at its
//! frame. Its completion says what became of it: [`EndReason::Finished`] at `ended_at` if
//! it took effect, [`EndReason::Cancelled`] if a later one superseded it before its frame.
//!
//! [`EndReason::Finished`]: crate::EndReason::Finished
//! [`EndReason::Cancelled`]: crate::EndReason::Cancelled

use crate::home::Home;
use crate::{
    ActionId, At, ChannelMap, Controller, Ending, Error, Interval, Late, Member, Play, PlaySource,
    RecordTarget, Rejected, Repeat,
};

/// One clip on a timeline.
#[derive(Clone, Debug)]
pub struct Entry<P> {
    /// The clip's buffer.
    pub buffer: P,
    /// Its channel map and per-channel gains.
    pub map: ChannelMap,
    /// The buffer frames it plays (`None`: all).
    pub region: Option<(u64, u64)>,
    /// The timeline frame where it (its first repetition) starts.
    pub position: u64,
    /// Repeat forever, a repetition every interval (exact, even fractional); `None` plays
    /// it once.
    pub every: Option<Interval>,
    /// Its gain.
    pub gain: f32,
}

impl<P> Entry<P> {
    /// The whole buffer once at `position`, at unity gain.
    pub fn new(buffer: P, map: ChannelMap, position: u64) -> Self {
        Self {
            buffer,
            map,
            region: None,
            position,
            every: None,
            gain: 1.0,
        }
    }
}

/// Where the transport is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Transport {
    /// Stopped at this timeline frame.
    Stopped(u64),
    /// Rolling: timeline frame 0 is (or was, or would be) at this stream frame.
    Rolling(i128),
}

/// A set of entries and a transport. `N` bounds the commands of one change: the plays it
/// ends (every play of the timeline whose completion has not been taken yet), the plays it
/// starts and two markers. So take the completions, and a timeline holds up to
/// `(N - 2) / 2` entries; the controller needs as many free slots.
///
/// ```
/// use rtmix_core::{ChannelMap, Entry, Interval, StreamCapacity, StreamConfig, Timeline};
/// static CLICK: [f32; 2] = [1.0, 0.5];
/// let (mut ctl, mut engine) =
///     rtmix_core::open::<&'static [f32], Vec<f32>>(StreamConfig::output(1), StreamCapacity::default()).unwrap();
/// let mut tl: Timeline<&'static [f32], 8> = Timeline::new(&[]);
/// let mut click = Entry::new(&CLICK[..], ChannelMap::new(&[0]).unwrap(), 2);
/// click.every = Some(Interval::new(10, 3).unwrap()); // every 3⅓ frames
/// tl.switch(&mut ctl, [click].into_iter().collect(), 0).unwrap();
/// tl.play(&mut ctl, 4, 0).unwrap(); // timeline frame 0 at stream frame 4
/// let mut out = [0.0f32; 16];
/// engine.output.process(&mut out);
/// // Clicks at timeline frames 2, 5, 8, 12 (2 + floor(k * 10 / 3)): stream frames 6, 9, 12.
/// assert_eq!(&out[4..14], &[0.0, 0.0, 1.0, 0.5, 0.0, 1.0, 0.5, 0.0, 1.0, 0.5]);
/// ```
#[derive(Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timeline<P, const N: usize> {
    entries: heapless::Vec<Entry<P>, N>,
    /// Every play this timeline started whose completion has not been taken: a change ends
    /// them all at its frame (an earlier set's end may still be pending, and a change that
    /// comes first on the timeline must end it sooner).
    playing: heapless::Vec<ActionId, N>,
    /// The last marker, to supersede if it has not taken effect.
    marker: Option<ActionId>,
    /// A buffer for the markers (they play none of it).
    empty: P,
    transport: Transport,
}

type Members<P, R, const N: usize> = heapless::Vec<Member<P, R>, N>;

impl<P: PlaySource + Clone, const N: usize> Timeline<P, N> {
    /// An empty timeline, stopped at frame 0. `empty` is any buffer the markers can carry
    /// (an empty slice is best).
    pub fn new(empty: P) -> Self {
        Self {
            entries: heapless::Vec::new(),
            playing: heapless::Vec::new(),
            marker: None,
            empty,
            transport: Transport::Stopped(0),
        }
    }

    /// The entries.
    pub fn entries(&self) -> &[Entry<P>] {
        &self.entries
    }

    /// The timeline frame at stream frame `frame` while rolling (`None` while stopped, or
    /// before timeline frame 0).
    pub fn position_at(&self, frame: u64) -> Option<u64> {
        match self.transport {
            Transport::Rolling(zero) => u64::try_from(i128::from(frame) - zero).ok(),
            Transport::Stopped(_) => None,
        }
    }

    /// Switches to `entries` at stream frame `at`, atomically: the running entries end and
    /// the new ones start at `at`, each in phase with the timeline. While stopped, the new
    /// entries wait for [`play`](Self::play).
    pub fn switch<R: RecordTarget, H: Home>(
        &mut self,
        ctl: &mut Controller<P, R, H>,
        entries: heapless::Vec<Entry<P>, N>,
        at: u64,
    ) -> Result<ActionId, Error> {
        let transport = self.transport;
        self.change(ctl, at, transport, &entries)?;
        self.entries = entries;
        self.marker_id()
    }

    /// Starts the transport at stream frame `at` from timeline frame `position`.
    pub fn play<R: RecordTarget, H: Home>(
        &mut self,
        ctl: &mut Controller<P, R, H>,
        at: u64,
        position: u64,
    ) -> Result<ActionId, Error> {
        let rolling = Transport::Rolling(i128::from(at) - i128::from(position));
        let entries = self.entries.clone();
        self.change(ctl, at, rolling, &entries)?;
        self.marker_id()
    }

    /// Stops the transport at stream frame `at`: every entry stops dead there.
    pub fn stop<R: RecordTarget, H: Home>(
        &mut self,
        ctl: &mut Controller<P, R, H>,
        at: u64,
    ) -> Result<ActionId, Error> {
        let position = self.position_at(at).unwrap_or(match self.transport {
            Transport::Stopped(p) => p,
            Transport::Rolling(_) => 0,
        });
        let entries = self.entries.clone();
        self.change(ctl, at, Transport::Stopped(position), &entries)?;
        self.marker_id()
    }

    /// Moves the transport to timeline frame `position` at stream frame `at` (it keeps
    /// rolling if it was).
    pub fn locate<R: RecordTarget, H: Home>(
        &mut self,
        ctl: &mut Controller<P, R, H>,
        at: u64,
        position: u64,
    ) -> Result<ActionId, Error> {
        let transport = match self.transport {
            Transport::Rolling(_) => Transport::Rolling(i128::from(at) - i128::from(position)),
            Transport::Stopped(_) => Transport::Stopped(position),
        };
        let entries = self.entries.clone();
        self.change(ctl, at, transport, &entries)?;
        self.marker_id()
    }

    fn marker_id(&self) -> Result<ActionId, Error> {
        self.marker.ok_or(Error::EmptyGroup)
    }

    /// One atomic group at `at`: end what runs, supersede the last marker, a new marker,
    /// and (rolling) the plays of `entries`. Nothing changes if the controller refuses it.
    fn change<R: RecordTarget, H: Home>(
        &mut self,
        ctl: &mut Controller<P, R, H>,
        at: u64,
        transport: Transport,
        entries: &[Entry<P>],
    ) -> Result<(), Error> {
        let mut members: Members<P, R, N> = heapless::Vec::new();
        let full = Error::Capacity { slots: N };
        self.playing.retain(|&id| ctl.is_outstanding(id));
        for &target in self.playing.iter().chain(&self.marker) {
            let cut = Member::Cancel {
                target,
                at: At::Frame(at),
                late: Late::Skip,
                ending: Ending::Cut,
            };
            members.push(cut).map_err(|_| full)?;
        }
        // The marker: an empty play at `at`, first of the new set.
        let marker = Play::new(self.empty.clone(), ChannelMap::contiguous(0, 1)?)
            .region(0, 0)
            .at(At::Frame(at))
            .late(Late::Skip);
        let marker_index = members.len();
        members.push(Member::Play(marker)).map_err(|_| full)?;
        if let Transport::Rolling(zero) = transport {
            for entry in entries {
                if let Some(play) = entry_play(entry, zero, at) {
                    members.push(Member::Play(play)).map_err(|_| full)?;
                }
            }
        }
        let ids = ctl
            .group_vec(members)
            .map_err(|Rejected { error, .. }| error)?;
        self.marker = ids.get(marker_index).copied();
        for &id in ids.iter().skip(marker_index + 1) {
            // Room: the group held a cancel for each play still listed, the marker and
            // the new plays, at most N in all.
            self.playing.push(id).ok();
        }
        self.transport = transport;
        Ok(())
    }
}

/// The play of `entry` from stream frame `at`, with timeline frame 0 at stream frame
/// `zero`: from its own start if that is at or after `at`, else part-way, in phase. `None`
/// if it has already played out.
fn entry_play<P: PlaySource + Clone>(entry: &Entry<P>, zero: i128, at: u64) -> Option<Play<P>> {
    let start = zero + i128::from(entry.position);
    let (frame, offset) = if start >= i128::from(at) {
        (u64::try_from(start).ok()?, 0)
    } else {
        (at, u64::try_from(i128::from(at) - start).ok()?)
    };
    let mut play = Play::new(entry.buffer.clone(), entry.map.clone())
        .gain(entry.gain)
        .at(At::Frame(frame))
        .late(Late::Skip)
        .from_frame(offset);
    if let Some((a, b)) = entry.region {
        play = play.region(a, b);
    }
    if let Some(every) = entry.every {
        play = play.interval(every).repeat(Repeat::Forever);
    }
    // A single play that ended before `at` has nothing left.
    (play.duration() != Some(0)).then_some(play)
}

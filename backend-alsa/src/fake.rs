//! A scripted PCM for the unit tests: a ring buffer whose hardware pointer moves with a
//! clock that the test (and the loop's own waits and sleeps) moves, frame by frame, with
//! alsa-lib's and the kernel's rules for xruns, linked groups, suspends and prepares. What
//! it played, and when, is logged, and what it captures names the instant it was
//! captured, so that a test can check that every engine frame was at its instant.
//!
//! Time is counted in frames since the rig was made (`t`), at one rate for all its PCMs.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use alsa::pcm::State;

use crate::pcm::{Mmap, Pcm, Status, EAGAIN, EPIPE, ESTRPIPE};

const EBADFD: i32 = 77;
const EBUSY: i32 = 16;
const ENOSYS: i32 = 38;

/// How fresh a status's position is beside its timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stamps {
    /// The timestamp is when the position was true (the kernel: the status reads the
    /// hardware pointer and stamps it).
    Fresh,
    /// The timestamp is the time of the status call, the position that of the last
    /// pointer step (alsa-lib's ioplug: the `jack` plugin).
    Stale,
}

/// One PCM of a rig.
#[derive(Debug)]
struct Stream {
    playback: bool,
    channels: usize,
    buffer: u64,
    avail_min: u64,
    wake_late: u64,
    /// Frames the hardware pointer moves at a time.
    step: u64,
    stamps: Stamps,
    state: State,
    hw: u64,
    appl: u64,
    ring: Vec<f32>,
    /// When the pointer last moved (or the stream started).
    last_step: u64,
    /// Linked streams share a group.
    group: Option<usize>,
    /// Scripted: the pointer stops at `.0` for `.1` frames, with no error.
    freezes: Vec<(u64, u64)>,
    /// Scripted: suspended at `.0`; resumes from `.1` on (`EAGAIN` before); `.2`: the
    /// driver can resume (else `ENOSYS`).
    suspend: Option<(u64, u64, bool)>,
    /// Playback: `(t, value)` of each frame played (channel 0), in order.
    played: Vec<(u64, f32)>,
    /// When each xrun happened.
    xruns: Vec<u64>,
    /// When each start happened.
    starts: Vec<u64>,
    prepares: u32,
    resumes: u32,
    /// The scripted suspend has happened.
    suspended: bool,
}

/// A clock and the PCMs it paces.
#[derive(Debug)]
pub(crate) struct Rig {
    t: Cell<u64>,
    rate: u32,
    base_ns: i128,
    streams: RefCell<Vec<Stream>>,
    /// An xrun stops the whole linked group (the kernel's rule); false models a link
    /// whose other side keeps running, so that the side that had the xrun reports it
    /// first.
    group_stop: Cell<bool>,
}

/// A PCM of a [`Rig`].
#[derive(Debug, Clone)]
pub(crate) struct FakePcm {
    rig: Rc<Rig>,
    id: usize,
}

/// How a fake PCM is set up.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Setup {
    pub(crate) playback: bool,
    pub(crate) channels: usize,
    pub(crate) period: u64,
    pub(crate) periods: u64,
    pub(crate) step: u64,
    pub(crate) stamps: Stamps,
    /// Frames between the pointer step that makes the PCM ready and `snd_pcm_wait`
    /// returning (the scheduler's latency).
    pub(crate) wake_late: u64,
}

impl Rig {
    pub(crate) fn new(rate: u32) -> Rc<Self> {
        Rc::new(Self {
            // Not at 0, so that no instant is the epoch by chance.
            t: Cell::new(1000),
            rate,
            base_ns: crate::pcm::monotonic_nanos(),
            streams: RefCell::default(),
            group_stop: Cell::new(true),
        })
    }

    /// Adds a PCM, prepared.
    pub(crate) fn pcm(self: &Rc<Self>, setup: Setup) -> FakePcm {
        let buffer = setup.period * setup.periods;
        let mut streams = self.streams.borrow_mut();
        streams.push(Stream {
            playback: setup.playback,
            channels: setup.channels,
            buffer,
            avail_min: setup.period,
            wake_late: setup.wake_late,
            step: setup.step,
            stamps: setup.stamps,
            state: State::Prepared,
            hw: 0,
            appl: 0,
            ring: vec![0.0; usize::try_from(buffer).unwrap() * setup.channels],
            last_step: 0,
            group: None,
            freezes: Vec::new(),
            suspend: None,
            played: Vec::new(),
            xruns: Vec::new(),
            starts: Vec::new(),
            prepares: 0,
            resumes: 0,
            suspended: false,
        });
        FakePcm {
            rig: self.clone(),
            id: streams.len() - 1,
        }
    }

    /// Links `a` and `b` (`snd_pcm_link`): they start, stop and prepare together.
    pub(crate) fn link(&self, a: &FakePcm, b: &FakePcm) {
        let mut streams = self.streams.borrow_mut();
        streams[a.id].group = Some(a.id);
        streams[b.id].group = Some(a.id);
    }

    /// Whether an xrun stops the whole linked group (the default, as the kernel does).
    pub(crate) fn set_group_stop(&self, on: bool) {
        self.group_stop.set(on);
    }

    pub(crate) fn now(&self) -> u64 {
        self.t.get()
    }

    fn nanos(&self, t: u64) -> i128 {
        self.base_ns
            + (i128::from(t) * 1_000_000_000 + i128::from(self.rate) / 2) / i128::from(self.rate)
    }

    /// The PCMs of `id`'s group (itself alone when unlinked).
    fn group(streams: &[Stream], id: usize) -> Vec<usize> {
        match streams[id].group {
            Some(g) => (0..streams.len())
                .filter(|&i| streams[i].group == Some(g))
                .collect(),
            None => vec![id],
        }
    }

    /// When `s`'s pointer moves next, if it runs.
    fn next_step(s: &Stream) -> Option<u64> {
        if s.state != State::Running {
            return None;
        }
        let mut at = s.last_step + s.step;
        for &(from, len) in &s.freezes {
            if from > s.last_step && from <= at {
                at += len;
            }
        }
        Some(at)
    }

    /// The instant frame `j` of the step that began at `from` passed the converter.
    fn instant(s: &Stream, from: u64, j: u64) -> u64 {
        let mut t = from + j;
        for &(start, len) in &s.freezes {
            if start > from && start <= t {
                t += len;
            }
        }
        t
    }

    /// Moves every PCM to the rig's time, event by event.
    fn advance(&self) {
        let now = self.t.get();
        let mut streams = self.streams.borrow_mut();
        loop {
            // Suspends first: they stop a stream before its next step.
            for i in 0..streams.len() {
                if let Some((at, _, _)) = streams[i].suspend {
                    if at <= now
                        && matches!(streams[i].state, State::Running | State::Prepared)
                        && !streams[i].suspended
                    {
                        for g in Self::group(&streams, i) {
                            streams[g].state = State::Suspended;
                        }
                        streams[i].suspended = true;
                    }
                }
            }
            let next = (0..streams.len())
                .filter_map(|i| Some((Self::next_step(&streams[i])?, i)))
                .filter(|&(at, _)| at <= now)
                .min();
            let Some((at, i)) = next else { break };
            let s = &mut streams[i];
            let from = s.last_step;
            s.last_step = at;
            let ch = s.channels;
            let buffer = s.buffer;
            let xrun = if s.playback {
                let queued = s.appl - s.hw;
                let played = queued.min(s.step);
                for j in 0..played {
                    let slot = usize::try_from((s.hw + j) % buffer).unwrap() * ch;
                    let value = s.ring[slot];
                    let when = Self::instant(s, from, j);
                    s.played.push((when, value));
                }
                s.hw += played;
                s.appl == s.hw
            } else {
                for j in 0..s.step {
                    let slot = usize::try_from((s.hw + j) % buffer).unwrap() * ch;
                    let when = Self::instant(s, from, j);
                    // Names the instant it was captured at (exact in f32 below 2^24).
                    s.ring[slot..slot + ch].fill((when + 1) as f32);
                }
                s.hw += s.step;
                s.hw - s.appl >= buffer
            };
            if xrun {
                s.xruns.push(at);
                s.state = State::XRun;
                let group = if self.group_stop.get() {
                    Self::group(&streams, i)
                } else {
                    vec![i]
                };
                for g in group {
                    if streams[g].state == State::Running {
                        streams[g].state = State::XRun;
                    }
                }
            }
        }
    }

    fn with<T>(&self, id: usize, f: impl FnOnce(&mut Vec<Stream>, usize) -> T) -> T {
        self.advance();
        f(&mut self.streams.borrow_mut(), id)
    }

    /// `(t, value)` of each frame played by `pcm`.
    pub(crate) fn played(&self, pcm: &FakePcm) -> Vec<(u64, f32)> {
        self.streams.borrow()[pcm.id].played.clone()
    }

    /// When `pcm` had its xruns.
    pub(crate) fn xruns(&self, pcm: &FakePcm) -> Vec<u64> {
        self.streams.borrow()[pcm.id].xruns.clone()
    }

    /// When `pcm` started.
    pub(crate) fn starts(&self, pcm: &FakePcm) -> Vec<u64> {
        self.streams.borrow()[pcm.id].starts.clone()
    }

    /// How many times `pcm` was prepared (its group's prepares included).
    pub(crate) fn prepares(&self, pcm: &FakePcm) -> u32 {
        self.streams.borrow()[pcm.id].prepares
    }

    /// How many times `snd_pcm_resume` was called on `pcm`.
    pub(crate) fn resumes(&self, pcm: &FakePcm) -> u32 {
        self.streams.borrow()[pcm.id].resumes
    }

    /// Scripts a freeze of `pcm`'s pointer at `at` for `frames`, with no error.
    pub(crate) fn freeze(&self, pcm: &FakePcm, at: u64, frames: u64) {
        self.streams.borrow_mut()[pcm.id].freezes.push((at, frames));
    }

    /// Scripts a suspend of `pcm` at `at`, resumable `ready_after` frames later (or never
    /// resumable: `ENOSYS`, when `can_resume` is false).
    pub(crate) fn suspend(&self, pcm: &FakePcm, at: u64, ready_after: u64, can_resume: bool) {
        self.streams.borrow_mut()[pcm.id].suspend = Some((at, at + ready_after, can_resume));
    }
}

fn err(func: &'static str, errno: i32) -> alsa::Error {
    alsa::Error::new(func, -errno)
}

/// The error of a stream that cannot move frames in `state`.
fn state_error(func: &'static str, state: State) -> alsa::Error {
    match state {
        State::XRun => err(func, EPIPE),
        State::Suspended => err(func, ESTRPIPE),
        _ => err(func, EBADFD),
    }
}

impl Stream {
    fn avail(&self) -> u64 {
        if self.playback {
            self.buffer - (self.appl - self.hw)
        } else {
            self.hw - self.appl
        }
    }

    fn delay(&self) -> u64 {
        if self.playback {
            self.appl - self.hw
        } else {
            self.hw - self.appl
        }
    }
}

impl Pcm for FakePcm {
    fn avail_update(&self) -> alsa::Result<i64> {
        self.rig.with(self.id, |s, i| match s[i].state {
            State::Running | State::Prepared => Ok(i64::try_from(s[i].avail()).unwrap()),
            state => Err(state_error("snd_pcm_avail_update", state)),
        })
    }

    fn start(&self) -> alsa::Result<()> {
        let now = self.rig.now();
        self.rig.with(self.id, |s, i| {
            if s[i].state != State::Prepared {
                return Err(state_error("snd_pcm_start", s[i].state));
            }
            if s[i].playback && s[i].appl == s[i].hw {
                return Err(err("snd_pcm_start", EPIPE));
            }
            for g in Rig::group(s, i) {
                if s[g].state == State::Prepared {
                    s[g].state = State::Running;
                    s[g].last_step = now;
                    s[g].starts.push(now);
                }
            }
            Ok(())
        })
    }

    fn prepare(&self) -> alsa::Result<()> {
        self.rig.with(self.id, |s, i| {
            let group = Rig::group(s, i);
            if group.iter().any(|&g| s[g].state == State::Running) {
                return Err(err("snd_pcm_prepare", EBUSY));
            }
            for g in group {
                s[g].state = State::Prepared;
                s[g].hw = s[g].appl;
                s[g].prepares += 1;
            }
            Ok(())
        })
    }

    fn resume(&self) -> alsa::Result<()> {
        let now = self.rig.now();
        self.rig.with(self.id, |s, i| {
            s[i].resumes += 1;
            if s[i].state != State::Suspended {
                return Err(err("snd_pcm_resume", EBADFD));
            }
            let (_, ready, can) = s[i].suspend.expect("suspended by script");
            if !can {
                return Err(err("snd_pcm_resume", ENOSYS));
            }
            if now < ready {
                return Err(err("snd_pcm_resume", EAGAIN));
            }
            for g in Rig::group(s, i) {
                s[g].state = State::Running;
                s[g].last_step = now;
            }
            Ok(())
        })
    }

    fn stop(&self) -> alsa::Result<()> {
        self.rig.with(self.id, |s, i| {
            for g in Rig::group(s, i) {
                s[g].state = State::Setup;
            }
            Ok(())
        })
    }

    fn wait(&self, timeout_ms: u32) -> alsa::Result<bool> {
        let deadline = self.rig.now() + u64::from(timeout_ms) * u64::from(self.rig.rate) / 1000;
        loop {
            let (state, ready) = self
                .rig
                .with(self.id, |s, i| (s[i].state, s[i].avail() >= s[i].avail_min));
            match state {
                State::Running | State::Prepared if ready => {
                    let late = self.rig.streams.borrow()[self.id].wake_late;
                    if late > 0 && state == State::Running {
                        self.rig.t.set(self.rig.now() + late);
                    }
                    return Ok(true);
                }
                State::Running | State::Prepared => {}
                state => return Err(state_error("snd_pcm_wait", state)),
            }
            let next = {
                let streams = self.rig.streams.borrow();
                let steps = streams.iter().filter_map(Rig::next_step);
                let suspends = streams
                    .iter()
                    .filter(|s| !s.suspended)
                    .filter_map(|s| s.suspend.map(|(at, _, _)| at));
                steps
                    .chain(suspends)
                    .filter(|&at| at > self.rig.now())
                    .min()
            };
            match next {
                Some(at) if at <= deadline => self.rig.t.set(at),
                _ => {
                    self.rig.t.set(deadline);
                    return Ok(false);
                }
            }
        }
    }

    fn state(&self) -> State {
        self.rig.with(self.id, |s, i| s[i].state)
    }

    fn delay(&self) -> alsa::Result<i64> {
        self.rig.with(self.id, |s, i| match s[i].state {
            State::Running | State::Prepared => Ok(i64::try_from(s[i].delay()).unwrap()),
            state => Err(state_error("snd_pcm_delay", state)),
        })
    }

    fn status(&self) -> alsa::Result<Status> {
        let now = self.rig.now();
        let (state, delay, at) = self.rig.with(self.id, |s, i| {
            let s = &s[i];
            let at = match (s.state, s.stamps) {
                (State::Running, Stamps::Fresh) => s.last_step,
                _ => now,
            };
            (s.state, s.delay(), at)
        });
        Ok(Status {
            state,
            delay: i64::try_from(delay).unwrap(),
            at: Some(self.rig.nanos(at)),
        })
    }

    fn now(&self) -> i128 {
        self.rig.nanos(self.rig.now())
    }

    fn sleep(&self, duration: Duration) {
        let frames =
            (duration.as_nanos() * u128::from(self.rig.rate) + 500_000_000) / 1_000_000_000;
        self.rig
            .t
            .set(self.rig.now() + u64::try_from(frames).unwrap());
    }
}

impl Mmap<f32> for FakePcm {
    fn mmap(&self, frames: usize, f: impl FnOnce(&mut [f32]) -> usize) -> alsa::Result<usize> {
        self.rig.advance();
        let mut streams = self.rig.streams.borrow_mut();
        let s = &mut streams[self.id];
        if !matches!(s.state, State::Running | State::Prepared) {
            return Err(state_error("snd_pcm_mmap_begin", s.state));
        }
        let contiguous = s.buffer - s.appl % s.buffer;
        let n = u64::try_from(frames)
            .unwrap()
            .min(s.avail())
            .min(contiguous);
        let ch = s.channels;
        let first = usize::try_from(s.appl % s.buffer).unwrap() * ch;
        let len = usize::try_from(n).unwrap() * ch;
        let mut area = s.ring[first..first + len].to_vec();
        // The closure runs with the rig released, as it may not call back into it.
        drop(streams);
        let moved = f(&mut area);
        let mut streams = self.rig.streams.borrow_mut();
        let s = &mut streams[self.id];
        assert!(moved as u64 <= n, "committed more than mapped");
        if s.playback {
            s.ring[first..first + moved * ch].copy_from_slice(&area[..moved * ch]);
        }
        s.appl += moved as u64;
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{FakePcm, Rig, Setup, Stamps};
    use crate::device::{capture_loop, play_loop, Pump};
    use crate::duplex::{DuplexEngine, Sides};
    use crate::timestamp::Timestamper;
    use crate::track::LostFrames;
    use crate::{AlsaError, DuplexReport, Granted, SampleFormat};
    use crate::{RunControl, RunReport};

    const RATE: u32 = 48_000;
    const CH: usize = 2;
    /// Frames in 100 ms, 300 ms and 1 s at 48 kHz: the stalls measured on the jack PCM.
    const LONG_STALLS: [u64; 3] = [4_800, 14_400, 48_000];

    /// An engine half that names its frames: playback renders `frame + 1` into every
    /// channel of each frame; capture keeps what it reads beside the frame it is.
    #[derive(Debug, Default)]
    struct Frames {
        clock: u64,
        lost: Vec<u64>,
        heard: Vec<(u64, f32)>,
    }

    impl LostFrames for Frames {
        fn lost(&mut self, frames: u64) {
            if frames > 0 {
                self.clock += frames;
                self.lost.push(frames);
            }
        }

        fn clock(&self) -> u64 {
            self.clock
        }
    }

    fn render(e: &mut Frames, buf: &mut [f32]) -> u64 {
        for frame in buf.chunks_exact_mut(CH) {
            frame.fill((e.clock + 1) as f32);
            e.clock += 1;
        }
        0
    }

    fn take(e: &mut Frames, buf: &[f32]) {
        for frame in buf.chunks_exact(CH) {
            e.heard.push((e.clock, frame[0]));
            e.clock += 1;
        }
    }

    /// The two halves of a duplex engine.
    #[derive(Debug, Default)]
    struct Pair {
        out: Frames,
        inp: Frames,
    }

    impl DuplexEngine for Pair {
        fn output_clock(&self) -> u64 {
            self.out.clock
        }
        fn input_clock(&self) -> u64 {
            self.inp.clock
        }
        fn output_lost(&mut self, frames: u64) {
            self.out.lost(frames);
        }
        fn input_lost(&mut self, frames: u64) {
            self.inp.lost(frames);
        }
    }

    fn setup(playback: bool, period: u64, periods: u64, step: u64) -> Setup {
        Setup {
            playback,
            channels: CH,
            period,
            periods,
            step,
            stamps: Stamps::Fresh,
            wake_late: 0,
        }
    }

    fn granted(s: &Setup) -> Granted {
        Granted {
            host: "ALSA".into(),
            device: "fake".into(),
            format: SampleFormat::F32,
            rate: RATE,
            channels: CH as u16,
            period: Some(u32::try_from(s.period).unwrap()),
            buffer: Some(u32::try_from(s.period * s.periods).unwrap()),
            time_source: rtmix_core::TimeSource::Device,
            hardware_format: None,
        }
    }

    /// `frames` at 48 kHz as a duration (which the rig's sleep turns back into exactly
    /// `frames`).
    fn span(frames: u64) -> Duration {
        Duration::from_nanos((frames * 1_000_000_000 + u64::from(RATE) / 2) / u64::from(RATE))
    }

    /// A stall of `stall` frames once `at` frames have moved, and a run of `frames`.
    fn control(frames: u64, at: u64, stall: u64) -> RunControl {
        RunControl {
            stop_after: Some(frames),
            stall: (stall > 0).then(|| (at, span(stall))),
            ..RunControl::default()
        }
    }

    /// Plays on `pcm` of `rig`: the report, the engine.
    fn play(
        pcm: &FakePcm,
        s: &Setup,
        control: &RunControl,
    ) -> (Result<RunReport, AlsaError>, Frames) {
        let stamps = Timestamper::new(RATE, alsa::Direction::Playback);
        let granted = granted(s);
        let mut engine = Frames::default();
        let pump = Pump::new(pcm, &granted, control, &stamps, CH);
        let report = play_loop(pump, pcm, &mut engine, render);
        (report, engine)
    }

    /// Records from `pcm`: the report, the engine.
    fn record(
        pcm: &FakePcm,
        s: &Setup,
        control: &RunControl,
    ) -> (Result<RunReport, AlsaError>, Frames) {
        let stamps = Timestamper::new(RATE, alsa::Direction::Capture);
        let granted = granted(s);
        let mut engine = Frames::default();
        let pump = Pump::new(pcm, &granted, control, &stamps, CH);
        let report = capture_loop(pump, pcm, &mut engine, take);
        (report, engine)
    }

    /// The engine frames that were not played at their instant (the first start's
    /// instant plus the frame), as `(frame, how many frames late)`.
    fn off_time(rig: &Rig, pcm: &FakePcm) -> Vec<(u64, i64)> {
        let t0 = rig.starts(pcm)[0];
        rig.played(pcm)
            .into_iter()
            // Silence (a lead-in) names no frame.
            .filter(|&(_, v)| v != 0.0)
            .filter_map(|(t, v)| {
                let frame = v as u64 - 1;
                let due = t0 + frame;
                (due != t).then(|| (frame, t.cast_signed() - due.cast_signed()))
            })
            .collect()
    }

    /// The engine frames that were not captured at their instant, as `(frame, how many
    /// frames off)`.
    fn off_time_captured(rig: &Rig, pcm: &FakePcm, engine: &Frames) -> Vec<(u64, i64)> {
        let t0 = rig.starts(pcm)[0];
        engine
            .heard
            .iter()
            .filter_map(|&(frame, v)| {
                let at = v as u64 - 1;
                (t0 + frame != at).then(|| (frame, at.cast_signed() - (t0 + frame).cast_signed()))
            })
            .collect()
    }

    /// Asserts that no frame of `off` (from [`off_time`] or [`off_time_captured`]) is off
    /// its instant, showing a few if some are.
    fn assert_on_time(off: &[(u64, i64)], what: &str) {
        assert!(
            off.is_empty(),
            "{what}: {} frames off their instants, the first {:?}, the last {:?}",
            off.len(),
            &off[..off.len().min(3)],
            off.last()
        );
    }

    /// The stall lengths to try against `buffer`: well inside it, a frame short of it,
    /// exactly it (the device runs dry as the loop wakes), a frame past it, and the long
    /// stalls measured on the jack PCM.
    fn stalls(buffer: u64) -> Vec<u64> {
        let mut v = vec![buffer / 2, buffer - 1, buffer, buffer + 1];
        v.extend(LONG_STALLS);
        v
    }

    /// Playback through stalls of the loop, on every period size, period count and
    /// pointer granularity tried, with the device's position as fresh as its timestamp
    /// (the kernel's status): the frames reported lost are exactly the time the buffer was
    /// dry (the stall less the full buffer the device played out, or the time from the
    /// device's xrun to its restart: both are checked), none for a stall that ends before
    /// the buffer does (no xrun at all), 0 for one that ends exactly as it does (an xrun
    /// with nothing lost); every frame played, before and after, is played at its instant
    /// (its number counts the device's frames since its first start); and the device
    /// started, and restarted, with its whole buffer queued, also when the stall leaves
    /// the write position a period into the ring (one mapping then ends at the ring's end,
    /// and the restart waits for the rest to be filled from its start).
    #[test]
    fn playback_stalls_lose_exactly_the_time_the_buffer_was_dry() {
        for period in [64u64, 256, 1024] {
            for periods in [2u64, 3, 4] {
                let buffer = period * periods;
                for (step, into) in [(1, 0), (period, 0), (1, period), (period, period)] {
                    for stall in stalls(buffer) {
                        let what = format!(
                            "period {period} x {periods}, step {step}, stall {stall} \
                             at {into} into the ring"
                        );
                        let rig = Rig::new(RATE);
                        let s = setup(true, period, periods, step);
                        let pcm = rig.pcm(s);
                        let at = 4 * buffer + into;
                        let control = control(at + 6 * buffer, at, stall);
                        let (report, engine) = play(&pcm, &s, &control);
                        let report = report.unwrap();
                        let xrun = stall >= buffer;
                        let lost = stall.saturating_sub(buffer);
                        assert_eq!(report.xruns, u64::from(xrun), "{what}: {report:?}");
                        assert_eq!(report.frames_lost_estimate, lost, "{what}: {report:?}");
                        assert_eq!(report.engine_clock, report.frames + lost, "{what}");
                        assert_eq!(engine.clock, report.engine_clock, "{what}");
                        assert_eq!(report.start_fill, Some(buffer), "{what}");
                        assert_on_time(&off_time(&rig, &pcm), &what);
                        let starts = rig.starts(&pcm);
                        if xrun {
                            // The device's own account: from running dry to its restart.
                            let dry = rig.xruns(&pcm)[0];
                            assert_eq!(starts.len(), 2, "{what}");
                            assert_eq!(starts[1] - dry, lost, "{what}");
                        } else {
                            assert_eq!(starts.len(), 1, "{what}");
                        }
                    }
                }
            }
        }
    }

    /// The end of a run lets what was queued play out, as `drain` would, then stops the
    /// device: every frame is played once, at its instant, and the loop ends the instant
    /// the device runs dry (it sleeps for exactly what is still queued, not by polling;
    /// within a step of it when the pointer moves in steps).
    /// A device that stops moving meanwhile is waited for no longer than the device
    /// timeout.
    #[test]
    fn the_end_of_a_run_plays_out_what_was_queued_then_stops() {
        for (period, periods, step) in [
            (64u64, 2u64, 1u64),
            (256, 3, 256),
            (1024, 4, 1),
            (256, 4, 64),
        ] {
            let what = format!("period {period} x {periods}, step {step}");
            let buffer = period * periods;
            let frames = 10 * buffer + 7;
            let rig = Rig::new(RATE);
            let s = setup(true, period, periods, step);
            let pcm = rig.pcm(s);
            let (report, _) = play(&pcm, &s, &control(frames, u64::MAX, 0));
            assert_eq!(report.unwrap().frames, frames, "{what}");
            let played: Vec<f32> = rig
                .played(&pcm)
                .into_iter()
                .map(|(_, v)| v)
                .filter(|&v| v != 0.0)
                .collect();
            let want: Vec<f32> = (1..=frames).map(|f| f as f32).collect();
            assert!(
                played == want,
                "{what}: {} frames played of {frames}",
                played.len()
            );
            assert_on_time(&off_time(&rig, &pcm), &what);
            let dry = *rig
                .xruns(&pcm)
                .last()
                .expect("the buffer ran dry at the end");
            // It sleeps for what the pointer says is queued, and a pointer that moves in
            // steps is up to a step stale: exact when it moves frame by frame.
            assert!(
                (dry..dry + step).contains(&rig.now()),
                "{what}: the loop ended at {}, the device ran dry at {dry}",
                rig.now()
            );
            assert_eq!(
                crate::pcm::Pcm::state(&pcm),
                alsa::pcm::State::Setup,
                "{what}: the device is stopped"
            );

            // Frozen half a period before the last frame would have played, for good.
            let rig = Rig::new(RATE);
            let pcm = rig.pcm(s);
            let t0 = rig.now();
            rig.freeze(&pcm, t0 + frames - period / 2, u64::MAX / 4);
            let control = RunControl {
                device_timeout: Duration::from_millis(500),
                ..control(frames, u64::MAX, 0)
            };
            let (report, _) = play(&pcm, &s, &control);
            assert_eq!(
                report.map(|r| r.frames),
                Ok(frames),
                "{what}: starts {:?}, now {}",
                rig.starts(&pcm),
                rig.now()
            );
            let timeout = u64::from(RATE) / 2;
            // The play-out began after the last commit, when at most a buffer and a period
            // were still to play, and sleeps at most a buffer past its limit.
            let earliest = t0 + frames - buffer - period + timeout;
            assert!(
                (earliest..=t0 + frames + timeout + buffer).contains(&rig.now()),
                "{what}: frozen, the play-out ended at {}, not within the timeout",
                rig.now()
            );
            assert_eq!(
                crate::pcm::Pcm::state(&pcm),
                alsa::pcm::State::Setup,
                "{what}: the device is stopped"
            );
        }
    }

    /// Capture through the same stalls: an overrun costs exactly the frames the device
    /// captured and could not keep (the stall: the buffer the prepare threw away and what
    /// came after it filled), a stall inside the buffer costs nothing, and every frame the
    /// engine reads was captured at its instant, before the overrun and after it.
    #[test]
    fn capture_overruns_lose_exactly_what_the_device_dropped() {
        for period in [64u64, 256, 1024] {
            for periods in [2u64, 3, 4] {
                let buffer = period * periods;
                for step in [1, period] {
                    for stall in stalls(buffer) {
                        let what =
                            format!("period {period} x {periods}, step {step}, stall {stall}");
                        let rig = Rig::new(RATE);
                        let s = setup(false, period, periods, step);
                        let pcm = rig.pcm(s);
                        let at = 4 * buffer;
                        let control = control(at + 6 * buffer, at, stall);
                        let (report, engine) = record(&pcm, &s, &control);
                        let report = report.unwrap();
                        let xrun = stall >= buffer;
                        let lost = if xrun { stall } else { 0 };
                        assert_eq!(report.xruns, u64::from(xrun), "{what}: {report:?}");
                        assert_eq!(report.frames_lost_estimate, lost, "{what}: {report:?}");
                        assert_eq!(report.engine_clock, report.frames + lost, "{what}");
                        assert_on_time(&off_time_captured(&rig, &pcm, &engine), &what);
                        assert_eq!(rig.starts(&pcm).len(), 1 + usize::from(xrun), "{what}");
                    }
                }
            }
        }
    }

    /// A position older than its timestamp (alsa-lib's ioplug, the `jack` plugin: the
    /// position moves once a period, the timestamp is the status call's, here half a
    /// period after the step that woke the loop): the frames lost are short of the truth
    /// by that staleness, within one period, never over it, for playback and capture.
    #[test]
    fn a_stale_position_costs_at_most_a_period() {
        for period in [256u64, 1024] {
            let buffer = 3 * period;
            for stall in LONG_STALLS {
                for playback in [true, false] {
                    let what = format!("period {period}, stall {stall}, playback {playback}");
                    let rig = Rig::new(RATE);
                    let s = Setup {
                        stamps: Stamps::Stale,
                        wake_late: period / 2,
                        ..setup(playback, period, 3, period)
                    };
                    let pcm = rig.pcm(s);
                    let control = control(10 * buffer, 4 * buffer, stall);
                    let (report, _) = if playback {
                        play(&pcm, &s, &control)
                    } else {
                        record(&pcm, &s, &control)
                    };
                    let report = report.unwrap();
                    // The truth: the loop woke half a period after a step and filled the
                    // buffer then (read it empty), but the device had moved on by those
                    // half a period, which its stale position did not show.
                    let late = period / 2;
                    let truth = if playback {
                        stall - buffer + late
                    } else {
                        stall + late
                    };
                    let lost = report.frames_lost_estimate;
                    assert_eq!(report.xruns, 1, "{what}");
                    assert!(
                        lost <= truth && truth - lost < period,
                        "{what}: {lost} lost, truth {truth}"
                    );
                    assert_eq!(truth - lost, late, "{what}: the staleness, exactly");
                }
            }
        }
    }

    /// A suspend (`ESTRPIPE`) of playback or capture: the loop waits for the device to
    /// come back without spinning (`snd_pcm_resume` tried with a back-off of 1, 2, 4 ...
    /// 64 ms: a dozen tries for half a second), restarts it within one back-off of its
    /// return, and reports exactly the frames the device's timeline moved meanwhile; a
    /// driver that cannot resume (`ENOSYS`) is prepared at once. Every frame played or
    /// captured is at its instant.
    #[test]
    fn a_suspend_is_waited_out_without_spinning_and_costs_its_length() {
        let (period, periods) = (256u64, 3u64);
        let buffer = period * periods;
        let away = 24_000; // 500 ms
        for playback in [true, false] {
            for can_resume in [true, false] {
                let what = format!("playback {playback}, can resume {can_resume}");
                let rig = Rig::new(RATE);
                let s = setup(playback, period, periods, 1);
                let pcm = rig.pcm(s);
                let suspended_at = rig.now() + 10 * buffer + 17;
                rig.suspend(&pcm, suspended_at, away, can_resume);
                let control = control(40 * buffer, u64::MAX, 0);
                let (report, engine) = if playback {
                    play(&pcm, &s, &control)
                } else {
                    record(&pcm, &s, &control)
                };
                let report = report.unwrap();
                assert_eq!(report.xruns, 1, "{what}");
                let starts = rig.starts(&pcm);
                assert_eq!(starts.len(), 2, "{what}");
                let resumes = rig.resumes(&pcm);
                if can_resume {
                    let back = suspended_at + away;
                    assert!(
                        starts[1] >= back && starts[1] - back <= 64 * 48,
                        "{what}: restarted at {} for {back}",
                        starts[1]
                    );
                    assert!((8..=16).contains(&resumes), "{what}: {resumes} resumes");
                } else {
                    assert_eq!(resumes, 1, "{what}");
                }
                if playback {
                    assert_on_time(&off_time(&rig, &pcm), &what);
                    // Nothing was played while the device was away. Coming back at once
                    // (no resume), the device's timeline was behind the engine by what it
                    // had queued and thrown away: that much silence went first.
                    let played = rig.played(&pcm);
                    let silence = played.iter().filter(|p| p.1 == 0.0).count() as u64;
                    if can_resume {
                        assert_eq!(silence, 0, "{what}");
                    } else {
                        assert!((1..=buffer).contains(&silence), "{what}: {silence}");
                        assert_eq!(report.frames_lost_estimate, 0, "{what}");
                    }
                    assert!(
                        played
                            .iter()
                            .all(|p| p.0 < suspended_at || p.0 >= starts[1]),
                        "{what}"
                    );
                } else {
                    assert_on_time(&off_time_captured(&rig, &pcm, &engine), &what);
                }
                assert_eq!(
                    report.engine_clock,
                    report.frames + report.frames_lost_estimate
                );
            }
        }
    }

    /// A device that never comes back from a suspend ends the loop with `NotResponding`
    /// after the timeout, having tried `snd_pcm_resume` a bounded number of times.
    #[test]
    fn a_device_that_never_resumes_is_not_responding_after_the_timeout() {
        let rig = Rig::new(RATE);
        let s = setup(true, 256, 3, 1);
        let pcm = rig.pcm(s);
        rig.suspend(&pcm, rig.now() + 10_000, u64::MAX / 4, true);
        let control = RunControl {
            device_timeout: Duration::from_millis(500),
            ..control(1_000_000, u64::MAX, 0)
        };
        let (report, _) = play(&pcm, &s, &control);
        assert!(
            matches!(report, Err(AlsaError::NotResponding { waited_ms }) if (500..600).contains(&waited_ms)),
            "{report:?}"
        );
        assert!(rig.resumes(&pcm) <= 16, "{} resumes", rig.resumes(&pcm));
    }

    /// A device that stops moving for good without an error (a sound server that died:
    /// the `jack` plugin's position freezes and its poll times out) ends playback and
    /// capture with `NotResponding` at the first look (one every wait, 100 ms) after MORE
    /// than `device_timeout` without progress: with 500 ms, the sixth, at exactly 600 ms.
    /// (Kills the progress check's `>` made `>=` or `==`, which give up at 500 ms.)
    #[test]
    fn a_device_that_stops_moving_is_not_responding_after_the_timeout() {
        for playback in [true, false] {
            let rig = Rig::new(RATE);
            let s = setup(playback, 256, 3, 256);
            let pcm = rig.pcm(s);
            rig.freeze(&pcm, rig.now() + 10_000, u64::MAX / 4);
            let control = RunControl {
                device_timeout: Duration::from_millis(500),
                ..control(1_000_000, u64::MAX, 0)
            };
            let (report, _) = if playback {
                play(&pcm, &s, &control)
            } else {
                record(&pcm, &s, &control)
            };
            assert!(
                matches!(report, Err(AlsaError::NotResponding { waited_ms: 600 })),
                "playback {playback}: {report:?}"
            );
        }
    }

    /// A device whose position stops without an error (a sound server's own xrun) for
    /// longer than the buffer: the jump is seen from position against timestamps, counted
    /// like an xrun (`jumps`, `xruns`), and its exact length reported lost, so every frame
    /// rendered after it is played at its instant; the frames queued when it began, and
    /// those moved in the transfer that saw it, are late by exactly its length (nothing
    /// can move them). A stop of a buffer or less is not counted: the documented limit.
    #[test]
    fn a_position_jump_without_an_error_is_counted_like_an_xrun() {
        for period in [256u64, 1024] {
            let buffer = 3 * period;
            for gap in [buffer, buffer + 1, 4_800, 14_400] {
                for playback in [true, false] {
                    let what = format!("period {period}, gap {gap}, playback {playback}");
                    let rig = Rig::new(RATE);
                    let s = setup(playback, period, 3, period);
                    let pcm = rig.pcm(s);
                    rig.freeze(&pcm, rig.now() + 6 * buffer + 5, gap);
                    let control = control(16 * buffer, u64::MAX, 0);
                    let (report, engine) = if playback {
                        play(&pcm, &s, &control)
                    } else {
                        record(&pcm, &s, &control)
                    };
                    let report = report.unwrap();
                    let off = if playback {
                        off_time(&rig, &pcm)
                    } else {
                        off_time_captured(&rig, &pcm, &engine)
                    };
                    if gap <= buffer {
                        assert_eq!((report.jumps, report.xruns), (0, 0), "{what}");
                        continue;
                    }
                    assert_eq!((report.jumps, report.xruns), (1, 1), "{what}: {report:?}");
                    assert_eq!(report.frames_lost_estimate, gap, "{what}");
                    assert_eq!(report.engine_clock, report.frames + gap, "{what}");
                    let g = gap.cast_signed();
                    assert!(
                        off.iter().all(|&(_, by)| by == g || by == -g),
                        "{what}: {off:?}"
                    );
                    assert!(off.len() as u64 <= buffer + period, "{what}: {}", off.len());
                    // Nothing after the frames the jump caught is off.
                    let last_off = off.iter().map(|&(f, _)| f).max().unwrap_or(0);
                    let after = if playback {
                        rig.played(&pcm).last().map_or(0, |p| p.1 as u64 - 1)
                    } else {
                        engine.heard.last().map_or(0, |h| h.0)
                    };
                    assert!(after > last_off + 4 * buffer, "{what}");
                }
            }
        }
    }

    /// Runs a duplex pair of the rig through a stall: `(report, engine)`.
    fn duplex(
        out: (&FakePcm, &Setup),
        inp: (&FakePcm, &Setup),
        linked: bool,
        control: &RunControl,
    ) -> (DuplexReport, Pair) {
        let granted = (granted(out.1), granted(inp.1));
        let stamps = (
            Timestamper::new(RATE, alsa::Direction::Playback),
            Timestamper::new(RATE, alsa::Direction::Capture),
        );
        let sides = Sides {
            output: out.0,
            input: inp.0,
            granted: &granted,
            linked,
            stamps: &stamps,
        };
        let mut engine = Pair::default();
        let report = sides
            .turns(
                (out.0, CH),
                (inp.0, CH),
                &mut engine,
                control,
                |e: &mut Pair, buf| render(&mut e.out, buf),
                |e: &mut Pair, buf| take(&mut e.inp, buf),
            )
            .unwrap();
        (report, engine)
    }

    /// A linked duplex pair through a stall longer than both buffers, in both orders (the
    /// output runs dry first, or the input overruns first; the kernel stops the group at
    /// the first, and the loop, which reads the input first, sees it there): the pair
    /// recovers as one. Each side counts one xrun, the group is prepared once and started
    /// once (both PCMs start at the same instant, again), each engine is told exactly what
    /// its side went without (the output the stall less its buffer, the input the whole
    /// stall), and every frame played and captured, before and after, is at its instant.
    /// With a link whose other side keeps running (so that the output reports its own
    /// xrun first, the input still running with room to spare), the input is still
    /// stopped, prepared and restarted with the output, counts the xrun, and its engine is
    /// told what the joint restart cost it (the frames it had not read yet), exactly.
    #[test]
    fn a_linked_pair_recovers_as_one_whichever_side_reports_first() {
        let period = 256u64;
        for (out_periods, in_periods, group_stop) in [
            (2u64, 4u64, true),
            (4, 2, true),
            (2, 64, false),
            (3, 4, true),
        ] {
            for stall in [4 * period + 1, 4_800, 14_400] {
                // With 3 output periods the stall comes a period into the output's ring:
                // the pre-fill of the restart takes two mappings.
                let what = format!(
                    "out {out_periods}, in {in_periods} periods, group stop {group_stop}, stall {stall}"
                );
                let rig = Rig::new(RATE);
                rig.set_group_stop(group_stop);
                let so = setup(true, period, out_periods, period);
                let si = setup(false, period, in_periods, period);
                let (out, inp) = (rig.pcm(so), rig.pcm(si));
                rig.link(&out, &inp);
                let at = 16 * period;
                let control = control(at + 40 * period, at, stall);
                let (report, engine) = duplex((&out, &so), (&inp, &si), true, &control);
                let out_buffer = period * out_periods;
                assert_eq!(report.output.xruns, 1, "{what}: {report:?}");
                assert_eq!(report.input.xruns, 1, "{what}: {report:?}");
                assert_eq!(rig.prepares(&out), 1, "{what}");
                assert_eq!(rig.prepares(&inp), 1, "{what}");
                let starts = rig.starts(&out);
                assert_eq!(starts.len(), 2, "{what}");
                assert_eq!(rig.starts(&inp), starts, "{what}: started together");
                assert_eq!(
                    report.output.frames_lost_estimate,
                    stall - out_buffer,
                    "{what}"
                );
                let in_lost = report.input.frames_lost_estimate;
                if group_stop {
                    assert_eq!(in_lost, stall, "{what}");
                } else {
                    // What the one read of the turn left in the ring, thrown away by the
                    // joint prepare: less than the stall.
                    assert!(in_lost < stall, "{what}: {in_lost}");
                }
                assert_eq!(engine.out.lost.iter().sum::<u64>(), stall - out_buffer);
                assert_eq!(engine.inp.lost.iter().sum::<u64>(), in_lost);
                assert_eq!(report.input.engine_clock, report.input.frames + in_lost);
                assert_on_time(&off_time(&rig, &out), &what);
                assert_on_time(&off_time_captured(&rig, &inp, &engine.inp), &what);
                assert_eq!(report.output.start_fill, Some(out_buffer), "{what}");
            }
        }
    }

    /// An unlinked duplex pair through the same stall: each side recovers on its own,
    /// each engine told exactly what its side went without, every frame at its instant.
    #[test]
    fn an_unlinked_pair_recovers_each_side_exactly() {
        let period = 256u64;
        for stall in [4 * period + 1, 4_800, 14_400] {
            let rig = Rig::new(RATE);
            let so = setup(true, period, 3, 1);
            let si = setup(false, period, 3, period);
            let (out, inp) = (rig.pcm(so), rig.pcm(si));
            let at = 16 * period;
            let control = control(at + 40 * period, at, stall);
            let (report, engine) = duplex((&out, &so), (&inp, &si), false, &control);
            assert_eq!(
                (report.output.xruns, report.input.xruns),
                (1, 1),
                "{report:?}"
            );
            assert_eq!(report.output.frames_lost_estimate, stall - 3 * period);
            assert_eq!(report.input.frames_lost_estimate, stall);
            assert_on_time(&off_time(&rig, &out), "output");
            // The input starts after the output's pre-fill, on its own timeline: its
            // frames are at their instants counted from its own first start.
            assert_on_time(&off_time_captured(&rig, &inp, &engine.inp), "input");
        }
    }

    /// A fake PCM whose status timestamps are rewritten: moved by `skew` nanoseconds (a
    /// device that stamps in another clock than `CLOCK_MONOTONIC`, as one does whose
    /// monotonic timestamps were refused: alsa-lib's default is the time of day), or
    /// withheld (a device that gives none, so that the loop reads the host's clock) while
    /// it runs from rig time `bare_running_from` on, or while it does not run.
    #[derive(Debug)]
    struct Restamped {
        pcm: FakePcm,
        skew: i128,
        bare_running_from: u64,
        bare_stopped: bool,
        /// Prepares after which the next `avail_update` reports an xrun (`EPIPE`) once: a
        /// second fault before the device has moved again.
        faults_after_prepare: std::cell::Cell<u32>,
        armed: std::cell::Cell<bool>,
    }

    impl Restamped {
        fn new(pcm: &FakePcm, skew: i128) -> Self {
            Self {
                pcm: pcm.clone(),
                skew,
                bare_running_from: u64::MAX,
                bare_stopped: false,
                faults_after_prepare: std::cell::Cell::new(0),
                armed: std::cell::Cell::new(false),
            }
        }
    }

    impl crate::pcm::Pcm for Restamped {
        fn avail_update(&self) -> alsa::Result<i64> {
            if self.armed.replace(false) {
                // The device stopped in an xrun (a capture loop had started it again).
                let _ = self.pcm.stop();
                return Err(alsa::Error::new("snd_pcm_avail_update", libc::EPIPE));
            }
            self.pcm.avail_update()
        }
        fn start(&self) -> alsa::Result<()> {
            self.pcm.start()
        }
        fn prepare(&self) -> alsa::Result<()> {
            let faults = self.faults_after_prepare.get();
            if faults > 0 {
                self.faults_after_prepare.set(faults - 1);
                self.armed.set(true);
            }
            self.pcm.prepare()
        }
        fn resume(&self) -> alsa::Result<()> {
            self.pcm.resume()
        }
        fn stop(&self) -> alsa::Result<()> {
            self.pcm.stop()
        }
        fn wait(&self, timeout_ms: u32) -> alsa::Result<bool> {
            self.pcm.wait(timeout_ms)
        }
        fn state(&self) -> alsa::pcm::State {
            self.pcm.state()
        }
        fn delay(&self) -> alsa::Result<i64> {
            self.pcm.delay()
        }
        fn status(&self) -> alsa::Result<crate::pcm::Status> {
            let mut status = self.pcm.status()?;
            let bare = if status.state == alsa::pcm::State::Running {
                self.pcm.rig.now() >= self.bare_running_from
            } else {
                self.bare_stopped
            };
            status.at = if bare {
                None
            } else {
                status.at.map(|at| at + self.skew)
            };
            Ok(status)
        }
        fn now(&self) -> i128 {
            self.pcm.now()
        }
        fn sleep(&self, duration: Duration) {
            self.pcm.sleep(duration);
        }
    }

    impl crate::pcm::Mmap<f32> for Restamped {
        fn mmap(&self, frames: usize, f: impl FnOnce(&mut [f32]) -> usize) -> alsa::Result<usize> {
            self.pcm.mmap(frames, f)
        }
    }

    /// Plays or records on `pcm` (any [`Pcm`](crate::pcm::Pcm) over the rig) with
    /// [`Frames`]: the report, the engine.
    fn run_on<P: crate::pcm::Pcm + crate::pcm::Mmap<f32>>(
        pcm: &P,
        s: &Setup,
        control: &RunControl,
    ) -> (Result<RunReport, AlsaError>, Frames) {
        let direction = if s.playback {
            alsa::Direction::Playback
        } else {
            alsa::Direction::Capture
        };
        let stamps = Timestamper::new(RATE, direction);
        let granted = granted(s);
        let mut engine = Frames::default();
        let pump = Pump::new(pcm, &granted, control, &stamps, CH);
        let report = if s.playback {
            play_loop(pump, pcm, &mut engine, render)
        } else {
            capture_loop(pump, pcm, &mut engine, take)
        };
        (report, engine)
    }

    /// Plays (or records) on the rig's PCM, wrapped by `restamp`, through a stall of `stall`
    /// frames four buffers in (periods of 256, 3 of them, the pointer moving a frame at a
    /// time), and checks that every frame is at its instant. Returns the report, the
    /// engine, and the frames the stall costs (the stall less the full buffer played out,
    /// for playback).
    fn stall_restamped(
        playback: bool,
        stall: u64,
        what: &str,
        restamp: impl FnOnce(&FakePcm) -> Restamped,
    ) -> (RunReport, Frames, u64) {
        let (period, periods) = (256u64, 3u64);
        let buffer = period * periods;
        let rig = Rig::new(RATE);
        let s = setup(playback, period, periods, 1);
        let pcm = rig.pcm(s);
        let restamped = restamp(&pcm);
        let control = control(10 * buffer, 4 * buffer, stall);
        let (report, engine) = run_on(&restamped, &s, &control);
        let report = report.unwrap_or_else(|e| panic!("{what}: {e:?}"));
        let off = if playback {
            off_time(&rig, &pcm)
        } else {
            off_time_captured(&rig, &pcm, &engine)
        };
        assert_on_time(&off, what);
        let lost = if playback { stall - buffer } else { stall };
        (report, engine, lost)
    }

    /// Which frames were lost, measured in the clock of the device's own readings: a
    /// device that stamps its statuses in another clock than the host's (here an hour
    /// ahead) loses exactly what the kernel's would through a stall, and so does one
    /// that gives no timestamps (the host's clock stands in, read next to each status),
    /// and one that gives them only while stopped (the last reading, on the host's clock,
    /// is extended by the host's clock); every frame is at its instant.
    /// (Kills `Track::lost`'s guard made `true`, `false` or `!=`, and the arithmetic of
    /// its host-clock branch.)
    #[test]
    fn an_xrun_is_measured_in_the_clock_of_the_last_reading() {
        const HOUR: i128 = 3_600_000_000_000;
        let (period, periods) = (256u64, 3u64);
        let buffer = period * periods;
        for (what, skew, bare_running_from, bare_stopped) in [
            ("stamps an hour ahead", HOUR, u64::MAX, false),
            ("no stamps", 0, 0, true),
            ("stamps only while stopped, an hour ahead", HOUR, 0, false),
        ] {
            for playback in [true, false] {
                for stall in [buffer + 1, 4_800] {
                    let what = format!("{what}, playback {playback}, stall {stall}");
                    let (report, engine, lost) =
                        stall_restamped(playback, stall, &what, |pcm| Restamped {
                            bare_running_from,
                            bare_stopped,
                            ..Restamped::new(pcm, skew)
                        });
                    assert_eq!(report.xruns, 1, "{what}: {report:?}");
                    assert_eq!(report.frames_lost_estimate, lost, "{what}");
                    assert_eq!(engine.lost, vec![lost], "{what}");
                }
            }
        }
    }

    /// A second fault right after a recovery's prepare, before the device has moved again
    /// (an xrun reported by the next look), costs only the time since the first recovery
    /// measured to: nothing here. The first outage is not counted again, with or without
    /// device timestamps, playback and capture.
    #[test]
    fn a_fault_before_the_device_moves_again_does_not_count_the_first_outage_twice() {
        let (period, periods) = (256u64, 3u64);
        let buffer = period * periods;
        for (what, bare) in [("device stamps", false), ("no stamps", true)] {
            for playback in [true, false] {
                for stall in [buffer + 1, 4_800] {
                    let what = format!("{what}, playback {playback}, stall {stall}");
                    let (report, engine, lost) = stall_restamped(playback, stall, &what, |pcm| {
                        let restamped = Restamped {
                            bare_running_from: if bare { 0 } else { u64::MAX },
                            bare_stopped: bare,
                            ..Restamped::new(pcm, 0)
                        };
                        restamped.faults_after_prepare.set(1);
                        restamped
                    });
                    assert_eq!(report.xruns, 2, "{what}: {report:?}");
                    assert_eq!(report.frames_lost_estimate, lost, "{what}: {report:?}");
                    assert_eq!(engine.lost.iter().sum::<u64>(), lost, "{what}");
                }
            }
        }
    }

    /// A jump is judged between two readings of the device's own timestamps only: a
    /// device that stops giving timestamps (its readings are then on the host's clock)
    /// just as its position stops for longer than a buffer is not taken to have jumped,
    /// however far its position falls behind (the documented limit: without timestamps,
    /// a jump cannot be seen). (Kills `Track::jump`'s `||` made `&&`.)
    #[test]
    fn a_jump_is_only_judged_between_two_device_timestamps() {
        let (period, periods) = (256u64, 3u64);
        let buffer = period * periods;
        let gap = 4_800;
        for playback in [true, false] {
            let rig = Rig::new(RATE);
            let s = setup(playback, period, periods, period);
            let pcm = rig.pcm(s);
            let frozen = rig.now() + 6 * buffer + 5;
            rig.freeze(&pcm, frozen, gap);
            let restamped = Restamped {
                bare_running_from: frozen,
                ..Restamped::new(&pcm, 0)
            };
            let (report, engine) = run_on(&restamped, &s, &control(16 * buffer, u64::MAX, 0));
            let report = report.unwrap();
            assert_eq!(
                (report.jumps, report.xruns, report.frames_lost_estimate),
                (0, 0, 0),
                "playback {playback}: {report:?}"
            );
            assert!(engine.lost.is_empty(), "playback {playback}");
            assert_eq!(report.frames, 16 * buffer);
        }
    }

    /// The play-out of a device frozen for good with its whole buffer queued looks at it
    /// every time what is queued has had time to play (a buffer, here 4 ms and 10 ms), and
    /// gives up at the first look past the device timeout (500 ms: 24 000 frames, a whole
    /// number of buffers here), not one look later; nothing is played and the device is
    /// stopped. (Kills the play-out's `<` made `<=`.)
    #[test]
    fn the_play_out_of_a_frozen_device_gives_up_at_the_first_look_past_the_timeout() {
        for (period, periods) in [(64u64, 3u64), (160, 3)] {
            let buffer = period * periods;
            assert_eq!(24_000 % buffer, 0);
            let rig = Rig::new(RATE);
            let s = setup(true, period, periods, 1);
            let pcm = rig.pcm(s);
            let t0 = rig.now();
            // The pointer never moves after the start.
            rig.freeze(&pcm, t0 + 1, u64::MAX / 4);
            let control = RunControl {
                device_timeout: Duration::from_millis(500),
                ..control(buffer, u64::MAX, 0)
            };
            let (report, _) = play(&pcm, &s, &control);
            assert_eq!(report.unwrap().frames, buffer);
            assert_eq!(rig.starts(&pcm), vec![t0], "started at once, full");
            assert_eq!(rig.now(), t0 + 24_000, "buffer {buffer}");
            assert!(rig.played(&pcm).is_empty());
            assert_eq!(
                crate::pcm::Pcm::state(&pcm),
                alsa::pcm::State::Setup,
                "the device is stopped"
            );
        }
    }

    /// A suspended device that keeps saying `EAGAIN` is given up at the first try after
    /// MORE than the timeout: tries at 0, 1, 3, 7 ... 63 ms, then every 64 ms (127, 191
    /// ... 511 ms); with a timeout of exactly 511 ms the try at 511 ms still waits, the
    /// one at 575 ms gives up. (Kills the resume wait's `>` made `>=`.)
    #[test]
    fn a_suspended_device_is_given_up_at_the_first_try_past_the_timeout() {
        for playback in [true, false] {
            let rig = Rig::new(RATE);
            let s = setup(playback, 256, 3, 1);
            let pcm = rig.pcm(s);
            rig.suspend(&pcm, rig.now() + 10_000, u64::MAX / 4, true);
            let control = RunControl {
                device_timeout: Duration::from_millis(511),
                ..control(1_000_000, u64::MAX, 0)
            };
            let (report, _) = if playback {
                play(&pcm, &s, &control)
            } else {
                record(&pcm, &s, &control)
            };
            assert!(
                matches!(report, Err(AlsaError::NotResponding { waited_ms: 575 })),
                "playback {playback}: {report:?}"
            );
            assert_eq!(rig.resumes(&pcm), 15, "playback {playback}");
        }
    }

    /// A suspend of a driver that cannot resume, when the ring's write position is two
    /// periods into a three-period ring: the device's timeline is behind the engine by
    /// the frames it had queued and threw away (751 here), more than the one period left
    /// before the ring's end, so the lead-in of silence runs over the first mapped area
    /// into the next. Exactly those 751 frames of silence are played, and every engine
    /// frame, before and after, at its instant, none lost. (Kills the lead-in's
    /// `buf.len() / unit` made `*`.)
    #[test]
    fn a_lead_in_longer_than_the_mapped_area_continues_in_the_next() {
        let (period, periods) = (256u64, 3u64);
        let buffer = period * periods;
        let rig = Rig::new(RATE);
        let s = setup(true, period, periods, 1);
        let pcm = rig.pcm(s);
        let t0 = rig.now();
        let x = 10 * buffer + 2 * period + 17;
        rig.suspend(&pcm, t0 + x, 0, false);
        let (report, engine) = play(&pcm, &s, &control(20 * buffer, u64::MAX, 0));
        let report = report.unwrap();
        // Written: the buffer, then a period each time one was free.
        let written = buffer + period * (x / period);
        assert_eq!(written % buffer, 2 * period, "the write position");
        let queued = written - x;
        assert_eq!(queued, 751);
        assert_eq!((report.xruns, report.frames_lost_estimate), (1, 0));
        assert!(engine.lost.is_empty());
        let played = rig.played(&pcm);
        let silence = played.iter().filter(|p| p.1 == 0.0).count() as u64;
        assert_eq!(silence, queued);
        assert_on_time(&off_time(&rig, &pcm), "lead-in over the ring's end");
        let last = played.last().unwrap().1 as u64;
        assert_eq!(last, 20 * buffer, "every engine frame played");
    }

    /// A stream of rtmix-core with `CH` output and input channels.
    type RealEngine = rtmix_core::Engine<Vec<f32>, Vec<f32>, rtmix_core::Heap>;
    type RealControl = rtmix_core::Controller<Vec<f32>, Vec<f32>, rtmix_core::Heap>;

    fn real(output: u16, input: u16) -> (RealControl, RealEngine) {
        rtmix_core::open(
            rtmix_core::StreamConfig::duplex(output, input),
            rtmix_core::StreamCapacity::default(),
        )
        .unwrap()
    }

    /// A one-frame click of 0.5 on channel 0 at engine frame `frame`.
    fn click(ctl: &mut RealControl, frame: u64) {
        let map = rtmix_core::ChannelMap::new(&[0]).unwrap();
        ctl.play(rtmix_core::Play::new(vec![0.5], map).at(rtmix_core::At::Frame(frame)))
            .unwrap();
    }

    /// A recording of `frames` frames of both channels from engine frame `frame`.
    fn recording(ctl: &mut RealControl, frame: u64, frames: usize) -> rtmix_core::ActionId {
        let map = rtmix_core::ChannelMap::new(&[0, 1]).unwrap();
        ctl.record(
            rtmix_core::Record::new(vec![0.0; frames * CH], map).at(rtmix_core::At::Frame(frame)),
        )
        .unwrap()
    }

    /// The instants (rig times) at which the click of [`click`] was played on `pcm`.
    fn clicks(rig: &Rig, pcm: &FakePcm) -> Vec<u64> {
        rig.played(pcm)
            .into_iter()
            .filter(|&(_, v)| v == 0.5)
            .map(|(t, _)| t)
            .collect()
    }

    /// Asserts that a recording made from engine frame `frame` holds, frame by frame, the
    /// instants the rig captured them at: `t0 + frame + k` (named `+ 1`).
    fn assert_recorded_at(got: &[f32], t0: u64, frame: u64, what: &str) {
        for (k, f) in got.chunks_exact(CH).enumerate() {
            let due = (t0 + frame + k as u64 + 1) as f32;
            assert_eq!(f, [due, due], "{what}: recorded frame {k}");
        }
    }

    /// rtmix-core's own engines through an xrun on the fake device: each is told exactly
    /// the frames the device went without (its clock, and the report's, are the frames
    /// moved plus those), so that a click scheduled for engine frame F after the xrun is
    /// played at the instant of device frame F, and a recording from frame F holds what
    /// was captured at that instant. (Kills the survivors of `LostFrames` for
    /// `OutputEngine` and `InputEngine`: `lost` doing nothing, `clock` returning 0 or 1.)
    #[test]
    fn real_engines_stay_on_the_device_timeline_through_an_xrun() {
        let (period, periods) = (256u64, 3u64);
        let buffer = period * periods;
        let stall = 4_800;
        let frame = 12_000;
        for playback in [true, false] {
            let what = format!("playback {playback}");
            let rig = Rig::new(RATE);
            let s = setup(playback, period, periods, 1);
            let pcm = rig.pcm(s);
            let control = control(16 * buffer, 4 * buffer, stall);
            let granted = granted(&s);
            let (mut ctl, engine) = if playback {
                real(CH as u16, 0)
            } else {
                real(0, CH as u16)
            };
            let (mut output, mut input) = engine.split();
            let lost = if playback { stall - buffer } else { stall };
            if playback {
                click(&mut ctl, frame);
                let stamps = Timestamper::new(RATE, alsa::Direction::Playback);
                let pump = Pump::new(&pcm, &granted, &control, &stamps, CH);
                let report = play_loop(pump, &pcm, &mut output, |e, buf| {
                    e.process(buf);
                    0
                })
                .unwrap();
                assert_eq!(report.frames_lost_estimate, lost, "{what}");
                assert_eq!(report.engine_clock, report.frames + lost, "{what}");
                assert_eq!(output.clock(), report.engine_clock, "{what}");
                let t0 = rig.starts(&pcm)[0];
                assert_eq!(clicks(&rig, &pcm), vec![t0 + frame], "{what}");
            } else {
                let id = recording(&mut ctl, frame, 100);
                let stamps = Timestamper::new(RATE, alsa::Direction::Capture);
                let pump = Pump::new(&pcm, &granted, &control, &stamps, CH);
                let report =
                    capture_loop(pump, &pcm, &mut input, rtmix_core::InputEngine::process).unwrap();
                assert_eq!(report.frames_lost_estimate, lost, "{what}");
                assert_eq!(report.engine_clock, report.frames + lost, "{what}");
                assert_eq!(input.clock(), report.engine_clock, "{what}");
                let got = ctl.take(id).unwrap().into_recording().unwrap();
                assert_recorded_at(&got, rig.starts(&pcm)[0], frame, &what);
            }
        }
    }

    /// rtmix-core's duplex engine through a stall of a linked pair: each half is told
    /// exactly what its side went without (the output the stall less its buffer, the
    /// input the whole stall), each report ends on its half's clock, and a click and a
    /// recording scheduled after the stall are at the instants of their frames. (Kills
    /// the survivors of `DuplexEngine for Engine`: the clocks returning 0 or 1, the
    /// `*_lost` doing nothing.)
    #[test]
    fn a_real_duplex_engine_stays_on_both_timelines_through_a_stall() {
        let period = 256u64;
        let stall = 4_800;
        let frame = 12_000;
        let rig = Rig::new(RATE);
        let so = setup(true, period, 2, period);
        let si = setup(false, period, 4, period);
        let (out, inp) = (rig.pcm(so), rig.pcm(si));
        rig.link(&out, &inp);
        let control = control(16 * period + 40 * period, 16 * period, stall);
        let granted = (granted(&so), granted(&si));
        let stamps = (
            Timestamper::new(RATE, alsa::Direction::Playback),
            Timestamper::new(RATE, alsa::Direction::Capture),
        );
        let sides = Sides {
            output: &out,
            input: &inp,
            granted: &granted,
            linked: true,
            stamps: &stamps,
        };
        let (mut ctl, mut engine) = real(CH as u16, CH as u16);
        click(&mut ctl, frame);
        let id = recording(&mut ctl, frame, 100);
        let report = sides
            .turns(
                (&out, CH),
                (&inp, CH),
                &mut engine,
                &control,
                |e: &mut RealEngine, buf| {
                    e.output.process(buf);
                    0
                },
                |e: &mut RealEngine, buf| e.input.process(buf),
            )
            .unwrap();
        let (o, i) = (&report.output, &report.input);
        assert_eq!((o.xruns, i.xruns), (1, 1), "{report:?}");
        assert_eq!(o.frames_lost_estimate, stall - 2 * period);
        assert_eq!(i.frames_lost_estimate, stall);
        assert_eq!(o.engine_clock, o.frames + o.frames_lost_estimate);
        assert_eq!(i.engine_clock, i.frames + i.frames_lost_estimate);
        assert_eq!(engine.output.clock(), o.engine_clock);
        assert_eq!(engine.input.clock(), i.engine_clock);
        let t0 = rig.starts(&out)[0];
        assert_eq!(rig.starts(&inp)[0], t0);
        assert_eq!(clicks(&rig, &out), vec![t0 + frame]);
        let got = ctl.take(id).unwrap().into_recording().unwrap();
        assert_recorded_at(&got, t0, frame, "input");
    }

    /// The samples a duplex loop's render reports clamped are all counted, those of the
    /// pre-fill and those of every turn after: here it reports one a frame, and the
    /// output's `clipped` is exactly its frames. (Kills the two `clipped +=` of the
    /// duplex loop made `-=` or `*=`.)
    #[test]
    fn a_duplex_loop_counts_every_clamped_sample_it_is_told_of() {
        let period = 256u64;
        for linked in [false, true] {
            let rig = Rig::new(RATE);
            let so = setup(true, period, 3, 1);
            let si = setup(false, period, 3, period);
            let (out, inp) = (rig.pcm(so), rig.pcm(si));
            if linked {
                rig.link(&out, &inp);
            }
            let granted = (granted(&so), granted(&si));
            let stamps = (
                Timestamper::new(RATE, alsa::Direction::Playback),
                Timestamper::new(RATE, alsa::Direction::Capture),
            );
            let sides = Sides {
                output: &out,
                input: &inp,
                granted: &granted,
                linked,
                stamps: &stamps,
            };
            let mut engine = Pair::default();
            let frames = 20 * period + 7;
            let report = sides
                .turns(
                    (&out, CH),
                    (&inp, CH),
                    &mut engine,
                    &control(frames, u64::MAX, 0),
                    |e: &mut Pair, buf| {
                        render(&mut e.out, buf);
                        (buf.len() / CH) as u64
                    },
                    |e: &mut Pair, buf| take(&mut e.inp, buf),
                )
                .unwrap();
            assert_eq!(report.output.frames, frames, "linked {linked}");
            assert_eq!(report.output.clipped, frames, "linked {linked}");
        }
    }

    /// A linked pair whose input overruns (a stall longer than the input's buffer, shorter
    /// than the output's) when the output's write position is three periods into its
    /// four-period ring: the kernel stops both, the output's queued frames are thrown
    /// away, and its timeline is behind the engine by the buffer less the stall (324
    /// frames), more than the one period left before the ring's end. Exactly that much
    /// silence is played, over two mapped areas, then the engine's frames, every one at
    /// its instant, none lost; the input loses the whole stall. (Kills the duplex
    /// lead-in's survivors: its frames per area (`/` made `%` or `*`), its split (`*`
    /// made `/`), what is left of it (`-=` made `+=`) and the frames it leaves the engine
    /// (`-` made `+`).)
    #[test]
    fn a_duplex_lead_in_longer_than_the_mapped_area_continues_in_the_next() {
        let period = 256u64;
        let out_buffer = 4 * period;
        let stall = 700;
        let rig = Rig::new(RATE);
        let so = setup(true, period, 4, period);
        let si = setup(false, period, 2, period);
        let (out, inp) = (rig.pcm(so), rig.pcm(si));
        rig.link(&out, &inp);
        let at = 19 * period;
        assert_eq!(at % out_buffer, 3 * period, "the write position");
        let control = control(at + 40 * period, at, stall);
        let (report, engine) = duplex((&out, &so), (&inp, &si), true, &control);
        let (o, i) = (&report.output, &report.input);
        assert_eq!((o.xruns, i.xruns), (1, 1), "{report:?}");
        assert_eq!(o.frames_lost_estimate, 0);
        assert!(engine.out.lost.is_empty());
        assert_eq!(i.frames_lost_estimate, stall);
        assert_eq!(o.engine_clock, o.frames);
        assert_eq!(engine.out.clock, o.frames);
        let played = rig.played(&out);
        let silence = played.iter().filter(|p| p.1 == 0.0).count() as u64;
        assert_eq!(silence, out_buffer - stall);
        assert_on_time(&off_time(&rig, &out), "output");
        assert_on_time(&off_time_captured(&rig, &inp, &engine.inp), "input");
        // The duplex loop stops at once at the end: at most a buffer is left unplayed.
        let last = played.last().unwrap().1 as u64;
        assert!(
            o.frames - last <= out_buffer,
            "{last} of {} played",
            o.frames
        );
    }

    /// Every anchor a loop publishes says where the engine's frames are: its next frame is
    /// the engine's clock at the next transfer, and its frame at the converter that less
    /// (playback) or plus (capture) its latency, also right after a position jump, whose
    /// reading is moved by the frames the engine was told it lost. (Kills the survivors of
    /// `Reading::shifted`: either field left unshifted, `+` made `*`.)
    #[test]
    fn anchors_after_a_jump_are_on_the_engines_timeline() {
        let (period, periods) = (256u64, 3u64);
        let buffer = period * periods;
        for playback in [true, false] {
            let what = format!("playback {playback}");
            let rig = Rig::new(RATE);
            let s = setup(playback, period, periods, period);
            let pcm = rig.pcm(s);
            rig.freeze(&pcm, rig.now() + 6 * buffer + 5, 4_800);
            let control = control(16 * buffer, u64::MAX, 0);
            let granted = granted(&s);
            let mut engine = Frames::default();
            let mut seen = Vec::new();
            let report = if playback {
                let stamps = Timestamper::new(RATE, alsa::Direction::Playback);
                let clock = stamps.clock().clone();
                let pump = Pump::new(&pcm, &granted, &control, &stamps, CH);
                play_loop(pump, &pcm, &mut engine, |e, buf| {
                    seen.push((e.clock, clock.anchor()));
                    render(e, buf)
                })
            } else {
                let stamps = Timestamper::new(RATE, alsa::Direction::Capture);
                let clock = stamps.clock().clone();
                let pump = Pump::new(&pcm, &granted, &control, &stamps, CH);
                capture_loop(pump, &pcm, &mut engine, |e, buf| {
                    seen.push((e.clock, clock.anchor()));
                    take(e, buf);
                })
            };
            let report = report.unwrap();
            assert_eq!(
                (report.jumps, report.frames_lost_estimate),
                (1, 4_800),
                "{what}"
            );
            let anchors: Vec<_> = seen
                .iter()
                .filter_map(|&(clock, a)| Some((clock, a?)))
                .collect();
            assert!(anchors.len() > 20, "{what}");
            for (clock, a) in anchors {
                assert_eq!(a.next_frame, clock, "{what}: {a:?}");
                let at_converter = if playback {
                    a.next_frame - a.latency_frames
                } else {
                    a.next_frame + a.latency_frames
                };
                assert_eq!(a.frame, at_converter, "{what}: {a:?}");
            }
        }
    }

    /// The anchors' instants are the device's timestamps in `Instant`'s clock: an anchor
    /// is the device frame at the converter at the instant that frame is played, so any
    /// two are apart by exactly the rig's time between their frames (to the nanosecond),
    /// and all lie within the run (the rig's time starts when it is made). (Kills the
    /// survivors of `Timestamper::publish` (`-` made `+` or `/`) and `instant` (`>=`
    /// made `<`).)
    #[test]
    fn anchors_are_at_the_instants_of_their_frames() {
        let (period, periods) = (256u64, 3u64);
        let buffer = period * periods;
        let before = std::time::Instant::now();
        let rig = Rig::new(RATE);
        let s = setup(true, period, periods, 1);
        let pcm = rig.pcm(s);
        let granted = granted(&s);
        let control = control(20 * buffer, u64::MAX, 0);
        let stamps = Timestamper::new(RATE, alsa::Direction::Playback);
        let clock = stamps.clock().clone();
        let mut engine = Frames::default();
        let mut anchors = Vec::new();
        let pump = Pump::new(&pcm, &granted, &control, &stamps, CH);
        play_loop(pump, &pcm, &mut engine, |e, buf| {
            anchors.extend(clock.anchor());
            render(e, buf)
        })
        .unwrap();
        let after = std::time::Instant::now();
        let t0 = rig.starts(&pcm)[0];
        let first = anchors[0];
        assert!(anchors.len() > 20);
        for a in &anchors {
            let apart = rig.nanos(t0 + a.frame) - rig.nanos(t0 + first.frame);
            let nanos = i128::try_from(a.at.duration_since(first.at).as_nanos()).unwrap();
            assert_eq!(nanos, apart, "{a:?}");
            // Within a millisecond: the timestamper reads the monotonic clock next to
            // its clock's epoch, not at it.
            let slack = Duration::from_millis(1);
            assert!(
                before + span(t0) <= a.at + slack && a.at <= after + span(rig.now()) + slack,
                "{a:?} outside the run"
            );
        }
    }

    /// A device suspended before it ever started (its first `avail_update` says
    /// `ESTRPIPE`) and back 500 ms later: the loop waits it out (tries at 0, 1, 3 ... 63,
    /// 127 ... 511 ms: it is back at the try at 511 ms), and, with no reading of the device
    /// yet, the engine is told the time since the loop began (24 528 frames) as lost, so
    /// that engine frame F is still played at the instant of frame F counted from then.
    /// (Kills the survivors of `Track::lost`'s no-reading branch.)
    #[test]
    fn a_device_suspended_before_its_first_start_costs_the_time_since_the_loop_began() {
        let (period, periods) = (256u64, 3u64);
        let buffer = period * periods;
        let rig = Rig::new(RATE);
        let s = setup(true, period, periods, 1);
        let pcm = rig.pcm(s);
        let t0 = rig.now();
        rig.suspend(&pcm, t0, 24_000, true);
        let (report, engine) = play(&pcm, &s, &control(10 * buffer, u64::MAX, 0));
        let report = report.unwrap();
        let back = 511 * 48;
        assert_eq!((report.xruns, report.frames_lost_estimate), (1, back));
        assert_eq!(engine.lost, vec![back]);
        assert_eq!(rig.starts(&pcm), vec![t0 + back]);
        assert_eq!(report.engine_clock, report.frames + back);
        let played = rig.played(&pcm);
        assert_eq!(played.len() as u64, 10 * buffer);
        for (t, v) in played {
            assert_eq!(
                t,
                t0 + v as u64 - 1,
                "engine frame {} played at {t}",
                v - 1.0
            );
        }
    }
}

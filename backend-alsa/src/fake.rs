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
}

impl Rig {
    pub(crate) fn new(rate: u32) -> Rc<Self> {
        Rc::new(Self {
            // Not at 0, so that no instant is the epoch by chance.
            t: Cell::new(1000),
            rate,
            base_ns: crate::pcm::monotonic_nanos(),
            streams: RefCell::default(),
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
            let mut xrun = false;
            if s.playback {
                let queued = s.appl - s.hw;
                let played = queued.min(s.step);
                for j in 0..played {
                    let slot = usize::try_from((s.hw + j) % buffer).unwrap() * ch;
                    let value = s.ring[slot];
                    let when = Self::instant(s, from, j);
                    s.played.push((when, value));
                }
                s.hw += played;
                xrun = s.appl - s.hw == 0;
            } else {
                for j in 0..s.step {
                    let slot = usize::try_from((s.hw + j) % buffer).unwrap() * ch;
                    let when = Self::instant(s, from, j);
                    // Names the instant it was captured at (exact in f32 below 2^24).
                    s.ring[slot..slot + ch].fill((when + 1) as f32);
                }
                s.hw += s.step;
                xrun = s.hw - s.appl >= buffer;
            }
            if xrun {
                s.xruns.push(at);
                for g in Self::group(&streams, i) {
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
            if now < ready {
                return Err(err("snd_pcm_resume", EAGAIN));
            }
            if !can {
                return Err(err("snd_pcm_resume", ENOSYS));
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
            let (state, ready) = self.rig.with(self.id, |s, i| {
                (s[i].state, s[i].avail() >= s[i].avail_min)
            });
            match state {
                State::Running | State::Prepared if ready => return Ok(true),
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
        let frames = (duration.as_nanos() * u128::from(self.rig.rate) + 500_000_000) / 1_000_000_000;
        self.rig.t.set(self.rig.now() + u64::try_from(frames).unwrap());
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

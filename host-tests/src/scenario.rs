//! A scenario: the stream's shape, the commands a caller submits and when, and the xruns
//! the device suffers. Both the simulator and the reference model read it.

use rtmix_core::{At, Direction, Ending, Late, OnEmpty, OnFull, Repeat};

/// A play's options beyond its buffer and map: where it starts, what of the buffer it
/// plays, how often, and its envelope.
#[derive(Clone, Debug, PartialEq)]
pub struct PlayShape {
    /// Start where the op with this index stops ([`At::After`]) instead of at `at`.
    pub after: Option<usize>,
    /// The buffer frames it plays (`None`: all).
    pub region: Option<(u64, u64)>,
    /// How often.
    pub repeat: Repeat,
    /// Repetition starts every `num / den` frames (`None`: back to back).
    pub interval: Option<(u64, u64)>,
    /// Its gain.
    pub gain: f32,
    /// Fade-in frames.
    pub fade_in: u64,
    /// Fade-out frames.
    pub fade_out: u64,
    /// Play the samples from a ring buffer, filled with all of them before submission,
    /// instead of from a buffer; with this policy when it runs dry.
    pub stream: Option<OnEmpty>,
    /// Start this many frames into the play (`Play::from_frame`).
    pub offset: u64,
}

impl Default for PlayShape {
    fn default() -> Self {
        Self {
            after: None,
            region: None,
            repeat: Repeat::ONCE,
            interval: None,
            gain: 1.0,
            fade_in: 0,
            fade_out: 0,
            stream: None,
            offset: 0,
        }
    }
}

/// Whose gain an [`Op::Gain`] changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GainOf {
    /// The play submitted as the op with this index.
    Play(usize),
    /// An output channel's master gain.
    Master(u16),
}

/// One request as a test writes it.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// Play `samples` (interleaved, `map.len()` channels) through `map` with `gains`.
    Play {
        /// Interleaved samples.
        samples: Vec<f32>,
        /// Output channel of each buffer channel.
        map: Vec<u16>,
        /// Gain of each buffer channel.
        gains: Vec<f32>,
        /// Start frame.
        at: At,
        /// Late policy.
        late: Late,
        /// Region, repetitions, gain, fades and chaining.
        shape: PlayShape,
    },
    /// Record `frames` frames of the input channels in `map`.
    Record {
        /// Frames to record.
        frames: usize,
        /// Input channel of each buffer channel.
        map: Vec<u16>,
        /// Start frame.
        at: At,
        /// Late policy.
        late: Late,
        /// Start where the op with this index stops, instead of at `at`.
        after: Option<usize>,
        /// Record into a ring buffer of this many frames (drained only at the end) with
        /// this policy when it is full, instead of into a buffer of `frames` frames.
        sink: Option<(usize, OnFull)>,
    },
    /// Cancel the op with this index (in submission order over all steps).
    Cancel {
        /// Index of the target op.
        target: usize,
        /// Cut frame.
        at: At,
        /// Late policy.
        late: Late,
        /// How the target ends.
        ending: Ending,
    },
    /// Ramp a play's gain or a master gain.
    Gain {
        /// Whose gain.
        target: GainOf,
        /// The new gain.
        gain: f32,
        /// Ramp length in frames.
        ramp: u64,
        /// Where the ramp starts.
        at: At,
        /// Late policy.
        late: Late,
    },
    /// Fetch and reset one direction's stats.
    Stats {
        /// Which direction.
        direction: Direction,
        /// When.
        at: At,
    },
}

impl Op {
    /// The direction the op belongs to; a cancel belongs to its target's, which the
    /// caller resolves.
    pub fn direction(&self) -> Option<Direction> {
        match self {
            Op::Play { .. } | Op::Gain { .. } => Some(Direction::Output),
            Op::Record { .. } => Some(Direction::Input),
            Op::Stats { direction, .. } => Some(*direction),
            Op::Cancel { .. } => None,
        }
    }
}

/// Ops submitted together once the reference clock reaches `submit_at`: one op alone, or
/// several as an atomic group.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Submitted before the first block that starts at or after this frame of the
    /// reference clock (output if the stream has outputs, else input).
    pub submit_at: u64,
    /// The ops; more than one makes a group.
    pub ops: Vec<Op>,
}

impl Step {
    /// `op` alone (not in a group), submitted before the first block.
    ///
    /// ```
    /// use rtmix_core::{At, Direction};
    /// use rtmix_host_tests::scenario::{Op, Step};
    /// let step = Step::alone(Op::Stats { direction: Direction::Output, at: At::Asap });
    /// assert_eq!((step.submit_at, step.ops.len()), (0, 1));
    /// ```
    pub fn alone(op: Op) -> Self {
        Self {
            submit_at: 0,
            ops: vec![op],
        }
    }

    /// Each of `ops` in a step of its own ([`alone`](Self::alone)), in order: none of
    /// them a group.
    ///
    /// ```
    /// use rtmix_core::{At, Direction};
    /// use rtmix_host_tests::scenario::{Op, Step};
    /// let stats = |at| Op::Stats { direction: Direction::Output, at };
    /// let steps = Step::each_alone([stats(At::Asap), stats(At::Frame(4))]);
    /// assert_eq!(steps.len(), 2);
    /// assert!(steps.iter().all(|s| s.submit_at == 0 && s.ops.len() == 1));
    /// ```
    pub fn each_alone(ops: impl IntoIterator<Item = Op>) -> Vec<Self> {
        ops.into_iter().map(Self::alone).collect()
    }
}

/// Frames lost to an xrun, injected before the first block that starts at or after `at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Xrun {
    /// Reference-clock frame from which it may happen.
    pub at: u64,
    /// Frames lost.
    pub frames: u64,
    /// Which direction loses them.
    pub direction: Direction,
}

/// Everything a test run needs besides the block pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Output channels.
    pub output_channels: u16,
    /// Input channels.
    pub input_channels: u16,
    /// The steps, in submission order.
    pub steps: Vec<Step>,
    /// Injected xruns, in order of `at`.
    pub xruns: Vec<Xrun>,
    /// Run until the reference clock reaches this frame.
    pub total_frames: u64,
    /// Clamp the output to [-1, 1].
    pub clamp: bool,
}

impl Scenario {
    /// All ops in submission order (the index a [`Op::Cancel`] refers to).
    pub fn ops(&self) -> impl Iterator<Item = &Op> {
        self.steps.iter().flat_map(|s| s.ops.iter())
    }
}

/// The input signal of the simulated device: a distinct, exactly representable value for
/// every (frame, channel), so any misplaced sample shows.
///
/// ```
/// use rtmix_host_tests::scenario::input_sample;
/// assert_ne!(input_sample(10, 0), input_sample(11, 0));
/// assert_ne!(input_sample(10, 0), input_sample(10, 1));
/// ```
pub fn input_sample(frame: u64, channel: u16) -> f32 {
    // Integers below 2^24 are exact in f32.
    ((frame % 1_000_000) * 8 + u64::from(channel) % 8) as f32
}

/// What a recording buffer holds before the engine touches it, so untouched (skipped or
/// cut) regions can be told from recorded ones.
pub const RECORD_FILL: f32 = -9.0;

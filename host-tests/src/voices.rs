//! Voices for the benchmarks: distinct stereo buffers, all started on the same frame,
//! plain or with one of the features the feature benchmarks measure.

use std::sync::Arc;

use rtmix_core::{
    At, ChannelMap, Controller, Engine, Error, Feed, GainTarget, Home, Interval, Late, Play,
    PlaySource, Repeat,
};

/// `voices` distinct stereo buffers of `frames` frames each.
pub fn stereo_buffers(voices: usize, frames: usize) -> Vec<Arc<[f32]>> {
    (0..voices)
        .map(|v| {
            (0..frames * 2)
                .map(|i| ((i * 7 + v * 13) % 1000) as f32 / 1000.0 - 0.5)
                .collect::<Vec<f32>>()
                .into()
        })
        .collect()
}

/// Plays every buffer on both output channels from frame 1, and `later` silent plays from
/// frame 10^9 on, then renders frame 0, so the next block starts them all together.
/// Empty blocks are run whenever the command queue is full.
pub fn start_together<H: Home>(
    ctl: &mut Controller<Arc<[f32]>, Vec<f32>, H>,
    engine: &mut Engine<Arc<[f32]>, Vec<f32>, H>,
    buffers: &[Arc<[f32]>],
    later: usize,
) {
    let silence: Arc<[f32]> = vec![0.0f32; 2].into();
    let requests = buffers
        .iter()
        .map(|b| (b.clone(), 1))
        .chain((0..later as u64).map(|i| (silence.clone(), 1_000_000_000 + i)));
    for (buffer, frame) in requests {
        let mut play =
            Play::new(buffer, ChannelMap::contiguous(0, 2).expect("map")).at(At::Frame(frame));
        loop {
            match ctl.play(play) {
                Ok(_) => break,
                Err(refused) if refused.error == Error::QueueFull => {
                    play = refused.returned;
                    engine.output.process(&mut []);
                }
                Err(refused) => panic!("benchmark stream refused a voice: {}", refused.error),
            }
        }
    }
    engine.output.process(&mut [0.0; 2]);
}

/// The reference every engine figure is compared with: `out[i] += buffer[i]` for each
/// buffer, over frames `first..first + out.len() / 2`, after clearing `out`. No
/// scheduling, no map, no gain, no bookkeeping.
#[inline]
pub fn sum_kernel(out: &mut [f32], buffers: &[Arc<[f32]>], first: usize) {
    out.fill(0.0);
    let offset = 2 * first;
    for b in buffers {
        let src = &std::hint::black_box(b)[offset..offset + out.len()];
        for (o, s) in out.iter_mut().zip(src) {
            *o += s;
        }
    }
}

/// Frames of the gain ramps the feature benchmarks keep running: far longer than a round,
/// so every measured block is under the ramp, and under 2^31, so the kernels take the
/// ramp's `i32` counter path as any ramp of less than 12 hours at 48 kHz does.
pub const LONG_RAMP: u64 = 1 << 20;

/// Frames of the region a looping voice repeats: shorter than two 64-frame blocks, so most
/// blocks hold a seam.
pub const LOOP_FRAMES: u64 = 100;

/// The region and interval of a voice with spaced repetitions: a 200-frame region
/// restarted every 1000/7 frames (142.857…), so every frame plays and the repetition
/// starts fall on a fractional grid.
pub const SPACED_REGION: u64 = 200;
/// See [`SPACED_REGION`].
pub const SPACED_INTERVAL: (u64, u64) = (1000, 7);

/// One feature the benchmarks measure against the plain sum kernel: what every voice (or,
/// for [`Feature::MasterRamp`], the mix) carries while the blocks are timed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    /// Nothing: each voice plays its buffer at unity gain, as [`start_together`] does.
    Plain,
    /// Each voice's gain ramps from 1 to 0 over [`LONG_RAMP`] frames
    /// (`Controller::set_gain`) from its first frame on.
    GainRamp,
    /// Each voice fades in over its whole buffer (`Play::fade_in`).
    FadeIn,
    /// Each voice plays at a constant gain of 0.5 (`Play::gain`).
    Gain,
    /// Plain voices, and the master gain of both output channels ramps from 1 to 0 over
    /// [`LONG_RAMP`] frames.
    MasterRamp,
    /// Each voice loops a [`LOOP_FRAMES`]-frame region of its buffer forever.
    Loop,
    /// Each voice repeats a [`SPACED_REGION`]-frame region every [`SPACED_INTERVAL`]
    /// frames, forever.
    Spaced,
    /// Each voice plays from an `rtrb` ring filled beforehand ([`rings`]), through a
    /// [`RingFeed`].
    Ring,
}

impl Feature {
    /// Every feature, in table order.
    pub const ALL: [Feature; 8] = [
        Feature::Plain,
        Feature::GainRamp,
        Feature::FadeIn,
        Feature::Gain,
        Feature::MasterRamp,
        Feature::Loop,
        Feature::Spaced,
        Feature::Ring,
    ];

    /// A short name, for benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            Feature::Plain => "plain",
            Feature::GainRamp => "gain_ramp",
            Feature::FadeIn => "fade_in",
            Feature::Gain => "gain",
            Feature::MasterRamp => "master_ramp",
            Feature::Loop => "loop",
            Feature::Spaced => "spaced",
            Feature::Ring => "ring",
        }
    }

    /// A description, for tables.
    pub fn label(self) -> &'static str {
        match self {
            Feature::Plain => "plain play (unity gain)",
            Feature::GainRamp => "gain ramp on every voice (`set_gain`)",
            Feature::FadeIn => "fade-in on every voice (`fade_in`)",
            Feature::Gain => "constant gain 0.5 (`gain`)",
            Feature::MasterRamp => "master gain ramp on both channels",
            Feature::Loop => "looping a 100-frame region",
            Feature::Spaced => "repeating every 1000/7 frames (`interval`)",
            Feature::Ring => "stream from an `rtrb` ring",
        }
    }

    /// The play of `buffer` on both output channels from frame 1, with this feature's
    /// settings (a [`Feature::Ring`] voice is built from a ring instead: [`ring_play`]).
    pub fn play(self, buffer: Arc<[f32]>) -> Play<Arc<[f32]>> {
        let frames = (buffer.len() / 2) as u64;
        let play = Play::new(buffer, stereo()).at(At::Frame(1));
        match self {
            Feature::Plain | Feature::GainRamp | Feature::MasterRamp | Feature::Ring => play,
            Feature::FadeIn => play.fade_in(frames),
            Feature::Gain => play.gain(0.5),
            Feature::Loop => play.region(0, LOOP_FRAMES).repeat(Repeat::Forever),
            Feature::Spaced => {
                let (num, den) = SPACED_INTERVAL;
                play.region(0, SPACED_REGION)
                    .interval(Interval::new(num, den).expect("interval"))
                    .repeat(Repeat::Forever)
            }
        }
    }
}

/// What a stream plays that holds both buffers and `rtrb` rings.
pub type RingFeed = Feed<Arc<[f32]>, rtrb::Consumer<f32>>;

/// A ring for each buffer, holding exactly its frames `first..first + frames`: the
/// producers (kept, so the rings stay open) and the consumers (to play).
pub fn rings(
    buffers: &[Arc<[f32]>],
    first: usize,
    frames: usize,
) -> (Vec<rtrb::Producer<f32>>, Vec<rtrb::Consumer<f32>>) {
    buffers
        .iter()
        .map(|b| {
            let (mut tx, rx) = rtrb::RingBuffer::new(frames * 2);
            tx.push_entire_slice(&b[first * 2..(first + frames) * 2])
                .expect("the ring holds the frames");
            (tx, rx)
        })
        .unzip()
}

/// The play of a ring on both output channels from frame 1.
pub fn ring_play(ring: rtrb::Consumer<f32>) -> Play<RingFeed> {
    Play::new(Feed::Stream(ring), stereo()).at(At::Frame(1))
}

fn stereo() -> ChannelMap {
    ChannelMap::contiguous(0, 2).expect("map")
}

/// Submits `plays`, then the gain commands `feature` needs (ramps starting at frame 1),
/// then renders frame 0, so the next block starts them all together, as
/// [`start_together`] does. Empty blocks are run whenever the command queue is full.
pub fn start_feature<P: PlaySource, H: Home>(
    ctl: &mut Controller<P, Vec<f32>, H>,
    engine: &mut Engine<P, Vec<f32>, H>,
    plays: impl IntoIterator<Item = Play<P>>,
    feature: Feature,
) {
    let mut ids = Vec::new();
    for mut play in plays {
        loop {
            match ctl.play(play) {
                Ok(id) => break ids.push(id),
                Err(refused) if refused.error == Error::QueueFull => {
                    play = refused.returned;
                    engine.output.process(&mut []);
                }
                Err(refused) => panic!("benchmark stream refused a voice: {}", refused.error),
            }
        }
    }
    let targets: Vec<GainTarget> = match feature {
        Feature::GainRamp => ids.into_iter().map(GainTarget::Action).collect(),
        Feature::MasterRamp => vec![GainTarget::Master(0), GainTarget::Master(1)],
        _ => Vec::new(),
    };
    for target in targets {
        loop {
            match ctl.set_gain(target, 0.0, LONG_RAMP, At::Frame(1), Late::Skip) {
                Ok(_) => break,
                Err(Error::QueueFull) => engine.output.process(&mut []),
                Err(e) => panic!("benchmark stream refused a gain: {e}"),
            }
        }
    }
    engine.output.process(&mut [0.0; 2]);
}

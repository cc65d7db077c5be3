//! Level meters: peak and RMS per channel over the frames since the control side last read
//! that channel.
//!
//! # Design
//!
//! Each metered channel has two accumulator slots (peak, sum of squares as an `f64`, frames
//! as a `u64`, all stored as `AtomicU32` words because `thumbv7em` has no 64-bit atomics).
//! Bit `c` of `active` says which of channel `c`'s slots the audio side adds to; only the
//! control side writes `active`. A read flips the bit, so the audio side moves on to the
//! other (zeroed) slot, waits until the audio side can no longer be inside the old slot,
//! then takes the old slot's totals and zeroes it. Every block lands in exactly one slot and
//! every slot is read exactly once, so each read covers exactly the blocks since the previous
//! read, and the totals start from zero at every read: no growing cumulative sum whose
//! differences lose precision, and a bad sample affects one read only.
//!
//! The audio side never waits: [`MeterBank::measure`] is straight-line code (one fence, one
//! load of `active`, a fixed number of loads and stores per channel) with no read-modify-write
//! and no retry loop, so it is wait-free. The control side may wait, at most until the audio
//! side finishes publishing one block (a few dozen loads and stores), like a seqlock reader.
//!
//! # Memory ordering
//!
//! `seq` is written only by the audio side: it is made odd (a `Release` store) before the
//! block's totals are added and even again (`Release`) after. The per-block work itself (the
//! per-sample loop) happens before the odd store, so the window is short.
//!
//! * **Which slot a block uses.** The audio side does `seq := odd; fence(SeqCst); load
//!   active`, the control side `store active (flipped); fence(SeqCst); load seq`. The two
//!   `SeqCst` fences are totally ordered, so for every block either the audio side's load sees
//!   the flip (the block fills the new slot) or the control side's load of `seq` sees that
//!   block's odd store or a later one (the store-buffering argument of Dekker's algorithm).
//! * **Old slot to the control side.** Let `B` be the last block that filled the old slot.
//!   By the above, the control side's `seq` load sees `B`'s odd store or later. If it sees an
//!   odd value it spins (with `Acquire` loads) until `seq` changes, so in every case it
//!   proceeds only after an `Acquire` load of a `seq` value the audio side stored at or after
//!   `B`'s closing store. Every `seq` store is `Release`, so all of `B`'s slot writes (and
//!   every earlier block's) happen before the control side reads the slot: no torn words,
//!   no block half-counted.
//! * **Slot back to the audio side.** The control side zeroes the slot before a later read
//!   flips the bit back; that flip is a `Release` store and the audio side loads `active`
//!   with `Acquire`, so the zeroing happens before the audio side adds to the slot again.
//!
//! The slot words themselves are `Relaxed`: by the above only one side touches a slot at a
//! time. `seq` wraps after 2^32 stores; the control side only waits for it to differ from a
//! value it just loaded, so a wrap could only lengthen a wait, never shorten it.
//!
//! Each bank has one writer (the audio side of its direction) and one reader (the control
//! side, through the controller's `&mut self`). The reader must not preempt the writer on
//! the same core (for example a control interrupt above the audio interrupt): it would spin
//! on a block that cannot finish.

use core::hint::spin_loop;
use core::sync::atomic::{
    fence, AtomicU32,
    Ordering::{Acquire, Relaxed, Release, SeqCst},
};

/// The most channels per direction that are metered; channels beyond are not metered.
pub const MAX_METER_CHANNELS: usize = 32;

// One bit of `MeterBank::active` per channel.
const _: () = assert!(MAX_METER_CHANNELS <= u32::BITS as usize);

/// Peak and RMS of one channel over the frames since the previous read.
///
/// A sample that is NaN or infinite measures as an infinite magnitude: the read that covers
/// it shows an over (`peak` and usually `rms` infinite) rather than a NaN, and the next read
/// starts afresh. So `peak` and `rms` are never NaN.
///
/// ```
/// use rtmix_core::Level;
///
/// // Nothing measured since the previous read.
/// let quiet = Level::default();
/// assert_eq!(quiet, Level { peak: 0.0, rms: 0.0, frames: 0 });
/// // Levels in dBFS, for a meter's scale.
/// let level = Level { peak: 0.5, rms: 0.25, frames: 480 };
/// assert!((20.0 * level.peak.log10() + 6.02).abs() < 0.01);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Level {
    /// Largest absolute sample value.
    pub peak: f32,
    /// Root mean square over `frames` (0.0 when `frames` is 0).
    pub rms: f32,
    /// Frames measured since the previous read.
    pub frames: u64,
}

/// Shared storage for the meters of one direction: written by the audio side, read by the
/// control side, lock-free. See the module documentation for the protocol. `S` holds the
/// two slots of each metered channel: an array in a firmware's storage, a boxed slice
/// on a host.
#[derive(Debug)]
#[doc(hidden)]
pub struct MeterBank<S> {
    /// Bit `c`: which of channel `c`'s two slots the audio side adds to. Control side only
    /// stores it.
    active: AtomicU32,
    /// Audio side only stores it: odd while a block's totals are being added.
    seq: AtomicU32,
    /// Per channel, the two slots.
    slots: S,
}

/// The two accumulator slots of one metered channel.
#[doc(hidden)]
pub type MeterSlots = [MeterSlot; 2];

impl<const N: usize> MeterBank<[MeterSlots; N]> {
    /// Zero totals, every channel filling its first slot: meters for `N` channels.
    pub(crate) const fn new() -> Self {
        Self {
            active: AtomicU32::new(0),
            seq: AtomicU32::new(0),
            slots: [const { [MeterSlot::new(), MeterSlot::new()] }; N],
        }
    }

    /// Resets everything (when a stream is made over reused storage; exclusive access).
    pub(crate) fn reset(&mut self) {
        *self.active.get_mut() = 0;
        *self.seq.get_mut() = 0;
        for slots in &mut self.slots {
            *slots = [MeterSlot::new(), MeterSlot::new()];
        }
    }
}

#[cfg(feature = "alloc")]
impl MeterBank<alloc::boxed::Box<[MeterSlots]>> {
    /// Zero totals for the first `channels` channels (at most [`MAX_METER_CHANNELS`]).
    pub(crate) fn with_channels(channels: usize) -> Self {
        let metered = channels.min(MAX_METER_CHANNELS);
        Self {
            active: AtomicU32::new(0),
            seq: AtomicU32::new(0),
            slots: (0..metered)
                .map(|_| [MeterSlot::new(), MeterSlot::new()])
                .collect(),
        }
    }
}

impl<S: AsRef<[MeterSlots]>> MeterBank<S> {
    /// Audio side, once per block: measures the interleaved `block` (`channels` wide; only
    /// whole frames; only the first [`MAX_METER_CHANNELS`] channels) and publishes the block's
    /// peak and sum of squares per channel. Never waits.
    #[inline(never)]
    pub(crate) fn measure(&self, block: &[f32], channels: usize) {
        if channels == 0 || block.len() < channels {
            return;
        }
        let mut peak = [0.0f32; MAX_METER_CHANNELS];
        let mut sum = [0.0f32; MAX_METER_CHANNELS];
        self.gauge(block, channels, &mut peak, &mut sum);
        self.publish_block(&peak, &sum, block.len(), channels);
    }

    /// [`measure`](Self::measure), with a look at the block first: `check` gets the
    /// largest magnitude in it (a NaN measures as infinite; infinite too if some samples
    /// are not metered, beyond [`MAX_METER_CHANNELS`] channels) and the block, and returns
    /// true if it changed the block, which is then measured again. So the output's check
    /// that every sample is finite and within [-1, 1] costs no pass of its own.
    pub(crate) fn measure_checked(
        &self,
        block: &mut [f32],
        channels: usize,
        check: impl FnOnce(f32, &mut [f32]) -> bool,
    ) {
        if channels == 0 || block.len() < channels {
            check(0.0, block);
            return;
        }
        let mut peak = [0.0f32; MAX_METER_CHANNELS];
        let mut sum = [0.0f32; MAX_METER_CHANNELS];
        self.gauge(block, channels, &mut peak, &mut sum);
        // After the fold, channel `c`'s peak covers every lane of channel `c`.
        let loudest = match peak.get(..channels) {
            Some(peaks) => peaks.iter().fold(0.0, |m, &p| max(m, p)),
            None => f32::INFINITY,
        };
        if check(loudest, block) {
            // The rare case, out of line: measure the changed block afresh.
            self.measure(block, channels);
        } else {
            self.publish_block(&peak, &sum, block.len(), channels);
        }
    }

    /// The per-sample work of [`measure`](Self::measure): every channel's peak and sum of
    /// squares (the first `channels` entries, at most [`MAX_METER_CHANNELS`]).
    #[inline]
    fn gauge(
        &self,
        block: &[f32],
        channels: usize,
        peak: &mut [f32; MAX_METER_CHANNELS],
        sum: &mut [f32; MAX_METER_CHANNELS],
    ) {
        let mut lanes = accumulate(block, channels, peak, sum);
        let metered = channels.min(self.slots.as_ref().len());
        if lanes == ROW_TARGET {
            // 1, 2, 4, 8 or 16 channels: halve the lanes until one is left per channel
            // (lane `j + half` is channel `j`'s, as `half` is a multiple of `channels`): a
            // few vector steps instead of a chain of up to 15 dependent ones.
            if channels <= 8 {
                fold_half::<8>(peak, sum);
            }
            if channels <= 4 {
                fold_half::<4>(peak, sum);
            }
            if channels <= 2 {
                fold_half::<2>(peak, sum);
            }
            if channels <= 1 {
                fold_half::<1>(peak, sum);
            }
            lanes = channels;
        }
        // Fold lane `j` into channel `j % channels` (the identity when a row is one frame).
        // (A running channel index rather than `j % channels`: no division per lane.) It
        // starts at channel 0: lanes are left beyond `metered` only if every channel is
        // metered (beyond 32 channels, there are 32 lanes, all metered).
        let mut c = 0;
        for j in metered..lanes {
            peak[c] = max(peak[c], peak[j]);
            sum[c] += sum[j];
            c += 1;
            if c == channels {
                c = 0;
            }
        }
    }

    /// Publishes the figures [`gauge`](Self::gauge) left for a block of `len` samples.
    #[inline]
    fn publish_block(&self, peak: &[f32], sum: &[f32], len: usize, channels: usize) {
        let frames = crate::frame::whole_frames(len, channels) as u64;
        let metered = channels.min(self.slots.as_ref().len());
        self.publish(peak, sum, frames, metered);
    }

    /// Audio side: `frames` frames of silence on `channels` channels, without reading them
    /// (a block nothing played into).
    pub(crate) fn measure_silence(&self, frames: u64, channels: usize) {
        if channels == 0 || frames == 0 {
            return;
        }
        let zeros = [0.0f32; MAX_METER_CHANNELS];
        self.publish(
            &zeros,
            &zeros,
            frames,
            channels.min(self.slots.as_ref().len()),
        );
    }

    /// Adds one block's figures for the first `metered` channels to the slots in use.
    fn publish(&self, peak: &[f32], sum: &[f32], frames: u64, metered: usize) {
        let seq = self.seq.load(Relaxed);
        self.seq.store(seq.wrapping_add(1), Release);
        // Orders the odd `seq` store before the `active` load (see the module docs).
        fence(SeqCst);
        let active = self.active.load(Acquire);
        let totals = self.slots.as_ref().iter().zip(peak).zip(sum).take(metered);
        for (c, ((slots, &p), &s)) in totals.enumerate() {
            slots[(active >> c) as usize & 1].add(p, s, frames);
        }
        self.seq.store(seq.wrapping_add(2), Release);
    }

    /// Control side: the level of `channel` since the previous `read` of that channel, or
    /// None if channel >= [`MAX_METER_CHANNELS`]. There must be one reader at a time.
    ///
    /// May spin until the audio side finishes publishing the block it is in (bounded by a
    /// few dozen loads and stores while the audio side runs).
    pub(crate) fn read(&self, channel: usize) -> Option<Level> {
        let slots = self.slots.as_ref().get(channel)?;
        // Only this side stores `active`, so this loads its own last store.
        let active = self.active.load(Relaxed);
        let old = (active >> channel) as usize & 1;
        // Release: the previous read's zeroing of the slot handed back here happens before
        // the audio side adds to it.
        self.active.store(active ^ (1 << channel), Release);
        fence(SeqCst);
        let seq = self.seq.load(Acquire);
        if seq & 1 == 1 {
            // A block may still be adding to the old slot: wait for it to close.
            while self.seq.load(Acquire) == seq {
                spin_loop();
            }
        }
        Some(slots[old].take())
    }
}

/// One channel's totals in one of its two slots. The `f64` and `u64` are split into `u32`
/// words (low, high); only one side touches a slot at a time, so the words cannot tear.
#[derive(Debug)]
#[doc(hidden)]
pub struct MeterSlot {
    /// Bits of the largest magnitude (non-negative, never NaN).
    peak: AtomicU32,
    /// Bits of the `f64` sum of squares.
    sum: [AtomicU32; 2],
    /// Frames.
    frames: [AtomicU32; 2],
}

impl MeterSlot {
    const fn new() -> Self {
        Self {
            peak: AtomicU32::new(0),
            sum: [AtomicU32::new(0), AtomicU32::new(0)],
            frames: [AtomicU32::new(0), AtomicU32::new(0)],
        }
    }

    /// Audio side, while it owns the slot.
    fn add(&self, peak: f32, sum: f32, frames: u64) {
        let old = f32::from_bits(self.peak.load(Relaxed));
        self.peak.store(max(old, peak).to_bits(), Relaxed);
        let total = f64::from_bits(load_u64(&self.sum)) + f64::from(sum);
        store_u64(&self.sum, total.to_bits());
        store_u64(&self.frames, load_u64(&self.frames).saturating_add(frames));
    }

    /// Control side, while it owns the slot: the totals as a level, leaving zeros.
    fn take(&self) -> Level {
        let peak = f32::from_bits(self.peak.load(Relaxed));
        self.peak.store(0, Relaxed);
        let sum = f64::from_bits(load_u64(&self.sum));
        let frames = load_u64(&self.frames);
        store_u64(&self.sum, 0);
        store_u64(&self.frames, 0);
        let rms = if frames == 0 {
            0.0
        } else {
            sqrt(sum / frames as f64) as f32
        };
        Level { peak, rms, frames }
    }
}

fn load_u64(words: &[AtomicU32; 2]) -> u64 {
    u64::from(words[0].load(Relaxed)) | u64::from(words[1].load(Relaxed)) << 32
}

fn store_u64(words: &[AtomicU32; 2], value: u64) {
    words[0].store(value as u32, Relaxed);
    words[1].store((value >> 32) as u32, Relaxed);
}

/// Samples per row of independent lanes: enough for the per-sample loop to vectorise even for
/// mono and stereo, where a loop over one frame's channels would be too short.
const ROW_TARGET: usize = 16;

/// Per-lane peak magnitude and sum of squares of the whole frames of `block`, returning the
/// number of lanes used (the lanes past it are still zero). The block is cut into rows of
/// whole frames (`ROW_TARGET / channels` frames, at least one), and lane `j` gathers sample
/// `j` of every row, so it belongs to channel `j % channels`. Samples past the first
/// [`MAX_METER_CHANNELS`] of a frame, and a partial last frame, are never touched.
fn accumulate(
    block: &[f32],
    channels: usize,
    peak: &mut [f32; MAX_METER_CHANNELS],
    sum: &mut [f32; MAX_METER_CHANNELS],
) -> usize {
    let row = crate::frame::whole_frames(ROW_TARGET, channels).max(1) * channels;
    let width = channels.min(MAX_METER_CHANNELS);
    // A block shorter than a row (a tiny block) fills one frame's lanes only.
    let lanes = if block.len() < row {
        width
    } else {
        row.min(MAX_METER_CHANNELS)
    };
    let tail = if row == ROW_TARGET {
        // 1, 2, 4, 8 or 16 channels: rows of a length the compiler knows, fully vectorised
        // (and cut without a division).
        let rows = block.chunks_exact(ROW_TARGET);
        let tail = rows.remainder();
        let (peak, sum) = (first_row(peak), first_row(sum));
        for r in rows {
            if let Ok(r) = <&[f32; ROW_TARGET]>::try_from(r) {
                add_lanes(r, &mut *peak, &mut *sum);
            }
        }
        tail
    } else {
        let rows = block.chunks_exact(row);
        let tail = rows.remainder();
        for r in rows {
            add_lanes(&r[..lanes], &mut peak[..lanes], &mut sum[..lanes]);
        }
        tail
    };
    // Whole frames left over after the last full row: one frame per row.
    for frame in tail.chunks_exact(channels) {
        add_lanes(&frame[..width], &mut peak[..width], &mut sum[..width]);
    }
    // A NaN measures as infinite. The loop above leaves it out of the peak (a comparison
    // with NaN is false) and makes the lane's sum NaN (a square of anything else is a
    // number >= 0, and so is every sum of them): so the lanes whose sum is NaN, and only
    // those, met one. Fixing them here gives what measuring each NaN as infinite would
    // (an infinite peak and sum), without a select per sample.
    for (p, s) in peak.iter_mut().zip(sum.iter_mut()).take(lanes) {
        if s.is_nan() {
            *p = f32::INFINITY;
            *s = f32::INFINITY;
        }
    }
    lanes
}

/// Folds lanes `N..2N` into lanes `0..N`.
#[inline]
fn fold_half<const N: usize>(
    peak: &mut [f32; MAX_METER_CHANNELS],
    sum: &mut [f32; MAX_METER_CHANNELS],
) {
    let (low, high) = peak.split_at_mut(N);
    for (l, h) in low.iter_mut().zip(&high[..N]) {
        *l = max(*l, *h);
    }
    let (low, high) = sum.split_at_mut(N);
    for (l, h) in low.iter_mut().zip(&high[..N]) {
        *l += *h;
    }
}

/// The first `ROW_TARGET` lanes.
fn first_row(lanes: &mut [f32; MAX_METER_CHANNELS]) -> &mut [f32; ROW_TARGET] {
    let (row, _) = lanes
        .split_first_chunk_mut::<ROW_TARGET>()
        .expect("32 >= 16 lanes");
    row
}

/// The per-sample loop: independent lanes, so it vectorises without reassociating.
#[inline]
fn add_lanes<'a>(
    samples: impl IntoIterator<Item = &'a f32>,
    peak: impl IntoIterator<Item = &'a mut f32>,
    sum: impl IntoIterator<Item = &'a mut f32>,
) {
    for ((&x, p), s) in samples.into_iter().zip(peak).zip(sum) {
        let m = abs(x);
        *p = max(*p, m);
        *s += m * m;
    }
}

/// `|x|` (NaN stays NaN: [`accumulate`] deals with it once per lane).
#[inline]
fn abs(x: f32) -> f32 {
    // Clearing the sign bit is `abs` (not in `core` at the minimum supported Rust).
    f32::from_bits(x.to_bits() & 0x7FFF_FFFF)
}

/// Maximum of two magnitudes: a plain compare-and-select, which vectorises. A NaN `b`
/// leaves `a`.
#[inline]
fn max(a: f32, b: f32) -> f32 {
    if b > a {
        b
    } else {
        a
    }
}

/// Square root of a mean square, which is 0, +inf or at least 2^-213 (the smallest non-zero
/// `f32` square over at most 2^64 frames), so always normal: `core` has no `sqrt` at the
/// minimum supported Rust. Halving the exponent gives a start within 6%, and four Newton
/// steps take that below `f64` precision.
fn sqrt(x: f64) -> f64 {
    if x <= 0.0 || x == f64::INFINITY {
        return x;
    }
    let mut y = f64::from_bits((x.to_bits() >> 1) + 0x1FF8_0000_0000_0000);
    for _ in 0..4 {
        y = 0.5 * (y + x / y);
    }
    y
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::sync::atomic::AtomicBool;
    use std::vec::Vec;

    use super::*;

    type Bank32 = MeterBank<[MeterSlots; MAX_METER_CHANNELS]>;

    /// Reference level in `f64` of channel `c` of an interleaved block.
    fn reference(block: &[f32], channels: usize, c: usize) -> (f32, f64, u64) {
        let frames = block.len() / channels;
        let mut peak = 0.0f32;
        let mut sum = 0.0f64;
        for f in 0..frames {
            let x = block[f * channels + c];
            peak = peak.max(x.abs());
            sum += f64::from(x) * f64::from(x);
        }
        (peak, sum, frames as u64)
    }

    fn assert_rms(got: f32, want: f64) {
        let err = (f64::from(got) - want).abs();
        assert!(err <= want * 1e-6, "rms {got} != {want}");
    }

    /// A deterministic pseudo-random sample in [-1, 1).
    fn noise(state: &mut u32) -> f32 {
        *state ^= *state << 13;
        *state ^= *state >> 17;
        *state ^= *state << 5;
        (*state >> 8) as f32 / (1u32 << 23) as f32 - 1.0
    }

    #[test]
    fn peak_and_rms_of_a_known_block() {
        let bank = Bank32::new();
        // Stereo: channel 0 alternates ±0.5, channel 1 is -1.0, 0.0 repeating.
        let block: Vec<f32> = (0..64)
            .flat_map(|i| {
                let a = if i % 2 == 0 { 0.5 } else { -0.5 };
                let b = if i % 2 == 0 { -1.0 } else { 0.0 };
                [a, b]
            })
            .collect();
        bank.measure(&block, 2);
        let l0 = bank.read(0).unwrap();
        let l1 = bank.read(1).unwrap();
        assert_eq!(
            l0,
            Level {
                peak: 0.5,
                rms: 0.5,
                frames: 64
            }
        );
        assert_eq!(l1.peak, 1.0);
        assert_eq!(l1.frames, 64);
        assert_rms(l1.rms, 0.5f64.sqrt());
    }

    #[test]
    fn matches_an_f64_reference_for_many_widths() {
        let mut state = 0x1234_5678;
        // Under Miri, short blocks only (the widths are what it is about): 45 s otherwise.
        let lengths: &[usize] = if cfg!(miri) {
            &[1, 2, 5, 17]
        } else {
            &[1, 2, 5, 16, 17, 100, 257]
        };
        for channels in [1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 32, 33, 40] {
            for &frames in lengths {
                let bank = Bank32::new();
                let block: Vec<f32> = (0..frames * channels).map(|_| noise(&mut state)).collect();
                bank.measure(&block, channels);
                for c in 0..channels.min(MAX_METER_CHANNELS) {
                    let (peak, sum, n) = reference(&block, channels, c);
                    let l = bank.read(c).unwrap();
                    assert_eq!(
                        (l.peak, l.frames),
                        (peak, n),
                        "{channels} ch, {frames} frames"
                    );
                    // Per-block squares are summed in f32: allow its rounding.
                    let want = (sum / n as f64).sqrt();
                    let err = (f64::from(l.rms) - want).abs();
                    assert!(
                        err <= want * 1e-5,
                        "{channels} ch, ch {c}: {} != {want}",
                        l.rms
                    );
                }
            }
        }
    }

    #[test]
    fn a_read_resets_the_channel() {
        let bank = Bank32::new();
        bank.measure(&[0.25, -0.75, 0.25, -0.75], 2);
        assert_eq!(bank.read(1).unwrap().peak, 0.75);
        assert_eq!(bank.read(1).unwrap(), Level::default());
        // The other channel is untouched by channel 1's reads.
        assert_eq!(bank.read(0).unwrap().frames, 2);
        assert_eq!(bank.read(0).unwrap(), Level::default());
        // Both slots of a channel are used in turn and come back zeroed.
        for _ in 0..3 {
            bank.measure(&[0.5, 0.5], 2);
            let l = bank.read(1).unwrap();
            assert_eq!(
                l,
                Level {
                    peak: 0.5,
                    rms: 0.5,
                    frames: 1
                }
            );
        }
    }

    #[test]
    fn channels_past_the_limit_are_not_metered() {
        let bank = Bank32::new();
        let channels = MAX_METER_CHANNELS + 8;
        // Channels beyond the limit carry a huge value that must not leak anywhere.
        let block: Vec<f32> = (0..3 * channels)
            .map(|i| {
                if i % channels < MAX_METER_CHANNELS {
                    0.125
                } else {
                    100.0
                }
            })
            .collect();
        bank.measure(&block, channels);
        for c in 0..MAX_METER_CHANNELS {
            let l = bank.read(c).unwrap();
            assert_eq!(
                l,
                Level {
                    peak: 0.125,
                    rms: 0.125,
                    frames: 3
                }
            );
        }
        assert_eq!(bank.read(MAX_METER_CHANNELS), None);
        assert_eq!(bank.read(usize::MAX), None);
    }

    #[test]
    fn partial_frames_and_empty_blocks_are_ignored() {
        let bank = Bank32::new();
        bank.measure(&[0.25, 0.5, 0.25, 0.5, 0.25, 9.0], 4);
        bank.measure(&[9.0], 2);
        bank.measure(&[], 2);
        bank.measure(&[9.0; 4], 0);
        assert_eq!(bank.read(0).unwrap().frames, 1);
        let l = bank.read(1).unwrap();
        assert_eq!(
            l,
            Level {
                peak: 0.5,
                rms: 0.5,
                frames: 1
            }
        );
        // Only whole frames: the 9.0 in the partial frame was never seen.
        bank.measure(&[0.5, 0.25, 0.5, 0.25, 9.0], 2);
        assert_eq!(bank.read(0).unwrap().peak, 0.5);
    }

    // Found by cargo-mutants: the checked path's guard was never given no channels.
    #[test]
    fn the_checked_path_ignores_partial_frames_and_channelless_blocks_too() {
        let bank = Bank32::new();
        for (block, channels) in [(&mut [9.0f32][..], 2), (&mut [], 2), (&mut [9.0; 4], 0)] {
            let mut seen = None;
            bank.measure_checked(block, channels, |loudest, _| {
                seen = Some(loudest);
                false
            });
            assert_eq!(seen, Some(0.0), "{channels} channels: nothing to check");
        }
        assert_eq!(bank.read(0).unwrap().frames, 0);
    }

    #[test]
    fn blocks_accumulate_until_read() {
        let bank = Bank32::new();
        let mut state = 7;
        let mut all: Vec<f32> = Vec::new();
        for frames in [1, 64, 3, 128, 17] {
            let block: Vec<f32> = (0..frames * 3).map(|_| noise(&mut state) * 0.5).collect();
            bank.measure(&block, 3);
            all.extend(&block);
        }
        // A narrower block meters only its own channels.
        bank.measure(&[0.75; 10], 1);
        for c in 0..3 {
            let (mut peak, sum, mut frames) = reference(&all, 3, c);
            let mut sum = sum;
            if c == 0 {
                peak = peak.max(0.75);
                sum += 10.0 * 0.75 * 0.75;
                frames += 10;
            }
            let l = bank.read(c).unwrap();
            assert_eq!((l.peak, l.frames), (peak, frames));
            let want = (sum / frames as f64).sqrt();
            assert!((f64::from(l.rms) - want).abs() <= want * 1e-5);
        }
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "safe arithmetic many times over: minutes under Miri, which has no unsafe code to check here"
    )]
    fn a_nan_anywhere_in_a_long_block_is_an_over_on_its_channel_only() {
        // Every position of blocks long enough for the rows of lanes, and the frames
        // after the last whole row, on every width whose rows are 16 lanes and on others.
        for channels in [1usize, 2, 3, 4, 5, 8, 16, 33] {
            let frames = 40;
            for at in 0..frames * channels {
                let bank = Bank32::new();
                let mut block = std::vec![0.5f32; frames * channels];
                block[at] = if at % 2 == 0 { f32::NAN } else { -f32::NAN };
                bank.measure(&block, channels);
                for c in 0..channels.min(MAX_METER_CHANNELS) {
                    let l = bank.read(c).unwrap();
                    let want = if c == at % channels {
                        (f32::INFINITY, f32::INFINITY)
                    } else {
                        (0.5, 0.5)
                    };
                    assert_eq!(
                        (l.peak, l.rms, l.frames),
                        (want.0, want.1, 40),
                        "{channels} channels, NaN at {at}, channel {c}"
                    );
                }
            }
        }
    }

    #[test]
    fn non_finite_samples_show_as_an_over_for_one_read() {
        let bank = Bank32::new();
        bank.measure(&[0.5, f32::NAN, 0.5, 0.25], 2);
        bank.measure(&[f32::NEG_INFINITY, 0.25], 2);
        let l0 = bank.read(0).unwrap();
        let l1 = bank.read(1).unwrap();
        assert_eq!(
            l0,
            Level {
                peak: f32::INFINITY,
                rms: f32::INFINITY,
                frames: 3
            }
        );
        assert_eq!(
            l1,
            Level {
                peak: f32::INFINITY,
                rms: f32::INFINITY,
                frames: 3
            }
        );
        // The meter recovers at the next read.
        bank.measure(&[0.5, 0.5], 2);
        assert_eq!(
            bank.read(1).unwrap(),
            Level {
                peak: 0.5,
                rms: 0.5,
                frames: 1
            }
        );
        // A huge finite value whose square overflows f32 is an over too, never NaN.
        bank.measure(&[f32::MAX, 0.0], 2);
        let l = bank.read(0).unwrap();
        assert_eq!((l.peak, l.rms), (f32::MAX, f32::INFINITY));
    }

    // Found by cargo-mutants: a single-threaded test cannot see which slot the audio side
    // adds to, so a read that never flipped `active` (`1 >> channel`, `active & bit`) passed
    // every suite. The protocol (module docs) rests on that flip: check it for channels
    // past 0, up to the last bit.
    #[test]
    fn a_read_moves_the_audio_side_of_that_channel_alone_to_its_other_slot() {
        let bank = Bank32::new();
        for c in [1, 3, MAX_METER_CHANNELS - 1] {
            let before = bank.active.load(Relaxed);
            let _ = bank.read(c);
            assert_eq!(bank.active.load(Relaxed), before ^ (1 << c), "channel {c}");
        }
        assert_eq!(bank.active.load(Relaxed), 0x8000_000A);
        // A block now lands in channel 3's second slot; the read takes it from there.
        bank.measure(&[0.0, 0.0, 0.0, 0.5], 4);
        assert_eq!(f32::from_bits(bank.slots[3][1].peak.load(Relaxed)), 0.5);
        assert_eq!(bank.slots[3][0].peak.load(Relaxed), 0);
        assert_eq!(bank.read(3).unwrap().peak, 0.5);
        assert_eq!(bank.active.load(Relaxed), 0x8000_0002);
    }

    #[test]
    fn reset_clears_everything() {
        let mut bank = Bank32::new();
        bank.measure(&[0.5, 0.5], 2);
        let _ = bank.read(0);
        bank.measure(&[0.5, 0.5], 2);
        bank.reset();
        assert_eq!(bank.active.load(Relaxed), 0);
        for c in 0..MAX_METER_CHANNELS {
            assert_eq!(bank.read(c).unwrap(), Level::default());
        }
    }

    #[test]
    fn sqrt_is_accurate() {
        for x in [
            1e-64_f64, 2.5e-33, 1e-10, 0.09, 0.25, 1.0, 2.0, 3.0, 1e10, 3e38, 1e300,
        ] {
            let want = x.sqrt();
            assert!((sqrt(x) - want).abs() <= want * 1e-15, "sqrt({x})");
        }
        assert_eq!(sqrt(0.0), 0.0);
        assert_eq!(sqrt(f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn sizes() {
        assert_eq!(size_of::<Bank32>(), 8 + MAX_METER_CHANNELS * 2 * 5 * 4);
    }

    /// One writer measures many blocks of a known constant amplitude per channel while a
    /// reader reads in a loop: nothing is lost or counted twice, and no read is torn.
    #[test]
    fn a_concurrent_reader_sees_every_frame_exactly_once() {
        const CHANNELS: usize = 3;
        // Under Miri, which checks the same races at an interpreter's pace, a hundred.
        const BLOCKS: usize = if cfg!(miri) { 100 } else { 200_000 };
        // Not powers of two, so an f32 rounding slip or a mixed-up slot would show.
        const AMP: [f32; CHANNELS] = [0.3, 0.7, 0.0123];
        let bank = Bank32::new();
        let done = AtomicBool::new(false);
        let written = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                let mut block = [0.0f32; 64 * CHANNELS];
                let mut total = 0u64;
                for i in 0..BLOCKS {
                    let frames = 1 + i % 64;
                    for (j, x) in block[..frames * CHANNELS].iter_mut().enumerate() {
                        // Alternating signs: the magnitude, not the sign, is measured.
                        let sign = if (i + j / CHANNELS).is_multiple_of(2) {
                            1.0
                        } else {
                            -1.0
                        };
                        *x = sign * AMP[j % CHANNELS];
                    }
                    bank.measure(&block[..frames * CHANNELS], CHANNELS);
                    total += frames as u64;
                }
                done.store(true, Release);
                total
            });
            let mut read = [0u64; CHANNELS];
            let mut reads = 0u64;
            let check = |c: usize, read: &mut [u64; CHANNELS]| {
                let l = bank.read(c).unwrap();
                read[c] += l.frames;
                if l.frames == 0 {
                    assert_eq!((l.peak, l.rms), (0.0, 0.0));
                } else {
                    assert_eq!(l.peak, AMP[c], "channel {c}");
                    let err = (l.rms - AMP[c]).abs();
                    assert!(
                        err <= AMP[c] * 1e-6,
                        "channel {c}: rms {} != {}",
                        l.rms,
                        AMP[c]
                    );
                }
            };
            while !done.load(Acquire) {
                check(reads as usize % CHANNELS, &mut read);
                reads += 1;
            }
            let written = writer.join().unwrap();
            for c in 0..CHANNELS {
                check(c, &mut read);
            }
            std::println!("{reads} reads during {BLOCKS} blocks");
            assert_eq!(read, [written; CHANNELS]);
            written
        });
        assert!(written > 0);
    }
}

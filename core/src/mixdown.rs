//! What happens to the output mix after every play is summed into it: the master gain of
//! each channel, then the protection of the device: a NaN or infinity (a huge sample times
//! a huge gain, say) becomes 0 and is counted, and with clamping on, samples beyond
//! [-1, 1] are clamped and counted.

use crate::envelope::Ramp;

/// The output stage's state, owned by the output half: a master gain for every output
/// channel (in `S`, one [`Ramp`] per channel), and whether to clamp.
#[derive(Debug)]
pub(crate) struct Mixdown<S> {
    master: S,
    /// Every master gain is exactly 1 from the next block on, for good, so a block needs
    /// one test, not a look at each channel. (A flag, not a frame: it fits beside `clamp`,
    /// so the engine grows by nothing; docs/embedded.md.)
    unity: bool,
    clamp: bool,
}

impl<S: core::ops::DerefMut<Target = [Ramp]>> Mixdown<S> {
    /// Unity master gains over `master`, and clamping as configured.
    pub(crate) fn new(mut master: S, clamp: bool) -> Self {
        master.fill(Ramp::UNITY);
        Self {
            master,
            unity: true,
            clamp,
        }
    }

    /// Ramps the master gain of `channel` to `to` over `len` frames from frame `start`;
    /// false for a channel without a master gain.
    pub(crate) fn set_master(&mut self, channel: u16, to: f32, len: u64, start: u64) -> bool {
        let Some(ramp) = self.master.get_mut(usize::from(channel)) else {
            return false;
        };
        *ramp = Ramp {
            start,
            len,
            from: ramp.value(start),
            to,
        };
        self.unity = false;
        true
    }

    /// Applies the master gains to the interleaved `block`, whose first frame is `frame`,
    /// which comes after every block before it: nothing to do once they are all 1 for good.
    #[inline]
    pub(crate) fn apply_master(&mut self, block: &mut [f32], channels: usize, frame: u64) {
        if !self.unity {
            self.apply_ramps(block, channels, frame);
        }
    }

    /// [`apply_master`](Self::apply_master) channel by channel; then, if every ramp has
    /// reached 1 by the block's end (or never left it), the blocks after it skip this.
    #[inline(never)]
    fn apply_ramps(&mut self, block: &mut [f32], channels: usize, frame: u64) {
        let frames = crate::frame::whole_frames(block.len(), channels);
        let end = frame.saturating_add(frames as u64);
        self.unity = self
            .master
            .iter()
            .all(|r| r.to == 1.0 && (r.from == 1.0 || r.start.saturating_add(r.len) <= end));
        for (c, ramp) in self.master.iter().enumerate().take(channels) {
            match ramp.constant_over(frame, frames as u64) {
                Some(1.0) => {}
                Some(g) => block
                    .iter_mut()
                    .skip(c)
                    .step_by(channels)
                    .for_each(|x| *x *= g),
                None => {
                    for (i, x) in block.iter_mut().skip(c).step_by(channels).enumerate() {
                        *x *= ramp.value(frame + i as u64);
                    }
                }
            }
        }
    }

    /// Whether samples beyond [-1, 1] are clamped.
    pub(crate) fn clamps(&self) -> bool {
        self.clamp
    }

    /// Replaces non-finite samples by 0 and, if clamping, clamps to [-1, 1]. Returns the
    /// samples that were not finite and those beyond [-1, 1] (clamped or not).
    pub(crate) fn protect(&self, block: &mut [f32]) -> (u64, u64) {
        // The common case first, as one vectorised pass: every sample within [-1, 1].
        // One integer comparison a sample: the magnitude's bits order as the magnitudes
        // do, and a NaN's are above infinity's.
        let suspect = block.iter().fold(0u32, |n, x| {
            n + u32::from(x.to_bits() & 0x7fff_ffff > ONE_BITS)
        });
        if suspect == 0 {
            return (0, 0);
        }
        let (mut non_finite, mut beyond) = (0u64, 0u64);
        for x in block.iter_mut() {
            let bad = !x.is_finite();
            non_finite += u64::from(bad);
            if bad {
                *x = 0.0;
            }
            beyond += u64::from(x.abs() > 1.0);
        }
        if self.clamp && beyond > 0 {
            for x in block.iter_mut() {
                *x = x.clamp(-1.0, 1.0);
            }
        }
        (non_finite, beyond)
    }
}

/// The bits of 1.0: a magnitude's bits above these are a sample beyond [-1, 1], or NaN.
const ONE_BITS: u32 = 0x3f80_0000;

/// The samples of `block` beyond [-1, 1] (NaN is not), counted in one vectorised pass.
pub(crate) fn beyond(block: &[f32]) -> u64 {
    let n = block.iter().fold(0u32, |n, x| n + u32::from(x.abs() > 1.0));
    u64::from(n)
}

#[cfg(test)]
mod tests {
    //! The master gains, skipped once all are 1 for good: every value written out from the
    //! ramp's definition (docs/features.md), never by calling the code under test.
    use super::*;

    /// A stereo mixdown and a block of `frames` frames of 2.0 from `frame`, master-gained.
    fn gained(mix: &mut Mixdown<&mut [Ramp]>, frame: u64, frames: usize) -> [[f32; 2]; 8] {
        let mut block = [2.0f32; 16];
        mix.apply_master(&mut block[..frames * 2], 2, frame);
        core::array::from_fn(|f| [block[2 * f], block[2 * f + 1]])
    }

    #[test]
    fn master_gains_apply_until_every_one_is_back_at_1_and_not_after() {
        let mut masters = [Ramp::constant(7.0); 2];
        let mut mix = Mixdown::new(&mut masters[..], false);
        // Unity from the start (the storage's old values are reset).
        assert_eq!(gained(&mut mix, 0, 8), [[2.0; 2]; 8]);
        // Channel 0 steps to 0.5 at frame 10, channel 1 to 0.25 at frame 12.
        assert!(mix.set_master(0, 0.5, 0, 10));
        assert!(mix.set_master(1, 0.25, 0, 12));
        let g = gained(&mut mix, 8, 8);
        assert_eq!(g[..2], [[2.0, 2.0]; 2]);
        assert_eq!(g[2..4], [[1.0, 2.0]; 2]);
        assert_eq!(g[4..], [[1.0, 0.5]; 4]);
        // Channel 0 back to 1 over 4 frames from frame 100: 0.5 + 0.5 * k / 4.
        assert!(mix.set_master(0, 1.0, 4, 100));
        let g = gained(&mut mix, 100, 6);
        let ch0: [f32; 6] = core::array::from_fn(|f| g[f][0]);
        assert_eq!(ch0, [1.0, 1.25, 1.5, 1.75, 2.0, 2.0]);
        // Channel 1 is still at 0.25 after channel 0's ramp ended.
        assert_eq!(gained(&mut mix, 200, 1)[0], [2.0, 0.5]);
        // Channel 1 back to 1 over 8 frames from 300; channel 0 has long been 1.
        assert!(mix.set_master(1, 1.0, 8, 300));
        // Under way at the end of a block: the next block is still gained.
        let g = gained(&mut mix, 300, 4);
        let ch1: [f32; 4] = core::array::from_fn(|f| g[f][1]);
        let want: [f32; 4] = core::array::from_fn(|k| 2.0 * (0.25 + 0.75 * (k as f32 / 8.0)));
        assert_eq!(ch1, want);
        let g = gained(&mut mix, 306, 3);
        assert_eq!(
            g[..3],
            [
                [2.0, 2.0 * (0.25 + 0.75 * (6.0 / 8.0))],
                [2.0, 2.0 * (0.25 + 0.75 * (7.0 / 8.0))],
                [2.0, 2.0]
            ]
        );
        assert_eq!(gained(&mut mix, 308, 8), [[2.0; 2]; 8]);
        // A ramp away from 1 that has not begun: 1 before it, its values from its start.
        assert!(mix.set_master(0, 0.0, 2, 400));
        // Still 1 before it begins, and the blocks after are gained all the same.
        assert_eq!(gained(&mut mix, 396, 2)[..2], [[2.0; 2]; 2]);
        let g = gained(&mut mix, 398, 5);
        let ch0: [f32; 5] = core::array::from_fn(|f| g[f][0]);
        assert_eq!(ch0, [2.0, 2.0, 2.0, 1.0, 0.0]);
        assert_eq!(gained(&mut mix, 403, 1)[0], [0.0, 2.0]);
        // A master gain past the channels is refused and changes nothing.
        assert!(!mix.set_master(2, 0.5, 0, 0));
        assert_eq!(gained(&mut mix, 404, 1)[0], [0.0, 2.0]);
    }
}

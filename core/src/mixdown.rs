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
    clamp: bool,
}

impl<S: core::ops::DerefMut<Target = [Ramp]>> Mixdown<S> {
    /// Unity master gains over `master`, and clamping as configured.
    pub(crate) fn new(mut master: S, clamp: bool) -> Self {
        master.fill(Ramp::UNITY);
        Self { master, clamp }
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
        true
    }

    /// Applies the master gains to the interleaved `block`, whose first frame is `frame`.
    pub(crate) fn apply_master(&self, block: &mut [f32], channels: usize, frame: u64) {
        let frames = crate::frame::whole_frames(block.len(), channels);
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

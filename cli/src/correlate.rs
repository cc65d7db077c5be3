//! The test signal of `rtmix latency` (a maximum-length sequence) and the
//! cross-correlation that finds it in a recording.

/// A maximum-length sequence of `2^12 - 1 = 4095` values of ±1, from a 12-bit Fibonacci
/// linear-feedback shift register (taps 12, 6, 4, 1). Its circular autocorrelation is 4095
/// at lag 0 and -1 elsewhere; a single burst's sidelobes stay near `sqrt(4095)`.
///
/// ```
/// let m = rtmix_cli::correlate::mls();
/// assert_eq!(m.len(), 4095);
/// // Balanced: one more +1 than -1.
/// assert_eq!(m.iter().sum::<f32>(), 1.0);
/// ```
pub fn mls() -> Vec<f32> {
    const ORDER: u32 = 12;
    let mut state: u16 = 1;
    let len = (1usize << ORDER) - 1;
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        out.push(if state & 1 == 1 { 1.0 } else { -1.0 });
        // Tap t of the register is shift 12 - t.
        let bit = (state ^ (state >> 6) ^ (state >> 8) ^ (state >> 11)) & 1;
        state = (state >> 1) | (bit << (ORDER - 1));
    }
    out
}

/// Where a signal was found in a recording.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Peak {
    /// The recording frame where the signal's first frame lies.
    pub position: usize,
    /// The correlation there over the signal's energy: the echo's gain (1.0 for a perfect
    /// loopback).
    pub gain: f64,
    /// The peak over the largest correlation more than two frames away from it: how clearly
    /// it stands out.
    pub clarity: f64,
}

/// Cross-correlates `signal` with `recording` at every position where it fits whole and
/// returns the largest positive peak (`None` for a recording shorter than the signal or a
/// silent signal).
///
/// ```
/// use rtmix_cli::correlate::{find, mls};
/// let m = mls();
/// let mut rec = vec![0.0f32; 10_000];
/// for (i, s) in m.iter().enumerate() {
///     rec[1234 + i] = 0.5 * s;
/// }
/// let peak = find(&m, &rec).unwrap();
/// assert_eq!(peak.position, 1234);
/// assert!((peak.gain - 0.5).abs() < 1e-6);
/// assert!(peak.clarity > 10.0);
/// ```
pub fn find(signal: &[f32], recording: &[f32]) -> Option<Peak> {
    let energy: f64 = signal.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    if signal.is_empty() || recording.len() < signal.len() || energy == 0.0 {
        return None;
    }
    let positions = recording.len() - signal.len() + 1;
    let corr = correlation(signal, recording, positions);
    let (position, &best) = corr.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let other = corr
        .iter()
        .enumerate()
        .filter(|(i, _)| i.abs_diff(position) > 2)
        .map(|(_, c)| c.abs())
        .fold(0.0f64, f64::max);
    Some(Peak {
        position,
        gain: best / energy,
        clarity: if other > 0.0 {
            best / other
        } else {
            f64::INFINITY
        },
    })
}

/// `corr[p] = sum_k signal[k] * recording[p + k]` for `p` in `0..positions`, through FFTs
/// (in f64: exact enough that the peak is the direct sum's).
fn correlation(signal: &[f32], recording: &[f32], positions: usize) -> Vec<f64> {
    let n = (recording.len() + signal.len()).next_power_of_two();
    let mut planner = realfft::RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(n);
    let inverse = planner.plan_fft_inverse(n);
    let spectrum = |x: &mut dyn Iterator<Item = f64>| {
        let mut input = forward.make_input_vec();
        for (slot, v) in input.iter_mut().zip(x) {
            *slot = v;
        }
        let mut out = forward.make_output_vec();
        // Cannot fail: the buffers are the plan's own.
        let _ = forward.process(&mut input, &mut out);
        out
    };
    let a = spectrum(&mut recording.iter().map(|&v| f64::from(v)));
    let b = spectrum(&mut signal.iter().map(|&v| f64::from(v)));
    // Correlation is the product with the conjugate.
    let mut product: Vec<_> = a.iter().zip(&b).map(|(x, y)| x * y.conj()).collect();
    let mut out = inverse.make_output_vec();
    let _ = inverse.process(&mut product, &mut out);
    out.truncate(positions);
    let scale = 1.0 / n as f64;
    for v in &mut out {
        *v *= scale;
    }
    out
}

/// The median of some values (the lower middle one for an even count).
///
/// ```
/// assert_eq!(rtmix_cli::correlate::median(&[3, 1, 2]), Some(2));
/// assert_eq!(rtmix_cli::correlate::median(&[4, 1, 2, 3]), Some(2));
/// assert_eq!(rtmix_cli::correlate::median::<i64>(&[]), None);
/// ```
pub fn median<T: Copy + Ord>(values: &[T]) -> Option<T> {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.get(v.len().saturating_sub(1) / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_is_maximal() {
        let m = mls();
        // Circular autocorrelation: 4095 at lag 0, -1 at every other lag.
        for lag in [1usize, 2, 100, 2047, 4094] {
            let c: f32 = (0..m.len()).map(|i| m[i] * m[(i + lag) % m.len()]).sum();
            assert_eq!(c, -1.0, "lag {lag}");
        }
    }
}

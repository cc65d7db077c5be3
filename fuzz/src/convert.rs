//! The `convert` target: samples of any bit pattern through every `rtmix_core::convert`
//! format, both ways, checked against an independent quantiser.
//!
//! The bytes are read as a run of `f32` bit patterns (every NaN payload, infinity,
//! subnormal and `-0.0` included) and, separately, as a run of integer device samples of
//! every width. For each format:
//!
//! * `from_f32(x)` equals `round(x * 2^(N-1))` rounded half away from zero (computed here
//!   with `f64::round`, not the core's code), clamped to `[-2^(N-1), 2^(N-1) - 1]`, NaN to
//!   0 (to the offset-binary silence for unsigned formats); its flag is set exactly when
//!   `x` is outside `[-1, 1]` or not finite (for `f32` and `f64`: not finite);
//! * `encode` returns the number of such flags, converts `min(src, dst)` samples and
//!   leaves the rest of `dst` alone; `decode` likewise;
//! * `to_f32` lies in `[-1, 1)`, and a device sample of up to 24 bits survives
//!   device -> `f32` -> device unchanged and unflagged; a 32-bit one comes back within the
//!   rounding of `f32`'s 24-bit mantissa (64 steps);
//! * in range, decoding an encoded `x` is within half a step of `x` (plus `f32` rounding);
//! * quantising is monotonic: for two finite inputs the encoded order follows.

use rtmix_core::convert::{decode, encode, I24Packed, Sample, I24};

/// Decodes and checks one input: the whole of the `convert` target.
pub fn check(data: &[u8]) {
    let floats: Vec<f32> = data
        .chunks_exact(4)
        .map(|c| f32::from_bits(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
        .collect();
    // The same bytes at an odd offset too, so that libFuzzer's byte mutations reach every
    // alignment.
    let shifted: Vec<f32> = data
        .get(1..)
        .unwrap_or_default()
        .chunks_exact(4)
        .map(|c| f32::from_bits(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
        .collect();
    for xs in [&floats, &shifted] {
        check_floats::<i8>(xs, 8);
        check_floats::<u8>(xs, 8);
        check_floats::<i16>(xs, 16);
        check_floats::<u16>(xs, 16);
        check_floats::<I24>(xs, 24);
        check_floats::<I24Packed>(xs, 24);
        check_floats::<i32>(xs, 32);
        check_floats::<u32>(xs, 32);
        check_float_formats(xs);
    }

    check_ints(data.iter().map(|&b| b.cast_signed()), 8);
    check_ints(data.iter().copied(), 8);
    check_ints(pairs(data).map(i16::from_le_bytes), 16);
    check_ints(pairs(data).map(u16::from_le_bytes), 16);
    check_ints(
        data.chunks_exact(3).map(|c| I24Packed([c[0], c[1], c[2]])),
        24,
    );
    for c in data.chunks_exact(4) {
        let raw = i32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        // S24_LE: the top byte is ignored on the way in.
        let v = I24(raw);
        let low = I24((raw << 8) >> 8);
        assert_eq!(
            v.to_f32().to_bits(),
            low.to_f32().to_bits(),
            "{raw:#x}: top byte read"
        );
        check_ints(std::iter::once(low), 24);
        check_ints(std::iter::once(raw), 32);
        check_ints(std::iter::once(raw as u32), 32);
    }
}

fn pairs(data: &[u8]) -> impl Iterator<Item = [u8; 2]> + '_ {
    data.chunks_exact(2).map(|c| [c[0], c[1]])
}

/// A device format as the oracle sees it: its integer value, offset-binary included.
trait Device: Sample + std::fmt::Debug + PartialEq + Default {
    /// The signed value (`-2^(N-1)..2^(N-1)`), silence at 0.
    fn signed(self) -> i64;
}

macro_rules! signed_device {
    ($($t:ty),*) => {$(
        impl Device for $t {
            fn signed(self) -> i64 {
                i64::from(self)
            }
        }
    )*};
}
signed_device!(i8, i16, i32);

impl Device for u8 {
    fn signed(self) -> i64 {
        i64::from(self) - (1 << 7)
    }
}

impl Device for u16 {
    fn signed(self) -> i64 {
        i64::from(self) - (1 << 15)
    }
}

impl Device for u32 {
    fn signed(self) -> i64 {
        i64::from(self) - (1 << 31)
    }
}

impl Device for I24 {
    fn signed(self) -> i64 {
        i64::from((self.0 << 8) >> 8)
    }
}

impl Device for I24Packed {
    fn signed(self) -> i64 {
        let [a, b, c] = self.0;
        i64::from(i32::from_le_bytes([a, b, c, 0]) << 8 >> 8)
    }
}

/// The independent quantiser: `round(x * 2^(bits-1))` half away from zero, clamped, NaN
/// to 0, and whether `x` had to be clamped.
fn oracle(x: f32, bits: u32) -> (i64, bool) {
    let scale = 2f64.powi(bits.cast_signed() - 1);
    let flagged = x.is_nan() || !(-1.0..=1.0).contains(&x);
    if x.is_nan() {
        return (0, true);
    }
    // x * 2^k is exact in f64 (an f32 mantissa times a power of two); `round` rounds half
    // away from zero.
    let y = (f64::from(x) * scale).round();
    let v = y.clamp(-scale, scale - 1.0) as i64;
    (v, flagged)
}

fn check_floats<S: Device>(xs: &[f32], bits: u32) {
    let step = 2f64.powi(1 - bits.cast_signed());
    let mut flags = 0;
    for &x in xs {
        let (v, flagged) = S::from_f32(x);
        let (want, want_flag) = oracle(x, bits);
        assert_eq!(
            v.signed(),
            want,
            "{}-bit {}: from_f32({x:e} = {:#010x})",
            bits,
            std::any::type_name::<S>(),
            x.to_bits()
        );
        assert_eq!(flagged, want_flag, "{bits}-bit flag of {x:e}");
        flags += usize::from(flagged);
        let back = v.to_f32();
        // In [-1, 1); for 32 bits the largest value rounds up to 1.0 in f32.
        assert!(
            (-1.0..1.0).contains(&back) || (bits == 32 && back == 1.0),
            "{bits}-bit to_f32 of {v:?} is {back}"
        );
        if (-1.0..=1.0).contains(&x) {
            // Within half a step, plus the rounding of the f32 result.
            let err = (f64::from(back) - f64::from(x)).abs();
            let bound = step / 2.0 + f64::from(back).abs() * f64::from(f32::EPSILON) / 2.0;
            // What rounds up to +1.0 clamps to the largest value, a step below 1.0.
            let top = (f64::from(x) / step).round() * step >= 1.0;
            let bound = if top { step } else { bound };
            assert!(err <= bound, "{bits}-bit: {x:e} came back as {back:e}");
        }
    }
    // Monotonic: the encoded order follows the input order (NaN aside).
    for w in xs.windows(2) {
        let (a, b) = (w[0], w[1]);
        if a.is_nan() || b.is_nan() {
            continue;
        }
        let (va, vb) = (S::from_f32(a).0.signed(), S::from_f32(b).0.signed());
        if a <= b {
            assert!(va <= vb, "{bits}-bit: {a:e} <= {b:e} but {va} > {vb}");
        }
    }
    // encode: min(len) samples, the flags counted, the rest of dst untouched.
    let sentinel = S::from_f32(0.25).0;
    let mut dst = vec![sentinel; xs.len() / 2 + 1];
    let n = dst.len().min(xs.len());
    let counted = encode(xs, &mut dst);
    let want: usize = xs[..n]
        .iter()
        .map(|&x| usize::from(oracle(x, bits).1))
        .sum();
    assert_eq!(counted, want, "{bits}-bit encode count");
    for (i, d) in dst.iter().enumerate() {
        if i < n {
            assert_eq!(d.signed(), oracle(xs[i], bits).0, "{bits}-bit encode[{i}]");
        } else {
            assert_eq!(*d, sentinel, "{bits}-bit encode wrote past the input");
        }
    }
    let mut whole = vec![S::default(); xs.len()];
    assert_eq!(
        encode(xs, &mut whole),
        flags,
        "{bits}-bit encode count (whole)"
    );
    // decode: min(len) samples, the rest untouched.
    let mut back = vec![7.0f32; whole.len() + 2];
    decode(&whole, &mut back);
    for (i, b) in back.iter().enumerate() {
        match whole.get(i) {
            Some(v) => assert_eq!(b.to_bits(), v.to_f32().to_bits(), "{bits}-bit decode[{i}]"),
            None => assert_eq!(*b, 7.0, "{bits}-bit decode wrote past the input"),
        }
    }
}

/// `f32` and `f64` pass every value through, flagging only what is not finite.
fn check_float_formats(xs: &[f32]) {
    for &x in xs {
        let (y, flag) = f32::from_f32(x);
        assert_eq!(y.to_bits(), x.to_bits(), "f32 from_f32 changed {x:e}");
        assert_eq!(flag, !x.is_finite(), "f32 flag of {x:e}");
        let (z, flag) = f64::from_f32(x);
        assert_eq!(flag, !x.is_finite(), "f64 flag of {x:e}");
        assert_eq!(
            z.to_f32().to_bits(),
            x.to_bits(),
            "f64 round trip changed {x:e}"
        );
        if x.is_nan() {
            assert!(z.is_nan());
        } else {
            assert_eq!(z, f64::from(x));
        }
    }
    let mut dst = vec![0.0f64; xs.len()];
    let flags = xs.iter().filter(|x| !x.is_finite()).count();
    assert_eq!(encode(xs, &mut dst), flags, "f64 encode count");
}

/// Device samples of `bits` bits: `to_f32` in `[-1, 1)` and exact (`v / 2^(bits-1)`, up
/// to `f32` rounding for 32 bits), and back unchanged and unflagged (within 64 steps for
/// 32 bits).
fn check_ints<S: Device>(values: impl Iterator<Item = S>, bits: u32) {
    let scale = 2f64.powi(bits.cast_signed() - 1);
    for v in values {
        let x = v.to_f32();
        assert!(
            (-1.0..1.0).contains(&x) || (bits == 32 && x == 1.0),
            "{v:?} -> {x}"
        );
        let exact = v.signed() as f64 / scale;
        assert_eq!(x, exact as f32, "{v:?}: to_f32 is not v / 2^{}", bits - 1);
        let (back, flagged) = S::from_f32(x);
        assert!(!flagged, "{v:?} -> {x} was flagged");
        if bits <= 24 {
            assert_eq!(back, v, "{v:?} -> {x} -> {back:?}");
        } else {
            let d = (back.signed() - v.signed()).abs();
            assert!(d <= 64, "{v:?} -> {x} -> {back:?}: {d} steps off");
        }
    }
}

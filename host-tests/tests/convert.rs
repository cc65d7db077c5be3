//! Sample-format conversion, tested exhaustively where the format is small enough (every
//! 8-, 16- and 24-bit value) and at every boundary elsewhere.

use proptest::prelude::*;
use rtmix_core::convert::{decode, encode, I24Packed, Sample, I24};

/// Every value of a format survives device -> f32 -> device unchanged.
fn round_trips<S: Sample + PartialEq + std::fmt::Debug>(values: impl Iterator<Item = S>) -> usize {
    let mut n = 0;
    for v in values {
        let (back, clipped) = S::from_f32(v.to_f32());
        assert_eq!(back, v, "{v:?} came back as {back:?}");
        assert!(!clipped, "{v:?} was counted as clipped");
        n += 1;
    }
    n
}

#[test]
fn every_small_integer_round_trips() {
    assert_eq!(round_trips(i8::MIN..=i8::MAX), 256);
    assert_eq!(round_trips(u8::MIN..=u8::MAX), 256);
    assert_eq!(round_trips(i16::MIN..=i16::MAX), 65_536);
    assert_eq!(round_trips(u16::MIN..=u16::MAX), 65_536);
}

#[test]
fn every_24_bit_value_round_trips_in_both_layouts() {
    assert_eq!(round_trips((-(1 << 23)..(1 << 23)).map(I24)), 1 << 24);
    let packed = (-(1i32 << 23)..(1 << 23)).map(|v| {
        let [a, b, c, _] = v.to_le_bytes();
        I24Packed([a, b, c])
    });
    assert_eq!(round_trips(packed), 1 << 24);
    // The top byte of an S24_LE sample is ignored on the way in.
    assert_eq!(I24(0x7F80_0000).to_f32(), -1.0);
}

#[test]
fn boundaries_clamp_and_count() {
    let cases: [(f32, i16, bool); 12] = [
        (0.0, 0, false),
        (-0.0, 0, false),
        (1.0, i16::MAX, false),
        (-1.0, i16::MIN, false),
        (1.000_000_1, i16::MAX, true),
        (-1.000_000_1, i16::MIN, true),
        (f32::INFINITY, i16::MAX, true),
        (f32::NEG_INFINITY, i16::MIN, true),
        (f32::NAN, 0, true),
        (0.5 / 32_768.0, 1, false),   // half a step rounds away from zero
        (-0.5 / 32_768.0, -1, false), // on both sides
        (0.49 / 32_768.0, 0, false),
    ];
    for (x, want, clipped) in cases {
        assert_eq!(i16::from_f32(x), (want, clipped), "{x}");
    }
    assert_eq!(i32::from_f32(1.0), (i32::MAX, false));
    assert_eq!(i32::from_f32(-1.0), (i32::MIN, false));
    assert_eq!(i32::from_f32(f32::NAN), (0, true));
    assert_eq!(u16::from_f32(-1.0), (0, false));
    assert_eq!(u16::from_f32(0.0), (32_768, false));
    assert_eq!(u32::from_f32(1.0), (u32::MAX, false));
    assert_eq!(I24::from_f32(1.0), (I24((1 << 23) - 1), false));
    assert_eq!(I24Packed::from_f32(-1.0), (I24Packed([0, 0, 0x80]), false));
    assert!(f32::from_f32(f32::NAN).1);
    // The float formats pass values through as they are, out-of-range ones included.
    for x in [0.25f32, -0.75, 1.5, -3.0] {
        assert_eq!((x.to_f32(), f64::from(x).to_f32()), (x, x));
        assert_eq!((f32::from_f32(x).0, f64::from_f32(x).0), (x, f64::from(x)));
    }

    let mut out = [0i16; 5];
    let clipped = encode(&[0.1, 2.0, f32::NAN, -3.0, 0.2], &mut out);
    assert_eq!(clipped, 3);
    let mut back = [0.0f32; 5];
    decode(&out, &mut back);
    assert_eq!(back[1], i16::MAX.to_f32());
}

proptest! {
    /// Encoding is monotonic and within half a step of the input, for every format.
    #[test]
    fn encoding_is_monotonic_and_within_half_a_step(a in -1.0f32..=1.0, b in -1.0f32..=1.0) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(i16::from_f32(lo).0 <= i16::from_f32(hi).0);
        prop_assert!(I24::from_f32(lo).0 .0 <= I24::from_f32(hi).0 .0);
        prop_assert!(i32::from_f32(lo).0 <= i32::from_f32(hi).0);
        prop_assert!(u16::from_f32(lo).0 <= u16::from_f32(hi).0);
        // Inside the representable range, the error is at most half a step.
        for (x, step, err) in [
            (a, 1.0 / 32_768.0, (f64::from(i16::from_f32(a).0.to_f32()) - f64::from(a)).abs()),
            (a, 1.0 / 8_388_608.0, (f64::from(I24::from_f32(a).0.to_f32()) - f64::from(a)).abs()),
        ] {
            if x < 1.0 - step as f32 {
                prop_assert!(err <= step / 2.0 + 1e-12, "{x}: error {err}");
            }
        }
    }
}

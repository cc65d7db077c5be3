//! The I2S word formats against an independent quantiser, over every edge case.

use rtmix_embedded::{FrameFormat, I16Bits, I24Left, I24LeftHalfwords, I16};

/// `round(x * 2^(bits-1))` half away from zero, clamped; NaN 0.
fn quantise(x: f32, bits: u32) -> i64 {
    let scale = f64::from(1u32 << (bits - 1));
    if x.is_nan() {
        return 0;
    }
    (f64::from(x) * scale).round().clamp(-scale, scale - 1.0) as i64
}

fn samples() -> Vec<f32> {
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        1.5,
        -7.0,
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE,
        0.5 / 32_768.0, // exactly half a 16-bit step: rounds away from zero
        -0.5 / 32_768.0,
        1.5 / 8_388_608.0,
        1.0 - f32::EPSILON,
    ];
    let mut x = 0x1234_5678u32;
    for _ in 0..10_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        v.push((f64::from(x) / f64::from(u32::MAX) * 2.4 - 1.2) as f32);
    }
    v
}

fn clipped(src: &[f32]) -> usize {
    src.iter().filter(|x| !(-1.0..=1.0).contains(*x)).count()
}

#[test]
fn sixteen_bit_words() {
    let src = samples();
    let mut a = vec![0i16; src.len()];
    let mut b = vec![0u16; src.len()];
    assert_eq!(I16::encode(&src, &mut a), clipped(&src));
    assert_eq!(I16Bits::encode(&src, &mut b), clipped(&src));
    for ((&x, &w), &u) in src.iter().zip(&a).zip(&b) {
        assert_eq!(i64::from(w), quantise(x, 16), "{x}");
        assert_eq!(u, w as u16);
    }
    let (mut da, mut db) = (vec![0.0f32; src.len()], vec![0.0f32; src.len()]);
    I16::decode(&a, &mut da);
    I16Bits::decode(&b, &mut db);
    for (i, &w) in a.iter().enumerate() {
        assert_eq!(da[i], f32::from(w) / 32_768.0);
        assert_eq!(db[i], da[i]);
    }
}

#[test]
fn twenty_four_bit_left_justified_words() {
    let src = samples();
    let mut a = vec![0i32; src.len()];
    let mut b = vec![0u16; 2 * src.len()];
    assert_eq!(I24Left::encode(&src, &mut a), clipped(&src));
    assert_eq!(I24LeftHalfwords::encode(&src, &mut b), clipped(&src));
    for (i, &x) in src.iter().enumerate() {
        let want = quantise(x, 24) * 256;
        assert_eq!(i64::from(a[i]), want, "{x}");
        assert_eq!(a[i] & 0xFF, 0);
        let v = a[i] as u32;
        assert_eq!([b[2 * i], b[2 * i + 1]], [(v >> 16) as u16, v as u16]);
    }
    let (mut da, mut db) = (vec![0.0f32; src.len()], vec![0.0f32; src.len()]);
    I24Left::decode(&a, &mut da);
    I24LeftHalfwords::decode(&b, &mut db);
    for (i, &w) in a.iter().enumerate() {
        assert_eq!(f64::from(da[i]), f64::from(w >> 8) / 8_388_608.0);
        assert_eq!(db[i], da[i]);
    }
    // The low byte a 32-bit slot carries is ignored on the way in.
    let mut d = [0.0f32; 1];
    I24Left::decode(&[0x4000_00FF], &mut d);
    assert_eq!(d[0], 0.5);
}

#[test]
fn short_destinations_take_whole_samples_only() {
    let mut words = [7u16; 3];
    assert_eq!(I24LeftHalfwords::encode(&[2.0, 2.0], &mut words), 1);
    assert_eq!(words, [0x7FFF, 0xFF00, 7]);
}

//! The per-sample kernels: mix one span of a play into an output block, copy one span of
//! an input block into a recording. The layout was chosen on the control side, so the
//! common cases (every channel in order with one gain; a contiguous run of channels) run
//! as plain slice loops the compiler vectorises. Every index is checked: a span that does
//! not fit makes the kernel return false instead of panicking.

use crate::action::{Span, Transfer};
use crate::command::Layout;

/// Frames per envelope chunk: the per-frame gains of a ramp are computed into a stack
/// array this long, then applied.
const ENVELOPE_CHUNK: usize = 64;

/// Adds `t`'s samples for `span`, times their gains and envelope, into the interleaved
/// `out` block.
#[inline]
pub(crate) fn play<B: AsRef<[f32]>>(
    out: &mut [f32],
    channels: usize,
    t: &Transfer<B>,
    span: Span,
) -> bool {
    let k = t.channels;
    let Some(src) = t
        .buffer
        .as_ref()
        .get(span.buffer_frame * k..(span.buffer_frame + span.frames) * k)
    else {
        return false;
    };
    let Some(dst) =
        out.get_mut(span.block_frame * channels..(span.block_frame + span.frames) * channels)
    else {
        return false;
    };
    match (
        t.layout,
        t.env.constant_over(span.frame, span.frames as u64),
    ) {
        // The common cases, kept small so they inline into the block loop. At unity gain
        // the multiply is skipped: `s * 1.0 == s` exactly, so the result is the same bits.
        (Layout::Full { gain }, Some(e)) if k == channels && gain == 1.0 && e == 1.0 => {
            for (o, s) in dst.iter_mut().zip(src) {
                *o += s;
            }
            true
        }
        (Layout::Full { gain }, Some(e)) if k == channels && e == 1.0 => {
            for (o, s) in dst.iter_mut().zip(src) {
                *o += s * gain;
            }
            true
        }
        (_, Some(1.0)) => play_mapped(dst, channels, src, t),
        _ => play_enveloped(dst, channels, src, t, span.frame),
    }
}

/// The kernel under an envelope that changes (or is not 1): every sample is
/// `(sample * map gain) * envelope(frame)`, the reference model's formula.
#[inline(never)]
fn play_enveloped<B>(
    dst: &mut [f32],
    channels: usize,
    src: &[f32],
    t: &Transfer<B>,
    frame: u64,
) -> bool {
    let k = t.channels;
    let gains = t.map.gains();
    let mut env = [0.0f32; ENVELOPE_CHUNK];
    let frames = src.len() / k;
    let mut done = 0;
    while done < frames {
        let n = (frames - done).min(ENVELOPE_CHUNK);
        let env = &mut env[..n];
        t.env.fill(frame + done as u64, env);
        let src = &src[done * k..(done + n) * k];
        let dst = &mut dst[done * channels..(done + n) * channels];
        match t.layout {
            Layout::Full { gain } if k == channels => {
                for ((o, s), e) in dst.chunks_exact_mut(k).zip(src.chunks_exact(k)).zip(&*env) {
                    for (o, s) in o.iter_mut().zip(s) {
                        *o += (s * gain) * e;
                    }
                }
            }
            Layout::Full { .. } | Layout::Contiguous { .. } | Layout::General => {
                let map = t.map.channels();
                for ((o, s), e) in dst
                    .chunks_exact_mut(channels)
                    .zip(src.chunks_exact(k))
                    .zip(&*env)
                {
                    for ((&c, g), s) in map.iter().zip(gains).zip(s) {
                        if let Some(o) = o.get_mut(usize::from(c)) {
                            *o += (s * g) * e;
                        }
                    }
                }
            }
        }
        done += n;
    }
    true
}

/// The kernels for partial and general maps.
#[inline(never)]
fn play_mapped<B>(dst: &mut [f32], channels: usize, src: &[f32], t: &Transfer<B>) -> bool {
    let k = t.channels;
    match t.layout {
        Layout::Contiguous { first } if first + k <= channels => {
            let gains = t.map.gains();
            for (frame, s) in dst.chunks_exact_mut(channels).zip(src.chunks_exact(k)) {
                for ((o, s), g) in frame[first..first + k].iter_mut().zip(s).zip(gains) {
                    *o += s * g;
                }
            }
        }
        Layout::General => {
            let (map, gains) = (t.map.channels(), t.map.gains());
            for (frame, s) in dst.chunks_exact_mut(channels).zip(src.chunks_exact(k)) {
                for ((&c, g), s) in map.iter().zip(gains).zip(s) {
                    if let Some(o) = frame.get_mut(usize::from(c)) {
                        *o += s * g;
                    }
                }
            }
        }
        _ => return false,
    }
    true
}

/// Copies the mapped channels of the interleaved `input` block for `span` into `t`'s
/// buffer; for frames lost to an xrun (`input` is `None`) it writes zeros.
pub(crate) fn record<B: AsMut<[f32]>>(
    input: Option<&[f32]>,
    channels: usize,
    t: &mut Transfer<B>,
    span: Span,
) -> bool {
    let k = t.channels;
    let map = t.map.channels();
    let Some(dst) = t
        .buffer
        .as_mut()
        .get_mut(span.buffer_frame * k..(span.buffer_frame + span.frames) * k)
    else {
        return false;
    };
    let Some(input) = input else {
        dst.fill(0.0);
        return true;
    };
    let Some(src) =
        input.get(span.block_frame * channels..(span.block_frame + span.frames) * channels)
    else {
        return false;
    };
    match t.layout {
        Layout::Full { .. } if k == channels => dst.copy_from_slice(src),
        Layout::Contiguous { first } if first + k <= channels => {
            for (d, frame) in dst.chunks_exact_mut(k).zip(src.chunks_exact(channels)) {
                d.copy_from_slice(&frame[first..first + k]);
            }
        }
        Layout::General => {
            for (d, frame) in dst.chunks_exact_mut(k).zip(src.chunks_exact(channels)) {
                for (d, &c) in d.iter_mut().zip(map) {
                    *d = frame.get(usize::from(c)).copied().unwrap_or(0.0);
                }
            }
        }
        _ => return false,
    }
    true
}

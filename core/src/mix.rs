//! The per-sample kernels: mix one span of a play into an output block, copy one span of
//! an input block into a recording. The layout was chosen on the control side, so the
//! common cases (every channel in order with one gain; a contiguous run of channels) run
//! as plain slice loops the compiler vectorises. Every index is checked: a span that does
//! not fit makes the kernel return false instead of panicking.

use crate::action::{Span, Transfer};
use crate::command::Layout;

/// Adds `t`'s samples for `span`, times their gains, into the interleaved `out` block.
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
    match t.layout {
        // The common cases, kept small so they inline into the block loop. At unity gain
        // the multiply is skipped: `s * 1.0 == s` exactly, so the result is the same bits.
        Layout::Full { gain } if k == channels && gain == 1.0 => {
            for (o, s) in dst.iter_mut().zip(src) {
                *o += s;
            }
            true
        }
        Layout::Full { gain } if k == channels => {
            for (o, s) in dst.iter_mut().zip(src) {
                *o += s * gain;
            }
            true
        }
        _ => play_mapped(dst, channels, src, t),
    }
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

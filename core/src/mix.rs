//! The per-sample kernels: mix one span of a play into an output block, copy one span of
//! an input block into a recording. The layout was chosen on the control side, so the
//! common cases (every channel in order with one gain; a contiguous run of channels) run
//! as plain slice loops the compiler vectorises. Every index is checked: a span that does
//! not fit makes the kernel report [`Flow::Invalid`] instead of panicking.
//!
//! A stream is moved through a small stack chunk: read from its source, then mixed with the
//! same kernels as a buffer; or gathered from the input, then written to its sink.

use crate::action::{Span, Transfer};
use crate::channel_map::{MapStore, MAX_MAP_CHANNELS};
use crate::command::Layout;
use crate::envelope::Envelope;
use crate::frame::whole_frames;
use crate::{PlaySource, RecordTarget};

/// How a span went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Every frame was processed (a stream's missing or dropped frames are counted).
    Done,
    /// A stream ran dry (or full) and its policy stops it after this many frames.
    Stop { frames: u64 },
    /// The span does not fit its buffers (which validation rules out).
    Invalid,
}

/// Samples in the stack chunk a stream moves through (`MAX_MAP_CHANNELS` frames of the
/// widest map at least).
const STREAM_CHUNK: usize = 256;

/// The parts of a transfer the mixing kernels read.
struct Voice<'t, Mp> {
    k: usize,
    layout: Layout,
    map: &'t Mp,
    env: &'t Envelope,
}

/// Frames per envelope chunk: the per-frame gains of a ramp are computed into a stack
/// array this long, then applied.
const ENVELOPE_CHUNK: usize = 64;

/// Adds `t`'s samples for `span`, times their gains and envelope, into the interleaved
/// `out` block.
#[inline]
pub(crate) fn play<B: PlaySource, Mp: MapStore>(
    out: &mut [f32],
    channels: usize,
    t: &mut Transfer<B, Mp>,
    span: Span,
) -> Flow {
    let k = t.channels();
    let Some(dst) =
        out.get_mut(span.block_frame * channels..(span.block_frame + span.frames) * channels)
    else {
        return Flow::Invalid;
    };
    let voice = Voice {
        k,
        layout: t.layout,
        map: &t.map,
        env: &t.env,
    };
    if let Some(buffer) = t.buffer.buffer() {
        let range = span.buffer_frame * k..(span.buffer_frame + span.frames) * k;
        return match buffer.get(range) {
            Some(src) if mix(dst, channels, src, &voice, (span.frame, span.frames)) => Flow::Done,
            _ => Flow::Invalid,
        };
    }
    let Some(source) = t.buffer.source() else {
        return Flow::Invalid;
    };
    let available = whole_frames(source.available(), k);
    t.stream.see_level(available as u64);
    // The frames there are, mixed straight from the source's memory if it lends it.
    let take = span.frames.min(available);
    let mut lent = Lent {
        dst: &mut *dst,
        channels,
        voice: &voice,
        frame: span.frame,
        done: 0,
        carry: [0.0; MAX_MAP_CHANNELS],
        carried: 0,
        room: take * k,
        ok: true,
    };
    if let Some(read) = source.read_in_place(take * k, &mut |s| lent.mix(s)) {
        let Lent { done, ok, .. } = lent;
        if !ok {
            return Flow::Invalid;
        }
        if read > take * k {
            // It claims more than it was asked for: believe only what was mixed.
            t.stream.faults += 1;
        }
        if done < span.frames {
            if t.shape.stop {
                return Flow::Stop {
                    frames: done as u64,
                };
            }
            t.stream.missing += (span.frames - done) as u64;
        }
        return Flow::Done;
    }
    let mut chunk = [0.0f32; STREAM_CHUNK];
    let per_chunk = STREAM_CHUNK / k;
    let mut done = 0;
    while done < span.frames {
        let n = (span.frames - done).min(per_chunk);
        let take = n.min(whole_frames(source.available(), k));
        let read = source.read(&mut chunk[..take * k]);
        if read > take * k {
            // It claims more than it was given room for: believe only what fits.
            t.stream.faults += 1;
        }
        let got = whole_frames(read.min(take * k), k);
        let dst = &mut dst[done * channels..(done + got) * channels];
        if !mix(
            dst,
            channels,
            &chunk[..got * k],
            &voice,
            (span.frame + done as u64, got),
        ) {
            return Flow::Invalid;
        }
        if got < n {
            if t.shape.stop {
                return Flow::Stop {
                    frames: (done + got) as u64,
                };
            }
            t.stream.missing += (n - got) as u64;
        }
        done += n;
    }
    Flow::Done
}

/// A stream's samples as its source lends them in place ([`SampleSource::read_in_place`]):
/// each slice is mixed where it lies; a frame split between two slices is put together in
/// `carry` first.
struct Lent<'d, 'v, 't, Mp> {
    dst: &'d mut [f32],
    channels: usize,
    voice: &'v Voice<'t, Mp>,
    /// The stream frame of `dst`'s first frame.
    frame: u64,
    /// Whole frames mixed so far.
    done: usize,
    carry: [f32; MAX_MAP_CHANNELS],
    carried: usize,
    /// Samples still wanted.
    room: usize,
    /// No span failed to fit.
    ok: bool,
}

impl<Mp: MapStore> Lent<'_, '_, '_, Mp> {
    fn mix(&mut self, s: &[f32]) {
        let k = self.voice.k;
        // Never more than was asked for, whatever the source lends.
        let mut s = &s[..s.len().min(self.room)];
        self.room -= s.len();
        if self.carried > 0 {
            let need = (k - self.carried).min(s.len());
            self.carry[self.carried..self.carried + need].copy_from_slice(&s[..need]);
            self.carried += need;
            s = &s[need..];
            if self.carried < k {
                return;
            }
            self.carried = 0;
            let carry = self.carry;
            self.span(&carry[..k], 1);
        }
        let whole = whole_frames(s.len(), k);
        let (frames, rest) = s.split_at(whole * k);
        self.span(frames, whole);
        self.carry[..rest.len()].copy_from_slice(rest);
        self.carried = rest.len();
    }

    /// Mixes `frames` whole frames of `src` at the next frames of `dst`.
    fn span(&mut self, src: &[f32], frames: usize) {
        if frames == 0 {
            return;
        }
        let (at, channels) = (self.done, self.channels);
        let frame = self.frame + at as u64;
        self.ok &= match self.dst.get_mut(at * channels..(at + frames) * channels) {
            Some(dst) => mix(dst, channels, src, self.voice, (frame, frames)),
            None => false,
        };
        self.done += frames;
    }
}

/// The samples `t` plays for `span` if it plays them plainly: from a buffer, every channel
/// of a `channels`-wide block in order at unity gain, in the envelope's steady window at
/// exactly 1 (no ramp under way). Mixing them is `out += sample`, as [`mix`]'s first kernel does.
#[allow(clippy::inline_always)] // measured: kept out of line otherwise
#[inline(always)]
pub(crate) fn plain<B: PlaySource, Mp: MapStore>(
    t: &Transfer<B, Mp>,
    span: Span,
    channels: usize,
) -> Option<&[f32]> {
    // A full layout is every stream channel in order (`Layout::of`), so the buffer is
    // `channels` wide: the map, further off in the slot, need not be read.
    let unity = matches!(t.layout, Layout::Full { gain } if gain == 1.0);
    if !unity || !t.env.steady_one(span.frame, span.frames as u64) {
        return None;
    }
    let range = span.buffer_frame * channels..(span.buffer_frame + span.frames) * channels;
    t.buffer.buffer()?.get(range)
}

/// `out += a`, then `+= b`, and so on for each of `group`, in one sweep over `dst`: the
/// same sums in the same order, so the same bits as one sweep per source, with each output
/// sample loaded and stored once instead of once per source. With `FRESH`, `dst` is taken
/// to hold zeros without being read (`0.0 + a` is `a` but for -0.0, which it makes +0.0
/// as the zeroed block would), so the block needs no clearing first. False, with nothing
/// mixed, if a source is shorter than `dst`.
#[inline]
pub(crate) fn add_all<const N: usize, const FRESH: bool>(
    dst: &mut [f32],
    group: [&[f32]; N],
) -> bool {
    let n = dst.len();
    let mut each: [&[f32]; N] = [&[]; N];
    for (e, s) in each.iter_mut().zip(group) {
        match s.get(..n) {
            Some(s) => *e = s,
            None => return false,
        }
    }
    for (i, o) in dst.iter_mut().enumerate() {
        let mut sum = if FRESH { 0.0 } else { *o };
        for s in &each {
            sum += s[i];
        }
        *o = sum;
    }
    true
}

/// Mixes the interleaved `src` (the voice's channels) into `dst` (the block's), whose
/// first frame is `frame`: the fast kernels while the envelope is 1.
/// `frames` is the frame count of both (passed in: no division by a run-time channel count).
// Measured: with `#[inline]` alone the compiler kept it out of line, which cost a call per
// voice and block (docs/performance.md, change 4).
#[allow(clippy::inline_always)]
#[inline(always)]
fn mix<Mp: MapStore>(
    dst: &mut [f32],
    channels: usize,
    src: &[f32],
    v: &Voice<'_, Mp>,
    (frame, frames): (u64, usize),
) -> bool {
    let k = v.k;
    match (v.layout, v.env.constant_over(frame, frames as u64)) {
        // The common cases, kept small so they inline into the block loop. At unity gain
        // the multiply is skipped: `s * 1.0 == s` exactly, so the result is the same bits.
        (Layout::Full { gain }, Some(1.0)) if k == channels && gain == 1.0 => {
            for (o, s) in dst.iter_mut().zip(src) {
                *o += s;
            }
            true
        }
        (Layout::Full { gain }, Some(1.0)) if k == channels => {
            for (o, s) in dst.iter_mut().zip(src) {
                *o += s * gain;
            }
            true
        }
        (_, Some(1.0)) => play_mapped(dst, channels, src, v),
        // A constant envelope other than 1: the same formula as the enveloped kernel.
        (Layout::Full { gain }, Some(e)) if k == channels => {
            for (o, s) in dst.iter_mut().zip(src) {
                *o += (s * gain) * e;
            }
            true
        }
        _ => play_enveloped(dst, channels, src, v, frame),
    }
}

/// `out += sample * envelope(frame)` over whole frames of `K` channels at a map gain of 1.
#[inline]
fn full_enveloped_unity<const K: usize>(dst: &mut [f32], src: &[f32], env: &[f32]) {
    for ((o, s), e) in dst.chunks_exact_mut(K).zip(src.chunks_exact(K)).zip(env) {
        for (o, s) in o.iter_mut().zip(s) {
            *o += s * e;
        }
    }
}

/// `out += (sample * gain) * envelope(frame)` over whole frames of `K` channels, with `K`
/// known to the compiler so the inner loop vectorises.
#[inline]
fn full_enveloped<const K: usize>(dst: &mut [f32], src: &[f32], env: &[f32], gain: f32) {
    for ((o, s), e) in dst.chunks_exact_mut(K).zip(src.chunks_exact(K)).zip(env) {
        for (o, s) in o.iter_mut().zip(s) {
            *o += (s * gain) * e;
        }
    }
}

/// The kernel under an envelope that changes (or is not 1): every sample is
/// `(sample * map gain) * envelope(frame)`, the reference model's formula.
#[inline(never)]
fn play_enveloped<Mp: MapStore>(
    dst: &mut [f32],
    channels: usize,
    src: &[f32],
    t: &Voice<'_, Mp>,
    frame: u64,
) -> bool {
    let k = t.k;
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
            // At a map gain of 1, `(s * 1.0) * e == s * e`: one multiply less.
            Layout::Full { gain: 1.0 } if k == channels && k <= 2 => match k {
                1 => full_enveloped_unity::<1>(dst, src, env),
                _ => full_enveloped_unity::<2>(dst, src, env),
            },
            Layout::Full { gain } if k == channels => match k {
                1 => full_enveloped::<1>(dst, src, env, gain),
                2 => full_enveloped::<2>(dst, src, env, gain),
                _ => {
                    for ((o, s), e) in dst.chunks_exact_mut(k).zip(src.chunks_exact(k)).zip(&*env) {
                        for (o, s) in o.iter_mut().zip(s) {
                            *o += (s * gain) * e;
                        }
                    }
                }
            },
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
fn play_mapped<Mp: MapStore>(
    dst: &mut [f32],
    channels: usize,
    src: &[f32],
    t: &Voice<'_, Mp>,
) -> bool {
    let k = t.k;
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
/// buffer or sink; for frames lost to an xrun (`input` is `None`) it writes zeros.
pub(crate) fn record<B: RecordTarget, Mp: MapStore>(
    input: Option<&[f32]>,
    channels: usize,
    t: &mut Transfer<B, Mp>,
    span: Span,
) -> Flow {
    let k = t.channels();
    let src = match input {
        Some(input) => {
            let range = span.block_frame * channels..(span.block_frame + span.frames) * channels;
            match input.get(range) {
                Some(src) => Some(src),
                None => return Flow::Invalid,
            }
        }
        None => None,
    };
    let (layout, map) = (t.layout, &t.map);
    if let Some(buffer) = t.buffer.buffer_mut() {
        let range = span.buffer_frame * k..(span.buffer_frame + span.frames) * k;
        let fits = buffer
            .get_mut(range)
            .is_some_and(|dst| gather(dst, src, channels, k, layout, map));
        return if fits { Flow::Done } else { Flow::Invalid };
    }
    let Some(sink) = t.buffer.sink() else {
        return Flow::Invalid;
    };
    let mut chunk = [0.0f32; STREAM_CHUNK];
    let per_chunk = STREAM_CHUNK / k;
    let mut done = 0;
    t.stream.see_level((sink.room() / k) as u64);
    while done < span.frames {
        let n = (span.frames - done).min(per_chunk);
        let part = src.map(|s| &s[done * channels..(done + n) * channels]);
        if !gather(&mut chunk[..n * k], part, channels, k, layout, map) {
            return Flow::Invalid;
        }
        let fits = n.min(sink.room() / k);
        let frame = span.frame + done as u64;
        let written = sink.write(frame, &chunk[..fits * k]);
        if written > fits * k {
            // It claims more than it was given: believe only what it was given.
            t.stream.faults += 1;
        }
        let wrote = written.min(fits * k) / k;
        if wrote < n {
            if t.shape.stop {
                return Flow::Stop {
                    frames: (done + wrote) as u64,
                };
            }
            t.stream.dropped += (n - wrote) as u64;
        }
        done += n;
    }
    Flow::Done
}

/// Copies the mapped channels of `src` (the block's channels; `None`: zeros) into `dst`
/// (the recording's).
fn gather<Mp: MapStore>(
    dst: &mut [f32],
    src: Option<&[f32]>,
    channels: usize,
    k: usize,
    layout: Layout,
    map: &Mp,
) -> bool {
    let Some(src) = src else {
        dst.fill(0.0);
        return true;
    };
    match layout {
        Layout::Full { .. } if k == channels => dst.copy_from_slice(src),
        Layout::Contiguous { first } if first + k <= channels => {
            for (d, frame) in dst.chunks_exact_mut(k).zip(src.chunks_exact(channels)) {
                d.copy_from_slice(&frame[first..first + k]);
            }
        }
        Layout::General => {
            for (d, frame) in dst.chunks_exact_mut(k).zip(src.chunks_exact(channels)) {
                for (d, &c) in d.iter_mut().zip(map.channels()) {
                    *d = frame.get(usize::from(c)).copied().unwrap_or(0.0);
                }
            }
        }
        _ => return false,
    }
    true
}

/// Moves a stream play over a span lost to an xrun: the samples meant for those frames are
/// read and discarded (as far as the source has them), so later samples stay on their
/// frames, as a buffer's do.
pub(crate) fn skip<B: PlaySource, Mp: MapStore>(t: &mut Transfer<B, Mp>, span: Span) {
    let k = t.channels();
    let Some(source) = t.buffer.source() else {
        return;
    };
    let mut chunk = [0.0f32; STREAM_CHUNK];
    let mut left = span.frames;
    while left > 0 {
        let n = left.min(STREAM_CHUNK / k).min(source.available() / k);
        if n == 0 {
            break;
        }
        source.read(&mut chunk[..n * k]);
        left -= n;
    }
}

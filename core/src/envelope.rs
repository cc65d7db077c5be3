//! Gain ramps and the envelope of a play: exact per-sample values, the same whatever the
//! block partition.
//!
//! Every gain change is a [`Ramp`]: a straight line from `from` at frame `start` to `to` at
//! frame `start + len`, sampled at whole frames. Frame `start + k` (`0 <= k < len`) gets
//!
//! ```text
//! from + (to - from) * (k as f32 / len as f32)      (f32 arithmetic, in that order)
//! ```
//!
//! frames before `start` get `from`, and frames from `start + len` on get `to`. So a fade-in
//! of `N` frames gives play frame `i` the gain `i / N` (its first sample is silent, frame `N`
//! is at full level), and a fade-out of `M` frames ending at play frame `e` gives frame
//! `e - M + k` the gain `1 - k / M` (its last sample is `1 / M`, frame `e` would be silent). A value depends on
//! the frame alone, never on where a block began, which is what makes ramps exact to the
//! sample under any block partition (docs/features.md).

/// A linear gain ramp on the frame clock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Ramp {
    pub(crate) start: u64,
    pub(crate) len: u64,
    pub(crate) from: f32,
    pub(crate) to: f32,
}

impl Ramp {
    /// A gain of 1 at every frame.
    pub(crate) const UNITY: Ramp = Ramp::constant(1.0);

    /// The same gain at every frame.
    pub(crate) const fn constant(gain: f32) -> Self {
        Self {
            start: 0,
            len: 0,
            from: gain,
            to: gain,
        }
    }

    /// The gain at `frame`.
    #[inline]
    pub(crate) fn value(&self, frame: u64) -> f32 {
        if frame < self.start {
            return self.from;
        }
        let k = frame - self.start;
        if k >= self.len {
            return self.to;
        }
        self.from + (self.to - self.from) * (k as f32 / self.len as f32)
    }

    /// The gain over frames `[frame, frame + n)` if it is the same at each of them.
    #[inline]
    pub(crate) fn constant_over(&self, frame: u64, n: u64) -> Option<f32> {
        if self.from == self.to || frame >= self.start.saturating_add(self.len) {
            Some(self.to)
        } else if frame.saturating_add(n) <= self.start {
            Some(self.from)
        } else {
            None
        }
    }

    /// Multiplies `out[i]` by the gain at `frame + i`. A gain of exactly 1 is skipped
    /// (`x * 1.0 == x`), so a finished ramp costs nothing.
    pub(crate) fn apply(&self, frame: u64, out: &mut [f32]) {
        match self.constant_over(frame, out.len() as u64) {
            Some(1.0) => {}
            Some(g) => out.iter_mut().for_each(|x| *x *= g),
            None => self.each(frame, out, |x, g| *x *= g),
        }
    }

    /// Sets `out[i]` to the gain at `frame + i`.
    pub(crate) fn fill(&self, frame: u64, out: &mut [f32]) {
        match self.constant_over(frame, out.len() as u64) {
            Some(g) => out.fill(g),
            None => self.each(frame, out, |x, g| *x = g),
        }
    }

    /// Calls `f(out[i], gain at frame + i)`, with the ramp's middle as a plain loop over
    /// `k`. Ramps shorter than 2^31 frames count `k` in `i32`, whose conversion to `f32`
    /// vectorises and gives the same value as the `u64` one.
    #[inline]
    fn each(&self, frame: u64, out: &mut [f32], f: impl Fn(&mut f32, f32)) {
        let n = out.len() as u64;
        let end = self.start.saturating_add(self.len);
        let before = self.start.saturating_sub(frame).min(n) as usize;
        let after = end.saturating_sub(frame).min(n) as usize;
        let (head, rest) = out.split_at_mut(before);
        let (middle, tail) = rest.split_at_mut(after - before);
        for x in head {
            f(x, self.from);
        }
        for x in tail {
            f(x, self.to);
        }
        let k0 = frame.max(self.start) - self.start;
        let (from, delta, len) = (self.from, self.to - self.from, self.len as f32);
        if let (Ok(mut k), Ok(_)) = (i32::try_from(k0), i32::try_from(self.len)) {
            // k < len <= i32::MAX throughout.
            for x in middle {
                f(x, from + delta * (k as f32 / len));
                k += 1;
            }
        } else {
            for (i, x) in middle.iter_mut().enumerate() {
                f(x, from + delta * ((k0 + i as u64) as f32 / len));
            }
        }
    }
}

/// Everything that scales a play over time, multiplied in this order: its gain (set with
/// [`Controller::set_gain`](crate::Controller::set_gain)), its fade-in, its fade-out and
/// the fade of a cancel. Each is 1 outside its ramp.
///
/// The gain and the cancel's fade are placed on the stream's frame clock; the fades belong
/// to the play itself and are placed on its own frames (frame `p` of the play sits at
/// stream frame `origin + p - offset`), so they stay put whatever frame it starts at.
///
/// `repr(C)`, with what every block reads (`offset`, the steady window) first.
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub(crate) struct Envelope {
    pub(crate) offset: u64,
    /// Stream frames `[steady.0, steady.1)` where the envelope is `steady.2` throughout
    /// (kept by [`refresh`](Self::refresh)), so a span there needs one comparison, not four
    /// ramps.
    steady: (u64, u64, f32),
    /// The stream frame of play frame `offset`.
    pub(crate) origin: u64,
    pub(crate) gain: Ramp,
    /// The fade-in's length (0: none): it rises from 0 at play frame 0 to 1 at this one.
    fade_in: u64,
    /// The fade-out: it falls from 1 at play frame `.0` to 0 at `.0 + .1` (`.1` 0: none).
    fade_out: (u64, u64),
    pub(crate) cut: Ramp,
}

impl Envelope {
    pub(crate) const UNITY: Envelope = Envelope {
        gain: Ramp::UNITY,
        fade_in: 0,
        fade_out: (0, 0),
        cut: Ramp::UNITY,
        origin: 0,
        offset: 0,
        steady: (0, u64::MAX, 1.0),
    };

    /// The play's own frame at stream frame `frame` (which is never before its origin).
    #[inline]
    fn play_frame(&self, frame: u64) -> u64 {
        frame
            .saturating_sub(self.origin)
            .saturating_add(self.offset)
    }

    /// A play's envelope: its gain, a fade-in over its first `fade_in` frames, a fade-out
    /// over the last `fade_out` of its `total` frames (`None`: it never ends by itself, and
    /// has none), and its offset; the origin is set (and the envelope refreshed) when it
    /// is scheduled.
    pub(crate) fn new(
        gain: f32,
        fade_in: u64,
        fade_out: u64,
        total: Option<u64>,
        offset: u64,
    ) -> Self {
        let fade_out = match total {
            Some(total) if fade_out > 0 => (total.saturating_sub(fade_out), fade_out),
            _ => (0, 0),
        };
        let mut env = Envelope {
            gain: Ramp::constant(gain),
            fade_in,
            fade_out,
            offset,
            ..Envelope::UNITY
        };
        env.refresh();
        env
    }

    /// The fade-in as a ramp on the play's frames: gain `i / N` at its frame `i`.
    #[inline]
    fn fade_in(&self) -> Ramp {
        if self.fade_in == 0 {
            return Ramp::UNITY;
        }
        Ramp {
            start: 0,
            len: self.fade_in,
            from: 0.0,
            to: 1.0,
        }
    }

    /// The fade-out as a ramp on the play's frames.
    #[inline]
    fn fade_out(&self) -> Ramp {
        let (start, len) = self.fade_out;
        if len == 0 {
            return Ramp::UNITY;
        }
        Ramp {
            start,
            len,
            from: 1.0,
            to: 0.0,
        }
    }

    /// Recomputes the steady window after a ramp, the origin or the offset changed: it
    /// lies after every ramp that rises to its value and before every ramp that falls
    /// from it, and its value is the product, in the envelope's order, of those values.
    pub(crate) fn refresh(&mut self) {
        let stream = |q: u64| self.origin.saturating_add(q.saturating_sub(self.offset));
        let changes = |r: &Ramp| r.from != r.to;
        let end = |r: &Ramp| r.start.saturating_add(r.len);
        let mut lo = 0;
        let mut hi = u64::MAX;
        if changes(&self.gain) {
            lo = lo.max(end(&self.gain));
        }
        let (fade_in, fade_out) = (self.fade_in(), self.fade_out());
        if changes(&fade_in) {
            lo = lo.max(stream(end(&fade_in)));
        }
        if changes(&fade_out) {
            hi = hi.min(stream(fade_out.start));
        }
        if changes(&self.cut) {
            hi = hi.min(self.cut.start);
        }
        let value = self.gain.to * fade_in.to * fade_out.from * self.cut.from;
        self.steady = (lo, hi, value);
    }

    /// True if the envelope is exactly 1 at each of `[frame, frame + n)` and no ramp of
    /// it is under way there: one comparison of the steady window, so a voice that is
    /// ramping fails it without its four ramps being looked at.
    #[inline]
    pub(crate) fn steady_one(&self, frame: u64, n: u64) -> bool {
        let (lo, hi, value) = self.steady;
        value == 1.0 && frame >= lo && frame.saturating_add(n) <= hi
    }

    /// The envelope over `[frame, frame + n)` if it is the same at each of those frames.
    #[inline]
    pub(crate) fn constant_over(&self, frame: u64, n: u64) -> Option<f32> {
        let (lo, hi, value) = self.steady;
        if frame >= lo && frame.saturating_add(n) <= hi {
            return Some(value);
        }
        let p = self.play_frame(frame);
        let g = self.gain.constant_over(frame, n)?;
        let i = self.fade_in().constant_over(p, n)?;
        let o = self.fade_out().constant_over(p, n)?;
        let c = self.cut.constant_over(frame, n)?;
        Some(g * i * o * c)
    }

    /// Sets `out[i]` to the envelope at `frame + i`.
    pub(crate) fn fill(&self, frame: u64, out: &mut [f32]) {
        let p = self.play_frame(frame);
        self.gain.fill(frame, out);
        self.fade_in().apply(p, out);
        self.fade_out().apply(p, out);
        self.cut.apply(frame, out);
    }
}

#[cfg(test)]
mod tests {
    //! Exact values of ramps and envelopes, the expected ones written out from the
    //! documented definition (module docs, docs/features.md), never by calling the code
    //! under test.
    extern crate std;
    use super::*;

    /// 2^32 frames (about 25 hours at 48 kHz): longer than `i32::MAX`, so the ramp's
    /// middle is counted in `u64`.
    const LONG: u64 = 1 << 32;

    /// `k / 2^32`, exact in `f32` for the small `k` used here.
    fn over_long(k: u64) -> f32 {
        k as f32 * (1.0 / 4_294_967_296.0)
    }

    /// A ramp longer than `i32::MAX` frames takes the `u64` path of `each`
    /// (envelope.rs:111, whose eight operator mutants no test reached: the suites' ramps
    /// are at most a few thousand frames). From 0 to 1 over 2^32 frames, frame `start + k`
    /// is `0 + 1 * (k / 2^32)`; frames before `start` are 0. Checked from the ramp's
    /// first frame, from a frame well into it, and across its start.
    #[test]
    fn a_ramp_longer_than_i32_max_frames_has_the_documented_value_at_every_frame() {
        let ramp = Ramp {
            start: 0,
            len: LONG,
            from: 0.0,
            to: 1.0,
        };
        let mut out = [f32::NAN; 8];
        ramp.fill(0, &mut out);
        assert_eq!(
            out,
            core::array::from_fn::<_, 8, _>(|k| over_long(k as u64))
        );
        ramp.fill(1_000, &mut out);
        assert_eq!(
            out,
            core::array::from_fn::<_, 8, _>(|k| over_long(1_000 + k as u64))
        );
        // Multiplied in: 4 * (k / 2^32).
        let mut out = [4.0f32; 8];
        ramp.apply(1_000, &mut out);
        assert_eq!(
            out,
            core::array::from_fn::<_, 8, _>(|k| 4.0 * over_long(1_000 + k as u64))
        );
        // Starting at frame 10, seen from frame 6: four frames of `from`, then the ramp.
        let late = Ramp { start: 10, ..ramp };
        let mut out = [f32::NAN; 8];
        late.fill(6, &mut out);
        assert_eq!(
            out,
            [
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                over_long(1),
                over_long(2),
                over_long(3)
            ]
        );
        // Seen 2^31 + 2^20 frames in (a `k` that no `i32` holds): `k / 2^32` is
        // 0.5 + 2^-12 there, `k as f32` being exact.
        let k0 = (1u64 << 31) + (1 << 20);
        let mut out = [f32::NAN; 4];
        ramp.fill(k0, &mut out);
        let want = 0.5f32 + 1.0 / 4096.0;
        assert_eq!(out, [want; 4]);
    }

    /// `Ramp::constant_over` tells the mixer a span needs no per-sample gains; it must say
    /// so wherever the gain is the same over the whole span (envelope.rs:57: `None`, or
    /// `||` made `&&`, sends every finished ramp down the per-sample path forever after).
    #[test]
    fn a_ramp_is_constant_before_its_start_after_its_end_and_everywhere_when_flat() {
        let ramp = Ramp {
            start: 100,
            len: 50,
            from: 0.5,
            to: 0.25,
        };
        assert_eq!(ramp.constant_over(0, 100), Some(0.5));
        assert_eq!(ramp.constant_over(0, 101), None);
        assert_eq!(ramp.constant_over(120, 4), None);
        assert_eq!(ramp.constant_over(149, 4), None);
        assert_eq!(ramp.constant_over(150, 4), Some(0.25));
        assert_eq!(ramp.constant_over(1 << 40, 1 << 20), Some(0.25));
        let flat = Ramp {
            from: 0.75,
            to: 0.75,
            ..ramp
        };
        assert_eq!(flat.constant_over(90, 100), Some(0.75));
        assert_eq!(Ramp::constant(0.125).constant_over(7, 64), Some(0.125));
    }

    /// `Ramp::apply` multiplies by a constant gain other than 1 (envelope.rs:71: `*=`
    /// made `+=` or `/=`). Through the engine this branch sees only the 0 after a fade's
    /// end, past the play's last frame, so it is asserted here: the doc says "multiplies".
    #[test]
    fn a_constant_ramp_other_than_one_multiplies_every_sample() {
        let mut out = [2.0f32, -4.0, 0.5, 0.0];
        Ramp::constant(0.5).apply(0, &mut out);
        assert_eq!(out, [1.0, -2.0, 0.25, 0.0]);
        // After a fade from 1 to 0 over frames [8, 12): 0 from frame 12 on.
        let fade = Ramp {
            start: 8,
            len: 4,
            from: 1.0,
            to: 0.0,
        };
        let mut out = [3.0f32; 4];
        fade.apply(12, &mut out);
        assert_eq!(out, [0.0; 4]);
        // And inside it: 1 - k / 4.
        let mut out = [3.0f32; 6];
        fade.apply(7, &mut out);
        assert_eq!(out, [3.0, 3.0, 2.25, 1.5, 0.75, 0.0]);
    }

    /// The documented envelope at stream frame `t` of a play whose origin is 0 and offset
    /// 0, written out: `gain(t) * fade_in(t) * fade_out(t) * cut(t)`, each a ramp.
    fn documented(
        gain: (u64, u64, f32, f32),
        fade_in: u64,
        (total, fade_out): (u64, u64),
        cut: Option<(u64, u64)>,
        t: u64,
    ) -> f32 {
        let ramp = |(start, len, from, to): (u64, u64, f32, f32)| {
            if t < start {
                from
            } else if t - start >= len {
                to
            } else {
                from + (to - from) * ((t - start) as f32 / len as f32)
            }
        };
        let g = ramp(gain);
        let i = if fade_in == 0 {
            1.0
        } else {
            ramp((0, fade_in, 0.0, 1.0))
        };
        let o = if fade_out == 0 {
            1.0
        } else {
            ramp((total - fade_out, fade_out, 1.0, 0.0))
        };
        let c = cut.map_or(1.0, |(start, len)| ramp((start, len, 1.0, 0.0)));
        g * i * o * c
    }

    /// Every span of an envelope with a gain ramp, a fade-in, a fade-out and a faded cut:
    /// `fill` gives the documented value at each frame, and where `constant_over` answers,
    /// its answer is that value at each frame of the span. A wrong steady window
    /// (envelope.rs:220, `!=` made `==`, takes the faded frames for steady) or a wrong
    /// product (envelope.rs:253) shows.
    #[test]
    fn every_span_of_an_envelope_has_the_documented_values() {
        let gain = (30, 20, 0.5, 0.25);
        let (fade_in, total, fade_out, cut) = (16, 120, 24, (100, 12));
        let mut env = Envelope::new(0.5, fade_in, fade_out, Some(total), 0);
        env.gain = Ramp {
            start: gain.0,
            len: gain.1,
            from: gain.2,
            to: gain.3,
        };
        env.cut = Ramp {
            start: cut.0,
            len: cut.1,
            from: 1.0,
            to: 0.0,
        };
        env.refresh();
        let want = |t| documented(gain, fade_in, (total, fade_out), Some(cut), t);
        let mut answered = 0;
        for frame in 0..130u64 {
            for n in [1u64, 2, 3, 7, 16, 40] {
                let mut out = std::vec![f32::NAN; n as usize];
                env.fill(frame, &mut out);
                for (i, &x) in out.iter().enumerate() {
                    let t = frame + i as u64;
                    assert_eq!(x.to_bits(), want(t).to_bits(), "fill at frame {t}");
                }
                if let Some(v) = env.constant_over(frame, n) {
                    answered += 1;
                    for t in frame..frame + n {
                        assert_eq!(v.to_bits(), want(t).to_bits(), "constant over {frame}+{n}");
                    }
                }
            }
        }
        assert!(answered > 0, "the steady stretches were never recognised");
    }

    /// The steady window answers for a play at a constant gain with no ramps under way
    /// (envelope.rs:244, `None`, would put every block of every play through the
    /// per-sample kernel); outside it, each factor is looked at: before a gain ramp that
    /// has not begun the value is the old gain (`g * 1 * 1 * 1`), after a fade-out's or a
    /// cut's end it is 0 (envelope.rs:253, `*` made `+` or `/`).
    #[test]
    fn constant_spans_give_the_product_of_the_four_factors() {
        let steady = Envelope::new(0.5, 0, 0, None, 0);
        assert_eq!(steady.constant_over(0, 64), Some(0.5));
        assert_eq!(steady.constant_over(1 << 40, 4096), Some(0.5));

        let mut ahead = Envelope::new(0.5, 0, 0, None, 0);
        ahead.gain = Ramp {
            start: 100,
            len: 10,
            from: 0.5,
            to: 0.25,
        };
        ahead.refresh();
        assert_eq!(ahead.constant_over(0, 64), Some(0.5));
        assert_eq!(ahead.constant_over(96, 8), None);
        assert_eq!(ahead.constant_over(110, 8), Some(0.25));

        // A 10-frame play fading out over its last 4: 0 from its frame 10 on.
        let faded = Envelope::new(0.5, 0, 4, Some(10), 0);
        assert_eq!(faded.constant_over(0, 6), Some(0.5));
        assert_eq!(faded.constant_over(10, 4), Some(0.0));
        assert_eq!(faded.constant_over(12, 4).map(f32::to_bits), Some(0));

        // Cut with a fade over frames [20, 24): 0 from frame 24 on.
        let mut cut = Envelope::new(0.5, 0, 0, None, 0);
        cut.cut = Ramp {
            start: 20,
            len: 4,
            from: 1.0,
            to: 0.0,
        };
        cut.refresh();
        assert_eq!(cut.constant_over(0, 20), Some(0.5));
        assert_eq!(cut.constant_over(24, 4).map(f32::to_bits), Some(0));
    }
}

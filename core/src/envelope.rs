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
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Envelope {
    pub(crate) gain: Ramp,
    /// The fade-in's length (0: none): it rises from 0 at play frame 0 to 1 at this one.
    fade_in: u64,
    /// The fade-out: it falls from 1 at play frame `.0` to 0 at `.0 + .1` (`.1` 0: none).
    fade_out: (u64, u64),
    pub(crate) cut: Ramp,
    /// The stream frame of play frame `offset`.
    pub(crate) origin: u64,
    pub(crate) offset: u64,
    /// Stream frames `[steady.0, steady.1)` where the envelope is `steady.2` throughout
    /// (kept by [`refresh`](Self::refresh)), so a span there needs one comparison, not four
    /// ramps.
    steady: (u64, u64, f32),
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

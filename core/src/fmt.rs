//! Internal diagnostics, routed to `defmt` when that feature is on and to nothing otherwise
//! (the embassy-sync pattern). These macros are for the control side and for rare events;
//! they never sit in the per-sample path.

#![allow(unused_macros)]

#[cfg(feature = "defmt")]
macro_rules! debug {
    ($($arg:tt)*) => { ::defmt::debug!($($arg)*) };
}

#[cfg(not(feature = "defmt"))]
macro_rules! debug {
    ($($arg:expr),* $(,)?) => {{ $( let _ = &$arg; )* }};
}

#[cfg(feature = "defmt")]
macro_rules! warn {
    ($($arg:tt)*) => { ::defmt::warn!($($arg)*) };
}

#[cfg(not(feature = "defmt"))]
macro_rules! warn {
    ($($arg:expr),* $(,)?) => {{ $( let _ = &$arg; )* }};
}

/// `defmt::Format` for the types that carry a buffer: like their `Debug`, they show the
/// sample count (or "stream"), never the samples, which can number millions.
#[cfg(feature = "defmt")]
mod buffers {
    use crate::{Entry, Payload, Play, PlaySource, Record, RecordTarget};

    /// A buffer's sample count, or "stream".
    struct Samples(Option<usize>);

    impl defmt::Format for Samples {
        fn format(&self, f: defmt::Formatter<'_>) {
            if let Some(n) = self.0 {
                defmt::write!(f, "{=usize} samples", n);
            } else {
                defmt::write!(f, "stream");
            }
        }
    }

    impl<P: PlaySource> defmt::Format for Play<P> {
        fn format(&self, f: defmt::Formatter<'_>) {
            let samples = Samples(self.buffer.buffer().map(<[f32]>::len));
            defmt::write!(
                f,
                "Play {{ samples: {}, map: {}, at: {}, late: {}, .. }}",
                samples,
                self.map,
                self.at,
                self.late
            );
        }
    }

    impl<R: RecordTarget> defmt::Format for Record<R> {
        fn format(&self, f: defmt::Formatter<'_>) {
            let samples = Samples(self.buffer.buffer().map(<[f32]>::len));
            defmt::write!(
                f,
                "Record {{ samples: {}, map: {}, at: {}, late: {}, .. }}",
                samples,
                self.map,
                self.at,
                self.late
            );
        }
    }

    impl<P: PlaySource, R: RecordTarget> defmt::Format for Payload<P, R> {
        fn format(&self, f: defmt::Formatter<'_>) {
            match self {
                Payload::None => defmt::write!(f, "None"),
                Payload::Played(p) => {
                    defmt::write!(f, "Played({})", Samples(p.buffer().map(<[f32]>::len)));
                }
                Payload::Recorded(r) => {
                    defmt::write!(f, "Recorded({})", Samples(r.buffer().map(<[f32]>::len)));
                }
                Payload::Stats(s) => defmt::write!(f, "Stats({})", s),
            }
        }
    }

    impl<P: PlaySource> defmt::Format for Entry<P> {
        fn format(&self, f: defmt::Formatter<'_>) {
            let samples = Samples(self.buffer.buffer().map(<[f32]>::len));
            defmt::write!(
                f,
                "Entry {{ samples: {}, map: {}, position: {=u64}, every: {}, gain: {=f32}, .. }}",
                samples,
                self.map,
                self.position,
                self.every,
                self.gain
            );
        }
    }
}

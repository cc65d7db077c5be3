//! What plays read from and recordings write to: a buffer the engine owns for the
//! action's life, or a stream (a ring buffer another thread fills or drains as it runs).
//!
//! The engine sees both through two small traits. [`PlaySource`] and [`RecordTarget`] say
//! which one an owner is; [`SampleSource`] and [`SampleSink`] move samples through a
//! stream. They are implemented here for the owners rtmix users hold: slices, arrays,
//! `Vec`, `Box` and `Arc` (with `alloc`, on by default), `heapless::spsc` queue ends (in
//! every build) and `rtrb` ring buffer ends (with `std`). [`Feed`] carries either kind, for
//! a stream that plays both buffers and streams.

/// Interleaved samples a play reads in order, as they become available.
pub trait SampleSource {
    /// Samples that can be read now.
    fn available(&self) -> usize;
    /// Moves up to `out.len()` samples into `out`, oldest first, and returns how many.
    fn read(&mut self, out: &mut [f32]) -> usize;
    /// Lends the next `n` samples (at most [`available`](Self::available)) in place, oldest
    /// first, to `f` as one or more slices in order that hold `n` samples together,
    /// consumes them, and returns `Some(n)`; or, as the default does, returns `None` and
    /// consumes nothing, and the engine reads through [`read`](Self::read) instead. A
    /// source whose samples lie in memory (a ring's two slices) saves the copy.
    fn read_in_place(&mut self, n: usize, f: &mut dyn FnMut(&[f32])) -> Option<usize> {
        let _ = (n, f);
        None
    }
}

/// Interleaved samples a recording writes in order, as room becomes available.
pub trait SampleSink {
    /// Samples that can be written now.
    fn room(&self) -> usize;
    /// Writes up to all of `samples` (the first of which was captured at input frame
    /// `frame`) and returns how many were written.
    fn write(&mut self, frame: u64, samples: &[f32]) -> usize;
}

/// What a play reads: a buffer (read at any position, so it can be cropped and looped) or a
/// stream (read in order while it plays).
///
/// ```
/// use rtmix_core::PlaySource;
/// let buffer: Vec<f32> = vec![0.5; 4];
/// assert_eq!(buffer.buffer(), Some(&[0.5f32; 4][..]));
/// ```
pub trait PlaySource {
    /// The samples, if this is a buffer.
    fn buffer(&self) -> Option<&[f32]>;
    /// The stream, if this is one.
    fn source(&mut self) -> Option<&mut dyn SampleSource> {
        None
    }
}

/// What a recording writes: a buffer (filled at its frames and handed back) or a stream
/// (written in order while it records).
pub trait RecordTarget {
    /// The samples, if this is a buffer.
    fn buffer(&self) -> Option<&[f32]>;
    /// The samples to fill, if this is a buffer.
    fn buffer_mut(&mut self) -> Option<&mut [f32]>;
    /// The stream, if this is one.
    fn sink(&mut self) -> Option<&mut dyn SampleSink> {
        None
    }
}

/// What a stream play does when its source has no samples for a frame.
///
/// ```
/// use rtmix_core::OnEmpty;
/// assert_eq!(OnEmpty::default(), OnEmpty::Silence);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OnEmpty {
    /// Play silence for the missing frames, count them, and go on reading: later samples
    /// play when they arrive.
    #[default]
    Silence,
    /// End the play at the first missing frame
    /// ([`EndReason::Underflow`](crate::EndReason::Underflow)).
    Stop,
}

/// What a stream recording does when its sink has no room for a frame.
///
/// ```
/// use rtmix_core::OnFull;
/// assert_eq!(OnFull::default(), OnFull::Drop);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum OnFull {
    /// Drop the frames that do not fit, count them, and go on: the sink sees a gap,
    /// which the frame numbers it is given show.
    #[default]
    Drop,
    /// End the recording at the first frame that does not fit
    /// ([`EndReason::Overflow`](crate::EndReason::Overflow)).
    Stop,
}

/// A buffer or a stream, for queues that carry both.
///
/// ```
/// use rtmix_core::{Feed, PlaySource};
/// let mut ring = heapless::spsc::Queue::<f32, 8>::new();
/// let (mut tx, rx) = ring.split();
/// tx.enqueue(0.25).unwrap();
/// let mut feed: Feed<Vec<f32>, _> = Feed::Stream(rx);
/// assert!(feed.buffer().is_none());
/// assert_eq!(feed.source().unwrap().available(), 1);
/// ```
#[derive(Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Feed<B, S> {
    /// A buffer.
    Buffer(B),
    /// A stream.
    Stream(S),
}

impl<B: PlaySource, S: PlaySource> PlaySource for Feed<B, S> {
    fn buffer(&self) -> Option<&[f32]> {
        match self {
            Feed::Buffer(b) => b.buffer(),
            Feed::Stream(s) => s.buffer(),
        }
    }

    fn source(&mut self) -> Option<&mut dyn SampleSource> {
        match self {
            Feed::Buffer(b) => b.source(),
            Feed::Stream(s) => s.source(),
        }
    }
}

impl<B: RecordTarget, S: RecordTarget> RecordTarget for Feed<B, S> {
    fn buffer(&self) -> Option<&[f32]> {
        match self {
            Feed::Buffer(b) => b.buffer(),
            Feed::Stream(s) => s.buffer(),
        }
    }

    fn buffer_mut(&mut self) -> Option<&mut [f32]> {
        match self {
            Feed::Buffer(b) => b.buffer_mut(),
            Feed::Stream(s) => s.buffer_mut(),
        }
    }

    fn sink(&mut self) -> Option<&mut dyn SampleSink> {
        match self {
            Feed::Buffer(b) => b.sink(),
            Feed::Stream(s) => s.sink(),
        }
    }
}

/// `RecordTarget` for a stream sink type: no buffer, itself as the sink.
macro_rules! sink_target {
    ($ty:ty) => {
        impl $crate::RecordTarget for $ty {
            fn buffer(&self) -> Option<&[f32]> {
                None
            }

            fn buffer_mut(&mut self) -> Option<&mut [f32]> {
                None
            }

            fn sink(&mut self) -> Option<&mut dyn $crate::SampleSink> {
                Some(self)
            }
        }
    };
}
#[cfg(feature = "std")]
pub(crate) use sink_target;

/// `PlaySource` for a stream source type: no buffer, itself as the source.
macro_rules! source_play {
    ($ty:ty) => {
        impl PlaySource for $ty {
            fn buffer(&self) -> Option<&[f32]> {
                None
            }

            fn source(&mut self) -> Option<&mut dyn SampleSource> {
                Some(self)
            }
        }
    };
}

macro_rules! play_buffer {
    ($($ty:ty $(, $gen:ident)?);* $(;)?) => {$(
        impl<$($gen)?> PlaySource for $ty {
            fn buffer(&self) -> Option<&[f32]> {
                Some(&self[..])
            }
        }
    )*};
}

play_buffer! {
    &[f32];
    &mut [f32];
}

impl<const N: usize> PlaySource for [f32; N] {
    fn buffer(&self) -> Option<&[f32]> {
        Some(&self[..])
    }
}

impl RecordTarget for &mut [f32] {
    fn buffer(&self) -> Option<&[f32]> {
        Some(self)
    }

    fn buffer_mut(&mut self) -> Option<&mut [f32]> {
        Some(self)
    }
}

impl<const N: usize> RecordTarget for [f32; N] {
    fn buffer(&self) -> Option<&[f32]> {
        Some(self)
    }

    fn buffer_mut(&mut self) -> Option<&mut [f32]> {
        Some(self)
    }
}

impl SampleSource for heapless::spsc::Consumer<'_, f32> {
    fn available(&self) -> usize {
        self.len()
    }

    fn read(&mut self, out: &mut [f32]) -> usize {
        let n = out.len().min(self.len());
        for o in &mut out[..n] {
            // `len` said these are there, and this end is the only consumer.
            *o = self.dequeue().unwrap_or(0.0);
        }
        n
    }
}

source_play!(heapless::spsc::Consumer<'_, f32>);

impl SampleSink for heapless::spsc::Producer<'_, f32> {
    fn room(&self) -> usize {
        self.capacity() - self.len()
    }

    fn write(&mut self, _frame: u64, samples: &[f32]) -> usize {
        let n = samples.len().min(self.room());
        for &s in &samples[..n] {
            // `room` said it fits, and this end is the only producer.
            let _ = self.enqueue(s);
        }
        n
    }
}

sink_target!(heapless::spsc::Producer<'_, f32>);

#[cfg(feature = "alloc")]
mod with_alloc {
    use super::{PlaySource, RecordTarget};
    use alloc::boxed::Box;
    use alloc::sync::Arc;
    use alloc::vec::Vec;

    play_buffer! {
        Vec<f32>;
        Box<[f32]>;
        Arc<[f32]>;
    }

    impl RecordTarget for Vec<f32> {
        fn buffer(&self) -> Option<&[f32]> {
            Some(self)
        }

        fn buffer_mut(&mut self) -> Option<&mut [f32]> {
            Some(self)
        }
    }

    impl RecordTarget for Box<[f32]> {
        fn buffer(&self) -> Option<&[f32]> {
            Some(self)
        }

        fn buffer_mut(&mut self) -> Option<&mut [f32]> {
            Some(self)
        }
    }
}

#[cfg(feature = "std")]
pub(crate) use with_std::write_ring;

#[cfg(feature = "std")]
mod with_std {
    use super::{PlaySource, SampleSink, SampleSource};

    impl SampleSource for rtrb::Consumer<f32> {
        fn available(&self) -> usize {
            self.slots()
        }

        fn read(&mut self, out: &mut [f32]) -> usize {
            let n = out.len().min(self.slots());
            let Ok(chunk) = self.read_chunk(n) else {
                return 0;
            };
            let (a, b) = chunk.as_slices();
            out[..a.len()].copy_from_slice(a);
            out[a.len()..n].copy_from_slice(b);
            chunk.commit_all();
            n
        }

        fn read_in_place(&mut self, n: usize, f: &mut dyn FnMut(&[f32])) -> Option<usize> {
            let n = n.min(self.slots());
            let Ok(chunk) = self.read_chunk(n) else {
                return Some(0);
            };
            let (a, b) = chunk.as_slices();
            f(a);
            if !b.is_empty() {
                f(b);
            }
            chunk.commit_all();
            Some(n)
        }
    }

    source_play!(rtrb::Consumer<f32>);

    impl SampleSink for rtrb::Producer<f32> {
        fn room(&self) -> usize {
            self.slots()
        }

        fn write(&mut self, _frame: u64, samples: &[f32]) -> usize {
            write_ring(self, samples)
        }
    }

    sink_target!(rtrb::Producer<f32>);

    /// Copies as many of `samples` as fit into `ring` and returns how many.
    pub(crate) fn write_ring(ring: &mut rtrb::Producer<f32>, samples: &[f32]) -> usize {
        let n = samples.len().min(ring.slots());
        let Ok(mut chunk) = ring.write_chunk(n) else {
            return 0;
        };
        let (a, b) = chunk.as_mut_slices();
        let split = a.len();
        a.copy_from_slice(&samples[..split]);
        b.copy_from_slice(&samples[split..n]);
        chunk.commit_all();
        n
    }
}

/// The buffer type of a direction a stream does not have (the recordings of an
/// output-only stream, the plays of an input-only one): there is no value of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unused {}

impl PlaySource for Unused {
    fn buffer(&self) -> Option<&[f32]> {
        match *self {}
    }
}

impl RecordTarget for Unused {
    fn buffer(&self) -> Option<&[f32]> {
        match *self {}
    }

    fn buffer_mut(&mut self) -> Option<&mut [f32]> {
        match *self {}
    }
}

/// Each implementation hands over what it holds: its samples as a buffer, or itself as a
/// stream, never both. (cargo-mutants: these bodies replaced by `None`, 0 or 1 survived
/// the suites, which play and record through `Vec`, `Arc` and `rtrb` only.)
#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::boxed::Box;
    use std::vec;
    use std::vec::Vec;

    #[test]
    fn arrays_slices_and_boxes_are_buffers_of_their_samples() {
        let array = [0.5f32, 0.25, -1.0];
        assert_eq!(PlaySource::buffer(&array), Some(&array[..]));
        let mut to_fill = [0.0f32; 2];
        assert_eq!(RecordTarget::buffer(&to_fill), Some(&[0.0, 0.0][..]));
        RecordTarget::buffer_mut(&mut to_fill).unwrap()[1] = 3.0;
        assert_eq!(to_fill, [0.0, 3.0]);
        let mut backing = [0.0f32; 3];
        let mut slice: &mut [f32] = &mut backing;
        RecordTarget::buffer_mut(&mut slice).unwrap()[0] = 2.0;
        assert_eq!(RecordTarget::buffer(&slice), Some(&[2.0, 0.0, 0.0][..]));
        let mut boxed: Box<[f32]> = vec![0.0f32; 2].into_boxed_slice();
        RecordTarget::buffer_mut(&mut boxed).unwrap()[0] = 4.0;
        assert_eq!(RecordTarget::buffer(&boxed), Some(&[4.0, 0.0][..]));
    }

    #[test]
    fn a_heapless_ring_reads_and_writes_what_it_has_room_for() {
        // A queue of N holds N - 1.
        let mut ring = heapless::spsc::Queue::<f32, 5>::new();
        let (mut tx, mut rx) = ring.split();
        assert_eq!((tx.room(), rx.available()), (4, 0));
        assert_eq!(tx.write(0, &[1.0, 2.0, 3.0]), 3);
        assert_eq!((tx.room(), rx.available()), (1, 3));
        assert_eq!(tx.write(3, &[4.0, 5.0]), 1, "only the room there is");
        let mut out = [0.0f32; 3];
        assert_eq!(rx.read(&mut out), 3);
        assert_eq!(out, [1.0, 2.0, 3.0]);
        let mut more = [9.0f32; 3];
        assert_eq!(rx.read(&mut more), 1, "only what is there");
        assert_eq!(more, [4.0, 9.0, 9.0]);
        assert!(PlaySource::buffer(&rx).is_none() && PlaySource::source(&mut rx).is_some());
        assert!(RecordTarget::buffer(&tx).is_none() && RecordTarget::sink(&mut tx).is_some());
    }

    #[test]
    fn a_feed_is_what_it_wraps() {
        let mut ring = heapless::spsc::Queue::<f32, 4>::new();
        let (mut tx, rx) = ring.split();
        tx.enqueue(0.5).unwrap();
        let mut play: Feed<Vec<f32>, heapless::spsc::Consumer<'_, f32>> =
            Feed::Buffer(vec![1.0, 2.0]);
        assert_eq!(PlaySource::buffer(&play), Some(&[1.0, 2.0][..]));
        assert!(play.source().is_none());
        let mut stream: Feed<Vec<f32>, _> = Feed::Stream(rx);
        assert!(PlaySource::buffer(&stream).is_none());
        assert_eq!(stream.source().map(|s| s.available()), Some(1));

        let mut record: Feed<Vec<f32>, heapless::spsc::Producer<'_, f32>> =
            Feed::Buffer(vec![0.0; 2]);
        record.buffer_mut().unwrap()[1] = 7.0;
        assert_eq!(RecordTarget::buffer(&record), Some(&[0.0, 7.0][..]));
        assert!(record.sink().is_none());
        let mut sink: Feed<Vec<f32>, _> = Feed::Stream(tx);
        assert!(RecordTarget::buffer(&sink).is_none() && sink.buffer_mut().is_none());
        assert_eq!(
            sink.sink().map(|s| s.room()),
            Some(2),
            "3 less the one queued"
        );
    }

    #[cfg(feature = "std")]
    #[test]
    fn an_rtrb_ring_has_what_was_pushed() {
        let (mut tx, rx) = rtrb::RingBuffer::<f32>::new(4);
        assert_eq!((SampleSink::room(&tx), rx.available()), (4, 0));
        assert_eq!(SampleSink::write(&mut tx, 0, &[1.0, 2.0, 3.0]), 3);
        assert_eq!((SampleSink::room(&tx), rx.available()), (1, 3));
    }
}

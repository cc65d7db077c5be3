//! Input chunks (AMIO's input chunk callback, done gap-free): a recording that hands what
//! it captures to an ordinary thread as it goes, each chunk stamped with its first frame.
//!
//! The audio side writes into a [`ChunkSink`] (a [`RecordTarget`](crate::RecordTarget)
//! stream: record into it like into any ring) two lock-free rings: the samples, and for
//! each write a mark with its first frame and length. The control side's [`ChunkReader`] pairs them back into
//! [`Chunk`]s. Consecutive chunks are contiguous (`next.frame == prev.frame +
//! prev.frames()`) except where the sink was full: those frames are dropped and counted
//! in the recording's [`ActionStats::dropped`](crate::ActionStats::dropped), and the next
//! chunk's frame shows the gap.

use std::thread;
use std::time::Duration;
use std::vec::Vec;

use crate::stream::{sink_target, write_ring};
use crate::SampleSink;

/// One piece of a recording.
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    /// The input frame of its first sample.
    pub frame: u64,
    /// Interleaved channels (the recording's map order).
    pub channels: usize,
    /// Interleaved samples.
    pub samples: Vec<f32>,
}

impl Chunk {
    /// Its frame count.
    pub fn frames(&self) -> u64 {
        (self.samples.len() / self.channels.max(1)) as u64
    }
}

/// Where one write starts and how long it is.
#[derive(Clone, Copy, Debug, Default)]
struct Mark {
    frame: u64,
    samples: usize,
}

/// The audio side of a chunked recording: pass it to [`Record::new`](crate::Record::new)
/// (it is a [`RecordTarget`](crate::RecordTarget) stream).
#[derive(Debug)]
pub struct ChunkSink {
    samples: rtrb::Producer<f32>,
    marks: rtrb::Producer<Mark>,
}

/// The control side of a chunked recording: chunks in order, as they arrive.
#[derive(Debug)]
pub struct ChunkReader {
    samples: rtrb::Consumer<f32>,
    marks: rtrb::Consumer<Mark>,
    channels: usize,
    poll: Duration,
}

/// A chunked recording of `channels` channels, buffering up to `frames` frames (and up to
/// `writes` engine writes, one per block or less) between the audio side and the reader.
///
/// ```
/// use rtmix_core::{chunks, ChannelMap, Record, StreamCapacity, StreamConfig};
/// let (sink, mut reader) = chunks::channel(1, 4800, 64);
/// let (mut ctl, mut engine) =
///     rtmix_core::open::<Vec<f32>, chunks::ChunkSink>(StreamConfig::input(2), StreamCapacity::default()).unwrap();
/// ctl.record(Record::new(sink, ChannelMap::new(&[1]).unwrap())).unwrap();
/// engine.input.process(&[0.0, 1.0, 0.0, 2.0]); // frames 0 and 1
/// engine.input.process(&[0.0, 3.0]);           // frame 2
/// let a = reader.try_next().unwrap();
/// assert_eq!((a.frame, a.samples.as_slice()), (0, &[1.0, 2.0][..]));
/// let b = reader.try_next().unwrap();
/// assert_eq!((b.frame, b.samples.as_slice()), (2, &[3.0][..]));
/// ```
pub fn channel(channels: usize, frames: usize, writes: usize) -> (ChunkSink, ChunkReader) {
    let (samples, samples_out) = rtrb::RingBuffer::new(frames * channels.max(1));
    let (marks, marks_out) = rtrb::RingBuffer::new(writes.max(1));
    (
        ChunkSink { samples, marks },
        ChunkReader {
            samples: samples_out,
            marks: marks_out,
            channels: channels.max(1),
            poll: Duration::from_millis(1),
        },
    )
}

impl SampleSink for ChunkSink {
    fn room(&self) -> usize {
        // A write needs a mark too.
        if self.marks.slots() == 0 {
            0
        } else {
            self.samples.slots()
        }
    }

    fn write(&mut self, frame: u64, samples: &[f32]) -> usize {
        let room = self.room();
        let n = write_ring(&mut self.samples, &samples[..samples.len().min(room)]);
        if n > 0 {
            // `room` saw a free mark slot and this is the only producer.
            let _ = self.marks.push(Mark { frame, samples: n });
        }
        n
    }
}

sink_target!(ChunkSink);

impl ChunkReader {
    /// The next chunk, if one has arrived.
    pub fn try_next(&mut self) -> Option<Chunk> {
        let mark = *self.marks.peek().ok()?;
        // The samples are committed before their mark, so they are all there.
        let chunk = self.samples.read_chunk(mark.samples).ok()?;
        let (a, b) = chunk.as_slices();
        let mut samples = Vec::with_capacity(mark.samples);
        samples.extend_from_slice(a);
        samples.extend_from_slice(b);
        chunk.commit_all();
        let _ = self.marks.pop();
        Some(Chunk {
            frame: mark.frame,
            channels: self.channels,
            samples,
        })
    }

    /// True once the recording has ended (its sink was dropped with its completion) and
    /// every chunk has been read.
    pub fn is_finished(&self) -> bool {
        self.marks.is_abandoned() && self.marks.is_empty()
    }

    /// Hands each chunk to `f` on a new thread until the recording has ended and every
    /// chunk has been delivered; the thread polls every `poll` (1 ms by default, see
    /// [`poll_every`](Self::poll_every)).
    pub fn spawn<F>(self, mut f: F) -> thread::JoinHandle<()>
    where
        F: FnMut(Chunk) + Send + 'static,
    {
        thread::spawn(move || {
            for chunk in self {
                f(chunk);
            }
        })
    }

    /// Sets how long the blocking iterator sleeps when no chunk has arrived.
    #[must_use]
    pub fn poll_every(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }
}

/// Blocks (sleeping between polls) until the next chunk arrives; ends when the recording
/// has ended and every chunk has been read.
impl Iterator for ChunkReader {
    type Item = Chunk;

    fn next(&mut self) -> Option<Chunk> {
        loop {
            if let Some(chunk) = self.try_next() {
                return Some(chunk);
            }
            if self.is_finished() {
                return None;
            }
            thread::sleep(self.poll);
        }
    }
}

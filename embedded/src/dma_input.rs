//! The input engine fed from a circular DMA buffer, one half per interrupt.

use core::marker::PhantomData;

use rtmix_core::{Home, InputEngine, RecordTarget};

use crate::half::Alternation;
use crate::shape::Shape;
use crate::{Block, DmaError, FrameFormat, Half};

/// What one input interrupt did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CaptureReport {
    /// The half that was read.
    pub half: Half,
    /// The input frames it held, now consumed by the engine.
    pub captured: Block,
    /// True when the interrupt before this one was missed: the half before `captured` was
    /// overwritten unread, and the engine counted its frames as lost (recordings get zeros
    /// there, so every recorded sample stays on its frame).
    pub missed: bool,
}

/// Owns the input half of an engine and feeds it one half of a circular DMA buffer at
/// each half-transfer and transfer-complete interrupt (the receive side of
/// [`DmaOutput`](crate::DmaOutput)).
///
/// The first half the DMA fills holds input frames `0..h`; each half is one engine
/// block, so input frame `n` is the `n`-th frame the peripheral received. No priming is
/// needed.
///
/// ```
/// use rtmix_core::{At, ChannelMap, InputStorage, Record, StreamConfig};
/// use rtmix_embedded::{DmaInput, I16};
///
/// let mut storage: InputStorage<Vec<f32>, 4, 4, 4, 8> = InputStorage::new();
/// let (mut ctl, engine) = storage.split_input(StreamConfig::input(1)).unwrap();
/// let mut scratch = [0.0f32; 2];
/// let mut dma = DmaInput::<_, I16, _>::new(engine.input, &mut scratch, 2).unwrap();
/// let id = ctl.record(Record::new(vec![0.0; 2], ChannelMap::new(&[0]).unwrap()).at(At::Frame(1))).unwrap();
/// let buffer = [0i16, 8192, -16_384, 0]; // frames 0, 1 | 2, 3
/// dma.on_half_transfer(&buffer).unwrap();
/// dma.on_transfer_complete(&buffer).unwrap();
/// assert_eq!(ctl.take(id).unwrap().into_recording(), Some(vec![0.25, -0.5]));
/// ```
pub struct DmaInput<'a, R: 'static, F: FrameFormat, H: Home> {
    engine: InputEngine<R, H>,
    scratch: &'a mut [f32],
    shape: Shape,
    alternation: Alternation,
    format: PhantomData<F>,
}

impl<R: RecordTarget, F: FrameFormat, H: Home> core::fmt::Debug for DmaInput<'_, R, F, H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DmaInput")
            .field("frames_per_half", &self.shape.frames)
            .field("buffer_words", &self.shape.words)
            .field("clock", &self.engine.clock())
            .finish_non_exhaustive()
    }
}

impl<'a, R: RecordTarget, F: FrameFormat, H: Home> DmaInput<'a, R, F, H> {
    /// Feeds `engine` from a circular buffer of two halves of `frames_per_half` frames;
    /// `scratch` holds one half as `f32` (`frames_per_half * channels` samples or more).
    pub fn new(
        engine: InputEngine<R, H>,
        scratch: &'a mut [f32],
        frames_per_half: usize,
    ) -> Result<Self, DmaError> {
        let channels = usize::from(engine.channels());
        let shape = Shape::new::<F>(frames_per_half, channels, scratch.len())?;
        Ok(Self {
            engine,
            scratch,
            shape,
            alternation: Alternation::new(),
            format: PhantomData,
        })
    }

    /// The length in words of the circular buffer every call takes.
    pub fn buffer_len(&self) -> usize {
        self.shape.words
    }

    /// The input frame clock: the first frame of the next half to consume.
    pub fn clock(&self) -> u64 {
        self.engine.clock()
    }

    /// Services the half-transfer interrupt: consumes the first half.
    pub fn on_half_transfer(&mut self, buffer: &[F::Word]) -> Result<CaptureReport, DmaError> {
        self.service(Half::First, buffer)
    }

    /// Services the transfer-complete interrupt: consumes the second half.
    pub fn on_transfer_complete(&mut self, buffer: &[F::Word]) -> Result<CaptureReport, DmaError> {
        self.service(Half::Second, buffer)
    }

    /// Consumes `half` of `buffer`, which the DMA has just filled.
    pub fn service(&mut self, half: Half, buffer: &[F::Word]) -> Result<CaptureReport, DmaError> {
        self.shape.check(buffer.len())?;
        let h = self.shape.frames as u64;
        let missed = self.alternation.arrive(half);
        if missed {
            warn!("rtmix: a DMA input interrupt was missed; one half was overwritten unread");
            self.engine.report_lost(h);
        }
        let start = self.engine.clock();
        let scratch = &mut self.scratch[..self.shape.samples];
        F::decode(half.of(buffer), scratch);
        self.engine.process(scratch);
        Ok(CaptureReport {
            half,
            captured: Block {
                start,
                frames: h,
                stale: false,
            },
            missed,
        })
    }

    /// Tells the engine that `frames` input frames were lost that the order of the halves
    /// cannot show (see [`DmaOutput::report_lost`](crate::DmaOutput::report_lost)).
    pub fn report_lost(&mut self, frames: u64) {
        self.engine.report_lost(frames);
    }

    /// The engine half, to stop it or query it.
    pub fn engine(&mut self) -> &mut InputEngine<R, H> {
        &mut self.engine
    }

    /// Gives back the engine half and the scratch block.
    pub fn into_parts(self) -> (InputEngine<R, H>, &'a mut [f32]) {
        (self.engine, self.scratch)
    }
}

//! The output engine driven from a circular DMA buffer, one half per interrupt.

use core::marker::PhantomData;

use rtmix_core::{Home, OutputEngine, PlaySource};

use crate::half::Alternation;
use crate::shape::Shape;
use crate::{Block, DmaError, FrameFormat, Half, HalfReport};

/// Owns the output half of an engine and renders one half of a circular DMA buffer at
/// each half-transfer and transfer-complete interrupt.
///
/// Each half is one engine block of `frames_per_half` frames, so the frame clock counts
/// the frames the DMA sends, exactly, for as long as the interrupts keep up:
///
/// ```text
/// buffer:        | First half          | Second half         |
/// prime:           frames 0..h            frames h..2h          (before the DMA starts)
/// half-transfer:   renders 2h..3h         (DMA now sends h..2h)
/// complete:        (DMA now sends 2h..3h) renders 3h..4h
/// ```
///
/// A block rendered at one interrupt starts on the wire at the next, so output frame
/// `F` leaves the I2S peripheral `(F - playing.start)` frames after the interrupt whose
/// [`HalfReport::playing`] block contains it. A missed interrupt (the CPU busy for more
/// than a half) is detected from the order of the halves: the half that was not rendered
/// goes out stale, the engine counts its frames as lost (so everything scheduled stays on
/// the device timeline), and the report says so.
///
/// Nothing here allocates, blocks or panics; the conversion uses rtmix-core's
/// [`convert`](rtmix_core::convert) through the [`FrameFormat`].
///
/// ```
/// use rtmix_core::{At, ChannelMap, Play, OutputStorage, StreamConfig};
/// use rtmix_embedded::{DmaOutput, I16};
///
/// static CLICK: [f32; 2] = [0.5, 0.5];
/// let mut storage: OutputStorage<&'static [f32], 4, 4, 4, 8> = OutputStorage::new();
/// let (mut ctl, engine) = storage.split(StreamConfig::output(2)).unwrap();
/// let (output, _) = engine.split();
/// let mut scratch = [0.0f32; 8]; // one half: 4 frames of 2 channels
/// let mut dma = DmaOutput::<_, I16, _>::new(output, &mut scratch, 4).unwrap();
/// let mut buffer = [0i16; 16]; // two halves
///
/// ctl.play(Play::new(&CLICK[..], ChannelMap::new(&[1]).unwrap()).at(At::Frame(9))).unwrap();
/// dma.prime(&mut buffer).unwrap(); // frames 0..8, then start the DMA
/// let report = dma.on_half_transfer(&mut buffer).unwrap();
/// assert_eq!((report.playing.start, report.rendered.start), (4, 8));
/// // Frame 9, channel 1 is word (9 - 8) * 2 + 1 of the first half.
/// assert_eq!(&buffer[..6], &[0, 0, 0, 16_384, 0, 16_384]);
/// ```
pub struct DmaOutput<'a, P: 'static, F: FrameFormat, H: Home> {
    engine: OutputEngine<P, H>,
    scratch: &'a mut [f32],
    shape: Shape,
    alternation: Alternation,
    primed: bool,
    format: PhantomData<F>,
}

impl<P: PlaySource, F: FrameFormat, H: Home> core::fmt::Debug for DmaOutput<'_, P, F, H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DmaOutput")
            .field("frames_per_half", &self.shape.frames)
            .field("buffer_words", &self.shape.words)
            .field("primed", &self.primed)
            .field("clock", &self.engine.clock())
            .finish_non_exhaustive()
    }
}

impl<'a, P: PlaySource, F: FrameFormat, H: Home> DmaOutput<'a, P, F, H> {
    /// Drives `engine` from a circular buffer of two halves of `frames_per_half` frames.
    /// `scratch` holds one half as `f32` (`frames_per_half * channels` samples; more is
    /// fine): the engine renders there, then the block is converted into the DMA half.
    pub fn new(
        engine: OutputEngine<P, H>,
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
            primed: false,
            format: PhantomData,
        })
    }

    /// The length in words of the circular buffer every call takes.
    pub fn buffer_len(&self) -> usize {
        self.shape.words
    }

    /// Frames in one half (one engine block).
    pub fn frames_per_half(&self) -> usize {
        self.shape.frames
    }

    /// The output frame clock: the first frame of the next block to render.
    pub fn clock(&self) -> u64 {
        self.engine.clock()
    }

    /// Renders both halves (the first is sent first) before the DMA starts. Call it once,
    /// then start the circular transfer. Without it, the first interrupt counts the two
    /// halves it finds as lost frames, so the clock stays right but they are not heard.
    ///
    /// Returns the two blocks, in buffer order.
    pub fn prime(&mut self, buffer: &mut [F::Word]) -> Result<[Block; 2], DmaError> {
        self.shape.check(buffer.len())?;
        let first = self.render(Half::First, buffer).0;
        let second = self.render(Half::Second, buffer).0;
        self.alternation = Alternation::new();
        self.primed = true;
        Ok([first, second])
    }

    /// Services the half-transfer interrupt: renders the first half.
    pub fn on_half_transfer(&mut self, buffer: &mut [F::Word]) -> Result<HalfReport, DmaError> {
        self.service(Half::First, buffer, |_| ()).map(|(r, ())| r)
    }

    /// Services the transfer-complete interrupt: renders the second half.
    pub fn on_transfer_complete(&mut self, buffer: &mut [F::Word]) -> Result<HalfReport, DmaError> {
        self.service(Half::Second, buffer, |_| ()).map(|(r, ())| r)
    }

    /// Services the interrupt that freed `half`: works out which block the DMA has just
    /// started sending, hands it to `starting` (before any rendering, so that work done
    /// there, such as setting a [trigger pin](crate::TriggerOutput), happens as close to
    /// the start of that block as the interrupt allows), then renders the next block into
    /// `half`.
    ///
    /// ```
    /// # use rtmix_core::{OutputStorage, StreamConfig};
    /// # use rtmix_embedded::{DmaOutput, Half, I24Left};
    /// # let mut storage: OutputStorage<&'static [f32], 4, 4, 4, 8> = OutputStorage::new();
    /// # let (_ctl, engine) = storage.split(StreamConfig::output(1)).unwrap();
    /// # let mut scratch = [0.0f32; 2];
    /// let mut dma = DmaOutput::<_, I24Left, _>::new(engine.output, &mut scratch, 2).unwrap();
    /// let mut buffer = [0i32; 4];
    /// dma.prime(&mut buffer).unwrap();
    /// let (report, start) = dma.service(Half::First, &mut buffer, |block| block.start).unwrap();
    /// assert_eq!((start, report.rendered.start), (2, 4));
    /// // Skipping the transfer-complete interrupt: the next half-transfer sees it.
    /// let report = dma.service(Half::First, &mut buffer, |_| ()).unwrap().0;
    /// assert!(report.missed && report.playing.stale);
    /// assert_eq!((report.playing.start, report.rendered.start), (6, 8));
    /// ```
    pub fn service<T>(
        &mut self,
        half: Half,
        buffer: &mut [F::Word],
        starting: impl FnOnce(Block) -> T,
    ) -> Result<(HalfReport, T), DmaError> {
        self.shape.check(buffer.len())?;
        let h = self.shape.frames as u64;
        // `lost`: the half now going out was never rendered for the frames it sends.
        let (missed, lost) = if self.primed {
            let missed = self.alternation.arrive(half);
            (missed, missed)
        } else {
            // Nothing was rendered: both halves the DMA has sent and is sending were never
            // the engine's. Count them as lost, and expect the usual order from here.
            debug!("rtmix: DMA serviced before prime; two halves counted as lost");
            self.engine.report_lost(2 * h);
            self.alternation = Alternation::new();
            self.alternation.arrive(half);
            self.primed = true;
            (true, false)
        };
        let clock = self.engine.clock();
        let playing = if lost {
            warn!("rtmix: a DMA interrupt was missed; one half went out stale");
            self.engine.report_lost(h);
            Block {
                start: clock,
                frames: h,
                stale: true,
            }
        } else {
            Block {
                start: clock.saturating_sub(h),
                frames: h,
                stale: missed,
            }
        };
        let value = starting(playing);
        let (rendered, clipped) = self.render(half, buffer);
        let report = HalfReport {
            half,
            playing,
            rendered,
            missed,
            clipped,
        };
        Ok((report, value))
    }

    /// Tells the engine that `frames` frames went out that it never rendered, for a
    /// firmware that detects what the order of the halves cannot (two interrupts missed in
    /// a row, seen from a timer or the DMA's transfer counter): report whole halves
    /// (`2 * frames_per_half` for a missed pair) so that blocks stay aligned with them.
    pub fn report_lost(&mut self, frames: u64) {
        self.engine.report_lost(frames);
    }

    /// The engine half, to stop it or query it.
    pub fn engine(&mut self) -> &mut OutputEngine<P, H> {
        &mut self.engine
    }

    /// Gives back the engine half and the scratch block.
    pub fn into_parts(self) -> (OutputEngine<P, H>, &'a mut [f32]) {
        (self.engine, self.scratch)
    }

    /// Renders the next block into `half` of `buffer` (checked to be the right length).
    fn render(&mut self, half: Half, buffer: &mut [F::Word]) -> (Block, usize) {
        let start = self.engine.clock();
        let scratch = &mut self.scratch[..self.shape.samples];
        self.engine.process(scratch);
        let clipped = F::encode(scratch, half.of_mut(buffer));
        let block = Block {
            start,
            frames: self.shape.frames as u64,
            stale: false,
        };
        (block, clipped)
    }
}

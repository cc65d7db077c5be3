//! The audio side of a stream: both halves, for backends that run them in one pass.

use crate::home::Home;
use crate::{InputEngine, OutputEngine, PlaySource, RecordTarget};

/// The audio side of a stream. A duplex backend with one thread (ALSA) calls
/// [`process`](Self::process) once per period; a backend with two callbacks (cpal) calls
/// [`split`](Self::split) and moves each half into its own callback.
///
/// ```
/// use rtmix_core::{StreamCapacity, StreamConfig};
/// let (_ctl, mut engine) =
///     rtmix_core::open::<&'static [f32], Vec<f32>>(StreamConfig::duplex(2, 2), StreamCapacity::default()).unwrap();
/// let mut out = [1.0f32; 8];
/// engine.process(&[0.0; 8], &mut out);
/// assert_eq!(out, [0.0; 8]); // nothing scheduled: silence
/// assert_eq!((engine.output.clock(), engine.input.clock()), (4, 4));
/// ```
#[derive(Debug)]
pub struct Engine<P: 'static, R: 'static, H: Home> {
    /// The playback half, on the output frame clock.
    pub output: OutputEngine<P, H>,
    /// The capture half, on the input frame clock.
    pub input: InputEngine<R, H>,
}

impl<P: PlaySource, R: RecordTarget, H: Home> Engine<P, R, H> {
    /// Processes one duplex period: consumes `input`, then renders `output`.
    pub fn process(&mut self, input: &[f32], output: &mut [f32]) {
        self.input.process(input);
        self.output.process(output);
    }

    /// Separates the halves, for backends whose input and output run in different callbacks.
    pub fn split(self) -> (OutputEngine<P, H>, InputEngine<R, H>) {
        (self.output, self.input)
    }
}

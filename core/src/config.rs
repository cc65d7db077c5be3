//! The fixed shape of a stream.

/// The channel counts of a stream, fixed when it is built. A direction with 0 channels does
/// not exist: commands for it are refused with [`Error::NoSuchDirection`](crate::Error).
///
/// ```
/// use rtmix_core::StreamConfig;
/// let c = StreamConfig::duplex(2, 1);
/// assert_eq!((c.output_channels, c.input_channels), (2, 1));
/// assert_eq!(StreamConfig::output(8).input_channels, 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StreamConfig {
    /// Interleaved channels of every output block.
    pub output_channels: u16,
    /// Interleaved channels of every input block.
    pub input_channels: u16,
    /// Clamp the final output mix to [-1, 1] (the samples beyond are counted either way in
    /// [`StreamStats::clipped`](crate::StreamStats::clipped)).
    pub clamp_output: bool,
    /// Measure every block for [`Controller::meter`](crate::Controller::meter) (the
    /// default). Off, a block costs one pass over its samples less: the output is still
    /// checked for non-finite samples and samples beyond [-1, 1], with the same results
    /// and counts, and [`Controller::meter`](crate::Controller::meter) returns `None`.
    pub meters: bool,
    /// Protect the device from the output mix (the default): a NaN or infinite sample is
    /// sent as 0, and samples beyond [-1, 1] are counted (and clamped, with
    /// [`clamp_output`](Self::clamp_output)); see [`StreamStats`](crate::StreamStats).
    /// Off, the mix is sent exactly as summed, nothing is counted, and a block costs one
    /// pass over its samples less: for offline renders and test harnesses that check
    /// their own output. Clamping needs it: a stream that clamps without it is refused
    /// with [`Error::ClampUnprotected`](crate::Error::ClampUnprotected).
    pub protect_output: bool,
}

impl StreamConfig {
    /// Playback only.
    pub const fn output(channels: u16) -> Self {
        Self::duplex(channels, 0)
    }

    /// Capture only.
    ///
    /// ```
    /// use rtmix_core::StreamConfig;
    /// assert_eq!(StreamConfig::input(2).output_channels, 0);
    /// ```
    pub const fn input(channels: u16) -> Self {
        Self::duplex(0, channels)
    }

    /// Playback and capture.
    pub const fn duplex(output_channels: u16, input_channels: u16) -> Self {
        Self {
            output_channels,
            input_channels,
            clamp_output: false,
            meters: true,
            protect_output: true,
        }
    }

    /// The same, with the output mix clamped to [-1, 1].
    ///
    /// ```
    /// use rtmix_core::StreamConfig;
    /// assert!(StreamConfig::output(2).clamped().clamp_output);
    /// ```
    #[must_use]
    pub const fn clamped(mut self) -> Self {
        self.clamp_output = true;
        self
    }

    /// The same, without meters: for the smallest blocks, where measuring every sample is
    /// a large part of what a block costs (docs/performance.md).
    ///
    /// ```
    /// use rtmix_core::{Direction, StreamCapacity, StreamConfig};
    /// let config = StreamConfig::output(2).unmetered();
    /// assert!(!config.meters);
    /// let (mut ctl, mut engine) =
    ///     rtmix_core::open::<Vec<f32>, Vec<f32>>(config, StreamCapacity::default()).unwrap();
    /// engine.output.process(&mut [0.0; 16]);
    /// assert_eq!(ctl.meter(Direction::Output, 0), None);
    /// ```
    #[must_use]
    pub const fn unmetered(mut self) -> Self {
        self.meters = false;
        self
    }

    /// The same, with the output mix sent exactly as summed: no NaN or infinity replaced,
    /// nothing counted ([`protect_output`](Self::protect_output)).
    ///
    /// ```
    /// use rtmix_core::{At, ChannelMap, GainTarget, Late, Play, StreamCapacity, StreamConfig};
    /// let config = StreamConfig::output(1).unmetered().unprotected();
    /// let (mut ctl, mut engine) =
    ///     rtmix_core::open::<Vec<f32>, Vec<f32>>(config, StreamCapacity::default()).unwrap();
    /// let map = ChannelMap::new(&[0]).unwrap();
    /// ctl.play(Play::new(vec![f32::MAX, 2.0], map.clone()).at(At::Frame(0))).unwrap();
    /// ctl.play(Play::new(vec![f32::MAX, 0.5], map).at(At::Frame(0))).unwrap();
    /// let mut out = [0.0f32; 2];
    /// engine.output.process(&mut out);
    /// assert_eq!(out, [f32::INFINITY, 2.5]); // a protected stream sends [0.0, 2.5]
    /// ```
    #[must_use]
    pub const fn unprotected(mut self) -> Self {
        self.protect_output = false;
        self
    }
}

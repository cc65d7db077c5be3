//! Channel maps: which stream channel each buffer channel goes to (or comes from), and with
//! which gain.

use crate::Error;

/// The largest number of buffer channels one action can map.
pub const MAX_MAP_CHANNELS: usize = 32;

/// Maps the channels of an interleaved buffer onto stream channels.
///
/// Entry `k` names the stream channel of buffer channel `k`, so the map's length is the
/// buffer's channel count. Any subset and order of the stream's channels is allowed; for
/// playback, two buffer channels mapped to the same stream channel are summed. Each entry
/// has a gain (1.0 unless set); recordings ignore gains.
///
/// Channel numbers are checked against the stream when the command is submitted.
///
/// ```
/// use rtmix_core::ChannelMap;
/// // A stereo buffer played swapped, left at half level.
/// let map = ChannelMap::new(&[1, 0]).unwrap().with_gains(&[0.5, 1.0]).unwrap();
/// assert_eq!(map.channels(), &[1, 0]);
/// assert_eq!(map.gains(), &[0.5, 1.0]);
/// assert_eq!(map.len(), 2);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelMap {
    channels: heapless::Vec<u16, MAX_MAP_CHANNELS>,
    gains: heapless::Vec<f32, MAX_MAP_CHANNELS>,
}

impl ChannelMap {
    /// A map with unity gains.
    ///
    /// Fails with [`Error::EmptyChannelMap`] or [`Error::ChannelMapTooLong`].
    ///
    /// ```
    /// use rtmix_core::{ChannelMap, Error};
    /// assert_eq!(ChannelMap::new(&[]), Err(Error::EmptyChannelMap));
    /// ```
    pub fn new(channels: &[u16]) -> Result<Self, Error> {
        if channels.is_empty() {
            return Err(Error::EmptyChannelMap);
        }
        let len = channels.len();
        let too_long = Error::ChannelMapTooLong {
            len,
            max: MAX_MAP_CHANNELS,
        };
        let channels = heapless::Vec::from_slice(channels).map_err(|_| too_long)?;
        let mut gains = heapless::Vec::new();
        gains.resize(len, 1.0).map_err(|_| too_long)?;
        Ok(Self { channels, gains })
    }

    /// Stream channels `first..first + count` in order: the usual "buffer channel k goes to
    /// stream channel first + k".
    ///
    /// ```
    /// use rtmix_core::ChannelMap;
    /// assert_eq!(ChannelMap::contiguous(2, 3).unwrap().channels(), &[2, 3, 4]);
    /// ```
    pub fn contiguous(first: u16, count: u16) -> Result<Self, Error> {
        let mut channels = [0u16; MAX_MAP_CHANNELS];
        let count_usize = usize::from(count);
        if count_usize > MAX_MAP_CHANNELS {
            return Err(Error::ChannelMapTooLong {
                len: count_usize,
                max: MAX_MAP_CHANNELS,
            });
        }
        for (k, c) in channels[..count_usize].iter_mut().enumerate() {
            *c = first.saturating_add(k as u16);
        }
        Self::new(&channels[..count_usize])
    }

    /// Sets one gain per entry. Gains must be finite ([`Error::NonFiniteGain`]) and there
    /// must be exactly one per channel ([`Error::GainCountMismatch`]).
    ///
    /// ```
    /// use rtmix_core::{ChannelMap, Error};
    /// let map = ChannelMap::new(&[0]).unwrap();
    /// assert_eq!(map.clone().with_gains(&[f32::NAN]), Err(Error::NonFiniteGain { index: 0 }));
    /// assert_eq!(map.with_gains(&[1.0, 1.0]), Err(Error::GainCountMismatch { gains: 2, channels: 1 }));
    /// ```
    pub fn with_gains(mut self, gains: &[f32]) -> Result<Self, Error> {
        if gains.len() != self.channels.len() {
            return Err(Error::GainCountMismatch {
                gains: gains.len(),
                channels: self.channels.len(),
            });
        }
        if let Some(index) = gains.iter().position(|g| !g.is_finite()) {
            return Err(Error::NonFiniteGain { index });
        }
        self.gains.clear();
        self.gains.extend_from_slice(gains).ok();
        Ok(self)
    }

    /// Sets the same gain on every entry.
    ///
    /// ```
    /// use rtmix_core::ChannelMap;
    /// let map = ChannelMap::new(&[0, 1]).unwrap().with_gain(0.25).unwrap();
    /// assert_eq!(map.gains(), &[0.25, 0.25]);
    /// ```
    pub fn with_gain(mut self, gain: f32) -> Result<Self, Error> {
        if !gain.is_finite() {
            return Err(Error::NonFiniteGain { index: 0 });
        }
        self.gains.iter_mut().for_each(|g| *g = gain);
        Ok(self)
    }

    /// The stream channel of each buffer channel.
    pub fn channels(&self) -> &[u16] {
        &self.channels
    }

    /// The gain of each buffer channel.
    pub fn gains(&self) -> &[f32] {
        &self.gains
    }

    /// The number of buffer channels (never 0).
    pub fn len(&self) -> usize {
        self.channels.len()
    }

    /// Always false: a map has at least one entry. Here for the `len`/`is_empty` pair.
    ///
    /// ```
    /// use rtmix_core::ChannelMap;
    /// assert!(!ChannelMap::new(&[0]).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
    }

    /// The first channel that is not below `stream_channels`, if any.
    pub(crate) fn out_of_range(&self, stream_channels: u16) -> Option<u16> {
        self.channels
            .iter()
            .copied()
            .find(|&c| c >= stream_channels)
    }

    /// True when buffer channel `k` goes to stream channel `first + k` for every `k`.
    pub(crate) fn contiguous_from(&self) -> Option<u16> {
        let first = self.channels[0];
        let ok = self
            .channels
            .iter()
            .enumerate()
            .all(|(k, &c)| usize::from(c) == usize::from(first) + k);
        ok.then_some(first)
    }

    /// True when every gain is the same value.
    pub(crate) fn uniform_gain(&self) -> Option<f32> {
        let g = self.gains[0];
        self.gains
            .iter()
            .all(|x| x.to_bits() == g.to_bits())
            .then_some(g)
    }
}

/// A channel map as a stream carries it in its commands and action slots: room for `M`
/// channels, the channel capacity of the stream's [`Home`](crate::Home), so a stereo
/// firmware does not pay for 32.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MapOf<const M: usize> {
    channels: [u16; M],
    gains: [f32; M],
    len: u8,
}

/// What the engine reads of a stored channel map.
#[doc(hidden)]
pub trait MapStore: Sized + core::fmt::Debug {
    /// The most entries it holds.
    const CAPACITY: usize;
    /// `map`'s first [`CAPACITY`](Self::CAPACITY) entries (the controller refuses longer
    /// maps first, with [`Error::ChannelMapTooLong`]).
    fn store(map: &ChannelMap) -> Self;
    /// The stream channel of each buffer channel.
    fn channels(&self) -> &[u16];
    /// The gain of each buffer channel.
    fn gains(&self) -> &[f32];
}

impl<const M: usize> MapStore for MapOf<M> {
    const CAPACITY: usize = if M < MAX_MAP_CHANNELS {
        M
    } else {
        MAX_MAP_CHANNELS
    };

    fn store(map: &ChannelMap) -> Self {
        let len = map.len().min(Self::CAPACITY);
        let mut stored = Self {
            channels: [0; M],
            gains: [0.0; M],
            len: len as u8,
        };
        stored.channels[..len].copy_from_slice(&map.channels()[..len]);
        stored.gains[..len].copy_from_slice(&map.gains()[..len]);
        stored
    }

    fn channels(&self) -> &[u16] {
        &self.channels[..usize::from(self.len)]
    }

    fn gains(&self) -> &[f32] {
        &self.gains[..usize::from(self.len)]
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for ChannelMap {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "ChannelMap({})", &self.channels[..]);
    }
}

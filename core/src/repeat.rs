//! Looping: how often a play repeats its region.

/// How many times a play plays its region back to back. Repetitions are gapless: the
/// frame after the region's last frame is its first frame again, across any block
/// boundary, with no sample left out or played twice at the seam.
///
/// ```
/// use rtmix_core::{ChannelMap, Play, Repeat};
/// static BAR: [f32; 4] = [1.0, 0.0, 0.0, 0.0];
/// let play = Play::new(&BAR[..], ChannelMap::new(&[0]).unwrap()).repeat(Repeat::Times(3));
/// assert_eq!(play.duration(), Some(12));
/// let forever = Play::new(&BAR[..], ChannelMap::new(&[0]).unwrap()).repeat(Repeat::Forever);
/// assert_eq!(forever.duration(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Repeat {
    /// Play the region this many times in all (1, the default, plays it once; 0 plays
    /// nothing and completes at the start frame, like an empty buffer).
    Times(u64),
    /// Loop until cancelled, or ended with [`Ending::AfterRepetition`](crate::Ending).
    Forever,
}

impl Repeat {
    /// Plays once.
    pub const ONCE: Repeat = Repeat::Times(1);
}

/// The default is [`Repeat::ONCE`].
impl Default for Repeat {
    fn default() -> Self {
        Repeat::ONCE
    }
}

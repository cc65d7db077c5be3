//! Block patterns: how the simulated device of `rtmix render` cuts its timeline into
//! blocks (`--block N`, `--blocks random:SEED[:MAX]`).

use std::str::FromStr;

/// The largest block of `--blocks random:SEED`.
pub const RANDOM_MAX: usize = 4096;

/// How the simulated device cuts the timeline into blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Blocks {
    /// Every block has this many frames (at least 1).
    Fixed(usize),
    /// Sizes drawn uniformly from `1..=max` by a `SplitMix64` generator with this seed.
    Random {
        /// The seed.
        seed: u64,
        /// The largest block.
        max: usize,
    },
}

impl Default for Blocks {
    fn default() -> Self {
        Blocks::Fixed(1024)
    }
}

impl FromStr for Blocks {
    type Err = String;

    /// `random:SEED` or `random:SEED:MAX`.
    ///
    /// ```
    /// use rtmix_cli::blocks::Blocks;
    /// assert_eq!("random:7".parse(), Ok(Blocks::Random { seed: 7, max: 4096 }));
    /// assert_eq!("random:7:16".parse(), Ok(Blocks::Random { seed: 7, max: 16 }));
    /// assert!("random:x".parse::<Blocks>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("bad block pattern {s:?}: write random:SEED or random:SEED:MAX");
        let rest = s.strip_prefix("random:").ok_or_else(bad)?;
        let (seed, max) = match rest.split_once(':') {
            Some((seed, max)) => (seed, max.parse::<usize>().map_err(|_| bad())?),
            None => (rest, RANDOM_MAX),
        };
        let seed = seed.parse::<u64>().map_err(|_| bad())?;
        if max == 0 {
            return Err(bad());
        }
        Ok(Blocks::Random { seed, max })
    }
}

impl std::fmt::Display for Blocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Blocks::Fixed(n) => write!(f, "{n}-frame blocks"),
            Blocks::Random { seed, max } => {
                write!(f, "random blocks of 1 to {max} frames (seed {seed})")
            }
        }
    }
}

/// The block sizes of a pattern, forever.
#[derive(Clone, Debug)]
pub struct Sizes {
    blocks: Blocks,
    state: u64,
}

impl Iterator for Sizes {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        Some(match self.blocks {
            Blocks::Fixed(n) => n.max(1),
            Blocks::Random { max, .. } => {
                // SplitMix64, as in rtmix-host-tests.
                self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = self.state;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                z ^= z >> 31;
                1 + (z % max.max(1) as u64) as usize
            }
        })
    }
}

impl Blocks {
    /// Its block sizes, forever.
    pub fn sizes(self) -> Sizes {
        let state = match self {
            Blocks::Random { seed, .. } => seed,
            Blocks::Fixed(_) => 0,
        };
        Sizes {
            blocks: self,
            state,
        }
    }
}

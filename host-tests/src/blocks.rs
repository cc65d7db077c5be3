//! Block-size patterns for the simulated device.

/// How the simulated device cuts the timeline into blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Blocks {
    /// Every block has this many frames (1 included).
    Fixed(usize),
    /// Sizes drawn uniformly from `1..=max` by a seeded generator.
    Random {
        /// The generator's seed.
        seed: u64,
        /// The largest block.
        max: usize,
    },
    /// These sizes, repeated.
    Cycle(Vec<usize>),
}

/// An endless iterator of block sizes.
#[derive(Clone, Debug)]
pub struct BlockSizes {
    blocks: Blocks,
    rng: SplitMix64,
    index: usize,
}

impl Blocks {
    /// The sizes this pattern yields, forever.
    ///
    /// ```
    /// use rtmix_host_tests::blocks::Blocks;
    /// let sizes: Vec<usize> = Blocks::Cycle(vec![1, 3]).sizes().take(4).collect();
    /// assert_eq!(sizes, [1, 3, 1, 3]);
    /// assert!(Blocks::Random { seed: 7, max: 16 }.sizes().take(100).all(|n| (1..=16).contains(&n)));
    /// ```
    pub fn sizes(&self) -> BlockSizes {
        let seed = match self {
            Blocks::Random { seed, .. } => *seed,
            _ => 0,
        };
        BlockSizes {
            blocks: self.clone(),
            rng: SplitMix64(seed),
            index: 0,
        }
    }
}

impl Iterator for BlockSizes {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let n = match &self.blocks {
            Blocks::Fixed(n) => *n,
            Blocks::Random { max, .. } => 1 + (self.rng.next_u64() % (*max).max(1) as u64) as usize,
            Blocks::Cycle(sizes) => sizes[self.index % sizes.len()],
        };
        self.index += 1;
        Some(n)
    }
}

/// A small, fast, seeded generator (`SplitMix64`), so patterns are reproducible from a seed.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

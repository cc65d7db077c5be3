//! An `rtrb` ring played in place (`SampleSource::read_in_place`) whose reads wrap around
//! its end: the engine gets the ring's two slices and mixes both, so every sample plays once,
//! in order, wherever the wrap falls against the blocks and the frames.

use rtmix_core::{ChannelMap, Play, StreamCapacity, StreamConfig};

#[test]
fn a_ring_read_across_its_wrap_plays_every_sample_once_in_order() {
    // Rings of 7 to 13 samples (stereo: the wrap falls inside a frame or between frames),
    // blocks of 1 to 5 frames; each round the writer tops the ring up, so reads cross the
    // wrap again and again.
    for capacity in 7..=13 {
        for block in 1..=5 {
            let (mut tx, rx) = rtrb::RingBuffer::<f32>::new(capacity);
            let (mut ctl, mut engine) = rtmix_core::open::<rtrb::Consumer<f32>, Vec<f32>>(
                StreamConfig::output(2),
                StreamCapacity::default(),
            )
            .unwrap();
            ctl.play(Play::new(rx, ChannelMap::new(&[0, 1]).unwrap()))
                .unwrap();
            let total = 200;
            let (mut written, mut heard) = (0usize, Vec::new());
            let mut rounds = 0;
            while heard.iter().filter(|&&x| x != 0.0).count() < total {
                rounds += 1;
                assert!(rounds < 2_000, "ring of {capacity}: samples were lost");
                // Whole frames only, so the ring never runs dry in the middle of a frame.
                while written < total && tx.slots() >= 2 {
                    tx.push(1.0 + written as f32).unwrap();
                    tx.push(-1.0 - written as f32).unwrap();
                    written += 2;
                }
                let mut out = vec![0.0f32; 2 * block];
                engine.output.process(&mut out);
                heard.extend_from_slice(&out);
            }
            let want: Vec<f32> = (0..total)
                .step_by(2)
                .flat_map(|i| [1.0 + i as f32, -1.0 - i as f32])
                .collect();
            // Blocks where the ring was empty play silence (counted as an underflow):
            // what is heard, with those frames left out, is every sample once, in order.
            let played: Vec<f32> = heard
                .chunks(2)
                .filter(|f| *f != [0.0, 0.0])
                .flatten()
                .copied()
                .take(want.len())
                .collect();
            assert_eq!(played, want, "ring of {capacity}, blocks of {block} frames");
        }
    }
}

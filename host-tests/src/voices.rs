//! Voices for the benchmarks: distinct stereo buffers, all started on the same frame.

use std::sync::Arc;

use rtmix_core::{At, ChannelMap, Controller, Engine, Error, Play};

/// `voices` distinct stereo buffers of `frames` frames each.
pub fn stereo_buffers(voices: usize, frames: usize) -> Vec<Arc<[f32]>> {
    (0..voices)
        .map(|v| {
            (0..frames * 2)
                .map(|i| ((i * 7 + v * 13) % 1000) as f32 / 1000.0 - 0.5)
                .collect::<Vec<f32>>()
                .into()
        })
        .collect()
}

/// Plays every buffer on both output channels from frame 1, and `later` silent plays from
/// frame 10^9 on, then renders frame 0, so the next block starts them all together.
/// Empty blocks are run whenever the command queue is full.
pub fn start_together<const A: usize>(
    ctl: &mut Controller<'_, Arc<[f32]>, Vec<f32>, A>,
    engine: &mut Engine<'_, Arc<[f32]>, Vec<f32>, A>,
    buffers: &[Arc<[f32]>],
    later: usize,
) {
    let silence: Arc<[f32]> = vec![0.0f32; 2].into();
    let requests = buffers
        .iter()
        .map(|b| (b.clone(), 1))
        .chain((0..later as u64).map(|i| (silence.clone(), 1_000_000_000 + i)));
    for (buffer, frame) in requests {
        let mut play =
            Play::new(buffer, ChannelMap::contiguous(0, 2).expect("map")).at(At::Frame(frame));
        loop {
            match ctl.play(play) {
                Ok(_) => break,
                Err(refused) if refused.error == Error::QueueFull => {
                    play = refused.returned;
                    engine.output.process(&mut []);
                }
                Err(refused) => panic!("benchmark stream refused a voice: {}", refused.error),
            }
        }
    }
    engine.output.process(&mut [0.0; 2]);
}

/// The reference every engine figure is compared with: `out[i] += buffer[i]` for each
/// buffer, over frames `first..first + out.len() / 2`, after clearing `out`. No
/// scheduling, no map, no gain, no bookkeeping.
#[inline]
pub fn sum_kernel(out: &mut [f32], buffers: &[Arc<[f32]>], first: usize) {
    out.fill(0.0);
    let offset = 2 * first;
    for b in buffers {
        let src = &std::hint::black_box(b)[offset..offset + out.len()];
        for (o, s) in out.iter_mut().zip(src) {
            *o += s;
        }
    }
}

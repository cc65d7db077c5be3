//! The DMA integration's edges: typed refusals, an interrupt before `prime`, the input
//! side (missed interrupts included), and a duplex loopback through both.

use rtmix_core::{
    At, ChannelMap, Controller, Engine, Heap, Late, Play, PlaySource, Record, StreamCapacity,
    StreamConfig,
};
use rtmix_embedded::{DmaError, DmaInput, DmaOutput, FrameFormat, Half, I24LeftHalfwords, I16};

/// The two sides of a host stream.
type Sides<P> = (Controller<P, Vec<f32>, Heap>, Engine<P, Vec<f32>, Heap>);

/// A host stream with 8 action slots: the DMA integration takes any storage.
fn stream<P: PlaySource + 'static>(config: StreamConfig) -> Sides<P> {
    let capacity = StreamCapacity {
        actions: 8,
        commands: 7,
        completions: 8,
    };
    rtmix_core::open(config, capacity).unwrap()
}

#[test]
fn bad_sizes_are_typed_errors_and_render_nothing() {
    let (_ctl, engine) = stream::<Vec<f32>>(StreamConfig::duplex(2, 1));
    let (output, input) = engine.split();
    let mut small = [0.0f32; 7];
    let err = DmaOutput::<_, I16, _>::new(output, &mut small, 4).unwrap_err();
    assert_eq!(err, DmaError::ScratchTooSmall { len: 7, needed: 8 });
    let mut scratch = [0.0f32; 8];
    let mut none = [0.0f32; 0];
    let (_c2, e2) = stream::<Vec<f32>>(StreamConfig::output(2));
    assert_eq!(
        DmaOutput::<_, I16, _>::new(e2.output, &mut none, 0).unwrap_err(),
        DmaError::Empty
    );
    let (_c3, e3) = stream::<Vec<f32>>(StreamConfig::output(2));
    let mut big = [0.0f32; 1];
    assert_eq!(
        DmaOutput::<_, I16, _>::new(e3.output, &mut big, usize::MAX).unwrap_err(),
        DmaError::TooLarge
    );
    // An input half with no channels.
    let (_c4, e4) = stream::<Vec<f32>>(StreamConfig::output(2));
    assert_eq!(
        DmaInput::<_, I16, _>::new(e4.input, &mut scratch, 4).unwrap_err(),
        DmaError::Empty
    );

    let mut in_scratch = [0.0f32; 4];
    let mut dma_in = DmaInput::<_, I24LeftHalfwords, _>::new(input, &mut in_scratch, 4).unwrap();
    assert_eq!(dma_in.buffer_len(), 2 * 4 * 2);
    assert_eq!(
        dma_in.on_half_transfer(&[0u16; 15]).unwrap_err(),
        DmaError::BufferLength {
            len: 15,
            expected: 16
        }
    );
    assert_eq!(dma_in.clock(), 0);
}

#[test]
fn a_wrong_buffer_leaves_the_clock_alone() {
    let (_ctl, engine) = stream::<Vec<f32>>(StreamConfig::output(2));
    let mut scratch = [0.0f32; 8];
    let mut dma = DmaOutput::<_, I16, _>::new(engine.output, &mut scratch, 4).unwrap();
    assert_eq!(dma.buffer_len(), 16);
    let mut short = [0i16; 12];
    assert_eq!(
        dma.prime(&mut short).unwrap_err(),
        DmaError::BufferLength {
            len: 12,
            expected: 16
        }
    );
    assert!(dma.on_transfer_complete(&mut short).is_err());
    assert_eq!(dma.clock(), 0);
}

#[test]
fn an_interrupt_before_prime_counts_both_halves_as_lost() {
    static ONE: [f32; 1] = [1.0];
    let (mut ctl, engine) = stream::<&'static [f32]>(StreamConfig::output(1));
    let mut scratch = [0.0f32; 4];
    let mut dma = DmaOutput::<_, I16, _>::new(engine.output, &mut scratch, 4).unwrap();
    let map = ChannelMap::new(&[0]).unwrap();
    ctl.play(Play::new(&ONE[..], map).at(At::Frame(9))).unwrap();
    let mut buffer = [0i16; 8];
    let report = dma.on_half_transfer(&mut buffer).unwrap();
    // The DMA sent frames 0..4 (zeros) and now sends 4..8 (zeros): never the engine's.
    assert!(report.missed && report.playing.stale);
    assert_eq!((report.playing.start, report.rendered.start), (4, 8));
    assert_eq!(buffer[..4], [0, i16::MAX, 0, 0]); // frame 9
    let report = dma.on_transfer_complete(&mut buffer).unwrap();
    assert!(!report.missed);
    assert_eq!((report.playing.start, report.rendered.start), (8, 12));
}

#[test]
fn input_halves_are_consecutive_blocks_and_a_missed_one_is_lost() {
    let (mut ctl, engine) = stream::<Vec<f32>>(StreamConfig::input(1));
    let mut scratch = [0.0f32; 3];
    let mut dma = DmaInput::<_, I16, _>::new(engine.input, &mut scratch, 3).unwrap();
    let map = ChannelMap::new(&[0]).unwrap();
    let rec = ctl
        .record(Record::new(vec![9.0; 12], map).at(At::Frame(0)))
        .unwrap();
    // The DMA writes frame n as n/16 of full scale: 2048 * n.
    let mut buffer = [0i16; 6];
    let mut frame = 0i16;
    let mut fill = |half: Half, buffer: &mut [i16]| {
        for w in half.of_mut(buffer) {
            *w = frame * 2048;
            frame += 1;
        }
    };
    fill(Half::First, &mut buffer);
    let r = dma.on_half_transfer(&buffer).unwrap();
    assert_eq!((r.captured.start, r.missed), (0, false));
    fill(Half::Second, &mut buffer);
    dma.on_transfer_complete(&buffer).unwrap();
    // The next half-transfer is missed: the first half is overwritten unread.
    fill(Half::First, &mut buffer);
    fill(Half::Second, &mut buffer);
    let r = dma.on_transfer_complete(&buffer).unwrap();
    assert_eq!((r.captured.start, r.missed), (9, true));
    fill(Half::First, &mut buffer);
    dma.service(Half::First, &buffer).unwrap();
    let got = ctl.take(rec).unwrap();
    assert_eq!(got.stats.frames_lost, 3);
    let want: Vec<f32> = [0, 1, 2, 3, 4, 5, -1, -1, -1, 9, 10, 11]
        .iter()
        .map(|&n| if n < 0 { 0.0 } else { n as f32 / 16.0 })
        .collect();
    assert_eq!(got.into_recording().unwrap(), want);
}

/// Output and input DMA on the same clocks, the receive line wired to the transmit line:
/// input frame `n` is output frame `n`, so a recording at frame F of a play at frame F
/// gets the play's samples back exactly (16-bit values survive the round trip).
#[test]
fn a_duplex_loopback_records_what_was_played_at_the_same_frame() {
    let (mut ctl, engine) = stream::<Vec<f32>>(StreamConfig::duplex(2, 2));
    let (output, input) = engine.split();
    let half = 5;
    let (mut s_out, mut s_in) = ([0.0f32; 10], [0.0f32; 10]);
    let mut tx = DmaOutput::<_, I16, _>::new(output, &mut s_out, half).unwrap();
    let mut rx = DmaInput::<_, I16, _>::new(input, &mut s_in, half).unwrap();
    let samples: Vec<f32> = (0..40)
        .map(|i| f32::from(i16::try_from(i).unwrap() - 20) / 64.0)
        .collect();
    let map = ChannelMap::new(&[1, 0]).unwrap();
    ctl.play(
        Play::new(samples.clone(), map.clone())
            .at(At::Frame(23))
            .late(Late::Skip),
    )
    .unwrap();
    let rec = ctl
        .record(Record::new(vec![0.0; 40], map).at(At::Frame(23)))
        .unwrap();
    let mut out_buf = [0i16; 20];
    let mut in_buf = [0i16; 20];
    tx.prime(&mut out_buf).unwrap();
    // Half-period j: the TX DMA sends half j % 2 while the RX DMA fills it.
    for j in 0..20 {
        let h = if j % 2 == 0 {
            Half::First
        } else {
            Half::Second
        };
        h.of_mut(&mut in_buf).copy_from_slice(h.of(&out_buf));
        // End of the half-period: both interrupts for `h`.
        tx.service(h, &mut out_buf, |_| ()).unwrap();
        rx.service(h, &in_buf).unwrap();
    }
    let done = ctl.take(rec).unwrap();
    assert_eq!(done.actual_start, Some(23));
    assert_eq!(done.into_recording().unwrap(), samples);
    assert_eq!(I16::WORDS_PER_SAMPLE, 1);
}

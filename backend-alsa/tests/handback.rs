//! An engine handed back at the end of a stream and attached to another device, on ALSA
//! `file` PCMs (fixtures/alsa/rtmix.conf; unpaced, no sound card):
//!
//! * the engine comes back untouched: a play cut by the end of the first stream, and one
//!   due later, are still in it, and nothing completes;
//! * attached to a second file PCM (resumed at the instant its next frame was due: no
//!   frame lost), it goes on where it stopped: the two files, end to end, are the
//!   offline render bit for bit, and each play completes exactly once, `Finished`;
//! * a hand-back dropped without being attached ends what the engine holds with
//!   `StreamStopped`, as the end of a stream does.
//!
//! `tests/reconnect.rs` does the same through a device that is lost and found again.

mod common;

use common::alsa_config;
use rtmix_alsa::{AlsaStream, Config, OutputDevice, RunControl};
use rtmix_core::{
    At, ChannelMap, Controller, EndReason, Engine, Heap, Play, StreamCapacity, StreamConfig,
};

const RATE: u32 = 48_000;

type Ctl = Controller<Vec<f32>, Vec<f32>, Heap>;

fn open() -> (Ctl, Engine<Vec<f32>, Vec<f32>, Heap>) {
    rtmix_core::open(StreamConfig::output(2), StreamCapacity::default()).unwrap()
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("rtmix-alsa-handback-{}-{name}", std::process::id()))
}

/// A play across the first stream's end, and one due in the second stream.
fn schedule(ctl: &mut Ctl) -> [rtmix_core::ActionId; 2] {
    let ch = |c: &[u16]| ChannelMap::new(c).unwrap();
    let ramp: Vec<f32> = (0..3000).map(|i| (i as f32 - 1500.0) / 2048.0).collect();
    let across = ctl
        .play(Play::new(ramp, ch(&[0])).at(At::Frame(100)))
        .unwrap();
    let tone: Vec<f32> = (0..64).map(|i| ((i % 8) as f32 - 4.0) / 8.0).collect();
    let later = ctl
        .play(Play::new(tone, ch(&[1])).at(At::Frame(5000)))
        .unwrap();
    [across, later]
}

fn offline(frames: usize) -> Vec<f32> {
    let (mut ctl, engine) = open();
    schedule(&mut ctl);
    let (mut output, _) = engine.split();
    let mut out = vec![0.0; frames * 2];
    output.process(&mut out);
    out
}

fn file_device(path: &std::path::Path) -> OutputDevice {
    let config = Config::new(&format!("rtmix_file:FILE={}", path.display()), RATE, 2)
        .period(64)
        .periods(4);
    OutputDevice::open(&config).unwrap()
}

fn stop_after(frames: u64) -> RunControl {
    RunControl {
        stop_after: Some(frames),
        ..RunControl::default()
    }
}

fn read_f32(path: &std::path::Path) -> Vec<u32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[test]
fn an_engine_handed_back_goes_on_exactly_on_the_next_device() {
    alsa_config();
    let (first, second) = (temp("first.raw"), temp("second.raw"));
    let (mut ctl, engine) = open();
    let [across, later] = schedule(&mut ctl);
    let (output, _) = engine.split();

    let (stream, back) =
        AlsaStream::play_handing_back(file_device(&first), output, stop_after(2048)).unwrap();
    assert_eq!(stream.join().unwrap().frames, 2048);
    let detached = back.detached().expect("the engine came back");
    assert_eq!(detached.clock(), 2048);
    assert!(
        ctl.try_next().is_none(),
        "nothing completed at the hand-back"
    );
    // Resumed at the instant its next frame was due: no frame lost in between.
    let due = detached.due.expect("the file PCM's clock had anchors");
    let (output, lost) = detached.resume(due);
    assert_eq!(lost, 0);

    let (stream, back) =
        AlsaStream::play_handing_back(file_device(&second), output, stop_after(4096)).unwrap();
    assert_eq!(stream.join().unwrap().frames, 4096);
    let mut done = Vec::new();
    while let Some(c) = ctl.try_next() {
        done.push(c);
    }
    assert_eq!(done.len(), 2, "{done:?}");
    for (id, c) in [across, later].iter().zip(&done) {
        assert_eq!((c.id, c.end), (*id, EndReason::Finished), "{c:?}");
    }
    drop(back); // the engine holds nothing: nothing more completes
    assert!(ctl.try_next().is_none(), "an action completed twice");

    let mut written = read_f32(&first);
    written.extend(read_f32(&second));
    let want: Vec<u32> = offline(6144).iter().map(|x| x.to_bits()).collect();
    assert_eq!(written.len(), want.len());
    assert!(
        written == want,
        "the two files end to end differ from the offline render"
    );
    let _ = std::fs::remove_file(first);
    let _ = std::fs::remove_file(second);
}

#[test]
fn a_hand_back_dropped_unattached_ends_what_the_engine_holds() {
    alsa_config();
    let path = temp("dropped.raw");
    let (mut ctl, engine) = open();
    let [across, later] = schedule(&mut ctl);
    let (output, _) = engine.split();
    let (stream, back) =
        AlsaStream::play_handing_back(file_device(&path), output, stop_after(1024)).unwrap();
    stream.join().unwrap();
    assert!(
        ctl.try_next().is_none(),
        "nothing completed at the hand-back"
    );
    drop(back);
    for id in [across, later] {
        let c = ctl.take(id).expect("the action completed");
        assert_eq!(c.end, EndReason::StreamStopped, "{c:?}");
    }
    let _ = std::fs::remove_file(path);
}

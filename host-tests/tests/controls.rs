//! The controller's bookkeeping, through its public API: how many slots a direction has and
//! which one is kept for cancels, which channels have a meter, which direction a command
//! needs, and what its `Debug` shows. Each test names the cargo-mutants survivors (in
//! core/src/controller.rs and core/src/port.rs) that no suite had noticed.

use rtmix_core::{
    At, ChannelMap, Direction, Error, GainTarget, Late, OutputStorage, Play, StreamConfig,
};
use rtmix_host_tests::stream;

fn mono(frames: usize) -> Play<Vec<f32>> {
    Play::new(vec![0.25; frames], ChannelMap::new(&[0]).unwrap())
}

/// A direction has as many slots as the stream was opened with, the other none; every
/// slot but the last takes any command, and the last is kept for a cancel, which takes it
/// (`Controller::slots` and `Port::slots` made 0 or 1 went unnoticed; the rule itself is
/// what port.rs:160 checks).
#[test]
fn the_last_slot_is_kept_for_a_cancel_and_a_cancel_may_take_it() {
    for slots in [2usize, 3, 5] {
        let (mut ctl, _engine) =
            stream::open::<Vec<f32>, Vec<f32>>(slots, 16, StreamConfig::output(1));
        assert_eq!(ctl.slots(Direction::Output), slots);
        assert_eq!(ctl.slots(Direction::Input), 0);
        let plays: Vec<_> = (0..slots - 1)
            .map(|_| ctl.play(mono(4).at(At::Frame(1_000))).unwrap())
            .collect();
        assert_eq!(ctl.outstanding(Direction::Output), slots - 1);
        // The last slot: not for a play, nor a stats fetch or a gain change...
        let refused = ctl.play(mono(4).at(At::Frame(1_000))).unwrap_err();
        assert_eq!(refused.error, Error::Capacity { slots });
        assert_eq!(
            ctl.fetch_stats(Direction::Output, At::Asap),
            Err(Error::Capacity { slots })
        );
        assert_eq!(
            ctl.set_gain(GainTarget::Action(plays[0]), 0.5, 0, At::Asap, Late::Drop),
            Err(Error::Capacity { slots })
        );
        // ...but for a cancel, which then fills the direction.
        ctl.cancel(plays[0], At::Asap, Late::Drop).unwrap();
        assert_eq!(ctl.outstanding(Direction::Output), slots);
        assert_eq!(
            ctl.cancel(plays[plays.len() - 1], At::Asap, Late::Drop),
            Err(Error::Capacity { slots })
        );
    }
}

/// A channel has a meter only if the stream has it, even where the storage holds meters
/// for more channels: a fixed storage made for 2 channels, opened with 1
/// (controller.rs:354, `<` made `<=`, read the storage's spare meter as channel 1's).
#[test]
fn only_the_stream_s_channels_have_a_meter() {
    let mut storage: OutputStorage<Vec<f32>, 4, 4, 2, 2> = OutputStorage::new();
    let (mut ctl, mut engine) = storage.split(StreamConfig::output(1)).unwrap();
    let mut out = [0.0f32; 8];
    engine.output.process(&mut out);
    assert_eq!(ctl.meter(Direction::Output, 0).unwrap().frames, 8);
    assert_eq!(ctl.meter(Direction::Output, 1), None);
    assert_eq!(ctl.meter(Direction::Output, 2), None);
    assert_eq!(ctl.meter(Direction::Input, 0), None);

    let (mut ctl, mut engine) = stream::open::<Vec<f32>, Vec<f32>>(4, 4, StreamConfig::output(2));
    let mut out = [0.0f32; 8];
    engine.output.process(&mut out);
    assert_eq!(ctl.meter(Direction::Output, 1).unwrap().frames, 4);
    assert_eq!(ctl.meter(Direction::Output, 2), None);
}

/// A gain change needs the output direction: on a stream that only records, a master
/// gain is refused because there is no output, not because its channel is out of range
/// (controller.rs:759, `port_exists` made `Ok(())`, gave `ChannelOutOfRange`).
#[test]
fn a_gain_change_on_a_stream_without_output_is_refused_for_its_direction() {
    let (mut ctl, _engine) = stream::open::<Vec<f32>, Vec<f32>>(4, 4, StreamConfig::input(2));
    assert_eq!(
        ctl.set_gain(GainTarget::Master(0), 0.5, 0, At::Asap, Late::Drop),
        Err(Error::NoSuchDirection)
    );
    assert_eq!(
        ctl.fetch_stats(Direction::Output, At::Asap),
        Err(Error::NoSuchDirection)
    );
    // The direction it has works.
    ctl.fetch_stats(Direction::Input, At::Asap).unwrap();
}

/// The controller's `Debug` shows each direction's port: its channels, slots and
/// outstanding actions (controller.rs:51 and port.rs:93, made `Ok(Default::default())`,
/// printed nothing).
#[test]
fn a_controller_s_debug_shows_its_ports() {
    let (mut ctl, _engine) = stream::open::<Vec<f32>, Vec<f32>>(6, 4, StreamConfig::output(2));
    ctl.play(Play::new(vec![0.0; 8], ChannelMap::new(&[0, 1]).unwrap()).at(At::Frame(100)))
        .unwrap();
    let text = format!("{ctl:?}");
    assert!(text.starts_with("Controller {"), "{text}");
    assert!(
        text.contains("output: Some(Port { channels: 2, slots: 6, outstanding: 1, .. })"),
        "{text}"
    );
    assert!(text.contains("input: None"), "{text}");
    assert!(text.contains("next_seq: 1"), "{text}");
}

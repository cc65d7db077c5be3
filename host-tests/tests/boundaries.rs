//! Exact boundaries of what the controller accepts: the last channel of a direction is
//! accepted and plays or records on that channel; the first channel past it is refused
//! with `ChannelOutOfRange` naming it, for a play, a record, a group member and a master
//! gain, and the buffer comes back untouched; an action that ends exactly at
//! `u64::MAX` is accepted, one frame later is `FrameOverflow`.

use proptest::prelude::*;
use rtmix_core::{At, ChannelMap, Error, GainTarget, Late, Member, Play, Record, StreamConfig};
use rtmix_host_tests::stream;

fn map(channels: &[u16]) -> ChannelMap {
    ChannelMap::new(channels).unwrap()
}

proptest! {
    #[test]
    fn the_last_channel_is_accepted_and_the_next_refused(outs in 1u16..=8, ins in 1u16..=8, others in 0u16..8) {
        let (mut ctl, mut engine) = stream::open::<Vec<f32>, Vec<f32>>(8, 8, StreamConfig::duplex(outs, ins));
        // Another valid channel beside the one under test, so the bad one need not be first.
        let (other_out, other_in) = (others % outs, others % ins);
        let refused = |channel: u16, channels: u16| Error::ChannelOutOfRange { channel, channels };

        // Play: one past the last output channel.
        let bad = ctl.play(Play::new(vec![0.5, 0.25], map(&[other_out, outs]))).unwrap_err();
        prop_assert_eq!(bad.error, refused(outs, outs));
        prop_assert_eq!(bad.returned.into_buffer(), vec![0.5, 0.25]);
        // Record: one past the last input channel.
        let bad = ctl.record(Record::new(vec![7.0; 2], map(&[other_in, ins]))).unwrap_err();
        prop_assert_eq!(bad.error, refused(ins, ins));
        prop_assert_eq!(bad.returned.into_buffer(), vec![7.0; 2]);
        // A group with one bad member is refused whole.
        let bad = ctl
            .group([
                Member::Play(Play::new(vec![0.5], map(&[outs - 1]))),
                Member::Record(Record::new(vec![7.0], map(&[ins]))),
            ])
            .unwrap_err();
        prop_assert_eq!(bad.error, refused(ins, ins));
        let bad = ctl
            .group([
                Member::Record(Record::new(vec![7.0], map(&[ins - 1]))),
                Member::Play(Play::new(vec![0.5], map(&[outs]))),
            ])
            .unwrap_err();
        prop_assert_eq!(bad.error, refused(outs, outs));
        // A master gain.
        prop_assert_eq!(
            ctl.set_gain(GainTarget::Master(outs), 0.5, 0, At::Asap, Late::StartNow),
            Err(refused(outs, outs))
        );
        prop_assert_eq!(ctl.outstanding(rtmix_core::Direction::Output), 0);
        prop_assert_eq!(ctl.outstanding(rtmix_core::Direction::Input), 0);

        // The last channels are accepted, and play and record exactly there.
        ctl.set_gain(GainTarget::Master(outs - 1), 0.5, 0, At::Frame(0), Late::StartNow).unwrap();
        ctl.play(Play::new(vec![1.0], map(&[outs - 1])).at(At::Frame(0))).unwrap();
        let rec = ctl.record(Record::new(vec![7.0], map(&[ins - 1])).at(At::Frame(0))).unwrap();
        let (o, i) = (usize::from(outs), usize::from(ins));
        let input: Vec<f32> = (0..i).map(|c| c as f32).collect();
        let mut output = vec![9.0; o];
        engine.process(&input, &mut output);
        let mut want = vec![0.0; o];
        want[o - 1] = 0.5;
        prop_assert_eq!(output, want);
        let recording = ctl.take(rec).unwrap().into_recording().unwrap();
        prop_assert_eq!(recording, vec![(i - 1) as f32]);
    }
}

#[test]
fn an_action_may_end_exactly_at_the_end_of_the_clock() {
    let (mut ctl, _engine) = stream::open::<Vec<f32>, Vec<f32>>(8, 8, StreamConfig::duplex(1, 1));
    for frames in [1u64, 2, 5] {
        let len = frames as usize;
        let play = |at| Play::new(vec![0.5; len], map(&[0])).at(At::Frame(at));
        assert!(ctl.play(play(u64::MAX - frames)).is_ok(), "{frames} frames");
        let bad = ctl.play(play(u64::MAX - frames + 1)).unwrap_err();
        assert_eq!(bad.error, Error::FrameOverflow);
        let record = |at| Record::new(vec![0.0; len], map(&[0])).at(At::Frame(at));
        assert!(ctl.record(record(u64::MAX - frames)).is_ok());
        let bad = ctl.record(record(u64::MAX - frames + 1)).unwrap_err();
        assert_eq!(bad.error, Error::FrameOverflow);
    }
    // An empty play ends where it starts: even at u64::MAX.
    assert!(ctl
        .play(Play::new(Vec::new(), map(&[0])).at(At::Frame(u64::MAX)))
        .is_ok());
}

//! Control-side validation of requests: every check that refuses a play or a record with
//! a typed error, and the shape of an accepted transfer.

use crate::channel_map::MapStore;
use crate::command::{Body, Layout, Levels, Shape, NONE};
use crate::{At, ChannelMap, Error, Play, PlaySource, Repeat};

/// Checks a transfer's buffer and map against one direction of the stream.
pub(crate) fn check_transfer(
    map: &ChannelMap,
    samples: Option<&[f32]>,
    channels: u16,
    max_map: usize,
    playback: bool,
) -> Result<(), Error> {
    if channels == 0 {
        return Err(Error::NoSuchDirection);
    }
    if let Some(channel) = map.out_of_range(channels) {
        return Err(Error::ChannelOutOfRange { channel, channels });
    }
    if map.len() > max_map {
        return Err(Error::ChannelMapTooLong {
            len: map.len(),
            max: max_map,
        });
    }
    // A stream's samples arrive later: the output stage keeps NaN from the device.
    let Some(samples) = samples else {
        return Ok(());
    };
    let k = map.len();
    if !samples.len().is_multiple_of(k) {
        return Err(Error::LengthNotWholeFrames {
            samples: samples.len(),
            channels: k,
        });
    }
    if playback {
        if let Some(index) = samples.iter().position(|s| !s.is_finite()) {
            return Err(Error::NonFiniteSample { index });
        }
    }
    Ok(())
}

/// Checks that an action of `frames` frames (`None`: forever) starting at `at` ends
/// before `u64::MAX`.
pub(crate) fn check_end(at: At, frames: Option<u64>) -> Result<(), Error> {
    if let (At::Frame(f), Some(n)) = (at, frames) {
        f.checked_add(n).ok_or(Error::FrameOverflow)?;
    }
    Ok(())
}

/// Checks a play's region, repetitions, gain and fades, and gives its shape.
pub(crate) fn play_shape<P: PlaySource>(play: &Play<P>) -> Result<(Shape, Levels), Error> {
    if !play.gain.is_finite() {
        return Err(Error::NonFiniteGain { index: 0 });
    }
    if play.buffer.buffer().is_none() {
        return stream_shape(play);
    }
    let frames = play.frames();
    let (start, end) = play.region.unwrap_or((0, frames));
    if start > end || end > frames {
        return Err(Error::RegionOutOfRange { start, end, frames });
    }
    let len = end - start;
    if play.repeat == Repeat::Forever && len == 0 {
        return Err(Error::EmptyLoop);
    }
    let total = match play.repeat {
        Repeat::Times(_) => Some(play.full_duration().ok_or(Error::FrameOverflow)?),
        Repeat::Forever => None,
    };
    for fade in [play.fade_in, play.fade_out] {
        if total.is_some_and(|t| fade > t) {
            return Err(Error::FadeTooLong {
                fade,
                frames: total.unwrap_or(0),
            });
        }
    }
    if total.is_none() && play.fade_out > 0 {
        // A play that loops forever has no natural end to fade towards.
        return Err(Error::FadeTooLong {
            fade: play.fade_out,
            frames: u64::MAX,
        });
    }
    check_end(play.at, play.duration())?;
    let shape = Shape {
        region_start: start,
        region_len: len,
        total: total.unwrap_or(NONE),
        interval: play.interval,
        repetitions: match play.repeat {
            Repeat::Times(n) => n,
            Repeat::Forever => NONE,
        },
        stop: false,
    };
    let levels = Levels {
        gain: play.gain,
        fade_in: play.fade_in,
        fade_out: play.fade_out,
        offset: play.offset,
    };
    Ok((shape, levels))
}

/// The shape of a stream play: it plays until cancelled (or until its source runs dry,
/// with [`OnEmpty::Stop`](crate::OnEmpty::Stop)); a region, repetitions or an interval
/// need a buffer.
fn stream_shape<P>(play: &Play<P>) -> Result<(Shape, Levels), Error> {
    if play.region.is_some() || play.interval.is_some() || play.repeat != Repeat::ONCE {
        return Err(Error::NotABuffer);
    }
    if play.fade_out > 0 {
        return Err(Error::FadeTooLong {
            fade: play.fade_out,
            frames: u64::MAX,
        });
    }
    let shape = Shape {
        // One endless repetition of an endless region: the stream is read in order.
        region_start: 0,
        region_len: u64::MAX,
        total: NONE,
        interval: None,
        repetitions: NONE,
        stop: play.on_empty == crate::OnEmpty::Stop,
    };
    let levels = Levels {
        gain: play.gain,
        fade_in: play.fade_in,
        ..Levels::UNITY
    };
    Ok((shape, levels))
}

/// The body of a checked transfer: its frame count and kernel layout.
pub(crate) fn transfer_body<B, Mp: MapStore>(
    buffer: B,
    samples: usize,
    map: &ChannelMap,
    channels: u16,
    playback: bool,
    shape: Option<(Shape, Levels)>,
) -> Body<B, Mp> {
    let frames = (samples / map.len()) as u64;
    let (shape, levels) = shape.unwrap_or((Shape::whole(frames), Levels::UNITY));
    Body::Transfer {
        layout: Layout::of(map, channels, playback),
        buffer,
        map: Mp::store(map),
        shape,
        levels,
    }
}

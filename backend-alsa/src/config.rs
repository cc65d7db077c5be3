//! What rtmix-alsa makes of the shared [`Config`]: its defaults, the sample formats it
//! speaks, and the hardware format behind a converting plugin.

use alsa::pcm::PCM;
use alsa::Output;

use crate::{Config, SampleFormat};

/// Frames per period when [`Config::period`] is `None`.
pub const DEFAULT_PERIOD: u32 = 512;

/// Periods in the buffer when [`Config::periods`] is `None`.
pub const DEFAULT_PERIODS: u32 = 2;

/// The sample formats the transfer loop speaks to the device, in the order they are
/// tried when [`Config::format`] is `None`: float, then the widest integer. All but
/// `F32` go through a scratch block, converted with rtmix-core's `convert`.
///
/// ```
/// use rtmix_alsa::{SampleFormat, FORMATS};
/// assert_eq!(FORMATS[0], SampleFormat::F32);
/// assert!(!FORMATS.contains(&SampleFormat::U8));
/// ```
pub const FORMATS: [SampleFormat; 5] = [
    SampleFormat::F32,
    SampleFormat::I32,
    SampleFormat::I24,
    SampleFormat::I24Packed,
    SampleFormat::I16,
];

/// The period and number of periods `config` asks for, defaults filled in.
pub(crate) fn period_and_periods(config: &Config) -> (u32, u32) {
    (
        config.period.unwrap_or(DEFAULT_PERIOD),
        config.periods.unwrap_or(DEFAULT_PERIODS),
    )
}

/// The format of the innermost PCM of alsa-lib's setup of `pcm`, when it is not `used`
/// (the format the stream exchanges): the hardware's format behind a `plug` or another
/// converting plugin. Read from `snd_pcm_dump`, whose every level prints its setup with
/// a `format` line, outermost first; `None` when there is one format only, or the dump
/// says none.
pub(crate) fn hardware_format(pcm: &PCM, used: &str) -> Option<String> {
    let mut out = Output::buffer_open().ok()?;
    pcm.dump(&mut out).ok()?;
    let text = out.buffer_string(|b| String::from_utf8_lossy(b).into_owned());
    innermost_format(&text).filter(|f| f != used)
}

/// The last `format` value of an alsa-lib setup dump.
fn innermost_format(dump: &str) -> Option<String> {
    dump.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == "format").then(|| value.trim().to_owned())
        })
        .next_back()
}

#[cfg(test)]
mod tests {
    use super::innermost_format;

    /// The shape of alsa-lib's dump of a `plug` over a 16-bit device: the outer setup
    /// says what the stream exchanges, the slave's what the hardware runs.
    #[test]
    fn the_innermost_format_of_a_dump_is_the_hardware_format() {
        let dump = "Plug PCM: Linear conversion PCM (S16_LE)\n\
                    Its setup is:\n  stream       : PLAYBACK\n  format       : FLOAT_LE\n\
                    Slave: Hardware PCM card 0\n  format       : S16_LE\n  channels     : 2\n";
        assert_eq!(innermost_format(dump).as_deref(), Some("S16_LE"));
        assert_eq!(innermost_format("nothing here"), None);
    }
}

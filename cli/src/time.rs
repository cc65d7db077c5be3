//! Times in a session: an integer is a frame count; a string is seconds (`"1.5s"`) or
//! milliseconds (`"250ms"`), rounded to the nearest frame (halves round up), computed
//! exactly in integers, so `"0.1s"` at 44 100 Hz is 4 410 frames, never 4 409.

/// Converts a decimal time string to frames at `rate`.
///
/// ```
/// use rtmix_cli::time::parse_duration;
/// assert_eq!(parse_duration("1.5s", 48_000), Ok(72_000));
/// assert_eq!(parse_duration("250ms", 48_000), Ok(12_000));
/// assert_eq!(parse_duration("0.1s", 44_100), Ok(4_410));
/// // 1.5 frames at 1 kHz rounds up, 1.4 rounds down.
/// assert_eq!(parse_duration("1.5ms", 1_000), Ok(2));
/// assert_eq!(parse_duration("1.4ms", 1_000), Ok(1));
/// assert!(parse_duration("1.5", 48_000).is_err());
/// assert!(parse_duration("-1s", 48_000).is_err());
/// ```
pub fn parse_duration(text: &str, rate: u32) -> Result<u64, String> {
    let bad = || {
        format!(
            "`{text}` is not a time: write an integer number of frames, or a string of \
             seconds or milliseconds such as \"1.5s\" or \"250ms\""
        )
    };
    let trimmed = text.trim();
    let (number, per_second) = if let Some(n) = trimmed.strip_suffix("ms") {
        (n, 1_000u128)
    } else if let Some(n) = trimmed.strip_suffix('s') {
        (n, 1u128)
    } else {
        return Err(bad());
    };
    let number = number.trim();
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty()
        || !digits(whole)
        || !digits(fraction)
        || whole.len() > 12
        || fraction.len() > 12
    {
        return Err(bad());
    }
    let scale = 10u128.pow(fraction.len() as u32);
    let parse = |s: &str| {
        if s.is_empty() {
            Ok(0)
        } else {
            s.parse::<u128>()
        }
    };
    let whole = parse(whole).map_err(|_| bad())?;
    let fraction = parse(fraction).map_err(|_| bad())?;
    // value = (whole * scale + fraction) / (scale * per_second) seconds; frames = value *
    // rate, rounded half up: floor((2 * num + den) / (2 * den)).
    let num = (whole * scale + fraction) * u128::from(rate);
    let den = scale * per_second;
    let frames = (2 * num + den) / (2 * den);
    u64::try_from(frames).map_err(|_| format!("`{text}` is too long"))
}

//! The listing as a terminal table: one section per backend (and cpal host), one numbered
//! row per device, the defaults marked as `python -m sounddevice` marks them.

use std::fmt::Write as _;

use super::{Device, Latency, Listing, STANDARD_RATES};

/// The heading of a section: the backend and how its devices are named on the command line.
fn heading(backend: &str, host: Option<&str>) -> String {
    match host {
        Some(h) => format!("cpal {h} (--backend cpal --host {h} --device NAME)"),
        None => format!("{backend} (--backend {backend} --device NAME)"),
    }
}

/// The standard rates a device takes, short: all of them, a run, or each.
///
/// ```
/// use rtmix_cli::devices::rates_text;
/// assert_eq!(rates_text(&[48_000]), "48000");
/// assert_eq!(rates_text(&[44_100, 48_000, 96_000]), "44100 48000 96000");
/// assert_eq!(rates_text(&[8_000, 11_025, 16_000, 22_050, 32_000]), "8000-32000 (5 rates)");
/// assert_eq!(rates_text(&rtmix_cli::devices::STANDARD_RATES), "any");
/// assert_eq!(rates_text(&[]), "-");
/// ```
pub fn rates_text(rates: &[u32]) -> String {
    match rates {
        [] => "-".into(),
        r if r == STANDARD_RATES => "any".into(),
        r if r.len() <= 4 => r.iter().map(u32::to_string).collect::<Vec<_>>().join(" "),
        r => format!("{}-{} ({} rates)", r[0], r[r.len() - 1], r.len()),
    }
}

/// A channel count; a plugin that takes any number (ALSA's null takes 134 217 727) says so.
fn channels_text(channels: u32) -> String {
    if channels > 1024 {
        "any".into()
    } else {
        channels.to_string()
    }
}

/// A latency at `rate`, in milliseconds with its make-up: `64.0 ms (3 x 1024)`.
fn latency_text(latency: Option<Latency>, rate: Option<u32>) -> String {
    match (latency, rate) {
        (Some(l), Some(rate)) if rate > 0 => format!(
            "{:.1} ms ({} x {})",
            f64::from(l.frames) * 1000.0 / f64::from(rate),
            l.periods,
            l.period
        ),
        _ => "-".into(),
    }
}

/// The default mark: both directions, output only, input only.
fn mark(d: &Device) -> char {
    match (d.default_output, d.default_input) {
        (true, true) => '*',
        (true, false) => '<',
        (false, true) => '>',
        (false, false) => ' ',
    }
}

/// The whole table.
pub(super) fn render(listing: &Listing) -> String {
    let rows: Vec<[String; 7]> = listing
        .devices
        .iter()
        .map(|d| {
            [
                d.index.to_string(),
                d.name.clone(),
                channels_text(d.input_channels),
                channels_text(d.output_channels),
                rates_text(&d.rates),
                d.default_rate.map_or("-".into(), |r| r.to_string()),
                latency_text(d.latency, d.default_rate),
            ]
        })
        .collect();
    let titles = ["#", "NAME", "IN", "OUT", "RATES (Hz)", "DEFAULT", "LATENCY"];
    let mut width = titles.map(str::len);
    for row in &rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 7], mark: char| {
        let [n, name, i, o, rates, rate, latency] = cells;
        format!(
            "{mark} {n:>w0$}  {name:<w1$}  {i:>w2$}  {o:>w3$}  {rates:<w4$}  {rate:>w5$}  {latency}",
            w0 = width[0],
            w1 = width[1],
            w2 = width[2],
            w3 = width[3],
            w4 = width[4],
            w5 = width[5],
        )
        .trim_end()
        .to_owned()
    };
    let mut text = line(titles, ' ');
    text.push('\n');
    // Sections in the order the backends and hosts were asked, devices or none.
    let mut sections: Vec<(&str, Option<&str>)> = Vec::new();
    for key in listing
        .devices
        .iter()
        .map(|d| (d.backend, d.host.as_deref()))
        .chain(
            listing
                .missing
                .iter()
                .map(|m| (m.backend, m.host.as_deref())),
        )
    {
        if !sections.contains(&key) {
            sections.push(key);
        }
    }
    for (backend, host) in sections {
        let _ = write!(text, "{}:", heading(backend, host));
        if let Some(m) = listing
            .missing
            .iter()
            .find(|m| m.backend == backend && m.host.as_deref() == host)
        {
            let _ = write!(text, " {}", m.why);
        }
        text.push('\n');
        for (d, row) in listing.devices.iter().zip(&rows) {
            if d.backend == backend && d.host.as_deref() == host {
                let cells = row.each_ref().map(String::as_str);
                let _ = writeln!(text, "{}", line(cells, mark(d)));
            }
        }
    }
    text.push_str(
        "* default output and input, < default output, > default input\n\
         RATES: the standard rates it takes; DEFAULT: its rate nearest 48000 Hz;\n\
         LATENCY: its buffer as rtmix asks for it by default (ALSA: 3 periods of 1024 frames,\n\
         as near as it has them), or the one callback its cpal host fixes\n\
         rtmix devices --all: every PCM of the ALSA configuration and every range; --json: for scripts\n",
    );
    text
}

//! The `session` target: arbitrary bytes as a session file for `rtmix render`.
//!
//! The bytes (made UTF-8, invalid sequences replaced) are parsed by
//! `rtmix_cli::session::parse` as `session.toml` in a scratch folder that holds four tiny
//! audio files ([`FIXTURES`]). Parsing must not panic and must give either a typed session
//! error ([`Error::SessionSyntax`] or [`Error::SessionValue`], whose message renders) or a
//! session that keeps the format's rules (rate and channel counts in range, channels
//! within the session's, cancels naming a play, recordings at least one frame long and
//! ending before `u64::MAX`).
//!
//! A session whose plays name only those files is then planned against them
//! (`plan::plan`, with `in.wav` as `--input`), which loads, resamples and checks it;
//! a plan is rendered (when it is shorter than [`MAX_RENDER`] frames) twice, in
//! 1024-frame blocks and in random blocks of 1 to 4096 frames seeded from the input, into
//! memory. Planning and rendering must not panic and must fail only with a typed error
//! that is not the engine refusing a request the session checks let through; a render
//! gives exactly the plan's length of frames, every recording its frames, and the two
//! renders are bit-identical.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rtmix_cli::blocks::Blocks;
use rtmix_cli::error::Error;
use rtmix_cli::plan::{plan, Plan};
use rtmix_cli::render::render;
use rtmix_cli::session::{parse, Session, MAX_CHANNELS, MAX_RATE};

use crate::scratch_dir;

/// The audio files a fuzzed session may name: (name, channels, rate, frames, format).
pub const FIXTURES: [(&str, u16, u32, u32, Format); 4] = [
    ("a.wav", 1, 48_000, 64, Format::Int16),
    ("b.wav", 2, 44_100, 40, Format::Float),
    ("c.wav", 2, 8_000, 24, Format::Int24),
    ("in.wav", 2, 48_000, 96, Format::Int16),
];

/// The longest plan the target renders, in frames.
pub const MAX_RENDER: u64 = 20_000;

/// A fixture's sample format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// 16-bit integers.
    Int16,
    /// 24-bit integers.
    Int24,
    /// 32-bit floats.
    Float,
}

/// The scratch folder with the fixtures written in it.
fn folder() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch_dir().join("session");
        std::fs::create_dir_all(&dir).expect("cannot create the session folder");
        for (name, channels, rate, frames, format) in FIXTURES {
            write_fixture(&dir.join(name), channels, rate, frames, format);
        }
        dir
    })
}

/// A short chirp-like signal, different on every channel.
fn write_fixture(path: &Path, channels: u16, rate: u32, frames: u32, format: Format) {
    let (bits, sample_format) = match format {
        Format::Int16 => (16, hound::SampleFormat::Int),
        Format::Int24 => (24, hound::SampleFormat::Int),
        Format::Float => (32, hound::SampleFormat::Float),
    };
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("cannot write a fixture");
    for f in 0..frames {
        for c in 0..channels {
            let x = ((f * (u32::from(c) + 1)) % 17) as f32 / 17.0 - 0.5;
            match format {
                Format::Int16 => w.write_sample((x * 30_000.0) as i16),
                Format::Int24 => w.write_sample((x * 8_000_000.0) as i32),
                Format::Float => w.write_sample(x),
            }
            .expect("cannot write a fixture sample");
        }
    }
    w.finalize().expect("cannot finish a fixture");
}

/// How far `data` gets: "syntax error", "value error", "parsed", "planned", "rendered",
/// with the error message or the plan's length (for triage; [`check`] does the checks).
pub fn probe(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    let dir = folder();
    match parse(&text, &dir.join("session.toml")) {
        Err(e) => format!("parse error: {e}"),
        Ok(session) => {
            if !session
                .plays
                .iter()
                .all(|p| FIXTURES.iter().any(|(n, ..)| p.file == dir.join(n)))
            {
                return "parsed; names files outside the fixtures".into();
            }
            match plan(session, Some(&dir.join("in.wav")), dir) {
                Err(e) => format!("plan error: {e}"),
                Ok(p) if p.run > MAX_RENDER => {
                    format!("planned, {} frames: too long to render", p.run)
                }
                Ok(p) => format!(
                    "planned and rendered, {} frames, {} recordings",
                    p.length,
                    p.records.len()
                ),
            }
        }
    }
}

/// Decodes and checks one input: the whole of the `session` target.
pub fn check(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let dir = folder();
    let path = dir.join("session.toml");
    let session = match parse(&text, &path) {
        Ok(session) => session,
        Err(e) => {
            assert!(
                matches!(e, Error::SessionSyntax { .. } | Error::SessionValue { .. }),
                "parse failed with {e:?}"
            );
            assert_eq!(e.exit_code(), 2);
            let _ = e.to_string();
            return;
        }
    };
    check_session(&session);
    let known = session
        .plays
        .iter()
        .all(|p| FIXTURES.iter().any(|(name, ..)| p.file == dir.join(name)));
    if !known {
        return; // a file outside the scratch folder: not read
    }
    match plan(session, Some(&dir.join("in.wav")), dir) {
        Ok(p) => {
            if p.run <= MAX_RENDER {
                check_render(&p, data);
            }
        }
        Err(e) => check_error(&e),
    }
}

/// A parsed session keeps the format's rules.
fn check_session(s: &Session) {
    assert!(
        (1..=MAX_RATE).contains(&s.sample_rate),
        "rate {}",
        s.sample_rate
    );
    assert!(
        (1..=MAX_CHANNELS).contains(&s.channels),
        "channels {}",
        s.channels
    );
    for p in &s.plays {
        if let Some(ch) = &p.channels {
            assert!(!ch.is_empty(), "{}: no channels", p.label());
            assert!(
                ch.iter().all(|&c| c < s.channels),
                "{}: channel out of range",
                p.label()
            );
        }
        if let Some((start, end)) = p.region {
            assert!(start < end, "{}: region {start}..{end}", p.label());
        }
    }
    for c in &s.cancels {
        assert!(c.target < s.plays.len(), "{}: no such play", c.label());
        assert_eq!(s.plays[c.target].id.as_deref(), Some(c.id.as_str()));
    }
    for r in &s.records {
        assert!(r.frames > 0, "{}: 0 frames", r.label());
        assert!(
            r.at.checked_add(r.frames).is_some(),
            "{}: ends past u64::MAX",
            r.label()
        );
    }
}

/// Planning or rendering failed: with a typed error, and not because the engine refused
/// what the session checks let through.
fn check_error(e: &Error) {
    let message = e.to_string();
    match e {
        Error::SessionValue { .. } | Error::Audio { .. } => {}
        Error::Engine(m) => assert!(
            !m.contains("the engine refused"),
            "the session checks let through a request the engine refused: {message}"
        ),
        other => panic!("unexpected error {other:?}"),
    }
}

/// Renders `p` in two block patterns: same length, same samples, every recording whole.
fn check_render(p: &Plan, data: &[u8]) {
    // A seed from the input, so that libFuzzer's mutations vary the pattern too.
    let seed = data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut outputs = Vec::new();
    for blocks in [Blocks::Fixed(1024), Blocks::Random { seed, max: 4096 }] {
        let mut sink: Vec<f32> = Vec::new();
        match render(p, blocks, &mut sink, &mut |_, _| {}) {
            Ok(r) => {
                let channels = u64::from(p.session.channels);
                assert_eq!(r.frames, p.length, "rendered frames ({blocks})");
                assert_eq!(
                    sink.len() as u64,
                    p.length * channels,
                    "output samples ({blocks})"
                );
                assert_eq!(r.recordings.len(), p.records.len(), "recordings");
                for (rec, planned) in r.recordings.iter().zip(&p.records) {
                    assert_eq!(
                        rec.len() as u64,
                        planned.frames * planned.channels.len() as u64,
                        "{}: recorded samples",
                        planned.label
                    );
                }
                outputs.push(sink);
            }
            Err(e) => {
                check_error(&e);
                return;
            }
        }
    }
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert!(
        bits(&outputs[0]) == bits(&outputs[1]),
        "the render differs between 1024-frame and random blocks (seed {seed})"
    );
}

//! End-to-end tests of `rtmix render`, running the binary: the demo equals the reference
//! model of rtmix-host-tests and is bit-identical under every block pattern; times land
//! on their exact frames; recordings take exactly the right input frames; the output
//! formats, the symphonia decoder and the rubato resampler do what the docs say.

mod common;

use std::path::{Path, PathBuf};

use common::{read_ints, read_wav, render_text, rtmix, stderr, stdout, write_f32, Scratch};
use rtmix_cli::blocks::Blocks;
use rtmix_cli::plan::{self, Plan};
use rtmix_cli::session;
use rtmix_core::{At, Ending, Late, Repeat};
use rtmix_host_tests::blocks::Blocks as SimBlocks;
use rtmix_host_tests::model;
use rtmix_host_tests::scenario::{Op, PlayShape, Scenario, Step};
use rtmix_host_tests::sim;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn render_ok(args: &[&str]) -> String {
    let o = rtmix(args);
    assert!(
        o.status.success(),
        "rtmix {args:?} failed: {}{}",
        stdout(&o),
        stderr(&o)
    );
    // Not a terminal: no progress bar, nothing on stderr.
    assert_eq!(stderr(&o), "", "stderr must stay quiet off a terminal");
    stdout(&o)
}

/// The demo session as a scenario of the reference model: each entry the engine operation
/// the session rules name (a play with its fades, a cut or a faded cancel at its frame),
/// written here independently of the CLI's driver.
fn demo_scenario(plan: &Plan) -> Scenario {
    let mut order: Vec<usize> = (0..plan.plays.len()).collect();
    order.sort_by_key(|&i| (plan.plays[i].at, i));
    let mut ops = Vec::new();
    let mut op_of_play = vec![0; plan.plays.len()];
    for &i in &order {
        let p = &plan.plays[i];
        op_of_play[i] = ops.len();
        ops.push(Op::Play {
            samples: plan.sources[p.source].samples.to_vec(),
            map: p.channels.clone(),
            gains: p.gains.clone(),
            at: At::Frame(p.at),
            late: Late::Drop,
            shape: PlayShape {
                region: Some(p.region),
                repeat: p.times.map_or(Repeat::Forever, Repeat::Times),
                fade_in: p.fade_in,
                fade_out: p.fade_out,
                ..PlayShape::default()
            },
        });
    }
    for c in &plan.cancels {
        ops.push(Op::Cancel {
            target: op_of_play[c.target],
            at: At::Frame(c.at),
            late: Late::StartNow,
            ending: Ending::FadeOut(c.fade), // a fade of 0 is a cut
        });
    }
    Scenario {
        output_channels: plan.session.channels,
        input_channels: 0,
        // One op per step (a step of several ops is an atomic group).
        steps: Step::each_alone(ops),
        xruns: vec![],
        total_frames: plan.length,
        clamp: false,
    }
}

#[test]
fn the_demo_equals_the_reference_model_and_every_block_pattern_gives_the_same_file() {
    let dir = Scratch::new("demo");
    let demo = repo("fixtures/sessions/demo.toml");
    let demo = demo.to_str().unwrap();
    let base = dir.path("base.wav");
    let summary = render_ok(&["render", demo, "-o", base.to_str().unwrap()]);
    // The summary docs/session-format.md shows.
    for line in [
        "201600 frames (4.200 s), 2 channels, 48000 Hz, 32-bit float WAV",
        "engine: 1024-frame blocks (197 blocks)",
        "at 24000, forever -> at 24000, 156000 frames; cancelled: silent from frame 180000",
        "at 168000, fade 12000 -> took effect at 168000; reached its play",
    ] {
        assert!(summary.contains(line), "{line:?} not in {summary}");
    }
    assert!(
        summary.contains("clipped samples (beyond [-1, 1]): 0"),
        "{summary}"
    );
    assert!(
        summary.contains("resampled from 44100 Hz to 48000 Hz with rubato"),
        "{summary}"
    );
    assert!(
        summary.contains("FLAC (decoded with symphonia)"),
        "{summary}"
    );
    assert!(
        summary.contains(
            "at 72000, 72000 frames -> at 72000, 67200 frames; cancelled: silent from frame 139200"
        ),
        "{summary}"
    );
    let (spec, rendered) = read_wav(&base);
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 48_000, 32)
    );

    // The reference model, fed the same decoded audio.
    let plan = plan::plan(session::load(Path::new(demo)).unwrap(), None, &dir.0).unwrap();
    let scenario = demo_scenario(&plan);
    let outcome = sim::simulate(&scenario, &SimBlocks::Fixed(480));
    let expected = model::expect(&scenario, &outcome.runs, &outcome.submissions);
    assert_eq!(rendered.len(), expected.output.len());
    let differ = rendered
        .iter()
        .zip(&expected.output)
        .position(|(a, b)| a.to_bits() != b.to_bits());
    if let Some(i) = differ {
        panic!(
            "the render differs from the reference model at sample {i}: {:?} vs {:?}",
            &rendered[i..i + 6],
            &expected.output[i..i + 6]
        );
    }
    assert!(rendered.iter().any(|&s| s != 0.0));

    let bytes = std::fs::read(&base).unwrap();
    for pattern in [
        vec!["--block", "1"],
        vec!["--block", "7"],
        vec!["--block", "4096"],
        vec!["--blocks", "random:1"],
        vec!["--blocks", "random:2"],
        vec!["--blocks", "random:7"],
        vec!["--blocks", "random:3:5"],
    ] {
        let out = dir.path("other.wav");
        let mut args = vec!["render", demo, "-o", out.to_str().unwrap(), "--quiet"];
        args.extend(&pattern);
        assert_eq!(render_ok(&args), "");
        assert!(
            std::fs::read(&out).unwrap() == bytes,
            "{pattern:?} gives a different file"
        );
    }
}

/// A session at 1 kHz with an impulse file, so times are easy to check to the frame.
fn impulse_session(dir: &Scratch, rate: u32, at: &str) -> PathBuf {
    write_f32(&dir.path("one.wav"), 1, rate, &[1.0, 0.5]);
    dir.write(
        "s.toml",
        &format!("sample_rate = {rate}\nchannels = 1\n[[play]]\nfile = \"one.wav\"\nat = {at}\n"),
    )
}

fn first_sound(path: &Path) -> usize {
    let (_, s) = read_wav(path);
    s.iter()
        .position(|&x| x == 1.0)
        .expect("the impulse is there")
}

#[test]
fn times_land_on_the_nearest_frame() {
    let dir = Scratch::new("times");
    let out = dir.path("o.wav");
    let o = out.to_str().unwrap();
    for (rate, at, frame) in [
        (1_000, "5", 5),
        (1_000, "\"1.5ms\"", 2),   // 1.5 frames: halves round up
        (1_000, "\"1.4ms\"", 1),   // 1.4 frames: down
        (1_000, "\"0.0025s\"", 3), // 2.5 frames: up
        (48_000, "\"250ms\"", 12_000),
        (48_000, "\"1.5s\"", 72_000),
        (44_100, "\"0.1s\"", 4_410),
        (44_100, "\"10.00001s\"", 441_000), // 441 000.441 frames
    ] {
        let s = impulse_session(&dir, rate, at);
        render_ok(&["render", s.to_str().unwrap(), "-o", o, "--block", "64"]);
        assert_eq!(first_sound(&out), frame, "at = {at} at {rate} Hz");
        let (_, samples) = read_wav(&out);
        assert_eq!(samples.len(), frame + 2, "length: the end of the play");
    }
    // length = "12s" at 1 kHz is 12 000 frames.
    write_f32(&dir.path("one.wav"), 1, 1000, &[1.0]);
    let s = dir.write(
        "l.toml",
        "sample_rate = 1000\nchannels = 1\nlength = \"12s\"\n[[play]]\nfile = \"one.wav\"\n",
    );
    render_ok(&["render", s.to_str().unwrap(), "-o", o]);
    assert_eq!(read_wav(&out).1.len(), 12_000);
}

#[test]
fn recordings_take_exactly_the_input_frames_they_name() {
    let dir = Scratch::new("record");
    // The input: frame j, channel c holds j * 4 + c (exact in f32).
    let input: Vec<f32> = (0..100u16)
        .flat_map(|j| (0..3u16).map(move |c| f32::from(j * 4 + c)))
        .collect();
    write_f32(&dir.path("in.wav"), 3, 1000, &input);
    let s = dir.write(
        "s.toml",
        r#"
sample_rate = 1000
channels = 2
length = 20

[[record]]
at = 5
frames = 7
channels = [3, 1]
file = "a.wav"

[[record]]
at = "95ms"       # runs past the input's end: silence there
duration = 10
channels = [2]
file = "b.wav"

[[record]]
frames = 2        # at 0, every channel of the input
file = "c.wav"
"#,
    );
    let out_dir = Scratch::new("record-out");
    let out = out_dir.path("mix.wav");
    for blocks in [["--block", "1"], ["--blocks", "random:4"]] {
        let mut args = vec![
            "render",
            s.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--input",
        ];
        let inp = dir.path("in.wav");
        args.push(inp.to_str().unwrap());
        args.extend(blocks);
        let summary = render_ok(&args);
        assert!(
            summary.contains("recordings hold silence after it"),
            "{summary}"
        );
        let (spec, a) = read_wav(&out_dir.path("a.wav"));
        assert_eq!((spec.channels, spec.bits_per_sample), (2, 32));
        let want: Vec<f32> = (5..12u16)
            .flat_map(|j| [f32::from(j * 4 + 2), f32::from(j * 4)])
            .collect();
        assert_eq!(a, want);
        let (_, b) = read_wav(&out_dir.path("b.wav"));
        let mut want: Vec<f32> = (95..100u16).map(|j| f32::from(j * 4 + 1)).collect();
        want.extend([0.0; 5]);
        assert_eq!(b, want);
        let (spec, c) = read_wav(&out_dir.path("c.wav"));
        assert_eq!(spec.channels, 3);
        assert_eq!(c, input[..6]);
        // The output: 20 frames (the length), silent.
        assert_eq!(read_wav(&out).1, vec![0.0; 40]);
    }
    assert_eq!(out_dir.files(), ["a.wav", "b.wav", "c.wav", "mix.wav"]);
}

#[test]
fn integer_formats_are_the_cores_conversions_of_the_float_render() {
    let dir = Scratch::new("formats");
    write_f32(
        &dir.path("x.wav"),
        1,
        1000,
        &[0.5, -0.25, 1.5, -2.0, 0.123_456_79, -1.0, 1.0, 3.0e-5],
    );
    let s = dir.write(
        "s.toml",
        "sample_rate = 1000\nchannels = 1\n[[play]]\nfile = \"x.wav\"\nat = 1\n",
    );
    let s = s.to_str().unwrap();
    let f = dir.path("f.wav");
    let summary = render_ok(&["render", s, "-o", f.to_str().unwrap()]);
    assert!(
        summary.contains("clipped samples (beyond [-1, 1]): 2"),
        "{summary}"
    );
    let (_, float) = read_wav(&f);
    assert_eq!(float[1..4], [0.5, -0.25, 1.5]);

    let s16 = dir.path("s16.wav");
    let summary = render_ok(&["render", s, "-o", s16.to_str().unwrap(), "--format", "s16"]);
    assert!(
        summary.contains("clamped by the conversion to 16-bit integer: 2"),
        "{summary}"
    );
    let mut want = vec![0i16; float.len()];
    rtmix_core::convert::encode(&float, &mut want);
    assert_eq!(
        read_ints(&s16),
        want.iter().map(|&v| i32::from(v)).collect::<Vec<_>>()
    );
    assert_eq!(read_wav(&s16).0.bits_per_sample, 16);

    let s24 = dir.path("s24.wav");
    render_ok(&["render", s, "-o", s24.to_str().unwrap(), "--format", "s24"]);
    let mut want = vec![rtmix_core::convert::I24(0); float.len()];
    rtmix_core::convert::encode(&float, &mut want);
    assert_eq!(
        read_ints(&s24),
        want.iter().map(|v| v.0).collect::<Vec<_>>()
    );
    assert_eq!(read_wav(&s24).0.bits_per_sample, 24);
}

/// A 16-bit big-endian AIFF file, written by hand (hound does not write AIFF).
fn write_aiff(path: &Path, rate: u32, channels: u16, samples: &[i16]) {
    let frames = (samples.len() / usize::from(channels)) as u32;
    let data_len = samples.len() * 2;
    let mut comm = Vec::new();
    comm.extend(channels.to_be_bytes());
    comm.extend(frames.to_be_bytes());
    comm.extend(16u16.to_be_bytes());
    // The rate as an 80-bit extended float.
    let exp = rate.ilog2();
    comm.extend((16383 + exp as u16).to_be_bytes());
    comm.extend((u64::from(rate) << (63 - exp)).to_be_bytes());
    let mut ssnd = vec![0u8; 8];
    for s in samples {
        ssnd.extend(s.to_be_bytes());
    }
    let mut body = b"AIFF".to_vec();
    body.extend(b"COMM");
    body.extend((comm.len() as u32).to_be_bytes());
    body.extend(&comm);
    body.extend(b"SSND");
    body.extend(((data_len + 8) as u32).to_be_bytes());
    body.extend(&ssnd);
    let mut file = b"FORM".to_vec();
    file.extend((body.len() as u32).to_be_bytes());
    file.extend(body);
    std::fs::write(path, file).unwrap();
}

#[test]
fn other_formats_are_decoded_with_symphonia() {
    let dir = Scratch::new("aiff");
    let samples: Vec<i16> = vec![16_384, -32_768, 1, 32_767, -1, 0];
    write_aiff(&dir.path("x.aiff"), 1000, 2, &samples);
    let s = dir.write(
        "s.toml",
        "sample_rate = 1000\nchannels = 2\n[[play]]\nfile = \"x.aiff\"\nat = 2\n",
    );
    let out = dir.path("o.wav");
    let summary = render_ok(&["render", s.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(summary.contains("decoded with symphonia"), "{summary}");
    let (_, got) = read_wav(&out);
    let want: Vec<f32> = [0, 0, 0, 0]
        .into_iter()
        .chain(samples.iter().map(|&v| i32::from(v)))
        .map(|v| v as f32 / 32_768.0)
        .collect();
    assert_eq!(got, want);

    // The committed FLAC fixture: 4 800 frames of a 110 Hz sine at 0.6.
    let flac = repo("fixtures/audio/bass-110.flac");
    let s = dir.write(
        "f.toml",
        &format!(
            "sample_rate = 48000\nchannels = 1\n[[play]]\nfile = {:?}\n",
            flac.to_str().unwrap()
        ),
    );
    render_ok(&["render", s.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let (_, got) = read_wav(&out);
    assert_eq!(got.len(), 4800);
    for (i, &x) in got.iter().enumerate() {
        let want = 0.6 * (2.0 * std::f64::consts::PI * 110.0 * i as f64 / 48_000.0).sin();
        assert!(
            (f64::from(x) - want).abs() < 2.0 / 32_768.0,
            "frame {i}: {x} vs {want}"
        );
    }
}

#[test]
fn files_at_another_rate_are_resampled_and_the_summary_says_so() {
    let dir = Scratch::new("resample");
    // 0.5 s of a 100 Hz sine at 44.1 kHz.
    let sine = |rate: f64, i: usize| {
        (0.5 * (2.0 * std::f64::consts::PI * 100.0 * i as f64 / rate).sin()) as f32
    };
    let src: Vec<f32> = (0..22_050).map(|i| sine(44_100.0, i)).collect();
    write_f32(&dir.path("s44.wav"), 1, 44_100, &src);
    let s = dir.write(
        "s.toml",
        "sample_rate = 48000\nchannels = 1\n[[play]]\nfile = \"s44.wav\"\nregion = [0, 11025]\n",
    );
    let out = dir.path("o.wav");
    let summary = render_ok(&["render", s.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(
        summary.contains("resampled from 44100 Hz to 48000 Hz with rubato (before the render, off the audio path)"),
        "{summary}"
    );
    let (_, got) = read_wav(&out);
    // The region [0, 11025) of the file is 0.25 s: 12 000 frames at 48 kHz.
    assert_eq!(got.len(), 12_000);
    // Away from the edges the resampled sine is the sine at 48 kHz, with no delay.
    for (i, &x) in got.iter().enumerate().take(11_500).skip(500) {
        assert!((x - sine(48_000.0, i)).abs() < 2e-3, "frame {i}");
    }
}

/// 127 plays (as many as the render holds at once) that all end in one block, and 127 more
/// that start at the very frame they end: the first ones hand back every completion at
/// the end of their block, so their slots are free for the next ones on time, whatever
/// the block pattern (a stream whose completions in transit were fewer than its action
/// slots would keep some of them held, and refuse the next plays at their frame).
#[test]
fn plays_that_end_together_free_their_slots_for_the_next_frame() {
    let dir = Scratch::new("end-together");
    write_f32(&dir.path("m.wav"), 1, 1000, &[1.0 / 128.0; 10]);
    let plays = |at: u64| format!("[[play]]\nfile = \"m.wav\"\nat = {at}\n").repeat(127);
    let text = format!(
        "sample_rate = 1000\nchannels = 1\n{}{}",
        plays(0),
        plays(10)
    );
    for blocks in [
        Blocks::Fixed(1024),
        Blocks::Fixed(10),
        Blocks::Random { seed: 7, max: 64 },
    ] {
        let (out, rendered) =
            render_text(&dir, &text, blocks, None).unwrap_or_else(|e| panic!("{blocks:?}: {e}"));
        assert_eq!(out, vec![127.0 / 128.0; 20], "{blocks:?}");
        assert_eq!(rendered.reports.len(), 254);
        for r in &rendered.reports {
            assert_eq!(
                (r.actual_start, r.frames, r.end),
                (Some(r.requested_at), 10, rtmix_core::EndReason::Finished),
                "{blocks:?}: {r:?}"
            );
        }
    }
}

#[test]
fn the_help_names_the_options() {
    let o = rtmix(&["render", "--help"]);
    assert!(o.status.success());
    let help = stdout(&o);
    for option in ["--output", "--input", "--block", "--blocks", "--format"] {
        assert!(help.contains(option), "{help}");
    }
}

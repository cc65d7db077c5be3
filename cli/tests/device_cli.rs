//! `rtmix play`, `record` and `devices` against ALSA file PCMs (no sound card, no server):
//! the private configuration's `rtmix_file:FILE=` (fixtures/alsa/rtmix.conf) and this
//! suite's `rtmix_cli_file` (cli/tests/alsa/cli.conf, a hinted file PCM cpal can open).
//! File PCMs are not paced and are byte-exact, so the content is checked to the sample:
//!
//! * `play` through rtmix-alsa writes exactly the samples the offline render of the
//!   equivalent session writes, at the same frames, and exactly as many frames;
//! * so does `play` through rtmix-cpal (ALSA host), followed only by silence;
//! * `record` from `rtmix_infile:FILE=` takes exactly the input frames `[at, at + D)` of
//!   the listed channels;
//! * `devices` is a numbered table of the PCMs and cpal devices that open, with their
//!   channels, rates, default rate and latency, and nothing of alsa-lib's or libjack's on
//!   stderr (unless `--verbose`); `--json` holds the same; `--all` lists the private
//!   configuration's PCMs (`rtmix_jack`, `rtmix_file`) and cpal's hosts and ranges;
//! * a missing device, a JACK PCM without its server, a malformed argument: a clear
//!   message and exit code 2, and no file left behind.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{read_wav, rtmix_on_alsa, stderr, stdout, write_f32, Rng, Scratch};

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

/// The program, with the private ALSA configuration (and this suite's).
fn rtmix_alsa(args: &[&str], env: &[(&str, &Path)]) -> Output {
    rtmix_on_alsa(args)
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "failed: {}{}", stdout(o), stderr(o));
    stdout(o)
}

/// Raw interleaved little-endian floats.
fn read_raw(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .unwrap()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// Three files of three kinds: a mono tone, a stereo file at 44.1 kHz (resampled), a
/// random stereo burst written here.
fn material(dir: &Scratch) -> (PathBuf, PathBuf, PathBuf) {
    let mut rng = Rng(7);
    let noise: Vec<f32> = (0..2 * 3000)
        .map(|_| (rng.next() % 2001) as f32 / 1000.0 - 1.0)
        .collect();
    let burst = dir.path("burst.wav");
    write_f32(&burst, 2, 48_000, &noise);
    (
        repo("fixtures/audio/tone-440.wav"),
        repo("fixtures/audio/chime-44k1.wav"),
        burst,
    )
}

/// The same mix as a session, rendered offline by `rtmix render`.
fn render_equivalent(dir: &Scratch, tone: &Path, chime: &Path, burst: &Path) -> Vec<f32> {
    let session = format!(
        r#"sample_rate = 48000
channels = 3
[[play]]
file = "{}"
at = 100
channels = [3]
[[play]]
file = "{}"
at = "0.25s"
channels = [2, 1]
gain = 0.5
[[play]]
file = "{}"
at = 7
"#,
        tone.display(),
        chime.display(),
        burst.display()
    );
    let path = dir.write("equivalent.toml", &session);
    let out = dir.path("rendered.wav");
    ok(&rtmix_alsa(
        &[
            "render",
            path.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-q",
        ],
        &[],
    ));
    read_wav(&out).1
}

fn play_args(tone: &Path, chime: &Path, burst: &Path) -> Vec<String> {
    vec![
        "play".into(),
        format!("{}@100:3", tone.display()),
        format!("{}@250ms:2,1*0.5", chime.display()),
        format!("{}@7", burst.display()),
        "--rate".into(),
        "48000".into(),
    ]
}

#[test]
fn play_through_alsa_writes_the_offline_render_to_the_frame() {
    let dir = Scratch::new("play-alsa");
    let (tone, chime, burst) = material(&dir);
    let expected = render_equivalent(&dir, &tone, &chime, &burst);
    let raw = dir.path("out.raw");
    let mut args = play_args(&tone, &chime, &burst);
    let device = format!("rtmix_file:FILE={}", raw.display());
    args.extend(["--device".into(), device, "--period".into(), "256".into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = rtmix_alsa(&args, &[]);
    let text = ok(&o);
    // Not a terminal: no meters.
    assert_eq!(stderr(&o), "", "stderr stays quiet off a terminal");
    assert!(
        text.contains("resampled from 44100 Hz to 48000 Hz"),
        "{text}"
    );
    assert!(
        text.contains("asked frame 12000, started at frame 12000"),
        "{text}"
    );
    let got = read_raw(&raw);
    // The mix, then silence to the end of the period after its last frame.
    let frames = expected.len() / 3;
    let padded = frames.div_ceil(256) * 256 + 256;
    assert_eq!(got.len(), 3 * padded, "the mix's frames and the padding");
    let first = got.iter().position(|&s| s != 0.0).unwrap() / 3;
    assert_eq!(first, 7, "the first sound at frame 7");
    assert!(
        got[..expected.len()] == expected[..],
        "the offline render, bit for bit"
    );
    assert!(
        got[expected.len()..].iter().all(|&s| s == 0.0),
        "then silence"
    );
}

#[test]
fn play_through_cpal_writes_the_offline_render_then_silence() {
    let dir = Scratch::new("play-cpal");
    let (tone, chime, burst) = material(&dir);
    let expected = render_equivalent(&dir, &tone, &chime, &burst);
    let raw = dir.path("out.raw");
    let mut args = play_args(&tone, &chime, &burst);
    args.extend(
        [
            "--backend",
            "cpal",
            "--host",
            "ALSA",
            "--device",
            "rtmix_cli_file",
            "--period",
            "512",
        ]
        .map(String::from),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let text = ok(&rtmix_alsa(&args, &[("RTMIX_CLI_FILE", &raw)]));
    assert!(text.contains("cpal ALSA"), "{text}");
    let got = read_raw(&raw);
    assert!(
        got.len() >= expected.len(),
        "{} < {}",
        got.len(),
        expected.len()
    );
    assert!(
        got[..expected.len()] == expected[..],
        "the render, bit for bit"
    );
    assert!(
        got[expected.len()..].iter().all(|&s| s == 0.0),
        "then silence"
    );
}

#[test]
fn record_takes_exactly_the_frames_asked() {
    let dir = Scratch::new("record");
    // 3 channels of input, sample = channel * 0.25 + frame / 2^20 (exact in f32).
    let frames = 20_000u32;
    let input: Vec<f32> = (0..frames)
        .flat_map(|f| (0..3).map(move |c| c as f32 * 0.25 + f as f32 / 1_048_576.0))
        .collect();
    let raw = dir.path("in.raw");
    let bytes: Vec<u8> = input.iter().flat_map(|s| s.to_le_bytes()).collect();
    std::fs::write(&raw, bytes).unwrap();
    let out = dir.path("take.wav");
    let device = format!("rtmix_infile:FILE={}", raw.display());
    let text = ok(&rtmix_alsa(
        &[
            "record",
            out.to_str().unwrap(),
            "--duration",
            "5000",
            "--at",
            "1234",
            "--channels",
            "3,1",
            "--device",
            &device,
            "--period",
            "100",
        ],
        &[],
    ));
    assert!(text.contains("recorded 5000 frames"), "{text}");
    let (spec, got) = read_wav(&out);
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 48_000, 32)
    );
    let expected: Vec<f32> = (1234..1234 + 5000)
        .flat_map(|f| [input[f * 3 + 2], input[f * 3]])
        .collect();
    assert!(
        got == expected,
        "input frames [1234, 6234) of channels 3 and 1"
    );
    assert_eq!(
        dir.files(),
        ["in.raw", "take.wav"],
        "no temporary file left"
    );
}

#[test]
fn devices_all_lists_the_whole_configuration_and_cpal_ranges() {
    let text = ok(&rtmix_alsa(&["devices", "--all"], &[]));
    let alsa = text
        .split("cpal hosts")
        .next()
        .expect("an ALSA section first");
    assert!(alsa.starts_with("ALSA PCMs"), "{text}");
    for line in [
        "  rtmix_jack ",
        "  rtmix_file:FILE=... ",
        "  rtmix_infile:FILE=... ",
    ] {
        assert!(alsa.contains(line), "{line:?} not in\n{alsa}");
    }
    let jack = alsa
        .lines()
        .find(|l| l.starts_with("  rtmix_jack "))
        .unwrap();
    assert!(jack.contains("jack"), "{jack}");
    // An argument-free file-less PCM opens and shows what it takes.
    let null = alsa.split("\n  null ").nth(1).expect("null listed");
    assert!(
        null.contains("out: ") && null.contains("FLOAT_LE"),
        "{null}"
    );
    assert!(
        text.contains("cpal hosts (--backend cpal --host HOST): ALSA"),
        "{text}"
    );
    assert!(
        text.contains("  rtmix_cli_file"),
        "the hinted PCM in cpal's list: {text}"
    );
}

/// `rtmix devices` with no JACK server to reach (a server name nobody runs).
fn devices(args: &[&str]) -> Output {
    rtmix_on_alsa(&[&["devices"], args].concat())
        .env(
            "JACK_DEFAULT_SERVER",
            format!("rtmix-none-{}", std::process::id()),
        )
        .output()
        .expect("the binary runs")
}

#[test]
fn devices_is_a_table_of_what_opens_with_nothing_on_stderr() {
    let o = devices(&[]);
    let text = ok(&o);
    // alsa-lib complains about the PCMs that do not open (no card here), libjack about
    // the missing server: neither reaches the terminal.
    assert_eq!(stderr(&o), "", "quiet without --verbose");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("  #  NAME             IN  OUT  RATES (Hz)  DEFAULT  LATENCY"),
        "{text}"
    );
    assert_eq!(lines.next(), Some("alsa (--backend alsa --device NAME):"));
    // Numbered from 0 in order; the file PCMs take any channel count and rate; what is
    // asked by default (48 kHz, 3 x 1024 frames) is what they grant.
    let row = |n: usize, name: &str| {
        format!("  {n}  {name:<14}  any  any  any           48000  64.0 ms (3 x 1024)")
    };
    assert_eq!(lines.next(), Some(row(0, "null").as_str()), "{text}");
    assert_eq!(
        lines.next(),
        Some(row(1, "rtmix_cli_file").as_str()),
        "{text}"
    );
    // A PCM that takes arguments, or does not open, is not a row.
    assert!(
        !text.contains("rtmix_file") && !text.contains("rtmix_jack"),
        "{text}"
    );
    assert_eq!(
        lines.next(),
        Some("cpal ALSA (--backend cpal --host ALSA --device NAME):")
    );
    let cpal_file = lines.find(|l| l.contains(" rtmix_cli_file ")).expect(&text);
    assert!(
        cpal_file.split_whitespace().collect::<Vec<_>>()[2..6] == ["64", "64", "any", "48000"],
        "cpal's ALSA host takes 64 channels at most: {cpal_file}"
    );
    assert_eq!(
        text.contains(
            "cpal JACK (--backend cpal --host JACK --device NAME): no devices: no JACK server \
             is running"
        ),
        cfg!(feature = "jack"),
        "{text}"
    );
    assert!(text.contains("* default output and input"), "{text}");
    // --verbose lets the libraries speak.
    let verbose = devices(&["--verbose"]);
    ok(&verbose);
    assert!(
        !stderr(&verbose).is_empty(),
        "alsa-lib and libjack say something"
    );
}

#[test]
fn devices_json_holds_the_table_for_scripts() {
    let o = devices(&["--json"]);
    assert_eq!(stderr(&o), "");
    let json: serde_json::Value = serde_json::from_str(&ok(&o)).expect("JSON");
    let devices = json["devices"].as_array().expect("a devices array");
    for (i, d) in devices.iter().enumerate() {
        assert_eq!(d["index"], i, "numbered in order: {d}");
    }
    let file = devices
        .iter()
        .find(|d| d["backend"] == "alsa" && d["name"] == "rtmix_cli_file")
        .expect("the file PCM");
    assert_eq!(file["host"], serde_json::Value::Null);
    assert_eq!(
        file["output_channels"], 134_217_727,
        "as alsa-lib reports it: {file}"
    );
    assert_eq!(file["rates"].as_array().unwrap().len(), 13, "{file}");
    assert_eq!(file["default_rate"], 48_000);
    assert_eq!(file["latency"]["frames"], 3072);
    assert_eq!(file["latency"]["period"], 1024);
    assert_eq!(file["latency"]["periods"], 3);
    assert!(devices
        .iter()
        .any(|d| d["backend"] == "cpal" && d["host"] == "ALSA" && d["name"] == "rtmix_cli_file"));
    let missing = json["missing"].as_array().expect("a missing array");
    assert_eq!(
        missing
            .iter()
            .any(|m| m["host"] == "JACK" && m["why"].as_str().unwrap().contains("no JACK server")),
        cfg!(feature = "jack"),
        "{missing:?}"
    );
}

#[test]
fn a_missing_device_is_a_clear_error_with_exit_code_2() {
    let dir = Scratch::new("missing");
    let tone = repo("fixtures/audio/tone-440.wav");
    let tone = tone.to_str().unwrap();
    let out = dir.path("take.wav");
    let out = out.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["play", tone, "--device", "rtmix_nosuch"],
            "rtmix: error: ALSA device \"rtmix_nosuch\": no such device or PCM",
        ),
        (
            &[
                "record",
                out,
                "--duration",
                "1s",
                "--device",
                "rtmix_nosuch",
            ],
            "rtmix: error: ALSA device \"rtmix_nosuch\": no such device or PCM",
        ),
        (
            &["latency", "--device", "rtmix_nosuch"],
            "rtmix: error: ALSA device \"rtmix_nosuch\": no such device or PCM",
        ),
        (
            &[
                "play",
                tone,
                "--backend",
                "cpal",
                "--device",
                "rtmix_nosuch",
            ],
            "rtmix: error: cpal device \"rtmix_nosuch\": the ALSA host has no device",
        ),
        (
            &["play", tone, "--backend", "cpal", "--host", "Nowhere"],
            "rtmix: error: cpal device \"default\": no host \"Nowhere\"",
        ),
    ];
    for (args, message) in cases {
        let o = rtmix_alsa(args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
        assert!(dir.files().is_empty(), "{args:?} left {:?}", dir.files());
    }
}

#[test]
fn a_jack_pcm_without_its_server_says_so() {
    // libjack looks for the server this names: there is none of that name.
    let o = Command::new(env!("CARGO_BIN_EXE_rtmix"))
        .args([
            "play",
            repo("fixtures/audio/tone-440.wav").to_str().unwrap(),
        ])
        .args(["--device", "rtmix_jack"])
        .env(
            "ALSA_CONFIG_PATH",
            format!(
                "/usr/share/alsa/alsa.conf:{}",
                repo("fixtures/alsa/rtmix.conf").display()
            ),
        )
        .env("JACK_DEFAULT_SERVER", "rtmix-cli-nowhere")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "rtmix: error: ALSA device \"rtmix_jack\" is a JACK client, and no JACK server is running"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn malformed_arguments_name_the_field_with_exit_code_2() {
    let tone = repo("fixtures/audio/tone-440.wav");
    let tone = tone.to_str().unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["play".into(), format!("{tone}@1.5")],
            "AT: `1.5` is not a time",
        ),
        (
            vec!["play".into(), format!("{tone}:0")],
            "CHANNELS: channel 0 is out of range",
        ),
        (
            vec!["play".into(), format!("{tone}:1,1")],
            "CHANNELS: channel 1 is listed twice",
        ),
        (
            vec!["play".into(), format!("{tone}*loud")],
            "GAIN: `loud` is not a finite number",
        ),
        (
            vec!["play".into(), format!("{tone}:1,2")],
            "2 channels listed, but",
        ),
        (
            vec!["play".into(), "nosuch.wav@10".into()],
            "nosuch.wav: no such file",
        ),
        (
            vec![
                "play".into(),
                tone.into(),
                "--channels".into(),
                "1".into(),
                format!("{tone}:2"),
            ],
            "--channels 1, but a file plays on channel 2",
        ),
        (
            ["record", "x.wav", "--duration", "2 sec"]
                .map(String::from)
                .to_vec(),
            "--duration: `2 sec` is not a time",
        ),
        (
            ["record", "x.wav", "--duration", "1s", "--channels", "1,x"]
                .map(String::from)
                .to_vec(),
            "--channels 1,x: write 1-based channel numbers",
        ),
        (
            ["record", "x.wav", "--duration", "0"]
                .map(String::from)
                .to_vec(),
            "--duration: nothing to record",
        ),
        (
            ["record", "x.wav", "--duration", "1s", "--channels", "1,1"]
                .map(String::from)
                .to_vec(),
            "--channels 1,1: channel 1 is listed twice",
        ),
        (
            ["record", "x.wav", "--duration", "1s", "--rate", "0"]
                .map(String::from)
                .to_vec(),
            "--rate 0: not a rate",
        ),
        (
            ["play", tone, "--rate", "800000"]
                .map(String::from)
                .to_vec(),
            "--rate 800000: not a rate",
        ),
        (
            ["play", tone, "--period", "8"].map(String::from).to_vec(),
            "--period",
        ),
        (
            ["latency", "--out", "3"].map(String::from).to_vec(),
            "--out 3: the stream has channels 1 to 2",
        ),
        (
            ["play", tone, "--host", "ALSA"].map(String::from).to_vec(),
            "--host chooses a cpal host",
        ),
    ];
    for (args, message) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = rtmix_alsa(&args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
}

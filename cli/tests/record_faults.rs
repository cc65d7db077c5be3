//! `rtmix record` when its file cannot take the recording or its device goes away: the
//! error is clear and the audio already captured is never lost.
//!
//! * a disk without room for the whole recording (a 256 KiB tmpfs) is refused before the
//!   device is touched, with nothing left on it; a recording that fits leaves a file
//!   exactly as long as its audio (the space claimed ahead is given back);
//! * a folder in the way of the file when the recording ends: the recording is saved in
//!   the temporary folder instead, and the error (exit code 1) says where; when that
//!   fails too, the error says the take is lost;
//! * a JACK server killed mid-recording (a private one, by its PID): exit code 1 between
//!   1.5 s and 5 s after the kill (the default 2 s device timeout), and the frames captured
//!   before the kill are in the file, as many as the message says;
//! * Ctrl-C: exit code 130, and the frames captured until then are in the file.
//!
//! All are `#[ignore]`d: the first needs root (to mount), the others jackd; `.ci/test` runs
//! them.

mod common;

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{files_in, read_wav, rtmix_on_alsa, stderr, Running, Scratch};
use rtmix_host_tests::jack_server::JackServer;

/// How long anything is waited for before it is taken for hung.
const HANG: Duration = Duration::from_secs(30);

/// A tmpfs of `size` mounted on a scratch folder, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: PathBuf, size: &str) -> Self {
        std::fs::create_dir_all(&at).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&at)
            .status()
            .expect("mount runs");
        assert!(status.success(), "cannot mount a tmpfs (run as root)");
        Tmpfs(at)
    }

    fn files(&self) -> Vec<String> {
        files_in(&self.0)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Writes `frames` frames of raw stereo float input (frame f holds f / 2^20 and its
/// negative) for `rtmix_infile`.
fn raw_input(path: &Path, frames: u32) {
    let bytes: Vec<u8> = (0..frames)
        .flat_map(|f| {
            let x = f as f32 / 1_048_576.0;
            [x, -x]
        })
        .flat_map(f32::to_le_bytes)
        .collect();
    std::fs::write(path, bytes).unwrap();
}

/// The RIFF header's own account of the file's length.
fn riff_length(path: &Path) -> u64 {
    let b = std::fs::read(path).unwrap();
    8 + u64::from(u32::from_le_bytes([b[4], b[5], b[6], b[7]]))
}

/// Starts `rtmix record OUT --duration D --device rtmix_jack --ready` and returns once it
/// records (its device runs: the `--ready` line, printed after the first captured period).
fn record_on_jack(out: &Path, duration: &str, env: &[(&str, &str)]) -> Running {
    let mut c = rtmix_on_alsa(&[
        "record",
        out.to_str().unwrap(),
        "--duration",
        duration,
        "--device",
        "rtmix_jack",
        "--ready",
    ]);
    c.envs(env.iter().copied());
    let mut recorder = Running::spawn(c);
    recorder.wait_for("ready: ", HANG);
    recorder
}

/// Checks that `text` says the frames recorded before `what` are in `out`, and that the
/// file holds that many: at least a period, and less than the 10 s asked.
fn check_kept(text: &str, out: &Path, what: &str) {
    let tail = format!(" frames recorded are in {}", out.display());
    let at = text
        .find(&tail)
        .unwrap_or_else(|| panic!("{tail:?} not in {text}"));
    let said: u64 = text[..at]
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .expect("a frame count");
    let (_, got) = read_wav(out);
    assert_eq!(
        got.len() as u64,
        2 * said,
        "the file holds what the message says"
    );
    assert!(
        (1024..480_000).contains(&said),
        "{said} frames before {what}"
    );
}

#[test]
#[ignore = "needs root, to mount a tmpfs (run by .ci/test)"]
fn a_disk_without_room_is_refused_before_recording_and_a_fitting_file_is_cut_to_its_audio() {
    let dir = Scratch::new("disk-full");
    let input = dir.path("in.raw");
    raw_input(&input, 48_000);
    let device = format!("rtmix_infile:FILE={}", input.display());
    let disk = Tmpfs::mount(dir.path("disk"), "256k");

    // One second of stereo float is 384 000 bytes: more than the disk has.
    let out = disk.0.join("take.wav");
    let record = |duration: &str| {
        rtmix_on_alsa(&[
            "record",
            out.to_str().unwrap(),
            "--duration",
            duration,
            "--device",
            &device,
        ])
        .output()
        .unwrap()
    };
    let o = record("1s");
    let text = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{text}");
    assert!(
        text.contains(&format!("cannot write {}", out.display()))
            // 48 000 stereo float frames and the 128-byte header.
            && text.contains("the disk has no room for the 384128 bytes it needs")
            && text.contains("No space left on device"),
        "{text}"
    );
    assert!(disk.files().is_empty(), "nothing left on the disk");

    // Half a second fits: the file holds exactly its audio, and no more disk than that.
    let o = record("24000");
    assert!(o.status.success(), "{}", stderr(&o));
    let (spec, got) = read_wav(&out);
    assert_eq!((spec.channels, got.len()), (2, 2 * 24_000));
    assert_eq!(got[2 * 100], 100.0 / 1_048_576.0, "the input's frame 100");
    let meta = std::fs::metadata(&out).unwrap();
    assert_eq!(meta.len(), riff_length(&out), "no tail beyond the audio");
    assert!(
        meta.blocks() * 512 <= meta.len().next_multiple_of(4096),
        "{} bytes of disk for a {}-byte file: the claimed space was not given back",
        meta.blocks() * 512,
        meta.len()
    );
    assert_eq!(disk.files(), ["take.wav"], "no temporary file left");
}

/// Records 3 s into `out` with `TMPDIR=tmp`, puts a folder in the file's way while it
/// records, and checks that the file cannot be written (exit code 1); returns the
/// recorder's PID and its message.
fn record_with_a_folder_in_the_way(out: &Path, tmp: &str) -> (u32, String) {
    let child = record_on_jack(out, "3s", &[("TMPDIR", tmp)]);
    let pid = child.id();
    // The file cannot be renamed into place now.
    std::fs::create_dir(out).unwrap();
    std::fs::write(out.join("x"), "x").unwrap();
    let o = child.finish(HANG);
    let text = stderr(&o);
    eprintln!("{text}");
    assert_eq!(o.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!("cannot write {}", out.display())),
        "{text}"
    );
    (pid, text)
}

#[test]
#[ignore = "needs jackd -L 2 -d dummy -r 48000 -p 1024 (run by .ci/test with --ignored)"]
fn a_folder_in_the_way_at_the_end_saves_the_recording_in_the_temporary_folder() {
    let dir = Scratch::new("in-the-way");
    let tmp = dir.path("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let out = dir.path("take.wav");
    let (pid, text) = record_with_a_folder_in_the_way(&out, tmp.to_str().unwrap());
    let rescued = tmp.join(format!("rtmix-rescued-{pid}-take.wav"));
    assert!(
        text.contains(&format!(
            "the 144000 frames recorded are saved in {} instead",
            rescued.display()
        )),
        "{text}"
    );
    let (spec, got) = read_wav(&rescued);
    assert_eq!((spec.channels, got.len()), (2, 2 * 144_000), "all of it");
    assert_eq!(dir.files(), ["take.wav", "tmp"], "no temporary file left");
}

/// When the temporary folder cannot take the take either, the message says plainly that
/// it is lost (exit code 1), rather than pretending it was saved.
#[test]
#[ignore = "needs jackd -L 2 -d dummy -r 48000 -p 1024 (run by .ci/test with --ignored)"]
fn a_take_that_cannot_be_saved_anywhere_says_so() {
    let dir = Scratch::new("nowhere");
    let out = dir.path("take.wav");
    let (_, text) = record_with_a_folder_in_the_way(&out, "/nonexistent-rtmix-tmp");
    assert!(
        text.contains("the 144000 frames recorded could not be saved elsewhere either")
            && text.contains("/nonexistent-rtmix-tmp/rtmix-rescued-")
            && text.contains("and are lost"),
        "{text}"
    );
    assert_eq!(dir.files(), ["take.wav"], "no temporary file left");
}

#[test]
#[ignore = "needs jackd installed (run by .ci/test with --ignored)"]
fn a_server_killed_mid_recording_keeps_what_was_captured() {
    const SERVER: &str = "rtmix-cli-dies";
    let dir = Scratch::new("server-dies");
    let mut server = JackServer::start(SERVER).expect("a private jackd starts");
    let out = dir.path("take.wav");
    let child = record_on_jack(&out, "10s", &[("JACK_DEFAULT_SERVER", SERVER)]);
    server.kill();
    let killed = Instant::now();
    let o = child.finish(HANG);
    let waited = killed.elapsed();
    let text = stderr(&o);
    eprintln!("{text}({waited:?} after the kill)");
    assert_eq!(o.status.code(), Some(1), "{text}");
    // The default device timeout (2 s from the last period moved, up to a period before
    // the kill), and room for a loaded machine.
    assert!(
        (Duration::from_millis(1500)..=Duration::from_secs(5)).contains(&waited),
        "exited {waited:?} after the kill"
    );
    assert!(text.contains("the device failed while running"), "{text}");
    check_kept(&text, &out, "the kill");
}

#[test]
#[ignore = "needs jackd -L 2 -d dummy -r 48000 -p 1024 (run by .ci/test with --ignored)"]
fn ctrl_c_keeps_what_was_recorded() {
    let dir = Scratch::new("record-ctrl-c");
    let out = dir.path("take.wav");
    let child = record_on_jack(&out, "10s", &[]);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let o = child.finish(HANG);
    let text = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{text}");
    assert!(
        text.contains("interrupted: stopped by Ctrl-C; the "),
        "{text}"
    );
    check_kept(&text, &out, "Ctrl-C");
    assert_eq!(dir.files(), ["take.wav"], "no temporary file left");
}

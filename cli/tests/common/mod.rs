//! Helpers shared by the integration tests: scratch folders, WAV files, running the
//! binary, and an offline render through the library.
#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use rtmix_cli::blocks::Blocks;
use rtmix_cli::session;
use rtmix_cli::{plan, render};

/// A scratch folder, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "rtmix-cli-{}-{name}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `text` to `name` and returns its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// The names of the files in the folder, sorted.
    pub fn files(&self) -> Vec<String> {
        files_in(&self.0)
    }
}

/// The names of the files in `dir`, sorted.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes a 32-bit float WAV file.
pub fn write_f32(path: &Path, channels: u16, rate: u32, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
}

/// Reads a WAV file: its spec and its samples as f32 (integers divided by full scale).
pub fn read_wav(path: &Path) -> (hound::WavSpec, Vec<f32>) {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let samples = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => r.samples::<f32>().map(Result::unwrap).collect(),
        (hound::SampleFormat::Int, bits) => {
            let scale = f64::from(1u32 << (bits - 1));
            r.samples::<i32>()
                .map(|s| (f64::from(s.unwrap()) / scale) as f32)
                .collect()
        }
        other => panic!("unexpected format {other:?}"),
    };
    (spec, samples)
}

/// Reads a WAV file's raw integer samples.
pub fn read_ints(path: &Path) -> Vec<i32> {
    let mut r = hound::WavReader::open(path).unwrap();
    r.samples::<i32>().map(Result::unwrap).collect()
}

/// Runs the binary with `args`.
pub fn rtmix(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rtmix"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// The binary with `args`, with the private ALSA configurations (fixtures/alsa/rtmix.conf
/// and cli/tests/alsa/cli.conf) besides the system's.
pub fn rtmix_on_alsa(args: &[&str]) -> Command {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let config = format!(
        "/usr/share/alsa/alsa.conf:{}:{}",
        repo.join("fixtures/alsa/rtmix.conf").display(),
        repo.join("cli/tests/alsa/cli.conf").display()
    );
    let mut c = Command::new(env!("CARGO_BIN_EXE_rtmix"));
    c.args(args).env("ALSA_CONFIG_PATH", config);
    c
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Renders session `text` (saved as `dir/session.toml`) through the library, in memory.
pub fn render_text(
    dir: &Scratch,
    text: &str,
    blocks: Blocks,
    input: Option<&Path>,
) -> Result<(Vec<f32>, render::Rendered), rtmix_cli::error::Error> {
    let path = dir.write("session.toml", text);
    let s = session::load(&path)?;
    let plan = plan::plan(s, input, &dir.0)?;
    let mut out = Vec::new();
    let rendered = render::render(&plan, blocks, &mut out, &mut |_, _| {})?;
    Ok((out, rendered))
}

/// A small seeded generator (`SplitMix64`).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// A running `rtmix` whose standard error is read line by line as it comes, so that a test
/// can wait for a line (`--ready`'s) instead of sleeping, and whose outputs are still all
/// there when it ends.
pub struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    /// The standard error lines received so far.
    seen: Vec<String>,
    stdout: std::thread::JoinHandle<Vec<u8>>,
}

impl Running {
    /// Spawns `command` with both outputs piped.
    pub fn spawn(mut command: Command) -> Self {
        use std::io::{BufRead, Read};
        use std::process::Stdio;
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let err = child.stderr.take().unwrap();
        let mut out = child.stdout.take().unwrap();
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let stdout = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = out.read_to_end(&mut bytes);
            bytes
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
            stdout,
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a standard error line that starts with `prefix` and returns it; fails the
    /// test if the program ends first or none comes within `timeout`.
    pub fn wait_for(&mut self, prefix: &str, timeout: std::time::Duration) -> String {
        use std::sync::mpsc::RecvTimeoutError;
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.starts_with(prefix) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!(
                        "no {prefix:?} line from rtmix in {timeout:?}; it printed {:?}",
                        self.seen
                    );
                }
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "rtmix ended ({:?}) without a {prefix:?} line; it printed {:?}",
                    self.child.wait(),
                    self.seen
                ),
            }
        }
    }

    /// Whether the program has ended.
    pub fn has_ended(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// Waits for the program to end, killing it and failing the test after `timeout`, and
    /// returns its status and its whole standard output and error.
    pub fn finish(mut self, timeout: std::time::Duration) -> Output {
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "rtmix still ran {timeout:?} later; it printed {:?}",
                    self.seen
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        // The reader ends at the end of the pipe, which the program's end closes.
        self.seen.extend(self.lines.iter());
        let mut stderr = self.seen.join("\n").into_bytes();
        if !stderr.is_empty() {
            stderr.push(b'\n');
        }
        Output {
            status,
            stdout: self.stdout.join().unwrap(),
            stderr,
        }
    }
}

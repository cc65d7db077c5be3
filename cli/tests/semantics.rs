//! The session rules of docs/session-format.md, checked sample for sample: an independent
//! evaluator computes each output sample straight from the rules (start, region, loops,
//! gains, fade-in, fade-out, cancels, overlap, length) in plain per-frame arithmetic, and
//! the render must equal it bit for bit, under many block patterns. Fixed cases pin each
//! rule to its exact frame (an off-by-one fails them); random sessions cover the rest.

mod common;

use std::fmt::Write as _;

use common::{render_text, write_f32, Rng, Scratch};
use rtmix_cli::render::Blocks;

/// One file: channels and interleaved samples.
#[derive(Clone, Debug)]
struct File {
    channels: u16,
    samples: Vec<f32>,
}

impl File {
    /// `frames` frames whose samples are all distinct and exact: frame j, channel c is
    /// `(file + 1) * 2^-4 + (j + 1) * 2^-12 + c * 2^-16` (or negative), so a sample from
    /// a wrong frame or channel shows.
    fn distinct(file: usize, channels: u16, frames: usize) -> Self {
        let samples = (0..frames)
            .flat_map(|j| {
                (0..channels).map(move |c| {
                    let v = (file as f32 + 1.0) / 16.0
                        + (j as f32 + 1.0) / 4096.0
                        + f32::from(c) / 65536.0;
                    if (j + file).is_multiple_of(3) {
                        -v
                    } else {
                        v
                    }
                })
            })
            .collect();
        Self { channels, samples }
    }

    fn frames(&self) -> u64 {
        (self.samples.len() / usize::from(self.channels)) as u64
    }
}

/// A `[[play]]` as the test writes it (every field explicit).
#[derive(Clone, Debug)]
struct SPlay {
    file: usize,
    at: u64,
    /// 0-based.
    channels: Vec<u16>,
    gains: Vec<f32>,
    region: Option<(u64, u64)>,
    /// `None`: forever.
    times: Option<u64>,
    fade_in: u64,
    fade_out: u64,
}

#[derive(Clone, Debug)]
struct SCancel {
    target: usize,
    at: u64,
    fade: u64,
}

#[derive(Clone, Debug)]
struct Spec {
    rate: u32,
    channels: u16,
    length: Option<u64>,
    files: Vec<File>,
    plays: Vec<SPlay>,
    cancels: Vec<SCancel>,
}

impl Spec {
    fn region(&self, p: &SPlay) -> (u64, u64) {
        p.region.unwrap_or((0, self.files[p.file].frames()))
    }

    fn total(&self, p: &SPlay) -> Option<u64> {
        let (a, b) = self.region(p);
        p.times.map(|n| (b - a) * n)
    }

    fn cancel_of(&self, index: usize) -> Option<&SCancel> {
        self.cancels.iter().find(|c| c.target == index)
    }

    /// The rules: a cancel at or before the play's start removes it.
    fn removed(&self, index: usize) -> bool {
        self.cancel_of(index)
            .is_some_and(|c| c.at <= self.plays[index].at)
    }

    /// Its end by the rules (exclusive): natural end, or F + fade.
    fn end(&self, index: usize) -> Option<u64> {
        if self.removed(index) {
            return Some(0);
        }
        let p = &self.plays[index];
        let natural = self.total(p).map(|t| p.at + t);
        match (natural, self.cancel_of(index)) {
            (n, None) => n,
            (None, Some(c)) => Some(c.at + c.fade),
            (Some(n), Some(c)) => Some(n.min(c.at + c.fade)),
        }
    }

    fn length(&self) -> u64 {
        self.length.unwrap_or_else(|| {
            (0..self.plays.len())
                .map(|i| self.end(i).expect("every play ends"))
                .max()
                .unwrap_or(0)
        })
    }

    /// The expected output, from the rules alone.
    fn expect(&self) -> Vec<f32> {
        let ch = usize::from(self.channels);
        let length = self.length();
        let mut out = vec![0.0f32; length as usize * ch];
        // Overlapping plays are summed in the order (start frame, file order).
        let mut order: Vec<usize> = (0..self.plays.len()).collect();
        order.sort_by_key(|&i| (self.plays[i].at, i));
        for i in order {
            if self.removed(i) {
                continue;
            }
            let p = &self.plays[i];
            let file = &self.files[p.file];
            let (start, end) = self.region(p);
            let len = end - start;
            let total = self.total(p);
            let cancel = self.cancel_of(i);
            // The frame from which it is silent.
            let mut stop = total.map_or(u64::MAX, |t| p.at + t);
            if let Some(c) = cancel {
                // "As if the last frame were F + N - 1", which has gain 0; fade 0: silent
                // from F.
                stop = stop.min(if c.fade == 0 { c.at } else { c.at + c.fade - 1 });
            }
            for f in p.at..stop.min(length) {
                let i = f - p.at;
                let frame = start + i % len;
                // Fade-in: play frame i gets i / N.
                let fade_in = if i < p.fade_in {
                    i as f32 / p.fade_in as f32
                } else {
                    1.0
                };
                // Fade-out: k frames before the last gets k / N, as 1 - (N - k) / N.
                let fade_out = match total {
                    Some(t) if p.fade_out > 0 && t - 1 - i < p.fade_out => {
                        let k = t - 1 - i;
                        1.0 - (p.fade_out - k) as f32 / p.fade_out as f32
                    }
                    _ => 1.0,
                };
                // Cancel fade: frame F + N - 1 - k gets k / N, as 1 - (N - k) / N.
                let cut = match cancel {
                    Some(c) if c.fade > 0 && f + 1 >= c.at => {
                        let k = c.at + c.fade - 1 - f;
                        1.0 - (c.fade - k) as f32 / c.fade as f32
                    }
                    _ => 1.0,
                };
                let env = ((fade_out * fade_in) * 1.0) * cut;
                for (k, (&o, &g)) in p.channels.iter().zip(&p.gains).enumerate() {
                    let s = file.samples[frame as usize * usize::from(file.channels) + k];
                    out[f as usize * ch + usize::from(o)] += (s * g) * env;
                }
            }
        }
        out
    }

    /// The session file, with its audio written to `dir`.
    fn write(&self, dir: &Scratch) -> String {
        for (i, f) in self.files.iter().enumerate() {
            write_f32(
                &dir.path(&format!("f{i}.wav")),
                f.channels,
                self.rate,
                &f.samples,
            );
        }
        let mut t = format!(
            "sample_rate = {}\nchannels = {}\n",
            self.rate, self.channels
        );
        if let Some(l) = self.length {
            writeln!(t, "length = {l}").unwrap();
        }
        for (i, p) in self.plays.iter().enumerate() {
            let chans: Vec<String> = p.channels.iter().map(|c| (c + 1).to_string()).collect();
            let gains: Vec<String> = p.gains.iter().map(|g| format!("{g:?}")).collect();
            write!(
                t,
                "\n[[play]]\nid = \"p{i}\"\nfile = \"f{}.wav\"\nat = {}\nchannels = [{}]\ngain = [{}]\nfade_in = {}\nfade_out = {}\n",
                p.file,
                p.at,
                chans.join(", "),
                gains.join(", "),
                p.fade_in,
                p.fade_out
            )
            .unwrap();
            if let Some((a, b)) = p.region {
                writeln!(t, "region = [{a}, {b}]").unwrap();
            }
            match p.times {
                Some(n) => writeln!(t, "loop = {n}").unwrap(),
                None => writeln!(t, "loop = \"forever\"").unwrap(),
            }
        }
        for c in &self.cancels {
            write!(
                t,
                "\n[[cancel]]\nid = \"p{}\"\nat = {}\nfade = {}\n",
                c.target, c.at, c.fade
            )
            .unwrap();
        }
        t
    }
}

const PATTERNS: [Blocks; 5] = [
    Blocks::Fixed(1),
    Blocks::Fixed(3),
    Blocks::Fixed(1024),
    Blocks::Random { seed: 1, max: 7 },
    Blocks::Random { seed: 99, max: 64 },
];

/// Renders `spec` under every pattern and compares with the rules, bit for bit.
fn check(name: &str, spec: &Spec) {
    let dir = Scratch::new(name);
    let text = spec.write(&dir);
    let expected = spec.expect();
    for blocks in PATTERNS {
        let (out, rendered) = render_text(&dir, &text, blocks, None)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        assert_eq!(rendered.frames, spec.length(), "{name}: length\n{text}");
        assert_eq!(out.len(), expected.len(), "{name}: {blocks}\n{text}");
        for (i, (a, b)) in out.iter().zip(&expected).enumerate() {
            assert!(
                a.to_bits() == b.to_bits(),
                "{name}, {blocks}: frame {} channel {}: rendered {a}, rules say {b}\n{text}",
                i / usize::from(spec.channels),
                i % usize::from(spec.channels)
            );
        }
    }
}

fn play(file: usize, at: u64, channels: &[u16]) -> SPlay {
    SPlay {
        file,
        at,
        channels: channels.to_vec(),
        gains: vec![1.0; channels.len()],
        region: None,
        times: Some(1),
        fade_in: 0,
        fade_out: 0,
    }
}

fn spec(channels: u16, files: Vec<File>, plays: Vec<SPlay>, cancels: Vec<SCancel>) -> Spec {
    Spec {
        rate: 1000,
        channels,
        length: None,
        files,
        plays,
        cancels,
    }
}

#[test]
fn a_play_starts_exactly_at_its_frame_on_its_channels() {
    let files = vec![File::distinct(0, 2, 5)];
    // The first frame at output frame 3; file channel 1 on output 1, file channel 2 on
    // output 3 (0-based 0 and 2).
    let s = spec(3, files, vec![play(0, 3, &[0, 2])], vec![]);
    let out = s.expect();
    assert_eq!(out[..9], [0.0; 9]);
    assert_eq!(out[9], s.files[0].samples[0]);
    assert_eq!(out[11], s.files[0].samples[1]);
    check("start", &s);
}

#[test]
fn regions_loops_gains_and_overlaps_follow_the_rules() {
    let files = vec![File::distinct(0, 1, 10), File::distinct(1, 2, 6)];
    let mut a = play(0, 2, &[1]);
    a.region = Some((3, 7));
    a.times = Some(3);
    a.gains = vec![0.5];
    let mut b = play(1, 5, &[1, 0]);
    b.gains = vec![0.25, -2.0];
    b.times = Some(2);
    let c = play(0, 5, &[1]); // same start as b: summed after it (file order)
    let s = spec(2, files, vec![a, b, c], vec![]);
    check("loops", &s);
}

#[test]
fn fades_have_their_exact_values_at_their_exact_frames() {
    let files = vec![File::distinct(0, 1, 8)];
    let mut a = play(0, 0, &[0]);
    a.fade_in = 4;
    a.fade_out = 5;
    a.times = Some(2);
    // A fade-out over the whole play, from frame 0 (its first frame already faded).
    let mut b = play(0, 0, &[1]);
    b.fade_out = 8;
    // A fade-in over the whole play.
    let mut c = play(0, 20, &[1]);
    c.fade_in = 8;
    let s = spec(2, files, vec![a, b, c], vec![]);
    let out = s.expect();
    // The rules themselves, spelled out: the last frame of a faded play is silent, the
    // one before it is at 1/N; the first frame of a fade-in is silent.
    assert_eq!(out[15 * 2], 0.0);
    assert_eq!(out[14 * 2], s.files[0].samples[6] * (1.0 - 4.0 / 5.0));
    assert_eq!(out[20 * 2 + 1], 0.0);
    assert_eq!(out[21 * 2 + 1], s.files[0].samples[1] / 8.0);
    check("fades", &s);
}

#[test]
fn cancels_cut_and_fade_at_their_exact_frames() {
    let files = vec![File::distinct(0, 1, 4)];
    let mut forever = play(0, 1, &[0]);
    forever.times = None;
    let mut long = play(0, 2, &[1]);
    long.times = Some(10);
    let mut one = play(0, 0, &[2]);
    one.times = Some(10);
    let late = play(0, 30, &[2]); // starts at its cancel: never plays
    let s = spec(
        3,
        files,
        vec![forever, long, one, late],
        vec![
            SCancel {
                target: 0,
                at: 9,
                fade: 4,
            },
            SCancel {
                target: 1,
                at: 7,
                fade: 0,
            },
            SCancel {
                target: 2,
                at: 5,
                fade: 1,
            },
            SCancel {
                target: 3,
                at: 30,
                fade: 3,
            },
        ],
    );
    let out = s.expect();
    // Fade 0 at 7: frame 6 sounds, frame 7 is silent.
    assert_ne!(out[6 * 3 + 1], 0.0);
    assert_eq!(out[7 * 3 + 1], 0.0);
    // Fade 4 at 9: frame 8 untouched, 9..11 at 3/4, 2/4, 1/4, silent from 12.
    let src = |frame: u64| s.files[0].samples[((frame - 1) % 4) as usize];
    assert_eq!(out[8 * 3], src(8));
    assert_eq!(out[9 * 3], src(9) * (1.0 - 1.0 / 4.0));
    assert_eq!(out[11 * 3], src(11) * (1.0 - 3.0 / 4.0));
    assert_eq!(out[12 * 3], 0.0);
    // Fade 1 at 5 is a cut at 5.
    assert_ne!(out[4 * 3 + 2], 0.0);
    assert_eq!(out[5 * 3 + 2], 0.0);
    // The length: the end of the last play, the forever one's F + fade = 13.
    assert_eq!(s.length(), 13);
    check("cancels", &s);
}

#[test]
fn a_cancel_during_a_fade_out_multiplies_with_it() {
    let files = vec![File::distinct(0, 1, 12)];
    let mut a = play(0, 0, &[0]);
    a.fade_out = 8;
    let s = spec(
        1,
        files,
        vec![a],
        vec![SCancel {
            target: 0,
            at: 7,
            fade: 3,
        }],
    );
    check("fade-and-cancel", &s);
}

#[test]
fn the_length_cuts_or_pads_the_output() {
    let files = vec![File::distinct(0, 1, 6)];
    let mut forever = play(0, 2, &[0]);
    forever.times = None;
    let mut s = spec(1, files.clone(), vec![forever], vec![]);
    s.length = Some(23);
    check("length-cut", &s);
    let mut s = spec(1, files, vec![play(0, 2, &[0])], vec![]);
    s.length = Some(40);
    check("length-pad", &s);
}

#[test]
fn hundreds_of_plays_render_exactly_whatever_the_blocks() {
    // More requests than the engine's queue holds in one block: the render shortens
    // blocks to submit them all on time, and the output does not change.
    let files = vec![File::distinct(0, 1, 4)];
    let plays = (0..300)
        .map(|i| {
            let mut p = play(0, i * 2, &[0]);
            p.fade_out = 3;
            p
        })
        .collect();
    check("many", &spec(1, files, plays, vec![]));
}

/// A random session: up to four files and six plays with random starts, regions, loops,
/// gains, fades and cancels.
fn random_spec(rng: &mut Rng) -> Spec {
    let channels = rng.range(1, 3) as u16;
    let files: Vec<File> = (0..rng.range(1, 4) as usize)
        .map(|i| File::distinct(i, rng.range(1, 2) as u16, rng.range(1, 24) as usize))
        .collect();
    let mut plays = Vec::new();
    let mut cancels = Vec::new();
    for index in 0..rng.range(1, 6) as usize {
        let file = rng.range(0, files.len() as u64 - 1) as usize;
        let f = &files[file];
        let chans: Vec<u16> = (0..f.channels)
            .map(|_| rng.range(0, u64::from(channels) - 1) as u16)
            .collect();
        let gains = chans
            .iter()
            .map(|_| [1.0, 0.5, -0.75, 2.0, 0.3][rng.range(0, 4) as usize])
            .collect();
        let region = if rng.chance(40) {
            let a = rng.range(0, f.frames() - 1);
            Some((a, rng.range(a + 1, f.frames())))
        } else {
            None
        };
        let len = region.map_or(f.frames(), |(a, b)| b - a);
        let times = if rng.chance(15) {
            None
        } else {
            Some(rng.range(1, 4))
        };
        let total = times.map(|n| n * len);
        let fade = |rng: &mut Rng| match total {
            Some(t) if rng.chance(40) => rng.range(1, t),
            None if rng.chance(40) => rng.range(1, 30),
            _ => 0,
        };
        let fade_in = fade(rng);
        let fade_out = if total.is_some() { fade(rng) } else { 0 };
        let at = rng.range(0, 40);
        if times.is_none() || rng.chance(30) {
            cancels.push(SCancel {
                target: index,
                at: rng.range(0, at + total.unwrap_or(30) + 3),
                fade: if rng.chance(50) { rng.range(0, 12) } else { 0 },
            });
        }
        plays.push(SPlay {
            file,
            at,
            channels: chans,
            gains,
            region,
            times,
            fade_in,
            fade_out,
        });
    }
    let length = rng.chance(20).then(|| rng.range(1, 80));
    let mut s = Spec {
        rate: 1000,
        channels,
        length,
        files,
        plays,
        cancels,
    };
    if s.length() == 0 {
        s.length = Some(5);
    }
    s
}

#[test]
fn random_sessions_follow_the_rules_under_random_block_patterns() {
    let mut rng = Rng(0x5EED);
    for case in 0..60 {
        let s = random_spec(&mut rng);
        check(&format!("random-{case}"), &s);
    }
}

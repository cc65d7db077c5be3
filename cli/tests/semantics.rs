//! The session rules of docs/session-format.md, checked sample for sample: an independent
//! evaluator computes each output sample straight from the rules (start, region, loops,
//! gains, fade-in, fade-out, cancels, overlap, length) in plain per-frame arithmetic, and
//! the render must equal it bit for bit, under many block patterns. Fixed cases pin each
//! rule to its exact frame (an off-by-one fails them); random sessions cover the rest. The
//! render's reports count the frames of fades and faded cancels as the engine played them,
//! with no extra block.

mod common;

use std::fmt::Write as _;

use common::{render_text, write_f32, Rng, Scratch};
use rtmix_cli::blocks::Blocks;
use rtmix_cli::render::Report;
use rtmix_core::EndReason;

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

/// What a play's cancels do to it.
#[derive(Clone, Debug)]
struct Fate {
    /// The frame from which it is silent (`None`: never); its `at` when it plays nothing.
    end: Option<u64>,
    /// `(F, N, g)` of each faded cancel that takes effect, in order: from `F` the play
    /// falls from `g` to 0 over `N` frames. A fade never rises: over one under way, a new
    /// one takes effect only if it ends first, falling from the gain reached at its `F`.
    fades: Vec<(u64, u64, f32)>,
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

/// A fade's value at frame `f`: from `g` at frame `at` to 0 at `at + n`, by the documented
/// ramp, `g + (0 - g) * (k / n)` at `at + k`.
fn ramp_down(g: f32, at: u64, n: u64, f: u64) -> f32 {
    let k = f - at;
    if k >= n {
        return 0.0;
    }
    g + (0.0 - g) * (k as f32 / n as f32)
}

impl Spec {
    fn region(&self, p: &SPlay) -> (u64, u64) {
        p.region.unwrap_or((0, self.files[p.file].frames()))
    }

    fn total(&self, p: &SPlay) -> Option<u64> {
        let (a, b) = self.region(p);
        p.times.map(|n| (b - a) * n)
    }

    /// What the cancels do to play `index`, by the rules: they take effect in order of
    /// frame, then of file; one at `F` reaches the play if it has started by `F` (else the
    /// play never plays) and has not ended, and ends it at `F + fade`.
    fn fate(&self, index: usize) -> Fate {
        let p = &self.plays[index];
        let mut mine: Vec<&SCancel> = self.cancels.iter().filter(|c| c.target == index).collect();
        mine.sort_by_key(|c| c.at);
        let mut fate = Fate {
            end: self.total(p).map(|t| p.at + t),
            fades: Vec::new(),
        };
        for c in mine {
            if c.at < p.at || c.at + c.fade <= p.at {
                // Not started by F, or cut at its first frame: it plays nothing.
                fate.end = Some(p.at);
                fate.fades.clear();
                break;
            }
            if fate.end.is_some_and(|e| e <= c.at) {
                continue;
            }
            if c.fade > 0 {
                match fate.fades.last() {
                    // The fade under way ends first (or with it): it goes on.
                    Some(&(f, n, _)) if c.at + c.fade >= f + n => {}
                    Some(&(f, n, g)) => fate.fades.push((c.at, c.fade, ramp_down(g, f, n, c.at))),
                    None => fate.fades.push((c.at, c.fade, 1.0)),
                }
            }
            fate.end = Some(fate.end.map_or(c.at + c.fade, |e| e.min(c.at + c.fade)));
        }
        fate
    }

    /// Its end by the rules (exclusive); 0 for a play that plays nothing.
    fn end(&self, index: usize) -> Option<u64> {
        let end = self.fate(index).end;
        end.filter(|&e| e > self.plays[index].at).or(end.map(|_| 0))
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
            let p = &self.plays[i];
            let file = &self.files[p.file];
            let (start, end) = self.region(p);
            let len = end - start;
            let total = self.total(p);
            let fate = self.fate(i);
            // The frame from which it is silent.
            let stop = fate.end.unwrap_or(u64::MAX);
            for f in p.at..stop.min(length) {
                let i = f - p.at;
                let frame = start + i % len;
                // Fade-in: play frame i gets i / N.
                let fade_in = if i < p.fade_in {
                    i as f32 / p.fade_in as f32
                } else {
                    1.0
                };
                // Fade-out: play frame T - M + k gets 1 - k / M.
                let fade_out = match total {
                    Some(t) if i + p.fade_out >= t => {
                        let k = i + p.fade_out - t;
                        1.0 - k as f32 / p.fade_out as f32
                    }
                    _ => 1.0,
                };
                // Cancel fade: frame F + k gets g + (0 - g) * (k / N), g = 1 for the first,
                // from the latest fade that took effect.
                let cut = match fate.fades.iter().rev().find(|&&(at, _, _)| at <= f) {
                    Some(&(at, n, g)) => ramp_down(g, at, n, f),
                    None => 1.0,
                };
                let env = (fade_in * fade_out) * cut;
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

fn cancel(target: usize, at: u64, fade: u64) -> SCancel {
    SCancel { target, at, fade }
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
    // A fade-out over the whole play, from frame 0 (its first frame at full level).
    let mut b = play(0, 0, &[1]);
    b.fade_out = 8;
    // A fade-in over the whole play.
    let mut c = play(0, 20, &[1]);
    c.fade_in = 8;
    let s = spec(2, files, vec![a, b, c], vec![]);
    let out = s.expect();
    let src = |j: usize| s.files[0].samples[j];
    // The rules themselves, spelled out. A fade-in's first frame is silent, frame i is at
    // i / N, frame N at full level.
    assert_eq!(out[20 * 2 + 1], 0.0);
    assert_eq!(out[21 * 2 + 1], src(1) / 8.0);
    assert_eq!(out[27 * 2 + 1], src(7) * (7.0 / 8.0));
    assert_eq!(out[4 * 2], src(4));
    // A fade-out of M over the last M frames of a play of T: frame T - M + k at 1 - k / M,
    // its first frame at full level, its last at 1 - (M - 1) / M (that is 1 / M).
    assert_eq!(out[10 * 2], src(2));
    assert_eq!(out[11 * 2], src(3));
    assert_eq!(out[12 * 2], src(4) * (1.0 - 1.0 / 5.0));
    assert_eq!(out[15 * 2], src(7) * (1.0 - 4.0 / 5.0));
    // Computed as 1 - k / M, which is not (M - k) / M in f32 here.
    assert_ne!(out[15 * 2], src(7) * (1.0 / 5.0));
    assert_eq!(s.length(), 28);
    assert_eq!(out[16 * 2], 0.0);
    assert_eq!(out[1], src(0));
    assert_eq!(out[7 * 2 + 1], src(7) * (1.0 - 7.0 / 8.0));
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
    let cut_at_start = play(0, 14, &[2]); // cut at its first frame: never plays
    let mut fade_at_start = play(0, 20, &[2]); // faded from its first frame
    fade_at_start.times = Some(3);
    let late = play(0, 30, &[1]); // starts after its cancel: never plays
    let s = spec(
        3,
        files,
        vec![forever, long, one, cut_at_start, fade_at_start, late],
        vec![
            cancel(0, 9, 4),
            cancel(1, 7, 0),
            cancel(2, 5, 1),
            cancel(3, 14, 0),
            cancel(4, 20, 2),
            cancel(5, 29, 3),
        ],
    );
    let out = s.expect();
    // Fade 0 at 7: frame 6 sounds, frame 7 is silent.
    assert_ne!(out[6 * 3 + 1], 0.0);
    assert_eq!(out[7 * 3 + 1], 0.0);
    // Fade 4 at 9: frame 8 and 9 at full level, 10..12 at 1 - 1/4, 1 - 2/4, 1 - 3/4, silent
    // from 13.
    let src = |at: u64, frame: u64| s.files[0].samples[((frame - at) % 4) as usize];
    assert_eq!(out[8 * 3], src(1, 8));
    assert_eq!(out[9 * 3], src(1, 9));
    assert_eq!(out[10 * 3], src(1, 10) * (1.0 - 1.0 / 4.0));
    assert_eq!(out[12 * 3], src(1, 12) * (1.0 - 3.0 / 4.0));
    assert_eq!(out[13 * 3], 0.0);
    // Fade 1 at 5 is a cut at 6: frame 5 at full level.
    assert_eq!(out[5 * 3 + 2], src(0, 5));
    assert_eq!(out[6 * 3 + 2], 0.0);
    // A cut at a play's first frame: nothing; a fade of 2 there: two frames, at 1 and 1/2.
    assert_eq!(out[14 * 3 + 2], 0.0);
    assert_eq!(out[20 * 3 + 2], src(20, 20));
    assert_eq!(out[21 * 3 + 2], src(20, 21) * (1.0 - 1.0 / 2.0));
    // The length: the end of the last play, the faded one's F + fade = 22 (the play that
    // never starts adds nothing).
    assert_eq!(s.length(), 22);
    check("cancels", &s);
}

#[test]
fn a_second_cancel_ends_a_play_earlier_and_its_fade_never_rises() {
    let files = vec![File::distinct(0, 1, 40)];
    let s = spec(
        4,
        files,
        vec![
            play(0, 0, &[0]),
            play(0, 0, &[1]),
            play(0, 0, &[2]),
            play(0, 0, &[3]),
        ],
        vec![
            // A fade of 8 from 10, taken over at 11 by a fade of 4 that ends first: it
            // falls from the 7/8 reached there; silent from 15.
            cancel(0, 10, 8),
            cancel(0, 11, 4),
            // Two fades from 10: the one that ends first (8) holds, the end is its end
            // (18, the length).
            cancel(1, 10, 8),
            cancel(1, 10, 12),
            // A cut during a fade keeps the fade and ends the play at the cut.
            cancel(2, 10, 8),
            cancel(2, 14, 0),
            // A cancel at or after the end leaves the play alone.
            cancel(3, 10, 4),
            cancel(3, 14, 0),
            cancel(3, 20, 2),
        ],
    );
    let out = s.expect();
    let src = |frame: usize| s.files[0].samples[frame];
    // The fade never rises: 7/8 at 11, where the second fade takes over, then 7/8 less a
    // quarter of it per frame.
    let g = 1.0 - 1.0 / 8.0;
    assert_eq!(out[10 * 4], src(10));
    assert_eq!(out[11 * 4], src(11) * g);
    assert_eq!(out[12 * 4], src(12) * (g + (0.0 - g) * (1.0 / 4.0)));
    assert_eq!(out[14 * 4], src(14) * (g + (0.0 - g) * (3.0 / 4.0)));
    assert_eq!(out[15 * 4], 0.0);
    assert_eq!(out[11 * 4 + 1], src(11) * (1.0 - 1.0 / 8.0));
    assert_eq!(out[17 * 4 + 1], src(17) * (1.0 - 7.0 / 8.0));
    assert_eq!(out[13 * 4 + 2], src(13) * (1.0 - 3.0 / 8.0));
    assert_eq!(out[14 * 4 + 2], 0.0);
    assert_eq!(out[13 * 4 + 3], src(13) * (1.0 - 3.0 / 4.0));
    assert_eq!(s.length(), 18);
    check("second-cancel", &s);
}

/// A second faded cancel several frames into a fade under way (once refused, when the
/// engine applied a cancel from the first frame of its block): it takes over only if it
/// ends first, falling from the gain reached at its frame, in every block pattern.
#[test]
fn a_second_fade_deep_into_a_first_takes_over_only_if_it_ends_first() {
    let files = vec![File::distinct(0, 1, 40)];
    let s = spec(
        2,
        files,
        vec![play(0, 0, &[0]), play(0, 0, &[1])],
        vec![
            // A fade of 8 from 10, a fade of 2 from 13 that ends first (15 < 18).
            cancel(0, 10, 8),
            cancel(0, 13, 2),
            // A fade of 4 from 10, a fade of 8 from 12 that would end later: ignored.
            cancel(1, 10, 4),
            cancel(1, 12, 8),
        ],
    );
    let out = s.expect();
    let src = |frame: usize| s.files[0].samples[frame];
    let g = 1.0 - 3.0 / 8.0;
    assert_eq!(out[12 * 2], src(12) * (1.0 - 2.0 / 8.0));
    assert_eq!(out[13 * 2], src(13) * g);
    assert_eq!(out[14 * 2], src(14) * (g + (0.0 - g) * (1.0 / 2.0)));
    assert_eq!(out.len(), 15 * 2, "silent from 15: the output ends there");
    assert_eq!(out[12 * 2 + 1], src(12) * (1.0 - 2.0 / 4.0));
    assert_eq!(out[13 * 2 + 1], src(13) * (1.0 - 3.0 / 4.0));
    assert_eq!(out[14 * 2 + 1], 0.0);
    assert_eq!(s.length(), 15);
    check("second-fade-deep", &s);
}

#[test]
fn a_cancel_during_a_fade_out_multiplies_with_it() {
    let files = vec![File::distinct(0, 1, 12)];
    let mut a = play(0, 0, &[0]);
    a.fade_out = 8;
    let s = spec(1, files, vec![a], vec![cancel(0, 7, 3)]);
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

#[test]
fn reports_count_the_frames_the_engine_played_with_no_extra_block() {
    let files = vec![File::distinct(0, 1, 10)];
    // A 10-frame play with a fade-out of 4 at 2; a loop cancelled at 12 with a fade of 5.
    let mut faded = play(0, 2, &[0]);
    faded.fade_out = 4;
    let mut endless = play(0, 0, &[0]);
    endless.times = None;
    let s = spec(1, files, vec![faded, endless], vec![cancel(1, 12, 5)]);
    assert_eq!(s.length(), 17);
    check("reports", &s);
    let dir = Scratch::new("reports");
    let text = s.write(&dir);
    for (blocks, count) in [
        (Blocks::Fixed(1), 17),
        (Blocks::Fixed(4), 5),
        (Blocks::Fixed(17), 1),
    ] {
        let (_, r) = render_text(&dir, &text, blocks, None).unwrap();
        assert_eq!(r.blocks, count, "{blocks}");
        let at = |i: usize| {
            let x: &Report = &r.reports[i];
            (x.actual_start, x.frames, x.ended_at, x.end)
        };
        // Every frame of the fade-out counts, its last (at 1/4) included.
        assert_eq!(at(0), (Some(2), 10, Some(12), EndReason::Finished));
        // The faded cancel's play: frames 0 to 16, its last at 1/5, silent from 17.
        assert_eq!(at(1).0, Some(0));
        assert_eq!((at(1).1, at(1).2), (17, Some(17)));
        assert!(matches!(at(1).3, EndReason::Cancelled { .. }));
        // The cancel took effect at its own frame.
        assert_eq!(at(2).0, Some(12));
        assert_eq!(at(2).3, EndReason::Cut);
    }
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
        let mut cancel = |rng: &mut Rng| {
            cancels.push(SCancel {
                target: index,
                at: rng.range(0, at + total.unwrap_or(30) + 3),
                fade: if rng.chance(50) { rng.range(0, 12) } else { 0 },
            });
        };
        if times.is_none() || rng.chance(30) {
            cancel(rng);
            if rng.chance(30) {
                cancel(rng);
            }
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

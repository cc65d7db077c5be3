//! Bad input gives a clear message naming the file, the line, the entry and the field,
//! exit code 2, no panic, and no output file (nor a temporary one) left behind.

mod common;

use common::{rtmix, stderr, write_f32, Scratch};

/// A folder with a mono and a stereo WAV file, a text file and a truncated WAV file.
fn material(name: &str) -> Scratch {
    let dir = Scratch::new(name);
    write_f32(&dir.path("mono.wav"), 1, 1000, &[0.5; 10]);
    write_f32(&dir.path("stereo.wav"), 2, 1000, &[0.5; 20]);
    std::fs::write(dir.path("notes.wav"), "these are not samples\n".repeat(20)).unwrap();
    std::fs::write(dir.path("notes.txt"), "these are not samples\n".repeat(20)).unwrap();
    let whole = std::fs::read(dir.path("stereo.wav")).unwrap();
    std::fs::write(dir.path("cut.wav"), &whole[..whole.len() - 9]).unwrap();
    std::fs::write(dir.path("header.wav"), &whole[..30]).unwrap();
    write_f32(
        &dir.path("nan.wav"),
        1,
        1000,
        &[0.5, 0.5, 0.5, f32::NAN, 0.5],
    );
    write_f32(&dir.path("inf.wav"), 1, 1000, &[0.5, f32::NEG_INFINITY]);
    write_f32(&dir.path("empty.wav"), 1, 1000, &[]);
    dir
}

/// Runs `rtmix render s.toml -o out.wav` plus `extra` (`MONO` stands for the mono file)
/// on `session`; checks exit code 2,
/// every `wanted` piece in the message, no panic and nothing written; returns the message.
fn fails(name: &str, session: &str, extra: &[&str], wanted: &[&str]) -> String {
    let dir = material(name);
    let s = dir.write("s.toml", session);
    let before = dir.files();
    let out = dir.path("out.wav");
    let mono = dir.path("mono.wav");
    let mut args = vec!["render", s.to_str().unwrap(), "-o", out.to_str().unwrap()];
    args.extend(extra.iter().map(|&a| {
        if a == "MONO" {
            mono.to_str().unwrap()
        } else {
            a
        }
    }));
    let o = rtmix(&args);
    let message = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{name}: {message}");
    assert!(!message.contains("panicked"), "{name}: {message}");
    for w in wanted {
        assert!(message.contains(w), "{name}: {w:?} not in:\n{message}");
    }
    assert_eq!(dir.files(), before, "{name}: files were left behind");
    message
}

const HEAD: &str = "sample_rate = 1000\nchannels = 2\n";

#[test]
fn toml_syntax_unknown_and_missing_keys() {
    fails(
        "syntax",
        "sample_rate = 1000\nchannels = 2\n[[play]\nfile = \"mono.wav\"\n",
        &[],
        &["s.toml", "line 3"],
    );
    fails(
        "unknown-top",
        "sample_rate = 1000\nchannels = 2\nsample_rte = 4\n",
        &[],
        &["line 3", "unknown field `sample_rte`"],
    );
    fails(
        "unknown-play",
        &format!("{HEAD}[[play]]\nfile = \"mono.wav\"\nfle = 3\n"),
        &[],
        &["line 5", "unknown field `fle`", "expected one of"],
    );
    fails(
        "missing-file-key",
        &format!("{HEAD}[[play]]\nat = 3\n"),
        &[],
        &["missing field `file`"],
    );
    fails(
        "wrong-type",
        "sample_rate = \"fast\"\nchannels = 2\n",
        &[],
        &["line 1", "sample_rate"],
    );
}

#[test]
fn top_level_values() {
    fails(
        "rate",
        "sample_rate = 0\nchannels = 2\n",
        &[],
        &[
            "s.toml:1: top level, field `sample_rate`",
            "not a sample rate",
        ],
    );
    fails(
        "channels",
        "sample_rate = 1000\nchannels = 40\n",
        &[],
        &["s.toml:2: top level, field `channels`", "1 to 32"],
    );
    fails(
        "length",
        &format!("{HEAD}length = \"12 seconds\"\n"),
        &[],
        &["s.toml:3: top level, field `length`", "is not a time"],
    );
    fails("empty", HEAD, &[], &["field `length`", "nothing to render"]);
}

#[test]
fn audio_files_that_cannot_be_used() {
    fails(
        "missing",
        &format!("{HEAD}\n[[play]]\nid = \"a\"\nfile = \"nowhere.wav\"\n"),
        &[],
        &[
            "s.toml:6: [[play]] 1 (\"a\"), field `file`",
            "nowhere.wav",
            "no such file",
        ],
    );
    for file in ["notes.wav", "notes.txt"] {
        fails(
            "not-audio",
            &format!("{HEAD}[[play]]\nfile = \"{file}\"\n"),
            &[],
            &["field `file`", file, "not an audio file"],
        );
    }
    for file in ["cut.wav", "header.wav"] {
        fails(
            "truncated",
            &format!("{HEAD}[[play]]\nfile = \"{file}\"\n"),
            &[],
            &["field `file`", file, "truncated"],
        );
    }
    fails(
        "folder",
        &format!("{HEAD}[[play]]\nfile = \".\"\n"),
        &[],
        &["field `file`", "folder"],
    );
    for (file, index) in [("nan.wav", 3), ("inf.wav", 1)] {
        fails(
            "non-finite",
            &format!("{HEAD}[[play]]\nfile = \"{file}\"\n"),
            &[],
            &[
                "field `file`",
                file,
                &format!("sample {index} is not a finite number"),
            ],
        );
    }
    fails(
        "empty",
        &format!("{HEAD}[[play]]\nfile = \"empty.wav\"\n"),
        &[],
        &["field `file`", "empty.wav", "it holds no audio frames"],
    );
}

#[test]
fn channels_counts_and_ranges() {
    fails(
        "count",
        &format!("{HEAD}[[play]]\nfile = \"stereo.wav\"\nchannels = [1]\n"),
        &[],
        &[
            "s.toml:5: [[play]] 1, field `channels`",
            "1 channel listed, but stereo.wav has 2 channels",
        ],
    );
    fails(
        "range",
        &format!("{HEAD}[[play]]\nfile = \"mono.wav\"\nchannels = [3]\n"),
        &[],
        &[
            "s.toml:5: [[play]] 1, field `channels`",
            "channel 3 is out of range",
            "2 output channels",
        ],
    );
    fails(
        "zero",
        &format!("{HEAD}[[play]]\nfile = \"mono.wav\"\nchannels = [0]\n"),
        &[],
        &[
            "field `channels`",
            "channel 0 is out of range",
            "numbered from 1",
        ],
    );
    fails(
        "empty-list",
        &format!("{HEAD}[[play]]\nfile = \"mono.wav\"\nchannels = []\n"),
        &[],
        &["field `channels`", "empty"],
    );
    fails(
        "default-too-wide",
        "sample_rate = 1000\nchannels = 1\n[[play]]\nfile = \"stereo.wav\"\n",
        &[],
        &["field `channels`", "stereo.wav has 2 channels"],
    );
    fails(
        "gains",
        &format!("{HEAD}[[play]]\nfile = \"mono.wav\"\ngain = [1.0, 0.5]\n"),
        &[],
        &["field `gain`", "2 gains for 1 channels"],
    );
    fails(
        "nan-gain",
        &format!("{HEAD}[[play]]\nfile = \"mono.wav\"\ngain = nan\n"),
        &[],
        &["field `gain`", "not a finite gain"],
    );
}

#[test]
fn times_regions_loops_and_fades() {
    for (at, wanted) in [
        ("\"1.5\"", "is not a time"),
        ("\"1.5 ms s\"", "is not a time"),
        ("\"-2s\"", "is not a time"),
        ("-5", "negative"),
        ("1.5", "found a float"),
    ] {
        fails(
            "at",
            &format!("{HEAD}[[play]]\nfile = \"mono.wav\"\nat = {at}\n"),
            &[],
            &["s.toml:5: [[play]] 1, field `at`", wanted],
        );
    }
    fails(
        "negative-region",
        &format!("{HEAD}[[play]]\nfile = \"mono.wav\"\nregion = [-1, 4]\n"),
        &[],
        &["field `region`", "negative"],
    );
    fails(
        "crossed-region",
        &format!("{HEAD}[[play]]\nfile = \"mono.wav\"\nregion = [5, 2]\n"),
        &[],
        &["field `region`", "ends before it starts"],
    );
    fails(
        "long-region",
        &format!("{HEAD}[[play]]\nfile = \"mono.wav\"\nregion = [5, 11]\n"),
        &[],
        &["field `region`", "past the end of mono.wav (10 frames)"],
    );
    fails(
        "loop",
        &format!("{HEAD}[[play]]\nfile = \"mono.wav\"\nloop = 0\n"),
        &[],
        &["field `loop`", "1 or more"],
    );
    fails(
        "forever",
        &format!("{HEAD}[[play]]\nfile = \"mono.wav\"\nloop = \"forever\"\n"),
        &[],
        &["field `loop`", "loops forever and nothing ends it"],
    );
    fails(
        "fade-forever",
        &format!("{HEAD}[[play]]\nfile = \"mono.wav\"\nloop = \"forever\"\nfade_out = 3\n"),
        &[],
        &["field `fade_out`", "no end to fade out to"],
    );
    fails(
        "fade-long",
        &format!("{HEAD}[[play]]\nfile = \"mono.wav\"\nloop = 2\nfade_in = 21\n"),
        &[],
        &[
            "field `fade_in`",
            "21 frames is longer than the play (20 frames)",
        ],
    );
}

#[test]
fn too_many_plays_at_once() {
    let mut session = HEAD.to_owned();
    for _ in 0..130 {
        session.push_str("[[play]]\nfile = \"mono.wav\"\nloop = 100\n");
    }
    fails(
        "many",
        &session,
        &[],
        &[
            "[[play]] 128",
            "more than 127 plays",
            "under way at once",
            "more than the render holds",
        ],
    );
}

#[test]
fn ids_and_cancels() {
    fails(
        "unknown-id",
        &format!(
            "{HEAD}[[play]]\nid = \"a\"\nfile = \"mono.wav\"\n[[cancel]]\nid = \"b\"\nat = 3\n"
        ),
        &[],
        &[
            "s.toml:7: [[cancel]] 1 (\"b\"), field `id`",
            "no [[play]] has the id \"b\"",
        ],
    );
    fails(
        "duplicate-id",
        &format!(
            "{HEAD}[[play]]\nid = \"a\"\nfile = \"mono.wav\"\n[[play]]\nid = \"a\"\nfile = \"mono.wav\"\n"
        ),
        &[],
        &["s.toml:7: [[play]] 2 (\"a\"), field `id`", "already used by [[play]] 1"],
    );
    fails(
        "cancel-at",
        &format!("{HEAD}[[play]]\nid = \"a\"\nfile = \"mono.wav\"\n[[cancel]]\nid = \"a\"\nat = \"soon\"\n"),
        &[],
        &["s.toml:8: [[cancel]] 1 (\"a\"), field `at`", "is not a time"],
    );
    // A second fade one frame, several frames, or after the play's end into a first one:
    // it renders (what it sounds like: cli/tests/semantics.rs).
    let refade = |at: u64| {
        format!(
            "{HEAD}[[play]]\nid = \"a\"\nfile = \"mono.wav\"\nloop = 5\n[[cancel]]\nid = \"a\"\nat = 20\nfade = 20\n[[cancel]]\nid = \"a\"\nat = {at}\nfade = 5\n"
        )
    };
    for at in [21, 22, 30, 40] {
        let dir = material("refade-ok");
        let s = dir.write("s.toml", &refade(at));
        let out = dir.path("out.wav");
        let o = rtmix(&["render", s.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert!(o.status.success(), "at {at}: {}", stderr(&o));
    }
}

#[test]
fn recordings_and_the_input() {
    let rec = format!("{HEAD}[[record]]\nframes = 4\nchannels = [2]\nfile = \"take.wav\"\n");
    fails(
        "no-input",
        &rec,
        &[],
        &["[[record]] 1 (\"take.wav\")", "pass --input"],
    );
    fails(
        "input-channel",
        &rec,
        &["--input", "MONO"],
        &[
            "s.toml:5: [[record]] 1 (\"take.wav\"), field `channels`",
            "channel 2 is out of range: --input has 1 channel",
        ],
    );
    fails(
        "input-missing",
        &rec,
        &["--input", "nothing.wav"],
        &["--input: audio file nothing.wav: no such file"],
    );
    fails(
        "frames-and-duration",
        &format!("{HEAD}[[record]]\nframes = 4\nduration = \"1s\"\nfile = \"t.wav\"\n"),
        &["--input", "MONO"],
        &["field `duration`", "not both"],
    );
    fails(
        "no-length",
        &format!("{HEAD}[[record]]\nfile = \"t.wav\"\n"),
        &["--input", "MONO"],
        &["field `frames`", "needs its length"],
    );
    // A recording that cannot be written: the mix is not left behind either.
    fails(
        "record-unwritable",
        &format!("{HEAD}[[record]]\nframes = 4\nfile = \"no/such/folder/t.wav\"\n"),
        &["--input", "MONO"],
        &["cannot write", "t.wav"],
    );
}

#[test]
fn outputs_that_cannot_be_written_and_bad_options() {
    let dir = material("outputs");
    let s = dir.write("s.toml", &format!("{HEAD}[[play]]\nfile = \"mono.wav\"\n"));
    let s = s.to_str().unwrap();
    let before = dir.files();
    for (out, wanted) in [
        (
            "/nonexistent-folder-rtmix/x.wav",
            "cannot write /nonexistent-folder-rtmix/x.wav",
        ),
        (dir.0.to_str().unwrap(), "cannot write"),
    ] {
        let o = rtmix(&["render", s, "-o", out]);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains(wanted), "{}", stderr(&o));
    }
    let out = dir.path("o.wav");
    let out = out.to_str().unwrap();
    for (args, wanted) in [
        (vec!["--blocks", "random:x"], "random:SEED"),
        (vec!["--blocks", "fixed:3"], "random:SEED"),
        (vec!["--block", "0"], "--block"),
        (
            vec!["--block", "4", "--blocks", "random:1"],
            "cannot be used with",
        ),
        (vec!["--format", "s8"], "f32, s16 or s24"),
    ] {
        let mut a = vec!["render", s, "-o", out];
        a.extend(&args);
        let o = rtmix(&a);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(wanted), "{args:?}: {}", stderr(&o));
    }
    let o = rtmix(&["render", "/no/such/session.toml", "-o", out]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read session file /no/such/session.toml"));
    assert_eq!(dir.files(), before);
}

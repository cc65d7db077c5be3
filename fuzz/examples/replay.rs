//! Runs one target's checks on input files, without libFuzzer or a sanitizer, and says
//! how each ended: `cargo run --release --example replay -- TARGET FILE...`.

fn main() {
    let mut args = std::env::args().skip(1);
    let target = args.next().expect("usage: replay TARGET FILE...");
    let check: fn(&[u8]) = match target.as_str() {
        "engine" => rtmix_fuzz::engine::check,
        "session" => rtmix_fuzz::session::check,
        "audio_file" => rtmix_fuzz::audio_file::check,
        "convert" => rtmix_fuzz::convert::check,
        other => panic!("no target {other}"),
    };
    for path in args {
        let data = std::fs::read(&path).expect("readable input");
        let start = std::time::Instant::now();
        check(&data);
        println!("{path}: checks passed in {:?}", start.elapsed());
    }
}

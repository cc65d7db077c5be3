//! Shows how far each session input gets (parse, plan, render): for triage of the
//! `session` target. `cargo run --example session_probe -- FILE...`

fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).expect("readable input");
        println!("{path}: {}", rtmix_fuzz::session::probe(&data));
        rtmix_fuzz::session::check(&data);
    }
}

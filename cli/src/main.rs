//! The `rtmix` command-line program (being built: see issue 6).

fn main() {}

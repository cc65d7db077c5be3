//! The `rtmix` command-line program: see the `rtmix_cli` library and
//! docs/session-format.md.

use clap::Parser;

fn main() {
    let cli = rtmix_cli::cli::Cli::parse();
    match rtmix_cli::cli::run(cli) {
        Ok(text) => print!("{text}"),
        Err(e) => {
            eprintln!("rtmix: error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}

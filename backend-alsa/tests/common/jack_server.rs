//! A private JACK server for one test binary: started under its own name (so the CI's
//! server under the default name is left alone), selected for this process's ALSA jack
//! PCMs through `JACK_DEFAULT_SERVER`, and killed by its PID, never by name.

use std::process::{Child, Command, Stdio};

/// A private `jackd -L 2 -d dummy -r 48000 -p 1024`, killed on drop.
pub(crate) struct JackServer(Child);

impl JackServer {
    /// Starts the server named `name` and waits (bounded, 10 s) until it takes clients;
    /// `None` when jackd is not installed or does not come up.
    pub(crate) fn start(name: &str) -> Option<Self> {
        std::env::set_var("JACK_DEFAULT_SERVER", name);
        let child = Command::new("jackd")
            .args([
                "-n", name, "-L", "2", "-d", "dummy", "-r", "48000", "-p", "1024",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = JackServer(child);
        let ready = Command::new("jack_wait")
            .args(["-s", name, "-w", "-t", "10"])
            .stdout(Stdio::null())
            .status()
            .ok()?;
        ready.success().then_some(server)
    }

    /// Kills the server (SIGKILL to its PID) and reaps it.
    pub(crate) fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for JackServer {
    fn drop(&mut self) {
        self.kill();
    }
}

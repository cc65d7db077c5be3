//! A private JACK server for the tests that need one of their own (to kill it, or to have
//! its loopback ports to themselves): `jackd -L 2 -d dummy -r 48000 -p 1024` under its own
//! name, so that a server under the default name (the CI's) is left alone, and killed by
//! its PID, never by name. Clients reach it through `JACK_DEFAULT_SERVER=<name>`.

use std::process::{Child, Command, Stdio};

/// A private jackd, killed when dropped.
///
/// ```no_run
/// use rtmix_host_tests::jack_server::JackServer;
/// let mut server = JackServer::start("rtmix-doc").expect("jackd is installed");
/// std::env::set_var("JACK_DEFAULT_SERVER", "rtmix-doc"); // before any client starts
/// // ... play and record through it ...
/// server.kill(); // the device disappears mid-stream
/// ```
#[derive(Debug)]
pub struct JackServer(Child);

impl JackServer {
    /// Starts the server named `name` and waits (bounded, 10 s) until it takes clients;
    /// `None` when jackd is not installed or does not come up.
    pub fn start(name: &str) -> Option<Self> {
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
            .stderr(Stdio::null())
            .status()
            .ok()?;
        ready.success().then_some(server)
    }

    /// Kills the server (SIGKILL to its PID) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for JackServer {
    fn drop(&mut self) {
        self.kill();
    }
}

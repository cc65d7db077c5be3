//! Blocking waits on the controller (feature `std`).

use std::time::{Duration, Instant};

use crate::{ActionId, Completion, Controller, Error, PlaySource, RecordTarget};

impl<P, R, H: crate::Home> Controller<P, R, H>
where
    P: PlaySource,
    R: RecordTarget,
{
    /// Blocks until `id` completes and returns its completion. The engine wakes this
    /// thread when it hands completions back (no polling interval).
    ///
    /// Fails at once with [`Error::UnknownAction`] if `id` is not outstanding (never
    /// issued by this controller, or already taken), so it cannot wait for something that
    /// will never come. If the engine may stop running, prefer
    /// [`wait_timeout`](Self::wait_timeout).
    ///
    /// ```
    /// use rtmix_core::{ChannelMap, Play, StreamCapacity, StreamConfig};
    /// let (mut ctl, mut engine) =
    ///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(1), StreamCapacity::default()).unwrap();
    /// let id = ctl.play(Play::new(vec![0.5; 64], ChannelMap::new(&[0]).unwrap())).unwrap();
    /// let audio = std::thread::spawn(move || {
    ///     let mut block = [0.0f32; 16];
    ///     for _ in 0..8 { engine.output.process(&mut block); }
    /// });
    /// let done = ctl.wait(id).unwrap();
    /// assert_eq!(done.frames, 64);
    /// audio.join().unwrap();
    /// ```
    pub fn wait(&mut self, id: ActionId) -> Result<Completion<P, R>, Error> {
        loop {
            if let Some(done) = self.wait_step(id, None)? {
                return Ok(done);
            }
        }
    }

    /// Like [`wait`](Self::wait), but gives up after `timeout` and returns `Ok(None)`;
    /// the action stays outstanding. A timeout too large to represent waits forever.
    pub fn wait_timeout(
        &mut self,
        id: ActionId,
        timeout: Duration,
    ) -> Result<Option<Completion<P, R>>, Error> {
        let Some(deadline) = Instant::now().checked_add(timeout) else {
            return self.wait(id).map(Some);
        };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if let Some(done) = self.wait_step(id, Some(left))? {
                return Ok(Some(done));
            }
            if left.is_zero() {
                return Ok(None);
            }
        }
    }

    /// One round: check, announce the wait, check again, park. The loom model in
    /// signal.rs (`loom_model`) repeats this sequence: keep the two in step.
    fn wait_step(
        &mut self,
        id: ActionId,
        timeout: Option<Duration>,
    ) -> Result<Option<Completion<P, R>>, Error> {
        if let Some(done) = self.take(id) {
            return Ok(Some(done));
        }
        if !self.is_outstanding(id) {
            return Err(Error::UnknownAction);
        }
        self.signal.prepare_wait();
        // A completion pushed before the announcement is seen here; one pushed after it
        // unparks us (see signal.rs).
        if let Some(done) = self.take(id) {
            self.signal.end_wait();
            return Ok(Some(done));
        }
        if timeout.is_some_and(|t| t.is_zero()) {
            self.signal.end_wait();
            return Ok(None);
        }
        self.signal.park(timeout);
        Ok(None)
    }
}

/// The controller's wake-up, apart from the controller: for a program that shares the
/// controller between threads behind a lock and must not hold the lock while it sleeps
/// (the Python package's `wait`, while other threads submit).
///
/// [`wait_for`](Self::wait_for) sleeps until the engine hands back a completion, as
/// [`Controller::wait`] does. The stream has one registration: use it from one thread at a
/// time (a second waiter takes the registration, and the first then sleeps until its
/// timeout).
#[derive(Clone, Debug)]
pub struct Wakeup {
    signal: crate::signal::Signal,
}

impl<P, R, H: crate::Home> Controller<P, R, H> {
    /// A handle on this stream's wake-up, for [`Wakeup::wait_for`].
    pub fn wakeup(&self) -> Wakeup {
        Wakeup {
            signal: self.signal.clone(),
        }
    }
}

impl Wakeup {
    /// Calls `ready` until it gives `Some`, sleeping between calls until the engine hands
    /// back a completion; gives `None` once `timeout` has passed (`None`: no limit).
    /// `ready` typically locks the controller, takes completions and unlocks.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use rtmix_core::{ChannelMap, Play, StreamCapacity, StreamConfig};
    /// let (ctl, mut engine) =
    ///     rtmix_core::open::<Vec<f32>, Vec<f32>>(StreamConfig::output(1), StreamCapacity::default()).unwrap();
    /// let ctl = Arc::new(Mutex::new(ctl));
    /// let id = ctl.lock().unwrap().play(Play::new(vec![0.5; 64], ChannelMap::new(&[0]).unwrap())).unwrap();
    /// let wakeup = ctl.lock().unwrap().wakeup();
    /// let audio = std::thread::spawn(move || {
    ///     let mut block = [0.0f32; 16];
    ///     for _ in 0..8 { engine.output.process(&mut block); }
    /// });
    /// let done = wakeup.wait_for(None, || ctl.lock().unwrap().take(id)).unwrap();
    /// assert_eq!(done.frames, 64);
    /// audio.join().unwrap();
    /// ```
    pub fn wait_for<T>(
        &self,
        timeout: Option<Duration>,
        mut ready: impl FnMut() -> Option<T>,
    ) -> Option<T> {
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            if let Some(done) = ready() {
                return Some(done);
            }
            self.signal.prepare_wait();
            // As in `wait_step`: a completion pushed before the announcement is seen here,
            // one pushed after it unparks us.
            if let Some(done) = ready() {
                self.signal.end_wait();
                return Some(done);
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left.is_some_and(|l| l.is_zero()) {
                self.signal.end_wait();
                return None;
            }
            self.signal.park(left);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    use std::vec;

    use crate::{ChannelMap, Play, StreamCapacity, StreamConfig};

    #[test]
    fn wakeup_returns_at_once_what_is_ready() {
        let (ctl, _engine) = crate::open::<std::vec::Vec<f32>, std::vec::Vec<f32>>(
            StreamConfig::output(1),
            StreamCapacity::default(),
        )
        .unwrap();
        let mut calls = 0;
        let got = ctl.wakeup().wait_for(None, || {
            calls += 1;
            Some(7)
        });
        assert_eq!((got, calls), (Some(7), 1));
    }

    #[test]
    fn wakeup_gives_up_after_its_timeout() {
        let (ctl, _engine) = crate::open::<std::vec::Vec<f32>, std::vec::Vec<f32>>(
            StreamConfig::output(1),
            StreamCapacity::default(),
        )
        .unwrap();
        let start = Instant::now();
        let mut calls = 0;
        let got = ctl
            .wakeup()
            .wait_for(Some(Duration::from_millis(30)), || -> Option<()> {
                calls += 1;
                None
            });
        assert_eq!(got, None);
        assert!(start.elapsed() >= Duration::from_millis(30));
        // Checked before and after announcing the wait, in every round.
        assert!(calls >= 2, "{calls}");
    }

    /// The engine, on another thread, wakes a `wait_for` that holds no lock on the
    /// controller while it sleeps: the controller stays free for others meanwhile.
    #[test]
    fn wakeup_is_woken_by_the_engine_while_the_controller_stays_free() {
        let (ctl, mut engine) = crate::open::<std::vec::Vec<f32>, std::vec::Vec<f32>>(
            StreamConfig::output(1),
            StreamCapacity::default(),
        )
        .unwrap();
        let ctl = Arc::new(Mutex::new(ctl));
        let map = ChannelMap::new(&[0]).unwrap();
        let id = ctl
            .lock()
            .unwrap()
            .play(Play::new(vec![0.5; 64], map.clone()))
            .unwrap();
        let wakeup = ctl.lock().unwrap().wakeup();
        let other = ctl.clone();
        let audio = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            // The waiter holds no lock: another request goes in meanwhile.
            other
                .lock()
                .unwrap()
                .play(Play::new(vec![0.25; 4], map))
                .unwrap();
            let mut block = [0.0f32; 16];
            for _ in 0..8 {
                engine.output.process(&mut block);
            }
        });
        let start = Instant::now();
        let done = wakeup
            .wait_for(Some(Duration::from_secs(20)), || {
                ctl.lock().unwrap().take(id)
            })
            .unwrap();
        assert_eq!(done.frames, 64);
        assert!(start.elapsed() < Duration::from_secs(10));
        audio.join().unwrap();
    }
}

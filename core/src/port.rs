//! The control side of one direction: which action slots are free, the mailbox of
//! completions that arrived but were not taken yet, and the queue ends to the engine half.
//!
//! The controller gives each admitted command a free slot, and frees it again only when
//! the caller takes (or forgets) the completion. The mailbox has one place per slot, so a
//! completion is stored in exactly one place once it has crossed the completion queue,
//! which therefore only needs to be as long as the completions that may be in transit
//! (`D`, small). Arrived completions are also threaded in arrival order, for
//! [`try_next`](crate::Controller::try_next).

use crate::action::{Done, Snapshot, StreamCounters};
use crate::command::{Command, NONE};
use crate::completion::{Counts, End};
use crate::home::{Home, Receiver, Sender};
use crate::meter::MeterBank;
use crate::slots::NIL;
use crate::{ActionKind, Error, StreamStats};

/// Stats fetches a direction admits at once: its snapshot queue holds this many.
pub(crate) const STATS_FETCHES: usize = 2;

/// What a slot holds, as the controller sees it.
#[derive(Debug)]
enum Held<B> {
    Free,
    /// The admitted action with this sequence number, whose completion has not arrived.
    Waiting(u64),
    /// Its completion, arrived and not taken yet.
    Arrived(Done<B>),
}

impl<B> Held<B> {
    /// The sequence number of the action that holds the slot, or [`NONE`].
    fn seq(&self) -> u64 {
        match self {
            Held::Free => NONE,
            Held::Waiting(seq) => *seq,
            Held::Arrived(done) => done.seq,
        }
    }
}

/// One slot as the controller sees it.
#[derive(Debug)]
pub(crate) struct Mail<B> {
    held: Held<B>,
    /// Neighbours in arrival order, while `done` is here.
    next: u16,
    prev: u16,
    /// Its completion is not wanted: drop it when it arrives, and free the slot.
    forget: bool,
}

impl<B> Mail<B> {
    pub(crate) const fn new() -> Self {
        Self {
            held: Held::Free,
            next: NIL,
            prev: NIL,
            forget: false,
        }
    }
}

/// The queue ends the control side of one direction holds.
pub(crate) struct PortEnds<B: 'static, H: Home> {
    pub(crate) commands: H::Tx<Command<B, H::Map>>,
    pub(crate) completions: H::Rx<Done<B>>,
    pub(crate) snapshots: H::Rx<Snapshot>,
}

/// The control side of one direction.
pub(crate) struct Port<B: 'static, H: Home> {
    ends: PortEnds<B, H>,
    mail: H::Array<Mail<B>>,
    /// Free slots, as a stack: `free[..free_len]`.
    free: H::Array<u16>,
    free_len: usize,
    /// Arrived completions, oldest first.
    first: u16,
    last: u16,
    /// Snapshots of stats fetches, until their completions are taken.
    snapshots: [Option<Snapshot>; STATS_FETCHES],
    stats_fetches: usize,
    pub(crate) meters: H::Shared<MeterBank<H::MeterSlots>>,
    pub(crate) channels: u16,
    /// What its transfers are: plays or records.
    transfer: ActionKind,
}

impl<B, H: Home> core::fmt::Debug for Port<B, H> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Port")
            .field("channels", &self.channels)
            .field("slots", &self.mail.len())
            .field("outstanding", &self.outstanding())
            .finish_non_exhaustive()
    }
}

impl<B, H: Home> Port<B, H> {
    pub(crate) fn new(
        ends: PortEnds<B, H>,
        mut mail: H::Array<Mail<B>>,
        mut free: H::Array<u16>,
        meters: H::Shared<MeterBank<H::MeterSlots>>,
        channels: u16,
        transfer: ActionKind,
    ) -> Self {
        for m in mail.iter_mut() {
            *m = Mail::new();
        }
        // Lowest slots first: a stream that holds few actions touches few slots.
        let n = free.len();
        for (i, f) in free.iter_mut().enumerate() {
            *f = (n - 1 - i) as u16;
        }
        Self {
            ends,
            mail,
            free,
            free_len: n,
            first: NIL,
            last: NIL,
            snapshots: [None; STATS_FETCHES],
            stats_fetches: 0,
            meters,
            channels,
            transfer,
        }
    }

    /// The number of slots.
    pub(crate) fn slots(&self) -> usize {
        self.mail.len()
    }

    /// Admitted actions whose completion has not been taken.
    pub(crate) fn outstanding(&self) -> usize {
        self.mail.len() - self.free_len
    }

    /// Checks that `others` more commands, `cancels` more cancels and `stats` more stats
    /// fetches (counted in `others` too) can be admitted and queued. The last slot is
    /// kept for cancels, so a stream whose slots are all taken by future actions can
    /// still be cut.
    /// (Completions that arrived are collected first: a forgotten one frees its slot.)
    pub(crate) fn room(
        &mut self,
        others: usize,
        cancels: usize,
        stats: usize,
    ) -> Result<(), Error> {
        self.collect();
        let n = others + cancels;
        if n == 0 {
            return Ok(());
        }
        let (held, slots) = (self.outstanding(), self.mail.len());
        if held + n > slots || (others > 0 && held + others > slots - 1) {
            return Err(Error::Capacity { slots });
        }
        if self.stats_fetches + stats > STATS_FETCHES {
            return Err(Error::StatsBusy {
                fetches: STATS_FETCHES,
            });
        }
        if self.ends.commands.room() < n {
            return Err(Error::QueueFull);
        }
        Ok(())
    }

    /// Gives the action `seq` a free slot (`room` said there is one).
    pub(crate) fn assign(&mut self, seq: u64) -> u16 {
        // `room` admitted it, so a slot is free.
        self.free_len -= 1;
        let slot = self.free[self.free_len];
        self.mail[usize::from(slot)].held = Held::Waiting(seq);
        slot
    }

    /// Sends a command for which `room` said yes and `assign` gave a slot. This side is
    /// the queue's only sender, so the room `room` saw is still there and the send cannot
    /// fail; if it ever did, the command completes at once as
    /// [`EndReason::Invalid`], its buffer handed back: nothing is lost.
    pub(crate) fn send(&mut self, cmd: Command<B, H::Map>, stats: bool) {
        if stats {
            self.stats_fetches += 1;
        }
        if let Err(cmd) = self.ends.commands.send(cmd) {
            if stats {
                self.stats_fetches -= 1;
            }
            let kind = cmd.kind(self.transfer);
            let done = Done {
                seq: cmd.seq,
                slot: cmd.slot,
                kind,
                when: cmd.when,
                late_by: 0,
                actual_start: NONE,
                frames: 0,
                skipped: 0,
                ended_at: NONE,
                end: End::Invalid,
                counts: Counts::new(),
                stream: StreamCounters::default(),
                buffer: None,
            };
            let buffer = cmd.into_buffer();
            self.arrive(Done { buffer, ..done });
        }
    }

    /// Moves what crossed the queues into the mailbox.
    pub(crate) fn collect(&mut self) {
        self.collect_snapshots();
        while let Some(done) = self.ends.completions.receive() {
            self.arrive(done);
        }
    }

    /// Moves the snapshots that crossed their queue into the mailbox.
    fn collect_snapshots(&mut self) {
        while let Some(snapshot) = self.ends.snapshots.receive() {
            if let Some(place) = self.snapshots.iter_mut().find(|s| s.is_none()) {
                *place = Some(snapshot);
            }
        }
    }

    /// Files an arrived completion under its slot.
    fn arrive(&mut self, done: Done<B>) {
        let slot = done.slot;
        let last = self.last;
        let Some(m) = self.mail.get_mut(usize::from(slot)) else {
            return;
        };
        if !matches!(m.held, Held::Waiting(seq) if seq == done.seq) {
            return; // not one of ours: cannot happen
        }
        if m.forget {
            let (kind, seq) = (done.kind, done.seq);
            drop(done);
            self.drop_snapshot(seq);
            self.free(slot, kind);
            return;
        }
        m.held = Held::Arrived(done);
        m.prev = last;
        m.next = NIL;
        if last == NIL {
            self.first = slot;
        } else {
            self.mail[usize::from(last)].next = slot;
        }
        self.last = slot;
    }

    /// Frees `slot`, whose completion (of kind `kind`) was taken or dropped.
    fn free(&mut self, slot: u16, kind: ActionKind) {
        let m = &mut self.mail[usize::from(slot)];
        m.held = Held::Free;
        m.forget = false;
        if kind == ActionKind::Stats {
            self.stats_fetches -= 1;
        }
        self.free[self.free_len] = slot;
        self.free_len += 1;
    }

    /// Takes the completion in `slot` out of the mailbox, with the snapshot of a stats
    /// fetch, and frees the slot.
    fn take_at(&mut self, slot: u16) -> Option<(Done<B>, Option<StreamStats>)> {
        let m = self.mail.get_mut(usize::from(slot))?;
        if !matches!(m.held, Held::Arrived(_)) {
            return None;
        }
        let Held::Arrived(done) = core::mem::replace(&mut m.held, Held::Free) else {
            return None;
        };
        let (prev, next) = (m.prev, m.next);
        if prev == NIL {
            self.first = next;
        } else {
            self.mail[usize::from(prev)].next = next;
        }
        if next == NIL {
            self.last = prev;
        } else {
            self.mail[usize::from(next)].prev = prev;
        }
        let stats = self.drop_snapshot(done.seq);
        self.free(slot, done.kind);
        Some((done, stats))
    }

    /// Takes the snapshot of the stats fetch `seq` out, if it is here. The engine sends it
    /// before the completion, but this side may have looked at the snapshot queue just
    /// before both came: then it is in the queue now.
    fn drop_snapshot(&mut self, seq: u64) -> Option<StreamStats> {
        let find = |snapshots: &mut [Option<Snapshot>]| {
            snapshots
                .iter_mut()
                .find(|s| s.is_some_and(|s| s.seq == seq))
                .and_then(Option::take)
                .map(|s| s.stats)
        };
        if let Some(stats) = find(&mut self.snapshots) {
            return Some(stats);
        }
        self.collect_snapshots();
        find(&mut self.snapshots)
    }

    /// The completion of the action `seq` in `slot`, if it has arrived.
    pub(crate) fn take(&mut self, slot: u16, seq: u64) -> Option<(Done<B>, Option<StreamStats>)> {
        self.collect();
        if !self.holds(slot, seq) {
            return None;
        }
        self.take_at(slot)
    }

    /// The oldest arrived completion, if any.
    pub(crate) fn next(&mut self) -> Option<(Done<B>, Option<StreamStats>)> {
        self.collect();
        self.take_at(self.first)
    }

    /// True while the action `seq` holds `slot` (its completion not taken).
    pub(crate) fn holds(&self, slot: u16, seq: u64) -> bool {
        self.mail
            .get(usize::from(slot))
            .is_some_and(|m| m.held.seq() == seq)
    }

    /// The caller does not want the completion of the action `seq` in `slot`: drop it
    /// now if it has arrived, else when it does. False if the slot is not its.
    pub(crate) fn forget(&mut self, slot: u16, seq: u64) -> bool {
        self.collect();
        if !self.holds(slot, seq) {
            return false;
        }
        if let Some((done, _)) = self.take_at(slot) {
            drop(done);
        } else {
            self.mail[usize::from(slot)].forget = true;
        }
        true
    }
}

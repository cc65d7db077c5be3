//! The action slots of one engine half, and the lists that order them.
//!
//! The controller gives every command a slot, and gives a slot again only once the
//! completion of its last action has been taken. So the engine never searches: a command,
//! a cancel's target and the action an [`At::After`](crate::At::After) follows are all
//! found by slot, and checked by sequence number. An action that has left keeps its
//! sequence number and stop frame in its slot until the slot is given again, for a follower
//! that arrives after it left.
//!
//! Every list is threaded through the slots, so the half holds nothing whose size depends
//! on what is scheduled beyond the slots and the pending heap, and no step of a block
//! walks more than what it works on:
//! * `pending`: a binary heap by (frame, sequence number): the next due action is on top,
//!   actions waiting for the future cost nothing per block;
//! * `active`: by sequence number (submission order, which fixes the summation order);
//! * `ended`: in the order they ended, until the completion queue has room;
//! * `staged`: group members until their group is complete;
//! * per slot, the actions that follow it ([`At::After`](crate::At::After)), and a queue of
//!   actions whose followers must be retimed.

use crate::action::Action;
use crate::command::NONE;

/// "No slot" in a link.
pub(crate) const NIL: u16 = u16::MAX;

/// The most slots a half can have: every slot index but [`NIL`].
pub(crate) const MAX_SLOTS: usize = NIL as usize;

/// What a slot holds. Slots hold actions by value (there is no `alloc` to box them).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
enum Held<B, Mp> {
    Empty,
    Action(Action<B, Mp>),
    /// Its action has left; it stopped at this frame.
    Left(u64),
}

impl<B, Mp> Held<B, Mp> {
    fn action(&self) -> Option<&Action<B, Mp>> {
        match self {
            Held::Action(a) => Some(a),
            _ => None,
        }
    }

    fn action_mut(&mut self) -> Option<&mut Action<B, Mp>> {
        match self {
            Held::Action(a) => Some(a),
            _ => None,
        }
    }
}

/// One action slot.
///
/// `repr(C)`, its links first: the block's walk of the active list reads `next` and the
/// action's first fields together, in one cache line (docs/performance.md).
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Slot<B, Mp> {
    /// Its neighbours in `staged`, `active` or `ended` (it is in at most one).
    next: u16,
    prev: u16,
    /// Its place in the pending heap, or [`NIL`].
    heap: u16,
    /// The first of the actions that follow it, and the next follower of the action it
    /// follows (the slot named by its `When::After`), while it is listed there.
    followers: u16,
    held: Held<B, Mp>,
    /// The sequence number of the action the slot holds or last held ([`NONE`]: never
    /// used).
    pub(crate) seq: u64,
    next_follower: u16,
    listed_as_follower: bool,
    /// Queued to have its followers retimed, and the next slot in that queue.
    settling: bool,
    next_settle: u16,
}

impl<B, Mp> Slot<B, Mp> {
    pub(crate) const fn new() -> Self {
        Self {
            held: Held::Empty,
            seq: NONE,
            next: NIL,
            prev: NIL,
            heap: NIL,
            followers: NIL,
            next_follower: NIL,
            listed_as_follower: false,
            settling: false,
            next_settle: NIL,
        }
    }
}

/// Head and tail of a list threaded through the slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ends {
    pub(crate) head: u16,
    pub(crate) tail: u16,
}

impl Ends {
    pub(crate) const EMPTY: Self = Self {
        head: NIL,
        tail: NIL,
    };
}

/// The slots and lists of one half over borrowed or owned storage (`[Slot]` and `[u16]`
/// of equal length).
#[derive(Debug)]
pub(crate) struct Slots<S, H> {
    pub(crate) each: S,
    heap: H,
    heap_len: usize,
    pub(crate) active: Ends,
    pub(crate) ended: Ends,
    pub(crate) staged: Ends,
    settle: Ends,
    /// Slots holding an action, and slots on the active list (`u16`: there are at most
    /// [`MAX_SLOTS`]; small, for the RAM budgets of docs/embedded.md).
    held: u16,
    active_len: u16,
}

impl<B, Mp, S, H> Slots<S, H>
where
    S: core::ops::DerefMut<Target = [Slot<B, Mp>]>,
    H: core::ops::DerefMut<Target = [u16]>,
{
    pub(crate) fn new(mut slots: S, heap: H) -> Self {
        for slot in slots.iter_mut() {
            *slot = Slot::new();
        }
        Self {
            each: slots,
            heap,
            heap_len: 0,
            active: Ends::EMPTY,
            ended: Ends::EMPTY,
            staged: Ends::EMPTY,
            settle: Ends::EMPTY,
            held: 0,
            active_len: 0,
        }
    }

    /// The number of slots.
    pub(crate) fn len(&self) -> usize {
        self.each.len()
    }

    /// Slots holding an action.
    pub(crate) fn held(&self) -> usize {
        usize::from(self.held)
    }

    /// Slots on the active list.
    pub(crate) fn active_len(&self) -> usize {
        usize::from(self.active_len)
    }

    /// The action in `slot`, if any.
    #[inline]
    pub(crate) fn get(&self, slot: u16) -> Option<&Action<B, Mp>> {
        self.each.get(usize::from(slot))?.held.action()
    }

    /// The action in `slot`, if any.
    #[inline]
    pub(crate) fn get_mut(&mut self, slot: u16) -> Option<&mut Action<B, Mp>> {
        self.each.get_mut(usize::from(slot))?.held.action_mut()
    }

    /// The action in `slot` if it is the one with sequence number `seq`.
    pub(crate) fn find(&mut self, slot: u16, seq: u64) -> Option<&mut Action<B, Mp>> {
        let s = self.each.get_mut(usize::from(slot))?;
        let seq_matches = s.seq == seq;
        s.held.action_mut().filter(|_| seq_matches)
    }

    /// The sequence number of the action `slot` holds or last held.
    pub(crate) fn seq(&self, slot: u16) -> u64 {
        self.each.get(usize::from(slot)).map_or(NONE, |s| s.seq)
    }

    /// The slot's last occupant, if it is `seq` and has left: where it stopped.
    pub(crate) fn left_at(&self, slot: u16, seq: u64) -> Option<u64> {
        let s = self.each.get(usize::from(slot))?;
        match s.held {
            Held::Left(at) if s.seq == seq && at != NONE => Some(at),
            _ => None,
        }
    }

    /// Puts `action` into `slot`; false (and the action dropped back to the caller) if the
    /// slot does not exist or still holds one.
    pub(crate) fn put(
        &mut self,
        slot: u16,
        seq: u64,
        action: Action<B, Mp>,
    ) -> Result<(), Action<B, Mp>> {
        let Some(s) = self.each.get_mut(usize::from(slot)) else {
            return Err(action);
        };
        if matches!(s.held, Held::Action(_)) {
            return Err(action);
        }
        // Whatever its last occupant left behind goes with it.
        let followers = s.followers;
        *s = Slot::new();
        s.seq = seq;
        s.held = Held::Action(action);
        self.held += 1;
        self.forget_followers(followers);
        Ok(())
    }

    /// Takes the action out of `slot` (it has left), keeping its number and stop frame.
    pub(crate) fn take(&mut self, slot: u16) -> Option<Action<B, Mp>> {
        self.unlist_follower(slot);
        let s = self.each.get_mut(usize::from(slot))?;
        if !matches!(s.held, Held::Action(_)) {
            return None;
        }
        let Held::Action(action) = core::mem::replace(&mut s.held, Held::Empty) else {
            return None;
        };
        s.held = Held::Left(action.ended_at);
        self.held -= 1;
        Some(action)
    }

    /// Marks every follower in the chain from `first` as no longer listed.
    fn forget_followers(&mut self, mut first: u16) {
        while let Some(s) = self.each.get_mut(usize::from(first)) {
            s.listed_as_follower = false;
            first = core::mem::replace(&mut s.next_follower, NIL);
        }
    }

    // Doubly linked lists (`active`, and the singly used `ended` and `staged`).

    fn ends_mut(&mut self, list: List) -> &mut Ends {
        match list {
            List::Active => &mut self.active,
            List::Ended => &mut self.ended,
            List::Staged => &mut self.staged,
        }
    }

    /// Appends `slot` to `list`.
    pub(crate) fn push_back(&mut self, list: List, slot: u16) {
        let tail = self.ends_mut(list).tail;
        self.insert_after(list, tail, slot);
    }

    /// Inserts `slot` after `before` ([`NIL`]: at the head).
    fn insert_after(&mut self, list: List, before: u16, slot: u16) {
        let next = if before == NIL {
            self.ends_mut(list).head
        } else {
            self.each[usize::from(before)].next
        };
        {
            let s = &mut self.each[usize::from(slot)];
            s.prev = before;
            s.next = next;
        }
        if before == NIL {
            self.ends_mut(list).head = slot;
        } else {
            self.each[usize::from(before)].next = slot;
        }
        if next == NIL {
            self.ends_mut(list).tail = slot;
        } else {
            self.each[usize::from(next)].prev = slot;
        }
        if list == List::Active {
            self.active_len += 1;
        }
    }

    /// Removes `slot` from `list`.
    pub(crate) fn unlink(&mut self, list: List, slot: u16) {
        let (prev, next) = {
            let s = &mut self.each[usize::from(slot)];
            (
                core::mem::replace(&mut s.prev, NIL),
                core::mem::replace(&mut s.next, NIL),
            )
        };
        if prev == NIL {
            self.ends_mut(list).head = next;
        } else {
            self.each[usize::from(prev)].next = next;
        }
        if next == NIL {
            self.ends_mut(list).tail = prev;
        } else {
            self.each[usize::from(next)].prev = prev;
        }
        if list == List::Active {
            self.active_len -= 1;
        }
    }

    /// The slot after `slot` in its list.
    #[inline]
    pub(crate) fn next(&self, slot: u16) -> u16 {
        self.each[usize::from(slot)].next
    }

    /// The `N` slots from `slot` on along its list, what they hold (borrowed together),
    /// and the slot after them; `None` if the list ends before.
    #[inline]
    #[allow(clippy::type_complexity)]
    pub(crate) fn run_of<const N: usize>(
        &mut self,
        slot: u16,
    ) -> Option<([u16; N], [Option<&mut Action<B, Mp>>; N], u16)> {
        let mut run = [NIL; N];
        let mut s = slot;
        for i in &mut run {
            *i = s;
            s = self.each.get(usize::from(s))?.next;
        }
        // Distinct, since a list never holds a slot twice.
        let slots = self.each.get_disjoint_mut(run.map(usize::from)).ok()?;
        Some((run, slots.map(|s| s.held.action_mut()), s))
    }

    /// Removes and returns the head of `list`.
    pub(crate) fn pop_front(&mut self, list: List) -> Option<u16> {
        let head = self.ends_mut(list).head;
        if head == NIL {
            return None;
        }
        self.unlink(list, head);
        Some(head)
    }

    /// Adds `slot` to the active list in sequence order. New actions usually have the
    /// highest number, so the search starts from the tail.
    pub(crate) fn activate(&mut self, slot: u16) {
        let seq = self.each[usize::from(slot)].seq;
        let mut before = self.active.tail;
        while before != NIL && self.each[usize::from(before)].seq > seq {
            before = self.each[usize::from(before)].prev;
        }
        self.insert_after(List::Active, before, slot);
    }

    // The pending heap, ordered by (origin, seq).

    fn key(&self, slot: u16) -> (u64, u64) {
        let s = &self.each[usize::from(slot)];
        (s.held.action().map_or(u64::MAX, |a| a.origin), s.seq)
    }

    fn heap_set(&mut self, at: usize, slot: u16) {
        self.heap[at] = slot;
        self.each[usize::from(slot)].heap = at as u16;
    }

    fn sift_up(&mut self, mut at: usize) {
        let slot = self.heap[at];
        let key = self.key(slot);
        while at > 0 {
            let parent = (at - 1) / 2;
            if self.key(self.heap[parent]) <= key {
                break;
            }
            self.heap_set(at, self.heap[parent]);
            at = parent;
        }
        self.heap_set(at, slot);
    }

    fn sift_down(&mut self, mut at: usize) {
        let slot = self.heap[at];
        let key = self.key(slot);
        loop {
            let left = 2 * at + 1;
            if left >= self.heap_len {
                break;
            }
            let right = left + 1;
            let child = if right < self.heap_len
                && self.key(self.heap[right]) < self.key(self.heap[left])
            {
                right
            } else {
                left
            };
            if key <= self.key(self.heap[child]) {
                break;
            }
            self.heap_set(at, self.heap[child]);
            at = child;
        }
        self.heap_set(at, slot);
    }

    /// Adds `slot` to the pending heap by its action's origin.
    pub(crate) fn schedule(&mut self, slot: u16) {
        let at = self.heap_len;
        self.heap_len += 1;
        self.heap_set(at, slot);
        self.sift_up(at);
    }

    /// The next due action: its slot.
    #[inline]
    pub(crate) fn next_due(&self) -> Option<u16> {
        (self.heap_len > 0).then(|| self.heap[0])
    }

    /// Removes `slot` from the pending heap (a no-op if it is not there).
    pub(crate) fn unschedule(&mut self, slot: u16) {
        let at = self.each[usize::from(slot)].heap;
        if at == NIL {
            return;
        }
        let at = usize::from(at);
        self.each[usize::from(slot)].heap = NIL;
        self.heap_len -= 1;
        if at == self.heap_len {
            return;
        }
        let last = self.heap[self.heap_len];
        self.heap_set(at, last);
        self.sift_down(at);
        self.sift_up(usize::from(self.each[usize::from(last)].heap));
    }

    /// Actions waiting for their frame.
    pub(crate) fn pending(&self) -> usize {
        self.heap_len
    }

    // Followers.

    /// Lists `slot` as a follower of `target` (which must hold an action).
    pub(crate) fn follow(&mut self, slot: u16, target: u16) {
        let first = core::mem::replace(&mut self.each[usize::from(target)].followers, slot);
        let s = &mut self.each[usize::from(slot)];
        s.next_follower = first;
        s.listed_as_follower = true;
    }

    /// The first follower of `target`, and the follower after `slot`.
    pub(crate) fn first_follower(&self, target: u16) -> u16 {
        self.each[usize::from(target)].followers
    }

    pub(crate) fn next_follower(&self, slot: u16) -> u16 {
        self.each[usize::from(slot)].next_follower
    }

    /// Takes `slot` out of the follower list it is in, if any (when it leaves).
    fn unlist_follower(&mut self, slot: u16) {
        let Some(s) = self.each.get(usize::from(slot)) else {
            return;
        };
        let target = match (s.held.action(), s.listed_as_follower) {
            (Some(a), true) => a.after().map(|t| t.slot),
            _ => None,
        };
        let Some(target) = target else {
            return;
        };
        let next = self.each[usize::from(slot)].next_follower;
        let mut at = target;
        let mut cur = self.each[usize::from(target)].followers;
        let mut first = true;
        while cur != NIL {
            if cur == slot {
                if first {
                    self.each[usize::from(at)].followers = next;
                } else {
                    self.each[usize::from(at)].next_follower = next;
                }
                break;
            }
            at = cur;
            first = false;
            cur = self.each[usize::from(cur)].next_follower;
        }
        let s = &mut self.each[usize::from(slot)];
        s.listed_as_follower = false;
        s.next_follower = NIL;
    }

    // The queue of actions whose followers must be retimed.

    /// Queues `slot` (its end moved or became known) for its followers to be retimed.
    pub(crate) fn queue_settle(&mut self, slot: u16) {
        if self.each[usize::from(slot)].followers == NIL {
            return; // nothing follows it: nothing to do
        }
        let s = &mut self.each[usize::from(slot)];
        if s.settling {
            return;
        }
        s.settling = true;
        s.next_settle = NIL;
        if self.settle.tail == NIL {
            self.settle.head = slot;
        } else {
            self.each[usize::from(self.settle.tail)].next_settle = slot;
        }
        self.settle.tail = slot;
    }

    /// The next slot whose followers must be retimed.
    pub(crate) fn next_settle(&mut self) -> Option<u16> {
        let head = self.settle.head;
        if head == NIL {
            return None;
        }
        let s = &mut self.each[usize::from(head)];
        s.settling = false;
        self.settle.head = core::mem::replace(&mut s.next_settle, NIL);
        if self.settle.head == NIL {
            self.settle.tail = NIL;
        }
        Some(head)
    }

    /// Empties every list and the heap, keeping what the slots hold (for `stop`).
    pub(crate) fn clear_lists(&mut self) {
        for at in 0..self.heap_len {
            let slot = self.heap[at];
            self.each[usize::from(slot)].heap = NIL;
        }
        self.heap_len = 0;
        for list in [List::Active, List::Staged] {
            while self.pop_front(list).is_some() {}
        }
    }
}

/// The lists threaded through the slots' `next`/`prev` links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum List {
    Active,
    Ended,
    Staged,
}

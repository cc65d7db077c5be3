//! A global allocator for tests that fails on any allocation or free made while armed.
//!
//! Install it in a test binary with
//! `#[global_allocator] static A: GuardedAlloc = GuardedAlloc;`, then wrap the audio-side
//! code in [`forbid_alloc`]. Arming is per thread, so the test harness's other threads
//! are not affected.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    /// Per thread, so tests running in parallel cannot blame each other.
    static VIOLATIONS: Cell<usize> = const { Cell::new(0) };
}

/// The system allocator, counting every allocation, reallocation and free made on a
/// thread while [`forbid_alloc`] runs there.
#[derive(Debug)]
pub struct GuardedAlloc;

fn note() {
    // `try_with`: the thread-local may be gone during thread teardown.
    if ARMED.try_with(Cell::get).unwrap_or(false) {
        let _ = VIOLATIONS.try_with(|v| v.set(v.get() + 1));
    }
}

// `GlobalAlloc` is an unsafe trait: a counting allocator must implement it.
#[allow(unsafe_code)]
// SAFETY: every method forwards to `System` unchanged; the counting touches only
// const-initialised thread-locals, which do not allocate.
unsafe impl GlobalAlloc for GuardedAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` and returns its result with the number of allocations and frees it made on
/// this thread (0 is the only passing figure for audio code).
///
/// Only meaningful in a binary whose global allocator is [`GuardedAlloc`].
pub fn forbid_alloc<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = VIOLATIONS.with(Cell::get);
    ARMED.with(|a| a.set(true));
    let value = f();
    ARMED.with(|a| a.set(false));
    (value, VIOLATIONS.with(Cell::get) - before)
}

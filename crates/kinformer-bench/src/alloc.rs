//! A counting global allocator: bytes currently allocated and the peak, split by domain.
//!
//! The fake API server runs in the same process as the client it serves, so a process-wide
//! figure would mix the server's objects (held as `serde_json::Value`, several times their
//! JSON size) with the client's cache. Every thread therefore carries a [`Domain`]: the
//! server's runtime threads and the thread that writes events count as [`Domain::Server`],
//! everything else as [`Domain::Client`]. A block freed by another domain than the one that
//! allocated it is subtracted from the freeing domain; the two only exchange bytes through
//! the loopback socket, so the drift this allows is small (it is why figures are deltas taken
//! around a phase, never absolute values).

// A global allocator is an `unsafe impl`; it only forwards to `System` and counts sizes.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};

/// Who an allocation is charged to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// The client under test: decoder, reflector, queue, cache, handler.
    Client = 0,
    /// The fake API server and the thread feeding it events.
    Server = 1,
}

thread_local! {
    static DOMAIN: Cell<u8> = const { Cell::new(0) };
}

static CURRENT: [AtomicIsize; 2] = [AtomicIsize::new(0), AtomicIsize::new(0)];
static PEAK: [AtomicIsize; 2] = [AtomicIsize::new(0), AtomicIsize::new(0)];

/// Charges the calling thread's future allocations to `domain`.
pub fn set_thread_domain(domain: Domain) {
    DOMAIN.with(|cell| cell.set(domain as u8));
}

/// Runs `f` with the calling thread charged to `domain`, then restores the previous domain.
pub fn with_domain<T>(domain: Domain, f: impl FnOnce() -> T) -> T {
    let previous = DOMAIN.with(Cell::get);
    DOMAIN.with(|cell| cell.set(domain as u8));
    let result = f();
    DOMAIN.with(|cell| cell.set(previous));
    result
}

/// Bytes currently allocated by `domain` (may dip below zero by the cross-domain drift).
pub fn current(domain: Domain) -> isize {
    CURRENT[domain as usize].load(Ordering::Relaxed)
}

/// The highest [`current`] value of `domain` since the last [`reset_peak`].
pub fn peak(domain: Domain) -> isize {
    PEAK[domain as usize].load(Ordering::Relaxed)
}

/// Starts a new peak measurement for `domain` from its current value.
pub fn reset_peak(domain: Domain) {
    let index = domain as usize;
    PEAK[index].store(CURRENT[index].load(Ordering::Relaxed), Ordering::Relaxed);
}

fn thread_domain() -> usize {
    // `try_with` fails only while the thread is being torn down; charge the client then.
    DOMAIN.try_with(|cell| cell.get() as usize).unwrap_or(0)
}

fn record_alloc(size: usize) {
    let index = thread_domain();
    let now = CURRENT[index].fetch_add(size as isize, Ordering::Relaxed) + size as isize;
    PEAK[index].fetch_max(now, Ordering::Relaxed);
}

fn record_free(size: usize) {
    CURRENT[thread_domain()].fetch_sub(size as isize, Ordering::Relaxed);
}

/// The allocator: `System` plus two relaxed atomic updates per call.
pub struct CountingAllocator;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counters
// are plain atomics and never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            record_alloc(layout.size());
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            record_alloc(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: `pointer` was allocated by `System` (through us) with `layout`.
        unsafe { System.dealloc(pointer, layout) };
        record_free(layout.size());
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `pointer` was allocated by `System` (through us) with `layout`.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            record_free(layout.size());
            record_alloc(new_size);
        }
        moved
    }
}

/// Serialises tests that read the global counters: a test freeing memory on another thread
/// would otherwise disturb a neighbour's before/after difference.
#[cfg(test)]
pub(crate) static COUNTER_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[cfg(test)]
pub(crate) fn counter_test_guard() -> std::sync::MutexGuard<'static, ()> {
    COUNTER_TESTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retained_allocation_shows_in_the_current_and_peak_counts() {
        // Only these tests use the server domain in the test process, and they take turns.
        let _guard = counter_test_guard();
        let before = current(Domain::Server);
        reset_peak(Domain::Server);
        let block = with_domain(Domain::Server, || Vec::<u8>::with_capacity(8 << 20));
        let during = current(Domain::Server);
        assert_eq!(during - before, 8 << 20);
        assert_eq!(peak(Domain::Server), during);
        with_domain(Domain::Server, || drop(block));
        assert_eq!(current(Domain::Server), before);
        assert_eq!(peak(Domain::Server), during);
    }

    #[test]
    fn allocations_inside_with_domain_are_charged_to_that_domain() {
        let _guard = counter_test_guard();
        let before = current(Domain::Server);
        let block = with_domain(Domain::Server, || Vec::<u8>::with_capacity(4 << 20));
        assert!(current(Domain::Server) - before >= 4 << 20);
        // Freed by a client thread: the server keeps the charge (the documented drift).
        drop(block);
        assert!(current(Domain::Server) - before >= 4 << 20);
    }
}

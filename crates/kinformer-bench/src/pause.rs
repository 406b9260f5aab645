//! Pausing the client's runtime: one blocking task per worker thread holds every worker until
//! released, so that the server can queue a backlog of watch events the client then follows
//! as fast as it can, without a producer competing for the two cores.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

/// Workers currently held and whether they may go.
#[derive(Debug, Default)]
struct Gate {
    entered: usize,
    released: bool,
}

/// A held runtime; [`Pause::release`] (or dropping it) lets it run again.
#[derive(Debug)]
pub struct Pause {
    gate: Arc<(Mutex<Gate>, Condvar)>,
    /// How many workers were actually held (all of them unless the wait timed out).
    pub held: usize,
}

impl Pause {
    /// Blocks `workers` worker threads of `runtime`; waits up to `wait` for all to be held.
    pub fn engage(runtime: &Runtime, workers: usize, wait: Duration) -> Pause {
        let gate = Arc::new((Mutex::new(Gate::default()), Condvar::new()));
        for _ in 0..workers {
            let gate = gate.clone();
            // Deliberately blocking inside a task: it is what holds the worker.
            runtime.spawn(async move {
                let (lock, signal) = &*gate;
                let Ok(mut state) = lock.lock() else {
                    return;
                };
                state.entered += 1;
                signal.notify_all();
                while !state.released {
                    state = match signal.wait(state) {
                        Ok(state) => state,
                        Err(_) => return,
                    };
                }
            });
        }
        let deadline = Instant::now() + wait;
        let (lock, signal) = &*gate;
        let held = match lock.lock() {
            Ok(state) => {
                let left = deadline.saturating_duration_since(Instant::now());
                match signal.wait_timeout_while(state, left, |state| state.entered < workers) {
                    Ok((state, _)) => state.entered,
                    Err(_) => 0,
                }
            }
            Err(_) => 0,
        };
        Pause { gate, held }
    }

    /// Lets the held workers go.
    pub fn release(self) {
        drop(self);
    }
}

impl Drop for Pause {
    fn drop(&mut self) {
        let (lock, signal) = &*self.gate;
        if let Ok(mut state) = lock.lock() {
            state.released = true;
        }
        signal.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn a_paused_runtime_runs_nothing_until_released() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let pause = Pause::engage(&runtime, 2, Duration::from_secs(10));
        assert_eq!(pause.held, 2);
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        let task = runtime.spawn(async move { flag.store(true, Ordering::SeqCst) });
        std::thread::sleep(Duration::from_millis(100));
        assert!(!ran.load(Ordering::SeqCst));
        pause.release();
        runtime.block_on(task).unwrap();
        assert!(ran.load(Ordering::SeqCst));
    }
}

//! The browser's background threads. Each takes jobs from its own channel
//! (the newest request wins where only the newest matters) and reports
//! through the one event channel. A panic in a job is caught where it
//! happens and becomes a message; the worker, the app and the terminal go on.

pub mod peaks;
pub mod store;
pub mod view;

use std::sync::mpsc::{Receiver, TryRecvError};

/// Runs `job`, turning a panic into an error message.
pub fn catch<T>(what: &str, job: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).map_err(|p| {
        let why = crate::playback::decode::panic_text(&*p);
        tracing::error!("{what} failed: {why}");
        format!("{what} failed: {why}")
    })
}

/// The newest of the jobs waiting (older ones are dropped); `None` when the
/// sender is gone.
pub fn newest<T>(rx: &Receiver<T>, first: T) -> Option<T> {
    let mut job = first;
    loop {
        match rx.try_recv() {
            Ok(j) => job = j,
            Err(TryRecvError::Empty) => return Some(job),
            Err(TryRecvError::Disconnected) => return None,
        }
    }
}

/// Starts a named thread.
pub fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new().name(name.into()).spawn(f) {
        tracing::error!("cannot start the {name} thread: {e}");
    }
}

/// Starts a named thread for background work, at a lower priority: on a
/// machine with few cores, a sort or a reload never takes the CPU from the
/// thread that answers keys.
pub fn spawn_background(name: &str, f: impl FnOnce() + Send + 'static) {
    spawn(name, move || {
        // SAFETY: raises this thread's own nice value; no privileges needed.
        unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
        }
        f()
    })
}

//! Fault injection for tests of genhist's robustness, from
//! `GENHIST_FAULT` (names separated by commas):
//!
//! - `NAME`: the place [`point`]`(NAME)` panics (a worker's panic stays in
//!   its worker: the take says "cannot read: …", the app goes on);
//! - `kill@NAME`: the process kills itself with SIGKILL at
//!   [`kill_point`]`(NAME)`, so a test reaches a crash point exactly, not
//!   by timing;
//! - `enospc@NAME`: [`io_point`]`(NAME)` fails with "No space left on
//!   device", as a full disk would there.
//!
//! Without the variable each costs one cached lookup.

use std::sync::OnceLock;

fn faults() -> &'static [String] {
    static F: OnceLock<Vec<String>> = OnceLock::new();
    F.get_or_init(|| {
        std::env::var("GENHIST_FAULT")
            .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default()
    })
}

fn asked(kind: &str, name: &str) -> bool {
    faults().iter().any(|f| match f.split_once('@') {
        Some((k, n)) => k == kind && n == name,
        None => kind.is_empty() && f == name,
    })
}

/// Panics when `name` is among the faults asked for.
pub(crate) fn point(name: &str) {
    if asked("", name) {
        panic!("injected fault at {name} (GENHIST_FAULT)");
    }
}

/// Dies at once (SIGKILL: no destructor, no flush) when `kill@name` is
/// asked for.
pub(crate) fn kill_point(name: &str) {
    if asked("kill", name) {
        crate::sys::kill_self();
    }
}

/// Fails as a full disk would when `enospc@name` is asked for.
pub(crate) fn io_point(name: &str) -> std::io::Result<()> {
    if asked("enospc", name) {
        return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
    }
    Ok(())
}

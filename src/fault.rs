//! Fault injection for tests of genhist's robustness: with
//! `GENHIST_FAULT=peaks,player` (names separated by commas), the named
//! places panic, so a test can show that a worker's panic stays in its
//! worker (the take says "cannot read: …", the app and the terminal go on).
//! Without the variable this costs one cached lookup.

use std::sync::OnceLock;

fn faults() -> &'static [String] {
    static F: OnceLock<Vec<String>> = OnceLock::new();
    F.get_or_init(|| {
        std::env::var("GENHIST_FAULT")
            .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
            .unwrap_or_default()
    })
}

/// Panics when `name` is among the faults asked for.
pub fn point(name: &str) {
    if faults().iter().any(|f| f == name) {
        panic!("injected fault at {name} (GENHIST_FAULT)");
    }
}

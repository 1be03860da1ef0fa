//! Fault injection for tests of genhist's robustness, from
//! `GENHIST_FAULT` (names separated by commas):
//!
//! - `NAME`: the place [`point`]`(NAME)` panics (a worker's panic stays in
//!   its worker: the take says "cannot read: …", the app goes on);
//! - `kill@NAME`: the process kills itself with SIGKILL at
//!   [`kill_point`]`(NAME)`, so a test reaches a crash point exactly, not
//!   by timing (`kill@NAME#3`: the third time it gets there);
//! - `enospc@NAME`: [`io_point`]`(NAME)` fails with "No space left on
//!   device", as a full disk would there;
//! - `writer@NAME`: at [`writer_point`]`(NAME, index)`, a writer that takes
//!   no lock (the Python tool) adds an entry to the index by rename, in the
//!   exact window genhist must survive.
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
/// asked for (or `kill@name#n`, and this is the n-th time here).
pub(crate) fn kill_point(name: &str) {
    if asked("kill", name) {
        crate::sys::kill_self();
    }
    let nth = faults().iter().find_map(|f| {
        let (n, count) = f.strip_prefix("kill@")?.split_once('#')?;
        (n == name).then(|| count.parse::<usize>().ok()).flatten()
    });
    if let Some(nth) = nth {
        static HITS: std::sync::Mutex<Vec<(String, usize)>> = std::sync::Mutex::new(Vec::new());
        let mut hits = HITS.lock().unwrap_or_else(|p| p.into_inner());
        let hit = match hits.iter_mut().find(|(n, _)| n == name) {
            Some((_, c)) => {
                *c += 1;
                *c
            }
            None => {
                hits.push((name.to_string(), 1));
                1
            }
        };
        if hit == nth {
            crate::sys::kill_self();
        }
    }
}

/// Fails as a full disk would when `enospc@name` is asked for.
pub(crate) fn io_point(name: &str) -> std::io::Result<()> {
    if asked("enospc", name) {
        return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
    }
    Ok(())
}

/// Plays a writer that takes no lock, as the Python tool does (read the
/// index, add an entry, `os.replace`), when `writer@name` is asked for:
/// the race a test must reach every time, not by luck. It writes once per
/// process; the entry's id is `lockfree-0`.
pub(crate) fn writer_point(name: &str, index: &std::path::Path) {
    if !asked("writer", name) {
        return;
    }
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    if N.fetch_add(1, std::sync::atomic::Ordering::Relaxed) > 0 {
        return;
    }
    let text = std::fs::read(index).unwrap_or_default();
    let text = crate::store::nonfinite::to_markers(&text);
    let Ok(serde_json::Value::Object(mut top)) = serde_json::from_slice(&text) else {
        return;
    };
    let id = "lockfree-0".to_string();
    if let Some(serde_json::Value::Object(entries)) = top.get_mut("entries") {
        entries.insert(
            id.clone(),
            serde_json::json!({"entry_id": id, "timestamp": "2026-01-01T00:00:00+00:00",
                "model_id": "py", "model_name": "Python writer", "slider_positions": null,
                "n_components": 0, "seed": 1, "duration_s": 1.0, "sample_rate": 48000,
                "stereo_mode": "mono", "preset_name": "custom",
                "audio_file": format!("audio/{id}.wav"),
                "thumbnail_file": format!("thumbnails/{id}.png"),
                "quality_score": {}, "latent_vector": null}),
        );
    }
    let out = crate::store::pyjson::to_python_json(&serde_json::Value::Object(top));
    let tmp = index.with_extension("lockfree.tmp");
    if std::fs::write(&tmp, out).is_ok() {
        let _ = std::fs::rename(&tmp, index);
    }
}

/// Plays another program editing the index in place (same size, same
/// inode) when `editor@name` is asked for: the year of the last
/// `"timestamp"` in the file goes back ten years (`2026` → `2016`).
pub(crate) fn editor_point(name: &str, index: &std::path::Path) {
    use std::os::unix::fs::FileExt;
    if !asked("editor", name) {
        return;
    }
    let Ok(text) = std::fs::read(index) else {
        return;
    };
    const KEY: &[u8] = b"\"timestamp\": \"20";
    let Some(at) = text.windows(KEY.len()).rposition(|w| w == KEY) else {
        return;
    };
    let digit = at + KEY.len();
    if let (Some(&d), Ok(f)) = (
        text.get(digit),
        std::fs::OpenOptions::new().write(true).open(index),
    ) {
        let back = if d == b'0' { b'9' } else { d - 1 };
        let _ = f.write_all_at(&[back], digit as u64);
        let _ = f.sync_all();
    }
}

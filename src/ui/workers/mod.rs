//! The browser's background threads. Each takes jobs from its own channel
//! (the newest request wins where only the newest matters) and reports
//! through the one event channel. A panic in a job is caught where it
//! happens and becomes a message; the worker, the app and the terminal go on.

mod analysis;
mod export;
pub mod peaks;
mod spectrum;
pub mod store;
pub mod view;

use super::event::{Effect, Event};
use crate::store::HistoryDir;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};

/// The store, peaks and view workers, which effects are handed to.
pub struct Workers {
    dir: PathBuf,
    store: store::StoreWorker,
    peaks: peaks::PeaksWorker,
    views: view::ViewWorker,
    analysis: analysis::AnalysisWorker,
    spectra: spectrum::SpectrumWorker,
    events: Sender<Event>,
}

impl Workers {
    /// Starts the workers for `dir`, reporting to `events`; `history_file`
    /// is where the command bar's lines are saved.
    pub fn spawn(dir: HistoryDir, history_file: PathBuf, events: Sender<Event>) -> Workers {
        // The analysis cache, filled by the analysis worker, read by the
        // peaks worker (a measured take's waveform is never read again).
        let cache = std::sync::Arc::new(crate::analysis::cache::Shared::default());
        let path = dir.path().to_path_buf();
        Workers {
            dir: path.clone(),
            store: store::StoreWorker::spawn(dir, history_file, events.clone()),
            peaks: peaks::PeaksWorker::spawn(cache.clone(), events.clone()),
            views: view::ViewWorker::spawn(events.clone()),
            analysis: analysis::AnalysisWorker::spawn(path.clone(), cache, events.clone()),
            spectra: spectrum::SpectrumWorker::spawn(path, events.clone()),
            events,
        }
    }

    /// Hands an effect to its worker; the player's and `Quit` come back to
    /// the caller.
    pub fn perform(&self, e: Effect) -> Option<Effect> {
        match e {
            // Listing a directory never waits behind a delete.
            Effect::CompletePath { line, head, word } => {
                let events = self.events.clone();
                spawn("genhist-complete", move || {
                    let candidates =
                        catch("completing a path", || path_candidates(&word)).unwrap_or_default();
                    let _ = events.send(Event::PathsFound {
                        line,
                        head,
                        candidates,
                    });
                });
            }
            Effect::Export(job) => {
                let (dir, events) = (self.dir.clone(), self.events.clone());
                spawn("genhist-export", move || export::run(&dir, job, &events));
            }
            Effect::Store(job) => self.store.send(job),
            Effect::Analyze(jobs) => self.analysis.request(jobs),
            Effect::ListDevices => {
                let events = self.events.clone();
                spawn("genhist-devices", move || {
                    let r = catch(
                        "listing the output devices",
                        crate::playback::device::list_devices,
                    )
                    .and_then(|r| r);
                    let _ = events.send(Event::Devices(r));
                });
            }
            Effect::Spectrum(jobs) => self.spectra.request(jobs),
            Effect::Peaks(jobs) => self.peaks.request(self.dir.clone(), jobs),
            Effect::View(job) => self.views.request(job),
            Effect::Discard(rows) => self.views.discard(rows.0),
            other @ (Effect::Player(_) | Effect::Quit) => return Some(other),
        }
        None
    }
}

/// How many paths completion offers at most.
const MAX_PATHS: usize = 200;

/// Files and directories whose path starts with `word` (as typed: `~/` and
/// relative paths kept as they are); directories end with `/`. Hidden ones
/// only when the typed name starts with a dot.
fn path_candidates(word: &str) -> Vec<String> {
    let (dir_part, base) = match word.rfind('/') {
        Some(i) => (&word[..=i], &word[i + 1..]),
        None if word == "~" => return vec!["~/".into()],
        None => ("", word),
    };
    let dir = if dir_part.is_empty() {
        PathBuf::from(".")
    } else {
        crate::fsutil::expand_home(dir_part)
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if !name.starts_with(base) || (name.starts_with('.') && !base.starts_with('.')) {
                return None;
            }
            // A symlink to a directory counts as one.
            let is_dir = std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir());
            Some(format!("{dir_part}{name}{}", if is_dir { "/" } else { "" }))
        })
        .take(MAX_PATHS * 4)
        .collect();
    out.sort();
    out.truncate(MAX_PATHS);
    out
}

/// Runs `job`, turning a panic into an error message.
pub(crate) fn catch<T>(what: &str, job: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).map_err(|p| {
        let why = crate::text::panic_text(&*p);
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
pub(crate) fn spawn_background(name: &str, f: impl FnOnce() + Send + 'static) {
    spawn(name, move || {
        crate::sys::lower_thread_priority();
        f()
    })
}

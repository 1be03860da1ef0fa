//! Waveform peaks and the panel's file states: the selected take first, then
//! the rows shown; a newer request replaces what is still queued. A WAV that
//! makes the reader panic shows "cannot read: …" for that take alone.

use super::super::event::{Event, PeakFailure, PeakJob, PeaksDone};
use crate::analysis::cache::Shared;
use crate::fsutil::Dir;
use crate::peaks::{peaks_of, PeakError, Peaks};
use crate::store::paths::{locate, Located, RelPath};
use crate::store::FileState;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;

/// Buckets per channel kept for each take: as many as the analysis cache
/// keeps (enough for a full-width waveform).
const PEAK_BUCKETS: usize = crate::analysis::cache::BUCKETS;

pub(crate) struct PeaksWorker {
    tx: Sender<(PathBuf, Vec<PeakJob>)>,
}

/// The state of a checked path, for the panel.
fn file_state(root: &Dir, dir: &Path, p: &Result<RelPath, String>) -> FileState {
    match p {
        Err(reason) => FileState::Invalid {
            reason: reason.clone(),
        },
        Ok(p) => FileState::at(root, dir, p),
    }
}

/// WAV files the peaks worker has read (the tests check a measured
/// history draws its screens without reading any).
pub static WAVS_READ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A take's waveform from the analysis cache, when its WAV did not change
/// since it was measured.
fn cached(root: &Dir, cache: &Shared, id: &str, p: &Result<RelPath, String>) -> Option<Peaks> {
    let p = p.as_ref().ok()?;
    let key = crate::analysis::cache::key_of(root, &p.to_string())?;
    // The cache is being read at start: worth waiting a moment for.
    cache.get(CACHE_PATIENCE).as_ref()?.peaks(id, key)
}

/// How long a waveform waits for the analysis cache to be read at start.
const CACHE_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// A take's waveform as the worker computes it.
pub fn read_peaks(root: &Dir, p: &Result<RelPath, String>) -> Result<Peaks, PeakFailure> {
    let p = p
        .as_ref()
        .map_err(|why| PeakFailure::Refused(why.clone()))?;
    crate::fault::point("peaks");
    WAVS_READ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    match locate(root, p) {
        Located::Present { parent, name, .. } => {
            let f = parent
                .open_regular(&name)
                .map_err(|e| PeakFailure::Unreadable(e.to_string()))?;
            peaks_of(f, PEAK_BUCKETS).map_err(|e| match e {
                PeakError::Unsupported(m) => PeakFailure::Unsupported(m),
                PeakError::Invalid(m) => PeakFailure::Unreadable(m),
            })
        }
        Located::Missing => Err(PeakFailure::Missing),
        Located::Refused(why) => Err(PeakFailure::Refused(why)),
    }
}

fn job_done(dir: &Path, cache: &Shared, job: &PeakJob) -> PeaksDone {
    let root = match Dir::open(dir) {
        Ok(r) => r,
        Err(e) => {
            return PeaksDone {
                id: job.id.clone(),
                peaks: Err(PeakFailure::Unreadable(e.to_string())),
                files: None,
            }
        }
    };
    let files = job.thumbnail.as_ref().map(|t| {
        (
            file_state(&root, dir, &job.audio),
            file_state(&root, dir, t),
        )
    });
    let peaks = super::catch("reading the waveform", || {
        match cached(&root, cache, &job.id, &job.audio) {
            Some(p) => Ok(p),
            None => read_peaks(&root, &job.audio),
        }
    })
    .unwrap_or_else(|why| Err(PeakFailure::Unreadable(why)))
    .map(Arc::new);
    PeaksDone {
        id: job.id.clone(),
        peaks,
        files,
    }
}

impl PeaksWorker {
    pub(crate) fn spawn(cache: Arc<Shared>, events: Sender<Event>) -> PeaksWorker {
        let (tx, rx) = channel::<(PathBuf, Vec<PeakJob>)>();
        super::spawn_background("genhist-peaks", move || {
            let mut queue: Vec<PeakJob> = Vec::new();
            let mut dir = PathBuf::new();
            loop {
                if queue.is_empty() {
                    match rx.recv() {
                        Ok((d, q)) => (dir, queue) = (d, q),
                        Err(_) => return,
                    }
                }
                // The newest request replaces what is still queued.
                match super::newest(&rx, (dir.clone(), std::mem::take(&mut queue))) {
                    Some((d, q)) => (dir, queue) = (d, q),
                    None => return,
                }
                if queue.is_empty() {
                    continue;
                }
                let job = queue.remove(0);
                let done = job_done(&dir, &cache, &job);
                if events.send(Event::Peaks(done)).is_err() {
                    return;
                }
            }
        });
        PeaksWorker { tx }
    }

    pub(crate) fn request(&self, dir: PathBuf, jobs: Vec<PeakJob>) {
        let _ = self.tx.send((dir, jobs));
    }
}

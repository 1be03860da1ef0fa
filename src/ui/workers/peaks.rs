//! Waveform peaks and the panel's file states: the selected take first, then
//! the rows shown; a newer request replaces what is still queued. A WAV that
//! makes the reader panic shows "cannot read: …" for that take alone.

use super::super::event::{Event, PeakFailure, PeakJob, PeaksDone};
use crate::fsutil::Dir;
use crate::peaks::{peaks_of, PeakError, Peaks};
use crate::store::paths::{locate, Located, RelPath};
use crate::store::FileState;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};
use std::sync::Arc;

/// Buckets per channel kept for each take: enough for a full-width waveform.
const PEAK_BUCKETS: usize = 1024;

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

/// A take's waveform as the worker computes it.
pub fn read_peaks(root: &Dir, p: &Result<RelPath, String>) -> Result<Peaks, PeakFailure> {
    let p = p
        .as_ref()
        .map_err(|why| PeakFailure::Refused(why.clone()))?;
    crate::fault::point("peaks");
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

fn job_done(dir: &Path, job: &PeakJob) -> PeaksDone {
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
    let peaks = super::catch("reading the waveform", || read_peaks(&root, &job.audio))
        .unwrap_or_else(|why| Err(PeakFailure::Unreadable(why)))
        .map(Arc::new);
    PeaksDone {
        id: job.id.clone(),
        peaks,
        files,
    }
}

impl PeaksWorker {
    pub(crate) fn spawn(events: Sender<Event>) -> PeaksWorker {
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
                let done = job_done(&dir, &job);
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

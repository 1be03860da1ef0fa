//! Sorting, filtering and searching 100,000 takes off the UI thread. Of
//! the jobs waiting, the newest list job and the newest search job run (a
//! search never cancels a sort, nor a sort a search); results come back
//! numbered, and `App` keeps only the newest. Rows the app no longer shows
//! are dropped here too.

use super::super::event::{Event, ViewDone, ViewJob, ViewKind};
use super::super::view::Rows;
use std::sync::mpsc::{channel, Receiver, Sender, TryRecvError};

/// Jobs over this many takes give freed memory back when done.
const LARGE: usize = 100_000;

enum Msg {
    Job(ViewJob),
    Discard(Rows),
}

pub(crate) struct ViewWorker {
    tx: Sender<Msg>,
}

/// Waits for work; returns the newest list job and the newest search job
/// waiting, or `None` when the app is gone.
fn next_jobs(rx: &Receiver<Msg>) -> Option<[Option<ViewJob>; 2]> {
    let mut jobs: [Option<ViewJob>; 2] = [None, None];
    let mut take = |m: Msg| match m {
        Msg::Job(job) => {
            let slot = usize::from(job.kind == ViewKind::Search);
            // The newest by number, whatever order they came in.
            let newer = jobs[slot].as_ref().is_none_or(|old| job.seq > old.seq);
            if newer {
                jobs[slot] = Some(job);
            }
        }
        Msg::Discard(rows) => drop(rows),
    };
    take(rx.recv().ok()?);
    loop {
        match rx.try_recv() {
            Ok(m) => take(m),
            Err(TryRecvError::Empty) => return Some(jobs),
            Err(TryRecvError::Disconnected) => return None,
        }
    }
}

impl ViewWorker {
    pub(crate) fn spawn(events: Sender<Event>) -> ViewWorker {
        let (tx, rx) = channel::<Msg>();
        super::spawn_background("genhist-view", move || {
            while let Some(jobs) = next_jobs(&rx) {
                for job in jobs.into_iter().flatten() {
                    let large = job.entries.len() >= LARGE;
                    let what = match job.kind {
                        ViewKind::List => "sorting the list",
                        ViewKind::Search => "searching",
                    };
                    // A panic is this job's failure, reported as its own.
                    let rows = super::catch(what, || {
                        crate::fault::point("view");
                        super::super::view::compute(
                            &job.entries,
                            &job.spec,
                            crate::analysis::Facts {
                                notes: &job.notes,
                                measures: &job.measures,
                            },
                        )
                    });
                    let done = ViewDone {
                        kind: job.kind,
                        seq: job.seq,
                        rows,
                    };
                    if events.send(Event::View(done)).is_err() {
                        return;
                    }
                    // A sort of a million takes frees a million keys: give
                    // the memory back rather than keep it for the next.
                    if large {
                        crate::sys::release_freed_memory();
                    }
                }
            }
        });
        ViewWorker { tx }
    }

    pub(crate) fn request(&self, job: ViewJob) {
        let _ = self.tx.send(Msg::Job(job));
    }

    /// Drops `rows` on the worker (or here, when it is gone).
    pub(crate) fn discard(&self, rows: Rows) {
        let _ = self.tx.send(Msg::Discard(rows));
    }
}

//! The store worker: every file change of the browser, one at a time, off
//! the UI thread. It loads the whole history at start, follows the file (a
//! change by another program is re-scanned and only changed entries are
//! parsed), and carries out delete, undo, repair, export and command-history
//! saves. Its own writes report exactly how the file changed, so they never
//! trigger a re-read.

use super::super::event::{AnalyzeJob, DeleteHow, Event, Loaded, StoreEvent, StoreJob};
use crate::command_history::CommandHistory;
use crate::fsutil::Dir;
use crate::store::known::{id_hash, Known};
use crate::store::paths::{RelPath, SizeCounter};
use crate::store::reload::{self, Delta};
use crate::store::rewrite::Selection;
use crate::store::trash::{self, DeleteOptions};
use crate::store::{read, FileStamp, GenerationHistory, HistoryDir, StoreError};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, RecvTimeoutError, Sender};
use std::time::Duration;

/// How often the file is checked for changes by other programs.
const POLL: Duration = Duration::from_millis(250);

/// How long after its own rewrite the sidecar carried over is confirmed:
/// once the index's ctime is two seconds past.
const CONFIRM_AFTER: Duration = Duration::from_millis(2_100);

pub(crate) struct StoreWorker {
    tx: Sender<StoreJob>,
}

/// What the worker keeps between jobs.
struct State {
    hd: HistoryDir,
    history: CommandHistory,
    /// What the UI's store holds, entry by entry.
    known: Known,
    /// The file's identity when last read or written.
    seen: Option<FileStamp>,
    /// Bytes of each take's two files, by id hash.
    sizes: Sizes,
    /// The last save of the command history failed.
    history_failing: bool,
    /// The annotations file's identity when last read (`None`: not yet).
    notes_seen: Option<Option<FileStamp>>,
    /// When to confirm the sidecar the last change carried over (a little
    /// over two seconds after it: see `store::newest::confirm`).
    confirm_at: Option<std::time::Instant>,
    events: Sender<Event>,
}

fn stamp(dir: &Path) -> Option<FileStamp> {
    read::locate_index(dir).ok().and_then(|i| i.stamp_now())
}

/// Bytes of each take's files: id hash and bytes, sorted by id hash (16
/// bytes a take; a hash map slot takes 36), changed a batch at a time.
#[derive(Default)]
struct Sizes(Vec<(u64, u64)>);

impl Sizes {
    fn new(mut v: Vec<(u64, u64)>) -> Sizes {
        // Of an id met twice, the later counts.
        v.reverse();
        v.sort_by_key(|p| p.0);
        v.dedup_by_key(|p| p.0);
        Sizes(v)
    }

    /// Forgets `removed`, then sets `set`.
    fn change(&mut self, removed: &[u64], set: Vec<(u64, u64)>) {
        if !removed.is_empty() {
            let mut gone = removed.to_vec();
            gone.sort_unstable();
            self.0.retain(|p| gone.binary_search(&p.0).is_err());
        }
        let mut new = Vec::new();
        for (h, bytes) in set {
            match self.0.binary_search_by_key(&h, |p| p.0) {
                Ok(i) => self.0[i].1 = bytes,
                Err(_) => new.push((h, bytes)),
            }
        }
        if !new.is_empty() {
            // Later values of an id win.
            new.reverse();
            let mut v = std::mem::take(&mut self.0);
            v.extend(new);
            v.sort_by_key(|p| p.0);
            v.dedup_by_key(|p| p.0);
            self.0 = v;
        }
    }

    fn total(&self) -> u64 {
        self.0.iter().map(|p| p.1).sum()
    }
}

fn files_bytes<S: AsRef<str>>(sizes: &mut SizeCounter, files: &[S]) -> u64 {
    files
        .iter()
        .filter_map(|rel| RelPath::parse(rel.as_ref()).ok())
        .map(|p| sizes.bytes(&p))
        .sum()
}

impl State {
    fn send(&self, e: StoreEvent) -> bool {
        self.events.send(Event::Store(Box::new(e))).is_ok()
    }

    fn notes(&self, notes: Vec<String>) {
        if !notes.is_empty() {
            self.send(StoreEvent::Notes(notes));
        }
    }

    fn load(&mut self) {
        self.seen = stamp(self.hd.path());
        match GenerationHistory::open(self.hd.path()) {
            Ok(mut h) => {
                self.known = h.take_known().unwrap_or_default();
                // The entries (shared, not copied), to count their files'
                // sizes once the list is shown.
                let entries = h.shared_entries();
                let analyze = h.entries().iter().map(|e| AnalyzeJob::of(&h, e)).collect();
                self.send(StoreEvent::Loaded(Ok(Box::new(Loaded {
                    history: h,
                    analyze,
                }))));
                crate::sys::release_freed_memory();
                if let Ok(root) = Dir::open(self.hd.path()) {
                    let mut sizes = SizeCounter::new(root);
                    self.sizes = Sizes::new(
                        entries
                            .iter()
                            .map(|e| {
                                let files = [e.audio_file(), e.thumbnail_file()];
                                (id_hash(&e.entry_id), files_bytes(&mut sizes, &files))
                            })
                            .collect(),
                    );
                }
                crate::sys::release_freed_memory();
            }
            Err(e) => {
                self.send(StoreEvent::Loaded(Err(e)));
            }
        }
        self.send_sizes();
        self.annotations();
    }

    /// Follows the sizes through a change; `None` for a delta leaves them.
    fn sizes_after(&mut self, delta: Option<&Delta>) {
        if let Some(d) = delta {
            let set = match Dir::open(self.hd.path()) {
                Ok(root) => {
                    let mut sizes = SizeCounter::new(root);
                    d.upserts
                        .iter()
                        .flatten()
                        .map(|e| {
                            let files = [&e.audio_file(), &e.thumbnail_file()];
                            (id_hash(&e.entry_id), files_bytes(&mut sizes, &files))
                        })
                        .collect()
                }
                Err(_) => Vec::new(),
            };
            self.sizes.change(&d.removed, set);
        }
        self.send_sizes();
        // A change of a large history frees what its pass over the file
        // held: give it back.
        if self.sizes.0.len() >= 100_000 {
            crate::sys::release_freed_memory();
        }
    }

    fn send_sizes(&self) {
        let dir = self.hd.path();
        let listing = trash::list(dir).unwrap_or_default();
        let (trash, trash_takes) = listing.totals();
        self.send(StoreEvent::Sizes(super::super::event::Sizes {
            files: self.sizes.total(),
            trash,
            trash_batches: listing.batches.len(),
            trash_takes,
        }));
    }

    /// Sends the annotations when their file changed since last read.
    fn annotations(&mut self) {
        let path = crate::store::annotations::path_of(self.hd.path());
        let now = FileStamp::of(&path);
        if self.notes_seen == Some(now) {
            return;
        }
        self.notes_seen = Some(now);
        let r = crate::store::annotations::load(self.hd.path()).map(|a| a.typed());
        self.send(StoreEvent::Annotations(r));
    }

    /// Another program changed the file: re-scan, parse what changed.
    fn reload(&mut self) {
        let now = stamp(self.hd.path());
        if now == self.seen {
            return;
        }
        self.seen = now;
        // Another genhist may have carried the sidecar over to the new file.
        self.confirm_at = Some(std::time::Instant::now() + CONFIRM_AFTER);
        let r = read::locate_index(self.hd.path())
            .and_then(|index| reload::reload(&index, &self.known));
        match r {
            Ok((known, delta)) => {
                self.known = known;
                if !delta.is_empty() {
                    self.sizes_after(Some(&delta));
                }
                self.send(StoreEvent::Reloaded(Ok(delta)));
            }
            Err(e) => {
                self.send(StoreEvent::Reloaded(Err(e)));
            }
        }
    }

    /// Runs `change` in a transaction that follows the file from what the
    /// UI holds; returns its result and how the file changed.
    fn tracked<T>(
        &mut self,
        change: impl FnOnce(&mut crate::store::txn::Txn) -> Result<T, StoreError>,
    ) -> (Result<T, StoreError>, Option<Delta>) {
        let mut txn = match crate::store::change::begin(&self.hd) {
            Ok(t) => t,
            Err(e) => return (Err(e), None),
        };
        txn.track(std::mem::take(&mut self.known));
        let r = change(&mut txn);
        let notes = std::mem::take(&mut txn.notes);
        let (known, delta) = txn.tracked().expect("tracking");
        drop(txn);
        if !delta.is_empty() {
            self.confirm_at = Some(std::time::Instant::now() + CONFIRM_AFTER);
        }
        self.known = known;
        self.seen = stamp(self.hd.path());
        self.notes(notes);
        let delta = (!delta.is_empty()).then_some(delta);
        self.sizes_after(delta.as_ref());
        (r, delta)
    }

    // One arm per job, each a call into the store and its answer.
    fn run(&mut self, job: StoreJob) {
        match job {
            StoreJob::Delete { ids, permanent } => {
                let (result, delta) = self.tracked(|txn| {
                    trash::delete_in(
                        txn,
                        Selection::Ids(ids),
                        DeleteOptions {
                            permanent,
                            ..DeleteOptions::default()
                        },
                    )
                });
                let how = if permanent {
                    DeleteHow::Permanent
                } else {
                    DeleteHow::ToTrash
                };
                self.send(StoreEvent::Deleted { result, delta, how });
            }
            StoreJob::Purge(ids) => {
                let (result, delta) =
                    self.tracked(|txn| crate::store::change::purge_rejected_in(txn, Some(&ids)));
                self.send(StoreEvent::Deleted {
                    result,
                    delta,
                    how: DeleteHow::Purge,
                });
            }
            StoreJob::Flush(n) => {
                self.send(StoreEvent::Flushed(n));
            }
            StoreJob::SaveState(s) => {
                if let Err(e) = crate::ui::app::save_state(self.hd.path(), &s) {
                    tracing::warn!("remembering the browser's state: {e}");
                }
            }
            StoreJob::Undo | StoreJob::Redo => {
                let redo = matches!(job, StoreJob::Redo);
                let (result, delta) = self.tracked(|txn| {
                    if redo {
                        crate::store::journal::redo_in(txn)
                    } else {
                        crate::store::journal::undo_in(txn)
                    }
                });
                self.send(StoreEvent::Undone {
                    redo,
                    result,
                    delta,
                });
            }
            StoreJob::PlanRepair => {
                let r = crate::store::repair::plan(self.hd.path());
                self.send(StoreEvent::RepairPlanned(r));
            }
            StoreJob::Repair(plan) => {
                let (result, delta) =
                    self.tracked(|txn| crate::store::repair::apply_in(txn, &plan));
                self.send(StoreEvent::Repaired { result, delta });
            }
            StoreJob::SaveCommand(line) => {
                self.history.add(&line);
                match self.history.take_error() {
                    Some(e) => {
                        self.history_failing = true;
                        self.send(StoreEvent::HistoryError(e));
                    }
                    None if self.history_failing => {
                        self.history_failing = false;
                        self.send(StoreEvent::HistorySaved);
                    }
                    None => {}
                }
            }
            StoreJob::Annotate { ids, edit } => {
                let r = crate::store::change::annotate(
                    &self.hd,
                    &ids,
                    &edit,
                    crate::store::change::Presence::Known {
                        stamp: self.seen,
                        known: &self.known,
                    },
                );
                // What the worker wrote needs no re-read.
                if r.is_ok() {
                    let path = crate::store::annotations::path_of(self.hd.path());
                    self.notes_seen = Some(FileStamp::of(&path));
                }
                self.send(StoreEvent::Annotated(r.map_err(|e| e.to_string())));
            }
        }
    }
}

impl StoreWorker {
    /// Starts the worker over `dir`; it loads the whole history first.
    pub(crate) fn spawn(
        hd: HistoryDir,
        history_file: PathBuf,
        events: Sender<Event>,
    ) -> StoreWorker {
        let (tx, rx) = channel::<StoreJob>();
        // What a change leaves as notes (recovery, housekeeping) is shown.
        let sink = events.clone();
        let hd = hd.with_notes(std::sync::Arc::new(move |n: &str| {
            let _ = sink.send(Event::Store(Box::new(StoreEvent::Notes(vec![
                n.to_string()
            ]))));
        }));
        super::spawn_background("genhist-store", move || {
            let mut st = State {
                history: CommandHistory::at_path(
                    history_file,
                    crate::command_history::DEFAULT_MAX_ENTRIES,
                ),
                hd,
                known: Known::default(),
                seen: None,
                sizes: Sizes::default(),
                notes_seen: None,
                confirm_at: None,
                history_failing: false,
                events,
            };
            let notes = crate::store::change::recover_if_needed(&st.hd);
            st.notes(notes);
            if let Err(why) = super::catch("loading the history", || st.load()) {
                st.send(StoreEvent::Loaded(Err(StoreError::BadInput(why))));
            }
            let mut polled = std::time::Instant::now();
            loop {
                match rx.recv_timeout(POLL) {
                    Ok(job) => {
                        let what = job_name(&job);
                        if let Err(why) = super::catch(what, || st.run(job)) {
                            // The job's own event never came: say why.
                            st.send(StoreEvent::Failed(why));
                            st.load();
                        }
                        // A delete or undo moves annotations too.
                        let _ = super::catch("reading the annotations", || st.annotations());
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
                // Other programs' changes, also while jobs keep coming.
                if polled.elapsed() >= POLL {
                    polled = std::time::Instant::now();
                    if let Err(why) = super::catch("re-reading the history", || {
                        st.reload();
                        st.annotations();
                    }) {
                        st.send(StoreEvent::Failed(why));
                    }
                    // Confirmed while idle, so the next open reads the newest
                    // through it without hashing the whole index first.
                    if st
                        .confirm_at
                        .is_some_and(|t| t <= std::time::Instant::now())
                    {
                        st.confirm_at = None;
                        let dir = st.hd.path().to_path_buf();
                        let _ = super::catch("checking the sidecar", || {
                            crate::store::newest::confirm(&dir)
                        });
                    }
                }
            }
        });
        StoreWorker { tx }
    }

    pub(crate) fn send(&self, job: StoreJob) {
        let _ = self.tx.send(job);
    }
}

fn job_name(job: &StoreJob) -> &'static str {
    match job {
        StoreJob::Delete { .. } => "deleting",
        StoreJob::Purge(_) => "purging rejected takes",
        StoreJob::Flush(_) => "saving",
        StoreJob::SaveState(_) => "remembering the browser's state",
        StoreJob::Undo => "undoing",
        StoreJob::Redo => "redoing",
        StoreJob::PlanRepair | StoreJob::Repair(_) => "repairing",
        StoreJob::SaveCommand(_) => "saving the command history",
        StoreJob::Annotate { .. } => "saving annotations",
    }
}

#[cfg(test)]
mod tests {
    use super::Sizes;

    #[test]
    fn sizes_follow_changes() {
        let mut s = Sizes::new(vec![(3, 30), (1, 10), (2, 20), (1, 11)]);
        assert_eq!(s.total(), 61);
        s.change(&[2, 9], vec![(3, 33), (5, 50), (4, 40), (5, 55)]);
        assert_eq!(s.0, vec![(1, 11), (3, 33), (4, 40), (5, 55)]);
        assert_eq!(s.total(), 139);
        s.change(&[1, 3, 4, 5], Vec::new());
        assert_eq!(s.total(), 0);
    }
}

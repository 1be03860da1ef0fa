//! Every change genhist makes to a history directory starts here: the
//! directory's lock, then tidying up after writers that died (an unfinished
//! delete or undo is finished or rolled back entry by entry, a killed
//! `add`'s files are removed, dead writers' temp files go, trash batches
//! past their retention are purged); then the change itself
//! ([`super::trash`], [`super::add`], [`super::repair`]) runs inside that
//! transaction ([`Txn`]).

use super::add;
use super::annotations::{self, Annotations, Edit};
use super::error::StoreError;
use super::read;
use super::repair::{self, RepairPlan, RepairReport};
use super::rewrite::Selection;
use super::trash::{self, DeleteOptions, DeleteReport, PurgeWhat, UndoReport};
use super::txn::{HistoryDir, Txn};
use super::{HistoryEntry, NewEntry};
use crate::audio::{AudioBuffer, BitDepth};
use crate::fsutil::{self, Dir};

/// Starts a change: waits for the directory's lock, then tidies up.
pub fn begin(hd: &HistoryDir) -> Result<Txn, StoreError> {
    let mut txn = hd.lock()?;
    housekeeping(&mut txn);
    Ok(txn)
}

/// For commands that only read: finishes what a killed genhist left
/// unfinished, when there is such a thing and no other genhist is at work.
/// Returns what it did, for a note to the user.
pub fn recover_if_needed(hd: &HistoryDir) -> Vec<String> {
    if !trash::needs_recovery(hd.path()) && !add::needs_recovery(hd.path()) {
        return Vec::new();
    }
    match hd.try_lock() {
        Some(mut txn) => {
            housekeeping(&mut txn);
            txn.notes
        }
        None => Vec::new(),
    }
}

/// Finishes or rolls back what dead writers left, removes their temp files,
/// purges expired trash. Failures become notes, never errors: the change
/// the caller wants may still be possible.
fn housekeeping(txn: &mut Txn) {
    let mut notes = Vec::new();
    match trash::recover(txn) {
        Ok(n) => notes.extend(n),
        Err(e) => notes.push(format!(
            "could not finish an interrupted delete or undo: {e}"
        )),
    }
    match add::recover(txn) {
        Ok(n) => notes.extend(n),
        Err(e) => notes.push(format!("could not clean up after an interrupted add: {e}")),
    }
    let mut dirs = vec![txn.root().try_clone()];
    if let Ok(Some(g)) = txn.genhist(false) {
        if let Ok(a) = g.sub(add::ADDING_DIR) {
            dirs.push(Ok(a));
        }
        dirs.push(Ok(g));
    }
    if let Ok(index) = read::locate(txn.root().path()) {
        let target = &index.target().dir;
        if target != txn.root().path() {
            dirs.push(Dir::open(target));
        }
    }
    for d in dirs.into_iter().flatten() {
        if let Err(e) = fsutil::sweep_dead_temps(&d) {
            tracing::warn!("sweeping {}: {e}", d.path().display());
        }
    }
    if let Some(keep) = txn.history_dir().retention {
        if let Err(e) = trash::purge_older_than(txn, keep) {
            notes.push(format!("could not purge old trash: {e}"));
        }
    }
    for n in &notes {
        tracing::warn!("{n}");
    }
    txn.notes.extend(notes);
}

/// Deletes the entries `selection` names, into a new trash batch (see
/// [`trash::delete_in`]).
pub fn delete(
    hd: &HistoryDir,
    selection: Selection,
    opts: DeleteOptions,
) -> Result<DeleteReport, StoreError> {
    trash::delete_in(&mut begin(hd)?, selection, opts)
}

/// Restores the newest batch in the trash (see [`trash::undo_in`]).
pub fn undo(hd: &HistoryDir) -> Result<UndoReport, StoreError> {
    trash::undo_in(&mut begin(hd)?)
}

/// Removes trash batches for good. Returns (batches, bytes).
pub fn purge(hd: &HistoryDir, what: PurgeWhat) -> Result<(usize, u64), StoreError> {
    trash::purge_in(&begin(hd)?, what)
}

/// Carries out a repair plan (see [`repair::apply_in`]).
pub fn repair(hd: &HistoryDir, plan: &RepairPlan) -> Result<RepairReport, StoreError> {
    repair::apply_in(&mut begin(hd)?, plan)
}

/// Adds a generation: its WAV, its thumbnail, then the index entry (see
/// [`add::add`]).
pub fn add(
    hd: &HistoryDir,
    audio: &AudioBuffer,
    depth: BitDepth,
    new: NewEntry,
) -> Result<HistoryEntry, StoreError> {
    add::add(hd, audio, depth, new, || begin(hd))
}

/// Adds many index entries whose files already exist (or are deliberately
/// absent, as in a `--no-audio` demo) in one change.
pub fn add_index_entries(hd: &HistoryDir, entries: &[HistoryEntry]) -> Result<(), StoreError> {
    add::add_index_entries_in(&mut begin(hd)?, entries)
}

/// Annotates the takes `ids` (full ids, which must be in the index) under
/// the directory's lock; `history.json` is not touched. Returns every
/// take's annotations as they are now.
pub fn annotate(hd: &HistoryDir, ids: &[String], edit: &Edit) -> Result<Annotations, StoreError> {
    let txn = begin(hd)?;
    let present = txn.index_ids()?;
    if let Some(gone) = ids.iter().find(|id| !present.contains(*id)) {
        return Err(StoreError::NotFound(gone.clone()));
    }
    let mut typed = None;
    annotations::update_in(&txn, |a| {
        let mut changed = false;
        for id in ids {
            changed |= a.apply(id, edit);
        }
        typed = Some(a.typed());
        changed
    })?;
    Ok(typed.unwrap_or_default())
}

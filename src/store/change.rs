//! Every change genhist makes to a history directory starts here: the
//! directory's lock, then tidying up after writers that died (an unfinished
//! delete or undo is finished or rolled back entry by entry, a killed
//! `add`'s files are removed, dead writers' temp files go, trash batches
//! past their retention are purged); then the change itself
//! ([`super::trash`], [`super::add`], [`super::repair`]) runs inside that
//! transaction ([`Txn`]).

use super::add;
use super::annotations::{self, Annotations, Edit};
use super::dir::HistoryDir;
use super::error::StoreError;
use super::journal;
use super::known::Known;
use super::read;
use super::read::FileStamp;
use super::repair::{self, RepairPlan, RepairReport};
use super::rewrite::Selection;
use super::trash::{self, BatchKind, DeleteOptions, DeleteReport, PurgeReport, PurgeWhat};
use super::txn::Txn;
use super::{HistoryEntry, NewEntry};
use crate::audio::BitDepth;
use crate::audio::Frames;
use crate::fsutil::{self, Dir};

/// Starts a change: waits for the directory's lock, then tidies up.
pub fn begin(hd: &HistoryDir) -> Result<Txn, StoreError> {
    let mut txn = hd.lock()?;
    housekeeping(&mut txn);
    Ok(txn)
}

/// Starts a change that does not touch the index or any take's files (an
/// annotation): the lock, and recovery only when a killed genhist left
/// something unfinished; no sweeps, no purge.
fn begin_light(hd: &HistoryDir) -> Result<Txn, StoreError> {
    let mut txn = hd.lock()?;
    if trash::needs_recovery(hd.path()) || add::needs_recovery(hd.path()) {
        recover_in(&mut txn);
    }
    Ok(txn)
}

/// Finishes what killed writers left (the part of housekeeping every
/// change needs before it reads anything).
fn recover_in(txn: &mut Txn) {
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
    for n in &notes {
        tracing::warn!("{n}");
    }
    txn.notes.extend(notes);
}

/// For commands that only read: finishes what a killed genhist left
/// unfinished, when there is such a thing and no other genhist is at work.
/// Returns what it did, for a note to the user.
pub(crate) fn recover_if_needed(hd: &HistoryDir) -> Vec<String> {
    if !trash::needs_recovery(hd.path()) && !add::needs_recovery(hd.path()) {
        return Vec::new();
    }
    match hd.try_lock() {
        Some(mut txn) => {
            housekeeping(&mut txn);
            std::mem::take(&mut txn.notes)
        }
        None => Vec::new(),
    }
}

/// Finishes or rolls back what dead writers left, removes their temp files,
/// purges expired trash. Failures become notes, never errors: the change
/// the caller wants may still be possible.
fn housekeeping(txn: &mut Txn) {
    recover_in(txn);
    let mut notes = Vec::new();
    let mut dirs = vec![txn.root().try_clone()];
    if let Ok(Some(g)) = txn.genhist(false) {
        if let Ok(a) = g.sub(add::ADDING_DIR) {
            dirs.push(Ok(a));
        }
        dirs.push(Ok(g));
    }
    if let Ok(index) = read::locate_index(txn.root().path()) {
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
        match trash::purge_expired(txn, keep) {
            Ok(r) if !r.skipped.is_empty() => tracing::warn!(
                "not trash batches, left alone in .genhist/trash: {}",
                r.skipped.join(", ")
            ),
            Ok(_) => {}
            Err(e) => notes.push(format!("could not purge old trash: {e}")),
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

/// Undoes the newest decision of the journal (see [`journal`]).
pub fn undo(hd: &HistoryDir) -> Result<journal::Outcome, StoreError> {
    journal::undo_in(&mut begin(hd)?)
}

/// Does again the oldest decision undone.
pub fn redo(hd: &HistoryDir) -> Result<journal::Outcome, StoreError> {
    journal::redo_in(&mut begin(hd)?)
}

/// Removes trash batches for good.
pub fn purge(hd: &HistoryDir, what: PurgeWhat) -> Result<PurgeReport, StoreError> {
    trash::purge_in(&begin(hd)?, what)
}

/// Moves every rejected take to the trash (a batch of kind `purge`); with
/// `only`, just those of them. Which takes are rejected is decided under
/// the lock, from the annotations as they are then: a take un-rejected a
/// moment earlier by another genhist stays.
pub(crate) fn purge_rejected(
    hd: &HistoryDir,
    only: Option<&[String]>,
) -> Result<DeleteReport, StoreError> {
    purge_rejected_in(&mut begin(hd)?, only)
}

/// [`purge_rejected`] inside a change already begun.
pub(crate) fn purge_rejected_in(
    txn: &mut Txn,
    only: Option<&[String]>,
) -> Result<DeleteReport, StoreError> {
    let notes = annotations::load(txn.root().path())?;
    let mut ids: Vec<String> = notes
        .typed()
        .into_iter()
        .filter(|(id, a)| a.rejected && only.is_none_or(|o| o.contains(id)))
        .map(|(id, _)| id)
        .collect();
    ids.sort();
    if ids.is_empty() {
        return Ok(DeleteReport::default());
    }
    trash::delete_in(
        txn,
        Selection::Ids(ids),
        DeleteOptions {
            kind: BatchKind::Purge,
            permanent: false,
            journal: true,
        },
    )
}

/// Carries out a repair plan (see [`repair::apply_in`]).
pub fn repair(hd: &HistoryDir, plan: &RepairPlan) -> Result<RepairReport, StoreError> {
    repair::apply_in(&mut begin(hd)?, plan)
}

/// Adds a generation: its WAV, its thumbnail, then the index entry (see
/// [`add::add`]).
pub fn add(
    hd: &HistoryDir,
    audio: &mut dyn Frames,
    depth: BitDepth,
    new: NewEntry,
) -> Result<HistoryEntry, StoreError> {
    add::add(hd, audio, depth, new, || begin(hd))
}

/// Adds many index entries whose files already exist (or are deliberately
/// absent, as in a `--no-audio` demo) in one change.
pub(crate) fn add_index_entries(
    hd: &HistoryDir,
    entries: Vec<add::EntryText>,
) -> Result<(), StoreError> {
    add::add_index_entries_in(&mut begin(hd)?, entries)
}

/// How an annotation checks, under the lock, that its takes are still in
/// the index.
pub(crate) enum Presence<'a> {
    /// The caller follows the file: when the index is still the file it
    /// last read or wrote (`stamp`), its id hashes say; else the index is
    /// read.
    Known {
        stamp: Option<FileStamp>,
        known: &'a Known,
    },
    /// The caller found every id in a well-formed index when it was the
    /// file `ident` says (ctime included): when it still is, they are
    /// there; else (or with no identity) the index is read.
    Found {
        ident: Option<super::sidecar::Ident>,
    },
}

/// Annotates the takes `ids` (full ids, which must be in the index) under
/// the directory's lock; `history.json` is not touched, and only the
/// housekeeping an annotation needs runs. Returns every take's
/// annotations as they are now.
pub(crate) fn annotate(
    hd: &HistoryDir,
    ids: &[String],
    edit: &Edit,
    presence: Presence<'_>,
) -> Result<Annotations, StoreError> {
    let mut txn = begin_light(hd)?;
    let known_now = match presence {
        Presence::Known { stamp, known }
            if stamp.is_some() && read::locate_index(hd.path())?.stamp_now() == stamp =>
        {
            Some(known)
        }
        _ => None,
    };
    let unchanged = |ident: Option<super::sidecar::Ident>| -> Result<bool, StoreError> {
        Ok(ident.is_some() && read::locate_index(hd.path())?.ident_now() == ident)
    };
    let gone = match (known_now, presence) {
        (Some(k), _) => ids.iter().find(|id| !k.has(super::known::id_hash(id))),
        (None, Presence::Found { ident }) if unchanged(ident)? => None,
        (None, _) => {
            let present = txn.index_ids()?;
            ids.iter().find(|id| !present.contains(*id))
        }
    };
    if let Some(gone) = gone {
        return Err(StoreError::NotFound(gone.clone()));
    }
    let mut typed = None;
    let mut takes = std::collections::BTreeMap::new();
    let mut refused = None;
    annotations::update_in(&txn, |a| {
        // All or nothing: one take whose data genhist cannot read stops the edit.
        refused = ids.iter().find_map(|id| a.refuses(id, edit));
        if refused.is_some() {
            return false;
        }
        let mut changed = false;
        for id in ids {
            let before = a.takes.get(id).cloned();
            if a.apply(id, edit) {
                changed = true;
                let after = a.takes.get(id).cloned();
                takes.insert(id.clone(), journal::TakeChange { before, after });
            }
        }
        typed = Some(a.typed());
        changed
    })?;
    if let Some(why) = refused {
        return Err(StoreError::BadInput(format!("{why}; nothing was changed")));
    }
    if !takes.is_empty() {
        journal::record(
            &mut txn,
            journal::Change::Annotate {
                what: journal::edit_words(edit),
                takes,
            },
        );
    }
    Ok(typed.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_of(ids: &[&str]) -> String {
        let entries: Vec<String> = ids
            .iter()
            .map(|id| {
                format!(
                    "\"{id}\": {{\"entry_id\": \"{id}\", \"timestamp\": \"2026-12-01T10:00:00+00:00\", \
                     \"model_id\": \"m\", \"model_name\": \"M\", \"audio_file\": \"audio/{id}.wav\"}}"
                )
            })
            .collect();
        format!(
            "{{\"version\": 1, \"entries\": {{{}}}}}",
            entries.join(", ")
        )
    }

    /// A directory whose index holds takes "a" and "b", and the identity
    /// of the index a lookup found them in.
    fn a_and_b() -> (
        tempfile::TempDir,
        HistoryDir,
        Option<super::super::sidecar::Ident>,
    ) {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("history.json"), index_of(&["a", "b"])).unwrap();
        let hd = HistoryDir::new(t.path());
        let ident = read::locate_index(t.path()).unwrap().ident_now();
        assert!(ident.is_some());
        (t, hd, ident)
    }

    #[test]
    fn a_take_found_in_an_index_changed_since_is_looked_for_again() {
        let (t, hd, ident) = a_and_b();
        let (dir, path) = (t.path(), t.path().join("history.json"));
        let found = || Presence::Found { ident };
        annotate(&hd, &["a".into()], &Edit::Rate(3), found()).unwrap();
        // Another program took "a" out (a new file put in place).
        let tmp = dir.join("history.json.tmp");
        std::fs::write(&tmp, index_of(&["b"])).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        let err = annotate(&hd, &["a".into()], &Edit::Rate(4), found()).unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound(ref id) if id == "a"),
            "{err}"
        );
        // "b" is still there.
        annotate(&hd, &["b".into()], &Edit::Rate(4), found()).unwrap();
    }

    #[test]
    fn a_take_renamed_in_place_with_the_mtime_put_back_is_looked_for_again() {
        let (t, hd, ident) = a_and_b();
        let path = t.path().join("history.json");
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        // Same size, same mtime: "a" is now "c".
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        use std::io::Write;
        (&f).write_all(index_of(&["c", "b"]).as_bytes()).unwrap();
        f.set_modified(mtime).unwrap();
        let err = annotate(
            &hd,
            &["a".into()],
            &Edit::Rate(4),
            Presence::Found { ident },
        );
        assert!(matches!(err, Err(StoreError::NotFound(_))));
    }
}

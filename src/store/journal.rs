//! The journal of decisions: every rating, reject, tag, note, delete,
//! purge and repair is an action in `DIR/.genhist/journal.json`, written
//! under the directory's lock with the change it records. `undo` takes back
//! the newest action of any kind, `redo` does it again; both survive a quit
//! or a crash (the file is replaced atomically).
//!
//! - An annotation action keeps each take's annotation before and after;
//!   undo puts "before" back only while the take still holds "after" (redo
//!   the other way round): if another program changed it since, nothing is
//!   changed and the message says so.
//! - A delete (or purge, or repair) action names its trash batch; undo
//!   restores that batch, redo deletes the same takes again. A batch the
//!   trash no longer holds (purged by retention or by hand) cannot be
//!   restored: the action leaves the journal, saying so.
//! - The journal keeps the newest [`MAX_ACTIONS`] actions; a new action
//!   after undos drops what could have been redone (as editors do).

use super::annotations::{self, Edit};
use super::dir::GENHIST_DIR;
use super::error::StoreError;
use super::rewrite::Selection;
use super::trash::{self, BatchKind, DeleteOptions, DeleteReport, UndoReport};
use super::txn::Txn;
use crate::fsutil;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(crate) const JOURNAL_FILE: &str = "journal.json";

/// The most actions the journal keeps (older ones leave it; their trash
/// batches stay until retention purges them).
pub const MAX_ACTIONS: usize = 500;

/// One take's annotation before and after an action (`None`: it had none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TakeChange {
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// What an action did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Change {
    /// Annotations changed: `what` in words (`★★★★☆`, `reject`, `tags`).
    Annotate {
        what: String,
        takes: BTreeMap<String, TakeChange>,
    },
    /// Takes moved to the trash batch `batch` (`what`: delete, purge, repair).
    Trash {
        what: BatchKind,
        batch: String,
        ids: Vec<String>,
    },
}

/// An action of the journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// When it was done (ISO 8601, UTC).
    pub at: String,
    #[serde(flatten)]
    pub change: Change,
    /// Undone (it can be redone).
    #[serde(default)]
    pub undone: bool,
}

impl Action {
    /// The action in words: `★★★★☆ on 57b71307`, `delete of 3 takes`.
    pub fn describe(&self) -> String {
        match &self.change {
            Change::Annotate { what, takes } => {
                let what = crate::text::sanitize(crate::text::cut(what, 40));
                match takes.keys().next() {
                    Some(id) if takes.len() == 1 => {
                        format!(
                            "{what} on {}",
                            crate::text::sanitize(crate::text::short_id(id))
                        )
                    }
                    _ => format!(
                        "{what} on {}",
                        crate::text::count(takes.len(), "take", "takes")
                    ),
                }
            }
            Change::Trash { what, ids, .. } => {
                let verb = match what {
                    BatchKind::Delete => "delete",
                    BatchKind::Purge => "purge",
                    BatchKind::Repair => "repair",
                };
                match &ids[..] {
                    [one] => format!(
                        "{verb} of {}",
                        crate::text::sanitize(crate::text::short_id(one))
                    ),
                    many => format!(
                        "{verb} of {}",
                        crate::text::count(many.len(), "take", "takes")
                    ),
                }
            }
        }
    }

    /// The takes it is about.
    pub fn ids(&self) -> Vec<String> {
        match &self.change {
            Change::Annotate { takes, .. } => takes.keys().cloned().collect(),
            Change::Trash { ids, .. } => ids.clone(),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Journal {
    version: u32,
    actions: Vec<Action>,
}

/// The journal's path for the history in `dir`.
pub fn path_of(dir: &Path) -> PathBuf {
    dir.join(GENHIST_DIR).join(JOURNAL_FILE)
}

fn load(txn: &Txn) -> Journal {
    let path = path_of(txn.root().path());
    let text = match fsutil::read_regular_bounded(&path, 64 << 20) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Journal::default(),
        Err(e) => {
            tracing::warn!("reading the journal {}: {e}", path.display());
            return set_aside(&path);
        }
    };
    match serde_json::from_slice::<Journal>(&text) {
        Ok(j) if j.version == 1 => j,
        _ => set_aside(&path),
    }
}

/// A journal genhist cannot read is kept beside, under another name, and a
/// new one begins (undo history is lost; no take or rating is).
fn set_aside(path: &Path) -> Journal {
    let keep = path.with_extension(format!(
        "json.unreadable-{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    if let Err(e) = std::fs::rename(path, &keep) {
        tracing::warn!("setting the unreadable journal aside: {e}");
    }
    Journal::default()
}

/// The largest journal written (actions over many takes are large): the
/// oldest actions leave it first; far below what it is read up to.
const MAX_BYTES: usize = 16 << 20;

fn save(txn: &Txn, j: &Journal) -> Result<(), StoreError> {
    txn.genhist(true)?;
    let path = path_of(txn.root().path());
    let mut text = serde_json::to_vec(j).map_err(|e| StoreError::BadInput(e.to_string()))?;
    if text.len() > MAX_BYTES {
        let mut trimmed = Journal {
            version: j.version,
            actions: j.actions.clone(),
        };
        while text.len() > MAX_BYTES && trimmed.actions.len() > 1 {
            let drop = (trimmed.actions.len() / 10).max(1);
            trimmed.actions.drain(..drop);
            text = serde_json::to_vec(&trimmed).map_err(|e| StoreError::BadInput(e.to_string()))?;
        }
    }
    fsutil::write_file_here(&path, &text).map_err(|e| StoreError::io("write", &path, e))
}

/// Records an action (inside the change that did it). A journal that
/// cannot be written costs the undo of this action, not the action: the
/// failure is a note.
pub(crate) fn record(txn: &mut Txn, change: Change) {
    let mut j = load(txn);
    j.version = 1;
    // What could have been redone is gone once something new is done.
    while j.actions.last().is_some_and(|a| a.undone) {
        j.actions.pop();
    }
    j.actions.push(Action {
        at: super::now_iso(),
        change,
        undone: false,
    });
    if j.actions.len() > MAX_ACTIONS {
        let extra = j.actions.len() - MAX_ACTIONS;
        j.actions.drain(..extra);
    }
    if let Err(e) = save(txn, &j) {
        txn.notes.push(format!(
            "the journal could not be written ({e}): this cannot be undone"
        ));
    }
}

/// Forgets the actions whose trash batches are purged (they can never be
/// undone; the next undo goes to the action before them).
pub(crate) fn forget_batches(txn: &Txn, batches: &[String]) {
    if batches.is_empty() || !path_of(txn.root().path()).exists() {
        return;
    }
    let mut j = load(txn);
    let before = j.actions.len();
    j.actions.retain(|a| match &a.change {
        Change::Trash { batch, .. } => !batches.contains(batch),
        Change::Annotate { .. } => true,
    });
    if j.actions.len() != before {
        if let Err(e) = save(txn, &j) {
            tracing::warn!("updating the journal after a purge: {e}");
        }
    }
}

/// The words for an annotation edit, as the journal keeps them.
pub(crate) fn edit_words(edit: &Edit) -> String {
    match edit {
        Edit::Rate(0) => "rating removed".into(),
        Edit::Rate(n) => crate::text::stars(*n),
        Edit::Reject(true) => "reject".into(),
        Edit::Reject(false) => "un-reject".into(),
        Edit::ToggleReject => "reject".into(),
        Edit::Tags { .. } => "tags".into(),
        Edit::Note(_) => "note".into(),
    }
}

/// What an undo or a redo did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Annotations put back (undo) or done again (redo).
    Annotations { action: Action },
    /// A trash batch restored (the undo of a delete, purge or repair).
    Restored { action: Action, report: UndoReport },
    /// The same takes deleted again (the redo of a delete, purge or repair).
    Deleted {
        action: Action,
        report: DeleteReport,
    },
    /// Already done: an undo of this delete was interrupted and the
    /// recovery at the start of this command finished it.
    AlreadyDone { action: Action },
}

impl Outcome {
    pub fn action(&self) -> &Action {
        match self {
            Outcome::Annotations { action }
            | Outcome::AlreadyDone { action }
            | Outcome::Restored { action, .. }
            | Outcome::Deleted { action, .. } => action,
        }
    }
}

/// Why an action cannot be undone or redone any more: it leaves the
/// journal (the next undo or redo goes past it), and the error says why.
fn stale(txn: &Txn, j: &mut Journal, i: usize, why: String) -> StoreError {
    j.actions.remove(i);
    if let Err(e) = save(txn, j) {
        tracing::warn!("saving the journal: {e}");
    }
    StoreError::BadInput(why)
}

/// Undoes the newest action not undone. Without one, the newest trash
/// batch is restored (deletes made before the journal existed). An action
/// that cannot be undone any more (its batch purged, its take gone, its
/// annotation changed since) leaves the journal with a message saying so.
pub(crate) fn undo_in(txn: &mut Txn) -> Result<Outcome, StoreError> {
    let mut j = load(txn);
    let Some(i) = j.actions.iter().rposition(|a| !a.undone) else {
        let report = trash::undo_in(txn)?;
        let action = Action {
            at: super::now_iso(),
            change: Change::Trash {
                what: BatchKind::Delete,
                batch: report.batch.clone(),
                ids: report.restored.iter().map(|r| r.id.clone()).collect(),
            },
            undone: true,
        };
        return Ok(Outcome::Restored { action, report });
    };
    let mut action = j.actions[i].clone();
    let outcome = match &mut action.change {
        Change::Annotate { takes, .. } => {
            if let Err(why) = put_annotations(txn, takes, false)? {
                let why = format!(
                    "the {} cannot be undone: {why}; nothing was changed, and it leaves the journal (the next undo goes further back)",
                    action.describe()
                );
                return Err(stale(txn, &mut j, i, why));
            }
            Outcome::Annotations {
                action: action.clone(),
            }
        }
        Change::Trash { batch, ids, .. } => {
            // A redo or a delete killed before the journal was written
            // left the takes in another batch: that one is restored.
            if !batch_exists(txn, batch) {
                if let Some(other) = trash::batch_holding(txn, ids) {
                    *batch = other;
                }
            }
            match trash::undo_batch_in(txn, batch) {
                Ok(report) => Outcome::Restored {
                    action: action.clone(),
                    report,
                },
                // An undo of it was killed after the index was written, and
                // this command's recovery finished it.
                Err(_) if !batch_exists(txn, batch) && all_in_index(txn, ids)? => {
                    Outcome::AlreadyDone {
                        action: action.clone(),
                    }
                }
                // A batch that is gone can never come back.
                Err(_) if !batch_exists(txn, batch) => {
                    let why = format!(
                        "the {} cannot be undone: its takes are no longer in the trash (purged); it leaves the journal (the next undo goes further back)",
                        action.describe()
                    );
                    return Err(stale(txn, &mut j, i, why));
                }
                Err(e) => return Err(e),
            }
        }
    };
    action.undone = true;
    j.actions[i] = action;
    save(txn, &j)?;
    Ok(outcome)
}

fn all_in_index(txn: &Txn, ids: &[String]) -> Result<bool, StoreError> {
    let now = txn.index_ids()?;
    Ok(!ids.is_empty() && ids.iter().all(|id| now.contains(id)))
}

fn batch_exists(txn: &Txn, batch: &str) -> bool {
    txn.root()
        .walk(&[GENHIST_DIR, trash::TRASH_DIR], false)
        .is_ok_and(|t| t.sub(batch).is_ok())
}

/// Does again the oldest undone action. One that cannot be redone any more
/// leaves the journal with a message saying so.
pub(crate) fn redo_in(txn: &mut Txn) -> Result<Outcome, StoreError> {
    let mut j = load(txn);
    let Some(i) = j.actions.iter().position(|a| a.undone) else {
        return Err(StoreError::NothingToRedo);
    };
    let mut action = j.actions[i].clone();
    let outcome = match &mut action.change {
        Change::Annotate { takes, .. } => {
            if let Err(why) = put_annotations(txn, takes, true)? {
                let why = format!(
                    "the {} cannot be redone: {why}; nothing was changed, and it leaves the journal",
                    action.describe()
                );
                return Err(stale(txn, &mut j, i, why));
            }
            Outcome::Annotations {
                action: action.clone(),
            }
        }
        Change::Trash { what, batch, ids } => {
            let now = txn.index_ids()?;
            if !ids.is_empty() && ids.iter().all(|id| !now.contains(id)) {
                // A redo killed after the index was written: it is done;
                // the action follows its batch.
                if let Some(b) = trash::batch_holding(txn, ids) {
                    *batch = b;
                }
                Outcome::AlreadyDone {
                    action: action.clone(),
                }
            } else {
                let report = trash::delete_in(
                    txn,
                    Selection::Ids(ids.clone()),
                    DeleteOptions {
                        kind: *what,
                        permanent: false,
                        journal: false,
                    },
                )?;
                // The same takes, in a new batch: undo restores that one.
                if let Some(b) = &report.batch {
                    *batch = b.clone();
                }
                Outcome::Deleted {
                    action: action.clone(),
                    report,
                }
            }
        }
    };
    action.undone = false;
    j.actions[i] = action;
    save(txn, &j)?;
    Ok(outcome)
}

/// Records a delete that recovery finished (a genhist killed before it
/// wrote the journal), when the journal does not have it yet.
pub(crate) fn ensure_recorded(txn: &Txn, change: Change) {
    let Change::Trash { batch, ids, .. } = &change else {
        return;
    };
    let mut j = load(txn);
    if j.actions
        .iter()
        .any(|a| matches!(&a.change, Change::Trash { batch: b, .. } if b == batch))
    {
        return;
    }
    // A redo killed before it wrote the journal: that action is done now,
    // in this batch.
    let redone = j
        .actions
        .iter_mut()
        .find(|a| a.undone && matches!(&a.change, Change::Trash { ids: i, .. } if i == ids));
    if let Some(a) = redone {
        if let Change::Trash { batch: b, .. } = &mut a.change {
            b.clone_from(batch);
        }
        a.undone = false;
        if let Err(e) = save(txn, &j) {
            tracing::warn!("recording a recovered redo in the journal: {e}");
        }
        return;
    }
    j.version = 1;
    while j.actions.last().is_some_and(|a| a.undone) {
        j.actions.pop();
    }
    j.actions.push(Action {
        at: super::now_iso(),
        change,
        undone: false,
    });
    if let Err(e) = save(txn, &j) {
        tracing::warn!("recording a recovered delete in the journal: {e}");
    }
}

/// Puts each take's annotation to "before" (undo) or "after" (`redo`),
/// only when every take still holds the other one; `Ok(Err(why))` when one
/// does not (nothing is written).
fn put_annotations(
    txn: &Txn,
    takes: &BTreeMap<String, TakeChange>,
    redo: bool,
) -> Result<Result<(), String>, StoreError> {
    let file = annotations::load(txn.root().path())?;
    let mut index = None;
    for (id, c) in takes {
        let expect = if redo { &c.before } else { &c.after };
        if file.takes.get(id) != expect.as_ref() {
            let ids = match &index {
                Some(ids) => ids,
                None => index.insert(txn.index_ids()?),
            };
            let shown = crate::text::sanitize(crate::text::short_id(id)).into_owned();
            return Ok(Err(if ids.contains(id) {
                format!("the annotations of {shown} changed since (another program, or another genhist)")
            } else {
                format!("the take {shown} is no longer in the history")
            }));
        }
    }
    annotations::update_in(txn, |a| {
        for (id, c) in takes {
            let want = if redo { &c.after } else { &c.before };
            match want {
                Some(v) => {
                    a.takes.insert(id.clone(), v.clone());
                }
                None => {
                    a.takes.remove(id);
                }
            }
        }
        true
    })?;
    Ok(Ok(()))
}

/// The journal's actions, newest first (for `undo --list`).
pub fn list(dir: &Path) -> Result<Vec<Action>, StoreError> {
    let path = path_of(dir);
    let text = match fsutil::read_regular_bounded(&path, 64 << 20) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io("read", &path, e)),
    };
    let j: Journal = serde_json::from_slice(&text)
        .map_err(|e| StoreError::BadInput(format!("{} cannot be read: {e}", path.display())))?;
    if j.version != 1 {
        return Err(StoreError::BadInput(format!(
            "{} is of another version ({}); the next change sets it aside and starts a new one",
            path.display(),
            j.version
        )));
    }
    Ok(j.actions.into_iter().rev().collect())
}

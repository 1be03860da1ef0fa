//! The trash: deleted takes go there so a delete can be undone, even after a
//! quit or a crash. `DIR/.genhist/trash/<batch>/` holds `manifest.json` (each
//! entry's stored text and place in the index, its files, its annotations)
//! and the files themselves under `files/<their path>`, moved there by
//! rename (same filesystem: no copy, nothing lost on the way).
//!
//! A batch's state is in its directory's name, so a crash leaves no doubt:
//! - `.pending-<b>`: a delete is under way (manifest written, files being
//!   moved, then the index). Recovery looks at each entry: still in the
//!   index → its files go back; gone from it → it stays in the trash.
//! - `<b>`: done; `undo` restores the newest batch.
//! - `.restoring-<b>`: an undo is under way (index first, then files):
//!   entries back in the index get their files back, the others stay.
//! - `.purging-<b>`: being removed for good.
//!
//! Recovery runs under the directory lock at the start of every change, and
//! from reading commands when nobody else is writing.

use super::dir::GENHIST_DIR;
use super::error::StoreError;
use super::paths::{self, Field, Located, RelPath};
use super::rewrite::{Outcome, Plan, RemovedEntry, Selection};
use super::txn::{Failed, Txn};
use crate::fsutil::{self, Dir};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) const TRASH_DIR: &str = "trash";
const MANIFEST: &str = "manifest.json";
const FILES: &str = "files";
const PENDING: &str = ".pending-";
const RESTORING: &str = ".restoring-";
const PURGING: &str = ".purging-";

/// What put a batch in the trash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchKind {
    Delete,
    Repair,
    Purge,
}

/// `manifest.json` of a batch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub batch: String,
    /// When the batch was made (ISO 8601, UTC).
    pub created: String,
    pub kind: BatchKind,
    pub entries: Vec<TrashEntry>,
}

/// One deleted entry in a batch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrashEntry {
    pub id: String,
    /// Its place among the index's entries when it was taken out.
    pub position: usize,
    /// Its stored text, exactly.
    pub text: String,
    /// Back in the index (what is still in `files` could not go back).
    #[serde(default)]
    pub restored: bool,
    /// Its files in the batch, at `files/<path>`.
    #[serde(default)]
    pub files: Vec<TrashFile>,
    /// Its files that were not moved, and why.
    #[serde(default)]
    pub left: Vec<LeftFile>,
    /// Its annotations when it was deleted (genhist's ratings, tags, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<serde_json::Value>,
    /// Back in the index, but its annotations could not be written yet
    /// (the next command puts them back).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub annotations_pending: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrashFile {
    pub field: String,
    /// The path inside the history directory (normalized).
    pub path: String,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LeftFile {
    pub field: String,
    /// The path as the index has it.
    pub path: String,
    pub reason: String,
}

/// What a delete did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DeleteReport {
    /// The trash batch (`None` for a permanent delete, or when nothing went).
    pub batch: Option<String>,
    pub removed: Vec<RemovedEntry>,
    /// (entry id, path) of the files that went with their entries.
    pub files: Vec<(String, String)>,
    /// (entry id, path as stored, reason) of files left where they were.
    pub left: Vec<(String, String, String)>,
}

impl DeleteReport {
    pub fn removed_ids(&self) -> Vec<String> {
        self.removed.iter().map(|r| r.id.clone()).collect()
    }
}

/// What an undo did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct UndoReport {
    pub batch: String,
    /// The entries put back, with their stored text.
    pub restored: Vec<RemovedEntry>,
    /// Files put back.
    pub files: usize,
    /// Ids the index had again meanwhile (left as they are; their files stay in the trash).
    pub already_present: Vec<String>,
    /// (path, why, where it stays in the trash) of files that could not go
    /// back; no place when the trash does not hold the file either.
    pub left: Vec<(String, String, Option<PathBuf>)>,
    /// The annotations the restored entries had (id, annotations).
    pub annotations: Vec<(String, serde_json::Value)>,
    /// Why those annotations could not be written: they stay in the batch
    /// (still `.restoring-`), and the next command puts them back.
    pub annotations_pending: Option<String>,
}

/// What a purge of the trash did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PurgeReport {
    pub batches: usize,
    pub bytes: u64,
    /// Names in the trash that are not batches (left alone).
    pub skipped: Vec<String>,
}

/// A batch as `trash list` shows it.
#[derive(Debug, Clone)]
pub struct BatchInfo {
    pub name: String,
    pub created: Option<chrono::DateTime<chrono::Utc>>,
    /// `None` when the manifest cannot be read.
    pub manifest: Option<Manifest>,
    pub bytes: u64,
    /// `undo` would restore (some of) it.
    pub undoable: bool,
}

/// A new batch name: its creation time and a random tail. Names sort in
/// the order batches were made, even when the clock went back or a batch
/// from the future is there: the time is then just after the newest name's.
fn new_batch_name(trash: &Dir) -> String {
    let newest = trash
        .names()
        .unwrap_or_default()
        .iter()
        .filter_map(|n| {
            batch_time(
                n.trim_start_matches(PENDING)
                    .trim_start_matches(RESTORING)
                    .trim_start_matches(PURGING),
            )
        })
        .max();
    let now = chrono::Utc::now();
    let at = match newest {
        Some(t) if t >= now => t + chrono::Duration::microseconds(1),
        _ => now,
    };
    format!(
        "{}-{}",
        at.format("%Y%m%dT%H%M%S%.6fZ"),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// When a batch was made, from its name.
fn batch_time(name: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let stamp = name.get(..23)?;
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%S%.6fZ")
        .ok()
        .map(|t| t.and_utc())
}

/// The paths an entry's stored text names, by field (only string values).
pub(crate) fn entry_files(text: &str) -> Vec<(Field, String)> {
    #[derive(Deserialize)]
    struct Files {
        audio_file: Option<serde_json::Value>,
        thumbnail_file: Option<serde_json::Value>,
    }
    let text = super::nonfinite::to_markers(text.as_bytes());
    match serde_json::from_slice::<Files>(&text) {
        Ok(f) => [
            (Field::Audio, f.audio_file),
            (Field::Thumbnail, f.thumbnail_file),
        ]
        .into_iter()
        .filter_map(|(field, v)| Some((field, v?.as_str()?.to_string())))
        .collect(),
        Err(_) => Vec::new(),
    }
}

fn trash_dir(txn: &Txn, create: bool) -> Result<Option<Dir>, StoreError> {
    let Some(g) = txn.genhist(create)? else {
        return Ok(None);
    };
    let path = g.join(TRASH_DIR);
    let r = if create {
        g.sub_or_create(TRASH_DIR)
    } else {
        g.sub(TRASH_DIR)
    };
    match r {
        Ok(d) => Ok(Some(d)),
        Err(e) if e.kind() == io::ErrorKind::NotFound && !create => Ok(None),
        Err(e) => Err(StoreError::io("open", &path, e)),
    }
}

/// The largest manifest genhist reads (a batch of 100,000 takes with
/// their stored texts is about 100 MB); a larger one counts as unreadable.
const MAX_MANIFEST_BYTES: u64 = 512 << 20;

fn read_manifest(batch: &Dir) -> Option<Manifest> {
    let f = batch.open_regular(MANIFEST).ok()?;
    let mut text = Vec::new();
    io::Read::read_to_end(&mut io::Read::take(f, MAX_MANIFEST_BYTES + 1), &mut text).ok()?;
    if text.len() as u64 > MAX_MANIFEST_BYTES {
        return None;
    }
    serde_json::from_slice(&text).ok()
}

fn write_manifest(batch: &Dir, m: &Manifest) -> Result<(), StoreError> {
    let path = batch.join(MANIFEST);
    let text = serde_json::to_vec_pretty(m).map_err(|e| StoreError::BadInput(e.to_string()))?;
    let mut tmp = fsutil::TempFile::create(batch, MANIFEST, None)
        .map_err(|e| StoreError::io("write", &path, e))?;
    tmp.write_with(|w| w.write_all(&text))
        .and_then(|()| tmp.commit(MANIFEST))
        .map_err(|e| StoreError::io("write", &path, e))
}

/// The directory in `batch` that holds (or will hold) `p`'s file.
fn files_dir(batch: &Dir, p: &RelPath, create: bool) -> io::Result<Dir> {
    let mut parts = vec![FILES];
    parts.extend(p.dirs());
    batch.walk(&parts, create)
}

/// Copies `name` from `from` to a new file in `to` (keeping mode and
/// modification time), then removes the original: the move across
/// filesystems, for a history directory with mount points inside.
fn copy_then_remove(from: &Dir, name: &str, to: &Dir, to_name: &str) -> io::Result<()> {
    let mut src = from.open_regular(name)?;
    let meta = src.metadata()?;
    let mut dst = to.create_new(to_name)?;
    let copied = io::copy(&mut src, &mut dst)
        .and_then(|_| dst.set_permissions(meta.permissions()))
        .and_then(|()| dst.set_modified(meta.modified()?))
        .and_then(|()| dst.sync_all());
    if let Err(e) = copied {
        let _ = to.unlink(to_name);
        return Err(e);
    }
    from.unlink(name)
}

/// Moves `parent/name` (the file at `p`) into the batch.
fn move_in(parent: &Dir, name: &str, batch: &Dir, p: &RelPath) -> io::Result<()> {
    let dest = files_dir(batch, p, true)?;
    match parent.rename_noreplace(name, &dest, p.file()) {
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
            copy_then_remove(parent, name, &dest, p.file())
        }
        r => r,
    }
}

/// True when the batch holds `p`'s file.
fn in_batch(batch: &Dir, p: &RelPath) -> bool {
    files_dir(batch, p, false).is_ok_and(|d| d.stat(p.file()).ok().flatten().is_some())
}

/// Where batch `name` (open as `batch`) holds the file `path`, if it does.
fn held_at(trash: &Dir, name: &str, batch: &Dir, path: &str) -> Option<PathBuf> {
    let p = RelPath::parse(path).ok()?;
    in_batch(batch, &p).then(|| trash.join(name).join(FILES).join(path))
}

/// Puts the batch's file for `p` back at `p`: only to a free path (never
/// over anything), never through a symlink. `Err` says why not.
fn move_back(root: &Dir, batch: &Dir, p: &RelPath) -> Result<(), String> {
    let src = files_dir(batch, p, false).map_err(|e| e.to_string())?;
    let dest = root.walk(&p.dirs(), true).map_err(|e| e.to_string())?;
    match src.rename_noreplace(p.file(), &dest, p.file()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            Err(format!("something is already at {p}"))
        }
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
            copy_then_remove(&src, p.file(), &dest, p.file()).map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}

/// A delete's work between writing the new index and putting it in place.
struct Staged {
    trash: Dir,
    pending: String,
    batch: Dir,
    manifest: Manifest,
    /// Paths moved into the batch.
    moved: Vec<RelPath>,
}

/// Options of [`delete`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeleteOptions {
    pub kind: BatchKind,
    /// Remove the files for good instead of keeping them in the trash.
    pub permanent: bool,
    /// Record the delete in the journal (a redo does not: it updates the
    /// action it does again).
    pub journal: bool,
}

impl Default for DeleteOptions {
    fn default() -> Self {
        DeleteOptions {
            kind: BatchKind::Delete,
            permanent: false,
            journal: true,
        }
    }
}

/// Deletes the entries `selection` names: their files move into a new trash
/// batch (with a manifest written first), then the index is rewritten
/// without them. If the index cannot be written, the files go back and
/// nothing has changed.
pub(crate) fn delete_in(
    txn: &mut Txn,
    selection: Selection,
    opts: DeleteOptions,
) -> Result<DeleteReport, StoreError> {
    let root = txn
        .root()
        .try_clone()
        .map_err(|e| StoreError::io("open", txn.root().path(), e))?;
    let trash = trash_dir(txn, true)?.expect("created");
    let name = new_batch_name(&trash);
    let annotations = super::annotations::of(txn);
    let mut plan = Plan {
        remove: Some(selection),
        ..Plan::default()
    };
    let result = txn.apply(&mut plan, |outcome| {
        stage(&root, &trash, &name, opts.kind, outcome, &annotations)
    });
    let (outcome, staged) = match result {
        Ok(r) => r,
        Err(Failed {
            error,
            done: Some(staged),
        }) => return Err(roll_back(&root, staged, &name, error)),
        // Failed before any file moved (the new index could not be written).
        Err(Failed {
            error: error @ StoreError::Io { .. },
            done: None,
        }) => return Err(StoreError::NothingChanged(Box::new(error))),
        Err(Failed { error, done: None }) => return Err(error),
    };
    let mut report = DeleteReport {
        removed: outcome.removed,
        ..DeleteReport::default()
    };
    let Some(staged) = staged else {
        return Ok(report);
    };
    for e in &staged.manifest.entries {
        report
            .files
            .extend(e.files.iter().map(|f| (e.id.clone(), f.path.clone())));
        report.left.extend(
            e.left
                .iter()
                .map(|l| (e.id.clone(), l.path.clone(), l.reason.clone())),
        );
    }
    super::annotations::forget(txn, &report.removed_ids());
    let finished = if opts.permanent {
        let purging = format!("{PURGING}{name}");
        staged
            .trash
            .rename_noreplace(&staged.pending, &staged.trash, &purging)
            .and_then(|()| staged.trash.remove_tree(&purging))
    } else {
        report.batch = Some(name.clone());
        staged
            .trash
            .rename_noreplace(&staged.pending, &staged.trash, &name)
    };
    if !opts.permanent && opts.journal {
        super::journal::record(
            txn,
            super::journal::Change::Trash {
                what: opts.kind,
                batch: name.clone(),
                ids: report.removed_ids(),
            },
        );
    }
    if let Err(e) = finished.and_then(|()| staged.trash.sync()) {
        // The index is written: the delete happened. The next change
        // finishes the batch.
        tracing::warn!("finishing trash batch {name}: {e}");
    }
    Ok(report)
}

fn stage(
    root: &Dir,
    trash: &Dir,
    name: &str,
    kind: BatchKind,
    outcome: &Outcome,
    annotations: &serde_json::Map<String, serde_json::Value>,
) -> Result<Staged, StoreError> {
    let leaving: HashSet<&str> = outcome.removed.iter().map(|r| r.id.as_str()).collect();
    let mut manifest = Manifest {
        version: 1,
        batch: name.to_string(),
        created: super::now_iso(),
        kind,
        entries: Vec::new(),
    };
    let mut to_move: Vec<(Dir, String, RelPath)> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for r in &outcome.removed {
        let mut te = TrashEntry {
            id: r.id.clone(),
            position: r.position,
            text: r.text.clone(),
            restored: false,
            files: Vec::new(),
            left: Vec::new(),
            annotations: annotations.get(&r.id).cloned(),
            annotations_pending: false,
        };
        for (field, raw) in entry_files(&r.text) {
            let mut leave = |reason: String| {
                te.left.push(LeftFile {
                    field: field.name().into(),
                    path: raw.clone(),
                    reason,
                })
            };
            let p = match RelPath::parse(&raw) {
                Ok(p) => p,
                Err(reason) => {
                    leave(reason);
                    continue;
                }
            };
            if let Some(reason) = outcome.claims.conflict(&r.id, &p, &|x| leaving.contains(x)) {
                leave(reason);
                continue;
            }
            if !seen.insert(p.to_string()) {
                // Another entry of this batch refers to it: it moves once.
                continue;
            }
            match paths::locate(root, &p) {
                Located::Missing => leave("it was already missing".into()),
                Located::Refused(reason) => leave(reason),
                Located::Present {
                    parent,
                    name,
                    bytes,
                } => {
                    te.files.push(TrashFile {
                        field: field.name().into(),
                        path: p.to_string(),
                        bytes,
                    });
                    to_move.push((parent, name, p));
                }
            }
        }
        manifest.entries.push(te);
    }
    let pending = format!("{PENDING}{name}");
    let batch = trash
        .sub_or_create(&pending)
        .map_err(|e| StoreError::io("create", &trash.join(&pending), e))?;
    let fail = |e: StoreError| {
        let _ = trash.remove_tree(&pending);
        e
    };
    write_manifest(&batch, &manifest).map_err(fail)?;
    let trash = trash
        .try_clone()
        .map_err(|e| fail(StoreError::io("open", trash.path(), e)))?;
    let mut staged = Staged {
        trash,
        pending,
        batch,
        manifest,
        moved: Vec::new(),
    };
    let mut parents: Vec<Dir> = Vec::new();
    for (parent, fname, p) in to_move {
        if let Err(e) = move_in(&parent, &fname, &staged.batch, &p) {
            let error = StoreError::io("move to the trash", &root.join(&p.to_string()), e);
            return Err(roll_back(root, staged, name, error));
        }
        if !parents.iter().any(|d| d.path() == parent.path()) {
            parents.push(parent);
        }
        staged.moved.push(p);
    }
    // The moves are on disk before the index says the entries are gone.
    for d in &parents {
        let _ = d.sync();
    }
    for p in &staged.moved {
        if let Ok(d) = files_dir(&staged.batch, p, false) {
            let _ = d.sync();
        }
    }
    let _ = staged.batch.sync();
    let _ = staged.trash.sync();
    Ok(staged)
}

/// After a failed delete: the moved files go back; what cannot (its place
/// was taken meanwhile) stays in a batch of leftovers. Returns the error to
/// report, saying what state things are in.
fn roll_back(root: &Dir, mut staged: Staged, name: &str, error: StoreError) -> StoreError {
    let mut stuck: HashSet<String> = HashSet::new();
    for p in &staged.moved {
        if let Err(why) = move_back(root, &staged.batch, p) {
            tracing::warn!("rolling back a delete: {p}: {why}");
            stuck.insert(p.to_string());
        }
    }
    for e in &mut staged.manifest.entries {
        // The index still has them.
        e.restored = true;
        e.files.retain(|f| stuck.contains(&f.path));
    }
    let _ = finalize(&staged.trash, &staged.pending, name, &staged.manifest);
    if stuck.is_empty() {
        return StoreError::NothingChanged(Box::new(error));
    }
    let mut stuck: Vec<String> = stuck.into_iter().collect();
    stuck.sort();
    StoreError::RolledBackPartly {
        error: Box::new(error),
        stuck,
        batch: staged.trash.join(name).join(FILES),
    }
}

/// Removes a batch that holds nothing any more, or writes its manifest and
/// gives it its final name. A batch whose `files/` still holds something
/// its manifest does not list is kept (nothing genhist did not account for
/// is ever removed): the answer is then a note saying where.
fn finalize(
    trash: &Dir,
    current: &str,
    final_name: &str,
    m: &Manifest,
) -> Result<Option<String>, StoreError> {
    let path = trash.join(current);
    let batch = trash
        .sub(current)
        .map_err(|e| StoreError::io("open", &path, e))?;
    let mut note = None;
    if m.entries
        .iter()
        .all(|e| e.restored && e.files.is_empty() && !e.annotations_pending)
    {
        let emptied = match batch.stat(FILES) {
            Ok(None) => true,
            _ => batch
                .remove_empty_dirs(FILES)
                .map_err(|e| StoreError::io("remove", &path.join(FILES), e))?,
        };
        let others = batch
            .entries()
            .map_err(|e| StoreError::io("read", &path, e))?
            .into_iter()
            .any(|(n, _)| {
                n.to_str()
                    .is_none_or(|n| n != MANIFEST && !fsutil::is_temp_name(n))
            });
        if emptied && !others {
            // The manifest and what a killed writer of it left.
            for n in batch.names().unwrap_or_default() {
                let _ = batch.unlink(&n);
            }
            drop(batch);
            return match trash.remove_empty_dirs(current) {
                Ok(_) => Ok(None),
                Err(e) => Err(StoreError::io("remove", &path, e)),
            };
        }
        note = Some(format!(
            "trash batch {final_name} holds files its manifest does not list; \
             they stay in {} (`genhist trash list`)",
            trash.join(final_name).join(FILES).display()
        ));
    }
    write_manifest(&batch, m)?;
    if current != final_name {
        trash
            .rename_noreplace(current, trash, final_name)
            .map_err(|e| StoreError::io("rename", &path, e))?;
    }
    let _ = trash.sync();
    Ok(note)
}

/// What the trash directory holds: the committed batches, newest first,
/// and names that are not batches (a stray file, a symlink), left alone.
struct Contents {
    batches: Vec<String>,
    strays: Vec<String>,
}

fn contents(trash: &Dir) -> Result<Contents, StoreError> {
    let mut c = Contents {
        batches: Vec::new(),
        strays: Vec::new(),
    };
    let entries = trash
        .entries()
        .map_err(|e| StoreError::io("read", trash.path(), e))?;
    for (name, kind) in entries {
        let Ok(name) = name.into_string() else {
            c.strays.push("(a name that is not UTF-8)".into());
            continue;
        };
        let is_dir = match kind {
            rustix::fs::FileType::Directory => true,
            rustix::fs::FileType::Unknown => trash
                .stat(&name)
                .ok()
                .flatten()
                .is_some_and(|st| fsutil::kind(&st) == rustix::fs::FileType::Directory),
            _ => false,
        };
        if is_dir && !name.starts_with('.') {
            c.batches.push(name);
        } else if !is_dir && !fsutil::is_temp_name(&name) {
            c.strays.push(name);
        }
    }
    c.batches.sort_unstable_by(|a, b| b.cmp(a));
    c.strays.sort();
    Ok(c)
}

/// The committed batches, newest first.
fn batch_names(trash: &Dir) -> Result<Vec<String>, StoreError> {
    contents(trash).map(|c| c.batches)
}

/// Checks what an undo of `m` would put into the index: each entry's
/// stored text must be one JSON object whose `entry_id` is the entry's own
/// id, with every field the Python tool needs and none it does not know,
/// and no id may come twice (a text the Python tool cannot read would
/// make it treat the whole index as corrupt and erase every take).
fn check_restorable(m: &Manifest) -> Result<(), String> {
    let mut seen = HashSet::new();
    for e in m.entries.iter().filter(|e| !e.restored) {
        let shown = crate::text::sanitize(crate::text::cut(&e.id, 40)).into_owned();
        if !seen.insert(e.id.as_str()) {
            return Err(format!("the take {shown} is in it twice"));
        }
        let text = super::nonfinite::to_markers(e.text.as_bytes());
        match serde_json::from_slice::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(o)) => {
                match o.get("entry_id") {
                    Some(serde_json::Value::String(id)) if *id == e.id => {}
                    _ => {
                        return Err(format!(
                            "the stored text of {shown} does not hold its own entry_id"
                        ))
                    }
                }
                if let Err(why) = super::entry::check_seed_fields(&o) {
                    return Err(format!(
                        "the Python tool could not load the stored text of {shown}: {why}"
                    ));
                }
            }
            Ok(_) => return Err(format!("the stored text of {shown} is not a JSON object")),
            Err(err) => {
                return Err(format!(
                    "the stored text of {shown} is not valid JSON ({})",
                    super::read::strip_position(&err.to_string())
                ))
            }
        }
    }
    Ok(())
}

/// Restores the newest batch that has entries not yet restored: the
/// entries go back into the index at their old places with their stored
/// text, then their files go back, each only to a free path. What cannot go
/// back stays in the trash and is named in the report.
pub(crate) fn undo_in(txn: &mut Txn) -> Result<UndoReport, StoreError> {
    let root = txn
        .root()
        .try_clone()
        .map_err(|e| StoreError::io("open", txn.root().path(), e))?;
    let Some(trash) = trash_dir(txn, false)? else {
        return Err(StoreError::NothingToUndo);
    };
    let mut picked = None;
    let mut not_undoable = 0;
    for name in batch_names(&trash)? {
        let Ok(batch) = trash.sub(&name) else {
            continue;
        };
        match read_manifest(&batch) {
            Some(m) if m.entries.iter().any(|e| !e.restored) => {
                picked = Some((name, m));
                break;
            }
            Some(_) => not_undoable += 1,
            None => {
                not_undoable += 1;
                txn.notes.push(format!(
                    "trash batch {name} has no readable manifest; skipped"
                ));
            }
        }
    }
    let Some((name, manifest)) = picked else {
        if not_undoable > 0 {
            return Err(StoreError::BadInput(format!(
                "nothing to undo: the trash holds {} that cannot be undone \
                 (left-over files; `genhist trash list` shows them)",
                crate::text::count(not_undoable, "batch", "batches")
            )));
        }
        return Err(StoreError::NothingToUndo);
    };
    restore_batch(txn, root, trash, name, manifest)
}

/// The newest batch that holds all of `ids`, not restored (where a delete
/// killed before the journal was written, or a redo, put them).
pub(crate) fn batch_holding(txn: &Txn, ids: &[String]) -> Option<String> {
    let trash = trash_dir(txn, false).ok()??;
    batch_names(&trash).ok()?.into_iter().find(|name| {
        trash
            .sub(name)
            .ok()
            .and_then(|b| read_manifest(&b))
            .is_some_and(|m| {
                ids.iter()
                    .all(|id| m.entries.iter().any(|e| &e.id == id && !e.restored))
            })
    })
}

/// Restores the trash batch `name` (the delete an action of the journal
/// made); an error when it is gone (purged) or holds nothing to restore.
pub(crate) fn undo_batch_in(txn: &mut Txn, name: &str) -> Result<UndoReport, StoreError> {
    let root = txn
        .root()
        .try_clone()
        .map_err(|e| StoreError::io("open", txn.root().path(), e))?;
    let gone = || {
        StoreError::BadInput(format!(
            "the trash no longer holds batch {name} (purged); nothing was changed"
        ))
    };
    let trash = trash_dir(txn, false)?.ok_or_else(gone)?;
    let batch = trash.sub(name).map_err(|_| gone())?;
    let manifest = read_manifest(&batch).ok_or_else(|| {
        StoreError::BadInput(format!(
            "trash batch {name} has no readable manifest; nothing was changed"
        ))
    })?;
    if !manifest.entries.iter().any(|e| !e.restored) {
        return Err(gone());
    }
    restore_batch(txn, root, trash, name.to_string(), manifest)
}

/// Puts batch `name` back: checked texts, index, files, annotations.
// Long: the order of its steps is the crash safety (checked texts, the
// rename to `.restoring-`, the index, the files, the annotations, the
// final name); each is short and in sequence.
fn restore_batch(
    txn: &mut Txn,
    root: Dir,
    trash: Dir,
    name: String,
    mut manifest: Manifest,
) -> Result<UndoReport, StoreError> {
    if let Err(why) = check_restorable(&manifest) {
        return Err(StoreError::BadInput(format!(
            "trash batch {name} cannot be restored: {why}; nothing was changed \
             (the batch stays in {}; `genhist trash purge --all` removes it)",
            trash.join(&name).display()
        )));
    }
    let restoring = format!("{RESTORING}{name}");
    trash
        .rename_noreplace(&name, &trash, &restoring)
        .map_err(|e| StoreError::io("rename", &trash.join(&name), e))?;
    let mut plan = Plan {
        restore: manifest
            .entries
            .iter()
            .filter(|e| !e.restored)
            .map(|e| RemovedEntry {
                position: e.position,
                id: e.id.clone(),
                text: e.text.clone(),
            })
            .collect(),
        ..Plan::default()
    };
    let outcome = match txn.apply(&mut plan, |_| Ok(())) {
        Ok((o, _)) => o,
        Err(f) => {
            let _ = trash.rename_noreplace(&restoring, &trash, &name);
            return Err(f.error);
        }
    };
    crate::fault::kill_point("undo-after-index");
    let batch = trash
        .sub(&restoring)
        .map_err(|e| StoreError::io("open", &trash.join(&restoring), e))?;
    let mut report = UndoReport {
        batch: name.clone(),
        already_present: outcome.already_present.clone(),
        ..UndoReport::default()
    };
    for e in &mut manifest.entries {
        if e.restored {
            continue;
        }
        if outcome.restored.contains(&e.id) {
            e.restored = true;
            report.restored.push(RemovedEntry {
                position: e.position,
                id: e.id.clone(),
                text: e.text.clone(),
            });
            if let Some(a) = &e.annotations {
                report.annotations.push((e.id.clone(), a.clone()));
            }
            let mut kept = Vec::new();
            for f in std::mem::take(&mut e.files) {
                let back = RelPath::parse(&f.path).and_then(|p| move_back(&root, &batch, &p));
                match back {
                    Ok(()) => report.files += 1,
                    Err(why) => {
                        let at = held_at(&trash, &name, &batch, &f.path);
                        if at.is_some() {
                            kept.push(f.clone());
                        }
                        report.left.push((f.path.clone(), why, at));
                    }
                }
            }
            e.files = kept;
        } else if outcome.already_present.contains(&e.id) {
            // Another program put the entry back meanwhile: its files go
            // back too, where their places are free.
            e.restored = true;
            let mut kept = Vec::new();
            for f in std::mem::take(&mut e.files) {
                let back = RelPath::parse(&f.path).and_then(|p| move_back(&root, &batch, &p));
                match back {
                    Ok(()) => report.files += 1,
                    Err(why) => {
                        let at = held_at(&trash, &name, &batch, &f.path);
                        if at.is_some() {
                            kept.push(f.clone());
                        }
                        report.left.push((
                            f.path.clone(),
                            format!("{why} (the history has this take again)"),
                            at,
                        ));
                    }
                }
            }
            e.files = kept;
        }
    }
    crate::fault::kill_point("undo-before-annotations");
    if let Err(e) = super::annotations::restore(txn, &report.annotations) {
        // The batch keeps them, still marked as being restored: the next
        // command puts them back (see `recover`).
        let back: HashSet<&str> = report
            .annotations
            .iter()
            .map(|(id, _)| id.as_str())
            .collect();
        for te in &mut manifest.entries {
            if back.contains(te.id.as_str()) {
                te.annotations_pending = true;
            }
        }
        write_manifest(&batch, &manifest)?;
        report.annotations_pending = Some(e.to_string());
        return Ok(report);
    }
    if let Some(note) = finalize(&trash, &restoring, &name, &manifest)? {
        txn.notes.push(note);
    }
    Ok(report)
}

/// True when `dir` has a batch a killed genhist left unfinished.
pub(crate) fn needs_recovery(dir: &Path) -> bool {
    std::fs::read_dir(dir.join(GENHIST_DIR).join(TRASH_DIR)).is_ok_and(|rd| {
        rd.flatten().any(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.starts_with(PENDING) || n.starts_with(RESTORING) || n.starts_with(PURGING)
        })
    })
}

/// Finishes or rolls back the batches a killed genhist left, entry by
/// entry: an entry the index has gets its files back; one it does not have
/// stays in the trash. Returns notes for the user. A batch that cannot be
/// finished is a note, and the others are still finished.
pub(crate) fn recover(txn: &Txn) -> Result<Vec<String>, StoreError> {
    let Some(trash) = trash_dir(txn, false)? else {
        return Ok(Vec::new());
    };
    let unfinished: Vec<String> = trash
        .names()
        .map_err(|e| StoreError::io("read", trash.path(), e))?
        .into_iter()
        .filter(|n| n.starts_with(PENDING) || n.starts_with(RESTORING) || n.starts_with(PURGING))
        .collect();
    if unfinished.is_empty() {
        return Ok(Vec::new());
    }
    let ids = txn.index_ids()?;
    let mut notes = Vec::new();
    for current in unfinished {
        if let Err(e) = recover_batch(txn, &trash, &ids, &current, &mut notes) {
            let what = if current.starts_with(PURGING) {
                "purge"
            } else if current.starts_with(PENDING) {
                "delete"
            } else {
                "undo"
            };
            notes.push(format!(
                "could not finish an interrupted {what} ({}): {e}",
                trash.join(&current).display()
            ));
        }
    }
    Ok(notes)
}

/// Finishes one batch a killed genhist left (see [`recover`]).
// Long: each state of a batch handled in order (purging, no manifest,
// entries, annotations, final name).
fn recover_batch(
    txn: &Txn,
    trash: &Dir,
    ids: &HashSet<String>,
    current: &str,
    notes: &mut Vec<String>,
) -> Result<(), StoreError> {
    if let Some(name) = current.strip_prefix(PURGING) {
        super::journal::forget_batches(txn, &[name.to_string()]);
        return trash
            .remove_tree(current)
            .map_err(|e| StoreError::io("remove", &trash.join(current), e));
    }
    let root = txn.root();
    let final_name = current
        .trim_start_matches(PENDING)
        .trim_start_matches(RESTORING)
        .to_string();
    let batch = trash
        .sub(current)
        .map_err(|e| StoreError::io("open", &trash.join(current), e))?;
    let Some(mut manifest) = read_manifest(&batch) else {
        // The manifest is written before any file moves: without one,
        // nothing was moved, unless files say otherwise.
        let empty = batch.sub(FILES).is_err();
        if empty {
            trash
                .remove_tree(current)
                .map_err(|e| StoreError::io("remove", &trash.join(current), e))?;
        } else {
            let keep = format!("{final_name}-unreadable");
            let _ = trash.rename_noreplace(current, trash, &keep);
            notes.push(format!(
                "kept files of an interrupted delete without a manifest in {}",
                trash.join(&keep).display()
            ));
        }
        return Ok(());
    };
    let (mut back, mut kept) = (0, 0);
    let undoing = current.starts_with(RESTORING);
    for e in &mut manifest.entries {
        if e.restored || !ids.contains(&e.id) {
            if !e.restored {
                kept += 1;
            }
            continue;
        }
        e.restored = true;
        // An undo killed after the index was written: the take's
        // annotations go back with it.
        e.annotations_pending = undoing && e.annotations.is_some();
        back += 1;
        e.files.retain(|f| match RelPath::parse(&f.path) {
            // Not moved before the crash: still where it belongs.
            Ok(p) if !in_batch(&batch, &p) => false,
            Ok(p) => match move_back(root, &batch, &p) {
                Ok(()) => false,
                Err(why) => {
                    notes.push(format!(
                        "could not put {p} back: {why}; it stays in the trash"
                    ));
                    true
                }
            },
            Err(_) => true,
        });
    }
    let pending: Vec<(String, serde_json::Value)> = manifest
        .entries
        .iter()
        .filter(|e| e.annotations_pending)
        .filter_map(|e| Some((e.id.clone(), e.annotations.clone()?)))
        .collect();
    if !pending.is_empty() {
        if let Err(e) = super::annotations::restore(txn, &pending) {
            write_manifest(&batch, &manifest)?;
            notes.push(format!(
                "could not put back the ratings, tags and notes of {} yet ({e}); \
                 they stay in {} and the next command tries again",
                crate::text::count(pending.len(), "restored take", "restored takes"),
                trash.join(current).display()
            ));
            return Ok(());
        }
        for e in &mut manifest.entries {
            e.annotations_pending = false;
        }
    }
    if let Some(note) = finalize(trash, current, &final_name, &manifest)? {
        notes.push(note);
    }
    // A delete killed before it wrote the journal: undo can reach it.
    if current.starts_with(PENDING) && kept > 0 {
        super::journal::ensure_recorded(
            txn,
            super::journal::Change::Trash {
                what: manifest.kind,
                batch: final_name.clone(),
                ids: manifest
                    .entries
                    .iter()
                    .filter(|e| !e.restored)
                    .map(|e| e.id.clone())
                    .collect(),
            },
        );
    }
    let takes = |n| crate::text::count(n, "take", "takes");
    let mut said = if current.starts_with(PENDING) {
        format!(
            "finished an interrupted delete: {} deleted (in the trash), {} left in the history",
            takes(kept),
            takes(back)
        )
    } else if back + kept > 0 {
        format!(
            "finished an interrupted undo: {} restored, {} still in the trash",
            takes(back),
            takes(kept)
        )
    } else {
        "finished an interrupted undo".to_string()
    };
    if !pending.is_empty() {
        said.push_str(&format!(
            "; put back the ratings, tags and notes of {}",
            takes(pending.len())
        ));
    }
    notes.push(said);
    Ok(())
}

/// Removes batches made more than `keep` ago. The newest batch is never
/// removed by retention, however short: a delete can always be undone by
/// the command right after it.
pub(crate) fn purge_expired(txn: &Txn, keep: Duration) -> Result<PurgeReport, StoreError> {
    purge_older(txn, keep, true)
}

fn purge_older(txn: &Txn, keep: Duration, spare_newest: bool) -> Result<PurgeReport, StoreError> {
    let now = chrono::Utc::now();
    let keep = chrono::Duration::from_std(keep).unwrap_or(chrono::Duration::MAX);
    purge_where(txn, spare_newest, |name| {
        batch_time(name).is_some_and(|t| now.signed_duration_since(t) > keep)
    })
}

/// Removes the batches `expired` says, each first renamed out of the
/// undoable set (`.purging-<b>`), so a purge killed part-way leaves every
/// batch whole or gone (recovery removes what it left).
fn purge_where(
    txn: &Txn,
    spare_newest: bool,
    expired: impl Fn(&str) -> bool,
) -> Result<PurgeReport, StoreError> {
    let Some(trash) = trash_dir(txn, false)? else {
        return Ok(PurgeReport::default());
    };
    let c = contents(&trash)?;
    let mut report = PurgeReport {
        skipped: c.strays,
        ..PurgeReport::default()
    };
    let skip = usize::from(spare_newest);
    let mut gone = Vec::new();
    // The journal forgets them whatever happens next: a batch renamed out
    // is as good as gone (recovery removes what a killed purge left).
    let forget = |gone: &[String]| super::journal::forget_batches(txn, gone);
    for name in c.batches.iter().skip(skip) {
        if !expired(name) {
            continue;
        }
        let bytes = trash.tree_size(name).unwrap_or(0);
        let purging = format!("{PURGING}{name}");
        trash
            .rename_noreplace(name, &trash, &purging)
            .map_err(|e| StoreError::io("rename", &trash.join(name), e))?;
        crate::fault::kill_point("purge-renamed");
        gone.push(name.clone());
        if let Err(e) = trash.remove_tree(&purging) {
            forget(&gone);
            return Err(StoreError::io("remove", &trash.join(&purging), e));
        }
        report.batches += 1;
        report.bytes += bytes;
    }
    forget(&gone);
    Ok(report)
}

/// What `trash purge` removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeWhat {
    OlderThan(Duration),
    All,
}

/// Removes trash batches for good.
pub(crate) fn purge_in(txn: &Txn, what: PurgeWhat) -> Result<PurgeReport, StoreError> {
    match what {
        PurgeWhat::All => purge_where(txn, false, |_| true),
        PurgeWhat::OlderThan(d) => purge_older(txn, d, false),
    }
}

/// What the trash holds: its batches, newest first, and names in it that
/// are not batches (left alone by every command).
#[derive(Debug, Default)]
pub struct Listing {
    pub batches: Vec<BatchInfo>,
    pub skipped: Vec<String>,
}

impl Listing {
    /// Bytes the batches hold, and the takes `undo` could bring back.
    pub(crate) fn totals(&self) -> (u64, usize) {
        let bytes = self.batches.iter().map(|b| b.bytes).sum();
        let takes = self
            .batches
            .iter()
            .filter_map(|b| b.manifest.as_ref())
            .map(|m| m.entries.iter().filter(|e| !e.restored).count())
            .sum();
        (bytes, takes)
    }
}

/// The batches in the trash, newest first.
pub fn list(dir: &Path) -> Result<Listing, StoreError> {
    let path = dir.join(GENHIST_DIR).join(TRASH_DIR);
    let trash = match Dir::open(dir).and_then(|d| d.walk(&[GENHIST_DIR, TRASH_DIR], false)) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Listing::default()),
        Err(e) => return Err(StoreError::io("read", &path, e)),
    };
    let c = contents(&trash)?;
    let mut out = Vec::new();
    for name in c.batches {
        let Ok(batch) = trash.sub(&name) else {
            continue;
        };
        let manifest = read_manifest(&batch);
        out.push(BatchInfo {
            created: batch_time(&name),
            undoable: manifest
                .as_ref()
                .is_some_and(|m| m.entries.iter().any(|e| !e.restored)),
            bytes: trash.tree_size(&name).unwrap_or(0),
            manifest,
            name,
        });
    }
    Ok(Listing {
        batches: out,
        skipped: c.strays,
    })
}

/// Bytes the trash holds.
pub fn size(dir: &Path) -> u64 {
    Dir::open(dir)
        .and_then(|d| d.sub(GENHIST_DIR))
        .and_then(|g| g.tree_size(TRASH_DIR))
        .unwrap_or(0)
}

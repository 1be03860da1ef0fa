//! The one way genhist changes a history directory: a transaction ([`Txn`])
//! holds the directory's lock (taken by [`super::change::begin`], which
//! also tidies up after writers that died).
//! [`Txn::apply`] rewrites the index into a temp file, does the
//! change's own file work once, checks that no other program replaced the
//! index meanwhile (else rewrites again over its version), and renames the
//! temp file into place. An index that keeps changing ends in an error,
//! never in a rename over a file genhist did not read.

use super::dir::{HistoryDir, GENHIST_DIR};
use super::error::StoreError;
use super::read::{self, FileStamp};
use super::rewrite::{self, Outcome, Plan};
use super::stream::{self, Item};
use crate::fsutil::{Dir, DirLock, TempFile};
use std::collections::HashSet;

/// How many times a write re-reads an index another program keeps replacing.
const MAX_ATTEMPTS: usize = 20;

/// A change that failed: the error, and what its file work had done (for
/// the caller to undo).
pub struct Failed<T> {
    pub error: StoreError,
    pub done: Option<T>,
}

impl<T> From<Failed<T>> for StoreError {
    fn from(f: Failed<T>) -> StoreError {
        f.error
    }
}

/// A change in progress: the directory is locked until this is dropped.
pub struct Txn {
    root: Dir,
    _lock: DirLock,
    hd: HistoryDir,
    /// What housekeeping did or could not do, worth telling the user.
    pub notes: Vec<String>,
    /// What the caller's memory holds, when it wants to follow the file
    /// (see [`Txn::track`]).
    known: Option<std::sync::Arc<super::known::Known>>,
    /// How the file changed, over all rewrites of this change.
    delta: super::reload::Delta,
}

impl Drop for Txn {
    fn drop(&mut self) {
        let notes = std::mem::take(&mut self.notes);
        self.hd.deliver(notes);
    }
}

impl Txn {
    pub(super) fn new(root: Dir, lock: DirLock, hd: HistoryDir) -> Txn {
        Txn {
            root,
            _lock: lock,
            hd,
            notes: Vec::new(),
            known: None,
            delta: Default::default(),
        }
    }

    /// Follows the file from what `known` says the caller holds: every
    /// rewrite of this change notes how the file it writes differs (another
    /// program's entries written along with genhist's own change included).
    pub(crate) fn track(&mut self, known: super::known::Known) {
        self.known = Some(std::sync::Arc::new(known));
    }

    /// What the file holds now and how it differs from what was given to
    /// [`Txn::track`] (`None` when not tracking).
    pub(crate) fn tracked(&mut self) -> Option<(super::known::Known, super::reload::Delta)> {
        let known = self.known.take()?;
        let known = std::sync::Arc::try_unwrap(known).unwrap_or_else(|k| (*k).clone());
        Some((known, std::mem::take(&mut self.delta)))
    }

    pub fn root(&self) -> &Dir {
        &self.root
    }

    pub(crate) fn history_dir(&self) -> &HistoryDir {
        &self.hd
    }

    /// `.genhist/`, created when `create`; `None` when absent and not created.
    pub fn genhist(&self, create: bool) -> Result<Option<Dir>, StoreError> {
        let r = if create {
            self.root.sub_or_create(GENHIST_DIR)
        } else {
            self.root.sub(GENHIST_DIR)
        };
        match r {
            Ok(d) => Ok(Some(d)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !create => Ok(None),
            Err(e) => Err(StoreError::io("open", &self.root.join(GENHIST_DIR), e)),
        }
    }

    /// The ids in the index now (for recovery: which entries are in).
    pub(crate) fn index_ids(&self) -> Result<HashSet<String>, StoreError> {
        let index = read::locate_index(self.root.path())?;
        let Some((f, _)) = index.open()? else {
            return Ok(HashSet::new());
        };
        let mut ids = HashSet::new();
        let r = stream::stream(f, |item| {
            if let Item::Entry(e) = item {
                ids.insert(e.key().into_owned());
            }
            Ok::<(), std::convert::Infallible>(())
        });
        match r {
            Ok(()) => Ok(ids),
            Err(e) => match read::stream_error(&index, e)? {},
        }
    }

    /// Rewrites the index as `plan` says. `work` runs once, after the new
    /// index is written to its temp file and before it replaces the old one
    /// (moving files to the trash, say); its result comes back with the
    /// outcome. When another program replaced the index meanwhile, the
    /// rewrite runs again over the new version (with the same entries); when
    /// nothing changes, nothing is written and `work` does not run.
    pub fn apply<T>(
        &mut self,
        plan: &mut Plan,
        work: impl FnOnce(&Outcome) -> Result<T, StoreError>,
    ) -> Result<(Outcome, Option<T>), Failed<T>> {
        let mut work = Some(work);
        let mut done: Option<T> = None;
        for _ in 0..MAX_ATTEMPTS {
            let step = self.attempt(plan, &mut work, &mut done);
            match step {
                Ok(Some(outcome)) => return Ok((outcome, done)),
                Ok(None) => continue,
                Err(error) => return Err(Failed { error, done }),
            }
        }
        let path = read::index_path(self.root.path());
        Err(Failed {
            error: StoreError::KeepsChanging { path },
            done,
        })
    }

    /// Folds one rewrite's delta into the change's.
    fn merge_delta(&mut self, known: super::known::Known, d: super::reload::Delta) {
        let up: HashSet<u64> = d
            .upserts
            .iter()
            .map(|u| match u {
                Ok(e) => super::known::id_hash(&e.entry_id),
                Err(bad) => super::known::id_hash(&bad.entry_id),
            })
            .collect();
        // An entry gone in this rewrite is gone, whatever an earlier one said.
        let gone: HashSet<u64> = d.removed.iter().copied().collect();
        self.delta.upserts.retain(|u| {
            let h = match u {
                Ok(e) => super::known::id_hash(&e.entry_id),
                Err(bad) => super::known::id_hash(&bad.entry_id),
            };
            !gone.contains(&h) && !up.contains(&h)
        });
        self.delta.removed.retain(|h| !up.contains(h));
        self.delta.removed.extend(d.removed);
        self.delta.upserts.extend(d.upserts);
        self.delta.version = d.version;
        self.known = Some(std::sync::Arc::new(known));
    }

    /// One attempt: `Ok(None)` when the index changed under it.
    fn attempt<T>(
        &mut self,
        plan: &mut Plan,
        work: &mut Option<impl FnOnce(&Outcome) -> Result<T, StoreError>>,
        done: &mut Option<T>,
    ) -> Result<Option<Outcome>, StoreError> {
        let index = read::locate_index(self.root.path())?;
        let target = index.target().clone();
        let tdir = Dir::open(&target.dir).map_err(|e| StoreError::io("open", &target.dir, e))?;
        // The temp file first: a directory genhist cannot write to is an
        // error before anything else happens.
        let mut tmp = TempFile::create(&tdir, &target.name, target.stat.as_ref())
            .map_err(|e| StoreError::io("write", index.path(), e))?;
        let (mut src, stamp): (Option<std::fs::File>, Option<FileStamp>) = match index.open()? {
            Some((f, s)) => (Some(f), s),
            None => (None, None),
        };
        plan.track = self.known.clone();
        let mut outcome = rewrite::rewrite(&index, src.as_mut(), &mut tmp, plan)?;
        if !outcome.changed(plan) {
            return Ok(Some(outcome));
        }
        // Against the old file as it was read, while it is still in place.
        if outcome.follow.as_mut().is_some_and(|f| !f.prepare()) {
            outcome.follow = None;
        }
        if let Some(w) = work.take() {
            *done = Some(w(&outcome)?);
            plan.freeze(&outcome);
        }
        if index.stamp_now() != stamp {
            return Ok(None);
        }
        crate::fault::kill_point("index-before-replace");
        crate::fault::writer_point("index-before-replace", &target.real_path());
        // The new file, to carry the sidecar over once it is in place.
        let written = outcome
            .follow
            .is_some()
            .then(|| tmp.file().try_clone().ok())
            .flatten();
        // Exchanged into place, and the file exchanged out checked: the one
        // read here, or it goes back and the change is written again over
        // the new version (a writer that takes no lock loses nothing).
        let committed = tmp
            .commit_if(&target.name, |now| now.map(FileStamp::of_stat) == stamp)
            .map_err(|e| StoreError::io("replace", index.path(), e))?;
        if !committed {
            return Ok(None);
        }
        crate::fault::kill_point("index-replaced");
        crate::fault::editor_point("index-replaced", &target.real_path());
        if let Some(old) = &src {
            // The old file, which another program may still hold open.
            use std::os::fd::AsRawFd;
            let fd = std::path::PathBuf::from(format!("/proc/self/fd/{}", old.as_raw_fd()));
            crate::fault::editor_point("old-index-replaced", &fd);
        }
        let origin = match (outcome.follow.take(), written) {
            (Some(follow), Some(f)) => follow.finish(&f),
            _ => None,
        };
        if let Some((known, delta)) = outcome.tracked.take() {
            // What the store knows is the new file, whose blocks are known
            // when the sidecar was carried over: a reload after another
            // program adds takes then reads only what it added.
            self.merge_delta(known.with_origin(origin), delta);
        }
        Ok(Some(outcome))
    }
}

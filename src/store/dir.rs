//! A history directory as genhist changes it: its path, the trash's
//! retention, and the directory's lock that starts every change.

use super::error::StoreError;
use super::read;
use super::txn::Txn;
use crate::fsutil::{Dir, DirLock};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use super::paths::GENHIST_DIR;

/// How long deleted takes stay in the trash unless configured otherwise.
pub(crate) const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 86_400);

/// Where the notes of a change go (what recovery and housekeeping did, or
/// could not do, on the way): the CLI prints them, the browser shows them.
pub type NoteSink = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// A history directory, as genhist changes it.
#[derive(Clone)]
pub struct HistoryDir {
    path: PathBuf,
    /// Trash batches older than this are purged on the next write;
    /// `None` keeps them until `trash purge`.
    pub retention: Option<Duration>,
    /// Gets each note a change leaves when the change ends (unless the
    /// caller took them from [`Txn::notes`] first).
    notes: Option<NoteSink>,
}

impl std::fmt::Debug for HistoryDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistoryDir")
            .field("path", &self.path)
            .field("retention", &self.retention)
            .field("notes", &self.notes.is_some())
            .finish()
    }
}

impl HistoryDir {
    pub fn new(path: &Path) -> HistoryDir {
        HistoryDir {
            path: path.to_path_buf(),
            retention: Some(DEFAULT_RETENTION),
            notes: None,
        }
    }

    /// Sends the notes of every change here to `sink`.
    pub fn with_notes(mut self, sink: NoteSink) -> HistoryDir {
        self.notes = Some(sink);
        self
    }

    /// Hands notes left in a change to the sink (when there is one).
    pub(crate) fn deliver(&self, notes: Vec<String>) {
        if let Some(sink) = &self.notes {
            for n in notes {
                sink(&n);
            }
        }
    }

    pub fn with_retention(mut self, retention: Option<Duration>) -> HistoryDir {
        self.retention = retention;
        self
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open_root(&self) -> Result<Dir, StoreError> {
        Dir::open(&self.path).map_err(|e| StoreError::io("open", &self.path, e))
    }

    /// The directory's lock, waited for (a change starts with
    /// [`super::change::begin`], which tidies up next).
    pub(crate) fn lock(&self) -> Result<Txn, StoreError> {
        let root = self.open_root()?;
        // A FIFO, a device, a dangling link: refused before anything else.
        read::locate_index(&self.path)?;
        let lock = DirLock::acquire(&root).map_err(|e| StoreError::io("lock", &self.path, e))?;
        Ok(Txn::new(root, lock, self.clone()))
    }

    /// The directory's lock if no other genhist holds it.
    pub(crate) fn try_lock(&self) -> Option<Txn> {
        let root = self.open_root().ok()?;
        match DirLock::try_acquire(&root) {
            Ok(Some(lock)) => Some(Txn::new(root, lock, self.clone())),
            _ => None,
        }
    }
}

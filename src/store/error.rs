//! Errors of the history store, worded so a user knows what to do next.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path} is broken at line {line}, column {column}: {message}. genhist will not write over it; fix or restore the file (nothing was changed)")]
    CorruptIndex {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path} has format version {found}; genhist writes only version 1, so it will not change this file")]
    UnsupportedVersion { path: PathBuf, found: String },
    /// The OS error is part of the message, not a separate cause, so it is
    /// printed once.
    #[error("cannot {action} {path}: {err}")]
    Io {
        action: &'static str,
        path: PathBuf,
        err: std::io::Error,
    },
    #[error("{path} is {what}; genhist did not read or change it")]
    NotRegular { path: PathBuf, what: String },
    #[error("{path} kept changing while genhist tried to write it (another program is writing it?); nothing was changed, try again")]
    KeepsChanging { path: PathBuf },
    #[error("no entry matches '{0}'")]
    NotFound(String),
    #[error("'{prefix}' matches {} entries: {}; type more characters", .candidates.len(), .candidates.join(", "))]
    Ambiguous {
        prefix: String,
        candidates: Vec<String>,
    },
    #[error("'{0}' is too short: give at least 4 characters of an id")]
    PrefixTooShort(String),
    #[error("entry {id}: {reason}")]
    InvalidPath { id: String, reason: String },
    #[error("entry {id} is invalid: {reason}")]
    InvalidEntry { id: String, reason: String },
    #[error("{path}: {message}")]
    Audio { path: PathBuf, message: String },
    /// A change that failed and was rolled back completely.
    #[error("{0}; nothing was changed")]
    NothingChanged(Box<StoreError>),
    /// A change that failed, rolled back but for files that could not go back.
    #[error("{error}; the index is unchanged, but {} could not go back to their places and stay in {}", .stuck.join(", "), .batch.display())]
    RolledBackPartly {
        error: Box<StoreError>,
        stuck: Vec<String>,
        batch: PathBuf,
    },
    #[error("nothing to undo")]
    NothingToUndo,
    #[error("nothing to redo")]
    NothingToRedo,
    #[error("{0}")]
    BadInput(String),
}

impl StoreError {
    /// An I/O failure; a refusal from `fsutil` (a symlink, a FIFO, ...)
    /// becomes [`StoreError::NotRegular`] with its own words.
    pub fn io(action: &'static str, path: &Path, err: std::io::Error) -> StoreError {
        if let Some(r) = crate::fsutil::refusal(&err) {
            return StoreError::NotRegular {
                path: r.path.clone(),
                what: r.what.clone(),
            };
        }
        StoreError::Io {
            action,
            path: path.to_path_buf(),
            err,
        }
    }
}

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
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
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
    #[error("{0}")]
    BadInput(String),
}

impl StoreError {
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

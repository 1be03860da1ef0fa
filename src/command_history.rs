//! The `:` bar's input history: a port of the seed's HistoryManager (one command
//! per line in `.genhist_history` inside the history directory, Up/Down with the
//! "-1 = new input" convention, search, no consecutive duplicates, capped).
//!
//! Stronger than the seed where it matters: saves are atomic (temp + rename),
//! a save merges with what another genhist window wrote meanwhile, pasted
//! newlines and control characters become one clean line, a file that cannot
//! be read is never written over (commands are kept in memory meanwhile), and
//! errors are kept (once) for the status bar instead of being swallowed.

use crate::fsutil::{self, DirLock};
use std::path::{Path, PathBuf};

pub const DEFAULT_FILE: &str = ".genhist_history";
pub(crate) const DEFAULT_MAX_ENTRIES: usize = 1000;

/// The largest command history file genhist reads (far beyond
/// [`DEFAULT_MAX_ENTRIES`] lines of any length people type).
const MAX_FILE_BYTES: u64 = 16 << 20;

/// The longest command kept (bytes). Nobody types more; a longer line in
/// the file (written by something else) is left out when it is read, so
/// recalling it can never stall the bar, and a longer command is run but
/// not kept.
pub(crate) const MAX_COMMAND_BYTES: usize = 4096;

/// Persistent command history.
#[derive(Debug)]
pub struct CommandHistory {
    path: PathBuf,
    max_entries: usize,
    history: Vec<String>,
    /// -1 = new input; otherwise an index into `history`.
    current: isize,
    /// Commands added but not yet written (the file could not be saved).
    unsaved: Vec<String>,
    error: Option<String>,
    error_reported: bool,
}

impl CommandHistory {
    /// The seed's constructor: `dir/file_name`, capped at `max_entries`; loads at once.
    pub fn new(dir: &Path, file_name: &str, max_entries: usize) -> CommandHistory {
        CommandHistory::at_path(dir.join(file_name), max_entries)
    }

    /// A history stored at an explicit path (the `--command-history` option).
    pub fn at_path(path: PathBuf, max_entries: usize) -> CommandHistory {
        let mut h = CommandHistory {
            path,
            max_entries: max_entries.max(1),
            history: Vec::new(),
            current: -1,
            unsaved: Vec::new(),
            error: None,
            error_reported: false,
        };
        match h.read_disk() {
            Ok(lines) => {
                h.history = lines;
                if h.history.len() > h.max_entries {
                    let cut = h.history.len() - h.max_entries;
                    h.history.drain(..cut);
                    let snapshot = h.history.clone();
                    if let Err(e) = write_atomic(&h.path, &snapshot) {
                        h.fail("save", e);
                    }
                }
            }
            Err(e) => h.fail("read", e),
        }
        h
    }

    fn fail(&mut self, what: &str, e: std::io::Error) {
        let msg = match what {
            "read" => format!(
                "cannot read the command history {}: {e}; it is left as it is and commands are kept in memory",
                self.path.display()
            ),
            _ => format!("cannot {what} the command history {}: {e}", self.path.display()),
        };
        tracing::warn!("{msg}");
        if self.error.is_none() {
            self.error = Some(msg);
        }
    }

    /// The first read/write failure, once: for a non-blocking status message.
    pub fn take_error(&mut self) -> Option<String> {
        if self.error_reported {
            return None;
        }
        let e = self.error.clone()?;
        self.error_reported = true;
        Some(e)
    }

    /// The file's lines; an error when it cannot be read whole (it is then
    /// never written over). Bytes that are not UTF-8 count as unreadable:
    /// rewriting them would lose them.
    fn read_disk(&self) -> std::io::Result<Vec<String>> {
        // A FIFO or a device there is refused at once, and a file beyond
        // any real history (a link to /dev/zero) is never read whole.
        // A symlink is not followed: it could make a save write over
        // anything (the history's index, say).
        if std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "it is a symlink (genhist reads and writes its command history only as a regular file)",
            ));
        }
        match crate::fsutil::read_regular_bounded(&self.path, MAX_FILE_BYTES) {
            Ok(bytes) => Ok(String::from_utf8(bytes)
                .map_err(|_| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "it holds bytes that are not UTF-8 text",
                    )
                })?
                .split('\n')
                .map(|l| l.strip_suffix('\r').unwrap_or(l))
                .filter(|l| !l.trim().is_empty() && l.len() <= MAX_COMMAND_BYTES)
                .map(str::to_string)
                .collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Adds a command (trimmed; empty ignored; equal to the newest one ignored),
    /// caps, saves at once, and resets navigation. The save appends to what is on
    /// disk now, so commands another window added meanwhile are kept. When the
    /// file cannot be read, nothing is written: the command is kept in memory
    /// and saved once the file can be read again.
    pub fn add(&mut self, command: &str) {
        let clean = clean_command(command);
        if clean.is_empty() || clean.len() > MAX_COMMAND_BYTES {
            return;
        }
        let _lock = lock_dir_of(&self.path);
        // Merge: start from the file as it is now (another window may have added),
        // then our commands that could not be saved yet, then this one.
        let (base, readable) = match self.read_disk() {
            Ok(disk) => (disk, true),
            Err(e) => {
                self.fail("read", e);
                let keep = self.history.len().saturating_sub(self.unsaved.len());
                (self.history[..keep].to_vec(), false)
            }
        };
        let newest = self.unsaved.last().or(base.last());
        if newest != Some(&clean) {
            self.unsaved.push(clean);
        }
        let mut merged = base;
        merged.extend(self.unsaved.iter().cloned());
        if merged.len() > self.max_entries {
            let cut = merged.len() - self.max_entries;
            merged.drain(..cut);
        }
        self.history = merged;
        if readable && !self.unsaved.is_empty() {
            match write_atomic(&self.path, &self.history) {
                Ok(()) => self.unsaved.clear(),
                Err(e) => {
                    self.fail("save", e);
                    let max = self.max_entries;
                    if self.unsaved.len() > max {
                        let cut = self.unsaved.len() - max;
                        self.unsaved.drain(..cut);
                    }
                }
            }
        }
        self.reset_navigation();
    }

    /// Adds a command to the history in memory only (trimmed, no empty
    /// lines, no repeat of the newest); the browser saves it to the file on
    /// a worker, through another [`CommandHistory`] on the same path.
    pub(crate) fn remember(&mut self, command: &str) {
        let clean = clean_command(command);
        if !clean.is_empty()
            && clean.len() <= MAX_COMMAND_BYTES
            && self.history.last() != Some(&clean)
        {
            self.history.push(clean);
            if self.history.len() > self.max_entries {
                let cut = self.history.len() - self.max_entries;
                self.history.drain(..cut);
            }
        }
        self.reset_navigation();
    }

    /// The command at 0-based `index` (oldest first).
    pub fn get(&self, index: usize) -> Option<&str> {
        self.history.get(index).map(String::as_str)
    }

    /// One step older. From new input it starts at the newest; at the oldest it stays.
    pub fn previous(&mut self) -> Option<String> {
        if self.history.is_empty() {
            return None;
        }
        if self.current == -1 {
            self.current = self.history.len() as isize - 1;
        } else if self.current > 0 {
            self.current -= 1;
        }
        self.history.get(self.current as usize).cloned()
    }

    /// One step newer; past the newest it returns to new input and gives `None`.
    #[allow(clippy::should_implement_trait)] // the seed's name; not an iterator
    pub fn next(&mut self) -> Option<String> {
        if self.current == -1 {
            return None;
        }
        if self.current < self.history.len() as isize - 1 {
            self.current += 1;
            self.history.get(self.current as usize).cloned()
        } else {
            self.current = -1;
            None
        }
    }

    /// The shell's history-search-backward: the next older command starting with
    /// `prefix` (different from `prefix` itself). `None` leaves the position as is.
    pub fn previous_matching(&mut self, prefix: &str) -> Option<String> {
        let start = if self.current == -1 {
            self.history.len() as isize
        } else {
            self.current
        };
        let shown = self.current_entry();
        for i in (0..start).rev() {
            let c = &self.history[i as usize];
            if c.starts_with(prefix) && c != prefix && Some(c) != shown.as_ref() {
                self.current = i;
                return Some(c.clone());
            }
        }
        None
    }

    /// The next newer command starting with `prefix`; past the newest it returns to
    /// new input and gives `None` (the caller restores what was typed).
    pub fn next_matching(&mut self, prefix: &str) -> Option<String> {
        if self.current == -1 {
            return None;
        }
        let shown = self.current_entry();
        for i in (self.current + 1)..self.history.len() as isize {
            let c = &self.history[i as usize];
            if c.starts_with(prefix) && c != prefix && Some(c) != shown.as_ref() {
                self.current = i;
                return Some(c.clone());
            }
        }
        self.current = -1;
        None
    }

    fn current_entry(&self) -> Option<String> {
        (self.current >= 0)
            .then(|| self.history.get(self.current as usize).cloned())
            .flatten()
    }

    /// True while Up/Down navigation is away from new input.
    pub fn navigating(&self) -> bool {
        self.current != -1
    }

    pub fn reset_navigation(&mut self) {
        self.current = -1;
    }

    /// Up to `count` newest commands, newest first, with 1-based indices.
    pub fn recent(&self, count: usize) -> Vec<(usize, String)> {
        self.history
            .iter()
            .enumerate()
            .rev()
            .take(count)
            .map(|(i, c)| (i + 1, c.clone()))
            .collect()
    }

    /// Case-insensitive substring search, newest to oldest, 1-based indices, at most `limit`.
    pub fn search(&self, query: &str, limit: usize) -> Vec<(usize, String)> {
        let q = query.to_lowercase();
        self.history
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, c)| c.to_lowercase().contains(&q))
            .take(limit)
            .map(|(i, c)| (i + 1, c.clone()))
            .collect()
    }

    /// A copy of every command, oldest first.
    pub fn all(&self) -> Vec<String> {
        self.history.clone()
    }

    /// Forgets everything and writes an empty file at once (not over a file
    /// that cannot be read).
    pub fn clear(&mut self) {
        self.history.clear();
        self.unsaved.clear();
        self.current = -1;
        let _lock = lock_dir_of(&self.path);
        if let Err(e) = self.read_disk() {
            self.fail("read", e);
            return;
        }
        if let Err(e) = write_atomic(&self.path, &[]) {
            self.fail("save", e);
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn len(&self) -> usize {
        self.history.len()
    }

    pub fn is_empty(&self) -> bool {
        self.history.is_empty()
    }
}

/// One clean line: line breaks and tabs become spaces, other control characters
/// are dropped, and the ends are trimmed.
pub(crate) fn clean_command(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.trim().to_string()
}

/// Writes the lines (each followed by a newline) atomically.
fn write_atomic(path: &Path, lines: &[String]) -> std::io::Result<()> {
    let mut text = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    fsutil::write_file_here(path, text.as_bytes())
}

/// Serializes read-merge-write between genhist windows: the lock on the
/// directory that holds the history file (the same one index writes use).
fn lock_dir_of(path: &Path) -> Option<DirLock> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    DirLock::acquire_path(dir).ok()
}

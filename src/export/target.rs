//! Where an export may write. Never inside the history directory (its
//! index, genhist's own files, any take's files), however the place is
//! reached: directories and files are compared by identity (device and
//! inode), so a symlink, a bind mount or a hard link to them is refused
//! like the path itself. Never over something that is not a regular file.

use crate::fsutil::{self, Dir};
use crate::store::paths::{locate, Claims, Located, RelPath};
use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

type Id = (u64, u64);

fn id_of(m: &std::fs::Metadata) -> Id {
    (m.dev(), m.ino())
}

/// What an export must never write into or over.
pub(crate) struct Protected {
    /// The history directory, genhist's directory in it, and every
    /// directory that holds a take's file.
    dirs: HashSet<Id>,
    /// The index (the file a symlinked index leads to).
    index: Option<Id>,
    /// The takes' files, gathered when first needed (only a file with more
    /// than one link can be one of them outside their directories).
    files: Option<HashSet<Id>>,
    root: PathBuf,
    /// The directories that hold takes' files.
    take_dirs: Vec<Dir>,
}

impl Protected {
    /// Gathers the identities for the history in `dir` with `claims`.
    pub(crate) fn of(dir: &Path, claims: &Claims) -> Result<Protected, String> {
        let root = Dir::open(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut dirs = HashSet::new();
        let meta = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        dirs.insert(id_of(&meta));
        if let Ok(m) = std::fs::metadata(dir.join(crate::store::GENHIST_DIR)) {
            dirs.insert(id_of(&m));
        }
        let mut take_dirs = Vec::new();
        for parts in claims.dirs() {
            let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
            if let Ok(d) = root.walk(&parts, false) {
                if let Ok(st) = rustix::fs::fstat(&d) {
                    dirs.insert((st.st_dev, st.st_ino));
                    take_dirs.push(d);
                }
            }
        }
        let index = crate::store::read::locate_index(dir)
            .ok()
            .and_then(|i| std::fs::metadata(i.target().real_path()).ok())
            .map(|m| id_of(&m));
        Ok(Protected {
            dirs,
            index,
            files: None,
            root: dir.to_path_buf(),
            take_dirs,
        })
    }

    /// Refuses `dest` (a directory to write into, existing) when it, or a
    /// directory above it, is one of the history's.
    pub(crate) fn check_dir(&self, dest: &Path) -> Result<(), String> {
        let real = dest
            .canonicalize()
            .map_err(|e| format!("{}: {e}", dest.display()))?;
        for a in real.ancestors() {
            if let Ok(m) = std::fs::metadata(a) {
                if self.dirs.contains(&id_of(&m)) {
                    return Err(format!(
                        "{} is inside the history directory {} (or its takes' folders); \
                         an export never writes there",
                        dest.display(),
                        self.root.display()
                    ));
                }
            }
        }
        Ok(())
    }

    /// Refuses to write over `path` (which exists): something that is not a
    /// regular file, the index, or a take's file (through a hard link).
    pub(crate) fn check_file(&mut self, path: &Path) -> Result<(), String> {
        let m = std::fs::symlink_metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if !m.file_type().is_file() {
            return Err(format!(
                "{} is {}: an export only ever writes a regular file",
                path.display(),
                describe(&m)
            ));
        }
        let id = id_of(&m);
        if self.index == Some(id) {
            return Err(format!("{} is the history's index", path.display()));
        }
        if m.nlink() > 1 && self.take_files().contains(&id) {
            return Err(format!(
                "{} is the file of a take in the history (a hard link to it)",
                path.display()
            ));
        }
        Ok(())
    }

    /// Every file in the directories that hold takes' files.
    fn take_files(&mut self) -> &HashSet<Id> {
        if self.files.is_none() {
            let mut ids = HashSet::new();
            for d in &self.take_dirs {
                for (name, _) in d.entries().unwrap_or_default() {
                    if let Ok(st) = rustix::fs::statat(
                        d,
                        name.as_os_str(),
                        rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
                    ) {
                        ids.insert((st.st_dev, st.st_ino));
                    }
                }
            }
            self.files = Some(ids);
        }
        self.files.as_ref().expect("just gathered")
    }
}

/// What a file that is not a regular file is, in words.
pub(crate) fn describe(m: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    if t.is_symlink() {
        "a symlink"
    } else if t.is_dir() {
        "a directory"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// Opens a take's file `rel` in the history `root` for reading (never
/// through a symlink).
pub(crate) fn open_source(root: &Dir, rel: &RelPath) -> Result<(Dir, String, u64), String> {
    match locate(root, rel) {
        Located::Present {
            parent,
            name,
            bytes,
        } => Ok((parent, name, bytes)),
        Located::Missing => Err(format!("{rel} is missing")),
        Located::Refused(why) => Err(format!("{rel}: {why}")),
    }
}

/// The dead temp files a killed export left in `dest`.
pub(crate) fn sweep(dest: &Dir) {
    if let Err(e) = fsutil::sweep_dead_temps(dest) {
        tracing::warn!("sweeping {}: {e}", dest.path().display());
    }
}

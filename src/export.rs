//! Copies of takes outside the history directory (`:export`): never over
//! genhist's own files or any take's files, never over something that is
//! not a regular file, and never a partial file under its final name.

use crate::fsutil::{self, Dir};
use crate::store::paths::{locate, Claims, Located, RelPath};
use std::path::{Path, PathBuf};

/// Why `dest` may not be written by an export from the history in `dir`:
/// it is the index (or the file a symlinked index leads to), anything under
/// `.genhist/`, the command history, a take's file (`claims`), or something
/// that is there and is not a regular file (a device, a FIFO, a directory,
/// a symlink). `dest` is the final file name, after directory expansion.
fn refuse_target(dir: &Path, claims: &Claims, dest: &Path) -> Result<(), String> {
    let shown = dest.display().to_string();
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = dest
        .file_name()
        .ok_or_else(|| format!("{shown} is not a file name"))?;
    let parent = parent
        .canonicalize()
        .map_err(|e| format!("{}: {e}", parent.display()))?;
    let absolute = parent.join(name);
    if let Ok(index) = crate::store::read::locate_index(dir) {
        let real = index.target().real_path();
        let real = real.canonicalize().unwrap_or(real);
        if absolute == real {
            return Err(format!("{shown} is the history's index, history.json"));
        }
    }
    if let Ok(root) = dir.canonicalize() {
        if let Ok(rel) = absolute.strip_prefix(&root) {
            let rel = rel.to_string_lossy();
            let p = RelPath::parse(&rel).map_err(|why| format!("{shown}: {why}"))?;
            if claims.is_claimed(&p) {
                return Err(format!("{shown} is the file of a take in the history"));
            }
        }
    }
    match std::fs::symlink_metadata(&absolute) {
        Ok(m) if !m.file_type().is_file() => Err(format!(
            "{shown} is {}: an export only ever writes a regular file",
            describe(&m)
        )),
        _ => Ok(()),
    }
}

fn describe(m: &std::fs::Metadata) -> &'static str {
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

/// Copies the file at `path` in `dir` to `dest` (into it, when a
/// directory): through a temp file renamed into place, never over an
/// existing file unless `overwrite`, never over a target
/// [`refuse_target`] refuses. Returns the absolute path written.
pub(crate) fn copy_take(
    dir: &Path,
    claims: &Claims,
    path: &RelPath,
    dest: &Path,
    overwrite: bool,
) -> Result<PathBuf, String> {
    let root = Dir::open(dir).map_err(|e| e.to_string())?;
    let mut src = match locate(&root, path) {
        Located::Present { parent, name, .. } => {
            parent.open_regular(&name).map_err(|e| e.to_string())?
        }
        Located::Missing => return Err(format!("{path} is missing")),
        Located::Refused(why) => return Err(format!("{path}: {why}")),
    };
    let dest = if dest.is_dir() {
        dest.join(path.file())
    } else {
        dest.to_path_buf()
    };
    refuse_target(dir, claims, &dest)?;
    let parent = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let parent = parent
        .canonicalize()
        .map_err(|e| format!("{}: {e}", parent.display()))?;
    let name = dest
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{} is not a file name", dest.display()))?
        .to_string();
    let absolute = parent.join(&name);
    let pdir = Dir::open(&parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    if !overwrite && pdir.stat(&name).ok().flatten().is_some() {
        return Err(format!(
            "{} exists; :export! {} writes over it",
            absolute.display(),
            dest.display()
        ));
    }
    let mut tmp = fsutil::TempFile::create(&pdir, &name, None).map_err(|e| e.to_string())?;
    tmp.write_with(|w| std::io::copy(&mut src, w).map(drop))
        .map_err(|e| format!("{}: {e}", absolute.display()))?;
    let placed = if overwrite {
        // Exchanged in, and what came out checked: a device or a link put
        // there meanwhile goes back and nothing is written.
        tmp.commit_if(&name, |now| {
            now.is_none_or(|st| fsutil::kind(st) == rustix::fs::FileType::RegularFile)
        })
        .map_err(|e| format!("{}: {e}", absolute.display()))?
    } else {
        // Never over a file that appeared meanwhile.
        tmp.commit_new(&name)
            .map(|()| true)
            .map_err(|e| format!("{}: {e}", absolute.display()))?
    };
    if !placed {
        return Err(format!(
            "{} changed into something that is not a regular file; nothing was written",
            absolute.display()
        ));
    }
    Ok(absolute)
}

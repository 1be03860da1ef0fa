//! Filesystem primitives every write of genhist goes through.
//!
//! - [`Dir`]: a directory handle. Paths below a history directory are walked
//!   one component at a time with `O_NOFOLLOW`, so genhist never follows a
//!   symlink there, and a path it checked cannot be swapped for a symlink
//!   before it is used (every later call is relative to the open handle).
//! - [`DirLock`]: the exclusive `flock` on a directory that serializes
//!   genhist's read-modify-writes there.
//! - [`TempFile`]: a temp file that holds an `flock` for as long as its
//!   writer lives, so [`sweep_dead_temps`] can remove what a killed writer
//!   left and never touch a live writer's file.
//! - [`write_file_here`]: temp file, fsync, rename, fsync of the directory;
//!   the replaced file's mode and owner are kept; never through a symlink.
//!   [`ReplaceTarget`]: where the index really is (a symlinked index is
//!   replaced in its own directory, the link stays a link).

use rustix::fs::{self as rfs, AtFlags, FileType, FlockOperation, Mode, OFlags, RenameFlags};
use rustix::io::Errno;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

pub(crate) type Stat = rfs::Stat;

/// The kind of file a stat describes.
pub fn kind(st: &Stat) -> FileType {
    FileType::from_raw_mode(st.st_mode)
}

/// "a FIFO", "a directory", ... for messages.
pub(crate) fn describe_kind(t: FileType) -> &'static str {
    match t {
        FileType::RegularFile => "a regular file",
        FileType::Directory => "a directory",
        FileType::Symlink => "a symlink",
        FileType::Fifo => "a FIFO (named pipe)",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Unknown => "not a regular file",
    }
}

/// An open directory; everything below it is reached without following symlinks.
#[derive(Debug)]
pub struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

impl AsFd for Dir {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Something genhist will not use as the kind of file it needs (a symlink
/// below a history directory, a FIFO where a file should be, ...), carried
/// inside an `io::Error`; [`refusal`] gets it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused {
    pub path: PathBuf,
    /// What is there instead, as a phrase: "a FIFO (named pipe), not a regular file".
    pub what: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is {}", self.path.display(), self.what)
    }
}

impl std::error::Error for Refused {}

fn refused(path: &Path, what: &str) -> io::Error {
    io::Error::other(Refused {
        path: path.to_path_buf(),
        what: what.to_string(),
    })
}

/// The [`Refused`] inside an error from this module, if that is what it is.
pub(crate) fn refusal(e: &io::Error) -> Option<&Refused> {
    e.get_ref()?.downcast_ref::<Refused>()
}

impl Dir {
    /// Opens `path` itself (which may be a symlink: the user named it).
    pub fn open(path: &Path) -> io::Result<Dir> {
        let fd = rfs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Dir {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// The path this handle was opened by (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// A second handle on the same directory.
    pub(crate) fn try_clone(&self) -> io::Result<Dir> {
        Ok(Dir {
            fd: self.fd.try_clone()?,
            path: self.path.clone(),
        })
    }

    /// The subdirectory `name`, never through a symlink.
    pub fn sub(&self, name: &str) -> io::Result<Dir> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match rfs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => Ok(Dir {
                fd,
                path: self.path.join(name),
            }),
            Err(Errno::LOOP | Errno::NOTDIR) => Err(self.not_what(name, "a directory")),
            Err(e) => Err(e.into()),
        }
    }

    /// The subdirectory `name`, created when missing.
    pub(crate) fn sub_or_create(&self, name: &str) -> io::Result<Dir> {
        match self.sub(name) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                match rfs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => self.sub(name),
                    Err(e) => Err(e.into()),
                }
            }
            other => other,
        }
    }

    /// Walks `components` (all directories) from here, creating missing ones
    /// when `create`.
    pub(crate) fn walk(&self, components: &[&str], create: bool) -> io::Result<Dir> {
        let mut d = self.try_clone()?;
        for c in components {
            d = if create {
                d.sub_or_create(c)?
            } else {
                d.sub(c)?
            };
        }
        Ok(d)
    }

    /// Why `name` could not be opened as `wanted`: a symlink, or another kind.
    fn not_what(&self, name: &str, wanted: &str) -> io::Error {
        let path = self.path.join(name);
        match self.stat(name) {
            Ok(Some(st)) if kind(&st) == FileType::Symlink => refused(
                &path,
                "a symlink (genhist never follows symlinks inside a history directory)",
            ),
            Ok(Some(st)) => refused(
                &path,
                &format!("{}, not {wanted}", describe_kind(kind(&st))),
            ),
            _ => refused(&path, &format!("not {wanted}")),
        }
    }

    /// `lstat` of `name`; `None` when there is nothing there.
    pub(crate) fn stat(&self, name: &str) -> io::Result<Option<Stat>> {
        match rfs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => Ok(Some(st)),
            Err(Errno::NOENT) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Opens the regular file `name` for reading; a symlink, FIFO, device or
    /// directory is an error at once (the open never blocks on a FIFO).
    pub(crate) fn open_regular(&self, name: &str) -> io::Result<File> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = match rfs::openat(&self.fd, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::LOOP) => return Err(self.not_what(name, "a regular file")),
            Err(e) => return Err(e.into()),
        };
        let st = rfs::fstat(&fd)?;
        if kind(&st) != FileType::RegularFile {
            return Err(refused(
                &self.path.join(name),
                &format!("{}, not a regular file", describe_kind(kind(&st))),
            ));
        }
        // Back to blocking reads (O_NONBLOCK only kept the open from hanging).
        rfs::fcntl_setfl(&fd, OFlags::RDONLY)?;
        Ok(File::from(fd))
    }

    /// Creates `name`, failing if anything (even a dangling symlink) is there.
    pub(crate) fn create_new(&self, name: &str) -> io::Result<File> {
        let flags =
            OFlags::RDWR | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let fd = rfs::openat(&self.fd, name, flags, Mode::from_raw_mode(0o644))?;
        Ok(File::from(fd))
    }

    /// Renames `from` here to `to_name` in `to`, failing with `AlreadyExists`
    /// if anything is at the destination (never over a file or a symlink).
    pub(crate) fn rename_noreplace(&self, from: &str, to: &Dir, to_name: &str) -> io::Result<()> {
        match rfs::renameat_with(&self.fd, from, &to.fd, to_name, RenameFlags::NOREPLACE) {
            Ok(()) => Ok(()),
            // Filesystems without renameat2 flags: a hard link also refuses
            // to replace anything.
            Err(Errno::INVAL | Errno::NOSYS | Errno::NOTSUP) => {
                rfs::linkat(&self.fd, from, &to.fd, to_name, AtFlags::empty())?;
                rfs::unlinkat(&self.fd, from, AtFlags::empty())?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Renames `from` here over `to_name` in `to` (replacing it atomically).
    fn rename_over(&self, from: &str, to: &Dir, to_name: &str) -> io::Result<()> {
        rfs::renameat(&self.fd, from, &to.fd, to_name).map_err(Into::into)
    }

    pub(crate) fn unlink(&self, name: &str) -> io::Result<()> {
        rfs::unlinkat(&self.fd, name, AtFlags::empty()).map_err(Into::into)
    }

    fn rmdir(&self, name: &str) -> io::Result<()> {
        rfs::unlinkat(&self.fd, name, AtFlags::REMOVEDIR).map_err(Into::into)
    }

    /// fsync of the directory: makes renames and creations in it durable.
    pub fn sync(&self) -> io::Result<()> {
        rfs::fsync(&self.fd).map_err(Into::into)
    }

    /// The names in this directory with their types (`.` and `..` left out).
    pub fn entries(&self) -> io::Result<Vec<(OsString, FileType)>> {
        Ok(self.entries_up_to(usize::MAX)?.unwrap_or_default())
    }

    /// [`Dir::entries`] when there are at most `max` (`None` past that,
    /// without reading the rest).
    fn entries_up_to(&self, max: usize) -> io::Result<Option<Vec<(OsString, FileType)>>> {
        let mut out = Vec::new();
        for e in rfs::Dir::read_from(&self.fd)? {
            let e = e?;
            let name = e.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            if out.len() == max {
                return Ok(None);
            }
            out.push((OsString::from_vec(name.to_vec()), e.file_type()));
        }
        Ok(Some(out))
    }

    /// The names in this directory when there are at most `max` (`None`
    /// past that, without reading the rest).
    pub(crate) fn names_up_to(&self, max: usize) -> io::Result<Option<Vec<OsString>>> {
        Ok(self
            .entries_up_to(max)?
            .map(|v| v.into_iter().map(|(n, _)| n).collect()))
    }

    /// The UTF-8 names in this directory (genhist's own files all have such names).
    pub fn names(&self) -> io::Result<Vec<String>> {
        Ok(self
            .entries()?
            .into_iter()
            .filter_map(|(n, _)| n.into_string().ok())
            .collect())
    }

    /// Removes the subdirectory `name` and everything in it, without following
    /// symlinks (a symlink inside is removed, not its target).
    pub(crate) fn remove_tree(&self, name: &str) -> io::Result<()> {
        self.walk_tree(name, &mut |d, n, _| {
            rfs::unlinkat(d, n, AtFlags::empty()).map_err(Into::into)
        })?;
        self.rmdir(name)
    }

    /// Removes the directories under `name` that hold nothing (and `name`
    /// itself when it ends up empty); true when `name` is gone. Files are
    /// never removed.
    pub(crate) fn remove_empty_dirs(&self, name: &str) -> io::Result<bool> {
        let mut kept_any = false;
        self.walk_tree_with(
            name,
            &mut |_, _, _| {
                kept_any = true;
                Ok(())
            },
            true,
        )?;
        if kept_any {
            return Ok(false);
        }
        match self.rmdir(name) {
            Ok(()) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::ENOTEMPTY) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Total bytes of the regular files under the subdirectory `name`.
    pub(crate) fn tree_size(&self, name: &str) -> io::Result<u64> {
        let mut total = 0;
        self.walk_tree_with(
            name,
            &mut |_, _, st| {
                if kind(st) == FileType::RegularFile {
                    total += st.st_size as u64;
                }
                Ok(())
            },
            false,
        )?;
        Ok(total)
    }

    /// Calls `file` for everything under `name` that is not a directory,
    /// then removes each directory once it is empty (see [`walk_tree_with`]).
    fn walk_tree(
        &self,
        name: &str,
        file: &mut dyn FnMut(BorrowedFd<'_>, &std::ffi::OsStr, &Stat) -> io::Result<()>,
    ) -> io::Result<()> {
        self.walk_tree_with(name, file, true)
    }

    /// Visits the tree under the subdirectory `name` depth first, calling
    /// `file` (with the directory that holds it) for each thing that is not
    /// a directory; with `prune`, each directory below `name` is removed
    /// once visited if it is empty. No symlink is followed. However deep the
    /// tree, it costs one open directory at a time and a name per level: it
    /// climbs back through `..`, checking that it arrives where it came from.
    fn walk_tree_with(
        &self,
        name: &str,
        file: &mut dyn FnMut(BorrowedFd<'_>, &std::ffi::OsStr, &Stat) -> io::Result<()>,
        prune: bool,
    ) -> io::Result<()> {
        let dir_flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        let top = self.sub(name)?;
        let id = |fd: &OwnedFd| rfs::fstat(fd).map(|st| (st.st_dev, st.st_ino));
        let mut cur = top.fd;
        // For each level below the top: its name, the directories still to
        // visit in it, and its parent's identity.
        struct Level {
            name: OsString,
            parent: (u64, u64),
        }
        let mut levels: Vec<Level> = Vec::new();
        // Directories of each open level that are still to visit.
        let mut todo: Vec<Vec<OsString>> = Vec::new();
        let mut listed = false;
        loop {
            if !listed {
                let mut subdirs = Vec::new();
                // Listed whole before anything is removed from it.
                let mut names = Vec::new();
                for e in rfs::Dir::read_from(&cur)? {
                    let n = e?.file_name().to_bytes().to_vec();
                    if n != b"." && n != b".." {
                        names.push(OsString::from_vec(n));
                    }
                }
                for os in &names {
                    let os = os.as_os_str();
                    let st = match rfs::statat(&cur, os, AtFlags::SYMLINK_NOFOLLOW) {
                        Ok(st) => st,
                        Err(Errno::NOENT) => continue,
                        Err(e) => return Err(e.into()),
                    };
                    if kind(&st) == FileType::Directory {
                        subdirs.push(os.to_os_string());
                    } else {
                        file(cur.as_fd(), os, &st)?;
                    }
                }
                todo.push(subdirs);
                listed = true;
            }
            let next = todo.last_mut().and_then(Vec::pop);
            match next {
                Some(n) => {
                    let parent = id(&cur)?;
                    cur = rfs::openat(&cur, n.as_os_str(), dir_flags, Mode::empty())?;
                    levels.push(Level { name: n, parent });
                    listed = false;
                }
                None => {
                    todo.pop();
                    let Some(level) = levels.pop() else { break };
                    let up = rfs::openat(&cur, "..", dir_flags, Mode::empty())?;
                    if id(&up)? != level.parent {
                        return Err(io::Error::other(format!(
                            "{} changed while genhist walked it",
                            self.path.join(name).display()
                        )));
                    }
                    cur = up;
                    if prune {
                        match rfs::unlinkat(&cur, level.name.as_os_str(), AtFlags::REMOVEDIR) {
                            Ok(()) | Err(Errno::NOTEMPTY) | Err(Errno::EXIST) => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// An exclusive advisory lock on a directory, held while a read-modify-write
/// runs, so genhist processes never interleave their writes there. Released
/// when dropped (or when the process dies).
pub struct DirLock {
    _fd: OwnedFd,
}

impl DirLock {
    /// Waits for the lock.
    pub(crate) fn acquire(dir: &Dir) -> io::Result<DirLock> {
        let fd = Self::open(dir)?;
        rfs::flock(&fd, FlockOperation::LockExclusive)?;
        Ok(DirLock { _fd: fd })
    }

    /// Takes the lock if nobody holds it.
    pub(crate) fn try_acquire(dir: &Dir) -> io::Result<Option<DirLock>> {
        let fd = Self::open(dir)?;
        match rfs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(DirLock { _fd: fd })),
            Err(Errno::WOULDBLOCK) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The lock on the directory at `path`.
    pub fn acquire_path(path: &Path) -> io::Result<DirLock> {
        DirLock::acquire(&Dir::open(path)?)
    }

    fn open(dir: &Dir) -> io::Result<OwnedFd> {
        // A separate open file description: flock locks belong to those.
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Ok(rfs::openat(&dir.fd, ".", flags, Mode::empty())?)
    }
}

/// A temp file beside the file it will replace, named
/// `.{target}.{pid}.{uuid}.tmp`. It holds an `flock` while open, which is how
/// [`sweep_dead_temps`] knows its writer is alive. Removed unless committed.
pub struct TempFile {
    dir: Dir,
    name: String,
    file: Option<File>,
}

impl TempFile {
    /// Creates the temp file in `dir` for replacing `target`; with `like`
    /// (the file being replaced), it gets that file's mode and, where
    /// permitted, its owner and group.
    pub fn create(dir: &Dir, target: &str, like: Option<&Stat>) -> io::Result<TempFile> {
        let name = format!(
            ".{target}.{}.{}.tmp",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        );
        let file = dir.create_new(&name)?;
        let temp = TempFile {
            dir: dir.try_clone()?,
            name,
            file: Some(file),
        };
        let f = temp.file.as_ref().expect("just opened");
        rfs::flock(f, FlockOperation::LockExclusive)?;
        if let Some(st) = like {
            rfs::fchmod(f, Mode::from_raw_mode(st.st_mode & 0o7777))?;
            // Only root may give a file away; elsewhere keep our own.
            let owner = rustix::fs::Uid::from_raw(st.st_uid);
            let group = rustix::fs::Gid::from_raw(st.st_gid);
            if rfs::fchown(f, Some(owner), Some(group)).is_err() {
                let _ = rfs::fchown(f, None, Some(group));
            }
            // fchown clears set-id bits: put the mode back.
            rfs::fchmod(f, Mode::from_raw_mode(st.st_mode & 0o7777))?;
        }
        Ok(temp)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("open until committed")
    }

    /// Empties the file for another attempt.
    pub(crate) fn reset(&mut self) -> io::Result<()> {
        use std::io::Seek;
        let f = self.file();
        f.set_len(0)?;
        f.rewind()?;
        Ok(())
    }

    /// Writes what `fill` produces through a large buffer, then fsyncs.
    pub(crate) fn write_with(
        &mut self,
        fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        self.write_unsynced(fill)?;
        self.file.as_ref().expect("open until committed").sync_all()
    }

    /// [`TempFile::write_with`] without waiting for the disk: for a cache,
    /// which a crash may leave torn (it is checked before use).
    pub(crate) fn write_unsynced(
        &mut self,
        fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        let f = self.file.as_ref().expect("open until committed");
        let mut w = io::BufWriter::with_capacity(1 << 20, f);
        fill(&mut w)?;
        w.flush()
    }

    /// Renames the temp file over `target` in its directory and fsyncs the
    /// directory. The data must already be synced ([`TempFile::write_with`]).
    pub(crate) fn commit(mut self, target: &str) -> io::Result<()> {
        self.rename_over(target)?;
        let _ = self.dir.sync();
        Ok(())
    }

    /// [`TempFile::commit`] without waiting for the disk (a cache's).
    pub(crate) fn commit_unsynced(mut self, target: &str) -> io::Result<()> {
        self.rename_over(target)
    }

    fn rename_over(&mut self, target: &str) -> io::Result<()> {
        self.dir.rename_over(&self.name, &self.dir, target)?;
        self.name.clear();
        self.file = None;
        Ok(())
    }
}

impl TempFile {
    /// Puts the temp file in place of `target` only if what is there is
    /// still what `expected` accepts (`None`: nothing there), even against
    /// a writer that takes no lock: the files are exchanged atomically
    /// (`renameat2(RENAME_EXCHANGE)`), then the one exchanged out is
    /// checked; if another program put it there meanwhile, it is exchanged
    /// back and nothing changed. `Ok(false)`: `target` was not what
    /// `expected` accepts (the temp file is removed; write again over the
    /// new version).
    pub(crate) fn commit_if(
        mut self,
        target: &str,
        expected: impl Fn(Option<&Stat>) -> bool,
    ) -> io::Result<bool> {
        let fd = &self.dir.fd;
        match rfs::renameat_with(fd, self.name.as_str(), fd, target, RenameFlags::EXCHANGE) {
            Ok(()) => {}
            // Nothing at `target` (both must exist to be exchanged).
            Err(Errno::NOENT) => {
                if !expected(None) {
                    return Ok(false);
                }
                return match self.dir.rename_noreplace(&self.name, &self.dir, target) {
                    Ok(()) => {
                        self.name.clear();
                        self.file = None;
                        let _ = self.dir.sync();
                        Ok(true)
                    }
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
                    Err(e) => Err(e),
                };
            }
            // A filesystem without exchange: check, then rename (a writer
            // that takes no lock may slip in between).
            Err(Errno::INVAL | Errno::NOSYS | Errno::NOTSUP) => {
                if !expected(self.dir.stat(target)?.as_ref()) {
                    return Ok(false);
                }
                self.dir.rename_over(&self.name, &self.dir, target)?;
                self.name.clear();
                self.file = None;
                let _ = self.dir.sync();
                return Ok(true);
            }
            Err(e) => return Err(e.into()),
        }
        crate::fault::kill_point("index-exchanged");
        // `self.name` now holds what was at `target`.
        let out = self.dir.stat(&self.name)?;
        if expected(out.as_ref()) {
            self.dir.unlink(&self.name)?;
            self.name.clear();
            self.file = None;
            let _ = self.dir.sync();
            return Ok(true);
        }
        match rfs::renameat_with(fd, self.name.as_str(), fd, target, RenameFlags::EXCHANGE) {
            // Theirs is back in place, ours at the temp name (removed on drop).
            Ok(()) => Ok(false),
            Err(e) => {
                // Never lose their file: keep it under a name no sweep takes.
                let keep = format!("{target}.genhist-kept-{}", uuid::Uuid::new_v4().simple());
                let _ = self.dir.rename_noreplace(&self.name, &self.dir, &keep);
                self.name.clear();
                self.file = None;
                Err(io::Error::other(format!(
                    "another program replaced {target} while genhist wrote it, and it could \
                     not be put back ({e}); it is kept as {}",
                    self.dir.join(&keep).display()
                )))
            }
        }
    }

    /// Renames the temp file to `target`, failing (and removing the temp
    /// file) if anything is there by then: never over an existing file. It
    /// does not wait for the disk (as `cp` does not): the file is whole
    /// under its name for every other process at once.
    pub(crate) fn commit_new_unsynced(mut self, target: &str) -> io::Result<()> {
        self.dir.rename_noreplace(&self.name, &self.dir, target)?;
        self.name.clear();
        self.file = None;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.name.is_empty() {
            let _ = self.dir.unlink(&self.name);
        }
    }
}

/// True for names [`TempFile`] gives: `.{anything}.{pid}.{32 hex}.tmp`.
pub fn is_temp_name(name: &str) -> bool {
    temp_owner(name).is_some()
}

/// The pid in a temp file's name (`.{target}.{pid}.{uuid}.tmp`).
fn temp_owner(name: &str) -> Option<i32> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let mut parts = rest.rsplitn(3, '.');
    let (Some(hex), Some(pid), Some(target)) = (parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    let ok = hex.len() == 32 && hex.bytes().all(|c| c.is_ascii_hexdigit()) && !target.is_empty();
    ok.then(|| pid.parse().ok()).flatten()
}

/// True when nobody holds an `flock` on the regular file `name` in `dir`
/// (its writer is gone); `None` when it is not a regular file.
fn is_abandoned(dir: &Dir, name: &str) -> Option<bool> {
    let f = dir.open_regular(name).ok()?;
    match rfs::flock(&f, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Some(true),
        Err(_) => Some(false),
    }
}

/// Removes the temp files in `dir` whose writers are dead: their `flock` is
/// free and the process named in them is gone (a temp file is locked a
/// moment after it is created; its living writer may be in that moment).
/// Returns the names removed.
pub(crate) fn sweep_dead_temps(dir: &Dir) -> io::Result<Vec<String>> {
    let mut removed = Vec::new();
    for name in dir.names()? {
        let Some(pid) = temp_owner(&name) else {
            continue;
        };
        if is_abandoned(dir, &name) == Some(true) && !crate::sys::process_exists(pid) {
            dir.unlink(&name)?;
            removed.push(name);
        }
    }
    Ok(removed)
}

/// An `flock`ed marker file whose presence says "this work is under way";
/// left behind unlocked when its owner dies. Created under a temp name and
/// renamed into place already locked, so nobody ever sees it unlocked while
/// its owner lives.
pub(crate) struct Marker {
    dir: Dir,
    name: String,
    _file: File,
}

impl Marker {
    pub(crate) fn create(dir: &Dir, name: &str, contents: &[u8]) -> io::Result<Marker> {
        let mut tmp = TempFile::create(dir, name, None)?;
        tmp.file().write_all(contents)?;
        let file = tmp.file.take().expect("open");
        dir.rename_noreplace(&tmp.name, dir, name)?;
        tmp.name.clear();
        Ok(Marker {
            dir: dir.try_clone()?,
            name: name.to_string(),
            _file: file,
        })
    }

    /// Removes the marker: the work is done.
    pub(crate) fn finish(self) -> io::Result<()> {
        self.dir.unlink(&self.name)
    }

    /// True when the marker `name` in `dir` was left by a dead owner.
    pub(crate) fn is_abandoned(dir: &Dir, name: &str) -> bool {
        is_abandoned(dir, name) == Some(true)
    }
}

/// Where a replacement of `path` must happen: `path` itself, or, when it is a
/// symlink, the regular file it leads to (replaced in its own directory, so
/// the link stays).
#[derive(Debug, Clone)]
pub struct ReplaceTarget {
    /// The path as the user knows it.
    pub shown: PathBuf,
    pub dir: PathBuf,
    pub name: String,
    /// The file now there; `None` when there is none yet.
    pub stat: Option<Stat>,
}

impl ReplaceTarget {
    /// Resolves `path`: a regular file, a symlink to one, or nothing yet.
    /// Anything else (FIFO, device, directory, a dangling symlink) is an error
    /// saying what is there; nothing is opened or read.
    pub(crate) fn resolve(path: &Path) -> io::Result<ReplaceTarget> {
        let split = |p: &Path| -> io::Result<(PathBuf, String)> {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .ok_or_else(|| refused(p, "not a usable file name"))?
                .to_string();
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            Ok((dir, name))
        };
        let lst = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let (dir, name) = split(path)?;
                return Ok(ReplaceTarget {
                    shown: path.to_path_buf(),
                    dir,
                    name,
                    stat: None,
                });
            }
            Err(e) => return Err(e),
        };
        let real = if lst.file_type().is_symlink() {
            match path.canonicalize() {
                Ok(r) => r,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(refused(path, "a symlink to a file that does not exist"))
                }
                Err(e) => return Err(e),
            }
        } else {
            path.to_path_buf()
        };
        let (dir, name) = split(&real)?;
        let st = Dir::open(&dir)?.stat(&name)?;
        match st {
            Some(st) if kind(&st) == FileType::RegularFile => Ok(ReplaceTarget {
                shown: path.to_path_buf(),
                dir,
                name,
                stat: Some(st),
            }),
            Some(st) => Err(refused(
                path,
                &format!("{}, not a regular file", describe_kind(kind(&st))),
            )),
            None => Err(refused(path, "a symlink to a file that does not exist")),
        }
    }

    /// The file's (or link target's) path.
    pub(crate) fn real_path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    /// Opens the target for reading (`None` when there is no file yet).
    pub fn open(&self) -> io::Result<Option<File>> {
        match Dir::open(&self.dir)?.open_regular(&self.name) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Reads the regular file at `path` (a symlink to one is followed), at
/// most `max` bytes: a FIFO, a device or a directory is an error at once
/// (the open never blocks), and so is a file larger than `max`.
pub(crate) fn read_regular_bounded(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = rfs::open(path, flags, Mode::empty())?;
    let st = rfs::fstat(&fd)?;
    if kind(&st) != FileType::RegularFile {
        return Err(refused(
            path,
            &format!("{}, not a regular file", describe_kind(kind(&st))),
        ));
    }
    rfs::fcntl_setfl(&fd, OFlags::RDONLY)?;
    let mut out = Vec::new();
    File::from(fd).take(max + 1).read_to_end(&mut out)?;
    if out.len() as u64 > max {
        return Err(refused(
            path,
            &format!(
                "larger than {}, too large for this file",
                crate::text::size(max)
            ),
        ));
    }
    Ok(out)
}

/// Writes `path` atomically (temp file, fsync, rename, fsync of the
/// directory; mode and owner kept), never through a symlink: the name
/// itself must be a regular file or nothing (a symlink, FIFO, device or
/// directory there is refused, and nothing is written). For files genhist
/// owns, and files it writes in a place another person may have prepared
/// (an export's manifests): a link there cannot lead the write anywhere.
pub(crate) fn write_file_here(path: &Path, contents: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| refused(path, "not a usable file name"))?;
    let parent = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = Dir::open(parent)?;
    let like = match dir.stat(name)? {
        None => None,
        Some(st) if kind(&st) == FileType::RegularFile => Some(st),
        Some(st) => {
            return Err(refused(
                path,
                &format!(
                    "{}; genhist does not write through it",
                    describe_kind(kind(&st))
                ),
            ))
        }
    };
    let mut tmp = TempFile::create(&dir, name, like.as_ref())?;
    tmp.write_with(|w| w.write_all(contents))?;
    tmp.commit(name)
}

/// `~/x` → `$HOME/x` (the `:` bar is not a shell, but people type `~`).
pub(crate) fn expand_home(p: &str) -> PathBuf {
    let home = || std::env::var_os("HOME").map(PathBuf::from);
    if p == "~" {
        if let Some(h) = home() {
            return h;
        }
    }
    if let Some(rest) = p.strip_prefix("~/") {
        if let Some(h) = home() {
            return h.join(rest);
        }
    }
    PathBuf::from(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_temp_not_yet_locked_by_a_living_writer_is_not_swept() {
        let t = tempfile::tempdir().unwrap();
        let d = Dir::open(t.path()).unwrap();
        let hex = "0123456789abcdef0123456789abcdef";
        // Created, not yet locked, by a process that is alive (this one).
        let young = format!(".adding-x.{}.{hex}.tmp", std::process::id());
        std::fs::write(t.path().join(&young), b"").unwrap();
        // Left unlocked by a process that has ended.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead_pid = child.id();
        child.wait().unwrap();
        let dead = format!(".adding-y.{dead_pid}.{hex}.tmp");
        std::fs::write(t.path().join(&dead), b"").unwrap();
        assert_eq!(sweep_dead_temps(&d).unwrap(), vec![dead.clone()]);
        assert!(t.path().join(&young).exists());
    }

    #[test]
    fn temp_names_are_recognised() {
        assert!(is_temp_name(
            ".history.json.1234.0123456789abcdef0123456789abcdef.tmp"
        ));
        assert!(!is_temp_name(".history.json.tmp"));
        assert!(!is_temp_name("history.json"));
        assert!(!is_temp_name(".x.12a.0123456789abcdef0123456789abcdef.tmp"));
    }

    #[test]
    fn live_temps_survive_a_sweep_and_dead_ones_do_not() {
        let t = tempfile::tempdir().unwrap();
        let d = Dir::open(t.path()).unwrap();
        let live = TempFile::create(&d, "f", None).unwrap();
        // A dead writer's temp: same pattern, nobody holds its lock.
        let dead = ".f.99.0123456789abcdef0123456789abcdef.tmp";
        std::fs::write(t.path().join(dead), b"x").unwrap();
        std::fs::write(t.path().join("keep.tmp"), b"x").unwrap();
        let removed = sweep_dead_temps(&d).unwrap();
        assert_eq!(removed, vec![dead.to_string()]);
        assert!(t.path().join(live.name()).exists());
        assert!(t.path().join("keep.tmp").exists());
        drop(live);
        assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 1);
    }

    #[test]
    fn writes_keep_the_mode_and_never_go_through_a_symlink() {
        let t = tempfile::tempdir().unwrap();
        let real = t.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join("f"), b"old").unwrap();
        std::fs::set_permissions(real.join("f"), std::fs::Permissions::from_mode(0o600)).unwrap();
        write_file_here(&real.join("f"), b"new").unwrap();
        assert_eq!(std::fs::read(real.join("f")).unwrap(), b"new");
        let mode = std::fs::metadata(real.join("f"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        std::os::unix::fs::symlink(real.join("f"), t.path().join("link")).unwrap();
        assert!(write_file_here(&t.path().join("link"), b"evil").is_err());
        assert_eq!(std::fs::read(real.join("f")).unwrap(), b"new");
    }

    #[test]
    fn special_files_are_refused_without_opening() {
        let t = tempfile::tempdir().unwrap();
        let fifo = t.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            FileType::Fifo,
            Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        let e = ReplaceTarget::resolve(&fifo).unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
        let d = Dir::open(t.path()).unwrap();
        let e = d.open_regular("fifo").unwrap_err();
        assert!(e.to_string().contains("FIFO"), "{e}");
    }

    #[test]
    fn no_symlink_is_followed_below_a_dir() {
        let t = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"s").unwrap();
        std::os::unix::fs::symlink(outside.path(), t.path().join("audio")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), t.path().join("s.wav")).unwrap();
        let d = Dir::open(t.path()).unwrap();
        assert!(d.sub("audio").unwrap_err().to_string().contains("symlink"));
        assert!(d
            .open_regular("s.wav")
            .unwrap_err()
            .to_string()
            .contains("symlink"));
        std::fs::write(t.path().join("a"), b"a").unwrap();
        let e = d.rename_noreplace("a", &d, "s.wav").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(outside.path().join("secret")).unwrap(), b"s");
    }
}

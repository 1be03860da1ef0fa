//! What genhist asks of the operating system beyond files (those are in
//! `fsutil`): processes, thread priority, standard error, memory advice,
//! file leases.
//! Every `unsafe` block of the crate is in this module, each with its
//! SAFETY note; everywhere else `unsafe` is denied (see `lib.rs`).
#![allow(unsafe_code)]

use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};

/// Kills this process with SIGKILL (no destructor runs, nothing is flushed):
/// the crash tests' exact kill points.
pub(crate) fn kill_self() -> ! {
    let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::KILL);
    // SIGKILL cannot be caught; if it could not be sent, end as abruptly.
    std::process::abort()
}

/// Whether a process `pid` exists (ours, or another user's).
pub(crate) fn process_exists(pid: i32) -> bool {
    let Some(pid) = rustix::process::Pid::from_raw(pid) else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(e) => e == rustix::io::Errno::PERM,
    }
}

/// Lowers the calling thread's priority (nice 10), so background work never
/// takes the CPU from the thread that answers keys.
pub(crate) fn lower_thread_priority() {
    let tid = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(tid), 10) {
        tracing::debug!("cannot lower the priority of a worker thread: {e}");
    }
}

/// Gives memory freed after a large load back to the system (glibc keeps
/// it in its arenas otherwise: ~30 MB after loading 100,000 takes).
pub(crate) fn release_freed_memory() {
    #[cfg(target_env = "gnu")]
    // SAFETY: malloc_trim only returns free heap memory to the system; it
    // touches no memory the program holds and is always safe to call.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Asks the kernel to back `buf` with huge pages where it can (fewer page
/// faults while a large index is read into it).
pub(crate) fn advise_huge_pages(buf: &mut [u8]) {
    const HUGE: usize = 2 << 20;
    let p = buf.as_mut_ptr() as usize;
    let start = (p + HUGE - 1) & !(HUGE - 1);
    let end = (p + buf.len()) & !(HUGE - 1);
    if end > start {
        // SAFETY: [start, end) lies inside `buf`, which we borrow mutably;
        // MADV_HUGEPAGE only changes how the kernel backs those pages, never
        // their contents.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

/// While alive, file descriptor 2 points at a file (the log, or /dev/null),
/// so libasound's and rodio's messages never land on the screen; dropped,
/// fd 2 is what it was.
pub(crate) struct StderrRedirect {
    saved: OwnedFd,
}

impl StderrRedirect {
    pub(crate) fn to_file(target: &File) -> Option<StderrRedirect> {
        let saved = rustix::io::dup(std::io::stderr()).ok()?;
        rustix::stdio::dup2_stderr(target.as_fd()).ok()?;
        Some(StderrRedirect { saved })
    }

    pub(crate) fn to_null() -> Option<StderrRedirect> {
        let null = File::options().write(true).open("/dev/null").ok()?;
        StderrRedirect::to_file(&null)
    }
}

impl Drop for StderrRedirect {
    fn drop(&mut self) {
        let _ = rustix::stdio::dup2_stderr(&self.saved);
    }
}

/// A copy of the process's standard error as it is now (kept while fd 2
/// points at the log, for a crash's last words on the terminal).
pub(crate) fn stderr_copy() -> Option<File> {
    rustix::io::dup(std::io::stderr()).ok().map(File::from)
}

/// `bytes` as a `String` without a second look: they are a document that
/// `store::scan` passed over whole without an error. The scan accepts only
/// ASCII outside strings and checks every string holding a byte above 0x7f
/// to be UTF-8 (`Parser::string`); strings begin and end at ASCII quotes, so
/// the whole is UTF-8. Debug builds (every test) check it again.
pub(crate) fn text_of_scanned(bytes: Vec<u8>) -> String {
    debug_assert!(
        std::str::from_utf8(&bytes).is_ok(),
        "a scanned document is UTF-8"
    );
    // SAFETY: as above, the caller's scan of these very bytes succeeded.
    unsafe { String::from_utf8_unchecked(bytes) }
}

/// Whether any process has the file `f` (open read-only here) open or
/// mapped for writing, told by taking a read lease on it and giving it back
/// at once: `Some(false)` when the lease was granted, `Some(true)` when a
/// writer stopped it, `None` when it cannot be told (not the file's owner,
/// a filesystem without leases). A `write()` in progress needs a
/// descriptor open for writing, so `Some(false)` also says none is.
///
/// While the lease is held (a few system calls), another program's open
/// for writing waits for it (an `O_NONBLOCK` one fails with `EWOULDBLOCK`
/// instead), and this process is told with `SIGURG`, which is ignored
/// unless handled, instead of `SIGIO`, which would end it.
pub(crate) fn open_for_writing(f: &File) -> Option<bool> {
    use std::os::fd::AsRawFd;
    // Linux's F_SETSIG (not in the libc crate).
    const F_SETSIG: libc::c_int = 10;
    let fd = f.as_raw_fd();
    // SAFETY: fcntl with integer arguments on a descriptor `f` owns for
    // the whole call; the lease, when taken, is released before returning.
    unsafe {
        if libc::fcntl(fd, F_SETSIG, libc::SIGURG) != 0 {
            return None;
        }
        if libc::fcntl(fd, libc::F_SETLEASE, libc::F_RDLCK) != 0 {
            return match std::io::Error::last_os_error().raw_os_error() {
                Some(libc::EAGAIN) => Some(true),
                _ => None,
            };
        }
        libc::fcntl(fd, libc::F_SETLEASE, libc::F_UNLCK);
    }
    Some(false)
}

//! Reading `history.json`: where it really is (a regular file, or a symlink
//! to one; anything else is refused before it is opened), the full typed load
//! (two halves in parallel, text given back as it is parsed), and the
//! messages for a broken file.

use super::entry::HistoryEntry;
use super::error::StoreError;
use super::filehash::FileHash;
use super::nonfinite;
use super::scan::{self, EntrySpan, Scan};
use super::sidecar;
use crate::fsutil::ReplaceTarget;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

pub const INDEX_FILE: &str = "history.json";
pub(crate) const SUPPORTED_VERSION: i64 = 1;

/// An entry that is in the index but cannot be used (wrong field types, missing fields).
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidEntry {
    pub entry_id: String,
    pub reason: String,
}

/// What a read of `history.json` yields.
#[derive(Debug, Default)]
pub(crate) struct LoadedIndex {
    pub version: Option<Value>,
    pub entries: Vec<std::sync::Arc<HistoryEntry>>,
    pub invalid: Vec<InvalidEntry>,
    /// The file's identity at read time, to notice later changes.
    pub stamp: Option<FileStamp>,
    /// What each entry's text was (to notice later changes without a re-read).
    pub known: super::known::Known,
}

/// Identity of the index file: a replacement by rename changes the inode,
/// an in-place write changes size or mtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
}

impl FileStamp {
    /// The stamp of what `path` leads to now (following a symlink).
    pub fn of(path: &Path) -> Option<FileStamp> {
        Some(FileStamp::of_meta(&std::fs::metadata(path).ok()?))
    }

    /// The stamp of a file as `lstat`/`fstat` described it.
    pub(crate) fn of_stat(st: &crate::fsutil::Stat) -> FileStamp {
        FileStamp {
            dev: st.st_dev,
            ino: st.st_ino,
            size: st.st_size as u64,
            mtime_ns: st.st_mtime as i128 * 1_000_000_000 + st.st_mtime_nsec as i128,
        }
    }

    pub(super) fn of_file(f: &File) -> Option<FileStamp> {
        Some(FileStamp::of_meta(&f.metadata().ok()?))
    }

    fn of_meta(m: &std::fs::Metadata) -> FileStamp {
        FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
        }
    }
}

/// The index's bytes and its identity when read.
/// The identity for the sidecar comes from the same open file.
/// The index file read whole.
pub(crate) struct IndexBytes {
    pub bytes: Vec<u8>,
    pub stamp: Option<FileStamp>,
    /// The identity of the file these bytes are, and when they began to be
    /// read (for its sidecar).
    pub seen: Option<super::sidecar::Seen>,
    /// The block hashes, when they were made as the bytes were read.
    pub hash: Option<FileHash>,
}

/// `history.json` of a directory, located: the file itself, or the file a
/// symlink there leads to.
#[derive(Debug, Clone)]
pub struct IndexFile {
    target: ReplaceTarget,
}

/// Locates the index of `dir`. A FIFO, a device, a directory or a dangling
/// symlink there is an error at once; nothing is opened.
pub(crate) fn locate_index(dir: &Path) -> Result<IndexFile, StoreError> {
    let path = dir.join(INDEX_FILE);
    ReplaceTarget::resolve(&path)
        .map(|target| IndexFile { target })
        .map_err(|e| StoreError::io("read", &path, e))
}

impl IndexFile {
    /// `DIR/history.json`, as the user knows it.
    pub fn path(&self) -> &Path {
        &self.target.shown
    }

    /// Where replacements happen (the symlink's target when it is one).
    pub fn target(&self) -> &ReplaceTarget {
        &self.target
    }

    pub fn exists(&self) -> bool {
        self.target.stat.is_some()
    }

    /// Opens the file with its stamp (taken from the open file);
    /// `None` when there is none.
    pub fn open(&self) -> Result<Option<(File, Option<FileStamp>)>, StoreError> {
        match self.target.open() {
            Ok(Some(f)) => {
                let stamp = FileStamp::of_file(&f);
                Ok(Some((f, stamp)))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(StoreError::io("read", self.path(), e)),
        }
    }

    /// The whole file and its stamp; `None` when there is none.
    /// A file another program wrote while it was read (its ctime moved) is
    /// read again, up to twice; the third read is taken as it is (a
    /// sidecar made of it is racy and checked against the file later).
    pub(crate) fn read_all(&self) -> Result<Option<IndexBytes>, StoreError> {
        let io = |e| StoreError::io("read", self.path(), e);
        let mut tries = 3;
        loop {
            let Some((f, stamp)) = self.open()? else {
                return Ok(None);
            };
            crate::fault::point("read-whole-index");
            let seen = super::sidecar::Seen::of(&f).ok();
            let (bytes, hash) = read_file(&f).map_err(io)?;
            #[cfg(test)]
            tests::AFTER_READ.with(|h| h.borrow().as_ref().map(|h| h(self.path())));
            tries -= 1;
            let after = f.metadata().map(|m| super::sidecar::Ident::of(&m));
            if tries == 0 || seen.is_none_or(|s| after.is_ok_and(|a| a == s.ident)) {
                return Ok(Some(IndexBytes {
                    bytes,
                    stamp,
                    seen,
                    hash,
                }));
            }
        }
    }

    /// The stamp of the file as it is now.
    pub(crate) fn stamp_now(&self) -> Option<FileStamp> {
        FileStamp::of(&self.target.real_path())
    }

    /// The identity of the file as it is now, ctime included (any write,
    /// even one that puts the mtime back, moves it).
    pub(crate) fn ident_now(&self) -> Option<super::sidecar::Ident> {
        let m = std::fs::metadata(self.target.real_path()).ok()?;
        Some(super::sidecar::Ident::of(&m))
    }

    /// The error to show for a file a stream found broken near `offset`:
    /// read whole and described with line and column.
    fn describe_broken(&self, offset: u64) -> StoreError {
        match self.read_all() {
            Err(e) => e,
            Ok(None) => StoreError::io(
                "read",
                self.path(),
                std::io::Error::from(std::io::ErrorKind::NotFound),
            ),
            Ok(Some(read)) => match text_and_scan(self.path(), read.bytes) {
                Err(e) => e,
                // It changed meanwhile and is fine now: say where it was broken.
                Ok(_) => StoreError::CorruptIndex {
                    path: self.path().to_path_buf(),
                    line: 0,
                    column: offset as usize,
                    message: "it was broken while genhist read it (another program writing?)"
                        .into(),
                },
            },
        }
    }
}

fn parse_error(path: &Path, e: &serde_json::Error) -> StoreError {
    StoreError::CorruptIndex {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    }
}

pub(crate) fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Reads the index of `dir`. A missing file is an empty history.
pub(crate) fn load(dir: &Path) -> Result<LoadedIndex, StoreError> {
    let index = locate_index(dir)?;
    if let Some(loaded) = super::streamed::load(dir, &index)? {
        return Ok(loaded);
    }
    let Some(read) = index.read_all()? else {
        return Ok(LoadedIndex::default());
    };
    // A sidecar is written on the way when the one there does not match.
    let hash = read.hash.unwrap_or_else(|| FileHash::of(&read.bytes));
    let content = hash.content();
    let job = SidecarJob::when_stale(dir, read.seen, &read.bytes, Some(hash));
    let mut loaded = parse_typed(index.path(), read.bytes, job)?;
    loaded.stamp = read.stamp;
    loaded.known = std::mem::take(&mut loaded.known)
        .with_origin(super::grow::Origin::of_sidecar(dir, content));
    Ok(loaded)
}

/// Parses index bytes into entries (in no particular order; callers sort);
/// entries that do not fit the schema are reported as invalid instead of
/// failing the file.
///
/// Large files are cut in two at an entry boundary and each half is checked,
/// scanned and parsed on its own core. Each half's text is given back to the
/// system as its entries are parsed (from the end), so the whole text and all
/// the entries are never in memory at once.
fn parse_typed(
    path: &Path,
    mut bytes: Vec<u8>,
    job: Option<SidecarJob>,
) -> Result<LoadedIndex, StoreError> {
    if let Some(split) = scan::split_point(&bytes) {
        let tail = split_releasing(&mut bytes, split);
        match parse_halves(bytes, tail, job.as_ref()) {
            Ok(loaded) => return Ok(loaded),
            // Not a clean split, or an error to report: one plain pass says where.
            Err((head, tail)) => {
                bytes = head;
                bytes.extend_from_slice(&tail);
            }
        }
    }
    let (text, scan) = text_and_scan(path, bytes)?;
    let version = version_of(text.as_bytes(), &scan.top);
    if let Some(job) = &job {
        job.write_whole(text.as_bytes(), &scan);
    }
    let mut bytes = text.into_bytes();
    let (entries, invalid, known) = parse_releasing(&mut bytes, scan.entries);
    Ok(LoadedIndex {
        version,
        entries,
        invalid,
        stamp: None,
        known: known.build(),
    })
}

type Halves = (Vec<u8>, Vec<u8>);

/// `bytes[split..]` moved into a vector of its own, the text never twice in
/// memory: the new vector's pages are zeroed lazily by the system and
/// filled from the end while `bytes` gives back what was moved.
fn split_releasing(bytes: &mut Vec<u8>, split: usize) -> Vec<u8> {
    const STEP: usize = 16 << 20;
    let mut tail = vec![0u8; bytes.len() - split];
    let mut end = tail.len();
    while end > 0 {
        let start = end.saturating_sub(STEP);
        tail[start..end].copy_from_slice(&bytes[split + start..split + end]);
        bytes.truncate(split + start);
        bytes.shrink_to_fit();
        end = start;
    }
    tail
}

/// Both halves checked and scanned in parallel, then parsed in parallel; the
/// halves come back unchanged when anything in the first phase fails.
fn parse_halves(
    mut head: Vec<u8>,
    mut tail: Vec<u8>,
    job: Option<&SidecarJob>,
) -> Result<LoadedIndex, Halves> {
    let (head_scan, tail_scan) = std::thread::scope(|s| {
        // A scan that succeeds has also checked its bytes to be UTF-8.
        let t = s.spawn(|| scan::scan_tail(&tail, 0).ok());
        let h = scan::scan_from_start(&head, head.len()).ok();
        (h, t.join().ok().flatten())
    });
    let (Some((mut head_doc, true)), Some((mut tail_entries, tail_top))) = (head_scan, tail_scan)
    else {
        return Err((head, tail));
    };
    // The spans were gathered by doubling: give the slack back while the
    // whole text is still in memory (the load's peak).
    head_doc.entries.shrink_to_fit();
    tail_entries.shrink_to_fit();
    if head_doc.entries_pos.is_none() {
        return Err((head, tail));
    }
    let version = version_of(&tail, &tail_top).or_else(|| version_of(&head, &head_doc.top));
    if let Some(job) = job {
        let split = head.len();
        job.write(
            version.as_ref(),
            vec![
                sidecar::Part {
                    bytes: &head,
                    base: 0,
                    entries: &head_doc.entries,
                },
                sidecar::Part {
                    bytes: &tail,
                    base: split,
                    entries: &tail_entries,
                },
            ],
            !tail_top.is_empty(),
        );
    }
    let ((mut entries, mut invalid, mut known), (tail_ok, tail_bad, tail_known)) =
        std::thread::scope(|s| {
            let t = s.spawn(|| parse_releasing(&mut tail, tail_entries));
            let h = parse_releasing(&mut head, head_doc.entries);
            // A panic belongs to whoever runs the load (a worker catches it).
            (h, t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
        });
    entries.extend(tail_ok);
    invalid.extend(tail_bad);
    known.append(tail_known);
    Ok(LoadedIndex {
        version,
        entries,
        invalid,
        stamp: None,
        known: known.build(),
    })
}

/// A sidecar to write once the index is scanned.
pub(crate) struct SidecarJob {
    pub dir: PathBuf,
    pub seen: sidecar::Seen,
    pub sample: u64,
    pub hash: FileHash,
}

impl SidecarJob {
    /// The job for the index bytes just read, when the sidecar of `dir`
    /// does not describe them.
    pub(crate) fn when_stale(
        dir: &Path,
        seen: Option<sidecar::Seen>,
        bytes: &[u8],
        hash: Option<FileHash>,
    ) -> Option<SidecarJob> {
        let seen = seen?;
        let (sample, hash) = sidecar::hashes(bytes, hash);
        if sidecar::matches_hashes(dir, &seen.ident, sample, hash.content()) {
            return None;
        }
        Some(SidecarJob {
            dir: dir.to_path_buf(),
            seen,
            sample,
            hash,
        })
    }

    /// Writes the sidecar of an index scanned in one piece.
    pub(crate) fn write_whole(&self, bytes: &[u8], scan: &scan::Scan) {
        self.write(
            version_of(bytes, &scan.top).as_ref(),
            vec![sidecar::Part {
                bytes,
                base: 0,
                entries: &scan.entries,
            }],
            members_after(scan),
        );
    }

    pub(crate) fn write(
        &self,
        version: Option<&Value>,
        parts: Vec<sidecar::Part>,
        members_after: bool,
    ) {
        sidecar::write(&self.dir, &self.source(version, parts, members_after));
    }

    /// What the sidecar is made of: these parts of the index as read
    /// (`members_after`: top-level members follow `entries`).
    pub(crate) fn source<'a>(
        &'a self,
        version: Option<&'a Value>,
        parts: Vec<sidecar::Part<'a>>,
        members_after: bool,
    ) -> sidecar::Source<'a> {
        sidecar::Source {
            seen: self.seen,
            sample: self.sample,
            hash: &self.hash,
            version,
            parts,
            members_after,
        }
    }
}

/// Whether top-level members follow `entries` in a scanned index.
pub(crate) fn members_after(scan: &scan::Scan) -> bool {
    scan.entries_pos.is_some_and(|p| scan.top.len() > p)
}

/// The last `version` member among `top`, parsed.
pub(crate) fn version_of(b: &[u8], top: &[scan::Member]) -> Option<Value> {
    let m = top.iter().rev().find(|m| m.key.is_at(b, "version"))?;
    serde_json::from_slice(&b[m.value.clone()]).ok()
}

/// The entry scanned at `e` in `b`, or why it does not fit the schema.
pub(crate) fn parse_entry_at(b: &[u8], e: &EntrySpan) -> Result<HistoryEntry, InvalidEntry> {
    entry_from_text(
        e.key.get_at(b).into_owned(),
        &b[e.value.clone()],
        e.nonfinite,
    )
}

/// An entry from its stored text; `id` is its key in `entries`, which is what
/// the Python tool looks entries up by. `nonfinite`: the text may hold
/// `NaN`/`Infinity` (when unsure, pass true: the check is cheap).
pub(crate) fn entry_from_text(
    id: String,
    text: &[u8],
    nonfinite: bool,
) -> Result<HistoryEntry, InvalidEntry> {
    let text = if nonfinite {
        nonfinite::to_markers(text)
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    match serde_json::from_slice::<HistoryEntry>(&text) {
        Ok(mut entry) => {
            entry.entry_id = id;
            Ok(entry)
        }
        Err(err) => Err(InvalidEntry {
            entry_id: id,
            reason: strip_position(&err.to_string()),
        }),
    }
}

/// Parses the entries at `spans` from the last to the first, handing the
/// text behind them back to the system every few megabytes; notes each
/// entry's text hash on the way.
fn parse_releasing(
    buf: &mut Vec<u8>,
    mut spans: Vec<EntrySpan>,
) -> (
    Vec<std::sync::Arc<HistoryEntry>>,
    Vec<InvalidEntry>,
    super::known::KnownBuilder,
) {
    const RELEASE_EVERY: usize = 4 << 20;
    const SPANS_EVERY: usize = 1 << 15;
    let mut ok = Vec::with_capacity(spans.len());
    let mut bad = Vec::new();
    let mut known = super::known::KnownBuilder::with_capacity(spans.len());
    while let Some(e) = spans.pop() {
        // The spans are given back as they are used, as the text is.
        if spans.capacity() - spans.len() >= SPANS_EVERY {
            spans.shrink_to_fit();
        }
        known.insert_hashed(e.id, scan::fast_hash(&buf[e.value.clone()]));
        match parse_entry_at(buf, &e) {
            Ok(entry) => ok.push(std::sync::Arc::new(entry)),
            Err(invalid) => bad.push(invalid),
        }
        let key_start = e.key.span.start - 1;
        if buf.len() - key_start >= RELEASE_EVERY {
            buf.truncate(key_start);
            buf.shrink_to_fit();
        }
    }
    // Met from the end: in file order.
    bad.reverse();
    (ok, bad, known.reversed())
}

/// Turns a scan failure into the user's message: serde_json's wording with line
/// and column, or (if serde_json accepts what the scan refused, which only deep
/// nesting does) the scan's position.
pub(crate) fn scan_error(path: &Path, text: &str, offset: usize) -> StoreError {
    // NaN and the infinities are valid here; serde_json must not stop at them.
    let plain = nonfinite::neutralize(text);
    let mut de = serde_json::Deserializer::from_str(&plain);
    let serde_err = IgnoredAny::deserialize(&mut de).and_then(|_| de.end());
    match serde_err {
        Err(e) => parse_error(path, &e),
        Ok(()) => {
            let before = &text[..offset.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            StoreError::CorruptIndex {
                path: path.to_path_buf(),
                line,
                column,
                message: if text.trim_start().starts_with('{') {
                    "nested deeper than genhist reads".into()
                } else {
                    "the top level is not a JSON object".into()
                },
            }
        }
    }
}

/// The user's message for a stream over `index` that stopped (the
/// visitor's own errors are the caller's).
pub(crate) fn stream_error<E>(
    index: &IndexFile,
    e: super::stream::StreamError<E>,
) -> Result<E, StoreError> {
    use super::stream::StreamError;
    let path = index.path();
    Err(match e {
        StreamError::Visit(v) => return Ok(v),
        StreamError::Io(e) => StoreError::io("read", path, e),
        StreamError::Syntax(at) => index.describe_broken(at),
        StreamError::NoEntries => no_entries(path),
        StreamError::DuplicateEntries => StoreError::CorruptIndex {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: "there are two \"entries\" objects at the top level".into(),
        },
    })
}

pub(crate) fn no_entries(path: &Path) -> StoreError {
    StoreError::CorruptIndex {
        path: path.to_path_buf(),
        line: 1,
        column: 1,
        message: "no \"entries\" object at the top level".into(),
    }
}

/// Reads a whole file. Large files are read into memory the kernel may back
/// with 2 MiB pages: a 100 MB index then costs a few dozen page faults instead
/// of ~25,000, which is a third of the time of reading it.
fn read_file(mut f: &File) -> std::io::Result<(Vec<u8>, Option<FileHash>)> {
    use super::filehash::BLOCK;
    use std::io::Read;
    use std::os::unix::fs::FileExt;
    let len = f.metadata()?.len() as usize;
    const HUGE: usize = 2 << 20;
    if len < 4 * HUGE {
        let mut v = Vec::with_capacity(len + 1);
        f.read_to_end(&mut v)?;
        return Ok((v, None));
    }
    // Fresh zeroed memory from the kernel: no memset; faulted in by the reads.
    let mut v = vec![0u8; len];
    crate::sys::advise_huge_pages(&mut v);
    // Both halves at once (split at a block of the whole-file hash):
    // copying from the page cache is CPU work. Each block is hashed just
    // after it is read, while it is in the cache.
    let read_hashing = |buf: &mut [u8], at: usize| -> std::io::Result<FileHash> {
        let mut h = FileHash::default();
        for (i, block) in buf.chunks_mut(BLOCK).enumerate() {
            f.read_exact_at(block, (at + i * BLOCK) as u64)?;
            h.blocks.push(xxhash_rust::xxh3::xxh3_64(block));
            h.len += block.len() as u64;
        }
        Ok(h)
    };
    let split = len / 2 / BLOCK * BLOCK;
    let (a, b) = v.split_at_mut(split);
    let (ra, rb) = std::thread::scope(|s| {
        let tail = s.spawn(|| read_hashing(b, split));
        (read_hashing(a, 0), tail.join())
    });
    let mut more = [0u8; 1];
    match (ra, rb) {
        (Ok(head), Ok(Ok(tail))) if f.read_at(&mut more, len as u64)? == 0 => {
            Ok((v, head.join(tail)))
        }
        // The file changed size while being read: read it the plain way.
        _ => {
            drop(v);
            let mut v = Vec::new();
            use std::io::Seek;
            f.rewind()?;
            f.read_to_end(&mut v)?;
            Ok((v, None))
        }
    }
}

/// The index file's text, UTF-8 checked and scanned, with an `entries` object.
pub(crate) fn text_and_scan(path: &Path, bytes: Vec<u8>) -> Result<(String, Scan), StoreError> {
    let (text, scan) = scan::scan_utf8(bytes).map_err(|e| match e {
        scan::ScanError::Json(text, at) => scan_error(path, &text, at),
        scan::ScanError::Utf8(e) => {
            let at = e.utf8_error().valid_up_to();
            let before = &e.as_bytes()[..at];
            StoreError::CorruptIndex {
                path: path.to_path_buf(),
                line: before.iter().filter(|&&c| c == b'\n').count() + 1,
                column: at
                    - before
                        .iter()
                        .rposition(|&c| c == b'\n')
                        .map_or(0, |i| i + 1)
                    + 1,
                message: "not UTF-8 text".into(),
            }
        }
    })?;
    if scan.entries_pos.is_none() {
        return Err(no_entries(path));
    }
    Ok((text, scan))
}

/// The path of `dir`'s index (for messages before it is located).
pub(crate) fn index_path(dir: &Path) -> PathBuf {
    dir.join(INDEX_FILE)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    type Hook = Box<dyn Fn(&Path)>;

    thread_local! {
        /// Run by [`IndexFile::read_all`] once it has read the file.
        pub(super) static AFTER_READ: std::cell::RefCell<Option<Hook>> =
            const { std::cell::RefCell::new(None) };
    }

    #[test]
    fn an_index_written_while_read_whole_is_read_again() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let text = "{\"entries\": {\"a\": {\"entry_id\": \"a\", \"seed\": 1}}}\n";
        std::fs::write(dir.join("history.json"), text).unwrap();
        // The seed changed in place once, size and mtime put back, just
        // after the first read.
        let done = std::rc::Rc::new(std::cell::Cell::new(false));
        let once = done.clone();
        AFTER_READ.with(|h| {
            *h.borrow_mut() = Some(Box::new(move |path: &Path| {
                if once.replace(true) {
                    return;
                }
                let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
                let mtime = f.metadata().unwrap().modified().unwrap();
                std::thread::sleep(std::time::Duration::from_millis(20));
                f.write_all_at(b"7", text.find('1').unwrap() as u64)
                    .unwrap();
                f.set_modified(mtime).unwrap();
            }))
        });
        let read = locate_index(dir).unwrap().read_all().unwrap().unwrap();
        AFTER_READ.with(|h| *h.borrow_mut() = None);
        assert!(done.get());
        assert_eq!(
            String::from_utf8(read.bytes).unwrap(),
            text.replace('1', "7")
        );
    }
}

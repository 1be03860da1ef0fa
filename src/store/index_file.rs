//! `history.json` on disk: parsing (typed for reading, raw for rewriting),
//! Python-compatible layout, and atomic, merge-safe writes.
//!
//! Reads keep every entry; writes never trust what is in memory: they re-read the
//! file under an exclusive `flock` on the history directory, apply only their own
//! change to the raw text (other entries and unknown top-level fields are copied
//! byte for byte), and replace the file with temp file + fsync + rename + fsync of
//! the directory. Just before the rename the file's identity is compared with what
//! was read; if a writer that does not take the lock (the Python tool) replaced it
//! meanwhile, the change is re-applied to the new contents.

use super::entry::HistoryEntry;
use super::error::StoreError;
use super::pyjson;
use super::scan::{self, EntrySpan, Scan};
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

pub const INDEX_FILE: &str = "history.json";
pub const SUPPORTED_VERSION: i64 = 1;

/// An entry that is in the index but cannot be used (wrong field types, missing fields).
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidEntry {
    pub entry_id: String,
    pub reason: String,
}

/// An entry taken out of the index: its key, stored text and place among the
/// entries, enough to put it back byte for byte.
#[derive(Debug, Clone, PartialEq)]
pub struct RemovedEntry {
    pub position: usize,
    pub id: String,
    pub text: String,
}

/// What a read of `history.json` yields.
#[derive(Debug, Default)]
pub struct LoadedIndex {
    pub version: Option<Value>,
    pub entries: Vec<HistoryEntry>,
    pub invalid: Vec<InvalidEntry>,
    /// The file's identity at read time, to notice later changes.
    pub stamp: Option<FileStamp>,
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
    pub fn of(path: &Path) -> Option<FileStamp> {
        let m = fs::metadata(path).ok()?;
        Some(FileStamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
        })
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

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// Reads the index of `dir`. A missing file is an empty history.
pub fn load(dir: &Path) -> Result<LoadedIndex, StoreError> {
    let path = dir.join(INDEX_FILE);
    let stamp = FileStamp::of(&path);
    let bytes = match read_file(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LoadedIndex::default()),
        Err(e) => return Err(StoreError::io("read", &path, e)),
    };
    let mut loaded = parse_typed(&path, bytes)?;
    loaded.stamp = stamp;
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
pub fn parse_typed(path: &Path, mut bytes: Vec<u8>) -> Result<LoadedIndex, StoreError> {
    if let Some(split) = scan::split_point(&bytes) {
        let tail = bytes.split_off(split);
        bytes.shrink_to_fit();
        match parse_halves(bytes, tail) {
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
    let mut bytes = text.into_bytes();
    let (entries, invalid) = parse_releasing(&mut bytes, &scan.entries);
    Ok(LoadedIndex {
        version,
        entries,
        invalid,
        stamp: None,
    })
}

type Halves = (Vec<u8>, Vec<u8>);

/// Both halves checked and scanned in parallel, then parsed in parallel; the
/// halves come back unchanged when anything in the first phase fails.
fn parse_halves(mut head: Vec<u8>, mut tail: Vec<u8>) -> Result<LoadedIndex, Halves> {
    let (head_scan, tail_scan) = std::thread::scope(|s| {
        let t = s.spawn(|| {
            std::str::from_utf8(&tail).ok()?;
            scan::scan_tail(&tail, 0).ok()
        });
        let h = std::str::from_utf8(&head)
            .ok()
            .and_then(|_| scan::scan_from_start(&head, head.len()).ok());
        (h, t.join().ok().flatten())
    });
    let (Some((head_doc, true)), Some((tail_entries, tail_top))) = (head_scan, tail_scan) else {
        return Err((head, tail));
    };
    if head_doc.entries_pos.is_none() {
        return Err((head, tail));
    }
    let version = version_of(&tail, &tail_top).or_else(|| version_of(&head, &head_doc.top));
    let ((mut entries, mut invalid), (tail_ok, tail_bad)) = std::thread::scope(|s| {
        let t = s.spawn(|| parse_releasing(&mut tail, &tail_entries));
        let h = parse_releasing(&mut head, &head_doc.entries);
        (h, t.join().expect("parsing does not panic"))
    });
    entries.extend(tail_ok);
    invalid.extend(tail_bad);
    Ok(LoadedIndex {
        version,
        entries,
        invalid,
        stamp: None,
    })
}

/// The last `version` member among `top`, parsed.
fn version_of(b: &[u8], top: &[scan::Member]) -> Option<Value> {
    let m = top.iter().rev().find(|m| m.key.is_at(b, "version"))?;
    serde_json::from_slice(&b[m.value.clone()]).ok()
}

/// The entry scanned at `e` in `b`, or why it does not fit the schema.
fn parse_entry_at(b: &[u8], e: &EntrySpan) -> Result<HistoryEntry, InvalidEntry> {
    entry_from_text(e.key.get_at(b).into_owned(), &b[e.value.clone()])
}

/// An entry from its stored text; `id` is its key in `entries`, which is what
/// the Python tool looks entries up by.
pub(crate) fn entry_from_text(id: String, text: &[u8]) -> Result<HistoryEntry, InvalidEntry> {
    match serde_json::from_slice::<HistoryEntry>(text) {
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
/// text behind them back to the system every few megabytes.
fn parse_releasing(
    buf: &mut Vec<u8>,
    spans: &[EntrySpan],
) -> (Vec<HistoryEntry>, Vec<InvalidEntry>) {
    const RELEASE_EVERY: usize = 4 << 20;
    let mut ok = Vec::with_capacity(spans.len());
    let mut bad = Vec::new();
    for e in spans.iter().rev() {
        match parse_entry_at(buf, e) {
            Ok(entry) => ok.push(entry),
            Err(invalid) => bad.push(invalid),
        }
        let key_start = e.key.span.start - 1;
        if buf.len() - key_start >= RELEASE_EVERY {
            buf.truncate(key_start);
            buf.shrink_to_fit();
        }
    }
    (ok, bad)
}

// ---------------------------------------------------------------------------
// Raw document for rewriting.

/// The index as text slices: enough structure to add or remove entries while
/// copying everything else unchanged.
pub struct RawDoc<'a> {
    /// Top-level members in file order; `entries` is held separately at `entries_pos`.
    top: Vec<(Cow<'a, str>, &'a str)>,
    entries_pos: Option<usize>,
    entries: Vec<(Cow<'a, str>, RawOrNew<'a>)>,
    pub version: Option<i64>,
    version_text: Option<String>,
    /// The text this was parsed from, so unchanged stretches are written
    /// straight from it.
    source: &'a str,
}

enum RawOrNew<'a> {
    Raw(&'a str),
    New(String),
}

/// Turns a scan failure into the user's message: serde_json's wording with line
/// and column, or (if serde_json accepts what the scan refused, which only deep
/// nesting does) the scan's position.
fn scan_error(path: &Path, text: &str, offset: usize) -> StoreError {
    let mut de = serde_json::Deserializer::from_str(text);
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

fn no_entries(path: &Path) -> StoreError {
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
fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::FileExt;
    let mut f = File::open(path)?;
    let len = f.metadata()?.len() as usize;
    const HUGE: usize = 2 << 20;
    if len < 4 * HUGE {
        let mut v = Vec::with_capacity(len + 1);
        f.read_to_end(&mut v)?;
        return Ok(v);
    }
    // Fresh zeroed memory from the kernel: no memset; faulted in by the reads.
    let mut v = vec![0u8; len];
    let p = v.as_mut_ptr() as usize;
    let start = (p + HUGE - 1) & !(HUGE - 1);
    let end = (p + len) & !(HUGE - 1);
    if end > start {
        // SAFETY: the range lies inside the Vec's own allocation; the advice
        // only changes how the kernel backs it.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
    // Both halves at once: copying from the page cache is CPU work.
    let (a, b) = v.split_at_mut(len / 2);
    let (ra, rb) = std::thread::scope(|s| {
        let tail = s.spawn(|| f.read_exact_at(b, (len / 2) as u64));
        (f.read_exact_at(a, 0), tail.join())
    });
    let mut more = [0u8; 1];
    match (ra, rb) {
        (Ok(()), Ok(Ok(()))) if f.read_at(&mut more, len as u64)? == 0 => Ok(v),
        // The file changed size while being read: read it the plain way.
        _ => {
            drop(v);
            let mut v = Vec::new();
            File::open(path)?.read_to_end(&mut v)?;
            Ok(v)
        }
    }
}

/// The index file's text, UTF-8 checked and scanned, with an `entries` object.
fn text_and_scan(path: &Path, bytes: Vec<u8>) -> Result<(String, Scan), StoreError> {
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

impl<'a> RawDoc<'a> {
    pub fn empty() -> RawDoc<'static> {
        RawDoc {
            top: Vec::new(),
            entries_pos: None,
            entries: Vec::new(),
            version: Some(SUPPORTED_VERSION),
            version_text: None,
            source: "",
        }
    }

    pub fn parse(path: &Path, text: &'a str) -> Result<RawDoc<'a>, StoreError> {
        let s = scan::scan(text).map_err(|at| scan_error(path, text, at))?;
        if s.entries_pos.is_none() {
            return Err(no_entries(path));
        }
        Ok(RawDoc::from_scan(text, &s))
    }

    /// A document over scanned text that has an `entries` object.
    fn from_scan(text: &'a str, s: &Scan) -> RawDoc<'a> {
        let mut doc = RawDoc {
            top: s
                .top
                .iter()
                .map(|m| (m.key.get(text), &text[m.value.clone()]))
                .collect(),
            entries_pos: s.entries_pos,
            entries: s
                .entries
                .iter()
                .map(|e| (e.key.get(text), RawOrNew::Raw(&text[e.value.clone()])))
                .collect(),
            version: None,
            version_text: None,
            source: text,
        };
        if let Some((_, v)) = doc.top.iter().rev().find(|(k, _)| k == "version") {
            doc.version = v.parse().ok();
            doc.version_text = Some(v.to_string());
        }
        doc
    }

    /// Refuses to write over a format version genhist does not know.
    pub fn check_writable(&self, path: &Path) -> Result<(), StoreError> {
        match self.version {
            Some(SUPPORTED_VERSION) => Ok(()),
            _ => Err(StoreError::UnsupportedVersion {
                path: path.to_path_buf(),
                found: self
                    .version_text
                    .clone()
                    .unwrap_or_else(|| "missing".into()),
            }),
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.entries.iter().any(|(k, _)| k == id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_ref())
    }

    /// The stored text of an entry (as read, or as genhist will write it).
    pub fn entry_text(&self, id: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == id)
            .map(|(_, v)| match v {
                RawOrNew::Raw(r) => *r,
                RawOrNew::New(s) => s.as_str(),
            })
    }

    /// Removes an entry; true when it was there.
    pub fn remove(&mut self, id: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|(k, _)| k != id);
        before != self.entries.len()
    }

    /// Removes every entry whose id is in `ids`, in one pass; returns what was
    /// removed, with the stored text and place of each (for an exact undo).
    pub fn remove_all(&mut self, ids: &std::collections::HashSet<&str>) -> Vec<RemovedEntry> {
        let mut removed = Vec::new();
        // A handful of ids (the usual delete) is compared directly: hashing
        // every key of a large index costs more than the comparisons.
        let few: Option<Vec<&str>> = (ids.len() <= 16).then(|| ids.iter().copied().collect());
        let mut position = 0;
        self.entries.retain(|(k, v)| {
            let hit = match &few {
                Some(few) => few.contains(&k.as_ref()),
                None => ids.contains(k.as_ref()),
            };
            if hit {
                removed.push(RemovedEntry {
                    position,
                    id: k.to_string(),
                    text: match v {
                        RawOrNew::Raw(r) => r.to_string(),
                        RawOrNew::New(s) => s.clone(),
                    },
                });
            }
            position += 1;
            !hit
        });
        removed
    }

    /// Puts entries back where [`RawDoc::remove_all`] took them from (ids
    /// already present again are left alone); returns how many went back.
    pub fn restore(&mut self, removed: &[RemovedEntry]) -> usize {
        let mut sorted: Vec<&RemovedEntry> = removed.iter().collect();
        sorted.sort_by_key(|r| r.position);
        let mut n = 0;
        for r in sorted {
            if self.contains(&r.id) {
                continue;
            }
            let at = r.position.min(self.entries.len());
            self.entries.insert(
                at,
                (Cow::Owned(r.id.clone()), RawOrNew::New(r.text.clone())),
            );
            n += 1;
        }
        n
    }

    /// Adds an entry (replacing one with the same id), serialized as the Python tool would.
    pub fn insert(&mut self, entry: &HistoryEntry) {
        self.entries.retain(|(k, _)| *k != entry.entry_id);
        self.push_new(entry);
    }

    /// Appends an entry whose id is known not to be in the index (a fresh UUID).
    pub fn push_new(&mut self, entry: &HistoryEntry) {
        let mut s = String::new();
        pyjson::write_value(&mut s, &entry.to_json(), 2);
        self.entries
            .push((Cow::Owned(entry.entry_id.clone()), RawOrNew::New(s)));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The document as `json.dump(data, f, indent=2)` lays it out.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        self.write_to(&mut out).expect("writing to memory");
        String::from_utf8(out).expect("rendered from UTF-8 pieces")
    }

    /// Writes the document as `json.dump(data, f, indent=2)` lays it out:
    /// stored text is copied as it is, keys and new entries are written the
    /// Python way.
    pub fn write_to(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut out = Coalesce {
            source: self.source.as_bytes(),
            run: None,
            inner: out,
        };
        self.write_pieces(&mut out)?;
        out.flush_run()
    }

    fn write_pieces(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut key = String::new();
        let mut first = true;
        let mut member = |out: &mut dyn Write| -> std::io::Result<()> {
            if !std::mem::take(&mut first) {
                out.write_all(b",")?;
            }
            out.write_all(b"\n  ")
        };
        out.write_all(b"{")?;
        let top = &self.top[..];
        if top.is_empty() && self.entries_pos.is_none() {
            // A brand-new index, laid out as the seed's `{"version": 1, "entries": {}}`.
            member(out)?;
            out.write_all(b"\"version\": 1")?;
        }
        let entries_pos = self.entries_pos.unwrap_or(top.len());
        for i in 0..=top.len() {
            if i == entries_pos {
                member(out)?;
                out.write_all(b"\"entries\": ")?;
                self.write_entries(out, &mut key)?;
            }
            if let Some((k, v)) = top.get(i) {
                member(out)?;
                key.clear();
                pyjson::write_str(&mut key, k);
                out.write_all(key.as_bytes())?;
                out.write_all(b": ")?;
                out.write_all(v.as_bytes())?;
            }
        }
        out.write_all(b"\n}")
    }

    fn write_entries(&self, out: &mut impl Write, key: &mut String) -> std::io::Result<()> {
        if self.entries.is_empty() {
            return out.write_all(b"{}");
        }
        out.write_all(b"{")?;
        for (i, (k, v)) in self.entries.iter().enumerate() {
            out.write_all(if i > 0 { b",\n    " } else { b"\n    " })?;
            key.clear();
            pyjson::write_str(key, k);
            out.write_all(key.as_bytes())?;
            out.write_all(b": ")?;
            out.write_all(match v {
                RawOrNew::Raw(r) => r.as_bytes(),
                RawOrNew::New(s) => s.as_bytes(),
            })?;
        }
        out.write_all(b"\n  }")
    }
}

/// A writer that turns pieces equal to consecutive stretches of `source` into
/// one large write from `source` (a delete rewrites a 70 MB index as two or
/// three writes instead of copying it piece by piece through a buffer).
struct Coalesce<'s, W: Write> {
    source: &'s [u8],
    /// The stretch of `source` written so far but not yet passed on.
    run: Option<std::ops::Range<usize>>,
    inner: W,
}

impl<W: Write> Coalesce<'_, W> {
    fn flush_run(&mut self) -> std::io::Result<()> {
        if let Some(r) = self.run.take() {
            self.inner.write_all(&self.source[r])?;
        }
        Ok(())
    }
}

impl<W: Write> Write for Coalesce<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(r) = &mut self.run {
            if self.source[r.end..].starts_with(buf) {
                r.end += buf.len();
                return Ok(buf.len());
            }
        }
        self.flush_run()?;
        let base = self.source.as_ptr() as usize;
        let at = (buf.as_ptr() as usize).wrapping_sub(base);
        if !buf.is_empty() && at < self.source.len() && at + buf.len() <= self.source.len() {
            // A slice of the source itself (an entry's stored text).
            self.run = Some(at..at + buf.len());
        } else {
            self.inner.write_all(buf)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.flush_run()?;
        self.inner.flush()
    }
}

// ---------------------------------------------------------------------------
// Index text for commands that need a few entries, not all of them.

/// `history.json` read and scanned but not parsed: `list`, `show`, `delete`
/// and `play` parse only the entries they print or touch.
pub struct IndexText {
    path: PathBuf,
    text: String,
    scan: Scan,
    pub stamp: Option<FileStamp>,
}

impl IndexText {
    /// Reads and scans the index of `dir` (a missing file is an empty history).
    pub fn read(dir: &Path) -> Result<IndexText, StoreError> {
        let path = dir.join(INDEX_FILE);
        let stamp = FileStamp::of(&path);
        let (text, scan) = match read_file(&path) {
            Ok(b) => text_and_scan(&path, b)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(IndexText {
                    path,
                    text: String::new(),
                    scan: Scan {
                        entries_pos: Some(0),
                        ..Scan::default()
                    },
                    stamp: None,
                })
            }
            Err(e) => return Err(StoreError::io("read", &path, e)),
        };
        Ok(IndexText {
            path,
            text,
            scan,
            stamp,
        })
    }

    pub fn len(&self) -> usize {
        self.scan.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scan.entries.is_empty()
    }

    /// The `version` member, when the file has one.
    pub fn version(&self) -> Option<Value> {
        version_of(self.text.as_bytes(), &self.scan.top)
    }

    /// Whether a file exists at all (an empty history has none).
    pub fn exists(&self) -> bool {
        self.stamp.is_some()
    }

    fn parse_entry(&self, e: &EntrySpan) -> Result<HistoryEntry, InvalidEntry> {
        parse_entry_at(self.text.as_bytes(), e)
    }

    /// The newest `limit` entries (of `model_id` when given), newest first, in
    /// the same order as a full load sorts them; plus the unreadable entries
    /// met among them.
    pub fn newest(
        &self,
        model_id: Option<&str>,
        limit: Option<usize>,
    ) -> (Vec<HistoryEntry>, Vec<InvalidEntry>) {
        let text = &self.text;
        let mut keyed: Vec<(i64, &EntrySpan)> = self
            .scan
            .entries
            .iter()
            .filter(|e| match model_id {
                None => true,
                Some(m) => e.model_id.as_ref().is_some_and(|s| s.is(text, m)),
            })
            .map(|e| {
                let t = e.time_us.or_else(|| {
                    let ts = e.timestamp.as_ref()?;
                    super::entry::parse_timestamp_us(&ts.get(text))
                });
                (t.unwrap_or(i64::MIN), e)
            })
            .collect();
        let order = |a: &(i64, &EntrySpan), b: &(i64, &EntrySpan)| {
            let ts = |e: &EntrySpan| e.timestamp.as_ref().map(|s| s.get(text));
            b.0.cmp(&a.0)
                .then_with(|| ts(b.1).cmp(&ts(a.1)))
                .then_with(|| a.1.key.get(text).cmp(&b.1.key.get(text)))
        };
        // Entries that fail to parse are skipped, so take a few more than asked.
        let mut ok = Vec::new();
        let mut bad = Vec::new();
        let want = limit.unwrap_or(usize::MAX);
        let mut taken = 0;
        while ok.len() < want && taken < keyed.len() {
            let batch = (want - ok.len()).saturating_add(8).min(keyed.len() - taken);
            let rest = &mut keyed[taken..];
            if batch < rest.len() {
                rest.select_nth_unstable_by(batch, order);
            }
            rest[..batch].sort_unstable_by(order);
            for (_, e) in &rest[..batch] {
                match self.parse_entry(e) {
                    Ok(entry) if ok.len() < want => ok.push(entry),
                    Ok(_) => {}
                    Err(invalid) => bad.push(invalid),
                }
            }
            taken += batch;
        }
        (ok, bad)
    }

    /// Looks an entry up by full id or unique prefix of at least 4 characters,
    /// like [`super::GenerationHistory::get`].
    pub fn find(&self, id: &str) -> Result<HistoryEntry, StoreError> {
        let text = &self.text;
        let full = super::match_id(self.scan.entries.iter().map(|e| e.key.get(text)), id)?;
        // The last of duplicate keys wins, as in Python's json.load.
        let span = self
            .scan
            .entries
            .iter()
            .rev()
            .find(|e| e.key.is(text, &full));
        let span = span.ok_or_else(|| StoreError::NotFound(id.to_string()))?;
        self.parse_entry(span)
            .map_err(|bad| StoreError::InvalidEntry {
                id: bad.entry_id,
                reason: bad.reason,
            })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

// ---------------------------------------------------------------------------
// Locked, atomic read-modify-write.

/// An exclusive advisory lock on a directory, held while a read-modify-write
/// runs, so genhist processes never interleave their writes there (the index,
/// and the command bar's history file).
pub(crate) struct DirLock(File);

impl DirLock {
    pub(crate) fn acquire(dir: &Path) -> Option<DirLock> {
        let f = File::open(dir).ok()?;
        // SAFETY: flock on a valid, owned descriptor.
        let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) };
        (rc == 0).then_some(DirLock(f))
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // SAFETY: as above; the lock also ends when the descriptor closes.
        unsafe {
            libc::flock(self.0.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

/// Re-reads the index, lets `change` edit it, and writes the result atomically.
/// `change` returns `Ok(false)` when there is nothing to write. It may run more
/// than once (when another program replaced the file meanwhile); it gets the
/// fresh document each time. Returns what `change` returned last.
pub fn update<T>(
    dir: &Path,
    mut change: impl FnMut(&mut RawDoc<'_>) -> Result<(T, bool), StoreError>,
) -> Result<T, StoreError> {
    let path = dir.join(INDEX_FILE);
    let _lock = DirLock::acquire(dir);
    // The temp file comes first: a directory genhist cannot write to is an
    // error before `change` runs (and before any file is deleted for it).
    let mut tmp = TempFile::create(dir)?;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let stamp = FileStamp::of(&path);
        let text = match read_file(&path) {
            Ok(b) => Some(text_and_scan(&path, b)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(StoreError::io("read", &path, e)),
        };
        let mut doc = match &text {
            Some((t, s)) => RawDoc::from_scan(t, s),
            None => RawDoc::empty(),
        };
        doc.check_writable(&path)?;
        let (result, changed) = change(&mut doc)?;
        if !changed {
            return Ok(result);
        }
        tmp.write(|w| doc.write_to(w))
            .map_err(|e| StoreError::io("write", &path, e))?;
        drop(doc);
        drop(text);
        if FileStamp::of(&path) != stamp && attempts < 20 {
            // Someone replaced the file since we read it: apply our change again.
            continue;
        }
        tmp.rename_to(&path)
            .map_err(|e| StoreError::io("replace", &path, e))?;
        sync_dir(dir);
        return Ok(result);
    }
}

/// A temp file beside the index; removed unless renamed into place.
struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    fn create(dir: &Path) -> Result<TempFile, StoreError> {
        let path = dir.join(format!(
            ".history.json.{}.{}.tmp",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| StoreError::io("write", &dir.join(INDEX_FILE), e))?;
        Ok(TempFile {
            path,
            file: Some(file),
        })
    }

    /// Replaces the content with what `fill` writes, then fsyncs.
    fn write(
        &mut self,
        fill: impl FnOnce(&mut std::io::BufWriter<&File>) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let f = self.file.as_ref().expect("open until renamed");
        f.set_len(0)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        std::io::Seek::rewind(&mut w)?;
        fill(&mut w)?;
        w.flush()?;
        drop(w);
        f.sync_all()
    }

    fn rename_to(mut self, target: &Path) -> std::io::Result<()> {
        self.file = None;
        fs::rename(&self.path, target)?;
        self.path = PathBuf::new();
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PY: &str = r#"{
  "version": 1,
  "entries": {
    "aaaa": {
      "entry_id": "aaaa",
      "x": 1
    },
    "bbbb": {
      "entry_id": "bbbb"
    }
  },
  "future": {
    "k": [
      1
    ]
  }
}"#;

    #[test]
    fn raw_round_trip_is_byte_identical() {
        let doc = RawDoc::parse(Path::new("h.json"), PY).unwrap();
        assert_eq!(doc.render(), PY);
    }

    #[test]
    fn removing_one_entry_keeps_the_rest_verbatim() {
        let mut doc = RawDoc::parse(Path::new("h.json"), PY).unwrap();
        assert!(doc.remove("aaaa"));
        let out = doc.render();
        assert!(!out.contains("aaaa"));
        assert!(out.contains("\"future\": {\n    \"k\": [\n      1\n    ]\n  }"));
        let mut doc2 = RawDoc::parse(Path::new("h.json"), &out).unwrap();
        doc2.remove("bbbb");
        assert!(doc2.render().contains("\"entries\": {}"));
    }

    #[test]
    fn version_two_is_not_writable() {
        let text = PY.replace("\"version\": 1", "\"version\": 2");
        let doc = RawDoc::parse(Path::new("h.json"), &text).unwrap();
        assert!(matches!(
            doc.check_writable(Path::new("h.json")),
            Err(StoreError::UnsupportedVersion { .. })
        ));
    }
}

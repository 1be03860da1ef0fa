//! The sidecar carried over genhist's own rewrite of the index (a delete,
//! an undo, a purge, an add), so the next open, `list --limit N` and the
//! browser's reloads keep their fast paths instead of reading a large
//! index whole once more.
//!
//! A rewrite copies every entry it keeps as the exact text it had, so each
//! kept entry only moves by what was taken out or put in before it. While
//! it writes, the rewrite notes where each kept entry went (as shifts: from
//! this old place on, this far), which entries it left out, and the entries
//! it wrote anew (restored, added or replaced). After the new file is in
//! place, the old sidecar's rows, already in list order, are moved by those
//! shifts, the left-out ones dropped, and each new entry put in its place in
//! that order (a binary search reading the entries it compares against back
//! from the new file).
//!
//! Used only when all of this holds; anything else leaves the old sidecar,
//! which then no longer matches the index and is rebuilt at the next full
//! read, as before:
//! - the old sidecar was the index's when the rewrite opened it: identity
//!   and sample hash, and at the end the whole file as the rewrite read it
//!   hashes as the sidecar recorded, its rows as well;
//! - every kept entry was written with its key exactly as it was read, so
//!   key and value moved together;
//! - every row is accounted for: as many kept as copied, every left-out
//!   entry found among the rows;
//! - at most [`MAX_ADDED`] entries were written anew.

use super::filehash::{content_of, last_block, sample_of_file, FileHash};
use super::scan::{EntrySpan, Parser, Str};
use super::sidecar::{self, Header, Ident, ROW};
use super::stream::EntryRef;
use std::cell::Cell;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// More entries written anew than this are not followed (each is placed by
/// a binary search that reads some twenty entries back): the old sidecar
/// is left to be rebuilt.
const MAX_ADDED: usize = 10_000;

/// What a rewrite notes, while it writes, to carry the sidecar over.
pub(crate) struct Follow {
    dir: PathBuf,
    side: File,
    old: Header,
    /// From each old key offset on (until the next), how far the copied
    /// entries moved.
    shifts: Vec<(u64, i64)>,
    copied: u64,
    /// The old key offsets of the entries left out (in file order).
    dropped: Vec<u64>,
    added: Vec<Added>,
    /// Where the last entry written ends.
    last_end: u64,
    closed: bool,
    members_after: bool,
    broken: bool,
}

/// An entry written anew: `"key": value` as written, where its opening
/// quote is in the new file, its scan and its time.
struct Added {
    text: Vec<u8>,
    at: u64,
    span: EntrySpan,
    time: i64,
}

impl Follow {
    /// Starts following when the sidecar of `dir` is that of the index
    /// open as `src` (identity and sample; the whole-file hash is compared
    /// at the end).
    pub(crate) fn start(dir: &Path, src: &File) -> Option<Follow> {
        let (side, old) = sidecar::open_sidecar(dir)?;
        let ident = Ident::of(&src.metadata().ok()?);
        if old.ident != ident || sample_of_file(src, ident.size).ok()? != old.sample {
            return None;
        }
        Some(Follow {
            dir: dir.to_path_buf(),
            side,
            old,
            shifts: Vec::new(),
            copied: 0,
            dropped: Vec::new(),
            added: Vec::new(),
            last_end: 0,
            closed: false,
            members_after: false,
            broken: false,
        })
    }

    /// An entry of the old file copied as it was: its key written as
    /// `key` (with its quotes) at `key_at` (the opening quote), its value
    /// at `value_at`.
    pub(crate) fn copied(&mut self, e: &EntryRef<'_>, key: &str, key_at: u64, value_at: u64) {
        let old_key = e.base + e.span.key.span.start as u64;
        let old_value = e.base + e.span.value.start as u64;
        let new_key = key_at + 1;
        self.last_end = value_at + e.span.value.len() as u64;
        let same_key =
            key.len() >= 2 && key.as_bytes()[1..key.len() - 1] == e.buf[e.span.key.span.clone()];
        if !same_key || value_at - new_key != old_value - old_key {
            self.broken = true;
            return;
        }
        let shift = new_key as i64 - old_key as i64;
        if self.shifts.last().map(|s| s.1) != Some(shift) {
            self.shifts.push((old_key, shift));
        }
        self.copied += 1;
    }

    /// An entry of the old file left out (taken out, or replaced by a new text).
    pub(crate) fn dropped(&mut self, e: &EntryRef<'_>) {
        self.dropped.push(e.base + e.span.key.span.start as u64);
    }

    /// An entry written anew: its key as written (`key`, with its quotes)
    /// at `key_at`, its value `text` at `value_at`.
    pub(crate) fn added(&mut self, key: &str, text: &str, key_at: u64, value_at: u64) {
        self.last_end = value_at + text.len() as u64;
        if self.broken || self.added.len() >= MAX_ADDED {
            self.broken = true;
            return;
        }
        let mut b = Vec::with_capacity(key.len() + 2 + text.len());
        b.extend_from_slice(key.as_bytes());
        b.extend_from_slice(b": ");
        let v = b.len();
        b.extend_from_slice(text.as_bytes());
        match Parser::new(&b, 0).entry_member() {
            Ok(span) if span.value == (v..b.len()) && value_at == key_at + v as u64 => {
                let time = sidecar::order_time(&b, &span);
                self.added.push(Added {
                    text: b,
                    at: key_at,
                    span,
                    time,
                });
            }
            _ => self.broken = true,
        }
    }

    /// `entries` was closed.
    pub(crate) fn entries_closed(&mut self) {
        self.closed = true;
    }

    /// A top-level member was written.
    pub(crate) fn member(&mut self) {
        if self.closed {
            self.members_after = true;
        }
    }

    /// Writes the new sidecar once the new file (`out`, whose whole-file
    /// hash is `written`) is in place, the old file having hashed as
    /// `read`; gives the new file's whole-file hash when it did.
    pub(crate) fn finish(self, read: FileHash, written: FileHash, out: &File) -> Option<u64> {
        if self.broken || read.len != self.old.ident.size || read.content() != self.old.content {
            return None;
        }
        let rows = self.rows(out)?;
        let ident = Ident::of(&out.metadata().ok()?);
        if ident.size != written.len {
            return None;
        }
        let version = self.old.version_value()?;
        let header = Header::new(
            ident,
            sample_of_file(out, ident.size).ok()?,
            &written,
            None,
            self.last_end,
            last_block(out, self.last_end)?,
            self.members_after,
        );
        sidecar::write_rows(&self.dir, header, version.as_ref(), &rows);
        Some(written.content())
    }

    /// The new rows in list order: the old ones moved, the left-out ones
    /// dropped, the new ones put in their places (read back from `out`).
    fn rows(&self, out: &File) -> Option<Vec<[u8; ROW]>> {
        let n = usize::try_from(self.old.count).ok()?;
        let mut old = vec![0u8; n.checked_mul(ROW)?];
        self.side.read_exact_at(&mut old, self.old.rows_at()).ok()?;
        if content_of(&old) != self.old.rows || self.copied + self.dropped.len() as u64 != n as u64
        {
            return None;
        }
        let u64_at =
            |r: &[u8], i: usize| u64::from_le_bytes(r[i..i + 8].try_into().expect("8 bytes"));
        let mut kept: Vec<[u8; ROW]> =
            Vec::with_capacity(n - self.dropped.len() + self.added.len());
        let mut found = 0;
        for r in old.chunks_exact(ROW) {
            let key_at = u64_at(r, 0);
            if self.dropped.binary_search(&key_at).is_ok() {
                found += 1;
                continue;
            }
            let at = self.shifts.partition_point(|s| s.0 <= key_at);
            let shift = self.shifts.get(at.checked_sub(1)?)?.1;
            let mut row: [u8; ROW] = r.try_into().expect("a row");
            row[0..8].copy_from_slice(&key_at.checked_add_signed(shift)?.to_le_bytes());
            row[8..16].copy_from_slice(&u64_at(r, 8).checked_add_signed(shift)?.to_le_bytes());
            kept.push(row);
        }
        if found != self.dropped.len() {
            return None;
        }
        self.place_added(out, kept)
    }

    /// `kept` (in list order) with the added entries' rows in their places.
    fn place_added(&self, out: &File, kept: Vec<[u8; ROW]>) -> Option<Vec<[u8; ROW]>> {
        fn full(a: &Added) -> (&[u8], &EntrySpan, i64) {
            (&a.text, &a.span, a.time)
        }
        let mut added: Vec<&Added> = self.added.iter().collect();
        added.sort_by(|a, b| sidecar::order(full(a), full(b)));
        let failed = Cell::new(false);
        // Whether the entry of `row` comes before `a` in list order.
        let before = |row: &[u8; ROW], a: &Added| -> bool {
            match entry_at(out, row) {
                Some((b, span)) => {
                    let time = sidecar::order_time(&b, &span);
                    sidecar::order((&b, &span, time), full(a)).is_lt()
                }
                None => {
                    failed.set(true);
                    false
                }
            }
        };
        let mut rows = Vec::with_capacity(kept.len() + added.len());
        let mut from = 0;
        for a in added {
            let at = from + kept[from..].partition_point(|r| before(r, a));
            rows.extend_from_slice(&kept[from..at]);
            from = at;
            let start = a.at as usize;
            let key = Str {
                span: start + a.span.key.span.start..start + a.span.key.span.end,
                escaped: a.span.key.escaped,
            };
            rows.push(sidecar::row(
                0,
                &key,
                a.at + a.span.value.start as u64,
                a.span.value.len(),
                a.span.nonfinite,
                a.span.id,
            )?);
        }
        rows.extend_from_slice(&kept[from..]);
        (!failed.get()).then_some(rows)
    }
}

/// The text from the key's opening quote to the value's end of the entry
/// a row points at in `f`, scanned.
fn entry_at(f: &File, row: &[u8; ROW]) -> Option<(Vec<u8>, EntrySpan)> {
    let row = super::newest::Row::decode(row);
    let (from, to) = row.extent(u64::MAX)?;
    let mut b = vec![0u8; usize::try_from(to - from).ok()?];
    f.read_exact_at(&mut b, from).ok()?;
    let span = Parser::new(&b, 0).entry_member().ok()?;
    Some((b, span))
}

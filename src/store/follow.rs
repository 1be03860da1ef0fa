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
//! - every kept entry's value moved as far as its key (the key is written
//!   as it was read; an index without a space after its colons is laid out
//!   anew, and is not followed);
//! - every row is accounted for: as many kept as copied, every left-out
//!   entry found among the rows;
//! - at most [`MAX_ADDED`] entries were written anew.

use super::filehash::{sample_of_file, ContentHash, FileHash};
use super::grow::Origin;
use super::newest::Row;
use super::scan::{EntrySpan, Parser, Str};
use super::sidecar::{self, Header, Ident, RowWriter, Seen, ROW};
use super::stream::EntryRef;
use std::collections::HashSet;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// More entries written anew than this are not followed (each is placed by
/// a binary search that reads some twenty entries back): the old sidecar
/// is left to be rebuilt.
const MAX_ADDED: usize = 10_000;

/// Old rows read at a time.
const CHUNK: usize = 32 * 1024;

/// What a rewrite notes, while it writes, to carry the sidecar over.
pub(crate) struct Follow {
    dir: PathBuf,
    /// The old file (still readable after it was replaced).
    src: File,
    side: File,
    old: Header,
    /// From each old key offset on (until the next), how far the copied
    /// entries moved.
    shifts: Vec<(u64, i64)>,
    copied: u64,
    /// The old key offsets of the entries left out (in file order).
    dropped: Vec<u64>,
    /// In list order once [`Follow::prepare`] sorted them.
    added: Vec<Added>,
    /// Where each of `added` goes among the old rows ([`Follow::prepare`]).
    places: Vec<u64>,
    /// Where the last entry written ends, and the hash of its block up to
    /// there, of the bytes as written (never read back: another program
    /// may write the new file before it is read).
    last_end: u64,
    last_block: Option<u64>,
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
            src: src.try_clone().ok()?,
            side,
            old,
            shifts: Vec::new(),
            copied: 0,
            dropped: Vec::new(),
            added: Vec::new(),
            places: Vec::new(),
            last_end: 0,
            last_block: None,
            closed: false,
            members_after: false,
            broken: false,
        })
    }

    /// An entry of the old file copied as it was, its key too (see
    /// `rewrite::Layout::copy`): its key's opening quote written at
    /// `key_at`, its value at `value_at`.
    pub(crate) fn copied(&mut self, e: &EntryRef<'_>, key_at: u64, value_at: u64) {
        let old_key = e.base + e.span.key.span.start as u64;
        let old_value = e.base + e.span.value.start as u64;
        let new_key = key_at + 1;
        self.last_end = value_at + e.span.value.len() as u64;
        if value_at - new_key != old_value - old_key {
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

    /// `entries` was closed at `at`, the hash of the bytes written since
    /// the last block boundary being `partial`.
    pub(crate) fn entries_closed(&mut self, at: u64, partial: u64) {
        self.closed = true;
        self.last_block = match self.last_end {
            0 => Some(xxhash_rust::xxh3::xxh3_64(b"")),
            end if end == at => Some(partial),
            _ => None,
        };
    }

    /// A top-level member was written.
    pub(crate) fn member(&mut self) {
        if self.closed {
            self.members_after = true;
        }
    }

    /// Checks, right after the rewrite and before the new file goes in
    /// place, that the old file read as the sidecar describes (its
    /// whole-file hash `read`), and places the entries written anew among
    /// the old rows, reading the entries they are compared with from the
    /// old file; the old file's identity (ctime included) must be the
    /// same at the end, so those entries are the bytes the rewrite read.
    pub(crate) fn prepare(&mut self, read: &FileHash) -> bool {
        if self.broken
            || read.len != self.old.ident.size
            || read.content() != self.old.content
            || self.copied + self.dropped.len() as u64 != self.old.count
        {
            return false;
        }
        self.added
            .sort_by(|a, b| sidecar::order(a.full(), b.full()));
        match self.places() {
            Some(places) => self.places = places,
            None => return false,
        }
        self.src.metadata().ok().map(|m| Ident::of(&m)) == Some(self.old.ident)
    }

    /// Writes the new sidecar once the new file (`out`, whose whole-file
    /// hash is `written`) is in place ([`Follow::prepare`] having said
    /// yes); gives the new file as a store's knowledge keeps it, when it
    /// did.
    pub(crate) fn finish(self, written: FileHash, out: &File) -> Option<Origin> {
        let ident = Ident::of(&out.metadata().ok()?);
        if ident.size != written.len {
            return None;
        }
        // As if its bytes were read the moment the file last changed:
        // racy until a whole-file check notes otherwise, however long after
        // it was written (another program may have written the new file in
        // place since it went in).
        let seen = Seen {
            ident,
            at_ns: ident.ctime_ns,
        };
        let header = Header::new(
            seen,
            sample_of_file(out, ident.size).ok()?,
            &written,
            self.old.version.clone(),
            self.last_end,
            self.last_block?,
            self.members_after,
        );
        let mut w = RowWriter::new(&self.dir, header)?;
        self.write_rows(&mut w)?;
        let header = w
            .commit()
            .map_err(|e| tracing::info!("the sidecar was not carried over: {e}"))
            .ok()?;
        Origin::of(&header)
    }

    /// The new rows in list order: the old ones moved, the left-out ones
    /// dropped, the new ones in their places; `None` when the old rows
    /// are not what the sidecar's header says or do not match the rewrite.
    fn write_rows(&self, w: &mut RowWriter) -> Option<()> {
        let (added, places) = (&self.added, &self.places);
        if places.len() != added.len() {
            return None;
        }
        let mut ids: HashSet<u64> = HashSet::with_capacity(added.len());
        if !added.iter().all(|a| ids.insert(a.span.id)) {
            return None;
        }
        let n = self.old.count;
        let mut old_rows = ContentHash::new();
        let mut next = added.iter().zip(places).peekable();
        let mut found = 0;
        let mut buf = vec![0u8; CHUNK * ROW];
        let mut i = 0u64;
        while i < n {
            let k = (n - i).min(CHUNK as u64) as usize;
            let chunk = &mut buf[..k * ROW];
            self.side
                .read_exact_at(chunk, self.old.rows_at() + i * ROW as u64)
                .ok()?;
            old_rows.feed(chunk);
            for r in chunk.chunks_exact(ROW) {
                while let Some((a, _)) = next.next_if(|(_, &at)| at == i) {
                    w.push(&a.row()?).ok()?;
                }
                i += 1;
                let row = Row::decode(r);
                if self.dropped.binary_search(&row.key_start).is_ok() {
                    found += 1;
                    continue;
                }
                if ids.contains(&row.id) {
                    return None;
                }
                let at = self.shifts.partition_point(|s| s.0 <= row.key_start);
                let shift = self.shifts.get(at.checked_sub(1)?)?.1;
                let mut moved: [u8; ROW] = r.try_into().expect("a row");
                let key = row.key_start.checked_add_signed(shift)?;
                let value = row.value_start.checked_add_signed(shift)?;
                moved[0..8].copy_from_slice(&key.to_le_bytes());
                moved[8..16].copy_from_slice(&value.to_le_bytes());
                w.push(&moved).ok()?;
            }
        }
        for (a, _) in next {
            w.push(&a.row()?).ok()?;
        }
        (old_rows.finish().content() == self.old.rows && found == self.dropped.len()).then_some(())
    }

    /// Where each added entry (in list order) goes among the old rows: the
    /// place of the first old row that comes after it, found by a binary
    /// search that reads the rows' entries from the old file (where every
    /// old row's entry is, kept or not).
    fn places(&self) -> Option<Vec<u64>> {
        let mut places = Vec::with_capacity(self.added.len());
        let mut lo = 0u64;
        for a in &self.added {
            let mut hi = self.old.count;
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let mut row = [0u8; ROW];
                self.side
                    .read_exact_at(&mut row, self.old.rows_at() + mid * ROW as u64)
                    .ok()?;
                let (b, span) = entry_at(&self.src, &Row::decode(&row))?;
                let time = sidecar::order_time(&b, &span);
                if sidecar::order((&b, &span, time), a.full()).is_lt() {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            places.push(lo);
        }
        Some(places)
    }
}

impl Added {
    fn full(&self) -> (&[u8], &EntrySpan, i64) {
        (&self.text, &self.span, self.time)
    }

    /// Its row in the new file.
    fn row(&self) -> Option<[u8; ROW]> {
        let start = usize::try_from(self.at).ok()?;
        let key = Str {
            span: start + self.span.key.span.start..start + self.span.key.span.end,
            escaped: self.span.key.escaped,
        };
        sidecar::row(
            0,
            &key,
            self.at + self.span.value.start as u64,
            self.span.value.len(),
            self.span.nonfinite,
            self.span.id,
        )
    }
}

/// The text from the key's opening quote to the value's end of the entry
/// a row points at in `f`, scanned.
fn entry_at(f: &File, row: &Row) -> Option<(Vec<u8>, EntrySpan)> {
    let (from, to) = row.extent(u64::MAX)?;
    let mut b = vec![0u8; usize::try_from(to - from).ok()?];
    f.read_exact_at(&mut b, from).ok()?;
    let span = Parser::new(&b, 0).entry_member().ok()?;
    Some((b, span))
}

#[cfg(test)]
mod tests {
    use super::super::grow::tests::entry;
    use super::super::read::locate_index;
    use super::super::rewrite::Selection;
    use super::super::{change, dir::HistoryDir, reload, trash, GenerationHistory};
    use super::*;

    /// Python's layout.
    fn index(entries: &[String]) -> String {
        format!(
            "{{\n  \"version\": 1,\n  \"entries\": {{\n    {}\n  }}\n}}",
            entries.join(",\n    ")
        )
    }

    fn known_of_full_load(dir: &Path) -> super::super::known::Known {
        GenerationHistory::open(dir).unwrap().take_known().unwrap()
    }

    /// The browser deletes a take (its store following the file), then
    /// another program adds one: the reload reads only the added take,
    /// through the sidecar the delete carried over, and knows the file as
    /// a full load does.
    #[test]
    fn after_genhists_own_delete_a_reload_reads_only_what_was_added() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("history.json");
        let mut entries: Vec<String> = (0..6).map(|i| entry(&format!("e{i}"), 1 + i)).collect();
        std::fs::write(&path, index(&entries)).unwrap();
        let known = known_of_full_load(t.path());
        let hd = HistoryDir::new(t.path());
        let mut txn = change::begin(&hd).unwrap();
        txn.track(known);
        trash::delete_in(
            &mut txn,
            Selection::Ids(vec!["e2".into()]),
            trash::DeleteOptions::default(),
        )
        .unwrap();
        let (known, _) = txn.tracked().unwrap();
        drop(txn);
        let content = std::fs::read(&path).unwrap();
        assert_eq!(known.content(), Some(FileHash::of(&content).content()));
        // Another program adds a take after the last, as Python's save does.
        entries.remove(2);
        entries.push(entry("new", 20));
        let grown = index(&entries);
        let old = String::from_utf8(content).unwrap();
        assert!(grown.starts_with(&old[..old.len() - "\n  }\n}".len()]));
        std::fs::write(&path, &grown).unwrap();
        let side = sidecar::path_of(t.path());
        let before = std::fs::read(&side).unwrap();
        let (after, delta) = reload::reload(&locate_index(t.path()).unwrap(), &known).unwrap();
        // Through the sidecar: it was rewritten (a streamed reload leaves it).
        assert_ne!(std::fs::read(&side).unwrap(), before);
        assert!(delta.removed.is_empty());
        let ids: Vec<&str> = delta
            .upserts
            .iter()
            .map(|e| e.as_ref().unwrap().entry_id.as_str())
            .collect();
        assert_eq!(ids, ["new"]);
        assert_eq!(after, known_of_full_load(t.path()));
    }
}

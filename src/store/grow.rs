//! An index that only grew since its sidecar was written: entries added
//! after the last one, nothing else changed (what the Python tool's save
//! does when it adds a take). `list --limit N` then takes the newest from
//! the new entries and the old rows, and writes the new sidecar (the new
//! entries' rows in front of the old rows) without scanning, sorting or
//! holding the old entries: the old part of the file is only read through
//! a 1 MiB buffer to check its block hashes.
//!
//! Used only when all of this holds for the index as it is now, opened
//! once and read through that one descriptor:
//! - the old sidecar passes every check of its own (header checksum, its
//!   rows' hash) and kept no top-level member after `entries`;
//! - the file is larger (by at most 64 MiB), and every byte up to the end
//!   of the old last entry is as it was: the 1 MiB blocks before that one
//!   hash as recorded, and so does that block up to there;
//! - what follows is `,` then one or more entries, then the end of
//!   `entries` and of the document, valid JSON and UTF-8;
//! - no new id is an old one or another new one;
//! - every new entry is strictly newer than the newest old one, so the new
//!   rows go in front of the old as a full sort would put them;
//! - the file's identity is the same after all was read.
//!
//! Anything else: the index is read whole, as without a sidecar.

use super::filehash::{sample_of_file, FileHash, BLOCK};
use super::newest::{Newest, Row};
use super::reload::Delta;
use super::scan::{self, EntrySpan};
use super::sidecar::{self, Header, Ident, Seen, ROW};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// More bytes added than this are not "a few takes added": the index is
/// read as without a sidecar (streamed when large), never held here.
const MAX_ADDED: usize = 64 << 20;

/// The newest `limit` entries of `dir`'s index, as
/// [`super::lite::IndexText::newest`] gives them, when the index only grew
/// since its sidecar was written; the new sidecar is written meanwhile.
/// `None` otherwise (nothing written): the caller reads the index as
/// without a sidecar. Cheap checks come first, so a changed index is
/// seldom read twice.
pub(crate) fn newest(dir: &Path, limit: usize) -> Option<Newest> {
    let index = super::read::locate_index(dir).ok()?;
    let (side, old) = sidecar::open_sidecar(dir)?;
    let (f, stamp) = index.open().ok()??;
    let seen = Seen::plain(&f).ok()?;
    let ident = seen.ident;
    let g = grown(&side, old, &f, seen)?;
    // A `version` text that does not parse: read whole, as `newest` does.
    let version = g.header.version_value()?;
    let size = ident.size;
    let taken = std::thread::scope(|s| {
        s.spawn(|| g.write(dir));
        super::newest::take_newest(g.len(), limit, |at| g.entries(&f, size, at))
    });
    let same = Ident::of(&f.metadata().ok()?) == ident;
    let (Some((entries, invalid)), true) = (taken, same) else {
        // Changed meanwhile, or an old row that does not lead to its
        // entry: that sidecar goes.
        sidecar::forget(dir);
        return None;
    };
    Some(Newest {
        entries,
        invalid,
        total: g.len(),
        version,
        stamp,
        path: index.path().to_path_buf(),
    })
}

/// The bytes a store's knowledge was gathered from, as much as following
/// them when they only grow needs: their block hashes and length, where
/// their last entry ends and the hash of its block up to there. Only for
/// an index with entries and no top-level member after `entries`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    hash: FileHash,
    last_end: u64,
    last_block: u64,
    /// The `version` member's text (before `entries`, so it stays).
    version: Option<Vec<u8>>,
}

impl Origin {
    /// The bytes a sidecar's header describes.
    pub(super) fn of(h: &Header) -> Option<Origin> {
        (!h.members_after && h.count > 0 && h.last_end > 0).then(|| Origin {
            hash: FileHash {
                blocks: h.blocks.clone(),
                len: h.ident.size,
            },
            last_end: h.last_end,
            last_block: h.last_block,
            version: h.version.clone(),
        })
    }

    /// The bytes the sidecar of `dir` describes, when their whole-file
    /// hash is `content` (the bytes a load just read).
    pub(crate) fn of_sidecar(dir: &Path, content: u64) -> Option<Origin> {
        let (_, h) = sidecar::open_sidecar(dir)?;
        (h.content == content).then(|| Origin::of(&h)).flatten()
    }

    pub(crate) fn content(&self) -> u64 {
        self.hash.content()
    }
}

/// What a reload learns from an index that only grew: the added entries
/// (id hash, text hash, as [`super::known::Known`] keeps them), the change
/// as a [`Delta`] and the new file.
pub(crate) struct Reloaded {
    pub added: Vec<(u64, u64)>,
    pub delta: Delta,
    pub origin: Option<Origin>,
}

/// [`Reloaded`] for `index`, when it only grew since the bytes `known` was
/// gathered from. When the sidecar there describes those bytes, the new
/// sidecar is written from its rows; otherwise (another genhist carried it
/// over to the new file, or there is none) the file's first blocks are
/// compared with the ones `known` keeps. `None` otherwise: the caller
/// reads the index.
pub(crate) fn reload(
    index: &super::read::IndexFile,
    known: &super::known::Known,
) -> Option<Reloaded> {
    let origin = known.origin()?;
    let dir = index.path().parent()?;
    let (f, _) = index.open().ok()??;
    let seen = Seen::plain(&f).ok()?;
    let ident = seen.ident;
    // The version member is before `entries`, so it is the one known.
    let version = sidecar::version_value(origin.version.as_deref())?;
    let side = sidecar::open_sidecar(dir).filter(|(_, h)| h.content == origin.content());
    let reloaded = match side {
        Some((side, old)) => {
            let g = grown(&side, old, &f, seen)?;
            g.write(dir);
            Reloaded {
                added: g.tail.added(),
                delta: g.tail.delta(version),
                origin: Some(g.tail.origin(origin)?),
            }
        }
        None => {
            let t = tail(origin, &f, ident)?;
            if t.new.iter().any(|e| known.has(e.id)) || !t.check_blocks(&f) {
                return None;
            }
            Reloaded {
                added: t.added(),
                delta: t.delta(version),
                origin: Some(t.origin(origin)?),
            }
        }
    };
    // Changed meanwhile: read it as it is now.
    (Ident::of(&f.metadata().ok()?) == ident).then_some(reloaded)
}

/// What an index holds after the bytes `origin` describes: the entries
/// added after the last one.
struct Tail {
    /// The bytes from the old last entry's block to the end.
    bytes: Vec<u8>,
    /// Where they start in the file.
    base: usize,
    /// The entries added (spans in `bytes`), in file order.
    new: Vec<EntrySpan>,
    /// The new file's block hashes.
    hash: FileHash,
}

impl Tail {
    fn added(&self) -> Vec<(u64, u64)> {
        self.new
            .iter()
            .map(|e| (e.id, scan::fast_hash(&self.bytes[e.value.clone()])))
            .collect()
    }

    fn delta(&self, version: Option<serde_json::Value>) -> Delta {
        Delta {
            removed: Vec::new(),
            upserts: self
                .new
                .iter()
                .map(|e| super::read::parse_entry_at(&self.bytes, e))
                .collect(),
            version,
        }
    }

    /// Where the last entry (in file order) ends in the new file, and the
    /// hash of its block up to there.
    fn last(&self) -> Option<(u64, u64)> {
        let last_end = self.new.iter().map(|e| e.value.end).max()?;
        let from = (self.base + last_end) / BLOCK * BLOCK - self.base;
        Some((
            (self.base + last_end) as u64,
            xxhash_rust::xxh3::xxh3_64(&self.bytes[from..last_end]),
        ))
    }

    /// Whether the blocks before the tail are as they were (read on both
    /// cores): the costliest check, made last.
    fn check_blocks(&self, f: &File) -> bool {
        blocks_as_recorded(f, &self.hash.blocks[..self.base / BLOCK])
    }

    /// The new file, which grew from `old`.
    fn origin(&self, old: &Origin) -> Option<Origin> {
        let (last_end, last_block) = self.last()?;
        Some(Origin {
            hash: self.hash.clone(),
            last_end,
            last_block,
            version: old.version.clone(),
        })
    }
}

/// The entries `f` (identity `ident`) holds after the bytes `origin`
/// describes, when it is those bytes up to their last entry with entries
/// added after it (none twice) and nothing else; `None` otherwise. Only
/// the block of the old last entry is compared: [`Tail::check_blocks`]
/// compares the blocks before it.
fn tail(origin: &Origin, f: &File, ident: Ident) -> Option<Tail> {
    let end = usize::try_from(origin.last_end).ok()?;
    let size = usize::try_from(ident.size).ok()?;
    if end == 0 || size as u64 <= origin.hash.len || size - end > MAX_ADDED {
        return None;
    }
    // The old last entry's block to the end of the file.
    let whole = end / BLOCK;
    let base = whole * BLOCK;
    let mut bytes = vec![0u8; size - base];
    // That block up to the old end first: a rewrite is seldom read further.
    f.read_exact_at(&mut bytes[..end - base], base as u64)
        .ok()?;
    if xxhash_rust::xxh3::xxh3_64(&bytes[..end - base]) != origin.last_block {
        return None;
    }
    f.read_exact_at(&mut bytes[end - base..], end as u64).ok()?;
    // Only entries follow, to the end of the document.
    let (new, members) = scan::scan_after_entry(&bytes, end - base).ok()?;
    if !members.is_empty() || std::str::from_utf8(&bytes[end - base..]).is_err() {
        return None;
    }
    let mut ids: Vec<u64> = new.iter().map(|e| e.id).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        return None;
    }
    // The new file's blocks: the old ones before, then the tail's.
    let hash = FileHash {
        blocks: origin.hash.blocks.get(..whole)?.to_vec(),
        len: base as u64,
    }
    .join(FileHash::of(&bytes))?;
    Some(Tail {
        bytes,
        base,
        new,
        hash,
    })
}

/// The new entries and the old rows, in list order.
struct Grown {
    tail: Tail,
    /// Their rows, newest first.
    new_rows: Vec<[u8; ROW]>,
    /// The rows of the old sidecar, newest first.
    old_rows: Vec<u8>,
    header: Header,
}

/// What the index `f` (`seen` before it was read; whether anyone writes
/// it is asked here) holds when it is the
/// index the sidecar `old` (open as `side`) describes with entries added
/// after its last one, all newer than the old ones; `None` otherwise.
fn grown(side: &File, old: Header, f: &File, mut seen: Seen) -> Option<Grown> {
    let ident = seen.ident;
    // When nothing can change these bytes without moving the ctime from
    // here on, the new sidecar needs no whole-file check before it is
    // trusted (recorded as read two seconds after the change); else it is
    // racy (recorded as read the moment the index changed).
    seen.at_ns = if super::newest::settled(f, side, seen.at_ns, ident.ctime_ns, 1) {
        seen.at_ns
            .max(ident.ctime_ns.saturating_add(sidecar::RACY_NS))
    } else {
        ident.ctime_ns
    };
    let origin = Origin::of(&old)?;
    let mut t = tail(&origin, f, ident)?;
    // The old rows, as written (read once, checked against their hash).
    let mut rows = vec![0u8; usize::try_from(old.count).ok()?.checked_mul(ROW)?];
    side.read_exact_at(&mut rows, old.rows_at()).ok()?;
    if super::filehash::content_of(&rows) != old.rows {
        return None;
    }
    let old_rows = rows;
    // Every new entry newer than the newest old one.
    let newest_old = time_of(f, &Row::decode(&old_rows[..ROW]), old.last_end)?;
    let time = |e: &EntrySpan| sidecar::order_time(&t.bytes, e);
    if t.new.iter().any(|e| time(e) <= newest_old) {
        return None;
    }
    // New ids: none old (one pass over the old rows).
    let mut new_ids: Vec<u64> = t.new.iter().map(|e| e.id).collect();
    new_ids.sort_unstable();
    if old_rows
        .chunks_exact(ROW)
        .any(|r| new_ids.binary_search(&Row::decode(r).id).is_ok())
    {
        return None;
    }
    if !t.check_blocks(f) {
        return None;
    }
    let mut new = std::mem::take(&mut t.new);
    new.sort_by(|a, b| sidecar::order((&t.bytes, a, time(a)), (&t.bytes, b, time(b))));
    t.new = new;
    let base = t.base as u64;
    let new_rows = t
        .new
        .iter()
        .map(|e| {
            let at = base + e.value.start as u64;
            sidecar::row(base, &e.key, at, e.value.len(), e.nonfinite, e.id)
        })
        .collect::<Option<Vec<_>>>()?;
    let (last_end, last_block) = t.last()?;
    let header = Header::new(
        seen,
        sample_of_file(f, ident.size).ok()?,
        &t.hash,
        old.version,
        last_end,
        last_block,
        false,
    );
    Some(Grown {
        tail: t,
        new_rows,
        old_rows,
        header,
    })
}

/// Whether the first blocks of `f` hash as `want` says, read a block at a
/// time on both cores.
fn blocks_as_recorded(f: &File, want: &[u64]) -> bool {
    let check = |from: usize, to: usize| {
        let mut buf = vec![0u8; BLOCK];
        (from..to).all(|i| {
            f.read_exact_at(&mut buf, (i * BLOCK) as u64).is_ok()
                && xxhash_rust::xxh3::xxh3_64(&buf) == want[i]
        })
    };
    let mid = want.len() / 2;
    std::thread::scope(|s| {
        let tail = s.spawn(|| check(mid, want.len()));
        check(0, mid) & tail.join().unwrap_or(false)
    })
}

/// The time the entry of `row` is ordered by, read from `f` (whose first
/// `end` bytes hold it).
fn time_of(f: &File, row: &Row, end: u64) -> Option<i64> {
    let (from, to) = row.extent(end)?;
    let mut buf = vec![0u8; usize::try_from(to - from).ok()?];
    f.read_exact_at(&mut buf, from).ok()?;
    let e = scan::Parser::new(&buf, 0).entry_member().ok()?;
    (e.id == row.id && e.value.end == buf.len()).then(|| sidecar::order_time(&buf, &e))
}

impl Grown {
    /// How many entries the index has.
    fn len(&self) -> usize {
        self.tail.new.len() + self.old_rows.len() / ROW
    }

    /// Writes the new sidecar.
    fn write(&self, dir: &Path) {
        let old = self
            .old_rows
            .chunks_exact(ROW)
            .map(|r| <&[u8; ROW]>::try_from(r).expect("a row"));
        let rows: Vec<&[u8; ROW]> = self.new_rows.iter().chain(old).collect();
        sidecar::put(
            dir,
            Some(sidecar::assemble(self.header.clone(), rows.into_iter())),
        );
    }

    /// The entries at places `at` in list order: the new from the tail in
    /// memory, the old read from the index `f` of `size` bytes; `None` when
    /// an old row does not lead to its entry there.
    fn entries(
        &self,
        f: &File,
        size: u64,
        at: std::ops::Range<usize>,
    ) -> Option<Vec<Result<super::entry::HistoryEntry, super::read::InvalidEntry>>> {
        at.map(|i| match self.tail.new.get(i) {
            Some(e) => Some(super::read::parse_entry_at(&self.tail.bytes, e)),
            None => {
                let at = (i - self.tail.new.len()) * ROW;
                Row::decode(self.old_rows.get(at..at + ROW)?).entry(f, size)
            }
        })
        .collect()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// An entry's `"ID": {...}` text, made at `hour`.
    pub(in crate::store) fn entry(id: &str, hour: u32) -> String {
        format!(
            "\"{id}\": {{\"entry_id\": \"{id}\", \"timestamp\": \"2026-11-20T{hour:02}:00:00+00:00\", \
             \"model_id\": \"m\", \"model_name\": \"M\", \"slider_positions\": null, \"n_components\": 0, \
             \"seed\": 1, \"duration_s\": 1.0, \"sample_rate\": 48000, \"stereo_mode\": \"mono\", \
             \"preset_name\": \"p\", \"audio_file\": \"audio/{id}.wav\", \
             \"thumbnail_file\": \"thumbnails/{id}.png\", \"quality_score\": {{}}, \"latent_vector\": null}}"
        )
    }

    fn index(entries: &[String]) -> String {
        format!(
            "{{\"version\": 1, \"entries\": {{{}}}}}",
            entries.join(",\n")
        )
    }

    /// A history with a sidecar, then one newer take added after the last.
    fn grown_history() -> (tempfile::TempDir, Vec<String>) {
        let t = tempfile::tempdir().unwrap();
        let mut entries: Vec<String> = (0..5).map(|i| entry(&format!("e{i}"), 1 + i)).collect();
        std::fs::write(t.path().join("history.json"), index(&entries)).unwrap();
        super::super::lite::IndexText::read(t.path())
            .unwrap()
            .newest(None, Some(1));
        assert!(sidecar::path_of(t.path()).is_file());
        entries.push(entry("new", 20));
        std::fs::write(t.path().join("history.json"), index(&entries)).unwrap();
        (t, entries)
    }

    #[test]
    fn the_newest_after_an_addition_come_from_the_old_rows() {
        let (t, _) = grown_history();
        let n = newest(t.path(), 3).expect("only grew");
        let ids: Vec<&str> = n.entries.iter().map(|e| e.entry_id.as_str()).collect();
        assert_eq!(ids, ["new", "e4", "e3"]);
        assert_eq!(n.total, 6);
        // The sidecar written on the way is the one a full read writes.
        let after = std::fs::read(sidecar::path_of(t.path())).unwrap();
        std::fs::remove_file(sidecar::path_of(t.path())).unwrap();
        super::super::lite::IndexText::read(t.path())
            .unwrap()
            .newest(None, Some(1));
        let full = std::fs::read(sidecar::path_of(t.path())).unwrap();
        // All but the build time (bytes 56..64) and the checksum (104..112).
        let strip = |b: &[u8]| [&b[..56], &b[64..104], &b[112..]].concat();
        assert_eq!(strip(&after), strip(&full));
    }

    /// Rows forged to point anywhere (their hash and the header's checksum
    /// made to match): no panic, no list from them.
    #[test]
    fn forged_rows_are_refused_without_a_panic() {
        for (what, key_start) in [
            ("past its value", 10_000u64),
            ("at zero", 0),
            ("at the end of numbers", u64::MAX - 3),
        ] {
            let (t, _) = grown_history();
            let (side, h) = sidecar::open_sidecar(t.path()).unwrap();
            let mut rows = vec![0u8; h.count as usize * ROW];
            side.read_exact_at(&mut rows, h.rows_at()).unwrap();
            rows[..8].copy_from_slice(&key_start.to_le_bytes());
            let rows: Vec<[u8; ROW]> = rows
                .chunks_exact(ROW)
                .map(|r| r.try_into().unwrap())
                .collect();
            sidecar::put(t.path(), Some(sidecar::assemble(h, rows.iter())));
            assert!(newest(t.path(), 2).is_none(), "{what}");
        }
    }

    fn known_of_full_load(dir: &Path) -> super::super::known::Known {
        super::super::GenerationHistory::open(dir)
            .unwrap()
            .take_known()
            .unwrap()
    }

    fn upserted(d: &Delta) -> Vec<String> {
        d.upserts
            .iter()
            .map(|e| e.as_ref().unwrap().entry_id.clone())
            .collect()
    }

    /// A reload after takes were added reads only them, and knows the file
    /// as a full load does.
    #[test]
    fn a_reload_after_takes_were_added_reads_only_them() {
        let t = tempfile::tempdir().unwrap();
        let mut entries: Vec<String> = (0..5).map(|i| entry(&format!("e{i}"), 1 + i)).collect();
        std::fs::write(t.path().join("history.json"), index(&entries)).unwrap();
        let known = known_of_full_load(t.path());
        assert!(known.content().is_some());
        entries.push(entry("new", 20));
        entries.push(entry("new2", 21));
        std::fs::write(t.path().join("history.json"), index(&entries)).unwrap();
        let index_file = super::super::read::locate_index(t.path()).unwrap();
        let side = sidecar::path_of(t.path());
        let before = std::fs::read(&side).unwrap();
        let (after, delta) = super::super::reload::reload(&index_file, &known).unwrap();
        // Through the sidecar: it was rewritten (a streamed reload leaves it).
        assert_ne!(std::fs::read(&side).unwrap(), before);
        assert!(delta.removed.is_empty());
        let mut ids = upserted(&delta);
        ids.sort();
        assert_eq!(ids, ["new", "new2"]);
        assert_eq!(delta.version, Some(serde_json::json!(1)));
        assert_eq!(after, known_of_full_load(t.path()));
        // And again: the sidecar written on the way describes the new file.
        entries.push(entry("new3", 22));
        std::fs::write(t.path().join("history.json"), index(&entries)).unwrap();
        let (again, delta) = super::super::reload::reload(&index_file, &after).unwrap();
        assert_eq!(upserted(&delta), ["new3"]);
        assert_eq!(again, known_of_full_load(t.path()));
    }

    /// What the caller knows is not what the sidecar describes (a change it
    /// reloaded since, then undone): the whole file is compared, so the
    /// undone change is seen too.
    #[test]
    fn a_reload_from_other_knowledge_than_the_sidecars_reads_all() {
        let t = tempfile::tempdir().unwrap();
        let mut entries: Vec<String> = (0..5).map(|i| entry(&format!("e{i}"), 1 + i)).collect();
        let path = t.path().join("history.json");
        std::fs::write(&path, index(&entries)).unwrap();
        let known = known_of_full_load(t.path());
        let index_file = super::super::read::locate_index(t.path()).unwrap();
        // e2 changed; reloaded (the sidecar still describes the first file).
        let edited = entries[2].replace("\"seed\": 1", "\"seed\": 2");
        let mut changed = entries.clone();
        changed[2] = edited;
        std::fs::write(&path, index(&changed)).unwrap();
        let (known, delta) = super::super::reload::reload(&index_file, &known).unwrap();
        assert_eq!(upserted(&delta), ["e2"]);
        // (A streamed reload does not keep the bytes' blocks: as if it
        // did, of the bytes it read, which are not the sidecar's.)
        assert_eq!(known.origin(), None);
        let text = index(&changed);
        let last_end = text.len() - 2;
        let known = known.with_origin(Some(Origin {
            hash: FileHash::of(text.as_bytes()),
            last_end: last_end as u64,
            last_block: xxhash_rust::xxh3::xxh3_64(&text.as_bytes()[..last_end]),
            version: Some(b"1".to_vec()),
        }));
        // Then e2 back as it was, and a take added.
        entries.push(entry("new", 20));
        std::fs::write(&path, index(&entries)).unwrap();
        let (after, delta) = super::super::reload::reload(&index_file, &known).unwrap();
        let mut ids = upserted(&delta);
        ids.sort();
        assert_eq!(ids, ["e2", "new"], "e2's undoing is seen");
        assert_eq!(after, known_of_full_load(t.path()).with_origin(None));
    }

    /// Another genhist carried the sidecar over to the grown file before
    /// the reload (its own add): the file's first blocks are compared with
    /// the ones the store keeps, and only the added take is read.
    #[test]
    fn a_reload_after_another_genhist_added_reads_only_what_it_added() {
        let t = tempfile::tempdir().unwrap();
        let mut entries: Vec<String> = (0..5).map(|i| entry(&format!("e{i}"), 1 + i)).collect();
        let path = t.path().join("history.json");
        std::fs::write(&path, index(&entries)).unwrap();
        let known = known_of_full_load(t.path());
        entries.push(entry("new", 20));
        std::fs::write(&path, index(&entries)).unwrap();
        // The sidecar now describes the new file.
        super::super::lite::IndexText::read(t.path())
            .unwrap()
            .newest(None, Some(1));
        let index_file = super::super::read::locate_index(t.path()).unwrap();
        let (after, delta) = super::super::reload::reload(&index_file, &known).unwrap();
        assert_eq!(upserted(&delta), ["new"]);
        assert_eq!(delta.version, Some(serde_json::json!(1)));
        assert!(after.origin().is_some(), "not streamed");
        assert_eq!(after, known_of_full_load(t.path()));
        // A change before the end is not taken for growth.
        let edited = entries[1].replace("\"seed\": 1", "\"seed\": 5");
        entries[1] = edited;
        entries.push(entry("new2", 21));
        std::fs::write(&path, index(&entries)).unwrap();
        let (again, delta) = super::super::reload::reload(&index_file, &after).unwrap();
        let mut ids = upserted(&delta);
        ids.sort();
        assert_eq!(ids, ["e1", "new2"]);
        assert_eq!(again.origin(), None, "streamed");
    }
}

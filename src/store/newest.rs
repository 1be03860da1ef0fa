//! The newest entries of an index read through its sidecar
//! ([`super::sidecar`]): a few rows, then only their entries, each checked
//! against the index as it is now.

use super::entry::HistoryEntry;
use super::filehash::{content_of_file, sample_of_file};
use super::known::id_hash;
use super::read::{self, FileStamp, InvalidEntry};
use super::scan::{EntrySpan, Str};
use super::sidecar::{
    fs_clock_past, keeps_ctime, now_ns, open_for_writing, open_sidecar, path_of, Header, Ident,
    Seen, RACY_NS, ROW, TOP_BIT,
};
use serde_json::Value;
use std::fs::{File, Metadata};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// One row of the sidecar.
#[derive(Debug, Clone, Copy)]
pub(super) struct Row {
    pub(super) key_start: u64,
    pub(super) value_start: u64,
    key_len: u32,
    key_escaped: bool,
    value_len: u32,
    nonfinite: bool,
    pub(super) id: u64,
}

impl Row {
    pub(super) fn decode(b: &[u8]) -> Row {
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let (k, v) = (u32_at(16), u32_at(20));
        Row {
            key_start: u64_at(0),
            value_start: u64_at(8),
            key_len: k & !TOP_BIT,
            key_escaped: k & TOP_BIT != 0,
            value_len: v & !TOP_BIT,
            nonfinite: v & TOP_BIT != 0,
            id: u64_at(24),
        }
    }

    /// Reads the row's entry from the index and checks that it is where the
    /// row says; `None` when it is not (the sidecar is then not used).
    pub(super) fn entry(
        &self,
        index: &File,
        size: u64,
    ) -> Option<Result<HistoryEntry, InvalidEntry>> {
        let (from, end) = self.extent(size)?;
        let mut buf = vec![0u8; (end - from) as usize];
        index.read_exact_at(&mut buf, from).ok()?;
        self.entry_in(&buf)
    }

    /// Where the row's `"KEY": {...}` starts and ends in an index of `size`
    /// bytes, when it can be there at all.
    pub(super) fn extent(&self, size: u64) -> Option<(u64, u64)> {
        let from = self.key_start.checked_sub(1)?;
        let end = self.value_start.checked_add(self.value_len as u64)?;
        // A value is at least `{}`; the key's quotes and the colon fit between.
        if end > size
            || self.value_len < 2
            || self.value_start < self.key_start.checked_add(self.key_len as u64 + 1)?
        {
            return None;
        }
        Some((from, end))
    }

    /// The entry in `buf`, the row's `"KEY": {...}`, checked to be what the
    /// row says.
    fn entry_in(&self, buf: &[u8]) -> Option<Result<HistoryEntry, InvalidEntry>> {
        let from = self.key_start - 1;
        let key_end = 1 + self.key_len as usize;
        let value_at = (self.value_start - from) as usize;
        // `"KEY"` then only a colon and spaces, then an object.
        if buf[0] != b'"'
            || buf[key_end] != b'"'
            || !buf[key_end + 1..value_at]
                .iter()
                .all(|c| matches!(c, b':' | b' ' | b'\t' | b'\n' | b'\r'))
            || buf[key_end + 1..value_at]
                .iter()
                .filter(|&&c| c == b':')
                .count()
                != 1
            || buf[value_at] != b'{'
            || buf.last() != Some(&b'}')
        {
            return None;
        }
        let span = EntrySpan {
            key: Str {
                span: 1..key_end,
                escaped: self.key_escaped,
            },
            value: value_at..buf.len(),
            timestamp: None,
            model_id: None,
            audio_file: None,
            thumbnail_file: None,
            time_us: None,
            id: self.id,
            nonfinite: self.nonfinite,
        };
        if self.key_escaped && serde_json::from_slice::<String>(&buf[..key_end + 1]).is_err() {
            return None;
        }
        if id_hash(&span.key.get_at(buf)) != self.id {
            return None;
        }
        Some(read::parse_entry_at(buf, &span))
    }
}

/// The newest entries of an index, read through its sidecar.
#[derive(Debug)]
pub struct Newest {
    pub entries: Vec<HistoryEntry>,
    /// Unreadable entries met among them (as a full read reports them).
    pub invalid: Vec<InvalidEntry>,
    /// How many entries the index has.
    pub total: usize,
    pub version: Option<Value>,
    pub stamp: Option<FileStamp>,
    pub path: PathBuf,
}

/// The newest `limit` entries of `dir`'s index, newest first, exactly as
/// [`super::lite::IndexText::newest`] gives them, when the sidecar is
/// current; `None` otherwise (read the index instead).
pub fn newest(dir: &Path, limit: usize) -> Option<Newest> {
    let index = read::locate_index(dir).ok()?;
    let (f, stamp) = index.open().ok()??;
    // Whether anyone writes the index is asked only of a racy sidecar.
    let seen = Seen::plain(&f).ok()?;
    let ident = seen.ident;
    let (side, mut h) = open_sidecar(dir)?;
    if h.ident != ident || h.sample != sample_of_file(&f, ident.size).ok()? {
        return None;
    }
    // Where a change could keep the times as they were, the whole file is
    // compared; whether that check can be noted is settled before.
    let racy = h.racy();
    let settled = racy && settled(&f, &side, seen.at_ns, ident.ctime_ns, 1);
    if (racy || !keeps_ctime(&f)) && h.content != content_of_file(&f, ident.size).ok()? {
        return None;
    }
    if settled {
        remember_checked(dir, &side, &mut h, seen.at_ns);
    }
    // Every row as written (a moved or copied row would still lead to an
    // entry of the index).
    if !h.rows_ok(&side) {
        return None;
    }
    let total = usize::try_from(h.count).ok()?;
    let version = h.version_value()?;
    let (ok, bad) = take_newest(total, limit, |at| {
        let mut rows = vec![0u8; at.len() * ROW];
        side.read_exact_at(&mut rows, h.rows_at() + (at.start * ROW) as u64)
            .ok()?;
        rows.chunks_exact(ROW)
            .map(|r| Row::decode(r).entry(&f, ident.size))
            .collect()
    })?;
    // Nothing may have changed while the entries were read.
    if Ident::of(&f.metadata().ok()?) != ident {
        return None;
    }
    Some(Newest {
        entries: ok,
        invalid: bad,
        total,
        version,
        stamp,
        path: index.path().to_path_buf(),
    })
}

/// The newest `limit` readable entries of `total` in list order, taken as
/// every reader of the newest takes them: in batches of a few more than
/// still wanted (`batch(range)` gives those places, each entry or why it is
/// unreadable), every unreadable one in a batch reported. `None` when a
/// batch is `None`.
pub(crate) fn take_newest(
    total: usize,
    limit: usize,
    mut batch: impl FnMut(std::ops::Range<usize>) -> Option<Vec<Result<HistoryEntry, InvalidEntry>>>,
) -> Option<(Vec<HistoryEntry>, Vec<InvalidEntry>)> {
    let mut ok = Vec::new();
    let mut bad = Vec::new();
    let mut taken = 0usize;
    while ok.len() < limit && taken < total {
        let n = (limit - ok.len()).saturating_add(8).min(total - taken);
        for e in batch(taken..taken + n)? {
            match e {
                Ok(e) if ok.len() < limit => ok.push(e),
                Ok(_) => {}
                Err(invalid) => bad.push(invalid),
            }
        }
        taken += n;
    }
    Some((ok, bad))
}

/// Whether a whole-file check of a racy sidecar begun after this call can
/// be noted, so later opens trust the index's identity and samples alone:
/// a change from then on must move the index's ctime `ctime_ns`, and no
/// change that kept it may still be in progress. So the clock must be past
/// that ctime — two seconds of this process's clock since `now` (taken
/// before the call), or the filesystem's own clock seen past it in one of
/// `probes` tries 2 ms apart ([`fs_clock_past`]; a tick is at most 10 ms)
/// — and then nobody may have the index open for writing
/// ([`open_for_writing`]: a `write()` stamps the times when it begins, and
/// one still copying keeps them).
/// Where that cannot be told, two seconds are taken as the longest such
/// `write()` (as git's racy check does).
pub(super) fn settled(f: &File, side: &File, now: i64, ctime_ns: i64, probes: u32) -> bool {
    let old_enough = now >= ctime_ns.saturating_add(RACY_NS);
    let clock_past = old_enough
        || (0..probes).any(|i| {
            if i > 0 {
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            fs_clock_past(side, f, ctime_ns)
        });
    clock_past
        && match open_for_writing(f) {
            Some(writing) => !writing,
            None => old_enough,
        }
}

/// Checks a racy sidecar of `dir` once the index is old enough (its ctime
/// two seconds past, so a change could no longer keep every time as it
/// was, and nobody writing it): hashes the whole file and, when it
/// matches, notes that it was checked, so the next open need not hash it.
/// What the browser does a little after a change it made or saw.
pub(crate) fn confirm(dir: &Path) {
    confirm_at(dir, now_ns(), None);
}

/// Indexes smaller than this are not confirmed by [`confirm_soon`]: the
/// next open hashes them in a few milliseconds.
const CONFIRM_SOON_MIN: u64 = 32 << 20;

/// [`confirm`] at once, by a command that just rewrote a large index (or
/// wrote and read it: `genhist demo`): on a local filesystem, once its
/// clock is seen past the index's ctime (a few milliseconds at most) and
/// nobody has the index open for writing ([`settled`]), it hashes the
/// index, so the next open and `list` need not. Otherwise it leaves that
/// to a later open.
pub fn confirm_soon(dir: &Path) {
    confirm_at(dir, now_ns(), Some(CONFIRM_SOON_MIN));
}

/// [`confirm`] at `now`; with `soon` (the smallest index worth it), as
/// soon as the filesystem's clock passed the index's ctime instead.
fn confirm_at(dir: &Path, now: i64, soon: Option<u64>) {
    let ident_of = |f: &File| f.metadata().ok().map(|m| Ident::of(&m));
    let Some(f) = read::locate_index(dir)
        .ok()
        .and_then(|index| index.open().ok().flatten())
        .map(|(f, _)| f)
    else {
        return;
    };
    let Some(ident) = ident_of(&f) else {
        return;
    };
    let Some((side, mut h)) = open_sidecar(dir) else {
        return;
    };
    if h.ident != ident || !h.racy() || soon.is_some_and(|min| ident.size < min) {
        return;
    }
    // A command waits for the filesystem's clock (50 ms at most).
    let probes = if soon.is_some() { 25 } else { 0 };
    if settled(&f, &side, now, ident.ctime_ns, probes)
        && sample_of_file(&f, ident.size).ok() == Some(h.sample)
        && content_of_file(&f, ident.size).ok() == Some(h.content)
        && ident_of(&f) == Some(ident)
    {
        remember_checked(dir, &side, &mut h, now);
    }
}

/// A racy sidecar whose whole-file hash matched, the hash begun after
/// [`settled`] said yes at `now`: notes that it was checked, so the next
/// open need not hash the file again. Recorded as a build time no earlier
/// than [`RACY_NS`] after the index's ctime.
fn remember_checked(dir: &Path, side: &File, h: &mut Header, now: i64) {
    h.built_ns = now.max(h.ident.ctime_ns.saturating_add(RACY_NS));
    // In place, header only: a torn write fails the checksum next time.
    use std::os::unix::fs::OpenOptionsExt;
    let Ok(w) = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32)
        .open(path_of(dir))
    else {
        return;
    };
    let same = |a: &Metadata, b: &Metadata| a.ino() == b.ino() && a.dev() == b.dev();
    if let (Ok(a), Ok(b)) = (w.metadata(), side.metadata()) {
        if same(&a, &b) {
            let _ = w.write_all_at(&h.fixed(), 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_ids_get_no_sidecar() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let e = "{\"entry_id\": \"a\", \"timestamp\": \"2026-11-20T10:00:00\"}";
        let text = format!("{{\"entries\": {{\"a\": {e}, \"a\": {e}}}}}");
        std::fs::write(dir.join("history.json"), &text).unwrap();
        let t = super::super::lite::IndexText::read(dir).unwrap();
        assert_eq!(t.len(), 2);
        t.newest(None, Some(1));
        assert!(!path_of(dir).exists());
        assert!(newest(dir, 5).is_none());
        // Without the duplicate, the same read writes one.
        let text = format!("{{\"entries\": {{\"a\": {e}}}}}");
        std::fs::write(dir.join("history.json"), &text).unwrap();
        super::super::lite::IndexText::read(dir)
            .unwrap()
            .newest(None, Some(1));
        assert!(path_of(dir).is_file());
        assert_eq!(newest(dir, 5).expect("used").total, 1);
    }

    /// The sidecar of `dir` as if made of bytes read the moment the index
    /// last changed (what a rewrite's carry-over writes): racy however
    /// long ago that was.
    fn make_racy(dir: &Path) {
        let (side, mut h) = open_sidecar(dir).unwrap();
        h.built_ns = h.ident.ctime_ns;
        drop(side);
        std::fs::OpenOptions::new()
            .write(true)
            .open(path_of(dir))
            .unwrap()
            .write_all_at(&h.fixed(), 0)
            .unwrap();
    }

    /// A sidecar of bytes read just after the index changed is checked
    /// against the whole file at each open until that check can be noted,
    /// two seconds after the change: `confirm` notes it then, and not
    /// before, nor for another file.
    #[test]
    fn a_racy_sidecar_is_confirmed_once_the_index_is_old_enough() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let e = "{\"entry_id\": \"a\", \"timestamp\": \"2026-11-20T10:00:00\"}";
        std::fs::write(
            dir.join("history.json"),
            format!("{{\"entries\": {{\"a\": {e}}}}}"),
        )
        .unwrap();
        super::super::lite::IndexText::read(dir)
            .unwrap()
            .newest(None, Some(1));
        make_racy(dir);
        let racy = || open_sidecar(dir).unwrap().1.racy();
        assert!(racy(), "read the moment the index changed");
        let ctime = open_sidecar(dir).unwrap().1.ident.ctime_ns;
        confirm_at(dir, ctime + RACY_NS / 2, None);
        assert!(racy(), "too soon: a change could still keep the times");
        // Another file in its place: not confirmed.
        let other = dir.join("other.json");
        std::fs::write(&other, format!("{{\"entries\": {{\"b\": {e}}}}}")).unwrap();
        let kept = dir.join("kept.json");
        std::fs::rename(dir.join("history.json"), &kept).unwrap();
        std::fs::rename(&other, dir.join("history.json")).unwrap();
        confirm_at(dir, ctime + 3 * RACY_NS, None);
        assert!(racy());
        std::fs::rename(&kept, dir.join("history.json")).unwrap();
        // The rename moved the ctime: the sidecar is not the file's any more.
        confirm_at(dir, now_ns() + 3 * RACY_NS, None);
        assert!(racy());
        assert!(newest(dir, 1).is_none());
        // Written again for the file as it is, then confirmed in time.
        super::super::lite::IndexText::read(dir)
            .unwrap()
            .newest(None, Some(1));
        make_racy(dir);
        assert!(racy());
        let ctime = open_sidecar(dir).unwrap().1.ident.ctime_ns;
        confirm_at(dir, ctime + RACY_NS + 1, None);
        assert!(!racy(), "confirmed");
        assert_eq!(newest(dir, 1).expect("used").total, 1);
    }

    /// A racy sidecar's check is noted at once — by a list, or by a command
    /// that just rewrote the index — once the filesystem's clock is past
    /// the index's ctime, but never while anyone has the index open for
    /// writing: a `write()` stamps the times when it begins, and one still
    /// copying keeps them.
    #[test]
    fn a_racy_sidecar_is_confirmed_at_once_only_while_nobody_writes_the_index() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let index = dir.join("history.json");
        let e = "{\"entry_id\": \"a\", \"timestamp\": \"2026-11-20T10:00:00\"}";
        std::fs::write(&index, format!("{{\"entries\": {{\"a\": {e}}}}}")).unwrap();
        super::super::lite::IndexText::read(dir)
            .unwrap()
            .newest(None, Some(1));
        let racy = || open_sidecar(dir).unwrap().1.racy();
        assert!(racy(), "read just after the change");
        let f = File::open(&index).unwrap();
        // Where leases or fine local times are missing, only two seconds
        // (not waited for here) would do.
        let at_once =
            open_for_writing(&f) == Some(false) && super::super::sidecar::local_fine_times(&f);
        std::thread::sleep(std::time::Duration::from_millis(30));
        // Open for writing elsewhere (as by a program in the middle of a
        // write): listed, hashed, nothing noted.
        let writer = std::fs::OpenOptions::new()
            .write(true)
            .open(&index)
            .unwrap();
        if at_once {
            assert_eq!(open_for_writing(&f), Some(true));
        }
        assert_eq!(newest(dir, 1).expect("used").total, 1);
        assert!(racy(), "noted while the index is open for writing");
        confirm_at(dir, now_ns(), Some(0));
        assert!(racy(), "confirmed while the index is open for writing");
        drop(writer);
        // Nobody writes it: a list notes its check.
        assert_eq!(newest(dir, 1).expect("used").total, 1);
        assert_eq!(racy(), !at_once);
        // A command confirms the same way; not an index below the size
        // worth it.
        make_racy(dir);
        confirm_soon(dir);
        assert!(racy());
        confirm_at(dir, now_ns(), Some(0));
        assert_eq!(racy(), !at_once);
        assert_eq!(newest(dir, 1).expect("used").total, 1);
    }
}

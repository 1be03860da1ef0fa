//! A large index loaded in one streamed pass, its text never whole in
//! memory: the file is read a megabyte at a time ([`super::stream`]), each
//! entry's text is copied into a batch of a few megabytes, and two threads
//! parse the batches while the stream goes on. What a full read of the
//! text in memory ([`super::read`]) yields comes out the same: the
//! entries, those that do not fit the schema, each entry's text hash, the
//! `version` member, and a new sidecar when the one there does not describe
//! the file (its rows made on the way; the whole-file hash fed by the same
//! reads).
//!
//! The newest few of an index of a few megabytes or more (`list --limit`
//! and the first screen when the sidecar is not current), and one take by
//! id (`show`, `rate`, ...), are found by two threads that each stream half
//! of the file, split at an entry near the middle, keeping only the
//! sidecar's rows and the newest entries, or the entries the id may name.
//!
//! Anything the stream cannot read (not JSON, not UTF-8, no `entries`), or
//! a file that changed while it was read, is left to the full read, which
//! says where the text is broken or reads the file as it is now.

use super::entry::HistoryEntry;
use super::filehash::{last_block, ContentHash, Hashing, HashingAt};
use super::known::KnownBuilder;
use super::lite::StatsPart;
use super::read::{entry_from_text, FileStamp, IndexFile, InvalidEntry, LoadedIndex};
use super::scan::Parser;
use super::sidecar::{self, Ident, Seen, ROW};
use super::stream::{self, Item};
use super::StoreError;
use serde_json::Value;
use std::cmp::Ordering;
use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex};

/// Index files at least this big are loaded and counted (`stats`) streamed
/// (smaller ones are read whole: faster, and their text is small). The
/// newest few and one take by id are streamed from [`PARALLEL_MIN`] on.
pub(super) const STREAM_FROM: u64 = 128 << 20;

/// Indexes at least this big are read in two halves by two threads where
/// only the newest entries are kept.
const PARALLEL_MIN: u64 = super::scan::PARALLEL_MIN as u64;

/// A stream of the whole document.
const WHOLE: stream::Start = stream::Start::Document { stop_at: None };

/// Entry text handed to a parser at a time.
const BATCH: usize = 4 << 20;

/// Entries copied out of the stream for a parser.
#[derive(Default)]
struct Batch {
    text: Vec<u8>,
    /// Each entry: its place in the file, its key, its value's range in
    /// `text`, and whether it holds `NaN`/`Infinity`.
    items: Vec<(usize, String, Range<usize>, bool)>,
}

/// What one parser made of its batches.
#[derive(Default)]
struct Parsed {
    entries: Vec<Arc<HistoryEntry>>,
    invalid: Vec<(usize, InvalidEntry)>,
}

/// What one entry handed to a parser is: its place in the file, its key,
/// its text, whether it holds `NaN`/`Infinity`.
type Each<P> = dyn Fn(&mut P, usize, String, &[u8], bool) + Sync;

fn parse_batches<P: Default>(rx: &Mutex<Receiver<Batch>>, each: &Each<P>) -> P {
    let mut out = P::default();
    loop {
        let batch = match rx.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return out,
        };
        let Ok(batch) = batch else { return out };
        crate::fault::point("parse-batch");
        for (at, key, range, nonfinite) in batch.items {
            each(&mut out, at, key, &batch.text[range], nonfinite);
        }
    }
}

/// Parses an entry into the list.
fn parse_into(out: &mut Parsed, at: usize, key: String, text: &[u8], nonfinite: bool) {
    match entry_from_text(key, text, nonfinite) {
        Ok(e) => out.entries.push(Arc::new(e)),
        Err(bad) => out.invalid.push((at, bad)),
    }
}

/// A sidecar row and the time it is ordered by.
struct Rec {
    time: i64,
    row: [u8; ROW],
}

/// The index opened, with its stamp and size, when it is at least
/// `stream_from` bytes (`None`: missing or smaller).
fn open_large(
    index: &IndexFile,
    stream_from: u64,
) -> Result<Option<(File, Option<FileStamp>, u64)>, StoreError> {
    let Some((f, stamp)) = index.open()? else {
        return Ok(None);
    };
    let size = f.metadata().map_or(0, |m| m.len());
    Ok((size >= stream_from).then_some((f, stamp, size)))
}

/// Loads the index of `dir` streamed when it is large; `Ok(None)` when it
/// is small, or when only a full read can say what is wrong with it (or
/// read it as it is now).
pub(super) fn load(dir: &Path, index: &IndexFile) -> Result<Option<LoadedIndex>, StoreError> {
    load_from(dir, index, STREAM_FROM)
}

pub(super) fn load_from(
    dir: &Path,
    index: &IndexFile,
    stream_from: u64,
) -> Result<Option<LoadedIndex>, StoreError> {
    let Some((f, stamp, _)) = open_large(index, stream_from)? else {
        return Ok(None);
    };
    crate::fault::point("read-whole-index");
    let io = |e| StoreError::io("read", index.path(), e);
    // (A file shrinking meanwhile fails its sample reads: the full read
    // takes it as it is now.)
    let Ok(mut pass) = SidecarPass::new(dir, &f) else {
        return Ok(None);
    };
    let mut known = KnownBuilder::default();
    let each: &Each<Parsed> = &parse_into;
    let Some((version, parsed)) =
        stream_to(&f, Some(&mut pass), Some(&mut known), each).map_err(io)?
    else {
        return Ok(None);
    };
    // Changed while read: the full read takes the file as it is now.
    let Some(content) = pass.finish(&f, stamp, version.as_ref()) else {
        return Ok(None);
    };
    let mut entries = Vec::with_capacity(parsed.iter().map(|p| p.entries.len()).sum());
    let mut invalid = Vec::new();
    for p in parsed {
        entries.extend(p.entries);
        invalid.extend(p.invalid);
    }
    // In file order, as the full read lists them.
    invalid.sort_unstable_by_key(|b| b.0);
    Ok(Some(LoadedIndex {
        version,
        entries,
        invalid: invalid.into_iter().map(|(_, bad)| bad).collect(),
        stamp,
        known: known
            .build()
            .with_origin(super::grow::Origin::of_sidecar(dir, content)),
    }))
}

/// The sidecar a streamed pass makes on the way: the whole-file hash fed
/// by the pass's reads, and the rows when the sidecar there is not this
/// file's.
struct SidecarPass<'a> {
    dir: &'a Path,
    /// The index, and when it began to be read.
    seen: Seen,
    ident: Ident,
    sample: u64,
    hash: ContentHash,
    /// `None`: the sidecar there looks current (its whole-file hash is
    /// compared at the end).
    recs: Option<Vec<Rec>>,
    /// Where the last entry met ends in the file.
    last_end: u64,
    /// `entries` was closed; top-level members met after it.
    closed: bool,
    members_after: bool,
}

impl<'a> SidecarPass<'a> {
    fn new(dir: &'a Path, f: &File) -> std::io::Result<SidecarPass<'a>> {
        let seen = Seen::of(f)?;
        let ident = seen.ident;
        let sample = super::filehash::sample_of_file(f, ident.size)?;
        Ok(SidecarPass {
            dir,
            seen,
            ident,
            sample,
            hash: ContentHash::new(),
            recs: (!sidecar::may_match(dir, &ident, sample)).then(Vec::new),
            last_end: 0,
            closed: false,
            members_after: false,
        })
    }

    /// This pass as it was before it saw anything (for another part of
    /// the same file, or to begin again).
    fn fresh(&self) -> SidecarPass<'a> {
        SidecarPass {
            dir: self.dir,
            seen: self.seen,
            ident: self.ident,
            sample: self.sample,
            hash: ContentHash::new(),
            recs: self.recs.as_ref().map(|_| Vec::new()),
            last_end: 0,
            closed: false,
            members_after: false,
        }
    }

    /// Takes in what `tail`, a pass of the bytes after these, saw; `None`
    /// when this one's hash does not end at a block boundary.
    fn join(&mut self, tail: SidecarPass<'a>) -> Option<()> {
        if !self.hash.append(tail.hash) {
            return None;
        }
        if let (Some(recs), Some(more)) = (&mut self.recs, tail.recs) {
            recs.extend(more);
        }
        self.last_end = self.last_end.max(tail.last_end);
        self.closed = tail.closed;
        self.members_after |= tail.members_after;
        Some(())
    }

    /// Notes a top-level member or the start or end of `entries`.
    fn structure(&mut self, item: &Item<'_>) {
        match item {
            Item::EntriesEnd => self.closed = true,
            Item::Top { .. } | Item::EntriesStart if self.closed => self.members_after = true,
            _ => {}
        }
    }

    fn reserve(&mut self, n: usize) {
        if let Some(r) = &mut self.recs {
            r.reserve_exact(n);
        }
    }

    /// Notes an entry met (`id`: its key's hash); `None` for an entry no
    /// sidecar can hold (over 2 GiB).
    fn see(&mut self, e: &stream::EntryRef<'_>, id: u64) -> Option<()> {
        self.last_end = e.base + e.span.value.end as u64;
        if let Some(recs) = &mut self.recs {
            let row = sidecar::row(
                e.base,
                &e.span.key,
                e.base + e.span.value.start as u64,
                e.span.value.len(),
                e.span.nonfinite,
                id,
            )?;
            recs.push(Rec {
                time: sidecar::order_time(e.buf, &e.span),
                row,
            });
        }
        Some(())
    }

    /// Writes the sidecar (or removes one that does not describe the file)
    /// and gives the whole-file hash of what was read; `None` when the file
    /// changed while it was read (nothing written).
    fn finish(self, f: &File, stamp: Option<FileStamp>, version: Option<&Value>) -> Option<u64> {
        if self.hash.len() != self.ident.size || FileStamp::of_file(f) != stamp {
            return None;
        }
        let hash = self.hash.finish();
        let content = hash.content();
        match self.recs {
            Some(recs) => match (order_rows(f, recs), last_block(f, self.last_end)) {
                (Some(rows), Some(last_block)) => sidecar::write_rows(
                    self.dir,
                    sidecar::Header::new(
                        self.seen,
                        self.sample,
                        &hash,
                        None,
                        self.last_end,
                        last_block,
                        self.members_after,
                    ),
                    version,
                    &rows,
                ),
                _ => sidecar::forget(self.dir),
            },
            None => {
                if !sidecar::matches_hashes(self.dir, &self.ident, self.sample, content) {
                    sidecar::forget(self.dir);
                }
            }
        }
        Some(content)
    }
}

/// Streams the entries of `f` to two threads, each folding what it is
/// handed into a `P` with `each`; notes each entry for the sidecar `pass`
/// and in `known` when given. `Ok(None)` when the text is not a readable
/// index. Gives the `version` member and the threads' `P`s.
fn stream_to<P: Default + Send>(
    f: &File,
    mut pass: Option<&mut SidecarPass<'_>>,
    mut known: Option<&mut KnownBuilder>,
    each: &Each<P>,
) -> std::io::Result<Option<(Option<Value>, Vec<P>)>> {
    let size = f.metadata()?.len();
    let (tx, rx) = sync_channel::<Batch>(2);
    // Each parser holds the receiver: when both are gone (panicked), the
    // stream's sends fail instead of waiting for them.
    let rx = Arc::new(Mutex::new(rx));
    let mut hash = pass
        .as_mut()
        .map(|p| std::mem::replace(&mut p.hash, ContentHash::new()));
    let mut reader = Hashing {
        f,
        hash: hash.as_mut(),
    };
    let mut version = None;
    let mut batch = Batch::default();
    let (result, parsed) = std::thread::scope(|s| {
        let parsers: Vec<_> = (0..2)
            .map(|_| {
                let rx = rx.clone();
                s.spawn(move || parse_batches(&rx, each))
            })
            .collect();
        drop(rx);
        let result = stream::stream(&mut reader, |item| -> Result<(), ()> {
            if let Some(p) = pass.as_mut() {
                p.structure(&item);
            }
            match item {
                Item::Top { key, value } if key == "version" => {
                    // The last `version` member counts, as in Python.
                    version = serde_json::from_str(value).ok();
                }
                Item::Entry(e) => {
                    let key = e.key().into_owned();
                    let text = e.bytes();
                    if e.position == 64 {
                        // Room for all, from the size of the first ones.
                        let n = entries_guess(0, size, &e);
                        if let Some(k) = known.as_mut() {
                            k.reserve(n);
                        }
                        if let Some(p) = pass.as_mut() {
                            p.reserve(n);
                        }
                    }
                    if let Some(k) = known.as_mut() {
                        k.insert_hashed(e.span.id, super::scan::fast_hash(text));
                    }
                    if let Some(p) = pass.as_mut() {
                        p.see(&e, e.span.id).ok_or(())?;
                    }
                    let start = batch.text.len();
                    batch.text.extend_from_slice(text);
                    batch
                        .items
                        .push((e.position, key, start..batch.text.len(), e.nonfinite()));
                    if batch.text.len() >= BATCH {
                        tx.send(std::mem::take(&mut batch)).map_err(|_| ())?;
                    }
                }
                _ => {}
            }
            Ok(())
        });
        if result.is_ok() && !batch.items.is_empty() {
            let _ = tx.send(std::mem::take(&mut batch));
        }
        drop(tx);
        let parsed: Vec<P> = parsers
            .into_iter()
            // A panic belongs to whoever runs the load (a worker catches it).
            .map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect();
        (result, parsed)
    });
    match result {
        Ok(()) => {}
        Err(stream::StreamError::Io(e)) => return Err(e),
        // Not an index the stream reads (or an entry over 2 GiB): the full
        // read says why, or reads it.
        Err(_) => return Ok(None),
    }
    if let (Some(p), Some(h)) = (pass, hash) {
        p.hash = h;
    }
    Ok(Some((version, parsed)))
}

/// The stats of a large index and its unreadable entries, as
/// [`super::lite::IndexText::stats`] counts them, from one streamed pass
/// (the text never whole in memory), with its `version` member; `Ok(None)`
/// when the index is small or the stream cannot read it.
pub(crate) fn stats(dir: &Path, index: &IndexFile) -> Result<Option<StreamedStats>, StoreError> {
    stats_from(dir, index, STREAM_FROM)
}

pub(crate) type StreamedStats = (super::Stats, Vec<InvalidEntry>, Option<Value>);

fn stats_from(
    dir: &Path,
    index: &IndexFile,
    stream_from: u64,
) -> Result<Option<StreamedStats>, StoreError> {
    let Some((f, stamp, _)) = open_large(index, stream_from)? else {
        return Ok(None);
    };
    let each: &Each<StatsPart> = &|p, at, key, text, nonfinite| {
        p.see(at, entry_from_text(key, text, nonfinite));
    };
    let io = |e| StoreError::io("read", index.path(), e);
    let Some((version, parts)) = stream_to(&f, None, None, each).map_err(io)? else {
        return Ok(None);
    };
    // Changed while read: the full read takes the file as it is now.
    if FileStamp::of_file(&f) != stamp {
        return Ok(None);
    }
    let (stats, invalid) = super::lite::stats_of(dir, parts);
    Ok(Some((stats, invalid, version)))
}

/// How many entries the bytes `from..to` of a file hold, guessed at the
/// 64th entry `e` met from `from` on, from the bytes the first ones took
/// (room to reserve).
fn entries_guess(from: u64, to: u64, e: &stream::EntryRef<'_>) -> usize {
    let per = ((e.base + e.span.value.end as u64).saturating_sub(from) / 64).max(1);
    (to.saturating_sub(from) / per) as usize + 64
}

/// The rows in the order a full load lists the entries (newest first, then
/// by timestamp text, greater first, then by id): by time, and entries of
/// the same time by their texts, read back from the file. `None` when the
/// file no longer holds them.
fn order_rows(f: &File, mut recs: Vec<Rec>) -> Option<Vec<[u8; ROW]>> {
    recs.sort_unstable_by_key(|r| std::cmp::Reverse(r.time));
    let mut i = 0;
    while i < recs.len() {
        let j = i + recs[i..]
            .iter()
            .take_while(|r| r.time == recs[i].time)
            .count();
        if j - i > 1 {
            let mut keyed: Vec<(Option<String>, String, [u8; ROW])> = recs[i..j]
                .iter()
                .map(|r| texts_of(f, &r.row).map(|(ts, key)| (ts, key, r.row)))
                .collect::<Option<_>>()?;
            keyed.sort_by(|a, b| tie_order((&a.0, &a.1), (&b.0, &b.1)));
            for (r, k) in recs[i..j].iter_mut().zip(keyed) {
                r.row = k.2;
            }
        }
        i = j;
    }
    Some(recs.into_iter().map(|r| r.row).collect())
}

/// Two entries of the same time: timestamp text greater first (a text
/// before none), then id.
fn tie_order(a: (&Option<String>, &String), b: (&Option<String>, &String)) -> Ordering {
    match (b.0, a.0) {
        (Some(x), Some(y)) => x.cmp(y),
        (x, y) => x.is_some().cmp(&y.is_some()),
    }
    .then_with(|| a.1.cmp(b.1))
}

/// The timestamp text and the key of the entry a row points at.
fn texts_of(f: &File, row: &[u8; ROW]) -> Option<(Option<String>, String)> {
    let u64_at = |i: usize| u64::from_le_bytes(row[i..i + 8].try_into().expect("8 bytes"));
    let u32_at = |i: usize| u32::from_le_bytes(row[i..i + 4].try_into().expect("4 bytes"));
    let key_at = u64_at(0);
    let value_at = u64_at(8);
    let value_len = u64::from(u32_at(20) & !sidecar::TOP_BIT);
    // From the key's opening quote to the value's end.
    let from = key_at.checked_sub(1)?;
    let len = usize::try_from(value_at + value_len - from).ok()?;
    let mut b = vec![0u8; len];
    f.read_exact_at(&mut b, from).ok()?;
    let span = Parser::new(&b, 0).entry_member().ok()?;
    let ts = span.timestamp.as_ref().map(|t| t.get_at(&b).into_owned());
    Some((ts, span.key.get_at(&b).into_owned()))
}

/// One of the newest entries met so far.
struct Candidate {
    time: i64,
    timestamp: Option<String>,
    key: String,
    text: String,
    nonfinite: bool,
}

impl Candidate {
    /// The order a full load lists entries in (newest first).
    fn order(&self, o: &Candidate) -> Ordering {
        o.time
            .cmp(&self.time)
            .then_with(|| tie_order((&self.timestamp, &self.key), (&o.timestamp, &o.key)))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, o: &Self) -> bool {
        self.order(o).is_eq()
    }
}

impl Eq for Candidate {}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl Ord for Candidate {
    /// Later in the list is greater: the heap's top is the oldest kept.
    fn cmp(&self, o: &Self) -> Ordering {
        self.order(o)
    }
}

/// The newest `limit` entries of an index of a few megabytes or more,
/// newest first, as [`super::lite::IndexText::newest`] gives them, found
/// by two threads streaming its halves that keep only them (for a first
/// screen when the sidecar is not current: the full load that follows
/// writes it); `Ok(None)` when the index is small or the stream cannot
/// read it (the full read says why).
pub(super) fn newest(
    index: &IndexFile,
    limit: usize,
) -> Result<Option<super::newest::Newest>, StoreError> {
    newest_from(index, limit, PARALLEL_MIN, PARALLEL_MIN, None)
}

/// [`newest`] that also writes the sidecar of `dir` when the one there is
/// not current (for `list`: the next one reads it); `None` when the index
/// is small, the stream cannot read it, or it changed while read. Streamed
/// from a few megabytes on: two threads reading halves of the file through
/// a small buffer each beat reading it whole into fresh memory (whose
/// pages the kernel must zero and map) by more than the scan costs.
pub(crate) fn newest_with_sidecar(dir: &Path, limit: usize) -> Option<super::newest::Newest> {
    let index = super::read::locate_index(dir).ok()?;
    newest_from(&index, limit, PARALLEL_MIN, PARALLEL_MIN, Some(dir)).ok()?
}

/// [`newest_with_sidecar`] of the takes of one model (its id, or its id or
/// name in any case, as [`super::lite::IndexText::newest`] matches them;
/// `total` counts those): for `list --model`.
pub(crate) fn newest_of_model(
    dir: &Path,
    model: &str,
    limit: usize,
) -> Option<super::newest::Newest> {
    let index = super::read::locate_index(dir).ok()?;
    let of = Some(model);
    newest_of(&index, limit, of, PARALLEL_MIN, PARALLEL_MIN, Some(dir)).ok()?
}

/// [`newest`] of an index of at least `stream_from` bytes, read in two
/// halves by two threads from `halves_from` bytes on.
fn newest_from(
    index: &IndexFile,
    limit: usize,
    stream_from: u64,
    halves_from: u64,
    sidecar_of: Option<&Path>,
) -> Result<Option<super::newest::Newest>, StoreError> {
    newest_of(index, limit, None, stream_from, halves_from, sidecar_of)
}

/// [`newest_from`] of the takes of `model` when given.
fn newest_of(
    index: &IndexFile,
    limit: usize,
    model: Option<&str>,
    stream_from: u64,
    halves_from: u64,
    sidecar_of: Option<&Path>,
) -> Result<Option<super::newest::Newest>, StoreError> {
    let Some((f, stamp, size)) = open_large(index, stream_from)? else {
        return Ok(None);
    };
    let io = |e| StoreError::io("read", index.path(), e);
    let ident = |f: &File| f.metadata().map(|m| Ident::of(&m)).map_err(io);
    let before = ident(&f)?;
    let pass = match sidecar_of.map(|dir| SidecarPass::new(dir, &f)) {
        Some(Ok(p)) => Some(p),
        // Shrinking meanwhile: the full read takes it as it is now.
        Some(Err(_)) => return Ok(None),
        None => None,
    };
    // A few more than asked: entries that do not parse are skipped.
    let keep = limit.saturating_add(64);
    let part = |from, to| NewestPart {
        model: model.map(|m| (m.to_string(), m.to_lowercase())),
        ..NewestPart::new(pass.as_ref().map(|p| p.fresh()), keep, from, to)
    };
    let Some(part) = read_parts(&f, size, halves_from, part).map_err(io)? else {
        return Ok(None);
    };
    let NewestPart {
        pass,
        heap,
        version,
        total,
        ..
    } = part;
    let version = version.flatten();
    // Written while read (its ctime moved, even if its size and mtime were
    // put back): the full read takes it as it is now.
    #[cfg(test)]
    tests::AFTER_READ.with(|h| h.borrow().as_ref().map(|h| h(index.path())));
    if ident(&f)? != before {
        return Ok(None);
    }
    if let Some(p) = pass {
        if p.finish(&f, stamp, version.as_ref()).is_none() {
            return Ok(None);
        }
    }
    let kept = heap.into_sorted_vec();
    // `None`: more unreadable entries among the newest than were kept.
    let Some((entries, invalid)) = super::newest::take_newest(total, limit, |at| {
        let batch = kept.get(at)?;
        Some(
            batch
                .iter()
                .map(|c| entry_from_text(c.key.clone(), c.text.as_bytes(), c.nonfinite))
                .collect(),
        )
    }) else {
        return Ok(None);
    };
    Ok(Some(super::newest::Newest {
        entries,
        invalid,
        total,
        version,
        stamp,
        path: index.path().to_path_buf(),
    }))
}

/// Where the second of two threads may begin reading a file of `size`
/// bytes (at least `min`): the key of an entry near the middle, as
/// [`super::scan::split_point`] finds it in memory.
fn split_at_entry(f: &File, size: u64, min: u64) -> std::io::Result<Option<u64>> {
    if size < min.max(2) {
        return Ok(None);
    }
    let mid = size / 2;
    let mut window = vec![0u8; (size - mid).min(super::scan::SPLIT_WINDOW as u64) as usize];
    // Shorter than it was: the one pass finds it changed.
    if !read_fully_at(f, &mut window, mid)? {
        return Ok(None);
    }
    Ok(super::scan::boundary_in(&window).map(|at| mid + at as u64))
}

/// Fills `buf` from offset `at` of `f`; `false` when the file ends first
/// (it shrank since its size was taken).
fn read_fully_at(f: &File, buf: &mut [u8], at: u64) -> std::io::Result<bool> {
    match f.read_exact_at(buf, at) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
        Err(e) => Err(e),
    }
}

/// The take `id` names ([`super::find_entry`]) in an index of a few
/// megabytes or more, found by two threads streaming its halves; `None`
/// when the index is small, the stream cannot read it, or it changed while
/// read (the full read then looks); `Err` when it cannot be read at all.
pub(super) fn find(
    index: &IndexFile,
    id: &str,
    claims: bool,
) -> Result<Option<super::Lookup>, StoreError> {
    find_from(index, id, claims, PARALLEL_MIN, PARALLEL_MIN)
}

/// [`find`] in an index of at least `stream_from` bytes, read in halves
/// from `halves_from` bytes on.
fn find_from(
    index: &IndexFile,
    id: &str,
    claims: bool,
    stream_from: u64,
    halves_from: u64,
) -> Result<Option<super::Lookup>, StoreError> {
    let Some((f, _, size)) = open_large(index, stream_from)? else {
        return Ok(None);
    };
    let io = |e| StoreError::io("read", index.path(), e);
    let ident = |f: &File| f.metadata().map(|m| Ident::of(&m)).map_err(io);
    let before = ident(&f)?;
    // Shorter ids resolve only exactly (`match_id`).
    let prefixes = id.chars().count() >= 4;
    let part = |_, _| FindPart {
        id,
        prefixes,
        claims: claims.then(super::Claims::default),
        hits: Vec::new(),
        prefix_key: None,
        ambiguous: false,
        version: None,
    };
    let Some(found) = read_parts(&f, size, halves_from, part).map_err(io)? else {
        return Ok(None);
    };
    if ident(&f)? != before {
        return Ok(None);
    }
    let seen = super::IndexSeen {
        version: found.version.clone().flatten(),
        path: index.path().to_path_buf(),
        exists: true,
    };
    let keys = (found.hits.iter()).map(|h| std::borrow::Cow::from(h.0.as_str()));
    let full = match super::match_id(keys, id) {
        Ok(k) => k.into_owned(),
        Err(e) => return Ok(Some((seen, Err(e)))),
    };
    // The last of duplicate keys wins, as in Python's json.load.
    // (Its text is kept: it is `id`, or the one key beginning with it.)
    let (key, text, nonfinite) = (found.hits.iter().rev())
        .find(|h| h.0 == full)
        .and_then(|(k, t, n)| Some((k, t.as_ref()?, n)))
        .expect("match_id gives one of the keys it is given, and its text was kept");
    let entry = entry_from_text(key.clone(), text.as_bytes(), *nonfinite).map_err(|bad| {
        StoreError::InvalidEntry {
            id: bad.entry_id,
            reason: bad.reason,
        }
    });
    let found = entry.map(|entry| super::Found {
        entry,
        ident: Some(before),
        claims: found.claims.unwrap_or_default(),
    });
    Ok(Some((seen, found)))
}

/// What a thread looking for one take keeps of its part of the index.
struct FindPart<'i> {
    id: &'i str,
    /// Whether keys beginning with `id` may be what it names.
    prefixes: bool,
    /// Who refers to which files, when asked.
    claims: Option<super::Claims>,
    /// The entries `id` may name, in file order: key, text, whether it
    /// holds `NaN`/`Infinity`. The text of one that only begins with `id`
    /// is dropped once two keys do (the prefix is then ambiguous unless an
    /// entry is `id` itself), so a short prefix holds keys, not the index.
    hits: Vec<(String, Option<String>, bool)>,
    /// The first key met that begins with `id` and is not it.
    prefix_key: Option<String>,
    /// Another such key was met.
    ambiguous: bool,
    /// The last `version` member met (`Some(None)`: not JSON).
    version: Option<Option<Value>>,
}

impl FindPart<'_> {
    /// Notes a key that begins with `id` and is not it; whether its text
    /// is still worth keeping.
    fn prefix_hit(&mut self, key: &str) -> bool {
        match &self.prefix_key {
            None => self.prefix_key = Some(key.to_string()),
            Some(k) if k == key => {}
            Some(_) => self.ambiguous = true,
        }
        if self.ambiguous {
            self.drop_prefix_texts();
        }
        !self.ambiguous
    }

    fn drop_prefix_texts(&mut self) {
        for h in &mut self.hits {
            if h.0 != self.id {
                h.1 = None;
            }
        }
    }
}

impl<'a> Gather<'a> for FindPart<'_> {
    fn pass(&mut self) -> Option<&mut SidecarPass<'a>> {
        None
    }

    fn visit(&mut self, item: Item<'_>) -> Result<(), ()> {
        match item {
            Item::Top { key, value } if key == "version" => {
                self.version = Some(serde_json::from_str(value).ok());
            }
            Item::Entry(e) => {
                let key = e.key();
                if let Some(c) = &mut self.claims {
                    c.add(
                        &key,
                        e.audio_file().as_deref(),
                        e.thumbnail_file().as_deref(),
                    );
                }
                let keep = if key == self.id {
                    true
                } else if self.prefixes && super::begins_with_id(&key, self.id) {
                    self.prefix_hit(&key)
                } else {
                    return Ok(());
                };
                let text = keep.then(|| e.text().to_string());
                self.hits.push((key.into_owned(), text, e.nonfinite()));
            }
            _ => {}
        }
        Ok(())
    }

    fn join(mut self, tail: Self) -> Option<Self> {
        self.hits.extend(tail.hits);
        if let Some(k) = tail.prefix_key {
            self.prefix_hit(&k);
        }
        if tail.ambiguous {
            self.ambiguous = true;
            self.drop_prefix_texts();
        }
        if let (Some(c), Some(t)) = (&mut self.claims, tail.claims) {
            c.extend(t);
        }
        self.version = tail.version.or(self.version);
        Some(self)
    }
}

/// What one thread gathers from the part of the index it reads.
trait Gather<'a>: Sized + Send {
    fn visit(&mut self, item: Item<'_>) -> Result<(), ()>;
    /// The sidecar pass whose whole-file hash the reads feed, if any.
    fn pass(&mut self) -> Option<&mut SidecarPass<'a>>;
    /// This part followed by `tail`, the part after it; `None` when they
    /// do not join.
    fn join(self, tail: Self) -> Option<Self>;
}

/// Streams `f` (`size` bytes) into parts made by `part(from, to)`: two
/// threads reading its halves from `halves_from` bytes on, else (or when
/// the halves cannot be read apart: the middle is not between entries)
/// one pass; `None` when the stream cannot read it as an index.
fn read_parts<'a, G: Gather<'a>>(
    f: &File,
    size: u64,
    halves_from: u64,
    part: impl Fn(u64, u64) -> G,
) -> std::io::Result<Option<G>> {
    if let Some(split) = split_at_entry(f, size, halves_from)? {
        if let Some(joined) = read_halves(f, split, part(0, split), part(split, size))? {
            return Ok(Some(joined));
        }
    }
    match read_part(f, part(0, size), WHOLE, u64::MAX) {
        Ok((part, stream::Ended::End)) => Ok(Some(part)),
        Err(stream::StreamError::Io(e)) => Err(e),
        _ => Ok(None),
    }
}

/// Reads the halves of `f` before and from `split` on two threads, into
/// `head` and `tail`, and joins them; `None` when the first did not stop
/// at `split` (not the start of an entry) or either could not be read as
/// an index.
fn read_halves<'a, G: Gather<'a>>(
    f: &File,
    split: u64,
    head: G,
    mut tail: G,
) -> std::io::Result<Option<G>> {
    use super::filehash::BLOCK;
    // The first part's hash ends at the block boundary before `split`; the
    // second's begins there.
    let block_start = split / BLOCK as u64 * BLOCK as u64;
    if let Some(p) = tail.pass() {
        let mut before = vec![0u8; (split - block_start) as usize];
        if !read_fully_at(f, &mut before, block_start)? {
            return Ok(None);
        }
        p.hash.feed(&before);
    }
    let (head, tail) = std::thread::scope(|s| {
        let tail = s.spawn(|| read_part(f, tail, stream::Start::Entry(split), u64::MAX));
        let stop_at = Some(split);
        let head = read_part(f, head, stream::Start::Document { stop_at }, block_start);
        // A panic belongs to whoever asked (a worker catches it).
        let tail = tail.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (head, tail)
    });
    use stream::{Ended, StreamError};
    match (head, tail) {
        (Ok((head, Ended::Stopped)), Ok((tail, Ended::End))) => Ok(head.join(tail)),
        (Err(StreamError::Io(e)), _) | (_, Err(StreamError::Io(e))) => Err(e),
        _ => Ok(None),
    }
}

/// Streams `f` into `part` from `start`, feeding the bytes before
/// `hash_end` to its pass's whole-file hash.
fn read_part<'a, G: Gather<'a>>(
    f: &File,
    mut part: G,
    start: stream::Start,
    hash_end: u64,
) -> Result<(G, stream::Ended), stream::StreamError<()>> {
    let mut hash = part
        .pass()
        .map(|p| std::mem::replace(&mut p.hash, ContentHash::new()));
    let reader = HashingAt {
        f,
        at: match start {
            stream::Start::Document { .. } => 0,
            stream::Start::Entry(at) => at,
        },
        hash: hash.as_mut(),
        hash_end,
    };
    let ended = stream::stream_part(reader, start, |item| part.visit(item))?;
    if let (Some(p), Some(h)) = (part.pass(), hash) {
        p.hash = h;
    }
    Ok((part, ended))
}

/// What a pass for the newest entries keeps of the part of the index it
/// reads (bytes `from..to`).
struct NewestPart<'a> {
    pass: Option<SidecarPass<'a>>,
    /// The newest `keep` entries met.
    heap: std::collections::BinaryHeap<Candidate>,
    keep: usize,
    /// The last `version` member met (`Some(None)`: not JSON).
    version: Option<Option<Value>>,
    /// The entries met (of `model`, when given).
    total: usize,
    from: u64,
    to: u64,
    /// Only the takes of this model (as given, and in lower case).
    model: Option<(String, String)>,
}

impl<'a> NewestPart<'a> {
    fn new(pass: Option<SidecarPass<'a>>, keep: usize, from: u64, to: u64) -> NewestPart<'a> {
        NewestPart {
            pass,
            heap: Default::default(),
            keep,
            version: None,
            total: 0,
            from,
            to,
            model: None,
        }
    }

    /// Whether `e` is a take of the model asked for (all are when none
    /// is): its `model_id` as given, else its id or name in any case.
    fn of_model(&self, e: &stream::EntryRef<'_>) -> bool {
        let Some((m, lower)) = &self.model else {
            return true;
        };
        if e.span.model_id.as_ref().is_some_and(|s| s.is_at(e.buf, m)) {
            return true;
        }
        // Text that is plain ASCII without escapes holds the id and name
        // as written, and their lower case is ASCII's: one that nowhere
        // holds the model in any case is not of it (no parse needed).
        let b = e.bytes();
        let n = lower.len();
        if lower.is_ascii()
            && b.is_ascii()
            && !b.contains(&b'\\')
            && !b
                .windows(n.max(1))
                .any(|w| w.eq_ignore_ascii_case(lower.as_bytes()))
        {
            return false;
        }
        entry_from_text(e.key().into_owned(), e.bytes(), e.nonfinite()).is_ok_and(|x| {
            x.model_id().to_lowercase() == *lower || x.model_name().to_lowercase() == *lower
        })
    }
}

impl<'a> Gather<'a> for NewestPart<'a> {
    fn pass(&mut self) -> Option<&mut SidecarPass<'a>> {
        self.pass.as_mut()
    }

    fn visit(&mut self, item: Item<'_>) -> Result<(), ()> {
        if let Some(p) = &mut self.pass {
            p.structure(&item);
        }
        match item {
            Item::Top { key, value } if key == "version" => {
                // The last `version` member counts, as in Python.
                self.version = Some(serde_json::from_str(value).ok());
            }
            Item::Entry(e) => {
                if let Some(p) = &mut self.pass {
                    if e.position == 64 {
                        p.reserve(entries_guess(self.from, self.to, &e));
                    }
                    p.see(&e, e.span.id).ok_or(())?;
                }
                if !self.of_model(&e) {
                    return Ok(());
                }
                self.total += 1;
                let time = sidecar::order_time(e.buf, &e.span);
                // Most entries are older than all those kept.
                let heap = &mut self.heap;
                if heap.len() >= self.keep && heap.peek().is_none_or(|top| time < top.time) {
                    return Ok(());
                }
                heap.push(Candidate {
                    time,
                    timestamp: e
                        .span
                        .timestamp
                        .as_ref()
                        .map(|t| t.get_at(e.buf).into_owned()),
                    key: e.key().into_owned(),
                    text: e.text().to_string(),
                    nonfinite: e.nonfinite(),
                });
                if heap.len() > self.keep {
                    heap.pop();
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn join(mut self, tail: NewestPart<'a>) -> Option<NewestPart<'a>> {
        self.pass = match (self.pass, tail.pass) {
            (Some(mut p), Some(t)) => {
                p.join(t)?;
                Some(p)
            }
            (None, None) => None,
            _ => return None,
        };
        for c in tail.heap {
            self.heap.push(c);
            if self.heap.len() > self.keep {
                self.heap.pop();
            }
        }
        self.version = tail.version.or(self.version);
        self.total += tail.total;
        self.to = tail.to;
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::super::read::{load, locate_index};
    use super::super::sidecar::{path_of, HEADER};
    use super::*;
    use proptest::prelude::*;

    type Hook = Box<dyn Fn(&Path)>;

    thread_local! {
        /// Run by [`newest_from`] once it has read the index (to change it
        /// at that moment).
        pub(super) static AFTER_READ: std::cell::RefCell<Option<Hook>> =
            const { std::cell::RefCell::new(None) };
    }

    /// One generated entry: which of a few ids, times and oddities it has.
    #[derive(Debug, Clone)]
    struct Gen {
        key: u8,
        time: u8,
        odd: u8,
    }

    fn text_of(entries: &[Gen], versions: &[u8]) -> String {
        text_laid_out(entries, versions, false)
    }

    /// [`text_of`], with `python` in the layout of Python's `json.dump(...,
    /// indent=2)` between entries (where two threads may split the file).
    fn text_laid_out(entries: &[Gen], versions: &[u8], python: bool) -> String {
        let mut members: Vec<String> = versions
            .iter()
            .map(|v| format!("\"version\": {v}"))
            .collect();
        let body: Vec<String> = entries
            .iter()
            .enumerate()
            .map(|(i, g)| {
                // Ids with escapes, and now and then one met twice.
                let key = match g.key % 4 {
                    0 => format!("id-{i}-\\u00e9"),
                    1 => format!("id-\\\"{i}"),
                    2 => format!("same-{}", g.key % 3),
                    _ => format!("id-{i}"),
                };
                // Few distinct times, so many ties; some that do not parse.
                let ts = match g.time % 5 {
                    0 => "not a time".to_string(),
                    1 => format!("2026-12-01T10:00:0{}+00:00", g.time % 3),
                    2 => format!("2026-12-01T10:00:0{}Z", g.time % 3),
                    3 => format!("2026-12-01T10:00:0{}.000000+00:00", g.time % 3),
                    _ => format!("2026-12-01T11:00:0{}", g.time % 3),
                };
                let value = match g.odd % 6 {
                    // No model: not an entry of the schema.
                    0 => format!("{{\"entry_id\": \"x\", \"timestamp\": \"{ts}\"}}"),
                    1 => format!(
                        "{{\"entry_id\": \"x\", \"timestamp\": \"{ts}\", \"model_id\": \"m\", \
                         \"model_name\": \"M\", \"audio_file\": \"a/{i}.wav\", \
                         \"quality_score\": {{\"snr\": NaN}}, \"latent_vector\": [1.5, Infinity]}}"
                    ),
                    2 => format!(
                        "{{\"entry_id\": \"x\", \"timestamp\": \"{ts}\", \"model_id\": \"m\", \
                         \"model_name\": \"M\", \"audio_file\": \"audio/{i}.wav\", \
                         \"slider_positions\": [1, -2, 300], \"unknown\": {{\"a\": [1]}}}}"
                    ),
                    _ => format!(
                        "{{\"entry_id\": \"x\", \"timestamp\": \"{ts}\", \"model_id\": \"m{}\", \
                         \"model_name\": \"M\", \"audio_file\": \"audio/{i}.wav\", \"seed\": {i}}}",
                        g.odd
                    ),
                };
                if python {
                    format!("\"{key}\": {}\n    }}", &value[..value.len() - 1])
                } else {
                    format!("\"{key}\": {value}")
                }
            })
            .collect();
        let between = if python { ",\n    " } else { ",\n " };
        members.insert(
            versions.len() / 2,
            format!("\"entries\": {{{}}}", body.join(between)),
        );
        format!("{{{}}}\n", members.join(", "))
    }

    fn listed(l: &LoadedIndex) -> (Vec<String>, Vec<String>, Option<Value>) {
        // Entries met twice under one id and time are in no set order.
        let mut entries = l.entries.clone();
        entries.sort_by(|a, b| {
            super::super::newest_first(a, b)
                .then_with(|| a.to_json().to_string().cmp(&b.to_json().to_string()))
        });
        let invalid: Vec<String> = l
            .invalid
            .iter()
            .map(|b| format!("{} {}", b.entry_id, b.reason))
            .collect();
        (
            entries.iter().map(|e| e.to_json().to_string()).collect(),
            invalid,
            l.version.clone(),
        )
    }

    /// The sidecar without its build time and checksum.
    fn sidecar_bytes(dir: &Path) -> Option<Vec<u8>> {
        let mut b = std::fs::read(path_of(dir)).ok()?;
        b[56..64].fill(0);
        b[104..HEADER].fill(0);
        Some(b)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn a_streamed_load_is_the_full_read(
            entries in prop::collection::vec(
                (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(key, time, odd)| Gen { key, time, odd }),
                0..40,
            ),
            versions in prop::collection::vec(0u8..3, 0..3),
            limit in 1usize..12,
            python in any::<bool>(),
        ) {
            let t = tempfile::tempdir().unwrap();
            let dir = t.path();
            let text = text_laid_out(&entries, &versions, python);
            std::fs::write(dir.join("history.json"), text).unwrap();
            let whole = load(dir).unwrap();
            let whole_sidecar = sidecar_bytes(dir);
            let _ = std::fs::remove_file(path_of(dir));
            let index = locate_index(dir).unwrap();
            let streamed = load_from(dir, &index, 0).unwrap().expect("streamed");
            prop_assert_eq!(listed(&streamed), listed(&whole));
            prop_assert_eq!(&streamed.known, &whole.known);
            prop_assert_eq!(&streamed.stamp, &whole.stamp);
            // The same sidecar, or none for both (ids met twice).
            prop_assert_eq!(sidecar_bytes(dir), whole_sidecar.clone());
            // A second streamed load leaves the same sidecar.
            let again = load_from(dir, &index, 0).unwrap().expect("streamed");
            prop_assert_eq!(listed(&again), listed(&whole));
            prop_assert_eq!(sidecar_bytes(dir), whole_sidecar.clone());

            // The newest, as the text in memory gives them.
            // (Entries met twice under one id and time are in no set order.)
            let keys = |v: &[HistoryEntry]| {
                v.iter()
                    .map(|e| (e.time_us(), e.timestamp().into_owned(), e.entry_id.clone()))
                    .collect::<Vec<_>>()
            };
            let text = super::super::lite::IndexText::read_leaving_sidecar(dir).unwrap();
            let (want, want_bad) = text.newest(None, Some(limit));
            let bad = |v: &[InvalidEntry]| v.iter().map(|b| b.entry_id.clone()).collect::<Vec<_>>();
            // In halves where the layout has a place between entries near
            // the middle, and in one pass.
            let got = newest_from(&index, limit, 0, 0, None).unwrap().expect("streamed");
            prop_assert_eq!(keys(&got.entries), keys(&want));
            let one = newest_from(&index, limit, 0, u64::MAX, None).unwrap().expect("streamed");
            prop_assert_eq!(keys(&one.entries), keys(&want));
            // A model's newest: by id as given, or id or name in any case.
            for model in ["m", "M", "m3", "x"] {
                let (want, _) = text.newest(Some(model), Some(limit));
                let got = newest_of(&index, limit, Some(model), 0, 0, None).unwrap().expect("streamed");
                prop_assert_eq!(keys(&got.entries), keys(&want));
            }
            // (Of an id met twice at one time, which one falls in the last
            // batch is not set: such ids are left out here.)
            let twice: Vec<String> = {
                let mut ids: Vec<String> = whole.entries.iter().map(|e| e.entry_id.clone()).collect();
                ids.extend(whole.invalid.iter().map(|b| b.entry_id.clone()));
                ids.sort();
                ids.windows(2).filter(|w| w[0] == w[1]).map(|w| w[0].clone()).collect()
            };
            let once = |v: Vec<String>| v.into_iter().filter(|id| !twice.contains(id)).collect::<Vec<_>>();
            prop_assert_eq!(once(bad(&got.invalid)), once(bad(&want_bad)));
            // The stats, as the text in memory counts them.
            let (st, st_bad, version) = stats_from(dir, &index, 0).unwrap().expect("streamed");
            let (want_st, want_st_bad) = text.stats(dir);
            prop_assert_eq!(format!("{st:?}"), format!("{want_st:?}"));
            prop_assert_eq!(bad(&st_bad), bad(&want_st_bad));
            prop_assert_eq!(version, text.version());
            // Writing the sidecar on the way: the same, and the same sidecar.
            // A take looked up, as the text in memory finds it: every id,
            // prefixes of a few, and ids that name none.
            let mut ids: Vec<String> = whole.entries.iter().map(|e| e.entry_id.clone()).take(4).collect();
            ids.extend(whole.invalid.iter().map(|b| b.entry_id.clone()).take(2));
            let prefixes: Vec<String> = ids.iter().filter_map(|i| i.get(..4).map(str::to_uppercase)).collect();
            ids.extend(prefixes);
            ids.extend(["nope".to_string(), "id".to_string(), "same".to_string()]);
            let all = text.claims();
            for id in &ids {
                let want = text.find(id).map(|e| e.to_json().to_string()).map_err(|e| e.to_string());
                for halves_from in [0, u64::MAX] {
                    let (seen, got) = find_from(&index, id, true, 0, halves_from).unwrap().expect("streamed");
                    prop_assert_eq!(seen.version, text.version());
                    let claims = got.as_ref().ok().map(|f| {
                        ids.iter().map(|i| (
                            f.claims.check(i, &format!("audio/{i}.wav")).is_ok(),
                            f.claims.check(i, "a/0.wav").is_ok(),
                        )).collect::<Vec<_>>()
                    });
                    let got = got.map(|f| f.entry.to_json().to_string()).map_err(|e| e.to_string());
                    prop_assert_eq!(&got, &want);
                    if let Some(claims) = claims {
                        let all: Vec<_> = ids.iter().map(|i| (
                            all.check(i, &format!("audio/{i}.wav")).is_ok(),
                            all.check(i, "a/0.wav").is_ok(),
                        )).collect();
                        prop_assert_eq!(claims, all);
                    }
                }
            }
            for halves_from in [0, u64::MAX] {
                let _ = std::fs::remove_file(path_of(dir));
                let listed_too =
                    newest_from(&index, limit, 0, halves_from, Some(dir)).unwrap().expect("streamed");
                prop_assert_eq!(keys(&listed_too.entries), keys(&want));
                prop_assert_eq!(sidecar_bytes(dir), whole_sidecar.clone());
                prop_assert_eq!(listed_too.version, text.version());
            }
            prop_assert_eq!(got.total, text.len());
        }
    }

    #[test]
    fn more_unreadable_newest_than_kept_are_left_to_the_full_read() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let mut body = vec![
            "\"old\": {\"entry_id\": \"old\", \"timestamp\": \"2026-01-01T00:00:00+00:00\", \
             \"model_id\": \"m\", \"model_name\": \"M\", \"audio_file\": \"audio/old.wav\"}"
                .to_string(),
        ];
        // Newer, and none has a model: unreadable.
        for i in 0..70 {
            body.push(format!(
                "\"new{i}\": {{\"entry_id\": \"new{i}\", \"timestamp\": \"2026-02-01T00:00:{:02}+00:00\"}}",
                i % 60
            ));
        }
        let text = format!("{{\"entries\": {{{}}}}}", body.join(", "));
        std::fs::write(dir.join("history.json"), text).unwrap();
        let index = locate_index(dir).unwrap();
        assert!(newest_from(&index, 1, 0, 0, None).unwrap().is_none());
        let whole = super::super::lite::IndexText::read_leaving_sidecar(dir).unwrap();
        let (entries, invalid) = whole.newest(None, Some(1));
        assert_eq!(entries[0].entry_id, "old");
        assert_eq!(invalid.len(), 70);
    }

    #[test]
    fn a_broken_index_is_left_to_the_full_read() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let g = |key, time, odd| Gen { key, time, odd };
        let text = text_of(&[g(3, 1, 3), g(3, 2, 3)], &[1]);
        std::fs::write(dir.join("history.json"), &text[..text.len() - 9]).unwrap();
        let index = locate_index(dir).unwrap();
        assert!(load_from(dir, &index, 0).unwrap().is_none());
        for halves_from in [0, u64::MAX] {
            assert!(newest_from(&index, 5, 0, halves_from, None)
                .unwrap()
                .is_none());
            assert!(newest_from(&index, 5, 0, halves_from, Some(dir))
                .unwrap()
                .is_none());
        }
        let err = load(dir).unwrap_err().to_string();
        assert!(err.contains("line"), "{err}");
    }

    /// A history of `n` takes in Python's layout, each `pad` bytes longer
    /// than it would be, with a top-level member after `entries`.
    fn python_history(n: usize, pad: usize, after: &str) -> String {
        let body: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    "    \"id-{i:06}\": {{\n      \"entry_id\": \"id-{i:06}\",\n      \
                     \"timestamp\": \"2026-12-01T10:{:02}:{:02}+00:00\",\n      \
                     \"model_id\": \"m\",\n      \"model_name\": \"M\",\n      \
                     \"audio_file\": \"audio/id-{i:06}.wav\",\n      \"seed\": {i},\n      \
                     \"parameters\": {{\n        \"pad\": \"{}\"\n      }}\n    }}",
                    (i * 7) % 60,
                    (i * 13) % 60,
                    "x".repeat(pad)
                )
            })
            .collect();
        format!(
            "{{\n  \"version\": 1,\n  \"entries\": {{\n{}\n  }}{after}\n}}\n",
            body.join(",\n")
        )
    }

    #[test]
    fn halves_read_by_two_threads_make_the_sidecar_one_read_makes() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        // ~5 MB: the middle is blocks away from the start.
        let text = python_history(20_000, 100, ",\n  \"version\": 2");
        std::fs::write(dir.join("history.json"), &text).unwrap();
        let index = locate_index(dir).unwrap();
        let (f, _) = index.open().unwrap().unwrap();
        let split = split_at_entry(&f, text.len() as u64, 0).unwrap().unwrap();
        assert!(split > 2 << 20 && split % (1 << 20) != 0, "{split}");
        assert_eq!(&text[split as usize..split as usize + 4], "\"id-");

        let whole = super::super::lite::IndexText::read(dir).unwrap();
        let (want, _) = whole.newest(None, Some(7));
        let want_sidecar = sidecar_bytes(dir).expect("a sidecar");
        std::fs::remove_file(path_of(dir)).unwrap();
        let got = newest_with_sidecar(dir, 7).expect("streamed in halves");
        let ids = |v: &[HistoryEntry]| v.iter().map(|e| e.entry_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&got.entries), ids(&want));
        assert_eq!(got.total, 20_000);
        assert_eq!(got.version, Some(serde_json::json!(2)));
        assert_eq!(sidecar_bytes(dir).expect("a sidecar"), want_sidecar);
        // And the next list trusts it.
        let next = super::super::newest::newest(dir, 7).expect("the sidecar is current");
        assert_eq!(ids(&next.entries), ids(&want));
    }

    #[test]
    fn a_lookalike_of_a_place_between_entries_is_read_in_one_pass() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        // The middle of the file is in a top-level member laid out as
        // entries are: the first thread never stops there.
        let history = python_history(200, 10, "");
        let lookalike = python_history(200, 10, "");
        let inner = &lookalike[lookalike.find("\"entries\": ").unwrap() + 11..];
        let inner = &inner[..inner.rfind('}').unwrap()];
        let text = format!(
            "{},\n  \"other\": {}\n}}\n",
            history.trim_end().strip_suffix('}').unwrap().trim_end(),
            inner.trim_end()
        );
        serde_json::from_str::<Value>(&text).expect("valid JSON");
        std::fs::write(dir.join("history.json"), &text).unwrap();
        let index = locate_index(dir).unwrap();
        let (f, _) = index.open().unwrap().unwrap();
        let split = split_at_entry(&f, text.len() as u64, 0)
            .unwrap()
            .expect("a lookalike");
        assert!(split as usize > text.find("\"other\"").unwrap());
        let whole = super::super::lite::IndexText::read_leaving_sidecar(dir).unwrap();
        let (want, _) = whole.newest(None, Some(3));
        let got = newest_from(&index, 3, 0, 0, Some(dir))
            .unwrap()
            .expect("one pass");
        let ids = |v: &[HistoryEntry]| v.iter().map(|e| e.entry_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&got.entries), ids(&want));
        assert_eq!(got.total, 200);
        assert!(super::super::newest::newest(dir, 3).is_some());
    }

    #[test]
    fn an_index_written_while_read_is_left_to_the_full_read() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let text = python_history(20_000, 100, "");
        std::fs::write(dir.join("history.json"), &text).unwrap();
        let index = locate_index(dir).unwrap();
        let newest = newest_from(&index, 1, 0, 0, None).unwrap().unwrap();
        let seed = newest.entries[0].seed_text().into_owned();
        let digit = if seed.starts_with('9') { '1' } else { '9' };
        let changed = format!("{digit}{}", &seed[1..]);
        // The first digit of the newest take's seed changed in place, its
        // size and mtime put back, while the halves are read.
        let (from, to) = (
            format!("\"seed\": {seed},"),
            format!("\"seed\": {changed},"),
        );
        AFTER_READ.with(|h| {
            *h.borrow_mut() = Some(Box::new(move |path: &Path| {
                let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
                let mtime = f.metadata().unwrap().modified().unwrap();
                std::thread::sleep(std::time::Duration::from_millis(20));
                let text = std::fs::read_to_string(path).unwrap();
                let at = text.find(&from).unwrap();
                f.write_all_at(to.as_bytes(), at as u64).unwrap();
                f.set_modified(mtime).unwrap();
            }))
        });
        let got = newest_from(&index, 1, 0, 0, Some(dir)).unwrap();
        AFTER_READ.with(|h| *h.borrow_mut() = None);
        assert!(got.is_none(), "a list of what was read before the write");
        assert!(!path_of(dir).exists(), "no sidecar of what was read");
        let now = newest_with_sidecar(dir, 1).expect("read again");
        assert_eq!(now.entries[0].seed_text(), changed);
    }

    #[test]
    fn a_take_found_in_halves_knows_who_refers_to_which_files_in_both() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        // One file referred to from each half; a take in the second half
        // that refers to the default file of one in the first.
        let text = python_history(20_000, 100, "")
            .replace("\"audio/id-000010.wav\"", "\"shared/x.wav\"")
            .replace("\"audio/id-019990.wav\"", "\"shared/x.wav\"")
            .replace("\"audio/id-019991.wav\"", "\"audio/id-000011.wav\"");
        std::fs::write(dir.join("history.json"), &text).unwrap();
        let index = locate_index(dir).unwrap();
        let (f, _) = index.open().unwrap().unwrap();
        let split = split_at_entry(&f, text.len() as u64, 0).unwrap().unwrap();
        assert!(text.find("id-000011").unwrap() < split as usize);
        assert!(text.find("id-019990").unwrap() > split as usize);
        let whole = super::super::lite::IndexText::read(dir).unwrap();
        for id in [
            "id-000010",
            "id-019990",
            "id-019991",
            "id-000011",
            "ID-0000",
        ] {
            let want = whole
                .find(id)
                .map(|e| e.entry_id)
                .map_err(|e| e.to_string());
            let found = find(&index, id, true).unwrap().expect("streamed").1;
            assert_eq!(
                found
                    .as_ref()
                    .map(|f| f.entry.entry_id.clone())
                    .map_err(|e| e.to_string()),
                want
            );
            let Ok(found) = found else { continue };
            let checks = |c: &super::super::Claims| {
                [
                    ("id-000010", "shared/x.wav"),
                    ("id-019990", "shared/x.wav"),
                    ("id-019991", "audio/id-000011.wav"),
                    ("id-000011", "audio/id-000011.wav"),
                ]
                .map(|(id, rel)| c.check(id, rel).map(|p| p.to_string()))
            };
            assert_eq!(checks(&found.claims), checks(&whole.claims()));
            assert!(
                checks(&found.claims)[0].is_err(),
                "{:?}",
                checks(&found.claims)
            );
        }
    }

    #[test]
    fn a_prefix_many_keys_begin_with_keeps_their_keys_not_their_texts() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        let text = python_history(20_000, 100, "");
        std::fs::write(dir.join("history.json"), &text).unwrap();
        let (f, _) = locate_index(dir).unwrap().open().unwrap().unwrap();
        for (id, texts) in [("id-0", 0), ("id-012345", 1), ("ID-01234", 0)] {
            let part = |_, _| FindPart {
                id,
                prefixes: true,
                claims: None,
                hits: Vec::new(),
                prefix_key: None,
                ambiguous: false,
                version: None,
            };
            let found = read_parts(&f, text.len() as u64, 0, part).unwrap().unwrap();
            let kept = found.hits.iter().filter(|h| h.1.is_some()).count();
            assert_eq!(kept, texts, "{id}");
        }
        let index = locate_index(dir).unwrap();
        let (_, found) = find(&index, "ID-01234", false).unwrap().unwrap();
        match found {
            Err(StoreError::Ambiguous { candidates, .. }) => assert_eq!(candidates.len(), 10),
            other => panic!("{:?}", other.map(|f| f.entry.entry_id)),
        }
    }
}

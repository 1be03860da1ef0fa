//! The newest few of an index of a few megabytes or more (`list --limit`,
//! `list --model` and the first screen when the sidecar is not current),
//! and one take by id (`show`, `params`, `rate`, ...), found by two threads
//! that each stream half of the file through a small buffer: reading it
//! whole into fresh memory (whose pages the kernel must zero and map)
//! costs more than the scan. The split is the key of an entry near the
//! middle, where Python's layout puts one; the first thread must stop
//! exactly there, else one pass reads the file. Each thread gathers what
//! is asked ([`Gather`]): the sidecar's rows and the newest entries, or the
//! entries the id may name; the whole-file hash is the two halves' blocks
//! joined. A file that changed while read, or that the stream cannot read,
//! is left to the full read ([`super::read`]).

use super::filehash::{ContentHash, HashingAt};
use super::read::{entry_from_text, IndexFile};
use super::sidecar::{self, Ident};
use super::stream::{self, Item};
use super::streamed::{entries_guess, open_large, tie_order, SidecarPass};
use super::StoreError;
use serde_json::Value;
use std::cmp::Ordering;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Indexes at least this big are read in two halves by two threads where
/// only the newest entries or one take are wanted.
const PARALLEL_MIN: u64 = super::scan::PARALLEL_MIN as u64;

/// A stream of the whole document.
const WHOLE: stream::Start = stream::Start::Document { stop_at: None };

#[cfg(test)]
type Hook = Box<dyn Fn(&Path)>;

#[cfg(test)]
thread_local! {
    /// Run by [`read_unchanged`] once it has read the index (to change it
    /// at that moment).
    pub(super) static AFTER_READ: std::cell::RefCell<Option<Hook>> =
        const { std::cell::RefCell::new(None) };
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
pub(super) fn newest_from(
    index: &IndexFile,
    limit: usize,
    stream_from: u64,
    halves_from: u64,
    sidecar_of: Option<&Path>,
) -> Result<Option<super::newest::Newest>, StoreError> {
    newest_of(index, limit, None, stream_from, halves_from, sidecar_of)
}

/// [`newest_from`] of the takes of `model` when given.
pub(super) fn newest_of(
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
    let Some((part, _)) = read_unchanged(index, &f, size, halves_from, part)? else {
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
pub(super) fn split_at_entry(f: &File, size: u64, min: u64) -> std::io::Result<Option<u64>> {
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
pub(super) fn find_from(
    index: &IndexFile,
    id: &str,
    claims: bool,
    stream_from: u64,
    halves_from: u64,
) -> Result<Option<super::Lookup>, StoreError> {
    let Some((f, _, size)) = open_large(index, stream_from)? else {
        return Ok(None);
    };
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
    let Some((found, ident)) = read_unchanged(index, &f, size, halves_from, part)? else {
        return Ok(None);
    };
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
        ident: Some(ident),
        claims: found.claims.unwrap_or_default(),
    });
    Ok(Some((seen, found)))
}

/// What a thread looking for one take keeps of its part of the index.
pub(super) struct FindPart<'i> {
    pub(super) id: &'i str,
    /// Whether keys beginning with `id` may be what it names.
    pub(super) prefixes: bool,
    /// Who refers to which files, when asked.
    pub(super) claims: Option<super::Claims>,
    /// The entries `id` may name, in file order: key, text, whether it
    /// holds `NaN`/`Infinity`. The text of one that only begins with `id`
    /// is dropped once two keys do (the prefix is then ambiguous unless an
    /// entry is `id` itself), so a short prefix holds keys, not the index.
    pub(super) hits: Vec<(String, Option<String>, bool)>,
    /// The first key met that begins with `id` and is not it.
    pub(super) prefix_key: Option<String>,
    /// Another such key was met.
    pub(super) ambiguous: bool,
    /// The last `version` member met (`Some(None)`: not JSON).
    pub(super) version: Option<Option<Value>>,
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

/// [`read_parts`] of the index `f` (`size` bytes) when it did not change
/// while read, with its identity: compared before and after, ctime
/// included, so a writer that puts size and mtime back is seen. `None`
/// when it changed, or the stream cannot read it (the full read then takes
/// it as it is now).
fn read_unchanged<'a, G: Gather<'a>>(
    index: &IndexFile,
    f: &File,
    size: u64,
    halves_from: u64,
    part: impl Fn(u64, u64) -> G,
) -> Result<Option<(G, Ident)>, StoreError> {
    let io = |e| StoreError::io("read", index.path(), e);
    let before = Ident::of(&f.metadata().map_err(io)?);
    let Some(part) = read_parts(f, size, halves_from, part).map_err(io)? else {
        return Ok(None);
    };
    #[cfg(test)]
    AFTER_READ.with(|h| h.borrow().as_ref().map(|h| h(index.path())));
    let after = Ident::of(&f.metadata().map_err(io)?);
    Ok((after == before).then_some((part, before)))
}

/// What one thread gathers from the part of the index it reads.
pub(super) trait Gather<'a>: Sized + Send {
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
pub(super) fn read_parts<'a, G: Gather<'a>>(
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
    use super::super::read::locate_index;
    use super::super::sidecar::path_of;
    use super::super::streamed::tests::sidecar_bytes;
    use super::super::HistoryEntry;
    use super::*;

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

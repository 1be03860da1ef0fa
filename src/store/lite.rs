//! The index read and scanned but not parsed: `list`, `show` and `play`
//! parse only the entries they print or touch.

use super::entry::HistoryEntry;
use super::error::StoreError;
use super::paths::Claims;
use super::read::{self, FileStamp, IndexFile, InvalidEntry};
use super::scan::{EntrySpan, Scan};
use serde_json::Value;
use std::cmp::Ordering;
use std::path::{Path, PathBuf};

/// Where a sidecar would go, the identity of the index bytes read, and
/// their block hashes when they were made as they were read.
type Pending = (
    PathBuf,
    super::sidecar::Seen,
    Option<super::filehash::FileHash>,
);

/// `history.json` read and scanned, not parsed.
pub struct IndexText {
    index: IndexFile,
    text: String,
    scan: Scan,
    pub stamp: Option<FileStamp>,
    /// Where the sidecar goes and the identity of the bytes read: the first
    /// [`IndexText::newest`] checks it and, when it does not match, writes a
    /// new one on the other core while it parses.
    /// (With the whole-file hash when it was made as the file was read.)
    sidecar: std::sync::Mutex<Option<Pending>>,
}

impl IndexText {
    /// Reads and scans the index of `dir` (a missing file is an empty
    /// history); when the sidecar there does not match, the first
    /// [`IndexText::newest`] writes a new one.
    pub fn read(dir: &Path) -> Result<IndexText, StoreError> {
        Self::read_with(dir, true)
    }

    /// [`IndexText::read`] that leaves the sidecar as it is (for a first
    /// screen: the full load that follows writes it).
    pub fn read_leaving_sidecar(dir: &Path) -> Result<IndexText, StoreError> {
        Self::read_with(dir, false)
    }

    fn read_with(dir: &Path, sidecar: bool) -> Result<IndexText, StoreError> {
        let index = read::locate_index(dir)?;
        let Some(read) = index.read_all()? else {
            return Ok(IndexText {
                index,
                text: String::new(),
                scan: Scan {
                    entries_pos: Some(0),
                    ..Scan::default()
                },
                stamp: None,
                sidecar: Default::default(),
            });
        };
        let (text, scan) = read::text_and_scan(index.path(), read.bytes)?;
        let pending = read
            .seen
            .filter(|_| sidecar)
            .map(|i| (dir.to_path_buf(), i, read.hash));
        Ok(IndexText {
            index,
            text,
            scan,
            stamp: read.stamp,
            sidecar: std::sync::Mutex::new(pending),
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
        read::version_of(self.text.as_bytes(), &self.scan.top)
    }

    /// Whether a file exists at all (an empty history has none).
    pub fn exists(&self) -> bool {
        self.index.exists()
    }

    pub fn path(&self) -> &Path {
        self.index.path()
    }

    fn parse_entry(&self, e: &EntrySpan) -> Result<HistoryEntry, InvalidEntry> {
        read::parse_entry_at(self.text.as_bytes(), e)
    }

    /// Who refers to which files, for the "file of another entry" rule.
    pub(crate) fn claims(&self) -> Claims {
        let t = &self.text;
        let mut c = Claims::default();
        for e in &self.scan.entries {
            c.add(
                &e.key.get(t),
                e.audio_file.as_ref().map(|s| s.get(t)).as_deref(),
                e.thumbnail_file.as_ref().map(|s| s.get(t)).as_deref(),
            );
        }
        c
    }

    /// What [`super::GenerationHistory::stats`] says of this index (the dir
    /// is `dir`), and the unreadable entries in file order, without keeping
    /// the parsed entries: each is parsed, counted and dropped, on both cores
    /// when there are many.
    pub fn stats(&self, dir: &Path) -> (super::Stats, Vec<InvalidEntry>) {
        let b = self.text.as_bytes();
        let fold = |spans: &[EntrySpan], base: usize| {
            let mut p = StatsPart::default();
            // About what the three strings of each entry take.
            let room = spans.iter().map(|e| 3 * e.key.span.len() + 32).sum();
            p.files.text.reserve(room);
            p.files.ends.reserve(3 * spans.len());
            for (at, e) in spans.iter().enumerate() {
                p.see(base + at, read::parse_entry_at(b, e));
            }
            p
        };
        let spans = &self.scan.entries;
        let parts = if spans.len() < 50_000 {
            vec![fold(spans, 0)]
        } else {
            let (head, tail) = spans.split_at(spans.len() / 2);
            std::thread::scope(|s| {
                let t = s.spawn(|| fold(tail, head.len()));
                let h = fold(head, 0);
                vec![h, t.join().unwrap_or_else(|p| std::panic::resume_unwind(p))]
            })
        };
        stats_of(dir, parts)
    }

    /// The newest `limit` entries (of `model` when given: its id or its name,
    /// ignoring case), newest first, in the same order as a full load sorts
    /// them; plus the unreadable entries met among them.
    pub fn newest(
        &self,
        model: Option<&str>,
        limit: Option<usize>,
    ) -> (Vec<HistoryEntry>, Vec<InvalidEntry>) {
        let pending = self
            .sidecar
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let Some((dir, seen, hash)) = pending else {
            return self.select(model, limit);
        };
        let bytes = self.text.as_bytes();
        match read::SidecarJob::when_stale(&dir, Some(seen), bytes, hash) {
            None => self.select(model, limit),
            // The newest of all: taken from the order the sidecar is made
            // of, on both cores; it is written on the other core while they
            // are parsed.
            Some(job) if model.is_none() => {
                let version = self.version();
                let parts = vec![super::sidecar::Part {
                    bytes,
                    base: 0,
                    entries: &self.scan.entries,
                }];
                let src = job.source(version.as_ref(), parts, read::members_after(&self.scan));
                let ordered = super::sidecar::Ordered::new(&src);
                std::thread::scope(|s| {
                    s.spawn(|| super::sidecar::write_ordered(&dir, &src, ordered.as_ref()));
                    match &ordered {
                        Some(o) => self.take_in_order(&o.keys, limit),
                        None => self.select(None, limit),
                    }
                })
            }
            // Of one model: the sidecar is written on the other core meanwhile.
            Some(job) => std::thread::scope(|s| {
                s.spawn(|| job.write_whole(bytes, &self.scan));
                self.select(model, limit)
            }),
        }
    }

    /// The newest `limit` readable entries, `keys` being every entry in list
    /// order (one part: this text).
    fn take_in_order(
        &self,
        keys: &[super::sidecar::OrderKey],
        limit: Option<usize>,
    ) -> (Vec<HistoryEntry>, Vec<InvalidEntry>) {
        super::newest::take_newest(keys.len(), limit.unwrap_or(usize::MAX), |at| {
            Some(
                keys[at]
                    .iter()
                    .map(|k| self.parse_entry(&self.scan.entries[k.2 as usize]))
                    .collect(),
            )
        })
        .unwrap_or_default()
    }

    fn select(
        &self,
        model: Option<&str>,
        limit: Option<usize>,
    ) -> (Vec<HistoryEntry>, Vec<InvalidEntry>) {
        let text = &self.text;
        let model_lower = model.map(str::to_lowercase);
        let mut keyed: Vec<(i64, &EntrySpan)> = self
            .scan
            .entries
            .iter()
            .filter(|e| match model {
                None => true,
                // The scan knows model_id; a name needs the entry parsed.
                Some(m) => {
                    e.model_id.as_ref().is_some_and(|s| s.is(text, m))
                        || self.parse_entry(e).is_ok_and(|x| {
                            let lower = model_lower.as_deref().unwrap_or_default();
                            x.model_id().to_lowercase() == lower
                                || x.model_name().to_lowercase() == lower
                        })
                }
            })
            .map(|e| (super::sidecar::order_time(text.as_bytes(), e), e))
            .collect();
        let b = text.as_bytes();
        let order = |a: &(i64, &EntrySpan), c: &(i64, &EntrySpan)| {
            super::sidecar::order((b, a.1, a.0), (b, c.1, c.0))
        };
        // Entries that fail to parse are skipped, so take a few more than
        // asked; only the batches taken are sorted.
        let total = keyed.len();
        super::newest::take_newest(total, limit.unwrap_or(usize::MAX), |at| {
            let rest = &mut keyed[at.start..];
            if at.len() < rest.len() {
                rest.select_nth_unstable_by(at.len(), order);
            }
            rest[..at.len()].sort_unstable_by(order);
            Some(
                rest[..at.len()]
                    .iter()
                    .map(|(_, e)| self.parse_entry(e))
                    .collect(),
            )
        })
        .unwrap_or_default()
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
}

/// What [`IndexText::stats`] gathers over some of the entries.
#[derive(Default)]
pub(crate) struct StatsPart {
    /// Unreadable entries, by their place among those this part saw.
    invalid: Vec<(usize, InvalidEntry)>,
    per_model: std::collections::HashMap<String, usize>,
    /// The first and the last entry in the full load's order.
    newest: Option<HistoryEntry>,
    oldest: Option<HistoryEntry>,
    /// Id, audio and thumbnail path of each readable entry.
    files: Files,
}

impl StatsPart {
    /// Counts an entry (`at`: its place, for unreadable ones' order).
    pub(crate) fn see(&mut self, at: usize, e: Result<HistoryEntry, InvalidEntry>) {
        let x = match e {
            Ok(x) => x,
            Err(bad) => {
                self.invalid.push((at, bad));
                return;
            }
        };
        match self.per_model.get_mut(x.model_name()) {
            Some(n) => *n += 1,
            None => {
                self.per_model.insert(x.model_name().to_string(), 1);
            }
        }
        self.files
            .push([&x.entry_id, &x.audio_file(), &x.thumbnail_file()]);
        let newer = beats(&self.newest, &x, Ordering::Less);
        let older = beats(&self.oldest, &x, Ordering::Greater);
        match (newer, older) {
            (true, true) => {
                self.oldest = Some(x.clone());
                self.newest = Some(x);
            }
            (true, false) => self.newest = Some(x),
            (false, true) => self.oldest = Some(x),
            (false, false) => {}
        }
    }

    /// `o`'s counts added to these (`o` saw entries after these).
    fn merge(mut self, o: StatsPart) -> StatsPart {
        self.invalid.extend(o.invalid);
        for (m, n) in o.per_model {
            *self.per_model.entry(m).or_default() += n;
        }
        if let Some(k) = o.newest {
            keep_if(&mut self.newest, k, Ordering::Less);
        }
        if let Some(k) = o.oldest {
            keep_if(&mut self.oldest, k, Ordering::Greater);
        }
        self
    }
}

/// Whether `x` goes in `slot`: nothing there yet, or `x` is `side` of
/// it in the full load's order (`Less`: newer, `Greater`: older).
fn beats(slot: &Option<HistoryEntry>, x: &HistoryEntry, side: Ordering) -> bool {
    slot.as_ref()
        .is_none_or(|s| super::newest_first(x, s) == side)
}

/// Puts `x` in `slot` when it [`beats`] what is there.
fn keep_if(slot: &mut Option<HistoryEntry>, x: HistoryEntry, side: Ordering) {
    if beats(slot, &x, side) {
        *slot = Some(x);
    }
}

/// The stats of parts that together saw every entry (in file order; ties
/// of newest and oldest go to the earlier part), the unreadable entries in
/// file order.
pub(crate) fn stats_of(dir: &Path, mut parts: Vec<StatsPart>) -> (super::Stats, Vec<InvalidEntry>) {
    // Each part's files stay where they are (one buffer each).
    let files: Vec<Files> = parts
        .iter_mut()
        .map(|p| std::mem::take(&mut p.files))
        .collect();
    let mut all = parts
        .into_iter()
        .fold(StatsPart::default(), StatsPart::merge);
    // In file order.
    all.invalid.sort_by_key(|(at, _)| *at);
    // The files as the full load counts them: claims of the readable
    // entries, then each path that passes them, its directory opened once.
    let mut claims = Claims::default();
    for [id, audio, thumb] in files.iter().flat_map(Files::iter) {
        claims.add(id, Some(audio), Some(thumb));
    }
    let sum = |files: &Files| {
        let pairs = files
            .iter()
            .flat_map(|[id, audio, thumb]| [(id, audio), (id, thumb)]);
        super::paths::claimed_bytes(dir, &claims, pairs)
    };
    // A lookup each, a part on each core.
    let total_bytes = std::thread::scope(|s| {
        let mut rest = files
            .iter()
            .skip(1)
            .map(|f| s.spawn(|| sum(f)))
            .collect::<Vec<_>>();
        let first = files.first().map_or(0, sum);
        first
            + rest
                .drain(..)
                .map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .sum::<u64>()
    });
    let stats = super::Stats {
        count: files.iter().map(Files::len).sum(),
        invalid: all.invalid.len(),
        total_bytes,
        per_model: all.per_model.into_iter().collect(),
        newest: all.newest.map(|e| e.timestamp().into_owned()),
        oldest: all.oldest.map(|e| e.timestamp().into_owned()),
    };
    (stats, all.invalid.into_iter().map(|(_, b)| b).collect())
}

/// Three strings per entry (id, audio path, thumbnail path) in one buffer:
/// a million of them without a million times three allocations.
#[derive(Default)]
struct Files {
    text: String,
    /// Where each string ends in `text`.
    ends: Vec<usize>,
}

impl Files {
    fn push(&mut self, strings: [&str; 3]) {
        for s in strings {
            self.text.push_str(s);
            self.ends.push(self.text.len());
        }
    }

    fn len(&self) -> usize {
        self.ends.len() / 3
    }

    /// Entry `k`'s three strings.
    fn get(&self, k: usize) -> [&str; 3] {
        let at = |j: usize| {
            let start = if j == 0 { 0 } else { self.ends[j - 1] };
            &self.text[start..self.ends[j]]
        };
        [at(3 * k), at(3 * k + 1), at(3 * k + 2)]
    }

    fn iter(&self) -> impl Iterator<Item = [&str; 3]> {
        (0..self.len()).map(|k| self.get(k))
    }
}

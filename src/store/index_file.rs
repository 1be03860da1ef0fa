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
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
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
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LoadedIndex::default()),
        Err(e) => return Err(StoreError::io("read", &path, e)),
    };
    let mut loaded = parse_typed(&path, &bytes)?;
    loaded.stamp = stamp;
    Ok(loaded)
}

/// Parses index text into entries; entries that do not fit the schema are
/// reported as invalid instead of failing the whole file.
pub fn parse_typed(path: &Path, bytes: &[u8]) -> Result<LoadedIndex, StoreError> {
    // Fast path: every entry fits the schema. Otherwise parse entry by entry, so
    // one bad entry is reported instead of failing the file.
    let fast = {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        FastDoc::deserialize(&mut de).and_then(|d| de.end().map(|_| d))
    };
    if let Err(e) = &fast {
        tracing::debug!("fast index parse fell back: {e}");
    }
    if let Ok(FastDoc {
        version,
        entries: Some(entries),
    }) = fast
    {
        return Ok(LoadedIndex {
            version,
            entries,
            invalid: Vec::new(),
            stamp: None,
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let doc = TypedDoc::deserialize(&mut de).map_err(|e| parse_error(path, &e))?;
    de.end().map_err(|e| parse_error(path, &e))?;
    let TypedDoc {
        version,
        entries,
        invalid,
    } = doc;
    let entries = entries.ok_or_else(|| StoreError::CorruptIndex {
        path: path.to_path_buf(),
        line: 1,
        column: 1,
        message: "no \"entries\" object at the top level".into(),
    })?;
    Ok(LoadedIndex {
        version,
        entries,
        invalid,
        stamp: None,
    })
}

/// The whole index parsed strictly in one pass.
#[derive(Deserialize)]
struct FastDoc {
    version: Option<Value>,
    #[serde(deserialize_with = "entries_in_order")]
    #[serde(default)]
    entries: Option<Vec<HistoryEntry>>,
}

fn entries_in_order<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<HistoryEntry>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Vec<HistoryEntry>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object of entries keyed by id")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut v = Vec::with_capacity(map.size_hint().unwrap_or(1024));
            while let Some(key) = map.next_key::<String>()? {
                let mut e: HistoryEntry = map.next_value()?;
                // The key is what the Python tool looks entries up by.
                e.entry_id = key;
                v.push(e);
            }
            Ok(Some(v))
        }
    }
    d.deserialize_map(V)
}

struct TypedDoc {
    version: Option<Value>,
    entries: Option<Vec<HistoryEntry>>,
    invalid: Vec<InvalidEntry>,
}

impl<'de> Deserialize<'de> for TypedDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TypedDoc;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object with \"version\" and \"entries\"")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TypedDoc, A::Error> {
                let mut doc = TypedDoc {
                    version: None,
                    entries: None,
                    invalid: Vec::new(),
                };
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match key.as_ref() {
                        "version" => doc.version = Some(map.next_value()?),
                        "entries" => {
                            let EntriesSeed(entries, invalid) = map.next_value()?;
                            doc.entries = Some(entries);
                            doc.invalid = invalid;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(doc)
            }
        }
        d.deserialize_map(V)
    }
}

struct EntriesSeed(Vec<HistoryEntry>, Vec<InvalidEntry>);

impl<'de> Deserialize<'de> for EntriesSeed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EntriesSeed;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of entries keyed by id")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EntriesSeed, A::Error> {
                let mut ok = Vec::with_capacity(map.size_hint().unwrap_or(1024));
                let mut bad = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    // Borrowing the raw text keeps one bad entry from failing the file.
                    let raw: &'de RawValue = map.next_value()?;
                    match serde_json::from_str::<HistoryEntry>(raw.get()) {
                        Ok(mut e) => {
                            // The key is what the Python tool looks entries up by.
                            e.entry_id = key;
                            ok.push(e)
                        }
                        Err(err) => bad.push(InvalidEntry {
                            entry_id: key,
                            reason: strip_position(&err.to_string()),
                        }),
                    }
                }
                Ok(EntriesSeed(ok, bad))
            }
        }
        d.deserialize_map(V)
    }
}

// ---------------------------------------------------------------------------
// Raw document for rewriting.

/// The index as text slices: enough structure to add or remove entries while
/// copying everything else unchanged.
pub struct RawDoc<'a> {
    /// Top-level members in file order; `entries` is held separately at `entries_pos`.
    top: Vec<(String, &'a RawValue)>,
    entries_pos: Option<usize>,
    entries: Vec<(String, RawOrNew<'a>)>,
    pub version: Option<i64>,
    version_text: Option<String>,
}

enum RawOrNew<'a> {
    Raw(&'a RawValue),
    New(String),
}

impl<'a> RawDoc<'a> {
    pub fn empty() -> RawDoc<'static> {
        RawDoc {
            top: Vec::new(),
            entries_pos: None,
            entries: Vec::new(),
            version: Some(SUPPORTED_VERSION),
            version_text: None,
        }
    }

    pub fn parse(path: &Path, text: &'a str) -> Result<RawDoc<'a>, StoreError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let mut doc = RawDoc::deserialize(&mut de).map_err(|e| parse_error(path, &e))?;
        de.end().map_err(|e| parse_error(path, &e))?;
        if let Some((_, v)) = doc.top.iter().find(|(k, _)| k == "version") {
            doc.version = v.get().parse().ok();
            doc.version_text = Some(v.get().to_string());
        }
        if doc.entries_pos.is_none() {
            return Err(StoreError::CorruptIndex {
                path: path.to_path_buf(),
                line: 1,
                column: 1,
                message: "no \"entries\" object at the top level".into(),
            });
        }
        Ok(doc)
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
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// Removes an entry; true when it was there.
    pub fn remove(&mut self, id: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|(k, _)| k != id);
        before != self.entries.len()
    }

    /// Removes every entry whose id is in `ids` (one pass; for large batches).
    pub fn remove_all(&mut self, ids: &std::collections::HashSet<&str>) -> usize {
        let before = self.entries.len();
        self.entries.retain(|(k, _)| !ids.contains(k.as_str()));
        before - self.entries.len()
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
            .push((entry.entry_id.clone(), RawOrNew::New(s)));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The document as `json.dump(data, f, indent=2)` lays it out.
    pub fn render(&self) -> String {
        let cap = self
            .entries
            .iter()
            .map(|(k, v)| {
                k.len()
                    + 16
                    + match v {
                        RawOrNew::Raw(r) => r.get().len(),
                        RawOrNew::New(s) => s.len(),
                    }
            })
            .sum::<usize>()
            + 256;
        let mut out = String::with_capacity(cap);
        out.push('{');
        let mut first = true;
        let member = |out: &mut String, first: &mut bool| {
            if !*first {
                out.push(',');
            }
            *first = false;
            out.push_str("\n  ");
        };
        let top = &self.top[..];
        if top.is_empty() && self.entries_pos.is_none() {
            // A brand-new index, laid out as the seed's `{"version": 1, "entries": {}}`.
            member(&mut out, &mut first);
            out.push_str("\"version\": 1");
        }
        let entries_pos = self.entries_pos.unwrap_or(top.len());
        for i in 0..=top.len() {
            if i == entries_pos {
                member(&mut out, &mut first);
                out.push_str("\"entries\": ");
                self.render_entries(&mut out);
            }
            if let Some((k, v)) = top.get(i) {
                member(&mut out, &mut first);
                pyjson::write_str(&mut out, k);
                out.push_str(": ");
                out.push_str(v.get());
            }
        }
        out.push_str("\n}");
        out
    }

    fn render_entries(&self, out: &mut String) {
        if self.entries.is_empty() {
            out.push_str("{}");
            return;
        }
        out.push('{');
        for (i, (k, v)) in self.entries.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("\n    ");
            pyjson::write_str(out, k);
            out.push_str(": ");
            match v {
                RawOrNew::Raw(r) => out.push_str(r.get()),
                RawOrNew::New(s) => out.push_str(s),
            }
        }
        out.push_str("\n  }");
    }
}

impl<'de> Deserialize<'de> for RawDoc<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawDoc<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object with \"version\" and \"entries\"")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut doc = RawDoc {
                    top: Vec::new(),
                    entries_pos: None,
                    entries: Vec::new(),
                    version: None,
                    version_text: None,
                };
                while let Some(k) = map.next_key::<String>()? {
                    if k == "entries" {
                        let OrderedRawMap(list) = map.next_value()?;
                        doc.entries = list
                            .into_iter()
                            .map(|(k, v)| (k, RawOrNew::Raw(v)))
                            .collect();
                        doc.entries_pos = Some(doc.top.len());
                    } else {
                        let raw: &'de RawValue = map.next_value()?;
                        doc.top.push((k, raw));
                    }
                }
                Ok(doc)
            }
        }
        d.deserialize_map(V)
    }
}

/// A JSON object as an ordered list of (key, raw value), duplicates kept.
struct OrderedRawMap<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for OrderedRawMap<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OrderedRawMap<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut v = Vec::with_capacity(map.size_hint().unwrap_or(1024));
                while let Some(k) = map.next_key::<String>()? {
                    let raw: &'de RawValue = map.next_value()?;
                    v.push((k, raw));
                }
                Ok(OrderedRawMap(v))
            }
        }
        d.deserialize_map(V)
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
/// `change` returns `Ok(false)` when there is nothing to write.
/// Returns what `change` returned last and the written text length.
pub fn update<T>(
    dir: &Path,
    mut change: impl FnMut(&mut RawDoc<'_>) -> Result<(T, bool), StoreError>,
) -> Result<T, StoreError> {
    let path = dir.join(INDEX_FILE);
    let _lock = DirLock::acquire(dir);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let stamp = FileStamp::of(&path);
        let text = match fs::read(&path) {
            Ok(b) => Some(String::from_utf8(b).map_err(|e| StoreError::CorruptIndex {
                path: path.clone(),
                line: 0,
                column: 0,
                message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(StoreError::io("read", &path, e)),
        };
        let mut doc = match &text {
            Some(t) => RawDoc::parse(&path, t)?,
            None => RawDoc::empty(),
        };
        doc.check_writable(&path)?;
        let (result, changed) = change(&mut doc)?;
        if !changed {
            return Ok(result);
        }
        let rendered = doc.render();
        let tmp = write_temp(dir, rendered.as_bytes())?;
        if FileStamp::of(&path) != stamp && attempts < 20 {
            // Someone replaced the file since we read it: apply our change again.
            let _ = fs::remove_file(&tmp);
            continue;
        }
        if let Err(e) = fs::rename(&tmp, &path) {
            let _ = fs::remove_file(&tmp);
            return Err(StoreError::io("replace", &path, e));
        }
        sync_dir(dir);
        return Ok(result);
    }
}

/// Writes `bytes` to a fresh temp file beside the index and fsyncs it.
fn write_temp(dir: &Path, bytes: &[u8]) -> Result<PathBuf, StoreError> {
    let tmp = dir.join(format!(
        ".history.json.{}.{}.tmp",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let result = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(StoreError::io("write", &dir.join(INDEX_FILE), e))
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

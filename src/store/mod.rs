//! The history store: a port of the seed's `GenerationHistory` over a history
//! directory (`history.json`, `audio/<id>.wav`, `thumbnails/<id>.png`), with
//! genhist's own data (trash, annotations, work in progress) in `.genhist/`.
//!
//! Reading: [`GenerationHistory`] (every entry, in memory) and
//! [`lite::IndexText`] (scan, parse only what is shown). Changing:
//! [`HistoryDir`] and the operations on it ([`add`], [`trash`], [`repair`]),
//! all through one locked, crash-safe transaction ([`txn`]).

pub(crate) mod add;
pub mod annotations;
pub(crate) mod by_id;
pub mod change;
pub(crate) mod dir;
pub(crate) mod entry;
pub(crate) mod error;
pub(crate) mod filehash;
pub(crate) mod follow;
pub(crate) mod grow;
pub(crate) mod halves;
pub mod journal;
pub(crate) mod known;
pub mod lite;
pub mod newest;
pub mod nonfinite;
pub mod paths;
pub mod pyjson;
pub(crate) mod read;
pub(crate) mod reload;
pub(crate) mod repair;
pub mod rewrite;
pub(crate) mod scan;
pub mod sidecar;
pub(crate) mod stream;
pub(crate) mod streamed;
pub(crate) mod time;
pub mod trash;
pub(crate) mod txn;

pub use dir::{HistoryDir, NoteSink, GENHIST_DIR};
pub use entry::{HistoryEntry, Sliders};
pub use error::StoreError;
pub use known::{ById, NumbersById};
pub use paths::{Claims, Field};
pub use read::{FileStamp, InvalidEntry, INDEX_FILE};
pub use rewrite::{RemovedEntry, Selection};
pub use trash::{DeleteOptions, DeleteReport, UndoReport};

use crate::fsutil::Dir;
use paths::{Located, RelPath};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What the caller knows about a new generation (the rest comes from the audio).
#[derive(Debug, Clone, Default)]
pub struct NewEntry {
    pub model_id: String,
    pub model_name: String,
    pub slider_positions: Option<Vec<i64>>,
    pub n_components: i64,
    pub seed: Option<Number>,
    pub stereo_mode: Option<String>,
    pub preset_name: Option<String>,
    pub quality_score: Map<String, Value>,
    pub latent_vector: Option<Vec<f64>>,
    /// Timestamp to record; `None` = now.
    pub timestamp: Option<String>,
}

/// Statistics for `genhist stats`.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Stats {
    pub count: usize,
    pub invalid: usize,
    pub total_bytes: u64,
    pub per_model: BTreeMap<String, usize>,
    pub oldest: Option<String>,
    pub newest: Option<String>,
}

/// Whether genhist may touch one of an entry's files, and what is there.
#[derive(Debug, Clone, PartialEq)]
pub enum FileState {
    Present {
        path: PathBuf,
        bytes: u64,
    },
    Missing {
        path: PathBuf,
    },
    /// genhist will not touch it (see [`paths`]): why.
    Invalid {
        reason: String,
    },
}

/// The state of the file `rel` that entry `id` names in its `field`, under
/// every rule of [`paths`] (`claims`: who refers to which files).
pub fn file_state(dir: &Path, claims: &Claims, id: &str, rel: &str) -> FileState {
    let p = match claims.check(id, rel) {
        Ok(p) => p,
        Err(reason) => return FileState::Invalid { reason },
    };
    let root = match Dir::open(dir) {
        Ok(d) => d,
        Err(e) => {
            return FileState::Invalid {
                reason: format!("history directory: {e}"),
            }
        }
    };
    FileState::at(&root, dir, &p)
}

impl FileState {
    /// What is at the checked path `p` below `root` (the history directory
    /// `dir`), looked up without following a symlink.
    pub fn at(root: &Dir, dir: &Path, p: &RelPath) -> FileState {
        let path = dir.join(p.to_string());
        match paths::locate(root, p) {
            Located::Present { bytes, .. } => FileState::Present { path, bytes },
            Located::Missing => FileState::Missing { path },
            Located::Refused(reason) => FileState::Invalid { reason },
        }
    }
}

/// Opens entry `e`'s file of `field` for reading, under every rule of
/// [`paths`]; the file is reached without following a symlink.
pub fn open_file(
    dir: &Path,
    claims: &Claims,
    e: &HistoryEntry,
    field: Field,
) -> Result<(std::fs::File, PathBuf), StoreError> {
    let rel = match field {
        Field::Audio => &e.audio_file(),
        Field::Thumbnail => &e.thumbnail_file(),
    };
    let refused = |reason: String| StoreError::InvalidPath {
        id: e.entry_id.clone(),
        reason: format!("{} '{rel}': {reason}", field.name()),
    };
    let p = claims.check(&e.entry_id, rel).map_err(refused)?;
    let root = Dir::open(dir).map_err(|err| StoreError::io("open", dir, err))?;
    let path = dir.join(p.to_string());
    match paths::locate(&root, &p) {
        Located::Present { parent, name, .. } => parent
            .open_regular(&name)
            .map(|f| (f, path.clone()))
            .map_err(|err| StoreError::io("open", &path, err)),
        Located::Missing => Err(StoreError::Audio {
            path,
            message: "the file is missing".into(),
        }),
        Located::Refused(reason) => Err(refused(reason)),
    }
}

/// The history directory and its index, newest first, in memory. Entries
/// are shared (`Arc`): views and workers hold them without copies, and a
/// change in the file is applied entry by entry ([`GenerationHistory::apply`]).
pub struct GenerationHistory {
    dir: PathBuf,
    /// Shared as a whole too: a view or a worker takes a snapshot in O(1),
    /// and a change copies the list only while such a snapshot is out.
    entries: Arc<Vec<Arc<HistoryEntry>>>,
    invalid: Vec<InvalidEntry>,
    version: Option<Value>,
    stamp: Option<FileStamp>,
    /// Set while only the newest entries are loaded: how many the file has.
    loading: Option<usize>,
    /// Id hash → entry; entries whose hash another id already has (never
    /// seen in practice) are in `collided`.
    by_id: by_id::ById,
    collided: Vec<Arc<HistoryEntry>>,
    claims: Claims,
    /// What each entry's text was at load, for a worker that follows the file.
    known: Option<known::Known>,
}

impl std::fmt::Debug for GenerationHistory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenerationHistory")
            .field("dir", &self.dir)
            .field("entries", &self.entries.len())
            .field("invalid", &self.invalid.len())
            .finish()
    }
}

/// What [`GenerationHistory::apply`] changed, for views to follow.
#[derive(Debug, Default)]
pub struct Applied {
    pub removed: Vec<Arc<HistoryEntry>>,
    pub added: Vec<Arc<HistoryEntry>>,
}

impl GenerationHistory {
    fn empty(dir: &Path) -> GenerationHistory {
        GenerationHistory {
            dir: dir.to_path_buf(),
            entries: Arc::default(),
            invalid: Vec::new(),
            version: None,
            stamp: None,
            loading: None,
            by_id: by_id::ById::default(),
            collided: Vec::new(),
            claims: Claims::default(),
            known: None,
        }
    }

    fn from_parts(
        dir: &Path,
        entries: Vec<HistoryEntry>,
        invalid: Vec<InvalidEntry>,
    ) -> GenerationHistory {
        // Not `into_iter().map().collect()`: that reuses the entries'
        // allocation (136 bytes a take) for the list of pointers (8 bytes a
        // take) and keeps all of it.
        let mut list = Vec::with_capacity(entries.len());
        list.extend(entries.into_iter().map(Arc::new));
        GenerationHistory::from_shared(dir, list, invalid)
    }

    fn from_shared(
        dir: &Path,
        mut entries: Vec<Arc<HistoryEntry>>,
        invalid: Vec<InvalidEntry>,
    ) -> GenerationHistory {
        sort_shared_newest_first(&mut entries);
        let mut h = GenerationHistory::empty(dir);
        h.entries = Arc::new(entries);
        h.invalid = invalid;
        h.index_all();
        h
    }

    /// Opens (reads) the history in `dir`. A directory without `history.json` is empty.
    pub fn open(dir: &Path) -> Result<GenerationHistory, StoreError> {
        let loaded = read::load(dir)?;
        let mut h = GenerationHistory::from_shared(dir, loaded.entries, loaded.invalid);
        h.version = loaded.version;
        h.stamp = loaded.stamp;
        h.known = Some(loaded.known);
        Ok(h)
    }

    /// Opens with only the newest `n` entries parsed (a fraction of a full
    /// open's time on a large history), for a first screen while
    /// [`GenerationHistory::open`] loads the rest; [`Self::loading`] says how
    /// many entries the file has meanwhile.
    pub fn open_newest(dir: &Path, n: usize) -> Result<GenerationHistory, StoreError> {
        // From the sidecar; from the old sidecar and the entries added when
        // the index only grew; else, from 4 MB on, from two threads that
        // stream its halves keeping only the newest (the full load that
        // follows writes the sidecar).
        let newest = match newest::newest(dir, n).or_else(|| grow::newest(dir, n)) {
            Some(s) => Some(s),
            None => halves::newest(&read::locate_index(dir)?, n)?,
        };
        if let Some(s) = newest {
            let mut h = GenerationHistory::from_parts(dir, s.entries, s.invalid);
            h.version = s.version;
            h.stamp = s.stamp;
            h.loading = (s.total > n).then_some(s.total);
            return Ok(h);
        }
        // The full load that follows writes the sidecar.
        let text = lite::IndexText::read_leaving_sidecar(dir)?;
        let (entries, invalid) = text.newest(None, Some(n));
        let total = text.len();
        // Claims of these entries only: writes check the whole file anyway,
        // and the full load brings everything's claims a moment later.
        let mut h = GenerationHistory::from_parts(dir, entries, invalid);
        h.version = text.version();
        h.stamp = text.stamp;
        h.loading = (total > n).then_some(total);
        Ok(h)
    }

    /// `Some(total)` while only the newest entries are loaded.
    pub fn loading(&self) -> Option<usize> {
        self.loading
    }

    /// Re-reads `history.json` whole (after another program changed it).
    pub fn reload(&mut self) -> Result<(), StoreError> {
        *self = GenerationHistory::open(&self.dir)?;
        Ok(())
    }

    /// What each entry's text was at load (taken once, by whoever follows
    /// the file from here).
    pub(crate) fn take_known(&mut self) -> Option<known::Known> {
        self.known.take()
    }

    /// Rebuilds the lookups after the entries were replaced.
    fn index_all(&mut self) {
        self.by_id = by_id::ById::with_capacity(self.entries.len());
        self.collided.clear();
        let mut claims = Claims::default();
        for e in self.entries.iter() {
            claim(&mut claims, e);
            let h = known::id_hash(&e.entry_id);
            if let Some(old) = self.by_id.insert(h, e.clone()) {
                self.collided.push(old);
            }
        }
        self.claims = claims;
    }

    /// The entry with exactly this id (no prefix matching), in O(1).
    pub fn get_exact(&self, id: &str) -> Option<&Arc<HistoryEntry>> {
        let h = known::id_hash(id);
        self.by_id
            .get(h)
            .filter(|e| e.entry_id == id)
            .or_else(|| self.collided.iter().find(|e| e.entry_id == id))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn index_path(&self) -> PathBuf {
        self.dir.join(INDEX_FILE)
    }

    /// A warning for the user when the file's version is not the one genhist writes.
    pub fn version_warning(&self) -> Option<String> {
        version_warning(
            &self.index_path(),
            self.version.as_ref(),
            self.stamp.is_some(),
        )
    }

    /// All valid entries, newest first.
    pub fn entries(&self) -> &[Arc<HistoryEntry>] {
        &self.entries
    }

    /// All valid entries, newest first, as a snapshot that costs no copy.
    pub(crate) fn shared_entries(&self) -> Arc<Vec<Arc<HistoryEntry>>> {
        self.entries.clone()
    }

    /// Entries that could not be parsed.
    pub fn invalid_entries(&self) -> &[InvalidEntry] {
        &self.invalid
    }

    /// Who refers to which files.
    pub(crate) fn claims(&self) -> &Claims {
        &self.claims
    }

    pub fn count(&self) -> usize {
        self.entries.len()
    }

    /// Newest first, optionally only one model, optionally at most `limit`.
    pub fn list_entries(&self, model_id: Option<&str>, limit: Option<usize>) -> Vec<&HistoryEntry> {
        self.entries
            .iter()
            .map(|e| &**e)
            .filter(|e| model_id.is_none_or(|m| e.model_id() == m))
            .take(limit.unwrap_or(usize::MAX))
            .collect()
    }

    /// Looks an entry up by its full id or a unique prefix of at least 4 characters.
    pub fn get(&self, id: &str) -> Result<&Arc<HistoryEntry>, StoreError> {
        if let Some(e) = self.get_exact(id) {
            return Ok(e);
        }
        let keys = self
            .entries
            .iter()
            .map(|e| e.entry_id.as_str())
            .chain(self.invalid.iter().map(|e| e.entry_id.as_str()));
        let full = match_id(keys.map(Cow::Borrowed), id)?.into_owned();
        if let Some(e) = self.get_exact(&full) {
            return Ok(e);
        }
        match self.invalid.iter().find(|e| e.entry_id == full) {
            Some(bad) => Err(StoreError::InvalidEntry {
                id: bad.entry_id.clone(),
                reason: bad.reason.clone(),
            }),
            None => Err(StoreError::NotFound(id.to_string())),
        }
    }

    /// The state of `entry`'s file of `field`.
    pub fn file_state(&self, entry: &HistoryEntry, field: Field) -> FileState {
        let rel = match field {
            Field::Audio => &entry.audio_file(),
            Field::Thumbnail => &entry.thumbnail_file(),
        };
        file_state(&self.dir, &self.claims, &entry.entry_id, rel)
    }

    /// Opens `entry`'s file of `field` for reading, if genhist may.
    pub fn open_file(
        &self,
        entry: &HistoryEntry,
        field: Field,
    ) -> Result<(std::fs::File, PathBuf), StoreError> {
        open_file(&self.dir, &self.claims, entry, field)
    }

    /// Sum of the sizes of all audio and thumbnail files the index refers to.
    pub fn total_size(&self) -> u64 {
        let files = self.entries.iter().flat_map(|e| {
            let id = e.entry_id.as_str();
            [(id, e.audio_file()), (id, e.thumbnail_file())]
        });
        paths::claimed_bytes(&self.dir, &self.claims, files)
    }

    pub fn stats(&self) -> Stats {
        let mut per_model = BTreeMap::new();
        for e in self.entries.iter() {
            *per_model.entry(e.model_name().to_string()).or_insert(0) += 1;
        }
        Stats {
            count: self.entries.len(),
            invalid: self.invalid.len(),
            total_bytes: self.total_size(),
            per_model,
            newest: self.entries.first().map(|e| e.timestamp().into_owned()),
            oldest: self.entries.last().map(|e| e.timestamp().into_owned()),
        }
    }

    /// Takes an entry out of the lookups and the list.
    fn take_out(&mut self, h: u64, id: Option<&str>) -> Option<Arc<HistoryEntry>> {
        let e = match self.by_id.get(h) {
            Some(e) if id.is_none_or(|id| e.entry_id == id) => {
                let e = self.by_id.remove(h)?;
                if let Some(i) = self
                    .collided
                    .iter()
                    .position(|c| known::id_hash(&c.entry_id) == h)
                {
                    let c = self.collided.swap_remove(i);
                    self.by_id.insert(h, c);
                }
                e
            }
            _ => {
                let i = self.collided.iter().position(|c| {
                    known::id_hash(&c.entry_id) == h && id.is_none_or(|id| c.entry_id == id)
                })?;
                self.collided.swap_remove(i)
            }
        };
        self.claims.remove(
            &e.entry_id,
            Some(&e.audio_file()),
            Some(&e.thumbnail_file()),
        );
        // Out of `entries` in one pass at the end of `apply`.
        Some(e)
    }

    fn put_in(&mut self, e: HistoryEntry) -> Arc<HistoryEntry> {
        let e = Arc::new(e);
        claim(&mut self.claims, &e);
        let entries = Arc::make_mut(&mut self.entries);
        let at = entries
            .binary_search_by(|x| newest_first(x, &e))
            .unwrap_or_else(|i| i);
        entries.insert(at, e.clone());
        let h = known::id_hash(&e.entry_id);
        if let Some(old) = self.by_id.insert(h, e.clone()) {
            self.collided.push(old);
        }
        e
    }

    /// Applies a change of the file (from a reload or one of genhist's own
    /// writes), entry by entry; returns what left and what came.
    pub fn apply(&mut self, delta: reload::Delta) -> Applied {
        let mut applied = Applied::default();
        for h in &delta.removed {
            if let Some(e) = self.take_out(*h, None) {
                applied.removed.push(e);
            }
            self.invalid.retain(|b| known::id_hash(&b.entry_id) != *h);
        }
        for u in delta.upserts {
            let id = match &u {
                Ok(e) => e.entry_id.clone(),
                Err(bad) => bad.entry_id.clone(),
            };
            let h = known::id_hash(&id);
            if let Some(old) = self.take_out(h, Some(&id)) {
                applied.removed.push(old);
            }
            self.invalid.retain(|b| b.entry_id != id);
            match u {
                Ok(e) => applied.added.push(self.put_in(e)),
                Err(bad) => self.invalid.push(bad),
            }
        }
        if !applied.removed.is_empty() {
            let entries = Arc::make_mut(&mut self.entries);
            match &applied.removed[..] {
                [one] => {
                    if let Some(i) = entries.iter().position(|x| Arc::ptr_eq(x, one)) {
                        entries.remove(i);
                    }
                }
                many => {
                    let gone: std::collections::HashSet<*const HistoryEntry> =
                        many.iter().map(Arc::as_ptr).collect();
                    entries.retain(|x| !gone.contains(&Arc::as_ptr(x)));
                }
            }
        }
        if delta.version.is_some() {
            self.version = delta.version;
        }
        self.stamp = read::locate_index(&self.dir)
            .ok()
            .and_then(|i| i.stamp_now());
        applied
    }

    /// In memory, after genhist removed entries from the file.
    pub(crate) fn forget(&mut self, ids: &[String]) -> Applied {
        self.apply(reload::Delta {
            removed: ids.iter().map(|id| known::id_hash(id)).collect(),
            ..reload::Delta::default()
        })
    }

    /// In memory, after genhist put entries (stored text) into the file.
    pub(crate) fn take_in(&mut self, back: &[RemovedEntry]) -> Applied {
        self.apply(reload::Delta {
            upserts: back
                .iter()
                .map(|r| read::entry_from_text(r.id.clone(), r.text.as_bytes(), true))
                .collect(),
            ..reload::Delta::default()
        })
    }

    /// The seed's `delete_entry` (to the trash): false when it was not
    /// there, or another program removed it meanwhile.
    pub fn delete_entry(&mut self, id: &str) -> Result<bool, StoreError> {
        let known = self.get_exact(id).is_some() || self.invalid.iter().any(|e| e.entry_id == id);
        if !known {
            return Ok(false);
        }
        let ids = [id.to_string()];
        let r = change::delete(
            &HistoryDir::new(&self.dir),
            Selection::Ids(ids.to_vec()),
            DeleteOptions::default(),
        )?;
        self.forget(&ids);
        Ok(!r.removed.is_empty())
    }

    /// The seed's `repair_history`: entries whose WAV is missing leave the
    /// index (to the trash); orphan files are counted.
    pub fn repair(&mut self, dry_run: bool) -> Result<repair::RepairReport, StoreError> {
        let plan = repair::plan(&self.dir)?;
        if dry_run {
            return Ok(repair::RepairReport {
                plan,
                ..repair::RepairReport::default()
            });
        }
        let r = change::repair(&HistoryDir::new(&self.dir), &plan)?;
        self.forget(&r.deleted.removed_ids());
        Ok(r)
    }
}

/// The newest `limit` entries when they can be had without reading the
/// whole index into memory: through the sidecar; through the old sidecar
/// and the entries added when the index only grew; else, from 4 MB on,
/// from two threads streaming its halves that write the sidecar for the
/// next. `None`:
/// read the index ([`lite::IndexText`], which writes the sidecar).
pub fn newest_without_full_read(dir: &Path, limit: usize) -> Option<newest::Newest> {
    newest::newest(dir, limit)
        .or_else(|| grow::newest(dir, limit))
        .or_else(|| halves::newest_with_sidecar(dir, limit))
}

/// The newest `limit` takes of `model` (its id as given, or its id or
/// name in any case) without holding the index in memory: an index of a
/// few megabytes or more streamed by two threads, which also bring the
/// sidecar up to date. `None`: read the index ([`lite::IndexText`]).
pub fn newest_of_model(dir: &Path, model: &str, limit: usize) -> Option<newest::Newest> {
    halves::newest_of_model(dir, model, limit)
}

/// Brings the sidecar of `dir` up to date with its index (reading the index
/// once when it is not), so that the next open and `list` need not: what
/// `genhist demo` does after writing a large history.
pub fn prepare_sidecar(dir: &Path) -> Result<(), StoreError> {
    if newest_without_full_read(dir, 1).is_none() {
        lite::IndexText::read(dir)?.newest(None, Some(1));
    }
    // Read just after the index was written: checked once more now.
    newest::confirm_soon(dir);
    Ok(())
}

/// The warning for an index whose `version` is not the one genhist writes.
pub fn version_warning(index: &Path, version: Option<&Value>, exists: bool) -> Option<String> {
    match version {
        Some(Value::Number(n)) if n.to_string() == "1" => None,
        None if !exists => None,
        other => Some(format!(
            "{} has format version {}; genhist reads it but will not write to it",
            index.display(),
            other.map_or("(missing)".into(), |v| v.to_string())
        )),
    }
}

/// Resolves `id` among `keys`: an exact match, else a unique prefix of at
/// least 4 characters (ASCII case ignored). The one lookup rule of genhist.
pub(crate) fn match_id<'a>(
    keys: impl Iterator<Item = Cow<'a, str>>,
    id: &str,
) -> Result<Cow<'a, str>, StoreError> {
    let mut hits: Vec<Cow<'a, str>> = Vec::new();
    for key in keys {
        if key == id {
            return Ok(key);
        }
        if begins_with_id(&key, id) && !hits.contains(&key) {
            hits.push(key);
        }
    }
    if id.chars().count() < 4 {
        return Err(StoreError::PrefixTooShort(id.to_string()));
    }
    match hits.len() {
        0 => Err(StoreError::NotFound(id.to_string())),
        1 => Ok(hits.pop().expect("one hit")),
        _ => Err(StoreError::Ambiguous {
            prefix: id.to_string(),
            candidates: hits.into_iter().map(Cow::into_owned).collect(),
        }),
    }
}

/// Whether `key` begins with `id`, ASCII case ignored (a prefix
/// [`match_id`] may resolve).
pub(crate) fn begins_with_id(key: &str, id: &str) -> bool {
    key.len() >= id.len()
        && key.is_char_boundary(id.len())
        && key[..id.len()].eq_ignore_ascii_case(id)
}

/// One take looked up by id ([`find_entry`]) and, when asked, who refers
/// to which files.
pub struct Found {
    pub entry: HistoryEntry,
    pub claims: Claims,
    /// The identity of the index it was found in, when that index was read
    /// whole by the stream (so well-formed: no second `entries`) and did
    /// not change while read.
    pub(crate) ident: Option<sidecar::Ident>,
}

/// The index a lookup read: its `version` member and where it is.
pub struct IndexSeen {
    pub version: Option<Value>,
    pub path: PathBuf,
    pub exists: bool,
}

/// What [`find_entry`] gives: the index read, and the take (`Err`: none
/// is found).
pub type Lookup = (IndexSeen, Result<Found, StoreError>);

/// Looks one take up by id or unique prefix ([`match_id`]), as
/// [`lite::IndexText::find`] does, with who refers to which files when
/// `claims`; an index of a few megabytes or more is streamed by two
/// threads (its text never whole in memory), others are read whole.
/// `Err`: the index cannot be read.
pub fn find_entry(dir: &Path, id: &str, claims: bool) -> Result<Lookup, StoreError> {
    let index = read::locate_index(dir)?;
    if let Some(found) = halves::find(&index, id, claims)? {
        return Ok(found);
    }
    let t = lite::IndexText::read(dir)?;
    let seen = IndexSeen {
        version: t.version(),
        path: t.path().to_path_buf(),
        exists: t.exists(),
    };
    let found = t.find(id).map(|entry| Found {
        entry,
        // Read whole, which takes a second `entries` object: the
        // annotation checks the index itself.
        ident: None,
        claims: if claims {
            t.claims()
        } else {
            Claims::default()
        },
    });
    Ok((seen, found))
}

/// Records entry `e`'s files in `claims` (its default paths without
/// making their texts).
fn claim(claims: &mut Claims, e: &HistoryEntry) {
    match e.custom_files() {
        Some((audio, thumbnail)) => claims.add(&e.entry_id, Some(audio), Some(thumbnail)),
        None => claims.add_default(&e.entry_id),
    }
}

/// The display order: newest first; unparseable timestamps last; ties by id.
pub(crate) fn newest_first(a: &HistoryEntry, b: &HistoryEntry) -> std::cmp::Ordering {
    b.time_us()
        .unwrap_or(i64::MIN)
        .cmp(&a.time_us().unwrap_or(i64::MIN))
        .then_with(|| b.timestamp_cmp(a))
        .then_with(|| a.entry_id.cmp(&b.entry_id))
}

/// Sorts into the display order ([`newest_first`]).
#[cfg(test)]
pub(crate) fn sort_newest_first(entries: &mut [HistoryEntry]) {
    entries.sort_unstable_by(newest_first);
}

/// [`sort_newest_first`] of shared entries: by their times first (a sort
/// of small keys, not of pointers chased at every comparison), then the
/// few of equal times by the whole order.
fn sort_shared_newest_first(entries: &mut Vec<Arc<HistoryEntry>>) {
    let time = |e: &HistoryEntry| e.time_us().unwrap_or(i64::MIN);
    let mut keys: Vec<(i64, u32)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (time(e), i as u32))
        .collect();
    keys.sort_unstable_by_key(|k| std::cmp::Reverse(k.0));
    for run in keys.chunk_by_mut(|a, b| a.0 == b.0) {
        if run.len() > 1 {
            run.sort_unstable_by(|a, b| {
                newest_first(&entries[a.1 as usize], &entries[b.1 as usize])
            });
        }
    }
    let mut slots: Vec<Option<Arc<HistoryEntry>>> =
        std::mem::take(entries).into_iter().map(Some).collect();
    entries.extend(keys.iter().filter_map(|k| slots[k.1 as usize].take()));
}

/// `datetime.now(timezone.utc).isoformat()`.
pub(crate) fn now_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

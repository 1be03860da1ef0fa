//! The history store: a port of the seed's `GenerationHistory` over a history
//! directory (`history.json`, `audio/<id>.wav`, `thumbnails/<id>.png`).

pub mod entry;
pub mod error;
pub mod index_file;
pub mod paths;
pub mod pyjson;
pub mod scan;

pub use entry::HistoryEntry;
pub use error::StoreError;
pub use index_file::{FileStamp, InvalidEntry, RemovedEntry, INDEX_FILE};

use crate::audio::{write_wav, AudioBuffer, BitDepth};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

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
    /// Extra fields to store as they are (e.g. from a `--params` snapshot).
    pub extra: Map<String, Value>,
    /// Timestamp to record; `None` = now.
    pub timestamp: Option<String>,
}

/// Outcome of deleting entries.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DeleteReport {
    pub removed: Vec<String>,
    /// The removed entries as they were stored, for [`GenerationHistory::restore_entries`].
    pub removed_entries: Vec<RemovedEntry>,
    pub files_removed: Vec<PathBuf>,
    /// Files that were not touched, and why (missing, or outside the directory).
    pub files_skipped: Vec<(String, String)>,
}

/// Outcome of a repair.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RepairReport {
    /// Entries whose WAV is missing (removed unless dry run).
    pub removed: Vec<String>,
    /// WAVs in `audio/` that no entry refers to (left alone).
    pub orphans: Vec<PathBuf>,
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

/// File state of one entry's audio or thumbnail.
#[derive(Debug, Clone, PartialEq)]
pub enum FileState {
    Present {
        path: PathBuf,
        bytes: u64,
    },
    Missing {
        path: PathBuf,
    },
    /// The index path is refused (absolute, `..`, symlink out of the directory).
    Invalid {
        reason: String,
    },
}

/// The history directory and its index, newest first.
pub struct GenerationHistory {
    dir: PathBuf,
    entries: Vec<HistoryEntry>,
    invalid: Vec<InvalidEntry>,
    version: Option<Value>,
    stamp: Option<FileStamp>,
    generation: u64,
    /// Set while only the newest entries are loaded: how many the file has.
    loading: Option<usize>,
    /// (hash of id, index into `entries`), sorted: exact lookups without a scan.
    by_id: Vec<(u64, u32)>,
}

fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// Source of [`GenerationHistory::generation`] numbers (unique per process).
static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl GenerationHistory {
    /// Opens (reads) the history in `dir`. A directory without `history.json` is empty.
    pub fn open(dir: &Path) -> Result<GenerationHistory, StoreError> {
        let mut h = GenerationHistory {
            dir: dir.to_path_buf(),
            entries: Vec::new(),
            invalid: Vec::new(),
            version: None,
            stamp: None,
            generation: 0,
            loading: None,
            by_id: Vec::new(),
        };
        h.reload()?;
        Ok(h)
    }

    /// Opens with only the newest `n` entries parsed (a fraction of a full
    /// open's time on a large history), for a first screen while
    /// [`GenerationHistory::open`] loads the rest; [`Self::loading`] says how
    /// many entries the file has meanwhile.
    pub fn open_newest(dir: &Path, n: usize) -> Result<GenerationHistory, StoreError> {
        let text = index_file::IndexText::read(dir)?;
        // Already in display order.
        let (entries, invalid) = text.newest(None, Some(n));
        let total = text.len();
        let mut h = GenerationHistory {
            dir: dir.to_path_buf(),
            entries,
            invalid,
            version: text.version(),
            stamp: text.stamp,
            generation: 0,
            loading: (total > n).then_some(total),
            by_id: Vec::new(),
        };
        h.touched();
        Ok(h)
    }

    /// `Some(total)` while only the newest entries are loaded.
    pub fn loading(&self) -> Option<usize> {
        self.loading
    }

    /// Re-reads `history.json` (after another program changed it).
    pub fn reload(&mut self) -> Result<(), StoreError> {
        let loaded = index_file::load(&self.dir)?;
        self.entries = loaded.entries;
        sort_newest_first(&mut self.entries);
        self.invalid = loaded.invalid;
        self.version = loaded.version;
        self.stamp = loaded.stamp;
        self.touched();
        Ok(())
    }

    /// A number that changes whenever the entries change (for caches).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Called after every change of `entries`.
    fn touched(&mut self) {
        self.generation = GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.by_id = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (id_hash(&e.entry_id), i as u32))
            .collect();
        self.by_id.sort_unstable();
    }

    /// The entry with exactly this id (no prefix matching), in O(log n).
    pub fn get_exact(&self, id: &str) -> Option<&HistoryEntry> {
        let h = id_hash(id);
        let start = self.by_id.partition_point(|&(x, _)| x < h);
        self.by_id[start..]
            .iter()
            .take_while(|&&(x, _)| x == h)
            .map(|&(_, i)| &self.entries[i as usize])
            .find(|e| e.entry_id == id)
    }

    /// True when `history.json` changed on disk since the last read.
    pub fn changed_on_disk(&self) -> bool {
        FileStamp::of(&self.index_path()) != self.stamp
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn index_path(&self) -> PathBuf {
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
    pub fn entries(&self) -> &[HistoryEntry] {
        &self.entries
    }

    /// Entries that could not be parsed.
    pub fn invalid_entries(&self) -> &[InvalidEntry] {
        &self.invalid
    }

    pub fn count(&self) -> usize {
        self.entries.len()
    }

    /// Newest first, optionally only one model, optionally at most `limit`.
    pub fn list_entries(&self, model_id: Option<&str>, limit: Option<usize>) -> Vec<&HistoryEntry> {
        self.entries
            .iter()
            .filter(|e| model_id.is_none_or(|m| e.model_id == m))
            .take(limit.unwrap_or(usize::MAX))
            .collect()
    }

    /// Looks an entry up by its full id or a unique prefix of at least 4 characters.
    pub fn get(&self, id: &str) -> Result<&HistoryEntry, StoreError> {
        if let Some(e) = self.get_exact(id) {
            return Ok(e);
        }
        let keys = self
            .entries
            .iter()
            .map(|e| e.entry_id.as_str())
            .chain(self.invalid.iter().map(|e| e.entry_id.as_str()));
        let full = match_id(keys.map(Cow::Borrowed), id)?;
        if let Some(e) = self.entries.iter().find(|e| e.entry_id == full) {
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

    /// The audio file of `entry`, if its index path is acceptable.
    pub fn audio_path(&self, entry: &HistoryEntry) -> Result<PathBuf, StoreError> {
        audio_path(&self.dir, entry)
    }

    /// The thumbnail of `entry`, if its index path is acceptable.
    pub fn thumbnail_path(&self, entry: &HistoryEntry) -> Result<PathBuf, StoreError> {
        paths::resolve_inside(&self.dir, &entry.thumbnail_file).map_err(|reason| {
            StoreError::InvalidPath {
                id: entry.entry_id.clone(),
                reason: format!("thumbnail_file: {reason}"),
            }
        })
    }

    pub fn file_state(&self, rel: &str) -> FileState {
        file_state(&self.dir, rel)
    }

    /// Sum of the sizes of all audio and thumbnail files the index refers to.
    pub fn total_size(&self) -> u64 {
        self.entries
            .iter()
            .flat_map(|e| [&e.audio_file, &e.thumbnail_file])
            .map(|rel| match self.file_state(rel) {
                FileState::Present { bytes, .. } => bytes,
                _ => 0,
            })
            .sum()
    }

    pub fn stats(&self) -> Stats {
        let mut per_model = BTreeMap::new();
        for e in &self.entries {
            *per_model.entry(e.model_name.clone()).or_insert(0) += 1;
        }
        Stats {
            count: self.entries.len(),
            invalid: self.invalid.len(),
            total_bytes: self.total_size(),
            per_model,
            newest: self.entries.first().map(|e| e.timestamp.clone()),
            oldest: self.entries.last().map(|e| e.timestamp.clone()),
        }
    }

    /// Adds a generation: WAV first, then thumbnail, then the index. If any step
    /// fails, the files written so far are removed and the index is unchanged.
    pub fn add_entry(
        &mut self,
        audio: &AudioBuffer,
        depth: BitDepth,
        new: NewEntry,
    ) -> Result<HistoryEntry, StoreError> {
        if audio.channels == 0 || audio.sample_rate == 0 {
            return Err(StoreError::BadInput(
                "audio has no channels or no sample rate".into(),
            ));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let audio_rel = format!("audio/{id}.wav");
        let thumb_rel = format!("thumbnails/{id}.png");
        let audio_path = self.dir.join(&audio_rel);
        let thumb_path = self.dir.join(&thumb_rel);
        let cleanup = |paths: &[&Path]| {
            for p in paths {
                let _ = fs::remove_file(p);
            }
        };

        let audio_dir = self.dir.join("audio");
        fs::create_dir_all(&audio_dir).map_err(|e| StoreError::io("create", &audio_dir, e))?;
        if let Err(e) = write_wav(&audio_path, audio, depth) {
            cleanup(&[&audio_path]);
            return Err(StoreError::Audio {
                path: audio_path,
                message: crate::audio::describe_hound_error(&e),
            });
        }
        let thumb_dir = self.dir.join("thumbnails");
        if let Err(e) = fs::create_dir_all(&thumb_dir) {
            cleanup(&[&audio_path]);
            return Err(StoreError::io("create", &thumb_dir, e));
        }
        if let Err(message) = crate::thumbnail::write_thumbnail(&thumb_path, audio) {
            cleanup(&[&audio_path, &thumb_path]);
            return Err(StoreError::Audio {
                path: thumb_path,
                message,
            });
        }
        let timestamp = new.timestamp.unwrap_or_else(now_iso);
        let entry = HistoryEntry {
            entry_id: id,
            time_us: entry::parse_timestamp_us(&timestamp),
            timestamp,
            model_id: new.model_id,
            model_name: new.model_name,
            slider_positions: new.slider_positions,
            n_components: new.n_components,
            seed: new.seed.unwrap_or_else(|| Number::from(0)),
            duration_s: round_to(audio.duration_s(), 6),
            sample_rate: audio.sample_rate,
            stereo_mode: new.stereo_mode.unwrap_or_else(|| {
                if audio.channels == 1 {
                    "mono"
                } else {
                    "stereo"
                }
                .to_string()
            }),
            preset_name: new.preset_name.unwrap_or_else(|| "custom".into()),
            audio_file: audio_rel,
            thumbnail_file: thumb_rel,
            quality_score: entry::QualityScore::from_map(&new.quality_score),
            latent_vector: new.latent_vector,
            extra: new.extra,
        };
        let result = index_file::update(&self.dir, |doc| {
            doc.insert(&entry);
            Ok(((), true))
        });
        if let Err(e) = result {
            cleanup(&[&audio_path, &thumb_path]);
            return Err(e);
        }
        self.entries.retain(|e| e.entry_id != entry.entry_id);
        self.entries.push(entry.clone());
        sort_newest_first(&mut self.entries);
        self.stamp = FileStamp::of(&self.index_path());
        self.touched();
        Ok(entry)
    }

    /// Adds many index entries whose files already exist (or are deliberately
    /// absent, as in a `--no-audio` demo) in one write.
    pub fn add_index_entries(&mut self, entries: Vec<HistoryEntry>) -> Result<(), StoreError> {
        index_file::update(&self.dir, |doc| {
            let existing: HashSet<String> = doc.ids().map(str::to_string).collect();
            for e in &entries {
                if existing.contains(&e.entry_id) {
                    doc.insert(e);
                } else {
                    doc.push_new(e);
                }
            }
            Ok(((), !entries.is_empty()))
        })?;
        self.entries.extend(entries);
        sort_newest_first(&mut self.entries);
        self.stamp = FileStamp::of(&self.index_path());
        self.touched();
        Ok(())
    }

    /// Deletes entries: their files first (missing files are fine; files whose
    /// index path is refused are left alone and reported), then the index.
    /// Ids another program removed meanwhile are skipped.
    pub fn delete_entries(&mut self, ids: &[String]) -> Result<DeleteReport, StoreError> {
        for id in ids {
            let known = self.entries.iter().any(|e| &e.entry_id == id)
                || self.invalid.iter().any(|e| &e.entry_id == id);
            if !known {
                return Err(StoreError::NotFound(id.clone()));
            }
        }
        let report = delete_ids(&self.dir, ids, false)?;
        let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
        self.entries
            .retain(|e| !wanted.contains(e.entry_id.as_str()));
        self.invalid
            .retain(|e| !wanted.contains(e.entry_id.as_str()));
        self.stamp = FileStamp::of(&self.index_path());
        self.touched();
        Ok(report)
    }

    /// Puts deleted entries back into the index at their old places, their
    /// stored text unchanged (the files are the caller's to restore).
    pub fn restore_entries(&mut self, removed: &[RemovedEntry]) -> Result<usize, StoreError> {
        let n = index_file::update(&self.dir, |doc| {
            let n = doc.restore(removed);
            Ok((n, n > 0))
        })?;
        for r in removed {
            if self.entries.iter().any(|e| e.entry_id == r.id) {
                continue;
            }
            match index_file::entry_from_text(r.id.clone(), r.text.as_bytes()) {
                Ok(e) => self.entries.push(e),
                Err(bad) => self.invalid.push(bad),
            }
        }
        sort_newest_first(&mut self.entries);
        self.stamp = FileStamp::of(&self.index_path());
        self.touched();
        Ok(n)
    }

    /// Delete one entry; false when it was not there (the seed's `delete_entry`).
    pub fn delete_entry(&mut self, id: &str) -> Result<bool, StoreError> {
        match self.delete_entries(&[id.to_string()]) {
            Ok(r) => Ok(!r.removed.is_empty()),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Removes entries whose WAV is missing; counts WAVs no entry refers to.
    pub fn repair(&mut self, dry_run: bool) -> Result<RepairReport, StoreError> {
        let mut report = RepairReport::default();
        for e in &self.entries {
            if let FileState::Missing { .. } = self.file_state(&e.audio_file) {
                report.removed.push(e.entry_id.clone());
            }
        }
        let referenced: HashSet<PathBuf> = self
            .entries
            .iter()
            .filter_map(|e| paths::resolve_inside(&self.dir, &e.audio_file).ok())
            .filter_map(|p| p.canonicalize().ok())
            .collect();
        if let Ok(rd) = fs::read_dir(self.dir.join("audio")) {
            for f in rd.flatten() {
                let p = f.path();
                let is_wav = p.extension().is_some_and(|x| x.eq_ignore_ascii_case("wav"));
                if is_wav && !p.canonicalize().is_ok_and(|c| referenced.contains(&c)) {
                    report.orphans.push(p);
                }
            }
        }
        report.orphans.sort();
        if !dry_run && !report.removed.is_empty() {
            let wanted: HashSet<&str> = report.removed.iter().map(String::as_str).collect();
            index_file::update(&self.dir, |doc| {
                let removed = doc.remove_all(&wanted);
                Ok(((), !removed.is_empty()))
            })?;
            self.entries
                .retain(|e| !wanted.contains(e.entry_id.as_str()));
            self.stamp = FileStamp::of(&self.index_path());
            self.touched();
        } else {
            index_file::update(&self.dir, |_| Ok(((), false))).or_else(|e| {
                if dry_run {
                    Ok(())
                } else {
                    Err(e)
                }
            })?;
        }
        Ok(report)
    }
}

/// The audio file of `entry` in the history `dir`, if its index path is acceptable.
pub fn audio_path(dir: &Path, entry: &HistoryEntry) -> Result<PathBuf, StoreError> {
    paths::resolve_inside(dir, &entry.audio_file).map_err(|reason| StoreError::InvalidPath {
        id: entry.entry_id.clone(),
        reason: format!("audio_file: {reason}"),
    })
}

/// Whether the file an index path names (relative to `dir`) is there.
pub fn file_state(dir: &Path, rel: &str) -> FileState {
    match paths::resolve_inside(dir, rel) {
        Err(reason) => FileState::Invalid { reason },
        Ok(path) => match fs::metadata(&path) {
            Ok(m) if m.is_file() => FileState::Present {
                path,
                bytes: m.len(),
            },
            _ => FileState::Missing { path },
        },
    }
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

/// Deletes entries from the history in `dir` in one locked read-modify-write:
/// each entry's WAV and PNG first, then the index (the seed's order). With
/// `by_prefix`, each of `selectors` is a full id or a unique prefix and must
/// match (else nothing is touched); without it, selectors are full ids and
/// those no longer in the index are skipped.
pub fn delete_ids(
    dir: &Path,
    selectors: &[String],
    by_prefix: bool,
) -> Result<DeleteReport, StoreError> {
    let mut report = DeleteReport::default();
    let mut targets: Option<Vec<String>> = None;
    let removed = index_file::update(dir, |doc| {
        if targets.is_none() {
            // First pass: resolve, then remove the files (only once, even if the
            // index changes under us and this runs again).
            let mut ids = Vec::new();
            for sel in selectors {
                let id = if by_prefix {
                    match_id(doc.ids().map(Cow::Borrowed), sel)?.into_owned()
                } else if doc.contains(sel) {
                    sel.clone()
                } else {
                    continue;
                };
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            for id in &ids {
                let files = doc.entry_text(id).map(entry_files).unwrap_or_default();
                for rel in files {
                    remove_entry_file(dir, &rel, &mut report)?;
                }
            }
            targets = Some(ids);
        }
        let wanted: HashSet<&str> = targets.iter().flatten().map(String::as_str).collect();
        let removed = doc.remove_all(&wanted);
        let changed = !removed.is_empty();
        Ok((removed, changed))
    })?;
    report.removed = removed.iter().map(|r| r.id.clone()).collect();
    report.removed_entries = removed;
    Ok(report)
}

/// The audio and thumbnail paths an entry's stored text names (also for
/// entries that do not fit the schema otherwise).
fn entry_files(text: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Files {
        audio_file: Option<Value>,
        thumbnail_file: Option<Value>,
    }
    match serde_json::from_str::<Files>(text) {
        Ok(f) => [f.audio_file, f.thumbnail_file]
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn remove_entry_file(dir: &Path, rel: &str, report: &mut DeleteReport) -> Result<(), StoreError> {
    match paths::resolve_inside(dir, rel) {
        Err(reason) => report.files_skipped.push((rel.to_string(), reason)),
        Ok(path) => match fs::remove_file(&path) {
            Ok(()) => report.files_removed.push(path),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => report
                .files_skipped
                .push((rel.to_string(), "already missing".into())),
            Err(err) => return Err(StoreError::io("delete", &path, err)),
        },
    }
    Ok(())
}

/// Resolves `id` among `keys`: an exact match, else a unique prefix of at
/// least 4 characters (ASCII case ignored). The one lookup rule of genhist.
pub(crate) fn match_id<'a>(
    keys: impl Iterator<Item = Cow<'a, str>>,
    id: &str,
) -> Result<Cow<'a, str>, StoreError> {
    let lower = id.to_ascii_lowercase();
    let mut hits: Vec<Cow<'a, str>> = Vec::new();
    for key in keys {
        if key == id {
            return Ok(key);
        }
        let prefix = key.len() >= lower.len()
            && key.is_char_boundary(lower.len())
            && key[..lower.len()].eq_ignore_ascii_case(&lower);
        if prefix && !hits.contains(&key) {
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

/// Newest first; unparseable timestamps sort last; ties by id for stability.
pub fn sort_newest_first(entries: &mut [HistoryEntry]) {
    entries.sort_unstable_by(|a, b| {
        b.time_us
            .unwrap_or(i64::MIN)
            .cmp(&a.time_us.unwrap_or(i64::MIN))
            .then_with(|| b.timestamp.cmp(&a.timestamp))
            .then_with(|| a.entry_id.cmp(&b.entry_id))
    });
}

/// `datetime.now(timezone.utc).isoformat()`.
pub fn now_iso() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

fn round_to(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

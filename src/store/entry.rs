//! One history entry: the seed's `HistoryEntry` fields, parsed leniently, with
//! every field genhist does not know kept so a rewrite never loses it.

use super::paths::{default_path, is_default, Field as FileField};
use super::time::{format_timestamp_us, parse_timestamp_us, timestamp_into};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::fmt;

/// The fields of the seed's `HistoryEntry`, in its order. The Python tool
/// builds `HistoryEntry(**fields)`: a field not in this list makes it treat
/// the whole index as corrupt, so genhist never writes one.
pub(crate) const SEED_FIELDS: [&str; 15] = [
    "entry_id",
    "timestamp",
    "model_id",
    "model_name",
    "slider_positions",
    "n_components",
    "seed",
    "duration_s",
    "sample_rate",
    "stereo_mode",
    "preset_name",
    "audio_file",
    "thumbnail_file",
    "quality_score",
    "latent_vector",
];

/// How many of [`SEED_FIELDS`] (the first ones) have no default in the
/// dataclass: an entry without one of them cannot be loaded.
pub(crate) const SEED_REQUIRED: usize = 13;

/// Whether the Python tool can build a `HistoryEntry` from `fields`: every
/// field without a default present, no field it does not know. `Err` names
/// the first that is wrong.
pub(crate) fn check_seed_fields(fields: &Map<String, Value>) -> Result<(), String> {
    if let Some(missing) = SEED_FIELDS[..SEED_REQUIRED]
        .iter()
        .find(|f| !fields.contains_key(**f))
    {
        return Err(format!("it has no {missing}"));
    }
    if let Some(unknown) = fields.keys().find(|k| !SEED_FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "it has a field '{}' the Python tool does not know",
            crate::text::sanitize(&crate::text::truncate(unknown, 40))
        ));
    }
    Ok(())
}

/// An entry's `quality_score`: arbitrary nested JSON, parsed when asked for.
///
/// Held in two parts, as a million takes have only a few shapes of scores:
/// the shape (the JSON text without whitespace, each value left out),
/// shared by every entry with the same keys, and this entry's values (their
/// JSON text, each ended by a NUL, which JSON text never holds). A few dozen
/// bytes a take instead of the whole indented text.
#[derive(Debug, Clone)]
pub struct QualityScore {
    shape: Shared,
    values: Box<str>,
}

/// A shape (held, so its address stays its own) and which value each
/// dotted key asked for names.
/// A shape's address, the shape held (so the address is not reused while
/// it is a key), and which value each dotted key asked names.
type ShapeHoles = (usize, Shared, Vec<(String, Option<usize>)>);

thread_local! {
    /// For each shape met, which value a dotted key names: a few shapes and
    /// keys, searched in order (faster than hashing for a million takes).
    static HOLES: std::cell::RefCell<Vec<ShapeHoles>> = Default::default();
}

/// Where a value was left out of a shape.
const HOLE: u8 = b'#';

/// Where the JSON string starting at the quote `b[start]` ends (just past
/// its closing quote).
fn string_end(b: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    while i < b.len() && b[i] != b'"' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    (i + 1).min(b.len())
}

impl QualityScore {
    /// The scores as a JSON object (empty when stored as something else).
    pub fn map(&self) -> Map<String, Value> {
        match serde_json::from_str(&self.raw()) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    pub(crate) fn from_map(m: &Map<String, Value>) -> QualityScore {
        let text = serde_json::to_string(m).unwrap_or_else(|_| "{}".into());
        QualityScore::from_json(&text)
    }

    /// Splits valid JSON text into its shape and values.
    fn from_json(text: &str) -> QualityScore {
        let b = text.as_bytes();
        let mut shape = Vec::with_capacity(b.len());
        let mut values = String::new();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            match c {
                b' ' | b'\t' | b'\n' | b'\r' => i += 1,
                b'{' | b'}' | b'[' | b']' | b',' | b':' => {
                    shape.push(c);
                    i += 1;
                }
                _ => {
                    let start = i;
                    if c == b'"' {
                        i = string_end(b, i);
                    } else {
                        while i < b.len() && !b" \t\n\r{}[],:\"".contains(&b[i]) {
                            i += 1;
                        }
                    }
                    let mut j = i;
                    while j < b.len() && b" \t\n\r".contains(&b[j]) {
                        j += 1;
                    }
                    if c == b'"' && b.get(j) == Some(&b':') {
                        // A key: part of the shape.
                        shape.extend_from_slice(&b[start..i]);
                    } else {
                        shape.push(HOLE);
                        values.push_str(&text[start..i]);
                        values.push('\0');
                    }
                }
            }
        }
        let shape = String::from_utf8(shape).unwrap_or_else(|_| "{}".into());
        QualityScore {
            shape: shared(&shape),
            values: values.into_boxed_str(),
        }
    }

    /// The number at a dotted key (`spectral.centroid_hz`), as
    /// [`super::scan::number_at`] reads it from the text, without making
    /// the text: which value it is follows from the shape alone, and is
    /// kept for each shape.
    pub(crate) fn number_at(&self, key: &str) -> Option<f64> {
        let hole = HOLES.with(|c| {
            let mut c = c.borrow_mut();
            let ptr = std::sync::Arc::as_ptr(&self.shape) as *const u8 as usize;
            let at = match c.iter().position(|s| s.0 == ptr) {
                Some(at) => at,
                None => {
                    if c.len() >= 256 {
                        c.clear();
                    }
                    c.push((ptr, self.shape.clone(), Vec::new()));
                    c.len() - 1
                }
            };
            let keys = &mut c[at].2;
            if let Some((_, h)) = keys.iter().find(|(k, _)| k == key) {
                return *h;
            }
            // The shape with each hole numbered: the number found is the hole.
            let mut n = 0usize;
            let probe = self.fill(|out| {
                out.push_str(&n.to_string());
                n += 1;
            });
            let h = super::scan::number_at(&probe, key).map(|x| x as usize);
            if keys.len() < 1024 {
                keys.push((key.to_string(), h));
            }
            h
        })?;
        super::scan::value_number(self.values.split('\0').nth(hole)?)
    }

    /// The scores' JSON text (without whitespace).
    pub fn raw(&self) -> String {
        let mut values = self.values.split('\0');
        self.fill(|out| out.push_str(values.next().unwrap_or("null")))
    }

    /// The shape's text with `put` writing each hole, in order.
    fn fill(&self, mut put: impl FnMut(&mut String)) -> String {
        let s = self.shape.as_bytes();
        let mut out = String::with_capacity(s.len() + self.values.len());
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'"' => {
                    let start = i;
                    i = string_end(s, i);
                    out.push_str(&self.shape[start..i]);
                }
                HOLE => {
                    put(&mut out);
                    i += 1;
                }
                _ => {
                    let start = i;
                    while i < s.len() && !matches!(s[i], b'"' | HOLE) {
                        i += 1;
                    }
                    out.push_str(&self.shape[start..i]);
                }
            }
        }
        out
    }
}

/// The leaves of nested JSON objects, each with its dotted path
/// (`spectral.centroid_hz`), in file order: how quality scores are named
/// in filters, sorts, completion, the panel and diffs.
pub(crate) fn leaves(v: &Value) -> Vec<(String, &Value)> {
    fn walk<'v>(prefix: &str, v: &'v Value, out: &mut Vec<(String, &'v Value)>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            other => out.push((prefix.to_string(), other)),
        }
    }
    let mut out = Vec::new();
    walk("", v, &mut out);
    out
}

impl Default for QualityScore {
    fn default() -> QualityScore {
        QualityScore {
            shape: shared("{}"),
            values: Box::default(),
        }
    }
}

impl PartialEq for QualityScore {
    fn eq(&self, other: &QualityScore) -> bool {
        self.map() == other.map()
    }
}

/// A field name, borrowed from the input when it has no escapes.
struct Field<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Field<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Field<'de>, E> {
                Ok(Field(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Field<'de>, E> {
                Ok(Field(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Text that many entries share (a model's id and name, a preset, a stereo
/// mode): one allocation for all of them.
pub(crate) type Shared = std::sync::Arc<str>;

thread_local! {
    /// Values already seen by this thread's parsing, to share them.
    static SHARED: std::cell::RefCell<std::collections::HashSet<Shared>> = Default::default();
}

/// The shared copy of `s` (kept for at most a few thousand distinct values,
/// so a history with a new name in every entry costs no more than before).
pub(crate) fn shared(s: &str) -> Shared {
    SHARED.with(|set| {
        let mut set = set.borrow_mut();
        if let Some(v) = set.get(s) {
            return v.clone();
        }
        let v: Shared = s.into();
        if set.len() < 4096 {
            set.insert(v.clone());
        }
        v
    })
}

/// An entry's fields genhist does not know, kept in file order; boxed, as
/// almost every entry has none.
#[derive(Debug, Clone, PartialEq, Default)]
struct Extra(Option<Box<Map<String, Value>>>);

static NO_EXTRA: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

impl std::ops::Deref for Extra {
    type Target = Map<String, Value>;
    fn deref(&self) -> &Map<String, Value> {
        self.0.as_deref().unwrap_or(&NO_EXTRA)
    }
}

impl From<Map<String, Value>> for Extra {
    fn from(m: Map<String, Value>) -> Extra {
        Extra((!m.is_empty()).then(|| Box::new(m)))
    }
}

/// The fields of a new entry, as plain values ([`HistoryEntry::from_parts`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct EntryParts {
    pub entry_id: String,
    pub timestamp: String,
    pub model_id: String,
    pub model_name: String,
    pub slider_positions: Option<Vec<i64>>,
    pub n_components: i64,
    pub seed: Option<Number>,
    pub duration_s: f64,
    pub sample_rate: u32,
    pub stereo_mode: String,
    pub preset_name: String,
    pub audio_file: String,
    pub thumbnail_file: String,
    pub quality_score: QualityScore,
    pub latent_vector: Option<Vec<f64>>,
}

/// The four texts many entries share, held once for all of them.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Names {
    model_id: Box<str>,
    model_name: Box<str>,
    stereo_mode: Box<str>,
    preset_name: Box<str>,
}

thread_local! {
    /// Name sets already seen by this thread's parsing, by their hash.
    static NAMES: std::cell::RefCell<std::collections::HashMap<u64, Vec<std::sync::Arc<Names>>>> =
        Default::default();
}

/// The shared set of these four names (kept for at most a few thousand
/// distinct sets, so a history with new names in every entry costs no more
/// than one set each).
fn names(
    model_id: &str,
    model_name: &str,
    stereo_mode: &str,
    preset_name: &str,
) -> std::sync::Arc<Names> {
    let key = [model_id, model_name, stereo_mode, preset_name]
        .iter()
        .fold(0u64, |h, s| {
            (h.rotate_left(17) ^ super::scan::fast_hash(s.as_bytes()))
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        });
    NAMES.with(|map| {
        let mut map = map.borrow_mut();
        let same = |n: &Names| {
            &*n.model_id == model_id
                && &*n.model_name == model_name
                && &*n.stereo_mode == stereo_mode
                && &*n.preset_name == preset_name
        };
        if let Some(n) = map.get(&key).and_then(|v| v.iter().find(|n| same(n))) {
            return n.clone();
        }
        let n = std::sync::Arc::new(Names {
            model_id: model_id.into(),
            model_name: model_name.into(),
            stereo_mode: stereo_mode.into(),
            preset_name: preset_name.into(),
        });
        if map.len() < 4096 {
            map.entry(key).or_default().push(n.clone());
        }
        n
    })
}

/// A seed: an integer as most are, else its JSON number text (Python's
/// integers have no bound; a float is possible too).
#[derive(Debug, Clone, PartialEq)]
enum Seed {
    Int(i64),
    Text(Box<str>),
}

impl Seed {
    fn new(n: &Number) -> Seed {
        let text = n.as_str();
        match text.parse::<i64>() {
            Ok(i) if i.to_string() == text => Seed::Int(i),
            _ => Seed::Text(text.into()),
        }
    }
}

/// An entry's `audio_file` and `thumbnail_file` when they are not the
/// default ones (`audio/<id>.wav`, `thumbnails/<id>.png`).
#[derive(Debug, Clone, PartialEq)]
struct Files {
    audio: String,
    thumbnail: String,
}

/// An entry's `slider_positions` as held: in place when they fit seven
/// bytes (up to 14 in -8..=7 as half bytes, up to 7 in -128..=127 as
/// bytes: most entries' sliders), others boxed.
#[derive(Debug, Clone, PartialEq)]
enum SliderStore {
    Boxed(Box<[i64]>),
    /// `mode & 0x7f` values in `v` ([`HALVES`] set: half bytes);
    /// [`NO_SLIDERS`] for `null`.
    Small {
        mode: u8,
        v: [u8; 7],
    },
}

const NO_SLIDERS: u8 = u8::MAX;
const HALVES: u8 = 0x80;

impl SliderStore {
    fn new(v: Option<&[i64]>) -> SliderStore {
        let Some(v) = v else {
            return SliderStore::Small {
                mode: NO_SLIDERS,
                v: [0; 7],
            };
        };
        let mut small = [0u8; 7];
        if v.len() <= 14 && v.iter().all(|x| (-8..=7).contains(x)) {
            for (i, &x) in v.iter().enumerate() {
                small[i / 2] |= ((x as u8) & 0x0f) << (4 * (i % 2));
            }
            return SliderStore::Small {
                mode: HALVES | v.len() as u8,
                v: small,
            };
        }
        if v.len() <= 7 && v.iter().all(|&x| i8::try_from(x).is_ok()) {
            for (s, &x) in small.iter_mut().zip(v) {
                *s = x as i8 as u8;
            }
            return SliderStore::Small {
                mode: v.len() as u8,
                v: small,
            };
        }
        SliderStore::Boxed(v.into())
    }

    fn get(&self) -> Option<Sliders<'_>> {
        match self {
            SliderStore::Boxed(b) => Some(Sliders(Held::Wide(b))),
            SliderStore::Small {
                mode: NO_SLIDERS, ..
            } => None,
            SliderStore::Small { mode, v } => Some(Sliders(Held::Small {
                v,
                n: usize::from(mode & !HALVES),
                halves: mode & HALVES != 0,
            })),
        }
    }
}

/// An entry's slider positions (as held: see [`HistoryEntry::slider_positions`]).
#[derive(Clone, Copy)]
pub struct Sliders<'a>(Held<'a>);

#[derive(Clone, Copy)]
enum Held<'a> {
    Wide(&'a [i64]),
    Small {
        v: &'a [u8; 7],
        n: usize,
        halves: bool,
    },
}

impl Sliders<'_> {
    /// No sliders.
    pub const NONE: Sliders<'static> = Sliders(Held::Wide(&[]));

    pub fn len(&self) -> usize {
        match self.0 {
            Held::Wide(v) => v.len(),
            Held::Small { n, .. } => n,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, i: usize) -> Option<i64> {
        match self.0 {
            Held::Wide(v) => v.get(i).copied(),
            Held::Small { n, .. } if i >= n => None,
            // Shifted up and back down: the sign comes back.
            Held::Small {
                v, halves: true, ..
            } => Some(i64::from(((v[i / 2] >> (4 * (i % 2))) << 4) as i8 >> 4)),
            Held::Small { v, .. } => Some(i64::from(v[i] as i8)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    pub fn to_vec(&self) -> Vec<i64> {
        self.iter().collect()
    }
}

impl fmt::Debug for Sliders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// What most entries do not have, held apart so they do not pay for it:
/// a timestamp text that is not what [`format_timestamp_us`] makes of the
/// time, paths that are not the default ones, a latent vector, fields
/// genhist does not know.
#[derive(Debug, Clone, PartialEq, Default)]
struct Rare {
    timestamp: Option<Box<str>>,
    files: Option<Files>,
    latent_vector: Option<Box<[f64]>>,
    extra: Extra,
}

impl Rare {
    fn is_empty(&self) -> bool {
        self.timestamp.is_none()
            && self.files.is_none()
            && self.latent_vector.is_none()
            && self.extra.0.is_none()
    }
}

/// A parameter snapshot of one generation, as stored in `history.json`.
///
/// Held compactly (a million of them stay in memory): texts that are the
/// default for the id (file paths) or follow from another field (a
/// timestamp as Python writes it) are not stored, names shared by many
/// entries are held once; the accessors give them back exactly as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub entry_id: String,
    names: std::sync::Arc<Names>,
    sliders: SliderStore,
    pub n_components: i64,
    seed: Seed,
    pub duration_s: f64,
    pub sample_rate: u32,
    /// Kept as its JSON text; most screens never look inside.
    pub quality_score: QualityScore,
    /// `None` when the entry has nothing [`Rare`].
    rare: Option<Box<Rare>>,
    /// Microseconds since the epoch (UTC) parsed from the timestamp;
    /// [`NO_TIME`] when it does not parse (no time of years 1–9999 is that).
    time: i64,
}

/// The time of an entry whose timestamp does not parse.
const NO_TIME: i64 = i64::MIN;

impl HistoryEntry {
    /// An entry of these fields (the timestamp's `time_us` parsed here).
    pub(crate) fn from_parts(p: EntryParts) -> HistoryEntry {
        let time_us = parse_timestamp_us(&p.timestamp);
        let mut e = HistoryEntry {
            names: names(&p.model_id, &p.model_name, &p.stereo_mode, &p.preset_name),
            sliders: SliderStore::new(p.slider_positions.as_deref()),
            n_components: p.n_components,
            seed: Seed::new(&p.seed.unwrap_or_else(|| Number::from(0))),
            duration_s: p.duration_s,
            sample_rate: p.sample_rate,
            quality_score: p.quality_score,
            rare: None,
            time: time_us.unwrap_or(NO_TIME),
            entry_id: p.entry_id,
        };
        e.set_timestamp(&p.timestamp);
        e.set_files(p.audio_file, p.thumbnail_file);
        e.set_latent_vector(p.latent_vector);
        e
    }

    /// Microseconds since the epoch (UTC) parsed from `timestamp`; `None` when unparseable.
    pub fn time_us(&self) -> Option<i64> {
        (self.time != NO_TIME).then_some(self.time)
    }

    /// `None` for `null`.
    pub fn slider_positions(&self) -> Option<Sliders<'_>> {
        self.sliders.get()
    }

    fn rare(&self) -> Option<&Rare> {
        self.rare.as_deref()
    }

    /// Changes what the entry holds apart, holding nothing when it is all
    /// the default.
    fn set_rare(&mut self, f: impl FnOnce(&mut Rare)) {
        match &mut self.rare {
            Some(r) => {
                f(r);
                if r.is_empty() {
                    self.rare = None;
                }
            }
            None => {
                let mut r = Rare::default();
                f(&mut r);
                if !r.is_empty() {
                    self.rare = Some(Box::new(r));
                }
            }
        }
    }

    fn set_timestamp(&mut self, text: &str) {
        let mut buf = [0u8; 32];
        let derived = self
            .time_us()
            .and_then(|t| timestamp_into(t, &mut buf))
            .is_some_and(|t| t == text.as_bytes());
        self.set_rare(|r| r.timestamp = (!derived).then(|| text.into()));
    }

    fn set_files(&mut self, audio: String, thumbnail: String) {
        let id = &self.entry_id;
        let files = (!(is_default(id, FileField::Audio, &audio)
            && is_default(id, FileField::Thumbnail, &thumbnail)))
        .then_some(Files { audio, thumbnail });
        self.set_rare(|r| r.files = files);
    }

    fn stored_timestamp(&self) -> Option<&str> {
        self.rare().and_then(|r| r.timestamp.as_deref())
    }

    fn files(&self) -> Option<&Files> {
        self.rare().and_then(|r| r.files.as_ref())
    }

    pub fn latent_vector(&self) -> Option<&[f64]> {
        self.rare().and_then(|r| r.latent_vector.as_deref())
    }

    pub(crate) fn set_latent_vector(&mut self, v: Option<Vec<f64>>) {
        self.set_rare(|r| r.latent_vector = v.map(Vec::into_boxed_slice));
    }

    /// Fields of the entry genhist does not know, in file order.
    pub fn extra(&self) -> &Map<String, Value> {
        match self.rare() {
            Some(r) => &r.extra,
            None => &NO_EXTRA,
        }
    }

    /// ISO 8601 text exactly as stored.
    pub fn timestamp(&self) -> Cow<'_, str> {
        match self.stored_timestamp() {
            Some(t) => Cow::Borrowed(t),
            None => Cow::Owned(
                self.time_us()
                    .and_then(format_timestamp_us)
                    .unwrap_or_default(),
            ),
        }
    }

    /// The order of two entries' timestamp texts (without making either
    /// when both follow from their times).
    pub(crate) fn timestamp_cmp(&self, other: &HistoryEntry) -> std::cmp::Ordering {
        match (self.stored_timestamp(), other.stored_timestamp()) {
            (None, None) => self.time.cmp(&other.time),
            _ => self.timestamp().cmp(&other.timestamp()),
        }
    }

    /// The same for entries that share their set of names (model id and
    /// name, stereo mode, preset): a few sets for a million takes. Entries
    /// with alike names may still differ here (each parsing thread keeps
    /// its own sets).
    pub(crate) fn names_key(&self) -> usize {
        std::sync::Arc::as_ptr(&self.names) as usize
    }

    pub fn model_id(&self) -> &str {
        &self.names.model_id
    }

    pub fn model_name(&self) -> &str {
        &self.names.model_name
    }

    pub fn stereo_mode(&self) -> &str {
        &self.names.stereo_mode
    }

    pub fn preset_name(&self) -> &str {
        &self.names.preset_name
    }

    /// Kept as a JSON number so Python's unbounded integers survive.
    pub fn seed(&self) -> Number {
        match &self.seed {
            Seed::Int(i) => Number::from(*i),
            Seed::Text(t) => serde_json::from_str(t).unwrap_or_else(|_| Number::from(0)),
        }
    }

    /// The seed when it is an integer that fits an `i64` (most are), without
    /// making its text.
    pub(crate) fn seed_int(&self) -> Option<i64> {
        match self.seed {
            Seed::Int(i) => Some(i),
            Seed::Text(_) => None,
        }
    }

    /// The seed's JSON number text.
    pub fn seed_text(&self) -> Cow<'_, str> {
        match &self.seed {
            Seed::Int(i) => Cow::Owned(i.to_string()),
            Seed::Text(t) => Cow::Borrowed(t),
        }
    }

    pub fn audio_file(&self) -> Cow<'_, str> {
        match self.files() {
            Some(f) => Cow::Borrowed(&f.audio),
            None => Cow::Owned(default_path(&self.entry_id, FileField::Audio)),
        }
    }

    pub fn thumbnail_file(&self) -> Cow<'_, str> {
        match self.files() {
            Some(f) => Cow::Borrowed(&f.thumbnail),
            None => Cow::Owned(default_path(&self.entry_id, FileField::Thumbnail)),
        }
    }

    /// The entry's audio and thumbnail paths when they are not both the
    /// default ones.
    pub(crate) fn custom_files(&self) -> Option<(&str, &str)> {
        self.files()
            .map(|f| (f.audio.as_str(), f.thumbnail.as_str()))
    }

    /// Points the entry's audio file elsewhere (tests of the path rules).
    #[doc(hidden)]
    pub fn set_audio_file(&mut self, rel: &str) {
        let thumbnail = self.thumbnail_file().into_owned();
        self.set_files(rel.to_string(), thumbnail);
    }

    /// The JSON object the Python tool would write for this entry (known fields in
    /// dataclass order, then the unknown ones).
    pub(crate) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("entry_id".into(), Value::String(self.entry_id.clone()));
        m.insert(
            "timestamp".into(),
            Value::String(self.timestamp().into_owned()),
        );
        m.insert(
            "model_id".into(),
            Value::String(self.model_id().to_string()),
        );
        m.insert(
            "model_name".into(),
            Value::String(self.model_name().to_string()),
        );
        m.insert(
            "slider_positions".into(),
            match self.slider_positions() {
                Some(v) => Value::Array(v.iter().map(Value::from).collect()),
                None => Value::Null,
            },
        );
        m.insert("n_components".into(), Value::from(self.n_components));
        m.insert("seed".into(), Value::Number(self.seed()));
        m.insert("duration_s".into(), float_value(self.duration_s));
        m.insert("sample_rate".into(), Value::from(self.sample_rate));
        m.insert(
            "stereo_mode".into(),
            Value::String(self.stereo_mode().to_string()),
        );
        m.insert(
            "preset_name".into(),
            Value::String(self.preset_name().to_string()),
        );
        m.insert(
            "audio_file".into(),
            Value::String(self.audio_file().into_owned()),
        );
        m.insert(
            "thumbnail_file".into(),
            Value::String(self.thumbnail_file().into_owned()),
        );
        m.insert(
            "quality_score".into(),
            Value::Object(self.quality_score.map()),
        );
        m.insert(
            "latent_vector".into(),
            match self.latent_vector() {
                Some(v) => Value::Array(v.iter().map(|x| float_value(*x)).collect()),
                None => Value::Null,
            },
        );
        for (k, v) in self.extra() {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }

    /// The short id shown in lists (its first 8 columns).
    pub(crate) fn short_id(&self) -> &str {
        crate::text::short_id(&self.entry_id)
    }
}

/// A float as Python would write it: integral values keep a `.0`; `NaN` and
/// the infinities as markers the JSON writers turn back into those tokens.
fn float_value(x: f64) -> Value {
    super::pyjson::float_value(x)
}

/// A float field: a JSON number, or the marker of `NaN`/`Infinity`/`-Infinity`
/// (see `nonfinite`), as Python's `json.load` reads them.
struct PyF64(f64);

impl<'de> Deserialize<'de> for PyF64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'a> Visitor<'a> for V {
            type Value = PyF64;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PyF64, E> {
                Ok(PyF64(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PyF64, E> {
                Ok(PyF64(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PyF64, E> {
                Ok(PyF64(v as f64))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PyF64, E> {
                super::nonfinite::as_f64(&Value::String(v.to_string()))
                    .map(PyF64)
                    .ok_or_else(|| E::invalid_type(de::Unexpected::Str(v), &self))
            }
            fn visit_map<A: MapAccess<'a>>(self, map: A) -> Result<PyF64, A::Error> {
                // serde_json's arbitrary-precision numbers arrive as a map.
                let n: Number =
                    Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
                n.as_f64()
                    .map(PyF64)
                    .ok_or_else(|| de::Error::custom("number out of range"))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for HistoryEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EntryVisitor)
    }
}

struct EntryVisitor;

fn missing<E: de::Error>(name: &str) -> E {
    E::custom(format_args!("missing field `{name}`"))
}

impl<'de> Visitor<'de> for EntryVisitor {
    type Value = HistoryEntry;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a history entry object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HistoryEntry, A::Error> {
        let mut entry_id = None;
        let mut timestamp = None;
        let mut model_id = None;
        let mut model_name = None;
        let mut slider_positions = None;
        let mut n_components = None;
        let mut seed = None;
        let mut duration_s = None;
        let mut sample_rate = None;
        let mut stereo_mode = None;
        let mut preset_name = None;
        let mut audio_file = None;
        let mut thumbnail_file = None;
        let mut quality_score = None;
        let mut latent_vector = None;
        let mut extra = Map::new();
        while let Some(Field(key)) = map.next_key::<Field<'de>>()? {
            match key.as_ref() {
                "entry_id" => entry_id = Some(map.next_value::<String>()?),
                "timestamp" => timestamp = Some(map.next_value::<String>()?),
                "model_id" => model_id = Some(map.next_value::<Field<'de>>()?.0),
                "model_name" => model_name = Some(map.next_value::<Field<'de>>()?.0),
                "slider_positions" => {
                    slider_positions = Some(map.next_value::<Option<Vec<i64>>>()?)
                }
                "n_components" => n_components = Some(map.next_value::<i64>()?),
                "seed" => seed = Some(map.next_value::<Number>()?),
                "duration_s" => duration_s = Some(map.next_value::<PyF64>()?.0),
                "sample_rate" => sample_rate = Some(map.next_value::<u32>()?),
                "stereo_mode" => stereo_mode = Some(map.next_value::<Field<'de>>()?.0),
                "preset_name" => preset_name = Some(map.next_value::<Field<'de>>()?.0),
                "audio_file" => audio_file = Some(map.next_value::<String>()?),
                "thumbnail_file" => thumbnail_file = Some(map.next_value::<String>()?),
                "quality_score" => {
                    let raw: Option<Box<RawValue>> = map.next_value()?;
                    quality_score = Some(raw.map(|r| QualityScore::from_json(r.get())));
                }
                "latent_vector" => {
                    let v = map.next_value::<Option<Vec<PyF64>>>()?;
                    latent_vector =
                        Some(v.map(|v| v.into_iter().map(|x| x.0).collect::<Box<[f64]>>()));
                }
                other => {
                    let v: Value = map.next_value()?;
                    extra.insert(other.to_string(), v);
                }
            }
        }
        let timestamp = timestamp.ok_or_else(|| missing("timestamp"))?;
        let time_us = parse_timestamp_us(&timestamp);
        let model_id = model_id.ok_or_else(|| missing("model_id"))?;
        let model_name = model_name.ok_or_else(|| missing("model_name"))?;
        let mut e = HistoryEntry {
            entry_id: entry_id.ok_or_else(|| missing("entry_id"))?,
            names: names(
                &model_id,
                &model_name,
                stereo_mode.as_deref().unwrap_or("mono"),
                preset_name.as_deref().unwrap_or("custom"),
            ),
            sliders: SliderStore::new(slider_positions.flatten().as_deref()),
            n_components: n_components.unwrap_or(0),
            seed: Seed::new(&seed.unwrap_or_else(|| Number::from(0))),
            duration_s: duration_s.unwrap_or(0.0),
            sample_rate: sample_rate.unwrap_or(0),
            quality_score: quality_score.flatten().unwrap_or_default(),
            rare: None,
            time: time_us.unwrap_or(NO_TIME),
        };
        e.set_rare(|r| {
            r.latent_vector = latent_vector.flatten();
            r.extra = extra.into();
        });
        e.set_timestamp(&timestamp);
        e.set_files(
            audio_file.ok_or_else(|| missing("audio_file"))?,
            thumbnail_file.unwrap_or_default(),
        );
        Ok(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An entry's JSON text with these field values.
    fn entry_text(
        id: &str,
        ts: &str,
        seed: &str,
        audio: &str,
        thumb: &str,
        quality: &str,
    ) -> String {
        format!(
            r#"{{"entry_id": {id:?}, "timestamp": {ts:?}, "model_id": "m", "model_name": "M",
            "slider_positions": [1, -2], "n_components": 2, "seed": {seed}, "duration_s": 1.5,
            "sample_rate": 48000, "stereo_mode": "mono", "preset_name": "custom",
            "audio_file": {audio:?}, "thumbnail_file": {thumb:?}, "quality_score": {quality},
            "latent_vector": null}}"#
        )
    }

    #[test]
    fn compact_fields_give_back_the_stored_text() {
        let id = "ade0290e-390e-45f4-ba05-3427d9d4ac43";
        let cases = [
            // Defaults: nothing stored but the id.
            (
                "2026-12-06T14:57:09.455570+00:00",
                "437719112",
                "audio/ID.wav",
                "thumbnails/ID.png",
            ),
            (
                "2026-12-06T14:57:09+00:00",
                "-5",
                "audio/ID.wav",
                "thumbnails/ID.png",
            ),
            // Stored as they are.
            (
                "2026-12-06T14:57:09.455570Z",
                "123456789012345678901234567890",
                "audio/x.wav",
                "thumbnails/ID.png",
            ),
            (
                "2026-12-06T16:57:09.455570+02:00",
                "2.5",
                "audio/ID.wav",
                "",
            ),
            (
                "2026-12-06 14:57:09",
                "18446744073709551615",
                "audio/ID.wav.wav",
                "thumbnails/ID.PNG",
            ),
            ("not a time", "0", "audio//ID.wav", "thumbnails/ID.png"),
            (
                "2026-12-06T14:57:09.000000+00:00",
                "9223372036854775808",
                "audio/ID.wav",
                "thumbnails/ID.png",
            ),
        ];
        for (ts, seed, audio, thumb) in cases {
            let (audio, thumb) = (audio.replace("ID", id), thumb.replace("ID", id));
            let text = entry_text(
                id,
                ts,
                seed,
                &audio,
                &thumb,
                r#"{"a": {"b": [1, "x:\"}"]}, "c": true}"#,
            );
            let e: HistoryEntry = serde_json::from_str(&text).unwrap();
            assert_eq!(e.timestamp(), ts);
            assert_eq!(e.seed_text(), seed);
            assert_eq!(e.seed().as_str(), seed);
            assert_eq!(e.audio_file(), audio);
            assert_eq!(e.thumbnail_file(), thumb);
            assert_eq!(e.quality_score.raw(), r#"{"a":{"b":[1,"x:\"}"]},"c":true}"#);
            let back: HistoryEntry = serde_json::from_value(e.to_json()).unwrap();
            assert_eq!(back, e, "{ts} {seed} {audio} {thumb}");
        }
    }

    #[test]
    fn sliders_give_back_the_stored_list() {
        for list in [
            "null",
            "[]",
            "[1, -2, 0]",
            "[127, -128, 1, 2, 3, 4, 5]",
            "[1, 2, 3, 4, 5, 6, 7, 8]",
            "[-8, 7, 0, -1, 1, -3, 3, 2, -2, 4, -4, 5, -5, 6]",
            "[-8, 7, 0, -1, 1, -3, 3, 2, -2, 4, -4, 5, -5, 6, 0]",
            "[8, -9, 1]",
            "[128]",
            "[-129, 0]",
            "[9223372036854775807, -9223372036854775808]",
        ] {
            let text = entry_text("x", "2026-12-06T14:57:09+00:00", "1", "a", "b", "{}")
                .replace("[1, -2]", list);
            let e: HistoryEntry = serde_json::from_str(&text).unwrap();
            let want: Value = serde_json::from_str(list).unwrap();
            assert_eq!(e.to_json()["slider_positions"], want, "{list}");
            let got = e.slider_positions().map(|s| s.to_vec());
            assert_eq!(got, serde_json::from_str::<Option<Vec<i64>>>(list).unwrap());
            assert_eq!(format!("{:?}", e.slider_positions()), format!("{:?}", got));
        }
    }

    proptest! {
        #[test]
        fn sliders_held_in_any_form_come_back(
            v in prop::option::of(prop::collection::vec(
                prop_oneof![-8i64..=7, -128i64..=127, any::<i64>()],
                0..20,
            ))
        ) {
            let s = SliderStore::new(v.as_deref());
            prop_assert_eq!(s.get().map(|s| s.to_vec()), v.clone());
            if let Some(v) = &v {
                let got = s.get().unwrap();
                prop_assert_eq!(got.len(), v.len());
                prop_assert_eq!(got.get(v.len()), None);
            }
        }
    }

    #[test]
    fn names_are_shared_and_kept_apart() {
        let a = names("m", "M", "mono", "custom");
        let b = names("m", "M", "mono", "custom");
        let c = names("m", "M", "mono", "warm");
        assert!(std::sync::Arc::ptr_eq(&a, &b));
        assert_eq!(c.preset_name.as_ref(), "warm");
        assert!(!std::sync::Arc::ptr_eq(&a, &c));
    }

    fn json_leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1e12f64..1e12).prop_map(|f| serde_json::json!(f)),
            "[ -~]{0,8}|\\PC{0,4}".prop_map(Value::String),
        ]
    }

    proptest! {
        #[test]
        fn quality_scores_come_back_exactly(v in json_leaf().prop_recursive(3, 24, 4, |inner| prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[ -~]{0,6}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ])) {
            let m = match v { Value::Object(m) => m, other => {
                let mut m = Map::new();
                m.insert("v".into(), other);
                m
            }};
            let pretty = serde_json::to_string_pretty(&m).unwrap();
            let q = QualityScore::from_json(&pretty);
            let compact = serde_json::to_string(&m).unwrap();
            prop_assert_eq!(q.raw(), compact.clone());
            prop_assert_eq!(q.map(), m.clone());
            for (key, _) in leaves(&Value::Object(m)) {
                let (a, b) = (q.number_at(&key), super::super::scan::number_at(&compact, &key));
                prop_assert!(a == b || a.is_some_and(f64::is_nan) && b.is_some_and(f64::is_nan), "{key}");
            }
        }
    }
}

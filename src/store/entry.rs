//! One history entry: the seed's `HistoryEntry` fields, parsed leniently, with
//! every field genhist does not know kept so a rewrite never loses it.

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
#[derive(Debug, Clone)]
pub struct QualityScore(Box<RawValue>);

impl QualityScore {
    /// The scores as a JSON object (empty when stored as something else).
    pub fn map(&self) -> Map<String, Value> {
        match serde_json::from_str(self.0.get()) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    pub(crate) fn from_map(m: &Map<String, Value>) -> QualityScore {
        let text = serde_json::to_string(m).unwrap_or_else(|_| "{}".into());
        QualityScore(RawValue::from_string(text).unwrap_or_else(|_| empty_raw()))
    }

    pub fn raw(&self) -> &str {
        self.0.get()
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

fn empty_raw() -> Box<RawValue> {
    RawValue::from_string("{}".into()).expect("valid JSON")
}

impl Default for QualityScore {
    fn default() -> QualityScore {
        QualityScore(empty_raw())
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
pub struct Extra(Option<Box<Map<String, Value>>>);

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

/// A parameter snapshot of one generation, as stored in `history.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    pub entry_id: String,
    /// ISO 8601 text exactly as stored.
    pub timestamp: String,
    pub model_id: Shared,
    pub model_name: Shared,
    pub slider_positions: Option<Vec<i64>>,
    pub n_components: i64,
    /// Kept as a JSON number so Python's unbounded integers survive.
    pub seed: Number,
    pub duration_s: f64,
    pub sample_rate: u32,
    pub stereo_mode: Shared,
    pub preset_name: Shared,
    pub audio_file: String,
    pub thumbnail_file: String,
    /// Kept as its JSON text; most screens never look inside.
    pub quality_score: QualityScore,
    pub latent_vector: Option<Vec<f64>>,
    /// Fields of the entry genhist does not know, in file order.
    pub extra: Extra,
    /// Microseconds since the epoch (UTC) parsed from `timestamp`; `None` when unparseable.
    pub time_us: Option<i64>,
}

impl HistoryEntry {
    /// The JSON object the Python tool would write for this entry (known fields in
    /// dataclass order, then the unknown ones).
    pub(crate) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("entry_id".into(), Value::String(self.entry_id.clone()));
        m.insert("timestamp".into(), Value::String(self.timestamp.clone()));
        m.insert("model_id".into(), Value::String(self.model_id.to_string()));
        m.insert(
            "model_name".into(),
            Value::String(self.model_name.to_string()),
        );
        m.insert(
            "slider_positions".into(),
            match &self.slider_positions {
                Some(v) => Value::Array(v.iter().map(|x| Value::from(*x)).collect()),
                None => Value::Null,
            },
        );
        m.insert("n_components".into(), Value::from(self.n_components));
        m.insert("seed".into(), Value::Number(self.seed.clone()));
        m.insert("duration_s".into(), float_value(self.duration_s));
        m.insert("sample_rate".into(), Value::from(self.sample_rate));
        m.insert(
            "stereo_mode".into(),
            Value::String(self.stereo_mode.to_string()),
        );
        m.insert(
            "preset_name".into(),
            Value::String(self.preset_name.to_string()),
        );
        m.insert("audio_file".into(), Value::String(self.audio_file.clone()));
        m.insert(
            "thumbnail_file".into(),
            Value::String(self.thumbnail_file.clone()),
        );
        m.insert(
            "quality_score".into(),
            Value::Object(self.quality_score.map()),
        );
        m.insert(
            "latent_vector".into(),
            match &self.latent_vector {
                Some(v) => Value::Array(v.iter().map(|x| float_value(*x)).collect()),
                None => Value::Null,
            },
        );
        for (k, v) in self.extra.iter() {
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

/// Parses an ISO 8601 timestamp as Python's `isoformat()` writes it (with or
/// without fractional seconds, any offset, or naive = UTC) to epoch microseconds.
pub(crate) fn parse_timestamp_us(s: &str) -> Option<i64> {
    if let Some(t) = fast_iso_us(s.as_bytes()) {
        return Some(t);
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_micros());
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(n.and_utc().timestamp_micros());
        }
    }
    // `2024-01-01 10:00:00+00:00` (space separator with offset).
    chrono::DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z")
        .ok()
        .map(|d| d.timestamp_micros())
}

/// The common shapes (`2024-05-01T10:00:00[.ffffff][+02:00|Z]`) without chrono's
/// general parser; `None` sends anything else (and leap seconds) to chrono.
fn fast_iso_us(b: &[u8]) -> Option<i64> {
    fn num(b: &[u8]) -> Option<i64> {
        b.iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    }
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (h, mi, sec) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo) || d < 1 || d > month_days[(mo - 1) as usize] {
        return None;
    }
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let mut rest = &b[19..];
    let mut micros = 0;
    if let Some((b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        let mut scaled = num(&frac[..n])?;
        for _ in n..6 {
            scaled *= 10;
        }
        for _ in 6..n {
            scaled /= 10;
        }
        micros = scaled;
        rest = &frac[n..];
    }
    let offset_s = match rest {
        [] | [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), oh @ .., b':', om1, om2] if oh.len() == 2 => {
            let (oh, om) = (num(oh)?, num(&[*om1, *om2])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_s;
    Some(secs * 1_000_000 + micros)
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
                "model_id" => model_id = Some(shared(map.next_value::<Field<'de>>()?.0.as_ref())),
                "model_name" => {
                    model_name = Some(shared(map.next_value::<Field<'de>>()?.0.as_ref()))
                }
                "slider_positions" => {
                    slider_positions = Some(map.next_value::<Option<Vec<i64>>>()?)
                }
                "n_components" => n_components = Some(map.next_value::<i64>()?),
                "seed" => seed = Some(map.next_value::<Number>()?),
                "duration_s" => duration_s = Some(map.next_value::<PyF64>()?.0),
                "sample_rate" => sample_rate = Some(map.next_value::<u32>()?),
                "stereo_mode" => {
                    stereo_mode = Some(shared(map.next_value::<Field<'de>>()?.0.as_ref()))
                }
                "preset_name" => {
                    preset_name = Some(shared(map.next_value::<Field<'de>>()?.0.as_ref()))
                }
                "audio_file" => audio_file = Some(map.next_value::<String>()?),
                "thumbnail_file" => thumbnail_file = Some(map.next_value::<String>()?),
                "quality_score" => {
                    let raw: Option<Box<RawValue>> = map.next_value()?;
                    quality_score = Some(raw.map(QualityScore));
                }
                "latent_vector" => {
                    let v = map.next_value::<Option<Vec<PyF64>>>()?;
                    latent_vector = Some(v.map(|v| v.into_iter().map(|x| x.0).collect()));
                }
                other => {
                    let v: Value = map.next_value()?;
                    extra.insert(other.to_string(), v);
                }
            }
        }
        let timestamp = timestamp.ok_or_else(|| missing("timestamp"))?;
        let time_us = parse_timestamp_us(&timestamp);
        Ok(HistoryEntry {
            entry_id: entry_id.ok_or_else(|| missing("entry_id"))?,
            timestamp,
            model_id: model_id.ok_or_else(|| missing("model_id"))?,
            model_name: model_name.ok_or_else(|| missing("model_name"))?,
            slider_positions: slider_positions.unwrap_or(None),
            n_components: n_components.unwrap_or(0),
            seed: seed.unwrap_or_else(|| Number::from(0)),
            duration_s: duration_s.unwrap_or(0.0),
            sample_rate: sample_rate.unwrap_or(0),
            stereo_mode: stereo_mode.unwrap_or_else(|| shared("mono")),
            preset_name: preset_name.unwrap_or_else(|| shared("custom")),
            audio_file: audio_file.ok_or_else(|| missing("audio_file"))?,
            thumbnail_file: thumbnail_file.unwrap_or_default(),
            quality_score: quality_score.flatten().unwrap_or_default(),
            latent_vector: latent_vector.unwrap_or(None),
            extra: extra.into(),
            time_us,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What chrono alone makes of a timestamp (the reference for the fast path).
    fn chrono_us(s: &str) -> Option<i64> {
        if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
            return Some(dt.timestamp_micros());
        }
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .map(|n| n.and_utc().timestamp_micros())
    }

    #[test]
    fn fast_timestamps_match_chrono() {
        for s in [
            "2024-01-01T10:00:00+00:00",
            "2024-01-01T10:00:00.123456+00:00",
            "2024-02-29T23:59:59.5-07:30",
            "1969-12-31T23:59:59.999999Z",
            "2000-03-01T00:00:00.123456789+14:00",
            "2024-06-01T12:00:00",
            "2024-06-01T12:00:00.25",
        ] {
            assert_eq!(fast_iso_us(s.as_bytes()), chrono_us(s), "{s}");
            assert!(fast_iso_us(s.as_bytes()).is_some(), "{s}");
        }
        for s in [
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
        ] {
            assert_eq!(fast_iso_us(s.as_bytes()), None, "{s}");
            assert_eq!(parse_timestamp_us(s), chrono_us(s), "{s}");
        }
    }

    proptest! {
        #[test]
        fn fast_path_agrees_with_chrono(y in 1000i64..3000, mo in 1u32..13, d in 1u32..32,
                                        h in 0u32..24, mi in 0u32..60, s in 0u32..60,
                                        frac in prop::option::of(0u32..1_000_000),
                                        off in prop::option::of(-23i32 * 60..23 * 60)) {
            let mut t = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
            if let Some(f) = frac { t.push_str(&format!(".{f:06}")); }
            if let Some(o) = off {
                let sign = if o < 0 { '-' } else { '+' };
                t.push_str(&format!("{sign}{:02}:{:02}", o.abs() / 60, o.abs() % 60));
            }
            if let Some(fast) = fast_iso_us(t.as_bytes()) {
                prop_assert_eq!(Some(fast), chrono_us(&t), "{}", t);
            } else {
                prop_assert_eq!(chrono_us(&t), None, "{}", t);
            }
        }
    }
}

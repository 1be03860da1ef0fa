//! What genhist keeps about takes for the user (rating, reject flag, tags,
//! note): `DIR/.genhist/annotations.json`, `{"version": 1, "takes": {id:
//! {...}}}`, written atomically under the directory lock. Never in
//! `history.json`: the seed's Python store refuses an index with fields it
//! does not know (and would then erase every take on its next save).
//!
//! A file genhist cannot read or parse is never written over: changes are
//! refused with a message saying why, and the takes stay browsable.

use super::dir::GENHIST_DIR;
use super::error::StoreError;
use super::txn::Txn;
use crate::fsutil::{self, Dir};
use serde_json::{Map, Value};
use std::io::Read;
use std::path::{Path, PathBuf};

const ANNOTATIONS_FILE: &str = "annotations.json";

/// One take's annotation as genhist uses it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Annotation {
    /// 0 (none) to 5.
    #[serde(default)]
    pub rating: u8,
    #[serde(default)]
    pub rejected: bool,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub note: String,
}

impl Annotation {
    /// Like [`Annotation::summary`], with the note whole.
    pub(crate) fn summary_full(&self) -> String {
        self.describe(usize::MAX)
    }

    /// In words, for people: `★★★★☆  ✗ rejected  #keep #bass  “note”`
    /// (tags and note sanitized, the note cut at 60 columns), `-` for none.
    pub(crate) fn summary(&self) -> String {
        self.describe(60)
    }

    fn describe(&self, note_w: usize) -> String {
        use crate::text::{sanitize, stars, truncate};
        let mut parts = Vec::new();
        if self.rating > 0 {
            parts.push(stars(self.rating));
        }
        if self.rejected {
            parts.push("✗ rejected".into());
        }
        if !self.tags.is_empty() {
            parts.push(format!("#{}", sanitize(&self.tags.join(" #"))));
        }
        if !self.note.is_empty() {
            parts.push(format!("“{}”", sanitize(&truncate(&self.note, note_w))));
        }
        if parts.is_empty() {
            "-".into()
        } else {
            parts.join("  ")
        }
    }

    /// The list's KEEP column: `✗` for a reject, else the stars, else nothing.
    pub fn mark(&self) -> String {
        if self.rejected {
            "✗".into()
        } else if self.rating > 0 {
            crate::text::stars(self.rating)
        } else {
            String::new()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.rating == 0 && !self.rejected && self.tags.is_empty() && self.note.is_empty()
    }
}

/// A change of takes' annotations.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// 0 (none) to 5.
    Rate(u8),
    Reject(bool),
    ToggleReject,
    Tags {
        add: Vec<String>,
        remove: Vec<String>,
    },
    /// An empty note removes it.
    Note(String),
}

impl Edit {
    /// What the edit makes of `a`.
    pub(crate) fn applied_to(&self, a: &Annotation) -> Annotation {
        let mut a = a.clone();
        match self {
            Edit::Rate(n) => a.rating = (*n).min(5),
            Edit::Reject(on) => a.rejected = *on,
            Edit::ToggleReject => a.rejected = !a.rejected,
            Edit::Tags { add, remove } => {
                a.tags.retain(|t| !remove.contains(t));
                for t in add {
                    if !a.tags.contains(t) {
                        a.tags.push(t.clone());
                    }
                }
            }
            Edit::Note(n) => a.note = n.clone(),
        }
        a
    }
}

/// Every take's annotation, by id (what filters and sorts look at).
pub type Annotations = std::collections::HashMap<String, Annotation>;

/// The annotations of every take, as stored (fields genhist does not know
/// are kept).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnnotationFile {
    /// id → the take's annotation object.
    pub takes: Map<String, Value>,
    /// Other top-level members, kept as they are.
    rest: Map<String, Value>,
}

/// A take's annotation read member by member: a member genhist cannot
/// read (`"rating": "4"`) counts as absent here and is kept as it is in the
/// file; the others are read as usual.
fn lenient(v: &Value) -> Annotation {
    let Value::Object(m) = v else {
        return Annotation::default();
    };
    Annotation {
        rating: m
            .get("rating")
            .and_then(Value::as_u64)
            .filter(|n| *n <= 5)
            .map_or(0, |n| n as u8),
        rejected: m.get("rejected").and_then(Value::as_bool).unwrap_or(false),
        tags: match m.get("tags") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        },
        note: m
            .get("note")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    }
}

impl AnnotationFile {
    /// The take `id`'s annotation (members genhist cannot read count as
    /// absent).
    pub fn of(&self, id: &str) -> Annotation {
        self.takes.get(id).map(lenient).unwrap_or_default()
    }

    /// Applies `edit` to the take `id`: only the member the edit is about
    /// is written, every other member (known or not, readable or not) is
    /// kept as it is; a take left with nothing is dropped from the file.
    /// Returns whether anything changed.
    pub fn apply(&mut self, id: &str, edit: &Edit) -> bool {
        if self.refuses(id, edit).is_some() {
            return false;
        }
        let before = self.of(id);
        let after = edit.applied_to(&before);
        let mut obj = match self.takes.get(id) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        };
        let (key, value, empty): (&str, Value, bool) = match edit {
            Edit::Rate(_) => ("rating", after.rating.into(), after.rating == 0),
            Edit::Reject(_) | Edit::ToggleReject => {
                ("rejected", after.rejected.into(), !after.rejected)
            }
            Edit::Tags { .. } => (
                "tags",
                Value::from(after.tags.clone()),
                after.tags.is_empty(),
            ),
            Edit::Note(_) => ("note", after.note.clone().into(), after.note.is_empty()),
        };
        let old = obj.get(key).cloned();
        // Tags genhist cannot read (not text) are kept, after the others.
        let value = match (value, &old) {
            (Value::Array(mut tags), Some(Value::Array(was))) => {
                tags.extend(was.iter().filter(|t| !t.is_string()).cloned());
                Value::Array(tags)
            }
            (v, _) => v,
        };
        let empty = empty && value.as_array().is_none_or(|a| a.is_empty());
        if empty {
            obj.remove(key);
        } else {
            obj.insert(key.into(), value);
        }
        if obj.get(key) == old.as_ref() {
            return false;
        }
        if obj.is_empty() {
            self.takes.remove(id);
        } else {
            self.takes.insert(id.to_string(), Value::Object(obj));
        }
        true
    }

    /// A take as JSON: its stored fields, plus an `annotations` member when it
    /// has any: `rating`, `rejected`, `tags` and `note` always (defaults when
    /// not set), and any other member the annotations file holds for it.
    pub fn entry_json(&self, e: &crate::store::HistoryEntry) -> Value {
        let mut v = e.to_json();
        if let (Value::Object(m), Some(stored)) = (&mut v, self.takes.get(&e.entry_id)) {
            let mut a = match stored {
                Value::Object(o) => o.clone(),
                _ => serde_json::Map::new(),
            };
            let typed = self.of(&e.entry_id);
            a.insert("rating".into(), typed.rating.into());
            a.insert("rejected".into(), typed.rejected.into());
            a.insert("tags".into(), typed.tags.into());
            a.insert("note".into(), typed.note.into());
            m.insert("annotations".into(), Value::Object(a));
        }
        v
    }

    /// Why `edit` would write over something of the take `id` genhist cannot
    /// read (another program's data), if it would: the take is not a JSON
    /// object, or the member the edit is about is of another kind (tags
    /// that are not a list, a note that is not text, a rating that is not a
    /// number, ...). Such an edit is refused; nothing is changed.
    pub fn refuses(&self, id: &str, edit: &Edit) -> Option<String> {
        let shown = || crate::text::sanitize(crate::text::short_id(id)).into_owned();
        let obj = match self.takes.get(id) {
            None => return None,
            Some(Value::Object(m)) => m,
            Some(_) => {
                return Some(format!(
                    "the annotations of {} in annotations.json are not a JSON object; \
                     genhist does not write over them",
                    shown()
                ))
            }
        };
        let (key, fits): (&str, fn(&Value) -> bool) = match edit {
            Edit::Rate(_) => ("rating", |v| v.is_number() || v.is_string() || v.is_null()),
            Edit::Reject(_) | Edit::ToggleReject => ("rejected", |v| v.is_boolean() || v.is_null()),
            Edit::Tags { .. } => ("tags", |v| v.is_array() || v.is_null()),
            Edit::Note(_) => ("note", |v| v.is_string() || v.is_null()),
        };
        match obj.get(key) {
            Some(v) if !fits(v) => Some(format!(
                "the {key} of {} in annotations.json is not what genhist writes ({}); \
                 genhist does not write over it",
                shown(),
                crate::text::sanitize(&crate::text::truncate(&v.to_string(), 40))
            )),
            _ => None,
        }
    }

    /// The typed annotations (members genhist cannot read count as absent).
    pub fn typed(&self) -> Annotations {
        self.takes
            .iter()
            .map(|(id, v)| (id.clone(), lenient(v)))
            .filter(|(_, a)| !a.is_empty())
            .collect()
    }
}

/// The largest annotations file genhist reads: a million takes, each with
/// a rating, tags and a line of note, are far below it.
const MAX_FILE_BYTES: u64 = 256 << 20;

/// Where the annotations of the history in `dir` are.
pub fn path_of(dir: &Path) -> PathBuf {
    dir.join(GENHIST_DIR).join(ANNOTATIONS_FILE)
}

fn corrupt(path: &Path, why: impl std::fmt::Display) -> StoreError {
    StoreError::BadInput(format!(
        "{} cannot be read ({why}); genhist will not change it, fix or remove it",
        path.display()
    ))
}

/// Reads the annotations of the history in `dir` (none when the file is absent).
pub fn load(dir: &Path) -> Result<AnnotationFile, StoreError> {
    let path = path_of(dir);
    let file = Dir::open(dir)
        .and_then(|d| d.sub(GENHIST_DIR))
        .and_then(|g| g.open_regular(ANNOTATIONS_FILE));
    let f = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(AnnotationFile::default()),
        Err(e) => return Err(corrupt(&path, StoreError::io("read", &path, e))),
    };
    let mut text = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| corrupt(&path, e))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(corrupt(
            &path,
            format!(
                "it is larger than {}, far beyond the annotations of any history",
                crate::text::size(MAX_FILE_BYTES)
            ),
        ));
    }
    let text = super::nonfinite::to_markers(&text);
    let v: Value = serde_json::from_slice(&text).map_err(|e| corrupt(&path, e))?;
    let Value::Object(mut top) = v else {
        return Err(corrupt(&path, "not a JSON object"));
    };
    match top.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        other => {
            return Err(corrupt(
                &path,
                format!(
                    "version {} (genhist knows 1)",
                    other.map_or("missing".into(), |v| v.to_string())
                ),
            ))
        }
    }
    let takes = match top.remove("takes") {
        Some(Value::Object(m)) => m,
        None => Map::new(),
        Some(_) => return Err(corrupt(&path, "\"takes\" is not an object")),
    };
    Ok(AnnotationFile { takes, rest: top })
}

/// Writes the annotations atomically (inside a change, under its lock).
fn save(g: &Dir, a: &AnnotationFile) -> Result<(), StoreError> {
    let mut top = a.rest.clone();
    top.insert("version".into(), Value::from(1));
    top.insert("takes".into(), Value::Object(a.takes.clone()));
    let text = super::pyjson::to_output_json(&Value::Object(top));
    let path = g.join(ANNOTATIONS_FILE);
    crate::fault::io_point("annotations-write").map_err(|e| StoreError::io("write", &path, e))?;
    let mut tmp = fsutil::TempFile::create(g, ANNOTATIONS_FILE, None)
        .map_err(|e| StoreError::io("write", &path, e))?;
    tmp.write_with(|w| w.write_all(text.as_bytes()))
        .and_then(|()| tmp.commit(ANNOTATIONS_FILE))
        .map_err(|e| StoreError::io("write", &path, e))
}

/// Changes the annotations inside a change: `edit` gets the current ones;
/// they are written when it returns true.
pub(crate) fn update_in(
    txn: &Txn,
    edit: impl FnOnce(&mut AnnotationFile) -> bool,
) -> Result<(), StoreError> {
    let mut a = load(txn.root().path())?;
    if !edit(&mut a) {
        return Ok(());
    }
    let g = txn.genhist(true)?.expect("created");
    save(&g, &a)
}

/// The annotations of all takes, for a delete to keep with its entries
/// (empty when the file cannot be read).
pub(crate) fn of(txn: &Txn) -> Map<String, Value> {
    load(txn.root().path()).map(|a| a.takes).unwrap_or_default()
}

/// Drops the annotations of deleted takes (they are in the trash batch).
pub(crate) fn forget(txn: &mut Txn, ids: &[String]) {
    let r = update_in(txn, |a| {
        let before = a.takes.len();
        for id in ids {
            a.takes.remove(id);
        }
        a.takes.len() != before
    });
    if let Err(e) = r {
        txn.notes.push(e.to_string());
    }
}

/// Puts restored takes' annotations back.
pub(crate) fn restore(txn: &Txn, back: &[(String, Value)]) -> Result<(), StoreError> {
    if back.is_empty() {
        return Ok(());
    }
    update_in(txn, |a| {
        for (id, v) in back {
            a.takes.insert(id.clone(), v.clone());
        }
        true
    })
}

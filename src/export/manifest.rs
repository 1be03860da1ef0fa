//! `DEST/manifest.json` and `DEST/manifest.csv`: one row per exported file
//! (its name, the take's id, every stored field flattened, its
//! annotations). Exporting again into the same place merges: rows of files
//! written again are replaced, the others kept. Both files are written
//! through a temp file and a rename.

use serde_json::{Map, Value};
use std::path::Path;

pub(crate) const JSON_FILE: &str = "manifest.json";
pub(crate) const CSV_FILE: &str = "manifest.csv";

/// The largest manifest read to merge into (about 100,000 rows); a larger
/// one is not written over (the export says so).
const MAX_BYTES: u64 = 128 << 20;

/// The manifest's row for an exported file.
pub(crate) fn row(
    file: &str,
    stored: &Map<String, Value>,
    annotation: &crate::store::annotations::Annotation,
) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert("file".into(), file.into());
    if let Some(id) = stored.get("entry_id") {
        r.insert("entry_id".into(), id.clone());
    }
    // The annotations are the last four columns, typed.
    for (k, v) in stored {
        if k != "entry_id" && k != "annotations" {
            flatten(&mut r, k, v);
        }
    }
    r.insert("rating".into(), annotation.rating.into());
    r.insert("rejected".into(), annotation.rejected.into());
    r.insert("tags".into(), annotation.tags.clone().into());
    r.insert("note".into(), annotation.note.clone().into());
    r
}

/// Objects become dotted keys (`quality_score.snr_db`); lists and values stay.
fn flatten(out: &mut Map<String, Value>, key: &str, v: &Value) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                flatten(out, &format!("{key}.{k}"), v);
            }
        }
        v => {
            out.insert(key.to_string(), v.clone());
        }
    }
}

/// Reads the manifest in `dest` (none yet: empty). A file genhist cannot
/// read is an error: it is never written over.
pub(crate) fn read(dest: &Path) -> Result<Vec<Map<String, Value>>, String> {
    let path = dest.join(JSON_FILE);
    // Never through a link: it could lead anywhere (the index of a history).
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!(
            "{} is a symlink; the manifest is not written through it",
            path.display()
        ));
    }
    let bytes = match crate::fsutil::read_regular_bounded(&path, MAX_BYTES) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let bytes = crate::store::nonfinite::to_markers(&bytes);
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{} is not a manifest genhist can read ({e}); it was left as it is",
            path.display()
        )
    })?;
    match v.get("files") {
        Some(Value::Array(rows)) => {
            Ok(rows.iter().filter_map(|r| r.as_object().cloned()).collect())
        }
        _ => Err(format!(
            "{} is not a genhist export manifest; it was left as it is",
            path.display()
        )),
    }
}

/// Merges `rows` into the manifest of `dest` (by file name) and writes
/// both files.
pub(crate) fn merge_and_write(
    dest: &Path,
    old: Vec<Map<String, Value>>,
    rows: Vec<Map<String, Value>>,
) -> Result<(), String> {
    let new_files: std::collections::HashSet<String> = rows
        .iter()
        .filter_map(|r| r.get("file").and_then(Value::as_str).map(str::to_string))
        .collect();
    let mut all: Vec<Map<String, Value>> = old
        .into_iter()
        .filter(|r| {
            r.get("file")
                .and_then(Value::as_str)
                .is_none_or(|f| !new_files.contains(f))
        })
        .collect();
    all.extend(rows);
    let doc = serde_json::json!({
        "exported_by": format!("genhist {}", env!("CARGO_PKG_VERSION")),
        "files": all,
    });
    let json = crate::store::pyjson::to_python_json(&doc);
    let path = dest.join(JSON_FILE);
    crate::fsutil::write_file_here(&path, json.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let csv = to_csv(&all)?;
    let path = dest.join(CSV_FILE);
    crate::fsutil::write_file_here(&path, &csv)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The rows as CSV: a column for every key any row has, in first-seen
/// order; lists and other JSON as JSON text.
fn to_csv(rows: &[Map<String, Value>]) -> Result<Vec<u8>, String> {
    let mut columns: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in rows {
        for k in r.keys() {
            if seen.insert(k.clone()) {
                columns.push(k.clone());
            }
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&columns).map_err(|e| e.to_string())?;
    for r in rows {
        let cells: Vec<String> = columns
            .iter()
            .map(|c| match r.get(c) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(v) => crate::store::pyjson::to_compact(v),
            })
            .collect();
        w.write_record(&cells).map_err(|e| e.to_string())?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

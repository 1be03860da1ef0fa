//! The parameters of two takes side by side: only what differs. Identity
//! fields (`entry_id`, `audio_file`, `thumbnail_file`) are left out: they
//! always differ and say nothing about how a take was made.

use crate::store::HistoryEntry;
use serde_json::{Map, Value};

/// Fields that name a take rather than describe it.
const IDENTITY_FIELDS: [&str; 3] = ["entry_id", "audio_file", "thumbnail_file"];

/// The differing fields, each with the two values (`a`'s first), in the
/// entry's field order: what `genhist diff --json` prints.
pub(crate) fn fields(a: &HistoryEntry, b: &HistoryEntry) -> Map<String, Value> {
    let (Value::Object(ma), Value::Object(mb)) = (a.to_json(), b.to_json()) else {
        return Map::new();
    };
    let mut keys: Vec<&String> = ma.keys().collect();
    keys.extend(mb.keys().filter(|k| !ma.contains_key(*k)));
    let mut out = Map::new();
    for k in keys {
        if IDENTITY_FIELDS.contains(&k.as_str()) {
            continue;
        }
        let (va, vb) = (
            ma.get(k).cloned().unwrap_or(Value::Null),
            mb.get(k).cloned().unwrap_or(Value::Null),
        );
        if va != vb {
            out.insert(k.clone(), Value::Array(vec![va, vb]));
        }
    }
    out
}

/// One line of the diff as people read it: sliders position by position,
/// quality scores key by key, everything else field by field.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub label: String,
    pub a: String,
    pub b: String,
}

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".into(),
        Some(v) => crate::store::pyjson::display(v),
    }
}

/// The differing fields as rows for a screen.
pub(crate) fn rows(a: &HistoryEntry, b: &HistoryEntry) -> Vec<Row> {
    let mut out = Vec::new();
    for (field, pair) in fields(a, b) {
        let (va, vb) = (&pair[0], &pair[1]);
        match field.as_str() {
            "slider_positions" => {
                let (sa, sb) = (va.as_array(), vb.as_array());
                let n = sa.map_or(0, Vec::len).max(sb.map_or(0, Vec::len));
                if n == 0 {
                    out.push(Row {
                        label: "sliders".into(),
                        a: text(Some(va)),
                        b: text(Some(vb)),
                    });
                }
                for i in 0..n {
                    let (x, y) = (sa.and_then(|s| s.get(i)), sb.and_then(|s| s.get(i)));
                    if x != y {
                        out.push(Row {
                            label: format!("slider {}", i + 1),
                            a: text(x),
                            b: text(y),
                        });
                    }
                }
            }
            "quality_score" => {
                let named = |v| {
                    crate::store::entry::leaves(v)
                        .into_iter()
                        .map(|(k, v)| (format!("quality.{k}"), v.clone()))
                        .collect::<Vec<_>>()
                };
                let (fa, fb) = (named(va), named(vb));
                let mut keys: Vec<&String> = fa.iter().map(|(k, _)| k).collect();
                keys.extend(
                    fb.iter()
                        .map(|(k, _)| k)
                        .filter(|k| !fa.iter().any(|(x, _)| x == *k)),
                );
                for k in keys {
                    let x = fa.iter().find(|(q, _)| q == k).map(|(_, v)| v);
                    let y = fb.iter().find(|(q, _)| q == k).map(|(_, v)| v);
                    if x != y {
                        out.push(Row {
                            label: k.clone(),
                            a: text(x),
                            b: text(y),
                        });
                    }
                }
            }
            "latent_vector" => {
                let summary = |v: &Value| match v.as_array() {
                    Some(xs) => crate::text::latent_summary(
                        &xs.iter().filter_map(Value::as_f64).collect::<Vec<_>>(),
                    ),
                    None => "—".into(),
                };
                out.push(Row {
                    label: "latent".into(),
                    a: summary(va),
                    b: summary(vb),
                })
            }
            _ => out.push(Row {
                label: field.clone(),
                a: text(Some(va)),
                b: text(Some(vb)),
            }),
        }
    }
    out
}

//! Filtering, incremental search and sorting of entries, as the `:filter`,
//! `:sort` and `/` commands use them.

use crate::store::HistoryEntry;
use serde_json::Value;

/// One term of `:filter`.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Model(String),
    Preset(String),
    Seed(String),
    Stereo(String),
    DurationAbove(f64),
    DurationBelow(f64),
    Quality { key: String, op: Cmp, value: f64 },
    Text(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cmp {
    Above,
    Below,
    Equal,
}

/// All terms must match.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    pub terms: Vec<Term>,
    pub text: String,
}

impl Filter {
    /// Parses `model=Pads duration>2 quality.snr_db>20 warm`.
    pub fn parse(s: &str) -> Result<Filter, String> {
        let mut terms = Vec::new();
        for word in s.split_whitespace() {
            let num = |v: &str, what: &str| {
                v.parse::<f64>()
                    .map_err(|_| format!("{what} needs a number, not '{v}'"))
            };
            let term = if let Some(v) = word.strip_prefix("model=") {
                Term::Model(v.to_lowercase())
            } else if let Some(v) = word.strip_prefix("preset=") {
                Term::Preset(v.to_lowercase())
            } else if let Some(v) = word.strip_prefix("seed=") {
                if v.parse::<i128>().is_err() && !v.chars().all(|c| c.is_ascii_digit()) {
                    return Err(format!("seed= needs an integer, not '{v}'"));
                }
                Term::Seed(v.to_string())
            } else if let Some(v) = word.strip_prefix("stereo=") {
                Term::Stereo(v.to_lowercase())
            } else if let Some(v) = word.strip_prefix("duration>") {
                Term::DurationAbove(num(v, "duration>")?)
            } else if let Some(v) = word.strip_prefix("duration<") {
                Term::DurationBelow(num(v, "duration<")?)
            } else if let Some(rest) = word.strip_prefix("quality.") {
                let (pos, op) = rest
                    .char_indices()
                    .find_map(|(i, c)| match c {
                        '>' => Some((i, Cmp::Above)),
                        '<' => Some((i, Cmp::Below)),
                        '=' => Some((i, Cmp::Equal)),
                        _ => None,
                    })
                    .ok_or_else(|| {
                        format!("'{word}': write quality.KEY>N, quality.KEY<N or quality.KEY=N")
                    })?;
                let key = rest[..pos].to_string();
                if key.is_empty() {
                    return Err(format!("'{word}': missing quality key"));
                }
                Term::Quality {
                    key,
                    op,
                    value: num(&rest[pos + 1..], "quality")?,
                }
            } else if word.contains(['=', '>', '<']) {
                return Err(format!(
                    "unknown filter '{word}': use model= preset= seed= stereo= duration> duration< quality.KEY> or plain text"
                ));
            } else {
                Term::Text(word.to_lowercase())
            };
            terms.push(term);
        }
        Ok(Filter {
            terms,
            text: s.split_whitespace().collect::<Vec<_>>().join(" "),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn matches(&self, e: &HistoryEntry) -> bool {
        self.terms.iter().all(|t| match t {
            Term::Model(m) => contains_ci(&e.model_name, m) || contains_ci(&e.model_id, m),
            Term::Preset(p) => contains_ci(&e.preset_name, p),
            Term::Seed(s) => e.seed.to_string() == *s,
            Term::Stereo(s) => e.stereo_mode.to_lowercase() == *s,
            Term::DurationAbove(d) => e.duration_s > *d,
            Term::DurationBelow(d) => e.duration_s < *d,
            Term::Quality { key, op, value } => match quality_value(e, key) {
                Some(v) => match op {
                    Cmp::Above => v > *value,
                    Cmp::Below => v < *value,
                    Cmp::Equal => (v - value).abs() < 1e-9,
                },
                None => false,
            },
            Term::Text(t) => search_matches(e, t),
        })
    }
}

/// A quality score by dotted key (`spectral.centroid_hz`), as a number.
pub fn quality_value(e: &HistoryEntry, key: &str) -> Option<f64> {
    let scores = e.quality_score.map();
    let mut parts = key.split('.');
    let mut v = scores.get(parts.next()?)?;
    for p in parts {
        v = v.get(p)?;
    }
    match v {
        Value::Bool(b) => Some(*b as u8 as f64),
        other => crate::store::nonfinite::as_f64(other),
    }
}

fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    if needle_lower.is_ascii() {
        // ASCII bytes never occur inside a multi-byte UTF-8 character, so a
        // byte-wise search is exact for any haystack.
        let h = hay.as_bytes();
        let n = needle_lower.as_bytes();
        let Some((&first, rest)) = n.split_first() else {
            return true;
        };
        return h.len() >= n.len()
            && (0..=h.len() - n.len()).any(|i| {
                h[i].to_ascii_lowercase() == first
                    && h[i + 1..i + n.len()]
                        .iter()
                        .zip(rest)
                        .all(|(a, b)| a.to_ascii_lowercase() == *b)
            });
    }
    hay.to_lowercase().contains(needle_lower)
}

/// The `/` search: model name or id, preset, entry id or seed contains the text.
pub fn search_matches(e: &HistoryEntry, query_lower: &str) -> bool {
    query_lower.is_empty()
        || contains_ci(&e.model_name, query_lower)
        || contains_ci(&e.model_id, query_lower)
        || contains_ci(&e.preset_name, query_lower)
        || contains_ci(&e.entry_id, query_lower)
        || e.seed.as_str().contains(query_lower)
}

/// Every entry's searchable text (model name and id, preset, entry id, seed),
/// lowercased once into one buffer, so a keystroke of `/` search is one pass
/// over contiguous memory instead of a walk over 100,000 entries' strings.
#[derive(Debug, Default)]
pub struct SearchIndex {
    generation: u64,
    text: String,
    /// Where each entry's text starts, plus the end.
    starts: Vec<usize>,
}

impl SearchIndex {
    pub fn build(entries: &[HistoryEntry], generation: u64) -> SearchIndex {
        let mut text = String::with_capacity(entries.len() * 96);
        let mut starts = Vec::with_capacity(entries.len() + 1);
        for e in entries {
            starts.push(text.len());
            for field in [&e.model_name, &e.model_id, &e.preset_name, &e.entry_id] {
                if field.is_ascii() {
                    text.extend(field.chars().map(|c| c.to_ascii_lowercase()));
                } else {
                    text.push_str(&field.to_lowercase());
                }
                text.push('\u{1}');
            }
            text.push_str(e.seed.as_str());
            text.push('\n');
        }
        starts.push(text.len());
        SearchIndex {
            generation,
            text,
            starts,
        }
    }

    /// True when built from the entries of this store generation.
    pub fn is_for(&self, generation: u64, len: usize) -> bool {
        self.generation == generation && self.starts.len() == len + 1
    }

    /// Which entries contain `query_lower` in one of their fields; `None` when
    /// the query has characters the index cannot answer for (separators).
    pub fn matches(&self, query_lower: &str) -> Option<Vec<bool>> {
        if query_lower.chars().any(char::is_control) {
            return None;
        }
        let n = self.starts.len() - 1;
        let mut hit = vec![query_lower.is_empty(); n];
        let mut from = 0;
        while let Some(at) = self.text[from..].find(query_lower) {
            let pos = from + at;
            let i = self.starts.partition_point(|&s| s <= pos) - 1;
            hit[i] = true;
            // One hit per entry is enough: go on from the next entry.
            from = self.starts[i + 1];
            if from >= self.text.len() {
                break;
            }
        }
        Some(hit)
    }
}

/// Orders of `:sort`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Sort {
    #[default]
    Newest,
    Oldest,
    Duration,
    Seed,
    Model,
    Quality(String),
}

impl Sort {
    pub fn parse(s: &str) -> Result<Sort, String> {
        Ok(match s.trim() {
            "" | "newest" => Sort::Newest,
            "oldest" => Sort::Oldest,
            "duration" => Sort::Duration,
            "seed" => Sort::Seed,
            "model" => Sort::Model,
            q if q.starts_with("quality.") && q.len() > 8 => Sort::Quality(q[8..].to_string()),
            other => {
                return Err(format!(
                    "unknown sort '{other}': newest, oldest, duration, seed, model or quality.KEY"
                ))
            }
        })
    }

    pub fn label(&self) -> String {
        match self {
            Sort::Newest => "newest".into(),
            Sort::Oldest => "oldest".into(),
            Sort::Duration => "duration".into(),
            Sort::Seed => "seed".into(),
            Sort::Model => "model".into(),
            Sort::Quality(k) => format!("quality.{k}"),
        }
    }

    /// Reorders `view` (indices into `entries`, which are newest first).
    /// Ties keep newest-first order; longest, largest and best come first.
    pub fn apply(&self, entries: &[HistoryEntry], view: &mut [usize]) {
        match self {
            Sort::Newest => view.sort_unstable(),
            Sort::Oldest => view.sort_unstable_by(|a, b| b.cmp(a)),
            Sort::Duration => {
                view.sort_by(|&a, &b| entries[b].duration_s.total_cmp(&entries[a].duration_s))
            }
            Sort::Seed => view.sort_by_key(|&i| entries[i].seed_i128().unwrap_or(i128::MAX)),
            Sort::Model => view.sort_by(|&a, &b| {
                entries[a]
                    .model_name
                    .to_lowercase()
                    .cmp(&entries[b].model_name.to_lowercase())
            }),
            Sort::Quality(k) => view.sort_by(|&a, &b| {
                let qa = quality_value(&entries[a], k).unwrap_or(f64::NEG_INFINITY);
                let qb = quality_value(&entries[b], k).unwrap_or(f64::NEG_INFINITY);
                qb.total_cmp(&qa)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(model: &str, preset: &str, seed: i64, dur: f64, snr: f64) -> HistoryEntry {
        let text = format!(
            r#"{{"entry_id": "id-{seed}", "timestamp": "2026-01-01T00:00:00+00:00", "model_id": "m",
            "model_name": "{model}", "slider_positions": null, "n_components": 0, "seed": {seed},
            "duration_s": {dur}, "sample_rate": 48000, "stereo_mode": "mono", "preset_name": "{preset}",
            "audio_file": "a", "thumbnail_file": "t", "quality_score": {{"snr": {snr}, "s": {{"c": 2}}}}}}"#
        );
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn search_index_finds_what_the_per_entry_search_finds() {
        let entries = vec![
            entry("Ambient Pads", "warm", 42, 3.0, 25.0),
            entry(
                "\u{548c}\u{97f3}\u{30e2}\u{30c7}\u{30eb} \u{00c4}rger",
                "lo-fi",
                123456,
                1.0,
                10.0,
            ),
            entry("Drum Machine", "WARM-ish", 7, 2.0, 30.0),
        ];
        let index = SearchIndex::build(&entries, 9);
        assert!(index.is_for(9, 3) && !index.is_for(10, 3) && !index.is_for(9, 2));
        for q in [
            "",
            "warm",
            "pads",
            "\u{97f3}",
            "\u{00e4}rger",
            "2345",
            "id-7",
            "m",
            "zzz",
            "s\u{1}w",
        ] {
            let q = q.to_lowercase();
            let per_entry: Vec<bool> = entries.iter().map(|e| search_matches(e, &q)).collect();
            match index.matches(&q) {
                Some(hits) => assert_eq!(hits, per_entry, "{q:?}"),
                None => assert!(q.contains('\u{1}'), "{q:?}"),
            }
        }
    }

    #[test]
    fn filter_terms_combine() {
        let e = entry("Ambient Pads", "warm", 42, 3.0, 25.0);
        let ok = |s: &str| Filter::parse(s).unwrap().matches(&e);
        assert!(ok(
            "model=pads preset=WARM seed=42 duration>2 duration<4 quality.snr>20"
        ));
        assert!(ok("quality.s.c=2 ambient stereo=mono"));
        assert!(!ok("model=drums"));
        assert!(!ok("quality.snr<20"));
        assert!(!ok("quality.missing>0"));
        assert!(Filter::parse("duration>abc").is_err());
        assert!(Filter::parse("colour=red").is_err());
    }

    #[test]
    fn sorts_order_as_named() {
        let es = vec![
            entry("B", "x", 3, 1.0, 10.0),
            entry("a", "x", 1, 3.0, 30.0),
            entry("C", "x", 2, 2.0, 20.0),
        ];
        let order = |s: &str| {
            let mut v = vec![0, 1, 2];
            Sort::parse(s).unwrap().apply(&es, &mut v);
            v
        };
        assert_eq!(order("oldest"), [2, 1, 0]);
        assert_eq!(order("duration"), [1, 2, 0]);
        assert_eq!(order("seed"), [1, 2, 0]);
        assert_eq!(order("model"), [1, 0, 2]);
        assert_eq!(order("quality.snr"), [1, 2, 0]);
        assert!(Sort::parse("colour").is_err());
    }
}

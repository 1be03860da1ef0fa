//! The filter language (`:filter` in the browser, `list --filter` on the
//! command line), `/` search, and `:sort` orders.
//!
//! A filter is words, all of which must match:
//! `model=NAME preset=NAME seed=N stereo=MODE duration>=N quality.KEY<N
//! rating>=N rejected tag=NAME note~TEXT` and plain text (searched like
//! `/`). Values with spaces are quoted (`model="Lead Synth"`); comparisons
//! are `>`, `<`, `>=`, `<=`, `=`; a `!` before a word negates it.

use crate::analysis::Facts;
use crate::store::annotations::Annotation;
use crate::store::HistoryEntry;
use std::cmp::Ordering;

/// A comparison in a filter term.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cmp {
    Gt,
    Lt,
    Ge,
    Le,
    Eq,
}

impl Cmp {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Cmp::Gt => a > b,
            Cmp::Lt => a < b,
            Cmp::Ge => a >= b,
            Cmp::Le => a <= b,
            Cmp::Eq => (a - b).abs() < 1e-9,
        }
    }
}

/// One word of a filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Model(String),
    Preset(String),
    Seed(String),
    /// `seed>N`: compared as integers (seeds may be larger than any float
    /// holds exactly).
    SeedCmp(Cmp, i128),
    Stereo(String),
    Duration(Cmp, f64),
    Quality {
        key: String,
        op: Cmp,
        value: f64,
    },
    /// `quality.KEY=true` / `=false`.
    QualityBool {
        key: String,
        value: bool,
    },
    Rating(Cmp, f64),
    Rejected,
    Tag(String),
    Note(String),
    Text(String),
    /// A measure of the analysis (`lufs<-30`): a take not yet measured
    /// never matches, negated or not.
    Measure(&'static str, Cmp, f64),
    Not(Box<Term>),
}

/// All terms must match.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    pub terms: Vec<Term>,
    /// The filter as written (normalized spaces), for the status bar.
    pub text: String,
}

/// The filter language in words (`:help filter`, the man page).
pub const FILTER_HELP: &str = "show only takes matching all terms: model=NAME preset=NAME (the name contains NAME, any case) seed=N seed>N seed<=N stereo=MODE duration>=N (seconds) quality.KEY>N quality.KEY=true|false rating>=N rejected tag=NAME note~TEXT, the measures lufs lra peak true_peak clipped dc silence_head silence_tail centroid (lufs<-30 clipped>0 silence_tail>0.5; a take not yet measured never matches), and plain words (matched in the model, preset, id, seed, tags and notes); comparisons are > < >= <= =; \"quotes\" keep spaces in a value (model=\"Lead Synth\", tag=\"two words\"); ! before a term negates it (at most 8); no terms clears the filter";

/// The filter's keys, for completion and help.
pub(crate) const FILTER_KEYS: &[&str] = &[
    "model=",
    "preset=",
    "seed=",
    "stereo=",
    "duration>",
    "duration<",
    "quality.",
    "rating>=",
    "rejected",
    "tag=",
    "note~",
    "lufs<",
    "lra>",
    "peak>",
    "true_peak>",
    "clipped>",
    "dc>",
    "silence_head>",
    "silence_tail>",
    "centroid>",
];

/// Splits on spaces, keeping `"..."` together (quotes removed).
pub(crate) fn words(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err(format!("unclosed quote in '{s}'"));
    }
    if any {
        out.push(cur);
    }
    Ok(out)
}

/// `>=2` → (Ge, "2").
fn comparison(rest: &str) -> Option<(Cmp, &str)> {
    for (op, c) in [
        (">=", Cmp::Ge),
        ("<=", Cmp::Le),
        (">", Cmp::Gt),
        ("<", Cmp::Lt),
        ("=", Cmp::Eq),
    ] {
        if let Some(v) = rest.strip_prefix(op) {
            return Some((c, v));
        }
    }
    None
}

fn number(v: &str, what: &str) -> Result<f64, String> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| !x.is_nan())
        .ok_or_else(|| format!("{what} needs a number, not '{v}'"))
}

/// The most `!` a word may start with (each negates the rest).
const MAX_NOTS: usize = 8;

fn term(word: &str) -> Result<Term, String> {
    // No recursion on what the user typed: the `!`s are counted.
    let rest = word.trim_start_matches('!');
    let nots = word.len() - rest.len();
    if nots > MAX_NOTS {
        return Err(format!(
            "'{}' starts with {nots} '!': at most {MAX_NOTS}",
            crate::text::truncate(word, 24)
        ));
    }
    let t = plain_term(rest)?;
    Ok(if nots % 2 == 1 {
        Term::Not(Box::new(t))
    } else {
        t
    })
}

fn plain_term(word: &str) -> Result<Term, String> {
    let kv = |k: &str| -> Result<Option<String>, String> {
        match word.strip_prefix(k).and_then(|r| r.strip_prefix('=')) {
            Some("") => Err(format!("{k}= needs a value ({k}=\"two words\" for spaces)")),
            Some(v) => Ok(Some(v.to_lowercase())),
            None => Ok(None),
        }
    };
    if let Some(v) = kv("model")? {
        return Ok(Term::Model(v));
    }
    if let Some(v) = kv("preset")? {
        return Ok(Term::Preset(v));
    }
    if let Some(rest) = word.strip_prefix("seed") {
        if let Some((op, v)) = comparison(rest).filter(|(op, _)| *op != Cmp::Eq) {
            let n = v
                .trim()
                .parse::<i128>()
                .map_err(|_| format!("seed needs an integer, not '{v}'"))?;
            return Ok(Term::SeedCmp(op, n));
        }
    }
    if let Some(v) = word.strip_prefix("seed=") {
        if v.is_empty()
            || !v
                .trim_start_matches('-')
                .chars()
                .all(|c| c.is_ascii_digit())
        {
            return Err(format!("seed= needs an integer, not '{v}'"));
        }
        return Ok(Term::Seed(v.to_string()));
    }
    if let Some(v) = kv("stereo")? {
        return Ok(Term::Stereo(v));
    }
    if let Some(v) = kv("tag")? {
        return Ok(Term::Tag(v.trim_start_matches('#').to_string()));
    }
    if let Some(v) = word.strip_prefix("note~") {
        if v.is_empty() {
            return Err("note~ needs some text".into());
        }
        return Ok(Term::Note(v.to_lowercase()));
    }
    if word == "rejected" {
        return Ok(Term::Rejected);
    }
    if let Some(rest) = word.strip_prefix("duration") {
        if let Some((op, v)) = comparison(rest) {
            return Ok(Term::Duration(op, number(v, "duration")?));
        }
    }
    if let Some(rest) = word.strip_prefix("rating") {
        if let Some((op, v)) = comparison(rest) {
            return Ok(Term::Rating(op, number(v, "rating")?));
        }
    }
    for name in crate::analysis::NAMES {
        if let Some((op, v)) = word.strip_prefix(name).and_then(comparison) {
            return Ok(Term::Measure(name, op, number(v, name)?));
        }
    }
    if let Some(rest) = word.strip_prefix("quality.") {
        let at = rest
            .find(['>', '<', '='])
            .ok_or_else(|| format!("'{word}': write quality.KEY>N, quality.KEY<=N, ..."))?;
        let key = &rest[..at];
        if key.is_empty() {
            return Err(format!("'{word}': missing quality key"));
        }
        let (op, v) = comparison(&rest[at..]).expect("starts with an operator");
        if op == Cmp::Eq && matches!(v, "true" | "false") {
            return Ok(Term::QualityBool {
                key: key.to_string(),
                value: v == "true",
            });
        }
        return Ok(Term::Quality {
            key: key.to_string(),
            op,
            value: number(v, "quality")?,
        });
    }
    if word.contains(['=', '>', '<', '~']) {
        return Err(format!(
            "unknown filter '{word}': use model= preset= seed= stereo= duration>N quality.KEY>N rating>=N rejected tag= note~, a measure (lufs<-30 lra peak true_peak clipped>0 dc silence_head silence_tail>0.5 centroid) or plain text"
        ));
    }
    Ok(Term::Text(word.to_lowercase()))
}

impl Filter {
    /// Parses `model="Lead Synth" duration>=2 quality.snr_db>20 warm`.
    pub fn parse(s: &str) -> Result<Filter, String> {
        let words = words(s)?;
        let terms = words
            .iter()
            .map(|w| term(w))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Filter {
            terms,
            text: s.split_whitespace().collect::<Vec<_>>().join(" "),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// True when the filter needs the takes' measures.
    pub(crate) fn uses_measures(&self) -> bool {
        fn uses(t: &Term) -> bool {
            match t {
                Term::Measure(..) => true,
                Term::Not(t) => uses(t),
                _ => false,
            }
        }
        self.terms.iter().any(uses)
    }

    /// True when the filter needs the takes' annotations.
    pub(crate) fn uses_annotations(&self) -> bool {
        fn uses(t: &Term) -> bool {
            match t {
                Term::Rating(..)
                | Term::Rejected
                | Term::Tag(_)
                | Term::Note(_)
                | Term::Text(_) => true,
                Term::Not(t) => uses(t),
                _ => false,
            }
        }
        self.terms.iter().any(uses)
    }

    pub fn matches(&self, e: &HistoryEntry, facts: Facts<'_>) -> bool {
        let ann = facts.notes.get(&e.entry_id);
        let m = facts.measures.get(&e.entry_id);
        self.terms.iter().all(|t| term_matches(t, e, ann, m))
    }
}

fn term_matches(
    t: &Term,
    e: &HistoryEntry,
    ann: Option<&Annotation>,
    m: Option<&crate::analysis::Measures>,
) -> bool {
    match t {
        Term::Model(m) => contains_ci(e.model_name(), m) || contains_ci(e.model_id(), m),
        Term::Preset(p) => contains_ci(e.preset_name(), p),
        Term::Seed(s) => e.seed_text() == s.as_str(),
        Term::SeedCmp(op, n) => {
            let seed = match e.seed_int() {
                Some(i) => Some(i128::from(i)),
                None => e.seed_text().parse::<i128>().ok(),
            };
            seed.is_some_and(|s| match op {
                Cmp::Gt => s > *n,
                Cmp::Lt => s < *n,
                Cmp::Ge => s >= *n,
                Cmp::Le => s <= *n,
                Cmp::Eq => s == *n,
            })
        }
        Term::Stereo(s) => e.stereo_mode().to_lowercase() == *s,
        Term::Duration(op, v) => op.holds(e.duration_s, *v),
        Term::Quality { key, op, value } => {
            quality_value(e, key).is_some_and(|q| op.holds(q, *value))
        }
        Term::QualityBool { key, value } => quality_bool(e, key) == Some(*value),
        Term::Rating(op, v) => op.holds(ann.map_or(0.0, |a| a.rating as f64), *v),
        Term::Rejected => ann.is_some_and(|a| a.rejected),
        Term::Tag(tag) => ann.is_some_and(|a| a.tags.iter().any(|x| x.to_lowercase() == *tag)),
        Term::Note(n) => ann.is_some_and(|a| contains_ci(&a.note, n)),
        Term::Text(t) => search_matches(e, ann, t),
        Term::Measure(name, op, v) => m.and_then(|m| m.get(name)).is_some_and(|x| op.holds(x, *v)),
        // Not yet measured: no measure term matches, negated or not.
        Term::Not(t) if matches!(**t, Term::Measure(..)) && m.is_none() => false,
        Term::Not(t) => !term_matches(t, e, ann, m),
    }
}

/// A quality score by dotted key (`spectral.centroid_hz`), as a number.
pub fn quality_value(e: &HistoryEntry, key: &str) -> Option<f64> {
    e.quality_score.number_at(key)
}

/// A quality score by dotted key as the list shows it (`-` when absent).
pub(crate) fn quality_text(e: &HistoryEntry, key: &str) -> String {
    if let Some(v) = quality_value(e, key) {
        return if v.fract() == 0.0 && v.abs() < 1e9 {
            format!("{v:.0}")
        } else {
            format!("{v:.2}")
        };
    }
    match quality_bool(e, key) {
        Some(b) => b.to_string(),
        None => "-".into(),
    }
}

/// A quality score by dotted key, when it is `true` or `false`.
fn quality_bool(e: &HistoryEntry, key: &str) -> Option<bool> {
    let scores = serde_json::Value::Object(e.quality_score.map());
    crate::store::entry::leaves(&scores)
        .into_iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_bool())
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

/// The `/` search (and plain words of a filter): model name or id, preset,
/// entry id, seed, a tag or the note contains the text.
pub(crate) fn search_matches(
    e: &HistoryEntry,
    ann: Option<&Annotation>,
    query_lower: &str,
) -> bool {
    query_lower.is_empty()
        || contains_ci(e.model_name(), query_lower)
        || contains_ci(e.model_id(), query_lower)
        || contains_ci(e.preset_name(), query_lower)
        || contains_ci(&e.entry_id, query_lower)
        || e.seed_text().contains(query_lower)
        || ann.is_some_and(|a| {
            a.tags.iter().any(|t| contains_ci(t, query_lower)) || contains_ci(&a.note, query_lower)
        })
}

/// What `:sort` orders by.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum SortKey {
    #[default]
    Newest,
    Oldest,
    Duration,
    Seed,
    Model,
    Rating,
    Quality(String),
    /// A measure of the analysis (largest first; not measured last).
    Measure(&'static str),
    /// Likeness to a take, nearest first (`:similar`).
    Similar(SimilarTo),
}

/// The take `:similar` measures from (equal when it is the same take).
#[derive(Debug, Clone)]
pub struct SimilarTo(pub std::sync::Arc<crate::similar::Reference>);

impl PartialEq for SimilarTo {
    fn eq(&self, other: &SimilarTo) -> bool {
        self.0.entry.entry_id == other.0.entry.entry_id
    }
}

/// An order of `:sort`: a key, and whether it is reversed (`:sort -duration`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sort {
    pub key: SortKey,
    pub reverse: bool,
}

/// The sort keys, for completion and help (plus `quality.KEY`).
pub(crate) const SORT_KEYS: &[&str] = &[
    "newest",
    "oldest",
    "duration",
    "seed",
    "model",
    "rating",
    "lufs",
    "lra",
    "peak",
    "true_peak",
    "clipped",
    "dc",
    "silence_head",
    "silence_tail",
    "centroid",
];

/// The orders the cycling key steps through.
pub(crate) const SORT_CYCLE: &[&str] = &["newest", "oldest", "duration", "model", "rating"];

/// A key computed once per entry for a sort.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Key {
    Num(f64),
    Text(String),
    None,
}

impl Sort {
    pub fn parse(s: &str) -> Result<Sort, String> {
        let s = s.trim();
        let (reverse, name) = match s.strip_prefix('-') {
            Some(n) => (true, n),
            None => (false, s),
        };
        let key = match name {
            "" | "newest" => SortKey::Newest,
            "oldest" => SortKey::Oldest,
            "duration" => SortKey::Duration,
            "seed" => SortKey::Seed,
            "model" => SortKey::Model,
            "rating" => SortKey::Rating,
            q if q.starts_with("quality.") && q.len() > 8 => SortKey::Quality(q[8..].to_string()),
            m if crate::analysis::NAMES.contains(&m) => SortKey::Measure(
                crate::analysis::NAMES
                    .iter()
                    .find(|n| **n == m)
                    .expect("just found"),
            ),
            other => {
                return Err(format!(
                    "unknown sort '{other}': newest, oldest, duration, seed, model, rating, quality.KEY or a measure (lufs, lra, peak, true_peak, clipped, dc, silence_head, silence_tail, centroid); a leading - reverses"
                ))
            }
        };
        Ok(Sort { key, reverse })
    }

    pub fn label(&self) -> String {
        let name = match &self.key {
            SortKey::Newest => "newest".into(),
            SortKey::Oldest => "oldest".into(),
            SortKey::Duration => "duration".into(),
            SortKey::Seed => "seed".into(),
            SortKey::Model => "model".into(),
            SortKey::Rating => "rating".into(),
            SortKey::Quality(k) => format!("quality.{k}"),
            SortKey::Measure(m) => (*m).to_string(),
            SortKey::Similar(r) => format!("like {}", r.0.entry.short_id()),
        };
        if self.reverse {
            format!("-{name}")
        } else {
            name
        }
    }

    /// True for the order the store keeps (newest first, not reversed).
    pub(crate) fn is_default(&self) -> bool {
        self.key == SortKey::Newest && !self.reverse
    }

    fn key(&self, e: &HistoryEntry, facts: Facts<'_>) -> Key {
        match &self.key {
            SortKey::Newest | SortKey::Oldest => Key::None,
            SortKey::Model => Key::Text(e.model_name().to_lowercase()),
            _ => self.number(e, facts).map_or(Key::None, Key::Num),
        }
    }

    /// The key of a sort by a number (`None`: the entry has none, and goes
    /// last); longest, largest and best first.
    fn number(&self, e: &HistoryEntry, facts: Facts<'_>) -> Option<f64> {
        match &self.key {
            SortKey::Newest | SortKey::Oldest | SortKey::Model => None,
            SortKey::Duration => Some(-e.duration_s),
            SortKey::Seed => match e.seed_int() {
                Some(i) => Some(i as f64),
                None => e.seed_text().parse::<f64>().ok(),
            },
            SortKey::Rating => match facts.notes.get(&e.entry_id).map(|a| a.rating) {
                Some(r) if r > 0 => Some(-(r as f64)),
                _ => None,
            },
            SortKey::Quality(k) => quality_value(e, k).filter(|q| !q.is_nan()).map(|q| -q),
            SortKey::Measure(m) => facts
                .measures
                .get(&e.entry_id)
                .and_then(|x| x.get(m))
                .filter(|v| !v.is_nan())
                .map(|v| -v),
            SortKey::Similar(r) => Some(r.0.distance(e)),
        }
    }

    fn cmp_keys(&self, a: &Key, b: &Key) -> Ordering {
        let o = match (a, b) {
            (Key::Num(x), Key::Num(y)) => x.total_cmp(y),
            (Key::Text(x), Key::Text(y)) => x.cmp(y),
            (Key::None, Key::None) => Ordering::Equal,
            (Key::None, _) => Ordering::Greater,
            (_, Key::None) => Ordering::Less,
            _ => Ordering::Equal,
        };
        if self.reverse {
            o.reverse()
        } else {
            o
        }
    }

    /// Orders two entries as [`Sort::apply`] does (ties: newest first).
    pub(crate) fn cmp(&self, a: &HistoryEntry, b: &HistoryEntry, facts: Facts<'_>) -> Ordering {
        let base = crate::store::newest_first(a, b);
        match &self.key {
            SortKey::Newest => {
                if self.reverse {
                    base.reverse()
                } else {
                    base
                }
            }
            SortKey::Oldest => {
                if self.reverse {
                    base
                } else {
                    base.reverse()
                }
            }
            _ => self
                .cmp_keys(&self.key(a, facts), &self.key(b, facts))
                .then(base),
        }
    }

    /// Sorts `rows`, which are in the store's order (newest first); each
    /// entry's key is computed once.
    pub fn apply<E: std::ops::Deref<Target = HistoryEntry> + Sync>(
        &self,
        rows: &mut Vec<E>,
        facts: Facts<'_>,
    ) {
        match &self.key {
            SortKey::Newest if !self.reverse => {}
            SortKey::Oldest if self.reverse => {}
            SortKey::Newest | SortKey::Oldest => rows.reverse(),
            SortKey::Model => {
                // A few sets of names for all the takes: one pass (both
                // cores) for each take's set, then each set's place among
                // the names in lower case is the take's key.
                let sets = crate::par::map(rows, |e| e.names_key());
                // Each set and the first take that has it.
                let mut first: std::collections::HashMap<usize, usize> = Default::default();
                for (i, &k) in sets.iter().enumerate() {
                    first.entry(k).or_insert(i);
                }
                let mut order: Vec<(String, usize)> = first
                    .iter()
                    .map(|(&k, &i)| (rows[i].model_name().to_lowercase(), k))
                    .collect();
                order.sort();
                let mut rank: std::collections::HashMap<usize, f64> = Default::default();
                let mut r = 0.0;
                for (i, (lower, k)) in order.iter().enumerate() {
                    if i > 0 && *lower != order[i - 1].0 {
                        r += 1.0;
                    }
                    rank.insert(*k, r);
                }
                let order = self.numeric_places(&sets, |k| Some(rank[k]));
                reorder(rows, order);
            }
            _ => {
                let order = self.numeric_places(rows, |e| self.number(e, facts));
                reorder(rows, order);
            }
        }
    }

    /// The places of `items` in the order their numbers give (as
    /// [`Sort::cmp_keys`] compares them; ties in their order), the missing
    /// after them all (before them, reversed): each number made an integer
    /// that sorts as `f64::total_cmp` does, sorted with its place (16
    /// bytes each), the two halves on two cores, then merged.
    fn numeric_places<T: Sync>(
        &self,
        items: &[T],
        num: impl Fn(&T) -> Option<f64> + Sync,
    ) -> Vec<usize> {
        let key = |x: f64| {
            let bits = x.to_bits() as i64;
            // Negative numbers' other bits flipped: the integers then order
            // as total_cmp orders the floats.
            let total = bits ^ (((bits >> 63) as u64) >> 1) as i64;
            let key = (total as u64) ^ (1 << 63);
            if self.reverse {
                !key
            } else {
                key
            }
        };
        let halves = crate::par::halves(items, |from, part| {
            let mut nums: Vec<(u64, usize)> = Vec::with_capacity(part.len());
            let mut missing: Vec<usize> = Vec::new();
            for (i, item) in part.iter().enumerate() {
                match num(item) {
                    Some(x) => nums.push((key(x), from + i)),
                    None => missing.push(from + i),
                }
            }
            nums.sort_unstable();
            (nums, missing)
        });
        let mut order = Vec::with_capacity(items.len());
        let missing = halves.iter().flat_map(|h| h.1.iter().copied());
        if self.reverse {
            order.extend(missing.clone());
        }
        match &halves[..] {
            [(a, _)] => order.extend(a.iter().map(|n| n.1)),
            [(a, _), (b, _)] => {
                let (mut i, mut j) = (0, 0);
                while i < a.len() && j < b.len() {
                    if b[j] < a[i] {
                        order.push(b[j].1);
                        j += 1;
                    } else {
                        order.push(a[i].1);
                        i += 1;
                    }
                }
                order.extend(a[i..].iter().map(|n| n.1));
                order.extend(b[j..].iter().map(|n| n.1));
            }
            _ => unreachable!("one or two halves"),
        }
        if !self.reverse {
            order.extend(missing);
        }
        order
    }
}

/// `rows` put in the order of `places` (each place once).
fn reorder<E>(rows: &mut Vec<E>, places: Vec<usize>) {
    let mut taken: Vec<Option<E>> = rows.drain(..).map(Some).collect();
    rows.extend(
        places
            .into_iter()
            .map(|i| taken[i].take().expect("each place once")),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::annotations::Annotations;

    fn entry(model: &str, preset: &str, seed: i64, dur: f64, snr: f64) -> HistoryEntry {
        let text = format!(
            r#"{{"entry_id": "id-{seed}", "timestamp": "2026-01-01T00:00:{:02}+00:00", "model_id": "m",
            "model_name": "{model}", "slider_positions": null, "n_components": 0, "seed": {seed},
            "duration_s": {dur}, "sample_rate": 48000, "stereo_mode": "mono", "preset_name": "{preset}",
            "audio_file": "a", "thumbnail_file": "t", "quality_score": {{"snr": {snr}, "s": {{"c": 2}}}}}}"#,
            seed % 60
        );
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn filter_terms_combine() {
        let e = entry("Lead Synth", "warm", 42, 3.0, 25.0);
        let none = Annotations::new();
        let ok = |s: &str| Filter::parse(s).unwrap().matches(&e, Facts::notes(&none));
        assert!(ok(
            "model=synth preset=WARM seed=42 duration>2 duration<4 quality.snr>20"
        ));
        assert!(ok(
            "model=\"Lead Synth\" duration>=3 duration<=3 quality.s.c=2 lead stereo=mono"
        ));
        assert!(ok("!rejected !model=drums"));
        assert!(!ok("model=drums"));
        assert!(!ok("quality.snr<20"));
        assert!(!ok("quality.missing>0"));
        assert!(!ok("rating>=1"));
        assert!(Filter::parse("duration>abc").is_err());
        assert!(Filter::parse("colour=red").is_err());
        assert!(Filter::parse("model=\"open").is_err());
        let mut notes = Annotations::new();
        notes.insert(
            "id-42".into(),
            Annotation {
                rating: 4,
                rejected: true,
                tags: vec!["Keep".into()],
                note: "lovely tail".into(),
            },
        );
        let ok = |s: &str| Filter::parse(s).unwrap().matches(&e, Facts::notes(&notes));
        assert!(ok(
            "rating>=4 rating<5 rating=4 rejected tag=keep note~TAIL"
        ));
        assert!(!ok("rating>4"));
        assert!(!ok("!rejected"));
    }

    /// The seeds of `store` (in the store's order) as sort `s` orders them.
    fn seeds_sorted(store: &[HistoryEntry], s: &str) -> String {
        let none = Annotations::new();
        let mut v: Vec<&HistoryEntry> = store.iter().collect();
        Sort::parse(s).unwrap().apply(&mut v, Facts::notes(&none));
        v.iter()
            .map(|e| e.seed_text().to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    #[test]
    fn model_sort_ignores_case_and_keeps_ties_newest_first() {
        let mut store = vec![
            entry("beta", "x", 1, 1.0, 1.0),
            entry("Alpha", "x", 2, 1.0, 1.0),
            entry("gamma", "x", 3, 1.0, 1.0),
            entry("alpha", "x", 4, 1.0, 1.0),
            entry("Beta", "x", 5, 1.0, 1.0),
        ];
        crate::store::sort_newest_first(&mut store);
        let order = |s: &str| seeds_sorted(&store, s);
        assert_eq!(order("model"), "4,2,5,1,3");
        assert_eq!(order("-model"), "3,5,1,4,2");
    }

    #[test]
    fn sorts_order_as_named_and_reverse() {
        let es = vec![
            entry("B", "x", 3, 1.0, 10.0),
            entry("a", "x", 1, 3.0, 30.0),
            entry("C", "x", 2, 2.0, 20.0),
        ];
        // The store's order: newest first.
        let mut store = es.clone();
        crate::store::sort_newest_first(&mut store);
        let none = Annotations::new();
        let order = |s: &str| seeds_sorted(&store, s);
        assert_eq!(order("newest"), "3,2,1");
        assert_eq!(order("oldest"), "1,2,3");
        assert_eq!(order("duration"), "1,2,3");
        assert_eq!(order("-duration"), "3,2,1");
        assert_eq!(order("seed"), "1,2,3");
        assert_eq!(order("model"), "1,3,2");
        assert_eq!(order("quality.snr"), "1,2,3");
        assert_eq!(order("-quality.snr"), "3,2,1");
        assert!(Sort::parse("colour").is_err());
        // cmp agrees with apply, so an entry can be inserted in place.
        for s in [
            "newest",
            "oldest",
            "duration",
            "-seed",
            "model",
            "quality.snr",
        ] {
            let sort = Sort::parse(s).unwrap();
            let mut v: Vec<&HistoryEntry> = store.iter().collect();
            sort.apply(&mut v, Facts::notes(&none));
            assert!(
                v.windows(2)
                    .all(|w| sort.cmp(w[0], w[1], Facts::notes(&none)) != Ordering::Greater),
                "{s}"
            );
        }
    }

    proptest::proptest! {
        /// Numbers and missing values are put in the order the comparison
        /// of keys gives (ties in their order), either way round.
        #[test]
        fn numeric_keys_sort_as_compared(
            picks in proptest::collection::vec((0usize..10, -3i32..4), 0..200),
            reverse in proptest::bool::ANY,
        ) {
            let keys: Vec<Key> = picks
                .iter()
                .map(|&(kind, n)| match kind {
                    0 => Key::None,
                    1 => Key::Num(f64::NAN),
                    2 => Key::Num(-f64::NAN),
                    3 => Key::Num(f64::INFINITY),
                    4 => Key::Num(f64::NEG_INFINITY),
                    5 => Key::Num(-0.0),
                    6 => Key::Num(0.0),
                    7 => Key::Num(f64::MIN_POSITIVE * n as f64),
                    _ => Key::Num(n as f64 * 0.5),
                })
                .collect();
            let sort = Sort { key: SortKey::Duration, reverse };
            let mut want: Vec<usize> = (0..keys.len()).collect();
            want.sort_by(|&a, &b| sort.cmp_keys(&keys[a], &keys[b]));
            let number = |k: &Key| match k {
                Key::Num(x) => Some(*x),
                _ => None,
            };
            proptest::prop_assert_eq!(sort.numeric_places(&keys, number), want);
        }
    }

    /// Many keys: sorted in two halves on two cores, then merged, as one
    /// sort of them all would.
    #[test]
    fn many_numeric_keys_sort_as_compared() {
        let keys: Vec<Key> = (0..120_000u64)
            .map(|i| match (i * 7919) % 13 {
                0 => Key::None,
                1 => Key::Num(f64::NAN),
                n => Key::Num(((i * 2_654_435_761) % 1000) as f64 * 0.25 - n as f64),
            })
            .collect();
        let number = |k: &Key| match k {
            Key::Num(x) => Some(*x),
            _ => None,
        };
        for reverse in [false, true] {
            let sort = Sort {
                key: SortKey::Duration,
                reverse,
            };
            let mut want: Vec<usize> = (0..keys.len()).collect();
            want.sort_by(|&a, &b| sort.cmp_keys(&keys[a], &keys[b]));
            assert_eq!(sort.numeric_places(&keys, number), want);
        }
    }
}

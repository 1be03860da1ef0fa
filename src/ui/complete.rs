//! Tab completion in the `:` bar: command names, then what each command
//! takes (sort keys, filter keys and values: models, presets, tags, quality
//! keys; take ids; help topics; paths for `:export`, `~` included, listed
//! on a thread of their own since the app does no I/O). Candidates are shown as
//! a list; Tab and Shift-Tab step through them.

use crate::query::{FILTER_KEYS, SORT_KEYS};
use crate::store::annotations::Annotations;
use crate::store::GenerationHistory;
use std::collections::BTreeSet;

/// Candidates for the word before the cursor (the end of the line).
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The line up to the word being completed.
    pub head: String,
    pub candidates: Vec<String>,
    /// The candidate shown now (after Tab steps through them).
    pub index: Option<usize>,
}

impl Completion {
    /// The line with the current candidate in place.
    pub fn apply(&self) -> String {
        let c = &self.candidates[self.index.unwrap_or(0)];
        format!("{}{}{}", self.head, c, spacer(c))
    }

    /// The line completed as far as all candidates agree (a single one
    /// completely, with a space after it).
    pub(crate) fn apply_common(&self) -> String {
        if self.candidates.len() == 1 {
            return self.apply();
        }
        let first = &self.candidates[0];
        let mut common = first.len();
        for c in &self.candidates[1..] {
            common = common.min(
                first
                    .char_indices()
                    .zip(c.chars())
                    .take_while(|((_, a), b)| a == b)
                    .last()
                    .map_or(0, |((i, a), _)| i + a.len_utf8()),
            );
        }
        format!("{}{}", self.head, &first[..common])
    }
}

/// A space after a finished word; none after `key=`, `quality.` or a
/// directory's `/`.
fn spacer(c: &str) -> &'static str {
    if c.ends_with(['=', '.', '~', '>', '<', '/']) {
        ""
    } else {
        " "
    }
}

/// What completion draws on, looked at only for what a command takes.
pub(crate) struct Context<'a> {
    pub store: &'a GenerationHistory,
    pub notes: &'a Annotations,
}

impl<'a> Context<'a> {
    pub(crate) fn of(store: &'a GenerationHistory, notes: &'a Annotations) -> Context<'a> {
        Context { store, notes }
    }

    fn models(&self) -> BTreeSet<String> {
        self.store
            .entries()
            .iter()
            .map(|e| e.model_name())
            .collect::<BTreeSet<&str>>()
            .into_iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn presets(&self) -> BTreeSet<String> {
        self.store
            .entries()
            .iter()
            .map(|e| e.preset_name())
            .collect::<BTreeSet<&str>>()
            .into_iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn tags(&self) -> BTreeSet<String> {
        self.notes
            .values()
            .flat_map(|a| a.tags.iter().cloned())
            .collect()
    }

    /// The keys a few hundred takes use are the keys there are.
    fn quality_keys(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for e in self.store.entries().iter().take(300) {
            let scores = serde_json::Value::Object(e.quality_score.map());
            out.extend(
                crate::store::entry::leaves(&scores)
                    .into_iter()
                    .map(|(k, _)| k),
            );
        }
        out
    }

    fn ids(&self, prefix: &str) -> Vec<String> {
        let lower = prefix.to_lowercase();
        let mut v: Vec<String> = self
            .store
            .entries()
            .iter()
            .filter(|e| e.entry_id.to_lowercase().starts_with(&lower))
            .take(50)
            .map(|e| e.entry_id.clone())
            .collect();
        v.sort();
        v
    }
}

fn matching<'a>(items: impl IntoIterator<Item = &'a str>, word: &str) -> Vec<String> {
    let lower = word.to_lowercase();
    let mut v: Vec<String> = items
        .into_iter()
        .filter(|i| i.to_lowercase().starts_with(&lower))
        .map(str::to_string)
        .collect();
    v.dedup();
    v
}

/// Quotes a value with spaces (`"Lead Synth"`).
fn quoted(s: &str) -> String {
    if s.contains(char::is_whitespace) {
        format!("\"{s}\"")
    } else {
        s.to_string()
    }
}

/// The line split before its last word (outside quotes).
fn split_last_word(line: &str) -> (&str, &str) {
    let mut start = 0;
    let mut quoted_now = false;
    for (i, ch) in line.char_indices() {
        match ch {
            '"' => quoted_now = !quoted_now,
            c if c.is_whitespace() && !quoted_now => start = i + c.len_utf8(),
            _ => {}
        }
    }
    line.split_at(start)
}

/// When the word being completed is a path (`:export PATH`): the line
/// before it and the word. Paths are listed on a thread of their own (`Effect::CompletePath`).
pub(crate) fn path_word(line: &str) -> Option<(String, String)> {
    let (head, word) = split_last_word(line);
    let command = line.split_whitespace().next()?;
    let is_path = matches!(command, "export" | "export!") && !head.trim().is_empty();
    is_path.then(|| (head.to_string(), word.to_string()))
}

/// Completes the last word of `line`.
pub(crate) fn complete(line: &str, ctx: &Context<'_>) -> Completion {
    // The word being completed starts after the last space outside quotes.
    let (head, word) = split_last_word(line);
    let head = head.to_string();
    let command = line.split_whitespace().next().unwrap_or("");
    let first = head.trim().is_empty();
    let candidates: Vec<String> = if first {
        let mut names: Vec<&str> = super::command::typed_names().collect();
        names.sort_unstable();
        matching(names, word)
    } else {
        match command {
            "sort" => {
                let (neg, w) = match word.strip_prefix('-') {
                    Some(w) => ("-", w),
                    None => ("", word),
                };
                let mut keys: Vec<String> = SORT_KEYS.iter().map(|s| s.to_string()).collect();
                keys.extend(ctx.quality_keys().iter().map(|k| format!("quality.{k}")));
                if neg.is_empty() {
                    keys.push("next".into());
                }
                matching(keys.iter().map(String::as_str), w)
                    .into_iter()
                    .map(|k| format!("{neg}{k}"))
                    .collect()
            }
            "filter" => complete_filter(word, ctx),
            "goto" | "play" | "delete" | "delete!" => {
                if word.len() < 2 {
                    Vec::new()
                } else {
                    ctx.ids(word)
                }
            }
            "help" => {
                let mut names: Vec<&str> =
                    super::command::COMMANDS.iter().map(|c| c.name).collect();
                names.sort_unstable();
                matching(names, word)
            }
            _ => Vec::new(),
        }
    };
    Completion {
        head,
        candidates,
        index: None,
    }
}

fn complete_filter(word: &str, ctx: &Context<'_>) -> Vec<String> {
    let (neg, w) = match word.strip_prefix('!') {
        Some(w) => ("!", w),
        None => ("", word),
    };
    let values = |key: &str, items: &BTreeSet<String>| -> Vec<String> {
        let typed = w[key.len()..].trim_start_matches('"');
        matching(items.iter().map(String::as_str), typed)
            .into_iter()
            .map(|v| format!("{neg}{key}{}", quoted(&v)))
            .collect()
    };
    if w.starts_with("model=") {
        return values("model=", &ctx.models());
    }
    if w.starts_with("preset=") {
        return values("preset=", &ctx.presets());
    }
    if w.starts_with("tag=") {
        return values("tag=", &ctx.tags());
    }
    if w.starts_with("stereo=") {
        let modes: BTreeSet<String> = ["mono".into(), "stereo".into()].into();
        return values("stereo=", &modes);
    }
    if let Some(q) = w.strip_prefix("quality.") {
        return matching(ctx.quality_keys().iter().map(String::as_str), q)
            .into_iter()
            .map(|k| format!("{neg}quality.{k}>"))
            .collect();
    }
    matching(FILTER_KEYS.iter().copied(), w)
        .into_iter()
        .map(|k| format!("{neg}{k}"))
        .collect()
}

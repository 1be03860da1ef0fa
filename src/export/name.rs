//! Export file names: a template of fields (`{model}_{preset}_{seed}_{id8}`)
//! filled from each take, made safe for every common file system, and
//! unique within the export (`-2`, `-3`, compared without case, as macOS
//! and Windows file systems compare).

use crate::store::annotations::Annotation;
use crate::store::HistoryEntry;
use std::collections::HashMap;

/// The default template.
pub const DEFAULT_TEMPLATE: &str = "{model}_{preset}_{seed}_{id8}";

/// The fields a template may use, with what each is.
pub const FIELDS: &[(&str, &str)] = &[
    ("model", "the model's name"),
    ("model_id", "the model's id"),
    ("preset", "the preset's name"),
    ("seed", "the seed"),
    ("rating", "the rating, 0 to 5"),
    ("tags", "the tags, joined by +"),
    ("date", "the take's date, 2026-11-20 (local time)"),
    ("time", "the take's time, 143005 (local time)"),
    ("id", "the whole id"),
    ("id8", "the id's first 8 characters"),
    ("n", "the take's place in this export, 001, 002, …"),
];

/// Whether `name` is a field of a template: one of [`FIELDS`] or a measure
/// of the analysis (`{lufs}`, `{peak}`, …: one decimal; empty when the take
/// is not measured, `na` when undefined).
pub fn is_field(name: &str) -> bool {
    FIELDS.iter().any(|(f, _)| *f == name) || crate::analysis::NAMES.contains(&name)
}

/// The longest name genhist writes (bytes, before `-2` and `.wav`): far
/// within every file system's 255.
const MAX_STEM: usize = 120;

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Field(String),
}

/// A parsed name template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

/// What a template reads besides the take: its annotations, its place in
/// the export, and values of other fields (the analysis' measures).
pub struct NameOf<'a> {
    pub entry: &'a HistoryEntry,
    pub annotation: &'a Annotation,
    /// 1-based place in the export, and how many there are.
    pub n: usize,
    pub of: usize,
    /// Values of fields this module does not know (`None`: unknown here).
    pub more: &'a dyn Fn(&str) -> Option<String>,
}

impl Default for Template {
    fn default() -> Template {
        Template::parse(DEFAULT_TEMPLATE, &|_| false).expect("the default parses")
    }
}

impl Template {
    /// True when a field of the template is a measure.
    pub fn uses_measures(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Field(f) if crate::analysis::NAMES.contains(&f.as_str())))
    }

    /// Parses `text`: `{field}` for a field, `{{` and `}}` for braces.
    /// `known` says which fields beyond [`FIELDS`] exist (the measures).
    pub fn parse(text: &str, known: &dyn Fn(&str) -> bool) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    lit.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => name.push(c),
                            None => return Err(format!("'{{{name}' is not closed with }}")),
                        }
                    }
                    if !is_field(&name) && !known(&name) {
                        return Err(format!(
                            "{{{name}}} is not a name field; the fields are {} and the measures {}",
                            FIELDS
                                .iter()
                                .map(|(f, _)| format!("{{{f}}}"))
                                .collect::<Vec<_>>()
                                .join(" "),
                            crate::analysis::NAMES
                                .iter()
                                .map(|f| format!("{{{f}}}"))
                                .collect::<Vec<_>>()
                                .join(" ")
                        ));
                    }
                    if !lit.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Field(name));
                }
                '}' => return Err("a lone } (write }} for a brace)".into()),
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        if parts.is_empty() {
            return Err("the name template is empty".into());
        }
        Ok(Template { parts })
    }

    /// The name of one take (not yet safe: see [`safe_name`]).
    pub fn render(&self, t: &NameOf<'_>) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(s) => out.push_str(s),
                Part::Field(f) => out.push_str(&field(f, t)),
            }
        }
        out
    }
}

fn field(name: &str, t: &NameOf<'_>) -> String {
    let e = t.entry;
    let local = e
        .time_us()
        .and_then(chrono::DateTime::from_timestamp_micros)
        .map(|u| u.with_timezone(&chrono::Local));
    match name {
        "model" => e.model_name().to_string(),
        "model_id" => e.model_id().to_string(),
        "preset" => e.preset_name().to_string(),
        "seed" => e.seed_text().to_string(),
        "rating" => t.annotation.rating.to_string(),
        "tags" => t.annotation.tags.join("+"),
        "date" => local.map_or_else(
            || e.timestamp().get(..10).unwrap_or_default().to_string(),
            |l| l.format("%Y-%m-%d").to_string(),
        ),
        "time" => local.map_or_else(String::new, |l| l.format("%H%M%S").to_string()),
        "id" => e.entry_id.clone(),
        "id8" => e.entry_id.chars().take(8).collect(),
        "n" => {
            let width = t.of.to_string().len().max(3);
            format!("{:0width$}", t.n)
        }
        other => (t.more)(other).unwrap_or_default(),
    }
}

/// Names Windows refuses whatever their extension.
fn reserved(stem: &str) -> bool {
    let base = stem.split('.').next().unwrap_or("").trim_end();
    let upper = base.to_ascii_uppercase();
    matches!(upper.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || ((upper.starts_with("COM") || upper.starts_with("LPT"))
            && upper.len() == 4
            && upper.as_bytes()[3].is_ascii_digit())
}

/// `raw` made safe as a file name on Linux, macOS and Windows file
/// systems: no path separators, no characters Windows refuses, no control
/// or invisible characters, no leading dot (hidden) or dash (an option to
/// the next command), no trailing dot or space, no reserved name, at most
/// [`MAX_STEM`] bytes; never empty.
pub fn safe_name(raw: &str) -> String {
    let mut s: String = raw
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if crate::text::acts_on_terminal(c) => '_',
            c => c,
        })
        .collect();
    // Runs of separators left by empty fields collapse.
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let trimmed = s
        .trim_start_matches(['.', '-', ' ', '_'])
        .trim_end_matches(['.', ' ', '_']);
    let mut s = trimmed.to_string();
    if s.len() > MAX_STEM {
        let cut = (0..=MAX_STEM)
            .rev()
            .find(|&i| s.is_char_boundary(i))
            .unwrap_or(0);
        s.truncate(cut);
        s = s.trim_end_matches(['.', ' ', '_']).to_string();
    }
    if s.is_empty() {
        s = "take".into();
    }
    if reserved(&s) {
        s.insert(0, '_');
    }
    s
}

/// Makes `stems` unique (without regard to case): the second take that
/// would share a name gets `-2`, the third `-3`, in order.
pub fn unique(stems: Vec<String>) -> Vec<String> {
    let mut used: HashMap<String, usize> = HashMap::new();
    let taken: std::collections::HashSet<String> = stems.iter().map(|s| s.to_lowercase()).collect();
    let mut out = Vec::with_capacity(stems.len());
    for s in stems {
        let key = s.to_lowercase();
        let n = {
            let n = used.entry(key.clone()).or_insert(0);
            *n += 1;
            *n
        };
        if n == 1 {
            out.push(s);
            continue;
        }
        // The next free suffix (a name like "x-2" may be another take's own).
        let mut k = n;
        loop {
            let candidate = format!("{s}-{k}");
            let ck = candidate.to_lowercase();
            if !taken.contains(&ck) && !used.contains_key(&ck) {
                used.insert(ck, 1);
                *used.get_mut(&key).expect("present") = k;
                out.push(candidate);
                break;
            }
            k += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn unsafe_names_are_made_safe() {
        for (raw, want) in [
            ("a/b\\c:d", "a_b_c_d"),
            ("..hidden", "hidden"),
            ("-rf", "rf"),
            ("CON", "_CON"),
            ("com1.txt", "_com1.txt"),
            ("trail. ", "trail"),
            ("", "take"),
            ("\u{1b}[31mred", "[31mred"),
            ("a__b", "a_b"),
        ] {
            assert_eq!(safe_name(raw), want, "{raw:?}");
        }
        let long = "é".repeat(200);
        let s = safe_name(&long);
        assert!(s.len() <= MAX_STEM && s.chars().all(|c| c == 'é'));
    }

    #[test]
    fn collisions_get_numbers_without_regard_to_case() {
        let got = unique(vec!["a".into(), "A".into(), "a".into(), "a-2".into()]);
        assert_eq!(got, vec!["a", "A-3", "a-4", "a-2"]);
    }

    #[test]
    fn templates_parse_and_refuse_unknown_fields() {
        let none = |_: &str| false;
        assert!(Template::parse("{model}_{{x}}", &none).is_ok());
        let e = Template::parse("{nope}", &none).unwrap_err();
        assert!(e.contains("{nope}") && e.contains("{id8}"), "{e}");
        assert!(Template::parse("{model", &none).is_err());
        assert!(Template::parse("a}", &none).is_err());
    }

    proptest! {
        #[test]
        fn any_text_gives_a_safe_name(raw in "\\PC{0,300}") {
            let s = safe_name(&raw);
            prop_assert!(!s.is_empty() && s.len() <= MAX_STEM + 1);
            prop_assert!(!s.starts_with('.') && !s.starts_with('-'));
            prop_assert!(!s.ends_with('.') && !s.ends_with(' '));
            prop_assert!(!s.chars().any(|c| "/\\\\:*?\"<>|".contains(c) || c.is_control()));
            prop_assert!(!reserved(&s));
        }

        #[test]
        fn unique_names_are_unique(stems in proptest::collection::vec("[aAbB]{1,2}(-[23])?", 0..30)) {
            let out = unique(stems.clone());
            let lower: std::collections::HashSet<String> = out.iter().map(|s| s.to_lowercase()).collect();
            prop_assert_eq!(lower.len(), out.len());
            prop_assert_eq!(out.len(), stems.len());
        }
    }
}

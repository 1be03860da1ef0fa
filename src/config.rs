//! The user's settings: `$XDG_CONFIG_HOME/genhist/config.toml` (else
//! `~/.config/genhist/config.toml`). Every setting has a default; a file
//! that cannot be read or parsed gives a message naming the line, and
//! genhist starts with the defaults. `docs/config.md` lists every setting.

use crate::query::Sort;
use crate::ui::keymap::{parse_key, KeyMode};
use crate::ui::Settings;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// The settings genhist runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// How long deleted takes stay in the trash; `None`: until purged by hand.
    pub trash_retention: Option<Duration>,
    /// The browser's default sort, theme and key bindings.
    pub browser: Settings,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            trash_retention: Some(crate::store::dir::DEFAULT_RETENTION),
            browser: Settings::default(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    default_sort: Option<Spanned<String>>,
    #[serde(default)]
    trash: TrashSection,
    #[serde(default)]
    export: ExportSection,
    #[serde(default)]
    list: ListSection,
    #[serde(default)]
    audio: AudioSection,
    #[serde(default)]
    theme: BTreeMap<String, Spanned<String>>,
    /// Mode name → key → command line.
    #[serde(default)]
    keys: BTreeMap<String, BTreeMap<String, Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TrashSection {
    /// "7d", "12h", "2w", or "never".
    retention: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AudioSection {
    /// The output device's name (or a unique part of it).
    device: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListSection {
    /// Measures shown as columns: "lufs", "peak", ...
    columns: Option<Spanned<Vec<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ExportSection {
    /// The name template, e.g. "{model}_{preset}_{seed}_{id8}".
    name: Option<Spanned<String>>,
}

/// Where the config file is looked for.
pub fn path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".config")))?;
    Some(base.join("genhist").join("config.toml"))
}

/// Loads the settings; the message says what was wrong with the file (the
/// defaults are used then).
pub fn load() -> (Config, Option<String>) {
    match path() {
        // Anything there (a FIFO, a dangling link too) is looked at.
        Some(p) if p.symlink_metadata().is_ok() => load_from(&p),
        _ => (Config::default(), None),
    }
}

/// The largest config file genhist reads.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Loads the settings from `path` (a regular file, or a symlink to one, of
/// at most 1 MiB: anything else is refused at once, never read).
fn load_from(path: &Path) -> (Config, Option<String>) {
    let text = crate::fsutil::read_regular_bounded(path, MAX_CONFIG_BYTES).and_then(|b| {
        String::from_utf8(b).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8 text")
        })
    });
    let text = match text {
        Ok(t) => t,
        Err(e) => {
            let why = match crate::fsutil::refusal(&e) {
                Some(r) => r.to_string(),
                None => format!("cannot read {}: {e}", path.display()),
            };
            return (
                Config::default(),
                Some(format!("{why}; using the defaults")),
            );
        }
    };
    match parse(&text) {
        Ok(c) => (c, None),
        Err(e) => (
            Config::default(),
            Some(format!("{}: {e}; using the defaults", path.display())),
        ),
    }
}

/// Parses a config file's text; the error names the line.
pub fn parse(text: &str) -> Result<Config, String> {
    let line = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    let file: File = toml::from_str(text).map_err(|e| match e.span() {
        Some(s) => format!("line {}: {}", line(s.start), e.message()),
        None => e.message().to_string(),
    })?;
    // A setting's error, at the line of its value.
    let at = |v: &Spanned<String>, what: &str, e: String| {
        format!("line {}: {what}: {e}", line(v.span().start))
    };
    let mut c = Config::default();
    if let Some(r) = &file.trash.retention {
        c.trash_retention = match r.get_ref().trim() {
            "never" => None,
            d => Some(crate::text::parse_duration(d).map_err(|e| at(r, "trash.retention", e))?),
        };
    }
    if let Some(d) = &file.audio.device {
        let name = d.get_ref().trim();
        if name.is_empty() {
            return Err(format!(
                "line {}: audio.device is empty",
                line(d.span().start)
            ));
        }
        c.browser.device = Some(name.to_string());
    }
    if let Some(cols) = &file.list.columns {
        for name in cols.get_ref() {
            match crate::analysis::NAMES.iter().find(|n| **n == name.as_str()) {
                Some(n) => c.browser.columns.push(n),
                None => {
                    return Err(format!(
                        "line {}: list.columns: '{}' is not a measure ({})",
                        line(cols.span().start),
                        name,
                        crate::analysis::NAMES.join(", ")
                    ))
                }
            }
        }
    }
    if let Some(n) = &file.export.name {
        c.browser.export_name = crate::export::name::Template::parse(n.get_ref(), &|_| false)
            .map_err(|e| at(n, "export.name", e))?;
    }
    if let Some(s) = &file.default_sort {
        c.browser.sort = Sort::parse(s.get_ref()).map_err(|e| at(s, "default_sort", e))?;
    }
    for (name, value) in &file.theme {
        c.browser
            .theme
            .set(name, value.get_ref())
            .map_err(|e| at(value, &format!("theme.{name}"), e))?;
    }
    for (mode_name, keys) in &file.keys {
        let Some(mode) = KeyMode::from_name(mode_name) else {
            let where_ = keys
                .values()
                .next()
                .map(|v| format!("line {}: ", line(v.span().start)))
                .unwrap_or_default();
            return Err(format!(
                "{where_}unknown mode [keys.{mode_name}] (modes: {})",
                KeyMode::ALL.map(KeyMode::name).join(", ")
            ));
        };
        for (key, command) in keys {
            let what = format!("keys.{mode_name} \"{key}\"");
            let (code, mods) = parse_key(key).map_err(|e| at(command, &what, e))?;
            let line_text = command.get_ref().trim().trim_start_matches(':').to_string();
            crate::ui::command::parse(&line_text).map_err(|e| at(command, &what, e))?;
            c.browser.keys.bindings.push((mode, code, mods, line_text));
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyModifiers};

    #[test]
    fn every_setting_parses() {
        let c = parse(
            "default_sort = \"-duration\"\n\
             [trash]\nretention = \"2d\"\n\
             [theme]\naccent = \"#ff8800\"\nwaveform = \"none\"\n\
             [keys.normal]\nx = \"delete\"\n\"ctrl-p\" = \":play\"\n\
             [keys.popup]\nspace = \"down\"\n",
        )
        .unwrap();
        assert_eq!(c.trash_retention, Some(Duration::from_secs(2 * 86_400)));
        assert_eq!(c.browser.sort, Sort::parse("-duration").unwrap());
        assert_eq!(c.browser.theme.accent, Some("#ff8800".parse().unwrap()));
        assert_eq!(c.browser.theme.waveform, None);
        assert_eq!(
            c.browser.keys.bindings,
            vec![
                (
                    KeyMode::Normal,
                    KeyCode::Char('p'),
                    KeyModifiers::CONTROL,
                    "play".to_string()
                ),
                (
                    KeyMode::Normal,
                    KeyCode::Char('x'),
                    KeyModifiers::NONE,
                    "delete".to_string()
                ),
                (
                    KeyMode::Popup,
                    KeyCode::Char(' '),
                    KeyModifiers::NONE,
                    "down".to_string()
                ),
            ]
        );
        assert_eq!(
            parse("[trash]\nretention = \"never\"\n")
                .unwrap()
                .trash_retention,
            None
        );
        assert_eq!(parse("").unwrap(), Config::default());
    }

    #[test]
    fn the_documented_example_is_the_defaults() {
        let doc = include_str!("../docs/config.md");
        let start = doc.find("```toml\n").unwrap() + "```toml\n".len();
        let end = start + doc[start..].find("```").unwrap();
        assert_eq!(parse(&doc[start..end]).unwrap(), Config::default());
    }

    #[test]
    fn errors_name_the_line() {
        for (text, line, says) in [
            ("[trash]\nretention = \"soon\"\n", 2, "soon"),
            ("\n[trash]\ncolour = 1\n", 3, "colour"),
            ("colour = 1\n", 1, "colour"),
            ("\n\ndefault_sort = \"loudest\"\n", 3, "loudest"),
            ("[theme]\naccent = \"blurple\"\n", 2, "blurple"),
            ("[theme]\n\nglow = \"red\"\n", 3, "glow"),
            ("[keys.normal]\nx = \"frobnicate\"\n", 2, "frobnicate"),
            ("[keys.normal]\n\"hyper-x\" = \"play\"\n", 2, "hyper-x"),
            ("[keys.sideways]\nx = \"play\"\n", 2, "sideways"),
            ("[trash\n", 1, ""),
        ] {
            let e = parse(text).unwrap_err();
            assert!(
                e.starts_with(&format!("line {line}:")) && e.contains(says),
                "{text:?}: {e}"
            );
        }
    }
}

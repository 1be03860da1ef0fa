//! The user's settings: `$XDG_CONFIG_HOME/genhist/config.toml` (else
//! `~/.config/genhist/config.toml`). Every setting has a default; a file
//! that cannot be read or parsed gives a message naming the line, and
//! genhist starts with the defaults. `docs/config.md` lists every setting.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The settings genhist runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// How long deleted takes stay in the trash; `None`: until purged by hand.
    pub trash_retention: Option<Duration>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            trash_retention: Some(crate::store::txn::DEFAULT_RETENTION),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    trash: TrashSection,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TrashSection {
    /// "7d", "12h", "2w", or "never".
    retention: Option<String>,
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
        Some(p) if p.exists() => load_from(&p),
        _ => (Config::default(), None),
    }
}

/// Loads the settings from `path`.
pub fn load_from(path: &Path) -> (Config, Option<String>) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return (
                Config::default(),
                Some(format!(
                    "cannot read {}: {e}; using the defaults",
                    path.display()
                )),
            )
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
    let at_line = |span: Option<std::ops::Range<usize>>| {
        span.map(|s| {
            format!(
                "line {}: ",
                text[..s.start.min(text.len())].matches('\n').count() + 1
            )
        })
        .unwrap_or_default()
    };
    let file: File =
        toml::from_str(text).map_err(|e| format!("{}{}", at_line(e.span()), e.message()))?;
    let mut c = Config::default();
    if let Some(r) = file.trash.retention {
        c.trash_retention = match r.trim() {
            "never" => None,
            d => Some(crate::text::parse_duration(d).map_err(|e| {
                let line = text
                    .lines()
                    .position(|l| l.trim_start().starts_with("retention"))
                    .map(|i| format!("line {}: ", i + 1))
                    .unwrap_or_default();
                format!("{line}trash.retention: {e}")
            })?),
        };
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_parses_and_errors_name_the_line() {
        assert_eq!(
            parse("[trash]\nretention = \"2d\"\n")
                .unwrap()
                .trash_retention,
            Some(Duration::from_secs(2 * 86_400))
        );
        assert_eq!(
            parse("[trash]\nretention = \"never\"\n")
                .unwrap()
                .trash_retention,
            None
        );
        assert_eq!(parse("").unwrap(), Config::default());
        let e = parse("[trash]\nretention = \"soon\"\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("soon"), "{e}");
        let e = parse("\n[trash]\ncolour = 1\n").unwrap_err();
        assert!(e.contains("line 3"), "{e}");
    }
}

//! One command language for keys and the `:` bar: every key binding is a
//! command line, parsed here into a [`Command`].

use crate::playback::SeekTo;
use crate::query::{Filter, Sort};

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    HalfDown,
    HalfUp,
    /// Open the `/` search.
    Search,
    /// Open the `:` bar.
    CommandBar,
    Mark,
    /// Ask to delete these ids (empty = marked or selected).
    Delete(Vec<String>),
    Undo,
    Filter(Filter),
    Sort(Sort),
    /// Clear search, filter and marks.
    Clear,
    Goto(String),
    Export(String),
    Repair,
    Stats,
    History(usize),
    Help,
    Quit,
    Play(Option<String>),
    Pause,
    Stop,
    Seek(SeekTo),
    /// Absolute percent, or relative when `relative`.
    Volume {
        value: i32,
        relative: bool,
    },
    Loop,
    Autoplay,
    /// Searches the command history (Ctrl-r).
    HistorySearch,
}

/// Command names for Tab completion and `:help`.
pub const NAMES: &[&str] = &[
    "autoplay", "clear", "delete", "export", "filter", "goto", "help", "history", "loop", "pause",
    "play", "q", "quit", "repair", "seek", "sort", "stats", "stop", "undo", "volume",
];

/// Parses one command line (without the leading `:`).
pub fn parse(line: &str) -> Result<Command, String> {
    let line = line.trim();
    let (name, rest) = match line.split_once(char::is_whitespace) {
        Some((n, r)) => (n, r.trim()),
        None => (line, ""),
    };
    let no_args = |c: Command| {
        if rest.is_empty() {
            Ok(c)
        } else {
            Err(format!(":{name} takes no arguments"))
        }
    };
    match name {
        "down" => no_args(Command::Down),
        "up" => no_args(Command::Up),
        "top" => no_args(Command::Top),
        "bottom" => no_args(Command::Bottom),
        "pagedown" => no_args(Command::PageDown),
        "pageup" => no_args(Command::PageUp),
        "halfdown" => no_args(Command::HalfDown),
        "halfup" => no_args(Command::HalfUp),
        "search" => no_args(Command::Search),
        "command" => no_args(Command::CommandBar),
        "mark" => no_args(Command::Mark),
        "history-search" => no_args(Command::HistorySearch),
        "delete" => Ok(Command::Delete(
            rest.split_whitespace().map(str::to_string).collect(),
        )),
        "undo" => no_args(Command::Undo),
        "filter" => Filter::parse(rest).map(Command::Filter),
        "sort" => Sort::parse(rest).map(Command::Sort),
        "clear" => no_args(Command::Clear),
        "goto" if !rest.is_empty() => Ok(Command::Goto(rest.to_string())),
        "goto" => Err(":goto needs an id prefix".into()),
        "export" if !rest.is_empty() => Ok(Command::Export(rest.to_string())),
        "export" => Err(":export needs a destination path".into()),
        "repair" => no_args(Command::Repair),
        "stats" => no_args(Command::Stats),
        "history" => match rest {
            "" => Ok(Command::History(10)),
            n => n
                .parse()
                .map(Command::History)
                .map_err(|_| format!(":history takes a count, not '{n}'")),
        },
        "help" | "?" => no_args(Command::Help),
        "q" | "quit" => no_args(Command::Quit),
        "play" => Ok(Command::Play((!rest.is_empty()).then(|| rest.to_string()))),
        "pause" => no_args(Command::Pause),
        "stop" => no_args(Command::Stop),
        "seek" => SeekTo::parse(rest).map(Command::Seek),
        "volume" => {
            let relative = rest.starts_with(['+', '-']);
            rest.parse::<i32>()
                .ok()
                .filter(|v| relative || (0..=150).contains(v))
                .map(|value| Command::Volume { value, relative })
                .ok_or_else(|| format!(":volume takes 0..150 (or +10/-10), not '{rest}'"))
        }
        "loop" => no_args(Command::Loop),
        "autoplay" => no_args(Command::Autoplay),
        "" => Err("empty command".into()),
        other => Err(format!("unknown command ':{other}' (try :help)")),
    }
}

/// Completes a command name: the common prefix of all names starting with `typed`.
pub fn complete(typed: &str) -> Option<String> {
    if typed.contains(char::is_whitespace) {
        return None;
    }
    let hits: Vec<&str> = NAMES
        .iter()
        .copied()
        .filter(|n| n.starts_with(typed))
        .collect();
    let first = hits.first()?;
    let mut common = first.to_string();
    for h in &hits[1..] {
        while !h.starts_with(&common) {
            common.pop();
        }
    }
    if hits.len() == 1 {
        common.push(' ');
    }
    Some(common)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_rejects_bad_arguments() {
        assert_eq!(parse("sort oldest"), Ok(Command::Sort(Sort::Oldest)));
        assert_eq!(
            parse("delete ab12 cd34"),
            Ok(Command::Delete(vec!["ab12".into(), "cd34".into()]))
        );
        assert_eq!(
            parse("volume 80"),
            Ok(Command::Volume {
                value: 80,
                relative: false
            })
        );
        assert_eq!(
            parse("volume -10"),
            Ok(Command::Volume {
                value: -10,
                relative: true
            })
        );
        assert!(parse("volume 300").is_err());
        assert_eq!(parse("seek 1:30"), Ok(Command::Seek(SeekTo::To(90.0))));
        assert_eq!(parse("seek -5"), Ok(Command::Seek(SeekTo::By(-5.0))));
        assert!(parse("seek soon").is_err());
        assert!(parse("frobnicate").unwrap_err().contains("unknown command"));
        assert!(parse("quit now").is_err());
        assert!(parse("filter duration>x").is_err());
    }

    #[test]
    fn tab_completes_names() {
        assert_eq!(complete("so").as_deref(), Some("sort "));
        assert_eq!(complete("s").as_deref(), Some("s"));
        assert_eq!(complete("st").as_deref(), Some("st"));
        assert_eq!(complete("zz"), None);
    }
}

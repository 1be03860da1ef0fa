//! One command language for keys and the `:` bar: every key binding is a
//! command line, parsed here into a [`Command`]. [`COMMANDS`] describes them
//! all (help, `:help CMD` and completion come from it).

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
    NextMatch,
    PrevMatch,
    /// Open the `:` bar.
    CommandBar,
    Mark,
    /// Ask to delete these ids (empty = marked or selected); `permanent`
    /// skips the trash.
    Delete {
        ids: Vec<String>,
        permanent: bool,
    },
    Undo,
    Redo,
    /// Waveforms or spectrograms (`v`).
    Spectrogram,
    /// The output device picker.
    Device,
    Filter(Filter),
    Sort(Sort),
    /// The next order of the sort cycle.
    SortNext,
    /// Clear search, filter, marks and the message.
    Clear,
    Goto(String),
    Export {
        dest: String,
        overwrite: bool,
    },
    Repair,
    Stats,
    History(usize),
    Messages,
    /// Help: all of it, or one command.
    Help(Option<String>),
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
    /// Rate the selected take (or the one heard in the A/B view) 0..=5.
    Rate(u8),
    /// Reject / un-reject it.
    Reject,
    /// Add and remove tags.
    Tag {
        add: Vec<String>,
        remove: Vec<String>,
    },
    /// Set (or, empty, remove) the note.
    Note(String),
    /// Culling mode on / off: rating or rejecting moves on and plays.
    Cull,
    /// Ask to move every rejected take to the trash.
    Purge,
    /// Order the list by likeness to the selected take.
    Similar,
    /// Open the A/B view: these two takes, or the marked two, or the
    /// selected and the previously selected.
    Ab(Vec<String>),
    /// In the A/B view: hear the other take at the same position.
    AbSwitch,
    /// In the A/B view: loudness matching on / off.
    AbLevel,
    // What keys do in the other modes.
    /// Enter in a text mode.
    Accept,
    /// Esc in a text mode.
    Cancel,
    /// Older / newer command in the bar.
    Older,
    Newer,
    /// Tab and Shift-Tab in the bar.
    Complete,
    CompleteBack,
    Yes,
    No,
    Close,
}

/// A command of the `:` language as help shows it.
pub struct CommandInfo {
    pub name: &'static str,
    pub args: &'static str,
    pub help: &'static str,
    /// Used by keys of a mode (Enter, Tab, y/n, ...), not typed in the bar.
    pub mode_key: bool,
}

const fn c(name: &'static str, args: &'static str, help: &'static str) -> CommandInfo {
    CommandInfo {
        name,
        args,
        help,
        mode_key: false,
    }
}

const fn k(name: &'static str, help: &'static str) -> CommandInfo {
    CommandInfo {
        name,
        args: "",
        help,
        mode_key: true,
    }
}

/// The README's table of `:` commands (a test keeps it equal).
pub fn markdown_table() -> String {
    let mut s = String::from("| command | what it does |\n|---|---|\n");
    for c in COMMANDS.iter().filter(|c| !c.mode_key) {
        let usage = if c.args.is_empty() {
            format!(":{}", c.name)
        } else {
            format!(":{} {}", c.name, c.args)
        };
        s.push_str(&format!(
            "| `{}` | {} |\n",
            usage.replace('|', "\\|"),
            c.help.replace('|', "\\|")
        ));
    }
    s
}

/// Every command, in the order help lists them.
pub(crate) const COMMANDS: &[CommandInfo] = &[
    c("filter", "[TERMS]", crate::query::FILTER_HELP),
    c("sort", "KEY", "order by newest, oldest, duration, seed, model, rating or quality.KEY (-KEY reverses; next cycles)"),
    c("goto", "ID", "select the take with this id or unique prefix"),
    c("search", "", "open the / search"),
    c("clear", "", "clear search, filter, marks and the message"),
    c("play", "[ID]", "play the selected (or given) take"),
    c("pause", "", "pause / resume"),
    c("stop", "", "stop playback"),
    c("seek", "+5|-5|SECS|M:SS", "seek by or to a position (past the end: wraps when looping)"),
    c("volume", "0..150|+N|-N", "set or change the volume"),
    c("loop", "", "loop the take on / off"),
    c("autoplay", "", "play each take the selection moves to"),
    c("mark", "", "mark / unmark the selected take"),
    c("delete", "[ID...]", "move marked, given or selected takes to the trash, after y/n"),
    c("delete!", "[ID...]", "delete for good (no trash), after y/n"),
    c(
        "undo",
        "",
        "take back the newest decision: rating, reject, tag, note, delete, purge, repair",
    ),
    c("redo", "", "do again what the last undo took back"),
    c(
        "spectrogram",
        "",
        "show spectrograms instead of waveforms (again: waveforms)",
    ),
    c(
        "device",
        "",
        "pick the output device (what plays goes on there at once)",
    ),
    c("repair", "", "list takes whose WAV is missing; after y/n move them to the trash"),
    c(
        "export",
        "DEST",
        "export the marked takes (none: the shown ones after y/n when filtered, else the selected) into DEST (~ is home; NAME.wav for one take)",
    ),
    c("export!", "DEST", "the same, replacing files that are there"),
    c("rate", "0..5", "rate the take (0 removes the rating); in culling mode the next take plays"),
    c("reject", "", "reject / un-reject the take; in culling mode the next take plays"),
    c("tag", "+TAG -TAG", "add (+TAG or TAG) and remove (-TAG) tags of the take"),
    c("note", "TEXT", "set the take's note (nothing removes it)"),
    c("cull", "", "culling mode on / off: 1-5, 0 and x rate or reject, then the next take plays"),
    c("purge", "", "move every rejected take to the trash, after y/n (u undoes)"),
    c("similar", "", "order the takes by likeness to the selected one (latent vector, else parameters)"),
    c("ab", "[ID ID]", "compare two takes (default: the two marked, or this and the previous one)"),
    c("stats", "", "count, sizes, trash, per model"),
    c("history", "[N]", "the last N commands of this bar"),
    c("messages", "", "the recent messages in full, errors first"),
    c("help", "[CMD]", "keys and commands, or one command"),
    c("quit", "", "quit (also :q)"),
    c("down", "", "next take"),
    c("up", "", "previous take"),
    c("top", "", "first take"),
    c("bottom", "", "last take"),
    c("pagedown", "", "a page down"),
    c("pageup", "", "a page up"),
    c("halfdown", "", "half a page down"),
    c("halfup", "", "half a page up"),
    c("next-match", "", "next search match"),
    c("prev-match", "", "previous search match"),
    c("command", "", "open the command bar"),
    c("history-search", "", "search the command history"),
    k("accept", "Enter in the search and command bar"),
    k("cancel", "Esc in the search and command bar"),
    k("older", "older command in the bar"),
    k("newer", "newer command in the bar"),
    k("complete", "complete (Tab)"),
    k("complete-back", "previous completion (Shift-Tab)"),
    k("ab-switch", "A/B view: hear the other take at the same position"),
    k("ab-level", "A/B view: loudness matching on / off"),
    k("yes", "answer yes"),
    k("no", "answer no"),
    k("close", "close a popup"),
];

/// The description of the command `name` (aliases resolved).
pub(crate) fn info(name: &str) -> Option<&'static CommandInfo> {
    let name = match name.trim_start_matches(':') {
        "q" => "quit",
        "?" => "help",
        n => n,
    };
    COMMANDS.iter().find(|c| c.name == name)
}

/// Parses one command line (without the leading `:`).
///
/// Long by design: one arm per command, the language in one place.
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
    let ids = || rest.split_whitespace().map(str::to_string).collect();
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
        "next-match" => no_args(Command::NextMatch),
        "prev-match" => no_args(Command::PrevMatch),
        "command" => no_args(Command::CommandBar),
        "mark" => no_args(Command::Mark),
        "history-search" => no_args(Command::HistorySearch),
        "delete" => Ok(Command::Delete {
            ids: ids(),
            permanent: false,
        }),
        "delete!" => Ok(Command::Delete {
            ids: ids(),
            permanent: true,
        }),
        "undo" => no_args(Command::Undo),
        "redo" => no_args(Command::Redo),
        "spectrogram" => no_args(Command::Spectrogram),
        "device" => no_args(Command::Device),
        "filter" => Filter::parse(rest).map(Command::Filter),
        "sort" if rest == "next" => Ok(Command::SortNext),
        "sort" if rest.is_empty() => Err(
            ":sort needs a key: newest, oldest, duration, seed, model, rating or quality.KEY"
                .into(),
        ),
        "sort" => Sort::parse(rest).map(Command::Sort),
        "clear" => no_args(Command::Clear),
        "goto" if !rest.is_empty() => Ok(Command::Goto(rest.to_string())),
        "goto" => Err(":goto needs an id prefix".into()),
        "export" | "export!" if !rest.is_empty() => Ok(Command::Export {
            dest: rest.to_string(),
            overwrite: name == "export!",
        }),
        "export" | "export!" => Err(format!(":{name} needs a destination path")),
        "repair" => no_args(Command::Repair),
        "stats" => no_args(Command::Stats),
        "rate" => rest
            .parse::<u8>()
            .ok()
            .filter(|n| *n <= 5)
            .map(Command::Rate)
            .ok_or_else(|| format!(":rate takes 0 to 5, not '{rest}'")),
        "reject" => no_args(Command::Reject),
        "tag" if rest.is_empty() => Err(":tag needs +TAG or -TAG".into()),
        "tag" => {
            // Quotes keep spaces in a tag, as in :filter.
            let (mut add, mut remove) = (Vec::new(), Vec::new());
            for w in crate::query::words(rest)? {
                let (list, tag) = match w.strip_prefix('-') {
                    Some(t) => (&mut remove, t),
                    None => (&mut add, w.strip_prefix('+').unwrap_or(&w)),
                };
                list.push(clean_tag(tag)?);
            }
            Ok(Command::Tag { add, remove })
        }
        "note" => Ok(Command::Note(crate::query::words(rest)?.join(" "))),
        "cull" => no_args(Command::Cull),
        "purge" => no_args(Command::Purge),
        "similar" => no_args(Command::Similar),
        "ab" => match ids().len() {
            0 | 2 => Ok(Command::Ab(ids())),
            _ => Err(":ab takes two ids, or none".into()),
        },
        "ab-switch" => no_args(Command::AbSwitch),
        "ab-level" => no_args(Command::AbLevel),
        "messages" => no_args(Command::Messages),
        "history" => match rest {
            "" => Ok(Command::History(10)),
            n => n
                .parse()
                .map(Command::History)
                .map_err(|_| format!(":history takes a count, not '{n}'")),
        },
        "help" | "?" if rest.is_empty() => Ok(Command::Help(None)),
        "help" | "?" => match info(rest) {
            Some(i) => Ok(Command::Help(Some(i.name.to_string()))),
            None => Err(format!("no command ':{rest}' (try :help)")),
        },
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
        "accept" => no_args(Command::Accept),
        "cancel" => no_args(Command::Cancel),
        "older" => no_args(Command::Older),
        "newer" => no_args(Command::Newer),
        "complete" => no_args(Command::Complete),
        "complete-back" => no_args(Command::CompleteBack),
        "yes" => no_args(Command::Yes),
        "no" => no_args(Command::No),
        "close" => no_args(Command::Close),
        "" => Err("empty command".into()),
        other => Err(format!("unknown command ':{other}' (try :help)")),
    }
}

/// A tag as typed: a leading `#` (how tags are shown) is not part of it;
/// it is not empty and holds no control characters.
pub(crate) fn clean_tag(t: &str) -> Result<String, String> {
    let t = t.trim().trim_start_matches('#').trim();
    if t.is_empty() {
        return Err("an empty tag".into());
    }
    if t.chars().any(char::is_control) {
        return Err("a tag cannot hold control characters".into());
    }
    Ok(t.to_string())
}

/// The names a command line can start with (for completion).
pub(crate) fn typed_names() -> impl Iterator<Item = &'static str> {
    COMMANDS
        .iter()
        .filter(|c| !c.mode_key)
        .map(|c| c.name)
        .chain(["q"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_rejects_bad_arguments() {
        assert_eq!(
            parse("sort oldest"),
            Ok(Command::Sort(Sort::parse("oldest").unwrap()))
        );
        assert_eq!(
            parse("delete ab12 cd34"),
            Ok(Command::Delete {
                ids: vec!["ab12".into(), "cd34".into()],
                permanent: false
            })
        );
        assert_eq!(
            parse("delete!"),
            Ok(Command::Delete {
                ids: vec![],
                permanent: true
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
        assert!(parse("seek soon").is_err());
        assert!(parse("frobnicate").unwrap_err().contains("unknown command"));
        assert!(parse("quit now").is_err());
        assert!(parse("filter duration>x").is_err());
        assert_eq!(parse("help sort"), Ok(Command::Help(Some("sort".into()))));
        assert_eq!(parse("help :q"), Ok(Command::Help(Some("quit".into()))));
        assert!(parse("help nope").is_err());
        assert_eq!(
            parse("export! ~/x.wav"),
            Ok(Command::Export {
                dest: "~/x.wav".into(),
                overwrite: true
            })
        );
    }

    #[test]
    fn every_described_command_parses() {
        for i in COMMANDS {
            let line = match i.name {
                "goto" => "goto abcd".to_string(),
                "export" | "export!" => format!("{} /tmp/x", i.name),
                "seek" => "seek +5".into(),
                "volume" => "volume 50".into(),
                "sort" => "sort duration".into(),
                "rate" => "rate 3".into(),
                "tag" => "tag +keep -old".into(),
                n => n.to_string(),
            };
            assert!(parse(&line).is_ok(), "{line}");
        }
    }
}

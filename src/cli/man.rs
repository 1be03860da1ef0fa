//! `genhist man`: one manual page with everything in it — the options,
//! every command with its own options, the browser's keys (from the key
//! tables), the filter language, the files genhist reads and writes, the
//! environment and the exit status. Nothing refers to a page that is not
//! installed.

use std::io::Write;

/// Text for roff: backslashes escaped, a line never starting with a
/// control character.
fn esc(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    s.lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn section(w: &mut dyn Write, title: &str) -> std::io::Result<()> {
    writeln!(w, ".SH {title}")
}

/// `.TP` items: a bold head and its text.
fn item(w: &mut dyn Write, head: &str, text: &str) -> std::io::Result<()> {
    writeln!(w, ".TP\n\\fB{}\\fR\n{}", esc(head), esc(text))
}

/// How an argument is written in a synopsis: `--limit N`, `ID`, `[TAG...]`.
fn arg_usage(a: &clap::Arg) -> String {
    let value = a
        .get_value_names()
        .map(|v| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| a.get_id().as_str().to_uppercase());
    let takes_value = a.get_action().takes_values();
    let many = matches!(a.get_action(), clap::ArgAction::Append)
        || a.get_num_args().is_some_and(|n| n.max_values() > 1);
    match (a.get_long(), a.get_short()) {
        (Some(l), _) if takes_value => format!("--{l} {value}"),
        (Some(l), _) => format!("--{l}"),
        (None, Some(c)) if takes_value => format!("-{c} {value}"),
        (None, Some(c)) => format!("-{c}"),
        (None, None) if many => format!("{value}..."),
        (None, None) => value,
    }
}

fn options(w: &mut dyn Write, cmd: &clap::Command, skip_global: bool) -> std::io::Result<()> {
    for a in cmd.get_arguments() {
        if a.is_hide_set() || (skip_global && a.is_global_set()) {
            continue;
        }
        let id = a.get_id().as_str();
        if id == "help" || id == "version" {
            continue;
        }
        let help = a.get_help().map(|h| h.to_string()).unwrap_or_default();
        item(w, &arg_usage(a), &help)?;
    }
    Ok(())
}

/// Every command (and command of a command) with its options.
fn commands(w: &mut dyn Write, cmd: &clap::Command, prefix: &str) -> std::io::Result<()> {
    for sub in cmd.get_subcommands() {
        let name = sub.get_name();
        if name == "help" {
            continue;
        }
        let full = format!("{prefix} {name}");
        let args: Vec<String> = sub
            .get_arguments()
            .filter(|a| !a.is_global_set() && !a.is_hide_set())
            .filter(|a| !matches!(a.get_id().as_str(), "help" | "version"))
            .map(|a| {
                let u = arg_usage(a);
                if a.is_required_set() {
                    u
                } else {
                    format!("[{u}]")
                }
            })
            .collect();
        let about = sub.get_about().map(|h| h.to_string()).unwrap_or_default();
        writeln!(w, ".TP")?;
        writeln!(w, "\\fB{}\\fR {}", esc(&full), esc(&args.join(" ")))?;
        writeln!(w, "{}", esc(&about))?;
        if sub.has_subcommands() {
            writeln!(w, ".RS")?;
            commands(w, sub, &full)?;
            writeln!(w, ".RE")?;
        } else if sub.get_arguments().any(|a| !a.is_global_set()) {
            writeln!(w, ".RS")?;
            options(w, sub, true)?;
            writeln!(w, ".RE")?;
        }
    }
    Ok(())
}

/// The whole page, as roff.
pub(super) fn render(w: &mut dyn Write) -> std::io::Result<()> {
    let cmd = <super::Cli as clap::CommandFactory>::command();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(w)?;
    man.render_name_section(w)?;
    writeln!(
        w,
        ".SH SYNOPSIS\n\\fBgenhist\\fR [\\fIOPTIONS\\fR] [\\fIDIR\\fR]\n.br\n\\fBgenhist\\fR [\\fI\\-\\-dir DIR\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]"
    )?;
    man.render_description_section(w)?;
    section(w, "OPTIONS")?;
    options(w, &cmd, false)?;
    section(w, "COMMANDS")?;
    writeln!(
        w,
        "{}",
        esc("--dir DIR works before or after any command; after `--`, everything is words (a note that starts with --).")
    )?;
    commands(w, &cmd, "genhist")?;
    section(w, "KEYS")?;
    writeln!(
        w,
        "{}",
        esc("In the browser (genhist DIR). Every key runs a command of the : bar; [keys.MODE] in the config file binds more.")
    )?;
    for mode in crate::ui::keymap::KeyMode::ALL {
        writeln!(w, ".SS {}", esc(mode.name()))?;
        for (k, h) in crate::ui::keymap::rows(mode) {
            item(w, k, h)?;
        }
    }
    writeln!(w, ".SS the : bar")?;
    for c in crate::ui::command::COMMANDS.iter().filter(|c| !c.mode_key) {
        item(w, format!(":{} {}", c.name, c.args).trim_end(), c.help)?;
    }
    section(w, "FILTER LANGUAGE")?;
    writeln!(w, "{}", esc(crate::query::FILTER_HELP))?;
    section(w, "FILES")?;
    for (f, what) in FILES {
        item(w, f, what)?;
    }
    section(w, "ENVIRONMENT")?;
    for (v, what) in ENVIRONMENT {
        item(w, v, what)?;
    }
    section(w, "EXIT STATUS")?;
    item(w, "0", "success")?;
    item(
        w,
        "1",
        "failure: a take not found, a file that cannot be read or written, no sound device; nothing was changed unless the message says so",
    )?;
    item(
        w,
        "2",
        "bad usage: an unknown option, a value that does not parse (a filter, a duration)",
    )?;
    man.render_version_section(w)?;
    Ok(())
}

const FILES: &[(&str, &str)] = &[
    ("DIR/history.json", "the index of takes, shared with the generator (the Python tool): genhist writes only the fields it knows, atomically, never losing an entry another program added"),
    ("DIR/audio/ID.wav, DIR/thumbnails/ID.png", "each take's audio and waveform picture"),
    ("DIR/.genhist/annotations.json", "ratings, rejects, tags and notes (never in history.json)"),
    ("DIR/.genhist/trash/", "deleted takes, one batch per delete, until purged (genhist undo brings the newest back)"),
    ("DIR/.genhist_history", "the : bar's command history"),
    ("$XDG_CONFIG_HOME/genhist/config.toml", "settings: default sort, trash retention, colours, key bindings (see docs/config.md)"),
    ("$XDG_STATE_HOME/genhist/genhist.log", "what the browser logs while the screen is up"),
];

const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "GENHIST_DIR",
        "the history directory when --dir is not given",
    ),
    (
        "XDG_CONFIG_HOME",
        "where config.toml is looked for (default ~/.config)",
    ),
    ("NO_COLOR", "no colours in the browser"),
];

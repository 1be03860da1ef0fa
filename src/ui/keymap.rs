//! The key table: data that drives key handling, the `?` help overlay and the
//! README's key table. Each binding runs a command of the `:` language.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub struct Binding {
    /// How the keys are written in help and README.
    pub label: &'static str,
    pub keys: &'static [(KeyCode, KeyModifiers)],
    /// The command line it runs (see `ui::command`).
    pub command: &'static str,
    pub help: &'static str,
}

const N: KeyModifiers = KeyModifiers::NONE;
const C: KeyModifiers = KeyModifiers::CONTROL;
const S: KeyModifiers = KeyModifiers::SHIFT;

pub const KEYS: &[Binding] = &[
    Binding {
        label: "j / ↓",
        keys: &[(KeyCode::Char('j'), N), (KeyCode::Down, N)],
        command: "down",
        help: "next (older) entry",
    },
    Binding {
        label: "k / ↑",
        keys: &[(KeyCode::Char('k'), N), (KeyCode::Up, N)],
        command: "up",
        help: "previous (newer) entry",
    },
    Binding {
        label: "g / Home",
        keys: &[(KeyCode::Char('g'), N), (KeyCode::Home, N)],
        command: "top",
        help: "first entry",
    },
    Binding {
        label: "G / End",
        keys: &[
            (KeyCode::Char('G'), S),
            (KeyCode::Char('G'), N),
            (KeyCode::End, N),
        ],
        command: "bottom",
        help: "last entry",
    },
    Binding {
        label: "PgDn / PgUp",
        keys: &[(KeyCode::PageDown, N)],
        command: "pagedown",
        help: "page down / up",
    },
    Binding {
        label: "",
        keys: &[(KeyCode::PageUp, N)],
        command: "pageup",
        help: "",
    },
    Binding {
        label: "Ctrl-d / Ctrl-u",
        keys: &[(KeyCode::Char('d'), C)],
        command: "halfdown",
        help: "half page down / up",
    },
    Binding {
        label: "",
        keys: &[(KeyCode::Char('u'), C)],
        command: "halfup",
        help: "",
    },
    Binding {
        label: "/",
        keys: &[(KeyCode::Char('/'), N)],
        command: "search",
        help: "search model, preset, id, seed (Enter keeps, Esc clears)",
    },
    Binding {
        label: ":",
        keys: &[(KeyCode::Char(':'), N), (KeyCode::Char(':'), S)],
        command: "command",
        help: "command bar (↑/↓ recall, Ctrl-r search, Tab completes)",
    },
    Binding {
        label: "m",
        keys: &[(KeyCode::Char('m'), N)],
        command: "mark",
        help: "mark / unmark for deletion",
    },
    Binding {
        label: "d",
        keys: &[(KeyCode::Char('d'), N)],
        command: "delete",
        help: "delete marked (or selected) entries with their files, after y/n",
    },
    Binding {
        label: "u",
        keys: &[(KeyCode::Char('u'), N)],
        command: "undo",
        help: "undo the last delete of this run",
    },
    Binding {
        label: "Enter",
        keys: &[(KeyCode::Enter, N)],
        command: "play",
        help: "play the selected entry from the start",
    },
    Binding {
        label: "Space",
        keys: &[(KeyCode::Char(' '), N)],
        command: "pause",
        help: "pause / resume",
    },
    Binding {
        label: "s",
        keys: &[(KeyCode::Char('s'), N)],
        command: "stop",
        help: "stop playback",
    },
    Binding {
        label: "← / →",
        keys: &[(KeyCode::Left, N)],
        command: "seek -5",
        help: "seek 5 s back / forward",
    },
    Binding {
        label: "",
        keys: &[(KeyCode::Right, N)],
        command: "seek +5",
        help: "",
    },
    Binding {
        label: "l",
        keys: &[(KeyCode::Char('l'), N)],
        command: "loop",
        help: "loop on / off",
    },
    Binding {
        label: "+ / -",
        keys: &[
            (KeyCode::Char('+'), N),
            (KeyCode::Char('+'), S),
            (KeyCode::Char('='), N),
        ],
        command: "volume +10",
        help: "volume up / down",
    },
    Binding {
        label: "",
        keys: &[(KeyCode::Char('-'), N)],
        command: "volume -10",
        help: "",
    },
    Binding {
        label: "a",
        keys: &[(KeyCode::Char('a'), N)],
        command: "autoplay",
        help: "autoplay: moving the selection plays it",
    },
    Binding {
        label: "?",
        keys: &[(KeyCode::Char('?'), N), (KeyCode::Char('?'), S)],
        command: "help",
        help: "this help",
    },
    Binding {
        label: "Esc",
        keys: &[(KeyCode::Esc, N)],
        command: "clear",
        help: "close popups, clear search",
    },
    Binding {
        label: "q",
        keys: &[(KeyCode::Char('q'), N)],
        command: "quit",
        help: "quit",
    },
];

/// The command bound to `key`, if any.
pub fn lookup(key: &KeyEvent) -> Option<&'static str> {
    KEYS.iter()
        .find(|b| {
            b.keys
                .iter()
                .any(|(code, m)| *code == key.code && *m == key.modifiers)
        })
        .map(|b| b.command)
}

/// (keys, what they do) rows for help and README, pairs merged.
pub fn rows() -> Vec<(&'static str, &'static str)> {
    KEYS.iter()
        .filter(|b| !b.label.is_empty())
        .map(|b| (b.label, b.help))
        .collect()
}

/// The README key table, generated (a test keeps README.md in step).
pub fn markdown_table() -> String {
    let mut s = String::from("| keys | what they do |\n|---|---|\n");
    for (k, h) in rows() {
        s.push_str(&format!("| `{k}` | {h} |\n"));
    }
    s.push_str("| mouse | wheel scrolls, click selects |\n");
    s
}

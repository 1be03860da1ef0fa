//! The key tables, one per mode: data that drives key handling, the `?`
//! help and the README's key table. Each binding runs a command of the `:`
//! language (`ui::command`); what the command does depends on the mode (in
//! the help, `down` scrolls). In the text modes (search, command bar,
//! history search), keys no binding takes edit the text.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Modes that have their own keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyMode {
    /// The list.
    Normal,
    /// Typing a `/` search.
    Search,
    /// Typing a `:` command.
    Command,
    /// Ctrl-r in the command bar.
    HistorySearch,
    /// A yes/no question.
    Confirm,
    /// The help, or another text popup (stats, messages).
    Popup,
    /// The A/B comparison view.
    Compare,
}

impl KeyMode {
    pub const ALL: [KeyMode; 7] = [
        KeyMode::Normal,
        KeyMode::Search,
        KeyMode::Command,
        KeyMode::HistorySearch,
        KeyMode::Confirm,
        KeyMode::Popup,
        KeyMode::Compare,
    ];

    /// The mode's name in the config file and in help.
    pub fn name(self) -> &'static str {
        match self {
            KeyMode::Normal => "normal",
            KeyMode::Search => "search",
            KeyMode::Command => "command",
            KeyMode::HistorySearch => "history-search",
            KeyMode::Confirm => "confirm",
            KeyMode::Popup => "popup",
            KeyMode::Compare => "compare",
        }
    }

    pub(crate) fn from_name(s: &str) -> Option<KeyMode> {
        KeyMode::ALL.into_iter().find(|m| m.name() == s)
    }

    /// The default keys of the mode.
    pub fn table(self) -> &'static [Binding] {
        match self {
            KeyMode::Normal => NORMAL,
            KeyMode::Search => SEARCH,
            KeyMode::Command => COMMAND,
            KeyMode::HistorySearch => HISTORY_SEARCH,
            KeyMode::Confirm => CONFIRM,
            KeyMode::Popup => POPUP,
            KeyMode::Compare => COMPARE,
        }
    }

    /// The bar's hint when no message is up: the mode's most used keys.
    pub(crate) fn hint(self) -> &'static str {
        match self {
            KeyMode::Normal => "? help  : command  / search  Enter play  d delete  u undo  q quit",
            KeyMode::Compare => {
                "Tab A/B  Enter play  Space pause  1-5 rate  x reject  L level  Esc close"
            }
            KeyMode::Confirm => "y yes  n / Esc no",
            KeyMode::Popup => "j / k scroll  PgDn / PgUp page  Esc close",
            KeyMode::HistorySearch => "type to search  Enter take it  Esc back",
            KeyMode::Search => "Enter keep  Esc clear  ↓ / ↑ matches",
            KeyMode::Command => "Enter run  Esc close  ↑ / ↓ history  Tab complete",
        }
    }

    /// True for modes where keys no binding takes edit text.
    pub(crate) fn edits_text(self) -> bool {
        matches!(
            self,
            KeyMode::Search | KeyMode::Command | KeyMode::HistorySearch
        )
    }
}

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

const fn b(
    label: &'static str,
    keys: &'static [(KeyCode, KeyModifiers)],
    command: &'static str,
    help: &'static str,
) -> Binding {
    Binding {
        label,
        keys,
        command,
        help,
    }
}

const NORMAL: &[Binding] = &[
    b(
        "j / ↓",
        &[(KeyCode::Char('j'), N), (KeyCode::Down, N)],
        "down",
        "next (older) take",
    ),
    b(
        "k / ↑",
        &[(KeyCode::Char('k'), N), (KeyCode::Up, N)],
        "up",
        "previous (newer) take",
    ),
    b(
        "g / Home",
        &[(KeyCode::Char('g'), N), (KeyCode::Home, N)],
        "top",
        "first take",
    ),
    b(
        "G / End",
        &[
            (KeyCode::Char('G'), S),
            (KeyCode::Char('G'), N),
            (KeyCode::End, N),
        ],
        "bottom",
        "last take",
    ),
    b(
        "PgDn / PgUp",
        &[(KeyCode::PageDown, N)],
        "pagedown",
        "page down / up",
    ),
    b("", &[(KeyCode::PageUp, N)], "pageup", ""),
    b(
        "Ctrl-d / Ctrl-u",
        &[(KeyCode::Char('d'), C)],
        "halfdown",
        "half page down / up",
    ),
    b("", &[(KeyCode::Char('u'), C)], "halfup", ""),
    b(
        "/",
        &[(KeyCode::Char('/'), N)],
        "search",
        "search model, preset, id, seed",
    ),
    b(
        "n / N",
        &[(KeyCode::Char('n'), N)],
        "next-match",
        "next / previous search match",
    ),
    b(
        "",
        &[(KeyCode::Char('N'), S), (KeyCode::Char('N'), N)],
        "prev-match",
        "",
    ),
    b(
        ":",
        &[(KeyCode::Char(':'), N), (KeyCode::Char(':'), S)],
        "command",
        "command bar",
    ),
    b(
        "m",
        &[(KeyCode::Char('m'), N)],
        "mark",
        "mark / unmark the take, and go to the next",
    ),
    b(
        "d",
        &[(KeyCode::Char('d'), N)],
        "delete",
        "delete marked (or the selected) takes, after y/n",
    ),
    b(
        "u",
        &[(KeyCode::Char('u'), N)],
        "undo",
        "undo the last rating, reject, tag, note or delete (survives a restart)",
    ),
    b(
        "Ctrl-r",
        &[(KeyCode::Char('r'), C)],
        "redo",
        "redo what u took back",
    ),
    b(
        "Enter",
        &[(KeyCode::Enter, N)],
        "play",
        "play the selected take from the start",
    ),
    b(
        "Space",
        &[(KeyCode::Char(' '), N)],
        "pause",
        "pause / resume",
    ),
    b("s", &[(KeyCode::Char('s'), N)], "stop", "stop playback"),
    b(
        "← / →",
        &[(KeyCode::Left, N)],
        "seek -5",
        "seek 5 s back / forward",
    ),
    b("", &[(KeyCode::Right, N)], "seek +5", ""),
    b("l", &[(KeyCode::Char('l'), N)], "loop", "loop on / off"),
    b(
        "v",
        &[(KeyCode::Char('v'), N)],
        "spectrogram",
        "the panel's waveform or spectrogram",
    ),
    b(
        "+ / -",
        &[
            (KeyCode::Char('+'), N),
            (KeyCode::Char('+'), S),
            (KeyCode::Char('='), N),
        ],
        "volume +10",
        "volume up / down",
    ),
    b("", &[(KeyCode::Char('-'), N)], "volume -10", ""),
    b(
        "a",
        &[(KeyCode::Char('a'), N)],
        "autoplay",
        "autoplay: moving the selection plays it",
    ),
    b(
        "o",
        &[(KeyCode::Char('o'), N)],
        "sort next",
        "cycle the sort: newest, oldest, duration, model, rating",
    ),
    b(
        "1 … 5",
        &[(KeyCode::Char('1'), N)],
        "rate 1",
        "rate the take 1 to 5 stars (culling mode: then the next take plays)",
    ),
    b("", &[(KeyCode::Char('2'), N)], "rate 2", ""),
    b("", &[(KeyCode::Char('3'), N)], "rate 3", ""),
    b("", &[(KeyCode::Char('4'), N)], "rate 4", ""),
    b("", &[(KeyCode::Char('5'), N)], "rate 5", ""),
    b(
        "0",
        &[(KeyCode::Char('0'), N)],
        "rate 0",
        "remove the rating",
    ),
    b(
        "x",
        &[(KeyCode::Char('x'), N)],
        "reject",
        "reject / un-reject the take (:purge moves rejected takes to the trash)",
    ),
    b(
        "c",
        &[(KeyCode::Char('c'), N)],
        "cull",
        "culling mode on / off",
    ),
    b(
        "b",
        &[(KeyCode::Char('b'), N)],
        "ab",
        "A/B compare the two marked takes (or this and the previous one)",
    ),
    b(
        "S",
        &[(KeyCode::Char('S'), S), (KeyCode::Char('S'), N)],
        "similar",
        "order the takes by likeness to this one",
    ),
    b(
        "?",
        &[(KeyCode::Char('?'), N), (KeyCode::Char('?'), S)],
        "help",
        "this help",
    ),
    b(
        "Esc",
        &[(KeyCode::Esc, N)],
        "clear",
        "clear search, filter and message",
    ),
    b("q", &[(KeyCode::Char('q'), N)], "quit", "quit"),
];

const SEARCH: &[Binding] = &[
    b(
        "Enter",
        &[(KeyCode::Enter, N)],
        "accept",
        "keep the search, back to the list",
    ),
    b(
        "Esc",
        &[(KeyCode::Esc, N)],
        "cancel",
        "clear the search, back to where it began",
    ),
    b(
        "↓ / ↑",
        &[(KeyCode::Down, N)],
        "next-match",
        "next / previous match (↑ with nothing typed: the previous search)",
    ),
    b("", &[(KeyCode::Up, N)], "prev-match", ""),
];

const COMMAND: &[Binding] = &[
    b("Enter", &[(KeyCode::Enter, N)], "accept", "run the command"),
    b(
        "Esc",
        &[(KeyCode::Esc, N)],
        "cancel",
        "close the command bar",
    ),
    b(
        "↑ / ↓",
        &[(KeyCode::Up, N)],
        "older",
        "older / newer command (prefix recall)",
    ),
    b("", &[(KeyCode::Down, N)], "newer", ""),
    b(
        "Tab / Shift-Tab",
        &[(KeyCode::Tab, N)],
        "complete",
        "complete; again for the next / previous candidate",
    ),
    b(
        "",
        &[(KeyCode::BackTab, S), (KeyCode::BackTab, N)],
        "complete-back",
        "",
    ),
    b(
        "Ctrl-r",
        &[(KeyCode::Char('r'), C)],
        "history-search",
        "search the command history",
    ),
];

const HISTORY_SEARCH: &[Binding] = &[
    b(
        "Enter",
        &[(KeyCode::Enter, N)],
        "accept",
        "take the found command into the bar",
    ),
    b(
        "Esc",
        &[(KeyCode::Esc, N)],
        "cancel",
        "back to the command bar",
    ),
];

const CONFIRM: &[Binding] = &[
    b(
        "y",
        &[
            (KeyCode::Char('y'), N),
            (KeyCode::Char('Y'), S),
            (KeyCode::Char('Y'), N),
        ],
        "yes",
        "yes, do it",
    ),
    b(
        "n / Esc",
        &[
            (KeyCode::Char('n'), N),
            (KeyCode::Char('N'), S),
            (KeyCode::Char('N'), N),
            (KeyCode::Esc, N),
            (KeyCode::Char('q'), N),
        ],
        "no",
        "no, cancel",
    ),
];

const POPUP: &[Binding] = &[
    b(
        "Enter",
        &[(KeyCode::Enter, N)],
        "accept",
        "choose (in the device picker)",
    ),
    b(
        "j / ↓",
        &[(KeyCode::Char('j'), N), (KeyCode::Down, N)],
        "down",
        "scroll down",
    ),
    b(
        "k / ↑",
        &[(KeyCode::Char('k'), N), (KeyCode::Up, N)],
        "up",
        "scroll up",
    ),
    b(
        "PgDn / PgUp",
        &[(KeyCode::PageDown, N), (KeyCode::Char(' '), N)],
        "pagedown",
        "page down / up",
    ),
    b("", &[(KeyCode::PageUp, N)], "pageup", ""),
    b(
        "g / G",
        &[(KeyCode::Char('g'), N), (KeyCode::Home, N)],
        "top",
        "top / bottom",
    ),
    b(
        "",
        &[
            (KeyCode::Char('G'), S),
            (KeyCode::Char('G'), N),
            (KeyCode::End, N),
        ],
        "bottom",
        "",
    ),
    b(
        "Esc / q",
        &[
            (KeyCode::Esc, N),
            (KeyCode::Char('q'), N),
            (KeyCode::Enter, N),
            (KeyCode::Char('?'), N),
            (KeyCode::Char('?'), S),
        ],
        "close",
        "close",
    ),
];

/// A key as the config file writes it: `j`, `ctrl-d`, `shift-tab`, `enter`,
/// `f5`, `space`.
pub(crate) fn parse_key(s: &str) -> Result<(KeyCode, KeyModifiers), String> {
    let mut mods = KeyModifiers::NONE;
    let mut rest = s.trim();
    loop {
        let lower = rest.to_ascii_lowercase();
        if let Some(r) = lower
            .strip_prefix("ctrl-")
            .or_else(|| lower.strip_prefix("c-"))
        {
            mods |= KeyModifiers::CONTROL;
            rest = &rest[rest.len() - r.len()..];
        } else if let Some(r) = lower
            .strip_prefix("alt-")
            .or_else(|| lower.strip_prefix("m-"))
        {
            mods |= KeyModifiers::ALT;
            rest = &rest[rest.len() - r.len()..];
        } else if let Some(r) = lower.strip_prefix("shift-") {
            mods |= KeyModifiers::SHIFT;
            rest = &rest[rest.len() - r.len()..];
        } else {
            break;
        }
    }
    let code = match rest.to_ascii_lowercase().as_str() {
        "enter" | "return" => KeyCode::Enter,
        "esc" | "escape" => KeyCode::Esc,
        "tab" if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "space" => KeyCode::Char(' '),
        "backspace" => KeyCode::Backspace,
        "delete" | "del" => KeyCode::Delete,
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        "pageup" | "pgup" => KeyCode::PageUp,
        "pagedown" | "pgdn" => KeyCode::PageDown,
        f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
            KeyCode::F(f[1..].parse().expect("checked"))
        }
        _ => {
            let mut chars = rest.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => {
                    if c.is_uppercase() {
                        mods |= KeyModifiers::SHIFT;
                    }
                    KeyCode::Char(c)
                }
                _ => return Err(format!("unknown key '{s}'")),
            }
        }
    };
    Ok((code, mods))
}

/// A key as the config file writes it: `z`, `K`, `F5`, `Ctrl-p`,
/// `Alt-Enter`, `Shift-Tab`, `Space`.
pub(crate) fn key_label(code: KeyCode, mods: KeyModifiers) -> String {
    let mut s = String::new();
    for (m, name) in [
        (KeyModifiers::CONTROL, "Ctrl-"),
        (KeyModifiers::ALT, "Alt-"),
        (KeyModifiers::SUPER, "Super-"),
    ] {
        if mods.contains(m) {
            s.push_str(name);
        }
    }
    let shifted = mods.contains(KeyModifiers::SHIFT);
    match code {
        // Shift shows in the character itself.
        KeyCode::Char(' ') => s.push_str("Space"),
        KeyCode::Char(c) => s.push(c),
        KeyCode::F(n) => {
            if shifted {
                s.push_str("Shift-");
            }
            s.push_str(&format!("F{n}"));
        }
        KeyCode::BackTab => s.push_str("Shift-Tab"),
        other => {
            if shifted {
                s.push_str("Shift-");
            }
            s.push_str(match other {
                KeyCode::Enter => "Enter",
                KeyCode::Esc => "Esc",
                KeyCode::Tab => "Tab",
                KeyCode::Backspace => "Backspace",
                KeyCode::Delete => "Delete",
                KeyCode::Up => "Up",
                KeyCode::Down => "Down",
                KeyCode::Left => "Left",
                KeyCode::Right => "Right",
                KeyCode::Home => "Home",
                KeyCode::End => "End",
                KeyCode::PageUp => "PageUp",
                KeyCode::PageDown => "PageDown",
                KeyCode::Insert => "Insert",
                _ => "?",
            });
        }
    }
    s
}

/// Whether `key` is the table key `(code, mods)` (Shift is ignored for
/// characters: terminals differ in reporting it).
pub(crate) fn key_is(key: &KeyEvent, code: KeyCode, mods: KeyModifiers) -> bool {
    if key.code != code {
        return false;
    }
    match code {
        KeyCode::Char(_) => key.modifiers - KeyModifiers::SHIFT == mods - KeyModifiers::SHIFT,
        _ => key.modifiers == mods,
    }
}

/// The command `key` runs in `mode` by default.
pub fn lookup(mode: KeyMode, key: &KeyEvent) -> Option<&'static str> {
    mode.table()
        .iter()
        .find(|b| b.keys.iter().any(|(c, m)| key_is(key, *c, *m)))
        .map(|b| b.command)
}

/// (keys, what they do) rows of a mode for help and README, pairs merged.
pub fn rows(mode: KeyMode) -> Vec<(&'static str, &'static str)> {
    mode.table()
        .iter()
        .filter(|b| !b.label.is_empty())
        .map(|b| (b.label, b.help))
        .collect()
}

const COMPARE: &[Binding] = &[
    b(
        "Tab",
        &[(KeyCode::Tab, N), (KeyCode::BackTab, S)],
        "ab-switch",
        "hear the other take at the same position",
    ),
    b(
        "Enter",
        &[(KeyCode::Enter, N)],
        "play",
        "play the take heard from the start",
    ),
    b(
        "Space",
        &[(KeyCode::Char(' '), N)],
        "pause",
        "pause / resume",
    ),
    b(
        "← / →",
        &[(KeyCode::Left, N)],
        "seek -5",
        "seek both 5 s back / forward",
    ),
    b("", &[(KeyCode::Right, N)], "seek +5", ""),
    b(
        "L",
        &[(KeyCode::Char('L'), S), (KeyCode::Char('L'), N)],
        "ab-level",
        "loudness matching on / off (both at the quieter one's LUFS)",
    ),
    b(
        "v",
        &[(KeyCode::Char('v'), N)],
        "spectrogram",
        "waveforms or spectrograms",
    ),
    b(
        "1 … 5 / 0",
        &[(KeyCode::Char('1'), N)],
        "rate 1",
        "rate the take heard (0 removes the rating)",
    ),
    b("", &[(KeyCode::Char('2'), N)], "rate 2", ""),
    b("", &[(KeyCode::Char('3'), N)], "rate 3", ""),
    b("", &[(KeyCode::Char('4'), N)], "rate 4", ""),
    b("", &[(KeyCode::Char('5'), N)], "rate 5", ""),
    b("", &[(KeyCode::Char('0'), N)], "rate 0", ""),
    b(
        "x",
        &[(KeyCode::Char('x'), N)],
        "reject",
        "reject / un-reject the take heard",
    ),
    b(
        "j / k",
        &[(KeyCode::Char('j'), N), (KeyCode::Down, N)],
        "down",
        "scroll the differences",
    ),
    b(
        ":",
        &[(KeyCode::Char(':'), N), (KeyCode::Char(':'), S)],
        "command",
        "command bar (:tag, :note, :rate apply to the take heard)",
    ),
    b("", &[(KeyCode::Char('k'), N), (KeyCode::Up, N)], "up", ""),
    b(
        "Esc / q",
        &[(KeyCode::Esc, N), (KeyCode::Char('q'), N)],
        "close",
        "close the A/B view",
    ),
];

/// The README key table, generated (a test keeps README.md in step).
pub fn markdown_table() -> String {
    let mut s = String::from("| keys | what they do |\n|---|---|\n");
    for (k, h) in rows(KeyMode::Normal) {
        s.push_str(&format!("| `{k}` | {h} |\n"));
    }
    s.push_str("| mouse | wheel scrolls, click selects (and plays with autoplay) |\n");
    for (mode, title) in [
        (KeyMode::Search, "while searching"),
        (KeyMode::Command, "in the command bar"),
        (KeyMode::Confirm, "when asked y/n"),
        (KeyMode::Popup, "in help and popups"),
        (KeyMode::Compare, "in the A/B view"),
    ] {
        for (k, h) in rows(mode) {
            s.push_str(&format!("| `{k}` ({title}) | {h} |\n"));
        }
    }
    s
}

/// User key bindings from the config file, before the defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserKeys {
    pub bindings: Vec<(
        KeyMode,
        crossterm::event::KeyCode,
        crossterm::event::KeyModifiers,
        String,
    )>,
}

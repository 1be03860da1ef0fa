//! The help overlay's text, generated from the key tables (with the user's
//! bindings) and the command table, so it can never disagree with them.

use super::command::COMMANDS;
use super::keymap::{KeyMode, UserKeys};
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum HelpLine {
    Title(String),
    Row(String, String),
    Blank,
}

/// The width of the help's key column.
pub(crate) const HELP_KEY_W: usize = 18;

/// Splits `text` into lines of at most `width` columns at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let cur = lines.last_mut().expect("one line");
        let need = UnicodeWidthStr::width(cur.as_str()) + 1 + UnicodeWidthStr::width(word);
        if !cur.is_empty() && need > width {
            lines.push(word.to_string());
        } else {
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
    }
    lines
}

/// The help's lines for a screen `width` columns wide (descriptions
/// wrapped, not cut), all generated from the key tables (with the user's
/// bindings) and the command table; `only`: one command.
pub(crate) fn help_lines(only: Option<&str>, user: &UserKeys, width: u16) -> Vec<HelpLine> {
    let text_w = (width as usize).saturating_sub(6 + HELP_KEY_W);
    let rows = help_rows(only, user);
    let mut out = Vec::with_capacity(rows.len());
    for l in rows {
        match l {
            HelpLine::Row(k, h) => {
                for (i, part) in wrap(&h, text_w).into_iter().enumerate() {
                    out.push(HelpLine::Row(
                        if i == 0 { k.clone() } else { String::new() },
                        part,
                    ));
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn help_rows(only: Option<&str>, user: &UserKeys) -> Vec<HelpLine> {
    let mut out = Vec::new();
    if let Some(name) = only {
        if let Some(i) = super::command::info(name) {
            out.push(HelpLine::Title(format!(":{} {}", i.name, i.args)));
            out.push(HelpLine::Row(String::new(), i.help.to_string()));
            for mode in KeyMode::ALL {
                for b in mode
                    .table()
                    .iter()
                    .filter(|b| b.command.split_whitespace().next() == Some(i.name))
                {
                    if !b.label.is_empty() {
                        out.push(HelpLine::Row(
                            b.label.to_string(),
                            format!("key ({})", mode.name()),
                        ));
                    }
                }
            }
        }
        return out;
    }
    for mode in KeyMode::ALL {
        out.push(HelpLine::Title(match mode {
            KeyMode::Normal => "keys".to_string(),
            m => format!("keys ({})", m.name()),
        }));
        for (k, h) in super::keymap::rows(mode) {
            out.push(HelpLine::Row(k.to_string(), h.to_string()));
        }
        for (m, code, mods, cmd) in &user.bindings {
            if *m == mode {
                out.push(HelpLine::Row(
                    format!(
                        "{}{code:?}",
                        if mods.is_empty() {
                            String::new()
                        } else {
                            format!("{mods:?}+")
                        }
                    ),
                    format!(":{cmd} (your binding)"),
                ));
            }
        }
        if mode == KeyMode::Normal {
            out.push(HelpLine::Row(
                "mouse".into(),
                "wheel scrolls, click selects".into(),
            ));
        }
        out.push(HelpLine::Blank);
    }
    out.push(HelpLine::Title("commands (:help CMD for one)".into()));
    for c in COMMANDS.iter().filter(|c| !c.mode_key) {
        out.push(HelpLine::Row(
            format!(":{} {}", c.name, c.args),
            c.help.to_string(),
        ));
    }
    out
}

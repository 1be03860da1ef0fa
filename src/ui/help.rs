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

/// The most columns a text popup is wide.
const POPUP_MAX_W: u16 = 100;

/// The inner width (inside the border) of a text popup on a screen `screen_w`
/// columns wide; drawing and scrolling both use it.
pub(crate) fn popup_inner_width(screen_w: u16) -> usize {
    POPUP_MAX_W
        .min(screen_w.saturating_sub(2))
        .saturating_sub(2) as usize
}

/// The popup's outer width.
pub(crate) fn popup_width(screen_w: u16) -> u16 {
    POPUP_MAX_W.min(screen_w.saturating_sub(2))
}

/// The width of the help's key column inside a popup `inner` columns wide.
pub(crate) fn key_width(inner: usize) -> usize {
    HELP_KEY_W.min(inner / 3)
}

/// Lines of a text popup (`:messages`, `:stats`, …) wrapped to its width:
/// nothing is cut. A line's continuation is indented.
pub(crate) fn info_lines(lines: &[String], screen_w: u16) -> Vec<String> {
    let w = popup_inner_width(screen_w).max(4);
    let mut out = Vec::new();
    for l in lines {
        let clean = crate::text::sanitize(l);
        for (i, part) in crate::text::wrap(&clean, w - 2).into_iter().enumerate() {
            out.push(if i == 0 { part } else { format!("  {part}") });
        }
    }
    out
}

/// The help's lines for a screen `width` columns wide (descriptions
/// wrapped, not cut), all generated from the key tables (with the user's
/// bindings) and the command table; `only`: one command.
pub(crate) fn help_lines(only: Option<&str>, user: &UserKeys, width: u16) -> Vec<HelpLine> {
    let inner = popup_inner_width(width);
    let key_w = key_width(inner);
    let text_w = inner.saturating_sub(key_w + 1).max(8);
    let rows = help_rows(only, user);
    let mut out = Vec::with_capacity(rows.len());
    for l in rows {
        match l {
            // A key wider than its column has the line to itself.
            HelpLine::Row(k, h) if UnicodeWidthStr::width(k.as_str()) > key_w => {
                out.push(HelpLine::Row(k, String::new()));
                for part in crate::text::wrap(&h, text_w) {
                    out.push(HelpLine::Row(String::new(), part));
                }
            }
            HelpLine::Row(k, h) => {
                for (i, part) in crate::text::wrap(&h, text_w).into_iter().enumerate() {
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
                    super::keymap::key_label(*code, *mods),
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

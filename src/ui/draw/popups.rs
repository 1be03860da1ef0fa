//! What opens over the screen: the y/n question, help, text popups, the
//! command history search, completion candidates.

use super::super::app::{App, Confirm};
use super::super::help::{
    help_lines, info_lines, key_width, popup_inner_width, popup_width, HelpLine,
};
use crate::text::{count, pad, sanitize, truncate};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

/// Clears `r` for a popup; a wide character cut by its left or right edge
/// is blanked whole, so the popup's border is drawn intact.
pub(super) fn clear(buf: &mut Buffer, r: Rect) {
    let full = buf.area;
    for y in r.top()..r.bottom() {
        // A wide character starting just left of the popup spills into it.
        if r.left() > full.left() {
            let c = &mut buf[(r.left() - 1, y)];
            if UnicodeWidthStr::width(c.symbol()) > 1 {
                c.reset();
            }
        }
        for x in r.left()..r.right() {
            buf[(x, y)].reset();
        }
        // The cell after the popup may be the second half of a wide character.
        if r.right() < full.right() {
            let c = &mut buf[(r.right(), y)];
            if c.symbol().is_empty() {
                c.reset();
            }
        }
    }
}

pub(super) fn popup(f: &mut Frame, w: u16, h: u16) -> Rect {
    let a = f.area();
    let w = w.min(a.width.saturating_sub(2));
    let h = h.min(a.height.saturating_sub(2));
    let r = Rect::new(a.x + (a.width - w) / 2, a.y + (a.height - h) / 2, w, h);
    clear(f.buffer_mut(), r);
    r
}

pub(super) fn draw_confirm(f: &mut Frame, app: &App, c: &Confirm) {
    let t = &app.theme;
    let inner_w = 68usize;
    let mut lines = Vec::new();
    let (title, question) = match c {
        Confirm::Delete {
            ids,
            hidden,
            permanent,
        } => {
            let mut q = format!(
                "Delete {} and {} files{}?",
                count(ids.len(), "take", "takes"),
                if ids.len() == 1 { "its" } else { "their" },
                if *permanent { " for good" } else { "" }
            );
            if *hidden > 0 {
                q.push_str(&format!(" ({hidden} of them hidden by the filter)"));
            }
            lines.push(Line::from(truncate(&q, inner_w)));
            lines.push(Line::from(""));
            for id in ids.iter().take(6) {
                if let Some(e) = app.store.get_exact(id) {
                    lines.push(Line::from(truncate(
                        &format!("  {}  {}", sanitize(e.short_id()), sanitize(e.model_name())),
                        inner_w,
                    )));
                    for rel in [&e.audio_file(), &e.thumbnail_file()] {
                        lines.push(Line::from(Span::styled(
                            truncate(&format!("     {}", sanitize(rel)), inner_w),
                            t.label(),
                        )));
                    }
                }
            }
            if ids.len() > 6 {
                lines.push(Line::from(format!("  … and {} more", ids.len() - 6)));
            }
            let after = if *permanent {
                "y delete for good   n / Esc cancel"
            } else {
                "y delete (to the trash: u undoes)   n / Esc cancel"
            };
            (" delete ", after)
        }
        Confirm::Purge { ids, hidden } => {
            let mut q = format!(
                "Move {} and {} files to the trash?",
                count(ids.len(), "rejected take", "rejected takes"),
                if ids.len() == 1 { "its" } else { "their" }
            );
            if *hidden > 0 {
                q.push_str(&format!(" ({hidden} of them hidden by the filter)"));
            }
            lines.push(Line::from(truncate(&q, inner_w)));
            lines.push(Line::from(""));
            for id in ids.iter().take(6) {
                if let Some(e) = app.store.get_exact(id) {
                    lines.push(Line::from(truncate(
                        &format!("  {}  {}", sanitize(e.short_id()), sanitize(e.model_name())),
                        inner_w,
                    )));
                }
            }
            if ids.len() > 6 {
                lines.push(Line::from(format!("  … and {} more", ids.len() - 6)));
            }
            (" purge ", "y move to the trash (u undoes)   n / Esc cancel")
        }
        Confirm::Repair(plan) => {
            lines.push(Line::from(format!(
                "Move {} whose WAV is missing to the trash?",
                count(plan.missing.len(), "take", "takes")
            )));
            lines.push(Line::from(""));
            for (id, audio) in plan.missing.iter().take(8) {
                lines.push(Line::from(truncate(
                    &format!(
                        "  {}  {}",
                        sanitize(crate::text::short_id(id)),
                        sanitize(audio)
                    ),
                    inner_w,
                )));
            }
            if plan.missing.len() > 8 {
                lines.push(Line::from(format!(
                    "  … and {} more",
                    plan.missing.len() - 8
                )));
            }
            (
                " repair ",
                "y move to the trash (u undoes)   n / Esc cancel",
            )
        }
        Confirm::Export {
            ids,
            dest,
            overwrite,
        } => {
            lines.push(Line::from(truncate(
                &format!(
                    "Export the {} shown to {}{}?",
                    count(ids.len(), "take", "takes"),
                    sanitize(&dest.display().to_string()),
                    if *overwrite {
                        ", replacing files that are there"
                    } else {
                        ""
                    }
                ),
                inner_w,
            )));
            lines.push(Line::from(Span::styled(
                truncate(
                    "  (m marks takes to export only those; nothing shown is marked)",
                    inner_w,
                ),
                t.label(),
            )));
            (" export ", "y export   n / Esc cancel")
        }
    };
    // The question and its answer keys always show: on a low screen the
    // list of takes between them gives way.
    let room = (f.area().height.saturating_sub(4) as usize).max(2);
    if lines.len() + 2 > room {
        let keep = room.saturating_sub(3);
        let cut = lines.len() - keep;
        lines.truncate(keep.max(1));
        lines.push(Line::from(Span::styled(
            format!("  … ({cut} more lines)"),
            t.dim(),
        )));
    } else {
        lines.push(Line::from(""));
    }
    // The keys in short when the popup is too narrow for the long form.
    let inner_now = (f.area().width.saturating_sub(2) as usize).min(inner_w + 4) - 2;
    let question = if UnicodeWidthStr::width(question) > inner_now {
        "y yes   n / Esc no"
    } else {
        question
    };
    lines.push(Line::from(Span::styled(
        question,
        Style::new().add_modifier(Modifier::BOLD),
    )));
    let h = lines.len() as u16 + 2;
    let r = popup(f, inner_w as u16 + 4, h);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(title)
                .border_style(t.error()),
        ),
        r,
    );
}

/// A line of the help.
pub(super) fn draw_scrolled(
    f: &mut Frame,
    app: &App,
    title: &str,
    lines: Vec<Line<'static>>,
    scroll: usize,
) {
    let a = f.area();
    let h = (lines.len() as u16 + 2).min(a.height.saturating_sub(2));
    let r = popup(f, popup_width(a.width), h);
    let shown = r.height.saturating_sub(2) as usize;
    let more = if lines.len() > scroll + shown {
        format!(" ↓ {} more ", lines.len() - scroll - shown)
    } else {
        String::new()
    };
    let body: Vec<Line> = lines.into_iter().skip(scroll).take(shown).collect();
    f.render_widget(
        Paragraph::new(body).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {title} (j/k scroll, Esc closes) "))
                .title_bottom(Span::styled(more, app.theme.accent())),
        ),
        r,
    );
}

pub(super) fn draw_help(f: &mut Frame, app: &App, only: Option<&str>, scroll: usize) {
    let w = popup_inner_width(f.area().width);
    let t = &app.theme;
    let key_w = key_width(w);
    let lines: Vec<Line<'static>> = help_lines(only, &app.user_keys, f.area().width)
        .into_iter()
        .map(|l| match l {
            HelpLine::Title(s) => Line::from(Span::styled(s, t.header())),
            // A key wider than its column came on a line of its own.
            HelpLine::Row(k, h) if h.is_empty() => {
                Line::from(Span::styled(truncate(&k, w), t.accent()))
            }
            HelpLine::Row(k, h) => Line::from(vec![
                Span::styled(pad(&truncate(&k, key_w), key_w + 1), t.accent()),
                Span::raw(truncate(&h, w.saturating_sub(key_w + 1))),
            ]),
            HelpLine::Blank => Line::from(""),
        })
        .collect();
    draw_scrolled(f, app, "help", lines, scroll);
}

pub(super) fn draw_info(f: &mut Frame, app: &App, title: &str, lines: &[String], scroll: usize) {
    let body = info_lines(lines, f.area().width)
        .into_iter()
        .map(Line::from)
        .collect();
    draw_scrolled(f, app, title, body, scroll);
}

pub(super) fn draw_history_search(f: &mut Frame, app: &App) {
    let hits = app.bar.history.search(app.bar.input.value(), 10);
    let mut lines = vec![Line::from(format!(
        "search: {}",
        sanitize(app.bar.input.value())
    ))];
    for (i, (n, c)) in hits.iter().enumerate() {
        let style = if i == 0 {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        lines.push(Line::from(Span::styled(
            truncate(&format!("{n:>5}  {}", sanitize(c)), 66),
            style,
        )));
    }
    let r = popup(f, 70, 13);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" command history (Enter picks, Esc closes) "),
        ),
        r,
    );
}

pub(super) fn draw_completion(f: &mut Frame, app: &App, bar: Rect) {
    let Some(c) = &app.bar.completion else { return };
    let max = 8usize;
    let n = c.candidates.len();
    let start = c.index.map_or(0, |i| i.saturating_sub(max - 1));
    let shown: Vec<Line> = c
        .candidates
        .iter()
        .enumerate()
        .skip(start)
        .take(max)
        .map(|(i, s)| {
            let line = Line::from(truncate(&sanitize(s), 46));
            if Some(i) == c.index {
                line.style(app.theme.selected())
            } else {
                line
            }
        })
        .collect();
    let h = shown.len() as u16 + 2;
    let w = 50u16.min(f.area().width);
    let y = bar.y.saturating_sub(h + 1);
    let r = Rect::new(bar.x, y, w, h);
    clear(f.buffer_mut(), r);
    f.render_widget(
        Paragraph::new(shown).block(Block::default().borders(Borders::ALL).title(format!(
            " {} (Tab / Shift-Tab) ",
            count(n, "candidate", "candidates")
        ))),
        r,
    );
}

/// `:device`: the output devices, the selected one in reverse, the one in
/// use marked `●`, the host's default said.
pub(super) fn draw_devices(f: &mut Frame, app: &App, p: &crate::ui::app::DevicePicker) {
    let current = app.player.status.device.as_deref();
    let w = 70u16.min(f.area().width.saturating_sub(2));
    let inner = w.saturating_sub(2) as usize;
    let room = (f.area().height.saturating_sub(6) as usize).max(1);
    let start = p.selected.saturating_sub(room.saturating_sub(1));
    let mut lines = Vec::new();
    for (i, d) in p.devices.iter().enumerate().skip(start).take(room) {
        let in_use = match current {
            Some(c) => c == d.name,
            None => d.default,
        };
        let text = format!(
            "{} {}{}  {}",
            if in_use { "●" } else { " " },
            sanitize(&d.name),
            if d.default { " (default)" } else { "" },
            sanitize(&d.description)
        );
        let style = if i == p.selected {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        lines.push(Line::from(Span::styled(truncate(&text, inner), style)));
    }
    let h = (lines.len() as u16 + 2).max(3);
    let r = popup(f, w, h);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" output device (Enter plays there, Esc closes) "),
        ),
        r,
    );
}

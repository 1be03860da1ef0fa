//! The status line (where the list is, what plays, the modes) and the bar
//! under it (a message, or the text being typed).

use super::super::app::{App, Level, Mode};
use crate::playback::PlayState;
use crate::text::{duration, sanitize, size, truncate};
use ratatui::layout::Rect;
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

pub(super) fn play_label(app: &App) -> String {
    let pb = &app.player.status;
    format!(
        "{} {} / {}{}",
        if pb.state == PlayState::Paused {
            "⏸"
        } else {
            "▶"
        },
        duration(pb.position.as_secs_f64()),
        duration(pb.duration.as_secs_f64()),
        if pb.looping { "  loop" } else { "" }
    )
}

/// The status line's parts, most important first.
pub(super) fn status_parts(app: &App) -> Vec<String> {
    let rows = app.list.view.rows.len();
    let mut parts = vec![format!(
        "{}/{}",
        if rows == 0 { 0 } else { app.list.selected + 1 },
        rows
    )];
    match app.store.loading() {
        Some(total) => parts[0].push_str(&format!(" · loading {total}…")),
        None if rows != app.store.count() => {
            parts[0].push_str(&format!(" of {}", app.store.count()))
        }
        None => {}
    }
    // The modes the keys behave by come first: a narrow screen keeps them.
    if app.triage.culling {
        parts.push("culling".into());
    }
    if app.player.autoplay {
        parts.push("autoplay".into());
    }
    if app.player.status.looping {
        parts.push("loop".into());
    }
    if !app.list.marked.is_empty() {
        let hidden = app.list.hidden_marks();
        parts.push(if hidden > 0 {
            format!("{} marked ({hidden} hidden)", app.list.marked.len())
        } else {
            format!("{} marked", app.list.marked.len())
        });
    }
    if let Some(b) = &app.busy {
        parts.push(b.clone());
    }
    if let Some(d) = &app.player.status.device {
        parts.push(format!("device {}", sanitize(d)));
    }
    if app.player.status.recovering {
        parts.push("reconnecting…".into());
    }
    if app.analysis.left > 0 {
        parts.push(format!("measuring {}…", app.analysis.left));
    }
    if let Some((done, total)) = app.exports.running {
        parts.push(format!("exporting {done}/{total}…"));
    }
    if app.list.view.pending {
        parts.push("sorting…".into());
    }
    if app.player.status.state != PlayState::Idle {
        let id = app
            .player
            .status
            .id
            .as_deref()
            .map(|i| sanitize(crate::text::short_id(i)).into_owned())
            .unwrap_or_default();
        parts.push(format!("{} {id}", play_label(app)));
    }
    if let Some((at, n)) = app.match_position() {
        parts.push(format!("match {at}/{n}"));
    } else if !app.find.query.is_empty() {
        parts.push(format!("/{}", truncate(&sanitize(&app.find.query), 16)));
    }
    if !app.list.view.spec.filter.is_empty() {
        parts.push(format!(
            "filter: {}",
            truncate(&sanitize(&app.list.view.spec.filter.text), 24)
        ));
    }
    parts.push(format!("sort: {}", app.list.view.spec.sort.label()));
    let st = &app.player.status;
    parts.push(match st.capped {
        // Above 100 %, never past full scale: say what it plays at.
        Some(c) => format!("vol {}% (plays at {c}%: no clipping)", st.volume),
        None => format!("vol {}%", st.volume),
    });
    parts.push(format!("files {}", size(app.sizes.files)));
    parts
}

pub(super) fn draw_status(f: &mut Frame, app: &App, area: Rect) {
    let width = area.width as usize;
    let mut line = String::new();
    for p in status_parts(app) {
        let next = if line.is_empty() {
            p
        } else {
            format!(" │ {p}")
        };
        if UnicodeWidthStr::width(line.as_str()) + UnicodeWidthStr::width(next.as_str()) > width {
            line.push_str(" …");
            break;
        }
        line.push_str(&next);
    }
    f.render_widget(
        Paragraph::new(truncate(&line, width)).style(app.theme.status()),
        area,
    );
}

pub(super) fn draw_bar(f: &mut Frame, app: &App, area: Rect) {
    let width = area.width as usize;
    let prefix = match app.mode {
        Mode::Search => "/",
        Mode::Command => ":",
        _ => {
            let (text, style) = match app.message() {
                Some(m) => (
                    sanitize(&m.text).into_owned(),
                    if m.level == Level::Error {
                        app.theme.error()
                    } else {
                        app.theme.info()
                    },
                ),
                None => (app.mode.keys().hint().to_string(), app.theme.dim()),
            };
            // A cut message ends with … (:messages shows it whole).
            f.render_widget(Paragraph::new(truncate(&text, width)).style(style), area);
            return;
        }
    };
    let width = area.width.saturating_sub(1) as usize;
    let scroll = app.bar.input.visual_scroll(width);
    let value = sanitize(app.bar.input.value()).into_owned();
    f.render_widget(
        Paragraph::new(format!("{prefix}{value}")).scroll((0, scroll as u16)),
        area,
    );
    let x = (app.bar.input.visual_cursor().max(scroll) - scroll) as u16 + 1;
    f.set_cursor_position((area.x + x.min(area.width.saturating_sub(1)), area.y));
}

//! The list of takes: one row per take, a sparkline on each.

use super::super::app::{App, PeakState};
use super::super::event::PeakFailure;
use crate::store::HistoryEntry;
use crate::text::{age, duration, pad, sanitize, truncate};
use chrono::{DateTime, Utc};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

pub(super) fn sparkline(app: &App, e: &HistoryEntry, width: usize) -> Span<'static> {
    let t = &app.theme;
    match app.waves.peaks.get(&e.entry_id) {
        Some(PeakState::Ready(p)) => {
            let env = p.envelope(width);
            let peak = env.iter().copied().fold(0f32, f32::max).max(1e-6);
            let s: String = env
                .iter()
                .map(|v| BARS[((v / peak) * 7.0).round().clamp(0.0, 7.0) as usize])
                .collect();
            Span::styled(s, t.spark())
        }
        Some(PeakState::Failed(why)) => {
            let (long, short) = match why {
                PeakFailure::Missing => ("audio missing", "missing"),
                PeakFailure::Refused(_) => ("invalid path", "invalid"),
                PeakFailure::Unsupported(_) => ("unsupported", "unsupp."),
                PeakFailure::Unreadable(_) => ("cannot read", "unread."),
            };
            let label = if long.len() <= width { long } else { short };
            Span::styled(truncate(label, width), t.bad())
        }
        _ => Span::styled(truncate("·····", width), t.dim()),
    }
}

/// The list's columns for a width: (tier, age width, model width, preset
/// width); the compact tier keeps preset and seed beside the panel at 120
/// columns.
pub(super) fn columns(w: usize) -> (u8, usize, usize, usize) {
    match w {
        80.. => (2, 8, 16, 10),
        60.. => (1, 4, 12, 8),
        _ => (0, 8, 12, 0),
    }
}

pub(super) fn draw_list(f: &mut Frame, app: &App, area: Rect, now: DateTime<Utc>) {
    let t = &app.theme;
    let block = Block::default().borders(Borders::ALL).title(Span::styled(
        format!(
            " {} ",
            truncate(
                &sanitize(&app.store.dir().display().to_string()),
                area.width.saturating_sub(4) as usize
            )
        ),
        t.title(),
    ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let w = inner.width as usize;
    let (tier, age_w, model_w, preset_w) = columns(w);
    let mut header = format!("  {:<8} {:>age_w$} {} ", "ID", "AGE", pad("MODEL", model_w));
    if tier > 0 {
        header.push_str(&format!("{} {:>10} ", pad("PRESET", preset_w), "SEED"));
    }
    // Ratings and rejects get a column once there are any.
    let show_keep = !app.triage.notes.is_empty();
    if show_keep {
        header.push_str(&format!("{:>6} {} WAVE", "DUR", pad("KEEP", 5)));
    } else {
        header.push_str(&format!("{:>6} WAVE", "DUR"));
    }
    let mut lines = vec![Line::from(Span::styled(truncate(&header, w), t.header()))];
    let page = app.page();
    let matches: std::collections::HashSet<usize> = app.find.matches.iter().copied().collect();
    for row in app.list.offset..(app.list.offset + page).min(app.list.view.rows.len()) {
        let e = &app.list.view.rows[row];
        let mark = if app.list.marked.contains(&e.entry_id) {
            "●"
        } else {
            " "
        };
        let play = if app.is_playing(&e.entry_id) {
            "▶"
        } else if matches.contains(&row) {
            "»"
        } else {
            " "
        };
        let when = age(e.time_us, now);
        let when = match tier {
            1 => format!("{:>age_w$}", when.trim_end_matches(" ago")),
            _ => format!("{when:>age_w$}"),
        };
        let mut text = format!(
            "{}{} {} ",
            pad(&truncate(&sanitize(e.short_id()), 8), 8),
            when,
            pad(&truncate(&sanitize(&e.model_name), model_w), model_w),
        );
        if tier > 0 {
            text.push_str(&format!(
                "{} {:>10} ",
                pad(&truncate(&sanitize(&e.preset_name), preset_w), preset_w),
                truncate(&e.seed.to_string(), 10)
            ));
        }
        let note = app.triage.notes.get(&e.entry_id);
        let rejected = note.is_some_and(|a| a.rejected);
        let keep = note.map(|a| a.mark()).unwrap_or_default();
        if show_keep {
            text.push_str(&format!("{:>6} {} ", duration(e.duration_s), pad(&keep, 5)));
        } else {
            text.push_str(&format!("{:>6} ", duration(e.duration_s)));
        }
        let used = 2 + UnicodeWidthStr::width(text.as_str());
        let spark_w = w.saturating_sub(used);
        let mut spans = vec![
            Span::styled(mark, t.mark()),
            Span::styled(play, t.accent()),
            Span::raw(truncate(&text, w.saturating_sub(2))),
        ];
        if spark_w > 0 {
            spans.push(sparkline(app, e, spark_w));
        }
        let mut line = Line::from(spans);
        if rejected {
            // Rejected takes stay visible, dimmed and crossed out.
            line = line.style(t.dim().add_modifier(ratatui::style::Modifier::CROSSED_OUT));
        }
        if row == app.list.selected {
            line = line.style(t.selected());
        }
        lines.push(line);
    }
    if app.list.view.rows.is_empty() {
        let msg = if app.list.view.pending {
            "sorting…"
        } else if app.store.count() == 0 {
            "No takes yet. Generate some, or try `genhist --demo`."
        } else {
            "Nothing matches. Esc clears the search and filter."
        };
        lines.push(Line::from(Span::styled(msg, t.accent())));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

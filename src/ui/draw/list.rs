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

/// The sparklines' scale: a column's peak from this many dBFS (no bar) up to
/// 0 dBFS (a full bar), in eight steps of 6 dB: a quiet take looks quiet.
pub(crate) const SPARK_FLOOR_DB: f32 = -48.0;

/// Peaks at or above this (-0.1 dBFS) are at full scale: the take clips.
const FULL_SCALE: f32 = 0.988_6;

/// The bar for a column whose peak is `v` (0..1), at true level.
fn bar(v: f32) -> char {
    let db = 20.0 * v.max(1e-9).log10();
    if db <= SPARK_FLOOR_DB {
        return ' ';
    }
    let level = ((db - SPARK_FLOOR_DB) / -SPARK_FLOOR_DB * 8.0).ceil();
    BARS[(level.clamp(1.0, 8.0) as usize) - 1]
}

/// A take's sparkline: its peak per column at true level, columns at full
/// scale in the "hot" style, a take that never rises above the floor said
/// in words.
pub(super) fn sparkline(app: &App, e: &HistoryEntry, width: usize) -> Vec<Span<'static>> {
    let t = &app.theme;
    match app.waves.peaks.get(&e.entry_id) {
        Some(PeakState::Ready(p)) => {
            let env = p.envelope(width);
            if env.iter().all(|&v| bar(v) == ' ') {
                return vec![Span::styled(truncate("near silence", width), t.dim())];
            }
            // Runs of columns in one style.
            let mut spans: Vec<Span<'static>> = Vec::new();
            let (mut run, mut hot) = (String::new(), false);
            for &v in &env {
                let h = v >= FULL_SCALE;
                if h != hot && !run.is_empty() {
                    let style = if hot { t.spark_hot() } else { t.spark() };
                    spans.push(Span::styled(std::mem::take(&mut run), style));
                }
                hot = h;
                run.push(bar(v));
            }
            let style = if hot { t.spark_hot() } else { t.spark() };
            spans.push(Span::styled(run, style));
            spans
        }
        Some(PeakState::Failed(why)) => {
            let (long, short) = match why {
                PeakFailure::Missing => ("audio missing", "missing"),
                PeakFailure::Refused(_) => ("invalid path", "invalid"),
                PeakFailure::Unsupported(_) => ("unsupported", "unsupp."),
                PeakFailure::Unreadable(_) => ("cannot read", "unread."),
            };
            let label = if long.len() <= width { long } else { short };
            vec![Span::styled(truncate(label, width), t.bad())]
        }
        _ => vec![Span::styled(truncate("·····", width), t.dim())],
    }
}

/// A column shown beside the fixed ones: the value a sort orders by (the
/// likeness of `:similar`, a `quality.KEY`, a measure), and the measures
/// of `[list] columns`. `value` says whether to show it as a warning.
pub(super) struct Column<'a> {
    header: String,
    width: usize,
    value: CellOf<'a>,
}

/// A column's value for a take, and whether it is a warning.
type CellOf<'a> = Box<dyn Fn(&HistoryEntry) -> (String, bool) + 'a>;

/// A measure's column: its short header, and its value without a unit
/// (`-23.1`; `…` not yet measured, `n/a` undefined). A clipped take shows
/// its peak, true peak and clipped count as warnings.
fn measure_column<'a>(app: &'a App, name: &'static str) -> Column<'a> {
    let header = match name {
        "lufs" => "LUFS",
        "lra" => "LRA",
        "peak" => "PEAK",
        "true_peak" => "TP",
        "clipped" => "CLIP",
        "dc" => "DC",
        "silence_head" => "HEAD",
        "silence_tail" => "TAIL",
        "centroid" => "CENTR",
        other => other,
    };
    Column {
        header: header.into(),
        width: 6,
        value: Box::new(move |e| match app.analysis.of(&e.entry_id) {
            None => ("…".into(), false),
            Some(m) => {
                let hot = m.clipped > 0 && matches!(name, "peak" | "true_peak" | "clipped");
                let text = match (name, m.get(name)) {
                    (_, None) => "n/a".into(),
                    ("clipped", Some(v)) => format!("{}", v as u64),
                    ("centroid", Some(v)) if v >= 1000.0 => format!("{:.1}k", v / 1000.0),
                    ("centroid", Some(v)) => format!("{v:.0}"),
                    ("silence_head" | "silence_tail", Some(v)) => format!("{v:.2}"),
                    (_, Some(v)) => format!("{v:.1}"),
                };
                (text, hot)
            }
        }),
    }
}

/// The columns the list shows beyond the fixed ones, now.
fn extra_columns(app: &App) -> Vec<Column<'_>> {
    use crate::query::SortKey;
    let mut out = Vec::new();
    match &app.list.view.spec.sort.key {
        SortKey::Similar(r) => out.push(Column {
            header: "DIST".into(),
            width: 6,
            value: Box::new(move |e| (format!("{:.3}", r.0.distance(e)), false)),
        }),
        SortKey::Quality(k) => out.push(Column {
            header: k.rsplit('.').next().unwrap_or(k).to_uppercase(),
            width: 8,
            value: Box::new(move |e| (crate::query::quality_text(e, k), false)),
        }),
        SortKey::Measure(m) if !app.analysis.columns.contains(m) => {
            out.push(measure_column(app, m))
        }
        _ => {}
    }
    for name in &app.analysis.columns {
        out.push(measure_column(app, name));
    }
    out
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
    let extra = extra_columns(app);
    for c in &extra {
        header.push_str(&format!(
            "{:>w$} ",
            truncate(&c.header, c.width),
            w = c.width
        ));
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
        let when = age(e.time_us(), now);
        let when = match tier {
            1 => format!("{:>age_w$}", when.trim_end_matches(" ago")),
            _ => format!("{when:>age_w$}"),
        };
        let mut text = format!(
            "{}{} {} ",
            pad(&truncate(&sanitize(e.short_id()), 8), 8),
            when,
            pad(&truncate(&sanitize(e.model_name()), model_w), model_w),
        );
        if tier > 0 {
            text.push_str(&format!(
                "{} {:>10} ",
                pad(&truncate(&sanitize(e.preset_name()), preset_w), preset_w),
                truncate(e.seed_text().as_ref(), 10)
            ));
        }
        // The extra columns, each in its own style.
        let mut cells: Vec<(String, bool)> = Vec::new();
        for c in &extra {
            let (v, hot) = (c.value)(e);
            cells.push((format!("{:>w$} ", truncate(&v, c.width), w = c.width), hot));
        }
        let note = app.triage.notes.get(&e.entry_id);
        let rejected = note.is_some_and(|a| a.rejected);
        let keep = note.map(|a| a.mark()).unwrap_or_default();
        let tail = if show_keep {
            format!("{:>6} {} ", duration(e.duration_s), pad(&keep, 5))
        } else {
            format!("{:>6} ", duration(e.duration_s))
        };
        // The row up to the sparkline, cut to the width as one text.
        let room = w.saturating_sub(2);
        let mut spans = vec![Span::styled(mark, t.mark()), Span::styled(play, t.accent())];
        let mut used = 0;
        let mut put = |s: &str, style: ratatui::style::Style, spans: &mut Vec<Span<'static>>| {
            let left = room.saturating_sub(used);
            if left == 0 {
                return;
            }
            let s = if UnicodeWidthStr::width(s) > left {
                used = room;
                truncate(s, left)
            } else {
                used += UnicodeWidthStr::width(s);
                s.to_string()
            };
            spans.push(Span::styled(s, style));
        };
        put(&text, ratatui::style::Style::new(), &mut spans);
        for (cell, hot) in &cells {
            let style = if *hot {
                t.bad()
            } else {
                ratatui::style::Style::new()
            };
            put(cell, style, &mut spans);
        }
        put(&tail, ratatui::style::Style::new(), &mut spans);
        let spark_w = room.saturating_sub(used);
        if spark_w > 0 {
            spans.extend(sparkline(app, e, spark_w));
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

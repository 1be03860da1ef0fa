//! Drawing: reads the [`App`], never changes it and never touches a file.
//! All text from the index goes through `text::sanitize`; text is cut with
//! `…`, never silently.

use super::app::{App, Confirm, Level, Mode, PeakState};
use super::event::PeakFailure;
use super::help::{help_lines, HelpLine, HELP_KEY_W};
use super::layout::{self, MIN_HEIGHT, MIN_WIDTH};
use crate::playback::PlayState;
use crate::store::{FileState, HistoryEntry};
use crate::text::{
    age, count, duration, latent_summary, local_time, pad, sanitize, size, truncate,
};
use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as CLine};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Draws the whole screen; `now` is injected so ages are testable.
pub fn draw(f: &mut Frame, app: &App, now: DateTime<Utc>) {
    let area = f.area();
    let Some(a) = layout::areas(area) else {
        let msg = format!(
            "Terminal too small ({}x{}).\nNeed at least {MIN_WIDTH}x{MIN_HEIGHT}. q quits.",
            area.width, area.height
        );
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return;
    };
    draw_list(f, app, a.list, now);
    draw_panel(f, app, a.panel, now);
    draw_status(f, app, a.status);
    draw_bar(f, app, a.bar);
    match &app.mode {
        Mode::Confirm(c) => draw_confirm(f, app, c),
        Mode::Help { only, scroll } => draw_help(f, app, only.as_deref(), *scroll),
        Mode::Info {
            title,
            lines,
            scroll,
        } => draw_info(f, app, title, lines, *scroll),
        Mode::HistorySearch => draw_history_search(f, app),
        Mode::Compare(c) => draw_compare(f, app, c),
        Mode::Command if app.completion.is_some() => draw_completion(f, app, a.bar),
        _ => {}
    }
}

fn sparkline(app: &App, e: &HistoryEntry, width: usize) -> Span<'static> {
    let t = &app.theme;
    match app.peaks.get(&e.entry_id) {
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
fn columns(w: usize) -> (u8, usize, usize, usize) {
    match w {
        80.. => (2, 8, 16, 10),
        60.. => (1, 4, 12, 8),
        _ => (0, 8, 12, 0),
    }
}

fn draw_list(f: &mut Frame, app: &App, area: Rect, now: DateTime<Utc>) {
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
    let show_keep = !app.notes.is_empty();
    if show_keep {
        header.push_str(&format!("{:>6} {} WAVE", "DUR", pad("KEEP", 5)));
    } else {
        header.push_str(&format!("{:>6} WAVE", "DUR"));
    }
    let mut lines = vec![Line::from(Span::styled(truncate(&header, w), t.header()))];
    let page = app.page();
    let matches: std::collections::HashSet<usize> = app.find.matches.iter().copied().collect();
    for row in app.offset..(app.offset + page).min(app.view.rows.len()) {
        let e = &app.view.rows[row];
        let mark = if app.marked.contains(&e.entry_id) {
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
        let note = app.notes.get(&e.entry_id);
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
        if row == app.selected {
            line = line.style(t.selected());
        }
        lines.push(line);
    }
    if app.view.rows.is_empty() {
        let msg = if app.view.pending {
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

fn file_line(
    app: &App,
    label: &str,
    rel: &str,
    state: Option<&FileState>,
    width: usize,
) -> Line<'static> {
    let t = &app.theme;
    let (text, style) = match state {
        Some(FileState::Present { bytes, .. }) => (
            format!("{:>9}  {}", size(*bytes), sanitize(rel)),
            Style::new(),
        ),
        Some(FileState::Missing { .. }) => (format!("MISSING  {}", sanitize(rel)), t.bad()),
        Some(FileState::Invalid { reason }) => (format!("INVALID: {}", sanitize(reason)), t.bad()),
        None => (format!("…        {}", sanitize(rel)), t.dim()),
    };
    Line::from(vec![
        Span::styled(format!("{label:<10}"), t.label()),
        Span::styled(truncate(&text, width.saturating_sub(10)), style),
    ])
}

fn kv(app: &App, label: &str, value: String, width: usize) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{label:<10}"), app.theme.label()),
        Span::raw(truncate(&value, width.saturating_sub(10))),
    ])
}

fn draw_panel(f: &mut Frame, app: &App, area: Rect, now: DateTime<Utc>) {
    if area.height == 0 {
        return;
    }
    let block = Block::default().borders(Borders::ALL).title(" take ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(e) = app.selected_entry() else {
        return;
    };
    let w = inner.width as usize;
    let mut lines = vec![
        kv(
            app,
            "model",
            format!("{} ({})", sanitize(&e.model_name), sanitize(&e.model_id)),
            w,
        ),
        kv(app, "id", sanitize(&e.entry_id).into_owned(), w),
        kv(
            app,
            "time",
            format!(
                "{}  {}",
                local_time(e.time_us, &e.timestamp),
                age(e.time_us, now)
            ),
            w,
        ),
        kv(app, "seed", e.seed.to_string(), w),
        kv(
            app,
            "audio",
            format!(
                "{}  {} Hz  {}",
                duration(e.duration_s),
                e.sample_rate,
                sanitize(&e.stereo_mode)
            ),
            w,
        ),
        kv(
            app,
            "preset",
            format!(
                "{}   n_components {}",
                sanitize(&e.preset_name),
                e.n_components
            ),
            w,
        ),
    ];
    match &e.slider_positions {
        None => lines.push(kv(app, "sliders", "none".into(), w)),
        Some(s) => {
            let bars: Vec<String> = s
                .iter()
                .map(|&v| {
                    let v = v.clamp(-3, 3);
                    let mut cells = ['·'; 7];
                    let (a, b) = if v < 0 { (3 + v, 3) } else { (3, 3 + v) };
                    for c in cells.iter_mut().take(b as usize + 1).skip(a as usize) {
                        *c = '█';
                    }
                    cells.iter().collect::<String>()
                })
                .collect();
            lines.push(kv(app, "sliders", format!("{s:?}"), w));
            for chunk in bars.chunks(4) {
                lines.push(kv(app, "", chunk.join(" "), w));
            }
        }
    }
    let scores = serde_json::Value::Object(e.quality_score.map());
    let q: Vec<(String, String)> = crate::store::entry::leaves(&scores)
        .into_iter()
        .map(|(k, v)| (k, crate::store::pyjson::display(v)))
        .collect();
    for (k, v) in q.iter().take(6) {
        lines.push(kv(
            app,
            "quality",
            format!("{}: {}", sanitize(k), sanitize(v)),
            w,
        ));
    }
    if q.len() > 6 {
        lines.push(kv(
            app,
            "",
            format!("… and {} more (genhist show ID)", q.len() - 6),
            w,
        ));
    }
    if let Some(l) = &e.latent_vector {
        lines.push(kv(app, "latent", latent_summary(l), w));
    }
    if let Some(a) = app.notes.get(&e.entry_id) {
        lines.push(kv(app, "keep", a.summary(), w));
    }
    let files = app.files.get(&e.entry_id);
    lines.push(file_line(app, "wav", &e.audio_file, files.map(|f| &f.0), w));
    lines.push(file_line(
        app,
        "png",
        &e.thumbnail_file,
        files.map(|f| &f.1),
        w,
    ));
    for (k, v) in e.extra.iter().take(3) {
        lines.push(kv(
            app,
            &truncate(&sanitize(k), 9),
            sanitize(&crate::store::pyjson::display(v)).into_owned(),
            w,
        ));
    }
    let text_h = (lines.len() as u16).min(inner.height.saturating_sub(4));
    let parts = Layout::vertical([
        Constraint::Length(text_h),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .split(inner);
    f.render_widget(Paragraph::new(lines), parts[0]);
    draw_waveform(f, app, e, parts[1]);
    draw_progress(f, app, e, parts[2]);
}

fn draw_waveform(f: &mut Frame, app: &App, e: &HistoryEntry, area: Rect) {
    let playhead = (app.is_playing(&e.entry_id) && app.playback.duration.as_secs_f64() > 0.0)
        .then(|| app.playback.position.as_secs_f64() / app.playback.duration.as_secs_f64());
    draw_waveform_at(f, app, e, area, playhead);
}

/// A take's waveform with a playhead at `playhead` (0..1 of its length).
fn draw_waveform_at(f: &mut Frame, app: &App, e: &HistoryEntry, area: Rect, playhead: Option<f64>) {
    if area.height < 2 {
        return;
    }
    let Some(PeakState::Ready(p)) = app.peaks.get(&e.entry_id) else {
        let msg = match app.peaks.get(&e.entry_id) {
            Some(PeakState::Failed(why)) => format!("no waveform: {}", sanitize(&why.to_string())),
            _ => "reading waveform…".into(),
        };
        f.render_widget(
            Paragraph::new(msg)
                .style(app.theme.dim())
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    let cols = (area.width as usize * 2).max(1);
    let channels = p.channels.clamp(1, 2) as usize;
    let per_ch: Vec<Vec<(f32, f32)>> = (0..channels).map(|c| p.columns(c, cols)).collect();
    let playhead = playhead.map(|r| r * cols as f64);
    let (c0, c1, ph) = (app.theme.wave(0), app.theme.wave(1), app.theme.playhead());
    let canvas = Canvas::default()
        .marker(Marker::Braille)
        .x_bounds([0.0, cols as f64])
        .y_bounds([-(channels as f64), channels as f64])
        .paint(move |ctx| {
            for (c, colsv) in per_ch.iter().enumerate() {
                // Channel 0 on top, channel 1 below.
                let centre = if channels == 2 {
                    if c == 0 {
                        1.0
                    } else {
                        -1.0
                    }
                } else {
                    0.0
                };
                let scale = if channels == 2 { 0.95 } else { 1.0 };
                for (x, (lo, hi)) in colsv.iter().enumerate() {
                    ctx.draw(&CLine {
                        x1: x as f64,
                        y1: centre + *lo as f64 * scale,
                        x2: x as f64,
                        y2: centre + *hi as f64 * scale,
                        color: if c == 0 { c0 } else { c1 },
                    });
                }
            }
            if let Some(x) = playhead {
                ctx.draw(&CLine {
                    x1: x,
                    y1: -(channels as f64),
                    x2: x,
                    y2: channels as f64,
                    color: ph,
                });
            }
        });
    f.render_widget(canvas, area);
}

/// The A/B view: both waveforms under one playhead, what differs, the keys.
fn draw_compare(f: &mut Frame, app: &App, c: &crate::ui::app::Compare) {
    let t = &app.theme;
    let a = f.area();
    let r = popup(f, a.width.saturating_sub(2), a.height.saturating_sub(2));
    let heard = c.heard_take();
    let playing = app.is_playing(&heard.entry_id);
    let title = format!(
        " A/B: {} {} ",
        if playing {
            play_label(app)
        } else {
            "not playing".into()
        },
        if c.level_match {
            match app.level_gain(c) {
                Some(g) => format!("· level matched: {:+.1} dB", 20.0 * g.max(1e-6).log10()),
                None => "· level matching: reading…".into(),
            }
        } else {
            String::new()
        }
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, t.title()))
        .title_bottom(Span::styled(
            " Tab switch · Enter play · Space pause · ←/→ seek · 1-5/0 rate · x reject · L level · Esc close ",
            t.dim(),
        ));
    let inner = block.inner(r);
    f.render_widget(block, r);
    let wave_h = ((inner.height.saturating_sub(4)) / 3).clamp(2, 8);
    let parts = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(wave_h),
        Constraint::Length(1),
        Constraint::Length(wave_h),
        Constraint::Min(1),
    ])
    .split(inner);
    // One playhead for both: the position of the take heard.
    let ratio = (playing && app.playback.duration.as_secs_f64() > 0.0)
        .then(|| app.playback.position.as_secs_f64() / app.playback.duration.as_secs_f64());
    for (i, e) in c.takes.iter().enumerate() {
        let label = format!(
            "{} {}  {}  {}  {}{}",
            if i == c.heard { "▶" } else { " " },
            ["A", "B"][i],
            sanitize(e.short_id()),
            sanitize(&e.model_name),
            duration(e.duration_s),
            app.notes
                .get(&e.entry_id)
                .map(|n| format!("  {}", n.summary()))
                .unwrap_or_default()
        );
        let style = if i == c.heard {
            t.accent().add_modifier(ratatui::style::Modifier::BOLD)
        } else {
            t.dim()
        };
        f.render_widget(
            Paragraph::new(Span::styled(truncate(&label, inner.width as usize), style)),
            parts[i * 2],
        );
        draw_waveform_at(f, app, e, parts[i * 2 + 1], ratio);
    }
    let w = parts[4].width as usize;
    let label_w = c
        .rows
        .iter()
        .map(|r| UnicodeWidthStr::width(r.label.as_str()))
        .max()
        .unwrap_or(0)
        .clamp(6, 24);
    let value_w = w.saturating_sub(label_w + 4) / 2;
    let mut lines = vec![Line::from(Span::styled(
        format!("{} {} {}", pad("differs", label_w), pad("A", value_w), "B"),
        t.header(),
    ))];
    if c.rows.is_empty() {
        lines.push(Line::from("the same parameters"));
    }
    let shown = (parts[4].height as usize).saturating_sub(1);
    let more = c.rows.len().saturating_sub(c.scroll + shown);
    for row in c
        .rows
        .iter()
        .skip(c.scroll)
        .take(shown.saturating_sub(usize::from(more > 0)))
    {
        lines.push(Line::from(vec![
            Span::styled(
                pad(&truncate(&sanitize(&row.label), label_w), label_w),
                t.label(),
            ),
            Span::raw(" "),
            Span::raw(pad(&truncate(&sanitize(&row.a), value_w), value_w)),
            Span::raw(" "),
            Span::raw(truncate(&sanitize(&row.b), value_w)),
        ]));
    }
    if more > 0 {
        lines.push(Line::from(Span::styled(
            format!("↓ {} more (j / k scroll)", more + 1),
            t.dim(),
        )));
    }
    f.render_widget(Paragraph::new(lines), parts[4]);
}

fn play_label(app: &App) -> String {
    let pb = &app.playback;
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

fn draw_progress(f: &mut Frame, app: &App, e: &HistoryEntry, area: Rect) {
    let pb = &app.playback;
    if !app.is_playing(&e.entry_id) {
        return;
    }
    let total = pb.duration.as_secs_f64().max(1e-9);
    let ratio = (pb.position.as_secs_f64() / total).clamp(0.0, 1.0);
    f.render_widget(
        Gauge::default()
            .ratio(ratio)
            .label(play_label(app))
            .gauge_style(app.theme.accent()),
        area,
    );
}

/// The status line's parts, most important first.
fn status_parts(app: &App) -> Vec<String> {
    let rows = app.view.rows.len();
    let mut parts = vec![format!(
        "{}/{}",
        if rows == 0 { 0 } else { app.selected + 1 },
        rows
    )];
    match app.store.loading() {
        Some(total) => parts[0].push_str(&format!(" · loading {total}…")),
        None if rows != app.store.count() => {
            parts[0].push_str(&format!(" of {}", app.store.count()))
        }
        None => {}
    }
    if let Some(b) = &app.busy {
        parts.push(b.clone());
    }
    if app.view.pending {
        parts.push("sorting…".into());
    }
    if app.playback.state != PlayState::Idle {
        let id = app
            .playback
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
    if !app.view.spec.filter.is_empty() {
        parts.push(format!(
            "filter: {}",
            truncate(&sanitize(&app.view.spec.filter.text), 24)
        ));
    }
    parts.push(format!("sort: {}", app.view.spec.sort.label()));
    if !app.marked.is_empty() {
        let hidden = app.hidden_marks();
        parts.push(if hidden > 0 {
            format!("{} marked ({hidden} hidden)", app.marked.len())
        } else {
            format!("{} marked", app.marked.len())
        });
    }
    parts.push(size(app.total_bytes));
    parts.push(format!("vol {}%", app.playback.volume));
    if app.culling {
        parts.push("culling".into());
    }
    if app.autoplay {
        parts.push("autoplay".into());
    }
    if app.playback.looping {
        parts.push("loop".into());
    }
    parts
}

fn draw_status(f: &mut Frame, app: &App, area: Rect) {
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

fn draw_bar(f: &mut Frame, app: &App, area: Rect) {
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
                None => (
                    "? help  : command  / search  Enter play  d delete  u undo  q quit".to_string(),
                    app.theme.dim(),
                ),
            };
            // A cut message ends with … (:messages shows it whole).
            f.render_widget(Paragraph::new(truncate(&text, width)).style(style), area);
            return;
        }
    };
    let width = area.width.saturating_sub(1) as usize;
    let scroll = app.input.visual_scroll(width);
    let value = sanitize(app.input.value()).into_owned();
    f.render_widget(
        Paragraph::new(format!("{prefix}{value}")).scroll((0, scroll as u16)),
        area,
    );
    let x = (app.input.visual_cursor().max(scroll) - scroll) as u16 + 1;
    f.set_cursor_position((area.x + x.min(area.width.saturating_sub(1)), area.y));
}

/// Clears `r` for a popup; a wide character cut by its left or right edge
/// is blanked whole, so the popup's border is drawn intact.
fn clear(buf: &mut Buffer, r: Rect) {
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

fn popup(f: &mut Frame, w: u16, h: u16) -> Rect {
    let a = f.area();
    let w = w.min(a.width.saturating_sub(2));
    let h = h.min(a.height.saturating_sub(2));
    let r = Rect::new(a.x + (a.width - w) / 2, a.y + (a.height - h) / 2, w, h);
    clear(f.buffer_mut(), r);
    r
}

fn draw_confirm(f: &mut Frame, app: &App, c: &Confirm) {
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
                "Delete {} and their files{}?",
                count(ids.len(), "take", "takes"),
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
                        &format!("  {}  {}", sanitize(e.short_id()), sanitize(&e.model_name)),
                        inner_w,
                    )));
                    for rel in [&e.audio_file, &e.thumbnail_file] {
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
    };
    lines.push(Line::from(""));
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
fn draw_scrolled(f: &mut Frame, app: &App, title: &str, lines: Vec<Line<'static>>, scroll: usize) {
    let a = f.area();
    let h = (lines.len() as u16 + 2).min(a.height.saturating_sub(2));
    let w = 100u16.min(a.width.saturating_sub(2));
    let r = popup(f, w, h);
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

fn draw_help(f: &mut Frame, app: &App, only: Option<&str>, scroll: usize) {
    let w = (f.area().width.saturating_sub(4)) as usize;
    let t = &app.theme;
    let lines: Vec<Line<'static>> = help_lines(only, &app.user_keys, f.area().width)
        .into_iter()
        .map(|l| match l {
            HelpLine::Title(s) => Line::from(Span::styled(s, t.header())),
            HelpLine::Row(k, h) => {
                let key_w = HELP_KEY_W.min(w / 3);
                Line::from(vec![
                    Span::styled(pad(&truncate(&k, key_w), key_w + 1), t.accent()),
                    Span::raw(truncate(&h, w.saturating_sub(key_w + 1))),
                ])
            }
            HelpLine::Blank => Line::from(""),
        })
        .collect();
    draw_scrolled(f, app, "help", lines, scroll);
}

fn draw_info(f: &mut Frame, app: &App, title: &str, lines: &[String], scroll: usize) {
    let w = (f.area().width.saturating_sub(4)) as usize;
    let body = lines
        .iter()
        .map(|l| Line::from(truncate(&sanitize(l), w)))
        .collect();
    draw_scrolled(f, app, title, body, scroll);
}

fn draw_history_search(f: &mut Frame, app: &App) {
    let hits = app.history.search(app.input.value(), 10);
    let mut lines = vec![Line::from(format!(
        "search: {}",
        sanitize(app.input.value())
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

fn draw_completion(f: &mut Frame, app: &App, bar: Rect) {
    let Some(c) = &app.completion else { return };
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

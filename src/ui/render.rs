//! Drawing: reads the [`App`], never changes what it shows. All text from the
//! index goes through `text::sanitize`.

use super::app::{App, Level, Mode, PeakState};
use super::keymap;
use crate::playback::PlayState;
use crate::store::{FileState, HistoryEntry};
use crate::text::{age, duration, local_time, pad, sanitize, size, truncate};
use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::canvas::{Canvas, Line as CLine};
use ratatui::widgets::{Block, Borders, Clear, Gauge, Paragraph, Wrap};
use ratatui::Frame;

pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Draws the whole screen; `now` is injected so ages are testable.
pub fn draw(f: &mut Frame, app: &App, now: DateTime<Utc>) {
    let area = f.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let msg = format!(
            "Terminal too small ({}x{}).\nNeed at least {MIN_WIDTH}x{MIN_HEIGHT}. q quits.",
            area.width, area.height
        );
        f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: true }), area);
        return;
    }
    let rows = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .split(area);
    let wide = area.width >= 110;
    let body = if wide {
        Layout::horizontal([Constraint::Percentage(58), Constraint::Percentage(42)]).split(rows[0])
    } else {
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).split(rows[0])
    };
    draw_list(f, app, body[0], now);
    draw_panel(f, app, body[1], now);
    draw_status(f, app, rows[1]);
    draw_bar(f, app, rows[2]);
    match &app.mode {
        Mode::Confirm(ids) => draw_confirm(f, app, ids),
        Mode::Help => draw_help(f),
        Mode::Info(title, lines) => draw_info(f, title, lines),
        Mode::HistorySearch => draw_history_search(f, app),
        _ => {}
    }
}

fn sparkline(app: &App, e: &HistoryEntry, width: usize) -> Span<'static> {
    match app.peaks.get(&e.entry_id) {
        Some(PeakState::Ready(p)) => {
            let env = p.envelope(width);
            let peak = env.iter().copied().fold(0f32, f32::max).max(1e-6);
            let s: String = env
                .iter()
                .map(|v| BARS[((v / peak) * 7.0).round().clamp(0.0, 7.0) as usize])
                .collect();
            Span::styled(s, Style::new().fg(Color::Cyan))
        }
        Some(PeakState::Failed(why)) => {
            let (long, short) = if why.contains("missing") || why.contains("No such file") {
                ("audio missing", "missing")
            } else if why.contains("outside") || why.contains("..") || why.contains("absolute") {
                ("invalid path", "invalid")
            } else if why.contains("unsupported") {
                ("unsupported", "unsupp.")
            } else {
                ("unreadable", "unread.")
            };
            let label = if long.len() <= width { long } else { short };
            Span::styled(truncate(label, width), Style::new().fg(Color::Red))
        }
        _ => Span::styled(truncate("·····", width), Style::new().fg(Color::DarkGray)),
    }
}

fn draw_list(f: &mut Frame, app: &App, area: Rect, now: DateTime<Utc>) {
    let block = Block::default().borders(Borders::ALL).title(Span::styled(
        format!(" {} ", sanitize(&app.store.dir().display().to_string())),
        Style::new().add_modifier(Modifier::BOLD),
    ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let height = inner.height as usize;
    app.page.set(height.max(1));
    // Keep the selection visible.
    let mut offset = app.offset.get();
    if app.selected < offset {
        offset = app.selected;
    } else if app.selected >= offset + height {
        offset = app.selected + 1 - height;
    }
    offset = offset.min(app.view.len().saturating_sub(height));
    app.offset.set(offset);
    let w = inner.width as usize;
    // Columns by width: full; compact (short age and names) so preset and
    // seed still fit beside the panel on a 120-column terminal; minimal.
    let tier = match w {
        80.. => 2,
        60.. => 1,
        _ => 0,
    };
    let mut lines = Vec::with_capacity(height);
    for row in offset..(offset + height).min(app.view.len()) {
        let Some(e) = app.entry_at(row) else { break };
        let mark = if app.marked.contains(&e.entry_id) {
            "●"
        } else {
            " "
        };
        let play = if app.is_playing(&e.entry_id) {
            "▶"
        } else {
            " "
        };
        let when = age(e.time_us, now);
        let (when, model_w) = match tier {
            1 => (format!("{:>4}", when.trim_end_matches(" ago")), 12),
            _ => (format!("{when:>8}"), 16),
        };
        let mut text = format!(
            "{mark}{play}{:<8} {when} {} ",
            sanitize(e.short_id()),
            pad(&truncate(&sanitize(&e.model_name), model_w), model_w),
        );
        if tier > 0 {
            let preset_w = if tier == 2 { 10 } else { 8 };
            text.push_str(&format!(
                "{} {:>10} ",
                pad(&truncate(&sanitize(&e.preset_name), preset_w), preset_w),
                truncate(&e.seed.to_string(), 10)
            ));
        }
        text.push_str(&format!("{:>6} ", duration(e.duration_s)));
        let used = unicode_width::UnicodeWidthStr::width(text.as_str());
        let spark_w = w.saturating_sub(used);
        let mut style = Style::new();
        if row == app.selected {
            style = style.bg(Color::DarkGray).add_modifier(Modifier::BOLD);
        }
        lines.push(Line::from(vec![Span::raw(text), sparkline(app, e, spark_w)]).style(style));
    }
    if app.view.is_empty() {
        let msg = if app.store.count() == 0 {
            "No takes yet. Generate some, or try `genhist --demo`."
        } else {
            "Nothing matches. Esc clears the search and filter."
        };
        lines.push(Line::from(Span::styled(
            msg,
            Style::new().fg(Color::Yellow),
        )));
    }
    f.render_widget(Paragraph::new(lines), inner);
}

fn file_line(
    app: &App,
    label: &str,
    e: &HistoryEntry,
    field: crate::store::Field,
) -> Line<'static> {
    let rel = match field {
        crate::store::Field::Audio => &e.audio_file,
        crate::store::Field::Thumbnail => &e.thumbnail_file,
    };
    let (text, style) = match app.store.file_state(e, field) {
        FileState::Present { bytes, .. } => (
            format!("{:>9}  {}", size(bytes), sanitize(rel)),
            Style::new(),
        ),
        FileState::Missing { .. } => (
            format!("MISSING  {}", sanitize(rel)),
            Style::new().fg(Color::Red),
        ),
        FileState::Invalid { reason } => (
            format!("INVALID: {}", sanitize(&reason)),
            Style::new().fg(Color::Red),
        ),
    };
    Line::from(vec![
        Span::styled(format!("{label:<10}"), Style::new().fg(Color::Gray)),
        Span::styled(text, style),
    ])
}

fn kv(label: &str, value: String) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{label:<10}"), Style::new().fg(Color::Gray)),
        Span::raw(value),
    ])
}

fn flatten_quality(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_quality(&key, v, out);
            }
        }
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

fn draw_panel(f: &mut Frame, app: &App, area: Rect, now: DateTime<Utc>) {
    let block = Block::default().borders(Borders::ALL).title(" take ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let Some(e) = app.selected_entry() else {
        return;
    };
    let mut lines = vec![
        kv(
            "model",
            format!("{} ({})", sanitize(&e.model_name), sanitize(&e.model_id)),
        ),
        kv("id", sanitize(&e.entry_id).into_owned()),
        kv(
            "time",
            format!(
                "{}  {}",
                local_time(e.time_us, &e.timestamp),
                age(e.time_us, now)
            ),
        ),
        kv("seed", e.seed.to_string()),
        kv(
            "audio",
            format!(
                "{}  {} Hz  {}",
                duration(e.duration_s),
                e.sample_rate,
                sanitize(&e.stereo_mode)
            ),
        ),
        kv(
            "preset",
            format!(
                "{}   n_components {}",
                sanitize(&e.preset_name),
                e.n_components
            ),
        ),
    ];
    match &e.slider_positions {
        None => lines.push(kv("sliders", "none".into())),
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
            lines.push(kv("sliders", format!("{:?}", s)));
            for chunk in bars.chunks(4) {
                lines.push(kv("", chunk.join(" ")));
            }
        }
    }
    let mut q = Vec::new();
    flatten_quality(
        "",
        &serde_json::Value::Object(e.quality_score.map()),
        &mut q,
    );
    for (k, v) in q.iter().take(6) {
        lines.push(kv("quality", format!("{}: {}", sanitize(k), sanitize(v))));
    }
    if let Some(l) = &e.latent_vector {
        lines.push(kv("latent", crate::text::latent_summary(l)));
    }
    lines.push(file_line(app, "wav", e, crate::store::Field::Audio));
    lines.push(file_line(app, "png", e, crate::store::Field::Thumbnail));
    for (k, v) in e.extra.iter().take(3) {
        lines.push(kv(
            &truncate(&sanitize(k), 9),
            sanitize(&v.to_string()).into_owned(),
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
    if area.height < 2 {
        return;
    }
    let Some(PeakState::Ready(p)) = app.peaks.get(&e.entry_id) else {
        let msg = match app.peaks.get(&e.entry_id) {
            Some(PeakState::Failed(why)) => format!("no waveform: {}", sanitize(why)),
            _ => "reading waveform…".into(),
        };
        f.render_widget(
            Paragraph::new(msg)
                .style(Style::new().fg(Color::DarkGray))
                .wrap(Wrap { trim: true }),
            area,
        );
        return;
    };
    let cols = (area.width as usize * 2).max(1);
    let channels = p.channels.clamp(1, 2) as usize;
    let per_ch: Vec<Vec<(f32, f32)>> = (0..channels).map(|c| p.columns(c, cols)).collect();
    let playhead =
        (app.is_playing(&e.entry_id) && app.playback.duration.as_secs_f64() > 0.0).then(|| {
            app.playback.position.as_secs_f64() / app.playback.duration.as_secs_f64() * cols as f64
        });
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
                        color: if c == 0 {
                            Color::Cyan
                        } else {
                            Color::LightBlue
                        },
                    });
                }
            }
            if let Some(x) = playhead {
                ctx.draw(&CLine {
                    x1: x,
                    y1: -(channels as f64),
                    x2: x,
                    y2: channels as f64,
                    color: Color::Yellow,
                });
            }
        });
    f.render_widget(canvas, area);
}

fn draw_progress(f: &mut Frame, app: &App, e: &HistoryEntry, area: Rect) {
    let pb = &app.playback;
    if !app.is_playing(&e.entry_id) {
        return;
    }
    let total = pb.duration.as_secs_f64().max(1e-9);
    let ratio = (pb.position.as_secs_f64() / total).clamp(0.0, 1.0);
    let label = format!(
        "{} {} / {}{}",
        if pb.state == PlayState::Paused {
            "⏸"
        } else {
            "▶"
        },
        duration(pb.position.as_secs_f64()),
        duration(pb.duration.as_secs_f64()),
        if pb.looping { "  loop" } else { "" }
    );
    f.render_widget(
        Gauge::default()
            .ratio(ratio)
            .label(label)
            .gauge_style(Style::new().fg(Color::Yellow)),
        area,
    );
}

fn draw_status(f: &mut Frame, app: &App, area: Rect) {
    let mut parts = vec![match app.store.loading() {
        Some(total) => format!(
            "{}/{} newest, loading {total}…",
            app.view.len(),
            app.store.count()
        ),
        None => format!("{}/{}", app.view.len(), app.store.count()),
    }];
    if !app.search.is_empty() {
        parts.push(format!("/{}", sanitize(&app.search)));
    }
    if !app.filter.is_empty() {
        parts.push(format!("filter: {}", sanitize(&app.filter.text)));
    }
    parts.push(format!("sort: {}", app.sort.label()));
    if !app.marked.is_empty() {
        parts.push(format!("{} marked", app.marked.len()));
    }
    parts.push(size(app.total_bytes));
    parts.push(format!("vol {}%", app.playback.volume));
    if app.autoplay {
        parts.push("autoplay".into());
    }
    if app.playback.looping {
        parts.push("loop".into());
    }
    let left = parts.join(" │ ");
    let mut spans = vec![Span::styled(
        left,
        Style::new().fg(Color::Black).bg(Color::Gray),
    )];
    if let Some((level, msg)) = &app.message {
        let style = match level {
            Level::Info => Style::new().fg(Color::Green),
            Level::Error => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        };
        spans.push(Span::raw("  "));
        spans.push(Span::styled(sanitize(msg).into_owned(), style));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_bar(f: &mut Frame, app: &App, area: Rect) {
    let (prefix, show) = match app.mode {
        Mode::Search => ("/", true),
        Mode::Command => (":", true),
        _ => ("", false),
    };
    if !show {
        f.render_widget(
            Paragraph::new("? help  : command  / search  Enter play  d delete  q quit")
                .style(Style::new().fg(Color::DarkGray)),
            area,
        );
        return;
    }
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

fn popup(f: &mut Frame, w: u16, h: u16) -> Rect {
    let a = f.area();
    let w = w.min(a.width.saturating_sub(2));
    let h = h.min(a.height.saturating_sub(2));
    let r = Rect::new(a.x + (a.width - w) / 2, a.y + (a.height - h) / 2, w, h);
    f.render_widget(Clear, r);
    r
}

fn draw_confirm(f: &mut Frame, app: &App, ids: &[String]) {
    let mut lines = vec![Line::from(format!(
        "Delete {} entr{} and their files?",
        ids.len(),
        if ids.len() == 1 { "y" } else { "ies" }
    ))];
    lines.push(Line::from(""));
    for id in ids.iter().take(8) {
        if let Ok(e) = app.store.get(id) {
            lines.push(Line::from(format!(
                "  {}  {}",
                sanitize(e.short_id()),
                sanitize(&e.model_name)
            )));
            lines.push(Line::from(Span::styled(
                format!("     {}", sanitize(&e.audio_file)),
                Style::new().fg(Color::Gray),
            )));
            lines.push(Line::from(Span::styled(
                format!("     {}", sanitize(&e.thumbnail_file)),
                Style::new().fg(Color::Gray),
            )));
        }
    }
    if ids.len() > 8 {
        lines.push(Line::from(format!("  … and {} more", ids.len() - 8)));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        "y delete   n / Esc cancel   (u undoes while genhist runs)",
        Style::new().add_modifier(Modifier::BOLD),
    )));
    let h = lines.len() as u16 + 2;
    let r = popup(f, 72, h);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" delete ")
                .border_style(Style::new().fg(Color::Red)),
        ),
        r,
    );
}

fn draw_help(f: &mut Frame) {
    let rows = keymap::rows();
    let mut lines: Vec<Line> = rows
        .iter()
        .map(|(k, h)| {
            Line::from(vec![
                Span::styled(format!("{k:<16}"), Style::new().fg(Color::Yellow)),
                Span::raw(*h),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    lines.push(Line::from(
        "Commands: :filter model= preset= seed= stereo= duration>N duration<N quality.KEY>N text",
    ));
    lines.push(Line::from("  :sort newest|oldest|duration|seed|model|quality.KEY  :goto ID  :export PATH  :delete [ID..]"));
    lines.push(Line::from("  :undo :repair :stats :history [N] :play [ID] :pause :stop :seek +5|-5|1:30 :volume N :loop"));
    lines.push(Line::from("  :autoplay :clear :help :q"));
    let r = popup(f, 100, lines.len() as u16 + 2);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" keys (Esc closes) "),
        ),
        r,
    );
}

fn draw_info(f: &mut Frame, title: &str, lines: &[String]) {
    let body: Vec<Line> = lines.iter().map(|l| Line::from(l.clone())).collect();
    let r = popup(f, 70, body.len() as u16 + 2);
    f.render_widget(
        Paragraph::new(body).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" {title} (Esc closes) ")),
        ),
        r,
    );
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
            format!("{n:>5}  {}", sanitize(c)),
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

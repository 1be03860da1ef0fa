//! The selected take's panel: every parameter, its files, its waveform and
//! the progress of what plays.

use super::super::app::App;
use super::spectrum::draw_spectrogram_at;
use super::status::play_label;
use super::waveform::draw_waveform;
use crate::store::{FileState, HistoryEntry};
use crate::text::{age, duration, latent_summary, sanitize, size, truncate, zoned_time};
use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph};
use ratatui::Frame;

/// A file's line (size and path, or what is wrong), wrapped: a long path
/// is shown whole.
pub(super) fn file_lines(
    app: &App,
    label: &str,
    rel: &str,
    state: Option<&FileState>,
    width: usize,
) -> Vec<Line<'static>> {
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
    wrapped(app, label, &text, width, style)
}

/// `label  value`, the value wrapped under itself when it is long.
fn wrapped(app: &App, label: &str, value: &str, width: usize, style: Style) -> Vec<Line<'static>> {
    crate::text::wrap(value, width.saturating_sub(10).max(1))
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let l = if i == 0 { label } else { "" };
            Line::from(vec![
                Span::styled(format!("{l:<10}"), app.theme.label()),
                Span::styled(part, style),
            ])
        })
        .collect()
}

pub(super) fn kv(app: &App, label: &str, value: String, width: usize) -> Line<'static> {
    Line::from(vec![
        Span::styled(format!("{label:<10}"), app.theme.label()),
        Span::raw(truncate(&value, width.saturating_sub(10))),
    ])
}

pub(super) fn draw_panel(f: &mut Frame, app: &App, area: Rect, now: DateTime<Utc>) {
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
            format!("{} ({})", sanitize(e.model_name()), sanitize(e.model_id())),
            w,
        ),
        kv(app, "id", sanitize(&e.entry_id).into_owned(), w),
        kv(
            app,
            "time",
            format!(
                "{}  {}",
                zoned_time(e.time_us(), &e.timestamp(), app.time_zone),
                age(e.time_us(), now)
            ),
            w,
        ),
        kv(app, "seed", e.seed_text().to_string(), w),
        kv(
            app,
            "audio",
            format!(
                "{}  {} Hz  {}",
                duration(e.duration_s),
                e.sample_rate,
                sanitize(e.stereo_mode())
            ),
            w,
        ),
        kv(
            app,
            "preset",
            format!(
                "{}   n_components {}",
                sanitize(e.preset_name()),
                e.n_components
            ),
            w,
        ),
    ];
    lines.extend(measure_lines(app, e, w));
    match e.slider_positions() {
        None => lines.push(kv(app, "sliders", "none".into(), w)),
        Some(s) => {
            let bars: Vec<String> = s
                .iter()
                .map(|v| {
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
    if let Some(l) = e.latent_vector() {
        lines.push(kv(app, "latent", latent_summary(l), w));
    }
    if let Some(a) = app.triage.notes.get(&e.entry_id) {
        // The note whole, wrapped.
        lines.extend(wrapped(app, "keep", &a.summary_full(), w, Style::new()));
    }
    let files = app.waves.files.get(&e.entry_id);
    lines.extend(file_lines(
        app,
        "wav",
        &e.audio_file(),
        files.map(|f| &f.0),
        w,
    ));
    lines.extend(file_lines(
        app,
        "png",
        &e.thumbnail_file(),
        files.map(|f| &f.1),
        w,
    ));
    for (k, v) in e.extra().iter().take(3) {
        lines.push(kv(
            app,
            &truncate(&sanitize(k), 9),
            sanitize(&crate::store::pyjson::display(v)).into_owned(),
            w,
        ));
    }
    // The text what it needs, the waveform the room left (at least 3 rows,
    // and the progress line under it).
    let text_h = (lines.len() as u16).min(inner.height.saturating_sub(4));
    let parts = Layout::vertical([
        Constraint::Length(text_h),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .split(inner);
    f.render_widget(Paragraph::new(lines), parts[0]);
    if app.analysis.spectrogram {
        let playhead = app
            .is_playing(&e.entry_id)
            .then_some(app.player.status.position.as_secs_f64());
        draw_spectrogram_at(f, app, e, parts[1], playhead, None);
    } else {
        draw_waveform(f, app, e, parts[1]);
    }
    draw_progress(f, app, e, parts[2]);
}

/// The take's measures: loudness, peaks and clipping, silence and DC,
/// spectrum; or that they are being measured, or why they cannot be.
fn measure_lines(app: &App, e: &HistoryEntry, w: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let Some(m) = app.analysis.of(&e.entry_id) else {
        let (text, style) = match app.analysis.failed.get(&e.entry_id) {
            Some(why) => (format!("cannot measure: {}", sanitize(why)), t.bad()),
            None => ("measuring…".to_string(), t.dim()),
        };
        return vec![Line::from(vec![
            Span::styled(format!("{:<10}", "loudness"), t.label()),
            Span::styled(truncate(&text, w.saturating_sub(10)), style),
        ])];
    };
    let clip_style = if m.clipped > 0 { t.bad() } else { Style::new() };
    let peaks = format!("peak {}  true {}  ", m.show("peak"), m.show("true_peak"));
    let clipped = if m.clipped > 0 {
        format!("{} clipped", m.clipped)
    } else {
        "no clipping".into()
    };
    vec![
        kv(
            app,
            "loudness",
            format!("{}  range {}", m.show("lufs"), m.show("lra")),
            w,
        ),
        Line::from(vec![
            Span::styled(format!("{:<10}", "peaks"), t.label()),
            Span::styled(
                truncate(&format!("{peaks}{clipped}"), w.saturating_sub(10)),
                clip_style,
            ),
        ]),
        kv(
            app,
            "silence",
            format!(
                "head {}  tail {}  DC {}",
                m.show("silence_head"),
                m.show("silence_tail"),
                m.show("dc")
            ),
            w,
        ),
        kv(
            app,
            "spectrum",
            format!("centroid {}  (v: spectrogram)", m.show("centroid")),
            w,
        ),
    ]
}

pub(super) fn draw_progress(f: &mut Frame, app: &App, e: &HistoryEntry, area: Rect) {
    let pb = &app.player.status;
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

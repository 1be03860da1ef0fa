//! The A/B view: both takes' waveforms under one playhead, and what differs.

use super::super::app::{App, Compare, LevelMatch};
use super::popups::clear;
use super::spectrum::draw_spectrogram_at;
use super::status::play_label;
use super::waveform::draw_waveform_at;
use crate::text::{duration, pad, sanitize, truncate};
use ratatui::layout::{Constraint, Layout};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

/// The A/B view, over all of `r` (it owns the screen it draws on): both
/// waveforms on one time axis under one playhead, what differs.
pub(super) fn draw_compare(f: &mut Frame, app: &App, c: &Compare, r: ratatui::layout::Rect) {
    let t = &app.theme;
    clear(f.buffer_mut(), r);
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
            match app.level(c) {
                LevelMatch::Gain(g) => {
                    format!(
                        "· level matched by {}: {:+.1} dB",
                        app.level_basis(c),
                        20.0 * g.max(1e-6).log10()
                    )
                }
                LevelMatch::Reading => "· level matching: measuring…".into(),
                LevelMatch::Unavailable(why) => format!("· level matching off: {}", sanitize(&why)),
            }
        } else {
            String::new()
        }
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, t.title()));
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
    // One time axis for both (the longer take's length), one playhead: the
    // position of the take heard.
    let length = |e: &crate::store::HistoryEntry| match app.waves.peaks.get(&e.entry_id) {
        Some(crate::ui::app::PeakState::Ready(p)) => p.duration_s(),
        _ => e.duration_s,
    };
    let axis = length(&c.takes[0]).max(length(&c.takes[1]));
    let playhead = playing.then_some(app.player.status.position.as_secs_f64());
    for (i, e) in c.takes.iter().enumerate() {
        let loudness = match app.analysis.of(&e.entry_id) {
            Some(m) => format!("  {}", m.show("lufs")),
            None => String::new(),
        };
        let label = format!(
            "{} {}  {}  {}  {}{loudness}{}",
            if i == c.heard { "▶" } else { " " },
            ["A", "B"][i],
            sanitize(e.short_id()),
            sanitize(e.model_name()),
            duration(e.duration_s),
            app.triage
                .notes
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
        if app.analysis.spectrogram {
            draw_spectrogram_at(f, app, e, parts[i * 2 + 1], playhead, Some(axis));
        } else {
            draw_waveform_at(f, app, e, parts[i * 2 + 1], playhead, Some(axis));
        }
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

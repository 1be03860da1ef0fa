//! A take's waveform: min/max per column in braille, both channels, with a
//! playhead.

use super::super::app::{App, PeakState};
use crate::store::HistoryEntry;
use crate::text::sanitize;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::widgets::canvas::{Canvas, Line as CLine};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

pub(super) fn draw_waveform(f: &mut Frame, app: &App, e: &HistoryEntry, area: Rect) {
    let playhead = (app.is_playing(&e.entry_id) && app.player.status.duration.as_secs_f64() > 0.0)
        .then(|| {
            app.player.status.position.as_secs_f64() / app.player.status.duration.as_secs_f64()
        });
    draw_waveform_at(f, app, e, area, playhead);
}

/// A take's waveform with a playhead at `playhead` (0..1 of its length).
pub(super) fn draw_waveform_at(
    f: &mut Frame,
    app: &App,
    e: &HistoryEntry,
    area: Rect,
    playhead: Option<f64>,
) {
    if area.height < 2 {
        return;
    }
    let Some(PeakState::Ready(p)) = app.waves.peaks.get(&e.entry_id) else {
        let msg = match app.waves.peaks.get(&e.entry_id) {
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

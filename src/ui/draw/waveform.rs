//! A take's waveform: min/max per column in braille at true level (full
//! scale reaches the edge of a channel's band), the two channels of a
//! stereo take in adjacent halves, with a playhead. The time axis can be
//! longer than the take (the A/B view draws both takes on one axis).

use super::super::app::{App, PeakState};
use crate::store::HistoryEntry;
use crate::text::sanitize;
use ratatui::layout::Rect;
use ratatui::symbols::Marker;
use ratatui::widgets::canvas::{Canvas, Line as CLine};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

/// The panel's waveform: the take's own length across the area.
pub(super) fn draw_waveform(f: &mut Frame, app: &App, e: &HistoryEntry, area: Rect) {
    let playhead = app
        .is_playing(&e.entry_id)
        .then_some(app.player.status.position.as_secs_f64());
    draw_waveform_at(f, app, e, area, playhead, None);
}

/// A take's waveform with a playhead at `playhead` seconds, on a time axis
/// of `axis_s` seconds (`None`: the take's own length).
pub(super) fn draw_waveform_at(
    f: &mut Frame,
    app: &App,
    e: &HistoryEntry,
    area: Rect,
    playhead: Option<f64>,
    axis_s: Option<f64>,
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
    let take_s = p.duration_s().max(1e-9);
    let axis = axis_s.unwrap_or(take_s).max(take_s);
    // The take covers its share of the axis, from the left.
    let used = ((cols as f64 * take_s / axis).round() as usize).clamp(1, cols);
    let channels = p.channels.clamp(1, 2) as usize;
    let per_ch: Vec<Vec<(f32, f32)>> = (0..channels).map(|c| p.columns(c, used)).collect();
    let playhead = playhead.map(|s| s / axis * cols as f64);
    let (c0, c1, ph) = (app.theme.wave(0), app.theme.wave(1), app.theme.playhead());
    let canvas = Canvas::default()
        .marker(Marker::Braille)
        .x_bounds([0.0, cols as f64])
        .y_bounds([-1.0, 1.0])
        .paint(move |ctx| {
            for (c, colsv) in per_ch.iter().enumerate() {
                // Mono fills the area; stereo: channel 0 in the top half,
                // channel 1 right under it, each scaled to its half.
                let (centre, scale) = match (channels, c) {
                    (1, _) => (0.0, 1.0),
                    (_, 0) => (0.5, 0.5),
                    _ => (-0.5, 0.5),
                };
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
                    y1: -1.0,
                    x2: x,
                    y2: 1.0,
                    color: ph,
                });
            }
        });
    f.render_widget(canvas, area);
}

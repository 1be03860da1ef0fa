//! A take's spectrogram in half blocks: two pixels a cell (the upper half
//! block's colour over its background), time left to right on the axis the
//! caller gives (the A/B view puts both takes on one), 20 Hz at the bottom
//! to the Nyquist frequency at the top. True colour where the terminal says
//! it has it (`COLORTERM`), the 256-colour cube on a 256-colour terminal,
//! a grey ramp on 16 colours, shades of one character with `NO_COLOR`.

use super::super::app::{App, SpectrumState};
use crate::analysis::spectrum::{colour, grey_step, Spectrogram};
use crate::store::HistoryEntry;
use crate::text::sanitize;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

/// What the terminal can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    TrueColour,
    Cube256,
    Grey16,
    NoColour,
}

impl Depth {
    pub(crate) fn of_env() -> Depth {
        let var = |k: &str| std::env::var(k).unwrap_or_default().to_lowercase();
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            Depth::NoColour
        } else if matches!(var("COLORTERM").as_str(), "truecolor" | "24bit") {
            Depth::TrueColour
        } else if var("TERM").contains("256") {
            Depth::Cube256
        } else {
            Depth::Grey16
        }
    }
}

/// The nearest colour of the xterm 6×6×6 cube.
fn cube((r, g, b): (u8, u8, u8)) -> Color {
    let q = |v: u8| ((u16::from(v) * 5 + 127) / 255) as u8;
    Color::Indexed(16 + 36 * q(r) + 6 * q(g) + q(b))
}

const GREYS: [Color; 4] = [Color::Black, Color::DarkGray, Color::Gray, Color::White];
const SHADES: [char; 5] = [' ', '░', '▒', '▓', '█'];

/// Draws `e`'s spectrogram (or why there is none) on a time axis of
/// `axis_s` seconds (`None`: its own length), with a playhead.
pub(super) fn draw_spectrogram_at(
    f: &mut Frame,
    app: &App,
    e: &HistoryEntry,
    area: Rect,
    playhead: Option<f64>,
    axis_s: Option<f64>,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    let s = match app.analysis.spectra.get(&e.entry_id) {
        Some(SpectrumState::Ready(s)) => s.clone(),
        other => {
            let msg = match other {
                Some(SpectrumState::Failed(why)) => format!("no spectrogram: {}", sanitize(why)),
                _ => "computing the spectrogram…".into(),
            };
            f.render_widget(
                Paragraph::new(msg)
                    .style(app.theme.dim())
                    .wrap(Wrap { trim: true }),
                area,
            );
            return;
        }
    };
    paint(f.buffer_mut(), area, &s, playhead, axis_s, Depth::of_env());
}

/// Paints a spectrogram into `area` of `buf`.
pub(crate) fn paint(
    buf: &mut Buffer,
    area: Rect,
    s: &Spectrogram,
    playhead: Option<f64>,
    axis_s: Option<f64>,
    depth: Depth,
) {
    let (w, h) = (area.width as usize, area.height as usize);
    let take_s = s.duration_s.max(1e-9);
    let axis = axis_s.unwrap_or(take_s).max(take_s);
    let used = ((w as f64 * take_s / axis).round() as usize).clamp(1, w);
    let playhead = playhead.map(|p| ((p / axis) * w as f64) as usize);
    // Pixel row p (0 at the bottom, 2h in all) to the spectrogram's row.
    let level = |x: usize, p: usize| {
        let col = (x * s.cols / used).min(s.cols - 1);
        let row = (p * s.rows / (2 * h)).min(s.rows - 1);
        s.at(col, row)
    };
    for y in 0..h {
        let (top, bottom) = (2 * (h - 1 - y) + 1, 2 * (h - 1 - y));
        for x in 0..w {
            let cell = &mut buf[(area.x + x as u16, area.y + y as u16)];
            if x >= used {
                cell.set_char(' ').set_style(Style::reset());
                continue;
            }
            let (hi, lo) = (level(x, top), level(x, bottom));
            match depth {
                Depth::TrueColour | Depth::Cube256 => {
                    let paint = |db: f32| {
                        let c = colour(db);
                        if depth == Depth::TrueColour {
                            Color::Rgb(c.0, c.1, c.2)
                        } else {
                            cube(c)
                        }
                    };
                    cell.set_char('▀')
                        .set_style(Style::new().fg(paint(hi)).bg(paint(lo)));
                }
                Depth::Grey16 => {
                    cell.set_char('▀').set_style(
                        Style::new()
                            .fg(GREYS[grey_step(hi, GREYS.len())])
                            .bg(GREYS[grey_step(lo, GREYS.len())]),
                    );
                }
                Depth::NoColour => {
                    cell.set_char(SHADES[grey_step(hi.max(lo), SHADES.len())])
                        .set_style(Style::reset());
                }
            }
            if playhead == Some(x) {
                let style = match depth {
                    Depth::NoColour => Style::reset(),
                    _ => Style::new().fg(Color::Yellow),
                };
                cell.set_char('│').set_style(style);
            }
        }
    }
}

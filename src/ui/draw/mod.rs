//! Drawing: reads the [`App`], never changes it and never touches a file.
//! All text from the index goes through `text::sanitize`; text is cut with
//! `…`, never silently. One file per screen part.

mod compare;
mod list;
mod panel;
mod popups;
mod spectrum;
mod status;
mod waveform;

use super::app::{App, Mode};
use super::layout::{self, MIN_HEIGHT, MIN_WIDTH};
use chrono::{DateTime, Utc};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

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
    // The A/B view owns the screen (also while its `:` bar is open).
    if let Some(c) = app.compare_view() {
        let above = ratatui::layout::Rect::new(area.x, area.y, area.width, a.bar.y - area.y);
        compare::draw_compare(f, app, c, above);
        status::draw_bar(f, app, a.bar);
        if app.mode == Mode::Command && app.bar.completion.is_some() {
            popups::draw_completion(f, app, a.bar);
        }
        return;
    }
    list::draw_list(f, app, a.list, now);
    panel::draw_panel(f, app, a.panel, now);
    status::draw_status(f, app, a.status);
    status::draw_bar(f, app, a.bar);
    match &app.mode {
        Mode::Confirm(c) => popups::draw_confirm(f, app, c),
        Mode::Help { only, scroll } => popups::draw_help(f, app, only.as_deref(), *scroll),
        Mode::Info {
            title,
            lines,
            scroll,
        } => popups::draw_info(f, app, title, lines, *scroll),
        Mode::HistorySearch => popups::draw_history_search(f, app),
        Mode::Devices(p) => popups::draw_devices(f, app, p),
        Mode::Command if app.bar.completion.is_some() => popups::draw_completion(f, app, a.bar),
        _ => {}
    }
}

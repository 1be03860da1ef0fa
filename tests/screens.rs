//! Snapshots of the browser's main screens (TestBackend + insta), drawn with a
//! fixed clock and time zone over the Python-format fixture directory.
//! Review changes with `cargo insta review` (or INSTA_UPDATE=always).

mod common;

use common::*;
use genhist::command_history::CommandHistory;
use genhist::store::GenerationHistory;
use genhist::ui::app::{App, PeakState};
use genhist::ui::command::Command;
use std::sync::Arc;

fn app_over(dir: &std::path::Path) -> App {
    // Local times on screen: pin the zone (chrono reads TZ through std::env).
    static TZ: std::sync::Once = std::sync::Once::new();
    TZ.call_once(|| std::env::set_var("TZ", "UTC"));
    let store = GenerationHistory::open(dir).unwrap();
    let history = CommandHistory::new(dir, ".genhist_history", 1000);
    let mut app = App::new(store, history);
    // Waveforms as the peaks worker would deliver them.
    let ready: Vec<_> = app
        .entries()
        .iter()
        .map(|e| {
            let rel = genhist::store::paths::RelPath::parse(&e.audio_file).unwrap();
            let state = match genhist::ui::workers::read_peaks(dir, &rel) {
                Ok(peaks) => PeakState::Ready(Arc::new(peaks)),
                Err(why) => PeakState::Failed(why),
            };
            (e.entry_id.clone(), state)
        })
        .collect();
    app.peaks.extend(ready);
    app
}

/// The screen as text; the temporary directory's name in the list title is
/// replaced by a fixed one, the border filled up to the same width.
fn screen(app: &App, w: u16, h: u16) -> String {
    let dir = app.store.dir().display().to_string();
    let fixed = format!("HISTORY-DIR {}", "─".repeat(dir.len().saturating_sub(11)));
    screen_text(app, w, h).replace(&format!("{dir} "), &fixed)
}

#[test]
fn list_with_panel() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    app.run(Command::Down); // the stereo 24-bit take: waveform, sliders, quality
    insta::assert_snapshot!(screen(&app, 120, 34));
}

#[test]
fn help_overlay() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    app.run(Command::Help);
    insta::assert_snapshot!(screen(&app, 100, 44));
}

#[test]
fn confirm_popup() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    app.run(Command::Mark);
    app.run(Command::Mark);
    app.run(Command::Delete(vec![]));
    insta::assert_snapshot!(screen(&app, 100, 30));
}

#[test]
fn command_bar_with_history() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    for line in ["sort oldest", "filter model=pads", "sort duration"] {
        app.run(Command::CommandBar);
        app.run_line(line);
        app.history.add(line);
    }
    app.run(Command::CommandBar);
    app.input = tui_input::Input::new("sort".into());
    app.recall_older(); // prefix recall: the newest command starting with "sort"
    insta::assert_snapshot!(screen(&app, 100, 24));
}

#[test]
fn search_as_typed() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    app.run(Command::Search);
    app.input = tui_input::Input::new("klä".into());
    app.set_search("klä");
    insta::assert_snapshot!(screen(&app, 100, 24));
}

#[test]
fn tiny_terminal() {
    let (_t, d) = python_dir();
    let app = app_over(&d);
    insta::assert_snapshot!(screen(&app, 30, 6));
}

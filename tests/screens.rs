//! Snapshots of the browser's screens (TestBackend + insta), drawn with a
//! fixed clock and time zone over the Python-format fixture directory.
//! Review changes with `cargo insta review` (or INSTA_UPDATE=always).

mod common;

use common::*;
use genhist::store::Field;
use genhist::ui::app::{App, PeakState};
use genhist::ui::event::Event;
use std::sync::Arc;

/// The app over `dir` with every take's waveform and the selected take's
/// files as the workers would deliver them.
fn app_over(dir: &std::path::Path) -> App {
    let mut app = genhist::ui::open_app(dir, None).unwrap();
    // Times on screen in a fixed zone (no environment variable is touched
    // while other tests run).
    app.time_zone = chrono::FixedOffset::east_opt(0);
    app.theme = genhist::ui::theme::Theme::default();
    let root = genhist::fsutil::Dir::open(dir).unwrap();
    let entries: Vec<_> = app.store.entries().to_vec();
    for e in entries {
        let rel = genhist::store::paths::RelPath::parse(&e.audio_file()).map_err(|x| x.to_string());
        let state = match genhist::ui::workers::peaks::read_peaks(&root, &rel) {
            Ok(p) => PeakState::Ready(Arc::new(p)),
            Err(f) => PeakState::Failed(f),
        };
        app.waves.peaks.insert(e.entry_id.clone(), state);
        let files = (
            app.store.file_state(&e, Field::Audio),
            app.store.file_state(&e, Field::Thumbnail),
        );
        app.waves.files.insert(e.entry_id.clone(), files);
    }
    app
}

fn screen(app: &App, w: u16, h: u16) -> String {
    let dir = app.store.dir().display().to_string();
    let fixed = format!("HISTORY-DIR {}", "─".repeat(dir.len().saturating_sub(11)));
    screen_text(app, w, h).replace(&format!("{dir} "), &fixed)
}

fn sized(app: &mut App, w: u16, h: u16) {
    app.update(Event::Resize(w, h));
}

#[test]
fn list_with_panel() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    sized(&mut app, 120, 34);
    press(&mut app, "j"); // the stereo 24-bit take: waveform, sliders, quality
    insta::assert_snapshot!(screen(&app, 120, 34));
}

#[test]
fn help_overlay_scrolled_at_80x24() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    sized(&mut app, 80, 24);
    press(&mut app, "?");
    insta::assert_snapshot!("help_top", screen(&app, 80, 24));
    press(&mut app, "G");
    insta::assert_snapshot!("help_bottom", screen(&app, 80, 24));
}

#[test]
fn confirm_popup() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    sized(&mut app, 100, 30);
    press(&mut app, "mmd");
    insta::assert_snapshot!(screen(&app, 100, 30));
}

#[test]
fn command_bar_with_history() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    sized(&mut app, 100, 24);
    for line in ["sort oldest", "filter model=pads", "sort duration"] {
        press(&mut app, &format!(":{line}<Enter>"));
    }
    // Prefix recall: the newest command starting with "sort".
    press(&mut app, ":sort<Up>");
    insta::assert_snapshot!(screen(&app, 100, 24));
}

#[test]
fn search_as_typed() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    sized(&mut app, 100, 24);
    press(&mut app, "/klä");
    insta::assert_snapshot!(screen(&app, 100, 24));
}

#[test]
fn completion_list() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    sized(&mut app, 100, 24);
    press(&mut app, ":s<Tab><Tab>");
    insta::assert_snapshot!(screen(&app, 100, 24));
}

#[test]
fn a_long_message_is_cut_with_an_ellipsis() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    sized(&mut app, 60, 20);
    press(&mut app, ":filter bogus=1<Enter>");
    let s = screen(&app, 60, 20);
    let last = s.lines().last().unwrap();
    assert!(last.ends_with('…'), "{last}");
    insta::assert_snapshot!(s);
}

#[test]
fn tiny_terminal() {
    let (_t, d) = python_dir();
    let app = app_over(&d);
    insta::assert_snapshot!(screen(&app, 30, 6));
}

#[test]
fn no_color_keeps_the_selection_visible() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    app.theme = genhist::ui::theme::Theme::no_color();
    sized(&mut app, 120, 30);
    press(&mut app, "j");
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 30)).unwrap();
    let now = chrono::Utc::now();
    term.draw(|f| genhist::ui::draw::draw(f, &app, now))
        .unwrap();
    let buf = term.backend().buffer().clone();
    let mut colours = 0;
    let mut reversed_rows = std::collections::BTreeSet::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            let c = &buf[(x, y)];
            if c.fg != ratatui::style::Color::Reset || c.bg != ratatui::style::Color::Reset {
                colours += 1;
            }
            if c.modifier.contains(ratatui::style::Modifier::REVERSED) {
                reversed_rows.insert(y);
            }
        }
    }
    assert_eq!(colours, 0, "NO_COLOR: not one coloured cell");
    // The selected row (the second take, under the border and headers) and the status line.
    assert!(reversed_rows.contains(&3), "{reversed_rows:?}");
    insta::assert_snapshot!(screen(&app, 120, 30));
}

#[test]
fn a_popup_over_wide_characters_keeps_its_border() {
    let (_t, d) = python_dir();
    let text = PY_FIXTURE.replace(
        "\"model_name\": \"Pads\"",
        "\"model_name\": \"和音モデル和音モデル和音モデル和音モデル和音\"",
    );
    std::fs::write(d.join("history.json"), text).unwrap();
    let mut app = app_over(&d);
    for w in 60..76 {
        sized(&mut app, w, 24);
        press(&mut app, "d");
        let s = screen(&app, w, 24);
        // Each line of the popup starts and ends with its border.
        for line in s.lines().filter(|l| l.contains("Delete 1 take")) {
            let chars: Vec<char> = line.trim().chars().collect();
            assert_eq!(chars.first(), Some(&'│'), "{w} columns: {line}");
        }
        press(&mut app, "n");
    }
}

#[test]
fn ratings_and_rejects_in_the_list_and_the_ab_view() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    sized(&mut app, 120, 34);
    // Ratings as the store worker would report them.
    press(&mut app, "4jx");
    insta::assert_snapshot!("list_with_ratings", screen(&app, 120, 34));
    press(&mut app, "gmmb");
    insta::assert_snapshot!("ab_view", screen(&app, 120, 34));
}

#[test]
fn help_at_three_sizes() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    for (w, h) in [(80u16, 24u16), (120, 40), (200, 60)] {
        sized(&mut app, w, h);
        press(&mut app, "?");
        insta::assert_snapshot!(format!("help_{w}x{h}"), screen(&app, w, h));
        press(&mut app, "<Esc>");
        app.run_line("help filter");
        insta::assert_snapshot!(format!("help_filter_{w}x{h}"), screen(&app, w, h));
        press(&mut app, "<Esc>");
    }
}

#[test]
fn ab_view_and_list_at_80x24_and_200x60() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    for (w, h) in [(80u16, 24u16), (200, 60)] {
        sized(&mut app, w, h);
        insta::assert_snapshot!(format!("list_{w}x{h}"), screen(&app, w, h));
        press(&mut app, "gmjmb");
        insta::assert_snapshot!(format!("ab_view_{w}x{h}"), screen(&app, w, h));
        press(&mut app, "<Esc><Esc>");
    }
}

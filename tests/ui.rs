//! The browser's state transitions and screens, without a terminal.

mod common;

use common::*;
use genhist::command_history::CommandHistory;
use genhist::store::GenerationHistory;
use genhist::ui::app::{App, Effect, Mode};
use genhist::ui::command::{parse, Command};

fn app_over(dir: &std::path::Path) -> App {
    let store = GenerationHistory::open(dir).unwrap();
    let history = CommandHistory::new(dir, ".genhist_history", 1000);
    App::new(store, history)
}

fn screen(app: &App, w: u16, h: u16) -> String {
    screen_text(app, w, h)
}

#[test]
fn moves_search_and_filter_keep_a_sensible_selection() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    assert_eq!(app.selected_entry().unwrap().entry_id, PY_NEWEST);
    app.run(Command::Down);
    assert_eq!(app.selected_entry().unwrap().entry_id, PY_STEREO_24);
    app.run(Command::Bottom);
    app.run(Command::Down);
    assert_eq!(
        app.selected_entry().unwrap().entry_id,
        PY_MONO_16,
        "stops at the end"
    );
    app.set_search("klä");
    assert_eq!(app.view.len(), 1);
    app.set_search("");
    app.run(parse("filter model=pads duration>0.6").unwrap());
    assert_eq!(app.view.len(), 1);
    assert_eq!(app.selected_entry().unwrap().entry_id, PY_MONO_16);
    app.run(Command::Clear);
    assert_eq!(app.view.len(), 3);
    app.run(parse("sort oldest").unwrap());
    assert_eq!(app.entry_at(0).unwrap().entry_id, PY_MONO_16);
    app.run(parse("goto 3f2b").unwrap());
    assert_eq!(app.selected_entry().unwrap().entry_id, PY_STEREO_24);
}

#[test]
fn delete_asks_first_then_emits_the_marked_ids() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    app.run(Command::Mark); // marks the newest, moves down
    app.run(Command::Mark);
    assert_eq!(app.marked.len(), 2);
    assert!(
        app.run(Command::Delete(vec![])).is_empty(),
        "nothing happens before y"
    );
    match &app.mode {
        Mode::Confirm(ids) => assert_eq!(ids, &[PY_NEWEST.to_string(), PY_STEREO_24.to_string()]),
        other => panic!("expected confirm, got {other:?}"),
    }
    assert_eq!(app.confirm(false), vec![]);
    assert_eq!(app.mode, Mode::Normal);
    app.run(Command::Delete(vec![]));
    assert_eq!(
        app.confirm(true),
        vec![Effect::Delete(vec![PY_NEWEST.into(), PY_STEREO_24.into()])]
    );
}

#[test]
fn after_a_delete_the_selection_moves_to_the_next_older_entry() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    app.run(Command::Down); // PY_STEREO_24
    let ids = vec![PY_STEREO_24.to_string()];
    app.store.delete_entries(&ids).unwrap();
    app.after_delete(&ids);
    assert_eq!(app.selected_entry().unwrap().entry_id, PY_MONO_16);
    assert!(!d.join(format!("audio/{PY_STEREO_24}.wav")).exists());
}

#[test]
fn bad_commands_change_nothing_and_say_why() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    let effects = app.run_line("filter duration>soon");
    assert_eq!(
        effects,
        vec![Effect::RecordCommand("filter duration>soon".into())]
    );
    assert_eq!(app.view.len(), 3);
    assert!(app.message.as_ref().unwrap().1.contains("needs a number"));
    app.run_line(":frobnicate");
    assert!(app.message.as_ref().unwrap().1.contains("unknown command"));
}

#[test]
fn command_bar_recall_survives_a_restart_with_prefix_search() {
    let (_t, d) = python_dir();
    {
        let mut app = app_over(&d);
        for line in ["sort oldest", "filter model=pads", "stats"] {
            for e in app.run_line(line) {
                if let Effect::RecordCommand(l) = e {
                    app.history.add(&l);
                }
            }
        }
    }
    let mut app = app_over(&d);
    app.run(Command::CommandBar);
    app.recall_older();
    assert_eq!(app.input.value(), "stats");
    app.input = tui_input::Input::new("fil".into());
    app.typed = None;
    app.history.reset_navigation();
    app.recall_older();
    assert_eq!(app.input.value(), "filter model=pads");
    app.recall_newer();
    assert_eq!(
        app.input.value(),
        "fil",
        "past the newest, the typed text is back"
    );
}

#[test]
fn autoplay_plays_the_newly_selected_entry() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    assert!(app.run(Command::Down).is_empty());
    app.run(Command::Autoplay);
    assert_eq!(
        app.run(Command::Down),
        vec![Effect::Play {
            id: PY_MONO_16.into()
        }]
    );
}

#[test]
fn main_screen_shows_list_panel_and_status() {
    let (_t, d) = python_dir();
    let app = app_over(&d);
    let s = screen(&app, 120, 30);
    assert!(s.contains("b0b0b0b0"), "{s}");
    assert!(s.contains("Klänge — Gr"));
    // Preset and seed columns fit beside the panel at 120 columns.
    assert!(s.contains("Weiß") && s.contains("123456789…"), "{s}");
    assert!(s.contains("3/3"));
    assert!(s.contains("sort: newest"));
    // The selected (newest) entry's WAV is missing: the panel says so.
    assert!(s.contains("MISSING"), "{s}");
}

#[test]
fn narrow_and_tiny_terminals_adapt() {
    let (_t, d) = python_dir();
    let app = app_over(&d);
    let narrow = screen(&app, 60, 30);
    assert!(narrow.contains("take"), "panel below the list:\n{narrow}");
    let tiny = screen(&app, 20, 5);
    assert!(tiny.contains("Terminal too"), "{tiny}");
}

#[test]
fn help_confirm_and_command_bar_screens() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    app.run(Command::Help);
    let s = screen(&app, 120, 40);
    assert!(s.contains("undo the last delete of this run"));
    app.mode = Mode::Normal;
    app.run(Command::Delete(vec![]));
    let s = screen(&app, 120, 40);
    assert!(
        s.contains("Delete 1 entry") && s.contains("b0b0b0b0") && s.contains("y delete"),
        "{s}"
    );
    app.confirm(false);
    app.run(Command::CommandBar);
    app.input = tui_input::Input::new("sort dur".into());
    let s = screen(&app, 120, 40);
    assert!(s.lines().last().unwrap().starts_with(":sort dur"));
}

#[test]
fn hostile_text_never_reaches_the_screen_raw() {
    let (_t, d) = python_dir();
    let text = PY_FIXTURE.replace(
        "\"model_name\": \"Pads\"",
        "\"model_name\": \"Pads\\u001b[2J\\u001b]0;x\\u0007\"",
    );
    std::fs::write(d.join("history.json"), text).unwrap();
    let app = app_over(&d);
    let s = screen(&app, 120, 30);
    assert!(!s.contains('\u{1b}') && !s.contains('\u{7}'));
    assert!(s.contains("Pads\u{fffd}[2J"));
}

#[test]
fn readme_key_table_is_the_key_table() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("<!-- keys:start -->\n").unwrap() + "<!-- keys:start -->\n".len();
    let end = readme.find("<!-- keys:end -->").unwrap();
    assert_eq!(&readme[start..end], genhist::ui::keymap::markdown_table());
}

#[test]
fn every_key_runs_a_valid_command() {
    for b in genhist::ui::keymap::KEYS {
        assert!(parse(b.command).is_ok(), "{} -> {}", b.label, b.command);
    }
}

#[test]
fn undo_puts_the_index_and_files_back_byte_for_byte() {
    let (_t, d) = python_dir();
    let mut app = app_over(&d);
    let index = d.join("history.json");
    let files: Vec<std::path::PathBuf> = [
        format!("audio/{PY_STEREO_24}.wav"),
        format!("thumbnails/{PY_STEREO_24}.png"),
        format!("audio/{PY_MONO_16}.wav"),
    ]
    .iter()
    .map(|p| d.join(p))
    .collect();
    let before_index = std::fs::read(&index).unwrap();
    let before_files: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();

    let ids = vec![PY_STEREO_24.to_string(), PY_MONO_16.to_string()];
    let report = app.store.delete_entries(&ids).unwrap();
    assert_eq!(report.removed.len(), 2);
    assert!(files.iter().all(|p| !p.exists()), "files are gone at once");
    assert_ne!(std::fs::read(&index).unwrap(), before_index);
    assert_eq!(app.store.count(), 1);

    // A new process (after a quit) undoes it from the trash.
    let undo = genhist::store::trash::undo(&genhist::store::HistoryDir::new(&d)).unwrap();
    assert_eq!(undo.restored.len(), 2);
    assert_eq!(undo.files, 3);
    app.store.take_in(&undo.restored);
    assert_eq!(
        std::fs::read(&index).unwrap(),
        before_index,
        "index restored exactly"
    );
    for (p, bytes) in files.iter().zip(&before_files) {
        assert_eq!(
            &std::fs::read(p).unwrap(),
            bytes,
            "{} restored exactly",
            p.display()
        );
    }
    assert_eq!(app.store.count(), 3);
    assert_eq!(
        app.store.get(PY_STEREO_24).unwrap().model_name,
        "Klänge — Großer Raum 🎛"
    );
}

//! The browser without a terminal: `App::update` in every mode, with the real
//! store, peaks and view workers behind it.

mod common;

use common::*;
use genhist::playback::PlayerCmd;
use genhist::ui::app::{Confirm, Mode};
use genhist::ui::event::Event;
use std::fs;

/// Gives the take `id` another model name, as the Python tool would write it.
fn rename_model(dir: &std::path::Path, id: &str, name: &str) {
    let text = fs::read_to_string(dir.join("history.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["entries"][id]["model_name"] = name.into();
    fs::write(
        dir.join("history.json"),
        genhist::store::pyjson::to_python_json(&v),
    )
    .unwrap();
}

fn click(d: &mut Driver, row: u16) {
    use crossterm::event::{KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
    // The list's first row is under its border and the headers.
    d.send(Event::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 5,
        row: 2 + row,
        modifiers: KeyModifiers::NONE,
    }));
}

#[test]
fn moving_and_marking_in_the_list() {
    let (_t, dir, ids) = takes_dir(30);
    let mut d = Driver::new(&dir);
    assert_eq!(d.selected(), ids[0], "newest first");
    d.keys("jj");
    assert_eq!(d.selected(), ids[2]);
    d.keys("k");
    assert_eq!(d.selected(), ids[1]);
    d.keys("G");
    assert_eq!(d.selected(), ids[29]);
    d.keys("j");
    assert_eq!(d.selected(), ids[29], "stops at the end");
    d.keys("g<PgDn>");
    assert_eq!(d.selected(), ids[d.app.page().min(29)]);
    d.keys("gmm");
    assert_eq!(d.app.list.marked.len(), 2, "m marks and moves on");
    assert_eq!(d.selected(), ids[2]);
    d.keys("k");
    d.keys("m");
    assert_eq!(d.app.list.marked.len(), 1, "m again unmarks");
}

#[test]
fn search_lands_on_the_first_match_and_n_steps_through() {
    let (_t, dir, ids) = takes_dir(30);
    // Two takes of a model called "glass", far down the list.
    rename_model(&dir, &ids[12], "Glass Harp");
    rename_model(&dir, &ids[20], "glass bell");
    for start in ["jjjj", "G"] {
        let mut d = Driver::new(&dir);
        d.keys(start);
        let before = d.selected();
        d.keys("/glass");
        assert_eq!(
            d.selected(),
            ids[12],
            "from {start}: the first match from the top"
        );
        assert_eq!(d.app.match_position(), Some((1, 2)));
        d.keys("<Enter>");
        assert_eq!(d.app.mode, Mode::Normal);
        assert!(d.message().contains("match 1/2"), "{}", d.message());
        d.keys("n");
        assert_eq!(d.selected(), ids[20]);
        assert_eq!(d.app.match_position(), Some((2, 2)));
        d.keys("n");
        assert_eq!(d.selected(), ids[12], "n wraps");
        d.keys("N");
        assert_eq!(d.selected(), ids[20]);
        // Esc while typing a search goes back to where the search began.
        d.keys("<Esc>g");
        d.keys(start);
        assert_eq!(d.selected(), before);
        d.keys("/glas");
        assert_eq!(d.selected(), ids[12]);
        d.keys("<Esc>");
        assert_eq!(d.selected(), before);
        assert!(d.app.find.query.is_empty());
    }
}

#[test]
fn marks_survive_filters_and_delete_says_how_many_are_hidden() {
    let (_t, dir, ids) = takes_dir(5);
    rename_model(&dir, &ids[0], "Glass");
    let mut d = Driver::new(&dir);
    d.keys("mm");
    d.command("filter glass");
    assert_eq!(d.rows(), [ids[0].clone()]);
    assert_eq!(d.app.list.marked.len(), 2, "marks survive the filter");
    d.keys("d");
    match &d.app.mode {
        Mode::Confirm(Confirm::Delete {
            ids: targets,
            hidden,
            ..
        }) => {
            assert_eq!(targets.len(), 2);
            assert_eq!(*hidden, 1);
        }
        other => panic!("expected a confirmation, got {other:?}"),
    }
    let screen = screen_text(&d.app, 120, 40);
    assert!(
        screen.contains("Delete 2 takes and their files? (1 of them hidden by the filter)"),
        "{screen}"
    );
    d.keys("y");
    d.wait("the delete", |a| a.busy.is_none());
    assert_eq!(index_ids(&dir), ids[2..].to_vec());
    assert!(d.message().contains("deleted 2 takes"), "{}", d.message());
    assert!(d.app.list.marked.is_empty());
    d.keys("m");
    d.command("clear");
    assert!(d.message().contains("cleared filter"), "{}", d.message());
}

#[test]
fn confirmations_answer_to_y_n_and_esc() {
    let (_t, dir, ids) = takes_dir(3);
    let mut d = Driver::new(&dir);
    d.keys("dn");
    assert_eq!(d.app.mode, Mode::Normal);
    assert!(d.message().contains("cancelled"));
    d.keys("d<Esc>");
    assert_eq!(d.app.mode, Mode::Normal);
    assert_eq!(index_ids(&dir), ids, "nothing deleted");
    // A letter no binding of the list takes.
    let unbound = ('a'..='z')
        .find(|c| {
            let k = crossterm::event::KeyEvent::new(
                crossterm::event::KeyCode::Char(*c),
                crossterm::event::KeyModifiers::NONE,
            );
            genhist::ui::keymap::lookup(genhist::ui::keymap::KeyMode::Normal, &k).is_none()
        })
        .expect("a free letter");
    let before = (d.selected(), d.rows(), d.message());
    d.keys(&unbound.to_string());
    assert_eq!(d.app.mode, Mode::Normal, "unbound keys do nothing");
    assert_eq!((d.selected(), d.rows(), d.message()), before);
}

#[test]
fn delete_and_undo_keep_the_selection_on_the_take_and_undo_is_exact() {
    let (_t, dir, ids) = takes_dir(6);
    let before = fs::read(dir.join("history.json")).unwrap();
    let wav = dir.join(format!("audio/{}.wav", ids[2]));
    let wav_bytes = fs::read(&wav).unwrap();
    let mut d = Driver::new(&dir);
    d.keys("jj");
    d.keys("dy");
    d.wait("the delete", |a| a.busy.is_none());
    assert_eq!(d.selected(), ids[3], "the next older take");
    assert!(!wav.exists());
    assert!(!d.rows().contains(&ids[2]));
    d.keys("u");
    d.wait("the undo", |a| a.busy.is_none());
    assert_eq!(d.selected(), ids[2], "the restored take");
    assert_eq!(fs::read(dir.join("history.json")).unwrap(), before);
    assert_eq!(fs::read(&wav).unwrap(), wav_bytes);
    assert_eq!(d.rows(), ids);
    d.keys("u");
    d.wait("the answer", |a| a.busy.is_none());
    assert_eq!(d.message(), "nothing to undo");
}

#[test]
fn undo_works_after_a_restart() {
    let (_t, dir, ids) = takes_dir(4);
    {
        let mut d = Driver::new(&dir);
        d.keys("dy");
        d.wait("the delete", |a| a.busy.is_none());
    }
    let mut d = Driver::new(&dir);
    assert_eq!(d.rows().len(), 3);
    d.keys("u");
    d.wait("the undo", |a| a.busy.is_none());
    assert_eq!(d.rows(), ids);
}

#[test]
fn another_programs_change_appears_and_the_selection_stays() {
    let (_t, dir, ids) = takes_dir(5);
    let mut d = Driver::new(&dir);
    d.keys("jj");
    // Another program adds a newer take and deletes an older one.
    let text = fs::read_to_string(dir.join("history.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entries = v["entries"].as_object_mut().unwrap();
    entries.remove(&ids[4]);
    entries.insert(
        "znew-0000".into(),
        entry_json(
            "znew-0000",
            "2026-11-30T00:00:00+00:00",
            "audio/znew.wav",
            "thumbnails/znew.png",
        ),
    );
    fs::write(
        dir.join("other.tmp"),
        genhist::store::pyjson::to_python_json(&v),
    )
    .unwrap();
    fs::rename(dir.join("other.tmp"), dir.join("history.json")).unwrap();
    d.wait("the reload", |a| {
        a.list
            .view
            .rows
            .first()
            .is_some_and(|e| e.entry_id == "znew-0000")
    });
    assert_eq!(d.selected(), ids[2], "the same take is selected");
    assert!(!d.rows().contains(&ids[4]));
    assert_eq!(d.rows().len(), 5);
}

#[test]
fn deleting_after_the_list_shrank_under_the_selection_keeps_running() {
    let (_t, dir, ids) = takes_dir(5);
    let mut d = Driver::new(&dir);
    d.keys("G");
    assert_eq!(d.selected(), ids[4]);
    // The newest take is deleted from another shell.
    genhist()
        .args(["--dir", dir.to_str().unwrap(), "delete", &ids[0]])
        .assert()
        .success();
    d.wait("the reload", |a| a.list.view.rows.len() == 4);
    assert_eq!(d.selected(), ids[4]);
    d.keys("dy");
    d.wait("the delete", |a| a.busy.is_none());
    assert_eq!(d.selected(), ids[3]);
    d.keys("u");
    d.wait("the undo", |a| a.busy.is_none());
    assert_eq!(d.selected(), ids[4], "undo of the browser's own delete");
    assert_eq!(d.rows().len(), 4);
}

#[test]
fn sort_and_filter_keep_the_selection_on_the_take() {
    let (_t, dir, ids) = takes_dir(8);
    let mut d = Driver::new(&dir);
    d.keys("jjj");
    d.command("sort oldest");
    d.wait("sorted", |a| !a.list.view.pending);
    assert_eq!(d.rows()[0], ids[7]);
    assert_eq!(d.selected(), ids[3]);
    d.command("sort -oldest");
    d.wait("sorted", |a| !a.list.view.pending);
    assert_eq!(d.rows()[0], ids[0]);
    assert_eq!(d.selected(), ids[3]);
    d.command(&format!("filter {}", &ids[3][..5]));
    assert_eq!(d.rows(), [ids[3].clone()]);
    assert_eq!(d.selected(), ids[3]);
    d.command("sort newest");
    d.keys("o");
    assert_eq!(
        d.app.list.view.spec.sort.label(),
        "oldest",
        "o cycles the sorts"
    );
    d.keys("o");
    assert_eq!(d.app.list.view.spec.sort.label(), "duration");
}

#[test]
fn lists_computed_on_the_worker_keep_the_selection_and_a_search_never_cancels_a_sort() {
    let (_t, dir, ids) = takes_dir(8);
    let mut d = Driver::new(&dir);
    // Every list and search goes to the view worker, as at 100,000 takes.
    d.app.list.inline_limit = 0;
    d.keys("jj");
    // A search typed right behind a sort, both waiting on the worker.
    d.command("sort oldest");
    d.keys(&format!("/{}<Enter>", &ids[5][..8]));
    d.wait("sorted and found", |a| {
        !a.list.view.pending && !a.find.pending
    });
    assert_eq!(d.rows()[0], ids[7], "the sort was not dropped");
    assert_eq!(d.app.find.matches.len(), 1);
    assert_eq!(d.selected(), ids[5], "the search landed on its match");
    // `:goto` a take the filter hides: the filter goes, the take is selected.
    d.command(&format!("filter {}", &ids[1][..8]));
    d.wait("filtered", |a| !a.list.view.pending);
    assert_eq!(d.rows(), [ids[1].clone()]);
    d.command(&format!("goto {}", &ids[6][..8]));
    d.wait("unfiltered", |a| !a.list.view.pending);
    assert_eq!(d.rows().len(), 8);
    assert_eq!(d.selected(), ids[6]);
}

#[test]
fn a_change_while_a_sort_is_computed_is_not_lost() {
    let (_t, dir, ids) = takes_dir(6);
    let mut d = Driver::new(&dir);
    d.app.list.inline_limit = 0;
    // The sort's job is held back until another program has removed a take
    // and the browser has seen it.
    let mut held = Vec::new();
    for ev in key_events(":sort oldest<Enter>") {
        held.extend(d.app.update(ev));
    }
    assert!(d.app.list.view.pending);
    let text = fs::read_to_string(dir.join("history.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["entries"].as_object_mut().unwrap().remove(&ids[5]);
    fs::write(
        dir.join("other.tmp"),
        genhist::store::pyjson::to_python_json(&v),
    )
    .unwrap();
    fs::rename(dir.join("other.tmp"), dir.join("history.json")).unwrap();
    d.wait("the reload", |a| a.store.count() == 5);
    d.perform(held);
    d.wait("sorted", |a| !a.list.view.pending);
    d.settle();
    assert_eq!(d.rows().len(), 5, "the removed take is not shown again");
    assert!(!d.rows().contains(&ids[5]));
    assert_eq!(d.rows()[0], ids[4], "oldest first");
}

#[test]
fn the_config_file_binds_keys_sets_the_sort_and_the_help_lists_the_bindings() {
    let (_t, dir, ids) = takes_dir(5);
    let mut d = Driver::new(&dir);
    let c = genhist::config::parse(
        "default_sort = \"oldest\"\n[keys.normal]\nx = \"goto t0002\"\nj = \"up\"\n",
    )
    .unwrap();
    let fx = d.app.configure(c.browser);
    d.perform(fx);
    d.wait("sorted", |a| !a.list.view.pending);
    assert_eq!(d.rows()[0], ids[4], "opens oldest first");
    d.keys("x");
    assert_eq!(d.selected(), ids[2], "x runs the bound command");
    d.keys("j");
    assert_eq!(
        d.selected(),
        ids[3],
        "a user binding goes before the default"
    );
    d.keys("?");
    let help = screen_text(&d.app, 120, 40);
    assert!(help.contains(":goto t0002 (your binding)"), "{help}");
}

#[test]
fn every_row_shown_gets_its_waveform_however_fast_the_list_moves() {
    let (_t, dir, _) = takes_dir(120);
    let mut d = Driver::new(&dir);
    // Each page's request replaces the one before in the worker's queue.
    d.keys("<PgDn><PgDn><PgDn><PgDn>kkkk");
    d.settle();
    let page = d.app.page();
    for row in d.app.list.offset..d.app.list.offset + page {
        let id = &d.app.list.view.rows[row].entry_id;
        assert!(
            matches!(
                d.app.waves.peaks.get(id),
                Some(genhist::ui::app::PeakState::Ready(_))
            ),
            "row {row} ({id}) has no waveform: {:?}",
            d.app
                .waves
                .peaks
                .get(id)
                .map(|p| matches!(p, genhist::ui::app::PeakState::Pending))
        );
    }
}

#[test]
fn command_bar_recall_history_search_and_completion() {
    let (_t, dir, _) = takes_dir(3);
    {
        let mut d = Driver::new(&dir);
        d.command("sort oldest");
        d.command("filter t000");
        d.command("stats");
        d.keys("<Esc>");
        d.settle();
    }
    let mut d = Driver::new(&dir);
    d.keys(":<Up>");
    assert_eq!(d.app.bar.input.value(), "stats", "recalled after a restart");
    d.keys("<Esc>:fil<Up>");
    assert_eq!(d.app.bar.input.value(), "filter t000", "prefix recall");
    d.keys("<Down>");
    assert_eq!(d.app.bar.input.value(), "fil", "back to what was typed");
    d.keys("<Esc>:<C-r>sort");
    assert_eq!(d.app.mode, Mode::HistorySearch);
    d.keys("<Enter>");
    assert_eq!(d.app.mode, Mode::Command);
    assert_eq!(d.app.bar.input.value(), "sort oldest");
    d.keys("<Esc>:so<Tab>");
    assert_eq!(d.app.bar.input.value(), "sort ");
    d.keys("du<Tab>");
    assert_eq!(d.app.bar.input.value(), "sort duration ");
    d.keys("<Esc>:s<Tab>");
    let c = d.app.bar.completion.clone().expect("several candidates");
    assert!(
        c.candidates.contains(&"sort".to_string()) && c.candidates.contains(&"stats".to_string())
    );
    d.keys("<Tab>");
    assert_eq!(d.app.bar.input.value(), format!("{} ", c.candidates[0]));
    d.keys("<Tab>");
    assert_eq!(d.app.bar.input.value(), format!("{} ", c.candidates[1]));
    d.keys("<BackTab>");
    assert_eq!(d.app.bar.input.value(), format!("{} ", c.candidates[0]));
}

#[test]
fn help_scrolls_and_shows_one_command() {
    let (_t, dir, _) = takes_dir(2);
    let mut d = Driver::new(&dir);
    d.send(Event::Resize(80, 24));
    d.keys("?");
    assert!(matches!(d.app.mode, Mode::Help { scroll: 0, .. }));
    d.keys("jj");
    assert!(matches!(d.app.mode, Mode::Help { scroll: 2, .. }));
    d.keys("G");
    let Mode::Help { scroll, .. } = d.app.mode.clone() else {
        panic!()
    };
    assert!(scroll > 20, "the bottom is far down at 80x24: {scroll}");
    let s = screen_text(&d.app, 80, 24);
    assert!(s.contains(":quit"), "the last command is reachable:\n{s}");
    d.keys("g");
    assert!(matches!(d.app.mode, Mode::Help { scroll: 0, .. }));
    d.keys("<Esc>");
    assert_eq!(d.app.mode, Mode::Normal);
    d.command("help sort");
    let s = screen_text(&d.app, 80, 24);
    assert!(
        s.contains(":sort KEY") && s.contains("-KEY reverses"),
        "{s}"
    );
}

#[test]
fn a_click_selects_and_autoplay_plays_it() {
    let (_t, dir, ids) = takes_dir(6);
    let mut d = Driver::new(&dir);
    click(&mut d, 3);
    assert_eq!(d.selected(), ids[3]);
    assert!(d.played.is_empty());
    d.keys("a");
    click(&mut d, 1);
    assert_eq!(d.selected(), ids[1]);
    match d.played.last() {
        Some(PlayerCmd::Open { id, path, .. }) => {
            assert_eq!(id, &ids[1]);
            assert_eq!(path.to_string(), format!("audio/{}.wav", ids[1]));
        }
        other => panic!("expected a play, got {other:?}"),
    }
    d.keys("j");
    assert!(matches!(d.played.last(), Some(PlayerCmd::Open { id, .. }) if *id == ids[2]));
}

#[test]
fn a_take_whose_path_is_refused_is_not_played() {
    let (_t, dir, ids) = takes_dir(2);
    let text = fs::read_to_string(dir.join("history.json")).unwrap();
    fs::write(
        dir.join("history.json"),
        text.replacen(&format!("audio/{}.wav", ids[0]), "../../etc/passwd", 1),
    )
    .unwrap();
    let mut d = Driver::new(&dir);
    d.keys("<Enter>");
    assert!(d.played.is_empty());
    assert!(d.message().contains("contains '..'"), "{}", d.message());
}

#[test]
fn repair_asks_first_and_is_undone_like_a_delete() {
    let (_t, dir, ids) = takes_dir(4);
    let before = fs::read(dir.join("history.json")).unwrap();
    fs::remove_file(dir.join(format!("audio/{}.wav", ids[1]))).unwrap();
    let mut d = Driver::new(&dir);
    d.command("repair");
    d.wait("the plan", |a| a.busy.is_none());
    match &d.app.mode {
        Mode::Confirm(Confirm::Repair(plan)) => assert_eq!(plan.missing[0].0, ids[1]),
        other => panic!("expected the repair question, got {other:?}"),
    }
    let s = screen_text(&d.app, 120, 40);
    assert!(
        s.contains("Move 1 take whose WAV is missing to the trash?"),
        "{s}"
    );
    d.keys("n");
    assert_eq!(
        fs::read(dir.join("history.json")).unwrap(),
        before,
        "n changes nothing"
    );
    d.command("repair");
    d.wait("the plan", |a| a.busy.is_none());
    d.keys("y");
    d.wait("the repair", |a| a.busy.is_none());
    assert!(!d.rows().contains(&ids[1]));
    d.keys("u");
    d.wait("the undo", |a| a.busy.is_none());
    assert_eq!(fs::read(dir.join("history.json")).unwrap(), before);
}

#[test]
fn export_never_overwrites_without_the_bang_and_expands_home() {
    let (t, dir, ids) = takes_dir(2);
    let home = t.path().join("home");
    fs::create_dir(&home).unwrap();
    std::env::set_var("HOME", &home);
    let mut d = Driver::new(&dir);
    let data_of = |p: &std::path::Path| {
        let b = fs::read(p).unwrap();
        let at = b.windows(4).position(|w| w == b"data").unwrap();
        b[at..].to_vec()
    };
    let wait = |d: &mut Driver| d.wait("the export", |a| a.exports.running.is_none());
    d.command("export ~/take.wav");
    wait(&mut d);
    let target = home.join("take.wav");
    assert_eq!(
        data_of(&target),
        data_of(&dir.join(format!("audio/{}.wav", ids[0])))
    );
    assert_eq!(
        d.message(),
        format!(
            "exported 1 take to {} (1 file written, {})",
            home.canonicalize().unwrap().display(),
            genhist::text::size(fs::metadata(&target).unwrap().len())
        )
    );
    d.keys("j");
    d.command("export ~/take.wav");
    wait(&mut d);
    assert!(
        d.message()
            .contains("skipped 1 file already there: take.wav")
            && d.message().contains(":export! replaces"),
        "{}",
        d.message()
    );
    assert_eq!(
        data_of(&target),
        data_of(&dir.join(format!("audio/{}.wav", ids[0]))),
        "not overwritten"
    );
    d.command("export! ~/take.wav");
    wait(&mut d);
    assert_eq!(
        data_of(&target),
        data_of(&dir.join(format!("audio/{}.wav", ids[1])))
    );
    d.command("export ~");
    wait(&mut d);
    assert!(
        home.join("Model t000_custom_42_t0001-01.wav").is_file(),
        "into a directory: the template's name; {}",
        d.message()
    );
    // Tab completes paths (the store worker lists the directory).
    fs::create_dir(home.join("takes")).unwrap();
    fs::write(home.join(".hidden"), b"").unwrap();
    let input = |d: &Driver| d.app.bar.input.value().to_string();
    d.keys(":export ~/ta<Tab>");
    d.wait("the candidates", |a| a.bar.completion.is_some());
    assert_eq!(input(&d), "export ~/take");
    assert_eq!(
        d.app.bar.completion.as_ref().unwrap().candidates,
        ["~/take.wav", "~/takes/"]
    );
    d.keys("<Tab><Tab>");
    assert_eq!(
        input(&d),
        "export ~/takes/",
        "a directory: no space after it"
    );
    d.keys("<Esc>:export ~/.h<Tab>");
    d.wait("the one candidate", |a| {
        a.bar.input.value() == "export ~/.hidden "
    });
    d.keys("<Esc>:export ~/<Tab>");
    d.wait("the candidates", |a| a.bar.completion.is_some());
    assert!(
        !d.app
            .bar
            .completion
            .as_ref()
            .unwrap()
            .candidates
            .contains(&"~/.hidden".to_string()),
        "hidden files only when asked for"
    );
}

#[test]
fn bad_commands_change_nothing_and_say_why() {
    let (_t, dir, _) = takes_dir(3);
    let mut d = Driver::new(&dir);
    d.command("filter duration>soon");
    assert_eq!(d.app.list.view.rows.len(), 3);
    assert!(d.message().contains("needs a number"));
    d.command(":frobnicate");
    assert!(d.message().contains("unknown command"));
    assert_eq!(
        d.app.bar.history.all().last().unwrap(),
        "frobnicate",
        "kept for fixing"
    );
}

#[test]
fn readme_key_table_is_the_key_table() {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme.find("<!-- keys:start -->\n").unwrap() + "<!-- keys:start -->\n".len();
    let end = readme.find("<!-- keys:end -->").unwrap();
    assert_eq!(&readme[start..end], genhist::ui::keymap::markdown_table());
    let start =
        readme.find("<!-- commands:start -->\n").unwrap() + "<!-- commands:start -->\n".len();
    let end = readme.find("<!-- commands:end -->").unwrap();
    assert_eq!(&readme[start..end], genhist::ui::command::markdown_table());
}

#[test]
fn every_key_of_every_mode_runs_a_valid_command() {
    for mode in genhist::ui::keymap::KeyMode::ALL {
        for b in mode.table() {
            assert!(
                genhist::ui::command::parse(b.command).is_ok(),
                "{mode:?}: {} -> {}",
                b.label,
                b.command
            );
        }
    }
}

#[test]
fn hostile_text_never_reaches_the_screen_raw() {
    let (_t, d) = python_dir();
    let text = PY_FIXTURE.replace(
        "\"model_name\": \"Pads\"",
        "\"model_name\": \"Pads\\u001b[2J\\u001b]0;x\\u0007\"",
    );
    fs::write(d.join("history.json"), text).unwrap();
    let app = genhist::ui::open_app(&d, None).unwrap();
    let s = screen_text(&app, 120, 30);
    assert!(!s.contains('\u{1b}') && !s.contains('\u{7}'));
    assert!(s.contains("Pads\u{fffd}[2J"));
}

#[test]
fn a_command_history_error_clears_once_saving_works_again() {
    let (_t, dir, _) = takes_dir(2);
    let mut d = Driver::new(&dir);
    // Something in the way of the history file's rename.
    let hist = dir.join(".genhist_history");
    fs::create_dir(&hist).unwrap();
    fs::write(hist.join("x"), b"").unwrap();
    d.command("sort oldest");
    d.wait("the error", |a| {
        a.message()
            .is_some_and(|m| m.text.contains(".genhist_history"))
    });
    fs::remove_dir_all(&hist).unwrap();
    d.command("sort newest");
    d.wait("the error cleared", |a| {
        !a.message()
            .is_some_and(|m| m.text.contains(".genhist_history"))
    });
    assert!(fs::read_to_string(&hist).unwrap().contains("sort newest"));
}

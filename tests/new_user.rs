//! What a new user trips on (the issue of that name): one test per
//! numbered point, on the browser's `App` with its real workers and on the
//! real binary.

mod common;

use common::*;
use genhist::ui::app::Mode;
use std::fs;
use std::path::Path;

fn run(d: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    genhist()
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .arg("--dir")
        .arg(d)
        .args(args)
        .assert()
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

/// Every line of the popup (inside its border) over all its pages.
fn popup_text(dr: &mut Driver, w: u16, h: u16) -> String {
    dr.send(genhist::ui::event::Event::Resize(w, h));
    let now = chrono::Utc::now();
    // The popup is centred, at most 100 columns wide.
    let pw = 100.min(w - 2);
    let (x0, x1) = ((w - pw) / 2 + 1, (w - pw) / 2 + pw - 1);
    let mut all = String::new();
    for _ in 0..200 {
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
        term.draw(|f| genhist::ui::draw::draw(f, &dr.app, now))
            .unwrap();
        let buf = term.backend().buffer().clone();
        let mut more = false;
        for y in 0..h {
            let line: String = (x0..x1).map(|x| buf[(x, y)].symbol().to_string()).collect();
            more |= line.contains(" more ");
            all.push_str(line.trim_end());
            all.push('\n');
        }
        if !more {
            break;
        }
        dr.keys("<PgDn>");
    }
    all
}

/// True when the words of `text` appear in `screen` in order.
fn words_in_order(screen: &str, text: &str) -> Result<(), String> {
    let have: Vec<&str> = screen.split_whitespace().collect();
    let mut at = 0;
    for w in text.split_whitespace() {
        match have[at..]
            .iter()
            .position(|h| h.contains(w) || w.contains(h))
        {
            Some(i) => at += i + 1,
            None => return Err(format!("'{w}' is missing")),
        }
    }
    Ok(())
}

/// 1: the help wraps to its popup at every width; nothing is cut.
#[test]
fn the_help_loses_no_word_at_any_width() {
    let (_t, d, _) = takes_dir(3);
    let mut dr = Driver::new(&d);
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        dr.keys("?");
        let all = popup_text(&mut dr, w, h);
        dr.keys("<Esc>");
        for c in genhist::ui::command::markdown_table().lines().skip(2) {
            // "| `:name args` | help |"
            let help = c
                .split_once("` | ")
                .unwrap()
                .1
                .trim_end_matches(" |")
                .replace("\\|", "|");
            words_in_order(&all, &help).unwrap_or_else(|e| panic!("{w}x{h}: {e} of {help}"));
        }
        // (The keys "1 … 5" are written with an ellipsis.)
        assert!(
            !all.replace("1 … 5", "").contains('…'),
            "{w}x{h}: something was cut:\n{all}"
        );
        dr.command("help filter");
        let one = popup_text(&mut dr, w, h);
        dr.keys("<Esc>");
        words_in_order(&one, genhist::query::FILTER_HELP)
            .unwrap_or_else(|e| panic!("{w}x{h}: :help filter: {e}\n{one}"));
        assert!(one.contains("duration>=N"), "{w}x{h}:\n{one}");
    }
}

/// 2: the user's keys are shown as the config file writes them.
#[test]
fn user_keys_show_as_the_config_writes_them() {
    let (_t, d, _) = takes_dir(2);
    let mut dr = Driver::new(&d);
    let c = genhist::config::parse(
        "[keys.normal]\nF5 = \"sort duration\"\nK = \"top\"\n\"ctrl-p\" = \"play\"\nz = \"stats\"\n",
    )
    .unwrap();
    let fx = dr.app.configure(c.browser);
    dr.perform(fx);
    dr.keys("?");
    let all = popup_text(&mut dr, 120, 40);
    for (k, cmd) in [
        ("F5", "sort duration"),
        ("K", "top"),
        ("Ctrl-p", "play"),
        ("z", "stats"),
    ] {
        assert!(
            all.lines()
                .any(|l| l.trim_start().starts_with(&format!("{k} "))
                    && l.contains(&format!(":{cmd} (your binding)"))),
            "{k}:\n{all}"
        );
    }
    for debug in ["F(5)", "KeyModifiers", "Char("] {
        assert!(!all.contains(debug), "{debug}:\n{all}");
    }
}

/// 3: `/` starts empty; the last search is one ↑ away.
#[test]
fn a_new_search_starts_empty() {
    let (_t, d, _) = takes_dir(4);
    let mut dr = Driver::new(&d);
    dr.keys("/t0002<Enter>");
    assert_eq!(dr.app.find.query, "t0002");
    dr.keys("/");
    assert_eq!(dr.app.bar.input.value(), "", "a new / starts empty");
    dr.keys("t0003");
    assert_eq!(dr.app.find.query, "t0003", "not t0002t0003");
    dr.keys("<Esc>/<Up>");
    assert_eq!(
        dr.app.bar.input.value(),
        "t0002",
        "↑ brings the last one back"
    );
    assert_eq!(dr.app.find.query, "t0002");
}

/// A WAV of 100 bytes: the header says 1.5 s, the file holds almost nothing.
fn truncate_wav(path: &Path) {
    let f = fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_len(100).unwrap();
}

/// 4: a truncated WAV says what is wrong with it, in the CLI (exit 1) and
/// in the browser.
#[test]
fn a_truncated_wav_says_so() {
    let (_t, d, ids) = takes_dir(2);
    let wav = d.join(format!("audio/{}.wav", ids[0]));
    write_sine(&wav, 48_000, 1, 1.5, genhist::audio::BitDepth::Int16);
    truncate_wav(&wav);
    let out = run(&d, &["play", &ids[0]]).code(1).get_output().clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("truncated") && err.contains("1.5 s"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("playing"));
    let mut dr = Driver::with_player(&d);
    dr.keys("<Enter>");
    dr.wait("the player's answer", |a| {
        a.message().is_some_and(|m| m.text.contains("truncated"))
    });
}

/// 5: above 100 % the volume never makes a full-scale take clip, and the
/// status line says what it plays at.
#[test]
fn loud_volume_never_clips() {
    use genhist::playback::{Engine, PlayerCmd, QueueOutput};
    let t = tempfile::tempdir().unwrap();
    let full = t.path().join("full.wav");
    let quiet = t.path().join("quiet.wav");
    let sine = |amp: f32| genhist::audio::AudioBuffer {
        channels: 1,
        sample_rate: 48_000,
        samples: (0..48_000).map(|i| amp * (i as f32 * 0.05).sin()).collect(),
    };
    genhist::audio::write_wav(&full, &sine(1.0), genhist::audio::BitDepth::Float32).unwrap();
    genhist::audio::write_wav(&quiet, &sine(0.5), genhist::audio::BitDepth::Float32).unwrap();
    for (file, peak, loudest, capped) in [
        ("full.wav", Some(1.0), 1.0, Some(100)),
        ("full.wav", None, 1.0, Some(100)),
        ("quiet.wav", Some(0.5), 0.75, None),
    ] {
        let out = QueueOutput::default();
        let mut e = Engine::new(out.clone());
        e.handle(PlayerCmd::SetVolume(150)).unwrap();
        e.handle(PlayerCmd::Open {
            id: "x".into(),
            dir: t.path().to_path_buf(),
            path: genhist::store::paths::RelPath::parse(file).unwrap(),
            peak,
        })
        .unwrap();
        let got = out.pull(48_000);
        let max = got.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(max <= 1.0 + 1e-6, "{file} {peak:?}: peaks at {max}");
        assert!((max - loudest).abs() < 0.02, "{file} {peak:?}: {max}");
        assert_eq!(e.status().capped, capped, "{file} {peak:?}");
    }
    // The browser says it.
    let (_t, d, _) = takes_dir(2);
    let mut dr = Driver::new(&d);
    dr.send(genhist::ui::event::Event::Player(
        genhist::playback::PlayerEvent::Status(genhist::playback::Status {
            volume: 150,
            capped: Some(100),
            ..Default::default()
        }),
    ));
    let screen = screen_text(&dr.app, 200, 40);
    assert!(
        screen.contains("vol 150% (plays at 100%: no clipping)"),
        "{screen}"
    );
}

/// 6: quotes group words in :tag and :note; edits say what they did and
/// clear an older error about such a command.
#[test]
fn quoted_tags_and_notes_and_what_edits_say() {
    let (_t, d, ids) = takes_dir(3);
    let mut dr = Driver::new(&d);
    dr.command("rate 9");
    assert!(dr.message().contains("0 to 5"), "{}", dr.message());
    dr.command("tag \"two words\" +a,b #hash");
    assert_eq!(
        dr.app.triage.notes[&ids[0]].tags,
        ["two words", "a,b", "hash"]
    );
    let m = dr.message();
    assert!(m.contains("tags #two words #a,b #hash"), "{m}");
    assert!(
        !dr.app
            .messages
            .list
            .iter()
            .any(|m| m.text.contains("0 to 5") && !m.dismissed),
        "the old error is over"
    );
    dr.command("note \"keep   this\" one");
    assert_eq!(dr.app.triage.notes[&ids[0]].note, "keep   this one");
    assert!(
        dr.message().contains("note “keep   this one”"),
        "{}",
        dr.message()
    );
    dr.command("rate 4");
    assert!(dr.message().contains("rated ★★★★☆"), "{}", dr.message());
    dr.command("reject");
    assert!(dr.message().contains("rejected"), "{}", dr.message());
    dr.keys("2");
    assert!(dr.message().contains("rated ★★☆☆☆"), "{}", dr.message());
    dr.settle();
    // The filter names them.
    dr.command("filter tag=\"two words\"");
    dr.wait("filtered", |a| !a.list.view.pending);
    assert_eq!(dr.rows(), [ids[0].clone()]);
    dr.command("filter tag=a,b");
    dr.wait("filtered", |a| !a.list.view.pending);
    assert_eq!(dr.rows(), [ids[0].clone()]);
    // The CLI takes a tag with spaces as one argument.
    run(&d, &["tag", &ids[1], "+two words", "#x"]).success();
    let a: serde_json::Value =
        serde_json::from_slice(&fs::read(d.join(".genhist/annotations.json")).unwrap()).unwrap();
    assert_eq!(
        a["takes"][&ids[1]]["tags"],
        serde_json::json!(["two words", "x"])
    );
}

/// 7: --dir works after any command, and `--` ends a note's words.
#[test]
fn dir_works_after_any_command() {
    let (_t, d, ids) = takes_dir(3);
    let g = |args: &[&str]| {
        genhist()
            .env("XDG_CONFIG_HOME", "/nonexistent")
            .current_dir("/")
            .args(args)
            .assert()
    };
    let dir = d.to_str().unwrap();
    g(&["trash", "list", "--dir", dir]).success();
    g(&["trash", "purge", "--all", "--dir", dir]).success();
    g(&["tag", &ids[0], "+a", "--dir", dir]).success();
    g(&["note", &ids[0], "hello", "--dir", dir]).success();
    g(&["note", &ids[1], "--dir", dir, "--", "--dir", "is", "text"]).success();
    g(&["list", "--dir", dir, "--limit", "1"]).success();
    let a: serde_json::Value =
        serde_json::from_slice(&fs::read(d.join(".genhist/annotations.json")).unwrap()).unwrap();
    assert_eq!(a["takes"][&ids[0]]["tags"], serde_json::json!(["a"]));
    assert_eq!(a["takes"][&ids[0]]["note"], "hello");
    assert_eq!(a["takes"][&ids[1]]["note"], "--dir is text");
}

/// 8: every command ends quietly on a closed pipe.
#[test]
fn closed_pipes_end_quietly() {
    let (_t, d, _) = takes_dir(30);
    for args in [
        vec!["completions", "bash"],
        vec!["completions", "zsh"],
        vec!["man"],
        vec!["list"],
        vec!["list", "--json"],
        vec!["stats"],
        vec!["trash", "list"],
        vec!["--help"],
    ] {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_genhist"));
        c.env("XDG_CONFIG_HOME", "/nonexistent")
            .arg("--dir")
            .arg(&d)
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        // Read one byte, then close the pipe, as `| head -c1` would.
        let mut out = child.stdout.take().unwrap();
        let mut one = [0u8; 1];
        std::io::Read::read_exact(&mut out, &mut one).unwrap();
        drop(out);
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(o.status.code().is_some_and(|c| c == 0), "{args:?}: {o:?}");
    }
}

/// 9: :messages shows every message whole (wrapped) and scrolls.
#[test]
fn messages_wrap_and_scroll() {
    let (_t, d, _) = takes_dir(2);
    let mut dr = Driver::new(&d);
    let long = format!("a long message {} the end", "word ".repeat(60));
    dr.app.error(long.clone());
    for i in 0..40 {
        dr.app.info(format!("note {i}"));
    }
    dr.command("messages");
    let all = popup_text(&mut dr, 80, 24);
    words_in_order(&all, &long).unwrap();
    assert!(all.contains("the end"));
    assert!(
        all.contains("note 0") && all.contains("note 39"),
        "scrolled:\n{all}"
    );
}

/// 10: the man page is whole: no page it refers to is missing, and it has
/// the keys, the filter language, files, environment and exit status.
#[test]
fn the_man_page_is_whole() {
    let out = genhist().arg("man").assert().success();
    let page = stdout(&out);
    for section in [
        ".SH COMMANDS",
        ".SH KEYS",
        ".SH FILTER LANGUAGE",
        ".SH FILES",
        ".SH ENVIRONMENT",
        ".SH EXIT STATUS",
    ] {
        assert!(page.contains(section), "{section}");
    }
    assert!(!page.contains("genhist-list(1)") && !page.contains("genhist\\-list(1)"));
    assert!(page.contains("genhist list") && page.contains("genhist trash purge"));
    assert!(page.contains("history.json") && page.contains("GENHIST_DIR"));
}

/// 11: the demo never adds fake takes to a real history unless asked.
#[test]
fn the_demo_refuses_a_real_history() {
    let (_t, d, _) = takes_dir(3);
    let before = fs::read(d.join("history.json")).unwrap();
    let out = genhist()
        .args(["demo", d.to_str().unwrap(), "--count", "5", "--no-audio"])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("already holds 3 takes") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(fs::read(d.join("history.json")).unwrap(), before);
    genhist()
        .args([
            "demo",
            d.to_str().unwrap(),
            "--count",
            "5",
            "--no-audio",
            "--force",
        ])
        .assert()
        .success();
    assert_eq!(index_ids(&d).len(), 8);
}

/// A take of one sine at `amp` (full scale 1.0) over the default paths.
fn take_at(d: &Path, id: &str, amp: f32) {
    let buf = genhist::audio::AudioBuffer {
        channels: 1,
        sample_rate: 8000,
        samples: (0..8000).map(|i| amp * (i as f32 * 0.3).sin()).collect(),
    };
    genhist::audio::write_wav(
        &d.join(format!("audio/{id}.wav")),
        &buf,
        genhist::audio::BitDepth::Int16,
    )
    .unwrap();
}

/// 12 and 13: the list's sparklines are at true level: a quiet take looks
/// quiet, a clipping take is marked, a near-silent one says so.
#[test]
fn sparklines_are_at_true_level() {
    let (_t, d, ids) = takes_dir(4);
    take_at(&d, &ids[0], 1.0);
    take_at(&d, &ids[1], 0.5);
    take_at(&d, &ids[2], 0.01);
    take_at(&d, &ids[3], 0.000_1);
    let mut dr = Driver::new(&d);
    dr.settle();
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 30)).unwrap();
    term.draw(|f| genhist::ui::draw::draw(f, &dr.app, chrono::Utc::now()))
        .unwrap();
    let buf = term.backend().buffer().clone();
    let row_of = |id: &str| -> (String, Vec<ratatui::style::Style>) {
        for y in 0..buf.area.height {
            let line: String = (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect();
            if line.contains(&id[..8]) {
                let start = line.find("s ").unwrap();
                let cells: Vec<_> = (0..buf.area.width).map(|x| buf[(x, y)].style()).collect();
                return (line[start..].to_string(), cells);
            }
        }
        panic!("no row for {id}");
    };
    let (full, styles) = row_of(&ids[0]);
    assert!(full.contains('█'), "{full}");
    let hot = genhist::ui::theme::Theme::default().error;
    assert!(styles.iter().any(|s| s.fg == hot), "full scale is marked");
    let (half, _) = row_of(&ids[1]);
    assert!(half.contains('▇') && !half.contains('█'), "-6 dB: {half}");
    let (quiet, _) = row_of(&ids[2]);
    assert!(
        quiet.contains('▂') && !quiet.contains('▄') && !quiet.contains('█'),
        "-40 dB looks quiet: {quiet}"
    );
    let (silent, _) = row_of(&ids[3]);
    assert!(silent.contains("near silence"), "{silent}");
}

/// 13: the A/B view owns the whole screen and its hint line is its own.
#[test]
fn the_ab_view_owns_the_screen() {
    let (_t, d, ids) = takes_dir(3);
    let mut dr = Driver::new(&d);
    dr.command(&format!("ab {} {}", ids[0], ids[1]));
    for (w, h) in [(80, 24), (200, 60)] {
        let s = screen_text(&dr.app, w, h);
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines[0].starts_with("┌ A/B"), "{w}x{h}:\n{s}");
        assert!(!s.contains("┌ take"), "no panel under it:\n{s}");
        assert!(
            !s.contains("d delete"),
            "the list's hints are not its own:\n{s}"
        );
        assert!(s.contains("Tab A/B") && s.contains("Esc close"), "{s}");
    }
}

/// 14: narrow screens keep the mode flags; a low one keeps the y/n keys.
#[test]
fn narrow_and_low_screens_keep_what_matters() {
    let (_t, d, _) = takes_dir(3);
    let mut dr = Driver::new(&d);
    dr.keys("c");
    dr.keys("a");
    dr.keys("m");
    dr.send(genhist::ui::event::Event::Resize(80, 24));
    let s = screen_text(&dr.app, 80, 24);
    let status = s.lines().nth(22).unwrap();
    assert!(
        status.contains("culling") && status.contains("autoplay") && status.contains("1 marked"),
        "{status}"
    );
    dr.keys("d");
    dr.send(genhist::ui::event::Event::Resize(40, 10));
    let s = screen_text(&dr.app, 40, 10);
    assert!(s.contains("y ") && s.contains("n / Esc"), "{s}");
    dr.keys("n");
}

/// 15: the rough edges.
#[test]
fn rough_edges_are_smoothed() {
    let (_t, d, ids) = takes_dir(4);
    let mut dr = Driver::new(&d);
    // "its files" for one take.
    dr.keys("d");
    assert!(screen_text(&dr.app, 120, 40).contains("Delete 1 take and its files?"));
    dr.keys("n");
    // An empty filter result says how to clear it (CLI).
    let out = run(&d, &["list", "--filter", "model=nothing"]).success();
    assert!(
        stdout(&out).contains("no take matches the filter"),
        "{}",
        stdout(&out)
    );
    // The message follows n / N as the status line does.
    dr.keys("/t000<Enter>");
    dr.keys("nn");
    let (at, n) = dr.app.match_position().unwrap();
    assert!(
        dr.message().contains(&format!("match {at}/{n}")),
        "{}",
        dr.message()
    );
    // A 1 ms take is not 0.0s.
    assert_eq!(genhist::text::duration(0.001), "1ms");
    // #tag is the tag.
    dr.command("tag #hash");
    assert_eq!(dr.app.triage.notes[&dr.selected()].tags, ["hash"]);
    // The same take twice.
    dr.command(&format!("ab {} {}", &ids[1][..6], &ids[1][..6]));
    assert!(dr.message().contains("twice"), "{}", dr.message());
    // The size has a label.
    assert!(screen_text(&dr.app, 200, 40).contains("files "));
    // The sort's value is shown while sorting by it.
    dr.command("sort quality.snr_db");
    dr.wait("sorted", |a| !a.list.view.pending);
    let s = screen_text(&dr.app, 200, 40);
    assert!(s.contains("SNR_DB") && s.contains("20.50"), "{s}");
    dr.keys("S");
    dr.wait("sorted", |a| !a.list.view.pending);
    assert!(screen_text(&dr.app, 200, 40).contains("DIST"));
    // Filters: booleans, seed comparisons, empty values, tags and notes.
    for (f, ok) in [
        ("quality.clipping=true", true),
        ("seed>41", true),
        ("seed<=41", true),
        ("model=", false),
        ("preset=", false),
    ] {
        assert_eq!(genhist::query::Filter::parse(f).is_ok(), ok, "{f}");
    }
    dr.command("note a loud bell");
    dr.command("filter bell");
    dr.wait("filtered", |a| !a.list.view.pending);
    assert_eq!(dr.rows().len(), 1, "plain text finds the note");
    dr.command("filter hash");
    dr.wait("filtered", |a| !a.list.view.pending);
    assert_eq!(dr.rows().len(), 1, "plain text finds the tag");
    dr.command("clear");
    dr.keys("/bell");
    assert_eq!(dr.app.find.matches.len(), 1, "/ finds the note");
    dr.keys("<Esc>");
    // 2:75 is not a time.
    dr.command("seek 2:75");
    assert!(dr.message().contains("seek takes"), "{}", dr.message());
    // The same error again is one message.
    let n = dr.app.messages.list.len();
    dr.command("seek 2:75");
    assert_eq!(dr.app.messages.list.len(), n);
}

/// 16: volume, sort and filter are remembered per history directory;
/// --fresh and the file's absence start from the defaults.
#[test]
fn volume_sort_and_filter_are_remembered() {
    let (_t, d, _) = takes_dir(5);
    {
        let mut dr = Driver::new(&d);
        dr.command("sort -duration");
        dr.command("filter t000");
        dr.command("volume 70");
        // The player answers with its new volume.
        dr.send(genhist::ui::event::Event::Player(
            genhist::playback::PlayerEvent::Status(genhist::playback::Status {
                volume: 70,
                ..Default::default()
            }),
        ));
        dr.settle();
    }
    let saved: serde_json::Value =
        serde_json::from_slice(&fs::read(d.join(".genhist/browser.json")).unwrap()).unwrap();
    assert_eq!(saved["sort"], "-duration");
    assert_eq!(saved["filter"], "t000");
    assert_eq!(saved["volume"], 70);
    let mut dr = Driver::new(&d);
    assert_eq!(dr.app.list.view.spec.sort.label(), "-duration");
    assert_eq!(dr.app.list.view.spec.filter.text, "t000");
    assert!(dr
        .played
        .iter()
        .any(|c| *c == genhist::playback::PlayerCmd::SetVolume(70)));
    // :clear clears the filter, and that is remembered too.
    dr.command("clear");
    dr.settle();
    let saved: serde_json::Value =
        serde_json::from_slice(&fs::read(d.join(".genhist/browser.json")).unwrap()).unwrap();
    assert!(saved.get("filter").is_none(), "{saved}");
    assert!(matches!(dr.app.mode, Mode::Normal));
}

//! The corners where data could be lost, a command could hang or crash:
//! one regression test per numbered case of the issue "Nothing lost in the
//! new corners". Crash points are reached exactly (`GENHIST_FAULT=kill@…`,
//! `enospc@…`, `writer@…`), never by timing.

mod common;

use common::*;
use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// Case 1: an export never writes over the index, genhist's own files or
/// another take's files, with or without `!`.
#[test]
fn exports_never_land_on_the_index_or_a_takes_files() {
    let (_t, d, ids) = takes_dir(3);
    let index = fs::read(d.join("history.json")).unwrap();
    let other = fs::read(wav_of(&d, &ids[1])).unwrap();
    let mut dr = Driver::new(&d);
    fs::create_dir_all(d.join(".genhist")).unwrap();
    for dest in [
        d.join("history.json"),
        wav_of(&d, &ids[1]),
        d.join(".genhist/x.wav"),
        d.join(".genhist_history"),
        d.join("audio"),
    ] {
        for bang in ["export", "export!"] {
            dr.command(&format!("{bang} {}", dest.display()));
            dr.wait("the export", |a| a.exports.running.is_none());
            let m = dr.message();
            assert!(
                m.contains("export failed") && m.contains("inside the history directory"),
                "{bang} {dest:?}: {m}"
            );
        }
    }
    assert_eq!(fs::read(d.join("history.json")).unwrap(), index);
    assert_eq!(fs::read(wav_of(&d, &ids[1])).unwrap(), other);
    assert!(!d.join(".genhist/x.wav").exists());
    // Somewhere else it works.
    let out = tempfile::tempdir().unwrap();
    dr.command(&format!("export {}", out.path().display()));
    dr.wait("the export", |a| a.exports.running.is_none());
    assert!(dr.message().contains("exported 1 take"), "{}", dr.message());
}

/// Case 2: a target that exists and is not a regular file (a device node, a
/// FIFO, a symlink) is refused and stays as it was.
#[test]
fn an_export_never_replaces_a_device_a_fifo_or_a_link() {
    let (t, d, _) = takes_dir(2);
    let mut dr = Driver::new(&d);
    let null = t.path().join("null-copy.wav");
    let fifo = t.path().join("fifo.wav");
    let link = t.path().join("link.wav");
    assert!(mknod(&fifo, rustix::fs::FileType::Fifo, 0));
    std::os::unix::fs::symlink(t.path().join("elsewhere"), &link).unwrap();
    let mut targets = vec![fifo.clone(), link.clone()];
    // A copy of /dev/null (1, 3) needs root to make.
    if mknod(
        &null,
        rustix::fs::FileType::CharacterDevice,
        rustix::fs::makedev(1, 3),
    ) {
        targets.push(null.clone());
    } else {
        skip(
            "an_export_never_replaces_a_device_a_fifo_or_a_link (device part)",
            "a device node can only be made by root",
        );
    }
    for dest in &targets {
        dr.command(&format!("export! {}", dest.display()));
        dr.wait("the export", |a| a.exports.running.is_none());
        let m = dr.message();
        assert!(
            m.contains("1 file failed") && m.contains("only ever writes a regular file"),
            "{dest:?}: {m}"
        );
    }
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    if targets.contains(&null) {
        assert!(fs::symlink_metadata(&null)
            .unwrap()
            .file_type()
            .is_char_device());
    }
}

/// Case 3: undo refuses a batch whose stored texts would not load, naming
/// it; the index is not touched.
#[test]
fn undo_refuses_a_batch_whose_texts_would_break_the_index() {
    for (what, edit) in [
        ("broken JSON", "{broken"),
        ("null", "null"),
        ("another id", "{\"entry_id\": \"someone-else\"}"),
        ("twice", ""),
    ] {
        let (_t, d, ids) = takes_dir(3);
        run(&d, &["delete", &ids[0], &ids[1]]).success();
        let batch = batches(&d).pop().unwrap();
        let manifest = d.join(".genhist/trash").join(&batch).join("manifest.json");
        let mut m: serde_json::Value =
            serde_json::from_slice(&fs::read(&manifest).unwrap()).unwrap();
        if what == "twice" {
            let first = m["entries"][0]["id"].clone();
            m["entries"][1]["id"] = first;
        } else {
            m["entries"][0]["text"] = serde_json::Value::String(edit.into());
        }
        fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();
        let before = fs::read(d.join("history.json")).unwrap();
        let out = run(&d, &["undo"]).failure().code(1);
        let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        assert!(
            err.contains(&batch) && err.contains("nothing was changed"),
            "{what}: {err}"
        );
        assert_eq!(fs::read(d.join("history.json")).unwrap(), before, "{what}");
        assert!(batches(&d).contains(&batch), "{what}: the batch stays");
        if python3_available() {
            let out = std::process::Command::new("python3")
                .arg(py_store())
                .arg(&d)
                .arg("strict-count")
                .output()
                .unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1", "{what}");
        }
    }
}

/// Case 4: annotations go back with their takes in the same recoverable
/// transaction: an undo killed after the index was written, or one whose
/// annotations cannot be written (disk full), loses no rating or note.
#[test]
fn an_undo_killed_or_on_a_full_disk_keeps_ratings_and_notes() {
    for fault in [
        "kill@undo-after-index",
        "kill@undo-before-annotations",
        "enospc@annotations-write",
    ] {
        let (_t, d, ids) = takes_dir(3);
        let wav = fs::read(wav_of(&d, &ids[1])).unwrap();
        run(&d, &["rate", &ids[1], "4"]).success();
        run(&d, &["note", &ids[1], "keep", "this"]).success();
        run(&d, &["delete", &ids[1]]).success();
        assert!(annotations(&d)["takes"].get(&ids[1]).is_none());
        let out = run_fault(&d, fault, &["undo"]);
        if fault.starts_with("kill") {
            assert!(was_killed(&out), "{fault}: {out:?}");
        } else {
            let err = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(1), "{fault}: {out:?}");
            assert!(err.contains("next genhist command puts them back"), "{err}");
            assert!(annotations(&d)["takes"].get(&ids[1]).is_none());
        }
        assert!(index_ids(&d).contains(&ids[1]), "{fault}: the take is back");
        // The next command (one that only reads) finishes the undo.
        run(&d, &["list"]).success();
        let a = &annotations(&d)["takes"][&ids[1]];
        assert_eq!(a["rating"], 4, "{fault}: {a}");
        assert_eq!(a["note"], "keep this", "{fault}: {a}");
        assert_eq!(fs::read(wav_of(&d, &ids[1])).unwrap(), wav, "{fault}");
        assert!(batches(&d).is_empty(), "{fault}: {:?}", batches(&d));
        assert!(leftover_temps(&d).is_empty(), "{fault}");
    }
}

/// Case 5: a purge of the trash killed part-way leaves every batch whole or
/// gone; undo never restores a take without its WAV.
#[test]
fn a_killed_trash_purge_leaves_batches_whole_or_gone() {
    let (_t, d, ids) = takes_dir(3);
    let older = fs::read(wav_of(&d, &ids[0])).unwrap();
    run(&d, &["delete", &ids[0]]).success();
    run(&d, &["delete", &ids[1]]).success();
    let out = run_fault(&d, "kill@purge-renamed", &["trash", "purge", "--all"]);
    assert!(was_killed(&out), "{out:?}");
    // The next command removes what was being purged.
    let listed = run(&d, &["trash", "list"]).success();
    let text = String::from_utf8_lossy(&listed.get_output().stdout).into_owned();
    assert_eq!(text.matches("take").count(), 1, "{text}");
    assert!(
        !batches(&d).iter().any(|b| b.starts_with('.')),
        "{:?}",
        batches(&d)
    );
    // What is left is whole: undo brings the older take back with its WAV.
    run(&d, &["undo"]).success();
    assert!(index_ids(&d).contains(&ids[0]));
    assert_eq!(fs::read(wav_of(&d, &ids[0])).unwrap(), older);
    assert!(!index_ids(&d).contains(&ids[1]));
    run(&d, &["undo"]).failure();
}

/// Case 6: a member genhist cannot read is kept as it is, and an edit
/// changes only what it is about.
#[test]
fn an_unreadable_member_is_kept_and_the_rest_survives_an_edit() {
    let (_t, d, ids) = takes_dir(2);
    fs::create_dir_all(d.join(".genhist")).unwrap();
    let start = serde_json::json!({"version": 1, "takes": {
        (ids[0].clone()): {"rating": "4", "note": "keep me", "tags": ["a"], "colour": "red"}
    }});
    fs::write(
        d.join(".genhist/annotations.json"),
        serde_json::to_vec(&start).unwrap(),
    )
    .unwrap();
    run(&d, &["tag", &ids[0], "+b"]).success();
    let a = &annotations(&d)["takes"][&ids[0]];
    assert_eq!(a["rating"], "4", "{a}");
    assert_eq!(a["note"], "keep me", "{a}");
    assert_eq!(a["tags"], serde_json::json!(["a", "b"]), "{a}");
    assert_eq!(a["colour"], "red", "{a}");
    run(&d, &["reject", &ids[0]]).success();
    let a = &annotations(&d)["takes"][&ids[0]];
    assert_eq!(a["note"], "keep me", "{a}");
    assert_eq!(a["rejected"], true, "{a}");
    let shown = run(&d, &["show", &ids[0]]).success();
    let text = String::from_utf8_lossy(&shown.get_output().stdout).into_owned();
    assert!(text.contains("keep me") && text.contains("#a #b"), "{text}");
}

/// Case 7: ratings given and then `q` at once: quitting waits until every
/// one is written (and says it is saving).
#[test]
fn quitting_right_after_ratings_writes_every_one_first() {
    let (_t, d, ids) = takes_dir(20);
    let mut dr = Driver::new(&d);
    for _ in 0..20 {
        dr.keys("3j");
    }
    dr.keys("q");
    assert!(!dr.quit, "q waits for the writes");
    assert!(dr.message().contains("saving"), "{}", dr.message());
    dr.wait_quit();
    let a = annotations(&d);
    for id in &ids {
        assert_eq!(a["takes"][id]["rating"], 3, "{id}");
    }
    // With nothing being written, q quits at once.
    let mut dr = Driver::new(&d);
    dr.keys("j");
    dr.keys("q");
    assert!(dr.quit);
}

/// Case 8: `genhist purge` decides which takes are rejected under the
/// directory's lock: a take un-rejected meanwhile stays.
#[test]
fn purge_decides_under_the_lock() {
    let (_t, d, ids) = takes_dir(3);
    run(&d, &["reject", &ids[0]]).success();
    run(&d, &["reject", &ids[1]]).success();
    // Hold the lock, as another genhist at work would.
    let lock = genhist::fsutil::DirLock::acquire_path(&d).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_genhist"))
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .args(["--dir", dir_str(&d), "purge"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the purge waits for the lock (a blocked request shows in
    // /proc/locks), then un-reject a take, as that other genhist would.
    let start = std::time::Instant::now();
    while !fs::read_to_string("/proc/locks").unwrap().contains("->") {
        assert!(start.elapsed() < std::time::Duration::from_secs(20));
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let mut a = annotations(&d);
    a["takes"][&ids[1]]
        .as_object_mut()
        .unwrap()
        .remove("rejected");
    a["takes"]
        .as_object_mut()
        .unwrap()
        .retain(|_, v| !v.as_object().unwrap().is_empty());
    fs::write(
        d.join(".genhist/annotations.json"),
        serde_json::to_vec(&a).unwrap(),
    )
    .unwrap();
    drop(lock);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let now = index_ids(&d);
    assert!(!now.contains(&ids[0]), "still rejected: purged");
    assert!(now.contains(&ids[1]), "un-rejected meanwhile: stays");
    // The batch says what made it.
    let batch = batches(&d).pop().unwrap();
    let m: serde_json::Value = serde_json::from_slice(
        &fs::read(d.join(".genhist/trash").join(batch).join("manifest.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["kind"], "purge");
}

fn with_config(t: &Path, text: &str) -> PathBuf {
    let config = t.join("config");
    fs::create_dir_all(config.join("genhist")).unwrap();
    fs::write(config.join("genhist/config.toml"), text).unwrap();
    config
}

/// Case 9: however short the retention, the delete just made can be undone
/// by the next command.
#[test]
fn a_tiny_retention_never_purges_the_delete_just_made() {
    let (t, d, ids) = takes_dir(3);
    let config = with_config(t.path(), "[trash]\nretention = \"0s\"\n");
    let g = |args: &[&str]| {
        genhist()
            .env("XDG_CONFIG_HOME", &config)
            .arg("--dir")
            .arg(&d)
            .args(args)
            .assert()
    };
    g(&["delete", &ids[0]]).success();
    std::thread::sleep(std::time::Duration::from_millis(20));
    g(&["rate", &ids[1], "2"]).success();
    // The first undo takes back the rating, the second the delete.
    g(&["undo"]).success();
    g(&["undo"]).success();
    assert!(index_ids(&d).contains(&ids[0]));
    assert!(wav_of(&d, &ids[0]).is_file());
    // Older batches do go: the first of three deletes is purged by the
    // third (the second was the newest then, so it stays).
    g(&["delete", &ids[0]]).success();
    let first = batches(&d);
    g(&["delete", &ids[1]]).success();
    g(&["delete", &ids[2]]).success();
    let now = batches(&d);
    assert_eq!(now.len(), 2, "{now:?}");
    assert!(!now.contains(&first[0]), "{now:?}");
}

/// Cases 10 and 15: a config file or command history that is a FIFO, or a
/// link to /dev/zero, is refused at once with one message.
#[test]
fn fifos_and_endless_files_are_refused_at_once() {
    let (t, d, _) = takes_dir(2);
    let config = t.path().join("config");
    fs::create_dir_all(config.join("genhist")).unwrap();
    let cfg = config.join("genhist/config.toml");
    for make in ["fifo", "zero", "big"] {
        let _ = fs::remove_file(&cfg);
        match make {
            "fifo" => assert!(mknod(&cfg, rustix::fs::FileType::Fifo, 0)),
            "zero" => std::os::unix::fs::symlink("/dev/zero", &cfg).unwrap(),
            _ => fs::write(&cfg, vec![b'#'; 2 << 20]).unwrap(),
        }
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_genhist"))
            .env("XDG_CONFIG_HOME", &config)
            .args(["--dir", dir_str(&d), "rate"])
            .arg(&index_ids(&d)[0])
            .arg("1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{make}: {out:?}");
        assert!(
            err.contains("not a regular file") || err.contains("too large"),
            "{make}: {err}"
        );
        assert_eq!(err.matches("warning").count(), 1, "{make}: {err}");
    }
    // The command history of the browser.
    let hist = d.join(".genhist_history");
    for make in ["fifo", "zero"] {
        let _ = fs::remove_file(&hist);
        match make {
            "fifo" => assert!(mknod(&hist, rustix::fs::FileType::Fifo, 0)),
            _ => std::os::unix::fs::symlink("/dev/zero", &hist).unwrap(),
        }
        let app = genhist::ui::open_app(&d, None).unwrap();
        let m = app.message().map(|m| m.text.clone()).unwrap_or_default();
        assert!(m.contains("command history"), "{make}: {m}");
        assert_eq!(app.list.view.rows.len(), 2);
    }
}

/// Case 11: a duration too large to hold is a clear error, never a panic.
#[test]
fn huge_durations_are_errors_not_panics() {
    let (t, d, ids) = takes_dir(2);
    let out = run(
        &d,
        &["trash", "purge", "--older-than", "99999999999999999999w"],
    )
    .code(2)
    .get_output()
    .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a duration"), "{err}");
    let config = with_config(t.path(), "[trash]\nretention = \"99999999999999999999w\"\n");
    let out = genhist()
        .env("XDG_CONFIG_HOME", &config)
        .args(["--dir", dir_str(&d), "delete", &ids[0]])
        .assert()
        .success()
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("trash.retention") && err.contains("defaults"),
        "{err}"
    );
}

/// Case 12: a filter of 50,000 `!` is a clear error (CLI and browser), and
/// the browser goes on.
#[test]
fn a_deep_filter_is_an_error_not_a_stack_overflow() {
    let (_t, d, _) = takes_dir(2);
    let filter = format!("{}warm", "!".repeat(50_000));
    let out = run(&d, &["list", "--filter", &filter])
        .code(2)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("at most"));
    let mut dr = Driver::new(&d);
    dr.keys(":");
    dr.send(genhist::ui::event::Event::Paste(format!("filter {filter}")));
    dr.keys("<Enter>");
    assert!(dr.message().contains("at most"), "{}", dr.message());
    dr.command("filter !!warm");
    assert_eq!(dr.rows().len(), 0, "!! is the word itself");
}

/// Case 13: ids that are not ASCII are cut between characters, everywhere.
#[test]
fn ids_that_are_not_ascii_are_never_cut_inside_a_character() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("hist");
    fs::create_dir_all(d.join("audio")).unwrap();
    let id = "a日本語-take";
    let mut entries = serde_json::Map::new();
    entries.insert(
        id.into(),
        entry_json(
            id,
            "2026-11-20T10:00:00+00:00",
            &format!("audio/{id}.wav"),
            "x.png",
        ),
    );
    fs::write(
        d.join("history.json"),
        genhist::store::pyjson::to_python_json(
            &serde_json::json!({"version": 1, "entries": entries}),
        ),
    )
    .unwrap();
    write_sine(
        &d.join(format!("audio/{id}.wav")),
        8000,
        1,
        0.5,
        genhist::audio::BitDepth::Int16,
    );
    let mut dr = Driver::new(&d);
    // Playing: the status bar shows the id.
    dr.send(genhist::ui::event::Event::Player(
        genhist::playback::PlayerEvent::Status(genhist::playback::Status {
            state: genhist::playback::PlayState::Playing,
            id: Some(id.into()),
            duration: std::time::Duration::from_secs(1),
            ..Default::default()
        }),
    ));
    // (A wide character is followed by an empty cell on screen.)
    let screen = screen_text(&dr.app, 120, 40).replace(' ', "");
    assert!(screen.contains("a日本語-"), "{screen}");
    dr.keys("d");
    let screen = screen_text(&dr.app, 120, 40).replace(' ', "");
    assert!(screen.contains("a日本語-take"), "{screen}");
    dr.keys("n");
    run(&d, &["list"]).success();
    run(&d, &["show", "a日本語"]).success();
}

/// Case 14: something in the trash that is not a batch is skipped and
/// named; the batches are purged.
#[test]
fn strays_in_the_trash_are_skipped_and_named() {
    let (_t, d, ids) = takes_dir(2);
    run(&d, &["delete", &ids[0]]).success();
    let trash = d.join(".genhist/trash");
    fs::write(trash.join("Thumbs.db"), b"x").unwrap();
    std::os::unix::fs::symlink("/etc", trash.join("link")).unwrap();
    let out = run(&d, &["trash", "list"]).success().get_output().clone();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("skipped Thumbs.db") && text.contains("skipped link"),
        "{text}"
    );
    let out = run(&d, &["trash", "purge", "--all"])
        .success()
        .get_output()
        .clone();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("purged 1 batch") && text.contains("Thumbs.db"),
        "{text}"
    );
    assert_eq!(batches(&d), ["Thumbs.db", "link"]);
    assert!(fs::metadata("/etc").unwrap().is_dir());
}

/// Peak memory of a finished child, in KiB.
#[allow(clippy::zombie_processes)] // reaped by wait4 below
fn max_rss_kib(mut cmd: std::process::Command) -> (std::process::ExitStatus, i64) {
    let child = cmd.spawn().unwrap();
    let pid = child.id() as i32;
    let mut status = 0;
    // SAFETY: wait4 on our own child, with valid pointers.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    (
        std::os::unix::process::ExitStatusExt::from_raw(status),
        usage.ru_maxrss,
    )
}

/// Case 16: adding a large WAV streams it (memory does not grow with the
/// file); so do the waveform pass and the analysis.
#[test]
fn a_large_wav_is_added_in_bounded_memory() {
    let (t, d, _) = takes_dir(1);
    // 96 MiB of 16-bit stereo at 48 kHz (~9 minutes), mostly a hole; a
    // whole read would take three times that.
    let big = t.path().join("big.wav");
    let data: u32 = 96 << 20;
    let mut h = Vec::new();
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(36 + data).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&48_000u32.to_le_bytes());
    h.extend_from_slice(&(48_000u32 * 4).to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&16u16.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data.to_le_bytes());
    let f = fs::File::create(&big).unwrap();
    std::io::Write::write_all(&mut &f, &h).unwrap();
    f.set_len(h.len() as u64 + data as u64).unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_genhist"));
    cmd.env("XDG_CONFIG_HOME", "/nonexistent")
        .args(["--dir", dir_str(&d), "add"])
        .arg(&big)
        .args(["--model-id", "big"])
        .stdout(std::process::Stdio::null());
    let (status, kib) = max_rss_kib(cmd);
    assert!(status.success());
    assert!(kib < 64 * 1024, "add peaked at {} MiB", kib / 1024);
    // The waveform of that take, read as the browser's worker reads it.
    let h = genhist::store::GenerationHistory::open(&d).unwrap();
    let e = h.entries().iter().find(|e| e.model_id() == "big").unwrap();
    assert!((e.duration_s - (data as f64 / 4.0 / 48_000.0)).abs() < 1e-3);
    // Its analysis (loudness, true peak, spectrum, peaks) streams too.
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_genhist"));
    cmd.env("XDG_CONFIG_HOME", "/nonexistent")
        .args(["--dir", dir_str(&d), "analyze", &e.entry_id])
        .stdout(std::process::Stdio::null());
    let (status, kib) = max_rss_kib(cmd);
    assert!(status.success());
    assert!(kib < 64 * 1024, "analyze peaked at {} MiB", kib / 1024);
}

/// Case 17: messages say what is true: a file absent from the trash is not
/// said to stay there; a header claiming 4 GB plays as long as its data;
/// the A/B view says why it cannot match levels; CLI purges are purges.
#[test]
fn messages_say_what_is_true() {
    let (_t, d, ids) = takes_dir(3);
    run(&d, &["delete", &ids[0]]).success();
    let batch = batches(&d).pop().unwrap();
    let trashed = d
        .join(".genhist/trash")
        .join(&batch)
        .join(format!("files/audio/{}.wav", ids[0]));
    fs::remove_file(&trashed).unwrap();
    let out = run(&d, &["undo"]).code(1).get_output().clone();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("the trash does not hold it either") && !text.contains("stays in"),
        "{text}"
    );
    // The A/B view with a take whose WAV is gone.
    fs::remove_file(wav_of(&d, &ids[1])).ok();
    let mut dr = Driver::new(&d);
    dr.command(&format!("ab {} {}", ids[1], ids[2]));
    dr.keys("L");
    dr.wait("both waveforms", |a| {
        matches!(&a.mode, genhist::ui::app::Mode::Compare(c)
            if !matches!(a.level(c), genhist::ui::app::LevelMatch::Reading))
    });
    let screen = screen_text(&dr.app, 120, 40);
    assert!(
        screen.contains("level matching off") && screen.contains("A cannot be measured"),
        "{screen}"
    );
}

/// Case 17 (cont.): a WAV whose header claims 4 GB shows its real length.
#[test]
fn a_header_claiming_4gb_plays_for_as_long_as_its_data() {
    let t = tempfile::tempdir().unwrap();
    let wav = t.path().join("x.wav");
    write_sine(&wav, 48_000, 2, 1.0, genhist::audio::BitDepth::Int16);
    let mut b = fs::read(&wav).unwrap();
    let at = b.windows(4).position(|w| w == b"data").unwrap();
    b[at + 4..at + 8].copy_from_slice(&u32::MAX.to_le_bytes());
    fs::write(&wav, &b).unwrap();
    let src = genhist::playback::Source::open(&wav).unwrap();
    let p = genhist::playback::decode::probe(&src).unwrap();
    assert!((p.duration.as_secs_f64() - 1.0).abs() < 0.01, "{p:?}");
    // A file cut short of what its header says is an error that says so.
    let cut = t.path().join("cut.wav");
    write_sine(&cut, 48_000, 1, 1.5, genhist::audio::BitDepth::Int16);
    let f = fs::OpenOptions::new().write(true).open(&cut).unwrap();
    f.set_len(100).unwrap();
    let e = genhist::playback::decode::probe(&genhist::playback::Source::open(&cut).unwrap())
        .unwrap_err();
    assert!(e.contains("truncated") && e.contains("1.5 s"), "{e}");
}

/// A writer that takes no lock (the Python tool) replacing the index in
/// the moment before genhist puts its own in place loses nothing.
#[test]
fn a_lock_free_writer_in_the_last_moment_loses_nothing() {
    for args in [vec!["delete"], vec!["undo"]] {
        let (_t, d, ids) = takes_dir(3);
        if args[0] == "undo" {
            run(&d, &["delete", &ids[0]]).success();
        }
        let mut a: Vec<&str> = args.clone();
        if args[0] == "delete" {
            a.push(&ids[1]);
        }
        let out = run_fault(&d, "writer@index-before-replace", &a);
        assert!(out.status.success(), "{args:?}: {out:?}");
        let now = index_ids(&d);
        assert!(now.contains(&"lockfree-0".to_string()), "{args:?}: {now:?}");
        if args[0] == "delete" {
            assert!(!now.contains(&ids[1]));
        } else {
            assert!(now.contains(&ids[0]));
        }
    }
}

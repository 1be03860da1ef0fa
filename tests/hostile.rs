//! What an adversarial pass over the corners found, one test per finding:
//! each of these lost data, crashed or misled on the code before its fix.

mod common;

use common::*;
use std::fs;
use std::path::Path;

fn stderr_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

fn stdout_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

fn png_of(d: &Path, id: &str) -> std::path::PathBuf {
    d.join(format!("thumbnails/{id}.png"))
}

fn manifest_path(d: &Path, batch: &str) -> std::path::PathBuf {
    d.join(".genhist/trash").join(batch).join("manifest.json")
}

fn with_config(t: &Path, text: &str) -> std::path::PathBuf {
    let config = t.join("config");
    fs::create_dir_all(config.join("genhist")).unwrap();
    fs::write(config.join("genhist/config.toml"), text).unwrap();
    config
}

/// Another program put a deleted entry back (an old copy of the index):
/// the undo puts the take's files back too, and leaves nothing in the
/// trash for retention to purge.
#[test]
fn an_undo_brings_the_files_of_an_entry_already_back() {
    let (_t, d, ids) = takes_dir(3);
    let wav = fs::read(wav_of(&d, &ids[0])).unwrap();
    let old = fs::read(d.join("history.json")).unwrap();
    run(&d, &["delete", &ids[0]]).success();
    fs::write(d.join("h.tmp"), &old).unwrap();
    fs::rename(d.join("h.tmp"), d.join("history.json")).unwrap();
    run(&d, &["undo"]).success();
    assert_eq!(fs::read(wav_of(&d, &ids[0])).unwrap(), wav);
    assert!(png_of(&d, &ids[0]).is_file());
    assert!(batches(&d).is_empty(), "{:?}", batches(&d));
}

/// A batch whose manifest does not list a file it holds: the undo restores
/// what it lists and keeps the batch (the file is never removed).
#[test]
fn a_file_the_manifest_does_not_list_stays_in_the_trash() {
    let (_t, d, ids) = takes_dir(2);
    let wav = fs::read(wav_of(&d, &ids[0])).unwrap();
    run(&d, &["delete", &ids[0]]).success();
    let batch = batches(&d).remove(0);
    let path = manifest_path(&d, &batch);
    let mut m: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    let files = m["entries"][0]["files"].as_array_mut().unwrap();
    let wav_file = files
        .iter_mut()
        .find(|f| f["field"] == "audio_file")
        .unwrap();
    wav_file["path"] = "audio/typo.wav".into();
    fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
    let out = run(&d, &["undo"]);
    assert!(index_ids(&d).contains(&ids[0]));
    let kept = d
        .join(".genhist/trash")
        .join(&batch)
        .join(format!("files/audio/{}.wav", ids[0]));
    assert_eq!(fs::read(&kept).unwrap(), wav, "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("does not list"),
        "{}",
        stderr_of(&out)
    );
}

/// A manifest whose stored text lacks fields the Python tool needs is
/// never restored into the index (the tool would erase every take).
#[test]
fn a_stored_text_the_python_tool_cannot_load_is_not_restored() {
    let (_t, d, ids) = takes_dir(2);
    run(&d, &["delete", &ids[0]]).success();
    let batch = batches(&d).remove(0);
    let path = manifest_path(&d, &batch);
    let mut m: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    m["entries"][0]["text"] = format!("{{\"entry_id\": \"{}\"}}", ids[0]).into();
    fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
    let before = fs::read(d.join("history.json")).unwrap();
    let out = run(&d, &["undo"]).failure();
    assert!(
        stderr_of(&out).contains("Python tool could not load"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(fs::read(d.join("history.json")).unwrap(), before);
    // An unknown field is refused the same way.
    m["entries"][0]["text"] = serde_json::to_string(&{
        let mut e = entry_json(
            &ids[0],
            "2026-11-20T10:00:00+00:00",
            &format!("audio/{}.wav", ids[0]),
            &format!("thumbnails/{}.png", ids[0]),
        );
        e["evil"] = 1.into();
        e
    })
    .unwrap()
    .into();
    fs::write(&path, serde_json::to_vec(&m).unwrap()).unwrap();
    let out = run(&d, &["undo"]).failure();
    assert!(stderr_of(&out).contains("'evil'"), "{}", stderr_of(&out));
    assert_eq!(fs::read(d.join("history.json")).unwrap(), before);
}

/// A batch dated in the future (a clock that was wrong, or went back):
/// undo still restores the delete just made, retention purges nothing
/// newer, and without a journal the newest batch is still the newest made.
#[test]
fn a_batch_from_the_future_changes_nothing() {
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
    let wavs: Vec<Vec<u8>> = ids
        .iter()
        .map(|i| fs::read(wav_of(&d, i)).unwrap())
        .collect();
    g(&["delete", &ids[0]]).success();
    let trash = d.join(".genhist/trash");
    fs::rename(
        trash.join(batches(&d).remove(0)),
        trash.join("29991231T235959.999999Z-aaaaaaaa"),
    )
    .unwrap();
    g(&["delete", &ids[1]]).success();
    g(&["undo"]).success();
    assert_eq!(fs::read(wav_of(&d, &ids[1])).unwrap(), wavs[1]);
    // Without the journal, the newest batch made is restored.
    g(&["delete", &ids[2]]).success();
    fs::remove_file(d.join(".genhist/journal.json")).unwrap();
    g(&["undo"]).success();
    assert_eq!(fs::read(wav_of(&d, &ids[2])).unwrap(), wavs[2]);
    // The future batch is whole: its take comes back last.
    g(&["undo"]).success();
    assert_eq!(fs::read(wav_of(&d, &ids[0])).unwrap(), wavs[0]);
}

/// Trees a batch should never hold (a name that is not UTF-8, 6000 levels
/// of directories) are listed, sized and purged without a crash.
#[test]
fn odd_trees_inside_a_batch_are_listed_and_purged() {
    use rustix::fs::{mkdirat, openat, Mode, OFlags};
    let (_t, d, ids) = takes_dir(2);
    run(&d, &["delete", &ids[0]]).success();
    let batch = d.join(".genhist/trash").join(batches(&d).remove(0));
    let flags = OFlags::RDONLY | OFlags::DIRECTORY;
    let top = openat(rustix::fs::CWD, &batch, flags, Mode::empty()).unwrap();
    mkdirat(&top, b"\xff".as_slice(), Mode::from_raw_mode(0o755)).unwrap();
    let odd = openat(&top, b"\xff".as_slice(), flags, Mode::empty()).unwrap();
    mkdirat(&odd, "inner", Mode::from_raw_mode(0o755)).unwrap();
    let mut cur = openat(&top, "files", flags, Mode::empty()).unwrap();
    for _ in 0..6000 {
        mkdirat(&cur, "d", Mode::from_raw_mode(0o755)).unwrap();
        cur = openat(&cur, "d", flags, Mode::empty()).unwrap();
    }
    drop(cur);
    let listed = run(&d, &["trash", "list"]).success();
    assert!(
        stdout_of(&listed).contains("1 take"),
        "{}",
        stdout_of(&listed)
    );
    run(&d, &["stats"]).success();
    run(&d, &["trash", "purge", "--all"]).success();
    assert!(batches(&d).is_empty(), "{:?}", batches(&d));
    // Nothing is left for recovery to trip on.
    let out = run(&d, &["rate", &ids[1], "3"]).success();
    assert!(
        !stderr_of(&out).contains("could not"),
        "{}",
        stderr_of(&out)
    );
}

/// One batch recovery cannot finish does not stop the others: the ratings
/// of a killed undo still come back, and the stuck batch is named.
#[test]
fn recovery_goes_on_past_a_batch_it_cannot_finish() {
    let (_t, d, ids) = takes_dir(2);
    run(&d, &["rate", &ids[0], "4"]).success();
    run(&d, &["delete", &ids[0]]).success();
    let out = run_fault(&d, "kill@undo-before-annotations", &["undo"]);
    assert!(was_killed(&out), "{out:?}");
    fs::write(d.join(".genhist/trash/.pending-junk"), b"not a batch").unwrap();
    let out = run(&d, &["list"]).success();
    assert_eq!(annotations(&d)["takes"][&ids[0]]["rating"], 4);
    let err = stderr_of(&out);
    assert!(
        err.contains("could not finish an interrupted delete"),
        "{err}"
    );
    assert!(err.contains("finished an interrupted undo"), "{err}");
}

/// After a killed undo, the next `undo` says what recovery finished and
/// that the delete is already undone; it does not undo anything else.
#[test]
fn the_undo_after_a_killed_undo_says_what_happened() {
    let (_t, d, ids) = takes_dir(2);
    run(&d, &["rate", &ids[1], "2"]).success();
    run(&d, &["delete", &ids[0]]).success();
    let out = run_fault(&d, "kill@undo-before-annotations", &["undo"]);
    assert!(was_killed(&out), "{out:?}");
    let out = run(&d, &["undo"]).success();
    assert!(
        stderr_of(&out).contains("note: finished an interrupted undo"),
        "{}",
        stderr_of(&out)
    );
    assert!(
        stdout_of(&out).contains("already undone"),
        "{}",
        stdout_of(&out)
    );
    // The rating made before is still there; the next undo takes it back.
    assert_eq!(annotations(&d)["takes"][&ids[1]]["rating"], 2);
    run(&d, &["undo"]).success();
    assert!(annotations(&d)["takes"].get(&ids[1]).is_none());
}

/// A WAV header with an absurd sample rate is refused with a message,
/// never a panic.
#[test]
fn a_huge_sample_rate_is_refused() {
    let (t, d, _) = takes_dir(1);
    let mut w = Vec::new();
    let data = [0u8; 8];
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes()); // PCM
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&u32::MAX.to_le_bytes()); // rate
    w.extend_from_slice(&u32::MAX.to_le_bytes()); // byte rate
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&(data.len() as u32).to_le_bytes());
    w.extend_from_slice(&data);
    let wav = t.path().join("odd.wav");
    fs::write(&wav, &w).unwrap();
    let before = fs::read(d.join("history.json")).unwrap();
    let out = run(&d, &["add", wav.to_str().unwrap()]).failure();
    let err = stderr_of(&out);
    assert!(err.contains("sample rate of 4294967295 Hz"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(fs::read(d.join("history.json")).unwrap(), before);
}

/// Without a journal, an unreadable newest batch is skipped with a note,
/// and leftovers that cannot be undone are said to be there.
#[test]
fn undo_says_which_batches_it_skipped() {
    let (_t, d, ids) = takes_dir(3);
    run(&d, &["delete", &ids[0]]).success();
    run(&d, &["delete", &ids[1]]).success();
    fs::remove_file(d.join(".genhist/journal.json")).unwrap();
    let newest = batches(&d).pop().unwrap();
    fs::write(manifest_path(&d, &newest), b"{").unwrap();
    let out = run(&d, &["undo"]).success();
    assert!(
        stderr_of(&out).contains("no readable manifest; skipped"),
        "{}",
        stderr_of(&out)
    );
    assert!(index_ids(&d).contains(&ids[0]));
    let out = run(&d, &["undo"]).failure();
    assert!(
        stderr_of(&out).contains("cannot be undone"),
        "{}",
        stderr_of(&out)
    );
}

/// `list` with options that match nothing says so (not "no takes").
#[test]
fn a_list_that_matches_nothing_says_why() {
    let (_t, d, _) = takes_dir(2);
    let out = run(&d, &["list", "--model", "nosuch"]).success();
    assert!(
        stdout_of(&out).contains("no take matches --model 'nosuch'"),
        "{}",
        stdout_of(&out)
    );
}

/// Annotation members of kinds genhist does not write are never written
/// over: tags that are not text stay, a member of another kind stops the
/// edit with a message.
#[test]
fn annotations_of_other_kinds_are_kept() {
    let (_t, d, ids) = takes_dir(3);
    fs::create_dir_all(d.join(".genhist")).unwrap();
    let ann = serde_json::json!({
        "version": 1,
        "takes": {
            ids[0].clone(): {"tags": ["a", 5, {"k": 1}]},
            ids[1].clone(): {"tags": "precious"},
            ids[2].clone(): "precious"
        }
    });
    let path = d.join(".genhist/annotations.json");
    fs::write(&path, serde_json::to_vec(&ann).unwrap()).unwrap();
    run(&d, &["tag", &ids[0], "+new"]).success();
    let a = annotations(&d);
    assert_eq!(
        a["takes"][&ids[0]]["tags"],
        serde_json::json!(["a", "new", 5, {"k": 1}])
    );
    let before = fs::read(&path).unwrap();
    for id in &ids[1..] {
        let out = run(&d, &["tag", id, "+new"]).failure();
        assert!(
            stderr_of(&out).contains("does not write over"),
            "{}",
            stderr_of(&out)
        );
        assert_eq!(fs::read(&path).unwrap(), before);
    }
}

/// Text that rearranges or piles up on a terminal is cleaned before it is
/// shown: separators, invisible format characters, long runs of marks.
#[test]
fn separators_and_mark_pile_ups_are_cleaned() {
    use genhist::text::sanitize;
    for bad in ['\u{2028}', '\u{2029}', '\u{85}', '\u{feff}', '\u{200b}'] {
        let s = format!("a{bad}b");
        assert_eq!(sanitize(&s), "a\u{fffd}b", "{bad:?}");
    }
    let zalgo = format!("x{}", "\u{0301}".repeat(40));
    assert_eq!(sanitize(&zalgo).chars().count(), 4);
    // Real text is left alone.
    for ok in ["Ελληνικά", "日本語", "e\u{0301}", "Ảnh"] {
        assert!(
            matches!(sanitize(ok), std::borrow::Cow::Borrowed(_)),
            "{ok}"
        );
    }
}

/// A line of the command history far longer than any command is left out
/// when the file is read, so recalling it can never stall the bar.
#[test]
fn an_endless_history_line_is_left_out() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join(".genhist_history");
    let long = "x".repeat(8 << 20);
    fs::write(&path, format!(":rate 3\n{long}\n:tag +a\n")).unwrap();
    let mut h = genhist::command_history::CommandHistory::at_path(path, 100);
    assert_eq!(h.len(), 2);
    assert_eq!(h.previous().as_deref(), Some(":tag +a"));
    assert_eq!(h.previous().as_deref(), Some(":rate 3"));
}

// ------------------------------------------------ a pass over undo and export

/// A symlink named like a manifest in the destination is never written
/// through (it could lead to the index); nor is a command history that is
/// a symlink.
#[test]
fn no_write_goes_through_a_symlink_someone_left() {
    let (t, d, ids) = takes_dir(2);
    let index = fs::read(d.join("history.json")).unwrap();
    let dest = t.path().join("out");
    fs::create_dir_all(&dest).unwrap();
    std::os::unix::fs::symlink(d.join("history.json"), dest.join("manifest.csv")).unwrap();
    let out = run(&d, &["export", dest.to_str().unwrap(), &ids[0]]).failure();
    assert!(
        stdout_of(&out).contains("manifest not written"),
        "{}",
        stdout_of(&out)
    );
    assert_eq!(fs::read(d.join("history.json")).unwrap(), index);
    // The command bar's history.
    let h = d.join(".genhist_history");
    std::os::unix::fs::symlink(d.join("history.json"), &h).unwrap();
    let mut history = genhist::command_history::CommandHistory::at_path(h, 10);
    history.add(":rate 3");
    assert_eq!(fs::read(d.join("history.json")).unwrap(), index);
}

/// `add` refuses a quality score nested deeper than any reader of the index
/// takes back, and integers that are not integers.
#[test]
fn add_refuses_what_the_index_could_not_hold() {
    let (t, d, ids) = takes_dir(1);
    let deep = format!(
        "{{\"model_id\": \"m\", \"quality_score\": {}1{}}}",
        "{\"a\": ".repeat(100),
        "}".repeat(100)
    );
    let p = t.path().join("p.json");
    fs::write(&p, deep).unwrap();
    let before = fs::read(d.join("history.json")).unwrap();
    let wav = wav_of(&d, &ids[0]);
    let out = run(
        &d,
        &[
            "add",
            wav.to_str().unwrap(),
            "--params",
            p.to_str().unwrap(),
        ],
    )
    .failure();
    assert!(stderr_of(&out).contains("nested"), "{}", stderr_of(&out));
    for bad in [
        "{\"model_id\": \"m\", \"seed\": 1.5}",
        "{\"model_id\": \"m\", \"n_components\": -1}",
    ] {
        fs::write(&p, bad).unwrap();
        run(
            &d,
            &[
                "add",
                wav.to_str().unwrap(),
                "--params",
                p.to_str().unwrap(),
            ],
        )
        .failure();
    }
    assert_eq!(fs::read(d.join("history.json")).unwrap(), before);
    run(&d, &["list"]).success();
}

/// An action that cannot be undone any more (its take purged for good)
/// leaves the journal with a message that says so; the undo after it
/// reaches the older decisions.
#[test]
fn a_stale_action_does_not_jam_undo() {
    let (_t, d, ids) = takes_dir(2);
    run(&d, &["rate", &ids[1], "2"]).success();
    run(&d, &["rate", &ids[0], "3"]).success();
    run(&d, &["delete", &ids[0]]).success();
    run(&d, &["trash", "purge", "--all"]).success();
    let out = run(&d, &["undo"]).failure();
    let err = stderr_of(&out);
    assert!(
        err.contains("no longer in the history") && err.contains("leaves the journal"),
        "{err}"
    );
    assert!(!err.contains("another program"), "{err}");
    run(&d, &["undo"]).success();
    assert!(annotations(&d)["takes"].get(&ids[1]).is_none());
}

/// A redo killed after the index was written is done: the next redo says
/// so, and undo brings the take back from the batch the redo made. A delete
/// killed before it wrote the journal is recorded by recovery.
#[test]
fn killed_redos_and_deletes_stay_undoable() {
    let (_t, d, ids) = takes_dir(3);
    run(&d, &["delete", &ids[0]]).success();
    run(&d, &["undo"]).success();
    let out = run_fault(&d, "kill@index-exchanged", &["redo"]);
    assert!(was_killed(&out), "{out:?}");
    // The next command finishes it, and it is the redo done.
    let out = run(&d, &["redo"]).failure();
    assert!(
        stderr_of(&out).contains("finished an interrupted delete")
            && stderr_of(&out).contains("nothing to redo"),
        "{}",
        stderr_of(&out)
    );
    assert!(!index_ids(&d).contains(&ids[0]));
    run(&d, &["undo"]).success();
    assert!(index_ids(&d).contains(&ids[0]) && wav_of(&d, &ids[0]).is_file());
    // A delete killed in the same place, with an older rating in the journal.
    run(&d, &["rate", &ids[2], "4"]).success();
    let out = run_fault(&d, "kill@index-exchanged", &["delete", &ids[1]]);
    assert!(was_killed(&out), "{out:?}");
    let out = run(&d, &["undo"]).success();
    assert!(
        stdout_of(&out).contains("undid delete of"),
        "{}",
        stdout_of(&out)
    );
    assert!(index_ids(&d).contains(&ids[1]) && wav_of(&d, &ids[1]).is_file());
    assert_eq!(annotations(&d)["takes"][&ids[2]]["rating"], 4);
}

/// A copy cut short (a crash, a full disk, by hand) is not "there
/// already": exporting again writes it whole.
#[test]
fn a_cut_copy_is_written_again() {
    let (t, d, ids) = takes_dir(1);
    let dest = t.path().join("out");
    run(
        &d,
        &["export", dest.to_str().unwrap(), &ids[0], "--name", "x"],
    )
    .success();
    let whole = fs::read(dest.join("x.wav")).unwrap();
    let f = fs::OpenOptions::new()
        .write(true)
        .open(dest.join("x.wav"))
        .unwrap();
    f.set_len(whole.len() as u64 - 100).unwrap();
    let out = run(
        &d,
        &[
            "export",
            dest.to_str().unwrap(),
            &ids[0],
            "--name",
            "x",
            "--overwrite",
        ],
    )
    .success();
    assert!(
        stdout_of(&out).contains("wrote x.wav"),
        "{}",
        stdout_of(&out)
    );
    assert_eq!(fs::read(dest.join("x.wav")).unwrap().len(), whole.len());
    // Without --overwrite it is named, not counted as done.
    let f = fs::OpenOptions::new()
        .write(true)
        .open(dest.join("x.wav"))
        .unwrap();
    f.set_len(whole.len() as u64 - 100).unwrap();
    let out = run(
        &d,
        &["export", dest.to_str().unwrap(), &ids[0], "--name", "x"],
    )
    .failure();
    assert!(
        stdout_of(&out).contains("skipped x.wav"),
        "{}",
        stdout_of(&out)
    );
}

/// A take whose JSON stays too long for libsndfile even without its
/// latent vector still gets an ICMT it can read (the whole take is in
/// genhist's own chunk).
#[test]
fn the_comment_always_fits_libsndfile() {
    let (t, d, _) = takes_dir(1);
    let wav = t.path().join("in.wav");
    write_sine(&wav, 8000, 1, 0.1, genhist::audio::BitDepth::Int16);
    let name = "N".repeat(3000);
    let out = run(
        &d,
        &[
            "add",
            wav.to_str().unwrap(),
            "--model-id",
            "m",
            "--model-name",
            &name,
        ],
    )
    .success();
    let id = stdout_of(&out).trim().to_string();
    let dest = t.path().join("out");
    run(
        &d,
        &["export", dest.to_str().unwrap(), &id, "--name", "long"],
    )
    .success();
    let bytes = fs::read(dest.join("long.wav")).unwrap();
    let at = bytes.windows(4).position(|w| w == b"ICMT").unwrap();
    let n = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
    assert!(n <= 2046, "{n}");
    let text = std::str::from_utf8(&bytes[at + 8..at + 8 + n - 1]).unwrap();
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(v["entry_id"], id.as_str());
    // `add` of it takes the whole take back.
    let out = run(&d, &["add", dest.join("long.wav").to_str().unwrap()]).success();
    let again = stdout_of(&out).trim().to_string();
    let p = stdout_of(&run(&d, &["params", &again, "--json"]).success());
    assert!(p.contains(&name));
}

//! Closing the triage loop: undo and redo of every decision, export of the
//! keepers with their parameters, parameters back to the generator.

mod common;

use common::*;
use proptest::prelude::*;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

fn out_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

fn err_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stderr).into_owned()
}

fn rating(d: &Path, id: &str) -> Value {
    annotations(d)["takes"][id]["rating"].clone()
}

// ---------------------------------------------------------------- undo, redo

/// Each kind of decision is undone and redone from the CLI, newest first,
/// and every undo says what it undid.
#[test]
fn every_kind_of_decision_is_undone_and_redone() {
    let (_t, d, ids) = takes_dir(4);
    run(&d, &["rate", &ids[0], "4"]).success();
    run(&d, &["reject", &ids[1]]).success();
    run(&d, &["tag", &ids[2], "+kick", "+dark"]).success();
    run(&d, &["note", &ids[2], "--", "too", "loud"]).success();
    run(&d, &["delete", &ids[3]]).success();
    run(&d, &["purge"]).success();
    assert!(!index_ids(&d).contains(&ids[1]));
    let listed = out_of(&run(&d, &["undo", "--list"]).success());
    for what in [
        "purge of",
        "delete of",
        "note on",
        "tags on",
        "reject on",
        "★★★★☆ on",
    ] {
        assert!(listed.contains(what), "{what}: {listed}");
    }
    // Undo all six, newest first.
    let says = [
        "undid purge of",
        "undid delete of",
        "undid note on",
        "undid tags on",
        "undid reject on",
        "undid ★★★★☆ on",
    ];
    for s in says {
        let o = out_of(&run(&d, &["undo"]).success());
        assert!(o.contains(s), "{s}: {o}");
    }
    assert!(index_ids(&d).contains(&ids[1]) && index_ids(&d).contains(&ids[3]));
    assert!(wav_of(&d, &ids[3]).is_file());
    assert_eq!(annotations(&d)["takes"], serde_json::json!({}));
    let o = err_of(&run(&d, &["undo"]).failure());
    assert!(o.contains("nothing to undo"), "{o}");
    // Redo all six, oldest first.
    for s in says.iter().rev() {
        let o = out_of(&run(&d, &["redo"]).success());
        assert!(o.contains(&s.replace("undid", "redid")), "{s}: {o}");
    }
    assert_eq!(rating(&d, &ids[0]), 4);
    assert_eq!(annotations(&d)["takes"][&ids[2]]["note"], "too loud");
    assert!(!index_ids(&d).contains(&ids[3]) && !index_ids(&d).contains(&ids[1]));
    let o = err_of(&run(&d, &["redo"]).failure());
    assert!(o.contains("nothing to redo"), "{o}");
}

/// A new decision after an undo drops what could have been redone.
#[test]
fn a_new_decision_ends_the_redo() {
    let (_t, d, ids) = takes_dir(2);
    run(&d, &["rate", &ids[0], "2"]).success();
    run(&d, &["undo"]).success();
    run(&d, &["rate", &ids[1], "5"]).success();
    run(&d, &["redo"]).failure();
    assert!(annotations(&d)["takes"].get(&ids[0]).is_none());
}

/// A repair is undone like a delete: the takes come back.
#[test]
fn a_repair_is_undone() {
    let (_t, d, ids) = takes_dir(2);
    let wav = fs::read(wav_of(&d, &ids[0])).unwrap();
    fs::remove_file(wav_of(&d, &ids[0])).unwrap();
    run(&d, &["repair"]).success();
    assert!(!index_ids(&d).contains(&ids[0]));
    fs::write(wav_of(&d, &ids[0]), &wav).unwrap();
    let o = out_of(&run(&d, &["undo"]).success());
    assert!(o.contains("undid repair of"), "{o}");
    assert!(index_ids(&d).contains(&ids[0]));
}

/// An annotation another program changed since is not undone: undo says
/// so and changes nothing.
#[test]
fn undo_leaves_an_annotation_another_program_changed() {
    let (_t, d, ids) = takes_dir(2);
    run(&d, &["rate", &ids[0], "4"]).success();
    let path = d.join(".genhist/annotations.json");
    let mut a = annotations(&d);
    a["takes"][&ids[0]]["rating"] = 2.into();
    fs::write(&path, serde_json::to_vec(&a).unwrap()).unwrap();
    let before = fs::read(&path).unwrap();
    let o = err_of(&run(&d, &["undo"]).failure());
    assert!(o.contains("changed since"), "{o}");
    assert_eq!(fs::read(&path).unwrap(), before);
}

/// In the browser: `u` takes back a rating made in culling mode, the
/// selection goes back to that take and it plays again; Ctrl-r redoes it;
/// and the journal outlives a restart.
#[test]
fn u_in_culling_mode_goes_back_to_the_take_and_plays_it() {
    let (_t, d, ids) = takes_dir(4);
    let mut dr = Driver::new(&d);
    let first = dr.selected();
    dr.keys("c");
    dr.keys("4");
    dr.settle();
    assert_ne!(dr.selected(), first, "culling moved on");
    dr.played.clear();
    dr.keys("u");
    dr.wait("the undo", |a| a.busy.is_none());
    dr.settle();
    assert_eq!(dr.selected(), first);
    assert!(
        dr.message().starts_with("undid ★★★★☆ on "),
        "{}",
        dr.message()
    );
    assert!(
        dr.played.iter().any(|c| matches!(c,
            genhist::playback::PlayerCmd::Open { id, .. } if *id == first)),
        "{:?}",
        dr.played
    );
    assert!(annotations(&d)["takes"].get(&first).is_none());
    dr.keys("<C-r>");
    dr.wait("the redo", |a| a.busy.is_none());
    dr.settle();
    assert_eq!(rating(&d, &first), 4);
    assert!(dr.message().starts_with("redid ★★★★☆"), "{}", dr.message());
    // A new browser on the same directory undoes it.
    drop(dr);
    let mut dr = Driver::new(&d);
    dr.command("undo");
    dr.wait("the undo", |a| a.busy.is_none());
    dr.settle();
    assert!(annotations(&d)["takes"].get(&first).is_none());
    assert!(ids.contains(&first));
}

// -------------------------------------------------------------------- export

/// An independent reading of a RIFF file: its chunks, in order.
fn chunks(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(&bytes[8..12], b"WAVE");
    let riff = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    assert_eq!(riff, bytes.len() - 8, "the RIFF size");
    let mut out = Vec::new();
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let id = String::from_utf8_lossy(&bytes[at..at + 4]).into_owned();
        let size = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        out.push((id, bytes[at + 8..at + 8 + size].to_vec()));
        at += 8 + size + size % 2;
    }
    out
}

fn info_of(bytes: &[u8]) -> std::collections::HashMap<String, String> {
    let mut m = std::collections::HashMap::new();
    for (id, body) in chunks(bytes) {
        if id == "LIST" && &body[..4] == b"INFO" {
            let mut at = 4;
            while at + 8 <= body.len() {
                let k = String::from_utf8_lossy(&body[at..at + 4]).into_owned();
                let n = u32::from_le_bytes(body[at + 4..at + 8].try_into().unwrap()) as usize;
                let v = &body[at + 8..at + 8 + n];
                let v = v.split(|&b| b == 0).next().unwrap();
                m.insert(k, String::from_utf8(v.to_vec()).unwrap());
                at += 8 + n + n % 2;
            }
        }
    }
    m
}

fn export_dir() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("keepers");
    (t, p)
}

/// Copies keep `fmt ` and `data` byte for byte and carry the take in an
/// INFO list: INAM the name, ICMT the take as JSON, ISFT and ICRD.
#[test]
fn an_exported_wav_carries_its_take_and_keeps_its_audio() {
    let (_t, d, ids) = takes_dir(2);
    run(&d, &["rate", &ids[0], "5"]).success();
    let (_o, dest) = export_dir();
    run(&d, &["export", dest.to_str().unwrap(), &ids[0]]).success();
    let name = "Model t000_custom_42_t0000-01";
    let bytes = fs::read(dest.join(format!("{name}.wav"))).unwrap();
    let src = fs::read(wav_of(&d, &ids[0])).unwrap();
    let pick = |c: &[(String, Vec<u8>)], id: &str| {
        c.iter()
            .find(|(i, _)| i == id)
            .map(|(_, b)| b.clone())
            .unwrap()
    };
    let (a, b) = (chunks(&src), chunks(&bytes));
    assert_eq!(pick(&a, "fmt "), pick(&b, "fmt "));
    assert_eq!(pick(&a, "data"), pick(&b, "data"));
    let info = info_of(&bytes);
    assert_eq!(info["INAM"], name);
    assert!(info["ISFT"].starts_with("genhist "));
    assert_eq!(info["ICRD"].len(), 10);
    let take: Value = serde_json::from_str(&info["ICMT"]).unwrap();
    assert_eq!(take["entry_id"], ids[0].as_str());
    assert_eq!(take["seed"], 42);
    assert_eq!(take["annotations"]["rating"], 5);
}

/// Names come from the template, made safe; takes that would share a name
/// get -2, -3; the manifest has a row per file; a second export into the
/// same place merges its rows.
#[test]
fn names_collisions_and_the_manifest() {
    let (_t, d, ids) = takes_dir(3);
    run(&d, &["tag", &ids[1], "+keep"]).success();
    let (_o, dest) = export_dir();
    let o = run(
        &d,
        &[
            "export",
            dest.to_str().unwrap(),
            "--all",
            "--name",
            "../{model_id}:{seed}",
        ],
    )
    .success();
    let mut names: Vec<String> = fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "m_42-2.wav",
            "m_42-3.wav",
            "m_42.wav",
            "manifest.csv",
            "manifest.json"
        ],
        "{}",
        out_of(&o)
    );
    let m: Value = serde_json::from_slice(&fs::read(dest.join("manifest.json")).unwrap()).unwrap();
    let rows = m["files"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let row = rows
        .iter()
        .find(|r| r["entry_id"] == ids[1].as_str())
        .unwrap();
    assert_eq!(row["file"], "m_42-2.wav");
    assert_eq!(row["tags"], serde_json::json!(["keep"]));
    assert_eq!(row["quality_score.snr_db"], 20.5);
    assert_eq!(row["slider_positions"], serde_json::json!([1, 0, -2]));
    let csv = fs::read_to_string(dest.join("manifest.csv")).unwrap();
    assert!(csv.starts_with("file,entry_id,timestamp,model_id"), "{csv}");
    assert_eq!(csv.lines().count(), 4);
    // Again, with another name: the rows of the first export stay.
    run(
        &d,
        &["export", dest.to_str().unwrap(), &ids[0], "--name", "solo"],
    )
    .success();
    let m: Value = serde_json::from_slice(&fs::read(dest.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["files"].as_array().unwrap().len(), 4);
}

/// Nothing in the destination is written over: a file that is there is
/// skipped and named (exit 1), `--overwrite` replaces it; the same take
/// exported again counts as there already.
#[test]
fn nothing_is_overwritten_unless_asked() {
    let (_t, d, ids) = takes_dir(2);
    let (_o, dest) = export_dir();
    fs::create_dir_all(&dest).unwrap();
    fs::write(dest.join("mine.wav"), b"precious").unwrap();
    let o = run(
        &d,
        &["export", dest.to_str().unwrap(), &ids[0], "--name", "mine"],
    )
    .failure();
    assert!(out_of(&o).contains("skipped mine.wav"), "{}", out_of(&o));
    assert_eq!(fs::read(dest.join("mine.wav")).unwrap(), b"precious");
    run(
        &d,
        &[
            "export",
            dest.to_str().unwrap(),
            &ids[0],
            "--name",
            "mine",
            "--overwrite",
        ],
    )
    .success();
    assert_ne!(fs::read(dest.join("mine.wav")).unwrap(), b"precious");
    let o = run(
        &d,
        &["export", dest.to_str().unwrap(), &ids[0], "--name", "mine"],
    )
    .success();
    assert!(
        out_of(&o).contains("there already: mine.wav"),
        "{}",
        out_of(&o)
    );
    // --dry-run writes nothing and says what it would.
    let o = run(
        &d,
        &["export", dest.to_str().unwrap(), &ids[1], "--dry-run"],
    )
    .success();
    assert!(
        out_of(&o).contains("would write Model t000_custom_42_t0001-01.wav"),
        "{}",
        out_of(&o)
    );
    assert!(!dest.join("Model t000_custom_42_t0001-01.wav").exists());
}

/// An export killed part-way (at the third file written, whichever thread
/// gets there) leaves no file under a final name that is not whole;
/// running it again completes what is missing.
#[test]
fn a_killed_export_is_completed_by_the_next() {
    let (_t, d, ids) = takes_dir(4);
    let (_o, dest) = export_dir();
    let out = run_fault(
        &d,
        "kill@export-written#3",
        &["export", dest.to_str().unwrap(), "--all", "--name", "{id}"],
    );
    assert!(was_killed(&out), "{out:?}");
    let finals: Vec<String> = fs::read_dir(&dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert!(finals.len() <= 2, "{finals:?}");
    for f in &finals {
        let bytes = fs::read(dest.join(f)).unwrap();
        assert_eq!(info_of(&bytes)["INAM"], f.trim_end_matches(".wav"));
    }
    let o = run(
        &d,
        &["export", dest.to_str().unwrap(), "--all", "--name", "{id}"],
    )
    .success();
    let already = format!("{} already there", finals.len());
    assert!(
        finals.is_empty() || out_of(&o).contains(&already),
        "{}",
        out_of(&o)
    );
    for id in &ids {
        let bytes = fs::read(dest.join(format!("{id}.wav"))).unwrap();
        assert_eq!(info_of(&bytes)["INAM"], *id);
    }
    assert!(
        leftover_temps(&dest).is_empty(),
        "{:?}",
        leftover_temps(&dest)
    );
}

/// Hard and symbolic links; a place inside the history is refused however
/// it is named (a symlink to it, the takes' folder).
#[test]
fn links_and_places_an_export_refuses() {
    let (t, d, ids) = takes_dir(2);
    let (_o, dest) = export_dir();
    run(
        &d,
        &[
            "export",
            dest.to_str().unwrap(),
            &ids[0],
            "--link",
            "hard",
            "--name",
            "h",
        ],
    )
    .success();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(
        fs::metadata(dest.join("h.wav")).unwrap().ino(),
        fs::metadata(wav_of(&d, &ids[0])).unwrap().ino()
    );
    run(
        &d,
        &[
            "export",
            dest.to_str().unwrap(),
            &ids[0],
            "--link",
            "sym",
            "--name",
            "s",
        ],
    )
    .success();
    assert_eq!(
        fs::canonicalize(dest.join("s.wav")).unwrap(),
        fs::canonicalize(wav_of(&d, &ids[0])).unwrap()
    );
    let alias = t.path().join("alias");
    std::os::unix::fs::symlink(d.join("audio"), &alias).unwrap();
    let before = fs::read(wav_of(&d, &ids[1])).unwrap();
    for place in [
        alias.clone(),
        d.join("audio"),
        d.clone(),
        d.join(".genhist"),
    ] {
        let o = run(
            &d,
            &["export", place.to_str().unwrap(), "--all", "--overwrite"],
        )
        .failure();
        assert!(
            err_of(&o).contains("inside the history directory"),
            "{place:?}: {}",
            err_of(&o)
        );
    }
    // A hard link to a take's file outside the history is not written over.
    let link = dest.join("x.wav");
    fs::hard_link(wav_of(&d, &ids[1]), &link).unwrap();
    let o = run(
        &d,
        &["export", link.to_str().unwrap(), &ids[0], "--overwrite"],
    )
    .failure();
    assert!(out_of(&o).contains("file of a take"), "{}", out_of(&o));
    assert_eq!(fs::read(wav_of(&d, &ids[1])).unwrap(), before);
}

/// In the browser: `:export` takes the marked takes; with none marked and a
/// filter on, the shown ones after y/n; else the selected one. The name
/// comes from the config.
#[test]
fn the_browser_exports_marked_shown_or_selected() {
    let (_t, d, ids) = takes_dir(4);
    let config = genhist::config::parse("[export]\nname = \"{id8}-{n}\"\n").unwrap();
    run(&d, &["rate", &ids[2], "3"]).success();
    run(&d, &["rate", &ids[3], "3"]).success();
    let (_o, dest) = export_dir();
    let mut dr = Driver::new(&d);
    dr.app.configure(config.browser);
    let wait = |dr: &mut Driver| {
        dr.wait("the export", |a| a.exports.running.is_none());
    };
    // Two marked.
    dr.keys("mm");
    dr.command(&format!("export {}", dest.join("marked").display()));
    wait(&mut dr);
    assert!(
        dr.message().contains("exported 2 takes"),
        "{}",
        dr.message()
    );
    assert!(dest.join("marked/t0000-01-001.wav").is_file());
    assert!(dest.join("marked/t0001-01-002.wav").is_file());
    // None marked, a filter on: the shown ones, after y/n.
    dr.keys("<Esc>");
    dr.command("clear");
    dr.command("filter rating>=3");
    dr.settle();
    let shown = dr.rows().len();
    assert_eq!(shown, 2);
    dr.command(&format!("export {}", dest.join("shown").display()));
    assert!(matches!(dr.app.mode, genhist::ui::app::Mode::Confirm(_)));
    dr.keys("y");
    wait(&mut dr);
    assert_eq!(fs::read_dir(dest.join("shown")).unwrap().count(), shown + 2);
    // No filter, nothing marked: the selected take.
    dr.command("clear");
    dr.settle();
    let sel = dr.selected();
    dr.command(&format!("export {}", dest.join("one").display()));
    wait(&mut dr);
    assert!(dest.join(format!("one/{}-001.wav", &sel[..8])).is_file());
    assert_eq!(fs::read_dir(dest.join("one")).unwrap().count(), 3);
    // A filter that happens to show every take still asks.
    dr.command("filter !rejected");
    dr.settle();
    assert_eq!(dr.rows().len(), 4);
    dr.command(&format!("export {}", dest.join("all").display()));
    assert!(matches!(dr.app.mode, genhist::ui::app::Mode::Confirm(_)));
    dr.keys("n");
    // A place inside the history is refused before any question.
    dr.command(&format!("export {}", d.join("audio").display()));
    assert_eq!(dr.app.mode, genhist::ui::app::Mode::Normal);
    assert!(
        dr.message().contains("inside the history"),
        "{}",
        dr.message()
    );
}

// -------------------------------------------------------------- parameters

/// `params` prints what a generator needs and nothing else.
#[test]
fn params_prints_the_generation_parameters() {
    let (_t, d, ids) = takes_dir(1);
    run(&d, &["rate", &ids[0], "3"]).success();
    let o = out_of(&run(&d, &["params", &ids[0], "--json"]).success());
    let v: Value = serde_json::from_str(&o).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "model_id",
            "model_name",
            "slider_positions",
            "n_components",
            "seed",
            "preset_name",
            "stereo_mode",
            "duration_s",
            "sample_rate"
        ]
    );
    let o = out_of(&run(&d, &["params", &ids[0]]).success());
    assert!(o.contains("seed: 42") && !o.contains("rating"), "{o}");
}

/// `add --params` with `show --json` output writes only the seed's fields
/// (annotations and unknown keys are named as ignored), and the Python
/// tool still loads the index; so does `add` of an exported WAV, which
/// takes its parameters from the WAV.
#[test]
fn add_writes_only_the_seeds_fields() {
    let (t, d, ids) = takes_dir(1);
    run(&d, &["rate", &ids[0], "5"]).success();
    let shown = out_of(&run(&d, &["show", &ids[0], "--json"]).success());
    let mut v: Value = serde_json::from_str(&shown).unwrap();
    v["evil"] = 1.into();
    let p = t.path().join("p.json");
    fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
    let o = run(
        &d,
        &[
            "add",
            wav_of(&d, &ids[0]).to_str().unwrap(),
            "--params",
            p.to_str().unwrap(),
        ],
    )
    .success();
    assert!(
        err_of(&o).contains("ignored") && err_of(&o).contains("annotations, evil"),
        "{}",
        err_of(&o)
    );
    let new = out_of(&o).trim().to_string();
    let text = fs::read_to_string(d.join("history.json")).unwrap();
    assert!(!text.contains("evil") && !text.contains("annotations"));
    let stored: Value = serde_json::from_str(&text).unwrap();
    let e = &stored["entries"][&new];
    assert_ne!(e["timestamp"], v["timestamp"], "the new take's own time");
    assert_eq!(e["seed"], 42);
    // An exported WAV added without --params.
    let (_o, dest) = export_dir();
    run(
        &d,
        &["export", dest.to_str().unwrap(), &ids[0], "--name", "x"],
    )
    .success();
    let o = run(&d, &["add", dest.join("x.wav").to_str().unwrap()]).success();
    let added = out_of(&o).trim().to_string();
    let p1 = out_of(&run(&d, &["params", &ids[0], "--json"]).success());
    let p2 = out_of(&run(&d, &["params", &added, "--json"]).success());
    assert_eq!(p1, p2);
    if !python3_available() {
        skip(
            "add_writes_only_the_seeds_fields (Python part)",
            "python3 is not installed",
        );
        return;
    }
    let py = std::process::Command::new("python3")
        .arg(py_store())
        .arg(&d)
        .arg("strict-count")
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&py.stdout).trim(), "3");
}

fn params_strategy() -> impl Strategy<Value = Value> {
    (
        "[a-zA-Z0-9 _.-]{1,12}",
        "\\PC{1,12}",
        proptest::option::of(proptest::collection::vec(-5i64..5, 0..6)),
        0i64..64,
        proptest::num::u64::ANY,
        "\\PC{1,10}",
        proptest::option::of(proptest::collection::vec(-1e6f64..1e6, 1..20)),
    )
        .prop_map(|(id, name, sliders, n, seed, preset, latent)| {
            serde_json::json!({
                "model_id": id, "model_name": name, "slider_positions": sliders,
                "n_components": n, "seed": seed, "preset_name": preset,
                "stereo_mode": "mono", "latent_vector": latent,
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// `params ID --json` fed to `add --params` gives a take with every
    /// parameter field the same.
    #[test]
    fn params_round_trip_through_add(p in params_strategy()) {
        let (t, d, ids) = takes_dir(1);
        let first = t.path().join("first.json");
        fs::write(&first, serde_json::to_vec(&p).unwrap()).unwrap();
        let wav = wav_of(&d, &ids[0]);
        let a = out_of(&run(&d, &["add", wav.to_str().unwrap(), "--params", first.to_str().unwrap()]).success()).trim().to_string();
        let pa = out_of(&run(&d, &["params", &a, "--json"]).success());
        let second = t.path().join("second.json");
        fs::write(&second, &pa).unwrap();
        let b = out_of(&run(&d, &["add", wav.to_str().unwrap(), "--params", second.to_str().unwrap()]).success()).trim().to_string();
        let pb = out_of(&run(&d, &["params", &b, "--json"]).success());
        prop_assert_eq!(&pa, &pb);
        let va: Value = serde_json::from_str(&pa).unwrap();
        for k in ["model_id", "model_name", "n_components", "seed", "preset_name"] {
            prop_assert_eq!(&va[k], &p[k]);
        }
    }
}

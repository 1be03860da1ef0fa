//! Deciding what to keep, from the command line: annotations (never in
//! history.json), `list --filter`, `purge`, `diff` and `similar`.

mod common;

use common::*;
use predicates::prelude::*;
use std::fs;
use std::path::Path;

fn run(d: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    genhist().arg("--dir").arg(d).args(args).assert()
}

fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stdout.clone()).unwrap()
}

/// The seed's own loader (`HistoryEntry(**fields)`) still reads the index.
fn python_strict_count(d: &Path) -> usize {
    let o = std::process::Command::new("python3")
        .arg(py_store())
        .arg(d)
        .arg("strict-count")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap().trim().parse().unwrap()
}

/// The ids given, as owned strings, to compare with what `list` prints.
macro_rules! ids_of {
    ($($e:expr),*) => { vec![$($e.to_string()),*] as Vec<String> };
}

/// The ids `list --json ARGS` prints, in order.
fn listed_ids(d: &Path, args: &[&str]) -> Vec<String> {
    let mut full = vec!["list", "--json"];
    full.extend_from_slice(args);
    let v: serde_json::Value = serde_json::from_str(&stdout(&run(d, &full).success())).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["entry_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn annotations_round_trip_and_never_touch_the_index() {
    let (_t, d, ids) = takes_dir(4);
    let index = fs::read(d.join("history.json")).unwrap();
    run(&d, &["rate", &ids[0][..6], "4"])
        .success()
        .stdout(predicate::str::contains("★★★★☆"));
    // After every annotation command the seed's own loader still reads it all.
    assert_eq!(python_strict_count(&d), 4);
    run(&d, &["reject", &ids[1]]).success();
    assert_eq!(python_strict_count(&d), 4);
    run(&d, &["tag", &ids[0], "+keep", "bass", "-nope"]).success();
    assert_eq!(python_strict_count(&d), 4);
    run(&d, &["tag", &ids[0], "-bass"]).success();
    run(&d, &["note", &ids[0], "warm", "low", "end"]).success();
    assert_eq!(python_strict_count(&d), 4);
    run(&d, &["rate", &ids[2], "6"]).code(2);
    run(&d, &["rate", "zzzz", "3"])
        .code(1)
        .stderr(predicate::str::contains("zzzz"));
    assert_eq!(
        fs::read(d.join("history.json")).unwrap(),
        index,
        "history.json untouched"
    );
    assert_eq!(python_strict_count(&d), 4);

    let a = stdout(&run(&d, &["show", &ids[0], "--json"]).success());
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(
        v["annotations"],
        serde_json::json!({"rating": 4, "rejected": false, "tags": ["keep"], "note": "warm low end"})
    );
    let listed: serde_json::Value =
        serde_json::from_str(&stdout(&run(&d, &["list", "--json"]).success())).unwrap();
    assert_eq!(
        listed[1]["annotations"],
        serde_json::json!({"rating": 0, "rejected": true, "tags": [], "note": ""})
    );
    assert!(
        listed[2].get("annotations").is_none(),
        "none for a take without any"
    );
    // Everything else is as stored.
    let mut stored = v.clone();
    stored.as_object_mut().unwrap().remove("annotations");
    let plain: serde_json::Value = serde_json::from_str(
        &String::from_utf8(fs::read(d.join("history.json")).unwrap()).unwrap(),
    )
    .unwrap();
    assert_eq!(stored, plain["entries"][&ids[0]]);

    // Clearing everything drops the take from the file.
    run(&d, &["rate", &ids[0], "0"]).success();
    run(&d, &["tag", &ids[0], "-keep"]).success();
    run(&d, &["note", &ids[0], ""]).success();
    let file: serde_json::Value =
        serde_json::from_slice(&fs::read(d.join(".genhist/annotations.json")).unwrap()).unwrap();
    assert!(file["takes"].get(&ids[0]).is_none(), "{file}");
    assert_eq!(file["version"], 1);
}

#[test]
fn a_broken_annotations_file_is_never_written_over_and_takes_stay_listed() {
    let (_t, d, ids) = takes_dir(3);
    fs::create_dir_all(d.join(".genhist")).unwrap();
    let broken = b"{\"version\": 1, \"takes\": {\"x\": ";
    fs::write(d.join(".genhist/annotations.json"), broken).unwrap();
    run(&d, &["rate", &ids[0], "5"])
        .code(1)
        .stderr(predicate::str::contains("annotations.json cannot be read"));
    assert_eq!(
        fs::read(d.join(".genhist/annotations.json")).unwrap(),
        broken
    );
    let a = run(&d, &["list"]).success();
    assert!(stdout(&a).contains(&ids[2][..8]));
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("annotations.json"));
    // A version genhist does not know is not changed either.
    fs::write(
        d.join(".genhist/annotations.json"),
        b"{\"version\": 2, \"takes\": {}}",
    )
    .unwrap();
    run(&d, &["reject", &ids[0]])
        .code(1)
        .stderr(predicate::str::contains("version 2"));
}

#[test]
fn the_filter_language_of_the_browser_works_in_list() {
    let (_t, d, ids) = takes_dir(5);
    run(&d, &["rate", &ids[0], "5"]).success();
    run(&d, &["rate", &ids[1], "3"]).success();
    run(&d, &["reject", &ids[2]]).success();
    run(&d, &["tag", &ids[3], "+pad"]).success();
    run(&d, &["note", &ids[4], "too", "loud"]).success();
    assert_eq!(
        listed_ids(&d, &["--filter", "rating>=3"]),
        ids_of![&ids[0], &ids[1]]
    );
    assert_eq!(listed_ids(&d, &["--filter", "rating>3"]), ids_of![&ids[0]]);
    assert_eq!(listed_ids(&d, &["--filter", "rating=3"]), ids_of![&ids[1]]);
    assert_eq!(
        listed_ids(&d, &["--filter", "rating<3 !rejected"]),
        ids_of![&ids[3], &ids[4]]
    );
    assert_eq!(listed_ids(&d, &["--filter", "rejected"]), ids_of![&ids[2]]);
    assert_eq!(listed_ids(&d, &["--filter", "tag=pad"]), ids_of![&ids[3]]);
    assert_eq!(listed_ids(&d, &["--filter", "note~loud"]), ids_of![&ids[4]]);
    assert_eq!(
        listed_ids(&d, &["--filter", "!rejected", "--limit", "2"]),
        ids_of![&ids[0], &ids[1]]
    );
    // Bad usage: exit 2, as the README says.
    run(&d, &["list", "--filter", "rating>=lots"])
        .code(2)
        .stderr(predicate::str::contains("lots"));
    // The same filter in the browser shows the same takes.
    let mut dr = Driver::new(&d);
    for (f, _) in [("rating>=3", 2), ("rating<3 !rejected", 2), ("tag=pad", 1)] {
        dr.command(&format!("filter {f}"));
        dr.wait("filtered", |a| !a.list.view.pending);
        assert_eq!(dr.rows(), listed_ids(&d, &["--filter", f]), "{f}");
    }
}

#[test]
fn purge_moves_rejected_takes_to_the_trash_and_undo_brings_them_back() {
    let (_t, d, ids) = takes_dir(5);
    run(&d, &["reject", &ids[1]]).success();
    run(&d, &["reject", &ids[3]]).success();
    run(&d, &["purge", "--dry-run"])
        .success()
        .stdout(predicate::str::contains(
            "2 rejected takes would go to the trash",
        ));
    assert_eq!(index_ids(&d).len(), 5);
    run(&d, &["purge"]).success();
    let left = index_ids(&d);
    assert_eq!(left.len(), 3);
    assert!(!left.contains(&ids[1]) && !left.contains(&ids[3]));
    assert!(!d.join(format!("audio/{}.wav", ids[1])).exists());
    assert_eq!(python_strict_count(&d), 3);
    run(&d, &["undo"]).success();
    assert_eq!(index_ids(&d).len(), 5);
    // Their annotations came back with them.
    assert_eq!(
        listed_ids(&d, &["--filter", "rejected"]),
        ids_of![&ids[1], &ids[3]]
    );
    run(&d, &["reject", &ids[1], "--clear"]).success();
    run(&d, &["reject", &ids[3], "--clear"]).success();
    run(&d, &["purge"])
        .success()
        .stdout(predicate::str::contains("no rejected takes"));
}

#[test]
fn diff_shows_only_what_differs() {
    let (_t, d, ids) = takes_dir(2);
    let text = fs::read_to_string(d.join("history.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["entries"][&ids[1]]["seed"] = 7.into();
    v["entries"][&ids[1]]["slider_positions"] = serde_json::json!([1, 2, -2]);
    v["entries"][&ids[1]]["quality_score"] = serde_json::json!({
        "snr_db": 18.0,
        "peak_db": genhist::store::nonfinite::marker("-Infinity"),
    });
    fs::write(
        d.join("history.json"),
        genhist::store::pyjson::to_python_json(&v),
    )
    .unwrap();
    // The JSON holds -Infinity as Python writes it.
    let out = stdout(&run(&d, &["diff", &ids[0], &ids[1], "--json"]).success());
    let j: serde_json::Value =
        serde_json::from_slice(&genhist::store::nonfinite::to_markers(out.as_bytes())).unwrap();
    let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["timestamp", "slider_positions", "seed", "quality_score"]
    );
    assert_eq!(j["seed"], serde_json::json!([42, 7]));
    assert_eq!(
        j["slider_positions"],
        serde_json::json!([[1, 0, -2], [1, 2, -2]])
    );
    let text = stdout(&run(&d, &["diff", &ids[0], &ids[1]]).success());
    assert!(
        text.contains("slider 2") && !text.contains("slider 1"),
        "{text}"
    );
    assert!(text.contains("quality.snr_db"), "{text}");
    assert!(
        text.contains("-Infinity") && !text.contains('\u{fffd}'),
        "{text}"
    );
    assert!(!text.contains("model_id"), "{text}");
    run(&d, &["diff", &ids[0], &ids[0]])
        .success()
        .stdout(predicate::str::contains("the same parameters"));
}

#[test]
fn similar_orders_by_latent_then_parameters() {
    let (_t, d, ids) = takes_dir(5);
    let text = fs::read_to_string(d.join("history.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let lat = |x: &[f64]| serde_json::json!(x);
    v["entries"][&ids[0]]["latent_vector"] = lat(&[1.0, 0.0, 0.0]);
    v["entries"][&ids[1]]["latent_vector"] = lat(&[0.0, 1.0, 0.0]);
    v["entries"][&ids[2]]["latent_vector"] = lat(&[0.9, 0.1, 0.0]);
    // No latent: parameters decide (same model as the reference first).
    v["entries"][&ids[3]]["model_id"] = "other".into();
    v["entries"][&ids[4]]["slider_positions"] = serde_json::json!([1, 0, -1]);
    fs::write(
        d.join("history.json"),
        genhist::store::pyjson::to_python_json(&v),
    )
    .unwrap();
    let j: serde_json::Value =
        serde_json::from_str(&stdout(&run(&d, &["similar", &ids[0], "--json"]).success())).unwrap();
    let order: Vec<&str> = j
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["entry_id"].as_str().unwrap())
        .collect();
    assert_eq!(order, [&ids[2][..], &ids[1], &ids[4], &ids[3]]);
    let dist: Vec<f64> = j
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["distance"].as_f64().unwrap())
        .collect();
    assert!(
        (dist[1] - 1.0).abs() < 1e-9,
        "orthogonal latents: cosine distance 1"
    );
    assert!(dist[2] >= genhist::similar::PARAMETER_BASE);
    let top: serde_json::Value = serde_json::from_str(&stdout(
        &run(&d, &["similar", &ids[0], "--json", "--limit", "1"]).success(),
    ))
    .unwrap();
    assert_eq!(top.as_array().unwrap().len(), 1);
}

// ----- the browser --------------------------------------------------------

use genhist::playback::{PlayState, PlayerCmd, PlayerEvent, Status};
use genhist::ui::app::{Confirm, Mode};
use genhist::ui::event::Event;

fn opened(d: &Driver) -> Option<String> {
    d.played.iter().rev().find_map(|c| match c {
        PlayerCmd::Open { id, .. } => Some(id.clone()),
        _ => None,
    })
}

fn stored_annotations(d: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(d.join(".genhist/annotations.json")).unwrap()).unwrap()
}

#[test]
fn culling_rates_rejects_moves_on_and_plays() {
    let (_t, d, ids) = takes_dir(5);
    let mut dr = Driver::new(&d);
    dr.keys("c");
    assert!(dr.app.triage.culling);
    assert_eq!(
        opened(&dr).as_deref(),
        Some(&ids[0][..]),
        "culling starts by playing"
    );
    dr.keys("4");
    assert_eq!(dr.selected(), ids[1]);
    assert_eq!(
        opened(&dr).as_deref(),
        Some(&ids[1][..]),
        "the next take plays"
    );
    dr.keys("x");
    assert_eq!(dr.selected(), ids[2]);
    assert_eq!(opened(&dr).as_deref(), Some(&ids[2][..]));
    dr.keys("5");
    dr.keys("k0");
    assert_eq!(dr.selected(), ids[3], "0 clears, then moves on");
    dr.settle();
    let file = stored_annotations(&d);
    assert_eq!(file["takes"][&ids[0]], serde_json::json!({"rating": 4}));
    assert_eq!(
        file["takes"][&ids[1]],
        serde_json::json!({"rejected": true})
    );
    assert!(file["takes"].get(&ids[2]).is_none());
    let screen = screen_text(&dr.app, 120, 40);
    assert!(screen.contains("★★★★☆") && screen.contains("✗"), "{screen}");
    assert!(screen.contains("culling"), "the status bar says so");
    // Out of culling mode, a rating stays on the take.
    dr.keys("cg3");
    assert_eq!(dr.selected(), ids[0]);
    dr.settle();
    assert_eq!(python_strict_count(&d), 5);
}

#[test]
fn purge_asks_first_and_undo_brings_the_takes_back_with_their_marks() {
    let (_t, d, ids) = takes_dir(4);
    let mut dr = Driver::new(&d);
    dr.command("purge");
    assert!(dr.message().contains("no rejected takes"));
    dr.keys("jxjjx");
    dr.command("purge");
    match &dr.app.mode {
        Mode::Confirm(Confirm::Purge { ids: gone, .. }) => {
            let mut want = vec![ids[1].clone(), ids[3].clone()];
            want.sort();
            assert_eq!(gone, &want);
        }
        other => panic!("{other:?}"),
    }
    dr.keys("y");
    dr.wait("the purge", |a| a.store.count() == 2);
    assert_eq!(index_ids(&d).len(), 2);
    dr.keys("u");
    dr.wait("the undo", |a| a.store.count() == 4);
    dr.settle();
    assert!(dr.app.triage.notes.get(&ids[1]).is_some_and(|a| a.rejected));
    assert!(dr.app.triage.notes.get(&ids[3]).is_some_and(|a| a.rejected));
}

#[test]
fn the_ab_view_switches_at_the_same_place_and_rates_the_take_heard() {
    let (_t, d, ids) = takes_dir(4);
    let mut dr = Driver::new(&d);
    dr.keys("b");
    assert!(
        dr.message().contains("nothing to compare"),
        "{}",
        dr.message()
    );
    dr.keys("mmb");
    let Mode::Compare(c) = &dr.app.mode else {
        panic!("{:?}", dr.app.mode)
    };
    assert_eq!(c.takes[0].entry_id, ids[0]);
    assert_eq!(c.takes[1].entry_id, ids[1]);
    dr.keys("<Enter>");
    assert_eq!(opened(&dr).as_deref(), Some(&ids[0][..]));
    // The player says A is playing, 0.02 s in.
    dr.send(Event::Player(PlayerEvent::Status(Status {
        state: PlayState::Playing,
        id: Some(ids[0].clone()),
        position: std::time::Duration::from_millis(20),
        duration: std::time::Duration::from_millis(50),
        ..Status::default()
    })));
    dr.played.clear();
    dr.keys("<Tab>");
    assert!(
        dr.played
            .iter()
            .any(|c| matches!(c, PlayerCmd::Switch { id, .. } if *id == ids[1])),
        "{:?}",
        dr.played
    );
    // Keys rate the take heard (B), and the view stays open.
    dr.keys("3x");
    assert_eq!(dr.app.triage.notes[&ids[1]].rating, 3);
    assert!(dr.app.triage.notes[&ids[1]].rejected);
    assert!(!dr.app.triage.notes.contains_key(&ids[0]));
    // Loudness matching: the quieter take's loudness for both (these takes
    // are too short for LUFS: their RMS).
    dr.settle();
    dr.wait("both measured", |a| {
        a.analysis.of(&ids[0]).is_some() && a.analysis.of(&ids[1]).is_some()
    });
    dr.played.clear();
    dr.keys("L");
    let gain = dr.played.iter().find_map(|c| match c {
        PlayerCmd::SetGain(g) => Some(*g),
        _ => None,
    });
    let Mode::Compare(c) = &dr.app.mode else {
        panic!()
    };
    assert!(c.level_match);
    assert_eq!(
        gain,
        dr.app.level_gain(c),
        "the gain shown is the gain applied"
    );
    assert!(gain.is_some_and(|g| g > 0.0 && g <= 1.0), "{gain:?}");
    dr.keys("<Esc>");
    assert_eq!(dr.app.mode, Mode::Normal);
    assert!(matches!(dr.played.last(), Some(PlayerCmd::SetGain(g)) if *g == 1.0));
    // Two ids given.
    dr.command(&format!("ab {} {}", &ids[3][..6], &ids[2][..6]));
    assert!(matches!(&dr.app.mode, Mode::Compare(c) if c.takes[0].entry_id == ids[3]));
}

#[test]
fn similar_orders_the_list_by_likeness_and_keeps_the_take_selected() {
    let (_t, d, ids) = takes_dir(4);
    let text = fs::read_to_string(d.join("history.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for (i, lat) in [[0.0, 1.0], [1.0, 0.1], [0.1, 1.0], [1.0, 0.0]]
        .iter()
        .enumerate()
    {
        v["entries"][&ids[i]]["latent_vector"] = serde_json::json!(lat);
    }
    fs::write(
        d.join("history.json"),
        genhist::store::pyjson::to_python_json(&v),
    )
    .unwrap();
    let mut dr = Driver::new(&d);
    dr.keys("jjj");
    dr.keys("S");
    dr.wait("ordered", |a| !a.list.view.pending);
    assert_eq!(dr.rows(), [&ids[3][..], &ids[1], &ids[2], &ids[0]]);
    assert_eq!(dr.selected(), ids[3]);
    assert!(dr.message().contains("likeness"), "{}", dr.message());
}

#[test]
fn an_unreadable_annotations_file_is_reported_and_the_takes_stay() {
    let (_t, d, ids) = takes_dir(3);
    fs::create_dir_all(d.join(".genhist")).unwrap();
    fs::write(d.join(".genhist/annotations.json"), b"not json").unwrap();
    let mut dr = Driver::new(&d);
    assert_eq!(dr.rows().len(), 3);
    assert!(
        dr.message().contains("annotations.json cannot be read"),
        "{} / {:?}",
        dr.message(),
        dr.app.messages.list
    );
    dr.keys("4");
    dr.settle();
    assert_eq!(
        fs::read(d.join(".genhist/annotations.json")).unwrap(),
        b"not json"
    );
    assert!(
        !dr.app.triage.notes.contains_key(&ids[0]),
        "the app shows what the file holds"
    );
}

#[test]
fn repair_drops_annotations_of_takes_that_are_gone() {
    let (_t, d, ids) = takes_dir(3);
    run(&d, &["rate", &ids[0], "5"]).success();
    run(&d, &["rate", &ids[1], "2"]).success();
    // Another program removes a take; its annotation is left over.
    let text = fs::read_to_string(d.join("history.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["entries"].as_object_mut().unwrap().remove(&ids[1]);
    fs::write(
        d.join("history.json"),
        genhist::store::pyjson::to_python_json(&v),
    )
    .unwrap();
    run(&d, &["repair", "--dry-run"])
        .success()
        .stdout(predicate::str::contains("annotations of 1 take"));
    assert!(stored_annotations(&d)["takes"].get(&ids[1]).is_some());
    run(&d, &["repair"]).success();
    let file = stored_annotations(&d);
    assert!(file["takes"].get(&ids[1]).is_none(), "{file}");
    assert_eq!(file["takes"][&ids[0]], serde_json::json!({"rating": 5}));
}

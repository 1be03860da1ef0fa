//! The store library: the seed's operations and every failure path.

mod common;

use common::*;
use genhist::audio::BitDepth;
use genhist::store::{Field, FileState, GenerationHistory, NewEntry, StoreError};
use std::fs;

fn new_entry(model: &str) -> NewEntry {
    NewEntry {
        model_id: model.into(),
        model_name: format!("{model} name"),
        slider_positions: Some(vec![1, 0, -2]),
        n_components: 3,
        ..Default::default()
    }
}

#[test]
fn add_writes_wav_thumbnail_and_index_and_python_layout() {
    let t = tempfile::tempdir().unwrap();
    let mut h = GenerationHistory::open(t.path()).unwrap();
    let e = add_take(
        &mut h,
        &sine(48_000, 1, 0.5, 220.0),
        BitDepth::Int16,
        new_entry("m1"),
    )
    .unwrap();
    assert!(t.path().join(&*e.audio_file()).is_file());
    let png = image::open(t.path().join(&*e.thumbnail_file())).unwrap();
    assert_eq!((png.width(), png.height()), (400, 60));
    assert_eq!(e.duration_s, 0.5);
    assert_eq!(e.sample_rate, 48_000);
    assert_eq!(e.stereo_mode(), "mono");
    let text = fs::read_to_string(t.path().join("history.json")).unwrap();
    assert!(text.starts_with("{\n  \"version\": 1,\n  \"entries\": {\n    \""));
    assert!(text.contains("\"slider_positions\": [\n        1,\n        0,\n        -2\n      ],"));
    assert!(text.contains("\"duration_s\": 0.5,"));
    // Reopening finds it, newest first, by prefix.
    let h2 = GenerationHistory::open(t.path()).unwrap();
    assert_eq!(h2.get(&e.entry_id[..6]).unwrap().entry_id, e.entry_id);
}

#[test]
fn every_bit_depth_is_written_as_asked() {
    let t = tempfile::tempdir().unwrap();
    let mut h = GenerationHistory::open(t.path()).unwrap();
    for (depth, bits, fmt) in [
        (BitDepth::Int16, 16, hound::SampleFormat::Int),
        (BitDepth::Int24, 24, hound::SampleFormat::Int),
        (BitDepth::Float32, 32, hound::SampleFormat::Float),
    ] {
        let e = add_take(&mut h, &sine(44_100, 2, 0.1, 300.0), depth, new_entry("m")).unwrap();
        let spec = hound::WavReader::open(t.path().join(&*e.audio_file()))
            .unwrap()
            .spec();
        assert_eq!(
            (spec.bits_per_sample, spec.sample_format, spec.channels),
            (bits, fmt, 2)
        );
    }
    assert_eq!(h.count(), 3);
}

#[test]
fn failed_add_leaves_nothing_behind() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    // The thumbnail step fails: `thumbnails` is a file.
    fs::write(d.join("thumbnails"), b"not a dir").unwrap();
    let mut h = GenerationHistory::open(d).unwrap();
    assert!(add_take(
        &mut h,
        &sine(48_000, 1, 0.2, 220.0),
        BitDepth::Int16,
        new_entry("m")
    )
    .is_err());
    assert_eq!(
        fs::read_dir(d.join("audio")).unwrap().count(),
        0,
        "partial WAV removed"
    );
    assert!(!d.join("history.json").exists(), "index untouched");

    // The index step fails: the index is corrupt, so WAV and PNG are removed again.
    fs::remove_file(d.join("thumbnails")).unwrap();
    fs::write(d.join("history.json"), b"{\"version\": 1, \"entries\": {").unwrap();
    assert!(add_take(
        &mut h,
        &sine(48_000, 1, 0.2, 220.0),
        BitDepth::Int16,
        new_entry("m")
    )
    .is_err());
    assert_eq!(fs::read_dir(d.join("audio")).unwrap().count(), 0);
    assert_eq!(fs::read_dir(d.join("thumbnails")).unwrap().count(), 0);
    assert_eq!(
        fs::read(d.join("history.json")).unwrap(),
        b"{\"version\": 1, \"entries\": {"
    );
}

#[test]
fn list_is_newest_first_with_model_filter_and_limit() {
    let (_t, d) = python_dir();
    let h = GenerationHistory::open(&d).unwrap();
    let ids: Vec<_> = h
        .list_entries(None, None)
        .iter()
        .map(|e| e.entry_id.clone())
        .collect();
    // 11:15:42.5+02:00 is 09:15:42.5Z: newer than 09:15:42.123456Z.
    assert_eq!(ids, [PY_NEWEST, PY_STEREO_24, PY_MONO_16]);
    let pads: Vec<_> = h
        .list_entries(Some("pads"), Some(1))
        .iter()
        .map(|e| e.entry_id.clone())
        .collect();
    assert_eq!(pads, [PY_NEWEST]);
}

#[test]
fn prefix_lookup_needs_four_chars_and_reports_ambiguity() {
    let t = tempfile::tempdir().unwrap();
    let text = PY_FIXTURE
        .replace(PY_MONO_16, "abcd1111-0000-4000-8000-000000000002")
        .replace(PY_NEWEST, "abcd2222-1111-4111-8111-111111111111");
    fs::write(t.path().join("history.json"), text).unwrap();
    let h = GenerationHistory::open(t.path()).unwrap();
    assert!(matches!(h.get("abc"), Err(StoreError::PrefixTooShort(_))));
    match h.get("abcd") {
        Err(StoreError::Ambiguous { candidates, .. }) => assert_eq!(candidates.len(), 2),
        other => panic!("expected ambiguity, got {other:?}"),
    }
    assert!(h.get("abcd1").is_ok());
    assert!(matches!(h.get("ffff"), Err(StoreError::NotFound(_))));
}

#[test]
fn delete_removes_files_then_entry_and_tolerates_missing_files() {
    let (_t, d) = python_dir();
    let mut h = GenerationHistory::open(&d).unwrap();
    let r = delete_takes(&mut h, &[PY_STEREO_24, PY_NEWEST]).unwrap();
    assert_eq!(r.removed.len(), 2);
    assert!(!d.join(format!("audio/{PY_STEREO_24}.wav")).exists());
    assert!(!d.join(format!("thumbnails/{PY_STEREO_24}.png")).exists());
    // They are in the trash batch, under their own paths.
    let batch = d.join(".genhist/trash").join(r.batch.as_ref().unwrap());
    assert!(batch
        .join(format!("files/audio/{PY_STEREO_24}.wav"))
        .is_file());
    assert!(r
        .left
        .iter()
        .any(|(id, _, why)| id == PY_NEWEST && why == "it was already missing"));
    let again = GenerationHistory::open(&d).unwrap();
    assert_eq!(again.count(), 1);
    assert!(
        !h.delete_entry(PY_NEWEST).unwrap(),
        "deleting twice is a no"
    );
}

#[test]
fn unknown_fields_and_other_entries_survive_a_rewrite_verbatim() {
    let (_t, d) = python_dir();
    let mut h = GenerationHistory::open(&d).unwrap();
    h.delete_entry(PY_MONO_16).unwrap();
    let text = fs::read_to_string(d.join("history.json")).unwrap();
    // The first entry's text (non-ASCII escapes, huge seed, nested quality, unknown field) is unchanged.
    let start = PY_FIXTURE.find(&format!("    \"{PY_STEREO_24}\"")).unwrap();
    let end = PY_FIXTURE
        .find(&format!(",\n    \"{PY_MONO_16}\""))
        .unwrap();
    assert!(text.contains(&PY_FIXTURE[start..end]));
    assert!(text.contains("\"generator_version\": \"0.9.1\""));
    assert!(text.ends_with(
        "  \"producer\": {\n    \"name\": \"small_dataset_audio\",\n    \"build\": 17\n  }\n}"
    ));
    let e = h.get(PY_STEREO_24).unwrap();
    assert_eq!(e.seed().to_string(), "123456789012345678901234567890");
    assert_eq!(e.model_name(), "Klänge — Großer Raum 🎛");
    assert_eq!(e.extra()["generator_version"], "0.9.1");
}

#[test]
fn corrupt_or_truncated_index_is_reported_and_never_written() {
    let (_t, d) = python_dir();
    let truncated = &PY_FIXTURE[..PY_FIXTURE.len() / 2];
    fs::write(d.join("history.json"), truncated).unwrap();
    let err = GenerationHistory::open(&d).expect_err("must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("history.json") && msg.contains("line"),
        "{msg}"
    );
    // A write through an old handle refuses too, and nothing changes.
    fs::write(d.join("history.json"), PY_FIXTURE).unwrap();
    let mut h = GenerationHistory::open(&d).unwrap();
    fs::write(d.join("history.json"), truncated).unwrap();
    assert!(h.delete_entry(PY_MONO_16).is_err());
    assert!(
        d.join(format!("audio/{PY_MONO_16}.wav")).exists(),
        "no file deleted first"
    );
    assert_eq!(
        fs::read_to_string(d.join("history.json")).unwrap(),
        truncated
    );
}

#[test]
fn unknown_version_is_read_but_never_written() {
    let (_t, d) = python_dir();
    let v2 = PY_FIXTURE.replace("\"version\": 1", "\"version\": 2");
    fs::write(d.join("history.json"), &v2).unwrap();
    let mut h = GenerationHistory::open(&d).unwrap();
    assert_eq!(h.count(), 3);
    assert!(h.version_warning().unwrap().contains("version 2"));
    let err = h.delete_entry(PY_MONO_16).unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedVersion { .. }));
    assert!(d.join(format!("audio/{PY_MONO_16}.wav")).exists());
    assert_eq!(fs::read_to_string(d.join("history.json")).unwrap(), v2);
}

#[test]
fn paths_escaping_the_directory_are_never_touched() {
    let (t, d) = python_dir();
    let outside = t.path().join("precious.wav");
    fs::write(&outside, b"keep me").unwrap();
    let text = PY_FIXTURE
        .replace(&format!("audio/{PY_MONO_16}.wav"), "../precious.wav")
        .replace(
            &format!("thumbnails/{PY_MONO_16}.png"),
            &outside.display().to_string(),
        );
    fs::write(d.join("history.json"), text).unwrap();
    std::os::unix::fs::symlink(&outside, d.join("audio/link.wav")).unwrap();
    let mut h = GenerationHistory::open(&d).unwrap();
    let e = h.get(PY_MONO_16).unwrap().clone();
    assert!(h.open_file(&e, Field::Audio).is_err());
    assert!(h.open_file(&e, Field::Thumbnail).is_err());
    assert!(matches!(
        h.file_state(&e, Field::Audio),
        FileState::Invalid { .. }
    ));
    // A symlink out of the directory is refused as well.
    let mut e2 = (*e).clone();
    e2.set_audio_file("audio/link.wav");
    assert!(h.open_file(&e2, Field::Audio).is_err());
    let r = delete_takes(&mut h, &[PY_MONO_16]).unwrap();
    assert_eq!(r.left.len(), 2);
    assert_eq!(fs::read(&outside).unwrap(), b"keep me");
}

#[test]
fn one_malformed_entry_does_not_hide_the_others() {
    let t = tempfile::tempdir().unwrap();
    let text = PY_FIXTURE.replace("\"seed\": 42,", "\"seed\": \"forty-two\",");
    fs::write(t.path().join("history.json"), text).unwrap();
    let h = GenerationHistory::open(t.path()).unwrap();
    assert_eq!(h.count(), 2);
    assert_eq!(h.invalid_entries().len(), 1);
    assert_eq!(h.invalid_entries()[0].entry_id, PY_MONO_16);
    assert!(matches!(
        h.get(PY_MONO_16),
        Err(StoreError::InvalidEntry { .. })
    ));
}

#[test]
fn repair_removes_missing_and_counts_orphans() {
    let (_t, d) = python_dir();
    fs::write(d.join("audio/orphan.wav"), b"x").unwrap();
    let mut h = GenerationHistory::open(&d).unwrap();
    let dry = h.repair(true).unwrap();
    assert_eq!(dry.plan.missing.len(), 1);
    assert_eq!(dry.plan.missing[0].0, PY_NEWEST);
    assert_eq!(dry.plan.orphan_wavs.len(), 1);
    assert_eq!(
        GenerationHistory::open(&d).unwrap().count(),
        3,
        "dry run changes nothing"
    );
    let r = h.repair(false).unwrap();
    assert_eq!(r.deleted.removed_ids(), [PY_NEWEST]);
    assert!(
        d.join("audio/orphan.wav").exists(),
        "orphans are left alone"
    );
    assert_eq!(GenerationHistory::open(&d).unwrap().count(), 2);
}

#[test]
fn total_size_counts_existing_files_only() {
    let (_t, d) = python_dir();
    let h = GenerationHistory::open(&d).unwrap();
    let expected: u64 = [
        format!("audio/{PY_STEREO_24}.wav"),
        format!("audio/{PY_MONO_16}.wav"),
        format!("thumbnails/{PY_STEREO_24}.png"),
    ]
    .iter()
    .map(|p| fs::metadata(d.join(p)).unwrap().len())
    .sum();
    assert_eq!(h.total_size(), expected);
    assert_eq!(h.stats().per_model["Pads"], 2);
}

#[test]
fn open_newest_gives_the_first_screen_and_says_the_rest_is_loading() {
    let (_t, d) = python_dir();
    let part = GenerationHistory::open_newest(&d, 2).unwrap();
    let full = GenerationHistory::open(&d).unwrap();
    let ids = |h: &GenerationHistory| -> Vec<String> {
        h.entries().iter().map(|e| e.entry_id.clone()).collect()
    };
    assert_eq!(ids(&part), ids(&full)[..2]);
    assert_eq!((part.loading(), full.loading()), (Some(3), None));
    assert_eq!(
        GenerationHistory::open_newest(&d, 10).unwrap().loading(),
        None
    );
}

#[test]
fn a_large_index_loads_in_two_halves_with_bad_entries_reported() {
    // > 8 MB, so each half is parsed on its own core and its text given back
    // while parsing.
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    genhist::demo::write_demo(d, 12_000, false, 5).unwrap();
    let text = fs::read_to_string(d.join("history.json")).unwrap();
    assert!(text.len() > 8 << 20);
    // Break one entry far in the second half.
    let late = text.len() * 7 / 8;
    let at = late + text[late..].find("\"seed\": ").unwrap();
    let mut broken = text.clone();
    broken.replace_range(at..at + 8, "\"seed\": \"x\", \"was\": ");
    fs::write(d.join("history.json"), &broken).unwrap();
    let h = GenerationHistory::open(d).unwrap();
    assert_eq!(h.count(), 11_999);
    assert_eq!(h.invalid_entries().len(), 1);
    // Same entries, same order, as the whole-text reader finds them.
    let scanned = genhist::store::lite::IndexText::read(d).unwrap();
    let (newest, _) = scanned.newest(None, None);
    let a: Vec<&str> = h.entries().iter().map(|e| e.entry_id.as_str()).collect();
    let b: Vec<&str> = newest.iter().map(|e| e.entry_id.as_str()).collect();
    assert_eq!(a, b);
    assert_eq!(*h.entries()[5000], newest[5000]);
    // A truncated large index is an error with a place, as a small one is.
    fs::write(d.join("history.json"), &text[..text.len() - 10]).unwrap();
    let err = GenerationHistory::open(d).err().unwrap().to_string();
    assert!(
        err.contains("line") && err.contains("history.json"),
        "{err}"
    );
}

#[test]
fn exact_lookups_follow_every_change() {
    let (_t, d) = python_dir();
    let mut h = GenerationHistory::open(&d).unwrap();
    assert_eq!(h.get_exact(PY_MONO_16).unwrap().entry_id, PY_MONO_16);
    assert!(h.get_exact("a1b2").is_none(), "exact only");
    let e = add_take(
        &mut h,
        &sine(48_000, 1, 0.2, 330.0),
        BitDepth::Int16,
        NewEntry::default(),
    )
    .unwrap();
    assert_eq!(**h.get_exact(&e.entry_id).unwrap(), e);
    h.delete_entry(PY_MONO_16).unwrap();
    assert!(h.get_exact(PY_MONO_16).is_none());
    for id in [PY_STEREO_24, PY_NEWEST, e.entry_id.as_str()] {
        assert_eq!(h.get_exact(id).unwrap().entry_id, id);
    }
}

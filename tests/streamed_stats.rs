//! `genhist stats` parses each entry and drops it (`IndexText::stats`); what
//! it reports must be what the full load's `GenerationHistory::stats` says.

use genhist::store::lite::IndexText;
use genhist::store::GenerationHistory;
use proptest::prelude::*;
use std::path::Path;

/// One entry: `kind` 0 plain, 1 NaN score, 2 unreadable (seed is text),
/// 3 refers to a shared non-default file, 4 refers outside the directory.
fn entry(i: usize, ts: usize, kind: usize, model: usize) -> String {
    const TS: [&str; 5] = [
        "2026-11-20T10:00:00",
        "2026-11-20T10:00:00+00:00",
        "2026-11-21T09:00:00+05:00",
        "not a time",
        "2026-11-19T23:59:59.999999Z",
    ];
    let id = format!("e{i:05}");
    let (seed, snr) = match kind {
        1 => ("1", "NaN"),
        2 => ("\"abc\"", "1"),
        _ => ("1", "2.5"),
    };
    let audio = match kind {
        3 => "shared/one.wav".to_string(),
        4 => "../elsewhere.wav".to_string(),
        _ => format!("audio/{id}.wav"),
    };
    format!(
        "\"{id}\": {{\"entry_id\": \"{id}\", \"timestamp\": \"{}\", \"model_id\": \"m\", \
         \"model_name\": \"Model {model}\", \"slider_positions\": [1], \"n_components\": 1, \
         \"seed\": {seed}, \"duration_s\": 0.5, \"sample_rate\": 8000, \"stereo_mode\": \"mono\", \
         \"preset_name\": \"p\", \"audio_file\": \"{audio}\", \"thumbnail_file\": \
         \"thumbnails/{id}.png\", \"quality_score\": {{\"snr_db\": {snr}}}, \"latent_vector\": null}}",
        TS[ts]
    )
}

fn write_history(d: &Path, entries: &[String], files: &[(String, usize)]) {
    std::fs::create_dir_all(d.join("audio")).unwrap();
    std::fs::create_dir_all(d.join("thumbnails")).unwrap();
    std::fs::create_dir_all(d.join("shared")).unwrap();
    for (rel, len) in files {
        std::fs::write(d.join(rel), vec![7u8; *len]).unwrap();
    }
    let text = format!(
        "{{\"version\": 1, \"entries\": {{{}}}}}",
        entries.join(",\n")
    );
    std::fs::write(d.join("history.json"), text).unwrap();
}

fn assert_same(d: &Path) {
    let full = GenerationHistory::open(d).unwrap();
    let (streamed, invalid) = IndexText::read(d).unwrap().stats(d);
    assert_eq!(streamed, full.stats());
    let ids = |v: &[genhist::store::InvalidEntry]| {
        let mut ids: Vec<String> = v.iter().map(|e| e.entry_id.clone()).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&invalid), ids(full.invalid_entries()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    #[test]
    fn streamed_stats_equal_the_full_loads(
        gens in prop::collection::vec((0usize..5, 0usize..5, 0usize..3, 0usize..4), 0..60),
    ) {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("h");
        let entries: Vec<String> = gens
            .iter()
            .enumerate()
            .map(|(i, &(ts, kind, model, _))| entry(i, ts, kind, model))
            .collect();
        // Some takes have their files, of sizes that show which were counted.
        let mut files = vec![("shared/one.wav".to_string(), 1000)];
        for (i, &(_, _, _, has)) in gens.iter().enumerate() {
            if has > 0 {
                files.push((format!("audio/e{i:05}.wav"), 10 + i));
                files.push((format!("thumbnails/e{i:05}.png"), 100_000 + i));
            }
        }
        write_history(&d, &entries, &files);
        assert_same(&d);
    }
}

/// Enough entries for both cores (and the index's two halves).
#[test]
fn many_takes_on_two_cores() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("h");
    let n = 60_000;
    let entries: Vec<String> = (0..n)
        .map(|i| entry(i, i % 5, if i % 997 == 0 { 2 } else { i % 4 }, i % 3))
        .collect();
    let files: Vec<(String, usize)> = (0..n)
        .step_by(7)
        .map(|i| (format!("audio/e{i:05}.wav"), i % 100))
        .chain([("shared/one.wav".to_string(), 5)])
        .collect();
    write_history(&d, &entries, &files);
    assert_same(&d);
    let (st, invalid) = IndexText::read(&d).unwrap().stats(&d);
    assert_eq!(st.count + st.invalid, n);
    let unreadable = (0..n).filter(|i| i % 997 == 0 || i % 4 == 2).count();
    assert_eq!(invalid.len(), unreadable);
    assert!(st.total_bytes > 0);
}

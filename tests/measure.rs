//! Measuring every take and seeing it: `genhist analyze`, the cache, the
//! measures in `list`/`show --json`, filters and sorts on them (CLI and
//! browser), the panel and list columns, the A/B view's LUFS matching, and
//! spectrograms (`v`, `genhist spectrogram --png`).

mod common;

use common::*;
use genhist::audio::{write_wav, AudioBuffer, BitDepth};
use serde_json::Value;
use std::f64::consts::TAU;
use std::fs;
use std::path::Path;

fn tone(rate: u32, secs: f64, hz: f64, dbfs: f64) -> AudioBuffer {
    let a = 10f64.powf(dbfs / 20.0);
    let n = (secs * f64::from(rate)) as usize;
    let mut samples = Vec::with_capacity(n * 2);
    for i in 0..n {
        let v = (a * (TAU * hz * i as f64 / f64::from(rate)).sin()) as f32;
        samples.extend([v, v]);
    }
    AudioBuffer {
        channels: 2,
        sample_rate: rate,
        samples,
    }
}

/// A history of three takes: a 1 kHz tone at -20 dBFS (2 s), the same at
/// -30 dBFS (1.5 s), and a clipped one (2 s).
fn measured_dir() -> (tempfile::TempDir, std::path::PathBuf, Vec<String>) {
    let (t, d, ids) = takes_dir(3);
    write_wav(
        &wav_of(&d, &ids[0]),
        &tone(48000, 2.0, 1000.0, -20.0),
        BitDepth::Int16,
    )
    .unwrap();
    write_wav(
        &wav_of(&d, &ids[1]),
        &tone(48000, 1.5, 1000.0, -30.0),
        BitDepth::Int16,
    )
    .unwrap();
    write_wav(
        &wav_of(&d, &ids[2]),
        &tone(48000, 2.0, 1000.0, 3.0),
        BitDepth::Int16,
    )
    .unwrap();
    (t, d, ids)
}

fn stdout_of(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

fn json_of(a: &assert_cmd::assert::Assert) -> Value {
    serde_json::from_str(&stdout_of(a)).unwrap()
}

fn cache_len(d: &Path) -> u64 {
    fs::metadata(d.join(".genhist/analysis.bin")).map_or(0, |m| m.len())
}

/// `analyze --json` prints the measures with the key names; a
/// second run reads them from the cache (nothing is measured again); a
/// changed WAV is measured again; a garbled cache is rebuilt.
#[test]
fn analyze_measures_once_and_keeps_it() {
    let (_t, d, ids) = measured_dir();
    let v = json_of(&run(&d, &["analyze", "--json"]).success());
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 3);
    let keys: Vec<&str> = arr[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "entry_id",
            "lufs",
            "lra",
            "peak",
            "true_peak",
            "clipped",
            "dc",
            "silence_head",
            "silence_tail",
            "centroid"
        ]
    );
    let of = |id: &str| arr.iter().find(|m| m["entry_id"] == id).unwrap().clone();
    assert!((of(&ids[0])["lufs"].as_f64().unwrap() + 20.0).abs() < 0.1);
    assert!(of(&ids[2])["clipped"].as_u64().unwrap() > 1000);
    assert!((of(&ids[0])["centroid"].as_f64().unwrap() - 1000.0).abs() < 60.0);
    assert_eq!(of(&ids[1])["lra"], Value::Null, "shorter than 3 s");
    let len = cache_len(&d);
    assert!(len > 0);
    run(&d, &["analyze"]).success();
    assert_eq!(cache_len(&d), len, "nothing measured again");
    write_wav(
        &wav_of(&d, &ids[1]),
        &tone(48000, 1.5, 1000.0, -24.0),
        BitDepth::Int16,
    )
    .unwrap();
    let v = json_of(&run(&d, &["analyze", &ids[1], "--json"]).success());
    assert!((v[0]["lufs"].as_f64().unwrap() + 24.0).abs() < 0.1);
    assert!(cache_len(&d) > len);
    fs::write(d.join(".genhist/analysis.bin"), b"garbage, not a cache").unwrap();
    let v = json_of(&run(&d, &["analyze", "--json"]).success());
    assert_eq!(v.as_array().unwrap().len(), 3);
}

/// A take whose WAV is missing is named and the command fails; the others
/// are measured.
#[test]
fn analyze_names_what_it_cannot_measure() {
    let (_t, d, ids) = measured_dir();
    fs::remove_file(wav_of(&d, &ids[1])).unwrap();
    let out = run(&d, &["analyze", "--json"]).code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("cannot measure t0001-01"), "{err}");
    assert_eq!(json_of(&out).as_array().unwrap().len(), 2);
}

/// `list --json` and `show --json` carry an `analysis` member once a take
/// is measured; filters and sorts read the measures; a take not yet
/// measured never matches a measure term, negated or not.
#[test]
fn measures_in_json_filters_and_sorts() {
    let (_t, d, ids) = measured_dir();
    let v = json_of(&run(&d, &["show", &ids[0], "--json"]).success());
    assert!(v.get("analysis").is_none());
    let listed = stdout_of(&run(&d, &["list", "--filter", "!lufs<-25"]).success());
    assert!(listed.contains("no take matches"), "unmeasured: {listed}");
    run(&d, &["analyze", &ids[0], &ids[1]]).success();
    let v = json_of(&run(&d, &["show", &ids[0], "--json"]).success());
    assert!((v["analysis"]["lufs"].as_f64().unwrap() + 20.0).abs() < 0.1);
    let v = json_of(&run(&d, &["list", "--json"]).success());
    let with: Vec<bool> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.get("analysis").is_some())
        .collect();
    assert_eq!(with.iter().filter(|x| **x).count(), 2);
    let listed = stdout_of(&run(&d, &["list", "--filter", "lufs<-25"]).success());
    assert!(
        listed.contains(&ids[1][..8]) && !listed.contains(&ids[0][..8]),
        "{listed}"
    );
    run(&d, &["analyze"]).success();
    let listed = stdout_of(&run(&d, &["list", "--filter", "clipped>0"]).success());
    assert!(
        listed.contains(&ids[2][..8]) && !listed.contains(&ids[0][..8]),
        "{listed}"
    );
    assert!(
        run(&d, &["list", "--filter", "lufs<abc"])
            .get_output()
            .status
            .code()
            == Some(2)
    );
}

/// In the browser: takes are measured in the background, the status line
/// counts what is left, the panel shows the measures, `:filter` and
/// `:sort` use them, and `[list] columns` shows them, the clipped take's
/// in the warning colour.
#[test]
fn the_browser_measures_and_shows() {
    let (_t, d, ids) = measured_dir();
    let mut dr = Driver::new(&d);
    let config = genhist::config::parse("[list]\ncolumns = [\"lufs\", \"peak\"]\n").unwrap();
    dr.app.configure(config.browser);
    dr.wait("every take measured", |a| {
        a.analysis.left == 0 && ids.iter().all(|id| a.analysis.of(id).is_some())
    });
    dr.settle();
    let screen = screen_text(&dr.app, 160, 40);
    assert!(
        screen.contains("LUFS") && screen.contains("PEAK"),
        "{screen}"
    );
    assert!(screen.contains("-20.0"), "{screen}");
    assert!(screen.contains("loudness  -20.0 LUFS"), "{screen}");
    dr.command("filter lufs<-25");
    dr.settle();
    assert_eq!(dr.rows(), vec![ids[1].clone()]);
    dr.command("clear");
    dr.command("sort -lufs");
    dr.settle();
    assert_eq!(dr.rows()[0], ids[1], "quietest first");
    assert_eq!(dr.rows()[2], ids[2], "the clipped one is the loudest");
    assert!(genhist::config::parse("[list]\ncolumns = [\"loudness\"]\n").is_err());
}

/// A/B loudness matching goes by LUFS: the louder take is played at the
/// quieter one's loudness (within ±0.5 LU), and the view says the gain.
#[test]
fn ab_matching_goes_by_lufs() {
    let (_t, d, ids) = measured_dir();
    let mut dr = Driver::new(&d);
    dr.wait("measured", |a| {
        a.analysis.of(&ids[0]).is_some() && a.analysis.of(&ids[1]).is_some()
    });
    dr.command(&format!("ab {} {}", ids[0], ids[1]));
    dr.played.clear();
    dr.keys("L");
    let gain = dr
        .played
        .iter()
        .find_map(|c| match c {
            genhist::playback::PlayerCmd::SetGain(g) => Some(*g),
            _ => None,
        })
        .unwrap();
    let (a, b) = (
        dr.app.analysis.of(&ids[0]).unwrap().lufs.unwrap(),
        dr.app.analysis.of(&ids[1]).unwrap().lufs.unwrap(),
    );
    // A (heard, -20 LUFS) at B's -30.
    let matched = a + 20.0 * f64::from(gain).log10();
    assert!((matched - b).abs() <= 0.5, "{matched} vs {b}");
    let screen = screen_text(&dr.app, 120, 40);
    assert!(
        screen.contains("level matched by LUFS: -10.0 dB"),
        "{screen}"
    );
    assert!(
        screen.contains("-20.0 LUFS") && screen.contains("-30.0 LUFS"),
        "{screen}"
    );
}

/// `v` shows the selected take's spectrogram in the panel, and both takes'
/// in the A/B view on one time axis: the 1.5 s take ends a quarter of the
/// width before the 2 s one.
#[test]
fn v_shows_spectrograms_on_one_time_axis() {
    let (_t, d, ids) = measured_dir();
    let mut dr = Driver::new(&d);
    dr.keys("v");
    dr.wait("the spectrogram", |a| {
        matches!(
            a.analysis.spectra.values().next(),
            Some(genhist::ui::app::SpectrumState::Ready(_))
        )
    });
    let screen = screen_text(&dr.app, 120, 40);
    assert!(screen.contains('▀'), "{screen}");
    dr.command(&format!("ab {} {}", ids[0], ids[1]));
    dr.wait("both spectrograms", |a| {
        a.analysis.spectra.len() == 2
            && a.analysis
                .spectra
                .values()
                .all(|s| matches!(s, genhist::ui::app::SpectrumState::Ready(_)))
    });
    let screen = screen_text(&dr.app, 120, 40);
    let rows: Vec<&str> = screen.lines().filter(|l| l.contains('▀')).collect();
    let width = |l: &str| {
        l.trim_start_matches('│')
            .trim_end_matches('│')
            .trim_end()
            .chars()
            .count()
    };
    let widths: Vec<usize> = rows.iter().map(|l| width(l)).collect();
    let (long, short) = (*widths.iter().max().unwrap(), *widths.iter().min().unwrap());
    let ratio = short as f64 / long as f64;
    assert!((ratio - 0.75).abs() < 0.03, "{widths:?}\n{screen}");
}

/// `genhist spectrogram ID --png` writes the picture: W × H, time left to
/// right, 20 Hz at the bottom to the Nyquist frequency at the top, a 1 kHz
/// tone brightest on its row.
#[test]
fn spectrogram_png_has_the_axes_it_says() {
    let (t, d, ids) = measured_dir();
    let png = t.path().join("s.png");
    run(
        &d,
        &[
            "spectrogram",
            &ids[0],
            "--png",
            png.to_str().unwrap(),
            "--width",
            "120",
            "--height",
            "90",
        ],
    )
    .success();
    let img = image::open(&png).unwrap().to_rgb8();
    assert_eq!((img.width(), img.height()), (120, 90));
    let bright = |y: u32| -> u32 {
        let p = img.get_pixel(60, y);
        u32::from(p[0]) + u32::from(p[1]) + u32::from(p[2])
    };
    let y = (0..90).max_by_key(|&y| bright(y)).unwrap();
    // Row of 1 kHz on a log axis from 20 Hz (bottom) to 24 kHz (top).
    let want = 90.0 - 90.0 * (1000f64 / 20.0).ln() / (24000f64 / 20.0).ln();
    assert!((f64::from(y) - want).abs() <= 3.0, "{y} vs {want}");
    // Never inside the history.
    let out = run(
        &d,
        &[
            "spectrogram",
            &ids[0],
            "--png",
            d.join("audio/x.png").to_str().unwrap(),
        ],
    )
    .failure();
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("inside the history"));
}

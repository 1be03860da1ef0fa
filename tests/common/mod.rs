//! Fixtures shared by the integration tests: synthesized WAVs and history
//! directories in the Python tool's exact format.
#![allow(dead_code)]

use genhist::audio::{write_wav, AudioBuffer, BitDepth};
use std::path::{Path, PathBuf};

pub const PY_FIXTURE: &str = include_str!("../fixtures/python_history.json");
pub const PY_STEREO_24: &str = "3f2b9c1e-8d4a-4b7e-9f10-2a6c5d8e7b01";
pub const PY_MONO_16: &str = "a1b2c3d4-0000-4000-8000-000000000002";
pub const PY_NEWEST: &str = "b0b0b0b0-1111-4111-8111-111111111111";

/// A sine of `secs` seconds; stereo gets a quieter right channel.
pub fn sine(rate: u32, channels: u16, secs: f64, freq: f64) -> AudioBuffer {
    let n = (rate as f64 * secs) as usize;
    let mut samples = Vec::with_capacity(n * channels as usize);
    for i in 0..n {
        let v = (std::f64::consts::TAU * freq * i as f64 / rate as f64).sin() as f32 * 0.8;
        samples.push(v);
        if channels == 2 {
            samples.push(v * 0.5);
        }
    }
    AudioBuffer {
        channels,
        sample_rate: rate,
        samples,
    }
}

pub fn write_sine(path: &Path, rate: u32, channels: u16, secs: f64, depth: BitDepth) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    write_wav(path, &sine(rate, channels, secs, 440.0), depth).unwrap();
}

/// A history directory holding exactly the Python tool's output, with a
/// stereo 24-bit WAV, a mono 16-bit WAV, and one entry whose files are missing.
pub fn python_dir() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("hist");
    std::fs::create_dir_all(d.join("audio")).unwrap();
    std::fs::create_dir_all(d.join("thumbnails")).unwrap();
    std::fs::write(d.join("history.json"), PY_FIXTURE).unwrap();
    write_sine(
        &d.join(format!("audio/{PY_STEREO_24}.wav")),
        44_100,
        2,
        2.5,
        BitDepth::Int24,
    );
    write_sine(
        &d.join(format!("audio/{PY_MONO_16}.wav")),
        48_000,
        1,
        1.0,
        BitDepth::Int16,
    );
    std::fs::write(d.join(format!("thumbnails/{PY_STEREO_24}.png")), b"png").unwrap();
    (t, d)
}

/// `genhist` with a clean environment pointing at nothing by default.
pub fn genhist() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("genhist").unwrap();
    c.env_remove("GENHIST_DIR");
    c
}

pub fn python3_available() -> bool {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

pub fn py_store() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/py_store.py")
}

/// The browser's screen as text (trailing blanks trimmed), drawn at a fixed
/// clock: 2026-11-21 12:00 UTC.
pub fn screen_text(app: &genhist::ui::app::App, w: u16, h: u16) -> String {
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-21T12:00:00+00:00")
        .unwrap()
        .to_utc();
    term.draw(|f| genhist::ui::render::draw(f, app, now))
        .unwrap();
    let buf = term.backend().buffer().clone();
    let mut s = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

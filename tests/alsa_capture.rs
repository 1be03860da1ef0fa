//! Real output: `genhist play ID` through ALSA into a capturing device (a
//! `file` PCM over a `null` slave), and the captured stream compared with
//! the entry's samples.

mod common;

use common::*;
use genhist::audio::{AudioBuffer, BitDepth};
use genhist::store::{GenerationHistory, NewEntry};
use std::path::Path;

/// Adds a take with these samples; returns its id.
fn add(h: &mut GenerationHistory, buf: &AudioBuffer, depth: BitDepth) -> String {
    let new = NewEntry {
        model_id: "capture".into(),
        model_name: "Capture".into(),
        ..NewEntry::default()
    };
    add_take(h, buf, depth, new).unwrap().entry_id
}

/// A tone that does not start at zero (leading zeros are skipped when
/// aligning the capture), with a different tone on the right channel.
fn tone(rate: u32, channels: u16, secs: f64) -> AudioBuffer {
    let n = (rate as f64 * secs) as usize;
    let mut samples = Vec::new();
    for i in 0..n {
        let t = i as f64 / rate as f64;
        samples.push((0.7 * (std::f64::consts::TAU * 440.0 * t + 0.4).cos()) as f32);
        if channels == 2 {
            samples.push((0.4 * (std::f64::consts::TAU * 660.0 * t + 0.2).cos()) as f32);
        }
    }
    AudioBuffer {
        channels,
        sample_rate: rate,
        samples,
    }
}

/// Runs `genhist play id` with the default ALSA device capturing to a file;
/// returns the captured stereo frames after the leading silence.
fn play_and_capture(dir: &Path, id: &str) -> Vec<[f32; 2]> {
    let raw = dir.join("played.raw");
    let conf = dir.join("asound.conf");
    std::fs::write(&conf, genhist::playback::device::capture_config(&raw)).unwrap();
    genhist()
        .env("ALSA_CONFIG_PATH", &conf)
        .args(["--dir", dir.to_str().unwrap(), "play", id])
        .assert()
        .success();
    let bytes = std::fs::read(&raw).expect("the device wrote a capture");
    let frames: Vec<[f32; 2]> = bytes
        .chunks_exact(8)
        .map(|c| {
            [
                f32::from_le_bytes(c[0..4].try_into().unwrap()),
                f32::from_le_bytes(c[4..8].try_into().unwrap()),
            ]
        })
        .collect();
    let start = frames
        .iter()
        .position(|f| *f != [0.0, 0.0])
        .expect("the capture holds sound");
    frames[start..].to_vec()
}

/// Pearson correlation of `got` against `want`, at the best lag within ±64.
fn best_correlation(got: &[f32], want: &[f32]) -> f64 {
    let n = want.len().min(got.len()).saturating_sub(200);
    assert!(n > 10_000, "enough audio to compare");
    (0..128)
        .map(|lag| {
            let a = &got[lag..lag + n - 64];
            let b = &want[64..n];
            let (ma, mb) = (mean(a), mean(b));
            let mut num = 0.0;
            let (mut da, mut db) = (0.0, 0.0);
            for (x, y) in a.iter().zip(b) {
                let (x, y) = (*x as f64 - ma, *y as f64 - mb);
                num += x * y;
                da += x * x;
                db += y * y;
            }
            num / (da * db).sqrt()
        })
        .fold(f64::MIN, f64::max)
}

fn mean(v: &[f32]) -> f64 {
    v.iter().map(|x| *x as f64).sum::<f64>() / v.len() as f64
}

#[test]
fn played_samples_reach_the_device() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let mut h = GenerationHistory::open(dir).unwrap();

    // 48 kHz 16-bit mono: bit-exact on both channels.
    let id = add(&mut h, &tone(48_000, 1, 0.5), BitDepth::Int16);
    let wav: Vec<i16> = hound::WavReader::open(dir.join(format!("audio/{id}.wav")))
        .unwrap()
        .into_samples::<i16>()
        .map(Result::unwrap)
        .collect();
    let got = play_and_capture(dir, &id);
    assert!(got.len() >= wav.len(), "the whole take was played");
    for (i, (frame, s)) in got.iter().zip(&wav).enumerate() {
        let want = *s as f32 / 32768.0;
        assert_eq!(*frame, [want, want], "frame {i} differs");
    }

    // 44.1 kHz 16-bit mono, resampled to the device's 48 kHz.
    let id = add(&mut h, &tone(44_100, 1, 0.5), BitDepth::Int16);
    let got = play_and_capture(dir, &id);
    let want = tone(48_000, 1, 0.5).samples;
    let left: Vec<f32> = got.iter().map(|f| f[0]).collect();
    let right: Vec<f32> = got.iter().map(|f| f[1]).collect();
    let (cl, cr) = (
        best_correlation(&left, &want),
        best_correlation(&right, &want),
    );
    assert!(
        cl >= 0.99 && cr >= 0.99,
        "44.1 kHz: correlation {cl:.4} / {cr:.4}"
    );
    // The start is converted like the rest (no unconverted or restarted span
    // at the beginning: it was audible as a chirp or a click).
    let start_error = (0..4)
        .map(|lag| {
            (0..2000)
                .map(|i| (left[i + lag] - want[i]).abs())
                .fold(0f32, f32::max)
        })
        .fold(f32::MAX, f32::min);
    assert!(
        start_error < 0.01,
        "first 2000 samples off by {start_error}"
    );

    // 24-bit stereo at 48 kHz: each channel stays on its side.
    let id = add(&mut h, &tone(48_000, 2, 0.5), BitDepth::Int24);
    let got = play_and_capture(dir, &id);
    let src = tone(48_000, 2, 0.5).samples;
    for ch in 0..2 {
        let want: Vec<f32> = src.iter().skip(ch).step_by(2).copied().collect();
        let captured: Vec<f32> = got.iter().map(|f| f[ch]).collect();
        let c = best_correlation(&captured, &want);
        assert!(c >= 0.99, "24-bit stereo channel {ch}: correlation {c:.4}");
        let other: Vec<f32> = src.iter().skip(1 - ch).step_by(2).copied().collect();
        assert!(
            best_correlation(&captured, &other).abs() < 0.5,
            "channel {ch} is not swapped"
        );
    }
}

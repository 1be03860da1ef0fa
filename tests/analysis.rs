//! The analysis' accuracy: EBU Tech 3341 sines, an independent BS.1770-4
//! implementation written here (K-weighting from the standard's analog
//! prototype, 400 ms blocks, both gates) on noise and music-like signals,
//! a 4× oversampled true-peak reference, exact clipped counts, silence to
//! 10 ms, and the reference files measured by pyloudnorm
//! (`tests/fixtures/loudness`).

mod common;

use genhist::analysis::{analyze, analyze_file, Measures};
use genhist::audio::{write_wav, AudioBuffer, BitDepth};
use std::f64::consts::{PI, TAU};
use std::path::Path;

fn measure_file(path: &Path) -> Measures {
    analyze_file(std::fs::File::open(path).unwrap(), 64)
        .unwrap()
        .0
}

fn measure(buf: &AudioBuffer, depth: BitDepth) -> Measures {
    let t = tempfile::tempdir().unwrap();
    let p = t.path().join("x.wav");
    write_wav(&p, buf, depth).unwrap();
    measure_file(&p)
}

fn buffer(rate: u32, channels: u16, frames: usize, f: impl Fn(usize, usize) -> f64) -> AudioBuffer {
    let mut samples = Vec::with_capacity(frames * channels as usize);
    for i in 0..frames {
        for c in 0..channels as usize {
            samples.push(f(i, c) as f32);
        }
    }
    AudioBuffer {
        channels,
        sample_rate: rate,
        samples,
    }
}

fn sine(rate: u32, channels: u16, secs: f64, hz: f64, dbfs: f64) -> AudioBuffer {
    let a = 10f64.powf(dbfs / 20.0);
    buffer(rate, channels, (secs * f64::from(rate)) as usize, |i, _| {
        a * (TAU * hz * i as f64 / f64::from(rate)).sin()
    })
}

/// A deterministic generator of noise in [-1, 1).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }
}

// ------------------------------------------------ an independent BS.1770-4

/// A biquad from the K-weighting's analog prototype (the RBJ forms the
/// standard's 48 kHz coefficients come from), at any sample rate.
struct Biquad {
    b: [f64; 3],
    a: [f64; 3],
    z: [f64; 2],
}

impl Biquad {
    fn high_shelf(rate: f64) -> Biquad {
        let (g, q, fc) = (4.0, 1.0 / 2f64.sqrt(), 1500.0);
        let a = 10f64.powf(g / 40.0);
        let w0 = TAU * fc / rate;
        let alpha = w0.sin() / (2.0 * q);
        let c = w0.cos();
        let s = 2.0 * a.sqrt() * alpha;
        Biquad::new(
            [
                a * ((a + 1.0) + (a - 1.0) * c + s),
                -2.0 * a * ((a - 1.0) + (a + 1.0) * c),
                a * ((a + 1.0) + (a - 1.0) * c - s),
            ],
            [
                (a + 1.0) - (a - 1.0) * c + s,
                2.0 * ((a - 1.0) - (a + 1.0) * c),
                (a + 1.0) - (a - 1.0) * c - s,
            ],
        )
    }

    fn high_pass(rate: f64) -> Biquad {
        let (q, fc) = (0.5, 38.0);
        let w0 = TAU * fc / rate;
        let alpha = w0.sin() / (2.0 * q);
        let c = w0.cos();
        Biquad::new(
            [(1.0 + c) / 2.0, -(1.0 + c), (1.0 + c) / 2.0],
            [1.0 + alpha, -2.0 * c, 1.0 - alpha],
        )
    }

    fn new(b: [f64; 3], a: [f64; 3]) -> Biquad {
        Biquad {
            b: [b[0] / a[0], b[1] / a[0], b[2] / a[0]],
            a: [1.0, a[1] / a[0], a[2] / a[0]],
            z: [0.0; 2],
        }
    }

    /// Transposed direct form II.
    fn run(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.z[0];
        self.z[0] = self.b[1] * x - self.a[1] * y + self.z[1];
        self.z[1] = self.b[2] * x - self.a[2] * y;
        y
    }
}

/// Integrated loudness by BS.1770-4 (left, right, centre weighted 1).
fn reference_lufs(buf: &AudioBuffer) -> Option<f64> {
    let ch = buf.channels as usize;
    let rate = f64::from(buf.sample_rate);
    let frames = buf.samples.len() / ch;
    let mut squared = vec![vec![0f64; frames]; ch];
    for (c, sq) in squared.iter_mut().enumerate() {
        let (mut shelf, mut hp) = (Biquad::high_shelf(rate), Biquad::high_pass(rate));
        for (i, s) in sq.iter_mut().enumerate() {
            let y = hp.run(shelf.run(f64::from(buf.samples[i * ch + c])));
            *s = y * y;
        }
    }
    let block = (0.4 * rate).round() as usize;
    let step = (0.1 * rate).round() as usize;
    if frames < block {
        return None;
    }
    let blocks: Vec<f64> = (0..=(frames - block) / step)
        .map(|j| {
            squared
                .iter()
                .map(|sq| sq[j * step..j * step + block].iter().sum::<f64>() / block as f64)
                .sum::<f64>()
        })
        .collect();
    let loudness = |z: f64| -0.691 + 10.0 * z.log10();
    let above: Vec<f64> = blocks
        .iter()
        .copied()
        .filter(|&z| loudness(z) > -70.0)
        .collect();
    if above.is_empty() {
        return None;
    }
    let relative = loudness(above.iter().sum::<f64>() / above.len() as f64) - 10.0;
    let gated: Vec<f64> = above
        .into_iter()
        .filter(|&z| loudness(z) > relative)
        .collect();
    Some(loudness(gated.iter().sum::<f64>() / gated.len() as f64))
}

/// The largest magnitude of the signal 4× oversampled (windowed sinc,
/// 64 taps per phase).
fn reference_true_peak(buf: &AudioBuffer) -> f64 {
    let ch = buf.channels as usize;
    let frames = buf.samples.len() / ch;
    let half = 32i64;
    let mut peak = 0f64;
    for c in 0..ch {
        let x = |i: i64| -> f64 {
            if i < 0 || i >= frames as i64 {
                0.0
            } else {
                f64::from(buf.samples[i as usize * ch + c])
            }
        };
        for i in 0..frames as i64 {
            for phase in 0..4 {
                let t = i as f64 + phase as f64 / 4.0;
                let mut v = 0.0;
                for k in (i - half + 1)..=(i + half) {
                    let d = t - k as f64;
                    let sinc = if d == 0.0 {
                        1.0
                    } else {
                        (PI * d).sin() / (PI * d)
                    };
                    let w = 0.5 + 0.5 * (PI * d / (half as f64 + 1.0)).cos();
                    v += x(k) * sinc * w;
                }
                peak = peak.max(v.abs());
            }
        }
    }
    20.0 * peak.log10()
}

// --------------------------------------------------------------------- tests

/// EBU Tech 3341: a 1 kHz sine in both channels at -23 dBFS is -23.0 LUFS,
/// at -33 dBFS -33.0 (±0.1 LU).
#[test]
fn ebu_3341_sines() {
    for (dbfs, want) in [(-23.0, -23.0), (-33.0, -33.0), (-20.0, -20.0)] {
        for depth in [BitDepth::Int16, BitDepth::Int24, BitDepth::Float32] {
            let m = measure(&sine(48000, 2, 20.0, 1000.0, dbfs), depth);
            let got = m.lufs.unwrap();
            assert!((got - want).abs() <= 0.1, "{dbfs} dBFS {depth:?}: {got}");
        }
    }
}

/// Noise and music-like signals, mono and stereo, at 44.1, 48 and 96 kHz,
/// stored as 16, 24 and 32f: within ±0.2 LU of the independent reference.
#[test]
fn loudness_matches_an_independent_bs1770() {
    let mut rng = Lcg(7);
    let mut cases = Vec::new();
    for (rate, channels, depth) in [
        (44100, 1, BitDepth::Int16),
        (48000, 2, BitDepth::Int24),
        (96000, 2, BitDepth::Float32),
        (44100, 2, BitDepth::Float32),
        (48000, 1, BitDepth::Int24),
        (96000, 1, BitDepth::Int16),
    ] {
        let frames = 5 * rate as usize;
        // Pink-ish noise at -20 dBFS with a quiet passage.
        let mut last = 0.0;
        let noise: Vec<f64> = (0..frames * channels as usize)
            .map(|i| {
                last = 0.97 * last + 0.03 * rng.next() * 8.0;
                let quiet = if (i / channels as usize) < frames / 3 {
                    0.1
                } else {
                    1.0
                };
                last * 0.3 * quiet
            })
            .collect();
        let b = buffer(rate, channels, frames, |i, c| {
            noise[i * channels as usize + c]
        });
        cases.push(("noise", b, depth));
        // Music-like: a chord with an envelope, louder in one channel.
        let b = buffer(rate, channels, frames, |i, c| {
            let t = i as f64 / f64::from(rate);
            let env = (t * 2.0 * PI).sin().abs().powf(0.5);
            let chord = [220.0, 277.18, 329.63, 880.0, 3520.0]
                .iter()
                .enumerate()
                .map(|(k, f)| (TAU * f * t).sin() / (k + 1) as f64)
                .sum::<f64>();
            0.25 * env * chord * if c == 0 { 1.0 } else { 0.5 }
        });
        cases.push(("music", b, depth));
    }
    for (what, b, depth) in cases {
        let want = reference_lufs(&b).unwrap();
        let got = measure(&b, depth).lufs.unwrap();
        assert!(
            (got - want).abs() <= 0.2,
            "{what} {} Hz {} ch {depth:?}: {got} vs {want}",
            b.sample_rate,
            b.channels
        );
    }
}

/// True peak is at least the sample peak, and within 0.5 dB of a 4×
/// oversampled reference: a sine a quarter of the rate, sampled 45° off
/// its crests, peaks 3 dB over its samples.
#[test]
fn true_peak_finds_what_lies_between_samples() {
    let rate = 48000;
    let b = buffer(rate, 1, 4800, |i, _| {
        0.5 * (TAU * 12000.0 * i as f64 / 48000.0 + PI / 4.0).sin()
    });
    let m = measure(&b, BitDepth::Float32);
    let (peak, tp) = (m.peak.unwrap(), m.true_peak.unwrap());
    let want = reference_true_peak(&b);
    assert!(tp >= peak, "{tp} < {peak}");
    assert!((tp - want).abs() <= 0.5, "{tp} vs {want}");
    assert!(tp - peak > 2.0, "{tp} {peak}");
    // Music-like stereo at 44.1 kHz, 16 bit.
    let b = buffer(44100, 2, 8820, |i, c| {
        let t = i as f64 / 44100.0;
        0.45 * ((TAU * 9000.0 * t).sin() + (TAU * 13500.0 * t + c as f64).sin())
    });
    let m = measure(&b, BitDepth::Int16);
    let want = reference_true_peak(&b);
    assert!(
        (m.true_peak.unwrap() - want).abs() <= 0.5,
        "{m:?} vs {want}"
    );
    assert!(m.true_peak.unwrap() >= m.peak.unwrap());
}

/// Clipped samples are counted exactly at each format's full scale.
#[test]
fn clipped_samples_are_exact() {
    for depth in [BitDepth::Int16, BitDepth::Int24, BitDepth::Float32] {
        // 37 samples over full scale in one channel, 12 in the other.
        let b = buffer(48000, 2, 48000, |i, c| match (c, i % 1000) {
            (0, 5) if i < 37_000 => 1.5,
            (1, 7) if i < 12_000 => -1.2,
            _ => 0.3 * (i as f64 / 10.0).sin(),
        });
        let m = measure(&b, depth);
        assert_eq!(m.clipped, 37 + 12, "{depth:?}");
    }
}

/// Silence before the signal rises above -60 dBFS and after it last does,
/// to 10 ms; a take shorter than one gating block has no loudness.
#[test]
fn silence_and_short_takes() {
    let rate = 48000;
    let b = buffer(rate, 2, 3 * rate as usize, |i, _| {
        let t = i as f64 / f64::from(rate);
        if (0.5..2.7).contains(&t) {
            0.2 * (TAU * 440.0 * t).sin()
        } else {
            0.0005 * (TAU * 50.0 * t).sin()
        }
    });
    let m = measure(&b, BitDepth::Int24);
    assert!((m.silence_head - 0.5).abs() <= 0.01, "{}", m.silence_head);
    assert!((m.silence_tail - 0.3).abs() <= 0.01, "{}", m.silence_tail);
    assert!(m.lra.is_some());
    let short = sine(rate, 1, 0.3, 1000.0, -12.0);
    let m = measure(&short, BitDepth::Int16);
    assert_eq!((m.lufs, m.lra), (None, None));
    assert_eq!(m.to_json()["lufs"], serde_json::Value::Null);
    assert_eq!(m.show("lufs"), "n/a");
    // Silence throughout: no loudness, no peak.
    let quiet = buffer(rate, 1, rate as usize, |_, _| 0.0);
    let m = analyze(&mut quiet.stream(), 8).unwrap().0;
    assert_eq!((m.lufs, m.peak), (None, None));
}

/// The reference files, as pyloudnorm measured them (±0.2 LU), with the
/// peak, clipped count and silences of `expected.json`.
#[test]
fn the_reference_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/loudness");
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    for (name, e) in expected.as_object().unwrap() {
        let m = measure_file(&dir.join(name));
        match e["lufs_pyloudnorm"].as_f64() {
            Some(want) => {
                let got = m.lufs.unwrap_or(f64::NAN);
                assert!((got - want).abs() <= 0.2, "{name}: {got} vs {want}");
            }
            None => assert_eq!(m.lufs, None, "{name}"),
        }
        let peak = e["peak_dbfs"].as_f64().unwrap();
        assert!((m.peak.unwrap() - peak).abs() <= 0.01, "{name}: {m:?}");
        assert_eq!(m.clipped, e["clipped_samples"].as_u64().unwrap(), "{name}");
        for (k, got) in [
            ("silence_head_s", m.silence_head),
            ("silence_tail_s", m.silence_tail),
        ] {
            let want = e[k].as_f64().unwrap();
            assert!((got - want).abs() <= 0.01, "{name} {k}: {got} vs {want}");
        }
    }
}

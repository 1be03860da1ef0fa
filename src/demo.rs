//! A realistic demo history: synthesized takes that look and sound different
//! (tones, chords, noise bursts, sweeps, percussive hits, pads; mono and stereo)
//! from several models and presets, with sliders, quality scores, latent vectors
//! and timestamps spread over weeks.

use crate::audio::{write_wav, AudioBuffer, BitDepth};
use crate::store::{HistoryDir, HistoryEntry, StoreError};
use serde_json::{Map, Number, Value};
use std::path::Path;

/// A small deterministic PRNG (xorshift64*), so demos are reproducible.
struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}

const MODELS: [(&str, &str); 5] = [
    ("vae-drums-v3", "Drum Machine VAE"),
    ("pads-2024", "Ambient Pads"),
    ("fx-noise-01", "Noise FX"),
    ("synth-lead", "Lead Synth ✦"),
    ("chords-jp", "和音モデル"),
];
const PRESETS: [&str; 7] = [
    "custom",
    "warm",
    "bright",
    "dark-drone",
    "punchy",
    "glass",
    "lo-fi",
];
const KINDS: [&str; 6] = ["tone", "chord", "noise", "sweep", "hit", "pad"];

/// Synthesizes one take of `kind`.
fn synthesize(
    kind: &str,
    rng: &mut Rng,
    sample_rate: u32,
    channels: u16,
    secs: f64,
) -> AudioBuffer {
    let n = (secs * sample_rate as f64) as usize;
    let sr = sample_rate as f64;
    let base = rng.range(110.0, 660.0);
    let pan = rng.range(0.2, 0.8);
    let mut noise = Rng::new(rng.next_u64());
    let chord = [1.0, 1.25, 1.5, 2.0];
    let hits = (secs * rng.range(2.0, 5.0)).max(1.0) as usize;
    let mut samples = Vec::with_capacity(n * channels as usize);
    let tau = std::f64::consts::TAU;
    for i in 0..n {
        let t = i as f64 / sr;
        let fade = (t / 0.01).min(1.0) * ((secs - t) / 0.05).clamp(0.0, 1.0);
        let v = match kind {
            "tone" => 0.6 * (tau * base * t).sin() * (1.0 - 0.3 * (tau * 0.5 * t).sin()),
            "chord" => {
                chord
                    .iter()
                    .map(|r| (tau * base * r * t).sin())
                    .sum::<f64>()
                    * 0.18
            }
            "noise" => {
                let burst = ((t * 2.0).fract() < 0.35) as u8 as f64;
                (noise.unit() * 2.0 - 1.0) * 0.5 * burst
            }
            "sweep" => {
                let f = base * (1.0 + 6.0 * t / secs);
                0.5 * (tau * f * t).sin()
            }
            "hit" => {
                let period = secs / hits as f64;
                let local = t % period;
                let env = (-local * 18.0).exp();
                env * (0.8 * (tau * (base * 0.4) * local).sin() + 0.3 * (noise.unit() * 2.0 - 1.0))
            }
            _ => {
                // pad: slow attack and beating detuned partials
                let env = (t / (secs * 0.4)).min(1.0);
                env * 0.2
                    * ((tau * base * t).sin()
                        + (tau * base * 1.005 * t).sin()
                        + (tau * base * 1.5 * t).sin())
            }
        } * fade;
        if channels == 1 {
            samples.push(v as f32);
        } else {
            let wobble = 0.15 * (tau * 0.3 * t).sin();
            samples.push((v * (1.0 - pan + wobble)) as f32);
            samples.push((v * (pan + wobble)) as f32);
        }
    }
    AudioBuffer {
        channels,
        sample_rate,
        samples,
    }
}

fn demo_entry(i: usize, count: usize, rng: &mut Rng, now_us: i64) -> (HistoryEntry, &'static str) {
    let (model_id, model_name) = *rng.pick(&MODELS);
    let kind = *rng.pick(&KINDS);
    let n_components = *rng.pick(&[3i64, 4, 6, 8]);
    let sliders = if rng.unit() < 0.15 {
        None
    } else {
        Some(
            (0..n_components)
                .map(|_| rng.range(-3.0, 3.99).floor() as i64)
                .collect(),
        )
    };
    // Older entries further back: spread over ~5 weeks, newest within minutes.
    let span_us = 35 * 86_400 * 1_000_000i64;
    let back =
        (span_us as f64 * (i as f64 / count.max(1) as f64)) as i64 + (rng.unit() * 600e6) as i64;
    let t = chrono::DateTime::from_timestamp_micros(now_us - back).unwrap_or_default();
    let timestamp = t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string();
    let mut quality = Map::new();
    quality.insert("snr_db".into(), Value::Number(num(rng.range(8.0, 42.0), 2)));
    quality.insert("clipping".into(), Value::Bool(rng.unit() < 0.1));
    let mut spectral = Map::new();
    spectral.insert(
        "centroid_hz".into(),
        Value::Number(num(rng.range(300.0, 6000.0), 1)),
    );
    spectral.insert("flatness".into(), Value::Number(num(rng.unit(), 3)));
    quality.insert("spectral".into(), Value::Object(spectral));
    quality.insert("overall".into(), Value::Number(num(rng.unit(), 3)));
    let id = uuid::Uuid::from_u128(((rng.next_u64() as u128) << 64) | rng.next_u64() as u128);
    let id = uuid::Builder::from_random_bytes(*id.as_bytes())
        .into_uuid()
        .to_string();
    let stereo_mode = if rng.unit() < 0.4 {
        "mono"
    } else {
        *rng.pick(&["stereo", "mid_side", "dual_mono"])
    };
    let entry = HistoryEntry::from_parts(crate::store::entry::EntryParts {
        audio_file: format!("audio/{id}.wav"),
        thumbnail_file: format!("thumbnails/{id}.png"),
        entry_id: id,
        timestamp,
        model_id: model_id.into(),
        model_name: model_name.into(),
        slider_positions: sliders,
        n_components,
        seed: Some(Number::from(rng.next_u64() % 4_294_967_296)),
        duration_s: *rng.pick(&[1.5, 2.0, 2.5, 3.0, 4.0]),
        sample_rate: *rng.pick(&[44_100u32, 48_000]),
        stereo_mode: stereo_mode.into(),
        preset_name: (*rng.pick(&PRESETS)).into(),
        quality_score: crate::store::entry::QualityScore::from_map(&quality),
        latent_vector: None,
    });
    (entry, kind)
}

fn num(x: f64, digits: i32) -> Number {
    let f = 10f64.powi(digits);
    crate::store::pyjson::float_number((x * f).round() / f).unwrap_or_else(|| Number::from(0))
}

/// Writes a demo history of `count` takes into `dir`. With `with_audio` false
/// only the index is written (fast; for benchmarks).
pub fn write_demo(
    dir: &Path,
    count: usize,
    with_audio: bool,
    seed: u64,
) -> Result<usize, StoreError> {
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io("create", dir, e))?;
    let mut rng = Rng::new(seed);
    let now_us = chrono::Utc::now().timestamp_micros();
    let mut entries = Vec::with_capacity(count);
    for i in 0..count {
        let (mut e, kind) = demo_entry(i, count, &mut rng, now_us);
        if with_audio {
            if rng.unit() < 0.5 {
                e.set_latent_vector(Some(
                    (0..16)
                        .map(|_| (rng.range(-2.5, 2.5) * 1e4).round() / 1e4)
                        .collect(),
                ));
            }
            let channels = if e.stereo_mode() == "mono" { 1 } else { 2 };
            let depth = *rng.pick(&[
                BitDepth::Int16,
                BitDepth::Int16,
                BitDepth::Int24,
                BitDepth::Float32,
            ]);
            let buf = synthesize(kind, &mut rng, e.sample_rate, channels, e.duration_s);
            for d in ["audio", "thumbnails"] {
                let p = dir.join(d);
                std::fs::create_dir_all(&p).map_err(|err| StoreError::io("create", &p, err))?;
            }
            let wav = dir.join(&*e.audio_file());
            write_wav(&wav, &buf, depth).map_err(|err| StoreError::Audio {
                path: wav.clone(),
                message: crate::audio::describe_hound_error(&err),
            })?;
            let png = dir.join(&*e.thumbnail_file());
            crate::thumbnail::write_thumbnail(&png, &buf)
                .map_err(|message| StoreError::Audio { path: png, message })?;
        }
        entries.push(crate::store::add::EntryText::of(&e));
    }
    crate::store::change::add_index_entries(&HistoryDir::new(dir), entries)?;
    // So that the first open and `list` of a large demo are as fast as the
    // next ones (the sidecar is a cache: failing to write it is no error).
    if let Err(e) = crate::store::prepare_sidecar(dir) {
        tracing::info!("no sidecar for the demo in {}: {e}", dir.display());
    }
    Ok(count)
}

/// The data directory's demo history, created on first use.
pub(crate) fn demo_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("genhist")
        .join("demo");
    if !dir.join(crate::store::INDEX_FILE).exists() {
        write_demo(&dir, 60, true, 7)?;
    }
    Ok(dir)
}

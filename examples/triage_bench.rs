//! Benchmarks of issue 12's targets (see docs/performance.md):
//!
//! - `:similar` over 100,000 takes with 128-dimension latent vectors: the
//!   list the view worker computes (`view::compute` with the likeness sort).
//! - The A/B switch: from the `Switch` command the Tab key sends to the
//!   first sample of the other take at the device, while the first plays.
//! - Culling: from the rating key (`App::update`) to the first sample of the
//!   next take at the device.
//! - Waveform peaks (min/max per bucket and the RMS for loudness matching)
//!   of a 10 s 48 kHz 16-bit mono WAV, read from the page cache.
//!
//! The device is ALSA's `file` plugin over a `null` slave (not paced: the
//! numbers are genhist's part, not a sound card's buffer).
//!
//! usage: cargo run --release --example triage_bench

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use genhist::audio::{AudioBuffer, BitDepth};
use genhist::playback::{DeviceOutput, PlayerCmd, PlayerThread};
use genhist::store::paths::RelPath;
use genhist::store::{GenerationHistory, HistoryEntry, NewEntry};
use genhist::ui::event::{Effect, Event};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn report(what: &str, mut v: Vec<Duration>) {
    v.sort();
    println!(
        "{what}: median {:.1} ms, max {:.1} ms ({} runs)",
        ms(v[v.len() / 2]),
        ms(*v.last().unwrap()),
        v.len()
    );
}

/// A tiny deterministic generator.
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

fn similar_bench() {
    let mut rng = Lcg(12);
    let entries: Vec<Arc<HistoryEntry>> = (0..100_000)
        .map(|i| {
            let latent: Vec<f64> = (0..128).map(|_| rng.next()).collect();
            let v = serde_json::json!({
                "entry_id": format!("{i:08x}-0000-4000-8000-000000000000"),
                "timestamp": format!("2026-11-{:02}T{:02}:{:02}:{:02}+00:00",
                    1 + i / 86_400 % 28, i / 3600 % 24, i / 60 % 60, i % 60),
                "model_id": format!("model-{}", i % 7),
                "model_name": "M",
                "slider_positions": [i % 7, -(i as i64 % 3), 2],
                "n_components": 3,
                "seed": i,
                "duration_s": 2.0,
                "sample_rate": 48000,
                "stereo_mode": "mono",
                "preset_name": "custom",
                "audio_file": format!("audio/{i}.wav"),
                "thumbnail_file": format!("thumbnails/{i}.png"),
                "quality_score": {},
                "latent_vector": latent,
            });
            Arc::new(serde_json::from_value(v).unwrap())
        })
        .collect();
    let rows: genhist::ui::view::Rows = Arc::new(entries);
    let notes = genhist::store::annotations::Annotations::new();
    let mut times = Vec::new();
    for k in 0..7 {
        let reference = rows[k * 9_999].clone();
        let spec = genhist::ui::view::ViewSpec {
            sort: genhist::query::Sort {
                key: genhist::query::SortKey::Similar(genhist::query::SimilarTo(Arc::new(
                    genhist::similar::Reference::new(reference.clone()),
                ))),
                reverse: false,
            },
            ..Default::default()
        };
        let t = Instant::now();
        let sorted =
            genhist::ui::view::compute(&rows, &spec, genhist::analysis::Facts::notes(&notes));
        times.push(t.elapsed());
        assert_eq!(sorted[0].entry_id, reference.entry_id);
    }
    report(
        ":similar over 100,000 takes with 128-dimension latents (the view worker's sort)",
        times,
    );
}

const RATE: u32 = 48_000;

/// A long take whose samples are all negative (`sign` -1) or positive.
fn take(sign: f32) -> AudioBuffer {
    AudioBuffer {
        channels: 1,
        sample_rate: RATE,
        samples: (0..RATE as usize * 30)
            .map(|i| sign * (0.2 + 0.1 * (i as f32 * 0.01).sin().abs()))
            .collect(),
    }
}

/// Waits until the capture, from byte `pos` on, holds a sample whose sign
/// is `sign`; returns the time it took.
fn until_sign(raw: &Path, pos: &mut u64, sign: f32, since: Instant) -> Duration {
    let mut chunk = Vec::new();
    loop {
        assert!(
            since.elapsed() < Duration::from_secs(5),
            "no such sample reached the device"
        );
        chunk.clear();
        if let Ok(mut f) = std::fs::File::open(raw) {
            f.seek(SeekFrom::Start(*pos)).unwrap();
            f.read_to_end(&mut chunk).unwrap();
        }
        let whole = chunk.len() / 4 * 4;
        let hit = chunk[..whole]
            .chunks_exact(4)
            .any(|s| f32::from_le_bytes(s.try_into().unwrap()) * sign > 0.0);
        if hit {
            return since.elapsed();
        }
        *pos += whole as u64;
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn peaks_bench() {
    let d = tempfile::tempdir().unwrap();
    let wav = d.path().join("ten.wav");
    let buf = AudioBuffer {
        channels: 1,
        sample_rate: RATE,
        samples: (0..RATE as usize * 10)
            .map(|i| 0.5 * (i as f32 * 0.02).sin())
            .collect(),
    };
    genhist::audio::write_wav(&wav, &buf, BitDepth::Int16).unwrap();
    let bytes = std::fs::metadata(&wav).unwrap().len() as f64;
    let mut times = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let p = genhist::peaks::peaks_from_file(&wav, 1024).unwrap();
        times.push(t.elapsed());
        assert!(p.rms > 0.0);
    }
    times.sort();
    let med = times[times.len() / 2];
    println!(
        "peaks + RMS of a 10 s 48 kHz 16-bit mono WAV ({:.0} KB): median {:.2} ms ({:.0} MB/s), best {:.2} ms",
        bytes / 1e3,
        ms(med),
        bytes / 1e6 / med.as_secs_f64(),
        ms(times[0])
    );
}

fn main() {
    peaks_bench();
    similar_bench();

    let scratch = tempfile::tempdir().unwrap();
    let raw = scratch.path().join("played.raw");
    let conf = scratch.path().join("asound.conf");
    std::fs::write(&conf, genhist::playback::device::capture_config(&raw)).unwrap();
    // SAFETY: set before any thread that reads the environment is started.
    unsafe { std::env::set_var("ALSA_CONFIG_PATH", &conf) };
    let dir: PathBuf = scratch.path().join("hist");
    std::fs::create_dir(&dir).unwrap();
    let h = GenerationHistory::open(&dir).unwrap();
    // Newest first in the list: +, -, +, -, ...
    let mut ids = Vec::new();
    for i in 0..24 {
        let new = NewEntry {
            model_id: "bench".into(),
            timestamp: Some(format!("2026-11-20T10:{:02}:00+00:00", 59 - i)),
            ..NewEntry::default()
        };
        let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
        ids.push(
            genhist::store::change::add(
                &genhist::store::HistoryDir::new(h.dir()),
                &mut take(sign).stream(),
                BitDepth::Int16,
                new,
            )
            .unwrap(),
        );
    }
    let path_of = |e: &HistoryEntry| RelPath::parse(&e.audio_file()).unwrap();

    // The A/B switch while the first take plays.
    let player = PlayerThread::spawn(DeviceOutput::default(), |_| {});
    let mut times = Vec::new();
    for trial in 0..21 {
        let (a, b) = (&ids[trial % 2], &ids[trial % 2 + 1]);
        let (sa, sb) = if trial % 2 == 0 {
            (1.0, -1.0)
        } else {
            (-1.0, 1.0)
        };
        let mut pos = std::fs::metadata(&raw).map_or(0, |m| m.len());
        player.send(PlayerCmd::Open {
            peak: None,
            id: a.entry_id.clone(),
            dir: dir.clone(),
            path: path_of(a),
        });
        until_sign(&raw, &mut pos, sa, Instant::now());
        let t = Instant::now();
        player.send(PlayerCmd::Switch {
            peak: None,
            id: b.entry_id.clone(),
            dir: dir.clone(),
            path: path_of(b),
        });
        let took = until_sign(&raw, &mut pos, sb, t);
        if trial > 0 {
            times.push(took);
        }
        player.send(PlayerCmd::Stop);
        std::thread::sleep(Duration::from_millis(20));
    }
    report(
        "A/B switch: Tab's command to the other take's first sample at the device",
        times,
    );

    // Culling: the rating key to the next take's first sample.
    let (tx, rx) = std::sync::mpsc::channel();
    let workers = genhist::ui::workers::Workers::spawn(
        genhist::store::HistoryDir::new(&dir),
        scratch.path().join("cmd-history"),
        tx,
    );
    let mut app = genhist::ui::open_app(&dir, None).unwrap();
    app.update(Event::Resize(120, 40));
    let perform = |fx: Vec<Effect>| {
        for e in fx {
            if let Some(Effect::Player(cmd)) = workers.perform(e) {
                player.send(cmd);
            }
        }
    };
    let key = |c: char| Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    let mut pos = std::fs::metadata(&raw).map_or(0, |m| m.len());
    perform(app.update(key('c')));
    // Culling starts by playing the selected take.
    until_sign(&raw, &mut pos, 1.0, Instant::now());
    let mut times = Vec::new();
    for i in 0..20 {
        // The workers' answers, as the runner would hand them over.
        while let Ok(ev) = rx.try_recv() {
            perform(app.update(ev));
        }
        let next_sign = if i % 2 == 0 { -1.0 } else { 1.0 };
        // Only what the device gets from now on.
        let mut pos = std::fs::metadata(&raw).map_or(0, |m| m.len());
        let t = Instant::now();
        perform(app.update(key(char::from(b'1' + (i % 5) as u8))));
        times.push(until_sign(&raw, &mut pos, next_sign, t));
    }
    player.send(PlayerCmd::Stop);
    report(
        "culling: rating key to the next take's first sample at the device",
        times,
    );
}

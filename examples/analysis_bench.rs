//! Analysis speed (docs/performance.md, issue 19): a 10 s 48 kHz stereo
//! 16-bit WAV measured whole (loudness, range, true peak, clipping, DC,
//! silence, centroid, waveform peaks) from the page cache, on one core.
//!
//! usage: cargo run --release --example analysis_bench

use std::time::{Duration, Instant};

fn main() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("take.wav");
    let rate = 48000u32;
    let mut x = 1u64;
    let samples: Vec<f32> = (0..rate as usize * 10 * 2)
        .map(|i| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = ((x >> 11) as f64 / (1u64 << 53) as f64) as f32 - 0.5;
            let t = (i / 2) as f32 / rate as f32;
            0.3 * (std::f32::consts::TAU * 440.0 * t).sin() + 0.1 * noise
        })
        .collect();
    let buf = genhist::audio::AudioBuffer {
        channels: 2,
        sample_rate: rate,
        samples,
    };
    genhist::audio::write_wav(&path, &buf, genhist::audio::BitDepth::Int16).unwrap();
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..21 {
        let f = std::fs::File::open(&path).unwrap();
        let start = Instant::now();
        let (m, _) = genhist::analysis::analyze_file(f, genhist::analysis::cache::BUCKETS).unwrap();
        times.push(start.elapsed());
        assert!(m.lufs.is_some());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "10 s of 48 kHz stereo 16-bit: median {:.1} ms, min {:.1}, max {:.1} ({:.0}x real time) over 21 runs",
        ms(times[10]),
        ms(times[0]),
        ms(times[20]),
        10_000.0 / ms(times[10])
    );
}

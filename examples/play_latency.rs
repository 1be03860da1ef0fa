//! Benchmark of issue 5's target: from the key press (the `Play` command the
//! Enter key sends) to the first sample of the take handed to the output
//! device, for a 10 s WAV. The device is ALSA's `file` plugin over a `null`
//! slave, so "handed to the device" is visible as the first non-zero bytes in
//! the capture file (the null device is not paced, so nothing waits on a
//! real sound card's buffer).
//!
//! usage: cargo run --release --example play_latency   (see docs/performance.md)
use genhist::playback::{DeviceOutput, PlayerCmd, PlayerThread};
use std::io::{Read, Seek, SeekFrom};
use std::time::{Duration, Instant};

fn main() {
    let scratch = tempfile::tempdir().unwrap();
    let raw = scratch.path().join("played.raw");
    let conf = scratch.path().join("asound.conf");
    std::fs::write(&conf, genhist::playback::device::capture_config(&raw)).unwrap();
    // SAFETY: set before any thread that reads the environment is started.
    unsafe { std::env::set_var("ALSA_CONFIG_PATH", &conf) };

    let wav = scratch.path().join("ten_seconds.wav");
    let samples: Vec<f32> = (0..480_000)
        .map(|i| 0.5 + 0.3 * (i as f32 * 0.05).sin())
        .collect();
    let buf = genhist::audio::AudioBuffer {
        samples,
        channels: 1,
        sample_rate: 48_000,
    };
    genhist::audio::write_wav(&wav, &buf, genhist::audio::BitDepth::Int16).unwrap();

    let player = PlayerThread::spawn(DeviceOutput::default(), |_| {});
    let mut results = Vec::new();
    let mut chunk = Vec::new();
    for trial in 0..21 {
        player.send(PlayerCmd::Stop);
        std::thread::sleep(Duration::from_millis(60));
        // The capture file appears when the device opens (on the first play).
        let mut pos = std::fs::metadata(&raw).map_or(0, |m| m.len());
        let t = Instant::now();
        player.send(PlayerCmd::Play {
            id: "take".into(),
            source: genhist::playback::Source::open(&wav).unwrap(),
        });
        let latency = loop {
            assert!(
                t.elapsed() < Duration::from_secs(5),
                "no sound reached the device"
            );
            chunk.clear();
            if let Ok(mut f) = std::fs::File::open(&raw) {
                f.seek(SeekFrom::Start(pos)).unwrap();
                f.read_to_end(&mut chunk).unwrap();
            }
            let whole = chunk.len() / 4 * 4;
            let sound = chunk[..whole]
                .chunks_exact(4)
                .any(|s| f32::from_le_bytes(s.try_into().unwrap()) != 0.0);
            if sound {
                break t.elapsed();
            }
            pos += whole as u64;
            std::thread::sleep(Duration::from_micros(200));
        };
        if trial == 0 {
            println!(
                "first play (opens the device): {:.1} ms",
                latency.as_secs_f64() * 1e3
            );
        } else {
            results.push(latency);
        }
    }
    player.send(PlayerCmd::Stop);
    results.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "play to first sample at the device, device open: median {:.1} ms, max {:.1} ms ({} plays)",
        ms(results[results.len() / 2]),
        ms(*results.last().unwrap()),
        results.len()
    );
}

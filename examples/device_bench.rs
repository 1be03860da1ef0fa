//! Device benchmarks (docs/performance.md, issue 20):
//! - a device switch: from `SetDevice` (what `Enter` in the `:device`
//!   picker sends) to the first sample of the take on the new device, with
//!   two ALSA `file` devices over `null` (real ALSA, no hardware);
//! - recovery: a test output fails mid-take and is gone for a while; from
//!   the moment it is back to the take's samples flowing again.
//!
//! usage: cargo run --release --example device_bench

use genhist::playback::{DeviceOutput, PlayerCmd, PlayerThread, QueueOutput, Source};
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::{Duration, Instant};

fn take(path: &Path, secs: f64) {
    let n = (48_000.0 * secs) as usize;
    let samples = (0..n * 2)
        .map(|i| (0.5 * ((i / 2) as f64 * 0.05 + 0.3).sin()) as f32)
        .collect();
    let buf = genhist::audio::AudioBuffer {
        channels: 2,
        sample_rate: 48_000,
        samples,
    };
    genhist::audio::write_wav(path, &buf, genhist::audio::BitDepth::Float32).unwrap();
}

/// Waits until `raw` holds a sample that is not zero; the time it took.
fn first_sound(raw: &Path, start: Instant) -> Duration {
    let mut at = 0u64;
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no sound on {raw:?}: {:?}",
            std::fs::metadata(raw).map(|m| m.len())
        );
        if let Ok(mut f) = std::fs::File::open(raw) {
            let mut buf = Vec::new();
            if f.seek(SeekFrom::Start(at)).is_ok() && f.read_to_end(&mut buf).is_ok() {
                let whole = buf.len() / 4 * 4;
                if buf[..whole]
                    .chunks_exact(4)
                    .any(|c| f32::from_le_bytes(c.try_into().unwrap()) != 0.0)
                {
                    return start.elapsed();
                }
                at += whole as u64;
            }
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn report(what: &str, mut v: Vec<Duration>) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{what}: median {:.1} ms, max {:.1} ms ({} runs)",
        ms(v[v.len() / 2]),
        ms(*v.last().unwrap()),
        v.len()
    );
}

fn main() {
    let t = tempfile::tempdir().unwrap();
    let conf = t.path().join("asound.conf");
    let (a, b) = (t.path().join("a.raw"), t.path().join("b.raw"));
    std::fs::write(
        &conf,
        genhist::playback::device::capture_devices_config(&[
            ("a", "Device A", &a),
            ("b", "Device B", &b),
        ]),
    )
    .unwrap();
    // Before any thread touches ALSA.
    std::env::set_var("ALSA_CONFIG_PATH", &conf);
    let wav = t.path().join("take.wav");
    take(&wav, 60.0);
    let player = PlayerThread::spawn(DeviceOutput::on(Some("a".into())), |e| {
        if !matches!(e, genhist::playback::PlayerEvent::Status(_)) {
            eprintln!("{e:?}")
        }
    });
    player.send(PlayerCmd::Play {
        id: "t".into(),
        source: Source::new(std::fs::File::open(&wav).unwrap(), wav.clone()),
    });
    // The null device is not paced: it eats a take in a moment; looping
    // keeps one playing for every switch.
    player.send(PlayerCmd::SetLoop(true));
    first_sound(&a, Instant::now());
    let mut switches = Vec::new();
    for i in 0..20 {
        let (to, raw) = if i % 2 == 0 { ("b", &b) } else { ("a", &a) };
        let _ = std::fs::remove_file(raw);
        let start = Instant::now();
        player.send(PlayerCmd::SetDevice(Some(to.into())));
        switches.push(first_sound(raw, start));
        std::thread::sleep(Duration::from_millis(100));
    }
    report(
        "device switch, command to the first sample on the new device",
        switches,
    );

    // Recovery through the test output.
    let out = QueueOutput::default();
    let player = PlayerThread::spawn(out.clone(), |_| {});
    player.send(PlayerCmd::SetLoop(true));
    player.send(PlayerCmd::Play {
        id: "t".into(),
        source: Source::new(std::fs::File::open(&wav).unwrap(), wav.clone()),
    });
    while out.pull(1000).is_empty() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut recoveries = Vec::new();
    for i in 0..20u64 {
        out.down.store(true, std::sync::atomic::Ordering::SeqCst);
        *out.failure.lock().unwrap() = Some("unplugged".into());
        // Gone for a while (the engine keeps trying meanwhile).
        std::thread::sleep(Duration::from_millis(100 + 97 * (i % 10)));
        let start = Instant::now();
        out.down.store(false, std::sync::atomic::Ordering::SeqCst);
        while out.pull(100).is_empty() {
            assert!(start.elapsed() < Duration::from_secs(5), "not back");
            std::thread::sleep(Duration::from_micros(200));
        }
        recoveries.push(start.elapsed());
    }
    report("recovery, device back to sound again", recoveries);
}

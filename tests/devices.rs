//! Sound output you choose: `genhist devices`, `--device` through real ALSA
//! (two named file-capture PCMs with hints), an unknown name, recovery from
//! a device that fails mid-take (a test output that goes away and comes
//! back), switching devices, and the `:device` picker.

mod common;

use common::*;
use genhist::audio::{AudioBuffer, BitDepth};
use genhist::playback::device::DeviceInfo;
use genhist::playback::{Engine, PlayState, PlayerCmd, PlayerEvent, QueueOutput, Source};
use std::path::Path;
use std::time::{Duration, Instant};

/// A 48 kHz stereo take that does not start at zero.
fn take(secs: f64) -> AudioBuffer {
    let n = (48_000.0 * secs) as usize;
    let mut samples = Vec::with_capacity(n * 2);
    for i in 0..n {
        let t = i as f64 / 48_000.0;
        samples.push((0.6 * (std::f64::consts::TAU * 440.0 * t + 0.5).cos()) as f32);
        samples.push((0.3 * (std::f64::consts::TAU * 660.0 * t + 0.3).cos()) as f32);
    }
    AudioBuffer {
        channels: 2,
        sample_rate: 48_000,
        samples,
    }
}

/// The frames a capture file holds after its leading silence.
fn captured(raw: &Path) -> Vec<f32> {
    let bytes = std::fs::read(raw).unwrap_or_default();
    let s: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    match s.iter().position(|v| *v != 0.0) {
        Some(i) => s[i - i % 2..].to_vec(),
        None => Vec::new(),
    }
}

/// Two named devices (`desk`, the default, and `phones`), each capturing
/// to its own file.
fn alsa(dir: &Path) -> std::path::PathBuf {
    let conf = dir.join("asound.conf");
    let text = genhist::playback::device::capture_devices_config(&[
        ("desk", "Desk speakers", &dir.join("desk.raw")),
        ("phones", "Studio headphones", &dir.join("phones.raw")),
    ]);
    std::fs::write(&conf, text).unwrap();
    conf
}

#[test]
fn devices_are_listed_and_play_goes_to_the_one_chosen() {
    let (t, d, ids) = takes_dir(1);
    let buf = take(1.0);
    genhist::audio::write_wav(&wav_of(&d, &ids[0]), &buf, BitDepth::Float32).unwrap();
    let conf = alsa(t.path());
    let g = || {
        let mut c = genhist();
        c.env("ALSA_CONFIG_PATH", &conf)
            .env("XDG_CONFIG_HOME", "/nonexistent");
        c
    };
    let out = g().args(["devices", "--json"]).assert().success();
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let names: Vec<&str> = list.iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"desk") && names.contains(&"phones"),
        "{names:?}"
    );
    let phones = list.iter().find(|d| d["name"] == "phones").unwrap();
    assert_eq!(phones["description"], "Studio headphones");
    assert_eq!(phones["default"], false);
    assert!(list.iter().any(|d| d["default"] == true));
    for (asked, file, other) in [
        ("phones", "phones.raw", "desk.raw"),
        ("DESK", "desk.raw", "phones.raw"),
    ] {
        let _ = std::fs::remove_file(t.path().join(file));
        let _ = std::fs::remove_file(t.path().join(other));
        g().args(["--dir", dir_str(&d), "play", &ids[0], "--device", asked])
            .assert()
            .success();
        let got = captured(&t.path().join(file));
        assert!(
            got.len() >= buf.samples.len(),
            "{asked}: {} samples",
            got.len()
        );
        assert_eq!(
            &got[..buf.samples.len()],
            &buf.samples[..],
            "{asked}: exact samples"
        );
        assert!(
            captured(&t.path().join(other)).is_empty(),
            "{asked}: nothing on {other}"
        );
    }
    // From the environment, as from the flag.
    let _ = std::fs::remove_file(t.path().join("phones.raw"));
    g().env("GENHIST_DEVICE", "head")
        .args(["--dir", dir_str(&d), "play", &ids[0]])
        .assert()
        .success();
    assert!(!captured(&t.path().join("phones.raw")).is_empty());
    // Unknown and ambiguous names are errors listing the candidates.
    let out = g()
        .args(["--dir", dir_str(&d), "play", &ids[0], "--device", "nosuch"])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(
        err.contains("nosuch") && err.contains("phones") && err.contains("desk"),
        "{err}"
    );
    let out = g()
        .args(["--dir", dir_str(&d), "play", &ids[0], "--device", "e"])
        .assert()
        .code(1);
    let err = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(err.contains("several"), "{err}");
}

/// An engine over a test output that can fail and come back.
fn engine_playing(
    secs: f64,
) -> (
    Engine<QueueOutput>,
    QueueOutput,
    AudioBuffer,
    tempfile::TempDir,
) {
    let t = tempfile::tempdir().unwrap();
    let buf = take(secs);
    let p = t.path().join("t.wav");
    genhist::audio::write_wav(&p, &buf, BitDepth::Float32).unwrap();
    let out = QueueOutput::default();
    let mut e = Engine::new(out.clone());
    let source = Source::new(std::fs::File::open(&p).unwrap(), p.clone());
    e.handle(PlayerCmd::Play {
        id: "t".into(),
        source,
    })
    .unwrap();
    (e, out, buf, t)
}

/// What the test output hands out for a take at its rate: its samples,
/// interleaved.
fn mono(buf: &AudioBuffer) -> Vec<f32> {
    buf.samples.clone()
}

#[test]
fn a_device_that_fails_mid_take_is_recovered_at_the_same_place() {
    let (mut e, out, buf, _t) = engine_playing(2.0);
    let want = mono(&buf);
    let first = out.pull(24_000);
    assert_eq!(first.len(), 24_000);
    // The device fails; for a while it cannot be opened again.
    out.down.store(true, std::sync::atomic::Ordering::SeqCst);
    *out.failure.lock().unwrap() = Some("device unplugged".into());
    let s = e.status();
    assert!(s.recovering && s.state == PlayState::Playing, "{s:?}");
    let notes = e.take_notes();
    assert!(
        notes
            .iter()
            .any(|n| matches!(n, PlayerEvent::Note(t) if t.contains("reconnecting"))),
        "{notes:?}"
    );
    let at = s.position;
    // It comes back: the next try opens it and the take goes on from there.
    std::thread::sleep(Duration::from_millis(50));
    out.down.store(false, std::sync::atomic::Ordering::SeqCst);
    let back = Instant::now();
    while e.status().recovering {
        assert!(
            back.elapsed() < Duration::from_millis(300),
            "back within 300 ms"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let notes = e.take_notes();
    assert!(
        notes
            .iter()
            .any(|n| matches!(n, PlayerEvent::Note(t) if t.contains("sound back"))),
        "{notes:?}"
    );
    let from = 2 * (at.as_secs_f64() * 48_000.0).round() as usize;
    let again = out.pull(1000);
    assert_eq!(again.len(), 1000);
    let err = again
        .iter()
        .zip(&want[from..])
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(err < 1e-4, "continues where it was: {err}");
}

#[test]
fn paused_stays_paused_and_a_device_gone_for_good_is_said() {
    let (mut e, out, _buf, _t) = engine_playing(2.0);
    out.pull(4800);
    e.handle(PlayerCmd::TogglePause).unwrap();
    out.down.store(true, std::sync::atomic::Ordering::SeqCst);
    *out.failure.lock().unwrap() = Some("suspended".into());
    e.status();
    out.down.store(false, std::sync::atomic::Ordering::SeqCst);
    while e.status().recovering {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(e.status().state, PlayState::Paused);
    assert!(out.pull(100).iter().all(|v| *v == 0.0), "paused: silence");
    // Gone for good: after the recovery time the engine stops and says so.
    out.down.store(true, std::sync::atomic::Ordering::SeqCst);
    *out.failure.lock().unwrap() = Some("unplugged".into());
    e.tick(Instant::now());
    let later = Instant::now() + genhist::playback::RECOVERY_FOR + Duration::from_millis(10);
    e.tick(later);
    let s = e.status();
    assert_eq!(s.state, PlayState::Idle);
    let notes = e.take_notes();
    assert!(
        notes
            .iter()
            .any(|n| matches!(n, PlayerEvent::Error(er) if er.to_string().contains(":device"))),
        "{notes:?}"
    );
}

#[test]
fn switching_devices_keeps_the_place_and_the_pause() {
    let (mut e, out, buf, _t) = engine_playing(2.0);
    let want = mono(&buf);
    out.pull(12_000);
    let at = e.status().position;
    let note = e
        .handle(PlayerCmd::SetDevice(Some("phones".into())))
        .unwrap();
    assert!(note.unwrap().contains("phones"));
    let s = e.status();
    assert_eq!(s.device.as_deref(), Some("phones"));
    let from = 2 * (at.as_secs_f64() * 48_000.0).round() as usize;
    let got = out.pull(500);
    let err = got
        .iter()
        .zip(&want[from..])
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(err < 1e-4, "{err}");
    e.handle(PlayerCmd::TogglePause).unwrap();
    e.handle(PlayerCmd::SetDevice(None)).unwrap();
    assert_eq!(e.status().state, PlayState::Paused);
    assert_eq!(e.status().device, None);
}

fn devices() -> Vec<DeviceInfo> {
    vec![
        DeviceInfo {
            name: "desk".into(),
            description: "Desk speakers".into(),
            default: true,
        },
        DeviceInfo {
            name: "phones".into(),
            description: "Studio headphones".into(),
            default: false,
        },
    ]
}

/// `:device` lists the devices (the one in use marked), `Enter` plays on
/// the chosen one; the status line names a device that is not the default.
#[test]
fn the_device_picker() {
    let (_t, d, _ids) = takes_dir(2);
    let mut dr = Driver::new(&d);
    dr.command("device");
    // The listing comes from the host; here it is given.
    dr.send(genhist::ui::event::Event::Devices(Ok(devices())));
    assert!(matches!(dr.app.mode, genhist::ui::app::Mode::Devices(_)));
    // The popup itself (the list behind it shows a temporary path).
    let screen = screen_text(&dr.app, 80, 24);
    let lines: Vec<Vec<char>> = screen
        .lines()
        .skip_while(|l| !l.contains("output device"))
        .take(4)
        .map(|l| l.chars().collect())
        .collect();
    let title: String = lines[0].iter().collect();
    let col = title[..title.find("┌ output").unwrap()].chars().count();
    let width = lines[0][col..].iter().position(|c| *c == '┐').unwrap() + 1;
    let popup: Vec<String> = lines
        .iter()
        .map(|l| l[col..col + width].iter().collect())
        .collect();
    insta::assert_snapshot!("device_picker", popup.join("\n"));
    dr.played.clear();
    dr.keys("j<Enter>");
    assert_eq!(dr.app.mode, genhist::ui::app::Mode::Normal);
    assert!(
        dr.played
            .contains(&PlayerCmd::SetDevice(Some("phones".into()))),
        "{:?}",
        dr.played
    );
    dr.send(genhist::ui::event::Event::Player(PlayerEvent::Status(
        genhist::playback::Status {
            device: Some("phones".into()),
            ..Default::default()
        },
    )));
    assert!(screen_text(&dr.app, 120, 40).contains("device phones"));
    // Esc closes without a change; an error listing is said.
    dr.command("device");
    dr.send(genhist::ui::event::Event::Devices(Ok(devices())));
    dr.played.clear();
    dr.keys("<Esc>");
    assert!(dr.played.is_empty());
    dr.command("device");
    dr.send(genhist::ui::event::Event::Devices(Err("no ALSA".into())));
    assert!(dr.message().contains("no ALSA"), "{}", dr.message());
}

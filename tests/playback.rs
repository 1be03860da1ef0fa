//! The playback engine without a sound device: a test output pulls samples
//! the way a sound card would.

mod common;

use common::*;
use genhist::audio::BitDepth;
use genhist::playback::{Engine, PlayState, PlayerCmd, QueueOutput, SeekTo};
use std::time::Duration;

fn engine_with_take(
    secs: f64,
) -> (
    tempfile::TempDir,
    Engine<QueueOutput>,
    QueueOutput,
    std::path::PathBuf,
) {
    let t = tempfile::tempdir().unwrap();
    let wav = t.path().join("take.wav");
    write_sine(&wav, 48_000, 1, secs, BitDepth::Int16);
    let out = QueueOutput::default();
    let engine = Engine::new(out.clone());
    (t, engine, out, wav)
}

/// Pulls `secs` of audio as the device would (the mixer side is 1 channel here).
fn pull_secs(out: &QueueOutput, secs: f64) -> Vec<f32> {
    out.pull((48_000.0 * secs) as usize)
}

#[test]
fn position_advances_as_samples_are_pulled() {
    let (_t, mut e, out, wav) = engine_with_take(3.0);
    e.handle(PlayerCmd::Play {
        id: "x".into(),
        source: genhist::playback::Source::open(&wav).unwrap(),
    })
    .unwrap();
    let s = e.status();
    assert_eq!(s.state, PlayState::Playing);
    assert_eq!(s.duration, Duration::from_secs(3));
    let samples = pull_secs(&out, 1.0);
    assert!(
        samples.iter().any(|v| v.abs() > 0.5),
        "the take's audio comes out"
    );
    let pos = e.status().position.as_secs_f64();
    assert!((0.9..=1.05).contains(&pos), "position {pos}");
}

#[test]
fn pause_freezes_and_resume_continues() {
    let (_t, mut e, out, wav) = engine_with_take(3.0);
    e.handle(PlayerCmd::Play {
        id: "x".into(),
        source: genhist::playback::Source::open(&wav).unwrap(),
    })
    .unwrap();
    pull_secs(&out, 0.5);
    e.handle(PlayerCmd::TogglePause).unwrap();
    let at = e.status().position;
    let silent = pull_secs(&out, 0.5);
    assert!(silent.iter().all(|v| *v == 0.0), "paused output is silent");
    assert_eq!(e.status().state, PlayState::Paused);
    assert!(e.status().position.abs_diff(at) < Duration::from_millis(20));
    e.handle(PlayerCmd::TogglePause).unwrap();
    pull_secs(&out, 0.5);
    assert!(e.status().position > at + Duration::from_millis(400));
}

#[test]
fn seek_moves_and_past_the_end_ends_the_take() {
    let (_t, mut e, out, wav) = engine_with_take(10.0);
    e.handle(PlayerCmd::Play {
        id: "x".into(),
        source: genhist::playback::Source::open(&wav).unwrap(),
    })
    .unwrap();
    e.handle(PlayerCmd::Seek(SeekTo::To(6.0))).unwrap();
    pull_secs(&out, 0.1);
    let pos = e.status().position.as_secs_f64();
    assert!((6.0..6.2).contains(&pos), "position {pos}");
    e.handle(PlayerCmd::Seek(SeekTo::By(-5.0))).unwrap();
    pull_secs(&out, 0.1);
    let pos = e.status().position.as_secs_f64();
    assert!((1.0..1.2).contains(&pos), "position {pos}");
    e.handle(PlayerCmd::Seek(SeekTo::By(60.0))).unwrap();
    assert_eq!(e.status().state, PlayState::Idle);
}

#[test]
fn stop_resets_and_the_end_returns_to_idle_or_loops() {
    let (_t, mut e, out, wav) = engine_with_take(0.5);
    e.handle(PlayerCmd::Play {
        id: "x".into(),
        source: genhist::playback::Source::open(&wav).unwrap(),
    })
    .unwrap();
    pull_secs(&out, 0.2);
    e.handle(PlayerCmd::Stop).unwrap();
    let s = e.status();
    assert_eq!(
        (s.state, s.position, s.id),
        (PlayState::Idle, Duration::ZERO, None)
    );
    e.handle(PlayerCmd::Play {
        id: "x".into(),
        source: genhist::playback::Source::open(&wav).unwrap(),
    })
    .unwrap();
    pull_secs(&out, 0.7);
    assert_eq!(e.status().state, PlayState::Idle, "ended");
    e.handle(PlayerCmd::SetLoop(true)).unwrap();
    e.handle(PlayerCmd::Play {
        id: "x".into(),
        source: genhist::playback::Source::open(&wav).unwrap(),
    })
    .unwrap();
    pull_secs(&out, 0.7);
    let s = e.status();
    assert_eq!(s.state, PlayState::Playing, "looped");
    assert!(s.position < Duration::from_millis(300));
}

#[test]
fn volume_scales_the_output() {
    let (_t, mut e, out, wav) = engine_with_take(1.0);
    e.handle(PlayerCmd::SetVolume(50)).unwrap();
    e.handle(PlayerCmd::Play {
        id: "x".into(),
        source: genhist::playback::Source::open(&wav).unwrap(),
    })
    .unwrap();
    let peak = pull_secs(&out, 0.2)
        .iter()
        .fold(0f32, |m, v| m.max(v.abs()));
    assert!((0.35..0.45).contains(&peak), "peak {peak} at 50% of 0.8");
}

#[test]
fn no_device_is_a_message_and_nothing_breaks() {
    let t = tempfile::tempdir().unwrap();
    let wav = t.path().join("take.wav");
    write_sine(&wav, 48_000, 1, 0.5, BitDepth::Int16);
    let out = QueueOutput {
        fail: Some("ALSA: no card".into()),
        ..Default::default()
    };
    let mut e = Engine::new(out);
    let err = e
        .handle(PlayerCmd::Play {
            id: "x".into(),
            source: genhist::playback::Source::open(&wav).unwrap(),
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("no audio output device") && err.contains("ALSA: no card"));
    assert_eq!(e.status().state, PlayState::Idle);
}

#[test]
fn unreadable_wav_is_a_message() {
    let t = tempfile::tempdir().unwrap();
    let bad = t.path().join("bad.wav");
    std::fs::write(&bad, b"RIFF....WAVEnope").unwrap();
    let mut e = Engine::new(QueueOutput::default());
    assert!(e
        .handle(PlayerCmd::Play {
            id: "x".into(),
            source: genhist::playback::Source::open(&bad).unwrap()
        })
        .is_err());
    assert_eq!(e.status().state, PlayState::Idle);
}

#[test]
fn seek_past_the_end_says_so_and_wraps_when_looping() {
    let (_t, mut e, out, wav) = engine_with_take(2.0);
    let play = |e: &mut Engine<QueueOutput>| {
        e.handle(PlayerCmd::Play {
            id: "x".into(),
            source: genhist::playback::Source::open(&wav).unwrap(),
        })
        .unwrap()
    };
    play(&mut e);
    let note = e.handle(PlayerCmd::Seek(SeekTo::By(5.0))).unwrap();
    assert_eq!(note.as_deref(), Some("seek past the end: stopped"));
    assert_eq!(e.status().state, PlayState::Idle);
    e.handle(PlayerCmd::SetLoop(true)).unwrap();
    play(&mut e);
    pull_secs(&out, 0.5);
    // 0.5 s + 2.5 s is 1 s into the next time round.
    assert_eq!(e.handle(PlayerCmd::Seek(SeekTo::By(2.5))).unwrap(), None);
    pull_secs(&out, 0.05);
    let s = e.status();
    assert_eq!(s.state, PlayState::Playing);
    let pos = s.position.as_secs_f64();
    assert!((1.0..1.2).contains(&pos), "position {pos}");
}

#[test]
fn the_device_is_released_when_idle_and_opened_again_to_play() {
    let (_t, mut e, out, wav) = engine_with_take(0.2);
    let opens = |out: &QueueOutput| *out.state.lock().unwrap();
    e.handle(PlayerCmd::Play {
        id: "x".into(),
        source: genhist::playback::Source::open(&wav).unwrap(),
    })
    .unwrap();
    assert_eq!(opens(&out), (true, 1), "opened to play");
    pull_secs(&out, 0.3);
    let t0 = std::time::Instant::now();
    e.tick(t0);
    assert_eq!(e.status().state, PlayState::Idle, "ended");
    e.tick(t0 + genhist::playback::IDLE_RELEASE / 2);
    assert!(opens(&out).0, "still open a moment after the end");
    e.tick(t0 + genhist::playback::IDLE_RELEASE + Duration::from_millis(1));
    assert_eq!(opens(&out), (false, 1), "released after a quiet while");
    e.handle(PlayerCmd::Play {
        id: "x".into(),
        source: genhist::playback::Source::open(&wav).unwrap(),
    })
    .unwrap();
    assert_eq!(opens(&out), (true, 2), "opened again for the next take");
}

#[test]
fn the_player_thread_reports_a_0_hz_take_and_plays_the_next() {
    let t = tempfile::tempdir().unwrap();
    write_sine(&t.path().join("good.wav"), 48_000, 1, 0.3, BitDepth::Int16);
    let mut b = std::fs::read(t.path().join("good.wav")).unwrap();
    b[24..28].copy_from_slice(&0u32.to_le_bytes());
    std::fs::write(t.path().join("zero.wav"), b).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let player = genhist::playback::PlayerThread::spawn(QueueOutput::default(), move |e| {
        let _ = tx.send(e);
    });
    let open = |name: &str| PlayerCmd::Open {
        id: name.into(),
        dir: t.path().to_path_buf(),
        path: genhist::store::paths::RelPath::parse(name).unwrap(),
        peak: None,
    };
    player.send(open("zero.wav"));
    let why = loop {
        match rx.recv_timeout(Duration::from_secs(5)).expect("an answer") {
            genhist::playback::PlayerEvent::Error(why) => break why.to_string(),
            _ => continue,
        }
    };
    assert!(why.contains("0 Hz"), "{why}");
    // The thread lives on.
    player.send(open("good.wav"));
    loop {
        match rx.recv_timeout(Duration::from_secs(5)).expect("a status") {
            genhist::playback::PlayerEvent::Status(s) if s.state == PlayState::Playing => break,
            genhist::playback::PlayerEvent::Error(why) => panic!("{why}"),
            _ => continue,
        }
    }
}

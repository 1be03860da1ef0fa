//! Fixtures shared by the integration tests: synthesized WAVs and history
//! directories in the Python tool's exact format.
#![allow(dead_code)]

use genhist::audio::{write_wav, AudioBuffer, BitDepth};
use std::fs;
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
    term.draw(|f| genhist::ui::draw::draw(f, app, now)).unwrap();
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

/// One entry in the seed's layout, with `audio` and `thumb` as its paths.
pub fn entry_json(id: &str, ts: &str, audio: &str, thumb: &str) -> serde_json::Value {
    serde_json::json!({
        "entry_id": id,
        "timestamp": ts,
        "model_id": "m",
        "model_name": format!("Model {}", &id[..id.len().min(4)]),
        "slider_positions": [1, 0, -2],
        "n_components": 3,
        "seed": 42,
        "duration_s": 0.05,
        "sample_rate": 8000,
        "stereo_mode": "mono",
        "preset_name": "custom",
        "audio_file": audio,
        "thumbnail_file": thumb,
        "quality_score": {"snr_db": 20.5},
        "latent_vector": null
    })
}

/// A history directory with `n` takes (ids `t0000…`, newest first by
/// index), each with a real WAV (0.05 s) and PNG at the default paths.
pub fn takes_dir(n: usize) -> (tempfile::TempDir, PathBuf, Vec<String>) {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("hist");
    std::fs::create_dir_all(d.join("audio")).unwrap();
    std::fs::create_dir_all(d.join("thumbnails")).unwrap();
    let buf = sine(8000, 1, 0.05, 440.0);
    let mut wav = Vec::new();
    genhist::audio::write_wav_to(std::io::Cursor::new(&mut wav), &buf, BitDepth::Int16).unwrap();
    let mut png = std::io::Cursor::new(Vec::new());
    genhist::thumbnail::write_thumbnail_to(&mut png, &buf).unwrap();
    let png = png.into_inner();
    let mut entries = serde_json::Map::new();
    let mut ids = Vec::new();
    for i in 0..n {
        let id = format!("t{i:04}-{}", "0123456789ab");
        let ts = format!(
            "2026-11-{:02}T{:02}:{:02}:00+00:00",
            20 - (i / 1440) % 19,
            23 - (i / 60) % 24,
            59 - i % 60
        );
        let (a, p) = (format!("audio/{id}.wav"), format!("thumbnails/{id}.png"));
        // Each WAV differs in one byte, so a swap would show.
        let mut w = wav.clone();
        let last = w.len() - 1;
        w[last] = (i % 251) as u8;
        std::fs::write(d.join(&a), &w).unwrap();
        std::fs::write(d.join(&p), &png).unwrap();
        entries.insert(id.clone(), entry_json(&id, &ts, &a, &p));
        ids.push(id);
    }
    let doc = serde_json::json!({"version": 1, "entries": entries});
    std::fs::write(
        d.join("history.json"),
        genhist::store::pyjson::to_python_json(&doc),
    )
    .unwrap();
    (t, d, ids)
}

/// The ids in a history directory's index, in file order.
pub fn index_ids(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("history.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["entries"].as_object().unwrap().keys().cloned().collect()
}

/// Files under `dir` whose names look like a writer's leftovers.
pub fn leftover_temps(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                if !(d.ends_with("trash")) {
                    stack.push(p.clone());
                }
                if name.starts_with(".pending-")
                    || name.starts_with(".restoring-")
                    || name.starts_with(".purging-")
                {
                    out.push(p);
                }
                continue;
            }
            if genhist::fsutil::is_temp_name(&name) || name.ends_with(".genhist-tmp") {
                out.push(p);
            }
        }
    }
    out.extend(
        std::fs::read_dir(dir.join(".genhist/adding"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path()),
    );
    out
}

/// Key events for `s`: characters as they are, `<Enter>`, `<Esc>`, `<Tab>`,
/// `<BackTab>`, `<Up>`, `<Down>`, `<Left>`, `<Right>`, `<PgDn>`, `<C-r>`,
/// `<Space>`, `<BS>`.
pub fn key_events(s: &str) -> Vec<genhist::ui::event::Event> {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let (code, mods, len) = if let Some(end) = rest.strip_prefix('<').and_then(|r| r.find('>'))
        {
            let name = &rest[1..end + 1];
            let (code, mods) = match name {
                "Enter" => (KeyCode::Enter, KeyModifiers::NONE),
                "Esc" => (KeyCode::Esc, KeyModifiers::NONE),
                "Tab" => (KeyCode::Tab, KeyModifiers::NONE),
                "BackTab" => (KeyCode::BackTab, KeyModifiers::SHIFT),
                "Up" => (KeyCode::Up, KeyModifiers::NONE),
                "Down" => (KeyCode::Down, KeyModifiers::NONE),
                "Left" => (KeyCode::Left, KeyModifiers::NONE),
                "Right" => (KeyCode::Right, KeyModifiers::NONE),
                "PgDn" => (KeyCode::PageDown, KeyModifiers::NONE),
                "Space" => (KeyCode::Char(' '), KeyModifiers::NONE),
                "BS" => (KeyCode::Backspace, KeyModifiers::NONE),
                "C-r" => (KeyCode::Char('r'), KeyModifiers::CONTROL),
                other => panic!("unknown key name {other}"),
            };
            (code, mods, end + 2)
        } else {
            let c = rest.chars().next().unwrap();
            let mods = if c.is_uppercase() {
                KeyModifiers::SHIFT
            } else {
                KeyModifiers::NONE
            };
            (KeyCode::Char(c), mods, c.len_utf8())
        };
        out.push(genhist::ui::event::Event::Key(KeyEvent::new(code, mods)));
        rest = &rest[len..];
    }
    out
}

/// Presses keys on an `App` alone (no workers: effects are dropped).
pub fn press(app: &mut genhist::ui::app::App, s: &str) {
    for ev in key_events(s) {
        app.update(ev);
    }
}

/// The browser's `App` with its real store, peaks and view workers, but no
/// terminal and no sound device (player commands are recorded). Tests press
/// keys and wait for what a user would see.
pub struct Driver {
    pub app: genhist::ui::app::App,
    rx: std::sync::mpsc::Receiver<genhist::ui::event::Event>,
    workers: genhist::ui::workers::Workers,
    pub dir: PathBuf,
    pub played: Vec<genhist::playback::PlayerCmd>,
    pub quit: bool,
    /// Flushes the store worker has answered.
    flushed: usize,
    /// A player over a device-less output, when asked for
    /// ([`Driver::with_player`]); else player commands are only recorded.
    pub player: Option<(
        genhist::playback::PlayerThread,
        genhist::playback::QueueOutput,
    )>,
    tx: std::sync::mpsc::Sender<genhist::ui::event::Event>,
}

impl Driver {
    pub fn new(dir: &Path) -> Driver {
        let (tx, rx) = std::sync::mpsc::channel();
        let app = genhist::ui::open_app(dir, None).unwrap();
        let hd = genhist::store::HistoryDir::new(dir);
        let mut d = Driver {
            app,
            rx,
            workers: genhist::ui::workers::Workers::spawn(
                hd,
                dir.join(".genhist_history"),
                tx.clone(),
            ),
            dir: dir.to_path_buf(),
            played: Vec::new(),
            quit: false,
            flushed: 0,
            player: None,
            tx,
        };
        d.send(genhist::ui::event::Event::Resize(120, 40));
        // The full load is in when the store worker's first sizes come.
        d.wait("the full load", |a| {
            a.store.loading().is_none() && a.busy.is_none()
        });
        d.settle();
        d
    }

    /// The same, with a real player over a device-less output whose
    /// samples the test pulls (`player.1.pull`).
    pub fn with_player(dir: &Path) -> Driver {
        let mut d = Driver::new(dir);
        let out = genhist::playback::QueueOutput::default();
        let tx = d.tx.clone();
        let thread = genhist::playback::PlayerThread::spawn(out.clone(), move |e| {
            let _ = tx.send(genhist::ui::event::Event::Player(e));
        });
        d.player = Some((thread, out));
        d
    }

    /// Hands effects to the workers (player commands are recorded, and
    /// given to the player when there is one).
    pub fn perform(&mut self, fx: Vec<genhist::ui::event::Effect>) {
        use genhist::ui::event::Effect;
        for e in fx {
            match self.workers.perform(e) {
                Some(Effect::Player(c)) => {
                    if let Some((p, _)) = &self.player {
                        p.send(c.clone());
                    }
                    self.played.push(c)
                }
                Some(Effect::Quit) => self.quit = true,
                _ => {}
            }
        }
    }

    pub fn send(&mut self, ev: genhist::ui::event::Event) {
        if let genhist::ui::event::Event::Store(s) = &ev {
            if matches!(**s, genhist::ui::event::StoreEvent::Flushed(_)) {
                self.flushed += 1;
            }
        }
        let fx = self.app.update(ev);
        self.perform(fx);
    }

    /// Presses keys (see [`key_events`]).
    pub fn keys(&mut self, s: &str) {
        for ev in key_events(s) {
            self.send(ev);
        }
    }

    /// Runs a `:` command as typed.
    pub fn command(&mut self, line: &str) {
        self.keys(":");
        self.keys(line);
        self.keys("<Enter>");
    }

    /// Handles events until `ok` holds (or fails after 15 s).
    pub fn wait(&mut self, what: &str, ok: impl Fn(&genhist::ui::app::App) -> bool) {
        let start = std::time::Instant::now();
        while !ok(&self.app) {
            if start.elapsed() > std::time::Duration::from_secs(15) {
                panic!(
                    "timed out waiting for {what}; message: {:?}",
                    self.app.message().map(|m| &m.text)
                );
            }
            if let Ok(ev) = self.rx.recv_timeout(std::time::Duration::from_millis(20)) {
                self.send(ev);
            }
        }
    }

    /// Waits until everything the app has asked for is done: every write
    /// the store worker was sent (it answers a flush after them), the list
    /// and the search being computed, and the waveforms of the rows shown.
    pub fn settle(&mut self) {
        let want = self.flushed + 1;
        let flush = self.app.flush();
        self.perform(vec![flush]);
        let start = std::time::Instant::now();
        while self.flushed < want {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(15),
                "timed out waiting for the store worker's flush"
            );
            if let Ok(ev) = self.rx.recv_timeout(std::time::Duration::from_millis(20)) {
                self.send(ev);
            }
        }
        self.wait("the list and the search", |a| {
            !a.list.view.pending && !a.find.pending
        });
        self.wait("the waveforms shown", |a| {
            let rows = &a.list.view.rows;
            let shown = a.list.offset..(a.list.offset + a.page()).min(rows.len());
            rows[shown].iter().all(|e| {
                !matches!(
                    a.waves.peaks.get(&e.entry_id),
                    None | Some(genhist::ui::app::PeakState::Pending)
                )
            })
        });
    }

    /// Handles events until the app says to quit (or fails after 15 s).
    pub fn wait_quit(&mut self) {
        let start = std::time::Instant::now();
        while !self.quit {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(15),
                "timed out waiting for the app to quit; message: {:?}",
                self.app.message().map(|m| &m.text)
            );
            if let Ok(ev) = self.rx.recv_timeout(std::time::Duration::from_millis(20)) {
                self.send(ev);
            }
        }
    }

    pub fn selected(&self) -> String {
        self.app
            .selected_entry()
            .map(|e| e.entry_id.clone())
            .unwrap_or_default()
    }

    /// The status bar's message.
    pub fn message(&self) -> String {
        self.app
            .message()
            .map(|m| m.text.clone())
            .unwrap_or_default()
    }

    pub fn rows(&self) -> Vec<String> {
        self.app
            .list
            .view
            .rows
            .iter()
            .map(|e| e.entry_id.clone())
            .collect()
    }
}

/// Adds a take to the history `h` (as `genhist add` does), then follows the
/// file.
pub fn add_take(
    h: &mut genhist::store::GenerationHistory,
    buf: &genhist::audio::AudioBuffer,
    depth: genhist::audio::BitDepth,
    new: genhist::store::NewEntry,
) -> Result<genhist::store::HistoryEntry, genhist::store::StoreError> {
    let hd = genhist::store::HistoryDir::new(h.dir());
    let e = genhist::store::change::add(&hd, &mut buf.stream(), depth, new)?;
    h.reload()?;
    Ok(e)
}

/// Deletes takes of `h` to the trash (as `genhist delete` does), then
/// follows the file.
pub fn delete_takes(
    h: &mut genhist::store::GenerationHistory,
    ids: &[&str],
) -> Result<genhist::store::DeleteReport, genhist::store::StoreError> {
    let hd = genhist::store::HistoryDir::new(h.dir());
    let r = genhist::store::change::delete(
        &hd,
        genhist::store::Selection::Ids(ids.iter().map(|s| s.to_string()).collect()),
        genhist::store::DeleteOptions::default(),
    )?;
    h.reload()?;
    Ok(r)
}

/// A test (or a part of one) that cannot run on this machine says so where
/// it is seen, past the test harness's capture of output, and is counted
/// in `skipped-tests.txt` under the target directory's tmp.
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    let line = format!("SKIPPED {test}: {why}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("skipped-tests.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(line.as_bytes());
    }
}

/// True when this process runs as root (permission bits do not bind it).
pub fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

// The CLI as the corner tests drive it.

pub fn dir_str(d: &Path) -> &str {
    d.to_str().unwrap()
}

pub fn run(d: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    genhist()
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .arg("--dir")
        .arg(d)
        .args(args)
        .assert()
}

/// `genhist` killed (or failed) at an injected fault point.
pub fn run_fault(d: &Path, fault: &str, args: &[&str]) -> std::process::Output {
    genhist()
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .env("GENHIST_FAULT", fault)
        .arg("--dir")
        .arg(d)
        .args(args)
        .output()
        .unwrap()
}

pub fn was_killed(out: &std::process::Output) -> bool {
    use std::os::unix::process::ExitStatusExt;
    out.status.signal() == Some(9)
}

pub fn annotations(d: &Path) -> serde_json::Value {
    match fs::read(d.join(".genhist/annotations.json")) {
        Ok(b) => serde_json::from_slice(&b).unwrap(),
        Err(_) => serde_json::json!({"takes": {}}),
    }
}

pub fn batches(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(d.join(".genhist/trash"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

pub fn wav_of(d: &Path, id: &str) -> PathBuf {
    d.join(format!("audio/{id}.wav"))
}

pub fn mknod(path: &Path, kind: rustix::fs::FileType, dev: u64) -> bool {
    rustix::fs::mknodat(
        rustix::fs::CWD,
        path,
        kind,
        rustix::fs::Mode::from_raw_mode(0o666),
        dev,
    )
    .is_ok()
}

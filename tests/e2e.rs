//! The real binary in a pseudo-terminal, its screen read back with vt100:
//! open a demo directory, move, search, run a command, recall it with ↑
//! after a restart, delete with confirm (files gone), undo (files back), and
//! quit with the terminal restored.

mod common;

use common::genhist;
use portable_pty::{native_pty_system, Child, CommandBuilder, MasterPty, PtySize};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROWS: u16 = 32;
const COLS: u16 = 110;

struct Tui {
    child: Box<dyn Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    parser: Arc<Mutex<vt100::Parser>>,
    _master: Box<dyn MasterPty + Send>,
}

impl Tui {
    fn start(dir: &Path, state: &Path) -> Tui {
        Tui::start_with(dir, state, &[])
    }

    fn start_with(dir: &Path, state: &Path, env: &[(&str, &str)]) -> Tui {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_genhist"));
        cmd.args(["--dir", dir.to_str().unwrap()]);
        cmd.env("TERM", "xterm-256color");
        cmd.env("XDG_STATE_HOME", state);
        cmd.env("HOME", state);
        cmd.env("XDG_CONFIG_HOME", state);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.cwd(state);
        let child = pair.slave.spawn_command(cmd).unwrap();
        drop(pair.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(ROWS, COLS, 0)));
        let mut reader = pair.master.try_clone_reader().unwrap();
        let sink = parser.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().process(&buf[..n]);
            }
        });
        let writer = pair.master.take_writer().unwrap();
        Tui {
            child,
            writer,
            parser,
            _master: pair.master,
        }
    }

    fn screen(&self) -> String {
        self.parser.lock().unwrap().screen().contents()
    }

    /// Waits until the screen satisfies `ok`; panics with the screen if not.
    fn wait_for(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if start.elapsed() > Duration::from_secs(15) {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn keys(&mut self, s: &str) {
        self.writer.write_all(s.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        // Lone Esc is told apart from escape sequences by a pause.
        std::thread::sleep(Duration::from_millis(if s == "\x1b" { 150 } else { 40 }));
    }

    /// Quits with `q` and checks the exit and what the terminal was left in.
    fn quit(mut self) {
        self.keys("q");
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "genhist did not quit"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{status:?}");
        std::thread::sleep(Duration::from_millis(100));
        let p = self.parser.lock().unwrap();
        let screen = p.screen();
        assert!(!screen.alternate_screen(), "left the alternate screen");
        assert!(!screen.hide_cursor(), "cursor shown again");
        assert_eq!(
            screen.mouse_protocol_mode(),
            vt100::MouseProtocolMode::None,
            "mouse reporting off"
        );
    }
}

#[test]
fn browse_search_command_recall_delete_undo_quit() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("demo");
    let state = t.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    genhist()
        .args(["demo", dir.to_str().unwrap(), "--count", "12"])
        .assert()
        .success();
    let out = genhist()
        .args(["--dir", dir.to_str().unwrap(), "list", "--json"])
        .output()
        .unwrap();
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<String> = listed
        .iter()
        .map(|e| e["entry_id"].as_str().unwrap().to_string())
        .collect();
    let short = |id: &str| id[..8].to_string();

    let mut tui = Tui::start(&dir, &state);
    tui.wait_for("the list", |s| {
        s.contains("1/12") && s.contains(&short(&ids[0]))
    });

    // Move: the panel follows the selection.
    tui.keys("j");
    tui.wait_for("second entry in the panel", |s| s.contains(&ids[1][..24]));

    // Search: lands on the first match from the top, Esc goes back.
    let model = listed[3]["model_id"].as_str().unwrap().to_string();
    let matching = listed
        .iter()
        .filter(|e| e["model_id"].as_str() == Some(&model))
        .count();
    let first = listed
        .iter()
        .position(|e| e["model_id"].as_str() == Some(&model))
        .unwrap();
    tui.keys("/");
    tui.keys(&model);
    tui.wait_for("search results", |s| {
        s.contains(&format!("/{model}"))
            && s.contains(&format!("match 1/{matching}"))
            && s.contains(&format!("{}/12", first + 1))
    });
    tui.keys("\x1b");
    tui.wait_for("search cleared", |s| {
        s.contains("2/12") && !s.contains("match")
    });

    // A command: the oldest entry comes first.
    tui.keys(":sort oldest\r");
    tui.wait_for("sorted oldest first", |s| {
        s.contains("sort: oldest") && {
            let first = s.find(&short(&ids[11])).unwrap_or(usize::MAX);
            first < s.find(&short(&ids[0])).unwrap_or(0)
        }
    });
    tui.quit();

    // Restart: the sort is remembered, and ↑ in the command bar brings the
    // command back.
    let mut tui = Tui::start(&dir, &state);
    tui.wait_for("the list again, oldest first", |s| {
        s.contains("1/12") && s.contains("sort: oldest")
    });
    tui.keys(":");
    tui.keys("\x1b[A");
    tui.wait_for("recalled command", |s| {
        s.lines().any(|l| l.trim_end() == ":sort oldest")
    });
    tui.keys("\x1b");
    tui.keys(":sort newest\r");
    tui.keys("g");
    tui.wait_for("newest first", |s| {
        s.contains("sort: newest") && s.contains("1/12")
    });

    // Delete the selected (newest) take with confirmation: files gone.
    let index = dir.join("history.json");
    let index_before = std::fs::read(&index).unwrap();
    let wav = dir.join(format!("audio/{}.wav", ids[0]));
    let png = dir.join(format!("thumbnails/{}.png", ids[0]));
    let (wav_bytes, png_bytes) = (std::fs::read(&wav).unwrap(), std::fs::read(&png).unwrap());
    tui.keys("d");
    tui.wait_for("confirmation", |s| s.contains("Delete 1 take"));
    assert!(wav.exists(), "nothing is deleted before y");
    tui.keys("y");
    tui.wait_for("deleted", |s| {
        s.contains("deleted 1 take") && s.contains("1/11")
    });
    assert!(!wav.exists() && !png.exists(), "files are gone");
    assert!(!std::fs::read_to_string(&index).unwrap().contains(&ids[0]));

    // Undo: files and index back, byte for byte.
    tui.keys("u");
    tui.wait_for("restored", |s| {
        s.contains("undid delete of") && s.contains("1/12")
    });
    assert_eq!(std::fs::read(&wav).unwrap(), wav_bytes);
    assert_eq!(std::fs::read(&png).unwrap(), png_bytes);
    assert_eq!(std::fs::read(&index).unwrap(), index_before);

    // Live: another program adds a take; the list shows it within a second
    // and the selection stays on the same entry.
    tui.keys("jj");
    tui.wait_for("third entry selected", |s| s.contains(&ids[2][..24]));
    let wav_in = t.path().join("new.wav");
    common::write_sine(&wav_in, 48_000, 1, 0.5, genhist::audio::BitDepth::Int16);
    genhist()
        .args([
            "--dir",
            dir.to_str().unwrap(),
            "add",
            wav_in.to_str().unwrap(),
        ])
        .args(["--model-id", "live", "--model-name", "Live Take"])
        .assert()
        .success();
    let added = Instant::now();
    let s = tui.wait_for("the new take", |s| {
        s.contains("4/13") && s.contains("Live Take")
    });
    assert!(
        added.elapsed() < Duration::from_millis(1500),
        "{:?}",
        added.elapsed()
    );
    assert!(s.contains(&ids[2][..24]), "selection kept:\n{s}");
    tui.quit();
}

/// A panicking waveform reader and a panicking player stay in their
/// threads: the takes say "cannot read", playing says "cannot play", keys
/// still work, and the terminal is given back only when genhist quits.
#[test]
fn worker_panics_stay_in_their_workers() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("demo");
    let state = t.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    genhist()
        .args(["demo", dir.to_str().unwrap(), "--count", "4"])
        .assert()
        .success();
    let mut tui = Tui::start_with(&dir, &state, &[("GENHIST_FAULT", "peaks,player")]);
    tui.wait_for("the takes, unreadable", |s| {
        s.contains("1/4") && s.contains("cannot read") && s.contains("injected fault")
    });
    tui.keys("\r");
    tui.wait_for("the player's message", |s| {
        s.contains("cannot play: injected fault")
    });
    tui.keys("j");
    tui.wait_for("still working", |s| s.contains("2/4"));
    {
        let p = tui.parser.lock().unwrap();
        assert!(p.screen().alternate_screen(), "still full-screen");
    }
    tui.quit();
}

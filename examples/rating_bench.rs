//! Benchmark: 100 ratings in culling mode at 100,000 takes. Measures the
//! CPU the whole process spends (every thread: the app, the store worker's
//! writes, the other workers) from the first rating key until the store
//! worker says every rating is on disk; at the end checks the file.
//!
//! Then `u` 20 times (each takes back the newest rating): the time from
//! the key to the end of the frame (120x40, ratatui's `TestBackend`) that
//! shows the take without that rating.
//!
//! usage: cargo run --release --example rating_bench [TAKES]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use genhist::ui::event::{Effect, Event};
use std::time::{Duration, Instant};

/// CPU time of this process so far (user + system, all threads).
fn cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &text[text.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 (11 and 12 after the name).
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    Duration::from_secs_f64(ticks as f64 / 100.0)
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("hist");
    genhist::demo::write_demo(&dir, n, false, 7).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let workers = genhist::ui::workers::Workers::spawn(
        genhist::store::HistoryDir::new(&dir),
        scratch.path().join("cmd-history"),
        tx,
    );
    let mut app = genhist::ui::open_app(&dir, None).unwrap();
    app.update(Event::Resize(120, 40));
    let mut quit = false;
    let perform = |fx: Vec<Effect>, quit: &mut bool| {
        for e in fx {
            if let Some(Effect::Quit) = workers.perform(e) {
                *quit = true;
            }
        }
    };
    // The full load first (not part of what is measured): the store
    // worker answers a flush once it is done.
    perform(vec![app.flush()], &mut quit);
    loop {
        let ev = rx.recv().unwrap();
        let flushed = matches!(&ev, Event::Store(s)
            if matches!(**s, genhist::ui::event::StoreEvent::Flushed(_)));
        let fx = app.update(ev);
        perform(fx, &mut quit);
        if flushed {
            break;
        }
    }
    let key = |c: char| Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    let fx = app.update(key('c'));
    perform(fx, &mut quit);
    let (t0, c0) = (Instant::now(), cpu());
    let mut rated = Vec::new();
    for i in 0..100 {
        // What the workers said meanwhile, as the runner hands it over.
        while let Ok(ev) = rx.try_recv() {
            let fx = app.update(ev);
            perform(fx, &mut quit);
        }
        rated.push(app.selected_entry().unwrap().entry_id.clone());
        let fx = app.update(key(char::from(b'1' + (i % 5) as u8)));
        perform(fx, &mut quit);
    }
    // Every rating on disk before the undos (flush), then `u` 20 times.
    let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
    let settle = |app: &mut genhist::ui::app::App, quit: &mut bool| {
        perform(vec![app.flush()], quit);
        loop {
            let ev = rx.recv().unwrap();
            let flushed = matches!(&ev, Event::Store(s)
                if matches!(**s, genhist::ui::event::StoreEvent::Flushed(_)));
            let fx = app.update(ev);
            perform(fx, quit);
            if flushed {
                break;
            }
        }
    };
    settle(&mut app, &mut quit);
    let (wall, spent) = (t0.elapsed(), cpu() - c0);
    let mut undo_times = Vec::new();
    for id in rated.iter().rev().take(20) {
        let start = Instant::now();
        let fx = app.update(key('u'));
        perform(fx, &mut quit);
        // Until the app holds the take without its rating, then one frame.
        while app.triage.notes.get(id).is_some_and(|a| a.rating != 0) {
            let ev = rx.recv().unwrap();
            let fx = app.update(ev);
            perform(fx, &mut quit);
        }
        term.draw(|f| genhist::ui::draw::draw(f, &app, chrono::Utc::now()))
            .unwrap();
        undo_times.push(start.elapsed());
        settle(&mut app, &mut quit);
    }
    undo_times.sort();
    println!(
        "u on a rating, key to frame: median {:.1} ms, max {:.1} ms (20 undos)",
        undo_times[10].as_secs_f64() * 1e3,
        undo_times[19].as_secs_f64() * 1e3
    );
    let fx = app.update(key('q'));
    perform(fx, &mut quit);
    while !quit {
        let ev = rx.recv().unwrap();
        let fx = app.update(ev);
        perform(fx, &mut quit);
    }
    let file: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(".genhist/annotations.json")).unwrap())
            .unwrap();
    // The 20 newest were undone.
    let on_disk = rated[..80]
        .iter()
        .filter(|id| file["takes"][id.as_str()]["rating"].is_number())
        .count()
        + 20;
    println!(
        "100 ratings in culling mode at {n} takes, until all are on disk: {:.0} ms of CPU in all, {:.0} ms wall; {on_disk} of 100 in the file at the end (80 kept, 20 undone)",
        spent.as_secs_f64() * 1e3,
        wall.as_secs_f64() * 1e3
    );
    assert_eq!(on_disk, 100);
}

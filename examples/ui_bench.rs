//! Benchmark of the browser's targets (issue 4) without a terminal: the same
//! startup, key handling and drawing code as `genhist DIR`, drawn into a
//! 120x40 TestBackend. Also times peak extraction of a 10 s 48 kHz mono WAV.
//!
//! usage: cargo run --release --example ui_bench -- DIR   (see docs/performance.md)
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use genhist::ui::{self, render};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::time::{Duration, Instant};

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: ui_bench DIR"));
    let scratch = tempfile::tempdir().unwrap();
    let history = scratch.path().join("cmd_history");
    let now = chrono::Utc::now();

    // Start to first complete frame.
    let t = Instant::now();
    let mut app = ui::open_app(&dir, Some(history.clone())).unwrap();
    let mut term = Terminal::new(TestBackend::new(120, 40)).unwrap();
    term.draw(|f| render::draw(f, &app, now)).unwrap();
    let first = t.elapsed();
    println!(
        "first frame: {:.1} ms ({} newest of {} entries)",
        first.as_secs_f64() * 1e3,
        app.entries().len(),
        app.store.loading().unwrap_or(app.entries().len())
    );
    // The rest, as the browser's watcher thread loads it, swapped in.
    let full = genhist::store::GenerationHistory::open(&dir).unwrap();
    let swap = Instant::now();
    app.replace_store(full, None);
    term.draw(|f| render::draw(f, &app, now)).unwrap();
    let swap = swap.elapsed();
    println!(
        "all entries on screen: {:.1} ms ({} entries; swapping them in took the UI thread {:.1} ms)",
        t.elapsed().as_secs_f64() * 1e3,
        app.entries().len(),
        swap.as_secs_f64() * 1e3
    );

    // A key handled and the next frame drawn.
    let keys = [
        KeyCode::Char('j'),
        KeyCode::Char('j'),
        KeyCode::PageDown,
        KeyCode::Char('k'),
        KeyCode::Char('G'),
        KeyCode::PageUp,
        KeyCode::Char('g'),
        KeyCode::Down,
        KeyCode::Char('m'),
        KeyCode::End,
        KeyCode::Home,
    ];
    let mut times = Vec::new();
    for i in 0..2000 {
        let t = Instant::now();
        let effects = ui::handle_key(&mut app, key(keys[i % keys.len()]));
        assert!(effects.is_empty());
        term.draw(|f| render::draw(f, &app, now)).unwrap();
        times.push(t.elapsed());
    }
    println!(
        "key + frame: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} keys)",
        percentile(&mut times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut times, 0.99).as_secs_f64() * 1e3,
        times.iter().max().unwrap().as_secs_f64() * 1e3,
        times.len()
    );

    // Incremental search, one keystroke at a time. The index it uses is built
    // while the UI is idle after the first frame; timed here on its own.
    let t = Instant::now();
    app.warm_search_index();
    println!(
        "search index build (with each load, off the UI thread; idle time after a delete): {:.1} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut times = Vec::new();
    for _round in 0..5 {
        ui::handle_key(&mut app, key(KeyCode::Char('/')));
        for c in "noise fx".chars() {
            let t = Instant::now();
            ui::handle_key(&mut app, key(KeyCode::Char(c)));
            term.draw(|f| render::draw(f, &app, now)).unwrap();
            times.push(t.elapsed());
        }
        let shown = app.view.len();
        for _ in 0.."noise fx".len() {
            let t = Instant::now();
            ui::handle_key(&mut app, key(KeyCode::Backspace));
            term.draw(|f| render::draw(f, &app, now)).unwrap();
            times.push(t.elapsed());
        }
        ui::handle_key(&mut app, key(KeyCode::Esc));
        assert!(
            shown > 0 && shown < app.view.len(),
            "search narrowed the list"
        );
    }
    println!(
        "search keystroke + frame: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} keystrokes)",
        percentile(&mut times, 0.5).as_secs_f64() * 1e3,
        percentile(&mut times, 0.99).as_secs_f64() * 1e3,
        times.iter().max().unwrap().as_secs_f64() * 1e3,
        times.len()
    );
    println!(
        "peak RSS after loading and browsing: {:.0} MiB",
        peak_rss_mib()
    );

    // Peak extraction: 10 s of 48 kHz 16-bit mono.
    let wav = scratch.path().join("ten_seconds.wav");
    let samples: Vec<f32> = (0..480_000)
        .map(|i| (i as f32 * 0.0131).sin() * 0.8)
        .collect();
    let buf = genhist::audio::AudioBuffer {
        samples,
        channels: 1,
        sample_rate: 48_000,
    };
    genhist::audio::write_wav(&wav, &buf, genhist::audio::BitDepth::Int16).unwrap();
    let mut times = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let p = genhist::peaks::peaks_from_file(&wav, 1024).unwrap();
        times.push(t.elapsed());
        assert_eq!(p.buckets(), 1024);
    }
    let best = *times.iter().min().unwrap();
    let median = percentile(&mut times, 0.5);
    let mb = 960_000.0 / 1e6;
    println!(
        "peaks of a 10 s 48 kHz mono WAV: median {:.2} ms ({:.0} MB/s), best {:.2} ms",
        median.as_secs_f64() * 1e3,
        mb / median.as_secs_f64(),
        best.as_secs_f64() * 1e3
    );
}

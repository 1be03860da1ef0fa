//! The browser's speed and memory targets, measured on the code `genhist DIR`
//! runs: `ui::open_app`, the runner's one channel, `App::update`, the real
//! store/peaks/view workers, frames drawn into a 120x40 TestBackend (terminal
//! output time not included).
//!
//! usage: ui_bench DIR      (DIR: a history with ~100,000 takes; it is
//! changed: one take is deleted and undone, another added and removed)
//!        ui_bench DIR --analysis   (DIR's takes have WAVs: key→frame
//! while the analysis worker measures them in the background, and the
//! time from a key that moves the selection to the frame showing the next
//! take's spectrogram)
//!
//! Prints: first frame; steady memory; key→frame latency (p50/p99) while
//! the rest loads, idle and while a delete, an undo, a reload, sorts and
//! filters run; the sorts' and filters' times; CPU and peak-memory growth of a delete+undo and of
//! a reload after another program adds one take.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use genhist::ui::app::App;
use genhist::ui::event::{Effect, Event};
use genhist::ui::workers::Workers;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

fn status(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// CPU time of the whole process (all threads), in ms.
fn cpu_ms() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct we own.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 * 1e3 + tv.tv_usec as f64 / 1e3;
    t(u.ru_utime) + t(u.ru_stime)
}

/// Sets the peak-RSS mark back to the current RSS (Linux 4.0+).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

struct Bench {
    app: App,
    rx: Receiver<(Event, Option<Instant>)>,
    tx: Sender<(Event, Option<Instant>)>,
    workers: Workers,
    term: ratatui::Terminal<ratatui::backend::TestBackend>,
    /// key→frame latencies measured since the last take.
    latencies: Vec<Duration>,
}

/// Forwards a worker's events into the bench channel (no timestamp).
fn forward(rx: Receiver<Event>, tx: Sender<(Event, Option<Instant>)>) {
    std::thread::spawn(move || {
        while let Ok(ev) = rx.recv() {
            if tx.send((ev, None)).is_err() {
                return;
            }
        }
    });
}

impl Bench {
    fn new(dir: &Path) -> (Bench, Duration) {
        let t0 = Instant::now();
        let mut app = genhist::ui::open_app(dir, None).unwrap();
        app.update(Event::Resize(120, 40));
        let mut term = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 40)).unwrap();
        let now = chrono::Utc::now();
        term.draw(|f| genhist::ui::draw::draw(f, &app, now))
            .unwrap();
        let first = t0.elapsed();
        let (tx, rx) = channel();
        let (wtx, wrx) = channel();
        forward(wrx, tx.clone());
        let b = Bench {
            app,
            rx,
            tx,
            workers: Workers::spawn(
                genhist::store::HistoryDir::new(dir).with_retention(None),
                std::env::temp_dir().join("genhist-bench-history"),
                wtx,
            ),
            term,
            latencies: Vec::new(),
        };
        (b, first)
    }

    fn perform(&mut self, fx: Vec<Effect>) {
        for e in fx {
            // No sound device here: the player's commands are dropped.
            self.workers.perform(e);
        }
    }

    /// One turn of the runner's loop: an event, what else waits, a frame.
    fn turn(&mut self, timeout: Duration) -> bool {
        let Ok((ev, sent)) = self.rx.recv_timeout(timeout) else {
            return false;
        };
        let mut keys = vec![sent];
        let mut fx = self.app.update(ev);
        while let Ok((ev, sent)) = self.rx.try_recv() {
            keys.push(sent);
            fx.extend(self.app.update(ev));
        }
        self.perform(fx);
        let now = chrono::Utc::now();
        let app = &self.app;
        self.term
            .draw(|f| genhist::ui::draw::draw(f, app, now))
            .unwrap();
        for s in keys.into_iter().flatten() {
            self.latencies.push(s.elapsed());
        }
        true
    }

    /// Runs the loop until `done` holds, pressing j/k every 3 ms meanwhile
    /// (when `keys`); returns the time it took.
    fn until(&mut self, keys: bool, done: impl Fn(&App) -> bool) -> Duration {
        let t = Instant::now();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let presser = keys.then(|| {
            let (tx, stop) = (self.tx.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let c = if (n / 20) % 2 == 0 { 'j' } else { 'k' };
                    n += 1;
                    let k = Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
                    if tx.send((k, Some(Instant::now()))).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(3));
                }
            })
        });
        while !done(&self.app) {
            assert!(t.elapsed() < Duration::from_secs(60), "timed out");
            self.turn(Duration::from_millis(5));
        }
        let took = t.elapsed();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(p) = presser {
            p.join().unwrap();
        }
        // Keys still in flight.
        while self.turn(Duration::from_millis(20)) {}
        took
    }

    fn settle(&mut self) {
        while self.turn(Duration::from_millis(300)) {}
    }

    fn command(&mut self, line: &str) {
        for c in format!(":{line}").chars() {
            let fx = self.app.update(Event::Key(KeyEvent::new(
                KeyCode::Char(c),
                KeyModifiers::NONE,
            )));
            self.perform(fx);
        }
        let fx = self.app.update(Event::Key(KeyEvent::new(
            KeyCode::Enter,
            KeyModifiers::NONE,
        )));
        self.perform(fx);
    }

    fn report(&mut self, what: &str) {
        let mut v = std::mem::take(&mut self.latencies);
        if v.is_empty() {
            println!("  {what}: no keys");
            return;
        }
        v.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "  key→frame while {what}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} keys)",
            ms(v[v.len() / 2]),
            ms(v[v.len() * 99 / 100]),
            ms(*v.last().unwrap()),
            v.len()
        );
    }
}

/// Keys while the analysis worker measures in the background; then the
/// spectrogram's latency.
fn analysis(b: &mut Bench) {
    let key = |c: char| Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    let t = Instant::now();
    b.latencies.clear();
    b.until(true, move |_| t.elapsed() > Duration::from_secs(15));
    let measured = b.app.analysis.measures.len();
    b.report("the analysis measures in the background");
    println!(
        "  measured meanwhile: {measured} takes in {:.0} s, {} left",
        t.elapsed().as_secs_f64(),
        b.app.analysis.left
    );
    // The spectrogram: `v`, then keys that move the selection.
    let fx = b.app.update(key('v'));
    b.perform(fx);
    let mut times = Vec::new();
    for i in 0..20 {
        let fx = b.app.update(key(if i % 2 == 0 { 'j' } else { 'k' }));
        b.perform(fx);
        let start = Instant::now();
        let id = b.app.selected_entry().unwrap().entry_id.clone();
        b.until(false, |a| {
            matches!(
                a.analysis.spectra.get(&id),
                Some(genhist::ui::app::SpectrumState::Ready(_))
            )
        });
        times.push(start.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "  spectrogram on screen after the selection moves: median {:.1} ms, max {:.1} ms (20 moves)",
        ms(times[10]),
        ms(times[19])
    );
}

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: ui_bench DIR"));
    let (mut b, first) = Bench::new(&dir);
    println!(
        "first frame (newest 500 of the history): {:.1} ms",
        first.as_secs_f64() * 1e3
    );
    let t = Instant::now();
    b.latencies.clear();
    b.until(true, |a| a.store.loading().is_none());
    println!(
        "all takes loaded in the background: {:.0} ms more ({:.0} ms from the start)",
        t.elapsed().as_secs_f64() * 1e3,
        (first + t.elapsed()).as_secs_f64() * 1e3
    );
    b.report("the rest loads");
    if std::env::args().any(|a| a == "--analysis") {
        analysis(&mut b);
        return;
    }
    b.settle();
    println!("takes: {}", b.app.store.count());
    println!(
        "memory: {} MiB now, {} MiB peak",
        status("VmRSS:") / 1024,
        status("VmHWM:") / 1024
    );

    b.latencies.clear();
    b.until(true, {
        let t = Instant::now();
        move |_| t.elapsed() > Duration::from_millis(600)
    });
    b.report("idle");

    // Delete + undo.
    b.settle();
    reset_peak();
    let (rss0, cpu0) = (status("VmRSS:"), cpu_ms());
    let victim = b.app.selected_entry().unwrap().entry_id.clone();
    for c in "dy".chars() {
        let fx = b.app.update(Event::Key(KeyEvent::new(
            KeyCode::Char(c),
            KeyModifiers::NONE,
        )));
        b.perform(fx);
    }
    let took = b.until(true, |a| a.busy.is_none());
    b.report("a delete runs");
    println!(
        "  delete, key to list updated: {:.0} ms",
        took.as_secs_f64() * 1e3
    );
    let fx = b.app.update(Event::Key(KeyEvent::new(
        KeyCode::Char('u'),
        KeyModifiers::NONE,
    )));
    b.perform(fx);
    let took = b.until(true, |a| {
        a.busy.is_none() && a.store.get_exact(&victim).is_some()
    });
    b.report("an undo runs");
    println!(
        "  undo, key to list updated: {:.0} ms",
        took.as_secs_f64() * 1e3
    );
    b.settle();
    println!(
        "  delete + undo: {:.0} ms of CPU (all threads), peak memory +{} MiB over {} MiB",
        cpu_ms() - cpu0,
        status("VmHWM:").saturating_sub(rss0) / 1024,
        rss0 / 1024
    );

    // A reload after another program adds one take.
    b.settle();
    let wav = std::env::temp_dir().join("genhist-bench.wav");
    genhist::audio::write_wav(
        &wav,
        &genhist::audio::AudioBuffer {
            channels: 1,
            sample_rate: 48_000,
            samples: vec![0.1; 4800],
        },
        genhist::audio::BitDepth::Int16,
    )
    .unwrap();
    let before = b.app.store.count();
    // The add happens in another process (its CPU is not ours).
    let exe = std::env::var("GENHIST_BIN").unwrap_or_else(|_| "target/release/genhist".into());
    let add = || {
        let out = std::process::Command::new(&exe)
            .args([
                "--dir",
                dir.to_str().unwrap(),
                "add",
                wav.to_str().unwrap(),
                "--model-id",
                "bench",
            ])
            .output()
            .expect("GENHIST_BIN: the genhist binary");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // Its cost, with nothing else running.
    reset_peak();
    let (rss0, cpu0) = (status("VmRSS:"), cpu_ms());
    let first = add();
    let took = b.until(false, |a| a.store.count() == before + 1);
    println!(
        "  reload after another program adds one take: seen {:.0} ms after the add (polled every 250 ms); {:.0} ms of CPU, peak memory +{} MiB",
        took.as_secs_f64() * 1e3,
        cpu_ms() - cpu0,
        status("VmHWM:").saturating_sub(rss0) / 1024
    );
    b.settle();
    // Keys while another one runs.
    let second = add();
    b.until(true, |a| a.store.count() == before + 2);
    b.report("a reload runs");
    for id in [first, second] {
        let _ = std::process::Command::new(&exe)
            .args(["--dir", dir.to_str().unwrap(), "delete", "--permanent", &id])
            .output();
    }
    b.until(false, |a| a.store.count() == before);

    // Sorts.
    for key in ["quality.overall", "duration", "model", "-seed", "newest"] {
        b.settle();
        b.command(&format!("sort {key}"));
        let took = b.until(true, |a| !a.list.view.pending);
        b.report(&format!("`:sort {key}` runs"));
        println!(
            "  :sort {key}: {:.0} ms to the sorted list",
            took.as_secs_f64() * 1e3
        );
    }
    for filter in ["seed>2000000000", "model=drum quality.overall>0.5", "glass"] {
        b.settle();
        b.command(&format!("filter {filter}"));
        let took = b.until(true, |a| !a.list.view.pending);
        b.report(&format!("`:filter {filter}` runs"));
        println!(
            "  :filter {filter}: {:.0} ms to the filtered list ({} takes)",
            took.as_secs_f64() * 1e3,
            b.app.list.view.rows.len()
        );
    }
    b.command("filter");
    b.until(false, |a| !a.list.view.pending);
    b.settle();
    println!(
        "memory at the end: {} MiB now, {} MiB peak since the last mark",
        status("VmRSS:") / 1024,
        status("VmHWM:") / 1024
    );
}

//! Opening the browser ([`open_app`], [`run`]) and its loop: one channel of [`Event`]s, fed by the terminal
//! reader, a ticker, the workers and the player; each event goes through
//! `App::update`; the effects it returns are handed to the workers (no file
//! work happens on this thread); then the screen is drawn.

use super::app::App;
use super::event::{Effect, Event};
use super::workers::Workers;
use crate::command_history::{CommandHistory, DEFAULT_FILE, DEFAULT_MAX_ENTRIES};
use crate::playback::{DeviceOutput, PlayerThread};
use crate::store::GenerationHistory;
use crate::store::HistoryDir;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};
use std::time::Duration;

/// How often the screen gets a tick (message fading, the playhead).
const TICK: Duration = Duration::from_millis(100);

/// How many of the newest entries the first frame is drawn from.
const FIRST_SCREEN_ENTRIES: usize = 500;

/// The command bar's history file for `dir`.
pub(crate) fn history_file(dir: &Path, command_history: Option<PathBuf>) -> PathBuf {
    command_history.unwrap_or_else(|| dir.join(DEFAULT_FILE))
}

/// The browser's state over `dir`, as it is when the first frame is drawn:
/// the newest takes (the store worker loads the rest).
pub fn open_app(dir: &Path, command_history: Option<PathBuf>) -> Result<App> {
    let store = GenerationHistory::open_newest(dir, FIRST_SCREEN_ENTRIES)?;
    let history = CommandHistory::at_path(history_file(dir, command_history), DEFAULT_MAX_ENTRIES);
    let mut app = App::new(store, history);
    app.theme = super::theme::Theme::for_env(super::theme::Theme::default());
    if let Some(e) = app.bar.history.take_error() {
        app.error(e);
    }
    app.say_index_problems();
    match super::app::load_saved(dir) {
        Ok(saved) => app.restore(saved),
        Err(e) => app.error(e),
    }
    Ok(app)
}

/// Opens the browser over `dir` and runs until quit. `retention` is the
/// trash's; `problem`, what was wrong with the config file (shown first).
pub fn run(
    dir: &Path,
    command_history: Option<PathBuf>,
    settings: super::Settings,
    retention: Option<std::time::Duration>,
    problem: Option<String>,
    fresh: bool,
) -> Result<i32> {
    if fresh {
        // Start from the defaults: what was remembered is forgotten.
        match std::fs::remove_file(super::app::Saved::path(dir)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => anyhow::bail!("cannot forget the browser's state: {e}"),
        }
    }
    let history = history_file(dir, command_history.clone());
    let mut app = open_app(dir, command_history)?;
    let device = settings.device.clone();
    let effects = app.configure(settings);
    if let Some(p) = problem {
        app.error(p);
    }
    let log = super::terminal::log_path();
    if let Some(parent) = log.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .ok();
    if let Some(f) = &log_file {
        if let Ok(clone) = f.try_clone() {
            let _ = tracing_subscriber::fmt()
                .with_writer(std::sync::Mutex::new(clone))
                .with_ansi(false)
                .try_init();
        }
    }
    let mut screen = super::terminal::Screen::start(log_file.as_ref(), log)
        .context("cannot take over the terminal (is this a terminal?)")?;
    run_loop(&mut screen, app, effects, dir, retention, history, device)
}

/// Reads the terminal on its own thread.
fn read_terminal(tx: Sender<Event>) {
    use crossterm::event::Event as T;
    super::workers::spawn("genhist-input", move || loop {
        let ev = match crossterm::event::read() {
            Ok(T::Key(k)) => Event::Key(k),
            Ok(T::Mouse(m)) => Event::Mouse(m),
            Ok(T::Resize(w, h)) => Event::Resize(w, h),
            Ok(T::Paste(s)) => Event::Paste(s),
            Ok(_) => continue,
            Err(e) => {
                tracing::error!("reading the terminal: {e}");
                return;
            }
        };
        if tx.send(ev).is_err() {
            return;
        }
    });
}

fn tick(tx: Sender<Event>) {
    super::workers::spawn("genhist-tick", move || loop {
        std::thread::sleep(TICK);
        if tx.send(Event::Tick).is_err() {
            return;
        }
    });
}

/// Runs the browser over `app` until quit. `retention` is the trash's;
/// `history_file` where the command bar's lines are saved.
pub(crate) fn run_loop(
    screen: &mut super::terminal::Screen,
    mut app: App,
    first: Vec<Effect>,
    dir: &Path,
    retention: Option<Duration>,
    history_file: PathBuf,
    device: Option<String>,
) -> Result<i32> {
    let (tx, rx) = channel::<Event>();
    read_terminal(tx.clone());
    tick(tx.clone());
    let ptx = tx.clone();
    let workers = Workers::spawn(
        HistoryDir::new(dir).with_retention(retention),
        history_file,
        tx.clone(),
    );
    let player = PlayerThread::spawn(DeviceOutput::on(device), move |e| {
        let _ = ptx.send(Event::Player(e));
    });
    drop(tx);
    let (w, h) = screen.size();
    let mut effects = first;
    effects.extend(app.update(Event::Resize(w, h)));
    loop {
        for e in effects.drain(..) {
            match workers.perform(e) {
                Some(Effect::Quit) => return Ok(0),
                Some(Effect::Player(cmd)) => player.send(cmd),
                _ => {}
            }
        }
        let now = chrono::Utc::now();
        screen.term.draw(|f| super::draw::draw(f, &app, now))?;
        let Ok(ev) = rx.recv() else {
            return Ok(0);
        };
        effects = app.update(ev);
        // Whatever else is waiting, before the next frame.
        while let Ok(ev) = rx.try_recv() {
            effects.extend(app.update(ev));
        }
    }
}

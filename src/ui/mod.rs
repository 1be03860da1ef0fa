//! The full-screen browser.
//!
//! - `event`: the one event enum and the effects; `app`: state and the one
//!   `update(Event) -> Vec<Effect>`; `render`: draws from `&App` only.
//! - `keymap` (key tables per mode, data) and `command` (the `:` language)
//!   are the one command language; `complete` is its Tab completion.
//! - `view`: the shown list, computed on a worker and patched by changes.
//! - `workers`: store (all file changes, reloads), peaks, view; the player
//!   is `playback::PlayerThread`.
//! - `terminal` owns the terminal; `runner` is the loop.

pub mod app;
pub mod command;
pub mod complete;
pub mod draw;
pub mod event;
pub mod help;
pub mod keymap;
pub mod layout;
pub mod runner;
pub mod terminal;
pub mod theme;
pub mod view;
pub mod workers;

use crate::command_history::{CommandHistory, DEFAULT_FILE, DEFAULT_MAX_ENTRIES};
use crate::store::GenerationHistory;
use anyhow::{Context, Result};
use app::App;
use std::path::{Path, PathBuf};

/// The browser's part of the config file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    /// The order the list opens in.
    pub sort: crate::query::Sort,
    /// Colours (`NO_COLOR` removes them all whatever this says).
    pub theme: theme::Theme,
    /// Key bindings, looked up before the defaults.
    pub keys: keymap::UserKeys,
}

/// Where genhist logs while the screen is up.
pub fn log_path() -> PathBuf {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("genhist")
        .join("genhist.log")
}

/// How many of the newest entries the first frame is drawn from.
pub const FIRST_SCREEN_ENTRIES: usize = 500;

/// The command bar's history file for `dir`.
pub fn history_file(dir: &Path, command_history: Option<PathBuf>) -> PathBuf {
    command_history.unwrap_or_else(|| dir.join(DEFAULT_FILE))
}

/// The browser's state over `dir`, as it is when the first frame is drawn:
/// the newest takes (the store worker loads the rest).
pub fn open_app(dir: &Path, command_history: Option<PathBuf>) -> Result<App> {
    let store = GenerationHistory::open_newest(dir, FIRST_SCREEN_ENTRIES)?;
    let history = CommandHistory::at_path(history_file(dir, command_history), DEFAULT_MAX_ENTRIES);
    let mut app = App::new(store, history);
    app.theme = theme::Theme::for_env(theme::Theme::default());
    if let Some(e) = app.bar.history.take_error() {
        app.error(e);
    }
    app.say_index_problems();
    Ok(app)
}

/// Opens the browser over `dir` and runs until quit. `retention` is the
/// trash's; `problem`, what was wrong with the config file (shown first).
pub fn run(
    dir: &Path,
    command_history: Option<PathBuf>,
    settings: Settings,
    retention: Option<std::time::Duration>,
    problem: Option<String>,
) -> Result<i32> {
    let history = history_file(dir, command_history.clone());
    let mut app = open_app(dir, command_history)?;
    let effects = app.configure(settings);
    if let Some(p) = problem {
        app.error(p);
    }
    let log = log_path();
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
    let mut screen = terminal::Screen::start(log_file.as_ref(), log)
        .context("cannot take over the terminal (is this a terminal?)")?;
    runner::run_loop(&mut screen, app, effects, dir, retention, history)
}

/// The data directory's demo history, created on first use.
pub fn demo_dir() -> Result<PathBuf> {
    let dir = dirs::data_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("genhist")
        .join("demo");
    if !dir.join(crate::store::INDEX_FILE).exists() {
        crate::demo::write_demo(&dir, 60, true, 7)?;
    }
    Ok(dir)
}

//! The full-screen browser. `app` holds state and `update`s it, `render` draws,
//! `keymap`/`command` are the one command language, and this module owns the
//! terminal, the worker threads and performs effects.

pub mod app;
pub mod command;
pub mod keymap;
pub mod render;
pub mod workers;

use crate::command_history::{CommandHistory, DEFAULT_FILE, DEFAULT_MAX_ENTRIES};
use crate::playback::{DeviceOutput, PlayerCmd, PlayerThread};
use crate::player::StderrRedirect;
use crate::store::{GenerationHistory, HistoryEntry};
use anyhow::{Context, Result};
use app::{App, Effect, Mode, PeakState};
use crossterm::event::{
    self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind,
};
use crossterm::{execute, terminal};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tui_input::backend::crossterm::EventHandler;

/// Where genhist logs while the screen is up.
pub fn log_path() -> PathBuf {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("genhist")
        .join("genhist.log")
}

/// Restores the terminal on drop, on error and (via the hook) on panic.
struct TerminalGuard {
    _stderr: Option<StderrRedirect>,
}

fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        crossterm::event::DisableMouseCapture,
        terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// How many of the newest entries the first frame is drawn from.
pub const FIRST_SCREEN_ENTRIES: usize = 500;

/// The browser's state over `dir`, as it is when the first frame is drawn.
pub fn open_app(dir: &Path, command_history: Option<PathBuf>) -> Result<App> {
    // The newest screenfuls first; the event loop's watcher loads the rest.
    let store = GenerationHistory::open_newest(dir, FIRST_SCREEN_ENTRIES)?;
    let history = match command_history {
        Some(p) => CommandHistory::at_path(p, DEFAULT_MAX_ENTRIES),
        None => CommandHistory::new(dir, DEFAULT_FILE, DEFAULT_MAX_ENTRIES),
    };
    let mut app = App::new(store, history);
    if let Some(w) = app.store.version_warning() {
        app.error(w);
    } else if !app.store.invalid_entries().is_empty() {
        app.error(format!(
            "{} entries could not be read (see `genhist show ID`)",
            app.store.invalid_entries().len()
        ));
    }
    Ok(app)
}

/// Opens the browser over `dir` and runs until quit.
pub fn run(dir: &Path, command_history: Option<PathBuf>) -> Result<i32> {
    let mut app = open_app(dir, command_history)?;
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

    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        default_hook(info);
    }));
    terminal::enable_raw_mode()
        .context("cannot switch the terminal to raw mode (is this a terminal?)")?;
    let guard = TerminalGuard {
        // While the screen is up, fd 2 (ALSA, rodio, panics) goes to the log.
        _stderr: log_file.as_ref().and_then(StderrRedirect::to_file),
    };
    execute!(
        std::io::stdout(),
        terminal::EnterAlternateScreen,
        crossterm::event::EnableMouseCapture
    )?;
    let backend = ratatui::backend::CrosstermBackend::new(std::io::stdout());
    let mut term = ratatui::Terminal::new(backend)?;
    let result = event_loop(&mut term, &mut app);
    drop(term);
    drop(guard);
    result
}

fn event_loop(
    term: &mut ratatui::Terminal<ratatui::backend::CrosstermBackend<std::io::Stdout>>,
    app: &mut App,
) -> Result<i32> {
    let peaks = workers::PeaksWorker::spawn();
    let watcher =
        workers::Watcher::spawn(app.store.dir().to_path_buf(), app.store.loading().is_some());
    let player = PlayerThread::spawn(DeviceOutput::default());
    let sizer = workers::SizeWorker::spawn();
    sizer.request(app.store.dir().to_path_buf(), app.entries());
    let mut last_error_seen = 0u64;
    let mut dirty = true;
    let mut last_request: Vec<String> = Vec::new();
    loop {
        // Results from workers.
        while let Some((id, result)) = peaks.try_recv() {
            app.peaks.insert(
                id,
                match result {
                    Ok(p) => PeakState::Ready(std::sync::Arc::new(p)),
                    Err(e) => PeakState::Failed(e),
                },
            );
            dirty = true;
        }
        if let Some(store) = watcher.try_recv() {
            match store {
                Ok((s, index)) => {
                    let old = app.replace_store(s, Some(index));
                    // Freeing 100,000 entries takes tens of milliseconds.
                    std::thread::spawn(move || drop(old));
                    sizer.request(app.store.dir().to_path_buf(), app.entries());
                }
                Err(e) => app.error(e),
            }
            dirty = true;
        }
        if let Some(bytes) = sizer.try_recv() {
            app.total_bytes = bytes;
            dirty = true;
        }
        let status = player.status();
        if let Some((n, msg)) = &status.error {
            if *n > last_error_seen {
                last_error_seen = *n;
                app.error(msg.clone());
            }
        }
        if status != app.playback {
            let (volume, looping) = (app.playback.volume, app.playback.looping);
            app.playback = status;
            app.playback.volume = volume;
            app.playback.looping = looping;
            dirty = true;
        }
        if let Some(e) = app.history.take_error() {
            app.error(e);
        }
        if dirty {
            term.draw(|f| render::draw(f, app, chrono::Utc::now()))?;
            dirty = false;
            // Selected first, then the visible rows.
            let offset = app.offset.get();
            let page = app.page.get();
            let mut wanted: Vec<&HistoryEntry> = app.selected_entry().into_iter().collect();
            wanted.extend((offset..offset + page).filter_map(|r| app.entry_at(r)));
            wanted.retain(|e| !app.peaks.contains_key(&e.entry_id));
            wanted.dedup_by(|a, b| a.entry_id == b.entry_id);
            let want: Vec<String> = wanted.iter().map(|e| e.entry_id.clone()).collect();
            if !want.is_empty() && want != last_request {
                let claims = app.store.claims();
                let jobs: Vec<workers::Job> = wanted
                    .iter()
                    .map(|e| {
                        let p = crate::store::paths::RelPath::parse(&e.audio_file).and_then(|p| {
                            match claims.conflict(&e.entry_id, &p, &|_| false) {
                                Some(why) => Err(why),
                                None => Ok(p),
                            }
                        });
                        (e.entry_id.clone(), p)
                    })
                    .collect();
                peaks.request(app.store.dir().to_path_buf(), jobs);
                last_request = want;
            }
        }
        let timeout = if app.playback.state != crate::playback::PlayState::Idle {
            50
        } else {
            100
        };
        if !event::poll(Duration::from_millis(timeout))? {
            // Idle: get the search index ready before the first `/` keystroke.
            app.warm_search_index();
            if app.playback.state != crate::playback::PlayState::Idle {
                dirty = true;
            }
            continue;
        }
        let effects = match event::read()? {
            Event::Key(k) if k.kind != KeyEventKind::Release => handle_key(app, k),
            Event::Mouse(m) => match m.kind {
                MouseEventKind::ScrollDown => app.run(command::Command::Down),
                MouseEventKind::ScrollUp => app.run(command::Command::Up),
                MouseEventKind::Down(_) => {
                    // The list's first row is at y = 1 (inside the border).
                    let row = m.row as usize;
                    if row >= 1 && row <= app.page.get() && app.mode == Mode::Normal {
                        let target = app.offset.get() + row - 1;
                        if target < app.view.len() {
                            app.selected = target;
                        }
                    }
                    vec![]
                }
                _ => vec![],
            },
            Event::Resize(..) => vec![],
            _ => vec![],
        };
        dirty = true;
        for effect in effects {
            if perform(app, effect, &player)? {
                return Ok(0);
            }
        }
    }
}

/// What a key does in the current mode (no I/O; effects are returned).
pub fn handle_key(app: &mut App, k: KeyEvent) -> Vec<Effect> {
    if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
        return vec![Effect::Quit];
    }
    match app.mode.clone() {
        Mode::Normal => match keymap::lookup(&k) {
            Some(line) => match command::parse(line) {
                Ok(cmd) => {
                    app.message = None;
                    app.run(cmd)
                }
                Err(e) => {
                    app.error(e);
                    vec![]
                }
            },
            None => vec![],
        },
        Mode::Confirm(_) => match k.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => app.confirm(true),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                app.confirm(false)
            }
            _ => vec![],
        },
        Mode::Help | Mode::Info(..) => {
            if matches!(
                k.code,
                KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Enter
            ) {
                app.mode = Mode::Normal;
            }
            vec![]
        }
        Mode::Search => {
            match k.code {
                KeyCode::Enter => app.mode = Mode::Normal,
                KeyCode::Esc => {
                    app.mode = Mode::Normal;
                    app.set_search("");
                }
                _ => {
                    app.input.handle_event(&Event::Key(k));
                    let text = app.input.value().to_string();
                    app.set_search(&text);
                }
            }
            vec![]
        }
        Mode::HistorySearch => {
            match k.code {
                KeyCode::Enter => {
                    let pick = app
                        .history
                        .search(app.input.value(), 1)
                        .into_iter()
                        .next()
                        .map(|(_, c)| c);
                    app.mode = Mode::Command;
                    app.input = tui_input::Input::new(pick.unwrap_or_default());
                }
                KeyCode::Esc => {
                    app.mode = Mode::Command;
                    app.input = tui_input::Input::default();
                }
                _ => {
                    app.input.handle_event(&Event::Key(k));
                }
            }
            vec![]
        }
        Mode::Command => match k.code {
            KeyCode::Enter => {
                let line = app.input.value().to_string();
                app.mode = Mode::Normal;
                app.input.reset();
                app.typed = None;
                app.run_line(&line)
            }
            KeyCode::Esc => {
                app.mode = Mode::Normal;
                app.input.reset();
                app.history.reset_navigation();
                app.typed = None;
                vec![]
            }
            KeyCode::Up => {
                app.recall_older();
                vec![]
            }
            KeyCode::Down => {
                app.recall_newer();
                vec![]
            }
            KeyCode::Char('r') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                app.run(command::Command::HistorySearch)
            }
            KeyCode::Tab => {
                if let Some(c) = command::complete(app.input.value()) {
                    app.input = tui_input::Input::new(c);
                }
                vec![]
            }
            _ => {
                app.input.handle_event(&Event::Key(k));
                app.typed = None;
                app.history.reset_navigation();
                vec![]
            }
        },
    }
}

/// Performs one effect; true means quit.
fn perform(app: &mut App, effect: Effect, player: &PlayerThread) -> Result<bool> {
    let hd = || {
        let (config, _) = crate::config::load();
        crate::store::HistoryDir::new(app.store.dir()).with_retention(config.trash_retention)
    };
    match effect {
        Effect::Quit => return Ok(true),
        Effect::RecordCommand(line) => app.history.add(&line),
        Effect::Player(cmd) => player.send(cmd),
        Effect::Play { id } => match app
            .store
            .get(&id)
            .and_then(|e| app.store.open_file(e, crate::store::Field::Audio))
        {
            Ok((file, path)) => player.send(PlayerCmd::Play {
                id,
                source: crate::player::Source::new(file, path),
            }),
            Err(e) => app.error(e.to_string()),
        },
        Effect::Delete(ids) => {
            let r = crate::store::trash::delete(
                &hd(),
                crate::store::Selection::Ids(ids.clone()),
                crate::store::DeleteOptions::default(),
            );
            match r {
                Ok(r) => {
                    app.info(format!(
                        "deleted {} (u undoes)",
                        crate::text::count(r.removed.len(), "take", "takes")
                    ));
                    app.after_delete(&r.removed_ids());
                }
                Err(e) => app.error(e.to_string()),
            }
        }
        Effect::Undo => match crate::store::trash::undo(&hd()) {
            Err(e) => app.info(e.to_string()),
            Ok(r) => {
                let keep = r.restored.first().map(|e| e.id.clone());
                app.store.take_in(&r.restored);
                app.refresh_view(keep);
                let mut msg = format!(
                    "restored {}",
                    crate::text::count(r.restored.len(), "take", "takes")
                );
                for (path, why, _) in &r.left {
                    msg.push_str(&format!("; {path} stays in the trash: {why}"));
                }
                if r.left.is_empty() {
                    app.info(msg);
                } else {
                    app.error(msg);
                }
            }
        },
        Effect::Export { id, dest } => {
            let result = app
                .store
                .get(&id)
                .and_then(|e| app.store.open_file(e, crate::store::Field::Audio))
                .map_err(|e| e.to_string())
                .and_then(|(mut src, path)| {
                    let mut dest = PathBuf::from(&dest);
                    if dest.is_dir() {
                        dest = dest.join(path.file_name().unwrap_or_default());
                    }
                    let mut f = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&dest)
                        .map_err(|e| format!("{}: {e}", dest.display()))?;
                    std::io::copy(&mut src, &mut f)
                        .map(|_| dest)
                        .map_err(|e| e.to_string())
                });
            match result {
                Ok(d) => app.info(format!("exported to {}", d.display())),
                Err(e) => app.error(format!("export failed: {e}")),
            }
        }
        Effect::Repair => {
            let r = crate::store::repair::plan(app.store.dir())
                .and_then(|plan| crate::store::repair::apply(&hd(), &plan));
            match r {
                Ok(r) => {
                    app.info(format!(
                        "repair: moved {} with a missing WAV to the trash",
                        crate::text::count(r.deleted.removed.len(), "take", "takes")
                    ));
                    app.store.forget(&r.deleted.removed_ids());
                    app.refresh_view(None);
                }
                Err(e) => app.error(e.to_string()),
            }
        }
    }
    let _ = std::io::stdout().flush();
    Ok(false)
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

//! The terminal has one owner: [`Screen`] switches it to raw mode and the
//! alternate screen (`ratatui::init`), turns on mouse reports and bracketed
//! paste, sends fd 2 to the log file, and puts everything back when dropped.
//!
//! Panics: a panic on a worker thread is caught there (or just logged), and
//! the screen stays as it is; only a panic of the main thread restores the
//! terminal, and then says where the details are.

use crate::sys::StderrRedirect;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::thread::ThreadId;

/// Where genhist logs while the screen is up.
pub(crate) fn log_path() -> PathBuf {
    dirs::state_dir()
        .or_else(dirs::data_local_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("genhist")
        .join("genhist.log")
}

static MAIN: OnceLock<ThreadId> = OnceLock::new();
/// The real stderr while fd 2 points at the log (for a crash's last words).
static REAL_STDERR: OnceLock<std::fs::File> = OnceLock::new();

/// The terminal while the browser runs.
pub(crate) struct Screen {
    pub term: ratatui::DefaultTerminal,
    _stderr: Option<StderrRedirect>,
}

impl Screen {
    /// Takes over the terminal; `log` receives stderr meanwhile.
    pub(crate) fn start(log: Option<&std::fs::File>, log_path: PathBuf) -> std::io::Result<Screen> {
        let _ = MAIN.set(std::thread::current().id());
        let term = ratatui::try_init()?;
        let restore_and_report = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if MAIN.get() == Some(&std::thread::current().id()) {
                let _ = execute!(
                    std::io::stdout(),
                    DisableMouseCapture,
                    DisableBracketedPaste,
                    crossterm::cursor::Show
                );
                restore_and_report(info);
                if let Some(mut f) = REAL_STDERR.get() {
                    let _ = writeln!(
                        f,
                        "genhist crashed: {info}\n(details in {})",
                        log_path.display()
                    );
                }
            } else {
                tracing::error!(
                    "panic on thread {}: {info}",
                    std::thread::current().name().unwrap_or("?")
                );
            }
        }));
        execute!(std::io::stdout(), EnableMouseCapture, EnableBracketedPaste)?;
        // While the screen is up, fd 2 (ALSA, rodio, panics) goes to the log.
        if REAL_STDERR.get().is_none() {
            if let Some(f) = crate::sys::stderr_copy() {
                let _ = REAL_STDERR.set(f);
            }
        }
        let redirect = log.and_then(StderrRedirect::to_file);
        Ok(Screen {
            term,
            _stderr: redirect,
        })
    }

    /// The terminal's size now.
    pub(crate) fn size(&self) -> (u16, u16) {
        crossterm::terminal::size().unwrap_or((80, 24))
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = execute!(
            std::io::stdout(),
            DisableMouseCapture,
            DisableBracketedPaste,
            crossterm::cursor::Show
        );
        ratatui::restore();
    }
}

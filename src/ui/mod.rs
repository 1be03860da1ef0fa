//! The full-screen browser.
//!
//! - `event`: the one event enum and the effects; `app`: state and the one
//!   `update(Event) -> Vec<Effect>`; `draw`: draws from `&App` only.
//! - `keymap` (key tables per mode, data) and `command` (the `:` language)
//!   are the one command language; `complete` is its Tab completion.
//! - `view`: the shown list, computed on a worker and patched by changes.
//! - `workers`: store (all file changes, reloads), peaks, view; the player
//!   is `playback::PlayerThread`.
//! - `terminal` owns the terminal; `runner` opens the app and is the loop.

pub mod app;
pub mod command;
pub(crate) mod complete;
pub mod draw;
pub mod event;
pub(crate) mod help;
pub mod keymap;
pub(crate) mod layout;
pub(crate) mod runner;
pub(crate) mod terminal;
pub mod theme;
pub mod view;
pub mod workers;

pub use runner::{open_app, run};

/// The browser's part of the config file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    /// The order the list opens in.
    pub sort: crate::query::Sort,
    /// Colours (`NO_COLOR` removes them all whatever this says).
    pub theme: theme::Theme,
    /// Key bindings, looked up before the defaults.
    pub keys: keymap::UserKeys,
    /// The name template of `:export` (`[export] name`).
    pub export_name: crate::export::name::Template,
    /// Measures the list shows as columns (`[list] columns`).
    pub columns: Vec<&'static str>,
    /// The output device (`[audio] device`, `--device`; `None`: the default).
    pub device: Option<String>,
}

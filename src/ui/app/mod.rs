//! The browser's state and its one `update`: an [`Event`] in (a key, a mouse
//! click, a worker's result, a tick), state changed and [`Effect`]s out for
//! the runner to carry out. No I/O happens here; drawing only reads this.
//!
//! `App` is a few sub-states, each with the file that changes it:
//!
//! | file | state | what it does |
//! |---|---|---|
//! | `list.rs` | [`List`] | the shown rows, the selection, marks, `:filter`, `:sort`, `:goto` |
//! | `search.rs` | [`Find`] | the `/` search and its matches |
//! | `bar.rs` | [`Bar`] | the `:` bar: recall, completion, running a line |
//! | `messages.rs` | [`Messages`] | info and errors, and what clears them |
//! | `confirm.rs` | [`Confirm`] | questions before a delete, a purge or a repair |
//! | `triage.rs` | [`Triage`] | ratings, rejects, tags, notes, culling, `:similar` |
//! | `compare.rs` | [`Compare`] | the A/B view |
//! | `playback.rs` | [`Player`] | playing, and the waveforms a screen needs |
//! | `store_events.rs` | — | what the store worker reports |
//! | `popup.rs` | — | help, stats, messages and history popups |
//! | `normal.rs` | — | the list's commands, one line each |

mod analysis;
mod bar;
mod compare;
mod confirm;
mod devices;
mod export;
mod list;
mod messages;
mod normal;
mod playback;
mod popup;
mod saved;
mod search;
mod store_events;
mod triage;

pub use analysis::{Analysis, SpectrumState};
pub use bar::Bar;
pub use compare::{Compare, LevelMatch};
pub use confirm::Confirm;
pub use devices::DevicePicker;
pub use export::Exports;
pub use list::List;
pub use messages::{Cause, Level, Message, Messages};
pub use playback::{PeakState, Player, Waves};
pub use saved::Saved;
pub(crate) use saved::{load as load_saved, save as save_state};
pub use search::Find;
pub use triage::Triage;

use super::command::{self, Command};
use super::event::{Discard, Effect, Event, Sizes, StoreJob};
use super::keymap::{self, KeyMode, UserKeys};
use crate::command_history::CommandHistory;
use crate::store::{GenerationHistory, HistoryEntry};
use crossterm::event::{KeyEvent, KeyEventKind};
use std::sync::Arc;

/// What the screen is doing.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    /// Typing a `/` search.
    Search,
    /// Typing a `:` command.
    Command,
    /// Ctrl-r in the command bar: searching the input history.
    HistorySearch,
    Confirm(Confirm),
    /// The help (all of it, or one command), scrolled.
    Help {
        only: Option<String>,
        scroll: usize,
    },
    /// A text popup (stats, history, messages), scrolled.
    Info {
        title: String,
        lines: Vec<String>,
        scroll: usize,
    },
    /// The A/B view.
    Compare(Compare),
    /// `:device`: the output devices to pick from.
    Devices(DevicePicker),
}

impl Mode {
    /// Which key table is in force.
    pub fn keys(&self) -> KeyMode {
        match self {
            Mode::Normal => KeyMode::Normal,
            Mode::Search => KeyMode::Search,
            Mode::Command => KeyMode::Command,
            Mode::HistorySearch => KeyMode::HistorySearch,
            Mode::Confirm(_) => KeyMode::Confirm,
            Mode::Help { .. } | Mode::Info { .. } | Mode::Devices(_) => KeyMode::Popup,
            Mode::Compare(_) => KeyMode::Compare,
        }
    }
}

/// Whether the app is on its way out.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
enum Leaving {
    #[default]
    No,
    /// Quit asked while writes were out: waiting for the store worker to
    /// say they are on disk.
    Saving,
}

pub struct App {
    pub store: GenerationHistory,
    pub list: List,
    pub find: Find,
    pub bar: Bar,
    pub messages: Messages,
    pub mode: Mode,
    pub triage: Triage,
    pub waves: Waves,
    pub player: Player,
    pub sizes: Sizes,
    pub user_keys: UserKeys,
    pub theme: super::theme::Theme,
    /// The terminal's size.
    pub size: ratatui::layout::Rect,
    /// A store job is running (shown in the status bar).
    pub busy: Option<String>,
    pub exports: export::Exports,
    pub analysis: analysis::Analysis,
    /// The zone times are shown in (`None`: the local one; tests pin it).
    pub time_zone: Option<chrono::FixedOffset>,
    /// Writes sent to the store worker, and how many of them it has said
    /// are done (its answer to a flush).
    writes_sent: u64,
    writes_done: u64,
    leaving: Leaving,
    /// Effects to hand out with the next update (restored state).
    queued: Vec<Effect>,
    /// What was last remembered of the volume, sort and filter.
    saved: Saved,
    /// The sort came from what was remembered (the config's default sort
    /// does not replace it).
    sort_restored: bool,
}

impl App {
    pub fn new(store: GenerationHistory, history: CommandHistory) -> App {
        let mut app = App {
            list: List::new(store.shared_entries()),
            store,
            find: Find::default(),
            bar: Bar::new(history),
            messages: Messages::default(),
            mode: Mode::Normal,
            triage: Triage::default(),
            waves: Waves::default(),
            player: Player::default(),
            sizes: Sizes::default(),
            user_keys: UserKeys::default(),
            theme: super::theme::Theme::default(),
            size: ratatui::layout::Rect::new(0, 0, 120, 40),
            busy: None,
            exports: export::Exports::default(),
            analysis: analysis::Analysis::default(),
            time_zone: None,
            writes_sent: 0,
            writes_done: 0,
            leaving: Leaving::No,
            queued: Vec::new(),
            saved: Saved::default(),
            sort_restored: false,
        };
        app.scroll_into_view();
        app
    }

    pub fn selected_entry(&self) -> Option<&Arc<HistoryEntry>> {
        self.list.view.rows.get(self.list.selected)
    }

    /// The row showing the take `id` (looked up by identity, not by
    /// comparing ids row by row).
    pub(crate) fn row_of(&self, id: &str) -> Option<usize> {
        let e = self.store.get_exact(id)?;
        self.list.view.position_of(e)
    }

    /// Takes the user's settings: key bindings, theme (`NO_COLOR` wins),
    /// the sort to open in.
    pub fn configure(&mut self, settings: super::Settings) -> Vec<Effect> {
        self.user_keys = settings.keys;
        self.exports.template = settings.export_name;
        self.analysis.columns = settings.columns;
        self.theme = super::theme::Theme::for_env(settings.theme);
        if self.sort_restored || settings.sort == self.list.view.spec.sort {
            return vec![];
        }
        let mut spec = self.list.view.spec.clone();
        spec.sort = settings.sort;
        self.set_spec(spec)
    }

    /// Rows the list shows at once.
    pub fn page(&self) -> usize {
        super::layout::list_rows(self.size)
    }

    /// The message the status line shows (see [`Messages::current`]).
    pub fn message(&self) -> Option<&Message> {
        self.messages.current()
    }

    pub fn info(&mut self, msg: impl Into<String>) {
        self.messages.push(Level::Info, Cause::Other, msg.into());
    }

    pub fn error(&mut self, msg: impl Into<String>) {
        self.messages.push(Level::Error, Cause::Other, msg.into());
    }

    /// The one place where the state changes.
    pub fn update(&mut self, ev: Event) -> Vec<Effect> {
        let mut fx = std::mem::take(&mut self.queued);
        fx.extend(match ev {
            Event::Key(k) if k.kind != KeyEventKind::Release => self.on_key(k),
            Event::Key(_) => vec![],
            Event::Mouse(m) => self.on_mouse(m),
            Event::Resize(w, h) => {
                self.size = ratatui::layout::Rect::new(0, 0, w, h);
                self.scroll_into_view();
                vec![]
            }
            Event::Paste(text) => self.paste(&text),
            Event::Tick => {
                self.messages.tick();
                vec![]
            }
            Event::Store(s) => self.on_store(*s),
            Event::Peaks(p) => {
                self.waves.arrived(p);
                vec![]
            }
            Event::Player(p) => self.on_player(p),
            Event::View(v) => self.on_view_done(v),
            Event::Export(e) => self.on_export(e),
            Event::Devices(r) => {
                self.devices_found(r);
                vec![]
            }
            Event::Analysis(done) => self.on_analysis(done),
            Event::Spectrum(done) => {
                self.on_spectrum(done);
                vec![]
            }
            Event::PathsFound {
                line,
                head,
                candidates,
            } => {
                self.paths_found(line, head, candidates);
                vec![]
            }
        });
        fx.extend(self.wanted_peaks());
        fx.extend(self.wanted_spectra());
        fx.extend(self.save_if_changed());
        self.count_hidden_marks();
        fx.extend(
            self.list
                .garbage
                .drain(..)
                .map(|g| Effect::Discard(Discard(g))),
        );
        self.writes_sent += fx.iter().filter(|e| e.writes()).count() as u64;
        fx
    }

    /// The command a key runs in the current mode: the user's bindings
    /// first, then the default table.
    fn command_for(&self, k: &KeyEvent) -> Option<String> {
        let mode = self.mode.keys();
        self.user_keys
            .bindings
            .iter()
            .find(|(m, c, mods, _)| *m == mode && keymap::key_is(k, *c, *mods))
            .map(|(_, _, _, cmd)| cmd.clone())
            .or_else(|| keymap::lookup(mode, k).map(str::to_string))
    }

    fn on_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        use crossterm::event::{KeyCode, KeyModifiers};
        if k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL) {
            return self.quit();
        }
        match self.command_for(&k) {
            Some(line) => match command::parse(&line) {
                Ok(cmd) => self.run(cmd),
                Err(e) => {
                    self.error(format!("key bound to ':{line}': {e}"));
                    vec![]
                }
            },
            None if self.mode.keys().edits_text() => self.edit_text(k),
            None => vec![],
        }
    }

    /// Runs one command, as the current mode understands it.
    pub fn run(&mut self, cmd: Command) -> Vec<Effect> {
        match self.mode.keys() {
            KeyMode::Normal => self.run_normal(cmd),
            KeyMode::Search => self.run_search(cmd),
            KeyMode::Command => self.run_bar(cmd),
            KeyMode::HistorySearch => self.run_history_search(cmd),
            KeyMode::Confirm => self.run_confirm(cmd),
            KeyMode::Popup if matches!(self.mode, Mode::Devices(_)) => self.run_devices(cmd),
            KeyMode::Popup => self.run_popup(cmd),
            KeyMode::Compare => self.run_compare(cmd),
        }
    }

    fn store_job(&mut self, job: StoreJob, busy: &str) -> Vec<Effect> {
        self.busy = Some(busy.to_string());
        vec![Effect::Store(job)]
    }

    /// A request to the store worker to say when every write sent so far
    /// is done (answered by [`StoreEvent::Flushed`](super::event::StoreEvent)).
    pub fn flush(&self) -> Effect {
        Effect::Store(StoreJob::Flush(self.writes_sent))
    }

    /// True while writes sent to the store worker are not known to be done.
    pub fn writes_pending(&self) -> bool {
        self.writes_done < self.writes_sent
    }

    /// `q`: at once when nothing is being written; else after the store
    /// worker says every write sent so far is on disk (a second quit while
    /// saving leaves without waiting).
    fn quit(&mut self) -> Vec<Effect> {
        if self.export_holds_quit() {
            return vec![];
        }
        if self.writes_done >= self.writes_sent || self.leaving == Leaving::Saving {
            return vec![Effect::Quit];
        }
        self.leaving = Leaving::Saving;
        self.busy = Some("saving…".into());
        self.info("saving before quitting… (Ctrl-C again quits without waiting)");
        vec![self.flush()]
    }

    /// The store worker has done every write sent before the `n`th.
    fn flushed(&mut self, n: u64) -> Vec<Effect> {
        self.writes_done = self.writes_done.max(n);
        if self.leaving != Leaving::Saving {
            return vec![];
        }
        if self.writes_done >= self.writes_sent {
            return vec![Effect::Quit];
        }
        // More came while saving: wait for those too.
        vec![self.flush()]
    }
}

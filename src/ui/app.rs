//! The browser's state and `update`: a command or input in, state changed and
//! effects out. No I/O happens here; `ui::run` performs the effects.

use super::command::{self, Command};
use crate::command_history::CommandHistory;
use crate::peaks::Peaks;
use crate::playback::{PlayState, PlayerCmd, Status};
use crate::query::{search_matches, Filter, SearchIndex, Sort};
use crate::store::{GenerationHistory, HistoryEntry};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tui_input::Input;

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Normal,
    /// Typing a `/` search.
    Search,
    /// Typing a `:` command.
    Command,
    /// Ctrl-r in the command bar: searching the input history.
    HistorySearch,
    /// Asking before deleting these ids.
    Confirm(Vec<String>),
    Help,
    /// A text popup (stats, history).
    Info(String, Vec<String>),
}

/// Things `update` asks the runner to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Delete(Vec<String>),
    Undo,
    Export { id: String, dest: String },
    Repair,
    Play { id: String },
    Player(PlayerCmd),
    RecordCommand(String),
    Quit,
}

#[derive(Debug, Clone)]
pub enum PeakState {
    Pending,
    Ready(Arc<Peaks>),
    Failed(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

pub struct App {
    pub store: GenerationHistory,
    /// Indices into `store.entries()` in display order.
    pub view: Vec<usize>,
    pub selected: usize,
    /// First visible row (kept by render).
    pub offset: std::cell::Cell<usize>,
    /// Rows in the list area, as last drawn.
    pub page: std::cell::Cell<usize>,
    pub marked: HashSet<String>,
    pub search: String,
    pub filter: Filter,
    pub sort: Sort,
    pub mode: Mode,
    pub input: Input,
    /// What was typed before ↑ recall started (restored past the newest).
    pub typed: Option<String>,
    pub history: CommandHistory,
    pub message: Option<(Level, String)>,
    pub peaks: HashMap<String, PeakState>,
    pub playback: Status,
    pub autoplay: bool,
    pub undo_depth: usize,
    pub total_bytes: u64,
    /// Built on the first search after the entries change.
    search_index: SearchIndex,
}

impl App {
    pub fn new(store: GenerationHistory, history: CommandHistory) -> App {
        let mut app = App {
            store,
            view: Vec::new(),
            selected: 0,
            offset: std::cell::Cell::new(0),
            page: std::cell::Cell::new(20),
            marked: HashSet::new(),
            search: String::new(),
            filter: Filter::default(),
            sort: Sort::Newest,
            mode: Mode::Normal,
            input: Input::default(),
            typed: None,
            history,
            message: None,
            peaks: HashMap::new(),
            playback: Status::default(),
            autoplay: false,
            undo_depth: 0,
            total_bytes: 0,
            search_index: SearchIndex::default(),
        };
        app.refresh_view(None);
        app
    }

    pub fn entries(&self) -> &[HistoryEntry] {
        self.store.entries()
    }

    pub fn selected_entry(&self) -> Option<&HistoryEntry> {
        self.view
            .get(self.selected)
            .map(|&i| &self.store.entries()[i])
    }

    pub fn entry_at(&self, row: usize) -> Option<&HistoryEntry> {
        self.view.get(row).map(|&i| &self.store.entries()[i])
    }

    pub fn info(&mut self, msg: impl Into<String>) {
        self.message = Some((Level::Info, msg.into()));
    }

    pub fn error(&mut self, msg: impl Into<String>) {
        self.message = Some((Level::Error, msg.into()));
    }

    /// Recomputes the visible rows; keeps the selection on `keep` (an id) or on
    /// the same entry as before when it is still shown.
    pub fn refresh_view(&mut self, keep: Option<String>) {
        let keep = keep.or_else(|| self.selected_entry().map(|e| e.entry_id.clone()));
        let q = self.search.to_lowercase();
        let entries = self.store.entries();
        let hits = if q.is_empty() {
            None
        } else {
            let generation = self.store.generation();
            if !self.search_index.is_for(generation, entries.len()) {
                self.search_index = SearchIndex::build(entries, generation);
            }
            self.search_index.matches(&q)
        };
        let mut view: Vec<usize> = (0..entries.len())
            .filter(|&i| {
                let e = &entries[i];
                let found = match &hits {
                    Some(h) => h[i],
                    None => q.is_empty() || search_matches(e, &q),
                };
                found && self.filter.matches(e)
            })
            .collect();
        self.sort.apply(entries, &mut view);
        self.view = view;
        self.selected = keep
            .and_then(|id| self.view.iter().position(|&i| entries[i].entry_id == id))
            .unwrap_or(self.selected.min(self.view.len().saturating_sub(1)));
        if !self.marked.is_empty() {
            let ids: HashSet<&str> = entries.iter().map(|e| e.entry_id.as_str()).collect();
            self.marked.retain(|m| ids.contains(m.as_str()));
        }
    }

    /// Replaces the store after it changed on disk, keeping the selection.
    /// Returns the old store (large at 100,000 entries: the caller may drop
    /// it on another thread). A search index built for the new store off the
    /// UI thread can come along.
    pub fn replace_store(
        &mut self,
        store: GenerationHistory,
        index: Option<SearchIndex>,
    ) -> GenerationHistory {
        let keep = self.selected_entry().map(|e| e.entry_id.clone());
        let old = std::mem::replace(&mut self.store, store);
        if let Some(index) = index {
            self.search_index = index;
        }
        self.refresh_view(keep);
        old
    }

    /// After a delete (written to the file): the entries leave memory and the
    /// selection goes to the next older entry still shown.
    pub fn after_delete(&mut self, deleted: &[String]) {
        let gone: HashSet<&str> = deleted.iter().map(String::as_str).collect();
        let at = self.selected.min(self.view.len());
        let entries = self.store.entries();
        let next = self.view[at..]
            .iter()
            .chain(self.view[..at].iter().rev())
            .filter_map(|&i| entries.get(i))
            .find(|e| !gone.contains(e.entry_id.as_str()))
            .map(|e| e.entry_id.clone());
        for d in deleted {
            self.marked.remove(d);
            self.peaks.remove(d);
        }
        self.store.forget(deleted);
        self.refresh_view(next);
    }

    fn move_to(&mut self, row: usize) -> Vec<Effect> {
        let before = self.selected;
        self.selected = row.min(self.view.len().saturating_sub(1));
        if self.autoplay && before != self.selected {
            if let Some(e) = self.selected_entry() {
                return vec![Effect::Play {
                    id: e.entry_id.clone(),
                }];
            }
        }
        Vec::new()
    }

    /// Runs one command.
    pub fn run(&mut self, cmd: Command) -> Vec<Effect> {
        let page = self.page.get().max(1);
        let last = self.view.len().saturating_sub(1);
        match cmd {
            Command::Down => self.move_to(self.selected + 1),
            Command::Up => self.move_to(self.selected.saturating_sub(1)),
            Command::Top => self.move_to(0),
            Command::Bottom => self.move_to(last),
            Command::PageDown => self.move_to(self.selected + page),
            Command::PageUp => self.move_to(self.selected.saturating_sub(page)),
            Command::HalfDown => self.move_to(self.selected + page / 2),
            Command::HalfUp => self.move_to(self.selected.saturating_sub(page / 2)),
            Command::Search => {
                self.mode = Mode::Search;
                self.input = Input::new(self.search.clone());
                vec![]
            }
            Command::CommandBar => {
                self.mode = Mode::Command;
                self.input = Input::default();
                self.typed = None;
                self.history.reset_navigation();
                vec![]
            }
            Command::HistorySearch => {
                self.mode = Mode::HistorySearch;
                self.input = Input::default();
                vec![]
            }
            Command::Mark => {
                if let Some(id) = self.selected_entry().map(|e| e.entry_id.clone()) {
                    if !self.marked.remove(&id) {
                        self.marked.insert(id);
                    }
                    return self.move_to(self.selected + 1);
                }
                vec![]
            }
            Command::Delete(ids) => {
                let targets: Vec<String> = if !ids.is_empty() {
                    let mut full = Vec::new();
                    for id in ids {
                        match self.store.get(&id) {
                            Ok(e) => full.push(e.entry_id.clone()),
                            Err(e) => {
                                self.error(e.to_string());
                                return vec![];
                            }
                        }
                    }
                    full
                } else if !self.marked.is_empty() {
                    // In display order.
                    self.view
                        .iter()
                        .map(|&i| &self.store.entries()[i].entry_id)
                        .filter(|id| self.marked.contains(*id))
                        .cloned()
                        .collect()
                } else {
                    self.selected_entry()
                        .map(|e| vec![e.entry_id.clone()])
                        .unwrap_or_default()
                };
                if targets.is_empty() {
                    self.info("nothing to delete");
                } else {
                    self.mode = Mode::Confirm(targets);
                }
                vec![]
            }
            Command::Undo => vec![Effect::Undo],
            Command::Filter(f) => {
                self.filter = f;
                self.refresh_view(None);
                self.info(if self.filter.is_empty() {
                    "filter cleared".to_string()
                } else {
                    format!("{} match", self.view.len())
                });
                vec![]
            }
            Command::Sort(s) => {
                self.sort = s;
                self.refresh_view(None);
                vec![]
            }
            Command::Clear => {
                match self.mode {
                    Mode::Normal => {
                        self.search.clear();
                        self.filter = Filter::default();
                        self.marked.clear();
                        self.refresh_view(None);
                    }
                    _ => self.mode = Mode::Normal,
                }
                vec![]
            }
            Command::Goto(prefix) => {
                match self.store.get(&prefix).map(|e| e.entry_id.clone()) {
                    Ok(id) => {
                        if !self
                            .view
                            .iter()
                            .any(|&i| self.store.entries()[i].entry_id == id)
                        {
                            self.search.clear();
                            self.filter = Filter::default();
                        }
                        self.refresh_view(Some(id));
                    }
                    Err(e) => self.error(e.to_string()),
                }
                vec![]
            }
            Command::Export(dest) => match self.selected_entry() {
                Some(e) => vec![Effect::Export {
                    id: e.entry_id.clone(),
                    dest,
                }],
                None => {
                    self.info("nothing selected");
                    vec![]
                }
            },
            Command::Repair | Command::Stats if self.store.loading().is_some() => {
                self.info("still loading the history; try again in a moment");
                vec![]
            }
            Command::Repair => vec![Effect::Repair],
            Command::Stats => {
                let s = self.store.stats();
                let mut lines = vec![
                    format!("entries     {}", s.count),
                    format!("unreadable  {}", s.invalid),
                    format!("total size  {}", crate::text::size(self.total_bytes)),
                    format!(
                        "newest      {}",
                        s.newest
                            .as_deref()
                            .map(crate::text::sanitize)
                            .unwrap_or_default()
                    ),
                    format!(
                        "oldest      {}",
                        s.oldest
                            .as_deref()
                            .map(crate::text::sanitize)
                            .unwrap_or_default()
                    ),
                    String::new(),
                ];
                let mut models: Vec<_> = s.per_model.into_iter().collect();
                models.sort_by_key(|m| std::cmp::Reverse(m.1));
                lines.extend(
                    models
                        .into_iter()
                        .map(|(m, n)| format!("{n:>7}  {}", crate::text::sanitize(&m))),
                );
                self.mode = Mode::Info("stats".into(), lines);
                vec![]
            }
            Command::History(n) => {
                let lines = self
                    .history
                    .recent(n)
                    .into_iter()
                    .map(|(i, c)| format!("{i:>5}  {c}"))
                    .collect();
                self.mode = Mode::Info("recent commands".into(), lines);
                vec![]
            }
            Command::Help => {
                self.mode = Mode::Help;
                vec![]
            }
            Command::Quit => vec![Effect::Quit],
            Command::Play(id) => {
                let id = match id {
                    Some(p) => match self.store.get(&p) {
                        Ok(e) => e.entry_id.clone(),
                        Err(e) => {
                            self.error(e.to_string());
                            return vec![];
                        }
                    },
                    None => match self.selected_entry() {
                        Some(e) => e.entry_id.clone(),
                        None => return vec![],
                    },
                };
                vec![Effect::Play { id }]
            }
            Command::Pause => vec![Effect::Player(PlayerCmd::TogglePause)],
            Command::Stop => vec![Effect::Player(PlayerCmd::Stop)],
            Command::Seek(to) => {
                if self.playback.state == PlayState::Idle {
                    self.info("nothing is playing");
                    return vec![];
                }
                vec![Effect::Player(PlayerCmd::Seek(to))]
            }
            Command::Volume { value, relative } => {
                let v = if relative {
                    self.playback.volume as i32 + value
                } else {
                    value
                };
                let v = v.clamp(0, 150) as u16;
                self.playback.volume = v;
                self.info(format!("volume {v}%"));
                vec![Effect::Player(PlayerCmd::SetVolume(v))]
            }
            Command::Loop => {
                let on = !self.playback.looping;
                self.playback.looping = on;
                self.info(if on { "loop on" } else { "loop off" });
                vec![Effect::Player(PlayerCmd::SetLoop(on))]
            }
            Command::Autoplay => {
                self.autoplay = !self.autoplay;
                self.info(if self.autoplay {
                    "autoplay on"
                } else {
                    "autoplay off"
                });
                vec![]
            }
        }
    }

    /// Runs a line typed into the `:` bar (recorded in the input history).
    pub fn run_line(&mut self, line: &str) -> Vec<Effect> {
        let line = line.trim().trim_start_matches(':').to_string();
        if line.is_empty() {
            return vec![];
        }
        let mut effects = vec![Effect::RecordCommand(line.clone())];
        match command::parse(&line) {
            Ok(cmd) => effects.extend(self.run(cmd)),
            Err(e) => self.error(e),
        }
        effects
    }

    /// The confirmation popup answered.
    pub fn confirm(&mut self, yes: bool) -> Vec<Effect> {
        let Mode::Confirm(ids) = std::mem::replace(&mut self.mode, Mode::Normal) else {
            return vec![];
        };
        if !yes {
            self.info("delete cancelled");
            return vec![];
        }
        let mut effects = Vec::new();
        if self.playback.id.as_ref().is_some_and(|p| ids.contains(p)) {
            effects.push(Effect::Player(PlayerCmd::Stop));
        }
        effects.push(Effect::Delete(ids));
        effects
    }

    /// Builds the search index ahead of the first `/` keystroke (called when
    /// the UI is idle); cheap when it is already current.
    pub fn warm_search_index(&mut self) {
        let generation = self.store.generation();
        let entries = self.store.entries();
        if !self.search_index.is_for(generation, entries.len()) {
            self.search_index = SearchIndex::build(entries, generation);
        }
    }

    /// Incremental search: applied on every keystroke.
    pub fn set_search(&mut self, text: &str) {
        self.search = text.to_string();
        self.refresh_view(None);
        if !self.view.is_empty() && self.selected >= self.view.len() {
            self.selected = 0;
        }
    }

    /// ↑ in the command bar: older command (prefix recall when text is typed).
    pub fn recall_older(&mut self) {
        if self.typed.is_none() {
            self.typed = Some(self.input.value().to_string());
        }
        let prefix = self.typed.clone().unwrap_or_default();
        let got = if prefix.is_empty() {
            self.history.previous()
        } else {
            self.history.previous_matching(&prefix)
        };
        if let Some(c) = got {
            self.input = Input::new(c);
        }
    }

    /// ↓ in the command bar: newer command, or back to what was typed.
    pub fn recall_newer(&mut self) {
        let prefix = self.typed.clone().unwrap_or_default();
        let got = if prefix.is_empty() {
            self.history.next()
        } else {
            self.history.next_matching(&prefix)
        };
        match got {
            Some(c) => self.input = Input::new(c),
            None => {
                self.input = Input::new(self.typed.take().unwrap_or_default());
            }
        }
    }

    pub fn is_playing(&self, id: &str) -> bool {
        self.playback.state != PlayState::Idle && self.playback.id.as_deref() == Some(id)
    }
}

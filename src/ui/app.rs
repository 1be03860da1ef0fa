//! The browser's state and its one `update`: an [`Event`] in (a key, a mouse
//! click, a worker's result, a tick), state changed and [`Effect`]s out for
//! the runner to carry out. No I/O happens here; the view only reads this.

use super::command::{self, Command};
use super::complete::{self, Completion};
use super::event::{
    Discard, Effect, Event, PeakFailure, PeakJob, StoreEvent, StoreJob, ViewDone, ViewJob,
};
use super::keymap::{self, KeyMode, UserKeys};
use super::view::{Rows, View, ViewSpec};
use crate::command_history::CommandHistory;
use crate::peaks::Peaks;
use crate::playback::{PlayState, PlayerCmd, PlayerEvent, Status};
use crate::query::{Filter, Sort, SORT_CYCLE};
use crate::store::annotations::{Annotations, Edit};
use crate::store::known::id_hash;
use crate::store::paths::RelPath;
use crate::store::repair::RepairPlan;
use crate::store::{FileState, GenerationHistory, HistoryEntry, StoreError};
use crate::text::count;
use crossterm::event::{KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;

/// Below this many entries a new view is computed at once, not on the worker.
const INLINE_VIEW: usize = 5_000;
/// Ticks (of about 100 ms) an informational message stays.
const INFO_TICKS: u64 = 40;

/// What is being asked, before it is done (gitui's ConfirmAction).
#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    /// Delete these takes; `hidden` of them are not shown (filtered out).
    Delete {
        ids: Vec<String>,
        hidden: usize,
        permanent: bool,
    },
    /// Move these takes (WAV missing) to the trash.
    Repair(RepairPlan),
}

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
}

/// Two takes compared: both waveforms, one playhead, what differs.
#[derive(Debug, Clone, PartialEq)]
pub struct Compare {
    pub takes: [Arc<HistoryEntry>; 2],
    /// Which one is heard (0: A, 1: B).
    pub heard: usize,
    /// The parameters they differ in.
    pub rows: Vec<crate::diff::Row>,
    /// Loudness matching: both played at the RMS of the quieter one.
    pub level_match: bool,
    /// The first row of the diff shown.
    pub scroll: usize,
}

impl Compare {
    pub fn heard_take(&self) -> &Arc<HistoryEntry> {
        &self.takes[self.heard]
    }
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
            Mode::Help { .. } | Mode::Info { .. } => KeyMode::Popup,
            Mode::Compare(_) => KeyMode::Compare,
        }
    }
}

/// A take's waveform as the list and panel show it.
#[derive(Debug, Clone, PartialEq)]
pub enum PeakState {
    Pending,
    Ready(Arc<Peaks>),
    Failed(PeakFailure),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// What an error is about, so it can clear once its cause is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    Other,
    /// No sound device (cleared when a take plays).
    Device,
    /// history.json cannot be read (cleared when it can).
    Index,
    CommandHistory,
    Config,
    /// The annotations file cannot be read (cleared when it can).
    Annotations,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub level: Level,
    pub text: String,
    pub cause: Cause,
    /// The tick it was shown at.
    pub at: u64,
    /// Errors stay until their cause is gone or Esc; then this is set.
    pub dismissed: bool,
}

/// The `/` search: matches among the rows, and where the selection is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Find {
    pub query: String,
    /// Row numbers of the matches (in view order).
    pub matches: Vec<usize>,
    /// A job is out for the newest query.
    pub pending: bool,
    /// The search was confirmed (Enter) before its matches came: go to
    /// the first when they do.
    land: bool,
    seq: u64,
}

pub struct App {
    pub store: GenerationHistory,
    pub view: View,
    /// The selected row of the view.
    pub selected: usize,
    /// The first row shown.
    pub offset: usize,
    /// The terminal's size.
    pub size: ratatui::layout::Rect,
    /// Marked take ids (kept across filters and searches).
    pub marked: HashSet<String>,
    pub mode: Mode,
    pub input: Input,
    /// What was typed before ↑ recall started (restored past the newest).
    pub typed: Option<String>,
    pub history: CommandHistory,
    pub messages: VecDeque<Message>,
    pub peaks: HashMap<String, PeakState>,
    /// The selected take's audio and thumbnail files, as last looked at.
    pub files: HashMap<String, (FileState, FileState)>,
    pub playback: Status,
    pub autoplay: bool,
    /// Culling mode: rating or rejecting moves to the next take and plays it.
    pub culling: bool,
    /// Bytes of the takes' files and of the trash.
    pub total_bytes: u64,
    pub trash_bytes: u64,
    pub trash_batches: usize,
    pub trash_takes: usize,
    pub notes: Arc<Annotations>,
    /// The annotations as last read from the file (what a failed save
    /// goes back to).
    notes_saved: Arc<Annotations>,
    /// Annotate jobs sent and not yet answered (the screen keeps showing
    /// their changes meanwhile).
    annotating: usize,
    pub find: Find,
    pub completion: Option<Completion>,
    pub user_keys: UserKeys,
    pub theme: super::theme::Theme,
    /// A store job is running (shown in the status bar).
    pub busy: Option<String>,
    pub ticks: u64,
    /// The last peaks request, not to send the same twice.
    last_peaks: Vec<PeakJob>,
    /// The take selected before the current one.
    pub previous: Option<String>,
    /// The selection before `/` started (restored by Esc).
    search_from: Option<usize>,
    /// The mode the `:` bar returns to (the A/B view), else the list.
    return_to: Option<Mode>,
    /// The take to select once the rows being computed arrive (`:goto`
    /// into a filtered-out take).
    select_when_shown: Option<String>,
    /// Lists and searches over more takes than this are computed on the
    /// view worker (tests set 0 to take that path with a few takes).
    pub inline_limit: usize,
    /// Replaced rows, for the view worker to drop.
    garbage: Vec<super::view::Rows>,
    /// Marked takes the view does not show, and for which rows and marks
    /// (`View::version`, the number of marks) that was counted.
    hidden_marks: (usize, (u64, usize)),
}

impl App {
    pub fn new(store: GenerationHistory, history: CommandHistory) -> App {
        let mut app = App {
            view: View {
                rows: store.shared_entries(),
                ..View::default()
            },
            store,
            selected: 0,
            offset: 0,
            size: ratatui::layout::Rect::new(0, 0, 120, 40),
            marked: HashSet::new(),
            mode: Mode::Normal,
            input: Input::default(),
            typed: None,
            history,
            messages: VecDeque::new(),
            peaks: HashMap::new(),
            files: HashMap::new(),
            playback: Status::default(),
            autoplay: false,
            culling: false,
            total_bytes: 0,
            trash_bytes: 0,
            trash_batches: 0,
            trash_takes: 0,
            notes: Arc::new(Annotations::new()),
            notes_saved: Arc::new(Annotations::new()),
            annotating: 0,
            find: Find::default(),
            completion: None,
            user_keys: UserKeys::default(),
            theme: super::theme::Theme::default(),
            busy: None,
            ticks: 0,
            last_peaks: Vec::new(),
            previous: None,
            search_from: None,
            return_to: None,
            select_when_shown: None,
            inline_limit: INLINE_VIEW,
            garbage: Vec::new(),
            hidden_marks: (0, (0, 0)),
        };
        app.scroll_into_view();
        app
    }

    // ----- reading -----------------------------------------------------

    pub fn selected_entry(&self) -> Option<&Arc<HistoryEntry>> {
        self.view.rows.get(self.selected)
    }

    pub fn entry_at(&self, row: usize) -> Option<&Arc<HistoryEntry>> {
        self.view.rows.get(row)
    }

    /// The row showing the take `id` (looked up by identity, not by
    /// comparing ids row by row).
    pub fn row_of(&self, id: &str) -> Option<usize> {
        let e = self.store.get_exact(id)?;
        self.view.position_of(e)
    }

    /// Takes the user's settings: key bindings, theme (`NO_COLOR` wins),
    /// the sort to open in.
    pub fn configure(&mut self, settings: super::Settings) -> Vec<Effect> {
        self.user_keys = settings.keys;
        self.theme = super::theme::Theme::for_env(settings.theme);
        if settings.sort == self.view.spec.sort {
            return vec![];
        }
        let mut spec = self.view.spec.clone();
        spec.sort = settings.sort;
        self.set_spec(spec)
    }

    /// Selects the take `id`: now if the list shows it, else once the
    /// list being computed comes.
    fn select_take(&mut self, id: &str) {
        if let Some(row) = self.row_of(id) {
            self.selected = row;
            self.scroll_into_view();
        } else if self.view.pending {
            self.select_when_shown = Some(id.to_string());
        }
    }

    /// Marked takes the list does not show (filtered out).
    pub fn hidden_marks(&self) -> usize {
        self.hidden_marks.0
    }

    fn count_hidden_marks(&mut self) {
        let key = (self.view.version, self.marked.len());
        if self.hidden_marks.1 == key {
            return;
        }
        let shown = self.shown_count(&self.marked);
        self.hidden_marks = (self.marked.len() - shown, key);
    }

    /// How many of the takes `ids` the list shows (one pass over the rows,
    /// by identity).
    fn shown_count<'a>(&self, ids: impl IntoIterator<Item = &'a String>) -> usize {
        let wanted: HashSet<*const HistoryEntry> = ids
            .into_iter()
            .filter_map(|id| self.store.get_exact(id))
            .map(Arc::as_ptr)
            .collect();
        if wanted.is_empty() {
            return 0;
        }
        self.view
            .rows
            .iter()
            .filter(|r| wanted.contains(&Arc::as_ptr(r)))
            .count()
    }

    /// Asks whether to delete `ids`, saying how many the filter hides.
    fn confirm_delete(&mut self, ids: Vec<String>, permanent: bool) {
        let hidden = ids.len() - self.shown_count(&ids);
        self.mode = Mode::Confirm(Confirm::Delete {
            ids,
            hidden,
            permanent,
        });
    }

    /// Shows `rows`; the old ones go to the view worker to be dropped when
    /// this was their last holder.
    fn set_rows(&mut self, rows: super::view::Rows) {
        self.view.version += 1;
        let old = std::mem::replace(&mut self.view.rows, rows);
        if Arc::strong_count(&old) == 1 && old.len() > self.inline_limit {
            self.garbage.push(old);
        }
    }

    /// Rows the list shows at once.
    pub fn page(&self) -> usize {
        super::layout::list_rows(self.size)
    }

    pub fn is_playing(&self, id: &str) -> bool {
        self.playback.state != PlayState::Idle && self.playback.id.as_deref() == Some(id)
    }

    /// The message the status line shows: the newest info still fresh, else
    /// the newest error not dismissed.
    pub fn message(&self) -> Option<&Message> {
        self.messages.iter().rev().find(|m| match m.level {
            Level::Info => self.ticks.saturating_sub(m.at) < INFO_TICKS,
            Level::Error => !m.dismissed,
        })
    }

    // ----- messages ----------------------------------------------------

    fn push(&mut self, level: Level, cause: Cause, text: String) {
        tracing::info!("{level:?}: {text}");
        self.messages.push_back(Message {
            level,
            text,
            cause,
            at: self.ticks,
            dismissed: false,
        });
        while self.messages.len() > 50 {
            self.messages.pop_front();
        }
    }

    pub fn info(&mut self, msg: impl Into<String>) {
        self.push(Level::Info, Cause::Other, msg.into());
    }

    pub fn error(&mut self, msg: impl Into<String>) {
        self.push(Level::Error, Cause::Other, msg.into());
    }

    fn error_about(&mut self, cause: Cause, msg: impl Into<String>) {
        // A newer error of the same cause replaces the old one.
        self.clear_cause(cause);
        self.push(Level::Error, cause, msg.into());
    }

    /// The cause of these errors is gone.
    fn clear_cause(&mut self, cause: Cause) {
        for m in &mut self.messages {
            if m.level == Level::Error && m.cause == cause {
                m.dismissed = true;
            }
        }
    }

    fn dismiss_errors(&mut self) {
        for m in &mut self.messages {
            m.dismissed = true;
        }
    }

    // ----- the view ------------------------------------------------------

    /// Recomputes the rows for `spec`: at once when cheap, else on the view
    /// worker (the old rows stay meanwhile, selection kept by take).
    fn set_spec(&mut self, spec: ViewSpec) -> Vec<Effect> {
        self.view.spec = spec;
        self.refresh_view()
    }

    fn refresh_view(&mut self) -> Vec<Effect> {
        let keep = self.selected_entry().map(|e| e.entry_id.clone());
        self.view.seq += 1;
        let n = self.store.count();
        if self.view.spec.is_plain() || n <= self.inline_limit {
            let rows =
                super::view::compute(&self.store.shared_entries(), &self.view.spec, &self.notes);
            self.set_rows(rows);
            self.view.pending = false;
            self.reselect(keep);
            return self.find_again();
        }
        self.view.pending = true;
        vec![Effect::View(ViewJob {
            seq: self.view.seq,
            entries: self.store.shared_entries(),
            spec: self.view.spec.clone(),
            notes: self.notes.clone(),
        })]
    }

    /// Puts the selection on `keep` (a take id) if shown, else keeps the row.
    fn reselect(&mut self, keep: Option<String>) {
        if let Some(row) = keep.and_then(|id| self.row_of(&id)) {
            self.selected = row;
        }
        self.selected = self.selected.min(self.view.rows.len().saturating_sub(1));
        self.scroll_into_view();
    }

    fn on_view(&mut self, done: ViewDone) -> Vec<Effect> {
        if done.seq != self.view.seq {
            return vec![];
        }
        let keep = self
            .select_when_shown
            .take()
            .or_else(|| self.selected_entry().map(|e| e.entry_id.clone()));
        self.set_rows(done.rows);
        self.view.pending = false;
        self.reselect(keep);
        self.find_again()
    }

    /// Keeps the selected row on screen.
    fn scroll_into_view(&mut self) {
        let page = self.page();
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + page {
            self.offset = self.selected + 1 - page;
        }
        self.offset = self.offset.min(self.view.rows.len().saturating_sub(page));
    }

    fn move_to(&mut self, row: usize) -> Vec<Effect> {
        let before = self.selected_entry().map(|e| e.entry_id.clone());
        self.selected = row.min(self.view.rows.len().saturating_sub(1));
        self.scroll_into_view();
        let now = self.selected_entry().map(|e| e.entry_id.clone());
        if before != now {
            self.previous = before;
            if self.autoplay {
                return self.play_selected();
            }
        }
        Vec::new()
    }

    /// Where the selection goes when the takes `gone` (id hashes) leave:
    /// its own take if it stays, else the next one that stays (else the
    /// previous one).
    fn selection_after(&self, gone: &HashSet<u64>) -> Option<String> {
        let rows = &self.view.rows;
        let at = self.selected.min(rows.len());
        let stays = |e: &&Arc<HistoryEntry>| !gone.contains(&id_hash(&e.entry_id));
        rows[at..]
            .iter()
            .find(stays)
            .or_else(|| rows[..at].iter().rev().find(stays))
            .map(|e| e.entry_id.clone())
    }

    /// Applies a change of the store to the view and the caches.
    fn after_change(&mut self, applied: &crate::store::Applied, keep: Option<String>) {
        for e in applied.removed.iter().chain(&applied.added) {
            self.peaks.remove(&e.entry_id);
            self.files.remove(&e.entry_id);
        }
        if self.view.spec.is_plain() {
            self.set_rows(self.store.shared_entries());
        } else {
            self.view.patch(applied, &self.notes);
        }
        self.reselect(keep);
        if !self.marked.is_empty() {
            for e in &applied.removed {
                if !applied.added.iter().any(|a| a.entry_id == e.entry_id) {
                    self.marked.remove(&e.entry_id);
                }
            }
        }
    }

    // ----- the search ----------------------------------------------------

    /// Recomputes the matches of the `/` search over the rows.
    fn find_again(&mut self) -> Vec<Effect> {
        if self.find.query.is_empty() {
            self.find.matches.clear();
            self.find.pending = false;
            return vec![];
        }
        self.find.seq += 1;
        if self.view.rows.len() <= self.inline_limit {
            let q = self.find.query.clone();
            self.find.matches = (0..self.view.rows.len())
                .filter(|&i| crate::query::search_matches(&self.view.rows[i], &q))
                .collect();
            self.find.pending = false;
            return vec![];
        }
        self.find.pending = true;
        // The view worker finds them: a search "view" of the current rows.
        vec![Effect::View(ViewJob {
            seq: u64::MAX - self.find.seq,
            entries: self.view.rows.clone(),
            spec: ViewSpec {
                search: self.find.query.clone(),
                ..ViewSpec::default()
            },
            notes: self.notes.clone(),
        })]
    }

    /// The search's matches arrived (as the rows that match, in order).
    fn on_found(&mut self, done: ViewDone) -> Vec<Effect> {
        if u64::MAX - done.seq != self.find.seq {
            return vec![];
        }
        let mut matches = Vec::with_capacity(done.rows.len());
        let mut it = done.rows.iter().peekable();
        for (i, r) in self.view.rows.iter().enumerate() {
            if it.peek().is_some_and(|m| Arc::ptr_eq(m, r)) {
                matches.push(i);
                it.next();
            }
        }
        self.find.matches = matches;
        self.find.pending = false;
        if self.mode == Mode::Search {
            return self.land_on_first_match();
        }
        if std::mem::take(&mut self.find.land) {
            let fx = self.land_on_first_match();
            self.say_match();
            return fx;
        }
        vec![]
    }

    /// "match 2/5" once the search is confirmed and its matches are in.
    fn say_match(&mut self) {
        match self.match_position() {
            Some((_, 0)) => self.info(format!("no match for '{}'", self.find.query)),
            Some((at, n)) => self.info(format!("match {at}/{n} (n / N: next / previous)")),
            None => {}
        }
    }

    /// While typing: the first match from the top.
    fn land_on_first_match(&mut self) -> Vec<Effect> {
        match self.find.matches.first() {
            Some(&row) => self.move_to(row),
            None => vec![],
        }
    }

    /// "match 3/12" for the status bar (`None` without a search).
    pub fn match_position(&self) -> Option<(usize, usize)> {
        if self.find.query.is_empty() || self.find.pending {
            return None;
        }
        let at = self
            .find
            .matches
            .iter()
            .position(|&r| r == self.selected)
            .map_or(0, |i| i + 1);
        Some((at, self.find.matches.len()))
    }

    fn next_match(&mut self, forward: bool) -> Vec<Effect> {
        if self.find.query.is_empty() {
            self.info("no search (press / to search)");
            return vec![];
        }
        let m = &self.find.matches;
        if m.is_empty() {
            self.info(format!("no match for '{}'", self.find.query));
            return vec![];
        }
        let row = if forward {
            m.iter().find(|&&r| r > self.selected).or(m.first())
        } else {
            m.iter().rev().find(|&&r| r < self.selected).or(m.last())
        };
        let row = *row.expect("not empty");
        self.move_to(row)
    }

    fn set_query(&mut self, text: &str) -> Vec<Effect> {
        self.find.query = text.to_lowercase();
        let mut fx = self.find_again();
        if !self.find.pending {
            fx.extend(self.land_on_first_match());
        }
        fx
    }

    // ----- update ------------------------------------------------------

    /// The one place where the state changes.
    pub fn update(&mut self, ev: Event) -> Vec<Effect> {
        let mut fx = match ev {
            Event::Key(k) if k.kind != KeyEventKind::Release => self.on_key(k),
            Event::Key(_) => vec![],
            Event::Mouse(m) => self.on_mouse(m),
            Event::Resize(w, h) => {
                self.size = ratatui::layout::Rect::new(0, 0, w, h);
                self.scroll_into_view();
                vec![]
            }
            Event::Paste(text) => {
                if self.mode.keys().edits_text() {
                    let clean = crate::command_history::clean_command(&text);
                    for ch in clean.chars() {
                        self.input.handle(tui_input::InputRequest::InsertChar(ch));
                    }
                    self.after_typing()
                } else {
                    vec![]
                }
            }
            Event::Tick => {
                self.ticks += 1;
                vec![]
            }
            Event::Store(s) => self.on_store(*s),
            Event::Peaks(p) => {
                let state = match p.peaks {
                    Ok(pk) => PeakState::Ready(pk),
                    Err(f) => PeakState::Failed(f),
                };
                self.peaks.insert(p.id.clone(), state);
                if let Some(files) = p.files {
                    self.files.insert(p.id, files);
                }
                vec![]
            }
            Event::Player(p) => self.on_player(p),
            Event::View(v) if v.seq > u64::MAX / 2 => self.on_found(v),
            Event::View(v) => self.on_view(v),
        };
        fx.extend(self.wanted_peaks());
        self.count_hidden_marks();
        fx.extend(self.garbage.drain(..).map(|g| Effect::Discard(Discard(g))));
        fx
    }

    /// Waveforms (and the panel's files) still wanted: the selected take
    /// first, then the rows shown. Rows still pending are asked for again
    /// (a newer request replaces the worker's queue, so a row scrolled past
    /// may have been dropped from it); the same request is never sent twice.
    fn wanted_peaks(&mut self) -> Vec<Effect> {
        let page = self.page();
        let wanted = |peaks: &HashMap<String, PeakState>, id: &str| {
            matches!(peaks.get(id), None | Some(PeakState::Pending))
        };
        let sel = self.selected_entry().cloned();
        let mut jobs = Vec::new();
        let claims = self.store.claims();
        let check = |id: &str, rel: &str| {
            RelPath::parse(rel).and_then(|p| match claims.conflict(id, &p, &|_| false) {
                Some(why) => Err(why),
                None => Ok(p),
            })
        };
        // The two takes of the A/B view come first.
        if let Mode::Compare(c) = &self.mode {
            for e in &c.takes {
                if wanted(&self.peaks, &e.entry_id) {
                    jobs.push(PeakJob {
                        id: e.entry_id.clone(),
                        audio: check(&e.entry_id, &e.audio_file),
                        thumbnail: None,
                    });
                }
            }
        }
        if let Some(e) = &sel {
            let need_peaks = wanted(&self.peaks, &e.entry_id);
            let need_files = !self.files.contains_key(&e.entry_id);
            if (need_peaks || need_files) && !jobs.iter().any(|j| j.id == e.entry_id) {
                jobs.push(PeakJob {
                    id: e.entry_id.clone(),
                    audio: check(&e.entry_id, &e.audio_file),
                    thumbnail: Some(check(&e.entry_id, &e.thumbnail_file)),
                });
            }
        }
        for row in self.offset..(self.offset + page).min(self.view.rows.len()) {
            let e = &self.view.rows[row];
            if !wanted(&self.peaks, &e.entry_id) || jobs.iter().any(|j| j.id == e.entry_id) {
                continue;
            }
            jobs.push(PeakJob {
                id: e.entry_id.clone(),
                audio: check(&e.entry_id, &e.audio_file),
                thumbnail: None,
            });
        }
        if jobs.is_empty() || jobs == self.last_peaks {
            return vec![];
        }
        for j in &jobs {
            self.peaks.entry(j.id.clone()).or_insert(PeakState::Pending);
        }
        self.last_peaks = jobs.clone();
        vec![Effect::Peaks(jobs)]
    }

    fn on_player(&mut self, p: PlayerEvent) -> Vec<Effect> {
        match p {
            PlayerEvent::Status(s) => {
                if s.state == PlayState::Playing {
                    self.clear_cause(Cause::Device);
                }
                self.playback = s;
            }
            PlayerEvent::Error(e) if e.starts_with("no audio output device") => {
                self.error_about(Cause::Device, e)
            }
            PlayerEvent::Error(e) => self.error(e),
            PlayerEvent::Note(n) => self.info(n),
        }
        vec![]
    }

    // ----- keys --------------------------------------------------------

    /// The command a key runs in the current mode: the user's bindings
    /// first, then the default table.
    pub fn command_for(&self, k: &KeyEvent) -> Option<String> {
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
            return vec![Effect::Quit];
        }
        match self.command_for(&k) {
            Some(line) => match command::parse(&line) {
                Ok(cmd) => self.run(cmd),
                Err(e) => {
                    self.error(format!("key bound to ':{line}': {e}"));
                    vec![]
                }
            },
            None if self.mode.keys().edits_text() => {
                self.input.handle_event(&crossterm::event::Event::Key(k));
                self.after_typing()
            }
            None => vec![],
        }
    }

    /// After the text of the bar changed.
    fn after_typing(&mut self) -> Vec<Effect> {
        self.completion = None;
        match self.mode {
            Mode::Search => {
                let text = self.input.value().to_string();
                self.set_query(&text)
            }
            Mode::Command => {
                self.typed = None;
                self.history.reset_navigation();
                vec![]
            }
            _ => vec![],
        }
    }

    fn on_mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        if self.mode != Mode::Normal {
            return vec![];
        }
        match m.kind {
            MouseEventKind::ScrollDown => self.run(Command::Down),
            MouseEventKind::ScrollUp => self.run(Command::Up),
            MouseEventKind::Down(MouseButton::Left) => {
                let Some(a) = super::layout::areas(self.size) else {
                    return vec![];
                };
                // Rows start under the border and the column headers.
                let first = a.list.y + 2;
                let inside = m.column > a.list.x && m.column < a.list.x + a.list.width - 1;
                if inside && m.row >= first && m.row < first + self.page() as u16 {
                    let row = self.offset + (m.row - first) as usize;
                    if row < self.view.rows.len() {
                        return self.move_to(row);
                    }
                }
                vec![]
            }
            _ => vec![],
        }
    }

    /// Runs one command, as the current mode understands it.
    pub fn run(&mut self, cmd: Command) -> Vec<Effect> {
        match self.mode.clone() {
            Mode::Normal => self.run_normal(cmd),
            Mode::Search => match cmd {
                Command::Accept => {
                    self.mode = Mode::Normal;
                    self.search_from = None;
                    self.find.land = self.find.pending;
                    self.say_match();
                    vec![]
                }
                Command::Cancel => {
                    self.mode = Mode::Normal;
                    self.find = Find::default();
                    match self.search_from.take() {
                        Some(row) => self.move_to(row),
                        None => vec![],
                    }
                }
                Command::NextMatch => self.next_match(true),
                Command::PrevMatch => self.next_match(false),
                _ => vec![],
            },
            Mode::Command => match cmd {
                Command::Accept => {
                    let line = self.input.value().to_string();
                    // Back where the bar was opened (the A/B view runs its
                    // own commands: `:tag` tags the take heard).
                    self.mode = self.return_to.take().unwrap_or(Mode::Normal);
                    self.input.reset();
                    self.typed = None;
                    self.completion = None;
                    self.run_line(&line)
                }
                Command::Cancel => {
                    self.mode = self.return_to.take().unwrap_or(Mode::Normal);
                    self.input.reset();
                    self.history.reset_navigation();
                    self.typed = None;
                    self.completion = None;
                    vec![]
                }
                Command::Older => {
                    self.recall_older();
                    vec![]
                }
                Command::Newer => {
                    self.recall_newer();
                    vec![]
                }
                Command::Complete => self.complete(true),
                Command::CompleteBack => self.complete(false),
                Command::HistorySearch => {
                    self.mode = Mode::HistorySearch;
                    self.input = Input::default();
                    vec![]
                }
                _ => vec![],
            },
            Mode::HistorySearch => match cmd {
                Command::Accept => {
                    let pick = self
                        .history
                        .search(self.input.value(), 1)
                        .into_iter()
                        .next()
                        .map(|(_, c)| c);
                    self.mode = Mode::Command;
                    self.input = Input::new(pick.unwrap_or_default());
                    vec![]
                }
                Command::Cancel => {
                    self.mode = Mode::Command;
                    self.input = Input::default();
                    vec![]
                }
                _ => vec![],
            },
            Mode::Confirm(c) => match cmd {
                Command::Yes => self.confirmed(c),
                Command::No => {
                    self.mode = Mode::Normal;
                    self.info(match c {
                        Confirm::Delete { .. } => "delete cancelled",
                        Confirm::Repair(_) => "repair cancelled",
                    });
                    vec![]
                }
                _ => vec![],
            },
            Mode::Help { only, scroll } => {
                let scroll = self.scrolled(
                    cmd,
                    scroll,
                    super::help::help_lines(only.as_deref(), &self.user_keys, self.size.width)
                        .len(),
                );
                if let Some(s) = scroll {
                    self.mode = Mode::Help { only, scroll: s };
                }
                vec![]
            }
            Mode::Info {
                title,
                lines,
                scroll,
            } => {
                if let Some(s) = self.scrolled(cmd, scroll, lines.len()) {
                    self.mode = Mode::Info {
                        title,
                        lines,
                        scroll: s,
                    };
                }
                vec![]
            }
            Mode::Compare(c) => self.run_compare(c, cmd),
        }
    }

    // ----- deciding what to keep -------------------------------------------

    /// Changes the annotations of `ids`: at once in memory (the screen and
    /// culling never wait for the disk), then in the file by the store worker.
    fn annotate(&mut self, ids: Vec<String>, edit: Edit) -> Vec<Effect> {
        if ids.is_empty() {
            return vec![];
        }
        let notes = Arc::make_mut(&mut self.notes);
        for id in &ids {
            let now = edit.applied_to(&notes.get(id).cloned().unwrap_or_default());
            if now.is_empty() {
                notes.remove(id);
            } else {
                notes.insert(id.clone(), now);
            }
        }
        self.annotating += 1;
        let mut fx = vec![Effect::Store(StoreJob::Annotate { ids, edit })];
        if self.view.spec.uses_annotations() {
            fx.extend(self.refresh_view());
        }
        fx
    }

    /// Shows the annotations as the file holds them.
    fn show_saved_notes(&mut self) -> Vec<Effect> {
        if self.annotating > 0 || *self.notes == *self.notes_saved {
            return vec![];
        }
        self.notes = self.notes_saved.clone();
        if self.view.spec.uses_annotations() {
            self.refresh_view()
        } else {
            vec![]
        }
    }

    /// Rating, rejecting, tagging or a note for the selected take; in
    /// culling mode a rating or a reject moves on and plays the next take.
    fn annotate_selected(&mut self, edit: Edit) -> Vec<Effect> {
        let Some(id) = self.selected_entry().map(|e| e.entry_id.clone()) else {
            return vec![];
        };
        let advance = self.culling && matches!(edit, Edit::Rate(_) | Edit::ToggleReject);
        // The next take, chosen before a filter may hide this one.
        let next = advance
            .then(|| self.view.rows.get(self.selected + 1).cloned())
            .flatten();
        let mut fx = self.annotate(vec![id], edit);
        if advance {
            match next {
                Some(n) => {
                    self.select_take(&n.entry_id);
                    fx.extend(self.play(&n.entry_id));
                }
                None => self.info("culling: that was the last take"),
            }
        }
        fx
    }

    /// The edit a command makes, if it is one.
    fn edit_of(cmd: &Command) -> Option<Edit> {
        Some(match cmd {
            Command::Rate(n) => Edit::Rate(*n),
            Command::Reject => Edit::ToggleReject,
            Command::Tag { add, remove } => Edit::Tags {
                add: add.clone(),
                remove: remove.clone(),
            },
            Command::Note(n) => Edit::Note(n.clone()),
            _ => return None,
        })
    }

    /// `:purge`: every rejected take in the store, after y/n.
    fn ask_purge(&mut self) -> Vec<Effect> {
        let mut ids: Vec<String> = self
            .notes
            .iter()
            .filter(|(id, a)| a.rejected && self.store.get_exact(id).is_some())
            .map(|(id, _)| id.clone())
            .collect();
        if ids.is_empty() {
            self.info("no rejected takes (x rejects the selected take)");
            return vec![];
        }
        ids.sort();
        self.confirm_delete(ids, false);
        vec![]
    }

    /// `:similar`: the list ordered by likeness to the selected take.
    fn order_by_likeness(&mut self) -> Vec<Effect> {
        let Some(e) = self.selected_entry().cloned() else {
            return vec![];
        };
        let mut spec = self.view.spec.clone();
        spec.sort = Sort {
            key: crate::query::SortKey::Similar(crate::query::SimilarTo(Arc::new(
                crate::similar::Reference::new(e.clone()),
            ))),
            reverse: false,
        };
        let how = if e.latent_vector.is_some() {
            "latent vector, then parameters"
        } else {
            "parameters: this take has no latent vector"
        };
        self.info(format!(
            "ordered by likeness to {} ({how}); :sort newest goes back",
            e.short_id()
        ));
        // The selection stays on the take, which comes first.
        self.set_spec(spec)
    }

    /// `:ab`: the two takes to compare.
    fn open_compare(&mut self, ids: Vec<String>) -> Vec<Effect> {
        let pick: Result<Vec<Arc<HistoryEntry>>, String> = if ids.len() == 2 {
            ids.iter()
                .map(|id| self.store.get(id).cloned().map_err(|e| e.to_string()))
                .collect()
        } else if self.marked.len() > 2 {
            Err(format!(
                "{} takes are marked: :ab compares two (or give two ids)",
                self.marked.len()
            ))
        } else if self.marked.len() == 2 {
            let mut m: Vec<Arc<HistoryEntry>> = self
                .view
                .rows
                .iter()
                .filter(|e| self.marked.contains(&e.entry_id))
                .cloned()
                .collect();
            if m.len() < 2 {
                m = self
                    .marked
                    .iter()
                    .filter_map(|id| self.store.get_exact(id).cloned())
                    .collect();
            }
            Ok(m)
        } else {
            match (self.selected_entry().cloned(), &self.previous) {
                (Some(a), Some(prev)) => match self.store.get_exact(prev) {
                    Some(b) if b.entry_id != a.entry_id => Ok(vec![a, b.clone()]),
                    _ => Err("the previously selected take is gone".into()),
                },
                _ => Err(
                    "nothing to compare: mark two takes (m), or select one after another".into(),
                ),
            }
        };
        match pick {
            Ok(t) if t.len() == 2 => {
                let rows = crate::diff::rows(&t[0], &t[1]);
                self.mode = Mode::Compare(Compare {
                    takes: [t[0].clone(), t[1].clone()],
                    heard: 0,
                    rows,
                    level_match: false,
                    scroll: 0,
                });
                vec![]
            }
            Ok(_) => {
                self.error("mark exactly two takes to compare them");
                vec![]
            }
            Err(e) => {
                self.error(e);
                vec![]
            }
        }
    }

    /// The gain that plays the heard take at the RMS of the quieter one
    /// (`None` until both waveforms are read, or for silence).
    pub fn level_gain(&self, c: &Compare) -> Option<f32> {
        let rms = |e: &Arc<HistoryEntry>| match self.peaks.get(&e.entry_id) {
            Some(PeakState::Ready(p)) if p.rms > 0.0 => Some(p.rms),
            _ => None,
        };
        let (a, b) = (rms(&c.takes[0])?, rms(&c.takes[1])?);
        let heard = if c.heard == 0 { a } else { b };
        Some(a.min(b) / heard)
    }

    /// The player's gain for the A/B view as it is now.
    fn gain_effect(&self, c: &Compare) -> Effect {
        let g = if c.level_match {
            self.level_gain(c).unwrap_or(1.0)
        } else {
            1.0
        };
        Effect::Player(PlayerCmd::SetGain(g))
    }

    fn run_compare(&mut self, mut c: Compare, cmd: Command) -> Vec<Effect> {
        if let Some(edit) = Self::edit_of(&cmd) {
            return self.annotate(vec![c.heard_take().entry_id.clone()], edit);
        }
        match cmd {
            Command::AbSwitch => {
                c.heard = 1 - c.heard;
                let playing = self
                    .playback
                    .id
                    .as_ref()
                    .is_some_and(|p| c.takes.iter().any(|t| &t.entry_id == p))
                    && self.playback.state != PlayState::Idle;
                let mut fx = vec![self.gain_effect(&c)];
                let e = c.heard_take().clone();
                if playing {
                    match self.checked_path(&e, &e.audio_file) {
                        Ok(path) => fx.push(Effect::Player(PlayerCmd::Switch {
                            id: e.entry_id.clone(),
                            dir: self.store.dir().to_path_buf(),
                            path,
                        })),
                        Err(why) => self.error(format!("cannot play {}: {why}", e.short_id())),
                    }
                }
                self.mode = Mode::Compare(c);
                fx
            }
            Command::AbLevel => {
                c.level_match = !c.level_match;
                let fx = vec![self.gain_effect(&c)];
                if c.level_match && self.level_gain(&c).is_none() {
                    self.info("loudness matching waits for both waveforms");
                }
                self.mode = Mode::Compare(c);
                fx
            }
            Command::Play(_) | Command::Accept => {
                let mut fx = vec![self.gain_effect(&c)];
                let id = c.heard_take().entry_id.clone();
                fx.extend(self.play(&id));
                fx
            }
            Command::Close | Command::Cancel => {
                self.mode = Mode::Normal;
                vec![Effect::Player(PlayerCmd::SetGain(1.0))]
            }
            Command::Down | Command::Up => {
                c.scroll = if cmd == Command::Down {
                    (c.scroll + 1).min(c.rows.len().saturating_sub(1))
                } else {
                    c.scroll.saturating_sub(1)
                };
                self.mode = Mode::Compare(c);
                vec![]
            }
            Command::CommandBar => {
                self.return_to = Some(Mode::Compare(c));
                self.run_normal(Command::CommandBar)
            }
            other @ (Command::Pause
            | Command::Stop
            | Command::Seek(_)
            | Command::Volume { .. }
            | Command::Loop
            | Command::Quit) => self.run_normal(other),
            _ => {
                self.info("not in the A/B view: Esc closes it");
                vec![]
            }
        }
    }

    /// Scrolling a popup of `len` lines; `None` closes it.
    fn scrolled(&mut self, cmd: Command, scroll: usize, len: usize) -> Option<usize> {
        // As tall as the popup shows: the screen less its margin and borders.
        let page = (self.size.height as usize).saturating_sub(4).max(1);
        let last = len.saturating_sub(page);
        let s = match cmd {
            Command::Down => scroll + 1,
            Command::Up => scroll.saturating_sub(1),
            Command::PageDown => scroll + page,
            Command::PageUp => scroll.saturating_sub(page),
            Command::Top => 0,
            Command::Bottom => last,
            Command::Close => {
                self.mode = Mode::Normal;
                return None;
            }
            _ => scroll,
        };
        Some(s.min(last))
    }

    fn run_normal(&mut self, cmd: Command) -> Vec<Effect> {
        let page = self.page();
        let last = self.view.rows.len().saturating_sub(1);
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
                self.search_from = Some(self.selected);
                self.input = Input::new(self.find.query.clone());
                vec![]
            }
            Command::NextMatch => self.next_match(true),
            Command::PrevMatch => self.next_match(false),
            Command::CommandBar => {
                self.mode = Mode::Command;
                self.input = Input::default();
                self.typed = None;
                self.completion = None;
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
                    // Marking moves on, so a run of takes is marked key by key.
                    return self.move_to(self.selected + 1);
                }
                vec![]
            }
            Command::Delete { ids, permanent } => self.ask_delete(ids, permanent),
            Command::Undo => self.store_job(StoreJob::Undo, "restoring from the trash…"),
            Command::Filter(f) => {
                let mut spec = self.view.spec.clone();
                spec.filter = f;
                let fx = self.set_spec(spec);
                if self.view.spec.filter.is_empty() {
                    self.info("filter cleared");
                } else if !self.view.pending {
                    self.info(format!(
                        "{} shown",
                        count(self.view.rows.len(), "take", "takes")
                    ));
                }
                fx
            }
            Command::Sort(s) => {
                let mut spec = self.view.spec.clone();
                spec.sort = s;
                self.set_spec(spec)
            }
            Command::SortNext => {
                let now = self.view.spec.sort.label();
                let at = SORT_CYCLE
                    .iter()
                    .position(|s| *s == now)
                    .map_or(0, |i| i + 1);
                let next = SORT_CYCLE[at % SORT_CYCLE.len()];
                self.info(format!("sort: {next}"));
                let mut spec = self.view.spec.clone();
                spec.sort = Sort::parse(next).expect("cycle names parse");
                self.set_spec(spec)
            }
            Command::Clear => {
                let mut what = Vec::new();
                if !self.find.query.is_empty() {
                    what.push("search".to_string());
                }
                if !self.view.spec.filter.is_empty() {
                    what.push("filter".to_string());
                }
                if !self.marked.is_empty() {
                    what.push(count(self.marked.len(), "mark", "marks"));
                }
                self.find = Find::default();
                self.marked.clear();
                self.dismiss_errors();
                let fx = if self.view.spec.filter.is_empty() {
                    vec![]
                } else {
                    let mut spec = self.view.spec.clone();
                    spec.filter = Filter::default();
                    self.set_spec(spec)
                };
                if !what.is_empty() {
                    self.info(format!("cleared {}", what.join(", ")));
                }
                fx
            }
            Command::Goto(prefix) => match self.store.get(&prefix).map(|e| e.entry_id.clone()) {
                Ok(id) => {
                    if let Some(row) = self.row_of(&id) {
                        return self.move_to(row);
                    }
                    // Hidden by the filter: show everything, then select it.
                    let mut spec = self.view.spec.clone();
                    spec.filter = Filter::default();
                    self.info(format!(
                        "cleared the filter '{}' to show {}",
                        self.view.spec.filter.text,
                        crate::text::short_id(&id)
                    ));
                    let fx = self.set_spec(spec);
                    self.select_take(&id);
                    fx
                }
                Err(e) => {
                    self.error(e.to_string());
                    vec![]
                }
            },
            Command::Export { dest, overwrite } => {
                let Some(e) = self.selected_entry().cloned() else {
                    self.info("no take selected");
                    return vec![];
                };
                match self.checked_path(&e, &e.audio_file) {
                    Ok(path) => {
                        let dest = expand_home(&dest);
                        self.store_job(
                            StoreJob::Export {
                                path,
                                dest,
                                overwrite,
                            },
                            "exporting…",
                        )
                    }
                    Err(why) => {
                        self.error(format!("cannot export {}: {why}", e.short_id()));
                        vec![]
                    }
                }
            }
            Command::Repair if self.store.loading().is_some() => {
                self.info("still loading the history; try again in a moment");
                vec![]
            }
            Command::Repair => self.store_job(StoreJob::PlanRepair, "looking for missing WAVs…"),
            Command::Stats => {
                let lines = self.stats_lines();
                self.mode = Mode::Info {
                    title: "stats".into(),
                    lines,
                    scroll: 0,
                };
                vec![]
            }
            Command::History(n) => {
                let lines = self
                    .history
                    .recent(n)
                    .into_iter()
                    .map(|(i, c)| format!("{i:>5}  {c}"))
                    .collect();
                self.mode = Mode::Info {
                    title: "recent commands".into(),
                    lines,
                    scroll: 0,
                };
                vec![]
            }
            Command::Messages => {
                let mut lines: Vec<String> = Vec::new();
                for level in [Level::Error, Level::Info] {
                    for m in self.messages.iter().rev().filter(|m| m.level == level) {
                        let tag = if level == Level::Error {
                            "error"
                        } else {
                            "info "
                        };
                        lines.push(format!("{tag}  {}", m.text));
                    }
                }
                if lines.is_empty() {
                    lines.push("no messages yet".into());
                }
                self.mode = Mode::Info {
                    title: "messages".into(),
                    lines,
                    scroll: 0,
                };
                vec![]
            }
            Command::Help(only) => {
                self.mode = Mode::Help { only, scroll: 0 };
                vec![]
            }
            Command::Quit => vec![Effect::Quit],
            Command::Rate(_) | Command::Reject | Command::Tag { .. } | Command::Note(_) => {
                let edit = Self::edit_of(&cmd).expect("an edit");
                self.annotate_selected(edit)
            }
            Command::Cull => {
                self.culling = !self.culling;
                self.info(if self.culling {
                    "culling: 1-5 rate, 0 clears, x rejects, then the next take plays (c ends)"
                } else {
                    "culling off"
                });
                if self.culling && self.playback.state == PlayState::Idle {
                    return self.play_selected();
                }
                vec![]
            }
            Command::Purge => self.ask_purge(),
            Command::Similar => self.order_by_likeness(),
            Command::Ab(ids) => self.open_compare(ids),
            Command::AbSwitch | Command::AbLevel => vec![],
            Command::Play(id) => match id {
                Some(p) => match self.store.get(&p).map(|e| e.entry_id.clone()) {
                    Ok(id) => {
                        if let Some(row) = self.row_of(&id) {
                            self.selected = row;
                            self.scroll_into_view();
                        }
                        self.play(&id)
                    }
                    Err(e) => {
                        self.error(e.to_string());
                        vec![]
                    }
                },
                None => self.play_selected(),
            },
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
                self.info(format!("volume {v}%"));
                vec![Effect::Player(PlayerCmd::SetVolume(v))]
            }
            Command::Loop => {
                let on = !self.playback.looping;
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
            // Keys of other modes: nothing to do in the list.
            Command::Accept
            | Command::Cancel
            | Command::Older
            | Command::Newer
            | Command::Complete
            | Command::CompleteBack
            | Command::Yes
            | Command::No
            | Command::Close => vec![],
        }
    }

    fn store_job(&mut self, job: StoreJob, busy: &str) -> Vec<Effect> {
        self.busy = Some(busy.to_string());
        vec![Effect::Store(job)]
    }

    fn play_selected(&mut self) -> Vec<Effect> {
        match self.selected_entry().map(|e| e.entry_id.clone()) {
            Some(id) => self.play(&id),
            None => vec![],
        }
    }

    /// `rel` (one of `e`'s paths) under the rules that need no file system.
    fn checked_path(&self, e: &HistoryEntry, rel: &str) -> Result<RelPath, String> {
        RelPath::parse(rel).and_then(|p| {
            match self.store.claims().conflict(&e.entry_id, &p, &|_| false) {
                Some(why) => Err(why),
                None => Ok(p),
            }
        })
    }

    /// The `:stats` popup, from memory and the sizes the store worker reported.
    fn stats_lines(&self) -> Vec<String> {
        use crate::text::{sanitize, size};
        let mut per_model: HashMap<&str, usize> = HashMap::new();
        for e in self.store.entries() {
            *per_model.entry(&e.model_name).or_insert(0) += 1;
        }
        let mut models: Vec<(&str, usize)> = per_model.into_iter().collect();
        models.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let when = |e: Option<&Arc<HistoryEntry>>| {
            e.map(|e| crate::text::local_time(e.time_us, &e.timestamp))
                .unwrap_or_default()
        };
        let mut lines = vec![
            format!("takes       {}", self.store.count()),
            format!("unreadable  {}", self.store.invalid_entries().len()),
            format!("files       {}", size(self.total_bytes)),
            format!(
                "trash       {} in {}, {}",
                count(self.trash_takes, "take", "takes"),
                count(self.trash_batches, "batch", "batches"),
                size(self.trash_bytes)
            ),
            format!("newest      {}", when(self.store.entries().first())),
            format!("oldest      {}", when(self.store.entries().last())),
            String::new(),
        ];
        lines.extend(
            models
                .into_iter()
                .map(|(m, n)| format!("{n:>7}  {}", sanitize(m))),
        );
        if self.store.loading().is_some() {
            lines.insert(
                0,
                "(the history is still loading: these are the newest takes)".into(),
            );
        }
        lines
    }

    /// Plays a take: its path is checked here (no I/O), the player opens it.
    fn play(&mut self, id: &str) -> Vec<Effect> {
        let Some(e) = self.store.get_exact(id).cloned() else {
            return vec![];
        };
        match self.checked_path(&e, &e.audio_file) {
            Ok(path) => vec![Effect::Player(PlayerCmd::Open {
                id: e.entry_id.clone(),
                dir: self.store.dir().to_path_buf(),
                path,
            })],
            Err(why) => {
                self.error(format!(
                    "cannot play {}: audio_file '{}': {why}",
                    e.short_id(),
                    e.audio_file
                ));
                vec![]
            }
        }
    }

    fn ask_delete(&mut self, ids: Vec<String>, permanent: bool) -> Vec<Effect> {
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
            // Every marked take, shown or not; shown ones in display order.
            let mut shown: Vec<String> = self
                .view
                .rows
                .iter()
                .filter(|e| self.marked.contains(&e.entry_id))
                .map(|e| e.entry_id.clone())
                .collect();
            let on_screen: HashSet<&str> = shown.iter().map(String::as_str).collect();
            let mut hidden: Vec<String> = self
                .marked
                .iter()
                .filter(|m| !on_screen.contains(m.as_str()) && self.store.get_exact(m).is_some())
                .cloned()
                .collect();
            hidden.sort();
            shown.extend(hidden);
            shown
        } else {
            self.selected_entry()
                .map(|e| vec![e.entry_id.clone()])
                .unwrap_or_default()
        };
        if targets.is_empty() {
            self.info("nothing to delete");
            return vec![];
        }
        self.confirm_delete(targets, permanent);
        vec![]
    }

    /// The confirmation popup answered yes.
    fn confirmed(&mut self, c: Confirm) -> Vec<Effect> {
        self.mode = Mode::Normal;
        match c {
            Confirm::Delete { ids, permanent, .. } => {
                let mut fx = Vec::new();
                if self.playback.id.as_ref().is_some_and(|p| ids.contains(p)) {
                    fx.push(Effect::Player(PlayerCmd::Stop));
                }
                fx.extend(self.store_job(StoreJob::Delete { ids, permanent }, "deleting…"));
                fx
            }
            Confirm::Repair(plan) => {
                let mut fx = Vec::new();
                if self
                    .playback
                    .id
                    .as_ref()
                    .is_some_and(|p| plan.missing.iter().any(|(id, _)| id == p))
                {
                    fx.push(Effect::Player(PlayerCmd::Stop));
                }
                fx.extend(self.store_job(StoreJob::Repair(plan), "repairing…"));
                fx
            }
        }
    }

    /// Runs a line typed into the `:` bar (recorded in the input history).
    pub fn run_line(&mut self, line: &str) -> Vec<Effect> {
        let line = line.trim().trim_start_matches(':').to_string();
        if line.is_empty() {
            return vec![];
        }
        self.history.remember(&line);
        let mut effects = vec![Effect::Store(StoreJob::SaveCommand(line.clone()))];
        match command::parse(&line) {
            Ok(cmd) => effects.extend(self.run(cmd)),
            Err(e) => self.error(e),
        }
        effects
    }

    // ----- store results -----------------------------------------------

    /// Applies a change of the file to the store, the view and the
    /// selection; a list being computed meanwhile is asked for again.
    fn apply_delta(
        &mut self,
        delta: Option<crate::store::reload::Delta>,
        fallback_gone: &[String],
        fallback_back: &[crate::store::RemovedEntry],
    ) -> Vec<Effect> {
        let gone: HashSet<u64> = match &delta {
            Some(d) => d.removed.iter().copied().collect(),
            None => fallback_gone
                .iter()
                .filter(|id| !fallback_back.iter().any(|b| &b.id == *id))
                .map(|id| id_hash(id))
                .collect(),
        };
        let keep = self.selection_after(&gone);
        // The store changes its list in place when nothing else holds it.
        if self.view.spec.is_plain() {
            self.set_rows(Rows::default());
        }
        let applied = match delta {
            Some(d) => self.store.apply(d),
            None => {
                let mut a = self.store.forget(fallback_gone);
                let b = self.store.take_in(fallback_back);
                a.removed.extend(b.removed);
                a.added.extend(b.added);
                a
            }
        };
        self.after_change(&applied, keep);
        if self.view.pending {
            return self.refresh_view();
        }
        // Row numbers of the matches moved with the rows.
        self.find_again()
    }

    fn on_store(&mut self, s: StoreEvent) -> Vec<Effect> {
        let mut fx = Vec::new();
        match s {
            StoreEvent::Loaded(Ok(store)) => {
                let keep = self.selected_entry().map(|e| e.entry_id.clone());
                self.store = *store;
                self.clear_cause(Cause::Index);
                self.peaks
                    .retain(|id, _| self.store.get_exact(id).is_some());
                self.set_rows(Rows::default());
                self.view.seq += 1;
                fx.extend(self.refresh_view());
                if !self.view.pending {
                    self.reselect(keep);
                } else {
                    // Until the sorted rows come: the store's order.
                    self.set_rows(self.store.shared_entries());
                    self.reselect(keep);
                }
                if let Some(w) = self.store.version_warning() {
                    self.error_about(Cause::Index, w);
                } else if !self.store.invalid_entries().is_empty() {
                    self.error(format!(
                        "{} could not be read (see `genhist show ID`)",
                        count(self.store.invalid_entries().len(), "take", "takes")
                    ));
                }
            }
            StoreEvent::Loaded(Err(e)) | StoreEvent::Reloaded(Err(e)) => {
                self.error_about(Cause::Index, e.to_string())
            }
            StoreEvent::Reloaded(Ok(delta)) => {
                self.clear_cause(Cause::Index);
                fx.extend(self.apply_delta(Some(delta), &[], &[]));
            }
            StoreEvent::Deleted {
                result,
                delta,
                permanent,
            } => {
                self.busy = None;
                match result {
                    Ok(r) => {
                        fx.extend(self.apply_delta(delta, &r.removed_ids(), &[]));
                        let mut msg = if permanent {
                            format!(
                                "deleted {} for good",
                                count(r.removed.len(), "take", "takes")
                            )
                        } else {
                            format!(
                                "deleted {} (u undoes)",
                                count(r.removed.len(), "take", "takes")
                            )
                        };
                        if !r.left.is_empty() {
                            msg.push_str(&format!(
                                "; left {} in place: {}",
                                count(r.left.len(), "file", "files"),
                                r.left[0].2
                            ));
                        }
                        self.info(msg);
                    }
                    Err(e) => self.error(e.to_string()),
                }
            }
            StoreEvent::Undone { result, delta } => {
                self.busy = None;
                match result {
                    Ok(r) => {
                        fx.extend(self.apply_delta(delta, &[], &r.restored));
                        if let Some(first) = r.restored.first() {
                            if let Some(row) = self.row_of(&first.id) {
                                self.selected = row;
                                self.scroll_into_view();
                            }
                        }
                        let mut msg =
                            format!("restored {}", count(r.restored.len(), "take", "takes"));
                        for (path, why, _) in &r.left {
                            msg.push_str(&format!("; {path} stays in the trash: {why}"));
                        }
                        if r.left.is_empty() {
                            self.info(msg);
                        } else {
                            self.error(msg);
                        }
                        for (id, _) in &r.annotations {
                            self.files.remove(id);
                        }
                    }
                    Err(StoreError::NothingToUndo) => self.info("nothing to undo"),
                    Err(e) => self.error(e.to_string()),
                }
            }
            StoreEvent::RepairPlanned(result) => {
                self.busy = None;
                match result {
                    Ok(plan) if plan.is_empty() => self.info(format!(
                        "nothing to repair: every take has its WAV ({}, {} left alone)",
                        count(plan.orphan_wavs.len(), "orphan WAV", "orphan WAVs"),
                        count(plan.orphan_pngs.len(), "orphan PNG", "orphan PNGs")
                    )),
                    Ok(plan) => self.mode = Mode::Confirm(Confirm::Repair(plan)),
                    Err(e) => self.error(e.to_string()),
                }
            }
            StoreEvent::Repaired { result, delta } => {
                self.busy = None;
                match result {
                    Ok(r) => {
                        fx.extend(self.apply_delta(delta, &r.deleted.removed_ids(), &[]));
                        let mut msg = format!(
                            "repair: moved {} with a missing WAV to the trash (u undoes)",
                            count(r.deleted.removed.len(), "take", "takes")
                        );
                        if !r.came_back.is_empty() {
                            msg.push_str(&format!(
                                "; kept {} whose WAV is back",
                                count(r.came_back.len(), "take", "takes")
                            ));
                        }
                        self.info(msg);
                    }
                    Err(e) => self.error(e.to_string()),
                }
            }
            StoreEvent::Exported(r) => {
                self.busy = None;
                match r {
                    Ok(p) => self.info(format!("exported to {}", p.display())),
                    Err(e) => self.error(format!("export failed: {e}")),
                }
            }
            StoreEvent::Sizes {
                files,
                trash,
                trash_batches,
                trash_takes,
            } => {
                self.total_bytes = files;
                self.trash_bytes = trash;
                self.trash_batches = trash_batches;
                self.trash_takes = trash_takes;
            }
            StoreEvent::Notes(notes) => {
                for n in notes {
                    self.info(n);
                }
            }
            StoreEvent::HistoryError(e) => self.error_about(Cause::CommandHistory, e),
            StoreEvent::HistorySaved => self.clear_cause(Cause::CommandHistory),
            StoreEvent::Failed(e) => {
                self.busy = None;
                self.error(e);
                // A job that panicked sends no answer of its own.
                self.annotating = 0;
                fx.extend(self.show_saved_notes());
            }
            StoreEvent::Annotations(Ok(a)) => {
                self.clear_cause(Cause::Annotations);
                self.notes_saved = Arc::new(a);
                fx.extend(self.show_saved_notes());
            }
            StoreEvent::Annotated(r) => {
                self.annotating = self.annotating.saturating_sub(1);
                match r {
                    Ok(a) => {
                        self.clear_cause(Cause::Annotations);
                        self.notes_saved = Arc::new(a);
                    }
                    Err(e) => self.error_about(Cause::Annotations, e),
                }
                fx.extend(self.show_saved_notes());
            }
            StoreEvent::Annotations(Err(e)) => self.error_about(Cause::Annotations, e.to_string()),
            StoreEvent::PathsFound {
                line,
                head,
                candidates,
            } => {
                // Only if the line is still the one completed.
                if self.mode == Mode::Command && self.input.value() == line {
                    self.offer(Completion {
                        head,
                        candidates,
                        index: None,
                    });
                }
            }
        }
        fx
    }

    // ----- the command bar -----------------------------------------------

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

    /// Tab / Shift-Tab: completes, or steps through the candidates; a path
    /// is looked up by the store worker (the answer completes the line if
    /// it is still the same).
    fn complete(&mut self, forward: bool) -> Vec<Effect> {
        match &mut self.completion {
            Some(c) if c.candidates.len() > 1 => {
                let n = c.candidates.len();
                c.index = Some(match (c.index, forward) {
                    (None, true) => 0,
                    (None, false) => n - 1,
                    (Some(i), true) => (i + 1) % n,
                    (Some(i), false) => (i + n - 1) % n,
                });
                let line = c.apply();
                self.input = Input::new(line);
                vec![]
            }
            _ => {
                let line = self.input.value().to_string();
                if let Some((head, word)) = complete::path_word(&line) {
                    return vec![Effect::CompletePath { line, head, word }];
                }
                let ctx = complete::Context::of(&self.store, &self.notes);
                let c = complete::complete(&line, &ctx);
                self.offer(c);
                vec![]
            }
        }
    }

    /// Completes the line as far as the candidates agree and keeps them
    /// for Tab to step through.
    fn offer(&mut self, c: Completion) {
        if c.candidates.is_empty() {
            self.completion = None;
            return;
        }
        let line = c.apply_common();
        self.input = Input::new(line);
        self.completion = (c.candidates.len() > 1).then_some(c);
    }
}

/// `~/x` → `$HOME/x` (the bar is not a shell, but people type `~`).
pub fn expand_home(p: &str) -> std::path::PathBuf {
    let home = || std::env::var_os("HOME").map(std::path::PathBuf::from);
    if p == "~" {
        if let Some(h) = home() {
            return h;
        }
    }
    if let Some(rest) = p.strip_prefix("~/") {
        if let Some(h) = home() {
            return h.join(rest);
        }
    }
    std::path::PathBuf::from(p)
}

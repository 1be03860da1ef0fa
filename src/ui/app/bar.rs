//! The `:` bar: typing, ↑/↓ recall from the command history (by prefix
//! when text is typed), Ctrl-r search of it, Tab completion, and running a
//! line (every line run is recorded, as shells do).

use super::{App, Effect, Mode};
use crate::command_history::CommandHistory;
use crate::ui::command::{self, Command};
use crate::ui::complete::{self, Completion};
use crate::ui::event::StoreJob;
use crossterm::event::KeyEvent;
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;

/// The text being typed (in the `:` bar or the `/` search) and the bar's
/// history.
pub struct Bar {
    pub input: Input,
    /// What was typed before ↑ recall started (restored past the newest).
    pub typed: Option<String>,
    pub history: CommandHistory,
    pub completion: Option<Completion>,
    /// The mode the bar returns to (the A/B view), else the list.
    pub(super) return_to: Option<Mode>,
}

impl Bar {
    pub fn new(history: CommandHistory) -> Bar {
        Bar {
            input: Input::default(),
            typed: None,
            history,
            completion: None,
            return_to: None,
        }
    }
}

impl App {
    /// `:` opens the bar, empty.
    pub(super) fn open_bar(&mut self) -> Vec<Effect> {
        self.mode = Mode::Command;
        self.bar.input = Input::default();
        self.bar.typed = None;
        self.bar.completion = None;
        self.bar.history.reset_navigation();
        vec![]
    }

    /// Ctrl-r: searching the command history.
    pub(super) fn open_history_search(&mut self) -> Vec<Effect> {
        self.mode = Mode::HistorySearch;
        self.bar.input = Input::default();
        vec![]
    }

    /// A key no binding takes, in a mode that edits text.
    pub(super) fn edit_text(&mut self, k: KeyEvent) -> Vec<Effect> {
        self.bar
            .input
            .handle_event(&crossterm::event::Event::Key(k));
        self.after_typing()
    }

    /// Pasted text goes into the text being typed, as one line.
    pub(super) fn paste(&mut self, text: &str) -> Vec<Effect> {
        if !self.mode.keys().edits_text() {
            return vec![];
        }
        // Inserted in one piece (a character at a time costs the length of
        // the line each).
        let mut clean = crate::command_history::clean_command(text);
        let value = self.bar.input.value().to_string();
        // A bar line is a command, not a document: a paste is cut to fit.
        let room = crate::command_history::MAX_COMMAND_BYTES.saturating_sub(value.len());
        if clean.len() > room {
            let cut = (0..=room)
                .rev()
                .find(|&i| clean.is_char_boundary(i))
                .unwrap_or(0);
            clean.truncate(cut);
            self.info(format!(
                "the paste was cut to {} (a command line holds no more)",
                crate::text::size(crate::command_history::MAX_COMMAND_BYTES as u64)
            ));
        }
        let at = self.bar.input.cursor();
        let byte = value.char_indices().nth(at).map_or(value.len(), |(i, _)| i);
        let mut line = String::with_capacity(value.len() + clean.len());
        line.push_str(&value[..byte]);
        line.push_str(&clean);
        line.push_str(&value[byte..]);
        let cursor = at + clean.chars().count();
        self.bar.input = Input::new(line).with_cursor(cursor);
        self.after_typing()
    }

    /// After the text of the bar changed.
    fn after_typing(&mut self) -> Vec<Effect> {
        self.bar.completion = None;
        match self.mode {
            Mode::Search => {
                let text = self.bar.input.value().to_string();
                self.set_query(&text)
            }
            Mode::Command => {
                self.bar.typed = None;
                self.bar.history.reset_navigation();
                vec![]
            }
            _ => vec![],
        }
    }

    /// Back where the bar was opened (the A/B view runs its own commands:
    /// `:tag` tags the take heard), with the bar emptied.
    fn close_bar(&mut self) {
        self.mode = self.bar.return_to.take().unwrap_or(Mode::Normal);
        self.bar.input.reset();
        self.bar.typed = None;
        self.bar.completion = None;
    }

    pub(super) fn run_bar(&mut self, cmd: Command) -> Vec<Effect> {
        match cmd {
            Command::Accept => {
                let line = self.bar.input.value().to_string();
                self.close_bar();
                self.run_line(&line)
            }
            Command::Cancel => {
                self.close_bar();
                self.bar.history.reset_navigation();
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
            Command::HistorySearch => self.open_history_search(),
            _ => vec![],
        }
    }

    pub(super) fn run_history_search(&mut self, cmd: Command) -> Vec<Effect> {
        match cmd {
            Command::Accept => {
                let pick = self
                    .bar
                    .history
                    .search(self.bar.input.value(), 1)
                    .into_iter()
                    .next()
                    .map(|(_, c)| c);
                self.mode = Mode::Command;
                self.bar.input = Input::new(pick.unwrap_or_default());
                vec![]
            }
            Command::Cancel => {
                self.mode = Mode::Command;
                self.bar.input = Input::default();
                vec![]
            }
            _ => vec![],
        }
    }

    /// Runs a line typed into the `:` bar (recorded in the input history).
    pub fn run_line(&mut self, line: &str) -> Vec<Effect> {
        let line = line.trim().trim_start_matches(':').to_string();
        if line.is_empty() {
            return vec![];
        }
        self.bar.history.remember(&line);
        let mut effects = vec![Effect::Store(StoreJob::SaveCommand(line.clone()))];
        match command::parse(&line) {
            Ok(cmd) => effects.extend(self.run(cmd)),
            Err(e) => {
                let name = line.split_whitespace().next().unwrap_or_default();
                if matches!(name, "rate" | "reject" | "tag" | "note") {
                    self.messages.error_about(super::Cause::Edit, e);
                } else {
                    self.error(e);
                }
            }
        }
        effects
    }

    /// ↑ in the command bar: older command (prefix recall when text is typed).
    fn recall_older(&mut self) {
        let bar = &mut self.bar;
        if bar.typed.is_none() {
            bar.typed = Some(bar.input.value().to_string());
        }
        let prefix = bar.typed.clone().unwrap_or_default();
        let got = if prefix.is_empty() {
            bar.history.previous()
        } else {
            bar.history.previous_matching(&prefix)
        };
        if let Some(c) = got {
            bar.input = Input::new(c);
        }
    }

    /// ↓ in the command bar: newer command, or back to what was typed.
    fn recall_newer(&mut self) {
        let bar = &mut self.bar;
        let prefix = bar.typed.clone().unwrap_or_default();
        let got = if prefix.is_empty() {
            bar.history.next()
        } else {
            bar.history.next_matching(&prefix)
        };
        match got {
            Some(c) => bar.input = Input::new(c),
            None => bar.input = Input::new(bar.typed.take().unwrap_or_default()),
        }
    }

    /// Tab / Shift-Tab: completes, or steps through the candidates; a path
    /// is listed on a thread of its own (the answer completes the line if
    /// it is still the same).
    fn complete(&mut self, forward: bool) -> Vec<Effect> {
        match &mut self.bar.completion {
            Some(c) if c.candidates.len() > 1 => {
                let n = c.candidates.len();
                c.index = Some(match (c.index, forward) {
                    (None, true) => 0,
                    (None, false) => n - 1,
                    (Some(i), true) => (i + 1) % n,
                    (Some(i), false) => (i + n - 1) % n,
                });
                let line = c.apply();
                self.bar.input = Input::new(line);
                vec![]
            }
            _ => {
                let line = self.bar.input.value().to_string();
                if let Some((head, word)) = complete::path_word(&line) {
                    return vec![Effect::CompletePath { line, head, word }];
                }
                let ctx = complete::Context::of(&self.store, &self.triage.notes);
                let c = complete::complete(&line, &ctx);
                self.offer(c);
                vec![]
            }
        }
    }

    /// Paths that complete the line arrived.
    pub(super) fn paths_found(&mut self, line: String, head: String, candidates: Vec<String>) {
        // Only if the line is still the one completed.
        if self.mode == Mode::Command && self.bar.input.value() == line {
            self.offer(Completion {
                head,
                candidates,
                index: None,
            });
        }
    }

    /// Completes the line as far as the candidates agree and keeps them
    /// for Tab to step through.
    fn offer(&mut self, c: Completion) {
        if c.candidates.is_empty() {
            self.bar.completion = None;
            return;
        }
        let line = c.apply_common();
        self.bar.input = Input::new(line);
        self.bar.completion = (c.candidates.len() > 1).then_some(c);
    }
}

//! Text popups over the list: the help (all of it, or one command), stats,
//! recent commands and messages; scrolled by the popup keys.

use super::{App, Effect, Mode};
use crate::text::{count, sanitize, size};
use crate::ui::command::Command;
use std::collections::HashMap;

impl App {
    /// Lines a popup shows at once: the screen less its margin and borders
    /// (the drawing uses the same).
    fn popup_page(&self) -> usize {
        (self.size.height as usize).saturating_sub(4).max(1)
    }

    pub(super) fn show_help(&mut self, only: Option<String>) -> Vec<Effect> {
        self.mode = Mode::Help { only, scroll: 0 };
        vec![]
    }

    fn show_lines(&mut self, title: &str, lines: Vec<String>) -> Vec<Effect> {
        self.mode = Mode::Info {
            title: title.into(),
            lines,
            scroll: 0,
        };
        vec![]
    }

    pub(super) fn show_stats(&mut self) -> Vec<Effect> {
        let lines = self.stats_lines();
        self.show_lines("stats", lines)
    }

    pub(super) fn show_history(&mut self, n: usize) -> Vec<Effect> {
        let lines = self
            .bar
            .history
            .recent(n)
            .into_iter()
            .map(|(i, c)| format!("{i:>5}  {c}"))
            .collect();
        self.show_lines("recent commands", lines)
    }

    pub(super) fn show_messages(&mut self) -> Vec<Effect> {
        let lines = self.messages.lines();
        self.show_lines("messages", lines)
    }

    /// Scrolling a popup; `close` ends it.
    pub(super) fn run_popup(&mut self, cmd: Command) -> Vec<Effect> {
        if cmd == Command::Close {
            self.mode = Mode::Normal;
            return vec![];
        }
        let len = match &self.mode {
            Mode::Help { only, .. } => {
                crate::ui::help::help_lines(only.as_deref(), &self.user_keys, self.size.width).len()
            }
            Mode::Info { lines, .. } => crate::ui::help::info_lines(lines, self.size.width).len(),
            _ => return vec![],
        };
        let page = self.popup_page();
        let last = len.saturating_sub(page);
        if let Mode::Help { scroll, .. } | Mode::Info { scroll, .. } = &mut self.mode {
            let s = match cmd {
                Command::Down => *scroll + 1,
                Command::Up => scroll.saturating_sub(1),
                Command::PageDown => *scroll + page,
                Command::PageUp => scroll.saturating_sub(page),
                Command::Top => 0,
                Command::Bottom => last,
                _ => *scroll,
            };
            *scroll = s.min(last);
        }
        vec![]
    }

    /// The `:stats` popup, from memory and the sizes the store worker reported.
    fn stats_lines(&self) -> Vec<String> {
        let mut per_model: HashMap<&str, usize> = HashMap::new();
        for e in self.store.entries() {
            *per_model.entry(e.model_name()).or_insert(0) += 1;
        }
        let mut models: Vec<(&str, usize)> = per_model.into_iter().collect();
        models.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let when = |e: Option<&std::sync::Arc<crate::store::HistoryEntry>>| {
            e.map(|e| crate::text::zoned_time(e.time_us(), &e.timestamp(), self.time_zone))
                .unwrap_or_default()
        };
        let z = &self.sizes;
        let mut lines = vec![
            format!("takes       {}", self.store.count()),
            format!("unreadable  {}", self.store.invalid_entries().len()),
            format!("files       {}", size(z.files)),
            format!(
                "trash       {} in {}, {}",
                count(z.trash_takes, "take", "takes"),
                count(z.trash_batches, "batch", "batches"),
                size(z.trash)
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
}

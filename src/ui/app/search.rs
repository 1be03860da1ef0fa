//! The `/` search: matches among the shown rows (found on the view worker
//! when the list is large), landing on the first, `n` / `N` between them.

use super::{App, Effect, Mode};
use crate::ui::command::Command;
use crate::ui::event::{ViewDone, ViewJob, ViewKind};
use crate::ui::view::ViewSpec;
use std::sync::Arc;

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
    /// The selection before `/` started (restored by Esc).
    from: Option<usize>,
    /// The last search confirmed with Enter (↑ in an empty `/` brings it back).
    pub last: String,
}

impl Find {
    /// No search any more (the last confirmed one is kept for ↑).
    pub(super) fn reset(&mut self) {
        let last = std::mem::take(&mut self.last);
        *self = Find {
            last,
            ..Find::default()
        };
    }
}

impl App {
    /// `/`: a new search, typed from empty (the previous one is one ↑ away).
    pub(super) fn open_search(&mut self) -> Vec<Effect> {
        self.mode = Mode::Search;
        self.find.from = Some(self.list.selected);
        self.bar.input = tui_input::Input::default();
        let fx = self.set_query("");
        if !self.find.query.is_empty() {
            self.find.last = self.find.query.clone();
        }
        fx
    }

    pub(super) fn run_search(&mut self, cmd: Command) -> Vec<Effect> {
        match cmd {
            Command::Accept => {
                self.mode = Mode::Normal;
                self.find.from = None;
                self.find.land = self.find.pending;
                if !self.find.query.is_empty() {
                    self.find.last = self.find.query.clone();
                }
                self.say_match();
                vec![]
            }
            Command::Cancel => {
                self.mode = Mode::Normal;
                let from = self.find.from.take();
                self.find.reset();
                match from {
                    Some(row) => self.move_to(row),
                    None => vec![],
                }
            }
            // ↑ with nothing typed: the previous search.
            Command::PrevMatch
                if self.bar.input.value().is_empty() && !self.find.last.is_empty() =>
            {
                let last = self.find.last.clone();
                self.bar.input = tui_input::Input::new(last.clone());
                self.set_query(&last)
            }
            Command::NextMatch => self.next_match(true),
            Command::PrevMatch => self.next_match(false),
            _ => vec![],
        }
    }

    /// Recomputes the matches of the `/` search over the rows.
    pub(super) fn find_again(&mut self) -> Vec<Effect> {
        if self.find.query.is_empty() {
            self.find.matches.clear();
            self.find.pending = false;
            return vec![];
        }
        self.find.seq += 1;
        let rows = &self.list.view.rows;
        if rows.len() <= self.list.inline_limit {
            let (q, notes) = (&self.find.query, &self.triage.notes);
            self.find.matches = (0..rows.len())
                .filter(|&i| {
                    let e = &rows[i];
                    crate::query::search_matches(e, notes.get(&e.entry_id), q)
                })
                .collect();
            self.find.pending = false;
            return vec![];
        }
        self.find.pending = true;
        // The view worker finds them: a search "view" of the current rows.
        vec![Effect::View(ViewJob {
            kind: ViewKind::Search,
            seq: self.find.seq,
            entries: rows.clone(),
            spec: ViewSpec {
                search: self.find.query.clone(),
                ..ViewSpec::default()
            },
            notes: self.triage.notes.clone(),
            measures: self.analysis.measures.clone(),
        })]
    }

    /// The search's matches arrived (as the rows that match, in order).
    pub(super) fn on_found(&mut self, done: ViewDone) -> Vec<Effect> {
        if done.seq != self.find.seq {
            return vec![];
        }
        self.find.pending = false;
        let found = match done.rows {
            Ok(rows) => rows,
            Err(why) => {
                self.find.matches.clear();
                self.error(why);
                return vec![];
            }
        };
        let mut matches = Vec::with_capacity(found.len());
        let mut it = found.iter().peekable();
        for (i, r) in self.list.view.rows.iter().enumerate() {
            if it.peek().is_some_and(|m| Arc::ptr_eq(m, r)) {
                matches.push(i);
                it.next();
            }
        }
        self.find.matches = matches;
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
    pub(super) fn say_match(&mut self) {
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
            .position(|&r| r == self.list.selected)
            .map_or(0, |i| i + 1);
        Some((at, self.find.matches.len()))
    }

    pub(super) fn next_match(&mut self, forward: bool) -> Vec<Effect> {
        if self.find.query.is_empty() {
            self.info("no search (press / to search)");
            return vec![];
        }
        let m = &self.find.matches;
        if m.is_empty() {
            self.info(format!("no match for '{}'", self.find.query));
            return vec![];
        }
        let sel = self.list.selected;
        let row = if forward {
            m.iter().find(|&&r| r > sel).or(m.first())
        } else {
            m.iter().rev().find(|&&r| r < sel).or(m.last())
        };
        let row = *row.expect("not empty");
        let fx = self.move_to(row);
        // The message says where the selection is now (as the status line).
        self.say_match();
        fx
    }

    /// The search text changed while typing.
    pub(super) fn set_query(&mut self, text: &str) -> Vec<Effect> {
        self.find.query = text.to_lowercase();
        let mut fx = self.find_again();
        if !self.find.pending {
            fx.extend(self.land_on_first_match());
        }
        fx
    }
}

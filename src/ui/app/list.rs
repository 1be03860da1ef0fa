//! The shown rows and the selection: the store's list through the search,
//! the filter and the sort (computed on the view worker when large), marks
//! kept across them, and the selection following its take through every
//! change.

use super::{App, Effect};
use crate::query::{Filter, Sort, SORT_CYCLE};
use crate::store::known::id_hash;
use crate::store::HistoryEntry;
use crate::text::count;
use crate::ui::event::{ViewDone, ViewJob, ViewKind};
use crate::ui::view::{Rows, View, ViewSpec};
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use std::collections::HashSet;
use std::sync::Arc;

/// Below this many entries a new view is computed at once, not on the worker.
const INLINE_VIEW: usize = 5_000;

/// The list and its selection.
#[derive(Debug)]
pub struct List {
    pub view: View,
    /// The selected row of the view.
    pub selected: usize,
    /// The first row shown.
    pub offset: usize,
    /// Marked take ids (kept across filters and searches).
    pub marked: HashSet<String>,
    /// The take selected before the current one.
    pub previous: Option<String>,
    /// Lists and searches over more takes than this are computed on the
    /// view worker (tests set 0 to take that path with a few takes).
    pub inline_limit: usize,
    /// Marked takes the view does not show, and for which rows and marks
    /// (`View::version`, the number of marks) that was counted.
    hidden_marks: (usize, (u64, usize)),
    /// The take to select once the rows being computed arrive (`:goto`
    /// into a filtered-out take).
    select_when_shown: Option<String>,
    /// Replaced rows, for the view worker to drop.
    pub(super) garbage: Vec<Rows>,
}

impl List {
    pub fn new(rows: Rows) -> List {
        List {
            view: View {
                rows,
                ..View::default()
            },
            selected: 0,
            offset: 0,
            marked: HashSet::new(),
            previous: None,
            inline_limit: INLINE_VIEW,
            hidden_marks: (0, (0, 0)),
            select_when_shown: None,
            garbage: Vec::new(),
        }
    }

    /// Marked takes the list does not show (filtered out).
    pub(crate) fn hidden_marks(&self) -> usize {
        self.hidden_marks.0
    }
}

impl App {
    /// Selects the take `id`: now if the list shows it, else once the
    /// list being computed comes.
    pub(super) fn select_take(&mut self, id: &str) {
        if let Some(row) = self.row_of(id) {
            self.list.selected = row;
            self.scroll_into_view();
        } else if self.list.view.pending {
            self.list.select_when_shown = Some(id.to_string());
        }
    }

    /// The marked takes: those shown in the list's order, then the ones
    /// the filter hides (by id).
    pub(super) fn marked_in_order(&self) -> Vec<String> {
        let marked = &self.list.marked;
        let mut shown: Vec<String> = self
            .list
            .view
            .rows
            .iter()
            .filter(|e| marked.contains(&e.entry_id))
            .map(|e| e.entry_id.clone())
            .collect();
        let on_screen: HashSet<&str> = shown.iter().map(String::as_str).collect();
        let mut hidden: Vec<String> = marked
            .iter()
            .filter(|m| !on_screen.contains(m.as_str()) && self.store.get_exact(m).is_some())
            .cloned()
            .collect();
        hidden.sort();
        shown.extend(hidden);
        shown
    }

    pub(super) fn count_hidden_marks(&mut self) {
        let key = (self.list.view.version, self.list.marked.len());
        if self.list.hidden_marks.1 == key {
            return;
        }
        let shown = self.shown_count(&self.list.marked);
        self.list.hidden_marks = (self.list.marked.len() - shown, key);
    }

    /// How many of the takes `ids` the list shows (one pass over the rows,
    /// by identity).
    pub(super) fn shown_count<'a>(&self, ids: impl IntoIterator<Item = &'a String>) -> usize {
        let wanted: HashSet<*const HistoryEntry> = ids
            .into_iter()
            .filter_map(|id| self.store.get_exact(id))
            .map(Arc::as_ptr)
            .collect();
        if wanted.is_empty() {
            return 0;
        }
        self.list
            .view
            .rows
            .iter()
            .filter(|r| wanted.contains(&Arc::as_ptr(r)))
            .count()
    }

    /// Shows `rows`; the old ones go to the view worker to be dropped when
    /// this was their last holder.
    pub(super) fn set_rows(&mut self, rows: Rows) {
        self.list.view.version += 1;
        let old = std::mem::replace(&mut self.list.view.rows, rows);
        if Arc::strong_count(&old) == 1 && old.len() > self.list.inline_limit {
            self.list.garbage.push(old);
        }
    }

    /// Recomputes the rows for `spec`: at once when cheap, else on the view
    /// worker (the old rows stay meanwhile, selection kept by take).
    pub(super) fn set_spec(&mut self, spec: ViewSpec) -> Vec<Effect> {
        self.list.view.spec = spec;
        self.refresh_view()
    }

    pub(super) fn refresh_view(&mut self) -> Vec<Effect> {
        let keep = self.selected_entry().map(|e| e.entry_id.clone());
        self.list.view.seq += 1;
        let n = self.store.count();
        if self.list.view.spec.is_plain() || n <= self.list.inline_limit {
            let rows = crate::ui::view::compute(
                &self.store.shared_entries(),
                &self.list.view.spec,
                self.facts(),
            );
            self.set_rows(rows);
            self.list.view.pending = false;
            self.reselect(keep);
            return self.find_again();
        }
        self.list.view.pending = true;
        vec![Effect::View(ViewJob {
            kind: ViewKind::List,
            seq: self.list.view.seq,
            entries: self.store.shared_entries(),
            spec: self.list.view.spec.clone(),
            notes: self.triage.notes.clone(),
            measures: self.analysis.measures.clone(),
        })]
    }

    /// Puts the selection on `keep` (a take id) if shown, else keeps the row.
    pub(super) fn reselect(&mut self, keep: Option<String>) {
        if let Some(row) = keep.and_then(|id| self.row_of(&id)) {
            self.list.selected = row;
        }
        self.list.selected = self
            .list
            .selected
            .min(self.list.view.rows.len().saturating_sub(1));
        self.scroll_into_view();
    }

    /// A list or a search computed on the view worker (or its failure).
    pub(super) fn on_view_done(&mut self, done: ViewDone) -> Vec<Effect> {
        match done.kind {
            ViewKind::Search => self.on_found(done),
            ViewKind::List => self.on_list(done),
        }
    }

    fn on_list(&mut self, done: ViewDone) -> Vec<Effect> {
        if done.seq != self.list.view.seq {
            return vec![];
        }
        self.list.view.pending = false;
        let rows = match done.rows {
            Ok(rows) => rows,
            Err(why) => {
                // The rows shown stay as they were.
                self.list.select_when_shown = None;
                self.error(why);
                return vec![];
            }
        };
        let keep = self
            .list
            .select_when_shown
            .take()
            .or_else(|| self.selected_entry().map(|e| e.entry_id.clone()));
        self.set_rows(rows);
        self.reselect(keep);
        self.find_again()
    }

    /// Keeps the selected row on screen.
    pub(super) fn scroll_into_view(&mut self) {
        let page = self.page();
        let l = &mut self.list;
        if l.selected < l.offset {
            l.offset = l.selected;
        } else if l.selected >= l.offset + page {
            l.offset = l.selected + 1 - page;
        }
        l.offset = l.offset.min(l.view.rows.len().saturating_sub(page));
    }

    pub(super) fn move_to(&mut self, row: usize) -> Vec<Effect> {
        let before = self.selected_entry().map(|e| e.entry_id.clone());
        self.list.selected = row.min(self.list.view.rows.len().saturating_sub(1));
        self.scroll_into_view();
        let now = self.selected_entry().map(|e| e.entry_id.clone());
        if before != now {
            self.list.previous = before;
            if self.player.autoplay {
                return self.play_selected();
            }
        }
        Vec::new()
    }

    /// `j`, `k`, `g`, `G` and the pages: `by` rows (negative: up).
    pub(super) fn move_by(&mut self, by: isize) -> Vec<Effect> {
        self.move_to(self.list.selected.saturating_add_signed(by))
    }

    /// Where the selection goes when the takes `gone` (id hashes) leave:
    /// its own take if it stays, else the next one that stays (else the
    /// previous one).
    fn selection_after(&self, gone: &HashSet<u64>) -> Option<String> {
        let rows = &self.list.view.rows;
        let at = self.list.selected.min(rows.len());
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
            self.waves.forget(&e.entry_id);
        }
        if self.list.view.spec.is_plain() {
            self.set_rows(self.store.shared_entries());
        } else {
            let facts = crate::analysis::Facts {
                notes: &self.triage.notes,
                measures: &self.analysis.measures,
            };
            self.list.view.patch(applied, facts);
        }
        self.reselect(keep);
        if !self.list.marked.is_empty() {
            for e in &applied.removed {
                if !applied.added.iter().any(|a| a.entry_id == e.entry_id) {
                    self.list.marked.remove(&e.entry_id);
                }
            }
        }
    }

    /// Applies a change of the file to the store, the view and the
    /// selection; a list being computed meanwhile is asked for again.
    pub(super) fn apply_delta(
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
        if self.list.view.spec.is_plain() {
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
        // Takes that came (or changed) are measured.
        let mut fx = self.analyze(&applied.added);
        if self.list.view.pending {
            fx.extend(self.refresh_view());
            return fx;
        }
        // Row numbers of the matches moved with the rows.
        fx.extend(self.find_again());
        fx
    }

    /// The whole history is in (replacing the first screen's newest takes).
    pub(super) fn replace_store(&mut self, store: crate::store::GenerationHistory) -> Vec<Effect> {
        let keep = self.selected_entry().map(|e| e.entry_id.clone());
        self.store = store;
        self.waves
            .keep_only(|id| self.store.get_exact(id).is_some());
        self.set_rows(Rows::default());
        self.list.view.seq += 1;
        let fx = self.refresh_view();
        if self.list.view.pending {
            // Until the sorted rows come: the store's order.
            self.set_rows(self.store.shared_entries());
        }
        self.reselect(keep);
        fx
    }

    pub(super) fn on_mouse(&mut self, m: MouseEvent) -> Vec<Effect> {
        if self.mode != super::Mode::Normal {
            return vec![];
        }
        match m.kind {
            MouseEventKind::ScrollDown => self.move_by(1),
            MouseEventKind::ScrollUp => self.move_by(-1),
            MouseEventKind::Down(MouseButton::Left) => {
                let Some(a) = crate::ui::layout::areas(self.size) else {
                    return vec![];
                };
                // Rows start under the border and the column headers.
                let first = a.list.y + 2;
                let inside = m.column > a.list.x && m.column < a.list.x + a.list.width - 1;
                if inside && m.row >= first && m.row < first + self.page() as u16 {
                    let row = self.list.offset + (m.row - first) as usize;
                    if row < self.list.view.rows.len() {
                        return self.move_to(row);
                    }
                }
                vec![]
            }
            _ => vec![],
        }
    }

    /// `m`: marks or unmarks the take and moves on, so a run of takes is
    /// marked key by key.
    pub(super) fn toggle_mark(&mut self) -> Vec<Effect> {
        let Some(id) = self.selected_entry().map(|e| e.entry_id.clone()) else {
            return vec![];
        };
        if !self.list.marked.remove(&id) {
            self.list.marked.insert(id);
        }
        self.move_by(1)
    }

    pub(super) fn set_filter(&mut self, f: Filter) -> Vec<Effect> {
        let mut spec = self.list.view.spec.clone();
        spec.filter = f;
        let fx = self.set_spec(spec);
        if self.list.view.spec.filter.is_empty() {
            self.info("filter cleared");
        } else if !self.list.view.pending {
            self.info(format!(
                "{} shown",
                count(self.list.view.rows.len(), "take", "takes")
            ));
        }
        fx
    }

    pub(super) fn set_sort(&mut self, s: Sort) -> Vec<Effect> {
        let mut spec = self.list.view.spec.clone();
        spec.sort = s;
        self.set_spec(spec)
    }

    /// `o`: the next order of the cycle.
    pub(super) fn next_sort(&mut self) -> Vec<Effect> {
        let now = self.list.view.spec.sort.label();
        let at = SORT_CYCLE
            .iter()
            .position(|s| *s == now)
            .map_or(0, |i| i + 1);
        let next = SORT_CYCLE[at % SORT_CYCLE.len()];
        self.info(format!("sort: {next}"));
        self.set_sort(Sort::parse(next).expect("cycle names parse"))
    }

    /// Esc: clears the search, the filter, the marks and the messages.
    pub(super) fn clear(&mut self) -> Vec<Effect> {
        let mut what = Vec::new();
        if !self.find.query.is_empty() {
            what.push("search".to_string());
        }
        if !self.list.view.spec.filter.is_empty() {
            what.push("filter".to_string());
        }
        if !self.list.marked.is_empty() {
            what.push(count(self.list.marked.len(), "mark", "marks"));
        }
        self.find.reset();
        self.list.marked.clear();
        self.messages.dismiss_all();
        let fx = if self.list.view.spec.filter.is_empty() {
            vec![]
        } else {
            self.set_filter_quietly(Filter::default())
        };
        if !what.is_empty() {
            self.info(format!("cleared {}", what.join(", ")));
        }
        fx
    }

    fn set_filter_quietly(&mut self, f: Filter) -> Vec<Effect> {
        let mut spec = self.list.view.spec.clone();
        spec.filter = f;
        self.set_spec(spec)
    }

    /// `:goto ID`: selects the take, clearing a filter that hides it.
    pub(super) fn goto(&mut self, prefix: &str) -> Vec<Effect> {
        let id = match self.store.get(prefix) {
            Ok(e) => e.entry_id.clone(),
            Err(e) => {
                self.error(e.to_string());
                return vec![];
            }
        };
        if let Some(row) = self.row_of(&id) {
            return self.move_to(row);
        }
        // Hidden by the filter: show everything, then select it.
        self.info(format!(
            "cleared the filter '{}' to show {}",
            self.list.view.spec.filter.text,
            crate::text::short_id(&id)
        ));
        let fx = self.set_filter_quietly(Filter::default());
        self.select_take(&id);
        fx
    }
}

//! The list the browser shows: the store's entries through the search, the
//! filter and the sort. Computed by a pure function ([`compute`]) on the
//! view worker (or at once when that is only a copy), and patched in place
//! when entries come and go ([`View::patch`]), so a delete or a reload never
//! recomputes 100,000 rows on the UI thread.

use crate::query::{search_matches, Filter, Sort};
use crate::store::annotations::Annotations;
use crate::store::{Applied, HistoryEntry};
use std::sync::Arc;

/// What the list shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ViewSpec {
    /// The `/` search, lowercased.
    pub search: String,
    pub filter: Filter,
    pub sort: Sort,
}

impl ViewSpec {
    /// True when the list is the store's list as it is.
    pub fn is_plain(&self) -> bool {
        self.search.is_empty() && self.filter.is_empty() && self.sort.is_default()
    }

    pub fn shows(&self, e: &HistoryEntry, notes: &Annotations) -> bool {
        (self.search.is_empty() || search_matches(e, &self.search)) && self.filter.matches(e, notes)
    }
}

/// The rows for `spec` out of `entries` (in the store's order).
pub fn compute(
    entries: &[Arc<HistoryEntry>],
    spec: &ViewSpec,
    notes: &Annotations,
) -> Vec<Arc<HistoryEntry>> {
    let mut rows: Vec<Arc<HistoryEntry>> = if spec.search.is_empty() && spec.filter.is_empty() {
        entries.to_vec()
    } else {
        entries
            .iter()
            .filter(|e| spec.shows(e, notes))
            .cloned()
            .collect()
    };
    spec.sort.apply(&mut rows, notes);
    rows
}

/// The shown rows and what they were computed for.
#[derive(Debug, Default)]
pub struct View {
    pub rows: Vec<Arc<HistoryEntry>>,
    pub spec: ViewSpec,
    /// The number of the newest view job sent; results of older ones are dropped.
    pub seq: u64,
    /// A job is out: the rows are for an older spec or store.
    pub pending: bool,
}

impl View {
    /// Follows a change of the store: rows that left go, rows that came
    /// are put in their sorted places when the spec shows them.
    pub fn patch(&mut self, applied: &Applied, notes: &Annotations) {
        if !applied.removed.is_empty() {
            let gone: std::collections::HashSet<*const HistoryEntry> =
                applied.removed.iter().map(Arc::as_ptr).collect();
            self.rows.retain(|r| !gone.contains(&Arc::as_ptr(r)));
        }
        for e in &applied.added {
            if !self.spec.shows(e, notes) {
                continue;
            }
            let at = self
                .rows
                .binary_search_by(|r| self.spec.sort.cmp(r, e, notes))
                .unwrap_or_else(|i| i);
            self.rows.insert(at, e.clone());
        }
    }

    /// The row showing the take `id`.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.rows.iter().position(|r| r.entry_id == id)
    }
}

//! The list the browser shows: the store's entries through the search, the
//! filter and the sort. Computed by a pure function ([`compute`]) on the
//! view worker (or at once when that is only a copy), and patched in place
//! when entries come and go ([`View::patch`]), so a delete or a reload never
//! recomputes 100,000 rows on the UI thread.

use crate::analysis::Facts;
use crate::query::{search_matches, Filter, Sort};
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
    pub(crate) fn is_plain(&self) -> bool {
        self.search.is_empty() && self.filter.is_empty() && self.sort.is_default()
    }

    /// True when what the list shows depends on the takes' measures.
    pub(crate) fn uses_measures(&self) -> bool {
        self.filter.uses_measures() || matches!(self.sort.key, crate::query::SortKey::Measure(_))
    }

    /// True when what the list shows depends on the annotations.
    pub(crate) fn uses_annotations(&self) -> bool {
        !self.search.is_empty()
            || self.filter.uses_annotations()
            || self.sort.key == crate::query::SortKey::Rating
    }

    pub fn shows(&self, e: &HistoryEntry, facts: Facts<'_>) -> bool {
        (self.search.is_empty() || search_matches(e, facts.notes.get(&e.entry_id), &self.search))
            && self.filter.matches(e, facts)
    }
}

/// Rows shared as a whole: a snapshot for a worker costs no copy.
pub type Rows = Arc<Vec<Arc<HistoryEntry>>>;

/// The rows for `spec` out of `entries` (in the store's order); the store's
/// own list when the spec shows it as it is.
pub fn compute(entries: &Rows, spec: &ViewSpec, facts: Facts<'_>) -> Rows {
    if spec.is_plain() {
        return entries.clone();
    }
    let mut rows: Vec<Arc<HistoryEntry>> = if spec.search.is_empty() && spec.filter.is_empty() {
        entries.to_vec()
    } else {
        let shown = crate::par::map(entries, |e| spec.shows(e, facts));
        entries
            .iter()
            .zip(shown)
            .filter(|(_, shown)| *shown)
            .map(|(e, _)| e.clone())
            .collect()
    };
    spec.sort.apply(&mut rows, facts);
    Arc::new(rows)
}

/// The shown rows and what they were computed for.
#[derive(Debug, Default)]
pub struct View {
    pub rows: Rows,
    pub spec: ViewSpec,
    /// The number of the newest view job sent; results of older ones are dropped.
    pub seq: u64,
    /// A job is out: the rows are for an older spec or store.
    pub pending: bool,
    /// Counts changes of `rows` (for what is derived from them).
    pub version: u64,
}

impl View {
    /// Follows a change of the store: rows that left go, rows that came
    /// are put in their sorted places when the spec shows them.
    pub(crate) fn patch(&mut self, applied: &Applied, facts: Facts<'_>) {
        self.version += 1;
        let rows = Arc::make_mut(&mut self.rows);
        if !applied.removed.is_empty() {
            let gone: std::collections::HashSet<*const HistoryEntry> =
                applied.removed.iter().map(Arc::as_ptr).collect();
            rows.retain(|r| !gone.contains(&Arc::as_ptr(r)));
        }
        for e in &applied.added {
            if !self.spec.shows(e, facts) {
                continue;
            }
            let at = rows
                .binary_search_by(|r| self.spec.sort.cmp(r, e, facts))
                .unwrap_or_else(|i| i);
            rows.insert(at, e.clone());
        }
    }

    /// The row showing `e` (found by identity: no entry is read).
    pub(crate) fn position_of(&self, e: &Arc<HistoryEntry>) -> Option<usize> {
        self.rows.iter().position(|r| Arc::ptr_eq(r, e))
    }
}
